"""The wire a real server is reached over: kept-alive connections, and failures told apart."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from importer.bsg.errors import GaveUp, MaybeSent, NeverSent, Oversized
from importer.bsg.reading import Deadline
from importer.bsg.wire import GIVE_UP_AT, MAX_ANSWER_BYTES, SocketWire

TLS = ssl.create_default_context()


class _Answers(BaseHTTPRequestHandler):
    """Answers every POST with its body; closes the connection afterwards when the server
    says so (without telling the client, as a server does whose keep-alive timed out)."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.server.close_after

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    """Counts the connections it accepted, and signals each one it closed."""

    def __init__(self, close_after: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Answers)
        self.close_after = close_after
        self.connections = 0
        self.closed = threading.Semaphore(0)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.release()


@contextmanager
def _server(close_after: bool) -> Iterator[tuple[str, _Server]]:
    """A real server on loopback, and its root."""
    server = _Server(close_after)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


def _post(wire: SocketWire, n: int) -> bytes:
    reply = wire.exchange("POST", "/api/contacts", {}, b'{"n": %d}' % n)
    assert reply.status_code == 201
    content_type = "application/json"
    assert reply.headers.get("content-type") == reply.headers.get("Content-Type") == content_type
    assert reply.headers.get("X-RateLimit-Remaining") is None
    return reply.content


@pytest.mark.parametrize(("closed_while_idle", "connections"), [(False, 1), (True, 3)])
def test_a_kept_alive_connection_is_replaced_only_once_the_server_closed_it(
    closed_while_idle: bool, connections: int
) -> None:
    """One connection carries every request; one the server closed while idle is replaced
    before the next request (sent on the dead socket, its fate would be unknown)."""
    with _server(close_after=closed_while_idle) as (root, server):
        wire = SocketWire(root, TLS, timeout=5)
        for n in range(3):
            assert _post(wire, n) == b'{"n": %d}' % n
            if closed_while_idle:
                assert server.closed.acquire(timeout=5)  # closed before the next request
        wire.close()
    assert server.connections == connections


def test_small_requests_are_not_held_back_by_nagle() -> None:
    """With Nagle's algorithm on, a request's last segment would wait for the server's
    delayed ACK of the one before, up to 40-200 ms a request."""
    with _server(close_after=False) as (root, _):
        wire = SocketWire(root, TLS, timeout=5)
        _post(wire, 1)
        assert wire._connected(Deadline(time.monotonic() + 5, None)).getsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY
        )
        wire.close()


def test_no_one_listening_is_a_request_never_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wire = SocketWire(f"http://127.0.0.1:{port}", TLS, timeout=5)
    with pytest.raises(NeverSent):
        _post(wire, 1)


def test_a_connection_dropped_without_an_answer_may_have_been_sent() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def drop() -> None:
            accepted, _ = listener.accept()
            accepted.recv(65536)
            accepted.close()

        dropper = threading.Thread(target=drop)
        dropper.start()
        wire = SocketWire(f"http://127.0.0.1:{listener.getsockname()[1]}", TLS, timeout=5)
        with pytest.raises(MaybeSent):
            _post(wire, 1)
        dropper.join()


@contextmanager
def _canned(answer: bytes, *, close: bool) -> Iterator[str]:
    """A server that reads one request and sends ``answer``, then closes if ``close``."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        accepted, _ = listener.accept()
        with accepted:
            accepted.recv(65536)
            accepted.sendall(answer)
            if not close:
                accepted.recv(65536)  # until the client hangs up

    server = threading.Thread(target=serve)
    server.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.join(timeout=5)
        listener.close()


@pytest.mark.parametrize(
    ("answer", "close"),
    [
        (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"4\r\n{\"n\"\r\n4\r\n: 1}\r\n0\r\n\r\n", False),
        (b"HTTP/1.0 201 Created\r\nContent-Type: application/json\r\n\r\n{\"n\": 1}", True),
    ],
    ids=["chunked", "to the connection's end"],
)  # fmt: skip
def test_an_answer_in_chunks_or_to_the_connection_s_end_is_read_whole(
    answer: bytes, close: bool
) -> None:
    with _canned(answer, close=close) as root:
        wire = SocketWire(root, TLS, timeout=5)
        reply = wire.exchange("POST", "/api/contacts", {}, b'{"n": 1}')
        assert (reply.status_code, reply.content) == (201, b'{"n": 1}')
        wire.close()


def test_an_answer_cut_short_may_have_been_sent() -> None:
    answer = b'HTTP/1.1 201 Created\r\nContent-Length: 50\r\n\r\n{"n"'
    with _canned(answer, close=True) as root:
        wire = SocketWire(root, TLS, timeout=5)
        with pytest.raises(MaybeSent):
            wire.exchange("POST", "/api/contacts", {}, b'{"n": 1}')


def test_no_answer_in_time_is_a_read_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        wire = SocketWire(f"http://127.0.0.1:{listener.getsockname()[1]}", TLS, timeout=0.2)
        with pytest.raises(MaybeSent, match="in time"):
            wire.exchange("POST", "/api/contacts", {}, b'{"n": 1}')
        wire.close()


@pytest.mark.parametrize("bearer", ["abc\r\nX-Injected: 1", "abc\rdef", "abc\ndef", "abc€"])
def test_a_header_that_would_break_the_request_is_never_sent(bearer: str) -> None:
    """A bearer is the server's text: one with a line break would add headers of its own."""
    with _server(close_after=False) as (root, server):
        wire = SocketWire(root, TLS, timeout=5)
        with pytest.raises(NeverSent):
            wire.exchange("POST", "/api/contacts", {"Authorization": bearer}, b"{}")
        wire.close()
    assert server.connections <= 1


@contextmanager
def _streaming(head: bytes, size: int) -> Iterator[str]:
    """A server that answers one request with ``head`` and up to ``size`` bytes of body,
    sent as fast as the client takes them, then waits for the client to hang up."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        accepted, _ = listener.accept()
        with accepted:
            accepted.recv(65536)
            block, left = b"x" * (1 << 20), size
            try:
                accepted.sendall(head)
                while left > 0:
                    accepted.sendall(block[:left])
                    left -= len(block)
                accepted.recv(65536)
            except OSError:
                pass  # the client hung up

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@pytest.mark.parametrize(
    ("head", "size"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (50 << 20), 1 << 20),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", 50 << 20),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n" % (50 << 20), 50 << 20),
    ],
    ids=["says 50 MB, sends 1", "50 MB to the connection's end", "one 50 MB chunk"],
)
def test_an_answer_larger_than_any_of_the_api_is_refused_in_words(head: bytes, size: int) -> None:
    """Not read to its end (a 50 MB answer took the run from 62 MB to 1.1 GB), nor waited
    for until the timeout: refused once it says or shows it is too large."""
    with _streaming(head, size) as root:
        wire = SocketWire(root, TLS, timeout=60)
        with pytest.raises(Oversized, match=f"larger than {MAX_ANSWER_BYTES >> 20} MB"):
            wire.exchange("POST", "/api/contacts", {}, b'{"n": 1}')
        wire.close()


def test_a_call_made_once_the_run_gave_up_is_never_sent() -> None:
    with _server(close_after=False) as (root, server):
        wire = SocketWire(root, TLS, timeout=5)
        given_up = GIVE_UP_AT.set(lambda: time.monotonic() - 1)
        try:
            with pytest.raises(GaveUp, match="not sent"):
                _post(wire, 1)
        finally:
            GIVE_UP_AT.reset(given_up)
        wire.close()
    assert server.connections == 0


def test_no_answer_is_awaited_past_the_moment_the_run_gives_up() -> None:
    """A timeout of an hour: the call ends at the run's give-up moment instead."""
    failures: list[BaseException] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        wire = SocketWire(f"http://127.0.0.1:{listener.getsockname()[1]}", TLS, timeout=3600)

        def call() -> None:
            soon = time.monotonic() + 0.5
            GIVE_UP_AT.set(lambda: soon)
            try:
                wire.exchange("POST", "/api/contacts", {}, b'{"n": 1}')
            except BaseException as error:  # handed to the test's thread
                failures.append(error)

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        caller.join(timeout=60)  # ends at all; it would wait an hour
        assert not caller.is_alive()
        wire.close()
    [failure] = failures
    assert isinstance(failure, MaybeSent) and "in time" in str(failure)
