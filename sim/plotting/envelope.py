"""The envelope chart: a panel per theater, a line per variant, the range shaded."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.colors import DEADLINE, RANGE, RANGE_ALPHA, TARGET, run_colors
from sim.months import spell_month
from sim.plotting import column as column_layout
from sim.plotting import common
from sim.plotting.clearance import clear_top_labels, line_labels
from sim.plotting.observed import add_to_panel, observed_argument, place_as_of
from sim.results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# the panels' left and right edges in a figure of our own, as fractions of its width
PANELS_LEFT, PANELS_RIGHT = 0.06, 0.66
LINE_WIDTH = 2.2  # [pt] of each variant's line
DASH = 3.0  # length of one colour's dash on a shared stretch, in line widths


#: the key's entry for the shading
RANGE_KEY = "range across variants"
#: the key's entry for lines that run together, drawn in dashes of each one's colour
ALIKE_KEY = "variants alike: their colours in turn"


def shared_runs(values: Any) -> list[tuple[tuple[int, ...], int, int]]:
    """Where several lines run along the same path: ``(members, first, last)`` for each
    stretch of consecutive months ``first..last`` over which the columns ``members`` of
    ``values`` (months × lines) take the same levels at both ends of every month's
    segment, in the order the stretches are found. Shape: ``values`` is (months, lines);
    ``first < last`` are row indices, ``members`` column indices, two or more. A line
    with NaN at either end of a segment (not drawn there) shares no segment."""
    values = np.asarray(values, dtype=float)
    runs: dict[tuple[int, ...], list[int]] = {}  # the lines sharing a segment -> segments
    for s in range(len(values) - 1):
        groups: dict[tuple[float, float], list[int]] = {}
        for k in np.flatnonzero(~np.isnan(values[s]) & ~np.isnan(values[s + 1])).tolist():
            groups.setdefault((values[s, k], values[s + 1, k]), []).append(k)
        for members in groups.values():
            if len(members) > 1:
                runs.setdefault(tuple(members), []).append(s)
    out = []
    for group, segments in runs.items():
        start = 0
        for end in range(1, len(segments) + 1):  # contiguous segments make one stretch
            if end < len(segments) and segments[end] == segments[end - 1] + 1:
                continue
            out.append((group, segments[start], segments[end - 1] + 1))
            start = end
    return out


def shared_stretches(
    ax: Axes,
    x: Any,
    wide: Any,
    colors: dict[str, str],
    *,
    lw: float = LINE_WIDTH,
    zorder: float = 3.5,
) -> list[str]:
    """Where several variants' lines run along the same path (the same levels at both
    ends of a month's segment, :func:`shared_runs`), draw that stretch again in short
    dashes taking turns in each variant's colour: every line there shows in its own
    colour, as the legend has it, not as the last one drawn (or a blend of them).
    ``x``: the months' dates; ``wide``: a column of levels per variant drawn (NaN where
    a line is not drawn); ``lw`` [pt] and ``zorder``: those of the lines drawn over.
    Returns the colours of the first stretch drawn so, for its key (:func:`alike_handle`),
    or an empty list."""
    values = wide.to_numpy(float)
    names = list(wide.columns)
    drawn: list[str] = []
    for group, first, last in shared_runs(values):
        drawn = drawn or [colors[names[k]] for k in group]
        m = len(group)
        for turn, k in enumerate(group):
            ax.plot(
                x[first : last + 1],
                values[first : last + 1, k],
                color=colors[names[k]],
                lw=lw,
                ls=(turn * DASH, (DASH, (m - 1) * DASH)),
                zorder=zorder,
                gid="shared-stretch",
            )
    return drawn


def alike_handle(colors: list[str], lw: float = LINE_WIDTH) -> tuple[Any, ...]:
    """A key entry for a line drawn in short dashes taking turns in each of ``colors``
    (:func:`shared_stretches`), ``lw`` [pt] wide: the dashes of each, overlaid."""
    from matplotlib.lines import Line2D

    m = len(colors)
    return tuple(
        Line2D([], [], color=c, lw=lw, ls=(turn * DASH, (DASH, (m - 1) * DASH)))
        for turn, c in enumerate(colors)
    )


def range_edges(x: np.ndarray, wide: pd.DataFrame) -> tuple[np.ndarray, Any, Any]:
    """The range across the lines of ``wide`` (months × variants) at the month ends
    ``x`` and wherever two lines cross between them: the lines run straight from
    month to month, so where they cross the highest (or lowest) changes hands, and
    edges drawn from month to month alone cut across the crossing, shading a wedge
    outside every line. A level NaN (a variant on a shorter calendar, past its end)
    has no line there: over each month the range is that of the lines drawn over it,
    so where a line ends or starts the range has two corners at that month's end, one
    with it and one without. Returns the corners' times (``x`` and the crossings'),
    the lowest and the highest [troops]."""
    y = wide.to_numpy(dtype=float)
    if len(y) < 2:
        return x, wide.min(axis=1), wide.max(axis=1)
    ns = np.asarray(x).astype("datetime64[ns]").astype(np.int64)
    xs: list[float] = []
    lo: list[float] = []
    hi: list[float] = []

    def corner(when: float, row: np.ndarray) -> None:
        drawn = row[~np.isnan(row)]
        low, high = (drawn.min(), drawn.max()) if drawn.size else (np.nan, np.nan)
        if xs and xs[-1] == when and (lo[-1], hi[-1]) == (low, high):
            return  # (the same corner again: the month's end of the month before)
        xs.append(when)
        lo.append(low)
        hi.append(high)

    for i in range(len(y) - 1):
        both = ~np.isnan(y[i]) & ~np.isnan(y[i + 1])  # the lines drawn over this month
        a, b = np.where(both, y[i], np.nan), np.where(both, y[i + 1], np.nan)
        corner(float(ns[i]), a)  # (NaN where no line is drawn over the month: a gap)
        d0, d1 = a[:, None] - a[None, :], b[:, None] - b[None, :]
        cross = d0 * d1 < 0  # two lines swap places between these month ends (not NaN)
        for t in np.unique(d0[cross] / (d0[cross] - d1[cross])):
            corner(ns[i] + t * float(ns[i + 1] - ns[i]), a + t * (b - a))
        corner(float(ns[i + 1]), b)
    at = np.rint(np.array(xs)).astype(np.int64).astype("datetime64[ns]")
    return at, np.array(lo), np.array(hi)


@common.plain_text
def plot_envelope(
    result: Result,
    ax: Any = None,
    theaters: Sequence[str] | None = None,
    observed: Any = None,
    variants: Sequence[str] | None = None,
    *,
    column: bool = False,
) -> list[Axes]:
    """Envelope chart: a panel per theater, a line per variant, the min–max band shaded.

    Parameters
    ----------
    result : Result
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per theater drawn; a new 1600×1000 px figure when omitted.
    theaters : sequence of str, optional
        Theater ids, or sites as ``THEATER/SITE``, to draw (default: every theater,
        each followed by its sites in a new figure; every theater into given axes).
    observed : sim.io.observations.ObservationSet, str or pathlib.Path, optional
        Observed levels to draw, or the path of their CSV file (read against the
        result's scenario); default: those attached to ``result``; False: none.
    variants : sequence of str, optional
        Variants to draw (default: all those the result holds).
    column : bool
        Lay the chart out for a newspaper column 600 px wide
        (:mod:`sim.plotting.column`): a figure of its own 6 in wide (written 1200 px
        wide, at 200 dpi, by :func:`sim.plotting.save`), the panels stacked, at most
        four, the key under them. Default False: 1600 px wide, the key at the right.

    Returns
    -------
    list of matplotlib.axes.Axes
        One per theater (or site) drawn: each variant's central level [troops, at
        the end of each month] against months, the min–max band across them shaded.

    Raises
    ------
    TypeError
        For anything but a Result (a Comparison, a Backtest), or ``observed`` of
        another kind, naming what it takes.
    ValueError
        For no variant (``variants=[]``), a variant or theater the result does not
        hold, what is not matplotlib axes in ``ax`` (a theater's name), the wrong
        number of axes, or axes a chart of months and troops cannot be drawn in (polar
        or 3-D axes, a log y-axis); axes given with ``column``.
    """
    common.expect(result, Result, "plot_envelope", "sim.run")
    if column and ax is not None:
        raise ValueError(column_layout.OWN.format("plot_envelope"))
    observed = observed_argument(result, observed, "plot_envelope")
    chosen = common.names_given(variants)  # variants="slip-6": that one, not its letters
    if variants is not None and not chosen:  # (as plot_fan: [] is no variant, not all)
        raise ValueError("expected at least one variant to draw")
    if chosen:
        unknown = [v for v in chosen if v not in result.variants]
        if unknown:
            raise ValueError(
                f"expected variants among {', '.join(result.variants)}, "
                f"found {', '.join(map(str, unknown))}"
            )
        result = common.only(result, chosen)
    if column:
        return _in_column(result, theaters, observed)

    # (a new figure adds a panel per site after its theater; axes given take theaters)
    names = common.theater_list(result, theaters, sites=ax is None)
    notes: list[str] = []
    lines = list(result.variants)
    if ax is None:  # a new figure: no more panels and lines than a reader can tell apart
        names, note = common.theater_selection(names)
        lines, crowded = _lines(lines)
        notes = [n for n in (crowded, note) if n]
        for text in notes:
            common.warn_crowded("envelope", text)
        # (what the lines are: a reader took Syria's whole force for the official figure)
        read = " ".join(common.line_notes(result, names, lines))
        notes += [read] if read else []
    fig, axes = common.axes_for(result, names, ax)
    if fig is not None:
        # the panels' final size first: the labels are placed and kept off the data by it
        _layout(fig, notes)
    alike = _panels(result, names, axes, lines, observed)
    if fig is not None:
        _decorate(result, fig, axes, notes, len(lines), alike)
    return axes


def _lines(variants: list[str]) -> tuple[list[str], str | None]:
    """The variants a chart of its own draws a line of (at most
    :data:`~sim.plotting.common.MAX_LINES`; the shading spans them all), and the note
    saying what it left out, or None."""
    crowded = common.crowded_variants(len(variants))
    return (variants[: common.MAX_LINES] if crowded else variants), crowded


def _panels(
    result: Result, names: list[str], axes: list[Axes], lines: list[str], observed: Any
) -> list[str]:
    """Draw the panels of theaters (or sites) ``names`` into ``axes``: the shading across
    every variant, a line for each of ``lines``, the official figures, reports,
    deadlines and targets. Returns the colours of lines drawn alike in dashes of each
    (:func:`shared_stretches`), for the key."""
    colors = run_colors(result)
    df = result.monthly
    alike: list[str] = []  # (lines that run together: the key says what their dashes are)
    for i, (tid, a) in enumerate(zip(names, axes, strict=True)):
        rows = df[df.theater == tid]
        wide = rows.pivot(index="month", columns="variant", values="troops")
        wide = wide[[v for v in result.variants if v in wide.columns]]
        x = common.month_ends(wide.index)
        if len(result.variants) > 1:  # (one variant has no range across variants)
            a.fill_between(
                *range_edges(x, wide),
                color=RANGE,
                alpha=RANGE_ALPHA,
                lw=0,
                label=RANGE_KEY if i == 0 else None,
                step=None,
            )
        drawn = wide[[v for v in lines if v in wide.columns]]
        if "official" in rows and (rows.official != rows.troops).any():
            # where official figures leave troops out, each variant's official figure too
            off = rows.pivot(index="month", columns="variant", values="official")
            for v in drawn.columns:
                a.plot(
                    x,
                    off[v],
                    color=colors[v],
                    lw=1.3,
                    ls=(0, (4, 2.5)),
                    alpha=0.9,
                    zorder=2.5,
                )
            a.plot(
                [],
                [],
                color="#555555",
                lw=1.3,
                ls=(0, (4, 2.5)),
                label="official figure (dashed, in each variant's colour)",
            )
            last = off[drawn.columns].iloc[-1]
            ends = {  # (a variant of a shorter calendar has no last month: NaN)
                int(v)
                for v, w in zip(last, drawn.iloc[-1], strict=True)
                if v != w and pd.notna(v) and pd.notna(w)
            }
            # (at the lines' ends, outside the axes: not into axes given; see end_labels)
            for value in sorted(ends) if common.own_figure() else []:
                a.annotate(
                    f"{value:,}: official figure",
                    (x[-1], value),
                    xytext=(8, -2),
                    textcoords="offset points",
                    va="top",
                    fontsize=9.5,
                    color="#555555",
                    annotation_clip=False,
                    bbox=common.END_LABEL_GROUND,
                )
        for j, v in enumerate(drawn.columns):
            a.plot(
                x,
                drawn[v],
                color=colors[v],
                lw=LINE_WIDTH,
                label=v if i == 0 else None,
                zorder=3 + j * 0.01,
            )
        alike = shared_stretches(a, x, drawn, colors) or alike
        common.style_axes(a, common.theater_title(result, tid))
        add_to_panel(
            a,
            result,
            tid,
            observed,
            data_top=float(wide.max().max()),
            legend=names if i == 0 else None,
        )
        _deadlines(result, a, tid)
        clear_top_labels([a])  # the deadlines' labels above the data, nothing hidden
        place_as_of(a)  # where the data leave room, within the limits just set
        common.end_labels(a, x[-1], drawn.iloc[-1], colors)
    return alike


def _deadlines(result: Result, ax: Axes, tid: str) -> None:
    """Dotted verticals at the base scenario's deadlines of panel ``tid``
    (:func:`sim.plotting.common.base_deadlines`), with each variant's targets. Each
    line is labelled along the top by :func:`sim.plotting.clearance.line_labels`, which
    measures the labels' boxes: beside its line, stacked in rows where close ones would
    overlap or be crossed by a line (each line then stops at its own label); in at most
    :data:`sim.plotting.clearance.MAX_ROWS` rows, and into the caller's axes no more
    than their top two fifths hold (:func:`sim.plotting.common.label_room`). A line
    finding no room is left unlabelled. (One wording, "deadline Dec 2011": no legend
    entry says what a bare month beside a dotted line is.)"""
    months = sorted(common.base_deadlines(result, tid))
    whens = [common.month_ends(pd.PeriodIndex([m], freq="M"))[0] for m in months]
    lines = [
        ax.axvline(when, color=DEADLINE, lw=1, ls=(0, (2, 3)), zorder=1, gid="deadline")
        for when in whens
    ]
    size = common.pt(10)
    line_labels(
        ax,
        lines,
        [[f"deadline {spell_month(m)}"] for m in months],
        rows=common.label_room(ax, size * 1.25 + 3),
        fontsize=size,
        color="#444444",
        gid=common.DEADLINE_LABEL_GID,
    )
    # each variant's theater-level targets at their deadlines (after any slip);
    # site targets are not drawn on a theater's panel, which shows the sum of its sites
    rows = result.milestones[result.milestones.theater == tid]
    marks = sorted({(str(r.deadline), int(r.target)) for r in rows.itertuples()})
    for k, (deadline, target) in enumerate(marks):
        when = common.month_ends(pd.PeriodIndex([deadline], freq="M"))[0]
        ax.plot(
            [when],
            [target],
            marker="D",
            ms=7,
            color=TARGET,
            markerfacecolor="white",
            markeredgewidth=1.8,
            # whole: at 0 not cut by the axes' edge, nor under a report's bar or cap
            zorder=9.6,
            clip_on=False,
            ls="none",
            label="milestone target" if k == 0 else None,
        )


#: the characters of a legend label on one line: the legend stands in the figure's
#: right-hand 18 % (2.9 in of 16 in at 11 pt, after its mark)
LEGEND_CHARACTERS = 30


def _decorate(
    result: Result,
    fig: Any,
    axes: list[Axes],
    notes: list[str],
    lines: int,
    alike: list[str],
) -> None:
    """Title, subtitle, legend and footnote, placed in inches from the figure's edges
    (the figure grows with the number of theaters). ``alike``: the colours of lines that
    run together in dashes of each (:func:`shared_stretches`), for the key's entry."""
    height = fig.get_figheight()
    doc = result.scenario.doc
    head = fig.suptitle(
        doc.title, x=0.06, ha="left", fontsize=19, fontweight="bold", y=1 - 0.25 / height
    )
    common.fit_width(head)  # (a title wider than the figure: smaller, never cut)
    fig.text(0.06, 1 - 0.75 / height, _subtitle(result), fontsize=12, color="#333333")
    handles, labels = _key(result, axes, alike)
    fig.legend(
        handles,
        [common.wrapped(label, LEGEND_CHARACTERS) for label in labels],
        loc="upper left",
        bbox_to_anchor=(0.815, 1 - common.ENVELOPE_TOP_IN / height),
        fontsize=11,
        frameon=False,
        title=common.wrapped(_legend_title(result, lines), LEGEND_CHARACTERS),
        title_fontsize=12,
        alignment="left",
    )
    note = _notes(notes)
    foot = common.footnote(result) + ("\n" + note if note else "")
    fig.text(0.06, 0.15 / height, foot, fontsize=9.5, color="#444444", va="bottom")


def _subtitle(result: Result) -> str:
    if len(result.variants) > 1:
        return (
            "Projected troops at the end of each month, one line per reading of the plan "
            "(variant); shading spans the lowest to highest."
        )
    return (
        "Projected troops at the end of each month, for one reading of the plan "
        f"(variant {result.variants[0]})."
    )


def _key(result: Result, axes: list[Axes], alike: list[str]) -> tuple[list[Any], list[str]]:
    """The key's entries: every labelled artist of the panels, and after the variants'
    lines the entry for lines drawn in dashes of each one's colour (``alike``: their
    colours, :func:`shared_stretches`), if any."""
    handles, labels = common.legend_entries(axes)
    # (the range and the variants' lines first, as the panels draw them, whichever panel
    # first drew an official figure)
    first = [k for k, label in enumerate(labels) if label in (RANGE_KEY, *result.variants)]
    order = first + [k for k in range(len(labels)) if k not in first]
    handles, labels = [handles[k] for k in order], [labels[k] for k in order]
    if alike:  # after the variants' entries
        at = max((k + 1 for k, label in enumerate(labels) if label in result.variants), default=0)
        handles.insert(at, alike_handle(alike[:2]))
        labels.insert(at, ALIKE_KEY)
    return handles, labels


def _in_column(result: Result, theaters: Sequence[str] | None, observed: Any) -> list[Axes]:
    """:func:`plot_envelope` laid out for a newspaper column (:mod:`sim.plotting.column`):
    the panels drawn as into axes a caller gives (no names at the lines' ends: the
    footnote gives each theater's last levels), then the title, subtitle, key and
    footnote set around them."""
    asked = common.theater_list(result, theaters, sites=False)  # (sites when named)
    names, note = common.theater_selection(
        asked, f"choose with {column_layout.CHOOSE_THEATERS}", most=column_layout.MAX_PANELS
    )
    lines, crowded = _lines(list(result.variants))
    for text in (crowded, note):  # (how to choose, for whoever draws it; the foot is
        if text:  # the readers')
            common.warn_crowded("envelope", text)
    notes = [column_layout.not_drawn(result, [t for t in asked if t not in names])]
    if crowded:
        n = len(result.variants)
        notes.append(
            f"Lines for the first {common.MAX_LINES} of {n} readings of the plan (variants); "
            f"the shading spans all {n}."
        )
    notes += common.line_notes(result, names, lines)
    fig, axes = column_layout.figure(len(names))
    with column_layout.drawing(), common.into_axes(False):
        alike = _panels(result, names, axes, lines, observed)
    handles, labels = _key(result, axes, alike)
    column_layout.frame(
        fig,
        axes,
        result.scenario.doc.title,
        _subtitle(result),
        handles,
        labels,
        "\n".join(
            n
            for n in [
                common.footnote(result, reader=True),
                _last_levels(result, names, lines),
                *notes,
            ]
            if n
        ),
        key_title=_legend_title(result, len(lines)),
    )
    return axes


def _last_levels(result: Result, names: list[str], lines: list[str]) -> str:
    """What the names at the lines' ends say on a chart of its own, for a column's
    footnote: each theater's levels in its last month and the variants ending there
    ("In Jun 2028: Iraq 350 residual, slip-6-residual; 0 as-reported, …")."""
    df = result.monthly
    parts = []
    last = None
    for tid in names:
        rows = df[(df.theater == tid) & df.variant.isin(lines)]
        if not len(rows):
            continue
        month = rows.month.max()
        last = month
        end = rows[rows.month == month]
        groups: dict[int, list[str]] = {}
        for v in lines:  # (in the variants' order)
            level = end[end.variant == v].troops
            if len(level):
                groups.setdefault(int(level.iloc[0]), []).append(v)
        levels = "; ".join(
            f"{n:,} {', '.join(vs)}" for n, vs in sorted(groups.items(), reverse=True)
        )
        parts.append(f"{common.theater_title(result, tid)} {levels}")
    if last is None:
        return ""
    return f"In {spell_month(str(last))}, the lines end at: " + ". ".join(parts) + "."


def _legend_title(result: Result, lines: int) -> str:
    """The legend's title: the variants (the first ``lines`` of them), and the values
    set on top of every one for this run, which their names may contradict (``on-time``
    run with ``announcement.delay=9``)."""
    n = len(result.variants)
    title = "variant" if lines == n else f"variant (the first {lines} of {n})"
    said = result.scenario.run_with(60)
    return f"{title}, each {said}" if said else title


def _notes(notes: list[str]) -> str:
    import textwrap

    return "\n".join(textwrap.fill(n, 175) for n in notes)


def _layout(fig: Any, notes: list[str]) -> None:
    """The panels' place in a figure of our own: between the title block and the
    footnote (taller by the lines of ``notes``), left of the legend."""
    height = fig.get_figheight()
    note = _notes(notes)
    bottom = common.ENVELOPE_BOTTOM_IN + 0.17 * note.count("\n") + (0.17 if note else 0)
    fig.subplots_adjust(
        left=PANELS_LEFT,
        right=PANELS_RIGHT,
        top=1 - common.ENVELOPE_TOP_IN / height,
        bottom=bottom / height,
        hspace=0.28,
    )
