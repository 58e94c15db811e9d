"""Runs nobody watches: config files, logs without a terminal, overlapping runs, loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import filelock

from importer.journal import file_hash, import_key
from importer.locks import lock_folder

from ..helpers import run_cli, state_of, ukrainian_mobiles, write_contacts_csv

KEY = {"BSG_API_KEY": "live_sandbox"}


def _config(path: Path, mode: int, **values: str) -> Path:
    path.write_text("".join(f'{key} = "{value}"\n' for key, value in values.items()))
    path.chmod(mode)
    return path


def test_a_config_file_readable_by_others_gets_a_warning(tmp_path: Path, server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(2))
    values = {"api-key": "live_sandbox", "base-url": server.url, "list": "Promo"}
    journals = ["--journal-dir", str(tmp_path / "j")]
    shared = _config(tmp_path / "shared.toml", 0o644, **values)
    warned = run_cli(source, "--config", shared, *journals)
    assert warned.code == 0, warned.stderr
    assert f"Warning: {shared} holds the API key and other users can read it" in warned.stderr
    assert f"chmod 600 {shared}" in warned.stderr
    private = _config(tmp_path / "private.toml", 0o600, **values)
    quiet = run_cli(source, "--config", private, *journals)
    assert quiet.code == 0 and "Warning" not in quiet.stderr


def test_flags_win_over_the_config_file_which_wins_over_the_environment(
    tmp_path: Path, server: Any, sandbox: Any
) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(2))
    config = _config(tmp_path / "c.toml", 0o600, list="From file", **{"base-url": server.url})
    env = {**KEY, "BSG_BASE_URL": "http://127.0.0.1:9"}  # unreachable: the file must win
    journals = ["--journal-dir", str(tmp_path / "j")]
    assert run_cli(source, "--config", config, *journals, env=env).code == 0
    assert run_cli(source, "--config", config, "--list", "From flag", *journals, env=env).code == 0
    names = sorted(group["name"] for group in state_of(sandbox)["groups"])
    assert names == ["From file", "From flag"]


def test_without_a_terminal_progress_is_logged_not_drawn(tmp_path: Path, server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(30))
    log = tmp_path / "logs" / "run.jsonl"
    ran = run_cli(
        source, "--list", "Promo", "--base-url", server.url, "--journal-dir", tmp_path / "j",
        "--log-file", log, "--log-format", "json", env=KEY,
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    assert "\r" not in ran.stderr and "it/s" not in ran.stderr  # no tqdm bar
    assert "progress: 30/30 rows (100%)" in ran.stderr
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert all({"ts", "level", "event", "message"} <= set(entry) for entry in entries)
    progress = [e for e in entries if e["event"] == "progress"]
    assert progress[-1]["done"] == progress[-1]["total"] == 30
    summary = next(e for e in entries if e["event"] == "summary")
    assert summary["counts"]["created"] == 30 and summary["level"] == "info"


def test_a_second_run_of_the_same_import_exits_or_waits(tmp_path: Path, server: Any) -> None:
    source = write_contacts_csv(tmp_path / "c.csv", ukrainian_mobiles(3))
    journals = tmp_path / "j"
    key = import_key(file_hash(source), "Promo", server.url)
    lock = filelock.FileLock(lock_folder() / f"{key}.lock")  # one place for the machine
    journals.mkdir()
    args = [source, "--list", "Promo", "--base-url", server.url, "--journal-dir", journals]
    with lock:
        refused = run_cli(*args, env=KEY)
        assert refused.code == 2
        assert "another bsg-import is already importing" in refused.last_line
        assert "--if-running wait" in refused.last_line
        assert not (tmp_path / "c.results.xlsx").exists()

        waiting = _start_cli(*args, "--if-running", "wait", env=KEY)
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting for the lock
    _, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, stderr
    assert "3 created" in stderr


def test_the_sandbox_listens_on_loopback_only(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = _start_cli("sandbox", "--port", str(port))
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert f"listening on http://127.0.0.1:{port}" in line
        listening = _listening_addresses(port)
        assert listening == {"127.0.0.1"}
    finally:
        server.terminate()
        server.communicate(timeout=10)


def _start_cli(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "importer", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**_base_env(), **(env or {})},
    )


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("BSG_")}


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (IPv4 and IPv6, as hex) listening on ``port``, from /proc/net."""
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.add(_address(address))
    return found


def _address(hex_address: str) -> str:
    if len(hex_address) == 8:
        return socket.inet_ntoa(bytes.fromhex(hex_address)[::-1])
    return hex_address
