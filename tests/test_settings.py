"""``--set KEY=VALUE`` and a sweep's ``KEY=V1,V2,...``: parsing, layering on the
variants, the one-line errors, and what run.json records."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, MINIMAL_YAML

import sim
from sim.cli import main
from sim.export.records import resolved_variant
from sim.io.settings import parse_axis, parse_setting, split_items


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def command_line_error(path: str, expected: str = "", found: str = "", col: int = 1) -> str:
    return (
        "^forcesim: error: "
        + re.escape(f"<command line>:1:{col}: {path}: expected ")
        + f".*{expected}.*, found .*{found}"
    )


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.load_scenario(DEFAULT_SCENARIO)


# -- parsing


def test_a_value_is_read_as_yaml_flow_syntax() -> None:
    assert parse_setting("announcement.delay={uniform: [0, 6]}").value == {"uniform": [0, 6]}
    assert parse_setting("theaters.iraq.initial=2400").value == 2400
    assert parse_setting("milestones.x.deadline=2025-09").value == "2025-09"
    assert parse_setting("residuals.advisory=null").value is None


def test_a_sweep_list_splits_at_commas_outside_brackets_and_quotes() -> None:
    assert split_items('1,{uniform: [0, 6]},[1, 2],"a,b"') == [
        "1",
        "{uniform: [0, 6]}",
        "[1, 2]",
        '"a,b"',
    ]
    key, values = parse_axis("announcement.delay={uniform: [0, 3]},{uniform: [0, 6]}")
    assert key == "announcement.delay"
    assert [v.value for v in values] == [{"uniform": [0, 3]}, {"uniform": [0, 6]}]


def test_a_range_includes_both_ends_in_exact_steps() -> None:
    _, values = parse_axis("milestones.m.target.reduce_by=300..900:100")
    assert [v.value for v in values] == [300, 400, 500, 600, 700, 800, 900]
    assert all(isinstance(v.value, int) for v in values)
    _, values = parse_axis("residuals.r.size.probability=0..1:0.1")
    assert [v.value for v in values] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    _, values = parse_axis("announcement.delay=0..3,6,9")
    assert [v.value for v in values] == [0, 1, 2, 3, 6, 9]


@pytest.mark.parametrize(
    ("text", "path", "expected", "found"),
    [
        ("announcement.delay", "announcement.delay", "KEY=VALUE", "'announcement.delay'"),
        ("announcement..delay=3", "announcement..delay", "a dotted key path", ""),
        ("announcement.delay=", "announcement.delay", "a value after '='", "nothing"),
        ("announcement.delay=5..1", "announcement.delay", "FROM <= TO", "'5..1'"),
        ("announcement.delay=1..5:0", "announcement.delay", "a positive STEP", ""),
        # 0..10:3 ran 0, 3, 6 and 9: the end written was dropped without a word
        (
            "announcement.delay=0..10:3",
            "announcement.delay",
            "TO is FROM plus a whole number of STEPs, both ends run (0..9:3 or 0..12:3)",
            "'0..10:3'",
        ),
        ("announcement.delay=0..12:100", "announcement.delay", "(0..0:100 or 0..100:100)", ""),
        ("x.p=0..1:0.3", "x.p", "(0..0.9:0.3 or 0..1.2:0.3)", "'0..1:0.3'"),
        ("announcement.delay=1,1", "announcement.delay", "each value once", "'1' twice"),
        ("announcement.delay=1,,2", "announcement.delay", "single commas", "an empty item"),
    ],
)
def test_a_malformed_setting_names_the_command_line_and_the_key(
    text: str, path: str, expected: str, found: str
) -> None:
    pattern = command_line_error(path, re.escape(expected), re.escape(found))
    with pytest.raises(sim.ScenarioError, match=pattern.removeprefix("^forcesim: error: ")):
        parse_axis(text)


def test_broken_yaml_points_at_the_column_inside_the_value() -> None:
    with pytest.raises(sim.ScenarioError, match=r"^<command line>:1:17: announcement\.delay: "):
        parse_setting("announcement.delay={uniform: [0, 6]")


# -- layering on the scenario


def test_a_setting_wins_over_a_variants_own_value(scenario: sim.Scenario) -> None:
    changed = scenario.with_settings({"announcement.delay": 2})
    for name in changed.variant_names:  # slip-6 sets the delay to 6 itself
        assert changed.plan(name).delay == 2
    assert scenario.plan("slip-6").delay == 6  # the original is left alone
    assert changed.settings == (("announcement.delay", 2),)


def test_a_setting_reaches_inside_a_number_written_as_a_mapping(scenario: sim.Scenario) -> None:
    changed = scenario.with_settings({"residuals.advisory.size.probability": 1})
    size = changed.plan("as-reported").residuals[0].size
    assert size.probability == 1 and size.triangular == [150, 350, 600]


def test_a_setting_inside_a_choice_changes_that_field_and_keeps_the_rest(
    scenario: sim.Scenario,
) -> None:
    changed = scenario.with_settings(
        {"announcement.delay.choice.weights": [1] * 7}, variants=["as-reported"]
    )
    delay = changed.plan("as-reported").delay
    assert delay.choice.values == [0, 1, 2, 3, 6, 9, 12]  # kept, not replaced whole
    assert delay.choice.weights == [1] * 7
    assert delay.assumption and delay.assumption == scenario.plan("as-reported").delay.assumption


def test_a_field_set_inside_a_choice_an_earlier_setting_wrote_joins_it(
    scenario: sim.Scenario,
) -> None:
    changed = scenario.with_settings(
        [
            ("theaters.iraq.initial", {"choice": {"values": [2400, 2600]}}),
            ("theaters.iraq.initial.choice.weights", [1, 3]),
        ]
    )
    one_go = scenario.with_settings(
        {"theaters.iraq.initial": {"choice": {"values": [2400, 2600], "weights": [1, 3]}}}
    )
    for name in changed.variant_names:
        assert changed.plan(name).tracks[0].initial == one_go.plan(name).tracks[0].initial
    assert changed.plan("on-time").tracks[0].initial.choice.weights == [1, 3]


def test_a_field_inside_a_choice_a_variant_does_not_draw_is_refused_by_name(
    scenario: sim.Scenario,
) -> None:
    # on-time sets the delay to 0: there is no choice to change the odds of
    with pytest.raises(
        sim.ScenarioError,
        match=re.escape(
            "announcement.delay.choice.weights: expected a number drawn by choice in variant "
            "'on-time' (there announcement.delay is 0), or the whole number "
            "(announcement.delay={choice: ...}), found a setting of its choice.weights"
        ),
    ):
        scenario.with_settings({"announcement.delay.choice.weights": [1] * 7})


def test_a_setting_changes_only_the_variants_asked_for(scenario: sim.Scenario) -> None:
    changed = scenario.with_settings({"announcement.delay": 2}, variants=["slip-6"])
    assert changed.plan("slip-6").delay == 2
    assert changed.plan("slip-3").delay == 3


def test_null_deletes_a_key_as_a_variant_override_does(scenario: sim.Scenario) -> None:
    changed = scenario.with_settings({"residuals.advisory": None}, variants=["residual"])
    assert changed.plan("residual").residuals == ()


def test_a_scenario_without_variants_has_its_base_changed(write) -> None:
    sc = sim.load_scenario(write(MINIMAL_YAML)).with_settings({"theaters.alpha.initial": 1200})
    assert sc.plan("base").tracks[0].initial == 1200


def test_a_later_setting_of_the_same_key_wins(scenario: sim.Scenario) -> None:
    changed = scenario.with_settings([("announcement.delay", 2), ("announcement.delay", 4)])
    assert changed.plan("on-time").delay == 4


def test_a_setting_inside_an_earlier_one_refines_it_and_one_undoing_it_is_refused(
    scenario: sim.Scenario, tmp_path
) -> None:
    # announcement.delay=0, then announcement={..., delay: 8}, ran delay 8 while the run's
    # head (and a sweep's rows) named delay 0
    outer = ("announcement", {"expected": "2024-09", "delay": 8})
    refined = scenario.with_settings([outer, ("announcement.delay", 0)])
    assert refined.plan("on-time").delay == 0
    with pytest.raises(sim.ScenarioError) as caught:
        scenario.with_settings([("announcement.delay", 0), outer])
    assert str(caught.value) == (
        "<overrides>:1:1: announcement.delay: expected no setting undone by a later one "
        "(announcement takes the place of what it set: set one of them, or the wider one "
        "first), found 'announcement.delay', then 'announcement'"
    )
    # a mapping that leaves the earlier key out merges onto it: nothing undone
    merged = scenario.with_settings(
        [("theaters.iraq.initial", 2000), ("theaters.iraq", {"unreported": 100})]
    )
    assert merged.resolved("on-time").theaters["iraq"].initial == 2000
    # fields of a number's form, one after another, join (as each alone does)
    weights = scenario.with_settings(
        [("announcement.delay.choice.weights", [1] * 7), ("announcement.delay.choice.values",
         [0, 1, 2, 3, 4, 5, 6])], variants=["as-reported"],
    )  # fmt: skip
    assert weights.plan("as-reported") != scenario.plan("as-reported")
    undone = "expected no setting undone by a later one"
    target = "milestones.iraq-exit.target"
    cases = [
        # level and reduce_by take each other's place: beside, or in an earlier mapping
        [(f"{target}.level", 0), (f"{target}.reduce_by", 100)],
        [(target, {"level": 0}), (f"{target}.reduce_by", 100)],
        [(f"{target}.level", 0), (target, {"reduce_by": 5})],
        # a number's mapping replaces the number whole: its probability goes
        [("residuals.advisory.size.probability", 0.9), ("residuals.advisory.size", {"value": 300})],
        # a date, then a key inside it: the date goes
        [("milestones.iraq-exit.deadline", "2026-06"),
         ("milestones.iraq-exit.deadline.after_announcement", 12)],
    ]  # fmt: skip
    for settings in cases:
        with pytest.raises(sim.ScenarioError, match=undone):
            scenario.with_settings(settings)
    swept = invoke(
        "sweep", str(DEFAULT_SCENARIO), "-v", "on-time", "--set", "announcement.delay=0,6",
        "--set", "announcement={expected: 2024-09, delay: 5}", "-o", "/nonexistent/x",
    )  # fmt: skip
    assert swept.exit_code == 2
    assert "found 'announcement.delay', then 'announcement'" in swept.output
    levels = invoke(
        "sweep", str(DEFAULT_SCENARIO), "-v", "on-time", "--set", f"{target}.level=0,500",
        "--set", f"{target}.reduce_by=100", "-o", "/nonexistent/x",
    )  # fmt: skip
    assert levels.exit_code == 2 and undone in levels.output
    kept = invoke(
        "sweep", str(DEFAULT_SCENARIO), "-v", "on-time", "--set", "announcement.delay=0,6",
        "--set", "announcement={expected: 2024-10}", "-o", str(tmp_path / "kept"),
    )  # fmt: skip
    assert kept.exit_code == 0, kept.output  # (merged onto it: the delays ran as named)


def test_a_mapping_set_credits_the_numbers_it_gives_to_the_setting_not_the_variant(
    scenario: sim.Scenario,
) -> None:
    # run.json and the page credited the delay of 9 to variant on-time's description
    from sim.provenance import provenance

    changed = scenario.with_settings({"announcement": {"expected": "2024-09", "delay": 9}})
    found = {p.path: p for p in provenance(changed, "on-time")}
    assert found["announcement.delay"].kind == "assumption"
    assert found["announcement.delay"].assumption == (
        'set for this run: announcement = {"expected": "2024-09", "delay": 9}'
    )
    partial = scenario.with_settings({"theaters.iraq": {"initial": 2400}})
    found = {p.path: p for p in provenance(partial, "on-time")}
    assert found["theaters.iraq.initial"].assumption == (
        'set for this run: theaters.iraq = {"initial": 2400}'
    )
    # refined by a later setting: the delay is the later one's, the date still the mapping's
    refined = scenario.with_settings(
        [("announcement", {"expected": "2024-11", "delay": 8}), ("announcement.delay", 0)]
    )
    found = {p.path: p for p in provenance(refined, "on-time")}
    assert found["announcement.delay"].assumption == "set for this run: announcement.delay = 0"
    assert found["announcement.expected"].assumption == (
        'set for this run: announcement = {"expected": "2024-11", "delay": 8}'
    )
    # a None that deletes part of a number: the number rests on that setting
    dropped = scenario.with_settings({"residuals.advisory.size.probability": None})
    found = {p.path: p for p in provenance(dropped, "residual")}
    assert found["residuals.advisory.size"].assumption == (
        "set for this run: residuals.advisory.size.probability = null"
    )


# -- the command line


@pytest.mark.slow
def test_run_with_set_records_the_values_in_run_json(tmp_path) -> None:
    out = tmp_path / "run"
    result = invoke(
        "run",
        str(DEFAULT_SCENARIO),
        "--variant",
        "slip-6",
        "--set",
        "announcement.delay={uniform: [0, 6]}",
        "--set",
        "theaters.iraq.initial=2400",
        "--out",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text())
    assert record["set"] == {
        "announcement.delay": {"uniform": [0, 6]},
        "theaters.iraq.initial": 2400,
    }
    slip6 = resolved_variant(record, "slip-6")
    assert slip6["announcement"]["delay"] == {"uniform": [0, 6]}
    monthly = (out / "monthly.csv").read_text().splitlines()
    assert "iraq-syria-2024,slip-6,iraq,2024-09,2400,2400" in monthly  # troops, official


@pytest.mark.slow
def test_a_run_with_set_can_be_replotted(tmp_path) -> None:
    out = tmp_path / "run"
    args = ["run", str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-3"]
    args += ["--set", "milestones.iraq-exit.deadline=2027-06"]
    assert invoke(*args, "--out", str(out), "-q").exit_code == 0
    reloaded = sim.load_run(out)
    assert reloaded.plans["on-time"].milestones[1].month == 33  # 2027-06, as run


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "path", "expected", "found"),
    [
        ("theaters.iraq.intial=5", "theaters.iraq.intial", "did you mean 'initial'", "'intial'"),
        ("announcement.delay={uniform: [6, 0]}", "announcement.delay", "low <= high", r"\[6, 0\]"),
        ("announcement.delay=abc", "announcement.delay", "a number", "'abc'"),
        ("milestones.iraq-exit.deadline=2026-13", "milestones.iraq-exit.deadline", "", "2026-13"),
        ("variants.x.description=y", "variants.x.description", "not variants", "'variants'"),
        ("observations=[]", "observations", "observations", "'observations'"),
        # a field of a theater the scenario has not got: a misspelt name, not a new theater
        (
            "theaters.irak.initial=5",
            "theaters.irak.initial",
            r"one of the theaters of the scenario \(iraq, syria; did you mean 'iraq'\?\), "
            r"or a whole new theater \(theaters.irak=\{initial: \.\.\.\}\)",
            "'irak'",
        ),
        (
            "theaters.iraq.sites.erbil.initial=5",
            "theaters.iraq.sites.erbil.initial",
            r"one of the sites of theater 'iraq' in the scenario \(there are none\)",
            "'erbil'",
        ),
        # a site of a theater the scenario lacks: the theater is named, and the whole
        # entry to write instead is nested as a scenario file nests it
        (
            "theaters.kuwait.sites.a.initial=5",
            "theaters.kuwait.sites.a.initial",
            r"a whole new theater \(theaters.kuwait=\{sites: \{a: \{initial: \.\.\.\}\}\}\)",
            "'kuwait'",
        ),
        # a table's name where the format has none is an unknown key, not a table
        (
            "milestones.iraq-exit.theaters.x.y=1",
            "milestones.iraq-exit.theaters",
            "did you mean 'theater'",
            "unknown key 'theaters'",
        ),
        # an empty mapping merges nothing: accepted, it would change nothing
        ("theaters={}", "theaters", r"a value that changes something", r"'\{\}'"),
        ("theaters.iraq={ }", "theaters.iraq", r"\{\} sets nothing", r"'\{ \}'"),
        # ... and so does one inside a mapping, named at its own key
        ("theaters={iraq: {}}", "theaters.iraq", r"\{\} sets nothing", r"'\{iraq: \{\}\}'"),
        (
            "theaters.iraq={sites: {erbil: {}}}",
            "theaters.iraq.sites.erbil",
            r"\{\} sets nothing",
            r"'\{sites: \{erbil: \{\}\}\}'",
        ),
        (
            "residuals.advisroy.size=5",
            "residuals.advisroy.size",
            "did you mean 'advisory'",
            "'advisroy'",
        ),
        # only syria-follows has syria-exit: the variants that lack it are named
        (
            "milestones.syria-exit.deadline=2028-06",
            "milestones.syria-exit.deadline",
            "one of the milestones of variant 'as-reported'",
            "'syria-exit'",
        ),
    ],
)
def test_a_bad_set_is_one_line_exit_2_and_nothing_written(
    tmp_path, setting: str, path: str, expected: str, found: str
) -> None:
    out = tmp_path / "never"
    result = invoke("run", str(DEFAULT_SCENARIO), "--set", setting, "--out", str(out))
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert re.match(command_line_error(path, expected, found), result.output.strip())
    assert not out.exists()


@pytest.mark.parametrize(
    "command",
    [["run"], ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "10", "--seed", "1"]],
)
def test_a_bad_set_value_names_no_variant_it_is_wrong_in_every_one(tmp_path, command) -> None:
    # "(with variant 'as-reported', whose overrides are at ...:274)" sent the reader to
    # a variant's overrides for a value the command line gave every variant
    args = [*command, str(DEFAULT_SCENARIO), "--set", "announcement.delay=-3"]
    result = invoke(*args, "--out", str(tmp_path / "never"))
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.endswith("announcement.delay: expected a delay of 0 months or more, found '-3'")
    assert "variant" not in line


def test_a_set_value_that_makes_a_base_value_wrong_names_no_variant(tmp_path) -> None:
    # --set calendar.start=2026-06 leaves the base's 2025-09 deadline before the start;
    # the refusal sent the reader to the first variant's overrides, which hold neither
    out = tmp_path / "never"
    result = invoke("run", "--set", "calendar.start=2026-06", "--out", str(out))
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.endswith(
        "milestones.iraq-phase-1.deadline: expected a deadline after the start month "
        "2026-06, found 2025-09"
    ), line
    assert "variant" not in line and not out.exists()


@pytest.mark.slow
def test_compare_takes_set_too(tmp_path) -> None:
    out = tmp_path / "cmp"
    result = invoke(
        "compare",
        str(DEFAULT_SCENARIO),
        "--variant",
        "on-time",
        "--variant",
        "slip-6",
        "--draws",
        "200",
        "--seed",
        "1",
        "--set",
        "announcement.delay=0",
        "--out",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.json").read_text())["set"] == {"announcement.delay": 0}
    # both variants now announce on time: every difference is zero
    rows = (out / "compare.csv").read_text().splitlines()[1:]
    assert rows and all(r.split(",", 5)[5] == ",".join(["0"] * 12) for r in rows)


def test_a_whole_new_entry_may_be_set_and_an_existing_one_changed(scenario: sim.Scenario) -> None:
    more = scenario.with_settings({"theaters.kuwait": {"initial": 500}}, variants=["on-time"])
    assert list(more.plan("on-time").theaters) == ["iraq", "syria", "kuwait"]
    exit_later = scenario.with_settings(
        {"milestones.syria-exit.deadline": "2028-06"}, variants=["syria-follows"]
    )
    assert exit_later.plan("syria-follows") != scenario.plan("syria-follows")


def test_a_field_of_a_missing_entry_is_refused_by_the_python_api_too(
    scenario: sim.Scenario,
) -> None:
    with pytest.raises(sim.ScenarioError, match="did you mean 'iraq'") as err:
        scenario.with_settings({"theaters.irak.initial": 5})
    assert err.value.path == "theaters.irak.initial"


def test_the_fields_of_an_entry_an_earlier_setting_adds_may_be_set() -> None:
    sites = sim.load_scenario(DEFAULT_SCENARIO.parent / "iraq-sites-2024.yaml")
    more = sites.with_settings(
        [
            ("theaters.kuwait", {"initial": 500}),
            ("theaters.kuwait.name", "Kuwait"),
            ("theaters.iraq.sites.kirkuk", {"initial": 0}),
            ("theaters.iraq.sites.kirkuk.name", "Kirkuk"),
        ]
    )
    name = more.select(None)[0]
    assert more.resolved_raw(name)["theaters"]["kuwait"] == {"initial": 500, "name": "Kuwait"}
    assert more.resolved_raw(name)["theaters"]["iraq"]["sites"]["kirkuk"]["name"] == "Kirkuk"
    # ... but not those of an entry a setting before deletes
    with pytest.raises(sim.ScenarioError, match="one of the theaters of the scenario"):
        sites.with_settings([("theaters.syria", None), ("theaters.syria.initial", 5)])


def test_deleting_every_milestone_says_a_residual_names_one_the_scenario_no_longer_has(
    scenario: sim.Scenario,
) -> None:
    with pytest.raises(sim.ScenarioError) as err:
        scenario.with_settings({"milestones": None}, variants=["residual"]).plan("residual")
    assert err.value.path == "residuals.advisory.from.milestone"
    assert "expected a milestone of the scenario (it has none), found" in str(err.value)
    assert "one of ," not in str(err.value)


@pytest.mark.parametrize(
    ("text", "col"), [("announcement.delay=010", 1), ("announcement.delay={uniform: [0, 010]}", 15)]
)
def test_a_leading_zero_on_the_command_line_says_why_as_in_a_file(text: str, col: int) -> None:
    with pytest.raises(
        sim.ScenarioError,
        match=re.escape(f"<command line>:1:{col}: announcement.delay: expected a plain decimal ")
        + r".*octal 8\), or, where text is meant, text in quotes, found '010'$",
    ):
        parse_setting(text)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "announcement.delay=010..012",
            "write 10, without the leading zero; YAML 1.1 readers take 010 for the octal 8",
        ),
        ("announcement.delay=0..6:03", "write 3, without the leading zero"),
    ],
)
def test_a_sweep_range_with_a_leading_zero_is_refused_with_the_hint_a_value_gets(
    text: str, hint: str
) -> None:
    # (it was read as 10..12 and 0..6 in steps of 3 without a word)
    with pytest.raises(sim.ScenarioError, match=re.escape(hint)):
        parse_axis(text)


def test_a_sweep_range_of_digits_of_another_script_is_not_a_range() -> None:
    # (Decimal read the Arabic-Indic 0..3 as 0, 1, 2, 3)
    key, values = parse_axis("announcement.delay=\u0660..\u0663")
    assert [v.value for v in values] == ["\u0660..\u0663"]  # text, refused where a number goes


def test_a_number_set_for_the_run_rests_on_the_setting_not_on_the_files_source(
    scenario: sim.Scenario,
) -> None:
    from sim.provenance import provenance

    changed = scenario.with_settings(
        {"theaters.iraq.initial": 2400}, variants=["as-reported", "on-time"]
    ).with_settings({"announcement.delay.choice.weights": [1] * 7}, variants=["as-reported"])

    def support(variant: str, path: str) -> tuple[str, str]:
        p = next(p for p in provenance(changed, variant) if p.path == path)
        return p.kind, p.assumption or p.source_id or ""

    # 2,400 no longer cites the report that said 2,500
    assert support("on-time", "theaters.iraq.initial") == (
        "assumption",
        "set for this run: theaters.iraq.initial = 2400",
    )
    assert support("as-reported", "announcement.delay") == (
        "assumption",
        "set for this run: announcement.delay.choice.weights = [1, 1, 1, 1, 1, 1, 1]",
    )
    # a variant the setting did not change keeps what the file says
    assert support("slip-3", "theaters.iraq.initial") == ("source", "shafaq")
    assert support("on-time", "announcement.delay")[0] == "variant"


@pytest.mark.slow
def test_a_run_with_set_records_the_setting_as_what_its_numbers_rest_on(tmp_path) -> None:
    out = tmp_path / "run"
    args = ["run", str(DEFAULT_SCENARIO), "-v", "on-time", "--set", "theaters.iraq.initial=2400"]
    assert invoke(*args, "--out", str(out), "-q").exit_code == 0
    record = json.loads((out / "run.json").read_text())
    assert record["provenance"]["assumptions"]["on-time:theaters.iraq.initial"] == (
        "set for this run: theaters.iraq.initial = 2400"
    )
    from sim.provenance import provenance

    again = sim.load_run(out).scenario  # read back, the setting is still what it rests on
    p = next(p for p in provenance(again, "on-time") if p.path == "theaters.iraq.initial")
    assert p.assumption == "set for this run: theaters.iraq.initial = 2400"


@pytest.mark.parametrize(
    ("command", "setting", "path", "found"),
    [
        ("run", "announcement.delay=1.50", "announcement.delay", "'1.50'"),
        ("run", "announcement.delay=-1.50", "announcement.delay", "'-1.50'"),
        (
            "run",
            "announcement.delay={uniform: [0, 6.50]}",
            "announcement.delay.uniform[1]",
            "'6.50'",
        ),
        ("sensitivity", "announcement.delay=1.50", "announcement.delay", "'1.50'"),
        ("sweep", "announcement.delay=0,1.50", "announcement.delay", "'1.50'"),
        # a value of a range was not written: the range is quoted as written
        ("sweep", "announcement.delay=0..9:1.50", "announcement.delay", "'0..9:1.50'"),
    ],
)
def test_a_bad_set_value_is_quoted_as_written_not_as_parsed(
    tmp_path, command: str, setting: str, path: str, found: str
) -> None:
    # (it said "found 1.5" for 1.50)
    out = tmp_path / "out"
    extra = ["--draws", "100", "--seed", "1"] if command == "sensitivity" else []
    result = invoke(command, str(DEFAULT_SCENARIO), "--set", setting, *extra, "--out", str(out))
    assert result.exit_code == 2
    assert re.match(
        command_line_error(path, "a whole number of months", re.escape(found)), result.stderr
    ), result.stderr
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_a_later_setting_of_a_key_is_quoted_not_the_text_of_the_one_it_replaced(
    scenario: sim.Scenario,
) -> None:
    first, second = (
        parse_setting("announcement.delay=1.50"),
        parse_setting("announcement.delay=2.50"),
    )
    with pytest.raises(sim.ScenarioError, match="found '2.50'"):
        scenario.with_settings(
            [(s.key, s.value) for s in (first, second)], written=[first.texts, second.texts]
        )
    # a setting given in code has no text: its value is shown
    with pytest.raises(sim.ScenarioError, match="found 1.5"):
        scenario.with_settings({"announcement.delay": 1.5})


@pytest.mark.parametrize("text", ["#3", " # three", "#"])
def test_a_set_value_that_is_a_comment_alone_is_refused_not_read_as_null(text: str) -> None:
    # --set announcement.delay=#3 read as null and deleted the delay, with exit 0
    from sim.io.settings import parse_value

    with pytest.raises(sim.ScenarioError) as err:
        parse_value("announcement.delay", text)
    assert "a # starts a comment in YAML" in err.value.one_line()
    for null in ("null", "~", "NULL", "null # deleted on purpose"):
        assert parse_value("announcement.delay", null) is None


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("null", "'null'"),  # (plain, it read as deleting the key)
        ("600", "'600'"),
        ("a, b: c", "'a, b: c'"),
        ("plain words", "plain words"),
        ("it's", "it's"),
    ],
)
def test_text_set_is_said_as_text_where_plain_it_would_read_as_another_value(value, said):
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    key = "milestones.iraq-phase-1.assumption"
    assert sc.with_settings({key: value}).settings_text() == f"{key}={said}"


def test_a_key_path_typed_with_a_direction_control_is_named_escaped() -> None:
    # the line named the key path as typed: U+202E turned the rest of the line around
    from sim.io.settings import parse_setting

    with pytest.raises(sim.ScenarioError) as err:
        parse_setting("theaters.ir\u202eaq.initial=5")
    assert err.value.one_line().startswith(
        "<command line>:1:1: theaters.ir\\u202eaq.initial: expected "
    )
    assert err.value.one_line().isprintable()


def test_a_key_path_of_thousands_of_characters_is_shortened_in_the_error_line(tmp_path) -> None:
    # a 5,000-character key was printed whole, where a long value is shortened
    key = "a" * 5000
    result = invoke("run", str(DEFAULT_SCENARIO), "--set", f"{key}=3", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    line = result.output.strip()
    assert len(line) < 1000
    assert f"<command line>:1:1: {'a' * 100}… (5,000 characters in all): expected one of " in line
    # and where what is expected repeats it (a whole new theater, theaters.KEY=...)
    setting = f"theaters.{key}.initial=5"
    result = invoke("run", str(DEFAULT_SCENARIO), "--set", setting, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and len(result.output.strip()) < 1500, result.output[:300]


def test_a_set_value_wrong_in_one_variant_only_names_that_variant(tmp_path) -> None:
    # the value is refused only where a variant's own overrides make it wrong: that
    # variant is named, with its overrides' line
    scenario = tmp_path / "v.yaml"
    scenario.write_text(
        f"extends: {DEFAULT_SCENARIO}\nid: v\ntitle: t\nvariants:\n  small:\n"
        "    description: a smaller Iraq\n    overrides:\n      theaters:\n        iraq:\n"
        "          initial: 1200\n"
    )
    setting = "residuals.advisory.size.value=1500"
    result = invoke("run", str(scenario), "--set", setting, "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert result.output.strip().endswith(
        f"found '1500' (with variant 'small', whose overrides are at {scenario}:7)"
    )


def test_a_month_of_forcesims_own_tables_can_be_set_back_and_a_day_names_its_month() -> None:
    # a deadline read from result.milestones (a pandas Period) was refused as "expected a
    # month YYYY-MM …, found 2026-12", and a date as "found 2026-11-30", type unsaid
    import datetime as dt

    import pandas as pd

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    deadline = sim.run(sc, variants="on-time").milestones.deadline.iloc[1]
    assert isinstance(deadline, pd.Period)
    earlier = sc.with_settings({"milestones.iraq-exit.deadline": deadline - 1})
    assert earlier.plan("on-time").milestones[1].month == sc.plan("on-time").milestones[1].month - 1
    assert (
        sc.with_overrides({"calendar": {"end": pd.Period("2028-12", "M")}}).plan("on-time").n_months
        == sc.plan("on-time").n_months + 6
    )
    for day in (dt.date(2026, 11, 30), dt.datetime(2026, 11, 30, 5), pd.Timestamp("2026-11-30")):
        with pytest.raises(sim.ScenarioError) as caught:
            sc.with_overrides({"calendar": {"end": day}})
        assert str(caught.value) == (
            "<overrides>:1:1: calendar.end: expected a month as YYYY-MM, found the day "
            "2026-11-30 (for that month write 2026-11)"
        )
    with pytest.raises(sim.ScenarioError, match="found a period of frequency 'Q-DEC', 2028Q4"):
        sc.with_overrides({"calendar": {"end": pd.Period("2028Q4", "Q")}})


@pytest.mark.parametrize("written", ["2026-06-30", "Jun 2026", "06/2026"])
def test_a_month_written_another_way_in_a_file_or_on_the_command_line_names_the_month(
    tmp_path, written
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_YAML.replace("end: 2024-12", f"end: {written}"), encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as caught:
        sim.load_scenario(path)
    assert str(caught.value).endswith(
        f"calendar.end: expected a month as YYYY-MM, found '{written}' (for that month "
        "write 2026-06)"
    )
    out = tmp_path / "never"
    result = CliRunner().invoke(
        main, ["run", str(DEFAULT_SCENARIO), "--set", f"calendar.end={written}", "-o", str(out)]
    )
    assert result.exit_code == 2 and "(for that month write 2026-06)" in result.output
    assert not out.exists()


def test_a_value_set_in_code_on_one_variant_that_makes_a_base_value_wrong_names_it() -> None:
    # the variant's name says where 2026-06 came from: the file holds no such start
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(sim.ScenarioError) as caught:
        sc.with_overrides({"calendar": {"start": "2026-06"}}, variant="slip-3")
    assert "found 2025-09 (with variant 'slip-3', whose overrides are at " in str(caught.value)


def test_a_day_set_in_code_as_a_deadline_names_the_month_to_write() -> None:
    import datetime as dt

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    with pytest.raises(sim.ScenarioError) as caught:
        sc.with_settings({"milestones.iraq-phase-1.deadline": dt.date(2025, 10, 15)})
    assert str(caught.value) == (
        "<overrides>:1:1: milestones.iraq-phase-1.deadline: expected a month as YYYY-MM, "
        "found the day 2025-10-15 (for that month write 2025-10)"
    )


def test_overrides_after_settings_are_refused_for_the_settings_would_be_named_not_run(
    scenario: sim.Scenario,
) -> None:
    # with_settings(delay=3) then with_overrides(delay=9) ran delay 9, while the chart's
    # key, describe() and run.json said "run with announcement.delay=3 set"
    changed = scenario.with_settings({"announcement.delay": 3}, variants=["slip-6"])
    with pytest.raises(sim.ScenarioError) as caught:
        changed.with_overrides({"announcement": {"delay": 9}}, variant="slip-6")
    assert str(caught.value).startswith(
        "<overrides>:1:1: (overrides): expected with_overrides before with_settings"
    )
    assert str(caught.value).endswith("found a scenario with values set (announcement.delay)")
    first = scenario.with_overrides({"announcement": {"delay": 9}}, variant="slip-6")
    assert first.with_settings({"announcement.delay": 3}).plan("slip-6").delay == 3


def test_settings_that_merge_by_id_or_delete_are_not_taken_for_undone(
    scenario: sim.Scenario,
) -> None:
    # each setting is held against what it left in the data, not against its own value:
    # a source added merges by id into the list, and a deleted key leaves nothing
    added = {"id": "mine", "title": "My own note"}
    changed = scenario.with_settings(
        [("sources", [added]), ("theaters.syria.unreported", None), ("announcement.delay", 3)]
    )
    assert any(s.id == "mine" for s in changed.resolved("on-time").sources)
    assert changed.plan("on-time").delay == 3
