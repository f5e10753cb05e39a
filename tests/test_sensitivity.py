"""``forcesim sensitivity``: each input's lowest and highest tenth of one ensemble's
draws (exact ranks, ties by draw order), the tornado, and Sobol indices."""

from __future__ import annotations

import json
import math
import re
import warnings
import weakref
from typing import Any, ClassVar

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, InProcessParts

import sim
from sim.analysis.accumulator import Accumulator
from sim.analysis.outcomes import measure, outcomes
from sim.analysis.sensitivity import (
    COLUMNS,
    SOBOL_COLUMNS,
    Tenths,
    _marks,
    _rows,
    sensitivity,
    uncertain_inputs,
)
from sim.analysis.summaries import level_bound, series
from sim.cli import main
from sim.model.draws import Draws
from sim.months import format_month
from sim.plotting.labels import input_label

DOMINANT = """\
id: dominant
title: one input dominates
as_of: 2024-01
calendar: {start: 2024-01, end: 2025-12}
announcement:
  expected: 2024-01
  delay: {choice: {values: [0, 1, 2, 8], weights: [4, 3, 2, 1]}}
theaters:
  alpha:
    initial: {uniform: [995, 1005]}
milestones:
  alpha-cut:
    theater: alpha
    deadline: 2024-06
    target: {reduce_by: {uniform: [0, 900]}}
  alpha-out:
    theater: alpha
    deadline: 2025-06
    target: {level: 0}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def dominant(tmp_path_factory) -> sim.Scenario:
    path = tmp_path_factory.mktemp("dominant") / "dominant.yaml"
    path.write_text(DOMINANT, encoding="utf-8")
    return sim.load_scenario(path)


@pytest.fixture(scope="module")
def tenths(dominant: sim.Scenario):
    return sensitivity(dominant, None, 3001, 4, chunk=512)


def test_the_dominant_input_ranks_first(tenths) -> None:
    t = tenths.table
    level = t[t.outcome == "mean level alpha 2024-06"]
    assert level.input.iloc[0] == "milestones.alpha-cut.target.reduce_by"
    narrow = level[level.input == "theaters.alpha.initial"]
    assert narrow.index[0] == level.index[-1] and narrow.swing.item() < 0.05 * level.swing.iloc[0]
    met = t[t.outcome == "p_met alpha-cut"]
    assert met.input.iloc[0] == "announcement.delay"
    assert list(t.columns) == COLUMNS


def test_a_fixed_quantity_is_not_an_input(dominant: sim.Scenario) -> None:
    paths = [i.path for i in uncertain_inputs(dominant.plan("base"))]
    assert paths == [
        "announcement.delay",
        "theaters.alpha.initial",
        "milestones.alpha-cut.target.reduce_by",
    ]  # alpha-out's level 0 is fixed


def _brute_force(scenario: sim.Scenario, draws: int, seed: int) -> dict[tuple[str, str], tuple]:
    """Every draw in memory, ranked by (value, draw index): the outcomes of the lowest
    and highest tenth, as the streaming analysis must give them."""
    plan = scenario.plan("base")
    marks = _marks(scenario, "base", plan)
    outs = outcomes(plan, marks)
    everything = Draws(seed).take(plan, draws)
    tenth = draws // 10
    sel = series(plan)
    out = {}
    for inp in uncertain_inputs(plan):
        order = np.lexsort((np.arange(draws), inp.values(everything)))
        sides = []
        for rows in (np.sort(order[:tenth]), np.sort(order[-tenth:])):
            acc = Accumulator(
                plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], marks
            )
            acc.add_draws(_rows(everything, rows))
            assert acc.n == tenth
            sides.append(measure(acc, outs))
        for o, lo, hi in zip(outs, *sides, strict=True):
            out[(inp.path, o.name)] = (lo, hi)
    return out


def test_tenths_are_exact_ranks_with_ties_broken_by_draw_order(dominant, tenths) -> None:
    want = _brute_force(dominant, 3001, 4)
    plan = dominant.plan("base")
    for row in tenths.table.itertuples():
        lo, hi = want[(row.input, row.outcome)]
        if row.outcome.startswith("median month"):
            lo, hi = (None if v is None else format_month(plan.start + v) for v in (lo, hi))
        assert (row.low, row.high) == (lo, hi), (row.input, row.outcome)


def test_the_delays_tenths_take_the_boundary_value_in_draw_order(tenths) -> None:
    # 40 % of draws have no delay: the lowest tenth is the first 300 of them
    summary = {s.path: s for s in tenths.inputs["base"]}["announcement.delay"]
    assert summary.low_values == (0, 0)
    assert summary.high_values[1] == 8


def test_parts_on_an_executor_give_the_same_table(dominant, tenths) -> None:
    there = sensitivity(dominant, None, 3001, 4, chunk=300, executor=InProcessParts(3))
    assert there.table.equals(tenths.table)
    assert there.overall == tenths.overall


class CountedTenths(Tenths):
    """A :class:`Tenths` that lists (weakly) each one read back from a part, and at each
    merge how many of them are alive."""

    made: ClassVar[list[weakref.ref[CountedTenths]]] = []
    alive: ClassVar[list[int]] = []

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        CountedTenths.made.append(weakref.ref(self))

    def merge(self, other: Tenths) -> None:
        CountedTenths.alive.append(sum(ref() is not None for ref in CountedTenths.made))
        super().merge(other)


def test_the_tenths_of_parts_are_merged_one_at_a_time_not_all_held(
    dominant, tenths, monkeypatch
) -> None:
    # every part's tenths (up to TENTHS_BYTES of accumulators each) were gathered at once
    # and merged after, all of them held in the command's process
    CountedTenths.made.clear()
    CountedTenths.alive.clear()
    monkeypatch.setattr("sim.analysis.sensitivity.Tenths", CountedTenths)
    there = sensitivity(dominant, None, 3001, 4, chunk=300, executor=InProcessParts(4))
    assert there.table.equals(tenths.table)
    assert CountedTenths.alive and set(CountedTenths.alive) == {2}


@pytest.mark.slow
@pytest.mark.parametrize("parts", [None, 3], ids=["in-process", "executor"])
def test_variants_counted_side_by_side_give_each_variants_own_table(parts) -> None:
    # the first pass takes every variant's draws together (a quantity they share drawn
    # once); each variant's rows must be those of the variant analysed alone
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    names = ["as-reported", "slip-6-moving", "residual"]

    def run(variants: list[str]) -> sim.Sensitivity:
        executor = None if parts is None else InProcessParts(parts)
        return sensitivity(sc, variants, 2_003, 9, chunk=300, executor=executor)

    together = run(names)
    for name in names:
        alone = run([name])
        mine = together.table[together.table.variant == name].reset_index(drop=True)
        assert mine.equals(alone.table.reset_index(drop=True)), name
        assert together.inputs[name] == alone.inputs[name]
        assert {k: v for k, v in together.overall.items() if k[0] == name} == alone.overall


def test_overall_p_met_is_the_runs(dominant, tenths) -> None:
    run = sim.run(dominant, draws=3001, seed=4)
    for r in run.milestones.itertuples():
        assert tenths.overall[("base", f"p_met {r.milestone}")] == r.p_met


def test_execution_delays_and_unreported_troops_are_inputs_and_count_in_p_met(write) -> None:
    late = sim.load_scenario(
        write(
            DOMINANT.replace(
                "    initial: {uniform: [995, 1005]}",
                "    initial: {uniform: [995, 1005]}\n    unreported: {uniform: [0, 200]}",
            ).replace(
                "    deadline: 2024-06\n",
                "    deadline: 2024-06\n    delay: {choice: {values: [0, 3]}}\n",
            )
        )
    )
    paths = [inp.path for inp in uncertain_inputs(late.plan("base"))]
    assert "milestones.alpha-cut.delay" in paths and "theaters.alpha.unreported" in paths
    table = sensitivity(late, None, 2001, 5, chunk=300)
    run = sim.run(late, draws=2001, seed=5)
    assert table.overall[("base", "p_met alpha-cut")] == run.milestones.p_met.iloc[0]
    met = table.table[table.table.outcome == "p_met alpha-cut"].set_index("input")
    # the late tenth never meets the deadline; the on-time tenth does when announced in time
    assert met.loc["milestones.alpha-cut.delay", "high"] == 0
    initial = met.loc["theaters.alpha.initial"]  # the official start, not the whole force
    assert initial.low <= initial.high + 1


def test_too_few_draws_or_no_uncertain_input_are_refused(dominant, write) -> None:
    with pytest.raises(sim.ScenarioError, match=r"draws: expected at least 10 draws"):
        sensitivity(dominant, None, 9, 1)
    fixed = sim.load_scenario(
        write(
            DOMINANT.replace("{uniform: [995, 1005]}", "1000")
            .replace("{uniform: [0, 900]}", "300")
            .replace("{choice: {values: [0, 1, 2, 8], weights: [4, 3, 2, 1]}}", "0")
        )
    )
    with pytest.raises(sim.ScenarioError, match=r"variants: expected a variant with an uncertain"):
        sensitivity(fixed, None, 100, 1)


@pytest.mark.slow
def test_sobol_ranks_the_dominant_input_first(dominant) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sensitivity(dominant, None, 512, 3, method="sobol")
    t = s.table
    assert list(t.columns) == SOBOL_COLUMNS
    level = t[t.outcome == "level alpha 2024-06"].set_index("input")
    assert level.total.idxmax() == "milestones.alpha-cut.target.reduce_by"
    assert level.total["theaters.alpha.initial"] < 0.01  # the narrow input barely counts
    met = t[t.outcome == "met alpha-cut"].set_index("input")
    assert met.total.idxmax() == "announcement.delay"


def test_sobol_needs_a_power_of_two_worded_alike_in_code_and_on_the_command_line(
    dominant, tmp_path
) -> None:
    from sim.analysis.sensitivity import SOBOL_BASE

    with pytest.raises(sim.ScenarioError) as raised:
        sensitivity(dominant, None, 1000, 3, method="sobol")
    assert raised.value.expected == SOBOL_BASE and raised.value.path == "draws"
    got = invoke(
        "sensitivity",
        "--method",
        "sobol",
        "--draws",
        "1000",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "s"),
    )
    assert got.exit_code == 2 and f"expected {SOBOL_BASE}, found '1000'" in got.output
    assert not (tmp_path / "s").exists()


def test_sobol_refuses_more_model_runs_than_an_ensemble_may_have_draws(dominant) -> None:
    # 2**26 base samples of 3 inputs are 2**26 * 5 runs: before the fix SALib built the
    # whole sample first and the command died of a MemoryError (or the machine ran out)
    with pytest.raises(
        sim.ScenarioError,
        match=r"^<arguments>:1:1: draws: expected a base sample size N whose N \(inputs \+ 2\) "
        r"model runs are at most 100,000,000 \(variant 'base' has 3 uncertain inputs\), "
        r"found 67,108,864 \(335,544,320 runs\)",
    ):
        sensitivity(dominant, None, 2**26, 3, method="sobol")


def test_inputs_are_labelled_in_words_with_their_range() -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    plan = sc.plan("as-reported")
    labels = [input_label(sc.doc, i.path, i.quantity) for i in uncertain_inputs(plan)]
    assert labels == [
        "Announcement delay (0, 1, 2, 3, 6, 9 or 12 months)",
        "Troops leaving Iraq by iraq-phase-1 (300–900 troops)",
        "Size of the advisory residual in Iraq (150–600 troops, 40 % chance (else 0))",
        "Troops left out of official figures in Syria (0–1,200 troops, 50 % chance (else 0))",
    ]


@pytest.mark.slow
def test_sensitivity_writes_its_files(tmp_path) -> None:
    out = tmp_path / "sens"
    result = invoke(
        "sensitivity",
        str(DEFAULT_SCENARIO),
        "-v",
        "as-reported",
        "-v",
        "on-time",
        "--draws",
        "2000",
        "--seed",
        "1",
        "--set",
        "residuals.advisory.size.probability=0.8",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "sensitivity.csv", "tornado.png"]
    csv = pd.read_csv(out / "sensitivity.csv", keep_default_na=False)
    assert list(csv.columns) == COLUMNS
    assert set(csv.variant) == {"as-reported", "on-time"}
    record = json.loads((out / "run.json").read_text())
    assert record["set"] == {"residuals.advisory.size.probability": 0.8}
    assert record["sensitivity"] == {"method": "tenths", "draws": 2000, "seed": 1}
    assert "as-reported  iraq-exit: announcement.delay moves it most" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--draws", "100"], "<command line>:1:1: --draws: expected --seed S with --draws N"),
        ([], "<command line>:1:1: --draws: expected --draws N and --seed S (this runs"),
        (
            ["--draws", "100", "--seed", "1", "--set", "announcement.delay=soon"],
            "<command line>:1:1: announcement.delay: expected",
        ),
        (
            # (it said "--workers and --scheduler run the tenths method only": no option named)
            ["--draws", "100", "--seed", "1", "--method", "sobol", "--workers", "2"],
            "forcesim: error: <command line>:1:1: --workers: expected --method tenths",
        ),
        (
            ["--draws", "100", "--seed", "1", "--method", "sobol", "--scheduler", "tcp://h:1"],
            "forcesim: error: <command line>:1:1: --scheduler: expected --method tenths",
        ),
        (
            # (it said "<arguments>:1:1: draws: ..., found 1,000": neither flag nor text)
            ["--draws", "1000", "--seed", "1", "--method", "sobol"],
            "forcesim: error: <command line>:1:1: --draws: expected a base sample size that is "
            "a power of two for Sobol' sequences (e.g. 4096), found '1000'",
        ),
    ],
)
def test_bad_sensitivity_arguments_are_one_line_and_write_nothing(tmp_path, args, message) -> None:
    out = tmp_path / "never"
    result = invoke("sensitivity", str(DEFAULT_SCENARIO), *args, "--out", str(out))
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_each_swing_has_its_standard_error_and_says_whether_noise_could_make_it() -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    sens = sim.sensitivity(sc, variants=["as-reported"], draws=2000, seed=3)
    t = sens.table
    tenth = 2000 // 10
    shares = t[t.outcome.str.startswith("p_met ")]
    for r in shares.itertuples():
        lo, hi = float(r.low), float(r.high)
        # the pooled standard error of a difference of two shares of 200 draws each
        pooled = (lo + hi) / 2
        expected = np.sqrt(pooled * (1 - pooled) * (2 / tenth))
        assert r.se == pytest.approx(expected, abs=2e-6), r
        if abs(hi - lo) < 1.96 * r.se:  # noise even before any correction
            assert r.within_noise, r
    levels = t[t.outcome.str.startswith("mean level ")]
    assert (levels.se > 0).all()
    moved = levels[levels.input == "milestones.iraq-phase-1.target.reduce_by"]
    assert not moved[moved.outcome == "mean level iraq 2025-09"].within_noise.any()
    dates = t[t.outcome.str.startswith("median month ")]
    assert dates.se.isna().all() and dates.within_noise.isna().all()
    # all met against none met: the pooled error stays above 0, and the swing is real
    delay = shares[shares.input == "announcement.delay"]
    assert set(delay.low.astype(float)) == {1.0} and set(delay.high.astype(float)) == {0.0}
    assert (delay.se > 0).all() and not delay.within_noise.any()
    # Syria's unreported troops do not move Iraq's chance of meeting phase 1
    syria = shares[
        (shares.input == "theaters.syria.unreported") & (shares.outcome == "p_met iraq-phase-1")
    ]
    assert syria.within_noise.all()


def test_the_command_says_when_the_input_that_moves_a_deadline_most_is_within_noise() -> None:
    from dataclasses import replace

    from sim.cli.text import sensitivity_lines

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    sens = sim.sensitivity(sc, variants=["as-reported"], draws=500, seed=1)
    flagged = sens.table.assign(within_noise=True)
    lines = sensitivity_lines(replace(sens, table=flagged))
    assert any("within sampling noise (standard error" in line for line in lines)
    assert not any("within sampling noise" in line for line in sensitivity_lines(sens))


def test_a_tenth_of_one_draw_has_no_standard_error_and_no_swing_is_called_beyond_noise() -> None:
    # 10 to 19 draws: each tenth holds one draw, whose spread says nothing of the noise
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    sens = sim.sensitivity(sc, variants=["as-reported"], draws=12, seed=1)
    t = sens.table
    moved = t[t.swing.astype(float) > 0]
    assert len(moved)
    assert t.se.isna().all(), t[["input", "outcome", "swing", "se"]]
    assert t.within_noise.isna().all()
    from sim.cli.text import sensitivity_lines

    lines = sensitivity_lines(sens)
    assert any("standard error not estimated (one draw per tenth)" in line for line in lines)
    # two draws a tenth: estimated again
    two = sim.sensitivity(sc, variants=["as-reported"], draws=20, seed=1).table
    levels = two[two.outcome.str.startswith("mean level ")]
    assert levels.se.notna().all()


def test_each_standard_error_is_that_of_the_tenths_own_draws_stepped_one_by_one() -> None:
    # brute force: every draw stepped, each tenth ranked by value then draw order, and
    # the standard error of a difference of two means computed from the draws themselves
    from sim.analysis.chunks import run_chunks
    from sim.analysis.sensitivity import _concat
    from sim.model.stepper import step

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    name, n, tenth = "as-reported", 400, 40
    plan = sc.plan(name)
    chunks: list = []

    class Keep:
        def add_chunk(self, inputs) -> None:  # type: ignore[no-untyped-def]
            chunks.append(inputs[0])

    run_chunks([plan], n, 5, Keep(), chunk=128)
    draws = _concat(chunks)
    out = step(plan, draws)
    met = (out.reached <= out.original).astype(float)
    t = sim.sensitivity(sc, variants=[name], draws=n, seed=5).table
    months = [format_month(plan.start + i) for i in range(plan.n_months)]
    checked = 0
    for inp in uncertain_inputs(plan):
        order = np.lexsort((np.arange(n), inp.values(draws)))
        low, high = order[:tenth], order[-tenth:]
        rows = t[t.input == inp.path]
        for r in rows.itertuples():
            words = r.outcome.split(" ")
            if words[0] == "p_met":
                j = [m.id for m in plan.milestones].index(words[1])
                lo, hi = met[low, j], met[high, j]
                pooled = np.concatenate([lo, hi]).mean()  # the share over both tenths
                var = pooled * (1 - pooled) * (1 / tenth + 1 / tenth)
            elif words[0] == "mean":
                k = list(plan.theaters).index(words[2])
                lo = out.theaters[low, k, months.index(words[3])].astype(float)
                hi = out.theaters[high, k, months.index(words[3])].astype(float)
                var = lo.var(ddof=1) / tenth + hi.var(ddof=1) / tenth
            else:
                continue
            assert float(r.low) == pytest.approx(lo.mean(), abs=1e-3), r
            assert float(r.high) == pytest.approx(hi.mean(), abs=1e-3), r
            assert r.se == pytest.approx(np.sqrt(var), abs=1e-3), r
            checked += 1
    assert checked >= 20


def test_holm_calls_a_swing_beyond_noise_only_while_every_smaller_p_value_passes_its_bar() -> None:
    from sim.analysis.sensitivity import _holm

    # one variant and outcome, four inputs: z of 3.5, 2.6, 2.2 and 0 standard errors
    # (p = 0.000465, 0.00932, 0.0278, 1): bars 0.05/4, 0.05/3, 0.05/2, 0.05/1
    rows = pd.DataFrame(
        {
            "variant": ["v"] * 5,
            "outcome": ["p_met m"] * 4 + ["median month m"],
            "_z": [3.5, 2.6, 2.2, 0.0, None],
            "within_noise": [None] * 5,
        }
    )
    got = _holm(rows).within_noise.tolist()
    # 0.0278 > 0.05 / 2 = 0.025: the third stops the steps, though 2.2 > 1.96
    assert got == [False, False, True, True, None]
    # the same swing of 2.2 errors alone in its panel is beyond noise (0.0278 <= 0.05)
    alone = pd.DataFrame({"variant": ["v"], "outcome": ["p_met m"], "_z": [2.2]})
    assert _holm(alone.assign(within_noise=None)).within_noise.tolist() == [False]


def test_a_level_swing_of_exactly_zero_spread_and_a_real_gap_is_beyond_noise() -> None:
    from sim.analysis.sensitivity import _holm

    frame = pd.DataFrame(
        {"variant": ["v", "v"], "outcome": ["o", "o"], "_z": [math.inf, 0.0], "within_noise": None}
    )
    assert _holm(frame).within_noise.tolist() == [False, True]


def test_an_input_that_cannot_move_an_outcome_is_not_called_beyond_noise_by_chance() -> None:
    # Syria's unreported troops cannot move Iraq's chance of meeting phase 1; with this
    # seed the two tenths differ by 2.1 standard errors by chance (a 1.96-error test per
    # bar calls that real), and Holm's test over the panel's inputs keeps it noise
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    t = sim.sensitivity(sc, variants=["as-reported"], draws=100_000, seed=1).table
    row = t[(t.input == "theaters.syria.unreported") & (t.outcome == "p_met iraq-phase-1")]
    (r,) = row.itertuples()
    assert abs(float(r.high) - float(r.low)) > 1.96 * r.se
    assert r.within_noise
    # while the announcement delay, which decides it, stays beyond noise
    delay = t[(t.input == "announcement.delay") & (t.outcome == "p_met iraq-phase-1")]
    assert not delay.within_noise.any()


def test_the_sensitivity_command_states_and_checks_its_least_number_of_draws(tmp_path) -> None:
    from sim.cli import main

    help_text = CliRunner().invoke(main, ["sensitivity", "--help"]).output
    assert "[10<=x<=100000000]" in " ".join(help_text.split())
    out = tmp_path / "s"
    res = CliRunner().invoke(
        main, ["sensitivity", "--draws", "9", "--seed", "1", "--out", str(out)]
    )
    assert res.exit_code == 2
    assert (
        "<command line>:1:1: --draws: expected a whole number from 10 to 100,000,000, found '9'"
        in res.output
    )
    assert not out.exists()


@pytest.mark.slow
def test_the_tornados_tick_labels_keep_half_an_em_apart_in_four_columns() -> None:
    # four variants a row leave each panel 2.5 inches: "75 %" and "100 %" stood 3.5 px
    # apart and read as one label
    from sim.plotting.tornado import plot_tornado

    sens = sensitivity(sim.load_scenario(DEFAULT_SCENARIO), None, 2000, 1)
    axes = plot_tornado(sens)
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in axes:
        labels = [t for t in ax.get_xticklabels() if t.get_text()]
        assert len(labels) >= 3
        boxes = [t.get_window_extent(renderer) for t in labels]
        half_em = labels[0].get_fontsize() * fig.dpi / 72 / 2
        for i in range(len(labels) - 1):
            gap = boxes[i + 1].x0 - boxes[i].x1
            assert gap >= half_em, (labels[i].get_text(), labels[i + 1].get_text(), gap)


@pytest.mark.parametrize(
    ("missing", "args", "said"),
    [
        (
            "SALib",
            ["sensitivity", "--method", "sobol", "--draws", "256", "--seed", "1"],
            "<command line>:1:1: --method: expected SALib installed: "
            "pip install 'forcesim[sensitivity]', found '--method sobol', and no module SALib",
        ),
        (
            "distributed",
            ["sensitivity", "--draws", "100", "--seed", "1", "--workers", "2"],
            "<command line>:1:1: --workers: expected distributed installed: pip install "
            "'forcesim[dask]', found '--workers 2', and no module distributed",
        ),
        (
            "distributed",
            ["run", "--draws", "100", "--seed", "1", "--scheduler", "tcp://h:1"],
            "<command line>:1:1: --scheduler: expected distributed installed: pip install "
            "'forcesim[dask]', found '--scheduler tcp://h:1', and no module distributed",
        ),
    ],
)
def test_a_missing_extra_is_named_as_every_missing_extra_is_before_any_work(
    tmp_path, monkeypatch, missing, args, said
) -> None:
    # (three wordings: '--report: … needs plotly', '<command line>:1:1: --workers:
    # expected dask.distributed installed', '<arguments>:1:1: method: expected SALib')
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a)
    )
    out = tmp_path / "never"
    result = invoke(*args, "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"forcesim: error: {said}\n"
    assert not out.exists()


def test_the_first_pass_on_an_executor_takes_chunks_of_side_by_side_size() -> None:
    # each chunk of the first pass holds every variant's drawn inputs: in a part, as
    # here, it takes fan_chunk's draws, not the default of one variant alone
    from sim.analysis.chunks import Fanout, fan_chunk

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    names = ["as-reported", "slip-6-moving", "residual"]
    seen: list[tuple[bool, int | None]] = []

    class Recording(InProcessParts):
        def map(self, func, items, *, sizes=None, bar=None):
            seen.extend((isinstance(p.make, Fanout), p.chunk) for p in items)
            return super().map(func, items, sizes=sizes, bar=bar)

    sensitivity(sc, names, 200, 9, executor=Recording(2))
    fanned = [c for side_by_side, c in seen if side_by_side]
    assert fanned and fanned == [fan_chunk([sc.plan(n) for n in names])] * len(fanned)


FIXED_VARIANT = """\
variants:
  open:
    description: as stated
  fixed:
    description: every number fixed
    overrides:
      announcement: {delay: 0}
      theaters:
        alpha: {initial: 1000}
      milestones:
        alpha-cut: {target: {level: 500}}
"""


def test_a_variant_of_fixed_numbers_gets_its_p_met_and_no_second_pass(
    tmp_path, monkeypatch
) -> None:
    import sim.analysis.sensitivity as module

    path = tmp_path / "mixed.yaml"
    path.write_text(DOMINANT + FIXED_VARIANT, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the base's distributions no variant draws)
        sc = sim.load_scenario(path)
    fed: list[int] = []  # the plans of each pass over the draws
    real = module.run_chunks

    def recording(plans, *args, **kwargs):
        fed.append(len(plans))
        return real(plans, *args, **kwargs)

    monkeypatch.setattr(module, "run_chunks", recording)
    found = sensitivity(sc, None, 200, 4)
    assert set(found.table.variant) == {"open"} and found.inputs["fixed"] == []
    assert found.overall[("fixed", "p_met alpha-cut")] == 1.0
    assert fed == [2, 1]  # both variants side by side, then the tenths of "open" alone


def test_the_tenths_of_many_inputs_are_taken_in_batches_that_fit_the_budget(
    dominant: sim.Scenario, monkeypatch
) -> None:
    # two accumulators per input held at once grow with the inputs (82 of about 15 MB
    # for ten theaters of four uncertain inputs each): a budget that fits one input's
    # two accumulators takes the tenths one input per pass, with the same table
    import sim.analysis.sensitivity as module
    from sim.analysis.summaries import counts_bytes

    whole = sensitivity(dominant, None, 600, 4, chunk=128)
    live, most = [0], [0]

    class Counted(Accumulator):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            live[0] += 1
            most[0] = max(most[0], live[0])

        def __del__(self) -> None:
            live[0] -= 1

    monkeypatch.setattr(module, "Accumulator", Counted)
    monkeypatch.setattr(module, "TENTHS_BYTES", 3 * counts_bytes(dominant.plan("base")))
    passes: list[int] = []
    real = module.run_chunks

    def recording(plans, *args, **kwargs):
        passes.append(len(plans))
        return real(plans, *args, **kwargs)

    monkeypatch.setattr(module, "run_chunks", recording)
    batched = sensitivity(dominant, None, 600, 4, chunk=128)
    assert passes == [1, 1, 1, 1]  # the values, then a pass for each of the 3 inputs
    assert most[0] == 2  # one input's two tenths at a time
    pd.testing.assert_frame_equal(batched.table, whole.table)
    assert batched.inputs == whole.inputs and batched.overall == whole.overall


def _many_inputs(tmp_path, theaters: int) -> sim.Scenario:
    lines = [
        "id: many-inputs",
        "title: many uncertain inputs",
        "as_of: 2024-01",
        "calendar: {start: 2024-01, end: 2027-12}",
        "announcement: {expected: 2024-03, delay: {uniform: [0, 6]}}",
        "theaters:",
    ]
    lines += [f"  t{i}: {{initial: {{uniform: [100, 120]}}}}" for i in range(theaters)]
    lines.append("milestones:")
    for i in range(theaters):
        lines += [
            f"  t{i}-cut: {{theater: t{i}, deadline: 2025-01, target: {{reduce_by: "
            "{uniform: [0, 40]}}, delay: {uniform: [0, 6]}}",
            f"  t{i}-out: {{theater: t{i}, deadline: 2026-01, target: {{level: 0}}, "
            "delay: {uniform: [0, 6]}}",
        ]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sim.load_scenario(path)


@pytest.mark.slow
def test_a_tornado_of_many_inputs_and_outcomes_draws_the_widest_and_says_so(tmp_path) -> None:
    # a bar per input and outcome made 10 theaters of four uncertain inputs each a
    # picture 80,000 pixels tall; the chart now draws at most MAX_OUTCOMES rows of the
    # MAX_BARS widest inputs, and says what it left out
    from sim.plotting.common import CrowdedChart
    from sim.plotting.tornado import MAX_BARS, MAX_OUTCOMES, plot_tornado

    sens = sensitivity(_many_inputs(tmp_path, 7), None, 200, 1)
    assert sens.table.input.nunique() > MAX_BARS and sens.table.outcome.nunique() > MAX_OUTCOMES
    with pytest.warns(CrowdedChart, match=r"the first 12 of \d+ outcomes and the 10 inputs"):
        axes = plot_tornado(sens)
    assert len(axes) == MAX_OUTCOMES
    assert all(len(ax.get_yticklabels()) == MAX_BARS for ax in axes)
    fig = axes[0].get_figure()
    assert fig.get_figheight() * fig.dpi < 8_000
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "sensitivity.csv has every one" in texts
    import matplotlib.pyplot as plt

    plt.close(fig)


@pytest.mark.slow
def test_within_noise_is_written_true_false_or_blank_as_every_boolean_column(tmp_path) -> None:
    # the column holds booleans and blanks (object dtype), and was written True/False
    out = tmp_path / "sens"
    args = ["--draws", "300", "--seed", "1", "-q", "--variant", "on-time"]
    result = invoke("sensitivity", str(DEFAULT_SCENARIO), *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    cells = {
        line.rsplit(",", 1)[1] for line in (out / "sensitivity.csv").read_text().splitlines()[1:]
    }
    assert cells <= {"true", "false", ""} and {"true", "false"} <= cells


@pytest.mark.slow
def test_plot_and_report_of_a_sobol_directory_name_its_own_chart(tmp_path) -> None:
    out = tmp_path / "sobol"
    args = ["--method", "sobol", "--draws", "64", "--seed", "1", "-q", "--variant", "on-time"]
    assert invoke("sensitivity", str(DEFAULT_SCENARIO), *args, "--out", str(out)).exit_code == 0
    for command in (["plot", str(out), "-o", str(tmp_path / "x.png")], ["report", str(out)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2 and "sobol.png" in result.output, result.output
        assert "tornado" not in result.output


def test_the_tornados_panel_titles_spell_months_as_the_other_charts_do(tenths) -> None:
    # "(by 2025-09)" and "at the end of 2026-12" beside the fan's "Sep 2025"
    axes = sim.plot_tornado(tenths)
    fig = axes[0].figure
    titles = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    assert not [t for t in titles if re.search(r"\b20\d\d-\d\d\b", t) and "at the end of" in t]
    assert not [t for t in titles if re.search(r"\(by 20\d\d-\d\d\)", t)]
    assert any(re.search(r"\(by [A-Z][a-z]{2} 20\d\d\)", t) for t in titles), titles
    plt.close("all")


def test_sensitivity_of_inputs_fixed_by_set_says_what_was_set_and_where(tmp_path) -> None:
    # it blamed the scenario file at 1:1 (the file has uncertain inputs) and never said
    # the --set values had fixed them
    from conftest import DEFAULT_SCENARIO

    sets = [
        "announcement.delay=0",
        "theaters.syria.unreported=null",
        "residuals.advisory.size=300",
        "milestones.iraq-phase-1.target.reduce_by=500",
    ]
    args = ["sensitivity", str(DEFAULT_SCENARIO), "--draws", "100", "--seed", "1"]
    args += [x for s in sets for x in ("--set", s)] + ["-o", str(tmp_path / "s")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert res.stderr.startswith("forcesim: error: <command line>:"), res.stderr
    assert "found only fixed numbers in as-reported, " in res.stderr
    assert "with announcement.delay=0, theaters.syria.unreported=null, " in res.stderr
    assert res.stderr.rstrip().endswith("set for this run")
    assert not (tmp_path / "s").exists()


def test_the_tornado_keys_the_all_draws_line_only_when_a_panel_draws_it(tenths) -> None:
    # a scenario whose milestones no input moves had "all draws (chance of meeting)" in
    # its key with no chance panel to draw it in
    import dataclasses

    def key(sens):
        fig = sim.plot_tornado(sens)[0].figure
        texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
        plt.close("all")
        return texts

    assert tenths.overall and "all draws (chance of meeting)" in key(tenths)
    without = dataclasses.replace(tenths, overall={})
    assert "all draws (chance of meeting)" not in key(without)
    assert "input in its lowest tenth" in key(without)


@pytest.mark.slow
def test_the_tornado_draws_variants_alike_in_one_panel_named_for_them_all() -> None:
    # eight variants in two blocks of four drew each Syria outcome eight times over, a
    # chart 3,932 px tall with 14 distinct findings
    from sim.plotting.tornado import _outcome_rows

    sens = sensitivity(sim.load_scenario(DEFAULT_SCENARIO), None, 2000, 1)
    names = list(sens.variants)
    axes = sim.plot_tornado(sens)
    fig = axes[0].figure
    try:
        assert fig.get_figheight() * fig.dpi < 2_400
        outcomes = _outcome_rows(sens, names)
        headings = [t.get_text() for t in fig.texts if t.get_fontsize() == 13 and t.get_text()]
        assert len(headings) == len(outcomes) == 6  # (each outcome headed once)
        panels = iter(axes)
        t = sens.table
        merged = 0
        for outcome in outcomes:  # every variant in exactly one panel of each outcome
            seen: list[str] = []
            while len(seen) < len(names):
                title = next(panels).get_title(loc="left").replace("\n", " ")
                group = names if title.startswith("every variant") else title.split(", ")
                seen += group
                # a panel of several draws what each of them would: the same bars
                drawn = [
                    t[(t.variant == v) & (t.outcome == outcome)]
                    .drop(columns=["variant", "se"])
                    .reset_index(drop=True)
                    for v in group
                ]
                for other in drawn[1:]:
                    pd.testing.assert_frame_equal(other, drawn[0])
                merged += len(group) > 1
            assert sorted(seen) == sorted(names), (outcome, seen)
        assert next(panels, None) is None and merged >= 6
    finally:
        plt.close(fig)
