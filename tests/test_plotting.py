"""The envelope chart: size, data in every panel, title, axis label, legend, deadlines."""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO, make_doc

import sim
from sim import plotting
from sim.plotting import common

CHART_DOC = make_doc(
    title="Two theaters, three readings",
    sources=[
        {"id": "wire", "title": "A wire report", "publisher": "Test Wire", "date": "2024-01-05"}
    ],
    theaters={
        "alpha": {"name": "Alpha", "sites": {"north": {"initial": 600}, "south": {"initial": 400}}},
        "beta": {"name": "Beta", "initial": 300},
    },
    milestones={
        "north-out": {"theater": "alpha/north", "deadline": "2024-06", "target": {"level": 0}},
        "south-cut": {
            "theater": "alpha/south",
            "deadline": "2024-10",
            "target": {"reduce_by": 150},
            "profile": "back",
        },
        "beta-out": {
            "theater": "beta",
            "deadline": "2024-09",
            "target": {"level": {"value": 0, "source": "wire"}},
        },
    },
    variants={
        "on-time": {"description": "on time", "overrides": {}},
        "late": {"description": "late", "overrides": {"announcement": {"delay": 3}}},
        "kept": {
            "description": "beta kept",
            "overrides": {"milestones": {"beta-out": {"target": {"level": 300}}}},
        },
    },
)


@pytest.fixture
def result(write):
    return sim.run(sim.load_scenario(write(CHART_DOC)))


@pytest.fixture(scope="module")
def default_result():
    return sim.run(sim.load_scenario(DEFAULT_SCENARIO))


def variant_lines(ax, result) -> list:
    """The lines of an axes that are whole projections (one value per month)."""
    n = result.monthly.month.nunique()
    return [line for line in ax.get_lines() if len(line.get_xdata()) == n]


def test_the_chart_is_drawn_with_the_agg_backend_and_never_shown(result, monkeypatch):
    def no_show(*args, **kwargs):
        raise AssertionError("plotting must never call show()")

    monkeypatch.setattr(plt, "show", no_show)
    axes = plotting.plot_envelope(result)
    assert matplotlib.get_backend().lower() == "agg"
    assert axes[0].figure.canvas.get_supported_filetypes()["png"]


@pytest.mark.slow
def test_the_command_lines_off_screen_drawing_leaves_matplotlib_unimported_until_a_chart():
    # the command line chose Agg by importing matplotlib before a run counted its draws:
    # 14 to 29 MB held while the counts took their most. The choice now waits for the
    # first chart, over a backend the user's environment names, and sets nothing that
    # the processes started after it would inherit
    import os
    import subprocess
    import sys

    from conftest import REPO

    script = (
        "import os, sys\n"
        "from sim.plotting import use_agg\n"
        "from sim.plotting.common import pyplot\n"
        "use_agg()\n"
        "assert 'matplotlib' not in sys.modules, 'imported'\n"
        "plt = pyplot()\n"
        "plt.close(plt.figure())\n"
        "print(plt.get_backend(), os.environ['MPLBACKEND'])\n"
    )
    env = {**os.environ, "MPLBACKEND": "TkAgg", "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Agg", "TkAgg"]


@pytest.mark.slow
def test_the_chart_is_at_least_1600_by_1000_pixels(result, tmp_path):
    axes = plotting.plot_envelope(result)
    fig = axes[0].figure
    width, height = fig.get_size_inches() * fig.dpi
    assert width >= 1600 and height >= 1000
    path = tmp_path / "envelope.png"
    plotting.save(axes, path)
    rows, cols = mpimg.imread(path).shape[:2]
    assert cols >= 1600 and rows >= 1000


@pytest.mark.slow
@pytest.mark.parametrize("which", ["small", "default"])
def test_every_panel_has_a_line_with_data_for_every_variant(which, result, default_result):
    res = result if which == "small" else default_result
    axes = plotting.plot_envelope(res)
    plan = next(iter(res.plans.values()))
    sites = sum(1 for t in plan.tracks if t.site)  # a panel per theater, then per site
    assert len(axes) == len(plan.theaters) + sites
    for ax in axes:
        lines = variant_lines(ax, res)
        assert len(lines) >= len(res.variants), ax.get_title()
        for line in lines:
            y = np.asarray(line.get_ydata(), dtype=float)
            assert y.size and np.isfinite(y).all() and (y >= 0).all()


def test_each_panel_plots_the_monthly_levels_of_its_theater(result):
    axes = plotting.plot_envelope(result)
    monthly = result.monthly
    for ax, tid in zip(axes, ["alpha", "alpha/north", "alpha/south", "beta"], strict=True):
        drawn = {
            tuple(np.asarray(line.get_ydata(), dtype=float)) for line in variant_lines(ax, result)
        }
        for v in result.variants:
            rows = monthly[(monthly.theater == tid) & (monthly.variant == v)]
            assert tuple(rows.troops.astype(float)) in drawn, (tid, v)


def test_the_band_between_lowest_and_highest_variant_is_shaded(result):
    axes = plotting.plot_envelope(result)
    for ax in axes:
        assert ax.collections, f"no shaded band on {ax.get_title()}"


def test_the_chart_has_a_title_panel_titles_and_troops_on_the_y_axis(result):
    axes = plotting.plot_envelope(result)
    fig = axes[0].figure
    assert fig._suptitle is not None and fig._suptitle.get_text() == "Two theaters, three readings"
    assert [ax.get_title(loc="left") for ax in axes] == [
        "Alpha",
        "North (Alpha)",
        "South (Alpha)",
        "Beta",
    ]
    assert all(ax.get_ylabel() == "troops" for ax in axes)


def test_the_legend_names_every_variant(result):
    axes = plotting.plot_envelope(result)
    fig = axes[0].figure
    legends = list(fig.legends) + [ax.get_legend() for ax in axes if ax.get_legend()]
    assert legends, "the chart has no legend"
    labels = {t.get_text() for legend in legends for t in legend.get_texts()}
    assert set(result.variants) <= labels


def test_the_envelopes_end_labels_stand_on_white_over_the_gridlines_they_overlap():
    # the panel runs on past its last month, and its gridlines ran through the first
    # words of the names at the lines' ends
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO))
    axes = plotting.plot_envelope(result)
    fig = axes[0].figure
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ends = [t for ax in axes for t in ax.texts if re.match(r"[\d,]+: ", t.get_text())]
        assert ends
        crossed = 0
        for t in ends:
            box = t.get_bbox_patch()
            assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0)
            # (the box is drawn with its text)
            assert t.get_zorder() > max(g.get_zorder() for g in t.axes.get_ygridlines())
            extent = t.get_window_extent(renderer)
            crossed += extent.x0 < t.axes.get_window_extent(renderer).x1
        assert crossed  # (some label starts inside its panel, where gridlines run)
    finally:
        plt.close(fig)


def test_an_envelope_of_one_variant_neither_shades_nor_speaks_of_a_range():
    # its subtitle said "shading spans the lowest to highest" and its legend listed a
    # "range across variants", over a chart with nothing shaded
    from matplotlib.collections import PolyCollection

    for names, shaded in ((["on-time"], False), (["on-time", "slip-6"], True)):
        result = sim.run(sim.load_scenario(DEFAULT_SCENARIO), names)
        axes = plotting.plot_envelope(result)
        fig = axes[0].figure
        words = " ".join(t.get_text() for t in fig.texts)
        labels = {t.get_text() for legend in fig.legends for t in legend.get_texts()}
        fills = [c for ax in axes for c in ax.collections if isinstance(c, PolyCollection)]
        assert (bool(fills), "shading" in words, "range across variants" in labels) == (
            shaded,
            shaded,
            shaded,
        )
        if not shaded:
            assert "for one reading of the plan (variant on-time)" in words
        plt.close(fig)


def test_labels_of_deadlines_two_months_apart_stack_rather_than_overlap(write):
    doc = make_doc(
        calendar={"start": "2024-01", "end": "2025-03"},
        milestones={
            "first": {"theater": "alpha", "deadline": "2024-07", "target": {"reduce_by": 400}},
            "last": {"theater": "alpha", "deadline": "2024-09", "target": {"level": 0}},
        },
    )
    axes = plotting.plot_envelope(sim.run(sim.load_scenario(write(doc))))
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in axes[0].texts if t.get_text().startswith("deadline")]
    labels.sort(key=lambda t: t.xy[0])  # (in the order of their lines, not of placing)
    assert [t.get_text() for t in labels] == ["deadline Jul 2024", "deadline Sep 2024"]
    first, last = (t.get_window_extent(renderer) for t in labels)
    assert not first.padded(3).overlaps(last)  # not even touching: no run-on text
    assert axes[0].get_window_extent(renderer).contains(last.x1 - 1, last.y0 + 1)
    plt.close(fig)


def test_calendar_deadlines_are_drawn_from_the_scenario(result):
    axes = plotting.plot_envelope(result)
    texts = {t.get_text() for ax in axes for t in ax.texts}
    assert {"deadline Jun 2024", "deadline Oct 2024"} <= {
        t for t in texts if t.startswith("deadline")
    }
    assert "deadline Sep 2024" in {t.get_text() for t in axes[-1].texts}
    beta_x = {
        float(x)
        for line in axes[-1].get_lines()
        if len(line.get_xdata()) <= 2
        for x in np.atleast_1d(line.get_xdata(orig=False))
    }
    assert any(abs(x - mdates.date2num(np.datetime64("2024-09-30"))) < 1.5 for x in beta_x)


@pytest.mark.slow
def test_a_deadline_month_is_spelled_as_the_fan_spells_it_on_the_envelope_png_and_the_page(
    write,
) -> None:
    # the fan wrote "Sep 2024" where the envelope PNG and the page's charts wrote
    # "deadline 2024-09"; tables, CSV files and run.json keep the ISO month
    from sim.plotting.common import DEADLINE_LABEL_GID
    from sim.report.charts import envelope_figure

    result = sim.run(sim.load_scenario(write(CHART_DOC)), draws=40, seed=3, progress=False)
    fan = {
        t.get_text().split("\n")[0]
        for ax in plotting.plot_fan(result)
        for t in ax.texts
        if t.get_gid() == DEADLINE_LABEL_GID
    }
    assert fan == {"Jun 2024", "Sep 2024", "Oct 2024"}
    png = {
        t.get_text()
        for ax in plotting.plot_envelope(result)
        for t in ax.texts
        if t.get_gid() == DEADLINE_LABEL_GID
    }
    page = {
        a.text for a in envelope_figure(result).layout.annotations if a.text.startswith("deadline")
    }
    assert png == page == {f"deadline {month}" for month in fan}
    plt.close("all")


def test_the_footnote_gives_the_as_of_date_and_the_source_names(result):
    axes = plotting.plot_envelope(result)
    texts = " ".join(t.get_text() for t in axes[0].figure.texts)
    assert "Scenario as of Jan 2024." in texts and "Test Wire" in texts  # a month as written


def test_plotting_into_given_axes_draws_there_and_returns_them(result):
    fig, given = plt.subplots(2, 1)
    axes = sim.plot(result, ax=given)
    assert list(axes) == list(given)
    assert all(variant_lines(ax, result) for ax in given)


def _paper_figure(rows: int = 1, cols: int = 2):
    """A figure at the size of a paper's column pair, laid out by matplotlib."""
    return plt.subplots(rows, cols, figsize=(7, 2.6 * rows), layout="constrained")


def _texts_of(ax):
    return [t for t in ax.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]


@pytest.mark.slow
@pytest.mark.parametrize("chart", ["envelope", "fan", "compare"])
def test_charts_drawn_into_paper_sized_axes_keep_their_width_and_readable_ticks(
    default_result, chart
):
    # a student's two panels side by side, 7 inches in all: the labels at the lines'
    # ends squeezed each panel to a sliver and the year ticks ran together
    scenario = default_result.scenario
    if chart == "envelope":
        fig, axes = _paper_figure()
        sim.plot_envelope(default_result, ax=axes)
    elif chart == "fan":
        fig, axes = _paper_figure()
        ensemble = sim.run(scenario, ["on-time", "slip-6"], draws=200, seed=1)
        sim.plot_fan(ensemble, ax=axes, theaters=["iraq"])
    else:
        fig, axes = _paper_figure(2, 2)
        axes = axes.T.ravel()
        sim.plot_compare(sim.compare(scenario, "on-time", "slip-6", 200, 1), ax=axes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in np.ravel(axes):
        assert ax.get_position().width > 0.3 * (
            2 / len(np.ravel(axes)) if chart == "compare" else 1
        )
        ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
        assert len(ticks) >= 2
        assert all(a.x1 < b.x0 for a, b in zip(ticks, ticks[1:], strict=False)), "overlap"
        box = ax.get_window_extent(renderer)
        for text in _texts_of(ax):  # nothing stands out to the right of the panel
            if text in ax.get_xticklabels():
                continue
            assert text.get_window_extent(renderer).x1 <= box.x1 + 2, text.get_text()
    plt.close(fig)


def test_text_into_given_axes_follows_the_callers_font_size(default_result):
    with matplotlib.rc_context({"font.size": 8}):
        fig, axes = _paper_figure()
        sim.plot_envelope(default_result, ax=axes)

    def title(ax):  # the panel's title, at its left
        return next(t for t in _texts_of(ax) if t.get_text() == "Iraq")

    assert title(axes[0]).get_fontsize() == pytest.approx(8 * 15 / 12.5)
    assert axes[0].yaxis.label.get_fontsize() == pytest.approx(8 * 12 / 12.5)
    own = plotting.plot_envelope(default_result, theaters=["iraq"])  # our own figure: as designed
    assert title(own[0]).get_fontsize() == 15
    plt.close("all")


@pytest.mark.slow
def test_the_comparison_into_small_axes_keeps_its_notes_clear_of_the_deadline_labels(
    default_result,
):
    comparison = sim.compare(default_result.scenario, "on-time", "slip-6", 200, 1)
    fig, axes = _paper_figure(1, 2)
    sim.plot_compare(comparison, ax=axes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes:
        boxes = [
            (t.get_text(), t.get_window_extent(renderer))
            for t in _texts_of(ax)
            if t not in ax.get_xticklabels() + ax.get_yticklabels()
            and t not in (ax.title, ax.yaxis.label, ax.xaxis.label)
        ]
        assert any(text.startswith("above 0") for text, _ in boxes)
        for i, (a_text, a) in enumerate(boxes):
            for b_text, b in boxes[i + 1 :]:
                assert not a.overlaps(b), (a_text, b_text)
    plt.close(fig)


def _tick_boxes(fig, ax):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]


@pytest.mark.slow
def test_a_short_span_in_narrow_given_axes_gets_ticks_that_fit_and_no_locator_warning():
    # two years of Afghanistan in two panels of a 3.5-inch figure: half-years did not
    # fit, and matplotlib warned "unable to pick an appropriate interval" and drew them
    scenario = sim.load_scenario(DEFAULT_SCENARIO.parent / "historical/afghanistan-2020.yaml")
    result = sim.run(scenario)
    fig, axes = plt.subplots(1, 2, figsize=(3.5, 2.5), layout="constrained")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="AutoDateLocator")
        for ax in axes:
            sim.plot_envelope(result, ax=ax)
        for ax in axes:
            ticks = _tick_boxes(fig, ax)
            assert ticks
            assert all(a.x1 < b.x0 for a, b in zip(ticks, ticks[1:], strict=False)), "overlap"
    plt.close(fig)


@pytest.mark.slow
def test_ticks_into_axes_of_a_narrow_subfigure_follow_the_width_drawn(default_result):
    # get_position() of axes in a subfigure is a share of the subfigure, not of the
    # figure: a panel 1.75 inches wide was taken for 7.5 and given a tick every year
    fig = plt.figure(figsize=(10, 2.6), layout="constrained")
    narrow, wide = fig.subfigures(1, 2, width_ratios=[1, 3])
    ax = narrow.subplots()
    wide.subplots()
    sim.plot_envelope(default_result, ax=ax, theaters=["iraq"])
    fig.canvas.draw()
    low, high = ax.get_xlim()
    shown = [x for x in ax.get_xticks() if low <= x <= high]
    width_in = ax.bbox.width / fig.dpi
    label_pt = 11 * matplotlib.rcParams["font.size"] / 12.5  # as the tick labels are drawn
    # the locator's rule (sim.plotting.common.date_axis): one per 0.08 * label_pt inches,
    # at least 3
    assert 2 <= len(shown) <= max(3, int(width_in / (0.08 * label_pt)))
    plt.close(fig)


def test_plotting_into_the_wrong_number_of_axes_is_a_clear_error(result):
    _, given = plt.subplots(3, 1)
    with pytest.raises(ValueError, match="expected 2 axes"):
        plotting.plot_envelope(result, ax=given)


def test_a_theater_given_in_the_axes_place_is_named_as_ax_not_a_projection(result):
    # plot_envelope(r, ["iraq"]) said "expected plain (rectilinear) axes, found 'str_' axes"
    with pytest.raises(
        ValueError, match=r"^ax: expected matplotlib axes .*found 'alpha' \(theaters"
    ):
        plotting.plot_envelope(result, ["alpha"])
    with pytest.raises(ValueError, match=r"^ax: expected matplotlib axes .*found int"):
        plotting.plot_envelope(result, ax=[5, 6])


@pytest.mark.parametrize("chart", ["plot_envelope", "plot_fan"])
def test_no_variant_to_draw_is_refused_by_every_chart_alike(write, chart):
    # the envelope drew every variant for variants=[], where the fan refused
    ensemble = sim.run(sim.load_scenario(write(CHART_DOC)), draws=50, seed=1)
    with pytest.raises(ValueError, match="^expected at least one variant to draw$"):
        getattr(plotting, chart)(ensemble, variants=[])


@pytest.mark.slow
def test_save_writes_a_png_and_closes_the_figure(result, tmp_path):
    axes = plotting.plot_envelope(result)
    number = axes[0].figure.number
    plotting.save(axes, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert number not in plt.get_fignums()


@pytest.mark.slow
def test_a_theater_made_of_sites_is_followed_by_a_panel_per_site(result):
    titles = [ax.get_title(loc="left") for ax in plotting.plot_envelope(result)]
    assert titles == ["Alpha", "North (Alpha)", "South (Alpha)", "Beta"]
    one = plotting.plot_envelope(result, theaters=["alpha/south"])
    assert [ax.get_title(loc="left") for ax in one] == ["South (Alpha)"]
    with pytest.raises(ValueError, match="expected theaters among alpha, alpha/north"):
        plotting.plot_envelope(result, theaters=["alpha/east"])


def test_observations_into_given_axes_are_named_by_the_callers_legend(default_result):
    scenario = default_result.scenario
    record = sim.load_observations(
        DEFAULT_SCENARIO.parent / "iraq-syria-2024-observed.csv", scenario
    )
    run = sim.run(scenario, ["as-reported"], draws=200, seed=1, observed=record, as_of="2025-06")
    fig, axes = _paper_figure()
    sim.plot_fan(run, ax=axes)
    # no legend of the chart's own over the data, no as-of label beside the deadlines'
    assert all(ax.get_legend() is None for ax in axes)
    assert not [t for ax in axes for t in _texts_of(ax) if t.get_text().startswith("as of")]
    labels = axes[0].get_legend_handles_labels()[1]
    assert {"reported later", "as of 30 Jun 2025", "median of the draws, month by month"} <= set(
        labels
    )
    plt.close(fig)


def test_the_dotted_deadlines_into_given_axes_are_named_by_the_callers_legend(default_result):
    # the chart's own legend named them; with it left to ax.legend(), nothing did
    scenario = default_result.scenario
    fig, axes = _paper_figure()
    ensemble = sim.run(scenario, ["on-time", "slip-6"], draws=200, seed=1)
    sim.plot_fan(ensemble, ax=axes, theaters=["iraq"])
    labels = axes[0].get_legend_handles_labels()[1]
    assert labels.count("deadline before any delay (share of draws meeting it)") == 1
    fig, axes = _paper_figure()
    sim.plot_compare(sim.compare(scenario, "on-time", "slip-6", 200, 1), ax=axes)
    assert axes[0].get_legend_handles_labels()[1].count("deadline before any delay") == 1
    plt.close("all")


@pytest.mark.slow
def test_deadline_labels_and_titles_in_small_given_axes_stay_inside_their_panel():
    # Afghanistan 2020 has six close deadlines: stacked, their labels ran over the data
    # and below the panel, and the panel titles ran into each other
    scenario = sim.load_scenario(DEFAULT_SCENARIO.parent / "historical" / "afghanistan-2020.yaml")
    ensemble = sim.run(scenario, scenario.variant_names[:3], draws=200, seed=1)
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.6), layout="constrained")
    sim.plot_fan(ensemble, ax=axes)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    titles = []
    for ax in axes:
        box = ax.get_window_extent(renderer)
        labels = [t for t in ax.texts if "met" in t.get_text()]
        assert labels
        for t in labels:  # in the top two fifths of the panel
            assert t.get_window_extent(renderer).y0 >= box.y0 + 0.55 * box.height, t.get_text()
        title = next(t for t in _texts_of(ax) if t.get_text().startswith("Afghanistan"))
        titles.append(title.get_window_extent(renderer))
    assert all(a.x1 <= b.x0 for a, b in zip(titles, titles[1:], strict=False))
    plt.close(fig)


@pytest.mark.parametrize(
    ("make", "found"),
    [
        (lambda fig: fig.add_subplot(projection="polar"), "found 'polar' axes"),
        (lambda fig: fig.add_subplot(yscale="log"), "found a 'log' y-axis"),
    ],
    ids=["polar", "log"],
)
def test_axes_a_chart_of_months_and_troops_cannot_be_drawn_in_are_refused_by_name(
    default_result, make, found
):
    # polar axes raised KeyError: 'top, right'; a log y-axis warned of its 0 bottom
    fig = plt.figure()
    ax = make(fig)
    for chart in (
        lambda: sim.plot_envelope(default_result, ax=ax, theaters=["iraq"]),
        lambda: sim.plot_fan(
            sim.run(default_result.scenario, ["on-time"], draws=50, seed=1),
            ax=ax,
            theaters=["iraq"],
        ),
    ):
        with pytest.raises(ValueError, match=found):
            chart()
    plt.close(fig)


def test_a_charts_footnote_names_the_sources_of_its_numbers_and_counts_the_others(
    default_result,
):
    # the default scenario lists 29 sources, 27 of them besides the two its numbers cite:
    # "As of 2024-09-06. Sources: ... (2026-02-23)" read as if the projection used them
    axes = plotting.plot_envelope(default_result)
    foot = next(t.get_text() for t in axes[0].figure.texts if "Sources" in t.get_text())
    plt.close(axes[0].figure)
    first = foot.splitlines()[0]
    assert first.startswith("Scenario as of 6 Sep 2024. Sources of its numbers: Shafaq News")
    assert first.endswith("The file also lists 27 sources no number shown cites.")
    assert "2025" not in first and "2026" not in first


@pytest.mark.parametrize("name", ["historical/afghanistan-2020", "iraq-syria-2024"])
def test_the_envelopes_shading_stays_between_the_lowest_and_highest_line(name):
    # the range was shaded from month end to month end: where two lines cross between
    # them (Afghanistan's doha and announced, Jan-Feb 2021), its edge cut across the
    # crossing and shaded a wedge above every line
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO.parent / f"{name}.yaml"))
    axes = sim.plot_envelope(result)
    from matplotlib.collections import PolyCollection

    for ax, tid in zip(axes, result.theaters, strict=False):
        wide = result.monthly[result.monthly.theater == tid].pivot(
            index="month", columns="variant", values="troops"
        )
        months = mdates.date2num(plotting.common.month_ends(wide.index))
        (shade,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
        edge = shade.get_paths()[0].vertices
        for (x0, y0), (x1, y1) in zip(edge, edge[1:], strict=False):
            if x1 == x0:
                continue
            for t in (0.25, 0.5, 0.75):  # points along the edge, between its corners
                x, y = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
                levels = [np.interp(x, months, wide[v]) for v in wide.columns]
                assert min(levels) - 1e-6 <= y <= max(levels) + 1e-6, (tid, x, y)
    plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("chart", ["envelope", "fan"])
@pytest.mark.parametrize("own", [True, False])
def test_a_two_month_scenarios_date_ticks_are_distinct_and_apart(write, chart, own):
    # its axis read "Feb / 2024" at eight daily ticks, and "29 Feb" ran into "1 Mar"
    doc = make_doc(
        calendar={"start": "2024-01", "end": "2024-02"},
        milestones={"out": {"theater": "alpha", "deadline": "2024-02", "target": {"level": 0}}},
    )
    result = sim.run(sim.load_scenario(write(doc)), draws=20, seed=1)
    draw = plotting.plot_envelope if chart == "envelope" else plotting.plot_fan
    if own:
        axes = draw(result)
    else:
        _, ax = plt.subplots(figsize=(4, 3))
        axes = draw(result, ax=ax if chart == "envelope" else [ax])
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes:
        ticks = [t for t in ax.get_xticklabels() if t.get_text()]
        texts = [t.get_text() for t in ticks]
        assert len(texts) >= 2 and len(texts) == len(set(texts)), texts
        boxes = [t.get_window_extent(renderer) for t in ticks]
        assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes)), texts
    plt.close("all")


def test_the_envelopes_range_over_a_month_spans_only_the_lines_drawn_over_it():
    # a variant on a shorter calendar ends at its last month: over the month after, the
    # range ran from its last level to the others' next one, a wedge where no line is
    import pandas as pd

    from sim.plotting.envelope import range_edges

    months = pd.period_range("2025-01", periods=4, freq="M")
    wide = pd.DataFrame(
        {"base": [1000.0, 800.0, 600.0, 400.0], "short": [1000.0, 0.0, np.nan, np.nan]},
        index=months,
    )
    x = plotting.common.month_ends(months)
    at, lo, hi = range_edges(x, wide)
    t = at.astype("datetime64[ns]").astype(np.int64).astype(float)
    ends = x.astype("datetime64[ns]").astype(np.int64).astype(float)
    middle = (ends[1] + ends[2]) / 2  # Feb to Mar: base's line alone
    assert np.interp(middle, t, lo) == pytest.approx(700)
    assert np.interp(middle, t, hi) == pytest.approx(700)
    # Jan to Feb: both lines; at Feb's end itself the range of both (0 to 800)
    assert np.interp((ends[0] + ends[1]) / 2, t, lo) == pytest.approx(500)
    assert 0.0 in list(lo[t == ends[1]])


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (0, {}, "0"),
        (2_500, {}, "2,500"),
        (0.5, {}, "0.5"),  # a tick between whole troops keeps its digits
        (1_234.5, {}, "1,234.5"),
        (2_500_000, {"millions": True}, "2.5M"),
        (1_234_567, {"millions": True}, "1.234567M"),  # every digit, none rounded
        (10_000_000, {"millions": True}, "10M"),
        (0, {"millions": True}, "0"),
        (2_500_000.5, {"millions": True}, "2,500,000.5"),  # not whole: written out
        (300, {"sign": True}, "+300"),
        (-300, {"sign": True}, "−300"),
        (-2_000_000, {"millions": True, "sign": True}, "−2M"),
    ],
)
def test_troop_ticks_read_exactly_in_troops_or_millions(value, kwargs, text):
    from sim.plotting.common import troops_text

    assert troops_text(value, **kwargs) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.1 + 0.2, "0.3"), (3 * 0.2, "0.6"), (7 * 0.025, "0.175"), (1_234.5 + 1e-12, "1,234.5")],
)
def test_troop_ticks_between_whole_troops_read_as_steps_not_float_errors(value, text):
    # a locator's ticks are multiples of its step: 3 x 0.1 is 0.30000000000000004,
    # which read so on the backtest's MAE axis (0 to 1 troops)
    from sim.plotting.common import troops_text

    assert troops_text(value) == text


def test_an_axis_of_fractions_of_a_troop_reads_each_tick_as_its_step():
    import matplotlib.pyplot as plt

    from sim.plotting.common import troops_axis

    fig, ax = plt.subplots()
    try:
        ax.set_ylim(0, 1)  # the MAE chart's axis when every profile fits within a troop
        troops_axis(ax.yaxis, whole=False)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
    finally:
        plt.close(fig)
    assert labels == ["0", "0.2", "0.4", "0.6", "0.8", "1"]


def _ten_million_result(write, draws=None):
    doc = make_doc(
        theaters={"alpha": {"name": "Alpha", "initial": 10_000_000}},
        milestones={
            "alpha-cut": {
                "theater": "alpha",
                "deadline": "2024-10",
                "target": {"level": {"uniform": [2_000_000, 6_000_000]}},
            }
        },
    )
    scenario = sim.load_scenario(write(doc))
    return sim.run(scenario) if draws is None else sim.run(scenario, draws=draws, seed=1)


@pytest.mark.parametrize("chart", ["envelope", "fan"])
def test_a_force_of_ten_million_keeps_its_troop_ticks_and_axis_title_inside_the_figure(
    write, chart
):
    # "10,000,000" was wider than the room left of the panels: cut to "0,000,000" at
    # the figure's edge, and the axis title "troops" pushed off it
    if chart == "fan":
        axes = plotting.plot_fan(_ten_million_result(write, draws=200))
    else:
        axes = plotting.plot_envelope(_ten_million_result(write))
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes:
        labels = [t for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
        if not labels:
            continue
        for t in labels:
            assert t.get_window_extent(renderer).x0 >= 0, t.get_text()
        if ax.get_ylabel():
            assert ax.yaxis.label.get_window_extent(renderer).x0 >= 0
        assert "10M" in [t.get_text() for t in labels]  # in millions, exactly


def _cap_points(ax) -> dict[float, list[float]]:
    """The y of each cap drawn on ``ax``, by x (a date as a matplotlib number)."""
    out: dict[float, list[float]] = {}
    for line in ax.get_lines():
        if line.get_marker() == "_":
            for x, y in zip(mdates.date2num(line.get_xdata()), line.get_ydata(), strict=True):
                out.setdefault(float(x), []).append(float(y))
    return out


def test_a_month_of_many_reports_caps_only_the_ends_of_what_they_cover(tmp_path) -> None:
    # 40 reports of one month, their ends a troop apart, drew 80 caps one over another
    # into a black block; a month of three keeps each report's caps
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    rows = ["date,theater,troops_low,troops_high"]
    rows += [f"2025-03-{1 + i % 28:02d},iraq,{1500 + i},{2000 + i}" for i in range(40)]
    rows += [f"2025-06-{10 + i:02d},iraq,{1200 + 100 * i},{1300 + 100 * i}" for i in range(3)]
    record = tmp_path / "crowded.csv"
    record.write_text("\n".join(rows) + "\n")
    run = sim.run(scenario, ["as-reported"], draws=200, seed=1, observed=record)
    fig, ax = plt.subplots()
    sim.plot_fan(run, ax=[ax], theaters=["iraq"])
    caps = _cap_points(ax)
    crowded, three = sorted(caps)
    assert sorted(caps[crowded]) == [1500, 2039]
    assert sorted(caps[three]) == [1200, 1300, 1300, 1400, 1400, 1500]
    plt.close(fig)


def test_a_variant_keeps_its_colour_in_a_run_of_some_of_the_variants() -> None:
    # on-time was red in the run of every variant and blue in a run of on-time and
    # slip-6, on the chart and on the page
    import matplotlib.colors as mcolors

    from sim.colors import variant_colors

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    every = list(scenario.variants)
    full = variant_colors(every, every)
    some = sim.run(scenario, variants=["slip-6", "on-time"])
    assert variant_colors(some.variants, list(some.scenario.variants)) == {
        "slip-6": full["slip-6"],
        "on-time": full["on-time"],
    }
    axes = sim.plot(some)
    drawn = {
        line.get_label(): mcolors.to_hex(line.get_color())
        for line in axes[0].get_figure(root=True).legends[0].get_lines()
        if line.get_label() in ("on-time", "slip-6")
    }
    assert drawn == {"on-time": full["on-time"], "slip-6": full["slip-6"]}
    plt.close("all")


def test_variants_ten_apart_in_a_large_scenario_still_get_colours_of_their_own() -> None:
    from sim.colors import variant_colors

    every = [f"v{i}" for i in range(12)]
    picked = variant_colors(["v0", "v10"], every)
    assert picked["v0"] != picked["v10"]
    assert variant_colors(["v10"], every) == {"v10": variant_colors(every)["v10"]}


@pytest.mark.slow
def test_values_set_for_a_run_are_said_on_its_charts_and_its_table(tmp_path) -> None:
    # with --set announcement.delay=3, "on-time" ran three months late and nothing said so
    from click.testing import CliRunner

    from sim.cli import main
    from sim.plotting.common import footnote

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    late = scenario.with_settings(
        {
            "announcement.delay": 3,
            "theaters.iraq.initial": {"uniform": [2000, 3000]},
            "theaters.iraq.unreported": 0.5,
        }
    )
    said = (
        "announcement.delay=3, theaters.iraq.initial={uniform: [2000, 3000]}, "
        "theaters.iraq.unreported=0.5"
    )
    assert late.settings_text(most=200) == said
    cut = late.settings_text()  # (a chart's line has room for 90 characters of them)
    assert len(cut) == 90 and cut.endswith("…") and said.startswith(cut[:-1])
    assert f"Set in every variant for this run: {cut}." in footnote(sim.run(late))
    assert "Set in every variant" not in footnote(sim.run(scenario))
    out = tmp_path / "late"
    res = CliRunner().invoke(
        main, ["run", str(DEFAULT_SCENARIO), "--set", "announcement.delay=3", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "set in every variant for this run: announcement.delay=3" in res.stdout
    assert footnote(sim.load_run(out)).count("announcement.delay=3") == 1  # (plot: again)


def test_variants_run_with_values_set_say_so_in_the_legend_and_before_their_description():
    # with --set announcement.delay=9, the legend read "on-time" and the fan's panel
    # "The agreed schedule, announced in September 2024": true of the file, not of the run
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    late = scenario.with_settings({"announcement.delay": 9})
    plain = scenario.describe("on-time")
    assert late.describe("on-time") == f"Run with announcement.delay=9 set. {plain}"
    assert "Run with" not in plain

    def legend_title(result):
        axes = plotting.plot_envelope(result)
        title = axes[0].figure.legends[0].get_title().get_text()
        plt.close(axes[0].figure)
        return title.replace("\n", " ")

    assert legend_title(sim.run(late)) == "variant, each run with announcement.delay=9 set"
    assert legend_title(sim.run(scenario)) == "variant"
    axes = plotting.plot_fan(sim.run(late, variants=["on-time"], draws=200, seed=1))
    texts = [t.get_text().replace("\n", " ") for ax in axes for t in ax.texts]
    plt.close(axes[0].figure)
    assert any(t.startswith("Run with announcement.delay=9 set. The agreed") for t in texts)

    def figure_texts(axes):
        fig = axes[0].get_figure(root=True)
        found = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
        plt.close(fig)
        return found

    # a comparison of "on-time" and "slip-6" both run 9 months late: no difference at all,
    # which its title must explain; the tornado's heading names the setting too
    paired = sim.compare(late, "on-time", "slip-6", draws=200, seed=1)
    title = "slip-6 against on-time, both run with announcement.delay=9 set"
    assert any(t.endswith(title) for t in figure_texts(sim.plot_compare(paired)))
    sens = sim.sensitivity(late, "on-time", draws=200, seed=1)
    heading = f"{scenario.title}, each variant run with announcement.delay=9 set\n"
    assert any(t.startswith(heading) for t in figure_texts(sim.plot_tornado(sens)))
    plain = sim.sensitivity(scenario, "on-time", draws=200, seed=1)
    assert not any("run with" in t for t in figure_texts(sim.plot_tornado(plain)))


#: vision as a reader may have it: normal, and each colour-vision deficiency at full
#: severity as colorspacious simulates it (Machado, Oliveira & Fernandes 2009)
VISIONS = ("normal", "deuteranomaly", "protanomaly", "tritanomaly")


def _seen(color: str, vision: str) -> Any:
    import numpy as np
    from colorspacious import cspace_convert

    from sim.colors import rgb

    c = np.array(rgb(color))
    if vision == "normal":
        return c
    cvd = {"name": "sRGB1+CVD", "cvd_type": vision, "severity": 100}
    return np.clip(cspace_convert(c, cvd, "sRGB1"), 0, 1)


def _apart(a: str, b: str, vision: str) -> float:
    """CAM02-UCS distance of two colours as a reader of that vision sees them."""
    from colorspacious import deltaE

    return float(deltaE(_seen(a, vision), _seen(b, vision), uniform_space="CAM02-UCS"))


@pytest.mark.parametrize("vision", VISIONS)
def test_no_two_variant_colours_are_close_enough_to_be_taken_for_each_other(vision) -> None:
    # as-reported and residual stood 3.6 apart under tritanomaly, as-reported and slip-6
    # 5.3 under protanomaly: one blue to those readers, and the lines run side by side
    import itertools

    from sim import colors
    from sim.colors import PALETTE

    nearest = min((_apart(a, b, vision), a, b) for a, b in itertools.combinations(PALETTE, 2))
    assert nearest[0] >= 11, nearest
    # nor taken for a mark drawn beside the variants' lines (a grey tenth variant stood
    # 1.2 from the grey of targets and promises)
    marks = (
        colors.OBSERVED, colors.OFFICIAL, colors.PROMISED, colors.AS_OF, colors.TARGET,
        colors.DEADLINE, colors.RANGE,
    )  # fmt: skip
    closest = min((_apart(c, m, vision), c, m) for c in PALETTE for m in marks)
    assert closest[0] >= 10, closest


def test_every_variant_line_stands_out_from_white_and_its_text_is_darkened_to_be_read() -> None:
    from sim.colors import PALETTE, TEXT_CONTRAST, contrast, legible

    assert contrast("#000000") == pytest.approx(21) and contrast("#ffffff") == 1
    assert min(contrast(c) for c in PALETTE) >= 3  # (a line: WCAG 2.1, 1.4.11)
    for color in PALETTE:
        text = legible(color)
        assert contrast(text) >= TEXT_CONTRAST
        if contrast(color) >= TEXT_CONTRAST:
            assert text == color
        else:  # darkened as little as it takes, its channels in the same proportions
            r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
            lighter = "#{:02x}{:02x}{:02x}".format(*(min(v + 2, 255) for v in (r, g, b)))
            assert contrast(lighter) < TEXT_CONTRAST + 0.2, (color, text)


def _foot_of(axes) -> str:
    return " ".join(t.get_text() for t in axes[0].figure.texts)


def test_the_envelope_says_its_lines_take_central_values_and_count_syrias_whole_force(
    default_result,
):
    foot = _foot_of(plotting.plot_envelope(default_result))
    assert "Each line takes every uncertain input at its central value." in foot
    assert (
        "Syria's lines count the whole force: the official figure (dashed) plus the troops "
        "it leaves out, 600 at the start." in foot
    )
    assert "Iraq's lines" not in foot  # Iraq's official figure leaves nothing out


def test_an_envelope_of_fixed_inputs_and_whole_official_figures_has_no_line_note(result):
    foot = _foot_of(plotting.plot_envelope(result))
    assert "central value" not in foot and "whole force" not in foot


def test_the_envelope_gives_the_troops_left_out_as_a_range_where_variants_differ(write):
    doc = make_doc(
        theaters={"alpha": {"name": "Alpha", "initial": 900, "unreported": 200}},
        variants={
            "low": {"description": "as given", "overrides": {}},
            "high": {
                "description": "more left out",
                "overrides": {"theaters": {"alpha": {"unreported": 450}}},
            },
        },
    )
    foot = _foot_of(plotting.plot_envelope(sim.run(sim.load_scenario(write(doc)))))
    assert (
        "Alpha's lines count the whole force: the official figure (dashed) plus the troops "
        "it leaves out, 200 to 450 at the start." in foot
    )
    assert "central value" not in foot  # nothing is uncertain


def _left_out_in_one_variant(name: str) -> dict:
    """A theater ``name`` whose official figure leaves 600 out, but in variant none-left."""
    return make_doc(
        theaters={"alpha": {"name": name, "initial": 900, "unreported": 600}},
        variants={
            "left-out": {"description": "as given", "overrides": {}},
            "none-left": {
                "description": "the figure is whole",
                "overrides": {"theaters": {"alpha": {"unreported": 0}}},
            },
        },
    )


def test_the_envelope_names_the_variants_that_count_troops_left_out_when_not_all_do(write):
    # a variant setting Syria's unreported to 0 was said to count 600 more than its 900
    doc = _left_out_in_one_variant("Alpha")
    foot = _foot_of(plotting.plot_envelope(sim.run(sim.load_scenario(write(doc)))))
    assert (
        "Alpha's lines of left-out count the whole force: the official figure (dashed) "
        "plus the troops it leaves out, 600 at the start." in foot
    )


def test_a_footnote_says_troops_left_out_as_a_number_only_where_it_holds_throughout(write):
    # "plus 1,100 troops it is assumed to leave out" stood under lines where those
    # troops had left (and where the number was sourced, not assumed)
    doc = make_doc(theaters={"alpha": {"name": "Alpha", "initial": 900, "unreported": 600}})
    doc["milestones"] = {}
    foot = _foot_of(plotting.plot_envelope(sim.run(sim.load_scenario(write(doc)))))
    assert "the official figure (dashed) plus 600 troops it leaves out." in foot
    assert "assumed" not in foot


def test_a_series_no_official_figure_counts_is_not_said_to_be_one_plus_what_it_leaves_out(write):
    # "temporary rotational forces (Syria) count the whole force: the official figure
    # (dashed) plus the troops it leaves out" of a part whose official figure is 0
    doc = make_doc(theaters={"alpha": {"name": "Alpha", "initial": 0, "unreported": 600}})
    doc["milestones"] = {}
    foot = _foot_of(plotting.plot_envelope(sim.run(sim.load_scenario(write(doc)))))
    assert (
        "Alpha's lines count troops the official figure leaves out entirely (its dashed "
        "line lies at 0): 600 troops." in foot
    )
    assert "plus" not in foot


def test_a_series_named_in_lower_case_does_not_start_the_footnotes_sentence_uncapitalised(write):
    # "temporary rotational forces (Syria)'s lines count ..." began a sentence in lower case
    doc = _left_out_in_one_variant("al-Anbar")
    foot = _foot_of(plotting.plot_envelope(sim.run(sim.load_scenario(write(doc)))))
    assert "The lines of al-Anbar in left-out count the whole force: the official" in foot
    assert "al-Anbar's" not in foot


def test_a_tab_in_a_description_is_drawn_as_a_space_without_a_glyph_warning(tmp_path):
    # "UserWarning: Glyph 9 (\t) missing from font(s) DejaVu Sans" reached the terminal
    import warnings

    import matplotlib.pyplot as plt

    sc = sim.load_scenario(DEFAULT_SCENARIO).with_settings(
        {"milestones.iraq-exit.description": "the\texit"}
    )
    result = sim.run(sc, ["on-time"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sim.save(sim.plot_envelope(result), tmp_path / "e.png")
    plt.close("all")


def test_characters_no_chart_font_has_give_one_warning_naming_them(tmp_path):
    # an emoji in a title gave one matplotlib "Glyph … missing from font(s)" warning per
    # text drawn and per save, with its source line, on the terminal
    import warnings

    import matplotlib.pyplot as plt

    from sim.plotting.common import MissingGlyphs

    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    own = tmp_path / "emoji.yaml"
    own.write_text(re.sub(r"(?m)^title: .*$", 'title: "Withdrawal \U0001f389 plan"', text))
    result = sim.run(sim.load_scenario(own), ["on-time"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sim.save(sim.plot_envelope(result), tmp_path / "e.png")
    plt.close("all")
    assert {w.category for w in caught} == {MissingGlyphs}
    said = {str(w.message) for w in caught}
    assert len(said) == 1
    (message,) = said
    assert message.startswith("the charts cannot draw \U0001f389 (U+1F389 PARTY POPPER): no font")
    assert "shows as an empty box there; the tables and the page keep it" in message


LONG_TITLE = (
    "A very long scenario title that someone might write to describe everything about "
    "the plan including its provenance and caveats, over 170 characters in all here"
)
LONG_ID = "variant-with-an-extremely-long-identifier-that-goes-on-and-on"


def test_end_labels_break_long_names_after_hyphens_and_keep_every_character_in_order() -> None:
    names = [f"{LONG_ID}-{k}" for k in range(3)] + ["x"]
    lines = common.end_label_lines(names, "1,500: ")
    assert all(len(t) <= common.END_LABEL_CHARACTERS for t in lines), lines
    assert lines[0].startswith("1,500: variant-")
    assert "".join(lines) == "1,500: " + ",".join(names)  # commas after whole names only
    assert [t for t in lines if t.endswith(",")] == [
        t for t in lines if t.endswith(("-0,", "-1,", "-2,"))
    ]
    # short names as ever: three a line
    assert common.end_label_lines(["a", "b", "c", "d"], "0: ") == ["0: a, b, c,", "d"]


def test_a_long_title_and_long_variant_ids_stay_inside_the_envelope_and_fan_figures(write):
    doc = make_doc(
        title=LONG_TITLE,
        variants={f"{LONG_ID}-{k}": {"description": "d", "overrides": {}} for k in range(2)},
    )
    result = sim.run(sim.load_scenario(write(doc)), draws=50, seed=1)
    for axes in (plotting.plot_envelope(result), plotting.plot_fan(result)):
        fig = axes[0].figure
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        titles = [t for t in fig.texts if t.get_text().startswith(LONG_TITLE)]
        assert titles and all(t.get_window_extent(renderer).x1 <= fig.bbox.width for t in titles)
        for legend in fig.legends:
            box = legend.get_window_extent(renderer)
            assert box.x1 <= fig.bbox.width, [t.get_text() for t in legend.get_texts()]
        for ax in axes:
            for label in ax.texts:
                assert label.get_window_extent(renderer).x1 <= fig.bbox.width, label.get_text()
        plt.close(fig)


def test_a_full_disk_under_the_pdf_backends_own_error_is_said_as_the_full_disk(
    result, tmp_path, monkeypatch
):
    # the PDF backend's clean-up after ENOSPC raised "'Stream' object has no attribute
    # 'pos'", which the command said as an internal error
    import errno

    from matplotlib.figure import Figure

    def full(self, *a, **k):
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError:
            raise AttributeError("'Stream' object has no attribute 'pos'") from None

    monkeypatch.setattr(Figure, "savefig", full)
    with pytest.raises(OSError, match="No space left on device") as err:
        plotting.save(plotting.plot_envelope(result), tmp_path / "chart.pdf")
    assert err.value.filename == str(tmp_path / "chart.pdf")
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".pdf"]  # (its temporary too)


def test_the_longest_title_the_format_allows_is_drawn_at_a_readable_size(write):
    # the format took 4,000 characters of title, which a chart shrank to an unreadable line
    title = ("A long headline about the drawdown of forces " * 5)[:200]
    result = sim.run(sim.load_scenario(write(make_doc(title=title))), draws=50, seed=1)
    for axes in (plotting.plot_envelope(result), plotting.plot_fan(result)):
        fig = axes[0].figure
        fig.canvas.draw()
        (head,) = [t for t in fig.texts if t.get_text().startswith(title)]
        assert head.get_fontsize() >= 8, head.get_fontsize()
        assert head.get_window_extent(fig.canvas.get_renderer()).x1 <= fig.bbox.width
        plt.close(fig)
    with pytest.raises(sim.ScenarioError, match="title: expected text of at most 200 characters"):
        sim.load_scenario(write(make_doc(title=title + "s")))


@pytest.mark.parametrize("chart", ["plot_envelope", "plot_fan"])
@pytest.mark.parametrize("option", ["theaters", "variants"])
def test_a_chart_given_a_number_for_its_names_says_what_it_takes(chart, option) -> None:
    # theaters=5 failed inside with "'int' object is not iterable"; the docs say ValueError
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO), draws=100, seed=1)
    with pytest.raises(ValueError, match=r"^expected a name or a list of names, found 5$"):
        getattr(sim, chart)(result, **{option: 5})
    plt.close("all")


AFTER_ANOTHER = """\
id: after
title: After another
as_of: 2024-01
calendar: {start: 2024-01, end: 2024-12}
announcement: {expected: 2024-01}
theaters:
  alpha: {initial: 1000}
milestones:
  alpha-half: {theater: alpha, deadline: 2024-04, slips: true, target: {level: 500}}
  alpha-out:
    theater: alpha
    deadline: {after: alpha-half, months: 3}
    target: {level: 0}
variants:
  on-time: {description: on time, overrides: {}}
  late: {description: late, overrides: {announcement: {delay: 2}}}
"""


def test_a_deadline_after_another_milestone_is_drawn_at_its_original_month(write):
    # only deadlines written as a month were drawn: one counted from another milestone
    # had no line, though p_met was measured against it
    from sim.plotting.fan import deadline_labels

    scenario = sim.load_scenario(write(AFTER_ANOTHER))
    ensemble = sim.run(scenario, draws=50, seed=1)
    assert common.base_deadlines(ensemble, "alpha") == ["2024-04", "2024-07"]
    p_met = ensemble.milestones.set_index(["variant", "milestone"]).p_met
    for variant in ("on-time", "late"):
        marks = deadline_labels(ensemble, ensemble.plans[variant], variant, "alpha")
        assert [str(p) for p, _ in marks] == ["2024-04", "2024-07"]  # before any delay
        share = float(p_met[variant, "alpha-out"])
        assert marks[1][1] == f"Jul 2024\nmet {share:.0%}".replace("%", " %")
    assert p_met["late", "alpha-out"] == 0  # (late: the deadline it is measured against)
    axes = plotting.plot_fan(ensemble)
    labels = [t.get_text() for t in axes[0].figure.legends[0].get_texts()]
    assert "deadline before any delay (share of draws meeting it)" in labels
    plt.close("all")


def test_the_envelope_draws_the_base_scenarios_dated_deadlines_not_an_order_after_the_announcement(
    write,
):
    # an order counted from the announcement (a random date: docs/vintages.md) is no
    # deadline to draw; a deadline after another milestone is, at its month before any
    # delay; a variant that moves one shows its own at its target mark
    text = AFTER_ANOTHER.replace(
        "  late: {description: late, overrides: {announcement: {delay: 2}}}\n",
        "  late: {description: late, overrides: {milestones: {alpha-half: {deadline: 2024-05}}}}\n",
    )
    scenario = sim.load_scenario(write(text))
    for variants in (["on-time"], ["late"], None):
        drawn = common.base_deadlines(sim.run(scenario, variants), "alpha")
        assert drawn == ["2024-04", "2024-07"]
    ordered = sim.load_scenario(
        write(
            text.replace(
                "deadline: {after: alpha-half, months: 3}", "deadline: {after_announcement: 6}"
            )
        )
    )
    assert common.base_deadlines(sim.run(ordered), "alpha") == ["2024-04"]


def test_the_envelope_draws_a_deadline_set_on_top_of_every_variant_where_it_is_set(write):
    # --set milestones.X.deadline moved the deadline in every variant run, yet the
    # envelope drew the file's: the run's targets stood away from their line
    scenario = sim.load_scenario(write(AFTER_ANOTHER))
    moved = scenario.with_settings({"milestones.alpha-half.deadline": "2024-06"})
    assert common.base_deadlines(sim.run(moved), "alpha") == ["2024-06", "2024-09"]
    only_late = sim.run(moved, ["late"])
    assert common.base_deadlines(only_late, "alpha") == ["2024-06", "2024-09"]
    # a setting of anything else leaves the file's deadlines
    delayed = scenario.with_settings({"announcement.delay": 3})
    assert common.base_deadlines(sim.run(delayed), "alpha") == ["2024-04", "2024-07"]


def test_a_fan_panels_description_too_long_for_two_lines_ends_after_a_clause_not_mid_list():
    # "… left open: when the announcement comes, whether …" stopped in the middle of a list
    from sim.plotting.fan import shortened

    text = (
        "The plan as reported, its open questions left open: when the announcement comes, "
        "whether an advisory presence stays, and the deadlines counted from the announcement"
    )
    assert shortened(text, 46) == [
        "The plan as reported, its open questions left",
        "open: when the announcement comes …",
    ]
    # a description that fits is whole; one with no clause in the second half of its room
    # ends after the last word that fits
    assert shortened("The agreed schedule, announced in September 2024", 46) == [
        "The agreed schedule, announced in September",
        "2024",
    ]
    words = "slips six months and both deadlines move with it " * 3
    assert shortened(words, 46)[-1].endswith(" …") and len(shortened(words, 46)) == 2


def test_the_envelopes_key_says_what_lines_dashed_in_several_colours_are() -> None:
    # lines that run together were drawn in dashes of each colour, which no entry named
    from sim.plotting.envelope import ALIKE_KEY

    def key(result: sim.Result, theaters: list[str] | None = None) -> list[str]:
        fig = plotting.plot_envelope(result, theaters=theaters)[0].figure
        labels = [
            t.get_text().replace("\n", " ") for legend in fig.legends for t in legend.get_texts()
        ]
        plt.close(fig)
        return labels

    labels = key(sim.run(DEFAULT_SCENARIO))
    assert ALIKE_KEY in labels
    assert labels.index(ALIKE_KEY) == labels.index("syria-follows") + 1  # (after the variants)
    # (in Iraq, residual's line never runs along slip-6-moving's)
    assert ALIKE_KEY not in key(sim.run(DEFAULT_SCENARIO, ["residual", "slip-6-moving"]), ["iraq"])
    assert ALIKE_KEY not in key(sim.run(DEFAULT_SCENARIO, ["on-time"]))


def test_no_label_is_written_in_a_variant_colour_too_light_to_read_on_white() -> None:
    # the sweep's end labels were drawn in khaki, periwinkle and teal of 3.1:1 against
    # white, where the envelope's were darkened to 4.5:1
    from matplotlib.colors import to_hex

    from sim.colors import PALETTE, TEXT_CONTRAST, contrast

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    sw = sim.sweep(sc, {"announcement.delay": [0, 6]}, draws=100, seed=1)
    for axes in (sim.plot_envelope(sim.run(sc)), sim.plot_sweep(sw)):
        fig = axes[0].figure
        texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]
        inked = {to_hex(t.get_color()) for t in texts}
        light = [c for c in inked if c in PALETTE and contrast(c) < TEXT_CONTRAST]
        assert not light, light
        assert inked & {legible for legible in map(_legible, PALETTE)} - set(PALETTE)
        plt.close(fig)


def _legible(color: str) -> str:
    from sim.colors import legible

    return legible(color)


@pytest.mark.parametrize("how", ["closed", "bare Figure()", "pdf canvas"])
def test_a_chart_draws_into_axes_of_a_closed_or_bare_figure(how: str) -> None:
    # the labels' placing asked the figure's canvas for a renderer it lacked: an
    # internal AttributeError
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    result = sim.run(DEFAULT_SCENARIO, ["on-time"])
    if how == "closed":
        fig = plt.figure()
        ax = fig.add_subplot()
        plt.close(fig)
    else:
        fig = Figure()
        ax = fig.add_subplot()
    if how == "pdf canvas":  # (pyplot's figure on the pdf, svg or ps backend)
        from matplotlib.backends.backend_pdf import FigureCanvasPdf

        FigureCanvasPdf(fig)
    (drawn,) = sim.plot_envelope(result, theaters="iraq", ax=ax)
    assert drawn is ax and ax.get_title(loc="left") == "Iraq"


@pytest.mark.parametrize("chart", ["envelope", "fan"])
def test_another_scenarios_record_given_to_a_chart_is_refused_as_its_file_is(chart: str) -> None:
    # as an ObservationSet it drew no report and said nothing; as a path it was refused
    from conftest import SCENARIOS_DIR

    record = SCENARIOS_DIR / "historical" / "afghanistan-2020-observed.csv"
    result = sim.run(DEFAULT_SCENARIO, ["on-time"], draws=100, seed=1)
    draw = sim.plot_fan if chart == "fan" else sim.plot_envelope
    for given in (record, sim.load_observations(record)):
        with pytest.raises(sim.ScenarioError, match="unknown theater 'afghanistan'"):
            draw(result, observed=given)
