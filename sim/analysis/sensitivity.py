"""Which uncertain input moves each outcome: tenths of one ensemble, or Sobol indices.

**Tenths (the default; a tornado).** From the draws of one ensemble — no extra
runs — each uncertain input (each quantity with a distribution or a
probability, named by its key path, drawn from its own stream as in
:mod:`sim.model.draws`) is looked at alone: the outcomes of
:mod:`sim.analysis.outcomes` are computed over the draws whose value of that
input is in its lowest tenth, and over those in its highest tenth. ``swing`` is
``|high - low|``; sorting the inputs by it gives the tornado chart of
schedule-risk analysis (one bar per input, the widest on top).

The tenths are exact ranks. The ``t = max(1, floor(n / 10))`` draws with the
lowest values form the lowest tenth and the ``t`` with the highest the highest,
draws ranked by value and, among equal values, by draw order (the lowest tenth
takes the earliest draws of its boundary value, the highest tenth the latest).
Values are whole numbers (troops, months), so ties are common — a discrete input
such as a 30 % chance of no delay puts whole values into one tenth — and the
draw order, independent of every input, breaks them as a random choice would.

Passes over the same draws keep memory bounded. The first counts each
input's values (one count per whole value), which fixes each tenth's boundary
value and how many draws of it the tenth takes; the second steps only the draws
in some tenth, each tenth into its own exact
:class:`~sim.analysis.accumulator.Accumulator` (level counts, not the draws). Two
such accumulators per input, with the draws each tenth holds before it steps
them, would grow with the number of inputs (82 of about 15 MB each for 10
theaters with four uncertain inputs apiece), so the second pass takes the inputs
in batches whose accumulators and held draws fit in :data:`TENTHS_BYTES`
(:func:`input_batches`), a pass over the draws per batch, each batch's outcomes
measured and its accumulators let go before the next. Every pass draws the same
numbers, chunk by chunk, or part by part on a Dask cluster with the same
result.

**Sobol indices (``method="sobol"``).** The variance-based view (Saltelli et
al. 2008, *Global Sensitivity Analysis: The Primer*; Saltelli et al. 2010,
Comput. Phys. Commun. 181, 259-270): the first-order index ``S1`` of an input
is the share of an outcome's variance explained by that input alone, the total
index ``ST`` the share it is involved in with any other. Computed with SALib
from its own Saltelli/Sobol' sample of ``N (D + 2)`` runs for ``D`` inputs (the
matrices ``A``, ``B`` and each ``A_B^i``: ``A`` with column ``i`` from ``B``;
scrambled Sobol' points, seeded), each input's uniform number pushed through the
same inverse distribution function the ensemble uses; slower, and only for
outcomes with a value per draw (whether each milestone is met, each theater's
level at each calendar deadline). SALib standardises the outcome ``f`` to mean 0
and variance 1 and uses the estimators of Saltelli et al. 2010, Table 2:
``S1 = mean(f(B)·(f(A_B^i) − f(A))) / V`` (b) and
``ST = ½ mean((f(A) − f(A_B^i))²) / V`` (f, Jansen 1999), ``V`` the variance of
``f(A)`` and ``f(B)`` together (as SALib 1.6 computes them); the ``_conf``
columns are 95 % confidence half-widths, ``Φ⁻¹(0.975) ≈ 1.96`` times the standard
deviation of the estimate over 100 bootstrap resamples of the runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.accumulator import Accumulator
from sim.analysis.chunks import (
    Executor,
    Fanout,
    Part,
    chunk_size,
    executor_argument,
    fan_chunk,
    feed,
    progress_bar,
    run_chunks,
    split,
)
from sim.analysis.ensemble import check_args
from sim.analysis.heap import return_freed_memory
from sim.analysis.outcomes import Outcome, measure, outcomes, swing_errors
from sim.analysis.summaries import (
    MAX_DRAWS,
    SHARE_PLACES,
    counts_bytes,
    level_bound,
    rounded,
    series,
    thresholds,
)
from sim.analysis.wide import require_dense
from sim.errors import ScenarioError
from sim.model.draws import central_inputs, from_uniform
from sim.model.plan import Plan, Quantity
from sim.model.rules import group_firsts, timing, timing_groups
from sim.model.stepper import StepInputs, step
from sim.months import format_month
from sim.results import milestone_frame
from sim.scenario import Scenario, scenario_argument
from sim.schema import Spec, support

COLUMNS = ["scenario", "variant", "input", "outcome", "low", "high", "swing", "se", "within_noise"]
#: the chance, over all the inputs of one variant and outcome together, that some
#: swing chance alone makes is called beyond noise (Holm's test: :func:`_holm`)
NOISE_ALPHA = 0.05
SOBOL_COLUMNS = [
    "scenario",
    "variant",
    "input",
    "outcome",
    "first_order",
    "first_order_conf",
    "total",
    "total_conf",
]
#: what Sobol' sequences need of ``draws`` (the base sample size N), as errors word it
SOBOL_BASE = "a base sample size that is a power of two for Sobol' sequences (e.g. 4096)"
FLUSH = 1 << 16  # draws of one tenth gathered before they are stepped
MIN_DRAWS = 10
#: the least base sample of Sobol' indices: below it the estimators (Saltelli 2010,
#: Jansen 1999) and their bootstrap half-widths say nothing (at 1 draw an index of 2.67
#: "within ±0")
MIN_SOBOL = 64
#: the most bytes one step of Sobol runs makes (:func:`sobol_run_bytes` per run: its
#: inputs, its schedule's per-milestone arrays and its levels); 65,536 runs at once took
#: 630 MB for 10 theaters over 120 months, and chunks sized by their levels alone took
#: 140 MB for sites-100 (levels 63 MB, the schedule's arrays 32, the inputs 21)
SOBOL_STEP_BYTES = 64 << 20
#: the most bytes of the sample (float64, a row per run and a column per input) and its
#: outcomes (float32, a column per outcome) Sobol indices hold through every step: a
#: base sample size N whose N (inputs + 2) runs take more is refused before sampling
SOBOL_SAMPLE_BYTES = 128 << 20
#: the most bytes one pass of the tenths holds: two accumulators' level counts
#: (:func:`~sim.analysis.summaries.counts_bytes`) and two tenths' held draws per input
#: of a batch (:func:`input_batches`); one input per pass when one alone takes more
TENTHS_BYTES = 128 << 20


@dataclass(frozen=True)
class Input:
    """An uncertain input: its key ``path``, its ``quantity``, and where its per-draw
    values sit in :class:`~sim.model.stepper.StepInputs` (``field``, ``column``)."""

    path: str
    quantity: Quantity
    # "delay" | "initial" | "targets" | "residual" | "exec_delay" | "unreported"
    field: str
    column: int

    def values(self, inputs: StepInputs) -> NDArray[np.int64]:
        """Each draw's value [troops or months], a whole number."""
        if self.field == "delay":
            return inputs.delay.astype(np.int64)
        if self.field == "initial":  # the stepper's initial level is the whole force
            column = inputs.initial[:, self.column] - inputs.unreported[:, self.column]
            return column.astype(np.int64)
        return getattr(inputs, self.field)[:, self.column].astype(np.int64)

    @property
    def span(self) -> tuple[int, int]:
        """The lowest and highest whole value the input can take (0 when it may not
        apply; never below 0, as the stepper takes it)."""
        lo, hi = support(self.quantity)
        return max(0, int(np.floor(lo + 0.5))), max(0, int(np.floor(hi + 0.5)))


def uncertain_inputs(plan: Plan) -> list[Input]:
    """Every quantity of ``plan`` with a distribution or a probability (and more than
    one possible value), in the order of :meth:`sim.model.plan.Plan.quantities`."""
    found: list[Input] = [Input("announcement.delay", plan.delay, "delay", -1)]
    found += [Input(t.initial_path, t.initial, "initial", k) for k, t in enumerate(plan.tracks)]
    found += [Input(m.target_path, m.target, "targets", j) for j, m in enumerate(plan.milestones)]
    found += [Input(r.size_path, r.size, "residual", i) for i, r in enumerate(plan.residuals)]
    found += [Input(m.delay_path, m.delay, "exec_delay", j) for j, m in enumerate(plan.milestones)]
    found += [
        Input(t.unreported_path, t.unreported, "unreported", k)
        for k, t in enumerate(plan.tracks)
        if t.has_basis
    ]
    return [
        inp
        for inp in found
        if isinstance(inp.quantity, Spec) and inp.quantity.uncertain and inp.span[0] < inp.span[1]
    ]


# -- pass 1: the values of each input, and p_met over every draw


class ValueCounts:
    """Counts of each input's whole values over the draws, and how many draws meet
    each milestone (a :class:`~sim.analysis.chunks.ChunkConsumer` of one plan)."""

    def __init__(self, plan: Plan, inputs: list[Input]) -> None:
        self.plan = plan
        self.inputs = inputs
        self.counts = [np.zeros(inp.span[1] - inp.span[0] + 1, np.int64) for inp in inputs]
        self.met = np.zeros(len(plan.milestones), np.int64)
        self.n = 0

    def add_chunk(self, chunk: Sequence[StepInputs]) -> None:
        draws = chunk[0]
        for inp, counts in zip(self.inputs, self.counts, strict=True):
            found = np.bincount(inp.values(draws) - inp.span[0], minlength=len(counts))
            if len(found) > len(counts):  # the span is the quantity's support: a bug
                raise RuntimeError(f"{inp.path}: a value above {inp.span[1]} was drawn")
            counts += found
        if draws.n:  # the milestones' months, once per timing group of draws
            order, cuts = timing_groups(draws.delay, draws.exec_delay)
            firsts = group_firsts(order, cuts)
            _, _, original, reached, _ = timing(
                self.plan, draws.delay[firsts], draws.exec_delay[firsts]
            )
            self.met += ((reached <= original) * np.diff(cuts)[:, None]).sum(axis=0)
        self.n += draws.n

    def merge(self, other: ValueCounts) -> None:
        """Add the counts of another part of the same ensemble."""
        for mine, theirs in zip(self.counts, other.counts, strict=True):
            mine += theirs
        self.met += other.met
        self.n += other.n


@dataclass(frozen=True)
class Cut:
    """Where an input's tenths end: the lowest tenth holds every draw below ``low``
    and the first ``take_low`` draws at ``low``; the highest every draw above
    ``high`` and the last ``take_high`` of the ``at_high`` draws at ``high``."""

    low: int
    take_low: int
    high: int
    take_high: int
    at_high: int
    smallest: int  # the lowest value drawn
    largest: int  # the highest value drawn


def cut(counts: NDArray[np.int64], low_value: int, tenth: int) -> Cut:
    """The :class:`Cut` of one input from its value counts (index 0 is ``low_value``)."""
    taken = np.flatnonzero(counts)
    cum = np.cumsum(counts)
    i = int(np.searchsorted(cum, tenth))  # first value where the lowest tenth is full
    below = int(cum[i] - counts[i])
    rev = np.cumsum(counts[::-1])
    k = int(np.searchsorted(rev, tenth))
    h = len(counts) - 1 - k
    above = int(rev[k] - counts[h])
    return Cut(
        low=low_value + i,
        take_low=tenth - below,
        high=low_value + h,
        take_high=tenth - above,
        at_high=int(counts[h]),
        smallest=low_value + int(taken[0]),
        largest=low_value + int(taken[-1]),
    )


# -- pass 2: the draws of each tenth, summarised exactly


class Tenths:
    """An accumulator for the lowest and the highest tenth of each input (a
    :class:`~sim.analysis.chunks.ChunkConsumer` of one plan).

    ``seen[i]`` holds, for input i, how many draws before this consumer's first
    draw had the boundary values (``low`` and ``high`` of its :class:`Cut`), so a
    part of the ensemble that starts elsewhere ranks ties as one pass would.
    """

    def __init__(
        self,
        plan: Plan,
        marks: list[tuple[str, str, int]],
        inputs: list[Input],
        cuts: list[Cut],
        seen: list[tuple[int, int]] | None = None,
    ) -> None:
        self.plan = plan
        self.inputs = inputs
        self.cuts = cuts
        self.seen = [list(s) for s in (seen or [(0, 0)] * len(inputs))]
        sel = series(plan)
        names, members, bound = [s for s, _ in sel], [m for _, m in sel], level_bound(plan)
        self.accs = [
            [Accumulator(plan, bound, names, members, list(marks)) for _ in range(2)]
            for _ in inputs
        ]
        self._held: list[list[list[StepInputs]]] = [[[], []] for _ in inputs]
        self._sizes = [[0, 0] for _ in inputs]

    def add_chunk(self, chunk: Sequence[StepInputs]) -> None:
        draws = chunk[0]
        for i, (inp, c) in enumerate(zip(self.inputs, self.cuts, strict=True)):
            v = inp.values(draws)
            # draws at a boundary value are taken in draw order: the first take_low of
            # those at ``low`` over the whole ensemble, the last take_high at ``high``
            at_low, at_high = np.flatnonzero(v == c.low), np.flatnonzero(v == c.high)
            seen_low, seen_high = self.seen[i]
            self.seen[i][0] += len(at_low)
            self.seen[i][1] += len(at_high)
            low = v < c.low
            low[at_low[: max(0, c.take_low - seen_low)]] = True
            high = v > c.high
            high[at_high[max(0, c.at_high - c.take_high - seen_high) :]] = True
            for side, mask in enumerate((low, high)):
                index = np.flatnonzero(mask)
                if len(index):
                    self._hold(i, side, _rows(draws, index))

    def _hold(self, i: int, side: int, draws: StepInputs) -> None:
        self._held[i][side].append(draws)
        self._sizes[i][side] += draws.n
        if self._sizes[i][side] >= FLUSH:
            self._flush(i, side)

    def _flush(self, i: int, side: int) -> None:
        held = self._held[i][side]
        if held:
            self.accs[i][side].add_draws(_concat(held))
        self._held[i][side], self._sizes[i][side] = [], 0

    def flush(self) -> None:
        """Step every draw still held."""
        for i in range(len(self.inputs)):
            for side in (0, 1):
                self._flush(i, side)

    def merge(self, other: Tenths) -> None:
        """Add the tenths of another part of the same ensemble."""
        self.flush()
        other.flush()
        for mine, theirs in zip(self.accs, other.accs, strict=True):
            for a, b in zip(mine, theirs, strict=True):
                a.merge(b)

    def __getstate__(self) -> dict[str, Any]:
        self.flush()
        return dict(self.__dict__)


def _rows(draws: StepInputs, index: NDArray[np.intp]) -> StepInputs:
    """The draws ``index`` of ``draws`` (every per-draw array, whatever its fields),
    each (draws, ...) array taken as the drawn ones are laid out: a draw's values
    apart, each quantity's draws side by side (the transpose of a C array)."""
    return StepInputs(
        **{f.name: np.take(getattr(draws, f.name).T, index, axis=-1).T for f in fields(StepInputs)}
    )


def _concat(parts: list[StepInputs]) -> StepInputs:
    """The draws of ``parts`` one after another, laid out as :func:`_rows` lays them."""
    if len(parts) == 1:
        return parts[0]
    return StepInputs(
        **{
            f.name: np.concatenate([getattr(p, f.name).T for p in parts], axis=-1).T
            for f in fields(StepInputs)
        }
    )


# -- the analysis


@dataclass(frozen=True)
class InputSummary:
    """One input of one variant: its key ``path`` and ``quantity``, and the values
    drawn in its lowest (``low_values``) and highest (``high_values``) tenth."""

    path: str
    quantity: Quantity
    low_values: tuple[int, int]
    high_values: tuple[int, int]


@dataclass
class Sensitivity:
    """What :func:`sensitivity` returns.

    Attributes
    ----------
    scenario : Scenario
    variants : list of str
    draws, seed : int
    method : str
        ``tenths`` or ``sobol``.
    table : pandas.DataFrame
        ``tenths``: ``scenario, variant, input, outcome, low, high, swing, se,
        within_noise``: the outcome (:mod:`sim.analysis.outcomes`) over the draws
        with the input in its lowest and in its highest tenth (``low``, ``high``: a
        share 0–1 for a ``p_met`` outcome, troops for a mean level, a month for a
        median month), ``swing = |high -
        low|``, the standard error of ``high - low`` (``se``, in the outcome's unit;
        the two tenths are disjoint sets of independent draws:
        :func:`~sim.analysis.outcomes.swing_errors`), and whether sampling noise
        could make the swing (``within_noise``: Holm's test at 5 % over the inputs
        of the variant and outcome together, :func:`_holm`; a swing of 0 is within
        noise too). A median month is written ``YYYY-MM``
        (empty beyond the horizon), its swing in months (empty when a side is beyond
        the horizon), and its ``se`` and ``within_noise`` are empty, as every row's
        are when each tenth holds one draw (fewer than 20 draws). Rows of one
        variant and outcome are sorted by swing, largest first.
        ``sobol``: ``scenario, variant, input, outcome, first_order,
        first_order_conf, total, total_conf``: the indices ``S1`` and ``ST`` as
        shares of the outcome's variance (0 to 1 in theory; an estimate may stray
        a little outside), rounded to 6 decimals, with 95 % confidence half-widths
        by bootstrap (the module's docstring gives the estimators and their
        source); all four empty for an outcome that does not vary.
    inputs : dict
        For each variant, its uncertain inputs (:class:`InputSummary`).
    overall : dict
        ``(variant, outcome name) -> p_met`` over every draw (tenths only).
    """

    scenario: Scenario
    variants: list[str]
    draws: int
    seed: int
    method: str
    table: pd.DataFrame
    inputs: dict[str, list[InputSummary]] = field(default_factory=dict)
    overall: dict[tuple[str, str], float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        return (
            f"<Sensitivity {self.scenario.id} ({self.method}): "
            f"{_count(len(self.variants), 'variant')}, {self.draws:,} draws, seed {self.seed}; "
            ".table has one row per input and outcome>"
        )


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _marks(sc: Scenario, name: str, plan: Plan) -> list[tuple[str, str, int]]:
    frame = milestone_frame(sc.id, name, plan, step(plan, central_inputs(plan)))
    return thresholds(plan, frame)


def sensitivity(
    scenario: Scenario | str | os.PathLike[str],
    variants: Sequence[str] | None = None,
    draws: int | None = None,
    seed: int | None = None,
    *,
    method: str = "tenths",
    chunk: int | None = None,
    progress: bool | None = None,
    executor: Executor | None = None,
) -> Sensitivity:
    """How much each uncertain input moves each outcome, variant by variant.

    Parameters
    ----------
    scenario : Scenario, or the path of a scenario file
    variants : sequence of str, optional
        Default: every variant.
    draws : int
        ``tenths``: the ensemble's draws (at least 10). ``sobol``: the base sample
        size N, a power of two (the model runs ``N (D + 2)`` times for D inputs, at
        most 100,000,000 times, as an ensemble has at most that many draws).
    seed : int
    method : str
        ``tenths`` (default: the outcome over each input's lowest and highest
        tenth of one ensemble's draws) or ``sobol`` (first-order and total Sobol
        indices through SALib; needs ``pip install 'forcesim[sensitivity]'``).
    chunk, progress
        As for :func:`sim.run`.
    executor : optional
        ``tenths`` only: run the draws as parts on a Dask cluster
        (:func:`sim.analysis.distributed.open_executor`); the same table.

    Returns
    -------
    Sensitivity

    Raises
    ------
    sim.ScenarioError
        At ``<arguments>``: ``draws`` or ``seed`` missing, not whole or out of
        range, a bad ``chunk``, a ``method`` other than ``tenths`` or ``sobol``,
        fewer than 10 draws for ``tenths``; for ``sobol``, a ``draws`` below 64 or not a
        power of two, ``N (D + 2)`` runs above 100,000,000, or SALib not
        installed. An unknown variant (with a did-you-mean); a variant too large to
        count level by level (at the scenario's ``theaters``); a selection of
        variants with no uncertain input (at ``variants``).
    TypeError
        For an ``executor`` that is not one :func:`sim.open_executor` returns.
    """
    scenario = scenario_argument(scenario, "sensitivity")
    executor_argument(executor)
    names = scenario.select(variants)  # (first: sensitivity(s, 100, 1) is variants=100)
    draws, seed = check_args(draws, seed, chunk)
    if method not in ("tenths", "sobol"):
        raise ScenarioError(
            "method 'tenths' or 'sobol'", repr(method), file="<arguments>", path="method"
        )
    if method == "sobol" and draws < MIN_SOBOL:
        raise ScenarioError(
            f"a base sample of at least {MIN_SOBOL} for Sobol' indices (fewer gave indices "
            "above 1 with confidence half-widths of 0)",
            f"{draws:,}",
            file="<arguments>",
            path="draws",
        )
    if method == "tenths" and draws < MIN_DRAWS:
        raise ScenarioError(
            f"at least {MIN_DRAWS} draws (each tenth needs one)",
            f"{draws:,}",
            file="<arguments>",
            path="draws",
        )
    plans = {name: scenario.plan(name) for name in names}
    found = {name: uncertain_inputs(plans[name]) for name in names}
    if not any(found.values()):
        fixed = "only fixed numbers in " + ", ".join(names)
        if scenario.settings:  # (what was set for the run may have fixed them)
            fixed += f", with {scenario.settings_text()} set for this run"
        # (at the file's variants key where it has one, else its top)
        raise scenario.locator.error(
            ("variants",),
            "a variant with an uncertain input (a distribution or a probability)",
            fixed,
            key=True,
        )
    if method == "sobol":  # (each run's levels read off a chunk of runs: none counted)
        return _sobol(scenario, names, plans, found, draws, seed, chunk)
    for name in names:  # the tenths count every level of each tenth's draws
        require_dense(plans[name], name, scenario, "sensitivity")
    rows: list[dict[str, Any]] = []
    summaries: dict[str, list[InputSummary]] = {}
    overall: dict[tuple[str, str], float] = {}
    tenth = max(1, draws // 10)
    batches = {name: input_batches(plans[name], len(found[name]), tenth) for name in names}
    passes = sum(max(1, len(b)) for b in batches.values())
    bar = progress_bar(draws * (len(names) + passes), progress, f"{scenario.id} sensitivity")
    try:
        ranges, first = _value_counts(
            [plans[name] for name in names],
            [found[name] for name in names],
            draws,
            seed,
            chunk,
            bar,
            executor,
        )
        for v, name in enumerate(names):
            plan, inputs = plans[name], found[name]
            marks = _marks(scenario, name, plan)
            outs = outcomes(plan, marks)
            parts = [p[v] for p in first]
            counts = _merged(plan, inputs, parts)
            for j, m in enumerate(plan.milestones):
                overall[(name, f"p_met {m.id}")] = rounded(
                    int(counts.met[j]), counts.n, SHARE_PLACES
                )
            tenth = max(1, counts.n // 10)
            cuts = [
                cut(c, inp.span[0], tenth) for c, inp in zip(counts.counts, inputs, strict=True)
            ]
            summaries[name] = [
                InputSummary(inp.path, inp.quantity, (c.smallest, c.low), (c.high, c.largest))
                for inp, c in zip(inputs, cuts, strict=True)
            ]
            if not inputs:  # a variant of fixed numbers only: no tenths to draw again
                if bar is not None:
                    bar.update(counts.n)
                continue
            for batch in batches[name]:  # a pass each, its accumulators let go after it
                tenths = _tenths(
                    plan, marks, inputs, cuts, batch, ranges, parts, seed, chunk, bar, executor
                )
                rows += _tenths_rows(scenario.id, name, plan, inputs, batch, tenths, outs)
                del tenths  # (not held while the next batch's pass runs)
    finally:
        if bar is not None:
            bar.close()
    table = _sorted(_holm(pd.DataFrame(rows, columns=[*COLUMNS, "_order", "_z"])))
    return Sensitivity(scenario, names, draws, seed, "tenths", table, summaries, overall)


def _value_counts(
    plans: list[Plan],
    inputs: list[list[Input]],
    draws: int,
    seed: int,
    chunk: int | None,
    bar: Any,
    executor: Executor | None,
) -> tuple[list[tuple[int, int]], list[list[ValueCounts]]]:
    """Pass 1 of every variant side by side, so that a quantity they share is drawn
    once per chunk: ``(ranges, counts)``, the parts ``(first draw, draws)`` the
    ensemble is cut into (one part here, several on an executor) and, per part, each
    variant's :class:`ValueCounts` of that part's draws. A chunk holds every variant's
    drawn inputs, so it takes fewer draws (:func:`~sim.analysis.chunks.fan_chunk`),
    here and in each part alike."""
    makers = tuple(partial(ValueCounts, p, i) for p, i in zip(plans, inputs, strict=True))
    least = chunk or min(chunk_size(p) for p in plans)
    size = chunk or (fan_chunk(plans) if len(plans) > 1 else least)
    if executor is None:
        fanned = Fanout(makers)()
        run_chunks(plans, draws, seed, fanned, chunk=size, bar=bar, units=len(plans))
        return [(0, draws)], [fanned.consumers]
    ranges = split(draws, executor.parts, least)
    first = [Part(tuple(plans), seed, a, n, Fanout(makers), size) for a, n in ranges]
    done = executor.map(feed, first, sizes=[p.count * len(plans) for p in first], bar=bar)
    return ranges, [part.consumers for part in done]


def input_batches(plan: Plan, inputs: int, tenth: int) -> list[list[int]]:
    """The inputs (indices ``0 .. inputs - 1``) whose tenths one pass of
    :func:`_tenths` takes, in order: as many as keep that pass's two accumulators per
    input (each up to :func:`~sim.analysis.summaries.counts_bytes`) and the draws each
    of its two tenths holds before it steps them (up to ``min(tenth, FLUSH)`` draws)
    within :data:`TENTHS_BYTES`, and at least one."""
    fixed = central_inputs(plan)
    per_draw = sum(getattr(fixed, f.name).nbytes for f in fields(StepInputs))
    each = 2 * (counts_bytes(plan) + min(tenth, FLUSH) * per_draw)
    size = max(1, TENTHS_BYTES // max(1, each))
    return [list(range(a, min(inputs, a + size))) for a in range(0, inputs, size)]


def _merged(plan: Plan, inputs: list[Input], parts: list[ValueCounts]) -> ValueCounts:
    """Pass 1's counts of one variant, its parts (``parts[i]``: the draws of the
    ensemble's ``i``-th range) added up."""
    counts = ValueCounts(plan, inputs)
    for p in parts:
        counts.merge(p)
    return counts


def _tenths(
    plan: Plan,
    marks: list[tuple[str, str, int]],
    inputs: list[Input],
    cuts: list[Cut],
    batch: list[int],
    ranges: list[tuple[int, int]],
    parts: list[ValueCounts],
    seed: int,
    chunk: int | None,
    bar: Any,
    executor: Executor | None,
) -> Tenths:
    """Pass 2 for the inputs ``batch`` (indices into ``inputs`` and their ``cuts``) of
    one variant: their tenths, over the draws of ``ranges`` (``parts[i]``: pass 1's
    counts of ``ranges[i]``), the parts merged."""
    chosen = [inputs[i] for i in batch]
    chosen_cuts = [cuts[i] for i in batch]
    if executor is None:
        tenths = Tenths(plan, marks, chosen, chosen_cuts)
        run_chunks([plan], sum(n for _, n in ranges), seed, tenths, chunk=chunk, bar=bar)
        tenths.flush()
        return tenths
    second = []
    seen = [[0, 0] for _ in batch]
    for (a, n), p in zip(ranges, parts, strict=True):
        make = partial(Tenths, plan, marks, chosen, chosen_cuts, [(lo, hi) for lo, hi in seen])
        second.append(Part((plan,), seed, a, n, make, chunk))
        for k, i in enumerate(batch):
            inp, c = inputs[i], cuts[i]
            seen[k][0] += int(p.counts[i][c.low - inp.span[0]])
            seen[k][1] += int(p.counts[i][c.high - inp.span[0]])
    # each part merged as it comes, in draw order, and let go: all at once, every part's
    # accumulators (up to TENTHS_BYTES each) were held here before they were merged
    done = executor.imap(feed, second, sizes=[p.count for p in second], bar=bar)
    tenths = next(done)
    for t in done:
        tenths.merge(t)
        t = None
        return_freed_memory()  # (a part's room, freed, not kept beside the next one's)
    tenths.flush()
    return tenths


def _tenths_rows(
    scenario_id: str,
    variant: str,
    plan: Plan,
    inputs: list[Input],
    batch: list[int],
    tenths: Tenths,
    outs: list[Outcome],
) -> list[dict[str, Any]]:
    """The rows of the inputs ``batch`` (indices into ``inputs``), from their
    ``tenths``."""
    rows = []
    for i, (acc_low, acc_high) in zip(batch, tenths.accs, strict=True):
        low, high = measure(acc_low, outs), measure(acc_high, outs)
        errors = swing_errors(acc_low, acc_high, outs)
        for o, lo, hi, se in zip(outs, low, high, errors, strict=True):
            rows.append(_row(scenario_id, variant, inputs[i].path, o, lo, hi, plan, se))
    return rows


def _row(
    scenario_id: str,
    variant: str,
    path: str,
    o: Outcome,
    low: Any,
    high: Any,
    plan: Plan,
    se: float | None = None,
) -> dict[str, Any]:
    """One row of the tenths table; ``se`` is the standard error of ``high - low``
    (None where it is not estimated: a median month)."""
    z: float | None = None  # |high - low| in standard errors, where se is estimated
    if o.kind == "date":
        swing = abs(high - low) if low is not None and high is not None else None
        low = format_month(plan.start + low) if low is not None else None
        high = format_month(plan.start + high) if high is not None else None
    else:
        swing = float(np.round(abs(high - low), 6))
        if se is not None:
            diff = abs(float(high) - float(low))
            z = 0.0 if swing == 0 else (diff / se if se > 0 else math.inf)
            se = float(np.round(se, 6 if o.kind == "p_met" else 3))
    return {
        "scenario": scenario_id,
        "variant": variant,
        "input": path,
        "outcome": o.name,
        "low": low,
        "high": high,
        "swing": swing,
        "se": se if o.kind != "date" else None,
        "within_noise": None,  # set over the variant's inputs together (_holm)
        "_order": KIND_ORDER[o.kind],
        "_z": z,
    }


def _holm(frame: pd.DataFrame, alpha: float = NOISE_ALPHA) -> pd.DataFrame:
    """``within_noise`` of every row with a standard error, by Holm's step-down test
    (Holm 1979) over the inputs of each variant and outcome together.

    Each swing's two-sided p-value is ``2 (1 - Φ(z)) = erfc(z / √2)`` with
    ``z = |high - low| / se`` (a normal approximation of the difference of two
    independent estimates). Sorted
    ascending, ``p_(1) ≤ … ≤ p_(m)`` over the ``m`` inputs with a standard error,
    the first ``k`` are beyond noise where ``k`` is the largest with
    ``p_(i) ≤ alpha / (m - i + 1)`` for every ``i ≤ k``; the rest are within noise.
    So the chance that any swing chance alone makes is called beyond noise stays
    at most ``alpha`` however many inputs are ranked (a plain 1.96-error test would
    call about one such swing in twenty). Rows without a standard error keep
    ``within_noise`` empty; ``frame`` is changed in place and returned."""
    frame["within_noise"] = frame["within_noise"].astype(object)
    for _, group in frame.groupby(["variant", "outcome"], sort=False):
        z = group._z.dropna().astype(float)
        # two-sided p-values: 2 (1 - Φ(z)) = erfc(z / √2), exact in the tail too
        p = {i: math.erfc(v / math.sqrt(2.0)) for i, v in z.items()}
        beyond = True
        for rank, i in enumerate(sorted(p, key=lambda i: (p[i], i))):
            beyond = beyond and z[i] > 0 and p[i] <= alpha / (len(p) - rank)
            frame.at[i, "within_noise"] = not beyond
    return frame


KIND_ORDER = {"p_met": 0, "level": 1, "date": 2}


def noise_of(value: Any) -> bool | None:
    """A ``within_noise`` cell as True, False, or None where no standard error was
    estimated (None or NaN; a table may hold Python or numpy booleans)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows grouped by variant and outcome (in their first order), largest swing first
    (ties: the inputs' order), without the helper column."""
    frame = frame.reset_index(drop=True)
    pairs = list(zip(frame.variant, frame.outcome, strict=True))
    first = {key: i for i, key in reversed(list(enumerate(pairs)))}
    keys = pd.DataFrame(
        {
            "group": [first[k] for k in pairs],
            "swing": -pd.to_numeric(frame.swing, errors="coerce").fillna(-1.0),
            "row": np.arange(len(frame)),
        }
    )
    order = keys.sort_values(["group", "swing", "row"], kind="stable").row.to_numpy()
    return frame.iloc[order].drop(columns=["_order", "_z"]).reset_index(drop=True)


# -- Sobol indices


def power_of_two(n: int) -> bool:
    """Whether ``n`` (a whole number of at least 1) is a power of two, as Sobol'
    sequences need their base sample size to be (:data:`SOBOL_BASE`)."""
    return n & (n - 1) == 0


def _sobol(
    scenario: Scenario,
    names: list[str],
    plans: dict[str, Plan],
    found: dict[str, list[Input]],
    base: int,
    seed: int,
    chunk: int | None,
) -> Sensitivity:
    if not power_of_two(base):
        raise ScenarioError(
            SOBOL_BASE,
            f"{base:,}",
            file="<arguments>",
            path="draws",
        )
    try:
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import sobol as sobol_sample
    except ImportError:
        raise ScenarioError(
            "SALib installed for method sobol (pip install 'forcesim[sensitivity]')",
            "no module SALib",
            file="<arguments>",
            path="method",
        ) from None
    for name in names:
        # SALib builds the whole sample, and the outcomes one row per run, in memory
        # before any run: a base that an ensemble could not draw is refused up front
        runs = base * (len(found[name]) + 2)
        if runs > MAX_DRAWS:
            raise ScenarioError(
                f"a base sample size N whose N (inputs + 2) model runs are at most "
                f"{MAX_DRAWS:,} (variant {name!r} has {len(found[name])} uncertain inputs)",
                f"{base:,} ({runs:,} runs)",
                file="<arguments>",
                path="draws",
            )
        plan = plans[name]
        per_base = sobol_sample_bytes(plan, len(found[name]), 1)
        if per_base * base > SOBOL_SAMPLE_BYTES:
            fits = 1 << max(0, (SOBOL_SAMPLE_BYTES // per_base).bit_length() - 1)
            raise ScenarioError(
                f"a base sample size N whose sample and outcomes fit "
                f"{SOBOL_SAMPLE_BYTES >> 20} MB (variant {name!r}, "
                f"{len(found[name])} inputs: N = {fits:,} at most)",
                f"{base:,} ({per_base * base / (1 << 20):,.0f} MB)",
                file="<arguments>",
                path="draws",
            )
    rows: list[dict[str, Any]] = []
    summaries: dict[str, list[InputSummary]] = {}
    for name in names:
        plan, inputs = plans[name], found[name]
        summaries[name] = [
            InputSummary(i.path, i.quantity, (i.span[0], i.span[0]), (i.span[1], i.span[1]))
            for i in inputs
        ]
        if not inputs:
            continue
        problem = {
            "num_vars": len(inputs),
            "names": [i.path for i in inputs],
            "bounds": [[0.0, 1.0]] * len(inputs),
        }
        u = sobol_sample.sample(problem, base, calc_second_order=False, scramble=True, seed=seed)
        outs = [o for o in outcomes(plan, []) if o.kind in ("p_met", "level")]
        y = _sobol_outputs(plan, inputs, u, outs, chunk or sobol_chunk(plan))
        del u  # SALib's analysis reads the outcomes only
        for k, o in enumerate(outs):
            column = y[:, k].astype(np.float64)  # whole numbers: widened exactly
            if column.min() == column.max():  # nothing varies it: the indices are 0/0
                index = {key: [np.nan] * len(inputs) for key in ("S1", "S1_conf", "ST", "ST_conf")}
            else:
                # (the bootstrap's own generator, made fresh from the seed for each
                # outcome: SALib seeds it only from a seed that is true, and seed 0 drew
                # its confidence widths from numpy's global state)
                index = sobol_analyze.analyze(
                    problem,
                    column,
                    calc_second_order=False,
                    print_to_console=False,
                    seed=np.random.default_rng(seed),
                )
            for d, inp in enumerate(inputs):
                rows.append(
                    {
                        "scenario": scenario.id,
                        "variant": name,
                        "input": inp.path,
                        "outcome": _per_draw(o.name),
                        "first_order": _clean(index["S1"][d]),
                        "first_order_conf": _clean(index["S1_conf"][d]),
                        "total": _clean(index["ST"][d]),
                        "total_conf": _clean(index["ST_conf"][d]),
                    }
                )
    table = pd.DataFrame(rows, columns=SOBOL_COLUMNS)
    return Sensitivity(scenario, names, base, seed, "sobol", table, summaries)


def sobol_chunk(plan: Plan) -> int:
    """Runs stepped at once for Sobol indices: at most 65,536, and as many as keep
    what one step makes (:func:`sobol_run_bytes`) within :data:`SOBOL_STEP_BYTES`."""
    return max(1, min(1 << 16, SOBOL_STEP_BYTES // sobol_run_bytes(plan)))


def sobol_run_bytes(plan: Plan) -> int:
    """Bytes one run takes while a chunk of Sobol runs is stepped: its inputs as
    :func:`_sobol_outputs` lays them out (an 8-byte number per track twice, per
    milestone twice, per residual, and the announcement delay); in
    :func:`~sim.model.stepper.step`, the schedule (six per milestone and the
    announcement), the targets reached, the inputs and windows turned draws-last, and
    a timing group's copy of them (twice ``tracks + 2 milestones + residuals``); and
    the levels (an int32 per track and theater and month)."""
    tracks, milestones = len(plan.tracks), len(plan.milestones)
    residuals = len(plan.residuals)
    numbers = (
        (2 * tracks + 2 * milestones + residuals + 1)
        + (7 * milestones + 1)
        + 2 * (tracks + 2 * milestones + residuals)
    )
    return 8 * numbers + 4 * plan.n_months * (tracks + len(plan.theaters))


def sobol_sample_bytes(plan: Plan, inputs: int, base: int) -> int:
    """Bytes of the sample (float64 per run and input) and the outcomes (float32 per
    run and outcome: whole troops of at most 10,000,000 and 0 or 1, all exact below
    2^24) of base sample size ``base``: ``base (inputs + 2)`` runs."""
    outs = sum(1 for o in outcomes(plan, []) if o.kind in ("p_met", "level"))
    return base * (inputs + 2) * (8 * inputs + 4 * outs)


def _per_draw(name: str) -> str:
    """A Sobol outcome's name: the per-draw value whose variance it splits (``met
    MILESTONE`` for p_met, ``level THEATER MONTH`` for a mean level)."""
    if name.startswith("p_met "):
        return "met " + name.removeprefix("p_met ")
    return name.replace("mean level ", "level ", 1)


def _clean(x: Any) -> float:
    return float(np.round(float(x), 6)) if np.isfinite(x) else float("nan")


def sobol_values(inp: Input, u: NDArray[np.float64]) -> NDArray[np.float64]:
    """The input's values for uniform numbers ``u``, drawn as the ensemble draws them:
    with a probability ``p``, ``u < p`` means it applies, and ``u / p`` is then the
    uniform number of its distribution (one number per input, as Sobol' needs)."""
    q = inp.quantity
    assert isinstance(q, Spec)
    gate = None
    inner = u
    if q.probability is not None:
        p = float(q.probability)
        gate = u
        inner = np.minimum(u / p, np.nextafter(1.0, 0.0)) if p > 0 else u
    values = from_uniform(q, inner, gate)
    return np.maximum(values, 0.0)


def _sobol_outputs(
    plan: Plan, inputs: list[Input], u: NDArray[np.float64], outs: list[Outcome], chunk: int
) -> NDArray[np.float32]:
    """Each run's outcome values, (runs, outcomes): 1 or 0 for a milestone met by its
    original deadline, the theater's level at a calendar deadline [troops]: whole
    numbers below 2^24 (:data:`~sim.checks.MAX_TROOPS`), which float32 holds exactly."""
    fixed = central_inputs(plan)
    y = np.empty((u.shape[0], len(outs)), np.float32)
    for a in range(0, u.shape[0], chunk):
        part = u[a : a + chunk]
        n = part.shape[0]
        # every per-draw array at its central value, then the inputs' columns replaced
        arrays: dict[str, Any] = {
            f.name: np.repeat(getattr(fixed, f.name), n, axis=0) for f in fields(StepInputs)
        }
        arrays["initial"] -= arrays["unreported"]  # the official start, as drawn
        for d, inp in enumerate(inputs):
            values = sobol_values(inp, part[:, d])
            if inp.field == "delay":
                arrays["delay"] = values.astype(np.int64)
            else:
                arrays[inp.field][:, inp.column] = values
        arrays["initial"] += arrays["unreported"]  # the whole force starts above it
        out = step(plan, StepInputs(**arrays))
        for k, o in enumerate(outs):
            if o.kind == "p_met":
                y[a : a + n, k] = out.reached[:, o.index] <= out.original[:, o.index]
            else:
                y[a : a + n, k] = out.theaters[:, plan.theaters.index(o.series), o.index]
        # the next chunk is laid out and stepped without this one's arrays beside it
        del arrays, out
    return y
