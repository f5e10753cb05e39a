"""The page's interactive charts, as Plotly figures: the envelope and, for an ensemble,
the fan. They show what the PNG charts show (:mod:`sim.plotting`), in the same colours
(:mod:`sim.colors`), with hover labels in place of printed numbers:

* **envelope**: a panel per theater (each followed by a panel per site when it is made
  of sites), a line per variant, the range between the lowest and highest variant
  shaded, the base scenario's calendar deadlines dotted, each milestone's target as a
  diamond at its deadline, each variant's official figure dashed where it leaves
  troops out, the observations, and the as-of dates.
  Hovering a month lists every variant's level [troops].
* **fan**: a panel per theater (each followed by a panel per site when it is made of
  sites, as the envelope has them) for one variant at a time (the page picks which): the
  90 %, 80 % and 50 % bands of the draws, the median of the draws, the central run dashed (and
  its official figure, where that leaves troops out), and the variant's calendar
  deadlines with the share of draws meeting them. Hovering a month gives the median
  and each band's edges [troops]. A conditioned run's weighted fan is the same chart
  of its weighted bands.

Every trace carries ``legendgroup``: the variant it belongs to, ``"observed"`` for
observations, ``"range"`` for the envelope's shading; ``meta`` says what it draws. The
page's script shows and hides variants by these, telling a variant's traces from the
others by ``meta`` (a variant may be called ``observed`` or ``range``).
"""

from __future__ import annotations

import html
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
from sim.plotting.common import calendar_deadlines, fan_series, series_keys, theater_title
from sim.plotting.envelope import range_edges, shared_runs
from sim.plotting.fan import deadline_labels
from sim.plotting.observed import (
    KIND_COLORS,
    SHAPE_LABELS,
    as_of_of,
    drawn_month,
    observations_of,
    observed_top,
    visible,
)
from sim.results import Result

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
AS_OF = "#7a1f1f"  # the as-of line: the one date on the chart that is not a month's end
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
        showgrid=False,
    )
    fig.update_yaxes(
        title_text="troops",
        tickformat=",d",
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


def envelope_figure(result: Result) -> go.Figure:
    """The envelope chart of a run (deterministic levels, ``result.monthly``).

    Parameters
    ----------
    result : Result
        A run, or one read back by :func:`sim.load_run`.

    Returns
    -------
    plotly.graph_objects.Figure
        A panel per theater, each followed by a panel per site when it is made of
        sites, as the PNG chart has them (rows, sharing the month axis).
    """
    names = series_keys(result)
    fig = _subplots(result, names)
    palette = colors.variant_colors(result.variants)
    obs = observations_of(result)
    months = next(iter(result.plans.values())).months
    fill = colors.css(colors.rgb(colors.RANGE), colors.RANGE_ALPHA)
    for row, tid in enumerate(names, 1):
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
        _calendar_deadlines(fig, result, tid, row, x)
        _as_of(fig, result, x, row, _foot_marks(result, tid, shown, 0.09 * limit), limit)
    _layout(fig, len(names), "x unified")
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
    slip), one mark per (deadline, target), naming the milestones and variants."""
    ms = result.milestones[result.milestones.theater == tid]
    if ms.empty:
        return
    marks: dict[tuple[str, int], list[str]] = {}
    for r in ms.itertuples(index=False):
        marks.setdefault((str(r.deadline), int(r.target)), []).append(
            f"{r.milestone} ({r.variant})"
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
            customdata=[
                _text(", ".join(marks[k][:4]) + (" …" if len(marks[k]) > 4 else "")) for k in keys
            ],
            hovertemplate="target %{y:,} troops: %{customdata}<extra></extra>",
        ),
        row,
        1,
    )


def _calendar_deadlines(fig: go.Figure, result: Result, tid: str, row: int, x: list[str]) -> None:
    """Dotted verticals at the base scenario's calendar deadlines of theater (or site)
    ``tid`` (:func:`sim.plotting.common.calendar_deadlines`)."""
    for deadline in calendar_deadlines(result, tid):
        when = month_ends([deadline])[0]
        _vline(fig, when, row, colors.DEADLINE, "dot", f"deadline {deadline}", "top", x)


def _vline(
    fig: go.Figure,
    when: str,
    row: int,
    color: str,
    dash: str,
    label: str,
    where: str,
    x: list[str],
    left: bool | None = None,
) -> None:
    """A vertical line at ``when`` across panel ``row``, labelled at its top or bottom;
    the label sits right of the line, or left of it in the last fifth of the months ``x``
    (or as ``left`` says, when given)."""
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
    if left is None:
        start, end, at = (pd.Timestamp(t).value for t in (x[0], x[-1], when))
        left = at > start + 0.8 * (end - start)
    fig.add_annotation(
        x=when,
        y=1 if where == "top" else 0,
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
#: margins), the height of a label at the foot of a panel as a share of the least panel
#: height (250 px), and the width of one of its characters [px] (11 px text)
PLOT_PX, FOOT_LABEL_SHARE, CHAR_PX = 1000.0, 0.1, 6.6


def _foot_marks(
    result: Result, tid: str, shown: list[Observation], arrow: float
) -> list[tuple[str, float]]:
    """Where the marks of a panel reach lowest: (the month's end, troops) of each
    observation (the tip of a "fewer than" arrow) and each milestone target."""
    marks = []
    for o in shown:
        low = o.low if o.shape != "at most" else max(float(o.high or 0) - arrow, 0.0)
        marks.append((month_ends([drawn_month(o)])[0], float(low or 0)))
    ms = result.milestones[result.milestones.theater == tid]
    marks += [
        (month_ends([str(r.deadline)])[0], float(r.target))
        for r in ms.itertuples()
        if pd.notna(r.deadline)
    ]
    return marks


def _clear_side(
    label: str, when: str, x: list[str], marks: Sequence[tuple[str, float]], foot: float
) -> bool | None:
    """Which side of the line at ``when`` a label at the panel's foot goes: right
    (False), else left (True), the first where it stays inside the panel and covers no
    mark reaching below ``foot`` troops (a "fewer than 50" at the month's end after the
    date); None where neither side is clear. Its width is taken at the page's widest
    (:data:`PLOT_PX`)."""
    start, end, at = (pd.Timestamp(t).value for t in (x[0], x[-1], when))
    wide = (len(label) * CHAR_PX + 12) / PLOT_PX * max(end - start, 1)

    def clear(lo: float, hi: float) -> bool:
        inside = start <= lo and hi <= end
        return inside and not any(lo <= pd.Timestamp(t).value <= hi and y < foot for t, y in marks)

    if clear(at, at + wide):
        return False
    if clear(at - wide, at):
        return True
    return None


def _as_of(
    fig: go.Figure,
    result: Result,
    x: list[str],
    row: int,
    marks: Sequence[tuple[str, float]] = (),
    limit: float = 0.0,
) -> None:
    """A solid vertical at the scenario's as-of date, and a dash-dotted one at the date
    the observations were taken as known on (a run ``--as-of``), each when it falls
    within the chart; the latter's label, at the foot of the panel, on the side of the
    line where it covers none of ``marks`` (:func:`_foot_marks`; ``limit``: the panel's
    y-limit [troops]), or none where neither side is clear."""
    as_of = pd.Timestamp(str(result.scenario.doc.as_of))
    inside = bool(x) and pd.Timestamp(x[0]) <= as_of <= pd.Timestamp(x[-1])
    if inside:
        label = f"as of {as_of.day} {as_of.strftime('%b %Y')}"
        if len(str(result.scenario.doc.as_of)) == 7:  # a month, not a day
            label = f"as of {as_of.strftime('%b %Y')}"
        _vline(fig, as_of.strftime("%Y-%m-%d"), row, AS_OF, "solid", label, "bottom", x)
    news = as_of_of(result)
    if news is not None and x and pd.Timestamp(x[0]) <= pd.Timestamp(news) <= pd.Timestamp(x[-1]):
        label = f"reports known on {news.day} {news.strftime('%b %Y')}"
        # (at the foot: the deadlines are labelled at the top)
        # on the side clear of the marks at the foot; with neither clear, the line alone
        # (the key above the chart names it)
        side = _clear_side(label, news.isoformat(), x, marks, FOOT_LABEL_SHARE * limit)
        if side is None:
            label = ""
        _vline(fig, news.isoformat(), row, AS_OF, "dashdot", label, "bottom", x, side)


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
    groups: dict[tuple[str, str, bool], list[Observation]] = {}
    for o in shown:
        groups.setdefault((o.shape, o.kind, o.known(as_of)), []).append(o)
    for (kind, said, known), group in groups.items():
        color = KIND_COLORS[said]
        face = color if known else "white"
        label = KIND_LABELS[said] if kind == "point" or said != "reported" else SHAPE_LABELS[kind]
        if split:
            label += f" (known on {as_of.isoformat()})" if known else " (reported later)"
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
                "width": 7,
            }
            y: list[float] = lows
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
                marker={"symbol": "line-ew", "size": 14, "line": {"color": color, "width": 3}},
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


def fan_figure(result: Result) -> go.Figure:
    """The fan chart of an ensemble: every variant's traces, the first variant's shown.

    Parameters
    ----------
    result : Result
        An ensemble (``result.bands`` set).

    Returns
    -------
    plotly.graph_objects.Figure
        A panel per theater, each followed by a panel per site when it is made of
        sites (those ``result.bands`` holds), as the PNG chart has them; each panel keeps
        one scale across variants.

    Raises
    ------
    ValueError
        When ``result`` is not an ensemble.
    """
    if result.bands is None:
        raise ValueError("a fan chart needs an ensemble: run with draws=N and seed=S")
    names = fan_series(result)
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
        shown = _shown(obs.items, tid, months) if obs is not None else []
        top = max(tops[tid] * 1.18, observed_top(shown, tid) * 1.12, 10)
        for i, v in enumerate(result.variants):
            _fan_panel(fig, result, v, tid, row, top, visible=i == 0)
        _observations(fig, shown, row, 0.09 * top, as_of_of(result))
        fig.update_yaxes(range=[0, top], row=row, col=1)
        x = month_ends(bands[bands.theater == tid].month.drop_duplicates().sort_values())
        _as_of(fig, result, x, row, _foot_marks(result, tid, shown, 0.09 * top), top)
    _layout(fig, len(names), "x unified")
    return fig


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
                "<br>50 % of draws: %{customdata[0]:,}–%{customdata[1]:,}"
                "<br>80 % of draws: %{customdata[2]:,}–%{customdata[3]:,}"
                "<br>90 % of draws: %{customdata[4]:,}–%{customdata[5]:,}<extra></extra>"
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
        ("official", "official figure (central run)", "official", colors.OFFICIAL, 1.6),
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
                name="calendar deadline",
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
    """Whole troops as an integer array (Plotly stores it compactly, as typed-array bytes)."""
    return np.asarray(values, dtype=np.int64)
