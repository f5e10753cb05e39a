"""Backtest: how well each drawdown profile, applied to a scenario's milestones,
tracks the levels that were actually observed.

For every variant and every profile (linear, step, front, back, s-curve), the
profile replaces the profile of *every* milestone, the variant is stepped at
its central values, and each in-range observation is compared with the level at
the end of its month. The error of one comparison is how far the projected
level lies outside the observed range [troops] (0 inside it; for a point,
``|level − value|``). Per profile and variant:

* ``mae``: the mean error [troops];
* ``mape``: the mean of ``error / reference`` [%] over the observations whose
  reference (the point, the middle of a range, the bound of an open-ended
  observation) is above zero;
* ``max_error``: the largest error [troops];
* ``months_compared``: the distinct months with at least one observation
  compared; ``observations``: how many observations were compared.

The best fit is the lowest MAE (ties: the lower max error, then the order of
the profiles above).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.summaries import MEAN_PLACES, rounded
from sim.errors import ScenarioError
from sim.io.observations import OFFICIAL, ObservationSet
from sim.model.draws import central_inputs
from sim.model.plan import compile_plan
from sim.model.stepper import step
from sim.results import monthly_frame
from sim.scenario import Scenario, scenario_argument, scenario_observations
from sim.schema import PROFILES, ScenarioDoc

BACKTEST_COLUMNS = [
    "profile",
    "variant",
    "mae",
    "mape",
    "max_error",
    "months_compared",
    "observations",
]
ERROR_COLUMNS = [
    "profile",
    "variant",
    "date",
    "month",
    "theater",
    "troops_low",
    "troops_high",
    "level",
    "error",
    "percent_error",
]
PATH_COLUMNS = ["profile", "variant", "theater", "month", "troops"]


def with_profile(doc: ScenarioDoc, profile: str) -> ScenarioDoc:
    """``doc`` with every milestone's profile set to ``profile``."""
    if profile not in PROFILES:
        raise ScenarioError("one of " + ", ".join(PROFILES), repr(profile), path="profile")
    milestones = {
        mid: m.model_copy(update={"profile": profile}) for mid, m in doc.milestones.items()
    }
    return doc.model_copy(update={"milestones": milestones})


def errors_of(
    levels: dict[tuple[str, str], float],
    observations: ObservationSet,
    official: dict[tuple[str, str], float] | None = None,
) -> list[dict[str, Any]]:
    """One row per level observation (not a target) with a projected level:
    ``levels[(series, YYYY-MM)]``, or for an official figure ``official[...]`` when
    given (the level less the troops official figures leave out)."""
    rows = []
    for o in observations:
        if not o.is_level:
            continue
        table = official if official is not None and o.kind == OFFICIAL else levels
        level = table.get((o.theater, o.month_text))
        if level is None:
            continue
        error = o.distance(level)
        ref = o.reference
        rows.append(
            {
                "date": o.date,
                "month": o.month_text,
                "theater": o.theater,
                "troops_low": o.low,
                "troops_high": o.high,
                "level": level,
                "error": error,
                "percent_error": 100 * error / ref if ref > 0 else math.nan,
            }
        )
    return rows


def metrics(rows: list[dict[str, Any]]) -> dict[str, float | int]:
    """MAE, MAPE, max error, months compared and observations of some error rows."""
    if not rows:
        return {
            "mae": math.nan,
            "mape": math.nan,
            "max_error": math.nan,
            "months_compared": 0,
            "observations": 0,
        }
    err = np.array([r["error"] for r in rows], float)
    pct = np.array([r["percent_error"] for r in rows], float)
    pct = pct[~np.isnan(pct)]
    return {
        # (errors of whole levels against whole bounds: their float sum is exact)
        "mae": rounded(Fraction(float(err.sum())), len(err), MEAN_PLACES),
        "mape": float(pct.mean()) if len(pct) else math.nan,
        "max_error": float(err.max()),
        "months_compared": len({(r["month"]) for r in rows}),
        "observations": len(rows),
    }


@dataclass
class Backtest:
    """What :func:`run_backtest` returns.

    Attributes
    ----------
    scenario : Scenario
    observations : ObservationSet
        The observed levels compared with.
    variants : list of str
    table : pandas.DataFrame
        ``backtest.csv`` (``profile, variant, mae, mape, max_error,
        months_compared, observations``): one row per profile and variant;
        ``mae`` and ``max_error`` in troops, ``mape`` in percent (the module's
        docstring defines them); NaN where nothing was compared.
    errors : pandas.DataFrame
        ``profile, variant, date, month, theater, troops_low, troops_high, level,
        error, percent_error``: one row per profile, variant and compared
        observation; ``level`` and ``error`` (how far the level lies outside the
        observed range, 0 inside) in troops, ``percent_error`` in percent of the
        observation's reference (NaN for a reference of 0).
    paths : pandas.DataFrame
        ``profile, variant, theater, month, troops``: the projected level of each
        profile, variant, theater and month [troops].
    """

    scenario: Scenario
    observations: ObservationSet
    variants: list[str]
    table: pd.DataFrame
    errors: pd.DataFrame
    paths: pd.DataFrame

    def __repr__(self) -> str:
        n = len(self.observations)
        return (
            f"<Backtest {self.scenario.id}: {len(self.table):,} profile and variant rows "
            f"against {n:,} observation{'' if n == 1 else 's'}; .table, .errors, .paths>"
        )

    def best(self, variant: str | None = None) -> pd.Series:
        """The best-fitting row (lowest MAE, then max error, then profile order),
        overall or for one variant."""
        t = self.table if variant is None else self.table[self.table.variant == variant]
        t = t.dropna(subset=["mae"])
        if not len(t):
            raise ValueError("no profile was compared with any observation")
        order = t.assign(
            _p=[PROFILES.index(p) for p in t.profile],
            _v=[self.variants.index(v) for v in t.variant],
        )
        return order.sort_values(["mae", "max_error", "_p", "_v"]).iloc[0][self.table.columns]

    def tied(self, variant: str | None = None) -> list[str]:
        """The profiles that fit the best row's variant exactly as well as :meth:`best`
        does (the same MAE and the same max error), in profile order: the best first;
        one profile when nothing ties."""
        b = self.best(variant)
        t = self.table[self.table.variant == b.variant]
        same = t[(t.mae == b.mae) & (t.max_error == b.max_error)]
        return sorted(same.profile, key=PROFILES.index)


def run_backtest(
    scenario: Scenario | str | os.PathLike[str],
    observations: ObservationSet | str | os.PathLike[str] | None = None,
    variants: list[str] | None = None,
) -> Backtest:
    """Run every drawdown profile and variant of a scenario against observed levels.

    Parameters
    ----------
    scenario : Scenario, or the path of a scenario file
    observations : ObservationSet or path, optional
        Default: the scenario's own ``observations``. A path is read against the
        scenario, as :func:`sim.load_observations` reads it; an ObservationSet is
        checked the same way.
    variants : list of str, optional
        Default: every variant.

    Returns
    -------
    Backtest
        ``.table`` (the rows of ``backtest.csv``), ``.errors``, ``.paths`` and
        ``.best()``.

    Raises
    ------
    sim.ScenarioError
        No observations, none within the scenario's months, or a theater the scenario
        lacks.
    TypeError
        For observations that are neither an ObservationSet nor a path.
    """
    scenario = scenario_argument(scenario, "run_backtest")
    if observations is not None:  # a CSV file read, or a set checked, as sim.run does
        from sim.analysis.observed import check_observed

        observations = check_observed(scenario, observations)
    obs = observations if observations is not None else scenario_observations(scenario)
    if obs is None or not len(obs):
        file, line, col = scenario.locator.find(())
        raise ScenarioError(
            "observations to compare with (the scenario's observations key or --observed FILE)",
            "none",
            file=scenario.path or file,
            line=line,
            col=col,
            path="observations",
        )
    names = scenario.select(variants)
    rows, error_rows, paths = [], [], []
    for v in names:
        doc = scenario.resolved(v)
        for profile in PROFILES:
            plan = compile_plan(with_profile(doc, profile))
            inputs = central_inputs(plan)
            out = step(plan, inputs)
            monthly = monthly_frame(scenario.id, v, plan, out, inputs.unreported[0])
            allowed = set(plan.series_names())
            levels, official = (
                {
                    (t, str(m)): float(x)
                    for t, m, x in zip(monthly.theater, monthly.month, monthly[col], strict=True)
                    if t in allowed
                }
                for col in ("troops", "official")
            )
            errs = errors_of(levels, obs, official)
            rows.append({"profile": profile, "variant": v, **metrics(errs)})
            error_rows += [{"profile": profile, "variant": v, **e} for e in errs]
            paths.append(monthly.assign(profile=profile)[PATH_COLUMNS])
    table = pd.DataFrame(rows, columns=BACKTEST_COLUMNS)
    if not table.observations.max():
        first = obs.items[0]
        plan = scenario.plan(names[0])
        if not any(o.is_level for o in obs.items):  # (a target is never compared)
            raise ScenarioError(
                "reports of a level (reported or official): targets are never compared",
                f"only targets (e.g. {first.date} {first.theater})",
                file=obs.origin,
                path="kind",
            )
        raise ScenarioError(
            f"observations within the scenario's months ({plan.months[0]} to {plan.months[-1]})",
            f"none in range (e.g. {first.date} {first.theater})",
            file=obs.origin,
            path="date",
        )
    table["mape"] = table["mape"].round(4)
    errors = pd.DataFrame(error_rows, columns=ERROR_COLUMNS)
    errors["percent_error"] = errors["percent_error"].round(4)
    return Backtest(scenario, obs, names, table, errors, pd.concat(paths, ignore_index=True))
