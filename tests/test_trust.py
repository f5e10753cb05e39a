"""Issue 4: schema, provenance, atomic output."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shlex
import sys
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from conftest import line_of

import sim
from sim.cli import main
from sim.io.files import atomic_directory, write_record
from sim.paths import scenarios_dir
from sim.provenance import json_schema, provenance

SHIPPED = sorted(scenarios_dir().rglob("*.yaml"))
DEFAULT = scenarios_dir() / "iraq-syria-2024.yaml"


def _as_json(value):
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _schema():
    return json.loads(json_schema())


def test_schema_command_prints_draft_2020_12_json_schema():
    res = CliRunner().invoke(main, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_schema_accepts_every_shipped_scenario_as_written(path):
    # as an editor reads the file (YAML 1.2), extends and all: not the merged document
    from sim.io.yamlio import parse_yaml

    data, _ = parse_yaml(path.read_bytes(), str(path))
    jsonschema.Draft202012Validator(_schema()).validate(data)
    jsonschema.Draft202012Validator(_schema()).validate(_as_json(sim.load_scenario(path).raw))


def test_schema_of_a_file_that_extends_requires_nothing_and_still_refuses_unknown_keys():
    from sim.io.yamlio import parse_yaml

    path = scenarios_dir() / "iraq-sites-2024.yaml"
    data, _ = parse_yaml(path.read_bytes(), str(path))
    validator = jsonschema.Draft202012Validator(_schema())
    assert "extends" in data and "announcement" not in data
    data["theaters"]["iraq"]["sites"]["erbil"]["intial"] = 5
    assert any("intial" in e.message for e in validator.iter_errors(data))
    del data["theaters"]["iraq"]["sites"]["erbil"]["intial"], data["extends"]
    missing = {e.message for e in validator.iter_errors(data)}
    assert "'announcement' is a required property" in missing  # complete without extends


def test_schema_rejects_an_unknown_key():
    data = _as_json(yaml.safe_load(DEFAULT.read_text(encoding="utf-8")))
    data["theaters"]["iraq"]["intial"] = 5
    errors = list(jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    assert any("intial" in e.message for e in errors)


def test_schema_rejects_an_unknown_top_level_key():
    data = _as_json(yaml.safe_load(DEFAULT.read_text(encoding="utf-8")))
    data["horizon"] = "2030-01"
    with pytest.raises(jsonschema.ValidationError, match="horizon"):
        jsonschema.Draft202012Validator(_schema()).validate(data)


def test_sources_lists_each_number_with_its_source_or_assumption():
    res = CliRunner().invoke(main, ["sources", str(DEFAULT)])
    assert res.exit_code == 0, res.output
    assert "theaters.iraq.initial = 2500" in res.stdout
    assert "source shafaq" in res.stdout
    assert "assumption:" in res.stdout
    assert "0 unsupported" in res.stdout


def test_every_number_of_the_default_scenario_is_supported():
    sc = sim.load_scenario(DEFAULT)
    for variant in [None, *sc.doc.variants]:
        bad = [p.path for p in provenance(sc, variant) if not p.supported]
        assert bad == [], (variant, bad)


def _unsourced(tmp_path: Path) -> Path:
    text = DEFAULT.read_text(encoding="utf-8").replace(
        'initial: {value: 900, source: shafaq, quote: "and 900 in neighboring Syria"}',
        "initial: 900",
    )
    assert "initial: 900" in text
    p = tmp_path / "unsourced.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_sources_flags_a_number_with_neither_source_nor_assumption(tmp_path):
    res = CliRunner().invoke(main, ["sources", str(_unsourced(tmp_path))])
    assert res.exit_code == 0
    assert "theaters.syria.initial = 900\n    UNSUPPORTED" in res.stdout


def test_validate_strict_fails_on_an_unsupported_number(tmp_path):
    path = _unsourced(tmp_path)
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    res = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert res.exit_code == 2
    assert "theaters.syria.initial: expected a source or an assumption" in res.stderr


def test_validate_strict_passes_every_shipped_scenario():
    res = CliRunner().invoke(main, ["validate", "--strict", *map(str, SHIPPED)])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_run_json_records_sources_and_assumptions_used(tmp_path):
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "o" / "run.json").read_text())
    assert set(record["provenance"]["sources"]) == {"shafaq", "report-003"}
    assert any("advisory" in k for k in record["provenance"]["assumptions"])
    assert record["provenance"]["unsupported"] == []


# ------------------------------------------------------------- atomic output


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@pytest.mark.slow
def test_failed_plotting_leaves_the_previous_run_untouched(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    before = _snapshot(out)

    def boom(*a, **k):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr("sim.plotting.plot_envelope", boom)
    res = CliRunner().invoke(
        main, ["run", str(DEFAULT), "-q", "--out", str(out), "--variant", "slip-6"]
    )
    assert res.exit_code != 0
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporary left behind


@pytest.mark.parametrize("mode", [0o700, 0o2750, 0o750])
def test_a_run_keeps_the_permissions_and_group_of_the_directory_it_replaces(tmp_path, mode):
    # the user's own private (or group-shared, set-group-ID) empty folder was replaced by
    # a new one with the umask's 755: the run became readable by everyone
    import stat

    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, mode)
    group = os.stat(out).st_gid
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    after = os.stat(out)
    assert (stat.S_IMODE(after.st_mode), after.st_gid) == (mode, group)
    with atomic_directory(out) as tmp:  # (and a run that replaces a run)
        write_record(tmp, {"x": 1})
    assert stat.S_IMODE(os.stat(out).st_mode) == mode


@pytest.mark.parametrize("command", ["plot", "report"])
def test_a_chart_or_page_written_again_keeps_the_permissions_of_the_one_it_replaces(
    tmp_path, command
):
    import stat

    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    if command == "report":
        assert CliRunner().invoke(main, ["report", str(out)]).exit_code == 0
    written = out / ("envelope.png" if command == "plot" else "report.html")
    os.chmod(written, 0o600)
    res = CliRunner().invoke(main, [command, str(out)])
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600


def test_a_group_that_cannot_be_kept_takes_its_permissions_with_it(tmp_path, monkeypatch):
    # (a folder of a group this user is not in: the new one is the user's own group's,
    # which the old folder's group permissions were never meant for)
    import stat

    from sim.io.files import as_before

    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    os.chmod(old, 0o2770)

    def not_a_member(*_a: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "chown", not_a_member)
    as_before(new, old)
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o700


def test_a_link_replaced_gives_the_new_file_nothing_of_its_target(tmp_path):
    import stat

    from sim.io.files import as_before

    theirs = tmp_path / "theirs.png"
    theirs.write_bytes(b"x")
    os.chmod(theirs, 0o640)
    link, new = tmp_path / "chart.png", tmp_path / "new.png"
    link.symlink_to(theirs)
    new.write_bytes(b"y")
    os.chmod(new, 0o644)
    as_before(new, link)
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o644


@pytest.mark.slow
def test_interrupted_run_leaves_the_previous_run_untouched(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    before = _snapshot(out)

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.export.write.write_record", interrupt)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 130
    assert "interrupted" in res.stderr
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.parametrize(
    "error",
    [
        "RuntimeError('Error calling __set_name__')",  # a Ctrl-C inside an import
        "OSError(9, 'Bad file descriptor')",  # a cluster's socket closed under it
    ],
)
def test_an_error_that_came_of_a_ctrl_c_is_said_as_the_interruption(tmp_path, monkeypatch, error):
    # "forcesim: internal error: RuntimeError: Error calling __set_name__ on ..." and
    # "forcesim: error: Bad file descriptor" were said for a Ctrl-C during a run's start
    out = tmp_path / "run"

    def interrupted_inside(*a, **k):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise eval(error) from exc

    monkeypatch.setattr("sim.export.write.write_record", interrupted_inside)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert (res.exit_code, res.stderr) == (130, "forcesim: interrupted; nothing was written\n")
    assert not out.exists()


def test_an_error_no_ctrl_c_caused_is_still_said_as_itself(tmp_path, monkeypatch):
    def broken(*a, **k):
        raise OSError(9, "Bad file descriptor")

    monkeypatch.setattr("sim.export.write.write_record", broken)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "found Bad file descriptor" in res.stderr, res.stderr
    assert "interrupted" not in res.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["schema"], ["--help"], ["--version"], ["list"], []])
def test_standard_output_that_cannot_be_written_is_one_line_and_exit_2(args):
    # a traceback, and exit 0: `forcesim schema > forcesim.schema.json` on a full disk
    # "succeeded" with an empty file
    import subprocess

    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sim", *args], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert (done.returncode, done.stderr) == (
        2,
        "forcesim: error: standard output: No space left on device\n",
    )


@pytest.mark.parametrize("args", [["schema"], ["--help"], ["--version"], ["list"]])
def test_a_command_started_without_standard_output_says_so_not_exit_0_unsaid(args):
    # forcesim schema >&- exited 0 having printed nothing: click.echo drops every line
    # where Python starts with no standard output
    import subprocess

    command = " ".join([shlex.quote(sys.executable), "-m", "sim", *args])
    done = subprocess.run(["sh", "-c", f"{command} >&-"], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (
        2,
        "forcesim: error: standard output: closed (started without one: >&-)\n",
    )


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_run_whose_summary_cannot_be_printed_says_its_files_were_written(tmp_path):
    import subprocess

    out = tmp_path / "out"
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "sim", "run", "-o", str(out)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert (done.returncode, done.stderr) == (
        2,
        f"forcesim: error: standard output: No space left on device; {out}/ was written "
        "whole before it\n",
    )
    assert (out / "run.json").is_file()


@pytest.mark.slow
def test_an_output_named_outside_ascii_is_written_under_an_ascii_locale(tmp_path):
    # LC_ALL=C without UTF-8 mode: "bäd dir/out€" was an internal UnicodeEncodeError
    # (the temporary name was made of the name's characters, which ASCII cannot hold)
    import subprocess

    out = os.fsencode(tmp_path) + "/bäd dir/out€".encode()
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    done = subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"sim", b"run", b"-q", b"-o", out],
        capture_output=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert os.path.isfile(out + b"/run.json")


@pytest.mark.slow
def test_a_deleted_working_directory_is_named_and_list_needs_none(tmp_path):
    # both said "forcesim: error: No such file or directory", naming nothing
    import subprocess

    gone = tmp_path / "gone"
    gone.mkdir()
    script = (
        "import os, sys\n"
        f"os.chdir({str(gone)!r}); os.rmdir({str(gone)!r})\n"
        "from sim.cli import main\nsys.argv[0] = 'forcesim'\nmain()\n"
    )

    def forcesim(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
        )

    listed = forcesim("list")
    assert listed.returncode == 0 and "iraq-syria-2024.yaml" in listed.stdout, listed.stderr
    gone.mkdir()  # (the first command took it away)
    run = forcesim("run", "-q")
    assert (run.returncode, run.stderr) == (
        2,
        "forcesim: error: the working directory: expected a directory that exists, found it "
        "deleted (cd to one that exists and run again)\n",
    )


@pytest.mark.slow
def test_what_a_library_fails_to_tear_down_after_a_ctrl_c_is_not_printed(tmp_path):
    # a local cluster stopped while it started: "Exception ignored in atexit callback:
    # <function close_clusters ...>", a traceback, after the command's one line
    import subprocess
    import sys

    script = (
        "import atexit, sys\nfrom sim.cli import main\n"
        "def torn(): raise AssertionError('Status.init')\n"
        "atexit.register(torn)\n"  # (run before forcesim's own, registered first)
        "import sim.export.write\n"
        "def stop(*a, **k): raise KeyboardInterrupt\n"
        "sim.export.write.write_record = stop\n"
        "sys.argv[0] = 'forcesim'\nmain()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "run", "-q", "--out", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stderr) == (130, "forcesim: interrupted; nothing was written\n")


@pytest.mark.slow
def test_an_interruption_while_the_replaced_run_is_deleted_waits_and_says_what_was_written(
    tmp_path, monkeypatch
):
    # Ctrl-C in the moment after the new run was swapped in: the clean-up deleted the
    # previous run whole (files another program had put there too) and the command said
    # "nothing was written" of a run that was complete
    import signal

    from sim.io import files

    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    discard = files._discard

    def interrupted_discard(old, name):
        (old / "notes.txt").write_text("mine")  # another program, during the swap
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, now
        discard(old, name)

    monkeypatch.setattr(files, "_discard", interrupted_discard)
    args = ["run", str(DEFAULT), "-q", "--out", str(out), "--variant", "slip-6"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 130
    assert f"interrupted after writing {out}/ whole" in res.stderr
    assert json.loads((out / "run.json").read_text())["variants"] == ["slip-6"]
    kept = [p for p in tmp_path.iterdir() if ".kept-" in p.name]
    assert len(kept) == 1 and (kept[0] / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_an_interruption_after_a_chart_is_redrawn_into_a_run_says_so_and_the_run_stays_replaceable(
    tmp_path, monkeypatch
):
    # Ctrl-C between a chart's move into the run directory and the manifest taking it
    # in (or while the next chart was drawn): the command said "nothing was written" of
    # a replaced envelope.png, and the next run into the directory was refused, its
    # envelope.png "changed after forcesim wrote it"
    import signal

    import sim.export.read
    from sim.io.files import foreign

    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    record = sim.export.read.record_files

    def interrupted_record(directory, names):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, the moment the chart is in place
        record(directory, names)

    monkeypatch.setattr(sim.export.read, "record_files", interrupted_record)
    res = CliRunner().invoke(main, ["plot", str(out), "--theater", "iraq"])
    assert res.exit_code == 130
    assert f"interrupted after writing {out / 'envelope.png'} whole" in res.stderr
    assert foreign(out) is None
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.slow
def test_an_interruption_while_a_runs_charts_are_redrawn_leaves_every_chart_as_it_was(
    tmp_path, monkeypatch
):
    # `plot RUN --theater syria` interrupted as the fan was drawn left envelope.png of
    # Syria alone beside the fan of the whole run: neither the old run nor the new
    import sim.export.read
    from sim.io.files import foreign

    out = tmp_path / "run"
    args = ["run", str(DEFAULT), "-q", "--draws", "200", "--seed", "1", "--out", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    before = _snapshot(out)
    save = sim.export.read.plotting.save
    drawn: list[str] = []

    def interrupted_second(axes, path):
        drawn.append(str(path))
        if len(drawn) == 2:
            raise KeyboardInterrupt
        save(axes, path)

    monkeypatch.setattr(sim.export.read.plotting, "save", interrupted_second)
    res = CliRunner().invoke(main, ["plot", str(out), "--theater", "syria"])
    assert (res.exit_code, res.stderr) == (130, "forcesim: interrupted; nothing was written\n")
    assert len(drawn) == 2
    assert _snapshot(out) == before
    assert foreign(out) is None
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.slow
@pytest.mark.parametrize("command", ["report", "plot"])
@pytest.mark.parametrize("earlier", [False, True], ids=["new", "over-its-own"])
def test_a_full_disk_as_a_file_joins_its_run_leaves_the_run_as_it_was(
    tmp_path, monkeypatch, command, earlier
):
    # the page (or chart) is moved in, then run.json cannot be written again: the page
    # must not stay in the run unlisted (the folder would be refused by the next run)
    import sim.io.files
    from sim.io.files import foreign

    out = tmp_path / "run"
    first = ["run", str(DEFAULT), "-q", "--out", str(out)]
    assert CliRunner().invoke(main, first + (["--report"] if earlier else [])).exit_code == 0
    if earlier and command == "plot":
        assert (out / "envelope.png").exists()
    before = _snapshot(out)
    monkeypatch.setattr(sim.io.files, "write_json", _disk_full)
    args = ["report", str(out), "--variant", "on-time"]
    if command == "plot":
        args = ["plot", str(out), "--theater", "iraq"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2, res.output
    assert "No space left on device" in res.stderr
    assert len(res.stderr.splitlines()) == 1
    assert _snapshot(out) == before
    assert foreign(out) is None
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.slow
def test_an_interruption_as_a_report_joins_its_run_waits_for_the_manifest(tmp_path, monkeypatch):
    import signal

    import sim.report.page
    from sim.io.files import foreign

    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    record = sim.report.page.record_files

    def interrupted_record(directory, names):
        os.kill(os.getpid(), signal.SIGTERM)
        record(directory, names)

    monkeypatch.setattr(sim.report.page, "record_files", interrupted_record)
    res = CliRunner().invoke(main, ["report", str(out)])
    assert res.exit_code == 128 + signal.SIGTERM
    assert f"interrupted after writing {out / 'report.html'} whole" in res.stderr
    assert foreign(out) is None


@pytest.mark.slow
def test_a_failed_write_after_a_good_one_into_the_same_directory_leaves_nothing_behind(
    tmp_path, monkeypatch
):
    # in one process (a notebook): the second write fails before its swap
    result = sim.run(sim.load_scenario(DEFAULT), ["on-time"])
    out = tmp_path / "run"
    sim.write_run(result, out)
    before = _snapshot(out)

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.export.write.write_record", full)
    with pytest.raises(sim.ScenarioError, match="No space left on device"):
        sim.write_run(result, out)
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


@pytest.mark.slow
def test_disk_full_while_writing_leaves_no_partial_directory(tmp_path, monkeypatch):
    out = tmp_path / "fresh"

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.export.write.write_record", full)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 2
    assert "No space left on device" in res.stderr
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_as_a_runs_page_is_written_names_the_page_where_it_was_asked_for(
    tmp_path, monkeypatch
):
    # it named the page inside the run's hidden temporary folder, gone by then:
    # "out/.fresh.forcesim-3396-…/report.html"
    out = tmp_path / "fresh"

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.report.page._write_bytes", full)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--report", "-o", str(out)])
    assert res.exit_code == 2
    assert res.stderr == (
        f"forcesim: error: {out}/report.html:1:1: output: expected a file forcesim can "
        "write, found No space left on device; nothing was written\n"
    )
    assert list(tmp_path.iterdir()) == []
    # over an earlier run, which is kept: said so, not "nothing was written"
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "-o", str(out)]).exit_code == 0
    before = sorted(p.name for p in out.iterdir())
    monkeypatch.setattr("sim.report.page._write_bytes", full)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--report", "-o", str(out)])
    assert res.stderr.endswith(
        "found No space left on device; the previous run is kept as it was\n"
    ), res.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_a_folder_the_system_will_not_let_a_run_replace_is_named_so_not_as_a_kept_run(
    tmp_path, monkeypatch
):
    # a read-only bind mount given as -o read "found Device or resource busy while
    # writing rodir; the previous run is kept as it was": there was no previous run
    import errno

    out = tmp_path / "mounted"
    out.mkdir()

    def busy(tmp, target):
        raise OSError(errno.EBUSY, "Device or resource busy", str(target))

    monkeypatch.setattr("sim.io.files._swap_in", busy)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "-o", str(out)])
    assert res.exit_code == 2
    assert res.stderr == (
        f"forcesim: error: {out}:1:1: -o: expected a writable output directory, found "
        f"Device or resource busy ({out} is a mount point or in use, "
        f"which a run cannot replace: write into a folder inside it, {out}/run); nothing "
        f"was written, and {out} is as it was\n"
    )
    assert list(tmp_path.iterdir()) == [out] and list(out.iterdir()) == []


def _limited_file_size(limit: int):
    """A ``preexec_fn`` giving the child ``ulimit -f`` of ``limit`` bytes (Python ignores
    SIGXFSZ, so a write past it fails with EFBIG, as on a full disk)."""
    import resource

    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="no file size limit on Windows")
@pytest.mark.parametrize("earlier", [True, False], ids=["over-a-run", "new"])
def test_a_file_size_limit_while_writing_is_one_line_naming_the_output_and_changes_nothing(
    tmp_path, earlier
):
    import subprocess

    out = tmp_path / "run"
    if earlier:
        assert (
            CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
        )
    before = _snapshot(out) if earlier else None
    res = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(DEFAULT), "-q", "--out", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=_limited_file_size(20_000),
        check=False,
    )
    assert res.returncode == 2
    kept = "the previous run is kept as it was" if earlier else "nothing was written"
    assert res.stderr == (
        f"forcesim: error: {out}:1:1: --out: expected a writable output directory, "
        f"found File too large; {kept}\n"
    )
    assert (_snapshot(out) if earlier else None) == before
    assert [p.name for p in tmp_path.iterdir()] == (["run"] if earlier else [])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="no file size limit on Windows")
def test_a_file_size_limit_while_writing_a_chart_or_page_is_one_line_naming_it(tmp_path):
    import subprocess

    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    before = _snapshot(run)
    for command in (["plot", str(run), "-o"], ["report", str(run), "-o"]):
        target = tmp_path / ("chart.png" if command[0] == "plot" else "page.html")
        res = subprocess.run(
            [sys.executable, "-m", "sim", *command, str(target)],
            capture_output=True,
            text=True,
            preexec_fn=_limited_file_size(1_000),
            check=False,
        )
        assert res.returncode == 2, res.stderr
        assert res.stderr == (
            f"forcesim: error: {target}:1:1: -o: expected a file forcesim can write, "
            "found File too large; nothing was written\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert _snapshot(run) == before


@pytest.mark.slow
@pytest.mark.parametrize("command", ["plot", "report"])
def test_a_chart_or_page_under_a_file_is_one_line_naming_the_file_before_any_work(
    tmp_path, command, monkeypatch
):
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine\n")
    target = blocker / "deeper" / ("chart.png" if command == "plot" else "page.html")

    def no_work(*a, **k):
        raise AssertionError("drew or built something before refusing")

    monkeypatch.setattr("sim.plotting.save", no_work)
    monkeypatch.setattr("sim.report.page.report_html", no_work)
    res = CliRunner().invoke(main, [command, str(run), "-o", str(target)])
    assert res.exit_code == 2
    assert res.stderr == (
        f"forcesim: error: {target}:1:1: -o: expected a file forcesim can write, "
        f"found cannot write to {blocker} (a file, not a directory)\n"
    )
    assert blocker.read_text() == "mine\n"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["plot", "report"])
def test_an_output_of_another_kind_is_quoted_as_written(tmp_path, command):
    # (-o /dev/null was quoted as 'null', -o run/monthly.csv as 'monthly.csv')
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    for target in ("/dev/null", str(run / "monthly.csv")):
        res = CliRunner().invoke(main, [command, str(run), "-o", target])
        assert res.exit_code == 2
        assert res.stderr.endswith(f", found {target!r}\n")


@pytest.mark.slow
def test_an_output_that_is_a_symbolic_link_is_refused_as_one_and_its_target_kept(tmp_path):
    # (it was 'a file in its place (it is not a directory)', of a link to a directory)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(tmp_path / "link")])
    assert res.exit_code == 2
    assert "found a symbolic link in its place" in res.stderr
    assert "not a directory" not in res.stderr
    assert list(elsewhere.iterdir()) == []
    (tmp_path / "chart.png").symlink_to(tmp_path / "mine.txt")
    (tmp_path / "mine.txt").write_text("mine\n")
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    res = CliRunner().invoke(main, ["plot", str(run), "-o", str(tmp_path / "chart.png")])
    assert res.exit_code == 2
    assert "found a symbolic link in its place; nothing was overwritten" in res.stderr
    assert (tmp_path / "mine.txt").read_text() == "mine\n"


@pytest.mark.parametrize("what", ["a directory", "not a regular file"])
def test_extends_of_something_that_is_no_file_says_what_it_is(write, tmp_path, what):
    # (a directory or /dev/zero was 'no such file')
    parent = str(tmp_path) if what == "a directory" else "/dev/zero"
    path = write(f"extends: {parent}\nid: child\n")
    with pytest.raises(sim.ScenarioError, match=re.escape(f"found {parent!r} ({what})")):
        sim.load_scenario(path)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
@pytest.mark.parametrize("name", ["run.json", "monthly.csv"])
def test_a_run_directory_whose_file_is_a_directory_or_a_pipe_says_which(tmp_path, name):
    # (both were 'found no such file', of a file that is there)
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    (run / name).unlink()
    (run / name).mkdir()
    res = CliRunner().invoke(main, ["plot", str(run)])
    assert res.exit_code == 2
    assert res.stderr.endswith(f"holding {name}, found a directory\n")
    (run / name).rmdir()
    os.mkfifo(run / name)
    res = CliRunner().invoke(main, ["plot", str(run)])  # (never opened: it would block)
    assert res.exit_code == 2
    assert res.stderr.endswith(f"holding {name}, found not a regular file\n")


def _tree(d: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry under ``d`` (itself included) with its mode and content."""
    return {
        str(p.relative_to(d)): (p.stat().st_mode, p.read_bytes() if p.is_file() else b"")
        for p in [d, *sorted(d.rglob("*"))]
    }


@pytest.mark.slow
def test_a_read_only_directory_is_never_replaced_nor_written_into(tmp_path):
    # (an empty directory made read-only was swapped for a new one, owner and mode
    # and all; a run directory made read-only was replaced, or had charts added by
    # plot and a page by report; root can write anywhere, so the mode bits decide)
    empty = tmp_path / "empty"
    empty.mkdir()
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    for d in (empty, run):
        d.chmod(0o555)
    try:
        before = {d: _tree(d) for d in (empty, run)}
        for args in (
            ["run", str(DEFAULT), "-q", "--out", str(empty)],
            ["run", str(DEFAULT), "-q", "--out", str(run)],
            ["run", str(DEFAULT), "-q", "--out", str(empty / "inside")],
            ["plot", str(run)],
            ["plot", str(run), "-o", str(run / "new.png")],
            ["report", str(run)],
        ):
            res = CliRunner().invoke(main, args)
            assert res.exit_code == 2, (args, res.output)
            assert res.stderr.count("\n") == 1 and "read-only directory" in res.stderr
        assert {d: _tree(d) for d in (empty, run)} == before
    finally:
        for d in (empty, run):
            d.chmod(0o755)


@pytest.mark.slow
def test_a_file_of_a_run_made_read_only_is_not_replaced(tmp_path):
    run = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)]).exit_code == 0
    (run / "monthly.csv").chmod(0o444)
    (run / "envelope.png").chmod(0o444)
    before = _tree(run)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(run)])
    assert res.exit_code == 2
    assert "found a run directory whose envelope.png was made read-only" in res.stderr
    res = CliRunner().invoke(main, ["plot", str(run)])
    assert res.exit_code == 2
    assert "found a read-only file" in res.stderr
    assert _tree(run) == before


@pytest.mark.slow
def test_a_new_run_leaves_no_stale_files_from_an_older_run(tmp_path):
    out = tmp_path / "run"
    with atomic_directory(out) as tmp:  # an older run that wrote other files
        (tmp / "bands.csv").write_text("stale\n")
        (tmp / "notes.txt").write_text("old\n")
        write_record(tmp, {"forcesim_version": "0.0.1"})
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "envelope.png",
        "milestones.csv",
        "monthly.csv",
        "run.json",
    ]


def test_unwritable_output_directory_gives_a_clear_error(tmp_path, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.mkdir", denied)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"forcesim: error: {tmp_path}")
    assert ": --out: expected a writable output directory, found cannot write to" in res.stderr
    assert "Permission denied" in res.stderr
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_output_path_that_is_a_file_gives_a_clear_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a directory")
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(target)])
    assert res.exit_code == 2
    assert "is not a directory" in res.stderr
    assert target.read_text() == "not a directory"


def test_output_under_a_file_says_the_file_is_in_the_way(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(blocker / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"forcesim: error: {tmp_path}")
    assert ": --out: expected a writable output directory, found cannot write to" in res.stderr
    assert res.stderr.endswith(f"found cannot write to {blocker} (a file, not a directory)\n")
    assert "permission denied" not in res.stderr
    assert "Traceback" not in res.output
    assert blocker.read_text() == "x"


def test_output_on_a_read_only_file_system_says_so_not_permission_denied(tmp_path, monkeypatch):
    # root may write any directory, so "permission denied" hid the real cause: the
    # file system was mounted read-only (a mount needs root: its answers stand in here)
    import os

    from sim.io import files

    real_statvfs, real_access = os.statvfs, os.access

    def statvfs(path):
        got = real_statvfs(path)
        if os.fspath(path) != os.fspath(tmp_path):
            return got
        return os.statvfs_result((*got[:8], got.f_flag | os.ST_RDONLY, got.f_namemax))

    monkeypatch.setattr(files.os, "statvfs", statvfs)
    monkeypatch.setattr(
        files.os,
        "access",
        lambda p, m: False if os.fspath(p) == os.fspath(tmp_path) else real_access(p, m),
    )
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(tmp_path / "new")])
    assert res.exit_code == 2
    assert res.stderr.endswith(f"found cannot write to {tmp_path}: a read-only file system\n")
    assert not (tmp_path / "new").exists()


def test_atomic_directory_swaps_in_only_on_success(tmp_path):
    target = tmp_path / "t"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(ValueError), atomic_directory(target) as tmp:
        (tmp / "b.txt").write_text("2")
        raise ValueError
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


@pytest.mark.slow
def test_run_directory_and_files_get_the_usual_permissions(tmp_path):
    out = tmp_path / "o"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask
    assert (out / "envelope.png").stat().st_mode & 0o777 == 0o666 & ~mask


def test_a_directory_forcesim_did_not_write_is_never_replaced(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious\n")
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 2
    assert "--out: expected a new or empty directory, or one holding only an earlier " in (
        res.stderr
    )
    assert "found a directory holding 1 file forcesim did not write (e.g. 'thesis.tex')" in (
        res.stderr
    )
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert (out / "thesis.tex").read_text() == "precious\n"


# ------------------------------------------------------------- issue 11: numbers as written
# A number is plain decimal digits. A form that readers disagree on is refused with a hint,
# never reinterpreted; a whole-number quantity given a fraction is refused, never rounded;
# every message quotes the text as the file wrote it.


def _mini(write, old: str, new: str) -> Path:
    from conftest import MINIMAL_YAML

    assert old in MINIMAL_YAML
    return write(MINIMAL_YAML.replace(old, new))


def _error(path: Path) -> sim.ScenarioError:
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path)
    assert "\n" not in str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        (
            "0700",
            "write 700, without the leading zero; YAML 1.1 readers take 0700 for the octal 448",
        ),
        ("0o700", "0o700 is octal: write 448 if that is meant"),
        ("0x1F", "0x1F is hexadecimal: write 31 if that is meant"),
        ("1e3", "write 1000, without an exponent"),
        ("2.5e3", "write 2500, without an exponent"),
        ("-0700", "write -700, without the leading zero"),
    ],
)
def test_a_number_form_readers_disagree_on_is_refused_with_a_hint(write, written, hint):
    err = _error(_mini(write, "initial: 1000", f"initial: {written}"))
    assert err.path == "theaters.alpha.initial"
    assert err.found == repr(written)
    assert hint in err.expected


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("1_000", "write 1000, without underscores"),
        (
            "2:30",
            "YAML 1.1 readers take 2:30 for the base-60 number 150: "
            "write the number as plain digits",
        ),
        ("2,500", "for two thousand five hundred write 2500"),
        ("1.250.000", "for one million two hundred fifty thousand write 1250000"),
        ('"2500"', "a number in quotes is text: write 2500 without quotes"),
    ],
)
def test_yaml_1_1_number_forms_are_text_and_refused_where_a_number_belongs(write, written, hint):
    err = _error(_mini(write, "initial: 1000", f"initial: {written}"))
    shown = written if written.startswith('"') else repr(written)
    assert err.found == f"{shown} ({hint})"


def test_scalars_are_read_by_the_yaml_1_2_core_schema():
    from sim.io.yamlio import parse_yaml

    text = "a: yes\nb: on\nc: 2024-09-01\nd: 1_000\ne: true\nf: ~\ng: 700\nh: .5\ni: 'x'\n"
    data, _ = parse_yaml(text)
    assert data == {
        "a": "yes",
        "b": "on",
        "c": "2024-09-01",
        "d": "1_000",
        "e": True,
        "f": None,
        "g": 700,
        "h": 0.5,
        "i": "x",
    }


def test_an_explicit_number_tag_is_refused_and_a_str_tag_keeps_text():
    from sim.io.yamlio import parse_yaml

    assert parse_yaml("a: !!str 0700\n")[0] == {"a": "0700"}
    with pytest.raises(sim.ScenarioError, match="plain YAML values without tags"):
        parse_yaml("a: !!int 0700\n")


def test_yes_where_true_or_false_belongs_is_refused_with_a_hint(write):
    err = _error(_mini(write, "    theater: alpha\n", "    theater: alpha\n    slips: yes\n"))
    assert err.path == "milestones.alpha-out.slips"
    assert "'yes' (write true or false: YAML 1.2 reads yes, no, on and off as text)" in err.found


@pytest.mark.parametrize(
    ("old", "new", "path", "found"),
    [
        ("initial: 1000", "initial: 2.500", "theaters.alpha.initial", "'2.500'"),
        ("initial: 1000", "initial: 2.000", "theaters.alpha.initial", "'2.000'"),
        (
            "initial: 1000",
            "initial: {uniform: [1.500, 2.500]}",
            "theaters.alpha.initial.uniform[0]",
            "'1.500'",
        ),
        ("level: 0", "level: {value: 1.250}", "milestones.alpha-out.target.level.value", "'1.250'"),
    ],
)
def test_a_thousands_separator_in_a_whole_number_is_refused_with_the_number_spelled_out(
    write, old, new, path, found
):
    err = _error(_mini(write, old, new))
    assert err.path == path
    assert err.expected.startswith("a whole number of troops")
    digits = found.strip("'").replace(".", "")
    assert err.found.startswith(found) and f"write {int(digits)})" in err.found


def test_the_hint_spells_the_number_out():
    from sim.io.numbers import spoken

    assert spoken(2500) == "two thousand five hundred"
    assert spoken(1_250_000) == "one million two hundred fifty thousand"
    assert spoken(90) == "ninety" and spoken(21) == "twenty-one" and spoken(0) == "zero"


@pytest.mark.parametrize(
    ("old", "new", "path", "unit"),
    [
        ("initial: 1000", "initial: 2.5", "theaters.alpha.initial", "troops"),
        ("level: 0", "level: 0.4", "milestones.alpha-out.target.level", "troops"),
        (
            "  expected: 2024-01",
            "  expected: 2024-01\n  delay: {choice: {values: [0, 1.5]}}",
            "announcement.delay.choice.values[1]",
            "months",
        ),
    ],
)
def test_a_fraction_of_a_whole_number_quantity_is_refused_never_rounded(
    write, old, new, path, unit
):
    err = _error(_mini(write, old, new))
    assert (err.path, err.expected) == (path, f"a whole number of {unit}")


@pytest.mark.parametrize(
    ("old", "new", "path", "written", "read"),
    [
        # a fraction the float makes whole: it was run as 2500 troops
        (
            "initial: 1000",
            "initial: 2499.9999999999999999",
            "theaters.alpha.initial",
            "2499.9999999999999999",
            "2500",
        ),
        (
            "level: 0",
            "level: 100.00000000000000001",
            "milestones.alpha-out.target.level",
            "100.00000000000000001",
            "100",
        ),
        # a probability below 1 the float makes certain
        (
            "  expected: 2024-01",
            "  expected: 2024-01\n  delay: {choice: {values: [0, 1], "
            "weights: [0.99999999999999999, 1]}}",
            "announcement.delay.choice.weights[0]",
            "0.99999999999999999",
            "1",
        ),
    ],
)
def test_a_number_the_float_would_change_is_refused_never_used_as_another(
    write, old, new, path, written, read
):
    err = _error(_mini(write, old, new))
    assert (err.path, err.found) == (path, f"{written!r}, which would be read as {read}")
    assert err.expected.startswith("a number a 64-bit float holds as written")


@pytest.mark.parametrize("text", ["0.1", "2500.000", "0.3333333333333333", "1.5"])
def test_a_decimal_the_float_writes_back_the_same_is_read(text):
    from sim.io.yamlio import parse_yaml

    assert parse_yaml(f"v: {text}")[0]["v"] == float(text)


def test_a_number_set_on_the_command_line_the_float_would_change_is_refused(tmp_path):
    out = tmp_path / "o"
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(DEFAULT),
            "-q",
            "--out",
            str(out),
            "--set",
            "theaters.iraq.initial.value=2499.9999999999999999",
        ],
    )
    assert res.exit_code == 2
    assert "found '2499.9999999999999999', which would be read as 2500" in res.stderr
    assert not out.exists()
    assert (
        "which would be read as 33.333333333333336"
        in CliRunner()
        .invoke(
            main,
            ["run", str(DEFAULT), "-q", "--out", str(out), "--tolerance", "33.333333333333333333%"],
        )
        .stderr
    )


@pytest.mark.parametrize(
    "weights",
    [
        # two weights whose float sum overflows: the first value was never drawn
        ["1" + "0" * 308, "1" + "0" * 308],
        # a weight too large for a float: an internal error (OverflowError)
        ["1" + "0" * 400, "1"],
    ],
    ids=["sum-overflows", "no-float"],
)
def test_a_choice_weight_beyond_what_odds_need_is_refused_at_its_own_key(write, weights):
    path = _mini(
        write,
        "  expected: 2024-01",
        "  expected: 2024-01\n  delay: {choice: {values: [0, 1], weights: ["
        + ", ".join(weights)
        + "]}}",
    )
    err = _error(path)
    assert err.path == "announcement.delay.choice.weights[0]"
    assert err.expected.startswith("a weight of at most 1,000,000,000,000,000")
    assert err.found == repr(weights[0])


def test_a_thousand_choice_weights_of_the_largest_size_share_the_draws_evenly():
    import numpy as np

    from sim.model.draws import _choice

    u = (np.arange(1000) + 0.5) / 1000
    out = _choice(list(range(1000)), [10**15] * 1000, u)
    assert out.tolist() == list(range(1000))  # each value once: the sum stayed finite


def test_a_whole_number_set_in_code_as_a_float_is_kept_and_a_fraction_refused():
    sc = sim.load_scenario(DEFAULT)
    assert sc.with_overrides({"theaters": {"iraq": {"initial": 2400.0}}})
    with pytest.raises(sim.ScenarioError, match=r"whole number of troops, found 2400\.5$"):
        sc.with_overrides({"theaters": {"iraq": {"initial": 2400.5}}})


@pytest.mark.parametrize(
    ("cell", "hint"),
    [
        ("2.500", "'2.500' (for two thousand five hundred write 2500)"),
        ("2500.0", "'2500.0' (write 2500)"),
        ("0700", "'0700' (write 700, without the leading zero)"),
        ("1_000", "'1_000' (write 1000, without underscores)"),
        ("2.5", "'2.5'"),
    ],
)
def test_an_observation_cell_that_is_not_a_plain_whole_number_is_refused(tmp_path, cell, hint):
    path = tmp_path / "obs.csv"
    path.write_text(f"date,theater,troops_low,troops_high\n2025-03,iraq,{cell},\n")
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_observations(path)
    assert (info.value.line, info.value.path) == (2, "troops_low")
    assert info.value.found == hint


def test_an_observation_cell_with_thousands_commas_in_quotes_is_read_whole(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text('date,theater,troops_low,troops_high\n2025-03,iraq,"2,500",2600\n')
    (obs,) = sim.load_observations(path)
    assert (obs.low, obs.high) == (2500, 2600)


def test_an_inline_observation_with_a_thousands_separator_is_refused(write):
    text = MINIMAL_YAML_WITH_OBS.replace("troops_low: 900", "troops_low: 2.500")
    err = _error(write(text))
    assert err.path == "observations[0].troops_low"
    assert err.found == "'2.500' (for two thousand five hundred write 2500)"


MINIMAL_YAML_WITH_OBS = (
    __import__("conftest").MINIMAL_YAML
    + "observations:\n  - {date: 2024-03, theater: alpha, troops_low: 900, troops_high: 950}\n"
)


@pytest.mark.parametrize(
    ("old", "new", "path", "expected", "found"),
    [
        (
            "  start: 2024-01",
            "  start: 2024-01-01",
            "calendar.start",
            "a month as YYYY-MM",
            "'2024-01-01' (for that month write 2024-01)",
        ),
        ("  start: 2024-01", "  start: 202401", "calendar.start", "a month as YYYY-MM", "'202401'"),
        (
            "as_of: 2024-01",
            "as_of: 2024",
            "as_of",
            "a date as YYYY-MM-DD or a month as YYYY-MM",
            "'2024'",
        ),
        ("title: Minimal scenario", "title: 2024", "title", "text", "'2024' (in quotes: '2024')"),
        ("initial: 1000", "initial: .nan", "theaters.alpha.initial", "a finite number", "'.nan'"),
    ],
)
def test_messages_quote_the_text_as_written_and_say_what_to_write(
    write, old, new, path, expected, found
):
    err = _error(_mini(write, old, new))
    assert (err.path, err.expected, err.found) == (path, expected, found)
    assert "string" not in err.expected


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be", "utf-32", "utf-32-le"])
def test_text_files_with_a_byte_order_mark_are_read(tmp_path, encoding):
    from conftest import MINIMAL_YAML

    bom = {"utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00"}.get(encoding, b"")
    scenario = tmp_path / "s.yaml"
    scenario.write_bytes(bom + MINIMAL_YAML.replace("Minimal", "Mínimal").encode(encoding))
    sc = sim.load_scenario(scenario)
    assert sc.title == "Mínimal scenario"
    obs = tmp_path / "o.csv"
    obs.write_bytes(
        bom + "date,theater,troops_low,troops_high\n2024-03,alpha,900,\n".encode(encoding)
    )
    assert [o.low for o in sim.load_observations(obs, sc)] == [900]


def test_utf16_without_a_byte_order_mark_is_refused_with_a_hint(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes("id: x\n".encode("utf-16-le"))
    with pytest.raises(sim.ScenarioError, match="without a byte-order mark"):
        sim.load_scenario(path)


# ------------------------------------------------------------- issue 11: referenced files

SECRET = "s3cret-token-do-not-print"


def test_extends_of_a_file_that_is_not_yaml_names_it_and_prints_none_of_it(tmp_path):
    other = tmp_path / "passwd"
    other.write_text(f"root:{SECRET}:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/bin/sh\n")
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {other}\nid: pw\n")
    res = CliRunner().invoke(main, ["validate", str(child)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1
    assert f"{child}:1:10: extends: expected a forcesim scenario file" in res.stderr
    assert str(other) in res.stderr and SECRET not in res.stderr and "/bin/bash" not in res.stderr


def test_extends_of_a_yaml_file_of_other_keys_prints_none_of_its_keys(tmp_path):
    other = tmp_path / "compose.yaml"
    other.write_text(f"services:\n  {SECRET}: {{image: x}}\n")
    child = tmp_path / "child.yaml"
    child.write_text("extends: compose.yaml\nid: c\n")
    err = _error(child)
    assert (err.file, err.path) == (str(child), "extends")
    assert err.found == "'compose.yaml', a YAML file with none of these keys"
    assert SECRET not in str(err) and "services" not in str(err)


@pytest.mark.parametrize("how", ["--observed", "observations:"])
def test_observations_from_a_file_that_is_not_csv_print_none_of_it(tmp_path, how):
    other = tmp_path / "notes.txt"
    other.write_text(f"{SECRET},and more\nline two\n")
    scenario = tmp_path / "s.yaml"
    args = ["run", str(scenario), "-q", "--out", str(tmp_path / "o")]
    if how == "--observed":
        scenario.write_text(DEFAULT.read_text(encoding="utf-8"))
        args += ["--observed", str(other)]
    else:
        scenario.write_text(DEFAULT.read_text(encoding="utf-8") + f"observations: {other}\n")
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert f"{other}:1:1: (header): expected a CSV file whose first line names" in res.stderr
    assert SECRET not in res.stderr and "and more" not in res.stderr
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------- issue 11: show runs anywhere


@pytest.mark.slow
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_show_prints_a_document_that_validates_from_another_directory(tmp_path, path):
    sc = sim.load_scenario(path)
    for variant in [None, *sc.variant_names[:2]]:
        res = CliRunner().invoke(main, ["show", str(path)] + (["-v", variant] if variant else []))
        assert res.exit_code == 0, res.output
        saved = tmp_path / "elsewhere" / "r.yaml"
        saved.parent.mkdir(exist_ok=True)
        saved.write_text(res.stdout, encoding="utf-8")
        again = sim.load_scenario(saved)
        assert again.variant_names == (sc.variant_names if variant is None else again.variant_names)
        if sc.doc.observations is not None:
            assert [(o.date, o.low, o.high) for o in again.observations()] == [
                (o.date, o.low, o.high) for o in sc.observations()
            ]


def test_show_writes_numbers_as_plain_decimals_that_read_back_the_same(tmp_path):
    sc = sim.load_scenario(DEFAULT).with_overrides(
        {"residuals": {"advisory": {"size": {"triangular": [150, 350, 600], "probability": 1e-5}}}}
    )
    text = sc.to_yaml()
    assert "probability: 0.00001" in text and "e-05" not in text
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    assert sim.load_scenario(path).doc.residuals["advisory"].size.probability == 1e-5


# ------------------------------------------------------------- issue 11: notebook values


@pytest.mark.parametrize(
    "make",
    [
        lambda: __import__("numpy").int64(2400),
        lambda: __import__("numpy").int32(2400),
        lambda: __import__("numpy").uint16(2400),
        lambda: __import__("numpy").float64(2400.0),
        lambda: __import__("pandas").Series([1000, 2400]).max(),
        lambda: __import__("numpy").array(2400),
    ],
    ids=["int64", "int32", "uint16", "float64", "series.max", "0-d array"],
)
def test_numpy_and_pandas_scalars_are_accepted_like_python_numbers(make):
    sc = sim.load_scenario(DEFAULT)
    plain = sc.with_overrides({"theaters": {"iraq": {"initial": 2400}}})
    given = sc.with_overrides({"theaters": {"iraq": {"initial": make()}}})
    assert given.resolved("on-time") == plain.resolved("on-time")
    assert type(given.resolved_raw()["theaters"]["iraq"]["initial"]) in (int, float)


def test_numpy_arrays_and_booleans_are_accepted_where_lists_and_booleans_are():
    import numpy as np

    sc = sim.load_scenario(DEFAULT)
    over = {
        "milestones": {
            "iraq-phase-1": {
                "slips": np.bool_(True),
                "target": {"reduce_by": {"uniform": np.array([300, 900])}},
            }
        }
    }
    doc = sc.with_overrides(over).resolved("on-time")
    assert doc.milestones["iraq-phase-1"].slips is True
    assert doc.milestones["iraq-phase-1"].target.reduce_by.uniform == [300, 900]


# ------------------------------------------------------------- issue 11: run directories


def _run(out: Path, *more: str):
    return CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out), *more])


@pytest.mark.slow
def test_run_json_lists_every_file_written_with_its_sha256_and_a_signature(tmp_path):
    from sim.io.files import read_manifest

    assert _run(tmp_path / "o").exit_code == 0
    manifest = read_manifest(tmp_path / "o")
    assert manifest is not None
    assert sorted(manifest) == ["envelope.png", "milestones.csv", "monthly.csv"]
    for name, digest in manifest.items():
        assert digest == hashlib.sha256((tmp_path / "o" / name).read_bytes()).hexdigest()


@pytest.mark.parametrize("command", ["load_run", "plot", "report"])
def test_a_signed_run_json_edited_by_hand_is_refused_not_believed(tmp_path, command):
    # its seed changed from 1 to 77 loaded as seed 77 beside seed 1's tables; the charts
    # said "seed 77", and write_run of the Result signed the false seed
    out = tmp_path / "o"
    assert _run(out, "--draws", "200", "--seed", "1").exit_code == 0
    path = out / "run.json"
    text = path.read_text(encoding="utf-8")
    assert text.count('"seed": 1\n') == 1
    path.write_text(text.replace('"seed": 1\n', '"seed": 77\n'), encoding="utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    expected = (
        rf"{re.escape(str(path))}:\d+:\d+: manifest\.signature: expected a run\.json as "
        r"forcesim signed it, found one changed after forcesim signed it .*; run the "
        r'scenario again, or delete its "manifest" to read it unsigned'
    )
    if command == "load_run":
        with pytest.raises(sim.ScenarioError, match=expected):
            sim.load_run(out)
    else:
        more = ["-o", str(tmp_path / "page.html")] if command == "report" else []
        res = CliRunner().invoke(main, [command, str(out), *more])
        assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
        assert re.match("forcesim: error: " + expected, res.stderr)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not (tmp_path / "page.html").exists()


def test_a_signature_changed_to_a_number_is_refused_as_changed_not_read_as_unsigned(tmp_path):
    out = tmp_path / "o"
    assert _run(out, "--draws", "200", "--seed", "1").exit_code == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    record["manifest"]["signature"] = 5
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(sim.ScenarioError, match="manifest.signature: expected a run.json as"):
        sim.load_run(out)


def test_a_run_json_whose_manifest_was_deleted_loads_with_its_tables_checked(tmp_path):
    out = tmp_path / "o"
    assert _run(out, "--draws", "200", "--seed", "1").exit_code == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    del record["manifest"]
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
    assert sim.load_run(out).seed == 1
    bands = out / "bands.csv"
    if not bands.exists():
        bands = out / "monthly.csv"
    text = bands.read_text(encoding="utf-8").split("\n")
    text[1] = text[1].replace(",", ",x", 1)  # (unsigned: every cell is checked)
    bands.write_text("\n".join(text), encoding="utf-8")
    with pytest.raises(sim.ScenarioError, match=rf"{re.escape(str(bands))}:2:"):
        sim.load_run(out)


def test_an_unsigned_table_missing_a_row_is_refused_where_the_row_belongs(tmp_path):
    # the refusal named the line past the file's end, not where the row was taken out
    out = tmp_path / "o"
    assert _run(out, "--variant", "on-time", "--draws", "200", "--seed", "1").exit_code == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    del record["manifest"]
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
    bands = out / "bands.csv"
    lines = bands.read_text(encoding="utf-8").split("\n")
    month = lines[4].split(",")[3]
    del lines[4]  # (the file's line 5)
    bands.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_run(out)
    line = err.value.one_line()
    assert line.startswith(f"{bands}:5:1: (rows): ")
    assert line.endswith(f"found none for 'on-time', 'iraq', '{month}' (its place: before line 5)")
    # the last row of a variant that is not the last: before the next variant's first
    two = tmp_path / "two"
    assert _run(two, "--variant", "on-time", "--variant", "slip-3").exit_code == 0
    record = json.loads((two / "run.json").read_text(encoding="utf-8"))
    del record["manifest"]
    (two / "run.json").write_text(json.dumps(record), encoding="utf-8")
    milestones = two / "milestones.csv"
    lines = milestones.read_text(encoding="utf-8").split("\n")
    assert lines[2].split(",")[1:3] == ["on-time", "iraq-exit"]
    del lines[2]
    milestones.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_run(two)
    assert err.value.one_line().startswith(f"{milestones}:3:1: (rows): ")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "found"),
    [
        (
            lambda d: (d / "data").mkdir(),
            "a run directory holding 1 entry that is not part of its run (e.g. 'data': move it out",
        ),
        (lambda d: (d / "draft.docx").write_text("x"), "(e.g. 'draft.docx':"),
        (lambda d: (d / "monthly.csv").write_text("edited\n"), "monthly.csv changed after"),
        (
            lambda d: (d / "run.json").write_text('{"tool": "some-other-tool"}'),
            "whose run.json forcesim did not write (it has no signed manifest: another tool",
        ),
        (
            lambda d: (d / "run.json").write_text(
                (d / "run.json").read_text().replace('"scenario": "iraq', '"scenario": "IRAQ')
            ),
            "whose run.json was changed after forcesim signed it (its signature no longer",
        ),
    ],
    ids=["a folder", "a file", "an edited file", "another tool's run.json", "an edited run.json"],
)
def test_a_run_directory_holding_anything_else_is_refused_and_nothing_deleted(
    tmp_path, change, found
):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    change(out)
    before = {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()}
    res = _run(out)
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert f"forcesim: error: {out}:1:1: --out: expected a new or empty directory" in res.stderr
    assert found in res.stderr
    assert {p.name: (p.read_bytes() if p.is_file() else None) for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_another_tools_directory_is_refused_before_any_work(tmp_path, monkeypatch):
    out = tmp_path / "experiment"
    (out / "data").mkdir(parents=True)
    (out / "run.json").write_text('{"tool": "some-other-tool"}')
    (out / "data" / "results.parquet").write_text("precious")

    def never(*a, **k):
        raise AssertionError("the run started")

    monkeypatch.setattr("sim.run", never)
    monkeypatch.setattr("sim.export.stream.stream_run", never)  # (forcesim run's writer)
    res = _run(out)
    assert res.exit_code == 2
    assert (out / "data" / "results.parquet").read_text() == "precious"


@pytest.mark.slow
def test_an_empty_directory_and_a_run_with_files_deleted_are_replaced(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    assert _run(out).exit_code == 0
    (out / "envelope.png").unlink()
    assert _run(out).exit_code == 0
    assert (out / "envelope.png").is_file()


@pytest.mark.slow
def test_forcesim_plot_adds_what_it_draws_to_the_manifest(tmp_path):
    from sim.io.files import foreign, read_manifest

    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    res = CliRunner().invoke(main, ["plot", str(out), "-o", str(out / "chart.svg")])
    assert res.exit_code == 0, res.output
    assert "chart.svg" in read_manifest(out)
    assert foreign(out) is None
    assert _run(out).exit_code == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_sigterm_or_sighup_while_writing_is_handled_like_ctrl_c(tmp_path, monkeypatch, name):
    # SIGHUP (the terminal closed) ended the process by the signal, its hidden
    # temporary folder left beside the run
    import signal

    import sim.export

    if not hasattr(signal, name):
        pytest.skip(f"no {name} here")
    signum = getattr(signal, name)
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    before = _snapshot(out)
    original = sim.export.write.write_csv

    def write_then_terminate(frame, path):
        original(frame, path)
        os.kill(os.getpid(), signum)

    monkeypatch.setattr("sim.export.write.write_csv", write_then_terminate)
    # (forcesim run writes its milestones with sim.export.stream's)
    monkeypatch.setattr("sim.export.stream.write_csv", write_then_terminate)
    res = _run(out, "--variant", "slip-6")
    assert res.exit_code == 128 + signum
    assert "interrupted; nothing was written" in res.stderr
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    assert signal.getsignal(signum) is signal.SIG_DFL  # put back afterwards


def test_under_nohup_a_sighup_is_left_ignored_and_the_run_goes_on(tmp_path):
    # the handler for a closed terminal replaced nohup's: the run stopped, exit 129
    import signal
    import subprocess
    import sys

    if not hasattr(signal, "SIGHUP"):
        pytest.skip("no SIGHUP here")
    code = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGHUP, signal.SIG_IGN)  # (as nohup leaves it)\n"
        "import sim.export.stream as s, sim.export.write as w\n"
        "original = w.write_csv\n"
        "def write(frame, path):\n"
        "    os.kill(os.getpid(), signal.SIGHUP)\n"
        "    original(frame, path)\n"
        "w.write_csv = s.write_csv = write  # (run writes its milestones with stream's)\n"
        "from sim.cli import main\n"
        "sys.argv = ['forcesim', 'run', sys.argv[1], '-q', '--out', sys.argv[2]]\n"
        "main()\n"
    )
    out = tmp_path / "o"
    done = subprocess.run(
        [sys.executable, "-c", code, str(DEFAULT), str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (out / "run.json").is_file()


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from sim.io.files import atomic_file
def die(tmp):
    tmp.write_text("half")
    os.kill(os.getpid(), signal.SIGKILL)
atomic_file(Path(sys.argv[1]) / "extra.png", die)
"""
KILLED_RUN = """
import os, signal, sys
from pathlib import Path
from sim.io.files import atomic_directory
with atomic_directory(Path(sys.argv[1])) as tmp:
    (tmp / "monthly.csv").write_text("half a file")
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL of a child process")
def test_leftovers_of_a_killed_run_are_removed_by_the_next_run_and_nothing_else(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    assert _run(out).exit_code == 0
    subprocess.run([sys.executable, "-c", KILLED_RUN, str(out)], check=False)
    first = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert len(first) == 1 and first[0].startswith(".out.forcesim-")
    subprocess.run([sys.executable, "-c", KILLED_RUN, str(out)], check=False)
    second = [p.name for p in tmp_path.iterdir() if p.name != "out"]
    assert len(second) == 1 and second != first  # the second run removed the first's
    subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out)], check=False)
    assert any(".extra.png.forcesim-" in p.name for p in out.iterdir())
    # look-alikes that forcesim cannot tell for its own stay
    (tmp_path / ".out.tmp-abcd1234").mkdir()
    (tmp_path / ".out.forcesim-1-0123abcd-0123456789abcdef").mkdir()
    assert _run(out).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".out.forcesim-1-0123abcd-0123456789abcdef",
        ".out.tmp-abcd1234",
        "out",
    ]
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_a_leftover_of_a_live_process_is_not_touched(tmp_path):
    from sim.io.files import clean_leftovers, temp_name

    mine = tmp_path / temp_name("out")  # this process: still writing, as far as anyone knows
    mine.mkdir()
    assert clean_leftovers(tmp_path) == []
    assert mine.is_dir()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="an atomic exchange (Linux)")
def test_a_reader_polling_the_output_never_finds_it_missing_or_half_written(tmp_path):
    import threading

    out = tmp_path / "out"
    versions = [(str(i) * 200_000).encode() for i in range(10)]
    with atomic_directory(out) as tmp:
        (tmp / "data.csv").write_bytes(versions[0])
        write_record(tmp, {})
    seen: list[bytes | None] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                seen.append((out / "data.csv").read_bytes())
            except FileNotFoundError:
                seen.append(None)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for i in range(1, 60):
            with atomic_directory(out) as tmp:
                (tmp / "data.csv").write_bytes(versions[i % 10])
                write_record(tmp, {})
    finally:
        stop.set()
        reader.join()
    assert len(seen) > 100
    assert None not in seen
    assert set(seen) <= set(versions)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ------------------------------------------------------------- issue 11: forcesim plot


def _pngs(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.suffix == ".png")


@pytest.mark.slow
def test_plot_redraws_every_chart_a_conditioned_ensemble_run_wrote(tmp_path):
    from sim.io.files import foreign

    obs = tmp_path / "obs.csv"
    obs.write_text("date,theater,troops_low,troops_high\n2025-03,iraq,1800,2600\n")
    out = tmp_path / "o"
    res = _run(
        out,
        "-v",
        "on-time",
        "-v",
        "slip-6",
        "--draws",
        "300",
        "--seed",
        "1",
        "--observed",
        str(obs),
        "--condition",
    )
    assert res.exit_code == 0, res.output
    written = {n: (out / n).read_bytes() for n in _pngs(out)}
    assert sorted(written) == ["envelope.png", "fan.png", "fan_conditioned.png"]
    for name in written:
        (out / name).unlink()
    res = CliRunner().invoke(main, ["plot", str(out)])
    assert res.exit_code == 0, res.output
    assert _pngs(out) == sorted(written)
    assert foreign(out) is None  # the manifest lists the charts drawn again


@pytest.mark.slow
def test_plot_redraws_a_comparison_and_a_backtest(tmp_path):
    cmp_dir, bt_dir = tmp_path / "cmp", tmp_path / "bt"
    args = ["compare", str(DEFAULT), "-v", "on-time", "-v", "slip-6", "--draws", "200"]
    res = CliRunner().invoke(main, [*args, "--seed", "2", "-q", "--out", str(cmp_dir)])
    assert res.exit_code == 0, res.output
    afg = scenarios_dir() / "historical" / "afghanistan-2020.yaml"
    res = CliRunner().invoke(main, ["backtest", str(afg), "-q", "--out", str(bt_dir)])
    assert res.exit_code == 0, res.output
    for d, name in ((cmp_dir, "compare.png"), (bt_dir, "backtest.png")):
        before = (d / name).read_bytes()
        (d / name).unlink()
        res = CliRunner().invoke(main, ["plot", str(d)])
        assert res.exit_code == 0, res.output
        assert _pngs(d) == [name]
        assert (d / name).read_bytes() == before  # the same chart, drawn from the files


@pytest.mark.slow
@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")]
)
def test_plot_output_takes_its_format_from_the_extension(tmp_path, suffix, magic):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    target = tmp_path / f"chart{suffix}"
    res = CliRunner().invoke(main, ["plot", str(out), "-o", str(target)])
    assert res.exit_code == 0, res.output
    assert target.read_bytes().startswith(magic)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["chart.jpg", "chart", "chart.PNG.txt"])
def test_plot_output_with_another_extension_is_refused_in_one_line(tmp_path, name):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    res = CliRunner().invoke(main, ["plot", str(out), "-o", str(tmp_path / name)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1
    assert ":1:1: -o: expected a file ending in .png, .pdf or .svg" in res.stderr
    assert not (tmp_path / name).exists()


@pytest.mark.slow
def test_plot_of_a_chart_the_run_does_not_hold_names_those_it_does_and_what_makes_it(tmp_path):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    res = CliRunner().invoke(main, ["plot", str(out), "--chart", "fan"])
    assert res.exit_code == 2
    assert "--chart: expected one of the charts" in res.stderr and "envelope" in res.stderr
    # and says what makes a fan: the quick start's run has none
    assert "(the fan needs an ensemble: forcesim run --draws N --seed S)" in res.stderr
    res = CliRunner().invoke(main, ["plot", str(out), "--chart", "fan_conditioned"])
    assert res.exit_code == 2 and "--condition)" in res.stderr


# ------------------------------------------------------------- issue 11: inputs not used


SITES = """\
id: s
title: S
as_of: 2024-09-06
calendar: {start: 2024-09, end: 2026-12}
announcement: {expected: 2024-09}
theaters:
  x:
    initial: INITIAL
    sites:
      a: {initial: 1000}
      b: {initial: 1000}
milestones:
  m: {theater: x/a, deadline: 2026-06, target: {level: 0}}
"""


@pytest.mark.parametrize(
    ("initial", "found"),
    [
        ("{uniform: [1000, 3000]}", "uniform [1000, 3000]"),
        ("{value: 2000, probability: 0.5}", "2000 with probability 0.5"),
        ("{choice: {values: [2000]}}", "choice [2000]"),
    ],
)
def test_an_uncertain_theater_level_beside_its_sites_is_refused(write, initial, found):
    err = _error(write(SITES.replace("INITIAL", initial)))
    assert err.path == "theaters.x.initial"
    assert "put the uncertainty on the sites" in err.expected
    assert err.found == found


def test_a_plain_theater_level_beside_its_sites_is_accepted_as_their_sum(write):
    assert sim.load_scenario(
        write(SITES.replace("INITIAL", "{value: 2000, source: s}".replace(", source: s", "")))
    )


UNCERTAIN_BASE = __import__("conftest").MINIMAL_YAML.replace(
    "  expected: 2024-01\n", "  expected: 2024-01\n  delay: {uniform: [0, 4]}\n"
) + (
    "variants:\n"
    "  now: {description: on time, overrides: {announcement: {delay: 0}}}\n"
    "  late: {description: late, overrides: {announcement: {delay: {value: 3}}}}\n"
)


DELAY_LINE = UNCERTAIN_BASE.splitlines().index("  delay: {uniform: [0, 4]}") + 1


def test_an_uncertain_base_input_every_variant_replaces_is_named_in_a_warning(write):
    path = write(UNCERTAIN_BASE)
    with pytest.warns(sim.ScenarioWarning) as caught:
        sc = sim.load_scenario(path)
    (w,) = sc.warnings
    assert str(caught[0].message) == w.one_line()
    assert (w.path, w.line) == ("announcement.delay", line_of(UNCERTAIN_BASE, "delay: {uniform"))
    assert w.why.startswith("every variant (now, late) replaces this uniform [0, 4], so no run")


def test_an_uncertain_base_input_some_variant_uses_gives_no_warning(write):
    text = UNCERTAIN_BASE + "  drawn: {description: as written, overrides: {}}\n"
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")
        assert sim.load_scenario(write(text)).warnings == ()
        assert sim.load_scenario(DEFAULT).warnings == ()


@pytest.mark.parametrize(
    ("deadline", "slips", "counted"),
    [
        ("{after_announcement: 6}", "false", "the announcement"),
        ("{after: first, months: 2}", "true", "milestone 'first', which does not move"),
    ],
)
def test_slips_that_says_the_opposite_of_what_happens_is_named_in_a_warning(
    write, deadline, slips, counted
):
    from conftest import MINIMAL_YAML

    text = MINIMAL_YAML.replace(
        "  alpha-out:\n",
        "  first: {theater: alpha, deadline: 2024-03, target: {level: 900}}\n  alpha-out:\n",
    ).replace("    deadline: 2024-11\n", f"    deadline: {deadline}\n    slips: {slips}\n")
    with pytest.warns(sim.ScenarioWarning, match=r"milestones\.alpha-out\.slips: not used: ") as w:
        sim.load_scenario(write(text))
    assert f"counted from {counted} with the announcement" in str(w[0].message)


@pytest.mark.slow
def test_the_command_line_prints_warnings_and_validate_strict_fails_on_them(write, tmp_path):
    path = write(UNCERTAIN_BASE)
    res = CliRunner().invoke(main, ["run", str(path), "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0
    assert res.stderr == (
        f"forcesim: warning: {path}:{DELAY_LINE}:3: announcement.delay: not used: every variant "
        "(now, late) replaces this uniform [0, 4], so no run draws it; state it in the "
        "variants that should use it\n"
    )
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 0 and "forcesim: warning:" in res.stderr
    res = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert res.exit_code == 2
    assert (
        f"forcesim: error: {path}:{DELAY_LINE}:3: announcement.delay: expected every input "
        "used by some run (--strict), found every variant (now, late) replaces"
    ) in res.stderr


# ------------------------------------------------------------- issue 11: every problem named


def test_validate_strict_lists_every_unsupported_number_once_each(tmp_path):
    text = DEFAULT.read_text(encoding="utf-8")
    for old, new in [
        (
            'initial: {value: 900, source: shafaq, quote: "and 900 in neighboring Syria"}',
            "initial: 900",
        ),
        (
            "initial: {value: 2500, source: shafaq, "
            'quote: "The US currently has 2,500 troops in Iraq"}',
            "initial: 2500",
        ),
    ]:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    assert [line.split(": ")[3] for line in lines] == [
        "theaters.iraq.initial",
        "theaters.syria.initial",
    ]
    assert all(
        line.startswith(f"forcesim: error: {path}:")
        and ": expected a source or an assumption for every number (--strict), found " in line
        for line in lines
    )
    assert "more" not in res.stderr


def test_an_error_a_variant_causes_at_a_base_line_names_the_variant_and_its_overrides(write):
    from conftest import MINIMAL_YAML

    text = MINIMAL_YAML + (
        "variants:\n"
        "  fine: {description: as written}\n"
        "  short:\n"
        "    description: a shorter calendar\n"
        "    overrides:\n"
        "      calendar: {end: 2024-06}\n"
    )
    err = _error(write(text))
    assert err.path == "milestones.alpha-out.deadline"
    assert err.line == text.splitlines().index("    deadline: 2024-11") + 1
    overrides = text.splitlines().index("    overrides:") + 1
    assert (
        err.found
        == f"2024-11 (with variant 'short', whose overrides are at {err.file}:{overrides})"
    )


def test_an_error_in_a_variant_override_carries_the_variants_key_path(write):
    from conftest import MINIMAL_YAML

    text = MINIMAL_YAML + (
        "variants:\n  late:\n    description: late\n    overrides:\n"
        "      announcement: {delay: 2.500}\n"
    )
    err = _error(write(text))
    assert (err.path, err.line) == (
        "variants.late.overrides.announcement.delay",
        line_of(text, "delay: 2.500"),
    )
    assert err.found == "'2.500' (for two thousand five hundred write 2500)"


# ------------------------------------------------------------- issue 11: charts


def _texts(axes):
    from matplotlib.text import Text

    return axes[0].get_figure(root=True).findobj(Text)


def test_the_fan_centre_line_is_labelled_the_median_of_each_month_not_a_draw():
    from sim.plotting.fan import MEDIAN_LABEL

    result = sim.run(sim.load_scenario(DEFAULT), ["on-time"], draws=200, seed=1)
    texts = [t.get_text() for t in _texts(sim.plot_fan(result))]
    assert MEDIAN_LABEL == "median of the draws, month by month"
    assert MEDIAN_LABEL in texts
    assert not any("median draw" in t for t in texts)
    assert any("a path no single draw need follow" in t for t in texts)


@pytest.mark.slow
def test_chart_text_with_dollar_signs_is_drawn_as_written(tmp_path):
    sc = sim.load_scenario(DEFAULT).with_overrides({"title": "Costs: $5 a day, $10 at $x_1$"})
    sc = sc.with_overrides({"description": "50% of $ budget"}, variant="cheap")
    for axes in (
        sim.plot_envelope(sim.run(sc, ["cheap"])),
        sim.plot_fan(sim.run(sc, ["cheap"], draws=100, seed=1)),
    ):
        texts = _texts(axes)
        assert any(t.get_text().startswith("Costs: $5 a day") for t in texts)
        assert not any(t.get_parse_math() or t.get_usetex() for t in texts)
        sim.save(axes, tmp_path / "c.png")  # mathtext would refuse "$ budget"


@pytest.mark.parametrize(
    "title", [r"Costs $\frac{1}$ a day", "Budget $a_{$ cut", r"$\undefined{x}$"]
)
def test_chart_text_that_is_no_valid_tex_is_drawn_as_written_in_every_layout(title, tmp_path):
    # a title measured to fit the width was parsed as TeX math before it was marked plain:
    # "$\frac{1}$" stopped forcesim run with matplotlib's parse error
    sc = sim.load_scenario(DEFAULT).with_overrides({"title": title})
    ensemble = sim.run(sc, ["on-time"], draws=100, seed=1)
    for axes in (
        sim.plot_envelope(ensemble),
        sim.plot_fan(ensemble),
        sim.plot_envelope(ensemble, column=True),
        sim.plot_fan(ensemble, column=True),
    ):
        texts = _texts(axes)
        assert any(title in t.get_text().replace("\n", " ") for t in texts)
        assert not any(t.get_parse_math() or t.get_usetex() for t in texts)
        sim.save(axes, tmp_path / "c.png")
    import matplotlib as mpl

    assert mpl.rcParams["text.parse_math"]  # (the user's setting, as it was)


def _many_variants(n: int) -> sim.Scenario:
    sc = sim.load_scenario(DEFAULT)
    for k in range(n - len(sc.variant_names)):
        sc = sc.with_overrides({"announcement": {"delay": k % 12}}, variant=f"extra-{k}")
    return sc


@pytest.mark.slow
def test_an_envelope_with_more_variants_than_colours_draws_as_many_lines_and_says_how_to_choose():
    from sim.plotting.common import MAX_LINES, CrowdedChart

    result = sim.run(_many_variants(14))
    with pytest.warns(CrowdedChart, match="the envelope chart: 14 variants are more lines"):
        axes = sim.plot_envelope(result)
    drawn = {line.get_label() for line in axes[0].get_lines()} & set(result.variants)
    assert drawn == set(result.variants[:MAX_LINES])
    texts = " ".join(t.get_text() for t in _texts(axes))
    assert "--variant NAME" in texts and "variant (the first 10 of 14)" in texts


@pytest.mark.slow
def test_a_fan_with_more_panels_than_a_page_holds_draws_the_first_and_says_how_to_choose():
    from sim.plotting.common import MAX_FAN_PANELS, CrowdedChart

    result = sim.run(_many_variants(20), draws=50, seed=1)  # 2 theaters x 20 variants
    # (the warning goes on in lower case after its colon; the chart's note is a sentence)
    with pytest.warns(
        CrowdedChart,
        match="the fan chart: a panel per theater and variant .*"
        "this chart shows the first 16 of 20 variants",
    ):
        axes = sim.plot_fan(result)
    assert len(axes) == MAX_FAN_PANELS
    assert any("--variant NAME" in t.get_text() for t in _texts(axes))


@pytest.mark.slow
def test_the_command_line_warns_when_a_chart_leaves_variants_out(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(_many_variants(12).to_yaml(), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(path), "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0
    assert "forcesim: warning: the envelope chart: 12 variants are more lines" in res.stderr


def test_an_envelope_of_many_theaters_grows_taller_instead_of_squeezing_them():
    from sim.plotting.common import ENVELOPE_PANEL_IN

    sc = sim.load_scenario(DEFAULT).with_overrides(
        {"theaters": {f"t{i}": {"initial": 100 * (i + 1)} for i in range(5)}}
    )
    fig = sim.plot_envelope(sim.run(sc, ["on-time"]))[0].get_figure(root=True)
    assert fig.get_figheight() >= 7 * ENVELOPE_PANEL_IN


# ------------------------------------------------------------- issue 11: the run table


def _table(result) -> list[str]:
    from sim.cli.text import run_lines

    return run_lines(result)


def test_the_run_table_shows_where_each_variant_stands_out_not_only_the_deadlines():
    lines = _table(sim.run(sim.load_scenario(DEFAULT)))
    row = {line.split()[0]: line for line in lines if line.split() and not line.startswith(" ")}
    # slip-3 equals on-time at both deadlines and the horizon; it stands out before them
    assert "2025-01: 2,380 (+65 vs as-reported)" in row["slip-3"]
    assert "2026-12: 350 (+350 vs the median)" in row["residual"]
    assert "same as syria-follows" in row["on-time"]  # in Iraq: one variant's path is another's


def test_the_run_table_says_what_vs_the_median_means_when_a_cell_uses_it():
    sc = sim.load_scenario(DEFAULT)
    explained = [line for line in _table(sim.run(sc)) if line.startswith("vs the median:")]
    assert explained == [
        "vs the median: a variant that each month equals one of the others is measured from "
        "the median of the others"
    ]
    pair = _table(sim.run(sc, ["on-time", "slip-6"]))
    assert not any("the median" in line for line in pair)  # no such cell, no such line


@pytest.mark.slow
@pytest.mark.parametrize("make", ["default", "many theaters", "long names", "one variant"])
def test_the_run_table_stays_within_120_columns(make):
    sc = sim.load_scenario(DEFAULT)
    if make == "many theaters":
        sc = sc.with_overrides(
            {"theaters": {f"theater-{i}": {"initial": 100 * i} for i in range(9)}}
        )
    elif make == "long names":
        for i in range(3):
            sc = sc.with_overrides(
                {"announcement": {"delay": i}}, variant="a-very-long-name-" * 3 + str(i)
            )
    result = sim.run(sc, ["on-time"] if make == "one variant" else None, draws=100, seed=1)
    lines = _table(result)
    assert max(len(line) for line in lines) <= 120, max(lines, key=len)
    assert all(t in "\n".join(lines) for t in result.theaters)


def test_the_run_table_tells_apart_long_variant_ids_that_share_their_start():
    # four 63-character ids were all shown as "variant-with-an-extremely-lon…"
    sc = sim.load_scenario(DEFAULT)
    ids = [f"variant-with-an-extremely-long-identifier-that-goes-on-and-on-{i}" for i in range(3)]
    for i, name in enumerate(ids):
        sc = sc.with_overrides({"announcement": {"delay": 2 * i}}, variant=name)
    result = sim.run(sc, ids)
    lines = _table(result)
    rows = [line.split()[0] for line in lines if line.startswith("variant-")]
    assert len(rows) == 3 * len(result.theaters) and len(set(rows)) == 3, rows
    assert all(r.endswith(f"-{i}") for i in range(3) for r in rows[i::3])
    cells = "\n".join(lines)
    assert "vs variant-…nd-on-0)" in cells or "same as variant-…nd-on-0" in cells, cells


def test_a_table_name_is_cut_in_the_middle_or_where_the_cut_names_differ():
    from sim.cli.text import _shortened

    assert _shortened(["short", "x" * 20], 10) == {"short": "short", "x" * 20: "xxxxx…xxxx"}
    alike = ["abcde" + "-" * 20 + "wxyz", "abcde" + "+" * 20 + "wxyz"]  # (same start and end)
    assert _shortened(alike, 10) == {alike[0]: "abcde-…xyz", alike[1]: "abcde+…xyz"}
    # two ids that differ only 25 characters in, with 33 alike after: wider, never whole
    ids = [f"announcement-delayed-by-{d:02d}-months-with-an-advisory-residual" for d in (3, 6)]
    cut = _shortened(ids, 16)
    assert len(set(cut.values())) == 2 and all(len(c) < len(ids[0]) for c in cut.values())


def test_an_open_ended_observation_gets_no_percentile_rank_only_the_share_that_fits(tmp_path):
    obs = tmp_path / "obs.csv"
    obs.write_text(
        # Syria's official figure stays 900 in every draw (the whole force does not:
        # official figures may leave troops out there)
        "date,theater,troops_low,troops_high,kind\n"
        "2025-09-30,syria,,1000,official\n2025-09-30,iraq,3000,,\n2025-09-30,iraq,1800,2000,\n"
    )
    result = sim.run(sim.load_scenario(DEFAULT), ["on-time"], draws=200, seed=1)
    table = sim.score_observations(result, sim.load_observations(obs)).table
    assert table.percentile_rank.isna().tolist() == [True, True, False]
    assert table.p_consistent.tolist()[:2] == [1.0, 0.0]


@pytest.mark.slow
def test_a_page_written_into_a_run_directory_joins_its_manifest(tmp_path):
    pytest.importorskip("plotly")
    from sim.io.files import foreign, read_manifest

    out = tmp_path / "o"
    assert _run(out, "-v", "on-time").exit_code == 0
    res = CliRunner().invoke(main, ["report", str(out)])
    assert res.exit_code == 0, res.output
    assert "report.html" in read_manifest(out) and foreign(out) is None
    assert _run(out, "-v", "on-time").exit_code == 0  # replaced: it held only forcesim's files


@pytest.mark.slow
def test_what_a_run_prints_about_its_observations_stays_within_120_columns(tmp_path):
    path = scenarios_dir() / "historical" / "afghanistan-2011.yaml"
    res = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if not line.startswith("wrote ")]
    assert any(line.startswith("observations: ") for line in lines)
    assert max(len(line) for line in lines) <= 120


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["sweep", "--set", "announcement.delay=0,6", "-v", "on-time"],
        ["sensitivity", "-v", "as-reported", "--draws", "200", "--seed", "1"],
        ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "100", "--seed", "1"],
    ],
    ids=["sweep", "sensitivity", "compare"],
)
def test_every_kind_of_output_directory_carries_a_manifest_and_can_be_replaced(tmp_path, args):
    from sim.io.files import foreign, read_manifest

    out = tmp_path / "o"
    for _ in range(2):
        res = CliRunner().invoke(main, [*args, str(DEFAULT), "-q", "--out", str(out)])
        assert res.exit_code == 0, res.output
    assert read_manifest(out) and foreign(out) is None
    (out / "notes.txt").write_text("mine")
    res = CliRunner().invoke(main, [*args, str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 2 and (out / "notes.txt").read_text() == "mine"


@pytest.mark.slow
def test_a_chart_drawn_outside_a_run_is_refused_again_without_saying_forcesim_did_not_write_it(
    tmp_path,
):
    # forcesim drew x.png itself (outside any run directory), then was asked to draw it
    # again: it cannot tell it is its own, and must not say another tool wrote it
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    chart = tmp_path / "x.png"
    assert CliRunner().invoke(main, ["plot", str(out), "-o", str(chart)]).exit_code == 0
    before = chart.read_bytes()
    res = CliRunner().invoke(main, ["plot", str(out), "-o", str(chart)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert "did not write" not in res.stderr
    assert "no run directory's signed manifest lists as its own" in res.stderr
    assert chart.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("command", ["plot", "report"])
def test_output_at_a_file_forcesim_did_not_write_is_refused_and_left_as_it_was(tmp_path, command):
    if command == "report":
        pytest.importorskip("plotly")
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    mine = tmp_path / ("mine.png" if command == "plot" else "mine.html")
    mine.write_text("precious")
    res = CliRunner().invoke(main, [command, str(out), "-o", str(mine)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert f"forcesim: error: {mine}:1:1: -o: expected a new file" in res.stderr
    assert "nothing was overwritten" in res.stderr
    assert mine.read_text() == "precious"


@pytest.mark.slow
def test_output_at_a_directory_is_one_line_naming_it(tmp_path):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    (tmp_path / "d.png").mkdir()
    res = CliRunner().invoke(main, ["plot", str(out), "-o", str(tmp_path / "d.png")])
    assert res.exit_code == 2, res.output
    assert f"{tmp_path / 'd.png'}:1:1: -o: expected a new file" in res.stderr
    assert "found a directory in its place" in res.stderr


@pytest.mark.slow
def test_a_chart_forcesim_wrote_into_a_run_directory_may_be_drawn_again(tmp_path):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    for _ in range(2):
        res = CliRunner().invoke(main, ["plot", str(out), "-o", str(out / "chart.svg")])
        assert res.exit_code == 0, res.output
    assert CliRunner().invoke(main, ["plot", str(out)]).exit_code == 0  # envelope.png again


@pytest.mark.slow
def test_a_chart_edited_after_forcesim_wrote_it_is_not_replaced(tmp_path):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    (out / "envelope.png").write_bytes(b"edited")
    res = CliRunner().invoke(main, ["plot", str(out)])
    assert res.exit_code == 2, res.output
    assert "nothing was overwritten" in res.stderr
    # (it said "an existing file no run directory's signed manifest lists": it does)
    assert "found envelope.png changed after forcesim wrote it (its bytes are not" in res.stderr
    assert (out / "envelope.png").read_bytes() == b"edited"


@pytest.mark.slow
def test_output_over_a_table_of_a_run_directory_is_refused(tmp_path):
    pytest.importorskip("plotly")
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    before = (out / "monthly.csv").read_bytes()
    res = CliRunner().invoke(main, ["report", str(out), "-o", str(out / "monthly.csv")])
    assert res.exit_code == 2, res.output
    assert (out / "monthly.csv").read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "command"),
    [
        (lambda t: t.replace("2024-10", "2024-99", 1), "plot"),  # was an internal error
        (lambda t: t.replace(",2500\n", ",abc\n", 1), "plot"),
        (lambda t: t.replace(",2500\n", ",-5\n", 1), "plot"),  # was drawn as it stood
        (lambda t: t.replace(",2500\n", ",-5\n", 1), "report"),
    ],
)
def test_a_table_changed_after_the_run_is_refused_in_one_line(tmp_path, edit, command):
    if command == "report":
        pytest.importorskip("plotly")
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    monthly = out / "monthly.csv"
    monthly.write_text(edit(monthly.read_text()))
    res = CliRunner().invoke(main, [command, str(out)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert res.stderr.startswith(
        f"forcesim: error: {monthly}:1:1: (file): expected the monthly.csv this run wrote "
    ), res.stderr
    assert "changed after forcesim wrote it" in res.stderr


@pytest.mark.slow
def test_a_bad_month_in_a_run_without_a_manifest_is_one_line_naming_its_row(tmp_path):
    out = tmp_path / "o"
    assert _run(out).exit_code == 0
    record = json.loads((out / "run.json").read_text())
    del record["manifest"]  # a record no signature vouches for, as the refusal says to make
    (out / "run.json").write_text(json.dumps(record))
    monthly = out / "monthly.csv"
    monthly.write_text(monthly.read_text().replace("2024-10", "2024-99", 1))
    res = CliRunner().invoke(main, ["plot", str(out)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert f"forcesim: error: {monthly}:3:4: month: expected a month between 01 and 12, " in (
        res.stderr
    )
    assert "found '2024-99'" in res.stderr


@pytest.mark.slow
def test_a_runs_chart_is_never_replaced_by_another_chart_under_its_name(tmp_path):
    out = tmp_path / "o"
    assert _run(out, "--draws", "200", "--seed", "1").exit_code == 0
    before = (out / "envelope.png").read_bytes()
    res = CliRunner().invoke(
        main, ["plot", str(out), "--chart", "fan", "-o", str(out / "envelope.png")]
    )
    assert res.exit_code == 2, res.output
    assert "the run's own envelope chart, which the fan chart would replace" in res.stderr
    assert (out / "envelope.png").read_bytes() == before
    # the same chart under its own name is drawn again
    res = CliRunner().invoke(
        main, ["plot", str(out), "--chart", "envelope", "-o", str(out / "envelope.png")]
    )
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_a_run_that_an_older_pandas_wrote_with_nat_months_still_draws(tmp_path):
    out = tmp_path / "o"
    assert _run(out, "--draws", "300", "--seed", "1").exit_code == 0
    record = json.loads((out / "run.json").read_text())
    del record["manifest"]  # its tables as an older forcesim wrote them, unsigned
    (out / "run.json").write_text(json.dumps(record))
    dates = out / "dates.csv"
    lines = dates.read_text().split("\n")
    assert any(",," in line for line in lines[1:])  # some threshold is never reached
    dates.write_text("\n".join(line.replace(",,", ",NaT,") for line in lines))
    (out / "envelope.png").unlink()  # (unsigned, the run's other charts are not replaced)
    res = CliRunner().invoke(main, ["plot", str(out), "--chart", "envelope"])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("moment", ["directory", "file"])
def test_an_interruption_as_the_hidden_entry_is_made_leaves_nothing_behind(
    tmp_path, monkeypatch, moment
):
    # Ctrl-C between making the hidden directory (or file) and the clean-up taking it
    # in charge left it behind, for a later write to remove
    import signal

    from sim.io import files

    # (Python's own Ctrl-C handler, whatever an earlier test in this process left: the
    # suite's Dask clusters run threads of their own)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_at(moment, files, tmp_path, monkeypatch)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert list(tmp_path.iterdir()) == []


def _interrupt_at(moment, files, tmp_path, monkeypatch) -> None:
    """Send this process Ctrl-C just after the hidden directory or file is made."""
    import signal

    if moment == "directory":
        lock = files._lock

        def interrupted_lock(path):
            os.kill(os.getpid(), signal.SIGINT)
            return lock(path)

        monkeypatch.setattr(files, "_lock", interrupted_lock)
        with pytest.raises(KeyboardInterrupt), files.atomic_directory(tmp_path / "run"):
            pass
    else:
        opened = os.open

        def interrupted_open(*args, **kwargs):
            fd = opened(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGINT)
            return fd

        monkeypatch.setattr(files.os, "open", interrupted_open)
        with pytest.raises(KeyboardInterrupt):
            files.atomic_file(tmp_path / "chart.png", lambda tmp: tmp.write_bytes(b"x"))


# ---------------------------------------------------------------- one writer at a time

HOLDER = """
import sys, time
from pathlib import Path
from sim.io.files import output_lock
with output_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says so
"""


@contextlib.contextmanager
def _held(out: Path):
    """A child process holding the lock of ``out`` for the block (it is yielded)."""
    import subprocess

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield holder
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and a child process")
def test_a_second_command_writing_an_output_directory_in_use_stops_and_writes_nothing(tmp_path):
    # two runs into one --out started together each swapped a whole directory in: the
    # later deleted the earlier's files moments after it said "wrote 4 files", and a
    # report of a run being replaced wrote the old run's page into the new run, or
    # into the old directory, deleted with it

    from sim.io.files import lock_path

    out = tmp_path / "out"
    assert _run(out, "--variant", "on-time").exit_code == 0
    before = _snapshot(out)
    with _held(out) as holder:
        for args in (
            ["run", str(DEFAULT), "-q", "--out", str(out)],
            ["report", str(out)],
            ["plot", str(out)],
        ):
            res = CliRunner().invoke(main, args)
            assert res.exit_code == 2, (args, res.output)
            assert res.stderr.startswith(f"forcesim: error: {out}:1:1: ")
            assert (
                "expected an output directory no other forcesim command is writing, found one "
                f"being written by process {holder.pid} (another forcesim command: wait for it "
                "to finish"
            ) in res.stderr
            assert res.stderr.count("\n") == 1
            assert _snapshot(out) == before
    assert not lock_path(out).exists()  # the holder removed its lock file
    assert _run(out).exit_code == 0  # and the next command writes


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and a child process")
def test_the_lock_of_a_killed_command_does_not_block_the_next(tmp_path):
    import signal
    import subprocess

    from sim.io.files import lock_path

    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    for pipe in (holder.stdin, holder.stdout):
        assert pipe is not None
        pipe.close()
    assert lock_path(out).exists()  # left behind, but no process holds it
    assert _run(out).exit_code == 0
    assert not lock_path(out).exists()


def test_one_command_takes_the_lock_of_its_output_directory_again_and_then_removes_it(
    tmp_path,
):
    from sim.io.files import lock_path, output_lock

    out = tmp_path / "out"
    with output_lock(out):
        with atomic_directory(out) as tmp:  # (the writer inside the command that holds it)
            write_record(tmp, {})
        assert lock_path(out).exists()
    assert not lock_path(out).exists()


def test_two_directories_one_named_through_a_link_do_not_refuse_each_other(tmp_path):
    # a/out, a link to b/real, took the lock of a/real (its folder's inode, the link's
    # own name): "being written by process <its own>"
    from sim.io.files import output_lock

    (tmp_path / "a" / "real").mkdir(parents=True)
    (tmp_path / "b" / "real").mkdir(parents=True)
    (tmp_path / "a" / "out").symlink_to(tmp_path / "b" / "real")
    with output_lock(tmp_path / "a" / "real"), output_lock(tmp_path / "a" / "out"):
        pass


def test_a_directory_is_locked_under_every_folder_above_it_that_exists(tmp_path):
    # a command that finds the run's parent missing (and makes it) and one that comes
    # after it take locks in common, whatever path each came by
    from sim.io.files import lock_paths

    target = tmp_path / "new" / "deeper" / "run"  # (two folders not made yet)
    before = lock_paths(target)
    assert len(before) == 1 + len([p for p in target.parents if p.exists()])
    (tmp_path / "new" / "deeper").mkdir(parents=True)
    after = lock_paths(target)
    assert len(after) == len(before) + 2 and set(before) < set(after)


def test_an_empty_mount_point_as_the_output_is_refused_before_anything_is_written(
    tmp_path, monkeypatch
):
    # "found Device or resource busy while writing mnt; the previous run is kept as it
    # was", of a run that never was: a mount point cannot be moved aside
    out = tmp_path / "mnt"
    out.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == out or real(p))
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 2
    said = "found a mount point, which a run cannot replace (write into a folder inside it:"
    assert f"{said} {out / 'run'})" in res.stderr
    assert list(out.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["mnt"]


def test_two_paths_to_one_folder_take_one_lock(tmp_path) -> None:
    # with the folder bind-mounted at a second path, two runs wrote one directory at
    # once: the lock was named by the path alone
    import subprocess

    from sim.io.files import OutputError, lock_paths, output_lock

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    mounted = subprocess.run(
        ["mount", "--bind", str(first), str(second)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip("needs a bind mount (root, and a system that allows it)")
    try:
        assert lock_paths(first / "out")[1] == lock_paths(second / "out")[1]
        with (
            output_lock(first / "out"),
            pytest.raises(OutputError, match="one being written by process"),
            output_lock(second / "out"),
        ):
            pass
        with output_lock(second / "out"):  # (both let go)
            pass
        assert not any(p.exists() for p in lock_paths(first / "out"))
    finally:
        subprocess.run(["umount", str(second)], check=False)


def _as_another_user(monkeypatch, files):
    """This process as one that may not open another user's lock file for writing, nor
    add a file to a lock folder another user made (the system says EACCES)."""
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if str(path).endswith(".lock") and flags & (os.O_RDWR | os.O_WRONLY | os.O_CREAT):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", open_)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock")
def test_a_lock_file_another_users_killed_command_left_does_not_block_the_output_directory(
    tmp_path, monkeypatch
):
    # another user's command killed while it held the lock leaves its file, which this
    # user may not open for writing nor remove (the folder is sticky, as /tmp is): it
    # said "being written by process 999999 of another user" of a process long gone,
    # for every command into that directory from then on
    import tempfile

    from sim.io import files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    out = tmp_path / "out"
    left = files.lock_path(out)
    left.parent.mkdir()
    left.write_text("999999\n")
    _as_another_user(monkeypatch, files)
    with files.output_lock(out), files.atomic_directory(out) as tmp:
        write_record(tmp, {})
    assert (out / "run.json").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock")
def test_a_lock_folder_this_user_may_not_add_to_locks_nothing_and_blocks_nothing(
    tmp_path, monkeypatch
):
    # no lock file there and none can be made: no command holds the directory, yet it
    # said "being written by another process of another user"
    import tempfile

    from sim.io import files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp" / "forcesim-locks").mkdir(parents=True)
    out = tmp_path / "out"
    _as_another_user(monkeypatch, files)
    with files.output_lock(out):
        assert not files.lock_path(out).exists()


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and a child process")
def test_an_output_directory_another_users_command_is_writing_stops_a_second_command(
    tmp_path, monkeypatch
):
    import tempfile

    from sim.io import files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    out = tmp_path / "out"
    with _held(out) as holder:
        _as_another_user(monkeypatch, files)
        held = rf"being written by process {holder.pid} of another user \(another forcesim"
        with pytest.raises(files.OutputError, match=held), files.output_lock(out):
            pass


# ---------------------------------------------------------------- folders made for a write


def _disk_full(*_args: object) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("failure", [OSError, KeyboardInterrupt])
def test_a_directory_write_that_fails_takes_away_the_folders_it_made_for_it(tmp_path, failure):
    from sim.io.files import OutputError

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("a user's file")
    target = tmp_path / "mine" / "x" / "y" / "out"
    expected = OutputError if failure is OSError else KeyboardInterrupt
    with pytest.raises(expected), atomic_directory(target) as tmp:
        (tmp / "bands.csv").write_text("half")
        if failure is OSError:
            _disk_full()
        raise KeyboardInterrupt
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


def test_a_file_write_that_fails_takes_away_the_folders_it_made_for_it(tmp_path):
    from sim.io.files import OutputError, atomic_file

    target = tmp_path / "a" / "b" / "fan.png"
    with pytest.raises(OutputError, match="nothing was written"):
        atomic_file(target, _disk_full)
    assert list(tmp_path.iterdir()) == []


def _no_links() -> None:
    raise OSError(1, "Operation not permitted")


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
def test_a_file_whose_move_into_place_fails_leaves_the_old_one_where_it_was(
    tmp_path, monkeypatch, links
):
    # the old file was moved aside where no hard link could be made, and a failed move
    # of the new one left it under a hidden name ("nothing was written")
    from sim.io.files import OutputError, atomic_file

    if not links:
        monkeypatch.setattr(os, "link", lambda *a, **k: _no_links())
    target = tmp_path / "fan.png"
    target.write_bytes(b"the run's chart")
    real = os.replace

    def failing(src, dst, *a, **k):
        if Path(dst) == target:
            raise OSError(5, "Input/output error")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OutputError, match="Input/output error; the file is kept as it was"):
        atomic_file(target, lambda tmp: tmp.write_bytes(b"new"), then=lambda: None)
    assert [p.name for p in tmp_path.iterdir()] == ["fan.png"]
    assert target.read_bytes() == b"the run's chart"


def _two_charts(tmp_path: Path) -> list[Path]:
    charts = [tmp_path / "envelope.png", tmp_path / "fan.png"]
    for chart in charts:
        chart.write_bytes(b"old " + chart.name.encode())
    return charts


def _new_bytes(target: Path, tmp: Path) -> None:
    tmp.write_bytes(b"new " + target.name.encode())


@pytest.mark.parametrize("fails", ["the second move", "then"])
def test_files_moved_in_together_are_all_put_back_when_one_step_fails(tmp_path, monkeypatch, fails):
    from sim.io.files import OutputError, atomic_files

    charts = _two_charts(tmp_path)
    then = None
    if fails == "then":
        then = _disk_full
    else:
        real = os.replace
        moved: list[object] = []

        def second_fails(src, dst):
            moved.append(dst)
            if len(moved) == 2:
                _disk_full()
            real(src, dst)

        monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(OutputError, match="No space left on device; the file is kept as it was"):
        atomic_files(charts, _new_bytes, then=then)
    assert [c.read_bytes() for c in charts] == [b"old envelope.png", b"old fan.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["envelope.png", "fan.png"]


def test_a_file_that_cannot_be_put_back_is_named(tmp_path, monkeypatch):
    # a disk full as the first chart was put back: the loop stopped, and a bare
    # "No space left on device" was said of two charts left new
    import sim.io.files as files
    from sim.io.files import OutputError, atomic_files

    charts = _two_charts(tmp_path)
    real = files._put_back

    def envelope_stuck(target, kept):
        if target.name == "envelope.png":
            _disk_full()
        real(target, kept)

    monkeypatch.setattr(files, "_put_back", envelope_stuck)
    with pytest.raises(OutputError) as err:
        atomic_files(charts, _new_bytes, then=_disk_full)
    assert str(err.value).endswith(
        f"found No space left on device; {charts[0]} could not be put back as it was: it holds "
        "the new file"
    )
    assert [c.read_bytes() for c in charts] == [b"new envelope.png", b"old fan.png"]


@pytest.mark.parametrize("links", [True, False], ids=["hard-links", "no-hard-links"])
@pytest.mark.parametrize("earlier", [b"the old page", None], ids=["over-a-file", "new"])
def test_a_file_whose_follow_up_fails_is_put_back_as_it_was(tmp_path, monkeypatch, earlier, links):
    from sim.io.files import OutputError, atomic_file

    if not links:  # (a file system without them: vfat, some network shares)
        monkeypatch.setattr(os, "link", lambda *a, **k: _no_links())
    target = tmp_path / "a" / "report.html"
    if earlier is not None:
        target.parent.mkdir()
        target.write_bytes(earlier)
    kept = "the file is kept as it was" if earlier else "nothing was written"
    with pytest.raises(OutputError, match=f"No space left on device; {kept}"):
        atomic_file(target, lambda tmp: tmp.write_bytes(b"the new page"), then=_disk_full)
    if earlier is None:
        assert list(tmp_path.iterdir()) == []
    else:
        assert [p.name for p in target.parent.iterdir()] == ["report.html"]
        assert target.read_bytes() == earlier


def test_a_folder_made_for_a_failed_write_stays_when_something_else_was_put_in_it(tmp_path):
    from sim.io.files import OutputError, atomic_file

    target = tmp_path / "a" / "b" / "fan.png"

    def meanwhile(_tmp: Path) -> None:
        (tmp_path / "a" / "theirs.txt").write_text("another program's file")
        _disk_full()

    with pytest.raises(OutputError):
        atomic_file(target, meanwhile)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["theirs.txt"]


@pytest.mark.slow
def test_a_run_that_fails_for_lack_of_room_leaves_no_folder_it_made(tmp_path, monkeypatch):
    monkeypatch.setattr("sim.io.files._swap_in", _disk_full)  # (the disk full at the end)
    out = tmp_path / "reports" / "2026" / "run"
    res = CliRunner().invoke(main, ["run", "-q", "-o", str(out)])
    assert res.exit_code == 2 and "nothing was written" in res.output, res.output
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- -o into another run


@pytest.mark.slow
def test_a_chart_or_page_of_one_run_is_not_written_into_another_runs_directory(tmp_path):
    # plot B -o A/x.png put a file A's manifest did not list into A: a new run then
    # refused to replace A, plot and report of A refused it too, and A/envelope.png
    # could silently show B's chart
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(a, "--variant", "on-time").exit_code == 0
    assert _run(b, "--variant", "slip-6").exit_code == 0
    before = _snapshot(a)
    for args in (
        ["plot", str(b), "--chart", "envelope", "-o", str(a / "from-b.png")],
        ["plot", str(b), "--chart", "envelope", "-o", str(a / "envelope.png")],
        ["report", str(b), "-o", str(a / "page.html")],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, (args, res.output)
        assert res.stderr.count("\n") == 1, res.stderr
        assert f"found {a}, the directory of another run" in res.stderr
        assert _snapshot(a) == before
    # its own directory, and a folder of no run, take them
    assert CliRunner().invoke(main, ["plot", str(b), "-o", str(b / "again.png")]).exit_code == 0
    loose = tmp_path / "charts" / "b.png"
    assert CliRunner().invoke(main, ["plot", str(b), "-o", str(loose)]).exit_code == 0
    assert loose.is_file()
    assert _run(a).exit_code == 0  # and a new run still replaces a


@pytest.mark.slow
def test_a_chart_or_page_is_not_written_into_a_run_directory_read_unsigned(tmp_path):
    # a run.json whose manifest was taken out (as a refusal of an edited run advises, to
    # read it unsigned) is still that run's: plot and report of another run wrote into it
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(a, "--variant", "on-time").exit_code == 0
    assert _run(b, "--variant", "slip-6").exit_code == 0
    record = json.loads((a / "run.json").read_text(encoding="utf-8"))
    record.pop("manifest")
    (a / "run.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    before = _snapshot(a)
    for args in (
        ["plot", str(b), "--chart", "envelope", "-o", str(a / "from-b.png")],
        ["report", str(b), "-o", str(a / "page.html")],
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, (args, res.output)
        assert f"found {a}, the directory of another run" in res.stderr
        assert _snapshot(a) == before
    # its own charts may still be drawn at its top, and another tool's run.json is no run's
    assert CliRunner().invoke(main, ["plot", str(a), "-o", str(a / "again.png")]).exit_code == 0
    record["forcesim_version"] = 1  # (edited to a number: still forcesim's record)
    (a / "run.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    res = CliRunner().invoke(main, ["plot", str(b), "-o", str(a / "from-b.png")])
    assert res.exit_code == 2 and "the directory of another run" in res.stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "run.json").write_text('{"steps": 3}', encoding="utf-8")
    res = CliRunner().invoke(main, ["plot", str(b), "-o", str(other / "b.png")])
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_a_chart_or_page_is_not_written_into_a_folder_inside_a_run_directory(tmp_path):
    # -o a/sub/x.html made a/sub: a new run then refused a ("an entry that is not part
    # of its run"), and the same -o again was refused as a foreign file
    a, b = tmp_path / "a", tmp_path / "b"
    assert _run(a, "--variant", "on-time").exit_code == 0
    assert _run(b, "--variant", "slip-6").exit_code == 0
    before = _snapshot(a)
    for args, own in (
        (["report", str(b), "-o", str(a / "sub" / "x.html")], False),
        (["plot", str(b), "-o", str(a / "sub" / "deeper" / "x.png")], False),
        (["report", str(a), "-o", str(a / "sub" / "x.html")], True),
    ):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, (args, res.output)
        assert res.stderr.count("\n") == 1, res.stderr
        assert f"a folder inside the run directory {a} (a run holds only the files" in res.stderr
        assert ("or at the top of its own" in res.stderr) == own
        assert _snapshot(a) == before and sorted(p.name for p in a.iterdir()) == sorted(before)
    assert _run(a).exit_code == 0  # (a new run still replaces a)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="flock and a child process")
def test_a_chart_is_not_written_into_a_directory_a_run_is_writing(tmp_path):
    # a run writing L lost all its work when plot -o L/fan.png put a file there first
    b, out = tmp_path / "b", tmp_path / "l"
    assert _run(b, "--variant", "on-time").exit_code == 0
    with _held(out) as holder:
        res = CliRunner().invoke(main, ["plot", str(b), "-o", str(out / "fan.png")])
        assert res.exit_code == 2, res.output
        assert f"being written by process {holder.pid}" in res.stderr
    assert not out.exists()


@pytest.mark.slow
def test_a_previous_run_that_cannot_be_removed_whole_leaves_the_new_run_in_place_with_a_warning(
    tmp_path, monkeypatch
):
    # a file of the old run the system would not let go (chattr +i) made the command
    # fail, naming a hidden temporary folder, although the new run was in place
    out = tmp_path / "run"
    assert _run(out, "--variant", "on-time").exit_code == 0
    real_unlink = Path.unlink

    def stuck(self: Path, missing_ok: bool = False) -> None:
        if self.name == "envelope.png" and self.parent.name.startswith(".run"):
            raise PermissionError(1, "Operation not permitted", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", stuck)
    res = _run(out, "--variant", "slip-6")
    assert res.exit_code == 0, res.output
    assert (
        "forcesim: warning:" in res.stderr
        and "Operation not permitted on envelope.png" in res.stderr
    )
    assert res.stderr.count("\n") == 1, res.stderr
    assert "slip-6" in (out / "run.json").read_text()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("run.kept-")]
    assert len(kept) == 1 and [p.name for p in kept[0].iterdir()] == ["envelope.png"]


@pytest.mark.slow
def test_an_output_whose_name_takes_the_most_bytes_allowed_is_written_and_replaced(tmp_path):
    # its hidden temporary name added some 45 bytes and passed the system's 255
    out = tmp_path / ("é" * 127)  # (254 bytes in UTF-8)
    assert _run(out, "--variant", "on-time").exit_code == 0
    assert _run(out, "--variant", "slip-6").exit_code == 0
    assert "slip-6" in (out / "run.json").read_text()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_a_temporary_name_of_a_long_name_fits_and_is_still_known_for_cleaning_up():
    from sim.io.files import _writer, temp_name

    for name in ("run", "x" * 255, "é" * 127 + "a"):
        made = temp_name(name, ".html")
        assert len(os.fsencode(made)) <= 255
        assert _writer(Path(made)) == os.getpid()


def test_a_failed_write_through_dot_dot_leaves_the_users_own_empty_folder(tmp_path, monkeypatch):
    # the folders it made were worked out from the path as written: through "nope/..",
    # the user's own empty folder was taken for one it made, and removed
    from sim.io.files import OutputError, atomic_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    with pytest.raises(OutputError):
        atomic_file(Path("nope/../mine/sub/fan.png"), _disk_full)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert list((tmp_path / "mine").iterdir()) == []


def test_what_is_left_of_previous_runs_is_kept_under_names_of_its_own_each_time(tmp_path):
    # two replacements within a second named the same kept folder: the second's files
    # stayed in the hidden folder, which the next write clears
    from sim.io.files import _kept_name

    first = _kept_name(tmp_path, "run")
    first.mkdir()
    second = _kept_name(tmp_path, "run")
    assert second != first and not second.exists() and second.name.startswith("run.kept-")
    long = _kept_name(tmp_path, "é" * 127)
    assert len(os.fsencode(long.name)) <= 255


@pytest.mark.slow
def test_charts_of_two_runs_drawn_into_one_folder_at_once_do_not_lock_each_other_out(tmp_path):
    a, b, charts = tmp_path / "a", tmp_path / "b", tmp_path / "charts"
    assert _run(a, "--variant", "on-time").exit_code == 0
    assert _run(b, "--variant", "slip-6").exit_code == 0
    charts.mkdir()
    (charts / "notes.txt").write_text("the user's")
    with _held(charts):  # (as a plot writing there would hold it, were it locked)
        for run, name in ((a, "a.png"), (b, "b.png")):
            res = CliRunner().invoke(main, ["plot", str(run), "-o", str(charts / name)])
            assert res.exit_code == 0, res.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="symbolic and hard links")
@pytest.mark.parametrize("planted", ["symlink", "dangling", "hardlink", "fifo"])
def test_a_lock_file_planted_in_the_shared_lock_folder_is_never_written_through(tmp_path, planted):
    # another user of the host may make forcesim-locks first and put a link at the lock
    # file's (predictable) name: the next run emptied the file it led to and wrote its
    # process id in, or created the file a dangling link named
    import warnings

    from sim.errors import ForcesimWarning
    from sim.io.files import lock_path, output_lock

    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    lock = lock_path(out)
    lock.parent.mkdir(exist_ok=True)
    if planted == "dangling":
        lock.symlink_to(victim)
    elif planted == "fifo":  # (opened read-only, it waited for a writer forever)
        os.mkfifo(lock)
        victim.write_text("the user's own words\n", encoding="utf-8")
    else:
        victim.write_text("the user's own words\n", encoding="utf-8")
        (lock.symlink_to if planted == "symlink" else lock.hardlink_to)(victim)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with output_lock(out):
                pass
        if planted == "dangling":
            assert not victim.exists() and not victim.is_symlink()
        else:
            assert victim.read_text(encoding="utf-8") == "the user's own words\n"
        assert lock.is_symlink() or planted == "fifo" or lock.samefile(victim)  # left there
        (warning,) = [w for w in caught if issubclass(w.category, ForcesimWarning)]
        assert "in place of a lock file" in str(warning.message)
        assert "is not kept out" in str(warning.message)
    finally:
        lock.unlink()


def test_a_lock_folder_that_is_a_file_says_the_output_is_not_locked(tmp_path, monkeypatch):
    # a file in the lock folder's place turned locking off without a word: two runs into
    # one folder both said they wrote it, and the later replaced the earlier's files
    import tempfile
    import warnings

    from sim.errors import ForcesimWarning
    from sim.io.files import output_lock

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "forcesim-locks").write_text("", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with output_lock(tmp_path / "out"):
            pass
    (warning,) = [w for w in caught if issubclass(w.category, ForcesimWarning)]
    assert "the lock folder is not a folder" in str(warning.message)


@pytest.mark.slow
def test_an_output_directory_named_through_dot_dot_is_written_in_its_place(tmp_path, monkeypatch):
    # "-o e3/sub/.." made e3/sub for the new run's folder, then refused it as a file
    # forcesim did not write
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "-v", "on-time", "-o", "e3/sub/.."])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "e3").iterdir()) == [
        "envelope.png",
        "milestones.csv",
        "monthly.csv",
        "run.json",
    ]


def test_the_working_directory_as_the_output_is_refused_in_one_line_and_left_as_it_is(
    tmp_path, monkeypatch
):
    # "-o ." staged the new run inside the directory it was to replace, and blamed
    # forcesim's own temporary folder as a file it did not write; swapped in, it would
    # leave the shell in the directory it replaced
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "-o", "."])
    assert res.exit_code == 2, res.output
    assert res.stderr == (
        "forcesim: error: .:1:1: -o: expected a new or empty directory, or one holding only "
        "an earlier forcesim run, found the working directory (a run replaces its directory "
        "whole: a shell or notebook working in it would be left in the old one; write from "
        "its parent folder, or elsewhere); nothing was deleted\n"
    )
    assert list(here.iterdir()) == [] and sorted(tmp_path.iterdir()) == [here]


def test_a_lock_file_its_holder_removes_as_it_is_opened_is_opened_again_not_skipped(
    tmp_path, monkeypatch
):
    # it was taken for a hard link (no name left): a false warning, and no lock held
    import warnings

    import sim.io.files as files
    from sim.errors import ForcesimWarning

    out = tmp_path / "out"
    lock = files.lock_path(out)
    lock.parent.mkdir(exist_ok=True)
    lock.write_text("999\n", encoding="ascii")
    real_open = os.open
    calls = []

    def open_as_the_holder_lets_go(path, flags, *args):
        fd = real_open(path, flags, *args)
        if str(path) == str(lock) and not calls:
            calls.append(path)
            os.unlink(lock)  # (the last holder's output_lock ends just then)
        return fd

    monkeypatch.setattr(files.os, "open", open_as_the_holder_lets_go)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with files.output_lock(out):
            assert lock.exists() and lock.read_text(encoding="ascii") == f"{os.getpid()}\n"
    assert calls and not [w for w in caught if issubclass(w.category, ForcesimWarning)]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a symbolic link")
def test_an_output_directory_named_through_a_link_and_dot_dot_is_where_the_system_puts_it(
    tmp_path, monkeypatch
):
    # out/sub/../run1 with out/sub a link elsewhere was written to out/run1: the path
    # printed did not lead to the files, and the lock was on another directory
    elsewhere = tmp_path / "elsewhere" / "x"
    elsewhere.mkdir(parents=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").symlink_to(elsewhere)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        main, ["run", str(DEFAULT), "-q", "-v", "on-time", "-o", "out/sub/../run1"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "elsewhere" / "run1" / "run.json").is_file()
    assert not (tmp_path / "out" / "run1").exists()


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (1 - Fraction(1, 10**19), "99.99999999999999999 %"),
        (Fraction(1, 2**60), "≈0.0000000000000000867362 %"),  # (58 digits: not all shown)
        (1 - Fraction(1, 30_000_000), "≈99.999997 %"),  # (six digits would read 100)
        (Fraction(19, 20), "95 %"),
        (Fraction(1), "100 %"),
        (Fraction(0), "0 %"),
        (Fraction(2, 3), "≈66.6667 %"),
    ],
)
def test_a_chance_is_shown_with_every_digit_where_few_do_else_marked_and_never_as_100_or_0(
    share, text
):
    from sim.io.numbers import exact_percent

    assert exact_percent(share) == text


# ---------------------------------------------------------------- numbers too long to read

LONG = "9" * 5000  # (Python reads no more than 4,300 digits as an int)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--draws", LONG, "--seed", "1"], "--draws: expected a whole number from 1 to "),
        (["--draws", "10", "--seed", "-" + LONG], "--seed: expected a whole number from 0 to "),
        (["--draws", "10", "--seed", "1", "--workers", LONG], "--workers: expected a whole "),
        (["--set", f"theaters.iraq.initial={LONG}"], "theaters.iraq.initial: expected a number "),
    ],
)
def test_a_number_of_thousands_of_digits_is_one_line_quoted_short_not_a_traceback(
    tmp_path, args, expected
):
    # each was a traceback or "internal error: ValueError: Exceeds the limit (4300 digits)"
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(tmp_path / "r"), *args])
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1 and expected in res.stderr, res.stderr
    assert "9999999999'… (5,00" in res.stderr and len(res.stderr) < 400
    assert not (tmp_path / "r").exists()


def test_a_scenario_number_of_thousands_of_digits_is_refused_at_its_key(tmp_path):
    path = tmp_path / "huge.yaml"
    text = DEFAULT.read_text(encoding="utf-8")
    path.write_text(text.replace("initial: {value: 2500", f"initial: {{value: {LONG}", 1))
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    message = str(err.value)
    assert ": theaters.iraq.initial.value: expected a number of at most 4,000 digits" in message
    assert message.endswith("found '99999999999999999999'… (5,000 digits)")


@pytest.mark.parametrize(
    ("written", "found"),
    [
        # decimal's 28 digits: "internal error: InvalidOperation" for each of these
        ("0.." + "9" * 40, "found about 10^40 in '0.." + "9" * 40 + "'"),
        ("0..1:0." + "0" * 40 + "1", "found about 10^41 in "),
        ("0..3:" + "9" * 40, "(0..0:" + "9" * 40 + " or 0.." + "9" * 40 + ":" + "9" * 40 + ")"),
        # rounded to 28 digits, the suggested ends ran off the grid written
        ("0..30:0." + "3" * 30, "0..29.999999999999999999999999999970:0." + "3" * 30),
    ],
)
def test_a_sweep_range_is_read_exactly_however_many_digits_it_has(written, found):
    from sim.io.settings import parse_axis

    with pytest.raises(sim.ScenarioError) as err:
        parse_axis(f"announcement.delay={written}")
    assert found in str(err.value), err.value


def test_a_sweep_range_of_thousands_of_digits_is_one_line_not_a_traceback(tmp_path):
    # "internal error: ValueError: Exceeds the limit (4300 digits)" at the range's value
    out = tmp_path / "s"
    res = CliRunner().invoke(
        main, ["sweep", str(DEFAULT), "--set", f"announcement.delay={LONG}..{LONG}", "-o", str(out)]
    )
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1, res.stderr
    assert "announcement.delay: expected a number of at most 4,000 digits" in res.stderr
    assert "9999999999'… (5,000 digits)" in res.stderr and len(res.stderr) < 400
    assert not out.exists()


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("0.12345678901234567891..0.12345678901234567891", "0.12345678901234567891"),
        ("0..0.20000000000000000002:0.10000000000000000001", "0.10000000000000000001"),
    ],
)
def test_a_sweep_range_value_a_float_cannot_hold_is_refused_not_rounded(written, value):
    from sim.io.settings import parse_axis

    # each ran the float nearest the value, which differs from the value the range names
    with pytest.raises(sim.ScenarioError) as err:
        parse_axis(f"announcement.delay={written}")
    assert err.value.expected.startswith("a number a 64-bit float holds as written")
    assert err.value.found.startswith(f"{value!r} in {written!r}, which would be read as ")


@pytest.mark.slow
def test_ids_that_read_as_numbers_stay_text_in_plot_and_report_of_a_run(tmp_path, write):
    # theaters called 01 and 02 were read back as 1 and 2: plot failed with an internal
    # error and report --theater 01 was refused as not one of "1, 2"
    from conftest import make_doc

    doc = make_doc(
        theaters={"01": {"initial": 1000}, "02": {"initial": 500}},
        milestones={"a-out": {"theater": "01", "deadline": "2024-11", "target": {"level": 0}}},
        variants={"010": {"description": "b", "overrides": {}}, "late": {"description": "c"}},
    )
    out = tmp_path / "run"
    args = ["run", str(write(doc)), "-q", "--draws", "50", "--seed", "1", "-o", str(out)]
    assert CliRunner().invoke(main, [*args, "--format", "both"]).exit_code == 0
    for extra in ([], ["--theater", "01"]):
        target = tmp_path / f"p{len(extra)}.png"
        res = CliRunner().invoke(main, ["plot", str(out), *extra, "-o", str(target)])
        assert res.exit_code == 0, res.output
    tables = sim.load_run(out)
    assert set(tables.monthly.theater) == {"01", "02"} and set(tables.monthly.variant) == {
        "010",
        "late",
    }
    pytest.importorskip("plotly")
    res = CliRunner().invoke(main, ["report", str(out), "--theater", "01", "-v", "010"])
    assert res.exit_code == 0, res.output
    assert "only variants 010 and theaters 01" in res.output


def test_validate_strict_says_a_number_left_to_its_default_was_not_written(write):
    # "found 0 with neither", at the announcement's "{": a 0 the file never wrote
    from conftest import MINIMAL_YAML

    assert "delay" not in MINIMAL_YAML.split("theaters:")[0]
    res = CliRunner().invoke(main, ["validate", "--strict", str(write(MINIMAL_YAML))])
    assert res.exit_code == 2
    said = {line.split(": ")[3]: line for line in res.stderr.splitlines()}
    assert said["announcement.delay"].endswith(
        "found delay not written (0 by default) with neither"
    )
    written = [line for key, line in said.items() if key.endswith(".initial")]
    assert written and all("not written" not in line for line in written)


# ------------------------------------------- a misspelt name in a variant's overrides

MISSPELT = __import__("conftest").MINIMAL_YAML + (
    "residuals:\n"
    "  liaison: {theater: alpha, size: 50, from: 2024-12}\n"
    "variants:\n"
    "  base: {description: as written, overrides: {}}\n"
    "  late:\n"
    "    description: late\n"
    "    overrides:\n"
    "      OVERRIDE\n"
)


@pytest.mark.parametrize(
    ("override", "path", "names", "lacks"),
    [
        (
            "milestones: {alpha-otu: {delay: 2}}",
            "milestones.alpha-otu",
            "milestones of the scenario (alpha-out; did you mean 'alpha-out'?)",
            "'theater'",
        ),
        (
            "residuals: {liason: {size: 80}}",
            "residuals.liason",
            "residuals of the scenario (liaison; did you mean 'liaison'?)",
            "'theater'",
        ),
    ],
)
def test_a_variant_setting_a_field_of_a_misspelt_entry_is_told_the_names_there_are(
    write, override, path, names, lacks
):
    # it said "…alpha-otu.theater: expected the required key 'theater'", which sends
    # the writer to add a theater to what was meant as a change to alpha-out
    text = MISSPELT.replace("OVERRIDE", override)
    err = _error(write(text))
    assert err.path == f"variants.late.overrides.{path}"
    assert err.line == line_of(text, override)
    assert err.expected == f"one of the {names}, or a whole new {path.split('.')[0][:-1]} " + (
        f"(this one has no {lacks})"
    )
    assert err.found == repr(path.split(".")[1])


def test_a_variant_adding_a_theater_a_typing_slip_from_the_bases_is_warned_and_fails_strict(
    write, tmp_path
):
    # a whole theater under a misspelt name was added silently: the variant gained a
    # theater and alpha kept the base's level
    text = MISSPELT.replace("OVERRIDE", "theaters: {alphaa: {initial: 900}}")
    path = write(text)
    with pytest.warns(sim.ScenarioWarning) as caught:
        sc = sim.load_scenario(path)
    (w,) = sc.warnings
    assert str(caught[0].message) == w.one_line()
    assert (w.path, w.line, w.heading) == (
        "variants.late.overrides.theaters.alphaa",
        line_of(text, "alphaa"),
        "a new entry",
    )
    assert w.why.startswith("the base scenario has no theater 'alphaa', but has 'alpha'")
    res = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert res.exit_code != 0
    (line,) = [x for x in res.stderr.splitlines() if "theaters.alphaa" in x]
    assert "variants.late.overrides.theaters.alphaa: expected no entry a variant adds" in line
    assert line.endswith(", found 'alphaa'")  # (what was written)


@pytest.mark.parametrize(
    "override",
    [
        "theaters: {beta: {initial: 10}}\n"
        "      milestones: {beta-out: {theater: beta, deadline: 2024-10, target: {level: 0}}}",
        "theaters: {alphb: {initial: 10}}",  # a letter changed: a real name as often
        # (the base's alpha-out deleted: its near namesake changes nothing left as it was)
        "milestones: {alpha-out: null, alpha-outt: {theater: alpha, deadline: 2024-10, "
        "target: {level: 0}}}",
    ],
)
def test_a_variant_adding_entries_named_apart_from_the_bases_gives_no_warning(write, override):
    text = MISSPELT.replace("OVERRIDE", override)
    with __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("error")
        assert sim.load_scenario(write(text)).warnings == ()


@pytest.mark.parametrize(
    ("override", "path", "expected"),
    [
        (  # a part of a new entry, not the entry, lacks a key: said there, as before
            "milestones: {alpha-2: {theater: alpha, deadline: {after: alpha-out}, "
            "target: {level: 0}}}",
            "milestones.alpha-2.deadline.months",
            "the required key 'months'",
        ),
        (  # a new entry under a name like none the base has: left unfinished, not misspelt
            "milestones: {zulu: {delay: 2}}",
            "milestones.zulu.theater",
            "the required key 'theater'",
        ),
    ],
)
def test_a_new_entry_left_unfinished_keeps_the_schemas_own_error(write, override, path, expected):
    err = _error(write(MISSPELT.replace("OVERRIDE", override)))
    assert (err.path, err.expected) == (f"variants.late.overrides.{path}", expected)


@pytest.mark.parametrize(
    ("a", "b", "apart"),
    [
        ("chadd", "chad", True),  # a letter typed twice
        ("chad-exti", "chad-exit", True),  # two swapped
        ("liason", "liaison", True),  # a letter left out
        ("iran", "iraq", False),  # one changed for another: real names differ so
        ("site-b", "site-a", False),
        ("phase-3", "phase-1", False),  # a digit
        ("phase-12", "phase-1", False),
        ("iraq-exit-2", "iraq-exit", False),  # two added
        ("syria-exit", "iraq-exit", False),
        ("ab", "abc", False),  # too short to tell
        ("chad", "chad", False),
    ],
)
def test_a_slip_of_typing_is_a_letter_doubled_or_left_out_or_two_swapped_not_a_digit(a, b, apart):
    from sim.checks import typed_apart

    assert typed_apart(a, b) is apart and typed_apart(b, a) is apart
