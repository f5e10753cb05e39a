"""Scores of level distributions: exact CRPS, interval score, percentiles."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analysis.scores import band, crps, interval_score, percentile

scoringrules = pytest.importorskip("scoringrules")


def test_crps_of_a_hand_made_distribution_is_the_sum_of_squared_gaps():
    # draws at 1, 2, 2, 5 troops; observed 3: F = .25 .75 .75 .75 1 at levels 1..5
    counts = [0, 1, 2, 0, 0, 1]
    assert crps(counts, 3) == pytest.approx(0.0625 + 0.5625 + 0.0625 + 0.0625)


def test_crps_of_a_certain_projection_is_the_distance_to_the_observation():
    assert crps([0, 0, 0, 0, 1], 1) == 3.0
    assert crps([0, 0, 0, 0, 1], 4) == 0.0
    assert crps([1], 10) == 10.0  # observed beyond every level counted


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_crps_equals_scoringrules_ensemble_crps(seed):
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, 60, size=200)
    observed = int(rng.integers(0, 80))
    counts = np.bincount(draws)
    expected = float(scoringrules.crps_ensemble(float(observed), draws.astype(float)))
    assert crps(counts, observed) == pytest.approx(expected, rel=1e-12)


def test_interval_score_matches_the_formula_and_scoringrules():
    assert interval_score(10, 20, 15, 0.2) == 10.0
    assert interval_score(10, 20, 5, 0.2) == 10.0 + 2 / 0.2 * 5
    assert interval_score(10, 20, 26, 0.5) == 10.0 + 2 / 0.5 * 6
    for lo, hi, y, a in [(10, 20, 5, 0.2), (0, 3, 9, 0.5), (4, 4, 4, 0.2)]:
        expected = float(scoringrules.interval_score(float(y), float(lo), float(hi), a))
        assert interval_score(lo, hi, y, a) == pytest.approx(expected)


def test_bands_are_exact_percentiles_of_the_counts():
    counts = np.bincount(np.arange(100))  # one draw at each level 0..99
    assert band(counts, 80) == (9, 89)
    assert band(counts, 50) == (24, 74)
    assert percentile(counts, 50) == int(np.percentile(np.arange(100), 50, method="inverted_cdf"))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: crps([], 1), "one row"),
        (lambda: crps([0.5, 0.5], 1), "whole-number"),
        (lambda: crps([0, 0], 1), "at least one draw"),
        (lambda: crps([1], -1), "0 or more"),
        (lambda: interval_score(5, 4, 1, 0.2), "lower <= upper"),
        (lambda: interval_score(4, 5, 1, 1.5), "alpha"),
    ],
)
def test_scores_refuse_what_is_not_a_distribution(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_weighted_counts_as_exact_integers_give_the_weighted_crps_and_bands():
    # weights 3 and 1 on levels 10 and 20: the same as 3 draws at 10 and 1 at 20
    big = 10**30  # beyond 64 bits
    weighted = np.array([0] * 10 + [3 * big] + [0] * 9 + [big], dtype=object)
    plain = np.bincount([10, 10, 10, 20])
    assert crps(weighted, 15) == pytest.approx(crps(plain, 15))
    assert band(weighted, 50) == band(plain, 50) == (10, 10)
    assert percentile(weighted, 80) == percentile(plain, 80) == 20


@pytest.mark.parametrize(
    ("call", "message"),
    [
        # a fraction of a troop was cut off (crps([1, 1], 2.7) gave 1.25; it is 1.95)
        (lambda: crps([1, 1], 2.7), r"whole number of troops, found 2\.7"),
        (lambda: crps([1, 1], float("nan")), "whole number of troops, found nan"),
        (lambda: crps([1, 1], True), "whole number of troops, found True"),
        # a NaN observation scored as inside the band
        (lambda: interval_score(10, 20, float("nan"), 0.2), "observed as a finite number"),
        (lambda: interval_score(float("-inf"), 20, 5, 0.2), "lower as a finite number"),
        # a bare StopIteration, or a band of (min, max) or (p50, p50)
        (lambda: percentile([1, 2], 150), r"0 < q <= 100, found 150"),
        (lambda: percentile([1, 2], 0), r"0 < q <= 100, found 0"),
        (lambda: percentile([1, 2], -5), r"0 < q <= 100, found -5"),
        (lambda: percentile([1, 2], float("nan")), "q as a number of percent"),
        (lambda: band([1, 2], 120), r"0 < coverage < 100, found 120"),
        (lambda: band([1, 2], 100), r"0 < coverage < 100, found 100"),
        (lambda: band([1, 2], 0), r"0 < coverage < 100, found 0"),
        # text and True were read as numbers
        (lambda: percentile([1, 2], "50"), "q as a number of percent, found '50'"),
        (lambda: percentile([1, 2], True), "q as a number of percent, found True"),
        (lambda: band([1, 2], "80"), "coverage as a number of percent"),
        (lambda: interval_score(True, 10, 5, 0.2), "lower as a finite number"),
        # an int past a float's range raised OverflowError
        (lambda: interval_score(0, 10, 10**400, 0.2), "observed as a finite number"),
    ],
)
def test_scores_refuse_an_observation_or_percent_outside_what_they_are_defined_for(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_float_observation_with_no_fraction_and_a_float_coverage_are_taken_exactly():
    counts = [3, 0, 5, 2]
    assert crps(counts, 2.0) == crps(counts, 2) == crps(counts, np.int64(2))
    assert band(counts, 80.0) == band(counts, 80)


def test_crps_of_an_observation_far_above_every_level_adds_one_per_level_between():
    # the sum past the last level was laid out level by level: memory grew with y
    counts = [1, 1]
    y = 10**12
    # F(0) = 1/2, F(1) = 1: (1/2)^2 + then 1 for each level 1 .. y - 1
    assert crps(counts, y) == 0.25 + (y - 1)
    assert crps(counts, 7) == pytest.approx(
        float(scoringrules.crps_ensemble(7.0, np.array([0.0, 1.0]), estimator="nrg"))
    )


def test_the_share_inside_a_band_of_shared_levels_is_at_least_its_coverage():
    from fractions import Fraction

    from sim.analysis.scores import band_share

    # 10 draws, 6 at level 2: the 80 % band p10-p90 is [1, 3] and holds all 10
    assert band([0, 2, 6, 2], 80) == (1, 3)
    assert band_share([0, 2, 6, 2], 80) == 1
    # 10 draws, one per level: p10 = 0, p90 = 8, 9 of 10 inside
    assert band_share([1] * 10, 80) == Fraction(9, 10)
    rng = np.random.default_rng(5)
    for _ in range(200):
        counts = rng.integers(0, 4, size=int(rng.integers(1, 12)))
        if counts.sum() == 0:
            continue
        for coverage in (50, 80):
            lo, hi = band(counts, coverage)
            draws = np.repeat(np.arange(len(counts)), counts)
            inside = np.mean((draws >= lo) & (draws <= hi))
            assert band_share(counts, coverage) == Fraction(
                int(counts[lo : hi + 1].sum()), len(draws)
            )
            assert inside >= coverage / 100
