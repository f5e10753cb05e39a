"""Charts of observed levels: the overlay on the envelope and fan charts, the
as-of line, the conditioned fan's labels, and the backtest chart.

Observations are drawn at the end of the month they are compared with (where
the model's monthly value sits): a point as a dot, a range as a vertical bar
with caps, "fewer than N" as a triangle at N with an arrow pointing down, "more
than N" with an arrow pointing up. The kind sets the colour and the point's
shape: a reported count in black (circle), an official figure in orange
(square), a target or promise in grey (diamond, dashed bar), drawn at the month
it is due when the row gives one. Dots, squares and diamonds of one month that would
cover one another (a report of 0 where a target was due for 0) are drawn side by side
across the month's end, official, reported, target. With an as-of date, what was known by then is
filled and what was reported later is hollow, and a vertical line marks the
date. Observations outside the chart's months are not drawn (``observed.csv``
lists them as out of range).

Like :mod:`sim.plotting.fan`, this module draws through :mod:`sim.plotting`
(Agg backend); every function takes axes and returns them, and none saves a file.
"""

from __future__ import annotations

import datetime as dt
import os
import weakref
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import colors
from sim.io.numbers import exact_percent
from sim.months import spell_date, spell_day
from sim.plotting import common
from sim.plotting.common import title_size

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.analysis.observed import Assessment
    from sim.io.observations import Observation, ObservationSet
    from sim.results import Result

COLOR = colors.OBSERVED
EDGE = colors.OBSERVED_EDGE
KIND_COLORS = {"reported": COLOR, "official": colors.OFFICIAL, "target": colors.PROMISED}
POINT_MARKERS = {"reported": "o", "official": "s", "target": "D"}
AS_OF_COLOR = colors.AS_OF
OBSERVED_LEGEND_IN = 1.1  # room a fan chart leaves for the observations' legend [in]
SHAPE_LABELS = {
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


def not_known_label(observations: Sequence[Observation], as_of: dt.date) -> str:
    """What the hollow marks of reports not known on ``as_of`` are called: "reported
    later", or, when some are dated by the as-of month alone (neither known then nor
    later for certain: :meth:`~sim.io.observations.Observation.after`), "not known on
    DAY"."""
    unknown = [o for o in observations if not o.known(as_of)]
    if all(o.after(as_of) for o in unknown):
        return "reported later"
    return f"not known on {spell_day(as_of)}"


def observed_argument(result: Result, observed: Any, function: str) -> Any:
    """A chart function's ``observed``: None (those attached to ``result``), False
    (none), an ObservationSet or an Assessment as given, or the path of an observations
    CSV file read against ``result``'s scenario (:func:`sim.load_observations`).

    Raises
    ------
    TypeError
        For anything else, naming what ``function`` takes.
    sim.ScenarioError
        For a path: a missing file or a bad row (one line naming the file, line and
        column); for observations given or read, the first report of a theater (or
        site) the scenario lacks, as :func:`sim.run` refuses it.
    """
    from sim.io.observations import ObservationSet
    from sim.scenario import load_observations

    if observed is None or observed is False:
        return observed
    if isinstance(observed, str | os.PathLike):
        return load_observations(Path(observed), result.scenario)
    if isinstance(getattr(observed, "observations", observed), ObservationSet):
        from sim.analysis.observed import check_observed

        # (another scenario's record drew nothing, and said nothing: as a file, refused)
        check_observed(result.scenario, observed, "observed=")
        return observed
    raise TypeError(
        f"{function}() takes observed= as an ObservationSet (sim.load_observations), the "
        f"path of its CSV file, or False for none, not {type(observed).__name__}"
    )


def observations_of(result: Result, observed: Any = None) -> ObservationSet | None:
    """The observations to draw: ``observed`` (an ObservationSet or an Assessment), else
    those attached to ``result`` by :func:`sim.with_observations`; None for none."""
    if observed is False:
        return None
    source = observed if observed is not None else getattr(result, "observed", None)
    if source is None:
        return None
    return getattr(source, "observations", source)


def as_of_of(result: Result, observed: Any = None) -> dt.date | None:
    """The as-of date the observations were scored with (None: all were known)."""
    if observed is False:
        return None
    source = observed if observed is not None else getattr(result, "observed", None)
    return getattr(source, "as_of", None)


def _xs(observations: Sequence[Observation]) -> Any:
    """Where each observation is drawn on a time axis: the end of its drawn month
    (:func:`drawn_month`), as datetime64 (n,)."""
    return common.month_ends(pd.PeriodIndex([drawn_month(o) for o in observations], freq="M"))


def drawn_month(o: Observation) -> str:
    """The month (``YYYY-MM``) an observation is drawn at: the month a target or
    promise is due, when its row gives one (``by``); else the month it describes."""
    from sim.months import format_month

    return format_month(o.by) if o.by is not None else o.month_text


def visible(
    observations: Sequence[Observation], series: Sequence[str] | str, months: Sequence[str] | None
) -> list[Observation]:
    """The observations of ``series`` (one name or several) drawn within ``months``
    (``YYYY-MM``, first and last; all when None)."""
    names = {series} if isinstance(series, str) else set(series)
    out = [o for o in observations if o.theater in names]
    if months:
        first, last = months[0], months[-1]
        out = [o for o in out if first <= drawn_month(o) <= last]
    return out


def observed_top(
    observations: Sequence[Observation], series: str, months: Sequence[str] | None = None
) -> float:
    """The highest value the observations of ``series`` reach on a chart [troops]."""
    top = 0.0
    for o in visible(observations, series, months):
        if o.shape == "at least":
            assert o.low is not None
            top = max(top, o.low * 1.15)
        else:
            top = max(top, o.high if o.high is not None else 0.0)
    return top


def _style(o: Observation, as_of: dt.date | None) -> tuple[str, str, bool]:
    """(colour, point marker, filled) of an observation."""
    return KIND_COLORS[o.kind], POINT_MARKERS[o.kind], o.known(as_of)


CROWDED_PT = 3 * 3.2
"""The least space between the months of neighbouring observations [pt] at which their
marks keep their full size (a bar a third of it); closer, every mark is drawn thinner in
proportion, down to MIN_SCALE: 6,000 monthly ranges over 600 months drew bars 3.2 pt
wide 1.1 pt apart, a black block that hid the fan beneath."""
MIN_SCALE = 0.1
SIZES = ("lw", "ms", "mew")  # the Line2D settings a crowded panel draws thinner

CAPS_PER_MONTH = 4
"""The most reports of one look a month shows each with its own caps; past it, the
month's caps mark only the ends of the stretches its reports cover (:func:`_caps`)."""


def _mark_scale(ax: Axes, xs: Any) -> float:
    """How much thinner than usual to draw marks at ``xs`` (datetime64) on ``ax``: 1 when
    the median space between neighbouring months drawn is at least CROWDED_PT, else in
    proportion (at least MIN_SCALE)."""
    import matplotlib.dates as mdates

    days = np.unique(mdates.date2num(np.asarray(xs, dtype="datetime64[s]")))
    if len(days) < 2:
        return 1.0
    x0, x1 = ax.get_xlim()
    width_pt = ax.bbox.width * 72 / ax.figure.dpi
    if x1 <= x0 or width_pt <= 0:
        return 1.0
    gap_pt = float(np.median(np.diff(days))) * width_pt / (x1 - x0)
    return max(MIN_SCALE, min(1.0, gap_pt / common.pt(CROWDED_PT)))


#: the order, left to right, in which point marks of different kinds that would lie on
#: one another in one month are drawn side by side (:func:`_dodged`)
DODGE_ORDER = ("official", "reported", "target")
#: the space between the centres of marks drawn side by side [pt] (a dot is 8.5 pt wide)
DODGE_PT = 9.0


def _dodged(ax: Axes, shown: Sequence[Observation], xs: Any, scale: float) -> Any:
    """``xs`` (datetime64 (n,), where each of ``shown`` is drawn), with the point marks of
    different kinds that would lie on one another (the same month, levels closer than a
    mark's height on ``ax``) moved apart, side by side across their month's end, in
    :data:`DODGE_ORDER`: a report of 0 in the month two targets were due for 0 was hidden
    under their diamond. Marks of one kind stay where they are (one over another, they
    say the same), and so does every other mark. ``scale``: :func:`_mark_scale`'s."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width_pt = ax.bbox.width * 72 / ax.figure.dpi
    height_pt = ax.bbox.height * 72 / ax.figure.dpi
    if x1 <= x0 or y1 <= y0 or width_pt <= 0 or height_pt <= 0:
        return xs
    step_days = common.pt(DODGE_PT) * scale * (x1 - x0) / width_pt
    near = common.pt(DODGE_PT) * scale * (y1 - y0) / height_pt  # [troops]
    out = np.array(xs, dtype="datetime64[s]")
    by_month: dict[Any, list[int]] = {}
    for i, o in enumerate(shown):
        if o.shape == "point" and o.kind in DODGE_ORDER:
            by_month.setdefault(out[i], []).append(i)
    for members in by_month.values():
        if len({shown[i].kind for i in members}) < 2:
            continue
        members = sorted(members, key=lambda i: shown[i].low or 0.0)
        # marks within a mark's height of the one below them lie on one another
        clusters: list[list[int]] = [[members[0]]]
        for i in members[1:]:
            if (shown[i].low or 0.0) - (shown[clusters[-1][-1]].low or 0.0) < near:
                clusters[-1].append(i)
            else:
                clusters.append([i])
        for cluster in clusters:
            kinds = [k for k in DODGE_ORDER if any(shown[i].kind == k for i in cluster)]
            if len(kinds) < 2:
                continue
            for i in cluster:
                turn = kinds.index(shown[i].kind) - (len(kinds) - 1) / 2
                out[i] = out[i] + np.timedelta64(round(turn * step_days * 86400), "s")
    return out


def _placed(ax: Axes, shown: Sequence[Observation]) -> tuple[Any, float]:
    """``(xs, scale)``: where each of ``shown`` (the observations drawn on ``ax``) is
    drawn (datetime64 (n,), :func:`_dodged`), and how much thinner than usual
    (:func:`_mark_scale`)."""
    xs = _xs(shown)
    scale = _mark_scale(ax, xs)
    return _dodged(ax, shown, xs, scale), scale


#: the colour of a conditioned fan's own marks: its effective draws, the ring around a
#: report left out of its weights, and its note of them
CONDITIONED_COLOR = colors.AS_OF
#: the ring around a report a conditioned fan left out of its weights [pt]
RING_PT = 17.0


#: where :func:`draw_observations` put each observation on an axes: ``(x, scale)``
#: by observation, for :func:`ring_left_out` to ring each mark where it was drawn (the
#: axes' limits may change after, and with them where a mark would be dodged to)
_PLACED: weakref.WeakKeyDictionary[Any, dict[Observation, tuple[Any, float]]] = (
    weakref.WeakKeyDictionary()
)


def ring_left_out(ax: Axes, left_out: Collection[Observation]) -> int:
    """Ring in :data:`CONDITIONED_COLOR`, on ``ax``, the reports of ``left_out`` that
    :func:`draw_observations` drew there, each around its mark where it was drawn: a
    point at its level, a range at its middle, a "fewer than" or "more than" at its
    bound. Returns how many."""
    placed = _PLACED.get(ax, {})
    ringed = [(placed[o], o.reference) for o in left_out if o in placed]
    if not ringed:
        return 0
    scale = min(s for (_, s), _ in ringed)
    ax.plot(
        [x for (x, _), _ in ringed],
        [y for _, y in ringed],
        ls="none",
        marker="o",
        ms=common.pt(RING_PT) * scale,
        mfc="none",
        mec=CONDITIONED_COLOR,
        mew=1.6 * scale,
        zorder=9.8,
        clip_on=False,
        gid="left-out",
        label="_nolegend_",
    )
    return len(ringed)


def _apart(
    arrows: list[tuple[Any, float, float, str, bool, bool]], length: float
) -> list[tuple[Any, float, float, str, bool, bool]]:
    """``arrows`` (x, head, bound, colour, dashed, filled) in drawing order (what was known
    last, over what came later), without those that would lie on one already drawn: an
    arrow of the same month, look and direction whose bound is less than ``length`` away.
    Each bound keeps its own triangle; 3,333 targets "fewer than N" of 24 months drew
    3,333 arrows a panel, one over another, and placing the labels of a chart clear of
    each took most of 100 s."""
    kept: list[tuple[Any, float, float, str, bool, bool]] = []
    last: dict[tuple[Any, ...], float] = {}
    # (from the far end of the arrows: a bound on the shaft of one kept is left out)
    for a in sorted(arrows, key=lambda a: (a[-1], a[2] if a[1] > a[2] else -a[2])):
        x, head, bound, color, dashed, filled = a
        look = (x, color, dashed, filled, head < bound)
        if look in last and abs(bound - last[look]) < length:
            continue
        last[look] = bound
        kept.append(a)
    return kept


def draw_observations(
    ax: Axes,
    observations: Sequence[Observation],
    series: str,
    months: Sequence[str] | None = None,
    as_of: dt.date | None = None,
) -> None:
    """Draw the observations of ``series`` (a theater or site key) on ``ax``, whose
    y-limits should already be final (arrows are sized from them).

    ``months`` (``YYYY-MM``, first and last) limits them to the chart's months;
    with ``as_of``, the observations made public after it are drawn hollow.

    The marks that look alike (the dots of one kind and fill, the bars of one colour,
    their caps) are drawn as one line each, so a record of thousands of rows adds a
    handful of artists to the panel, not thousands; only the arrows of "fewer than" and
    "more than" are one annotation each, and of those that look alike in one month, only
    the ones that would not lie on an arrow already drawn (:func:`_apart`).
    """
    shown = visible(observations, series, months)
    if not shown:
        return
    lo_lim, hi_lim = ax.get_ylim()
    arrow = 0.09 * (hi_lim - lo_lim)
    xs_shown, scale = _placed(ax, shown)
    _PLACED.setdefault(ax, {}).update((o, (x, scale)) for o, x in zip(shown, xs_shown, strict=True))
    # each look, in the order it first occurs: (filled, its Line2D settings, its xs,
    # its ys, whether its bars are solid); a bar is two points and a gap (NaN), so one
    # line draws many bars
    looks: dict[tuple[Any, ...], tuple[bool, dict[str, Any], list[Any], list[float], bool]] = {}
    arrows: list[tuple[Any, float, float, str, bool, bool]] = []

    def mark(style: dict[str, Any], xs: list[Any], ys: list[float], solid: bool = False) -> None:
        if scale < 1:  # marks as thin as their months lie close (CROWDED_PT)
            style = {k: v * scale if k in SIZES else v for k, v in style.items()}
        key = (filled, solid, *sorted((k, str(v)) for k, v in style.items()))
        look = looks.setdefault(key, (filled, style, [], [], solid))
        look[2].extend(xs)
        look[3].extend(ys)

    for o, x in zip(shown, xs_shown, strict=True):
        color, marker, filled = _style(o, as_of)
        face = color if filled else "white"
        shape = o.shape
        dashed = o.kind == "target"
        if shape == "point":
            assert o.low is not None
            point = {
                "ls": "none",
                "marker": marker,
                "ms": common.pt(8.5 if marker == "o" else 7.5),
                "mfc": face,
                "mec": color if not filled else EDGE,
                "mew": 1.6,
                # whole at 0 (not cut by the axes' edge), and a target over a report
                # of the same month, which would hide its upper half
                "zorder": 9.7 if o.kind == "target" else 9,
                "clip_on": False,
            }
            mark(point, [x], [o.low])
        elif shape == "range":
            assert o.low is not None and o.high is not None
            bar = {
                "color": color,
                "lw": common.pt(3.2),
                "ls": (0, (2, 1.2)) if dashed else "-",
                "solid_capstyle": "butt",
                "zorder": 9,
            }
            mark(bar, [x, x, x], [o.low, o.high, float("nan")], solid=not dashed)
            if not filled:  # hollow: a white core inside the bar
                core = {"color": "white", "lw": 1.2, "solid_capstyle": "butt", "zorder": 9.5}
                mark(core, [x, x, x], [o.low, o.high, float("nan")], solid=True)
            caps = {
                "ls": "none",
                "marker": "_",
                "ms": common.pt(13),
                "mew": common.pt(3),
                "color": color,
                "zorder": 9,
            }
            mark(caps, [x, x], [o.low, o.high])
        else:
            bound = o.high if shape == "at most" else o.low
            assert bound is not None
            head = max(bound - arrow, lo_lim) if shape == "at most" else bound + arrow
            triangle = {
                "ls": "none",
                "marker": "v" if shape == "at most" else "^",
                "ms": common.pt(9),
                "mfc": face,
                "mec": color,
                "mew": 1.6,
                "zorder": 9,
            }
            mark(triangle, [x], [bound])
            if head != bound:
                arrows.append((x, head, bound, color, dashed, filled))
    # the marks over the arrows (a mark is the figure reported; an arrow only points
    # from it), and what was known by the as-of date over what was reported later
    for x, head, bound, color, dashed, _ in _apart(arrows, arrow):
        ax.annotate(
            "",
            xy=(x, head),
            xytext=(x, bound),
            zorder=9,
            arrowprops={
                "arrowstyle": "-|>,head_length=0.5,head_width=0.3",
                "color": color,
                "lw": 2.0 * scale,
                "ls": (0, (2, 1.2)) if dashed else "-",
                "shrinkA": 5,
                "shrinkB": 0,
            },
        )
    for _, style, xs, ys, solid in sorted(looks.values(), key=lambda look: look[0]):
        if solid:
            xs, ys = _covered(xs, ys)
        elif style.get("marker") == "_":
            xs, ys = _caps(xs, ys)
        ax.plot(xs, ys, label="_nolegend_", **style)


def _covered(xs: list[Any], ys: list[float]) -> tuple[list[Any], list[float]]:
    """Solid bars of one look (each three points: x, x, x and low, high, NaN) as the
    stretches they cover at each x, one bar a stretch, drawn once. Agg keeps a cell
    for every pixel each bar crosses: 10,000 reports over 24 months, one bar over
    another, took 135 MB to draw.

    The pixels inside the bars are the same (an opaque bar over another of its colour
    and width adds nothing); the half-covered pixels along a bar's sides are not: where
    bars overlapped, each drew those edge pixels again, darker each time, and the
    stretch draws them once, as light as a single bar's."""
    spans: dict[Any, list[tuple[float, float]]] = {}
    for i in range(0, len(xs), 3):
        spans.setdefault(xs[i], []).append((ys[i], ys[i + 1]))
    out_x: list[Any] = []
    out_y: list[float] = []
    for x, got in spans.items():
        for low, high in stretches(got):
            out_x += [x, x, x]
            out_y += [low, high, float("nan")]
    return out_x, out_y


def stretches(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The stretches ``(low, high)`` that ``ranges`` cover together, from the lowest."""
    ranges = sorted(ranges)
    out = [ranges[0]]
    for a, b in ranges[1:]:
        low, high = out[-1]
        if a > high:  # a gap: the stretch so far ends
            out.append((a, b))
        else:
            out[-1] = (low, max(high, b))
    return out


def _caps(xs: list[Any], ys: list[float]) -> tuple[list[Any], list[float]]:
    """Caps of one look (each report two points: x, x and low, high) as drawn: every
    report's where each month has at most :data:`CAPS_PER_MONTH`; in a month with more,
    only the ends of the stretches its reports' bars cover (:func:`stretches`), where
    some 400 reports a month, their ends a few troops apart, drew cap over cap into a
    black block as tall as the spread of their ends."""
    pairs: dict[Any, list[tuple[float, float]]] = {}
    for i in range(0, len(xs), 2):
        pairs.setdefault(xs[i], []).append((ys[i], ys[i + 1]))
    if all(len(got) <= CAPS_PER_MONTH for got in pairs.values()):
        return xs, ys
    out_x: list[Any] = []
    out_y: list[float] = []
    for x, got in pairs.items():
        for low, high in got if len(got) <= CAPS_PER_MONTH else stretches(got):
            out_x += [x, x]
            out_y += [low, high]
    return out_x, out_y


def draw_as_of(ax: Axes, as_of: dt.date | None, *, label: bool = True) -> None:
    """A vertical line at the as-of date, labelled at the top, left of the line; once
    the panel's limits and other labels are final, :func:`place_as_of` moves the label
    to where it covers nothing."""
    if as_of is None:
        return
    when = pd.Timestamp(as_of).to_datetime64()
    ax.axvline(when, color=AS_OF_COLOR, lw=1.4, ls=(0, (6, 2, 1, 2)), zorder=7, gid="as-of")
    # (into axes given the line is left unlabelled: ax.legend() names it, and a narrow
    # panel has no room beside the deadlines' labels)
    if label and common.own_figure():
        ax.annotate(
            f"as of\n{spell_day(as_of)}",
            (when, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-4, -3),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=9.5,
            color=AS_OF_COLOR,
            zorder=8,
            gid=common.AS_OF_LABEL_GID,
        )


def place_as_of(ax: Axes) -> None:
    """Move the as-of label of ``ax`` (if any) to the first place beside its line, from
    the top down, left of the line then right, where it stays inside the panel and
    covers no data, deadline label or line (:func:`sim.plotting.clearance.beside_line`),
    in its own wording ("as of / 1 Jun 2025"), else a narrower one ("as of / 1 Jun /
    2025"), the same day spelled alike; where there is
    none, the label goes (the legend names the date). The panel's
    y-limits are left as they are: a label beside a date near the panel's left edge
    used to drop below the deadlines' labels and raise the limit far above the data.
    The as-of line stops below any deadline's label it would run through
    (:func:`sim.plotting.clearance.stop_below_labels`). Call it once the limits and the
    deadlines' labels are final."""
    from matplotlib.text import Annotation

    from sim.plotting.clearance import beside_line, stop_below_labels

    for line in [x for x in ax.lines if x.get_gid() == "as-of"]:  # (not through a deadline's label)
        stop_below_labels(ax, line, [common.DEADLINE_LABEL_GID])
    for note in [t for t in ax.texts if t.get_gid() == common.AS_OF_LABEL_GID]:
        if not isinstance(note, Annotation):  # (draw_as_of's label points at its date)
            continue
        day = pd.Timestamp(note.xy[0]).date()  # (its text may be the narrower wording)
        # narrower, in three lines: fits beside a date near the panel's edge
        beside_line(ax, note, ["as of\n" + "\n".join(spell_day(day).rsplit(" ", 1))])


def legend_handles(
    observations: Sequence[Observation], as_of: dt.date | None = None
) -> tuple[list[Any], list[str]]:
    """Legend entries for the observations drawn: their shapes, kinds, and (with an
    as-of date) which were known then and which came later."""
    from matplotlib.lines import Line2D

    handles: list[Any] = []
    labels: list[str] = []
    reported = [o for o in observations if o.kind == "reported"]
    shapes = {o.shape for o in reported}
    for shape in ("point", "range", "at most", "at least"):
        if shape not in shapes:
            continue
        if shape == "point":
            h = Line2D(
                [], [], ls="none", marker="o", ms=common.pt(8.5), mfc=COLOR, mec=EDGE, mew=1.4
            )
        elif shape == "range":
            h = Line2D(
                [], [], ls="none", marker="|", ms=common.pt(16), mew=common.pt(3), color=COLOR
            )
        else:
            h = Line2D(
                [],
                [],
                ls="none",
                marker="v" if shape == "at most" else "^",
                ms=common.pt(9),
                color=COLOR,
            )
        handles.append(h)
        labels.append(SHAPE_LABELS[shape])
    kinds = {o.kind for o in observations}
    if "official" in kinds:
        c = KIND_COLORS["official"]
        handles.append(
            Line2D([], [], ls="none", marker="s", ms=common.pt(7.5), mfc=c, mec=EDGE, mew=1.4)
        )
        labels.append("official figure (declared)")
    if "target" in kinds:
        c = KIND_COLORS["target"]
        handles.append(
            Line2D([], [], ls="none", marker="D", ms=common.pt(7), mfc=c, mec=EDGE, mew=1.4)
        )
        labels.append("target or promise")
    # an open-ended official figure or target is a triangle in its kind's colour: named
    # too (grey triangles had no entry, and read as reports)
    for kind, name in (("official", "official figure"), ("target", "target")):
        open_ended = {o.shape for o in observations if o.kind == kind}
        for shape, words in (
            ("at most", "\u201cfewer than\u201d"),
            ("at least", "\u201cmore than\u201d"),
        ):
            if shape in open_ended:
                handles.append(
                    Line2D(
                        [],
                        [],
                        ls="none",
                        marker="v" if shape == "at most" else "^",
                        ms=common.pt(9),
                        color=KIND_COLORS[kind],
                    )
                )
                labels.append(f"{name} {words}")
    if as_of is not None:
        known = [o.known(as_of) for o in observations]
        if any(known) and not all(known):
            day = spell_day(as_of)
            handles.append(
                Line2D([], [], ls="none", marker="o", ms=common.pt(8.5), mfc=COLOR, mec=COLOR)
            )
            labels.append(f"known on {day}")
            handles.append(
                Line2D(
                    [],
                    [],
                    ls="none",
                    marker="o",
                    ms=common.pt(8.5),
                    mfc="white",
                    mec=COLOR,
                    mew=1.6,
                )
            )
            labels.append(not_known_label(observations, as_of))
        handles.append(Line2D([], [], color=AS_OF_COLOR, lw=1.4, ls=(0, (6, 2, 1, 2))))
        labels.append(f"as of {spell_day(as_of)}")
    return handles, labels


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
    and the observations) and draw the observations of ``series`` on it, and the
    as-of line; with ``legend`` (the series of every panel), add their legend
    entries to ``ax``."""
    obs = observations_of(result, observed)
    as_of = as_of_of(result, observed)
    plan = next(iter(result.plans.values()))
    months = plan.months
    top = max(data_top, observed_top(obs.items, series, months) if obs is not None else 0.0)
    ax.set_ylim(0, max(top * 1.12, 10))
    if obs is None:
        return
    draw_observations(ax, obs.items, series, months, as_of)
    draw_as_of(ax, as_of)
    if legend is not None:
        handles, labels = legend_handles(visible(obs.items, legend, months), as_of)
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
    """Draw the observations (and the as-of line) on a fan chart's panels
    (theater-major, one per variant), raise each panel's y-limit to show them, and
    add a legend for them."""
    obs = observations_of(result, observed)
    if obs is None or not len(obs):
        return axes
    as_of = as_of_of(result, observed)
    plan = next(iter(result.plans.values()))
    months = plan.months
    shown = visible(obs.items, series, months)
    if not shown:
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
            draw_observations(a, obs.items, name, months, as_of)
            draw_as_of(a, as_of, label=a is block[0])
    handles, labels = legend_handles(shown, as_of)
    fig: Any = axes[0].figure
    if not common.own_figure():  # into axes given, the legend is the caller's
        for h, label in zip(handles, labels, strict=True):
            h.set_label(label)
            axes[0].add_line(h)
    elif len(axes) == k * len(series) and fig is not None and fig.legends:
        # below the fan's own legend, in the room the fan left for it
        below = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.02, below.y0 / fig.bbox.height - 0.06 / fig.get_figheight()),
            fontsize=10.5,
            frameon=False,
            title="observed, at the end of its month:",
            title_fontsize=10.5,
            alignment="left",
            ncol=min(len(handles), 5),
            columnspacing=1.6,
            handlelength=1.5,
        )
    else:
        axes[0].legend(handles, labels, loc="upper right", fontsize=9, frameon=False)
    return axes


@common.plain_text
def mark_conditioned(
    axes: Sequence[Axes],
    cond: Result,
    assessment: Assessment,
    *,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
) -> None:
    """Label a conditioned fan: the title says what it is conditioned on, each panel
    gives its effective number of draws.

    Parameters
    ----------
    axes : sequence of matplotlib Axes
        The panels ``plot_fan(cond, theaters=theaters)`` returned.
    cond : Result
        The conditioned result (:func:`sim.analysis.observed.conditioned_result`).
    assessment : Assessment
        The scored observations holding the conditioning.
    theaters : sequence of str, optional
        The theaters (or sites) the fan was asked for, to tell which variant each
        panel shows when a crowded fan left variants out.
    variants : sequence of str, optional
        The variants the fan was asked for (``plot_fan(cond, variants=...)``), in its
        order; default: every variant of ``cond``.
    """
    c = assessment.conditioned
    if c is None:
        return
    # the variants the panels show: those a new figure kept, else (axes given) every one
    names = common.theater_list(cond, theaters) if theaters else common.fan_series(cond)
    asked = list(dict.fromkeys(variants)) if variants else list(cond.variants)
    drawn, shown, _ = common.fan_selection(names, asked)
    if len(axes) != len(drawn) * len(shown):
        shown = asked
    fig = axes[0].figure
    when = assessment.as_of
    for text in fig.texts:
        s = text.get_text()
        if s.endswith(RANGE_OF_OUTCOMES):
            title = conditioned_title(s.removesuffix(RANGE_OF_OUTCOMES), assessment)
            text.set_text(title)
            text.set_fontsize(title_size(title))  # the fan is common.WIDTH_IN wide
        elif s.startswith("Troops at the end of each month across"):
            text.set_text(conditioned_subtitle(assessment, shown))
            common.fit_width(text)
        elif s.startswith("Scenario as of "):  # the scenario's date, and the news'
            # the first line again, naming fewer sources if the longer lead needs the room
            first = common.footnote(cond, news=when, conditioned=True).partition("\n")[0]
            text.set_text(first + s[len(s.partition("\n")[0]) :])
    _central_unweighted(fig, axes)
    n_series = max(len(axes) // max(len(shown), 1), 1)
    left = assessment.left_out(shown)  # (found once for all its panels)
    ringed = 0
    for t in range(n_series):
        for v, a in zip(shown, axes[t * len(shown) : (t + 1) * len(shown)], strict=False):
            ringed += ring_left_out(a, left.get(v, ()))  # (those drawn on this panel)
            e = c.effective[v]
            # two short lines where the panel is empty (a corner first); one long line
            # would cover a narrow panel
            label = a.annotate(
                f"effective draws {e:,.0f}\n({100 * e / c.draws:.1f} % of {c.draws:,})",
                (0.01, 0.03),
                xycoords="axes fraction",
                fontsize=common.pt(9.5),
                linespacing=1.2,
                color=CONDITIONED_COLOR,
                fontweight="bold",
                zorder=10,
            )
            _clear_corner(a, label)

    notes = []  # (one line: the fan leaves room for one above its footnote)
    if c.too_few:
        notes.append(
            f"Fewer than {c.minimum} effective draws, left out: " + ", ".join(c.too_few) + "."
        )
    # (only the reports some panel draws: a fan of some theaters does not draw the rest)
    placed = {f"{o.date} {o.theater}" for a in axes for o in _PLACED.get(a, {})}
    notes.append(left_out_note(cond, assessment, shown, ringed=ringed > 0, drawn=placed))
    note = "  ".join(n for n in notes if n)
    foot = next((t for t in fig.texts if t.get_text().startswith("Scenario as of ")), None)
    x, y, ha = 0.98, 0.006, "right"  # (axes of the caller's: no footnote to keep clear of)
    if foot is not None:  # lines of their own just above the footnote (at its foot one
        # covered the footnote's last line)
        box = foot.get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
        x, ha = foot.get_position()[0], "left"
        y = fig.transFigure.inverted().transform((0, box.y1))[1]
        y += 0.04 / fig.get_figheight()  # type: ignore[union-attr]
    if note:
        line = fig.text(
            x,
            y,
            note,
            ha=ha,
            va="bottom",
            fontsize=common.pt(10),
            color=CONDITIONED_COLOR,
            gid=CONDITIONED_NOTE_GID,
        )
        common.fit_width(line)


#: the end of a fan's title, which a conditioned fan's title replaces
RANGE_OF_OUTCOMES = ": range of outcomes"
#: the ``gid`` of the line under a conditioned fan that says which variants and reports
#: it leaves out (a column chart takes it into its footnote)
CONDITIONED_NOTE_GID = "conditioned-note"


def conditioned_title(title: str, assessment: Assessment) -> str:
    """A conditioned fan's title: the scenario's ``title`` and what it is conditioned on."""
    when = assessment.as_of
    if when is not None:
        return f"{title}: conditioned on what was known on {spell_day(when)}"
    return f"{title}: conditioned on the reports"


def conditioned_subtitle(assessment: Assessment, shown: Sequence[str]) -> str:
    """A conditioned fan's subtitle: how each draw of the variants ``shown`` is weighted."""
    c = assessment.conditioned
    assert c is not None
    used = assessment.weighing_count(shown)
    return (
        f"Each draw weighted by how many of the {used} report{'' if used == '1' else 's'} "
        + ("known then " if assessment.as_of is not None else "")
        + f"it misses (each taken as right within {assessment.tolerance} with "
        f"probability {exact_percent(1 - c.error)}); effective draws in each panel."
    )


#: the conditioned fan's central run: the same as the plain fan's (the weights move the
#: bands and the median, not a run of each input at its central value)
CENTRAL_UNWEIGHTED = "central run (each input at its central value; the reports do not move it)"


def _central_unweighted(fig: Any, axes: Sequence[Axes]) -> None:
    """Say, in the legends and on the lines, that a conditioned fan's central run is
    not weighted by the reports (a reader took it for the conditioned projection)."""
    legends = [lg for lg in [*fig.legends, *(a.get_legend() for a in axes)] if lg is not None]
    for text in (t for lg in legends for t in lg.get_texts()):
        if text.get_text().startswith("central run ("):
            text.set_text(CENTRAL_UNWEIGHTED)
    for line in (line for a in axes for line in a.get_lines()):
        if str(line.get_label()).startswith("central run ("):
            line.set_label(CENTRAL_UNWEIGHTED)


def left_out_note(
    cond: Result,
    assessment: Assessment,
    shown: Sequence[str],
    *,
    ringed: bool = False,
    drawn: Collection[str] | None = None,
    each: str = "panel",
) -> str:
    """The note of a conditioned fan on the reports it draws but left out of its weights
    (discrepant: no draw of a variant comes within the report's tolerance), each named
    by its theater's (or site's) name and its date, and the panels' variants where it is
    not all of them; empty when there are none. ``ringed``: the panels ring them
    (:func:`ring_left_out`), and the note says so; ``drawn``: the reports (``date
    theater``) the panels draw, the others left out of the note (a fan of some theaters
    named reports of others, "drawn")."""

    def named_report(report: str) -> str:  # ("2025-10-01 iraq": Iraq on 1 Oct 2025)
        day, _, tid = report.partition(" ")  # (a day, or a month as written)
        on = "in" if day.count("-") == 1 else "on"  # (in Jun 2025, on 1 Oct 2025)
        return f"{common.theater_title(cond, tid)} {on} {spell_date(day)}"

    parts = [
        named_report(report)
        + (
            f" (in every {each} but {', '.join(named)})"
            if but and named
            else ""
            if but
            else f" (in {', '.join(named)})"
        )
        for report, (but, named) in assessment.discrepant_reports(shown).items()
        if drawn is None or report in drawn
    ]
    if not parts:
        return ""
    return (
        ("Ringed: drawn" if ringed else "Drawn")
        + ", but left out of the weights (no draw comes within its tolerance): "
        + "; ".join(parts)
        + "."
    )


#: where a panel's label may go (axes fraction, alignment), in order of preference: the
#: four corners (the lower left, which a drawdown leaves empty, first), then along the
#: top under the title (:data:`AT_EDGE` places at the panel's edge in all), then heights up
#: the panel's left, right and middle (:func:`sim.plotting.clearance.place_clear`)
CORNERS: tuple[tuple[tuple[float, float], str, str], ...] = (
    ((0.01, 0.03), "left", "baseline"),
    ((0.99, 0.03), "right", "baseline"),
    ((0.01, 0.80), "left", "top"),
    ((0.99, 0.80), "right", "top"),
    ((0.01, 0.99), "left", "top"),
    ((0.5, 0.99), "center", "top"),
    ((0.99, 0.99), "right", "top"),
    *(
        ((x, y), ha, "bottom")
        for y in (0.12, 0.22, 0.32, 0.42, 0.52, 0.62, 0.72)
        for x, ha in ((0.99, "right"), (0.01, "left"), (0.5, "center"))
    ),
)


def _clear_corner(ax: Axes, label: Any) -> None:
    """Move ``label`` to the first place of :data:`CORNERS` where it covers none of the
    panel's data, labels or lines (:func:`sim.plotting.clearance.place_clear`)."""
    from sim.plotting.clearance import place_clear

    place_clear(ax, label, CORNERS, edge=AT_EDGE)


#: how many of :data:`CORNERS` are at the panel's edge (taken before the interior)
AT_EDGE = 7


# ---------------------------------------------------------------- the backtest chart
