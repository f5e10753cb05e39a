"""What a reader sees of a short, two-theater scenario with sites: labels off the data,
marks whole, lines of a shared path in each variant's colour, enough date ticks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO

import sim
from sim.analysis.observed import conditioned_result
from sim.plotting import mark_conditioned
from sim.plotting.clearance import hits, top_labels_on_data
from sim.plotting.common import AS_OF_LABEL_GID, DEADLINE_LABEL_GID
from sim.plotting.observed import place_as_of

# an 11-month withdrawal from two theaters, one made of two sites; "on-time" and
# "as-reported" share their central path
SHORT_YAML = """\
id: short-exit
title: Leaving two theaters within a year
as_of: 2024-05-19
calendar: {start: 2024-05, end: 2025-03}
announcement:
  expected: 2024-05
  delay: {choice: {values: [0, 1, 2], weights: [70, 20, 10]}, assumption: test}
theaters:
  niger:
    name: Niger
    initial: {value: 1000, assumption: test}
    sites:
      niamey: {name: Niamey, initial: {value: 400, assumption: test}}
      agadez: {name: Agadez, initial: {value: 600, assumption: test}}
  chad:
    initial: {value: 75, assumption: test}
milestones:
  niamey-out:
    theater: niger/niamey
    deadline: 2024-07
    target: {level: 0}
  agadez-out:
    theater: niger/agadez
    deadline: 2024-09
    profile: back
    delay: {choice: {values: [0, 1, 2], weights: [6, 3, 1]}, assumption: test}
    target: {level: 0}
  chad-out:
    theater: chad
    deadline: 2024-06
    profile: step
    target: {level: 0}
residuals:
  embassy:
    theater: niger/niamey
    size: {uniform: [10, 50], probability: 0.3, assumption: test}
    from: {milestone: niamey-out}
variants:
  on-time:
    description: Announced as agreed; the bases emptied by their deadlines
    overrides: {announcement: {delay: 0}}
  slip-2:
    description: Two months late to start; the deadlines hold
    overrides: {announcement: {delay: 2}}
  as-reported:
    description: The start and the execution as uncertain as the reports leave them
"""

RECORD = """\
date,theater,troops_low,troops_high,kind,tolerance,by,source,quote
2024-05-19,niger,1000,1000,official,0,,statement,
2024-06-07,niger,900,1000,reported,,,a report,
2024-07-08,niger/niamey,,50,reported,,,handover,
2024-08-05,niger,,200,reported,,,handover,
2024-08-05,niger,0,0,target,,2024-09,statement,
2024-09-16,niger,0,30,reported,,,complete,
"""

AS_OF = "2024-07-15"


@pytest.fixture(scope="module")
def short(tmp_path_factory: Any) -> Any:
    """The scenario run as an ensemble, with its record known on 15 Jul 2024."""
    import datetime as dt

    folder = tmp_path_factory.mktemp("short")
    (folder / "short.yaml").write_text(SHORT_YAML, encoding="utf-8")
    (folder / "record.csv").write_text(RECORD, encoding="utf-8")
    scenario = sim.load_scenario(folder / "short.yaml")
    record = sim.load_observations(folder / "record.csv", scenario)
    return sim.run(
        scenario,
        draws=4000,
        seed=7,
        observed=record,
        condition=True,
        as_of=dt.date.fromisoformat(AS_OF),
    )


def _renderer(ax: Any) -> Any:
    return ax.figure.canvas.get_renderer()


def _effective_draws_notes(result: Any) -> list[tuple[Any, Any, Any]]:
    """``(panel, its effective-draws note, the note's box)`` of each panel of the fan of
    ``result`` conditioned on its observations."""
    cond = conditioned_result(result, result.observed)
    axes = sim.plot_fan(cond)
    mark_conditioned(axes, cond, result.observed)
    out = []
    for ax in axes:
        (label,) = [t for t in ax.texts if t.get_text().startswith("effective draws")]
        out.append((ax, label, label.get_window_extent(_renderer(ax))))
    return out


@pytest.mark.slow
def test_the_effective_draws_label_covers_no_data_in_short_or_narrow_panels(short) -> None:
    # it sat on the lines of Niamey's and Chad's panels, over the 5th-95th band's months
    # only the months' points were checked, not the lines between them
    for ax, label, box in _effective_draws_notes(short):
        assert hits(ax, box, skip=[label]) == 0, (ax.get_title(), label.get_text())
        assert ax.get_window_extent(_renderer(ax)).contains(box.x0, box.y0)


@pytest.mark.slow
@pytest.mark.parametrize("chart", ["fan", "envelope"])
def test_deadline_and_as_of_labels_stand_above_the_data_with_no_box_behind_them(
    short, chart
) -> None:
    # a white box (alpha 0.8) behind the as-of label hid slip-2's line at 1,000
    axes = sim.plot_fan(short) if chart == "fan" else sim.plot_envelope(short)
    labelled = 0
    for ax in axes:
        labels = [t for t in ax.texts if t.get_gid() in (DEADLINE_LABEL_GID, AS_OF_LABEL_GID)]
        labelled += bool(labels)
        assert all(t.get_bbox_patch() is None for t in labels)
        assert top_labels_on_data(ax) == 0, ax.get_title()
    assert labelled


@pytest.mark.slow
def test_the_label_of_the_reports_date_on_the_page_keeps_off_the_marks_after_it(short) -> None:
    # "reports known on 15 Jul 2024" ran right of its line over Niamey's "fewer than 50"
    # at the end of July
    from sim.report.charts import envelope_figure, fan_figure

    for fig in (envelope_figure(short), fan_figure(short)):
        names = [a.text for a in fig.layout.annotations]
        row = next(i for i, n in enumerate(names) if "Niamey" in n) + 1
        axis = "x" if row == 1 else f"x{row}"
        mine = [
            a
            for a in fig.layout.annotations
            if a.text.startswith("reports known on") and a.xref == axis
        ]
        assert all(a.xanchor == "right" for a in mine), [a.xanchor for a in mine]


def test_lines_of_variants_sharing_a_path_take_turns_in_each_ones_colour(short) -> None:
    # on-time and as-reported share their path: the thin yellow line over the blue one
    # read as a grey-green that matches neither legend entry
    from sim.colors import variant_colors

    (ax, *_) = sim.plot_envelope(short, theaters=["niger"])
    colors = variant_colors(list(short.variants))
    dashed = {}
    for line in ax.lines:
        if line.get_linestyle() == "--" and len(line.get_xdata()) > 1:
            dashed.setdefault(line.get_color(), []).append(line)
    for variant in ("on-time", "as-reported"):
        runs = dashed.get(colors[variant], [])
        assert runs, variant
        months = {x for line in runs for x in line.get_xdata()}
        assert len(months) == 11  # every month shared (with slip-2 too, once at 0)
    on_time, as_reported = (dashed[colors[v]][0] for v in ("on-time", "as-reported"))
    # the same dash, one after the other: each colour shows half the shared stretch
    (start_a, pattern_a), (start_b, pattern_b) = (
        line._unscaled_dash_pattern for line in (on_time, as_reported)
    )
    assert pattern_a == pattern_b and start_a != start_b


def _labelled_ticks(ax: Any) -> list[str]:
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = ax.xaxis.get_major_ticks() + ax.xaxis.get_minor_ticks()
    return [
        t.label1.get_text()
        for t in ticks
        if t.label1.get_visible() and t.label1.get_text() and lo <= t.get_loc() <= hi
    ]


@pytest.mark.slow
def test_an_eleven_month_chart_has_at_least_four_dated_ticks(short) -> None:
    # Jan and Jul only: two ticks across eleven months
    (ax, *_) = sim.plot_envelope(short, theaters=["niger"])
    assert len(_labelled_ticks(ax)) >= 4, _labelled_ticks(ax)
    plt.close("all")
    axes = sim.plot_fan(short)
    assert len(_labelled_ticks(axes[-1])) >= 4, _labelled_ticks(axes[-1])


@pytest.mark.slow
def test_target_diamonds_at_zero_are_drawn_whole(short) -> None:
    # half cut by the axes' edge, or half under the bar of a report of the same month
    for axes in (sim.plot_fan(short), sim.plot_envelope(short)):
        diamonds = [
            line
            for ax in axes
            for line in ax.lines
            if line.get_marker() == "D" and len(line.get_ydata()) and line.get_ydata()[0] == 0
        ]
        assert diamonds
        for d in diamonds:
            assert not d.get_clip_on()
            others = [
                line.get_zorder()
                for line in d.axes.lines
                if line is not d and line.get_marker() in ("_", "v", "o", "s")
            ]
            assert all(d.get_zorder() > z for z in others)


@pytest.mark.slow
def test_a_theaters_name_on_the_comparison_chart_stands_clear_of_the_panel_above(
    tmp_path: Path,
) -> None:
    # "Syria" sat against the x axis of Iraq's probability panel
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    cmp = sim.compare(scenario, "as-reported", "slip-6", draws=500, seed=1)
    axes = sim.plot_compare(cmp, theaters=["iraq", "syria"])  # (Syria alike: drawn as asked)
    fig = axes[0].get_figure(root=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    above = axes[1].get_tightbbox(renderer)  # Iraq's probability panel, ticks and all
    title = axes[2].title.get_window_extent(renderer)  # "Syria"
    assert axes[2].get_title(loc="left") == "Syria"
    assert above.y0 - title.y1 >= 0.5 * fig.dpi, (above.y0, title.y1)  # half an inch (0.36 before)


def test_the_readme_says_the_sites_fan_shows_the_variants_it_does() -> None:
    from sim.plotting.common import fan_selection, fan_series

    scenario = sim.load_scenario(Path("scenarios/iraq-sites-2024.yaml"))
    result = sim.run(scenario, draws=50, seed=1)
    names, chosen, note = fan_selection(fan_series(result), list(result.variants))
    assert note is not None
    readme = " ".join(Path("README.md").read_text(encoding="utf-8").split())
    said = re.search(
        r"iraq-sites-2024\.yaml --draws 20000 --seed 1 # an ensemble, for its fan (.*?)forcesim",
        readme,
    )
    assert said is not None
    text = said.group(1).replace("# ", "")
    assert f"{len(result.variants)} variants" in text
    assert f"{len(names)} theaters and sites would make {len(names) * len(result.variants)}" in text
    assert f"first {len(chosen)} variants" in text


AFGHANISTAN = Path(__file__).resolve().parent.parent / "scenarios" / "historical"


@pytest.fixture(scope="module")
def afghanistan() -> Any:
    """The Afghanistan scenario, whose evacuation reading has deadlines a month apart."""
    scenario = sim.load_scenario(AFGHANISTAN / "afghanistan-2020.yaml")
    record = sim.load_observations(AFGHANISTAN / "afghanistan-2020-observed.csv", scenario)
    return sim.run(scenario, draws=2000, seed=1, observed=record, condition=True)


@pytest.mark.slow
@pytest.mark.parametrize("conditioned", [False, True])
def test_deadline_labels_a_month_apart_neither_overlap_nor_are_crossed_by_a_line(
    afghanistan, conditioned
) -> None:
    # Jul, Aug and Sep 2021 were stacked into each other, the dotted lines through them
    from sim.plotting.clearance import _line_hits

    result = conditioned_result(afghanistan, afghanistan.observed) if conditioned else afghanistan
    axes = sim.plot_fan(result)
    if conditioned:
        mark_conditioned(axes, result, afghanistan.observed)
    for ax in axes:
        lines = [line for line in ax.lines if line.get_gid() == "deadline"]
        labels = [t for t in ax.texts if t.get_gid() == DEADLINE_LABEL_GID]
        assert len(labels) == len(lines), ax.get_title()  # every deadline keeps its label
        boxes = [t.get_window_extent(_renderer(ax)) for t in labels]
        for i, box in enumerate(boxes):
            assert not any(box.overlaps(other) for other in boxes[i + 1 :]), labels[i].get_text()
            assert not any(_line_hits(line, box, verticals=True) for line in lines), labels[
                i
            ].get_text()
    plt.close("all")


@pytest.mark.slow
def test_the_effective_draws_note_keeps_to_the_panels_edge_before_its_interior(
    afghanistan,
) -> None:
    # in the doha panel it floated in the middle of the data area: every corner had a
    # dotted deadline line through it, and a clear spot anywhere was taken first
    for ax, label, box in _effective_draws_notes(afghanistan):
        panel = ax.get_window_extent(_renderer(ax))
        near = 0.06 * panel.width
        assert min(box.x0 - panel.x0, panel.x1 - box.x1) < near, label.get_text()
        assert min(box.y0 - panel.y0, panel.y1 - box.y1) < 0.06 * panel.height
        assert hits(ax, box, verticals=False, skip=[label]) == 0
    plt.close("all")


@pytest.fixture(scope="module")
def conditioned_2025() -> tuple[Any, Any]:
    """The default scenario's 2,000-draw run conditioned on the reports known on
    2025-06-01 (eight variants: the fan's panels are narrow), and its conditioned view."""
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    observed = DEFAULT_SCENARIO.with_name("iraq-syria-2024-observed.csv")
    record = sim.load_observations(observed, scenario)
    result = sim.run(
        scenario, draws=2000, seed=1, observed=record, condition=True, as_of="2025-06-01"
    )
    cond = conditioned_result(result, result.observed)
    return result, cond


def _conditioned_fan(result: Any, cond: Any, theaters: list[str] | None = None) -> Any:
    """The panels of the fan of ``cond`` (of ``theaters``, or every one), marked as
    conditioned on ``result``'s reports."""
    axes = sim.plot_fan(cond, theaters=theaters)
    mark_conditioned(axes, cond, result.observed, theaters=theaters)
    return axes


def _rings(ax: Any) -> list[Any]:
    """The rings a conditioned fan draws on ``ax`` around reports left out of its weights."""
    return [line for line in ax.lines if line.get_gid() == "left-out"]


@pytest.mark.slow
def test_a_conditioned_fans_foot_stays_within_the_chart_and_names_a_source(
    conditioned_2025: tuple[Any, Any],
) -> None:
    # "Scenario as of …, conditioned on reports known on …" lengthened the first line of
    # the foot, which ran off the right edge ("The scenario file lists 2…"); shortening
    # the list for it must not leave it empty ("Sources of its numbers: ; and 2 more")
    axes = _conditioned_fan(*conditioned_2025)
    fig = axes[0].figure
    (foot,) = [t for t in fig.texts if t.get_text().startswith("Scenario as of ")]
    first = foot.get_text().partition("\n")[0]
    assert "conditioned on reports known on 1 Jun 2025" in first
    assert not re.search(r"numbers: ;", first), first
    assert re.search(r"numbers: [A-Z]", first), first
    assert foot.get_window_extent(_renderer(axes[0])).x1 <= fig.bbox.width, first
    plt.close("all")


@pytest.mark.slow
def test_the_conditioned_fan_spells_the_as_of_day_one_way_in_labels_legend_title_and_foot(
    conditioned_2025: tuple[Any, Any],
) -> None:
    # the in-panel label read "as of / 1 Jun / 2025" where only the narrower wording
    # fitted and "as of / 2025-06-01" elsewhere, the legend "as of 2025-06-01"
    from matplotlib.text import Text

    axes = _conditioned_fan(*conditioned_2025)
    fig = axes[0].figure
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    assert not [t for t in texts if "2025-06-01" in t or "06-01" in t]
    labels = [t.get_text() for ax in axes for t in ax.texts if t.get_gid() == AS_OF_LABEL_GID]
    assert labels and set(labels) <= {"as of\n1 Jun 2025", "as of\n1 Jun\n2025"}, labels
    assert "as of 1 Jun 2025" in texts  # the legend's entry
    assert "known on 1 Jun 2025" in texts
    assert [t for t in texts if t.endswith(": conditioned on what was known on 1 Jun 2025")]
    (foot,) = [t for t in texts if t.startswith("Scenario as of ")]
    # the scenario's day and its sources' days are spelled alike on the same line
    assert foot.startswith("Scenario as of 6 Sep 2024, conditioned on reports known on 1 Jun 2025.")
    assert not re.search(r"[0-9]{4}-[0-9]{2}", foot), foot
    plt.close("all")


@pytest.mark.slow
def test_the_as_of_label_stays_inside_a_narrow_panel_and_clear_of_its_line(
    conditioned_2025: tuple[Any, Any],
) -> None:
    # eight variants make the fan's panels 3.3 inches wide: as of 2025-06-01, nine months
    # from the start, the label ending left of its line began left of the panel and
    # crossed the axis line
    result, cond = conditioned_2025
    conditioned = _conditioned_fan(result, cond)
    for axes in (sim.plot_fan(result), conditioned):
        labelled = [ax for ax in axes if any(t.get_gid() == AS_OF_LABEL_GID for t in ax.texts)]
        assert labelled
        for ax in labelled:
            renderer = _renderer(ax)
            (label,) = [t for t in ax.texts if t.get_gid() == AS_OF_LABEL_GID]
            box = label.get_window_extent(renderer)
            (line,) = [a for a in ax.lines if a.get_gid() == "as-of"]
            x = ax.transData.transform((ax.convert_xunits(line.get_xdata()[0]), 0))[0]
            assert box.x0 >= ax.bbox.x0 and box.x1 <= ax.bbox.x1, label.get_text()
            assert box.x1 <= x or box.x0 >= x, "the label crosses its line"
    plt.close("all")


@pytest.mark.slow
def test_the_as_of_label_takes_room_within_the_datas_limits_and_covers_nothing(
    conditioned_2025: tuple[Any, Any],
) -> None:
    # as of 2025-06-01, too near the left edge to end left of its line, the label went
    # right of it, across the Sep 2025 deadline's line, dropped below that deadline's
    # label and raised Iraq's y-axis to 3,948 over data reaching 2,500
    import dataclasses

    result, cond = conditioned_2025
    without = dataclasses.replace(result.observed.observations, as_of=None)
    for r in (result, cond):
        plain = [ax.get_ylim() for ax in sim.plot_fan(r, observed=without)]
        axes = sim.plot_fan(r)
        assert [ax.get_ylim() for ax in axes] == plain  # the label widens no axis
        labelled = 0
        for ax in axes:
            for label in [t for t in ax.texts if t.get_gid() == AS_OF_LABEL_GID]:
                box = label.get_window_extent(_renderer(ax))
                assert hits(ax, box, skip=[label]) == 0, (ax.get_title(), label.get_text())
                assert ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1
                assert ax.bbox.y0 <= box.y0 and box.y1 <= ax.bbox.y1
                labelled += 1
        assert labelled == 2  # Iraq's first panel and Syria's
        for ax in axes:  # placed again (Iraq's in its narrower wording): where it was
            before = [(t.get_text(), t.get_position()) for t in ax.texts]
            place_as_of(ax)
            assert [(t.get_text(), t.get_position()) for t in ax.texts] == before
        plt.close("all")


SHIPPED = sorted((AFGHANISTAN.parent).glob("*.yaml")) + sorted(AFGHANISTAN.glob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_no_deadline_label_of_a_shipped_envelope_crosses_a_line_or_another_label(path) -> None:
    # on Afghanistan 2011's envelope the 2012-09 deadline's dotted line ran through
    # "deadline 2011-12" (now "deadline Dec 2011"; the labels' widths were estimated
    # from their characters)
    from sim.plotting.common import base_deadlines, theater_list

    result = sim.run(sim.load_scenario(path))
    axes = sim.plot_envelope(result)
    for ax, tid in zip(axes, theater_list(result, None, sites=True), strict=True):
        labels = [t for t in ax.texts if t.get_gid() == DEADLINE_LABEL_GID]
        assert len(labels) == len(base_deadlines(result, tid)), ax.get_title(loc="left")
        for label in labels:  # no line (its own, another's, the data's), mark or label
            box = label.get_window_extent(_renderer(ax))
            assert hits(ax, box, skip=[label]) == 0, (ax.get_title(loc="left"), label.get_text())
            assert ax.bbox.x0 <= box.x0 and box.x1 <= ax.bbox.x1, label.get_text()
    plt.close("all")


def test_a_line_of_thousands_of_bars_is_tested_only_where_its_segments_near_the_box(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # each two-point piece of a record's bars became a path for every place a label was
    # tried: an as-of label walking down a panel covered by 6,000 bars took 48 s
    from matplotlib.path import Path as MplPath
    from matplotlib.transforms import Bbox

    fig, ax = plt.subplots()
    n = 2_000
    xs = np.repeat(np.arange(n, dtype=float), 3)
    ys = np.tile([0.0, 1.0, np.nan], n)
    ax.plot(xs, ys, lw=1)
    ax.set_xlim(5, 25)  # (the others off the panel, still in the line)
    ax.set_ylim(0, 2)
    fig.canvas.draw()
    tested = []
    real = MplPath.intersects_bbox
    monkeypatch.setattr(
        MplPath, "intersects_bbox", lambda self, *a, **k: tested.append(1) or real(self, *a, **k)
    )
    to_display = ax.transData.transform
    above = Bbox([to_display((10, 1.5)), to_display((20, 1.8))])  # over the bars' tops
    across = Bbox([to_display((10.2, 0.4)), to_display((10.8, 0.6))])  # between two bars
    on = Bbox([to_display((9.5, 0.4)), to_display((10.5, 0.6))])  # on bar 10
    assert [hits(ax, b, texts=False) for b in (above, across, on)] == [0, 0, 1]
    assert len(tested) <= 6, len(tested)  # not one per bar
    plt.close(fig)


@pytest.fixture(scope="module")
def record_conditioned():
    """The default scenario at 1,000 draws, conditioned on its shipped record."""
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    record = sim.load_observations(
        DEFAULT_SCENARIO.with_name("iraq-syria-2024-observed.csv"), scenario
    )
    return sim.run(scenario, draws=1000, seed=1, observed=record, condition=True)


@pytest.mark.slow
def test_the_note_of_variants_left_out_of_a_conditioned_fan_covers_no_other_text(
    record_conditioned,
) -> None:
    # at the figure's foot it was printed over the footnote's last line
    result = record_conditioned
    assert result.observed.conditioned.too_few  # (slip-6-moving keeps 25.9)
    axes = _conditioned_fan(result, conditioned_result(result, result.observed))
    fig = axes[0].figure
    renderer = _renderer(axes[0])
    note = next(t for t in fig.texts if t.get_text().startswith("Fewer than 30 effective"))
    box = note.get_window_extent(renderer)
    others = [t for t in fig.texts if t is not note and t.get_text().strip()]
    assert others and not any(box.overlaps(t.get_window_extent(renderer)) for t in others)
    for ax in axes:  # nor the panels and their tick labels
        assert not box.overlaps(ax.get_tightbbox(renderer))
    plt.close("all")


@pytest.mark.slow
def test_a_conditioned_fan_names_the_reports_it_draws_but_left_out_of_its_weights(
    record_conditioned,
) -> None:
    # the two discrepant Iraq reports were drawn as any other, far above every band,
    # with nothing on the chart saying they weigh nothing
    result = record_conditioned
    axes = _conditioned_fan(result, conditioned_result(result, result.observed))
    fig = axes[0].figure
    renderer = _renderer(axes[0])
    note = next(t for t in fig.texts if "drawn, but left out" in t.get_text())
    assert note.get_text().endswith(
        "Ringed: drawn, but left out of the weights (no draw comes within its tolerance): "
        "Iraq on 1 Oct 2025 (in every panel but as-reported); Iraq on 18 Jan 2026."
    )  # (at 1,000 draws no as-reported draw comes near the second either; the panels'
    # names, not the ids "2025-10-01 iraq")
    box = note.get_window_extent(renderer)
    others = [t for t in fig.texts if t is not note and t.get_text().strip()]
    assert not any(box.overlaps(t.get_window_extent(renderer)) for t in others)
    assert box.x1 <= fig.bbox.width
    plt.close("all")


@pytest.mark.slow
def test_a_conditioned_fan_rings_on_its_panels_the_reports_left_out_of_their_weights(
    record_conditioned,
) -> None:
    # a report left out of the weights was drawn, filled, as any report known: on the
    # panel a reader took the band's distance from it for the conditioning failing
    import matplotlib.dates as mdates

    result = record_conditioned
    cond = conditioned_result(result, result.observed)
    axes = _conditioned_fan(result, cond)
    names = list(cond.variants)
    iraq = axes[: len(names)]  # (theater-major: Iraq's panels first)

    def rings(ax: Any) -> list[tuple[str, float]]:
        return [
            (str(mdates.num2date(mdates.date2num(x)).date()), float(y))
            for line in _rings(ax)
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
        ]

    panel = dict(zip(names, iraq, strict=True))
    # the two Iraq reports of 2,500 (October 2025, January 2026), each around its dot
    assert rings(panel["on-time"]) == [("2025-10-31", 2500.0), ("2026-01-31", 2500.0)]
    assert rings(panel["as-reported"]) == [("2026-01-31", 2500.0)]
    assert all(not rings(ax) for ax in axes[len(names) :])  # (Syria has none)
    (ring,) = _rings(panel["on-time"])
    assert ring.get_markerfacecolor() == "none" and ring.get_zorder() > 9.7
    plt.close("all")


@pytest.mark.slow
def test_a_conditioned_fan_of_some_theaters_names_only_the_left_out_reports_it_draws(
    record_conditioned,
) -> None:
    # a fan of Syria alone said the two Iraq reports were "drawn, but left out"
    result = record_conditioned
    axes = _conditioned_fan(result, conditioned_result(result, result.observed), ["syria"])
    fig = axes[0].figure
    assert not [t for t in fig.texts if "left out of the weights" in t.get_text()]
    assert not [line for ax in axes for line in _rings(ax)]
    plt.close("all")


@pytest.mark.slow
def test_a_conditioned_fan_says_its_central_run_is_not_moved_by_the_reports(
    record_conditioned,
) -> None:
    # the dashed central run (Syria 1,500) sat among weighted bands near 2,000 and was
    # read as the conditioned projection
    result = record_conditioned
    plain = sim.plot_fan(result)
    labels = [t.get_text() for lg in plain[0].figure.legends for t in lg.get_texts()]
    assert "central run (each input at its central value, not a percentile)" in labels
    axes = _conditioned_fan(result, conditioned_result(result, result.observed))
    fig = axes[0].figure
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "central run (each input at its central value; the reports do not move it)" in labels
    assert not any(
        label.startswith("central run (each input at its central value,") for label in labels
    )
    # and its footnote says what it is conditioned on, beside the scenario's own date
    foot = next(t.get_text() for t in fig.texts if t.get_text().startswith("Scenario as of"))
    assert foot.startswith("Scenario as of 6 Sep 2024, conditioned on every report given.")
    plt.close("all")


@pytest.mark.parametrize("rows", [1, 2])
def test_no_deadline_label_stands_over_a_line_left_unlabelled(rows) -> None:
    # with no room for Sep 2025's label, "deadline Feb 2026", left of its own line,
    # began at the Sep 2025 line and read as its label
    from sim.plotting.clearance import line_labels

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.set_xlim(0, 100)
    lines = [ax.axvline(x, linestyle=":") for x in (20, 44, 52, 60, 96)]
    fig.canvas.draw()
    words = [[f"deadline {m} 2026"] for m in ("Feb", "Sep", "Oct", "Nov", "Dec")]
    labels = line_labels(ax, lines, words, rows=rows, fontsize=10)
    renderer = fig.canvas.get_renderer()
    x_of = [ax.transData.transform((line.get_xdata()[0], 0))[0] for line in lines]
    bare = [x for x, label in zip(x_of, labels, strict=True) if label is None]
    assert bare, "the case needs a line left unlabelled"
    for label in labels:
        if label is not None:
            box = label.get_window_extent(renderer)
            assert not any(box.x0 - 1 < x < box.x1 + 1 for x in bare), label.get_text()
    plt.close(fig)


def _panel_with_a_line_along_its_bottom() -> tuple[Any, Any, Any]:
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.plot([0, 10], [0.5, 0.5], color="black", linewidth=2)  # (along the bottom)
    middle = ax.axvline(5, color="grey", linestyle=":")
    label = ax.annotate("a label", xy=(0.01, 0.03), xycoords="axes fraction")
    fig.canvas.draw()
    return fig, ax, (label, middle)


BOTTOM_LEFT = ((0.01, 0.03), "left", "baseline")
TOP_LEFT = ((0.01, 0.97), "left", "top")
TOP_MIDDLE = ((0.5, 0.97), "center", "top")  # (on the dotted line at x = 5)
MIDDLE_RIGHT = ((0.99, 0.5), "right", "center")


def test_placing_a_label_measures_no_place_after_the_first_that_covers_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sim.plotting import clearance

    fig, ax, (label, _) = _panel_with_a_line_along_its_bottom()
    measured: list[Any] = []
    counting = clearance.hits

    def counted(ax: Any, box: Any, **kw: Any) -> int:
        measured.append(box)
        return counting(ax, box, **kw)

    monkeypatch.setattr(clearance, "hits", counted)
    places = [BOTTOM_LEFT, TOP_LEFT, MIDDLE_RIGHT, TOP_MIDDLE]
    assert clearance.place_clear(ax, label, places) == 1
    assert label.xyann == TOP_LEFT[0] and label.get_bbox_patch() is None
    # the bottom place twice (it covers the line: is that all?), the top-left once
    assert len(measured) == 3
    plt.close(fig)


def test_a_label_takes_an_edge_place_on_a_dotted_line_before_a_clear_place_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sim.plotting import clearance

    fig, ax, (label, middle) = _panel_with_a_line_along_its_bottom()
    # the edge places: the bottom (on the data) and the top middle (on the dotted line
    # only); inside: the right, which covers nothing but comes after the edge
    places = [BOTTOM_LEFT, TOP_MIDDLE, MIDDLE_RIGHT]
    assert clearance.place_clear(ax, label, places, edge=2) == 1
    assert label.xyann == TOP_MIDDLE[0]
    assert label.get_bbox_patch() is not None  # (a white ground: the line stops at it)
    assert clearance.hits(ax, label.get_window_extent(), skip=[label, middle]) == 0
    plt.close(fig)


def _as_of_crossings(axes: Any) -> list[str]:
    """The deadlines' labels the as-of line runs through, as drawn, panel by panel."""
    crossed = []
    for ax in axes:
        renderer = ax.figure.canvas.get_renderer()
        for line in [x for x in ax.lines if x.get_gid() == "as-of"]:
            xy = line.get_transform().transform(line.get_xydata())
            x, top = float(xy[0][0]), float(xy[:, 1].max())
            for t in ax.texts:
                box = t.get_window_extent(renderer)
                if t.get_gid() == DEADLINE_LABEL_GID and box.x0 < x < box.x1 and top > box.y0:
                    crossed.append(f"{ax.get_title()}: {t.get_text()!r}")
    return crossed


@pytest.mark.slow
@pytest.mark.parametrize("column", [False, True])
@pytest.mark.parametrize("chart", ["fan", "envelope"])
def test_the_as_of_line_stops_below_a_deadlines_label_it_would_run_through(chart, column) -> None:
    # the February 2026 vintage as of its own day: the line of 24 Feb 2026 ran through
    # "deadline Sep 2025" (Iraq) and "Feb 2026 met 100 %" (Syria) in the column charts
    from conftest import SCENARIOS_DIR

    vintage = sim.load_scenario(SCENARIOS_DIR / "vintages" / "2026-02-24-syria-withdrawal.yaml")
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    result = sim.run(
        vintage, ["as-reported"], draws=400, seed=1, observed=record, as_of="2026-02-24"
    )
    draw = sim.plot_fan if chart == "fan" else sim.plot_envelope
    axes = draw(result, column=column)
    assert any(line.get_gid() == "as-of" for ax in axes for line in ax.lines)
    assert _as_of_crossings(axes) == []
