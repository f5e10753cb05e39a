"""Paired variants: the distribution of B − A over common random numbers.

Both variants are stepped chunk by chunk, each from its own ``Draws(seed)``:
the streams are keyed by quantity, so A and B see identical draws for every
quantity they share, and the two runs of one draw differ only by what the
variants change. For every theater (and site) and month the difference of the
two levels in the same draw, ``B − A`` [troops], is counted in a histogram
offset by A's level bound (differences are whole troops between ``−bound(A)``
and ``+bound(B)``). Histograms of chunks add up, so the summaries are exact,
do not depend on the chunk size, and memory does not grow with the number of
draws. Percentiles are those of the ensemble's ``bands``
(:func:`sim.analysis.scores.percentile`): ``pXX`` is the smallest difference with
at least ``XX %`` of the draws at or below it, the inverse of the empirical
distribution function (Hyndman & Fan 1996, definition 1).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.accumulator import BLOCK_BYTES, FEW_DRAWS, _whole_inputs
from sim.analysis.chunks import (
    DEFAULT_CHUNK,
    Executor,
    consume_all,
    executor_argument,
    progress_bar,
)
from sim.analysis.ensemble import check_args
from sim.analysis.stretches import HeldStretches
from sim.analysis.summaries import (
    MEAN_PLACES,
    PERCENTILES,
    SHARE_PLACES,
    inverse_cdf,
    rounded_all,
    series,
    value_sums,
)
from sim.analysis.wide import where_theaters
from sim.errors import ForcesimWarning, ScenarioError
from sim.model.draws import central_inputs
from sim.model.fastpath import Group, input_rows, take_rows
from sim.model.plan import Plan
from sim.model.rules import group_firsts, row_groups, timing, timing_groups, window_months
from sim.model.stepper import StepInputs, StepOutput, step
from sim.months import format_month
from sim.scenario import Scenario, scenario_argument

COMPARE_COLUMNS = [
    "scenario",
    "variant_a",
    "variant_b",
    "theater",
    "month",
    "mean",
    "min",
    *[f"p{q:02d}" for q in PERCENTILES],
    "max",
    "p_b_greater",
    "p_b_less",
]


@dataclass
class Comparison:
    """What :func:`compare` returns.

    Attributes
    ----------
    scenario : Scenario
    a, b : str
        The two variants; every difference is ``B − A``.
    draws, seed : int
    table : pandas.DataFrame
        ``scenario, variant_a, variant_b, theater, month, mean, min, p05, p10,
        p25, p50, p75, p90, p95, max, p_b_greater, p_b_less``: one row per theater
        (and site) both variants have and month both cover, the distribution of
        ``B − A`` [troops] over the draws (``mean`` rounded to 3 decimals, the
        percentiles whole troops as in the module's docstring) and the shares
        (0–1, 6 decimals) of draws with B above and below A. ``month`` is a
        monthly ``Period``.
    central : pandas.DataFrame
        ``theater, month, difference``: ``B − A`` [troops] of the two
        deterministic central runs.
    """

    scenario: Scenario
    a: str
    b: str
    draws: int
    seed: int
    table: pd.DataFrame
    central: pd.DataFrame
    plans: dict[str, Plan] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def variants(self) -> list[str]:
        """``[a, b]``: the two variants, A first (every difference is ``B − A``)."""
        return [self.a, self.b]

    @property
    def theaters(self) -> list[str]:
        """The theaters both variants have (site rows excluded), in the scenario's order."""
        names = set(self.table.theater)
        return [t for t in self.plans[self.a].theaters if t in names]

    def __repr__(self) -> str:
        return (
            f"<Comparison {self.scenario.id}: {self.b} − {self.a}, {self.draws:,} draws, "
            f"seed {self.seed}; .table holds the distribution of B − A>"
        )


def _levels(plan: Plan, out: StepOutput, name: str, members: list[int]) -> NDArray[np.int32]:
    """(draws, months) levels of one series of ``plan`` in ``out``."""
    if name in plan.theaters:
        return out.theaters[:, plan.theaters.index(name), :]
    return out.tracks[:, members[0], :]


def _common_months(
    pa: Plan, pb: Plan, a: str, b: str, scenario: Scenario | None = None
) -> tuple[int, int]:
    """(first month ordinal, number of months) both variants cover; a
    :class:`ScenarioError` where they cover none, at the ``calendar`` a variant sets
    (B's, else A's), else the scenario's, located in ``scenario``'s file."""
    first, last = _overlap(pa, pb)
    if last < first:
        file, line, col, path = None, None, None, "calendar"
        if scenario is not None:
            own = [v for v in (b, a) if "calendar" in scenario.doc.variants[v].overrides]
            if own:
                path = f"variants.{own[0]}.overrides.calendar"
            file, line, col = scenario.locator.find(tuple(path.split(".")), key=True)
        raise ScenarioError(
            f"variants {a!r} and {b!r} with calendars that overlap",
            f"{format_month(pa.start)}..{format_month(pa.start + pa.n_months - 1)}"
            f" and {format_month(pb.start)}.."
            f"{format_month(pb.start + pb.n_months - 1)}",
            file=file,
            line=line,
            col=col,
            path=path,
        )
    return first, last - first + 1


def _overlap(pa: Plan, pb: Plan) -> tuple[int, int]:
    """The first and last month ordinals both plans cover (the last before the first
    where they share none)."""
    return max(pa.start, pb.start), min(pa.start + pa.n_months, pb.start + pb.n_months) - 1


def uncompared(pa: Plan, pb: Plan, a: str, b: str) -> list[str]:
    """What a comparison of variants ``a`` (plan ``pa``) and ``b`` leaves out, as
    phrases: the theaters and sites one of them has alone, and the months one of them
    covers alone (``B − A`` needs both); empty where they share every series and month."""
    names = {v: [name for name, _ in series(p)] for v, p in ((a, pa), (b, pb))}
    out = []
    for v, w in ((a, b), (b, a)):
        alone = [name for name in names[v] if name not in names[w]]
        if alone:
            out.append(f"{', '.join(alone)}, which only {v} has")
    first, last = _overlap(pa, pb)
    for v, p in ((a, pa), (b, pb)):
        end = p.start + p.n_months - 1
        spans = [(p.start, min(end, first - 1)), (max(p.start, last + 1), end)]
        for lo, hi in spans:
            if lo <= hi and last >= first:
                months = format_month(lo) + (f"..{format_month(hi)}" if hi > lo else "")
                out.append(f"{months}, which only {v} covers")
    return out


class Uncompared(ForcesimWarning):
    """A comparison leaves out theaters, sites or months that only one of its variants
    has (:func:`uncompared`): its table and chart show neither there."""


MAX_CHUNK_CELLS = 1 << 26  # draw-track-months stepped at once per variant
#: the most bytes of counts of differences a comparison holds
COMPARE_BYTES = 256 << 20
#: differences (draw-months) of one series counted at once where their months move:
#: small groups of draws take several months at once (fewer steps; large groups gain
#: nothing from it, as measured)
BLOCK_CELLS = 1 << 14
#: a month of a large group is counted from the lowest difference a series can take
#: when its counts are at most this wide (or twice the group), else from the lowest
#: difference the month has
ROW_WIDTH = 1 << 16
#: the most bytes of a window's months one plan keeps for the other (``_shared``): past
#: it the other plan computes them (a month kept is taken when the other comes to it, or
#: let go with the series' next stretches)
SHARED_BYTES = 32 << 20


def compare(
    scenario: Scenario | str | Path,
    a: str,
    b: str,
    draws: int,
    seed: int,
    *,
    chunk: int | None = None,
    progress: bool | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Paired ensemble of variants ``a`` and ``b``: the distribution of ``B − A``.

    Parameters
    ----------
    scenario : Scenario or path
    a, b : str
        Variant names, two different ones.
    draws : int
        Number of paired draws (1 to 100,000,000).
    seed : int
        Seed; the same seed gives the same output whatever ``chunk`` is.
    chunk : int, optional
        Draws stepped at a time; bounds memory, never changes the result. Default:
        65,536, fewer for scenarios with many tracks and months (about 64 M cells
        per variant and chunk).
    progress : bool, optional
        Show a progress bar (in a terminal or notebook); None: only in a notebook.
    executor : optional
        Run the draws as parts on a Dask cluster
        (:func:`sim.analysis.distributed.open_executor`); the same result.

    Returns
    -------
    Comparison
        ``.table`` (DataFrame, columns on :class:`Comparison`) [troops; shares
        0–1]; draw it with :func:`sim.plot`.

    Raises
    ------
    sim.ScenarioError
        A scenario path that does not load; an unknown variant (with a
        did-you-mean); at ``<arguments>``, the same variant as ``a`` and ``b``,
        ``draws`` or ``seed`` missing, not whole or out of range, or a bad
        ``chunk``; variants whose differences would need more than 256 MB of
        counts (at the scenario's ``theaters``).
    """
    sc = scenario_argument(scenario, "compare")
    for name in (a, b):
        sc.select([name])  # unknown names raise ScenarioError with a suggestion
    if a == b:
        raise ScenarioError(
            f"a variant other than a ({SAME_VARIANT})",
            f"{b!r}, a too",
            file="<arguments>",
            path="b",
        )
    return _compare(sc, a, b, draws, seed, chunk=chunk, progress=progress, executor=executor)


#: why a variant is not compared with itself
SAME_VARIANT = "a variant less itself is 0 troops in every draw"


def _compare(
    scenario: Scenario,
    a: str,
    b: str,
    draws: int,
    seed: int,
    *,
    chunk: int | None,
    progress: bool | None,
    executor: Executor | None = None,
) -> Comparison:
    """:func:`compare` of two known variants of ``scenario`` (the same one twice gives
    all-zero differences: the pairing's own check)."""
    executor_argument(executor)  # (before planning: consume_all checks it only when run)
    draws, seed = check_args(draws, seed, chunk)
    pa, pb = scenario.plan(a), scenario.plan(b)
    if chunk is None:  # the stepper holds a few (draws, tracks, months) arrays per variant
        cells = max(len(p.tracks) * p.n_months for p in (pa, pb))
        chunk = max(1024, min(DEFAULT_CHUNK, MAX_CHUNK_CELLS // cells))
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ScenarioError("a chunk of at least 1 draw", repr(chunk), path="chunk")
    first, n_months, oa, ob, pairs = _pairing(pa, pb, a, b, scenario)
    spans = _spans(pa, pb, pairs)
    size = 2 * n_months * sum(lo + hi + 1 for lo, hi in spans) * np.dtype(np.int64).itemsize
    if size > COMPARE_BYTES:
        where = where_theaters(scenario)
        raise ScenarioError(
            f"variants small enough to compare difference by difference (at most "
            f"{COMPARE_BYTES >> 20} MB of counts; compare fewer or smaller theaters, or "
            "run the variants and compare their bands)",
            f"{size / 2**20:,.0f} MB for {len(pairs)} series of differences from "
            f"down to -{max(lo for lo, _ in spans):,} and up to +{max(hi for _, hi in spans):,}"
            f" troops over {n_months} months",
            file=where[0],
            line=where[1],
            col=where[2],
            path="theaters",
        )
    make = partial(_PairedCounts, pa, pb, pairs, oa, ob, n_months)
    bar = progress_bar(draws, progress, f"{scenario.id} {b} − {a}")
    try:
        jobs = [([pa, pb], make)]
        (counts,) = consume_all(jobs, draws, seed, chunk=int(chunk), bar=bar, executor=executor)
    finally:
        if bar is not None:
            bar.close()
    counts.settle()
    left = uncompared(pa, pb, a, b)
    if left:  # (said, not dropped silently: B removing a theater is a difference)
        warnings.warn(
            Uncompared(f"{b} − {a} leaves out {'; '.join(left)}: B − A needs both"),
            stacklevel=3,
        )
    hist, lo, width = counts.hist, counts.lo, counts.widths
    months = [format_month(first + m) for m in range(n_months)]
    table = _table(scenario.id, a, b, [p[0] for p in pairs], months, hist, lo, width, draws)
    central = _central(pa, pb, pairs, oa, ob, n_months, months)
    return Comparison(
        scenario=scenario,
        a=a,
        b=b,
        draws=draws,
        seed=seed,
        table=table,
        central=central,
        plans={a: pa, b: pb},
    )


def _spans(
    pa: Plan, pb: Plan, pairs: list[tuple[str, list[int], list[int]]]
) -> list[tuple[int, int]]:
    """For each series both plans have, the most troops A and B can have in it: its
    differences ``B − A`` lie between ``-A's`` and ``+B's``."""
    return [
        (sum(pa.track_top(k) for k in ma), sum(pb.track_top(k) for k in mb)) for _, ma, mb in pairs
    ]


def _pairing(
    pa: Plan, pb: Plan, a: str, b: str, scenario: Scenario | None = None
) -> tuple[int, int, int, int, list[tuple[str, list[int], list[int]]]]:
    """The months both plans cover (first ordinal, count, offset in A, offset in B) and
    the series both have (name, members in A, members in B); ``scenario`` locates the
    refusal of calendars that do not overlap."""
    first, n_months = _common_months(pa, pb, a, b, scenario)
    in_b = dict(series(pb))
    pairs = [(name, members, in_b[name]) for name, members in series(pa) if name in in_b]
    return first, n_months, first - pa.start, first - pb.start, pairs


def central_difference(scenario: Scenario, a: str, b: str) -> pd.DataFrame:
    """``theater, month, difference``: B − A of the two deterministic central runs
    [troops], as :attr:`Comparison.central` holds it (for re-drawing a comparison
    from its files)."""
    pa, pb = scenario.plan(a), scenario.plan(b)
    first, n_months, oa, ob, pairs = _pairing(pa, pb, a, b)
    months = [format_month(first + m) for m in range(n_months)]
    return _central(pa, pb, pairs, oa, ob, n_months, months)


class _PairedCounts:
    """Counts of ``B − A`` per series and month over the draws (a
    :class:`sim.analysis.chunks.ChunkConsumer` of two plans, A then B).

    Draws are grouped by the timing keys of both variants together, so that within a
    group every window's months are fixed in A and in B (:class:`Group`). Each series'
    months then fall in stretches where both levels are held, whose difference is
    counted once for the whole stretch, and months where either moves, counted one by
    one: the counts equal those of the differences of :func:`step`'s levels."""

    def __init__(
        self,
        pa: Plan,
        pb: Plan,
        pairs: list[tuple[str, list[int], list[int]]],
        oa: int,
        ob: int,
        n_months: int,
    ) -> None:
        self.pa, self.pb, self.pairs = pa, pb, pairs
        self.oa, self.ob, self.n_months = oa, ob, n_months
        # series i's differences run from -lo[i] to +top of B's, widths[i] in all
        spans = _spans(pa, pb, pairs)
        self.lo = [lo for lo, _ in spans]
        self.widths = [lo + hi + 1 for lo, hi in spans]
        self.hist = [np.zeros(n_months * w, np.int64) for w in self.widths]
        # differences held over stretches of months, as differences between months
        # (a row only for the months where a stretch starts or ends)
        self._held = [HeldStretches(n_months, w, np.int64) for w in self.widths]
        self._fast = _whole_inputs(pa) and _whole_inputs(pb)
        self._runs: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
        # room for one month's levels of A and B and their difference, (3, g) (_add_row)
        self._room: NDArray[np.int64] | None = None
        self._scratch: NDArray[np.float64] | None = None
        # a month of a window alike in both plans, computed by the first to come to it,
        # kept for the other (_level), by (window, month in the window)
        self._shared: dict[tuple[int, int], NDArray[np.int64]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """What a part sends back: the settled counts."""
        self.settle()
        skip = ("_runs", "_room", "_scratch", "_shared")
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _runs=({}, {}), _room=None, _scratch=None, _shared={})

    def settle(self) -> None:
        """Fold the held stretches into ``hist``."""
        for hist, held in zip(self.hist, self._held, strict=True):
            held.fold(0, 0, hist.reshape(self.n_months, -1))

    def merge(self, other: _PairedCounts) -> None:
        """Add the counts of another part of the same paired ensemble."""
        self.settle()
        other.settle()
        for mine, theirs in zip(self.hist, other.hist, strict=True):
            mine += theirs

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        if not self._fast:
            self._add_stepped(inputs)
            return
        ia, ib = inputs
        if ia.n == 0:
            return
        key = np.concatenate([ia.exec_delay, ib.exec_delay, ib.delay[:, None]], axis=1)
        order, cuts = timing_groups(ia.delay, key)
        if len(cuts) - 1 > ia.n // FEW_DRAWS and len(self.pairs) > 1:
            self._add_by_series(ia, ib)
            return
        both = []
        for plan, inp in ((self.pa, ia), (self.pb, ib)):
            arrays = inp.group_arrays(plan)
            if order is None:
                arrays = [np.ascontiguousarray(a) for a in arrays]
            else:
                arrays = [np.take(a, order, axis=1) for a in arrays]
            firsts = group_firsts(order, cuts)
            start, _, _, reached, _ = timing(plan, inp.delay[firsts], inp.exec_delay[firsts])
            both.append((plan, arrays, start, reached))
        for g, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
            ga, gb = (
                _group(plan, start[g], reached[g], [x[:, a:b] for x in arrays], self._runs[v])
                for v, (plan, arrays, start, reached) in enumerate(both)
            )
            for i, (_, ma, mb) in enumerate(self.pairs):
                if len(ma) == 1 and len(mb) == 1:
                    self._stretches(i, ga, ma[0], gb, mb[0])
                else:
                    self._months(i, ga, ma, gb, mb)

    def _add_by_series(self, ia: StepInputs, ib: StepInputs) -> None:
        """Count the draws series by series, each series' draws grouped by the months of
        its own windows in A and in B only (as :meth:`Accumulator._add_by_theater`
        does): where each draw has a timing key of its own, a series' draws still share
        few window months."""
        n = ia.n
        both = []
        for plan, inp in ((self.pa, ia), (self.pb, ib)):
            start, reached, _ = window_months(plan, inp.delay, inp.exec_delay)
            both.append((plan, inp.group_arrays(plan), start, reached))
        for i, (_, ma, mb) in enumerate(self.pairs):
            columns: list[NDArray[np.int32]] = []
            for (plan, _, start, reached), tracks in zip(both, (ma, mb), strict=True):
                timed = sorted({j for k in tracks for j in plan.track_timed(k)})
                columns += [start[:, j] for j in timed] + [reached[:, j] for j in timed]
            order, cuts = row_groups(columns, n)
            firsts = [0] if order is None else order[cuts[:-1]].tolist()
            sides = []  # each plan's inputs, the draws in order
            for (plan, arrays, _, _), tracks in zip(both, (ma, mb), strict=True):
                if order is None:
                    sides.append([np.ascontiguousarray(a) for a in arrays])
                else:
                    rows = input_rows(plan, tracks)
                    sides.append(
                        [take_rows(a, r, order) for a, r in zip(arrays, rows, strict=True)]
                    )
            for first, (a, b) in zip(firsts, itertools.pairwise(cuts), strict=True):
                ga, gb = (
                    _group(plan, start[first], reached[first], [x[:, a:b] for x in taken], runs)
                    for (plan, _, start, reached), taken, runs in zip(
                        both, sides, self._runs, strict=True
                    )
                )
                if len(ma) == 1 and len(mb) == 1:
                    self._stretches(i, ga, ma[0], gb, mb[0])
                else:
                    self._months(i, ga, ma, gb, mb)

    def _add(self, i: int, m: int, diff: NDArray[np.int64], until: int | None = None) -> None:
        """Count differences ``diff`` (g,) of series i in month m, or in months m..until."""
        low = int(diff.min())
        counts = np.bincount(diff - low)
        start = self.lo[i] + low
        cols = slice(start, start + len(counts))
        if until is None:
            self.hist[i][m * self.widths[i] :][cols] += counts
            return
        self._held[i].add(0, 0, m, until, cols, counts)

    def _stretches(self, i: int, ga: Group, ka: int, gb: Group, kb: int) -> None:
        """Series i, one track in each plan: held stretches at once, other months one
        by one."""
        oa, ob, months = self.oa, self.ob, self.n_months
        edges = {0, months}
        for runs, off in ((ga.runs(ka), oa), (gb.runs(kb), ob)):
            edges.update(min(max(r[0] - off, 0), months) for r in runs)
        cuts = sorted(edges)
        ra, rb = ga.runs(ka), gb.runs(kb)
        alike: dict[tuple[int, int, int], int] | None = None  # (made when first needed)
        self._shared = {}
        for s, e in zip(cuts[:-1], cuts[1:], strict=True):
            run_a = next(r for r in ra if r[0] <= s + oa <= r[1])
            run_b = next(r for r in rb if r[0] <= s + ob <= r[1])
            if not run_a[2] and not run_b[2]:
                diff = gb.held(kb, run_b[3], run_b[4]) - ga.held(ka, run_a[3], run_a[4])
                self._add(i, s, diff, e - 1)
                continue
            step = max(1, BLOCK_CELLS // ga.n)  # months at a time: blocks of few cells
            if step == 1:
                if alike is None:
                    alike = _alike_windows(ga, ka, gb, kb)
                for m in range(s, e):
                    self._add_row(i, m, ga, ka, gb, kb, alike)
                continue
            for m in range(s, e, step):
                last = min(e, m + step) - 1
                diff = gb.levels(kb, m + ob, last + ob) - ga.levels(ka, m + oa, last + oa)
                self._add_months(i, m, diff)

    def _add_row(
        self,
        i: int,
        m: int,
        ga: Group,
        ka: int,
        gb: Group,
        kb: int,
        alike: dict[tuple[int, int, int], int] | None = None,
    ) -> None:
        """Count month m of series i, one track in each plan, in a large group: each
        plan's levels into room kept for it (a held level is read, not copied), their
        difference in place. A month of a window whose levels equal the other plan's in
        the same month of its own window (``alike``: :func:`_alike_windows`) is computed
        once for both, whichever plan comes to it first."""
        n = ga.n
        room = self._room
        if room is None or room.shape[1] != n:
            room = self._room = np.empty((3, n), np.int64)
            self._scratch = np.empty(n, np.float64)
        la = self._level(0, ga, ka, m + self.oa, room[0], alike)
        lb = self._level(1, gb, kb, m + self.ob, room[1], alike)
        diff = np.subtract(lb, la, out=room[2])
        width = self.widths[i]
        if width > max(2 * n, ROW_WIDTH):  # differences may lie far apart: from the lowest
            self._add(i, m, diff)
            return
        # -lo[i] is the lowest difference there can be, so diff + lo[i] is a column
        diff += self.lo[i]
        counts = np.bincount(diff)
        self.hist[i][m * width :][: len(counts)] += counts

    def _level(
        self,
        side: int,
        g: Group,
        k: int,
        month: int,
        out: NDArray[np.int64],
        alike: dict[tuple[int, int, int], int] | None,
    ) -> NDArray[np.int64]:
        """Track k's levels (g,) in ``month`` of plan ``side`` (0: A, 1: B), as
        :meth:`Group.level_in` gives them (into ``out`` for a ramp), or the same month of
        an alike window the other plan computed already (``self._shared``, by window and
        month in the window; kept until the other plan comes to it)."""
        if alike:
            for a, b, ramp, li, source in g.runs(k):
                if a <= month <= b:
                    window = alike.get((side, li, source)) if ramp else None
                    if window is None:
                        break
                    key = (window, month - g.start[source // 2])
                    got = self._shared.pop(key, None)
                    if got is not None:
                        return got
                    level = g.level_in(k, month, out, self._scratch)
                    held = sum(x.nbytes for x in self._shared.values())
                    if held + level.nbytes <= SHARED_BYTES:  # (else the other computes it)
                        self._shared[key] = level.copy()
                    return level
        return g.level_in(k, month, out, self._scratch)

    def _months(self, i: int, ga: Group, ma: list[int], gb: Group, mb: list[int]) -> None:
        """Series i made of several tracks: every month of the sums."""
        oa, ob, months = self.oa, self.ob, self.n_months
        la = sum(ga.levels(k, oa, oa + months - 1) for k in ma)
        lb = sum(gb.levels(k, ob, ob + months - 1) for k in mb)
        self._add_months(i, 0, np.asarray(lb - la))

    def _add_months(self, i: int, m: int, diff: NDArray[np.int64]) -> None:
        """Count differences ``diff`` (months, g) of series i in months m, m + 1, ...:
        in one count when the differences take few values for their number, else month
        by month (:meth:`_add`)."""
        rows = diff.shape[0]
        low = int(diff.min())
        span = int(diff.max()) - low + 1
        if rows == 1 or rows * span > max(4 * diff.size, BLOCK_CELLS):
            for r in range(rows):
                self._add(i, m + r, diff[r])
            return
        key = diff - low
        key += (np.arange(rows, dtype=np.int64) * span)[:, None]
        counts = np.bincount(key.ravel(), minlength=rows * span).reshape(rows, span)
        start = self.lo[i] + low
        grid = self.hist[i].reshape(self.n_months, self.widths[i])
        grid[m : m + rows, start : start + span] += counts

    def _add_stepped(self, inputs: Sequence[StepInputs]) -> None:
        """Levels that are not whole troops: both plans stepped month by month."""
        out_a, out_b = step(self.pa, inputs[0]), step(self.pb, inputs[1])
        oa, ob, months = self.oa, self.ob, self.n_months
        for i, (name, ma, mb) in enumerate(self.pairs):
            la = _levels(self.pa, out_a, name, ma)[:, oa : oa + months].astype(np.int64)
            lb = _levels(self.pb, out_b, name, mb)[:, ob : ob + months].astype(np.int64)
            offsets = (np.arange(months, dtype=np.int64) * self.widths[i] + self.lo[i])[None, :]
            self.hist[i] += np.bincount(
                (lb - la + offsets).ravel(), minlength=months * self.widths[i]
            )


def _group(plan: Plan, start: Any, reached: Any, arrays: list[Any], cache: dict[Any, Any]) -> Group:
    """The :class:`Group` of draws ``arrays`` (initial, start level, target, residual)
    with the window months ``start`` and ``reached``."""
    initial, level0, target, residual = arrays
    return Group(
        plan, start.tolist(), reached.tolist(), initial, level0, target, residual, cache=cache
    )


def _table(
    scenario_id: str,
    a: str,
    b: str,
    names: list[str],
    months: list[str],
    hist: list[NDArray[np.int64]],
    los: list[int],
    widths: list[int],
    n: int,
) -> pd.DataFrame:
    """``compare.csv`` rows from each series' counts of ``B − A`` (``hist[i]``: months x
    ``widths[i]`` counts of the differences ``-los[i] ..``)."""
    n_months = len(months)
    frames = []
    quantiles = [f"p{q:02d}" for q in PERCENTILES]
    for i, name in enumerate(names):
        lo, width = los[i], widths[i]
        grid = hist[i].reshape(n_months, width)
        # the months in blocks of at most BLOCK_BYTES of running sums
        step = max(1, BLOCK_BYTES // (8 * width))
        parts: dict[str, list[NDArray[np.int64]]] = {
            c: [] for c in ["sum", "min", *quantiles, "max", "greater", "less"]
        }
        for m0 in range(0, n_months, step):
            h = grid[m0 : m0 + step]
            cum = np.cumsum(h, axis=1)
            nonzero = h > 0
            parts["sum"].append(value_sums(cum, width - 1 - lo))  # differences -lo..
            parts["min"].append(nonzero.argmax(axis=1) - lo)
            for q, c in zip(PERCENTILES, quantiles, strict=True):
                parts[c].append(inverse_cdf(cum, q, n) - lo)
            parts["max"].append(width - 1 - nonzero[:, ::-1].argmax(axis=1) - lo)
            parts["greater"].append(cum[:, -1] - cum[:, lo])
            # (a copy: a view would keep the block's running sums alive)
            parts["less"].append(cum[:, lo - 1].copy() if lo > 0 else np.zeros(len(h), np.int64))
        got = {c: np.concatenate(x) for c, x in parts.items()}
        frame = pd.DataFrame(
            {
                "scenario": scenario_id,
                "variant_a": a,
                "variant_b": b,
                "theater": name,
                "month": months,
                "mean": rounded_all(got["sum"], n, MEAN_PLACES),
                "min": got["min"],
                **{c: got[c] for c in quantiles},
                "max": got["max"],
                "p_b_greater": rounded_all(got["greater"], n, SHARE_PLACES),
                "p_b_less": rounded_all(got["less"], n, SHARE_PLACES),
            }
        )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)[COMPARE_COLUMNS]
    out["month"] = pd.PeriodIndex(out["month"], freq="M")
    return out


def _central(
    pa: Plan,
    pb: Plan,
    pairs: list[tuple[str, list[int], list[int]]],
    oa: int,
    ob: int,
    n_months: int,
    months: list[str],
) -> pd.DataFrame:
    out_a = step(pa, central_inputs(pa))
    out_b = step(pb, central_inputs(pb))
    frames = []
    for name, ma, mb in pairs:
        la = _levels(pa, out_a, name, ma)[0, oa : oa + n_months].astype(np.int64)
        lb = _levels(pb, out_b, name, mb)[0, ob : ob + n_months].astype(np.int64)
        frames.append(pd.DataFrame({"theater": name, "month": months, "difference": lb - la}))
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.PeriodIndex(out["month"], freq="M")
    return out


def _alike_windows(ga: Group, ka: int, gb: Group, kb: int) -> dict[tuple[int, int, int], int]:
    """The ramp runs of track ka in ``ga`` (side 0) and kb in ``gb`` (side 1) whose
    levels are equal, month by month from the start of their windows, to those of a run
    on the other side: the same shares (profile and length of window) and equal start
    levels, targets and residual floors in every draw (compared value by value). Maps
    ``(side, layer, source)`` to a number shared by the runs alike; runs alike with none
    on the other side are left out. A variant that only moves a window in time (an
    announcement six months late) steps the same levels through it as the plan it is
    compared with, months apart."""
    found: list[tuple[tuple[int, int, int], tuple[Any, ...], list[NDArray[Any]]]] = []
    for side, (g, k) in enumerate(((ga, ka), (gb, kb))):
        for _, _, ramp, li, source in g.runs(k):
            if not ramp:
                continue
            parts, j = g.ramp_parts(k, li, source)
            shape = (g.plan.milestones[j].profile, g.reached[j] - g.start[j], len(parts))
            found.append(((side, li, source), shape, parts))
    out: dict[tuple[int, int, int], int] = {}
    for x, (key_a, shape_a, parts_a) in enumerate(found):
        if key_a[0] != 0:
            continue
        for key_b, shape_b, parts_b in found:
            if key_b[0] != 1 or key_b in out or shape_a != shape_b:
                continue
            if all(
                p.dtype == q.dtype and np.array_equal(p, q)
                for p, q in zip(parts_a, parts_b, strict=True)
            ):
                # (a run split by a residual's months may pair again with a later run:
                # each number still names runs whose levels are equal, and a month kept
                # for a run left with no partner is only let go unread)
                out[key_a] = out[key_b] = x
                break
    return out
