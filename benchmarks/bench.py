"""make bench: how fast bsg-import is, against its own sandbox and against a One-API server
someone else wrote (../shared/fakebsg, where present), as real servers on loopback.

Generates its own data (in bench-out/), starts each server with the latency and the limit
or faults of each case (never telling the tool the limit), behind a jittery link where the
case says (benchmarks/link.py), runs the real command as a subprocess, and prints one
table: rows, seconds, rows/s while sending (first to last contact create, as the server
counted them), share of the limit, share of refused answers (429, 502-504), and whether
the case's goal was met. A zoo of servers drawn from the space of limiters, refusals,
Retry-After, headers, round trips and random refusals follows (--zoo N, seeded).
Ratios measured within one run are what count: the machine is shared and noisy. Nothing
here is a test; it asserts nothing and only reports.

    python benchmarks/bench.py                 # every case
    python benchmarks/bench.py --only sliding  # the cases whose name holds "sliding"
    python benchmarks/bench.py --only " " --zoo 0 --repeat 3  # each network case 3 times
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import xlsxwriter

OUT = Path(__file__).resolve().parent.parent / "bench-out"
KEY = "live_sandbox"
OPERATORS = (50, 63, 66, 67, 68, 73, 93, 95, 96, 97, 98, 99)


@dataclass
class Row:
    case: str
    rows: int
    seconds: float
    sending_s: float | None = None
    cap: float | None = None
    throttled: int | None = None
    requests: int | None = None
    peak_mb: float | None = None
    cpu_s: float | None = None  # the import process's CPU (user + system)
    goal: str = ""
    met: bool | None = None

    @property
    def rate(self) -> float:
        seconds = self.sending_s or self.seconds
        return self.rows / seconds if seconds else 0.0

    @property
    def share_429(self) -> float:
        return (self.throttled or 0) / self.requests if self.requests else 0.0


# -- data -------------------------------------------------------------------------------


def phones(count: int, seed: int) -> Iterator[str]:
    generator = random.Random(seed)
    seen: set[int] = set()
    while len(seen) < count:
        number = int(f"380{generator.choice(OPERATORS)}{generator.randrange(10**7):07d}")
        if number not in seen:
            seen.add(number)
            yield f"+{number}"


def write_csv(path: Path, count: int, seed: int) -> Path:
    if path.exists():
        return path
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Phone", "First Name", "City", "Birthday", "Score"])
        for n, phone in enumerate(phones(count, seed)):
            writer.writerow([phone, f"Name {n}", "Kyiv", f"{n % 28 + 1:02d}.03.1990", n % 100])
    return path


def write_xlsx(path: Path, count: int, seed: int) -> Path:
    if path.exists():
        return path
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Contacts")
    sheet.write_row(0, 0, ["Phone", "First Name", "City", "Birthday", "Score"])
    for n, phone in enumerate(phones(count, seed), start=1):
        sheet.write_number(n, 0, int(phone[1:]))
        sheet.write_row(n, 1, [f"Name {n}", "Kyiv", f"{n % 28 + 1:02d}.03.1990", n % 100])
    book.close()
    return path


# -- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox(latency: float, **faults: Any) -> Iterator[str]:
    """`bsg-import sandbox` as a real server with these faults (options without --)."""
    port = free_port()
    command = [sys.executable, "-m", "importer", *sandbox_arguments(port, latency, faults)]
    server = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(f"{url}/_sandbox/state", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield url
    finally:
        server.terminate()
        server.wait()


def sandbox_arguments(port: int, latency: float, faults: dict[str, Any]) -> list[str]:
    """The ``sandbox`` command's arguments for these faults ("": the sandbox's default)."""
    options = [f"--{k.replace('_', '-')}={v}" for k, v in faults.items() if v != ""]
    return ["sandbox", "--port", str(port), "--latency", str(latency), *options]


def sandbox_state(url: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{url}/_sandbox/state", timeout=300).json()
    return state


def sending_seconds(log: list[dict[str, Any]]) -> float:
    """From the first contact create to the last, as the sandbox logged them."""
    creates = [e["t"] for e in log if e["method"] == "POST" and e["path"] == "/api/contacts"]
    return max(creates) - min(creates) if creates else 0.0


def process_tree(pid: int) -> list[int]:
    """A process and its descendants (the normaliser's worker processes)."""
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return tree


def high_water_mb(pids: list[int]) -> float:
    """The most memory each process has held so far, summed, in MB: never below the
    tree's peak, however rarely it is read."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
            total += int(next(ln.split()[1] for ln in status if ln.startswith("VmHWM")))
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def run_import(args: list[str], env: dict[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """Run bsg-import with --json; (its summary, its peak memory in MB). The summary gains
    ``bench_cpu_s``: the process's CPU seconds, user and system (the machine is shared, so
    wall time is noisy; CPU a row is what the client costs)."""
    environment = {**os.environ, "BSG_API_KEY": KEY, **(env or {})}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", *args, "--json", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    peak = [0.0]

    def watch() -> None:
        """The tree is walked once a second: each of the import's hundred threads has its
        own list of children, and walking them every 50 ms took a third as much CPU as
        the import itself, on the same two cores, slowing what it measured."""
        tree = [process.pid]
        for tick in itertools.count():
            if process.poll() is not None:
                return
            tree = process_tree(process.pid) if tick % 5 == 0 else tree
            peak[0] = max(peak[0], high_water_mb(tree))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    out, err = process.communicate()
    watcher.join()
    if not out.strip():
        raise SystemExit(f"bsg-import failed:\n{err}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {**json.loads(out), "bench_cpu_s": cpu}, peak[0]


def sequential_baseline(url: str, source: Path, rows: int) -> float:
    """The plain way: pandas reads the file, one POST at a time. Rows a second."""
    frame = pd.read_csv(source, dtype=str, nrows=rows)
    with httpx.Client(base_url=url) as client:
        bearer = client.post("/api/auth/login", json={"api_key": KEY}).json()["bearer"]
        headers = {"Authorization": f"Bearer {bearer}"}
        started = time.perf_counter()
        for phone in frame["Phone"]:
            client.post("/api/contacts", json={"phone": int(phone.lstrip("+"))}, headers=headers)
        return rows / (time.perf_counter() - started)


# -- network cases ------------------------------------------------------------------------

LATENCY = 0.05
#: The second One-API server, written apart from ours (not part of this project).
FAKEBSG = Path(__file__).resolve().parents[2] / "shared" / "fakebsg" / "fakebsg.py"
LINK = Path(__file__).resolve().parent / "link.py"
REFUSALS = {429, 502, 503, 504}


@dataclass(frozen=True)
class Counts:
    requests: int
    refused: int
    sending_s: float


@dataclass(frozen=True)
class Server:
    """A server a run is measured against: where it answers, and what it saw."""

    name: str
    url: str
    counts: Any  # () -> Counts


@contextmanager
def ours(latency: float, **faults: Any) -> Iterator[Server]:
    with sandbox(latency, **faults) as url:

        def counts() -> Counts:
            log = sandbox_state(url)["log"]
            refused = sum(1 for e in log if e["status"] in REFUSALS)
            return Counts(len(log), refused, sending_seconds(log))

        yield Server("sandbox", url, counts)


@contextmanager
def theirs(latency: float, **config: Any) -> Iterator[Server]:
    """../shared/fakebsg as a real server, configured through its admin API."""
    server = subprocess.Popen(
        [sys.executable, str(FAKEBSG), "--port", "0", "--latency-ms", str(latency * 1000)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if config:
        httpx.post(f"{url}/__admin/config", json=config, timeout=10).raise_for_status()

    def counts() -> Counts:
        c = httpx.get(f"{url}/__admin/counters", timeout=60).json()
        c = c.get("counters", c)
        statuses = {int(k): v for k, v in c["responses_by_status"].items()}
        refused = sum(v for k, v in statuses.items() if k in REFUSALS)
        first, last = c.get("first_create_at"), c.get("last_create_at")
        return Counts(int(c["requests_total"]), refused, (last - first) if first else 0.0)

    try:
        yield Server("fakebsg", url, counts)
    finally:
        server.terminate()
        server.wait()


@contextmanager
def jittery(server: Server, latency: float, jitter: float) -> Iterator[Server]:
    """The server behind a link whose round trip is latency x (1 ± jitter)."""
    port = int(server.url.rsplit(":", 1)[1])
    link = subprocess.Popen(
        [sys.executable, str(LINK), str(port), str(latency), str(jitter), "7"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert link.stdout is not None and link.stdin is not None
    through = link.stdout.readline().strip()
    try:
        yield Server(server.name, f"http://127.0.0.1:{through}", server.counts)
    finally:
        link.stdin.close()
        link.terminate()
        link.wait()


@dataclass(frozen=True)
class NetworkCase:
    label: str
    rows: int
    sandbox: dict[str, Any] | None  # the sandbox's faults; None: not on the sandbox
    fakebsg: dict[str, Any] | None  # fakebsg's config; None: it has no such limiter
    allowed: float | None  # rows a second the service allows; None: no limit
    goal: str
    jitter: float = 0.0  # > 0: behind a link of LATENCY that varies by this share
    flags: tuple[str, ...] = ()


NETWORK_CASES = (
    NetworkCase("token bucket 200/s", 5000, {"rate_cap": 200}, None, 200, ">= 95%, 429 < 2%"),
    NetworkCase("sliding 1 s window 200/s", 5000, {"sliding_limit": 200, "limit_refusal": "bsg"},
                {"rate_cap": 200}, 200, ">= 95%, refused < 2%"),
    NetworkCase("sliding 1 s window 100/s", 5000, {"sliding_limit": 100, "limit_refusal": "bsg"},
                {"rate_cap": 100}, 100, ">= 95%, refused < 2%"),
    NetworkCase("fixed 10 s window of 1,000, headers", 5000,
                {"window_limit": 1000, "window_seconds": 10},
                {"rate_cap": 100, "rate_window_s": 10, "rate_window_kind": "fixed",
                 "rate_headers": True}, 100, ">= 95%, refused < 2%"),
    NetworkCase("fixed 60 s window of 6,000, headers", 20_000,
                {"window_limit": 6000, "window_seconds": 60}, None, 100, ">= 95%, refused < 2%"),
    NetworkCase("at most 8 in flight", 5000, {"max_in_flight": 8}, {"max_concurrent": 8},
                8 / LATENCY, ">= 90% of 8/latency"),
    NetworkCase("no limit", 5000, {}, {}, None, ">= 60x sequential"),
    NetworkCase("no limit, jittery link ±30%", 5000, {}, {}, None,
                ">= 50x sequential on that link", jitter=0.3),
    NetworkCase("sliding 200/s behind a jittery link ±30%", 5000,
                {"sliding_limit": 200, "limit_refusal": "bsg"}, {"rate_cap": 200}, 200,
                ">= 93%, refused < 2%", jitter=0.3),
    NetworkCase("503 limiter, no Retry-After (nginx)", 5000,
                {"sliding_limit": 200, "limit_refusal": "503"}, None, 200,
                ">= 90%, refused < 5%"),
    NetworkCase("a limit 200 -> 50 -> 200/s", 5000,
                {"sliding_limit": 200, "limit_schedule": "0:200,8:50,16:200"}, None, None,
                ">= 85% of the ideal time, refused < 5%"),
    NetworkCase("5% random 429 Retry-After 1, no limit", 5000,
                {"throttle_rate": 0.05, "retry_after": 1, "seed": 5},
                {"rate_429": 0.05, "retry_after_s": 1, "seed": 5}, None, ">= 50% of no limit"),
)  # fmt: skip


@contextmanager
def serving(kind: str, case: NetworkCase) -> Iterator[Server]:
    """The case's server of this kind, behind its link."""
    config = case.sandbox if kind == "sandbox" else case.fakebsg
    assert config is not None
    latency = 0.0 if case.jitter else LATENCY
    start = ours if kind == "sandbox" else theirs
    with start(latency, **config) as server:
        if not case.jitter:
            yield server
            return
        with jittery(server, LATENCY, case.jitter) as linked:
            yield linked


def measure(case: NetworkCase, kind: str, source: Path, journals: Path) -> Row:
    """Run one network case against a fresh server of this kind."""
    with serving(kind, case) as server:
        output = OUT / f"{case.label.split()[0]}.csv"
        summary, peak = run_import(
            [str(source), "--list", case.label, "--base-url", server.url, *case.flags,
             "--output", str(output), "--journal-dir", str(journals)]
        )  # fmt: skip
        counts = server.counts()
    allowed = case.allowed
    schedule = (case.sandbox or {}).get("limit_schedule")
    if schedule:
        allowed = case.rows / ideal_seconds(case.rows, counts, summary, schedule)
    return Row(f"{case.label} [{kind}]", case.rows, float(summary["elapsed_s"]),
               counts.sending_s, cap=allowed, throttled=counts.refused,
               requests=counts.requests, peak_mb=peak, cpu_s=summary["bench_cpu_s"],
               goal=case.goal)  # fmt: skip


def ideal_seconds(rows: int, counts: Counts, summary: dict[str, Any], schedule: str) -> float:
    """How long the rows take at exactly the moving limit (``0:200,8:50,16:200``, from the
    sandbox's start), from when the run's first create could go (its elapsed time less its
    sending time is the start-up before it, and the process starts ~0.5 s after the
    sandbox)."""
    steps = [tuple(map(float, p.split(":"))) for p in schedule.split(",")]
    spans = [(t, steps[i + 1][0] if i + 1 < len(steps) else float("inf"), v)
             for i, (t, v) in enumerate(steps)]  # fmt: skip
    start = max(0.0, float(summary["elapsed_s"]) - counts.sending_s) + 0.5
    left, t = float(rows), start
    for _, until, limit in spans:
        if t < until:
            span = min(until - t, left / limit)
            left -= span * limit
            t += span
            if left <= 0:
                break
    return t - start


def judge(rows: list[Row], baselines: dict[tuple[str, float], float]) -> None:
    """Fill in each row's goal met or missed."""
    for row in rows:
        kind = "fakebsg" if row.case.endswith("[fakebsg]") else "sandbox"
        jitter = 0.3 if "jittery" in row.case else 0.0
        baseline = baselines.get((kind, jitter), 0.0)
        clean = next((r.rate for r in rows if r.case == f"no limit [{kind}]"), None)
        share = row.share_429
        if row.case.startswith("no limit"):
            row.met = row.rate >= (50 if jitter else 60) * baseline
        elif row.case.startswith("5% random"):
            row.met = clean is not None and row.rate >= 0.5 * clean
        elif row.case.startswith("at most"):
            row.met = row.cap is not None and row.rate >= 0.9 * row.cap
        elif row.case.startswith("503"):
            row.met = row.cap is not None and row.rate >= 0.9 * row.cap and share < 0.05
        elif row.case.startswith("a limit"):
            row.met = row.cap is not None and row.rate >= 0.85 * row.cap and share < 0.05
        elif row.case.startswith("sliding 200/s behind"):
            row.met = row.cap is not None and row.rate >= 0.93 * row.cap and share < 0.02
        elif row.cap:
            row.met = row.rate >= 0.95 * row.cap and share < 0.02


def kinds() -> list[str]:
    """The servers to measure against: ours, and fakebsg where ../shared has it."""
    return ["sandbox", "fakebsg"] if FAKEBSG.exists() else ["sandbox"]


def network_cases(only: str | None, journals: Path, repeat: int = 1) -> list[Row]:
    """Each chosen case against each server, ``repeat`` times (one run's figures move by
    more than some goals' margins: the spread is part of the measure)."""
    chosen = [c for c in NETWORK_CASES if only is None or only in c.label]
    if not chosen:
        return []
    rows: list[Row] = []
    baselines: dict[tuple[str, float], float] = {}
    for kind in kinds():
        for jitter in sorted({c.jitter for c in chosen}):
            link = NetworkCase("baseline", 200, {}, {}, None, "", jitter=jitter)
            with serving(kind, link) as server:
                baselines[kind, jitter] = sequential_baseline(server.url, data(5000), 200)
            on = f" on a ±{jitter:.0%} link" if jitter else ""
            rows.append(Row(f"  sequential loop [{kind}]{on}", 200, 200 / baselines[kind, jitter]))
        for case in chosen:
            if (case.sandbox if kind == "sandbox" else case.fakebsg) is None:
                continue
            for run in range(repeat):  # each in its own journals: a port may come again
                row = measure(case, kind, data(case.rows), journals / f"run-{run + 1}")
                if run:
                    row.case = row.case.replace(f" [{kind}]", f" ({run + 1}) [{kind}]")
                rows.append(row)
    judge(rows, baselines)
    return rows


# -- the zoo ------------------------------------------------------------------------------

LIMITERS = ("token bucket", "sliding", "fixed window", "in flight", "moving")
REFUSAL_SHAPES = ("bsg", "framework", "empty", "503")
RETRY_AFTER = ("", "exact", "none", "date")  # "": whole seconds rounded up
HEADERS = ("", "none", "early")  # a fixed window's X-RateLimit-*; "": exact
LATENCIES = (0.01, 0.05, 0.1, 0.2, 0.3)


def zoo_case(draw: random.Random, number: int) -> NetworkCase:
    """One server drawn from the space, with what it allows."""
    limiter = LIMITERS[number % len(LIMITERS)]  # every limiter as often
    latency = draw.choice(LATENCIES)
    faults: dict[str, Any] = {
        "latency": latency, "jitter": draw.choice((0.0, 0.1, 0.3, 0.5)),
        "limit_refusal": draw.choice(REFUSAL_SHAPES),
        "limit_retry_after": draw.choice(RETRY_AFTER),
        "throttle_rate": draw.choice((0.0, 0.0, 0.02, 0.05)), "retry_after": 1,
        "seed": number,
    }  # fmt: skip
    limit = draw.choice((50, 100, 200, 400))
    allowed: float = limit
    if limiter == "token bucket":
        faults["rate_cap"] = limit
    elif limiter == "sliding":
        faults["sliding_limit"] = limit
    elif limiter == "moving":
        faults["sliding_limit"] = limit
        faults["limit_schedule"] = f"0:{limit},6:{limit // 4},12:{limit}"
    elif limiter == "fixed window":
        seconds = draw.choice((1, 2, 5, 10))
        faults.update(window_limit=limit * seconds, window_seconds=seconds,
                      limit_headers=draw.choice(HEADERS))  # fmt: skip
    else:
        slots = draw.choice((4, 8, 16, 32))
        faults["max_in_flight"] = slots
        allowed = slots / latency
    rows = int(min(3000, max(600, allowed * 10)))
    shape = ", ".join(f"{k}={v}" for k, v in faults.items() if v not in ("", 0, 0.0, None))
    label = f"zoo {number:02d} {limiter}: {shape}"
    return NetworkCase(label, rows, faults, None, allowed, "")


def zoo(count: int, seed: int, journals: Path) -> list[Row]:
    """``count`` servers drawn from the space (seeded: a bad draw can be replayed). What a
    server allows is capped by what the client reaches on the same link with no limit and
    no faults, as simzoo does: a limit above the client's own speed measures the CPU."""
    draw = random.Random(seed)
    rows = []
    for number in range(count):
        case = zoo_case(draw, number)
        faults = dict(case.sandbox or {})
        summary, counts = zoo_run(case.rows, faults, journals)
        if "limit_schedule" in faults:
            allowed = case.rows / ideal_seconds(case.rows, counts, summary,
                                                faults["limit_schedule"])  # fmt: skip
        else:
            link = {k: faults[k] for k in ("latency", "jitter", "seed")}
            clean_summary, clean = zoo_run(case.rows, link, journals)
            reach = Row("", case.rows, float(clean_summary["elapsed_s"]), clean.sending_s).rate
            allowed = min(case.allowed or reach, reach)
        row = Row(case.label, case.rows, float(summary["elapsed_s"]), counts.sending_s,
                  cap=allowed, throttled=counts.refused, requests=counts.requests)  # fmt: skip
        beyond = row.share_429 - faults.get("throttle_rate", 0.0)
        row.goal = f"{beyond:+.1%} refused beyond the random ones"
        row.met = row.rate >= 0.85 * (allowed or 0) and beyond < 0.05
        rows.append(row)
    return rows


def zoo_run(rows: int, faults: dict[str, Any], journals: Path) -> tuple[dict[str, Any], Counts]:
    """One import of ``rows`` into a sandbox drawn with ``faults`` (latency among them)."""
    faults = dict(faults)
    with ours(faults.pop("latency"), **faults) as server:
        output = OUT / "zoo.csv"
        summary, _ = run_import(
            [str(data(rows)), "--list", "Zoo", "--base-url", server.url,
             "--output", str(output), "--journal-dir", str(journals)]
        )  # fmt: skip
        return summary, server.counts()


def zoo_summary(rows: list[Row]) -> list[Row]:
    """The worst and the median share of what each server allows, and of refusals."""
    shares = sorted(r.rate / r.cap for r in rows if r.cap)
    worst, median = shares[0], shares[len(shares) // 2]
    beyond = sorted(float(r.goal.split("%")[0]) / 100 for r in rows)
    line = Row(f"zoo of {len(rows)}: worst {worst:.0%}, median {median:.0%} of what each "
               f"allows; refused beyond random: worst {beyond[-1]:+.1%}", 0, 0.0,
               goal="worst >= 85%, < 5% beyond random; median >= 95%")  # fmt: skip
    line.met = worst >= 0.85 and median >= 0.95 and beyond[-1] < 0.05
    return [line]


def data(rows: int) -> Path:
    return write_csv(OUT / f"contacts-{rows}.csv", rows, seed=rows)


# -- soak -------------------------------------------------------------------------------

SOAK_FAULTS = {"error_rate": 0.05, "throttle_rate": 0.05, "retry_after": 1,
               "commit_then_fail_rate": 0.03, "drop_rate": 0.02, "token_expiry_every": 200,
               "seed": 9}  # fmt: skip


def soak(rows: int, journals: Path) -> list[Row]:
    """The same file into a clean sandbox and into one with every fault at once."""
    source = data(rows)
    clean, clean_seconds = _soak_run(source, {}, journals, "clean")
    faulty, faulty_seconds = _soak_run(source, SOAK_FAULTS, journals, "faulty")
    same = [(p, s) for p, s, _ in clean] == [(p, s) for p, s, _ in faulty]
    label = f"soak: {rows:,} rows, every fault at once"
    row = Row(label, rows, faulty_seconds, goal="every row once, same as clean, <= 3x clean")
    row.met = same and all(ok for *_, ok in faulty) and faulty_seconds <= 3 * clean_seconds
    return [Row(f"soak: {rows:,} rows, clean", rows, clean_seconds), row]


def _soak_run(
    source: Path, faults: dict[str, Any], journals: Path, name: str
) -> tuple[list[tuple[int, str, bool]], float]:
    """(phone, status, contact_id is the sandbox's one and only contact of that phone) per row."""
    with sandbox(LATENCY, **faults) as url:
        output = OUT / f"soak-{name}.csv"
        args = [str(source), "--list", "Soak", "--base-url", url, "--output", str(output)]
        summary, _ = run_import([*args, "--journal-dir", str(journals)])
        contacts = sandbox_state(url)["contacts"]
    ids = Counter(c["phone"] for c in contacts)
    book = {c["phone"]: c["id"] for c in contacts}
    frame = pd.read_csv(output, dtype={"phone_normalized": "Int64", "contact_id": "Int64"})
    rows = [
        (int(p), str(s), ids[int(p)] == 1 and book.get(int(p)) == i)
        for p, s, i in zip(frame["phone_normalized"], frame["status"], frame["contact_id"],
                           strict=True)
    ]  # fmt: skip
    return rows, float(summary["elapsed_s"])


def dry_run_cases(rows_csv: int, rows_xlsx: int) -> list[Row]:
    """Keyless dry runs: reading, normalising and writing the results, nothing remote."""
    big_csv = write_csv(OUT / f"contacts-{rows_csv}.csv", rows_csv, seed=2)
    big_xlsx = write_xlsx(OUT / f"contacts-{rows_xlsx}.xlsx", rows_xlsx, seed=3)
    cases = [
        (big_csv, rows_csv, "dry.csv", 25_000, 400),
        (big_csv, rows_csv, "dry.xlsx", 10_000, 400),
        (big_xlsx, rows_xlsx, "dry-x.xlsx", 10_000, 500),
    ]
    results = []
    for source, rows, output, speed, memory in cases:
        summary, peak = run_import(
            [str(source), "--list", "Dry", "--dry-run", "--output", str(OUT / output)],
            env={"BSG_API_KEY": ""},
        )
        label = f"--dry-run {rows:,}-row {source.suffix[1:].upper()} -> {output.split('.')[1]}"
        row = Row(label, rows, float(summary["elapsed_s"]), peak_mb=peak,
                  cpu_s=summary["bench_cpu_s"],
                  goal=f">= {speed:,} rows/s, < {memory} MB")  # fmt: skip
        row.met = row.rate >= speed and peak < memory
        results.append(row)
    return results


def hlr_refresh_case(journals: Path, count: int = 20_000) -> Row:
    """hlr-refresh of a list of `count` contacts at 50 ms: it costs requests, not rows."""
    source = write_csv(OUT / f"contacts-{count}.csv", count, seed=4)
    output = OUT / "hlr-refresh.xlsx"
    with sandbox(0.0) as url:
        httpx.post(f"{url}/_sandbox/hlr", json={"delay": 0}, timeout=10)
        run_import([str(source), "--list", "Hlr", "--base-url", url, "--concurrency", "64",
                    "--output", str(output), "--journal-dir", str(journals)])  # fmt: skip
        httpx.post(f"{url}/_sandbox/faults", json={"latency": 0.05}, timeout=10)
        before = len(sandbox_state(url)["log"])
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "importer", "hlr-refresh", str(output), "--base-url", url],
            env={**os.environ, "BSG_API_KEY": KEY}, capture_output=True, check=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        requests = len(sandbox_state(url)["log"]) - before
    goal = count // 500 + 10
    row = Row(f"hlr-refresh {count:,} rows, 50 ms", count, seconds, requests=requests,
              goal=f"<= {goal} requests ({requests} made)")  # fmt: skip
    row.met = requests <= goal
    return row


def table(rows: list[Row]) -> str:
    width = max(48, *(len(r.case) for r in rows))
    header = (
        f"{'case':<{width}} {'rows':>7} {'seconds':>8} {'rows/s':>7} {'of cap':>7} "
        f"{'429 share':>9} {'peak MB':>8} {'CPU ms/row':>10}  {'goal':<44} result"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        of_cap = f"{r.rate / r.cap:.0%}" if r.cap else ""
        share = f"{r.share_429:.2%}" if r.throttled is not None and r.requests else ""
        peak = f"{r.peak_mb:.0f}" if r.peak_mb else ""
        cpu = f"{1000 * r.cpu_s / r.rows:.2f}" if r.cpu_s and r.rows else ""
        result = "" if r.met is None else "met" if r.met else "MISSED"
        lines.append(
            f"{r.case:<{width}} {r.rows:>7,} {r.seconds:>8.1f} {r.rate:>7,.0f} {of_cap:>7} "
            f"{share:>9} {peak:>8} {cpu:>10}  {r.goal:<44} {result}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--soak-rows", type=int, default=50_000)
    parser.add_argument("--only", help="only the cases whose name holds this (soak, dry-run, …)")
    parser.add_argument("--zoo", type=int, default=32, help="servers drawn for the zoo (0: none)")
    parser.add_argument("--zoo-seed", type=int, default=1, help="the zoo's seed")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each network case")
    options = parser.parse_args()
    only = options.only
    OUT.mkdir(exist_ok=True)
    journals = OUT / f"journals-{time.time():.0f}"
    rows = network_cases(only, journals, options.repeat)
    if only is None or only in "soak":
        rows += soak(options.soak_rows, journals)
    if only is None or only in "hlr-refresh":
        rows.append(hlr_refresh_case(journals))
    if only is None or only in "--dry-run":
        rows += dry_run_cases(options.csv_rows, options.xlsx_rows)
    if options.zoo and (only is None or only in "zoo"):
        drawn = zoo(options.zoo, options.zoo_seed, journals)
        rows += drawn + zoo_summary(drawn)
    if not rows:
        parser.error(f"no case's name holds {only!r} (the names are in the table of a full run)")
    print(table(rows))


if __name__ == "__main__":
    main()
