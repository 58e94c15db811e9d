"""The page's safety list, each tried: password, CSRF, upload size, file names, zip bombs,
and no key, bearer or server path in any page, answer or log."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from importer.errors import UsageError
from importer.web import create_app
from importer.web.serve import password_for

from ..helpers import SAMPLE_XLSX
from ..read.test_hostile import CHUNK, contacts, zeros_member
from ..web_helpers import csrf_of, page_config, page_server


@pytest.fixture
def app(tmp_path: Path, server: Any) -> Iterator[Flask]:
    made = create_app(page_config(tmp_path, server, max_upload_mb=1))
    yield made
    made.extensions["bsg_import"].jobs.stop_all()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(client: FlaskClient) -> str:
    return csrf_of(client.get("/").get_data(as_text=True))


def upload(client: FlaskClient, data: bytes, name: str, csrf: str | None = None) -> Any:
    form: dict[str, Any] = {"file": (io.BytesIO(data), name)}
    if csrf is not None:
        form["csrf"] = csrf
    return client.post("/upload", data=form, content_type="multipart/form-data")


def uploads_in(tmp_path: Path) -> list[Path]:
    root = tmp_path / "web" / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_wrong_password_is_refused(tmp_path: Path, server: Any) -> None:
    client = create_app(page_config(tmp_path, server, password="correct horse")).test_client()
    assert client.get("/").headers["Location"].endswith("/login")
    login = client.get("/login").get_data(as_text=True)
    answer = client.post("/login", data={"csrf": csrf_of(login), "password": "wrong"})
    assert answer.status_code == 401 and "Wrong password." in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out
    assert upload(client, b"Phone\n", "c.csv", csrf_of(login)).status_code == 401
    answer = client.post("/login", data={"csrf": csrf_of(login), "password": "correct horse"})
    assert answer.status_code == 302
    assert client.get("/").status_code == 200


def test_login_itself_needs_the_csrf_token(tmp_path: Path, server: Any) -> None:
    client = create_app(page_config(tmp_path, server, password="pw")).test_client()
    assert client.post("/login", data={"password": "pw"}).status_code == 403


def test_every_change_without_the_csrf_token_is_refused(app: Flask, client: FlaskClient) -> None:
    good = token(client)
    posts = [r for r in app.url_map.iter_rules() if "POST" in (r.methods or set())]
    assert len(posts) >= 8  # upload, file, stop, resume, undo, hlr-refresh, login, logout
    for rule in posts:
        url = re.sub(r"<[^>]+>", "x", rule.rule)
        assert client.post(url).status_code == 403, url
        assert client.post(url, data={"csrf": good[::-1]}).status_code == 403, url
        assert client.post(url, headers={"X-CSRF-Token": "nope"}).status_code == 403, url
    # With the token, the same request goes through to the page's own answer.
    assert client.post("/jobs/x/stop", data={"csrf": good}).status_code == 404


def test_the_session_cookie_is_httponly_and_samesite(client: FlaskClient) -> None:
    answer = client.get("/")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]


def test_an_oversize_upload_is_refused_and_nothing_is_kept(tmp_path: Path, server: Any) -> None:
    big = b"Phone\n" + b"+380501234567\n" * 100_000  # 1.4 MB; the limit is 1 MB
    with (
        page_server(page_config(tmp_path, server, max_upload_mb=1)) as (url, _),
        httpx.Client(base_url=url) as browser,
    ):
        csrf = csrf_of(browser.get("/").text)
        answer = browser.post("/upload", data={"csrf": csrf}, files={"file": ("big.csv", big)})
    assert answer.status_code == 413
    assert "larger than this page accepts (1 MB)" in answer.text
    assert uploads_in(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../../etc/cron.d/evil.csv", "evil.csv"),
        ("..\\..\\Windows\\evil.csv", "Windowsevil.csv"),  # werkzeug drops backslashes
        ("<img src=x onerror=alert(1)>.csv", "img src_x onerror_alert(1).csv"),
        ("/etc/passwd.csv", "passwd.csv"),
        ("....//....//x.csv", "x.csv"),
        ("../.csv", "upload.csv"),
        ("con\x00tacts.csv", "contacts.csv"),
    ],
)
def test_path_tricks_in_the_file_name_stay_in_the_private_folder(
    tmp_path: Path, client: FlaskClient, name: str, shown: str
) -> None:
    answer = upload(client, b"Phone\n+380501234567\n", name, token(client))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"<h1>{shown}</h1>" in page
    [stored] = uploads_in(tmp_path)
    assert stored.name == shown and stored.parent.parent == tmp_path / "web" / "uploads"
    assert stored.parent.stat().st_mode & 0o777 == 0o700
    assert not (tmp_path / "etc").exists()


def test_a_file_that_is_no_spreadsheet_is_refused_by_name(
    tmp_path: Path, client: FlaskClient
) -> None:
    answer = upload(client, b"#!/bin/sh\n", "../run.sh", token(client))
    assert answer.status_code == 302
    assert "run.sh: not a spreadsheet this tool reads" in client.get("/").get_data(as_text=True)
    assert uploads_in(tmp_path) == []


def test_a_zip_bomb_upload_is_refused_and_deleted(tmp_path: Path, client: FlaskClient) -> None:
    bomb = zeros_member(contacts(tmp_path / "c.xlsx"), tmp_path / "bomb.xlsx", 8 * CHUNK)
    answer = upload(client, bomb.read_bytes(), "bomb.xlsx", token(client))
    assert answer.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "a zip bomb, not a real workbook" in home
    assert str(tmp_path) not in home
    assert uploads_in(tmp_path) == []


def test_no_key_bearer_or_server_path_in_any_answer(
    tmp_path: Path, client: FlaskClient, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    csrf = token(client)
    seen: list[str] = []
    answer = upload(client, SAMPLE_XLSX.read_bytes(), "contacts.xlsx", csrf)
    file_url = answer.headers["Location"]
    seen.append(client.get(file_url).get_data(as_text=True))
    form = {"csrf": csrf, "list_name": "Promo", "default_region": "UA", "action": "import"}
    started = client.post(file_url, data=form)
    job_url = started.headers["Location"]
    deadline = time.monotonic() + 60
    while client.get(job_url + "/status").get_json()["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    seen += [client.get(url).get_data(as_text=True) for url in (job_url, job_url + "/status", "/")]
    assert "45 created" in seen[0 - 3].replace("<strong>45</strong>", "45")
    assert uploads_in(tmp_path) == []  # imported: the upload is deleted
    with sandbox.account.lock:
        bearers = list(sandbox.account.tokens)
    assert bearers
    for text in [*seen, caplog.text]:
        assert "live_sandbox" not in text
        assert str(tmp_path) not in text and "/tmp/" not in text
        for bearer in bearers:
            assert str(bearer) not in text


def test_off_loopback_a_password_is_required_never_as_a_flag(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="give a password in BSG_WEB_PASSWORD or --password-file"):
        password_for("0.0.0.0", None, {})
    assert password_for("127.0.0.1", None, {}) is None
    assert password_for("0.0.0.0", None, {"BSG_WEB_PASSWORD": "pw"}) == "pw"
    secret = tmp_path / "password"
    secret.write_text("from file\n", encoding="utf-8")
    assert password_for("::", secret, {}) == "from file"


def test_serve_off_loopback_warns_without_tls_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "importer", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 2 and "give a password" in refused.stderr
    secret = tmp_path / "password"
    secret.write_text("pw", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "serve", "--sandbox", "--host", "0.0.0.0",
         "--port", "0", "--password-file", str(secret)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    first, second = process.stderr.readline(), process.stderr.readline()
    assert re.match(r"bsg-import page on http://0\.0\.0\.0:\d+ against the built-in sandbox", first)
    assert "over plain HTTP" in second and "TLS" in second
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    process.stderr.close()
