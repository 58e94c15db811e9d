"""The sandbox's own routes under /_sandbox/: its state, and switching faults, HLR checks,
verified phones, outages and a reset while it serves (tests and ``bsg-import sandbox``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from werkzeug.wrappers import Request, Response

from .faults import Faults
from .hlr import HlrModel
from .state import Account
from .wire import ApiAnswer, answer, body, refusal


class Controlled(Protocol):
    """The app the routes control (SandboxApp)."""

    account: Account
    on_outage: Callable[[float], None] | None

    @property
    def faults(self) -> Faults: ...

    @faults.setter
    def faults(self, faults: Faults) -> None: ...


def state(app: Controlled, request: Request) -> Response:
    with app.account.lock:
        return answer(200, {**app.account.snapshot(), "faults": app.faults.to_dict()})


def faults(app: Controlled, request: Request) -> Response:
    try:
        app.faults = Faults.from_dict(body(request))
    except (TypeError, ValueError, ApiAnswer) as problem:
        return refusal(422, str(problem))
    return answer(200, app.faults.to_dict())


def hlr(app: Controlled, request: Request) -> Response:
    try:
        model = HlrModel.from_dict(body(request))
    except (TypeError, ValueError, ApiAnswer) as problem:
        return refusal(422, str(problem))
    with app.account.lock:
        app.account.hlr = model
    return answer(200, model.to_dict())


def reset(app: Controlled, request: Request) -> Response:
    keys, hlr = dict(app.account.keys), app.account.hlr
    app.account.__init__()  # type: ignore[misc]
    app.account.keys, app.account.hlr = keys, hlr
    app.account.token_ttl = app.faults.token_ttl
    return answer(200, {"reset": True})


def verify(app: Controlled, request: Request) -> Response:
    phones = body(request).get("phones", [])
    with app.account.lock:
        app.account.verified.update(int(p) for p in phones)
    return answer(200, {"verified": len(phones)})


def outage(app: Controlled, request: Request) -> Response:
    seconds = float(body(request).get("seconds", 0))
    if app.on_outage is None:
        return refusal(422, "outages need the real server")
    app.on_outage(seconds)
    return answer(200, {"outage_s": seconds})


CONTROL: dict[str, Callable[[Controlled, Request], Response]] = {
    "control_state": state,
    "control_faults": faults,
    "control_reset": reset,
    "control_hlr": hlr,
    "control_verify": verify,
    "control_outage": outage,
}
