"""Scores of a projected distribution of whole troops against what was observed.

Every function takes the projection as **level counts**: ``counts[L]`` draws (or
weights) at level ``L`` troops, the form in which an ensemble keeps each month
(:mod:`sim.analysis.ensemble`). The scores are exact for that distribution; no
sampling or interpolation is involved.

* **CRPS**, the continuous ranked probability score (Matheson & Winkler 1976;
  Gneiting & Raftery 2007, eq. 20): ``∫ (F(x) − 1{x ≥ y})² dx`` for the
  projected cumulative distribution ``F`` and the observed level ``y``. For a
  distribution on whole troops and a whole-troop ``y`` the integrand is
  constant between consecutive levels, so the integral is the sum over levels
  ``L`` of ``(F(L) − 1{L ≥ y})²`` [troops]. It equals the empirical-ensemble
  CRPS ``E|X − y| − ½ E|X − X'|``.
* **Interval score** of the central ``(1 − α)`` band ``[l, u]`` (Gneiting &
  Raftery 2007, eq. 43): ``(u − l) + (2/α)(l − y)·1{y < l} + (2/α)(y − u)·1{y > u}``
  [troops]. The 80 % band (p10–p90) has ``α = 0.2``, the 50 % band (p25–p75)
  ``α = 0.5``.
* **Percentile** ``p_q``: the smallest level ``L`` with at least ``q`` % of the
  draws (or weight) at or below it, the inverse of the empirical distribution
  function (Hyndman & Fan 1996, *The American Statistician* 50, 361-365,
  definition 1); always a level some draw had. The central ``c`` % band is
  ``[p_(50 − c/2), p_(50 + c/2)]``.
* **Coverage**: whether ``y`` lies within a band, ends included.

Lower scores are better. A band of whole-troop levels holds the draws at its ends
too, so the 80 % band holds at least 80 % of the draws, and more where many draws
share an end's level: a calibrated 80 % band covers about the share of the draws it
holds (:func:`band_share`), at least 80 % of later observations.
"""

from __future__ import annotations

import math
from fractions import Fraction
from numbers import Integral, Rational, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _counts(counts: ArrayLike) -> NDArray[np.object_]:
    """Counts as exact Python integers (weighted counts may exceed 64 bits)."""
    out = np.asarray(counts)
    if out.ndim != 1 or not len(out):
        raise ValueError(f"expected one row of level counts, found shape {out.shape}")
    if out.dtype.kind == "O" and all(isinstance(v, int) for v in out):
        out = out.copy()
    elif out.dtype.kind in "iu":
        out = out.astype(object)
    else:
        raise ValueError(f"expected whole-number counts, found dtype {out.dtype}")
    if (out < 0).any() or out.sum() == 0:
        raise ValueError("expected counts of 0 or more with at least one draw")
    return out


def _whole(value: Any, name: str) -> int:
    """``value`` as a whole number of troops, 0 or more (an int, a NumPy integer or a
    float with no fraction), else ValueError naming it."""
    whole_valued = isinstance(value, Integral) or (
        isinstance(value, Real) and math.isfinite(value) and float(value).is_integer()
    )
    if isinstance(value, bool) or not whole_valued:
        raise ValueError(f"expected {name} as a whole number of troops, found {value!r}")
    whole = int(value)
    if whole < 0:
        raise ValueError(f"expected {name} of 0 or more, found {value!r}")
    return whole


def _percent(value: Any, name: str, *, top: bool) -> Fraction:
    """``value`` taken exactly, refused (ValueError) unless ``0 < value < 100`` (or
    ``<= 100`` with ``top``)."""
    try:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError  # (Fraction would read "50" and True as numbers)
        exact = Fraction(value) if isinstance(value, Rational) else Fraction(float(value))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"expected {name} as a number of percent, found {value!r}") from None
    if not (0 < exact <= 100 if top else 0 < exact < 100):
        span = "0 < {0} <= 100" if top else "0 < {0} < 100"
        raise ValueError(f"expected {span.format(name)}, found {value!r}")
    return exact


def crps(counts: ArrayLike, observed: int) -> float:
    """Exact CRPS of the level distribution ``counts`` at the observed level.

    Parameters
    ----------
    counts : array_like of int, shape (levels,)
        ``counts[L]``: draws at level ``L`` [troops], ``L = 0 .. levels − 1``; whole
        numbers, or exact integer weights (an object array of Python ints) for a
        weighted ensemble.
    observed : int
        The observed level [troops], a whole number, 0 or more (a float with no
        fraction is taken as its int).

    Returns
    -------
    float
        ``Σ_L (F(L) − 1{L ≥ observed})²`` [troops], computed in exact integer
        arithmetic and rounded once to a float. Each level from the last with a
        count up to below ``observed`` adds exactly 1 (F is 1 there, the step 0):
        those are added as their number, so the time and memory do not grow with
        ``observed``.

    Raises
    ------
    ValueError
        For counts that are not one row of whole numbers with at least one draw, or
        an observed level that is not a whole number of 0 or more (the sum is the
        integral only between whole levels).
    """
    c = _counts(counts)
    y = _whole(observed, "an observed level")
    n = int(c.sum())
    gap = np.cumsum(c)  # N·F(L) − N·1{L ≥ y} for L below len(c), exact Python integers
    gap[y:] -= n
    beyond = max(0, y - len(c))  # levels len(c) .. y − 1: N·F = N, no step yet
    return float(Fraction(int((gap * gap).sum()) + beyond * n * n, n * n))


def interval_score(lower: int, upper: int, observed: float, alpha: float) -> float:
    """Interval score of the central ``(1 − alpha)`` band ``[lower, upper]``.

    Parameters
    ----------
    lower, upper : int
        The band's ends [troops], ``lower <= upper``.
    observed : float
        The observed level [troops].
    alpha : float
        ``0 < alpha < 1``, a share (not percent); the band should be the ``α/2`` and
        ``1 − α/2`` quantiles (:func:`band`): 0.2 for the 80 % band (p10–p90), 0.5
        for the 50 % band (p25–p75).

    Returns
    -------
    float
        ``(u − l) + (2/α)(l − y)·1{y < l} + (2/α)(y − u)·1{y > u}`` [troops]
        (Gneiting & Raftery 2007, eq. 43).

    Raises
    ------
    ValueError
        For ``lower > upper``, ``alpha`` outside (0, 1), or an end or ``observed``
        that is not a finite number (a NaN would have scored as inside the band).
    """
    for name, value in (("lower", lower), ("upper", upper), ("observed", observed)):
        try:
            finite = not isinstance(value, bool) and math.isfinite(value)
        except (TypeError, OverflowError):  # (not a number, or an int past a float's range)
            finite = False
        if not finite:
            raise ValueError(f"expected {name} as a finite number of troops, found {value!r}")
    if lower > upper:
        raise ValueError(f"expected lower <= upper, found {lower} > {upper}")
    if not 0 < alpha < 1:
        raise ValueError(f"expected 0 < alpha < 1, found {alpha}")
    score = float(upper - lower)
    if observed < lower:
        score += 2.0 / alpha * (lower - observed)
    elif observed > upper:
        score += 2.0 / alpha * (observed - upper)
    return score


def percentile(counts: ArrayLike, q: float | Fraction) -> int:
    """The ``q``-th percentile of a level distribution: the smallest level ``L`` with
    at least ``q`` % of the draws at or below it (the inverse of the empirical
    distribution function, Hyndman & Fan 1996, definition 1; always a level some
    draw had).

    Parameters
    ----------
    counts : array_like of int, shape (levels,)
        ``counts[L]``: draws (or exact integer weights) at level ``L`` [troops].
    q : float or Fraction
        Percent, 0 < q <= 100 (taken exactly: ``Fraction(q)``).

    Returns
    -------
    int
        The level [troops]: ``min{L : Σ_{l ≤ L} counts[l] ≥ ⌈q·N/100⌉}`` for ``N``
        draws, and the lowest level with a draw for ``q`` near 0.

    Raises
    ------
    ValueError
        For counts that are not one row of whole numbers with at least one draw, or
        ``q`` outside ``0 < q <= 100``.
    """
    c = _counts(counts)
    n = int(c.sum())
    need = -(-_percent(q, "q", top=True) * n // 100)  # ceil(q n / 100)
    cum = np.cumsum(c)
    return int(next(i for i, v in enumerate(cum) if v >= max(need, 1)))


def band(counts: ArrayLike, coverage: int | Fraction) -> tuple[int, int]:
    """The central band holding ``coverage`` % of the draws: ``(p_lo, p_hi)`` with
    ``lo = (100 − coverage) / 2`` and ``hi = 100 − lo`` (80 → p10–p90).

    Parameters
    ----------
    counts : array_like of int, shape (levels,)
        ``counts[L]``: draws (or exact integer weights) at level ``L`` [troops].
    coverage : int or Fraction
        Percent, 0 < coverage < 100 (taken exactly).

    Returns
    -------
    tuple of int
        The band's ends [troops], each a :func:`percentile`; for ``coverage = 100·(1 − α)``
        they are the ``α/2`` and ``1 − α/2`` quantiles that :func:`interval_score` takes.

    Raises
    ------
    ValueError
        As for :func:`percentile`, or for ``coverage`` outside ``0 < coverage < 100``.
    """
    lo = (100 - _percent(coverage, "coverage", top=False)) / 2
    return percentile(counts, lo), percentile(counts, 100 - lo)


def band_share(counts: ArrayLike, coverage: int | Fraction) -> Fraction:
    """The share of the draws (or weight) inside the central ``coverage`` % band, ends
    included: ``(Σ_{p_lo ≤ L ≤ p_hi} counts[L]) / N``, at least ``coverage / 100``
    (each end is a level some draws share; the band holds all of them). It is what
    the band's coverage of observations should come to when the projection is
    calibrated.

    Parameters
    ----------
    counts : array_like of int, shape (levels,)
        ``counts[L]``: draws (or exact integer weights) at level ``L`` [troops].
    coverage : int or Fraction
        Percent, 0 < coverage < 100.

    Returns
    -------
    Fraction
        The share, exactly, between ``coverage / 100`` and 1.

    Raises
    ------
    ValueError
        As for :func:`band`.
    """
    c = _counts(counts)
    lo, hi = band(c, coverage)
    return Fraction(int(c[lo : hi + 1].sum()), int(c.sum()))
