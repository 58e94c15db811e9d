"""The wire a real server is reached over: kept-alive connections, and failures told apart."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from importer.wire import HttpClientWire

TLS = ssl.create_default_context()


class _Answers(BaseHTTPRequestHandler):
    """Answers every POST with its body; closes the connection afterwards when asked to
    (without saying so, as a server does whose keep-alive timed out)."""

    protocol_version = "HTTP/1.1"
    close_after: bool = False
    connections: int = 0

    def setup(self) -> None:
        super().setup()
        type(self).connections += 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.close_after

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def _server(close_after: bool) -> Iterator[tuple[str, type[_Answers]]]:
    """A real server on loopback: its root, and its handler class (which counts connections)."""
    handler = type("Handler", (_Answers,), {"close_after": close_after, "connections": 0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


def _post(wire: HttpClientWire, n: int) -> bytes:
    reply = wire.exchange("POST", "/api/contacts", {}, b'{"n": %d}' % n)
    assert reply.status_code == 201
    return reply.content


def test_one_connection_carries_every_request() -> None:
    with _server(close_after=False) as (root, handler):
        wire = HttpClientWire(root, TLS, timeout=5)
        assert [_post(wire, n) for n in range(3)] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
        wire.close()
    assert handler.connections == 1


def test_a_connection_closed_while_idle_is_replaced_before_the_next_request() -> None:
    """Sent on the dead socket, the request would fail with its fate unknown."""
    with _server(close_after=True) as (root, handler):
        wire = HttpClientWire(root, TLS, timeout=5)
        assert [_post(wire, n) for n in range(3)] == [b'{"n": 0}', b'{"n": 1}', b'{"n": 2}']
        wire.close()
    assert handler.connections == 3


def test_no_one_listening_is_a_request_never_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wire = HttpClientWire(f"http://127.0.0.1:{port}", TLS, timeout=5)
    with pytest.raises(httpx.ConnectError):
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
        wire = HttpClientWire(f"http://127.0.0.1:{listener.getsockname()[1]}", TLS, timeout=5)
        with pytest.raises(httpx.RemoteProtocolError):
            _post(wire, 1)
        dropper.join()
