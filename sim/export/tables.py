"""What a run's tables hold, cell by cell, and the check of a table no signed manifest
vouches for.

A run directory whose ``run.json`` carries a valid manifest vouches for its tables
(:func:`sim.io.files.read_manifest`), and they are read as written. One without (an
older run, or ``run.json`` edited) may hold anything a hand or a spreadsheet put there;
so before such a table is used, every cell of it is held against what forcesim writes
in that column: its type as text, its range, and the names the run knows. The first cell
that is not is one :class:`~sim.errors.ScenarioError`, located at its line (the header
is line 1) and column (1 for the first field), with the column's name as the key path
and the text quoted as written::

    r2/monthly.csv:3:5: troops: expected whole troops from 0 to 2500 (the most 'iraq'
    holds in this scenario), found 'abc'

What forcesim writes, by column kind:

- a name (``scenario``, ``variant``, ``theater``, ``milestone``): one the run knows,
  exactly (the scenario's id, its variants, each variant's theaters and sites
  ``THEATER/SITE``, its milestones, and each milestone's own theater);
- a month: ``YYYY-MM`` (:func:`sim.months.parse_month`); in ``monthly`` and ``bands``
  one of the run's months, in ``dates`` one of them or blank (never reached), and
  ``month_reached`` may be blank (``NaT``, a missing month as pandas before 3 wrote
  it, reads as a blank);
- whole troops: digits only, from 0 to the most the series can hold in any draw
  (:func:`sim.analysis.summaries.series_tops`); ``official`` at most ``troops``;
- a share of draws (``p_met``, ``never``): a finite number from 0 to 1;
- a mean: a finite number between the row's ``min`` and ``max``;
- ``met``: ``true`` or ``false``;
- percentiles in their order: ``min <= p05 <= ... <= p95 <= max`` in ``bands``, and
  ``p10 <= p50 <= p80 <= p90`` in ``dates`` (a blank, never, only after the last month);
- one row per key (variant, series and month; variant and milestone; variant, series and
  threshold), and in ``monthly`` and ``bands`` a row for every series and month of each
  variant.

A text that Python's ``float`` reads but :func:`sim.io.files.float_text` never writes
(``inf``, ``nan``, ``1e3`` for whole troops, a space around a number) is refused.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.summaries import BAND_COLUMNS, DATE_COLUMNS, series, series_tops
from sim.errors import ScenarioError, describe
from sim.io.files import csv_text
from sim.model.plan import Plan
from sim.months import format_month, parse_month
from sim.results import MILESTONE_COLUMNS, MONTHLY_COLUMNS

#: a number as :func:`sim.io.files.float_text` writes it (Python's ``repr`` of a float)
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?")
#: whole troops as pandas writes an integer column
_WHOLE = re.compile(r"[0-9]+")


class _Bad(Exception):
    """A cell is not what forcesim writes there: what it should have been."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


@dataclass(frozen=True)
class Known:
    """What a run knows, to check the names and ranges in its tables.

    Parameters
    ----------
    scenario : str
        The scenario's id.
    plans : dict of str to Plan
        Each variant of the run (in its order) and its plan.
    """

    scenario: str
    plans: dict[str, Plan]

    @cached_property
    def tops(self) -> dict[str, dict[str, int]]:
        """The most each series of each variant can hold in any draw [troops]."""
        return {
            v: {name: top for (name, _), top in zip(series(p), series_tops(p), strict=True)}
            for v, p in self.plans.items()
        }

    @cached_property
    def milestones(self) -> dict[str, dict[str, str]]:
        """Each variant's milestones and the series each is on."""
        return {
            v: {m.id: p.tracks[m.track].key for m in p.milestones} for v, p in self.plans.items()
        }


#: a cell's check: (text, the row's values so far, what the run knows) -> its value
Check = Callable[[str, dict[str, Any], Known], Any]
#: a row's check, once every cell passed: (its values, what the run knows) -> None, or
#: raises _RowBad naming the column at fault
RowCheck = Callable[[dict[str, Any], Known], None]


class _RowBad(_Bad):
    def __init__(self, column: str, expected: str) -> None:
        super().__init__(expected)
        self.column = column


@dataclass(frozen=True)
class Spec:
    """What one table holds: its columns (required first, in order, then optional ones)
    with the check of each, the checks across a row, the columns that key a row, and
    whether each variant must hold a row for every series and month."""

    columns: dict[str, Check]
    required: tuple[str, ...]
    rows: tuple[RowCheck, ...] = ()
    key: tuple[str, ...] = ()
    optional: tuple[str, ...] = field(default=())
    #: the keys each variant holds a row for, all of them (None: any)
    expected: Callable[[Known, str], list[tuple[Any, ...]]] | None = None
    #: with ``expected``: every variant of the run holds rows (else those that do)
    every_variant: bool = True


# ---------------------------------------------------------------- cells


def _scenario(text: str, row: dict[str, Any], known: Known) -> str:
    if text != known.scenario:
        raise _Bad(f"the run's scenario id {known.scenario!r}")
    return text


def _variant(text: str, row: dict[str, Any], known: Known) -> str:
    if text not in known.plans:
        raise _Bad(f"one of the run's variants ({', '.join(known.plans)})")
    return text


def _series(text: str, row: dict[str, Any], known: Known) -> str:
    tops = known.tops[row["variant"]]
    if text not in tops:
        raise _Bad(f"a theater or site of variant {row['variant']!r} ({', '.join(tops)})")
    return text


def _milestone(text: str, row: dict[str, Any], known: Known) -> str:
    ids = known.milestones[row["variant"]]
    if text not in ids:
        listed = ", ".join(ids) or "none"
        raise _Bad(f"a milestone of variant {row['variant']!r} ({listed})")
    return text


def _milestone_series(text: str, row: dict[str, Any], known: Known) -> str:
    own = known.milestones[row["variant"]][row["milestone"]]
    if text != own:
        raise _Bad(f"the theater milestone {row['milestone']!r} is on, {own!r}")
    return text


def _month(text: str) -> int:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise _Bad(str(exc).removeprefix("expected ").partition(", found ")[0]) from None


def _run_month(text: str, row: dict[str, Any], known: Known) -> int:
    """A month of the run (of the row's variant)."""
    month = _month(text)
    plan = known.plans[row["variant"]]
    if not plan.start <= month < plan.start + plan.n_months:
        last = format_month(plan.start + plan.n_months - 1)
        raise _Bad(f"a month of the run, {format_month(plan.start)} to {last}")
    return month


def _any_month(text: str, row: dict[str, Any], known: Known) -> int:
    return _month(text)


#: a missing month as pandas before 3 wrote it (older runs), read as a blank
_NAT = "NaT"


def _month_or_blank(text: str, row: dict[str, Any], known: Known) -> int | None:
    return None if text in ("", _NAT) else _month(text)


def _run_month_or_blank(text: str, row: dict[str, Any], known: Known) -> int | None:
    """A month of the run, or blank: never (within the horizon)."""
    if text in ("", _NAT):
        return None
    try:
        return _run_month(text, row, known)
    except _Bad as exc:
        raise _Bad(f"{exc.expected}, or blank (never)") from None


def _whole(text: str, top: int, what: str) -> int:
    if not _WHOLE.fullmatch(text) or int(text) > top:
        raise _Bad(f"whole troops from 0 to {top} ({what})")
    return int(text)


def _troops(text: str, row: dict[str, Any], known: Known) -> int:
    """Whole troops of the row's series, at most the most it can hold."""
    name = row["theater"]
    top = known.tops[row["variant"]][name]
    return _whole(text, top, f"the most {name!r} holds in this scenario")


def _official(text: str, row: dict[str, Any], known: Known) -> int:
    return _whole(text, row["troops"], "official figures count at most the troops")


def _number(text: str) -> float:
    value = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(value):
        raise _Bad("a finite number")
    return value


def _mean(text: str, row: dict[str, Any], known: Known) -> float:
    try:
        value = _number(text)
    except _Bad:
        raise _Bad("a mean number of troops") from None
    if value < 0:
        raise _Bad("a mean number of troops, 0 or more")
    return value


def _share(text: str, row: dict[str, Any], known: Known) -> float:
    try:
        value = _number(text)
    except _Bad:
        value = math.nan
    if not 0 <= value <= 1:
        raise _Bad("a share of draws from 0 to 1")
    return value


def _share_or_blank(text: str, row: dict[str, Any], known: Known) -> float | None:
    if text == "":
        return None
    try:
        return _share(text, row, known)
    except _Bad as exc:
        raise _Bad(f"{exc.expected}, or blank") from None


def _boolean(text: str, row: dict[str, Any], known: Known) -> bool:
    if text not in ("true", "false"):
        raise _Bad("true or false")
    return text == "true"


def _label(text: str, row: dict[str, Any], known: Known) -> str:
    """A threshold: ``zero``, ``residual ID`` or ``milestone ID`` of the row's variant."""
    plan = known.plans[row["variant"]]
    names = {"zero"} | {f"residual {r.id}" for r in plan.residuals}
    if text not in names | {f"milestone {m}" for m in known.milestones[row["variant"]]}:
        raise _Bad(
            f"a threshold of variant {row['variant']!r} ('zero', 'residual ID' or 'milestone ID')"
        )
    return text


# ---------------------------------------------------------------- rows


def _rising(columns: list[str], blank_after: bool = False) -> RowCheck:
    """Each of ``columns`` at least the one before it; with ``blank_after``, a blank
    (never) only once every later one is blank."""

    def check(row: dict[str, Any], known: Known) -> None:
        prev_col, prev = columns[0], row[columns[0]]
        for col in columns[1:]:
            value = row[col]
            if value is None:
                prev_col, prev = col, None
                continue
            if prev is None and blank_after:
                raise _RowBad(col, f"blank, as {prev_col} is (a share never reached)")
            if prev is not None and value < prev:
                shown = format_month(prev) if blank_after else prev
                raise _RowBad(col, f"{shown} or more, as {prev_col} is (percentiles rise)")
            prev_col, prev = col, value

    return check


def _mean_in_range(row: dict[str, Any], known: Known) -> None:
    if not row["min"] <= row["mean"] <= row["max"]:
        raise _RowBad("mean", f"a mean from min ({row['min']}) to max ({row['max']})")


_BAND_LEVELS = ["min", *[c for c in BAND_COLUMNS if re.fullmatch(r"p\d+", c)], "max"]
_DATE_MONTHS = [c for c in DATE_COLUMNS if re.fullmatch(r"p\d+", c)]

_MONTHLY = Spec(
    columns={
        "scenario": _scenario,
        "variant": _variant,
        "theater": _series,
        "month": _run_month,
        "troops": _troops,
        "official": _official,
    },
    required=tuple(MONTHLY_COLUMNS),
    optional=("official",),
    key=("variant", "theater", "month"),
    expected=lambda known, v: _every_month(known, v),
)
_MILESTONES = Spec(
    columns={
        "scenario": _scenario,
        "variant": _variant,
        "milestone": _milestone,
        "theater": _milestone_series,
        "deadline": _any_month,
        "target": _troops,
        "month_reached": _month_or_blank,
        "met": _boolean,
        "p_met": _share,
        "p_met_conditioned": _share_or_blank,
    },
    required=tuple(MILESTONE_COLUMNS),
    optional=("p_met", "p_met_conditioned"),
    key=("variant", "milestone"),
    expected=lambda known, v: [(v, m) for m in known.milestones[v]],
)
_BANDS = Spec(
    columns={
        "scenario": _scenario,
        "variant": _variant,
        "theater": _series,
        "month": _run_month,
        "mean": _mean,
        **{c: _troops for c in _BAND_LEVELS},
    },
    required=tuple(BAND_COLUMNS),
    rows=(_rising(_BAND_LEVELS), _mean_in_range),
    key=("variant", "theater", "month"),
    expected=lambda known, v: _every_month(known, v),
)
_DATES = Spec(
    columns={
        "scenario": _scenario,
        "variant": _variant,
        "theater": _series,
        "threshold": _label,
        "level": _troops,
        **{c: _run_month_or_blank for c in _DATE_MONTHS},
        "never": _share,
    },
    required=tuple(DATE_COLUMNS),
    rows=(_rising(_DATE_MONTHS, blank_after=True),),
    key=("variant", "theater", "threshold"),
    # (each series has the threshold zero; the others follow the milestones and residuals)
    expected=lambda known, v: [(v, name, "zero") for name in known.tops[v]],
)

#: what each table of a run holds, by its name (without the extension)
SPECS: dict[str, Spec] = {
    "monthly": _MONTHLY,
    "milestones": _MILESTONES,
    "bands": _BANDS,
    "dates": _DATES,
    # (a variant no draw of which fits the reports is left out of the conditioned tables)
    "bands_conditioned": dataclasses.replace(_BANDS, every_variant=False),
    "dates_conditioned": dataclasses.replace(_DATES, every_variant=False),
}


# ---------------------------------------------------------------- the table


def check_table(path: Path, spec: Spec, known: Known, frame: pd.DataFrame | None = None) -> None:
    """Hold every cell of the table at ``path`` against ``spec``.

    Parameters
    ----------
    path : pathlib.Path
        The table's file: a CSV file, read as text here; or a Parquet file, whose
        ``frame`` is checked as the CSV text forcesim would write of it.
    spec : Spec
        What the table holds (:data:`SPECS`).
    known : Known
        The run's scenario id, variants and plans.
    frame : pandas.DataFrame, optional
        The table as read from a Parquet file.

    Raises
    ------
    sim.ScenarioError
        At the first cell (or header, or row) that is not what forcesim writes there:
        ``FILE:LINE:COLUMN: NAME: expected ..., found 'TEXT'``.
    """
    where = str(path)
    if frame is not None:
        text = csv_text(frame)
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
            raise ScenarioError(
                "UTF-8 text, as forcesim writes",
                f"the byte {data[exc.start : exc.start + 1]!r}",
                file=where,
                line=line,
                col=col,
                path="(file)",
            ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    seen: dict[tuple[Any, ...], int] = {}
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or fields == [""]:
                continue  # a blank line (pandas skips it too)
            if header is None:
                header = _header(fields, spec, where)
                continue
            row = _row(fields, header, spec, known, where, line)
            key = tuple(row[c] for c in spec.key)
            if key in seen:
                raise ScenarioError(
                    f"one row for each {_words(spec.key)}",
                    f"a second row for {', '.join(_shown(k) for k in key)} "
                    f"(the first is line {seen[key]})",
                    file=where,
                    line=line,
                    col=1,
                    path="(row)",
                )
            seen[key] = line
    except csv.Error as exc:
        raise ScenarioError(
            "a CSV table written by forcesim run",
            str(exc),
            file=where,
            line=reader.line_num,
            col=1,
            path="(file)",
        ) from None
    if header is None:
        raise ScenarioError(
            "a CSV table written by forcesim run, its header first",
            "an empty file",
            file=where,
            path="(file)",
        )
    if spec.expected is not None:
        variants = known.plans if spec.every_variant else dict.fromkeys(k[0] for k in seen)
        for variant in variants:
            for key in spec.expected(known, variant):
                if key not in seen:
                    raise ScenarioError(
                        f"a row for each {_words(spec.key)} of the run",
                        f"none for {', '.join(_shown(k) for k in key)}",
                        file=where,
                        line=reader.line_num + 1,
                        col=1,
                        path="(rows)",
                    )


def _header(fields: list[str], spec: Spec, where: str) -> list[str]:
    known = [*spec.required, *spec.optional]
    for i, name in enumerate(fields):
        if name not in known or name in fields[:i]:
            listed = ", ".join(spec.required)
            extra = f" (and {', '.join(spec.optional)})" if spec.optional else ""
            why = "again" if name in fields[:i] else "a column forcesim does not write"
            raise ScenarioError(
                f"the columns {listed}{extra}",
                f"{describe(name)}, {why}",
                file=where,
                line=1,
                col=i + 1,
                path="(header)",
            )
    missing = [c for c in spec.required if c not in fields]
    if missing:
        raise ScenarioError(
            "the columns " + ",".join(spec.required),
            "no column " + ", ".join(missing),
            file=where,
            line=1,
            col=1,
            path="(header)",
        )
    return fields


def _row(
    fields: list[str], header: list[str], spec: Spec, known: Known, where: str, line: int
) -> dict[str, Any]:
    if len(fields) != len(header):
        raise ScenarioError(
            f"{len(header)} fields, as in the header",
            f"{len(fields)} field" + ("" if len(fields) == 1 else "s"),
            file=where,
            line=line,
            col=min(len(fields), len(header)) + 1,
            path="(row)",
        )
    row: dict[str, Any] = {}
    # the columns in the order of the spec: a name before what depends on it
    for col in spec.columns:
        if col not in header:
            continue
        i = header.index(col)
        text = fields[i]
        try:
            row[col] = spec.columns[col](text, row, known)
        except _Bad as exc:
            raise ScenarioError(
                exc.expected, describe(text), file=where, line=line, col=i + 1, path=col
            ) from None
    for check in spec.rows:
        try:
            check(row, known)
        except _RowBad as exc:
            i = header.index(exc.column)
            raise ScenarioError(
                exc.expected, describe(fields[i]), file=where, line=line, col=i + 1, path=exc.column
            ) from None
    return row


def _every_month(known: Known, variant: str) -> list[tuple[Any, ...]]:
    """Every (variant, series, month) of ``variant``: the rows of ``monthly`` and ``bands``."""
    plan = known.plans[variant]
    months = range(plan.start, plan.start + plan.n_months)
    return [(variant, name, m) for name in known.tops[variant] for m in months]


def _words(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _shown(value: Any) -> str:
    return repr(format_month(value)) if isinstance(value, int) else repr(value)
