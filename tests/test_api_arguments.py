"""Arguments a notebook user may plausibly get wrong, given to the public API: each is
refused with a ScenarioError (or the documented ValueError / TypeError) that names what
was wrong and quotes it, or taken as the docs say, never half-used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import sim


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.load_scenario(sim.default_scenario())


# ---------------------------------------------------------------- variant names


@pytest.mark.parametrize("bad", [[1], [None], [["on-time"]], 5])
def test_a_variant_name_that_is_not_text_is_a_scenario_error_quoting_it(
    scenario: sim.Scenario, bad: Any
) -> None:
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: variants: expected ") as err:
        sim.run(scenario, bad)
    assert repr(bad[0] if isinstance(bad, list) else bad) in str(err.value)


def test_variant_names_in_a_pandas_series_are_run_in_order(scenario: sim.Scenario) -> None:
    names = pd.Series(["slip-6", "on-time"])
    assert sim.run(scenario, names).variants == ["slip-6", "on-time"]


def test_with_settings_takes_one_variant_name_as_a_string(scenario: sim.Scenario) -> None:
    later = scenario.with_settings({"announcement.delay": 9}, variants="on-time")
    assert later.resolved("on-time").announcement.delay == 9
    assert later.resolved("slip-3").announcement.delay == 3


def test_sweep_and_sensitivity_take_one_variant_name_as_a_string(
    scenario: sim.Scenario,
) -> None:
    axes = [("announcement.delay", [0, 3])]
    grid = sim.sweep(scenario, axes, variants="as-reported", draws=20, seed=1)
    assert set(grid.table.variant) == {"as-reported"}
    sens = sim.sensitivity(scenario, "as-reported", draws=20, seed=1)
    assert set(sens.table.variant) == {"as-reported"}


def test_describe_of_an_unknown_variant_is_a_scenario_error_with_a_suggestion(
    scenario: sim.Scenario,
) -> None:
    with pytest.raises(sim.ScenarioError, match=r"did you mean 'slip-6'\?"):
        scenario.describe("slip-66")


def test_compare_of_a_variant_given_as_a_list_is_a_scenario_error(
    scenario: sim.Scenario,
) -> None:
    with pytest.raises(sim.ScenarioError, match=r"variants: expected .*found \['on-time'\]"):
        sim.compare(scenario, ["on-time"], "slip-6", draws=10, seed=1)


# ---------------------------------------------------------------- sim.save


@pytest.fixture(scope="module")
def result(scenario: sim.Scenario) -> sim.Result:
    return sim.run(scenario, "on-time")


@pytest.mark.slow
@pytest.mark.parametrize("ext", ["png", "pdf", "svg"])
def test_save_that_fails_while_drawing_leaves_the_users_file_as_it_was(
    result: sim.Result, tmp_path: Path, ext: str
) -> None:
    mine = tmp_path / f"mine.{ext}"
    mine.write_bytes(b"my own chart")
    axes = sim.plot(result)
    broken = axes[0].annotate("a note", (0, 0))

    def fail(renderer: Any) -> None:
        raise RuntimeError("this artist cannot be drawn")

    broken.draw = fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="cannot be drawn"):
        sim.save(axes, mine)
    assert mine.read_bytes() == b"my own chart"
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name]  # no temporary left


def test_save_never_replaces_a_read_only_file(result: sim.Result, tmp_path: Path) -> None:
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"my own chart")
    mine.chmod(0o444)
    with pytest.raises(PermissionError, match="read-only"):
        sim.save(sim.plot(result), mine)
    assert mine.read_bytes() == b"my own chart"


@pytest.mark.slow
def test_save_takes_one_axes_as_well_as_the_list(result: sim.Result, tmp_path: Path) -> None:
    axes = sim.plot(result)
    sim.save(axes[0], tmp_path / "one.png")
    assert (tmp_path / "one.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("axes", "path"), [(None, "c.png"), ([], "c.png"), ("axes", None)])
def test_save_of_no_axes_or_no_path_names_what_it_expected(
    result: sim.Result, tmp_path: Path, axes: Any, path: Any
) -> None:
    if axes == "axes":
        axes = sim.plot(result)
    with pytest.raises((ValueError, TypeError), match=r"^expected "):
        sim.save(axes, tmp_path / path if path else None)


# ---------------------------------------------------------------- chart arguments


@pytest.fixture(scope="module")
def two(scenario: sim.Scenario) -> sim.Result:
    return sim.run(scenario, ["on-time", "slip-6"])


def test_plot_envelope_takes_one_variant_name_as_a_string(two: sim.Result) -> None:
    axes = sim.plot_envelope(two, variants="slip-6", theaters="iraq")
    labels = [line.get_label() for line in axes[0].get_lines()]
    assert any("slip-6" in label for label in labels)
    assert not any("on-time" in label for label in labels)


@pytest.mark.parametrize("key", ["variants", "theaters"])
def test_plot_envelope_of_a_name_that_is_not_text_is_a_value_error(
    two: sim.Result, key: str
) -> None:
    with pytest.raises(ValueError, match=rf"^expected {key} among .*, found 1$"):
        sim.plot_envelope(two, **{key: [1]})


@pytest.fixture(scope="module")
def series() -> sim.VintageSeries:
    paths = sorted((Path(sim.default_scenario()).parent / "vintages").glob("*.yaml"))[:2]
    record = Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv")
    return sim.run_vintages([sim.load_scenario(p) for p in paths], record, draws=100, seed=1)


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["as-reportd", ["as-reported"]])
def test_plot_vintages_of_a_variant_no_vintage_ran_is_a_value_error(
    series: sim.VintageSeries, bad: Any
) -> None:
    with pytest.raises(ValueError, match=r"^expected a variant among as-reported, .*found "):
        sim.plot_vintages(series, variant=bad)


def test_plot_vintages_takes_one_theater_as_a_string_and_refuses_an_unknown_one(
    series: sim.VintageSeries,
) -> None:
    assert len(sim.plot_vintages(series, theaters="iraq")) == 1
    with pytest.raises(ValueError, match=r"^expected theaters among iraq, .*found irak$"):
        sim.plot_vintages(series, theaters=["irak"])


# ---------------------------------------------------------------- other arguments


def test_an_as_of_of_nat_is_a_scenario_error_not_a_format_error(scenario: sim.Scenario) -> None:
    record = Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv")
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: as_of: expected a date .*NaT"):
        sim.run(scenario, "on-time", draws=20, seed=1, observed=record, as_of=pd.NaT)


def test_write_run_takes_one_format_as_a_string(result: sim.Result, tmp_path: Path) -> None:
    written = sim.write_run(result, tmp_path / "run", formats="parquet", chart=False)
    assert sorted(p.name for p in written) == ["milestones.parquet", "monthly.parquet", "run.json"]


@pytest.mark.parametrize("axes", [[("announcement.delay", 3)], {"announcement.delay": 3}])
def test_a_sweep_axis_of_one_value_not_in_a_list_is_a_scenario_error(
    scenario: sim.Scenario, axes: Any
) -> None:
    with pytest.raises(sim.ScenarioError, match=r"\(sweep\): expected axes as \(key, list of"):
        sim.sweep(scenario, axes, variants="as-reported")


# ---------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("call", "function"),
    [
        (lambda v: sim.load_scenario(v), "load_scenario"),
        (lambda v: sim.run(v), "run"),
        (lambda v: sim.load_observations(v), "load_observations"),
        (lambda v: sim.load_run(v), "load_run"),
    ],
)
def test_a_path_argument_that_is_not_a_path_is_a_type_error_naming_the_function(
    call: Any, function: str
) -> None:
    with pytest.raises(TypeError, match=rf"^{function}\(\) takes .*the path of .*not NoneType$"):
        call(None)


def test_load_scenario_of_a_scenario_says_it_takes_a_path(scenario: sim.Scenario) -> None:
    with pytest.raises(TypeError, match=r"^load_scenario\(\) takes the path .*not Scenario$"):
        sim.load_scenario(scenario)  # type: ignore[arg-type]


def test_load_scenario_of_the_yaml_text_itself_is_a_scenario_error_quoting_its_start() -> None:
    text = Path(sim.default_scenario()).read_text()
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: path: .*several lines") as e:
        sim.load_scenario(text)
    assert len(str(e.value)) < 300  # the start of the text, not all of it


def test_a_path_too_long_to_look_up_is_a_scenario_error_not_an_os_error() -> None:
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: path: .*cannot look up"):
        sim.load_scenario("x" * 300 + ".yaml")


# ---------------------------------------------------------------- a Result changed in code


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.monthly.__setitem__("troops", r.monthly.troops + 1),
        lambda r: r.monthly.loc.__setitem__((r.monthly.index[0], "troops"), 99_999),
        lambda r: r.milestones.iloc.__setitem__((0, -1), not r.milestones.met.iloc[0]),
        lambda r: r.variants.append("slip-6"),
        lambda r: r.monthly.__delitem__("official"),
        lambda r: (  # a cell no hash takes: changed, not an error
            r.monthly.__setitem__("troops", r.monthly.troops.astype(object)),
            r.monthly.at.__setitem__((r.monthly.index[0], "troops"), [1]),
        ),
        lambda r: setattr(r.monthly, "columns", [*r.monthly.columns[:-1], "level"]),
    ],
)
def test_write_run_refuses_a_result_changed_in_place_and_writes_nothing(
    scenario: sim.Scenario, tmp_path: Path, change: Any
) -> None:
    result = sim.run(scenario, "on-time")
    change(result)
    assert result.changed()
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: result: .*changed since"):
        sim.write_run(result, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_result_as_made_reports_no_change_and_writes(
    scenario: sim.Scenario, tmp_path: Path
) -> None:
    result = sim.run(scenario, "on-time", draws=50, seed=1)
    mine = result.bands.copy()  # a copy of one's own may be changed freely
    mine["p50"] = 0
    assert result.changed() == []
    assert (tmp_path / "run" / "bands.csv") in sim.write_run(result, tmp_path / "run", chart=False)


def test_a_zero_made_negative_zero_in_place_is_a_change(scenario: sim.Scenario) -> None:
    # -0.0 equals 0.0 and pandas hashes them alike, but a table writes them apart
    result = sim.run(scenario, draws=50, seed=1)
    zero = result.bands.index[result.bands["mean"] == 0.0][0]
    result.bands.loc[zero, "mean"] = -0.0
    assert result.changed() == ["bands"]
    result.bands.loc[zero, "mean"] = 0.0
    assert result.changed() == []


def test_a_result_keeps_a_fingerprint_of_its_frames_not_a_copy(scenario: sim.Scenario) -> None:
    # a copy of every frame, kept to tell a change, doubled a large run's frames
    result = sim.run(scenario, draws=50, seed=1)
    result.bands.iloc[0, result.bands.columns.get_loc("mean")] += 1e-9  # the least change
    assert result.changed() == ["bands"]
    kept = [v for k, v in result._made.items() if k != "variants"]
    assert not any(isinstance(part, pd.DataFrame) for v in kept if v for part in v)
    frames = sum(
        f.memory_usage(index=True).sum() for f in result._frames().values() if f is not None
    )
    held = sum(v[3].nbytes for v in kept if v)
    assert held * 4 < frames


# ---------------------------------------------------------------- observations


@pytest.fixture
def kuwait(tmp_path: Path) -> Path:
    """A record with a report of a theater the default scenario lacks."""
    path = tmp_path / "kuwait.csv"
    path.write_text(
        "date,theater,troops_low,troops_high,kind,source,quote\n"
        '2025-03-01,iraq,2000,2000,reported,x,"q"\n'
        '2025-03-01,kuwait,13000,13000,reported,x,"q"\n'
    )
    return path


@pytest.mark.parametrize(
    "call",
    [
        lambda sc, obs: sim.run(sc, "on-time", observed=obs),
        lambda sc, obs: sim.run(sc, "on-time", draws=20, seed=1, observed=obs, condition=True),
        lambda sc, obs: sim.score_observations(sim.run(sc, "on-time"), obs),
        lambda sc, obs: sim.run_backtest(sc, obs),
    ],
)
def test_observations_read_without_the_scenario_are_checked_against_it_as_a_file_is(
    scenario: sim.Scenario, kuwait: Path, call: Any
) -> None:
    record = sim.load_observations(kuwait)  # no scenario to check it against: it loads
    with pytest.raises(
        sim.ScenarioError, match=r"kuwait.csv:.*theater: .*unknown theater 'kuwait'"
    ):
        call(scenario, record)


def test_score_observations_and_run_backtest_take_the_path_of_the_record(
    scenario: sim.Scenario,
) -> None:
    path = Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv")
    result = sim.run(scenario, "on-time")
    scored = sim.score_observations(result, path)
    assert scored.table.equals(sim.score_observations(result, sim.load_observations(path)).table)
    assert len(sim.run_backtest(scenario, str(path)).table)


def test_with_observations_of_an_observation_set_is_a_type_error(scenario: sim.Scenario) -> None:
    path = Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv")
    with pytest.raises(TypeError, match=r"takes the Assessment .*not ObservationSet$"):
        sim.with_observations(sim.run(scenario, "on-time"), sim.load_observations(path))


# ---------------------------------------------------------------- with_overrides


def test_with_overrides_of_a_dotted_key_says_how_to_nest_it(scenario: sim.Scenario) -> None:
    with pytest.raises(sim.ScenarioError) as err:
        scenario.with_overrides({"theaters.iraq.initial": -5})
    assert str(err.value) == (
        "<overrides>:1:1: theaters.iraq.initial: expected keys nested as in the file "
        "({'theaters': {'iraq': {'initial': …}}}), or with_settings for a dotted key path, "
        "found the dotted key 'theaters.iraq.initial'"
    )


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("flag", "value", "found"),
    [
        ("condition", "yes", "'yes'"),
        ("condition", "no", "'no'"),
        ("condition", 1, "1"),
        ("progress", "no", "'no'"),
        ("keep_counts", 0, "0"),
    ],
)
def test_a_flag_that_is_not_true_or_false_is_refused_not_taken_as_truthy(
    scenario: sim.Scenario, flag: str, value: Any, found: str
) -> None:
    # condition="no" conditioned the ensemble, progress="no" showed a bar
    record = Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv")
    observing = {"observed": record} if flag == "condition" else {}
    with pytest.raises(
        sim.ScenarioError,
        match=rf"^<arguments>:1:1: {flag}: expected True or False.*, found {found}$",
    ):
        sim.run(scenario, "on-time", draws=20, seed=1, **observing, **{flag: value})


def test_score_observations_refuses_a_condition_that_is_not_true_or_false(
    scenario: sim.Scenario,
) -> None:
    record = Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv")
    result = sim.run(scenario, "on-time", draws=20, seed=1)
    with pytest.raises(sim.ScenarioError, match=r"condition: expected True or False, found 'no'$"):
        sim.score_observations(result, record, condition="no")
    import numpy as np

    assert sim.score_observations(result, record, condition=np.bool_(False)).conditioned is None


def test_plot_compare_takes_one_theater_as_a_string(scenario: sim.Scenario) -> None:
    comparison = sim.compare(scenario, "on-time", "slip-6", 20, 1)
    assert len(sim.plot_compare(comparison, theaters="iraq")) == 2
    with pytest.raises(ValueError, match=r"^unknown theater 'irak'"):
        sim.plot_compare(comparison, theaters="irak")


@pytest.mark.slow
def test_plot_sweep_and_plot_tornado_take_one_variant_name_as_a_string(
    scenario: sim.Scenario,
) -> None:
    grid = sim.sweep(scenario, [("announcement.delay", [0, 3])], draws=20, seed=1)
    axes = sim.plot_sweep(grid, variants="as-reported")
    assert {line.get_label() for line in axes[0].get_lines()} >= {"as-reported"}
    sens = sim.sensitivity(scenario, ["as-reported", "slip-6"], draws=20, seed=1)
    assert sim.plot_tornado(sens, variants="as-reported")


HISTORICAL = Path(__file__).resolve().parent.parent / "scenarios" / "historical"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda s: sim.sweep(s, [("announcement.delay", [0, 3])], ["on-time"]), "sweep"),
        (lambda s: sim.sensitivity(s, ["as-reported"], draws=100, seed=1), "sensitivity"),
        (lambda s: sim.run_backtest(s), "run_backtest"),
        (lambda s: sim.compare(s, "on-time", "slip-6", draws=100, seed=1), "compare"),
    ],
)
def test_the_analyses_take_a_scenario_path_as_run_does_and_refuse_none_by_name(
    call: Any, name: str
) -> None:
    # sim.run took a path; sweep, sensitivity and run_backtest failed on one (and on
    # None) with "'str' object has no attribute 'select'"
    path = (
        HISTORICAL / "afghanistan-2020.yaml"
        if name == "run_backtest"
        else Path(sim.default_scenario())
    )
    from_path, from_scenario = call(str(path)), call(sim.load_scenario(path))
    assert from_path.table.equals(from_scenario.table)
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes a Scenario or the path of"):
        call(None)


@pytest.mark.parametrize(
    ("plot", "kind"),
    [
        (sim.plot_compare, "Comparison"),
        (sim.plot_backtest, "Backtest"),
        (sim.plot_sweep, "Sweep"),
        (sim.plot_tornado, "Sensitivity"),
        (sim.plot_vintages, "VintageSeries"),
    ],
)
def test_a_chart_of_the_wrong_kind_of_result_is_a_type_error_naming_what_it_draws(
    scenario: sim.Scenario, plot: Any, kind: str
) -> None:
    # a plain Result gave "AttributeError: 'Result' object has no attribute 'table'"
    result = sim.run(scenario, ["on-time"])
    with pytest.raises(
        TypeError, match=rf"^{plot.__name__}\(\) takes a {kind} \(from sim\.\w+\), not Result$"
    ):
        plot(result)


@pytest.mark.parametrize("plot", [sim.plot_envelope, sim.plot_fan])
def test_an_envelope_or_fan_of_a_comparison_is_a_type_error_naming_what_it_draws(
    scenario: sim.Scenario, plot: Any
) -> None:
    # "AttributeError: 'Comparison' object has no attribute 'monthly'"
    cmp = sim.compare(scenario, "on-time", "slip-6", draws=200, seed=1)
    with pytest.raises(
        TypeError, match=rf"^{plot.__name__}\(\) takes a Result \(from sim\.run\), not Comparison$"
    ):
        plot(cmp)


# ---------------------------------------------------------------- names in errors


def test_errors_of_a_page_or_a_chart_from_python_name_the_parameter_not_the_option(
    result: sim.Result, tmp_path: Path
) -> None:
    # sim.write_report(..., variants="nope") said "<command line>:1:1: --variant"
    from sim.export import redraw

    out = tmp_path / "run"
    sim.write_run(result, out, chart=False)
    calls: list[tuple[str, Any]] = [
        ("variants", lambda: sim.write_report(out, variants="nope")),
        ("theaters", lambda: sim.write_report(out, theaters=["mars"])),
        ("output", lambda: sim.write_report(out, tmp_path / "page.txt")),
        ("chart", lambda: redraw(out, chart="pie")),
        ("theaters", lambda: redraw(out, theaters=["mars"])),
        ("output", lambda: redraw(out, tmp_path / "chart.gif")),
    ]
    for parameter, call in calls:
        with pytest.raises(sim.ScenarioError) as err:
            call()
        assert err.value.one_line().startswith(f"<arguments>:1:1: {parameter}: expected ")
    with pytest.raises(sim.ScenarioError) as err:
        sim.write_run(result, Path(__file__))  # a file where the directory goes
    assert err.value.one_line().startswith(f"{__file__}:1:1: out_dir: expected ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_the_same_errors_on_the_command_line_name_the_option_as_typed(
    result: sim.Result, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from sim.cli import main

    out = tmp_path / "run"
    sim.write_run(result, out, chart=False)
    cases = [
        (["report", str(out), "-v", "nope"], "<command line>:1:1: -v: expected one of the"),
        (["report", str(out), "--variant", "nope"], "<command line>:1:1: --variant: "),
        (["plot", str(out), "--chart", "fan"], "<command line>:1:1: --chart: expected one of"),
        (["plot", str(out), "-o", "x.gif"], "<command line>:1:1: -o: expected a file ending"),
        (["run", "-o", __file__], f"{__file__}:1:1: -o: expected a new or empty directory"),
        (["run", "--out", __file__], f"{__file__}:1:1: --out: expected a new or empty"),
    ]
    for argv, start in cases:
        res = CliRunner().invoke(main, argv)
        assert res.exit_code == 2, res.output
        assert res.output.startswith(f"forcesim: error: {start}"), res.output


# ---------------------------------------------------------------- arguments of the wrong kind


@pytest.mark.parametrize("executor", ["threads", 2, object()])
def test_an_executor_that_is_not_one_open_executor_returns_is_a_type_error(
    scenario: sim.Scenario, executor: Any
) -> None:
    # "AttributeError: 'str' object has no attribute 'parts'", from inside the chunk loop
    with pytest.raises(TypeError, match=r"^executor takes what sim\.open_executor\(\) returns"):
        sim.run(scenario, ["on-time"], draws=200, seed=1, executor=executor)
    with pytest.raises(TypeError, match=r"not " + type(executor).__name__):
        sim.compare(scenario, "on-time", "slip-6", draws=200, seed=1, executor=executor)
    # (refused before the draws are checked or the variants planned, as run refuses it)
    with pytest.raises(TypeError, match=r"not " + type(executor).__name__):
        sim.compare(scenario, "on-time", "slip-6", draws=0, seed=1, executor=executor)


@pytest.mark.slow
def test_a_chart_takes_the_path_of_an_observations_file_as_run_does(
    scenario: sim.Scenario,
) -> None:
    # a path gave "AttributeError: 'str' object has no attribute 'items'"
    import matplotlib.pyplot as plt

    path = sim.paths.scenarios_dir() / "iraq-syria-2024-observed.csv"
    ensemble = sim.run(scenario, ["on-time"], draws=200, seed=1)
    for plot in (sim.plot_fan, sim.plot_envelope):
        from_path = plot(ensemble, observed=str(path))
        from_set = plot(ensemble, observed=sim.load_observations(path, scenario))
        texts = [[t.get_text() for t in a.texts] for a in (from_path[0], from_set[0])]
        assert texts[0] == texts[1] and len(from_path[0].collections) == len(
            from_set[0].collections
        )
        with pytest.raises(TypeError, match=rf"^{plot.__name__}\(\) takes observed= as an "):
            plot(ensemble, observed=3)
        with pytest.raises(sim.ScenarioError, match="no-such.csv"):
            plot(ensemble, observed=path.parent / "no-such.csv")
    plt.close("all")


@pytest.mark.parametrize("given", [None, "out/run"])
def test_write_vintages_of_anything_but_a_vintage_series_is_a_type_error(
    result: sim.Result, tmp_path: Path, given: Any
) -> None:
    for value in (result, given):
        with pytest.raises(TypeError, match=r"^write_vintages\(\) takes a VintageSeries"):
            sim.write_vintages(value, tmp_path / "v")
    assert list(tmp_path.iterdir()) == []


def test_write_report_of_a_result_says_to_write_the_run_first(result: sim.Result) -> None:
    # "expected str, bytes or os.PathLike object, not Result"
    with pytest.raises(TypeError, match=r"^write_report\(\) takes the path of a run directory "):
        sim.write_report(result)


@pytest.mark.parametrize(
    ("writer", "kind"),
    [
        ("write_compare", "Comparison"),
        ("write_backtest", "Backtest"),
        ("write_sweep", "Sweep"),
        ("write_sensitivity", "Sensitivity"),
    ],
)
def test_a_writer_given_the_wrong_kind_of_result_is_a_type_error_naming_what_it_writes(
    result: sim.Result, tmp_path: Path, writer: str, kind: str
) -> None:
    # each ended in "AttributeError: 'Result' object has no attribute ..."
    with pytest.raises(TypeError, match=rf"^{writer}\(\) takes a {kind} \(from sim\.\w+\), not"):
        getattr(sim, writer)(result, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_a_writer_given_an_output_directory_that_is_not_a_path_names_itself(
    result: sim.Result, scenario: sim.Scenario
) -> None:
    # write_run(result, 5) failed inside pathlib: "expected str, bytes or os.PathLike"
    with pytest.raises(TypeError, match=r"^write_run\(\) takes the path of an output directory"):
        sim.write_run(result, 5)
    cmp = sim.compare(scenario, "on-time", "slip-6", draws=50, seed=1)
    with pytest.raises(TypeError, match=r"^write_compare\(\) takes the path of an output"):
        sim.write_compare(cmp, None)


@pytest.mark.parametrize("function", ["sweep", "sensitivity"])
def test_sweep_and_sensitivity_refuse_an_executor_not_from_open_executor(
    scenario: sim.Scenario, function: str
) -> None:
    call = {
        "sweep": lambda ex: sim.sweep(
            scenario, {"announcement.delay": [0, 3]}, draws=50, seed=1, executor=ex
        ),
        "sensitivity": lambda ex: sim.sensitivity(scenario, draws=50, seed=1, executor=ex),
    }[function]
    for bad in ("two", 2):
        with pytest.raises(TypeError, match=r"^executor takes what sim\.open_executor\(\)"):
            call(bad)


def test_overrides_that_hold_themselves_or_a_set_are_refused_at_their_key(
    scenario: sim.Scenario,
) -> None:
    # a dict holding itself ended in RecursionError; a set was read as a list, in an
    # order of Python's choosing
    looped: dict[str, Any] = {}
    looped["a"] = looped
    with pytest.raises(sim.ScenarioError, match=r"theaters\.a: expected plain data .* itself"):
        scenario.with_overrides({"theaters": looped})
    with pytest.raises(sim.ScenarioError, match=r"delay\.uniform: expected a list \(a set has no"):
        scenario.with_overrides({"announcement": {"delay": {"uniform": {0, 3}, "assumption": "a"}}})


def test_a_set_in_with_settings_or_sweep_is_refused_naming_its_key(scenario: sim.Scenario) -> None:
    # "(overrides): expected a list ...": the key the set was given for was left out
    with pytest.raises(sim.ScenarioError) as err:
        scenario.with_settings({"announcement.delay": {1, 2}})
    assert (err.value.file, err.value.path) == ("<overrides>", "announcement.delay")
    with pytest.raises(sim.ScenarioError) as err:
        sim.sweep(scenario, {"announcement.delay": [{1, 2}]}, draws=10, seed=1)
    assert err.value.path == "announcement.delay.0" and err.value.found == "a set"


def test_a_decimal_or_fraction_in_overrides_is_the_number_it_is_exactly(
    scenario: sim.Scenario,
) -> None:
    # "expected a number, or a mapping ..., found 601": a Decimal 601 is a number
    from decimal import Decimal
    from fractions import Fraction

    for seven in (Decimal("7"), Fraction(14, 2), Decimal("7.0")):
        later = scenario.with_overrides({"announcement": {"delay": seven}}, variant="on-time")
        assert later.resolved("on-time").announcement.delay == 7
    with pytest.raises(sim.ScenarioError, match=r"float holds exactly .*, found Fraction 1/3"):
        scenario.with_overrides({"announcement": {"delay": Fraction(1, 3)}}, variant="on-time")


def test_check_writable_given_a_number_says_it_takes_a_path() -> None:
    # pathlib's "expected str, bytes or os.PathLike object, not int" named no argument
    with pytest.raises(TypeError, match=r"^check_writable\(\) takes the path of an output"):
        sim.check_writable(5)


def test_with_overrides_given_a_list_of_variants_says_it_changes_one() -> None:
    # "TypeError: unhashable type: 'list'", from deep inside
    scenario = sim.load_scenario(sim.default_scenario())
    with pytest.raises(TypeError, match=r"^with_overrides changes one variant"):
        scenario.with_overrides({"announcement": {"delay": 9}}, variant=["slip-3"])


@pytest.mark.parametrize("written", [5, {"x": "3"}])
def test_with_settings_given_written_of_another_shape_says_what_it_takes(written) -> None:
    # "object of type 'int' has no len()", "KeyError: 0"
    scenario = sim.load_scenario(sim.default_scenario())
    with pytest.raises(TypeError, match=r"^with_settings takes written as one mapping per"):
        scenario.with_settings({"announcement.delay": 3}, written=written)


@pytest.mark.parametrize("option", ["labels", "written"])
def test_a_sweep_given_labels_or_written_of_another_shape_says_what_it_takes(option) -> None:
    # "'int' object is not iterable", from inside
    scenario = sim.load_scenario(sim.default_scenario())
    with pytest.raises(TypeError, match=rf"^sweep takes {option} as one list per key"):
        sim.sweep(scenario, [("announcement.delay", [0, 3])], **{option: 5})


def test_variants_given_as_a_numpy_array_come_back_as_plain_text() -> None:
    import numpy as np

    scenario = sim.load_scenario(sim.default_scenario())
    result = sim.run(scenario, np.array(["on-time", "slip-3"]))
    assert result.variants == ["on-time", "slip-3"]
    assert all(type(v) is str for v in result.variants)


@pytest.mark.parametrize("call", ["sweep", "sensitivity"])
def test_a_number_given_where_the_variants_go_is_named_as_the_variants(call) -> None:
    # sweep(s, axes, 100, 1) said "seed: expected a whole-number seed with draws, found
    # None", never that 100 stood in the variants' place
    scenario = sim.load_scenario(sim.default_scenario())
    args = ([("announcement.delay", [0, 3])],) if call == "sweep" else ()
    with pytest.raises(sim.ScenarioError, match=r"variants: expected variant names.*found 100"):
        getattr(sim, call)(scenario, *args, 100, 1)


def test_an_error_rate_without_conditioning_is_refused_as_the_command_refuses_it(
    scenario: sim.Scenario,
) -> None:
    # sim.run(..., observed=obs, error=0.1) returned normally, the rate ignored
    obs = sim.load_observations(
        Path(sim.default_scenario()).with_name("iraq-syria-2024-observed.csv"), scenario
    )
    expected = (
        r"^<arguments>:1:1: error: expected condition=True with error= .*, found error=0.1 "
        r"without condition=True$"
    )
    with pytest.raises(sim.ScenarioError, match=expected):
        sim.run(scenario, draws=50, seed=1, observed=obs, error=0.1)
    with pytest.raises(sim.ScenarioError, match=expected):
        sim.score_observations(sim.run(scenario, variants="on-time"), obs, error=0.1)


def test_a_chart_option_mistyped_is_named_with_the_function_and_the_nearest_option(
    scenario: sim.Scenario,
) -> None:
    # sim.plot(result, theater="iraq") raised inspect's "got an unexpected keyword
    # argument 'theater'", naming no function and no option it does take
    result = sim.run(scenario, draws=50, seed=1)
    with pytest.raises(TypeError) as caught:
        sim.plot(result, theater="iraq")
    assert str(caught.value) == (
        "plot_fan() takes the options ax, theaters, variants, observed, weighted, column, not "
        "'theater' (did you mean 'theaters'?)"
    )
    with pytest.raises(TypeError, match=r"^plot_envelope\(\) takes the options ax, theaters"):
        sim.plot_envelope(sim.run(scenario), colour="red")
    with pytest.raises(TypeError, match=r"^plot_sweep\(\) takes the options [a-z]") as caught:
        sim.plot_sweep(sim.sweep(scenario, {"announcement.delay": [0, 3]}), colour="red")
    assert " sw," not in str(caught.value) and "(sw" not in str(caught.value)


def test_with_settings_on_some_variants_takes_the_others_as_resolved_and_checks_the_set_ones(
    scenario: sim.Scenario,
) -> None:
    # a sweep of one variant checked every other variant again at each point: 16 ms a
    # point, and 41 s before a 10,000-point grid was refused at its 4,500th point
    chosen = scenario.with_settings({"announcement.delay": 2}, variants=["on-time"])
    assert chosen.variants["slip-6"] is scenario.variants["slip-6"]
    assert chosen.variants["on-time"] is not scenario.variants["on-time"]
    assert chosen.plan("on-time") != scenario.plan("on-time")
    everywhere = scenario.with_settings({"announcement.delay": 2})
    assert all(everywhere.variants[n] is not scenario.variants[n] for n in scenario.variants)
    base = scenario.with_overrides({"title": "Another title"})
    assert all(base.variants[n] is not scenario.variants[n] for n in scenario.variants)
    with pytest.raises(sim.ScenarioError, match="at most|within|reached"):
        scenario.with_settings({"announcement.delay": 45}, variants=["on-time"])


@pytest.mark.parametrize(
    "call",
    [
        lambda sc: sim.run(sc, variants={"on-time", "slip-6"}),
        lambda sc: sim.sensitivity(sc, variants=frozenset({"on-time"}), draws=64, seed=1),
        lambda sc: sim.sweep(sc, {"announcement.delay": {0, 3}}),
    ],
    ids=["run", "sensitivity", "sweep"],
)
def test_a_set_of_variants_or_of_swept_values_is_refused_for_having_no_order(
    scenario: sim.Scenario, call: Any
) -> None:
    # the variants' order, and so every file's bytes, followed PYTHONHASHSEED: the same
    # seed gave other bytes in another process
    with pytest.raises(sim.ScenarioError, match=r"a set has no order.*found a set$"):
        call(scenario)


def test_variants_or_theaters_given_as_bytes_are_refused_as_written(scenario: sim.Scenario) -> None:
    # b"base" was read as the names 98, 97, 115, 101
    with pytest.raises(sim.ScenarioError, match=r"found b'on-time'$"):
        sim.run(scenario, variants=b"on-time")
    result = sim.run(scenario, ["on-time"])
    with pytest.raises(ValueError, match=r"found b'iraq'$"):
        sim.plot_envelope(result, theaters=b"iraq")
    with pytest.raises(ValueError, match=r"a set has no order"):
        sim.plot_envelope(result, theaters={"iraq", "syria"})


def test_a_long_double_is_taken_where_a_float_holds_it_and_refused_as_written_where_not(
    scenario: sim.Scenario,
) -> None:
    # np.longdouble was refused as "expected a number, found 2400.0", and would have
    # been quoted rounded where it held more than a float
    import numpy as np

    held = scenario.with_overrides({"theaters": {"iraq": {"initial": np.longdouble(2400)}}})
    assert held.plan("on-time") != scenario.plan("on-time")
    finer = np.longdouble(2400) + np.longdouble(1) / 3
    if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:  # (x86: 80-bit)
        with pytest.raises(sim.ScenarioError, match=r"found longdouble 2400\.33333333333333333?$"):
            scenario.with_overrides({"theaters": {"iraq": {"initial": finer}}})


def test_a_dicts_keys_keep_their_order_and_are_taken_as_names(scenario: sim.Scenario) -> None:
    # a dict's keys view is a Set by its abstract type, but ordered: refused as "a set"
    names = dict.fromkeys(["slip-6", "on-time"]).keys()
    assert sim.run(scenario, names).variants == ["slip-6", "on-time"]
    result = sim.run(scenario, ["on-time"])
    axes = sim.plot_envelope(result, theaters={"syria": 1, "iraq": 2}.keys())
    assert [ax.get_title(loc="left") for ax in axes] == ["Syria", "Iraq"]
    swept = sim.sweep(scenario, {"announcement.delay": {3: "a", 0: "b"}.keys()}, ["on-time"])
    assert list(dict.fromkeys(swept.table["announcement.delay"])) == [3, 0]
