"""The paired-comparison chart: the fan of B − A and the chance that B exceeds A."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis.compare import Comparison, uncompared
from sim.months import format_month, spell_month
from sim.plotting import common
from sim.plotting.fan import (
    deadline_handle,
    deadline_marks,
    draw_bands,
    draw_median_and_central,
    legend_handles,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes


MORE_COLOR, LESS_COLOR = "#1b6ca8", "#d1495b"
FAN_HEIGHT, PROB_HEIGHT = 3.0, 1.15  # [in] of one theater's two panels
GAP_HEIGHT = 0.3  # [in] of the empty row between two theaters' panels


HEADER_HEIGHT = 1.75  # [in] title, subtitle and legend


def _layout(names: list[str]) -> tuple[Any, list[Axes]]:
    """A figure with a header (title, subtitle, legend) above, per theater, the fan
    and its probability panel; the panels use the constrained layout, so matplotlib
    places their titles, ticks and the footnote."""
    height = max(
        common.HEIGHT_IN, HEADER_HEIGHT + 1.2 + len(names) * 5.2 + (len(names) - 1) * GAP_HEIGHT
    )
    fig = common.pyplot().figure(
        figsize=(common.WIDTH_IN, height), dpi=common.DPI, layout="constrained"
    )
    header, body = fig.subfigures(2, 1, height_ratios=[HEADER_HEIGHT, height - HEADER_HEIGHT])
    # between one theater's probability panel and the next theater's name, an empty row
    # (constrained layout alone left the name against the panel above)
    mosaic: list[list[str]] = []
    ratios: list[float] = []
    for i in range(len(names)):
        if i:
            mosaic.append(["."])
            ratios.append(GAP_HEIGHT)
        mosaic += [[f"fan{i}"], [f"prob{i}"]]
        ratios += [FAN_HEIGHT, PROB_HEIGHT]
    panels = body.subplot_mosaic(mosaic, height_ratios=ratios, sharex=True)
    fig.get_layout_engine().set(h_pad=0.1)
    return fig, [panels[k[0]] for k in mosaic if k[0] != "."]


@common.plain_text
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
        Per theater, the fan of ``B − A`` [troops] against months (the percentile
        bands of ``cmp.table``), then, in a new figure or when two axes per theater
        are given, ``p_b_greater`` and ``p_b_less`` (shares of draws, drawn as percent).

    Raises
    ------
    TypeError
        For data that is not a Comparison.
    ValueError
        For a theater the comparison does not hold, the wrong number of axes, or
        axes a chart of months and troops cannot be drawn in.
    """
    common.expect(cmp, Comparison, "plot_compare", "sim.compare")
    names = common.names_given(theaters) or cmp.theaters  # theaters="iraq": not its letters
    have = list(dict.fromkeys(cmp.table.theater))
    for name in names:
        if name not in have:
            raise ValueError(f"unknown theater {name!r}: expected one of {', '.join(have)}")
    fig = None
    crowded = None
    if ax is None:  # a new figure: at most common.MAX_THEATERS theaters, and a note
        names, crowded = common.theater_selection(
            names,
            "compare.csv has every theater; choose with plot_compare(cmp, theaters=[...]) "
            "in Python",
            chart="comparison",
        )
        # a theater where no draw differs says so in a line of the foot, not in panels
        # of flat zeros (half the chart said nothing), while another theater differs
        # (theaters named in the call are drawn as asked)
        alike = [tid for tid in names if _no_difference(cmp, tid)] if theaters is None else []
        if alike and len(alike) < len(names):
            names = [tid for tid in names if tid not in alike]
            line = (
                f"No difference in any of the {cmp.draws:,} draws, not drawn: "
                + ", ".join(common.theater_title(cmp, t) for t in alike)  # type: ignore[arg-type]
                + "."
            )
            crowded = f"{crowded}\n{line}" if crowded else line
        fig, axes = _layout(names)
    else:
        axes = common.check_given(ax)
        if len(axes) not in (len(names), 2 * len(names)):
            raise ValueError(
                f"expected {len(names)} axes (a fan per theater: "
                f"{', '.join(names)}) or {2 * len(names)} (a fan and a "
                f"probability panel per theater), found {len(axes)}"
            )
    step = len(axes) // len(names)
    for i, tid in enumerate(names):
        rows = cmp.table[cmp.table.theater == tid].sort_values("month")
        _fan_panel(cmp, axes[i * step], tid, rows, titled=fig is not None)
        if step == 2:
            axes[i * step].tick_params(labelbottom=True)
            _probability_panel(cmp, axes[i * step + 1], tid, rows)
    if fig is not None:
        _decorate_compare(cmp, fig, axes[0], crowded)
    else:  # the legend is the caller's: ax.legend() lists the bands, lines and deadlines
        axes[0].add_line(deadline_handle(common.DEADLINE_KEY))
    return axes


def _fan_panel(cmp: Comparison, fan: Axes, tid: str, rows: pd.DataFrame, *, titled: bool) -> None:
    """The bands of ``B − A`` for one theater, its median and the central runs."""
    x = common.month_ends(rows.month)
    draw_bands(fan, x, rows)
    fan.axhline(0, color="#111111", lw=1.2, zorder=3)
    cen = cmp.central[cmp.central.theater == tid].sort_values("month")
    draw_median_and_central(
        fan,
        x,
        rows.p50,
        common.month_ends(cen.month),
        cen.difference,
        "central runs",
        "median difference, month by month",
    )
    title = common.theater_title(cmp, tid)  # type: ignore[arg-type]
    common.style_axes(fan, title if titled else f"{title}: {cmp.b} − {cmp.a}")
    fan.set_ylabel(f"troops, {cmp.b}\nminus {cmp.a}", fontsize=common.pt(11))
    common.troops_axis(fan.yaxis, sign=True)
    low = min(float(rows.p05.min()), float(cen.difference.min()), 0.0)
    high = max(float(rows.p95.max()), float(cen.difference.max()), 0.0)
    if not common.own_figure():
        _fitted_notes(cmp, tid, fan, low, high)
        return
    span = high - low
    if span == 0:
        fan.set_ylim(-100, 100)
        common.panel_note(
            fan,
            _flat_note(cmp, tid, " "),
            y=0.62,
            size=common.pt(13),
        )
    else:
        # room above and below zero for the two labels, whichever side is empty
        fan.set_ylim(low - 0.14 * span, high + 0.22 * span)
    _side_notes(fan, cmp.b, dx=8, top=-6, bottom=6, size=common.pt(10))
    _compare_deadlines(cmp, tid, fan, label=True)


def _side_notes(fan: Axes, b: str, *, dx: float, top: float, bottom: float, size: float) -> None:
    """ "above 0: more troops under B" at the top left of ``fan``, "below 0: fewer …" at
    its foot, offset ``dx`` right and ``top``/``bottom`` up [pt]."""
    for text, y, va, dy in (
        ("above 0: more", 1, "top", top),
        ("below 0: fewer", 0, "bottom", bottom),
    ):
        fan.annotate(
            f"{text} troops under {b}",
            (0, y),
            xycoords="axes fraction",
            xytext=(dx, dy),
            textcoords="offset points",
            va=va,
            fontsize=size,
            color="#333333",
        )


def _fitted_notes(cmp: Comparison, tid: str, fan: Axes, low: float, high: float) -> None:
    """Into axes given, which may be small: the deadline labels first, then the
    above/below-zero notes under them, with room kept for both in the y-limits (from
    the axes' height as laid out now)."""
    depth = _compare_deadlines(cmp, tid, fan, label=True)
    size = common.pt(10)
    fig = fan.get_figure(root=True)
    assert fig is not None
    # the height drawn (get_position() is a share of the subfigure, if any)
    height_pt = max(fan.bbox.height / fig.dpi * 72, 1.0)
    line = size * 1.2 + 8
    top, bottom = min((depth + line) / height_pt, 0.4), min(line / height_pt, 0.3)
    span = high - low
    if span == 0:
        low, high, span = -50.0, 50.0, 100.0
        common.panel_note(  # just above the zero line, in the middle
            fan,
            _flat_note(cmp, tid, "\n"),
            y=0.54,
            size=common.pt(13),
            va="bottom",
        )
    total = span / (1 - top - bottom)
    fan.set_ylim(low - bottom * total, high + top * total)
    _side_notes(fan, cmp.b, dx=6, top=-4 - depth, bottom=4, size=size)


def _probability_panel(cmp: Comparison, prob: Axes, tid: str, rows: pd.DataFrame) -> None:
    """The share of draws with more, and with fewer, troops under B than under A."""
    from matplotlib.ticker import PercentFormatter

    x = common.month_ends(rows.month)
    more, less = rows.p_b_greater.to_numpy(float), rows.p_b_less.to_numpy(float)
    prob.fill_between(x, 0, more, color=MORE_COLOR, alpha=0.25, lw=0)
    prob.plot(x, more, color=MORE_COLOR, lw=2, label=f"P(B > A): more troops under {cmp.b}")
    prob.plot(
        x,
        less,
        color=LESS_COLOR,
        lw=2,
        ls=(0, (4, 2)),
        label=f"P(B < A): fewer troops under {cmp.b}",
    )
    common.style_axes(prob, "")
    prob.set_ylim(-0.03, 1.08)
    prob.set_yticks([0, 0.5, 1])
    prob.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0, symbol=" %"))
    prob.set_ylabel("share of\ndraws", fontsize=common.pt(11))
    if not common.own_figure():  # into axes given, the legend and title are the caller's
        _compare_deadlines(cmp, tid, prob, label=False)
        return
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


def _compare_deadlines(cmp: Comparison, tid: str, ax: Axes, *, label: bool) -> float:
    """Dotted verticals at either variant's deadlines for ``tid``, each before any delay
    (:func:`sim.plotting.common.panel_deadlines`); how far down their labels reach [pt]."""
    months = {
        plan.start + month
        for plan in cmp.plans.values()
        for month in common.panel_deadlines(plan, tid)
    }
    periods = [pd.Period(format_month(o), freq="M") for o in sorted(months)]
    # one line: the legend names the dotted verticals, and a run of close deadlines
    # then stacks half as deep over the data
    marks = [(p, spell_month(str(p)) if label else "") for p in periods]
    return deadline_marks(ax, marks, len(cmp.table.month.unique()), 10)


def _flat_note(cmp: Comparison, tid: str, sep: str) -> str:
    """What a panel of theater ``tid`` says where its bands are flat at 0: no draw differs,
    or none from the 5th to the 95th percentile (a few may); ``sep`` between its two
    halves (a space, or a line break in a small panel)."""
    if _no_difference(cmp, tid):
        return f"no difference in any{sep}of the {cmp.draws:,} draws"
    return f"no difference from the 5th{sep}to the 95th percentile (min and max: compare.csv)"


def _no_difference(cmp: Comparison, tid: str) -> bool:
    """Whether no draw's level in theater ``tid`` differs between the two variants, in
    any month (its least and greatest difference 0), nor their central runs'."""
    rows = cmp.table[cmp.table.theater == tid]
    cen = cmp.central[cmp.central.theater == tid]
    return bool(
        len(rows)
        and rows["min"].min() == 0
        and rows["max"].max() == 0
        and (cen.difference == 0).all()
    )


def _decorate_compare(cmp: Comparison, fig: Any, first: Axes, crowded: str | None) -> None:
    """Title, subtitle and legend in the header; the footnote below the panels."""
    header, body = fig.subfigs
    handles, labels = legend_handles(first)
    labels = [lab.replace("of draws", "of paired draws") for lab in labels]
    labels[-1] = common.DEADLINE_KEY
    title = f"{cmp.scenario.doc.title}: {cmp.b} against {cmp.a}"
    said = cmp.scenario.run_with(60)
    if said:  # (values set on both may leave their names' difference behind)
        title += f", both {said}"
    header.text(0.02, 0.86, title, fontsize=common.title_size(title), fontweight="bold")
    header.text(
        0.02,
        0.66,
        f"Troops under {cmp.b} (B) minus troops under {cmp.a} (A) in the same draw, at the "
        f"end of each month, over {cmp.draws:,} paired draw{'' if cmp.draws == 1 else 's'} "
        "of the uncertain inputs.",
        fontsize=12.5,
        color="#333333",
    )
    header.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.015, 0.0),
        ncol=3,
        fontsize=11,
        frameon=False,
        handlelength=2.6,
        columnspacing=1.8,
    )
    note = common.footnote(cmp)  # type: ignore[arg-type]
    note += (
        f"\nPaired ensemble of {cmp.draws:,} draws, seed {cmp.seed}: both variants see the "
        "same draws of every input they share (common random numbers). Percentiles are "
        "exact over the draws."
    )
    left = uncompared(cmp.plans[cmp.a], cmp.plans[cmp.b], cmp.a, cmp.b)
    if left:
        note += f"\nLeft out, B − A needing both: {'; '.join(left)}."
    if crowded:
        note += "\n" + crowded
    body.supxlabel(note, x=0.02, ha="left", fontsize=9.5, color="#444444", linespacing=1.3)
