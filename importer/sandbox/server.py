"""The sandbox as a real HTTP/1.1 server on loopback, with keep-alive and real faults.

A small WSGI host on the standard library's threading HTTP server, rather than
werkzeug's development server, for two reasons: werkzeug closes every
connection after one answer (a client's keep-alive pool is never exercised),
and the sandbox must be able to drop a connection for real (the socket is shut
without an answer) and refuse connections for a while (an outage).
"""

from __future__ import annotations

import contextlib
import io
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .faults import DropConnection


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def setup(self) -> None:
        if self.server.tls is not None:  # the handshake happens here, in this connection's thread
            self.request = _handshake(self.server.tls, self.request)
        super().setup()
        # Headers and body leave in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK hold every answer back by 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)
            if isinstance(self.request, ssl.SSLSocket):
                self.request.close()  # the server closes only the plain socket it accepted

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        captured: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        try:
            chunks = self.server.app(self._environ(body), start_response)
            payload = b"".join(chunks)
        except DropConnection:
            self._drop()
            return
        code, _, reason = captured["status"].partition(" ")
        self.send_response(int(code), reason)
        for name, value in captured["headers"]:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[key] = value
        return environ

    def _drop(self) -> None:
        """Shut the connection with no answer, as a crashed proxy or a cut cable would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _handshake(tls: ssl.SSLContext, connection: socket.socket) -> ssl.SSLSocket:
    secure = tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
    try:
        secure.do_handshake()
    except (OSError, ssl.SSLError):
        secure.close()
        raise
    return secure


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], app: Any, tls: ssl.SSLContext | None) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.tls = tls
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._open.add(connection)
            else:
                self._open.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is no error of the sandbox's."""
        if not isinstance(sys.exc_info()[1], ConnectionError | OSError):
            super().handle_error(request, client_address)

    def cut_all(self) -> None:
        """Close every open connection."""
        with self._lock:
            for connection in list(self._open):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """A running sandbox server; ``url`` is where it listens."""

    def __init__(self, app: Any, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.app = app
        self.host = host
        self.tls = tls
        self._http = _HttpServer((host, port), app, tls)
        self.port = int(self._http.server_address[1])
        self._thread = self._start(self._http)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        app.on_outage = self.outage

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    def _start(self, http: _HttpServer) -> threading.Thread:
        thread = threading.Thread(target=http.serve_forever, name="bsg-sandbox", daemon=True)
        thread.start()
        return thread

    def outage(self, seconds: float) -> None:
        """Refuse connections for ``seconds``, then listen again on the same port."""
        threading.Thread(target=self._outage, args=(seconds,), daemon=True).start()

    def _outage(self, seconds: float) -> None:
        with self._lock:
            time.sleep(0.05)  # let the control request's answer leave first
            self._stop()
            if self._closing.wait(seconds):
                return
            self._http = _HttpServer((self.host, self.port), self.app, self.tls)
            self._thread = self._start(self._http)

    def _stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._http.cut_all()

    def shutdown(self) -> None:
        """Stop serving and close every connection."""
        self._closing.set()
        with self._lock:
            self._stop()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()


def serve(
    sandbox: Any, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
) -> SandboxServer:
    """Serve a Sandbox on a real socket (port 0: any free port); over TLS with ``tls``."""
    return SandboxServer(sandbox.app, host, port, tls)
