"""Updating on news: kinds of report, the reporting basis, the as-of date, and soft
conditioning with exact weighted summaries (sim.analysis.observed).

Expected numbers are derived in each test from the draws themselves (every draw
stepped at once with :func:`sim.model.stepper.step`), never copied from a run.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR, large_force_doc, make_doc

import sim
from sim.analysis.conditioning import checks_for
from sim.analysis.ensemble import accumulator
from sim.analysis.observed import ERROR_RATE
from sim.analysis.summaries import series
from sim.cli import main
from sim.io.observation_csv import read_observations
from sim.io.observations import Tolerance
from sim.model.draws import Draws
from sim.model.rules import official
from sim.model.stepper import step

HEADER = "date,theater,troops_low,troops_high,kind,tolerance,by,source,quote\n"

# alpha: 800..1200 troops, cut by 200..600 by 2024-06, to 0 by 2024-11 (back-loaded);
# beta: 500 troops, 0..300 of them left out of official figures, cut to 100..400
SPREAD = make_doc(
    calendar={"start": "2024-01", "end": "2024-12"},
    announcement={"expected": "2024-01", "delay": {"choice": {"values": [0, 1, 2, 3]}}},
    theaters={
        "alpha": {"initial": {"uniform": [800, 1200]}},
        "beta": {"initial": 500, "unreported": {"uniform": [0, 300]}},
    },
    milestones={
        "half": {
            "theater": "alpha",
            "deadline": "2024-06",
            "target": {"reduce_by": {"uniform": [200, 600]}},
        },
        "out": {
            "theater": "alpha",
            "deadline": "2024-11",
            "profile": "back",
            "delay": {"choice": {"values": [0, 1]}},
            "target": {"level": 0},
        },
        "beta-cut": {
            "theater": "beta",
            "deadline": "2024-08",
            "target": {"level": {"uniform": [100, 400]}},
        },
    },
    variants={
        "base": {"description": "as written", "overrides": {}},
        "slow": {
            "description": "the second phase front-loaded",
            "overrides": {"milestones": {"out": {"profile": "front"}}},
        },
    },
)


@pytest.fixture
def spread(write):
    return sim.load_scenario(write(SPREAD))


@pytest.fixture
def observations(tmp_path):
    def _write(rows: str, name: str = "obs.csv") -> Path:
        path = tmp_path / name
        path.write_text(HEADER + rows, encoding="utf-8")
        return path

    return _write


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def conditioned(scenario, path, draws=2000, seed=7, **options):
    obs = sim.load_observations(path, scenario)
    return sim.run(scenario, draws=draws, seed=seed, observed=obs, condition=True, **options)


def assert_same_conditioned(got: sim.Result, want: sim.Result) -> None:
    """The same plain and conditioned summaries, scores and effective draws."""
    a, b = got.observed, want.observed
    assert a.conditioned.effective == b.conditioned.effective
    pd.testing.assert_frame_equal(a.conditioned.bands, b.conditioned.bands)
    pd.testing.assert_frame_equal(a.conditioned.dates, b.conditioned.dates)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(got.bands, want.bands)
    pd.testing.assert_frame_equal(got.dates, want.dates)
    assert got.milestones.p_met.tolist() == want.milestones.p_met.tolist()


# ---------------------------------------------------------------- brute force


def every_draw(plan, n, seed):
    """{series: (n, months) whole levels, series + '#official': official figures}, out."""
    inputs = Draws(seed).take(plan, n)
    out = step(plan, inputs)
    levels = {}
    for name, tracks in series(plan):
        levels[name] = out.tracks[:, tracks, :].sum(axis=1).astype(np.int64)
        u = inputs.unreported[:, tracks].astype(np.int64)[:, :, None]
        levels[name + "#official"] = official(out.tracks[:, tracks, :], u).sum(axis=1)
    return levels, out


def weighted_inverse_cdf(values: np.ndarray, weights: list[int], q: int) -> int:
    """The smallest value whose cumulative weight reaches q % of the total (exact)."""
    total = sum(weights)
    acc = 0
    for v, w in sorted(zip(values.tolist(), weights, strict=True)):
        acc += w
        if 100 * acc >= q * total:
            return int(v)
    raise AssertionError("unreachable")


def brute_weights(result, obs, variant, n, seed, tolerance, as_of=None, error=ERROR_RATE):
    """Every draw's levels, the stepper output, and each draw's weight error^k, as
    whole numbers scaled by the largest denominator (exact)."""
    plan = result.plans[variant]
    levels, out = every_draw(plan, n, seed)
    misses = np.zeros(n, np.int64)
    for c in checks_for(plan, obs, tolerance, as_of):
        if c.used:
            lv = levels[c.series + ("#official" if c.official else "")][:, c.month]
            misses += ~((lv >= c.lo) & (lv <= c.hi))
    top = int(misses.max())
    p, q = error.numerator, error.denominator
    weights = [p ** int(k) * q ** (top - int(k)) for k in misses]
    return levels, out, weights


# ---------------------------------------------------------------- exact weighted summaries


@pytest.mark.slow
@pytest.mark.parametrize("chunk,dense", [(1, False), (37, False), (5000, False), (37, True)])
def test_weighted_percentiles_equal_a_brute_force_weighted_inverse_cdf(
    write, observations, chunk, dense, monkeypatch
):
    if dense:  # the month-by-month stepper counts the draws (as for any level it cannot
        # take whole months at once)
        monkeypatch.setattr("sim.analysis.accumulator._whole_inputs", lambda plan: False)
    spread = sim.load_scenario(write(SPREAD))
    plan = spread.plan("base")
    assert accumulator(plan, sim.run(spread).milestones)._fast is not dense
    path = observations(
        "2024-01,alpha,900,1100,reported,,,,\n"
        "2024-06,alpha,,650,reported,,,,\n"
        "2024-09,alpha,150,,reported,,,,\n"
        "2024-03,beta,480,520,official,0,,,\n"
    )
    n, seed = 1200, 5
    tol = Tolerance(relative=0.05)
    result = conditioned(spread, path, n, seed, tolerance=tol, chunk=chunk)
    c = result.observed.conditioned
    obs = sim.load_observations(path, spread)
    for v in result.variants:
        levels, out, w = brute_weights(result, obs, v, n, seed, tol)
        assert len(set(w)) > 2, "the test needs draws of several weights"
        total, squares = sum(w), sum(x * x for x in w)
        assert c.effective[v] == pytest.approx(float(Fraction(total * total, squares)), rel=1e-12)
        assert c.effective[v] >= 30
        got = c.bands[c.bands.variant == v]
        for name in ("alpha", "beta"):
            rows = got[got.theater == name].reset_index(drop=True)
            for m in (0, 3, 5, 8, 11):
                month = levels[name][:, m]
                for q in (5, 25, 50, 90):
                    assert rows[f"p{q:02d}"][m] == weighted_inverse_cdf(month, w, q), (v, name, m)
                mean = Fraction(sum(int(x) * wx for x, wx in zip(month, w, strict=True)), total)
                assert rows["mean"][m] == round(float(mean), 3)
        # threshold dates: the month each draw's lowest level so far first reaches it
        dates = c.dates[c.dates.variant == v]
        plan = result.plans[v]
        for row in dates.itertuples():
            lowest = np.minimum.accumulate(levels[row.theater], axis=1)
            hit = lowest <= row.level
            first = np.where(hit.any(axis=1), hit.argmax(axis=1), plan.n_months)
            for q in (10, 50, 90):
                m = weighted_inverse_cdf(first, w, q)
                want = pd.NaT if m == plan.n_months else pd.Period(plan.months[m], "M")
                got_q = getattr(row, f"p{q}")
                assert (pd.isna(got_q) and pd.isna(want)) or got_q == want, (v, row.threshold, q)
            never = Fraction(
                sum(wx for wx, f in zip(w, first, strict=True) if f == plan.n_months), total
            )
            assert row.never == round(float(never), 6)
        met = (out.reached <= out.original).T
        for j, mplan in enumerate(result.plans[v].milestones):
            share = Fraction(sum(wx for wx, ok in zip(w, met[j], strict=True) if ok), total)
            assert c.p_met[(v, mplan.id)] == round(float(share), 6)


def test_official_figures_of_several_months_weigh_each_month_when_stepped_month_by_month(
    write, observations
):
    # an unreported count written as 0.5 troops steps the draws month by month; each
    # month's levels were then a fresh array, and the official figure cached under the
    # array's id() could be that of another month whose array had been freed
    doc = {**SPREAD, "theaters": {**SPREAD["theaters"]}}
    doc["theaters"]["alpha"] = {**SPREAD["theaters"]["alpha"], "unreported": 0.5}
    scenario = sim.load_scenario(write(doc))
    assert not accumulator(scenario.plan("base"), sim.run(scenario).milestones)._fast
    path = observations(
        "2024-02,beta,300,400,official,0,,,\n2024-05,beta,200,350,official,0,,,\n"
        "2024-07,beta,150,300,official,0,,,\n2024-10,beta,100,250,official,0,,,\n"
    )
    n, seed, tol = 600, 6, Tolerance(relative=0.05)
    result = conditioned(scenario, path, n, seed, tolerance=tol, chunk=50)
    obs = sim.load_observations(path, scenario)
    for v in result.variants:
        _, _, w = brute_weights(result, obs, v, n, seed, tol)
        assert len(set(w)) > 2, "the test needs draws of several weights"
        want = Fraction(sum(w) ** 2, sum(x * x for x in w))
        assert result.observed.conditioned.effective[v] == pytest.approx(float(want), rel=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("error", [Fraction(1, 20), Fraction(1, 10**7)])
def test_weights_past_int64_give_the_exact_weighted_summaries_too(write, observations, error):
    # weights 20^k fit int64 with the counts; 10^(7k) over several k do not (Python ints)
    from sim.analysis.conditioning import Weighted

    spread = sim.load_scenario(write(SPREAD))
    path = observations(
        "2024-01,alpha,900,1100,reported,,,,\n2024-06,alpha,,650,reported,,,,\n"
        "2024-09,alpha,150,,reported,,,,\n2024-03,beta,480,520,official,0,,,\n"
    )
    n, seed, tol = 900, 8, Tolerance(relative=0.05)
    result = conditioned(spread, path, n, seed, tolerance=tol, chunk=100, error=error)
    obs = sim.load_observations(path, spread)
    levels, _, w = brute_weights(result, obs, "base", n, seed, tol, error=error)
    assert (max(w) * n > 2**63) == (error.denominator > 20)
    got = result.observed.conditioned.bands
    rows = got[(got.variant == "base") & (got.theater == "alpha")].reset_index(drop=True)
    total = sum(w)
    for m in (0, 4, 6, 10):
        month = levels["alpha"][:, m]
        for q in (5, 50, 95):
            assert rows[f"p{q:02d}"][m] == weighted_inverse_cdf(month, w, q)
        mean = Fraction(sum(int(x) * wx for x, wx in zip(month, w, strict=True)), total)
        assert rows["mean"][m] == round(float(mean), 3)
    weighted = Weighted.__new__(Weighted)  # weighing in parts gives the Python integers
    weighted.w = [int(x) for x in (3, 2**40, 1)]
    weighted.wo = np.array(weighted.w, dtype=object)
    counts = np.array([[5, 7, 0], [2**22, 1, 9]], np.int64)
    want = [sum(a * b for a, b in zip(weighted.w, row, strict=True)) for row in counts.tolist()]
    got_w = weighted.weigh(counts)
    assert got_w.tolist() == want and all(type(v) is int for v in got_w)


@pytest.mark.parametrize(
    "weights",
    [[3, 2**40, 1], [2**61] * 3, [2**62, 2**62], [20**30, 20**15, 1], [10**70, 7, 10**35]],
)
@pytest.mark.parametrize("most", [1, 3, 2**22, 2**40, 2**59 - 1])
@pytest.mark.parametrize("block", [None, 1])
def test_counts_weighed_in_int64_parts_are_the_exact_integer_sums(
    weights, most, block, monkeypatch
):
    # the weighted counts were Python ints, one object per level and many more made on
    # the way (40 bytes or more a level kept, 3.5 million objects made for one month of
    # 16 slots and 75,000 levels); digits of the weights times the counts, summed in
    # int64, give the same integers, however large the weights or the counts
    from sim.analysis.conditioning import Weighted, joined

    if block is not None:  # (a row of counts at a time)
        monkeypatch.setattr("sim.analysis.conditioning.WEIGH_BYTES", 8 * len(weights) * block)
    weighted = Weighted.__new__(Weighted)
    weighted.w = weights
    weighted.wo = np.array(weights, dtype=object)
    rng = np.random.default_rng(most % 1000)
    counts = rng.integers(0, most, (5, 4, len(weights)), endpoint=True, dtype=np.int64)
    counts[0, 0] = most  # (the largest count there is)
    want = [
        [sum(w * int(c) for w, c in zip(weights, cell, strict=True)) for cell in row]
        for row in counts
    ]
    parts, bits = weighted.weigh_parts(counts)
    assert parts.shape[1:] == (5, 4) and parts.dtype == np.int64
    assert joined(parts, bits).tolist() == want == weighted.weigh(counts).tolist()
    assert (len(parts) == 1) == (max(weights) < 2**bits)


def test_weighing_counts_copies_a_few_megabytes_of_them_at_a_time():
    import tracemalloc

    from sim.analysis.conditioning import WEIGH_BYTES, Weighted

    weighted = Weighted.__new__(Weighted)
    weighted.w = [20**k for k in range(16)]  # (two parts of int64)
    weighted.wo = np.array(weighted.w, dtype=object)
    counts = np.ones((16, 200_000), np.int32).T  # (levels, slots), as a month's slots are
    tracemalloc.start()
    try:
        parts, _ = weighted.weigh_parts(counts)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert parts.shape == (2, 200_000)
    assert peak < parts.nbytes + 1.5 * WEIGH_BYTES < counts.size * 8  # (an int64 copy)


def test_counts_too_large_for_a_digit_are_weighed_in_python_ints():
    from sim.analysis.conditioning import Weighted

    weighted = Weighted.__new__(Weighted)
    weighted.w = [3, 5]
    weighted.wo = np.array(weighted.w, dtype=object)
    counts = np.array([[2**61, 2**61 - 1]], np.int64)  # slots x most: 2^62, no bit left
    parts, bits = weighted.weigh_parts(counts)
    assert bits == 0 and parts.tolist() == [[3 * 2**61 + 5 * (2**61 - 1)]]


@pytest.mark.slow
def test_conditioning_gives_the_same_files_whatever_the_chunk_size(write, observations, tmp_path):
    scenario = write(SPREAD)
    path = observations("2024-05,alpha,700,800,reported,,,,\n2024-10,beta,300,,reported,,,,\n")
    outs = []
    for chunk in ("7", "1000", "100000"):
        out = tmp_path / f"chunk-{chunk}"
        res = invoke(
            "run", str(scenario), "--observed", str(path), "--draws", "1500", "--seed", "3",
            "--condition", "--chunk", chunk, "--out", str(out), "-q",
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        outs.append(out)
    names = [
        "bands.csv",
        "dates.csv",
        "bands_conditioned.csv",
        "dates_conditioned.csv",
        "milestones.csv",
        "observed.csv",
        "conditioning.csv",
    ]
    for name in names:
        for other in outs[1:]:
            assert (outs[0] / name).read_bytes() == (other / name).read_bytes(), name


@pytest.mark.slow
def test_the_shipped_record_conditions_alike_whatever_the_chunk_size(monkeypatch):
    # the default scenario's ramps (a drawn target; a drawn level down to a drawn
    # residual) with draws of several tags in a group: ramp tables that carry the tag,
    # over chunks whose tags spread differently
    from test_ensemble import calls_of

    from sim.analysis.ramps import RampTable

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    path = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    counted = calls_of(monkeypatch, RampTable, "tagged_cells")
    whole = conditioned(scenario, path, 12_000, 3)
    assert counted, "the test needs tagged ramp tables"
    for chunk in (613, 4096):
        assert_same_conditioned(conditioned(scenario, path, 12_000, 3, chunk=chunk), whole)


@pytest.mark.slow
def test_conditioning_in_merged_parts_equals_conditioning_in_one_pass(spread, observations):
    from conftest import InProcessParts

    path = observations("2024-05,alpha,700,800,reported,,,,\n2024-03,beta,500,500,official,,,,\n")
    here = conditioned(spread, path, 3000, 6, chunk=256)
    there = conditioned(spread, path, 3000, 6, chunk=100, executor=InProcessParts(4))
    assert_same_conditioned(here, there)


def test_conditioning_leaves_the_plain_ensemble_exactly_as_without_it(spread, observations):
    path = observations("2024-05,alpha,700,800,reported,,,,\n")
    plain = sim.run(spread, draws=1200, seed=4)
    cond = conditioned(spread, path, 1200, 4)
    pd.testing.assert_frame_equal(plain.bands, cond.bands)
    pd.testing.assert_frame_equal(plain.dates, cond.dates)
    assert plain.milestones.p_met.tolist() == cond.milestones.p_met.tolist()


def test_a_report_every_draw_fits_changes_nothing(spread, observations):
    # 2024-01 alpha is 800..1200 in every draw: a report of 0..5000 fits all equally
    path = observations("2024-01,alpha,0,5000,reported,,,,\n")
    result = conditioned(spread, path, 1500, 9)
    c = result.observed.conditioned
    assert c.effective == {"base": 1500.0, "slow": 1500.0}
    pd.testing.assert_frame_equal(c.bands.reset_index(drop=True), result.bands)
    pd.testing.assert_frame_equal(c.dates.reset_index(drop=True), result.dates)
    assert (result.milestones.p_met == result.milestones.p_met_conditioned).all()


def test_a_report_no_draw_comes_near_is_flagged_and_leaves_the_others_untouched(
    spread, observations
):
    informative = "2024-06,alpha,,650,reported,,,,\n"
    impossible = "2024-06,beta,9000,9000,reported,,,,\n"
    alone = conditioned(spread, observations(informative, "a.csv"), 1500, 2)
    both = conditioned(spread, observations(informative + impossible, "b.csv"), 1500, 2)
    ca, cb = alone.observed.conditioned, both.observed.conditioned
    assert ca.effective == cb.effective
    for theater in ("alpha", "beta"):  # neither theater's bands move
        pd.testing.assert_frame_equal(
            ca.bands[ca.bands.theater == theater], cb.bands[cb.bands.theater == theater]
        )
    # and the informative report did condition alpha
    assert not ca.bands[ca.bands.theater == "alpha"].equals(
        alone.bands[alone.bands.theater == "alpha"]
    )
    table = both.observed.table
    flagged = table[table.theater == "beta"]
    assert flagged.conditioning.tolist() == ["discrepant", "discrepant"]
    assert flagged.p_consistent.tolist() == [0.0, 0.0]
    assert both.observed.discrepant() == {"base": ["2024-06 beta"], "slow": ["2024-06 beta"]}


@pytest.mark.slow
def test_the_run_says_which_reports_no_draw_comes_near(write, observations, tmp_path):
    scenario = write(SPREAD)
    path = observations("2024-06,alpha,,650,reported,,,,\n2024-06,beta,9000,9000,reported,,,,\n")
    res = invoke(
        "run", str(scenario), "--observed", str(path), "--draws", "300", "--seed", "1",
        "--condition", "--out", str(tmp_path / "run"),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert (
        "discrepant: 2024-06 beta: no draw of any variant comes within its tolerance; "
        "left out of the weights" in res.output
    )
    rows = read_csv(tmp_path / "run" / "observed.csv")
    assert [r["conditioning"] for r in rows if r["theater"] == "beta"] == ["discrepant"] * 2
    # each variant's line counts the report that weighs its draws, and the other apart
    lines = [line.strip() for line in res.output.splitlines()]
    assert any(
        line.startswith("base, slow: ") and line.endswith(", 1 report (and 1 discrepant, left out)")
        for line in lines
    ), res.output


@pytest.mark.slow
def test_too_few_effective_draws_is_a_warning_and_the_variant_is_left_out(
    write, observations, tmp_path
):
    # of 60 draws, a report that three of them fit (their starting levels) leaves
    # (3 + 57/20)^2 / (3 + 57/400) = 10.9 effective draws
    scenario = write(SPREAD)
    start = np.sort(Draws(1).take(sim.load_scenario(scenario).plan("base"), 60).initial[:, 0])
    i = next(i for i in range(1, 57) if start[i - 1] < start[i] and start[i + 2] < start[i + 3])
    low, high = int(start[i]), int(start[i + 2])
    assert int(((start >= low) & (start <= high)).sum()) == 3
    path = observations(f"2024-01,alpha,{low},{high},reported,0,,,\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        ["run", str(scenario), "--observed", str(path), "--draws", "60", "--seed", "1",
         "--condition", "--out", str(out), "-q"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = read_csv(out / "conditioning.csv")
    assert [r["effective_draws"] for r in rows] == ["10.89", "10.89"]
    assert "forcesim: warning: no variant keeps 30 effective draws or more" in res.stderr
    assert "no conditioned files were written" in res.stderr
    assert not (out / "bands_conditioned.csv").exists()
    assert not (out / "fan_conditioned.png").exists()


# ---------------------------------------------------------------- as of a date


def test_as_of_conditions_only_on_what_was_known_and_scores_the_rest_later(spread, observations):
    early = "2024-03-10,alpha,850,950,reported,,,,\n"
    late = "2024-07,alpha,,300,reported,,,,\n2024-09-02,beta,100,100,reported,,,,\n"
    both = conditioned(spread, observations(early + late, "all.csv"), 1200, 8, as_of="2024-06")
    only = conditioned(spread, observations(early, "early.csv"), 1200, 8)
    t = both.observed.table
    assert t[t.variant == "base"].known.tolist() == [True, False, False]
    assert t[t.variant == "base"].conditioning.tolist() == ["used", "later", "later"]
    pd.testing.assert_frame_equal(both.observed.conditioned.bands, only.observed.conditioned.bands)
    # the later reports are still scored, out of sample
    assert t[~t.known].p_consistent.notna().all()
    assert both.observed.record()["as_of"] == "2024-06-30"


def test_a_month_only_report_is_known_once_its_month_is_over(spread, observations):
    obs = sim.load_observations(observations("2024-06,alpha,500,500,reported,,,,\n"), spread)
    (o,) = obs.items
    assert not o.known(pd.Timestamp("2024-06-29").date())
    assert o.known(pd.Timestamp("2024-06-30").date())


@pytest.mark.parametrize(
    "as_of,found",
    [
        ("soon", "expected a date as YYYY-MM-DD or YYYY-MM, found 'soon'"),
        ("2024-02-30", "expected a real calendar date, found '2024-02-30'"),
        ("2030-01", "expected a date within the scenario's calendar (2024-01 to 2024-12), found"),
        ("2023-12-31", "within the scenario's calendar"),
    ],
)
def test_a_bad_as_of_date_is_one_line_and_nothing_is_written(
    write, observations, tmp_path, as_of, found
):
    scenario = write(SPREAD)
    path = observations("2024-03,alpha,900,900,reported,,,,\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["run", str(scenario), "--observed", str(path), "--as-of", as_of, "--out", str(out)]
    )
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln]
    assert len(lines) == 1
    assert lines[0].startswith("forcesim: error: <command line>:1:1: --as-of: ")
    assert found in lines[0]
    assert not out.exists()


@pytest.mark.parametrize("as_of", ["２０２４-06", "2024-０６", "2024-06-1５", "2024-06-15\u0663"])
def test_a_date_in_another_script_s_digits_is_refused_in_the_words_of_every_bad_form(
    write, observations, tmp_path, as_of
):
    # (fullwidth digits in the year or month said 'expected a month as YYYY-MM', and in
    # the day they were read as ASCII ones: 2024-06-1５ ran as 2024-06-15)
    scenario = write(SPREAD)
    path = observations("2024-03,alpha,900,900,reported,,,,\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main, ["run", str(scenario), "--observed", str(path), "--as-of", as_of, "--out", str(out)]
    )
    assert res.exit_code == 2 and not out.exists()
    assert res.output == (
        "forcesim: error: <command line>:1:1: --as-of: expected a date as YYYY-MM-DD or "
        f"YYYY-MM, found {as_of!r}\n"
    )
    row = observations(f"{as_of},alpha,900,900,reported,,,,\n", "other.csv")
    with pytest.raises(
        sim.ScenarioError, match=f"date: expected a date as YYYY-MM-DD or YYYY-MM, found {as_of!r}$"
    ):
        read_observations(row, ["alpha"])
    dated = write({**SPREAD, "as_of": as_of}, name="dated.yaml")
    with pytest.raises(
        sim.ScenarioError,
        match=f"as_of: expected a date as YYYY-MM-DD or a month as YYYY-MM, found {as_of!r}$",
    ):
        sim.load_scenario(dated)


def test_as_of_needs_observations(write, tmp_path):
    scenario = write(SPREAD)
    res = CliRunner().invoke(
        main, ["run", str(scenario), "--as-of", "2024-06", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2 and res.output == (
        "forcesim: error: <command line>:1:1: --as-of: expected observations for --as-of: "
        "--observed FILE, or observations in the scenario, found no --observed, and no "
        f"observations in {scenario}\n"
    )


# ---------------------------------------------------------------- which report counts


def test_of_two_reports_in_one_month_the_later_counts_and_on_one_day_the_last_row(
    spread, observations
):
    rows = (
        "2024-01-02,alpha,1000,1000,reported,,,,\n"
        "2024-01-20,alpha,1100,1100,reported,,,,\n"  # later in the month: counts
        "2024-01-20,beta,600,600,reported,,,,\n"
        "2024-01-20,beta,650,650,reported,,,,\n"  # same day, listed last: counts
        "2024-01-02,beta,500,500,official,0,,,\n"  # another kind: counts too
    )
    result, alone = _with_and_without_the_superseded(
        spread, observations, rows, ["superseded", "used", "superseded", "used", "used"]
    )
    pd.testing.assert_frame_equal(
        result.observed.conditioned.bands, alone.observed.conditioned.bands
    )


def _with_and_without_the_superseded(
    spread: Any, observations: Any, rows: str, said: list[str]
) -> tuple[Any, Any]:
    """The ensemble of ``spread`` conditioned on ``rows`` (each said, for variant base, to
    be ``said``), and conditioned on the rows said ``used`` alone."""
    result = conditioned(spread, observations(rows, "all.csv"), 800, 1)
    t = result.observed.table
    assert t[t.variant == "base"].conditioning.tolist() == said
    lines = rows.splitlines(keepends=True)
    kept = "".join(line for line, s in zip(lines, said, strict=True) if s == "used")
    return result, conditioned(spread, observations(kept, "kept.csv"), 800, 1)


def test_an_official_figure_and_a_count_of_a_series_without_a_reporting_basis_count_once(
    spread, observations
):
    # alpha has no reporting basis: its official figure is its whole level, the same
    # quantity a count states, and both weighed the draws (a draw missing that month
    # weighed eps^2, where a month of one report weighs eps); beta has one, so its
    # official figure and its count are two quantities and both count
    rows = (
        "2024-01-05,alpha,800,1000,official,,,,\n"
        "2024-01-20,alpha,1000,1200,reported,,,,\n"  # later: the one that counts
        "2024-02-10,alpha,700,1000,reported,,,,\n"
        "2024-02-10,alpha,900,1200,official,,,,\n"  # same day, listed last: counts
        "2024-01-02,beta,500,500,official,0,,,\n"
        "2024-01-02,beta,550,700,reported,,,,\n"
    )
    result, alone = _with_and_without_the_superseded(
        spread,
        observations,
        rows,
        ["superseded", "used", "superseded", "used", "used", "used"],
    )
    assert result.observed.conditioned.effective == alone.observed.conditioned.effective
    assert result.observed.conditioned.bands is not None
    pd.testing.assert_frame_equal(
        result.observed.conditioned.bands, alone.observed.conditioned.bands
    )


# ---------------------------------------------------------------- kinds and tolerances


def test_an_official_figure_is_compared_with_the_level_less_the_unreported_part(
    spread, observations
):
    # beta at the start: 500 official, the whole force 500 + U: an official 500 fits
    # every draw, a reported 500 only those with U within 5 % (U <= 25)
    path = observations("2024-01,beta,500,500,official,,,,\n2024-01,beta,500,500,reported,,,,\n")
    result = sim.run(spread, draws=3000, seed=2, observed=sim.load_observations(path, spread))
    t = result.observed.table
    base = t[t.variant == "base"]
    assert base.p_consistent.tolist()[0] == 1.0
    u = Draws(2).take(result.plans["base"], 3000).unreported[:, 1]
    assert base.p_consistent.tolist()[1] == round(float(np.mean(u <= 25)), 6)
    # the central run: U = 150, so official 500 and whole 650
    assert base.level.tolist() == [500, 650]
    assert base.consistent.tolist() == [True, False]


def test_a_target_is_drawn_but_never_scored_or_conditioned_on(spread, observations):
    path = observations(
        "2024-02,alpha,0,0,target,,2024-11,,\n2024-03,alpha,950,1050,reported,,,,\n"
    )
    result = conditioned(spread, path, 500, 3)
    t = result.observed.table
    target = t[t.kind == "target"]
    assert target.status.tolist() == ["target", "target"]
    assert target.level.isna().all() and (target.consistent == "").all()
    assert target.p_consistent.isna().all() and (target.conditioning == "").all()
    assert (target.by == "2024-11").all()
    assert result.observed.conditioned.used == {"base": 1, "slow": 1}


def test_a_row_tolerance_overrides_the_run_tolerance(spread, observations):
    path = observations("2024-01,alpha,1000,1000,reported,25%,,,\n2024-01,alpha,1000,1000,,,,,\n")
    result = sim.run(spread, observed=sim.load_observations(path, spread), tolerance="1%")
    t = result.observed.table[lambda d: d.variant == "base"]
    assert t.accept_low.tolist() == [750, 990] and t.accept_high.tolist() == [1250, 1010]
    assert t.tolerance.tolist() == ["25%", "1%"]


BAD_ROWS = [
    ("2024-02,alpha,1,1,reportd,,,,", "kind", 5, "did you mean 'reported'", "'reportd'"),
    ("2024-02,alpha,1,1,reported,lots,,,", "tolerance", 6, "a tolerance as a percentage", "'lots'"),
    ("2024-02,alpha,1,1,reported,-5%,,,", "tolerance", 6, "from 0% to 100%", "'-5%'"),
    ("2024-02,alpha,1,1,reported,,2024-09,,", "by", 7, "a blank (by is the month", "'2024-09'"),
    ("2024-02,alpha,0,0,target,,2023-09,,", "by", 7, "at or after the row's date", "'2023-09'"),
    ("2024-02,alpha,0,0,target,,2024-13,,", "by", 7, "month between 01 and 12", "2024-13"),
]


@pytest.mark.parametrize("row,column,field,expected,found", BAD_ROWS)
def test_a_bad_kind_tolerance_or_due_month_is_one_located_line(
    observations, row, column, field, expected, found
):
    path = observations(row + "\n")
    col = [1] + [i + 2 for i, ch in enumerate(row) if ch == ","]
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    message = str(err.value)
    assert message.startswith(f"{path}:2:{col[field - 1]}: {column}: expected "), message
    assert expected in message and found in message.split(", found ", 1)[1], message


def test_inline_observations_take_kind_tolerance_and_by(write):
    doc = dict(SPREAD)
    doc["observations"] = [
        {"date": "2024-03", "theater": "beta", "troops_low": 500, "troops_high": 500,
         "kind": "official", "tolerance": 0},
        {"date": "2024-03", "theater": "alpha", "troops_low": 0, "troops_high": 0,
         "kind": "target", "by": "2024-11"},
        {"date": "2024-03", "theater": "alpha", "troops_low": 900, "troops_high": 900,
         "tolerance": "10%"},
    ]  # fmt: skip
    obs = sim.load_scenario(write(doc)).observations()
    assert [o.kind for o in obs] == ["official", "target", "reported"]
    assert [str(o.tolerance) if o.tolerance else None for o in obs] == [
        "none (exact)",
        None,
        "±10 %",
    ]
    assert obs.items[1].by is not None


def test_an_unknown_inline_kind_is_a_located_error(write):
    doc = dict(SPREAD)
    doc["observations"] = [
        {"date": "2024-03", "theater": "alpha", "troops_low": 1, "troops_high": 1, "kind": "rumour"}
    ]
    with pytest.raises(sim.ScenarioError, match=r"observations\[0\]\.kind: expected one of"):
        sim.load_scenario(write(doc))


def test_an_open_ended_report_gets_no_percentile_rank_but_its_share_of_draws(spread, observations):
    path = observations("2024-06,alpha,,5000,reported,,,,\n2024-06,alpha,5000,,reported,,,,\n")
    result = sim.run(spread, draws=500, seed=1, observed=sim.load_observations(path, spread))
    t = result.observed.table[lambda d: d.variant == "base"]
    assert t.percentile_rank.isna().all()
    assert t.p_consistent.tolist() == [1.0, 0.0]


# ---------------------------------------------------------------- the reporting basis


def test_a_reporting_basis_adds_the_unreported_part_to_the_official_start(spread):
    plan = spread.plan("base")
    inputs = Draws(4).take(plan, 2000)
    beta = plan.tracks.index(next(t for t in plan.tracks if t.key == "beta"))
    u = inputs.unreported[:, beta]
    assert u.min() >= 0 and u.max() <= 300 and len(set(u.tolist())) > 250
    np.testing.assert_array_equal(inputs.initial[:, beta], 500 + u)
    result = sim.run(spread)
    m = result.monthly[(result.monthly.variant == "base") & (result.monthly.theater == "beta")]
    # central U = 150: the whole force starts at 650, the official figure at 500,
    # and both reach the target; the official figure reaches 0 first when it is below U
    assert (m.troops.iloc[0], m.official.iloc[0]) == (650, 500)
    assert (m.official == np.maximum(m.troops - 150, 0)).all()


def test_unreported_troops_on_a_theater_with_sites_are_a_located_error(write):
    sites = {"a": {"initial": 600}, "b": {"initial": 400}}
    doc = make_doc(
        theaters={"alpha": {"unreported": 100, "sites": sites}},
        milestones={"out": {"theater": "alpha/a", "deadline": "2024-11", "target": {"level": 0}}},
    )
    with pytest.raises(
        sim.ScenarioError, match=r"theaters\.alpha\.unreported: expected unreported on each site"
    ):
        sim.load_scenario(write(doc))


def test_negative_unreported_troops_are_a_located_error(write):
    doc = make_doc(theaters={"alpha": {"initial": 1000, "unreported": {"uniform": [-10, 10]}}})
    with pytest.raises(
        sim.ScenarioError,
        match=r"theaters\.alpha\.unreported\.uniform\[0\]: expected a number of troops of 0",
    ):
        sim.load_scenario(write(doc))


def test_the_json_schema_has_the_new_keys():
    from sim.provenance import json_schema

    schema = json.loads(json_schema())
    defs = schema["$defs"]
    assert "unreported" in defs["Theater"]["properties"]
    assert "unreported" in defs["Site"]["properties"]
    assert "delay" in defs["Milestone"]["properties"]
    assert {"kind", "tolerance", "by"} <= set(defs["Observation"]["properties"])


# ---------------------------------------------------------------- the shipped record


SHIPPED_RECORD = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"


def test_every_row_of_the_shipped_record_cites_a_source_of_the_default_scenario():
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    obs = sim.load_observations(SHIPPED_RECORD, scenario)
    ids = {s.id for s in scenario.doc.sources}
    assert len(obs) >= 30
    assert all(o.source in ids for o in obs), [o.source for o in obs if o.source not in ids]
    assert all(o.quote for o in obs)
    assert {o.kind for o in obs} == {"reported", "official", "target"}


def test_conditioning_on_the_shipped_record_keeps_draws_in_every_variant():
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    obs = sim.load_observations(SHIPPED_RECORD, scenario)
    # as-reported keeps 0.5 % of its draws (the record's 2,000s and 2,500s in Iraq pull
    # apart): 54 of 10,000, about 11 of 2,000, below the 30 a variant needs
    result = sim.run(scenario, draws=10_000, seed=1, observed=obs, condition=True)
    c = result.observed.conditioned
    assert c.variants == scenario.variant_names  # every variant keeps 30 effective draws
    iraq = c.bands[c.bands.theater == "iraq"]
    assert set(iraq.variant) == set(scenario.variant_names)
    # Syria's revealed 2,000 is reachable: the whole force, official figure and the rest
    t = result.observed.table
    revealed = t[(t.date == "2024-12-19") & (t.kind == "reported")]
    assert (revealed.p_consistent > 0).all()


# ---------------------------------------------------------------- drawn again from the files


@pytest.mark.slow
def test_forcesim_plot_draws_a_conditioned_run_as_of_a_date_again_byte_for_byte(tmp_path):
    out = tmp_path / "o"
    args = ["run", str(DEFAULT_SCENARIO), "-v", "on-time", "--draws", "400", "--seed", "1"]
    more = ["--observed", str(SHIPPED_RECORD), "--condition", "--as-of", "2025-06-01"]
    res = CliRunner().invoke(main, [*args, *more, "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    charts = ("envelope.png", "fan.png", "fan_conditioned.png")
    before = {name: (out / name).read_bytes() for name in charts}
    for name in charts:
        (out / name).unlink()
    res = CliRunner().invoke(main, ["plot", str(out)])
    assert res.exit_code == 0, res.output
    # the as-of line, known and later markers and effective draws come back from the files
    assert {name: (out / name).read_bytes() for name in charts} == before


@pytest.mark.slow
def test_a_backtest_keeps_each_reports_kind_tolerance_and_due_month_for_plot(tmp_path):
    from sim.export import load_backtest

    out = tmp_path / "bt"
    args = ["backtest", str(DEFAULT_SCENARIO), "-v", "on-time", "--observed", str(SHIPPED_RECORD)]
    res = CliRunner().invoke(main, [*args, "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    again = load_backtest(out).observations
    shipped = sim.load_observations(SHIPPED_RECORD, sim.load_scenario(DEFAULT_SCENARIO))
    key = [(o.date, o.theater, o.kind, o.tolerance, o.by) for o in shipped]
    assert [(o.date, o.theater, o.kind, o.tolerance, o.by) for o in again] == key
    before = (out / "backtest.png").read_bytes()
    (out / "backtest.png").unlink()
    assert CliRunner().invoke(main, ["plot", str(out)]).exit_code == 0
    assert (out / "backtest.png").read_bytes() == before


@pytest.mark.slow
def test_the_run_table_says_which_theater_shows_troops_official_figures_leave_out(tmp_path):
    res = CliRunner().invoke(main, ["run", str(DEFAULT_SCENARIO), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    notes = [line for line in res.output.splitlines() if "official figures leave" in line]
    assert notes == [
        "syria: the whole force shown; official figures leave some out "
        "(1,500 vs an official 900 in 2024-09; see monthly.csv)"
    ]


def test_variants_conditioned_in_batches_side_by_side_equal_one_at_a_time(
    write, observations, monkeypatch
):
    # three variants whose tagged counts fit two at a time: a batch of two shares each
    # chunk's draws, the third runs alone; the same files as one variant at a time,
    # here and in parts
    from conftest import InProcessParts

    import sim.analysis.ensemble as ensemble
    from sim.analysis.summaries import counts_bytes

    doc = json.loads(json.dumps(SPREAD))
    doc["variants"]["late"] = {
        "description": "announced three months late",
        "overrides": {"announcement": {"delay": 3}},
    }
    scenario = sim.load_scenario(write(doc))
    path = observations("2024-05,alpha,700,800,reported,,,,\n2024-03,beta,500,500,official,,,,\n")
    monkeypatch.setattr(ensemble, "DEFAULT_CHUNK", 300)  # several chunks to share
    each = counts_bytes(scenario.plan("base")) * 3  # three slots: no, one or two misses
    monkeypatch.setattr(ensemble, "FAN_BYTES", 2 * each)
    batches = []
    real = ensemble.fan_batches
    monkeypatch.setattr(
        ensemble, "fan_batches", lambda *args: batches.append(real(*args)) or batches[-1]
    )
    runs = [
        conditioned(scenario, path, 2_000, 9),
        conditioned(scenario, path, 2_000, 9, executor=InProcessParts(3)),
    ]
    assert batches == [[["base", "slow"], ["late"]]] * 2
    monkeypatch.setattr(ensemble, "FAN_BYTES", 0)  # one at a time
    alone = conditioned(scenario, path, 2_000, 9)
    for got in runs:
        assert_same_conditioned(got, alone)


@pytest.mark.slow
def test_conditioning_draws_each_with_its_own_timing_theater_by_theater_is_exact(
    write, observations, monkeypatch
):
    # every milestone late at random: draws are stepped theater by theater, twice (the
    # levels the reports read, which tag each draw; then the counts, each draw in the slot
    # of its tag, ramps in tables per tag); the same as stepping by whole timing key
    import sim.analysis.accumulator as accumulator

    doc = json.loads(json.dumps(SPREAD))
    for ms in doc["milestones"].values():
        ms["delay"] = {"choice": {"values": [0, 1]}}
    doc["residuals"] = {
        "guard": {"theater": "beta", "from": {"milestone": "half"}, "size": {"uniform": [50, 90]}}
    }
    scenario = sim.load_scenario(write(doc))
    path = observations(
        "2024-05,alpha,700,800,reported,,,,\n2024-08,beta,100,300,official,,,,\n"
        "2024-10,alpha,0,150,reported,,,,\n"
    )
    from test_ensemble import calls_of

    routed = calls_of(monkeypatch, accumulator.Accumulator, "_add_by_theater")
    got = conditioned(scenario, path, 3_000, 11, chunk=500)
    assert routed and all(len(args) == 3 and args[2] is not None for args in routed)
    monkeypatch.setattr(accumulator, "FEW_DRAWS", 1)  # never theater by theater
    whole = conditioned(scenario, path, 3_000, 11, chunk=500)
    assert len(routed) == 12  # (2 variants x 6 chunks, the first run only)
    assert_same_conditioned(got, whole)


def test_a_conditioned_fan_as_of_a_date_names_both_the_scenarios_date_and_the_news_date():
    import matplotlib.pyplot as plt

    from sim.export.write import run_charts

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    obs = sim.load_observations(SHIPPED_RECORD, scenario)
    result = sim.run(
        scenario, ["on-time"], draws=400, seed=1, observed=obs, condition=True, as_of="2025-06-01"
    )
    axes = run_charts(result)["fan_conditioned"]()
    texts = [t.get_text() for t in axes[0].figure.texts]
    plt.close(axes[0].figure)
    footer = next(t for t in texts if "Sources of its numbers:" in t)
    assert footer.startswith(
        "Scenario as of 6 Sep 2024, conditioned on reports known on 1 Jun 2025. "
        "Sources of its numbers:"
    )


@pytest.mark.slow
def test_the_run_prints_one_effective_draws_line_for_variants_weighed_alike(tmp_path):
    args = ["run", str(DEFAULT_SCENARIO), "--draws", "2000", "--seed", "1"]
    more = ["--observed", str(SHIPPED_RECORD), "--condition", "--out", str(tmp_path / "o")]
    res = CliRunner().invoke(main, [*args, *more])
    assert res.exit_code == 0, res.output
    block = res.output.split("effective draws per variant\n", 1)[1].split("    discrepant:")[0]
    block = block.split("    reports fewer than half the weighted draws")[0]
    # (after the note that reports made after the scenario's as_of count too)
    lines = [line for line in block.splitlines() if line.startswith("    ") and ": " in line]
    heads = [line.split(":", 1)[0].strip() for line in lines if "as_of" not in line]
    # variants that change nothing the reports see are weighed alike, on one line
    assert "on-time, residual, syria-follows" in heads
    named = [name for head in heads for name in head.split(", ")]
    assert sorted(named) == sorted(sim.load_scenario(DEFAULT_SCENARIO).variant_names)


# ---------------------------------------------------------------- the error rate from the CLI


@pytest.mark.slow
def test_the_error_rate_is_set_from_the_command_line_as_from_the_api_in_the_forms_tolerance_reads(
    write, observations, tmp_path
):
    # sim.run(..., error=...) and the docs had it; forcesim run had no way to set it
    scenario = write(SPREAD)
    path = observations("2024-03,alpha,900,1000,reported,,,,\n2024-06,beta,300,300,official,,,,\n")
    want = conditioned(sim.load_scenario(scenario), path, 1000, 3, error="1/4")
    for rate in ("25%", "0.25", "1/4", "25 %", ".25"):  # (as --tolerance reads them too)
        out = tmp_path / f"r{rate.replace('/', '-')}"
        args = ["run", str(scenario), "--observed", str(path), "--draws", "1000", "--seed", "3"]
        res = invoke(*args, "--condition", "--error-rate", rate, "--out", str(out), "-q")
        assert res.exit_code == 0, res.output
        record = json.loads((out / "run.json").read_text())
        assert record["observed"]["conditioning"]["error_rate"] == "1/4"
        got = read_csv(out / "conditioning.csv")
        assert [float(r["effective_draws"]) for r in got] == [
            round(e, 3) for e in want.observed.conditioned.effective.values()
        ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        ("0.0000000000000000001", "99.99999999999999999 %"),  # (a float says 100 %)
        ("5%", "95 %"),
        ("1/3", "≈66.6667 %"),  # (no end to its digits: marked as rounded)
    ],
)
def test_the_chance_a_report_is_right_is_shown_without_rounding_the_rate_given(
    write, observations, tmp_path, rate, shown
):
    path = observations("2024-03,alpha,900,1000,reported,,,,\n")
    args = ["run", str(write(SPREAD)), "--observed", str(path), "--draws", "200", "--seed", "3"]
    res = invoke(*args, "--condition", "--error-rate", rate, "--out", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    assert f"each right within its tolerance with probability {shown})" in res.output
    page = sim.write_report(tmp_path / "o", tmp_path / "page.html")
    assert f"with probability {shown})" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "rate", ["0", "0%", "100%", "1", "1.5", "-5%", "5e-200", "2e0", "lots", "1/0"]
)
def test_a_bad_error_rate_is_one_line_and_nothing_is_written(write, observations, tmp_path, rate):
    path = observations("2024-03,alpha,900,1000,reported,,,,\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(write(SPREAD)),
            "--observed",
            str(path),
            "--draws",
            "100",
            "--seed",
            "1",
            "--condition",
            f"--error-rate={rate}",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1
    assert res.stderr.startswith("forcesim: error: <command line>:1:1: --error-rate: expected a ")
    assert f"found {rate!r}" in res.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("rate", "hint"),
    [
        ("5", " (a chance of 5 percent is written 5%)"),
        ("5.", " (a chance of 5 percent is written 5%)"),
        ("12.5", " (a chance of 12.5 percent is written 12.5%)"),
        ("3/2", ""),
        ("100", ""),
    ],
)
def test_an_error_rate_written_as_a_whole_percentage_without_its_sign_is_told_to_add_it(
    write, observations, tmp_path, rate, hint
):
    # --tolerance 0.05 said "write 5%"; --error-rate 5 said nothing of the percent sign
    path = observations("2024-03,alpha,900,1000,reported,,,,\n")
    args = ["run", str(write(SPREAD)), "--observed", str(path), "--draws", "100", "--seed", "1"]
    res = invoke(*args, "--condition", "--error-rate", rate, "--out", str(tmp_path / "o"))
    assert res.exit_code == 2
    assert res.stderr.rstrip().endswith(f"found {rate!r}{hint}")


def test_the_error_rate_needs_conditioning(write, observations, tmp_path):
    path = observations("2024-03,alpha,900,1000,reported,,,,\n")
    res = CliRunner().invoke(
        main,
        ["run", str(write(SPREAD)), "--observed", str(path), "--error-rate", "10%"]
        + ["--out", str(tmp_path / "out")],
    )
    assert (
        res.exit_code == 2
        and "<command line>:1:1: --error-rate: expected --condition" in res.stderr
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("weights", [[1], [400, 20, 1], [2**40, 3, 1, 7]])
@pytest.mark.parametrize("block", [None, 1])
def test_weighted_bands_in_int64_equal_the_bands_checked_in_exact_integers(
    weights, block, monkeypatch
):
    # where the total weight times the levels fits in int64, the weighted counts are
    # summed in int64 and each percentile found by one search; the guess checked in
    # Python integers gives the same mean, lowest, highest level and percentiles, and
    # both are the weighted inverse cdf of each month
    from sim.analysis.conditioning import Weighted

    if block is not None:  # (a month at a time)
        monkeypatch.setattr("sim.analysis.conditioning.BLOCK_BYTES", block)
    rng = np.random.default_rng(len(weights) + (block or 0))
    months, width = 9, 60
    n = [int(x) for x in rng.integers(1, 40, len(weights))]  # draws per slot
    h3 = np.zeros((months, width, len(weights)), np.int32)
    for m in range(months):  # each slot's draws over a few levels of each month
        low = int(rng.integers(0, width - 12))
        for k, count in enumerate(n):
            h3[m, low : low + 12, k] = rng.multinomial(count, [1 / 12] * 12)
    h3[2] = 0
    h3[2, width - 1] = n  # (every draw at the highest level)
    h3[3] = 0
    h3[3, 0] = n  # (every draw at level 0)
    weighted = Weighted.__new__(Weighted)
    weighted.w, weighted.n = weights, n
    weighted.wo = np.array(weights, dtype=object)
    weighted.total = sum(w * c for w, c in zip(weights, n, strict=True))
    fast, exact = weighted._series_int64(h3), weighted._series_exact(h3)
    assert list(fast) == list(exact)
    for column in exact:
        assert np.asarray(fast[column]).tolist() == np.asarray(exact[column]).tolist(), column
    for m in range(months):
        counts = [
            sum(w * int(c) for w, c in zip(weights, h3[m, lv], strict=True)) for lv in range(width)
        ]
        running = np.cumsum(np.array(counts, dtype=object))
        for q in (5, 50, 95):
            want = next(lv for lv in range(width) if 100 * running[lv] >= q * weighted.total)
            assert fast[f"p{q:02d}"][m] == want
        taken = [lv for lv in range(width) if counts[lv]]
        assert (fast["min"][m], fast["max"][m]) == (taken[0], taken[-1])


def test_a_wrong_floating_point_guess_of_a_weighted_percentile_is_corrected_exactly():
    # the floating-point pass only guesses the column; guesses off in either direction
    # are found out and searched again in exact integers
    from sim.analysis.conditioning import Weighted

    weighted = Weighted.__new__(Weighted)
    weighted.w = [1, 20, 400]
    weighted.wo = np.array(weighted.w, dtype=object)
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 5, size=(6, 3, 40))  # (rows, slots, levels)
    cums = np.cumsum(counts, axis=2)
    weighted.total = int(cums[0, :, -1] @ np.array(weighted.w))
    totals = cums[:, :, -1] @ np.array(weighted.w)
    need = [int(t) * 50 for t in totals]  # each row's own median
    at = np.arange(6)
    want = [
        next(c for c in range(40) if 100 * int(cums[r, :, c] @ np.array(weighted.w)) >= need[r])
        for r in range(6)
    ]
    for guess in (np.zeros(6, np.int64), np.full(6, 39), np.array(want) + 1):
        got = weighted._refine(lambda col: cums[at, :, col], need, guess, 40)
        assert got.tolist() == want


def test_the_weighted_share_within_tolerance_equals_a_brute_force_weighted_count(
    write, observations
):
    # p_consistent_conditioned of ranges, open ends and an official figure, whose
    # accepted ranges end between whole troops, against each draw's weight and level
    spread = sim.load_scenario(write(SPREAD))
    path = observations(
        "2024-01,alpha,900,1100,reported,,,,\n"
        "2024-06,alpha,,650,reported,,,,\n"
        "2024-09,alpha,150,,reported,,,,\n"
        "2024-03,beta,480,520,official,0,,,\n"
        "2024-11,alpha,333,333,reported,,,,\n"
    )
    n, seed, tol = 900, 12, Tolerance(relative=0.037)
    result = conditioned(spread, path, n, seed, tolerance=tol)
    obs = sim.load_observations(path, spread)
    table = result.observed.table
    for v in result.variants:
        levels, _, w = brute_weights(result, obs, v, n, seed, tol)
        assert len(set(w)) > 2, "the test needs draws of several weights"
        rows = table[table.variant == v].reset_index(drop=True)
        for c in checks_for(result.plans[v], obs, tol):
            lv = levels[c.series + ("#official" if c.official else "")][:, c.month]
            ok = (lv >= c.lo) & (lv <= c.hi)
            want = Fraction(sum(x for x, y in zip(w, ok, strict=True) if y), sum(w))
            assert rows.p_consistent_conditioned[c.index] == round(float(want), 6), (v, c)


# ---------------------------------------------------------------- memory with many reports


def _many_reports(observations, months: int = 12, per_month: int = 25) -> Path:
    """A record of ``per_month`` reports of alpha in each of ``months`` months (ranges
    of several widths, each from its own source), and an official figure of beta."""
    rows = []
    for m in range(1, months + 1):
        for i in range(per_month):
            low = 40 * ((i * 7 + m) % 25)
            rows.append(f"2024-{m:02d}-{1 + i % 28:02d},alpha,{low},{low + 150 + 10 * i},,,,s{i},")
    rows.append("2024-03-05,beta,480,520,official,0,,b,")
    return observations("\n".join(rows) + "\n")


def _written_share(share: Fraction) -> float:
    """A share as observed.csv writes it: 6 decimals, and 0 or 1 only when exact (a
    share that rounds to an end but is not one is written 0.000001 or 0.999999)."""
    out = round(float(share), 6)
    if 0 < share < 1 and out in (0.0, 1.0):
        return 0.000001 if out == 0.0 else 0.999999
    return out


def test_reports_of_one_month_share_one_distribution_and_each_scores_exactly(spread, observations):
    # 300 reports of alpha: the counts and the (weighted) distribution of its level are
    # one per month, however many reports name the month; each report's share within
    # its range is still its own, equal to a brute-force weighted count
    path = _many_reports(observations)
    n, seed, tol = 700, 4, Tolerance(relative=0.05)
    result = conditioned(spread, path, n, seed, tolerance=tol)
    obs = sim.load_observations(path, spread)
    assessment = result.observed
    table = assessment.table
    for v in result.variants:
        checks = checks_for(result.plans[v], obs, tol)
        shared = {id(assessment.distribution(v, c.index)) for c in checks}
        assert len(checks) == 301 and len(shared) == len({(c.series, c.month) for c in checks})
        levels, _, w = brute_weights(result, obs, v, n, seed, tol)
        assert len(set(w)) > 2, "the test needs draws of several weights"
        rows = table[table.variant == v].reset_index(drop=True)
        for c in checks:
            lv = levels[c.series + ("#official" if c.official else "")][:, c.month]
            ok = (lv >= c.lo) & (lv <= c.hi)
            want = Fraction(sum(x for x, y in zip(w, ok, strict=True) if y), sum(w))
            assert rows.p_consistent_conditioned[c.index] == _written_share(want), (v, c)
            assert rows.p_consistent[c.index] == _written_share(Fraction(int(ok.sum()), n))


@pytest.mark.slow
def test_a_tagger_reads_the_draws_of_a_timing_key_in_parts_within_its_budget_exactly(
    monkeypatch,
):
    # the levels a tagger reads are held for the draws of one part of a timing key at a
    # time (at most TAG_BYTES), and a group keeps the ramp months it read within
    # KEPT_BYTES (the rest are computed again when counted): the summaries do not change
    from test_ensemble import calls_of

    from sim.analysis.accumulator import Accumulator

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    path = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    whole = conditioned(scenario, path, 6000, 2)
    parts = calls_of(monkeypatch, Accumulator, "_add_tagged")
    monkeypatch.setattr("sim.model.fastpath.KEPT_BYTES", 0)
    monkeypatch.setattr("sim.analysis.accumulator.TAG_BYTES", 8 << 10)
    small = conditioned(scenario, path, 6000, 2)
    held = [8 * group.n * len(tagger.reads) for group, _, _, tagger, *_ in parts]
    assert max(held) <= 8 << 10 and len(held) > 6000 * 8 // (8 << 10)
    assert all(not group._months for group, *_ in parts)
    assert_same_conditioned(small, whole)


@pytest.mark.slow
def test_draws_spread_over_too_many_counts_of_misses_are_refused_in_one_line(
    spread, observations, tmp_path, monkeypatch
):
    # every number of reports a draw misses takes its own counts: draws missing from 0
    # to hundreds of reports would take hundreds of times a plain run's memory; past
    # TAGGED_BYTES the run stops at once with one line, and writes nothing
    monkeypatch.setattr("sim.analysis.accumulator.TAGGED_BYTES", 64 << 10)
    path = _many_reports(observations)
    scenario = tmp_path / "spread.yaml"
    scenario.write_text(json.dumps(SPREAD), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(scenario),
            "--observed",
            str(path),
            "--draws",
            "500",
            "--seed",
            "1",
            "--condition",
        ]
        + ["--out", str(out)],
    )
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln]
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"forcesim: error: {path}:1:1: (rows): expected draws that miss")
    assert ", found draws of " in lines[0] and " as of " not in lines[0]
    assert "at most 64 kB of counts in all)" in lines[0] and "--as-of" in lines[0]
    assert not out.exists()
    # without --condition the same record is scored
    plain = CliRunner().invoke(
        main,
        ["run", str(scenario), "--observed", str(path), "--draws", "500", "--seed", "1"]
        + ["--out", str(out)],
    )
    assert plain.exit_code == 0, plain.output


def test_weighted_bands_summarised_month_block_by_block_are_the_same(
    spread, observations, monkeypatch
):
    # a series' weighted counts are copied to whole numbers, with their running sums, a
    # block of months at a time (at most BLOCK_BYTES): one month per block gives the
    # same bands as all months at once
    path = observations(
        "2024-01,alpha,900,1100,reported,,,,\n2024-06,alpha,,650,reported,,,,\n"
        "2024-09,alpha,150,,reported,,,,\n2024-03,beta,480,520,official,0,,,\n"
    )
    whole = conditioned(spread, path, 1500, 8)
    monkeypatch.setattr("sim.analysis.conditioning.BLOCK_BYTES", 1)
    assert_same_conditioned(conditioned(spread, path, 1500, 8), whole)


def test_a_conditioned_run_holds_its_tagged_counts_and_little_more(
    write, observations, monkeypatch
):
    # one theater of up to 100,000 troops over 60 months: counts of 22.9 MB a slot.
    # Held levels take rows only for the months where a stretch starts or ends, and
    # the weighted dates and bands (and the plain bands of the same draws) read the
    # counts a block of months at a time: once every month's differences, int64 copies
    # of whole series and their running sums were held too, over 11x a slot's counts
    import tracemalloc

    scenario = sim.load_scenario(write(large_force_doc()))
    path = observations("2024-03-15,alpha,70000,90000,,,,,\n2025-06-15,alpha,50000,80000,,,,,\n")
    monkeypatch.setattr("sim.analysis.conditioning.BLOCK_BYTES", 1 << 20)
    monkeypatch.setattr("sim.analysis.accumulator.BLOCK_BYTES", 1 << 20)
    slot = 60 * 100_001 * 4
    tracemalloc.start()
    try:
        conditioned(scenario, path, 2_000, 1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * slot


@pytest.mark.slow
def test_the_tracks_of_compared_series_are_looked_up_as_often_whatever_the_draws(
    spread, observations, monkeypatch
):
    # the tagger looked up each compared series' tracks once per timing group: 474,000
    # lookups (1.5 s of 18) for 6,000 monthly reports at 10^5 draws; now once a variant
    from sim.model.plan import Plan

    path = observations(
        "2024-01,alpha,900,1100,reported,,,,\n2024-06,alpha,,650,reported,,,,\n"
        "2024-03,beta,480,520,official,0,,,\n"
    )
    calls = []
    lookup = Plan.series_tracks
    monkeypatch.setattr(
        Plan, "series_tracks", lambda self, name: calls.append(name) or lookup(self, name)
    )
    counted = []
    for draws, chunk in ((8, 8), (2_000, 50)):  # one group, then dozens in each of 40 chunks
        calls.clear()
        conditioned(spread, path, draws, chunk=chunk)
        counted.append(len(calls))
    assert counted[0] == counted[1]


def test_consecutive_months_a_tagger_reads_in_a_ramp_come_as_one_block_alike(
    spread, observations, monkeypatch
):
    # 6,000 monthly reports read 460,000 months one at a time at 10^5 draws, each a
    # Python call; the months read next to each other in one ramp run are now computed
    # as one block, with the same levels
    from sim.analysis import accumulator as acc_module
    from sim.model.fastpath import Group

    rows = "".join(
        f"2024-{m:02d}-15,alpha,{1100 - 90 * m},{1300 - 90 * m},,,,,\n" for m in range(1, 12)
    )
    path = observations(rows)
    calls = []
    one = Group.level_in
    monkeypatch.setattr(
        Group, "level_in", lambda self, *a, **k: calls.append(a) or one(self, *a, **k)
    )
    blocks = conditioned(spread, path, 1500, 8)
    by_block = len(calls)
    monkeypatch.setattr(acc_module, "SEGMENT_MONTHS", 10**9)  # every month on its own
    calls.clear()
    months = conditioned(spread, path, 1500, 8)
    assert by_block < len(calls) / 2
    assert_same_conditioned(blocks, months)


def test_a_block_of_months_a_tagger_reads_takes_no_more_room_than_its_levels(
    write, observations, monkeypatch
):
    # the months of one ramp read as one block were computed in float room of the whole
    # block first: a tagger reading every month of a long ramp held twice TAG_BYTES
    # (127 MB at 70,000 draws over ten years, 68 MB month by month)
    import tracemalloc

    from sim.analysis import accumulator as acc_module

    budget = 8 << 20
    monkeypatch.setattr(acc_module, "TAG_BYTES", budget)
    doc = make_doc(
        theaters={"alpha": {"initial": {"uniform": [800, 1000]}}},
        milestones={
            "down": {
                "theater": "alpha",
                "deadline": "2024-12",
                "target": {"level": {"uniform": [0, 100]}},
            }
        },
    )
    path = observations("".join(f"2024-{m:02d}-15,alpha,0,1000,,,,,\n" for m in range(1, 13)))
    tag, count = acc_module.Accumulator._add_tagged, acc_module.Accumulator._add_group
    sizes, before, peaks = [], [], []

    def tagged(self, group, *args):  # from here to counting: the tagger's reads
        sizes.append(group.n)
        tracemalloc.reset_peak()
        before.append(tracemalloc.get_traced_memory()[0])
        tag(self, group, *args)

    def counted(self, *args):
        peaks.append(tracemalloc.get_traced_memory()[1] - before[-1])
        count(self, *args)

    monkeypatch.setattr(acc_module.Accumulator, "_add_tagged", tagged)
    monkeypatch.setattr(acc_module.Accumulator, "_add_group", counted)
    n = budget // (8 * 12)  # one part of draws reading 12 months: the whole budget
    tracemalloc.start()
    try:
        conditioned(sim.load_scenario(write(doc)), path, n, 3, chunk=n)
    finally:
        tracemalloc.stop()
    assert sizes == [n] and len(peaks) == 1
    assert peaks[0] < 1.25 * budget


def test_a_variants_observer_and_counts_are_freed_as_soon_as_the_run_is_done(spread, observations):
    # an accumulator that kept its tagger (which holds the accumulator) made a cycle:
    # each variant's counts stayed until the cycle collector ran, 43 MB more at the
    # peak of the default scenario conditioned at 10^6 draws
    import gc

    from sim.analysis.conditioning import Observer

    path = observations("".join(f"2024-{m:02d}-15,alpha,200,1300,,,,,\n" for m in range(1, 9)))
    gc.collect()
    gc.disable()
    try:
        conditioned(spread, path, 5_000, 8)  # (draws stepped by timing key, tagged)
        alive = [o for o in gc.get_objects() if isinstance(o, Observer)]
    finally:
        gc.enable()
    assert alive == []


def test_refusing_too_many_slots_does_not_depend_on_the_chunk_size(
    write, observations, monkeypatch
):
    # every draw rises (a surge, then the drawdown), so the running minimum's counts
    # are made after the first draws: with the slots laid out whole in the first chunk,
    # the budget was checked before they existed and the run went on; one draw per
    # chunk widened the slots after, counted them and refused the same draws
    surge = make_doc(
        calendar={"start": "2024-01", "end": "2024-12"},
        announcement={"expected": "2024-01"},
        theaters={"alpha": {"initial": {"uniform": [800, 1200]}}},
        milestones={
            "up": {
                "theater": "alpha",
                "deadline": {"after_announcement": 3},
                "target": {"level": {"uniform": [1300, 1600]}},
            },
            "down": {"theater": "alpha", "deadline": "2024-11", "target": {"level": 0}},
        },
    )
    scenario = sim.load_scenario(write(json.dumps(surge)))
    tops = [1000, 1150, 1300, 1450, 1242, 1035, 828, 621, 414, 207]  # about the middle path
    path = observations(
        "".join(f"2024-{m:02d}-15,alpha,0,{t},reported,0,,,\n" for m, t in enumerate(tops, 1))
    )
    # the counts of 11 slots (0 to 10 reports missed) lay out 2.7 MB, 5.4 MB with the
    # running minimum's (int32 counts of 12 months, levels 0 to 1,600, of 11 slots and
    # their sum, rows held and a widening's old counts: Accumulator.tagged_bytes)
    monkeypatch.setattr("sim.analysis.accumulator.TAGGED_BYTES", 4_000_000)
    outcomes = []
    for chunk in (None, 1):
        try:
            conditioned(scenario, path, 300, 1, chunk=chunk)
            outcomes.append("ran")
        except sim.ScenarioError as e:
            outcomes.append(str(e).split(": ", 1)[1].split(" (the draws")[0])
    refused = (
        "(rows): expected draws that miss fewer different numbers of reports, to condition on them"
    )
    assert outcomes == [refused] * 2


@pytest.mark.slow
def test_held_rows_past_their_budget_are_folded_into_the_counts_and_change_nothing(
    write, observations, monkeypatch
):
    # a tagged run whose held levels start and end in most months kept a row of
    # differences (slots x levels) for nearly every month until the end: 149 MB beside
    # 154 MB of counts for one theater of 100,000 troops and 10,000 reports
    from sim.analysis import accumulator as acc_module

    doc = large_force_doc()  # (its cut starting and ending in any of 13 months)
    doc["announcement"]["delay"] = {"uniform": [0, 12]}
    doc["milestones"]["alpha-out"]["deadline"] = {"after_announcement": 12}
    scenario = sim.load_scenario(write(doc))
    path = observations("2024-03-15,alpha,70000,90000,,,,,\n2027-06-15,alpha,0,3000,,,,,\n")
    want = conditioned(scenario, path, 3_000, 2, chunk=500)
    budget = 4 << 20
    monkeypatch.setattr(acc_module, "HELD_BYTES", budget)
    held, count = [], acc_module.Accumulator._add_group

    def counted(self, *args):
        held.append(self._held.nbytes)  # what the groups before left held
        count(self, *args)

    monkeypatch.setattr(acc_module.Accumulator, "_add_group", counted)
    got = conditioned(scenario, path, 3_000, 2, chunk=500)
    assert 0 < max(held) <= budget  # (rows were held from group to group, and folded)
    assert_same_conditioned(got, want)


def test_tagged_draws_at_a_high_level_are_counted_in_the_columns_of_their_slots_only(
    spread, monkeypatch
):
    # level * slots + slot was counted from column 0: a level of 100,000 held by every
    # draw in 16 slots made a 6.4 MB array of counts, and added it to a row as wide
    from sim.analysis import accumulator as acc_module
    from sim.analysis.ensemble import accumulator

    plan = spread.plan(spread.select(None)[0])
    acc = accumulator(plan, sim.run(spread, draws=10, seed=1).milestones)
    acc._slots(np.array([2, 5]))  # tags 2..5: four slots
    acc._slot = np.array([0, 3, 3])
    levels = np.array([900, 900, 901], np.int64)
    # (a month of few columns: counted from column 0, then cut to the columns taken, so
    # that adding them writes no page of counts below them)
    low, counts = acc._bin(levels)
    assert acc.span <= acc_module.FULL_BINS
    assert low == 900 * 4 and counts.tolist() == [1, 0, 0, 1, 0, 0, 0, 1]
    monkeypatch.setattr(acc_module, "FULL_BINS", acc.span - 1)  # (as if it had many)
    low, counts = acc._bin(levels)
    assert low == 900 * 4
    assert counts.tolist() == [1, 0, 0, 1, 0, 0, 0, 1]


def test_the_share_of_draws_within_a_report_is_summed_over_the_levels_drawn_only(
    write, observations, monkeypatch
):
    # each quantity's running sums per slot were made over every level of the theater
    # (8 bytes x slots x 100,001 levels), and two quantities' at once; the levels some
    # draw takes are enough (0 to 5,000 after the cut here)
    import tracemalloc

    from sim.analysis import observed as observed_module

    scenario = sim.load_scenario(write(large_force_doc()))
    path = observations("2027-06-15,alpha,0,3000,,,,,\n2027-07-15,alpha,0,2500,,,,,\n")
    finish, peaks = observed_module._finish, []

    def measured(observer, *args):
        observer.total()  # (every draw's plain counts, made before: not measured here)
        tracemalloc.start()
        try:
            out = finish(observer, *args)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        return out

    monkeypatch.setattr(observed_module, "_finish", measured)
    # (no weighted bands and dates: they are measured elsewhere)
    monkeypatch.setattr(observed_module, "MIN_EFFECTIVE_DRAWS", 10**9)
    got = conditioned(scenario, path, 2_000, 4)
    assert got.observed.conditioned is not None and peaks
    # the level counts of each of the two months as int64 (made here), and little more
    assert max(peaks) < 3 * 100_001 * 8


def test_a_variants_tagged_counts_are_let_go_before_its_plain_summaries_are_made(
    spread, observations, monkeypatch
):
    # the chunk loop held each variant's observer, and so its tagged counts, while the
    # plain bands and dates of the same draws were made: 154 MB of counts held 16 MB
    # longer than needed, the peak of a crowded record conditioned
    import weakref

    from sim.analysis import observed as observed_module
    from sim.analysis.accumulator import Accumulator

    path = observations("".join(f"2024-{m:02d}-15,alpha,200,1300,,,,,\n" for m in range(1, 9)))
    finish, bands, tagged, alive = observed_module._finish, Accumulator.band_columns, [], []

    def finished(observer, *args):
        assert len(observer.acc.tags) > 1  # (draws counted in slots)
        tagged.append(weakref.ref(observer.acc.hist))
        return finish(observer, *args)

    def plain(self, *args):
        alive.append(sum(ref() is not None for ref in tagged))
        return bands(self, *args)

    monkeypatch.setattr(observed_module, "_finish", finished)
    monkeypatch.setattr(Accumulator, "band_columns", plain)
    conditioned(spread, path, 5_000, 8)
    assert len(tagged) == len(alive) > 0
    assert alive == [0] * len(alive)


def test_the_tagged_counts_of_parts_merged_elsewhere_are_let_go_with_the_variants(
    spread, observations, monkeypatch
):
    # with an executor, the parts merged into a variant's first part stayed listed in the
    # merge loop until every variant was summarised: their tagged counts outlived the
    # observer that had let its own go, through the plain summaries of every variant
    import weakref

    from conftest import InProcessParts

    from sim.analysis.accumulator import Accumulator
    from sim.analysis.conditioning import Observer

    path = observations("".join(f"2024-{m:02d}-15,alpha,200,1300,,,,,\n" for m in range(1, 9)))
    merge, bands, merged, alive = Observer.merge, Accumulator.band_columns, [], []

    def merging(self, other):
        assert len(other.acc.tags) > 1  # (a part's draws counted in slots)
        merged.append(weakref.ref(other.acc.hist))
        return merge(self, other)

    def plain(self, *args):
        alive.append(sum(ref() is not None for ref in merged))
        return bands(self, *args)

    monkeypatch.setattr(Observer, "merge", merging)
    monkeypatch.setattr(Accumulator, "band_columns", plain)
    conditioned(spread, path, 3_000, 8, chunk=200, executor=InProcessParts(3))
    assert len(merged) == 4 and len(alive) == 2  # (two parts merged into each variant's first)
    assert alive == [0, 0]


def test_an_observer_that_let_its_tagged_counts_go_answers_as_for_every_draw_untagged(
    spread, observations, monkeypatch
):
    # release() dropped the official figures' counts with the tagged ones: an official
    # report's counts then read as no draw at all, where the levels' read as every draw
    from sim.analysis import observed as observed_module

    path = observations(
        "2024-03-15,beta,300,420,official,,,,\n2024-05-15,alpha,700,1100,,,,,\n"
        "2024-09-15,beta,100,300,official,,,,\n"
    )
    finish, seen = observed_module._finish, []

    def finished(observer, *args):
        out = finish(observer, *args)
        seen.append((observer, out.counts))
        return out

    monkeypatch.setattr(observed_module, "_finish", finished)
    conditioned(spread, path, 2_000, 3)
    assert len(seen) == 2
    for observer, counts in seen:
        assert not observer.acc.tags  # (let go: every draw's plain counts only)
        got = observer.all_counts()
        assert [c.official for c in observer.checks] == [True, False, True]
        assert [row.tolist() for row in got] == [row.tolist() for row in counts]
        assert all(row.sum() == 2_000 for row in got)


def test_weighted_summaries_are_made_before_the_distributions_of_the_reports_are_kept(
    spread, observations, monkeypatch
):
    # the weighted bands and dates (blocks of months of every slot's counts, up to
    # BLOCK_BYTES) were worked out while every reported month's counts and weighted
    # distribution were held: 57 MB over the counts for a crowded record at 10^6 draws
    from sim.analysis import conditioning as conditioning_module
    from sim.analysis import observed as observed_module

    path = observations("".join(f"2024-{m:02d}-15,alpha,200,1300,,,,,\n" for m in range(1, 9)))
    events = []
    for name in ("band_columns", "date_rows"):
        made = getattr(conditioning_module.Weighted, name)
        monkeypatch.setattr(
            conditioning_module.Weighted,
            name,
            lambda self, *a, _made=made, _name=name: events.append(_name) or _made(self, *a),
        )
    trimmed, finish = observed_module._trimmed, observed_module._finish
    monkeypatch.setattr(
        observed_module, "_trimmed", lambda *a, **k: events.append("kept") or trimmed(*a, **k)
    )
    monkeypatch.setattr(
        observed_module, "_finish", lambda *a: events.append("variant") or finish(*a)
    )
    got = conditioned(spread, path, 5_000, 8)
    assert got.observed.conditioned.bands is not None
    variants = "".join(e[0] for e in events).split("v")[1:]  # b, d, k: per variant
    assert len(variants) == 2
    assert all(v.startswith("bdk") and set(v[3:]) == {"k"} for v in variants), variants


def test_a_conditioned_distribution_holds_int64_parts_of_the_levels_drawn_only(write, observations):
    # a reported month's weighted distribution was a Python int for every level of its
    # range (28 bytes or more each, 8 for a level no draw takes): 24 reported months of
    # a 100,000-troop theater kept up to 57 MB of them
    spread = sim.load_scenario(write(SPREAD))
    path = observations(
        "2024-01,alpha,900,1100,reported,,,,\n2024-06,alpha,,650,reported,,,,\n"
        "2024-09,alpha,150,,reported,,,,\n"
    )
    n, seed, tol, error = 900, 8, Tolerance(relative=0.05), Fraction(1, 10**20)
    result = conditioned(spread, path, n, seed, tolerance=tol, error=error)
    obs = sim.load_observations(path, spread)
    levels, _, w = brute_weights(result, obs, "base", n, seed, tol, error=error)
    for c in checks_for(result.plans["base"], obs, tol):
        want: dict[int, int] = {}
        for level, weight in zip(levels[c.series][:, c.month].tolist(), w, strict=True):
            want[level] = want.get(level, 0) + weight
        got = result.observed.distribution("base", c.index)
        assert got.parts.dtype == np.int64 and len(got.parts) > 1  # (weights past int64)
        span = max(want) - min(want) + 1  # (the levels of the range, or those taken only)
        held = span if got.at is None else len(want)
        assert got.low == min(want) and got.parts.shape[1] == held
        assert got.parts.nbytes + (0 if got.at is None else got.at.nbytes) <= min(
            8 * len(got.parts) * span, (8 * len(got.parts) + 4) * len(want)
        )
        full = got.full()
        assert {level: full[level] for level in want} == want
        assert sum(full) == sum(want.values())


def test_a_distribution_holds_only_the_levels_drawn_where_that_takes_fewer_bytes():
    from sim.analysis.observed import _trimmed

    sparse = np.zeros((2, 1_000), np.int64)  # three levels drawn of 981: held alone
    sparse[:, [10, 500, 990]] = [[1, 2, 3], [4, 0, 6]]
    got = _trimmed(sparse, 40, offset=7)
    assert got.low == 17 and got.at is not None and got.at.tolist() == [0, 490, 980]
    want = {17: 1 + (4 << 40), 507: 2, 997: 3 + (6 << 40)}
    full = got.full()
    assert len(full) == 998 and {i: v for i, v in enumerate(full) if v} == want
    dense = np.array([[0, 0, 5, 0, 7, 1, 0]], np.int64)  # most levels of the range drawn
    got = _trimmed(dense, offset=100)
    assert got.low == 102 and got.at is None and got.counts.tolist() == [5, 0, 7, 1]
    got = _trimmed(np.zeros((1, 4), np.int64))  # (no draw: level 0, counted 0)
    assert got.low == 0 and got.full().tolist() == [0]


def test_the_budget_of_tagged_counts_is_the_bytes_they_lay_out(spread, monkeypatch):
    # the stretches held were reckoned at a row every month of every slot, though they
    # are folded into the counts past HELD_BYTES: runs were refused at about twice what
    # they laid out. Now: the counts of each slot, their sum over the slots (made while
    # they are held), the rows held and the old counts a widening holds at once
    from sim.analysis import accumulator as acc_module

    plan = spread.plan(spread.select(None)[0])
    acc = accumulator(plan, sim.run(spread, draws=10, seed=1).milestones)
    acc._slots(np.array([2, 5]))  # tags 2..5: four slots
    one = acc.hist.nbytes // 4
    held = min(acc_module.HELD_BYTES, one // plan.n_months * (plan.n_months + 1) * 5)
    laid_out = (5 + 1) * one + held + min(acc_module.WIDEN_BYTES, 5 * one)
    assert acc.tagged_bytes(5, lower=False) == laid_out
    monkeypatch.setattr(acc_module, "TAGGED_BYTES", laid_out)
    acc._slots(np.array([6]))  # tags 2..6 fit exactly
    assert len(acc.tags) == 5
    monkeypatch.setattr(acc_module, "TAGGED_BYTES", laid_out - 1)
    fresh = accumulator(plan, sim.run(spread, draws=10, seed=1).milestones)
    fresh._slots(np.array([2, 5]))
    with pytest.raises(acc_module.TooManySlots) as refused:
        fresh._slots(np.array([6]))
    assert (refused.value.low, refused.value.high, refused.value.size) == (2, 6, laid_out)


def test_widening_the_slots_keeps_every_count_in_its_slot(spread, monkeypatch):
    # the counts are laid out again a block of rows at a time (WIDEN_BYTES, a few rows
    # here): each level's counts go to their own slot among the new ones, the new
    # slots all 0
    from sim.analysis import accumulator as acc_module

    monkeypatch.setattr(acc_module, "WIDEN_BYTES", 1000)
    plan = spread.plan(spread.select(None)[0])
    acc = accumulator(plan, sim.run(spread, draws=10, seed=1).milestones)
    acc._slots(np.array([3, 4]))
    rng = np.random.default_rng(1)
    acc.hist[...] = rng.integers(0, 1000, acc.hist.shape)
    before = acc.hist.copy()
    acc.lowest_counts()[...] = -before
    acc._slots(np.array([1, 6]))  # 2 slots to 6, the old ones at 2 and 3
    rows = acc.hist.shape[0] * plan.n_months * acc.width
    for counts, sign in ((acc.hist, 1), (acc._lower, -1)):
        grid = counts.reshape(rows, 6)
        assert (grid[:, 2:4] == sign * before.reshape(rows, 2)).all()
        assert not grid[:, [0, 1, 4, 5]].any()


# the start of a script that measures a peak of its own: a scenario's accumulator with
# tagged counts past any budget, and status(key) of /proc/self/status; then reset()
# makes the peak so far what is held (VmHWM from VmRSS) and gives VmRSS
PEAK_SCRIPT = r"""
import sys
import numpy as np
import sim
from sim.analysis import accumulator as acc_module
from sim.analysis.ensemble import accumulator

scenario = sim.load_scenario(sys.argv[1])
plan = scenario.plan(scenario.select(None)[0])
acc = accumulator(plan, sim.run(scenario, draws=10, seed=1).milestones)
acc_module.TAGGED_BYTES = 1 << 40
def status(key):
    with open("/proc/self/status") as f:
        return next(int(ln.split()[1]) * 1024 for ln in f if ln.startswith(key))
def reset():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status("VmRSS:")
"""

WIDEN_PEAK = (
    PEAK_SCRIPT
    + r"""
acc._slots(np.array([0, 3]))
acc.hist += 1  # (every page of the old counts resident)
before = reset()
acc._slots(np.array([4]))
print(before, status("VmHWM:"), acc.hist.nbytes // 5)
"""
)


def _peak_of(write, tmp_path, script_text: str, initial: int) -> Any:
    """``script_text`` (a :data:`PEAK_SCRIPT`) run on 4 theaters of ``initial`` troops
    over 10 years, each cut to 0 by 2030, in a process of its own."""
    doc = make_doc(
        calendar={"start": "2024-01", "end": "2033-12"},
        theaters={f"t{i}": {"initial": initial} for i in range(4)},
        milestones={
            f"t{i}-cut": {"theater": f"t{i}", "deadline": "2030-01", "target": {"level": 0}}
            for i in range(4)
        },
    )
    script = tmp_path / "peak.py"
    script.write_text(script_text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script), str(write(doc))],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(sim.__file__).parent.parent)},
    )


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages handed back on Linux")
def test_widening_the_slots_holds_the_new_counts_and_a_block_not_the_old_beside_them(
    write, tmp_path
):
    # a new number of reports missed laid every count out again at once: the old
    # counts and the new, wider ones were held together, about twice the counts at
    # the peak. Now a block of rows at a time, the old block's pages handed back once
    # copied
    from sim.analysis.accumulator import WIDEN_BYTES

    out = _peak_of(write, tmp_path, WIDEN_PEAK, 9_000)
    before, peak, one = (int(x) for x in out.stdout.split())
    assert 4 * one > 60 << 20  # (old counts of 4 slots, each about 17 MB)
    # the old counts, then the new instead of them: a block and some pages over
    assert peak - before <= one + WIDEN_BYTES + (4 << 20)


RESIDENT = r"""
import mmap, sys
import numpy as np
import sim
from conftest import rss_of  # (the bytes of an array's buffer the process holds)
from sim.analysis import conditioning

page = mmap.PAGESIZE
seen = []

release = conditioning.Observer.release
def spy(self):  # the tagged counts as the pass left them, before they are let go
    hist = self.acc.hist
    pages = hist.view(np.uint8).reshape(-1)[: hist.nbytes // page * page].reshape(-1, page)
    holding = int(pages.any(axis=1).sum()) * page
    seen.append((rss_of(hist), holding, hist.nbytes, len(self.acc.tags)))
    return release(self)
conditioning.Observer.release = spy

scenario = sim.load_scenario(sys.argv[1])
observed = sim.load_observations(sys.argv[2], scenario)
sim.run(scenario, draws=2_000, seed=1, observed=observed, condition=True)
print(*seen[0])
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore(2) is Linux's")
def test_tagged_counts_take_memory_only_for_the_pages_some_draw_is_counted_in(write, tmp_path):
    # the counts of 4 theaters of 9,000 troops over 10 years, each month's draws at one
    # level or within 0 to 500: every page of them was written (columns from 0 added to
    # each month, held stretches' whole rows, the widening's new slots) and numpy's huge
    # pages backed 2 MB around each count, so all of them took memory
    doc = make_doc(
        calendar={"start": "2024-01", "end": "2033-12"},
        theaters={f"t{i}": {"initial": 9_000} for i in range(4)},
        milestones={
            f"t{i}-cut": {
                "theater": f"t{i}",
                "deadline": "2030-01",
                "target": {"level": {"uniform": [0, 500]}},
            }
            for i in range(4)
        },
    )
    record = tmp_path / "record.csv"
    record.write_text(
        HEADER + "".join(f"2031-06-15,t{i},0,250,reported,0,,r{i},\n" for i in range(2)),
        encoding="utf-8",
    )
    script = tmp_path / "resident.py"
    script.write_text(RESIDENT, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script), str(write(doc)), str(record)],
        capture_output=True,
        text=True,
        check=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(Path(sim.__file__).parent.parent), str(Path(__file__).parent)]
            ),
        },
    )
    resident, holding, nbytes, slots = (int(x) for x in out.stdout.split())
    assert slots == 3 and nbytes > 40 << 20  # (0, 1 or 2 reports missed)
    assert holding < nbytes / 2  # (most pages hold no count)
    assert resident <= holding + (1 << 20)


FOLD_PEAK = (
    PEAK_SCRIPT
    + r"""
acc._slots(np.array([0, 2]))
# (every page written; in each block some levels' slots all 0, some not)
acc.hist += np.arange(acc.hist.shape[1], dtype=acc.hist.dtype) % 7 // 4
acc.slot_n[...] = 1
size = len(acc.tags)
want = acc.hist.reshape(acc.hist.shape[0], -1, size).sum(axis=2, dtype=acc.hist.dtype)
before = reset()
plain = acc.untagged(last=True)
print(before, status("VmHWM:"), want.nbytes, int(np.array_equal(plain.hist, want)))
"""
)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pages handed back on Linux")
def test_adding_up_the_slots_last_hands_the_tagged_pages_back_as_it_reads_them(write, tmp_path):
    # the plain counts of every draw were made beside the tagged ones and held with
    # them through the weighted summaries: a conditioned vintage of 50 theaters held
    # 183 MB of tagged counts and 37 MB of plain ones at its peak
    from sim.analysis.accumulator import WIDEN_BYTES

    out = _peak_of(write, tmp_path, FOLD_PEAK, 18_000)
    before, peak, plain, same = (int(x) for x in out.stdout.split())
    assert same == 1  # (the same counts as added up beside them)
    assert plain > 30 << 20
    assert peak - before <= WIDEN_BYTES + (4 << 20)


def test_widening_counts_that_came_back_from_a_worker_leaves_a_view_of_them_intact(spread):
    # counts read back from a part (sim.analysis.distributed.unpacked: arrays on the
    # memory that came with them) do not own their memory, and a view of them names
    # that memory, not them: the widening counted no view, handed their pages back and
    # a view still read zeros where the counts were
    from sim.analysis.distributed import packed, unpacked

    plan = spread.plan(spread.select(None)[0])
    milestones = sim.run(spread, draws=10, seed=1).milestones

    def part(_: Any) -> Any:
        acc = accumulator(plan, milestones)
        acc._slots(np.array([0, 1]))
        acc.hist[...] = 7
        return acc

    acc = unpacked(packed(part, None))
    assert not acc.hist.flags.owndata and acc.hist[0].nbytes > 4 * 4096
    row = acc.hist[0]  # (read after the widening)
    acc._slots(np.array([2]))
    assert (row == 7).all()
    assert (acc.hist.reshape(-1, 3)[:, :2] == 7).all() and not acc.hist.reshape(-1, 3)[:, 2].any()


@pytest.mark.parametrize("held", ["the array", "a view of it"])
def test_widening_counts_that_something_else_holds_leaves_them_intact(spread, held):
    # the old counts' pages go back only when nothing but the accumulator holds them
    # (the reference count, measured in the running interpreter: _ONLY_HELD)
    plan = spread.plan(spread.select(None)[0])
    milestones = sim.run(spread, draws=10, seed=1).milestones
    acc = accumulator(plan, milestones)
    acc._slots(np.array([0, 1]))
    acc.hist[...] = 7
    assert acc.hist.flags.owndata and acc.hist.nbytes > 4 * 4096
    kept = acc.hist if held == "the array" else acc.hist[0]
    acc._slots(np.array([2]))
    assert (kept == 7).all()
    assert (acc.hist.reshape(-1, 3)[:, :2] == 7).all()


def test_the_running_sums_kept_for_a_quantitys_other_reports_stay_within_a_budget(
    spread, observations, monkeypatch
):
    # every reported quantity's running sums were kept until the last report was
    # scored: 6,000 monthly quantities of 1,501 levels held 72 MB (391 MB at the peak
    # of a record of 6,000 monthly reports conditioned); the oldest now go first
    import tracemalloc

    from sim.analysis import observed as observed_module

    rows = "".join(f"2024-{m:02d}-15,alpha,200,1300,,,,,\n" for m in range(1, 13)) * 2
    path = observations(rows)
    scoring, peaks = observed_module.assessment_rows, []

    def measured(*args):
        tracemalloc.start()
        try:
            out = scoring(*args)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        return out

    monkeypatch.setattr(observed_module, "assessment_rows", measured)
    whole = conditioned(spread, path, 2_000, 4).observed.table
    unbounded = max(peaks)
    peaks.clear()
    monkeypatch.setattr(observed_module, "CUMS_BYTES", 1)  # (one quantity's at a time)
    bounded = conditioned(spread, path, 2_000, 4).observed.table
    pd.testing.assert_frame_equal(bounded, whole)
    # 12 months' running sums of about 1,200 levels (8 bytes each) were held at once
    assert unbounded - max(peaks) > 10 * 1_200 * 8


def test_one_slots_counts_become_the_plain_counts_without_a_copy_when_last(spread):
    # one slot is laid out as plain counts are: they were added up into a new array
    plan = spread.plan(spread.select(None)[0])
    acc = accumulator(plan, sim.run(spread, draws=10, seed=1).milestones)
    acc._slots(np.array([3, 3]))
    acc.hist[...] = 2
    acc.slot_n[...] = 5
    held = acc.hist
    copy = acc.untagged()
    assert not np.shares_memory(copy.hist, held) and np.array_equal(copy.hist, held)
    plain = acc.untagged(last=True)
    assert plain.hist is held and plain.n == 5 and acc.hist is None


def test_tagged_draws_of_an_empty_group_are_binned_as_no_counts(spread):
    plan = spread.plan(spread.select(None)[0])
    acc = accumulator(plan, sim.run(spread, draws=10, seed=1).milestones)
    acc._slots(np.array([0, 2]))
    acc._slot = np.zeros(0, np.int64)
    low, counts = acc._bin(np.zeros(0, np.int64))
    assert low == 0 and counts.size == 0


def test_counts_merge_alike_whatever_the_layout_of_their_arrays():
    from sim.analysis.accumulator import _add_held

    dest = np.asfortranarray(np.arange(12, dtype=np.int32).reshape(3, 4))
    src = np.zeros((3, 4), np.int32)
    src[1, 2] = 5
    want = dest + src
    _add_held(dest, src)
    assert np.array_equal(dest, want)


def test_a_month_only_report_of_the_as_of_month_is_marked_as_of_month_not_later(
    spread, observations
):
    # it may have come before the as-of day or after: vintages neither condition on it
    # nor score it out of sample, and run --as-of called it "later" (out of sample)
    rows = "2024-03-10,alpha,850,950,reported,,,,\n2024-06,alpha,500,700,reported,,,,\n"
    rows += "2024-07-02,alpha,,300,reported,,,,\n"
    got = conditioned(spread, observations(rows, "all.csv"), 1200, 8, as_of="2024-06-15")
    t = got.observed.table
    base = t[t.variant == "base"]
    assert base.known.tolist() == [True, False, False]
    assert base.conditioning.tolist() == ["used", "as-of month", "later"]


@pytest.mark.slow
def test_a_month_only_report_of_the_as_of_month_is_not_called_reported_later_on_the_charts(
    spread, observations
):
    # the charts and the page called every hollow report "reported later", the June one
    # (dated by the as-of month alone, maybe known on the day) too
    import datetime

    import matplotlib.pyplot as plt

    from sim.plotting.observed import not_known_label
    from sim.report.charts import envelope_figure

    rows = "2024-03-10,alpha,850,950,reported,,,,\n2024-06,alpha,500,700,reported,,,,\n"
    later = "2024-07-02,alpha,,300,reported,,,,\n"
    for extra, label in (("", "not known on 15 Jun 2024"), (later, "not known on 15 Jun 2024")):
        got = conditioned(spread, observations(rows + extra, "all.csv"), 300, 8, as_of="2024-06-15")
        axes = sim.plot_fan(got)
        texts = [t.get_text() for lg in _legends(axes) for t in lg.get_texts()]
        assert label in texts and "reported later" not in texts
        names = {t.name for t in envelope_figure(got).data if t.meta == "observed"}
        assert any(n.endswith(f"({label})") for n in names), names
        plt.close("all")
    only_later = observations("2024-03-10,alpha,850,950,reported,,,,\n" + later, "l.csv")
    items = sim.load_observations(only_later).items
    assert not_known_label(items, datetime.date(2024, 6, 15)) == "reported later"


def _legends(axes):
    fig = axes[0].figure.get_figure(root=True)
    return [*fig.legends, *(lg for sub in fig.subfigs for lg in sub.legends)] + [
        a.get_legend() for a in axes if a.get_legend() is not None
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("as_of", "summary"),
    [
        # mid-month: the June report, dated by its month alone, is neither known nor later
        (
            "2024-06-15",
            "1 known on 2024-06-15, 1 reported later, 1 dated by the as-of month alone",
        ),
        # the month alone is its last day: the June report is known then (the summary
        # counted it "of the as-of month" too, and the July one not at all)
        ("2024-06", "2 known on 2024-06-30, 1 reported later"),
    ],
)
def test_the_run_counts_a_month_only_report_of_the_as_of_month_as_observed_csv_marks_it(
    write, tmp_path, observations, as_of, summary
):
    rows = "2024-03-10,alpha,850,950,reported,,,,\n2024-06,alpha,500,700,reported,,,,\n"
    rows += "2024-07-02,alpha,,300,reported,,,,\n"
    res = invoke(
        "run",
        str(write(SPREAD)),
        "--observed",
        str(observations(rows)),
        "--draws",
        "1200",
        "--seed",
        "8",
        "--condition",
        "--as-of",
        as_of,
        "--out",
        str(tmp_path / "o"),
    )
    assert res.exit_code == 0, res.output
    assert f"3 levels scored ({summary})" in " ".join(res.output.split())


@pytest.mark.slow
def test_the_run_shows_the_monte_carlo_error_of_each_share_it_prints_where_it_shows(tmp_path):
    # a weighted share of 1,800 effective draws printed as 0.27, with nothing to say
    # that it is good to about ±0.03 at 2,000 draws
    import math

    from sim.cli.text import _standard_error

    assert _standard_error(0.29, 2000) == "\u00a0±0.01"
    assert _standard_error(0.27, 183.0) == f"\u00a0±{math.sqrt(0.27 * 0.73 / 183):.2f}"
    assert _standard_error(0.5, 20_000_000) == ""  # (under 0.005: it would not show)
    assert _standard_error(1.0, 50) == "" and _standard_error(0.3, None) == ""
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    res = invoke(
        "run",
        str(DEFAULT_SCENARIO),
        *("-v", "as-reported", "--draws", "2000", "--seed", "1", "--observed", str(record)),
        *("--condition", "--as-of", "2025-06-01", "--out", str(tmp_path / "r")),
    )
    text = " ".join(res.output.split())
    assert "±: one Monte Carlo standard error, √(p(1−p)/n)" in text, res.output
    assert re.search(r"p=0\.\d\d ±0\.0\d by 2025-09 \(0\.\d\d ±0\.\d\d weighted\)", text), text


@pytest.mark.slow
def test_plot_fan_weighted_draws_the_conditioned_fan_the_command_writes(tmp_path):
    # the Python API drew only the unweighted fan of a conditioned run: the weighted one,
    # fan_conditioned.png, was the command's alone
    args = ["--variant", "as-reported", "--variant", "on-time", "--draws", "2000", "--seed", "1"]
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        ["run", str(DEFAULT_SCENARIO), *args, "--observed", str(SHIPPED_RECORD), "--condition"]
        + ["-q", "-o", str(out)],
    )
    assert res.exit_code == 0, res.output
    result = sim.run(
        DEFAULT_SCENARIO,
        ["as-reported", "on-time"],
        draws=2000,
        seed=1,
        observed=SHIPPED_RECORD,
        condition=True,
    )
    mine = tmp_path / "mine.png"
    sim.save(sim.plot_fan(result, weighted=True), mine)
    assert mine.read_bytes() == (out / "fan_conditioned.png").read_bytes()
    with pytest.raises(
        ValueError, match=r"plot_fan\(weighted=True\) draws an ensemble conditioned"
    ):
        sim.plot_fan(sim.run(DEFAULT_SCENARIO, ["on-time"], draws=100, seed=1), weighted=True)


@pytest.mark.slow
def test_plot_variant_of_a_conditioned_run_labels_each_panel_with_its_own_draws(tmp_path) -> None:
    # the weighted fan of variants picked out of order gave each panel the effective
    # draws of the variant in that place of the whole run; a variant left out of the
    # conditioned tables made the redraw an internal error
    import matplotlib.pyplot as plt

    from sim.export.read import directory_charts

    out = tmp_path / "run"
    record = str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")
    args = ["run", "--draws", "1000", "--seed", "1", "--observed", record, "--condition"]
    assert CliRunner().invoke(main, [*args, "-q", "-o", str(out)]).exit_code == 0
    with (out / "conditioning.csv").open(encoding="utf-8") as f:
        effective = {row["variant"]: float(row["effective_draws"]) for row in csv.DictReader(f)}
    assert effective["slip-6-moving"] < 30 <= effective["on-time"]  # (left out, and kept)
    picked = ["slip-6", "as-reported"]
    axes = directory_charts(out, ["iraq"], picked)["fan_conditioned"]()
    for ax in axes:
        (label,) = [t.get_text() for t in ax.texts if t.get_text().startswith("effective")]
        variant = ax.get_title(loc="left")
        assert variant in picked
        assert label.startswith(f"effective draws {effective[variant]:,.0f}\n"), variant
    plt.close("all")
    result = CliRunner().invoke(main, ["plot", str(out), "-v", "slip-6-moving"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {out}/envelope.png, {out}/fan.png (only slip-6-moving")
    target = tmp_path / "weighted.png"
    result = CliRunner().invoke(
        main,
        ["plot", str(out), "-v", "slip-6-moving", "--chart", "fan_conditioned", "-o", str(target)],
    )
    assert result.exit_code == 2 and not target.exists()
    assert "(of slip-6-moving, none kept enough effective draws to be weighted" in result.output


@pytest.mark.parametrize("rate", ["5.%", "0.05", ".05", "5 %"])
def test_an_error_rate_is_read_as_a_plain_decimal_as_the_tolerance_is(rate: str) -> None:
    # --tolerance 1. was taken and --error-rate 5.% refused: one number, two readings
    from fractions import Fraction

    from sim.cli.params import ERROR_RATE

    assert ERROR_RATE.convert(rate, None, None) == Fraction(1, 20)
