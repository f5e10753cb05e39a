"""Ensembles: exact summaries of seeded draws (sim.ensemble, sim.draws).

Every test fixes its seed. Numbers that depend on the draws are derived in the
test from the draws themselves (``Draws(seed).uniforms(path, n)``, the stream a
quantity's key path names), never copied from a previous run.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, large_force_doc, make_doc

import sim
from sim.analysis.accumulator import Accumulator, running_minimum
from sim.analysis.summaries import level_bound, level_views, series, thresholds
from sim.cli import main
from sim.errors import ScenarioError
from sim.model.draws import Draws
from sim.model.rules import timing_groups
from sim.model.stepper import step, step_dense
from sim.paths import scenarios_dir

START = "2024-01"


def run_ensemble(
    write: Callable[..., Path],
    doc: dict[str, Any],
    draws: int,
    seed: int,
    variants: list[str] | None = None,
    **options: Any,
) -> sim.Result:
    return sim.run(sim.load_scenario(write(doc)), variants, draws=draws, seed=seed, **options)


def band(
    result: sim.Result, month: str, theater: str = "alpha", variant: str | None = None
) -> pd.Series:
    b = result.bands
    assert b is not None
    rows = b[(b.theater == theater) & (b.month == pd.Period(month, "M"))]
    if variant is not None:
        rows = rows[rows.variant == variant]
    assert len(rows) == 1
    return rows.iloc[0]


# ---------------------------------------------------------------- percentiles


def test_percentiles_of_a_uniform_reduction_match_the_analytic_quantiles(write):
    # 1000 troops lose U(0, 600): by the deadline the level is uniform on 400..1000
    doc = make_doc(
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": "2024-07",
                "target": {"reduce_by": {"uniform": [0, 600]}},
            }
        }
    )
    n = 20_000
    result = run_ensemble(write, doc, n, seed=5)
    for month in ("2024-07", "2024-12"):  # at the deadline, and held after it
        row = band(result, month)
        for q in (5, 10, 25, 50, 75, 90, 95):
            analytic = 400 + 600 * q / 100
            # Monte Carlo standard error of a quantile: sqrt(q (1 - q) / n) / density
            se = math.sqrt(q / 100 * (1 - q / 100) / n) * 600
            assert abs(row[f"p{q:02d}"] - analytic) <= 4 * se + 1, (month, q)
        assert abs(row["mean"] - 700) <= 4 * 600 / math.sqrt(12 * n)
        assert row["min"] == 400 and row["max"] == 1000


def test_percentiles_are_levels_some_draw_had_and_ordered(write):
    doc = make_doc(
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": "2024-07",
                "profile": "s-curve",
                "target": {"level": {"triangular": [0, 100, 700]}},
            }
        }
    )
    result = run_ensemble(write, doc, 3_000, seed=8)
    cols = ["min", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "max"]
    values = result.bands[cols].to_numpy()
    assert (np.diff(values, axis=1) >= 0).all()
    assert (result.bands.dtypes[cols] == np.int64).all()


# ---------------------------------------------------------------- p_met


def test_p_met_of_a_fixed_deadline_is_the_share_of_draws_whose_slip_leaves_it_feasible(write):
    # A fixed deadline three months after the expected announcement: met when the
    # announcement is on time (delay 0, weight 3), missed when it slips 6 months
    # (nothing may depart before the announcement), so p_met is P(delay = 0) = 3/4.
    doc = make_doc(
        calendar={"start": START, "end": "2025-06"},
        announcement={
            "expected": START,
            "delay": {"choice": {"values": [0, 6], "weights": [3, 1]}},
        },
        milestones={"cut": {"theater": "alpha", "deadline": "2024-04", "target": {"level": 500}}},
    )
    n, seed = 20_000, 3
    result = run_ensemble(write, doc, n, seed)
    p_met = float(result.milestones.p_met.iloc[0])
    assert abs(p_met - 0.75) <= 4 * math.sqrt(0.75 * 0.25 / n)
    # exactly: the draws whose delay is 0 are those whose uniform number is below 3/4
    u = Draws(seed).uniforms("announcement.delay", n)
    assert p_met == round(float(np.mean(u < 0.75)), 6)


def test_p_met_counts_against_the_original_deadline_even_when_it_slips(write):
    # slipped 6 months, the deadline moves and the window is met on the slipped
    # date, but p_met is measured against the unslipped deadline
    doc = make_doc(
        calendar={"start": START, "end": "2025-06"},
        announcement={
            "expected": START,
            "delay": {"choice": {"values": [0, 6], "weights": [3, 1]}},
        },
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": "2024-04",
                "slips": True,
                "target": {"level": 500},
            }
        },
    )
    n, seed = 2_000, 3
    result = run_ensemble(write, doc, n, seed)
    u = Draws(seed).uniforms("announcement.delay", n)
    assert result.milestones.p_met.tolist() == [round(float(np.mean(u < 0.75)), 6)]


def test_a_uniform_delay_gives_each_whole_month_the_same_chance(write):
    # uniform [0, 4] months: 0, 1, 2, 3 and 4 each with chance 1/5 (rounding a
    # continuous draw would give 0 and 4 only 1/8 each)
    doc = make_doc(
        calendar={"start": START, "end": "2025-06"},
        announcement={"expected": "2024-02", "delay": {"uniform": [0, 4]}},
        # due in the announcement month: met only when the announcement is on time
        milestones={"cut": {"theater": "alpha", "deadline": "2024-02", "target": {"level": 500}}},
    )
    n, seed = 50_000, 11
    plan = sim.load_scenario(write(doc)).plan("base")
    delay = Draws(seed).take(plan, n).delay
    share = np.bincount(delay, minlength=5) / n
    assert share.shape == (5,)
    assert np.all(np.abs(share - 0.2) <= 4 * math.sqrt(0.2 * 0.8 / n)), share
    # "on time" is the share of draws without a slip: the milestone is met only then
    result = run_ensemble(write, doc, n, seed)
    assert result.milestones.p_met.tolist() == [round(float(share[0]), 6)]


def test_p_met_counts_a_milestone_completed_late_as_missed(write):
    # on time with chance 3/4, two months late otherwise: p_met is the share of
    # draws whose execution-delay stream gave 0
    doc = make_doc(
        calendar={"start": START, "end": "2025-06"},
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": "2024-06",
                "delay": {"choice": {"values": [0, 2], "weights": [3, 1]}},
                "target": {"level": 500},
            }
        },
    )
    n, seed = 4_000, 12
    result = run_ensemble(write, doc, n, seed)
    u = Draws(seed).uniforms("milestones.cut.delay", n)
    assert result.milestones.p_met.tolist() == [round(float(np.mean(u < 0.75)), 6)]
    # the central run takes the weighted median, 0 months: met
    assert result.milestones.met.iloc[0]


def test_draws_are_grouped_by_the_whole_timing_key():
    delay = np.array([0, 1, 0, 1, 0, 0])
    late = np.array([[0, 2], [0, 2], [1, 2], [0, 2], [0, 2], [1, 2]])
    order, cuts = timing_groups(delay, late)
    assert order is not None
    groups = [sorted(order[a:b].tolist()) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert sorted(groups) == [[0, 4], [1, 3], [2, 5]]
    same, one = timing_groups(np.zeros(4, np.int64), np.full((4, 3), 2))
    assert same is None and one == [0, 4]


def test_a_negative_execution_delay_is_a_one_line_error(write):
    doc = make_doc(
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": "2024-06",
                "delay": {"uniform": [-2, 3]},
                "target": {"level": 0},
            }
        }
    )
    with pytest.raises(
        ScenarioError,
        match=r"milestones\.cut\.delay\.uniform\[0\]: expected an execution delay of 0",
    ):
        sim.load_scenario(write(doc))


# ---------------------------------------------------------------- common random numbers


def paired_doc() -> dict[str, Any]:
    """A reduction drawn from U(0, 600); variant "late" moves everything 3 months on."""
    return make_doc(
        calendar={"start": START, "end": "2025-12"},
        announcement={"expected": "2024-03"},
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": {"after_announcement": 9},
                "target": {"reduce_by": {"uniform": [0, 600]}},
            }
        },
        variants={
            "now": {"description": "as expected", "overrides": {}},
            "late": {"description": "3 months late", "overrides": {"announcement": {"delay": 3}}},
        },
    )


def test_every_variant_draws_the_same_numbers_for_the_same_quantity(write):
    scenario = sim.load_scenario(write(paired_doc()))
    now = Draws(9).take(scenario.plan("now"), 500)
    late = Draws(9).take(scenario.plan("late"), 500)
    np.testing.assert_array_equal(now.targets, late.targets)
    assert (now.delay == 0).all() and (late.delay == 3).all()


def test_a_variant_that_only_shifts_the_calendar_shifts_the_bands_exactly(write):
    # with the same draws, "late" is "now" three months on, draw by draw: every
    # band statistic matches exactly, not just within Monte Carlo error
    result = run_ensemble(write, paired_doc(), 4_000, seed=9)
    b = result.bands.set_index(["variant", "month"])
    stats = ["mean", "min", "p05", "p25", "p50", "p75", "p95", "max"]
    for m in pd.period_range("2024-03", "2025-09", freq="M"):
        pd.testing.assert_series_equal(
            b.loc[("now", m), stats], b.loc[("late", m + 3), stats], check_names=False
        )


# ---------------------------------------------------------------- chunk size and the fast path


def rich_doc(late: bool = False) -> dict[str, Any]:
    """Sites, reinforcements, a step, two residuals on one site (one ending), a residual
    that comes back after the drawdown, a milestone dated from another, and a random
    announcement delay; with ``late``, random execution delays on four milestones
    (one that another follows, one with a residual from it, one after another)."""
    doc = make_doc(
        calendar={"start": START, "end": "2026-06"},
        announcement={
            "expected": "2024-02",
            "delay": {"choice": {"values": [0, 1, 4], "weights": [5, 3, 2]}},
        },
        theaters={
            "alpha": {
                "sites": {"north": {"initial": {"uniform": [300, 500]}}, "south": {"initial": 400}}
            },
            "beta": {"initial": 200},
            "gamma": {"initial": {"uniform": [100, 300]}},
        },
        milestones={
            "north-up": {
                "theater": "alpha/north",
                "deadline": "2024-06",
                "profile": "front",
                "target": {"level": {"triangular": [450, 600, 800]}},
            },
            "north-out": {
                "theater": "alpha/north",
                "deadline": "2025-06",
                "profile": "s-curve",
                "target": {"level": 0},
            },
            "south-step": {
                "theater": "alpha/south",
                "deadline": "2024-09",
                "profile": "step",
                "target": {"reduce_by": {"uniform": [0, 200]}},
            },
            "south-out": {
                "theater": "alpha/south",
                "deadline": {"after": "north-out", "months": 3},
                "profile": "back",
                "target": {"level": 0},
            },
            "beta-out": {
                "theater": "beta",
                "deadline": {"after_announcement": 12},
                "slips": True,
                "target": {"level": {"choice": {"values": [0, 50]}}},
            },
            "gamma-up": {
                "theater": "gamma",
                "deadline": "2024-08",
                "target": {"level": {"triangular": [150, 250, 450]}},
            },
            "gamma-out": {
                "theater": "gamma",
                "deadline": "2025-12",
                "profile": "front",
                "target": {"reduce_by": {"uniform": [0, 150]}},
            },
        },
        residuals={
            "guard": {
                "theater": "alpha/north",
                "from": {"milestone": "north-out"},
                "size": {"uniform": [20, 120], "probability": 0.5},
            },
            "late-guard": {
                "theater": "alpha/north",
                "from": "2025-09",
                "until": "2026-02",
                "size": {"triangular": [10, 60, 300]},
            },
            "beta-stay": {
                "theater": "beta",
                "from": {"milestone": "beta-out"},
                "size": {"value": 30, "probability": 0.3},
            },
            "gamma-return": {
                "theater": "gamma",
                "from": "2026-02",
                "until": "2026-04",
                "size": {"uniform": [0, 290], "probability": 0.5},
            },
        },
        variants={
            "base": {"description": "as drawn", "overrides": {}},
            "fixed": {
                "description": "announced on time",
                "overrides": {"announcement": {"delay": 0}},
            },
        },
    )
    if late:
        ms = doc["milestones"]
        ms["north-out"]["delay"] = {"choice": {"values": [0, 2, 5], "weights": [2, 1, 1]}}
        ms["south-out"]["delay"] = {"uniform": [0, 3]}
        ms["gamma-up"]["delay"] = {"value": 1, "probability": 0.5}
        ms["beta-out"]["delay"] = {"triangular": [0, 1, 4]}
    return doc


def many_keys_doc() -> dict[str, Any]:
    """:func:`rich_doc` with every milestone late at random (nearly every draw has a
    timing key of its own) and a residual of gamma that starts with alpha/north's
    milestone (so that milestone's months group gamma's draws too)."""
    doc = rich_doc(True)
    for ms in doc["milestones"].values():
        ms.setdefault("delay", {"uniform": [0, 4]})
    doc["residuals"]["gamma-guard"] = {
        "theater": "gamma",
        "from": {"milestone": "north-out"},
        "size": {"uniform": [60, 200]},
    }
    return doc


def calls_of(monkeypatch: Any, owner: Any, name: str) -> list[tuple[Any, ...]]:
    """The arguments (after ``self``) of every call of method ``owner.name`` from now on
    (the method still runs)."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(owner, name)

    def spy(self: Any, *args: Any) -> Any:
        calls.append(args)
        return real(self, *args)

    monkeypatch.setattr(owner, name, spy)
    return calls


def poison_untaken_rows(monkeypatch: Any, module: Any) -> None:
    """Make ``module.take_rows`` leave NaN in the rows it does not take (as fresh memory
    may hold), so that a route that reads them warns (warnings as errors) or differs."""
    real = module.take_rows

    def poisoned(a: Any, rows: Any, order: Any) -> Any:
        out = real(a, rows, order)
        out[np.setdiff1d(np.arange(a.shape[0]), rows)] = np.nan
        return out

    monkeypatch.setattr(module, "take_rows", poisoned)


def frames(result: sim.Result) -> list[pd.DataFrame]:
    return [result.bands, result.dates, result.milestones]


@pytest.mark.slow
@pytest.mark.parametrize("late", [False, True], ids=["on-time", "execution-delays"])
def test_outputs_are_identical_whatever_the_chunk_size(write, late):
    scenario = sim.load_scenario(write(rich_doc(late)))
    runs = [sim.run(scenario, draws=1_500, seed=21, chunk=c) for c in (7, 500, 1_500, 10**6)]
    for other in runs[1:]:
        for a, b in zip(frames(runs[0]), frames(other), strict=True):
            pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
@pytest.mark.parametrize("late", [False, True], ids=["on-time", "execution-delays"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_summaries_equal_those_of_every_stepped_level(write, seed, late):
    # the ensemble steps only the months that move, a timing group at a time; it must
    # count exactly what the plain month-by-month stepper's levels give
    assert_counts_of_every_stepped_level(
        sim.load_scenario(write(rich_doc(late))), seed, (1, 200, 1_000)
    )


def assert_counts_of_every_stepped_level(
    scenario: sim.Scenario, seed: int, takes: tuple[int, ...]
) -> None:
    """Every variant's accumulator, fed chunks of ``takes`` draws by ``add_draws``,
    counts exactly what ``step_dense``'s levels of the same draws give."""
    result = sim.run(scenario)
    for name in scenario.select(None):
        plan = scenario.plan(name)
        sel = series(plan)
        ms = result.milestones[result.milestones.variant == name]
        fast, plain = (
            Accumulator(
                plan,
                level_bound(plan),
                [s for s, _ in sel],
                [m for _, m in sel],
                thresholds(plan, ms),
            )
            for _ in range(2)
        )
        source = Draws(seed)
        for take in takes:
            inputs = source.take(plan, take)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # (a NaN cast to a level would warn)
                fast.add_draws(inputs)
            out = step_dense(plan, inputs)
            plain.add(level_views(plan, out, plain.names, plain.members), out.reached, out.original)
        pd.testing.assert_frame_equal(fast.bands("x", name), plain.bands("x", name))
        pd.testing.assert_frame_equal(fast.dates("x", name), plain.dates("x", name))
        np.testing.assert_array_equal(fast.met, plain.met)
        np.testing.assert_array_equal(fast.first, plain.first)


@pytest.mark.slow
def test_draws_each_with_its_own_timing_are_counted_theater_by_theater_exactly(write, monkeypatch):
    # every milestone with an execution delay: most draws have a timing key of their own,
    # so each theater's draws are grouped by that theater's windows only; a residual of
    # gamma starts with a milestone of alpha/north, whose months must then group gamma
    import sim.analysis.accumulator as accumulator

    scenario = sim.load_scenario(write(many_keys_doc()))
    routed = calls_of(monkeypatch, accumulator.Accumulator, "_add_by_theater")
    poison_untaken_rows(monkeypatch, accumulator)
    assert_counts_of_every_stepped_level(scenario, 7, (1, 300, 1_200))
    assert len(routed) >= 4  # (a chunk of 1 draw is one group: stepped as before)


@pytest.mark.dense_steps
def test_draws_in_tiny_timing_groups_even_theater_by_theater_are_stepped_whole_exactly(
    write, monkeypatch
):
    # nearly every draw its own timing key, and a handful of draws to each theater's own
    # windows' months: stepped every month at once, in parts, and counted as they are
    import sim.analysis.accumulator as accumulator

    scenario = sim.load_scenario(write(many_keys_doc()))
    dense = calls_of(monkeypatch, accumulator.Accumulator, "_add_dense")
    by_theater = calls_of(monkeypatch, accumulator.Accumulator, "_add_by_theater")
    parts = calls_of(monkeypatch, accumulator.Accumulator, "_add_stepped")
    plan = scenario.plan(scenario.variant_names[0])
    # (parts of 100 draws)
    monkeypatch.setattr(
        accumulator, "DENSE_STEP_BYTES", 100 * plan.n_months * (4 * len(plan.tracks) + 96)
    )
    assert_counts_of_every_stepped_level(scenario, 7, (1, 300, 1_200))
    assert dense and not by_theater
    assert {len(p[1].delay) for p in parts} == {1, 100}  # (the chunk of 1 draw is one part)


@pytest.mark.dense_steps
def test_the_draws_a_group_below_which_draws_are_stepped_whole_fall_as_the_months_grow(
    write, monkeypatch
):
    # one theater cut twice, each cut late by 0-12 months: 169 groups of windows' months,
    # about 18 draws each at 3,000 draws. Stepping every month at once costs in
    # proportion to the months, a group about the same over any horizon: over 36 months
    # the draws are stepped whole, over 600 group by group (there 10^5 draws of 10
    # theaters so grouped took 24.0 s, stepped whole 58.6 s)
    import sim.analysis.accumulator as accumulator

    def doc(end: str) -> dict[str, Any]:
        def cut(deadline: str, level: int) -> dict[str, Any]:
            return {
                "theater": "alpha",
                "deadline": deadline,
                "target": {"level": level},
                "delay": {"uniform": [0, 12]},
            }

        return make_doc(
            calendar={"start": "2024-01", "end": end},
            theaters={"alpha": {"initial": 1_000}},
            milestones={"cut": cut("2024-06", 600), "out": cut("2025-06", 0)},
        )

    for end, whole in (("2026-12", True), ("2073-12", False)):
        dense = calls_of(monkeypatch, accumulator.Accumulator, "_add_dense")
        scenario = sim.load_scenario(write(doc(end), name=f"to-{end}.yaml"))
        sim.run(scenario, draws=3_000, seed=2)
        assert bool(dense) is whole, end


#: every scenario shipped, the vintages and the historical ones among them
SHIPPED_SCENARIOS = sorted(Path(scenarios_dir()).rglob("*.yaml"))


@pytest.mark.slow
@pytest.mark.dense_steps
@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=lambda p: p.stem)
def test_a_shipped_scenario_gives_the_same_summaries_stepped_group_by_group_or_whole(
    path, monkeypatch
):
    # the route forcesim takes at 300 draws in chunks of 150, every draw stepped every
    # month at once, and every timing group stepped on its own
    import sim.analysis.accumulator as accumulator

    scenario = sim.load_scenario(path)
    runs = []
    for few in (accumulator.DENSE_GROUP_DRAWS, 10**9, 0):
        monkeypatch.setattr(accumulator, "DENSE_GROUP_DRAWS", few)
        runs.append(sim.run(scenario, draws=300, seed=8, chunk=150))
    for other in runs[1:]:
        for a, b in zip(frames(runs[0]), frames(other), strict=True):
            pd.testing.assert_frame_equal(a, b)


def test_a_level_lifted_after_a_ramp_counted_at_once_moves_the_threshold_dates(write):
    # a drawdown counted at once (a ramp table), then a one-month residual that lifts the
    # level, counted month by month: the lift must be seen (the levels of the month
    # before must not be overwritten by those of the month after)
    doc = {
        "id": "lift",
        "title": "A level lifted for one month",
        "as_of": "2024-01",
        "calendar": {"start": "2024-01", "end": "2026-06"},
        "announcement": {"expected": "2024-01"},
        "theaters": {"a": {"initial": {"uniform": [2000, 2100]}}},
        "milestones": {
            "out": {
                "theater": "a",
                "deadline": "2026-01",
                "target": {"level": {"uniform": [0, 500]}},
            }
        },
        "residuals": {
            "blip": {
                "theater": "a",
                "from": "2025-06",
                "until": "2025-06",
                "size": {"uniform": [1000, 1600]},
            }
        },
    }
    scenario = sim.load_scenario(write(doc))
    plan = scenario.plan(scenario.select(None)[0])
    sel = series(plan)
    marks = thresholds(plan, sim.run(scenario).milestones) + [("a", "mark", 1500)]
    fast, plain = (
        Accumulator(plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], marks)
        for _ in range(2)
    )
    inputs = Draws(1).take(plan, 2_000)
    fast.add_draws(inputs)
    out = step_dense(plan, inputs)
    plain.add(level_views(plan, out, plain.names, plain.members), out.reached, out.original)
    np.testing.assert_array_equal(fast.first, plain.first)
    pd.testing.assert_frame_equal(fast.dates("x", "v"), plain.dates("x", "v"))


@pytest.mark.slow
@pytest.mark.parametrize("late", [False, True], ids=["on-time", "execution-delays"])
@pytest.mark.parametrize("seed", [4, 5])
def test_stepping_by_timing_group_equals_stepping_every_month(write, seed, late):
    scenario = sim.load_scenario(write(rich_doc(late)))
    for name in scenario.select(None):
        plan = scenario.plan(name)
        inputs = Draws(seed).take(plan, 600)
        if late:  # many timing keys, not only the announcement delay's
            assert len(np.unique(inputs.exec_delay, axis=0)) > 10
        fast, dense = step(plan, inputs), step_dense(plan, inputs)
        for field in (
            "tracks",
            "theaters",
            "deadline",
            "original",
            "reached",
            "target",
            "announce",
        ):
            a, b = getattr(fast, field), getattr(dense, field)
            assert a.dtype == b.dtype, field
            np.testing.assert_array_equal(a, b, err_msg=field)


@pytest.mark.slow
def test_run_files_are_byte_identical_whatever_the_chunk_size(write, tmp_path):
    path = write(
        make_doc(
            milestones={
                "cut": {
                    "theater": "alpha",
                    "deadline": "2024-07",
                    "target": {"reduce_by": {"uniform": [0, 600]}},
                }
            }
        )
    )
    runner = CliRunner()
    outs = []
    for chunk in ("3", "1000"):
        out = tmp_path / f"chunk-{chunk}"
        res = runner.invoke(
            main,
            [
                "run",
                str(path),
                "--draws",
                "1000",
                "--seed",
                "4",
                "--chunk",
                chunk,
                "--quiet",
                "--out",
                str(out),
            ],
        )
        assert res.exit_code == 0, res.output
        outs.append(out)
    for name in ("bands.csv", "dates.csv", "milestones.csv", "monthly.csv"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


# ---------------------------------------------------------------- a golden ensemble


def test_golden_ensemble_of_a_two_valued_target(write):
    # 100 troops go to 0 or to 40 (even odds) by 2024-03, linearly from the start:
    # month 1 is half way, 50 or 70; from 2024-03 on the level is 0 or 40.
    doc = make_doc(
        calendar={"start": START, "end": "2024-05"},
        theaters={"alpha": {"initial": 100}},
        milestones={
            "cut": {
                "theater": "alpha",
                "deadline": "2024-03",
                "target": {"level": {"choice": {"values": [0, 40]}}},
            }
        },
    )
    n, seed = 200, 17
    result = run_ensemble(write, doc, n, seed)
    u = Draws(seed).uniforms("milestones.cut.target.level", n)
    k = int((u < 0.5).sum())  # draws going to 0; the other n - k go to 40
    assert 0 < k < n

    def percentile(q: int, low: int, high: int) -> int:  # the smallest level with >= q %
        return low if k >= math.ceil(q * n / 100) else high

    start = band(result, "2024-01")
    assert (start["min"], start["p50"], start["max"], start["mean"]) == (100, 100, 100, 100.0)
    half = band(result, "2024-02")
    assert (half["min"], half["max"]) == (50, 70)
    assert half["mean"] == round((50 * k + 70 * (n - k)) / n, 3)
    assert half["p50"] == percentile(50, 50, 70) and half["p95"] == percentile(95, 50, 70)
    for month in ("2024-03", "2024-05"):
        row = band(result, month)
        assert (row["min"], row["max"]) == (0, 40)
        assert row["mean"] == round(40 * (n - k) / n, 3)
        assert row["p10"] == percentile(10, 0, 40) and row["p90"] == percentile(90, 0, 40)

    dates = result.dates.set_index("threshold")
    zero = dates.loc["zero"]
    assert zero["never"] == round((n - k) / n, 6)
    assert zero["p10"] == pd.Period("2024-03", "M")  # k / n is well above 10 %
    assert result.milestones.p_met.tolist() == [1.0]


# ---------------------------------------------------------------- memory


@pytest.mark.slow
def test_memory_does_not_grow_with_the_number_of_draws(write):
    import tracemalloc

    scenario = sim.load_scenario(write(rich_doc()))
    sim.run(scenario, draws=100, seed=1, chunk=1_000)  # warm caches
    peaks = []
    for n in (2_000, 20_000):
        tracemalloc.start()
        sim.run(scenario, draws=n, seed=1, chunk=1_000)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.5 * peaks[0]


@pytest.mark.slow
def test_a_run_holds_its_counts_and_little_more_however_long_levels_are_held(write, monkeypatch):
    # levels held over months are counted as differences made only for the months
    # where a stretch starts or ends, and the bands read the counts a block of months
    # at a time: once a second array of counts as large (every month's differences)
    # and int64 running sums of all months (twice as large again) were held too, 6x
    # the counts in all
    import tracemalloc

    from sim.analysis import accumulator as acc_module

    monkeypatch.setattr(acc_module, "BLOCK_BYTES", 1 << 20)
    scenario = sim.load_scenario(write(large_force_doc()))
    counts = scenario.plan(scenario.select(None)[0]).n_months * 100_001 * 4
    sim.run(scenario, draws=100, seed=1)  # warm caches
    tracemalloc.start()
    try:
        sim.run(scenario, draws=2_000, seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * counts


def test_held_stretches_fold_to_running_sums_with_rows_only_for_months_written():
    from sim.analysis.stretches import HeldStretches

    rng = np.random.default_rng(5)
    months, span = 12, 7
    held = HeldStretches(months, span)
    dense = np.zeros((months + 1, span), np.int64)
    for _ in range(6):
        a = int(rng.integers(0, months))
        b = int(rng.integers(a, months))
        counts = rng.integers(0, 50, span)
        held.add(0, 2, a, b, slice(None), counts)
        dense[a] += counts
        dense[b + 1] -= counts
    written = {m for m in range(months) if dense[m].any()}
    assert held.nbytes == len(written) * span * 4 < months * span * 4
    dest = np.zeros((months, span), np.int32)
    held.fold(0, 2, dest)
    np.testing.assert_array_equal(dest, np.cumsum(dense, axis=0)[:months])
    assert held.nbytes == 0 and held.arrays() == set()


def test_a_held_stretch_to_the_last_month_takes_one_row_and_repeated_columns_add_up():
    # a stretch lasting to the end was taken away in a row past the last month, made
    # as wide as a month's counts and never read (6.4 MB for 16 slots of 100,000 levels)
    from sim.analysis.stretches import HeldStretches

    months, span = 6, 5
    held = HeldStretches(months, span)
    held.add(0, 0, 2, months - 1, np.array([1, 1, 3]), np.array([2, 3, 4]))
    assert held.nbytes == span * 4  # month 2's row only
    held.add(0, 0, 0, 3, slice(1, 3), np.array([1, 1]))
    dest = np.zeros((months, span), np.int32)
    held.fold(0, 0, dest)
    assert dest.tolist() == [[0, 1, 1, 0, 0]] * 2 + [[0, 6, 1, 4, 0]] * 2 + [[0, 5, 0, 4, 0]] * 2


def test_held_stretches_laid_out_over_more_slots_keep_each_slot_in_place():
    from sim.analysis.stretches import HeldStretches

    width, months = 3, 4
    held = HeldStretches(months, width)  # one slot per level
    held.row(1, 0, 1)[...] += [4, 5, 6]
    held.relay(width, 1, 1, 3)  # three slots per level, the old one second
    dest = np.zeros((months, width * 3), np.int32)
    held.fold(1, 0, dest)
    assert dest[0].tolist() == [0] * 9
    assert dest[1].tolist() == [0, 4, 0, 0, 5, 0, 0, 6, 0] == dest[3].tolist()


def test_bands_summarised_month_block_by_block_are_the_same(write, monkeypatch):
    from sim.analysis import accumulator as acc_module

    scenario = sim.load_scenario(write(large_force_doc()))
    whole = sim.run(scenario, draws=2_000, seed=3)
    monkeypatch.setattr(acc_module, "BLOCK_BYTES", 1)  # one month per block
    blocks = sim.run(scenario, draws=2_000, seed=3)
    for a, b in zip(frames(whole), frames(blocks), strict=True):
        pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------- bad distributions


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        ({"triangular": [0, 900, 600]}, "low <= mode <= high"),
        ({"uniform": [600, 300]}, "low <= high"),
        ({"choice": {"values": [100, 200], "weights": [1, 0]}}, "positive weights"),
        ({"choice": {"values": [100, 200], "weights": [1, -2]}}, "positive weights"),
        ({"value": 100, "probability": 1.5}, "probability between 0 and 1"),
        ({"value": 100, "probability": -0.1}, "probability between 0 and 1"),
    ],
)
def test_distribution_parameters_are_validated(write, quantity, message):
    doc = make_doc(
        milestones={
            "cut": {"theater": "alpha", "deadline": "2024-07", "target": {"reduce_by": quantity}}
        }
    )
    with pytest.raises(ScenarioError, match=message) as info:
        sim.load_scenario(write(doc))
    assert "milestones.cut.target.reduce_by" in str(info.value)
    assert "\n" not in info.value.one_line()


# ---------------------------------------------------------------- bad command lines


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--draws", "0", "--seed", "1"],
            "<command line>:1:1: --draws: expected a whole number from 1 to 100,000,000, found '0'",
        ),
        (
            ["--draws", "-5", "--seed", "1"],
            "--draws: expected a whole number from 1 to 100,000,000, found '-5'",
        ),
        (["--draws", "1000000000000", "--seed", "1"], "<command line>:1:1: --draws: expected"),
        (["--draws", "many", "--seed", "1"], "--draws: expected a whole number from 1 to"),
        (["--draws", "100", "--seed", "abc"], "<command line>:1:1: --seed: expected"),
        (["--draws", "100", "--seed", "1.5"], "<command line>:1:1: --seed: expected"),
        (["--draws", "100"], "--draws: expected --seed S with --draws N"),
    ],
)
def test_bad_draws_or_seed_is_a_one_line_error_with_exit_code_2(write, tmp_path, args, expected):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(write()), *args, "--out", str(out)])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forcesim: error: ")
    assert expected in lines[0]
    assert "Traceback" not in res.output
    assert not out.exists()


def test_the_runs_cache_stays_bounded_when_every_draw_has_its_own_timing(write, monkeypatch):
    import sim.model.fastpath as fastpath

    scenario = sim.load_scenario(write(rich_doc(True)))  # execution delays: many keys
    whole = sim.run(scenario, draws=1_500, seed=2)
    sizes = []
    real = fastpath.Group._track_runs

    def track_runs(self, k):
        out = real(self, k)
        sizes.append(len(self._cache))
        return out

    monkeypatch.setattr(fastpath, "RUNS_KEPT", 10)
    monkeypatch.setattr(fastpath.Group, "_track_runs", track_runs)
    bounded = sim.run(scenario, draws=1_500, seed=2)
    assert max(sizes) <= 10 and len(sizes) > 100
    for a, b in zip(
        (whole.bands, whole.dates, whole.milestones),
        (bounded.bands, bounded.dates, bounded.milestones),
        strict=True,
    ):
        pd.testing.assert_frame_equal(a, b)


def test_importing_ipykernel_alone_shows_no_progress_bar_only_a_running_kernel_does(
    monkeypatch,
) -> None:
    import types

    from sim.analysis.chunks import progress_bar

    # a script that imported ipykernel (or IPython) is no notebook: no bar by default
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    shell = types.SimpleNamespace()
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert progress_bar(100, None, "x") is None
    shell.kernel = object()  # a running kernel's shell has its kernel
    bar = progress_bar(100, None, "x")
    assert bar is not None
    bar.close()


# ---------------------------------------------------------------- rounding means and shares


def test_a_mean_or_share_is_the_exact_ratio_rounded_once_with_halves_to_even():
    from fractions import Fraction

    from sim.analysis.summaries import rounded

    # 4,147,421 troops over 2,000 draws is 2073.7105 exactly: a half, written 2073.71
    # (the even last digit); rounding the float quotient wrote 2073.711
    assert round(4_147_421 / 2000, 3) == 2073.711  # the float lies just above the half
    assert rounded(4_147_421, 2000, 3) == 2073.71
    assert rounded(4_147_423, 2000, 3) == 2073.712  # 2073.7115: up to the even digit
    assert rounded(-4_147_421, 2000, 3) == -2073.71  # a difference of two variants
    assert rounded(1, 3, 6) == 0.333333 and rounded(2, 3, 6) == 0.666667
    assert rounded(Fraction(1, 2), Fraction(3), 3) == 0.167  # a weighted share
    assert rounded(5, 10**7, 6) == 0.0 and rounded(15, 10**7, 6) == 0.000002


def test_a_percentile_of_one_row_of_counts_is_the_index_inverse_cdf_gives_for_it():
    # dates.csv, the observed band and the median month of an outcome search one row of
    # cumulative counts; they share inverse_cdf's rule (at least one draw, ceil(q n / 100))
    from sim.analysis.summaries import inverse_cdf, inverse_cdf_row

    rng = np.random.default_rng(5)
    for n_cols in (1, 2, 7, 40):
        for _ in range(50):
            counts = rng.integers(0, 4, n_cols) * (rng.random(n_cols) < 0.6)
            counts[-1] += 1  # (a row with draws)
            cum = np.cumsum(counts)
            n = int(cum[-1])
            for q in (0, 1, 5, 10, 50, 80, 90, 95, 99, 100):
                want = int(inverse_cdf(cum[None, :], q, n)[0])
                assert inverse_cdf_row(cum, q, n) == want, (counts, q)


def test_every_mean_of_bands_csv_is_its_exact_mean_rounded_once():
    # the sites scenario at 2,000 draws, seed 2: slip-6's Iraq in 2025-06 averages
    # 2073.7105 troops, a half the float division put a hair above
    from fractions import Fraction

    scenario = sim.load_scenario(sim.default_scenario().parent / "iraq-sites-2024.yaml")
    result = sim.run(scenario, ["slip-6"], draws=2000, seed=2, keep_counts=True)
    counts = result.counts["slip-6"]
    months = result.plans["slip-6"].n_months
    width = counts.bound + 1
    bands = result.bands
    checked = 0
    for i, name in enumerate(counts.names):
        h = counts.hist[i].reshape(months, width)
        rows = bands[bands.theater == name].sort_values("month")
        for m, mean in enumerate(rows["mean"]):
            exact = Fraction(int((h[m] * np.arange(width)).sum()), 2000)
            assert mean == float(round(exact, 3)), (name, m, exact)
            checked += 1
    assert checked == len(bands)
    row = bands[(bands.theater == "iraq") & (bands.month == pd.Period("2025-06", "M"))]
    assert row["mean"].tolist() == [2073.71]


def test_the_summaries_of_several_variants_made_as_one_frame_equal_the_concat_of_theirs():
    # bands and dates of every variant are made as one frame; it must be the frame that
    # concatenating each variant's own frame gives, dtypes included, also when one
    # variant has no threshold rows or a date column no row reaches (then held as dates
    # in its own frame, and as objects in the concat)
    from sim.analysis.summaries import (
        DATE_COLUMNS,
        band_columns,
        bands_of,
        date_row,
        dates_of,
    )

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    plan = sc.plan(sc.select(None)[0])
    months = plan.n_months
    rng = np.random.default_rng(1)
    stats = ["mean", "min", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "max"]
    parts = [
        band_columns(
            sc.id,
            v,
            plan,
            ["iraq", "syria"],
            {c: [rng.integers(0, 900, months) for _ in range(2)] for c in stats},
        )
        for v in ("a", "b")
    ]
    one = bands_of(parts)
    pd.testing.assert_frame_equal(
        one, pd.concat([bands_of([p]) for p in parts], ignore_index=True), check_exact=True
    )
    # (text as pandas holds it: "str" from pandas 3, "object" before)
    text = pd.Series(["iraq"]).dtype
    assert str(one.month.dtype) == "period[M]" and one.theater.dtype == text

    def rows(variant: str, ats: list[list[int]]) -> list[dict]:
        marks = [("iraq", "zero", 0), ("iraq", "milestone x", 300)][: len(ats)]
        return [
            date_row(plan, sc.id, variant, mark, at, 0.25)
            for mark, at in zip(marks, ats, strict=True)
        ]

    never = months  # past the horizon: never reached, written empty
    cases = [
        [rows("a", [[3, 5, 9, never], [1, 2, 4, 8]]), rows("b", [[2, 6, never, never]])],
        [rows("a", [[3, 5, 9, 12]]), rows("b", [[never, 6, 7, 8]])],  # b's p10: never
        [rows("a", [[3, 5, 9, 12]]), []],  # b: no threshold
    ]
    for parts_d in cases:
        with warnings.catch_warnings():  # (pandas before 3 warns of its all-NA columns)
            warnings.simplefilter("ignore", FutureWarning)
            want = pd.concat(
                [pd.DataFrame(p, columns=DATE_COLUMNS) for p in parts_d], ignore_index=True
            )
        got = dates_of(parts_d)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert list(got.dtypes) == list(want.dtypes)


def test_the_central_runs_of_several_variants_made_as_one_frame_equal_the_concat_of_theirs():
    # monthly and milestones of every variant are one frame: that of concatenating each
    # variant's own, dtypes included, also beside a variant without milestones
    from sim.model.draws import central_inputs
    from sim.results import (
        milestone_columns,
        milestones_of,
        monthly_columns,
        monthly_of,
    )

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    names = sc.select(None)[:3]
    plans = {v: sc.plan(v) for v in names}
    inputs = {v: central_inputs(plans[v]) for v in names}
    outs = {v: step(plans[v], inputs[v]) for v in names}
    for unreported in (False, True):
        parts = [
            monthly_columns(
                sc.id, v, plans[v], outs[v], inputs[v].unreported[0] if unreported else None
            )
            for v in names
        ]
        pd.testing.assert_frame_equal(
            monthly_of(parts),
            pd.concat([monthly_of([p]) for p in parts], ignore_index=True),
            check_exact=True,
        )
    parts = [milestone_columns(sc.id, v, plans[v], outs[v]) for v in names]
    none = {**parts[1], **{c: parts[1][c][:0] for c in list(parts[1])[2:]}}
    for these in (parts, [parts[0], none, parts[2]], [none]):
        got = milestones_of(these)
        want = pd.concat([milestones_of([p]) for p in these], ignore_index=True)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert list(got.dtypes) == list(want.dtypes)
    assert str(milestones_of(parts).deadline.dtype) == "period[M]"


def test_frame_of_parts_keeps_the_columns_asked_in_order_with_months_as_periods():
    # monthly.csv and bands.csv rows come out of frame_of: a part's columns in the order
    # asked (the first part's by default), months as monthly periods
    from sim.results import frame_of, monthly_of

    parts = [
        {"theater": np.array(["a", "b"], dtype=object), "month": np.array([24300, 24301])},
        {"theater": np.array(["c"], dtype=object), "month": np.array([24302])},
    ]
    got = frame_of(parts)
    assert list(got.columns) == ["theater", "month"]
    assert [str(m) for m in got.month] == ["2025-01", "2025-02", "2025-03"]
    assert list(frame_of(parts, ["month", "theater"]).columns) == ["month", "theater"]
    pd.testing.assert_frame_equal(monthly_of(parts), got, check_exact=True)


def test_monthly_and_band_columns_key_their_rows_alike_series_by_series():
    # the scenario, variant, theater and month of each row come from key_columns
    from sim.analysis.summaries import band_columns
    from sim.model.draws import central_inputs
    from sim.results import key_columns, monthly_columns

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    plan = sc.plan("on-time")
    names = list(plan.theaters)
    keys = key_columns(sc.id, "on-time", plan, names)
    assert list(keys) == ["scenario", "variant", "theater", "month"]
    assert list(keys["theater"][:: plan.n_months]) == names
    assert list(keys["month"][: plan.n_months]) == list(plan.start + np.arange(plan.n_months))
    monthly = monthly_columns(sc.id, "on-time", plan, step(plan, central_inputs(plan)))
    levels = [np.zeros(plan.n_months, np.int64)] * len(names)
    bands = band_columns(sc.id, "on-time", plan, names, {"min": levels})
    for made in (monthly, bands):
        for c, want in keys.items():
            np.testing.assert_array_equal(made[c], want)


def test_value_sums_from_running_sums_equal_the_sums_of_counts_times_values():
    from sim.analysis.summaries import value_sums

    rng = np.random.default_rng(11)
    counts = rng.integers(0, 1_000, (5, 300))
    values = np.arange(-120, 180)  # consecutive, ending at 179
    got = value_sums(np.cumsum(counts, axis=1), 179)
    np.testing.assert_array_equal(got, counts @ values)


def test_summary_blocks_are_at_most_a_quarter_of_the_heaps_mmap_threshold():
    # blocks just under the threshold are served from the heap, and blocks of sizes that
    # differ series by series, one after another, grew it by the gaps they left
    # (forcesim compare of iraq-2008 at 10^4 draws: 283 to 307 MB at the peak, 233 MB
    # with blocks of 8 MB)
    from sim.analysis.accumulator import BLOCK_BYTES
    from sim.analysis.heap import MMAP_THRESHOLD

    assert 4 * BLOCK_BYTES <= MMAP_THRESHOLD


def test_a_theater_of_many_sites_is_counted_one_sites_levels_at_a_time(write, monkeypatch):
    # each site's levels (months x draws) were all held, in a scratch block per site,
    # until their sum was counted: 10,000 sites took 435 MB for 10^4 draws
    import sim.analysis.accumulator as accumulator

    sites = {f"s{i:02d}": {"initial": 100} for i in range(40)}
    cuts = {
        f"s{i:02d}-cut": {
            "theater": f"big/s{i:02d}",
            "deadline": {"after_announcement": 3 + i % 6},
            "target": {"level": {"uniform": [0, 60]}},
        }
        for i in range(40)
    }
    doc = make_doc(
        calendar={"start": "2024-01", "end": "2025-06"},
        announcement={"expected": "2024-03", "delay": {"uniform": [0, 3]}},
        theaters={"big": {"sites": sites}},
        milestones=cuts,
    )
    held: list[int] = []
    real = accumulator.Accumulator._add_group

    def spy(self: Any, *args: Any) -> Any:
        out = real(self, *args)
        held.append(sum(1 for dtype, _ in self._scratch if dtype == np.dtype(np.int64).num))
        return out

    monkeypatch.setattr(accumulator.Accumulator, "_add_group", spy)
    result = sim.run(sim.load_scenario(write(doc)), draws=400, seed=1)
    assert held and max(held) <= 2, max(held)  # one site's block, and no more
    # the theater is still the sum of its sites, draw by draw: its mean the sum of theirs
    bands = result.bands
    month = bands.month.max()
    big = bands[(bands.theater == "big") & (bands.month == month)].iloc[0]
    site_rows = bands[(bands.theater.str.startswith("big/")) & (bands.month == month)]
    assert len(site_rows) == 40
    assert abs(big["mean"] - site_rows["mean"].sum()) < 0.01 * 40


def rising_doc(top: int, end: str) -> dict[str, Any]:
    """One theater drawn over 0..``top`` troops, cut by the horizon ``end`` to a level
    drawn over the same range: half the draws rise, month after month, from a level
    drawn anywhere in it (no announcement delay: one timing group)."""
    return make_doc(
        calendar={"start": START, "end": end},
        announcement={"expected": START},
        theaters={"alpha": {"initial": {"uniform": [0, top]}}},
        milestones={
            "alpha-move": {
                "theater": "alpha",
                "deadline": end,
                "target": {"level": {"uniform": [0, top]}},
            }
        },
    )


def _traced_peak(run: Callable[[], Any]) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


#: (SPARSE_SPAN, RISE_BYTES, TILE_COLUMNS, FEW_RISES, TILE_LEVELS) that send every count
#: one way (TILE_LEVELS 0: four months per bincount of few draws)
COUNTING_WAYS = {
    "columns-taken": (0, 1, 1 << 40, 1, 0),
    "month-by-month": (10**9, 1, 1, 10**9, 0),
    "all-months-at-once": (10**9, 1 << 40, 1 << 40, 10**9, 1 << 40),
}


def count_one_way(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    from sim.analysis import accumulator as acc_module

    for name, value in zip(
        ("SPARSE_SPAN", "RISE_BYTES", "TILE_COLUMNS", "FEW_RISES", "TILE_LEVELS"),
        COUNTING_WAYS[way],
        strict=True,
    ):
        monkeypatch.setattr(acc_module, name, value)


@pytest.mark.slow
@pytest.mark.parametrize("way", list(COUNTING_WAYS))
def test_rising_levels_are_counted_exactly_column_by_column_taken_and_in_blocks_of_months(
    write, monkeypatch, way
):
    # the running minimum's correction is counted a block of months at a time (one month
    # when RISE_BYTES holds less than a month), for the draws above their lowest only
    # (FEW_RISES), a few draws over many columns in the columns they take (SPARSE_SPAN),
    # and a few months' draws month by month past TILE_COLUMNS: each way must count what
    # the month-by-month stepper's levels give
    count_one_way(monkeypatch, way)
    for doc in (rising_doc(3_000, "2025-06"), rich_doc(late=True)):
        assert_counts_of_every_stepped_level(sim.load_scenario(write(doc)), 4, (1, 37, 300))


def test_a_level_rising_over_many_months_is_not_held_for_all_the_months_at_once(write):
    # a rising level's running minimum was taken over every month's levels at once: three
    # arrays (months, draws) of int64, 35 MB here, beside counts of 10 MB
    peak, plan = _peak_of_one_chunk(write, rising_doc(2_000, "2073-12"), 3_000)
    counts = 2 * 2 * plan.n_months * 2_001 * 4  # counts and running minimum, two series
    assert peak < counts + (8 << 20)


def _peak_of_one_chunk(write: Any, doc: dict[str, Any], draws: int) -> tuple[int, Any]:
    """The traced peak [bytes] of ``sim.run`` of ``doc``'s first variant, ``draws`` draws
    in one chunk (its caches warmed first), and that variant's plan."""
    scenario = sim.load_scenario(write(doc))
    sim.run(scenario, draws=100, seed=1)  # warm caches
    peak = _traced_peak(lambda: sim.run(scenario, draws=draws, seed=1, chunk=draws))
    return peak, scenario.plan(scenario.select(None)[0])


def sites_rising_doc(top: int, end: str) -> dict[str, Any]:
    """:func:`rising_doc` with the theater made of two sites, each drawn and cut so."""
    sites = ("north", "south")
    return make_doc(
        calendar={"start": START, "end": end},
        announcement={"expected": START},
        theaters={"alpha": {"sites": {s: {"initial": {"uniform": [0, top]}} for s in sites}}},
        milestones={
            f"{s}-move": {
                "theater": f"alpha/{s}",
                "deadline": end,
                "target": {"level": {"uniform": [0, top]}},
            }
            for s in sites
        },
    )


@pytest.mark.slow
def test_a_theater_of_sites_over_many_months_steps_its_draws_in_blocks_of_bounded_bytes(write):
    # a theater made of sites was stepped 32,768 draws at a time whatever its months: at
    # 600 months, each site's levels, their sum and its running minimum took 157 MB
    # each (604 MB of RSS at 10^6 draws of two sites rising over 600 months); here, 8,000
    # draws in one part took several arrays of 600 x 8,000 int64 (38 MB each): 203 MB
    # at its peak, 120 MB in blocks of 16 MB
    peak, plan = _peak_of_one_chunk(write, sites_rising_doc(2_000, "2073-12"), 8_000)
    counts = 2 * 3 * plan.n_months * 4_001 * 4  # counts and running minimum, three series
    assert peak < counts + (80 << 20)


@pytest.mark.parametrize("per_block", [7, 1 << 15], ids=["blocks-of-7-draws", "one-block"])
def test_a_theater_of_sites_rising_is_counted_exactly_whatever_its_blocks_of_draws(
    write, monkeypatch, per_block
):
    from sim.analysis import accumulator as acc_module

    scenario = sim.load_scenario(write(sites_rising_doc(300, "2026-06")))
    months = scenario.plan(scenario.select(None)[0]).n_months
    monkeypatch.setattr(acc_module, "SITES_BYTES", 8 * months * per_block)
    assert acc_module.sites_block(scenario.plan(scenario.select(None)[0])) == per_block
    assert_counts_of_every_stepped_level(scenario, 5, (1, 40, 300))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("doc", "reports"),
    [
        (rich_doc(late=True), "2024-05-15,alpha,600,1200\n2025-01-15,gamma,100,200\n"),
        (rising_doc(3_000, "2025-06"), "2024-09-15,alpha,500,2500\n"),
        (sites_rising_doc(300, "2026-06"), "2025-01-15,alpha,100,400\n"),
    ],
    ids=["rich-late", "rising", "sites-rising"],
)
def test_the_running_minimums_correction_counted_by_stretch_between_marks_gives_its_dates(
    write, tmp_path, monkeypatch, doc, reports
):
    # the correction is read only as its sums below each threshold mark: counted at the
    # first level of the stretch between marks each level lies in, plain and tagged, it
    # gives the dates that counting it level by level gives
    scenario = sim.load_scenario(write(doc))
    record = tmp_path / "record.csv"
    record.write_text("date,theater,troops_low,troops_high\n" + reports, encoding="utf-8")
    observed = sim.load_observations(record, scenario)

    def run() -> sim.Result:
        return sim.run(scenario, draws=3_000, seed=3, chunk=700, observed=observed, condition=True)

    by_stretch = run()
    made = Accumulator.__post_init__

    def level_by_level(self: Accumulator) -> None:
        made(self)
        self._starts = None

    monkeypatch.setattr(Accumulator, "__post_init__", level_by_level)
    by_level = run()
    pd.testing.assert_frame_equal(by_stretch.dates, by_level.dates)
    pd.testing.assert_frame_equal(by_stretch.bands, by_level.bands)
    a, b = by_stretch.observed.conditioned, by_level.observed.conditioned
    pd.testing.assert_frame_equal(a.dates, b.dates)
    assert a.effective == b.effective


def test_the_running_minimums_correction_takes_a_column_per_stretch_between_marks(write):
    # counted level by level, the correction of draws rising anywhere in 0..300,000 took
    # a count of nearly every level of every month: as many pages as the counts
    scenario = sim.load_scenario(write(rising_doc(300_000, "2025-06")))
    plan = scenario.plan(scenario.select(None)[0])
    sel = series(plan)
    marks = thresholds(plan, sim.run(scenario).milestones)
    acc = Accumulator(plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], marks)
    acc.add_draws(Draws(2).take(plan, 5_000))
    acc.settle()
    assert acc._lower is not None
    taken = np.flatnonzero(acc._lower.reshape(plan.n_months, acc.span).any(axis=0))
    assert 0 < len(taken) <= len(marks) + 1
    assert set(taken.tolist()) <= {0} | {level + 1 for _, _, level in marks}


@pytest.mark.parametrize("carry", [False, True], ids=["from-the-first-month", "carried"])
@pytest.mark.parametrize("shape", [(0, 5), (1, 4), (7, 1), (30, 33), (0, 300), (1, 300), (9, 300)])
def test_the_running_minimum_is_each_draws_lowest_level_so_far(shape, carry):
    rng = np.random.default_rng(sum(shape))
    block = rng.integers(0, 50, shape)
    before = rng.integers(0, 50, shape[1]) if carry else None
    want = np.minimum.accumulate(block, axis=0)
    if before is not None:
        want = np.minimum(want, before)
    kept = block.copy()
    np.testing.assert_array_equal(running_minimum(block, before), want)
    np.testing.assert_array_equal(block, kept)  # (the block is not changed)


@pytest.mark.parametrize(
    ("top", "draws", "most"),
    [(600_000, 2_000, 20 << 20), (1_000_000, 40_000, 40 << 20)],
    ids=["few-draws", "many-draws"],
)
def test_rising_draws_over_many_levels_take_no_scratch_of_several_months_of_levels(
    write, top, draws, most
):
    # a few months' draws spread over 600,000 columns were counted in every column from
    # the lowest they take, in int64 scratch of 4 months x 600,000 columns (19 MB), and
    # the correction's negative counts in a product as large (44 MB in all); the draws
    # of many draws over 1,000,000 levels likewise (4 x 8 MB twice, 82 MB in all). A
    # month's held levels still take a count of every level (int64: 5 and 8 MB), and
    # the held stretches' rows up to HELD_BYTES (16 MB) and one more
    import tracemalloc

    scenario = sim.load_scenario(write(rising_doc(top, "2024-12")))
    plan = scenario.plan(scenario.select(None)[0])
    sel = series(plan)
    acc = Accumulator(plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], [])
    source = Draws(3)
    acc.add_draws(source.take(plan, 50))  # (the counts and the running minimum's laid out)
    assert acc._lower is not None
    inputs = source.take(plan, draws)
    tracemalloc.start()
    try:
        acc.add_draws(inputs)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < most


class _TagByLevel:
    """A tagger (:meth:`Accumulator.add_draws`): each draw's tag is the number of the
    months ``reads`` in which its level is above ``above``."""

    def __init__(self, months: list[int], above: int) -> None:
        self.reads = [(0, m) for m in months]
        self.above = above

    def __call__(self, level_at: Callable[[int, int], Any], unreported: Any) -> Any:
        return sum((level_at(k, m) > self.above).astype(np.int64) for k, m in self.reads)


def test_tagged_draws_of_a_theater_of_sites_take_no_copy_nor_float_room_of_their_levels(write):
    # counted in their slots, a part's levels of a site (600 months x 3,000 draws: 14 MB)
    # were copied for their columns, and computed in float room as large: five such
    # blocks at once, where the levels, their sum and its running minimum are three
    scenario = sim.load_scenario(write(sites_rising_doc(2_000, "2073-12")))
    plan = scenario.plan(scenario.select(None)[0])
    sel = series(plan)
    acc = Accumulator(plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], [])
    tagger = _TagByLevel([12, 24], 1_000)
    source = Draws(3)
    acc.add_draws(source.take(plan, 300), tagger)  # (every slot and its counts laid out)
    assert acc.tags == [0, 1, 2]
    inputs = source.take(plan, 3_000)
    peak = _traced_peak(lambda: acc.add_draws(inputs, tagger))
    assert peak < 4 * 8 * plan.n_months * 3_000


@pytest.mark.parametrize("way", ["columns-taken", "month-by-month"])
def test_tagged_draws_whose_levels_rise_are_counted_in_their_slots_alike_whichever_way(
    write, monkeypatch, way
):
    # the running minimum's correction of tagged draws, each draw in the slot of its
    # tag, counted for the draws above their lowest only, in the columns they take, or
    # month by month, holds the counts that counting every draw of every month at once
    # holds, slot by slot (the weighted threshold dates read each slot's)
    doc = rising_doc(3_000, "2025-06")
    doc["announcement"] = {"expected": START, "delay": {"choice": {"values": [0, 1, 2]}}}
    scenario = sim.load_scenario(write(doc))
    plan = scenario.plan(scenario.select(None)[0])
    sel = series(plan)
    got = {}
    for name in ("all-months-at-once", way):
        count_one_way(monkeypatch, name)
        acc = Accumulator(plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], [])
        source = Draws(5)
        for take in (37, 300):
            acc.add_draws(source.take(plan, take), _TagByLevel([2, 8, 14], 1_500))
        acc.settle()
        assert acc.tags == [0, 1, 2, 3] and acc._lower is not None
        got[name] = (acc.hist.copy(), acc._lower.copy(), acc.slot_n.copy())
    for want, have in zip(got["all-months-at-once"], got[way], strict=True):
        np.testing.assert_array_equal(have, want)


def test_the_progress_bar_of_several_variants_says_it_counts_each_variants_draws(
    monkeypatch,
) -> None:
    # a notebook's bar ran to 60.0k for 20,000 draws of three variants with no word why
    import sim.analysis.ensemble as ensemble

    seen = []
    monkeypatch.setattr(
        ensemble, "progress_bar", lambda total, enabled, label: seen.append((total, label))
    )
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    sim.run(scenario, variants=["on-time", "slip-6", "slip-3"], draws=200, seed=1)
    sim.run(scenario, variants=["on-time"], draws=200, seed=1)
    assert seen == [
        (600, "iraq-syria-2024, 200 draws × 3 variants"),
        (200, "iraq-syria-2024"),
    ]


# ---------------------------------------------------------------- independent streams

COLLIDING = """\
id: collide
title: Two theaters whose key paths share a CRC-32
as_of: 2024-01
calendar: {start: 2024-01, end: 2024-06}
announcement: {expected: 2024-01, delay: 0}
theaters:
  uablaijhsa:
    initial: {uniform: [0, 1000], assumption: a}
  pfcxpytzcn:
    initial: {uniform: [0, 1000], assumption: b}
"""


def test_two_inputs_whose_streams_would_coincide_are_refused_at_the_second(tmp_path):
    # the two key paths share a CRC-32: their streams, seeded by it, drew the same
    # numbers in every draw (correlation 1 between inputs said to be independent)
    import zlib

    a, b = "theaters.uablaijhsa.initial", "theaters.pfcxpytzcn.initial"
    assert zlib.crc32(a.encode()) == zlib.crc32(b.encode())
    path = tmp_path / "collide.yaml"
    path.write_text(COLLIDING, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    message = str(err.value)
    assert message.startswith(f"{path}:10:5: {b}: expected inputs drawn independently")
    assert f"found '{b}', whose CRC-32 (1897397060) is that of '{a}'" in message


def test_a_probability_whose_stream_would_coincide_is_refused_at_its_probability(tmp_path):
    # the refusal pointed at the quantity's key (unreported), not at its probability
    import zlib

    a, b = "theaters.zzdlzihfsj.initial", "theaters.ebyzlucopt.unreported#probability"
    assert zlib.crc32(a.encode()) == zlib.crc32(b.encode())
    path = tmp_path / "collide.yaml"
    text = COLLIDING.replace("uablaijhsa", "zzdlzihfsj").replace(
        "  pfcxpytzcn:\n    initial: {uniform: [0, 1000], assumption: b}\n",
        "  ebyzlucopt:\n    initial: 900\n"
        "    unreported: {uniform: [0, 100], probability: 0.5, assumption: b}\n",
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    where = f"{path}:11:37: theaters.ebyzlucopt.unreported.probability: expected inputs drawn"
    assert str(err.value).startswith(where), err.value


def test_stream_names_list_each_distribution_and_each_probability_once():
    from sim.model.draws import shared_streams, stream_names

    plan = sim.load_scenario(DEFAULT_SCENARIO).plan("as-reported")
    assert stream_names(plan) == [
        "theaters.syria.unreported",
        "theaters.syria.unreported#probability",
        "announcement.delay",
        "milestones.iraq-phase-1.target.reduce_by",
        "residuals.advisory.size",
        "residuals.advisory.size#probability",
    ]
    assert shared_streams(plan) is None


@pytest.mark.slow
@pytest.mark.parametrize(
    "path", [DEFAULT_SCENARIO, DEFAULT_SCENARIO.parent / "iraq-sites-2024.yaml"]
)
def test_stream_names_are_the_streams_an_ensemble_draws_from(monkeypatch, path):
    # the collision check (shared_streams) reads stream_names: a stream the draws open
    # but stream_names leaves out would go unchecked
    import sim.model.draws as draws
    from sim.model.draws import stream_names

    sc = sim.load_scenario(path)  # (its checks read every stream's key)
    opened: list[str] = []
    key = draws.stream_key

    def recorded(name: str) -> int:
        opened.append(name)
        return key(name)

    monkeypatch.setattr(draws, "stream_key", recorded)
    for variant in sc.variant_names:
        opened.clear()
        sim.run(sc, [variant], draws=50, seed=1)
        assert opened and set(opened) <= set(stream_names(sc.plan(variant))), variant
