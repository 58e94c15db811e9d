"""make bench: how fast bsg-import is, against its own sandbox as a real server on loopback.

Generates its own data (in bench-out/), starts `bsg-import sandbox` with the latency and
the limit or faults of each case (never telling the tool the limit), runs the real command
as a subprocess, and prints one table: rows, seconds, rows/s while sending (first to last
contact create, as the sandbox logged them), share of the limit, 429 share, and whether
the case's goal was met. Ratios measured within one run are what count: the machine is
shared and noisy. Nothing here is a test; it asserts nothing and only reports.

    python benchmarks/bench.py                 # every case
    python benchmarks/bench.py --only sliding  # the cases whose name holds "sliding"
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
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
    options = [f"--{name.replace('_', '-')}={value}" for name, value in faults.items()]
    command = [sys.executable, "-m", "importer", "sandbox", "--port", str(port),
               "--latency", str(latency), *options]  # fmt: skip
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
    """Run bsg-import with --json; (its summary, its peak memory in MB)."""
    environment = {**os.environ, "BSG_API_KEY": KEY, **(env or {})}
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
    return json.loads(out), peak[0]


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


@dataclass(frozen=True)
class NetworkCase:
    label: str
    rows: int
    faults: dict[str, Any]
    allowed: float | None  # rows a second the service allows; None: no limit
    goal: str
    flags: tuple[str, ...] = ()


NETWORK_CASES = (
    NetworkCase("token bucket 200/s", 5000, {"rate_cap": 200}, 200, ">= 95%, 429 < 2%"),
    NetworkCase("sliding 1 s window 200/s", 5000, {"sliding_limit": 200}, 200,
                ">= 95%, 429 < 2%"),
    NetworkCase("sliding 1 s window 100/s", 5000, {"sliding_limit": 100}, 100,
                ">= 95%, 429 < 2%"),
    NetworkCase("fixed 10 s window of 1,000, headers", 5000,
                {"window_limit": 1000, "window_seconds": 10}, 100, ">= 95%, 429 < 2%"),
    NetworkCase("fixed 60 s window of 6,000, headers", 20_000,
                {"window_limit": 6000, "window_seconds": 60}, 100, ">= 95%, 429 < 2%"),
    NetworkCase("at most 8 in flight", 5000, {"max_in_flight": 8}, 8 / LATENCY,
                ">= 90% of 8/latency"),
    NetworkCase("no limit", 5000, {}, None, ">= 60x sequential"),
    NetworkCase("5% random 429 Retry-After 1, no limit", 5000,
                {"throttle_rate": 0.05, "retry_after": 1, "seed": 5}, None,
                ">= 50% of no limit"),
)  # fmt: skip


def measure(case: NetworkCase, source: Path, journals: Path) -> Row:
    """Run one network case against a fresh sandbox."""
    with sandbox(LATENCY, **case.faults) as url:
        output = OUT / f"{case.label.split()[0]}.csv"
        summary, peak = run_import(
            [str(source), "--list", case.label, "--base-url", url, *case.flags,
             "--output", str(output), "--journal-dir", str(journals)]
        )  # fmt: skip
        log = sandbox_state(url)["log"]
    throttled = sum(1 for e in log if e["status"] == 429)
    return Row(case.label, case.rows, float(summary["elapsed_s"]), sending_seconds(log),
               cap=case.allowed, throttled=throttled, requests=len(log), peak_mb=peak,
               goal=case.goal)  # fmt: skip


def judge(rows: list[Row], baseline: float) -> None:
    """Fill in each row's goal met or missed."""
    clean = next((r.rate for r in rows if r.case == "no limit"), None)
    for row in rows:
        if row.case == "no limit":
            row.met = row.rate >= 60 * baseline
        elif row.case.startswith("5% random"):
            row.met = clean is not None and row.rate >= 0.5 * clean
        elif row.case.startswith("at most"):
            row.met = row.cap is not None and row.rate >= 0.9 * row.cap
        elif row.cap:
            row.met = row.rate >= 0.95 * row.cap and row.share_429 < 0.02


def network_cases(only: str | None, journals: Path) -> list[Row]:
    chosen = [c for c in NETWORK_CASES if only is None or only in c.label]
    if not chosen:
        return []
    with sandbox(LATENCY) as url:
        baseline = sequential_baseline(url, data(5000), 200)
    rows = [measure(case, data(case.rows), journals) for case in chosen]
    judge(rows, baseline)
    sequential = Row("  sequential loop (pandas + one POST at a time)", 200, 200 / baseline)
    return [sequential, *rows]


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
    header = (
        f"{'case':<48} {'rows':>7} {'seconds':>8} {'rows/s':>7} {'of cap':>7} "
        f"{'429 share':>9} {'peak MB':>8}  {'goal':<44} result"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        of_cap = f"{r.rate / r.cap:.0%}" if r.cap else ""
        share = f"{r.share_429:.2%}" if r.throttled is not None and r.requests else ""
        peak = f"{r.peak_mb:.0f}" if r.peak_mb else ""
        result = "" if r.met is None else "met" if r.met else "MISSED"
        lines.append(
            f"{r.case:<48} {r.rows:>7,} {r.seconds:>8.1f} {r.rate:>7,.0f} {of_cap:>7} "
            f"{share:>9} {peak:>8}  {r.goal:<44} {result}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--soak-rows", type=int, default=50_000)
    parser.add_argument("--only", help="only the cases whose name holds this (soak, dry-run, …)")
    options = parser.parse_args()
    only = options.only
    OUT.mkdir(exist_ok=True)
    journals = OUT / f"journals-{time.time():.0f}"
    rows = network_cases(only, journals)
    if only is None or only in "soak":
        rows += soak(options.soak_rows, journals)
    if only is None or only in "hlr-refresh":
        rows.append(hlr_refresh_case(journals))
    if only is None or only in "--dry-run":
        rows += dry_run_cases(options.csv_rows, options.xlsx_rows)
    print(table(rows))


if __name__ == "__main__":
    main()
