"""Issue 4: schema, provenance, atomic output."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

import sim
from sim.cli import main
from sim.io.files import atomic_directory
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


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_schema_accepts_every_shipped_scenario(path):
    # a file that extends another is complete only once merged, as the loader does
    data = _as_json(sim.load_scenario(path).raw)
    jsonschema.Draft202012Validator(_schema()).validate(data)


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


def test_interrupted_run_leaves_the_previous_run_untouched(tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)]).exit_code == 0
    before = _snapshot(out)

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.export.write_json", interrupt)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 130
    assert "interrupted" in res.stderr
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_disk_full_while_writing_leaves_no_partial_directory(tmp_path, monkeypatch):
    out = tmp_path / "fresh"

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.export.write_json", full)
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(out)])
    assert res.exit_code == 2
    assert "No space left on device" in res.stderr
    assert "Traceback" not in res.output
    assert list(tmp_path.iterdir()) == []


def test_a_new_run_leaves_no_stale_files_from_an_older_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "bands.csv").write_text("stale\n")
    (out / "notes.txt").write_text("old\n")
    (out / "run.json").write_text("{}\n")  # an older run's directory
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

    monkeypatch.setattr("tempfile.mkdtemp", denied)
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


def test_output_under_a_file_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    res = CliRunner().invoke(main, ["run", str(DEFAULT), "-q", "--out", str(blocker / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"forcesim: error: {tmp_path}")
    assert ": --out: expected a writable output directory, found cannot write to" in res.stderr
    assert "Traceback" not in res.output


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
    assert "--out: expected a writable output directory, found a directory holding 1 files" in (
        res.stderr
    )
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert (out / "thesis.tex").read_text() == "precious\n"
