"""The page's locks: the Host names it answers, a password off loopback, server-side
sessions, CSRF on every change.

- Only the Host names the server was started for are answered (loopback names, the
  ``--host`` given, each ``--allowed-host``); any other gets 400, so a web page whose
  name is rebound to this machine's address (DNS rebinding) reads nothing.
- Sessions live on the server (``signin.Sessions``); the cookie, HttpOnly and
  SameSite=Strict, carries the session's id under a key made fresh at every start.
  Signing out or ``IDLE_S`` unused ends a session, whatever copies of its cookie exist.
- Every request that changes something (POST) carries the session's CSRF token, in the
  form field ``csrf`` or the header ``X-CSRF-Token``; without it the answer is 403.
- With a password, every page but the login page asks for it first; wrong passwords are
  limited per client address and overall (``signin.SignInLimits``).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable
from typing import Any

from flask import Flask, abort, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from .signin import IDLE_S, LOCK_AFTER, LOCK_S, Refusal, Sessions, SignInLimits

OPEN_ENDPOINTS = frozenset({"login", "static", "favicon"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::"})
#: Refused Host names the log tells of (each once).
LOGGED_HOSTS = 20


def install(
    app: Flask,
    password: str | None,
    *,
    secure_cookies: bool,
    hosts: Iterable[str] = (),
    idle_s: float = IDLE_S,
) -> None:
    """Add the session settings, the login page and the checks every request goes through."""
    app.secret_key = secrets.token_bytes(32)
    answered = answered_hosts(hosts)
    refused_hosts: set[str] = set()
    sessions = Sessions(idle_s)
    limits = SignInLimits(_log_lock)
    app.extensions["bsg_import_guard"] = (sessions, limits)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="bsg_import_session",
    )

    @app.before_request
    def checks() -> Any:
        if not host_answered(request.host, answered):
            _log_refused_host(request.host, refused_hosts)
            abort(400, "this page answers only the names it was started for")
        signed_out = password is not None and not sessions.alive(session.get("sid"))
        if signed_out and request.endpoint not in OPEN_ENDPOINTS:
            if request.method != "GET":
                abort(401)
            return redirect(url_for("login"))
        if request.method not in ("GET", "HEAD") and not _token_matches():
            abort(403, "the form expired or did not come from this page: reload and try again")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def token() -> dict[str, Any]:
        return {
            "csrf_token": csrf_token(),
            "signed_in": password is None or sessions.alive(session.get("sid")),
            "password_set": password is not None,
        }

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if password is None:
            return redirect(url_for("pages.home"))
        if request.method == "GET":
            return render_template("login.html", error="")
        given, secret = request.form.get("password", "").encode(), password.encode()
        verdict = limits.attempt(
            request.remote_addr or "?", lambda: hmac.compare_digest(given, secret)
        )
        if verdict is True:
            sessions.close(session.get("sid"))
            session.clear()
            session["sid"] = sessions.open()
            session["csrf"] = secrets.token_urlsafe(24)
            return redirect(url_for("pages.home"))
        if isinstance(verdict, Refusal):
            page = render_template("login.html", error=verdict.message())
            return page, 429, {"Retry-After": str(max(1, round(verdict.seconds)))}
        return render_template("login.html", error="Wrong password."), 401

    @app.route("/logout", methods=["POST"])
    def logout() -> Any:
        sessions.close(session.get("sid"))
        session.clear()
        return redirect(url_for("login" if password else "pages.home"))


def answered_hosts(hosts: Iterable[str]) -> frozenset[str]:
    """The Host names to answer: loopback names and the names the server was started for."""
    return LOOPBACK_NAMES | {h.strip("[]").lower() for h in hosts}


def host_answered(host: str, answered: frozenset[str]) -> bool:
    """Whether the ``Host`` header names this server. Served on every address (0.0.0.0),
    the machine's IP addresses are answered too: an address can't be rebound."""
    name = _without_port(host).lower()
    if name in answered:
        return True
    return bool(answered & WILDCARDS) and _is_address(name)


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _log_refused_host(host: str, seen: set[str]) -> None:
    """Say once per name (up to LOGGED_HOSTS) how to answer it, for whoever runs the page."""
    name = _without_port(host).lower()[:100]
    if name in seen or len(seen) >= LOGGED_HOSTS:
        return
    seen.add(name)
    current_app.logger.warning(
        "refused a request for Host %r: give --allowed-host %s if the page is reached by it",
        name, re.sub(r"[^a-z0-9.\-:\[\]]", "?", name) or "NAME",
    )  # fmt: skip


def _log_lock(address: str) -> None:
    current_app.logger.warning(
        "sign-in locked for %s for %d minutes after %d wrong passwords",
        address, LOCK_S // 60, LOCK_AFTER,
    )  # fmt: skip


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _token_matches() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and hmac.compare_digest(str(expected).encode(), given.encode())
