"""Observed troop levels: reading them, scoring projections against them, and
conditioning an ensemble on them.

An **observation** is a reported troop level for a theater (or a site) on a
date: a point (``troops_low = troops_high``), a range, or an open-ended bound
("fewer than N" leaves ``troops_low`` blank, "more than N" leaves
``troops_high`` blank). Observations come from a CSV file
(``date,theater,troops_low,troops_high,source,quote``) or from a scenario's
``observations`` key (a list, or the path of such a CSV relative to the
scenario file). See ``docs/observations.md``.

Rules, each stated once here:

* An observation dated ``YYYY-MM-DD`` or ``YYYY-MM`` is compared with the
  level at the end of the month that contains its date (the model's monthly
  value). Observations before the start month or after the horizon are *out of
  range*: listed, never scored.
* A level is **consistent** with an observation when it lies in the observed
  range widened by the **tolerance** (``±5 %`` of each bound by default, or an
  absolute number of troops): ``low·(1 − r) − a ≤ level ≤ high·(1 + r) + a``,
  an open end staying open. Bounds are inclusive.
* With an ensemble, the observation's **percentile rank** is the mid-rank of its
  reference value (the point, the middle of a range, or the bound of an
  open-ended one) among the draws' levels that month: ``100 · (#below + ½
  #equal) / n``. ``in_band80`` says whether the observed range meets the
  exact 10th–90th percentile band. ``p_consistent`` is the share of draws
  consistent with it.
* **Conditioning** keeps the draws consistent with every in-range observation
  and summarises only those, chunk by chunk (memory stays bounded): the same
  exact bands, dates and milestone probabilities as the unconditioned ensemble.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sim.errors import ScenarioError, describe
from sim.months import format_month, parse_month
from sim.yamlio import decode_text, read_limited

if TYPE_CHECKING:
    import pandas as pd

    from sim.plan import Plan
    from sim.results import Result
    from sim.scenario import Scenario
    from sim.schema import ScenarioDoc
    from sim.stepper import StepInputs

COLUMNS = ("date", "theater", "troops_low", "troops_high", "source", "quote")
REQUIRED = ("date", "theater", "troops_low", "troops_high")
OBSERVED_COLUMNS = [
    "date",
    "theater",
    "variant",
    "troops_low",
    "troops_high",
    "level",
    "consistent",
]
DRAW_COLUMNS = ["percentile_rank", "in_band80", "p_consistent"]
EXTRA_COLUMNS = ["status", "month", "accept_low", "accept_high", "source"]
SCORED, OUT_OF_RANGE = "scored", "out of range"
DEFAULT_TOLERANCE = "5%"
MAX_ROWS = 10_000
MAX_TROOPS = 10_000_000
MAX_TEXT = 4000

_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")
_SERIES = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)?$")
_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+$")


# ---------------------------------------------------------------- observations


@dataclass(frozen=True)
class Observation:
    """One reported level.

    date : str
        As written: ``YYYY-MM-DD`` or ``YYYY-MM``.
    month : int
        Ordinal (:mod:`sim.months`) of the month containing ``date``; the
        observation is compared with the level at the end of that month.
    theater : str
        A theater id (``iraq``) or a site key (``iraq/erbil``).
    low, high : float or None
        The observed range [troops]; ``None`` for an open end.
    """

    date: str
    month: int
    theater: str
    low: float | None
    high: float | None
    source: str = ""
    quote: str = ""

    @property
    def kind(self) -> str:
        """``point``, ``range``, ``at most`` (fewer than N) or ``at least`` (more than N)."""
        if self.low is None:
            return "at most"
        if self.high is None:
            return "at least"
        return "point" if self.low == self.high else "range"

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
    """Observations and where they came from (a CSV file, or a scenario file)."""

    items: tuple[Observation, ...]
    origin: str
    sha256: str | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def frame(self) -> pd.DataFrame:
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
                    "source": o.source,
                    "quote": o.quote,
                }
                for o in self.items
            ]
        )


def series_names(plan: Plan) -> list[str]:
    """What an observation may name in ``plan``: each theater, then each site key."""
    return list(plan.theaters) + [t.key for t in plan.tracks if t.site is not None]


def _unknown_series(name: str, allowed: Sequence[str]) -> tuple[str, str]:
    expected = "one of " + ", ".join(allowed)
    hint = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    if hint:
        expected += f" (did you mean {hint[0]!r}?)"
    return expected, f"unknown theater {name!r}"


def _parse_date(text: str) -> tuple[str, int]:
    """(the date as written, its month ordinal); ValueError("expected …, found …")."""
    m = _DATE.match(text)
    if not m:
        raise ValueError(f"expected a date as YYYY-MM-DD or YYYY-MM, found {text!r}")
    month = parse_month(f"{m.group(1)}-{m.group(2)}")
    if m.group(3) is not None:
        try:
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueError(f"expected a real calendar date, found {text!r}") from None
    return text, month


def _check_bounds(low: float | None, high: float | None) -> tuple[str, str, str] | None:
    """(column, expected, found) of the first broken rule on a pair of bounds."""
    for col, v in (("troops_low", low), ("troops_high", high)):
        if v is None:
            continue
        if not math.isfinite(v) or v < 0:
            return col, "a level of 0 troops or more", f"{v:,g}"
        if v != int(v):
            return col, "a whole number of troops", f"{v:,g}"
        if v > MAX_TROOPS:
            return col, f"at most {MAX_TROOPS:,} troops", f"{v:,.0f}"
    if low is None and high is None:
        return (
            "troops_low",
            "a level in troops_low or troops_high (leave low blank for "
            "'fewer than N', high blank for 'more than N')",
            "both blank",
        )
    if low is not None and high is not None and low > high:
        return "troops_high", f"troops_high at or above troops_low ({low:,.0f})", f"{high:,.0f}"
    return None


# ---------------------------------------------------------------- the CSV file


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
    """A troop count as written in a cell (``2500`` or ``2,500``); None when blank."""
    t = text.strip().replace("_", "")
    if not t:
        return None
    if _NUMBER.match(t):
        return float(t.replace(",", ""))
    try:
        value = float(t)
    except ValueError:
        raise ValueError(f"expected a number of troops or a blank, found {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number of troops, found {text!r}")
    return value


def read_observations(path: str | Path, allowed: Sequence[str] | None = None) -> ObservationSet:
    """Read an observations CSV file.

    Parameters
    ----------
    path : str or pathlib.Path
        A UTF-8 CSV file with the header ``date,theater,troops_low,troops_high``
        and optionally ``source`` and ``quote`` (in any order). Blank lines and
        lines starting with ``#`` are skipped.
    allowed : sequence of str, optional
        The theater and site names the rows may use (see :func:`series_names`).

    Returns
    -------
    ObservationSet

    Raises
    ------
    sim.ScenarioError
        For the first bad row, as ``FILE:LINE:COL: column: expected …, found …``.
    """
    name = str(path)
    text = _read_text(Path(path), name)
    header: list[str] | None = None
    index: dict[str, int] = {}
    items: list[Observation] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        starts = _field_starts(line)

        def fail(
            col: int,
            column: str,
            expected: str,
            found: str,
            *,
            _n: int = number,
            _s: list[int] = starts,
        ) -> ScenarioError:
            return ScenarioError(
                expected,
                found,
                file=name,
                line=_n,
                col=_s[col] if 0 <= col < len(_s) else 1,
                path=column,
            )

        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            raise fail(0, "(row)", "a CSV row (quotes closed on the same line)", str(exc)) from None
        if header is None:
            header = [c.strip() for c in cells]
            for i, col in enumerate(header):
                if col not in COLUMNS:
                    hint = difflib.get_close_matches(col, COLUMNS, n=1, cutoff=0.6)
                    raise fail(
                        i,
                        "(header)",
                        "columns from "
                        + ", ".join(COLUMNS)
                        + (f" (did you mean {hint[0]!r}?)" if hint else ""),
                        f"the column {col!r}",
                    )
                if col in index:
                    raise fail(i, "(header)", "each column once", f"a second {col!r}")
                index[col] = i
            missing = [c for c in REQUIRED if c not in index]
            if missing:
                raise fail(
                    0,
                    "(header)",
                    "the columns " + ", ".join(REQUIRED),
                    "no " + ", ".join(repr(c) for c in missing),
                )
            continue
        if len(cells) != len(header):
            raise fail(
                min(len(cells), len(header)) if len(cells) > len(header) else 0,
                "(row)",
                f"{len(header)} fields ({', '.join(header)})",
                f"{len(cells)} fields",
            )
        if len(items) >= MAX_ROWS:
            raise fail(0, "(row)", f"at most {MAX_ROWS:,} observations", "more rows")

        def cell(col: str, _cells: list[str] = cells) -> str:
            return _cells[index[col]] if col in index else ""

        try:
            date, month = _parse_date(cell("date").strip())
        except ValueError as exc:
            expected, _, found = str(exc).removeprefix("expected ").partition(", found ")
            raise fail(index["date"], "date", expected, found) from None
        where = cell("theater").strip()
        if not _SERIES.match(where):
            raise fail(
                index["theater"],
                "theater",
                "a theater id (lower-case letters, digits, - or _) or theater/site",
                describe(where) if where else "a blank",
            )
        if allowed is not None and where not in allowed:
            raise fail(index["theater"], "theater", *_unknown_series(where, allowed))
        bounds: dict[str, float | None] = {}
        for col in ("troops_low", "troops_high"):
            try:
                bounds[col] = _number(cell(col))
            except ValueError as exc:
                expected, _, found = str(exc).removeprefix("expected ").partition(", found ")
                raise fail(index[col], col, expected, found) from None
        broken = _check_bounds(bounds["troops_low"], bounds["troops_high"])
        if broken:
            col, expected, found = broken
            raise fail(index[col], col, expected, found)
        for col in ("source", "quote"):
            if len(cell(col)) > MAX_TEXT:
                raise fail(
                    index[col], col, f"at most {MAX_TEXT:,} characters", f"{len(cell(col)):,}"
                )
        items.append(
            Observation(
                date,
                month,
                where,
                bounds["troops_low"],
                bounds["troops_high"],
                cell("source").strip(),
                cell("quote").strip(),
            )
        )
    if header is None:
        raise ScenarioError(
            "a CSV header " + ",".join(COLUMNS), "an empty file", file=name, path="(file)"
        )
    if not items:
        raise ScenarioError(
            "at least one observation row", "only the header", file=name, path="(file)"
        )
    return ObservationSet(tuple(items), name, hashlib.sha256(text.encode()).hexdigest())


def from_observed_csv(path: str | Path) -> ObservationSet:
    """The observations recorded in a run's ``observed.csv`` (one per row of its first
    variant), for re-drawing a run's charts."""
    name = str(path)
    text = _read_text(Path(path), name)
    rows = list(csv.DictReader(text.splitlines()))
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
            date, month = _parse_date(row["date"])
            low, high = _number(row["troops_low"]), _number(row["troops_high"])
        except ValueError as exc:
            raise ScenarioError(
                "an observed.csv written by forcesim run",
                str(exc),
                file=name,
                line=number,
                path="(row)",
            ) from None
        items.append(
            Observation(date, month, row["theater"], low, high, row.get("source", "") or "")
        )
    return ObservationSet(tuple(items), name)


# ---------------------------------------------------------------- from a scenario


def _doc_observations(
    doc: ScenarioDoc, locator: Any, allowed: Sequence[str]
) -> ObservationSet | None:
    """The observations a scenario document lists or points to, checked."""
    obs = doc.observations
    if obs is None:
        return None
    if isinstance(obs, str):
        file, _, _ = locator.find(("observations",))
        base = Path(file).parent if file and not file.startswith("<") else Path(".")
        target = base / obs
        if not target.is_file():
            raise locator.error(
                ("observations",),
                "the path of an observations CSV file, relative to the scenario file",
                f"{obs!r} ({'a directory' if target.is_dir() else 'no such file'})",
            )
        return read_observations(target, allowed)
    items: list[Observation] = []
    for i, o in enumerate(obs):
        path = ("observations", i)
        raw = o.date.isoformat() if isinstance(o.date, dt.date) else str(o.date)
        try:
            date, month = _parse_date(raw)
        except ValueError as exc:
            expected, _, found = str(exc).removeprefix("expected ").partition(", found ")
            raise locator.error(path + ("date",), expected, found) from None
        if not _SERIES.match(o.theater):
            raise locator.error(
                path + ("theater",), "a theater id or theater/site", describe(o.theater)
            )
        if o.theater not in allowed:
            raise locator.error(path + ("theater",), *_unknown_series(o.theater, allowed))
        low = None if o.troops_low is None else float(o.troops_low)
        high = None if o.troops_high is None else float(o.troops_high)
        broken = _check_bounds(low, high)
        if broken:
            col, expected, found = broken
            raise locator.error(path + (col,), expected, found)
        items.append(Observation(date, month, o.theater, low, high, o.source or "", o.quote or ""))
    return ObservationSet(tuple(items), f"{locator.find(('observations',))[0]} (observations)")


def check_scenario_observations(doc: ScenarioDoc, locator: Any) -> ObservationSet | None:
    """Check a base document's observations (inline, or the CSV it points to).

    Observations are facts, not readings of the plan: a variant may not override them.
    """
    from sim.plan import compile_plan

    for name, variant in doc.variants.items():
        if "observations" in variant.overrides:
            raise locator.error(
                ("variants", name, "overrides", "observations"),
                "observations in the base scenario (they are the same for every variant)",
                "observations in a variant",
                key=True,
            )
    if doc.observations is None:
        return None
    return _doc_observations(doc, locator, series_names(compile_plan(doc)))


def scenario_observations(scenario: Scenario) -> ObservationSet | None:
    """The observations a loaded scenario lists or points to (None when it has none)."""
    return check_scenario_observations(scenario.doc, scenario.locator)


def load_observations(path: str | Path, scenario: Scenario | None = None) -> ObservationSet:
    """Read an observations CSV file (``date,theater,troops_low,troops_high,source,quote``).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file; see ``docs/observations.md``.
    scenario : Scenario, optional
        When given, each row's theater must be one of its theaters or sites.

    Returns
    -------
    ObservationSet
        The observations, in file order, with the file's name and sha256.

    Raises
    ------
    sim.ScenarioError
        For the first bad row: ``FILE:LINE:COL: column: expected …, found …``.
    """
    allowed = None
    if scenario is not None:
        allowed = series_names(scenario.plan(scenario.variant_names[0]))
    return read_observations(path, allowed)


# ---------------------------------------------------------------- tolerance


@dataclass(frozen=True)
class Tolerance:
    """How far a level may lie outside an observed range and still be consistent.

    relative : share of each bound (0.05 is ±5 %); absolute : troops.
    """

    relative: float = 0.0
    absolute: float = 0.0

    def accept(self, obs: Observation) -> tuple[float, float]:
        """The widened range [troops]; an open end is ``-inf`` or ``inf``."""
        lo = -math.inf if obs.low is None else obs.low * (1 - self.relative) - self.absolute
        hi = math.inf if obs.high is None else obs.high * (1 + self.relative) + self.absolute
        return lo, hi

    def __str__(self) -> str:
        if self.relative:
            return f"±{self.relative * 100:g} %"
        if self.absolute:
            return f"±{self.absolute:,g} troops"
        return "none (exact)"

    def record(self) -> dict[str, Any]:
        return {"relative": self.relative, "absolute": self.absolute, "text": str(self)}


def parse_tolerance(text: str | None) -> Tolerance:
    """``--tolerance``: ``5%`` (of each bound), ``200`` (troops) or ``0`` (exact)."""
    raw = DEFAULT_TOLERANCE if text is None else str(text)
    t = raw.strip().replace(" ", "")
    try:
        if t.endswith("%"):
            value = float(t[:-1])
            if not 0 <= value <= 100:
                raise ValueError
            return Tolerance(relative=value / 100)
        value = float(t)
        if not 0 <= value <= MAX_TROOPS:
            raise ValueError
        return Tolerance(absolute=value)
    except ValueError:
        raise ScenarioError(
            "a tolerance as a percentage from 0% to 100% (of each bound) or "
            "a number of troops (0 or more)",
            repr(raw),
            file="<command line>",
            path="--tolerance",
        ) from None


def for_run(
    scenario: Scenario,
    observed: str | Path | None,
    tolerance: str | None,
    condition: bool,
    draws: int | None,
) -> tuple[ObservationSet | None, Tolerance]:
    """The observations and tolerance of a ``forcesim run``, checked before any work:
    ``--observed FILE`` replaces the scenario's own observations; ``--condition``
    needs draws and observations; ``--tolerance`` needs observations."""
    tol = parse_tolerance(tolerance)
    if condition and draws is None:
        raise ScenarioError(
            "--draws N and --seed S with --condition (it conditions an ensemble)",
            "no --draws",
            file="<command line>",
            path="--condition",
        )
    obs = load_observations(observed, scenario) if observed else scenario_observations(scenario)
    if obs is None and (condition or tolerance is not None):
        flag = "--condition" if condition else "--tolerance"
        raise ScenarioError(
            f"observations with {flag} (--observed FILE, or observations in the scenario)",
            "none",
            file="<command line>",
            path=flag,
        )
    return obs, tol


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Check:
    """One in-range observation as the ensemble pass tests it."""

    index: int  # position in the ObservationSet
    series: str
    month: int  # month index in the plan (0 = start month)
    lo: float
    hi: float


def checks_for(plan: Plan, observations: ObservationSet, tolerance: Tolerance) -> list[Check]:
    """The observations that fall within ``plan``'s months and name one of its series."""
    names = set(series_names(plan))
    out = []
    for i, o in enumerate(observations):
        m = o.month - plan.start
        if 0 <= m < plan.n_months and o.theater in names:
            out.append(Check(i, o.theater, m, *tolerance.accept(o)))
    return out


class _Filter:
    """Stands in for an :class:`~sim.ensemble.Accumulator` in :func:`sim.ensemble.simulate`:
    steps each chunk's draws up to the last observed month, counts their levels in
    each observed month, and passes on (to ``inner``, as stepper inputs) only the
    draws consistent with every observation.

    Stepping stops at the last observed month: a month's level never depends on
    later months, so the levels compared are exactly those of the full run."""

    def __init__(self, plan: Plan, checks: list[Check], bound: int, inner: Any) -> None:
        from sim.ensemble import series

        last = max((c.month for c in checks), default=0)
        self.plan = replace(plan, n_months=last + 1)
        sel = series(plan)
        self.names = [s for s, _ in sel]
        self.members = [m for _, m in sel]
        self.checks = checks
        self.bound = bound
        self.inner = inner
        self.hist = np.zeros((len(checks), bound + 1), np.int64)
        self.n = 0
        self.kept = 0

    def add_draws(self, inputs: StepInputs) -> None:
        from sim.ensemble import level_views
        from sim.stepper import StepInputs, step

        n = inputs.n
        keep = np.ones(n, bool)
        if self.checks:
            levels = level_views(self.plan, step(self.plan, inputs), self.names, self.members)
            for i, c in enumerate(self.checks):
                lv = levels[c.series][:, c.month]
                self.hist[i] += np.bincount(lv, minlength=self.bound + 1)[: self.bound + 1]
                keep &= (lv >= c.lo) & (lv <= c.hi)
        self.n += n
        kept = int(keep.sum())
        self.kept += kept
        if not kept:
            return
        if kept < n:
            inputs = StepInputs(
                initial=inputs.initial[keep],
                delay=inputs.delay[keep],
                targets=inputs.targets[keep],
                residual=inputs.residual[keep],
            )
        self.inner.add_draws(inputs)


def _observed_counts(acc: Any, checks: list[Check]) -> NDArray[np.int64]:
    """Counts of each level (checks, bound + 1) in each check's series and month, read
    from a settled :class:`~sim.ensemble.Accumulator` (``hist``: month-major)."""
    width = acc.bound + 1
    rows = {name: i for i, name in enumerate(acc.names)}
    out = np.zeros((len(checks), width), np.int64)
    for i, c in enumerate(checks):
        out[i] = acc.hist[rows[c.series], c.month * width : (c.month + 1) * width]
    return out


def rank_stats(
    hist: NDArray[np.int64], obs: Observation, accept: tuple[float, float]
) -> tuple[float, bool, float]:
    """From counts of each level in one month: the percentile rank of the observation's
    reference value, whether the observed range meets the exact 10th–90th percentile
    band, and the share of draws within ``accept`` (the range widened by the tolerance)."""
    n = int(hist.sum())
    ref = obs.reference
    levels = np.arange(hist.shape[0])
    below = int(hist[levels < ref].sum())
    equal = int(hist[levels == ref].sum())
    rank = 100.0 * (below + 0.5 * equal) / n
    from sim.ensemble import inverse_cdf

    cum = np.cumsum(hist)[None, :]
    p10 = int(inverse_cdf(cum, 10, n)[0])
    p90 = int(inverse_cdf(cum, 90, n)[0])
    lo = -math.inf if obs.low is None else obs.low
    hi = math.inf if obs.high is None else obs.high
    inside = int(hist[(levels >= accept[0]) & (levels <= accept[1])].sum())
    return rank, bool(lo <= p90 and hi >= p10), inside / n


@dataclass
class Conditioned:
    """Summaries of only the draws consistent with every in-range observation."""

    bands: pd.DataFrame | None
    dates: pd.DataFrame | None
    p_met: dict[tuple[str, str], float]  # (variant, milestone) -> share
    kept: dict[str, int]
    draws: int

    @property
    def variants(self) -> list[str]:
        """The variants with at least one draw kept."""
        return [v for v, k in self.kept.items() if k > 0]

    @property
    def empty(self) -> list[str]:
        return [v for v, k in self.kept.items() if k == 0]


@dataclass
class Assessment:
    """Observations scored against a run (and, optionally, the ensemble conditioned on them).

    table : the rows of ``observed.csv``; conditioned : None unless conditioning was asked.
    """

    observations: ObservationSet
    tolerance: Tolerance
    table: pd.DataFrame
    conditioned: Conditioned | None = None
    draws: int | None = None
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """What ``run.json`` says about the observations (under ``observed``)."""
        out: dict[str, Any] = {
            "origin": self.observations.origin,
            "sha256": self.observations.sha256,
            "observations": len(self.observations),
            "tolerance": self.tolerance.record(),
        }
        per_variant: dict[str, Any] = {}
        for v, rows in self.table.groupby("variant", sort=False):
            scored = rows[rows.status == SCORED]
            per_variant[str(v)] = {
                "scored": len(scored),
                "consistent": int((scored.consistent == "true").sum()),
            }
        out["variants"] = per_variant
        if self.conditioned is not None:
            c = self.conditioned
            out["conditioning"] = {
                "draws": c.draws,
                "kept": {
                    v: {"draws": k, "share": round(k / c.draws, 6)} for v, k in c.kept.items()
                },
                "no_draw_kept": c.empty,
            }
        return out


def score_observations(
    result: Result,
    observations: ObservationSet,
    tolerance: Tolerance | str | None = None,
    *,
    condition: bool = False,
    chunk: int | None = None,
    progress: bool | None = None,
) -> Assessment:
    """Score observed levels against every variant of a run, and optionally condition
    its ensemble on them.

    Parameters
    ----------
    result : Result
        A run (deterministic, or an ensemble: ``result.draws`` set).
    observations : ObservationSet
        From :func:`load_observations` (or a scenario's own, ``scenario_observations``).
    tolerance : Tolerance or str, optional
        How far outside an observed range still counts as consistent: ``"5%"``
        (the default, of each bound) or a number of troops (``"200"``).
    condition : bool
        Also summarise only the draws consistent with every in-range observation
        (needs an ensemble).
    chunk : int, optional
        Draws per chunk, as for :func:`sim.run`.
    progress : bool, optional
        Show a progress bar, as for :func:`sim.run`.

    Returns
    -------
    Assessment
        ``.table`` holds the rows of ``observed.csv``; ``.conditioned`` the
        conditioned bands, dates, milestone probabilities and draws kept. Nothing
        in ``result`` changes; pass ``observed=`` to the plot functions to draw the
        observations, or :func:`attach` them.
    """
    import pandas as pd

    tol = tolerance if isinstance(tolerance, Tolerance) else parse_tolerance(tolerance)
    if condition and not result.draws:
        raise ScenarioError(
            "--draws N and --seed S with --condition (it conditions an ensemble)",
            "no draws",
            file="<command line>",
            path="--condition",
        )
    stats: dict[str, tuple[list[Check], NDArray[np.int64]]] = {}
    conditioned = None
    if result.draws:
        stats, conditioned = _ensemble_pass(
            result, observations, tol, condition=condition, chunk=chunk, progress=progress
        )
    m = result.monthly
    lookup = {
        (v, t, str(p)): int(x)
        for v, t, p, x in zip(m.variant, m.theater, m.month, m.troops, strict=True)
    }
    rows: list[dict[str, Any]] = []
    for v in result.variants:
        plan = result.plans[v]
        checks, counts = stats.get(v, ([], np.zeros((0, 1), np.int64)))
        by_index = {c.index: j for j, c in enumerate(checks)}
        for i, o in enumerate(observations):
            lo, hi = tol.accept(o)
            row: dict[str, Any] = {
                "date": o.date,
                "theater": o.theater,
                "variant": v,
                "troops_low": o.low,
                "troops_high": o.high,
                "level": None,
                "consistent": "",
                "percentile_rank": None,
                "in_band80": "",
                "p_consistent": None,
                "status": OUT_OF_RANGE,
                "month": o.month_text,
                "accept_low": None if o.low is None else round(lo, 3),
                "accept_high": None if o.high is None else round(hi, 3),
                "source": o.source,
            }
            level = lookup.get((v, o.theater, o.month_text))
            inside = 0 <= o.month - plan.start < plan.n_months
            if inside and level is not None:
                row.update(
                    level=level, status=SCORED, consistent="true" if lo <= level <= hi else "false"
                )
                j = by_index.get(i)
                if j is not None:
                    rank, band, share = rank_stats(counts[j], o, (lo, hi))
                    row.update(
                        percentile_rank=round(rank, 3),
                        in_band80=str(band).lower(),
                        p_consistent=round(share, 6),
                    )
            rows.append(row)
    columns = OBSERVED_COLUMNS + (DRAW_COLUMNS if result.draws else []) + EXTRA_COLUMNS
    table = pd.DataFrame(rows, columns=OBSERVED_COLUMNS + DRAW_COLUMNS + EXTRA_COLUMNS)
    for col in ("troops_low", "troops_high", "level", "accept_low", "accept_high"):
        table[col] = table[col].astype("Float64")
    for col in ("level", "troops_low", "troops_high"):
        table[col] = table[col].round().astype("Int64")
    return Assessment(observations, tol, table[columns], conditioned, result.draws)


def _ensemble_pass(
    result: Result,
    observations: ObservationSet,
    tol: Tolerance,
    *,
    condition: bool,
    chunk: int | None,
    progress: bool | None,
) -> tuple[dict[str, tuple[list[Check], NDArray[np.int64]]], Conditioned | None]:
    """One more pass over the ensemble's draws (same seed, same streams): the counts of
    each level in every observed month and, when conditioning, exact summaries of the
    draws consistent with every observation. Returns per variant its checks and counts."""
    import pandas as pd

    from sim import ensemble

    assert result.draws is not None and result.seed is not None
    stats: dict[str, tuple[list[Check], NDArray[np.int64]]] = {}
    bands, dates, p_met, kept = [], [], {}, {}
    options: dict[str, Any] = {} if chunk is None else {"chunk": chunk}
    bar = ensemble.progress_bar(
        result.draws * len(result.variants), progress, f"{result.scenario.id} (observed)"
    )
    sid = result.scenario.id
    try:
        for v in result.variants:
            plan = result.plans[v]
            bound = ensemble.level_bound(plan)
            checks = checks_for(plan, observations, tol)
            sel = ensemble.series(plan)
            marks = (
                ensemble.thresholds(plan, result.milestones[result.milestones.variant == v])
                if condition
                else []
            )
            acc = ensemble.Accumulator(plan, bound, [s for s, _ in sel], [m for _, m in sel], marks)
            if condition:
                f = _Filter(plan, checks, bound, acc)
                ensemble.simulate(
                    plan,
                    result.draws,
                    result.seed,
                    f,  # type: ignore[arg-type]
                    bar=bar,
                    **options,
                )
                stats[v] = (checks, f.hist)
                kept[v] = f.kept
                if acc.n:
                    bands.append(acc.bands(sid, v))
                    dates.append(acc.dates(sid, v))
                    for mplan, met in zip(plan.milestones, acc.met, strict=True):
                        p_met[(v, mplan.id)] = round(int(met) / acc.n, 6)
                f.inner = None
            elif checks and v in result.counts:  # the run kept its counts: no second pass
                stats[v] = (checks, _observed_counts(result.counts[v], checks))
            elif checks:
                ensemble.simulate(plan, result.draws, result.seed, acc, bar=bar, **options)
                acc.bands(sid, v)  # settles the counts
                stats[v] = (checks, _observed_counts(acc, checks))
            del acc  # one variant's summaries in memory at a time
    finally:
        if bar is not None:
            bar.close()
    cond = None
    if condition:
        cond = Conditioned(
            pd.concat(bands, ignore_index=True) if bands else None,
            pd.concat(dates, ignore_index=True) if dates else None,
            p_met,
            kept,
            int(result.draws),
        )
    return stats, cond


# ---------------------------------------------------------------- the run directory


def conditioned_result(result: Result, assessment: Assessment) -> Result | None:
    """A copy of ``result`` holding the conditioned summaries (for the fan chart);
    None when no variant kept a draw."""
    c = assessment.conditioned
    if c is None or not c.variants:
        return None
    keep = c.variants
    ms = result.milestones[result.milestones.variant.isin(keep)].copy()
    ms["p_met"] = [
        c.p_met.get((v, m), math.nan) for v, m in zip(ms.variant, ms.milestone, strict=True)
    ]
    return replace(
        result,
        variants=keep,
        monthly=result.monthly[result.monthly.variant.isin(keep)],
        milestones=ms,
        bands=c.bands,
        dates=c.dates,
        plans={v: result.plans[v] for v in keep},
    )


def attach(result: Result, assessment: Assessment) -> list[Callable[[Path], None]]:
    """Attach ``assessment`` to ``result`` (charts draw the observations, ``run.json``
    records them, ``milestones`` gains ``p_met_conditioned``) and return the writers
    of ``observed.csv`` and the conditioned files, for :func:`sim.output.write_run`."""
    from sim.output import write_csv

    result.observed = assessment
    c = assessment.conditioned
    if c is not None:
        ms = result.milestones
        result.milestones = ms.assign(
            p_met_conditioned=[
                c.p_met.get((v, m), math.nan) for v, m in zip(ms.variant, ms.milestone, strict=True)
            ]
        )

    def observed_csv(tmp: Path) -> None:
        write_csv(assessment.table, tmp / "observed.csv")

    writers: list[Callable[[Path], None]] = [observed_csv]
    cond = conditioned_result(result, assessment)
    if cond is not None:

        def conditioned_files(tmp: Path) -> None:
            from sim import observed_chart, plotting

            assert cond.bands is not None and cond.dates is not None
            write_csv(cond.bands, tmp / "bands_conditioned.csv")
            write_csv(cond.dates, tmp / "dates_conditioned.csv")
            axes = plotting.plot_fan(cond)
            observed_chart.mark_conditioned(axes, cond, assessment)
            plotting.save(axes, tmp / "fan_conditioned.png")

        writers.append(conditioned_files)
    return writers


def summary_lines(assessment: Assessment, variants: Iterable[str]) -> list[str]:
    """What ``forcesim run`` prints about the observations."""
    t = assessment.table
    n = len(assessment.observations)
    first = t[t.variant == next(iter(variants), None)] if len(t) else t
    scored = int((first.status == SCORED).sum())
    lines = [
        f"observations: {n} from {assessment.observations.origin}; {scored} within the "
        f"scenario's months, {n - scored} out of range (listed, not scored); "
        f"tolerance {assessment.tolerance}"
    ]
    for v in variants:
        rows = t[(t.variant == v) & (t.status == SCORED)]
        ok = int((rows.consistent == "true").sum())
        text = f"    {v}: consistent with {ok} of {len(rows)}"
        bad = rows[rows.consistent == "false"]
        if len(bad):
            several = len({o.theater for o in assessment.observations}) > 1
            text += (
                " (not: "
                + ", ".join(
                    f"{d} {th}" if several else str(d)
                    for d, th in zip(bad.date, bad.theater, strict=True)
                )
                + ")"
            )
        lines.append(text)
    c = assessment.conditioned
    if c is not None:
        lines.append(
            f"conditioning on every in-range observation ({assessment.tolerance}): "
            "draws kept per variant"
        )
        for v, k in c.kept.items():
            lines.append(f"    {v}: {k:,} of {c.draws:,} ({100 * k / c.draws:.1f} %)")
    return lines


def empty_message(assessment: Assessment) -> str | None:
    """The warning when some (or every) variant kept no draw, else None."""
    c = assessment.conditioned
    if c is None or not c.empty:
        return None
    who = ", ".join(c.empty)
    if not c.variants:
        return (
            f"no draw of any variant is consistent with every observation (tolerance "
            f"{assessment.tolerance}); no conditioned files were written. observed.csv "
            "shows which observations each variant misses; try a wider --tolerance."
        )
    them = "it" if len(c.empty) == 1 else "them"
    return (
        f"no draw of {who} is consistent with every observation (tolerance "
        f"{assessment.tolerance}); the conditioned files leave {them} out."
    )
