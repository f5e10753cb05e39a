"""Ramp tables: a window's months counted from how many draws took each combination of
its inputs, once at the end, equal to counting every draw's level month by month."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from test_ensemble import rich_doc

import sim
import sim.analysis.accumulator as accumulator
import sim.analysis.ramps as ramps
from sim.analysis.ramps import RampTable
from sim.model.rules import share_table


def per_draw(shares, l0, t, size=None):
    """Each month's Counter of levels, computed draw by draw as the stepper does."""
    out = []
    for sh in shares:
        level = ((t - l0) * sh + l0 + 0.5).astype(np.int64)
        if size is not None:
            level = np.maximum(level, size)
        out.append(Counter(level.tolist()))
    return out


def as_counters(got):
    return [Counter(dict(zip(lv.tolist(), n.tolist(), strict=True))) for lv, n in got]


SHARES = np.asarray(share_table(4, 9), np.float64)  # an s-curve over nine months


def draws(rng, n, l0, t, size):
    """(l0, T, size) of n draws; each given as a number (all alike) or (low, high)."""

    def part(spec, dtype):
        if isinstance(spec, tuple):
            return rng.integers(spec[0], spec[1] + 1, n).astype(dtype)
        return np.full(n, spec, dtype)

    sized = None if size is None else part(size, np.int64)
    return part(l0, np.float64), part(t, np.float64), sized


@pytest.mark.parametrize(
    "l0,t,size",
    [
        (2500, (1600, 2200), None),  # a drawn target
        ((1600, 2200), 0, None),  # a drawn start
        ((100, 300), (0, 200), None),  # both drawn: ramps that cross
        ((1600, 1800), 0, (0, 300)),  # a residual under a falling ramp
        (300, (0, 100), (0, 250)),  # a residual that can be above the ramp
        ((100, 130), (0, 30), (0, 60)),  # ramps that cross, and a residual
        (500, 500, (0, 900)),  # a ramp that stays, under a residual
    ],
)
def test_a_table_gives_the_counts_of_every_draw_s_level_month_by_month(l0, t, size):
    rng = np.random.default_rng(7)
    table = RampTable(SHARES, size is not None)
    l0s, ts, sizes = [], [], []
    for n in (300, 1, 5000):  # chunks of different sizes and ranges
        a, b, c = draws(rng, n, l0, t, size)
        assert table.add([a, b] if c is None else [a, b, c])
        l0s.append(a)
        ts.append(b)
        if c is not None:
            sizes.append(c)
    want = per_draw(
        SHARES, np.concatenate(l0s), np.concatenate(ts), np.concatenate(sizes) if sizes else None
    )
    assert as_counters(table.levels()) == want
    month, levels, n = table.cells()  # the same, flat
    got = [Counter() for _ in SHARES]
    for m, lv, c in zip(month.tolist(), levels.tolist(), n.tolist(), strict=True):
        got[m][lv] += c
    assert got == want


def test_a_table_counts_a_draw_that_stands_for_many_with_its_weight():
    table = RampTable(SHARES, True)
    l0, t, size = np.array([900.0]), np.array([0.0]), np.array([150])
    assert table.add([l0, t, size], weight=40)
    got = as_counters(table.levels())
    want = per_draw(SHARES, l0, t, size)
    assert got == [Counter({k: 40 * v for k, v in c.items()}) for c in want]


def test_a_table_that_would_be_too_wide_counts_nothing_and_says_so(monkeypatch):
    monkeypatch.setattr(ramps, "TABLE_CELLS", 1000)
    table = RampTable(SHARES, False)
    assert table.add([np.array([0.0, 10.0]), np.array([0.0, 50.0])])  # 11 x 51 cells
    assert not table.add([np.array([0.0, 40.0]), np.array([0.0, 50.0])])  # 41 x 51
    assert table.counts.sum() == 2
    assert sum(n.sum() for _, n in table.levels()) == 2 * len(SHARES)


def run_frames(scenario, **kw):
    result = sim.run(scenario, draws=1500, seed=11, **kw)
    return [result.bands, result.dates, result.milestones]


@pytest.mark.parametrize("chunk", [None, 257])
def test_summaries_with_ramp_tables_equal_those_counted_draw_by_draw(write, monkeypatch, chunk):
    scenarios = [
        sim.load_scenario(write(rich_doc(True))),
        sim.load_scenario("scenarios/iraq-syria-2024.yaml"),
    ]
    for scenario in scenarios:
        tabled = run_frames(scenario, chunk=chunk)
        with monkeypatch.context() as m:  # every table counted out as soon as it is added to
            m.setattr(accumulator, "RAMP_BYTES", 0)
            flushed = run_frames(scenario, chunk=chunk)
        with monkeypatch.context() as m:  # some tables refused once their inputs spread
            m.setattr(ramps, "TABLE_CELLS", 300)
            narrow = run_frames(scenario, chunk=chunk)
        with monkeypatch.context() as m:  # no tables: every ramp month counted draw by draw
            m.setattr(ramps, "TABLE_CELLS", 0)
            plain = run_frames(scenario, chunk=chunk)
        for a, b, c, d in zip(tabled, flushed, narrow, plain, strict=True):
            pd.testing.assert_frame_equal(a, d)
            pd.testing.assert_frame_equal(b, d)
            pd.testing.assert_frame_equal(c, d)
