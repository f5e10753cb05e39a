"""Every shipped scenario validates and runs; the default one holds the reported facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR

import sim
from sim.cli import main
from sim.paths import default_scenario
from sim.schema import PROFILES, AfterMilestone

SHIPPED = sorted([*SCENARIOS_DIR.rglob("*.yaml"), *SCENARIOS_DIR.rglob("*.yml")])
IDS = [str(p.relative_to(SCENARIOS_DIR)) for p in SHIPPED]


def test_scenarios_are_shipped_and_the_default_is_among_them():
    assert DEFAULT_SCENARIO in SHIPPED
    assert default_scenario().resolve() == DEFAULT_SCENARIO.resolve()


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_validates(path):
    result = CliRunner().invoke(main, ["validate", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_runs_every_variant_for_every_theater_and_month(path):
    sc = sim.load_scenario(path)
    result = sim.run(sc)
    assert result.variants == sc.variant_names
    for name in sc.variant_names:
        plan = sc.plan(name)
        rows = result.monthly[result.monthly.variant == name]
        for tid in plan.theaters:
            levels = rows[rows.theater == tid]
            assert [str(m) for m in levels.month] == plan.months, (name, tid)
            assert (levels.troops >= 0).all(), (name, tid)
        ms = result.milestones[result.milestones.variant == name]
        assert list(ms.milestone) == [m.id for m in plan.milestones]


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_sites_sum_to_their_theaters(path):
    result = sim.run(sim.load_scenario(path))
    monthly = result.monthly
    sites = monthly[monthly.theater.str.contains("/", regex=False)]
    if sites.empty:
        return  # nothing to sum
    summed = (
        sites.assign(theater=sites.theater.str.split("/").str[0])
        .groupby(["variant", "theater", "month"], sort=False)
        .troops.sum()
    )
    totals = monthly.set_index(["variant", "theater", "month"]).troops.loc[summed.index]
    np.testing.assert_array_equal(totals.to_numpy(), summed.to_numpy())


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_runs_from_the_command_line(path, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["run", str(path), "--out", str(out), "--quiet"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert {"monthly.csv", "milestones.csv", "envelope.png", "run.json"} <= {
        p.name for p in out.iterdir()
    }


def test_the_default_scenario_starts_from_the_reported_levels():
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO))
    start = result.monthly[result.monthly.month.astype(str) == "2024-09"]
    for variant in result.variants:
        rows = start[start.variant == variant].set_index("theater")
        assert (rows.official["iraq"], rows.official["syria"]) == (2500, 900), variant
        # the whole force: Syria's official 900 and the central 600 it may leave out
        assert (rows.troops["iraq"], rows.troops["syria"]) == (2500, 1500), variant


def test_the_default_scenario_reads_several_hundred_leaving_iraq_by_2025_09():
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO))
    m = result.monthly
    iraq = m[(m.theater == "iraq") & (m.month.astype(str) == "2025-09")]
    left = 2500 - iraq.set_index("variant").troops
    assert ((left >= 300) & (left <= 900)).any()


def test_the_default_scenario_has_iraq_out_by_2026_12_on_the_agreed_schedule():
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO))
    m = result.monthly
    iraq = m[(m.theater == "iraq") & (m.month.astype(str) == "2026-12")]
    assert (iraq.troops == 0).any()
    assert len(result.variants) >= 6


def test_some_shipped_scenario_uses_sites_and_a_milestone_dated_from_another():
    def qualifies(path) -> bool:
        sc = sim.load_scenario(path)
        return any(
            any(t.sites for t in doc.theaters.values())
            and any(isinstance(ms.deadline, AfterMilestone) for ms in doc.milestones.values())
            for doc in [sc.doc] + [sc.resolved(v) for v in sc.variant_names]
        )

    assert any(qualifies(p) for p in SHIPPED)


# ---------------------------------------------------------------- the reference class

HISTORICAL = sorted((SCENARIOS_DIR / "historical").glob("*.yaml"))
HISTORICAL_IDS = [p.stem for p in HISTORICAL]


def test_the_reference_class_of_earlier_drawdowns_is_shipped():
    assert {"iraq-2008", "afghanistan-2011", "syria-2018", "afghanistan-2020"} <= set(
        HISTORICAL_IDS
    )
    assert all(p in SHIPPED for p in HISTORICAL)  # so the tests above run them too


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_shipped_scenario_supports_every_number_under_strict_validation(path):
    result = CliRunner().invoke(main, ["validate", "--strict", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.parametrize("path", HISTORICAL, ids=HISTORICAL_IDS)
def test_historical_scenario_backtest_scores_every_profile_and_variant(path, tmp_path):
    out = tmp_path / "bt"
    result = CliRunner().invoke(
        main, ["backtest", str(path), "--out", str(out), "--quiet"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert {"backtest.csv", "errors.csv", "paths.csv", "backtest.png", "run.json"} <= {
        p.name for p in out.iterdir()
    }
    sc = sim.load_scenario(path)
    table = pd.read_csv(out / "backtest.csv")
    assert sorted(zip(table.profile, table.variant, strict=True)) == sorted(
        (p, v) for p in PROFILES for v in sc.variant_names
    )
    assert (table.observations >= 5).all()
    assert table.mae.notna().all() and (table.mae >= 0).all()


@pytest.mark.parametrize("path", HISTORICAL, ids=HISTORICAL_IDS)
def test_every_observation_of_a_historical_scenario_cites_a_source_of_the_scenario(path):
    sc = sim.load_scenario(path)
    observations = sc.observations()
    assert observations is not None and len(observations) > 0
    cited = {s.id for s in sc.doc.sources}
    uncited = [(o.date, o.source) for o in observations if o.source not in cited]
    assert uncited == []
