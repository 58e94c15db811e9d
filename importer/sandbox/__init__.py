"""A sandbox of the BSG One-API: the same routes and answers, with the faults a real service has.

sandbox = Sandbox(Faults(error_rate=0.05))
client = httpx.Client(transport=sandbox.transport(), base_url="http://sandbox.invalid")
with serve(sandbox, port=8080) as server: ...   # a real HTTP server on loopback
"""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from .app import SandboxApp
from .faults import DropConnection, Faults
from .hlr import HlrModel
from .server import SandboxServer, serve
from .state import Account

__all__ = ["DropConnection", "Faults", "HlrModel", "Sandbox", "SandboxServer", "serve"]


class Sandbox:
    """One sandbox account and the app that serves it."""

    def __init__(
        self,
        faults: Faults | None = None,
        *,
        keys: dict[str, str] | None = None,
        verified_phones: Iterable[int] = (),
        hlr: HlrModel | None = None,
    ) -> None:
        self.account = Account()
        self.account.hlr = hlr or HlrModel()
        if keys:
            self.account.keys.update(keys)
        self.account.verified.update(verified_phones)
        self.app = SandboxApp(self.account, faults or Faults())

    @property
    def faults(self) -> Faults:
        """The faults in force; assign to change them while serving."""
        return self.app.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self.app.faults = faults

    def transport(self) -> httpx.BaseTransport:
        """An in-process transport to this sandbox, safe to share between threads."""
        return _InProcess(self.app)


class _InProcess(httpx.BaseTransport):
    """httpx's WSGI transport, with the sandbox's dropped connections as httpx's own errors."""

    def __init__(self, app: SandboxApp) -> None:
        self._wsgi = httpx.WSGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._wsgi.handle_request(request)
        except DropConnection:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
