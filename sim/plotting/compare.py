"""The paired-comparison chart: the fan of B − A and the chance that B exceeds A."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.compare import Comparison
from sim.months import format_month
from sim.plotting import common
from sim.plotting.fan import (
    deadline_marks,
    decorate,
    draw_bands,
    draw_median_and_central,
    legend_handles,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


TOP_IN, BOTTOM_IN, BLOCK_HEAD_IN = 1.75, 1.0, 0.5
FAN_IN, PROB_IN, GAP_IN, FOOT_IN = 3.0, 1.15, 0.2, 0.62
LEFT_IN, RIGHT_IN = 1.1, 0.4
MORE_COLOR, LESS_COLOR = "#1b6ca8", "#d1495b"


def _signed(v: float, _pos: Any = None) -> str:
    if v == 0:
        return "0"
    return f"{'+' if v > 0 else '−'}{abs(v):,.0f}"


def _layout(n: int, with_prob: bool) -> tuple[Any, list[Axes]]:
    plt = common.pyplot()
    block = BLOCK_HEAD_IN + FAN_IN + FOOT_IN + ((GAP_IN + PROB_IN + FOOT_IN) if with_prob else 0)
    body = n * block
    height = max(common.HEIGHT_IN, TOP_IN + body + BOTTOM_IN)
    grow = (height - TOP_IN - body - BOTTOM_IN) / n  # spare height goes to the fans
    width = common.WIDTH_IN
    fig = plt.figure(figsize=(width, height), dpi=common.DPI)
    axes: list[Axes] = []
    y = height - TOP_IN
    w = (width - LEFT_IN - RIGHT_IN) / width
    for _ in range(n):
        y -= BLOCK_HEAD_IN + FAN_IN + grow
        fan = fig.add_axes(
            (LEFT_IN / width, y / height, w, (FAN_IN + grow) / height),
            sharex=axes[0] if axes else None,
        )
        axes.append(fan)
        y -= FOOT_IN
        if with_prob:
            y -= GAP_IN + PROB_IN
            axes.append(
                fig.add_axes((LEFT_IN / width, y / height, w, PROB_IN / height), sharex=fan)
            )
            y -= FOOT_IN
    return fig, axes


def plot_compare(
    cmp: Comparison, ax: Any = None, theaters: Sequence[str] | None = None
) -> list[Axes]:
    """The fan of ``B − A`` per theater, with P(B > A) beneath; returns the axes.

    Parameters
    ----------
    cmp : Comparison
        From :func:`sim.compare`.
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per theater (the fan only), or two per theater (the fan, then
        the probability panel), theater by theater; a new 1600×1000 px (or
        taller) figure when omitted.
    theaters : sequence of str, optional
        Theaters to draw (default: every theater both variants have).

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    names = list(theaters) if theaters else cmp.theaters
    have = list(dict.fromkeys(cmp.table.theater))
    for name in names:
        if name not in have:
            raise ValueError(f"unknown theater {name!r}: expected one of {', '.join(have)}")
    fig = None
    if ax is None:
        fig, axes = _layout(len(names), True)
        with_prob = True
    else:
        axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) not in (len(names), 2 * len(names)):
            raise ValueError(
                f"expected {len(names)} axes (a fan per theater: "
                f"{', '.join(names)}) or {2 * len(names)} (a fan and a "
                f"probability panel per theater), found {len(axes)}"
            )
        with_prob = len(axes) == 2 * len(names)
    step_ = 2 if with_prob else 1
    t, c = cmp.table, cmp.central
    for i, tid in enumerate(names):
        fan = axes[i * step_]
        rows = t[t.theater == tid].sort_values("month")
        x = common.month_ends(rows.month)
        draw_bands(fan, x, rows)
        fan.axhline(0, color="#111111", lw=1.2, zorder=3)
        cen = c[c.theater == tid].sort_values("month")
        draw_median_and_central(
            fan, x, rows.p50, common.month_ends(cen.month), cen.difference, "central runs"
        )
        title = common.theater_title(cmp, tid)  # type: ignore[arg-type]
        common.style_axes(fan, title if fig is not None else f"{title}: {cmp.b} − {cmp.a}")
        fan.set_ylabel(f"troops, {cmp.b}\nminus {cmp.a}", fontsize=11)
        fan.yaxis.set_major_formatter(FuncFormatter(_signed))
        low = min(float(rows.p05.min()), float(cen.difference.min()), 0.0)
        high = max(float(rows.p95.max()), float(cen.difference.max()), 0.0)
        span = high - low
        if span == 0:
            fan.set_ylim(-100, 100)
            fan.text(
                0.5,
                0.62,
                f"no difference in any of the {cmp.draws:,} draws",
                transform=fan.transAxes,
                ha="center",
                va="center",
                fontsize=13,
                color="#333333",
            )
        else:
            # room above and below zero for the two labels, whichever side is empty
            fan.set_ylim(low - 0.14 * span, high + 0.22 * span)
        fan.annotate(
            f"above 0: more troops under {cmp.b}",
            (0, 1),
            xycoords="axes fraction",
            xytext=(8, -6),
            textcoords="offset points",
            va="top",
            fontsize=10,
            color="#333333",
        )
        fan.annotate(
            f"below 0: fewer troops under {cmp.b}",
            (0, 0),
            xycoords="axes fraction",
            xytext=(8, 6),
            textcoords="offset points",
            va="bottom",
            fontsize=10,
            color="#333333",
        )
        _compare_deadlines(cmp, tid, fan, label=True)
        if with_prob:
            fan.tick_params(labelbottom=True)
            prob = axes[i * step_ + 1]
            prob.fill_between(
                x,
                0,
                rows.p_b_greater.to_numpy(float),
                color=MORE_COLOR,
                alpha=0.25,
                lw=0,
                step=None,
            )
            prob.plot(
                x,
                rows.p_b_greater.to_numpy(float),
                color=MORE_COLOR,
                lw=2,
                label=f"P(B > A): more troops under {cmp.b}",
            )
            prob.plot(
                x,
                rows.p_b_less.to_numpy(float),
                color=LESS_COLOR,
                lw=2,
                ls=(0, (4, 2)),
                label=f"P(B < A): fewer troops under {cmp.b}",
            )
            common.style_axes(prob, "")
            prob.set_ylim(-0.03, 1.08)
            prob.set_yticks([0, 0.5, 1])
            prob.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            prob.set_ylabel("share of\ndraws", fontsize=11)
            prob.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=10,
                frameon=False,
                ncol=2,
                borderaxespad=0.1,
            )
            prob.set_title(
                f"How often {cmp.b} has more (or fewer) troops than {cmp.a}",
                loc="left",
                fontsize=11.5,
                pad=4,
            )
            _compare_deadlines(cmp, tid, prob, label=False)
    if fig is not None:
        _decorate_compare(cmp, fig, axes[0], legend_handles)
    else:
        handles, labels = legend_handles(axes[0])
        axes[0].legend(handles[:-1], labels[:-1], loc="best", fontsize=9, frameon=False)
    return axes


def _compare_deadlines(cmp: Comparison, tid: str, ax: Axes, *, label: bool) -> None:
    """Dotted verticals at either variant's calendar-month deadlines for ``tid``."""
    months: set[int] = set()
    for plan in cmp.plans.values():
        for m in plan.milestones:
            track = plan.tracks[m.track]
            if m.kind == "month" and (track.theater == tid or track.key == tid):
                months.add(plan.start + m.month)
    periods = [pd.Period(format_month(o), freq="M") for o in sorted(months)]
    # one line: the legend names the dotted verticals, and a run of close deadlines
    # then stacks half as deep over the data
    marks = [(p, p.strftime("%b %Y") if label else "") for p in periods]
    deadline_marks(ax, marks, len(cmp.table.month.unique()), 10)


def _decorate_compare(cmp: Comparison, fig: Any, first: Axes, handles_of: Any) -> None:

    handles, labels = handles_of(first)
    labels = [lab.replace("of draws", "of paired draws") for lab in labels]
    labels[-1] = "calendar deadline"
    note = common.footnote(cmp)  # type: ignore[arg-type]
    note += (
        f"\nPaired ensemble of {cmp.draws:,} draws, seed {cmp.seed}: both variants see the "
        "same draws of every input they share (common random numbers). Percentiles are "
        "exact over the draws."
    )
    decorate(
        fig,
        f"{cmp.scenario.doc.title}: {cmp.b} against {cmp.a}",
        f"Troops under {cmp.b} (B) minus troops under {cmp.a} (A) in the same draw, at the "
        f"end of each month, over {cmp.draws:,} paired draws of the uncertain inputs.",
        handles,
        labels,
        note,
    )
