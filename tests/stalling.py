"""A server of the tests' own in front of the sandbox, over real TCP, whose answers are
what a test chooses per request: passed on, never sent, sent a byte a second, 50 MB, or
a redirect. The sandbox behind it carries out what reaches it, so a test can count what
was created.

    def how(method: str, path: str) -> How:
        return "hold" if path == "/api/contacts" else "pass"

    with Stalling(server.url, how) as bsg:
        ...  # bsg.url is the API root to give the command
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlsplit

#: pass: the sandbox's answer; hold: the request reaches the sandbox, its answer never comes;
#: hold-unsent: the request goes nowhere, and no answer; trickle: the sandbox's answer a
#: byte a second; huge: a 200 whose body is 50 MB; endless: a 200 with neither a length nor
#: chunks, whose body runs until the client hangs up; redirect: a 302 to another host.
How = Literal["pass", "hold", "hold-unsent", "trickle", "huge", "endless", "redirect"]
HUGE_BYTES = 50 << 20
REDIRECT_TO = "https://login.example.org/api/auth/login"


class Stalling:
    """A threaded TCP server on loopback; ``how(method, path)`` decides each answer."""

    def __init__(self, upstream: str, how: Callable[[str, str], How]) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.how = how  # may be changed while serving
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.seen: Counter[tuple[str, str]] = Counter()
        self.huge_sent = 0  # bytes of huge bodies that left

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> Stalling:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._closing.set()
        self._listener.close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._connections.add(connection)
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        reader = connection.makefile("rb")
        try:
            while not self._closing.is_set() and self._answer(connection, reader):
                pass
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections.discard(connection)
            with contextlib.suppress(OSError):
                reader.close()
                connection.close()

    def _answer(self, connection: socket.socket, reader: Any) -> bool:
        """Read one request and answer it as told; False once the connection is done."""
        line = reader.readline()
        if not line:
            return False
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := reader.readline().decode("latin-1").strip()) != "":
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers.get("content-length") or 0))
        path = target.partition("?")[0]
        with self._lock:
            self.seen[method, path] += 1
        how = self.how(method, path)
        if how == "hold-unsent":
            return self._hold(connection)
        if how in ("huge", "endless"):
            return self._huge(connection, endless=how == "endless")
        if how == "redirect":
            connection.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: " + REDIRECT_TO.encode() +
                b"\r\nContent-Length: 0\r\n\r\n"
            )  # fmt: skip
            return True
        answer = self._forwarded(method, target, headers, body)
        if how == "hold":
            return self._hold(connection)
        if how == "trickle":
            for byte in answer:
                connection.sendall(bytes([byte]))
                if self._closing.wait(1.0):
                    return False
            return True
        connection.sendall(answer)
        return True

    def _forwarded(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
        """The sandbox's answer to this request, as bytes to send on."""
        upstream = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            passed = {k: v for k, v in headers.items() if k not in ("host", "connection")}
            upstream.request(method, target, body=body or None, headers=passed)
            reply = upstream.getresponse()
            payload = reply.read()
        finally:
            upstream.close()
        lines = [f"HTTP/1.1 {reply.status} {reply.reason}"]
        dropped = ("content-length", "connection", "transfer-encoding")
        lines += [f"{k}: {v}" for k, v in reply.getheaders() if k.lower() not in dropped]
        lines.append(f"Content-Length: {len(payload)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload

    def _hold(self, connection: socket.socket) -> bool:
        """Say nothing until the client closes the connection or the server stops."""
        while not self._closing.is_set():
            readable, _, _ = select.select([connection], [], [], 0.2)
            if readable and not connection.recv(65536):
                return False
        return False

    def _huge(self, connection: socket.socket, *, endless: bool) -> bool:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json"
        head += "\r\nConnection: close" if endless else f"\r\nContent-Length: {HUGE_BYTES}"
        connection.sendall(head.encode() + b"\r\n\r\n")
        block = b'{"data": "' + b"x" * (1 << 20)
        left = HUGE_BYTES
        while (endless or left > 0) and not self._closing.is_set():
            piece = block if endless else block[: min(len(block), left)]
            connection.sendall(piece)
            with self._lock:
                self.huge_sent += len(piece)
            left -= len(piece)
        return False
