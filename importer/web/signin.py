"""Who is signed in, and how often a wrong password may be tried.

Sessions live here, on the server: the cookie only carries a random session id, so
signing out (or an idle time) ends a session for every copy of the cookie.

Wrong passwords are limited two ways, both answered at once (no request sleeps, so
parallel guesses gain nothing):

- per client address: ``FREE_TRIES`` typos cost nothing; after the n-th wrong password
  beyond them the address waits 2^(n-1) seconds (up to a minute) before its next try is
  even checked (earlier tries get 429 unchecked); after
  ``LOCK_AFTER`` wrong passwords the address is locked for ``LOCK_S`` (the log says so).
- overall, for guesses spread over many addresses: past ``OVERALL_FREE`` wrong
  passwords in ``OVERALL_WINDOW_S``, the server checks at most one password every
  ``OVERALL_GAP_S`` from addresses that have not signed in before. The rightful user's
  address is never locked by someone else's guesses, and once it has signed in it is
  not slowed by them either.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

FREE_TRIES = 2
LOCK_AFTER = 10
LOCK_S = 15 * 60.0
MAX_DELAY_S = 60.0
OVERALL_WINDOW_S = 10 * 60.0
OVERALL_FREE = 30
OVERALL_GAP_S = 2.0
#: An address's count of wrong passwords is forgotten after this long without one.
FORGET_S = 60 * 60.0
IDLE_S = 30 * 60.0
#: Addresses remembered before the ones with nothing pending are forgotten.
MAX_ADDRESSES = 10_000


@dataclass
class _Address:
    failures: int = 0
    not_before: float = 0.0
    last: float = 0.0


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is not checked now, and for how long."""

    seconds: float
    locked: bool

    def message(self) -> str:
        if self.locked:
            minutes = max(1, round(self.seconds / 60))
            return (
                f"Too many wrong passwords from this computer: signing in is locked "
                f"for {minutes} minute{'s' if minutes != 1 else ''}."
            )
        seconds = max(1, round(self.seconds))
        unit = "second" if seconds == 1 else "seconds"
        return f"Too many wrong passwords: wait {seconds} {unit}, then try again."


class SignInLimits:
    """Failed sign-ins per address and overall; thread-safe."""

    def __init__(
        self, on_lock: Callable[[str], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.on_lock = on_lock  # told the address each time one is locked
        self.clock = clock
        self._lock = threading.Lock()
        self._addresses: dict[str, _Address] = {}
        self._failures: deque[float] = deque()
        self._overall_next = 0.0
        self._trusted: set[str] = set()

    def attempt(self, address: str, check: Callable[[], bool]) -> bool | Refusal:
        """``check()`` the password if ``address`` may try now: True, False, or a Refusal."""
        with self._lock:  # one decision at a time: parallel guesses queue for their turn
            now = self.clock()
            entry = self._entry(address, now)
            if now < entry.not_before:
                return Refusal(entry.not_before - now, entry.failures >= LOCK_AFTER)
            slowed = address not in self._trusted and self._overall_busy(now)
            if slowed and now < self._overall_next:
                return Refusal(self._overall_next - now, locked=False)
            if slowed:
                self._overall_next = now + OVERALL_GAP_S
            if check():
                self._addresses.pop(address, None)
                self._trusted.add(address)
                return True
            self._failed(entry, now)
        if entry.failures == LOCK_AFTER:
            self.on_lock(address)
        return False

    def _entry(self, address: str, now: float) -> _Address:
        if len(self._addresses) > MAX_ADDRESSES:  # many addresses: forget the settled ones
            self._addresses = {a: e for a, e in self._addresses.items()
                               if now < e.not_before or now - e.last <= FORGET_S}  # fmt: skip
        entry = self._addresses.get(address)
        if entry is None or (now - entry.last > FORGET_S and now >= entry.not_before):
            entry = self._addresses[address] = _Address()
        return entry

    def _failed(self, entry: _Address, now: float) -> None:
        entry.failures += 1
        entry.last = now
        if entry.failures >= LOCK_AFTER:
            entry.not_before = now + LOCK_S
        else:
            beyond = entry.failures - FREE_TRIES
            entry.not_before = now + (min(MAX_DELAY_S, 2.0 ** (beyond - 1)) if beyond > 0 else 0)
        self._failures.append(now)

    def _overall_busy(self, now: float) -> bool:
        while self._failures and now - self._failures[0] > OVERALL_WINDOW_S:
            self._failures.popleft()
        return len(self._failures) >= OVERALL_FREE


class Sessions:
    """Signed-in sessions by id, each ending on sign-out or after ``idle_s`` unused."""

    def __init__(self, idle_s: float = IDLE_S, clock: Callable[[], float] = time.monotonic):
        self.idle_s = idle_s
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, float] = {}

    def open(self) -> str:
        """A new session's id."""
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._seen[session_id] = self.clock()
        return session_id

    def alive(self, session_id: object) -> bool:
        """Whether the session is signed in; using it keeps it so for ``idle_s`` more."""
        if not isinstance(session_id, str):
            return False
        with self._lock:
            now = self.clock()
            seen = self._seen.get(session_id)
            if seen is None or now - seen > self.idle_s:
                self._seen.pop(session_id, None)
                return False
            self._seen[session_id] = now
            return True

    def close(self, session_id: object) -> None:
        with self._lock:
            if isinstance(session_id, str):
                self._seen.pop(session_id, None)
