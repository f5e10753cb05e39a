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
