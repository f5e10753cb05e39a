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


def test_a_part_alike_within_each_chunk_but_not_across_chunks_is_counted_at_each_value():
    # (each chunk's start levels all alike, or its targets, or its sizes: that part
    # enters each draw's cell as one offset, not an array, and must land where a draw
    # of that value would)
    rng = np.random.default_rng(3)
    table = RampTable(SHARES, True)
    l0s, ts, sizes = [], [], []
    for l0, t, size in [(1740, (0, 30), (0, 20)), (1700, (0, 30), 15), (1720, 12, (0, 5))]:
        a, b, c = draws(rng, 400, l0, t, size)
        assert table.add([a, b, c])
        l0s.append(a)
        ts.append(b)
        sizes.append(c)
    assert table.spans[0] > 1 and table.spans[2] > 1  # (the parts do vary across chunks)
    want = per_draw(SHARES, *(np.concatenate(x) for x in (l0s, ts, sizes)))
    assert as_counters(table.levels()) == want


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


@pytest.mark.slow
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


# ---------------------------------------------------------------- tagged draws


def test_a_tagged_table_gives_each_tags_counts_across_chunks_whose_tags_spread():
    rng = np.random.default_rng(3)
    table = RampTable(SHARES, True, tagged=True)
    seen = []
    # tags 5..6, then lower (2..3), then one tag for all (broadcast), then higher
    for n, tags in ((400, (5, 6)), (1, (5, 5)), (700, (2, 3)), (300, 4), (500, (7, 9))):
        l0, t, size = draws(rng, n, (100, 150), 0, (0, 60))
        if isinstance(tags, tuple):
            tag = rng.integers(tags[0], tags[1] + 1, n).astype(np.int32)
        else:
            tag = np.broadcast_to(np.int64(tags), (n,))
        assert table.add([l0, t, size, tag], weight=2)
        seen.append((l0, t, size, np.asarray(tag)))
    l0, t, size, tag = (np.concatenate(x) for x in zip(*seen, strict=True))
    want = {}
    for k in np.unique(tag).tolist():
        mine = tag == k
        for m, c in enumerate(per_draw(SHARES, l0[mine], t[mine], size[mine])):
            for level, count in c.items():
                want[m, level, k] = 2 * count
    month, levels, n, tags = table.tagged_cells()
    assert np.all(np.diff(month) >= 0)  # months ascending
    got = Counter()
    for m, lv, c, k in zip(month.tolist(), levels.tolist(), n.tolist(), tags.tolist(), strict=True):
        got[m, lv, k] += c
    assert dict(got) == want


class SpreadTags:
    """A tagger that tags each draw from its unreported troops, within ``low..high``."""

    reads: list[tuple[int, int]] = []

    def __init__(self, low, high):
        self.low, self.high = low, high

    def tags(self, unreported):
        spread = unreported.sum(axis=1).astype(np.int64) % (self.high - self.low + 1)
        return (self.low + spread).astype(np.int32)

    def __call__(self, level_at, unreported):
        return self.tags(unreported)


@pytest.mark.parametrize("cells", [ramps.TABLE_CELLS, 0])
def test_tagged_draws_in_ramp_tables_count_each_draw_in_the_slot_of_its_tag(monkeypatch, cells):
    # the default scenario's ramps (drawn targets, a residual under the exit) in tables
    # per tag, or (no tables) month by month; against each draw stepped and counted
    from sim.analysis.ensemble import accumulator as make
    from sim.analysis.summaries import level_views
    from sim.model.draws import Draws
    from sim.model.stepper import step

    monkeypatch.setattr(ramps, "TABLE_CELLS", cells)
    scenario = sim.load_scenario("scenarios/iraq-syria-2024.yaml")
    result = sim.run(scenario)
    plan = scenario.plan("as-reported")
    acc = make(plan, result.milestones[result.milestones.variant == "as-reported"])
    source = Draws(5)
    ranges = [(6, 7), (2, 4), (9, 9), (3, 8)]
    inputs = [source.take(plan, n) for n in (3000, 2000, 500, 2500)]
    given = []
    for chunk, (low, high) in zip(inputs, ranges, strict=True):
        tagger = SpreadTags(low, high)
        acc.add_draws(chunk, tagger)
        given.append(tagger.tags(chunk.unreported))
    if cells:  # (tables that hold the draws of several tags, laid out again since)
        assert any(t.tagged and len(t.by_tag()) > 2 for t in acc.tables().values())
    acc.settle()
    assert acc.tags == list(range(2, 10))
    months, width, slots = plan.n_months, acc.width, len(acc.tags)
    want = np.zeros((len(acc.names), months, width, slots), np.int64)
    for chunk, tags in zip(inputs, given, strict=True):
        out = step(plan, chunk)
        views = level_views(plan, out, acc.names, acc.members)
        for i, name in enumerate(acc.names):
            lv = views[name].astype(np.int64)  # (n, months)
            m = np.broadcast_to(np.arange(months), lv.shape)
            s = np.broadcast_to((tags - 2)[:, None], lv.shape)
            np.add.at(want[i], (m, lv, s), 1)
    got = acc.hist.reshape(len(acc.names), months, width, slots)
    assert np.array_equal(got, want)
    assert acc.slot_n.tolist() == np.bincount(np.concatenate(given) - 2, minlength=slots).tolist()


class ReadingTags:
    """A tagger that reads every track in every month and tags each draw from the sum
    of its levels, within ``0..2``."""

    def __init__(self, plan):
        self.reads = [(k, m) for k in range(len(plan.tracks)) for m in range(plan.n_months)]

    def tags(self, levels):
        return (sum(levels) % 3).astype(np.int32)

    def __call__(self, level_at, unreported):
        return self.tags([level_at(k, m) for k, m in self.reads])


def test_a_ramp_month_the_tagger_read_is_counted_without_computing_it_again(monkeypatch):
    # every ramp counted month by month (no tables, no distinct draws): each month of
    # each track of a group is computed once, for the tagger, and counted from there
    from sim.analysis.ensemble import accumulator as make
    from sim.analysis.summaries import level_views
    from sim.model import fastpath
    from sim.model.draws import Draws
    from sim.model.stepper import step

    monkeypatch.setattr(ramps, "TABLE_CELLS", 0)
    monkeypatch.setattr(fastpath.Group, "ramp_counts", lambda *args: None)
    scenario = sim.load_scenario("scenarios/iraq-syria-2024.yaml")
    result = sim.run(scenario)
    plan = scenario.plan("slip-6")
    acc = make(plan, result.milestones[result.milestones.variant == "slip-6"])
    chunk = Draws(3).take(plan, 4000)
    tagger = ReadingTags(plan)
    computed = Counter()  # (group, track, month): times a ramp month was computed
    ramp_month, levels = fastpath.Group.ramp_month, fastpath.Group.levels
    groups = []  # (kept, so that no two groups share an id)

    def one_month(self, k, li, source, m, out, scratch):
        groups.append(self)
        computed[id(self), k, m] += 1
        return ramp_month(self, k, li, source, m, out, scratch)

    def months(self, k, lo, hi, out=None, scratch=None):
        groups.append(self)
        for a, b, ramp, _, _ in self.runs(k):
            for m in range(max(a, lo), min(b, hi) + 1):
                computed[id(self), k, m] += ramp
        return levels(self, k, lo, hi, out, scratch)

    monkeypatch.setattr(fastpath.Group, "ramp_month", one_month)
    monkeypatch.setattr(fastpath.Group, "levels", months)
    acc.add_draws(chunk, tagger)
    assert computed and max(computed.values()) == 1
    acc.settle()
    out = step(plan, chunk)
    tags = tagger.tags([out.tracks[:, k, m].astype(np.int64) for k, m in tagger.reads])
    months_, width, slots = plan.n_months, acc.width, len(acc.tags)
    want = np.zeros((len(acc.names), months_, width, slots), np.int64)
    views = level_views(plan, out, acc.names, acc.members)
    for i, name in enumerate(acc.names):
        lv = views[name].astype(np.int64)
        m = np.broadcast_to(np.arange(months_), lv.shape)
        s = np.broadcast_to((tags - acc.tags[0])[:, None], lv.shape)
        np.add.at(want[i], (m, lv, s), 1)
    assert np.array_equal(acc.hist.reshape(want.shape), want)


@pytest.mark.parametrize("sized", [True, False])
def test_a_tagged_tables_cells_of_every_tag_at_once_are_those_of_each_tag_alone(sized):
    # the levels of every tag come out of one pass over the months: the same counts
    # as each tag's own table (by_tag) gives, also where the ramps cross
    rng = np.random.default_rng(8)
    for crossing in (False, True):
        table = RampTable(SHARES, sized, tagged=True)
        for _ in range(3):
            n = 600
            # (crossing: both the start level and the target vary, so the ramps cross)
            spans = ((100, 115), (0, 20), (0, 20)) if crossing else ((100, 150), 0, (0, 60))
            l0, t, size = draws(rng, n, *spans)
            tag = rng.integers(2, 7, n).astype(np.int32)
            assert table.add([l0, t, size, tag] if sized else [l0, t, tag])
        want = Counter()
        for k, own in table.by_tag():
            for m, lv, c in zip(*(x.tolist() for x in own.cells()), strict=True):
                want[m, lv, k] += c
        month, levels, n_, tags = table.tagged_cells()
        assert np.all(np.diff(month) >= 0)
        got = Counter()
        for m, lv, c, k in zip(*(x.tolist() for x in (month, levels, n_, tags)), strict=True):
            got[m, lv, k] += c
        assert +got == +want and len(want) > 50


def test_a_tagged_held_level_gives_each_tags_counts():
    table = RampTable(SHARES[:1], False, tagged=True)
    rng = np.random.default_rng(9)
    level = rng.integers(40, 60, 500).astype(np.float64)
    tag = rng.integers(0, 3, 500).astype(np.int32)
    assert table.add([level, tag])
    month, levels, n, tags = table.tagged_cells()
    got = Counter()
    for m, lv, c, k in zip(*(x.tolist() for x in (month, levels, n, tags)), strict=True):
        got[m, lv, k] += c
    want = Counter(zip([0] * 500, level.astype(int).tolist(), tag.tolist(), strict=True))
    assert got == want


@pytest.mark.parametrize(
    "l0,t,size,crossing",
    [
        ((1600, 1800), 0, (0, 300), False),  # a residual under a falling ramp
        ((100, 130), (0, 30), (0, 60), True),  # ramps that cross, and a residual
    ],
)
def test_a_sized_tables_levels_are_those_the_tagged_pass_gives_draws_of_one_tag(
    l0, t, size, crossing
):
    # levels and tagged_cells read a sized table's months in one pass (_sized): the
    # table's levels are, month by month, the cells of the same draws under one tag
    rng = np.random.default_rng(11)
    plain, tagged = RampTable(SHARES, True), RampTable(SHARES, True, tagged=True)
    for n in (400, 3):
        a, b, c = draws(rng, n, l0, t, size)
        assert plain.add([a, b, c]) and tagged.add([a, b, c, np.full(n, 4, np.int64)])
    month, level, n_, tag = tagged.tagged_cells()
    assert set(tag.tolist()) == {4}
    want = [Counter() for _ in SHARES]
    for m, lv, k in zip(month.tolist(), level.tolist(), n_.tolist(), strict=True):
        want[m][lv] += k
    assert as_counters(plain.levels()) == want
    crossed = [c for *_, c in plain._sized(np.zeros(1, np.int64))]
    assert len(crossed) == len(SHARES) and any(crossed) == crossing


@pytest.mark.parametrize("cells", [1 << 20, ramps.TABLE_CELLS])
def test_a_residual_under_the_ramp_it_ends_is_no_input_of_the_ramp_and_counts_stay_exact(
    monkeypatch, cells
):
    # the default scenario's advisory residual is the target of the ramp it floors
    # (Iraq's exit), so it never lifts a level: the ramp is tabled by start level and
    # target alone (with room for them), or stepped without the floor; either way
    # each month's counts are those of each draw stepped and counted
    from sim.analysis.ensemble import accumulator as make
    from sim.analysis.summaries import level_views
    from sim.model import fastpath
    from sim.model.draws import Draws
    from sim.model.stepper import step_dense

    monkeypatch.setattr(ramps, "TABLE_CELLS", cells)
    lifts = []
    lifting_floor = fastpath.Group.lifting_floor

    def seen(self, k, li, j):
        got = lifting_floor(self, k, li, j)
        if li:
            lifts.append(got is not None)
        return got

    monkeypatch.setattr(fastpath.Group, "lifting_floor", seen)
    scenario = sim.load_scenario("scenarios/iraq-syria-2024.yaml")
    result = sim.run(scenario, variants=["residual"])
    plan = scenario.plan("residual")
    acc = make(plan, result.milestones)
    chunk = Draws(11).take(plan, 6000)
    acc.add_draws(chunk)
    assert lifts and not any(lifts)
    sized = [key for key, table in acc.tables().items() if table.sized]
    assert not sized
    if cells > ramps.TABLE_CELLS:
        assert any(
            len(t.spans) == 2 and t.counts.size > ramps.TABLE_CELLS // 8
            for t in acc.tables().values()
        )
    acc.settle()
    out = step_dense(plan, chunk)  # (the model as written: no fast path)
    views = level_views(plan, out, acc.names, acc.members)
    months = plan.n_months
    for i, name in enumerate(acc.names):
        lv = views[name].astype(np.int64)
        want = np.zeros((months, acc.width), np.int64)
        np.add.at(want, (np.broadcast_to(np.arange(months), lv.shape), lv), 1)
        assert np.array_equal(acc.hist[i].reshape(months, -1)[:, : acc.width], want), name
