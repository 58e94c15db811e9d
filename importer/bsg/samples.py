"""What the controller (pace.py) counts: the share of refusals over the last second, the
first cut's judgement, a windowed minimum, and answers by the number in flight."""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

from .evidence import Slot

BIN_S = 0.1
#: A share of refusals is a cut's reason when above the background by this and by chance.
MARGIN = 0.01
SIGMAS = 2.5
#: A share is checked against the background at every refusal: so many checks need more.
CHECKED_SIGMAS = 3.5
#: The background is never above this: more refusals than that are a limit's.
MOST_NOISE = 0.25
MIN_REFUSED = 3
JUDGE_FROM_S = 0.5
JUDGE_AFTER_S = 1.0
#: The first cut is judged on this many answers (or what came in JUDGE_WITHIN_S).
MIN_JUDGED = 100
JUDGE_WITHIN_S = 3.5
#: Refusals that fell to this share of those that made the first cut, or fewer, were a limit's.
FELL = 0.5
#: In slow start, the last round's refusals cut when the share before it would give so
#: many this seldom (counted as PRIOR_ANSWERS answers at least).
CHANCE = 0.0001
PRIOR_ANSWERS = 20
#: The background is also the least share of refusals of the blocks over this long.
BACKGROUND_S = 10.0
BLOCK_S = 2.0
MIN_BLOCK = 50
#: An edge in flight, over the last LEVELS_S: at most this share refused at or below it;
#: above it, at least this share and this many times the share below; and a split that
#: explains the refusals this much better than one share for all (twice the log of the
#: likelihood ratio: by chance, in one test of 10,000).
EDGE_BELOW = 0.1
EDGE_ABOVE = 0.2
EDGE_RISE = 3.0
EDGE_EVIDENCE = 20.0
LEVELS_S = 2.0
#: The least round trip is over this long; their spread over the last RTT_SAMPLES.
RTT_WINDOW_S = 10.0
RTT_SAMPLES = 200


class Share:
    """Answers and refusals in bins of BIN_S over the last ``span`` seconds. Bins that age
    out pass to ``older`` when one is given: refusals that caused no cut were the
    background's."""

    def __init__(self, span: float = 1.0, older: Background | None = None) -> None:
        self._span, self._older = span, older
        self._bins: deque[list[float]] = deque()  # [start, answers, refused]

    def add(self, now: float, refused: bool) -> None:
        if not self._bins or now - self._bins[-1][0] >= BIN_S:
            self._bins.append([now, 0, 0])
            self._age(now)
        last = self._bins[-1]
        last[1] += 1
        last[2] += refused

    def _age(self, now: float) -> None:
        while now - self._bins[0][0] > self._span:
            aged = self._bins.popleft()
            if self._older is not None:
                self._older.take(aged)

    def counts(self, since: float = -math.inf) -> tuple[int, int]:
        """(answers, refused), in the bins begun ``since`` on."""
        bins = [b for b in self._bins if b[0] >= since]
        return int(sum(b[1] for b in bins)), int(sum(b[2] for b in bins))

    def span(self, now: float) -> float:
        """Seconds the bins cover."""
        return now - self._bins[0][0] if self._bins else 0.0

    def clear(self) -> None:
        self._bins.clear()


class Background:
    """Refusals that caused no cut, in blocks of BLOCK_S over the last BACKGROUND_S. The
    background is the block with the least share: a block sent at a lower rate shows what
    is refused whatever the rate, and one sent just above a limit does not raise it."""

    def __init__(self) -> None:
        self._blocks: deque[list[float]] = deque()  # [start, answers, refused]

    def take(self, aged: list[float]) -> None:
        start, answers, refused = aged
        blocks = self._blocks
        if not blocks or start - blocks[-1][0] >= BLOCK_S:
            blocks.append([start, 0, 0])
            while start - blocks[0][0] > BACKGROUND_S:
                blocks.popleft()
        blocks[-1][1] += answers
        blocks[-1][2] += refused

    def forget_last(self) -> None:
        """A cut came: the refusals of the block it ends were the rate's."""
        if self._blocks:
            self._blocks.pop()

    def counts(self) -> tuple[int, int]:
        """(answers, refused) of the block with the least share, of those with
        MIN_BLOCK answers; of all of them while none has so many."""
        full = [b for b in self._blocks if b[1] >= MIN_BLOCK]
        if not full:
            return self.pooled()
        least = min(full, key=lambda b: b[2] / b[1])
        return int(least[1]), int(least[2])

    def pooled(self) -> tuple[int, int]:
        """(answers, refused) of every block."""
        return int(sum(b[1] for b in self._blocks)), int(sum(b[2] for b in self._blocks))

    def share(self) -> float:
        answers, refused = self.counts()
        return refused / answers if answers else 0.0


class Series:
    """The first cut, judged on the requests sent from JUDGE_FROM_S after it (a window
    keeps the requests of its last second): were the refusals the rate's?"""

    def __init__(
        self,
        started: float,
        rate: float,
        before: tuple[int, int],
        depth: float,
        prior: tuple[int, int] = (0, 0),
        at_cut: tuple[int, int] | None = None,
    ) -> None:
        self.started = started
        self.undo = rate
        self.before = before
        self.depth = depth
        self.prior = prior  # answers, refused: while slow start grew, before the cut's
        self.at_cut = before if at_cut is None else at_cut  # the first cut's refusals
        self.after = [0, 0]  # answers, refused: to requests sent from JUDGE_FROM_S on

    def went_on(self) -> bool:
        """Did refusals go on after the cut: any at all, or, when the share refused while
        slow start grew is known (PRIOR_ANSWERS answers), more than it explains (at an
        upper bound, half a refusal more)?"""
        (n0, k0), (n2, k2) = self.prior, self.after
        if not k2 or n0 < PRIOR_ANSWERS:
            return bool(k2)
        return above_background((k0 + 0.5) / n0, n2, k2, n0)

    def add(self, slot: Slot, refused: bool) -> None:
        if slot.sent_at >= self.started + JUDGE_FROM_S:
            self.after[0] += 1
            self.after[1] += refused

    def due(self, now: float) -> bool:
        """Judged JUDGE_AFTER_S on, once MIN_JUDGED answered; sooner than so many when
        refusals surely went on (a slow limit sends few); or after JUDGE_WITHIN_S."""
        waited, (answers, refused) = now - self.started, self.after
        if waited < JUDGE_AFTER_S:
            return False
        surely = refused >= MIN_REFUSED and rises(self.prior, (answers, refused))
        return answers >= MIN_JUDGED or surely or waited > JUDGE_WITHIN_S

    def rising(self, n2: int, k2: int) -> bool:
        """Do refusals go on after the cut, at a share surely above the one before it (both
        are samples: the difference is weighed against both)?"""
        n1, k1 = self.before
        pooled = (k1 + k2) / (n1 + n2)
        error = math.sqrt(pooled * (1 - pooled) * (1 / max(1, n1) + 1 / max(1, n2)))
        return k2 / max(1, n2) - k1 / max(1, n1) > max(MARGIN, CHECKED_SIGMAS * error)

    def held(self) -> bool:
        """Did refusals go on after the cut, at the share of before but for chance? (Fewer:
        the rate's; more: a limit below even the cut rate.)"""
        (n1, k1), (n2, k2) = self.before, self.after
        if k2 == 0:
            return False
        pooled = (k1 + k2) / (n1 + n2)
        error = math.sqrt(pooled * (1 - pooled) * (1 / max(1, n1) + 1 / n2))
        return abs(k1 / max(1, n1) - k2 / n2) <= max(SIGMAS * error, MARGIN)

    def cut_was_a_limit(self) -> bool:
        """Did the share refused fall to half the share that made the first cut, or less,
        since (after it, and after the deeper cut when this judges one)? Random faults
        refuse the same share at any rate: that cut was a limit's."""
        answers, refused = self.after
        if self.at_cut is not self.before:
            answers, refused = answers + self.before[0], refused + self.before[1]
        n1, k1 = self.at_cut
        return refused / max(1, answers) < FELL * k1 / max(1, n1)

    def began(self) -> bool:
        """Were more refused after the cut than while slow start grew (PRIOR_ANSWERS
        answered then, at least), beyond chance: they began as the rate rose, and no
        background explains them?"""
        return self.prior[0] >= PRIOR_ANSWERS and rises(self.prior, (self.after[0], self.after[1]))

    def prior_share(self) -> tuple[float, int]:
        """The share refused while slow start grew, and how many answers it was learnt from."""
        n0, k0 = self.prior
        return min(MOST_NOISE, k0 / max(1, n0)), n0

    def background(self, held: bool) -> tuple[float, int]:
        """The share of refusals no limit explains, and how many answers it was learnt
        from: all of them, or (a limit's) the fewer of before and after, since a window
        still refuses a while after the cut."""
        (n1, k1), (n2, k2) = self.before, self.after
        if held:
            return min(MOST_NOISE, (k1 + k2) / (n1 + n2)), n1 + n2
        n0, k0 = self.prior
        if n0 >= MIN_JUDGED and not self.went_on():  # the share slow start saw explains them
            return min(MOST_NOISE, (k0 + k2) / (n0 + n2)), n0 + n2
        fewer = min((k1 / max(1, n1), n1), (k2 / max(1, n2), n2))
        return min(MOST_NOISE, fewer[0]), fewer[1]


def rises(before: tuple[int, int], after: tuple[int, int]) -> bool:
    """Are the refusals ``after`` (answers, refused) more than the share ``before`` explains,
    by MARGIN and beyond chance? That share is taken at an upper bound, half a refusal more
    (PRIOR_ANSWERS answers at least): so many refusals after would come
    by chance at most CHANCE of the time (Poisson)."""
    (n1, k1), (n2, k2) = before, after
    bound = (k1 + 0.5) / max(n1, PRIOR_ANSWERS)
    if k2 <= n2 * (bound + MARGIN):
        return False
    return _poisson_tail(k2, n2 * bound) < CHANCE


def _poisson_tail(k: int, mean: float) -> float:
    """The chance of k or more events when ``mean`` are expected."""
    below = sum(math.exp(i * math.log(mean) - mean - math.lgamma(i + 1)) for i in range(k))
    return max(0.0, 1.0 - below)


class RoundTrips:
    """The round trips: the least over the last RTT_WINDOW_S, and the last RTT_SAMPLES."""

    def __init__(self) -> None:
        self._least: deque[tuple[float, float]] = deque()  # (step began, least), ten steps
        self._last: deque[float] = deque(maxlen=RTT_SAMPLES)

    def add(self, now: float, rtt: float) -> None:
        self._last.append(rtt)
        step = RTT_WINDOW_S / 10
        if self._least and now - self._least[-1][0] < step:
            began, least = self._least[-1]
            self._least[-1] = (began, min(least, rtt))
        else:
            self._least.append((now, rtt))
        while now - self._least[0][0] > RTT_WINDOW_S:
            self._least.popleft()

    def round(self) -> float:
        """Twice the shortest round trip, at least 0.1 s: what one round of answers takes."""
        return max(0.1, 2 * min((least for _, least in self._least), default=0.0))

    def at(self, *shares: float) -> list[float]:
        """The round trips that each share of the last RTT_SAMPLES came within."""
        ordered = sorted(self._last)
        return [ordered[int(len(ordered) * share)] for share in shares]


class Split(NamedTuple):
    """An edge in flight, and the answers at or below it."""

    level: int
    answers: int
    refused: int


class Levels:
    """Answers and refusals by the number in flight when each request left, over the last
    LEVELS_S: a limit on requests in flight shows as an edge, a level at or below which
    nearly all get through and above which many are refused, whatever the rate."""

    def __init__(self) -> None:
        self._seen: deque[tuple[float, float, int, bool]] = deque()  # answered, sent, ...

    def add(self, now: float, slot: Slot, refused: bool) -> None:
        self._seen.append((now, slot.sent_at, slot.in_flight, refused))
        while self._seen[0][0] < now - LEVELS_S:
            self._seen.popleft()

    def edge(self, background: float = 0.0, since: float = -math.inf) -> Split | None:
        """The level that best splits the answers to requests sent ``since`` in two (see
        _splits), when the split explains the refusals by EDGE_EVIDENCE more than one share
        for all; else None. Random faults refuse on both sides alike; and the client counts
        answers the service has let go, so an edge is smeared over a level or two above."""
        counts = self._counts(since)
        answers = sum(n for n, _ in counts.values())
        refusals = sum(k for _, k in counts.values())
        one_share = _log_likelihood(answers, refusals)
        best, most = None, EDGE_EVIDENCE
        below = (0, 0)  # answers, refused at or below the level
        for level in sorted(counts)[:-1]:
            below = (below[0] + counts[level][0], below[1] + counts[level][1])
            above = (answers - below[0], refusals - below[1])
            if not _splits(below, above, background):
                continue
            gain = 2 * (_log_likelihood(*below) + _log_likelihood(*above) - one_share)
            if gain > most:
                best, most = Split(level, *below), gain
        return best

    def _counts(self, since: float) -> dict[int, list[int]]:
        """By level: [answers, refused], of the requests sent ``since``."""
        counts: dict[int, list[int]] = {}
        for _, sent, level, refused in self._seen:
            if sent >= since:
                here = counts.setdefault(level, [0, 0])
                here[0] += 1
                here[1] += refused
        return counts


def _splits(below: tuple[int, int], above: tuple[int, int], background: float) -> bool:
    """Do these (answers, refused) look like an edge: at most EDGE_BELOW refused at or below
    it, and above it MIN_REFUSED, EDGE_ABOVE at least and EDGE_RISE times the share below
    (or the ``background``)?"""
    (answered, refused), (answered_above, refused_above) = below, above
    if answered < MIN_REFUSED or refused_above < MIN_REFUSED or refused > EDGE_BELOW * answered:
        return False
    share_below = max(refused / answered, background)
    return refused_above / answered_above >= max(EDGE_ABOVE, EDGE_RISE * share_below)


def _log_likelihood(answers: int, refused: int) -> float:
    """Of ``refused`` among ``answers``, each refused at the share seen."""
    return sum(k * math.log(k / answers) for k in (refused, answers - refused) if k)


def above_background(
    background: float, answers: int, refused: int, learnt_from: float = math.inf
) -> bool:
    """Is the share refused above the ``background`` share (``learnt_from`` so many
    answers, itself a sample), by MARGIN and beyond chance?"""
    error = math.sqrt(background * (1 - background) * (1 / answers + 1 / learnt_from))
    return refused / answers > background + max(MARGIN, CHECKED_SIGMAS * error)


def surely_below(share: float, answers: int, refused: int) -> bool:
    """Were fewer refused than ``share`` would refuse, beyond chance?"""
    error = math.sqrt(share * (1 - share) / answers) if answers else math.inf
    return refused / max(1, answers) + SIGMAS * error < share


def surely_above(share: float, answers: int, refused: int) -> bool:
    """Is the share of refusals above ``share`` beyond chance?"""
    seen = refused / answers
    return seen - SIGMAS * math.sqrt(seen * (1 - seen) / answers) > share
