"""The run's session with BSG: ``connect`` logs in under the run's settings and returns the
``Calls`` every stage calls through (the client, the retry policy, the pace, the stop);
``session`` is the same for a job that starts from a results workbook (undo, hlr-refresh).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ..bsg.calls import Calls
from ..bsg.client import BsgClient
from ..bsg.pace import MAX_IN_FLIGHT, RatePacer
from ..bsg.retry import Health, RetryPolicy
from ..bsg.trace import PaceTrace
from ..errors import Interrupted, UsageError
from ..settings import Account, Settings
from .control import RunControl

#: At the start a service that can't be reached at all is reported soon (exit 3).
LOGIN_PATIENCE_S = 30.0
#: The built-in sandbox (--sandbox) finishes its HLR checks this soon: a demo doesn't wait long.
IN_PROCESS_HLR_DELAY_S = 1.0


def connect(
    settings: Account, control: RunControl, transport: httpx.BaseTransport | None
) -> Calls | None:
    """Calls to BSG, logged in, under the run's policy; None for a dry run without a key
    (an import's settings: a dry run may check the file alone)."""
    key = settings.key
    if key is None:
        if isinstance(settings, Settings) and settings.dry_run:
            return None
        raise UsageError("no API key: set BSG_API_KEY (or use --sandbox to try the tool)")
    if transport is None and settings.sandbox:
        from ..sandbox import HlrModel, Sandbox

        transport = Sandbox(hlr=HlrModel(delay=IN_PROCESS_HLR_DELAY_S)).transport()
    pacer = RatePacer(
        settings.rate, concurrency=settings.concurrency, sleep=control.sleep, on_wait=control.paused
    )
    client = BsgClient(
        settings.api_root,
        key,
        transport=transport,
        timeout=settings.timeout,
        pacer=pacer if settings.trace_pace is None else PaceTrace(pacer, settings.trace_pace),
        stop=control.stop,
    )
    try:
        patience = Health(min(settings.patience, LOGIN_PATIENCE_S))
        first = Calls(client, RetryPolicy(max_attempts=3), patience, control.stop)
        first.needed(f"reach BSG at {settings.api_root}", client.login)
    except BaseException:
        client.close()
        raise
    policy = RetryPolicy(max_attempts=settings.max_attempts)
    health = Health(settings.patience)
    return Calls(client, policy, health, control.stop, concurrency=sending_threads(settings))


def sending_threads(settings: Account) -> int:
    """Threads that send: ``--concurrency``, or as many as the controller may keep in flight."""
    return settings.concurrency or MAX_IN_FLIGHT


@contextmanager
def session(
    settings: Account, control: RunControl | None, transport: httpx.BaseTransport | None
) -> Iterator[Calls]:
    """A logged-in session under the run's policy; Interrupted once a stop was asked for."""
    control = control or RunControl(threading.Event())
    calls = connect(settings, control, transport)
    assert calls is not None  # settings without a key and without dry_run raise in connect
    try:
        yield calls
    finally:
        calls.client.close()
    if calls.halted is not None:  # the key refused at a login during the run
        raise calls.halted
    if control.stop.is_set():
        raise Interrupted("interrupted")
