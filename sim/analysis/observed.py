"""Scoring projections against observed levels, and conditioning an ensemble on them.

An **observation** is a reported troop level for a theater (or a site) on a
date: a point (``troops_low = troops_high``), a range, or an open-ended bound
("fewer than N" leaves ``troops_low`` blank, "more than N" leaves
``troops_high`` blank). Observations come from a CSV file
(``date,theater,troops_low,troops_high,source,quote``) or from a scenario's
``observations`` key (a list, or the path of such a CSV relative to the
scenario file). See ``docs/observations.md``.

Rules, each stated once here:

* An observation dated ``YYYY-MM-DD`` or ``YYYY-MM`` is compared with the
  level at the end of the month that contains its date (the model's monthly
  value). Observations before the start month or after the horizon are *out of
  range*: listed, never scored.
* A level is **consistent** with an observation when it lies in the observed
  range widened by the **tolerance** (``±5 %`` of each bound by default, or an
  absolute number of troops): ``low·(1 − r) − a ≤ level ≤ high·(1 + r) + a``,
  an open end staying open. Bounds are inclusive.
* With an ensemble, a bounded observation's **percentile rank** is the mid-rank
  of its reference value (the point, or the middle of a range) among the draws'
  levels that month: ``100 · (#below + ½ #equal) / n``. An open-ended one
  ("fewer than 1000") has no value to rank and gets none: ``p_consistent`` says
  how many draws fit it. ``in_band80`` says whether the observed range meets the
  exact 10th–90th percentile band. ``p_consistent`` is the share of draws
  consistent with it.
* **Conditioning** keeps the draws consistent with every in-range observation
  and summarises only those, chunk by chunk (memory stays bounded): the same
  exact bands, dates and milestone probabilities as the unconditioned ensemble.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.chunks import progress_bar, run_chunks
from sim.analysis.ensemble import (
    Accumulator,
    LevelCounts,
    accumulator,
    inverse_cdf,
    level_views,
    series,
)
from sim.errors import ScenarioError
from sim.io.observations import (
    DRAW_COLUMNS,
    EXTRA_COLUMNS,
    OBSERVED_COLUMNS,
    OUT_OF_RANGE,
    SCORED,
    Observation,
    ObservationSet,
    Tolerance,
    parse_tolerance,
)
from sim.model.plan import Plan
from sim.model.stepper import StepInputs, step
from sim.results import Result

# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Check:
    """One in-range observation as the ensemble pass tests it."""

    index: int  # position in the ObservationSet
    series: str
    month: int  # month index in the plan (0 = start month)
    lo: float
    hi: float


def checks_for(plan: Plan, observations: ObservationSet, tolerance: Tolerance) -> list[Check]:
    """The observations that fall within ``plan``'s months and name one of its series."""
    names = set(plan.series_names())
    out = []
    for i, o in enumerate(observations):
        m = o.month - plan.start
        if 0 <= m < plan.n_months and o.theater in names:
            out.append(Check(i, o.theater, m, *tolerance.accept(o)))
    return out


class _Filter:
    """A :class:`sim.analysis.chunks.ChunkConsumer` that steps each chunk's draws up to
    the last observed month, counts their levels in each observed month, and passes
    on (to ``inner``, as stepper inputs) only the draws consistent with every
    observation.

    Stepping stops at the last observed month: a month's level never depends on
    later months, so the levels compared are exactly those of the full run."""

    def __init__(self, plan: Plan, checks: list[Check], bound: int, inner: Accumulator) -> None:
        last = max((c.month for c in checks), default=0)
        self.plan = replace(plan, n_months=last + 1)
        sel = series(plan)
        self.names = [s for s, _ in sel]
        self.members = [m for _, m in sel]
        self.checks = checks
        self.bound = bound
        self.inner = inner
        self.hist = np.zeros((len(checks), bound + 1), np.int64)
        self.n = 0
        self.kept = 0

    def add_chunk(self, chunk: Sequence[StepInputs]) -> None:
        inputs = chunk[0]
        n = inputs.n
        keep = np.ones(n, bool)
        if self.checks:
            levels = level_views(self.plan, step(self.plan, inputs), self.names, self.members)
            for i, c in enumerate(self.checks):
                lv = levels[c.series][:, c.month]
                self.hist[i] += np.bincount(lv, minlength=self.bound + 1)[: self.bound + 1]
                keep &= (lv >= c.lo) & (lv <= c.hi)
        self.n += n
        kept = int(keep.sum())
        self.kept += kept
        if not kept:
            return
        if kept < n:
            inputs = StepInputs(
                initial=inputs.initial[keep],
                delay=inputs.delay[keep],
                targets=inputs.targets[keep],
                residual=inputs.residual[keep],
            )
        self.inner.add_draws(inputs)


def _observed_counts(acc: Accumulator | LevelCounts, checks: list[Check]) -> NDArray[np.int64]:
    """Counts of each level (checks, bound + 1) in each check's series and month, read
    from settled counts (``hist``: month-major)."""
    width = acc.bound + 1
    rows = {name: i for i, name in enumerate(acc.names)}
    out = np.zeros((len(checks), width), np.int64)
    for i, c in enumerate(checks):
        out[i] = acc.hist[rows[c.series], c.month * width : (c.month + 1) * width]
    return out


def rank_stats(
    hist: NDArray[np.int64], obs: Observation, accept: tuple[float, float]
) -> tuple[float, bool, float]:
    """From counts of each level in one month: the percentile rank of the observation's
    reference value, whether the observed range meets the exact 10th–90th percentile
    band, and the share of draws within ``accept`` (the range widened by the tolerance)."""
    n = int(hist.sum())
    ref = obs.reference
    levels = np.arange(hist.shape[0])
    below = int(hist[levels < ref].sum())
    equal = int(hist[levels == ref].sum())
    rank = 100.0 * (below + 0.5 * equal) / n
    cum = np.cumsum(hist)[None, :]
    p10 = int(inverse_cdf(cum, 10, n)[0])
    p90 = int(inverse_cdf(cum, 90, n)[0])
    lo = -math.inf if obs.low is None else obs.low
    hi = math.inf if obs.high is None else obs.high
    inside = int(hist[(levels >= accept[0]) & (levels <= accept[1])].sum())
    return rank, bool(lo <= p90 and hi >= p10), inside / n


@dataclass
class Conditioned:
    """Summaries of only the draws consistent with every in-range observation."""

    bands: pd.DataFrame | None
    dates: pd.DataFrame | None
    p_met: dict[tuple[str, str], float]  # (variant, milestone) -> share
    kept: dict[str, int]
    draws: int

    @property
    def variants(self) -> list[str]:
        """The variants with at least one draw kept."""
        return [v for v, k in self.kept.items() if k > 0]

    @property
    def empty(self) -> list[str]:
        return [v for v, k in self.kept.items() if k == 0]


@dataclass
class Assessment:
    """Observations scored against a run (and, optionally, the ensemble conditioned on them).

    table : the rows of ``observed.csv``; conditioned : None unless conditioning was asked.
    """

    observations: ObservationSet
    tolerance: Tolerance
    table: pd.DataFrame
    conditioned: Conditioned | None = None
    draws: int | None = None
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What ``run.json`` says about the observations (under ``observed``)."""
        out: dict[str, Any] = {
            "origin": self.observations.origin,
            "sha256": self.observations.sha256,
            "observations": len(self.observations),
            "tolerance": self.tolerance.record(),
        }
        per_variant: dict[str, Any] = {}
        for v, rows in self.table.groupby("variant", sort=False):
            scored = rows[rows.status == SCORED]
            per_variant[str(v)] = {
                "scored": len(scored),
                "consistent": int((scored.consistent == "true").sum()),
            }
        out["variants"] = per_variant
        if self.conditioned is not None:
            c = self.conditioned
            out["conditioning"] = {
                "draws": c.draws,
                "kept": {
                    v: {"draws": k, "share": round(k / c.draws, 6)} for v, k in c.kept.items()
                },
                "no_draw_kept": c.empty,
            }
        return out


def score_observations(
    result: Result,
    observations: ObservationSet,
    tolerance: Tolerance | str | None = None,
    *,
    condition: bool = False,
    chunk: int | None = None,
    progress: bool | None = None,
) -> Assessment:
    """Score observed levels against every variant of a run, and optionally condition
    its ensemble on them.

    Parameters
    ----------
    result : Result
        A run (deterministic, or an ensemble: ``result.draws`` set).
    observations : ObservationSet
        From :func:`load_observations` (or a scenario's own, ``scenario_observations``).
    tolerance : Tolerance or str, optional
        How far outside an observed range still counts as consistent: ``"5%"``
        (the default, of each bound) or a number of troops (``"200"``).
    condition : bool
        Also summarise only the draws consistent with every in-range observation
        (needs an ensemble).
    chunk : int, optional
        Draws per chunk, as for :func:`sim.run`.
    progress : bool, optional
        Show a progress bar, as for :func:`sim.run`.

    Returns
    -------
    Assessment
        ``.table`` holds the rows of ``observed.csv``; ``.conditioned`` the
        conditioned bands, dates, milestone probabilities and draws kept. Nothing
        in ``result`` changes; pass ``observed=`` to the plot functions to draw the
        observations, or :func:`attach` them.
    """
    tol = tolerance if isinstance(tolerance, Tolerance) else parse_tolerance(tolerance)
    if condition and not result.draws:
        raise ScenarioError(
            "--draws N and --seed S with --condition (it conditions an ensemble)",
            "no draws",
            file="<command line>",
            path="--condition",
        )
    stats: dict[str, tuple[list[Check], NDArray[np.int64]]] = {}
    conditioned = None
    if result.draws:
        stats, conditioned = _ensemble_pass(
            result, observations, tol, condition=condition, chunk=chunk, progress=progress
        )
    m = result.monthly
    lookup = {
        (v, t, str(p)): int(x)
        for v, t, p, x in zip(m.variant, m.theater, m.month, m.troops, strict=True)
    }
    rows: list[dict[str, Any]] = []
    for v in result.variants:
        plan = result.plans[v]
        checks, counts = stats.get(v, ([], np.zeros((0, 1), np.int64)))
        by_index = {c.index: j for j, c in enumerate(checks)}
        for i, o in enumerate(observations):
            lo, hi = tol.accept(o)
            row: dict[str, Any] = {
                "date": o.date,
                "theater": o.theater,
                "variant": v,
                "troops_low": o.low,
                "troops_high": o.high,
                "level": None,
                "consistent": "",
                "percentile_rank": None,
                "in_band80": "",
                "p_consistent": None,
                "status": OUT_OF_RANGE,
                "month": o.month_text,
                "accept_low": None if o.low is None else round(lo, 3),
                "accept_high": None if o.high is None else round(hi, 3),
                "source": o.source,
            }
            level = lookup.get((v, o.theater, o.month_text))
            inside = 0 <= o.month - plan.start < plan.n_months
            if inside and level is not None:
                row.update(
                    level=level, status=SCORED, consistent="true" if lo <= level <= hi else "false"
                )
                j = by_index.get(i)
                if j is not None:
                    rank, band, share = rank_stats(counts[j], o, (lo, hi))
                    bounded = o.low is not None and o.high is not None
                    row.update(
                        # "fewer than 1000" has no value to rank: only how many draws fit
                        percentile_rank=round(rank, 3) if bounded else None,
                        in_band80=str(band).lower(),
                        p_consistent=round(share, 6),
                    )
            rows.append(row)
    columns = OBSERVED_COLUMNS + (DRAW_COLUMNS if result.draws else []) + EXTRA_COLUMNS
    table = pd.DataFrame(rows, columns=OBSERVED_COLUMNS + DRAW_COLUMNS + EXTRA_COLUMNS)
    for col in ("troops_low", "troops_high", "level", "accept_low", "accept_high"):
        table[col] = table[col].astype("Float64")
    for col in ("level", "troops_low", "troops_high"):
        table[col] = table[col].round().astype("Int64")
    return Assessment(observations, tol, table[columns], conditioned, result.draws)


def _ensemble_pass(
    result: Result,
    observations: ObservationSet,
    tol: Tolerance,
    *,
    condition: bool,
    chunk: int | None,
    progress: bool | None,
) -> tuple[dict[str, tuple[list[Check], NDArray[np.int64]]], Conditioned | None]:
    """One more pass over the ensemble's draws (same seed, same streams): the counts of
    each level in every observed month and, when conditioning, exact summaries of the
    draws consistent with every observation. Returns per variant its checks and counts."""
    assert result.draws is not None and result.seed is not None
    stats: dict[str, tuple[list[Check], NDArray[np.int64]]] = {}
    bands, dates, p_met, kept = [], [], {}, {}
    options: dict[str, Any] = {} if chunk is None else {"chunk": chunk}
    bar = progress_bar(
        result.draws * len(result.variants), progress, f"{result.scenario.id} (observed)"
    )
    sid = result.scenario.id
    try:
        for v in result.variants:
            plan = result.plans[v]
            checks = checks_for(plan, observations, tol)
            rows = result.milestones[result.milestones.variant == v]
            acc = accumulator(plan, rows, dates=condition)
            if condition:
                f = _Filter(plan, checks, acc.bound, acc)
                run_chunks([plan], result.draws, result.seed, f, bar=bar, **options)
                stats[v] = (checks, f.hist)
                kept[v] = f.kept
                if acc.n:
                    bands.append(acc.bands(sid, v))
                    dates.append(acc.dates(sid, v))
                    for mplan, met in zip(plan.milestones, acc.met, strict=True):
                        p_met[(v, mplan.id)] = round(int(met) / acc.n, 6)
            elif checks and v in result.counts:  # the run kept its counts: no second pass
                stats[v] = (checks, _observed_counts(result.counts[v], checks))
            elif checks:
                run_chunks([plan], result.draws, result.seed, acc, bar=bar, **options)
                acc.bands(sid, v)  # settles the counts
                stats[v] = (checks, _observed_counts(acc, checks))
            del acc  # one variant's summaries in memory at a time
    finally:
        if bar is not None:
            bar.close()
    cond = None
    if condition:
        cond = Conditioned(
            pd.concat(bands, ignore_index=True) if bands else None,
            pd.concat(dates, ignore_index=True) if dates else None,
            p_met,
            kept,
            int(result.draws),
        )
    return stats, cond


# ---------------------------------------------------------------- the run directory


def conditioned_result(result: Result, assessment: Assessment) -> Result | None:
    """A copy of ``result`` holding the conditioned summaries (for the fan chart);
    None when no variant kept a draw."""
    c = assessment.conditioned
    if c is None or not c.variants:
        return None
    keep = c.variants
    ms = result.milestones[result.milestones.variant.isin(keep)].copy()
    ms["p_met"] = [
        c.p_met.get((v, m), math.nan) for v, m in zip(ms.variant, ms.milestone, strict=True)
    ]
    return replace(
        result,
        variants=keep,
        monthly=result.monthly[result.monthly.variant.isin(keep)],
        milestones=ms,
        bands=c.bands,
        dates=c.dates,
        plans={v: result.plans[v] for v in keep},
    )


def with_observations(result: Result, assessment: Assessment) -> Result:
    """A copy of ``result`` carrying the observations scored against it.

    The charts then draw the observations, ``run.json`` records them,
    :func:`sim.write_run` writes ``observed.csv`` (and the conditioned files),
    and with conditioning ``milestones`` gains ``p_met_conditioned``.

    Parameters
    ----------
    result : Result
        The run that was scored.
    assessment : Assessment
        From :func:`sim.score_observations` on ``result``.

    Returns
    -------
    Result
        A new Result; ``result`` is unchanged.
    """
    c = assessment.conditioned
    milestones = result.milestones
    if c is not None:
        milestones = milestones.assign(
            p_met_conditioned=[
                c.p_met.get((v, m), math.nan)
                for v, m in zip(milestones.variant, milestones.milestone, strict=True)
            ]
        )
    return replace(result, observed=assessment, milestones=milestones)
