"""Exact, mergeable counts of an ensemble's levels: the accumulator.

Levels are whole troops, so each month's distribution is kept as counts of
each level (a histogram). Histograms of chunks add up, so the summaries are
exact and do not depend on the chunk size, and memory does not grow with the
number of draws. Percentiles are the inverse of the empirical distribution:
``pXX`` is the smallest level ``L`` with at least ``XX %`` of the draws at or
below ``L`` — always a level some draw actually had, never an interpolation.

Speed (see ``benchmarks/bench_ensemble.py``): a chunk's draws are grouped by
timing key (announcement and execution delays), which fixes the months of every window
(:class:`sim.model.fastpath.Group`). A level held over a stretch of months is counted
once for the whole stretch; only the months inside a window are computed,
with the stepper's own float arithmetic, so the counts equal those of
:func:`sim.model.stepper.step` to the last draw. Where few distinct draws differ
in a window (a fixed start level and a drawn target, say), each distinct one
is computed once and counted with its multiplicity.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.heap import LAZY_FROM, lazy_zeros, release_pages
from sim.analysis.ramps import RampTable
from sim.analysis.stretches import HeldStretches
from sim.analysis.summaries import (
    BAND_COLUMNS,
    COUNT,
    MEAN_PLACES,
    PERCENTILES,
    BandColumns,
    band_columns,
    bands_of,
    date_rows,
    dates_of,
    inverse_cdf,
    level_views,
    rounded_all,
    value_sums,
)
from sim.analysis.windows import WindowCounts, WindowInputs, trimmed, window_memo
from sim.model.fastpath import Group, input_rows, take_rows
from sim.model.plan import Plan
from sim.model.rules import (
    group_firsts,
    row_groups,
    timing,
    timing_groups,
    window_months,
)
from sim.model.stepper import StepInputs, step, step_dense
from sim.schema import Spec


class Tagger(Protocol):
    """What tags draws for :meth:`Accumulator.add_draws`."""

    def __call__(
        self, level_at: Callable[[int, int], NDArray[np.int64]], unreported: NDArray[np.float64]
    ) -> NDArray[Any]:
        """Each draw's tag, from ``level_at(track, month)`` (g,) levels and the draws'
        ``unreported`` (g, tracks) troops."""

    @property
    def reads(self) -> list[tuple[int, int]]:
        """The ``(track, month)`` levels ``__call__`` asks ``level_at`` for."""


#: a tagger's reads of this many consecutive months of a track, or more, are computed
#: as one block where they lie in one ramp run
SEGMENT_MONTHS = 4
SITES_BLOCK = 1 << 15  # the most draws stepped at once for a theater made of sites
#: the most bytes of one site's levels (months, draws) of int64 stepped at once: a theater
#: made of sites holds a few such blocks (a site's levels, their float scratch, their sum,
#: its running minimum), so over many months its draws go in fewer than SITES_BLOCK
SITES_BYTES = 16 << 20
#: timing groups of fewer draws than this on average (each draw nearly its own timing
#: key) are stepped theater by theater, grouped by each theater's own windows
FEW_DRAWS = 64
#: draws whose timing groups hold fewer than this many draws on average at
#: :data:`DENSE_MONTHS` months, even theater by theater (each theater's draws grouped by
#: its own windows' months), are stepped every month at once
#: (:meth:`Accumulator._add_dense`); over other horizons the bound scales as
#: ``DENSE_GROUP_DRAWS * DENSE_MONTHS / months``. A group costs a few dozen array
#: operations per track and per series, whatever the months (about 0.6 ms each, 0.55 to
#: 0.65 ms over 36 to 600 months); stepping every month costs in proportion to draws x
#: months (about 0.1 us a draw, month and track). Measured on ``timing-keys-10`` of
#: ``benchmarks/bench_scale_memory.py`` (10 theaters), 20,000 draws in one chunk:
#: 120 months, 9 draws a group, 14.2 s group by group and 2.5 s every month at once; 43
#: draws a group (delays over 0-5 months), 3.0 s and 2.1 s; 600 months, 9 a group, 12.1
#: s and 12.8 s; and 10^5 draws over 600 months (31 and 14 a group in two chunks), 24.0 s
#: and 58.6 s. At 10^5 draws over 120 months, 147 and 67 a group: 12.0 s and 22.1 s.
DENSE_GROUP_DRAWS = 50
#: the horizon at which :data:`DENSE_GROUP_DRAWS` holds [months]
DENSE_MONTHS = 120
#: the most bytes of a part of such draws stepped at once: its levels (draws, tracks,
#: months) as int32 and about a dozen (draws, months) arrays of float64 and int64 made
#: while stepping one track and counting one series
DENSE_STEP_BYTES = 32 << 20
#: the most bytes of levels a tagger may read at once: for draws stepped theater by
#: theater, in draw order (else they are stepped by timing key); of a timing key's
#: draws, those of one part (a key's draws go in parts small enough)
TAG_BYTES = 64 << 20
#: the fewest months of a window counted draw by draw that is kept for other variants
#: (:mod:`sim.analysis.windows`): a shorter one costs little to count again
MEMO_MONTHS = 3
#: the most bytes of ramp tables an accumulator holds before it counts them out
RAMP_BYTES = 16 << 20
#: the most bytes of tables a collecting accumulator keeps (else :class:`Untabled`)
COLLECT_BYTES = 64 << 20


#: the most bytes of whole-number copies of counts that summaries make at once (a
#: block of months at a time: a series' counts as int64 may take far more). A quarter
#: of the heap's mmap threshold at most (:data:`sim.analysis.heap.MMAP_THRESHOLD`):
#: blocks of up to 32 MB, of sizes that differ series by series, were served from the
#: heap one after another and grew it by the gaps they left (``forcesim compare`` of
#: ``iraq-2008`` at 10^4 draws: 283 to 307 MB at the peak, 233 MB with blocks of 8 MB)
BLOCK_BYTES = 8 << 20

#: tagged draws are counted from column 0 where a month has at most this many columns
#: (levels times slots): finding the lowest column they take costs a pass over the draws,
#: which pays only where it saves counting a wide stretch of empty columns
FULL_BINS = 1 << 16

#: a few months' draws are counted column by column taken (a sort of the draws,
#: :meth:`Accumulator._count_taken`) where their levels span more than this many columns
#: per draw: counting every column from the lowest they take would cost more, and write
#: a page of counts for each stretch of columns no draw takes
SPARSE_SPAN = 32

#: the most columns (levels times slots, over its months) one bincount of a few
#: months' draws counts (:meth:`Accumulator._count`); past it, a month at a time, so that
#: its int64 scratch is at most 2 MB or one month's columns
TILE_COLUMNS = 1 << 18
#: the levels (months times draws) one bincount of a few months of few draws takes in,
#: at least (four months, at least): fewer months per bincount cost more in calls
TILE_LEVELS = 1 << 16
#: a running minimum of this many draws or more is taken a month at a time
#: (:func:`running_minimum`), of fewer along the months at once
ROW_MINIMUM_DRAWS = 256

#: the running minimum's correction of a block of months is counted only for the draws
#: whose level is above their lowest so far (:meth:`Accumulator._count_rises`) where
#: fewer than one in this many of the block's levels are, or where the month's columns
#: are far more than its draws (:data:`SPARSE_SPAN`); else for every draw of every month
#: (a draw at its lowest adds and takes away the same count)
FEW_RISES = 16

#: the most bytes of one array of levels (months, draws) that the running minimum's
#: correction of a series whose levels rise holds (:meth:`Accumulator._count_rises`): its
#: months are counted in blocks of as many as this holds (at least one), and it holds
#: about four such arrays at once (the levels, their running minimum, their columns, and
#: the float room they are computed in), and where only the draws above their lowest are
#: counted (:data:`FEW_RISES`), a few more arrays of those (month, draw) pairs
RISE_BYTES = 4 << 20

#: the most bytes of held stretches' rows (:class:`HeldStretches`) an accumulator keeps
#: after counting a group of draws: past it they are folded into the counts, one pass
#: over the months of each series they touch (a run whose stretches start and end in
#: most months would otherwise hold a second array as large as its counts)
HELD_BYTES = 16 << 20

#: the most bytes of the old counts a widening of the slots holds beside the new ones
#: (:meth:`Accumulator._slots`): they are laid out again a block of rows at a time, the
#: new rows written and the old pages handed back (:func:`sim.analysis.heap.release_pages`)
WIDEN_BYTES = 8 << 20

#: the most bytes of tagged counts an accumulator lays out: the counts of every slot
#: (and the running minimum's, once some draw's level rose), their sum over the slots
#: (:meth:`Accumulator.untagged`, made while they are held), the held stretches' rows
#: (at most :data:`HELD_BYTES` between groups: past it they are folded into the counts)
#: and what a widening of the slots holds at once (:data:`WIDEN_BYTES`). Past it
#: :class:`TooManySlots`. Reckoned from the slots the draws take, so which runs are
#: refused does not depend on the order of chunks and parts. It admits what the budget
#: before it admitted (512 MB with the held stretches reckoned a row every month, about
#: twice what they take): ``crowded-24`` of ``benchmarks/bench_records.py`` lays out
#: 189 MB, a vintage of 50 theaters and five sets (``theaters-50x5``) 244 MB. What is
#: laid out takes memory only where some draw is counted (:func:`~sim.analysis.heap.lazy_zeros`:
#: that vintage holds 39 % of it); a run near the budget whose draws fill its pages can
#: pass 400 MB of peak resident memory (``dense-300k``, 312 MB laid out: 415 MB at 10^6
#: draws; docs/performance.md, "Known gaps")
TAGGED_BYTES = 320 << 20


class _Holder:
    attribute: Any = None


def _only_held() -> int:
    """What ``sys.getrefcount(obj.attribute)`` gives for an array that only one
    attribute holds, in this interpreter (2 up to Python 3.13; later ones may count
    a reference fewer): any more, and something else holds it too."""
    holder = _Holder()
    holder.attribute = np.empty(1)
    return sys.getrefcount(holder.attribute)


#: :func:`_only_held`, worked out once
_ONLY_HELD = _only_held()


class TooManySlots(Exception):
    """Tagged draws whose tags spread over so many slots that their counts would take
    more than :data:`TAGGED_BYTES`. ``args``: ``(lowest tag, highest tag, bytes, the
    most bytes)``."""

    def __init__(self, low: int, high: int, size: int, limit: int) -> None:
        super().__init__(low, high, size, limit)
        self.low, self.high, self.size, self.limit = low, high, size, limit


class Untabled(Exception):
    """A collecting accumulator met draws it cannot keep as tables: a level that
    rises, a sum of tracks, inputs too wide, or more than :data:`COLLECT_BYTES`."""


@dataclass
class Accumulator:
    """Exact, mergeable summaries of one variant's draws.

    ``hist[i]`` counts, for series i, the draws at each level in each month
    (``month * (bound + 1) + level``). ``first[k]`` counts the draws that first
    reach mark k (a level or below) in each month, the last column never within
    the horizon. It follows from the counts of each month's *lowest level so
    far* (the running minimum), for any threshold: a draw has reached ``L`` or
    below by month m exactly when its running minimum at m is at most ``L``.
    Those counts are kept as ``hist`` plus a correction, which is zero for the
    draws whose levels never rise (most drawdowns).

    **Tagged draws** (:meth:`add_draws` with a tagger) are counted in *slots*, one
    per tag, interleaved in the same arrays: with ``S`` slots, level ``L`` of a draw
    in slot ``s`` is counted at ``L * S + s`` within its month, so one pass over a
    group counts every tag at once, over the few columns its levels take. Slots run
    from the lowest tag to the highest that occur (``tags``); :meth:`untagged` adds
    them up into a plain
    accumulator of all the draws, whose summaries equal those of the draws counted
    plainly, exactly.

    **Mapped columns** (``maps``, one per series, for forces too large to count level
    by level, :mod:`sim.analysis.wide`): series i's level ``L`` is counted at column
    ``maps[i](L)`` (:class:`Binned`, :class:`Within`) instead of ``L``, and ``bound`` is
    the highest column. Each month's sum of levels is then kept too, in ``sums``
    (series, months) [troops], for the exact mean. Mapped draws are not tagged, and have
    no threshold marks (the dates come from the columns, :mod:`sim.analysis.wide`).
    """

    plan: Plan
    bound: int
    names: list[str]
    members: list[list[int]]
    marks: list[tuple[str, str, int]]
    n: int = 0
    maps: Sequence[Any] | None = None
    #: keep every run of every draw as tables only (:meth:`tables`), no counts
    collect: bool = False
    hist: NDArray[np.int64] = field(init=False)
    first: NDArray[np.int64] = field(init=False)
    met: NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        months, width = self.plan.n_months, self.bound + 1
        self.width = width  # levels 0..bound
        self.tags: list[int] = []  # the tag of each slot (consecutive); none: not tagged
        self.span = width  # columns of one month in the counts: width per slot
        self._slot: Any = 0  # while counting tagged draws: each draw's slot, or the one of all
        self.slot_n = np.zeros(1, np.int64)
        self.slot_met = np.zeros((1, len(self.plan.milestones)), np.int64)
        self.hist = lazy_zeros((len(self.names), months * width), COUNT)
        # the running-minimum correction, made when some draw's level first rises
        self._lower: NDArray[np.int64] | None = None
        # per series, the first level of each stretch of levels between its threshold
        # marks, where its correction is counted (:meth:`_marked`; None: level by level)
        self._starts: list[NDArray[np.int64]] | None = None
        if self.maps is None:
            self._starts = [
                np.array(
                    sorted(
                        {0}
                        | {lv + 1 for s, _, lv in self.marks if s == name and 0 <= lv < self.bound}
                    ),
                    np.int64,
                )
                for name in self.names
            ]
        self.first = np.zeros((len(self.marks), months + 1), np.int64)
        self.met = np.zeros(len(self.plan.milestones), np.int64)
        # levels held over whole stretches of months, as differences between months
        # (array 0: to hist, 1: to the running-minimum correction)
        self._held = HeldStretches(months, width)
        self._pending = False
        self._rose = False  # some draw's level rose: the running-minimum correction is used
        self._offsets = (np.arange(months, dtype=np.int64) * width)[None, :]
        self._row = {name: i for i, name in enumerate(self.names)}
        self._fast = _whole_inputs(self.plan) and self._members_ok()
        self._scratch: dict[tuple[int, int], NDArray[Any]] = {}
        self._runs: dict[Any, Any] = {}
        # windows' months counted once at the end (sim.analysis.ramps), by series and months
        self._ramps: dict[tuple[int, ...], RampTable] = {}
        self._ramp_bytes = 0
        self._untabled: set[tuple[int, ...]] = set()  # windows whose tables were too wide
        # the theaters some series of which is counted here, and, when some theater is
        # not (a pass over some series), the rows of the inputs the others leave out
        plan = self.plan
        self._counted = {
            tid
            for tid in plan.theaters
            if tid in self._row
            or any(plan.tracks[k].key in self._row for k in plan.theater_tracks(tid))
        }
        self._rows = self._rows_counted()
        self._map: Any = None  # while counting a mapped series: its map
        self.sums: NDArray[np.int64] | None = None
        if self.maps is not None:
            if self.marks:
                raise ValueError("mapped columns take no threshold marks")
            self.sums = np.zeros((len(self.names), months), np.int64)
            self._sums_held = np.zeros((len(self.names), months + 1), np.int64)

    def _members_ok(self) -> bool:
        theaters = {tid: self.plan.theater_tracks(tid) for tid in self.plan.theaters}
        return all(
            theaters.get(name) == tracks
            or (len(tracks) == 1 and self.plan.tracks[tracks[0]].key == name)
            for name, tracks in zip(self.names, self.members, strict=True)
        )

    # -- parts of one ensemble (sim.analysis.chunks.consume_all)

    def merge(self, other: Accumulator) -> None:
        """Add the draws ``other`` counted (another part of the same plan's ensemble):
        counts add, so the summaries are those of one pass over all the draws. Tagged
        counts are laid out over the tags of both first."""
        self._settle()
        other._settle()
        if other.tags:
            self._slots(np.array([other.tags[0], other.tags[-1]]))
        if self.tags:
            other._slots(np.array([self.tags[0], self.tags[-1]]))
        _add_held(self.hist, other.hist)
        if other._lower is not None:
            _add_held(self.lowest_counts(), other._lower)
        self.met += other.met
        self.n += other.n
        if self.sums is not None and other.sums is not None:
            self.sums += other.sums
        self.slot_n += other.slot_n
        self.slot_met += other.slot_met
        self._rose = self._rose or other._rose
        self._pending = True  # ``first`` follows from the merged counts

    def __getstate__(self) -> dict[str, Any]:
        """What a part sends back: the settled counts, without its scratch room, each
        array of counts as the columns of each month that hold some count
        (:class:`PackedCounts`)."""
        self._settle()
        scratch = ("_held", "_scratch", "_runs", "_ramps", "_untabled")
        state = {k: v for k, v in self.__dict__.items() if k not in scratch}
        for key in ("hist", "_lower"):
            if state.get(key) is not None:
                state[key] = PackedCounts.of(state[key], self.span)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key in ("hist", "_lower"):
            if isinstance(state.get(key), PackedCounts):
                state[key] = state[key].unpacked()
        self.__dict__.update(state)
        self._held = HeldStretches(self.plan.n_months, self.span)
        self._scratch, self._runs, self._ramps = {}, {}, {}
        self._ramp_bytes = 0
        self._untabled = set()

    def lowest_counts(self) -> NDArray[np.int64]:
        """The running-minimum correction (series, months * (bound + 1)), made when
        first needed: some draw's level rose, so the lowest level so far differs
        from the level. Unless the series are mapped (:mod:`sim.analysis.wide`), it is
        counted by stretch of levels between threshold marks (:meth:`_marked`): only
        its sums over the levels at or below a mark of the series are its own (those
        the dates read); a sum up to any other level is not."""
        self._rose = True
        if self._lower is None:
            if len(self.tags) > 1:  # (the correction of every slot: within the budget)
                self._check_tagged(self.tags[0], self.tags[-1], lower=True)
            months = self.plan.n_months
            self._lower = lazy_zeros((len(self.names), months * self.span), COUNT)
        return self._lower

    def settle(self) -> None:
        """Fold what was added into the counts."""
        self._settle()

    def empty(self) -> Accumulator:
        """A new, empty accumulator for the same plan, series and threshold marks."""
        return Accumulator(
            self.plan, self.bound, self.names, self.members, self.marks, maps=self.maps
        )

    def _check_tagged(self, first: int, last: int, *, lower: bool) -> None:
        """Raise :class:`TooManySlots` when the slots of tags ``first..last`` would lay
        out more than :data:`TAGGED_BYTES` (with the running minimum's, when ``lower``):
        :meth:`tagged_bytes`.

        Checked whenever the counts grow (wider slots, or the running minimum's first
        made), so the refusal depends on the draws only: what they take at the end,
        not the order in which chunks and parts widened the slots."""
        needed = self.tagged_bytes(last - first + 1, lower=lower)
        if needed > TAGGED_BYTES:
            raise TooManySlots(first, last, needed, TAGGED_BYTES)

    def tagged_bytes(self, slots: int, *, lower: bool) -> int:
        """The bytes tagged counts over ``slots`` slots lay out at their most (the
        running minimum's too, when ``lower``): the counts of every slot, their sum over
        the slots (:meth:`untagged`), the held stretches' rows (:data:`HELD_BYTES`, or a
        row every month of every slot where that is less) and the old counts a widening
        holds beside the new (:data:`WIDEN_BYTES`, or the counts where they are less)."""
        series, months, width = len(self.names), self.plan.n_months, self.width
        arrays = 1 + lower  # the counts, and the running minimum's
        one = arrays * series * months * width * np.dtype(COUNT).itemsize  # one slot's
        held = min(HELD_BYTES, one // months * (months + 1) * slots)
        return (slots + 1) * one + held + min(WIDEN_BYTES, one * slots)

    def _slots(self, tags: NDArray[Any]) -> tuple[int, int]:
        """The lowest and highest slot of these tags (slot = tag - the lowest tag
        counted), laying the counts out again, wider, when a tag falls outside the
        slots there are (keeping what they hold)."""
        low, high = int(tags.min()), int(tags.max())
        if low < 0:
            raise ValueError(f"expected tags of 0 or more, found {low}")
        if not self.tags:
            if self.n:
                raise ValueError("tagged draws cannot join draws counted without tags")
            first, last, old = low, high, None
        else:
            first, last = min(low, self.tags[0]), max(high, self.tags[-1])
            old = (self.tags[0] - first, len(self.tags))  # where the old slots go, how many
        if old is None or (first, last) != (self.tags[0], self.tags[-1]):
            width, months, size = self.width, self.plan.n_months, last - first + 1
            if size > 1:  # (one slot: the counts of a plain run)
                self._check_tagged(first, last, lower=self._lower is not None)
            series = len(self.names)
            lead = series * months * width  # rows of slots: (series, month, level)
            if old is None:  # (before the first tags nothing is counted yet: all 0)
                del self.hist  # (not held beside the new counts)
                self.hist = lazy_zeros((series, months * width * size), COUNT)
                if self._lower is not None:
                    self._lower = None
                    self._lower = lazy_zeros((series, months * width * size), COUNT)
                at, count = 0, 1
            else:
                at, count = old
                self._fold_held()  # (their rows, not laid out again: folded first)
                # (the old pages go back as they are copied only where nothing else
                # holds the old counts: this accumulator's attribute and the argument;
                # and counts read back from a part, which do not own their memory,
                # keep it: release_pages)
                own = sys.getrefcount(self.hist) <= _ONLY_HELD
                self.hist = _widened(self.hist, lead, count, at, size, own)
                if self._lower is not None:
                    own = sys.getrefcount(self._lower) <= _ONLY_HELD
                    self._lower = _widened(self._lower, lead, count, at, size, own)
            self._held.relay(width, at, count, size)
            slot_n = np.zeros(size, np.int64)
            slot_met = np.zeros((size, self.slot_met.shape[1]), np.int64)
            if old is not None:
                slot_n[at : at + count] = self.slot_n
                slot_met[at : at + count] = self.slot_met
            self.slot_n, self.slot_met = slot_n, slot_met
            self.tags = list(range(first, last + 1))
            self.span = size * width
            self._offsets = (np.arange(months, dtype=np.int64) * self.span)[None, :]
        return low - self.tags[0], high - self.tags[0]

    def _marked(
        self, i: int, levels: NDArray[np.int64], *, over: bool = False
    ) -> NDArray[np.int64]:
        """Where series i's running-minimum correction counts ``levels`` (any shape): the
        first level of the stretch between two threshold marks that each lies in (a new
        array, or written over ``levels`` with ``over``); the levels as they are for a
        mapped series (:mod:`sim.analysis.wide`, which reads its correction level by
        level).

        The correction is read only as its sums over the levels at or below each mark
        (:meth:`_count_first`, :meth:`sim.analysis.conditioning.Weighted.date_rows`), and
        every stretch lies wholly below or above each mark: so those sums are exact, and a
        month's correction takes a column per stretch, not one per level it spans."""
        if self._starts is None:
            return levels
        starts = self._starts[i]
        out = levels if over else np.empty_like(levels)
        if len(starts) == 1:  # no mark: one stretch
            out[...] = 0
            return out
        at = np.searchsorted(starts, levels, side="right")
        at -= 1
        np.take(starts, at, out=out)
        return out

    def _columns(
        self,
        levels: NDArray[np.int64],
        draws: NDArray[np.int64] | None = None,
        *,
        over: bool = False,
    ) -> NDArray[np.int64]:
        """Where levels are counted within a month: the level, its mapped column (a
        new array) while a mapped series is counted, or ``level * S + slot`` for tagged
        draws (``self._slot``, one per draw or one for all): a new array, or written
        over ``levels`` with ``over``. ``draws`` (p,): the draws of the group that
        ``levels`` (p,) belong to, when they are some of its draws in any order (their
        own slots are taken)."""
        if self._map is not None:
            return self._map(levels)  # type: ignore[no-any-return]
        size = len(self.tags)
        if size <= 1:
            return levels
        slot = self._slot
        slot = slot[draws] if draws is not None and np.ndim(slot) else slot
        if not over:
            return levels * size + slot
        np.multiply(levels, size, out=levels)
        levels += slot
        return levels

    def _mapped(self, i: int) -> None:
        """Count series i next (its map, if any, applies until the next call)."""
        self._map = None if self.maps is None else self.maps[i]

    def _bin(self, levels: NDArray[np.int64]) -> tuple[int, NDArray[np.int64]]:
        """``(first column, counts)`` of levels (n,) counted in their columns: every
        column for plain draws (the first column 0); for tagged ones, up to the highest
        column the levels take, from the lowest where a month has more than
        :data:`FULL_BINS` columns (a level held by every draw then takes as many columns
        as the slots it falls in, not all the columns below it), else from 0."""
        if len(self.tags) <= 1:
            return 0, np.bincount(self._columns(levels), minlength=self.width)
        # level * S + slot, less the lowest, in scratch room
        x = self._buffer(1, levels.shape[0], np.int64, 11)[0]
        np.multiply(levels, len(self.tags), out=x)
        x += self._slot
        if self.span > FULL_BINS:
            low = int(x.min())
            if low:
                x -= low
            return low, np.bincount(x)
        # (counted from column 0, then cut to the columns taken: adding the columns
        # below them would write pages of counts no draw of the month reaches)
        counts = np.bincount(x)
        if not counts.size:  # (no draws)
            return 0, counts
        low = int((counts != 0).argmax())
        return low, counts[low:]

    def untagged(self, *, last: bool = False) -> Accumulator:
        """One plain accumulator of every draw counted here, tagged or not.

        With ``last`` (this accumulator is not read again), the tagged counts' pages go
        back to the kernel as they are added up (:func:`_slots_added`), so that the
        plain counts are not laid out beside them whole; only where nothing else holds
        them, they own their memory and take :data:`~sim.analysis.heap.LAZY_FROM` or
        more (else they stay until dropped, as without ``last``); one slot's counts
        become the plain counts as they are. Its counts must not be read after (they
        are let go: ``hist`` is None)."""
        if not self.tags:
            return self
        self._settle()
        months, width, size = self.plan.n_months, self.width, len(self.tags)
        shape = (len(self.names), months, width, size)
        acc = self.empty()
        for key in ("hist", "_lower"):
            counts = getattr(self, key)
            if counts is None:
                continue
            if last:  # (not to be read again: let go here, before any page goes back)
                setattr(self, key, None)
            if size == 1 and last:  # (one slot: laid out as plain counts already)
                plain = counts
            else:
                # (handed back only where nothing else holds them: this name and
                # getrefcount's argument; and not a small array's pages, which the heap
                # would take in again, a fault each, for the next arrays it serves)
                own = last and counts.nbytes >= LAZY_FROM and sys.getrefcount(counts) <= _ONLY_HELD
                plain = _slots_added(counts, shape, own)
            del counts
            setattr(acc, key, plain)
            acc._rose = acc._rose or key == "_lower"
        acc.met += self.slot_met.sum(axis=0)
        acc.n = int(self.slot_n.sum())
        acc._count_first()  # (nothing is held: the slots were settled)
        return acc

    # -- adding draws

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        """A chunk of :func:`sim.analysis.chunks.run_chunks` (one plan)."""
        self.add_draws(inputs[0])

    def add(
        self,
        levels: dict[str, NDArray[np.int32]],
        reached: NDArray[np.int64],
        original: NDArray[np.int64],
        slots: NDArray[np.int64] | None = None,
    ) -> None:
        """Add draws given as whole monthly levels (``levels[name]``: (n, months)),
        in the given ``slots`` (n,) when the draws are tagged (:meth:`add_draws`)."""
        size, offsets = self.plan.n_months * self.span, self._offsets
        for i, name in enumerate(self.names):
            lv = levels[name].astype(np.int64)
            lowest = np.minimum.accumulate(lv, axis=1)
            if self.sums is not None and self.maps is not None:
                self.sums[i] += lv.sum(axis=0)
                lv, lowest = self.maps[i](lv), self.maps[i](lowest)
            lowest, marked = self._marked(i, lowest, over=True), self._marked(i, lv)
            if slots is not None and len(self.tags) > 1:  # each draw in its slot
                lv = lv * len(self.tags) + slots[:, None]
                lowest = lowest * len(self.tags) + slots[:, None]
                marked = marked * len(self.tags) + slots[:, None]
            self.hist[i] += np.bincount((lv + offsets).ravel(), minlength=size)
            lower = self.lowest_counts()
            lower[i] += np.bincount((lowest + offsets).ravel(), minlength=size)
            lower[i] -= np.bincount((marked + offsets).ravel(), minlength=size)
        met = reached <= original
        if slots is None:
            self.met += met.sum(axis=0)
            self.n += reached.shape[0]
        else:
            self._count_slots(slots, met)
        self._pending = True

    def _count_slots(self, slots: NDArray[np.int64], met: NDArray[np.bool_]) -> None:
        """Add draws in ``slots`` to each slot's number of draws and of met milestones;
        ``met`` is per draw (n, milestones) or shared by all (milestones,)."""
        per = np.bincount(slots, minlength=len(self.tags))
        self.slot_n += per
        if met.ndim == 1:
            self.slot_met += per[:, None] * met[None, :]
        else:
            for s in np.flatnonzero(per).tolist():
                self.slot_met[s] += met[slots == s].sum(axis=0)

    def add_draws(self, inputs: StepInputs, tagger: Tagger | None = None) -> None:
        """Add draws given as stepper inputs, stepping only the months that move.

        Gives the same summaries as :meth:`add` of :func:`sim.stepper.step`'s
        levels: draws are grouped by their timing key (announcement and execution
        delays, which fix every window's months), and each group's tracks are
        evaluated run by run (:class:`sim.stepper.Group`) over the months where some
        level moves.

        With ``tagger``, each draw gets a whole-number tag from
        ``tagger(level_at, unreported)`` (``level_at(track, month)`` gives the group's
        levels (g,) of one track in one month, ``unreported`` (g, tracks) its draws'
        unreported troops) and is counted in the slot of its tag (:meth:`split`).
        """
        plan = self.plan
        if self.collect and (not self._fast or tagger is not None):
            raise Untabled("levels stepped month by month")
        if not self._fast:
            self._add_stepped(step(plan, inputs), inputs, tagger)
            return
        n = inputs.n
        if n == 0:
            return
        order, cuts = timing_groups(inputs.delay, inputs.exec_delay)
        if not self.collect and self._few_per_group(inputs, len(cuts) - 1):
            self._add_dense(inputs, tagger)
            return
        arrays: tuple[NDArray[np.float64], ...] = tuple(inputs.group_arrays(plan))
        # (a tagger reads levels of every theater of a draw: kept whole in draw order,
        # at most TAG_BYTES of them; an accumulator that counts no series, only a
        # tagger's reads, reads them theater by theater too)
        if (
            len(cuts) - 1 > n // FEW_DRAWS
            and (len(self._counted) > 1 or (tagger is not None and not self._counted))
            and (tagger is None or len(tagger.reads) * n * 8 <= TAG_BYTES)
        ):
            self._add_by_theater(inputs, arrays, tagger)
            return
        firsts = group_firsts(order, cuts)
        if order is None:
            arrays = tuple(np.ascontiguousarray(a) for a in arrays)
        else:  # the order of the draws within the chunk does not matter
            if self._rows is None or tagger is not None:
                arrays = tuple(np.take(a, order, axis=1) for a in arrays)
            else:  # only the rows of the tracks counted here (the others are never read)
                arrays = tuple(
                    take_rows(a, r, order) for a, r in zip(arrays, self._rows, strict=True)
                )
        start, _, original, reached, _ = timing(
            plan, inputs.delay[firsts], inputs.exec_delay[firsts]
        )
        met = reached <= original
        unreported = None
        if tagger is not None:
            unreported = inputs.unreported if order is None else inputs.unreported[order]
        else:
            self.met += (met * np.diff(cuts)[:, None]).sum(axis=0)
            self.n += n
            self._pending = True
        # theaters made of sites are summed month by month in blocks (months, draws):
        # their draws go in parts small enough to keep those blocks small
        sited = any(len(plan.theater_tracks(t)) > 1 for t in plan.theaters)
        most = sites_block(plan) if sited else n
        segments: dict[tuple[int, int], list[int]] = {}
        if tagger is not None:  # a tagger holds the levels it reads of a part's draws
            reads = tagger.reads
            most = min(most, max(1, TAG_BYTES // (8 * max(1, len(reads)))))
            segments = _segments(reads)
        for g, (a, b) in enumerate(itertools.pairwise(cuts)):
            for lo in range(a, b, most):
                hi = min(b, lo + most)
                part = [x[:, lo:hi] for x in arrays] if hi - lo < n else list(arrays)
                group = Group(
                    plan,
                    start[g].tolist(),
                    reached[g].tolist(),
                    part[0],
                    part[1],
                    part[2],
                    part[3],
                    cache=self._runs,
                )
                if tagger is None or unreported is None:
                    self._add_group(group)
                else:
                    self._add_tagged(group, unreported[lo:hi], met[g], tagger, segments)

    def _add_stepped(self, out: Any, inputs: StepInputs, tagger: Tagger | None) -> None:
        """Count draws stepped whole (:func:`sim.model.stepper.step`'s output ``out``)."""
        views = level_views(self.plan, out, self.names, self.members)
        if tagger is None:
            self.add(views, out.reached, out.original)
            return
        tags = tagger(lambda k, m: out.tracks[:, k, m].astype(np.int64), inputs.unreported)
        self._slots(tags)
        self.add(views, out.reached, out.original, tags - self.tags[0])

    def _few_per_group(self, inputs: StepInputs, groups: int) -> bool:
        """Whether the draws' timing groups hold fewer than :data:`DENSE_GROUP_DRAWS`
        draws on average (scaled to the plan's months, :data:`DENSE_MONTHS`): ``groups``
        of them by the whole timing key, and each theater's draws grouped by the months
        of its own windows (as :meth:`_add_by_theater` steps them). Draws with many
        milestones, each with its own drawn execution delay, can have so many timing keys
        that a group holds a handful of draws, even theater by theater; stepping every
        month at once then costs less, the fewer the months."""
        n, plan = inputs.n, self.plan
        # (draws a group < DENSE_GROUP_DRAWS * DENSE_MONTHS / months, in whole numbers)
        bound, months = DENSE_GROUP_DRAWS * DENSE_MONTHS, plan.n_months
        if groups * bound <= n * months:
            return False
        counted = [tid for tid in plan.theaters if tid in self._counted]
        if not counted:  # (a pass of a tagger's reads alone: theater by theater)
            return False
        start, reached, _ = window_months(plan, inputs.delay, inputs.exec_delay)
        total = sum(
            len(row_groups(self._window_columns(tid, start, reached), n)[1]) - 1 for tid in counted
        )
        return total * bound > n * len(counted) * months

    def _window_columns(
        self, tid: str, start: NDArray[np.int32], reached: NDArray[np.int32]
    ) -> list[NDArray[np.int32]]:
        """The columns (n,) that group theater ``tid``'s draws: the start and reached
        months of the windows that move its tracks (:meth:`~sim.model.plan.Plan.track_timed`),
        of ``start`` and ``reached`` (n, milestones)."""
        plan = self.plan
        timed = sorted({j for k in plan.theater_tracks(tid) for j in plan.track_timed(k)})
        return [start[:, j] for j in timed] + [reached[:, j] for j in timed]

    def _add_dense(self, inputs: StepInputs, tagger: Tagger | None) -> None:
        """Count draws of tiny timing groups (:meth:`_few_per_group`) stepped every month
        at once, as the model is written (:func:`sim.model.stepper.step_dense`, which
        gives :func:`~sim.model.stepper.step`'s levels to the bit), in parts of at most
        :data:`DENSE_STEP_BYTES`. A scenario of 10 theaters of 3 sites over 120 months, every
        milestone with a drawn execution delay, took 146 s at 2,000 draws stepped group
        by group."""
        plan, n = self.plan, inputs.n
        per_draw = plan.n_months * (4 * len(plan.tracks) + 12 * 8)
        most = max(1, DENSE_STEP_BYTES // per_draw)
        for lo in range(0, n, most):
            part = inputs if most >= n else inputs.subset(slice(lo, min(n, lo + most)))
            self._add_stepped(step_dense(plan, part), part, tagger)

    def _rows_counted(self) -> tuple[NDArray[np.int64], ...] | None:
        """The rows of the tracks, milestones (twice: start levels and targets) and
        residuals of the theaters counted here, when some theater is not; else None."""
        plan = self.plan
        counted = [tid for tid in plan.theaters if tid in self._counted]
        if sum(len(plan.theater_tracks(tid)) for tid in counted) == len(plan.tracks):
            return None
        return input_rows(plan, [k for tid in counted for k in plan.theater_tracks(tid)])

    def _add_by_theater(
        self,
        inputs: StepInputs,
        arrays: tuple[NDArray[np.float64], ...],
        tagger: Tagger | None = None,
    ) -> None:
        """Count the draws theater by theater, each theater's draws grouped by the months
        of its own windows only (:meth:`~sim.model.plan.Plan.track_timed`). Where each
        draw has a timing key of its own (many milestones, each with an execution
        delay), a theater's draws still share few window months, so each theater is
        stepped in few groups. ``arrays``: the draws' initial levels, windows' start
        levels and targets, and residual sizes, each (rows, n), in draw order.

        With ``tagger`` (which says the levels it reads, :attr:`Tagger.reads`), the
        draws are stepped twice: first the levels the tagger reads, theater by theater,
        into arrays in draw order, which tag every draw at once; then each theater's
        groups are counted, each draw in the slot of its tag."""
        plan, n = self.plan, inputs.n
        start, reached, met = window_months(plan, inputs.delay, inputs.exec_delay)
        counted = [tid for tid in plan.theaters if tid in self._counted]
        if tagger is None:
            self.met += met.sum(axis=0)
            self.n += n
            self._pending = True
            for tid in counted:
                for _, group in self._theater_groups(tid, start, reached, arrays, n):
                    self._add_group(group, tid)
            return
        # the levels the tagger reads, each (n,) in draw order, a theater at a time
        read: dict[tuple[int, int], NDArray[np.int64]] = {}
        wanted: dict[str, list[tuple[int, int]]] = {}
        for k, m in tagger.reads:
            wanted.setdefault(plan.tracks[k].theater, []).append((k, m))
        for tid, pairs in wanted.items():
            for where, group in self._theater_groups(tid, start, reached, arrays, n):
                for k, m in pairs:
                    out = read.get((k, m))
                    if out is None:
                        out = read[k, m] = np.empty(n, np.int64)
                    out[where] = group.level_in(k, m)
        tags = tagger(lambda k, m: read[k, m], inputs.unreported)
        self._slots(tags)
        slots = tags - self.tags[0]
        for tid in counted:  # (grouped by slot too: a group's draws share their slot)
            for where, group in self._theater_groups(tid, start, reached, arrays, n, slots):
                mine = slots[where]
                low = int(mine.min())
                self._slot = low if low == int(mine.max()) else mine
                try:
                    self._add_group(group, tid)
                finally:
                    self._slot = 0
        self._count_slots(slots, met)
        self._pending = True

    def _theater_groups(
        self,
        tid: str,
        start: NDArray[np.int32],
        reached: NDArray[np.int32],
        arrays: tuple[NDArray[np.float64], ...],
        n: int,
        slots: NDArray[Any] | None = None,
    ) -> Iterator[tuple[Any, Group]]:
        """Theater ``tid``'s draws in groups that share the months of its windows, made
        one after another: ``(where, group)``, ``where`` the group's draws (a slice or
        indices in draw order); a theater made of sites in parts of at most
        :func:`sites_block` draws. With ``slots`` (n,), the draws of a group share their
        slot too."""
        plan = self.plan
        tracks = plan.theater_tracks(tid)
        columns = self._window_columns(tid, start, reached)
        if slots is not None:
            columns.append(slots)
        order, cuts = row_groups(columns, n)
        if order is None:
            firsts: list[int] = [0]
            taken = tuple(np.ascontiguousarray(a) for a in arrays)
        else:
            firsts = order[cuts[:-1]].tolist()
            rows = input_rows(plan, tracks)
            taken = tuple(take_rows(a, r, order) for a, r in zip(arrays, rows, strict=True))
        most = sites_block(plan) if len(tracks) > 1 else n
        for first, (a, b) in zip(firsts, itertools.pairwise(cuts), strict=True):
            starts, ends = start[first].tolist(), reached[first].tolist()
            for lo in range(a, b, most):
                hi = min(b, lo + most)
                part = [x[:, lo:hi] for x in taken] if hi - lo < n else list(taken)
                initial, level0, target, residual = part
                group = Group(
                    plan, starts, ends, initial, level0, target, residual, cache=self._runs
                )
                yield (slice(lo, hi) if order is None else order[lo:hi]), group

    def _add_tagged(
        self,
        group: Group,
        unreported: NDArray[np.float64],
        met: NDArray[np.bool_],
        tagger: Tagger,
        segments: dict[tuple[int, int], list[int]],
    ) -> None:
        """Count a group's draws, each in the slot of its tag (:meth:`add_draws`);
        ``segments``: :func:`_segments` of the tagger's reads."""

        seen: dict[tuple[int, int], NDArray[np.int64]] = {}

        def level_at(k: int, m: int) -> NDArray[np.int64]:
            got = seen.get((k, m))
            if got is not None:
                return got
            if group.uniform(k):
                got = np.broadcast_to(group.head().level_in(k, m), (group.n,))
            else:  # the months read next to it in one ramp run: one block for all
                months = segments.get((k, m))
                block = None if months is None else group.ramp_months(k, m, months, SEGMENT_MONTHS)
                if block is not None:
                    seen.update(((k, x), row) for x, row in zip(*block, strict=True))
                    return seen[k, m]
                got = group.level_in(k, m)
            seen[k, m] = got
            return got

        tags = tagger(level_at, unreported)
        low, high = self._slots(tags)
        slots = tags - self.tags[0]
        self._slot = low if low == high else slots
        try:
            self._add_group(group)
        finally:
            self._slot = 0
        self._count_slots(slots, met)
        self._pending = True

    def _buffer(self, rows: int, cols: int, dtype: Any, tag: int = 0) -> NDArray[Any]:
        """Scratch room of shape (rows, cols), kept between chunks (``tag`` tells apart
        buffers needed at once)."""
        key = (np.dtype(dtype).num, tag)
        flat = self._scratch.get(key)
        if flat is None or flat.size < rows * cols:
            flat = self._scratch[key] = np.empty(rows * cols, dtype)
        return flat[: rows * cols].reshape(rows, cols)

    def _add_group(self, group: Group, only: str | None = None) -> None:
        """Count a group's draws in every series (or only those of theater ``only``)."""
        plan = self.plan
        head = None
        # one draw may stand for all only when all are counted in one slot
        alike = np.ndim(self._slot) == 0
        for tid in plan.theaters if only is None else [only]:
            tracks = plan.theater_tracks(tid)
            row = self._row.get(tid)
            if len(tracks) == 1 and not plan.tracks[tracks[0]].site:  # a theater on its own
                if row is not None:
                    k = tracks[0]
                    if alike and group.uniform(k):  # every draw alike: one stands for all
                        head = head or group.head()
                        self._stream(row, head, k, group.n)
                    else:
                        self._stream(row, group, k, 1)
                continue
            if self.collect:
                raise Untabled("a theater made of sites")
            if tid not in self._counted:
                continue  # (its rows were not taken into timing order: _rows_counted)
            # a theater made of sites: each site's levels month by month, added to their
            # sum and counted one site at a time (one site's block in memory, not every
            # site's: 10,000 sites held 10,000 blocks of months x draws)
            spans = [group.active(k) for k in tracks]
            lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
            rows = hi - lo + 1
            total: NDArray[np.int64] | None = None
            rising = False
            for k, (a, b) in zip(tracks, spans, strict=True):
                if alike and group.uniform(k):
                    head = head or group.head()
                    blk = head.levels(k, lo, hi)
                    up = head.rises(k, blk, lo, hi)
                else:
                    # (a ramp's months are computed a few at a time in float room of
                    # its own, RAMP_SCRATCH_BYTES: room of every month would add a block)
                    out = self._buffer(rows, group.n, np.int64)
                    blk = group.levels(k, lo, hi, out=out)
                    up = group.rises(k, blk, lo, hi)
                rising = rising or up
                if row is not None:  # (before the site's count, which overwrites blk)
                    if total is None:
                        total = blk.copy()
                    elif blk.shape[1] > total.shape[1]:
                        total = total + blk
                    else:
                        total += blk
                site = self._row.get(plan.tracks[k].key)
                if site is not None:
                    self._tally(
                        site,
                        blk[a - lo : b - lo + 1],
                        a,
                        b,
                        up,
                        group.n if blk.shape[1] == 1 else 1,
                    )
            if row is not None and total is not None:
                self._tally(
                    row,
                    total,
                    lo,
                    hi,
                    None if rising else False,
                    group.n if total.shape[1] == 1 else 1,
                )
        if self._held.nbytes > HELD_BYTES:
            self._fold_held()

    def _stream(self, i: int, group: Group, k: int, weight: int) -> None:
        """Count series i, the levels of track k alone, run by run: a held level is
        counted once for all its months, a ramp a month at a time, or once per
        distinct draw when few draws differ (each draw ``weight`` times)."""
        months = self.plan.n_months
        grid = self.hist[i].reshape(months, self.span)
        n = group.n
        self._mapped(i)
        sums = self.sums[i] if self.sums is not None else None
        scratch = self._buffer(1, n, np.float64, 1)[0]
        pair = self._buffer(2, n, np.int64, 7)
        room = (pair[0], pair[1])

        def spare(held: NDArray[np.int64] | None) -> NDArray[np.int64]:
            """The room for a month's levels that is not ``held`` (the levels the
            next are compared with must not be overwritten by them)."""
            return room[1] if held is room[0] else room[0]

        prev: NDArray[np.int64] | None = None  # the levels of the month before the run
        # (layer, source, last month) of a falling ramp whose last month is not yet
        # computed (prev is then None): the run after it needs it only if it is not
        # the window's own target
        behind: tuple[int, int, int] | None = None
        last: tuple[bool, int, int] | None = None  # (ramp, layer, source) of the run before
        rising = False
        for a, b, ramp, li, source in group.runs(k):
            if behind is not None and not rising:
                if ramp or not (li == 0 == behind[0] and source == behind[1] + 1):
                    prev = group.ramp_month(k, *behind, room[0], scratch)
                behind = None
            if not ramp:
                level = group.held(k, li, source)
                if prev is not None and not rising:
                    rising = bool(np.any(level > prev))
                if self.collect:
                    self._tabled_held(i, a, b, level, weight)
                    prev, last = level, (False, li, source)
                    continue
                low, counts = self._bin(level)
                if weight != 1:
                    counts *= weight
                self._held.add(0, i, a, b, slice(low, low + len(counts)), counts)
                if sums is not None:
                    total = int(level.sum()) * weight
                    self._sums_held[i, a] += total
                    self._sums_held[i, b + 1] -= total
                prev = level
                last = (False, li, source)
                continue
            before, last = last, (True, li, source)
            rising = rising or group.ramp_rises(k, li, source)
            counted = self._tabled(i, group, k, li, source, a, b, weight)
            if self.collect and not counted:
                raise Untabled("a window's inputs take too many combinations")
            if not counted and b - a >= 3:  # few distinct draws: counted once each
                got = None if sums is None else np.zeros(b - a + 1, np.int64)
                distinct = group.ramp_counts(
                    k,
                    li,
                    source,
                    a,
                    b,
                    self.width,
                    self._slot,
                    max(1, len(self.tags)),
                    self._map,
                    got,
                )
                if distinct is not None:
                    if sums is not None and got is not None:
                        sums[a : b + 1] += got * weight
                    low, counts = distinct
                    cols = slice(low, low + counts.shape[1])
                    grid[a : b + 1, cols] += counts * weight if weight != 1 else counts
                    counted = True
            if counted:
                if not rising and li == 0 and before == (False, 0, group.start_source(source)):
                    # a falling ramp from the level held before it: no level rises
                    prev, behind = None, (li, source, b)
                elif not rising:  # the edges, to see whether a level rises there
                    first = group.ramp_month(k, li, source, a, spare(prev), scratch)
                    rising = prev is not None and bool(np.any(first > prev))
                    prev = group.ramp_month(k, li, source, b, spare(first), scratch)
                continue
            # (plain counts: a window with the same inputs counted before, in this
            # variant or another stepped alike, gives its counts, :mod:`windows`)
            memo = window_memo() if len(self.tags) <= 1 and self._map is None else None
            inputs = self._window_inputs(group, k, li, source, a, b) if memo else None
            if memo is not None and (inputs is None or not memo.wanted(inputs)):
                memo = inputs = None
            if memo is not None and inputs is not None:
                hit = memo.find(inputs, sums=sums is not None)
                if hit is not None:
                    for m, (low, counts) in enumerate(hit.months, a):
                        cols = slice(low, low + len(counts))
                        grid[m, cols] += counts * weight if weight != 1 else counts
                    if sums is not None and hit.sums is not None:
                        sums[a : b + 1] += hit.sums * weight
                    # the edges, as the months counted below give them: the first month
                    # only to see whether a level rises there from the month before, the
                    # last as the month the next run is compared with
                    if prev is not None and not rising:
                        first = group.ramp_month(k, li, source, a, spare(prev), scratch)
                        rising = bool(np.any(first > prev))
                        prev = first
                    prev = group.ramp_month(k, li, source, b, spare(prev), scratch)
                    continue
            months_counted: list[tuple[int, NDArray[np.int64]]] = []
            month_sums: list[int] = []
            for m in range(a, b + 1):
                kept = group.kept(k, m)  # (a month the tagger read is not computed again)
                if kept is None:
                    level = group.ramp_month(k, li, source, m, spare(prev), scratch)
                else:
                    level = kept
                if m == a and prev is not None and not rising:
                    rising = bool(np.any(level > prev))
                if sums is not None:
                    month_sums.append(int(level.sum()))
                    sums[m] += month_sums[-1] * weight
                low, counts = self._bin(level)
                if memo is not None:
                    months_counted.append(trimmed(low, counts))
                grid[m, low : low + len(counts)] += counts * weight if weight != 1 else counts
                prev = level
            if memo is not None and inputs is not None:
                summed = np.array(month_sums, np.int64) if sums is not None else None
                memo.keep(inputs, WindowCounts(months_counted, summed))
        if rising:  # the running minimum differs from the level: count the difference
            if self.collect:
                raise Untabled("a level rises")
            self._count_rises(group, k, weight, i)
        self._map = None

    def _window_inputs(
        self, group: Group, k: int, li: int, source: int, a: int, b: int
    ) -> WindowInputs | None:
        """What months a..b of a ramp run of track k follow from
        (:class:`~sim.analysis.windows.WindowInputs`), or None for a window of fewer
        than :data:`MEMO_MONTHS` months (not worth keeping)."""
        if b - a + 1 < MEMO_MONTHS:
            return None
        parts, j = group.ramp_parts(k, li, source)
        floor = parts[2] if len(parts) > 2 else None
        return WindowInputs(parts[0], parts[1], floor, group.window_shares(j, a, b))

    def _count_rises(self, group: Group, k: int, weight: int, i: int) -> None:
        """Add to series i's running-minimum correction (:meth:`lowest_counts`) the
        running minimum's counts less the level's, of track k's levels in every month, a
        block of months at a time (as many as :data:`RISE_BYTES` holds of the group's
        draws; the running minimum carried from one block to the next), so that the
        levels of all the months are not held at once (four arrays (months, draws):
        200 MB for 24 months of 2^18 draws held in one timing group)."""
        months = self.plan.n_months
        lower = self.lowest_counts()[i]
        step = max(1, RISE_BYTES // (8 * max(1, group.n)))
        carry: NDArray[np.int64] | None = None  # the running minimum of the months before
        for lo in range(0, months, step):
            block = group.levels(k, lo, min(months, lo + step) - 1)
            lowest = running_minimum(block, carry)
            carry = lowest[-1].copy()  # (_count overwrites what it counts)
            self._count_apart(i, lowest, block, lo, weight, lower, group.n)

    def _count_apart(
        self,
        i: int,
        lowest: NDArray[np.int64],
        levels: NDArray[np.int64],
        lo: int,
        weight: int,
        lower: NDArray[Any],
        n: int,
    ) -> None:
        """Add to ``lower`` (months * span), series i's correction, ``weight`` per draw
        at its running minimum ``lowest`` and take it away at its level ``levels`` (both
        (months lo.., draws of a group of ``n``)): by stretch between marks
        (:meth:`_count_stretches`, ``levels`` unchanged), or for a mapped series level by
        level, for only the draws whose two differ when those are few or the columns far
        outnumber the draws (a draw at its lowest adds and takes away the same count;
        both arrays overwritten)."""
        if self._starts is not None:
            self._count_stretches(self._starts[i], lowest, levels, lo, weight, lower)
            return
        if (
            np.count_nonzero(lowest != levels) * FEW_RISES >= levels.size
            and self.span <= SPARSE_SPAN * n
        ):  # (counted in every column from the lowest, a page of each written)
            self._count(lowest, lo, weight, lower)
            self._count(levels, lo, -weight, lower)
            return
        self._count_differing(lowest, levels, lo, weight, lower)

    def _count_stretches(
        self,
        starts: NDArray[np.int64],
        lowest: NDArray[np.int64],
        levels: NDArray[np.int64],
        lo: int,
        weight: int,
        lower: NDArray[Any],
    ) -> None:
        """:meth:`_count_apart` where the correction is counted by stretch of levels
        between marks (``starts``, :meth:`_marked`): a few months at a time (at most
        :data:`RISE_BYTES` of them), each draw's stretch at its lowest and at its level
        counted in one bincount of (months, stretches, slots) each, and their difference
        added at each stretch's first level (a draw in the same stretch at both adds
        nothing). ``levels`` is not changed."""
        months = self.plan.n_months
        grid = lower.reshape(months, self.span)
        k, size = len(starts), max(1, len(self.tags))
        if k == 1:  # one stretch: every draw's lowest and level in it
            return

        def counted(values: NDArray[np.int64]) -> NDArray[np.int64]:
            """The draws of ``values`` (rows, draws) in each (month, stretch, slot)."""
            if values.size and not 0 <= int(values.min()) <= int(values.max()) <= self.bound:
                # (a level out of range would be counted in the last stretch)
                raise ValueError(f"expected levels from 0 to {self.bound}, found {values}")
            rows = values.shape[0]
            # (the stretch of each: 1..k, then from 0, then its month's and slot's)
            at = np.searchsorted(starts, values, side="right")
            at += (np.arange(rows, dtype=np.int64) * k - 1)[:, None]
            if size > 1:
                at *= size
                at += self._slot
            return np.bincount(at.ravel(), minlength=rows * k * size)

        step = max(1, RISE_BYTES // (8 * max(1, levels.shape[1])))
        for r in range(0, levels.shape[0], step):
            rows = min(step, levels.shape[0] - r)
            diff = counted(lowest[r : r + rows])
            diff -= counted(levels[r : r + rows])  # (the lowest's counts less the level's)
            month, stretch, slot = np.nonzero(diff.reshape(rows, k, size))
            if month.size:
                counts = diff.reshape(rows, k, size)[month, stretch, slot]
                grid[lo + r + month, starts[stretch] * size + slot] += (
                    counts * weight if weight != 1 else counts
                )

    def _count_differing(
        self,
        lowest: NDArray[np.int64],
        levels: NDArray[np.int64],
        lo: int,
        weight: int,
        lower: NDArray[Any],
    ) -> None:
        """:meth:`_count_apart` of the (month, draw) pairs whose ``lowest`` and
        ``levels`` differ only, in the columns they take (:meth:`_count_taken`)."""
        months = self.plan.n_months
        rows, draws = np.nonzero(lowest != levels)
        start = (rows + lo) * self.span  # where each one's month begins
        grid = lower.reshape(months, self.span)
        for values, w in ((lowest, weight), (levels, -weight)):
            # (a new array: indexed from the block)
            at = self._columns(values[rows, draws], draws)
            if at.size and not 0 <= int(at.min()) <= int(at.max()) < self.span:
                # (counted as one flat array, it would land in another month's columns)
                raise ValueError(f"expected columns from 0 to {self.span - 1}, found {at}")
            at += start
            self._count_taken(at, self.span, 0, 0, w, grid, 0, None)

    def _tabled(
        self, i: int, group: Group, k: int, li: int, source: int, a: int, b: int, weight: int
    ) -> bool:
        """Count months a..b of a ramp run of track k (series i) in a ramp table, to be
        counted out at the end (:mod:`sim.analysis.ramps`); False when they cannot be
        (inputs that take too many combinations). Tagged draws go to a tagged table,
        their tags one more part of it (their slots within the month's columns follow
        when it is counted out, so a table may span tags counted in slots laid out
        again since)."""
        parts, j = group.ramp_parts(k, li, source)
        s, r = group.start[j], group.reached[j]
        key: tuple[int, ...] = (i, a, b, j, s, r, len(parts))
        if key in self._untabled:  # too wide once: counted draw by draw since
            return False
        if key not in self._ramps:
            shares = np.asarray(group.window_shares(j, a, b), np.float64)
            self._ramps[key] = RampTable(shares, len(parts) > 2, tagged=bool(self.tags))
        if self.tags:  # tagged draws: the tag (not the slot: slots may be renumbered)
            tag = self._slot + self.tags[0]
            parts = [*parts, tag if np.ndim(tag) else np.broadcast_to(tag, (group.n,))]
        if not self._add_to(key, parts, weight):
            self._untabled.add(key)
            return False
        return True

    def _tabled_held(self, i: int, a: int, b: int, level: NDArray[np.int64], weight: int) -> None:
        """Keep a held run of series i (months a..b, levels (g,)) as a table (collecting)."""
        key = (i, a, b, -1, -1, -1, 1)
        if key not in self._ramps:
            self._ramps[key] = RampTable(np.zeros(1), False)
        if not self._add_to(key, [level], weight):
            raise Untabled("a held level takes too many values")

    def _add_to(self, key: tuple[int, ...], parts: list[NDArray[Any]], weight: int) -> bool:
        """Add draws to the table under ``key`` (:meth:`RampTable.add`; a new table is
        dropped when it refuses them), within the budget: past :data:`RAMP_BYTES` the
        tables are counted out (collecting, past :data:`COLLECT_BYTES`: :class:`Untabled`)."""
        table = self._ramps[key]
        before = table.nbytes if table.spans else 0  # (a new table: not yet counted)
        if not table.add(parts, weight):
            if not table.spans:
                del self._ramps[key]
            return False
        self._ramp_bytes += table.nbytes - before
        if self._ramp_bytes > (COLLECT_BYTES if self.collect else RAMP_BYTES):
            if self.collect:
                raise Untabled(f"more than {COLLECT_BYTES >> 20} MB of tables")
            self._count_ramps()
        return True

    def tables(self) -> dict[tuple[int, ...], RampTable]:
        """What a collecting accumulator kept: every run of every series, as tables
        keyed by ``(series, first month, last month, ...)`` (:meth:`count_tables`)."""
        return self._ramps

    def count_tables(self, tables: dict[tuple[int, ...], RampTable], rows: Sequence[int]) -> None:
        """Count the draws a collecting accumulator of the same plan kept (``tables``,
        its ``n`` and ``met`` set here by the caller), for its series ``rows`` (this
        accumulator's series, in order), with this accumulator's maps; then settle."""
        where = {i: r for r, i in enumerate(rows)}
        self._ramps = {
            (where[key[0]], *key[1:]): table for key, table in tables.items() if key[0] in where
        }
        self._pending = True
        self._settle()

    def _count_ramps(self) -> None:
        """Add what the ramp tables hold to the counts (and the month sums), and empty
        them."""
        months = self.plan.n_months
        for (i, a, b, j, *_), table in self._ramps.items():
            grid = self.hist[i].reshape(months, self.span)
            mapping = None if self.maps is None else self.maps[i]
            if table.tagged:  # tagged draws (:meth:`_tabled`): level * S + slot
                month, levels, n, tag = table.tagged_cells()
                cols = levels * len(self.tags) + (tag - self.tags[0])
            else:
                month, levels, n = table.cells()  # months ascending, each month taken
                cols = levels if mapping is None else mapping(levels)
            if not len(month):
                continue
            if j < 0:  # a level held over months a..b: counted as a held stretch
                self._held.add(0, i, a, b, cols, n.astype(COUNT))
                if self.sums is not None:
                    total = int(levels @ n)
                    self._sums_held[i, a] += total
                    self._sums_held[i, b + 1] -= total
                continue
            rows = int(month[-1]) + 1
            if self.sums is not None:  # (exact in int64: no float weights)
                starts = np.searchsorted(month, np.arange(rows))
                self.sums[i, a : a + rows] += np.add.reduceat(levels * n, starts)
            if rows * self.span <= 4 * len(n) + (1 << 16):  # one count of a small block
                flat = month * self.span + cols
                got = np.bincount(flat, weights=n, minlength=rows * self.span)
                grid[a : a + rows] += got.reshape(rows, self.span).astype(COUNT)
            else:
                np.add.at(grid, (month + a, cols), n.astype(COUNT))
        self._ramps = {}
        self._ramp_bytes = 0

    def _tally(
        self,
        i: int,
        block: NDArray[np.int64],
        lo: int,
        hi: int,
        rising: bool | None = None,
        weight: int = 1,
    ) -> None:
        """Count series i's levels ``block`` (months lo..hi, draws), each draw ``weight``
        times; the months before ``lo`` hold ``block[0]``, those after ``hi`` hold
        ``block[-1]``. ``rising``: whether a level may rise from one month to the
        next (None: look). ``block`` is overwritten."""
        months, width = self.plan.n_months, self.span
        held = self._held
        self._mapped(i)
        if self.sums is not None:  # each month's sum, before the block is overwritten
            self.sums[i, lo : hi + 1] += block.sum(axis=1) * weight
            if lo > 0:
                before = int(block[0].sum()) * weight
                self._sums_held[i, 0] += before
                self._sums_held[i, lo] -= before
            if hi < months - 1:
                self._sums_held[i, hi + 1] += int(block[-1].sum()) * weight

        def count(values: NDArray[np.int64]) -> NDArray[np.int64]:
            out = np.bincount(self._columns(values), minlength=width)
            return out * weight if weight != 1 else out

        if lo > 0:
            counts = count(block[0])
            held.add(0, i, 0, lo - 1, slice(None), counts)
        if hi < months - 1:
            last = count(block[-1])
            held.add(0, i, hi + 1, months - 1, slice(None), last)
        if rising is None:
            rising = block.shape[0] > 1 and bool(np.any(block[1:] > block[:-1]))
        if rising:
            lower = self.lowest_counts()[i]
            lowest = running_minimum(block)
            if hi < months - 1:
                apart = count(self._marked(i, lowest[-1])) - count(self._marked(i, block[-1]))
                held.add(1, i, hi + 1, months - 1, slice(None), apart)
            if self._starts is None:  # (the block counted in both at once)
                self._count(lowest, lo, weight, lower)
                self._count(block, lo, -weight, lower, weight, self.hist[i])
            else:  # (the block is not overwritten there)
                self._count_apart(i, lowest, block, lo, weight, lower, block.shape[1])
                del lowest
                self._count(block, lo, weight, self.hist[i])
        else:
            self._count(block, lo, weight, self.hist[i])
        self._map = None

    def _count(
        self,
        levels: NDArray[np.int64],
        lo: int,
        weight: int,
        dest: NDArray[np.int64],
        weight2: int = 0,
        dest2: NDArray[np.int64] | None = None,
    ) -> None:
        """Add ``weight`` per draw at each level of ``levels`` (months lo.., draws) to
        ``dest`` (months * span), each draw in its slot, and ``weight2`` to ``dest2``.
        ``levels`` is overwritten."""
        months, width = self.plan.n_months, self.span
        levels = self._columns(levels, over=True)  # (no scratch as large as the levels)
        grid = dest.reshape(months, width)
        grid2 = None if dest2 is None else dest2.reshape(months, width)
        rows, n = levels.shape
        if n >= 2 * width:  # many draws: a month per bincount, every level
            for r in range(rows):
                counts = np.bincount(levels[r], minlength=width)
                if grid2 is not None:
                    _add_scaled(grid2[lo + r], counts, weight2)
                _add_scaled(grid[lo + r], counts, weight)
            return
        # few draws: a few months per bincount, over the levels they take, at least
        # TILE_LEVELS of them (each tile costs a dozen numpy calls besides its levels)
        tile = max(4, TILE_LEVELS // max(1, n))
        for r0 in range(0, rows, tile):
            part = levels[r0 : r0 + tile]
            t = part.shape[0]
            floor, top = int(part.min()), int(part.max())
            span = top - floor + 1  # count only the levels the draws take
            part -= floor
            if span > SPARSE_SPAN * n:  # far more columns than draws
                if t > 1:
                    part += (np.arange(t, dtype=np.int64) * span)[:, None]
                self._count_taken(part, span, lo + r0, floor, weight, grid, weight2, grid2)
                continue
            # (a month per bincount where the months' columns together pass TILE_COLUMNS)
            step = t if t * span <= TILE_COLUMNS else 1
            for s0 in range(0, t, step):
                some = part[s0 : s0 + step]
                if step > 1:
                    some += (np.arange(step, dtype=np.int64) * span)[:, None]
                counts = np.bincount(some.ravel(), minlength=step * span).reshape(step, span)
                where = (slice(lo + r0 + s0, lo + r0 + s0 + step), slice(floor, top + 1))
                if grid2 is not None:
                    _add_scaled(grid2[where], counts, weight2)
                _add_scaled(grid[where], counts, weight)

    @staticmethod
    def _count_taken(
        part: NDArray[np.int64],
        span: int,
        row: int,
        floor: int,
        weight: int,
        grid: NDArray[Any],
        weight2: int,
        grid2: NDArray[Any] | None,
    ) -> None:
        """Add the draws ``part`` (any shape), each ``month * span + column - floor``
        (months from 0), to rows ``row..`` of ``grid`` (``weight`` each) and of ``grid2``
        (``weight2``), in the columns some draw takes only: the distinct values and how
        many draws take each (:func:`numpy.unique`, a sort of the draws) in place of a
        count of every column from ``floor``, whose zeros would be written too (a page
        of counts taken for each, and a scratch array as wide)."""
        taken, hits = np.unique(part.ravel(), return_counts=True)
        rows, cols = np.divmod(taken, span)
        rows += row
        cols += floor
        if grid2 is not None:
            grid2[rows, cols] += hits * weight2 if weight2 != 1 else hits
        grid[rows, cols] += hits * weight if weight != 1 else hits

    def _settle(self) -> None:
        """Fold the ramp tables and held stretches into ``hist``; count ``first``."""
        if self._ramps:
            self._count_ramps()
        if not self._pending:
            return
        self._fold_held()
        if self.sums is not None:
            self.sums += np.cumsum(self._sums_held, axis=1)[:, : self.plan.n_months]
            self._sums_held[...] = 0
        if not self.tags:  # (tagged counts: the dates come from the weighted summaries)
            self._count_first()
        self._pending = False

    def _fold_held(self) -> None:
        """Add the held stretches' running sums over the months to the counts, and drop
        their rows (:meth:`HeldStretches.fold`)."""
        months, width = self.plan.n_months, self.span
        for array, i in sorted(self._held.arrays()):
            dest = self.hist if array == 0 else self.lowest_counts()
            self._held.fold(array, i, dest[i].reshape(months, width))

    def _count_first(self) -> None:
        """``first`` from the settled counts (and the running-minimum correction)."""
        months, width = self.plan.n_months, self.span
        for k, (name, _, level) in enumerate(self.marks):
            row = self._row[name]
            if level < 0:
                reached = np.zeros(months, np.int64)
            elif self._rose:
                low = (self.hist[row] + self.lowest_counts()[row]).reshape(months, width)
                reached = low[:, : min(level, self.bound) + 1].sum(axis=1)
            else:  # (summed in int64 a buffer at a time: no copy of the counts)
                h = self.hist[row].reshape(months, width)[:, : min(level, self.bound) + 1]
                reached = h.sum(axis=1, dtype=np.int64)
            self.first[k, :months] = np.diff(reached, prepend=0)
            self.first[k, months] = self.n - reached[-1]

    def _taken(self, i: int) -> tuple[int, NDArray[np.int32]]:
        """``(low, counts (months, levels low..top))`` of series i over the levels that
        some draw takes in some month (every count outside them is 0); a view."""
        months, width = self.plan.n_months, self.bound + 1
        h = self.hist[i].reshape(months, width)
        taken = np.flatnonzero(h.any(axis=0))
        low, top = (int(taken[0]), int(taken[-1])) if len(taken) else (0, 0)
        return low, h[:, low : top + 1]

    # -- summaries

    def counts_at(self, name: str, month: int) -> NDArray[np.int64]:
        """The draws at each level ``0 .. bound`` [troops] of series ``name`` (a theater or
        site) in month index ``month``."""
        self._settle()
        width = self.bound + 1
        return self.hist[self._row[name], month * width : (month + 1) * width]

    def first_months(self, k: int) -> NDArray[np.int64]:
        """The draws first at or below mark ``k`` in each month index (months + 1
        entries; the last: never within the horizon)."""
        self._settle()
        return self.first[k]

    def bands(self, scenario: str, variant: str) -> pd.DataFrame:
        """``bands.csv`` rows of the draws counted."""
        return bands_of([self.band_columns(scenario, variant)])

    def band_columns(self, scenario: str, variant: str) -> BandColumns:
        """The columns of :meth:`bands` (:func:`sim.analysis.summaries.band_columns`)."""
        self._settle()
        columns: dict[str, list[NDArray[Any]]] = {c: [] for c in BAND_COLUMNS[4:]}
        for i in range(len(self.names)):
            base, counts = self._taken(i)
            w = counts.shape[1]
            # the months in blocks of at most BLOCK_BYTES of running sums (int64)
            step = max(1, BLOCK_BYTES // (8 * w))
            parts: dict[str, list[NDArray[np.int64]]] = {c: [] for c in columns}
            for m0 in range(0, counts.shape[0], step):
                h = counts[m0 : m0 + step]
                cum = np.cumsum(h, axis=1, dtype=np.int64)
                nonzero = h > 0
                parts["mean"].append(value_sums(cum, base + w - 1))  # levels base..
                parts["min"].append(base + nonzero.argmax(axis=1))
                for q in PERCENTILES:
                    parts[f"p{q:02d}"].append(base + inverse_cdf(cum, q, self.n))
                parts["max"].append(base + w - 1 - nonzero[:, ::-1].argmax(axis=1))
            sums = np.concatenate(parts.pop("mean"))
            columns["mean"].append(rounded_all(sums, self.n, MEAN_PLACES))
            for c, got in parts.items():
                columns[c].append(np.concatenate(got))
        return band_columns(scenario, variant, self.plan, self.names, columns)

    def dates(self, scenario: str, variant: str) -> pd.DataFrame:
        """``dates.csv`` rows of the draws counted."""
        return dates_of([self.date_rows(scenario, variant)])

    def date_rows(self, scenario: str, variant: str) -> list[dict[str, Any]]:
        """The rows of :meth:`dates` (:func:`sim.analysis.summaries.date_rows`)."""
        self._settle()
        return date_rows(self.plan, self.marks, self.first, self.n, scenario, variant)


def sites_block(plan: Plan) -> int:
    """The most draws stepped at once for a theater made of sites: :data:`SITES_BLOCK`,
    fewer where a site's levels over every month of ``plan`` would take more than
    :data:`SITES_BYTES` (at 600 months: 3,495 draws)."""
    return max(1, min(SITES_BLOCK, SITES_BYTES // (8 * plan.n_months)))


def _segments(reads: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """For each ``(track, month)`` of ``reads`` within a stretch of at least
    :data:`SEGMENT_MONTHS` consecutive months read of that track, the months of that
    stretch: a tagger's levels there are computed as one block where they lie in one
    ramp run (:meth:`Group.ramp_months`), not month by month (6,000 monthly reports
    read 460,000 months one at a time at 10^5 draws)."""
    by_track: dict[int, list[int]] = {}
    for k, m in reads:
        by_track.setdefault(k, []).append(m)
    out: dict[tuple[int, int], list[int]] = {}
    for k, months in by_track.items():
        months = sorted(set(months))
        start = 0
        for j in range(1, len(months) + 1):
            if j == len(months) or months[j] != months[j - 1] + 1:
                if j - start >= SEGMENT_MONTHS:
                    run = months[start:j]
                    out.update(((k, m), run) for m in run)
                start = j
    return out


@dataclass(frozen=True)
class Binned:
    """A map of levels to columns for :class:`Accumulator`: level ``L`` [troops] is
    counted in bin ``L >> shift`` (bins of ``2**shift`` troops)."""

    shift: int

    def __call__(self, levels: NDArray[np.int64]) -> NDArray[np.int64]:
        """The columns (a new array, the shape of ``levels``)."""
        return np.right_shift(levels, self.shift)


@dataclass(frozen=True)
class Within:
    """A map of levels to columns for :class:`Accumulator`: the levels inside chosen
    bins of ``2**shift`` troops counted in finer bins of ``2**finer`` troops (one per
    level when ``finer`` is 0), every other level in one column.

    ``slot[b]`` (bins,) is the place of bin ``b`` among the chosen ones, or -1; with
    ``d = shift - finer``, level ``L`` of a chosen bin goes to column
    ``(slot[L >> shift] << d) + ((L >> finer) mod 2**d)``, any other level to column
    ``other``. :meth:`tabled` adds ``direct``."""

    shift: int
    slot: NDArray[np.int64]
    other: int
    finer: int = 0
    #: the column of every level 0..top, when given (one lookup instead of five steps)
    direct: NDArray[np.int64] | None = None

    def __call__(self, levels: NDArray[np.int64]) -> NDArray[np.int64]:
        """The columns (a new array, the shape of ``levels``)."""
        if self.direct is not None:
            return self.direct[levels]  # type: ignore[no-any-return]
        d = self.shift - self.finer
        place = self.slot[np.right_shift(levels, self.shift)]
        out = np.left_shift(place, d)
        out += np.bitwise_and(np.right_shift(levels, self.finer), (1 << d) - 1)
        out[place < 0] = self.other
        return out

    def tabled(self, top: int) -> Within:
        """The same map with the column of every level ``0 .. top`` looked up."""
        return replace(self, direct=self(np.arange(top + 1, dtype=np.int64)))


def running_minimum(
    block: NDArray[np.int64], carry: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """Each draw's lowest level so far, month by month: a new array (months, draws),
    row ``r`` the least of rows ``0..r`` of ``block`` (months, draws) and of ``carry``
    (draws,), the running minimum of the months before, when given.

    The same numbers as ``np.minimum.accumulate(block, axis=0)``, a row at a time for
    :data:`ROW_MINIMUM_DRAWS` draws or more: each row's minimum is one pass over
    contiguous memory, where the accumulation along the first axis walks the draws with
    a stride (600 months of 20,000 draws: 26 ms against 226 ms); for fewer draws, a
    call per row costs more than the stride (600 months of one draw: 0.8 ms against
    0.005 ms)."""
    if block.shape[1] < ROW_MINIMUM_DRAWS:
        lowest = np.minimum.accumulate(block, axis=0)
        if carry is not None:
            np.minimum(lowest, carry, out=lowest)
        return lowest
    lowest = np.empty_like(block)
    if not block.shape[0]:
        return lowest
    if carry is None:
        lowest[0] = block[0]
    else:
        np.minimum(block[0], carry, out=lowest[0])
    for r in range(1, block.shape[0]):
        np.minimum(lowest[r - 1], block[r], out=lowest[r])
    return lowest


def _add_scaled(dest: NDArray[Any], counts: NDArray[np.int64], weight: int) -> None:
    """``dest += counts * weight`` in place: for a weight of 1 or -1 (nearly every
    count) without a product as large as ``counts``."""
    if weight == 1:
        dest += counts
    elif weight == -1:
        dest -= counts
    elif weight:
        dest += counts * weight


def _widened(
    a: NDArray[Any], rows: int, count: int, at: int, size: int, release: bool
) -> NDArray[Any]:
    """Counts ``a`` (series, months * width * count), ``rows`` rows of ``count`` slots
    (series x months x levels), laid out over ``size`` slots, the old ones going to slots
    ``at..at + count - 1`` and the rest 0: a new array (series, months * width * size).

    Filled a block of rows at a time (at most :data:`WIDEN_BYTES` of them), each old
    block's pages handed back once copied when ``release`` (nothing reads ``a`` after:
    :func:`~sim.analysis.heap.release_pages`), so that the new counts and a block are
    held at once, not the old counts whole beside the new (where pages cannot be
    handed back, the old counts stay until ``a`` is dropped)."""
    series = a.shape[0]
    # (no page taken until written: lazy_zeros)
    out = lazy_zeros((series, a.shape[1] // count * size), COUNT)
    # (only the rows that hold a draw are written where the new counts are large enough
    # to be laid out lazily: the pages of a small array are all taken anyway)
    sparse = out.nbytes >= LAZY_FROM
    src, dst = a.reshape(rows, count), out.reshape(rows, size)
    step = max(1, WIDEN_BYTES // (np.dtype(COUNT).itemsize * size))
    done = 0  # bytes of ``a`` copied
    for r in range(0, rows, step):
        # only the rows that hold some draw are written: a month's draws take a few of
        # the levels the series may take, and the pages of the rest stay untouched
        block = src[r : r + step]
        if not sparse:  # (a small array's pages: copied as they are)
            dst[r : r + step, at : at + count] = block
            copied = src[: r + step].nbytes
            if release:
                release_pages(a, done, copied)
            done = copied
            continue
        taken = slots_held(block)
        if taken.all():  # (every row: copied as it is)
            dst[r : r + step, at : at + count] = block
        elif taken.any():
            held = np.flatnonzero(taken)
            rows_held = block[held]
            dst[np.add(held, r, out=held), at : at + count] = rows_held
        copied = src[: r + step].nbytes
        if release:
            release_pages(a, done, copied)
        done = copied
    return out


@dataclass(frozen=True)
class PackedCounts:
    """An array of counts as a part sends it back (:meth:`Accumulator.__getstate__`):
    of each row (a series' counts in a month), only the columns from the first that
    holds a count to the last. A month's draws take few of the levels a series may
    take, so most of each row is 0: the 100 conditioned variants of
    ``bench_results.py`` on 2 workers sent each part's counts whole (46 MB a variant,
    about 10 % of it counts), and the command's process received them two parts at a
    time. :meth:`unpacked` lays them out again in memory of their own, of which only
    the pages of the columns sent are taken (:func:`~sim.analysis.heap.lazy_zeros`).

    An array whose rows' columns sent would be more than half of it is sent whole, as
    it is (no copy beside it in the part's process).

    ``shape``, ``dtype``: the array's; ``row``: values per row; ``firsts``,
    ``lengths`` (rows,): where each row's columns sent start, and how many (0: none);
    ``values``: those columns, row after row; or ``firsts`` None and ``values`` the
    whole array."""

    shape: tuple[int, ...]
    dtype: str
    row: int
    firsts: NDArray[np.int32] | None
    lengths: NDArray[np.int32] | None
    values: NDArray[Any]

    @classmethod
    def of(cls, counts: NDArray[Any], row: int) -> PackedCounts:
        """The columns of each row of ``row`` values of ``counts`` (C-contiguous, of a
        whole number of rows) from the first that holds a count to the last."""
        grid = counts.reshape(-1, row)
        rows = grid.shape[0]
        firsts = np.zeros(rows, np.int32)  # (a row's columns: within int32)
        lengths = np.zeros(rows, np.int32)
        step = max(1, WIDEN_BYTES // max(1, row))  # (a bool copy of a block of rows)
        for a in range(0, rows, step):
            taken = grid[a : a + step] != 0
            first = taken.argmax(axis=1)
            last = row - 1 - taken[:, ::-1].argmax(axis=1)
            held = taken.any(axis=1)
            firsts[a : a + step] = np.where(held, first, 0)
            lengths[a : a + step] = np.where(held, last - first + 1, 0)
        sent = int(lengths.sum(dtype=np.int64)) * counts.itemsize + 8 * rows
        if 2 * sent > counts.nbytes:  # (mostly held: as it is)
            return cls(counts.shape, counts.dtype.str, row, None, None, counts)
        values = np.empty(int(lengths.sum(dtype=np.int64)), counts.dtype)
        at = 0
        for i in np.flatnonzero(lengths).tolist():
            f, n = int(firsts[i]), int(lengths[i])
            values[at : at + n] = grid[i, f : f + n]
            at += n
        return cls(counts.shape, counts.dtype.str, row, firsts, lengths, values)

    def unpacked(self) -> NDArray[Any]:
        """The array of counts (zeros outside the columns sent): the array sent, when
        sent whole; else in memory of its own."""
        if self.firsts is None or self.lengths is None:
            return self.values
        out = lazy_zeros(self.shape, np.dtype(self.dtype))
        grid = out.reshape(-1, self.row)
        at = 0
        for i in np.flatnonzero(self.lengths).tolist():
            f, n = int(self.firsts[i]), int(self.lengths[i])
            grid[i, f : f + n] = self.values[at : at + n]
            at += n
        return out


def _add_held(dest: NDArray[Any], src: NDArray[Any]) -> None:
    """``dest += src`` (C-contiguous, of one shape), written only where ``src`` holds a
    count, a block of at most :data:`WIDEN_BYTES` at a time: the pages of ``dest`` that
    no count of ``src`` falls in are not written (nor taken, where no draw was counted
    in them either: :func:`~sim.analysis.heap.lazy_zeros`)."""
    if not (dest.flags.c_contiguous and src.flags.c_contiguous):  # (reshape would copy)
        np.add(dest, src, out=dest, where=src != 0)
        return
    d, s = dest.reshape(-1), src.reshape(-1)
    step = max(1, WIDEN_BYTES // s.dtype.itemsize)
    for a in range(0, s.shape[0], step):
        part = d[a : a + step]
        np.add(part, s[a : a + step], out=part, where=s[a : a + step] != 0)


def slots_held(counts: NDArray[Any]) -> NDArray[np.bool_]:
    """Whether some slot holds a count, over the last axis of ``counts`` (..., slots):
    a strided test per slot, several times faster than ``any`` over a short last axis.
    (Not a sum: a running-minimum correction's slots may cancel out.)"""
    held = counts[..., 0] != 0
    for s in range(1, counts.shape[-1]):
        held |= counts[..., s] != 0
    return held


def _slots_added(tagged: NDArray[Any], shape: tuple[int, ...], release: bool) -> NDArray[Any]:
    """The counts of ``tagged`` (series, months * width * slots) added up over the
    slots, ``shape`` (series, months, width, slots): a new array (series, months *
    width) of :func:`~sim.analysis.heap.lazy_zeros`, of which only the elements some
    draw holds are written, so that only their pages take memory.

    A block of at most :data:`WIDEN_BYTES` of rows at a time (a strided add per slot:
    several times faster than a sum over a short last axis), each block's pages of
    ``tagged`` handed back once read when ``release`` (nothing reads ``tagged`` after:
    :func:`~sim.analysis.heap.release_pages`), so that the peak holds the tagged
    counts and a block, not the plain counts whole beside them."""
    series, months, width, size = shape
    rows = series * months * width
    src = tagged.reshape(rows, size)
    out = lazy_zeros((series, months * width), tagged.dtype)
    flat = out.reshape(-1)
    sparse = out.nbytes >= LAZY_FROM  # (else every page is taken anyway: written whole)
    # (a row's sum, its index and its sum again take 16 bytes at most: those of a block
    # take at most half of WIDEN_BYTES, and the rows read as much again or less)
    step = max(1, WIDEN_BYTES // (2 * max(16, tagged.dtype.itemsize * size)))
    done = 0  # bytes of ``tagged`` read
    for r in range(0, rows, step):
        block = src[r : r + step]
        total = block[:, 0].copy()  # (counts of up to every draw: they fit the type)
        for s in range(1, size):
            total += block[:, s]
        held = np.flatnonzero(total) if sparse else None
        if held is None or held.size == total.shape[0]:  # (every row: written as it is)
            flat[r : r + total.shape[0]] = total
        elif held.size:
            sums = total[held]
            flat[np.add(held, r, out=held)] = sums
        read = src[: r + step].nbytes
        if release:
            release_pages(tagged, done, read)
        done = read
    return out


def _whole_inputs(plan: Plan) -> bool:
    """Every level the stepper takes is a whole number of troops (a distribution's
    draws always are; a plain number must be written whole)."""
    return all(
        isinstance(q, Spec) or float(q).is_integer()
        for path, q in plan.quantities().items()
        if not path.endswith(".delay")
    )
