"""A window counted draw by draw once, for every variant stepped alike through it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import DEFAULT_SCENARIO

import sim
import sim.analysis.accumulator as accumulator
from sim.analysis.windows import WindowCounts, WindowInputs, WindowMemo, shared_windows


def _inputs(n, shift=0.0, floor=False):
    rng = np.random.default_rng(3)
    l0 = rng.integers(1600, 2200, n).astype(np.float64) + shift
    t = rng.integers(0, 600, n).astype(np.float64)
    return WindowInputs(l0, t, t.astype(np.int64) if floor else None, np.linspace(0, 1, 5))


def _counts(n):
    return WindowCounts([(0, np.ones(n, np.int64))], None)


def test_a_window_is_found_by_equal_inputs_only_value_by_value():
    memo = WindowMemo()
    a = _inputs(1000)
    memo.keep(a, _counts(3))
    assert memo.find(_inputs(1000), sums=False) is not None  # equal values, other arrays
    assert memo.find(_inputs(1000, shift=1.0), sums=False) is None  # one start level off
    assert memo.find(_inputs(1000, floor=True), sums=False) is None  # a floor that lifts
    assert memo.find(_inputs(999), sums=False) is None
    assert memo.find(a, sums=True) is None  # kept without the months' sums
    a.level0[0] += 1  # (a copy was kept: the caller's arrays may change after)
    assert memo.find(_inputs(1000), sums=False) is not None


def test_the_windows_kept_stay_within_their_budget_the_oldest_going_first():
    one = _inputs(1000)
    size = one.nbytes + _counts(3).nbytes
    memo = WindowMemo(budget=2 * size)
    for shift in range(3):
        memo.keep(_inputs(1000, shift=float(shift)), _counts(3))
    assert memo.find(_inputs(1000, shift=0.0), sums=False) is None
    assert memo.find(_inputs(1000, shift=2.0), sums=False) is not None
    memo.keep(_inputs(100_000), _counts(3))  # larger than the budget: not kept
    assert memo.find(_inputs(1000, shift=1.0), sums=False) is not None


def test_windows_are_shared_only_while_a_chunk_is_fed_side_by_side():
    assert accumulator.window_memo() is None
    with shared_windows():
        memo = accumulator.window_memo()
        assert memo is not None
        with shared_windows():  # (nested: the same memo)
            assert accumulator.window_memo() is memo
    assert accumulator.window_memo() is None


def test_variants_stepped_alike_count_a_shared_window_once_with_the_same_results(monkeypatch):
    # on-time, slip-3 and slip-6 step Iraq's exit through the same draws, months apart:
    # counted once, the bands, dates and chances are those of each counted alone
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    names = ["on-time", "slip-3", "slip-6", "as-reported"]
    found = []
    find = WindowMemo.find

    def seen(self, inputs, *, sums):
        got = find(self, inputs, sums=sums)
        found.append(got is not None)
        return got

    monkeypatch.setattr(WindowMemo, "find", seen)
    shared = sim.run(scenario, variants=names, draws=300_000, seed=5)
    assert any(found)
    monkeypatch.setattr(accumulator, "window_memo", lambda: None)
    alone = sim.run(scenario, variants=names, draws=300_000, seed=5)
    pd.testing.assert_frame_equal(shared.bands, alone.bands)
    pd.testing.assert_frame_equal(shared.dates, alone.dates)
    pd.testing.assert_frame_equal(shared.milestones, alone.milestones)


def test_the_last_variant_fed_a_chunk_keeps_no_window_and_the_memo_goes_after_it():
    from sim.analysis.chunks import Fanned

    seen = []

    class Consumer:
        def add_chunk(self, inputs):
            memo = accumulator.window_memo()
            seen.append((memo is not None and memo.keeping, memo))

    Fanned([Consumer(), Consumer(), Consumer()]).add_chunk([None, None, None])
    assert [k for k, _ in seen] == [True, True, False]
    assert len({id(m) for _, m in seen}) == 1  # one memo for the chunk's variants
    assert accumulator.window_memo() is None
    memo = WindowMemo()
    memo.keeping = False
    memo.keep(_inputs(10), _counts(3))
    assert memo.find(_inputs(10), sums=False) is None
    assert not memo.wanted(_inputs(10))  # (nothing kept, nothing to keep: not looked up)
