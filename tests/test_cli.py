"""The forcesim command line, through click's CliRunner: files, columns, exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, MINIMAL_YAML, SCENARIOS_DIR

import sim
from sim.cli import main
from sim.export.records import base_record, resolved_variant

MONTHLY_HEADER = ["scenario", "variant", "theater", "month", "troops", "official"]
MILESTONES_HEADER = [
    "scenario",
    "variant",
    "milestone",
    "theater",
    "deadline",
    "target",
    "month_reached",
    "met",
]
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

WITH_VARIANTS = (
    MINIMAL_YAML
    + """\
variants:
  on-time:
    description: announced on time
    overrides: {}
  late:
    description: announced three months late
    overrides:
      announcement: {delay: 3}
"""
)


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One run of the default scenario, shared by the tests that read its files."""
    out = tmp_path_factory.mktemp("cli") / "run"
    result = invoke("run", str(DEFAULT_SCENARIO), "--out", str(out))
    assert result.exit_code == 0, result.output
    return result, out


# ---------------------------------------------------------------- run


@pytest.mark.slow
def test_run_writes_the_four_contract_files(default_run):
    _, out = default_run
    names = {p.name for p in out.iterdir()}
    assert {"monthly.csv", "milestones.csv", "envelope.png", "run.json"} <= names


def test_monthly_csv_has_one_row_per_variant_theater_and_month(default_run):
    _, out = default_run
    header, rows = read_csv(out / "monthly.csv")
    assert header == MONTHLY_HEADER
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    plan = sc.plan(sc.variant_names[0])
    totals = [r for r in rows if "/" not in r["theater"]]
    assert len(totals) == len(sc.variant_names) * len(plan.theaters) * plan.n_months
    assert {r["variant"] for r in rows} == set(sc.variant_names)
    assert {r["scenario"] for r in rows} == {sc.id}
    assert {r["theater"] for r in totals} == set(plan.theaters)
    assert all(MONTH.match(r["month"]) for r in rows)
    assert all(r["troops"].isdigit() for r in rows)  # whole troops, never negative
    first = [r for r in totals if r["month"] == plan.months[0]]
    # the official figures as reported; Syria's whole force adds the central 600 left out
    assert {(r["theater"], int(r["official"])) for r in first} == {("iraq", 2500), ("syria", 900)}
    assert {(r["theater"], int(r["troops"])) for r in first} == {("iraq", 2500), ("syria", 1500)}


def test_milestones_csv_has_one_row_per_variant_and_milestone(default_run):
    _, out = default_run
    header, rows = read_csv(out / "milestones.csv")
    assert header == MILESTONES_HEADER
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    expected = sum(len(sc.resolved(v).milestones) for v in sc.variant_names)
    assert len(rows) == expected
    for r in rows:
        assert MONTH.match(r["deadline"]) and MONTH.match(r["month_reached"])
        assert r["met"] in ("true", "false")
        assert r["target"].isdigit()
        assert (r["met"] == "true") == (r["month_reached"] <= r["deadline"])


def test_envelope_png_is_at_least_1600_by_1000_pixels(default_run):
    _, out = default_run
    width, height = png_size(out / "envelope.png")
    assert width >= 1600 and height >= 1000


def test_run_json_records_the_resolved_scenario_version_command_hash_and_time(default_run):
    _, out = default_run
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["forcesim_version"] == sim.__version__
    assert isinstance(record["command"], list) and record["command"][0] == "forcesim"
    assert record["input"]["sha256"] == hashlib.sha256(DEFAULT_SCENARIO.read_bytes()).hexdigest()
    when = dt.datetime.fromisoformat(record["time"])
    assert when.tzinfo is not None
    assert abs(dt.datetime.now(dt.UTC) - when) < dt.timedelta(hours=1)
    resolved = record["resolved"]
    assert resolved["base"]["id"] == "iraq-syria-2024"
    assert "extends" not in resolved["base"]
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    assert set(resolved["variant_patches"]) == set(sc.variant_names)
    for name in sc.variant_names:  # each variant with its overrides applied
        assert resolved_variant(record, name) == sc.resolved_raw(name)


@pytest.mark.slow
def test_run_json_holds_each_variant_as_a_patch_of_the_base_not_a_copy_of_it(tmp_path):
    # every variant was written whole: run.json grew with the scenario's size times its
    # variants (2.07 MB for the default scenario with 100 variants, 87 MB from a 954 kB one)
    doc = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    for i in range(100 - len(doc["variants"])):
        doc["variants"][f"delay-{i:02d}"] = {
            "description": f"Announcement slips {i % 24} to {i % 24 + 3} months",
            "overrides": {"announcement": {"delay": {"uniform": [i % 24, i % 24 + 3]}}},
        }
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    sc = sim.load_scenario(path)
    record = json.loads(json.dumps(base_record(sc, sc.variant_names, ["forcesim"])))
    base_bytes = len(json.dumps(record["resolved"]["base"]))
    assert len(json.dumps(record["resolved"])) < 2 * base_bytes
    # (the library's versions list the same operations in different orders)
    assert sorted(record["resolved"]["variant_patches"]["delay-07"], key=lambda op: op["path"]) == [
        {"op": "remove", "path": "/announcement/delay/assumption"},
        {"op": "remove", "path": "/announcement/delay/choice"},
        {"op": "add", "path": "/announcement/delay/uniform", "value": [7, 10]},
        {"op": "remove", "path": "/variants"},
    ]
    for name in sc.variant_names:  # nothing of what each variant ran with is lost
        assert resolved_variant(record, name) == sc.resolved_raw(name)


def test_run_prints_a_table_of_variants_and_milestones_met_or_missed(default_run):
    result, out = default_run
    text = result.stdout
    for name in sim.load_scenario(DEFAULT_SCENARIO).variant_names:
        assert re.search(rf"^{re.escape(name)}\s", text, re.M), name
    assert "2025-09" in text and "2026-12" in text
    assert re.search(r"\b(met|MISSED)\b", text)
    assert str(out) in text


@pytest.mark.slow
def test_run_of_selected_variants_writes_only_those(write, tmp_path):
    path = write(WITH_VARIANTS)
    out = tmp_path / "out"
    result = invoke("run", str(path), "--variant", "late", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    _, rows = read_csv(out / "monthly.csv")
    assert {r["variant"] for r in rows} == {"late"}
    assert [int(r["troops"]) for r in rows][:4] == [1000, 1000, 1000, 875]


@pytest.mark.slow
def test_run_without_a_scenario_runs_the_default_into_out_slash_its_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", "--quiet")
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "iraq-syria-2024"
    assert (out / "monthly.csv").is_file() and (out / "envelope.png").is_file()


def test_a_new_run_replaces_the_previous_run_directory_whole(write, tmp_path):
    from sim.io.files import atomic_directory, write_record

    out = tmp_path / "out"
    with atomic_directory(out) as tmp:  # an older run wrote this directory
        (tmp / "stale.txt").write_text("from an older run")
        write_record(tmp, {})
    result = invoke("run", str(write(WITH_VARIANTS)), "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    assert not (out / "stale.txt").exists()
    assert (out / "monthly.csv").is_file()


# ---------------------------------------------------------------- bad input


BAD_INPUTS = {
    "broken-yaml": MINIMAL_YAML.replace("  end: 2024-12", "  end: [2024-12"),
    "not-a-mapping": "- a\n- b\n",
    "wrong-type": MINIMAL_YAML.replace("initial: 1000", "initial: lots"),
    "unknown-key": MINIMAL_YAML.replace("  start:", "  strat:"),
    "negative-level": MINIMAL_YAML.replace("initial: 1000", "initial: -1"),
    "deadline-before-start": MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2023-11"),
    "reduction-too-large": MINIMAL_YAML.replace("level: 0", "reduce_by: 5000"),
    "object-tag": MINIMAL_YAML + "x: !!python/object/apply:os.system ['true']\n",
    "alias-bomb": "id: x\na: &a [1, 2]\nb: [*a, *a]\n",
    "duplicate-key": MINIMAL_YAML + "id: again\n",
    "month-13": MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2024-13"),
    "nan": MINIMAL_YAML.replace("initial: 1000", "initial: .nan"),
    "empty": "",
    "tab": MINIMAL_YAML.replace("  alpha:", "\talpha:"),
    "deep-nesting": "id: x\nz: " + "[" * 3000 + "]" * 3000 + "\n",
    "non-utf8": b"id: x\ntitle: caf\xe9\n",
    "nul-byte": b"id: x\x00\n",
}


def assert_one_line_error(result, mentions: str = "") -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    err = result.stderr
    assert err.startswith("forcesim: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in result.output
    assert mentions in err
    return err


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_is_one_line_on_stderr_exit_2_and_nothing_written(write, tmp_path, name):
    path = write(BAD_INPUTS[name], name=f"{name}.yaml")
    out = tmp_path / "out"
    result = invoke("run", str(path), "--out", str(out))
    err = assert_one_line_error(result, mentions=str(path))
    assert re.match(
        rf"^forcesim: error: {re.escape(str(path))}:\d+:\d+: \S.*: expected .*, found ", err
    ), err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.yaml"]  # no temporary leftovers


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wrong-type", "alias-bomb", "unknown-variant"])
def test_bad_input_leaves_a_previous_run_directory_untouched(write, tmp_path, name):
    out = tmp_path / "out"
    good = invoke("run", str(write(WITH_VARIANTS, name="good.yaml")), "--out", str(out), "-q")
    assert good.exit_code == 0, good.output
    before = snapshot(out)
    if name == "unknown-variant":
        args = ["run", str(write(WITH_VARIANTS, name="good.yaml")), "--variant", "lat"]
    else:
        args = ["run", str(write(BAD_INPUTS[name], name="bad.yaml"))]
    result = invoke(*args, "--out", str(out))
    assert_one_line_error(result)
    assert snapshot(out) == before


def test_missing_scenario_file_is_exit_2_with_one_line(tmp_path):
    out = tmp_path / "out"
    result = invoke("run", str(tmp_path / "missing.yaml"), "--out", str(out))
    assert_one_line_error(result, "expected an existing scenario file, found no such file")
    assert not out.exists()


@pytest.mark.parametrize("option", ["", "--observed"])
def test_a_broken_symbolic_link_is_named_as_a_link_not_as_no_such_file(tmp_path, option):
    # "no such file" of a file the user can see in ls sent them looking in the wrong place
    link = tmp_path / "latest.yaml"
    link.symlink_to(tmp_path / "gone" / "scenario.yaml")
    out = tmp_path / "out"
    args = ["run", str(DEFAULT_SCENARIO), option, str(link)] if option else ["run", str(link)]
    result = invoke(*args, "--out", str(out))
    target = str(tmp_path / "gone" / "scenario.yaml")
    assert_one_line_error(result, f"found a symbolic link to {target!r}, which does not exist")
    assert not out.exists()


@pytest.mark.parametrize("command", ["report", "plot", "list"])
def test_a_run_directory_given_as_a_broken_link_or_a_loop_of_links_is_named_so(tmp_path, command):
    # "no such directory" of a name ls shows sent the reader looking in the wrong place
    (tmp_path / "latest").symlink_to("run-2024-09")
    (tmp_path / "loop").symlink_to("loop")
    gone = invoke(command, str(tmp_path / "latest"))
    assert_one_line_error(gone, "found a symbolic link to 'run-2024-09', which does not exist")
    loop = invoke(command, str(tmp_path / "loop"))
    assert_one_line_error(loop, "found a symbolic link to 'loop', in a loop of links")
    plain = invoke(command, str(tmp_path / "none"))
    assert_one_line_error(plain, "found no such directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "loop"]


def test_a_link_to_a_broken_link_or_in_a_loop_is_named_for_what_it_is(tmp_path):
    # "a link to 'b.yaml', which does not exist" of a b.yaml that ls shows (itself a
    # broken link), or of the link itself (a loop), sent the reader the wrong way
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("gone.yaml")
    (tmp_path / "loop.yaml").symlink_to("loop.yaml")
    out = tmp_path / "out"
    chain = invoke("run", str(tmp_path / "a.yaml"), "--out", str(out))
    gone = str(tmp_path / "gone.yaml")
    want = f"found a symbolic link to 'b.yaml', which leads to {gone!r}, which does not exist"
    assert_one_line_error(chain, want)
    loop = invoke("run", str(tmp_path / "loop.yaml"), "--out", str(out))
    assert_one_line_error(loop, "found a symbolic link to 'loop.yaml', in a loop of links")
    assert not out.exists()


def test_a_directory_given_as_the_scenario_is_exit_2_with_one_line(tmp_path):
    out = tmp_path / "out"
    result = invoke("run", str(tmp_path), "--out", str(out))
    assert_one_line_error(result, "found a directory")
    assert not out.exists()


def test_unknown_variant_is_exit_2_with_a_suggestion_and_nothing_written(write, tmp_path):
    out = tmp_path / "out"
    result = invoke("run", str(write(WITH_VARIANTS)), "--variant", "lat", "--out", str(out))
    assert_one_line_error(result, "unknown variant 'lat'")
    assert "did you mean 'late'?" in result.stderr
    assert not out.exists()


# ---------------------------------------------------------------- validate, list, show, plot


def test_validate_exits_0_when_every_file_is_valid(write):
    result = invoke("validate", str(DEFAULT_SCENARIO), str(write()))
    assert result.exit_code == 0, result.output
    assert result.stdout.count(": ok (") == 2
    assert "8 variants)" in result.stdout and "1 variant)" in result.stdout  # (the minimal one)


def test_validate_exits_2_and_names_each_bad_file(write):
    good = write(name="good.yaml")
    bad = write(BAD_INPUTS["negative-level"], name="bad.yaml")
    result = invoke("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"{good}: ok" in result.stdout
    assert result.stderr.startswith(f"forcesim: error: {bad}:")
    assert "Traceback" not in result.output


def test_list_shows_the_shipped_scenarios_with_titles_and_variants():
    result = invoke("list")
    assert result.exit_code == 0, result.output
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    assert f"{sc.id}: {sc.title}" in result.stdout
    for name in sc.variant_names:
        assert name in result.stdout
    for path in SCENARIOS_DIR.rglob("*.yaml"):
        assert path.name in result.stdout


@pytest.mark.slow
def test_list_names_each_file_by_a_path_run_accepts_from_the_working_directory(
    tmp_path, monkeypatch
):
    sub = tmp_path / "mine" / "old"
    sub.mkdir(parents=True)
    (sub / "mini.yaml").write_text(WITH_VARIANTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    listed = invoke("list", "mine")
    assert listed.exit_code == 0, listed.output
    shown = listed.stdout.split()[0]
    assert shown == str(Path("mine") / "old" / "mini.yaml")
    assert invoke("validate", shown).exit_code == 0
    monkeypatch.chdir(SCENARIOS_DIR.parent)
    shipped = invoke("list").stdout
    assert f"{Path('scenarios') / 'historical' / 'iraq-2008.yaml'}  iraq-2008:" in shipped


def test_list_of_a_directory_marks_invalid_files_and_keeps_going(write, tmp_path):
    write(WITH_VARIANTS, name="good.yaml")
    write(BAD_INPUTS["wrong-type"], name="bad.yaml")
    result = invoke("list", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "good.yaml  mini: Minimal scenario" in result.stdout
    assert "late" in result.stdout and "announced three months late" in result.stdout
    assert re.search(r"bad\.yaml\s+\(invalid: .*theaters\.alpha\.initial", result.stdout)


def test_list_takes_yaml_in_any_case_and_passes_over_hidden_files_and_folders(tmp_path):
    # b.YAML was not listed; an editor's .#a.yaml and a .git folder's copies were
    for name in ("a.yaml", "b.YAML", "c.Yml", ".#a.yaml", ".git/d.yaml", "sub/.hid/e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(WITH_VARIANTS, encoding="utf-8")
    (tmp_path / "f.yaml").mkdir()  # a folder by a scenario's name: listed as no scenario
    result = invoke("list", str(tmp_path))
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.stdout.splitlines() if not line[0].isspace()]
    assert listed == [str(tmp_path / n) for n in ("a.yaml", "b.YAML", "c.Yml", "f.yaml")]
    assert f"{tmp_path / 'f.yaml'}  (invalid: " in result.stdout
    assert "expected a scenario file, found a directory)" in result.stdout


def test_list_of_something_that_is_not_a_directory_is_exit_2(tmp_path):
    assert_one_line_error(invoke("list", str(tmp_path / "nowhere")))


def test_show_prints_the_resolved_scenario_as_yaml(write):
    result = invoke("show", str(write(WITH_VARIANTS)))
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.stdout)
    assert shown["id"] == "mini" and shown["theaters"]["alpha"]["initial"] == 1000


def test_show_variant_prints_that_variant_with_its_overrides_applied(write):
    result = invoke("show", str(write(WITH_VARIANTS)), "--variant", "late")
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.stdout)
    assert shown["announcement"] == {"expected": "2024-01", "delay": 3}
    assert "variants" not in shown


def test_show_of_an_unknown_variant_is_exit_2(write):
    assert_one_line_error(
        invoke("show", str(write(WITH_VARIANTS)), "--variant", "soon"), "unknown variant 'soon'"
    )


@pytest.mark.slow
def test_plot_redraws_the_chart_from_a_run_directory_without_rerunning(default_run, tmp_path):
    _, out = default_run
    csv_before = (out / "monthly.csv").read_bytes()
    target = tmp_path / "again.png"
    result = invoke("plot", str(out), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert png_size(target) == png_size(out / "envelope.png")
    assert (out / "monthly.csv").read_bytes() == csv_before


def test_plot_of_a_directory_that_is_not_a_run_is_exit_2(tmp_path):
    assert_one_line_error(invoke("plot", str(tmp_path)), "run.json")
    assert_one_line_error(invoke("plot", str(tmp_path / "nowhere")), "no such directory")


def test_a_file_or_folder_that_is_not_there_is_named_without_a_line(tmp_path):
    # "DIR/run.json:1:1: (file): ..." pointed at line 1 of a file that does not exist
    for args, line in [
        (
            ["plot", str(tmp_path)],
            f"{tmp_path / 'run.json'}: expected a run directory holding run.json, "
            "found no such file",
        ),
        (
            ["report", str(tmp_path)],
            f"{tmp_path / 'run.json'}: expected a run directory holding run.json, "
            "found no such file",
        ),
        (
            ["plot", str(tmp_path / "nowhere")],
            f"{tmp_path / 'nowhere'}: expected a run directory (from forcesim run, compare "
            "or backtest), found no such directory",
        ),
        (
            ["run", str(tmp_path / "nowhere.yaml")],
            f"{tmp_path / 'nowhere.yaml'}: expected an existing scenario file, found no such file",
        ),
        (
            ["run", str(tmp_path)],
            f"{tmp_path}: expected a scenario file, found a directory",
        ),
    ]:
        result = invoke(*args)
        assert result.exit_code == 2, args
        assert result.output == f"forcesim: error: {line}\n", args


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "validate", "list", "show", "plot"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), command


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["compare", str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-6", "--draws", "500"],
        ["sweep", str(DEFAULT_SCENARIO), "-v", "as-reported", "--set", "announcement.delay=0,3"]
        + ["--draws", "300"],
        ["sensitivity", str(DEFAULT_SCENARIO), "-v", "as-reported", "--draws", "500"],
    ],
)
def test_a_command_names_only_files_it_wrote(args: list[str], tmp_path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [*args, "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    named = set(re.findall(r"\b[\w.-]+\.(?:csv|png|parquet|json|html)\b", result.output))
    named.discard(DEFAULT_SCENARIO.name)
    written = {p.name for p in out.iterdir()}
    assert named and named <= written, (named - written, result.output)


@pytest.mark.parametrize(
    "args",
    [
        ["compare", str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-6"],
        ["sensitivity", str(DEFAULT_SCENARIO), "-v", "on-time"],
    ],
)
def test_compare_and_sensitivity_print_the_values_set_and_compare_says_which_is_a_and_b(
    args: list[str], tmp_path
) -> None:
    # with announcement.delay=9 set, "+0 ... 0.00" and "no input moves it" looked like
    # faults: only the chart said why
    options = ["--draws", "200", "--seed", "1", "--out", str(tmp_path / "out")]
    result = invoke(*args, *options, "--set", "announcement.delay=9")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "set in every variant for this run: announcement.delay=9"
    if args[0] == "compare":
        assert lines[2].startswith("A: on-time, B: slip-6; P(B>A): ")
    plain = invoke(*args, *options[:-1], str(tmp_path / "plain"))
    assert "set in every variant" not in plain.output


def test_a_chart_foot_does_not_count_numbers_without_source_or_assumption_as_assumptions(
    write,
) -> None:
    # the minimal scenario's plain numbers were "5 inputs ... are assumptions"
    from sim.plotting.common import footnote

    text = footnote(sim.run(write()))
    assert "5 inputs have neither a source nor an assumption; the command" in text
    assert "assumptions, not reported figures" not in text
    result = CliRunner().invoke(main, ["sources", str(DEFAULT_SCENARIO)])
    assert "rest on an assumption (as the charts' footers count them)" in result.output


def test_sources_lists_each_variants_changes_and_counts_assumptions_as_the_charts_do() -> None:
    from sim.plotting.common import footnote

    result = CliRunner().invoke(main, ["sources", str(DEFAULT_SCENARIO)])
    assert result.exit_code == 0, result.output
    follows = result.output.split("variant syria-follows changes:\n", 1)[1]
    assert "\n  milestones.syria-exit.target.level = 0\n" in follows
    counted = re.search(
        r"across the 8 variants, (\d+) distinct inputs rest on an assumption", result.output
    )
    assert counted
    # (the first count is the base's alone, and says so: a reader saw 4, then 8)
    assert re.search(r"\nthe scenario before its variants' changes: \d+ numbers: ", result.output)
    every = sim.run(DEFAULT_SCENARIO)
    assert f"{counted.group(1)} inputs across the 8 variants shown are assumptions" in footnote(
        every
    )
    one = sim.run(DEFAULT_SCENARIO, ["slip-3"])
    assert "the command “forcesim sources --variant slip-3” lists each number" in footnote(one)


def test_sources_names_each_cited_sources_publisher_and_address_or_that_none_is_given(
    tmp_path,
) -> None:
    # a reporter saw "source shafaq: <title> (2024-09-06)" and a file name that is not
    # shipped, with nothing to follow up
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    own = tmp_path / "own.yaml"
    own.write_text(text.replace("    url: https://www.shafaq.com/", "    #url: x", 1))
    result = CliRunner().invoke(main, ["sources", str(DEFAULT_SCENARIO)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = lines.index("theaters.iraq.initial = 2500")
    assert lines[at + 1].startswith("    source shafaq: ")
    assert lines[at + 1].endswith("(Shafaq News, carrying Reuters' reporting, 2024-09-06)")
    assert lines[at + 2] == (
        "    https://www.shafaq.com/en/Iraq/Pentagon-No-timeline-to-withdraw-troops-from-Iraq-yet"
    )
    result = CliRunner().invoke(main, ["sources", str(own)])
    lines = result.output.splitlines()
    at = lines.index("theaters.iraq.initial = 2500")
    assert lines[at + 2] == "    no public address given"


def test_the_sources_command_a_chart_foot_names_runs_as_written(tmp_path, monkeypatch) -> None:
    # the foot said “forcesim sources”, which asked for a FILE and exited 2
    import shlex

    from sim.plotting.common import footnote

    shipped = sim.run(DEFAULT_SCENARIO, ["slip-3"])
    own = tmp_path / "my plan.yaml"
    own.write_text(DEFAULT_SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    mine = sim.run(sim.load_scenario(own))
    copy = tmp_path / "copy" / DEFAULT_SCENARIO.name  # (the shipped file's name, edited)
    copy.parent.mkdir()
    copy.write_text(DEFAULT_SCENARIO.read_text(encoding="utf-8"), encoding="utf-8")
    runs = (shipped, mine, sim.run(sim.load_scenario(copy)))
    said = [re.search(r"the command “([^”]+)”", footnote(r)) for r in runs]
    assert [m.group(1) if m else None for m in said] == [
        "forcesim sources --variant slip-3",
        "forcesim sources 'my plan.yaml'",  # its name only: not the author's folders
        f"forcesim sources {DEFAULT_SCENARIO.name}",  # (not the shipped file's listing)
    ]
    said = said[:2]
    monkeypatch.chdir(tmp_path)  # (where a reader keeps the file the chart names)
    for m in said:
        assert m is not None
        result = invoke(*shlex.split(m.group(1))[1:])
        assert result.exit_code == 0, result.output
        assert "rest on an assumption" in result.output
    assert invoke("show").output == invoke("show", str(DEFAULT_SCENARIO)).output


def test_a_shipped_scenarios_chart_foot_names_it_from_the_project_root(monkeypatch) -> None:
    # the foot said “forcesim sources iraq-sites-2024.yaml”, no such file where the
    # README's commands run
    import shlex

    from sim.plotting.common import footnote

    sites = SCENARIOS_DIR / "iraq-sites-2024.yaml"
    vintage = SCENARIOS_DIR / "vintages" / "2024-12-19-syria-count.yaml"
    said = [
        re.search(r"the command “([^”]+)”", footnote(sim.run(sim.load_scenario(p), [v])))
        for p, v in ((sites, None), (vintage, None))
        for v in [sim.load_scenario(p).select(None)[0]]
    ]
    commands = [m.group(1) if m else None for m in said]
    assert commands[0] is not None and commands[1] is not None
    assert commands[0].startswith("forcesim sources scenarios/iraq-sites-2024.yaml")
    assert commands[1].startswith("forcesim sources scenarios/vintages/2024-12-19-syria-count.yaml")
    monkeypatch.chdir(SCENARIOS_DIR.parent)
    for command in commands:
        result = invoke(*shlex.split(command)[1:])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["run", "compare", "vintages"])
def test_an_empty_out_is_refused_rather_than_written_to_the_default(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--out", ""])
    assert result.exit_code == 2
    assert "<command line>:1:1: --out: expected a directory name, found ''" in result.output


@pytest.mark.parametrize(
    ("option", "text", "hint"),
    [
        ("--draws", "1_000", " (write 1000, without underscores)"),
        ("--draws", "1e6", " (write 1000000, without an exponent)"),
        ("--seed", "07", " (write 7, without the leading zero)"),
        ("--workers", "02", " (write 2, without the leading zero)"),
        ("--draws", "\u0665", ""),
    ],
)
def test_a_whole_number_flag_takes_plain_digits_only(option: str, text: str, hint: str) -> None:
    # (click's int() read 1_000 as 1000, 07 as 7 and an Arabic-Indic five as 5)
    args = {"--draws": "10", "--seed": "1", option: text}
    argv = ["run", "-q", *(x for k, v in args.items() for x in (k, v))]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert result.stderr == (
        f"forcesim: error: <command line>:1:1: {option}: expected a whole number as plain "
        f"digits, found {text!r}{hint}\n"
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["run", "", "-q"],
        ["sweep", "", "--set", "announcement.delay=1", "-q"],
        ["sensitivity", "", "--draws", "20", "--seed", "1", "-q"],
        ["run", str(DEFAULT_SCENARIO), "--observed", "", "-q"],
        ["run", str(DEFAULT_SCENARIO), "--observed", " ", "-q"],
        [
            "backtest",
            str(SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"),
            "--observed",
            "",
            "-q",
        ],
        ["validate", ""],
        ["show", ""],
        ["list", ""],
        ["plot", ""],
        ["plot", "RUN", "-o", ""],
        ["report", "RUN", "-o", ""],
    ],
    ids=lambda a: " ".join(repr(x) if not x.strip() else x.split("/")[-1] for x in a),
)
def test_an_empty_file_name_is_refused_rather_than_taken_as_the_default(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (run '' ran the default scenario, --observed '' read the scenario's own reports,
    # -o '' wrote the default chart, validate '' read '.': each without saying so)
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "RUN"
    assert (
        CliRunner().invoke(main, ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(run)]).exit_code
        == 0
    )
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result = CliRunner().invoke(main, [str(run) if a == "RUN" else a for a in args])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "expected a file name, found '" in result.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


WHOLE = "expected a whole number from 1 to 100,000,000, found"
RATE = (
    "expected a chance that a report is wrong, above 0 and below 1: a percentage (5%), "
    "a decimal (0.05 or 5e-2) or a fraction (1/20), found"
)
TWO = "expected exactly two --variant NAME options (A, then B), found"
REFUSED_VALUES = [
    (
        ["run", "--draws", "10", "--seed", "1", "--condition", "--tolerance", "0.5"],
        "--tolerance: expected a tolerance as a percentage from 0% to 100% (of each "
        "bound) or a number of troops (0, or 1 to 10,000,000), found '0.5' (on whole troops a "
        "tolerance below 1 troop is none at all: for 50 % of each bound write 50%)",
    ),
    (
        ["sensitivity", "--method", "sobol", "--draws", "1000", "--seed", "1"],
        "--draws: expected a base sample size that is a power of two for Sobol' "
        "sequences (e.g. 4096), found '1000'",
    ),
    (["run", "--draws", "abc", "--seed", "1"], f"--draws: {WHOLE} 'abc'"),
    (["run", "--draws=", "--seed", "1"], f"--draws: {WHOLE} ''"),
    (
        ["compare", "--seed", "x", "--draws", "9"],
        "--seed: expected a whole number from 0 to 9,223,372,036,854,775,807, found 'x'",
    ),
    (["vintages", "x.yaml", "--draws", "0"], f"--draws: {WHOLE} '0'"),
    (["run", "--format", "xls"], "--format: expected one of csv, parquet, both, found 'xls'"),
    (
        ["sensitivity", "--method", "Sobol"],
        "--method: expected one of tenths, sobol (did you mean 'sobol'?), found 'Sobol'",
    ),
    (
        ["plot", "RUN", "--chart", "fans"],
        "--chart: expected one of envelope, fan, fan_conditioned, compare, backtest "
        "(did you mean 'fan'?), found 'fans'",
    ),
    (
        ["run", "--error-rate=2", "--condition"],
        f"--error-rate: {RATE} '2' (a chance of 2 percent is written 2%)",
    ),
    (["run", "--error-rate=1e-200000000", "--condition"], f"--error-rate: {RATE} '1e-200000000'"),
    (["run", "--out", ""], "--out: expected a directory name, found ''"),
    (["plot", "RUN", "-o", ""], "-o: expected a file name, found ''"),
    (["report", "RUN", "--output="], "--output: expected a file name, found ''"),
    (["run", ""], "SCENARIO: expected a file name, found ''"),
    (
        ["plot", ".", "-o", "x.gif"],
        "-o: expected a file ending in .png, .pdf or .svg, found 'x.gif'",
    ),
    (["report", ".", "-ox.txt"], "-o: expected a file ending in .html or .htm, found 'x.txt'"),
    (["compare", "--draws", "9", "--seed", "1"], f"--variant: {TWO} 0"),
    (["compare", "-qva", "--draws", "9", "--seed", "1"], f"-v: {TWO} 1 ('a')"),
    (
        ["compare", "-v", "a", "--variant", "b", "--variant=c"],
        f"--variant: {TWO} 3 ('a', 'b', 'c')",
    ),
]


@pytest.mark.parametrize(
    ("args", "line"),
    REFUSED_VALUES,
    ids=[" ".join(x or "''" for x in a) for a, _ in REFUSED_VALUES],
)
def test_every_refused_value_is_one_line_at_the_command_line_naming_the_flag_as_written(
    args: list[str], line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (click's own said "Invalid value for '--draws': 'abc' is not a valid integer range."
    # or "'-o' / '--output'", compare and vintages a line of their own)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"forcesim: error: <command line>:1:1: {line}\n"
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_vintages_holding_no_scenario_is_named_with_what_was_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".#a.yaml").write_text("id: x\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["vintages", "empty/"])
    assert result.exit_code == 2
    assert result.stderr == (
        "forcesim: error: empty/: expected a folder holding scenario files (.yaml, .yml; "
        "hidden ones left out), found none in it\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "chart"),
    [
        (["sweep", "--set", "announcement.delay=0,3", "--draws", "50", "--seed", "1"], "sweep"),
        (["sensitivity", "--draws", "60", "--seed", "1"], "tornado"),
    ],
)
def test_plot_of_a_sweep_or_sensitivity_directory_names_its_kind_and_writes_nothing(
    tmp_path, command, chart
) -> None:
    out = tmp_path / "d"
    made = CliRunner().invoke(main, [*command, "-v", "on-time", "--out", str(out), "-q"])
    assert made.exit_code == 0, made.output
    before = sorted(p.name for p in out.iterdir())
    # (report says it in its own words: tests/test_report.py)
    result = CliRunner().invoke(main, ["plot", str(out)])
    assert result.exit_code == 2, result.output
    assert f"found a directory of forcesim {command[0]}, which draws its {chart}.png" in (
        result.output
    )
    assert len(result.output.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == before


def test_run_prints_one_milestones_line_for_variants_whose_milestones_read_the_same(
    default_run,
) -> None:
    result, _ = default_run
    block = result.stdout.split("\nmilestones (met: ", 1)[1].split("\n", 1)[1]
    block = block.split("\nwrote ", 1)[0]
    heads = [line.split(":", 1)[0].strip() for line in block.splitlines() if line[2] != " "]
    # the shipped scenario: five variants meet both deadlines on time, alike
    assert "on-time, slip-3, slip-6, residual, slip-6-residual" in heads
    named = [name for head in heads for name in head.split(", ")]
    assert sorted(named) == sorted(sim.load_scenario(DEFAULT_SCENARIO).variant_names)


def test_every_option_of_every_command_says_what_it_does_in_its_help() -> None:
    import click

    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and param.name != "help":
                text = (param.help or "").strip()
                assert text and not text.startswith("Default"), f"{name} {param.opts[0]}"


def test_run_help_names_every_column_an_observations_file_may_have() -> None:
    text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    for column in ("date", "theater", "troops_low", "troops_high", "kind", "tolerance", "by"):
        assert column in text.split("--observed FILE", 1)[1].split("--condition", 1)[0], column


@pytest.mark.slow
def test_an_ensemble_run_says_when_draws_reach_zero_troops_where_a_residual_may_stay(tmp_path):
    # "iraq-exit met, p=1.00" of on-time read as a certain exit, while 40 % of its draws
    # keep an advisory presence: the milestone's target is raised by the residual
    out = tmp_path / "run"
    result = invoke(
        "run", str(DEFAULT_SCENARIO), "--draws", "2000", "--seed", "1", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    text = " ".join(result.stdout.split())
    assert "a residual presence that stays raises the target" in text
    start = lines.index(
        "zero troops, when the last leave (the draws' median month, and how many never get there)"
    )
    block = lines[start + 1 : lines.index(next(x for x in lines if x.startswith("wrote ")))]
    _, dates = read_csv(out / "dates.csv")
    never = next(
        r["never"]
        for r in dates
        if r["variant"] == "on-time" and r["theater"] == "iraq" and r["threshold"] == "zero"
    )
    on_time = next(x for x in block if "on-time" in x.split(":")[0])
    assert f"never in {float(never) * 100:.0f} %" in on_time
    assert any(x.strip().startswith("residual, slip-6-residual: iraq never") for x in block)


def test_an_ensemble_run_says_met_is_the_central_runs_as_slipped_and_p_the_draws_before_any_delay(
    tmp_path,
):
    # slip-6-moving printed "iraq-exit met (2027-06, slipped from 2026-12), p=0.00 by
    # 2026-12": read as a contradiction, with nothing saying whose "met" and which deadline
    args = ["run", str(DEFAULT_SCENARIO), "--variant", "slip-6-moving", "--variant", "on-time"]
    result = invoke(*args, "--draws", "200", "--seed", "1", "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "met: the central run reaches the target by the deadline as slipped" in text
    assert "p: the share of draws meeting the deadline before any delay" in text
    assert "iraq-exit met (2027-06, slipped from 2026-12), p=0.00 by 2026-12" in text
    # without a slip, no note about one
    result = invoke(
        "run",
        str(DEFAULT_SCENARIO),
        "--variant",
        "on-time",
        "--draws",
        "200",
        "--seed",
        "1",
        "--out",
        str(tmp_path / "plain"),
    )
    text = " ".join(result.stdout.split())
    assert "slipped" not in text and "before any delay" not in text


@pytest.mark.slow
def test_a_conditioned_run_names_the_reports_most_weighted_draws_miss_as_observed_csv_has_them(
    tmp_path,
):
    # the record's Syria 2,000 (2024-25) and 1,000 (2026) cannot both be followed by a
    # scenario whose Syria holds: the weighted median stayed near 2,000, and a reader
    # quoted it as what the reports say, with nothing naming the reports it misses
    out = tmp_path / "run"
    observed = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    args = ["run", str(DEFAULT_SCENARIO), "--variant", "on-time"]
    args += ["--observed", str(observed), "--condition", "--draws", "2000", "--seed", "1"]
    result = invoke(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    head = "reports fewer than half the weighted draws come within"
    assert head in text
    named = text.split(head, 1)[1].split("on-time: ", 1)[1].split(" of the weighted draws", 1)[0]
    _, rows = read_csv(out / "observed.csv")
    low = [
        r
        for r in rows
        if r["conditioning"] == "used" and float(r["p_consistent_conditioned"]) < 0.5
    ]
    assert low and named.count(", ") == len(low) - 1
    for r in low:  # (a day of two reports of syria: this one named by its source)
        said = f"{r['date']} {r['theater']}"
        assert said in named
        if r["date"] == "2026-01-23":
            assert f"{said} ({r['source']})" in named
    # a run whose weighted draws come within every report it weighs says nothing of it
    quiet = tmp_path / "known.csv"
    quiet.write_text(
        "date,theater,troops_low,troops_high,kind\n2024-09-06,iraq,2500,2500,reported\n"
    )
    args = ["run", str(DEFAULT_SCENARIO), "--variant", "on-time", "--observed", str(quiet)]
    result = invoke(
        *args, "--condition", "--draws", "500", "--seed", "1", "--out", str(tmp_path / "q")
    )
    assert result.exit_code == 0, result.output
    assert head not in " ".join(result.stdout.split())


@pytest.mark.slow
def test_a_conditioned_run_prints_each_milestones_odds_weighted_by_the_reports(tmp_path):
    # the weighted odds were only in milestones.csv and on the page: a reader of the
    # terminal saw the unweighted p alone
    out = tmp_path / "run"
    observed = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    args = ["run", str(DEFAULT_SCENARIO), "--variant", "as-reported", "--variant", "on-time"]
    args += ["--observed", str(observed), "--condition", "--draws", "2000", "--seed", "1"]
    result = invoke(*args, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "weighted: p with the draws weighted by the reports known" in text
    _, rows = read_csv(out / "milestones.csv")
    for r in rows:
        mark = f"{r['milestone']} met"
        line = text.split(f"{r['variant']}: ", 1)[1].split(mark, 1)[1].split(";")[0]
        plain, weighted = float(r["p_met"]), float(r["p_met_conditioned"])
        assert re.search(rf"p={plain:.2f}( ±0\.\d\d)? by ", line), line
        assert re.search(rf"\({weighted:.2f}( ±0\.\d\d)? weighted\)", line), line
    assert any(float(r["p_met"]) != float(r["p_met_conditioned"]) for r in rows)
    assert "\u00a0" not in result.stdout  # (the spaces kept together print as spaces)


def test_a_milestone_s_odds_and_their_date_are_never_split_across_lines():
    # "p=0.34 by" at one line's end and "2021-09" at the next's start
    from sim.cli import text

    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO), ["on-time"], draws=200, seed=1)
    mark = text._milestone_marks(result, "on-time")[0]
    odds = mark[mark.index("p=") :]
    assert odds.replace(text.KEEP, " ") == "p=1.00 by 2025-09"
    # put the odds where a plain wrap would break after "by"
    lines = text._grouped([("v", "a " * 52 + mark[mark.index("p=") :])])
    assert lines[-1].strip() == "p=1.00 by 2025-09", lines


@pytest.mark.slow
def test_an_unconditioned_run_prints_no_weighted_odds(tmp_path):
    result = invoke(
        "run", str(DEFAULT_SCENARIO), "--draws", "500", "--seed", "1", "--out", str(tmp_path / "r")
    )
    assert result.exit_code == 0, result.output
    assert "weighted" not in result.stdout


def _conditioning_after(run_dir: Path, day: str) -> int:
    """The reports of a run's observed.csv that condition (a discrepant one included),
    dated after ``day``."""
    _, rows = read_csv(run_dir / "observed.csv")
    counted = ("used", "discrepant")
    return sum(1 for r in rows if r["conditioning"] in counted and r["date"] > day)


@pytest.mark.slow
def test_conditioning_without_as_of_says_it_counts_reports_made_after_the_scenario_date(
    tmp_path,
):
    # a reader took a run of a scenario dated 2024-09-06, conditioned on the whole record,
    # for the projection made that day
    observed = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    args = ["run", str(DEFAULT_SCENARIO), "--variant", "on-time", "--observed", str(observed)]
    args += ["--condition", "--draws", "1000", "--seed", "1"]
    result = invoke(*args, "--out", str(tmp_path / "all"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    later = _conditioning_after(tmp_path / "all", "2024-09-06")
    assert later > 5
    assert (
        f"(without --as-of every report counts, {later} of them made after the scenario's "
        "as_of, 2024-09-06; --as-of 2024-09-06 conditions on what was known then)"
    ) in text
    result = invoke(*args, "--as-of", "2024-09-06", "--out", str(tmp_path / "then"))
    assert result.exit_code == 0, result.output
    assert "without --as-of" not in result.stdout
    # an as_of written as a month is quoted as written (it stands for the month's last day)
    month = tmp_path / "month.yaml"
    month.write_text(DEFAULT_SCENARIO.read_text().replace("as_of: 2024-09-06", "as_of: 2024-09"))
    args[1] = str(month)
    result = invoke(*args, "--out", str(tmp_path / "month"))
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    later = _conditioning_after(tmp_path / "month", "2024-09-30")
    assert f"{later} of them made after the scenario's as_of, 2024-09; --as-of 2024-09 " in text


@pytest.mark.slow
def test_a_conditioned_run_with_too_few_effective_draws_has_no_weighted_note(tmp_path):
    # every variant left out of the conditioned files: no line shows a weighted p, so
    # the heading explained a figure that was nowhere
    observed = SCENARIOS_DIR / "historical" / "afghanistan-2020-observed.csv"
    scenario = SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"
    args = ["run", str(scenario), "--observed", str(observed), "--condition"]
    result = invoke(*args, "--draws", "20", "--seed", "11", "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    assert "no variant keeps 30 effective draws" in result.stderr
    heading = next(x for x in result.stdout.splitlines() if x.startswith("milestones"))
    assert heading == "milestones"
    assert "weighted" not in result.stdout


@pytest.mark.slow
def test_an_effective_share_and_its_percent_sign_stay_on_one_line(tmp_path):
    # "910.2 of 10,000 (9.1" ended one line and "%), 5 reports" began the next
    observed = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    args = ["run", str(DEFAULT_SCENARIO), "--observed", str(observed), "--condition"]
    args += ["--as-of", "2025-06-01", "--draws", "2000", "--seed", "1"]
    result = invoke(*args, "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    bad = [x for x in lines if re.search(r"\(\d+\.\d$|^\s*%\)|of$|^\s*of ", x)]
    assert not bad, bad
    assert re.search(r"\d of 2,000 \(\d+\.\d %\), 5 reports", " ".join(result.stdout.split()))


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["--draws", "+0", "--seed", "1"], "--draws: expected a whole number from 1 to "),
        (["--draws", "200000000", "--seed", "1"], "found '200000000'"),
        (["--draws", "10", "--seed", "9223372036854775808"], "found '9223372036854775808'"),
    ],
)
def test_a_number_out_of_range_is_quoted_as_written(tmp_path, args, found):
    # (click said "0 is not in the range 1<=x<=100000000." for +0)
    out = tmp_path / "out"
    err = assert_one_line_error(invoke("run", *args, "--out", str(out)), mentions=found)
    assert "found '" in err
    assert not out.exists()


INTERRUPTED_AT = {
    # Ctrl-C while Python shuts down, after the command wrote OUT (an exit handler that
    # runs before forcesim's): it ended with 0 and a traceback, or by the signal (-2)
    "shutdown": (
        "import atexit, os, signal\natexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))\n"
    ),
    # Ctrl-C raised where Python drops it (a __del__): the run went on and ended with 0
    "dropped": (
        # (forcesim run writes its directory with sim.export.stream.stream_run)
        "import gc, os, signal, time\n"
        "import sim.export.stream\n"
        "write = sim.export.stream.stream_run\n"
        "class Late:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGINT); time.sleep(0.2)\n"
        "def stream_run(*a, **k):\n"
        "    done = write(*a, **k); Late(); gc.collect(); return done\n"
        "sim.export.stream.stream_run = stream_run\n"
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("when", list(INTERRUPTED_AT))
def test_ctrl_c_after_the_last_write_says_one_line_and_exits_130(tmp_path, when):
    import subprocess
    import sys

    out = tmp_path / "out"
    script = (
        "import sys\nfrom sim.cli import main\n"  # (exit handlers after forcesim's run first)
        + INTERRUPTED_AT[when]
        + "sys.argv[0] = 'forcesim'\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "run", "-q", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (
        130,
        f"forcesim: interrupted after writing {out}/ whole\n",
    )
    assert (out / "run.json").is_file()


# (each said "X needs Y" in its own words, with no location and no text as written)
@pytest.mark.parametrize(
    ("missing", "args", "said", "found"),
    [
        (
            None,
            ["run", "--error-rate", "10%"],
            "--error-rate: expected --condition with --error-rate",
            "'--error-rate 10%', and no --condition",
        ),
        (
            None,
            ["run", "--draws", "100"],
            "--draws: expected --seed S with --draws N",
            "'--draws 100', and no --seed",
        ),
        (
            None,
            ["sweep", "--set", "announcement.delay=1,2", "--draws=100"],
            "--draws: expected --seed S with --draws N",
            "'--draws=100', and no --seed",
        ),
        (
            None,  # (the second "--draws=3" is the variant's name, as click reads it)
            ["run", "--draws=10", "-v", "--draws=3"],
            "--draws: expected --seed S with --draws N",
            "'--draws=10', and no --seed",
        ),
        (
            None,
            ["run", "--draws", "10", "-qv", "--draws"],
            "--draws: expected --seed S with --draws N",
            "'--draws 10', and no --seed",
        ),
        (
            None,
            ["run", "--seed", "7"],
            "--seed: expected --draws N with --seed S",
            "'--seed 7', and no --draws",
        ),
        (
            None,
            ["compare", "-v", "a", "-v", "b"],
            "--draws: expected --draws N and --seed S",
            "no --draws, no --seed",
        ),
        (
            None,
            ["run", "--workers", "2"],
            "--workers: expected --draws N and --seed S with --workers",
            "'--workers 2', and no --draws",
        ),
        (
            None,
            ["run", "--scheduler", "tcp://h:1"],
            "--scheduler: expected --draws N and --seed S with --scheduler",
            "'--scheduler tcp://h:1', and no --draws",
        ),
        (
            None,
            ["run", "--draws", "10", "--seed", "1", "--workers=2", "--scheduler", "tcp://h:1"],
            "--workers: expected --workers N or --scheduler ADDRESS, not both",
            "'--workers=2' and '--scheduler tcp://h:1'",
        ),
        (
            "pyarrow",
            ["run", "--format", "both"],
            "--format: expected pyarrow installed: pip install 'forcesim[parquet]'",
            "'--format both', and no module pyarrow",
        ),
        (
            "plotly",
            ["run", "--report"],
            "--report: expected plotly installed: pip install 'forcesim[report]'",
            "'--report', and no module plotly",
        ),
        (
            "plotly",
            ["report", "."],
            "report: expected plotly installed: pip install 'forcesim[report]'",
            "no module plotly",
        ),
        (
            "SALib",
            ["sensitivity", "--method", "sobol", "--draws", "256", "--seed", "1"],
            "--method: expected SALib installed: pip install 'forcesim[sensitivity]'",
            "'--method sobol', and no module SALib",
        ),
        (
            "distributed",
            ["run", "--draws", "10", "--seed", "1", "--workers", "2"],
            "--workers: expected distributed installed: pip install 'forcesim[dask]'",
            "'--workers 2', and no module distributed",
        ),
    ],
)
def test_a_flag_without_what_it_needs_is_one_located_line_quoting_it(
    tmp_path, monkeypatch, missing, args, said, found
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a)
    )
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "never"
    result = CliRunner().invoke(
        main, [*args, *([] if args[0] == "report" else ["--out", str(out)])]
    )
    assert result.exit_code == 2, result.output
    where = "<command line>:1:1: "
    assert result.stderr.startswith(f"forcesim: error: {where}{said}"), result.stderr
    assert result.stderr.endswith(f", found {found}\n") and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.slow
def test_every_command_writing_a_directory_takes_o_for_out(tmp_path: Path) -> None:
    # plot and report took -o for their file, run and the rest only --out for their
    # directory: "forcesim run -o DIR" was "No such option '-o'"
    takes_out = [
        name
        for name, command in main.commands.items()
        if any(p.name == "out_dir" for p in command.params)
    ]
    assert {"run", "vintages"} <= set(takes_out)
    for name in takes_out:
        out = next(p for p in main.commands[name].params if p.name == "out_dir")
        assert "-o" in out.opts and "--out" in out.opts, name
    result = CliRunner().invoke(main, ["run", "-v", "on-time", "-o", str(tmp_path / "x"), "-q"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "x" / "monthly.csv").is_file()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["run", "--drawz", "5"],
            "--drawz: expected an option of main run (main run --help lists them) "
            "(did you mean '--draws'?), found '--drawz'",
        ),
        (  # another command's option: said so, not a near spelling ('--variant')
            ["run", "--chart", "fan"],
            "--chart: expected an option of main run (main run --help lists them) "
            "(--chart is an option of main plot), found '--chart'",
        ),
        (  # beside a near spelling of this command's own option
            ["plot", "out", "--out", "x.png"],
            "--out: expected an option of main plot (main plot --help lists them) "
            "(did you mean '--output'? --out is an option of main backtest, compare, "
            "run, sensitivity, sweep and vintages), found '--out'",
        ),
        (
            ["plot", "out", "--seed", "1"],
            "--seed: expected an option of main plot (main plot --help lists them) "
            "(--seed is an option of main compare, run, sensitivity, sweep and vintages), "
            "found '--seed'",
        ),
        (["run", "--draws"], "--draws: expected a value after --draws, found none"),
        (
            ["validate"],
            "FILES: expected a value for FILES (main validate [OPTIONS] FILES...), found none",
        ),
        (
            ["run", "a.yaml", "b.yaml"],
            "b.yaml: expected no more arguments (main run [OPTIONS] [SCENARIO]), found 'b.yaml'",
        ),
        (["run", "--quiet=3"], "--quiet: expected --quiet alone (a switch takes no value)"),
        (["runn"], "runn: expected a command of forcesim: backtest, compare, list,"),
    ],
)
def test_a_command_line_click_cannot_parse_is_one_located_line(argv, line):
    # these were click's own words, unlocated: "No such option '--drawz'. Did you mean …"
    err = assert_one_line_error(CliRunner().invoke(main, argv))
    assert err.startswith(f"forcesim: error: <command line>:1:1: {line}"), err


def test_an_unknown_command_suggests_the_nearest_and_lists_them_all():
    err = assert_one_line_error(CliRunner().invoke(main, ["valdate", "x.yaml"]))
    assert "(did you mean 'validate'?), found 'valdate'" in err
    assert all(name in err for name in main.commands)


def test_forcesim_alone_prints_its_help_on_stdout_and_exits_0():
    # it was the whole help squeezed into one "forcesim: error:" line, exit 2
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith("Usage: ") and "\nCommands:\n" in result.stdout
    assert all(f"  {name} " in result.stdout for name in main.commands)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "-q", "--variant", "lat"],
        ["compare", "-v", "on-time", "-v", "lat", "--draws", "100", "--seed", "1"],
        ["show", "{file}", "--variant", "lat"],
        ["sources", "{file}", "-v", "lat"],
    ],
)
def test_an_unknown_variant_typed_on_the_command_line_is_placed_at_its_option(write, argv):
    # it was placed at the scenario's variants key: a line of a file the user may not
    # have named, and a key (variants) they did not type
    path = str(write(WITH_VARIANTS))
    argv = [path if a == "{file}" else a for a in argv]
    if argv[0] in ("run", "compare"):
        argv.insert(1, path)
    err = assert_one_line_error(CliRunner().invoke(main, argv))
    flag = argv[argv.index("lat") - 1]
    assert err.startswith(f"forcesim: error: <command line>:1:1: {flag}: expected one of "), err
    assert err.endswith("(did you mean 'late'?), found unknown variant 'lat'\n"), err


def test_a_scenario_that_cannot_be_read_is_refused_in_the_readers_words(write, monkeypatch):
    # click's own check said "FILES: Path 'x.yaml' is not readable.", with no expected
    # and found; forcesim's reader says what every unreadable file gets
    import os
    import pathlib

    path = write(WITH_VARIANTS)
    real_access, real_read = os.access, pathlib.Path.read_bytes

    def access(p, mode, *args, **kwargs):
        return False if str(p).endswith(path.name) else real_access(p, mode, *args, **kwargs)

    def read_bytes(self):
        if self.name == path.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    for argv in (["validate", str(path)], ["run", str(path), "-q"], ["show", str(path)]):
        err = assert_one_line_error(CliRunner().invoke(main, argv))
        assert err == (
            f"forcesim: error: {path}:1:1: (file): expected a readable file, "
            "found Permission denied\n"
        ), (argv, err)


@pytest.mark.skipif(sys.platform.startswith("win"), reason="a line break in a file's name")
def test_a_scenario_whose_name_holds_a_line_break_or_an_escape_is_read_and_named_escaped(
    tmp_path,
):
    # a real file named "nl\nname.yaml" was refused as "text of several lines" at
    # <arguments>:1:1: path; one with ESC in its name was named with the ESC dropped
    nl = tmp_path / "nl\nname.yaml"
    nl.write_text(WITH_VARIANTS, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(nl)])
    assert res.exit_code == 0, res.output
    assert res.stdout == f"{tmp_path}/nl\\nname.yaml: ok (mini, 2 variants)\n"
    esc = tmp_path / "esc\x1b[31mred.yaml"
    esc.write_text(WITH_VARIANTS + "x: [\n", encoding="utf-8")
    err = assert_one_line_error(CliRunner().invoke(main, ["validate", str(esc)]))
    assert err.startswith(f"forcesim: error: {tmp_path}/esc\\x1b[31mred.yaml:"), err


@pytest.mark.parametrize("command", ["validate", "run", "show"])
def test_scenario_text_given_for_a_file_name_is_placed_at_the_argument(command):
    # it said "<arguments>:1:1: path", the name of a Python parameter
    res = CliRunner().invoke(main, [command, "id: x\ntitle: y\n"])
    err = assert_one_line_error(res)
    name = "FILES" if command == "validate" else "SCENARIO" if command == "run" else "FILE"
    assert err.startswith(
        f"forcesim: error: <command line>:1:1: {name}: expected the path of a scenario file"
    ), err


@pytest.mark.slow
def test_a_chart_path_with_a_name_too_long_says_the_systems_limits(tmp_path):
    # it was the bare "File name too long", with no expected or found
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", "-q", "-v", "on-time", "-o", str(out)]).exit_code == 0
    target = tmp_path / ("a" * 256 + ".png")
    err = assert_one_line_error(CliRunner().invoke(main, ["plot", str(out), "-o", str(target)]))
    assert err == (
        f"forcesim: error: {target}: expected a path the system takes (each name at most "
        "255 bytes, the whole at most 4,096), found File name too long\n"
    ), err


def test_text_given_for_the_observations_file_is_placed_at_observed_not_the_scenario(tmp_path):
    # both paths are a "path" parameter in Python: the error was placed at SCENARIO
    res = CliRunner().invoke(
        main, ["run", str(DEFAULT_SCENARIO), "-q", "--observed", "a\nb.csv", "-o", str(tmp_path)]
    )
    err = assert_one_line_error(res)
    assert err.startswith(
        "forcesim: error: <command line>:1:1: --observed: expected the path of an "
        "observations CSV file, found 'a\\nb.csv': text of several lines"
    ), err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["run", "--set", "announcement.delay", "3"],
            "--set: expected KEY=VALUE, the value after '=' (a dotted key path, =, a value), "
            "found 'announcement.delay', then '3' as the scenario file (write "
            "--set announcement.delay=3)",
        ),
        (
            ["sweep", "--set", "announcement.delay", "0,3,6", "--draws", "10", "--seed", "1"],
            "found 'announcement.delay', then '0,3,6' as the scenario file (write "
            "--set announcement.delay=0,3,6)",
        ),
    ],
)
def test_a_setting_with_a_space_for_its_equals_sign_is_told_so_not_a_missing_file(argv, said):
    # "3: expected an existing scenario file, found no such file"
    err = assert_one_line_error(CliRunner().invoke(main, argv))
    assert said in err and err.startswith("forcesim: error: <command line>:1:1: --set: "), err


def test_variants_joined_by_a_comma_are_told_to_be_named_one_at_a_time(write):
    err = assert_one_line_error(
        CliRunner().invoke(main, ["run", str(write(WITH_VARIANTS)), "-v", "on-time,late"])
    )
    assert (
        "(several are named one at a time: --variant on-time --variant late, or a list in "
        "Python), found unknown variant 'on-time,late'" in err
    )


@pytest.mark.slow
def test_names_refused_on_the_command_line_get_a_did_you_mean_in_any_case(tmp_path):
    # plot's --theater and --chart had none; "Iraq" matched nothing
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", "-q", "-v", "on-time", "-o", str(out)]).exit_code == 0
    for argv, hint in (
        (["plot", str(out), "--theater", "Iraq"], "(did you mean 'iraq'?), found 'Iraq'"),
        (["plot", str(out), "--chart", "fann"], "(did you mean 'fan'?), found 'fann'"),
        (["report", str(out), "--theater", "Syria"], "(did you mean 'syria'?), found 'Syria'"),
        (["help"], "(for help: forcesim --help, or forcesim COMMAND --help), found 'help'"),
    ):
        err = assert_one_line_error(CliRunner().invoke(main, argv))
        assert hint in err, (argv, err)


def test_a_mistyped_command_still_completes_at_the_shell(monkeypatch):
    # the unknown-command line broke shell completion after a mistyped word (exit 2)
    monkeypatch.setenv("COMP_WORDS", "forcesim runn --")
    monkeypatch.setenv("COMP_CWORD", "2")
    monkeypatch.setenv("_FORCESIM_COMPLETE", "bash_complete")
    res = CliRunner().invoke(main, [], prog_name="forcesim")
    assert res.exit_code == 0, res.output
    assert "plain,--help" in res.stdout


@pytest.mark.slow
def test_a_chart_refused_where_no_o_was_given_names_the_run_directory_argument(
    tmp_path, monkeypatch
):
    # it named --output, an option the command line never gave
    import sim.io.files as files

    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", "-q", "-v", "on-time", "-o", str(out)]).exit_code == 0
    monkeypatch.setattr(files, "_writable_dir", lambda path: False)
    err = assert_one_line_error(CliRunner().invoke(main, ["plot", str(out)]))
    assert err.startswith(f"forcesim: error: {out}/envelope.png:1:1: RUN_DIR: expected "), err
    err = assert_one_line_error(CliRunner().invoke(main, ["plot", str(out), "-o", "x.png"]))
    assert ":1:1: -o: expected " in err, err


def test_usage_errors_escape_what_would_act_on_the_terminal_and_keep_words_whole():
    err = assert_one_line_error(CliRunner().invoke(main, ["r\x1b[2Jun"]))
    assert err.startswith("forcesim: error: <command line>:1:1: r\\x1b[2Jun: expected "), err
    err = assert_one_line_error(CliRunner().invoke(main, ["list", "a", "my dir"]))
    assert err.startswith("forcesim: error: <command line>:1:1: my dir: expected no more "), err


@pytest.mark.slow
def test_a_chart_written_again_with_o_outside_a_run_says_why_it_is_refused(tmp_path):
    # the README's "plot ... -o fan.pdf" run twice: the refusal read as if the file were
    # someone else's, though forcesim wrote it a moment before
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", "-q", "-v", "on-time", "-o", str(out)]).exit_code == 0
    chart = tmp_path / "envelope.pdf"
    assert CliRunner().invoke(main, ["plot", str(out), "-o", str(chart)]).exit_code == 0
    err = assert_one_line_error(CliRunner().invoke(main, ["plot", str(out), "-o", str(chart)]))
    assert (
        "(nor is a chart or page forcesim wrote outside a run directory, which it cannot "
        "tell from yours: remove it, or choose another name); nothing was overwritten" in err
    )


@pytest.mark.slow
def test_the_wrote_line_escapes_a_folder_name_that_does_not_print(tmp_path, write):
    # (ESC in the name: a terminal acts on it, a pipe drops it, naming a folder not there)
    out = tmp_path / "we\x1bird" / "out"
    scenario = write(yaml.safe_load(MINIMAL_YAML))
    res = invoke("run", str(scenario), "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output
    written = f"wrote 4 files to {tmp_path}/we\\x1bird/out/: "
    assert written + "envelope.png, milestones.csv, monthly.csv, run.json" in res.output
    res = invoke("plot", str(out))
    assert res.exit_code == 0, res.output
    assert res.output == f"wrote {tmp_path}/we\\x1bird/out/envelope.png\n"


@pytest.mark.parametrize(
    ("command", "given", "expected"),
    [
        ("report", "adir/", "a file ending in .html or .htm"),
        ("plot", "adir/", "a file ending in .png, .pdf or .svg"),
        ("plot", "chart.png/", "a file ending in .png, .pdf or .svg"),  # (a folder's name)
    ],
)
def test_an_output_named_with_a_trailing_slash_is_quoted_with_it(
    default_run, tmp_path, command, given, expected
):
    # 'adir/' was quoted as 'adir'; 'chart.png/' was taken for a file
    _, out = default_run
    target = tmp_path / given
    res = invoke(command, str(out), "-o", f"{tmp_path}/{given}")
    assert res.exit_code == 2
    lead = "forcesim: error: <command line>:1:1: -o: expected "
    assert res.stderr == f"{lead}{expected}, found '{tmp_path}/{given}'\n"
    assert not target.exists()


@pytest.mark.parametrize("command", ["show", "sources"])
def test_show_and_sources_refuse_two_variants_rather_than_keep_the_last(command) -> None:
    # show -v on-time -v slip-3 printed slip-3 alone, without a word
    res = CliRunner().invoke(
        main, [command, str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-3"]
    )
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert "expected one --variant NAME (this command shows one variant), found 'on-time', " in (
        res.stderr
    )
    assert CliRunner().invoke(main, [command, str(DEFAULT_SCENARIO), "-v", "slip-3"]).exit_code == 0


def test_run_help_loads_neither_numpy_nor_pandas():
    # --workers stated its range by importing sim.analysis.distributed, and numpy with it
    code = (
        "import sys; from click.testing import CliRunner; from sim.cli import main; "
        "r = CliRunner().invoke(main, ['run', '--help']); assert r.exit_code == 0, r.output; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'pandas', 'matplotlib'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("text", "rate"), [("1e-3", "1/1000"), ("5E-2", "1/20"), ("2.5e-1", "1/4")]
)
def test_an_error_rate_with_an_exponent_is_taken_exactly_as_sim_run_takes_it(text, rate):
    # 1e-3 was refused as if out of range, where sim.run(error="1e-3") takes it
    from fractions import Fraction

    from sim.cli.params import ERROR_RATE

    assert ERROR_RATE.convert(text, None, None) == Fraction(rate)


def test_a_variant_that_is_each_month_another_and_the_median_reads_nowhere_not_a_dash():
    # v equals u1 in the first month and u2 in the second, the median of the three
    # others both times: it stands out nowhere, and the table says so in words
    import numpy as np

    from sim.cli.text import _cell

    levels = {
        ("u1", "x"): (0, np.array([5, 0])),
        ("u2", "x"): (0, np.array([0, 5])),
        ("u3", "x"): (0, np.array([10, 10])),
        ("v", "x"): (0, np.array([5, 5])),
    }
    names = {n: n for n in ("u1", "u2", "u3", "v")}
    assert (
        _cell(levels, names, "v", "x", [0, 1], "gap")
        == "nowhere: each month equals another variant"
    )
    assert (
        _cell(levels, names, "u3", "x", [0, 1], "gap") == "0000-01: 10 (+5 vs u1)"
    )  # (month ordinal 0)


def test_run_at_a_month_shows_the_central_run_and_the_draws_percentiles_then(tmp_path) -> None:
    # the table showed the last month only: the end of 2026 had to be read from the files
    out = tmp_path / "at"
    result = invoke(
        "run", *("-v", "on-time", "-v", "slip-6-moving", "--draws", "2000", "--seed", "1"),
        *("--at", "2026-06", "-o", str(out)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "at 2026-06: the central run; 25th–75th (median): the draws' percentiles then" in (
        result.output
    )
    monthly = pd.read_csv(out / "monthly.csv")
    bands = pd.read_csv(out / "bands.csv")
    for v in ("on-time", "slip-6-moving"):
        level = monthly[(monthly.variant == v) & (monthly.month == "2026-06")]
        band = bands[(bands.variant == v) & (bands.month == "2026-06")]
        iraq = int(level[level.theater == "iraq"].troops.iloc[0])
        b = band[band.theater == "iraq"].iloc[0]
        row = next(line for line in result.output.splitlines() if line.startswith(v + " "))
        assert row.split()[1] == f"{iraq:,}"
        assert f"{int(b.p25):,}–{int(b.p75):,} ({int(b.p50):,})" in row


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        ("2030-01", "expected a month the run steps, 2024-09 to 2028-06, found '--at 2030-01'"),
        (
            "Dec 2026",
            "expected a month as YYYY-MM, found '--at Dec 2026' (for that month write 2026-12)",
        ),
        (
            "2026-12-31",
            "expected a month as YYYY-MM, found '--at 2026-12-31' (for that month write 2026-12)",
        ),
        ("soon", "expected a month as YYYY-MM, found '--at soon'"),
        # (written YYYY-MM, but no month: "as YYYY-MM" told the reader what they had done)
        ("2026-13", "expected a month between 01 and 12, found '--at 2026-13'"),
    ],
)
def test_run_at_a_month_the_run_does_not_step_is_refused_before_any_file(
    tmp_path, at: str, expected: str
) -> None:
    out = tmp_path / "out"
    result = invoke("run", "--at", at, "-o", str(out))
    assert result.exit_code == 2
    assert f"<command line>:1:1: --at: {expected}" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "found"),
    [
        (["run", "--seed", "1", "--seed", "2", "--draws", "100"], "'--seed 1', then '--seed 2'"),
        (
            ["run", "--observed", "a.csv", "--observed=b.csv"],
            "'--observed a.csv', then '--observed=b.csv'",
        ),
        (["sensitivity", "--draws", "64", "--draws", "128"], "'--draws 64', then '--draws 128'"),
        (["compare", "--seed", "1", "--seed", "2"], "'--seed 1', then '--seed 2'"),
        (
            ["run", "--format", "csv", "--format", "parquet"],
            "'--format csv', then '--format parquet'",
        ),
    ],
)
def test_an_option_of_one_value_given_twice_is_refused_not_half_dropped(
    tmp_path, args: list[str], found: str
) -> None:
    # click kept the last: --observed a.csv --observed b.csv scored b.csv alone, silently
    out = tmp_path / "out"
    result = invoke(*args, "-o", str(out))
    assert result.exit_code == 2, result.output
    option = found.split()[0].strip("'").partition("=")[0]
    assert (
        f"<command line>:1:1: {option}: expected {option} once (given twice, only the last "
        f"would count), found {found}"
    ) in result.output
    assert not out.exists()


def test_an_option_given_twice_alike_and_a_gathering_option_repeated_are_taken(tmp_path) -> None:
    record = str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")
    result = invoke(
        "run", "--tolerance", "5%", "--tolerance", "5 %", "--observed", record,
        *("-q", "-o", str(tmp_path / "tolerance")),
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # (one value, written two ways)
    result = invoke(
        "run", *("--seed", "1", "--seed=1", "--draws", "50", "-v", "on-time", "-v", "slip-3"),
        *("-q", "-q", "-o", str(tmp_path / "out")),
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_one_folder_named_twice_with_and_without_a_slash_is_one_value(tmp_path) -> None:
    # -o d --out d/ names one folder: refused as two values before
    out = tmp_path / "out"
    result = invoke("run", "-q", "-o", str(out), "--out", f"{out}/")
    assert result.exit_code == 0, result.output
    assert (out / "run.json").is_file()
    result = invoke("run", "-q", "-o", str(out), "--out", str(tmp_path / "other"))
    assert result.exit_code == 2 and "expected --out once" in result.output


def test_run_at_a_month_shows_the_percentiles_of_every_variant_not_only_the_charted_ones(
    tmp_path,
) -> None:
    # the fan draws 6 of the sites scenario's 9 variants, and the table showed "-" for the
    # other 3, whose percentiles bands.csv holds
    out = tmp_path / "sites"
    result = invoke(
        "run", str(SCENARIOS_DIR / "iraq-sites-2024.yaml"), "--at", "2025-06",
        *("--draws", "200", "--seed", "2", "-o", str(out)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    bands = pd.read_csv(out / "bands.csv")
    bands = bands[(bands.month == "2025-06") & (bands.theater == "iraq")]
    assert bands.variant.nunique() == 9
    for b in bands.itertuples():
        row = next(line for line in result.output.splitlines() if line.startswith(b.variant + " "))
        assert f"{int(b.p25):,}–{int(b.p75):,} ({int(b.p50):,})" in row
    assert "-:" not in result.output


@pytest.mark.parametrize(
    ("draws", "said"),
    [
        ("200", "(unweighted: no variant keeps 30 effective draws to be weighted by the reports)"),
        ("1000", "-: fewer than 30 effective draws, not weighted (slip-6-moving)"),
    ],
)
def test_run_at_a_month_says_why_a_conditioned_run_shows_unweighted_or_no_percentiles(
    tmp_path, draws: str, said: str
) -> None:
    # with no variant weighted the column vanished, and a "-" was never explained
    result = invoke(
        "run", "--at", "2026-01", "--draws", draws, "--seed", "1", "--condition",
        *("--observed", str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")),
        *("-o", str(tmp_path / "out")),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert said in " ".join(result.output.split())


def test_run_at_a_month_misspelt_with_quiet_is_told_its_spelling_first(tmp_path) -> None:
    result = invoke("run", "--at", "Dec 2026", "-q", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "(for that month write 2026-12)" in result.output


def test_run_at_with_quiet_prints_the_months_table_without_the_reports_lines(tmp_path) -> None:
    # --at with -q was refused; a quiet run asking for a month's levels wants them
    record = str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")
    args = ["run", "--at", "2026-12", "--draws", "200", "--seed", "1", "--observed", record]
    loud = invoke(*args, "-o", str(tmp_path / "loud"))
    quiet = invoke(*args, "-q", "-o", str(tmp_path / "quiet"))
    assert quiet.exit_code == 0, quiet.output
    table = [line for line in quiet.stdout.splitlines() if not line.startswith("wrote ")]
    assert "at 2026-12" in " ".join(table) and "25th–75th (median)" in " ".join(table)
    assert table == loud.stdout.splitlines()[: len(table)]
    assert "observations:" in loud.stdout and "observations:" not in quiet.stdout


def test_a_run_into_a_folder_inside_another_run_directory_is_refused(tmp_path) -> None:
    # run -o R/sub wrote there, and R could then not be made again ("1 entry that is not
    # part of its run: 'sub'"); plot -o and report -o refused such a folder already
    outer = tmp_path / "R"
    assert invoke("run", "-v", "on-time", "-q", "-o", str(outer)).exit_code == 0
    inner = outer / "sub"
    result = invoke("run", "-v", "on-time", "-q", "-o", str(inner))
    assert result.exit_code == 2
    assert (
        f"{inner}:1:1: -o: expected a directory in no run's directory, found a folder inside "
        f"the run directory {outer}"
    ) in result.output
    assert not inner.exists()
    assert invoke("run", "-v", "on-time", "-q", "-o", str(outer)).exit_code == 0  # (again)


def test_the_run_tables_heading_names_the_month_its_levels_are_of_and_a_dash_is_explained(
    tmp_path,
) -> None:
    # the heading said the file's calendar end (2026-12) above levels of the last month
    # any variant steps (long's 2027-12), and a variant without that month showed "-"
    text = (
        "id: b\ntitle: B\nas_of: 2025-01-01\ncalendar: {start: 2025-01, end: 2026-12}\n"
        "announcement: {expected: 2025-01}\ntheaters: {iraq: {initial: 1000}}\n"
        "milestones: {exit: {theater: iraq, deadline: 2026-06, target: {level: 500}}}\n"
        "variants:\n  base: {description: base}\n"
        "  long: {description: longer, overrides: {calendar: {end: 2027-12}, milestones: "
        "{exit2: {theater: iraq, deadline: 2027-06, target: {level: 0}}}}}\n"
    )
    path = tmp_path / "b.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke("run", str(path), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "at 2027-12" in next(line for line in lines if line.startswith("variant"))
    assert next(line for line in lines if line.startswith("long ")).split()[1] == "0"
    assert next(line for line in lines if line.startswith("base ")).split()[1] == "-"
    assert "-: not in the variant's months or theaters (base)" in lines


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["run", "-o", "--seed"],
            "-o: expected a directory name, found '--seed', an option of the command (give "
            "--out its directory name before the next option; one really called so: ./--seed)",
        ),
        (
            ["run", "--observed", "--seed", "1"],
            "--observed: expected a file name, found '--seed', an option of the command (give "
            "--observed its file name before the next option; one really called so: ./--seed)",
        ),
        (
            ["run", "-q", "-o", "--help"],
            "-o: expected a directory name, found '--help', an option of the command (give "
            "--out its directory name before the next option; one really called so: ./--help)",
        ),
        (
            ["run", "-o=x"],
            "-o: expected a directory name, found '=x' (a short option takes its value after "
            "a space: -o x, or --out=x)",
        ),
    ],
)
def test_a_path_options_value_that_is_another_option_is_refused_not_made_a_folder(
    tmp_path, monkeypatch, args: list[str], said: str
) -> None:
    # run -o --seed wrote a directory called --seed; -o=x one called =x
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f"<command line>:1:1: {said}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_run_at_a_month_says_why_syrias_median_is_under_its_central_run_and_only_then(
    tmp_path,
) -> None:
    # the note went missing from a run with draws, and showed on a run without any
    note = "official figure leaves no troops out with a chance of at least 50 % (the scenario's)"
    drawn = invoke(
        "run", "--at", "2026-12", "--draws", "200", "--seed", "1", "-o", str(tmp_path / "a")
    )  # fmt: skip
    plain = invoke("run", "--at", "2026-12", "-o", str(tmp_path / "b"))
    central = invoke(
        "run", "-v", "on-time", "--set", "calendar.end=2027-01", "-o", str(tmp_path / "c")
    )  # fmt: skip
    assert drawn.exit_code == plain.exit_code == central.exit_code == 0
    assert note in " ".join(drawn.output.split())
    assert note not in " ".join(plain.output.split())
    assert note not in " ".join(central.output.split())


def test_a_run_of_the_default_into_its_default_folder_inside_a_run_names_the_default(
    tmp_path, monkeypatch
) -> None:
    # it was labelled "SCENARIO", which no one had given
    assert invoke("run", "-v", "on-time", "-q", "-o", str(tmp_path / "R")).exit_code == 0
    monkeypatch.chdir(tmp_path / "R")
    result = invoke("run", "-v", "on-time", "-q")
    assert result.exit_code == 2
    assert (
        "out/iraq-syria-2024:1:1: --out (by default): expected a directory in no run's "
        "directory, found a folder inside the run directory ."
    ) in result.output
    assert "(write it elsewhere: -o DIR)" in result.output


def test_the_run_table_says_how_long_before_today_its_knowledge_ends(tmp_path) -> None:
    # a reporter quoted a projection of 24 Feb 2026 as the outlook in December 2026: no
    # line said the record it weighed ended nine months before
    import datetime as dt

    from sim.cli.text import known_age, run_lines

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    result = sim.run(sc, variants=["on-time"])
    lines = run_lines(result, today=dt.date(2026, 12, 5))
    assert (
        "as of 2024-09-06, 26 months before today (2026-12-05): nothing reported since is in it"
        in lines
    )
    assert known_age(result, dt.date(2024, 10, 30)) is None  # (recent: nothing said)
    assert known_age(result, dt.date(2024, 11, 6)).startswith("as of 2024-09-06, 2 months")
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    options: dict[str, Any] = {"draws": 200, "seed": 1, "condition": True, "tolerance": "30%"}
    weighed = sim.run(sc, variants=["on-time"], observed=record, **options)
    assert known_age(weighed, dt.date(2026, 12, 5)).startswith(
        "its latest report weighed 2026-02-23, 9 months before today (2026-12-05): the later "
        "report 2026-01-18 iraq is left out"  # (the record's stale figure, which no draw meets)
    )
    # a target weighs no draw, nor does any report of a variant left out for too few
    # effective draws: the line does not take their dates
    promise = tmp_path / "promise.csv"
    promise.write_text(
        record.read_text(encoding="utf-8") + "2026-08-20,syria,0,0,target,,2027-01,x,a promise\n",
        encoding="utf-8",
    )
    with_target = sim.run(sc, variants=["on-time"], observed=promise, **options)
    assert known_age(with_target, dt.date(2026, 12, 5)).startswith(
        "its latest report weighed 2026-02-23, 9 months"
    )
    few = sim.run(sc, variants=["on-time"], draws=200, seed=1, observed=record, condition=True)
    assert few.observed.conditioned.too_few == ["on-time"]
    assert known_age(few, dt.date(2026, 12, 5)).startswith("as of 2024-09-06, 26 months")
    early = sim.run(sc, ["on-time"], observed=record, as_of="2025-06-01", **options)
    assert known_age(early, dt.date(2026, 12, 5)).startswith("its latest report weighed 2025-0")


def test_the_run_table_names_a_later_report_no_draw_comes_near_in_its_first_lines(
    tmp_path,
) -> None:
    # a reporter added "about 1,000 US troops remain in Syria" to a scenario whose every
    # draw had left: the run's first lines said nothing reported since was in it, and the
    # report's refusal stood twenty lines down, so "none are left" was read as today's
    import datetime as dt

    from sim.cli.text import known_age

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    news = tmp_path / "news.csv"
    news.write_text(
        record.read_text(encoding="utf-8")
        + "2026-11-20,iraq,9000,9000,reported,,,https://example.org/x,far above any draw\n",
        encoding="utf-8",
    )
    options: dict[str, Any] = {"draws": 200, "seed": 1, "condition": True, "tolerance": "30%"}
    result = sim.run(sc, variants=["on-time"], observed=news, **options)
    # (with the record's stale Iraq figure of January, which no draw of on-time meets
    # either, after the last Iraq report it weighed)
    assert known_age(result, dt.date(2026, 12, 5)) == (
        "its latest report weighed 2026-02-23, 9 months before today (2026-12-05): the later "
        "reports 2026-01-18 iraq; 2026-11-20 iraq are left out, no draw coming within their "
        "tolerance: this projection does not follow them; only a scenario revised for what "
        "changed can take them in"
    )
    # said however recent the last report weighed (the clock set back to March 2026)
    assert known_age(result, dt.date(2026, 3, 1)).startswith(
        "its latest report weighed 2026-02-23: the later reports 2026-01-18 iraq; 2026-11-20 iraq"
    )
    # a later report weighed in another theater does not hide it
    both = tmp_path / "both.csv"
    both.write_text(
        news.read_text(encoding="utf-8")
        + "2026-11-25,syria,1500,1500,reported,,,https://example.org/y,near the draws\n",
        encoding="utf-8",
    )
    weighed_later = sim.run(sc, variants=["on-time"], observed=both, **options)
    assert known_age(weighed_later, dt.date(2026, 12, 5)).startswith(
        "its latest report weighed 2026-11-25: the later reports 2026-01-18 iraq; 2026-11-20 "
        "iraq are left out"
    )
    # without the far report, the record's own stale one alone
    plain = sim.run(sc, variants=["on-time"], observed=record, **options)
    assert known_age(plain, dt.date(2026, 3, 1)).startswith(
        "its latest report weighed 2026-02-23: the later report 2026-01-18 iraq is left out"
    )
    out = invoke(
        "run",
        "--observed",
        str(news),
        "--condition",
        "--tolerance",
        "30%",
        "--draws",
        "200",
        "--seed",
        "1",
        "-v",
        "on-time",
        "-o",
        str(tmp_path / "r"),
    )
    head = " ".join(out.stdout.split("\n")[:5])
    assert "2026-01-18 iraq; 2026-11-20 iraq are left out" in " ".join(head.split())


def test_the_run_table_says_a_milestone_met_may_leave_troops_and_where_to_read_when_they_go(
    tmp_path,
) -> None:
    # "syria-exit met (2026-04), p=0.50" beside "syria by 2026-08 in half the draws": a
    # reporter could not tell which line said when the troops are gone
    result = invoke("run", "--draws", "200", "--seed", "1", "-o", str(tmp_path / "run"))
    text = " ".join(result.stdout.split())
    assert (
        "a residual presence that stays raises the target, so a milestone met may leave "
        "troops: zero troops, below, says when the last leave" in text
    )
    assert "zero troops, when the last leave (the draws' median month" in text


@pytest.mark.parametrize(
    ("as_of", "found"),
    [
        ("2026-2-24", "'2026-2-24' (for that date write 2026-02-24)"),
        ("2025-6", "'2025-6' (for that date write 2025-06)"),
        ("24 Feb 2026", "'24 Feb 2026'"),
        ("2026-2-30", "'2026-2-30'"),  # (no such day to suggest)
        ("2026-13-4", "'2026-13-4'"),
    ],
)
def test_an_as_of_date_with_one_digit_parts_is_refused_with_the_date_to_write(
    tmp_path, as_of: str, found: str
) -> None:
    out = tmp_path / "out"
    record = str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")
    result = invoke("run", "--observed", record, "--as-of", as_of, "-o", str(out))
    assert result.exit_code == 2
    assert result.output == (
        "forcesim: error: <command line>:1:1: --as-of: expected a date as YYYY-MM-DD or "
        f"YYYY-MM, found {found}\n"
    )
    assert not out.exists()
