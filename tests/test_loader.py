"""sim.loader: file → validated Scenario; every bad input is one located ScenarioError."""

from __future__ import annotations

import hashlib
import os
import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, MINIMAL_YAML, col_of, dump, line_of, located, make_doc

import sim
from sim.cli import main
from sim.errors import ScenarioError
from sim.loader import deep_merge
from sim.scenario import load_scenario


def bad(write, old: str, new: str, *, append: str = ""):
    """Write MINIMAL_YAML with ``old`` replaced by ``new``; return (path, text)."""
    assert old in MINIMAL_YAML
    text = MINIMAL_YAML.replace(old, new) + append
    return write(text), text


# ---------------------------------------------------------------- good input


def test_minimal_scenario_loads_with_its_base_as_the_only_variant(write):
    sc = load_scenario(write())
    assert sc.id == "mini"
    assert sc.variant_names == ["base"]
    assert sc.doc.theaters["alpha"].initial == 1000


def test_scenario_records_the_sha256_of_its_file(write):
    path = write()
    assert load_scenario(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_variant_overrides_deep_merge_onto_the_base_and_keep_the_rest(write):
    doc = make_doc(
        variants={
            "late": {
                "description": "six months late",
                "overrides": {
                    "announcement": {"delay": 1},
                    "milestones": {"alpha-out": {"slips": True}},
                },
            }
        }
    )
    sc = load_scenario(write(doc))
    late = sc.resolved("late")
    assert late.announcement.delay == 1
    assert late.announcement.expected == "2024-01"
    assert late.milestones["alpha-out"].slips is True
    assert late.milestones["alpha-out"].target.level == 0
    assert sc.doc.announcement.delay == 0  # the base is untouched


def test_null_in_a_variant_override_deletes_the_key(write):
    doc = make_doc(
        variants={
            "none": {
                "description": "no milestones",
                "overrides": {"milestones": {"alpha-out": None}},
            }
        }
    )
    assert load_scenario(write(doc)).resolved("none").milestones == {}


def test_deep_merge_replaces_a_stated_quantity_whole():
    # a residual's fields: its size is a number, so a mapping stating one replaces it
    base = {"size": {"uniform": [1, 9], "source": "s"}, "keep": 1}
    at = ("residuals", "r")
    assert deep_merge(base, {"size": {"value": 5}}, at=at) == {"size": {"value": 5}, "keep": 1}
    assert deep_merge(base, {"keep": None}, at=at) == {"size": {"uniform": [1, 9], "source": "s"}}
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_extends_puts_the_parent_under_the_child(write):
    write(MINIMAL_YAML, name="parent.yaml")
    child = write(
        "extends: parent.yaml\nid: child\ntheaters:\n  alpha:\n    initial: 2000\n",
        name="child.yaml",
    )
    sc = load_scenario(child)
    assert sc.id == "child"
    assert sc.doc.theaters["alpha"].initial == 2000
    assert sc.doc.milestones["alpha-out"].deadline == "2024-11"  # from the parent
    assert "extends" not in sc.raw


def test_a_linked_scenario_extends_and_observes_what_its_own_file_does(write, tmp_path):
    # a link to a scenario elsewhere read extends: relative to the link's folder, while a
    # link reached through extends: was read relative to its file: linking the vintages
    # into another folder broke every one of them with "no such file"
    home = tmp_path / "home"
    home.mkdir()
    (home / "parent.yaml").write_text(MINIMAL_YAML)
    (home / "record.csv").write_text(
        "date,theater,troops_low,troops_high,source,quote\n2024-03-01,alpha,900,900,,\n"
    )
    child = home / "child.yaml"
    child.write_text("extends: parent.yaml\nid: child\nobservations: record.csv\n")
    away = tmp_path / "away"
    away.mkdir()
    (away / "child.yaml").symlink_to(child)
    sc = load_scenario(away / "child.yaml")
    assert sc.id == "child" and sc.doc.theaters["alpha"].initial == 1000
    assert len(sc.observations().items) == 1


# ---------------------------------------------------------------- the file itself


def test_missing_file_is_reported_by_name_without_a_line(tmp_path):
    # a file that is not there has no line 1 to point at ("nowhere.yaml:1:1: (file): ...")
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value) == f"{path}: expected an existing scenario file, found no such file"


def test_a_directory_is_not_a_scenario_file(tmp_path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert str(caught.value) == f"{tmp_path}: expected a scenario file, found a directory"


def test_empty_file_is_reported(write):
    path = write("")
    with pytest.raises(
        ScenarioError, match=located(path, 1, 1, "(document)", "a YAML mapping", "an empty file")
    ):
        load_scenario(path)


def test_broken_yaml_is_reported_at_its_line(write):
    path, text = bad(write, "  alpha:\n    initial: 1000\n", "  alpha:\n    initial: {1000\n")
    with pytest.raises(
        ScenarioError, match=located(path, None, None, "(syntax)", "valid YAML")
    ) as exc:
        load_scenario(path)
    assert exc.value.line >= line_of(text, "initial: {1000")


def test_a_list_is_not_a_scenario(write):
    path = write("- id: mini\n- title: x\n")
    with pytest.raises(
        ScenarioError,
        match=located(path, 1, 1, "(document)", "a YAML mapping of scenario keys", "a list"),
    ):
        load_scenario(path)


def test_every_error_message_is_one_line(write):
    path, _ = bad(write, "initial: 1000", "initial: lots")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    assert "\n" not in str(exc.value)
    assert str(exc.value) == exc.value.one_line()


# ---------------------------------------------------------------- types and keys


def test_wrong_type_names_the_key_path_and_the_value_found(write):
    path, text = bad(write, "initial: 1000", "initial: lots")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "lots"),
            col_of(text, "lots"),
            "theaters.alpha.initial",
            "a number",
            "'lots'",
        ),
    ):
        load_scenario(path)


def test_a_list_where_a_mapping_belongs_is_a_wrong_type(write):
    path, text = bad(write, "  start: 2024-01\n  end: 2024-12\n", "  - 2024-01\n  - 2024-12\n")
    with pytest.raises(
        ScenarioError,
        match=located(path, line_of(text, "- 2024-01"), 3, "calendar", "a mapping", "a list"),
    ):
        load_scenario(path)


def test_a_string_where_true_or_false_belongs_is_a_wrong_type(write):
    path, text = bad(write, "      level: 0\n", "      level: 0\n    slips: sometimes\n")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "slips"),
            col_of(text, "sometimes"),
            "milestones.alpha-out.slips",
            "true or false",
            "'sometimes'",
        ),
    ):
        load_scenario(path)


def test_unknown_key_is_rejected_with_a_did_you_mean_suggestion(write):
    path, text = bad(write, "  start: 2024-01", "  strat: 2024-01")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "strat"),
            3,
            "calendar.strat",
            r"one of start, end \(did you mean "
            r"'start'\?\)",
            "unknown key 'strat'",
        ),
    ):
        load_scenario(path)


def test_unknown_top_level_key_suggests_the_closest_known_key(write):
    path, text = bad(
        write, "title: Minimal scenario\n", "title: Minimal scenario\ndescriptoin: x\n"
    )
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "descriptoin"),
            1,
            "descriptoin",
            r"did you mean 'description'\?",
            "unknown key 'descriptoin'",
        ),
    ):
        load_scenario(path)


def test_unknown_key_far_from_any_known_key_lists_the_allowed_ones_without_a_guess(write):
    path, _ = bad(write, "    initial: 1000\n", "    initial: 1000\n    zzzzzz: 1\n")
    with pytest.raises(
        ScenarioError,
        match="expected one of name, initial, unreported, sites, found unknown key 'zzzzzz'$",
    ):
        load_scenario(path)


def test_missing_required_key_is_named(write):
    path, _ = bad(write, "title: Minimal scenario\n", "")
    with pytest.raises(
        ScenarioError, match=located(path, 1, 1, "title", "the required key 'title'", "nothing")
    ):
        load_scenario(path)


def test_too_many_entries_are_counted_by_name_not_in_the_validators_words(write):
    doc = make_doc(theaters={f"t{i:02d}": {"initial": 10} for i in range(51)}, milestones={})
    path = write(doc)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert err.value.path == "theaters"
    assert "expected at most 50 theaters, found 51 theaters" in str(err.value)
    assert "validation" not in str(err.value)


def test_theater_without_initial_or_sites_is_rejected(write):
    path, text = bad(write, "    initial: 1000\n", "    name: Alpha\n")
    with pytest.raises(
        ScenarioError,
        match=located(
            path, line_of(text, "name: Alpha"), None, "theaters.alpha", "initial", "neither"
        ),
    ):
        load_scenario(path)


@pytest.mark.parametrize(
    "value, found", [(".nan", "'.nan'"), (".inf", "'.inf'"), ("-.inf", "'-.inf'")]
)
def test_nan_and_infinity_are_not_numbers_of_troops(write, value, found):
    path, text = bad(write, "initial: 1000", f"initial: {value}")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, value),
            col_of(text, value),
            "theaters.alpha.initial",
            "a finite number",
            found + "$",
        ),
    ):
        load_scenario(path)


def test_nan_inside_a_quantity_mapping_is_rejected(write):
    path, text = bad(write, "initial: 1000", "initial: {value: .nan}")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, ".nan"),
            col_of(text, ".nan"),
            "theaters.alpha.initial.value",
            "a finite number",
            "nan",
        ),
    ):
        load_scenario(path)


def test_month_2024_13_is_rejected(write):
    path, text = bad(write, "deadline: 2024-11", "deadline: 2024-13")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "2024-13"),
            col_of(text, "2024-13"),
            "milestones.alpha-out.deadline",
            "a month between 01 and 12",
            "'2024-13'",
        ),
    ):
        load_scenario(path)


@pytest.mark.parametrize("month", ["2024-9", "Sept 2024", "2024/09"])
def test_a_month_not_written_yyyy_mm_is_rejected(write, month):
    path, text = bad(write, "  end: 2024-12", f"  end: {month}")
    with pytest.raises(
        ScenarioError,
        match=located(path, line_of(text, "end:"), 8, "calendar.end", "a month as YYYY-MM"),
    ):
        load_scenario(path)


def test_calendar_ending_before_it_starts_is_rejected(write):
    path, text = bad(write, "  end: 2024-12", "  end: 2023-12")
    with pytest.raises(
        ScenarioError,
        match=located(
            path, line_of(text, "start:"), 3, "calendar", "end after start", "2024-01 to 2023-12"
        ),
    ):
        load_scenario(path)


def test_an_absurdly_long_horizon_is_rejected(write):
    path, text = bad(write, "  end: 2024-12", "  end: 2199-12")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "start:"),
            3,
            "calendar",
            "a horizon of at most 600 months",
            "2111 months",
        ),
    ):
        load_scenario(path)


def test_profile_must_be_one_of_the_known_shapes(write):
    path, text = bad(write, "      level: 0\n", "      level: 0\n    profile: zigzag\n")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "zigzag"),
            col_of(text, "zigzag"),
            "milestones.alpha-out.profile",
            "linear",
            "'zigzag'",
        ),
    ):
        load_scenario(path)


def test_target_needs_exactly_one_of_level_or_reduce_by(write):
    path, text = bad(write, "      level: 0\n", "      level: 0\n      reduce_by: 5\n")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "level: 0"),
            None,
            "milestones.alpha-out.target",
            "exactly one of level or reduce_by",
            "both",
        ),
    ):
        load_scenario(path)


# ---------------------------------------------------------------- variants


def with_variant(overrides_yaml: str) -> str:
    return (
        MINIMAL_YAML
        + "variants:\n  v1:\n    description: a reading\n    overrides:\n"
        + overrides_yaml
    )


def test_variant_override_with_a_bad_value_points_at_the_overrides_line(write):
    text = with_variant("      theaters:\n        alpha:\n          initial: many\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "initial: many"),
            col_of(text, "many"),
            "variants.v1.overrides.theaters.alpha.initial",
            "a number",
            "'many'",
        ),
    ):
        load_scenario(path)


def test_variant_override_breaking_a_rule_points_at_the_overrides_line(write):
    text = with_variant("      theaters:\n        alpha:\n          initial: -3\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "initial: -3"),
            col_of(text, "initial: -3") + 9,
            "variants.v1.overrides.theaters.alpha.initial",
            "a level of 0 troops or more",
            "-3",
        ),
    ):
        load_scenario(path)


def test_variant_override_with_an_unknown_key_points_at_that_key(write):
    text = with_variant("      announcement:\n        dealy: 3\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "dealy"),
            col_of(text, "dealy"),
            "variants.v1.overrides.announcement.dealy",
            r"did you mean 'delay'\?",
            "unknown key 'dealy'",
        ),
    ):
        load_scenario(path)


@pytest.mark.parametrize("key", ["id", "variants", "extends"])
def test_a_variant_may_not_override_id_variants_or_extends(write, key):
    text = with_variant(f"      {key}: other\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, f"{key}: other"),
            7,
            f"variants.v1.overrides.{key}",
            "overrides of scenario values",
            repr(key),
        ),
    ):
        load_scenario(path)


def test_variant_without_description_is_rejected(write):
    text = MINIMAL_YAML + "variants:\n  v1:\n    overrides: {}\n"
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path, line_of(text, "overrides"), None, "variants.v1.description", "required"
        ),
    ):
        load_scenario(path)


def test_unknown_variant_is_rejected_with_a_suggestion(write):
    text = with_variant("      announcement: {delay: 3}\n").replace("v1:", "late:")
    sc = load_scenario(write(text))
    with pytest.raises(
        ScenarioError,
        match=located(
            sc.path,
            line_of(text, "late:"),
            3,
            "variants",
            r"one of late \(did you mean 'late'\?\)",
            "unknown variant 'lte'",
        ),
    ):
        sim.run(sc, ["lte"])


def test_unknown_variant_of_a_scenario_without_variants_names_base(write):
    sc = load_scenario(write())
    with pytest.raises(
        ScenarioError,
        match=located(sc.path, None, None, "variants", "one of base", "unknown variant 'late'"),
    ):
        sc.select(["late"])


# ---------------------------------------------------------------- extends


def test_extends_cycle_is_rejected_where_it_closes(write):
    a = write("extends: b.yaml\nid: a\n", name="a.yaml")
    b = write("extends: a.yaml\nid: b\n", name="b.yaml")
    with pytest.raises(
        ScenarioError,
        match=located(b, 1, 10, "extends", "without a cycle", "'a.yaml', which extends back"),
    ):
        load_scenario(a)


def test_a_file_extending_itself_is_a_cycle(write):
    path = write("extends: self.yaml\nid: x\n", name="self.yaml")
    with pytest.raises(ScenarioError, match=located(path, 1, 10, "extends", "without a cycle")):
        load_scenario(path)


def test_extends_naming_a_missing_file_is_rejected(write):
    path = write("extends: ghost.yaml\nid: x\n")
    with pytest.raises(
        ScenarioError,
        match=located(path, 1, 10, "extends", "an existing scenario file", "'ghost.yaml'"),
    ):
        load_scenario(path)


def test_extends_naming_a_missing_file_says_it_is_read_from_the_files_own_folder(write, tmp_path):
    # a vintage copied to another folder still named its parent by its old neighbour's
    # name: "no such file" did not say where forcesim had looked
    path = write("extends: 2024-12-19-syria-count.yaml\nid: x\n", name="mine.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).endswith(
        "found '2024-12-19-syria-count.yaml' (no such file: extends is read from this "
        f"file's folder, {os.path.realpath(tmp_path)})"
    )


def test_extends_naming_a_broken_link_or_a_loop_of_links_says_so(write, tmp_path):
    # extends: to a loop of links was an internal error (RuntimeError: Symlink loop), and
    # to a broken link read "no such file" of a name that ls shows
    (tmp_path / "gone.yaml").symlink_to("nowhere.yaml")
    (tmp_path / "chain.yaml").symlink_to("gone.yaml")
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    cases = {
        "gone.yaml": "a symbolic link to 'nowhere.yaml', which does not exist",
        "chain.yaml": "a symbolic link to 'gone.yaml', which leads to",
        "loop.yaml": "a symbolic link to 'loop.yaml', in a loop of links",
    }
    for name, found in cases.items():
        path = write(f"extends: {name}\nid: x\n", name=f"child-{name}")
        with pytest.raises(
            ScenarioError,
            match=located(
                path, 1, 10, "extends", "an existing scenario", re.escape(f"'{name}' ({found}")
            ),
        ):
            load_scenario(path)


def test_a_path_too_long_for_the_system_is_refused_at_its_key_and_list_goes_on(write, tmp_path):
    # extends: or observations: of a name over 255 bytes gave "FILE: expected a path
    # the system takes" without the scenario's line or key, and forcesim list stopped
    name = "b" * 256 + ".yaml"
    child = write(f"extends: {name}\nid: x\n", name="long.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    message = str(caught.value)
    assert message.startswith(f"{child}:1:10: extends: expected an existing scenario file, found ")
    assert message.endswith(
        f"'{'b' * 60}'… (261 characters) (a name too long for the system: at most 255 bytes "
        "a name, 4,096 the whole path)"
    )
    observed = MINIMAL_YAML + f"observations: {'c' * 300}.csv\n"
    path = write(observed, name="observed.yaml")
    with pytest.raises(ScenarioError, match="observations: expected the path of an obs.*too long"):
        load_scenario(path)
    write(MINIMAL_YAML, name="fine.yaml")
    result = CliRunner().invoke(main, ["list", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "long.yaml  (invalid: " in result.output and "mini: Minimal scenario" in result.output


def test_extends_must_be_a_path(write):
    path = write("extends: 5\nid: x\n")
    with pytest.raises(ScenarioError, match=located(path, 1, 10, "extends", "a path", "5")):
        load_scenario(path)


def test_a_bad_value_in_the_parent_is_reported_in_the_parent_file(write):
    parent_text = MINIMAL_YAML.replace("initial: 1000", "initial: -1")
    parent = write(parent_text, name="parent.yaml")
    child = write("extends: parent.yaml\nid: child\n", name="child.yaml")
    with pytest.raises(
        ScenarioError,
        match=located(
            parent,
            line_of(parent_text, "initial: -1"),
            col_of(parent_text, "initial: -1") + 9,
            "theaters.alpha.initial",
            "0 troops or more",
            "-1",
        ),
    ):
        load_scenario(child)


def test_a_bad_value_in_the_child_is_reported_in_the_child_file(write):
    write(MINIMAL_YAML, name="parent.yaml")
    child_text = "extends: parent.yaml\nid: child\ntheaters:\n  alpha:\n    initial: plenty\n"
    child = write(child_text, name="child.yaml")
    with pytest.raises(
        ScenarioError, match=located(child, 5, 14, "theaters.alpha.initial", "a number", "'plenty'")
    ):
        load_scenario(child)


def test_a_bad_value_set_in_code_is_located_at_overrides(write):
    sc = load_scenario(write())
    with pytest.raises(
        ScenarioError, match=located("<overrides>", 1, 1, "announcement.delay", found="'soon'")
    ):
        sc.with_overrides({"announcement": {"delay": "soon"}})


def test_dump_of_the_minimal_doc_round_trips_through_the_loader(write):
    sc = load_scenario(write(dump(make_doc())))
    assert sc.doc == load_scenario(write(MINIMAL_YAML, name="again.yaml")).doc


@pytest.mark.parametrize(
    "text", ["1e3", "1E3", "+1e3", ".5e1", "0o17", "0x1f", "true", "null", ".inf"]
)
def test_text_that_looks_like_a_number_is_quoted_by_to_yaml_and_reads_back_as_text(write, text):
    # forcesim show wrote title: 1e3 plain, which forcesim then read as a number and refused
    assert "title: Minimal scenario\n" in MINIMAL_YAML
    quoted = MINIMAL_YAML.replace("title: Minimal scenario\n", f'title: "{text}"\n')
    quoted += f'sources:\n  - {{id: s1, title: "{text}", seed: "{text}"}}\n'
    sc = load_scenario(write(quoted))
    again = load_scenario(write(sc.to_yaml(), name="shown.yaml"))
    assert again.doc.title == text and again.doc.sources[0].title == text
    assert again.to_yaml() == sc.to_yaml()


# ---------------------------------------------------------------- vintages built by extends

PARENT_WITH_SOURCES = (
    MINIMAL_YAML
    + """\
sources:
  - id: first
    title: The first report
  - id: second
    title: The second report
"""
)


def test_sources_merge_by_id_across_extends_and_variants(write):
    write(PARENT_WITH_SOURCES, name="parent.yaml")
    child = write(
        """\
extends: parent.yaml
sources:
  - id: second
    title: The second report, corrected
  - id: third
    title: A later report
variants:
  later:
    description: with one more source
    overrides:
      sources:
        - id: fourth
          title: The latest report
""",
        name="child.yaml",
    )
    sc = sim.load_scenario(child)
    assert [(s.id, s.title) for s in sc.doc.sources] == [
        ("first", "The first report"),
        ("second", "The second report, corrected"),
        ("third", "A later report"),
    ]
    assert [s.id for s in sc.resolved("later").sources] == ["first", "second", "third", "fourth"]


@pytest.mark.parametrize(
    ("entries", "said"),
    [
        # merged by id, the first of the two was lost without a word (validate said ok)
        ("[{id: third, title: A}, {id: third, title: B}]", "found a second 'third'"),
        ("[{id: second, title: A}, {id: second, title: B}]", "found a second 'second'"),
        # merged by id, the list was hashed: "internal error: TypeError: unhashable type"
        ("[{id: [a], title: T}]", "sources[0].id: expected text, found a list"),
    ],
)
@pytest.mark.parametrize("route", ["extends", "overrides", "--set"])
def test_source_ids_that_cannot_merge_by_id_are_refused_in_one_line_as_in_one_file(
    write, route, entries, said
):
    write(PARENT_WITH_SOURCES, name="parent.yaml")
    if route == "extends":
        path, extra = write(f"extends: parent.yaml\nsources: {entries}\n", name="c.yaml"), []
    elif route == "overrides":
        text = f"variants:\n  v:\n    description: d\n    overrides:\n      sources: {entries}\n"
        path, extra = write(PARENT_WITH_SOURCES + text, name="c.yaml"), []
    else:
        path, extra = write(PARENT_WITH_SOURCES, name="c.yaml"), ["--set", f"sources={entries}"]
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(path.parent / "out"), *extra])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert said in result.stderr
    assert not (path.parent / "out").exists()


@pytest.mark.parametrize("where", ["extends", "overrides"])
@pytest.mark.parametrize(
    ("entries", "row", "found"),
    [
        (["{title: no id here}"], 0, "sources[0].id: expected the required key 'id'"),
        (["{id: first}"], 0, "sources[0].title: expected the required key 'title'"),
        # (a new entry: the merged list's third, its first: named as it numbers it)
        (["{id: third}"], 0, "sources[0].title: expected the required key 'title'"),
        (
            ["{id: third, title: T}", "{id: second, titel: oops}"],
            1,
            "sources[1].titel: expected one of",
        ),
    ],
)
def test_an_error_in_a_source_that_merges_is_placed_where_it_is_written(
    write, where, entries, row, found
):
    # in a file that extends another, or a variant's overrides, it was placed at the
    # parent's (the base's) entry of the same index, which had the key
    write(PARENT_WITH_SOURCES, name="parent.yaml")
    if where == "extends":
        head, indent, key = "extends: parent.yaml\nsources:", "  ", ""
    else:
        head = PARENT_WITH_SOURCES + "variants:\n  v:\n    description: d\n    overrides:\n"
        head, indent, key = head + "      sources:", "        ", "variants.v.overrides."
    path = write(head + "".join(f"\n{indent}- {e}" for e in entries) + "\n", name="c.yaml")
    line = head.count("\n") + 2 + row  # (the entries start on the line after sources:)
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(path)
    said = err.value.one_line()
    assert said.startswith(f"{path}:{line}:"), said
    assert key + found in said


@pytest.mark.parametrize("how", ["--set", "with_overrides"])
def test_a_value_set_for_a_variant_whose_overrides_hold_sources_is_placed_where_it_was_set(
    write, how
):
    # re-placing the variant's sources put these at the file's line, quoting its value
    text = "variants:\n  v:\n    description: d\n    overrides:\n"
    text += "      sources: [{id: third, title: T}]\n"
    path = write(PARENT_WITH_SOURCES + text)
    if how == "--set":
        args = ["run", str(path), "-o", str(path.parent / "o"), "--set", "theaters.alpha.initial=x"]
        said = CliRunner().invoke(main, args).stderr
        assert said.startswith("forcesim: error: <command line>:1:1: theaters.alpha.initial: ")
        # (a value the command line gives every variant: no variant is named for it)
        assert said.rstrip().endswith("found 'x'")
    else:
        with pytest.raises(ScenarioError) as err:
            sim.load_scenario(path).with_overrides(
                {"theaters": {"alpha": {"initial": -5}}}, variant="v"
            )
        assert err.value.one_line().startswith("<overrides>:1:1: theaters.alpha.initial: ")


def test_a_child_switches_a_target_between_level_and_reduce_by_without_null(write):
    write(MINIMAL_YAML, name="parent.yaml")
    child = write(
        "extends: parent.yaml\nmilestones:\n  alpha-out:\n    target:\n      reduce_by: 400\n",
        name="child.yaml",
    )
    target = sim.load_scenario(child).doc.milestones["alpha-out"].target
    assert target.reduce_by == 400 and target.level is None


def test_a_child_adds_a_milestone_before_an_inherited_one(write):
    write(MINIMAL_YAML, name="parent.yaml")  # alpha-out: 0 troops by 2024-11
    child = write(
        """\
extends: parent.yaml
milestones:
  alpha-first:
    theater: alpha
    deadline: 2024-04
    target:
      level: 600
""",
        name="child.yaml",
    )
    result = sim.run(sim.load_scenario(child))
    levels = result.monthly.set_index(result.monthly.month.astype(str)).troops
    assert levels["2024-04"] == 600  # the later milestone in the file comes first by date
    assert levels["2024-11"] == 0
    assert list(result.milestones.met) == [True, True]


def test_a_quoted_value_with_runs_of_spaces_is_quoted_with_every_space(tmp_path) -> None:
    # "as_of: '  2024-09-27'" was quoted as ' 2024-09-27': the two spaces made one
    text = MINIMAL_YAML.replace("as_of: 2024-01", "as_of: '  2024-09-27'")
    path = tmp_path / "spaces.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    assert str(info.value).endswith("found '  2024-09-27'")


def test_one_line_joins_lines_but_keeps_the_spaces_within_a_line() -> None:
    from sim.errors import one_line

    assert one_line("expected a,\n    found '  x'\r\n") == "expected a, found '  x'"


@pytest.mark.slow
def test_a_title_too_long_says_the_limit_in_words_and_quotes_only_its_start(write):
    # the line quoted all 900,000 characters, in pydantic's words ("expected string
    # should have at most 4000 characters")
    text = MINIMAL_YAML.replace("title: ", "title: " + "y" * 900_000, 1)
    path = write(text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    line = err.value.one_line()
    assert ": title: expected text of at most 200 characters, found 'yyy" in line
    title = yaml.safe_load(text)["title"]
    assert line.endswith(f"… ({len(title):,} characters)"), line  # (its own length)
    assert len(line) < 600


def test_a_lone_surrogate_in_text_is_named_in_plain_words(write):
    path = write(MINIMAL_YAML.replace("title: ", 'title: "\\ud800" #', 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "title: expected text (a lone surrogate, such as \\ud800, is no character)" in str(
        err.value
    )


def test_an_id_refused_for_its_first_character_is_told_the_rule_it_broke():
    # "-0" is made only of the characters the message listed
    sc = sim.load_scenario(sim.default_scenario())
    with pytest.raises(ScenarioError) as err:
        sc.with_overrides({"description": "x"}, variant="-0")
    assert (
        "expected an id of at most 64 lower-case letters, digits, - or _, starting with a "
        "letter or digit, found '-0'" in str(err.value)
    )


@pytest.mark.parametrize("source_id", ["new-one", "shafaq"])  # (added, or replacing)
def test_an_error_in_an_extending_files_source_names_it_as_that_file_numbers_it(
    tmp_path, source_id
):
    # its only source was named sources[29], its index after the parent's 29
    path = tmp_path / "child.yaml"
    path.write_text(
        f"extends: {DEFAULT_SCENARIO}\nsources:\n"
        f"  - {{id: {source_id}, title: t, date: 2024-13-01}}\n",
        encoding="utf-8",
    )
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    col = path.read_text().splitlines()[2].index("2024-13-01") + 1
    assert str(err.value) == (
        f"{path}:3:{col}: sources[0].date: expected a real calendar date, found '2024-13-01'"
    )


# ---------------------------------------------------------------- what a variant shares


def _refusal(write, src):
    """(path, message) of the ScenarioError that loading ``src`` written to a file gives."""
    path = write(src)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    return path, str(err.value)


@pytest.mark.parametrize(
    ("key", "text"),
    [("title", "Another title"), ("description", "Another story"), ("as_of", "2031-01-01")],
)
def test_a_variant_changing_the_scenarios_own_value_is_refused_at_its_key(write, key, text):
    # every chart, table and page reads these from the base: accepted, they were ignored
    src = MINIMAL_YAML + "variants:\n  later:\n    description: d\n    overrides:\n"
    src += f"      {key}: {text}\n"
    path, message = _refusal(write, src)
    assert re.fullmatch(
        located(
            path,
            line_of(src, f"{key}: {text}"),
            col_of(src, f"{key}: {text}"),
            f"variants.later.overrides.{key}",
            r"not title, description or as_of: they are the scenario's",
            f"the key '{key}'",
        ),
        message,
    )


def test_a_variant_renaming_a_theater_the_base_names_is_refused_quoting_the_name(write):
    src = MINIMAL_YAML.replace("  alpha:\n", "  alpha:\n    name: Alpha\n") + (
        "variants:\n  renamed:\n    description: d\n    overrides:\n"
        "      theaters: {alpha: {name: Alphaland}}\n"
    )
    path, message = _refusal(write, src)
    assert re.fullmatch(
        located(
            path,
            line_of(src, "Alphaland"),
            None,
            "variants.renamed.overrides.theaters.alpha.name",
            r"the name the base gives it \('Alpha'\)",
            "'Alphaland'",
        ),
        message,
    )


def test_a_variant_may_repeat_a_name_and_name_a_theater_it_adds(write):
    src = MINIMAL_YAML.replace("  alpha:\n", "  alpha:\n    name: Alpha\n") + (
        "variants:\n  more:\n    description: d\n    overrides:\n"
        "      theaters:\n        alpha: {name: Alpha}\n"
        "        beta: {name: Beta, initial: 100}\n"
    )
    sc = load_scenario(write(src))
    assert sc.resolved("more").theaters["beta"].name == "Beta"


def test_set_of_the_scenarios_title_is_refused_before_any_output(tmp_path):
    from click.testing import CliRunner

    from sim.cli import main

    out = tmp_path / "out"
    got = CliRunner().invoke(
        main, ["run", str(DEFAULT_SCENARIO), "--set", "title=Hello", "--out", str(out)]
    )
    assert got.exit_code == 2
    assert (
        got.output.strip()
        .splitlines()[-1]
        .startswith(
            "forcesim: error: <command line>:1:1: title: expected a value a variant may change"
        )
    )
    assert "found the key 'title'" in got.output
    assert not out.exists()


def test_set_of_the_title_of_a_scenario_without_variants_changes_its_title(write):
    sc = load_scenario(write()).with_settings({"title": "Renamed"})
    assert sc.title == "Renamed"


SOURCED = {"sources": [{"id": "rep", "title": "A report", "url": "https://example.org/r"}]}


def test_an_empty_sources_list_in_a_variant_is_refused_at_its_key(write):
    doc = make_doc(
        **SOURCED,
        variants={"v": {"description": "v", "overrides": {"sources": []}}},
    )
    path = write(doc)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    got = err.value
    assert got.path == "variants.v.overrides.sources"
    text = path.read_text()
    assert got.line == line_of(text, "sources: []")
    assert got.col == col_of(text, "[]")
    assert got.found == "[] (an empty list)"
    assert "an empty list removes none" in got.expected


def test_an_empty_sources_list_in_a_file_that_extends_is_refused(write):
    write(make_doc(**SOURCED), name="base.yaml")
    child = write("extends: base.yaml\nid: child\nsources: []\n", name="child.yaml")
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    assert (err.value.file, err.value.line, err.value.path) == (str(child), 3, "sources")


def test_set_of_an_empty_sources_list_is_refused_and_a_new_source_is_added(write):
    sc = load_scenario(write(make_doc(**SOURCED)))
    with pytest.raises(ScenarioError) as err:
        sc.with_settings({"sources": []})
    assert (err.value.file, err.value.path) == ("<overrides>", "sources")
    more = sc.with_settings(
        {"sources": [{"id": "new", "title": "Another", "url": "https://e.org"}]}
    )
    assert [s.id for s in more.doc.sources] == ["rep", "new"]


def test_an_empty_sources_list_where_the_base_has_none_is_accepted(write):
    write(make_doc(), name="base.yaml")
    child = write("extends: base.yaml\nid: child\nsources: []\n", name="child.yaml")
    assert load_scenario(child).doc.sources == []


def test_a_bad_id_is_placed_at_its_key_and_quoted_as_written(write):
    doc = make_doc(theaters={"alpha": {"initial": 1000}, "Big Base": {"initial": 7}})
    path = write(doc)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = path.read_text()
    assert (err.value.line, err.value.col) == (line_of(text, "Big Base"), col_of(text, "Big Base"))
    assert err.value.path == "theaters.Big Base"
    assert err.value.found == "'Big Base'"


def test_an_unknown_theater_among_many_lists_twenty_and_suggests_the_nearest(write):
    # a scenario of 1,000 sites gave a 10 KB line listing every one of them
    theaters = {f"t{i:03d}": {"initial": 10} for i in range(45)}
    milestones = {"m": {"theater": "t0500", "deadline": "2024-11", "target": {"level": 0}}}
    path = write(make_doc(theaters=theaters, milestones=milestones))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    expected = err.value.expected
    assert expected.startswith("one of t000, t001, ") and "t019 (and 25 more)" in expected
    assert "t020" not in expected and "(did you mean 't0" in expected
    assert len(str(err.value)) < 400


@pytest.mark.parametrize(
    ("initial", "found"),
    [
        ("{value: null}", "value with no number (null)"),
        ("{value: ~}", "value with no number (null)"),
        ("{value: }", "value with no number (null)"),
        ("{source: x}", "none of them"),
        ("{value: 1, uniform: [1, 2]}", "value and uniform"),
    ],
)
def test_a_quantity_without_one_form_names_a_form_written_with_no_number(write, initial, found):
    # `value: null` read as "found none of them", as if no value had been written
    path = write(MINIMAL_YAML.replace("initial: 1000", f"initial: {initial}"))
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert error.value.path == "theaters.alpha.initial"
    assert error.value.found == found


def test_a_theater_deleted_by_an_extending_file_names_that_file_where_a_milestone_still_uses_it(
    write,
):
    # the parent's milestone was blamed ("unknown theater 'alpha'") and the file that
    # deleted the theater was not named
    write(
        MINIMAL_YAML.replace("theaters:\n", "theaters:\n  beta:\n    initial: 5\n"), name="p.yaml"
    )
    child = write("extends: p.yaml\ntheaters:\n  alpha: null\n", name="child.yaml")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(child)
    line = err.value.one_line()
    assert "milestones.alpha-out.theater: expected one of beta" in line
    assert line.endswith(f"found unknown theater 'alpha' (theaters.alpha is deleted at {child}:3)")


def test_a_reports_tolerance_given_as_a_number_that_is_no_finite_number_is_told_so(write):
    # ".inf" was told to be text in quotes, and ".inf" in quotes was then refused as no
    # tolerance: a number given is judged as a number
    text = MINIMAL_YAML + (
        "observations:\n"
        "  - {date: 2024-03, theater: alpha, troops_low: 700, troops_high: 900, tolerance: .inf}\n"
    )
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(write(text))
    line = err.value.one_line()
    assert line.endswith("observations[0].tolerance: expected a finite number, found '.inf'")
    # anything else is told it may be text or a number, and not to quote it
    for value, found in (("true", "'true'"), ("[5]", "a list")):
        with pytest.raises(ScenarioError) as err:
            sim.load_scenario(write(text.replace("tolerance: .inf", f"tolerance: {value}")))
        assert err.value.one_line().endswith(f"tolerance: expected text or a number, found {found}")


def test_a_theater_deleted_by_a_setting_is_named_as_deleted_on_the_command_line(write, tmp_path):
    # the note named the file that defines the theater (its "initial" line) as the one
    # that deleted it
    parent = write(MINIMAL_YAML.replace("theaters:\n", "theaters:\n  beta:\n    initial: 5\n"))
    args = ["run", str(parent), "--set", "theaters.alpha=null", "--out", str(tmp_path / "o")]
    said = CliRunner().invoke(main, args).stderr
    assert said.rstrip().endswith(
        "found unknown theater 'alpha' (theaters.alpha is deleted at <command line>:1)"
    )
    # an entry written as a mapping is not read as deleted, and an empty value is
    child = write("extends: scenario.yaml\ntheaters:\n  alpha:\n", name="child.yaml")
    with pytest.raises(ScenarioError) as err:
        sim.load_scenario(child)
    assert err.value.one_line().endswith(f"(theaters.alpha is deleted at {child}:3)")


@pytest.mark.parametrize(
    ("child", "where"),
    [
        ("milestones: {}\n", "2:13: milestones"),
        ("theaters: {alpha: {}}\n", "2:19: theaters.alpha"),
        ("calendar: {}\n", "2:11: calendar"),
    ],
)
def test_an_empty_mapping_an_extending_file_merges_into_one_it_inherits_is_refused(
    tmp_path, child: str, where: str
) -> None:
    # --set milestones={} was refused as setting nothing; the same {} in a child file ran
    from conftest import MINIMAL_YAML

    (tmp_path / "base.yaml").write_text(MINIMAL_YAML, encoding="utf-8")
    path = tmp_path / "child.yaml"
    path.write_text("extends: base.yaml\n" + child, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert err.value.one_line() == (
        f"{path}:{where}: expected a value that changes something (a mapping merges key by "
        "key, so {} sets nothing; null deletes the key), found {}"
    )


def test_an_empty_mapping_in_a_variants_overrides_is_refused_but_one_its_nulls_empty_is_not(
    tmp_path,
) -> None:
    from conftest import MINIMAL_YAML

    path = tmp_path / "v.yaml"
    path.write_text(
        MINIMAL_YAML
        + "variants:\n  a:\n    description: a\n    overrides:\n      milestones: {}\n",
        encoding="utf-8",
    )
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert err.value.one_line().startswith(
        f"{path}:22:19: variants.a.overrides.milestones: expected a value that changes something"
    )
    # the sites scenario's as-reported deletes its parent's overrides with nulls: kept
    from conftest import SCENARIOS_DIR

    assert "as-reported" in sim.load_scenario(SCENARIOS_DIR / "iraq-sites-2024.yaml").select(None)


def test_a_csv_file_read_as_a_scenario_is_named_a_record_of_reports_checked_by_observed(
    tmp_path,
) -> None:
    # a reporter ran forcesim validate on the record of reports and read "expected a YAML
    # mapping of scenario keys" as a fault in the record
    record = tmp_path / "news.csv"
    record.write_text("date,theater,troops_low\n2026-12-01,syria,1000\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(record)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.rstrip().endswith(
        "(a .csv file: scenarios are YAML; a record of reports is checked by forcesim run "
        "SCENARIO --observed FILE)"
    )
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("date,theater,troops_low\n", encoding="utf-8")
    assert ".csv file" not in CliRunner().invoke(main, ["validate", str(scenario)]).output


@pytest.mark.parametrize("space", ["\u00a0", "\u2009"], ids=["no-break", "thin"])
def test_a_number_ending_in_a_no_break_or_thin_space_is_quoted_with_it(
    write, space: str, tmp_path
) -> None:
    # "expected a number, found '2500'": the space was trimmed from the quote, so a
    # valid-looking number seemed refused
    text = MINIMAL_YAML.replace("initial: 1000", f"initial: 1000{space}")
    assert text != MINIMAL_YAML
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(text))
    assert str(caught.value).endswith(f", found {('1000' + space)!r}")
    assert ascii(space)[1:-1] in str(caught.value)  # (escaped: \\xa0, \\u2009)
    result = CliRunner().invoke(
        main, ["run", str(write(MINIMAL_YAML)), "--set", f"theaters.alpha.initial=1000{space}",
               "-o", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert f"found {('1000' + space)!r}" in result.output


@pytest.mark.parametrize(
    ("message", "line"),
    [
        ("abc\n\u00a0", "abc \u00a0"),  # (a no-break space after a break is written)
        ("abc \u00a0\n", "abc \u00a0"),
        ("a\x1cb\x1d", "a b"),  # (breaks to str.splitlines: joined, and trimmed at the ends)
        ("v\u2028w\r\n", "v w"),
    ],
)
def test_a_message_is_made_one_line_at_every_break_and_keeps_other_spaces(
    message: str, line: str
) -> None:
    from sim.errors import one_line

    assert one_line(message) == line
    assert len(one_line(message).splitlines()) == 1
