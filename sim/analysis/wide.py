"""Ensembles of forces too large to count level by level: exact summaries in bounded memory.

The accumulator (:class:`sim.analysis.accumulator.Accumulator`) keeps, for every
series and month, the number of draws at each whole level from 0 to the highest
any series can reach. That is fast, but its memory grows with the size of the
force: 50 theaters of 20,000 troops over ten years, or one theater of ten
million, would need gigabytes. A plan whose counts would take more than
:data:`DENSE_BYTES` is summarised here instead, by the same accumulator over the
same fast path, in passes over the same draws (the streams are seeded, so every
pass sees the same numbers):

1. **coarse**: series i's levels are counted in bins of ``2**shift_i`` troops
   (:class:`~sim.analysis.accumulator.Binned`), with each month's exact sum of
   levels (the mean). The shift balances the bins against the second pass
   (:func:`shifts`); a series small enough keeps one column per level.
2. **fine** (for the series counted in bins): the bins that matter — in each month
   those holding a percentile, the lowest and the highest level, and the bins of
   the threshold marks — are counted again level by level
   (:class:`~sim.analysis.accumulator.Within`), every other level in one column.

A percentile is then, as in the accumulator, the smallest level ``L`` with at
least ``q`` % of the draws at or below ``L`` (the inverse of the empirical
distribution function, Hyndman and Fan 1996, definition 1): the coarse counts
give its bin and the draws below the bin, the fine counts the level within it.
The lowest and highest levels follow the same way, and a threshold date from the
running minimum's counts below the mark's bin plus those within it up to the mark.
So every summary equals the one a level-by-level count gives, to the byte, and
none depends on the chunk size or the number of workers.

Memory: series are counted in as many passes as it takes to keep each pass's
counts within :data:`PASS_BYTES` (a series alone may take more only if its own
bins do, which :func:`shifts` prevents for every force the format allows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.accumulator import Accumulator, Binned, Within
from sim.analysis.chunks import Executor, consume_all
from sim.analysis.summaries import (
    COUNT,
    PERCENTILES,
    bands_frame,
    counts_bytes,
    dates_frame,
    inverse_cdf,
    level_bound,
    series,
)
from sim.errors import ScenarioError
from sim.model.plan import Plan

#: a plan whose level-by-level counts would take more bytes than this is summarised here
DENSE_BYTES = 128 << 20
#: the most bytes of counts one pass over the draws holds (hist, held stretches and
#: the running-minimum correction: three count arrays per series)
PASS_BYTES = 96 << 20
#: a series whose level-by-level counts take at most this many bytes is not binned
SERIES_BYTES = 4 << 20
#: a fine map looks each level up in a table when the series' levels are fewer than this
TABLED = 1 << 20
#: bins wanted per month in the second pass: 7 percentiles, the lowest and highest level
WANTED = len(PERCENTILES) + 2


def is_wide(plan: Plan) -> bool:
    """Whether ``plan``'s level-by-level counts (:func:`~sim.analysis.summaries.counts_bytes`)
    would take more than :data:`DENSE_BYTES`, so its ensemble is summarised here."""
    return counts_bytes(plan) > DENSE_BYTES


def require_dense(plan: Plan, variant: str, file: str | None, what: str) -> None:
    """Refuse ``what`` (observations, sensitivity, a sweep) for a plan too large to
    count level by level (:func:`is_wide`): those keep every level's counts.

    Raises
    ------
    sim.ScenarioError
        Naming the variant, its counts' size and what makes them large."""
    if is_wide(plan):
        raise ScenarioError(
            f"forces small enough to count level by level, for {what} (at most "
            f"{DENSE_BYTES >> 20} MB of counts; a plain run takes larger ones)",
            f"{counts_bytes(plan) / 2**20:,.0f} MB of counts in variant {variant!r} "
            f"({len(series(plan))} series up to {level_bound(plan):,} troops over "
            f"{plan.n_months} months)",
            file=file,
            path="theaters",
        )


def _tops(plan: Plan) -> list[int]:
    """Each series' highest level [troops]."""
    return [sum(plan.track_top(k) for k in tracks) for _, tracks in series(plan)]


def _bytes(months: int, columns: int) -> int:
    """Bytes of one series' counts in a pass: three arrays of months x columns."""
    return 3 * COUNT().itemsize * months * columns


def shifts(plan: Plan) -> list[int]:
    """Each series' bins as a power of two [log2 troops]: 0 (a column per level)
    when its counts take at most :data:`SERIES_BYTES`; else the shift that makes
    the coarse columns (``top >> shift``) about as many as the second pass's, at
    most :data:`WANTED` bins per month of ``2**shift`` columns each:
    ``2**(2 shift) >= top / (WANTED * months)``."""
    months = plan.n_months
    out = []
    for top in _tops(plan):
        if _bytes(months, top + 1) <= SERIES_BYTES:
            out.append(0)
            continue
        ratio = top / (WANTED * months)
        out.append(max(1, math.ceil(math.log2(ratio) / 2)) if ratio > 1 else 1)
    return out


def batches(widths: Sequence[int], months: int) -> list[list[int]]:
    """The series (indices) counted together in each pass: by width, as many as keep
    a pass's counts (each series as wide as the widest of its pass) within
    :data:`PASS_BYTES`; a series wider than that alone."""
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    out: list[list[int]] = []
    for i in order:
        if out and _bytes(months, widths[i]) * (len(out[-1]) + 1) <= PASS_BYTES:
            out[-1].append(i)
        else:
            out.append([i])
    return [sorted(b) for b in out]


def _counted(
    plan: Plan,
    rows: list[int],
    maps: list[Any],
    width: int,
    *,
    draws: int,
    seed: int,
    chunk: int | None,
    bar: Any,
    executor: Executor | None,
) -> Accumulator:
    """One pass: an accumulator of series ``rows`` (indices into
    :func:`~sim.analysis.summaries.series`) with ``maps``, ``width`` columns a month."""
    sel = series(plan)
    make = partial(
        Accumulator,
        plan,
        width - 1,
        [sel[i][0] for i in rows],
        [sel[i][1] for i in rows],
        [],
        0,
        maps,
    )
    (acc,) = consume_all([([plan], make)], draws, seed, chunk=chunk, bar=bar, executor=executor)
    acc.settle()
    return acc  # type: ignore[no-any-return]


@dataclass
class _Series:
    """What the coarse pass tells about one series."""

    shift: int
    top: int
    counts: NDArray[Any]  # (months, columns) coarse counts
    lowest: NDArray[Any]  # (months, columns) counts of the running minimum
    sums: NDArray[np.int64]  # (months,) sums of levels [troops]

    def cumulative(self) -> NDArray[np.int64]:
        return np.cumsum(self.counts, axis=1, dtype=np.int64)


def _wanted(s: _Series, n: int, marks: list[int]) -> NDArray[np.int64]:
    """The bins the fine pass counts level by level: in each month those holding a
    percentile, the lowest and the highest level; and the bins of the marks."""
    cum = s.cumulative()
    got = [inverse_cdf(cum, q, n) for q in PERCENTILES]
    taken = s.counts > 0
    got.append(taken.argmax(axis=1))
    got.append(taken.shape[1] - 1 - taken[:, ::-1].argmax(axis=1))
    bins = np.concatenate([np.asarray(g, np.int64) for g in got])
    extra = np.array([lv >> s.shift for lv in marks if 0 <= lv < s.top], np.int64)
    return np.unique(np.concatenate([bins, extra]))


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
    """``(bands, dates, p_met)`` of one variant's ensemble, as the accumulator gives them,
    in bounded memory.

    ``bands`` and ``dates`` are frames of ``bands.csv`` and ``dates.csv`` rows;
    ``p_met`` (milestones,) the share of draws meeting each milestone's original
    deadline, to 6 decimals. Memory and method: see the module's description."""
    sel = series(plan)
    months, tops, shift = plan.n_months, _tops(plan), shifts(plan)
    widths = [(top >> s) + 1 for top, s in zip(tops, shift, strict=True)]
    run = partial(_counted, plan, draws=draws, seed=seed, chunk=chunk, executor=executor)
    found: dict[int, _Series] = {}
    n, met = 0, np.zeros(len(plan.milestones), np.int64)
    for b, rows in enumerate(batches(widths, months)):  # the coarse passes
        width = max(widths[i] for i in rows)
        acc = run(rows, [Binned(shift[i]) for i in rows], width, bar=bar if b == 0 else None)
        n, met = acc.n, acc.met
        lower = acc._lower
        assert acc.sums is not None
        for r, i in enumerate(rows):
            counts = acc.hist[r].reshape(months, width)
            low = counts if lower is None else counts + lower[r].reshape(months, width)
            found[i] = _Series(shift[i], tops[i], counts, low, acc.sums[r].copy())
        del acc
    own_marks = {i: [lv for name, _, lv in marks if name == sel[i][0]] for i in found}
    wanted = {i: _wanted(found[i], n, own_marks[i]) for i in found if found[i].shift}
    tables: dict[int, NDArray[np.int64]] = {}
    for i, bins in wanted.items():
        table = np.full(widths[i], -1, np.int64)
        table[bins] = np.arange(len(bins))
        tables[i] = table
    fine: dict[int, tuple[NDArray[Any], NDArray[Any]]] = {}
    fine_widths = {i: (len(b) << shift[i]) + 1 for i, b in wanted.items()}
    rows_fine = sorted(wanted)
    for rows in batches([fine_widths[i] for i in rows_fine], months):  # the fine passes
        rows = [rows_fine[r] for r in rows]
        width = max(fine_widths[i] for i in rows)
        maps = [Within(shift[i], tables[i], fine_widths[i] - 1) for i in rows]
        maps = [
            m.tabled(tops[i]) if tops[i] < TABLED else m for m, i in zip(maps, rows, strict=True)
        ]
        acc = run(rows, maps, width, bar=None)
        lower = acc._lower
        for r, i in enumerate(rows):
            counts = acc.hist[r].reshape(months, width)
            low = counts if lower is None else counts + lower[r].reshape(months, width)
            fine[i] = (counts, low)
        del acc
    columns: dict[str, list[NDArray[Any]]] = {
        "mean": [],
        "min": [],
        **{f"p{q:02d}": [] for q in PERCENTILES},
        "max": [],
    }
    reached = np.zeros((len(marks), months), np.int64)
    for i in range(len(sel)):
        s = found[i]
        level = _Levels(s, fine.get(i), tables.get(i), n)
        columns["mean"].append((s.sums / n).round(3))
        columns["min"].append(level.lowest())
        for q in PERCENTILES:
            columns[f"p{q:02d}"].append(level.percentile(q))
        columns["max"].append(level.highest())
        for k, (name, _, lv) in enumerate(marks):
            if name == sel[i][0]:
                reached[k] = level.at_or_below(lv)
    bands = bands_frame(scenario, variant, plan, [name for name, _ in sel], columns)
    first = np.zeros((len(marks), months + 1), np.int64)
    first[:, :months] = np.diff(reached, axis=1, prepend=0)
    first[:, months] = n - reached[:, -1]
    dates = dates_frame(plan, list(marks), first, n, scenario, variant)
    return bands, dates, (met / n).round(6)


class _Levels:
    """Exact levels of one series from its coarse counts and, when binned, the fine
    counts of the wanted bins (``fine``: counts and running-minimum counts, (months,
    columns); ``table``: each bin's place among them)."""

    def __init__(
        self,
        s: _Series,
        fine: tuple[NDArray[Any], NDArray[Any]] | None,
        table: NDArray[np.int64] | None,
        n: int,
    ) -> None:
        self.s, self.fine, self.table, self.n = s, fine, table, n
        self.size = 1 << s.shift
        self.months = np.arange(s.counts.shape[0])

    def _rows(self, bins: NDArray[np.int64], lowest: bool = False) -> NDArray[Any]:
        """The fine counts (months, 2**shift) of bin ``bins[m]`` in each month m."""
        assert self.fine is not None and self.table is not None
        counts = self.fine[1] if lowest else self.fine[0]
        start = self.table[bins] << self.s.shift
        cols = start[:, None] + np.arange(self.size)[None, :]
        return counts[self.months[:, None], cols]  # type: ignore[no-any-return]

    def percentile(self, q: int) -> NDArray[np.int64]:
        """The ``q`` % percentile in each month [troops]."""
        cum = self.s.cumulative()
        bins = inverse_cdf(cum, q, self.n)
        if not self.s.shift:
            return bins
        need = max(1, -(-q * self.n // 100))
        below = np.where(bins > 0, cum[self.months, np.maximum(bins - 1, 0)], 0)
        within = below[:, None] + np.cumsum(self._rows(bins), axis=1)
        return (bins << self.s.shift) + (within < need).sum(axis=1)

    def lowest(self) -> NDArray[np.int64]:
        """The lowest level drawn in each month [troops]."""
        taken = self.s.counts > 0
        bins = taken.argmax(axis=1).astype(np.int64)
        if not self.s.shift:
            return bins
        return (bins << self.s.shift) + (self._rows(bins) > 0).argmax(axis=1)

    def highest(self) -> NDArray[np.int64]:
        """The highest level drawn in each month [troops]."""
        taken = self.s.counts > 0
        bins = (taken.shape[1] - 1 - taken[:, ::-1].argmax(axis=1)).astype(np.int64)
        if not self.s.shift:
            return bins
        rows = self._rows(bins) > 0
        return (bins << self.s.shift) + self.size - 1 - rows[:, ::-1].argmax(axis=1)

    def at_or_below(self, level: int) -> NDArray[np.int64]:
        """The draws whose lowest level so far is at most ``level`` in each month."""
        months = len(self.months)
        if level < 0:
            return np.zeros(months, np.int64)
        if level >= self.s.top:
            return np.full(months, self.n, np.int64)
        cum = np.cumsum(self.s.lowest, axis=1, dtype=np.int64)
        b = level >> self.s.shift
        if not self.s.shift:
            return cum[:, b]
        below = cum[:, b - 1] if b > 0 else np.zeros(months, np.int64)
        bins = np.full(months, b, np.int64)
        part = self._rows(bins, lowest=True)[:, : (level & (self.size - 1)) + 1]
        return below + part.sum(axis=1)
