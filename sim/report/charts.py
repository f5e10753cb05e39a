"""The page's interactive charts, as Plotly figures: the envelope and, for an ensemble,
the fan. They show what the PNG charts show (:mod:`sim.plotting`), in the same colours
(:mod:`sim.colors`), with hover labels in place of printed numbers:

* **envelope**: a panel per theater (each followed by a panel per site when it is made
  of sites), a line per variant, the range between the lowest and highest variant
  shaded, the base scenario's deadlines dotted, each milestone's target as a
  diamond at its deadline, each variant's official figure dashed where it leaves
  troops out, the observations, and the as-of dates.
  Hovering a month lists every variant's level [troops].
* **fan**: a panel per theater (each followed by a panel per site when it is made of
  sites, as the envelope has them) for one variant at a time (the page picks which): the
  5th–95th, 10th–90th and 25th–75th percentiles of the draws, the median of the draws,
  the central run dashed (and its official figure, where that leaves troops out), and
  the variant's original deadlines (before any delay) with the share of draws meeting
  them. Hovering a
  month gives the median and each band's edges [troops]. A conditioned run's weighted
  fan is the same chart of its weighted bands.

Every trace carries ``legendgroup``: the variant it belongs to, ``"observed"`` for
observations, ``"range"`` for the envelope's shading; ``meta`` says what it draws. The
page's script shows and hides variants by these, telling a variant's traces from the
others by ``meta`` (a variant may be called ``observed`` or ``range``).
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

try:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots
except ImportError as exc:  # an extra: say which
    raise ImportError("the report page needs plotly: pip install 'forcesim[report]'") from exc

from sim import colors
from sim.io.observations import Observation
from sim.months import spell_date, spell_day, spell_month
from sim.plotting.common import (
    DEADLINE_KEY,
    base_deadlines,
    fan_series,
    series_keys,
    theater_title,
)
from sim.plotting.envelope import range_edges, shared_runs
from sim.plotting.fan import deadline_labels
from sim.plotting.observed import (
    CAPS_PER_MONTH,
    KIND_COLORS,
    SHAPE_LABELS,
    as_of_of,
    drawn_month,
    not_known_label,
    observations_of,
    observed_top,
    stretches,
    visible,
)
from sim.results import Result

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
AS_OF = colors.AS_OF  # the as-of line, as on the PNG charts
#: a point's marker by the observation's kind, as on the PNG charts
SYMBOLS = {"reported": "circle", "official": "square", "target": "diamond"}
#: what a point of each kind is called
KIND_LABELS = {
    "reported": SHAPE_LABELS["point"],
    "official": "official figure (declared)",
    "target": "target or promise",
}


def month_ends(months: Any) -> list[str]:
    """Month periods (or ``YYYY-MM`` text) → the last day of each, ``YYYY-MM-DD``: a
    level is the one at the end of its month, where the PNG charts draw it too."""
    idx = pd.PeriodIndex(pd.Index(months).astype(str), freq="M")
    return [str(d) for d in idx.to_timestamp(how="end").strftime("%Y-%m-%d")]


def _text(value: Any) -> str:
    """Scenario text inside a Plotly label (which reads a little HTML): escaped."""
    return html.escape(str(value), quote=False)


def _layout(fig: go.Figure, n_rows: int, hover: str) -> None:
    """What both charts share: fonts, axes, hover labels, margins."""
    fig.update_layout(
        font={"family": FONT, "size": 13, "color": "#222222"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        showlegend=False,
        hovermode=hover,
        hoverlabel={"bgcolor": "white", "bordercolor": "#999999", "font": {"size": 13}},
        margin={"l": 58, "r": 14, "t": 34, "b": 34},
        dragmode="zoom",
        template="none",
    )
    fig.update_xaxes(
        type="date",
        hoverformat="%b %Y",
        tickformat="%b %Y",
        # ticks closer than a month (a short scenario, or zoomed in) name their day:
        # "%b %Y" alone repeated one month's name at each
        tickformatstops=[
            {"dtickrange": [None, "M1"], "value": "%-d %b %Y"},
            {"dtickrange": ["M1", None], "value": "%b %Y"},
        ],
        showline=True,
        linecolor="#888888",
        ticks="outside",
        tickcolor="#888888",
        # every panel names its months, not the bottom one alone: on a phone, the
        # top panel stood three panels' scrolling above the only dates
        showticklabels=True,
        showgrid=False,
        # room for the last month's tick label, which may stand at the plot's right edge
        automargin=True,
    )
    fig.update_yaxes(
        title_text="troops",
        tickformat=",d",
        # room for the widest tick label ("100,000") left of it and of the title
        automargin=True,
        gridcolor="#dddddd",
        zeroline=True,
        zerolinecolor="#888888",
        rangemode="tozero",
    )
    # subplot titles: left-aligned and bold, as on the PNG charts
    for note in fig.layout.annotations[:n_rows]:
        note.update(x=0, xanchor="left", font={"size": 15}, text=f"<b>{note.text}</b>")


def _subplots(result: Result, names: list[str]) -> go.Figure:
    return make_subplots(
        rows=len(names),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.12, 0.24 / max(len(names), 1)),
        subplot_titles=[_text(theater_title(result, t)) for t in names],
    )


def envelope_figure(result: Result, theaters: Sequence[str] | None = None) -> go.Figure:
    """The envelope chart of a run (deterministic levels, ``result.monthly``).

    Parameters
    ----------
    result : Result
        A run, or one read back by :func:`sim.load_run`.
    theaters : sequence of str, optional
        The panels, in this order: theater ids, or sites as ``THEATER/SITE`` (each one
        of :func:`sim.plotting.common.series_keys`; not checked here). Default: every
        theater, each followed by its sites.

    Returns
    -------
    plotly.graph_objects.Figure
        A panel per theater, each followed by a panel per site when it is made of
        sites, as the PNG chart has them (rows, sharing the month axis); or a panel per
        one of ``theaters``.
    """
    names = list(theaters) if theaters is not None else series_keys(result)
    fig = _subplots(result, names)
    palette = colors.run_colors(result)
    obs = observations_of(result)
    months = next(iter(result.plans.values())).months
    fill = colors.css(colors.rgb(colors.RANGE), colors.RANGE_ALPHA)
    for row, tid in enumerate(names, 1):
        first = len(fig.data)  # (this panel's traces follow)
        rows = result.monthly[result.monthly.theater == tid]
        wide = rows.pivot(index="month", columns="variant", values="troops")
        wide = wide[[v for v in result.variants if v in wide.columns]]
        x = month_ends(wide.index)
        at, low, high = range_edges(np.array(x, dtype="datetime64[ns]"), wide)
        lo, hi = _edge_levels(low), _edge_levels(high)
        hi_top = max((v for v in hi if v is not None), default=0)
        common = {
            "x": _edge_times(at),
            "mode": "lines",
            "hoverinfo": "skip",
            "legendgroup": "range",
        }
        fig.add_trace(go.Scatter(y=lo, line_width=0, meta="range-low", **common), row, 1)
        fig.add_trace(
            go.Scatter(
                y=hi,
                line_width=0,
                fill="tonexty",
                fillcolor=fill,
                name="range across variants",
                meta="range-high",
                **common,
            ),
            row,
            1,
        )
        n = len(wide.columns)
        for j, v in enumerate(wide.columns):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[None if pd.isna(t) else int(t) for t in wide[v]],  # (a shorter calendar)
                    mode="lines",
                    name=str(v),
                    legendgroup=str(v),
                    meta="variant",
                    line={"color": palette[v], "width": 2.6 - 1.4 * j / max(n - 1, 1)},
                    hovertemplate="%{fullData.name}: %{y:,} troops<extra></extra>",
                ),
                row,
                1,
            )
        _shared_stretches(fig, x, wide, palette, row)
        if "official" in rows and (rows.official != rows.troops).any():
            # where official figures leave troops out, each variant's official figure too
            off = rows.pivot(index="month", columns="variant", values="official")
            for v in wide.columns:
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=_ints(off[v]),
                        mode="lines",
                        name=f"{v}, official figure",
                        legendgroup=str(v),
                        meta="official",
                        line={"color": palette[v], "width": 1.3, "dash": "dash"},
                        hovertemplate="%{fullData.name}: %{y:,} troops<extra></extra>",
                    ),
                    row,
                    1,
                )
        _targets(fig, result, tid, row)
        shown = _shown(obs.items, tid, months) if obs is not None else []
        top = max(float(hi_top), observed_top(shown, tid))
        limit = max(top * 1.12, 10)
        fig.update_yaxes(range=[0, limit], row=row, col=1)
        _observations(fig, shown, row, 0.09 * limit, as_of_of(result))
        _base_deadlines(fig, result, tid, row, x)
        _as_of(fig, result, x, row, limit, first)
    _layout(fig, len(names), "x unified")
    _months_drawn(fig, month_ends(sorted(result.monthly.month.astype(str).unique())))
    return fig


def _edge_times(at: Any) -> list[str]:
    """The times of the range's corners as the page writes them: a month's end as
    ``YYYY-MM-DD`` (as the lines have it), a crossing between two as
    ``YYYY-MM-DD HH:MM:SS.sss`` (UTC, to the nearest millisecond; at midnight too), as
    the page's script writes those it finds."""
    out = []
    for t in pd.DatetimeIndex(at).round("ms"):
        month_end = t.is_month_end and t == t.normalize()  # (no crossing falls on one)
        out.append(t.strftime("%Y-%m-%d") if month_end else t.strftime("%Y-%m-%d %H:%M:%S.%f")[:23])
    return out


def _edge_levels(levels: Any) -> list[float | int | None]:
    """The range's levels at its corners [troops]: whole at a month's end, to the
    hundredth of a troop at a crossing between two (where the shading turns; no
    level of any variant), None where no line is drawn."""
    out: list[float | int | None] = []
    for v in np.asarray(levels, dtype=float):
        if np.isnan(v):
            out.append(None)
        else:
            out.append(int(v) if float(v).is_integer() else round(float(v), 2))
    return out


#: length of one colour's dash where variants' lines share a path [px]
SHARED_DASH = 7


def _shared_stretches(
    fig: go.Figure, x: Any, wide: pd.DataFrame, palette: dict[str, str], row: int
) -> None:
    """Where several variants' lines run along the same path
    (:func:`sim.plotting.envelope.shared_runs`), that stretch again in dashes taking
    turns in each variant's colour, as on the PNG chart: each line there shows in its
    own colour, not only the last one drawn. Each dash trace belongs to its variant
    (``meta="shared"``, its ``legendgroup``), so it comes and goes with that variant's
    box; it takes no hover (the variant's own line gives the level)."""
    values = wide.to_numpy()
    names = [str(v) for v in wide.columns]
    for group, first, last in shared_runs(values):
        m = len(group)
        for turn, k in enumerate(group):
            # an offset dash: no dash, a gap of the turns before, the dash, the rest
            gap_after = (m - 1 - turn) * SHARED_DASH
            dash = f"0px,{turn * SHARED_DASH}px,{SHARED_DASH}px,{gap_after}px"
            fig.add_trace(
                go.Scatter(
                    x=x[first : last + 1],
                    y=[int(t) for t in values[first : last + 1, k]],
                    mode="lines",
                    name=names[k],
                    legendgroup=names[k],
                    meta="shared",
                    showlegend=False,
                    hoverinfo="skip",
                    line={"color": palette[names[k]], "width": 2.6, "dash": dash},
                ),
                row,
                1,
            )


def _targets(fig: go.Figure, result: Result, tid: str, row: int) -> None:
    """Each milestone target of theater ``tid`` as a diamond at its deadline (after any
    slip), one mark per (deadline, target), naming the milestones and variants.

    Each mark's ``customdata`` is ``[hover text, [[milestone, variant], ...]]``: the page
    keeps a mark while any of its variants is ticked, and names only those
    (``sim/report/page.js``)."""
    ms = result.milestones[result.milestones.theater == tid]
    if ms.empty:
        return
    marks: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for r in ms.itertuples(index=False):
        marks.setdefault((str(r.deadline), int(r.target)), []).append(
            (str(r.milestone), str(r.variant))
        )
    keys = sorted(marks)
    fig.add_trace(
        go.Scatter(
            x=month_ends([d for d, _ in keys]),
            y=[t for _, t in keys],
            mode="markers",
            name="milestone target",
            legendgroup="target",
            meta="target",
            cliponaxis=False,  # a target of 0 whole, not half cut off by the axis
            marker={
                "symbol": "diamond",
                "size": 10,
                "color": "white",
                "line": {"color": colors.TARGET, "width": 1.8},
            },
            customdata=[[_marks_text(marks[k]), [list(e) for e in marks[k]]] for k in keys],
            hovertemplate="target %{y:,} troops: %{customdata[0]}<extra></extra>",
        ),
        row,
        1,
    )


def _marks_text(entries: list[tuple[str, str]]) -> str:
    """A target mark's hover text: its first four ``milestone (variant)``, then "…"
    (as ``sim/report/page.js`` writes it again for the variants ticked)."""
    named = [f"{m} ({v})" for m, v in entries]
    return _text(", ".join(named[:4]) + (" …" if len(named) > 4 else ""))


def _base_deadlines(fig: go.Figure, result: Result, tid: str, row: int, x: list[str]) -> None:
    """Dotted verticals at the base scenario's deadlines of theater (or site)
    ``tid`` (:func:`sim.plotting.common.base_deadlines`)."""
    for deadline in base_deadlines(result, tid):
        when = month_ends([deadline])[0]
        label = f"deadline {spell_month(deadline)}"
        _vline(fig, when, row, colors.DEADLINE, "dot", label, "top", x)


def _vline(
    fig: go.Figure,
    when: str,
    row: int,
    color: str,
    dash: str,
    label: str,
    where: str,
    x: list[str],
    place: tuple[bool, int] | None = None,
) -> None:
    """A vertical line at ``when`` across panel ``row``, labelled at its top or bottom;
    the label sits right of the line, or left of it in the last fifth of the months ``x``;
    or as ``place`` says, when given: (left of the line, rows down from the top, 0 for
    the bottom; :func:`_place_label`)."""
    fig.add_shape(
        type="line",
        x0=when,
        x1=when,
        y0=0,
        y1=1,
        yref="y domain",
        line={"color": color, "width": 1.2, "dash": dash},
        row=row,
        col=1,
    )
    if not label:
        return
    down = 0
    if place is None:
        start, end, at = (pd.Timestamp(t).value for t in (x[0], x[-1], when))
        left = at > start + 0.8 * (end - start)
    else:
        left, down = place
        where = "top" if down else "bottom"
    fig.add_annotation(
        x=when,
        y=1 - (down - 1) * LINE_SHARE if down else 1 if where == "top" else 0,
        yref="y domain",
        text=_text(label),
        showarrow=False,
        xanchor="right" if left else "left",
        yanchor="top" if where == "top" else "bottom",
        xshift=-3 if left else 3,
        font={"size": 11, "color": "#444444" if color == colors.DEADLINE else color},
        bgcolor="rgba(255,255,255,0.75)",
        row=row,
        col=1,
    )


#: the width of a chart's plotting area on the page at its widest [px] (76rem less the
#: margins), the height of a line of an 11 px label with its box as a share of the least
#: panel height (250 px), and the width of one of its characters [px]
PLOT_PX, LINE_SHARE, CHAR_PX = 1000.0, 18 / 250, 6.6

#: a box in data units: (start, end) [ns since the epoch], (low, high) [troops]
Box = tuple[float, float, float, float]


def _ns(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else pd.Timestamp(v).value for v in values], dtype=float)


def _levels(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


def _spans(
    fig: go.Figure, row: int, limit: float, first: int = 0
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """What panel ``row`` draws, as polylines (times [ns], lowest and highest level
    [troops] at each): every line (the variants', the bands' edges, the medians, the
    deadlines' verticals), each filled area between two traces, each observation's
    bar or arrow and each mark (a point, with a share of the panel around it); the
    traces of every variant, shown or not (the page shows each in turn); of the traces
    from the ``first`` on (a panel's, drawn after the panels above it)."""
    axis = "x" if row == 1 else f"x{row}"
    out = []
    before: Any = None
    pad = 0.02 * limit
    for trace in fig.data[first:]:
        if trace.xaxis not in (axis, None if row == 1 else axis) or trace.x is None:
            continue
        mode = trace.mode or ""
        t, y = _ns(trace.x), _levels(trace.y if trace.y is not None else [])
        if len(y) != len(t):
            continue
        if "lines" in mode:
            low = high = y
            if trace.fill == "tonexty" and before is not None and len(before) == len(y):
                low, high = np.fmin(before, y), np.fmax(before, y)
            out.append((t, low, high))
        elif "markers" in mode:
            err = trace.error_y
            up = _levels(err.array) if err is not None and err.array is not None else 0 * y
            down = _levels(err.arrayminus) if err is not None and err.arrayminus is not None else up
            for ti, yi, u, d in zip(t, y, up, down, strict=True):
                point = np.array([ti])
                out.append((point, np.array([yi - d - pad]), np.array([yi + u + pad])))
        before = y
    for shape in fig.layout.shapes:  # the verticals drawn as shapes (the deadlines')
        if shape.type == "line" and shape.xref == axis and shape.x0 == shape.x1:
            t = _ns([shape.x0, shape.x1])
            out.append((t, np.array([0.0, limit]), np.array([0.0, limit])))
    return out


def _covers(box: Box, spans: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> bool:
    """Whether ``box`` covers any of ``spans`` (:func:`_spans`): for each stretch
    between two points of a polyline (a gap where a level is missing), the levels it
    takes within the box's months meet the box's levels."""
    t0, t1, y0, y1 = box
    for t, low, high in spans:
        ok = np.isfinite(t) & np.isfinite(low) & np.isfinite(high)
        if len(t) == 1:
            if ok[0] and t0 <= t[0] <= t1 and low[0] <= y1 and high[0] >= y0:
                return True
            continue
        for i in range(len(t) - 1):
            if not (ok[i] and ok[i + 1]):
                continue
            a, b = t[i], t[i + 1]
            if max(a, b) < t0 or min(a, b) > t1:
                continue
            if a == b:  # a vertical
                lo, hi = min(low[i], low[i + 1]), max(high[i], high[i + 1])
            else:  # the stretch's levels at the box's edges, and at its own ends within
                at = [x for x in (a, b, t0, t1) if max(min(a, b), t0) <= x <= min(max(a, b), t1)]
                lows = np.interp(
                    at, [a, b] if a < b else [b, a], [low[i], low[i + 1]][:: 1 if a < b else -1]
                )
                highs = np.interp(
                    at, [a, b] if a < b else [b, a], [high[i], high[i + 1]][:: 1 if a < b else -1]
                )
                lo, hi = float(lows.min()), float(highs.max())
            if lo <= y1 and hi >= y0:
                return True
    return False


def _label_box(
    label: str, when: str, x: list[str], left: bool, level: float, lines: int, limit: float
) -> Box:
    """The box [data units] of a label of ``lines`` lines beside the line at ``when``,
    its top at ``level`` troops (or its foot at 0 when ``level`` is 0), its width
    taken at the page's widest (:data:`PLOT_PX`)."""
    start, end, at = (pd.Timestamp(t).value for t in (x[0], x[-1], when))
    wide = (max(len(s) for s in label.split("<br>")) * CHAR_PX + 12) / PLOT_PX * max(end - start, 1)
    tall = lines * LINE_SHARE * limit
    low, high = (0.0, tall) if level == 0 else (level - tall, level)
    return (at - wide, at, low, high) if left else (at, at + wide, low, high)


def _place_label(
    label: str,
    when: str,
    x: list[str],
    spans: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    limit: float,
    taken: list[Box],
) -> tuple[bool, int] | None:
    """Where a label of the line at ``when`` goes: (left of the line, rows down from the
    panel's top; 0 for its foot), the first place, at the foot right then left, then
    down from the top in rows under the deadlines' labels, where it stays inside the
    months ``x`` and covers none of ``spans`` nor the boxes ``taken`` (to which it adds
    its own); None where none is clear (the key above the chart names the line)."""
    start, end = (pd.Timestamp(t).value for t in (x[0], x[-1]))
    for row in range(0, int(1 / LINE_SHARE) - 1):
        level = 0.0 if row == 0 else limit * (1 - (row - 1) * LINE_SHARE)
        for left in (False, True):
            box = _label_box(label, when, x, left, level, 1, limit)
            if box[0] < start or box[1] > end or box[2] < 0:
                continue
            overlaps = any(
                box[0] < b[1] and b[0] < box[1] and box[2] < b[3] and b[2] < box[3] for b in taken
            )
            if not overlaps and not _covers(box, spans):
                taken.append(box)
                return left, row
    return None


def as_of_line(result: Result, x: list[str]) -> tuple[str, str] | None:
    """The solid vertical a chart of months ``x`` (``YYYY-MM-DD``, month ends) draws at
    the scenario's as-of date: its date (``YYYY-MM-DD``) and its label ("as of 31 Aug
    2021", "as of Aug 2021" for a month); None when the date falls outside the months."""
    as_of = pd.Timestamp(str(result.scenario.doc.as_of))
    if not (x and pd.Timestamp(x[0]) <= as_of <= pd.Timestamp(x[-1])):
        return None
    return as_of.strftime("%Y-%m-%d"), f"as of {spell_date(result.scenario.doc.as_of)}"


def _as_of(
    fig: go.Figure, result: Result, x: list[str], row: int, limit: float, first: int = 0
) -> None:
    """A solid vertical at the scenario's as-of date, and a dash-dotted one at the date
    the observations were taken as known on (a run ``--as-of``), each when it falls
    within the chart; each labelled where its label covers nothing the panel draws, nor
    the other vertical, nor the deadlines' labels (:func:`_place_label`; ``limit``: the
    panel's y-limit [troops]), or not at all where no place is clear (the key above the
    chart names it, :func:`as_of_line`). Call it once the panel holds everything else;
    ``first``: the index of the panel's first trace (those before are other panels')."""
    lines = []  # (date, label, dash) of each vertical drawn
    line = as_of_line(result, x)
    if line is not None:
        lines.append((*line, "solid"))
    news = as_of_of(result)
    if news is not None and x and pd.Timestamp(x[0]) <= pd.Timestamp(news) <= pd.Timestamp(x[-1]):
        lines.append((news.isoformat(), f"reports known on {spell_day(news)}", "dashdot"))
    if not lines:
        return
    spans = _spans(fig, row, limit, first)
    taken = _top_boxes(fig, row, x, limit, first)
    for when, label, dash in lines:
        # the other vertical too: a label beside its own line does not cross the other
        others = [
            (_ns([w, w]), np.array([0.0, limit]), np.array([0.0, limit]))
            for w, _, _ in lines
            if w != when
        ]
        place = _place_label(label, when, x, [*spans, *others], limit, taken)
        _vline(fig, when, row, AS_OF, dash, label if place else "", "bottom", x, place)


def _top_boxes(fig: go.Figure, row: int, x: list[str], limit: float, first: int = 0) -> list[Box]:
    """The boxes [data units] of the labels along the top of panel ``row``: the
    deadlines' (annotations on the envelope; text on the fan, each variant's), of the
    traces from the ``first`` on."""
    axis = "x" if row == 1 else f"x{row}"
    boxes = []
    for note in fig.layout.annotations:
        if note.yref == f"y{'' if row == 1 else row} domain" and note.y == 1 and note.x:
            lines = str(note.text).count("<br>") + 1
            left = note.xanchor == "right"
            boxes.append(_label_box(str(note.text), str(note.x), x, left, limit, lines, limit))
    for trace in fig.data[first:]:
        if trace.meta == "deadline-label" and trace.xaxis in (axis, None if row == 1 else axis):
            for when, text in zip(trace.x, trace.text, strict=True):
                lines = str(text).count("<br>") + 1
                boxes.append(_label_box(str(text), str(when), x, False, limit, lines, limit))
    return boxes


def _shown(items: tuple[Observation, ...], series: str, months: list[str]) -> list[Observation]:
    """The observations of ``series`` drawn within the chart's ``months`` (a target at
    the month it is due), as on the PNG charts."""
    return visible(items, series, months)


def _observations(
    fig: go.Figure, shown: list[Observation], row: int, arrow: float, as_of: Any = None
) -> None:
    """Draw observations as the PNG charts do (:mod:`sim.plotting.observed`), at the end
    of the month they are drawn at (a target at the month it is due): a point as a
    circle (reported), square (official figure) or diamond (target or promise), a range
    as a bar with caps, "fewer than N" as a bar at N with an arrow down (``arrow``
    troops long), "more than N" with an arrow up; black for reported counts, orange for
    official figures, grey for targets. With ``as_of``, what was public on that date is
    filled and what came later is hollow. One trace per shape, kind and known; hovering
    gives what was reported, when and by whom."""
    split = as_of is not None and len({o.known(as_of) for o in shown}) > 1
    not_known = not_known_label(shown, as_of) if split and as_of is not None else ""
    looks: dict[tuple[str, str, bool], list[Observation]] = {}
    for o in shown:
        looks.setdefault((o.shape, o.kind, o.known(as_of)), []).append(o)
    # ranges in a month of more than CAPS_PER_MONTH of one look: a trace of their own,
    # capped only at the ends of the stretches they cover (as on the PNG charts)
    groups: dict[tuple[str, str, bool, bool], list[Observation]] = {}
    for (kind, said, known), look in looks.items():
        per_month = Counter(drawn_month(o) for o in look)
        for o in look:
            crowded = kind == "range" and per_month[drawn_month(o)] > CAPS_PER_MONTH
            groups.setdefault((kind, said, known, crowded), []).append(o)
    for (kind, said, known, crowded), group in groups.items():
        color = KIND_COLORS[said]
        face = color if known else "white"
        label = KIND_LABELS[said] if kind == "point" or said != "reported" else SHAPE_LABELS[kind]
        if split:
            label += f" (known on {spell_day(as_of)})" if known else f" ({not_known})"
        common = {"mode": "markers", "legendgroup": "observed", "meta": "observed", "name": label}
        x = month_ends([drawn_month(o) for o in group])
        hover: dict[str, Any] = {
            "customdata": [_text(_describe(o)) for o in group],
            "hovertemplate": "%{customdata}<extra></extra>",
        }
        if kind == "point":
            marker = {
                "symbol": SYMBOLS[said],
                "color": face,
                "size": 10 if said == "reported" else 9,
                "line": {"color": colors.OBSERVED_EDGE if known else color, "width": 1.6},
            }
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[o.low for o in group],
                    marker=marker,
                    cliponaxis=False,  # a point at 0 whole, as on the PNG charts
                    **common,
                    **hover,
                ),
                row,
                1,
            )
            continue
        if kind == "range":
            lows = [float(o.low or 0) for o in group]
            highs = [float(o.high or 0) for o in group]
            bar: dict[str, Any] = {
                "array": [h - lo for lo, h in zip(lows, highs, strict=True)],
                "arrayminus": [0.0] * len(group),
                "width": 0 if crowded else 7,
            }
            y: list[float] = lows
            if crowded:
                _stretch_caps(fig, group, color, row)
        else:  # an open bound: a bar at it, an arrow away from it
            down = kind == "at most"
            y = [float((o.high if down else o.low) or 0) for o in group]
            heads = [max(v - arrow, 0.0) if down else v + arrow for v in y]
            bar = {
                "array": [0.0 if down else h - v for v, h in zip(y, heads, strict=True)],
                "arrayminus": [v - h if down else 0.0 for v, h in zip(y, heads, strict=True)],
                "width": 0,
            }
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=heads,
                    marker={
                        "symbol": "triangle-down" if down else "triangle-up",
                        "size": 11,
                        "color": face,
                        "line": {"color": color, "width": 1.6},
                    },
                    hoverinfo="skip",
                    **common,
                ),
                row,
                1,
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                marker={
                    "symbol": "line-ew",
                    "size": 14,
                    "line": {"color": color, "width": 3},
                    # (hovered, but not drawn: its caps are the stretches')
                    **({"opacity": 0} if crowded else {}),
                },
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "color": color,
                    "thickness": 3,
                    **bar,
                },
                **common,
                **hover,
            ),
            row,
            1,
        )
        if not known:  # hollow: a white core inside the bar, as on the PNG charts
            core = {**bar, "width": 0}
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="markers",
                    marker={"size": 0, "opacity": 0},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "color": "white",
                        "thickness": 1.2,
                        **core,
                    },
                    hoverinfo="skip",
                    legendgroup="observed",
                    meta="observed-core",
                ),
                row,
                1,
            )


def _stretch_caps(fig: go.Figure, group: list[Observation], color: str, row: int) -> None:
    """Caps at the ends of the stretches each month's ranges of ``group`` cover
    (:func:`sim.plotting.observed.stretches`), one trace; the ranges themselves are
    drawn, and hovered, uncapped."""
    months: dict[str, list[tuple[float, float]]] = {}
    for o in group:
        months.setdefault(drawn_month(o), []).append((float(o.low or 0), float(o.high or 0)))
    xs: list[str] = []
    ys: list[float] = []
    for month, ranges in months.items():
        for low, high in stretches(ranges):
            xs += [month, month]
            ys += [low, high]
    fig.add_trace(
        go.Scatter(
            x=month_ends(xs),
            y=ys,
            mode="markers",
            marker={"symbol": "line-ew", "size": 14, "line": {"color": color, "width": 3}},
            hoverinfo="skip",
            legendgroup="observed",
            meta="observed",
        ),
        row,
        1,
    )


def _describe(o: Observation) -> str:
    """An observation as a hover label: what was reported, when, and by whom."""
    said = {"reported": "reported", "official": "official figure", "target": "target"}[o.kind]
    if o.shape == "point":
        what = f"{said} {o.low:,.0f} troops"
    elif o.shape == "range":
        what = f"{said} {o.low:,.0f}–{o.high:,.0f} troops"
    elif o.shape == "at most":
        what = f"{said} fewer than {o.high:,.0f} troops"
    else:
        what = f"{said} more than {o.low:,.0f} troops"
    return f"{what} ({o.date}{', ' + o.source if o.source else ''})"


def fan_figure(
    result: Result,
    theaters: Sequence[str] | None = None,
    left_out: dict[str, list[Observation]] | None = None,
) -> go.Figure:
    """The fan chart of an ensemble: every variant's traces, the first variant's shown.

    Parameters
    ----------
    result : Result
        An ensemble (``result.bands`` set).
    theaters : sequence of str, optional
        The panels, in this order: theater ids, or sites as ``THEATER/SITE`` whose
        percentiles ``result.bands`` holds (not checked here). Default: every theater,
        each followed by those of its sites.
    left_out : dict, optional
        Per variant, the reports left out of its weights
        (:meth:`sim.analysis.observed.Assessment.left_out`), ringed while the variant is
        shown, as the PNG's conditioned fan rings them.

    Returns
    -------
    plotly.graph_objects.Figure
        A panel per theater, each followed by a panel per site when it is made of
        sites (those ``result.bands`` holds), as the PNG chart has them, or a panel per
        one of ``theaters``; each panel keeps one scale across variants.

    Raises
    ------
    ValueError
        When ``result`` is not an ensemble.
    """
    if result.bands is None:
        raise ValueError("a fan chart needs an ensemble: run with draws=N and seed=S")
    names = list(theaters) if theaters is not None else fan_series(result)
    fig = _subplots(result, names)
    bands = result.bands
    obs = observations_of(result)
    months = next(iter(result.plans.values())).months
    tops = {}
    for tid in names:
        sel = bands[bands.theater == tid]
        central = result.monthly[result.monthly.theater == tid]
        tops[tid] = max(float(sel.p95.max()), float(central.troops.max()), 0.0)
    for row, tid in enumerate(names, 1):
        first = len(fig.data)  # (this panel's traces follow)
        shown = _shown(obs.items, tid, months) if obs is not None else []
        top = max(tops[tid] * 1.18, observed_top(shown, tid) * 1.12, 10)
        for i, v in enumerate(result.variants):
            _fan_panel(fig, result, v, tid, row, top, visible=i == 0)
        _observations(fig, shown, row, 0.09 * top, as_of_of(result))
        for i, v in enumerate(result.variants):
            _rings(fig, [o for o in (left_out or {}).get(v, []) if o in shown], v, row, i == 0)
        fig.update_yaxes(range=[0, top], row=row, col=1)
        x = month_ends(bands[bands.theater == tid].month.drop_duplicates().sort_values())
        _as_of(fig, result, x, row, top, first)
    _layout(fig, len(names), "x unified")
    _months_drawn(fig, month_ends(bands.month.drop_duplicates().sort_values()))
    return fig


def _rings(fig: go.Figure, ringed: list[Observation], v: str, row: int, visible: bool) -> None:
    """Ring, while variant ``v`` is shown, the reports ``ringed`` (drawn in panel
    ``row``) around their marks, as :func:`sim.plotting.observed.ring_left_out` does
    on the PNG: a point at its level, a range at its middle, an open bound at it."""
    if not ringed:
        return
    fig.add_trace(
        go.Scatter(
            x=month_ends([drawn_month(o) for o in ringed]),
            y=[o.reference for o in ringed],
            mode="markers",
            marker={
                "symbol": "circle-open",
                "size": 24,
                "color": colors.AS_OF,
                "line": {"width": 2},
            },
            name="left out of the weights",
            legendgroup=v,
            visible=visible,
            meta="left-out",
            hoverinfo="skip",
            showlegend=False,
            cliponaxis=False,
        ),
        row,
        1,
    )


def _months_drawn(fig: go.Figure, x: list[str]) -> None:
    """Set the shared month axis to the months drawn ``x`` (month ends), with 2 % of
    their span either side for the first and last marks. Left to itself, Plotly
    widens the axis to hold each label written at a date: on a phone, the label
    beside the as-of line took the axis back two years before the run began."""
    if not x:
        return
    first, last = pd.Timestamp(x[0]), pd.Timestamp(x[-1])
    pad = (last - first) * 0.02
    fig.update_xaxes(range=[(first - pad).isoformat(), (last + pad).isoformat()])


def _fan_panel(
    fig: go.Figure, result: Result, v: str, tid: str, row: int, top: float, *, visible: bool
) -> None:
    assert result.bands is not None
    b = result.bands
    rows = b[(b.variant == v) & (b.theater == tid)].sort_values("month")
    if rows.empty:  # a theater or site another variant adds: say so, as the PNG does
        months = result.plans[v].months
        fig.add_trace(
            go.Scatter(
                x=month_ends([months[len(months) // 2]]),
                y=[top / 2],
                mode="text",
                text=[f"{theater_title(result, tid)} is not in this variant"],
                textfont={"size": 14, "color": "#555555"},
                legendgroup=v,
                visible=visible,
                hoverinfo="skip",
                showlegend=False,
                meta="missing",
            ),
            row,
            1,
        )
        return
    x = month_ends(rows.month)
    base = {"x": x, "legendgroup": v, "visible": visible, "hoverinfo": "skip", "mode": "lines"}
    for lo, hi, label, amount in colors.BANDS:
        fig.add_trace(go.Scatter(y=_ints(rows[lo]), line_width=0, meta="band-low", **base), row, 1)
        fig.add_trace(
            go.Scatter(
                y=_ints(rows[hi]),
                line_width=0,
                fill="tonexty",
                fillcolor=colors.css(colors.mix(colors.FAN_HUE, amount)),
                name=label,
                meta="band-high",
                **base,
            ),
            row,
            1,
        )
    edges = rows[["p25", "p75", "p10", "p90", "p05", "p95"]].to_numpy(np.int64)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_ints(rows.p50),
            mode="lines",
            name="median of the draws",
            legendgroup=v,
            visible=visible,
            meta="median",
            line={"color": colors.MEDIAN, "width": 2.4},
            customdata=edges,
            hovertemplate=(
                f"<b>{_text(v)}</b><br>median of the draws: %{{y:,}} troops"
                "<br>25th–75th percentile: %{customdata[0]:,}–%{customdata[1]:,}"
                "<br>10th–90th percentile: %{customdata[2]:,}–%{customdata[3]:,}"
                "<br>5th–95th percentile: %{customdata[4]:,}–%{customdata[5]:,}<extra></extra>"
            ),
        ),
        row,
        1,
    )
    m = result.monthly
    central = m[(m.variant == v) & (m.theater == tid)].sort_values("month")
    # the central run dashed, and its official figure where that leaves troops out
    for column, name, meta, color, width in (
        ("troops", "central run", "central", colors.CENTRAL, 1.4),
        # (thin over the median: where the two are one level, the median shows on
        # both sides of its dashes; at 1.6 it hid Syria's median at 900)
        ("official", "official figure (central run)", "official", colors.OFFICIAL, 1.1),
    ):
        if column not in central or not len(central):
            continue
        if column == "official" and not (central.official != central.troops).any():
            continue
        fig.add_trace(
            go.Scatter(
                x=month_ends(central.month),
                y=_ints(central[column]),
                mode="lines",
                name=name,
                legendgroup=v,
                visible=visible,
                meta=meta,
                line={"color": color, "width": width, "dash": "dash"},
                hovertemplate=f"{name}: %{{y:,}} troops<extra></extra>",
            ),
            row,
            1,
        )
    marks = deadline_labels(result, result.plans[v], v, tid)
    if marks:
        when = month_ends([str(p) for p, _ in marks])
        lines_x: list[str | None] = []
        lines_y: list[float | None] = []
        for w in when:
            lines_x += [w, w, None]
            lines_y += [0, top, None]
        fig.add_trace(
            go.Scatter(
                x=lines_x,
                y=lines_y,
                mode="lines",
                name=DEADLINE_KEY,
                legendgroup=v,
                visible=visible,
                meta="deadline",
                hoverinfo="skip",
                line={"color": colors.DEADLINE, "width": 1.2, "dash": "dot"},
            ),
            row,
            1,
        )
        fig.add_trace(
            go.Scatter(
                x=when,
                y=[top] * len(when),
                mode="text",
                text=[_text(t).replace("\n", "<br>") for _, t in marks],
                textposition="bottom right",
                textfont={"size": 11, "color": "#333333"},
                legendgroup=v,
                visible=visible,
                meta="deadline-label",
                hoverinfo="skip",
                cliponaxis=False,
            ),
            row,
            1,
        )


def _ints(values: Any) -> Any:
    """Whole troops as an integer array (Plotly stores it compactly, as typed-array bytes);
    where some are missing (the months a variant's shorter calendar lacks), a list with
    None there, a gap in the line (cast whole, they were -9,223,372,036,854,775,808)."""
    missing = pd.isna(values)
    if np.any(missing):
        return [None if gap else int(v) for v, gap in zip(values, missing, strict=True)]
    return np.asarray(values, dtype=np.int64)
