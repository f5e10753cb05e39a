"""``forcesim sweep``: a grid of values, each point an ensemble with common random
numbers; a point equals the same settings run alone."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR, InProcessParts

import sim
from sim.analysis.sweep import sweep
from sim.cli import main

VARIANTS = ["as-reported", "slip-6"]
DELAY = "announcement.delay"
CUT = "milestones.iraq-phase-1.target.reduce_by"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.load_scenario(DEFAULT_SCENARIO)


@pytest.fixture(scope="module")
def grid(scenario: sim.Scenario):
    axes = [(DELAY, [{"uniform": [0, 6]}, 3]), (CUT, [300, {"uniform": [300, 900]}])]
    return sweep(scenario, axes, VARIANTS, 2000, 5)


def test_a_sweep_point_equals_the_same_settings_run_alone(scenario, grid) -> None:
    settings = {DELAY: {"uniform": [0, 6]}, CUT: {"uniform": [300, 900]}}
    alone = sim.run(scenario.with_settings(settings), VARIANTS, draws=2000, seed=5)
    t = grid.table
    point = t[(t[DELAY] == "{'uniform': [0, 6]}") & (t[CUT] == "{'uniform': [300, 900]}")]
    assert len(point) == 2 * 10  # two variants, ten outcomes each
    for row in alone.milestones.itertuples():
        got = point[(point.variant == row.variant) & (point.outcome == f"p_met {row.milestone}")]
        assert got.value.item() == row.p_met
    bands = alone.bands
    for month in ("2025-09", "2026-12"):
        for variant in VARIANTS:
            b = bands[(bands.variant == variant) & (bands.month.astype(str) == month)]
            for theater in ("iraq", "syria"):
                want = b[b.theater == theater]["mean"].item()
                got = point[
                    (point.variant == variant) & (point.outcome == f"mean level {theater} {month}")
                ]
                assert got.value.item() == want
    for row in alone.dates.itertuples():
        got = point[
            (point.variant == row.variant)
            & (point.outcome == f"median month {row.theater} {row.threshold}")
        ]
        month = got.month.item()
        assert str(row.p50) == month if not pd.isna(row.p50) else pd.isna(month)


def test_every_point_uses_the_same_random_numbers(scenario) -> None:
    # the same uniform numbers pushed through [300, 900] and [400, 1000]: every draw
    # cuts exactly 100 more, so the mean level moves by 100 (independent draws would
    # move it by 100 give or take about 3)
    axes = [(CUT, [{"uniform": [300, 900]}, {"uniform": [400, 1000]}])]
    t = sweep(scenario, axes, ["on-time"], 3000, 8).table
    level = t[t.outcome == "mean level iraq 2025-09"].value.to_numpy()
    assert abs(level[0] - level[1] - 100) <= 0.01


def test_a_point_is_the_same_however_its_settings_are_written(scenario) -> None:
    t = sweep(scenario, [(DELAY, [3, {"value": 3}])], ["as-reported"], 3000, 8).table
    a, b = (
        t[t[DELAY] == k].drop(columns=DELAY).reset_index(drop=True) for k in ("3", "{'value': 3}")
    )
    assert a.equals(b)


def test_a_deterministic_sweep_gives_the_central_run(scenario) -> None:
    t = sweep(scenario, [(DELAY, [0, 9])], ["slip-6"]).table
    for delay in (0, 9):
        run = sim.run(scenario.with_settings({DELAY: delay}), ["slip-6"])
        rows = t[t[DELAY] == delay]
        for ms in run.milestones.itertuples():
            assert rows[rows.outcome == f"p_met {ms.milestone}"].value.item() == float(ms.met)
        level = run.monthly[
            (run.monthly.theater == "iraq") & (run.monthly.month.astype(str) == "2026-12")
        ]
        assert rows[rows.outcome == "mean level iraq 2026-12"].value.item() == level.troops.item()


@pytest.mark.slow
def test_a_deterministic_sweep_steps_each_points_central_run_once(scenario, monkeypatch):
    # each point's central run was stepped for its threshold marks, then again for its
    # values; as tasks too, the table is the same
    from sim.analysis import outcomes as outcomes_module
    from sim.analysis import sweep as sweep_module

    axes = [(DELAY, [0, 3, 9]), (CUT, [300, 900])]
    here = sweep(scenario, axes, VARIANTS).table
    there = sweep(scenario, axes, VARIANTS, executor=InProcessParts(2)).table
    assert here.equals(there)
    steps = []

    def counted(stepped):
        def step(plan, inputs, *rest):
            steps.append(plan)
            return stepped(plan, inputs, *rest)

        return step

    for module in (sweep_module, outcomes_module):
        monkeypatch.setattr(module, "step", counted(module.step))
    assert sweep(scenario, axes, VARIANTS).table.equals(here)
    assert len(steps) == 3 * 2 * len(VARIANTS)


def test_the_first_key_varies_slowest_and_numbers_stay_numbers(scenario) -> None:
    t = sweep(scenario, [(DELAY, [0, 1]), (CUT, [300, 600, 900])], ["on-time"]).table
    points = t.drop_duplicates(subset=[DELAY, CUT])[[DELAY, CUT]].to_numpy().tolist()
    assert points == [[0, 300], [0, 600], [0, 900], [1, 300], [1, 600], [1, 900]]
    assert t[DELAY].dtype == np.int64 and t[CUT].dtype == np.int64


def test_points_run_as_tasks_give_the_same_table(scenario) -> None:
    axes = [(DELAY, [0, 2, 4, 6, 8])]
    here = sweep(scenario, axes, VARIANTS, 1000, 2).table
    there = sweep(scenario, axes, VARIANTS, 1000, 2, executor=InProcessParts(2)).table
    assert here.equals(there)


def test_a_bad_value_at_any_point_is_found_before_any_point_runs(scenario) -> None:
    with pytest.raises(sim.ScenarioError, match=r"^<overrides>:1:1: announcement\.delay: "):
        sweep(scenario, [(DELAY, [0, 3, "soon"])], VARIANTS, 10_000_000, 1)


def test_sweep_writes_csv_parquet_chart_and_run_json(tmp_path) -> None:
    out = tmp_path / "sw"
    result = invoke(
        "sweep",
        str(DEFAULT_SCENARIO),
        "--set",
        "announcement.delay=0..6:3",
        "--set",
        f"{CUT}=300",
        "-v",
        "as-reported",
        "-v",
        "on-time",
        "--draws",
        "500",
        "--seed",
        "1",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "run.json",
        "sweep.csv",
        "sweep.parquet",
        "sweep.png",
    ]
    csv = pd.read_csv(out / "sweep.csv")
    assert list(csv.columns) == [
        "scenario",
        DELAY,
        CUT,
        "variant",
        "outcome",
        "value",
        "month",
    ]
    assert len(csv) == 3 * 2 * 10
    parquet = pd.read_parquet(out / "sweep.parquet")
    assert parquet[DELAY].tolist() == csv[DELAY].tolist()
    assert np.allclose(parquet.value.fillna(-1), csv.value.fillna(-1), rtol=0, atol=0)
    record = json.loads((out / "run.json").read_text())
    assert record["sweep"]["keys"] == [DELAY, CUT] and record["sweep"]["points"] == 3
    assert "as-reported  iraq-exit" in result.output
    # (slip-6 at announcement.delay=0 is still called slip-6: the lines say so)
    assert "the swept values replace each variant's own" in result.output.splitlines()[1]


def test_a_sweep_of_a_key_no_variant_sets_says_nothing_of_replacing_theirs(tmp_path) -> None:
    out = tmp_path / "sw"
    args = ("sweep", str(DEFAULT_SCENARIO), "--set", f"{CUT}=300,600", "--out", str(out))
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "replace each variant's own" not in result.output


def test_a_sweep_of_one_value_says_it_is_one_point_not_zero_swept_keys(tmp_path) -> None:
    # "sweep.png is drawn for one or two swept keys; this sweep has 0"
    out = tmp_path / "sw"
    args = ["sweep", str(DEFAULT_SCENARIO), "-v", "on-time", "-q", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--set", "announcement.delay=3"])
    assert result.exit_code == 0, result.output
    assert "no key takes two or more values, so this sweep is one point" in result.stderr
    assert "this sweep has 0" not in result.stderr
    assert not (out / "sweep.png").exists() and (out / "sweep.csv").exists()


def test_three_swept_keys_write_no_chart_and_say_so(tmp_path) -> None:
    out = tmp_path / "sw"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DEFAULT_SCENARIO),
            "-v",
            "on-time",
            "-q",
            "--out",
            str(out),
            "--set",
            "announcement.delay=0,1",
            "--set",
            f"{CUT}=300,600",
            "--set",
            "theaters.iraq.initial=2400,2500",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sweep.png is drawn for one or two swept keys" in result.output
    assert not (out / "sweep.png").exists() and (out / "sweep.csv").exists()


@pytest.mark.parametrize(
    ("setting", "path", "found"),
    [
        ("announcement.delay=0,abc", "announcement.delay", "'abc'"),
        ("theaters.iraq.intial=1,2", "theaters.iraq.intial", "'intial'"),
        ("announcement.delay=3..1", "announcement.delay", "'3..1'"),
        # a value a range made that fails a check of the whole scenario is named with its
        # range (it said "found 3,000", a number nobody wrote)
        (
            "milestones.iraq-phase-1.target.reduce_by=2000..3000:500",
            "milestones.iraq-phase-1.target.reduce_by",
            "found 3,000 (a value of the range '2000..3000:500')",
        ),
        (
            "theaters.iraq.initial=-5..5:5",
            "theaters.iraq.initial",
            "found -5 (a value of the range '-5..5:5')",
        ),
    ],
)
def test_a_bad_swept_value_is_one_line_exit_2_and_nothing_written(
    tmp_path, setting: str, path: str, found: str
) -> None:
    out = tmp_path / "never"
    result = invoke("sweep", str(DEFAULT_SCENARIO), "--set", setting, "--out", str(out))
    assert result.exit_code == 2
    line = result.output.strip()
    assert "\n" not in line and line.startswith(f"forcesim: error: <command line>:1:1: {path}: ")
    assert found in line and "variant" not in line  # (given on the command line: no variant)
    assert not out.exists()


@pytest.mark.parametrize("text", ['=HYPERLINK("http://example.org/";"click")', "+1+1", "-1+cmd"])
def test_a_swept_text_a_spreadsheet_would_run_as_a_formula_is_refused(tmp_path, text) -> None:
    # sweep.csv wrote it as written: a spreadsheet opening the table ran it
    out = tmp_path / "never"
    key = "milestones.iraq-exit.description"
    result = invoke("sweep", str(DEFAULT_SCENARIO), "--set", f"{key}=fine,{text}", "-o", str(out))
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"forcesim: error: <command line>:1:1: {key}: expected text that does not begin "
        f"with {text[0]!r} (a spreadsheet opening the run's sweep.csv would run it as a "
        f"formula: reword it, or begin it with '), found {text!r}"
    )
    assert not out.exists()
    # a number is no formula: -3 is refused as a delay, not as text
    result = invoke("sweep", str(DEFAULT_SCENARIO), "--set", "announcement.delay=-3,0")
    assert "expected a delay of 0 months or more" in result.output


def test_a_key_swept_twice_is_refused(tmp_path) -> None:
    result = invoke(
        "sweep",
        str(DEFAULT_SCENARIO),
        "--set",
        "announcement.delay=1",
        "--set",
        "announcement.delay=2",
        "--out",
        str(tmp_path / "x"),
    )
    assert result.exit_code == 2 and "each key in one --set" in result.output


def test_a_sweep_of_a_choices_weights_names_them_without_a_unit_and_never_splits_a_number(
    scenario,
) -> None:
    from sim.plotting.labels import key_label, key_unit
    from sim.plotting.sweep import _wrap

    key = "announcement.delay.choice.weights"
    assert key_unit(key) == "weight"  # relative weights: not months
    assert key_unit("announcement.delay.choice.values") == "months"  # the delay's own unit
    assert key_label(scenario.doc, key) == "Announcement delay: weights of its choices"
    lines = _wrap("[30,25,15,12,10,5,3]", 14).split("\n")
    assert len(lines) > 1
    numbers = [x for line in lines for x in line.strip("[]").split(",") if x.strip()]
    assert [int(x) for x in numbers] == [30, 25, 15, 12, 10, 5, 3]


def test_a_sweep_without_pyarrow_says_sweep_parquet_was_not_written(tmp_path, monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    out = tmp_path / "sw"
    result = CliRunner().invoke(
        main,
        ["sweep", str(DEFAULT_SCENARIO), "-v", "on-time", "--set", "announcement.delay=0,3"]
        + ["--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert not (out / "sweep.parquet").exists()
    assert "sweep.parquet is written when pyarrow is installed" in result.output


def test_a_panel_of_a_milestone_whose_deadline_is_swept_names_no_single_deadline(
    scenario,
) -> None:
    from sim.plotting.sweep import plot_sweep

    key = "milestones.iraq-exit.deadline"
    sw = sweep(scenario, [(key, ["2026-06", "2027-06"])], ["on-time"], None, None)
    titles = [ax.get_title(loc="left") for ax in plot_sweep(sw)[0].figure.axes]
    assert "iraq-exit, deadline as swept" in titles
    assert "iraq-phase-1, deadline Sep 2025" in titles  # a deadline the sweep keeps
    assert not any("2026-12" in t for t in titles)  # the scenario's, which no point has


def test_sweep_takes_numpy_numbers_and_a_mapping_of_axes() -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    want = sim.sweep(sc, [("announcement.delay", [0, 3])], variants=["on-time"])
    got = sim.sweep(sc, {"announcement.delay": np.arange(0, 6, 3)}, variants=["on-time"])
    pd.testing.assert_frame_equal(got.table, want.table)


def test_sweep_refuses_a_key_twice_and_labels_that_do_not_match() -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(
        sim.ScenarioError,
        match=r"announcement\.delay: expected each key swept once, found 'announcement\.de",
    ):
        sim.sweep(sc, [("announcement.delay", [1, 2]), ("announcement.delay", [3])])
    with pytest.raises(sim.ScenarioError, match=r"labels: expected a label for each value"):
        sim.sweep(sc, [("announcement.delay", [1, 2])], labels=[["1"]])
    with pytest.raises(sim.ScenarioError, match=r"\(sweep\): expected axes as \(key, list"):
        sim.sweep(sc, [("announcement.delay", "03")])


@pytest.mark.parametrize("chunk", [0, -1, 2.5, True])
def test_a_chunk_that_is_no_positive_whole_number_is_refused(chunk) -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    # before: 0 meant the default, -1 and 2.5 failed inside numpy with a traceback
    with pytest.raises(sim.ScenarioError, match=r"chunk: expected a whole number of draws per"):
        sim.run(sc, variants=["on-time"], draws=10, seed=1, chunk=chunk)
    with pytest.raises(sim.ScenarioError, match=r"chunk: expected a whole number of draws per"):
        sim.sweep(sc, [("announcement.delay", [0])], draws=10, seed=1, chunk=chunk)
    with pytest.raises(sim.ScenarioError, match=r"chunk: expected a whole number of draws per"):
        sim.sensitivity(sc, draws=10, seed=1, chunk=chunk)


def test_a_value_given_twice_in_another_form_is_refused(tmp_path) -> None:
    # before: 300 and 300.0 ran the same point twice and every row of the table twice
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DEFAULT_SCENARIO),
            "--set",
            "milestones.iraq-phase-1.target.reduce_by=300,300.0",
            "-q",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "forcesim: error: <command line>:1:1: milestones.iraq-phase-1.target.reduce_by: "
        "expected each value once, found '300' and '300.0', the same value\n"
    )
    assert not (tmp_path / "x").exists()
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(sim.ScenarioError, match=r"delay: expected each value once, found '1' and"):
        sim.sweep(sc, {"announcement.delay": [1, np.int64(1)]})
    with pytest.raises(sim.ScenarioError, match=r"expected each value once, found \"\{'uniform'"):
        sim.sweep(sc, {"announcement.delay": [{"uniform": [0, 6]}, {"uniform": [0.0, 6]}]})


def test_a_sweep_of_more_draws_a_variant_than_one_ensemble_may_have_is_refused_up_front(
    tmp_path,
) -> None:
    # (601 points x 100,000,000 draws was accepted, and would have run for days)
    out = tmp_path / "never"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DEFAULT_SCENARIO),
            "--set",
            "announcement.delay=0..600",
            "--draws",
            "100000000",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "forcesim: error: <command line>:1:1: (sweep): expected a grid whose points x draws "
        "are at most 100,000,000 draws a variant, as one ensemble's (fewer points or fewer "
        "draws), found 601 points x 100,000,000 draws (60,100,000,000)\n"
    )
    assert not out.exists()


def test_a_sweep_of_exactly_the_most_draws_a_variant_passes_the_check() -> None:
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(sim.ScenarioError, match=r"2 points x 50,000,001 draws \(100,000,002\)"):
        sweep(scenario, {"announcement.delay": [0, 1]}, ["on-time"], 50_000_001, 1)
    # at the bound the check passes: refused next, for a reason of its own (no such variant)
    with pytest.raises(sim.ScenarioError, match="no-such"):
        sweep(scenario, {"announcement.delay": [0, 1]}, ["no-such"], 50_000_000, 1)


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.rglob("*.yaml")), ids=lambda p: p.stem)
def test_thresholds_from_the_central_runs_milestone_columns_equal_those_from_its_frame(path):
    # a sweep reads each point's thresholds off the central run's milestone columns
    # (no frame per variant and point): they must be the ensemble's, read off the frame
    from sim.analysis.summaries import thresholds
    from sim.model.draws import central_inputs
    from sim.model.stepper import step
    from sim.results import milestone_columns, milestone_frame

    sc = sim.load_scenario(path)
    for name in sc.variants:
        plan = sc.plan(name)
        out = step(plan, central_inputs(plan))
        columns = milestone_columns(sc.id, name, plan, out)
        assert thresholds(plan, columns) == thresholds(
            plan, milestone_frame(sc.id, name, plan, out)
        )


def _panel_pixels(ax, color: str) -> int:
    """How many pixels inside ``ax`` are drawn in ``color`` (within a small tolerance)."""
    from matplotlib.colors import to_rgb

    fig = ax.figure
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    box = ax.get_window_extent()
    height = image.shape[0]
    top, bottom = int(height - box.y1), int(height - box.y0)
    panel = image[top:bottom, int(box.x0) : int(box.x1)]
    want = np.array([round(255 * c) for c in to_rgb(color)])
    return int((np.abs(panel - want).max(axis=2) <= 12).sum())


def _p_met(sw, variant: str) -> pd.Series:
    t = sw.table
    return t[(t.variant == variant) & (t.outcome == "p_met iraq-phase-1")].value


@pytest.mark.slow
def test_sweep_lines_that_coincide_each_show_in_their_own_colour(scenario) -> None:
    import matplotlib.pyplot as plt

    from sim.colors import variant_colors
    from sim.plotting.sweep import plot_sweep

    # as-reported and slip-6-moving meet iraq-phase-1 at a delay of 0 and miss it after:
    # one path, drawn twice; the first one drawn must not vanish under the second
    both = ["as-reported", "slip-6-moving"]
    sw = sweep(scenario, [(DELAY, [0, 3, 6])], both, None, None)
    assert _p_met(sw, "as-reported").tolist() == _p_met(sw, "slip-6-moving").tolist() == [1, 0, 0]
    ax = plot_sweep(sw)[0]
    colors = variant_colors(sw.variants, list(sw.scenario.variants))
    try:
        for v in both:
            assert _panel_pixels(ax, colors[v]) > 200, v
    finally:
        plt.close(ax.figure)


def test_the_sweep_chart_says_swept_values_replace_the_variants_own_and_lines_only_join(
    scenario,
) -> None:
    # "on-time" at a delay of 12 drew 100 % under its own name with nothing saying it ran
    # late; a straight line from 100 % at 0 to 0 % at 3 read as 50 % at 1.5
    import matplotlib.pyplot as plt

    from sim.plotting.sweep import plot_sweep

    sw = sweep(scenario, [(DELAY, [0, 3, 6])], ["as-reported", "on-time"], None, None)
    fig = plot_sweep(sw)[0].figure
    try:
        text = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
        assert "The swept values replace each variant's own" in text
        assert "the lines join the values run, nothing between them is run" in text
    finally:
        plt.close(fig)
    # heat maps of two keys have no lines to explain
    two = sweep(scenario, [(DELAY, [0, 3]), (CUT, [300, 600])], ["as-reported"], None, None)
    fig = plot_sweep(two)[0].figure
    try:
        text = " ".join(t.get_text() for t in fig.texts).replace("\n", " ")
        assert "The swept values replace each variant's own." in text
        assert "lines join" not in text
    finally:
        plt.close(fig)


def test_sweep_end_labels_start_right_of_the_panel_where_its_gridlines_end(scenario) -> None:
    import matplotlib.pyplot as plt

    from sim.plotting.sweep import plot_sweep

    sw = sweep(scenario, [(DELAY, [0, 3, 6])], ["as-reported", "on-time"], None, None)
    axes = plot_sweep(sw)
    fig = axes[0].figure
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in axes:
            right = ax.get_window_extent(renderer).x1
            labels = [t for t in ax.texts if t.get_text()[:1].isdigit() or ":" in t.get_text()]
            assert labels
            for t in labels:
                assert t.get_window_extent(renderer).x0 >= right, t.get_text()
    finally:
        plt.close(fig)


def test_a_sweep_point_the_scenario_cannot_take_is_named_in_the_one_line(tmp_path):
    # it failed at a line of the file, with no word of which swept value broke it
    out = tmp_path / "sweep"
    res = CliRunner().invoke(
        main,
        [
            "sweep",
            str(DEFAULT_SCENARIO),
            "-q",
            "--set",
            "announcement.delay=0,3,20",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 2, res.output
    assert res.output.strip().endswith("at the sweep's point announcement.delay=20"), res.output
    assert len(res.output.strip().splitlines()) == 1 and not out.exists()


def test_a_sweep_point_the_scenario_cannot_take_is_named_in_the_errors_text_in_python():
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(sim.ScenarioError, match=r"at the sweep's point announcement\.delay=20$"):
        sweep(sc, {"announcement.delay": [0, 20]})


@pytest.mark.parametrize("written", ["0-12:3", "0...12", "0 to 12"])
def test_a_range_written_another_way_is_told_the_ranges_form(written):
    # it was read as a value, and refused as "a number, or a mapping with value/uniform…"
    from sim.io.settings import parse_axis

    with pytest.raises(sim.ScenarioError) as error:
        parse_axis(f"announcement.delay={written}")
    assert error.value.expected == "a value, or a range FROM..TO[:STEP] (two dots: 0..12:3)"
    assert error.value.found == repr(written)


@pytest.mark.parametrize("written", ["+1..3", "0..2:1e0", "1..3:1:1", "..3", "1..3:+1"])
def test_a_range_of_numbers_a_range_does_not_take_is_told_the_ranges_form(written):
    # +1..3 was refused as text a spreadsheet would run as a formula, 0..2:1e0 as "a
    # number, or a mapping with value/uniform…": neither said what a range takes
    from sim.io.settings import parse_axis

    with pytest.raises(sim.ScenarioError) as error:
        parse_axis(f"announcement.delay={written}")
    assert error.value.expected == (
        "a range FROM..TO[:STEP] of plain decimal numbers, a minus their only sign "
        "(0..12:3, -3..3:0.5)"
    )
    assert error.value.found == repr(written)


def test_months_and_negative_numbers_are_still_values_not_ranges():
    from sim.io.settings import parse_axis

    key, values = parse_axis("milestones.iraq-exit.deadline=2026-06,2026-12")
    assert [v.text for v in values] == ["2026-06", "2026-12"]
    key, values = parse_axis("theaters.iraq.initial=-3,5")
    assert [v.text for v in values] == ["-3", "5"]


def test_a_label_written_for_a_value_that_is_no_number_is_checked_as_text_too() -> None:
    # labels= of a mapping's value went into sweep.csv unchecked, "=HYPERLINK(...)"
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    axes = {"announcement.delay": [3, {"uniform": [0, 6]}]}
    with pytest.raises(sim.ScenarioError, match="expected text that does not begin with '='"):
        sweep(sc, axes, variants=["on-time"], labels=[['=HYPERLINK("http://x")', "u"]])
    # a number's label is read by a spreadsheet as that number: taken
    table = sweep(sc, axes, variants=["on-time"], labels=[["+3", "u"]]).table
    assert list(dict.fromkeys(table["announcement.delay"])) == ["+3", "u"]


@pytest.mark.parametrize("draws", [None, 2000])
def test_the_sweeps_subtitle_stands_clear_above_its_key(draws) -> None:
    # a third line of subtitle ran into the key below it
    import matplotlib.pyplot as plt

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    options = {"draws": draws, "seed": 1} if draws else {}
    axes = sim.plot_sweep(sweep(sc, {"announcement.delay": [0, 3, 6, 9, 12]}, **options))
    fig = axes[0].figure
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        (key,) = fig.legends
        top = key.get_window_extent(renderer).y1
        sub = [t for t in fig.texts if t.get_text().startswith(sc.title)]
        assert sub and all(t.get_window_extent(renderer).y0 > top + 4 for t in sub)
    finally:
        plt.close(fig)


def test_a_sweep_says_why_a_variant_whose_deadlines_move_reads_0_percent() -> None:
    # slip-6-moving read 0 % at every later announcement, as if it failed: its chance is
    # against each deadline as first set, and its own deadlines had moved
    import matplotlib.pyplot as plt

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    grid = {"announcement.delay": [0, 6]}
    axes = sim.plot_sweep(sweep(sc, grid, variants=["on-time", "slip-6-moving"], draws=100, seed=1))
    foot = " ".join(t.get_text() for t in axes[0].figure.texts)
    assert (
        "Variant slip-6-moving moves its deadlines with the announcement: shown against each "
        "deadline as first set, a later announcement reads 0 % though the moved deadline may "
        "be met." in foot
    )
    plt.close("all")
    axes = sim.plot_sweep(sweep(sc, grid, variants=["on-time"], draws=100, seed=1))
    assert "moves its deadlines" not in " ".join(t.get_text() for t in axes[0].figure.texts)
    plt.close("all")
