"""sim.export.tables: a run directory no signed manifest vouches for (an older run, or
run.json edited) has every value of its tables checked before use; a bad one is one
located line through the command line and load_run, and nothing is written."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR

import sim
from sim.cli import main
from sim.export.read import read_record, rebuild_scored
from sim.export.records import resolved_variant
from sim.io import files
from sim.io.files import MAX_RECORD_BYTES, load_record, write_record
from sim.io.yamlio import MAX_BYTES
from sim.loader import MAX_EXTENDS_DEPTH

AFGHANISTAN = SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"


def _unsign(run: Path) -> Path:
    """Drop run.json's manifest: the run as an older forcesim wrote it."""
    record = json.loads((run / "run.json").read_text())
    record.pop("manifest")
    (run / "run.json").write_text(json.dumps(record))
    return run


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "signed"
    res = CliRunner().invoke(
        main,
        ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(out), "--draws", "200", "--seed", "1"],
    )
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def conditioned_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "conditioned"
    args = [
        "run",
        str(AFGHANISTAN),
        "-q",
        "--out",
        str(out),
        "--draws",
        "300",
        "--seed",
        "1",
        "--condition",
    ]
    res = CliRunner().invoke(main, [*args, "--tolerance", "15%"])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture
def run(ensemble_run, tmp_path) -> Path:
    """An unsigned copy of the ensemble run, to edit."""
    return _unsign(Path(shutil.copytree(ensemble_run, tmp_path / "r")))


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _edit(path: Path, line: int, column: str, text: str) -> int:
    """Set one cell (``line`` as numbered in the file, the header being 1); returns
    the column's number (1 for the first)."""
    rows = _rows(path)
    col = rows[0].index(column)
    rows[line - 1][col] = text
    _write_rows(path, rows)
    return col + 1


def _plot_fails(run: Path, start: str) -> str:
    """``forcesim plot RUN -o chart.png`` fails in one line starting ``start``; no chart."""
    target = run.parent / "chart.png"
    res = CliRunner().invoke(main, ["plot", str(run), "-o", str(target)])
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith(f"forcesim: error: {start}"), res.stderr
    assert not target.exists()
    return res.stderr


# each kind of bad value: (table, line, column, text written, what is expected)
BAD_CELLS = [
    ("monthly", 3, "troops", "abc", "whole troops from 0 to 2500 (the most 'iraq' holds"),
    ("monthly", 3, "troops", "-5", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "2454.5", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "1e3", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", " 2454", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "2454 ", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "１２", "whole troops from 0 to 2500"),  # fullwidth digits
    ("monthly", 3, "troops", "9" * 40, "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "2501", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "", "whole troops from 0 to 2500"),
    ("monthly", 3, "troops", "02454", "whole troops from 0 to 2500"),  # (YAML 1.1: octal)
    ("bands", 3, "mean", "02450.5", "a mean number of troops"),
    ("monthly", 3, "official", "2455", "whole troops from 0 to 2454 (official figures count"),
    ("monthly", 3, "theater", "mars", "a theater or site of variant 'as-reported' (iraq, syria)"),
    ("monthly", 3, "variant", "nope", "one of the run's variants (as-reported, on-time,"),
    ("monthly", 3, "scenario", "other", "the run's scenario id 'iraq-syria-2024'"),
    ("monthly", 3, "month", "2030-01", "a month of the run, 2024-09 to 2028-06"),
    ("monthly", 3, "month", "2024-99", "a month between 01 and 12"),
    ("monthly", 3, "month", "NaT", "a month as YYYY-MM"),
    ("bands", 3, "mean", "abc", "a mean number of troops"),
    ("bands", 3, "mean", "inf", "a mean number of troops"),
    ("bands", 3, "mean", "nan", "a mean number of troops"),
    ("bands", 3, "mean", "-1", "a mean number of troops, 0 or more"),
    ("bands", 3, "mean", "2600", "a mean from min (2425) to max (2500)"),
    ("bands", 3, "p50", "2430", "2455 or more, as p25 is (percentiles rise)"),
    ("bands", 3, "min", "-5", "whole troops from 0 to 2500"),
    ("dates", 2, "level", "1900.5", "whole troops from 0 to 2500"),
    ("dates", 2, "p50", "2024-13", "a month between 01 and 12"),
    ("dates", 2, "p50", "2020-01", "a month of the run, 2024-09 to 2028-06, or blank (never)"),
    ("dates", 2, "p50", "2025-01", "2025-07 or more, as p10 is (percentiles rise)"),
    ("dates", 2, "never", "1.5", "a share of draws from 0 to 1"),
    ("dates", 2, "never", "NaN", "a share of draws from 0 to 1"),
    ("dates", 2, "threshold", "milestone nope", "a threshold of variant 'as-reported'"),
    ("milestones", 2, "target", "abc", "whole troops from 0 to 2500"),
    ("milestones", 2, "met", "yes", "true or false"),
    ("milestones", 2, "p_met", "nan", "a share of draws from 0 to 1"),
    ("milestones", 2, "milestone", "nope", "a milestone of variant 'as-reported' (iraq-phase-1,"),
    ("milestones", 2, "theater", "syria", "the theater milestone 'iraq-phase-1' is on, 'iraq'"),
    ("milestones", 2, "deadline", "2025-9", "a month as YYYY-MM"),
    ("milestones", 2, "month_reached", "soon", "a month as YYYY-MM"),
    # more decimal places than forcesim writes: read as a float, rounded without a word
    ("milestones", 2, "p_met", "0.12345678901234567890", "from 0 to 1, to at most 6 decimal"),
    ("dates", 2, "never", "0.4990000000000000000001", "from 0 to 1, to at most 6 decimal places"),
    ("bands", 3, "mean", "2450.1200000000000000001", "troops, to at most 3 decimal places"),
    ("bands", 3, "mean", "1e30", "a mean from min (2425) to max (2500)"),  # (not past 28 digits)
]


@pytest.mark.slow
@pytest.mark.parametrize(("table", "line", "column", "text", "expected"), BAD_CELLS)
def test_a_bad_value_in_an_unsigned_run_is_one_line_naming_file_line_column_and_text(
    run, table, line, column, text, expected
):
    path = run / f"{table}.csv"
    col = _edit(path, line, column, text)
    found = re.escape(repr(text)) if len(text) < 40 else ".*"
    err = _plot_fails(run, f"{path}:{line}:{col}: {column}: expected ")
    assert re.search(re.escape(expected) + f".*, found {found}$", err.strip()), err


@pytest.mark.parametrize(("table", "line", "column", "text", "expected"), BAD_CELLS[::6])
def test_load_run_raises_the_same_located_scenario_error(run, table, line, column, text, expected):
    path = run / f"{table}.csv"
    col = _edit(path, line, column, text)
    with pytest.raises(sim.ScenarioError, match=re.escape(f"{path}:{line}:{col}: {column}: ")):
        sim.load_run(run)


@pytest.mark.parametrize("digits", [308, 309, 400])
def test_a_number_too_long_for_a_float_gives_the_page_one_line_too(run, digits):
    # 309 nines overflowed a float in the page's size check: an internal error
    pytest.importorskip("plotly")
    monthly = run / "monthly.csv"
    monthly.write_text(
        monthly.read_text().replace("2024-10,2454,2454", f"2024-10,{'9' * digits},2454", 1)
    )
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(run.parent / "x.html")])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert res.stderr.startswith(f"forcesim: error: {monthly}:3:5: troops: expected whole troops")
    assert not (run.parent / "x.html").exists()


def test_the_reported_example_gives_one_line_and_writes_no_page(run):
    pytest.importorskip("plotly")
    monthly = run / "monthly.csv"
    monthly.write_text(monthly.read_text().replace("2024-10,2454,2454", "2024-10,abc,2454", 1))
    page = run.parent / "x.html"
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(page)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert res.stderr == (
        f"forcesim: error: {monthly}:3:5: troops: expected whole troops from 0 to 2500 "
        "(the most 'iraq' holds in this scenario), found 'abc'\n"
    )
    assert not page.exists()
    res = CliRunner().invoke(main, ["report", str(run)])  # into the run directory
    assert res.exit_code == 2 and not (run / "report.html").exists()


@pytest.mark.parametrize(
    ("table", "line", "column", "text", "at", "expected"),
    [
        (
            "bands",
            3,
            "p05",
            "2490",
            "p10",
            "2490 or more, as p05 is (percentiles rise), found '2438'",
        ),
        ("dates", 2, "p10", "", "p50", "blank, as p10 is (a share never reached), found '2025-11'"),
    ],
)
def test_percentiles_out_of_order_are_located_where_the_order_breaks(
    run, table, line, column, text, at, expected
):
    path = run / f"{table}.csv"
    _edit(path, line, column, text)
    col = _rows(path)[0].index(at) + 1
    err = _plot_fails(run, f"{path}:{line}:{col}: {at}: expected ")
    assert err.strip().endswith(expected), err


def test_plot_into_the_run_directory_writes_no_chart_when_a_value_is_bad(run):
    for name in ("envelope.png", "fan.png"):
        (run / name).unlink()
    _edit(run / "bands.csv", 40, "mean", "x")
    res = CliRunner().invoke(main, ["plot", str(run)])
    assert res.exit_code == 2, res.output
    assert not list(run.glob("*.png"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "edit", "where", "expected"),
    [
        ("monthly", lambda t: "", ":1:1: (file): ", "a CSV table written by forcesim run, its"),
        ("dates", lambda t: t.split("\n")[0] + "\n", ":2:1: (rows): ", "a row for each variant"),
        (
            "monthly",
            lambda t: t.replace("\n", ",7\n", 2).replace(",7\n", "\n", 1),
            ":2:7: (row): ",
            "6 fields, as in the header, found 7 fields",
        ),
        (
            "milestones",
            lambda t: t.replace("\n", ",z\n", 1),
            ":1:10: (header): ",
            "the columns scenario, variant, milestone, theater, deadline, target,",
        ),
        (
            "bands",
            lambda t: t + t.split("\n")[2] + "\n",
            ":738:1: (row): ",
            "one row for each variant, theater and month, found a second row for "
            "'as-reported', 'iraq', '2024-10' (the first is line 3)",
        ),
        (
            "monthly",
            lambda t: "\n".join(line for i, line in enumerate(t.split("\n")) if i != 3),
            ":4:1: (rows): ",  # (where the row belongs, not past the file's end)
            "a row for each variant, theater and month of the run, found none for "
            "'as-reported', 'iraq', '2024-11' (its place: before line 4)",
        ),
        (
            "milestones",
            lambda t: "\n".join(line for i, line in enumerate(t.split("\n")) if i != 1),
            ":2:1: (rows): ",
            "a row for each variant and milestone of the run, found none for "
            "'as-reported', 'iraq-phase-1' (its place: before line 2)",
        ),
        (
            "bands",
            lambda t: t.replace("scenario", "scenario,scenario", 1),
            ":1:2: (header): ",
            "found 'scenario', again",
        ),
        (  # a quote opened takes in the text up to the next one, across lines
            "dates",
            lambda t: t.replace("\niraq", '\n"iraq', 2),
            ":3:1: scenario: ",
            "the run's scenario id 'iraq-syria-2024', found 'iraq-syria-2024,as-reported,",
        ),
    ],
)
def test_a_table_broken_in_its_shape_is_one_located_line(run, table, edit, where, expected):
    path = run / f"{table}.csv"
    path.write_text(edit(path.read_text()))
    err = _plot_fails(run, f"{path}{where}")
    assert expected in err


def test_bytes_that_are_not_utf8_are_located_at_their_line_and_column(run):
    path = run / "monthly.csv"
    data = path.read_bytes()
    at = data.index(b"2454")
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    _plot_fails(run, f"{path}:3:42: (file): expected UTF-8 text, as forcesim writes, found ")


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b"\xef\xbb\xbf" + b,  # a byte-order mark, as a spreadsheet saves
        lambda b: b.replace(b"\n", b"\r\n"),  # Windows line ends
        lambda b: b.replace(b"\n", b"\n\n", 5),  # blank lines
        lambda b: b.replace(b"iraq-syria-2024", b'"iraq-syria-2024"', 3),  # quoted text
    ],
)
def test_a_table_saved_in_another_harmless_csv_form_still_reads_as_written(run, edit):
    before = sim.load_run(run)
    for name in ("monthly.csv", "bands.csv", "dates.csv", "milestones.csv"):
        path = run / name
        path.write_bytes(edit(path.read_bytes()))
    after = sim.load_run(run)
    for table in ("monthly", "milestones", "bands", "dates"):
        pdt.assert_frame_equal(getattr(after, table), getattr(before, table))


def test_an_unsigned_valid_run_reads_back_exactly_as_the_signed_one(ensemble_run, run):
    signed, unsigned = sim.load_run(ensemble_run), sim.load_run(run)
    for table in ("monthly", "milestones", "bands", "dates"):
        pdt.assert_frame_equal(getattr(unsigned, table), getattr(signed, table))


def test_a_signed_run_keeps_its_fast_path_without_the_cell_checks(ensemble_run, monkeypatch):
    import sim.export.read as read

    def refuse(*args, **kwargs):
        raise AssertionError("a signed table was checked cell by cell")

    monkeypatch.setattr(read, "check_table", refuse)
    assert sim.load_run(ensemble_run).bands is not None


def test_a_run_recording_draws_without_its_bands_is_refused(run):
    (run / "bands.csv").unlink()
    _plot_fails(run, f"{run / 'bands.csv'}: expected a run directory holding bands")


def test_an_older_runs_nat_month_reached_reads_as_missing(run):
    path = run / "milestones.csv"
    _edit(path, 2, "month_reached", "NaT")
    assert pd.isna(sim.load_run(run).milestones.month_reached.iloc[0])


def test_a_bad_value_in_an_unsigned_parquet_table_is_located_by_row(run):
    pytest.importorskip("pyarrow")
    frame = pd.read_csv(run / "monthly.csv", keep_default_na=False, na_values=[""])
    frame.loc[1, "troops"] = -5
    frame.to_parquet(run / "monthly.parquet", index=False)
    (run / "monthly.csv").unlink()
    path = run / "monthly.parquet"
    _plot_fails(run, f"{path}:3:5: troops: expected whole troops from 0 to 2500")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("table", "column", "text", "expected"),
    [
        ("bands_conditioned", "p95", "3", "or more, as p90 is (percentiles rise)"),
        ("dates_conditioned", "never", "-0.1", "a share of draws from 0 to 1"),
    ],
)
def test_the_conditioned_tables_are_checked_like_the_others(
    conditioned_run, tmp_path, table, column, text, expected
):
    pytest.importorskip("plotly")
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    path = run / f"{table}.csv"
    col = _edit(path, 2, column, text)
    page = tmp_path / "x.html"
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(page)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert res.stderr.startswith(f"forcesim: error: {path}:2:{col}: {column}: expected ")
    assert expected in res.stderr and not page.exists()


SHIPPED = sorted(SCENARIOS_DIR.rglob("*.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_an_unsigned_ensemble_of_every_shipped_scenario_passes_the_cell_checks(
    scenario, tmp_path
) -> None:
    # the checks hold what forcesim writes: none of its own runs is refused, sites,
    # conditioned tables (a scenario with its own reports) and official figures included
    out = tmp_path / "r"
    args = ["run", str(scenario), "-q", "--out", str(out), "--draws", "60", "--seed", "2"]
    own = sim.load_scenario(scenario).observations() is not None
    res = CliRunner().invoke(main, [*args, *(["--condition", "--tolerance", "30%"] if own else [])])
    assert res.exit_code == 0, res.output
    signed = sim.load_run(out)
    unsigned = sim.load_run(_unsign(out))
    pdt.assert_frame_equal(unsigned.bands, signed.bands)
    pdt.assert_frame_equal(unsigned.monthly, signed.monthly)


# observed.csv of a conditioned run: its line 2 is the first report against 'doha'
BAD_OBSERVED = [
    ("p_consistent", "7", "a share of draws from 0 to 1, or blank"),
    ("p_consistent_conditioned", "-0.5", "a share of draws from 0 to 1, or blank"),
    ("percentile_rank", "512", "a percentile rank from 0 to 100, or blank"),
    ("level", "99999", "whole troops from 0 to"),
    ("level", "12.5", "whole troops from 0 to"),
    ("troops_low", "abc", "whole troops from 0 to 10000000 (a report's bound), or blank"),
    ("consistent", "maybe", "true, false or blank"),
    ("in_band80", "yes", "true, false or blank"),
    ("known", "", "true or false"),
    (
        "conditioning",
        "trusted",
        "one of used, discrepant, superseded, later, as-of month, or blank",
    ),
    ("status", "fine", "one of scored, out of range, target"),
    ("kind", "rumour", "one of reported, official, target"),
    ("variant", "nope", "one of the run's variants"),
    ("theater", "mars", "a theater or site of the run"),
    ("date", "2020-02-30", "a date as YYYY-MM-DD or YYYY-MM"),
    ("month", "2020-03", "the month of the date, 2020-02"),
    ("by", "soon", "a month as YYYY-MM"),
    ("accept_low", "nan", "a finite number of troops, 0 or more, or blank"),
    ("accept_high", "1", "10200 or more, as accept_low is"),
    ("tolerance", "lots", "a tolerance as 5%, 200 or 0, or blank"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("column", "text", "expected"), BAD_OBSERVED)
def test_the_scored_observations_of_an_unsigned_run_are_checked_before_the_page_shows_them(
    conditioned_run, tmp_path, column, text, expected
):
    pytest.importorskip("plotly")
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    path = run / "observed.csv"
    col = _edit(path, 2, column, text)
    page = tmp_path / "x.html"
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(page)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert res.stderr.startswith(f"forcesim: error: {path}:2:{col}: {column}: expected "), (
        res.stderr
    )
    assert expected in res.stderr and res.stderr.strip().endswith(f"found {text!r}")
    assert not page.exists()
    _plot_fails(run, f"{path}:2:{col}: {column}: expected ")


@pytest.mark.slow
def test_an_unsigned_runs_observed_table_as_written_still_draws(conditioned_run, tmp_path):
    pytest.importorskip("plotly")
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    page = tmp_path / "x.html"
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(page)])
    assert res.exit_code == 0, res.output
    assert page.is_file()


def test_true_and_false_in_another_case_read_as_written_in_an_unsigned_run(
    conditioned_run, tmp_path
):
    # a milestones.csv pandas saved again says True/False, a spreadsheet's TRUE/FALSE:
    # it was refused ("expected true or false, found 'True'"); read, each means the same
    signed = sim.load_run(conditioned_run)
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    for name, columns in (("milestones.csv", ["met"]), ("observed.csv", ["known", "consistent"])):
        rows = _rows(run / name)
        at = [rows[0].index(c) for c in columns]
        for i, row in enumerate(rows[1:]):
            for c in at:
                row[c] = row[c].title() if i % 2 else row[c].upper()
        assert any(r[at[0]] in ("True", "FALSE", "TRUE", "False") for r in rows[1:])
        _write_rows(run / name, rows)
    unsigned = sim.load_run(run)
    pdt.assert_frame_equal(unsigned.milestones, signed.milestones)
    scored = [
        rebuild_scored(r, read_record(r)).observed.table for r in (run, conditioned_run)
    ]  # (the scored reports, as the page reads them)
    pdt.assert_frame_equal(*scored)


def test_flags_saved_as_text_in_an_unsigned_parquet_table_read_as_the_run_wrote_them(tmp_path):
    # consistent re-saved as "TRUE"/"FALSE" passed the check and was never read as
    # booleans: the page said "the central run consistent with 0" where the run had 11
    pytest.importorskip("pyarrow")
    out = tmp_path / "p"
    args = ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(out), "--format", "parquet"]
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    res = CliRunner().invoke(main, [*args, "--observed", str(record), "-v", "on-time"])
    assert res.exit_code == 0, res.output
    signed = rebuild_scored(out, read_record(out)).observed.table
    _unsign(out)
    table = pd.read_parquet(out / "observed.parquet")
    table["consistent"] = table["consistent"].map({True: "TRUE", False: "False"})
    table.to_parquet(out / "observed.parquet")
    unsigned = rebuild_scored(out, read_record(out)).observed.table

    def flags(column: pd.Series) -> list:  # (a blank as None, NaN or pd.NA alike)
        return [None if pd.isna(v) else v for v in column]

    assert flags(unsigned.consistent) == flags(signed.consistent)
    assert flags(signed.consistent).count(True) > 0


def test_load_run_checks_every_variants_reports_not_only_the_first(conditioned_run, tmp_path):
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    path = run / "observed.csv"
    line = next(i for i, r in enumerate(_rows(path), 1) if r[3] == "announced")
    col = _edit(path, line, "troops_high", "-3")
    with pytest.raises(sim.ScenarioError, match=re.escape(f"{path}:{line}:{col}: troops_high: ")):
        sim.load_run(run)


@pytest.fixture(scope="module")
def comparison(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "compare"
    args = ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "300", "--seed", "1"]
    res = CliRunner().invoke(main, [*args, "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


# compare.csv of on-time (A) against slip-6 (B): line 3 is iraq's second month
BAD_COMPARE = [
    ("p50", "abc", "whole troops from -2500 to 2500 (B minus A on 'iraq')"),
    ("p50", "99999", "whole troops from -2500 to 2500 (B minus A on 'iraq')"),
    ("p90", "-2500", "or more, as p75 is (percentiles rise)"),
    ("mean", "nan", "a mean difference in troops"),
    ("mean", "2400", "a mean from min"),
    ("p_b_greater", "7", "a share of draws from 0 to 1"),
    ("p_b_less", "1", "(shares add up)"),
    ("theater", "mars", "a theater or site both variants have (iraq, syria)"),
    ("month", "2031-01", "a month both variants cover, 2024-09 to 2028-06"),
    ("variant_b", "slip-3", "the variant compared as B, 'slip-6'"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("column", "text", "expected"), BAD_COMPARE)
def test_a_bad_value_in_an_unsigned_comparison_is_one_located_line_not_an_internal_error(
    comparison, tmp_path, column, text, expected
):
    run = _unsign(Path(shutil.copytree(comparison, tmp_path / "c")))
    path = run / "compare.csv"
    col = _edit(path, 3, column, text)
    err = _plot_fails(run, f"{path}:3:{col}: {column}: expected ")
    assert expected in err and err.strip().endswith(f"found {text!r}"), err


@pytest.mark.slow
def test_an_unsigned_comparison_as_written_still_draws(comparison, tmp_path):
    run = _unsign(Path(shutil.copytree(comparison, tmp_path / "c")))
    res = CliRunner().invoke(main, ["plot", str(run), "-o", str(tmp_path / "c.png")])
    assert res.exit_code == 0, res.output


def test_an_unsigned_comparison_missing_a_month_is_refused(comparison, tmp_path):
    run = _unsign(Path(shutil.copytree(comparison, tmp_path / "c")))
    path = run / "compare.csv"
    rows = _rows(path)
    _write_rows(path, rows[:5] + rows[6:])
    _plot_fails(run, f"{path}:")


@pytest.fixture(scope="module")
def backtest_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "backtest"
    res = CliRunner().invoke(main, ["backtest", str(AFGHANISTAN), "-q", "--out", str(out)])
    assert res.exit_code == 0, res.output
    return out


# the backtest's tables: line 3 is the second row of each
BAD_BACKTEST = [
    ("backtest", "mae", "abc", "an error in troops: a finite number, 0 or more, or blank"),
    ("backtest", "profile", "zigzag", "one of linear, step, front, back, s-curve"),
    ("backtest", "observations", "-1", "whole troops from 0 to 10000"),
    ("errors", "error", "abc", "an error in troops: a finite number, 0 or more"),
    ("errors", "month", "2020-13", "a month between 01 and 12"),
    ("errors", "month", "2020-07", "the month of the date, 2020-06"),
    ("errors", "level", "1e9", "whole troops from 0 to"),
    ("paths", "troops", "abc", "whole troops from 0 to"),
    ("paths", "month", "x", "a month as YYYY-MM"),
    ("paths", "variant", "nope", "one of the run's variants (doha, announced, evacuation)"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("table", "column", "text", "expected"), BAD_BACKTEST)
def test_a_bad_value_in_an_unsigned_backtest_is_one_located_line_not_an_internal_error(
    backtest_run, tmp_path, table, column, text, expected
):
    run = _unsign(Path(shutil.copytree(backtest_run, tmp_path / "b")))
    path = run / f"{table}.csv"
    col = _edit(path, 3, column, text)
    err = _plot_fails(run, f"{path}:3:{col}: {column}: expected ")
    assert expected in err and err.strip().endswith(f"found {text!r}"), err


@pytest.mark.slow
def test_an_unsigned_backtest_as_written_still_draws(backtest_run, tmp_path):
    run = _unsign(Path(shutil.copytree(backtest_run, tmp_path / "b")))
    res = CliRunner().invoke(main, ["plot", str(run), "-o", str(tmp_path / "b.png")])
    assert res.exit_code == 0, res.output


# run.json values the readers use, edited by hand (no manifest then vouches for them)
BAD_RECORD = [
    (("ensemble", "draws"), "abc", "a whole number of draws, 1 or more", '"abc"'),
    (("ensemble",), [], "a mapping", "[]"),
    (("observed", "tolerance", "relative"), "x", "a share from 0 to 1", '"x"'),
    (("observed", "tolerance"), 5, "a mapping", "5"),
    (("observed", "conditioning", "effective_draws"), {"doha": "x"}, "a mapping of variants", ""),
    (("observed", "conditioning", "reports_used"), {"doha": -1}, "a mapping of variants", ""),
    (("input",), "abc", "a mapping", '"abc"'),
    (("input", "files"), 3, "a list of mappings", "3"),
    (("variants",), "doha", "a list of variant names", '"doha"'),
]


def _key_at(text: str, path: tuple[str, ...]) -> str:
    """``LINE:COL`` of the key at ``path`` in a run.json's text (each key's first
    occurrence after its parent's)."""
    at = 0
    for key in path:
        at = text.index(f'"{key}":', at)
    return f"{text.count(chr(10), 0, at) + 1}:{at - text.rfind(chr(10), 0, at)}"


def test_a_run_record_edited_by_hand_is_refused_at_the_line_and_column_of_the_key(
    ensemble_run, tmp_path
):
    # every error about a key of run.json was placed at 1:1, however far down it stood
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    path = run / "run.json"
    text = path.read_text(encoding="utf-8")
    assert text.count('"draws": 200,') == 1
    path.write_text(text.replace('"draws": 200,', '"draws": "two hundred",'), encoding="utf-8")
    at = text.index('"draws": 200')
    line, col = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    assert line > 1 and col > 1
    err = _plot_fails(run, f"{path}:{line}:{col}: ensemble.draws: expected a whole number")
    assert err.rstrip().endswith('found "two hundred"'), err


def test_a_bad_item_of_a_list_in_a_run_record_is_refused_where_the_item_starts(
    backtest_run, tmp_path
):
    run = _unsign(Path(shutil.copytree(backtest_run, tmp_path / "b")))
    record = json.loads((run / "run.json").read_text())
    del record["observations"]["items"][1]["date"]
    text = json.dumps(record, indent=2)
    (run / "run.json").write_text(text)
    items = text.index("[", text.index('"items":', text.index('"observations":')))
    at = text.index("{", text.index("},", items))  # the second item's opening brace
    where = f"{text.count(chr(10), 0, at) + 1}:{at - text.rfind(chr(10), 0, at)}"
    _plot_fails(
        run,
        f"{run / 'run.json'}:{where}: observations.items[1]: expected an observation with a date",
    )


BAD_OBSERVATION = [  # (key, value, expected, found) of a backtest's recorded observation
    ("kind", "foo", "one of reported, official, target", "'foo'"),  # (was a KeyError)
    ("kind", 5, "text", "5"),
    ("theater", "mars", "one of afghanistan", "unknown theater 'mars'"),
    ("troops_low", -5, "a level of 0 troops or more", "-5"),  # (numbers bare, as in JSON)
    ("troops_low", "abc", "a number of troops or null", '"abc"'),
    ("troops_high", 1, "troops_high at or above troops_low", "1"),
    ("troops_low", 1e300, "at most 10,000,000 troops", "1e+300"),
    ("troops_low", 12000.5, "a whole number of troops", "12000.5"),
    ("tolerance", 5, "a mapping of relative and absolute, or null", "5"),
    ("tolerance.relative", {"relative": 7, "absolute": 0}, "a share from 0 to 1", "7"),
    ("tolerance", {"relative": 0.05}, "a mapping of relative and absolute", "no absolute"),
    ("by", "2020-01", "null (by is the month a target is due", "'2020-01'"),
    ("date", "2020-13-01", "a month between 01 and 12", "'2020-13-01'"),
    ("quote", [1], "text", "[1]"),
]


@pytest.mark.parametrize(("key", "value", "expected", "found"), BAD_OBSERVATION)
def test_a_hand_edited_observation_of_a_backtest_record_is_one_line_naming_its_key(
    backtest_run, tmp_path, key, value, expected, found
):
    run = _unsign(Path(shutil.copytree(backtest_run, tmp_path / "b")))
    record = json.loads((run / "run.json").read_text())
    record["observations"]["items"][0][key.split(".")[0]] = value
    (run / "run.json").write_text(json.dumps(record, indent=2))
    err = _plot_fails(run, f"{run / 'run.json'}:")
    assert f": observations.items[0].{key}: expected {expected}" in err, err
    assert err.rstrip().endswith(f"found {found}"), err


def test_a_backtest_record_observation_with_neither_bound_says_null_not_blank(
    backtest_run, tmp_path
):
    run = _unsign(Path(shutil.copytree(backtest_run, tmp_path / "b")))
    record = json.loads((run / "run.json").read_text())
    record["observations"]["items"][0].update(troops_low=None, troops_high=None)
    (run / "run.json").write_text(json.dumps(record, indent=2))
    err = _plot_fails(run, f"{run / 'run.json'}:")
    assert err.rstrip().endswith("found null in both") and "blank" not in err, err


@pytest.mark.parametrize(("path", "value", "expected", "found"), BAD_RECORD)
def test_a_hand_edited_run_record_is_one_line_naming_its_key_not_an_internal_error(
    conditioned_run, tmp_path, path, value, expected, found
):
    pytest.importorskip("plotly")
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    record = json.loads((run / "run.json").read_text())
    holder = record
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    text = json.dumps(record, indent=2)
    (run / "run.json").write_text(text)
    where = f"{run / 'run.json'}:{_key_at(text, path)}: {'.'.join(path)}: expected {expected}"
    page = tmp_path / "x.html"
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(page)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert res.stderr.startswith(f"forcesim: error: {where}"), res.stderr
    assert f"found {found}" in res.stderr and not page.exists()
    _plot_fails(run, where)


@pytest.mark.parametrize("effective", [1e30, 300.5])
def test_an_effective_sample_size_above_the_draws_in_a_run_record_is_refused(
    conditioned_run, tmp_path, effective
):
    # 1e30 ended forcesim report in an internal error (decimal.InvalidOperation)
    pytest.importorskip("plotly")
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    record = json.loads((run / "run.json").read_text())
    sizes = record["observed"]["conditioning"]["effective_draws"]
    variant = next(iter(sizes))
    sizes[variant] = effective
    (run / "run.json").write_text(json.dumps(record, indent=2))
    expected = "expected an effective sample size of at most the 300 draws it was counted over"
    where = f"observed.conditioning.effective_draws.{variant}: {expected}"
    res = CliRunner().invoke(main, ["report", str(run), "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert where in res.stderr and not (tmp_path / "x.html").exists()
    _plot_fails(run, f"{run / 'run.json'}:")


def test_conditioned_draws_other_than_the_runs_in_a_run_record_are_refused(
    conditioned_run, tmp_path
):
    # 1,000,000,000 conditioned draws of a 300-draw run: the page said so, exit 0
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    record = json.loads((run / "run.json").read_text())
    record["observed"]["conditioning"]["draws"] = 1_000_000_000
    (run / "run.json").write_text(json.dumps(record, indent=2))
    err = _plot_fails(run, f"{run / 'run.json'}:")
    assert ": observed.conditioning.draws: expected the run's 300 draws (ensemble.draws)" in err


@pytest.mark.parametrize("ensemble", [None, {}, {"seed": 1}])
def test_bands_without_the_number_of_draws_in_run_json_are_refused(
    ensemble_run, tmp_path, ensemble
):
    run = _unsign(Path(shutil.copytree(ensemble_run, tmp_path / "r")))
    record = json.loads((run / "run.json").read_text())
    record["ensemble"] = ensemble
    record["input"] = None
    text = json.dumps(record, indent=2)
    (run / "run.json").write_text(text)
    where = _key_at(text, ("ensemble",))  # (draws missing: where its mapping is named)
    _plot_fails(run, f"{run / 'run.json'}:{where}: ensemble.draws: expected the number of draws")


def _record_text(run: Path, text: str | bytes) -> Path:
    path = run / "run.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_a_run_record_cut_short_is_refused_at_the_line_and_column_where_its_json_breaks(
    ensemble_run, tmp_path
):
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    text = (run / "run.json").read_text(encoding="utf-8")
    cut = text.index('"seed"') + 3  # inside a key, on a later line
    path = _record_text(run, text[:cut])
    line = text[:cut].count("\n") + 1
    col = cut - text[:cut].rindex("\n")  # the opening quote of the cut key
    err = _plot_fails(run, f"{path}:{line}:{col - 3}: (file): expected a run.json written by")
    assert "found text that is not JSON (Unterminated string" in err, err
    # (it was placed at 1:1 and quoted the parser: 'found JSONDecodeError: ... (char 83012)')
    assert "JSONDecodeError" not in err and "char" not in err


def test_a_run_record_nested_too_deeply_is_one_line_not_an_internal_error(ensemble_run, tmp_path):
    # json.loads raised RecursionError, which ended plot, report and a run into the
    # folder in an internal error
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    path = _record_text(run, "[" * 100_000 + "]" * 100_000)
    _plot_fails(
        run, f"{path}:1:1: (file): expected a run.json written by forcesim run, found lists"
    )
    res = CliRunner().invoke(main, ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(run)])
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert "run.json forcesim did not write" in res.stderr and path.exists()


def test_a_run_record_larger_than_any_forcesim_writes_is_refused_unread(ensemble_run, tmp_path):
    # load_record read run.json whole, whatever its size (the other readers stop at 1 MB)
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    path = run / "run.json"
    size = MAX_RECORD_BYTES + 1
    with path.open("r+b") as f:  # (sparse: no disk is used for it)
        f.truncate(size)
    err = _plot_fails(run, f"{path}:1:1: (file): expected a file of at most ")
    assert err.endswith(f"found {size:,} bytes\n"), err
    res = CliRunner().invoke(main, ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(run)])
    assert res.exit_code == 2 and path.stat().st_size == size, res.output


@pytest.mark.slow
def test_a_run_record_holding_each_variant_whole_as_forcesim_wrote_before_still_reads(
    ensemble_run, tmp_path
):
    # run.json held every variant whole (resolved.variants) before it held each as a
    # patch of the base (resolved.variant_patches): such a record, signed as forcesim
    # signed it, is still read, re-drawn and shown whole
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    record.pop("manifest")
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    patches = record["resolved"].pop("variant_patches")
    record["resolved"]["variants"] = {v: sc.resolved_raw(v) for v in patches}
    write_record(run, record)
    old = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert "variant_patches" not in old["resolved"]
    for name in sc.variant_names:
        assert resolved_variant(old, name) == sc.resolved_raw(name)
    pdt.assert_frame_equal(sim.load_run(run).monthly, sim.load_run(ensemble_run).monthly)
    target = tmp_path / "chart.png"
    res = CliRunner().invoke(main, ["plot", str(run), "-o", str(target)])
    assert res.exit_code == 0 and target.stat().st_size > 0, res.output


def test_the_run_record_limit_holds_the_record_of_the_largest_scenario_the_format_allows():
    # the base and 100 variants resolved, from 9 files (extends 8 deep) of at most
    # MAX_BYTES, as JSON of up to 3 times its YAML's bytes
    assert MAX_RECORD_BYTES >= (1 + 100) * (1 + MAX_EXTENDS_DEPTH) * MAX_BYTES * 3


def test_a_run_record_with_a_number_of_too_many_digits_is_one_line(ensemble_run, tmp_path):
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    path = _record_text(run, '{"ensemble": {"draws": ' + "1" * 5000 + "}}")
    err = _plot_fails(run, f"{path}:1:1: (file): expected a run.json written by forcesim run")
    assert err.endswith("found a number of too many digits to read\n"), err


def test_a_run_record_naming_a_key_twice_is_refused_at_its_second_not_read_as_the_last(
    ensemble_run, tmp_path
):
    # ("draws": 200, "draws": 3 was read as 3 draws, silently)
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    text = (run / "run.json").read_text(encoding="utf-8")
    first = re.search(r'"draws": *200', text)
    assert first is not None and '"ensemble"' in text[: first.start()]
    second = first.end() + 2
    text = text[: first.end()] + ', "draws": 3' + text[first.end() :]
    path = _record_text(run, text)
    line = text.count("\n", 0, second) + 1
    col = second - text.rfind("\n", 0, second)
    err = _plot_fails(
        run,
        f"{path}:{line}:{col}: ensemble.draws: expected a run.json written by forcesim run "
        "(each key once in a mapping), found the key 'draws' a second time\n",
    )
    assert err.count("\n") == 1
    res = CliRunner().invoke(main, ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(run)])
    assert res.exit_code == 2 and "run.json forcesim did not write" in res.stderr, res.output


@pytest.mark.parametrize(
    "text,line,col,where",
    [
        ('{"a": 1, "a": 2}', 1, 10, "a"),
        ('{"a": {"b": 1}, "c": {"b": 2}, "a": 3}', 1, 32, "a"),
        ('{"a": [{"x": 1}, {"x": 1,\n "y": "\\"x\\":", "x": 2}]}', 2, 17, "a[1].x"),
        ('[{"k": 1}, {"k\\u0031": 1, "k1": 2}]', 1, 27, "[1].k1"),
    ],
)
def test_a_key_named_twice_is_placed_at_its_second_by_key_path(tmp_path, text, line, col, where):
    path = tmp_path / "run.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        load_record(path)
    assert (err.value.line, err.value.col, err.value.path) == (line, col, where)


@pytest.mark.slow
def test_a_run_record_saved_with_a_byte_order_mark_is_read_and_stays_signed(ensemble_run, tmp_path):
    # an editor that saves UTF-8 with a mark: it was 'Unexpected UTF-8 BOM (decode
    # using utf-8-sig)', and a new run into the folder took it for another tool's
    run = Path(shutil.copytree(ensemble_run, tmp_path / "r"))
    _record_text(run, b"\xef\xbb\xbf" + (run / "run.json").read_bytes())
    res = CliRunner().invoke(main, ["plot", str(run)])
    assert res.exit_code == 0, res.output
    args = ["run", str(DEFAULT_SCENARIO), "-q", "--out", str(run), "--draws", "200", "--seed", "1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output


@pytest.mark.slow
def test_a_run_record_with_null_tolerance_parts_reads_them_as_none(conditioned_run, tmp_path):
    run = _unsign(Path(shutil.copytree(conditioned_run, tmp_path / "c")))
    record = json.loads((run / "run.json").read_text())
    record["observed"]["tolerance"] = {"relative": None, "absolute": None}
    (run / "run.json").write_text(json.dumps(record))
    res = CliRunner().invoke(main, ["plot", str(run), "-o", str(tmp_path / "x.png")])
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module")
def conditioned_default_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("conditioned") / "run"
    args = ["run", "-q", "--draws", "400", "--seed", "1", "--condition", "-o", str(out)]
    args += ["--observed", str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")]
    args += ["--as-of", "2025-06-01", "--variant", "on-time"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
@pytest.mark.parametrize("table", ["observed.csv", "bands_conditioned.csv", "conditioning.csv"])
@pytest.mark.parametrize("command", ["plot", "report"])
def test_a_table_the_run_wrote_that_is_gone_is_refused_not_read_as_never_written(
    conditioned_default_run: Path, tmp_path: Path, table: str, command: str
) -> None:
    # with observed.csv deleted, plot redrew the charts without their observations over
    # the ones that had them, and report made a page with no scores, both exit 0
    run = tmp_path / "run"
    shutil.copytree(conditioned_default_run, run)
    (run / table).unlink()
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    args = [command, str(run)] + (
        ["-o", str(tmp_path / "page.html")] if command == "report" else []
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"forcesim: error: {run / table}: expected a run directory holding {table} "
        "(run.json's manifest lists it), found no such file"
    )
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert not (tmp_path / "page.html").exists()


def test_a_run_no_manifest_vouches_for_still_needs_the_observed_table_its_record_names(
    conditioned_default_run: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    shutil.copytree(conditioned_default_run, run)
    _unsign(run)
    (run / "observed.csv").unlink()
    result = CliRunner().invoke(main, ["plot", str(run)])
    assert result.exit_code == 2, result.output
    assert "expected a run directory holding observed.csv (run.json records the observations" in (
        result.output
    )


@pytest.mark.parametrize(
    ("edit", "path", "found"),
    [
        ({"resolved": {}}, "resolved.base", "no base"),
        ({"resolved": None}, "resolved", "null"),
        ({"resolved": {"base": 3}}, "resolved.base", "3"),
        ({"variants": None}, "variants", "null"),
    ],
)
def test_a_run_record_missing_its_scenario_says_what_it_found_not_pythons_error(
    run: Path, edit: dict, path: str, found: str
) -> None:
    # "found KeyError: 'base'" and "found TypeError: 'NoneType' object is not iterable"
    record = load_record(run / "run.json")
    record.update(edit)
    write_record(run, record)
    result = CliRunner().invoke(main, ["plot", str(run)])
    assert result.exit_code == 2, result.output
    assert f": {path}: expected a run.json written by forcesim, whose " in result.output
    assert result.output.rstrip().endswith(f", found {found}")
    assert "Error" not in result.output


@pytest.mark.slow
def test_a_scenario_named_in_bytes_other_than_utf8_runs_and_its_record_escapes_the_name(
    tmp_path,
):
    # 'irak-märz.yaml' in Latin-1 (from a zip made on Windows): Python holds the byte as
    # a surrogate, which the record's UTF-8 encoder refused (an internal error, exit 1)
    name = b"irak-m\xe4rz.yaml".decode("utf-8", "surrogateescape")
    scenario = tmp_path / name
    shutil.copyfile(DEFAULT_SCENARIO, scenario)
    out = tmp_path / b"M\xe4rz".decode("utf-8", "surrogateescape")
    got = CliRunner().invoke(main, ["run", str(scenario), "-o", str(out), "-q"])
    assert got.exit_code == 0, got.output
    text = (out / "run.json").read_text(encoding="utf-8")
    assert json.loads(text)["input"]["path"].endswith("irak-m\\xe4rz.yaml")
    assert CliRunner().invoke(main, ["plot", str(out)]).exit_code == 0  # the record reads back
    # the charts' foot names it as the record does (matplotlib refused the surrogate)
    from sim.plotting.common import footnote

    said = "“forcesim sources 'irak-m\\xe4rz.yaml'”"
    assert said in footnote(sim.run(sim.load_scenario(scenario)))
    assert said in footnote(sim.load_run(out))


def test_a_record_named_in_bytes_other_than_utf8_is_named_escaped_on_the_backtest_chart(
    tmp_path,
):
    # the chart's foot named the record by its raw name, which matplotlib refused
    name = b"obs-m\xe4rz.csv".decode("utf-8", "surrogateescape")
    record = tmp_path / name
    shutil.copyfile(AFGHANISTAN.with_name("afghanistan-2020-observed.csv"), record)
    out = tmp_path / "bt"
    got = CliRunner().invoke(
        main, ["backtest", str(AFGHANISTAN), "--observed", str(record), "-o", str(out), "-q"]
    )
    assert got.exit_code == 0, got.output
    assert (out / "backtest.png").is_file()


@pytest.mark.slow
def test_a_run_folder_whose_variant_set_the_title_still_draws(tmp_path):
    # an earlier version ran variants that set the scenario's title (it was ignored);
    # the records it wrote still read, as that run read them
    out = tmp_path / "run"
    ran = CliRunner().invoke(main, ["run", str(DEFAULT_SCENARIO), "-o", str(out), "-q"])
    assert ran.exit_code == 0
    path = out / "run.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["resolved"]["base"]["variants"]["on-time"]["overrides"]["title"] = "Another"
    record["manifest"]["signature"] = files._signature(record)  # (as that version signed it)
    path.write_text(json.dumps(record), encoding="utf-8")
    got = CliRunner().invoke(main, ["plot", str(out), "-o", str(tmp_path / "e.png")])
    assert got.exit_code == 0, got.output
