"""Charts of observed levels: the overlay on the envelope and fan charts, the
conditioned fan's labels, and the backtest chart.

Observations are drawn at the end of the month they are compared with (where
the model's monthly value sits): a point as a dot, a range as a vertical bar
with caps, "fewer than N" as a bar at N with an arrow pointing down, "more than
N" with an arrow pointing up. Observations outside the chart's months are not
drawn (``observed.csv`` lists them as out of range).

Like :mod:`sim.fan`, this module draws through :mod:`sim.plotting` (Agg
backend); every function takes axes and returns them, and none saves a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim import colors
from sim.plotting import common
from sim.plotting.common import title_size

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.analysis.observed import Assessment
    from sim.io.observations import Observation, ObservationSet
    from sim.results import Result

COLOR = colors.OBSERVED
EDGE = colors.OBSERVED_EDGE
KIND_LABELS = {
    "point": "reported level",
    "range": "reported range",
    "at most": "reported \u201cfewer than\u201d",
    "at least": "reported \u201cmore than\u201d",
}
PROFILE_TITLES = {
    "linear": "linear",
    "step": "step (all at the deadline)",
    "front": "front-loaded",
    "back": "back-loaded",
    "s-curve": "S-curve",
}


def observations_of(result: Result, observed: Any = None) -> ObservationSet | None:
    """The observations to draw: ``observed`` (an ObservationSet or an Assessment), else
    those attached to ``result`` by :func:`sim.observed.attach`; None for none."""
    if observed is False:
        return None
    source = observed if observed is not None else getattr(result, "observed", None)
    if source is None:
        return None
    return getattr(source, "observations", source)


def _x(o: Observation) -> Any:
    return common.month_ends(pd.PeriodIndex([o.month_text], freq="M"))[0]


def _visible(
    observations: Sequence[Observation], series: str, months: Sequence[str] | None
) -> list[Observation]:
    if months:
        first, last = months[0], months[-1]
        return [o for o in observations if o.theater == series and first <= o.month_text <= last]
    return [o for o in observations if o.theater == series]


def observed_top(
    observations: Sequence[Observation], series: str, months: Sequence[str] | None = None
) -> float:
    """The highest value the observations of ``series`` reach on a chart [troops]."""
    top = 0.0
    for o in _visible(observations, series, months):
        if o.kind == "at least":
            assert o.low is not None
            top = max(top, o.low * 1.15)
        else:
            top = max(top, o.high if o.high is not None else 0.0)
    return top


def draw_observations(
    ax: Axes, observations: Sequence[Observation], series: str, months: Sequence[str] | None = None
) -> None:
    """Draw the observations of ``series`` (a theater or site key) on ``ax``, whose
    y-limits should already be final (arrows are sized from them).

    ``months`` (``YYYY-MM``, first and last) limits them to the chart's months.
    """
    lo_lim, hi_lim = ax.get_ylim()
    arrow = 0.09 * (hi_lim - lo_lim)
    for o in _visible(observations, series, months):
        x = _x(o)
        kind = o.kind
        if kind == "point":
            assert o.low is not None
            ax.plot(
                [x],
                [o.low],
                ls="none",
                marker="o",
                ms=8.5,
                mfc=COLOR,
                mec=EDGE,
                mew=1.4,
                zorder=9,
                label="_nolegend_",
            )
        elif kind == "range":
            assert o.low is not None and o.high is not None
            ax.plot(
                [x, x],
                [o.low, o.high],
                color=COLOR,
                lw=3,
                solid_capstyle="butt",
                zorder=9,
                label="_nolegend_",
            )
            for y in (o.low, o.high):
                ax.plot(
                    [x],
                    [y],
                    ls="none",
                    marker="_",
                    ms=13,
                    mew=3,
                    color=COLOR,
                    zorder=9,
                    label="_nolegend_",
                )
        else:
            bound = o.high if kind == "at most" else o.low
            assert bound is not None
            head = max(bound - arrow, lo_lim) if kind == "at most" else bound + arrow
            ax.plot(
                [x],
                [bound],
                ls="none",
                marker="_",
                ms=15,
                mew=3,
                color=COLOR,
                zorder=9,
                label="_nolegend_",
            )
            if head != bound:
                ax.annotate(
                    "",
                    xy=(x, head),
                    xytext=(x, bound),
                    zorder=9,
                    arrowprops={
                        "arrowstyle": "-|>,head_length=0.5,head_width=0.3",
                        "color": COLOR,
                        "lw": 2.4,
                        "shrinkA": 0,
                        "shrinkB": 0,
                    },
                )


def legend_handles(kinds: Sequence[str]) -> tuple[list[Any], list[str]]:
    """Legend entries for the kinds of observation drawn."""
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    labels: list[str] = []
    for kind in ("point", "range", "at most", "at least"):
        if kind not in kinds:
            continue
        if kind == "point":
            h = Line2D([], [], ls="none", marker="o", ms=8.5, mfc=COLOR, mec=EDGE, mew=1.4)
        elif kind == "range":
            h = Line2D([], [], ls="none", marker="|", ms=16, mew=3, color=COLOR)
        else:
            h = Line2D(
                [], [], ls="none", marker="v" if kind == "at most" else "^", ms=9, color=COLOR
            )
        handles.append(h)
        labels.append(KIND_LABELS[kind])
    return handles, labels


def observation_kinds(
    observations: Sequence[Observation], series: Sequence[str], months: Sequence[str] | None
) -> list[str]:
    out = []
    for o in observations:
        if o.theater in series and (not months or months[0] <= o.month_text <= months[-1]):
            out.append(o.kind)
    return out


def add_to_panel(
    ax: Axes,
    result: Result,
    series: str,
    observed: Any = None,
    *,
    data_top: float,
    legend: Sequence[str] | None = None,
) -> None:
    """Set an envelope panel's y-limit (from ``data_top``, its highest projected level,
    and the observations) and draw the observations of ``series`` on it; with
    ``legend`` (the series of every panel), add their legend entries to ``ax``."""
    obs = observations_of(result, observed)
    plan = next(iter(result.plans.values()))
    months = plan.months
    top = max(data_top, observed_top(obs.items, series, months) if obs is not None else 0.0)
    ax.set_ylim(0, max(top * 1.12, 10))
    if obs is None:
        return
    draw_observations(ax, obs.items, series, months)
    if legend is not None:
        handles, labels = legend_handles(observation_kinds(obs.items, legend, months))
        for h, label in zip(handles, labels, strict=True):
            h.set_label(label)
            ax.add_line(h)


def add_to_fan(
    axes: Sequence[Axes],
    result: Result,
    series: Sequence[str],
    variants: Sequence[str],
    observed: Any = None,
) -> Sequence[Axes]:
    """Draw the observations on a fan chart's panels (theater-major, one per variant),
    raise each panel's y-limit to show them, and add a legend for them."""
    obs = observations_of(result, observed)
    if obs is None or not len(obs):
        return axes
    plan = next(iter(result.plans.values()))
    months = plan.months
    kinds = observation_kinds(obs.items, series, months)
    if not kinds:
        return axes
    k = len(variants)
    for t, name in enumerate(series):
        block = axes[t * k : (t + 1) * k]
        top = observed_top(obs.items, name, months)
        for a in block:
            lo, hi = a.get_ylim()
            if top * 1.1 > hi:
                a.set_ylim(lo, top * 1.12)
        for a in block:
            draw_observations(a, obs.items, name, months)
    handles, labels = legend_handles(kinds)
    fig: Any = axes[0].figure
    if len(axes) == k * len(series) and fig is not None and fig.legends:
        # beside the fan's own legend (which sits 1.1 in below the top, left of 0.7)
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.705, 1 - 1.1 / fig.get_figheight()),
            fontsize=10.5,
            frameon=False,
            title="observed (drawn at the end of its month)",
            title_fontsize=10.5,
            alignment="left",
            ncol=2 if len(handles) > 2 else 1,
            columnspacing=1.0,
            handlelength=1.5,
        )
    else:
        axes[0].legend(handles, labels, loc="upper right", fontsize=9, frameon=False)
    return axes


@common.plain_text
def mark_conditioned(axes: Sequence[Axes], cond: Result, assessment: Assessment) -> None:
    """Label a conditioned fan: the title says so, each panel gives the share kept."""
    c = assessment.conditioned
    if c is None:
        return
    fig = axes[0].figure
    for text in fig.texts:
        s = text.get_text()
        if s.endswith(": range of outcomes"):
            title = s.removesuffix(": range of outcomes") + ": conditioned on the observations"
            text.set_text(title)
            text.set_fontsize(title_size(title))  # the fan is common.WIDTH_IN wide
        elif s.startswith("Troops at the end of each month across"):
            n_obs = int(
                (
                    assessment.table[assessment.table.variant == cond.variants[0]].status
                    == "scored"
                ).sum()
            )
            text.set_text(
                f"Only the draws whose level is within {assessment.tolerance} of every one of "
                f"the {n_obs} observations in range (of {c.draws:,} draws per variant); "
                "the share kept is in each panel."
            )
    n_series = max(len(axes) // max(len(cond.variants), 1), 1)
    for t in range(n_series):
        for v, a in zip(
            cond.variants, axes[t * len(cond.variants) : (t + 1) * len(cond.variants)], strict=False
        ):
            kept = c.kept[v]
            # two short lines in the lower-left corner, which a drawdown leaves empty;
            # one long line would cover the bands of a narrow panel
            a.annotate(
                f"kept {100 * kept / c.draws:.1f} % of draws\n({kept:,} of {c.draws:,})",
                (0.01, 0.03),
                xycoords="axes fraction",
                fontsize=9.5,
                linespacing=1.2,
                color="#7a1f1f",
                fontweight="bold",
                zorder=10,
                bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    if c.empty:
        fig.text(
            0.98,
            0.006,
            "No draw of " + ", ".join(c.empty) + " fits every observation; left out.",
            ha="right",
            va="bottom",
            fontsize=10,
            color="#7a1f1f",
        )


# ---------------------------------------------------------------- the backtest chart
