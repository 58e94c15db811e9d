"""One HTTP exchange with BSG: bytes out, a ``Reply`` back, over one of two wires.

- ``HttpClientWire``, for a real server: one kept-alive connection of the standard
  library's ``http.client`` per sending thread. The client is bound to one core by
  the GIL, so its CPU per request is the run's top speed when nothing else limits it.
  Measured at 50 ms with 64 threads on one connection each, CPU per request: httpx's
  transport (httpcore, h11) ~660 µs, urllib3 ~540 µs (with httpx's ``Request``),
  ``http.client`` ~290 µs; in ``make bench`` an import with no limit went from 785 to
  909-988 rows a second (README, Speed).
- ``HttpxWire``, for an httpx transport given instead: the in-process sandbox, and the
  test doubles that wrap it.

Both raise httpx's errors, so that the client tells "never sent" (a connection that
could not be made) from "maybe sent" (it broke after the request left) one way.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from urllib3.util import wait_for_read


class Headers(Protocol):
    """An answer's headers, looked up by name in any case."""

    def get(self, name: str, /) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer: status, headers (looked up in any case) and the body's bytes."""

    status_code: int
    headers: Headers
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class _Fields(dict[str, str]):
    """Headers read once into a dict by lower-case name: each lookup in ``http.client``'s
    own (an ``email`` message) scans and parses every header again."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__((name.lower(), value) for name, value in fields)

    def get(self, name: str, default: Any = None, /) -> Any:
        return super().get(name.lower(), default)


class Wire(Protocol):
    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        """Send ``method target`` (a path and query) with these headers and body."""
        ...

    def close(self) -> None: ...


class HttpxWire:
    """Requests through an httpx transport (safe to share between threads if it is)."""

    def __init__(self, transport: httpx.BaseTransport, root: str, timeout: float) -> None:
        self._transport = transport
        self._root = root
        self._timeout = httpx.Timeout(timeout).as_dict()

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        request = httpx.Request(method, self._root + target, headers=headers, content=body,
                                extensions={"timeout": self._timeout})  # fmt: skip
        answer = self._transport.handle_request(request)
        try:
            answer.read()
        finally:
            answer.close()
        return Reply(answer.status_code, answer.headers, answer.content)

    def close(self) -> None:
        """Nothing: the transport is its giver's to close."""


class HttpClientWire:
    """Requests to one origin over one kept-alive ``http.client`` connection: one per thread.

    Nagle's algorithm is off (as urllib3 and httpx have it): ``http.client`` sends the
    headers and the body apart, and the body would otherwise wait for the server's
    delayed ACK of the headers, up to 40-200 ms a request. A connection the service
    closed while idle is replaced before a request, never found closed after one (which
    would leave unknown whether that request reached it).
    """

    def __init__(self, root: str, tls: ssl.SSLContext, timeout: float) -> None:
        parts = urlsplit(root)
        self._host, self._port = parts.hostname or "", parts.port
        self._tls = tls if parts.scheme == "https" else None
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        connection = self._connected()
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        except TimeoutError as exc:
            self.close()
            raise httpx.ReadTimeout(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
        return Reply(answer.status, _Fields(answer.getheaders()), content)

    def _connected(self) -> http.client.HTTPConnection:
        """The kept-alive connection, or a new one when the service closed it meanwhile
        (it would fail a request that may then have been sent or not)."""
        connection = self._connection
        sock = connection.sock if connection is not None else None
        if connection is not None and sock is not None and not wait_for_read(sock, timeout=0):
            return connection
        self.close()
        connection = self._new()
        try:
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        self._connection = connection
        return connection

    def _new(self) -> http.client.HTTPConnection:
        if self._tls is None:
            return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=self._timeout, context=self._tls
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
