"""A theater made of sites on the fan charts, and ``forcesim plot --theater``: a block of
panels per site after its theater (titled as the envelope titles them), the conditioned
fan's per-panel labels when a crowded fan leaves variants out, and choosing the panels
of a run's charts from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SCENARIOS_DIR

import sim
from sim.cli import main
from sim.export import directory_charts
from sim.plotting import common
from sim.plotting.fan import MEDIAN_LABEL, draw_fan

SITES = SCENARIOS_DIR / "iraq-sites-2024.yaml"
SERIES = ["iraq", "iraq/ain-al-asad", "iraq/baghdad", "iraq/erbil", "syria"]
TWO = ["on-time", "erbil-extended"]


@pytest.fixture(scope="module")
def ensemble() -> Any:
    return sim.run(SITES, TWO, draws=300, seed=4)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sites ensemble run with two variants, written by the command line."""
    out = tmp_path_factory.mktemp("sites") / "run"
    args = ["run", str(SITES), "--out", str(out), "-q", "--draws", "300", "--seed", "4"]
    result = CliRunner().invoke(main, [*args, "-v", TWO[0], "-v", TWO[1]])
    assert result.exit_code == 0, result.output
    return out


def block_titles(axes: list[Any]) -> list[str]:
    """The bold names above each block of a new fan figure's panels, top to bottom."""
    fig = axes[0].figure
    return [t.get_text() for t in fig.texts if t.get_fontsize() == 17]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.slow
def test_the_fan_follows_each_theater_with_a_block_per_site_titled_as_the_envelope(
    ensemble: Any,
) -> None:
    axes = draw_fan(ensemble)
    envelope = [ax.get_title(loc="left") for ax in sim.plot_envelope(ensemble)]
    assert block_titles(axes) == envelope
    assert envelope[:5] == [
        "Iraq",
        "Ain al-Asad (al-Anbar), Iraq",
        "Baghdad (Iraq)",
        "Erbil (Iraq)",
        "Syria",
    ]
    assert len(axes) == len(SERIES) * len(TWO)
    subtitle = " ".join(t.get_text() for t in axes[0].figure.texts)
    assert "one panel per theater or site and reading of the plan" in subtitle


@pytest.mark.slow
def test_each_site_panel_draws_the_sites_own_bands_from_the_run(ensemble: Any) -> None:
    axes = draw_fan(ensemble)
    b = ensemble.bands
    for i, (key, variant) in enumerate((k, v) for k in SERIES for v in TWO):
        ax = axes[i]
        assert ax.get_title(loc="left") == variant
        median = next(line for line in ax.get_lines() if line.get_label() == MEDIAN_LABEL)
        rows = b[(b.theater == key) & (b.variant == variant)].sort_values("month")
        assert np.array_equal(np.asarray(median.get_ydata(), float), rows.p50.to_numpy(float))
    # Erbil is held six months longer in one reading: its own deadline, June 2027
    erbil = axes[SERIES.index("iraq/erbil") * 2 + 1]
    assert any(t.get_text().startswith("Jun 2027") for t in erbil.texts)


def test_a_site_alone_and_axes_given_take_what_they_are_asked_for(ensemble: Any) -> None:
    one = draw_fan(ensemble, theaters=["iraq/erbil"])
    assert block_titles(one) == ["Erbil (Iraq)"] and len(one) == len(TWO)
    import matplotlib.pyplot as plt

    _, grid = plt.subplots(2, 2)
    given = sim.plot_fan(ensemble, ax=grid.ravel())  # given axes: the theaters, as before
    assert [ax.get_title(loc="left") for ax in given] == [
        "Iraq · on-time",
        "Iraq · erbil-extended",
        "Syria · on-time",
        "Syria · erbil-extended",
    ]


def test_a_scenario_without_sites_keeps_its_fan_subtitle() -> None:
    result = sim.run(SCENARIOS_DIR / "iraq-syria-2024.yaml", TWO[:1] + ["slip-6"], draws=50, seed=1)
    texts = " ".join(t.get_text() for t in draw_fan(result)[0].figure.texts)
    assert block_titles(draw_fan(result)) == ["Iraq", "Syria"]
    assert "one panel per theater and reading of the plan (variant); each theater shares" in texts


def test_a_fan_crowded_by_sites_keeps_the_first_variants_and_says_how_to_choose_panels() -> None:
    names, chosen, note = common.fan_selection(SERIES, [f"v{i}" for i in range(9)])
    assert names == SERIES and chosen == [f"v{i}" for i in range(6)]
    assert note is not None
    assert "A panel per theater or site and variant would make 45 panels" in note
    assert "forcesim plot RUN --theater ID" in note


@pytest.mark.slow
def test_the_conditioned_fan_labels_each_panel_with_its_own_variants_effective_draws(
    tmp_path: Path,
) -> None:
    from sim.analysis.observed import conditioned_result
    from sim.plotting import mark_conditioned

    observed = tmp_path / "observed.csv"
    observed.write_text(
        "date,theater,troops_low,troops_high,kind,source,quote\n"
        "2025-06-15,iraq/ain-al-asad,200,400,reported,shafaq,test\n"
    )
    obs = sim.load_observations(observed)
    result = sim.run(SITES, draws=300, seed=2, observed=obs, condition=True)
    assessment = result.observed
    cond = conditioned_result(result, assessment)
    assert cond is not None and len(cond.variants) > 6  # 5 series: a crowded fan
    with pytest.warns(common.CrowdedChart):
        axes = sim.plot_fan(cond)
    mark_conditioned(axes, cond, assessment)
    effective = assessment.conditioned.effective
    assert len({round(effective[v]) for v in cond.variants}) > 1  # the labels differ
    for ax in axes:
        variant = ax.get_title(loc="left")
        (label,) = [t.get_text() for t in ax.texts if t.get_text().startswith("effective")]
        assert label.startswith(f"effective draws {effective[variant]:,.0f}\n"), variant


@pytest.mark.slow
def test_plot_theater_draws_only_those_panels_of_either_chart_in_the_order_given(
    run_dir: Path, tmp_path: Path
) -> None:
    charts = directory_charts(run_dir, ["iraq/erbil", "syria"])
    assert block_titles(charts["fan"]()) == ["Erbil (Iraq)", "Syria"]
    envelope = charts["envelope"]()
    assert [ax.get_title(loc="left") for ax in envelope] == ["Erbil (Iraq)", "Syria"]
    for chart in ("fan", "envelope"):
        target = tmp_path / f"{chart}.png"
        result = invoke(
            "plot", str(run_dir), "--chart", chart, "--theater", "iraq/erbil", "-o", str(target)
        )
        assert result.exit_code == 0, result.output
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_theater_reads_only_the_rows_of_the_panels_it_draws(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one theater of 50 over 600 months and 100 variants read all 3,000,000 rows: 80 s
    # and 604 MB
    seen: list[sim.Result] = []

    def charts(
        result: sim.Result, only: Any, variants: Any = None, *, column: bool = False
    ) -> dict[str, Any]:
        seen.append(result)
        return {}

    monkeypatch.setattr("sim.export.read.run_charts", charts)
    directory_charts(run_dir, ["iraq/erbil", "syria"])
    (result,) = seen
    for table in (result.monthly, result.bands):
        assert table is not None
        assert set(table.theater.astype(str)) == {"iraq/erbil", "syria"}
        assert set(table.variant.astype(str)) == set(TWO)
    assert result.variants == TWO and common.plan_series(result) == SERIES


def test_plot_variant_draws_only_those_variants_and_refuses_one_the_run_lacks(
    run_dir: Path, tmp_path: Path
) -> None:
    # a reporter re-ran a whole ensemble to chart one variant: plot had --theater only
    import matplotlib.pyplot as plt

    charts = directory_charts(run_dir, ["iraq"], [TWO[1]])
    fan = charts["fan"]()
    assert {ax.get_title(loc="left") for ax in fan} == {TWO[1]}
    envelope = charts["envelope"]()
    labels = {t.get_text() for t in envelope[0].figure.legends[0].get_texts()}
    assert TWO[1] in labels and TWO[0] not in labels
    plt.close("all")
    target = tmp_path / "one.png"
    result = invoke("plot", str(run_dir), "-v", TWO[1], "--chart", "fan", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {target} (only {TWO[1]})"
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    result = invoke("plot", str(run_dir), "-v", "on-tme")
    assert result.exit_code == 2
    assert "-v: expected one of the variants" in result.output
    assert "(did you mean 'on-time'?), found 'on-tme'" in result.output
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


@pytest.mark.slow
def test_plot_without_theater_draws_every_theater_and_site(run_dir: Path) -> None:
    assert block_titles(directory_charts(run_dir)["fan"]()) == [
        "Iraq",
        "Ain al-Asad (al-Anbar), Iraq",
        "Baghdad (Iraq)",
        "Erbil (Iraq)",
        "Syria",
    ]


def test_plot_of_an_unknown_theater_is_one_line_naming_it_and_the_runs_and_writes_nothing(
    run_dir: Path, tmp_path: Path
) -> None:
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    for args in (["-o", str(tmp_path / "x.png")], [], ["--chart", "fan"]):
        result = CliRunner().invoke(
            main, ["plot", str(run_dir), "--theater", "syria", "--theater", "iraq/east", *args]
        )
        assert result.exit_code == 2, result.output
        err = result.stderr
        assert err.count("\n") == 1 and "Traceback" not in result.output
        assert err.startswith("forcesim: error: <command line>:1:1: --theater: expected one of ")
        assert ", ".join(SERIES) in err and err.rstrip().endswith("found 'iraq/east'")
    assert not (tmp_path / "x.png").exists()
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


@pytest.fixture(scope="module")
def two_theater_backtest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backtest of the default scenario, with reports of Iraq and of Syria."""
    out = tmp_path_factory.mktemp("bt") / "bt"
    observed = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    args = ["backtest", str(SCENARIOS_DIR / "iraq-syria-2024.yaml"), "--observed", str(observed)]
    assert invoke(*args, "--out", str(out), "-q").exit_code == 0
    return out


@pytest.mark.slow
def test_plot_theater_of_a_backtest_draws_that_theaters_panels_with_its_own_mae(
    two_theater_backtest: Path, tmp_path: Path
) -> None:
    # it was refused, and of 50 observed theaters only the first 12 could be drawn
    import pandas as pd

    axes = directory_charts(two_theater_backtest, ["syria"])["backtest"]()
    panels = axes[:-1]
    assert [ax.get_title(loc="left").split(" · ")[0] for ax in panels] == ["Syria"] * 5
    errors = pd.read_csv(two_theater_backtest / "errors.csv")
    linear = errors[(errors.profile == "linear") & (errors.theater == "syria")]
    box = next(t.get_text() for t in panels[0].texts if "MAE" in t.get_text())
    for variant, mae in linear.groupby("variant").error.mean().items():
        assert f"{variant}: MAE {mae:,.0f}" in box.splitlines()
    fig = panels[0].figure
    assert any("its own theater’s reports" in t.get_text() for t in fig.texts)
    result = CliRunner().invoke(
        main,
        ["plot", str(two_theater_backtest), "--theater", "Syria", "-o", str(tmp_path / "b.png")],
    )
    assert result.exit_code == 2 and not (tmp_path / "b.png").exists()
    assert "has: iraq, syria (did you mean 'syria'?), found 'Syria'" in result.stderr


@pytest.mark.slow
def test_a_backtest_of_two_theaters_keeps_panel_titles_apart_and_below_the_legend(
    two_theater_backtest: Path,
) -> None:
    # "Iraq · step (all at the deadline)  ★ best fit" ran into the next panel's title, and
    # the legend's third row into the first row of titles
    axes = directory_charts(two_theater_backtest)["backtest"]()
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    panels = axes[:-1]
    assert len(panels) == 10
    for k, ax in enumerate(panels):
        title = ax.title if ax.get_title() else ax._left_title
        box = title.get_window_extent(renderer)
        assert box.y1 < legend.y0, ax.get_title(loc="left")
        if k % 5 < 4:  # (clear of the next panel in its row)
            assert box.x1 < panels[k + 1].get_window_extent(renderer).x0, ax.get_title(loc="left")


@pytest.mark.slow
def test_plot_theater_of_a_comparison_draws_that_sites_difference(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    args = ["compare", str(SITES), "-v", TWO[0], "-v", TWO[1], "--draws", "100", "--seed", "1"]
    assert invoke(*args, "--out", str(out), "-q").exit_code == 0
    axes = directory_charts(out, ["iraq/erbil"])["compare"]()
    assert axes[0].get_title(loc="left") == "Erbil (Iraq)"
    result = CliRunner().invoke(main, ["plot", str(out), "--theater", "erbil"])
    assert result.exit_code == 2
    assert f"has: {', '.join(SERIES)} (did you mean 'iraq/erbil'?), found 'erbil'" in result.stderr


@pytest.mark.slow
def test_each_site_panel_of_the_envelope_marks_its_own_calendar_deadlines_png_and_page(
    ensemble: Any,
) -> None:
    from sim.plotting import plot_envelope
    from sim.report.charts import envelope_figure

    axes = plot_envelope(ensemble)
    marked = {
        ax.get_title(loc="left"): [  # in the order of their lines
            t.get_text()
            for t in sorted(
                (t for t in ax.texts if t.get_text().startswith("deadline ")),
                key=lambda t: t.xy[0],
            )
        ]
        for ax in axes
    }
    assert marked["Iraq"] == ["deadline Sep 2025", "deadline Dec 2026"]  # its sites' too
    assert marked["Ain al-Asad (al-Anbar), Iraq"] == ["deadline Sep 2025"]
    assert marked["Baghdad (Iraq)"] == ["deadline Sep 2025", "deadline Dec 2026"]
    assert marked["Erbil (Iraq)"] == ["deadline Dec 2026"]
    # the page draws the same lines, one per deadline and panel
    fig = envelope_figure(ensemble)
    lines = [a.text for a in fig.layout.annotations if a.text.startswith("deadline ")]
    assert len(lines) == sum(len(v) for v in marked.values())


# a variant that splits the theater into sites, and one that adds a theater
SPLIT = """\
id: split
title: A variant splits a theater
as_of: 2024-09-06
calendar: {start: 2024-09, end: 2026-06}
announcement: {expected: 2024-09, delay: {uniform: [0, 3], assumption: judgement}}
theaters:
  iraq: {name: Iraq, initial: 1000}
milestones:
  out: {theater: iraq, deadline: 2025-09, target: {level: 0}}
variants:
  whole: {description: as one}
  split:
    description: two sites
    overrides:
      theaters:
        iraq: {sites: {erbil: {name: Erbil, initial: 600}, baghdad: {name: Baghdad, initial: 400}}}
        kuwait: {name: Kuwait, initial: 500}
      milestones:
        out: null
        erbil-out: {theater: iraq/erbil, deadline: 2025-12, target: {level: 0}}
"""


@pytest.mark.slow
def test_a_fan_panel_of_a_site_or_theater_the_variant_lacks_says_so_rather_than_stay_blank(
    write: Any,
) -> None:
    result = sim.run(write(SPLIT), draws=100, seed=1)
    axes = draw_fan(result, theaters=["iraq", "iraq/erbil", "kuwait"])
    notes = [
        " ".join(t.get_text() for t in ax.texts if "not in this variant" in t.get_text())
        for ax in axes
    ]
    assert notes[0] == notes[1] == ""  # Iraq: in both variants
    assert notes[2] == "Erbil (Iraq) is not in this variant" and notes[3] == ""
    assert notes[4] == "Kuwait is not in this variant" and notes[5] == ""


def test_the_page_fan_says_a_variant_lacks_a_site_or_theater_on_that_variants_panel(
    write: Any,
) -> None:
    from sim.report.charts import fan_figure

    result = sim.run(write(SPLIT), draws=100, seed=1)
    fig = fan_figure(result)
    notes = [(t.legendgroup, t.text[0], t.yaxis) for t in fig.data if t.meta == "missing"]
    # on the panels of the sites and the theater only the other variant has, shown
    # and hidden with that variant's bands (the picker shows one variant at a time)
    assert notes == [
        ("whole", "Erbil (Iraq) is not in this variant", "y2"),
        ("whole", "Baghdad (Iraq) is not in this variant", "y3"),
        ("whole", "Kuwait is not in this variant", "y4"),
    ]
    assert all(t.visible for t in fig.data if t.meta == "missing")  # the first variant's


def test_plot_of_some_theaters_says_it_drew_only_those_and_how_to_draw_them_whole_again(
    run_dir: Path, tmp_path: Path
) -> None:
    # the run's charts were redrawn with Syria alone, and the line said only "wrote …"
    copy = tmp_path / "run"
    copy.mkdir()
    for p in run_dir.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    part = CliRunner().invoke(main, ["plot", str(copy), "--theater", "syria"])
    assert part.exit_code == 0, part.output
    assert part.stdout.rstrip().endswith(
        f"(only syria; forcesim plot {copy} draws them whole again)"
    )
    whole = CliRunner().invoke(main, ["plot", str(copy)])
    assert whole.exit_code == 0 and "only" not in whole.stdout
    out = tmp_path / "syria.png"
    elsewhere = CliRunner().invoke(
        main, ["plot", str(copy), "--chart", "envelope", "--theater", "syria", "-o", str(out)]
    )
    assert elsewhere.stdout == f"wrote {out} (only syria)\n"
