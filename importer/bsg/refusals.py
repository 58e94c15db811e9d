"""Rules 3 and 4 of the controller (pace.py): when do refusals say the rate is too high?

The share of refusals in the last second, among answers to requests sent since the last
cut settled, is weighed against the *background*, what random faults refuse whatever the
rate. The background is learnt twice over: from the first cut, judged (samples.Series),
and from the run's own 2 s blocks of refusals that caused no cut (samples.Background); the
higher of the two counts (unless a block, or the blocks pooled, show fewer than the
judgement beyond chance: it took a window's memory, or a limit's first refusals, for
random faults), and as a sample: how far a share must rise
above it allows for the chance error of both. Until the first cut is judged, no background
is known: only a share that rose as the rate grew (the last round's above the share before
it) cuts.
"""

from __future__ import annotations

import math

from .samples import (
    MIN_REFUSED,
    MOST_NOISE,
    Background,
    Series,
    Share,
    above_background,
    rises,
    surely_above,
    surely_below,
)

#: A cut needs MIN_REFUSED refusals among at least this many answers.
MIN_ANSWERS = 20
#: What was refused while slow start grew is counted over this long.
GREW_S = 5.0


class Refusals:
    """The answers counted towards a cut, and the background they are weighed against."""

    def __init__(self) -> None:
        self._older = Background()
        self._recent = Share(older=self._older)
        self._grew = Share(span=GREW_S)  # never voided: what slow start saw
        self.judged: float | None = None  # the first cut's background, once judged
        self.judged_from = 0  # ... on so many answers

    @property
    def background(self) -> float:
        return self._background()[0]

    def _background(self) -> tuple[float, float]:
        """The background share, and how many answers it was learnt from."""
        answers, refused = self._older.counts()
        older = refused / answers if answers else 0.0
        judged = self.judged
        if judged is not None and judged >= older and not self._fewer(judged, answers, refused):
            return judged, self.judged_from
        return older, answers

    def _fewer(self, judged: float, answers: int, refused: int) -> bool:
        """Does the least block, or all of them pooled, show fewer refused than the
        judgement beyond chance? (One block holds too few answers at a low rate.)"""
        pooled = self._older.pooled()
        return surely_below(judged, answers, refused) or surely_below(judged, *pooled)

    def count(self, now: float, refused: bool) -> None:
        self._recent.add(now, refused)
        self._grew.add(now, refused)

    def counts(self) -> tuple[int, int]:
        """(answers, refused) in the last second, since the last cut settled."""
        return self._recent.counts()

    def too_many(self, now: float, round_s: float, series: Series | None, *,
                 slow_start: bool) -> float | None:  # fmt: skip
        """The share refused, when it shows the rate too high (else None). While a cut is
        judged (``series``), only a share that rises above the one before it does."""
        answers, refused = self._recent.counts()
        if refused < MIN_REFUSED or answers < MIN_ANSWERS:
            return None
        if surely_above(MOST_NOISE, answers, refused):
            above = True  # more than random faults refuse
        elif series is not None:
            above = series.rising(answers, refused)
        elif slow_start:
            above = self._rose(now, round_s, answers, refused) or (
                self.judged is not None and self._above(answers, refused)
            )
        else:
            above = self._above(answers, refused)
        return refused / answers if above else None

    def _rose(self, now: float, round_s: float, answers: int, refused: int) -> bool:
        """Did the share rise as the rate grew: the last round's above the one before it? A
        share that stays as the rate grows is random faults', not a limit's."""
        last = self._recent.counts(since=now - round_s)
        older = self._older.counts()
        before = (answers - last[0] + older[0], refused - last[1] + older[1])
        return last[1] >= MIN_REFUSED and rises(before, last)

    def grew(self, now: float, round_s: float) -> tuple[int, int]:
        """(answers, refused) over the last GREW_S but the last round: in slow start, what
        was refused while the rate grew, before the refusals that cut it."""
        (answers, refused), last = self._grew.counts(), self._grew.counts(now - round_s)
        return answers - last[0], refused - last[1]

    def _above(self, answers: int, refused: int) -> bool:
        share, learnt_from = self._background()
        return above_background(share, answers, refused, max(1, learnt_from))

    def through(self, now: float) -> float:
        """Good answers a second since the last cut settled (inf over less than 0.25 s)."""
        answers, refused = self._recent.counts()
        since = self._recent.span(now)
        return (answers - refused) / since if since >= 0.25 else math.inf

    def cut(self) -> None:
        """A cut came: its refusals were the rate's, not the background's."""
        self._older.forget_last()

    def void(self) -> None:
        """Answers from before a change of rate count towards no cut."""
        self._recent.clear()
