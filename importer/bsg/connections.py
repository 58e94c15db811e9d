"""How one call leaves: over this thread's own kept-alive connection (or the one wire to a
transport given), in its turn by the pacer, its JSON body encoded as httpx would.

One pool shared by many threads serialises them on its lock (measured: 64 threads on one
httpx.Client spent 90% of their time waiting for it), so each sending thread keeps its own
connection, and the pool is the set of them.
"""

from __future__ import annotations

import json
import os
import ssl
import threading
import time
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx

from ..errors import UsageError
from . import answers
from .evidence import Answer, Slot
from .wire import HttpxWire, Reply, SocketWire, Wire

USER_AGENT = "bsg-import/0.1"
HEADERS = {"Accept": "application/json", "User-Agent": USER_AGENT}


class Pacer(Protocol):
    """Decides when a request may start, and hears how the service answered.

    ``before_request`` waits for a place in flight and the request's turn;
    ``after_response`` hands the place back with the answer (None when none came).
    """

    def before_request(self) -> Slot: ...
    def after_response(self, slot: Slot, answer: Answer | None) -> None: ...


class Connections:
    """The connections to one API root, safe to share between threads."""

    def __init__(
        self,
        root: str,
        *,
        transport: httpx.BaseTransport | None,
        timeout: float,
        pacer: Pacer | None,
        stop: threading.Event | None,
    ) -> None:
        self._root = root
        self._timeout = timeout
        self._shared = None if transport is None else HttpxWire(transport, root, timeout)
        # One TLS context for every connection: building one costs ~20 ms of CPU.
        self._tls = _tls_context()
        self._local = threading.local()
        self._wires: list[Wire] = []
        self._wires_lock = threading.Lock()
        self._pacer = pacer
        self._stop = stop

    def close(self) -> None:
        """Close every connection."""
        with self._wires_lock:
            wires, self._wires = self._wires, []
        for wire in wires:
            wire.close()

    def send(self, method: str, path: str, bearer: str | None, **kwargs: Any) -> Reply:
        """One exchange, with the bearer when given, in its turn when there is a pacer."""
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        if self._pacer is None:
            return self._exchange(method, path, headers, **kwargs)
        slot = self._pacer.before_request()
        try:
            answer = self._exchange(method, path, headers, **kwargs)
        except BaseException:
            self._pacer.after_response(slot, None)
            raise
        self._pacer.after_response(slot, answers.for_pacer(answer, time.monotonic() - slot.sent_at))
        return answer

    def _exchange(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        target = f"{path}?{urlencode(params, quote_via=quote)}" if params else path
        body = None
        if json is not None:
            body = _json_body(json)
            headers = {**headers, "Content-Type": "application/json"}
        return self._wire().exchange(method, target, {**HEADERS, **headers}, body)

    def _wire(self) -> Wire:
        """This thread's own keep-alive connection (or the wire to the transport given)."""
        if self._shared is not None:
            return self._shared
        wire: Wire | None = getattr(self._local, "wire", None)
        if wire is None:
            wire = self._local.wire = SocketWire(self._root, self._tls, self._timeout, self._stop)
            with self._wires_lock:
                self._wires.append(wire)
        return wire


#: One encoder for every body: json.dumps with options builds a new one each call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json_body(value: Any) -> bytes:
    """JSON as httpx sends it: UTF-8, compact, no NaN."""
    return _ENCODER.encode(value).encode()


def _tls_context() -> ssl.SSLContext:
    """Certificates verified against certifi's roots, or SSL_CERT_FILE's (a company's own CA)
    or SSL_CERT_DIR's, as httpx reads them."""
    try:
        return httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:
        named = [
            f"{n}={os.environ[n]}" for n in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(n)
        ]
        where = named[0] if named else "certifi's CA bundle"
        raise UsageError(f"{where}: can't read certificates ({exc})") from exc
