"""The backtest: error figures on known series, every profile and variant, the command."""

from __future__ import annotations

import csv
import json
import math
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import MINIMAL_YAML, SCENARIOS_DIR

import sim
from sim.analysis.backtest import BACKTEST_COLUMNS, errors_of, metrics, with_profile
from sim.analysis.backtest import run_backtest as backtest
from sim.cli import main
from sim.io.observation_csv import read_observations
from sim.io.observations import Observation, ObservationSet
from sim.schema import PROFILES

HEADER = "date,theater,troops_low,troops_high,source,quote\n"
AFGHANISTAN = SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"


def obs(month: str, low: float | None, high: float | None, theater: str = "alpha") -> Observation:
    y, m = month.split("-")
    return Observation(month, int(y) * 12 + int(m) - 1, theater, low, high)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


# ---------------------------------------------------------------- the figures


def test_errors_are_distances_outside_the_observed_range_on_a_known_series():
    observed = ObservationSet(
        (
            obs("2024-01", 100, 100),  # point, level 110: 10 troops, 10 %
            obs("2024-02", 90, 120),  # range, level 130: 10 troops, 10 / 105
            obs("2024-03", None, 50),  # fewer than 50, level 40: 0
            obs("2024-03", 200, None),  # more than 200, level 40: 160 troops, 80 %
            obs("2024-04", 0, 0),  # point 0, level 5: 5 troops, no percentage
            obs("2024-09", 1, 1),  # no projected level that month: not compared
        ),
        "test",
    )
    levels = {
        ("alpha", "2024-01"): 110,
        ("alpha", "2024-02"): 130,
        ("alpha", "2024-03"): 40,
        ("alpha", "2024-04"): 5,
    }
    rows = errors_of(levels, observed)
    assert [r["error"] for r in rows] == [10, 10, 0, 160, 5]
    pct = [r["percent_error"] for r in rows]
    assert pct[:4] == pytest.approx([10, 100 * 10 / 105, 0, 80])
    assert math.isnan(pct[4])
    m = metrics(rows)
    assert m["mae"] == pytest.approx((10 + 10 + 0 + 160 + 5) / 5)
    assert m["mape"] == pytest.approx((10 + 100 * 10 / 105 + 0 + 80) / 4)
    assert m["max_error"] == 160
    assert (m["months_compared"], m["observations"]) == (4, 5)


def test_no_comparison_gives_empty_figures():
    m = metrics([])
    assert math.isnan(m["mae"]) and m["months_compared"] == 0


# alpha: 1,000 at 2024-01 to 0 by 2024-11 (window of 10 months). At 2024-03 (x = 0.2)
# and 2024-06 (x = 0.5) the profiles give:
#   linear 800 / 500, step 1000 / 1000, front 640 / 250, back 960 / 750,
#   s-curve 896 / 500.
KNOWN = {
    "linear": (800, 500),
    "step": (1000, 1000),
    "front": (640, 250),
    "back": (960, 750),
    "s-curve": (896, 500),
}


def test_each_profile_is_scored_against_a_small_known_series(write, tmp_path):
    sc = sim.load_scenario(write(MINIMAL_YAML))
    path = tmp_path / "obs.csv"
    path.write_text(
        HEADER + "2024-03,alpha,800,800,,\n2024-06,alpha,500,500,,\n"
        "2024-11,alpha,0,0,,\n2025-06,alpha,0,0,out of range,\n"
    )
    bt = backtest(sc, read_observations(path, ["alpha"]))
    assert list(bt.table.columns) == BACKTEST_COLUMNS
    assert list(bt.table.profile) == list(PROFILES)
    for _, row in bt.table.iterrows():
        at3, at6 = KNOWN[row.profile]
        errors = [abs(at3 - 800), abs(at6 - 500), 0]
        assert row.mae == pytest.approx(sum(errors) / 3, abs=1e-3), row.profile
        assert row.max_error == max(errors)
        assert row.mape == pytest.approx((errors[0] / 800 + errors[1] / 500) / 2 * 100, abs=1e-3)
        assert (row.months_compared, row.observations) == (3, 3)
    best = bt.best()
    assert (best.profile, best.mae) == ("linear", 0)
    levels = bt.paths[(bt.paths.profile == "front") & (bt.paths.month.astype(str) == "2024-03")]
    assert list(levels.troops) == [640]


def test_ties_go_to_the_lower_max_error_then_the_profile_order(write, tmp_path):
    sc = sim.load_scenario(write(MINIMAL_YAML))
    path = tmp_path / "obs.csv"
    path.write_text(HEADER + "2024-06,alpha,500,500,,\n")  # linear and s-curve both exact
    assert backtest(sc, read_observations(path)).best().profile == "linear"


def test_profiles_that_fit_exactly_as_well_as_the_best_are_named_as_tied(write, tmp_path):
    from sim.cli.text import backtest_lines

    sc = sim.load_scenario(write(MINIMAL_YAML))
    path = tmp_path / "obs.csv"
    path.write_text(HEADER + "2024-06,alpha,500,500,,\n")  # linear and s-curve both exact
    bt = backtest(sc, read_observations(path))
    assert bt.tied() == ["linear", "s-curve"]
    lines = backtest_lines(bt)
    assert any(line.rstrip().endswith("<- as good (tied)") and "s-curve" in line for line in lines)
    best = next(line for line in lines if line.startswith("best fit:"))
    assert best.endswith(
        "(tied with s-curve: the same MAE and max error; the first in profile order is named)"
    )
    path.write_text(HEADER + "2024-03,alpha,800,800,,\n")  # linear alone
    assert backtest(sc, read_observations(path)).tied() == ["linear"]


def test_with_profile_changes_every_milestone_and_nothing_else(write):
    doc = sim.load_scenario(
        write(
            MINIMAL_YAML
            + """\
  alpha-back:
    theater: alpha
    deadline: 2024-12
    profile: step
    target: {level: 10}
"""
        )
    ).doc
    changed = with_profile(doc, "back")
    assert {m.profile for m in changed.milestones.values()} == {"back"}
    assert changed.model_dump(exclude={"milestones"}) == doc.model_dump(exclude={"milestones"})
    with pytest.raises(sim.ScenarioError, match="one of linear"):
        with_profile(doc, "zigzag")


def test_a_backtest_needs_observations_in_range(write, tmp_path):
    sc = sim.load_scenario(write(MINIMAL_YAML))
    with pytest.raises(sim.ScenarioError, match="observations: expected observations"):
        backtest(sc)
    path = tmp_path / "obs.csv"
    path.write_text(HEADER + "2030-01,alpha,0,0,,\n")
    with pytest.raises(sim.ScenarioError, match="none in range"):
        backtest(sc, read_observations(path))


# ---------------------------------------------------------------- the shipped scenario


def test_the_afghanistan_scenario_backtests_every_profile_and_variant():
    sc = sim.load_scenario(AFGHANISTAN)
    bt = backtest(sc)
    assert len(bt.table) == len(PROFILES) * len(sc.variant_names)
    assert bt.table.mae.notna().all()
    assert (bt.table.months_compared == bt.table.months_compared.max()).all()
    # the reported levels rise again at the end: the evacuation surge
    surge = [o for o in bt.observations if o.month_text == "2021-08"]
    assert surge and surge[0].low > 5000


# ---------------------------------------------------------------- the command line


@pytest.mark.slow
def test_backtest_command_writes_its_files_and_names_the_best_fit(write, tmp_path):
    scenario = write(
        MINIMAL_YAML + "observations:\n"
        "  - {date: 2024-03, theater: alpha, troops_low: 800, troops_high: 800}\n"
        "  - {date: 2024-06, theater: alpha, troops_low: 500, troops_high: 500}\n"
    )
    out = tmp_path / "bt"
    result = CliRunner().invoke(
        main, ["backtest", str(scenario), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "backtest.csv",
        "backtest.png",
        "errors.csv",
        "paths.csv",
        "run.json",
    ]
    header, rows = read_csv(out / "backtest.csv")
    assert header == BACKTEST_COLUMNS
    assert [r["profile"] for r in rows] == list(PROFILES)
    assert "best fit: profile 'linear' with variant 'base'" in result.output
    width, height = struct.unpack(">II", (out / "backtest.png").read_bytes()[16:24])
    assert width >= 1600 and height >= 1000
    record = json.loads((out / "run.json").read_text())
    assert record["best"]["profile"] == "linear"


@pytest.mark.parametrize(
    "extra,args,message",
    [
        ("", [], "observations: expected observations"),
        ("", ["--observed", "{missing}"], "no such file"),
        ("", ["--observed", "{bad}"], "theater: expected one of alpha"),
        ("", ["--observed", "{outside}"], "none in range"),
        ("", ["--variant", "nope"], "unknown variant"),
    ],
)
def test_backtest_bad_input_exits_2_with_one_line_and_nothing_written(
    write, tmp_path, extra, args, message
):
    scenario = write(MINIMAL_YAML + extra)
    (tmp_path / "bad.csv").write_text(HEADER + "2024-03,beta,1,1,,\n")
    (tmp_path / "outside.csv").write_text(HEADER + "2030-03,alpha,1,1,,\n")
    files = {
        "missing": str(tmp_path / "missing.csv"),
        "bad": str(tmp_path / "bad.csv"),
        "outside": str(tmp_path / "outside.csv"),
    }
    out = tmp_path / "bt"
    result = CliRunner().invoke(
        main, ["backtest", str(scenario), "--out", str(out), *[a.format(**files) for a in args]]
    )
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("forcesim: error: "), result.output
    assert message in lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_the_charts_foot_says_how_many_of_the_files_reports_were_compared():
    # Syria 2018's file has 7 rows, two of them from 2017, before the scenario starts:
    # the foot said "7 reported levels" under a fit over 5
    import matplotlib.pyplot as plt

    bt = backtest(sim.load_scenario(SCENARIOS_DIR / "historical" / "syria-2018.yaml"))
    axes = sim.plot(bt)
    (foot,) = [t for t in axes[0].figure.texts if "Observations:" in t.get_text()]
    assert "Observations: 7 reports from syria-2018-observed.csv" in foot.get_text()
    assert "5 of them compared" in foot.get_text()
    fig = axes[0].figure
    fig.canvas.draw()
    assert foot.get_window_extent(fig.canvas.get_renderer()).x1 <= fig.bbox.width
    assert int(bt.best().observations) == 5
    axes = sim.plot(backtest(sim.load_scenario(AFGHANISTAN)))
    (foot,) = [t for t in axes[0].figure.texts if "Observations:" in t.get_text()]
    assert "Observations: 11 reported levels from" in foot.get_text()
    # the reports credited by their outlets, as the run charts credit their sources
    assert (
        "(from 9 outlets, most often Reuters (2) and U.S. Department of Defense (2); sources "
        "in the file)" in (" ".join(foot.get_text().split()))
    )
    plt.close("all")


def test_the_footnote_counts_thousands_of_reports_with_separators() -> None:
    # "Observations: 10000 reported levels from crowded-24.csv", where every other count
    # of the charts reads 10,000
    from types import SimpleNamespace

    from sim.plotting.backtest import _compared

    bt = SimpleNamespace(
        observations=[SimpleNamespace(source=None)] * 10_000,
        scenario=SimpleNamespace(doc=SimpleNamespace(sources=[])),
    )
    assert _compared(bt, SimpleNamespace(observations=10_000), "r.csv").startswith(  # type: ignore[arg-type]
        "10,000 reported levels from r.csv"
    )
    assert _compared(bt, SimpleNamespace(observations=6_000), "r.csv").startswith(  # type: ignore[arg-type]
        "10,000 reports from r.csv (sources in the file), 6,000 of them compared"
    )


def test_only_the_first_panel_of_each_row_names_the_troops_axis() -> None:
    # a theater's profile panels share one scale; "troops" on every panel stood in the
    # narrow gap between one panel's data and the next one's "100,000" ticks
    import matplotlib.pyplot as plt

    axes = sim.plot(backtest(sim.load_scenario(AFGHANISTAN)))
    profiles, summary = axes[:-1], axes[-1]
    first = [ax for ax in profiles if ax.get_subplotspec().colspan.start == 0]
    assert first and all(ax.get_ylabel() == "troops" for ax in first)
    assert all(ax.get_ylabel() == "" for ax in profiles if ax not in first)
    assert summary.get_ylabel() == "MAE, troops (lower is better)"
    # the initials are spelled out where the chart first uses them
    assert summary.get_title(loc="left").startswith("Mean absolute error (MAE)")
    plt.close("all")


def test_a_record_of_targets_only_is_refused_as_targets_not_as_out_of_range(write, tmp_path):
    # it said "none in range (e.g. 2024-03 alpha)" of a report well within the months
    scenario = write(MINIMAL_YAML)
    path = tmp_path / "targets.csv"
    path.write_text(
        "date,theater,troops_low,troops_high,kind,by\n2024-03,alpha,,0,target,2024-11\n"
    )
    res = CliRunner().invoke(
        main, ["backtest", str(scenario), "-q", "--observed", str(path), "-o", str(tmp_path / "bt")]
    )
    assert res.exit_code == 2, res.output
    assert (
        "kind: expected reports of a level (reported or official): targets are never compared"
        in res.output
    )
    assert "none in range" not in res.output and not (tmp_path / "bt").exists()


def _backtest_of(tmp_path: Path, rows: str) -> str:
    """What ``forcesim backtest`` of the Afghanistan scenario prints against ``rows``
    (an observations file's header and rows); it exits 0."""
    record = tmp_path / "record.csv"
    record.write_text(rows, encoding="utf-8")
    res = CliRunner().invoke(
        main,
        ["backtest", str(AFGHANISTAN), "--observed", str(record), "--out", str(tmp_path / "b")],
    )
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.slow
def test_a_backtest_over_one_month_says_one_month(tmp_path):
    # "max error 0 troops over 1 months"
    out = _backtest_of(
        tmp_path,
        "date,theater,troops_low,troops_high,source,quote\n"
        "2020-06-18,afghanistan,8600,8600,xinhua-2020-06-19,\n",
    )
    assert " troops over 1 month" in out and "over 1 months" not in out


@pytest.mark.slow
def test_a_backtest_counts_targets_apart_from_the_observations_it_compares(tmp_path):
    # "against 3 observations (2 within the scenario's months)": one was a target,
    # which a backtest draws and never compares
    out = _backtest_of(
        tmp_path,
        "date,theater,troops_low,troops_high,kind,source,quote\n"
        "2020-06-18,afghanistan,8600,8600,reported,xinhua-2020-06-19,\n"
        "2020-08-18,afghanistan,8000,9000,reported,xinhua-2020-06-19,\n"
        "2020-06-18,afghanistan,,4500,target,xinhua-2020-06-19,\n",
    )
    assert "against 2 observations (2 within the scenario's months); 1 target drawn, not" in out
