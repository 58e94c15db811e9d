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
(connect, first byte and last byte together) and a size it may not pass, and a run that is
stopping stops waiting for one within ``POLL_S``.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httptools
import httpx
from urllib3.util import wait_for_read

from .errors import MaybeSent, NeverSent, Stopped, Untrusted

#: No answer of the API is near this big (a page of 500 contacts is ~0.5 MB).
MAX_ANSWER_BYTES = 16 << 20
#: While waiting for an answer, a stopping run is noticed this often.
POLL_S = 0.25


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

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> Reply:
        """One request and its whole answer, within ``timeout`` seconds in all."""
        deadline = time.monotonic() + self._timeout
        request = self._request(method, target, headers, body)
        sock = self._connected(deadline)
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(request)
            answer = _Answer.read(sock, deadline, self._stop)
        except TimeoutError as exc:
            self.close()
            raise MaybeSent("BSG did not answer in time") from exc
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

    def _connected(self, deadline: float) -> socket.socket:
        """The kept-alive socket, or a new one when the service closed it meanwhile (it
        would fail a request that may then have been sent or not)."""
        sock = self._sock
        if sock is not None and not wait_for_read(sock, timeout=0):
            return sock
        self.close()
        try:
            sock = socket.create_connection((self._host, self._port), _left(deadline))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._host)
        except ssl.SSLCertVerificationError as exc:
            raise Untrusted(f"its TLS certificate is not trusted ({exc.verify_message})") from exc
        except TimeoutError as exc:
            raise NeverSent("could not connect to BSG in time") from exc
        except OSError as exc:
            raise NeverSent("could not connect to BSG") from exc
        self._sock = sock
        return sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _left(deadline: float) -> float:
    """Seconds left before ``deadline``; TimeoutError when none are."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("no whole answer in time")
    return left


def _received(sock: socket.socket, deadline: float, stop: threading.Event) -> bytes:
    """The next bytes of an answer, waiting in short steps so that a stop is seen soon."""
    while True:
        if stop.is_set():
            raise Stopped
        sock.settimeout(min(POLL_S, _left(deadline)))
        try:
            return sock.recv(16384)  # answers are small; each call allocates this much
        except TimeoutError:
            continue


class _Answer:
    """One answer, fed to httptools as it arrives (its callbacks fill this in)."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.headed = self.complete = False
        self.status = 0
        self.keep_alive = False
        self.parser: Any = None  # httptools.HttpResponseParser, which calls back on_*

    @classmethod
    def read(cls, sock: socket.socket, deadline: float, stop: threading.Event) -> _Answer:
        """Read one whole answer by ``deadline``: TimeoutError past it, an OSError when the
        connection ends before it does or it grows past MAX_ANSWER_BYTES, Stopped when the
        run stops meanwhile."""
        answer = cls()
        answer.parser = httptools.HttpResponseParser(answer)
        size = 0
        while not answer.complete:
            data = _received(sock, deadline, stop)
            size += len(data)
            if size > MAX_ANSWER_BYTES:
                raise ConnectionError(f"the answer is larger than {MAX_ANSWER_BYTES >> 20} MB")
            if not data and answer.ends_with_connection():
                break
            if not data:
                raise ConnectionError("the connection closed before the whole answer came")
            answer.parser.feed_data(data)
        return answer

    def ends_with_connection(self) -> bool:
        """An answer with neither a length nor chunks: its body runs to the connection's end."""
        names = {name.lower() for name, _ in self.fields}
        return self.headed and not names & {"content-length", "transfer-encoding"}

    @property
    def content(self) -> bytes:
        return b"".join(self.chunks)

    def on_headers_complete(self) -> None:
        self.headed = True
        self.status = self.parser.get_status_code()

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # only known until the next one
