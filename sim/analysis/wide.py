"""Ensembles of forces too large to count level by level: exact summaries in bounded memory.

The ensemble's accumulator (:class:`sim.analysis.accumulator.Accumulator`) keeps, for
every series and month, the number of draws at each whole level from 0 to the
highest any series can reach. That is fast, but its memory grows with the size of
the force: 50 theaters of 20,000 troops over ten years, or one theater of ten
million, would need gigabytes. A plan whose counts would take more than
:data:`DENSE_BYTES` is summarised here instead, in two passes over the same draws
(the streams are seeded, so the second pass sees the same numbers):

1. **coarse** (:class:`CoarsePass`): each series' levels are counted in bins of
   ``2**shift`` troops, the shift chosen per series from its own highest level
   (:meth:`sim.model.plan.Plan.track_top`) so that all the bins fit
   :data:`COARSE_BYTES`. Counted exactly at the same time: each month's sum of
   levels (for the mean), its lowest and highest level, the draws whose lowest
   level so far is at or below each threshold (the threshold dates), and the
   milestones met;
2. **fine** (:class:`FinePass`, only for series whose bins are wider than one
   troop): in each month, the bins that hold a percentile are counted again,
   level by level.

A percentile is then, as in the accumulator, the smallest level ``L`` with at
least ``q`` % of the draws at or below ``L`` (Hyndman and Fan 1996, definition 1:
the inverse of the empirical distribution function), found exactly: the coarse
counts give the bin and the number of draws below it, the fine counts the level
within the bin. Every summary equals the one a level-by-level count gives, to the
byte, and none depends on the chunk size or the number of workers.

Memory: the coarse bins (``COARSE_BYTES``), a buffer of binned levels of the same
size that is counted when full (so each ``bincount`` costs about as much as the
values it counts), and one block of stepped draws of at most :data:`BLOCK_CELLS`
levels. Time grows with draws x months x series, since every level of every draw
is stepped (:func:`sim.model.stepper.step`); ``benchmarks/bench_scale_memory.py``
measures both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.chunks import Executor, consume_all
from sim.analysis.summaries import (
    COUNT,
    PERCENTILES,
    bands_frame,
    counts_bytes,
    dates_frame,
    level_views,
    series,
)
from sim.model.plan import Plan
from sim.model.stepper import StepInputs, StepOutput, step

#: a plan whose level-by-level counts would take more bytes than this is summarised here
DENSE_BYTES = 128 << 20
#: the most bytes of coarse counts (bins of every series and month) one plan takes
COARSE_BYTES = 16 << 20
#: the most levels (draws x tracks and theaters x months) stepped at once
BLOCK_CELLS = 1 << 22


def is_wide(plan: Plan) -> bool:
    """Whether ``plan``'s level-by-level counts (:func:`~sim.analysis.ensemble.counts_bytes`)
    would take more than :data:`DENSE_BYTES`, so its ensemble is summarised here."""
    return counts_bytes(plan) > DENSE_BYTES


def shifts(plan: Plan) -> list[int]:
    """Each series' bin size as a power of two: ``shift[i]`` is the smallest whole
    number with every series' ``(top_i >> shift_i) + 1`` bins in each month fitting
    :data:`COARSE_BYTES` together, ``top_i`` the series' highest level [troops]."""
    sel = series(plan)
    bins = max(1, COARSE_BYTES // (COUNT().itemsize * plan.n_months * len(sel)))
    out = []
    for _, tracks in sel:
        top, shift = sum(plan.track_top(k) for k in tracks), 0
        while (top >> shift) + 1 > bins:
            shift += 1
        out.append(shift)
    return out


def _blocks(plan: Plan, inputs: StepInputs, cache: dict[Any, Any]) -> Iterator[StepOutput]:
    """The draws of ``inputs`` stepped a block at a time (at most :data:`BLOCK_CELLS`
    levels per block); ``cache`` is :func:`~sim.model.stepper.step`'s."""
    per = max(1, BLOCK_CELLS // ((len(plan.tracks) + len(plan.theaters)) * plan.n_months))
    for a in range(0, inputs.n, per):
        part = inputs if inputs.n <= per else inputs.subset(slice(a, a + per))
        yield step(plan, part, cache)


class _Binned:
    """Counts of whole-number indices below ``size``, taken in batches: indices wait
    in a buffer until it holds ``size`` of them, then one ``bincount`` adds them all,
    so each costs about as much as the indices it counts."""

    def __init__(self, size: int) -> None:
        self.counts = np.zeros(size, COUNT)
        self._wait: list[NDArray[np.int64]] = []
        self._held = 0

    def add(self, index: NDArray[np.int64]) -> None:
        self._wait.append(index.ravel())
        self._held += index.size
        if self._held >= self.counts.size:
            self.flush()

    def flush(self) -> None:
        if self._wait:
            every = np.concatenate(self._wait) if len(self._wait) > 1 else self._wait[0]
            self.counts += np.bincount(every, minlength=self.counts.size).astype(COUNT)
            self._wait, self._held = [], 0

    def __getstate__(self) -> dict[str, Any]:
        self.flush()
        return self.__dict__.copy()


class CoarsePass:
    """The first pass over a plan's draws (a :class:`~sim.analysis.chunks.ChunkConsumer`).

    Attributes, ``S`` series and ``M`` months:

    coarse : list of S :class:`_Binned`, each of ``M * width_i`` counts: the draws at
        levels ``b * 2**shift_i .. (b + 1) * 2**shift_i - 1`` in month m at ``m *
        width_i + b``
    total : (S, M) int64 sums of the levels [troops]
    low, high : (S, M) int64 lowest and highest level drawn [troops]
    reached : (marks, M) int64 draws whose lowest level up to each month is at or
        below each threshold mark
    met : (milestones,) int64 draws that met each milestone's original deadline
    n : the draws counted
    """

    def __init__(
        self, plan: Plan, marks: Sequence[tuple[str, str, int]], shift: Sequence[int]
    ) -> None:
        sel = series(plan)
        months = plan.n_months
        self.plan, self.marks, self.shift = plan, list(marks), list(shift)
        self.names = [name for name, _ in sel]
        self.members = [tracks for _, tracks in sel]
        self.widths = [
            (sum(plan.track_top(k) for k in tracks) >> s) + 1
            for tracks, s in zip(self.members, self.shift, strict=True)
        ]
        self.coarse = [_Binned(months * w) for w in self.widths]
        self.total = np.zeros((len(sel), months), np.int64)
        self.low = np.full((len(sel), months), np.iinfo(np.int64).max)
        self.high = np.full((len(sel), months), -1, np.int64)
        self.reached = np.zeros((len(self.marks), months), np.int64)
        self.met = np.zeros(len(plan.milestones), np.int64)
        self.n = 0
        self._cache: dict[Any, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """What a part sends back: its counts, without the stepper's cache."""
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _cache={})

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        """Count a chunk of the plan's draws (``inputs[0]``)."""
        months = self.plan.n_months
        for out in _blocks(self.plan, inputs[0], self._cache):
            views = level_views(self.plan, out, self.names, self.members)
            self.met += (out.reached <= out.original).sum(axis=0)
            self.n += out.reached.shape[0]
            for i, name in enumerate(self.names):
                levels = views[name].astype(np.int64)
                self.total[i] += levels.sum(axis=0)
                np.minimum(self.low[i], levels.min(axis=0), out=self.low[i])
                np.maximum(self.high[i], levels.max(axis=0), out=self.high[i])
                marks = [k for k, mark in enumerate(self.marks) if mark[0] == name]
                if marks:
                    lowest = np.minimum.accumulate(levels, axis=1)
                    for k in marks:
                        self.reached[k] += (lowest <= self.marks[k][2]).sum(axis=0)
                if self.shift[i]:
                    levels >>= self.shift[i]
                levels += np.arange(months, dtype=np.int64) * self.widths[i]
                self.coarse[i].add(levels)

    def merge(self, other: CoarsePass) -> None:
        """Add the draws another part of the same ensemble counted."""
        for mine, theirs in zip(self.coarse, other.coarse, strict=True):
            mine.flush()
            theirs.flush()
            mine.counts += theirs.counts
        self.total += other.total
        np.minimum(self.low, other.low, out=self.low)
        np.maximum(self.high, other.high, out=self.high)
        self.reached += other.reached
        self.met += other.met
        self.n += other.n

    def counts(self, i: int) -> NDArray[Any]:
        """Series i's coarse counts (months, bins)."""
        self.coarse[i].flush()
        return self.coarse[i].counts.reshape(self.plan.n_months, self.widths[i])


def _need(q: int, n: int) -> int:
    """Draws at or below the ``q`` % percentile: ``ceil(q n / 100)``, at least 1."""
    return max(1, -(-q * n // 100))


def percentile_bins(coarse: NDArray[Any], n: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For counts ``coarse`` (months, bins) of ``n`` draws: the bin holding each
    percentile of :data:`~sim.analysis.ensemble.PERCENTILES` in each month, and the
    draws in the bins below it, each (months, percentiles)."""
    cum = np.cumsum(coarse, axis=1, dtype=np.int64)
    need = np.array([_need(q, n) for q in PERCENTILES])
    where = (cum[:, :, None] < need[None, None, :]).sum(axis=1)
    below = np.where(where > 0, np.take_along_axis(cum, np.maximum(where - 1, 0), axis=1), 0)
    return where.astype(np.int64), below


class FinePass:
    """The second pass: in each month, the draws in the bins that hold a percentile,
    counted level by level (a :class:`~sim.analysis.chunks.ChunkConsumer`).

    ``bins[i]`` (months, percentiles) are series i's bins from the first pass (only
    the series with ``shift[i] > 0`` are counted); ``fine[i]`` holds, at ``((m * P +
    j) << shift) + r``, the draws at level ``(bins[i][m, j] << shift) + r`` in month m.
    """

    def __init__(
        self,
        plan: Plan,
        shift: Sequence[int],
        widths: Sequence[int],
        bins: Sequence[NDArray[np.int64] | None],
    ) -> None:
        sel = series(plan)
        self.plan, self.shift, self.widths = plan, list(shift), list(widths)
        self.names = [name for name, _ in sel]
        self.members = [tracks for _, tracks in sel]
        months, slots = plan.n_months, len(PERCENTILES)
        self.bins = list(bins)
        # which percentile slot (or -1) each (month, bin) is, as a table
        self._slot: list[NDArray[np.int8] | None] = []
        self.fine: list[NDArray[np.int64] | None] = []
        for i, b in enumerate(self.bins):
            if b is None:
                self._slot.append(None)
                self.fine.append(None)
                continue
            table = np.full(months * self.widths[i], -1, np.int8)
            rows = np.arange(months)[:, None] * self.widths[i]
            table[(rows + b).ravel()] = np.tile(np.arange(slots, dtype=np.int8), months)
            self._slot.append(table)
            self.fine.append(np.zeros((months * slots) << self.shift[i], np.int64))
        self._cache: dict[Any, Any] = {}

    __getstate__ = CoarsePass.__getstate__
    __setstate__ = CoarsePass.__setstate__

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        """Count a chunk of the plan's draws (``inputs[0]``) inside the wanted bins."""
        months, slots = self.plan.n_months, len(PERCENTILES)
        for out in _blocks(self.plan, inputs[0], self._cache):
            views = level_views(self.plan, out, self.names, self.members)
            for i, name in enumerate(self.names):
                table, fine = self._slot[i], self.fine[i]
                if table is None or fine is None:
                    continue
                s = self.shift[i]
                levels = views[name].astype(np.int64)
                month = np.broadcast_to(np.arange(months, dtype=np.int64), levels.shape)
                slot = table[(levels >> s) + month * self.widths[i]]
                keep = slot >= 0
                # several percentiles may share a bin: the table names one of them,
                # and the bins are read back through that same table
                where = ((month[keep] * slots + slot[keep]) << s) + (levels[keep] & ((1 << s) - 1))
                fine += np.bincount(where, minlength=fine.size)

    def merge(self, other: FinePass) -> None:
        """Add the draws another part of the same ensemble counted."""
        for mine, theirs in zip(self.fine, other.fine, strict=True):
            if mine is not None and theirs is not None:
                mine += theirs

    def level(self, i: int, m: int, j: int, below: int, need: int) -> int:
        """The ``j``-th percentile of series i in month m [troops]: the smallest level
        with ``need`` draws at or below it, ``below`` of them below its bin."""
        table, fine = self._slot[i], self.fine[i]
        assert table is not None and fine is not None and self.bins[i] is not None
        b = int(self.bins[i][m, j])  # type: ignore[index]
        slot = int(table[m * self.widths[i] + b])
        size = 1 << self.shift[i]
        row = fine[(m * len(PERCENTILES) + slot) * size : (m * len(PERCENTILES) + slot + 1) * size]
        return (b << self.shift[i]) + int((below + np.cumsum(row) < need).sum())


def run_wide(
    plan: Plan,
    marks: Sequence[tuple[str, str, int]],
    *,
    draws: int,
    seed: int,
    scenario: str,
    variant: str,
    chunk: int | None = None,
    bar: Any = None,
    executor: Executor | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, NDArray[np.float64]]:
    """``(bands, dates, p_met)`` of one variant's ensemble, as
    :class:`~sim.analysis.accumulator.Accumulator` gives them, in bounded memory.

    ``bands`` and ``dates`` are frames of ``bands.csv`` and ``dates.csv`` rows;
    ``p_met`` (milestones,) the share of draws meeting each milestone's original
    deadline, to 6 decimals. Memory: see the module's description."""
    shift = shifts(plan)
    (first,) = consume_all(
        [([plan], _Maker(CoarsePass, (plan, tuple(marks), tuple(shift))))],
        draws,
        seed,
        chunk=chunk,
        bar=bar,
        executor=executor,
    )
    n, months = first.n, plan.n_months
    found = [percentile_bins(first.counts(i), n) for i in range(len(first.names))]
    second: FinePass | None = None
    if any(shift):
        bins = tuple(b if s else None for (b, _), s in zip(found, shift, strict=True))
        (second,) = consume_all(
            [([plan], _Maker(FinePass, (plan, tuple(shift), tuple(first.widths), bins)))],
            draws,
            seed,
            chunk=chunk,
            bar=bar,
            executor=executor,
        )
    columns: dict[str, list[NDArray[Any]]] = {
        "mean": [],
        "min": [],
        **{f"p{q:02d}": [] for q in PERCENTILES},
        "max": [],
    }
    for i in range(len(first.names)):
        columns["mean"].append((first.total[i] / n).round(3))
        columns["min"].append(first.low[i])
        bins, below = found[i]
        for j, q in enumerate(PERCENTILES):
            if second is None or not shift[i]:
                columns[f"p{q:02d}"].append(bins[:, j])
            else:
                need = _need(q, n)
                columns[f"p{q:02d}"].append(
                    np.array([second.level(i, m, j, int(below[m, j]), need) for m in range(months)])
                )
        columns["max"].append(first.high[i])
    bands = bands_frame(scenario, variant, plan, first.names, columns)
    reached = first.reached
    firsts = np.zeros((len(marks), months + 1), np.int64)
    firsts[:, :months] = np.diff(reached, axis=1, prepend=0)
    firsts[:, months] = n - reached[:, -1] if months else n
    dates = dates_frame(plan, list(marks), firsts, n, scenario, variant)
    return bands, dates, (first.met / n).round(6)


@dataclass(frozen=True)
class _Maker:
    """A picklable maker of a pass: ``kind(*args)``."""

    kind: type
    args: tuple[Any, ...]

    def __call__(self) -> Any:
        return self.kind(*self.args)
