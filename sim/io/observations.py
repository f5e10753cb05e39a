"""Observed troop levels as data: the observations CSV format, read with located
errors, and the tolerance that widens an observed range.

An **observation** is a reported troop level for a theater (or a site) on a
date: a point (``troops_low = troops_high``), a range, or an open-ended bound
("fewer than N" leaves ``troops_low`` blank, "more than N" leaves
``troops_high`` blank). Observations come from a CSV file
(``date,theater,troops_low,troops_high,source,quote``) or from a scenario's
``observations`` key (checked by :mod:`sim.loader`). See ``docs/observations.md``.

An observation dated ``YYYY-MM-DD`` or ``YYYY-MM`` is compared with the level
at the end of the month that contains its date (the model's monthly value).
A level is **consistent** with an observation when it lies in the observed
range widened by the **tolerance** (``±5 %`` of each bound by default, or an
absolute number of troops): ``low·(1 − r) − a ≤ level ≤ high·(1 + r) + a``,
an open end staying open. Bounds are inclusive.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError, expected_found, listed, nearest
from sim.io.numbers import (
    EXACT_EXPECTED,
    PLAIN_DECIMAL,
    form_hint,
    inexact,
    plain_number,
    whole_problem,
)
from sim.months import first_day, format_month, parse_month

if TYPE_CHECKING:
    import pandas as pd


COLUMNS = (
    "date",
    "theater",
    "troops_low",
    "troops_high",
    "kind",
    "tolerance",
    "by",
    "source",
    "quote",
)
REQUIRED = ("date", "theater", "troops_low", "troops_high")
KINDS = ("reported", "official", "target")
REPORTED, OFFICIAL, TARGET = KINDS
OBSERVED_COLUMNS = [
    "date",
    "theater",
    "kind",
    "variant",
    "troops_low",
    "troops_high",
    "level",
    "consistent",
]
DRAW_COLUMNS = ["percentile_rank", "in_band80", "p_consistent"]
CONDITION_COLUMNS = ["conditioning", "p_consistent_conditioned"]
EXTRA_COLUMNS = [
    "status",
    "known",
    "month",
    "by",
    "accept_low",
    "accept_high",
    "tolerance",
    "source",
]
SCORED, OUT_OF_RANGE, NOT_A_LEVEL = "scored", "out of range", "target"
DEFAULT_TOLERANCE = "5%"
MAX_ROWS = 10_000
MAX_TROOPS = 10_000_000
MAX_TEXT = 4000

#: ASCII digits only (``\d`` takes ``２０２５`` and every other script's digits)
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
#: a date whose month or day is written with one digit (2026-2-24)
_LOOSE_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})(?:-([0-9]{1,2}))?")
SERIES = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)?$")


# ---------------------------------------------------------------- observations


@dataclass(frozen=True)
class Observation:
    """One reported level, official figure or target.

    date : str
        As written: ``YYYY-MM-DD`` or ``YYYY-MM``.
    month : int
        Ordinal (:mod:`sim.months`) of the month containing ``date``; the
        observation is compared with the level at the end of that month.
    theater : str
        A theater id (``iraq``) or a site key (``iraq/erbil``).
    low, high : float or None
        The observed range [troops]; ``None`` for an open end.
    kind : str
        ``reported`` (a count somebody gave: compared with the whole force),
        ``official`` (a declared figure: compared with the official figure, the
        level less any unreported troops) or ``target`` (a plan or promise:
        drawn, never scored or conditioned on).
    tolerance : Tolerance or None
        This row's own tolerance; None for the run's (``--tolerance``).
    by : int or None
        For a target, the ordinal of the month it is due (drawn there); None when
        not given (drawn at its date).
    """

    date: str
    month: int
    theater: str
    low: float | None
    high: float | None
    source: str = ""
    quote: str = ""
    kind: str = REPORTED
    tolerance: Tolerance | None = None
    by: int | None = None

    @property
    def shape(self) -> str:
        """``point``, ``range``, ``at most`` (fewer than N) or ``at least`` (more than N)."""
        if self.low is None:
            return "at most"
        if self.high is None:
            return "at least"
        return "point" if self.low == self.high else "range"

    @property
    def bounded(self) -> bool:
        """Whether both ends are given (a point or a range)."""
        return self.low is not None and self.high is not None

    @property
    def is_level(self) -> bool:
        """Whether it states a level to score (a reported count or an official figure)."""
        return self.kind != TARGET

    @property
    def day(self) -> dt.date:
        """The day it was made public: its date, or the last day of its month when
        only the month is written (so a month's report is known once the month is)."""
        return day_of(self.date)

    def known(self, as_of: dt.date | None) -> bool:
        """Whether it was public on ``as_of`` (every observation is, when None)."""
        return as_of is None or self.day <= as_of

    def after(self, as_of: dt.date) -> bool:
        """Whether it was made public after ``as_of`` for certain: its date is after
        it, or, when only the month is written, the month's first day is. A report of
        the as-of month dated by the month alone is neither known (it may have come
        later) nor after (it may have come before): it neither conditions a projection
        made that day nor scores it."""
        return first_day(self.date) > as_of

    @property
    def reference(self) -> float:
        """The value a percentile rank and a percentage error refer to [troops]: the
        point, the middle of a range, or the bound of an open-ended observation."""
        if self.low is None:
            assert self.high is not None
            return self.high
        if self.high is None:
            return self.low
        return (self.low + self.high) / 2

    @property
    def month_text(self) -> str:
        return format_month(self.month)

    def distance(self, level: float) -> float:
        """How far ``level`` lies outside the observed range [troops]; 0 inside it."""
        if self.low is not None and level < self.low:
            return self.low - level
        if self.high is not None and level > self.high:
            return level - self.high
        return 0.0


@dataclass(frozen=True)
class ObservationSet:
    """Observations and where they came from (a CSV file, or a scenario file).

    ``as_of`` is set only on observations read back from a run's ``observed.csv``:
    the as-of date the run used (None: every observation was known).
    """

    items: tuple[Observation, ...]
    origin: str
    sha256: str | None = None
    as_of: dt.date | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __repr__(self) -> str:
        """One line, not every observation with its quote: ``.frame()`` lists them."""
        dates = sorted(o.date for o in self.items)
        span = f", {dates[0]} to {dates[-1]}" if dates else ""
        series = sorted({o.theater for o in self.items})
        named = f" ({', '.join(series)})" if series else ""
        known = f", as of {self.as_of.isoformat()}" if self.as_of is not None else ""
        n = len(self.items)
        return (
            f"<ObservationSet: {n:,} observation{'' if n == 1 else 's'} from {self.origin}"
            f"{span}{named}{known}; .frame() lists them>"
        )

    def frame(self) -> pd.DataFrame:
        """One row per observation: ``date, month, theater, troops_low, troops_high,
        kind, shape, tolerance, by, source, quote``."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "date": o.date,
                    "month": o.month_text,
                    "theater": o.theater,
                    "troops_low": o.low,
                    "troops_high": o.high,
                    "kind": o.kind,
                    "shape": o.shape,
                    "tolerance": "" if o.tolerance is None else o.tolerance.text(),
                    "by": "" if o.by is None else format_month(o.by),
                    "source": o.source,
                    "quote": o.quote,
                }
                for o in self.items
            ]
        )


def unknown_series(name: str, allowed: Sequence[str]) -> tuple[str, str]:
    expected = "one of " + listed(allowed)
    hint = nearest(name, list(allowed))
    if hint:
        expected += f" (did you mean {hint!r}?)"
    return expected, f"unknown theater {name!r}"


def day_of(text: str) -> dt.date:
    """The day a date written ``YYYY-MM-DD`` or ``YYYY-MM`` stands for: the date, or
    the last day of the month (a month counts once it is over)."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        return dt.date(parts[0], parts[1], parts[2])
    return dt.date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])


def parse_kind(text: str) -> str:
    """``kind``: blank (reported), reported, official or target;
    ValueError("expected …, found …") for anything else."""
    t = text.strip()
    if not t:
        return REPORTED
    if t not in KINDS:
        hint = nearest(t, list(KINDS))
        raise ValueError(
            "expected one of reported, official, target"
            + (f" (did you mean {hint!r}?)" if hint else "")
            + f", found {t!r}"
        )
    return t


def row_tolerance(text: str) -> Tolerance | None:
    """A ``tolerance`` cell: blank (the run's tolerance) or as ``--tolerance``;
    ValueError("expected …, found …")."""
    t = text.strip()
    return None if not t else tolerance_from(t)


#: what a target's tolerance must be: it is never scored or conditioned on, so a
#: tolerance written there would be read and never used
TARGET_TOLERANCE = "no tolerance on a target (a target is drawn, never scored or conditioned on)"


def parse_by(text: str, kind: str, month: int) -> int | None:
    """A ``by`` cell: blank, or for a target the month it is due (``YYYY-MM`` or
    ``YYYY-MM-DD``, not before the observation's own month); ValueError otherwise."""
    t = text.strip()
    if not t:
        return None
    if kind != TARGET:
        raise ValueError(
            f"expected a blank (by is the month a target is due; this row is {kind}), found {t!r}"
        )
    _, due = parse_date(t)
    if due < month:
        raise ValueError(
            f"expected a month at or after the row's date ({format_month(month)}), found {t!r}"
        )
    return due


def parse_as_of(
    value: str | dt.date,
    first: str,
    last: str,
    *,
    file: str = "<command line>",
    path: str = "--as-of",
) -> dt.date:
    """An as-of date: ``YYYY-MM-DD``, or ``YYYY-MM`` for the last day of that month,
    within the calendar's months ``first`` to ``last`` (``YYYY-MM``).

    Raises
    ------
    sim.ScenarioError
        Not a date, or outside the calendar (``file`` and ``path`` say where it came from).
    """
    if isinstance(value, dt.date) and value != value:  # pandas' NaT: a date of none
        raise ScenarioError("a date as YYYY-MM-DD or YYYY-MM", "NaT", file=file, path=path)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        text, day = value.isoformat(), value
    else:
        text = str(value).strip()
        try:
            parse_date(text)
        except ValueError as exc:
            expected, found = expected_found(exc)
            hint = found[len(repr(text)) :]  # (" (for that date write 2026-02-24)", or "")
            raise ScenarioError(expected, repr(str(value)) + hint, file=file, path=path) from None
        day = day_of(text)
    month = parse_month(f"{day.year:04d}-{day.month:02d}")
    if not parse_month(first) <= month <= parse_month(last):
        raise ScenarioError(
            f"a date within the scenario's calendar ({first} to {last})",
            repr(text),
            file=file,
            path=path,
        )
    return day


def parse_date(text: str) -> tuple[str, int]:
    """(the date as written, its month ordinal); ValueError("expected …, found …")."""
    m = _DATE.fullmatch(text)
    if not m:
        loose = _LOOSE_DATE.fullmatch(text)  # (2026-2-24: its parts given two digits)
        hint = ""
        if loose:
            parts = [loose.group(1), *(f"{int(g):02d}" for g in loose.groups()[1:] if g)]
            meant = "-".join(parts)
            try:
                parse_date(meant)  # (a date there is: not 2026-13-04 or 2026-02-30)
                hint = f" (for that date write {meant})"
            except ValueError:
                pass
        raise ValueError(f"expected a date as YYYY-MM-DD or YYYY-MM, found {text!r}{hint}")
    try:
        month = parse_month(f"{m.group(1)}-{m.group(2)}")
    except ValueError as exc:  # (its words, quoting the date as written: not '2024-13')
        expected = str(exc).partition(", found ")[0]
        raise ValueError(f"{expected}, found {text!r}") from None
    if m.group(3) is not None:
        try:
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueError(f"expected a real calendar date, found {text!r}") from None
    return text, month


#: how a spreadsheet tells a formula from text: a cell beginning with one of these
#: (OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection)
FORMULA_STARTS = ("=", "+", "-", "@")


def formula_problem(text: str, table: str = "observed.csv") -> tuple[str, str] | None:
    """(expected, found) when a text that a run writes into its ``table`` as written (a
    report's source or quote, a swept text value), as stripped, begins as a
    spreadsheet formula would; None when it does not. A spreadsheet opening that file
    would run ``=HYPERLINK(...)`` or ``-2+3`` rather than show it; nothing of the text
    is changed to prevent it, so it is refused where it is read. A lone ``-`` (the
    usual "none") is kept."""
    t = text.strip()
    if t[:1] in FORMULA_STARTS and t != "-":
        return (
            f"text that does not begin with {t[0]!r} (a spreadsheet opening the run's "
            f"{table} would run it as a formula: reword it, or begin it with ')",
            repr(text),
        )
    return None


def check_bounds(
    low: float | None, high: float | None, texts: dict[str, str] | None = None
) -> tuple[str, str, str] | None:
    """(column, expected, found) of the first broken rule on a pair of bounds; ``texts``
    holds each bound as written, for the message to quote."""
    texts = texts or {}

    def shown(col: str, v: float) -> str:
        text = texts.get(col)
        if text is None:
            return plain_number(v) if math.isfinite(v) else repr(v)
        return text if text[:1] in ("'", '"') else repr(text)

    for col, v in (("troops_low", low), ("troops_high", high)):
        if v is None:
            continue
        if v == 0 and math.copysign(1.0, v) < 0:  # (written back as -0)
            return col, "a level of 0 troops or more, 0 written without a sign", shown(col, v)
        if math.isnan(v) or math.copysign(1.0, v) < 0:
            return col, "a level of 0 troops or more", shown(col, v)
        # (digits past a float's range read as infinity: above the most, not a fraction)
        broken = None if math.isinf(v) else whole_problem(v, texts.get(col), "troops")
        if broken is not None:
            return col, *broken
        if v > MAX_TROOPS:
            return col, f"at most {MAX_TROOPS:,} troops", shown(col, v)
    if low is None and high is None:
        return (
            "troops_low",
            "a level in troops_low or troops_high (leave low blank for "
            "'fewer than N', high blank for 'more than N')",
            "both blank",
        )
    if low is not None and high is not None and low > high:
        return (
            "troops_high",
            f"troops_high at or above troops_low ({texts.get('troops_low') or f'{low:,.0f}'})",
            shown("troops_high", high),
        )
    return None


# ---------------------------------------------------------------- the CSV file


def accepted(obs: Observation, tolerance: Tolerance) -> tuple[float, float]:
    """The range a level must lie in to be consistent with ``obs``: widened by the
    row's own tolerance, else by ``tolerance`` [troops]; an open end is ``±inf``."""
    return (obs.tolerance or tolerance).accept(obs)


# ---------------------------------------------------------------- tolerance


def _decimal(x: float) -> Decimal:
    """``x`` as the decimal it prints as (``0.15``, not the binary fraction nearest it)."""
    return Decimal(repr(float(x))) if not float(x).is_integer() else Decimal(int(x))


@dataclass(frozen=True)
class Tolerance:
    """How far a level may lie outside an observed range and still be consistent.

    Attributes
    ----------
    relative : float
        Share of each bound (0.05 is ±5 %).
    absolute : float
        Troops added beyond each bound [troops].

    Notes
    -----
    The accepted range is ``low·(1 − relative) − absolute`` to
    ``high·(1 + relative) + absolute``; an open end stays open.

    Made in code, it is refused (a :class:`~sim.ScenarioError`) where ``--tolerance``
    would refuse its text: a share outside 0 to 1, a number of troops that is negative,
    above 10,000,000 or strictly between 0 and 1 (on whole troops it widens nothing:
    ``absolute=0.05`` is most likely meant as ``relative=0.05``), or both at once (the
    text has one or the other).
    """

    relative: float = 0.0
    absolute: float = 0.0

    def __post_init__(self) -> None:
        broken = _tolerance_problem(self.relative, self.absolute)
        if broken is not None:
            path, expected, found = broken
            raise ScenarioError(expected, found, file="<arguments>", path=path)

    def text(self) -> str:
        """As ``--tolerance`` takes it: ``5%``, ``200`` or ``0``; exact (``12.3456789%``,
        ``1234567``: it reads back as the same tolerance), never rounded."""
        if self.relative:
            return f"{plain_number(self.relative, 100)}%"
        return plain_number(self.absolute)

    def accept(self, obs: Observation) -> tuple[float, float]:
        """The widened range [troops]; an open end is ``-inf`` or ``inf``. Each bound is
        worked out in decimal from the numbers as written, then made the nearest float:
        ``220 · 1.15`` is 253, where binary arithmetic gives 252.99999999999997 and
        judged a level of 253 outside its report's range."""
        rel, extra = _decimal(self.relative), _decimal(self.absolute)
        lo = -math.inf if obs.low is None else float(_decimal(obs.low) * (1 - rel) - extra)
        hi = math.inf if obs.high is None else float(_decimal(obs.high) * (1 + rel) + extra)
        return lo, hi

    @classmethod
    def default(cls) -> Tolerance:
        """±5 % of each bound (:data:`DEFAULT_TOLERANCE`)."""
        return parse_tolerance(DEFAULT_TOLERANCE)

    def __str__(self) -> str:
        if self.relative:
            return f"±{plain_number(self.relative, 100)} %"
        if self.absolute:
            whole, dot, fraction = plain_number(self.absolute).partition(".")
            unit = "troop" if self.absolute == 1 else "troops"
            return f"±{int(whole):,}{dot}{fraction} {unit}"
        return "none (exact)"

    def record(self) -> dict[str, Any]:
        return {"relative": self.relative, "absolute": self.absolute, "text": str(self)}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _tolerance_problem(relative: Any, absolute: Any) -> tuple[str, str, str] | None:
    """(key path, expected, found) of the first rule a tolerance made in code breaks
    that its text would break too (:func:`tolerance_from`), or None."""
    if not (_number(relative) and 0 <= relative <= 1):
        return (
            "Tolerance.relative",
            "a share of each bound from 0 to 1 (0.05 is 5%)",
            repr(relative),
        )
    if not (_number(absolute) and (absolute == 0 or 1 <= absolute <= MAX_TROOPS)):
        found = repr(absolute)
        if _number(absolute) and 0 < absolute < 1:
            found += (
                " (on whole troops a tolerance below 1 troop is none at all: for "
                f"{plain_number(absolute, 100)} % of each bound write "
                f"Tolerance(relative={absolute!r}))"
            )
        return (
            "Tolerance.absolute",
            f"a number of troops: 0, or from 1 to {MAX_TROOPS:,}",
            found,
        )
    if relative and absolute:
        return (
            "Tolerance",
            "a share of each bound (relative) or a number of troops (absolute), not both",
            f"relative={relative!r} and absolute={absolute!r}",
        )
    return None


def recorded_tolerance(relative: float = 0.0, absolute: float = 0.0) -> Tolerance:
    """A tolerance as forcesim recorded it (a table's ``tolerance`` column, ``run.json``),
    not checked as one made in code is: a run made before :class:`Tolerance` refused
    less than 1 troop (or both a share and troops) may have recorded one, and its
    files still read."""
    tol = object.__new__(Tolerance)
    object.__setattr__(tol, "relative", relative)
    object.__setattr__(tol, "absolute", absolute)
    return tol


TOLERANCE_EXPECTED = (
    "a tolerance as a percentage from 0% to 100% (of each bound) or a number of troops "
    f"(0, or 1 to {MAX_TROOPS:,})"
)


def tolerance_from(text: str) -> Tolerance:
    """``5%`` (of each bound), ``200`` (troops) or ``0`` (exact): the number written as
    plain decimal digits, as everywhere in forcesim (:mod:`sim.io.numbers`), so that
    ``1_000``, ``0700``, ``1e3`` or digits of another script are refused with a hint,
    never read as Python's ``float`` would; ValueError("expected …, found …") for
    anything else.

    A number of troops strictly between 0 and 1 is refused too: levels and reported
    bounds are whole troops, so ``0.05`` widens nothing (it is ``0``), and it is most
    likely meant as the share ``5%`` (as ``--error-rate 0.05`` is). A fraction above 1
    (``2.5``) is kept: it widens each bound by its whole part on whole troops."""
    tol = written_tolerance(text)
    if 0 < tol.absolute < 1:
        share = format(Decimal(str(text).strip()).scaleb(2).normalize(), "f")
        raise ValueError(
            f"expected {TOLERANCE_EXPECTED}, found {str(text)!r} (on whole troops a "
            f"tolerance below 1 troop is none at all: for {share} % of each bound write "
            f"{share}%)"
        )
    return tol


def written_tolerance(text: str) -> Tolerance:
    """A tolerance as :meth:`Tolerance.text` writes it, as :func:`tolerance_from` reads
    it but for any number of troops from 0 (a table written before less than 1 troop
    was refused, from text or in code, still reads: :func:`recorded_tolerance`);
    ValueError("expected …, found …") for anything else."""
    t = str(text).strip()
    relative = t.endswith("%")
    number = t[:-1].rstrip() if relative else t
    hint = form_hint(number, yaml=False, unit="%" if relative else "")
    said = re.search(r"\bwrite (-?[0-9][0-9.]*)", hint or "")
    if said and (float(said.group(1)) > (100 if relative else MAX_TROOPS)):
        hint = None  # ("2 500%": writing 2500% would be refused too)
    value = float(number) if PLAIN_DECIMAL.match(number) else math.nan
    read = inexact(number) if value == value else None
    if read is not None:
        hint, value = f"which would be read as {read}: {EXACT_EXPECTED}", math.nan
    if relative and 0 <= value <= 100:
        return Tolerance(relative=value / 100)
    if not relative and 0 <= value <= MAX_TROOPS:
        return recorded_tolerance(absolute=value)
    raise ValueError(
        f"expected {TOLERANCE_EXPECTED}, found {str(text)!r}" + (f" ({hint})" if hint else "")
    )


def parse_tolerance(
    text: str | float | None, *, file: str = "<command line>", path: str = "--tolerance"
) -> Tolerance:
    """``--tolerance``: ``5%`` (of each bound), ``200`` (troops) or ``0`` (exact); a
    number given in code is a number of troops.

    A bad one is a :class:`ScenarioError` at ``file`` and ``path``: the command line's
    ``--tolerance`` by default, ``<arguments>`` and ``tolerance`` for a Python call."""
    if isinstance(text, int) and not isinstance(text, bool):
        raw = str(text)  # (as written: an int past a float's range has no float)
    elif isinstance(text, float):
        raw = plain_number(text)
    else:
        raw = DEFAULT_TOLERANCE if text is None else str(text)
    try:
        return tolerance_from(raw)
    except ValueError as exc:
        found = str(exc).partition(", found ")[2] or repr(raw)
        raise ScenarioError(TOLERANCE_EXPECTED, found, file=file, path=path) from None
