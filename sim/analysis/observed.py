"""Scoring projections against observed levels, and conditioning an ensemble on them.

An **observation** is a report for a theater (or a site) on a date: a point
(``troops_low = troops_high``), a range, or an open-ended bound ("fewer than N"
leaves ``troops_low`` blank, "more than N" leaves ``troops_high`` blank), of one
kind: ``reported`` (a count somebody gave), ``official`` (a declared figure) or
``target`` (a plan or promise). Observations come from a CSV file or from a
scenario's ``observations`` key. See ``docs/observations.md``.

Rules, each stated once here:

* An observation is compared with the level at the end of the month that
  contains its date. Observations before the start month or after the horizon
  are *out of range*; targets are *not a level*: both are listed, never scored.
* A ``reported`` observation is compared with the whole force; an ``official``
  one with the official figure, ``max(level − unreported, 0)`` per track, where
  the scenario gives a reporting basis (``unreported``).
* A level is **consistent** with an observation when it lies in the observed
  range widened by the tolerance (the row's own, else the run's):
  ``low·(1 − r) − a ≤ level ≤ high·(1 + r) + a``, an open end staying open.
* With an ensemble: ``p_consistent`` is the share of draws consistent with it,
  ``in_band80`` whether the observed range meets the exact 10th–90th
  percentile band, and, for a point or a range only, ``percentile_rank`` the
  mid-rank of its middle among the draws' levels, ``100·(#below + ½ #equal)/n``
  [%]: ``100·(F(y⁻) + ½ P(y))``, the mid-distribution function (Parzen 2004,
  *Statistical Science* 19(4)), the mean of the randomised PIT of a count
  forecast (Czado, Gneiting & Held 2009, *Biometrics* 65(4)).
* **As of a date**, an observation made public on or before it is *known*;
  later ones are scored out of sample and never condition; one dated by the as-of
  month alone (``2025-06`` as of 2025-06-15) is neither known nor later: it neither
  conditions nor is scored out of sample (:data:`AS_OF_MONTH`).
* Of the known reports of one quantity, the latest counts (on the same day, the
  last in the file); the others are *superseded*. A quantity is a series' level at
  the end of a month, or its official figure where it has a reporting basis; an
  ``official`` report of a series without one states the level, as a
  ``reported`` one does (:func:`sim.analysis.conditioning.the_latest`).
* **Soft conditioning** weights each draw by ``ε^k``, ``k`` the number of known,
  counted reports whose tolerance its level misses: the likelihood of a mixture
  model in which each report is right within its tolerance with probability
  ``1 − ε`` and otherwise says nothing about the level (Craig et al. 1997;
  Beaumont et al. 2002; docs/observations.md). A report that no draw comes near
  (*discrepant*) is missed by every draw, so it multiplies every weight by ``ε``
  and drops out of the normalised weights: it never erases the others.
* The weighted summaries are exact: draws are counted per ``k`` in separate
  level counts (the same counts as the plain ensemble, split), and percentiles,
  dates and milestone shares are read off ``Σ_k w_k · counts_k`` in exact integer
  arithmetic, ``w_k = p^(k − k₀) q^(k₁ − k)`` for ``ε = p/q`` (``ε^k`` times
  ``q^(k₁)/p^(k₀)``, the same for every draw, so the same normalised
  weights). The effective number of draws is Kish's ``(Σ w)² / Σ w²`` (Kish
  1965, *Survey Sampling*).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.accumulator import TooManySlots
from sim.analysis.chunks import Executor
from sim.analysis.conditioning import (
    Check,
    LevelTally,
    Observer,
    TallyTooLarge,
    Weighted,
    checks_for,
    joined,
    observer_of,
    quantity_key,
)
from sim.analysis.ensemble import check_args, run_ensemble
from sim.analysis.summaries import (
    SHARE_PLACES,
    BandColumns,
    bands_of,
    dates_of,
    inverse_cdf_row,
    rounded_inside,
)
from sim.analysis.wide import require_dense
from sim.errors import ForcesimWarning, ScenarioError, flag_argument
from sim.io.observations import (
    CONDITION_COLUMNS,
    DRAW_COLUMNS,
    EXTRA_COLUMNS,
    KINDS,
    NOT_A_LEVEL,
    OBSERVED_COLUMNS,
    OFFICIAL,
    OUT_OF_RANGE,
    SCORED,
    Observation,
    ObservationSet,
    Tolerance,
    accepted,
    parse_as_of,
    parse_tolerance,
    unknown_series,
)
from sim.results import PERIOD_ZERO, Result, month_periods

if TYPE_CHECKING:
    from sim.model.plan import Plan
    from sim.scenario import Scenario

#: the chance that a report is wrong, i.e. says nothing about the level (``ε``)
ERROR_RATE = Fraction(1, 20)
#: fewer effective draws than this, and a variant's conditioned summaries are not written
MIN_EFFECTIVE_DRAWS = 30
# the values of observed.csv's ``conditioning`` column
USED, DISCREPANT, SUPERSEDED, LATER = "used", "discrepant", "superseded", "later"
#: a report dated by its month alone, of the as-of month: it may have come before the
#: as-of day or after it (:meth:`~sim.io.observations.Observation.after`), so it neither
#: conditions the draws nor counts as scored out of sample
AS_OF_MONTH = "as-of month"

# ---------------------------------------------------------------- results


_AT_MAX = 2**31 - 1  # (the int32 levels of a Distribution's ``at`` are below it)


def rank_stats(
    hist: NDArray[np.int64],
    obs: Any,
    accept: tuple[float, float],
    cum: NDArray[np.int64] | None = None,
    low: int = 0,
    at: NDArray[Any] | None = None,
) -> tuple[Fraction | None, bool, Fraction]:
    """From counts of each level in one month: the percentile rank of the observation's
    middle (None for an open-ended one, which has no middle), whether the observed
    range meets the exact 10th–90th percentile band, and the share of draws within
    ``accept`` (the range widened by the tolerance).

    ``hist`` is (m,): ``hist[i]`` draws at level ``low + i`` [troops] (from level 0
    unless told), or, with ``at`` (m,) (levels less ``low``, ascending, as
    :class:`Distribution` holds them), at level ``low + at[i]``; ``accept`` the
    accepted range [troops] (``±inf`` for an open end). The rank is the mid-rank
    ``100·(#below + ½ #equal)/n`` [%] (the module's docstring gives its source), the
    band's ends the inverse of the empirical distribution function (Hyndman & Fan
    1996, definition 1); the rank and the share are exact fractions, the share 0–1.
    ``cum``, when given, is ``numpy.cumsum(hist)`` (reused for reports of one month)."""
    if cum is None:
        cum = np.cumsum(hist)
    n = int(cum[-1])
    top = len(cum) - 1

    def upto(x: float) -> int:  # the draws at a level of at most x
        if x < low or x == math.inf:
            return 0 if x < low else n
        if at is not None:
            i = int(np.searchsorted(at, min(math.floor(x) - low, _AT_MAX), side="right"))
            return int(cum[i - 1]) if i else 0
        return n if x >= low + top else int(cum[math.floor(x) - low])

    def under(x: float) -> int:  # the draws at a level below x
        if x <= low or x == math.inf:
            return 0 if x <= low else n
        if at is not None:
            i = int(np.searchsorted(at, min(math.ceil(x) - low, _AT_MAX), side="left"))
            return int(cum[i - 1]) if i else 0
        return n if x > low + top else int(cum[math.ceil(x) - 1 - low])

    def level(i: int) -> int:  # the level of counts[i]
        return low + (i if at is None else int(at[i]))

    rank = None
    if obs.bounded:
        ref = obs.reference
        below = under(ref)
        equal = upto(ref) - below if ref == int(ref) else 0
        rank = Fraction(200 * below + 100 * equal, 2 * n)  # [%], exact
    p10, p90 = (level(inverse_cdf_row(cum, q, n)) for q in (10, 90))
    lo = -math.inf if obs.low is None else obs.low
    hi = math.inf if obs.high is None else obs.high
    inside = max(upto(accept[1]) - under(accept[0]), 0)
    return rank, bool(lo <= p90 and hi >= p10), Fraction(inside, n)


@dataclass
class Conditioned:
    """Summaries of the draws weighted by how well they fit the known observations.

    effective : per variant, Kish's effective number of draws (``(Σ w)² / Σ w²``,
        Kish 1965), from 1 up to ``draws``;
    bands, dates : the columns of :attr:`sim.Result.bands` and
        :attr:`sim.Result.dates`, weighted, of the variants with at least
        ``minimum`` effective draws;
    p_met : ``(variant, milestone) ->`` the weighted share (0–1) of draws that
        meet it by the original deadline, of those variants too.
    """

    bands: pd.DataFrame | None
    dates: pd.DataFrame | None
    p_met: dict[tuple[str, str], float]  # (variant, milestone) -> weighted share
    effective: dict[str, float]
    draws: int
    error: Fraction = ERROR_RATE
    minimum: int = MIN_EFFECTIVE_DRAWS
    used: dict[str, int] = field(default_factory=dict)  # reports that condition, per variant

    @property
    def variants(self) -> list[str]:
        """The variants with enough effective draws to summarise."""
        return [v for v, e in self.effective.items() if e >= self.minimum]

    @property
    def too_few(self) -> list[str]:
        """The variants left out: fewer than ``minimum`` effective draws."""
        return [v for v, e in self.effective.items() if e < self.minimum]

    def table(self, scenario: str) -> pd.DataFrame:
        """The rows of ``conditioning.csv``: ``scenario,variant,draws,effective_draws``."""
        return pd.DataFrame(
            {
                "scenario": scenario,
                "variant": list(self.effective),
                "draws": self.draws,
                "effective_draws": [round(e, 3) for e in self.effective.values()],
            },
            columns=["scenario", "variant", "draws", "effective_draws"],
        )


def shorter_naming(names: Sequence[str], among: Sequence[str]) -> tuple[bool, list[str]]:
    """How to name ``names`` of ``among`` in fewer words: ``(False, names)``, or
    ``(True, others)`` for "all but the others" (``(True, [])``: all of them)."""
    others = [v for v in among if v not in names]
    if not others or len(others) < len(names):
        return True, others
    return False, list(names)


@dataclass
class Assessment:
    """Observations scored against a run (and, optionally, the ensemble conditioned on them).

    table : the rows of ``observed.csv``, one per observation and variant (columns in
    docs/observations.md: ``level`` [troops], ``percentile_rank`` [%],
    ``p_consistent`` a share 0–1 …); conditioned : None unless conditioning was
    asked; as_of : the as-of date (None: every observation is known).
    """

    observations: ObservationSet
    tolerance: Tolerance
    table: pd.DataFrame
    conditioned: Conditioned | None = None
    draws: int | None = None
    as_of: dt.date | None = None
    notes: list[str] = field(default_factory=list)
    # (variant, observation index) -> the distribution of the level it is compared with
    distributions: dict[tuple[str, int], Distribution] = field(default_factory=dict, repr=False)
    # (scenario id, seed, Result.made_digest()) of the run scored: with_observations
    # refuses the assessment on another run (None: not known)
    of_run: tuple[str, int | None, str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """One line, not every observation and score: ``.table`` holds them."""
        variants = self.table["variant"].nunique() if "variant" in self.table else 0
        draws = f", {self.draws:,} draws" if self.draws else ", the central run"
        c = self.conditioned
        weighed = ""
        if c is not None and c.effective:
            low, high = min(c.effective.values()), max(c.effective.values())
            spread = f"{low:,.1f}" if low == high else f"{low:,.1f} to {high:,.1f}"
            weighed = f"; conditioned, effective draws {spread}"
        known = f", as of {self.as_of.isoformat()}" if self.as_of is not None else ""
        return (
            f"<Assessment: {len(self.observations):,} observations from "
            f"{self.observations.origin} scored against {variants} "
            f"variant{'' if variants == 1 else 's'}{draws}"
            f"{known}, tolerance {self.tolerance}{weighed}; .table holds the scores>"
        )

    def distribution(self, variant: str, index: int) -> Distribution | None:
        """The ensemble's distribution (weighted when conditioned) of the level that
        observation ``index`` reports, in ``variant``; None when it was not compared
        (out of range, a target, or no ensemble)."""
        return self.distributions.get((variant, index))

    def discrepant(self) -> dict[str, list[str]]:
        """Per variant, the reports no draw comes near (``date theater``), left out."""
        out: dict[str, list[str]] = {}
        if "conditioning" in self.table:
            rows = self.table[self.table.conditioning == DISCREPANT]
            for v, d, t in zip(rows.variant, rows.date, rows.theater, strict=True):
                out.setdefault(str(v), []).append(f"{d} {t}")
        return out

    def left_out(self, variants: Sequence[str]) -> dict[str, list[Observation]]:
        """Each of ``variants``' reports left out of its weights as discrepant (no draw
        comes within its tolerance), in the observations' order; empty without
        conditioning. A conditioned fan rings them, on the PNG and on the page."""
        table = self.table
        if "conditioning" not in table:
            return {}
        items = self.observations.items
        return {  # (a variant's rows follow the observations' order)
            v: [
                o
                for o, c in zip(items, table[table.variant == v].conditioning, strict=False)
                if c == DISCREPANT
            ]
            for v in variants
        }

    def weighing(self, variants: Sequence[str]) -> dict[str, int]:
        """How many reports weigh each of ``variants``' draws: those that condition it
        (known, not superseded), less the discrepant ones, which no draw comes near and
        which are left out (0 without conditioning)."""
        c = self.conditioned
        far = self.discrepant() if c is not None else {}
        return {v: 0 if c is None else c.used.get(v, 0) - len(far.get(v, [])) for v in variants}

    def weighing_count(self, variants: Sequence[str]) -> str:
        """The number of reports that weigh the draws of ``variants`` (:meth:`weighing`),
        as a chart or page says it: ``"10"``, or ``"9–10"`` where they differ."""
        counts = list(self.weighing(variants).values()) or [0]
        low, high = min(counts), max(counts)
        return f"{low:,}" if low == high else f"{low:,}–{high:,}"

    def discrepant_reports(self, among: Sequence[str]) -> dict[str, tuple[bool, list[str]]]:
        """Per discrepant report (``date theater``, in date order), the variants of
        ``among`` it is discrepant in, named the shorter way (:func:`shorter_naming`)."""
        where: dict[str, list[str]] = {}
        for v, reports in self.discrepant().items():
            if v in among:
                for r in reports:
                    where.setdefault(r, []).append(v)
        return {r: shorter_naming(names, among) for r, names in sorted(where.items())}

    def record(self) -> dict[str, Any]:
        """What ``run.json`` says about the observations (under ``observed``)."""
        out: dict[str, Any] = {
            "origin": self.observations.origin,
            "sha256": self.observations.sha256,
            "observations": len(self.observations),
            "tolerance": self.tolerance.record(),
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
        }
        t = self.table
        # (counted with the variants' codes: a frame per variant, a groupby, or
        # pandas.factorize of a million rows took 20 to 35 MB for a moment)
        codes, variants, order = _coded(t.variant)
        scored = (t.status == SCORED).to_numpy()
        tallies = {
            "scored": scored,
            "consistent": scored & t.consistent.fillna(False).to_numpy(bool),
            "known": scored & t.known.to_numpy(bool),
        }
        sums = {
            name: np.bincount(codes[flags], minlength=len(variants))
            for name, flags in tallies.items()
        }
        out["variants"] = {
            str(variants[i]): {name: int(sums[name][i]) for name in tallies} for i in order
        }
        c = self.conditioned
        if c is not None:
            out["conditioning"] = {
                "draws": c.draws,
                "error_rate": str(c.error),
                "minimum_effective_draws": c.minimum,
                "effective_draws": {v: round(e, 3) for v, e in c.effective.items()},
                "reports_used": c.used,
                "discrepant": self.discrepant(),
                "left_out": c.too_few,
            }
        return out


def _coded(column: pd.Series) -> tuple[NDArray[Any], Any, list[int]]:
    """``(codes, values, order)`` of a column: each row's code (rows,), the values by
    code, and the codes in the order the rows first give them."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        # (where the code changes: the rows of a variant come together)
        starts = np.flatnonzero(np.diff(codes, prepend=codes[:1] - 1)) if len(codes) else codes
        return codes, column.cat.categories, list(dict.fromkeys(codes[starts].tolist()))
    codes, values = pd.factorize(column, sort=False)
    return codes, values, list(range(len(values)))


def observed_levels(
    columns: Mapping[str, Any], observations: ObservationSet
) -> dict[tuple[str, str, int], tuple[int, int]]:
    """The levels that ``observations`` are compared with, of the rows of ``columns``:
    ``(variant, series, month ordinal) -> (level, official figure)`` [whole troops], for
    the rows whose series and month some observation names (the rest are not held).

    ``columns`` holds ``variant``, ``theater`` (the series), ``month`` (month ordinals,
    :func:`sim.months.parse_month`'s), ``troops`` and, where the run has a reporting
    basis, ``official``, each (rows,), as :func:`sim.results.monthly_columns` gives a
    variant's; without ``official`` the official figure is the level."""
    wanted = {(o.theater, int(o.month)) for o in observations}
    theater = np.asarray(columns["theater"], dtype=object)
    month = np.asarray(columns["month"], dtype=np.int64)
    near = pd.Series(theater).isin({t for t, _ in wanted}).to_numpy() & np.isin(
        month, np.fromiter((m for _, m in wanted), np.int64, len(wanted))
    )
    at = np.flatnonzero(near)
    troops = np.asarray(columns["troops"], dtype=np.int64)[at]
    official = np.asarray(columns.get("official", columns["troops"]), dtype=np.int64)[at]
    return {
        key: (x, y)
        for key, x, y in zip(
            zip(
                np.asarray(columns["variant"], dtype=object)[at].tolist(),
                theater[at].tolist(),
                month[at].tolist(),
                strict=True,
            ),
            troops.tolist(),
            official.tolist(),
            strict=True,
        )
        if key[1:] in wanted
    }


def frame_columns(monthly: pd.DataFrame) -> dict[str, Any]:
    """The columns of a ``monthly`` frame as :func:`observed_levels` reads them."""
    columns = {
        "variant": monthly.variant.to_numpy(object),
        "theater": monthly.theater.to_numpy(object),
        "month": monthly.month.array.asi8 + PERIOD_ZERO,
        "troops": monthly.troops.to_numpy(np.int64),
    }
    if "official" in monthly:
        columns["official"] = monthly.official.to_numpy(np.int64)
    return columns


#: the most bytes of running sums of the reported quantities' counts that
#: :func:`assessment_rows` keeps for the quantities' other reports: 6,000 monthly
#: quantities of 1,501 levels each kept 72 MB (``monthly-10x600`` of
#: ``benchmarks/bench_records.py``, 391 MB at its peak conditioned), where 10,000
#: reports of 24 quantities of 100,001 levels (``crowded-24``) keep 19 MB
CUMS_BYTES = 32 << 20


def assessment_rows(
    variant: str,
    plan: Plan,
    levels: Mapping[tuple[str, str, int], tuple[int, int]],
    observations: ObservationSet,
    tol: Tolerance,
    vp: _Pass | None,
    conditioned: bool,
    as_of: dt.date | None,
) -> list[dict[str, Any]]:
    """The rows of ``observed.csv`` of one variant, one per observation, in the file's
    order: each compared with its level in ``levels`` (:func:`observed_levels`) and,
    with an ensemble, with the distribution of the draws (``vp``, the variant's pass);
    ``conditioned``: the ensemble was conditioned (its columns are filled)."""
    rows: list[dict[str, Any]] = []
    by_index = {c.index: (j, c) for j, c in enumerate(vp.checks)} if vp else {}
    cums: dict[int, NDArray[np.int64]] = {}  # by id of the shared counts
    held = 0  # their bytes
    for i, o in enumerate(observations):
        lo, hi = accepted(o, tol)
        row: dict[str, Any] = {
            "date": o.date,
            "theater": o.theater,
            "kind": o.kind,
            "variant": variant,
            "troops_low": o.low,
            "troops_high": o.high,
            "level": None,
            "consistent": None,
            "percentile_rank": None,
            "in_band80": None,
            "p_consistent": None,
            "conditioning": "",
            "p_consistent_conditioned": None,
            "status": OUT_OF_RANGE,
            "known": o.known(as_of),
            "month": o.month,
            "by": NO_MONTH if o.by is None else o.by,
            "accept_low": None if o.low is None else round(lo, 3),
            "accept_high": None if o.high is None else round(hi, 3),
            "tolerance": (o.tolerance or tol).text(),
            "source": o.source,
        }
        inside = 0 <= o.month - plan.start < plan.n_months
        pair = levels.get((variant, o.theater, o.month))
        if not o.is_level:
            row.update(status=NOT_A_LEVEL, accept_low=None, accept_high=None, tolerance="")
        elif inside and pair is not None:
            level = pair[1] if o.kind == OFFICIAL else pair[0]
            row.update(level=level, status=SCORED, consistent=lo <= level <= hi)
            hit = by_index.get(i)
            if hit is not None and vp is not None:
                j, c = hit
                hist = vp.counts[j]
                cum = cums.get(id(hist))
                if cum is None:  # (kept for the quantity's other reports, within a budget)
                    cum = cums[id(hist)] = np.cumsum(hist)
                    held += cum.nbytes
                    while held > CUMS_BYTES and len(cums) > 1:  # the oldest go first
                        held -= cums.pop(next(iter(cums))).nbytes
                low, at = vp.places[j] if vp.places else (0, None)
                rank, band, share = rank_stats(hist, o, (lo, hi), cum, low, at)
                row.update(
                    percentile_rank=None if rank is None else rounded_inside(rank, 1, 3, 100),
                    in_band80=bool(band),
                    p_consistent=rounded_inside(share, 1, SHARE_PLACES),
                )
                if conditioned:
                    row["conditioning"] = (
                        (LATER if as_of is None or o.after(as_of) else AS_OF_MONTH)
                        if not c.known
                        else SUPERSEDED
                        if not c.used
                        else DISCREPANT
                        if share == 0
                        else USED
                    )
                    weighted = vp.inside[j] if vp.conditioned else share
                    row["p_consistent_conditioned"] = rounded_inside(weighted, 1, SHARE_PLACES)
        rows.append(row)
    return rows


def observed_table(rows: list[dict[str, Any]], draws: bool, conditioned: bool) -> pd.DataFrame:
    """The ``observed.csv`` table of the rows of :func:`assessment_rows` (of every
    variant, in order): its columns those of a run with ``draws`` or without, and
    ``conditioned`` or not (docs/observations.md)."""
    columns = (
        OBSERVED_COLUMNS
        + (DRAW_COLUMNS if draws else [])
        + (CONDITION_COLUMNS if conditioned else [])
        + EXTRA_COLUMNS
    )
    table = pd.DataFrame(
        rows, columns=OBSERVED_COLUMNS + DRAW_COLUMNS + CONDITION_COLUMNS + EXTRA_COLUMNS
    )
    for col in ("troops_low", "troops_high", "level", "accept_low", "accept_high"):
        table[col] = table[col].astype("Float64")
    for col in ("level", "troops_low", "troops_high"):
        table[col] = table[col].round().astype("Int64")
    # (flags as booleans, missing where not compared; months as monthly periods, as
    # every other frame has them; written to CSV as true, false, blank and YYYY-MM)
    for col in ("consistent", "in_band80"):
        table[col] = table[col].astype("boolean")
    table["known"] = table["known"].astype(bool)
    for col in ("month", "by"):
        months = table[col].to_numpy(np.int64)
        periods = pd.Series(month_periods(months).array, index=table.index)
        table[col] = periods.where(months != NO_MONTH)  # (a target's by; else missing)
    return table[columns]


#: a row's ``by`` where its report is no target: missing in the table
NO_MONTH = -1


#: the columns of ``observed.csv`` that ``run.json`` (:meth:`Assessment.record`) and
#: the printed lines (:func:`sim.cli.text.observed_lines`) read
HELD_COLUMNS = [
    "date",
    "theater",
    "kind",
    "variant",
    "status",
    "consistent",
    "conditioning",
    "known",
    "source",
    "p_consistent_conditioned",
]

#: the values some of :data:`HELD_COLUMNS` take
_VALUES = {
    "kind": list(KINDS),
    "status": [SCORED, OUT_OF_RANGE, NOT_A_LEVEL],
    "conditioning": ["", USED, DISCREPANT, SUPERSEDED, LATER, AS_OF_MONTH],
}


def held_columns(
    table: pd.DataFrame, observations: ObservationSet, variants: list[str]
) -> pd.DataFrame:
    """The :data:`HELD_COLUMNS` of rows of ``observed.csv`` (``table``), each as
    categories of the values it can take (of ``observations``, of ``variants``), so
    that a frame of every variant's costs a few bytes a row, and frames of several
    variants' rows concatenate as categories; equal, value for value, to the columns
    (``p_consistent_conditioned``, a share, as float32; the flags as they are)."""
    values = {
        **_VALUES,
        "variant": variants,
        **{c: list(dict.fromkeys(r[c] for r in _items(observations))) for c in _OWN},
    }
    out = {}
    for c in (c for c in HELD_COLUMNS if c in table):
        column = table[c]
        if column.dtype in (bool, "boolean"):  # (a flag: a byte a row already)
            out[c] = column
            continue
        if c not in values:  # (a share: 4 bytes a row, enough for the lines that read it)
            out[c] = column.astype(np.float32)
            continue
        held = pd.Categorical(column, categories=values[c])
        # (a value of no category would read as missing: such a column is kept whole)
        out[c] = column if held.isna().any() else held
    return pd.DataFrame(out)


_OWN = ("date", "theater", "source")


def _items(observations: ObservationSet) -> Iterator[dict[str, Any]]:
    """Each observation's ``date``, ``theater`` and ``source`` as its rows hold them."""
    for o in observations:
        yield {"date": o.date, "theater": o.theater, "source": o.source}


def distributions_of(passes: Mapping[str, _Pass]) -> dict[tuple[str, int], Distribution]:
    """``(variant, observation index) -> `` the distribution of the level it is compared
    with, of every check of every pass (:attr:`Assessment.distributions`)."""
    return {
        (v, c.index): d
        for v, vp in passes.items()
        for c, d in zip(vp.checks, vp.distributions, strict=True)
    }


@dataclass
class _Pass:
    """What one variant's pass over the draws found out about the observations: small
    results only, so that the counts of one variant are held at a time."""

    checks: list[Check]
    # per check, (levels,) counts of the compared level over every draw; the checks of
    # one quantity share one array (Observer.all_counts)
    counts: list[NDArray[np.int64]]
    # per check, where its counts lie: (low, at) as rank_stats takes them; none: levels 0..
    places: list[tuple[int, NDArray[Any] | None]] = field(default_factory=list)
    conditioned: bool = False  # some known report weighted the draws
    effective: float = 0.0
    inside: list[Fraction] = field(default_factory=list)  # weighted share within tolerance
    bands: BandColumns | None = None  # the weighted summaries, with enough effective draws
    dates: list[dict[str, Any]] | None = None
    p_met: list[float] = field(default_factory=list)
    # per check, the (weighted) counts of the compared level over the levels it takes
    # (one object for the checks of one quantity)
    distributions: list[Distribution] = field(default_factory=list)


@dataclass(frozen=True)
class Distribution:
    """The distribution of the level a report is compared with, in one variant.

    low : int
        The lowest level some draw takes [troops].
    parts : numpy.ndarray of int, shape (p, n)
        The counts of the levels held (``at``) as whole-number parts,
        ``Σ_j parts[j] · 2^(bits · j)``: one part of draws, or, when conditioned, the
        parts of their exact integer weights ``w_k`` (:meth:`Weighted.weigh_parts`),
        8 bytes a level each where a Python int takes 28 or more.
    bits : int
        The bits each part is shifted by from the one before (0 for one part).
    at : numpy.ndarray of int32, shape (n,), or None
        The levels held, less ``low``, ascending: those some draw takes, where most
        levels of the range are not taken (each then costs 4 bytes more and a level
        no draw takes costs nothing); None when every level ``low .. low + n - 1`` is
        held.
    """

    low: int
    parts: NDArray[Any]
    bits: int = 0
    at: NDArray[np.int32] | None = None

    @property
    def counts(self) -> NDArray[Any]:
        """``counts[i]``: draws (or, when conditioned, their exact integer weights) at
        level ``low + i``, from ``low`` to the highest level some draw takes: int64 for
        one part, else Python ints."""
        values = self._values()
        return values if self.at is None else self._spread(values, 0)

    def full(self) -> NDArray[Any]:
        """The counts of levels ``0 ..`` (zeros below ``low``), as exact integers."""
        return self._spread(self._values().astype(object), self.low)

    def _values(self) -> NDArray[Any]:
        """The counts of the levels held: the one part, or the parts joined."""
        return self.parts[0] if len(self.parts) == 1 else joined(self.parts, self.bits)

    def _spread(self, values: NDArray[Any], low: int) -> NDArray[Any]:
        """``values`` (n,) at their levels less ``self.low`` plus ``low``, zeros elsewhere
        and below ``low``."""
        at = np.arange(len(values)) if self.at is None else self.at.astype(np.int64)
        out = np.zeros(low + int(at[-1]) + 1, values.dtype)
        out[low + at] = values
        return out


def _trimmed(parts: NDArray[Any], bits: int = 0, offset: int = 0) -> Distribution:
    """The distribution of the counts ``Σ_j parts[j] · 2^(bits · j)`` (parts (p, levels),
    none below 0) of levels ``offset ..``, from the lowest level some draw takes to the
    highest (a level is taken when some part is not 0, as none is below 0): every level
    of that range, or only those taken where that takes fewer bytes."""
    taken = np.flatnonzero(parts.any(axis=0))
    first, last = (int(taken[0]), int(taken[-1])) if len(taken) else (0, 0)
    size = 8 * len(parts)  # bytes a level of parts
    if 0 < len(taken) * (size + 4) < (last - first + 1) * size and last - first < 2**31:
        at = (taken - first).astype(np.int32)
        return Distribution(offset + first, parts[:, taken], bits, at)
    return Distribution(offset + first, parts[:, first : last + 1].copy(), bits)


def _handed(low: int, counts: NDArray[np.int64], levels: NDArray[np.int64] | None) -> Distribution:
    """The distribution of a quantity's counts as a
    :class:`~sim.analysis.conditioning.LevelTally` hands them over (``counts`` of every
    level from ``low``, or of the ascending ``levels``), held as :func:`_trimmed` holds
    the same counts taken level by level: every level of the range, or the levels
    taken where that takes fewer bytes."""
    if levels is None:  # (every level low .. low + len - 1, the ends taken)
        taken = np.flatnonzero(counts)
        size = counts.shape[0]
        if taken.shape[0] * 12 < size * 8 and size - 1 < 2**31:  # (as _trimmed chooses)
            return Distribution(low, counts[taken][None], 0, taken.astype(np.int32))
        return Distribution(low, counts[None], 0)
    first, size = int(levels[0]), int(levels[-1]) - int(levels[0]) + 1
    if levels.shape[0] * 12 < size * 8 and size - 1 < 2**31:  # (as _trimmed chooses)
        return Distribution(first, counts[None], 0, (levels - first).astype(np.int32))
    every = np.zeros((1, size), np.int64)
    every[0, levels - first] = counts
    return Distribution(first, every, 0)


def _finish(
    observer: Observer | LevelTally, error: Fraction, scenario: str, variant: str, draws: int
) -> _Pass:
    # the reports of one quantity (many of a month, say) share its counts and its
    # distribution: what is held grows with the quantities, not with the reports
    shared: dict[int, Distribution] = {}
    if isinstance(observer, LevelTally):  # a force too large to count level by level
        made = {key: _handed(*block) for key, block in observer.handed()}
        # (one array per quantity: its reports share it, and so its running sums)
        rows = {key: d.parts[0] for key, d in made.items()}
        keys = [quantity_key(c) for c in observer.checks]
        vp = _Pass(observer.checks, [rows[k] for k in keys], effective=float(draws))
        vp.places = [(made[k].low, made[k].at) for k in keys]
        vp.distributions = [made[k] for k in keys]
        return vp
    if not observer.condition:
        vp = _Pass(observer.checks, observer.all_counts(), effective=float(draws))
        for row in vp.counts:
            if id(row) not in shared:
                shared[id(row)] = _trimmed(row[None])
            vp.distributions.append(shared[id(row)])
        return vp
    w = Weighted(observer.acc, error)
    effective = float(w.effective)
    # the weighted summaries first, so that their blocks of months are not held beside
    # every quantity's counts and weighted distribution (kept for the assessment)
    summaries = None
    if effective >= MIN_EFFECTIVE_DRAWS:
        summaries = w.band_columns(scenario, variant), w.date_rows(scenario, variant), w.p_met()
    vp = _Pass(observer.checks, observer.all_counts(), effective=float(draws))
    # the checks of each quantity together, so that one quantity's running sums are held
    # at a time
    together: dict[int, list[int]] = {}
    for j, every in enumerate(vp.counts):
        together.setdefault(id(every), []).append(j)
    inside: list[Fraction] = [Fraction(0)] * len(vp.counts)
    distributions: dict[int, Distribution] = {}
    for js in together.values():
        every, checks = vp.counts[js[0]], [observer.checks[j] for j in js]
        slots = observer.slot_counts(checks[0])
        # weighed over the levels some draw takes only (exact integers are slow): every
        # draw weighs more than 0, so those are the levels of the draws unweighted
        taken = np.flatnonzero(every)
        low = int(taken[0]) if len(taken) else 0
        top = int(taken[-1]) + 1 if len(taken) else 1
        distribution = _trimmed(*w.weigh_parts(slots[:, low:top].T), offset=low)
        # each slot's draws at a level of at most L - 1, at column L - low, for the levels
        # some draw takes (low..top - 1): below them none, above them all
        below = np.zeros((slots.shape[0], top - low + 1), np.int64)
        np.cumsum(slots[:, low:top], axis=1, out=below[:, 1:])
        for j, c in zip(js, checks, strict=True):
            # the levels within the accepted range [c.lo, c.hi]: a slice of the columns
            first = min(max(math.ceil(c.lo), 0), observer.width) if c.lo > -math.inf else 0
            last = (
                min(math.floor(c.hi), observer.width - 1) if c.hi < math.inf else observer.width - 1
            )
            # (columns of ``below``: the levels some draw takes, low..top - 1)
            a, b = (min(max(x, low), top) - low for x in (first, max(last + 1, first)))
            inside[j] = w.share(below[:, b] - below[:, a])
            distributions[j] = distribution
        del below  # (before the next quantity's is made)
    vp.inside = inside
    vp.distributions = [distributions[j] for j in range(len(vp.counts))]
    vp.conditioned, vp.effective = True, effective
    if summaries is not None:
        vp.bands, vp.dates, vp.p_met = summaries
    return vp


#: what a conditioning refused for its memory may do instead, as ``forcesim run`` is told
CONDITION_ADVICE = (
    "condition on fewer reports (an earlier --as-of), widen --tolerance, or score them "
    "without --condition"
)


class Scoring:
    """Observations scored against a run a variant at a time, and, with draws, the
    ensemble conditioned on them in its own pass over the draws: the makers of each
    variant's chunk consumer and what is done with it after its pass (:meth:`options`,
    for :func:`sim.analysis.ensemble.variant_summaries`), then each variant's rows of
    ``observed.csv`` (:meth:`score`) and conditioned summaries
    (:meth:`condition_variant`), as they come.

    With ``keep`` (as :func:`observe_ensemble` scores), every variant's rows and the
    distributions of its compared levels are held, for :meth:`assessment`. Without
    (as :func:`sim.export.stream.stream_run` writes each variant's rows as they are
    made), :meth:`score` hands each variant's rows out to be written, and only the
    columns of ``observed.csv`` that ``run.json`` and the printed lines read are held
    (:data:`HELD_COLUMNS`, as categories: a few bytes a row), and no distribution.

    ``tol``, ``as_of`` and ``error`` are checked already (:func:`scoring_of` checks
    them); ``milestones`` (the central runs' rows) are needed with draws only."""

    def __init__(
        self,
        scenario: Scenario,
        plans: dict[str, Plan],
        milestones: pd.DataFrame | None,
        names: list[str],
        observations: ObservationSet,
        tol: Tolerance,
        *,
        draws: int | None,
        condition: bool,
        as_of: dt.date | None,
        error: Fraction,
        keep: bool = True,
    ) -> None:
        self.scenario, self.plans, self.milestones = scenario, plans, milestones
        self.observations, self.tol, self.as_of, self.error = observations, tol, as_of, error
        self.draws, self.condition, self.keep = draws, condition, keep
        self.names = list(names)
        self._used: dict[str, int] = {}  # reports that condition, per variant (made once)
        self.passes: dict[str, _Pass] = {}
        self.rows: list[dict[str, Any]] = []
        self.held: list[pd.DataFrame] = []
        self.conditioned = (
            Conditioned(None, None, {}, {}, draws or 0, error, used={}) if condition else None
        )

    def options(self) -> dict[str, Any]:
        """``makers``, ``slots`` and ``done`` for
        :func:`~sim.analysis.ensemble.variant_summaries` (and :func:`run_ensemble`)."""
        milestones = self.milestones
        assert milestones is not None  # (a pass over draws)
        # each variant's checks are made with its consumer (and let go with its pass): of
        # 10,000 reports, 100 variants' checks held at once took some 300 MB
        return {
            "makers": {
                v: partial(
                    _observer,
                    self.plans[v],
                    milestones[milestones.variant == v],
                    self.observations,
                    self.tol,
                    self.as_of,
                    self.condition,
                )
                for v in self.names
            },
            "slots": _Slots(self) if self.condition else {v: 1 for v in self.names},
            "done": self.done,
        }

    def used(self, name: str) -> int:
        """How many reports condition variant ``name`` (its checks made, counted and let go;
        the count kept)."""
        if name not in self._used:
            checks = checks_for(self.plans[name], self.observations, self.tol, self.as_of)
            self._used[name] = sum(c.used for c in checks)
        return self._used[name]

    def done(self, name: str, observer: Observer | LevelTally) -> None:
        """After a variant's pass: what it found out (its counts go after this)."""
        assert self.draws is not None  # (a pass over draws)
        self.passes[name] = _finish(observer, self.error, self.scenario.id, name, self.draws)
        observer.release()  # (before the plain summaries of the same draws are made)

    def refusal(
        self, e: TooManySlots | TallyTooLarge, advice: str = CONDITION_ADVICE
    ) -> ScenarioError:
        """The error of a conditioning whose tagged counts would take too much memory, or
        of scoring reports of a force too large to count level by level whose
        quantities' counts would (:class:`~sim.analysis.conditioning.LevelTally`)."""
        if isinstance(e, TallyTooLarge):
            expected = (
                "reports whose levels the draws spread over fewer troops, to score them "
                "against a force this large (the draws at each level of each reported "
                f"quantity are counted: at most {_size(e.limit)} of counts in all)"
            )
            found = (
                f"counts past {_size(e.limit)} for the {e.quantities:,} quantities "
                f"reported of {self.scenario.id} (levels or official figures in a month); "
                "score fewer reports at once, or with fewer draws"
            )
        else:
            expected = (
                "draws that miss fewer different numbers of reports, to condition on them "
                "(the draws are counted apart for each number of reports they miss: at "
                f"most {_size(e.limit)} of counts in all)"
            )
            found = (
                f"draws of {self.scenario.id} that miss from {e.low:,} to {e.high:,} of the "
                f"{max(self.used(v) for v in self.names):,} reports counted"
                + ("" if self.as_of is None else f" as of {self.as_of.isoformat()}")
                + ", "
                f"{_size(e.size)} of counts; {advice}"
            )
        return ScenarioError(
            expected, found, file=self.observations.origin, line=1, col=1, path="(rows)"
        )

    def score(
        self, name: str, levels: Mapping[tuple[str, str, int], tuple[int, int]]
    ) -> pd.DataFrame | None:
        """Score the observations against variant ``name`` (after its pass, with draws),
        its levels in ``levels`` (:func:`observed_levels`); its counts are let go.
        Without ``keep``: returns its rows of ``observed.csv`` (a frame, to be written:
        the rows :meth:`assessment` would give it), and holds only their
        :data:`HELD_COLUMNS`; with ``keep``, holds them and returns None."""
        vp = self.passes.get(name)
        rows = assessment_rows(
            name,
            self.plans[name],
            levels,
            self.observations,
            self.tol,
            vp,
            self.conditioned is not None,
            self.as_of,
        )
        if vp is not None:
            vp.counts, vp.places = [], []
        if self.keep:
            self.rows += rows
            return None
        table = observed_table(rows, bool(self.draws), self.conditioned is not None)
        self.held.append(held_columns(table, self.observations, list(self.plans)))
        return table

    def forget(self, name: str) -> None:
        """Without ``keep``: let variant ``name``'s pass go (once it is scored and its
        conditioned summaries are made)."""
        if not self.keep:
            self.passes.pop(name, None)

    def condition_variant(self, name: str, plain: tuple[Any, Any, Any]) -> tuple[Any, Any] | None:
        """The conditioned ``bands`` and ``dates`` of variant ``name`` after its pass, as
        :class:`~sim.analysis.summaries.BandColumns` and date rows (:func:`bands_of` and
        :func:`dates_of` make them frames), its ``p_met`` and effective draws noted on
        :attr:`conditioned`; None when it has fewer than :data:`MIN_EFFECTIVE_DRAWS`
        effective draws. A variant with no known report to weigh its draws by has its
        plain summaries, every draw weighing the same: ``plain`` (its bands and dates, in
        whatever form the caller holds them, and its ``p_met``, a share per milestone)."""
        cond, vp = self.conditioned, self.passes[name]
        assert cond is not None
        cond.effective[name] = vp.effective
        cond.used[name] = sum(c.used for c in vp.checks) if vp.conditioned else 0
        milestones = self.plans[name].milestones
        if vp.effective < cond.minimum:
            return None
        if not vp.conditioned:
            bands, dates, p_met = plain
            cond.p_met |= {(name, m.id): float(p) for m, p in zip(milestones, p_met, strict=True)}
            return bands, dates
        if vp.bands is None or vp.dates is None:
            return None
        cond.p_met |= {(name, m.id): p for m, p in zip(milestones, vp.p_met, strict=True)}
        parts = vp.bands, vp.dates
        vp.bands = vp.dates = None  # (the caller's now: not held here too)
        return parts

    def assessment(self) -> Assessment:
        """The observations scored against every variant so far: the rows of
        :meth:`score` (without ``keep``, their :data:`HELD_COLUMNS` only) and the
        conditioned summaries' effective draws, ``p_met`` and reports used (not their
        bands and dates: the caller that wrote them sets those)."""
        if self.keep or not self.held:
            table = observed_table(self.rows, bool(self.draws), self.conditioned is not None)
            table = table if self.keep else table[[c for c in HELD_COLUMNS if c in table]]
        else:
            table = pd.concat(self.held, ignore_index=True)
        return Assessment(
            self.observations,
            self.tol,
            table,
            self.conditioned,
            self.draws,
            self.as_of,
            [],
            distributions_of(self.passes),
        )


# ---------------------------------------------------------------- the public functions


class Hindsight(ForcesimWarning):
    """An as-of date before the scenario's own ``as_of``: the run's numbers were set
    knowing reports it scores and weighs as unknown."""


def _today() -> dt.date:
    """Today's date, by this machine's clock."""
    return dt.date.today()


class Foresight(ForcesimWarning):
    """An as-of date after today: nothing is known yet of the days between, so the run
    weighs every report on record, as it would as of today."""


def _as_of(value: Any, scenario: Scenario, file: str, path: str) -> dt.date | None:
    """The as-of date ``value`` (:func:`parse_as_of`), with a :class:`Foresight` warning
    where it is after today, and a :class:`Hindsight` warning where it is before the
    scenario's own ``as_of``: the scenario's numbers were set
    knowing what was public until then, so the reports after the date given are scored
    and weighed as unknown by a scenario that knew them (hindsight: only a scenario
    dated by then, a vintage, projects as of that day)."""
    if value is None:
        return None
    doc = scenario.doc
    day = parse_as_of(value, doc.calendar.start, doc.calendar.end, file=file, path=path)
    own = scenario.as_of_day
    if day < own:
        warnings.warn(
            Hindsight(
                f"the as-of date {day.isoformat()} is before the scenario's own as_of, "
                f"{own.isoformat()}: its numbers were set knowing what was reported until "
                f"then, so this is not a projection that could have been made on "
                f"{day.isoformat()}; only a scenario dated by then (a vintage) is such a projection"
            ),
            stacklevel=3,
        )
    today = _today()
    # (a month given, YYYY-MM, stands for its last day: this month is no date to come)
    month_given = isinstance(value, str) and len(value.strip()) == 7
    later = (day.year, day.month) > (today.year, today.month) if month_given else day > today
    if later:  # (a year mistyped, most often: 2027 for 2025)
        warnings.warn(
            Foresight(
                f"the as-of date {day.isoformat()} is after today, {today.isoformat()}: "
                f"nothing is known yet of the days between, so every report on record is "
                f"weighed, as of today; give the date of the news to project from it"
            ),
            stacklevel=3,
        )
    return day


def check_observed(
    scenario: Scenario, observations: Any, name: str = "observations"
) -> ObservationSet:
    """``observations`` read or checked against ``scenario``, as :func:`sim.run` takes
    them: the path of a CSV file is read with :func:`sim.load_observations`; an
    ObservationSet (read with no scenario, or for another one), or the one an
    :class:`Assessment` scored (a run's ``observed``, as :func:`sim.load_run` reads it
    back), is checked as that checks a file, each row's theater (or site) one of some
    variant's of the scenario.

    Raises
    ------
    TypeError
        For anything but an ObservationSet, an Assessment or a path (the message names
        ``name``).
    sim.ScenarioError
        A bad row of the file; or at the observations' file, the first row of a theater
        the scenario lacks.
    """
    from sim.scenario import load_observations, series_of

    if isinstance(observations, str | os.PathLike):  # checked as the file is read
        return load_observations(os.fspath(observations), scenario)
    if isinstance(observations, Assessment):  # (a run's, or sim.load_run's: what it scored)
        observations = observations.observations
    if not isinstance(observations, ObservationSet):
        raise TypeError(
            f"{name} takes an ObservationSet (sim.load_observations), a run's scored "
            f"observations (its .observed) or the path of a CSV file, not "
            f"{type(observations).__name__}"
        )
    allowed = series_of([scenario])
    for o in observations:
        if o.theater not in allowed:
            expected, found = unknown_series(o.theater, allowed)
            raise ScenarioError(
                expected,
                f"{found} (the report of {o.date}; read for another scenario?)",
                file=observations.origin,
                path="theater",
            )
    return observations


def _error_rate(value: Any) -> Fraction:
    if value is None:
        return ERROR_RATE
    try:
        rate = Fraction(str(value)) if not isinstance(value, Fraction) else value
    except (ValueError, ZeroDivisionError):
        rate = Fraction(-1)
    if not 0 < rate < 1:
        raise ScenarioError(
            "a chance that a report is wrong, between 0 and 1 (exclusive)",
            repr(value),
            file="<arguments>",
            path="error",
        )
    return rate


def observe_ensemble(
    result: Result,
    observations: ObservationSet,
    tolerance: Tolerance | str | None = None,
    *,
    draws: int,
    seed: int,
    condition: bool = False,
    as_of: Any = None,
    error: Any = None,
    chunk: int | None = None,
    progress: bool | None = None,
    keep_counts: bool = False,
    executor: Executor | None = None,
    advice: str = CONDITION_ADVICE,
) -> Result:
    """Run the ensemble of a deterministic ``result`` and score (and condition on)
    observations in the same pass over the draws; returns the ensemble
    :class:`Result` with the :class:`Assessment` attached (:func:`with_observations`).
    With ``executor``, the draws run as parts elsewhere and their counts are merged.
    ``advice``: what a conditioning refused for its memory says to do instead (the
    options of the command that runs it).

    The plain summaries are those :func:`sim.run` gives for the same draws and seed,
    to the byte; conditioning splits the same draws by how many reports they miss
    and adds the counts back up for the plain summaries.
    """
    draws, seed = check_args(draws, seed, chunk)
    scoring = scoring_of(
        result.scenario,
        result.plans,
        result.milestones,
        result.variants,
        observations,
        tolerance,
        draws=draws,
        condition=condition,
        as_of=as_of,
        error=error,
    )
    try:
        ensemble = run_ensemble(
            result,
            draws=draws,
            seed=seed,
            chunk=chunk,
            progress=progress,
            keep_counts=keep_counts,
            executor=executor,
            **scoring.options(),
        )
    except (TooManySlots, TallyTooLarge) as e:
        raise scoring.refusal(e, advice) from None
    levels = observed_levels(frame_columns(ensemble.monthly), observations)
    bands: list[Any] = []
    dates: list[Any] = []
    for v in ensemble.variants:
        scoring.score(v, levels)
        if scoring.conditioned is None:
            continue
        assert ensemble.bands is not None and ensemble.dates is not None
        ms = ensemble.milestones[ensemble.milestones.variant == v]
        plain = (
            ensemble.bands[ensemble.bands.variant == v],
            ensemble.dates[ensemble.dates.variant == v],
            ms.p_met,
        )
        parts = scoring.condition_variant(v, plain)
        if parts is not None:
            bands.append(parts[0])
            dates.append(parts[1])
    assessment = scoring.assessment()
    if assessment.conditioned is not None and bands:
        assessment.conditioned.bands = parts_frame(bands, bands_of)
        assessment.conditioned.dates = parts_frame(dates, dates_of)
    assessment.of_run = run_of(ensemble)
    return with_observations(ensemble, assessment)


def run_of(result: Result) -> tuple[str, int | None, str]:
    """:attr:`Assessment.of_run` of an assessment of ``result``."""
    return result.scenario.id, result.seed, result.made_digest()


def _observer(
    plan: Plan,
    milestones: pd.DataFrame,
    observations: ObservationSet,
    tol: Tolerance,
    as_of: dt.date | None,
    condition: bool,
) -> Observer | LevelTally:
    """A variant's fresh :class:`~sim.analysis.conditioning.Observer` (or, for a force
    too large to count level by level, :class:`~sim.analysis.conditioning.LevelTally`),
    its checks made now (a picklable maker, for :func:`sim.analysis.chunks.consume_all`)."""
    return observer_of(plan, milestones, checks_for(plan, observations, tol, as_of), condition)


class _Slots(Mapping[str, int]):
    """``slots`` of a conditioned :class:`Scoring`: each variant's tags, one more than
    the reports that condition it, counted when asked (:meth:`Scoring.used`)."""

    def __init__(self, scoring: Scoring) -> None:
        self.scoring = scoring

    def __getitem__(self, name: str) -> int:
        if name not in self.scoring.plans:
            raise KeyError(name)
        return 1 + self.scoring.used(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self.scoring.names)

    def __len__(self) -> int:
        return len(self.scoring.names)


def refuse_run_options(
    observed: Any, observing: dict[str, Any], draws: int | None, seed: int | None
) -> None:
    """Refuse, as :func:`sim.run` does, observation options (``observing``: those given,
    by name) without ``observed``, a ``seed`` without ``draws``, and ``condition``
    without ``draws``.

    Raises
    ------
    sim.ScenarioError
        At ``<arguments>``, naming the first option given of the kind refused."""
    if observing and observed is None:
        raise ScenarioError(
            "observed= with " + ", ".join(f"{k}=" for k in observing),
            "no observations",
            file="<arguments>",
            path=next(iter(observing)),
        )
    if seed is not None and draws is None:
        raise ScenarioError(
            "draws= together with seed= (a seed alone runs nothing random)",
            f"seed={seed!r} without draws",
            file="<arguments>",
            path="seed",
        )
    if observing.get("condition") and draws is None:
        raise ScenarioError(
            "draws= and seed= with condition=True (it conditions an ensemble)",
            "no draws",
            file="<arguments>",
            path="condition",
        )
    refuse_error_alone(observing.get("error"), observing.get("condition"))


def refuse_error_alone(error: Any, condition: Any) -> None:
    """Refuse, as the command refuses ``--error-rate`` without ``--condition``, an
    ``error`` given without ``condition=True``: it weighs the reports a draw misses,
    which only conditioning does (given alone, it was ignored)."""
    if error is not None and not condition:
        raise ScenarioError(
            "condition=True with error= (it weighs the reports a draw misses)",
            f"error={error!r} without condition=True",
            file="<arguments>",
            path="error",
        )


def scoring_of(
    scenario: Scenario,
    plans: dict[str, Plan],
    milestones: pd.DataFrame | None,
    names: list[str],
    observations: ObservationSet,
    tolerance: Tolerance | str | None = None,
    *,
    draws: int | None,
    condition: bool = False,
    as_of: Any = None,
    error: Any = None,
    keep: bool = True,
) -> Scoring:
    """The :class:`Scoring` of ``observations`` against the ensemble of ``draws`` draws of
    the variants ``names`` (their ``plans`` and ``milestones`` rows), or against their
    central runs when ``draws`` is None (``milestones`` then unused), its options
    checked as :func:`score_observations` checks them; ``keep`` as :class:`Scoring`
    takes it.

    Raises
    ------
    sim.ScenarioError
        At ``<arguments>``: a bad ``tolerance``, ``as_of`` or ``error``; at the
        scenario's ``theaters`` key: conditioning with draws on a force too large to
        count level by level (:func:`sim.analysis.wide.require_dense`)."""
    tol = (
        tolerance
        if isinstance(tolerance, Tolerance)
        else parse_tolerance(tolerance, file="<arguments>", path="tolerance")
    )
    if condition and draws is not None:  # (scored, a force that large is; not conditioned)
        for name in names:
            require_dense(
                plans[name],
                name,
                scenario,
                "conditioning on observations",
                "a plain run, and one scoring them without conditioning, take larger ones",
            )
    return Scoring(
        scenario,
        plans,
        milestones,
        names,
        observations,
        tol,
        draws=draws,
        condition=condition,
        as_of=_as_of(as_of, scenario, "<arguments>", "as_of"),
        error=_error_rate(error),
        keep=keep,
    )


def parts_frame(parts: list[Any], make: Any) -> pd.DataFrame:
    """One frame of the variants' ``parts`` in order, each a frame or what ``make``
    (:func:`bands_of` or :func:`dates_of`) makes one of: the frame ``make`` gives of
    them all when none is a frame yet (``pandas.concat`` of each part's own frame)."""
    if not any(isinstance(p, pd.DataFrame) for p in parts):
        return make(parts)
    if len(parts) == 1:
        return parts[0]
    frames = [p if isinstance(p, pd.DataFrame) else make([p]) for p in parts]
    with warnings.catch_warnings():
        # (pandas before 3 warns of all-NA columns left out of the dtypes: the rows are
        # the same either way)
        warnings.filterwarnings("ignore", "The behavior of DataFrame concatenation", FutureWarning)
        return pd.concat(frames, ignore_index=True)


def _size(size: int) -> str:
    """A number of bytes as people read it: ``512 MB``, ``1,204 MB``, ``64 kB``."""
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{max(size >> 10, 1):,} kB"


def score_observations(
    result: Result,
    observations: ObservationSet | str | os.PathLike[str],
    tolerance: Tolerance | str | None = None,
    *,
    condition: bool = False,
    as_of: Any = None,
    error: Any = None,
    chunk: int | None = None,
    progress: bool | None = None,
) -> Assessment:
    """Score observed levels against every variant of a run, and optionally condition
    its ensemble on them.

    Parameters
    ----------
    result : Result
        A run (deterministic, or an ensemble: ``result.draws`` set).
    observations : ObservationSet or path
        From :func:`load_observations` (or a scenario's own, ``scenario_observations``),
        or the path of its CSV file, read against the result's scenario.
    tolerance : Tolerance or str, optional
        How far outside an observed range still counts as consistent: ``"5%"``
        (the default, of each bound) or a number of troops (``"200"``); a row's own
        ``tolerance`` takes precedence.
    condition : bool
        Also summarise the draws weighted by how well they fit the observations
        known on ``as_of`` (needs an ensemble): each report is taken to be right
        within its tolerance with probability ``1 − error``, so a draw missing
        ``k`` reports weighs ``error^k`` (docs/observations.md).
    as_of : str or datetime.date, optional
        ``YYYY-MM-DD`` or ``YYYY-MM`` (the month's last day), within the scenario's
        calendar: only observations made public on or before it condition; the
        later ones are scored out of sample (one dated by the as-of month alone
        does neither). Default: every observation is known.
    error : fraction, float or str, optional
        The chance ``ε`` that a report is wrong, 0 < ε < 1; default 1/20. Taken as
        an exact fraction (``0.05`` is 1/20).
    chunk : int, optional
        Draws per chunk, as for :func:`sim.run`.
    progress : bool, optional
        Show a progress bar, as for :func:`sim.run`.

    Returns
    -------
    Assessment
        ``.table`` holds the rows of ``observed.csv``; ``.conditioned`` the
        conditioned bands, dates, milestone probabilities and effective draws.
        Nothing in ``result`` changes; pass ``observed=`` to the plot functions to
        draw the observations, or :func:`with_observations` them. (With an ensemble
        this steps the draws once more; ``sim.run(..., observed=...)`` scores and
        conditions in the ensemble's own pass.)

    Raises
    ------
    sim.ScenarioError
        ``condition`` without an ensemble, or not True or False; ``progress`` not True,
        False or None; a bad tolerance, as-of date or error rate, or an error rate
        without ``condition=True``; observations of a theater the scenario lacks.
    TypeError
        For a ``result`` that is not a :class:`Result`, or observations that are neither
        an ObservationSet nor the path of its file.
    """
    if not isinstance(result, Result):  # (a scenario or a path: an AttributeError later)
        raise TypeError(f"expected a Result (from sim.run), found {type(result).__name__}")
    flag_argument(condition, "condition")  # (condition="no" is truthy)
    flag_argument(progress, "progress", none=True)
    observations = check_observed(result.scenario, observations)
    refuse_error_alone(error, condition)
    # (the options checked; with draws, the pass's own Scoring is made again below)
    scoring = scoring_of(
        result.scenario,
        result.plans,
        None,
        result.variants,
        observations,
        tolerance,
        draws=None,
        as_of=as_of,
        error=error,
    )
    if condition and not result.draws:
        raise ScenarioError(
            "an ensemble (a result of sim.run with draws and seed) with condition=True",
            "no draws",
            file="<arguments>",
            path="condition",
        )
    if result.draws:
        assert result.seed is not None
        base = replace(result, bands=None, dates=None, counts={})
        rerun = observe_ensemble(
            base,
            observations,
            scoring.tol,
            draws=result.draws,
            seed=result.seed,
            condition=condition,
            as_of=scoring.as_of,
            error=scoring.error,
            chunk=chunk,
            progress=progress,
        )
        return replace(rerun.observed, notes=[], of_run=run_of(result))
    levels = observed_levels(frame_columns(result.monthly), observations)
    for v in result.variants:
        scoring.score(v, levels)
    assessment = scoring.assessment()
    assessment.of_run = run_of(result)
    return assessment


def with_observations(result: Result, assessment: Assessment) -> Result:
    """A copy of ``result`` carrying the observations scored against it.

    The charts then draw the observations, ``run.json`` records them,
    :func:`sim.write_run` writes ``observed.csv`` (and the conditioned files),
    and with conditioning ``milestones`` gains ``p_met_conditioned``.

    Parameters
    ----------
    result : Result
        The run that was scored.
    assessment : Assessment
        From :func:`sim.score_observations` on ``result``.

    Returns
    -------
    Result
        A new Result; ``result`` is unchanged.

    Raises
    ------
    TypeError
        For anything but an Assessment (an ObservationSet is scored first).
    ValueError
        When ``assessment`` scored another run: variants ``result`` lacks, another
        number of draws (its ``p_met_conditioned`` would be NaN or another run's),
        another scenario or seed, or the same ones with other inputs or levels
        (:meth:`sim.Result.made_digest`).
    """
    if not isinstance(assessment, Assessment):
        raise TypeError(
            "with_observations() takes the Assessment sim.score_observations returns, "
            f"not {type(assessment).__name__}"
        )
    c = assessment.conditioned
    scored = set(map(str, assessment.table["variant"])) if "variant" in assessment.table else set()
    if c is not None:
        scored |= {str(v) for v, _ in c.p_met}
    if assessment.draws != result.draws or not scored <= set(result.variants):
        raise ValueError(
            "expected the assessment sim.score_observations made of this result "
            f"(variants {', '.join(result.variants)}; draws {result.draws}), found one of "
            f"variants {', '.join(sorted(scored)) or 'none'}; draws {assessment.draws}"
        )
    made = assessment.of_run
    if made is not None and made[2] != result.made_digest():
        # (its scores, conditioned bands and p_met_conditioned would be written and
        # signed beside another run's tables)
        ours = f"scenario {result.scenario.id}, seed {result.seed}"
        theirs = f"scenario {made[0]}, seed {made[1]}"
        raise ValueError(
            f"expected the assessment sim.score_observations made of this result ({ours}),"
            " found one made of "
            + (
                f"another run ({theirs})"
                if theirs != ours
                else f"another run of {ours}, whose inputs or levels differ"
            )
        )
    return replace(
        result, observed=assessment, milestones=scored_milestones(result.milestones, assessment)
    )


def scored_milestones(milestones: pd.DataFrame, assessment: Assessment) -> pd.DataFrame:
    """The ``milestones`` rows of a run whose observations ``assessment`` scored: with
    ``p_met_conditioned`` (the conditioned share of draws meeting each milestone, 0–1;
    NaN for a variant left out) when the ensemble was conditioned, else unchanged."""
    c = assessment.conditioned
    if c is None:
        return milestones
    return milestones.assign(
        p_met_conditioned=[
            c.p_met.get((v, m), math.nan)
            for v, m in zip(milestones.variant, milestones.milestone, strict=True)
        ]
    )


def has_conditioned_bands(assessment: Assessment) -> bool:
    """Whether ``assessment`` conditioned an ensemble and some variant kept enough
    effective draws for its weighted bands (:func:`conditioned_result` is then not
    None)."""
    c = assessment.conditioned
    return c is not None and bool(c.variants) and c.bands is not None


def conditioned_result(result: Result, assessment: Assessment) -> Result | None:
    """A copy of ``result`` holding the conditioned summaries (for the fan chart);
    None when no variant has enough effective draws."""
    c = assessment.conditioned
    if c is None or not has_conditioned_bands(assessment):
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


__all__ = [
    "Assessment",
    "Conditioned",
    "conditioned_result",
    "has_conditioned_bands",
    "observe_ensemble",
    "score_observations",
    "with_observations",
]
