"""A run's tables as Parquet beside (or instead of) CSV, and ``Result.to_xarray``."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR

import sim
from sim.cli import main
from sim.io.files import read_written_csv

pytest.importorskip("pyarrow")

AFGHANISTAN = SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"
AFGHANISTAN_OBSERVED = SCENARIOS_DIR / "historical" / "afghanistan-2020-observed.csv"
OBSERVED_RUN = [
    "run",
    str(AFGHANISTAN),
    "--observed",
    str(AFGHANISTAN_OBSERVED),
    "--draws",
    "400",
    "--seed",
    "3",
    "--condition",
    "--tolerance",
    "15%",
    "-q",
]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> Path:
    """An observed, conditioned ensemble written as CSV and Parquet."""
    out = tmp_path_factory.mktemp("tables") / "both"
    result = invoke(*OBSERVED_RUN, "--out", str(out), "--format", "both")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def parquet_only(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tables") / "parquet"
    result = invoke(*OBSERVED_RUN, "--out", str(out), "--format", "parquet")
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_both_formats_write_a_parquet_file_beside_every_csv_file(both: Path) -> None:
    csvs = sorted(p.stem for p in both.glob("*.csv"))
    assert csvs == sorted(p.stem for p in both.glob("*.parquet"))
    assert {"monthly", "milestones", "bands", "dates", "observed", "bands_conditioned"} <= set(csvs)


def test_read_parquet_gives_the_same_frames_as_the_csv_files(both: Path) -> None:
    for path in sorted(both.glob("*.csv")):
        from_csv = read_written_csv(path)
        from_parquet = pd.read_parquet(path.with_suffix(".parquet"))
        pd.testing.assert_frame_equal(from_parquet, from_csv, check_exact=True, obj=path.name)
        assert list(from_parquet.columns) == path.read_text().splitlines()[0].split(",")


def test_plain_read_csv_agrees_with_the_parquet_files_too(both: Path) -> None:
    # a reader who knows nothing of forcesim: pandas' defaults
    for stem in ("monthly", "milestones", "bands", "dates"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(both / f"{stem}.parquet"), pd.read_csv(both / f"{stem}.csv")
        )


def test_csv_numbers_are_exact_not_rounded(both: Path) -> None:
    # the ensemble rounds each mean to 3 decimals; the file keeps all of them, also above
    # 1,000 troops (six significant digits would drop some)
    text = pd.read_csv(both / "bands.csv", dtype=str)["mean"]
    big = [t for t in text if float(t) >= 10_000 and "." in t]
    assert big and any(len(t.split(".")[1]) == 3 for t in big), big[:5]
    values = pd.read_csv(both / "bands.csv")["mean"].to_numpy()
    assert np.array_equal(values, np.round(values, 3))


@pytest.mark.slow
def test_parquet_only_writes_no_csv_and_loads_back_like_csv(both: Path, parquet_only: Path) -> None:
    assert not list(parquet_only.glob("*.csv"))
    a, b = sim.load_run(both), sim.load_run(parquet_only)
    for name in ("monthly", "milestones", "bands", "dates"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    assert a.observed.observations.items == b.observed.observations.items


def test_plot_redraws_a_parquet_only_run(parquet_only: Path, tmp_path: Path) -> None:
    result = invoke("plot", str(parquet_only), "-o", str(tmp_path / "chart.png"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "chart.png").stat().st_size > 10_000


def test_format_parquet_without_pyarrow_is_a_usage_error_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--out", str(out), "--format", "both"])
    assert result.exit_code == 2
    assert "--format: expected pyarrow installed" in result.output
    assert "found '--format both', and no module pyarrow" in result.output
    assert "pip install 'forcesim[parquet]'" in result.output
    assert not out.exists()


def test_an_unknown_format_is_refused() -> None:
    result = CliRunner().invoke(main, ["run", "--format", "xlsx"])
    assert result.exit_code == 2
    assert result.stderr == (
        "forcesim: error: <command line>:1:1: --format: expected one of csv, parquet, both, "
        "found 'xlsx'\n"
    )


def test_write_run_refuses_an_unknown_format(tmp_path: Path) -> None:
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO), ["on-time"])
    expected = "expected formats among csv, parquet, or 'both', found "
    with pytest.raises(ValueError, match=re.escape(expected + "['xml']")):
        sim.write_run(result, tmp_path / "run", formats=["xml"], chart=False)
    with pytest.raises(ValueError, match=re.escape(expected + "'xml'")):  # (as given)
        sim.write_run(result, tmp_path / "run", formats="xml", chart=False)
    assert not (tmp_path / "run").exists()


def test_write_run_takes_both_as_the_command_line_names_csv_and_parquet(tmp_path: Path) -> None:
    # the docs point to --format csv|parquet|both, and "both" was refused in code
    pytest.importorskip("pyarrow")
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO), ["on-time"])
    both = {"monthly.csv", "monthly.parquet", "milestones.csv", "milestones.parquet"}
    for i, formats in enumerate(("both", ("both",), np.array(["csv", "parquet"]))):
        written = sim.write_run(result, tmp_path / f"run{i}", formats=formats, chart=False)
        assert both <= {p.name for p in written}, formats


# ---------------------------------------------------------------- xarray


@pytest.fixture(scope="module")
def ensemble() -> sim.Result:
    scenario = sim.load_scenario(SCENARIOS_DIR / "iraq-sites-2024.yaml")
    return sim.run(scenario, ["as-reported", "on-time"], draws=300, seed=5, progress=False)


def test_to_xarray_holds_bands_as_variant_theater_month_statistic(ensemble: sim.Result) -> None:
    pytest.importorskip("xarray")
    ds = ensemble.to_xarray()
    assert ds["bands"].dims == ("variant", "theater", "month", "statistic")
    assert ds["troops"].dims == ("variant", "theater", "month")
    assert list(ds.variant.values) == ensemble.variants
    assert list(ds.statistic.values) == [
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
    assert "iraq/erbil" in list(ds.theater.values)
    assert ds.attrs["draws"] == 300 and ds.attrs["seed"] == 5


def test_to_xarray_values_are_the_frames_values(ensemble: sim.Result) -> None:
    pytest.importorskip("xarray")
    ds = ensemble.to_xarray()
    b = ensemble.bands
    assert b is not None
    for row in b.sample(40, random_state=1).itertuples(index=False):
        cell = ds["bands"].sel(variant=row.variant, theater=row.theater, month=str(row.month))
        assert cell.sel(statistic="p50").item() == row.p50
        assert cell.sel(statistic="mean").item() == row.mean
    back = ds["troops"].to_series().dropna()
    m = ensemble.monthly.set_index(["variant", "theater", "month"])["troops"]
    assert back.sort_index().to_numpy().tolist() == m.sort_index().to_numpy().tolist()


def test_to_xarray_of_a_deterministic_run_has_levels_and_no_bands() -> None:
    pytest.importorskip("xarray")
    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO))
    ds = result.to_xarray()
    assert "bands" not in ds and "statistic" not in ds.coords
    assert ds["troops"].sel(variant="on-time", theater="iraq", month="2026-12").item() == 0
    assert ds["troops"].sel(variant="on-time", theater="iraq", month="2024-09").item() == 2500


def test_to_xarray_without_xarray_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def no_xarray(name: str, *args, **kwargs):
        if name == "xarray":
            raise ImportError("No module named 'xarray'")
        return real(name, *args, **kwargs)

    result = sim.run(sim.load_scenario(DEFAULT_SCENARIO), ["on-time"])
    monkeypatch.setattr(builtins, "__import__", no_xarray)
    with pytest.raises(ImportError, match=r"pip install 'forcesim\[xarray\]'"):
        result.to_xarray()


def test_a_missing_month_is_written_blank_whatever_the_pandas_version() -> None:
    from sim.io.files import csv_text

    frame = pd.DataFrame({"p10": pd.PeriodIndex(["2025-09", None], freq="M"), "n": [1, 2]})
    assert csv_text(frame) == "p10,n\n2025-09,1\n,2\n"  # pandas before 3 wrote "NaT"


def test_a_small_share_is_written_in_digits_not_with_an_exponent_and_reads_back_the_same():
    # observed.csv wrote a chance of one in a million as 1e-06 and 0.000057 as 5.7e-05
    from sim.io.files import csv_text

    values = [1e-06, 5.7e-05, 0.1 + 0.2, 2500.0, 1.2345678901234567e-07, 1e16]
    text = csv_text(pd.DataFrame({"share": values}))
    assert text.splitlines()[1:] == [
        "0.000001",
        "0.000057",
        "0.30000000000000004",
        "2500",
        "0.00000012345678901234566",
        "10000000000000000",
    ]
    assert "e" not in text.removeprefix("share")
    assert [float(t) for t in text.splitlines()[1:]] == values


def test_a_number_in_a_column_of_numbers_and_text_is_written_as_in_a_column_of_numbers():
    # sensitivity.csv's low and high (a share, a level, or a month) read 1.0 and 0.0
    # where swing, a float column, read 1 and 0
    from sim.io.files import csv_text

    mixed = pd.Series([1.0, "2025-09", np.nan, 0.1 + 0.2, 1e-06, 0.0], dtype=object)
    text = csv_text(pd.DataFrame({"low": mixed, "swing": [1.0, 0.0, 2.0, 3.0, 4.0, 5.0]}))
    assert text.splitlines()[1:] == [
        "1,1",
        "2025-09,0",
        ",2",  # (missing: blank, not nan)
        "0.30000000000000004,3",
        "0.000001,4",
        "0,5",
    ]


def test_month_periods_are_the_same_months_with_and_without_from_ordinals(monkeypatch) -> None:
    # PeriodIndex.from_ordinals came with pandas 2.2; on 2.1, the lowest pandas forcesim
    # allows, every run ended in an internal error (AttributeError)
    from sim.months import parse_month
    from sim.results import month_periods

    months = [parse_month(t) for t in ("2024-09", "2024-10", "2027-02", "1999-12")]
    want = [str(p) for p in month_periods(months)]
    assert want == ["2024-09", "2024-10", "2027-02", "1999-12"]
    monkeypatch.delattr(pd.PeriodIndex, "from_ordinals", raising=False)
    older = month_periods(months)
    assert [str(p) for p in older] == want and older.freqstr == "M"


def _mixed_table(rows: int) -> pd.DataFrame:
    months = pd.period_range("2024-01", periods=rows, freq="M")
    return pd.DataFrame(
        {
            "variant": ["on-time", "slip-3"] * (rows // 2) + ["on-time"] * (rows % 2),
            "month": pd.Series(months).where(np.arange(rows) % 5 != 3),  # some missing
            "met": np.arange(rows) % 3 == 0,
            "p_met": np.where(np.arange(rows) % 4 == 1, np.nan, np.arange(rows) / 7),
            "troops": np.arange(rows, dtype=np.int64) * 1_001,
        }
    )


def test_a_table_longer_than_a_block_of_rows_is_written_byte_for_byte_as_one_text(
    tmp_path, monkeypatch
):
    from sim.io import files

    monkeypatch.setattr(files, "CSV_ROWS", 7)
    for rows in (0, 1, 7, 23):
        frame = _mixed_table(rows)
        path = tmp_path / f"t{rows}.csv"
        files.write_csv(frame, path)
        assert path.read_bytes() == files.csv_text(frame).encode("utf-8"), rows


def test_writing_a_table_turns_at_most_a_block_of_its_rows_into_text_at_once(tmp_path, monkeypatch):
    # the whole text of a table of a million rows, and its copy with months as text,
    # were held at once: 100 variants x 50 theaters x 120 months peaked at 619 MB there
    from sim.io import files

    monkeypatch.setattr(files, "CSV_ROWS", 10)
    seen: list[int] = []
    real = files.csv_text

    def spy(frame: pd.DataFrame, **kwargs: object) -> str:
        seen.append(len(frame))
        return real(frame, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "csv_text", spy)
    files.write_csv(_mixed_table(45), tmp_path / "t.csv")
    assert seen == [10, 10, 10, 10, 5]


def test_each_row_of_a_variant_refers_to_one_string_of_its_scenario_and_variant():
    # np.full(rows, text, dtype=object) made a new string per row: 110 bytes a row of
    # bands, 100 variants x 50 theaters x 120 months held 63 MB of them
    from sim.results import key_columns

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    plan = scenario.plan("on-time")
    columns = key_columns(scenario.id, "on-time", plan, ["iraq", "syria"])
    assert len(columns["variant"]) == 2 * plan.n_months
    for key, text in (("scenario", scenario.id), ("variant", "on-time")):
        assert list(columns[key]) == [text] * (2 * plan.n_months)
        assert len({id(x) for x in columns[key]}) == 1, key


def test_months_are_parsed_once_per_distinct_text_and_read_as_each_cell_would_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3,000,000 rows read one month at a time took 80 s of a plot of one theater
    import sim.export.read as read
    from sim.export.read import _months
    from sim.months import parse_month

    seen: list[str] = []

    def parse(text: str) -> object:
        seen.append(text)
        return parse_month(text)

    # (a blank cell reads as NaN)
    cells = pd.Series(["2024-01", "2030-12", np.nan, "NaT", "2024-01"] * 3, index=range(10, 25))
    monkeypatch.setattr(read, "parse_month", parse)
    got = _months(cells, tmp_path / "t.csv")
    assert sorted(seen) == ["2024-01", "2030-12"]
    each = [pd.Period(c, "M") if c in ("2024-01", "2030-12") else pd.NaT for c in cells]
    want = pd.Series(pd.PeriodIndex(each, freq="M"), index=cells.index)
    pd.testing.assert_series_equal(got, want, check_names=False)
    bad = pd.Series(["2024-01"] * 4 + ["2024-13"] * 2, index=range(6), name="month")
    with pytest.raises(sim.ScenarioError) as got_error:
        _months(bad, tmp_path / "t.csv")
    assert str(got_error.value).startswith(f"{tmp_path / 't.csv'}:6:1: month: expected")
    assert "found '2024-13'" in str(got_error.value)
