"""The retry policy on its own: what is retried, how long it waits, when a row gives up."""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest

from importer.bsg.errors import GaveUp, Rejected, Throttled, Transient
from importer.bsg.retry import Health, RetryPolicy


class Clock:
    """Virtual time: the policy's sleeps move it on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def failing(errors: list[Exception], calls: list[int]) -> Callable[[], str]:
    def attempt() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return attempt


def test_a_refusal_is_never_retried() -> None:
    clock = Clock()
    calls: list[int] = []
    policy = RetryPolicy(sleep=clock.sleep)
    with pytest.raises(Rejected):
        policy.call(Health(300, clock), failing([Rejected("Invalid phone")], calls))
    assert calls == [1] and clock.slept == []


def test_transient_failures_back_off_exponentially_with_jitter() -> None:
    clock = Clock()
    calls: list[int] = []
    policy = RetryPolicy(sleep=clock.sleep, initial_delay=0.5)
    errors: list[Exception] = [Transient("502")] * 4
    assert policy.call(Health(300, clock), failing(errors, calls)) == "ok"
    assert len(calls) == 5
    for n, waited in enumerate(clock.slept):
        ceiling = 0.5 * 2**n
        assert ceiling / 2 <= waited <= ceiling


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    clock = Clock()
    calls: list[int] = []
    policy = RetryPolicy(sleep=clock.sleep)
    errors: list[Exception] = [Throttled("429", retry_after=7.0)]
    assert policy.call(Health(300, clock), failing(errors, calls)) == "ok"
    assert clock.slept == [7.0]


def test_a_row_gives_up_after_its_attempts_only_while_others_get_answers() -> None:
    clock = Clock()
    health = Health(300, clock)
    policy = RetryPolicy(max_attempts=3, sleep=clock.sleep)
    calls: list[int] = []

    def others_succeed() -> str:
        calls.append(1)
        health.success()  # meanwhile, other rows got answers
        raise Transient("500")

    with pytest.raises(Transient):
        policy.call(health, others_succeed)
    assert len(calls) == 3


def test_when_nothing_gets_through_the_row_waits_for_patience_then_gives_up() -> None:
    clock = Clock()
    health = Health(60, clock)
    policy = RetryPolicy(max_attempts=3, sleep=clock.sleep)
    calls: list[int] = []

    def down() -> str:
        calls.append(1)
        raise Transient("connection refused")

    with pytest.raises(GaveUp, match="did not answer for"):
        policy.call(health, down)
    assert len(calls) > 3 and clock.now >= 60


def test_429s_do_not_use_up_a_rows_attempts() -> None:
    clock = Clock()
    health = Health(300, clock)
    policy = RetryPolicy(max_attempts=3, sleep=clock.sleep)
    calls: list[int] = []
    errors: list[Exception] = [Throttled("429", retry_after=0.0)] * 5 + [Transient("500")] * 2

    def others_succeed() -> str:
        health.success()
        return failing(errors, calls)()

    assert policy.call(health, others_succeed) == "ok"
    assert len(calls) == 8


def test_a_call_that_succeeds_at_once_leaves_no_garbage_cycles() -> None:
    """Cycles live until the collector runs; one per call, at a thousand calls a second,
    kept the client's collector busy for a tenth of its CPU."""
    clock = Clock()
    policy = RetryPolicy(sleep=clock.sleep)
    health = Health(300, clock)
    gc.collect()
    gc.disable()
    try:
        for _ in range(100):
            policy.call(health, failing([], []))
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_once_patience_is_spent_a_row_is_not_tried_at_all() -> None:
    clock = Clock()
    health = Health(10, clock, hold_s=30)
    health.failure(started=clock.now)  # an attempt that got no answer
    clock.now += 31
    calls: list[int] = []
    with pytest.raises(GaveUp, match=r"^not sent: "):
        RetryPolicy(sleep=clock.sleep).call(health, failing([], calls))
    assert calls == []


def test_no_wait_between_attempts_goes_past_patience() -> None:
    clock = Clock()
    health = Health(5, clock)
    policy = RetryPolicy(max_attempts=100, initial_delay=4.0, max_delay=30.0, sleep=clock.sleep)
    with pytest.raises(GaveUp, match="did not answer for 5 s"):
        policy.call(health, failing([Transient("503")] * 100, []))
    assert clock.now == 5


def test_time_without_calls_is_no_outage() -> None:
    """A run paused for a window's reset, or waiting between HLR checks, then calls again:
    the call is made, and a failure then is retried for the whole patience."""
    clock = Clock()
    health = Health(10, clock, hold_s=30)
    clock.now += 3600
    calls: list[int] = []
    policy = RetryPolicy(sleep=clock.sleep)
    assert policy.call(health, failing([Transient("503")] * 3, calls)) == "ok"
    assert len(calls) == 4 and not health.exhausted
