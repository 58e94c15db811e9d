"""make bench: how fast bsg-import is, against its own sandbox as a real server on loopback.

Generates its own data (in bench-out/), starts `bsg-import sandbox` with the latency and
rate cap of each case, runs the real command as a subprocess, and prints one table:
rows, seconds, rows/s, ratio to the cap and to a sequential loop, 429s, peak memory.
Ratios measured within one run are what count: the machine is shared and noisy.
Nothing here is a test; it asserts nothing and only reports.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
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
    cap: float | None = None
    baseline: float | None = None
    throttled: int | None = None
    requests: int | None = None
    peak_mb: float | None = None
    target: str = ""

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


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
def sandbox(latency: float, cap: float = 0.0) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "importer",
        "sandbox",
        "--port",
        str(port),
        "--latency",
        str(latency),
        "--rate-cap",
        str(cap),
    ]
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


def answers(url: str) -> tuple[int, int]:
    """(requests answered 429, all requests) as the sandbox logged them."""
    log = httpx.get(f"{url}/_sandbox/state", timeout=60).json()["log"]
    return sum(1 for e in log if e["status"] == 429), len(log)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(
                next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS"))
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total / 1024


def run_import(args: list[str], env: dict[str, str] | None = None) -> tuple[dict[str, Any], float]:
    """Run bsg-import with --json; (its summary, peak memory of its process tree in MB)."""
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
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(process.pid))
            time.sleep(0.05)

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


# -- cases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkCase:
    label: str
    list_name: str
    cap: float  # the sandbox's requests a second; 0: none
    flags: tuple[str, ...]
    target: str


NETWORK_CASES = (
    NetworkCase("5,000 rows, 50 ms, cap 200/s, --rate 200", "Capped", 200, ("--rate", "200"),
                ">= 190 rows/s, 429 < 2%"),
    NetworkCase("5,000 rows, 50 ms, no cap, --concurrency 64", "Free", 0, ("--concurrency", "64"),
                ">= 800 rows/s, >= 10x sequential"),
    NetworkCase("5,000 rows, 50 ms, cap 100/s unknown to the tool", "Unknown", 100, (),
                ">= 85 rows/s, 429 < 5%"),
)  # fmt: skip


def network_cases(small: Path, latency: float, journals: Path) -> list[Row]:
    with sandbox(latency) as url:
        baseline = sequential_baseline(url, small, 200)
    results = [measure(case, small, latency, journals, baseline) for case in NETWORK_CASES]
    sequential = "  sequential loop (pandas + one POST at a time, 200 rows)"
    results.insert(2, Row(sequential, 200, 200 / baseline, target="(baseline)"))
    return results


def measure(case: NetworkCase, small: Path, latency: float, journals: Path, baseline: float) -> Row:
    """Run one network case against a fresh sandbox."""
    with sandbox(latency, cap=case.cap) as url:
        output = OUT / f"{case.list_name.lower()}.csv"
        summary, peak = run_import(
            [str(small), "--list", case.list_name, "--base-url", url, *case.flags,
             "--output", str(output), "--journal-dir", str(journals)]
        )  # fmt: skip
        throttled, requests = answers(url)
    return Row(
        case.label,
        5000,
        float(summary["elapsed_s"]),
        cap=case.cap or None,
        baseline=None if case.cap else baseline,
        throttled=throttled,
        requests=requests,
        peak_mb=peak,
        target=case.target,
    )


def dry_run_cases(big_csv: Path, big_xlsx: Path, rows_csv: int, rows_xlsx: int) -> list[Row]:
    """Keyless dry runs: reading, normalising and writing the results, nothing remote."""
    cases = [
        (big_csv, rows_csv, "dry.csv", ">= 25,000 rows/s, < 400 MB"),
        (big_csv, rows_csv, "dry.xlsx", ">= 10,000 rows/s, < 400 MB"),
        (big_xlsx, rows_xlsx, "dry-x.xlsx", ">= 10,000 rows/s, < 500 MB"),
    ]
    results = []
    for source, rows, output, target in cases:
        summary, peak = run_import(
            [str(source), "--list", "Dry", "--dry-run", "--output", str(OUT / output)],
            env={"BSG_API_KEY": ""},
        )
        label = f"--dry-run {rows:,}-row {source.suffix[1:].upper()} -> {output.split('.')[1]}"
        results.append(Row(label, rows, float(summary["elapsed_s"]), peak_mb=peak, target=target))
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
        before = answers(url)[1]
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "importer", "hlr-refresh", str(output), "--base-url", url],
            env={**os.environ, "BSG_API_KEY": KEY}, capture_output=True, check=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        requests = answers(url)[1] - before
    goal = count // 500 + 10
    label = f"hlr-refresh {count:,} rows, 50 ms"
    return Row(label, count, seconds, target=f"{requests} requests (goal <= {goal})")


def table(rows: list[Row]) -> str:
    header = (
        f"{'case':<58} {'rows':>9} {'seconds':>8} {'rows/s':>9} {'of cap':>7} {'x seq':>6} "
        f"{'429s':>12} {'peak MB':>8}  target"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        of_cap = f"{r.rate / r.cap:.0%}" if r.cap else ""
        times = f"{r.rate / r.baseline:.1f}" if r.baseline else ""
        throttled = (
            f"{r.throttled} ({r.throttled / r.requests:.1%})"
            if r.requests and r.throttled is not None
            else ""
        )
        peak = f"{r.peak_mb:.0f}" if r.peak_mb else ""
        lines.append(
            f"{r.case:<58} {r.rows:>9,} {r.seconds:>8.1f} {r.rate:>9,.0f} {of_cap:>7} {times:>6} "
            f"{throttled:>12} {peak:>8}  {r.target}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=200_000)
    parser.add_argument("--only", choices=["network", "dry-run", "hlr"], default=None)
    options = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    journals = OUT / f"journals-{time.time():.0f}"
    small = write_csv(OUT / "contacts-5000.csv", 5000, seed=1)
    rows: list[Row] = []
    if options.only in (None, "network"):
        rows += network_cases(small, 0.05, journals)
    if options.only in (None, "hlr"):
        rows.append(hlr_refresh_case(journals))
    if options.only in (None, "dry-run"):
        big_csv = write_csv(OUT / f"contacts-{options.csv_rows}.csv", options.csv_rows, seed=2)
        big_xlsx = write_xlsx(OUT / f"contacts-{options.xlsx_rows}.xlsx", options.xlsx_rows, seed=3)
        rows += dry_run_cases(big_csv, big_xlsx, options.csv_rows, options.xlsx_rows)
    print(table(rows))


if __name__ == "__main__":
    main()
