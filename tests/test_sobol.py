"""Sobol indices (``forcesim sensitivity --method sobol``) against indices known exactly,
and how the chart and the command show them with their confidence half-widths."""

from __future__ import annotations

import itertools
import math
import re
import warnings
from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO

import sim
from sim.analysis.outcomes import outcomes
from sim.analysis.sensitivity import _sobol_outputs, sensitivity, sobol_values, uncertain_inputs
from sim.cli import main
from sim.plotting.tornado import NO_INDEX, plot_tornado

pytest.importorskip("SALib")

# a level at a step deadline: the initial level less the cut, two independent discrete
# uniforms, so each first-order (and total) index is its share of the variance
LINEAR = """\
id: linear
title: a level linear in two inputs
as_of: 2024-01
calendar: {start: 2024-01, end: 2024-12}
announcement: {expected: 2024-01, delay: 0}
theaters:
  alpha:
    initial: {uniform: [1000, 1100]}
milestones:
  alpha-cut:
    theater: alpha
    deadline: 2024-06
    profile: step
    target: {reduce_by: {uniform: [0, 300]}}
"""

# the level at the deadline depends on the announcement delay, the execution delay
# (a weighted choice) and a residual present with probability 0.4 (a triangular size),
# with interactions between them: no closed form, but a small exact product of supports
INTERACTING = """\
id: interacting
title: two delays and a residual that may not stay
as_of: 2024-01
calendar: {start: 2024-01, end: 2025-12}
announcement:
  expected: 2024-01
  delay: {uniform: [0, 5]}
theaters:
  alpha:
    initial: 1000
milestones:
  alpha-out:
    theater: alpha
    deadline: 2024-09
    delay: {choice: {values: [0, 1, 2, 4], weights: [4, 3, 2, 1]}}
    target: {level: 0}
residuals:
  advisory:
    theater: alpha
    size: {triangular: [100, 140, 180], probability: 0.4}
    from: {milestone: alpha-out}
"""


def _load(tmp_path, text: str, name: str) -> sim.Scenario:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return sim.load_scenario(path)


def _indices(sc: sim.Scenario, base: int, seed: int, outcome: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = sensitivity(sc, None, base, seed, method="sobol").table
    return t[t.outcome == outcome].set_index("input")


def test_sobol_indices_of_a_level_linear_in_two_inputs_are_their_shares_of_the_variance(
    tmp_path,
) -> None:
    t = _indices(_load(tmp_path, LINEAR, "linear"), 4096, 1, "level alpha 2024-06")
    # a discrete uniform on k whole values has variance (k² − 1) / 12
    v_initial, v_cut = (101**2 - 1) / 12, (301**2 - 1) / 12
    exact = {
        "theaters.alpha.initial": v_initial / (v_initial + v_cut),  # 0.1012
        "milestones.alpha-cut.target.reduce_by": v_cut / (v_initial + v_cut),  # 0.8988
    }
    for path, s in exact.items():
        row = t.loc[path]
        assert abs(row.first_order - s) <= row.first_order_conf, (path, row.first_order, s)
        assert abs(row.total - s) <= row.total_conf, (path, row.total, s)
        assert abs(row.first_order - s) < 0.01 and abs(row.total - s) < 0.01


def _exact_indices(sc: sim.Scenario, outcome: str) -> dict[str, tuple[float, float]]:
    """First-order and total indices of ``outcome`` from every combination of the
    inputs' values, each with its exact probability: the model stepped once per
    combination through the function the analysis hands to SALib."""
    plan = sc.plan(sc.select(None)[0])
    inputs = uncertain_inputs(plan)
    grid = (np.arange(1 << 16) + 0.5) / (1 << 16)  # the inputs' quantiles, finely
    support = []
    for inp in inputs:
        v = sobol_values(inp, grid)
        values, counts = np.unique(v, return_counts=True)
        # a uniform number that gives each value, and the value's probability
        u = np.array([grid[v == x][0] for x in values])
        support.append((u, counts / len(grid)))
    combos = np.array(list(itertools.product(*(range(len(u)) for u, _ in support))))
    u = np.column_stack([support[d][0][combos[:, d]] for d in range(len(inputs))])
    w = np.prod([support[d][1][combos[:, d]] for d in range(len(inputs))], axis=0)
    outs = [o for o in outcomes(plan, []) if o.name == "mean level " + outcome[len("level ") :]]
    y = _sobol_outputs(plan, inputs, u, outs, 1 << 16)[:, 0]
    mean = w @ y
    var = w @ (y - mean) ** 2

    def explained(dims: list[int]) -> float:
        """Var(E[Y | X_dims]) / Var(Y)."""
        keys: dict[tuple[int, ...], list[int]] = {}
        for r, key in enumerate(map(tuple, combos[:, dims])):
            keys.setdefault(key, []).append(r)
        total = 0.0
        for rows in keys.values():
            p = w[rows].sum()
            total += p * ((w[rows] @ y[rows]) / p - mean) ** 2
        return total / var

    found = {}
    for d, inp in enumerate(inputs):
        others = [k for k in range(len(inputs)) if k != d]
        found[inp.path] = (explained([d]), 1.0 - explained(others))
    return found


def test_sobol_indices_with_interactions_a_choice_and_a_probability_match_the_exact_ones(
    tmp_path,
) -> None:
    sc = _load(tmp_path, INTERACTING, "interacting")
    exact = _exact_indices(sc, "level alpha 2024-09")
    t = _indices(sc, 8192, 5, "level alpha 2024-09")
    # the inputs interact: some total index is clearly above its first-order index
    assert max(st - s1 for s1, st in exact.values()) > 0.01
    for path, (s1, st) in exact.items():
        row = t.loc[path]
        assert abs(row.first_order - s1) <= row.first_order_conf, (path, row.first_order, s1)
        assert abs(row.total - st) <= row.total_conf, (path, row.total, st)


def _sobol_of_default() -> sim.Sensitivity:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    return sensitivity(sc, ["as-reported", "residual"], 256, 1, method="sobol")


@pytest.fixture(scope="module")
def default_sobol():
    return _sobol_of_default()


def _notes(ax, text: str) -> list[float]:
    return sorted(t.get_position()[1] for t in ax.texts if t.get_text() == text)


@pytest.mark.slow
def test_each_input_row_of_an_outcome_the_same_in_every_draw_says_so_not_that_the_input_is_fixed(
    default_sobol,
) -> None:
    # in `residual` the milestones are always met: 0/0, no indices; two of its inputs
    # are fixed there, the other two could move it but do not
    axes = plot_tornado(default_sobol)
    try:
        t = default_sobol.table
        still = t[(t.variant == "residual") & (t.outcome == "met iraq-phase-1")]
        assert still.total.isna().all() and len(still) == 2
        ax = axes[1]  # the first outcome (met iraq-phase-1), second variant (residual)
        assert ax.get_title(loc="left") == "residual"
        labels = [tick.get_text() for tick in axes[0].get_yticklabels()]
        rows = {y: label for y, label in zip(axes[0].get_yticks(), labels, strict=True) if label}
        said = _notes(ax, NO_INDEX)
        fixed = _notes(ax, "fixed in this variant")
        # one note per row, each on a row of its own
        assert len(said) == 2 and len(fixed) == 2
        assert set(said + fixed) == set(rows)
    finally:
        plt.close("all")


@pytest.mark.slow
def test_a_rows_note_stays_within_its_panel_in_a_chart_of_four_columns() -> None:
    # "outcome the same in every draw: no index" ran past its panel into the next
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    names = ["as-reported", "on-time", "residual", "syria-follows"]
    axes = plot_tornado(sensitivity(sc, names, 64, 1, method="sobol"))
    try:
        fig = axes[0].figure
        renderer = fig.canvas.get_renderer()
        seen = set()
        for a in axes:
            box = a.get_window_extent(renderer)
            for t in a.texts:
                if t.get_text() in (NO_INDEX, "fixed in this variant"):
                    seen.add(t.get_text())
                    text = t.get_window_extent(renderer)
                    assert box.x0 <= text.x0 and text.x1 <= box.x1, (t.get_text(), text, box)
        assert seen == {NO_INDEX, "fixed in this variant"}
    finally:
        plt.close("all")


def test_each_sobol_bar_has_a_whisker_of_its_95_percent_confidence_half_width(
    default_sobol,
) -> None:
    axes = plot_tornado(default_sobol, variants=["as-reported"])
    try:
        t = default_sobol.table
        row = t[(t.variant == "as-reported") & (t.outcome == "met iraq-phase-1")]
        row = row.set_index("input").loc["announcement.delay"]
        ax = axes[0]
        spans = []
        for coll in ax.collections:  # errorbar draws its whiskers as a LineCollection
            for seg in coll.get_segments():
                (x0, y0), (x1, y1) = seg
                if y0 == y1:
                    spans.append((round(x0, 9), round(x1, 9)))
        expected = {
            (round(row.total - row.total_conf, 9), round(row.total + row.total_conf, 9)),
            (
                round(row.first_order - row.first_order_conf, 9),
                round(row.first_order + row.first_order_conf, 9),
            ),
        }
        assert expected <= set(spans)
    finally:
        plt.close("all")


def test_each_sobol_value_label_stands_clear_of_both_whiskers(default_sobol) -> None:
    # "1.00" was placed past the total index's whisker, on the first-order one, which
    # reached further, and read "-|1.00"
    axes = plot_tornado(default_sobol, variants=["as-reported"])
    try:
        for ax in axes:
            fig = ax.figure
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            whiskers = [
                seg for coll in ax.collections for seg in coll.get_segments() if len(seg) == 2
            ]
            ends = [ax.transData.transform(seg[1])[0] for seg in whiskers]
            for label in ax.texts:
                if re.fullmatch(r"-?[0-9]\.[0-9]{2}", label.get_text()):
                    box = label.get_window_extent(renderer)
                    row = [
                        x
                        for seg, x in zip(whiskers, ends, strict=True)
                        if abs(ax.transData.transform(seg[1])[1] - (box.y0 + box.y1) / 2) < 20
                    ]
                    assert all(box.x0 > x for x in row), (label.get_text(), box.x0, row)
    finally:
        plt.close("all")


@pytest.mark.slow
def test_a_negative_first_order_estimate_is_drawn_as_estimated_not_raised_to_zero(
    default_sobol,
) -> None:
    t = default_sobol.table.copy()
    at = (t.variant == "as-reported") & (t.outcome == "level iraq 2026-12")
    first = t[at].index[t[at].total.notna()][0]
    t.loc[first, ["first_order", "total"]] = [-0.03, 0.02]
    axes = plot_tornado(replace(default_sobol, table=t), variants=["as-reported"])
    try:
        widths = [
            p.get_width() for ax in axes for p in ax.patches if math.isclose(p.get_height(), 0.3)
        ]
        assert -0.03 in widths
    finally:
        plt.close("all")


@pytest.mark.slow
def test_the_command_prints_each_index_with_its_half_width_and_writes_the_sobol_files(
    tmp_path,
) -> None:
    out = tmp_path / "sobol"
    result = CliRunner().invoke(
        main,
        [
            "sensitivity",
            str(DEFAULT_SCENARIO),
            "-v",
            "as-reported",
            "--method",
            "sobol",
            "--draws",
            "256",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["run.json", "sobol.csv", "sobol.png"]
    t = _sobol_of_default().table
    row = t[(t.variant == "as-reported") & (t.outcome == "met iraq-exit")]
    row = row.set_index("input").loc["announcement.delay"]
    assert (
        f"as-reported  iraq-exit: announcement.delay, total index {row.total:.2f} "
        f"± {row.total_conf:.2f} (first-order {row.first_order:.2f} "
        f"± {row.first_order_conf:.2f})"
    ) in result.output


def test_sobol_runs_are_stepped_in_chunks_whose_levels_fit_the_budget(monkeypatch) -> None:
    # 65,536 runs stepped at once held 630 MB of levels for 10 theaters over 120 months
    # (timing-keys-10, N = 1024: 44,032 runs in one step); now each step's levels fit
    # SOBOL_STEP_BYTES, with the same indices
    import sim.analysis.sensitivity as module

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    whole = sim.sensitivity(sc, ["as-reported"], 64, 3, method="sobol").table
    plan = sc.plan("as-reported")
    monkeypatch.setattr(module, "SOBOL_STEP_BYTES", 50 * module.sobol_run_bytes(plan))
    sizes: list[int] = []
    real = module.step

    def recording(plan, inputs, *args, **kwargs):  # type: ignore[no-untyped-def]
        sizes.append(inputs.n)
        return real(plan, inputs, *args, **kwargs)

    monkeypatch.setattr(module, "step", recording)
    chunked = sim.sensitivity(sc, ["as-reported"], 64, 3, method="sobol").table
    assert max(sizes) == 50 and sum(sizes) == 64 * (len(whole.input.unique()) + 2)
    import pandas as pd

    pd.testing.assert_frame_equal(chunked, whole)


def _sites(n: int) -> str:
    """One theater of ``n`` sites over 24 months, each site cut on its own uncertain
    schedule: as benchmarks/bench_scale_memory.py's sites-100, smaller."""
    sites = "".join(f"      s{i:02d}: {{initial: 1000}}\n" for i in range(n))
    cuts = "".join(
        f"  s{i:02d}-cut:\n    theater: big/s{i:02d}\n"
        f"    deadline: {{after_announcement: {3 + i % 12}}}\n"
        "    target: {level: {uniform: [0, 300]}}\n"
        for i in range(n)
    )
    return (
        "id: sites\ntitle: sites cut on their own schedules\nas_of: 2024-01\n"
        "calendar: {start: 2024-01, end: 2025-12}\n"
        "announcement: {expected: 2024-03, delay: {uniform: [0, 12]}}\n"
        f"theaters:\n  big:\n    sites:\n{sites}milestones:\n{cuts}"
    )


@pytest.mark.slow
def test_a_step_of_sobol_runs_holds_what_it_makes_within_the_budget(monkeypatch, tmp_path) -> None:
    # chunks were sized by their levels alone: for sites-100 at N = 1024 each step of
    # 6,921 runs took 140 MB against a budget of 64 MB (the inputs and the schedule's
    # per-milestone arrays besides the levels), and a chunk's arrays were still held
    # while the next was stepped; now everything a step makes is counted, once
    import tracemalloc

    import sim.analysis.sensitivity as module

    sc = _load(tmp_path, _sites(40), "sites")
    plan = sc.plan(sc.select(None)[0])
    inputs = uncertain_inputs(plan)
    outs = [o for o in outcomes(plan, []) if o.kind in ("p_met", "level")]
    budget = 8 << 20
    monkeypatch.setattr(module, "SOBOL_STEP_BYTES", budget)
    u = np.random.default_rng(1).random((4 * module.sobol_chunk(plan), len(inputs)))
    held = u.shape[0] * len(outs) * 4  # the outcomes, float32
    tracemalloc.start()
    try:
        y = _sobol_outputs(plan, inputs, u, outs, module.sobol_chunk(plan))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert y.dtype == np.float32 and y.nbytes == held
    assert peak - held <= budget * 1.1, f"{(peak - held) / budget:.2f} x the budget"


def test_sobol_outcomes_are_held_as_float32_and_give_the_same_indices(monkeypatch) -> None:
    # (runs x outcomes) float64 outcomes took 81 MB for sites-100 at N = 1024; whole
    # troops and 0/1 are exact in float32 and widened one column at a time for SALib
    import sim.analysis.sensitivity as module

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    real = module._sobol_outputs
    kept: list[np.ndarray] = []

    def keeping(*args):  # type: ignore[no-untyped-def]
        y = real(*args)
        kept.append(y)
        return y

    monkeypatch.setattr(module, "_sobol_outputs", keeping)
    got = sensitivity(sc, ["as-reported"], 64, 3, method="sobol").table
    assert kept and all(y.dtype == np.float32 for y in kept)
    monkeypatch.setattr(module, "_sobol_outputs", lambda *a: real(*a).astype(np.float64))
    wide = sensitivity(sc, ["as-reported"], 64, 3, method="sobol").table
    import pandas as pd

    pd.testing.assert_frame_equal(got, wide)


def test_a_sobol_sample_over_its_budget_is_refused_with_the_largest_base_that_fits(
    monkeypatch, tmp_path
) -> None:
    # SALib's sample (runs x inputs, float64) and the outcomes were built whatever their
    # size: 83 MB and 81 MB for sites-100 at N = 1024, a 565 MB process; now a base
    # whose sample and outcomes pass SOBOL_SAMPLE_BYTES is refused before sampling
    import sim.analysis.sensitivity as module

    sc = _load(tmp_path, _sites(40), "sites")
    plan = sc.plan(sc.select(None)[0])
    per_base = module.sobol_sample_bytes(plan, len(uncertain_inputs(plan)), 1)
    monkeypatch.setattr(module, "SOBOL_SAMPLE_BYTES", 100 * per_base)
    sampled: list[int] = []
    monkeypatch.setattr(module, "_sobol_outputs", lambda *a: sampled.append(1))
    path = tmp_path / "sites.yaml"
    path.write_text(_sites(40))
    out = tmp_path / "s"
    args = ["sensitivity", str(path), "--method", "sobol", "--seed", "1", "--out", str(out)]
    got = CliRunner().invoke(main, [*args, "--draws", "128"])
    assert got.exit_code == 2 and not sampled and not out.exists()
    lines = got.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in got.output
    assert lines[0] == (
        "forcesim: error: <command line>:1:1: --draws: expected a base sample size N whose "
        f"sample and outcomes fit {100 * per_base >> 20} MB (variant 'base', 41 inputs: "
        f"N = 64 at most), found '128 ({128 * per_base / (1 << 20):,.0f} MB)'"
    )


def test_sobol_confidence_widths_of_seed_zero_are_the_same_bytes_each_run(tmp_path) -> None:
    # SALib seeds its bootstrap only from a seed that is true: with seed 0 the
    # half-widths came from numpy's global generator and changed from run to run
    sc = _load(tmp_path, INTERACTING, "interacting")
    tables = []
    for state in (1, 2):
        np.random.seed(state)  # what a notebook may have done to the global generator
        tables.append(sensitivity(sc, None, 64, 0, method="sobol").table)
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert tables[0].total_conf.notna().any()


def test_a_sobol_run_without_out_keeps_the_tornado_of_the_run_before_it(
    tmp_path, monkeypatch
) -> None:
    # both methods wrote out/<id>-sensitivity/: the Sobol run replaced the folder whole,
    # and the tenths run's tornado.png and sensitivity.csv went without a word
    sc = tmp_path / "linear.yaml"
    sc.write_text(LINEAR, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for extra in ([], ["--method", "sobol"]):
        result = CliRunner().invoke(
            main, ["sensitivity", str(sc), "--draws", "64", "--seed", "1", "-q", *extra]
        )
        assert result.exit_code == 0, result.output
    tenths = tmp_path / "out" / "linear-sensitivity"
    sobol = tmp_path / "out" / "linear-sobol"
    assert {"sensitivity.csv", "tornado.png"} <= {p.name for p in tenths.iterdir()}
    assert {"sobol.csv", "sobol.png"} <= {p.name for p in sobol.iterdir()}


@pytest.mark.parametrize("base", [1, 8, 32])
def test_a_sobol_base_sample_too_small_to_say_anything_is_refused(tmp_path, base) -> None:
    # at 1 draw the first-order index came out 2.67 "within ±0": a table of certainty
    # about nothing
    sc = _load(tmp_path, LINEAR, "linear")
    with pytest.raises(sim.ScenarioError, match=r"draws: expected a base sample of at least 64"):
        sensitivity(sc, None, base, 1, method="sobol")
