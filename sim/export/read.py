"""Reading run directories back: a run, a comparison or a backtest rebuilt from
its files, to re-draw its charts without re-running."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim import plotting
from sim.analysis.backtest import PATH_COLUMNS, Backtest
from sim.analysis.compare import COMPARE_COLUMNS, Comparison, central_difference
from sim.analysis.observed import (
    ERROR_RATE,
    MIN_EFFECTIVE_DRAWS,
    Assessment,
    Conditioned,
)
from sim.analysis.summaries import BAND_COLUMNS, DATE_COLUMNS
from sim.errors import ScenarioError, expected_found, listed, nearest
from sim.export.tables import FALSE, SPECS, TRUE, Known, check_table
from sim.export.write import TABLE_FORMATS, run_charts
from sim.io.files import (
    atomic_files,
    csv_text,
    file_sha256,
    load_record,
    not_a_directory,
    not_a_file,
    path_argument,
    placed_in_record,
    read_manifest,
    read_written_csv,
    read_written_rows,
    record_files,
    refuse_overwrite,
    signature_broken,
)
from sim.io.observation_csv import from_observed_csv
from sim.io.observations import (
    MAX_TROOPS,
    REPORTED,
    Observation,
    ObservationSet,
    Tolerance,
    check_bounds,
    parse_by,
    parse_date,
    parse_kind,
    recorded_tolerance,
    unknown_series,
)
from sim.io.yamlio import Positions
from sim.loader import Layer, Locator, resolve_variants, validate_doc
from sim.months import parse_month
from sim.paths import scenario_files
from sim.plotting.backtest import observed_series
from sim.plotting.common import distinct_names, plan_series
from sim.results import MILESTONE_COLUMNS, MONTHLY_COLUMNS, Result
from sim.scenario import Scenario, series_of

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _placing(read: Callable[Concatenate[Path, _P], _R]) -> Callable[Concatenate[Path, _P], _R]:
    """``read`` of a run directory, its errors about a key of ``run.json`` placed at the
    key's line and column (:func:`sim.io.files.placed_in_record`)."""

    @functools.wraps(read)
    def placed(run_dir: Path, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with placed_in_record(Path(run_dir) / "run.json"):
            return read(run_dir, *args, **kwargs)

    return placed


def _table(
    run_dir: Path,
    stem: str,
    periods: tuple[str, ...],
    columns: list[str],
    known: Known | None = None,
    keep: Callable[[pd.DataFrame], Any] | None = None,
) -> pd.DataFrame:
    """A table of a run directory, from its CSV file or else its Parquet file, with
    months as periods and ``met`` as booleans. With ``known`` (what the run knows), a
    table of a run no signed manifest vouches for has every cell checked first
    (:func:`sim.export.tables.check_table`). With ``keep`` (a frame → a boolean mask),
    only the rows it keeps (a signed CSV file is read a block of rows at a time, the
    others never held)."""
    path = run_dir / f"{stem}.csv"
    if not path.is_file() and (run_dir / f"{stem}.parquet").is_file():
        path = run_dir / f"{stem}.parquet"
    # a signed run vouches for its tables: an edited one would be drawn as the run's
    manifest = read_manifest(run_dir) or {}
    if path.name in manifest and path.is_file() and file_sha256(path) != manifest[path.name]:
        raise ScenarioError(
            f"the {path.name} this run wrote (its sha256 is in run.json's manifest)",
            "a file changed after forcesim wrote it (run again, or restore it)",
            file=str(path),
            path="(file)",
        )
    spec = SPECS.get(stem) if known is not None and path.name not in manifest else None
    try:
        if spec is not None and known is not None and path.suffix == ".csv" and path.is_file():
            check_table(path, spec, known)  # before pandas reads 'abc' as text, or fails
        if keep is not None and path.suffix == ".csv":
            df = read_written_rows(path, keep)
        else:
            df = read_written_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
        if spec is not None and known is not None and path.suffix != ".csv":
            check_table(path, spec, known, df)
        if keep is not None and path.suffix != ".csv":
            df = df[keep(df)]
    except ScenarioError:
        raise
    except ImportError:
        raise ScenarioError(
            "pyarrow to read Parquet files (pip install 'forcesim[parquet]')",
            "it is not installed",
            file=str(path),
            path="(file)",
        ) from None
    except (
        OSError,
        ValueError,
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
    ) as exc:
        expected = f"a {path.suffix.lstrip('.').upper()} table written by forcesim run"
        if not path.is_file():  # (gone, or a folder: no line to point at)
            raise ScenarioError.absent(expected, not_a_file(path), file=str(path)) from None
        raise ScenarioError(
            expected, str(exc).splitlines()[0], file=str(path), path="(file)"
        ) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ScenarioError(
            "the columns " + ",".join(columns),
            "no column " + ", ".join(missing),
            file=str(path),
            path="(header)",
        )
    for col in periods:
        if col in df:
            df[col] = _months(df[col], path)
    for col in ("met",):
        if col in df:
            df[col] = df[col].astype(str).str.lower() == "true"
    # (the scored reports' flags as pandas reads them from CSV, and Parquet holds them:
    # True, False or blank; an unsigned Parquet table may hold them as text, "TRUE")
    spelled = dict.fromkeys(TRUE, True) | dict.fromkeys(FALSE, False)
    for col in ("consistent", "in_band80", "known"):
        if col not in df or df[col].dtype == bool:
            continue
        values = df[col].astype(object)  # (text is object or str, as pandas has it)
        if any(isinstance(v, str) for v in values):
            df[col] = values.map(lambda v: spelled.get(v, v) if isinstance(v, str) else v)
    # (rows chosen kept their places in the file until now: the lines errors name)
    return df.reset_index(drop=True) if keep is not None else df


def _months(column: pd.Series, path: Path) -> pd.Series:
    """A column of ``YYYY-MM`` months (blank, or ``NaT`` as pandas before 3 wrote a
    missing month) as monthly periods, each distinct text parsed once: a table of
    millions of rows names a few hundred months.

    Raises
    ------
    sim.ScenarioError
        At the first line (the header is line 1) of a month that is not one: a
        hand-edited table, never an internal error."""
    codes, texts = pd.factorize(column)
    for k, text in enumerate(texts):
        if text == "NaT":
            continue
        try:
            parse_month(text)
        except ValueError as exc:
            expected, found = expected_found(exc)
            line = int(column.index[int(np.argmax(codes == k))]) + 2
            raise ScenarioError(
                expected, found, file=str(path), line=line, col=1, path=str(column.name)
            ) from None
    months = pd.PeriodIndex(pd.Index(texts).astype(str), freq="M")
    # (code -1: a blank cell, a missing month)
    taken = months.take(codes, allow_fill=True, fill_value=pd.NaT)
    return pd.Series(taken, index=column.index, name=column.name)


def chosen_rows(
    rows: pd.DataFrame, variants: Collection[str] | None, theaters: Collection[str] | None
) -> NDArray[np.bool_]:
    """The rows of a table of one of ``variants`` and of one of ``theaters`` (theater or
    site ids), each when given, as a boolean mask (len(rows),); a table without the
    column keeps every row (reading it says what it lacks). Each distinct name is
    looked at once."""
    mask = np.ones(len(rows), dtype=bool)
    for column, names in (("variant", variants), ("theater", theaters)):
        if names is not None and column in rows:
            codes, present = pd.factorize(rows[column])
            wanted = {str(n) for n in names}
            chosen = np.array([str(p) in wanted for p in present] + [False])
            mask &= chosen[codes]  # (code -1, a blank cell, takes the last: never kept)
    return mask


def rows_of(
    variants: Collection[str] | None, theaters: Collection[str] | None
) -> Callable[[pd.DataFrame], Any] | None:
    """Which rows of a table to keep (:func:`chosen_rows` of ``variants`` and
    ``theaters``); None for every row."""
    if variants is None and theaters is None:
        return None
    return functools.partial(chosen_rows, variants=variants, theaters=theaters)


def run_table(
    run_dir: Path, stem: str, keep: Callable[[pd.DataFrame], Any], *, dates: bool = False
) -> pd.DataFrame:
    """The rows that ``keep`` (a block of rows → a boolean mask) keeps of the ``bands``
    table ``stem`` of a run directory (of a ``dates`` table, with ``dates``), as
    :func:`load_run` reads them (months as periods); a CSV file is read a block of
    rows at a time.

    Raises
    ------
    sim.ScenarioError
        The table is missing or unreadable."""
    if dates:
        return _table(run_dir, stem, ("p10", "p50", "p80", "p90"), DATE_COLUMNS, None, keep)
    return _table(run_dir, stem, ("month",), BAND_COLUMNS, None, keep)


def has_table(run_dir: Path, stem: str) -> bool:
    """Whether a run directory holds the table ``stem`` (as CSV or Parquet)."""
    return any((run_dir / f"{stem}.{ext}").is_file() for ext in TABLE_FORMATS)


def table_rows(run_dir: Path, stem: str) -> int:
    """How many rows the table ``stem`` of a run directory holds, counted without
    reading it (the CSV file's lines after its header, else the Parquet file's
    metadata); 0 when it is missing or unreadable (reading it says why)."""
    path = run_dir / f"{stem}.csv"
    try:
        if path.is_file():
            lines = 0
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    lines += chunk.count(b"\n")
            return max(lines - 1, 0)
        path = run_dir / f"{stem}.parquet"
        if path.is_file():
            import pyarrow.parquet as pq

            return int(pq.read_metadata(path).num_rows)
    except (OSError, ImportError, ValueError):
        return 0
    return 0


def read_table(run_dir: Path, stem: str) -> pd.DataFrame:
    """A table of a run directory as it was written, every column as pandas reads it
    from the CSV file (or, failing that, the Parquet file); months stay ``YYYY-MM`` text.

    Raises
    ------
    sim.ScenarioError
        The table is missing or unreadable.
    """
    if not has_table(run_dir, stem):
        raise ScenarioError.absent(
            f"a run directory holding {stem}.csv",
            not_a_file(run_dir / f"{stem}.csv"),
            file=str(run_dir / f"{stem}.csv"),
        )
    return _table(run_dir, stem, (), [])


def load_run(run_dir: str | Path) -> Result:
    """A Result rebuilt from a run directory, to re-draw its charts without re-running.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A directory written by :func:`write_run` (``run.json``, ``monthly.csv``,
        ``milestones.csv``, and ``bands.csv``, ``dates.csv``, ``observed.csv`` when
        the run had them; each table may be a ``.parquet`` file instead).

    Returns
    -------
    Result
        Its ``observed`` is the run's :class:`~sim.analysis.observed.Assessment` when
        the run scored observations (their scores, as ``observed.csv`` holds them, and
        the conditioned bands, dates and effective draws when it conditioned: what
        ``plot_fan(result, weighted=True)`` draws), else None.

    Raises
    ------
    sim.ScenarioError
        A file is missing or is not what forcesim writes.
    """
    run_dir = path_argument(run_dir, "a run directory", "run_dir", "load_run")
    return rebuild_scored(run_dir, read_record(run_dir))


@_placing
def read_record(run_dir: Path, *, page: bool = False) -> dict[str, Any]:
    """The ``run.json`` of a run directory, checked to be one (a ScenarioError if not):
    one :func:`redraw` can draw, or, with ``page``, one a report page is written of
    (:func:`refuse_page`: another command's directory is refused in the words of the
    command that was given)."""
    record_path = run_dir / "run.json"
    if not record_path.is_file():
        found = not_a_file(record_path)
        if found == "no such file" and run_dir.is_dir():
            scenarios = len(scenario_files(run_dir))
            if scenarios:  # a folder of scenarios, taken for a run
                many = "s" if scenarios > 1 else ""
                found = (
                    f"no run.json, in a folder of {scenarios} scenario file{many} (a run of"
                    " one is made with: forcesim run FILE --out DIR)"
                )
        raise ScenarioError.absent(
            "a run directory holding run.json",
            found,
            file=str(record_path),
        )
    record = load_record(record_path)
    if not isinstance(record, dict):
        raise ScenarioError(
            "a run.json written by forcesim run",
            f"a JSON {type(record).__name__}",
            file=str(record_path),
            path="(file)",
        )
    check_record(record, record_path)
    if signature_broken(record):
        raise ScenarioError(
            "a run.json as forcesim signed it",
            "one changed after forcesim signed it (the signature no longer matches, so"
            " its seed, draws and options cannot be believed); run the scenario again,"
            ' or delete its "manifest" to read it unsigned, its tables then checked'
            " cell by cell",
            file=str(record_path),
            path="manifest.signature",
        )
    if page:
        refuse_page(run_dir, record)
    kind = _drawn_when_run(record)
    if kind is not None:  # its chart is drawn as it runs, from what it keeps in memory
        raise ScenarioError(
            "a directory of forcesim run, compare or backtest",
            f"a directory of forcesim {kind}, which draws its "
            f"{_chart_drawn_when_run(record, kind)} as it "
            f"runs (run it again to draw it again)",
            file=str(record_path),
            path="(file)",
        )
    return record


#: the commands whose directories hold a chart no file there is enough to draw again
_DRAWN_WHEN_RUN = {
    "sweep": "sweep.png",
    "sensitivity": "tornado.png",
    "vintages": "vintages.png",
}


def _drawn_when_run(record: dict[str, Any]) -> str | None:
    """The command of :data:`_DRAWN_WHEN_RUN` whose ``run.json`` ``record`` is, if any."""
    return next((k for k in _DRAWN_WHEN_RUN if k in record), None)


def _chart_drawn_when_run(record: dict[str, Any], kind: str) -> str:
    """The chart the ``kind`` command whose ``run.json`` is ``record`` drew as it ran:
    :data:`_DRAWN_WHEN_RUN`'s, or ``sobol.png`` for Sobol indices."""
    method = record.get("sensitivity")
    if kind == "sensitivity" and isinstance(method, dict) and method.get("method") == "sobol":
        return "sobol.png"
    return _DRAWN_WHEN_RUN[kind]


def refuse_page(run_dir: Path, record: dict[str, Any]) -> None:
    """A ScenarioError when ``run_dir`` (its ``run.json`` ``record``) is the directory of
    a command other than ``forcesim run``, of which no report page is written: the line
    names the command and where its chart comes from (``forcesim plot`` draws that of a
    compare or backtest directory again, the others draw theirs as they run)."""
    kind = _drawn_when_run(record)
    if kind is not None:
        chart = _chart_drawn_when_run(record, kind)
        again = f"running forcesim {kind} again draws it again"
    else:  # (as forcesim plot tells them apart)
        kind = next((k for k in ("compare", "backtest") if has_table(run_dir, k)), None)
        if kind is None:
            return
        chart, again = f"{kind}.png", "forcesim plot draws it again"
    raise ScenarioError(
        "a directory of forcesim run (the page is a run's)",
        f"a directory of forcesim {kind} (its chart is {chart}: {again})",
        file=str(run_dir / "run.json"),
        path="(file)",
    )


def _text(v: Any) -> bool:
    return isinstance(v, str)


def _count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _amount(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < float("inf")


def _mapping(v: Any) -> bool:
    return isinstance(v, dict)


def _day(v: Any) -> bool:
    """A calendar day as ``date.isoformat`` writes it (``2025-06-01``), no other spelling."""
    if not (isinstance(v, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", v)):
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _texts(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _each(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, dict) and all(test(x) for x in v.values())


#: what the readers take from run.json, by key path: (the test, what it expects); a key
#: may be missing, or null, unless its parent must be there
_RECORD: dict[tuple[str, ...], tuple[Callable[[Any], bool], str]] = {
    ("forcesim_version",): (_text, "text"),
    ("time",): (_text, "text"),
    ("numpy_version",): (_text, "text"),
    ("command",): (lambda v: _text(v) or _texts(v), "the command line, a list of texts"),
    ("input",): (_mapping, "a mapping"),
    ("input", "path"): (_text, "a path"),
    ("input", "sha256"): (_text, "a sha256 as text"),
    ("input", "files"): (
        lambda v: isinstance(v, list) and all(isinstance(f, dict) for f in v),
        "a list of mappings",
    ),
    ("variants",): (lambda v: _texts(v) and len(v) > 0, "a list of variant names"),
    ("set",): (_mapping, "a mapping of key paths to values"),
    ("ensemble",): (_mapping, "a mapping"),
    ("ensemble", "draws"): (lambda v: _count(v) and v > 0, "a whole number of draws, 1 or more"),
    ("ensemble", "seed"): (_count, "a whole-number seed, 0 or more"),
    ("observed",): (_mapping, "a mapping"),
    ("observed", "origin"): (_text, "a path"),
    ("observed", "observations"): (_count, "a whole number of observations"),
    ("observed", "as_of"): (_day, "a date as YYYY-MM-DD"),
    ("observed", "tolerance"): (_mapping, "a mapping"),
    ("observed", "tolerance", "relative"): (
        lambda v: _amount(v) and v <= 1,
        "a share from 0 to 1",
    ),
    ("observed", "tolerance", "absolute"): (_amount, "a number of troops, 0 or more"),
    ("observed", "conditioning"): (_mapping, "a mapping"),
    ("observed", "conditioning", "draws"): (_count, "a whole number of draws"),
    ("observed", "conditioning", "error_rate"): (_text, "a fraction as text, e.g. '1/20'"),
    ("observed", "conditioning", "minimum_effective_draws"): (_count, "a whole number"),
    ("observed", "conditioning", "effective_draws"): (
        _each(_amount),
        "a mapping of variants to numbers of draws, 0 or more",
    ),
    ("observed", "conditioning", "reports_used"): (
        _each(_count),
        "a mapping of variants to whole numbers",
    ),
    ("compare",): (_mapping, "a mapping"),
    ("observations",): (_mapping, "a mapping"),
    ("observations", "origin"): (_text, "a path"),
    ("observations", "items"): (lambda v: isinstance(v, list), "a list"),
}


def check_record(record: dict[str, Any], record_path: Path) -> None:
    """Refuse, in one line naming the key path, a ``run.json`` whose values the readers
    use are not of the kind forcesim writes there (a hand-edited record no manifest
    vouches for)."""
    for path, (test, expected) in _RECORD.items():
        value: Any = record
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None and not test(value):
            raise ScenarioError(
                f"{expected}, as forcesim writes in run.json",
                _shown(value),
                file=str(record_path),
                path=".".join(path),
            )
    if "variants" not in record:
        raise ScenarioError(
            "a list of variant names, as forcesim writes in run.json",
            "nothing",
            file=str(record_path),
            path="variants",
        )
    _check_effective_draws(record, record_path)


def _check_effective_draws(record: dict[str, Any], record_path: Path) -> None:
    """Refuse conditioned draws other than the run's, and an effective sample size above
    the number of draws it was counted over:
    Kish's (Σw)²/Σw² is at most the number of weights (Kish 1965, *Survey Sampling*,
    ch. 11.7), so a larger one was not written by forcesim."""
    conditioning = (record.get("observed") or {}).get("conditioning") or {}
    ensemble = (record.get("ensemble") or {}).get("draws")
    draws = conditioning.get("draws") or ensemble
    if not isinstance(draws, int):
        return
    if isinstance(ensemble, int) and draws != ensemble:  # (the draws conditioned: the run's)
        raise ScenarioError(
            f"the run's {ensemble:,} draws (ensemble.draws), as forcesim writes in run.json",
            _shown(draws),
            file=str(record_path),
            path="observed.conditioning.draws",
        )
    for variant, effective in (conditioning.get("effective_draws") or {}).items():
        if effective > draws:
            raise ScenarioError(
                f"an effective sample size of at most the {draws:,} draws it was counted "
                "over, as forcesim writes in run.json",
                _shown(effective),
                file=str(record_path),
                path=f"observed.conditioning.effective_draws.{variant}",
            )


def _shown(value: Any) -> str:
    """A JSON value as written (short)."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:59] + "…"


def _scenario(record: dict[str, Any], record_path: Path) -> Scenario:
    """The scenario a run record resolved (``resolved.base``), validated again."""
    # (what is missing or of the wrong kind said as the record has it, not as the
    # KeyError or TypeError Python raised reading it)
    resolved = record.get("resolved")
    if not isinstance(resolved, dict) or not isinstance(resolved.get("base"), dict):
        path, found = (
            ("resolved.base", _shown(resolved.get("base")) if "base" in resolved else "no base")
            if isinstance(resolved, dict)
            else ("resolved", _shown(resolved) if "resolved" in record else "no resolved")
        )
        raise ScenarioError(
            "a run.json written by forcesim, whose resolved.base is the scenario it ran",
            found,
            file=str(record_path),
            path=path,
        )
    variants = record.get("variants")
    if not isinstance(variants, list):
        raise ScenarioError(
            "a run.json written by forcesim, whose variants are a list of names",
            _shown(variants) if "variants" in record else "no variants",
            file=str(record_path),
            path="variants",
        )
    raw = resolved["base"]
    locator = Locator([Layer(Positions(str(record_path)))])
    doc = validate_doc(raw, locator, ("resolved", "base"))
    settings = record.get("set") or {}
    return Scenario(
        path=(record.get("input") or {}).get("path"),
        sha256=(record.get("input") or {}).get("sha256") or "",
        doc=doc,
        raw=raw,
        locator=locator,
        variants=resolve_variants(raw, doc, locator, recorded=True),
        # (what was set for the run: each number it reached rests on it)
        settings=tuple(settings.items()) if isinstance(settings, dict) else (),
    )


def rebuild(run_dir: Path, record: dict[str, Any]) -> Result:
    """The Result of a run directory's tables and its run record (:func:`load_run`, with
    the record given: ``write_run``'s ``extra`` sees the record before it is written)."""
    return _rebuild(run_dir, record)[0]


def _refuse_missing_tables(run_dir: Path, record: dict[str, Any]) -> None:
    """Refuse a run directory that lacks a table its ``run.json`` says it wrote: one its
    signed manifest lists, or ``observed`` when it records observations. (Read as "this
    run had none", a deleted ``observed.csv`` redrew the run's charts without their
    observations, over the ones that had them.)

    Raises
    ------
    sim.ScenarioError
        At the missing file, naming what ``run.json`` records of it."""
    listed = read_manifest(run_dir) or {}
    for name in listed:
        ext = name.rpartition(".")[2]
        if ext in TABLE_FORMATS and not (run_dir / name).is_file():
            raise ScenarioError.absent(
                f"a run directory holding {name} (run.json's manifest lists it)",
                not_a_file(run_dir / name),
                file=str(run_dir / name),
            )
    if record.get("observed") and not has_table(run_dir, "observed"):
        raise ScenarioError.absent(
            "a run directory holding observed.csv (run.json records the observations it scored)",
            not_a_file(run_dir / "observed.csv"),
            file=str(run_dir / "observed.csv"),
        )


@_placing
def _rebuild(
    run_dir: Path, record: dict[str, Any], keep: Callable[[pd.DataFrame], Any] | None = None
) -> tuple[Result, Known, pd.DataFrame | None]:
    """:func:`rebuild`, with what the run knows and its ``observed`` table (None without
    one), read once, for :func:`rebuild_scored`; with ``keep`` (:func:`rows_of`), only the
    rows of the monthly levels and percentiles it keeps."""
    record_path = run_dir / "run.json"
    for name in ("monthly", "milestones"):
        if not has_table(run_dir, name):
            raise ScenarioError.absent(
                f"a run directory holding {name}.csv",
                not_a_file(run_dir / f"{name}.csv"),
                file=str(run_dir / f"{name}.csv"),
            )
    _refuse_missing_tables(run_dir, record)
    sc = _scenario(record, record_path)
    names = sc.select(list(record["variants"]))
    plans = {v: sc.plan(v) for v in names}
    known = Known(sc.id, plans)
    monthly = _table(run_dir, "monthly", ("month",), MONTHLY_COLUMNS, known, keep)
    milestones = _table(
        run_dir, "milestones", ("deadline", "month_reached"), MILESTONE_COLUMNS, known
    )
    bands = dates = None
    ens = record.get("ensemble") or {}
    if ens.get("draws") and not has_table(run_dir, "bands"):
        raise ScenarioError.absent(
            f"a run directory holding bands.csv (run.json records {ens['draws']} draws)",
            not_a_file(run_dir / "bands.csv"),
            file=str(run_dir / "bands.csv"),
        )
    if has_table(run_dir, "bands"):
        if not ens.get("draws"):
            raise ScenarioError(
                "the number of draws bands.csv summarises (ensemble.draws)",
                "none",
                file=str(record_path),
                path="ensemble.draws",
            )
        if not has_table(run_dir, "dates"):
            raise ScenarioError.absent(
                "a run directory holding dates.csv beside bands.csv",
                not_a_file(run_dir / "dates.csv"),
                file=str(run_dir / "dates.csv"),
            )
        bands = _table(run_dir, "bands", ("month",), BAND_COLUMNS, known, keep)
        dates = _table(run_dir, "dates", ("p10", "p50", "p80", "p90"), DATE_COLUMNS, known)
    observed = table = None
    if has_table(run_dir, "observed"):  # the charts draw the observations again
        table = _table(run_dir, "observed", (), [], known)  # (every cell checked, unsigned)
        csv = run_dir / "observed.csv"
        source = csv if csv.is_file() else run_dir / "observed.parquet"
        when = _as_of(record.get("observed") or {})
        observed = from_observed_csv(source, csv_text(table), when)
    result = Result(
        scenario=sc,
        variants=names,
        monthly=monthly,
        milestones=milestones,
        plans=plans,
        bands=bands,
        dates=dates,
        draws=ens.get("draws"),
        seed=ens.get("seed"),
        observed=observed,
    )
    return result, known, table


def _as_of(info: dict[str, Any]) -> dt.date | None:
    """The as-of date a run record names under ``observed`` (None: every report known)."""
    as_of = info.get("as_of")
    try:
        return dt.date.fromisoformat(as_of) if isinstance(as_of, str) else None
    except ValueError:
        return None


def _assessment(
    run_dir: Path,
    record: dict[str, Any],
    result: Result,
    known: Known,
    table: pd.DataFrame,
    keep: Callable[[pd.DataFrame], Any] | None = None,
) -> Assessment:
    """The scored observations of a run, from its ``observed`` table (``table``, read
    by :func:`_rebuild`, whose observations ``result`` holds) and ``run.json`` (and the
    conditioned tables, when the run conditioned its ensemble)."""
    milestones, draws = result.milestones, result.draws
    info = record.get("observed") or {}
    as_of = _as_of(info)
    observations = result.observed
    assert isinstance(observations, ObservationSet)
    tol = info.get("tolerance") or {}
    tolerance = recorded_tolerance(
        relative=float(tol.get("relative") or 0.0), absolute=float(tol.get("absolute") or 0.0)
    )
    conditioned = None
    cond = info.get("conditioning")
    if cond and has_table(run_dir, "bands_conditioned"):
        p_met: dict[tuple[str, str], float] = {}
        if "p_met_conditioned" in milestones:
            p_met = {
                (str(v), str(m)): float(p)
                for v, m, p in zip(
                    milestones.variant,
                    milestones.milestone,
                    milestones.p_met_conditioned,
                    strict=True,
                )
                if not pd.isna(p)
            }
        try:
            error = Fraction(str(cond.get("error_rate") or ERROR_RATE))
        except (ValueError, ZeroDivisionError):
            error = ERROR_RATE
        conditioned = Conditioned(
            bands=_table(run_dir, "bands_conditioned", ("month",), BAND_COLUMNS, known, keep),
            dates=_table(
                run_dir, "dates_conditioned", ("p10", "p50", "p80", "p90"), DATE_COLUMNS, known
            ),
            p_met=p_met,
            effective={str(v): float(e) for v, e in (cond.get("effective_draws") or {}).items()},
            draws=int(cond.get("draws") or draws or 0),
            error=error,
            minimum=int(cond.get("minimum_effective_draws") or MIN_EFFECTIVE_DRAWS),
            used={str(v): int(n) for v, n in (cond.get("reports_used") or {}).items()},
        )
    return Assessment(observations, tolerance, table, conditioned, draws, as_of)


@_placing
def load_compare(run_dir: Path) -> Comparison:
    """A Comparison rebuilt from the directory :func:`write_compare` wrote (its central
    runs computed again from the resolved scenario: they are deterministic).

    Parameters
    ----------
    run_dir : pathlib.Path
        A directory holding ``run.json`` and ``compare.csv``.

    Returns
    -------
    Comparison

    Raises
    ------
    sim.ScenarioError
        A file is missing or is not what forcesim writes.
    """
    record = read_record(run_dir)
    sc = _scenario(record, run_dir / "run.json")
    compared = record.get("compare") or {}
    a, b = compared.get("a"), compared.get("b")
    if not isinstance(a, str) or not isinstance(b, str):
        raise ScenarioError(
            "a run.json written by forcesim compare",
            "no compare.a and compare.b",
            file=str(run_dir / "run.json"),
            path="compare",
        )
    sc.select([a, b])
    ens = record.get("ensemble") or {}
    plans = {a: sc.plan(a), b: sc.plan(b)}
    return Comparison(
        scenario=sc,
        a=a,
        b=b,
        draws=int(ens.get("draws") or 0),
        seed=int(ens.get("seed") or 0),
        table=_table(run_dir, "compare", ("month",), COMPARE_COLUMNS, Known(sc.id, plans)),
        central=central_difference(sc, a, b),
        plans=plans,
    )


@_placing
def load_backtest(run_dir: Path) -> Backtest:
    """A Backtest rebuilt from the directory :func:`write_backtest` wrote.

    Parameters
    ----------
    run_dir : pathlib.Path
        A directory holding ``run.json``, ``backtest.csv``, ``errors.csv`` and
        ``paths.csv``.

    Returns
    -------
    Backtest

    Raises
    ------
    sim.ScenarioError
        A file is missing or is not what forcesim writes.
    """
    record = read_record(run_dir)
    sc = _scenario(record, run_dir / "run.json")
    info = record.get("observations") or {}
    allowed = series_of([sc])
    items = [
        _recorded_observation(o, i, allowed, run_dir / "run.json")
        for i, o in enumerate(info.get("items") or [])
    ]
    if not items:
        raise ScenarioError(
            "a run.json written by forcesim backtest (with the observations it used)",
            "no observations.items",
            file=str(run_dir / "run.json"),
            path="observations",
        )
    variants = sc.select(list(record["variants"]))
    known = Known(sc.id, {v: sc.plan(v) for v in variants})
    return Backtest(
        scenario=sc,
        observations=ObservationSet(tuple(items), str(info.get("origin", "")), info.get("sha256")),
        variants=variants,
        table=_table(run_dir, "backtest", (), ["profile", "variant", "mae"], known),
        errors=_table(run_dir, "errors", ("month",), [], known),
        paths=_table(run_dir, "paths", ("month",), PATH_COLUMNS[:4], known),
    )


def _recorded_observation(o: Any, i: int, allowed: list[str], record_path: Path) -> Observation:
    """Observation ``i`` as a backtest's ``run.json`` records it, each value checked by
    the rule its column of an observations file has (a hand-edited record no manifest
    vouches for is refused in one line naming the key, not read into a wrong chart).

    Raises
    ------
    sim.ScenarioError
        ``run.json:LINE:COL: observations.items[i].KEY: expected …, found …``.
    """
    where = f"observations.items[{i}]"

    def refuse(key: str, expected: str, found: str) -> ScenarioError:
        return ScenarioError(
            f"{expected}, as forcesim writes in run.json",
            found,
            file=str(record_path),
            path=f"{where}.{key}" if key else where,
        )

    if not isinstance(o, dict):
        raise refuse("", "a mapping of an observation's columns", _shown(o))

    def text(key: str, optional: bool = True) -> str:
        value = o.get(key)
        if value is None and optional:
            return ""
        if key not in o:
            raise refuse("", f"an observation with a {key}", "none")
        if not isinstance(value, str):
            raise refuse(key, "text", _shown(value))
        return value

    def parsed(key: str, parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except ValueError as exc:
            expected, found = expected_found(exc)
            # (a JSON value left out is null, not a blank cell)
            raise refuse(key, expected.replace("a blank", "null"), found) from None

    date, month = parsed("date", parse_date, text("date", optional=False))
    theater = text("theater", optional=False)
    if theater not in allowed:
        raise refuse("theater", *unknown_series(theater, allowed))
    bounds: dict[str, float | None] = {}
    for key in ("troops_low", "troops_high"):
        value = o.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise refuse(key, "a number of troops or null", _shown(value))
        if value is not None and not 0 <= value <= MAX_TROOPS:  # (shown as JSON has it)
            expected = (
                "a level of 0 troops or more" if value < 0 else f"at most {MAX_TROOPS:,} troops"
            )
            raise refuse(key, expected, _shown(value))
        bounds[key] = None if value is None else float(value)
    if bounds["troops_low"] is None and bounds["troops_high"] is None:
        raise refuse(
            "troops_low",
            "a number in troops_low or troops_high (null in troops_low for 'fewer than N', "
            "in troops_high for 'more than N')",
            "null in both",
        )
    broken = check_bounds(bounds["troops_low"], bounds["troops_high"])
    if broken is not None:
        raise refuse(*broken)
    kind = parsed("kind", parse_kind, text("kind") or REPORTED)
    by = o.get("by")
    due = parsed("by", parse_by, text("by"), kind, month) if by is not None else None
    return Observation(
        date,
        month,
        theater,
        bounds["troops_low"],
        bounds["troops_high"],
        text("source"),
        text("quote"),
        kind,
        _row_tolerance(o.get("tolerance"), refuse),
        due,
    )


def _row_tolerance(tol: Any, refuse: Callable[[str, str, str], ScenarioError]) -> Tolerance | None:
    """A row's own tolerance as ``run.json`` records it (None: the run's)."""
    if tol is None:
        return None
    if not isinstance(tol, dict):
        raise refuse("tolerance", "a mapping of relative and absolute, or null", _shown(tol))
    missing = [k for k in ("relative", "absolute") if k not in tol]
    if missing:
        raise refuse("tolerance", "a mapping of relative and absolute", f"no {missing[0]}")
    # (as loose as recorded_tolerance: an earlier run may have recorded under 1 troop)
    relative, absolute = tol["relative"], tol["absolute"]
    if not (_amount(relative) and relative <= 1):
        raise refuse("tolerance.relative", "a share from 0 to 1", _shown(relative))
    if not (_amount(absolute) and absolute <= MAX_TROOPS):
        raise refuse(
            "tolerance.absolute", f"a number of troops from 0 to {MAX_TROOPS:,}", _shown(absolute)
        )
    return recorded_tolerance(relative=float(relative), absolute=float(absolute))


#: what a run needs for a chart it cannot draw without: the command that makes it
CHART_NEEDS = {
    "fan": "the fan needs an ensemble: forcesim run --draws N --seed S",
    "fan_conditioned": (
        "the conditioned fan needs an ensemble conditioned on reports: forcesim run "
        "--observed FILE --draws N --seed S --condition"
    ),
}


def _chart_needs(chart: str, charts: Mapping[str, Any]) -> str:
    """``" (...)"``: what a run needs to draw ``chart`` (a chart of runs that the run in
    hand, which draws ``charts``, cannot), or "" for any other name."""
    if "envelope" in charts and chart in CHART_NEEDS:
        return f" ({CHART_NEEDS[chart]})"
    return ""


def directory_charts(
    run_dir: Path,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    *,
    column: bool = False,
) -> dict[str, Callable[[], Any]]:
    """Every chart a directory forcesim wrote can draw from its files, by name (each
    value draws it): ``envelope``, ``fan`` and ``fan_conditioned`` for a run,
    ``compare`` for a comparison, ``backtest`` for a backtest; with ``theaters`` (checked
    against the directory's, a :class:`ScenarioError` naming them when one is not), each
    draws only those panels; with ``variants`` (a run's only: a comparison draws its
    two, a backtest its profiles of every variant), only those variants, in that order;
    with ``column`` (a run's only), each laid out for a newspaper column."""
    only = list(dict.fromkeys(theaters)) if theaters else None
    chosen = list(dict.fromkeys(variants)) if variants else None
    if column and (has_table(run_dir, "compare") or has_table(run_dir, "backtest")):
        kind = "comparison" if has_table(run_dir, "compare") else "backtest"
        raise ScenarioError(
            "column charts only of a run's directory (its envelope and fans)",
            f"{run_dir}, a {kind}",
            file="<arguments>",
            path="column",
        )
    if chosen is not None and (has_table(run_dir, "compare") or has_table(run_dir, "backtest")):
        raise ScenarioError(
            "variants chosen only of a run's directory (a comparison draws its two "
            "variants, a backtest every variant's profiles)",
            f"{', '.join(repr(v) for v in chosen)} of {run_dir}",
            file="<arguments>",
            path="variants",
        )
    if has_table(run_dir, "compare"):
        cmp = load_compare(run_dir)
        have = distinct_names(cmp.table.theater)
        rank = {t: i for i, t in enumerate(cmp.theaters)}  # each theater, then its sites
        known = sorted(have, key=lambda k: rank.get(k.split("/")[0], len(rank)))
        refuse_unknown(run_dir, "theaters", "theaters and sites", known, only)
        return {"compare": lambda: plotting.plot_compare(cmp, theaters=only)}
    if has_table(run_dir, "backtest"):
        bt = load_backtest(run_dir)
        observed = observed_series(bt)
        refuse_unknown(run_dir, "theaters", "theaters and sites with a report", observed, only)
        return {"backtest": lambda: plotting.plot_backtest(bt, theaters=only)}
    record = read_record(run_dir)
    chosen = chosen_variants(run_dir, record, chosen)
    result = rebuild_scored(run_dir, record, chosen, only)  # (their rows alone)
    refuse_unknown(run_dir, "theaters", "theaters and sites", plan_series(result), only)
    return run_charts(result, only, chosen, column=column)


def chosen_variants(
    run_dir: Path, record: dict[str, Any], asked: list[str] | None
) -> list[str] | None:
    """The variants ``asked`` of the run ``run_dir`` (its ``run.json``, ``record``), each
    checked against those it lists (:func:`refuse_unknown`); None where none is asked
    (every one)."""
    if not asked:
        return None
    known = [str(v) for v in record.get("variants") or []]
    refuse_unknown(run_dir, "variants", "variants", known, asked)
    return asked


def refuse_unknown(
    run_dir: Path,
    parameter: str,
    what: str,
    known: list[str],
    asked: list[str] | None,
) -> None:
    """Refuse, in one line at ``<arguments>``, the names ``asked`` (for the function's
    ``parameter``: ``variants``, ``theaters``; the command line names its option) that
    are not among ``known``, the ``what`` (``"variants"``, ``"theaters and sites"``)
    ``run_dir`` holds: each quoted as given, the directory's own named, with a
    did-you-mean for the first (:func:`sim.errors.nearest`: ``Iraq`` is ``iraq``)."""
    unknown = [n for n in asked or () if n not in known]
    if not unknown:
        return
    expected = f"one of the {what} {run_dir} has: {listed(known)}"
    hint = nearest(unknown[0], known)
    if hint:
        expected += f" (did you mean {hint!r}?)"
    raise ScenarioError(
        expected, ", ".join(repr(n) for n in unknown), file="<arguments>", path=parameter
    )


@_placing
def rebuild_scored(
    run_dir: Path,
    record: dict[str, Any],
    variants: Collection[str] | None = None,
    theaters: Collection[str] | None = None,
) -> Result:
    """:func:`rebuild`, with the scored observations as the run scored them (its
    ``observed`` table, and the conditioned tables when it conditioned) in place of the
    bare observations: what the charts and the page draw. With ``variants`` or
    ``theaters`` (theater or site ids), its ``monthly`` and ``bands`` (and conditioned
    bands) hold only their rows (a page of some of them: the others are never held
    whole); its variants, plans and milestones stay the run's."""
    keep = rows_of(variants, theaters)
    result, known, table = _rebuild(run_dir, record, keep)
    if table is not None:
        scored = _assessment(run_dir, record, result, known, table, keep)
        result = dataclasses.replace(result, observed=scored)
    return result


def redraw(
    run_dir: Path,
    output: str | Path | None = None,
    chart: str | None = None,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    *,
    column: bool = False,
) -> list[Path]:
    """Draw the charts of a directory forcesim wrote again, from its files.

    Parameters
    ----------
    run_dir : pathlib.Path
        A directory from ``forcesim run``, ``compare`` or ``backtest``.
    output : str or pathlib.Path, optional
        Write one chart to this file instead; its extension (``.png``, ``.pdf`` or
        ``.svg``) picks the format.
    chart : str, optional
        Which chart (``envelope``, ``fan``, ``fan_conditioned``, ``compare``,
        ``backtest``); default: every chart, or with ``output`` the first.
    theaters : sequence of str, optional
        Draw only these panels: theater ids, or sites as ``THEATER/SITE``
        (``iraq/erbil``), in this order (default: every theater, each followed by its
        sites); for a backtest, the theaters with a report to compare (a row each).
    variants : sequence of str, optional
        Of a run's directory: draw only these variants, in this order (each keeps its
        colour); default: every one.
    column : bool
        Of a run's directory: lay each chart out for a newspaper column 600 px wide
        (:mod:`sim.plotting.column`), written 1200 px wide as ``NAME-column.png``
        beside the run's own charts (or to ``output``). Default False.

    Returns
    -------
    list of pathlib.Path
        The files written. Those inside ``run_dir`` join its manifest.

    Raises
    ------
    sim.ScenarioError
        ``run_dir`` is not a directory forcesim wrote, ``chart`` is not one it can
        draw, a theater or variant is not one of the run's (or variants or ``column``
        are asked of a comparison or backtest), ``output`` has another extension, or a
        file to write already exists and forcesim did not write it
        (:func:`sim.io.files.refuse_overwrite`). Nothing is written then.
    """
    if not run_dir.is_dir():
        raise ScenarioError.absent(
            "a run directory (from forcesim run, compare or backtest)",
            not_a_directory(run_dir),
            file=str(run_dir),
        )
    if output is not None:
        given = str(output)  # (as given: 'adir/' keeps its /, which Path drops)
        output = Path(output)
        if given.endswith("/") or output.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise ScenarioError(
                "a file ending in .png, .pdf or .svg",
                repr(given),
                file="<arguments>",
                path="output",
            )
    charts = directory_charts(run_dir, theaters, variants, column=column)
    if chart is not None and chart not in charts:
        needs = _chart_needs(chart, charts)
        if chart == "fan_conditioned" and variants and has_table(run_dir, "bands_conditioned"):
            needs = (  # (the run was conditioned: the variants asked were not weighed)
                f" (of {', '.join(dict.fromkeys(variants))}, none kept enough effective "
                f"draws to be weighted: conditioning.csv gives each variant's)"
            )
        raise ScenarioError(
            f"one of the charts {run_dir} can draw: {', '.join(charts)}",
            repr(chart) + needs,
            file="<arguments>",
            path="chart",
        )
    if output is not None:
        targets = {chart or next(iter(charts)): output}
    else:
        end = "-column.png" if column else ".png"
        targets = {n: run_dir / f"{n}{end}" for n in charts if chart in (None, n)}
    for name, target in targets.items():
        refuse_overwrite(target, name, charts, source=run_dir)
    # every chart drawn first, then all moved in together: an interruption or a failure
    # leaves the run's charts as they were, not some redrawn (Syria alone) and some not;
    # those inside the run join its manifest as they are moved in
    drawn = {target: name for name, target in targets.items()}
    inside = [t.name for t in drawn if t.parent.resolve() == run_dir.resolve()]
    atomic_files(
        list(drawn),
        lambda target, tmp: plotting.save(charts[drawn[target]](), tmp),
        then=(lambda: record_files(run_dir, inside)) if inside else None,
    )
    return list(drawn)
