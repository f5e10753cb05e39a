"""Ensembles at any scale: variants sharing each chunk's draws, and forces too large to
count level by level summarised exactly in bins (sim.analysis.wide).

The brute-force tests step every draw with the plain stepper and take percentiles
from the sorted levels, so they check the binned counts against a definition that
shares none of their code.
"""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import InProcessParts, make_doc
from test_ensemble import rich_doc

import sim
import sim.analysis.accumulator as accumulator
import sim.analysis.conditioning as conditioning
import sim.analysis.ensemble as ensemble
import sim.analysis.wide as wide
from sim.analysis.chunks import Fanout
from sim.analysis.outcomes import measure, outcomes
from sim.analysis.summaries import (
    DATE_PERCENTILES,
    PERCENTILES,
    counts_bytes,
    level_bound,
    series,
    thresholds,
)
from sim.cli import main
from sim.model.draws import Draws, central_inputs
from sim.model.stepper import step
from sim.months import format_month
from sim.results import milestone_columns


def frames(result: sim.Result) -> list[pd.DataFrame]:
    return [result.bands, result.dates, result.milestones]


def assert_same(a: sim.Result, b: sim.Result) -> None:
    for x, y in zip(frames(a), frames(b), strict=True):
        pd.testing.assert_frame_equal(x, y)


@pytest.fixture
def rich(write) -> sim.Scenario:
    return sim.load_scenario(write(rich_doc(True)))


# ---------------------------------------------------------------- variants side by side


def test_draws_taken_side_by_side_equal_each_plan_drawn_alone(rich):
    plans = [rich.plan(name) for name in rich.select(None)]
    together = Draws(3)
    alone = [Draws(3) for _ in plans]
    for take in (5, 300):
        both = together.take_all(plans, take)
        for plan, source, got in zip(plans, alone, both, strict=True):
            own = source.take(plan, take)
            for field in ("initial", "delay", "targets", "residual", "exec_delay", "unreported"):
                np.testing.assert_array_equal(getattr(got, field), getattr(own, field))


@pytest.mark.slow
def test_variants_side_by_side_give_the_summaries_of_one_variant_at_a_time(rich, monkeypatch):
    fanned = []
    monkeypatch.setattr(ensemble, "DEFAULT_CHUNK", 300)  # several chunks to share
    monkeypatch.setattr(
        ensemble, "Fanout", lambda makers: fanned.append(len(makers)) or Fanout(makers)
    )
    shared = sim.run(rich, draws=2_000, seed=8)
    assert fanned == [2]  # both variants went side by side
    monkeypatch.setattr(ensemble, "FAN_BYTES", 0)  # never side by side
    alone = sim.run(rich, draws=2_000, seed=8)
    assert fanned == [2]
    assert_same(shared, alone)


def test_shared_draws_are_read_only_so_no_variant_can_change_another_s(rich):
    plans = [rich.plan(name) for name in rich.select(None)]
    first, second = Draws(4).take_all(plans, 50)
    assert first.targets is second.targets  # the variants do not change the targets
    with pytest.raises(ValueError, match="read-only"):
        first.targets[0, 0] = 1.0


# ---------------------------------------------------------------- counted in bins


@pytest.mark.slow
@pytest.mark.parametrize(
    ("wanted", "pass_bytes"),
    [(9, 1 << 30), (0.05, 1 << 30), (0.002, 40_000)],
    ids=["narrow-bins", "wide-bins", "wide-bins-one-series-a-pass"],
)
def test_binned_summaries_equal_level_by_level_counts(rich, monkeypatch, wanted, pass_bytes):
    dense = sim.run(rich, draws=3_000, seed=5)
    monkeypatch.setattr(wide, "DENSE_BYTES", 0)  # every plan counted in bins
    monkeypatch.setattr(wide, "SERIES_BYTES", 0)
    monkeypatch.setattr(wide, "WANTED", wanted)  # fewer wanted bins: wider ones
    monkeypatch.setattr(wide, "PASS_BYTES", pass_bytes)
    plan = rich.plan("base")
    shifts = wide.shifts(plan)
    assert min(shifts) >= 1 and (max(shifts) >= 5) == (wanted < 1)
    assert len(series(plan)) == 5
    assert_same(dense, sim.run(rich, draws=3_000, seed=5))


@pytest.mark.slow
def test_a_variant_counted_in_bins_gives_the_parts_a_counted_one_does_so_a_run_makes_one_frame(
    rich, monkeypatch
):
    # one variant counted in bins, the other level by level: the binned one's summaries
    # come as columns and rows, as the other's, and the run makes one frame of both
    from sim.analysis.summaries import BAND_COLUMNS

    dense = sim.run(rich, draws=1_000, seed=4)
    made = []

    def run_wide(*a, **k):
        made.append(real_wide(*a, **k))
        return made[-1]

    real_wide, binned = wide.run_wide, iter([True, False])
    monkeypatch.setattr(ensemble, "run_wide", run_wide)
    monkeypatch.setattr(ensemble, "is_wide", lambda plan: next(binned))
    monkeypatch.setattr(wide, "SERIES_BYTES", 0)
    monkeypatch.setattr(wide, "WANTED", 0.05)
    mixed = sim.run(rich, draws=1_000, seed=4)
    assert len(made) == 1
    bands, dates, _ = made[0]
    assert isinstance(bands, dict) and list(bands) == BAND_COLUMNS and isinstance(dates, list)
    assert_same(dense, mixed)


@pytest.mark.slow
def test_binned_summaries_of_the_month_by_month_stepper_equal_level_by_level_counts(
    rich, monkeypatch
):
    # levels the fast path cannot take whole months at once go through sim.model.step
    monkeypatch.setattr("sim.analysis.accumulator._whole_inputs", lambda plan: False)
    dense = sim.run(rich, draws=1_000, seed=7)
    monkeypatch.setattr(wide, "DENSE_BYTES", 0)
    monkeypatch.setattr(wide, "SERIES_BYTES", 0)
    monkeypatch.setattr(wide, "WANTED", 0.05)
    assert_same(dense, sim.run(rich, draws=1_000, seed=7))


@pytest.mark.slow
def test_binned_summaries_do_not_depend_on_the_chunk_size_or_the_parts(rich, monkeypatch):
    monkeypatch.setattr(wide, "DENSE_BYTES", 0)
    monkeypatch.setattr(wide, "SERIES_BYTES", 0)
    monkeypatch.setattr(wide, "WANTED", 0.05)
    one = sim.run(rich, draws=1_500, seed=6)
    assert_same(one, sim.run(rich, draws=1_500, seed=6, chunk=333))
    assert_same(one, sim.run(rich, draws=1_500, seed=6, chunk=300, executor=InProcessParts(3)))


def test_passes_hold_their_series_within_the_byte_budget(monkeypatch):
    monkeypatch.setattr(wide, "PASS_BYTES", 10 * (3 * 4 * 10 * 100))  # ten series of 100 columns
    widths = [100] * 25 + [5_000]
    parts = wide.batches(widths, 10)
    assert sorted(i for p in parts for i in p) == list(range(26))
    assert [len(p) for p in parts] == [10, 10, 5, 1]  # the wide series alone


def brute_force(scenario: sim.Scenario, variant: str, draws: int, seed: int) -> tuple[Any, Any]:
    """The bands and dates of every stepped draw, from sorted levels (no counting)."""
    plan = scenario.plan(variant)
    out = step(plan, Draws(seed).take(plan, draws))
    months = plan.n_months
    rows, date_rows = [], []
    need = {q: max(1, -(-q * draws // 100)) for q in (*PERCENTILES, *DATE_PERCENTILES)}
    levels = {}
    for name, tracks in series(plan):
        if name in plan.theaters:
            lv = out.theaters[:, plan.theaters.index(name), :].astype(np.int64)
        else:
            lv = out.tracks[:, tracks[0], :].astype(np.int64)
        levels[name] = lv
        ordered = np.sort(lv, axis=0)
        for m in range(months):
            rows.append(
                [name, m, round(lv[:, m].sum() / draws, 3), ordered[0, m]]
                + [ordered[need[q] - 1, m] for q in PERCENTILES]
                + [ordered[-1, m]]
            )
    result = sim.run(scenario, [variant])
    for name, label, level in thresholds(plan, result.milestones):
        lowest = np.minimum.accumulate(levels[name], axis=1)
        hit = lowest <= level
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), months)
        first.sort()
        when = [first[need[q] - 1] for q in DATE_PERCENTILES]
        date_rows.append(
            [name, label, level]
            + [format_month(plan.start + m) if m < months else None for m in when]
            + [round(float((first == months).mean()), 6)]
        )
    return rows, date_rows


def check_against_brute_force(scenario: sim.Scenario, draws: int, seed: int) -> None:
    result = sim.run(scenario, draws=draws, seed=seed)
    rows, date_rows = brute_force(scenario, "base", draws, seed)
    bands = result.bands
    got = bands[["theater", "mean", "min", *[f"p{q:02d}" for q in PERCENTILES], "max"]]
    expected = [[r[0], *r[2:]] for r in rows]
    assert got.values.tolist() == expected
    dates = result.dates
    got_dates = [
        [r.theater, r.threshold, r.level]
        + [
            None if pd.isna(getattr(r, f"p{q}")) else str(getattr(r, f"p{q}"))
            for q in DATE_PERCENTILES
        ]
        + [r.never]
        for r in dates.itertuples()
    ]
    assert got_dates == date_rows


@pytest.mark.parametrize(
    ("end", "passes"), [("2025-12", 2), ("2073-12", 3)], ids=["two-years", "fifty-years"]
)
def test_ten_million_troops_are_summarised_exactly_in_bins(write, monkeypatch, end, passes):
    counted = []
    real = wide._counted
    monkeypatch.setattr(wide, "_counted", lambda *a, **k: counted.append(a[2]) or real(*a, **k))
    doc = {
        "id": "huge",
        "title": "One theater of ten million",
        "as_of": "2024-01",
        "calendar": {"start": "2024-01", "end": end},
        "announcement": {"expected": "2024-03", "delay": {"uniform": [0, 12]}},
        "theaters": {"big": {"initial": 10_000_000}},
        "milestones": {
            "cut": {
                "theater": "big",
                "deadline": {"after_announcement": 12},
                "target": {"level": {"uniform": [2_000_000, 6_000_000]}},
            }
        },
    }
    scenario = sim.load_scenario(write(doc))
    plan = scenario.plan("base")
    assert wide.is_wide(plan) and wide.shifts(plan)[0] >= 8  # the real path, no patching
    check_against_brute_force(scenario, 300, 11)
    assert len(counted) == passes  # fifty years: bins narrowed in several passes


@pytest.mark.slow
def test_forty_theaters_are_summarised_exactly_in_bins(write):
    doc = {
        "id": "many",
        "title": "Forty theaters",
        "as_of": "2024-01",
        "calendar": {"start": "2024-01", "end": "2028-12"},
        "announcement": {"expected": "2024-03", "delay": {"uniform": [0, 6]}},
        "theaters": {f"t{i:02d}": {"initial": 20_000} for i in range(40)},
        "milestones": {
            f"t{i:02d}-cut": {
                "theater": f"t{i:02d}",
                "deadline": {"after_announcement": 3 + i % 20},
                "target": {"level": {"uniform": [0, 4_000]}},
            }
            for i in range(40)
        },
    }
    scenario = sim.load_scenario(write(doc))
    plan = scenario.plan("base")
    assert counts_bytes(plan) > 4 * wide.DENSE_BYTES  # level by level: over 500 MB
    assert wide.is_wide(plan) and min(wide.shifts(plan)) >= 2
    check_against_brute_force(scenario, 300, 12)


HUGE = {
    "id": "huge",
    "title": "One theater of ten million",
    "as_of": "2024-01",
    "calendar": {"start": "2024-01", "end": "2025-12"},
    "announcement": {"expected": "2024-03", "delay": {"uniform": [0, 3]}},
    "theaters": {"big": {"initial": 10_000_000}},
    "milestones": {"cut": {"theater": "big", "deadline": "2025-06", "target": {"level": 0}}},
    "variants": {
        "base": {"description": "as written", "overrides": {}},
        "late": {"description": "announced late", "overrides": {"announcement": {"delay": 6}}},
    },
}


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["run", "--observed", "{obs}", "--condition"], "for conditioning on observations"),
        (["sensitivity"], "for sensitivity"),
        (["sweep", "--set", "announcement.delay=1,2"], "for a sweep"),
        (["compare", "-v", "base", "-v", "late"], "compare difference by difference"),
    ],
    ids=["observed", "sensitivity", "sweep", "compare"],
)
def test_analyses_that_keep_every_level_refuse_a_force_too_large_in_one_line(
    write, tmp_path, command, what
):
    path = write(HUGE)
    obs = tmp_path / "obs.csv"
    obs.write_text("date,theater,troops_low,troops_high\n2024-06,big,9000000,9000000\n")
    out = tmp_path / "out"
    central = "--central" in command  # (a sweep of the central runs only: no draws)
    args = [
        command[0],
        str(path),
        *[a.replace("{obs}", str(obs)) for a in command if a != "--central"][1:],
    ]
    draws = [] if central else ["--draws", "100", "--seed", "1"]
    result = CliRunner().invoke(main, [*args, *draws, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    line = path.read_text().splitlines().index("theaters:") + 1
    assert len(lines) == 1 and what in lines[0] and f"{path}:{line}:1: theaters" in lines[0]
    assert "10,000,000" in lines[0]
    assert not out.exists()


def test_a_central_sweep_of_a_force_too_large_to_count_level_by_level_reads_its_one_run(
    write, tmp_path
):
    # (the central run is one draw: nothing is counted level by level, so nothing to refuse)
    out = tmp_path / "out"
    args = ["sweep", str(write(HUGE)), "--set", "announcement.delay=1,9", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "-q"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    met = table[table.outcome == "p_met cut"].set_index(["variant", "announcement.delay"])
    # announced 2024-04: the cut to 0 by 2025-06 is met; announced 2024-12 ... also met
    # (the deadline is a calendar month); the level at the deadline is 0 either way
    assert set(met.value) <= {0.0, 1.0} and len(met) == 4
    level = table[table.outcome == "mean level big 2025-06"]
    assert list(level.value) == [0.0] * 4
    zero = table[table.outcome == "median month big zero"]
    assert list(zero.month) == ["2025-06"] * 4


def test_the_central_run_read_off_its_levels_equals_the_ensemble_of_that_one_draw(rich):
    # the values a central sweep gives without an accumulator are measure()'s of one
    from sim.analysis.outcomes import central_values  # (new: imported where it is checked)

    for name in rich.select(None):
        plan = rich.plan(name)
        sel = series(plan)
        columns = milestone_columns(rich.id, name, plan, step(plan, central_inputs(plan)))
        marks = thresholds(plan, columns)
        acc = accumulator.Accumulator(
            plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], marks
        )
        acc.add_draws(central_inputs(plan))
        outs = outcomes(plan, marks)
        assert central_values(plan, outs, marks) == measure(acc, outs)


def test_sobol_indices_of_a_force_too_large_to_count_level_by_level_are_found(write):
    # (Sobol reads each run's levels, a chunk of runs at a time: no level is counted)
    result = sim.sensitivity(sim.load_scenario(write(HUGE)), draws=64, seed=1, method="sobol")
    assert set(result.table.variant) == {"base"}  # (late has no uncertain input)
    assert set(result.table.input) == {"announcement.delay"}


@pytest.mark.slow
def test_a_plain_run_of_a_force_too_large_to_count_level_by_level_writes_every_file(
    write, tmp_path
):
    out = tmp_path / "out"
    args = ["run", str(write(HUGE)), "--draws", "500", "--seed", "1", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    bands = pd.read_csv(out / "bands.csv")
    assert set(bands.variant) == {"base", "late"} and bands["max"].max() == 10_000_000
    assert (out / "fan.png").stat().st_size > 10_000


def test_a_force_of_ten_million_is_counted_in_a_small_fraction_of_its_dense_counts(write):
    import tracemalloc

    scenario = sim.load_scenario(write(HUGE))
    plan = scenario.plan("base")
    dense = counts_bytes(plan)  # what counting every level would take
    sim.run(scenario, draws=50, seed=1)  # warm caches
    tracemalloc.start()
    sim.run(scenario, draws=2_000, seed=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert dense > 1_500 << 20 and peak < dense / 10


def test_variants_side_by_side_hold_no_more_drawn_inputs_than_one_chunk_allows(rich):
    from sim.analysis.chunks import INPUT_BYTES, MIN_CHUNK, fan_chunk, input_columns

    plans = [rich.plan(name) for name in rich.select(None)]
    for copies in (1, 8, 400):  # ever more variants: ever fewer draws per chunk
        many = plans * copies
        chunk = fan_chunk(many)
        held = 8 * chunk * sum(input_columns(p) for p in many)
        assert chunk == MIN_CHUNK or held <= 2 * INPUT_BYTES


# ---------------------------------------------------------------- one pass, kept as tables


def tables_doc() -> dict[str, Any]:
    """Theaters of one track each: drawn start levels and targets, several profiles, a
    step, a fixed residual from a milestone, execution delays, and a theater that
    never moves (variant ``fixed``); variant ``guarded`` draws the residual's size
    (three drawn inputs to one window: too many combinations to keep), ``reinforced``
    raises a level."""
    return {
        "id": "tabled",
        "title": "Theaters of one track each",
        "as_of": "2024-01",
        "calendar": {"start": "2024-01", "end": "2026-12"},
        "announcement": {"expected": "2024-02", "delay": {"choice": {"values": [0, 2, 5]}}},
        "theaters": {
            "alpha": {"initial": {"uniform": [900, 1000]}},
            "beta": {"initial": 700},
            "gamma": {"initial": 300},
        },
        "milestones": {
            "alpha-cut": {
                "theater": "alpha",
                "deadline": {"after_announcement": 6},
                "profile": "s-curve",
                "delay": {"choice": {"values": [0, 1, 3]}},
                "target": {"reduce_by": {"uniform": [100, 300]}},
            },
            "alpha-out": {
                "theater": "alpha",
                "deadline": {"after": "alpha-cut", "months": 9},
                "profile": "back",
                "target": {"level": 0},
            },
            "beta-step": {
                "theater": "beta",
                "deadline": "2024-09",
                "profile": "step",
                "target": {"level": {"triangular": [200, 300, 500]}},
            },
            "beta-out": {
                "theater": "beta",
                "deadline": "2025-12",
                "profile": "front",
                "target": {"level": {"uniform": [0, 50]}},
            },
        },
        "residuals": {
            "stay": {"theater": "alpha", "from": {"milestone": "alpha-out"}, "size": 80},
        },
        "variants": {
            "fixed": {"description": "as written"},
            "guarded": {
                "description": "the residual's size drawn",
                "overrides": {
                    "residuals": {"stay": {"size": {"uniform": [40, 90], "probability": 0.5}}}
                },
            },
            "reinforced": {
                "description": "Beta reinforced",
                "overrides": {"milestones": {"beta-out": {"target": {"level": 900}}}},
            },
        },
    }


@pytest.mark.slow
@pytest.mark.parametrize("chunk", [None, 97])
def test_series_kept_as_tables_in_one_pass_give_the_summaries_of_level_by_level_counts(
    write, monkeypatch, chunk
):
    scenario = sim.load_scenario(write(tables_doc()))
    dense = sim.run(scenario, draws=2_000, seed=3, chunk=chunk)
    monkeypatch.setattr(wide, "DENSE_BYTES", 0)  # every plan counted in bins
    monkeypatch.setattr(wide, "SERIES_BYTES", 0)
    monkeypatch.setattr(wide, "WANTED", 0.05)
    passes: dict[str, int] = {}
    now: list[str] = []
    real_wide, real_counted = wide.run_wide, wide._counted

    def run_wide(*a, **k):
        now.append(k["variant"])
        return real_wide(*a, **k)

    def counted(*a, **k):
        passes[now[-1]] = passes.get(now[-1], 0) + 1
        return real_counted(*a, **k)

    monkeypatch.setattr(ensemble, "run_wide", run_wide)
    monkeypatch.setattr(wide, "_counted", counted)
    assert_same(dense, sim.run(scenario, draws=2_000, seed=3, chunk=chunk))
    # the plan as written was counted from its tables alone, and so was the one whose
    # residual's size is drawn (the residual is the target of the ramp it floors, so it
    # never lifts a level and is no input of the ramp's table); the third could not be
    # (a level that rises) and took passes
    assert now == ["fixed", "guarded", "reinforced"]
    assert "fixed" not in passes and "guarded" not in passes
    assert passes["reinforced"] >= 2


def test_a_pass_that_cannot_keep_tables_leaves_the_progress_bar_where_it_was(write):
    scenario = sim.load_scenario(write(tables_doc()))
    plan = scenario.plan("reinforced")

    class Bar:
        n = 0

        def update(self, k: int) -> None:
            self.n += k

    bar = Bar()
    bar.n = 5
    assert wide._collected(plan, 3_000, 1, 500, bar) is None  # a level rises: no tables
    assert bar.n == 5
    kept = wide._collected(scenario.plan("fixed"), 3_000, 1, 500, bar)
    assert kept is not None and kept.n == 3_000 and bar.n == 3_005


@pytest.mark.slow
def test_a_pass_over_some_series_never_reads_the_rows_of_theaters_it_does_not_count(
    write, monkeypatch
):
    doc = tables_doc()
    doc["theaters"]["delta"] = {
        "sites": {"n": {"initial": {"uniform": [10, 500]}}, "s": {"initial": 300}}
    }
    doc["milestones"]["delta-n"] = {
        "theater": "delta/n",
        "deadline": "2025-03",
        "profile": "front",
        "target": {"level": {"uniform": [0, 50]}},
    }
    scenario = sim.load_scenario(write(doc))
    dense = sim.run(scenario, draws=1_500, seed=3, variants=["fixed"])
    for name, value in (("DENSE_BYTES", 0), ("SERIES_BYTES", 0), ("WANTED", 0.05)):
        monkeypatch.setattr(wide, name, value)
    monkeypatch.setattr(wide, "PASS_BYTES", 1)  # one series a pass
    from test_ensemble import poison_untaken_rows

    poison_untaken_rows(monkeypatch, accumulator)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a NaN cast to a level would warn
        got = sim.run(scenario, draws=1_500, seed=3, chunk=500, variants=["fixed"])
    assert_same(dense, got)


def test_variants_go_side_by_side_in_consecutive_batches_within_the_fan_budget(monkeypatch):
    monkeypatch.setattr(ensemble, "FAN_BYTES", 100)
    held = {"a": 40, "b": 50, "c": 20, "d": 150, "e": 60, "f": 40}
    assert ensemble.fan_batches(list(held), held) == [["a", "b"], ["c"], ["d"], ["e", "f"]]
    assert ensemble.fan_batches(["a"], held) == [["a"]]


def test_a_theater_of_thousands_of_sites_draws_chunks_whose_inputs_fit_the_budget(
    write, monkeypatch
):
    # a chunk once took at least 1,024 draws: 10,000 sites' inputs took 167 MB a chunk
    # (and as much again put in timing order), a 427 MB process at 10^4 draws. The
    # format now allows 1,000 sites (sim.checks.MAX_SITES), whose 1,024 draws fit the
    # budget: the limit is raised here for a plan whose chunks must shrink below that
    from sim.analysis.chunks import INPUT_BYTES, chunk_size, fan_chunk, input_columns

    monkeypatch.setattr("sim.checks.MAX_SITES", 3_000)
    sites = {f"s{i:04d}": {"initial": 10} for i in range(3_000)}
    doc = make_doc(
        theaters={"big": {"sites": sites}},
        milestones={
            "s0000-cut": {"theater": "big/s0000", "deadline": "2024-10", "target": {"level": 0}}
        },
    )
    plan = sim.load_scenario(write(doc)).plan("base")
    assert input_columns(plan) > 6_000
    for chunk in (chunk_size(plan), fan_chunk([plan, plan])):
        assert 8 * chunk * input_columns(plan) <= 2 * INPUT_BYTES
    assert 8 * chunk_size(plan) * input_columns(plan) <= INPUT_BYTES


# ---------------------------------------------------------------- reports on large forces

HUGE_REPORTS = (
    "date,theater,kind,troops_low,troops_high\n"
    "2024-06,big,reported,9000000,9000000\n"
    "2024-09,big,reported,6500000,8500000\n"
    "2024-09,big,reported,7000000,\n"  # (open-ended: no percentile rank)
    "2025-03,big,reported,0,500000\n"
)


@pytest.mark.slow
def test_reports_on_a_force_of_ten_million_score_as_every_stepped_draw_gives_them(write, tmp_path):
    source = write(HUGE)
    scenario = sim.load_scenario(source)
    assert wide.is_wide(scenario.plan("base"))
    path = tmp_path / "obs.csv"
    path.write_text(HUGE_REPORTS)
    observed = sim.load_observations(path, scenario)
    draws, seed = 400, 3
    whole = sim.run(scenario, draws=draws, seed=seed, observed=observed)
    table = whole.observed.table
    o_index = {id(o): i for i, o in enumerate(observed.items)}
    for variant in ("base", "late"):
        plan = scenario.plan(variant)
        levels = step(plan, Draws(seed).take(plan, draws)).theaters[:, 0, :].astype(np.int64)
        rows = table[table.variant == variant]
        for o, row in zip(observed.items, rows.itertuples(), strict=True):
            lv = levels[:, o.month - plan.start]
            lo, hi = row.accept_low, row.accept_high
            inside = (lv >= lo) & (lv <= hi if not pd.isna(hi) else True)
            assert row.p_consistent == round(inside.mean(), 6)
            if pd.isna(row.troops_high):
                assert pd.isna(row.percentile_rank)
            else:
                ref = (o.low + o.high) / 2
                rank = 100 * ((lv < ref).sum() + (lv == ref).sum() / 2) / draws
                assert row.percentile_rank == round(rank, 3)
            ordered = np.sort(lv)
            p10, p90 = ordered[40 - 1], ordered[360 - 1]
            high = np.inf if pd.isna(row.troops_high) else row.troops_high
            assert row.in_band80 == bool(row.troops_low <= p90 and high >= p10)
            # the distribution kept: the levels drawn, held as a level-by-level count
            # would hold them (the levels taken where that takes fewer bytes)
            d = whole.observed.distributions[(variant, o_index[id(o)])]
            taken, counts = np.unique(lv, return_counts=True)
            span = int(taken[-1] - taken[0]) + 1
            assert d.low == taken[0] and (d.at is not None) == (len(taken) * 12 < span * 8)
            where = taken - d.low if d.at is None else d.at
            assert d.parts.shape[0] == 1 and (where == taken - d.low).all()
            assert (d.parts[0][where] if d.at is None else d.parts[0]).tolist() == counts.tolist()
    assert set(table.status) == {"scored"}
    # the command scores them as it writes the run, to the same rows
    out = tmp_path / "out"
    args = ["run", str(source), "--observed", str(path), "--draws", "400", "--seed", "3"]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    sim.write_run(whole, tmp_path / "api", chart=False)
    assert (out / "observed.csv").read_bytes() == (tmp_path / "api" / "observed.csv").read_bytes()


@pytest.fixture
def record_runs(monkeypatch):
    """The default scenario scored against its record at 3,000 draws: counted level by
    level, and as if too large for that (every plan summarised in bins), its reports
    then tallied (``dense``: the levels each quantity's draws take held as a range,
    else by level taken)."""
    scenario = sim.load_scenario("scenarios/iraq-syria-2024.yaml")
    observed = sim.load_observations("scenarios/iraq-syria-2024-observed.csv", scenario)
    level_by_level = sim.run(scenario, draws=3_000, seed=5, observed=observed)

    def binned(levels: int, **options: Any) -> sim.Result:
        monkeypatch.setattr(wide, "DENSE_BYTES", 0)
        monkeypatch.setattr(conditioning, "BUFFER_VALUES", levels)
        return sim.run(scenario, draws=3_000, seed=5, observed=observed, **options)

    return level_by_level, binned


@pytest.mark.slow
@pytest.mark.parametrize(
    ("levels", "options"),
    [
        (1 << 20, {}),
        (3, {"chunk": 777}),
        (40, {"executor": InProcessParts(3)}),
    ],
    ids=["large-buffers", "buffers-of-3", "buffers-of-40-in-parts"],
)
def test_reports_scored_against_a_force_counted_in_bins_are_those_counted_level_by_level(
    record_runs, levels, options
):
    level_by_level, binned = record_runs
    got = binned(levels, **options)
    assert all(wide.is_wide(p) for p in got.plans.values())
    pd.testing.assert_frame_equal(got.observed.table, level_by_level.observed.table)
    pd.testing.assert_frame_equal(got.bands, level_by_level.bands)
    want, have = level_by_level.observed.distributions, got.observed.distributions
    assert have.keys() == want.keys()
    for key, d in want.items():
        assert have[key].low == d.low and (have[key].full() == d.full()).all(), key


@pytest.mark.parametrize("capacity", [1, 7, 1 << 16])
def test_a_tally_of_levels_merges_exactly_in_the_form_of_fewer_bytes(capacity):
    rng = np.random.default_rng(4)
    blocks = [
        rng.integers(1_000, 1_030, 200),  # a narrow range
        np.broadcast_to(np.int64(7), (30,)),  # every draw at one level
        rng.integers(0, 10_000, 50),  # wider than twice its values: by level taken
        rng.integers(990, 1_010, 100),
        rng.integers(5_000, 5_003, 10),
    ]
    parts = [conditioning.Counts(capacity) for _ in range(2)]
    for i, block in enumerate(blocks):
        parts[i % 2].add(block)
    parts[0].merge(parts[1])
    low, counts, levels = parts[0].held()
    every = np.concatenate([np.asarray(b) for b in blocks])
    expected_levels, expected = np.unique(every, return_counts=True)
    assert levels is not None  # (some 90 levels taken over 10,000: the fewer bytes)
    assert levels.tolist() == expected_levels.tolist() and counts.tolist() == expected.tolist()
    # a range its draws mostly take is held as a count of every level of it
    narrow = conditioning.Counts(capacity)
    for block in (blocks[0], blocks[3], blocks[0]):
        narrow.add(block)
    low, counts, levels = narrow.held()
    both = np.concatenate([blocks[0], blocks[3], blocks[0]])
    assert levels is None and low == both.min()
    assert counts.tolist() == np.bincount(both - low).tolist()


def test_a_tally_of_many_one_draw_groups_takes_its_buffer_not_a_block_each():
    # (draws with their own timing come one at a time: each a block of its own took
    # some 200 bytes and a fold, 1.5 GB and 239 s for 50 reports at 10^5 draws)
    tally = conditioning.Counts(64)
    folds = []
    real = tally.fold
    tally.fold = lambda block, taken: folds.append(1) or real(block, taken)  # type: ignore[method-assign]
    for value in range(1_000):
        tally.add(np.array([value % 50], np.int64))
    low, counts, levels = tally.held()
    assert len(folds) == -(-1_000 // 64) and levels is None and counts.tolist() == [20] * 50


def test_reports_whose_counts_would_pass_the_budget_are_refused_in_one_line(
    write, tmp_path, monkeypatch
):
    monkeypatch.setattr(conditioning, "TALLY_BYTES", 16)  # (two levels' counts)
    path = tmp_path / "obs.csv"
    path.write_text(HUGE_REPORTS)
    out = tmp_path / "out"
    args = ["run", str(write(HUGE)), "--observed", str(path), "--draws", "300", "--seed", "1"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"forcesim: error: {path}:1:1: (rows)")
    assert "score fewer reports" in lines[0]
    assert not out.exists()


def test_the_progress_bar_of_reports_scored_on_a_force_counted_in_bins_ends_full(
    write, tmp_path, monkeypatch
):
    bars: list[Any] = []

    class Bar:
        def __init__(self, total: int) -> None:
            self.total, self.n, self.closed = total, 0, False

        def update(self, k: int) -> None:
            self.n += k

        def close(self) -> None:
            self.closed = True

    def made(total: int, enabled: Any, label: str) -> Bar:
        bars.append(Bar(total))
        return bars[-1]

    monkeypatch.setattr(ensemble, "progress_bar", made)
    scenario = sim.load_scenario(write(HUGE))
    path = tmp_path / "obs.csv"
    path.write_text(HUGE_REPORTS)
    sim.run(scenario, draws=500, seed=1, observed=sim.load_observations(path, scenario))
    (bar,) = bars  # each variant's binned passes and its reports' pass: four of 500 draws
    assert bar.total == 4 * 500 and bar.n == bar.total and bar.closed


def test_the_refusal_of_a_tally_too_large_comes_back_whole_from_a_worker():
    # (an executor's parts come back pickled: a refusal raised there must too)
    error = pickle.loads(pickle.dumps(conditioning.TallyTooLarge(24, 96 << 20)))
    assert (error.quantities, error.limit) == (24, 96 << 20)
    assert "24 quantities" in str(error)


def keyed_doc() -> dict[str, Any]:
    """Four theaters of about 1,000 troops, each cut twice, every cut late by 0 to 12
    months: nearly every draw has a timing key of its own."""
    milestones: dict[str, Any] = {}
    for i in range(4):
        milestones[f"t{i}-cut"] = {
            "theater": f"t{i}",
            "deadline": "2025-01",
            "target": {"reduce_by": {"uniform": [0, 400]}},
            "delay": {"uniform": [0, 12]},
        }
        milestones[f"t{i}-out"] = {
            "theater": f"t{i}",
            "deadline": "2026-01",
            "target": {"level": 0},
            "delay": {"uniform": [0, 12]},
        }
    return {
        "id": "keyed",
        "title": "Every cut late by its own months",
        "as_of": "2024-01",
        "calendar": {"start": "2024-01", "end": "2027-12"},
        "announcement": {"expected": "2024-03", "delay": {"uniform": [0, 6]}},
        "theaters": {f"t{i}": {"initial": {"uniform": [1_000, 1_100]}} for i in range(4)},
        "milestones": milestones,
    }


def _keyed_reports(tmp_path: Any, scenario: sim.Scenario, rows: list[str]) -> Any:
    """Reports (``date,theater,troops_low,troops_high`` rows) written and loaded."""
    path = tmp_path / "obs.csv"
    path.write_text("\n".join(["date,theater,troops_low,troops_high", *rows]) + "\n")
    return sim.load_observations(path, scenario)


@pytest.mark.slow
def test_reports_on_draws_of_their_own_timing_are_tallied_theater_by_theater_exactly(
    write, tmp_path, monkeypatch
):
    # (stepped a draw at a time, 50 reports of 50 such theaters took 73 s at 10^4 draws
    # where theater by theater takes 25 s)
    scenario = sim.load_scenario(write(keyed_doc()))
    rows = [f"2024-{m:02d},t{i},700,1000" for i in range(4) for m in (8, 11)]
    rows += [f"2025-{m:02d},t{i},0,500" for i in range(4) for m in (3, 9)]
    observed = _keyed_reports(tmp_path, scenario, rows)
    level_by_level = sim.run(scenario, draws=2_000, seed=3, observed=observed)
    by_theater = []
    real = accumulator.Accumulator._add_by_theater
    monkeypatch.setattr(
        accumulator.Accumulator,
        "_add_by_theater",
        lambda self, *a: by_theater.append(not self._counted) or real(self, *a),
    )
    monkeypatch.setattr(wide, "DENSE_BYTES", 0)
    binned = sim.run(scenario, draws=2_000, seed=3, observed=observed, chunk=700)
    assert any(by_theater)  # (the tally's pass, which counts no series, among them)
    pd.testing.assert_frame_equal(binned.observed.table, level_by_level.observed.table)
    for key, d in level_by_level.observed.distributions.items():
        got = binned.observed.distributions[key]
        assert (got.low, got.bits) == (d.low, d.bits) and np.array_equal(got.parts, d.parts)
        assert (got.at is None and d.at is None) or np.array_equal(got.at, d.at)


@pytest.mark.slow
@pytest.mark.dense_steps
def test_reports_on_draws_in_tiny_timing_groups_are_tallied_from_draws_stepped_whole(
    write, tmp_path, monkeypatch
):
    # a handful of draws to each theater's own windows' months: stepped every month at
    # once, each draw weighed by the reports it fits, and counted as theater by theater
    scenario = sim.load_scenario(write(keyed_doc()))
    rows = [f"2024-{m:02d},t{i},700,1000" for i in (0, 3) for m in (8, 11)]
    observed = _keyed_reports(tmp_path, scenario, rows)
    tagged = []
    real = accumulator.Accumulator._add_dense
    monkeypatch.setattr(
        accumulator.Accumulator,
        "_add_dense",
        lambda self, inputs, tagger: (
            tagged.append(tagger is not None) or real(self, inputs, tagger)
        ),
    )
    options: dict[str, Any] = {"draws": 1_500, "seed": 5, "observed": observed, "chunk": 700}
    whole = sim.run(scenario, condition=True, **options)
    assert tagged and all(tagged)
    monkeypatch.setattr(accumulator, "DENSE_GROUP_DRAWS", 0)
    by_theater = sim.run(scenario, condition=True, **options)
    pd.testing.assert_frame_equal(whole.observed.table, by_theater.observed.table)
    for a, b in zip(frames(whole), frames(by_theater), strict=True):
        pd.testing.assert_frame_equal(a, b)
    a, b = whole.observed.conditioned, by_theater.observed.conditioned
    pd.testing.assert_frame_equal(a.bands, b.bands)
    assert a.used == b.used


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["run", "--condition", "--set", "theaters.iraq.initial=5000000"], "conditioning"),
        (["sweep", "--set", "theaters.iraq.initial=200000,300000"], "a sweep"),
    ],
)
def test_a_force_too_large_for_level_counts_is_placed_at_the_value_set_that_made_it(
    tmp_path, args, what
):
    # it was placed at the scenario file's theaters key, which the user had not changed
    from conftest import DEFAULT_SCENARIO

    observed = ["--observed", str(DEFAULT_SCENARIO.with_name("iraq-syria-2024-observed.csv"))]
    more = observed if args[0] == "run" else []
    result = CliRunner().invoke(
        main, [*args, *more, "--draws", "100", "--seed", "1", "--out", str(tmp_path / "o"), "-q"]
    )
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.startswith(
        f"forcesim: error: <command line>:1:1: theaters.iraq.initial: expected forces small "
        f"enough to count level by level, for {what}"
    ), line
    assert line.endswith(f"with theaters.iraq.initial={args[-1].split('=')[1].split(',')[0]} set")
    assert not (tmp_path / "o").exists()
