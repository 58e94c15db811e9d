"""The page's locks: a password off loopback, cookie sessions, CSRF on every change.

- Sessions are Flask's signed cookies, HttpOnly and SameSite=Strict, under a key made
  fresh at every start (a restart logs everyone out).
- Every request that changes something (POST) carries the session's CSRF token, in the
  form field ``csrf`` or the header ``X-CSRF-Token``; without it the answer is 403.
- With a password, every page but the login page asks for it first; a wrong password
  costs a second, so guessing is slow.
"""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any

from flask import Flask, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

WRONG_PASSWORD_DELAY_S = 1.0
OPEN_ENDPOINTS = frozenset({"login", "static"})


def install(app: Flask, password: str | None, *, secure_cookies: bool) -> None:
    """Add the session settings, the login page and the checks every request goes through."""
    app.secret_key = secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookies,
        SESSION_COOKIE_NAME="bsg_import_session",
    )

    @app.before_request
    def checks() -> Any:
        signed_out = password is not None and not session.get("signed_in")
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
            "signed_in": password is None or session.get("signed_in"),
            "password_set": password is not None,
        }

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if password is None:
            return redirect(url_for("pages.home"))
        error = ""
        if request.method == "POST":
            given = request.form.get("password", "")
            if hmac.compare_digest(given.encode(), password.encode()):
                session.clear()
                session["signed_in"] = True
                session["csrf"] = secrets.token_urlsafe(24)
                return redirect(url_for("pages.home"))
            time.sleep(WRONG_PASSWORD_DELAY_S)
            error = "Wrong password."
        return render_template("login.html", error=error), 401 if error else 200

    @app.route("/logout", methods=["POST"])
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login" if password else "pages.home"))


def csrf_token() -> str:
    """The session's CSRF token, made on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _token_matches() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf") or request.headers.get("X-CSRF-Token") or ""
    return bool(expected) and hmac.compare_digest(str(expected).encode(), given.encode())
