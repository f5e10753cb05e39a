"""Monte Carlo ensembles: draws stepped in chunks, summarised exactly as they go.

Levels are whole troops, so each month's distribution is kept as counts of
each level (a histogram). Histograms of chunks add up, so the summaries are
exact and do not depend on the chunk size, and memory does not grow with the
number of draws. Percentiles are the inverse of the empirical distribution:
``pXX`` is the smallest level ``L`` with at least ``XX %`` of the draws at or
below ``L`` — always a level some draw actually had, never an interpolation.

Speed (see ``benchmarks/bench_ensemble.py``): a chunk's draws are grouped by
timing key (announcement and execution delays), which fixes the months of every window
(:class:`sim.stepper.Group`). A level held over a stretch of months is counted
once for the whole stretch; only the months inside a window are computed,
with the stepper's own float arithmetic, so the counts equal those of
:func:`sim.stepper.step` to the last draw. Where few distinct draws differ
in a window (a fixed start level and a drawn target, say), each distinct one
is computed once and counted with its multiplicity.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.chunks import Executor, consume_all, progress_bar
from sim.errors import ScenarioError
from sim.model.fastpath import Group
from sim.model.plan import Plan, Quantity
from sim.model.rules import timing, timing_groups, window_levels
from sim.model.stepper import StepInputs, step
from sim.months import format_month
from sim.results import Result
from sim.schema import Spec, central, support

MAX_DRAWS = 100_000_000
SITES_BLOCK = 1 << 15  # draws stepped at once for a theater made of sites
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
DATE_PERCENTILES = (10, 50, 80, 90)
BAND_COLUMNS = [
    "scenario",
    "variant",
    "theater",
    "month",
    "mean",
    "min",
    *[f"p{q:02d}" for q in PERCENTILES],
    "max",
]
DATE_COLUMNS = [
    "scenario",
    "variant",
    "theater",
    "threshold",
    "level",
    *[f"p{q}" for q in DATE_PERCENTILES],
    "never",
]


def _draws_in_range(n: int, file: str, path: str) -> int:
    if not 1 <= n <= MAX_DRAWS:
        raise ScenarioError(
            f"a number of draws from 1 to {MAX_DRAWS:,}", f"{n:,}", file=file, path=path
        )
    return int(n)


def _seed_in_range(s: int, file: str, path: str) -> int:
    if not 0 <= s < 2**63:
        raise ScenarioError("a seed from 0 to 2**63 - 1", str(s), file=file, path=path)
    return int(s)


def check_args(draws: int | None, seed: int | None) -> tuple[int, int]:
    """``draws`` and ``seed`` given to the Python API, checked."""
    if draws is None or isinstance(draws, bool) or not isinstance(draws, int | np.integer):
        raise ScenarioError(
            "a whole number of draws", repr(draws), file="<arguments>", path="draws"
        )
    if seed is None or isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ScenarioError(
            "a whole-number seed with draws", repr(seed), file="<arguments>", path="seed"
        )
    return _draws_in_range(draws, "<arguments>", "draws"), _seed_in_range(
        seed, "<arguments>", "seed"
    )


def level_bound(plan: Plan) -> int:
    """The highest level any track can take in any draw [troops]."""

    def top(q: Quantity) -> int:  # the highest whole value a draw can take
        return int(np.floor(support(q)[1] + 0.5))

    total = 0
    for k, t in enumerate(plan.tracks):
        hi = top(t.initial)
        for m in plan.milestones:
            if m.track == k and m.target_kind == "level":
                hi = max(hi, top(m.target))
        for r in plan.residuals:
            if r.track == k:
                hi = max(hi, top(r.size))
        total += hi
    return total


def series(plan: Plan) -> list[tuple[str, list[int]]]:
    """The series summarised: each theater (sum of its tracks), then each site."""
    out = [(tid, plan.theater_tracks(tid)) for tid in plan.theaters]
    out += [(t.key, [k]) for k, t in enumerate(plan.tracks) if t.site is not None]
    return out


def thresholds(plan: Plan, milestones: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(series, threshold name, level) for the dates table: zero, residual sizes,
    each milestone's (central) target."""
    out: list[tuple[str, str, int]] = []
    targets: dict[str, int] = {}
    for mid, target in zip(milestones.milestone, milestones.target, strict=True):
        targets.setdefault(mid, int(target))
    for name, tracks in series(plan):
        levels: dict[int, str] = {0: "zero"}
        for r in plan.residuals:
            if r.track in tracks and (len(tracks) == 1 or plan.tracks[r.track].site is None):
                size = r.size
                value = (
                    size.model_copy(update={"probability": None})
                    if isinstance(size, Spec)
                    else size
                )
                levels.setdefault(int(np.floor(central(value) + 0.5)), f"residual {r.id}")
        for m in plan.milestones:
            if plan.tracks[m.track].key == name and m.id in targets:
                levels.setdefault(targets[m.id], f"milestone {m.id}")
        out += [(name, label, level) for level, label in sorted(levels.items(), reverse=True)]
    return out


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
    """

    plan: Plan
    bound: int
    names: list[str]
    members: list[list[int]]
    marks: list[tuple[str, str, int]]
    n: int = 0
    hist: NDArray[np.int64] = field(init=False)
    first: NDArray[np.int64] = field(init=False)
    met: NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        months, width = self.plan.n_months, self.bound + 1
        self.hist = np.zeros((len(self.names), months * width), np.int64)
        self._lower = np.zeros((len(self.names), months * width), np.int64)
        self.first = np.zeros((len(self.marks), months + 1), np.int64)
        self.met = np.zeros(len(self.plan.milestones), np.int64)
        # levels held over whole stretches of months, as differences between months
        # ([0]: to hist, [1]: to the running-minimum correction)
        self._held = np.zeros((2, len(self.names), months + 1, width), np.int64)
        self._pending = False
        self._rose = False  # some draw's level rose: the running-minimum correction is used
        self._cum: dict[int, tuple[int, NDArray[np.int64], NDArray[np.int64]]] = {}
        self._offsets = (np.arange(months, dtype=np.int64) * width)[None, :]
        self._row = {name: i for i, name in enumerate(self.names)}
        self._fast = _whole_inputs(self.plan) and self._members_ok()
        self._scratch: dict[tuple[int, int], NDArray[Any]] = {}
        self._runs: dict[Any, Any] = {}

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
        counts add, so the summaries are those of one pass over all the draws."""
        self._settle()
        other._settle()
        self.hist += other.hist
        self._lower += other._lower
        self.met += other.met
        self.n += other.n
        self._rose = self._rose or other._rose
        self._pending = True  # ``first`` follows from the merged counts
        self._cum = {}

    def __getstate__(self) -> dict[str, Any]:
        """What a part sends back: the settled counts, without its scratch room."""
        self._settle()
        scratch = ("_held", "_scratch", "_runs", "_cum")
        return {k: v for k, v in self.__dict__.items() if k not in scratch}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        shape = (2, len(self.names), self.plan.n_months + 1, self.bound + 1)
        self._held = np.zeros(shape, np.int64)
        self._scratch, self._runs, self._cum = {}, {}, {}

    # -- adding draws

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        """A chunk of :func:`sim.analysis.chunks.run_chunks` (one plan)."""
        self.add_draws(inputs[0])

    def add(
        self,
        levels: dict[str, NDArray[np.int32]],
        reached: NDArray[np.int64],
        original: NDArray[np.int64],
    ) -> None:
        """Add draws given as whole monthly levels (``levels[name]``: (n, months))."""
        months, width = self.plan.n_months, self.bound + 1
        for i, name in enumerate(self.names):
            lv = levels[name].astype(np.int64)
            self.hist[i] += np.bincount((lv + self._offsets).ravel(), minlength=months * width)
            lowest = np.minimum.accumulate(lv, axis=1)
            self._lower[i] += np.bincount(
                (lowest + self._offsets).ravel(), minlength=months * width
            )
            self._lower[i] -= np.bincount((lv + self._offsets).ravel(), minlength=months * width)
        self._rose = True
        self.met += (reached <= original).sum(axis=0)
        self.n += reached.shape[0]
        self._pending = True

    def add_draws(self, inputs: StepInputs) -> None:
        """Add draws given as stepper inputs, stepping only the months that move.

        Gives the same summaries as :meth:`add` of :func:`sim.stepper.step`'s
        levels: draws are grouped by their timing key (announcement and execution
        delays, which fix every window's months), and each group's tracks are evaluated run by run
        (:class:`sim.stepper.Group`) over the months where some level moves.
        """
        plan = self.plan
        if not self._fast:
            out = step(plan, inputs)
            self.add(level_views(plan, out, self.names, self.members), out.reached, out.original)
            return
        n = inputs.n
        if n == 0:
            return
        initial = inputs.initial.T
        level0, target = window_levels(plan, initial, inputs.targets.T, transposed=True)
        arrays: tuple[NDArray[np.float64], ...] = (initial, level0, target, inputs.residual.T)
        order, cuts = timing_groups(inputs.delay, inputs.exec_delay)
        if order is None:
            firsts: Any = slice(0, 1)
            arrays = tuple(np.ascontiguousarray(a) for a in arrays)
        else:  # the order of the draws within the chunk does not matter
            firsts = order[cuts[:-1]]
            arrays = tuple(np.take(a, order, axis=1) for a in arrays)
        start, _, original, reached, _ = timing(
            plan, inputs.delay[firsts], inputs.exec_delay[firsts]
        )
        self.met += ((reached <= original) * np.diff(cuts)[:, None]).sum(axis=0)
        self.n += n
        self._pending = True
        # theaters made of sites are summed month by month in blocks (months, draws):
        # their draws go in parts small enough to keep those blocks small
        most = SITES_BLOCK if any(len(plan.theater_tracks(t)) > 1 for t in plan.theaters) else n
        for g, (a, b) in enumerate(itertools.pairwise(cuts)):
            for lo in range(a, b, most):
                hi = min(b, lo + most)
                part = [x[:, lo:hi] for x in arrays] if hi - lo < n else list(arrays)
                self._add_group(
                    Group(
                        plan,
                        start[g].tolist(),
                        reached[g].tolist(),
                        part[0],
                        part[1],
                        part[2],
                        part[3],
                        cache=self._runs,
                    )
                )

    def _buffer(self, rows: int, cols: int, dtype: Any, tag: int = 0) -> NDArray[Any]:
        """Scratch room of shape (rows, cols), kept between chunks (``tag`` tells apart
        buffers needed at once)."""
        key = (np.dtype(dtype).num, tag)
        flat = self._scratch.get(key)
        if flat is None or flat.size < rows * cols:
            flat = self._scratch[key] = np.empty(rows * cols, dtype)
        return flat[: rows * cols].reshape(rows, cols)

    def _add_group(self, group: Group) -> None:
        plan = self.plan
        head = None
        for tid in plan.theaters:
            tracks = plan.theater_tracks(tid)
            row = self._row.get(tid)
            if len(tracks) == 1 and not plan.tracks[tracks[0]].site:  # a theater on its own
                if row is not None:
                    k = tracks[0]
                    if group.uniform(k):  # every draw alike: one draw stands for all
                        head = head or group.head()
                        self._stream(row, head, k, group.n)
                    else:
                        self._stream(row, group, k, 1)
                continue
            # a theater made of sites: each site's levels month by month, and their sum
            spans = [group.active(k) for k in tracks]
            lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
            rows = hi - lo + 1
            blocks = []
            for pos, k in enumerate(tracks):
                if group.uniform(k):
                    head = head or group.head()
                    blocks.append(head.levels(k, lo, hi))
                else:
                    scratch = self._buffer(rows, group.n, np.float64)
                    out = self._buffer(rows, group.n, np.int64, pos)
                    blocks.append(group.levels(k, lo, hi, out=out, scratch=scratch))
            rises = [
                (group if blk.shape[1] > 1 else head).rises(k, blk, lo, hi)  # type: ignore[union-attr]
                for k, blk in zip(tracks, blocks, strict=True)
            ]
            if row is not None:
                if len(blocks) == 1:
                    total = blocks[0].copy()
                else:
                    total = np.add(blocks[0], blocks[1])
                    for blk in blocks[2:]:
                        if blk.shape[1] > total.shape[1]:
                            total = total + blk
                        else:
                            total += blk
                self._tally(
                    row,
                    total,
                    lo,
                    hi,
                    None if any(rises) else False,
                    group.n if total.shape[1] == 1 else 1,
                )
            for k, blk, (a, b), up in zip(tracks, blocks, spans, rises, strict=True):
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

    def _stream(self, i: int, group: Group, k: int, weight: int) -> None:
        """Count series i, the levels of track k alone, run by run: a held level is
        counted once for all its months, a ramp a month at a time, or once per
        distinct draw when few draws differ (each draw ``weight`` times)."""
        months, width = self.plan.n_months, self.bound + 1
        grid = self.hist[i].reshape(months, width)
        held = self._held[0, i]
        n = group.n
        scratch = self._buffer(1, n, np.float64, 1)[0]
        pair = self._buffer(2, n, np.int64, 7)
        prev: NDArray[np.int64] | None = None
        rising = False
        for a, b, ramp, li, source in group.runs(k):
            if not ramp:
                level = group.held(k, li, source)
                if prev is not None and not rising:
                    rising = bool(np.any(level > prev))
                counts = np.bincount(level, minlength=width)
                if weight != 1:
                    counts *= weight
                held[a] += counts
                held[b + 1] -= counts
                prev = level
                continue
            rising = rising or group.ramp_rises(k, li, source)
            distinct = group.ramp_counts(k, li, source, a, b, width) if b - a >= 3 else None
            if distinct is not None:  # few distinct draws: counted once each, with weights
                grid[a : b + 1] += distinct * weight if weight != 1 else distinct
                if not rising:  # the edges, to see whether a level rises there
                    first = group.ramp_month(k, li, source, a, pair[0], scratch)
                    rising = prev is not None and bool(np.any(first > prev))
                    prev = group.ramp_month(k, li, source, b, pair[1], scratch)
                continue
            for m in range(a, b + 1):
                level = group.ramp_month(k, li, source, m, pair[m % 2], scratch)
                if m == a and prev is not None and not rising:
                    rising = bool(np.any(level > prev))
                counts = np.bincount(level, minlength=width)
                grid[m] += counts * weight if weight != 1 else counts
                prev = level
        if rising:  # the running minimum differs from the level: count the difference
            self._rose = True
            block = group.levels(k, 0, months - 1)
            lowest = np.minimum.accumulate(block, axis=0)
            self._count(lowest, 0, weight, self._lower[i])
            self._count(block, 0, -weight, self._lower[i])

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
        months, width = self.plan.n_months, self.bound + 1
        held = self._held

        def count(values: NDArray[np.int64]) -> NDArray[np.int64]:
            out = np.bincount(values, minlength=width)
            return out * weight if weight != 1 else out

        if lo > 0:
            counts = count(block[0])
            held[0, i, 0] += counts
            held[0, i, lo] -= counts
        if hi < months - 1:
            last = count(block[-1])
            held[0, i, hi + 1] += last
        if rising is None:
            rising = block.shape[0] > 1 and bool(np.any(block[1:] > block[:-1]))
        if rising:
            self._rose = True
            lowest = np.minimum.accumulate(block, axis=0)
            if hi < months - 1:
                held[1, i, hi + 1] += count(lowest[-1]) - last
            self._count(lowest, lo, weight, self._lower[i])
            self._count(block, lo, -weight, self._lower[i], weight, self.hist[i])
        else:
            self._count(block, lo, weight, self.hist[i])

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
        ``dest`` (months * (bound + 1)), and ``weight2`` to ``dest2``. ``levels`` is
        overwritten."""
        months, width = self.plan.n_months, self.bound + 1
        grid = dest.reshape(months, width)
        grid2 = None if dest2 is None else dest2.reshape(months, width)
        rows = levels.shape[0]
        if levels.shape[1] >= 2 * width:  # many draws: a month per bincount, every level
            for r in range(rows):
                counts = np.bincount(levels[r], minlength=width)
                if grid2 is not None:
                    grid2[lo + r] += counts * weight2 if weight2 != 1 else counts
                grid[lo + r] += counts * weight if weight != 1 else counts
            return
        tile = 4  # few draws: a few months per bincount, over the levels they take
        for r0 in range(0, rows, tile):
            part = levels[r0 : r0 + tile]
            t = part.shape[0]
            floor, top = int(part.min()), int(part.max())
            span = top - floor + 1  # count only the levels the draws take
            part -= floor
            if t > 1:
                part += (np.arange(t, dtype=np.int64) * span)[:, None]
            counts = np.bincount(part.ravel(), minlength=t * span).reshape(t, span)
            where = (slice(lo + r0, lo + r0 + t), slice(floor, top + 1))
            if grid2 is not None:
                grid2[where] += counts * weight2 if weight2 != 1 else counts
            grid[where] += counts * weight if weight != 1 else counts

    def _settle(self) -> None:
        """Fold the held stretches into ``hist``; count ``first``."""
        if not self._pending:
            return
        months, width = self.plan.n_months, self.bound + 1
        held = self._held if self._rose else self._held[:1]
        for m in range(1, months):  # running sums over the months, in place
            held[:, :, m] += held[:, :, m - 1]
        shape = (len(self.names), months * width)
        self.hist += held[0, :, :months].reshape(shape)
        if self._rose:
            self._lower += held[1, :, :months].reshape(shape)
        held[...] = 0
        self._cum = {}
        for k, (name, _, level) in enumerate(self.marks):
            row = self._row[name]
            if level < 0:
                reached = np.zeros(months, np.int64)
            elif self._rose:
                low = (self.hist[row] + self._lower[row]).reshape(months, width)
                reached = low[:, : min(level, self.bound) + 1].sum(axis=1)
            else:
                base, cum, _ = self._cumulative(row)
                col = min(level, self.bound) - base
                reached = (
                    cum[:, min(col, cum.shape[1] - 1)] if col >= 0 else np.zeros(months, np.int64)
                )
            self.first[k, :months] = np.diff(reached, prepend=0)
            self.first[k, months] = self.n - reached[-1]
        self._pending = False

    def _cumulative(self, i: int) -> tuple[int, NDArray[np.int64], NDArray[np.int64]]:
        """``(low, counts, cumulative)`` of series i over the levels ``low..`` that some
        draw takes in some month (every count below ``low`` is 0, and the cumulative
        count above the last level is the number of draws)."""
        if i not in self._cum:
            months, width = self.plan.n_months, self.bound + 1
            h = self.hist[i].reshape(months, width)
            taken = np.flatnonzero(h.any(axis=0))
            low, top = (int(taken[0]), int(taken[-1])) if len(taken) else (0, 0)
            h = h[:, low : top + 1]
            self._cum[i] = (low, np.cumsum(h, axis=1), h)
        low, cum, h = self._cum[i]
        return low, cum, h

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
        self._settle()
        months = self.plan.n_months
        columns: dict[str, list[NDArray[Any]]] = {c: [] for c in BAND_COLUMNS[4:]}
        for i in range(len(self.names)):
            base, cum, h = self._cumulative(i)
            levels = np.arange(base, base + h.shape[1])
            nonzero = h > 0
            columns["mean"].append(((h * levels).sum(axis=1) / self.n).round(3))
            columns["min"].append(base + nonzero.argmax(axis=1))
            for q in PERCENTILES:
                columns[f"p{q:02d}"].append(base + inverse_cdf(cum, q, self.n))
            columns["max"].append(base + h.shape[1] - 1 - nonzero[:, ::-1].argmax(axis=1))
        month = pd.period_range(format_month(self.plan.start), periods=months, freq="M")
        return pd.DataFrame(
            {
                "scenario": scenario,
                "variant": variant,
                "theater": np.repeat(np.array(self.names, dtype=object), months),
                "month": np.tile(np.asarray(month), len(self.names)),
                **{
                    c: np.concatenate(v).astype(np.int64) if c != "mean" else np.concatenate(v)
                    for c, v in columns.items()
                },
            },
            columns=BAND_COLUMNS,
        )

    def dates(self, scenario: str, variant: str) -> pd.DataFrame:
        self._settle()
        months = self.plan.n_months
        rows = []
        for i, (name, label, level) in enumerate(self.marks):
            cum = np.cumsum(self.first[i])[None, :]
            row: dict[str, Any] = {
                "scenario": scenario,
                "variant": variant,
                "theater": name,
                "threshold": label,
                "level": level,
            }
            for q in DATE_PERCENTILES:
                m = int(inverse_cdf(cum, q, self.n)[0])
                row[f"p{q}"] = (
                    pd.Period(format_month(self.plan.start + m), freq="M") if m < months else pd.NaT
                )
            row["never"] = round(self.first[i, months] / self.n, 6)
            rows.append(row)
        return pd.DataFrame(rows, columns=DATE_COLUMNS)


def inverse_cdf(cum: NDArray[np.int64], q: int, n: int) -> NDArray[np.int64]:
    """Smallest index whose cumulative count reaches ``q`` % of ``n`` (exact integers)."""
    need = -(-q * n // 100)  # ceil(q n / 100), at least one draw
    need = max(need, 1)
    return (cum < need).sum(axis=1).astype(np.int64)


def _whole_inputs(plan: Plan) -> bool:
    """Every level the stepper takes is a whole number of troops (a distribution's
    draws always are; a plain number must be written whole)."""
    return all(
        isinstance(q, Spec) or float(q).is_integer()
        for path, q in plan.quantities().items()
        if not path.endswith(".delay")
    )


def level_views(
    plan: Plan, out: Any, names: list[str], members: list[list[int]]
) -> dict[str, NDArray[np.int32]]:
    views: dict[str, NDArray[np.int32]] = {}
    for t, tid in enumerate(plan.theaters):
        views[tid] = out.theaters[:, t, :]
    for name, tracks in zip(names, members, strict=True):
        if name not in views:
            views[name] = out.tracks[:, tracks[0], :]
    return views


@dataclass(frozen=True)
class LevelCounts:
    """Settled counts of one variant's draws: ``hist[series, month * (bound + 1) + level]``."""

    names: list[str]
    bound: int
    hist: NDArray[np.int64]


def run_ensemble(
    result: Result,
    *,
    draws: int,
    seed: int | None,
    chunk: int | None = None,
    progress: bool | None = None,
    keep_counts: bool = False,
    executor: Executor | None = None,
) -> Result:
    """A copy of a deterministic :class:`Result` with the ensemble's ``bands``,
    ``dates`` and ``p_met``.

    With ``keep_counts``, each variant's per-month level counts stay on
    ``counts`` (a :class:`LevelCounts` per variant), so that observations can be
    ranked without stepping the draws again. With ``executor``
    (:func:`sim.analysis.distributed.open_executor`), the draws run as parts
    elsewhere and their counts are merged: the same summaries, to the last draw."""
    draws, seed = check_args(draws, seed)
    bands: list[pd.DataFrame] = []
    dates: list[pd.DataFrame] = []
    p_met: list[float] = []
    counts: dict[str, LevelCounts] = {}
    bar = progress_bar(draws * len(result.variants), progress, result.scenario.id)
    jobs = [
        (
            [result.plans[name]],
            partial(
                accumulator,
                result.plans[name],
                result.milestones[result.milestones.variant == name],
            ),
        )
        for name in result.variants
    ]
    try:
        accs = consume_all(jobs, draws, seed, chunk=chunk, bar=bar, executor=executor)
        for name, acc in zip(result.variants, accs, strict=True):  # one at a time here
            bands.append(acc.bands(result.scenario.id, name))
            dates.append(acc.dates(result.scenario.id, name))
            p_met.extend((acc.met / acc.n).round(6))
            if keep_counts:
                counts[name] = LevelCounts(acc.names, acc.bound, acc.hist)
    finally:
        if bar is not None:
            bar.close()
    milestones = (
        result.milestones.assign(p_met=p_met)
        if p_met
        else result.milestones.assign(p_met=pd.Series(dtype=float))
    )
    return replace(
        result,
        bands=pd.concat(bands, ignore_index=True),
        dates=pd.concat(dates, ignore_index=True),
        milestones=milestones,
        draws=draws,
        seed=seed,
        counts=counts,
    )


def accumulator(plan: Plan, milestones: pd.DataFrame, *, dates: bool = True) -> Accumulator:
    """An empty :class:`Accumulator` for every series of ``plan``, with the threshold
    dates of ``milestones`` (one variant's rows) unless ``dates`` is False."""
    sel = series(plan)
    return Accumulator(
        plan,
        level_bound(plan),
        [s for s, _ in sel],
        [m for _, m in sel],
        thresholds(plan, milestones) if dates else [],
    )
