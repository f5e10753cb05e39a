"""The vintage chart: how the outlook changed with each piece of news."""

from __future__ import annotations

import contextlib
import itertools
import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.colors import PALETTE, legible, mix
from sim.io.files import utf8_text
from sim.months import format_month, parse_month, spell_day, spell_month
from sim.plotting import column as column_layout
from sim.plotting import common
from sim.plotting.envelope import alike_handle, shared_runs, shared_stretches
from sim.plotting.observed import draw_observations, legend_handles, visible
from sim.provenance import reports_credit
from sim.vintages import VintageSeries

if TYPE_CHECKING:
    from matplotlib.axes import Axes

HEADLINE = "as-reported"  # the reading that leaves every open question open
MEDIAN_WIDTH = 2.4  # [pt] of each vintage's median line
BAND_EDGE_WIDTH = 0.9  # [pt] of the 10th and 90th percentile lines edging each band
BAND_ALPHA = 0.07  # opacity of each band's fill
#: (column, width [pt], zorder) of each vintage's lines: its band's edges and its median
LINES = (("p10", BAND_EDGE_WIDTH, 3), ("p50", MEDIAN_WIDTH, 4), ("p90", BAND_EDGE_WIDTH, 3))


#: the palette's colours in the order vintages take them: its fifth and sixth (green,
#: teal) ran together as one two-coloured dash where two vintages in a row agree, so
#: the sixth vintage takes the seventh (slate); the teal, near the first vintage's blue
#: (a seventh vintage's lines were hard to tell from the first's), comes last
VINTAGE_ORDER = (0, 1, 2, 3, 4, 6, 7, 8, 9, 5)
#: the header's height above the key (title and subtitle), and a row of the key [inches]
HEADER_TEXT_IN, KEY_ROW_IN = 1.05, 0.25


def vintage_colors(n: int) -> list[str]:
    """A colour per vintage, in date order: the palette's distinct hues, as variants
    have, up to its 10; more vintages take evenly spaced hues of matplotlib's
    ``turbo`` map in date order instead, none repeated (the palette taken round again
    gave two vintages one blue)."""
    if n <= len(PALETTE):
        return [PALETTE[VINTAGE_ORDER[i]] for i in range(n)]
    import matplotlib as mpl
    from matplotlib.colors import to_hex

    ramp = mpl.colormaps["turbo"]
    return [to_hex(ramp(0.05 + 0.9 * i / (n - 1))) for i in range(n)]


#: months drawn after the last report (or after the first vintage's first year)
TAIL_MONTHS = 9


def headline_variant(series: VintageSeries) -> str:
    """The variant the chart draws: ``as-reported`` where every vintage has it, else the
    first variant of the first vintage."""
    names = [set(v.result.variants) for v in series.vintages]
    if names and all(HEADLINE in n for n in names):
        return HEADLINE
    return series.vintages[0].result.variants[0]


def through_month(through: object, first: int, last: int) -> int:
    """The month ordinal of ``through`` (``YYYY-MM``), checked to lie in ``first..last``
    (ordinals: after the first vintage's date, up to the last month a vintage projects).

    Raises
    ------
    ValueError
        ``expected …, found …``: not a month written ``YYYY-MM``, or outside those months.
    """
    if not isinstance(through, str):
        raise ValueError(f"expected a month as YYYY-MM, found {through!r}")
    try:
        month = parse_month(through)
    except ValueError as exc:
        raise ValueError(f"{str(exc).partition(', found ')[0]}, found {through!r}") from None
    if not first <= month <= last:
        raise ValueError(
            f"expected a month the vintages project, {format_month(first)} to "
            f"{format_month(last)}, found {through!r}"
        )
    return month


@common.plain_text
def plot_vintages(
    series: VintageSeries,
    *,
    variant: str | None = None,
    theaters: Sequence[str] | None = None,
    column: bool = False,
    through: str | None = None,
) -> list[Axes]:
    """Each vintage's median and 80 % band from its as-of date on, per theater, with the
    reports on top and a line at each vintage's date.

    Parameters
    ----------
    series : VintageSeries
        From :func:`sim.run_vintages`.
    variant : str, optional
        The variant drawn (default: ``as-reported`` when every vintage has it).
    theaters : str or sequence of str, optional
        Theaters to draw (default: those of every vintage, the first vintage's first,
        then those a later one adds).
    column : bool
        Lay the chart out for a newspaper column 600 px wide
        (:mod:`sim.plotting.column`): 6 in wide (written 1200 px wide, at 200 dpi, by
        :func:`sim.plotting.save`), at most four panels stacked, the key under them.
        Default False: 1600 px wide, the key above the panels.
    through : str, optional
        The last month drawn, ``YYYY-MM``: after the first vintage's date, and no later
        than the last month a vintage projects (to show a deadline beyond the reports:
        ``"2026-12"``). Default: :data:`TAIL_MONTHS` months after the last report (at
        least a year after the first vintage's date, plus those months).

    Returns
    -------
    list of matplotlib.axes.Axes
        One panel per theater: levels [troops] against months, each vintage's p50 and
        its p10–p90 band (the conditioned ones, or the plain ones where nothing was
        known), exact percentiles of the weighted draws
        (:func:`sim.analysis.scores.percentile`).

    Raises
    ------
    TypeError
        For data that is not a VintageSeries.
    ValueError
        For a variant no vintage has, a theater (or ``THEATER/SITE``) no vintage
        has, or a ``through`` that is not a month the vintages project after the first
        one's date.
    """
    common.expect(series, VintageSeries, "plot_vintages", "sim.run_vintages")
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    known = list(dict.fromkeys(n for v in series.vintages for n in v.result.variants))
    variant = variant or headline_variant(series)
    if not isinstance(variant, str) or variant not in known:
        # (a name no vintage ran drew empty panels, as if every vintage had left it out)
        raise ValueError(f"expected a variant among {', '.join(known)}, found {variant!r}")
    first = series.vintages[0].result
    # every vintage's theaters, the first's first: a theater a later vintage adds has a
    # panel too (its reports were drawn nowhere), named as the first vintage having it
    owner: dict[str, Any] = {}
    for v in series.vintages:
        for tid in v.result.plans[v.result.variants[0]].theaters:
            owner.setdefault(tid, v.result)
    names = common.names_given(theaters) or list(owner)
    drawable = list(dict.fromkeys(k for v in series.vintages for k in common.series_keys(v.result)))
    unknown = [t for t in names if t not in drawable]
    if unknown:
        raise ValueError(
            f"expected theaters among {', '.join(drawable)}, found {', '.join(map(str, unknown))}"
        )
    lo = min(parse_month(f"{v.as_of:%Y-%m}") for v in series.vintages) - 1
    levels = [o for o in series.observations if o.kind != "target"]  # plans are not drawn
    last_report = max((o.month for o in levels), default=lo)
    # (the last month a vintage projects: said to go further only where one does)
    end = max(p.start + p.n_months - 1 for v in series.vintages for p in v.result.plans.values())
    if through is None:
        hi = max(lo + 12, last_report) + TAIL_MONTHS
        # (what the chart's last month is, for its foot)
        stop = f"Drawn to {spell_month(format_month(hi))}, " + (
            f"{TAIL_MONTHS} months after the last report"
            if last_report >= lo + 12
            else f"{hi - (lo + 1)} months after the first vintage's date"
        )
    else:
        hi = through_month(through, lo + 1, end)
        stop = f"Drawn to {spell_month(format_month(hi))}"
    months = (format_month(lo), format_month(hi))
    stop += "; the vintages project further." if end > hi else "."
    # a hue of its own for each vintage, as variants have (a ramp in time made the last
    # vintages all green); their order shows in where each line starts and in the key
    colors = vintage_colors(len(series.vintages))
    palette = {v.scenario.id: c for v, c in zip(series.vintages, colors, strict=True)}
    crowded = None
    asked = names
    if theaters is None or column:  # every theater: at most common.MAX_THEATERS (a
        # column's four, those named too), and a note
        names, crowded = common.theater_selection(
            names,
            "points.csv and scores.csv have every theater; choose with "
            "plot_vintages(series, theaters=[...]) in Python",
            chart="vintages",
            most=column_layout.MAX_PANELS if column else common.MAX_THEATERS,
        )
    # the header holds the title, the subtitle and the key, a row per three entries
    # (13 vintages' key was drawn over the subtitle)
    kh, kl = legend_handles(visible(levels, names, list(months)))
    months_drawn = pd.period_range(months[0], months[1], freq="M")
    panels = {tid: _panel(series, variant, tid, months_drawn) for tid in names}
    # lines that coincide somewhere are dashed in each one's colour in turn: the key
    # says so (a line of several colours was left unexplained)
    alike = any(
        shared_runs(wide.to_numpy(float)) for _, lines in panels.values() for wide in lines.values()
    )
    header = body = None
    if column:
        fig, axes = column_layout.figure(len(names))
    else:
        entries = len(series.vintages) + 1 + len(kh) + alike
        header_in = max(2.1, HEADER_TEXT_IN + KEY_ROW_IN * -(-entries // 3))
        height = max(common.HEIGHT_IN + 1, header_in + 1.2 + 3.9 * len(names))
        fig = common.pyplot().figure(
            figsize=(common.WIDTH_IN, height), dpi=common.DPI, layout="constrained"
        )
        header, body = fig.subfigures(2, 1, height_ratios=[header_in, height - header_in])
        grid = body.subplots(len(names), 1, squeeze=False, sharex=True)
        axes = [a for row in grid for a in row]
    with column_layout.drawing() if column else contextlib.nullcontext():
        _draw_panels(series, axes, names, panels, colors, palette, owner, first, levels, months)
        rows = _date_labels(axes[0], series, colors, clear_title=column)
    few = {v.scenario.id for v in series.left_out_of(variant)}
    handles: list[Any] = [
        # a vintage left out, or without the variant, draws its date line only, and its
        # entry says so
        Line2D(
            [],
            [],
            color=c,
            lw=1.3,
            ls=(0, (3, 2)),
            label=f"{spell_day(v.as_of)}: {v.label} "
            + ("(not drawn)" if v.scenario.id in few else f"(no variant {variant})"),
        )
        if v.scenario.id in few or variant not in v.result.variants
        else Line2D([], [], color=c, lw=MEDIAN_WIDTH, label=f"{spell_day(v.as_of)}: {v.label}")
        for v, c in zip(series.vintages, colors, strict=True)
    ]
    labels = [h.get_label() for h in handles]
    if alike:  # (the key says what a line dashed in several colours is)
        handles.append(alike_handle(colors[:2], MEDIAN_WIDTH))
        labels.append("vintages projecting alike: their colours in turn")
    band = Patch(facecolor=mix("#777777", 0.3), edgecolor="#777777", lw=BAND_EDGE_WIDTH)
    title = "How the outlook changed with the news"
    subtitle = (
        f"{_subject(series)}: each vintage's median projection (solid line) from its date "
        "(dashed vertical line) on, and its 80 % band; dots are what was reported."
    )
    key = [*handles, band, *kh]
    keyed = [*labels, "80 % band of a vintage (10th–90th percentile)", *kl]
    only = names if common.names_given(theaters) else None
    if column:  # (for an article's readers: what is left out named, not how to choose)
        left = column_layout.not_drawn(
            owner.get(asked[0], first), [t for t in asked if t not in names]
        )
        shown = names if common.names_given(theaters) or names != asked else None
        foot = _footnote(series, variant, stop, shown, width=None) + (f"\n{left}" if left else "")
    else:
        foot = _footnote(series, variant, stop, only) + (f"\n{crowded}" if crowded else "")
    if column:
        column_layout.frame(
            fig,
            axes,
            title,
            subtitle,
            key,
            keyed,
            foot,
            handler_map={tuple: HandlerTuple(ndivide=1, pad=0)},
            # (the rows of dates over the first panel, beyond the room of its title)
            head_in=max(0, rows - 1) * (common.pt(DATE_LABEL_PT) + 2) / 72,
        )
        return axes
    assert header is not None and body is not None
    header.text(0.02, 1 - 0.34 / header_in, title, fontsize=19, fontweight="bold")
    sub = header.text(0.02, 1 - 0.67 / header_in, subtitle, fontsize=12.5, color="#333333")
    common.fit_width(sub)  # (a long scenario title: smaller, never cut)
    header.legend(
        key,
        keyed,
        handler_map={tuple: HandlerTuple(ndivide=1, pad=0)},
        loc="lower left",
        bbox_to_anchor=(0.015, 0.0),
        ncol=3,
        fontsize=10.5,
        frameon=False,
    )
    body.supxlabel(foot, x=0.02, ha="left", fontsize=9.5, color="#444444")
    return axes


def _draw_panels(
    series: VintageSeries,
    axes: list[Axes],
    names: list[str],
    panels: dict[str, Any],
    colors: list[str],
    palette: dict[str, str],
    owner: dict[str, Any],
    first: Any,
    levels: list[Any],
    months: tuple[str, str],
) -> None:
    """Each theater's panel of ``names`` into ``axes``: each vintage's band, median and
    date line (``panels``: :func:`_panel` of each), then the reports on top."""
    months_drawn = pd.period_range(months[0], months[1], freq="M")
    for ax, tid in zip(axes, names, strict=True):
        top = 0.0
        drawn, lines = panels[tid]
        for vintage, color, rows in zip(series.vintages, colors, drawn, strict=True):
            if rows is None:  # (left out: its date still marks when the news came)
                ax.axvline(pd.Timestamp(vintage.as_of), color=color, lw=1.3, ls=(0, (3, 2)))
                continue
            x = common.month_ends(rows.month)
            # a light fill with its edges drawn: where bands overlap, fills alone mixed
            # into one brown no reader could take apart; each edge keeps its hue
            ax.fill_between(x, rows.p10, rows.p90, color=color, alpha=BAND_ALPHA, lw=0)
            for q, width, z in LINES:
                ax.plot(x, rows[q], color=color, lw=width, zorder=z)
            ax.axvline(pd.Timestamp(vintage.as_of), color=color, lw=1.3, ls=(0, (3, 2)), zorder=2)
            top = max(top, float(rows.p90.max()) if len(rows) else 0.0)
        ends = common.month_ends(months_drawn)
        for q, width, z in LINES:  # (lines that coincide, in each one's colour in turn)
            shared_stretches(ax, ends, lines[q], palette, lw=width, zorder=z + 0.1)
        common.style_axes(ax, common.theater_title(owner.get(tid, first), tid))
        top = max([top, *(o.high or o.low or 0 for o in levels if o.theater == tid)])
        ax.set_ylim(0, top * 1.12 or 10)
        ax.set_xlim(
            pd.Period(months[0], freq="M").start_time, pd.Period(months[1], freq="M").end_time
        )
        draw_observations(ax, levels, tid, list(months))


#: the size of a vintage's date over its line [pt]
DATE_LABEL_PT = 9.0


def _date_labels(
    ax: Any, series: VintageSeries, colors: Sequence[str], *, clear_title: bool = False
) -> int:
    """Each vintage's date over its dashed line, above the top panel ``ax``, in the
    vintage's colour (the key alone left the reader matching six colours): beside its
    line, in the lowest row where it runs into no label before it, nor, with
    ``clear_title`` (a column, which makes room above its panel for the rows), the
    panel's title (rows measured with the figure's renderer, once the constrained
    layout has set the panel's width, without drawing the figure); kept out of the
    layout, so the panels stay where they are. Returns the number of rows taken."""
    fig = ax.get_figure(root=True)
    engine = fig.get_layout_engine()
    if engine is not None:  # (a column's panels stand where they are drawn)
        engine.execute(fig)  # (the panel's width, and with it each x)
    renderer = fig.canvas.get_renderer()
    size = common.pt(DATE_LABEL_PT)
    # (in a column's narrow panel the first date ran over "Iraq"; matplotlib keeps a
    # title set with loc="left" apart from ax.title, and places it as it draws the
    # axes, as get_tightbbox does: measured there)
    ax.get_tightbbox(renderer)
    titles = [ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)]
    # (the title may stand taller than a row: kept clear of in every row)
    clear = [
        t.get_window_extent(renderer)
        for t in titles
        if clear_title and t is not None and t.get_text()
    ]
    rows: list[list[Any]] = []  # each row's labels' boxes so far
    for vintage, color in zip(series.vintages, colors, strict=True):
        when = pd.Timestamp(vintage.as_of)
        label = ax.annotate(
            spell_day(vintage.as_of),
            (when, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, 3),
            textcoords="offset points",
            fontsize=size,
            color=legible(color),  # (text: darker where the line's colour is light)
            ha="left",
            va="bottom",
            annotation_clip=False,
        )
        label.set_in_layout(False)
        for row in itertools.count():  # (a row above the title is always clear)
            label.xyann = (2, 3 + row * (size + 2))
            box = label.get_window_extent(renderer)
            if any(box.overlaps(other) for other in clear):
                continue
            while len(rows) <= row:
                rows.append([])
            if not any(box.overlaps(other) for other in rows[row]):
                rows[row].append(box)
                break
    return len(rows)


def _panel(
    series: VintageSeries, variant: str, tid: str, months: pd.PeriodIndex
) -> tuple[list[pd.DataFrame | None], dict[str, pd.DataFrame]]:
    """Theater ``tid``'s rows of each vintage's bands (``variant``) over ``months``, from
    its date on (None: a vintage not drawn), and each line of :data:`LINES` as a column
    per vintage drawn over ``months`` (NaN before its date): where vintages project the
    same, the later line would hide the earlier."""
    drawn: list[pd.DataFrame | None] = []
    lines = {q: pd.DataFrame(index=months) for q, _, _ in LINES}
    for vintage in series.vintages:
        rows = _bands(vintage, variant, tid)
        if rows is not None:
            start = pd.Period(vintage.as_of, freq="M")
            rows = rows[(rows.month >= start) & (rows.month <= months[-1])]
            for q, _, _ in LINES:
                lines[q][vintage.scenario.id] = rows.set_index("month")[q].astype(float)
        drawn.append(rows)
    return drawn, lines


def _bands(vintage: Any, variant: str, tid: str) -> pd.DataFrame | None:
    """The vintage's conditioned bands of ``tid`` (plain when nothing was known); None
    for a variant left out for too few effective draws (its plain bands are not the
    vintage's projection)."""
    assessment = vintage.result.observed
    cond = getattr(assessment, "conditioned", None)
    if cond is not None and variant in cond.too_few:
        return None
    bands = cond.bands if cond is not None and cond.bands is not None else None
    if bands is None or variant not in set(bands.variant):
        bands = vintage.result.bands
    if bands is None or variant not in set(bands.variant):
        return None
    return bands[(bands.variant == variant) & (bands.theater == tid)].sort_values("month")


def _record_line(series: VintageSeries, credit: str, of: list[str] | None, *, file: bool) -> str:
    """The footnote's words on the record of reports: its file (``file``: not for a
    column's readers, who have no files) and the outlets of the reports drawn, of the
    series ``of`` when the chart draws some ("", no credit, where none cites a source)."""
    reports = (
        f"reports{' of ' + ', '.join(of) if of is not None else ''} {credit}" if credit else ""
    )
    if file:
        name = utf8_text(Path(series.observations.origin).name)
        return f". Record: {name}" + (f", {reports}" if reports else "")
    return f". {reports[:1].upper()}{reports[1:]}" if reports else ""


def _series_title(series: VintageSeries, tid: str) -> str:
    """A theater's (or site's) name as the first vintage having it titles its panel."""
    for v in series.vintages:
        if tid in common.series_keys(v.result):
            return common.theater_title(v.result, tid)
    return tid


def _subject(series: VintageSeries) -> str:
    """What the vintages project, from the first one's title (before its date)."""
    title = series.vintages[0].scenario.title
    return re.split(r",\s*as projected|\s*\(", title)[0].strip() or "Troops"


def _footnote(
    series: VintageSeries,
    variant: str,
    stop: str,
    only: list[str] | None = None,
    *,
    width: int | None = 210,
) -> str:
    """The chart's foot: the variant, what a vintage is, its scores (of the theaters
    ``only``, when the chart draws some: those it draws), and ``stop``, where the chart
    stops and why (and that the vintages project further, where they do). Each line
    filled to ``width`` characters; None: a column's foot, left to be wrapped to its
    measured width, and for its readers (no file names)."""
    s = series.scores
    headline = s[(s.variant == variant) & (s.horizon == "all")]
    if only is not None:
        headline = headline[headline.theater.isin(only)]
    n = int(headline.observations.sum()) if len(headline) else 0
    inside = float((headline.coverage80 * headline.observations).sum() / n) if n else float("nan")
    held = (
        float((headline.expected_coverage80 * headline.observations).sum() / n)
        if n
        else float("nan")
    )
    # (a column's readers read the theaters' names, the files their ids)
    called = (
        [_series_title(series, t) for t in only] if only is not None and width is None else only
    )
    dates = [spell_day(v.as_of) for v in series.left_out_of(variant)]
    without = [spell_day(v.as_of) for v in series.vintages if variant not in v.result.variants]
    skipped = [spell_day(day) for _, day in series.skipped]
    absent = [
        f"{spell_day(v.as_of)}: {', '.join(f'{name} ({later})' for name, later in lacking)}"
        for v in series.vintages
        if (lacking := series.absent_of(v.scenario.id))
    ]
    # (every vintage's sources: a report may be cited by one vintage alone)
    cited = [s for v in series.vintages for s in v.scenario.doc.sources]
    # (of the series drawn, when the chart draws some: a chart of Syria credited the
    # Iraq reports' outlets too)
    drawn = [o for o in series.observations if only is None or o.theater in only]
    credit = reports_credit(cited, drawn)  # (the latest citation wins)
    # each line filled to the figure's width: the dates left out and the record's name
    # are as long as the user makes them
    text = (
        f"Variant {variant}. Each vintage is a forcesim scenario dated on the day of the news, "
        f"conditioned on the reports known then ({series.draws:,} draws, seed {series.seed}; "
        f"tolerance {series.tolerance_text()}); "
        f"dots are the reports, drawn at the end of their month.\n"
        f"Scored only on later reports"
        + (f" of {', '.join(called)}" if called is not None else "")
        + f": {n:,} comparison{'' if n == 1 else 's'}, "
        + (
            f"{inside * 100:.0f} % inside the 80 % bands (a calibrated projection would have "
            f"{held * 100:.0f} % inside: more than 80 where many draws share a band's edge)"
            if n
            else "none scored"
            if series.vintages and series.later_levels(series.vintages[0].as_of)
            else "none yet"
        )
        + ("" if width is None else " (scores.csv; every vintage together: pooled.csv)")
        + (f"; not drawn or scored, too few effective draws: {', '.join(dates)}" if dates else "")
        + (f"; no variant {variant}, not drawn: {', '.join(without)}" if without else "")
        + (f"; left out, no variant asked for: {', '.join(skipped)}" if skipped else "")
        + (
            f"; not scored, later reports of a series the vintage lacks: {'; '.join(absent)}"
            if absent
            else ""
        )
        + _record_line(series, credit, called if width is None else only, file=width is not None)
        + ". "
        "forcesim projection, not a forecast of record.\n"
        f"{stop}"
    )
    if width is None:  # (wrapped by the caller, to a column's measured width)
        return text
    return "\n".join(textwrap.fill(s, width, break_on_hyphens=False) for s in text.split("\n"))


__all__ = ["headline_variant", "plot_vintages"]
