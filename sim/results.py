"""Stepper arrays → tidy pandas DataFrames, and the :class:`Result` a run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.months import format_month
from sim.plan import Plan
from sim.stepper import StepOutput

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.scenario import Scenario

MONTHLY_COLUMNS = ["scenario", "variant", "theater", "month", "troops"]
MILESTONE_COLUMNS = [
    "scenario",
    "variant",
    "milestone",
    "theater",
    "deadline",
    "target",
    "month_reached",
    "met",
]


def _periods(plan: Plan, index: np.ndarray) -> pd.PeriodIndex:
    return pd.PeriodIndex([format_month(plan.start + int(i)) for i in index], freq="M")


def monthly_frame(scenario_id: str, variant: str, plan: Plan, out: StepOutput) -> pd.DataFrame:
    """One row per theater (and site) and month of draw 0 of ``out``."""
    months = pd.period_range(format_month(plan.start), periods=plan.n_months, freq="M")
    names: list[str] = []
    blocks: list[np.ndarray] = []
    for t, tid in enumerate(plan.theaters):
        names.append(tid)
        blocks.append(out.theaters[0, t])
        for k in plan.theater_tracks(tid):
            if plan.tracks[k].site is not None:
                names.append(plan.tracks[k].key)
                blocks.append(out.tracks[0, k])
    return pd.DataFrame(
        {
            "scenario": scenario_id,
            "variant": variant,
            "theater": np.repeat(names, plan.n_months),
            "month": np.tile(months, len(names)),
            "troops": np.concatenate(blocks).astype(np.int64),
        }
    )


def milestone_frame(scenario_id: str, variant: str, plan: Plan, out: StepOutput) -> pd.DataFrame:
    """One row per milestone of draw 0: deadline after any slip, month reached, met."""
    deadline = out.deadline[0]
    reached = out.reached[0]
    return pd.DataFrame(
        {
            "scenario": scenario_id,
            "variant": variant,
            "milestone": [m.id for m in plan.milestones],
            "theater": [plan.tracks[m.track].key for m in plan.milestones],
            "deadline": _periods(plan, deadline),
            "target": out.target[0].round().astype(np.int64),
            "month_reached": _periods(plan, reached),
            "met": reached <= deadline,
        },
        columns=MILESTONE_COLUMNS,
    )


@dataclass
class Result:
    """What :func:`sim.run` returns.

    Attributes
    ----------
    scenario : Scenario
    variants : list of str
    monthly : pandas.DataFrame
        ``scenario, variant, theater, month, troops``; ``month`` is a monthly
        ``Period``; theater totals, and site rows as ``iraq/erbil``.
    milestones : pandas.DataFrame
        ``scenario, variant, milestone, theater, deadline, target,
        month_reached, met`` (and ``p_met`` for an ensemble).
    bands, dates : pandas.DataFrame or None
        Ensemble summaries (see :mod:`sim.ensemble`); None without draws.
    """

    scenario: Scenario
    variants: list[str]
    monthly: pd.DataFrame
    milestones: pd.DataFrame
    plans: dict[str, Plan] = field(repr=False)
    bands: pd.DataFrame | None = None
    dates: pd.DataFrame | None = None
    draws: int | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    observed: Any = field(default=None, repr=False)  # sim.observed.Assessment, when scored
    counts: dict[str, Any] = field(default_factory=dict, repr=False)  # ensemble.LevelCounts
    central: dict[str, StepOutput] = field(default_factory=dict, repr=False)  # per variant

    @property
    def theaters(self) -> list[str]:
        """Theater ids of every variant, in the order they first appear."""
        out: list[str] = []
        for plan in self.plans.values():
            out += [t for t in plan.theaters if t not in out]
        return out

    def plot(self, ax: Axes | Any = None, **kwargs: Any) -> Any:
        """The envelope chart, or for an ensemble the fan chart.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, optional
            Where to draw (see :func:`sim.plot_envelope`, :func:`sim.plot_fan`);
            a new figure when omitted.
        **kwargs
            ``theaters=[...]``, and for the fan ``variants=[...]``.

        Returns
        -------
        list of matplotlib.axes.Axes
        """
        from sim import plotting

        if self.bands is not None:
            return plotting.plot_fan(self, ax=ax, **kwargs)
        return plotting.plot_envelope(self, ax=ax, **kwargs)

    def summary(self, months: list[str] | None = None) -> pd.DataFrame:
        """Each variant's theater levels at the key months.

        Parameters
        ----------
        months : list of str, optional
            Months as ``YYYY-MM``; default: the base scenario's calendar
            deadlines and the horizon.

        Returns
        -------
        pandas.DataFrame
            One row per variant; columns (theater, month) [troops].
        """
        months = months or key_months(self)
        df = self.monthly[~self.monthly.theater.str.contains("/", regex=False)]
        df = df[df.month.astype(str).isin(months)]
        table = df.pivot_table(
            index="variant",
            columns=["theater", "month"],
            values="troops",
            aggfunc="first",
            sort=False,
        )
        return table.reindex(self.variants)

    def __repr__(self) -> str:
        kind = (
            f"ensemble of {self.draws:,} draws, seed {self.seed}" if self.draws else "deterministic"
        )
        return (
            f"<Result {self.scenario.id}: {len(self.variants)} variants, {kind}>\n"
            + self.summary().to_string()
        )

    def _repr_html_(self) -> str:
        kind = (
            f"ensemble of {self.draws:,} draws, seed {self.seed}" if self.draws else "deterministic"
        )
        from html import escape

        return (
            f"<p><b>{escape(self.scenario.title)}</b> — {len(self.variants)} variants, "
            f"{kind}; troops at the end of each month</p>" + self.summary().to_html()
        )


def key_months(result: Result) -> list[str]:
    """Calendar deadlines of the base milestones, then the horizon."""
    doc = result.scenario.doc
    months = sorted({m.deadline for m in doc.milestones.values() if isinstance(m.deadline, str)})
    end = doc.calendar.end
    return [m for m in months if m != end] + [end]
