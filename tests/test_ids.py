"""Ids are free text: a theater, site, milestone, residual, source or variant called
``value``, ``choice``, ``level`` or ``sources`` (a key name of the format) works as any
other id in variants, ``extends``, settings, sweeps, ``forcesim sources`` and the
provenance of a run."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.loader import deep_merge, states_number
from sim.provenance import provenance
from sim.schema import Spec, Theater, number_at, types_at

# the brief's scenario: a theater called `value`, a milestone called `choice`
FORM_IDS = """\
id: t
title: t
as_of: 2024-09-06
calendar: {start: 2024-09, end: 2025-12}
announcement: {expected: 2024-09, delay: 0}
theaters:
  value: {name: Iraq, initial: 2500}
milestones:
  choice: {theater: value, deadline: 2025-09, target: {level: 0}}
variants:
  late:
    description: late
    overrides:
      milestones:
        choice: {deadline: 2025-11}
      theaters:
        value: {initial: 2000}
"""

# every kind of id named after a key of the format, with sources to cite
KEY_IDS = """\
id: key-ids
title: Ids that are key names
as_of: 2024-09-06
sources:
  - {id: value, title: First report, date: 2024-09-06}
  - {id: choice, title: Second report}
calendar: {start: 2024-09, end: 2026-12}
announcement: {expected: 2024-10, delay: {choice: {values: [0, 2]}, assumption: judgement}}
theaters:
  value:
    name: Iraq
    sites:
      uniform: {name: Ain al-Asad, initial: {value: 1000, source: value}}
      choice: {name: Erbil, initial: {choice: {values: [1400, 1600]}, source: choice}}
  sources: {name: Syria, initial: {value: 900, source: value}}
milestones:
  choice: {theater: value/uniform, deadline: 2025-09, target: {level: 0}, source: value}
  level: {theater: value/choice, deadline: {after: choice, months: 3},
          target: {reduce_by: 500}, source: value}
  reduce_by: {theater: sources, deadline: {after_announcement: 20}, target: {level: 0},
              assumption: guess}
residuals:
  triangular: {theater: value/choice, size: {triangular: [0, 200, 400], assumption: guess},
               from: {milestone: level}}
variants:
  value:
    description: Erbil shrinks less
    overrides:
      milestones:
        level: {target: {reduce_by: 300}}
      theaters:
        value: {sites: {uniform: {initial: 900}}}
  choice:
    description: Erbil to a level
    overrides:
      milestones:
        level: {target: {level: 1000}}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def key_ids(write) -> sim.Scenario:
    return sim.load_scenario(write(KEY_IDS))


def support_of(scenario: sim.Scenario, variant: str | None, path: str) -> tuple[str, str]:
    p = next(p for p in provenance(scenario, variant) if p.path == path)
    return p.kind, p.source_id or p.assumption or ""


# ---------------------------------------------------------------- the format's positions


def test_a_number_stands_where_the_schema_puts_one_whatever_the_ids_on_the_way() -> None:
    assert number_at(("theaters", "value", "initial"))
    assert number_at(("theaters", "iraq", "sites", "choice", "unreported"))
    assert number_at(("variants", "value", "overrides", "residuals", "uniform", "size"))
    assert not number_at(("theaters", "value"))
    assert not number_at(("milestones", "choice", "target"))
    assert types_at(("theaters", "value")) == [Theater]
    assert types_at(("theaters", "value", "nope")) == []


def test_a_mapping_states_a_number_only_where_the_format_has_a_number() -> None:
    assert states_number(("announcement", "delay"), {"value": 3})
    assert not states_number(("theaters",), {"value": {"initial": 5}})
    assert not states_number(("announcement", "delay"), {"probability": 0.5})
    assert Spec in types_at(("milestones", "choice", "delay"))


def test_deep_merge_merges_a_theater_called_value_key_by_key() -> None:
    base = {"theaters": {"value": {"name": "Iraq", "initial": 2500}, "syria": {"initial": 900}}}
    over = {"theaters": {"value": {"initial": 2000}}}
    assert deep_merge(base, over) == {
        "theaters": {"value": {"name": "Iraq", "initial": 2000}, "syria": {"initial": 900}}
    }


def test_a_milestone_called_level_leaves_a_milestone_called_reduce_by_in_place() -> None:
    base = {"milestones": {"level": {"slips": False}, "reduce_by": {"slips": False}}}
    merged = deep_merge(base, {"milestones": {"level": {"slips": True}}})
    assert merged == {"milestones": {"level": {"slips": True}, "reduce_by": {"slips": False}}}


def test_a_theater_called_sources_merges_as_a_theater() -> None:
    base = {"theaters": {"sources": {"name": "Syria", "initial": 900}}}
    merged = deep_merge(base, {"theaters": {"sources": {"initial": 800}}})
    assert merged == {"theaters": {"sources": {"name": "Syria", "initial": 800}}}


# ---------------------------------------------------------------- variants and extends


def test_a_variant_overrides_a_theater_called_value_and_a_milestone_called_choice(write):
    sc = sim.load_scenario(write(FORM_IDS))
    late = sc.resolved("late")
    assert late.theaters["value"].initial == 2000
    assert late.theaters["value"].name == "Iraq"
    assert late.milestones["choice"].deadline == "2025-11"
    assert late.milestones["choice"].theater == "value"


@pytest.mark.slow
def test_the_brief_scenario_runs_its_variant_from_the_command_line(write, tmp_path):
    out = tmp_path / "o2"
    result = invoke("run", str(write(FORM_IDS)), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    milestones = (out / "milestones.csv").read_text()
    assert "late,choice" in milestones and "2025-11" in milestones
    monthly = sim.load_run(out).monthly
    assert monthly[monthly.month.astype(str) == "2024-09"].troops.tolist() == [2000]


def test_every_kind_of_id_named_after_a_key_resolves_in_each_variant(key_ids):
    value, choice = key_ids.resolved("value"), key_ids.resolved("choice")
    assert value.theaters["value"].sites["uniform"].initial == 900
    assert value.theaters["value"].sites["choice"].initial.source == "choice"
    assert value.milestones["level"].target.reduce_by == 300
    assert choice.milestones["level"].target.level == 1000
    assert choice.milestones["level"].target.reduce_by is None
    # the milestone called reduce_by is a milestone, not a target's other form
    assert set(choice.milestones) == {"choice", "level", "reduce_by"}


def test_extends_of_a_file_with_such_ids_merges_each_entry_key_by_key(write):
    write(KEY_IDS, name="parent.yaml")
    child = write(
        "extends: parent.yaml\n"
        "id: child\n"
        "theaters:\n  value:\n    sites:\n      choice: {initial: 1600}\n"
        "milestones:\n  reduce_by: {deadline: {after: choice, months: 6}}\n"
        "sources:\n  - {id: value, title: 'First report, corrected'}\n"
        "variants:\n  value:\n    overrides:\n"
        "      theaters: {value: {sites: {uniform: {initial: 800}}}}\n",
        name="child.yaml",
    )
    sc = sim.load_scenario(child)
    erbil = sc.doc.theaters["value"].sites["choice"]
    assert (erbil.name, erbil.initial) == ("Erbil", 1600)
    assert sc.doc.theaters["value"].sites["uniform"].initial == Spec(value=1000, source="value")
    syria_out = sc.doc.milestones["reduce_by"]
    assert (syria_out.deadline.after, syria_out.deadline.months) == ("choice", 6)
    assert syria_out.target.level == 0
    assert [s.title for s in sc.doc.sources] == ["First report, corrected", "Second report"]
    value = sc.resolved("value")
    assert value.theaters["value"].sites["uniform"].initial == 800
    assert value.milestones["level"].target.reduce_by == 300  # the parent's override kept


# ---------------------------------------------------------------- settings and sweeps


def test_a_setting_changes_a_theater_called_value_in_every_variant(key_ids):
    changed = key_ids.with_settings({"theaters.sources.initial": 800})
    for name in ("value", "choice"):
        doc = changed.resolved(name)
        assert doc.theaters["sources"].initial == 800
        assert doc.theaters["value"].sites["uniform"].initial == (
            900 if name == "value" else Spec(value=1000, source="value")
        )


def test_a_setting_inside_a_choice_of_a_site_called_choice_keeps_its_values(key_ids):
    key = "theaters.value.sites.choice.initial.choice.weights"
    changed = key_ids.with_settings({key: [1, 3]})
    initial = changed.resolved("choice").theaters["value"].sites["choice"].initial
    assert initial.choice.values == [1400, 1600]
    assert initial.choice.weights == [1, 3]
    assert initial.source == "choice"


def test_a_setting_of_a_milestone_called_choice_changes_its_deadline(write):
    sc = sim.load_scenario(write(FORM_IDS))
    changed = sc.with_settings({"milestones.choice.deadline": "2025-10"})
    assert changed.resolved("late").milestones["choice"].deadline == "2025-10"
    assert changed.resolved("late").theaters["value"].initial == 2000


def test_a_setting_of_one_theater_leaves_the_others_on_their_sources(key_ids):
    changed = key_ids.with_settings({"theaters.value.sites.uniform.initial": 700})
    assert support_of(changed, "choice", "theaters.value.sites.uniform.initial") == (
        "assumption",
        "set for this run: theaters.value.sites.uniform.initial = 700",
    )
    assert support_of(changed, "choice", "theaters.sources.initial") == ("source", "value")
    assert support_of(changed, "choice", "theaters.value.sites.choice.initial") == (
        "source",
        "choice",
    )


def test_a_bad_setting_of_a_theater_called_value_is_located_on_the_command_line(write, tmp_path):
    out = tmp_path / "bad"
    result = invoke(
        "run", str(write(FORM_IDS)), "--set", "theaters.value.initial=-5", "--out", str(out)
    )
    assert result.exit_code == 2
    assert result.output.startswith(
        "forcesim: error: <command line>:1:1: theaters.value.initial: expected a level of 0 "
        "troops or more, found '-5'"
    )
    assert not out.exists()


def test_a_run_with_set_on_such_ids_records_what_its_numbers_rest_on(write, tmp_path):
    out = tmp_path / "set"
    args = ["--set", "theaters.value.initial=2100", "--set", "milestones.choice.deadline=2025-10"]
    result = invoke("run", str(write(FORM_IDS)), *args, "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    record = json.loads((out / "run.json").read_text())
    assumptions = record["provenance"]["assumptions"]
    assert assumptions["late:theaters.value.initial"] == (
        "set for this run: theaters.value.initial = 2100"
    )
    assert assumptions["late:milestones.choice.deadline"] == (
        'set for this run: milestones.choice.deadline = "2025-10"'
    )
    assert record["set"] == {
        "theaters.value.initial": 2100,
        "milestones.choice.deadline": "2025-10",
    }


def test_a_sweep_over_a_milestone_called_level_equals_each_setting_run_alone(key_ids):
    from sim.analysis.sweep import sweep

    key = "milestones.level.target.reduce_by"
    sw = sweep(key_ids, [(key, [200, 400])], ["value"])
    rows = sw.table[sw.table.outcome == "mean level value 2025-09"]
    assert rows[key].tolist() == [200, 400]
    for cut, swept in zip([200, 400], rows.value, strict=True):
        alone = sim.run(key_ids.with_settings({key: cut}), ["value"]).monthly
        level = alone[(alone.theater == "value") & (alone.month.astype(str) == "2025-09")]
        assert level.troops.tolist() == [swept]
    assert rows.value.iloc[0] > rows.value.iloc[1]  # a larger cut, fewer troops


# ---------------------------------------------------------------- sources and provenance


def test_sources_lists_each_number_of_such_ids_with_its_own_source(write):
    result = invoke("sources", str(write(KEY_IDS)))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "theaters.value.sites.uniform.initial = 1000\n    source value: First report" in text
    assert "theaters.value.sites.choice.initial = choice [1400, 1600]\n    source choice" in text
    assert "residuals.triangular.size = triangular [0, 200, 400]\n    assumption: guess" in text
    assert "variant choice changes:\n  milestones.level.target.level = 1000" in text


def test_a_number_a_variant_sets_under_such_ids_rests_on_the_variant(key_ids):
    assert support_of(key_ids, "value", "theaters.value.sites.uniform.initial") == (
        "variant",
        "variant value: Erbil shrinks less",
    )
    assert support_of(key_ids, "value", "theaters.sources.initial") == ("source", "value")
    assert support_of(key_ids, "choice", "milestones.reduce_by.target.level") == (
        "assumption",
        "guess",
    )


@pytest.mark.slow
def test_the_report_page_lists_the_numbers_of_such_ids_under_their_sources(write, tmp_path):
    pytest.importorskip("plotly")
    out = tmp_path / "page"
    result = invoke("run", str(write(KEY_IDS)), "--out", str(out), "--report", "-q")
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    assert 'id="source-value"' in page and 'id="source-choice"' in page
    assert "theaters.value.sites.uniform.initial" in page
    assert "theaters.sources.initial" in page


# ---------------------------------------------------------------- chart labels


def test_a_keys_unit_comes_from_its_place_not_from_the_ids_in_it(key_ids):
    from sim.plotting.labels import key_label, key_unit

    assert key_unit("milestones.end.deadline") == "month"
    assert key_unit("milestones.end") == ""  # a whole milestone: no unit, not a month
    assert key_unit("theaters.probability.initial") == "troops"
    assert key_unit("residuals.choice.size.choice.weights") == "weight"
    assert key_unit("milestones.value.delay.uniform") == "months"  # an execution delay
    assert key_label(key_ids.doc, "theaters.value.sites.uniform.initial") == (
        "Troops at Ain al-Asad (Iraq) at the start"
    )
    assert key_label(key_ids.doc, "milestones.level.target.reduce_by") == (
        "Troops leaving Erbil (Iraq) by level"
    )


@pytest.mark.slow
def test_a_variant_called_month_gets_its_column_in_the_pages_table_of_months(write, tmp_path):
    pytest.importorskip("plotly")
    doc = FORM_IDS.replace("  late:\n", "  month:\n")
    out = tmp_path / "page"
    result = invoke("run", str(write(doc)), "--out", str(out), "--report", "-q")
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text()
    head = '<thead><tr><th scope="col">month</th><th scope="col" class="num">month</th></tr>'
    assert head in page
    assert "<th scope='row'>2024-09</th><td>2,000</td>" in page
