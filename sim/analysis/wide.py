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
2. **finer** (for the series counted in bins), as many passes as it takes: the
   bins that matter — in each month those holding a percentile, the lowest and the
   highest level, and the bins of the threshold marks — are counted again in finer
   bins (:class:`~sim.analysis.accumulator.Within`), every other level in one
   column, until every bin is one level (:class:`_Found`).

A percentile is then, as in the accumulator, the smallest level ``L`` with at
least ``q`` % of the draws at or below ``L`` (the inverse of the empirical
distribution function, Hyndman and Fan 1996, definition 1): each pass gives the
finer bin holding it and the draws below that bin, down to the level itself.
The lowest and highest levels follow the same way, and a threshold date from the
running minimum's counts below the mark's bin plus those within it up to the mark.
So every summary equals the one a level-by-level count gives, to the byte, and
none depends on the chunk size or the number of workers.

Memory: series are counted in as many passes as it takes to keep each pass's
counts within :data:`PASS_BYTES`; :func:`shifts` keeps one series' first bins within
a quarter of it, and each finer pass narrows the bins only as far as that allows
(:func:`_step`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.analysis.accumulator import Accumulator, Binned, Untabled, Within
from sim.analysis.chunks import Executor, consume_all
from sim.analysis.summaries import (
    COUNT,
    MEAN_PLACES,
    PERCENTILES,
    SHARE_PLACES,
    BandColumns,
    band_columns,
    counts_bytes,
    date_rows,
    inverse_cdf,
    level_bound,
    rounded_all,
    series,
    series_tops,
)
from sim.errors import ScenarioError
from sim.model.plan import Plan
from sim.scenario import Scenario

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


def require_dense(
    plan: Plan,
    variant: str,
    scenario: Scenario,
    what: str,
    larger: str = "a plain run takes larger ones",
) -> None:
    """Refuse ``what`` (conditioning on observations, sensitivity, a sweep) for a plan
    too large to count level by level (:func:`is_wide`): those keep every level's
    counts.
    ``larger`` says what does take larger forces.

    Raises
    ------
    sim.ScenarioError
        At the scenario's ``theaters`` key, naming the variant, its counts' size and
        what makes them large; where a value set on top of the file (``--set``,
        :meth:`~sim.scenario.Scenario.with_settings`, a sweep's point) sets a force or
        a residual, at the first such value, naming the values set."""
    if is_wide(plan):
        file, line, col = where_theaters(scenario)
        path = "theaters"
        found = (
            f"{counts_bytes(plan) / 2**20:,.0f} MB of counts in variant {variant!r} "
            f"({len(series(plan))} series up to {level_bound(plan):,} troops over "
            f"{plan.n_months} months)"
        )
        sized = [k for k, _ in scenario.settings if str(k).split(".")[0] in SIZED]
        if sized:  # (what was set, not the file, made the forces this large)
            where = scenario.variants[variant].locator if variant in scenario.variants else None
            file, line, col = (where or scenario.locator).find(tuple(str(sized[0]).split(".")))
            path = str(sized[0])
            found += f", with {scenario.settings_text()} set"
        raise ScenarioError(
            f"forces small enough to count level by level, for {what} (at most "
            f"{DENSE_BYTES >> 20} MB of counts; {larger})",
            found,
            file=file,
            line=line,
            col=col,
            path=path,
        )


#: the tables of a scenario whose values set how large its forces' levels may be
SIZED = ("theaters", "residuals")


def where_theaters(scenario: Scenario) -> tuple[str, int, int]:
    """``(file, line, column)`` of the scenario's ``theaters`` key, for errors about
    the size of its forces."""
    file, line, col = scenario.locator.find(("theaters",), key=True)
    if file.startswith("<") and scenario.path:
        return scenario.path, 1, 1
    return file, line, col


def _bytes(months: int, columns: int) -> int:
    """Bytes of one series' counts in a pass: three arrays of months x columns."""
    return 3 * COUNT().itemsize * months * columns


def shifts(plan: Plan) -> list[int]:
    """Each series' first bins as a power of two [log2 troops]: 0 (a column per level)
    when its counts take at most :data:`SERIES_BYTES`; else the larger of the shift
    that makes the coarse columns (``top >> shift``) about as many as the next pass's
    (at most :data:`WANTED` bins per month, each of ``2**shift`` columns:
    ``2**(2 shift) >= top / (WANTED * months)``) and the least that keeps one series'
    coarse counts within a quarter of :data:`PASS_BYTES`."""
    months = plan.n_months
    out = []
    for top in series_tops(plan):
        if _bytes(months, top + 1) <= SERIES_BYTES:
            out.append(0)
            continue
        ratio = top / (WANTED * months)
        shift = max(1, math.ceil(math.log2(ratio) / 2)) if ratio > 1 else 1
        while top >> shift and _bytes(months, (top >> shift) + 1) > PASS_BYTES // 4:
            shift += 1
        out.append(shift)
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


def _collected(
    plan: Plan, draws: int, seed: int, chunk: int | None, bar: Any
) -> Accumulator | None:
    """One pass over the draws keeping every run of every series as tables
    (:meth:`Accumulator.tables`), when they can be: series of one track each whose
    levels never rise, and tables within their budget; else None, and ``bar`` as it
    was."""
    sel = series(plan)
    if any(len(m) != 1 or plan.tracks[m[0]].site is not None for _, m in sel):
        return None
    make = partial(
        Accumulator, plan, 0, [name for name, _ in sel], [m for _, m in sel], [], collect=True
    )
    start = bar.n if bar is not None else 0
    try:
        (acc,) = consume_all([([plan], make)], draws, seed, chunk=chunk, bar=bar)
    except Untabled:
        if bar is not None:
            bar.update(start - bar.n)
        return None
    return acc  # type: ignore[no-any-return]


def _from_tables(
    plan: Plan, kept: Accumulator, rows: list[int], maps: list[Any], width: int, *, bar: Any
) -> Accumulator:
    """A pass as :func:`_counted` gives it, counted from the tables ``kept``
    (:func:`_collected`) instead of the draws."""
    sel = series(plan)
    acc = Accumulator(
        plan, width - 1, [sel[i][0] for i in rows], [sel[i][1] for i in rows], [], 0, maps
    )
    acc.n, acc.met = kept.n, kept.met.copy()
    acc.count_tables(kept.tables(), rows)
    return acc


class _Found:
    """What the passes so far tell about one series, in bins of ``2**shift`` troops.

    ``pbin``, ``pbelow`` (months, percentiles): the bin holding each percentile and the
    draws in the bins below it; ``low``, ``high`` (months,): the bins of the lowest and
    highest level; ``marks``: per threshold level inside the series' range, the draws
    whose lowest level so far lies in the bins below the mark's (``below``), and, once
    the bins are single levels, those at or below the mark (``reached``)."""

    def __init__(
        self, counts: NDArray[Any], lowest: NDArray[Any], shift: int, n: int, marks: list[int]
    ) -> None:
        cum = np.cumsum(counts, axis=1, dtype=np.int64)
        self.shift, self.n = shift, n
        self.pbin = np.stack([inverse_cdf(cum, q, n) for q in PERCENTILES], axis=1)
        before = np.take_along_axis(cum, np.maximum(self.pbin - 1, 0), axis=1)
        self.pbelow = np.where(self.pbin > 0, before, 0)
        taken = counts > 0
        self.low = taken.argmax(axis=1).astype(np.int64)
        self.high = (taken.shape[1] - 1 - taken[:, ::-1].argmax(axis=1)).astype(np.int64)
        low_cum = np.cumsum(lowest, axis=1, dtype=np.int64)
        months = counts.shape[0]
        self.below: dict[int, NDArray[np.int64]] = {}
        self.reached: dict[int, NDArray[np.int64]] = {}
        for level in marks:
            b = level >> shift
            # (copies: a column of the cumulative counts would keep all of them)
            self.below[level] = low_cum[:, b - 1].copy() if b > 0 else np.zeros(months, np.int64)
            if shift == 0:
                self.reached[level] = low_cum[:, level].copy()

    def wanted(self) -> NDArray[np.int64]:
        """The bins to count in finer bins next: those holding a percentile, the lowest
        or the highest level in some month, and those of the marks."""
        got = [self.pbin.ravel(), self.low, self.high]
        got.append(np.array([level >> self.shift for level in self.below], np.int64))
        return np.unique(np.concatenate(got))

    def refine(
        self,
        counts: NDArray[Any],
        lowest: NDArray[Any],
        table: NDArray[np.int64],
        finer: int,
    ) -> None:
        """Narrow every bin to one of ``2**finer`` troops from the counts of a pass that
        counted the wanted bins in those finer bins (:class:`Within`)."""
        d = self.shift - finer
        size = 1 << d
        months = np.arange(counts.shape[0])[:, None]

        def rows(bins: NDArray[np.int64], of: NDArray[Any]) -> NDArray[Any]:
            cols = (table[bins] << d)[:, None] + np.arange(size)[None, :]
            return of[months, cols]  # type: ignore[no-any-return]

        for j, q in enumerate(PERCENTILES):
            need = max(1, -(-q * self.n // 100))
            cum = np.cumsum(rows(self.pbin[:, j], counts), axis=1, dtype=np.int64)
            sub = (self.pbelow[:, j, None] + cum < need).sum(axis=1)
            before = np.take_along_axis(cum, np.maximum(sub - 1, 0)[:, None], axis=1)[:, 0]
            self.pbelow[:, j] += np.where(sub > 0, before, 0)
            self.pbin[:, j] = (self.pbin[:, j] << d) + sub
        self.low = (self.low << d) + (rows(self.low, counts) > 0).argmax(axis=1)
        top = rows(self.high, counts) > 0
        self.high = (self.high << d) + size - 1 - top[:, ::-1].argmax(axis=1)
        for level in list(self.below):
            r = rows(np.full(counts.shape[0], level >> self.shift, np.int64), lowest)
            sub = (level >> finer) & (size - 1)
            if finer == 0:
                self.reached[level] = self.below[level] + r[:, : sub + 1].sum(axis=1)
            self.below[level] = self.below[level] + r[:, :sub].sum(axis=1)
        self.shift = finer


def _step(wanted: int, shift: int, months: int) -> int:
    """How many halvings of the bins the next pass makes: as many as keep the wanted
    bins' finer columns of one series within :data:`PASS_BYTES`, at least one."""
    most = max(2, PASS_BYTES // _bytes(months, 1))
    d = 1
    while d < shift and (wanted << (d + 1)) + 1 <= most:
        d += 1
    return d


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
) -> tuple[BandColumns, list[dict[str, Any]], NDArray[np.float64]]:
    """``(bands, dates, p_met)`` of one variant's ensemble, as the accumulator gives them,
    in bounded memory.

    ``bands`` are the columns of its ``bands.csv`` rows
    (:func:`~sim.analysis.summaries.band_columns`), ``dates`` its ``dates.csv`` rows
    (:func:`~sim.analysis.summaries.date_rows`);
    ``p_met`` (milestones,) the share of draws meeting each milestone's original
    deadline, to 6 decimals. Memory and method: see the module's description."""
    sel = series(plan)
    months, tops, shift = plan.n_months, series_tops(plan), shifts(plan)
    widths = [(top >> s) + 1 for top, s in zip(tops, shift, strict=True)]
    run: Any = partial(_counted, plan, draws=draws, seed=seed, chunk=chunk, executor=executor)
    kept = _collected(plan, draws, seed, chunk, bar) if executor is None else None
    if kept is not None:  # every pass counts the tables kept in one pass over the draws
        run, bar = partial(_from_tables, plan, kept), None
    inside = [
        sorted({lv for name, _, lv in marks if name == sel[i][0] and 0 <= lv < tops[i]})
        for i in range(len(sel))
    ]
    found: dict[int, _Found] = {}
    sums: dict[int, NDArray[np.int64]] = {}
    n, met = 0, np.zeros(len(plan.milestones), np.int64)
    for b, rows in enumerate(batches(widths, months)):  # the first, coarse passes
        width = max(widths[i] for i in rows)
        acc = run(rows, [Binned(shift[i]) for i in rows], width, bar=bar if b == 0 else None)
        n, met = acc.n, acc.met
        assert acc.sums is not None
        for r, i in enumerate(rows):
            found[i] = _Found(*_counts(acc, r, width), shift[i], n, inside[i])
            sums[i] = acc.sums[r].copy()
        del acc  # (nothing else holds its counts: the next pass may take their room)
    while True:  # finer passes, until every bin is one level
        left = [i for i in found if found[i].shift > 0]
        if not left:
            break
        plans: dict[int, tuple[NDArray[np.int64], int, int]] = {}  # wanted, finer, columns
        for i in left:
            wanted = found[i].wanted()
            finer = found[i].shift - _step(len(wanted), found[i].shift, months)
            plans[i] = (wanted, finer, (len(wanted) << (found[i].shift - finer)) + 1)
        for rows in batches([plans[i][2] for i in left], months):
            rows = [left[r] for r in rows]
            width = max(plans[i][2] for i in rows)
            tables, maps = {}, []
            for i in rows:
                wanted, finer, cols = plans[i]
                tables[i] = np.full((tops[i] >> found[i].shift) + 1, -1, np.int64)
                tables[i][wanted] = np.arange(len(wanted))
                m = Within(found[i].shift, tables[i], cols - 1, finer)
                maps.append(m.tabled(tops[i]) if tops[i] < TABLED else m)
            acc = run(rows, maps, width, bar=None)
            for r, i in enumerate(rows):
                found[i].refine(*_counts(acc, r, width), tables[i], plans[i][1])
            del acc
    columns: dict[str, list[NDArray[Any]]] = {
        "mean": [],
        "min": [],
        **{f"p{q:02d}": [] for q in PERCENTILES},
        "max": [],
    }
    reached = np.zeros((len(marks), months), np.int64)
    for i in range(len(sel)):
        f = found[i]
        columns["mean"].append(rounded_all(sums[i], n, MEAN_PLACES))
        columns["min"].append(f.low)
        for j, q in enumerate(PERCENTILES):
            columns[f"p{q:02d}"].append(f.pbin[:, j])
        columns["max"].append(f.high)
        for k, (name, _, lv) in enumerate(marks):
            if name == sel[i][0]:
                reached[k] = f.reached[lv] if lv in f.reached else (n if lv >= tops[i] else 0)
    bands = band_columns(scenario, variant, plan, [name for name, _ in sel], columns)
    first = np.zeros((len(marks), months + 1), np.int64)
    first[:, :months] = np.diff(reached, axis=1, prepend=0)
    first[:, months] = n - reached[:, -1]
    dates = date_rows(plan, list(marks), first, n, scenario, variant)
    return bands, dates, rounded_all(met, n, SHARE_PLACES)


def _counts(acc: Accumulator, r: int, width: int) -> tuple[NDArray[Any], NDArray[Any]]:
    """Row ``r``'s counts and running-minimum counts, each (months, width), of a pass."""
    months = acc.plan.n_months
    counts = acc.hist[r].reshape(months, width)
    lowest = counts if acc._lower is None else counts + acc._lower[r].reshape(months, width)
    return counts, lowest
