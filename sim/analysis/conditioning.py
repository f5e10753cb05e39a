"""Counting the draws for observations in the ensemble's own pass: which reports
count (:func:`checks_for`), the :class:`Observer` that tags each draw with the
number of counted reports it misses, and the exact weighted summaries of the
tagged counts (:class:`Weighted`). The rules are stated in
:mod:`sim.analysis.observed`; ``docs/observations.md`` gives their sources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.accumulator import BLOCK_BYTES, Accumulator, slots_held
from sim.analysis.ensemble import accumulator
from sim.analysis.summaries import (
    BAND_COLUMNS,
    DATE_PERCENTILES,
    MEAN_PLACES,
    PERCENTILES,
    SHARE_PLACES,
    BandColumns,
    band_columns,
    bands_of,
    date_row,
    dates_of,
    rounded,
    rounded_all,
    value_sums,
)
from sim.analysis.wide import is_wide
from sim.io.observations import (
    OFFICIAL,
    Observation,
    ObservationSet,
    Tolerance,
    accepted,
)
from sim.model.plan import Plan
from sim.model.rules import official
from sim.model.stepper import StepInputs

# ---------------------------------------------------------------- which reports count


@dataclass(frozen=True)
class Check:
    """One in-range level observation as an ensemble pass tests it."""

    index: int  # position in the ObservationSet
    series: str
    month: int  # month index in the plan (0 = start month)
    lo: float  # the accepted range [troops]
    hi: float
    official: bool  # compared with the official figure (a reporting basis applies)
    known: bool  # public on or before the as-of date
    used: bool  # known and not superseded: it conditions


def quantity_of(o: Observation, plan: Plan) -> tuple[str, int, bool]:
    """The quantity a report states (:func:`the_latest`): its series, its month, and
    whether it is an official figure apart from the level (an ``official`` report of a
    series with a reporting basis in ``plan``)."""
    return o.theater, o.month, o.kind == OFFICIAL and plan.has_basis(o.theater)


def the_latest(observations: ObservationSet, indices: Sequence[int], plan: Plan) -> set[int]:
    """Of the reports at ``indices`` (positions in ``observations``, in file order), the
    one that counts for each quantity: the latest by its date, and of reports made the
    same day the one listed last. A quantity is a series' level at the end of a month,
    or, for an ``official`` report of a series with a reporting basis in ``plan``
    (:meth:`~sim.model.plan.Plan.has_basis`), its official figure; an ``official``
    report of a series without one states the level itself, as a ``reported`` one does,
    so the two are one quantity and only one of them counts. The rest repeat or revise
    a report of the same quantity and do not count again: for conditioning (the known
    reports) and for scoring a vintage (the later ones). ``docs/observations.md``
    gives the reasons."""
    items = observations.items
    latest: dict[tuple[str, int, bool], int] = {}
    for i in indices:
        o = items[i]
        key = quantity_of(o, plan)
        if key not in latest or o.day >= items[latest[key]].day:
            latest[key] = i  # the latest counts; on the same day, the later row
    return set(latest.values())


def disagreeing_days(
    observations: ObservationSet,
    tolerance: Tolerance,
    plan: Plan,
    as_of: dt.date | None = None,
) -> list[list[Observation]]:
    """The reports of one quantity (:func:`quantity_of`) made public on one day that
    disagree, where that day is the quantity's latest among the reports known on
    ``as_of`` (every report when None), so that the one of them listed last counts
    (:func:`the_latest`) and the order of the rows decides what conditions or is
    scored: their ranges widened by ``tolerance`` (:func:`~sim.io.observations.accepted`)
    do not all meet. Each group in file order, the groups in the order their first row
    comes."""
    items = observations.items
    known = [o for o in items if o.is_level and o.known(as_of)]
    groups: dict[tuple[Key, dt.date], list[Observation]] = {}
    latest: dict[Key, dt.date] = {}
    for o in known:
        key = quantity_of(o, plan)
        groups.setdefault((key, o.day), []).append(o)
        latest[key] = max(latest.get(key, o.day), o.day)
    out = []
    for (key, day), rows in groups.items():
        if len(rows) < 2 or day != latest[key]:
            continue
        ranges = [accepted(o, tolerance) for o in rows]
        if max(lo for lo, _ in ranges) > min(hi for _, hi in ranges):
            out.append(rows)
    return out


def checks_for(
    plan: Plan,
    observations: ObservationSet,
    tolerance: Tolerance,
    as_of: dt.date | None = None,
) -> list[Check]:
    """The level observations (not targets) that fall within ``plan``'s months and name
    one of its series, with what each is compared with and whether it counts."""
    names = set(plan.series_names())
    items = observations.items
    inside = [
        (i, o.month - plan.start)
        for i, o in enumerate(items)
        if o.is_level and o.theater in names and 0 <= o.month - plan.start < plan.n_months
    ]
    counting = the_latest(observations, [i for i, _ in inside if items[i].known(as_of)], plan)
    out = []
    for i, m in inside:
        o = items[i]
        known = o.known(as_of)
        out.append(
            Check(
                i,
                o.theater,
                m,
                *accepted(o, tolerance),
                official=o.kind == OFFICIAL and plan.has_basis(o.theater),
                known=known,
                used=known and i in counting,
            )
        )
    return out


Key = tuple[str, int, bool]  # (series, month index, official figure?)


def quantity_key(c: Check) -> Key:
    return (c.series, c.month, c.official)


class Observer:
    """A :class:`sim.analysis.chunks.ChunkConsumer` that summarises a variant's draws
    and, in the same pass, what the observations need.

    When conditioning, each draw is tagged with its ``k`` (the counted reports its
    level misses) as the accumulator steps it, and counted in the slot of its ``k``
    (:meth:`Accumulator.add_draws`); :meth:`total` adds the slots up into the plain
    ensemble's accumulator, exactly. The level counts of each check come from the
    slots (a whole level is what they count); an official figure of a series with a
    reporting basis is counted here, per ``k``."""

    def __init__(self, plan: Plan, checks: list[Check], acc: Accumulator, condition: bool):
        self.plan = plan
        self.checks = checks
        self.condition = condition and any(c.used for c in checks)
        self.acc = acc
        self.width = acc.bound + 1
        used = [c for c in checks if c.used] if self.condition else []
        counted = [c for c in checks if c.official]
        self.keys: list[Key] = list(dict.fromkeys([quantity_key(c) for c in used + counted]))
        where = {k: i for i, k in enumerate(self.keys)}
        # per compared level, how many counted reports a draw at each level misses
        levels = np.arange(self.width)
        self.misses: dict[int, NDArray[Any]] = {}
        for c in used:
            table = self.misses.setdefault(where[quantity_key(c)], np.zeros(self.width, np.int64))
            table += (levels < c.lo) | (levels > c.hi)
        # a draw misses at most len(used) reports, and a file holds at most
        # sim.io.observations.MAX_ROWS (< 2**16) of them
        small = np.uint8 if len(used) < 2**8 else np.uint16 if len(used) < 2**16 else np.int64
        self.misses = {j: t.astype(small) for j, t in self.misses.items()}
        self.counted = {k: where[k] for k in dict.fromkeys(quantity_key(c) for c in counted)}
        # the tracks each compared series sums, looked up once (not once per key a group)
        self._tracks = {name: plan.series_tracks(name) for name, _, _ in self.keys}
        self.counts: dict[int, dict[Key, NDArray[np.int64]]] = {}  # k -> key -> levels
        self._total: Accumulator | None = None

    def add_chunk(self, chunk: Sequence[StepInputs]) -> None:
        self.acc.add_draws(chunk[0], self if self.keys else None)

    @property
    def reads(self) -> list[tuple[int, int]]:
        """The ``(track, month)`` levels :meth:`__call__` asks for: every track of each
        compared series, in the month compared."""
        return reads_of(self.keys, self._tracks)

    def __call__(self, level_at: Any, unreported: NDArray[np.float64]) -> NDArray[Any]:
        """Each draw's ``k``; counts the official figures of the official checks."""
        n = unreported.shape[0]
        values = quantities(self.keys, self._tracks, level_at, unreported)
        # reports compared with the same array (the months of one held run) add their
        # tables up, so that each array is looked up once
        tables: dict[int, tuple[NDArray[np.int64], NDArray[Any]]] = {}
        for j, table in self.misses.items():
            v = values[j]
            if id(v) in tables:
                tables[id(v)] = (v, tables[id(v)][1] + table)
            else:
                tables[id(v)] = (v, table)
        tags = np.zeros(n, np.int32)
        for v, table in tables.values():
            if v.strides and v.strides[0] == 0:  # every draw at one level
                tags += table[v[0]]
            else:
                tags += table.take(v)
        if self.counted:  # per k at once: level + k * width
            top = int(tags.max()) + 1
            shift = tags.astype(np.int64) * self.width
            done: dict[int, NDArray[np.int64]] = {}  # checks that read one array share it
            for key, j in self.counted.items():
                both = done.get(id(values[j]))
                if both is None:
                    both = done[id(values[j])] = np.bincount(
                        values[j] + shift, minlength=top * self.width
                    )
                for k in range(top):
                    row = both[k * self.width : (k + 1) * self.width]
                    if row.any():
                        counts = self.counts.setdefault(
                            k, {c: np.zeros(self.width, np.int64) for c in self.counted}
                        )
                        counts[key] += row
        return tags

    def total(self) -> Accumulator:
        """The accumulator of every draw (the slots added up; made once)."""
        if self._total is None:
            self._total = self.acc.untagged()
        return self._total

    def release(self) -> None:
        """Let the tagged counts go, once summarised (:func:`sim.analysis.observed`): the
        observer keeps :meth:`total` only, and answers as for draws counted without
        tags from then on. Whoever still holds the observer (the chunk loop, an
        executor's merged parts) then holds no more than the plain run's counts: the
        official figures' counts of every ``k`` added up, as those of draws untagged.

        The tagged counts are added up over their own memory where only this observer
        holds them (:meth:`Accumulator.untagged` ``last``): the plain counts are not laid
        out beside them."""
        if self._total is None:
            self._total = self.acc.untagged(last=True)
        self.acc = self._total
        untagged: dict[Key, NDArray[np.int64]] = {}
        for counts in self.counts.values():
            for key, row in counts.items():
                if key in untagged:
                    untagged[key] += row
                else:
                    untagged[key] = row.copy()
        self.counts = {0: untagged} if untagged else {}

    def merge(self, other: Observer) -> None:
        """Add another part's draws of the same variant (an executor's part)."""
        self.acc.merge(other.acc)
        for k, counts in other.counts.items():
            mine = self.counts.setdefault(
                k, {c: np.zeros(self.width, np.int64) for c in self.counted}
            )
            for key, row in counts.items():
                mine[key] += row

    def slot_counts(self, c: Check) -> NDArray[np.int64]:
        """(slots, levels) counts of the level check ``c`` compares, in each slot (the
        draws of one ``k``; one slot when the draws were not tagged)."""
        acc = self.acc
        tags = acc.tags or [0]
        if c.official:
            empty = np.zeros(self.width, np.int64)
            return np.array(
                [self.counts[k][quantity_key(c)] if k in self.counts else empty for k in tags]
            )
        acc.settle()
        months = self.plan.n_months
        row = acc.names.index(c.series)
        return acc.hist[row].reshape(months, self.width, len(tags))[c.month].T

    def all_counts(self) -> list[NDArray[np.int64]]:
        """Per check, the (levels,) counts of the compared level over every draw (a
        level's from :meth:`total`, whose counts are the slots added up; an official
        figure's from each ``k``'s). Checks of one quantity (series, month, official
        figure or not) share one array, so that many reports of a month take the
        memory of one: do not change them. (From each slot's counts: the plain counts
        of every draw, :meth:`total`, are not made for them.)"""
        rows: dict[Key, NDArray[np.int64]] = {}
        out = []
        for c in self.checks:
            row = rows.get(quantity_key(c))
            if row is None:
                row = rows[quantity_key(c)] = self.slot_counts(c).sum(axis=0, dtype=np.int64)
            out.append(row)
        return out


def reads_of(keys: Sequence[Key], tracks: dict[str, list[int]]) -> list[tuple[int, int]]:
    """The ``(track, month)`` levels that :func:`quantities` of ``keys`` reads: every
    track of each compared series, in the month compared, each once."""
    return list(dict.fromkeys((k, month) for name, month, _ in keys for k in tracks[name]))


def quantities(
    keys: Sequence[Key],
    tracks: dict[str, list[int]],
    level_at: Callable[[int, int], NDArray[np.int64]],
    unreported: NDArray[np.float64],
) -> list[NDArray[np.int64]]:
    """Per quantity of ``keys``, the draws' values (n,) [troops]: the series' level in
    the month (the sum of its ``tracks``, ``level_at(track, month)`` each), or its
    official figure (each track's, :func:`sim.model.rules.official`, summed), with
    ``unreported`` (n, tracks) the troops each draw's official figures leave out.
    Quantities of one track read from one array (the months of one held run) give
    that array; a sum over several tracks is a new array each."""
    values: list[NDArray[np.int64]] = []
    # (id of the levels, track) -> (those levels, their official figure): the levels
    # are kept so that their id is not reused by another month's (a fresh array
    # each call when the draws are stepped month by month)
    officials: dict[tuple[int, int], tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
    for name, month, off in keys:
        total: NDArray[np.int64] | None = None
        for k in tracks[name]:
            level = level_at(k, month)
            if off:  # months of one held run share their array, and so their figure
                mark = (id(level), k)
                if mark not in officials:
                    figure = official(level, unreported[:, k].astype(np.int64))
                    officials[mark] = (level, figure)
                level = officials[mark][1]
            total = level if total is None else total + level
        assert total is not None
        values.append(total)
    return values


def observer_of(
    plan: Plan, milestones: pd.DataFrame, checks: list[Check], condition: bool
) -> Observer | LevelTally:
    """A fresh :class:`Observer` of one variant, with its empty accumulator (a
    picklable maker for :func:`sim.analysis.chunks.consume_all`); for a force too large
    to count level by level (:func:`sim.analysis.wide.is_wide`), not conditioned, a
    :class:`LevelTally` of the quantities the checks compare."""
    if is_wide(plan):
        if condition:  # (refused before any pass: sim.analysis.observed.scoring_of)
            raise ValueError("a force too large to count level by level is not conditioned")
        return LevelTally(plan, checks)
    return Observer(plan, checks, accumulator(plan, milestones), condition)


#: the most bytes of counts a :class:`LevelTally` holds (past them: :class:`TallyTooLarge`)
TALLY_BYTES = 96 << 20
#: the most values a quantity's counts take in before counting them
BUFFER_VALUES = 1 << 16
#: the most bytes of values the quantities of a tally take in together before counting
BUFFER_BYTES = 16 << 20

# a block of counts: (low, counts, levels): counts of every level from ``low`` (levels
# None), or of the ascending, distinct ``levels`` given
Block = tuple[int, NDArray[np.int64], NDArray[np.int64] | None]


class TallyTooLarge(Exception):
    """The counts of a :class:`LevelTally`'s ``quantities`` would take more than
    ``limit`` bytes."""

    def __init__(self, quantities: int, limit: int):
        super().__init__(quantities, limit)  # (all of them: the error is picklable)
        self.quantities, self.limit = quantities, limit

    def __str__(self) -> str:
        return f"counts of {self.quantities:,} quantities past {self.limit:,} bytes"


class Counts:
    """Exact counts of the draws at each level of one quantity, mergeable.

    Held in whichever form takes fewer bytes: a count of every level of the range the
    draws take (``levels`` None: ``counts[i]`` draws at level ``low + i``, 8 bytes a
    level), or the levels taken and their counts (``levels`` ascending, 16 bytes a
    level taken); ``taken`` is how many levels are taken. Values are taken in to a
    buffer of ``capacity`` values and counted a full buffer at a time (a group of one
    draw costs a copy, not a block), each buffer folded in at once. Both forms only
    grow as values come, so :attr:`nbytes` never falls."""

    def __init__(self, capacity: int = BUFFER_VALUES) -> None:
        self.low = 0
        self.counts = np.zeros(0, np.int64)
        self.levels: NDArray[np.int64] | None = None
        self.taken = 0
        self._buffer = np.empty(max(1, capacity), np.int64)
        self._filled = 0

    @property
    def nbytes(self) -> int:
        """Bytes of the counts held and of the buffer."""
        levels = 0 if self.levels is None else self.levels.nbytes
        return self.counts.nbytes + levels + self._buffer.nbytes

    def add(self, values: NDArray[np.int64]) -> None:
        """Count the draws' ``values`` (n,) [troops], each 0 or more."""
        n, at = values.shape[0], 0
        room = self._buffer.shape[0]
        while at < n:
            take = min(n - at, room - self._filled)
            self._buffer[self._filled : self._filled + take] = values[at : at + take]
            self._filled += take
            at += take
            if self._filled == room:
                self.flush()

    def flush(self) -> None:
        """Count the values taken in so far and fold them in."""
        values = self._buffer[: self._filled]
        self._filled = 0
        if not values.shape[0]:
            return
        low, high = int(values.min()), int(values.max())
        if high - low < 2 * values.shape[0]:  # a count of every level of the range
            counts = np.bincount(values - low)
            self.fold((low, counts, None), int(np.count_nonzero(counts)))
            return
        ordered = np.sort(values)  # the levels taken: runs of equal values
        starts = np.flatnonzero(np.diff(ordered, prepend=ordered[0] - 1))
        counts = np.diff(starts, append=ordered.shape[0]).astype(np.int64)
        self.fold((low, counts, ordered[starts]), int(starts.shape[0]))

    def fold(self, block: Block, taken: int) -> None:
        """Add a block of counts (:data:`Block`) of ``taken`` levels taken."""
        b_low, b_counts, b_levels = block
        if not b_counts.shape[0]:
            return
        b_top = b_low + b_counts.shape[0] - 1 if b_levels is None else int(b_levels[-1])
        if not self.taken:
            self.low, self.counts, self.levels, self.taken = b_low, b_counts, b_levels, taken
            self._settle()
            return
        top = self.low + self.counts.shape[0] - 1 if self.levels is None else int(self.levels[-1])
        low, top = min(self.low, b_low), max(top, b_top)
        size = top - low + 1
        if self.levels is None and size <= 2 * (self.taken + taken):
            # held as a range, and (most likely) still to be: the block added in place
            if (low, size) != (self.low, self.counts.shape[0]):
                wider = np.zeros(size, np.int64)
                wider[self.low - low : self.low - low + self.counts.shape[0]] = self.counts
                self.low, self.counts = low, wider
            if b_levels is None:
                where = self.counts[b_low - low : b_low - low + b_counts.shape[0]]
                before = int(np.count_nonzero(where))
                where += b_counts
                self.taken += int(np.count_nonzero(where)) - before
            else:
                at = b_levels - low
                self.taken += int(np.count_nonzero(self.counts[at] == 0))
                self.counts[at] += b_counts
            self._settle()
            return
        # the levels taken of both, merged (each ascending and distinct)
        mine, theirs = _levels_of((self.low, self.counts, self.levels)), _levels_of(block)
        every = np.concatenate([mine[0], theirs[0]])
        every.sort()
        if every.shape[0] > 1:
            every = every[np.concatenate(([True], every[1:] != every[:-1]))]
        out = np.zeros(every.shape[0], np.int64)
        out[np.searchsorted(every, mine[0])] = mine[1]
        out[np.searchsorted(every, theirs[0])] += theirs[1]
        del mine, theirs
        self.low, self.counts, self.levels, self.taken = low, out, every, every.shape[0]
        self._settle()

    def _settle(self) -> None:
        """Hold the counts in the form that takes fewer bytes (a range when it takes no
        more: 8 bytes a level of it against 16 a level taken)."""
        if self.levels is None:
            size = self.counts.shape[0]
            if size > 2 * self.taken:
                self.levels, self.counts = _levels_of((self.low, self.counts, None))
                self.low = int(self.levels[0])
            return
        size = int(self.levels[-1]) - int(self.levels[0]) + 1
        if size <= 2 * self.taken:
            out = np.zeros(size, np.int64)
            out[self.levels - self.levels[0]] = self.counts
            self.low, self.counts, self.levels = int(self.levels[0]), out, None

    def merge(self, other: Counts) -> None:
        """Add another part's counts of the same quantity."""
        other.flush()
        self.fold((other.low, other.counts, other.levels), other.taken)

    def held(self) -> Block:
        """The counts, every value taken in counted, from the lowest level taken to the
        highest (:data:`Block`; one level's zero count when no draw was counted). Not
        copies: the counts let go of them, and of their buffer."""
        self.flush()
        out = (self.low, self.counts, self.levels)
        self.counts, self.levels, self.taken = np.zeros(0, np.int64), None, 0
        self._buffer = np.empty(0, np.int64)
        if not out[1].shape[0]:
            return 0, np.zeros(1, np.int64), None
        return out


def _levels_of(block: Block) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """A block's (levels taken, their counts)."""
    low, counts, levels = block
    if levels is not None:
        return levels, counts
    taken = np.flatnonzero(counts)
    return taken + low, counts[taken]


class LevelTally:
    """A :class:`sim.analysis.chunks.ChunkConsumer` that counts, exactly, the draws at
    each level of every quantity a variant's checks compare (a series' level or
    official figure in a month, :func:`quantities`), and nothing else: for forces too
    large to count level by level (:mod:`sim.analysis.wide`), whose observations are
    scored (not conditioned on) from a pass of their own over the same draws.

    Each quantity's counts take the bytes of the range of levels its draws take or of
    the levels taken, whichever is fewer (:class:`Counts`), at most
    :data:`TALLY_BYTES` in all (:class:`TallyTooLarge` past them). The draws are
    stepped by an accumulator that counts no series, only the months read
    (:meth:`Accumulator.add_draws` with this tally as its tagger, every tag 0)."""

    def __init__(self, plan: Plan, checks: list[Check]):
        self.plan = plan
        self.checks = checks
        self.keys: list[Key] = list(dict.fromkeys(quantity_key(c) for c in checks))
        self._tracks = {name: plan.series_tracks(name) for name, _, _ in self.keys}
        #: the ``(track, month)`` levels :meth:`__call__` asks for
        self.reads = reads_of(self.keys, self._tracks)
        # (each quantity's buffer: BUFFER_BYTES in all, 64 to BUFFER_VALUES values each)
        room = min(BUFFER_VALUES, max(64, BUFFER_BYTES // (8 * max(1, len(self.keys)))))
        self.tallies = {key: Counts(room) for key in self.keys}
        self.nbytes = sum(t.nbytes for t in self.tallies.values())  # of every quantity's
        self.acc = Accumulator(plan, 0, [], [], [])

    def add_chunk(self, chunk: Sequence[StepInputs]) -> None:
        self.acc.add_draws(chunk[0], self)

    def __call__(self, level_at: Any, unreported: NDArray[np.float64]) -> NDArray[Any]:
        """Count each quantity's values; every draw's tag is 0."""
        values = quantities(self.keys, self._tracks, level_at, unreported)
        for key, v in zip(self.keys, values, strict=True):
            self._grown(self.tallies[key], lambda t, v=v: t.add(v))  # type: ignore[misc]
        return np.zeros(unreported.shape[0], np.int32)

    def _grown(self, tally: Counts, step: Callable[[Counts], None]) -> None:
        """Do ``step(tally)`` and note the bytes of counts it added; past
        :data:`TALLY_BYTES`, refuse."""
        before = tally.nbytes
        step(tally)
        self.nbytes += tally.nbytes - before
        if self.nbytes > TALLY_BYTES:
            raise TallyTooLarge(len(self.keys), TALLY_BYTES)

    def merge(self, other: LevelTally) -> None:
        """Add another part's draws of the same variant (an executor's part)."""
        self.acc.merge(other.acc)
        for key in list(other.tallies):
            theirs = other.tallies.pop(key)
            self._grown(self.tallies[key], lambda t, o=theirs: t.merge(o))  # type: ignore[misc]

    def handed(self) -> Iterator[tuple[Key, Block]]:
        """Each quantity and its counts (:meth:`Counts.held`), handed over one at a
        time: the tally lets go of each as it hands it over."""
        for key in list(self.tallies):
            tally = self.tallies.pop(key)
            self._grown(tally, Counts.flush)  # (the last values counted: within the budget)
            yield key, tally.held()
        self.nbytes = 0

    def release(self) -> None:
        """Let the counts go, once the checks are scored."""
        self.tallies, self.nbytes = {}, 0


# ---------------------------------------------------------------- weighted summaries


#: the most bytes of int64 copies of counts that :meth:`Weighted.weigh_parts` makes at once
WEIGH_BYTES = 4 << 20


def joined(parts: NDArray[Any], bits: int) -> NDArray[Any]:
    """``Σ_j parts[j] · 2^(bits · j)`` as Python ints: an object array of the shape of
    ``parts[0]`` (``parts`` (p, ...): whole numbers, int64 or Python ints)."""
    out = parts[-1].astype(object)
    for part in parts[-2::-1]:
        out = (out << bits) + part.astype(object)
    return out


class Weighted:
    """Exact summaries of draws weighted ``ε^k``, from an accumulator whose draws are
    counted in one slot per ``k`` (:meth:`Accumulator.add_draws` with tags).

    Relative to the best-fitting draws (``k₀``) a draw weighs ``ε^(k − k₀)``; with
    ``ε = p/q`` the weights scaled by ``q^(k₁ − k₀)`` are the whole numbers
    ``w_k = p^(k − k₀) q^(k₁ − k)``, so every sum below is an exact Python integer
    and percentiles, shares and the effective number of draws are exact.
    """

    def __init__(self, acc: Accumulator, error: Fraction):
        acc.settle()
        self.acc = acc
        self.ks = list(acc.tags)
        k0, k1 = min(self.ks), max(self.ks)
        p, q = error.numerator, error.denominator
        self.w = [p ** (k - k0) * q ** (k1 - k) for k in self.ks]
        self.wo = np.array(self.w, dtype=object)
        self.n = [int(x) for x in acc.slot_n]
        self.total = sum(w * n for w, n in zip(self.w, self.n, strict=True))
        # (one slot: the draws weigh alike, and the plain summaries are theirs)
        self.plain = acc.untagged() if len(self.ks) == 1 else None

    @property
    def effective(self) -> Fraction:
        """Kish's effective number of draws, ``(Σ w)² / Σ w²`` over the draws (Kish 1965,
        *Survey Sampling*), exact, from 1 (one draw holds all the weight) to the number
        of draws (equal weights)."""
        squares = sum(w * w * n for w, n in zip(self.w, self.n, strict=True))
        return Fraction(self.total * self.total, squares)

    def share(self, values: Sequence[int] | NDArray[Any]) -> Fraction:
        """``Σ_k w_k values[k] / Σ_k w_k n_k``: the weighted share of a per-slot count."""
        return Fraction(sum(w * int(v) for w, v in zip(self.w, values, strict=True)), self.total)

    def weigh(self, counts: NDArray[np.int64]) -> NDArray[Any]:
        """``Σ_k w_k counts[..., k]``, exactly: an object array of Python ints of the
        leading shape (:meth:`weigh_parts`, joined)."""
        return joined(*self.weigh_parts(counts))

    def weigh_parts(self, counts: NDArray[np.int64]) -> tuple[NDArray[Any], int]:
        """``(parts, bits)``: ``Σ_k w_k counts[..., k]`` (counts of shape (..., slots),
        whole numbers) as ``Σ_j parts[j] · 2^(bits · j)``, exactly, ``parts`` of shape
        (p, ...) in int64: no Python int per element.

        Each weight is cut into digits of ``bits`` bits, ``w_k = Σ_j d_kj 2^(bits · j)``
        with ``0 ≤ d_kj < 2^bits``, and ``parts[j] = Σ_k d_kj counts[..., k]`` (long
        multiplication by digits: Knuth, *The Art of Computer Programming* vol. 2,
        4.3.1). With ``bits = 62 − bitlength(slots · max |c|)``, no such sum passes
        ``slots · max |c| · (2^bits − 1) < 2^62``, so int64 holds each exactly. One
        part when every weight is below ``2^bits``; where counts leave no room for a
        digit (near 2^62), one part of Python ints and ``bits`` 0."""
        slots = counts.shape[-1]
        most = max(int(counts.max()), -int(counts.min())) if counts.size else 0  # (no copy)
        bits = 62 - (most * slots).bit_length()
        if bits < 1:
            return (counts.astype(object) * self.wo).sum(axis=-1)[None], 0
        mask = (1 << bits) - 1
        shifts = range(0, max(self.w).bit_length(), bits)
        digits = np.array([[(w >> s) & mask for s in shifts] for w in self.w], np.int64)
        # (in blocks of rows: int64 copies of a few MB, not of all the counts)
        flat = counts.reshape(-1, slots)
        out = np.empty((len(shifts), flat.shape[0]), np.int64)
        step = max(1, WEIGH_BYTES // (8 * slots))
        for r in range(0, flat.shape[0], step):
            out[:, r : r + step] = (flat[r : r + step].astype(np.int64) @ digits).T
        return out.reshape(len(shifts), *counts.shape[:-1]), bits

    def _approx(self, cums: NDArray[np.int64]) -> NDArray[np.float64]:
        """``Σ_k w_k cums[:, k, :]`` in floating point, the weights scaled to at most 1."""
        scale = max(self.w)
        return np.einsum("rsc,s->rc", cums, np.array([w / scale for w in self.w]))

    def _guess(self, approx: NDArray[np.float64], qs: NDArray[np.int64]) -> NDArray[np.int64]:
        """(rows, shares) the columns where ``approx`` (rows, cols), weighted cumulative
        counts in floating point with the weights scaled to at most 1, first reaches
        each share ``qs`` % of the total: a guess, to be checked exactly."""
        scale = max(self.w)
        whole = sum(w / scale * n for w, n in zip(self.w, self.n, strict=True))
        goal = qs * whole / 100
        # (each row grows with the column: the count of columns below each goal)
        guess = np.array([np.searchsorted(row, goal) for row in approx]).reshape(-1, len(qs))
        return np.minimum(guess, approx.shape[1] - 1)

    def _refine(
        self,
        counts_at: Callable[[NDArray[np.int64]], NDArray[np.int64]],
        need: list[int],
        guess: NDArray[np.int64],
        cols: int,
    ) -> NDArray[np.int64]:
        """Per row, the smallest column ``c`` with ``100 · Σ_k w_k counts_at(c)[row, k]
        ≥ need[row]`` (the cumulative counts per slot ``counts_at(cols)`` (rows, slots)
        grow with the column), exactly: the guess where it reaches the share and the
        column before does not, else by bisection."""

        def reaches(col: NDArray[np.int64]) -> NDArray[np.bool_]:
            value = self.weigh(counts_at(col))
            return np.array([100 * v >= x for v, x in zip(value, need, strict=True)], bool)

        right = reaches(guess) & ((guess == 0) | ~reaches(np.maximum(guess - 1, 0)))
        lo = np.where(right, guess, 0)
        hi = np.where(right, guess, cols - 1)
        while (lo < hi).any():
            mid = (lo + hi) // 2
            enough = reaches(mid)
            hi = np.where(enough, mid, hi)
            lo = np.where(enough, lo, mid + 1)
        return lo

    def bands(self, scenario: str, variant: str) -> pd.DataFrame:
        """``bands.csv`` rows of the weighted draws."""
        return bands_of([self.band_columns(scenario, variant)])

    def band_columns(self, scenario: str, variant: str) -> BandColumns:
        """The columns of :meth:`bands` (:func:`sim.analysis.summaries.band_columns`)."""
        if self.plain is not None:
            return self.plain.band_columns(scenario, variant)
        acc = self.acc
        months, width, size = acc.plan.n_months, acc.width, len(self.ks)
        columns: dict[str, list[NDArray[Any]]] = {c: [] for c in BAND_COLUMNS[4:]}
        # (every sum below is at most the total weight times the highest level)
        whole = self.total * max(1, width) < 2**63 and max(self.w) < 2**63
        for i in range(len(acc.names)):
            h3 = acc.hist[i].reshape(months, width, size)
            made = self._series_int64(h3) if whole else self._series_exact(h3)
            for c, v in made.items():
                columns[c].append(v)
        return band_columns(scenario, variant, acc.plan, acc.names, columns)

    def _series_int64(self, h3: NDArray[Any]) -> dict[str, NDArray[Any]]:
        """:meth:`band_columns`' columns of one series from its tagged counts ``h3``
        (months, levels, slots), when every weighted sum fits in int64 (the total weight
        times the number of levels is below 2^63): the weighted counts
        ``W = Σ_k w_k h3[..., k]`` (months, levels) are whole numbers, exact in int64, and
        so are their running sums over the levels, so each percentile is the first level
        whose running sum reaches ``⌈q · total / 100⌉`` (the same level that
        :meth:`_series_exact` finds), the mean's numerator comes from the running sums
        (:func:`~sim.analysis.summaries.value_sums`) and the lowest and highest levels
        from where ``W`` is not 0 (every weight is above 0). A block of months at a time
        (the slots' int64 products and ``W``'s running sums of at most
        :data:`BLOCK_BYTES`)."""
        months, width, size = h3.shape
        weights = np.array(self.w, np.int64)
        targets = [-(-q * self.total // 100) for q in PERCENTILES]
        step = max(1, BLOCK_BYTES // (8 * width * (size + 2)))
        sums = np.empty(months, np.int64)
        least = np.empty(months, np.int64)
        most = np.empty(months, np.int64)
        found = np.empty((len(PERCENTILES), months), np.int64)
        for m0 in range(0, months, step):
            block = h3[m0 : m0 + step]
            # (block, levels), int64: a strided pass per slot (faster than a matmul)
            # (int64 loops named: numpy 1's value-based casting would multiply int32
            # counts by a small weight in int32)
            weighted = np.multiply(block[..., 0], weights[0], dtype=np.int64)
            term = np.empty_like(weighted)
            for k in range(1, size):
                weighted += np.multiply(block[..., k], weights[k], out=term, dtype=np.int64)
            del term
            held = weighted != 0
            rows = slice(m0, m0 + held.shape[0])
            least[rows] = held.argmax(axis=1)
            most[rows] = width - 1 - held[:, ::-1].argmax(axis=1)
            del held
            cum = np.cumsum(weighted, axis=1, out=weighted)
            sums[rows] = value_sums(cum, width - 1)
            for r, row in enumerate(cum, m0):  # (the running sums grow with the level)
                found[:, r] = np.searchsorted(row, targets)
        return _band_dict(rounded_all(sums.tolist(), self.total, MEAN_PLACES), least, found, most)

    def _series_exact(self, h3: NDArray[Any]) -> dict[str, NDArray[Any]]:
        """:meth:`band_columns`' columns of one series from its tagged counts ``h3``
        (months, levels, slots), for any weights: Python-int sums of int64 digits
        (:meth:`weigh_parts`), each percentile guessed in floating point and checked
        exactly (:meth:`_refine`), a block of months at a time (copies of at most
        :data:`BLOCK_BYTES`)."""
        months, width, size = h3.shape
        qs = np.array(PERCENTILES, np.int64)
        # every draw weighs more than 0: the levels taken, the lowest and the highest
        # are those of the draws unweighted
        least, most, low, top = _extremes(h3)
        levels = np.arange(low, top + 1, dtype=np.int64)
        # the months in blocks of at most BLOCK_BYTES of whole-number counts (a copy
        # of a series' counts, and their running sums, may take far more)
        step = max(1, BLOCK_BYTES // (16 * size * (top - low + 1)))
        sums: list[Any] = []
        found: list[list[NDArray[np.int64]]] = [[] for _ in PERCENTILES]
        for m0 in range(0, months, step):
            block = min(step, months - m0)
            h = np.ascontiguousarray(
                h3[m0 : m0 + block, low : top + 1, :].transpose(0, 2, 1), np.int64
            )
            sums.extend(self.weigh(h @ levels))  # per month [troops x weight]
            # every percentile of every month at once: rows (percentile, month)
            cums = np.cumsum(h, axis=2)
            del h
            guess = self._guess(self._approx(cums), qs).T.ravel()
            month = np.tile(np.arange(block), len(PERCENTILES))
            at = self._refine(
                lambda col: cums[month, :, col],  # noqa: B023 (used at once)
                [q * self.total for q in PERCENTILES for _ in range(block)],
                guess,
                top - low + 1,
            )
            for j in range(len(PERCENTILES)):
                found[j].append(low + at[j * block : (j + 1) * block])
        percentiles = [np.concatenate(f) for f in found]
        return _band_dict(rounded_all(sums, self.total, MEAN_PLACES), least, percentiles, most)

    def dates(self, scenario: str, variant: str) -> pd.DataFrame:
        """``dates.csv`` rows of the weighted draws: the month each threshold is first
        reached, from each slot's counts of the lowest level so far."""
        return dates_of([self.date_rows(scenario, variant)])

    def date_rows(self, scenario: str, variant: str) -> list[dict[str, Any]]:
        """The rows of :meth:`dates` (:func:`sim.analysis.summaries.date_row`)."""
        if self.plain is not None:
            return self.plain.date_rows(scenario, variant)
        acc = self.acc
        months, width, size = acc.plan.n_months, acc.width, len(self.ks)
        rows: list[dict[str, Any]] = []
        n = np.array(self.n, np.int64)
        below: dict[int, dict[int, NDArray[np.int64]]] = {}  # series -> level + 1 -> counts
        reached: list[NDArray[np.int64]] = []  # per mark: (months, slots) draws there by then
        for name, _, level in acc.marks:
            i = acc.names.index(name)
            if i not in below:  # the draws whose lowest level so far is under each mark
                ends = sorted({min(lv, acc.bound) + 1 for _, _, lv in acc.marks if lv >= 0})
                starts = [0, *[e for e in ends if e < width]]
                counts = [acc.hist[i]] + ([acc._lower[i]] if acc._lower is not None else [])
                # in blocks of months of at most BLOCK_BYTES: summing in int64 casts its
                # input, and a whole series' counts may take far more
                step = max(1, BLOCK_BYTES // (8 * width * size))
                seg = np.zeros((months, len(starts), size), np.int64)
                for c in counts:
                    grid = c.reshape(months, width, size)
                    for m0 in range(0, months, step):
                        seg[m0 : m0 + step] += np.add.reduceat(
                            grid[m0 : m0 + step], starts, axis=1, dtype=np.int64
                        )
                cum = np.cumsum(seg, axis=1)  # cum[:, j]: the levels below starts[j + 1]
                below[i] = {
                    e: cum[:, starts.index(e) - 1] if e < width else cum[:, -1] for e in ends
                }
            reached.append(
                below[i][min(level, acc.bound) + 1]
                if level >= 0
                else np.zeros((months, size), np.int64)
            )
        if not reached:
            return rows
        # per mark the cumulative count of first months, with "never" as the last column;
        # every date percentile of every mark in one search: rows (mark, percentile)
        cums = np.stack([np.concatenate([r, n[None, :]], axis=0).T for r in reached])
        qs = np.array(DATE_PERCENTILES, np.int64)
        mark = np.repeat(np.arange(len(reached)), len(qs))
        at = self._refine(
            lambda col: cums[mark, :, col],
            [q * self.total for _ in reached for q in DATE_PERCENTILES],
            self._guess(self._approx(cums), qs).ravel(),
            months + 1,
        ).reshape(len(reached), len(qs))
        for k, mark_k in enumerate(acc.marks):
            never = rounded(self.share(n - reached[k][-1]), 1, SHARE_PLACES)
            rows.append(date_row(acc.plan, scenario, variant, mark_k, at[k].tolist(), never))
        return rows

    def p_met(self) -> list[float]:
        """Per milestone, the weighted share of draws reaching it by its original deadline."""
        met = self.acc.slot_met
        return [rounded(self.share(met[:, j]), 1, SHARE_PLACES) for j in range(met.shape[1])]


def _band_dict(
    mean: NDArray[Any], least: NDArray[Any], found: Any, most: NDArray[Any]
) -> dict[str, NDArray[Any]]:
    """One series' band columns by name, in ``bands.csv`` order: ``mean``, ``min``, each
    percentile of :data:`PERCENTILES` (``found[j]``, per month: rows of an array or a
    list of arrays), ``max``."""
    return {
        "mean": mean,
        "min": least,
        **{f"p{q:02d}": found[j] for j, q in enumerate(PERCENTILES)},
        "max": most,
    }


def _extremes(
    h3: NDArray[Any],
) -> tuple[NDArray[np.int64], NDArray[np.int64], int, int]:
    """``(least, most, low, top)`` of tagged counts ``h3`` (months, levels, slots) of a
    series whose every month holds some draw: per month the lowest and the highest
    level some draw takes (months,), and the lowest and the highest over every month.
    Read a block of months at a time (a copy of at most BLOCK_BYTES), so that the
    slots' plain sum (months, levels) is never laid out."""
    months, width, _ = h3.shape
    step = max(1, BLOCK_BYTES // max(1, width * h3.dtype.itemsize))
    least = np.empty(months, np.int64)
    most = np.empty(months, np.int64)
    for m0 in range(0, months, step):
        taken = slots_held(h3[m0 : m0 + step])  # (block, levels)
        least[m0 : m0 + step] = taken.argmax(axis=1)
        most[m0 : m0 + step] = width - 1 - taken[:, ::-1].argmax(axis=1)
    return least, most, int(least.min()), int(most.max())
