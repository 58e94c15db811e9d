"""The faults a real service has, decided in one place for every request.

HTTP-level faults (latency, 5xx, 429, garbled answers) are answers of the app.
Connection-level faults raise DropConnection from the app; the in-process
transport turns that into httpx's own error, and the real server really drops
the socket.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, fields
from typing import Any

from .limits import ADMITTED, Admission, FixedWindow, InFlight, SlidingWindow, TokenBucket


class DropConnection(Exception):
    """Close the connection without answering; ``committed`` says whether the work was done."""

    def __init__(self, committed: bool) -> None:
        super().__init__("connection dropped by the sandbox")
        self.committed = committed


@dataclass
class Faults:
    """Switchable faults; all off by default. Rates are probabilities per API request."""

    latency: float = 0.0
    error_rate: float = 0.0
    forbidden_rate: float = 0.0
    throttle_rate: float = 0.0
    retry_after: str = "1"
    commit_then_fail_rate: float = 0.0
    drop_rate: float = 0.0
    drop_before_rate: float = 0.0
    malformed_rate: float = 0.0
    token_expiry_every: int = 0
    token_ttl: float = 3600.0
    rate_cap: float = 0.0
    sliding_limit: int = 0
    window_limit: int = 0
    window_seconds: float = 60.0
    max_in_flight: int = 0
    duplicate_window: float = 0.0
    #: Each answer's latency varies by this share of it, uniformly (a jittery link).
    jitter: float = 0.0
    #: How the rate limiters refuse: "" (each its own way), "bsg" (429, BSG's duplicate-
    #: request message), "framework" (429 "Too Many Attempts."), "empty" (429, no body),
    #: "503" (nginx's limit_req: an HTML page, no Retry-After).
    limit_refusal: str = ""
    #: Their Retry-After: "" (whole seconds rounded up), "exact", "none", "date".
    limit_retry_after: str = ""
    #: A fixed window's X-RateLimit-* headers: "" (exact), "none", "early" (the reset up to a
    #: second early, as whole seconds of an unsynchronised clock put it).
    limit_headers: str = ""
    #: The token bucket's or sliding window's limit over time: "0:200,8:50,16:200" (seconds
    #: since the sandbox started: limit).
    limit_schedule: str = ""
    #: Only this endpoint meets the faults above ("POST /api/contacts/fields", or a path for
    #: every method); empty: every endpoint but the login.
    fault_endpoint: str = ""
    seed: int | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Faults:
        """Faults from JSON; unknown names are refused."""
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown faults: {', '.join(sorted(unknown))}")
        faults = cls(**values)
        faults.retry_after = str(faults.retry_after)
        return faults

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def names(self, method: str, path: str, *, default: bool) -> bool:
        """Whether a request to this endpoint meets faults (``default`` when none is named)."""
        if not self.fault_endpoint:
            return default
        return self.fault_endpoint.strip() in (path, f"{method} {path}")


@dataclass(frozen=True)
class Decision:
    """What happens to one request."""

    before: str | None = None  # "error", "forbidden", "throttle", "drop", "limit", "duplicate"
    after: str | None = None  # "commit-then-fail", "drop", "malformed"
    admission: Admission = ADMITTED  # a rate limiter's verdict and headers


class FaultPlan:
    """Decides, for each API request, which fault (if any) it meets."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)
        self._lock = threading.Lock()
        self._limiters = _limiters(faults)
        self.in_flight = InFlight(faults.max_in_flight) if faults.max_in_flight > 0 else None
        self._recent: OrderedDict[tuple[Any, ...], float] = OrderedDict()
        self._schedule = _schedule(faults.limit_schedule)
        self._started = time.monotonic()

    def latency(self) -> float:
        """This answer's latency: ``latency``, varied by ``jitter``."""
        jitter = self.faults.jitter
        if not jitter:
            return self.faults.latency
        with self._lock:
            return self.faults.latency * (1 + self._random.uniform(-jitter, jitter))

    def _follow_schedule(self) -> None:
        elapsed = time.monotonic() - self._started
        limit = next(v for t, v in reversed(self._schedule) if elapsed >= t)
        for limiter in self._limiters:
            if isinstance(limiter, TokenBucket):
                limiter.rate = limit
            elif isinstance(limiter, SlidingWindow):
                limiter.limit = int(limit)

    def decide(self, signature: tuple[Any, ...]) -> Decision:
        """The fate of a request; ``signature`` identifies identical requests."""
        with self._lock:
            admission = self._admission()
            if admission.refused:
                return Decision(before="limit", admission=admission)
            if self._repeated(signature):
                return Decision(before="duplicate")
            before = self._pick(
                ("error", self.faults.error_rate),
                ("forbidden", self.faults.forbidden_rate),
                ("throttle", self.faults.throttle_rate),
                ("drop", self.faults.drop_before_rate),
            )
            if before:
                return Decision(before=before, admission=admission)
            after = self._pick(
                ("commit-then-fail", self.faults.commit_then_fail_rate),
                ("drop", self.faults.drop_rate),
                ("malformed", self.faults.malformed_rate),
            )
            return Decision(after=after, admission=admission)

    def enter(self) -> Admission:
        """Count a request in flight (``leave()`` when answered), or refuse it."""
        return self.in_flight.enter() if self.in_flight else ADMITTED

    def leave(self) -> None:
        if self.in_flight:
            self.in_flight.leave()

    def choice(self, options: list[str]) -> str:
        with self._lock:
            return self._random.choice(options)

    def _pick(self, *chances: tuple[str, float]) -> str | None:
        roll = self._random.random()
        for name, chance in chances:
            if roll < chance:
                return name
            roll -= chance
        return None

    def _admission(self) -> Admission:
        """The first refusal of the rate limiters in force, or the headers they add."""
        headers: dict[str, str] = {}
        if self._schedule:
            self._follow_schedule()
        for limiter in self._limiters:
            clock = time.time() if isinstance(limiter, FixedWindow) else time.monotonic()
            admission = limiter.admit(clock)
            if admission.refused:
                return admission
            headers.update(admission.headers)
        return Admission(headers=headers) if headers else ADMITTED

    def _repeated(self, signature: tuple[Any, ...]) -> bool:
        window = self.faults.duplicate_window
        if window <= 0:
            return False
        now = time.monotonic()
        while self._recent and next(iter(self._recent.values())) < now - window:
            self._recent.popitem(last=False)
        seen = signature in self._recent
        self._recent[signature] = now
        self._recent.move_to_end(signature)
        return seen


def _schedule(text: str) -> list[tuple[float, float]]:
    """ "0:200,8:50" as [(0.0, 200.0), (8.0, 50.0)]."""
    if not text.strip():
        return []
    steps = sorted((float(t), float(v)) for t, v in (p.split(":") for p in text.split(",")))
    return steps if steps[0][0] == 0 else [(0.0, steps[0][1]), *steps]


def _limiters(faults: Faults) -> list[TokenBucket | SlidingWindow | FixedWindow]:
    limiters: list[TokenBucket | SlidingWindow | FixedWindow] = []
    if faults.rate_cap > 0:
        limiters.append(TokenBucket(faults.rate_cap, time.monotonic()))
    if faults.sliding_limit > 0:
        limiters.append(SlidingWindow(faults.sliding_limit))
    if faults.window_limit > 0:
        limiters.append(FixedWindow(faults.window_limit, faults.window_seconds))
    return limiters
