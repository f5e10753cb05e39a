"""What every ensemble summary shares: the series summarised, the threshold marks,
the percentiles and their exact inverse, and the rows of ``bands.csv`` and ``dates.csv``.

Both ways of counting an ensemble build on these: level by level
(:class:`sim.analysis.accumulator.Accumulator`) and, for forces too large for that,
in bins refined in a second pass (:mod:`sim.analysis.wide`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.model.plan import Plan
from sim.results import frame_of, key_columns, month_period
from sim.schema import Spec, central

#: the most draws of one ensemble
MAX_DRAWS = 100_000_000
#: the type of level counts: no count exceeds the number of draws, at most MAX_DRAWS
COUNT = np.int32


#: decimals written: a mean level [troops] (``mean``) and a share of draws (``p_met``,
#: ``never``, ``p_consistent``, ``p_b_greater`` ...)
MEAN_PLACES, SHARE_PLACES = 3, 6


def rounded(total: int | Fraction, n: int | Fraction, places: int) -> float:
    """The exact ratio ``total / n`` rounded once to ``places`` decimals, a half to the
    even last digit: how every mean level and share of draws is written, plain or
    weighted, whatever the path that counted it.

    Parameters
    ----------
    total : int or Fraction
        A sum over the draws (of levels [troops], or of draws meeting a condition),
        weighted or not; whole numbers or exact fractions, never floats.
    n : int or Fraction
        The number (or total weight) of the draws, above 0.
    places : int
        Decimals kept (:data:`MEAN_PLACES`, :data:`SHARE_PLACES`).

    Returns
    -------
    float
        The nearest float to the rounded decimal, so it prints as that decimal.

    Notes
    -----
    Rounding the float ``total / n`` instead (``numpy.round``, or Python's ``round``
    of a float) rounds twice, and an exact half (a mean of ``x.xxx5`` troops, frequent
    at 2,000 or 20,000 draws) then goes up or down with the binary error of the
    division. Halves to even is the rule of IEEE 754 and of ``numpy.round``, which the
    result matches wherever the quotient is not within that error of a half.
    """
    ratio = Fraction(total) / Fraction(n)
    scale = 10**places
    q, r = divmod(ratio.numerator * scale, ratio.denominator)  # floor, 0 <= r < den
    if 2 * r > ratio.denominator or (2 * r == ratio.denominator and q % 2):
        q += 1
    return q / scale  # an exact int over a power of ten: the nearest float


def rounded_inside(total: int | Fraction, n: int | Fraction, places: int, top: int = 1) -> float:
    """:func:`rounded`, except that a ratio strictly between 0 and ``top`` is never
    written as 0 or ``top``: one that rounds to an end is written one step inside it
    (``10 ** -places`` or ``top - 10 ** -places``). For the shares (``top`` 1) and
    percentile ranks (``top`` 100) whose ends mean something of their own (no draw fits
    a report; a report outside every draw), so that a written end is always exact.

    Returns a float, as :func:`rounded`; ``total / n`` must lie in [0, ``top``].

    Raises
    ------
    ValueError
        When ``places`` leaves no step strictly inside (0, ``top``) (``top`` 1 at 0
        places): the end "one step inside" would be the other end.
    """
    if top * 10**places < 2:
        raise ValueError(f"expected places with a step inside 0 to {top}, found {places}")
    ratio = Fraction(total) / Fraction(n)
    out = rounded(total, n, places)
    if 0 < ratio < top and out in (0.0, float(top)):
        scale = 10**places
        return (1 if out == 0.0 else top * scale - 1) / scale
    return out


def rounded_all(totals: Iterable[Any], n: int | Fraction, places: int) -> NDArray[np.float64]:
    """:func:`rounded` of each of ``totals`` (whole numbers, numpy or Python) over ``n``."""
    return np.array([rounded(int(t), n, places) for t in totals], dtype=np.float64)


PERCENTILES = (5, 10, 25, 50, 75, 90, 95)
DATE_PERCENTILES = (10, 50, 80, 90)
BAND_COLUMNS = [
    "scenario",
    "variant",
    "theater",
    "month",
    "mean",
    "min",
    *[f"p{q:02d}" for q in PERCENTILES],
    "max",
]
DATE_COLUMNS = [
    "scenario",
    "variant",
    "theater",
    "threshold",
    "level",
    *[f"p{q}" for q in DATE_PERCENTILES],
    "never",
]


def counts_bytes(plan: Plan) -> int:
    """Bytes of the level counts an accumulator of ``plan`` may hold: for every series
    and month a count of each level ``0 .. level_bound``, in three arrays (the counts,
    the stretches held over months, and the running minimum's correction). The
    stretches held are reckoned at their most, a row every month: they take a row only
    for the months where a stretch starts or ends (:mod:`sim.analysis.stretches`), so
    a plan's accumulator often holds less; the budgets that read this stay as they
    were, and so does which plans are summarised by :mod:`sim.analysis.wide`."""
    return 3 * len(series(plan)) * plan.n_months * (level_bound(plan) + 1) * COUNT().itemsize


def level_bound(plan: Plan) -> int:
    """The highest level any series can take in any draw [troops]: the largest, over
    the series, of the sum of its tracks' :meth:`~sim.model.plan.Plan.track_top` (a
    theater's levels are the sum of its own tracks' only)."""
    return max(series_tops(plan), default=0)


def series_tops(plan: Plan) -> list[int]:
    """Each series' highest level in any draw [troops], in :func:`series` order: the
    sum of its tracks' :meth:`~sim.model.plan.Plan.track_top`."""
    return [sum(plan.track_top(k) for k in tracks) for _, tracks in series(plan)]


def series(plan: Plan) -> list[tuple[str, list[int]]]:
    """The series summarised: each theater (sum of its tracks), then each site."""
    out = [(tid, plan.theater_tracks(tid)) for tid in plan.theaters]
    out += [(t.key, [k]) for k, t in enumerate(plan.tracks) if t.site is not None]
    return out


def thresholds(
    plan: Plan, milestones: pd.DataFrame | Mapping[str, Any]
) -> list[tuple[str, str, int]]:
    """(series, threshold name, level) for the dates table: zero, residual sizes,
    each milestone's (central) target. ``milestones`` has the columns ``milestone``
    and ``target`` (a frame of :func:`sim.results.milestone_frame`, or its columns,
    :func:`sim.results.milestone_columns`)."""
    out: list[tuple[str, str, int]] = []
    targets: dict[str, int] = {}
    for mid, target in zip(milestones["milestone"], milestones["target"], strict=True):
        targets.setdefault(mid, int(target))
    for name, tracks in series(plan):
        levels: dict[int, str] = {0: "zero"}
        for r in plan.residuals:
            if r.track in tracks and (len(tracks) == 1 or plan.tracks[r.track].site is None):
                size = r.size
                value = (
                    size.model_copy(update={"probability": None})
                    if isinstance(size, Spec)
                    else size
                )
                levels.setdefault(int(np.floor(central(value) + 0.5)), f"residual {r.id}")
        for m in plan.milestones:
            if plan.tracks[m.track].key == name and m.id in targets:
                levels.setdefault(targets[m.id], f"milestone {m.id}")
        out += [(name, label, level) for level, label in sorted(levels.items(), reverse=True)]
    return out


def date_rows(
    plan: Plan,
    marks: list[tuple[str, str, int]],
    first: NDArray[np.int64],
    n: int,
    scenario: str,
    variant: str,
) -> list[dict[str, Any]]:
    """``dates.csv`` rows (:func:`date_row`): for each threshold mark k, the percentiles
    of the month its series first falls to the mark or below, from ``first[k]``
    (months + 1 counts of ``n`` draws: the draws first there in each month, then those
    never there)."""
    months = plan.n_months
    rows = []
    for i, mark in enumerate(marks):
        cum = np.cumsum(first[i])
        at = [inverse_cdf_row(cum, q, n) for q in DATE_PERCENTILES]
        never = rounded(int(first[i, months]), n, SHARE_PLACES)
        rows.append(date_row(plan, scenario, variant, mark, at, never))
    return rows


def dates_of(parts: list[list[dict[str, Any]]]) -> pd.DataFrame:
    """One ``dates.csv`` frame of the rows of ``parts`` (each a variant's
    :func:`date_row` rows), in order: the frame ``pandas.concat`` of each part's own
    frame gives. That is one frame of all the rows unless some part has no rows, or a
    date column that is never reached in any of its rows (a part's own frame then
    holds that column as dates, not months, and the concat holds it as objects)."""
    whole = all(
        part and all(any(row[c] is not pd.NaT for row in part) for c in _DATE_MONTHS)
        for part in parts
    )
    if whole or len(parts) == 1:
        return pd.DataFrame([row for part in parts for row in part], columns=DATE_COLUMNS)
    frames = [pd.DataFrame(part, columns=DATE_COLUMNS) for part in parts]
    with warnings.catch_warnings():
        # pandas before 3 warns that it will stop leaving all-NA columns out of the
        # result's dtypes; the rows, and the CSV text, are the same either way
        warnings.filterwarnings("ignore", "The behavior of DataFrame concatenation", FutureWarning)
        return pd.concat(frames, ignore_index=True)


_DATE_MONTHS = [f"p{q}" for q in DATE_PERCENTILES]


def date_row(
    plan: Plan,
    scenario: str,
    variant: str,
    mark: tuple[str, str, int],
    at: list[int],
    never: float,
) -> dict[str, Any]:
    """One ``dates.csv`` row: threshold ``mark`` (series, label, level), first reached in
    month index ``at[j]`` by the ``DATE_PERCENTILES[j]`` percentile of the draws (an
    index past the horizon: never, written empty), and ``never`` the share of draws that
    never reach it, rounded (:func:`rounded`)."""
    name, label, level = mark
    row: dict[str, Any] = {
        "scenario": scenario,
        "variant": variant,
        "theater": name,
        "threshold": label,
        "level": level,
    }
    for q, m in zip(DATE_PERCENTILES, at, strict=True):
        row[f"p{q}"] = month_period(plan.start + m) if m < plan.n_months else pd.NaT
    row["never"] = never
    return row


#: the ``bands.csv`` columns of some variants, before they are one frame: each column
#: as an array (``month`` as month ordinals), from :func:`band_columns`
BandColumns = dict[str, NDArray[Any]]


def band_columns(
    scenario: str, variant: str, plan: Plan, names: list[str], columns: dict[str, list[Any]]
) -> BandColumns:
    """``bands.csv`` columns of one variant from per-series columns: ``columns[c][i]``
    holds column ``c`` (``mean``, ``min``, ``pXX``, ``max``) of series ``names[i]``, one
    value per month. :func:`bands_of` makes the frame of several variants at once (one
    frame costs about as much as one variant's small frame)."""
    return {
        **key_columns(scenario, variant, plan, names),
        **{
            c: np.concatenate(v).astype(np.int64) if c != "mean" else np.concatenate(v)
            for c, v in columns.items()
        },
    }


def bands_of(parts: list[BandColumns]) -> pd.DataFrame:
    """One ``bands.csv`` frame of the rows of ``parts`` (:func:`band_columns`), in order:
    the frame ``pandas.concat`` of each part's own frame would give."""
    return frame_of(parts, BAND_COLUMNS)


def value_sums(cum: NDArray[np.int64], last: int) -> NDArray[np.int64]:
    """Each row's sum of values over its draws, from the row's running sums of counts
    ``cum`` (rows, w) of consecutive whole values ending at ``last`` (column j is the
    value ``last - (w - 1 - j)``): with ``T = cum[:, -1]`` draws and ``h`` the counts,
    ``sum_j (last - (w - 1 - j)) h_j = last * T - sum_{j < w - 1} cum_j`` (each draw
    counted below each column under its own: summation by parts), exact in int64 and
    with no product of counts and values to hold. Shape (rows,)."""
    return last * cum[:, -1] - cum[:, :-1].sum(axis=1)


def inverse_cdf(cum: NDArray[np.int64], q: int, n: int) -> NDArray[np.int64]:
    """Smallest index whose cumulative count reaches ``q`` % of ``n`` (exact integers)."""
    return (cum < _needed(q, n)).sum(axis=1).astype(np.int64)


def inverse_cdf_row(cum: NDArray[np.int64], q: int, n: int) -> int:
    """:func:`inverse_cdf` of one row ``cum`` (cumulative counts, so never falling):
    found by bisection, as the count of the indices below the need."""
    return int(np.searchsorted(cum, _needed(q, n)))


def _needed(q: int, n: int) -> int:
    """The draws that ``q`` % of ``n`` takes: ceil(q n / 100), at least one."""
    return max(-(-q * n // 100), 1)


def level_views(
    plan: Plan, out: Any, names: list[str], members: list[list[int]]
) -> dict[str, NDArray[np.int32]]:
    views: dict[str, NDArray[np.int32]] = {}
    for t, tid in enumerate(plan.theaters):
        views[tid] = out.theaters[:, t, :]
    for name, tracks in zip(names, members, strict=True):
        if name not in views:
            views[name] = out.tracks[:, tracks[0], :]
    return views
