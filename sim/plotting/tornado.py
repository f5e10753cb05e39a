"""The tornado chart: how far each uncertain input moves each outcome.

A grid of panels, one row per outcome (the chance of meeting each milestone,
then each theater's mean level at each calendar deadline) and a panel per variant,
four to a line; variants whose panels of an outcome would be drawn alike share one,
titled with all their names (the default scenario's eight variants draw each of
its six outcomes in three or four panels, not eight). In each panel an input is a
bar from the outcome over the draws with that input in its lowest tenth (a blue dot) to the outcome
over its highest tenth (an orange dot); the inputs are sorted by the width of
that swing, the widest on top, as in the tornado charts of schedule-risk
analysis. A swing within sampling noise (column ``within_noise``: Holm's test at
5 % over all the inputs of the variant and outcome) is drawn pale with hollow dots.
Outcomes that no input moves in any variant shown are left out (the CSV has them).
A crowded chart draws at most :data:`MAX_OUTCOMES` outcomes (the first, in the
table's order) and the :data:`MAX_BARS` widest inputs of each, and says so on the
chart and in a :class:`~sim.plotting.common.CrowdedChart` warning: a bar per input
and outcome made 10 theaters with four uncertain inputs each a picture 80,000
pixels tall.
With ``method="sobol"`` the bars are Sobol indices instead: the total index (light)
with the first-order index (dark) inside it, each as estimated (below 0 or above 1
when sampling error puts it there) with its 95 % confidence half-width as a whisker;
a row whose outcome does not vary in a variant says so.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.sensitivity import Sensitivity, noise_of
from sim.months import spell_date
from sim.plotting import common
from sim.plotting.labels import input_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

LOW_COLOR, HIGH_COLOR, BAR_COLOR = "#1b6ca8", "#e07b00", "#c9ced6"
NOISE_BAR_COLOR = "#eceef1"  # a swing within sampling noise
FIRST_COLOR, TOTAL_COLOR = "#1b6ca8", "#a9c6e0"
WHISKER_COLOR = "#333333"  # a Sobol index's 95 % confidence half-width
MAX_COLUMNS = 4
TOP_IN, BOTTOM_IN, LABEL_IN, RIGHT_IN, GAP_IN = 2.05, 1.05, 4.3, 0.45, 0.45
HEAD_IN, BAR_IN, FOOT_IN, BLOCK_IN = 0.62, 0.46, 0.5, 0.35
NOTE_IN = 0.4  # the room a crowded chart's note takes under the subtitle
#: the room of an outcome's heading above its first line of panels (a second line of
#: the outcome's panels has none), and of each further line of a panel's title
OUTCOME_IN, TITLE_LINE_IN = 0.26, 0.19
PANEL_TITLE_PT = 11
#: outcomes (rows of panels) one tornado chart draws; the CSV has every one
MAX_OUTCOMES = 12
#: inputs (bars) one panel draws, the widest; the CSV has every one
MAX_BARS = 10


#: the gid of a panel's line at the chance of meeting over all draws
OVERALL_GID = "overall"


def _outcome_rows(sens: Sensitivity, variants: list[str]) -> list[str]:
    """The outcomes drawn: p_met and mean levels (mean levels only for tenths) that
    some input moves in some variant shown, in the table's order."""
    t = sens.table[sens.table.variant.isin(variants)]
    if sens.method == "sobol":
        moved = t.groupby("outcome", sort=False).total.apply(lambda s: s.notna().any())
    else:
        kinds = t.outcome.str.startswith(("p_met ", "mean level "))
        t = t[kinds]
        swing = pd.to_numeric(t.swing, errors="coerce").fillna(0)
        moved = swing.groupby(t.outcome, sort=False).max() > 0
    return [str(o) for o, keep in moved.items() if keep]


def _title_of(sens: Sensitivity, outcome: str) -> str:
    doc = sens.scenario.doc
    if outcome.startswith(("p_met ", "met ")):
        mid = outcome.split(" ", 1)[1]
        for v in sens.variants:
            ms = sens.scenario.resolved(v).milestones.get(mid)
            if ms is not None:
                dl = ms.deadline
                if isinstance(dl, str):
                    when = f"by {spell_date(dl)}"  # (Sep 2025, as the other charts spell it)
                elif hasattr(dl, "after_announcement"):
                    when = f"{dl.after_announcement} months after the announcement"
                else:
                    when = f"{dl.months} months after {dl.after}"
                return f"Chance of meeting {mid} ({when})"
        return f"Chance of meeting {mid}"
    words = outcome.split(" ")
    tid, month = words[-2], words[-1]
    theater = doc.theaters[tid].name if tid in doc.theaters and doc.theaters[tid].name else tid
    lead = "Mean troops" if outcome.startswith("mean ") else "Troops"
    return f"{lead} in {theater} at the end of {spell_date(month)}"


def _inputs(sens: Sensitivity, variants: list[str], outcome: str) -> list[str]:
    """The inputs of a row, the widest swing (or total index) in any column first."""
    t = sens.table[(sens.table.outcome == outcome) & sens.table.variant.isin(variants)]
    size = pd.to_numeric(t.total if sens.method == "sobol" else t.swing, errors="coerce")
    widest = size.fillna(0).groupby(t.input, sort=False).max()
    order = {p: i for i, p in enumerate(dict.fromkeys(t.input))}
    return sorted(widest.index, key=lambda p: (-widest[p], order[p]))


def _label(sens: Sensitivity, path: str) -> str:
    for v in sens.variants:
        for s in sens.inputs.get(v, []):
            if s.path == path:
                return input_label(sens.scenario.resolved(v), path, s.quantity)
    return path


def _fmt(value: float, share: bool) -> str:
    return f"{100 * value:.0f} %" if share else f"{value:,.0f}"


@common.plain_text
def plot_tornado(sens: Sensitivity, *, variants: Sequence[str] | None = None) -> list[Axes]:
    """The tornado chart of ``sens`` (or its Sobol indices); returns the axes.

    Parameters
    ----------
    sens : Sensitivity
        From :func:`sim.analysis.sensitivity.sensitivity`.
    variants : sequence of str, optional
        The variants to draw (default: all of ``sens``'s), four panels to a line.

    Returns
    -------
    list of matplotlib.axes.Axes
        One per drawn outcome and group of variants it draws alike, outcome by
        outcome, each panel's title naming its variants.

    Raises
    ------
    TypeError
        For data that is not a Sensitivity.
    ValueError
        For an unknown variant, or when no input moves any outcome.
    """
    common.expect(sens, Sensitivity, "plot_tornado", "sim.sensitivity")
    names = common.names_given(variants) if variants is not None else list(sens.variants)
    unknown = [v for v in names if v not in sens.variants]
    if unknown or not names:
        raise ValueError(f"expected variants among {', '.join(sens.variants)}, found {unknown}")
    rows = _outcome_rows(sens, names)
    if not rows:
        raise ValueError("expected an outcome that some input moves; every swing is 0")
    plt = common.pyplot()
    every = {o: _inputs(sens, names, o) for o in rows}
    note = _crowded(sens, len(rows), max(len(i) for i in every.values()))
    rows = rows[:MAX_OUTCOMES]
    inputs = {o: every[o][:MAX_BARS] for o in rows}
    # (variants an outcome's panel would draw alike share one panel, named for them all:
    # the default scenario's eight drew Syria's two outcomes eight times over)
    groups = {o: _alike(sens, names, o, inputs[o]) for o in rows}
    cols = min(MAX_COLUMNS, max(len(g) for g in groups.values()))
    panel_w = (common.WIDTH_IN - LABEL_IN - RIGHT_IN - (cols - 1) * GAP_IN) / cols
    wrap = max(12, int(panel_w * 72 / (PANEL_TITLE_PT * 0.56)))  # (characters a line holds)
    lines: list[tuple[str, list[list[str]], float, float]] = []  # (outcome, panels, head, h)
    for o in rows:
        bars = BAR_IN * max(1, len(inputs[o])) + FOOT_IN
        for r in range(0, len(groups[o]), cols):
            line = groups[o][r : r + cols]
            most = max(len(_panel_title(g, names, wrap).splitlines()) for g in line)
            head = (HEAD_IN if r == 0 else HEAD_IN - OUTCOME_IN) + (most - 1) * TITLE_LINE_IN
            lines.append((o, line, head, head + bars))
    body = sum(h for *_, h in lines) + BLOCK_IN
    top = TOP_IN + (NOTE_IN if note is not None else 0.0)
    height = max(common.HEIGHT_IN * 0.6, top + body + BOTTOM_IN)
    width = common.WIDTH_IN
    fig = plt.figure(figsize=(width, height), dpi=common.DPI)
    axes: list[Axes] = []
    shared: dict[str, list[Axes]] = {}
    y = height - top - BLOCK_IN
    for outcome, line, head, h in lines:
        y -= h
        panel_h = h - head - FOOT_IN
        first_line = outcome not in shared
        row_axes = shared.setdefault(outcome, [])
        for c, group in enumerate(line):
            ax = fig.add_axes(
                (
                    (LABEL_IN + c * (panel_w + GAP_IN)) / width,
                    (y + FOOT_IN) / height,
                    panel_w / width,
                    panel_h / height,
                ),
                sharex=row_axes[0] if row_axes else None,
            )
            row_axes.append(ax)
            _panel(sens, ax, group[0], outcome, inputs[outcome], first=c == 0)
            ax.set_title(_panel_title(group, names, wrap), loc="left", fontsize=PANEL_TITLE_PT)
            ax.title.set_color("#333333")
            axes.append(ax)
        if first_line:
            fig.text(
                LABEL_IN / width,
                (y + h - 0.12) / height,
                _title_of(sens, outcome),
                fontsize=13,
                fontweight="bold",
                va="top",
            )
    for outcome, row_axes in shared.items():
        _shared_limits(sens, row_axes, outcome)
    _decorate(fig, sens, names, note)
    if note is not None:
        common.warn_crowded("tornado", note)
    return axes


def _alike(sens: Sensitivity, names: list[str], outcome: str, inputs: list[str]) -> list[list[str]]:
    """``names`` in groups whose panels of ``outcome`` would be drawn alike (the same
    inputs fixed, the same bars to the last digit, the same line over all draws), each
    group in the order of its first variant."""
    t = sens.table[sens.table.outcome == outcome]
    columns = (
        ("total", "first_order", "total_conf", "first_order_conf")
        if sens.method == "sobol"
        else ("low", "high", "within_noise")
    )
    groups: dict[Any, list[str]] = {}
    for v in names:
        rows = t[t.variant == v].set_index("input")
        drawn = tuple(
            None
            if p not in rows.index
            else tuple(None if pd.isna(rows.at[p, c]) else rows.at[p, c] for c in columns)
            for p in inputs
        )
        groups.setdefault((drawn, sens.overall.get((v, outcome))), []).append(v)
    return list(groups.values())


def _panel_title(group: list[str], names: list[str], wrap: int) -> str:
    """A panel's title: the variants it draws, wrapped to its width; "every variant"
    where it draws all those shown (more than one)."""
    if len(group) == len(names) > 1:
        return f"every variant ({len(names)}: drawn alike)"
    return textwrap.fill(", ".join(group), wrap)


def _crowded(sens: Sensitivity, outcomes: int, most_inputs: int) -> str | None:
    """The note of a chart that leaves outcomes or inputs out (more than
    :data:`MAX_OUTCOMES` outcomes, or more than :data:`MAX_BARS` inputs in a row), or
    None when it draws them all."""
    left = []
    if outcomes > MAX_OUTCOMES:
        left.append(f"the first {MAX_OUTCOMES} of {outcomes} outcomes")
    if most_inputs > MAX_BARS:
        what = "total index" if sens.method == "sobol" else "swing"
        left.append(f"the {MAX_BARS} inputs of widest {what} in each (of up to {most_inputs})")
    if not left:
        return None
    name = "sensitivity.csv" if sens.method == "tenths" else "sobol.csv"
    return f"This chart shows {' and '.join(left)}; {name} has every one."


def _panel(
    sens: Sensitivity, ax: Axes, variant: str, outcome: str, inputs: list[str], *, first: bool
) -> None:
    t = sens.table
    rows = t[(t.variant == variant) & (t.outcome == outcome)].set_index("input")
    share = outcome.startswith(("p_met ", "met "))
    ys = np.arange(len(inputs))[::-1].astype(float)
    for y, path in zip(ys, inputs, strict=True):
        if path not in rows.index:
            _row_note(ax, y, "fixed in this variant")
            continue
        r = rows.loc[path]
        if sens.method == "sobol":
            _sobol_bar(ax, y, r)
            continue
        low, high = float(r.low), float(r.high)
        # a swing sampling noise could make: a pale bar and hollow ends
        noise = bool(noise_of(r.within_noise))
        bar = NOISE_BAR_COLOR if noise else BAR_COLOR
        ax.plot([low, high], [y, y], color=bar, lw=9, solid_capstyle="butt", zorder=2)
        for value, color in ((low, LOW_COLOR), (high, HIGH_COLOR)):
            face = "white" if noise else color
            ax.plot([value], [y], "o", ms=8, mfc=face, mec=color, mew=1.6, zorder=3)
        left, right = (low, high) if low <= high else (high, low)
        left_color = LOW_COLOR if low <= high else HIGH_COLOR
        right_color = HIGH_COLOR if low <= high else LOW_COLOR
        if _fmt(low, share) == _fmt(high, share):  # one label for ends that read alike
            ax.annotate(
                _fmt(low, share),
                (right, y),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
                color="#555555",
            )
        else:
            ax.annotate(
                _fmt(left, share),
                (left, y),
                xytext=(-8, 0),
                textcoords="offset points",
                va="center",
                ha="right",
                fontsize=9,
                color=left_color,
            )
            ax.annotate(
                _fmt(right, share),
                (right, y),
                xytext=(8, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
                color=right_color,
            )
    overall = sens.overall.get((variant, outcome))
    if overall is not None:
        ax.axvline(overall, color="#333333", lw=1, ls=(0, (3, 2)), zorder=1, gid=OVERALL_GID)
    ax.set_ylim(-0.6, len(inputs) - 0.4)
    ax.set_yticks(ys, [textwrap.fill(_label(sens, p), 48) for p in inputs] if first else [])
    ax.tick_params(axis="y", length=0, labelsize=10)
    ax.tick_params(axis="x", labelsize=10)
    ax.grid(axis="x", which="both", color="#e4e4e4", lw=0.8, zorder=0)
    ax.spines[["top", "right", "left"]].set_visible(False)


#: the note of an input's row where the outcome does not vary (no Sobol index: 0/0);
#: short enough for a panel of a four-column grid
NO_INDEX = "same in every draw: no index"


def _row_note(ax: Axes, y: float, text: str) -> None:
    """A grey note across the middle of row ``y``, in place of its bars."""
    ax.text(
        0.5,
        y,
        text,
        transform=ax.get_yaxis_transform(),
        ha="center",
        va="center",
        fontsize=9,
        color="#888888",
    )


def _sobol_bar(ax: Axes, y: float, r: pd.Series) -> None:
    """One input's Sobol indices at row ``y``: the total index (light bar), the
    first-order index (dark bar) inside it, each with its 95 % confidence half-width
    as a whisker, both drawn as estimated (an estimate may fall below 0 or above 1 by
    sampling error; the whiskers show how far). An outcome that does not vary has no
    indices (0/0): the row says so."""
    total, first_order = r.total, r.first_order
    if pd.isna(total):
        _row_note(ax, y, NO_INDEX)
        return
    ax.barh(y, total, height=0.62, color=TOTAL_COLOR, zorder=2)
    ax.barh(y, first_order, height=0.3, color=FIRST_COLOR, zorder=3)
    for value, conf, dy in ((total, r.total_conf, 0.22), (first_order, r.first_order_conf, 0.0)):
        if pd.notna(conf) and conf > 0:
            ax.errorbar(
                value,
                y + dy,
                xerr=conf,
                fmt="none",
                ecolor=WHISKER_COLOR,
                elinewidth=1,
                capsize=2.5,
                zorder=4,
            )
    # (beyond both whiskers: the first-order one may reach past the total's)
    end = max(
        value + (conf if pd.notna(conf) and conf > 0 else 0.0)
        for value, conf in ((total, r.total_conf), (first_order, r.first_order_conf))
    )
    ax.annotate(
        f"{total:.2f}",
        (max(end, 0.0), y),
        xytext=(6, 0),
        textcoords="offset points",
        va="center",
        fontsize=9,
        color="#333333",
    )


def _shared_limits(sens: Sensitivity, axes: list[Axes], outcome: str) -> None:
    from matplotlib.ticker import FuncFormatter

    if sens.method == "sobol" or outcome.startswith(("p_met ", "met ")):
        axes[0].set_xlim(-0.22, 1.22)  # room for the value labels beside 0 % and 100 %
        if sens.method == "sobol":
            axes[0].set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
            axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}"))
        else:
            # labels at halves, grid lines at quarters: in four columns a panel is 2.5
            # inches, and "75 %" ran into "100 %"
            axes[0].set_xticks([0, 0.5, 1.0])
            axes[0].set_xticks([0.25, 0.75], minor=True)
            axes[0].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))
        return
    t = sens.table[sens.table.outcome == outcome]
    values = pd.to_numeric(pd.concat([t.low, t.high]), errors="coerce").dropna()
    lo, hi = float(values.min()), float(values.max())
    pad = max(1.0, (hi - lo) * 0.25)  # room for the value labels beside the ends
    axes[0].set_xlim(lo - pad, hi + pad)
    # troops are never negative: no tick below 0 (the room there is for labels)
    common.troops_axis(axes[0].xaxis, negative=False)


def _decorate(fig: Any, sens: Sensitivity, names: list[str], note: str | None = None) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    width, height = fig.get_figwidth(), fig.get_figheight()
    if sens.method == "sobol":
        title = "What drives the outcome: the share of its variance due to each input"
        sub = (
            f"Sobol indices from {sens.draws:,} base samples (seed {sens.seed}) through SALib: "
            "the total index (light bar) counts an input's share of the variance with every "
            "interaction, the first-order index (dark bar) its share alone, each with its 95 % "
            "confidence half-width (bootstrap; noise may carry an estimate past 1); inputs "
            "sorted by largest total index"
        )
        handles: list[Any] = [
            Patch(color=TOTAL_COLOR, label="total index"),
            Patch(color=FIRST_COLOR, label="first-order index"),
            Line2D(
                [],
                [],
                color=WHISKER_COLOR,
                lw=1,
                marker="|",
                ms=6,
                label="95 % confidence (bootstrap)",
            ),
        ]
    else:
        title = "What drives the outcome: each uncertain input in its lowest and highest tenth"
        sub = (
            f"From one ensemble of {sens.draws:,} draws (seed {sens.seed}). Each bar runs from "
            "the outcome over the tenth of draws with the lowest value of the input to that "
            "over the tenth with the highest; inputs sorted by their widest swing in any "
            "variant shown"
        )
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                ls="none",
                ms=8,
                color=LOW_COLOR,
                label="input in its lowest tenth",
            ),
            Line2D(
                [],
                [],
                marker="o",
                ls="none",
                ms=8,
                color=HIGH_COLOR,
                label="input in its highest tenth",
            ),
            Line2D(
                [],
                [],
                marker="o",
                ls="-",
                lw=9,
                ms=8,
                color=NOISE_BAR_COLOR,
                mfc="white",
                mec="#777777",
                label="within sampling noise: pale, dots hollow (Holm's test, 5 %, per outcome)",
            ),
        ]
        # (the chance over all draws is drawn only in a panel of a chance of meeting)
        if any(ln.get_gid() == OVERALL_GID for ax in fig.axes for ln in ax.get_lines()):
            handles.insert(
                2,
                Line2D(
                    [],
                    [],
                    color="#333333",
                    lw=1,
                    ls=(0, (3, 2)),
                    label="all draws (chance of meeting)",
                ),
            )
    fig.text(
        0.3 / width,
        1 - 0.3 / height,
        title,
        fontsize=common.title_size(title),
        fontweight="bold",
        va="top",
    )
    heading = sens.scenario.title
    said = sens.scenario.run_with(60)
    if said:  # (a variant named for a value of the file runs with these instead)
        heading += f", each variant {said}"
    fig.text(
        0.3 / width,
        1 - 0.85 / height,
        f"{heading}\n"
        + textwrap.fill(sub, 170)
        + ("" if note is None else "\n" + textwrap.fill(note, 170)),
        fontsize=11,
        color="#333333",
        va="top",
        linespacing=1.3,
    )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.3 / width, 1 - (1.55 + (NOTE_IN if note is not None else 0.0)) / height),
        ncol=len(handles),
        frameon=False,
        fontsize=11,
    )
    fig.text(
        0.3 / width,
        0.2 / height,
        common.footnote(_AsResult(sens, names)),  # type: ignore[arg-type]
        fontsize=9,
        color="#555555",
        va="bottom",
        linespacing=1.35,
    )


class _AsResult:
    """What :func:`sim.plotting.common.footnote` reads: the scenario and the variants."""

    def __init__(self, sens: Sensitivity, names: list[str]) -> None:
        self.scenario = sens.scenario
        self.variants = names
