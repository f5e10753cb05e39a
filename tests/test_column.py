"""Charts for a newspaper column (``column=True``, ``forcesim plot RUN --column``): 600 px
wide on screen, written 1200 px wide; the panels stacked (at most four), the title and
subtitle wrapped above them, the key and the footnote under them, nothing cut or
overlapping; the fan of one variant unless variants are chosen."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SCENARIOS_DIR
from PIL import Image

import sim
from sim.cli import main
from sim.plotting import column, save
from sim.plotting.common import CrowdedChart

SCENARIO = SCENARIOS_DIR / "iraq-syria-2024.yaml"
SITES = SCENARIOS_DIR / "iraq-sites-2024.yaml"
OBSERVED = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"


@pytest.fixture(scope="module")
def central() -> Any:
    return sim.run(SCENARIO)


@pytest.fixture(scope="module")
def ensemble() -> Any:
    return sim.run(SCENARIO, draws=300, seed=2)


@pytest.fixture(scope="module")
def conditioned() -> Any:
    """as-reported, conditioned on the record as known on 2025-06-01."""
    scenario = sim.load_scenario(SCENARIO)
    observed = sim.load_observations(OBSERVED, scenario)
    return sim.run(
        scenario,
        ["as-reported"],
        draws=2000,
        seed=1,
        observed=observed,
        condition=True,
        as_of="2025-06-01",
    )


def boxes(axes: list[Any]) -> dict[str, Any]:
    """The drawn extents [px] of a column figure's title, subtitle, key and footnote
    (the figure's texts top to bottom, and its legend)."""
    fig = axes[0].figure
    renderer = fig.canvas.get_renderer()
    texts = sorted(fig.texts, key=lambda t: -t.get_window_extent(renderer).y1)
    assert len(texts) == 3, [t.get_text() for t in texts]
    title, subtitle, foot = (t.get_window_extent(renderer) for t in texts)
    return {
        "title": title,
        "subtitle": subtitle,
        "key": fig.legends[0].get_window_extent(renderer),
        "foot": foot,
        "figure": fig.bbox,
        "texts": texts,
    }


def panel_extents(axes: list[Any]) -> list[Any]:
    """Each panel's extent with its title and tick labels [px]."""
    renderer = axes[0].figure.canvas.get_renderer()
    return [a.get_tightbbox(renderer) for a in axes]


def assert_laid_out(axes: list[Any]) -> None:
    """Title over subtitle over the panels (top to bottom) over the key over the
    footnote, none overlapping the next, every one inside the figure."""
    b = boxes(axes)
    fig = b["figure"]
    order = [b["title"], b["subtitle"], *panel_extents(axes), b["key"], b["foot"]]
    for box in order:
        assert fig.x0 <= box.x0 and box.x1 <= fig.x1 + 0.5, (box, fig)
        assert fig.y0 <= box.y0 and box.y1 <= fig.y1 + 0.5, (box, fig)
    for upper, lower in zip(order, order[1:], strict=False):
        assert lower.y1 <= upper.y0 + 0.5, (upper, lower)


def test_a_column_envelope_is_600_px_wide_on_screen_and_written_1200_px_wide(
    central: Any, tmp_path: Path
) -> None:
    axes = sim.plot_envelope(central, column=True)
    fig = axes[0].figure
    assert fig.get_figwidth() * fig.dpi == 600
    assert [a.get_title(loc="left") for a in axes] == ["Iraq", "Syria"]
    assert_laid_out(axes)
    save(axes, tmp_path / "envelope-column.png")
    with Image.open(tmp_path / "envelope-column.png") as png:
        assert png.size[0] == 1200
        assert png.size[1] == round(fig.get_figheight() * column.COLUMN_DPI)


def test_a_column_envelope_keys_every_variant_and_wraps_its_footnote_inside_the_column(
    central: Any,
) -> None:
    axes = sim.plot_envelope(central, column=True)
    key = axes[0].figure.legends[0]
    labels = [t.get_text() for t in key.get_texts()]
    assert labels[0] == "range across variants"
    assert labels[1 : 1 + len(central.variants)] == list(central.variants)
    assert any(label.startswith("variants alike") for label in labels)
    assert any(label.startswith("official figure") for label in labels)
    foot = boxes(axes)["texts"][-1].get_text()
    assert foot.startswith("Scenario as of 6 Sep 2024.")
    assert "Syria's lines count the whole force" in foot.replace("\n", " ")


def test_the_column_envelope_of_one_theater_keys_the_variant_before_the_official_figure(
    central: Any,
) -> None:
    axes = sim.plot_envelope(central, column=True, theaters=["syria"], variants=["slip-6"])
    labels = [t.get_text() for t in axes[0].figure.legends[0].get_texts()]
    assert labels[0] == "slip-6"
    assert labels[1].startswith("official figure")


def test_a_column_fan_draws_the_first_variant_alone_and_says_it_is_one_of_several(
    ensemble: Any,
) -> None:
    axes = sim.plot_fan(ensemble, column=True)
    assert [a.get_title(loc="left") for a in axes] == ["Iraq · as-reported", "Syria · as-reported"]
    assert_laid_out(axes)
    texts = boxes(axes)["texts"]
    subtitle = texts[1].get_text().replace("\n", " ")
    assert ", variant as-reported: The plan as reported" in subtitle  # (and what it is)
    assert len(subtitle) < 260
    foot = texts[-1].get_text().replace("\n", " ")
    assert "One of 8 readings of the plan (variants) the scenario gives." in foot
    labels = [t.get_text() for t in axes[0].figure.legends[0].get_texts()]
    assert labels[0] == "5th–95th percentile of the draws"
    assert any(label.startswith("deadline before any delay") for label in labels)


def test_a_column_fan_of_chosen_variants_stacks_a_panel_per_theater_and_variant(
    ensemble: Any,
) -> None:
    axes = sim.plot_fan(ensemble, column=True, variants=["slip-6", "residual"])
    assert [a.get_title(loc="left") for a in axes] == [
        "Iraq · slip-6",
        "Iraq · residual",
        "Syria · slip-6",
        "Syria · residual",
    ]
    assert_laid_out(axes)
    assert "first of" not in boxes(axes)["texts"][-1].get_text()


def test_a_column_chart_stacks_at_most_four_panels_and_says_what_it_left_out() -> None:
    result = sim.run(SITES, ["on-time"], draws=100, seed=1)
    five = ["iraq", "iraq/ain-al-asad", "iraq/baghdad", "iraq/erbil", "syria"]
    for chart in (sim.plot_envelope, sim.plot_fan):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            axes = chart(result, column=True, theaters=five)
        assert len(axes) == column.MAX_PANELS
        assert_laid_out(axes)
        foot = boxes(axes)["texts"][-1].get_text().replace("\n", " ")
        assert "Not drawn here, for want of room: Syria." in foot  # (named, for readers)
        told = [str(w.message) for w in caught if issubclass(w.category, CrowdedChart)]
        assert len(told) == 1 and "5 theaters and sites" in told[0]
        assert "forcesim plot RUN --column --theater ID (theaters=[...] in Python)" in told[0]


def test_a_column_chart_draws_the_theaters_and_a_site_when_named() -> None:
    # the sites of Iraq took three of the four panels, and Syria was left out
    result = sim.run(SITES, ["on-time"])
    axes = sim.plot_envelope(result, column=True)
    assert [a.get_title(loc="left") for a in axes] == ["Iraq", "Syria"]
    named = sim.plot_envelope(result, column=True, theaters=["iraq/erbil"])
    assert [a.get_title(loc="left") for a in named] == ["Erbil (Iraq)"]


@pytest.mark.parametrize("chart", ["envelope", "fan", "fan_conditioned", "vintages"])
def test_a_column_charts_footnote_speaks_to_readers_not_to_the_user_of_the_tool(
    chart: str, ensemble: Any, vintages: Any, conditioned: Any
) -> None:
    # a graphics editor: "the command forcesim sources ... lists each number", file names
    # and how to draw another variant had to be cropped off before publishing
    if chart == "vintages":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            axes = sim.plot_vintages(vintages, column=True)
    elif chart == "fan_conditioned":
        axes = sim.plot_fan(conditioned, column=True, weighted=True)
    else:
        axes = getattr(sim, f"plot_{chart}")(ensemble, column=True)
    foot = " ".join(boxes(axes)["texts"][-1].get_text().split())
    assert foot.startswith(("Scenario as of", "Variant as-reported."))
    for word in ("forcesim plot", "forcesim sources", "the command", ".csv", "in Python"):
        assert word not in foot


def test_a_column_envelope_of_more_variants_than_lines_shades_them_all_and_says_so() -> None:
    sc = sim.load_scenario(SCENARIO)
    for k in range(6):
        sc = sc.with_overrides({"announcement": {"delay": k + 1}}, variant=f"extra-{k}")
    result = sim.run(sc)
    with pytest.warns(CrowdedChart):
        axes = sim.plot_envelope(result, column=True)
    with pytest.warns(CrowdedChart):
        own = sim.plot_envelope(result)
    for a, b in zip(axes, own, strict=True):  # the same shading as the chart of its own
        shade = [c for c in a.collections if c.get_label() == "range across variants"]
        full = [c for c in b.collections if c.get_label() == "range across variants"]
        assert len(shade) == len(full) == (1 if a is axes[0] else 0)
        for s, f in zip(shade, full, strict=True):
            assert np.array_equal(s.get_paths()[0].vertices, f.get_paths()[0].vertices)
    key = axes[0].figure.legends[0]
    assert key.get_title().get_text() == "variant (the first 10 of 14)"
    foot = boxes(axes)["texts"][-1].get_text().replace("\n", " ")
    assert "the shading spans all 14" in foot


def test_a_column_of_the_weighted_fan_names_what_it_is_conditioned_on(conditioned: Any) -> None:
    axes = sim.plot_fan(conditioned, column=True, weighted=True)
    assert_laid_out(axes)
    texts = [t.get_text().replace("\n", " ") for t in boxes(axes)["texts"]]
    assert texts[0].endswith("conditioned on what was known on 1 Jun 2025")
    assert texts[1].startswith("Each draw weighted by how many of the")
    assert texts[2].startswith("Scenario as of 6 Sep 2024, conditioned on reports known on")
    assert all(t.get_gid() != "conditioned-note" for t in axes[0].figure.texts)


def test_a_column_of_the_weighted_fan_takes_the_line_of_what_it_leaves_out_into_its_foot() -> None:
    scenario = sim.load_scenario(SCENARIO)
    observed = sim.load_observations(OBSERVED, scenario)
    # (a tolerance of 1 %: most variants keep too few effective draws, reports are ringed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sim.run(
            scenario, draws=2000, seed=1, observed=observed, condition=True, tolerance="1%"
        )
        own = sim.plot_fan(result, weighted=True)
        axes = sim.plot_fan(result, column=True, weighted=True)
    line = [t.get_text() for t in own[0].figure.texts if t.get_gid() == "conditioned-note"]
    assert len(line) == 1 and line[0].startswith("Fewer than 30 effective draws, left out:")
    foot = boxes(axes)["texts"][-1].get_text()
    assert " ".join(line[0].split()) in " ".join(foot.split())
    assert all(t.get_gid() != "conditioned-note" for t in axes[0].figure.texts)
    assert_laid_out(axes)


@pytest.mark.parametrize("chart", [sim.plot_envelope, sim.plot_fan])
def test_a_column_chart_refuses_axes_given(ensemble: Any, chart: Any) -> None:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(2)
    with pytest.raises(ValueError, match=r"\(column=True\) lays out a figure of its own"):
        chart(ensemble, ax=list(ax), column=True)


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_plot_column_writes_column_charts_beside_the_runs_own_and_a_new_run_replaces_them(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    args = ["run", str(SCENARIO), "-o", str(out), "-q", "--draws", "300", "--seed", "2"]
    assert invoke(*args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    done = invoke("plot", str(out), "--column")
    assert done.exit_code == 0, done.output
    assert done.output == f"wrote {out}/envelope-column.png, {out}/fan-column.png\n"
    for name in ("envelope-column.png", "fan-column.png"):
        with Image.open(out / name) as png:
            assert png.size[0] == 1200
    # the run's own files are as they were; the new charts join its signed manifest
    assert all(
        (out / name).read_bytes() == data for name, data in before.items() if name != "run.json"
    )
    manifest = json.loads((out / "run.json").read_text())["manifest"]["files"]
    assert {"envelope-column.png", "fan-column.png"} <= set(manifest)
    assert invoke(*args).exit_code == 0  # a new run replaces every file the last one wrote
    assert not (out / "envelope-column.png").exists()


def test_plot_column_with_output_draws_one_chart_of_the_variants_chosen(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        invoke(
            "run", str(SCENARIO), "-o", str(out), "-q", "--draws", "300", "--seed", "2"
        ).exit_code
        == 0
    )
    target = tmp_path / "slip-6.png"
    done = invoke("plot", str(out), "--column", "--chart", "fan", "-v", "slip-6", "-o", str(target))
    assert done.exit_code == 0, done.output
    assert done.output == f"wrote {target} (only slip-6)\n"
    with Image.open(target) as png:
        assert png.size[0] == 1200


def test_plot_column_of_a_comparison_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    made = invoke(
        "compare",
        str(SCENARIO),
        "-v",
        "on-time",
        "-v",
        "slip-6",
        "-o",
        str(out),
        "-q",
        "--draws",
        "200",
        "--seed",
        "1",
    )
    assert made.exit_code == 0, made.output
    before = sorted(p.name for p in out.iterdir())
    refused = CliRunner().invoke(main, ["plot", str(out), "--column"])
    assert refused.exit_code == 2
    assert refused.output.count("\n") == 1
    assert "column charts only of a run's directory" in refused.output
    assert sorted(p.name for p in out.iterdir()) == before


@pytest.fixture(scope="module")
def vintages() -> Any:
    paths = sorted((SCENARIOS_DIR / "vintages").glob("*.yaml"))
    return sim.run_vintages(paths, OBSERVED, draws=500, seed=1)


def test_a_column_vintages_chart_stands_its_dates_clear_of_the_title_and_each_other(
    vintages: Any,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (vintages left out for too few draws at 500)
        axes = sim.plot_vintages(vintages, column=True)
    assert [a.get_title(loc="left") for a in axes] == ["Iraq", "Syria"]
    assert_laid_out(axes)
    fig = axes[0].figure
    renderer = fig.canvas.get_renderer()
    from sim.months import spell_day

    days = {spell_day(v.as_of) for v in vintages.vintages}
    dates = [t.get_window_extent(renderer) for t in axes[0].texts if t.get_text() in days]
    assert len(dates) == len(vintages.vintages)
    title = axes[0]._left_title.get_window_extent(renderer)
    subtitle = boxes(axes)["subtitle"]
    for i, box in enumerate(dates):
        assert not box.overlaps(title)
        assert box.y1 <= subtitle.y0  # (below the subtitle: room made for their rows)
        assert not any(box.overlaps(other) for other in dates[i + 1 :])


def test_vintages_column_writes_vintages_column_png_beside_the_chart(tmp_path: Path) -> None:
    out = tmp_path / "v"
    args = ["vintages", str(SCENARIOS_DIR / "vintages"), "--observed", str(OBSERVED)]
    done = invoke(*args, "--draws", "500", "--seed", "1", "-o", str(out), "-q", "--column")
    assert done.exit_code == 0, done.output
    with Image.open(out / "vintages-column.png") as png:
        assert png.size[0] == 1200
    with Image.open(out / "vintages.png") as png:
        assert png.size[0] == 1600


def test_a_pdf_chart_embeds_its_fonts_as_truetype_for_design_software(
    central: Any, tmp_path: Path
) -> None:
    # a graphics desk opening the PDF met Type 3 glyphs, which design software edits poorly
    import re

    sim.save(sim.plot_envelope(central, column=True), tmp_path / "a.pdf")
    sim.save(sim.plot_envelope(central, column=True), tmp_path / "b.pdf")
    data = (tmp_path / "a.pdf").read_bytes()
    kinds = set(re.findall(rb"/Subtype /(\w+)", data))
    assert b"Type3" not in kinds and b"CIDFontType2" in kinds
    assert data == (tmp_path / "b.pdf").read_bytes()  # (the same figure, the same bytes)


def test_a_column_fan_keys_the_deadline_only_where_a_panel_draws_one(ensemble: Any) -> None:
    # Syria alone has no deadline in as-reported, and its key listed one
    def labels(axes: list[Any]) -> list[str]:
        return [t.get_text() for t in axes[0].figure.legends[0].get_texts()]

    syria = sim.plot_fan(ensemble, column=True, theaters=["syria"])
    assert not any(line.get_gid() == "deadline" for line in syria[0].get_lines())
    assert not any(label.startswith("deadline") for label in labels(syria))
    iraq = sim.plot_fan(ensemble, column=True, theaters=["iraq"])
    assert any(label.startswith("deadline before any delay") for label in labels(iraq))


def test_a_column_vintages_chart_caps_named_theaters_too_and_names_for_readers_what_it_left_out(
    vintages: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(column, "MAX_PANELS", 1)
    for theaters in (None, ["iraq", "syria"]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            axes = sim.plot_vintages(vintages, column=True, theaters=theaters)
        assert [a.get_title(loc="left") for a in axes] == ["Iraq"]
        foot = " ".join(boxes(axes)["texts"][-1].get_text().split())
        assert "Not drawn here, for want of room: Syria." in foot
        assert "Scored only on later reports of Iraq:" in foot  # (its name, not its id)
        assert "points.csv" not in foot and "in Python" not in foot
        assert any(issubclass(w.category, CrowdedChart) for w in caught)


def test_a_fan_drawn_into_axes_keys_the_deadline_on_the_panel_that_draws_one(
    ensemble: Any,
) -> None:
    import matplotlib.pyplot as plt

    _, (syria, iraq) = plt.subplots(2)
    sim.plot_fan(ensemble, ax=[syria, iraq], theaters=["syria", "iraq"], variants=["as-reported"])
    assert not any(lab.startswith("deadline") for lab in syria.get_legend_handles_labels()[1])
    assert any(lab.startswith("deadline") for lab in iraq.get_legend_handles_labels()[1])


def test_a_column_fan_credits_the_outlets_of_the_reports_it_draws(conditioned: Any) -> None:
    foot = " ".join(
        boxes(sim.plot_fan(conditioned, column=True, weighted=True))["texts"][-1].get_text().split()
    )
    assert "Reports drawn: from " in foot and "outlets, most often" in foot
