"""The page's locks through real HTTP: the Host names it answers (DNS rebinding), the
limits on wrong passwords, and sessions that end on sign-out and after an idle time."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page

from importer.web import signin

from ..helpers import SAMPLE_XLSX
from ..web_helpers import csrf_of, page_config, page_server
from ..web_look import browser, look, page, shots

__all__ = ["browser", "page", "shots"]

PASSWORD = "correct horse"


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@contextmanager
def http_from(url: str, address: str = "127.0.0.1", **headers: str) -> Iterator[httpx.Client]:
    """An HTTP client whose requests come from ``address`` (any of 127.0.0.0/8)."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(base_url=url, transport=transport, headers=headers) as client:
        yield client


def sign_in(client: httpx.Client, password: str = PASSWORD) -> httpx.Response:
    csrf = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": csrf, "password": password})


def guard_of(app: Any) -> tuple[signin.Sessions, signin.SignInLimits]:
    sessions, limits = app.extensions["bsg_import_guard"]
    return sessions, limits


# 1. DNS rebinding


def test_a_host_name_the_server_was_not_started_for_gets_400(tmp_path: Path, server: Any) -> None:
    with page_server(page_config(tmp_path, server)) as (url, _):
        port = url.rsplit(":", 1)[1]
        with http_from(url) as own:
            csrf = csrf_of(own.get("/").text)
            cookies = dict(own.cookies)
        for name in ("127.0.0.1", "localhost", "LOCALHOST", "[::1]"):
            with http_from(url, Host=f"{name}:{port}") as client:
                assert client.get("/").status_code == 200, name
        evil = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
        with http_from(url, **evil) as rebound:
            rebound.cookies.update(cookies)
            home = rebound.get("/")
            assert home.status_code == 400 and "csrf" not in home.text
            assert rebound.get("/history/" + "0" * 32 + "/results.xlsx").status_code == 400
            data = {"csrf": csrf}
            files = {"file": ("c.xlsx", SAMPLE_XLSX.read_bytes())}
            assert rebound.post("/upload", data=data, files=files).status_code == 400
        assert not (tmp_path / "web" / "uploads").exists() or not any(
            (tmp_path / "web" / "uploads").iterdir()
        )


def test_the_host_given_and_each_allowed_host_are_answered(
    tmp_path: Path, server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    config = page_config(tmp_path, server, hosts=("0.0.0.0", "imports.office.lan"))
    with page_server(config) as (url, _):
        for name, code in [("imports.office.lan", 200), ("192.168.1.20:8000", 200),
                           ("[fe80::1]:8000", 200), ("evil.example", 400),
                           ("imports.office.lan.evil.example", 400)]:  # fmt: skip
            with http_from(url, Host=name) as client, caplog.at_level(logging.WARNING):
                assert client.get("/").status_code == code, name
    assert "refused a request for Host 'evil.example': give --allowed-host evil.example" in (
        caplog.text
    )


def test_serve_answers_its_allowed_host_and_refuses_others() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "serve", "--sandbox", "--port", "0",
         "--allowed-host", "imports.example", "--allowed-host", "other.example"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    try:
        found = re.search(r"http://\S+", process.stderr.readline())
        assert found, "no URL"
        with httpx.Client(base_url=found.group(0)) as client:
            assert client.get("/").status_code == 200
            for name in ("imports.example", "other.example:8000"):
                assert client.get("/", headers={"Host": name}).status_code == 200
            assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stderr.close()


# 2. Wrong passwords


def test_parallel_guesses_from_one_address_are_not_checked(tmp_path: Path, server: Any) -> None:
    config = page_config(tmp_path, server, password=PASSWORD)
    with page_server(config) as (url, app), http_from(url) as client:
        guard_of(app)[1].clock = Clock()  # time stands still: only the free tries are checked
        csrf = csrf_of(client.get("/login").text)
        cookies = dict(client.cookies)

        def guess(n: int) -> int:
            with http_from(url) as other:
                other.cookies.update(cookies)
                data = {"csrf": csrf, "password": f"guess {n}"}
                return other.post("/login", data=data).status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(guess, range(100)))
    checked = codes.count(401)
    assert checked == signin.FREE_TRIES + 1, codes  # the others: 429, password unchecked
    assert codes.count(429) == 100 - checked


def test_wrong_passwords_lock_the_address_not_the_rightful_user(
    tmp_path: Path, server: Any
) -> None:
    clock = Clock()
    config = page_config(tmp_path, server, password=PASSWORD)
    with page_server(config) as (url, app), http_from(url) as attacker:
        guard_of(app)[1].clock = clock
        waits = []
        for n in range(signin.LOCK_AFTER):
            assert sign_in(attacker, f"guess {n}").status_code == 401, n
            if n >= signin.FREE_TRIES:  # an immediate retry is not even checked
                refused = sign_in(attacker, "guess again")
                assert refused.status_code == 429
                waits.append(int(refused.headers["Retry-After"]))
            clock.now += 61
        assert waits == [1, 2, 4, 8, 16, 32, 60, signin.LOCK_S]
        locked = sign_in(attacker)  # the right password: not even checked
        assert locked.status_code == 429 and "locked for 14 minutes" in locked.text
        with http_from(url, "127.0.0.2") as user:
            assert sign_in(user).status_code == 302  # another address signs in at once
            assert user.get("/").status_code == 200
        clock.now += signin.LOCK_S
        assert sign_in(attacker).status_code == 302  # the lock ends


def test_the_lock_is_reported_in_the_log(
    tmp_path: Path, server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    config = page_config(tmp_path, server, password=PASSWORD)
    with (
        caplog.at_level(logging.WARNING),
        page_server(config) as (url, app),
        http_from(url, "127.0.0.9") as attacker,
    ):
        guard_of(app)[1].clock = clock
        for n in range(signin.LOCK_AFTER):
            sign_in(attacker, f"guess {n}")
            clock.now += 61
    assert "sign-in locked for 127.0.0.9 for 15 minutes after 10 wrong passwords" in caplog.text
    assert "guess" not in caplog.text and PASSWORD not in caplog.text


def test_guesses_from_many_addresses_are_slowed_overall(tmp_path: Path, server: Any) -> None:
    clock = Clock()
    config = page_config(tmp_path, server, password=PASSWORD)
    with page_server(config) as (url, app):
        guard_of(app)[1].clock = clock
        with http_from(url, "127.0.0.2") as user:
            assert sign_in(user).status_code == 302  # the rightful user signed in once
        codes = []
        for n in range(signin.OVERALL_FREE + 10):
            with http_from(url, f"127.0.1.{n + 1}") as attacker:
                codes.append(sign_in(attacker, f"guess {n}").status_code)
        assert codes[: signin.OVERALL_FREE] == [401] * signin.OVERALL_FREE
        assert codes[signin.OVERALL_FREE] == 401 and set(codes[signin.OVERALL_FREE + 1 :]) == {
            429
        }  # one check every OVERALL_GAP_S for new addresses
        with http_from(url, "127.0.0.2") as user:
            assert sign_in(user).status_code == 302  # not slowed by the others' guesses
        clock.now += signin.OVERALL_GAP_S
        with http_from(url, "127.0.2.1") as attacker:
            assert sign_in(attacker, "one more").status_code == 401


# 3. Sessions


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(
    tmp_path: Path, server: Any
) -> None:
    config = page_config(tmp_path, server, password=PASSWORD)
    with page_server(config) as (url, _), http_from(url) as client:
        assert sign_in(client).status_code == 302
        home = client.get("/")
        assert home.status_code == 200
        copied = dict(client.cookies)
        client.post("/logout", data={"csrf": csrf_of(home.text)})
        with http_from(url) as thief:
            thief.cookies.update(copied)
            answer = thief.get("/")
            assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
            assert thief.post("/upload", data={"csrf": csrf_of(home.text)}).status_code == 401


def test_a_session_ends_after_its_idle_time(tmp_path: Path, server: Any) -> None:
    clock = Clock()
    config = page_config(tmp_path, server, password=PASSWORD, session_idle_s=600)
    with page_server(config) as (url, app), http_from(url) as client:
        guard_of(app)[0].clock = clock
        assert sign_in(client).status_code == 302
        clock.now += 590
        assert client.get("/").status_code == 200  # in use: kept
        clock.now += 590
        assert client.get("/").status_code == 200
        clock.now += 601
        assert client.get("/").status_code == 302  # idle too long: signed out
        assert "Sign out" not in client.get("/login").text


def test_in_the_browser_signing_out_ends_the_session_and_guesses_are_stopped(
    tmp_path: Path, server: Any, page: Page, shots: Path
) -> None:
    config = page_config(tmp_path, server, password=PASSWORD)
    with page_server(config) as (url, app):
        guard_of(app)[1].clock = Clock()  # the waits do not pass by themselves
        page.goto(url)
        page.fill("input[type=password]", PASSWORD)
        page.click("form button")
        page.wait_for_url(url + "/")
        cookies = page.context.cookies()
        page.click("text=Sign out")
        page.wait_for_url("**/login")
        copied: list[Any] = list(cookies)
        page.context.add_cookies(copied)  # the cookie copied before signing out
        page.goto(url)
        assert page.url.endswith("/login")  # it no longer signs in
        for guess in ("one", "two", "three", "four"):
            page.fill("input[type=password]", guess)
            page.click("form button")
            page.wait_for_load_state()
        shown = look(page, shots, "2-too-many-wrong-passwords")
        assert "Too many wrong passwords: wait" in shown
