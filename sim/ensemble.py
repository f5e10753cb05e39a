"""Monte Carlo ensembles: draws stepped in chunks, summarised exactly as they go.

Levels are whole troops, so each month's distribution is kept as counts of
each level (a histogram). Histograms of chunks add up, so the summaries are
exact and do not depend on the chunk size, and memory does not grow with the
number of draws. Percentiles are the inverse of the empirical distribution:
``pXX`` is the smallest level ``L`` with at least ``XX %`` of the draws at or
below ``L`` — always a level some draw actually had, never an interpolation.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.draws import Draws
from sim.errors import ScenarioError
from sim.months import format_month
from sim.plan import Plan
from sim.schema import Spec, central, support
from sim.stepper import Group, StepInputs, schedule, step

MAX_DRAWS = 100_000_000
DEFAULT_CHUNK = 1 << 15
PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
DATE_PERCENTILES = (10, 50, 80, 90)
BAND_COLUMNS = ["scenario", "variant", "theater", "month", "mean", "min",
                *[f"p{q:02d}" for q in PERCENTILES], "max"]
DATE_COLUMNS = ["scenario", "variant", "theater", "threshold", "level",
                *[f"p{q}" for q in DATE_PERCENTILES], "never"]


def parse_draws(text: str | None, seed: str | None = None) -> int | None:
    """``--draws`` as a checked whole number (None when not given)."""
    if text is None:
        if seed is not None:
            raise ScenarioError("--draws N together with --seed", "--seed alone",
                                file="<command line>", path="--seed")
        return None
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        raise ScenarioError("a whole number of draws", repr(text), file="<command line>",
                            path="--draws") from None
    if not 1 <= n <= MAX_DRAWS:
        raise ScenarioError(f"a number of draws from 1 to {MAX_DRAWS:,}", f"{n:,}",
                            file="<command line>", path="--draws")
    return n


def parse_seed(text: str | None, draws: str | None = None) -> int | None:
    """``--seed`` as a checked whole number (required with ``--draws``)."""
    if text is None:
        if draws is not None:
            raise ScenarioError("--seed S with --draws (the same seed gives the same output)",
                                "no seed", file="<command line>", path="--seed")
        return None
    try:
        s = int(text)
    except ValueError:
        raise ScenarioError("a whole number as the seed", repr(text), file="<command line>",
                            path="--seed") from None
    if not 0 <= s < 2**63:
        raise ScenarioError("a seed from 0 to 2**63 - 1", str(s), file="<command line>",
                            path="--seed")
    return s


def check_args(draws: int | None, seed: int | None) -> tuple[int, int]:
    if draws is None or isinstance(draws, bool) or not isinstance(draws, int | np.integer):
        raise ScenarioError("a whole number of draws", repr(draws), path="draws")
    if not 1 <= draws <= MAX_DRAWS:
        raise ScenarioError(f"a number of draws from 1 to {MAX_DRAWS:,}", f"{draws:,}",
                            path="draws")
    if seed is None or isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ScenarioError("a whole-number seed with draws", repr(seed), path="seed")
    if not 0 <= seed < 2**63:
        raise ScenarioError("a seed from 0 to 2**63 - 1", str(seed), path="seed")
    return int(draws), int(seed)


def level_bound(plan: Plan) -> int:
    """The highest level any track can take in any draw [troops]."""
    top = 0.0
    for k, t in enumerate(plan.tracks):
        hi = support(t.initial)[1]
        for m in plan.milestones:
            if m.track == k and m.target_kind == "level":
                hi = max(hi, support(m.target)[1])
        for r in plan.residuals:
            if r.track == k:
                hi = max(hi, support(r.size)[1])
        top += hi
    return int(np.floor(top + 0.5))


def series(plan: Plan) -> list[tuple[str, list[int]]]:
    """The series summarised: each theater (sum of its tracks), then each site."""
    out = [(tid, plan.theater_tracks(tid)) for tid in plan.theaters]
    out += [(t.key, [k]) for k, t in enumerate(plan.tracks) if t.site is not None]
    return out


def thresholds(plan: Plan, milestones: pd.DataFrame) -> list[tuple[str, str, int]]:
    """(series, threshold name, level) for the dates table: zero, residual sizes,
    each milestone's (central) target."""
    out: list[tuple[str, str, int]] = []
    for name, tracks in series(plan):
        levels: dict[int, str] = {0: "zero"}
        for r in plan.residuals:
            if r.track in tracks and (len(tracks) == 1 or plan.tracks[r.track].site is None):
                size = r.size
                value = size.model_copy(update={"probability": None}) if isinstance(size, Spec) else size
                levels.setdefault(int(round(central(value))), f"residual {r.id}")
        for m in plan.milestones:
            if plan.tracks[m.track].key == name:
                row = milestones[milestones.milestone == m.id]
                if len(row):
                    levels.setdefault(int(row.target.iloc[0]), f"milestone {m.id}")
        out += [(name, label, level) for level, label in sorted(levels.items(), reverse=True)]
    return out


@dataclass
class Accumulator:
    """Exact, mergeable summaries of one variant's draws.

    ``hist[i]`` counts, for series i, the draws at each level in each month
    (``month * (bound + 1) + level``); ``low[i]`` does the same for the lowest
    level reached so far (the running minimum), from which the month each
    threshold is first reached follows for any threshold: a draw has reached
    ``L`` or below by month m exactly when its running minimum at m is at most
    ``L``. ``first[k]`` counts the draws that first reach mark k in each month
    (the last column: never within the horizon).
    """

    plan: Plan
    bound: int
    names: list[str]
    members: list[list[int]]
    marks: list[tuple[str, str, int]]
    n: int = 0
    hist: NDArray[np.int64] = field(init=False)
    low: NDArray[np.int64] = field(init=False)
    first: NDArray[np.int64] = field(init=False)
    met: NDArray[np.int64] = field(init=False)

    def __post_init__(self) -> None:
        months, width = self.plan.n_months, self.bound + 1
        self.hist = np.zeros((len(self.names), months * width), np.int64)
        self.low = np.zeros((len(self.names), months * width), np.int64)
        self.first = np.zeros((len(self.marks), months + 1), np.int64)
        self.met = np.zeros(len(self.plan.milestones), np.int64)
        # levels held over whole stretches of months, as differences between months
        self._held = np.zeros((2, len(self.names), months + 1, width), np.int64)
        self._pending = False
        self._offsets = (np.arange(months, dtype=np.int64) * width)[None, :]
        self._row = {name: i for i, name in enumerate(self.names)}
        self._fast = _whole_inputs(self.plan) and self._members_ok()
        self._scratch: dict[tuple[int, int], NDArray[Any]] = {}

    def _members_ok(self) -> bool:
        theaters = {tid: self.plan.theater_tracks(tid) for tid in self.plan.theaters}
        return all(theaters.get(name) == tracks or (len(tracks) == 1 and
                   self.plan.tracks[tracks[0]].key == name)
                   for name, tracks in zip(self.names, self.members, strict=True))

    # -- adding draws

    def add(self, levels: dict[str, NDArray[np.int32]], reached: NDArray[np.int64],
            original: NDArray[np.int64]) -> None:
        """Add draws given as whole monthly levels (``levels[name]``: (n, months))."""
        months, width = self.plan.n_months, self.bound + 1
        for i, name in enumerate(self.names):
            lv = levels[name].astype(np.int64)
            self.hist[i] += np.bincount((lv + self._offsets).ravel(),
                                        minlength=months * width)
            lowest = np.minimum.accumulate(lv, axis=1)
            self.low[i] += np.bincount((lowest + self._offsets).ravel(),
                                       minlength=months * width)
        self.met += (reached <= original).sum(axis=0)
        self.n += reached.shape[0]
        self._pending = True

    def add_draws(self, inputs: StepInputs) -> None:
        """Add draws given as stepper inputs, stepping only the months that move.

        Gives the same summaries as ``add`` of :func:`sim.stepper.step`'s levels.
        """
        plan = self.plan
        if not self._fast:
            out = step(plan, inputs)
            self.add(level_views(plan, out, self.names, self.members), out.reached,
                     out.original)
            return
        sched = schedule(plan, inputs)
        self.met += (sched.reached <= sched.original).sum(axis=0)
        n = inputs.n
        self.n += n
        self._pending = True
        if n == 0:
            return
        initial = np.ascontiguousarray(inputs.initial.T)
        level0 = np.ascontiguousarray(sched.level0.T)
        target = np.ascontiguousarray(sched.target.T)
        residual = np.ascontiguousarray(inputs.residual.T)
        delay = inputs.delay
        if delay.min() == delay.max():
            self._add_group(Group(plan, sched, 0, initial, level0, target, residual))
            return
        order = np.argsort(delay, kind="stable")
        ordered = delay[order]
        cuts = [0, *(np.flatnonzero(ordered[1:] != ordered[:-1]) + 1).tolist(), n]
        for a, b in itertools.pairwise(cuts):
            idx = order[a:b]
            self._add_group(Group(plan, sched, int(idx[0]), initial[:, idx], level0[:, idx],
                                  target[:, idx], residual[:, idx]))

    def _buffer(self, rows: int, cols: int, dtype: Any) -> NDArray[Any]:
        key = (cols, np.dtype(dtype).num)
        buf = self._scratch.get(key)
        if buf is None or buf.shape[0] < rows:
            buf = self._scratch[key] = np.empty((max(rows, 8), cols), dtype)
        return buf[:rows]

    def _add_group(self, group: Group) -> None:
        plan = self.plan
        for tid in plan.theaters:
            tracks = plan.theater_tracks(tid)
            spans = [group.active(k) for k in tracks]
            lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
            rows = hi - lo + 1
            scratch = self._buffer(rows, group.n, np.float64)
            blocks = []
            for k in tracks:
                out = np.empty((rows, group.n), np.int64)
                blocks.append(group.levels(k, lo, hi, out=out, scratch=scratch))
            row = self._row.get(tid)
            if len(blocks) == 1:
                if row is not None:
                    self._tally(row, blocks[0], lo, hi)
                continue
            if row is not None:
                total = np.add(blocks[0], blocks[1])
                for blk in blocks[2:]:
                    total += blk
                self._tally(row, total, lo, hi)
            for k, blk in zip(tracks, blocks, strict=True):
                row = self._row.get(plan.tracks[k].key)
                if row is not None:
                    self._tally(row, blk, lo, hi)

    def _tally(self, i: int, block: NDArray[np.int64], lo: int, hi: int) -> None:
        """Count series i's levels ``block`` (months lo..hi, draws); the months before
        ``lo`` hold ``block[0]``, those after ``hi`` hold ``block[-1]``. ``block`` is
        overwritten."""
        months, width = self.plan.n_months, self.bound + 1
        rows = hi - lo + 1
        held, hist, low = self._held, self.hist[i], self.low[i]
        if lo > 0:
            counts = np.bincount(block[0], minlength=width)
            held[:, i, 0] += counts
            held[:, i, lo] -= counts
        rising = rows > 1 and bool(np.any(block[1:] > block[:-1]))
        if hi < months - 1:
            held[0, i, hi + 1] += np.bincount(block[-1], minlength=width)
        offsets = self._offsets[0, :rows, None]
        span = slice(lo * width, (hi + 1) * width)
        if rising:
            lowest = np.minimum.accumulate(block, axis=0)
            if hi < months - 1:
                held[1, i, hi + 1] += np.bincount(lowest[-1], minlength=width)
            lowest += offsets
            low[span] += np.bincount(lowest.ravel(), minlength=rows * width)
        elif hi < months - 1:
            held[1, i, hi + 1] += np.bincount(block[-1], minlength=width)
        block += offsets
        counts = np.bincount(block.ravel(), minlength=rows * width)
        hist[span] += counts
        if not rising:
            low[span] += counts

    def _settle(self) -> None:
        """Fold the held stretches into ``hist`` and ``low``; count ``first``."""
        if not self._pending:
            return
        months, width = self.plan.n_months, self.bound + 1
        spread = np.cumsum(self._held[:, :, :months, :], axis=2)
        self.hist += spread[0].reshape(len(self.names), months * width)
        self.low += spread[1].reshape(len(self.names), months * width)
        self._held[...] = 0
        for k, (name, _, level) in enumerate(self.marks):
            low = self.low[self._row[name]].reshape(months, width)
            reached = low[:, :max(0, min(level, self.bound) + 1)].sum(axis=1)
            self.first[k, :months] = np.diff(reached, prepend=0)
            self.first[k, months] = self.n - reached[-1]
        self._pending = False

    # -- summaries

    def bands(self, scenario: str, variant: str) -> pd.DataFrame:
        self._settle()
        months = self.plan.n_months
        levels = np.arange(self.bound + 1)
        rows = []
        month_names = [format_month(self.plan.start + m) for m in range(months)]
        for i, name in enumerate(self.names):
            h = self.hist[i].reshape(months, self.bound + 1)
            cum = np.cumsum(h, axis=1)
            mean = (h * levels).sum(axis=1) / self.n
            nonzero = h > 0
            lo = nonzero.argmax(axis=1)
            hi = self.bound - nonzero[:, ::-1].argmax(axis=1)
            cols = {f"p{q:02d}": _inverse_cdf(cum, q, self.n) for q in PERCENTILES}
            frame = pd.DataFrame({"scenario": scenario, "variant": variant, "theater": name,
                                  "month": month_names, "mean": mean.round(3), "min": lo,
                                  **cols, "max": hi})
            rows.append(frame)
        out = pd.concat(rows, ignore_index=True)[BAND_COLUMNS]
        out["month"] = pd.PeriodIndex(out["month"], freq="M")
        return out

    def dates(self, scenario: str, variant: str) -> pd.DataFrame:
        self._settle()
        months = self.plan.n_months
        rows = []
        for i, (name, label, level) in enumerate(self.marks):
            cum = np.cumsum(self.first[i])[None, :]
            row: dict[str, Any] = {"scenario": scenario, "variant": variant, "theater": name,
                                   "threshold": label, "level": level}
            for q in DATE_PERCENTILES:
                m = int(_inverse_cdf(cum, q, self.n)[0])
                row[f"p{q}"] = (pd.Period(format_month(self.plan.start + m), freq="M")
                                if m < months else pd.NaT)
            row["never"] = round(self.first[i, months] / self.n, 6)
            rows.append(row)
        return pd.DataFrame(rows, columns=DATE_COLUMNS)


def _inverse_cdf(cum: NDArray[np.int64], q: int, n: int) -> NDArray[np.int64]:
    """Smallest index whose cumulative count reaches ``q`` % of ``n`` (exact integers)."""
    need = -(-q * n // 100)  # ceil(q n / 100), at least one draw
    need = max(need, 1)
    return (cum < need).sum(axis=1).astype(np.int64)


def chunks(n: int, size: int) -> Iterator[int]:
    done = 0
    while done < n:
        take = min(size, n - done)
        yield take
        done += take


def _progress(total: int, enabled: bool | None, label: str) -> Any:
    if enabled is False:
        return None
    in_notebook = "ipykernel" in sys.modules
    if enabled is None and not in_notebook:
        return None
    if not in_notebook and not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="draw", unit_scale=True, leave=False)


def simulate(plan: Plan, draws: int, seed: int, acc: Accumulator, *, chunk: int = DEFAULT_CHUNK,
             bar: Any = None) -> None:
    """Step ``draws`` draws of ``plan`` into ``acc``, ``chunk`` at a time."""
    source = Draws(seed)
    for take in chunks(draws, chunk):
        acc.add_draws(source.take(plan, take))
        if bar is not None:
            bar.update(take)


def _whole_inputs(plan: Plan) -> bool:
    """Every level the stepper takes is a whole number of troops (a distribution's
    draws always are; a plain number must be written whole)."""
    return all(isinstance(q, Spec) or float(q).is_integer()
               for path, q in plan.quantities().items() if path != "announcement.delay")


def level_views(plan: Plan, out: Any, names: list[str], members: list[list[int]]
                ) -> dict[str, NDArray[np.int32]]:
    views: dict[str, NDArray[np.int32]] = {}
    for t, tid in enumerate(plan.theaters):
        views[tid] = out.theaters[:, t, :]
    for name, tracks in zip(names, members, strict=True):
        if name not in views:
            views[name] = out.tracks[:, tracks[0], :]
    return views


def run_ensemble(result: Any, *, draws: int, seed: int | None, chunk: int = DEFAULT_CHUNK,
                 progress: bool | None = None) -> Any:
    """Add ``bands``, ``dates`` and ``p_met`` to a deterministic :class:`Result`, in place."""
    draws, seed = check_args(draws, seed)
    bands, dates, p_met = [], [], []
    bar = _progress(draws * len(result.variants), progress, result.scenario.id)
    try:
        for name in result.variants:
            plan = result.plans[name]
            ms = result.milestones[result.milestones.variant == name]
            sel = series(plan)
            acc = Accumulator(plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel],
                              thresholds(plan, ms))
            simulate(plan, draws, seed, acc, chunk=chunk, bar=bar)
            bands.append(acc.bands(result.scenario.id, name))
            dates.append(acc.dates(result.scenario.id, name))
            p_met.extend((acc.met / acc.n).round(6))
    finally:
        if bar is not None:
            bar.close()
    result.bands = pd.concat(bands, ignore_index=True)
    result.dates = pd.concat(dates, ignore_index=True)
    result.milestones = result.milestones.assign(p_met=p_met) if p_met else \
        result.milestones.assign(p_met=pd.Series(dtype=float))
    result.draws, result.seed = draws, seed
    return result
