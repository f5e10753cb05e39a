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
- ``met``: ``true`` or ``false`` (or ``True``/``TRUE``, as pandas or a spreadsheet
  saves a table again: :data:`TRUE`, :data:`FALSE`);
- percentiles in their order: ``min <= p05 <= ... <= p95 <= max`` in ``bands``, and
  ``p10 <= p50 <= p80 <= p90`` in ``dates`` (a blank, never, only after the last month);
- one row per key (variant, series and month; variant and milestone; variant, series and
  threshold), and in ``monthly`` and ``bands`` a row for every series and month of each
  variant;
- in ``observed`` (a row per report and variant): a date and its month, a theater or
  site of the run, a kind, bounds in whole troops (low end first) or blank, the
  variant's level in whole troops or blank, a percentile rank from 0 to 100, shares,
  ``true``/``false`` flags, a status and a conditioning label forcesim writes, and a
  tolerance as ``--tolerance`` takes it;
- in ``compare`` (B minus A, a row per series both variants have and month both
  cover): the run's A and B, whole troops from minus the most A's series holds to the
  most B's does, in order, the mean between the least and the most, and shares
  ``p_b_greater + p_b_less`` at most 1;
- in a backtest's ``backtest``, ``errors`` and ``paths``: the profiles, errors as finite
  numbers of 0 or more (blank where no report was compared), levels the series can
  hold, a row for each profile and variant, and a path over every month.

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
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.backtest import BACKTEST_COLUMNS, ERROR_COLUMNS, PATH_COLUMNS
from sim.analysis.compare import COMPARE_COLUMNS
from sim.analysis.observed import AS_OF_MONTH, DISCREPANT, LATER, SUPERSEDED, USED
from sim.analysis.summaries import (
    BAND_COLUMNS,
    DATE_COLUMNS,
    MEAN_PLACES,
    SHARE_PLACES,
    series,
    series_tops,
)
from sim.errors import ScenarioError, describe, expected_found
from sim.io.files import csv_text, float_text
from sim.io.observations import (
    CONDITION_COLUMNS,
    DRAW_COLUMNS,
    EXTRA_COLUMNS,
    KINDS,
    MAX_ROWS,
    MAX_TROOPS,
    NOT_A_LEVEL,
    OBSERVED_COLUMNS,
    OUT_OF_RANGE,
    SCORED,
    parse_date,
    written_tolerance,
)
from sim.model.plan import Plan
from sim.months import format_month, parse_month
from sim.results import MILESTONE_COLUMNS, MONTHLY_COLUMNS
from sim.schema import PROFILES

#: a number as :func:`sim.io.files.float_text` writes it, or as earlier versions wrote
#: it (Python's ``repr``, an exponent for the least and greatest): no leading zero,
#: which YAML 1.1 and other readers take for an octal number
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?(e[-+]?[0-9]+)?")
#: whole troops as pandas writes an integer column (``02500`` is no number it writes)
_WHOLE = re.compile(r"0|[1-9][0-9]*")


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
        raise _Bad(expected_found(exc)[0]) from None


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


def _or_blank(check: Check, blank: str = "blank", blanks: tuple[str, ...] = ("",)) -> Check:
    """``check``, or None for a blank cell (any of ``blanks``); what a refused cell
    was expected to be then adds ``or {blank}``."""

    def either(text: str, row: dict[str, Any], known: Known) -> Any:
        if text in blanks:
            return None
        try:
            return check(text, row, known)
        except _Bad as exc:
            raise _Bad(f"{exc.expected}, or {blank}") from None

    return either


#: a month of the run, or blank: never (within the horizon)
_run_month_or_blank = _or_blank(_run_month, "blank (never)", ("", _NAT))


def _whole(text: str, top: int, what: str) -> int:
    if not _WHOLE.fullmatch(text) or len(text) > len(str(top)) or int(text) > top:
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


def _within_places(text: str, places: int, expected: str) -> None:
    """Refuse a number (finite, as :func:`_number` takes it) written with more decimal
    places than forcesim rounds it to (``0.4990000000000000000001`` as a share): read as
    a float it would be rounded without a word. Trailing zeros do not count, and an
    exponent, as pandas writes a small number again, is taken."""
    # (from the digits as written, exactly: Decimal's arithmetic would round past 28
    # digits, and fail on 1e30)
    _, digits, exponent = Decimal(text).as_tuple()
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if isinstance(exponent, int) and exponent + zeros < -places and any(digits):
        raise _Bad(f"{expected}, to at most {places} decimal places as forcesim writes it")


def _mean(text: str, row: dict[str, Any], known: Known) -> float:
    try:
        value = _number(text)
    except _Bad:
        raise _Bad("a mean number of troops") from None
    if value < 0:
        raise _Bad("a mean number of troops, 0 or more")
    _within_places(text, MEAN_PLACES, "a mean number of troops")
    return value


def _in_range(text: str, low: float, high: float, expected: str) -> float:
    """A finite number from ``low`` to ``high``, or ``_Bad(expected)``."""
    try:
        value = _number(text)
    except _Bad:
        value = math.nan
    if not low <= value <= high:  # (nan too)
        raise _Bad(expected)
    return value


def _share(text: str, row: dict[str, Any], known: Known) -> float:
    expected = "a share of draws from 0 to 1"
    value = _in_range(text, 0, 1, expected)
    _within_places(text, SHARE_PLACES, expected)
    return value


_share_or_blank = _or_blank(_share)


#: a flag's spellings, as forcesim writes it and as pandas (True) or a spreadsheet
#: (TRUE) saves the table again: those pandas reads as booleans, no other
TRUE, FALSE = ("true", "True", "TRUE"), ("false", "False", "FALSE")


def _boolean(text: str, row: dict[str, Any], known: Known) -> bool:
    if text not in TRUE + FALSE:
        raise _Bad("true or false")
    return text in TRUE


def _label(text: str, row: dict[str, Any], known: Known) -> str:
    """A threshold: ``zero``, ``residual ID`` or ``milestone ID`` of the row's variant."""
    plan = known.plans[row["variant"]]
    names = {"zero"} | {f"residual {r.id}" for r in plan.residuals}
    if text not in names | {f"milestone {m}" for m in known.milestones[row["variant"]]}:
        raise _Bad(
            f"a threshold of variant {row['variant']!r} ('zero', 'residual ID' or 'milestone ID')"
        )
    return text


def _one_of(names: tuple[str, ...], blank: bool = False) -> Check:
    """A cell holding one of ``names`` (or, with ``blank``, nothing)."""

    def check(text: str, row: dict[str, Any], known: Known) -> str:
        if text not in names and not (blank and text == ""):
            raise _Bad(f"one of {', '.join(names)}" + (", or blank" if blank else ""))
        return text

    return check


def _flag_or_blank(text: str, row: dict[str, Any], known: Known) -> bool | None:
    if text not in (*TRUE, *FALSE, ""):
        raise _Bad("true, false or blank")
    return None if text == "" else text in TRUE


def _any_series(text: str, row: dict[str, Any], known: Known) -> str:
    """A theater or site of some variant of the run (a report on a series one variant
    lacks is written for every variant, out of range there)."""
    names = list(dict.fromkeys(n for tops in known.tops.values() for n in tops))
    if text not in names:
        raise _Bad(f"a theater or site of the run ({', '.join(names)})")
    return text


def _date(text: str, row: dict[str, Any], known: Known) -> int:
    """A report's date, ``YYYY-MM-DD`` or ``YYYY-MM``: its month."""
    try:
        return parse_date(text)[1]
    except ValueError:
        raise _Bad("a date as YYYY-MM-DD or YYYY-MM") from None


def _date_month(text: str, row: dict[str, Any], known: Known) -> int:
    month = _month(text)
    if month != row["date"]:
        raise _Bad(f"the month of the date, {format_month(row['date'])}")
    return month


def _reported(text: str, row: dict[str, Any], known: Known) -> int | None:
    """A bound of a report [troops], or blank (open-ended)."""
    if text == "":
        return None
    try:
        return _whole(text, MAX_TROOPS, "a report's bound")
    except _Bad as exc:
        raise _Bad(f"{exc.expected}, or blank") from None


def _level_or_blank(text: str, row: dict[str, Any], known: Known) -> int | None:
    """The variant's level in the report's month [troops], or blank (not scored)."""
    if text == "":
        return None
    top = known.tops[row["variant"]].get(row["theater"])
    if top is None:
        raise _Bad(f"blank ({row['theater']!r} is not in variant {row['variant']!r})")
    try:
        return _whole(text, top, f"the most {row['theater']!r} holds in this scenario")
    except _Bad as exc:
        raise _Bad(f"{exc.expected}, or blank") from None


_rank_or_blank = _or_blank(lambda t, r, k: _in_range(t, 0, 100, "a percentile rank from 0 to 100"))
#: an accepted bound [troops]: a finite number, 0 or more, or blank (open-ended)
_troops_or_blank = _or_blank(
    lambda t, r, k: _in_range(t, 0, math.inf, "a finite number of troops, 0 or more")
)


def _tolerance_or_blank(text: str, row: dict[str, Any], known: Known) -> str:
    if text != "":
        try:
            written_tolerance(text)
        except ValueError:
            raise _Bad("a tolerance as 5%, 200 or 0, or blank") from None
    return text


def _month_or_nothing(text: str, row: dict[str, Any], known: Known) -> int | None:
    return None if text == "" else _month(text)


def _text(text: str, row: dict[str, Any], known: Known) -> str:
    return text


# ---------------------------------------------------------------- rows


def _rising(
    columns: list[str], blank_after: bool = False, why: str = "percentiles rise"
) -> RowCheck:
    """Each of ``columns`` at least the one before it (``why``: the reason the message
    gives); with ``blank_after``, a blank (never) only once every later one is blank. A
    column the table leaves out, or a blank without ``blank_after``, is passed over."""

    def check(row: dict[str, Any], known: Known) -> None:
        prev_col, prev = columns[0], row.get(columns[0])
        for col in columns[1:]:
            value = row.get(col)
            if value is None:
                prev_col, prev = col, None
                continue
            if prev is None and blank_after:
                raise _RowBad(col, f"blank, as {prev_col} is (a share never reached)")
            if prev is not None and value < prev:
                shown = format_month(prev) if blank_after else float_text(prev)
                raise _RowBad(col, f"{shown} or more, as {prev_col} is ({why})")
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

# (the scored reports: a row per report and variant, as sim.analysis.observed writes them)
_OBSERVED = Spec(
    columns={
        "variant": _variant,
        "date": _date,
        "month": _date_month,
        "theater": _any_series,
        "kind": _one_of(KINDS),
        "troops_low": _reported,
        "troops_high": _reported,
        "level": _level_or_blank,
        "consistent": _flag_or_blank,
        "percentile_rank": _rank_or_blank,
        "in_band80": _flag_or_blank,
        "p_consistent": _share_or_blank,
        "conditioning": _one_of((USED, DISCREPANT, SUPERSEDED, LATER, AS_OF_MONTH), blank=True),
        "p_consistent_conditioned": _share_or_blank,
        "status": _one_of((SCORED, OUT_OF_RANGE, NOT_A_LEVEL)),
        "known": _boolean,
        "by": _month_or_nothing,
        "accept_low": _troops_or_blank,
        "accept_high": _troops_or_blank,
        "tolerance": _tolerance_or_blank,
        "source": _text,
    },
    required=tuple(OBSERVED_COLUMNS),
    optional=(*DRAW_COLUMNS, *CONDITION_COLUMNS, *EXTRA_COLUMNS),
    rows=(
        _rising(["troops_low", "troops_high"], why="a range's low end first"),
        _rising(["accept_low", "accept_high"], why="a range's low end first"),
    ),
)

# (a comparison: the run's plans are A's then B's; a row per series both have and month
# both cover, of B - A in the same draw)


def _ab(known: Known) -> tuple[str, str]:
    """The variants compared, A and B (one plan when they are the same variant)."""
    names = list(known.plans)
    return names[0], names[-1]


def _compared(place: int, option: str) -> Check:
    def check(text: str, row: dict[str, Any], known: Known) -> str:
        name = _ab(known)[place]
        if text != name:
            raise _Bad(f"the variant compared as {option}, {name!r}")
        return text

    return check


def _common_series(known: Known) -> list[str]:
    a, b = (known.tops[v] for v in _ab(known))
    return [name for name in a if name in b]


def _compared_series(text: str, row: dict[str, Any], known: Known) -> str:
    names = _common_series(known)
    if text not in names:
        raise _Bad(f"a theater or site both variants have ({', '.join(names)})")
    return text


def _common_months(known: Known) -> range:
    a, b = (known.plans[v] for v in _ab(known))
    return range(max(a.start, b.start), min(a.start + a.n_months, b.start + b.n_months))


def _compared_month(text: str, row: dict[str, Any], known: Known) -> int:
    month, months = _month(text), _common_months(known)
    if month not in months:
        first, last = format_month(months[0]), format_month(months[-1])
        raise _Bad(f"a month both variants cover, {first} to {last}")
    return month


def _difference(text: str, row: dict[str, Any], known: Known) -> int:
    """B - A in whole troops: from minus the most A's series holds to the most B's does."""
    name, (a, b) = row["theater"], _ab(known)
    low, high = -known.tops[a][name], known.tops[b][name]
    short = len(text) <= len(str(max(-low, high))) + 1  # (4,300 digits: no int)
    value = int(text) if short and re.fullmatch(r"0|-?[1-9][0-9]*", text) else None
    if value is None or not low <= value <= high:
        raise _Bad(f"whole troops from {low} to {high} (B minus A on {name!r})")
    return value


def _mean_difference(text: str, row: dict[str, Any], known: Known) -> float:
    try:
        return _number(text)
    except _Bad:
        raise _Bad("a mean difference in troops") from None


def _shares_add_up(row: dict[str, Any], known: Known) -> None:
    # (each is written to 6 decimals: together they may pass 1 by 1e-6 at most)
    if row["p_b_greater"] + row["p_b_less"] > 1 + 1e-6:
        raise _RowBad("p_b_less", f"at most {float_text(1 - row['p_b_greater'])} (shares add up)")


_COMPARE_LEVELS = ["min", *[c for c in COMPARE_COLUMNS if re.fullmatch(r"p\d+", c)], "max"]
_COMPARE = Spec(
    columns={
        "scenario": _scenario,
        "variant_a": _compared(0, "A"),
        "variant_b": _compared(1, "B"),
        "theater": _compared_series,
        "month": _compared_month,
        "mean": _mean_difference,
        **{c: _difference for c in _COMPARE_LEVELS},
        "p_b_greater": _share,
        "p_b_less": _share,
    },
    required=tuple(COMPARE_COLUMNS),
    rows=(_rising(_COMPARE_LEVELS), _mean_in_range, _shares_add_up),
    key=("theater", "month"),
    expected=lambda known, v: [
        (name, m) for name in _common_series(known) for m in _common_months(known)
    ],
)

# (a backtest: each profile's central run of each variant against the reports)


def _measure(what: str, blank: bool = False) -> Check:
    """A finite number, 0 or more (``what`` it measures), or with ``blank`` nothing."""

    def check(text: str, row: dict[str, Any], known: Known) -> float:
        return _in_range(text, 0, math.inf, f"{what}: a finite number, 0 or more")

    return _or_blank(check) if blank else check


def _count(text: str, row: dict[str, Any], known: Known) -> int:
    return _whole(text, MAX_ROWS, "a count of reports or months")


_BACKTEST = Spec(
    columns={
        "profile": _one_of(PROFILES),
        "variant": _variant,
        "mae": _measure("an error in troops", blank=True),
        "mape": _measure("an error in %", blank=True),
        "max_error": _measure("an error in troops", blank=True),
        "months_compared": _count,
        "observations": _count,
    },
    required=tuple(BACKTEST_COLUMNS),
    key=("profile", "variant"),
    expected=lambda known, v: [(p, v) for p in PROFILES],
)
_ERRORS = Spec(
    columns={
        "profile": _one_of(PROFILES),
        "variant": _variant,
        "date": _date,
        "month": _date_month,
        "theater": _series,
        "troops_low": _reported,
        "troops_high": _reported,
        "level": _troops,
        "error": _measure("an error in troops"),
        "percent_error": _measure("an error in %", blank=True),
    },
    required=tuple(ERROR_COLUMNS),
    rows=(_rising(["troops_low", "troops_high"], why="a range's low end first"),),
)
_PATHS = Spec(
    columns={
        "profile": _one_of(PROFILES),
        "variant": _variant,
        "theater": _series,
        "month": _run_month,
        "troops": _troops,
    },
    required=tuple(PATH_COLUMNS),
    key=("profile", "variant", "theater", "month"),
    expected=lambda known, v: [(p, *key) for p in PROFILES for key in _every_month(known, v)],
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
    "observed": _OBSERVED,
    "compare": _COMPARE,
    "backtest": _BACKTEST,
    "errors": _ERRORS,
    "paths": _PATHS,
}


# ---------------------------------------------------------------- the table


def _flags_as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (a table read from Parquet) with each column of booleans and blanks as
    forcesim writes it to CSV, ``true``, ``false`` or blank: pandas reads such a column
    as Python's ``True``, ``False`` and ``None`` (a column of booleans only is a bool
    column, which :func:`~sim.io.files.csv_text` writes so already)."""
    flags = {}
    for name in frame.columns:
        column = frame[name]
        present = column.dropna() if column.dtype == object else ()
        if len(present) and all(isinstance(v, bool | np.bool_) for v in present):
            flags[name] = column.map({True: "true", False: "false"})
    return frame.assign(**flags) if flags else frame


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
        text = csv_text(_flags_as_written(frame))
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
            if spec.key and key in seen:  # (a table without a key may repeat a row)
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
        # (every variant's keys in the order forcesim writes their rows, made as read: a
        # run of 3,000,000 rows would hold as many keys)
        keys = (key for variant in variants for key in spec.expected(known, variant))
        for key in keys:
            if key not in seen:
                # (placed where the row belongs: at the next row of the run's that the
                # file holds; past the last line when none follows it)
                after = next((seen[k] for k in keys if k in seen), None)
                raise ScenarioError(
                    f"a row for each {_words(spec.key)} of the run",
                    f"none for {', '.join(_shown(k) for k in key)}"
                    + (f" (its place: before line {after})" if after else ""),
                    file=where,
                    line=after or reader.line_num + 1,
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
