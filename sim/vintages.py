"""Vintages: a series of projections, each made on its own as-of date, conditioned on
what was known then and scored only against what was reported later.

A **vintage** is a scenario with its own ``as_of``. For each vintage and variant the
ensemble is weighted by the observations dated on or before ``as_of``
(:func:`sim.analysis.observed.observe_ensemble`), and the later observations that
state a level (``reported`` or ``official``, with both bounds) in the vintage's
months are scored against the weighted distribution of the level they report, one
per quantity (the latest; of one day, the one listed last:
:func:`sim.analysis.conditioning.the_latest`, the rule conditioning follows; a month
whose report that counts is open-ended is not scored, nor a quantity whose level
the vintage was conditioned on, in sample), since two reports of one month's level
are two measurements of one forecast quantity, not two forecasts verified
(docs/observations.md):

* coverage of the 50 % and 80 % central bands (p25–p75, p10–p90): whether the
  observed level lies inside, ends included;
* the interval score of the 80 % band (Gneiting & Raftery 2007, eq. 43, ``α = 0.2``);
* the CRPS, exact from the weighted level counts (:func:`sim.analysis.scores.crps`).

A report is later when it was made public after ``as_of`` for certain
(:meth:`~sim.io.observations.Observation.after`): one dated by its month alone, in the
as-of month, may have been known then and is not scored. The observed level is the
reported point, or the middle of a reported range rounded half up to a whole troop.
Open-ended reports ("fewer than N") and targets are not scored. The **horizon** of a
score is the number of calendar months from the vintage's as-of month to the month of
the report; scores are averaged per vintage, variant, theater and horizon band
(:data:`HORIZONS`), and over all horizons.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.conditioning import checks_for, quantity_of, the_latest
from sim.analysis.observed import Assessment, observe_ensemble
from sim.analysis.scores import band, band_share, crps, interval_score, percentile
from sim.analysis.summaries import rounded
from sim.checks import late_citations, late_mentions
from sim.errors import ScenarioError, nearest
from sim.io.observations import ObservationSet, Tolerance
from sim.loader import in_overrides, variant_names
from sim.months import parse_month
from sim.results import Result
from sim.runner import run
from sim.scenario import Scenario, load_observations, scenario_list

# horizon bands [months after the as-of month]: (first, last, label)
HORIZONS = ((0, 3, "0-3"), (4, 6, "4-6"), (7, 12, "7-12"), (13, 24, "13-24"), (25, 600, "25+"))
ALL = "all"
SCORE_COLUMNS = [
    "vintage",
    "as_of",
    "variant",
    "theater",
    "horizon",
    "observations",
    "coverage50",
    "coverage80",
    "expected_coverage50",
    "expected_coverage80",
    "interval_score",
    "crps",
]
#: decimals of a coverage (the share of a group's points in a band) in ``scores.csv``
COVERAGE_PLACES = 4
#: ``pooled.csv``: the scores of every vintage together, per variant, theater and horizon,
#: with how many vintages scored some report there
POOLED_COLUMNS = ["variant", "theater", "horizon", "vintages", *SCORE_COLUMNS[5:]]

POINT_COLUMNS = [
    "vintage",
    "as_of",
    "variant",
    "date",
    "theater",
    "kind",
    "observed",
    "horizon_months",
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "in50",
    "in80",
    "share_in50",
    "share_in80",
    "interval_score",
    "crps",
    "source",
]


@dataclass(frozen=True)
class Vintage:
    """One vintage: its scenario, its as-of date and its conditioned ensemble.

    Attributes
    ----------
    scenario : Scenario
    as_of : datetime.date
        The day the projection is made; observations on or before it condition.
    result : Result
        The ensemble with the observations attached (``result.observed`` is the
        :class:`~sim.analysis.observed.Assessment`: known, later, discrepant).
    """

    scenario: Scenario
    as_of: dt.date
    result: Result

    def __repr__(self) -> str:
        return f"<Vintage {self.scenario.id} as of {self.as_of.isoformat()}>"

    @property
    def label(self) -> str:
        """A short name for charts: the title's last parenthesis, else the id."""
        found = re.findall(r"\(([^()]+)\)\s*$", self.scenario.title)
        return found[0] if found else self.scenario.id


@dataclass(frozen=True)
class VintageSeries:
    """What :func:`run_vintages` returns.

    Attributes
    ----------
    vintages : list of Vintage
        In as-of order.
    observations : ObservationSet
        The record every vintage is conditioned on and scored against.
    points : pandas.DataFrame
        One row per vintage, variant and scored later report (``POINT_COLUMNS``):
        the report, its horizon [months], the vintage's exact weighted percentiles of
        the level it reports [troops], whether it is inside the 50 % and 80 % bands
        (``in50``, ``in80``), the share of the weighted draws each band holds, ends
        included (``share_in50``, ``share_in80``, 0–1, 4 decimals:
        :func:`sim.analysis.scores.band_share`; at least 0.5 and 0.8, more where many
        draws share an end's level), interval score and CRPS [troops].
    scores : pandas.DataFrame
        ``scores.csv`` (``SCORE_COLUMNS``: ``vintage, as_of, variant, theater,
        horizon, observations, coverage50, coverage80, expected_coverage50,
        expected_coverage80, interval_score, crps``): the points averaged per vintage,
        variant, theater and horizon band (:data:`HORIZONS`: ``0-3`` … ``25+``
        months), and over all horizons (``horizon == "all"``); ``observations`` the
        points averaged, coverage as shares 0–1 (4 decimals), the expected coverage
        (what a calibrated projection would cover: the exact mean of the points'
        written ``share_in50`` or ``share_in80``, rounded once to 4 decimals), the mean
        interval score of the 80 % band
        (Gneiting & Raftery 2007, eq. 43, ``α = 0.2``) and mean CRPS (Gneiting &
        Raftery 2007, eq. 20) in troops (3 decimals); ``as_of`` is ``YYYY-MM-DD``.
    draws, seed : int
    left_out : list of (str, str, float)
        ``(vintage id, variant, effective draws)`` of each variant that keeps fewer
        than :data:`~sim.analysis.observed.MIN_EFFECTIVE_DRAWS` effective draws once
        conditioned: it is not scored (its scores would rest on a handful of draws)
        and not drawn, as ``forcesim run`` writes no conditioned files for it.
    absent : list of (str, str, int)
        ``(vintage id, series, reports)`` of each series (a theater, or a site as
        ``theater/site``) that the record reports on after the vintage's date but the
        vintage does not have (a site or theater a later vintage adds): ``reports`` is
        how many of those reports it would score had it the series (the one that counts
        of each month, stating both bounds), none of which it scores.
    lacking : list of (str, str)
        ``(vintage id, variant)`` of each variant asked for (``variants=``) that a
        vintage does not have: not run for it. A vintage lacking every one asked for is
        not in :attr:`vintages`.
    skipped : list of (str, datetime.date)
        ``(vintage id, as_of day)`` of each vintage lacking every variant asked for (so
        not run at all), in date order.
    """

    vintages: list[Vintage]
    observations: ObservationSet
    points: pd.DataFrame
    scores: pd.DataFrame
    draws: int
    seed: int
    left_out: list[tuple[str, str, float]] = field(default_factory=list)
    absent: list[tuple[str, str, int]] = field(default_factory=list)
    lacking: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, dt.date]] = field(default_factory=list)

    @cached_property
    def pooled(self) -> pd.DataFrame:
        """``pooled.csv`` (``POOLED_COLUMNS``): the points of every vintage averaged
        together per variant, theater and horizon band, and over all horizons
        (``horizon == "all"``), as :attr:`scores` averages one vintage's: a later report
        scored by three vintages counts three times, once per projection of it. Each
        variant and theater in the order they first came, horizons short to long."""
        return _scores(self.points, ("variant", "theater"), POOLED_COLUMNS)

    def pooled_together(self, theaters: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows of :attr:`pooled` with every theater (of ``theaters``, when given)
        pooled too, ``theater`` written ``all``: per variant, the series' one headline
        (``POOLED_COLUMNS``)."""
        points = self.points
        if theaters is not None:
            points = points[points.theater.isin(list(theaters))]
        return _scores(points.assign(theater="all"), ("variant", "theater"), POOLED_COLUMNS)

    def left_out_of(self, variant: str) -> list[Vintage]:
        """The vintages that left ``variant`` out for too few effective draws (in
        :attr:`left_out`), in date order."""
        ids = {i for i, name, _ in self.left_out if name == variant}
        return [v for v in self.vintages if v.scenario.id in ids]

    def later_levels(self, as_of: dt.date) -> int:
        """How many reports of a level (not targets) the record holds that were made
        public after ``as_of``: scored or not (open-ended, outside the months, a
        repeat of its quantity, or a vintage left out), so that "no later report" is
        said only where there is none."""
        return sum(1 for o in self.observations if o.is_level and o.after(as_of))

    def tolerance_text(self) -> str:
        """The tolerance every vintage was conditioned and scored with, as a reader
        reads it (``±5 %``, ``±200 troops``), and that a report stating its own keeps
        its own."""
        first = self.vintages[0].result.observed if self.vintages else None
        tol = getattr(first, "tolerance", None)
        spelled = str(Tolerance.default() if tol is None else tol)
        own = any(o.tolerance is not None for o in self.observations)
        return spelled + (", or a report's own" if own else "")

    def absent_of(self, vintage: str) -> list[tuple[str, int]]:
        """``(series, reports)`` of each series vintage ``vintage`` (its scenario id)
        lacks (in :attr:`absent`), in the record's order of series."""
        return [(name, n) for i, name, n in self.absent if i == vintage]

    def __repr__(self) -> str:
        dates = [v.as_of.isoformat() for v in self.vintages]
        span = (
            f" from {dates[0]} to {dates[-1]}"
            if len(dates) > 1
            else "".join(f" of {d}" for d in dates)
        )
        n = len(self.vintages)
        return (
            f"<VintageSeries: {n} vintage{'' if n == 1 else 's'}{span}, {self.draws:,} draws, "
            f"seed {self.seed}; .points: {len(self.points):,} rows (a vintage, variant and "
            "later report each), .scores: per horizon, .pooled: every vintage together>"
        )


#: what a vintage refused for the memory of its conditioning may do instead
VINTAGE_ADVICE = (
    "widen --tolerance, or leave out of --observed some reports dated on or before the "
    "vintage (each vintage is conditioned on every report known on its date)"
)


def run_vintages(
    scenarios: Iterable[Scenario | str | Path],
    observations: ObservationSet | str | Path,
    *,
    draws: int,
    seed: int,
    variants: Sequence[str] | str | None = None,
    tolerance: Tolerance | str | None = None,
    error: Any = None,
    chunk: int | None = None,
    progress: bool | None = None,
) -> VintageSeries:
    """Condition each vintage on what was known at its as-of date and score it against
    every later report.

    Parameters
    ----------
    scenarios : iterable of Scenario, or of scenario files' paths
        The vintages, each with its own ``as_of``; they are taken in as-of order. A
        path is loaded (:func:`sim.load_scenario`).
    observations : ObservationSet, or the path of its CSV file
        The record (reported, official and target rows, with dates); a path is read
        against the vintages' theaters and sites (:func:`sim.load_observations`).
    draws, seed : int
        The ensemble of every vintage (the same seed for each).
    variants : str or sequence of str, optional
        A variant, or variants, to run; those a vintage lacks are not run for it (in
        :attr:`VintageSeries.lacking`, and a vintage lacking all of them is left out).
        Default: every variant.
    tolerance : Tolerance or str, optional
        As for :func:`sim.score_observations` (default ``5%``).
    error : Fraction, str or float, optional
        The chance that a report is wrong, as for :func:`sim.score_observations`
        (default 1/20): a draw missing ``k`` counted reports weighs ``error^k``.
    chunk, progress
        As for :func:`sim.run`.

    Returns
    -------
    VintageSeries

    Raises
    ------
    sim.ScenarioError
        No vintage, two vintages with the same as-of date (at the later one's
        ``as_of``) or the same id (at its ``id``), or a variant no vintage has; at
        ``<arguments>``, ``draws`` or ``seed`` not whole or out of range, a bad
        ``chunk``, ``tolerance`` or ``error`` (as :func:`sim.run` and
        :func:`sim.score_observations` raise); for ``observations`` given as a path,
        a bad row of the file (:func:`sim.load_observations`); a vintage too large to
        count level by level.
    TypeError
        A vintage that is neither a :class:`~sim.scenario.Scenario` nor a path, or a
        record that is neither an ObservationSet nor a path.
    """
    given = scenario_list(scenarios)
    if isinstance(observations, str | Path):  # the CSV's path, read against them
        observations = load_observations(observations, given)
    elif isinstance(observations, Assessment):  # (a run's .observed: what it scored)
        observations = observations.observations
    if not isinstance(observations, ObservationSet):
        raise TypeError(
            "observations takes an ObservationSet (sim.load_observations), a run's scored "
            f"observations (its .observed) or the path of a CSV file, not "
            f"{type(observations).__name__}"
        )
    variants = variant_names(variants)  # (one name, a list, a NumPy array, a Series)
    ordered = sorted(given, key=lambda s: s.as_of_day)
    for sc in ordered:  # a file that extends another states its own date and id (first:
        # one that states none takes its parent's date, which then looked taken twice)
        _refuse_inherited(sc)
    dates = [s.as_of_day for s in ordered]
    for a, b, sa, sb in zip(dates, dates[1:], ordered, ordered[1:], strict=False):
        if a == b:
            same = sa.path is not None and sb.path is not None and _same_file(sa.path, sb.path)
            file, line, col = sb.locator.find(("as_of",))
            raise ScenarioError(
                "each vintage once" if same else "vintages with different as_of dates",
                "the same file given twice" if same else f"{sa.id} and {sb.id} both dated {a}",
                file=file,
                line=line,
                col=col,
                path="as_of",
            )
    for sc in ordered:  # (refused at the vintage's own as_of, before any run, not at
        # <arguments> when its conditioning came to it)
        first, last = sc.doc.calendar.start, sc.doc.calendar.end
        month = f"{sc.as_of_day:%Y-%m}"
        if not first <= month <= last:
            file, line, col = sc.locator.find(("as_of",))
            raise ScenarioError(
                f"a vintage's as_of within its calendar ({first} to {last}), the date it "
                "is conditioned on",
                repr(str(sc.doc.as_of)),
                file=file,
                line=line,
                col=col,
                path="as_of",
            )
    for sc in ordered:  # nothing it cites came out after its date
        _refuse_hindsight(sc, [v for v in sc.variant_names if not variants or v in variants])
    seen: dict[str, Scenario] = {}
    for sc in ordered:  # each vintage's rows are named by its id
        if sc.id in seen:
            file, line, col = sc.locator.find(("id",))
            other = seen[sc.id].path or "<scenario>"
            raise ScenarioError(
                "vintages with different ids (the files' rows are named by them)",
                f"{sc.id!r}, the id of {other} too",
                file=file,
                line=line,
                col=col,
                path="id",
            )
        seen[sc.id] = sc
    if variants:
        known = {v for s in ordered for v in s.variant_names}
        unknown = [v for v in variants if v not in known]
        if unknown:
            hint = nearest(str(unknown[0]), sorted(known))
            raise ScenarioError(
                f"variants of the vintages ({', '.join(sorted(known))})"
                + (f" (did you mean {hint!r}?)" if hint else ""),
                ", ".join(repr(v) for v in unknown),
                file="<arguments>",
                path="variants",
            )
    runs: list[Vintage] = []
    rows: list[dict[str, Any]] = []
    left_out: list[tuple[str, str, float]] = []
    absent: list[tuple[str, str, int]] = []
    if variants:
        variants = list(dict.fromkeys(variants))  # (a name given twice: once)
    without = [(sc.id, v) for v in variants or () for sc in ordered if v not in sc.variant_names]
    skipped: list[tuple[str, dt.date]] = []
    for sc, when in zip(ordered, dates, strict=True):
        names = [v for v in sc.variant_names if not variants or v in variants]
        if not names:
            skipped.append((sc.id, when))
            continue
        base = run(sc, names)
        result = observe_ensemble(
            base,
            observations,
            tolerance,
            draws=draws,
            seed=seed,
            condition=True,
            as_of=when,
            error=error,
            chunk=chunk,
            progress=progress,
            advice=VINTAGE_ADVICE,  # (vintages have no --as-of and always condition)
        )
        vintage = Vintage(sc, when, result)
        runs.append(vintage)
        cond = result.observed.conditioned
        assert cond is not None
        few = cond.too_few
        left_out += [(sc.id, v, cond.effective[v]) for v in few]
        scored, lacking = _points(vintage, observations, skip=set(few))
        rows += scored
        absent += [(sc.id, name, n) for name, n in lacking.items()]
    points = pd.DataFrame(rows, columns=POINT_COLUMNS)
    return VintageSeries(
        runs, observations, points, _scores(points), draws, seed, left_out, absent, without, skipped
    )


def _conditioned_on(
    vintage: Vintage, observations: ObservationSet
) -> dict[str, set[tuple[str, int, bool]]]:
    """Per variant, the quantities (:func:`~sim.analysis.conditioning.quantity_of`)
    whose level the vintage was conditioned on: the reports conditioning counts
    (:func:`~sim.analysis.conditioning.checks_for`, ``used``: of those known on its
    date, the one that counts for each quantity), where one states both bounds and was
    not left out as discrepant in the variant."""
    result, items = vintage.result, observations.items
    assessment = result.observed
    discrepant = assessment.discrepant() if assessment is not None else {}
    tolerance = assessment.tolerance if assessment is not None else Tolerance.default()
    out: dict[str, set[tuple[str, int, bool]]] = {}
    for v in result.variants:
        plan = result.plans[v]
        left = set(discrepant.get(v, []))
        out[v] = {
            quantity_of(o, plan)
            for c in checks_for(plan, observations, tolerance, vintage.as_of)
            if c.used and (o := items[c.index]).bounded and f"{o.date} {o.theater}" not in left
        }
    return out


def _points(
    vintage: Vintage, observations: ObservationSet, skip: set[str]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The scored later reports of one vintage, one row per variant (but those in
    ``skip``) and report; and, per series no variant of the vintage has, how many later
    reports of it would have been scored (in the record's order of series). A series
    some variant has is that variant's to score, not absent from the vintage."""
    result, assessment = vintage.result, vintage.result.observed
    start = parse_month(f"{vintage.as_of:%Y-%m}")
    rows = []
    lacking: set[int] = set()
    present = {name for v in result.variants for name in result.plans[v].series_names()}
    known = _conditioned_on(vintage, observations)
    for v in result.variants:
        plan = result.plans[v]
        later = [
            i
            for i, o in enumerate(observations)
            if o.kind != "target"
            and o.after(vintage.as_of)
            and 0 <= o.month - plan.start < plan.n_months
        ]
        # one score per quantity: a report repeated or revised in its month counts once;
        # the one that counts is chosen as for conditioning, and scored when it states
        # both bounds (an open-ended one has no level to score); and none of a quantity
        # whose level the vintage was conditioned on (its known report that counts
        # states both bounds and was not left out as discrepant): in sample
        later = [i for i in later if quantity_of(observations.items[i], plan) not in known[v]]
        counted = the_latest(observations, later, plan)
        series = set(plan.series_names())
        for i in later:
            o = observations.items[i]
            if i not in counted or not o.bounded:
                continue
            if o.theater not in series:  # a site or theater a later vintage adds: said
                if o.theater not in present:  # (one another variant has is scored there)
                    lacking.add(i)
                continue
            if v in skip:
                continue
            found = assessment.distribution(v, i)
            assert found is not None and o.low is not None and o.high is not None
            counts = found.full()
            y = int(np.floor((o.low + o.high) / 2 + 0.5))
            p10, p90 = band(counts, 80)
            p25, p75 = band(counts, 50)
            rows.append(
                {
                    "vintage": vintage.scenario.id,
                    "as_of": vintage.as_of.isoformat(),
                    "variant": v,
                    "date": o.date,
                    "theater": o.theater,
                    "kind": o.kind,
                    "observed": y,
                    "horizon_months": o.month - start,
                    "p10": p10,
                    "p25": p25,
                    "p50": percentile(counts, 50),
                    "p75": p75,
                    "p90": p90,
                    "in50": p25 <= y <= p75,
                    "in80": p10 <= y <= p90,
                    # (what a calibrated band would cover: at least its percent, more
                    # where many draws share an end's level)
                    "share_in50": _share(band_share(counts, 50)),
                    "share_in80": _share(band_share(counts, 80)),
                    "interval_score": interval_score(p10, p90, y, 0.2),
                    "crps": crps(counts, y),
                    "source": o.source,
                }
            )
    absent: dict[str, int] = {}
    for i in sorted(lacking):
        name = observations.items[i].theater
        absent[name] = absent.get(name, 0) + 1
    return rows, absent


def _share(exact: Fraction) -> float:
    """A share of the draws inside a band, as ``points.csv`` writes it: rounded once to
    :data:`COVERAGE_PLACES` decimals."""
    return rounded(exact.numerator, exact.denominator, COVERAGE_PLACES)


def _horizon_label(months: int) -> str:
    """The :data:`HORIZONS` band of a horizon of ``months`` months."""
    return next(lab for a, b, lab in HORIZONS if a <= months <= b)


def _scores(
    points: pd.DataFrame,
    keys: Sequence[str] = ("vintage", "as_of", "variant", "theater"),
    columns: Sequence[str] = SCORE_COLUMNS,
) -> pd.DataFrame:
    """``scores.csv``: the points averaged per ``keys`` (a vintage, variant and theater)
    and horizon band, and over all horizons; ``columns`` of it (``pooled.csv``: per
    variant and theater, with how many vintages each pools)."""
    if not len(points):
        return pd.DataFrame(columns=list(columns))
    scale = 10**COVERAGE_PLACES
    labelled = points.assign(
        horizon=[_horizon_label(h) for h in points.horizon_months],
        # each written share as a whole number of its last decimal (exact: it was rounded
        # to those decimals), so that their mean is an exact ratio, rounded once
        held50=np.rint(points.share_in50.astype(float) * scale).astype(np.int64),
        held80=np.rint(points.share_in80.astype(float) * scale).astype(np.int64),
    )
    keys = list(keys)
    frames = [labelled, labelled.assign(horizon=ALL)]
    table = (
        pd.concat(frames, ignore_index=True)
        .groupby([*keys, "horizon"], sort=False)
        .agg(
            observations=("observed", "size"),
            in50=("in50", "sum"),
            in80=("in80", "sum"),
            held50=("held50", "sum"),
            held80=("held80", "sum"),
            interval_score=("interval_score", "mean"),
            crps=("crps", "mean"),
            vintages=("vintage", "nunique"),
        )
        .reset_index()
    )
    # each vintage, variant and theater in the order they came, horizons short to long
    seen = zip(*(points[c] for c in keys), strict=True)
    first = {k: i for i, k in enumerate(dict.fromkeys(seen))}
    order = {lab: i for i, (_, _, lab) in enumerate(HORIZONS)} | {ALL: len(HORIZONS)}
    rank = [
        (first[tuple(r[:-1])], order[r[-1]])
        for r in zip(*(table[c] for c in [*keys, "horizon"]), strict=True)
    ]
    table = table.iloc[sorted(range(len(table)), key=rank.__getitem__)]
    # the share of the points in each band, and the mean of their written shares: each
    # an exact ratio of whole numbers, rounded once
    for col, total, unit in (
        ("coverage50", "in50", 1),
        ("coverage80", "in80", 1),
        ("expected_coverage50", "held50", scale),
        ("expected_coverage80", "held80", scale),
    ):
        table[col] = [
            rounded(int(k), int(n) * unit, COVERAGE_PLACES)
            for k, n in zip(table[total], table.observations, strict=True)
        ]
    for col in ("interval_score", "crps"):
        table[col] = table[col].astype(float).round(3)
    return table[list(columns)].reset_index(drop=True)


def _refuse_inherited(sc: Scenario) -> None:
    """Refuse a vintage read from a file that extends another without stating its own
    ``as_of`` or ``id``: it would take the parent's date, and be conditioned and scored
    as if made then (with the reports its own news came from counted as known
    beforehand), or take the parent's name. Raises ``ScenarioError`` at the file's
    ``extends``."""
    layers = sc.locator.layers
    if len(layers) < 2:  # (no extends: the schema asks for both)
        return
    own = layers[0].positions.keys
    for key in ("as_of", "id"):
        if (key,) not in own:
            file, line, col = sc.locator.find(("extends",), key=True)
            inherited = sc.doc.as_of if key == "as_of" else sc.id
            raise ScenarioError(
                f"a vintage's own {key} (a file that extends another states the "
                f"{'date its news is known on' if key == 'as_of' else 'name of its vintage'})",
                f"none, so the {key} {str(inherited)!r} of {layers[1].positions.file} would "
                "be taken",
                file=file,
                line=line,
                col=col,
                path=key,
            )


def _refuse_hindsight(sc: Scenario, names: Sequence[str]) -> None:
    """Refuse a vintage whose numbers, milestones or announcement, in the base or in one
    of the variants ``names`` that will run, cite a source dated after its as_of
    (:func:`sim.checks.late_citations`), or whose assumptions or other text name one
    (:func:`sim.checks.late_mentions`): a projection made on that date could not have
    known it, and its scores would not be out of sample. Named at the first citation,
    else the first text."""
    day = sc.as_of_day.isoformat()
    # a citation first, else a text naming a later source (looked for only then)
    refusals = (
        (
            late_citations,
            f"a source dated on or before the vintage's as_of, {day} (a vintage projects "
            "from what was public on its date; a later report belongs in the record it is "
            "scored against)",
            "",
        ),
        (
            late_mentions,
            f"text naming no source dated after the vintage's as_of, {day} (an assumption "
            "that names a later report was made knowing it: a vintage's own file states one "
            "from what was public on its date)",
            ", named in it",
        ),
    )
    for v in names:
        own = v in sc.doc.variants
        doc = sc.resolved(v) if own else sc.doc
        for find, expected, named in refusals:
            late = find(doc, sc.as_of_day)
            if not late:
                continue
            path, sid, when = late[0]
            locator = sc.variants[v].locator if own else sc.locator
            err = locator.error(path, expected, f"{sid!r}, dated {when}{named}")
            raise in_overrides(err, v, sc.locator) if own else err


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (a link, or another spelling of the path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
