"""The bearer of one API key: a login on first use, renewed a little before its JWT ``exp``
(a refresh, else a login), and once per bearer after a 401, however many threads saw it.

A login that refuses the key raises ``KeyRefused``; any other answer is read as every
answer is (``answers.checked``: a redirect is ``Redirected``, a 5xx ``Transient``). The key
never appears in any message or repr.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from . import answers
from .bearer import Bearer
from .errors import KeyRefused, Transient
from .wire import Reply

LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"


class Send(Protocol):
    """One exchange with BSG under a bearer (None: without one), as the client makes it."""

    def __call__(self, method: str, path: str, bearer: str | None, **kwargs: Any) -> Reply: ...


class Login:
    """The current bearer of a key, safe to share between threads."""

    def __init__(self, key: str, send: Send) -> None:
        self._key = key
        self._send = send
        self._token: Bearer | None = None
        self._refused: Bearer | None = None  # a 401 came back for it: being renewed
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "Login(<key>)"

    def login(self) -> None:
        """Exchange the key for a bearer; KeyRefused when BSG refuses the key."""
        with self._lock:
            self._login()

    def bearer(self) -> Bearer:
        """The bearer to send: logged in first, renewed before its ``exp`` when it has one,
        and the new one once a 401 came back for it (not sent again while it is renewed)."""
        token = self._token
        if token is None or token.due() or token is self._refused:
            with self._lock:
                token = self._token
                if token is None:
                    self._login()
                elif token.due():
                    self._refresh(token)
                token = self._token
        assert token is not None
        return token

    def renew(self, refused: Bearer) -> None:
        """Log in again after a 401: once per bearer, however many threads saw it refused."""
        self._refused = refused
        with self._lock:
            if self._token is refused:
                self._login()

    def _login(self) -> None:
        answer = self._send("POST", LOGIN, None, json={"api_key": self._key})
        if answer.status_code in (401, 403, 422):
            raise KeyRefused("BSG refused the API key; check BSG_API_KEY (or --api-key)")
        self._token = answers.bearer(answers.checked(answer))

    def _refresh(self, token: Bearer) -> None:
        """A new bearer for one about to expire; a login when BSG won't refresh it."""
        try:
            answer = self._send("POST", REFRESH, token.value)
            if answer.status_code < 300:
                self._token = answers.bearer(answer)
                return
        except Transient:
            pass
        self._login()
