"""Observations CSV files: reading a file of reports with errors located at the cell,
and reading back the observations a run recorded in its ``observed.csv``.

The format, and what each column means, is :mod:`sim.io.observations`'s and
``docs/observations.md``'s; this module only reads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError, describe, expected_found, nearest
from sim.io.numbers import form_hint, thousands_hint
from sim.io.observations import (
    COLUMNS,
    MAX_ROWS,
    MAX_TEXT,
    OBSERVED_COLUMNS,
    REQUIRED,
    SERIES,
    TARGET,
    TARGET_TOLERANCE,
    Observation,
    ObservationSet,
    check_bounds,
    formula_problem,
    parse_by,
    parse_date,
    parse_kind,
    row_tolerance,
    unknown_series,
)
from sim.io.yamlio import (
    DIRECTION_CONTROL,
    DIRECTION_EXPECTED,
    decode_text,
    read_limited,
)

#: ASCII digits only: ``\d`` takes every script's, and ``float`` reads ``1５00`` as 1500
_NUMBER = re.compile(r"[1-9][0-9]{0,2}(,[0-9]{3})+|0|[1-9][0-9]*")
#: where a line ends: not every place str.splitlines() splits (U+2028 in a pasted quote,
#: a form feed), which would cut a row in two and renumber every later line
_LINE_END = re.compile(r"\r\n|\r|\n")
#: C0 controls but tab, DEL and C1 controls (a terminal escape in a source or quote)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _lines(text: str) -> list[str]:
    """The lines of ``text``, split at line ends only."""
    lines = _LINE_END.split(text)
    return lines[:-1] if lines and not lines[-1] else lines


def read_observations(path: str | Path, allowed: Sequence[str] | None = None) -> ObservationSet:
    """Read an observations CSV file.

    Parameters
    ----------
    path : str or pathlib.Path
        A UTF-8 CSV file with the header ``date,theater,troops_low,troops_high``
        and optionally ``source``, ``quote``, ``kind``, ``tolerance`` and ``by`` (in
        any order). Blank lines and lines starting with ``#`` are skipped.
    allowed : sequence of str, optional
        The theater and site names the rows may use
        (:meth:`sim.model.plan.Plan.series_names`).

    Returns
    -------
    ObservationSet

    Raises
    ------
    sim.ScenarioError
        For the first bad row, as ``FILE:LINE:COL: column: expected …, found …``.
    """
    name = str(path)
    raw = read_limited(Path(path), "observations CSV file")
    text = decode_text(raw, name)
    index: dict[str, int] | None = None
    items: list[Observation] = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = _Row(name, number, line)
        if not any(c.strip() for c in row.cells):
            continue  # (",,,,,,,,": a spreadsheet's empty row, as a blank line)
        if index is None:
            index = _header(row)
            continue
        if len(items) >= MAX_ROWS:
            raise row.fail(0, "(row)", f"at most {MAX_ROWS:,} observations", "more rows")
        items.append(_observation(row, index, allowed))
    if index is None:
        raise ScenarioError(
            "a CSV header " + ",".join(COLUMNS), "an empty file", file=name, path="(file)"
        )
    if not items:
        raise ScenarioError(
            "at least one observation row", "only the header", file=name, path="(file)"
        )
    # (the file's own bytes, as sha256sum gives them: the decoded text of a UTF-16 file
    # or one with a byte-order mark hashed as its UTF-8 twin's)
    return ObservationSet(tuple(items), name, hashlib.sha256(raw).hexdigest())


class _Row:
    """One line of the file: its cells, and errors located at a cell."""

    def __init__(self, name: str, number: int, line: str) -> None:
        self.name, self.number = name, number
        self.starts = _field_starts(line)
        try:
            self.cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):  # the csv module's 131,072
                ends = [*(s - 1 for s in self.starts[1:]), len(line) + 1]
                cells = [line[a - 1 : b - 1] for a, b in zip(self.starts, ends, strict=True)]
                widest = max(range(len(cells)), key=lambda i: len(cells[i]))
                size = len(cells[widest].strip().removeprefix('"').removesuffix('"'))
                raise self.fail(
                    widest, "(row)", f"a cell of at most {MAX_TEXT:,} characters", f"{size:,}"
                ) from None
            raise self.fail(
                0, "(row)", "a CSV row (quotes closed on the same line)", str(exc)
            ) from None

    def fail(self, col: int, column: str, expected: str, found: str) -> ScenarioError:
        """The error for cell ``col`` (0-based) under ``column``."""
        start = self.starts[col] if 0 <= col < len(self.starts) else 1
        return ScenarioError(
            expected, found, file=self.name, line=self.number, col=start, path=column
        )


def _header(row: _Row) -> dict[str, int]:
    """The position of each column the header names, checked."""
    header = [c.strip() for c in row.cells]
    if not set(header) & set(COLUMNS):
        # not an observations file: say so without quoting it (it may be anything)
        found = f"a first line with none of them ({len(header)} fields)"
        for sep, name in ((";", "semicolons"), ("\t", "tabs")):
            if len(header) == 1 and set(header[0].split(sep)) & set(COLUMNS):
                found += f" (its names are separated by {name}: save it with commas)"
        if {h.strip().lower() for h in header} & set(COLUMNS):
            found += " (the names are written in lower case: date, theater, ...)"
        raise row.fail(
            0,
            "(header)",
            "a CSV file whose first line names its columns: " + ",".join(COLUMNS),
            found,
        )
    index: dict[str, int] = {}
    for i, col in enumerate(header):
        if col not in COLUMNS:
            # (close in letters and in case: "notes" is no misspelt "quote")
            hint = difflib.get_close_matches(col.lower(), COLUMNS, n=1, cutoff=0.7)
            raise row.fail(
                i,
                "(header)",
                "columns from "
                + ", ".join(COLUMNS)
                + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                f"the column {col!r}",
            )
        if col in index:
            raise row.fail(i, "(header)", "each column once", f"a second {col!r}")
        index[col] = i
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise row.fail(
            0,
            "(header)",
            "the columns " + ", ".join(REQUIRED),
            "no " + ", ".join(repr(c) for c in missing),
        )
    return index


def _observation(row: _Row, index: dict[str, int], allowed: Sequence[str] | None) -> Observation:
    """The observation of one data row, each cell checked in turn."""
    cells = row.cells
    if len(cells) != len(index):
        raise row.fail(
            min(len(cells), len(index)) if len(cells) > len(index) else 0,
            "(row)",
            f"{len(index)} fields ({', '.join(index)})",
            f"{len(cells)} fields",
        )

    def cell(col: str) -> str:
        return cells[index[col]] if col in index else ""

    def parsed(col: str, parse: Any, *args: Any) -> Any:
        try:
            return parse(*args)
        except ValueError as exc:
            expected, found = expected_found(exc)
            raise row.fail(index[col], col, expected, found) from None

    date, month = parsed("date", parse_date, cell("date").strip())
    where = cell("theater").strip()
    if not SERIES.match(where) and allowed is not None and nearest(where, list(allowed)):
        # (a near miss, "Chad" for chad: named with the theaters there are)
        raise row.fail(index["theater"], "theater", *unknown_series(where, allowed))
    if not SERIES.match(where):
        raise row.fail(
            index["theater"],
            "theater",
            "a theater id (lower-case letters, digits, - or _) or theater/site",
            describe(where) if where else "a blank",
        )
    if allowed is not None and where not in allowed:
        raise row.fail(index["theater"], "theater", *unknown_series(where, allowed))
    low = parsed("troops_low", _number, cell("troops_low"))
    high = parsed("troops_high", _number, cell("troops_high"))
    broken = check_bounds(low, high, {c: cell(c).strip() for c in ("troops_low", "troops_high")})
    if broken:
        col, expected, found = broken
        raise row.fail(index[col], col, expected, found)
    for col in ("source", "quote"):
        if len(cell(col)) > MAX_TEXT:
            raise row.fail(
                index[col], col, f"at most {MAX_TEXT:,} characters", f"{len(cell(col)):,}"
            )
        if _CONTROL.search(cell(col)):
            raise row.fail(index[col], col, "text without control characters", repr(cell(col)))
        if DIRECTION_CONTROL.search(cell(col)):
            raise row.fail(index[col], col, DIRECTION_EXPECTED, repr(cell(col)))
        formula = formula_problem(cell(col))
        if formula is not None:
            raise row.fail(index[col], col, *formula)
    kind = parsed("kind", parse_kind, cell("kind"))
    tolerance = parsed("tolerance", row_tolerance, cell("tolerance"))
    if kind == TARGET and tolerance is not None:
        at = index["tolerance"]
        raise row.fail(at, "tolerance", TARGET_TOLERANCE, repr(cell("tolerance").strip()))
    by = parsed("by", parse_by, cell("by"), kind, month)
    return Observation(
        date,
        month,
        where,
        low,
        high,
        cell("source").strip(),
        cell("quote").strip(),
        kind=kind,
        tolerance=tolerance,
        by=by,
    )


def _field_starts(line: str) -> list[int]:
    """1-based column where each comma-separated field of ``line`` starts."""
    starts, quoted = [1], False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            starts.append(i + 2)
    return starts


def _read_text(path: Path, name: str) -> str:
    raw = read_limited(path, "observations CSV file")
    return decode_text(raw, name)


def _number(text: str) -> float | None:
    """A troop count as written in a cell (``2500`` or ``2,500``); None when blank.

    Anything else is refused with a hint, never reinterpreted: ``2.500`` (a thousands
    separator, or two and a half), ``2500.0``, ``0700``, ``1e3``, ``1_000``."""
    t = text.strip()
    if not t:
        return None
    if _NUMBER.fullmatch(t):
        return float(t.replace(",", ""))
    sign, body = ("-", t[1:]) if t.startswith("-") else ("", t)
    if _NUMBER.fullmatch(body):
        return float(sign + body.replace(",", ""))  # a negative level: check_bounds says so
    hint = thousands_hint(t) or form_hint(t, yaml=False)
    if hint is None and re.fullmatch(r"[0-9]+\.0+", body):
        hint = f"write {sign}{body.split('.')[0]}"
    expected = 'a whole number of troops or a blank (digits: 2500, or "2,500" in quotes)'
    raise ValueError(f"expected {expected}, found {t!r}" + (f" ({hint})" if hint else ""))


def _stored(text: str) -> float | None:
    """A bound as a table forcesim wrote holds it (``2500``; ``2500.0`` once pandas has
    written the table again); None when blank."""
    t = (text or "").strip()
    if not t:
        return None
    value = float(t)
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number of troops, found {t!r}")
    return value


def from_observed_csv(
    path: str | Path, text: str | None = None, as_of: dt.date | None = None
) -> ObservationSet:
    """The observations recorded in a run's ``observed.csv`` (one per row of its first
    variant), for re-drawing a run's charts; ``text``, when given, is that table as CSV
    text (read from its Parquet copy), and ``path`` only names it in errors; ``as_of``
    is the run's as-of date."""
    name = str(path)
    if text is None:
        text = _read_text(Path(path), name)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    if not rows or not set(OBSERVED_COLUMNS) <= set(rows[0]):
        raise ScenarioError(
            "an observed.csv written by forcesim run", "other columns", file=name, path="(header)"
        )
    first = rows[0]["variant"]
    items = []
    for number, row in enumerate(rows, 2):
        if row["variant"] != first:
            continue
        try:
            date, month = parse_date(row["date"])
            low, high = _stored(row["troops_low"]), _stored(row["troops_high"])
            kind = parse_kind(row.get("kind") or "")
            by = parse_by(row.get("by") or "", kind, month)
        except ValueError as exc:
            raise ScenarioError(
                "an observed.csv written by forcesim run",
                str(exc),
                file=name,
                line=number,
                path="(row)",
            ) from None
        items.append(
            Observation(
                date,
                month,
                row["theater"],
                low,
                high,
                row.get("source", "") or "",
                kind=kind,
                by=by,
            )
        )
    return ObservationSet(tuple(items), name, as_of=as_of)
