"""One HTTP exchange with BSG: bytes out, a ``Reply`` back, over one of two wires.

- ``SocketWire``, for a real server: one kept-alive socket per sending thread, answers
  read by httptools. The client is bound to one core by the GIL, so its CPU per request
  is the run's top speed when nothing else limits it. CPU per request, measured at 50 ms
  with 64 threads on one connection each: httpx's transport (httpcore, h11) ~660 µs,
  urllib3 ~540 µs (with httpx's ``Request``), ``http.client`` ~290 µs; one request at a
  time on loopback: ``http.client`` ~170 µs, this wire ~70 (README, Speed).
- ``HttpxWire``, for an httpx transport given instead: the in-process sandbox, and the
  test doubles that wrap it.

This is where foreign errors enter, and where they are translated, once: a request
that certainly never reached the service raises ``NeverSent``, one whose answer never
came whole ``MaybeSent`` (see :mod:`importer.bsg.errors`). A whole answer has a deadline
(connect, first byte and last byte together), never later than the run's patience allows
(``GIVE_UP_AT``), and a size it may not pass; a run that is stopping stops waiting for one
within ``POLL_S``.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httptools
import httpx
from urllib3.util import wait_for_read

from .errors import NOT_SENT, GaveUp, MaybeSent, NeverSent, Oversized, Untrusted
from .reading import MAX_ANSWER_BYTES, POLL_S, Answer, Deadline

#: select.poll where the platform has it (not Windows: wait_for_read's select() there).
_poll = getattr(select, "poll", None)

__all__ = ["GIVE_UP_AT", "MAX_ANSWER_BYTES", "POLL_S", "HttpxWire", "Reply", "SocketWire", "Wire"]

#: For the calls made under it (the session sets it around each call), when the run gives
#: up waiting for any answer (``time.monotonic()``): read again while waiting, as it moves
#: on whenever another call is answered. No answer is awaited past it, whatever the timeout.
GIVE_UP_AT: ContextVar[Callable[[], float] | None] = ContextVar("give_up_at", default=None)


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
    """An answer's headers by lower-case name, looked up in any case."""

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
        try:
            answer = self._transport.handle_request(request)
            try:
                answer.read()
            finally:
                answer.close()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.LocalProtocolError) as exc:
            raise NeverSent("could not connect to BSG") from exc
        except httpx.TimeoutException as exc:
            raise MaybeSent("BSG did not answer in time") from exc
        except httpx.TransportError as exc:
            raise MaybeSent("BSG closed the connection without answering") from exc
        return Reply(answer.status_code, answer.headers, answer.content)

    def close(self) -> None:
        """Nothing: the transport is its giver's to close."""


class SocketWire:
    """Requests to one origin over one kept-alive socket: one per thread. Answers are read
    by httptools (Node's llhttp parser); each request leaves in one ``sendall``.
    (``http.client`` parses every answer's headers with the ``email`` package: most of
    the CPU it spends on a request.)

    Nagle's algorithm is off (as urllib3 and httpx have it). A connection the service
    closed while idle is replaced before a request, never found closed after one (which
    would leave unknown whether that request reached it).
    """

    def __init__(
        self,
        root: str,
        tls: ssl.SSLContext,
        timeout: float,
        stop: threading.Event | None = None,
    ) -> None:
        parts = urlsplit(root)
        self._host, self._tls = parts.hostname or "", tls if parts.scheme == "https" else None
        self._port = parts.port or (443 if self._tls else 80)
        self._authority = parts.netloc.rpartition("@")[2]  # host[:port], [v6] in brackets
        self._timeout = timeout
        self._stop = stop or threading.Event()
        self._sock: socket.socket | None = None
        #: The socket's own poll object: urllib3's wait_for_read builds one for every request.
        self._poll: select.poll | None = None

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        """One request and its whole answer, within ``timeout`` seconds in all (and never
        past ``GIVE_UP_AT``)."""
        deadline = Deadline(time.monotonic() + self._timeout, GIVE_UP_AT.get())
        request = self._request(method, target, headers, body)
        try:
            deadline.left()
        except TimeoutError:
            raise GaveUp(NOT_SENT) from None  # the run gave up while this call waited its turn
        sock = self._connected(deadline)
        try:
            sock.settimeout(deadline.left())
            sock.sendall(request)
            answer = Answer.read(sock, deadline, self._stop)
        except TimeoutError as exc:
            self.close()
            raise MaybeSent("BSG did not answer in time") from exc
        except Oversized:
            self.close()
            raise
        except (OSError, httptools.HttpParserError) as exc:
            self.close()
            raise MaybeSent("BSG closed the connection without answering") from exc
        except BaseException:
            self.close()
            raise
        if not answer.keep_alive:
            self.close()
        return Reply(answer.status, _Fields(answer.fields), answer.content)

    def _request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> bytes:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self._authority}",
                 "Accept-Encoding: identity"]  # fmt: skip
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = "\r\n".join(lines)
        breaks = len(lines) - 1
        if head.count("\r") != breaks or head.count("\n") != breaks:
            raise NeverSent("a header holds a line break")  # a bearer's, say
        try:
            return head.encode("latin-1") + b"\r\n\r\n" + (body or b"")
        except UnicodeEncodeError as exc:
            raise NeverSent("a header is not Latin-1 text") from exc

    def _connected(self, deadline: Deadline) -> socket.socket:
        """The kept-alive socket, or a new one when the service closed it meanwhile (it
        would fail a request that may then have been sent or not)."""
        sock = self._sock
        if sock is not None and not self._readable(sock):
            return sock
        self.close()
        try:
            sock = socket.create_connection((self._host, self._port), deadline.left())
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._host)
        except ssl.SSLCertVerificationError as exc:
            raise Untrusted(f"its TLS certificate is not trusted ({exc.verify_message})") from exc
        except TimeoutError as exc:  # a deadline already past too: nothing left
            raise NeverSent("could not connect to BSG in time") from exc
        except OSError as exc:
            raise NeverSent("could not connect to BSG") from exc
        self._sock = sock
        if _poll is not None:
            self._poll = _poll()
            self._poll.register(sock, select.POLLIN)
        return sock

    def _readable(self, sock: socket.socket) -> bool:
        """Has the idle socket anything to read: an end (or bytes no request asked for)?"""
        if self._poll is None:
            return bool(wait_for_read(sock, timeout=0))
        return bool(self._poll.poll(0))

    def close(self) -> None:
        self._poll = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
