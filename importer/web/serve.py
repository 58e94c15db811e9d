"""The page's HTTP server, its password, and the sandbox beside it for ``serve --sandbox``."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from ..bsg.client import is_loopback
from ..errors import UsageError

PASSWORD_VARIABLE = "BSG_WEB_PASSWORD"


class _QuietHandler(WSGIRequestHandler):
    """No line per request: the server's own log stays free of what users send."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def password_for(
    host: str, password_file: Path | None, environment: Mapping[str, str]
) -> str | None:
    """The page's password: from a file or the environment, required off loopback."""
    password = environment.get(PASSWORD_VARIABLE) or None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise UsageError(f"--password-file {password_file}: {exc.strerror}") from exc
    if password is None and not is_loopback(host):
        raise UsageError(
            f"serving on {host} lets other machines in: give a password in "
            f"{PASSWORD_VARIABLE} or --password-file (never as a flag)"
        )
    return password


@contextmanager
def serving(app: Flask, host: str, port: int) -> Iterator[BaseWSGIServer]:
    """Serve ``app`` in a thread until the block ends."""
    try:
        server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    except OSError as exc:
        raise UsageError(f"can't listen on {host}:{port}: {exc.strerror}") from exc
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def url_of(server: BaseWSGIServer) -> str:
    host = server.host if ":" not in server.host else f"[{server.host}]"
    return f"http://{host}:{server.port}"


@contextmanager
def sandbox_service() -> Iterator[dict[str, object]]:
    """The built-in sandbox as a real server on loopback, as the service settings to use.

    One sandbox for the server's life, so that History, resume and undo see what was
    imported (``--sandbox`` on the command starts an empty one every run).
    """
    from ..sandbox import Sandbox, serve
    from ..settings import SANDBOX_API_KEY

    with serve(Sandbox(), "127.0.0.1", 0) as server:
        yield {"base_url": server.url, "api_key": SANDBOX_API_KEY}
