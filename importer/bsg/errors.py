"""How a call to BSG fails: one tree, raised inside the call layer and nowhere else.

    Exception
    ├── Transient            worth retrying: 5xx, a timeout, a dropped connection, a garbled
    │   │                    answer (``outcome_unknown``: the request may have been carried out)
    │   ├── NeverSent        the request certainly never reached the service
    │   ├── MaybeSent        it left, and its answer never came whole
    │   │   └── Oversized    the answer was larger than any the API gives
    │   └── Throttled        429, or a refusal that rises with the rate (``retry_after``)
    ├── Rejected             BSG refused the request as it stands (422, other 4xx): never
    │                        retried unchanged
    ├── Fatal                no retry gets past it; the session stops the run
    │   ├── KeyRefused       the login refused the key
    │   ├── Redirected       a 3xx: the API root names something else (a web site, a proxy)
    │   └── Untrusted        the server's TLS certificate is not trusted
    ├── Stopped              the run is stopping (Ctrl-C, SIGTERM): leave the row as it is
    ├── GaveUp               BSG has not answered well for longer than the run's patience
    └── CallFailed           what a call under the retry policy ends in, for a row's ``error``
                             cell (``refused``, ``stopped``, or never answered well enough)

A foreign exception (``OSError``, ``ssl.SSLError``, httptools' parser errors) is translated
once, where it enters: in :mod:`importer.bsg.wire`. Only the session
(:mod:`importer.bsg.calls`) turns these into the tool's fatal errors
(:mod:`importer.errors`), with their exit codes.
"""

from __future__ import annotations


class Transient(Exception):
    """A failure worth retrying. ``outcome_unknown``: the request may have been carried out
    even so (it left, and no answer said what became of it)."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, outcome_unknown: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown


class NeverSent(Transient):
    """The request certainly never reached the service (the connection could not be made)."""


class MaybeSent(Transient):
    """The request left, and its answer never came whole (timeout, dropped, cut short)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, outcome_unknown=True)


class Oversized(MaybeSent):
    """The answer was larger than the wire takes (``MAX_ANSWER_BYTES``): it was cut off."""


class Throttled(Transient):
    """Too many requests: a 429, or a 5xx that a limiter sent; ``retry_after`` when said."""


class Rejected(Exception):
    """BSG refused the request as it stands (422 and other 4xx): never retried unchanged."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Fatal(Exception):
    """A failure no retry can get past: the session stops the run and reports it."""


class KeyRefused(Fatal):
    """The login refused the API key."""


class Redirected(Fatal):
    """BSG answered with a redirect: the API root is not the API (its message says where to)."""


class Untrusted(Fatal):
    """The server's TLS certificate failed verification."""


class Stopped(Exception):
    """The run is stopping (Ctrl-C): leave the row as it is for the next run.

    ``maybe_sent``: the request had left, and its answer did not come in time.
    """

    def __init__(self, *, maybe_sent: bool = False) -> None:
        super().__init__()
        self.maybe_sent = maybe_sent


class GaveUp(Exception):
    """BSG has not answered for longer than the run's patience."""


#: A row the run gave up on before it was sent, in its ``error`` cell.
NOT_SENT = (
    "not sent: BSG did not answer for longer than the run's patience (--patience); "
    "run the same command again to send it"
)


class CallFailed(Exception):
    """A call that did not succeed under the policy; ``reason`` in words for a results cell.

    ``refused``: BSG answered and refused (``status``, its ``message``); ``stopped``: the
    run is stopping; otherwise BSG never answered well enough.
    """

    def __init__(
        self,
        reason: str,
        *,
        message: str = "",
        status: int | None = None,
        stopped: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status
        self.stopped = stopped

    @property
    def refused(self) -> bool:
        return self.status is not None
