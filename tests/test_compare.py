"""Paired variants (sim.compare, `forcesim compare`): exact distributions of B − A
over common random numbers, the chart, the files, the errors."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, large_force_doc

import sim
from sim.analysis.compare import COMPARE_COLUMNS, compare
from sim.analysis.summaries import PERCENTILES
from sim.cli import main
from sim.errors import ForcesimWarning
from sim.io.files import write_csv
from sim.model.draws import Draws
from sim.model.stepper import step_dense

N, SEED = 400, 11


@pytest.fixture(scope="module")
def scenario() -> Any:
    return sim.load_scenario(DEFAULT_SCENARIO)


def _paired(
    scenario: Any, a: str, b: str, n: int, seed: int, theater: str
) -> tuple[np.ndarray, np.ndarray]:
    """Levels of ``theater`` under A and B, draw by draw, stepped directly (one chunk)."""
    pa, pb = scenario.plan(a), scenario.plan(b)
    oa = step_dense(pa, Draws(seed).take(pa, n))
    ob = step_dense(pb, Draws(seed).take(pb, n))
    return (
        oa.theaters[:, pa.theaters.index(theater), :].astype(np.int64),
        ob.theaters[:, pb.theaters.index(theater), :].astype(np.int64),
    )


def test_compare_of_a_variant_with_itself_gives_all_zero_differences(scenario: Any) -> None:
    # (the pairing checked: the command and sim.compare refuse a variant against itself)
    from sim.analysis.compare import _compare

    table = _compare(scenario, "slip-3", "slip-3", N, SEED, chunk=None, progress=False).table
    assert list(table.columns) == COMPARE_COLUMNS
    stats = ["mean", "min", *[f"p{q:02d}" for q in PERCENTILES], "max"]
    assert (table[stats] == 0).all().all()
    assert (table.p_b_greater == 0).all() and (table.p_b_less == 0).all()


def test_compare_percentiles_are_exact_over_the_per_draw_differences(scenario: Any) -> None:
    table = compare(scenario, "on-time", "slip-6-moving", N, SEED).table
    la, lb = _paired(scenario, "on-time", "slip-6-moving", N, SEED, "iraq")
    diff = np.sort(lb - la, axis=0)
    rows = table[table.theater == "iraq"].reset_index(drop=True)
    for q in PERCENTILES:
        k = max(math.ceil(q * N / 100), 1) - 1  # smallest value with >= q % at or below
        assert list(rows[f"p{q:02d}"]) == list(diff[k])
    assert list(rows["min"]) == list(diff[0]) and list(rows["max"]) == list(diff[-1])
    assert np.allclose(rows["mean"], diff.mean(axis=0), atol=5e-4)
    assert list(rows.p_b_greater) == list(np.round((diff > 0).mean(axis=0), 6))
    assert list(rows.p_b_less) == list(np.round((diff < 0).mean(axis=0), 6))


def test_slip_6_never_has_fewer_troops_in_iraq_than_on_time_and_more_before_phase_one(
    scenario: Any,
) -> None:
    # the model, draw by draw: departures start later and the calendar deadlines
    # hold, so slip-6 keeps at least as many troops in every draw and month ...
    la, lb = _paired(scenario, "on-time", "slip-6", N, SEED, "iraq")
    assert (lb >= la).all()
    plan = scenario.plan("slip-6")
    phase_1 = next(m.month for m in plan.milestones if m.id == "iraq-phase-1")
    # ... strictly more in every draw between the start and the phase-1 deadline,
    # and the same from that deadline on
    assert (lb[:, 1:phase_1] > la[:, 1:phase_1]).all()
    assert (lb[:, phase_1:] == la[:, phase_1:]).all()
    # and the paired summary says the same
    table = compare(scenario, "on-time", "slip-6", N, SEED).table
    iraq = table[table.theater == "iraq"].reset_index(drop=True)
    assert (iraq["min"] >= 0).all() and (iraq.p_b_less == 0).all()
    assert (iraq.p_b_greater[1:phase_1] == 1).all()
    assert (iraq.p_b_greater[phase_1:] == 0).all() and (iraq["max"][phase_1:] == 0).all()
    syria = table[table.theater == "syria"]
    assert (syria[["min", "max"]] == 0).all().all()


def test_compare_mean_is_the_difference_of_the_ensemble_means_with_the_same_draws(
    scenario: Any,
) -> None:
    run = sim.run(scenario, ["on-time", "residual"], draws=N, seed=SEED)
    b = run.bands
    mean_a = b[(b.variant == "on-time") & (b.theater == "iraq")]["mean"].to_numpy()
    mean_b = b[(b.variant == "residual") & (b.theater == "iraq")]["mean"].to_numpy()
    table = compare(scenario, "on-time", "residual", N, SEED).table
    got = table[table.theater == "iraq"]["mean"].to_numpy()
    assert np.allclose(got, mean_b - mean_a, atol=2e-3)


def test_compare_output_bytes_are_identical_across_chunk_sizes(
    scenario: Any, tmp_path: Path
) -> None:
    paths = []
    for chunk in (7, 64, 10_000):
        path = tmp_path / f"chunk-{chunk}.csv"
        write_csv(compare(scenario, "on-time", "slip-6-moving", N, SEED, chunk=chunk).table, path)
        paths.append(path)
    assert len({p.read_bytes() for p in paths}) == 1


@pytest.mark.slow
def test_compare_cli_writes_csv_png_and_run_json_the_same_for_any_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = [
        "compare",
        str(DEFAULT_SCENARIO),
        "--variant",
        "on-time",
        "--variant",
        "slip-6",
        "--draws",
        "200",
        "--seed",
        "5",
    ]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    out = tmp_path / "out" / "iraq-syria-2024-compare-on-time-vs-slip-6"
    assert sorted(p.name for p in out.iterdir()) == ["compare.csv", "compare.png", "run.json"]
    assert "P(B>A)" in first.stdout
    header = (out / "compare.csv").read_text().splitlines()[0]
    assert header == ",".join(COMPARE_COLUMNS)
    record = json.loads((out / "run.json").read_text())
    assert record["ensemble"]["draws"] == 200 and record["ensemble"]["seed"] == 5
    assert record["compare"]["a"] == "on-time" and record["compare"]["b"] == "slip-6"
    before = {n: (out / n).read_bytes() for n in ("compare.csv", "compare.png")}
    again = runner.invoke(main, [*args, "--chunk", "13", "--out", "other", "--quiet"])
    assert again.exit_code == 0, again.output
    assert "P(B>A)" not in again.stdout
    for name, data in before.items():
        assert (tmp_path / "other" / name).read_bytes() == data, name


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--variant", "on-time"], "exactly two --variant"),
        (
            ["--variant", "on-time", "--variant", "slip-6", "--variant", "slip-3"],
            "exactly two --variant",
        ),
        (["--variant", "on-time", "--variant", "slip6"], "did you mean 'slip-6'"),
        (  # (a table of zeros was written)
            ["--variant", "on-time", "--variant", "on-time", "--draws", "10", "--seed", "1"],
            "--variant: expected two different variants, A then B (a variant less itself is 0 "
            "troops in every draw), found 'on-time' twice",
        ),
        (["--variant", "on-time", "--variant", "slip-6", "--no-draws"], "--draws N and --seed S"),
        (["--variant", "on-time", "--variant", "slip-6", "--draws", "10", "--no-seed"], "--seed"),
        (
            ["--variant", "on-time", "--variant", "slip-6", "--draws", "0"],
            "<command line>:1:1: --draws: expected a whole number from 1 to",
        ),
        (
            ["--variant", "on-time", "--variant", "slip-6", "--draws", "-3"],
            "<command line>:1:1: --draws: expected a whole number from 1 to",
        ),
        (
            ["--variant", "on-time", "--variant", "slip-6", "--draws", "lots"],
            "--draws: expected a whole number from 1 to 100,000,000, found 'lots'",
        ),
        (
            ["--variant", "on-time", "--variant", "slip-6", "--seed", "x"],
            "<command line>:1:1: --seed: expected a whole number from 0 to",
        ),
    ],
)
def test_compare_cli_errors_exit_2_with_one_line(
    args: list[str], fragment: str, tmp_path: Path
) -> None:
    argv = ["compare", str(DEFAULT_SCENARIO), "--out", str(tmp_path / "out")]
    argv += [a for a in args if not a.startswith("--no-")]
    if "--draws" not in args and "--no-draws" not in args:
        argv += ["--draws", "10"]
    if "--seed" not in args and "--no-seed" not in args and "--no-draws" not in args:
        argv += ["--seed", "1"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forcesim: error: ")
    assert fragment in lines[0]
    assert not (tmp_path / "out").exists()


def test_compare_memory_does_not_grow_with_the_number_of_draws(scenario: Any) -> None:
    peaks = []
    for n in (2_000, 20_000):
        tracemalloc.start()
        compare(scenario, "on-time", "slip-6", n, SEED, chunk=1_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < peaks[0] * 1.25


def test_compare_holds_its_counts_and_little_more_however_long_differences_are_held(
    write: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # differences of up to 100,000 troops either way over 60 months: 96 MB of counts.
    # Differences held over months take rows only where a stretch starts or ends, and
    # the table reads the counts a block of months at a time: once every month's
    # differences, the running sums of all months and a product as large were held too
    from sim.analysis import compare as compare_module

    doc = large_force_doc()
    doc["variants"] = {
        "base": {"description": "as written"},
        "late": {
            "description": "a year later",
            "overrides": {"milestones": {"alpha-out": {"deadline": "2027-06"}}},
        },
    }
    scenario = sim.load_scenario(write(doc))
    monkeypatch.setattr(compare_module, "BLOCK_BYTES", 1 << 20)
    counts = 60 * (2 * 100_000 + 1) * 8
    compare(scenario, "base", "late", 100, SEED)  # warm caches
    tracemalloc.start()
    try:
        compare(scenario, "base", "late", 2_000, SEED)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * counts


def test_compare_table_made_month_block_by_block_is_the_same(
    scenario: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.analysis import compare as compare_module

    whole = compare(scenario, "on-time", "slip-6", 3_000, SEED).table
    monkeypatch.setattr(compare_module, "BLOCK_BYTES", 1)  # one month per block
    blocks = compare(scenario, "on-time", "slip-6", 3_000, SEED).table
    pd.testing.assert_frame_equal(whole, blocks)


def test_compare_python_api_returns_table_and_plot(tmp_path: Path) -> None:

    cmp = compare(DEFAULT_SCENARIO, "on-time", "slip-6", 100, 3)
    assert "slip-6 − on-time" in repr(cmp)
    axes = sim.plot(cmp, theaters=["iraq", "syria"])
    assert len(axes) == 4  # a fan and a probability panel per theater
    assert any(line.get_gid() == "deadline" for line in axes[0].get_lines())
    # by default a theater where no draw differs is a line of the foot, not two panels
    folded = sim.plot(cmp)
    assert len(folded) == 2 and folded[0].get_title(loc="left") == "Iraq"
    foot = folded[0].get_figure(root=True).subfigs[1]._supxlabel.get_text()
    assert "No difference in any of the 100 draws, not drawn: Syria." in foot
    fig = axes[0].get_figure(root=True)
    assert fig.get_size_inches()[0] * fig.dpi >= 1600
    plt = __import__("matplotlib.pyplot").pyplot
    _, two = plt.subplots(2, 1)
    assert sim.plot(cmp, ax=two) == list(two)
    _, three = plt.subplots(3, 1)
    with pytest.raises(ValueError, match="expected 2 axes"):
        sim.plot(cmp, ax=list(three))


@pytest.mark.slow
def test_the_compare_charts_share_axis_writes_a_space_before_the_percent_sign() -> None:
    # its ticks read "0%", "50%", "100%", where every other share forcesim draws (the fan's
    # deadlines, the sweep's axis, the tornado) reads "50 %"
    import matplotlib.pyplot as plt

    axes = sim.plot(compare(DEFAULT_SCENARIO, "on-time", "slip-6", 100, 3))
    fig = axes[0].get_figure(root=True)
    fig.canvas.draw()
    labels = [t.get_text() for t in axes[1].get_yticklabels()]
    assert labels == ["0 %", "50 %", "100 %"], labels
    plt.close(fig)


# (base and later cover different months: the comparison says it leaves some out)
@pytest.mark.filterwarnings("ignore::sim.analysis.compare.Uncompared")
@pytest.mark.slow
@pytest.mark.parametrize("late", [False, True], ids=["on-time", "execution-delays"])
@pytest.mark.parametrize(("a", "b"), [("base", "fixed"), ("fixed", "base"), ("base", "later")])
def test_compare_by_held_stretches_equals_the_differences_of_every_stepped_month(
    write, monkeypatch, late, a, b
):
    # sites, residuals that come back, random delays and a variant on a later calendar:
    # the grouped path must count exactly what the month-by-month stepper's levels give
    from test_ensemble import rich_doc

    doc = rich_doc(late)
    doc["variants"]["later"] = {
        "description": "starts two months later",
        "overrides": {"calendar": {"start": "2024-03"}},
    }
    sc = sim.load_scenario(write(doc))
    fast = compare(sc, a, b, 1_500, 3, chunk=400).table
    monkeypatch.setattr("sim.analysis.compare._whole_inputs", lambda plan: False)
    stepped = compare(sc, a, b, 1_500, 3, chunk=1_500).table
    assert fast.equals(stepped)
    assert (fast.p_b_greater + fast.p_b_less).max() > 0  # the variants do differ


# (base and later cover different months: the comparison says it leaves some out)
@pytest.mark.filterwarnings("ignore::sim.analysis.compare.Uncompared")
@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), [("base", "fixed"), ("fixed", "base"), ("base", "later")])
def test_compare_of_large_groups_month_by_month_equals_the_stepped_differences(
    write, monkeypatch, a, b
):
    # a large group counts a moving month from each plan's levels of that month alone
    # (a held level read in place, a ramp into kept room), from the lowest difference
    # the series can take; with BLOCK_CELLS 1 every group is large, and with ROW_WIDTH
    # 0 each such month is counted from its own lowest difference instead
    from test_ensemble import calls_of, rich_doc

    import sim.analysis.compare as compare_module

    doc = rich_doc(True)
    doc["variants"]["later"] = {
        "description": "starts two months later",
        "overrides": {"calendar": {"start": "2024-03"}},
    }
    sc = sim.load_scenario(write(doc))
    monkeypatch.setattr(compare_module, "BLOCK_CELLS", 1)
    tables, month_adds = [], []
    for width in (compare_module.ROW_WIDTH, 0):
        monkeypatch.setattr(compare_module, "ROW_WIDTH", width)
        rows = calls_of(monkeypatch, compare_module._PairedCounts, "_add_row")
        added = calls_of(monkeypatch, compare_module._PairedCounts, "_add")
        tables.append(compare(sc, a, b, 1_500, 3, chunk=400).table)
        month_adds.append(sum(len(c) == 3 for c in added))  # (not a held stretch)
        monkeypatch.undo()
        monkeypatch.setattr(compare_module, "BLOCK_CELLS", 1)
    assert rows and month_adds[1] - month_adds[0] == len(rows)
    monkeypatch.setattr("sim.analysis.compare._whole_inputs", lambda plan: False)
    stepped = compare(sc, a, b, 1_500, 3, chunk=1_500).table
    assert tables[0].equals(stepped) and tables[1].equals(stepped)
    assert (stepped.p_b_greater + stepped.p_b_less).max() > 0


@pytest.mark.slow
def test_compare_of_draws_each_with_its_own_timing_counts_series_by_series_exactly(
    write, monkeypatch
):
    # every milestone late at random: nearly every draw has its own timing key, so each
    # series' draws are grouped by its own windows in A and in B; gamma's residual starts
    # with alpha/north's milestone, whose months must then group gamma
    from test_ensemble import calls_of, many_keys_doc

    import sim.analysis.compare as compare_module

    sc = sim.load_scenario(write(many_keys_doc()))
    routed = calls_of(monkeypatch, compare_module._PairedCounts, "_add_by_series")
    fast = compare(sc, "base", "fixed", 2_000, 5, chunk=700).table
    assert len(routed) == 3
    monkeypatch.setattr("sim.analysis.compare._whole_inputs", lambda plan: False)
    stepped = compare(sc, "base", "fixed", 2_000, 5, chunk=2_000).table
    assert fast.equals(stepped)
    assert (fast.p_b_greater + fast.p_b_less).max() > 0


def test_a_variant_compared_with_itself_is_refused_in_python_too():
    sc = sim.load_scenario(sim.default_scenario())
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: b: expected a variant other"):
        sim.compare(sc, "on-time", "on-time", draws=10, seed=1)


def test_a_window_alike_in_both_plans_is_computed_once_and_the_differences_stay_exact(
    scenario: Any, monkeypatch: Any
) -> None:
    # slip-6-moving steps Iraq's exit through the levels of on-time, six months later: a
    # group large enough to be counted month by month computes each month once for
    # both, and every percentile is still that of the draws stepped one by one
    import sim.analysis.compare as cmp

    n = 40_000
    found = []
    alike_windows = cmp._alike_windows

    def seen(*args: Any) -> Any:
        got = alike_windows(*args)
        found.append(bool(got))
        return got

    monkeypatch.setattr(cmp, "_alike_windows", seen)
    table = compare(scenario, "on-time", "slip-6-moving", n, SEED).table
    assert any(found)
    la, lb = _paired(scenario, "on-time", "slip-6-moving", n, SEED, "iraq")
    diff = np.sort(lb - la, axis=0)
    rows = table[table.theater == "iraq"].reset_index(drop=True)
    for q in PERCENTILES:
        k = max(math.ceil(q * n / 100), 1) - 1
        assert list(rows[f"p{q:02d}"]) == list(diff[k]), q
    assert list(rows.p_b_greater) == list(np.round((diff > 0).mean(axis=0), 6))


def test_compare_of_one_draw_says_one_paired_draw(tmp_path) -> None:
    from sim.cli import main

    args = ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "1", "--seed", "1"]
    res = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "; 1 paired draw (seed 1)" in res.stdout and "1 paired draws" not in res.stdout


def test_no_difference_is_claimed_only_where_no_draw_differs_not_only_the_percentiles() -> None:
    # the panel said "no difference in any of the draws" from its 5th and 95th percentiles
    from types import SimpleNamespace

    from sim.plotting.compare import _no_difference

    zero = {c: [0, 0] for c in ("p05", "p10", "p25", "p50", "p75", "p90", "p95", "min")}
    table = pd.DataFrame({"theater": ["t", "t"], **zero, "max": [0, 3]})
    central = pd.DataFrame({"theater": ["t", "t"], "difference": [0, 0]})
    assert not _no_difference(SimpleNamespace(table=table, central=central), "t")  # type: ignore[arg-type]
    table["max"] = [0, 0]
    assert _no_difference(SimpleNamespace(table=table, central=central), "t")  # type: ignore[arg-type]


def test_plot_of_a_comparison_refuses_variants_it_draws_its_two(tmp_path) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    out = tmp_path / "cmp"
    args = ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "50", "--seed", "1"]
    assert CliRunner().invoke(main, [*args, "-q", "-o", str(out)]).exit_code == 0
    result = CliRunner().invoke(main, ["plot", str(out), "-v", "on-time"])
    assert result.exit_code == 2
    assert (
        "-v: expected variants chosen only of a run's directory (a comparison draws its two "
        "variants, a backtest every variant's profiles), found 'on-time' of "
    ) in result.output


UNEVEN = """\
id: uneven
title: Uneven variants
as_of: 2024-09-06
sources: [{id: s, title: t, publisher: p, date: 2024-09-06}]
calendar: {start: 2024-09, end: 2025-06}
announcement: {expected: 2024-09, delay: {uniform: [0, 2], assumption: a}}
theaters:
  iraq: {name: Iraq, initial: {value: 2500, source: s}}
  syria: {name: Syria, initial: {value: 900, source: s}}
variants:
  a: {description: a, overrides: {}}
  no-syria: {description: b, overrides: {theaters: {syria: null}}}
  longer: {description: d, overrides: {calendar: {end: 2026-06}}}
  apart:
    description: c
    overrides:
      calendar: {start: 2025-07, end: 2025-12}
"""


def test_a_comparison_names_the_theaters_and_months_only_one_variant_has(tmp_path) -> None:
    # B removed Syria's 900 troops, and the table, the chart and the command said nothing
    path = tmp_path / "uneven.yaml"
    path.write_text(UNEVEN, encoding="utf-8")
    with pytest.warns(ForcesimWarning) as caught:
        cmp = compare(path, "a", "no-syria", draws=50, seed=1)
    assert [str(w.message) for w in caught] == [
        "no-syria − a leaves out syria, which only a has: B − A needs both"
    ]
    assert set(cmp.table.theater) == {"iraq"}
    axes = sim.plot(cmp)
    from matplotlib.text import Text

    texts = [t.get_text() for t in axes[0].get_figure(root=True).findobj(Text)]
    assert any("\nLeft out, B − A needing both: syria, which only a has." in t for t in texts)
    with pytest.warns(ForcesimWarning, match=r"2025-07\.\.2026-06, which only longer covers"):
        compare(path, "a", "longer", draws=50, seed=1)
    out = CliRunner().invoke(
        main,
        [
            "compare",
            str(path),
            "-v",
            "a",
            "-v",
            "no-syria",
            "--draws",
            "50",
            "--seed",
            "1",
            "-o",
            str(tmp_path / "cmp"),
            "-q",
        ],
    )
    assert out.exit_code == 0
    assert "warning: no-syria − a leaves out syria, which only a has" in out.output


def test_variants_whose_calendars_share_no_month_are_refused_at_the_calendar_one_sets(
    tmp_path,
) -> None:
    path = tmp_path / "uneven.yaml"
    path.write_text(UNEVEN, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as caught:
        compare(path, "a", "apart", draws=50, seed=1)
    line = UNEVEN.splitlines().index("      calendar: {start: 2025-07, end: 2025-12}") + 1
    assert str(caught.value).startswith(
        f"{path}:{line}:7: variants.apart.overrides.calendar: expected variants 'a' and "
        "'apart' with calendars that overlap, found 2024-09..2025-06 and 2025-07..2025-12"
    )
