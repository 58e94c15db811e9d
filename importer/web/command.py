"""``bsg-import serve``: the page on a port until Ctrl-C, imports stopped cleanly at the end."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path

import platformdirs

from ..bsg.client import is_loopback
from ..errors import OK
from ..settings import Layer
from .app import create_app
from .serve import password_for, sandbox_service, serving, url_of
from .state import WebConfig


def run_page(
    host: str,
    port: int,
    *,
    sandbox: bool,
    allowed_hosts: tuple[str, ...] = (),
    password_file: Path | None,
    max_upload_mb: int,
    data_dir: Path | None,
    base: Layer,
    environment: Mapping[str, str],
    say: Callable[[str], None],
    stop: Callable[[], AbstractContextManager[threading.Event]],
) -> int:
    """Serve until ``stop`` is set; 0 after a clean stop."""
    password = password_for(host, password_file, environment)
    with ExitStack() as stack:
        event = stack.enter_context(stop())  # Ctrl-C is ours before the URL is shown
        if sandbox:  # a sandbox is new every start: so are its journals and files
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bsg-page-")))
            base = {**base, **stack.enter_context(sandbox_service()),
                    "journal_dir": scratch / "journals"}  # fmt: skip
            data_dir = data_dir or scratch
        folder = data_dir or platformdirs.user_data_path("bsg-import") / "web"
        config = WebConfig(base, environment, folder, password, max_upload_mb,
                           hosts=(host, *allowed_hosts))  # fmt: skip
        app = create_app(config)
        server = stack.enter_context(serving(app, host, port))
        against = "the built-in sandbox" if sandbox else "BSG"
        say(f"bsg-import page on {url_of(server)} against {against} (Ctrl-C to stop)")
        if not is_loopback(host):
            say(
                f"Warning: served on {host} over plain HTTP: the password and the files cross "
                "the network unencrypted; put it behind a TLS proxy"
            )
        event.wait()
        state = app.extensions["bsg_import"]
        state.jobs.stop_all()
        state.forget_unused()
    return OK
