"""Charts. The only module that imports matplotlib.

Every function takes ``ax=None`` (one axes, or a sequence with one per
theater) and returns the axes it drew on; none calls ``show()`` or picks a
file name. :func:`save` writes a figure as PNG with the Agg backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.results import Result

WIDTH_IN, HEIGHT_IN, DPI = 16.0, 10.0, 100  # 1600 x 1000 px
PALETTE = [
    "#1b6ca8",
    "#d1495b",
    "#edae49",
    "#00798c",
    "#66a182",
    "#8d6a9f",
    "#2e4057",
    "#c1666b",
    "#4f772d",
    "#a05195",
]


def pyplot() -> Any:
    """pyplot, switched to Agg unless inside IPython/Jupyter (whose backend choice,
    inline or ``%matplotlib widget``, stands)."""
    import contextlib
    import sys

    import matplotlib

    ipython = sys.modules.get("IPython")
    in_ipython = ipython is not None and getattr(ipython, "get_ipython", lambda: None)() is not None
    backend = "" if in_ipython else matplotlib.get_backend().lower()
    if backend and backend not in ("agg", "module://matplotlib_inline.backend_inline"):
        with contextlib.suppress(Exception):  # a backend already in use stays
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def variant_colors(variants: Sequence[str]) -> dict[str, str]:
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variants)}


def _axes_for(result: Result, theaters: Sequence[str], ax: Any) -> tuple[Figure | None, list[Axes]]:
    plt = pyplot()
    if ax is None:
        fig, axes = plt.subplots(
            len(theaters), 1, figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, sharex=True, squeeze=False
        )
        return fig, list(axes[:, 0])
    axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
    if len(axes) != len(theaters):
        raise ValueError(
            f"expected {len(theaters)} axes (one per theater: "
            f"{', '.join(theaters)}), found {len(axes)}"
        )
    return None, axes


def month_ends(months: pd.Series | pd.PeriodIndex) -> np.ndarray:
    """Month periods → datetimes at the end of each month (the level's moment)."""
    idx = pd.PeriodIndex(months, freq="M")
    return idx.to_timestamp(how="end").normalize().to_numpy()


def theater_list(result: Result, theaters: Sequence[str] | str | None) -> list[str]:
    """The theaters to draw: those asked for (checked), else every variant's."""
    known = result.theaters
    if not theaters:
        return known
    names = [theaters] if isinstance(theaters, str) else list(theaters)
    unknown = [t for t in names if t not in known]
    if unknown:
        raise ValueError(f"expected theaters among {', '.join(known)}, found {', '.join(unknown)}")
    return names


def theater_title(result: Result, tid: str) -> str:
    doc = result.scenario.doc
    if tid in doc.theaters:
        return doc.theaters[tid].name or tid.title()
    return tid


def _deadlines(result: Result, ax: Axes, tid: str, *, label: bool) -> None:
    """Dotted verticals at the base scenario's calendar deadlines, with their targets."""
    doc = result.scenario.doc
    seen: set[str] = set()
    ymax = ax.get_ylim()[1]
    for ms in doc.milestones.values():
        if ms.theater.split("/")[0] != tid or not isinstance(ms.deadline, str):
            continue
        when = month_ends(pd.PeriodIndex([ms.deadline], freq="M"))[0]
        if ms.deadline not in seen:
            ax.axvline(when, color="#555555", lw=1, ls=(0, (2, 3)), zorder=1)
            ax.annotate(
                f"deadline {ms.deadline}",
                (when, ymax),
                xytext=(4, -14),
                textcoords="offset points",
                fontsize=10,
                color="#444444",
            )
            seen.add(ms.deadline)
    # each variant's theater-level targets at their deadlines (after any slip);
    # site targets are not drawn on a theater's panel, which shows the sum of its sites
    rows = result.milestones[result.milestones.theater == tid]
    marks = sorted({(str(r.deadline), int(r.target)) for r in rows.itertuples()})
    for deadline, target in marks:
        when = month_ends(pd.PeriodIndex([deadline], freq="M"))[0]
        ax.plot(
            [when],
            [target],
            marker="D",
            ms=7,
            color="#222222",
            markerfacecolor="white",
            markeredgewidth=1.8,
            zorder=5,
            ls="none",
            label="milestone target" if label else None,
        )
        label = False


def _legend_entries(axes: Sequence[Axes]) -> tuple[list[Any], list[str]]:
    """Every labelled artist of every panel, each label once, in drawing order."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    return handles, labels


def style_axes(ax: Axes, title: str) -> None:
    import matplotlib.dates as mdates
    from matplotlib.ticker import FuncFormatter

    ax.set_title(title, loc="left", fontsize=15, fontweight="bold")
    ax.set_ylabel("troops", fontsize=12)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.tick_params(labelsize=11)


def footnote(result: Result) -> str:
    doc = result.scenario.doc
    cited = [
        f"{s.publisher or s.title} ({s.date})" if s.date else (s.publisher or s.title)
        for s in doc.sources
    ]
    names = "; ".join(cited)
    if len(names) > 170:  # a long list would run off the chart: name the first few
        shown = 0
        while shown < len(cited) and len("; ".join(cited[: shown + 1])) <= 140:
            shown += 1
        names = "; ".join(cited[:shown]) + f"; and {len(cited) - shown} more in the scenario file"
    assumed = _assumption_count(result)
    lines = [f"As of {doc.as_of}. Sources: {names or 'none listed'}."]
    if assumed:
        lines.append(
            f"{assumed} inputs across the {len(result.variants)} variants shown are "
            "assumptions, not reported figures; "
            f"`forcesim sources` lists each number with its source or assumption."
        )
    lines.append("Levels at the end of each month. forcesim projection, not a forecast of record.")
    return "\n".join(lines)


def _assumption_count(result: Result) -> int:
    from sim.provenance import assumption_count

    return assumption_count(result.scenario, list(result.variants))


def _only(result: Result, variants: list[str]) -> Result:
    """A view of ``result`` holding only ``variants``."""
    import dataclasses

    return dataclasses.replace(
        result,
        variants=variants,
        monthly=result.monthly[result.monthly.variant.isin(variants)],
        milestones=result.milestones[result.milestones.variant.isin(variants)],
        plans={v: result.plans[v] for v in variants},
    )


def _end_labels(ax: Axes, x_end: Any, last: pd.Series, colors: dict[str, str]) -> None:
    """Name the variants at the right end of their lines; lines that end together share
    one label, so a line hidden under another is still accounted for."""
    groups: dict[int, list[str]] = {}
    for variant, value in last.items():
        groups.setdefault(int(value), []).append(str(variant))
    top = ax.get_ylim()[1]
    # the height of one line of label text in data units (panel height from the figure)
    height_px = ax.get_window_extent().height or 300.0
    line = top * 14.0 / height_px
    floor = 0.0  # the lowest y the next label may take, above the ones placed
    for value in sorted(groups):
        names = groups[value]
        lines = [", ".join(names[i : i + 3]) for i in range(0, len(names), 3)]
        y = max(float(value), floor)
        floor = y + line * len(lines) + 0.6 * line
        ax.annotate(
            f"{value:,}: " + ",\n".join(lines),
            (x_end, y),
            xytext=(8, 0),
            textcoords="offset points",
            va="bottom",
            fontsize=9.5,
            linespacing=1.1,
            color=colors[names[0]] if len(names) == 1 else "#333333",
            annotation_clip=False,
        )


def plot_envelope(
    result: Result,
    ax: Any = None,
    theaters: Sequence[str] | None = None,
    observed: Any = None,
    variants: Sequence[str] | None = None,
) -> list[Axes]:
    """Envelope chart: a panel per theater, a line per variant, the min–max band shaded.

    Parameters
    ----------
    result : Result
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per theater drawn; a new 1600×1000 px figure when omitted.
    theaters : sequence of str, optional
        Theater ids to draw (default: all).
    observed : sim.observed.ObservationSet, optional
        Observed levels to draw (default: those attached to ``result``; False: none).
    variants : sequence of str, optional
        Variants to draw (default: all those the result holds).

    Returns
    -------
    list of matplotlib.axes.Axes
    """
    from sim import observed_chart

    if variants:
        unknown = [v for v in variants if v not in result.variants]
        if unknown:
            raise ValueError(
                f"expected variants among {', '.join(result.variants)}, found {', '.join(unknown)}"
            )
        result = _only(result, list(variants))

    names = theater_list(result, theaters)
    fig, axes = _axes_for(result, names, ax)
    colors = variant_colors(result.variants)
    df = result.monthly
    for i, (tid, a) in enumerate(zip(names, axes, strict=True)):
        rows = df[df.theater == tid]
        wide = rows.pivot(index="month", columns="variant", values="troops")
        wide = wide[[v for v in result.variants if v in wide.columns]]
        x = month_ends(wide.index)
        a.fill_between(
            x,
            wide.min(axis=1),
            wide.max(axis=1),
            color="#9db4c0",
            alpha=0.35,
            lw=0,
            label="range across variants" if i == 0 else None,
            step=None,
        )
        n = len(wide.columns)
        for j, v in enumerate(wide.columns):
            # identical paths stay visible: a small offset in line width and dash
            a.plot(
                x,
                wide[v],
                color=colors[v],
                lw=2.6 - 1.4 * j / max(n - 1, 1),
                label=v if i == 0 else None,
                zorder=3 + j * 0.01,
            )
        style_axes(a, theater_title(result, tid))
        observed_chart.add_to_panel(
            a,
            result,
            tid,
            observed,
            data_top=float(wide.max().max()),
            legend=names if i == 0 else None,
        )
        _deadlines(result, a, tid, label=True)
        _end_labels(a, x[-1], wide.iloc[-1], colors)
    if fig is not None:
        doc = result.scenario.doc
        fig.suptitle(doc.title, x=0.06, ha="left", fontsize=19, fontweight="bold", y=0.975)
        fig.text(
            0.06,
            0.925,
            "Projected troops at the end of each month, one line per "
            "reading of the plan (variant); shading spans the lowest to highest.",
            fontsize=12,
            color="#333333",
        )
        handles, labels = _legend_entries(axes)
        fig.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.815, 0.88),
            fontsize=11,
            frameon=False,
            title="variant",
            title_fontsize=12,
            alignment="left",
        )
        fig.text(0.06, 0.015, footnote(result), fontsize=9.5, color="#444444", va="bottom")
        fig.subplots_adjust(left=0.06, right=0.66, top=0.88, bottom=0.14, hspace=0.28)
    return axes


def plot_fan(
    result: Result,
    ax: Any = None,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    observed: Any = None,
) -> list[Axes]:
    """Fan chart of an ensemble: a panel per theater and variant (drawn by :mod:`sim.fan`).

    Parameters
    ----------
    result : Result
        An ensemble result (``sim.run(..., draws=N, seed=S)``).
    ax : matplotlib Axes or sequence of Axes, optional
        One axes per (theater, variant) panel, theater-major; a new figure
        (at least 1600×1000 px) when omitted.
    theaters : sequence of str, optional
        Theater ids (or site keys such as ``iraq/erbil``); default: every theater.
    variants : sequence of str, optional
        Variant names; default: every variant of the result.
    observed : sim.observed.ObservationSet, optional
        Observed levels to draw (default: those attached to ``result``; False: none).

    Returns
    -------
    list of matplotlib.axes.Axes
        The panels, theater-major.
    """
    from sim import observed_chart
    from sim.fan import draw_fan

    axes = draw_fan(result, ax=ax, theaters=theaters, variants=variants)
    observed_chart.add_to_fan(
        axes,
        result,
        theater_list(result, theaters),
        list(variants) if variants else list(result.variants),
        observed,
    )
    return axes


def save(axes: Sequence[Axes], path: Any) -> None:
    """Write the figure holding ``axes`` as a PNG (Agg), then close it."""
    plt = pyplot()
    fig = axes[0].get_figure(root=True)
    assert fig is not None
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
