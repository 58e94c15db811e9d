"""Helpers for the web page's tests: the page as a real server over a real sandbox."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from importer.web import WebConfig, create_app
from importer.web.serve import serving, url_of

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def page_config(tmp_path: Path, server: Any, **changes: Any) -> WebConfig:
    """The page against the sandbox ``server``, with every folder in ``tmp_path``."""
    base = {"base_url": server.url, "api_key": "live_sandbox",
            "journal_dir": str(tmp_path / "journals"), **changes.pop("base", {})}  # fmt: skip
    values: dict[str, Any] = {
        "base": base,
        "environment": {},
        "data_dir": tmp_path / "web",
        "profile_dir": tmp_path / "profiles",
        **changes,
    }
    return WebConfig(**values)


@contextmanager
def page_server(config: WebConfig) -> Iterator[tuple[str, Any]]:
    """The page as a real HTTP server on loopback: (its URL, the app)."""
    app = create_app(config)
    with serving(app, "127.0.0.1", 0) as running:
        try:
            yield url_of(running), app
        finally:
            app.extensions["bsg_import"].jobs.stop_all()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def send_file(client: FlaskClient, path: Path) -> tuple[str, str]:
    """Upload ``path``; (the file page's URL, the CSRF token)."""
    csrf = csrf_of(client.get("/").get_data(as_text=True))
    answer = client.post(
        "/upload",
        data={"csrf": csrf, "file": (io.BytesIO(path.read_bytes()), path.name)},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302 and "/file/" in answer.headers["Location"], answer.data
    return answer.headers["Location"], csrf


def finished(
    client: FlaskClient, job_url: str, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The job's status once it has ended; each status polled meanwhile is added to ``seen``."""
    deadline = time.monotonic() + 60
    while (status := client.get(job_url + "/status").get_json())["state"] == "running":
        assert time.monotonic() < deadline
        if seen is not None:
            seen.append(status)
        time.sleep(0.05)
    return dict(status)
