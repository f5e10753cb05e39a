"""What a sweep and a sensitivity analysis measure: a few outcomes of an ensemble.

For one variant's draws (an :class:`sim.analysis.accumulator.Accumulator`), each
outcome is one number, read exactly off the accumulator's counts:

* ``p_met MILESTONE``: the share of draws reaching the milestone's target by its
  original (unslipped) deadline, as ``p_met`` in ``milestones.csv`` (6 decimals);
* ``mean level THEATER YYYY-MM``: the mean level of each theater at each calendar
  deadline (the months milestones name as ``YYYY-MM``) [troops], as ``mean`` in
  ``bands.csv`` (3 decimals);
* ``median month SERIES THRESHOLD``: the month by which half the draws are first
  at or below each threshold of ``dates.csv`` (``zero``, ``residual ID``,
  ``milestone ID``), as its ``p50``; None when that is beyond the horizon.

A deterministic run is the ensemble of one draw, every input at its central
value: p_met is then 1 or 0, the mean its level and the median its month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.accumulator import Accumulator
from sim.analysis.summaries import (
    MEAN_PLACES,
    SHARE_PLACES,
    inverse_cdf_row,
    level_views,
    rounded,
    series,
)
from sim.model.draws import central_inputs
from sim.model.plan import Plan
from sim.model.stepper import StepOutput, step
from sim.months import format_month

KINDS = ("p_met", "level", "date")


@dataclass(frozen=True)
class Outcome:
    """One measured outcome: ``name`` (as the CSV files write it), ``kind`` (``p_met``,
    ``level`` or ``date``), ``series`` (a milestone id for p_met, else a theater or
    site) and ``index`` (milestone index, month index or threshold mark index)."""

    name: str
    kind: str
    series: str
    index: int


def calendar_deadlines(plan: Plan) -> list[int]:
    """Month indices of the plan's calendar deadlines (``YYYY-MM``), within the horizon."""
    months = {m.month for m in plan.milestones if m.kind == "month"}
    return sorted(m for m in months if 0 <= m < plan.n_months)


def outcomes(plan: Plan, marks: list[tuple[str, str, int]]) -> list[Outcome]:
    """The outcomes of one variant: p_met of each milestone, each theater's mean level at
    each calendar deadline, and the median month of each threshold ``marks``
    (:func:`sim.analysis.ensemble.thresholds`)."""
    out = [Outcome(f"p_met {m.id}", "p_met", m.id, j) for j, m in enumerate(plan.milestones)]
    for tid in plan.theaters:
        for month in calendar_deadlines(plan):
            label = format_month(plan.start + month)
            out.append(Outcome(f"mean level {tid} {label}", "level", tid, month))
    for k, (name, label, _) in enumerate(marks):
        out.append(Outcome(f"median month {name} {label}", "date", name, k))
    return out


def measure(acc: Accumulator, outs: list[Outcome]) -> list[Any]:
    """Each outcome of ``acc``'s draws: a float for p_met and levels, a month index
    (int) or None (beyond the horizon) for a median month. An accumulator without
    draws gives None throughout."""
    n = acc.n
    values: list[Any] = []
    levels = np.arange(acc.bound + 1, dtype=np.int64)
    for o in outs:
        if n == 0:
            values.append(None)
        elif o.kind == "p_met":
            values.append(rounded(int(acc.met[o.index]), n, SHARE_PLACES))  # as run_ensemble
        elif o.kind == "level":
            counts = acc.counts_at(o.series, o.index)
            values.append(rounded(int(counts @ levels), n, MEAN_PLACES))  # as bands
        else:
            month = inverse_cdf_row(np.cumsum(acc.first_months(o.index)), 50, n)
            values.append(month if month < acc.plan.n_months else None)
    return values


def central_values(
    plan: Plan,
    outs: list[Outcome],
    marks: list[tuple[str, str, int]],
    out: StepOutput | None = None,
) -> list[Any]:
    """Each outcome of the deterministic central run (every input at its central value),
    read off its one run's levels: what :func:`measure` gives for an accumulator of that
    one draw, without counting levels, so for a force of any size.

    ``marks`` are the threshold marks ``outs`` were made with (:func:`outcomes`); ``out``
    is the central run, stepped already (``step(plan, central_inputs(plan))``), or None
    to step it here."""
    names, members = zip(*series(plan), strict=True)
    if out is None:
        out = step(plan, central_inputs(plan))
    views = level_views(plan, out, list(names), list(members))
    values: list[Any] = []
    for o in outs:
        if o.kind == "p_met":
            met = int(out.reached[0, o.index] <= out.original[0, o.index])
            values.append(rounded(met, 1, SHARE_PLACES))
        elif o.kind == "level":
            values.append(rounded(int(views[o.series][0, o.index]), 1, MEAN_PLACES))
        else:
            name, _, level = marks[o.index]
            below = np.flatnonzero(views[name][0] <= level)
            values.append(int(below[0]) if level >= 0 and len(below) else None)
    return values


def swing_errors(low: Accumulator, high: Accumulator, outs: list[Outcome]) -> list[float | None]:
    """The standard error of each outcome's ``high - low`` between the draws of two
    disjoint sets of draws (an input's lowest and highest tenth), in the outcome's unit.

    * a share (``p_met``): the two-proportion standard error under no difference,
      ``sqrt(p (1 - p) (1 / n_low + 1 / n_high))`` with ``p`` the share over both sets
      (the pooled error of the two-proportion z-test, whose square is Pearson's X²
      of the 2x2 table; Agresti 2013, *Categorical Data Analysis*, 3rd ed., chapter
      3): it stays above 0 when one set's share is 0 or 1. It is the error under no
      effect that the test needs, not an interval's for the swing measured;
    * a mean level: ``sqrt(s_low² / n_low + s_high² / n_high)``, ``s²`` each set's sample
      variance of its levels (with ``n - 1``) [troops] (Welch 1947, *Biometrika* 34,
      28-35);
    * a median month: None (not estimated here); so is every outcome when either set
      holds fewer than two draws (one draw has no spread to estimate it from).
    """
    n_low, n_high = low.n, high.n
    out: list[float | None] = []
    levels = np.arange(max(low.bound, high.bound) + 1, dtype=np.float64)

    def spread(acc: Accumulator, o: Outcome) -> float:
        counts = acc.counts_at(o.series, o.index).astype(np.float64)
        values = levels[: len(counts)]
        mean = counts @ values / acc.n
        return float(counts @ (values - mean) ** 2 / (acc.n - 1))

    for o in outs:
        if min(n_low, n_high) < 2 or o.kind == "date":
            out.append(None)
        elif o.kind == "p_met":
            p = (low.met[o.index] + high.met[o.index]) / (n_low + n_high)
            out.append(math.sqrt(p * (1 - p) * (1 / n_low + 1 / n_high)))
        else:
            out.append(math.sqrt(spread(low, o) / n_low + spread(high, o) / n_high))
    return out
