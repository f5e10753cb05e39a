"""The sweep chart: the chance of meeting each deadline across the swept values.

One swept key: a panel per milestone, a line per variant, the key's values on
the x-axis. Two swept keys: a heat map per variant and milestone, each variant's
milestones in rows of at most :data:`HEAT_COLUMNS`, the first key across, the
second up, each cell labelled with its chance. Keys held at one value are named in
the subtitle.

A crowded chart draws at most :data:`MAX_HEAT_ROWS` rows of heat maps (the first
variants, and of more milestones than that holds, the first milestones) and says
so on the chart and in a :class:`~sim.plotting.common.CrowdedChart` warning;
sweep.csv has every value.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.sweep import Sweep
from sim.colors import legible, run_colors
from sim.months import spell_month
from sim.plotting import common
from sim.plotting.envelope import shared_stretches
from sim.plotting.labels import key_label, key_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes

TOP_IN, BOTTOM_IN, LEFT_IN, RIGHT_IN = 1.9, 1.05, 1.0, 0.4
HEAD_IN, FOOT_IN, GAP_IN = 0.55, 0.85, 0.6
HEAT_IN, BAR_IN = 2.6, 1.3
HEAT_GAP_IN = 1.0  # between heat maps side by side: room for the value ticks left of each
#: heat maps side by side: a variant's further milestones wrap onto the next row
HEAT_COLUMNS = 4
#: rows of heat maps one chart holds (about 4,300 px): more make a poster, not a chart
MAX_HEAT_ROWS = 10
NOTE_IN = 0.4  # the room a crowded chart's note takes under the subtitle
#: milestones one line chart holds (6 rows of 2 panels)
MAX_LINE_PANELS = 12
LABELS_IN = 2.4  # room right of a line panel for the variants' end labels
MAX_TICKS = 12
MAX_LABELLED = 16  # cells per side labelled with their value
CELL_LABEL_IN = 0.42  # the least width of a cell labelled with its value ("100 %")
CMAP = "viridis"


def _milestones(sw: Sweep) -> list[str]:
    names = [o for o in dict.fromkeys(sw.table.outcome) if o.startswith("p_met ")]
    return [o.removeprefix("p_met ") for o in names]


def _deadline(sw: Sweep, mid: str) -> str:
    """A milestone's id and deadline as the first variant that has it states it, or
    "deadline as swept" when the sweep sets the deadline (its points differ in it)."""
    own = f"milestones.{mid}"
    if any(k in (own, f"{own}.deadline") or k.startswith(f"{own}.deadline.") for k in sw.keys):
        return f"{mid}, deadline as swept"
    ms = next(
        (
            sw.scenario.resolved(v).milestones[mid]
            for v in sw.variants
            if mid in sw.scenario.resolved(v).milestones
        ),
        None,
    )
    if ms is None:
        return mid
    dl = ms.deadline
    if isinstance(dl, str):
        return f"{mid}, deadline {spell_month(dl)}"
    if hasattr(dl, "after_announcement"):
        return f"{mid}, {dl.after_announcement} months after the announcement"
    return f"{mid}, {dl.months} months after {dl.after}"


def _wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters, broken at spaces and after
    commas (``[30,25,15]`` reads ``[30, 25, 15]``), never inside a number or at a
    hyphen: a line may run longer than ``width`` rather than split a value."""
    spaced = re.sub(r",(?=\S)", ", ", text)
    return textwrap.fill(spaced, width, break_on_hyphens=False, break_long_words=False)


def _lower(text: str) -> str:
    """``text`` with its first letter in lower case (names further on keep theirs)."""
    return text[:1].lower() + text[1:]


def _ticks(count: int, most: int = MAX_TICKS) -> list[int]:
    step = max(1, math.ceil(count / most))
    return list(range(0, count, step))


def _axis_values(sw: Sweep, key: str) -> tuple[list[str], np.ndarray | None]:
    """The labels of a key's values and, when they are all numbers, the numbers."""
    i = sw.keys.index(key)
    labels = sw.labels[i]
    values = sw.values[i]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    return labels, (np.asarray(values, dtype=float) if numeric else None)


def _axis_title(sw: Sweep, key: str) -> str:
    unit = key_unit(key)
    text = key_label(sw.scenario.doc, key)
    return f"{text} [{unit}]" if unit in ("months", "troops") else text


def _held(sw: Sweep) -> str:
    held = [
        f"{k} = {lab[0]}"
        for k, v, lab in zip(sw.keys, sw.values, sw.labels, strict=True)
        if len(v) == 1
    ]
    return ("; held: " + ", ".join(held)) if held else ""


def _subtitle(sw: Sweep) -> str:
    if sw.draws:
        text = (
            f"Chance of meeting each deadline as first set, before any slip, over "
            f"{sw.draws:,} draws per point (seed {sw.seed}); each point uses the same random "
            "numbers, so neighbours differ only by the swept values"
        )
    else:
        text = "Whether each deadline is met in the central run (every input at its central value)"
    # (a variant named for a value of the key, on-time or slip-6, runs at every value
    # swept: its name no longer says its value; and a line between two points is not run)
    one = len(sw.swept) == 1
    return (
        text
        + _held(sw)
        + ". The swept values replace each variant's own"
        + ("; the lines join the values run, nothing between them is run." if one else ".")
    )


def _p_met(sw: Sweep, variant: str, mid: str) -> pd.DataFrame:
    t = sw.table
    return t[(t.variant == variant) & (t.outcome == f"p_met {mid}")]


@common.plain_text
def plot_sweep(sw: Sweep, *, variants: Sequence[str] | None = None) -> list[Axes]:
    """The sweep chart of ``sw``; returns its axes (a new figure).

    Parameters
    ----------
    sw : Sweep
        From :func:`sim.analysis.sweep.sweep`, with one or two keys that take
        more than one value.
    variants : sequence of str, optional
        The variants to draw (default: all of the sweep's).

    Returns
    -------
    list of matplotlib.axes.Axes
        One per milestone (one key), or per variant and milestone (two keys).

    Raises
    ------
    TypeError
        For data that is not a Sweep.
    ValueError
        For no or more than two swept keys, a scenario without milestones, or an
        unknown variant.
    """
    common.expect(sw, Sweep, "plot_sweep", "sim.sweep")
    swept = sw.swept
    if len(swept) not in (1, 2):
        raise ValueError(f"expected one or two keys taking more than one value, found {len(swept)}")
    milestones = _milestones(sw)
    if not milestones:
        raise ValueError("expected a scenario with milestones (the chart shows p_met)")
    names = common.names_given(variants) if variants is not None else list(sw.variants)
    unknown = [v for v in names if v not in sw.variants]
    if unknown or not names:
        raise ValueError(f"expected variants among {', '.join(sw.variants)}, found {unknown}")
    if len(swept) == 1:
        return _lines(sw, swept[0], milestones, names)
    return _heat(sw, swept[0], swept[1], milestones, names)


def _frame(
    rows: int, cols: int, panel_h: float, extra_right: float = 0.0, top: float = TOP_IN
) -> tuple[Any, Any]:
    plt = common.pyplot()
    body = rows * (HEAD_IN + panel_h + FOOT_IN)
    height = max(common.HEIGHT_IN, top + body + BOTTOM_IN)
    panel_h += (height - top - body - BOTTOM_IN) / rows
    fig = plt.figure(figsize=(common.WIDTH_IN, height), dpi=common.DPI)
    return fig, panel_h


def _title(fig: Any, sw: Sweep, text: str, note: str | None = None) -> None:
    fig.text(
        LEFT_IN / common.WIDTH_IN,
        1 - 0.3 / fig.get_figheight(),
        text,
        fontsize=common.title_size(text),
        fontweight="bold",
        va="top",
    )
    sub = textwrap.fill(_subtitle(sw), 150)
    if note is not None:
        sub += "\n" + textwrap.fill(note, 150)
    fig.text(
        LEFT_IN / common.WIDTH_IN,
        1 - 0.85 / fig.get_figheight(),
        f"{sw.scenario.title}\n{sub}",
        fontsize=11,
        color="#333333",
        va="top",
        linespacing=1.3,
    )
    foot = common.footnote(sw)  # type: ignore[arg-type]
    moving = _moving(sw)
    if sw.draws and moving:  # (its 0 % is no failure to meet its own, moved deadlines)
        foot += (
            f"\n{'Variant' if len(moving) == 1 else 'Variants'} {_and(moving)} "
            f"{'moves its' if len(moving) == 1 else 'move their'} deadlines with the "
            "announcement: shown against each deadline as first set, a later announcement "
            "reads 0 % though the moved deadline may be met."
        )
    fig.text(
        LEFT_IN / common.WIDTH_IN,
        0.2 / fig.get_figheight(),
        foot,
        fontsize=9,
        color="#555555",
        va="bottom",
        linespacing=1.35,
    )


def _moving(sw: Sweep) -> list[str]:
    """The variants of ``sw`` some of whose deadlines move with the announcement (in
    any point: a swept key may make them so)."""
    plans = {v: sw.scenario.plan(v) for v in sw.variants}
    return [v for v, p in plans.items() if any(m.slips for m in p.milestones)]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _percent_axis(ax: Axes, deterministic: bool) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.set_ylim(-0.04, 1.04)
    if deterministic:
        ax.set_yticks([0, 1], ["missed", "met"])
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))
    ax.grid(axis="y", color="#dddddd", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=11)


def _end_labels(ax: Axes, last: dict[str, float], colors: dict[str, str], draws: bool) -> None:
    """Name the variants right of the panel, level with the ends of their lines, from
    the top down without overlapping; lines ending together share a label, so a line
    hidden under another is still accounted for. The labels start beyond the panel's
    right edge, where its gridlines end, so no gridline runs into them."""
    groups: dict[float, list[str]] = {}
    for v, p in last.items():
        groups.setdefault(round(p, 4), []).append(v)
    lo, hi = ax.get_ylim()
    height_px = ax.get_window_extent().height or 300.0
    line = (hi - lo) * 13.0 / height_px  # one line of 9.5 pt text, in data units
    ceiling = hi
    for p in sorted(groups, reverse=True):
        names = groups[p]
        lines = [", ".join(names[i : i + 2]) for i in range(0, len(names), 2)]
        y = min(p + line / 2, ceiling)
        ceiling = y - line * len(lines) - line * 0.4
        value = f"{100 * p:.0f} %" if draws else ("met" if p == 1 else "missed")
        ax.annotate(
            f"{value}: " + ",\n".join(lines),
            (1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(5, 0),
            textcoords="offset points",
            va="top",
            fontsize=9.5,
            linespacing=1.1,
            color=legible(colors[names[0]]) if len(names) == 1 else "#333333",
            annotation_clip=False,
        )


def line_selection(
    milestones: list[str], variants: list[str]
) -> tuple[list[str], list[str], str | None]:
    """The milestones (at most :data:`MAX_LINE_PANELS`) and variants (at most
    :data:`sim.plotting.common.MAX_LINES`, as many as a reader tells apart) the line
    chart draws, and the note that says what was left out, or None."""
    ms, vs = milestones[:MAX_LINE_PANELS], variants[: common.MAX_LINES]
    if (len(ms), len(vs)) == (len(milestones), len(variants)):
        return ms, vs, None
    return ms, vs, f"This chart shows {_left_out(ms, milestones, vs, variants)}"


def _left_out(ms: list[str], milestones: list[str], vs: list[str], variants: list[str]) -> str:
    """What a sweep chart of milestones ``ms`` and variants ``vs`` (the first of
    ``milestones`` and ``variants``) leaves out, and where to find and choose it."""
    left = []
    if len(vs) < len(variants):
        left.append(f"the first {len(vs)} of {len(variants)} variants")
    if len(ms) < len(milestones):
        left.append(f"the first {len(ms)} of {len(milestones)} milestones")
    return (
        f"{' and '.join(left)}; sweep.csv has every value. Choose variants "
        "with forcesim sweep --variant NAME (variants=[...] in Python)."
    )


def _lines(sw: Sweep, key: str, milestones: list[str], names: list[str]) -> list[Axes]:
    milestones, names, note = line_selection(milestones, names)
    cols = 1 if len(milestones) <= 2 else 2
    rows = math.ceil(len(milestones) / cols)
    top_in = TOP_IN + (NOTE_IN if note is not None else 0.0)
    fig, panel_h = _frame(rows, cols, 3.4, top=top_in)
    width = common.WIDTH_IN
    right = RIGHT_IN + LABELS_IN
    panel_w = (width - LEFT_IN - right - (cols - 1) * (GAP_IN + LABELS_IN)) / cols
    labels, numbers = _axis_values(sw, key)
    xs = numbers if numbers is not None else np.arange(len(labels), dtype=float)
    colors = run_colors(sw)
    axes: list[Axes] = []
    for i, mid in enumerate(milestones):
        r, c = divmod(i, cols)
        top = fig.get_figheight() - top_in - r * (HEAD_IN + panel_h + FOOT_IN) - HEAD_IN
        ax = fig.add_axes(
            (
                (LEFT_IN + c * (panel_w + GAP_IN + LABELS_IN)) / width,
                (top - panel_h) / fig.get_figheight(),
                panel_w / width,
                panel_h / fig.get_figheight(),
            )
        )
        ends: dict[str, float] = {}
        drawn: dict[str, np.ndarray] = {}
        for v in names:
            rows_v = _p_met(sw, v, mid)
            if not len(rows_v):  # a milestone this variant does not have
                continue
            ends[v] = float(rows_v.value.iloc[-1])
            drawn[v] = rows_v.value.to_numpy(dtype=float)
            ax.plot(
                xs,
                drawn[v],
                marker="o",
                ms=5,
                lw=2,
                color=colors[v],
                label=v,
                clip_on=False,
            )
        # where lines coincide (the same chance at neighbouring points), each shows in
        # its own colour, in dashes taking turns, not hidden under the last one drawn
        shared_stretches(ax, xs, pd.DataFrame(drawn), colors)
        _percent_axis(ax, not sw.draws)
        _end_labels(ax, ends, colors, bool(sw.draws))
        ax.set_title(_deadline(sw, mid), loc="left", fontsize=14, fontweight="bold")
        ax.set_xlabel(_axis_title(sw, key), fontsize=12)
        if numbers is None or len(labels) <= MAX_TICKS:
            ticks = _ticks(len(labels))
            ax.set_xticks(xs[ticks], [_wrap(labels[t], 14) for t in ticks])
        if c == 0:
            ax.set_ylabel(
                "chance of meeting the deadline" if sw.draws else "in the central run",
                fontsize=12,
            )
        axes.append(ax)
    handles, texts = common.legend_entries(axes)
    fig.legend(
        handles,
        texts,
        loc="upper left",
        bbox_to_anchor=(LEFT_IN / width, 1 - (top_in - 0.35) / fig.get_figheight()),
        ncol=min(len(texts), 8),
        frameon=False,
        fontsize=11,
    )
    _title(
        fig,
        sw,
        f"Chance of meeting each deadline, by {_lower(key_label(sw.scenario.doc, key))}",
        note,
    )
    if note is not None:
        common.warn_crowded("sweep", note)
    return axes


def heat_selection(
    milestones: list[str], variants: list[str]
) -> tuple[list[str], list[str], str | None]:
    """The milestones and variants the heat maps draw (at most :data:`MAX_HEAT_ROWS`
    rows of :data:`HEAT_COLUMNS`, milestones first) and the note that says what was
    left out, or None."""
    cols = min(HEAT_COLUMNS, len(milestones))
    ms = milestones[: MAX_HEAT_ROWS * cols]
    per_variant = math.ceil(len(ms) / cols)
    vs = variants[: max(1, MAX_HEAT_ROWS // per_variant)]
    if (len(ms), len(vs)) == (len(milestones), len(variants)):
        return ms, vs, None
    return (
        ms,
        vs,
        f"A heat map per variant and milestone would make {len(variants) * len(milestones)} "
        f"panels: this chart shows {_left_out(ms, milestones, vs, variants)}",
    )


def _heat(sw: Sweep, kx: str, ky: str, milestones: list[str], names: list[str]) -> list[Axes]:
    milestones, names, note = heat_selection(milestones, names)
    cols = min(HEAT_COLUMNS, len(milestones))
    per_variant = math.ceil(len(milestones) / cols)
    rows = len(names) * per_variant
    top_in = TOP_IN + (NOTE_IN if note is not None else 0.0)
    fig, panel_h = _frame(rows, cols, HEAT_IN, top=top_in)
    width = common.WIDTH_IN
    panel_w = (width - LEFT_IN - RIGHT_IN - BAR_IN - (cols - 1) * HEAT_GAP_IN) / cols
    xl, _ = _axis_values(sw, kx)
    yl, _ = _axis_values(sw, ky)
    # a cell is labelled with its value where "100 %" fits in it, the panel's title and
    # notes wrap to its width, and its value ticks thin out to fit
    labelled = (
        len(xl) <= MAX_LABELLED
        and len(yl) <= MAX_LABELLED
        and panel_w / len(xl) >= CELL_LABEL_IN
        and panel_h / len(yl) >= 0.2
    )
    title_chars = max(12, int(panel_w * 72 / (11 * 0.55)))
    widest = max(len(x) for x in xl)
    x_most = max(2, min(MAX_TICKS, int(panel_w / (min(widest, 12) * 10 * 0.6 / 72 + 0.15))))
    axes: list[Axes] = []
    image = None
    for r, v in enumerate(names):
        for i, mid in enumerate(milestones):
            row, c = r * per_variant + i // cols, i % cols
            top = fig.get_figheight() - top_in - row * (HEAD_IN + panel_h + FOOT_IN) - HEAD_IN
            ax = fig.add_axes(
                (
                    (LEFT_IN + c * (panel_w + HEAT_GAP_IN)) / width,
                    (top - panel_h) / fig.get_figheight(),
                    panel_w / width,
                    panel_h / fig.get_figheight(),
                )
            )
            rows_v = _p_met(sw, v, mid)
            if not len(rows_v):  # a milestone this variant does not have
                ax.set_axis_off()
                ax.text(
                    0.5,
                    0.5,
                    _wrap(f"{v} has no milestone {mid}", max(12, int(panel_w * 72 / (11 * 0.55)))),
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    fontsize=11,
                    color="#555555",
                )
                axes.append(ax)
                continue
            # rows come in grid order: the first key slowest, so reshape (x, y) then turn
            grid = rows_v.value.to_numpy().reshape(len(xl), len(yl)).T
            image = ax.imshow(
                grid,
                origin="lower",
                aspect="auto",
                cmap=CMAP,
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            if labelled:
                for (yi, xi), p in np.ndenumerate(grid):
                    shade = image.cmap(image.norm(p))
                    light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.55
                    text = f"{100 * p:.0f} %" if sw.draws else ("met" if p == 1 else "missed")
                    ax.text(
                        xi,
                        yi,
                        text,
                        ha="center",
                        va="center",
                        fontsize=9,
                        color="#111111" if light else "white",
                    )
            xt, yt = _ticks(len(xl), x_most), _ticks(len(yl))
            ax.set_xticks(xt, [_wrap(xl[t], 12) for t in xt], fontsize=10)
            ax.set_yticks(yt, [yl[t] for t in yt], fontsize=10)
            ax.set_title(
                _wrap(f"{v} — {_deadline(sw, mid)}", title_chars),
                loc="left",
                fontsize=11 if cols > 2 else 12,
                fontweight="bold",
            )
            if r == len(names) - 1 and i + cols >= len(milestones):
                ax.set_xlabel(_axis_title(sw, kx), fontsize=11)
            if c == 0:
                ax.set_ylabel(_wrap(_axis_title(sw, ky), 28), fontsize=11)
            axes.append(ax)
    assert image is not None
    bar_ax = fig.add_axes(
        (
            (width - RIGHT_IN - BAR_IN + 0.45) / width,
            0.3,
            0.22 / width,
            0.4,
        )
    )
    bar = fig.colorbar(image, cax=bar_ax)
    bar.set_label(
        "chance of meeting the deadline" if sw.draws else "met in the central run", fontsize=11
    )
    from matplotlib.ticker import FuncFormatter

    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda p, _: f"{100 * p:.0f} %"))
    doc = sw.scenario.doc
    _title(
        fig,
        sw,
        f"Chance of meeting each deadline, by {_lower(key_label(doc, kx))} and "
        f"{_lower(key_label(doc, ky))}",
        note,
    )
    if note is not None:
        common.warn_crowded("sweep", note)
    return axes
