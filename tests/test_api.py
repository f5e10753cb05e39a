"""The Python API as a notebook user meets it: ``sim.__all__``, changing inputs
in code, how results display, DataFrames, and composable plot functions."""

from __future__ import annotations

import inspect
import re
import warnings
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import DEFAULT_SCENARIO

import sim
from sim.analysis.compare import compare

ENSEMBLE = dict(draws=400, seed=7)


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.load_scenario(sim.default_scenario())


@pytest.fixture(scope="module")
def result(scenario: sim.Scenario) -> sim.Result:
    return sim.run(scenario)


@pytest.fixture(scope="module")
def ensemble(scenario: sim.Scenario) -> sim.Result:
    return sim.run(scenario, variants=["on-time", "slip-6"], progress=False, **ENSEMBLE)


def overrides_error(path: str, found: str = "") -> str:
    """A regex for the one-line error of a value set in code."""
    return "^" + re.escape(f"<overrides>:1:1: {path}: expected ") + ".*found .*" + found


# ---------------------------------------------------------------- the public names


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in sim.__all__:
        assert getattr(sim, name) is not None
    assert dir(sim) == sorted(sim.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sim.nope  # noqa: B018


@pytest.mark.parametrize("name", [n for n in sim.__all__ if n != "__version__"])
def test_every_public_name_has_a_numpydoc_docstring(name: str) -> None:
    obj = getattr(sim, name)
    doc = inspect.getdoc(obj) or ""
    summary, _, body = doc.partition("\n\n")
    assert summary and not summary.startswith(" "), f"{name}: no one-line summary"
    if inspect.isclass(obj):
        assert re.search(r"^(Attributes|Parameters)\n-{3,}", body, re.M), name
    else:
        params = [p for p in inspect.signature(obj).parameters if p not in ("self",)]
        if params:
            assert re.search(r"^Parameters\n-{3,}", body, re.M), f"{name}: no Parameters"
            for p in params:
                assert re.search(rf"^\**{p}\b", body, re.M) or f", {p}" in body, (
                    f"{name}: parameter {p} not documented"
                )
        if inspect.signature(obj).return_annotation not in (None, "None"):
            assert re.search(r"^Returns\n-{3,}", body, re.M), f"{name}: no Returns"


def test_public_methods_used_in_notebooks_have_docstrings() -> None:
    for owner, names in [
        (sim.Scenario, ["with_overrides", "select", "to_yaml", "resolved"]),
        (sim.Result, ["summary"]),
    ]:
        for name in names:
            assert inspect.getdoc(getattr(owner, name)), f"{owner.__name__}.{name}"


# ---------------------------------------------------------------- changing inputs in code


def test_with_overrides_changes_the_base_and_leaves_the_original_alone(
    scenario: sim.Scenario,
) -> None:
    bigger = scenario.with_overrides({"theaters": {"iraq": {"initial": 3000}}})
    first = sim.run(bigger, ["on-time"]).monthly
    assert first[first.theater == "iraq"].troops.iloc[0] == 3000
    again = sim.run(scenario, ["on-time"]).monthly
    assert again[again.theater == "iraq"].troops.iloc[0] == 2500


def test_with_overrides_adds_a_variant_built_in_python(scenario: sim.Scenario) -> None:
    mine = scenario.with_overrides(
        {
            "description": "slips 9 months, 250 stay",
            "announcement": {"delay": 9},
            "residuals": {"advisory": {"size": 250}},
        },
        variant="my-reading",
    )
    assert mine.variant_names == [*scenario.variant_names, "my-reading"]
    assert mine.describe("my-reading") == "slips 9 months, 250 stay"
    assert "my-reading" not in scenario.variant_names
    run = sim.run(mine, ["on-time", "my-reading"])
    iraq = run.monthly[(run.monthly.theater == "iraq") & (run.monthly.variant == "my-reading")]
    assert iraq.troops.iloc[-1] == 250
    # nothing leaves before the announcement, nine months after September 2024
    assert set(iraq[iraq.month < pd.Period("2025-06", "M")].troops) == {2500}


def test_with_overrides_warns_of_a_new_variant_a_slip_of_typing_from_one_it_has(
    scenario: sim.Scenario,
) -> None:
    # variant="slip6" added a variant beside slip-6, silently: the change meant was lost
    with pytest.warns(sim.ScenarioWarning) as caught:
        typo = scenario.with_overrides({"announcement": {"delay": 9}}, variant="slip6")
    assert [str(w.message) for w in caught] == [
        "<overrides>:1:1: variants.slip6: a new entry: the scenario has no variant 'slip6', "
        "so one is added; to change 'slip-6', give variant='slip-6'"
    ]
    assert "slip6" in typo.variant_names and len(typo.warnings) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a name apart, slip-9, is a new variant as meant)
        scenario.with_overrides({"announcement": {"delay": 9}}, variant="slip-9")


def test_with_overrides_refuses_extends_which_only_a_file_follows(
    scenario: sim.Scenario,
) -> None:
    # it was kept in the scenario and never followed
    with pytest.raises(
        sim.ScenarioError,
        match=r"^<overrides>:1:1: extends: expected .*followed only as a file is loaded",
    ):
        scenario.with_overrides({"extends": "other.yaml"})


def test_with_overrides_changes_an_existing_variant(scenario: sim.Scenario) -> None:
    changed = scenario.with_overrides(
        {"residuals": {"advisory": {"size": 500}}}, variant="residual"
    )
    assert changed.describe("residual") == scenario.describe("residual")
    m = sim.run(changed, ["residual"]).monthly
    assert m[m.theater == "iraq"].troops.iloc[-1] == 500


def test_with_overrides_none_deletes_a_key_as_in_a_file(scenario: sim.Scenario) -> None:
    without = scenario.with_overrides({"residuals": {"advisory": None}}, variant="residual")
    assert "advisory" not in without.resolved("residual").residuals
    assert "advisory" in without.resolved("on-time").residuals
    m = sim.run(without, ["residual"]).monthly
    assert m[m.theater == "iraq"].troops.iloc[-1] == 0
    base = scenario.with_overrides({"theaters": {"iraq": {"name": None}}})
    assert base.resolved("on-time").theaters["iraq"].name is None


@pytest.mark.parametrize(
    ("overrides", "variant", "path", "found"),
    [
        ({"theaters": {"iraq": {"initial": -5}}}, None, "theaters.iraq.initial", "-5"),
        ({"theaters": {"iraq": {"intial": 5}}}, None, "theaters.iraq.intial", "'intial'"),
        (
            {"milestones": {"iraq-exit": {"profile": "wobbly"}}},
            None,
            "milestones.iraq-exit.profile",
            "'wobbly'",
        ),
        ({"calendar": {"end": "2024-01"}}, None, "calendar", "2024-01"),
        ({"announcement": {"delay": "soon"}}, "slip-3", "announcement.delay", "'soon'"),
        ({"announcement": {"delay": -1}}, "my-reading", "announcement.delay", "-1"),
        (
            {"residuals": {"advisory": {"size": {"triangular": [600, 350, 150]}}}},
            "residual",
            "residuals.advisory.size",
            r"\[600, 350, 150\]",
        ),
        ({"announcement": {"delay": 3}}, "Not An Id", "variants.Not An Id", "'Not An Id'"),
    ],
)
def test_bad_values_set_in_code_raise_scenario_error_naming_the_key_path(
    scenario: sim.Scenario, overrides: dict[str, Any], variant: str | None, path: str, found: str
) -> None:
    with pytest.raises(sim.ScenarioError, match=overrides_error(path, found)) as info:
        scenario.with_overrides(overrides, variant=variant)
    assert info.value.file == "<overrides>"
    assert info.value.path == path


def test_an_unknown_key_set_in_code_gets_a_suggestion(scenario: sim.Scenario) -> None:
    with pytest.raises(sim.ScenarioError, match=r"did you mean 'initial'\?"):
        scenario.with_overrides({"theaters": {"iraq": {"intial": 5}}})


def test_overrides_must_be_a_mapping(scenario: sim.Scenario) -> None:
    with pytest.raises(sim.ScenarioError, match=overrides_error("(overrides)", "a list")):
        scenario.with_overrides([("announcement", 3)])  # type: ignore[arg-type]


def test_values_set_in_code_stay_marked_through_chained_overrides(scenario: sim.Scenario) -> None:
    step1 = scenario.with_overrides({"announcement": {"delay": 4}}, variant="mine")
    with pytest.raises(sim.ScenarioError, match=overrides_error("announcement.delay", "-2")):
        step1.with_overrides({"theaters": {"iraq": {"name": "Iraq"}}}).with_overrides(
            {"announcement": {"delay": -2}}, variant="mine"
        )


def test_an_error_in_a_value_the_file_holds_points_at_the_file(scenario: sim.Scenario) -> None:
    # 100 troops cannot lose "several hundred": the file's reduce_by is at fault
    with pytest.raises(sim.ScenarioError) as info:
        scenario.with_overrides({"theaters": {"iraq": {"initial": 100}}})
    assert info.value.file == str(sim.default_scenario())
    assert info.value.path == "milestones.iraq-phase-1.target.reduce_by.uniform[1]"


def test_run_rejects_an_unknown_variant_with_a_suggestion(scenario: sim.Scenario) -> None:
    with pytest.raises(sim.ScenarioError, match=r"did you mean 'on-time'\?"):
        sim.run(scenario, ["on-tim"])


def test_run_takes_one_variant_name_as_a_string(scenario: sim.Scenario) -> None:
    assert sim.run(scenario, "slip-6").variants == ["slip-6"]


@pytest.mark.parametrize(
    ("draws", "seed", "path"), [(0, 1, "draws"), (10, None, "seed"), (2.5, 1, "draws")]
)
def test_run_rejects_bad_ensemble_arguments(
    scenario: sim.Scenario, draws: Any, seed: Any, path: str
) -> None:
    with pytest.raises(sim.ScenarioError, match=rf": {path}: expected "):
        sim.run(scenario, ["on-time"], draws=draws, seed=seed)


def test_run_takes_observation_options_left_at_their_defaults_without_observations(
    scenario: sim.Scenario,
) -> None:
    # a notebook that passes condition=flag, as_of=None runs plainly when the flag is off
    plain = sim.run(scenario, ["on-time"], draws=50, seed=1)
    same = sim.run(scenario, ["on-time"], draws=50, seed=1, condition=False, as_of=None)
    assert same.observed is None
    pd.testing.assert_frame_equal(same.bands, plain.bands)


@pytest.mark.parametrize(
    ("option", "value"), [("condition", True), ("as_of", "2025-01"), ("tolerance", "5%")]
)
def test_run_refuses_an_observation_option_set_without_observations(
    scenario: sim.Scenario, option: str, value: Any
) -> None:
    with pytest.raises(sim.ScenarioError, match=rf": {option}: expected observed= with "):
        sim.run(scenario, ["on-time"], draws=50, seed=1, **{option: value})


# ---------------------------------------------------------------- display in a notebook


def test_scenario_repr_is_one_short_line(scenario: sim.Scenario) -> None:
    text = repr(scenario)
    assert "\n" not in text and len(text) < 300
    assert text.startswith("<Scenario iraq-syria-2024:")


def test_run_reads_observations_given_as_the_path_of_their_csv(scenario: sim.Scenario) -> None:
    path = Path(DEFAULT_SCENARIO).parent / "iraq-syria-2024-observed.csv"
    by_path = sim.run(scenario, ["on-time"], observed=str(path))
    by_set = sim.run(scenario, ["on-time"], observed=sim.load_observations(path, scenario))
    pd.testing.assert_frame_equal(by_path.observed.table, by_set.observed.table)
    with pytest.raises(TypeError, match="observed= takes an ObservationSet .* not int"):
        sim.run(scenario, ["on-time"], observed=5)


def test_plot_of_a_backtest_refuses_axes_it_would_leave_empty(scenario: sim.Scenario) -> None:
    import matplotlib.pyplot as plt

    record = sim.load_observations(Path(DEFAULT_SCENARIO).parent / "iraq-syria-2024-observed.csv")
    _, ax = plt.subplots()
    with pytest.raises(TypeError, match="a backtest draws its own figure"):
        sim.plot(sim.run_backtest(scenario, record), ax=ax)
    plt.close("all")


@pytest.mark.slow
def test_backtest_vintages_and_sensitivity_display_as_one_short_line(
    scenario: sim.Scenario,
) -> None:
    # in a notebook these printed as dataclass dumps of every frame and scenario
    record = sim.load_observations(Path(DEFAULT_SCENARIO).parent / "iraq-syria-2024-observed.csv")
    vintages = sorted((Path(DEFAULT_SCENARIO).parent / "vintages").glob("*.yaml"))
    series = sim.run_vintages(
        [sim.load_scenario(p) for p in vintages[:2]], record, draws=50, seed=1,
        variants=["as-reported"],
    )  # fmt: skip
    shown = {
        "backtest": repr(sim.run_backtest(scenario, record)),
        "series": repr(series),
        "vintage": repr(series.vintages[0]),
        "sensitivity": repr(sim.sensitivity(scenario, ["on-time"], 20, 1)),
    }
    for text in shown.values():
        assert "\n" not in text and len(text) < 200, text
    assert shown["backtest"].startswith("<Backtest iraq-syria-2024: ")
    assert " against 39 observations" in shown["backtest"]
    assert shown["series"].startswith("<VintageSeries: 2 vintages from 2024-09-27 to ")
    assert shown["vintage"] == f"<Vintage {series.vintages[0].scenario.id} as of 2024-09-27>"
    assert ": 1 variant, 20 draws" in shown["sensitivity"]


def test_scenario_html_lists_each_variant_with_its_description(scenario: sim.Scenario) -> None:
    html = scenario._repr_html_()
    assert scenario.title in html and "<table>" in html
    for name in scenario.variant_names:
        assert f"<code>{name}</code>" in html
        assert escape(scenario.describe(name)) in html


def test_result_html_is_a_short_summary_table(result: sim.Result) -> None:
    html = result._repr_html_()
    assert html.count("<table") == 1 and len(html) < 8000
    assert html.count("<tr>") <= len(result.variants) + 3  # header rows and a row per variant
    for name in result.variants:
        assert name in html
    assert "deterministic" in html


def test_ensemble_html_says_how_many_draws_and_the_seed(ensemble: sim.Result) -> None:
    assert "ensemble of 400 draws, seed 7" in ensemble._repr_html_()
    assert "ensemble of 400 draws, seed 7" in repr(ensemble)


def test_an_ensembles_summary_says_its_table_is_the_central_run_not_a_percentile(
    ensemble: sim.Result, result: sim.Result
) -> None:
    # a notebook showed an ensemble's central-run levels under "ensemble of N draws"
    said = "in the central run (each input at its central value, not a percentile"
    assert said in repr(ensemble) and said in ensemble._repr_html_()
    assert said not in repr(result)


def test_summary_has_a_row_per_variant_and_theater_levels_at_key_months(result: sim.Result) -> None:
    table = result.summary()
    assert list(table.index) == result.variants
    assert ("iraq", pd.Period("2026-12", "M")) in table.columns
    assert table.loc["on-time", ("iraq", pd.Period("2025-09", "M"))] == 1900


def test_summary_takes_other_months_as_text_or_periods(result: sim.Result) -> None:
    table = result.summary(["2025-06", pd.Period("2027-01", "M")])
    assert table.loc["slip-6-moving", ("iraq", pd.Period("2027-01", "M"))] == 633
    assert list(result.summary("2025-06").columns) == [
        ("iraq", pd.Period("2025-06", "M")),
        ("syria", pd.Period("2025-06", "M")),
    ]
    # one month as a period, as one as text (it raised TypeError: no len())
    assert result.summary(pd.Period("2025-06", "M")).equals(result.summary("2025-06"))


@pytest.mark.parametrize(
    ("months", "expected", "found"),
    [
        (["junk"], "months as YYYY-MM, from 2024-09 to 2028-06", "'junk'"),
        (["2025-6"], "months as YYYY-MM, from 2024-09 to 2028-06", "'2025-6'"),
        (["2025-06", "2030-01"], "a month the run covers, from 2024-09 to 2028-06", "'2030-01'"),
        (pd.Period("2030-01", "M"), "a month the run covers, from 2024-09 to 2028-06", "'2030-01'"),
        (202506, "months as YYYY-MM, from 2024-09 to 2028-06", "202506"),
    ],
)
def test_summary_refuses_a_month_it_cannot_show(
    result: sim.Result, months: object, expected: str, found: str
) -> None:
    line = f"<arguments>:1:1: months: expected {expected}, found {found}"
    with pytest.raises(sim.ScenarioError, match="^" + re.escape(line) + "$"):
        result.summary(months)


def test_ensembles_run_quietly_outside_a_terminal(
    scenario: sim.Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.run(scenario, ["on-time"], draws=100, seed=1)
    sim.run(scenario, ["on-time"], draws=100, seed=1, progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ---------------------------------------------------------------- DataFrames


def test_monthly_is_tidy_with_monthly_periods(result: sim.Result) -> None:
    m = result.monthly
    # the default scenario gives Syria a reporting basis: each row's official figure too
    assert list(m.columns) == ["scenario", "variant", "theater", "month", "troops", "official"]
    assert m.month.dtype == pd.PeriodDtype("M")
    assert m.troops.dtype.kind == "i"
    iraq = m[m.theater == "iraq"]
    by_year = iraq.groupby(["variant", iraq.month.dt.year]).troops.min().unstack()
    assert by_year.loc["on-time", 2027] == 0
    assert by_year.loc["on-time", 2024] == 2350  # December 2024
    assert len(m) == len(m.drop_duplicates(["variant", "theater", "month"]))


def test_milestones_and_ensemble_frames_have_the_documented_columns(
    result: sim.Result, ensemble: sim.Result
) -> None:
    assert list(result.milestones.columns) == [
        "scenario",
        "variant",
        "milestone",
        "theater",
        "deadline",
        "target",
        "month_reached",
        "met",
    ]
    assert result.milestones.deadline.dtype == pd.PeriodDtype("M")
    assert result.bands is None and result.dates is None
    assert "p_met" in ensemble.milestones.columns
    assert ensemble.bands is not None and ensemble.dates is not None
    assert list(ensemble.bands.columns) == [
        "scenario",
        "variant",
        "theater",
        "month",
        "mean",
        "min",
        "p05",
        "p10",
        "p25",
        "p50",
        "p75",
        "p90",
        "p95",
        "max",
    ]
    assert ensemble.bands.month.dtype == pd.PeriodDtype("M")
    assert list(ensemble.dates.columns) == [
        "scenario",
        "variant",
        "theater",
        "threshold",
        "level",
        "p10",
        "p50",
        "p80",
        "p90",
        "never",
    ]


# ---------------------------------------------------------------- plot functions compose


def test_plot_envelope_makes_a_figure_and_returns_one_axes_per_theater(result: sim.Result) -> None:
    axes = sim.plot_envelope(result)
    assert len(axes) == 2
    assert axes[0].figure is axes[1].figure
    assert [a.get_title(loc="left") for a in axes] == ["Iraq", "Syria"]


def test_plot_envelope_draws_into_the_users_axes(result: sim.Result) -> None:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    out = sim.plot_envelope(result, ax=right, theaters=["iraq"])
    assert out == [right]
    assert len(right.lines) >= len(result.variants) and not left.lines
    assert fig.texts == []  # the user's figure keeps its own title and notes
    right.cla()  # (a chart was drawn into it: cleared, it takes another)
    both = sim.plot_envelope(result, ax=[left, right])
    assert both == [left, right]


def test_fan_and_comparison_leave_the_legend_of_the_users_axes_to_the_user(
    scenario: sim.Scenario, ensemble: sim.Result
) -> None:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    sim.plot_fan(ensemble, ax=ax, theaters=["iraq"], variants=["slip-6"])
    assert ax.get_legend() is None  # it covered the deadline labels of a small panel
    labels = ax.get_legend_handles_labels()[1]
    assert "median of the draws, month by month" in labels
    assert "25th–75th percentile" in labels
    paired = compare(scenario, "on-time", "slip-6-moving", progress=False, **ENSEMBLE)
    _, ax = plt.subplots()
    sim.plot_compare(paired, ax=ax, theaters=["iraq"])
    assert ax.get_legend() is None
    assert "median difference, month by month" in ax.get_legend_handles_labels()[1]
    plt.close("all")


def test_plot_envelope_asks_for_one_axes_per_theater(result: sim.Result) -> None:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"expected 2 axes \(one per theater: iraq, syria\)"):
        sim.plot_envelope(result, ax=ax)


def test_result_plot_draws_the_envelope_or_for_an_ensemble_the_fan(
    result: sim.Result, ensemble: sim.Result
) -> None:
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    assert sim.plot(result, ax=ax, theaters=["syria"]) == [ax]
    _, grid = plt.subplots(2, 2)
    panels = sim.plot(ensemble, ax=grid)
    assert panels == list(grid.ravel())
    _, one = plt.subplots()
    assert sim.plot_fan(ensemble, ax=one, theaters=["iraq"], variants=["slip-6"]) == [one]
    assert one.collections, "the fan's bands are drawn"


def test_plot_fan_needs_an_ensemble(result: sim.Result) -> None:
    with pytest.raises(ValueError, match="needs an ensemble"):
        sim.plot_fan(result)


def test_compare_table_and_plot(scenario: sim.Scenario) -> None:
    import matplotlib.pyplot as plt

    paired = compare(scenario, "on-time", "slip-6-moving", progress=False, **ENSEMBLE)
    t = paired.table
    assert t.month.dtype == pd.PeriodDtype("M")
    assert {"p50", "p_b_greater", "p_b_less"} <= set(t.columns)
    _, ax = plt.subplots()
    assert sim.plot(paired, ax=ax, theaters=["iraq"]) == [ax]
    axes = sim.plot(paired, theaters=["iraq", "syria"])
    assert len(axes) == 4  # a fan and a probability panel per theater
    assert len(sim.plot(paired)) == 2  # (Syria alike in every draw: a line of the foot)
    plt.close("all")


# ---------------------------------------------------------------- the API page


@pytest.mark.slow
def test_the_python_examples_in_docs_api_md_run(tmp_path: Any, monkeypatch: Any) -> None:
    from conftest import REPO

    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    code = "\n".join(b for b in blocks if not b.lstrip().startswith(">>>"))
    (tmp_path / "scenarios").symlink_to(REPO / "scenarios")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"pd": pd}
    exec(compile(code, "docs/api.md", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "iraq.png").is_file()
    assert isinstance(namespace["paired"].table, pd.DataFrame)
    # the composed figure's fan legend stands beside the fan (inside, it hid the band)
    right = namespace["right"]
    legend = right.get_legend().get_window_extent()
    assert legend.x0 >= right.get_window_extent().x1


def test_load_run_and_check_writable_take_a_path_as_text(result: sim.Result, tmp_path: Any) -> None:
    out = str(tmp_path / "run")
    sim.check_writable(out)
    sim.write_run(result, out, chart=False)
    back = sim.load_run(out)
    pd.testing.assert_frame_equal(back.monthly, result.monthly)
    sim.check_writable(out)  # an earlier run may be replaced
    with pytest.raises(sim.ScenarioError, match=r"nothere/run\.json: expected a run"):
        sim.load_run(str(tmp_path / "nothere"))


def test_the_error_lines_shown_in_docs_api_md_are_the_ones_raised(scenario: sim.Scenario) -> None:
    from conftest import REPO

    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if b.startswith(">>>")]
    pairs = [
        (call, shown)
        for block in blocks
        for call, shown in re.findall(r"^>>> (.*)\nScenarioError: (.*)$", block, re.M)
    ]
    assert len(pairs) >= 3
    for call, shown in pairs:
        with pytest.raises(sim.ScenarioError) as err:
            eval(call, {"scenario": scenario, "sim": sim})  # noqa: S307
        # (the docs load the scenario from the project's folder, by its relative path)
        assert str(err.value).replace(f"{REPO}/", "") == shown


@pytest.mark.parametrize("method", ["describe", "plan", "resolved", "resolved_raw", "to_yaml"])
def test_every_scenario_method_given_an_unknown_variant_raises_scenario_error_with_a_suggestion(
    scenario: sim.Scenario, method: str
) -> None:
    with pytest.raises(sim.ScenarioError, match=r"variants: .*did you mean 'slip-6'.*'slip-66'"):
        getattr(scenario, method)("slip-66")


def test_the_complete_example_of_docs_scenario_format_md_passes_validate_strict(
    tmp_path: Any,
) -> None:
    # its base drew a delay every variant replaced: a warning on every command
    from click.testing import CliRunner
    from conftest import REPO

    from sim.cli import main

    text = (REPO / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    example = text.split("## A complete example", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", example, re.S)
    assert block is not None
    path = tmp_path / "example.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and "ok (example, 3 variants)" in result.stdout


def test_api_calls_given_a_wrong_kind_of_argument_say_what_they_take(tmp_path) -> None:
    # each failed inside: "'NoneType' object is not iterable", "'int' object has no
    # attribute 'get'"
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(TypeError, match=r"^with_settings takes a mapping of key paths"):
        sc.with_settings(None)  # type: ignore[arg-type]
    set_ = {"announcement.delay": 3}  # (any iterable of pairs still works)
    for pairs in (set_.items(), zip(set_, set_.values(), strict=True), iter(set_.items())):
        assert sc.with_settings(pairs).settings == (("announcement.delay", 3),)  # type: ignore[arg-type]
    result = sim.run(sc, ["on-time"])
    with pytest.raises(
        ValueError, match=r"^expected formats among csv, parquet, or 'both', found None$"
    ):
        sim.write_run(result, tmp_path / "a", formats=None)  # type: ignore[arg-type]
    assert not (tmp_path / "a").exists()
    sim.write_run(result, tmp_path / "run")
    pytest.importorskip("plotly")
    with pytest.raises(TypeError, match=r"^write_report takes record= as the run.json document"):
        sim.write_report(tmp_path / "run", tmp_path / "p.html", record=5)  # type: ignore[arg-type]
    assert not (tmp_path / "p.html").exists()


@pytest.mark.parametrize("variant", [None, "on-time", "a-new-one"])
def test_with_overrides_refuses_an_empty_mapping_that_would_change_nothing(variant) -> None:
    # a file and --set refuse it; in code it was taken and changed nothing
    sc = sim.load_scenario(sim.default_scenario())
    with pytest.raises(sim.ScenarioError) as err:
        sc.with_overrides({"residuals": {"advisory": {}}}, variant=variant)
    assert err.value.one_line() == (
        "<overrides>:1:1: residuals.advisory: expected a value that changes something (a "
        "mapping merges key by key, so {} sets nothing; null deletes the key), found {}"
    )
