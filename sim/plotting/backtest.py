"""The backtest chart: each drawdown profile's path against the observed levels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.analysis.backtest import Backtest, metrics
from sim.colors import run_colors
from sim.months import spell_date
from sim.plotting import common
from sim.plotting.observed import (
    PROFILE_TITLES,
    draw_observations,
    legend_handles,
    observed_top,
    visible,
)
from sim.provenance import reports_credit
from sim.schema import PROFILES

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@common.plain_text
def plot_backtest(bt: Backtest, theaters: Sequence[str] | str | None = None) -> list[Axes]:
    """The backtest chart: observations over each profile's projected path.

    Parameters
    ----------
    bt : Backtest
        From :func:`sim.run_backtest`.
    theaters : str or sequence of str, optional
        The observed theaters (or sites, ``THEATER/SITE``) to draw a row of panels
        of, in this order; default: every theater with a report within the scenario's
        months (at most :data:`sim.plotting.common.MAX_THEATERS`).

    Returns
    -------
    list of matplotlib.axes.Axes
        A panel per profile (one row of panels per observed theater), lines per
        variant, then the panel of each profile's and variant's MAE as bars.

    Raises
    ------
    TypeError
        For data that is not a Backtest.
    ValueError
        For a theater in ``theaters`` without such a report (naming those with one).
    """
    common.expect(bt, Backtest, "plot_backtest", "sim.run_backtest")
    obs = bt.observations.items
    months = sorted(set(bt.paths.month.astype(str)))
    series = observed_series(bt)
    multi = len(series) > 1  # (each panel names its theater, its MAE of that one's reports)
    asked = common.names_given(theaters)
    if asked:
        unknown = [t for t in asked if t not in series]
        if unknown:
            raise ValueError(
                f"expected theaters with a report to compare among {', '.join(series)}, "
                f"found {', '.join(map(str, unknown))}"
            )
        series = list(dict.fromkeys(asked))
    series, crowded = common.theater_selection(series, chart="backtest")
    colors = run_colors(bt)
    fig, panels, summary = _layout(series)
    tops: dict[str, float] = {}
    heads: list[Any] = []
    for s, profile, ax in panels:
        top = _profile_panel(bt, ax, s, profile, colors, heads, multi=multi)
        tops[s] = max(tops.get(s, 0.0), top, observed_top(obs, s, months))
    for s, _p, ax in panels:
        ax.set_ylim(0, max(tops[s] * 1.12, 10))
        draw_observations(ax, obs, s, months)
    _mae_bars(summary, bt, colors)
    _decorate(bt, fig, colors, visible(obs, series, months), crowded, multi=multi)
    for (_s, _p, ax), head in zip(panels, heads, strict=True):  # (laid out: clear of the next)
        common.fit_width(head, right=ax.get_position().x1 + 0.012)
    return [a for _, _, a in panels] + [summary]


def observed_series(bt: Backtest) -> list[str]:
    """The theaters (and sites) a backtest chart can draw a row of: those with a report
    within the scenario's months, in the order they first come among the reports."""
    months = sorted(set(bt.paths.month.astype(str)))
    projected = set(bt.paths.theater)
    obs = bt.observations.items
    return [
        s
        for s in dict.fromkeys(o.theater for o in obs)
        if s in projected
        and any(o.theater == s and months[0] <= o.month_text <= months[-1] for o in obs)
    ]


#: the height of a backtest chart of one theater [in]
ONE_THEATER_IN = common.HEIGHT_IN + 1.2


def _layout(series: list[str]) -> tuple[Any, list[tuple[str, str, Axes]], Axes]:
    """The figure, a panel per (theater, profile), and the MAE panel: a 2 x 3 grid for
    one theater, else a row of profiles per theater above a full-width MAE row."""
    plt = common.pyplot()
    if len(series) == 1:
        fig, grid = plt.subplots(
            2, 3, figsize=(common.WIDTH_IN, ONE_THEATER_IN), dpi=common.DPI, squeeze=False
        )
        panels = [(series[0], p, grid[i // 3][i % 3]) for i, p in enumerate(PROFILES)]
        return fig, panels, grid[1][2]
    rows = len(series) + 1
    fig = plt.figure(
        figsize=(common.WIDTH_IN, max(common.HEIGHT_IN, 3.4 * rows + 2)), dpi=common.DPI
    )
    gs = fig.add_gridspec(rows, len(PROFILES))
    panels = [
        (s, p, fig.add_subplot(gs[r, c]))
        for r, s in enumerate(series)
        for c, p in enumerate(PROFILES)
    ]
    return fig, panels, fig.add_subplot(gs[rows - 1, :])


def _profile_panel(
    bt: Backtest,
    ax: Axes,
    s: str,
    profile: str,
    colors: dict[str, str],
    heads: list[Any],
    *,
    multi: bool,
) -> float:
    """One profile's paths for theater ``s``, titled (the title added to ``heads``), with
    each variant's MAE (of ``s``'s reports alone when ``multi``); returns the highest
    level drawn [troops]."""
    rows = bt.paths[(bt.paths.theater == s) & (bt.paths.profile == profile)]
    n = len(bt.variants)
    for j, v in enumerate(bt.variants):
        r = rows[rows.variant == v]
        # earlier variants drawn wider, so a path hidden under a later one shows as a
        # coloured edge instead of vanishing
        ax.plot(
            common.month_ends(r.month),
            r.troops.to_numpy(float),
            color=colors[v],
            lw=2.2 + min(1.5, 4.0 / max(n - 1, 1)) * (n - 1 - j),
            label=v,
            zorder=3,
        )
    _backtest_style(ax)
    is_best = profile in bt.tied()  # (profiles that tie with the best are as good)
    if multi:  # (five panels a row: the profile's short name after the theater's)
        theaters = bt.scenario.doc.theaters
        name = theaters[s].name if s in theaters and theaters[s].name else s
        title = f"{name} · {BAR_NAMES.get(profile, profile)}"
        errors = bt.errors[(bt.errors.profile == profile) & (bt.errors.theater == s)]
        mae = {
            v: metrics(errors[errors.variant == v].to_dict("records"))["mae"] for v in bt.variants
        }
    else:
        title = PROFILE_TITLES.get(profile, profile)
        t = bt.table[bt.table.profile == profile]
        mae = {v: t[t.variant == v].mae.iloc[0] for v in bt.variants}
    head = ax.set_title(
        title + ("  \u2605 best fit" if is_best else ""),
        loc="left",
        fontsize=12.5 if multi else 13.5,
        fontweight="bold",
        color="#7a1f1f" if is_best else "black",
    )
    heads.append(head)
    ax.annotate(
        "\n".join(f"{v}: MAE {_n(mae[v])}" for v in bt.variants),
        (0.98, 0.97),
        xycoords="axes fraction",
        ha="right",
        va="top",
        fontsize=9.5,
        color="#333333",
        linespacing=1.3,
        bbox={"boxstyle": "square,pad=0.3", "fc": "white", "ec": "#dddddd", "alpha": 0.9},
    )
    return float(rows.troops.max()) if len(rows) else 0.0


#: a profile's short name, under its bars and after a theater's name in a panel's title
BAR_NAMES = {"front": "front-loaded", "back": "back-loaded", "s-curve": "S-curve"}


def _tie_note(bt: Backtest) -> str:
    """``"; step and back-loaded fit as well"``: the profiles that tie with the best."""
    others = [PROFILE_TITLES.get(p, p) for p in bt.tied()[1:]]
    if not others:
        return ""
    named = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
    return f"; {named} fit{'s' if len(others) == 1 else ''} exactly as well"


def _decorate(
    bt: Backtest,
    fig: Any,
    colors: dict[str, str],
    shown: Any,
    crowded: str | None = None,
    *,
    multi: bool = False,
) -> None:
    """Title, subtitle, legend and the footnote naming the best fit, each as far from
    the figure's edge as on a one-theater chart (:data:`ONE_THEATER_IN` tall), whatever
    the figure's height."""
    from matplotlib.lines import Line2D

    height = fig.get_figheight()

    def top(y: float) -> float:  # (a height on the one-theater chart, as far from the top)
        return y if height == ONE_THEATER_IN else 1 - (1 - y) * ONE_THEATER_IN / height

    def bottom(y: float) -> float:  # (as far from the foot)
        return y if height == ONE_THEATER_IN else y * ONE_THEATER_IN / height

    sc, best = bt.scenario, bt.best()
    fig.suptitle(
        "Backtest: which drawdown profile fits what happened?",
        x=0.04,
        ha="left",
        y=top(0.985),
        fontsize=18,
        fontweight="bold",
    )
    fig.text(
        0.04,
        top(0.952),
        f"{sc.title}. Each panel applies one profile to every milestone of every variant "
        "(lines, levels at month ends);\nblack marks are the reported levels, each compared "
        "with the level at the end of the month it falls in.",
        fontsize=11.5,
        color="#333333",
        va="top",
        linespacing=1.35,
    )
    # one line width in the legend: the panels' wider lines only keep hidden paths visible
    handles: list[Any] = [Line2D([], [], color=colors[v], lw=2.5) for v in bt.variants]
    kh, kl = legend_handles(shown)
    legend = fig.legend(
        handles + kh,
        list(bt.variants) + kl,
        loc="upper left",
        bbox_to_anchor=(0.04, top(0.905)),
        ncol=min(len(handles) + len(kh), 7),
        fontsize=10.5,
        frameon=False,
        handlelength=2.2,
        columnspacing=1.5,
    )
    note = (
        f"Best fit: {best.profile} ({best.variant}), mean absolute error (MAE) {_n(best.mae)} "
        f"troops, mean absolute percentage error (MAPE) {best.mape:.1f} %, max error "
        f"{_n(best.max_error)} troops over "
        f"{int(best.months_compared)} months{_tie_note(bt)}.\n"
        "Error = distance from the projected level to the observed range (0 inside it).\n"
        f"Observations: {_compared(bt, best, _short(bt.observations.origin))}.\n"
        + (
            "A panel’s MAE is of its own theater’s reports; the bars’ and the ★ best fit’s, "
            "of every report compared.\n"
            if multi
            else ""
        )
        + f"Scenario as of {spell_date(sc.doc.as_of)}. forcesim backtest, not a forecast of "
        "record."
    )
    if crowded:
        note += "\n" + crowded
    fig.text(0.04, bottom(0.012), note, fontsize=9.5, color="#444444", va="bottom")
    # (more footnote: the panels start higher; the observations' credit has a line of its own)
    lines = 1 + int(multi) + int(crowded is not None)
    fig.subplots_adjust(
        left=0.06,
        right=0.98,
        top=min(top(0.83), below(legend)),
        bottom=bottom(0.125) + lines * 0.16 / height,
        hspace=0.42,
        wspace=0.22 if multi else 0.16,  # (five panels a row: their MAE clear of the next's ticks)
    )


def below(legend: Any) -> float:
    """The top of the panels below ``legend`` (a figure fraction): room under its last
    row for a panel's title (0.45 in), however many rows its entries take."""
    fig = legend.get_figure(root=True)
    box = legend.get_window_extent(fig.canvas.get_renderer())
    return (box.y0 - 0.45 * fig.dpi) / fig.bbox.height


def _compared(bt: Backtest, best: Any, file: str) -> str:
    """How many reports ``file`` has, and how many of them the fit compared: those
    before the scenario's start or after its end, and targets, are not."""
    n, k = len(bt.observations), int(best.observations)
    credit = reports_credit(bt.scenario.doc.sources, list(bt.observations))
    sources = f"{credit}; sources in the file" if credit else "sources in the file"
    if k == n:
        return f"{n:,} reported levels from {file} ({sources})"
    return (
        f"{n:,} reports from {file} ({sources}), {k:,} of them compared: "
        "those within the scenario's months, targets left out"
    )


def _n(x: float) -> str:  # a whole number of troops, "-" for none
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.0f}"


def _short(origin: str) -> str:
    """The record's file name, as a chart can show it (bytes of no UTF-8 escaped)."""
    from pathlib import Path

    from sim.io.files import utf8_text

    return utf8_text(Path(origin.removesuffix(" (observations)")).name)


def _backtest_style(ax: Axes) -> None:
    # a theater's panels share its scale: the first of each row names the unit (a label
    # on every panel stood between one panel's data and the next one's ticks)
    spec = ax.get_subplotspec()
    if spec is None or spec.colspan.start == 0:
        ax.set_ylabel("troops", fontsize=11)
    common.troops_axis(ax.yaxis)
    ax.grid(axis="y", color="#dddddd", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    common.date_axis(ax)
    ax.tick_params(labelsize=10)


def _mae_bars(ax: Axes, bt: Backtest, colors: dict[str, str]) -> None:
    import numpy as np

    t = bt.table
    k = len(bt.variants)
    width = 0.8 / max(k, 1)
    x = np.arange(len(PROFILES))
    best, tied = bt.best(), bt.tied()
    for j, v in enumerate(bt.variants):
        vals = [float(t[(t.profile == p) & (t.variant == v)].mae.iloc[0]) for p in PROFILES]
        pos = x - 0.4 + width * (j + 0.5)
        ax.bar(pos, vals, width * 0.92, color=colors[v], label=v, zorder=3)
        for p, xv, val in zip(PROFILES, pos, vals, strict=True):
            if p in tied and v == best.variant:
                ax.annotate(
                    "\u2605",
                    (xv, val),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=14,
                    color="#7a1f1f",
                )
    ax.set_xticks(x, [BAR_NAMES.get(p, p).replace("-l", "-\nl") for p in PROFILES], fontsize=10)
    ax.set_title(
        "Mean absolute error (MAE) by profile",
        loc="left",
        fontsize=13.5,
        fontweight="bold",
    )
    ax.set_ylabel("MAE, troops (lower is better)", fontsize=11)
    common.troops_axis(ax.yaxis, whole=False)  # (a mean error: ticks between whole troops)
    ax.grid(axis="y", color="#dddddd", lw=0.8, zorder=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(0, max(float(np.nanmax(t.mae.to_numpy(float))) * 1.15, 1))
