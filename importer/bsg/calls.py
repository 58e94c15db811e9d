"""Calling BSG under the retry policy: the one way every stage and command calls it.

``Calls`` holds the client, the policy, what the run knows of the service's health
and the stop signal. Whatever goes wrong inside (a refusal, answers that never
came, patience run out, Ctrl-C) leaves it in one of two forms:

- ``Calls.needed(what, call)``, for a call the command depends on (the login, the
  list, the fields): ``AuthError``, ``ApiError``, ``UnreachableError`` or
  ``Interrupted``, which the command turns into one line and an exit code;
- ``Calls.call(call)``, for one row's work: ``CallFailed``, whose ``reason`` goes
  into that row's ``error`` cell (or, when ``stopped``, the row is left for the
  next run). An error no call can get past (the key refused at a new login) stops
  the run and waits in ``halted`` for the command to raise once its results are written.

``Calls.create(...)`` makes a create safe to repeat: when an earlier attempt's answer
was lost after BSG acted, the retry hears "already exists", and the object is
looked up instead (by name or phone) rather than failing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from ..errors import ApiError, AuthError, BsgImportError, Interrupted, UnreachableError
from .client import BsgClient
from .errors import (
    CallFailed,
    Fatal,
    GaveUp,
    KeyRefused,
    Redirected,
    Rejected,
    Stopped,
    Transient,
    Untrusted,
)
from .retry import Health, RetryPolicy
from .wire import GIVE_UP_AT

T = TypeVar("T")
R = TypeVar("R")
#: Refusals that say the key may not do this, rather than that the request is wrong.
FORBIDDEN = (401, 403)


def fatal(failure: CallFailed, what: str) -> BsgImportError:
    """The error that stops the command; ``what`` it tried, as a verb: "load the fields"."""
    if failure.stopped:
        return Interrupted(f"interrupted while trying to {what}")
    if failure.status in FORBIDDEN:
        return AuthError(
            f"BSG refused to {what} ({failure.status}: {failure.message}): the API key may "
            "not do this; use a key of an account allowed to manage contacts, lists and fields"
        )
    if failure.refused:
        return ApiError(f"BSG refused to {what}: {failure.message}")
    return UnreachableError(f"could not {what}: {failure.reason}")


def _fatal_error(error: Fatal, root: str) -> BsgImportError:
    """A failure no call can get past, as the tool's fatal error."""
    if isinstance(error, KeyRefused):
        return AuthError(str(error))
    if isinstance(error, Redirected):
        return UnreachableError(f"{root} {error}")
    if isinstance(error, Untrusted):
        return UnreachableError(
            f"{root}: {error}; if your company inspects TLS, point SSL_CERT_FILE at its CA "
            "certificate"
        )
    return UnreachableError(str(error))


@dataclass(frozen=True)
class Made(Generic[T]):
    """What a create ended in: the object, and whether it was there already.

    ``maybe_ours``: an earlier attempt's answer was lost, so the object found may be the
    one that attempt created.
    """

    value: T
    found: bool = False
    maybe_ours: bool = False


class Calls:
    """The client, the retry policy, the service's health and the stop signal, as one:
    the run's session with BSG. ``concurrency``: how many calls ``each`` makes at once."""

    def __init__(
        self,
        client: BsgClient,
        policy: RetryPolicy,
        health: Health,
        stop: threading.Event | None = None,
        *,
        concurrency: int = 1,
    ) -> None:
        self.client = client
        self.concurrency = concurrency
        self.health = health
        health.hold_s = max(health.hold_s, client.timeout)  # each row is tried once at least
        self.stop = stop or threading.Event()
        self.policy = replace(policy, sleep=self._sleep)
        #: The error that stopped the run from inside a row's call, for the command to raise.
        self.halted: BsgImportError | None = None
        self._lock = threading.Lock()

    def _sleep(self, seconds: float) -> None:
        """The policy's wait between attempts, cut short by the stop signal."""
        if self.stop.wait(seconds):
            raise Stopped

    def call(self, attempt: Callable[[], T]) -> T:
        """``attempt()`` under the policy; CallFailed when it does not succeed. No answer
        to it is awaited past the run's patience (``GIVE_UP_AT``)."""
        patience = GIVE_UP_AT.set(self.health.give_up_at)
        try:
            return self.policy.call(self.health, self._tracked(attempt))
        except Fatal as error:  # a re-login refused the key; a certificate not trusted
            stopping = _fatal_error(error, self.client.root)
            self._halt(stopping)
            raise CallFailed(str(stopping), stopped=True) from None
        except Rejected as refused:
            message = refused.message
            words = message if refused.status == 422 else f"{message} ({refused.status})"
            raise CallFailed(words, message=message, status=refused.status) from None
        except Transient as error:
            raise CallFailed(f"{error.reason}, even after retrying") from None
        except GaveUp as error:
            raise CallFailed(str(error)) from None
        except Stopped:
            raise CallFailed("interrupted before it was done", stopped=True) from None
        finally:
            GIVE_UP_AT.reset(patience)

    def each(self, items: Iterable[T], work: Callable[[T], R]) -> Iterator[tuple[T, R]]:
        """(item, work(item)) for every item, ``concurrency`` at once, in the items' order."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            listed = list(items)
            yield from zip(listed, pool.map(work, listed), strict=True)

    def needed(self, what: str, attempt: Callable[[], T]) -> T:
        """A call the command depends on: its failure stops the command (see ``fatal``)."""
        if self.stop.is_set():  # stopped before the command got this far (reading the file)
            raise Interrupted(f"interrupted before trying to {what}")
        try:
            return self.call(attempt)
        except CallFailed as failure:
            raise self.halted or fatal(failure, what) from None

    def _halt(self, fatal: BsgImportError) -> None:
        """Stop the run for an error no other call can get past; the command reports it."""
        with self._lock:
            self.halted = self.halted or fatal
        self.stop.set()

    def create(
        self,
        create: Callable[[], T],
        find: Callable[[], T | None],
        *,
        exists: str,
        what: str,
    ) -> Made[T]:
        """Create, or find what is there already when BSG answers ``exists``.

        A create whose answer was lost (a timeout, a dropped connection, a 5xx after
        BSG acted) may have been carried out: its retry then hears ``exists``.
        """
        uncertain = False

        def attempt() -> T:
            nonlocal uncertain
            try:
                return create()
            except Transient as error:
                uncertain = uncertain or error.outcome_unknown
                raise

        try:
            return Made(self.call(attempt))
        except CallFailed as failure:
            if not failure.refused or exists.lower() not in failure.message.lower():
                raise
        found = self.call(find)
        if found is None:
            raise CallFailed(f"BSG says {what} exists but can't find it; try again")
        return Made(found, found=True, maybe_ours=uncertain)

    def needed_create(
        self,
        create: Callable[[], T],
        find: Callable[[], T | None],
        *,
        exists: str,
        what: str,
    ) -> T:
        """``create`` for an object the command depends on (the list, a field)."""
        try:
            return self.create(create, find, exists=exists, what=what).value
        except CallFailed as failure:
            raise self.halted or fatal(failure, f"create {what}") from None

    def _tracked(self, attempt: Callable[[], T]) -> Callable[[], T]:
        """``attempt``, telling the run's health of every answer that shows BSG at work: a
        success, or a refusal of the request as it stands."""

        def tracked() -> T:
            try:
                result = attempt()
            except Rejected:
                self.health.success()
                raise
            self.health.success()
            return result

        return tracked
