"""The ensemble fan chart: small multiples, one panel per theater and variant.

Each panel shows, month by month, the nested percentile bands of the draws
(the 5th to 95th, 10th to 90th and 25th to 75th percentiles: at least 90 %,
80 % and 50 % of the draws between the band's edges, more where many draws
share a level; the wider the band, the lighter its shade), the median of each
month as a solid line (a line through the months' medians, which no single draw need follow: with a
delay of 0 or 12 months it can step down where no draw does), the
deterministic central run dashed, and the variant's original deadlines (before any delay, as
``p_met`` counts them) as dotted verticals
labelled with the share of draws meeting them. Panels are grouped by theater
(a block of rows per theater, sharing the y-axis), one panel per variant,
wrapping onto further rows when there are many variants. A theater made of sites
is followed by a block per site ("Erbil (Iraq)"), as on the envelope chart.

Only :func:`draw_fan` is public; :func:`plot_fan` calls it.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim import colors
from sim.colors import mix
from sim.errors import ScenarioError
from sim.months import spell_month
from sim.plotting import column as column_layout
from sim.plotting import common
from sim.plotting.clearance import clear_top_labels, line_labels
from sim.plotting.common import title_size
from sim.plotting.observed import (
    CONDITIONED_NOTE_GID,
    OBSERVED_LEGEND_IN,
    RANGE_OF_OUTCOMES,
    add_to_fan,
    conditioned_subtitle,
    conditioned_title,
    mark_conditioned,
    observations_of,
    observed_argument,
    place_as_of,
    visible,
)
from sim.provenance import reports_credit
from sim.results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.analysis.observed import Assessment
    from sim.model.plan import Plan

BANDS = colors.BANDS  # (lower, upper, label, mix with white), widest first
HUE = colors.FAN_HUE
MEDIAN_COLOR = colors.MEDIAN
CENTRAL_COLOR = colors.CENTRAL
DEADLINE_COLOR = colors.DEADLINE
OFFICIAL_COLOR = colors.OFFICIAL
MAX_COLUMNS = 4
NEEDS_ENSEMBLE = "a fan chart needs an ensemble: run with draws=N and seed=S"

# figure geometry [inches]
TOP_IN = 1.95  # title, subtitle, legend (and a gap above the first block's name)
BLOCK_HEAD_IN = 0.45  # theater name above its block of rows
PANEL_HEAD_IN = 0.72  # variant name and description above each panel
PANEL_IN = 2.4  # plotting area of one panel
PANEL_FOOT_IN = 0.42  # x tick labels
BOTTOM_IN = 1.0  # footnote
FOOT_LINE_IN = 0.17  # one more line of footnote
LEFT_IN, RIGHT_IN, GAP_IN = 0.95, 0.35, 0.35


def grid_shape(n_variants: int) -> tuple[int, int]:
    """(rows, columns) of one theater's block of panels."""
    rows = math.ceil(n_variants / MAX_COLUMNS)
    cols = math.ceil(n_variants / rows)
    return rows, cols


def _series(result: Result, theaters: Sequence[str] | None, *, sites: bool) -> list[str]:
    """The series to draw: ``theaters`` (checked), else every theater, and with ``sites``
    each theater's sites after it (those the bands hold), as the envelope has them."""
    assert result.bands is not None
    if sites and not theaters:
        names = common.fan_series(result)
    else:
        names = common.theater_list(result, theaters)
    have = list(dict.fromkeys(result.bands.theater))
    for name in names:
        if name not in have:
            raise ValueError(f"unknown theater {name!r}: expected one of {', '.join(have)}")
    return names


def _variants(result: Result, variants: Sequence[str] | None) -> list[str]:
    if variants is None:
        return list(result.variants)
    out = common.names_given(variants)
    for v in out:
        if v not in result.variants:
            raise ValueError(f"unknown variant {v!r}: expected one of {', '.join(result.variants)}")
    if not out:
        raise ValueError("expected at least one variant to draw")
    return out


def _given_axes(ax: Any, theaters: list[str], variants: list[str]) -> list[Axes]:
    axes = common.check_given(ax)
    need = len(theaters) * len(variants)
    if len(axes) != need:
        raise ValueError(
            f"expected {need} axes, one per (theater, variant) panel in that order "
            f"(theaters: {', '.join(theaters)}; variants: {', '.join(variants)}), "
            f"found {len(axes)}"
        )
    return axes


def _new_figure(
    theaters: list[str], variants: list[str], room: float = 0.0, *, foot_lines: int = 0
) -> tuple[Figure, list[Axes], list[float]]:
    """The figure, its panels (theater-major) and the top of each theater block (figure
    y); ``room`` [in] more above the panels for a second legend; ``foot_lines``: room at
    the foot for that many more lines of footnote."""
    plt = common.pyplot()
    top_in = TOP_IN + room
    rows, cols = grid_shape(len(variants))
    # one wide column keeps two-line month/year ticks; narrow panels show years only
    foot = PANEL_FOOT_IN if cols > 1 else PANEL_FOOT_IN + 0.2
    row_in = PANEL_HEAD_IN + PANEL_IN + foot
    body = len(theaters) * (BLOCK_HEAD_IN + rows * row_in)
    bottom = BOTTOM_IN + FOOT_LINE_IN * foot_lines
    height = max(common.HEIGHT_IN, top_in + body + bottom)
    width = common.WIDTH_IN
    # when the minimum height leaves room, the panels grow to fill it
    panel = PANEL_IN + (height - top_in - body - bottom) / (len(theaters) * rows)
    row_in = PANEL_HEAD_IN + panel + foot
    fig = common.made_here(plt.figure(figsize=(width, height), dpi=common.DPI))
    col_in = (width - LEFT_IN - RIGHT_IN - (cols - 1) * GAP_IN) / cols
    axes: list[Axes] = []
    tops: list[float] = []
    y = height - top_in
    for _ in theaters:
        tops.append(y / height)
        y -= BLOCK_HEAD_IN
        first = None
        for i, _v in enumerate(variants):
            r, c = divmod(i, cols)
            bottom = y - r * row_in - PANEL_HEAD_IN - panel
            left = LEFT_IN + c * (col_in + GAP_IN)
            a = fig.add_axes(
                (left / width, bottom / height, col_in / width, panel / height),
                sharey=first,
                sharex=axes[0] if axes else None,
            )
            first = first or a
            axes.append(a)
        y -= rows * row_in
    return fig, axes, tops


def _deadlines(
    result: Result, plan: Plan, variant: str, tid: str, ax: Axes, *, small: bool
) -> None:
    """Dotted verticals at the variant's deadlines for theater ``tid``
    (:func:`deadline_labels`), labelled with the month and, for an ensemble, the share
    of draws meeting it."""
    deadline_marks(
        ax, deadline_labels(result, plan, variant, tid), plan.n_months, 9 if small else 10.5
    )


def _weighted_fan(
    result: Result,
    ax: Any,
    theaters: Sequence[str] | None,
    variants: Sequence[str] | None,
    observed: Any,
) -> list[Axes]:
    """:func:`plot_fan` with ``weighted``: the conditioned result's fan, marked as such
    (:func:`sim.plotting.observed.mark_conditioned`)."""
    cond, assessment = _conditioned(result)
    return _weighted_into(cond, assessment, ax, theaters, variants, observed)


def _weighted_into(
    cond: Result,
    assessment: Assessment,
    ax: Any,
    theaters: Sequence[str] | None,
    variants: Sequence[str] | None,
    observed: Any,
) -> list[Axes]:
    """The fan of ``cond``, the draws weighted by ``assessment``'s reports
    (:func:`_conditioned`), into ``ax`` (None: a figure of its own), marked as such."""
    axes = plot_fan(cond, ax=ax, theaters=theaters, variants=variants, observed=observed)
    mark_conditioned(axes, cond, assessment, theaters=theaters, variants=variants)
    return axes


def _conditioned(result: Result) -> tuple[Result, Assessment]:
    """The result of the draws weighted by the reports ``result`` was conditioned on,
    and its assessment; a ValueError where it was not conditioned, or no variant kept
    enough effective draws."""
    from sim.analysis.observed import Assessment, conditioned_result

    assessment = result.observed
    if not isinstance(assessment, Assessment) or assessment.conditioned is None:
        raise ValueError(
            "plot_fan(weighted=True) draws an ensemble conditioned on reports: "
            "sim.run(scenario, draws=N, seed=S, observed=FILE, condition=True)"
        )
    cond = conditioned_result(result, assessment)
    if cond is None:
        raise ValueError(
            "plot_fan(weighted=True): no variant keeps enough effective draws to draw "
            f"(at least {assessment.conditioned.minimum}); more draws, or fewer or wider "
            "reports, keep more"
        )
    return cond, assessment


def fan_title(result: Result) -> str:
    """A fan's title: the scenario's and :data:`RANGE_OF_OUTCOMES` (which
    :func:`~sim.plotting.observed.mark_conditioned` finds and rewords)."""
    return f"{result.scenario.doc.title}{RANGE_OF_OUTCOMES}"


def deadline_labels(
    result: Result, plan: Plan, variant: str, tid: str
) -> list[tuple[pd.Period, str]]:
    """The variant's deadlines for theater (or site) ``tid``, in order, each with its
    label: the month and, for an ensemble, the share of draws meeting the milestones
    due then (the lowest, when several are). Each is the original deadline, before any
    delay, that ``p_met`` is measured against, of a milestone whose deadline is a date
    (:func:`sim.plotting.common.panel_deadlines`)."""
    ms = result.milestones[result.milestones.variant == variant]
    start = pd.Period(plan.months[0], freq="M")
    texts = []
    for month, ids in sorted(common.panel_deadlines(plan, tid).items()):
        text = spell_month(str(start + month))
        if "p_met" in ms.columns:
            p = ms[ms.milestone.isin(ids)].p_met
            if len(p):
                text += f"\nmet {percent(float(p.min()))}"
        texts.append((start + month, text))
    return texts


def deadline_marks(
    ax: Axes, marks: list[tuple[pd.Period, str]], n_months: int, size: float
) -> float:
    """Dotted verticals at each month of ``marks``, labelled at the top, the labels
    placed by :func:`sim.plotting.clearance.line_labels`: beside their lines, stacked in
    rows where close ones would overlap or be crossed by a line (each line then stops at
    its own label), shortened when even that leaves no room (:func:`wordings`). (``n_months``
    is kept for callers; the positions come from the axes' own x-limits.) Returns how far
    down from the top of the axes the labels reach [pt] (0 without labels)."""
    size = common.pt(size)
    whens = [common.month_ends(pd.PeriodIndex([period], freq="M"))[0] for period, _ in marks]
    lines = [
        ax.axvline(when, color=DEADLINE_COLOR, lw=1.1, ls=(0, (1.5, 2.5)), zorder=4, gid="deadline")
        for when in whens
    ]
    shown = [(line, text) for line, (_period, text) in zip(lines, marks, strict=True) if text]
    if not shown:
        return 0.0
    n_text = max(text.count("\n") + 1 for _, text in shown)
    row_pt = n_text * size * 1.25 + 3
    labels = line_labels(
        ax,
        [line for line, _ in shown],
        [wordings(text) for _, text in shown],
        rows=common.label_room(ax, row_pt),
        fontsize=size,
        color="#333333",
        zorder=6,
        gid=common.DEADLINE_LABEL_GID,
    )
    return max(
        (-float(label.xyann[1]) + n_text * size * 1.25 for label in labels if label is not None),
        default=0.0,
    )


def wordings(text: str) -> list[str]:
    """A deadline's label and its shorter wordings, longest first: "Jul 2021\nmet 100 %",
    "Jul 2021\n100 %" (the legend says what the share is), "Jul ’21\n100 %" (the year
    kept, short: beside another year's deadline "Jul" alone is ambiguous), "Jul\n100 %"."""
    month, _, share = text.partition("\n")
    name, _, year = month.partition(" ")
    months = [month]
    if year:
        months += [f"{name} \u2019{year[-2:]}"] if len(year) == 4 and year.isdigit() else []
        months.append(name)
    shares = list(dict.fromkeys([share, share.removeprefix("met ")]))
    found = [f"{months[0]}\n{s}" if share else months[0] for s in shares]
    found += [f"{m}\n{shares[-1]}" if share else m for m in months[1:]]
    return list(dict.fromkeys(found))


def percent(p: float) -> str:
    """A share (0 to 1) as a whole percentage; ``<1 %`` and ``>99 %`` rather than 0 or 100
    for a share that is neither."""
    if 0 < p < 0.01:
        return "<1 %"
    if 0.99 < p < 1:
        return ">99 %"
    return f"{p * 100:.0f} %"


#: the most year labels a small panel's time axis takes, and the steps between them
SMALL_YEARS = 7
YEAR_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)


def _short_style(ax: Axes, small: bool) -> None:
    import matplotlib.dates as mdates

    if small:
        x0, x1 = ax.get_xlim()
        # a label every year, or every few years on a long calendar: at most SMALL_YEARS
        # labels, which fit a small panel side by side (50 years labelled yearly ran together)
        years = (x1 - x0) / 365.25
        base = next((b for b in YEAR_STEPS if years / b <= SMALL_YEARS), YEAR_STEPS[-1])
        ax.xaxis.set_major_locator(mdates.YearLocator(base=base))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        # a short horizon names months between the years, or one year label is all:
        # every other month under 16 months, each quarter under two years, else July
        months = (7,) if x1 - x0 >= 2 * 366 else (4, 7, 10) if x1 - x0 >= 488 else (3, 5, 7, 9, 11)
        ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=months))
        if x1 - x0 < 3 * 366:
            ax.xaxis.set_minor_formatter(mdates.DateFormatter("%b"))
            ax.tick_params(which="minor", labelsize=9, labelcolor="#555555")
        ax.tick_params(labelsize=10)
        ax.yaxis.label.set_fontsize(11)


def draw_bands(ax: Axes, x: Any, rows: Any) -> None:
    """The nested percentile bands (widest, lightest first) of ``rows`` at dates ``x``."""
    for lo, hi, label, amount in BANDS:
        ax.fill_between(
            x,
            rows[lo].to_numpy(float),
            rows[hi].to_numpy(float),
            lw=0,
            color=mix(HUE, amount),
            label=label,
            zorder=2,
        )


def _panel(result: Result, ax: Axes, tid: str, variant: str) -> float:
    """Draw one panel; return the highest value drawn."""
    assert result.bands is not None
    b = result.bands
    rows = b[(b.variant == variant) & (b.theater == tid)].sort_values("month")
    if not len(rows):  # a theater or site another variant adds: say so, not a blank panel
        common.panel_note(
            ax,
            f"{common.theater_title(result, tid)} is not in this variant",
            size=common.pt(10),
            color="#555555",
            wrap=True,
        )
    x = common.month_ends(rows.month)
    draw_bands(ax, x, rows)
    top = float(rows.p95.max()) if len(rows) else 0.0
    m = result.monthly
    central = m[(m.variant == variant) & (m.theater == tid)].sort_values("month")
    draw_median_and_central(
        ax, x, rows.p50, common.month_ends(central.month), central.troops, "central run"
    )
    if len(central):
        top = max(top, float(central.troops.max()))
    if "official" in central and (central.official != central.troops).any():
        ax.plot(
            common.month_ends(central.month),
            central.official.to_numpy(float),
            color=OFFICIAL_COLOR,
            # (thin over the median: where the two are one level, the median shows on
            # both sides of its dashes; at 1.6 it hid Syria's median at 900)
            lw=1.1,
            ls=(0, (4, 2.5)),
            zorder=6,
            label="official figure (central run)",
        )
    return top


#: what the dashed line is, after its name: one run, not a statistic of the draws
CENTRAL_READING = "each input at its central value, not a percentile"
#: what the solid line is: each month's median, not a draw (no draw need follow it)
MEDIAN_LABEL = "median of the draws, month by month"


def draw_median_and_central(
    ax: Axes,
    x: Any,
    median: Any,
    central_x: Any,
    central: Any,
    central_label: str,
    median_label: str = MEDIAN_LABEL,
) -> None:
    """Each month's median (solid) and the central run (dashed) of a fan panel."""
    ax.plot(x, median.to_numpy(float), color=MEDIAN_COLOR, lw=2.2, label=median_label, zorder=5)
    if len(central):
        ax.plot(
            central_x,
            central.to_numpy(float),
            color=CENTRAL_COLOR,
            lw=1.4,
            ls=(0, (5, 3)),
            zorder=6,
            label=f"{central_label} ({CENTRAL_READING})",
        )


def legend_handles(ax: Axes | Sequence[Axes]) -> tuple[list[Any], list[str]]:
    """The labelled lines of the panels ``ax`` (each label once), and the deadline mark."""

    handles, labels = common.legend_entries([ax] if not isinstance(ax, Sequence) else ax)
    handles.append(deadline_handle())
    labels.append(DEADLINE_LABEL)
    return handles, labels


DEADLINE_LABEL = f"{common.DEADLINE_KEY} (share of draws meeting it)"
#: what "met" at a deadline counts: each draw against its own target, not the bands'
#: levels (a fan whose band lies above a deadline "met 100 %" read as a contradiction)
MET_NOTE = (
    "\u201cMet\u201d: the share of draws at or below their own target at the deadline (each "
    "its drawn cut, any advisory presence that stays allowed), so a band may lie above a "
    "deadline met."
)


def deadline_handle(label: str = "_nolegend_") -> Any:
    """A legend entry for the dotted deadline verticals of :func:`deadline_marks`."""
    from matplotlib.lines import Line2D

    return Line2D([], [], color=DEADLINE_COLOR, lw=1.1, ls=(0, (1.5, 2.5)), label=label)


@common.plain_text
def draw_fan(
    result: Result,
    ax: Any = None,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    *,
    legend_room: float = 0.0,
) -> list[Axes]:
    """Fan chart of an ensemble: a panel per theater (or site) and variant.

    Parameters
    ----------
    result : Result
        An ensemble result (``result.bands`` set: ``sim.run(..., draws=N, seed=S)``).
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per (theater, variant) panel, theater-major: every variant of
        the first theater, then every variant of the next. A new figure (at
        least 1600×1000 px, taller for many panels) when omitted.
    theaters : sequence of str, optional
        Theater ids, or sites as ``THEATER/SITE`` (``iraq/erbil``), to draw (default:
        every theater, each followed by its sites in a new figure; every theater into
        given axes).
    variants : sequence of str, optional
        Variant names; default: every variant of the result.
    legend_room : float
        Extra height [in] between the title block and the panels of a new figure,
        for the observations' legend.

    Returns
    -------
    list of matplotlib.axes.Axes
        The panels, theater-major.

    Raises
    ------
    ValueError
        The result is not an ensemble, a theater or variant is unknown, or ``ax``
        does not hold one axes per panel.
    """
    if result.bands is None:
        raise ValueError(NEEDS_ENSEMBLE)
    # (a new figure adds a panel per site after its theater; axes given take theaters)
    names = _series(result, theaters, sites=ax is None)
    chosen = _variants(result, variants)
    fig: Figure | None = None
    crowded = None
    medians: list[str] = []
    if ax is None:  # a new figure: at most common.MAX_FAN_PANELS panels, and a note
        names, chosen, crowded = common.fan_selection(names, chosen)
        if crowded:
            common.warn_crowded("fan", crowded)
        # (a note on the medians that lie on an official figure: a line of the foot)
        medians = common.median_notes(result, names, chosen) if result.draws else []
        lines = (2 if crowded else 0) + (1 if medians else 0)
        fig, axes, tops = _new_figure(names, chosen, legend_room, foot_lines=lines)
    else:
        axes = _given_axes(ax, names, chosen)
        tops = []
    small = fig is not None and grid_shape(len(chosen))[1] > 1
    rows, cols = grid_shape(len(chosen))
    for t, tid in enumerate(names):
        block = axes[t * len(chosen) : (t + 1) * len(chosen)]
        top = 0.0
        for i, (v, a) in enumerate(zip(chosen, block, strict=True)):
            top = max(top, _panel(result, a, tid, v))
            if fig is not None:
                common.style_axes(a, "")
                _panel_title(result, a, v, small=small)
            else:
                common.style_axes(a, f"{common.theater_title(result, tid)} · {v}")
            _short_style(a, small)
            if fig is not None and i % cols != 0:
                a.set_ylabel("")
                a.tick_params(labelleft=False)
        for a in block:
            a.set_ylim(0, max(top * 1.18, 10))
        for v, a in zip(chosen, block, strict=True):
            _deadlines(result, result.plans[v], v, tid, a, small=small)
        if fig is not None:
            fig.text(
                0.02,
                tops[t] - 0.004,
                common.theater_title(result, tid),
                fontsize=17,
                fontweight="bold",
                va="top",
                ha="left",
            )
    clear_top_labels(axes)  # the deadlines' labels above the data, nothing hidden
    if fig is not None:
        # (its foot counts the inputs of the variants drawn, not of those left out)
        drawn = result if chosen == list(result.variants) else common.only(result, chosen)
        _decorate(
            drawn,
            fig,
            axes,
            len(chosen),
            crowded,
            sites=any("/" in t for t in names),
            medians=medians,
        )
    else:  # the legend is the caller's: ax.legend() lists the bands, lines and deadlines,
        # the deadline's on the first panel drawing one (one with none had listed it)
        dated = next(
            (a for a in axes if any(line.get_gid() == "deadline" for line in a.get_lines())),
            None,
        )
        if dated is not None:
            dated.add_line(deadline_handle(DEADLINE_LABEL))
    return axes


#: where a description too long for its lines may end, before " …": after a clause
CLAUSE_ENDS = (", ", ": ", "; ", " (", " — ", " – ")
# (a lookahead: every place one begins, where two overlap too)
_CLAUSE_END = re.compile("(?=" + "|".join(re.escape(m) for m in CLAUSE_ENDS) + ")")


def shortened(text: str, width: int, most: int = 2) -> list[str]:
    """``text`` wrapped to lines of ``width`` characters, at most ``most`` of them: when it
    does not fit, cut at the end of its last clause that fits with " …" after it (a comma,
    colon, semicolon, dash or opening bracket: "… left open: when the announcement
    comes …", not "… comes, whether …"), or, when no clause ends in the second half of
    the room, after the last word that fits."""
    lines = textwrap.wrap(text, width, max_lines=most, placeholder=" …")
    if " ".join(lines) == " ".join(text.split()):
        return lines
    flat = " ".join(text.split())
    ends = sorted({m.start() for m in _CLAUSE_END.finditer(flat)}, reverse=True)
    for end in ends:
        head = flat[:end].rstrip(" ,:;")
        cut = textwrap.wrap(head + " …", width)
        if len(cut) <= most and len(head) >= width * most // 2:
            return cut
    return lines


def _panel_title(result: Result, ax: Axes, variant: str, *, small: bool) -> None:
    """The variant's name in bold, its description in grey beneath it (two lines at most)."""
    try:
        text = result.scenario.describe(variant)
    except (ScenarioError, AttributeError):  # a variant the scenario lacks: no text
        text = ""
    lines = shortened(text, 46 if small else 150)
    size = 9.5 if small else 11
    if lines:
        ax.annotate(
            "\n".join(lines),
            (0, 1),
            xycoords="axes fraction",
            xytext=(0, 4),
            textcoords="offset points",
            va="bottom",
            ha="left",
            fontsize=size,
            color="#555555",
            linespacing=1.15,
        )
    pad = 6 + len(lines) * size * 1.2
    ax.set_title(variant, loc="left", fontsize=12.5 if small else 14, fontweight="bold", pad=pad)


def _decorate(
    result: Result,
    fig: Figure,
    axes: Sequence[Axes],
    n_variants: int,
    crowded: str | None = None,
    *,
    sites: bool = False,
    medians: Sequence[str] = (),
) -> None:
    draws = f"{result.draws:,}" if result.draws else "the"
    note = _foot(result, axes, n_variants, common.footnote(result), medians)
    if crowded:
        note += "\n" + textwrap.fill(crowded, 190)
    handles, labels = legend_handles(axes)
    panel = "theater or site" if sites else "theater"
    scale = ""  # (one variant: one panel per theater or site, on its own scale)
    if n_variants > 1:
        scale = ", one scale per theater or site" if sites else "; each theater shares one scale"
    decorate(
        fig,
        fan_title(result),
        f"Troops at the end of each month across {draws} random draws of the uncertain "
        f"inputs, one panel per {panel} and reading of the plan (variant){scale}.",
        handles,
        labels,
        note,
    )


def _foot(
    result: Result, axes: Sequence[Axes], n_variants: int, note: str, medians: Sequence[str]
) -> str:
    """A fan's footnote: ``note`` (:func:`sim.plotting.common.footnote`), then the
    ensemble's draws and seed, the ``medians``' notes and what "met" counts."""
    if result.draws:
        note += (
            f"\nEnsemble of {result.draws:,} draws, seed {result.seed}; the same seed "
            "reproduces it."
            + (" Every variant sees the same draws." if n_variants > 1 else "")
            + " Percentiles are exact over the draws, not interpolated; the solid line"
            " joins each month's median, a path no single draw need follow."
        )
        if medians:
            note += "\n" + " ".join(medians)
        # (from what is drawn, not the labels' text: a crowded label drops its "met")
        deadlines = any(line.get_gid() == "deadline" for ax in axes for line in ax.get_lines())
        if deadlines and "p_met" in result.milestones.columns:
            note += "\n" + MET_NOTE
    return note


def decorate(
    fig: Figure, title: str, subtitle: str, handles: list[Any], labels: list[str], note: str
) -> None:
    """Title, subtitle and legend across the top of a fan-style figure; ``note`` at the foot."""
    height = fig.get_figheight()
    y = 1 - 0.28 / height
    head = fig.text(
        0.02, y, title, fontsize=title_size(title), fontweight="bold", va="top", ha="left"
    )
    common.fit_width(head)  # (a title too long even at 12 pt: smaller, never cut)
    sub = fig.text(
        0.02, y - 0.46 / height, subtitle, fontsize=12.5, color="#333333", va="top", ha="left"
    )
    common.fit_width(sub)
    fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0.02, y - 0.82 / height),
        ncol=3,
        fontsize=11,
        frameon=False,
        handlelength=2.6,
        columnspacing=1.8,
    )
    fig.text(0.02, 0.12 / height, note, fontsize=9.5, color="#444444", va="bottom", ha="left")


@common.plain_text
def plot_fan(
    result: Result,
    ax: Any = None,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    observed: Any = None,
    *,
    weighted: bool = False,
    column: bool = False,
) -> list[Axes]:
    """Fan chart of an ensemble: a panel per theater (or site) and variant.

    Parameters
    ----------
    result : Result
        An ensemble result (``sim.run(..., draws=N, seed=S)``).
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per (theater, variant) panel, theater-major; a new figure
        (at least 1600×1000 px) when omitted.
    theaters : sequence of str, optional
        Theater ids, or sites as ``THEATER/SITE`` (``iraq/erbil``), to draw (default:
        every theater, each followed by its sites in a new figure; every theater into
        given axes).
    variants : sequence of str, optional
        Variant names; default: every variant of the result.
    observed : sim.io.observations.ObservationSet, str or pathlib.Path, optional
        Observed levels to draw, or the path of their CSV file (read against the
        result's scenario); default: those attached to ``result``; False: none.
    weighted : bool
        Draw the percentiles of the draws weighted by the reports the ensemble was
        conditioned on (``sim.run(..., observed=..., condition=True)``), as ``forcesim
        run --condition`` draws ``fan_conditioned.png``: the title says what the draws
        are conditioned on, each panel gives its effective draws, and variants left
        with too few effective draws are not drawn. Default False: the draws
        unweighted, the reports only drawn over them.
    column : bool
        Lay the chart out for a newspaper column 600 px wide
        (:mod:`sim.plotting.column`): a figure of its own 6 in wide (written 1200 px
        wide, at 200 dpi, by :func:`sim.plotting.save`), at most four panels stacked,
        the key under them; without ``variants``, the first variant alone. Default
        False: 1600 px wide, a column of panels per variant.

    Returns
    -------
    list of matplotlib.axes.Axes
        The panels, theater-major: the median and the 5–95, 10–90 and 25–75
        percentile bands of ``result.bands`` [troops] against months (with
        ``weighted``, of the weighted bands).

    Raises
    ------
    TypeError
        For anything but a Result (a Comparison, a Backtest), or ``observed`` of
        another kind, naming what it takes.
    ValueError
        For a result without draws, a variant or theater the result does not hold,
        the wrong number of axes, or axes a chart of months and troops cannot be
        drawn in (polar or 3-D axes, a log y-axis); with ``weighted``, a result not
        conditioned on reports, or one whose every variant kept too few effective
        draws; axes given with ``column``.
    """
    common.expect(result, Result, "plot_fan", "sim.run")
    if column:
        if ax is not None:
            raise ValueError(column_layout.OWN.format("plot_fan"))
        return _in_column(result, theaters, variants, observed, weighted=weighted)
    if weighted:
        return _weighted_fan(result, ax, theaters, variants, observed)
    observed = observed_argument(result, observed, "plot_fan")
    if result.bands is None:
        raise ValueError(NEEDS_ENSEMBLE)
    names = _series(result, theaters, sites=ax is None)
    chosen = _variants(result, variants)
    if ax is None:  # the panels draw_fan will choose
        names, chosen, _ = common.fan_selection(names, chosen)
    shown = visible(
        getattr(observations_of(result, observed), "items", ()),
        names,
        next(iter(result.plans.values())).months,
    )
    room = OBSERVED_LEGEND_IN if shown and ax is None else 0.0
    axes = draw_fan(result, ax=ax, theaters=theaters, variants=variants, legend_room=room)
    add_to_fan(axes, result, names, chosen, observed)
    clear_top_labels(axes)  # the deadlines' labels over the observations too
    for a in axes:
        place_as_of(a)  # where the data leave room, within the limits just set
    return axes


def _in_column(
    result: Result,
    theaters: Sequence[str] | None,
    variants: Sequence[str] | None,
    observed: Any,
    *,
    weighted: bool,
) -> list[Axes]:
    """:func:`plot_fan` laid out for a newspaper column (:mod:`sim.plotting.column`): a
    panel per theater (sites only when named) and variant, stacked, at most four;
    without ``variants``, the first variant alone (the footnote says it is one of
    several). The panels are drawn into the column's axes as into any axes given, then
    the title, subtitle, key and footnote are set around them."""
    if result.bands is None:
        raise ValueError(NEEDS_ENSEMBLE)
    drawn_from, assessment = _conditioned(result) if weighted else (result, None)
    names = _series(drawn_from, theaters, sites=False)
    asked = _variants(drawn_from, variants)
    first = None
    if variants is None and len(asked) > 1:
        first = f"One of {len(asked)} readings of the plan (variants) the scenario gives."
        asked = asked[:1]
    series, readings = names, asked
    names, chosen, crowded = common.fan_selection(
        names,
        asked,
        most=column_layout.MAX_PANELS,
        choose=(f"choose with {column_layout.CHOOSE_VARIANTS}", column_layout.CHOOSE_THEATERS),
    )
    if crowded:  # (how to choose, for whoever draws it; the foot is the readers')
        common.warn_crowded("fan", crowded)
    left = column_layout.not_drawn(
        drawn_from,
        [t for t in series if t not in names],
        [v for v in readings if v not in chosen],
    )
    fig, axes = column_layout.figure(len(names) * len(chosen))
    with column_layout.drawing():
        if assessment is None:
            plot_fan(result, ax=axes, theaters=names, variants=chosen, observed=observed)
        else:  # (the weighted draws found once, above, not again)
            _weighted_into(drawn_from, assessment, axes, names, chosen, observed)
    shown = drawn_from if chosen == list(drawn_from.variants) else common.only(drawn_from, chosen)
    medians = common.median_notes(shown, names, chosen) if shown.draws and not weighted else []
    draws = f"{result.draws:,}" if result.draws else "the"
    if len(chosen) == 1:
        described = shown.scenario.describe(chosen[0]) if chosen[0] in shown.plans else ""
        which = f", variant {chosen[0]}" + (
            f": {shortened(described, 150, 1)[0]}" if described else ""
        )
    else:
        which = ", a panel per theater and variant"
    which = which.rstrip(".")
    title = fan_title(result)
    subtitle = (
        f"Troops at the end of each month across {draws} random draws of the uncertain "
        f"inputs{which}" + ("" if which.endswith("…") else ".")
    )
    head = common.footnote(shown, reader=True)
    if assessment is not None:
        title = conditioned_title(result.scenario.doc.title, assessment)
        subtitle = conditioned_subtitle(assessment, chosen) + f" Variant {chosen[0]}." * (
            len(chosen) == 1
        )
        head = common.footnote(shown, news=assessment.as_of, conditioned=True, reader=True)
    note = _foot(shown, axes, len(chosen), head, medians)
    # (the line under a conditioned fan, of the variants and reports it leaves out)
    for text in [t for t in fig.texts if t.get_gid() == CONDITIONED_NOTE_GID]:
        note += "\n" + text.get_text()
        text.remove()
    # (the reports drawn, credited: the reader's foot names no file that lists them)
    shown_reports = observations_of(result, observed)
    items = [o for o in getattr(shown_reports, "items", ()) if o.theater in names]
    credit = reports_credit(result.scenario.doc.sources, items)
    note += "".join(
        "\n" + n for n in (f"Reports drawn: {credit}." if credit else "", first, left) if n
    )
    handles, labels = common.legend_entries(axes)
    column_layout.frame(fig, axes, title, subtitle, handles, labels, note)
    return axes
