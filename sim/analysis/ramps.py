"""Ramp tables: the months of a window counted once for the whole ensemble.

In a window's months a draw's level is ``L = max(floor(l0 + (T - l0) * share + 0.5),
size)`` (:mod:`sim.model.rules`): it depends only on the draw's start level ``l0``, its
target ``T`` and its residual ``size`` [troops], and on the month's ``share`` of the
window, which is the same for every draw of a timing group. So the counts of the draws
of every chunk that share a window's months follow from how many draws took each
combination ``(l0, T, size)``: a :class:`RampTable` keeps those counts, chunk after
chunk, and :meth:`RampTable.levels` turns them into each month's counts of levels once,
at the end, with the same float arithmetic as the stepper (so the counts are equal to
the last draw).

Where the size does not vary, that is one level per combination and month. Where it
does, the levels of month m are the maxima of the ramp's level ``r_m(l0, T)`` and the
size; when ``r_m`` does not fall as the combinations ``(l0, T)`` are taken in order
(always so when only one of ``l0`` and ``T`` varies), the draws at or below any level
``x`` are those of a leading block of combinations and of sizes at most ``x``, read off
a two-dimensional cumulative count (a summed-area table, Crow 1984, "Summed-area tables
for texture mapping", SIGGRAPH '84): each month costs the number of distinct
combinations and sizes, not the number of draws.

Draws counted in slots (:class:`sim.analysis.accumulator.Accumulator`, conditioning) carry
their tag as one more part of a *tagged* table: a dimension of the counts that does not
enter the level, so that draws of every tag share one table and each tag's levels come
out of it (:meth:`RampTable.tagged_cells`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from sim.analysis.summaries import COUNT

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: the most cells (combinations) one table may span (256 kB); wider inputs are counted
#: draw by draw
TABLE_CELLS = 1 << 16


@dataclass
class RampTable:
    """Counts of the draws at each combination of a window's inputs, over all chunks.

    ``shares`` (months,) are the window's shares in its months ``a..b`` (the first
    month a). Parts are the draws' start levels and targets (float arrays of whole
    troops), when ``sized`` their residual sizes (int) [troops], and when ``tagged``
    last their tags (whole numbers, which do not enter the level). The counts are
    dense over the span of each part seen so far (``lows``, ``spans``), int32 (no count
    passes the most draws a run takes). A table of one part counts a level held over
    months (its ``shares`` one month, standing for all of them). A part may be one
    value broadcast to every draw (stride 0), which costs nothing per draw.
    """

    shares: FloatArray
    sized: bool
    tagged: bool = False
    lows: list[int] = field(default_factory=list)
    spans: list[int] = field(default_factory=list)
    counts: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, COUNT))

    @property
    def nbytes(self) -> int:
        """The bytes the table holds: its counts and shares, and about 512 bytes of
        Python objects around them."""
        return int(self.counts.nbytes) + int(self.shares.nbytes) + 512

    def add(self, parts: list[NDArray[np.generic]], weight: int = 1) -> bool:
        """Count the draws of ``parts`` (each (g,)), each ``weight`` times; False (and
        nothing counted) when the table would span more than :data:`TABLE_CELLS`."""
        ranges = [_range(p) for p in parts]
        lows, spans = self.lows, self.spans
        if not spans or any(
            a < lo or b >= lo + n for (a, b), lo, n in zip(ranges, lows, spans, strict=True)
        ):
            if spans:  # wider: the union of both
                want = [
                    (min(a, lo), max(b, lo + n - 1))
                    for (a, b), lo, n in zip(ranges, lows, spans, strict=True)
                ]
            else:
                want = ranges
            grown = [b - a + 1 for a, b in want]
            if math.prod(grown) > TABLE_CELLS:
                return False
            self._grow([a for a, _ in want], grown)
            lows, spans = self.lows, self.spans
        key: IntArray | None = None
        stride = 1
        offset = 0  # of the parts that take one value (broadcast, or every draw alike)
        for i in range(len(parts) - 1, -1, -1):
            span = spans[i]
            if span > 1:  # (a part that takes one value adds nothing to the key)
                part, low = parts[i], lows[i]
                a, b = ranges[i]
                if a == b:  # one value in these draws: an offset, not an array
                    offset += (a - low) * stride
                elif key is None:
                    key = np.subtract(part, low, dtype=np.int64, casting="unsafe")
                    if stride > 1:
                        key *= stride
                else:
                    at = np.subtract(part, low, dtype=np.int64, casting="unsafe")
                    if stride > 1:
                        at *= stride
                    key += at
            stride *= span
        if key is None:  # every draw alike
            self.counts[offset] += parts[0].size * weight
            return True
        if offset:
            key += offset
        if key.size <= 32:  # a handful of draws: one at a time
            np.add.at(self.counts, key, weight)
            return True
        if self.counts.size > 16 * key.size:  # few draws in a wide table: only theirs
            cells, got = np.unique(key, return_counts=True)
            self.counts[cells] += got * weight
            return True
        got = np.bincount(key, minlength=self.counts.size)
        if weight != 1:
            got *= weight
        self.counts += got
        return True

    def _grow(self, lows: list[int], spans: list[int]) -> None:
        """Widen the table to ``lows``/``spans``, which cover the spans held so far."""
        counts = np.zeros(spans, COUNT)
        if self.spans:
            at = tuple(
                slice(o - lo, o - lo + s)
                for o, lo, s in zip(self.lows, lows, self.spans, strict=True)
            )
            counts[at] = self.counts.reshape(self.spans)
        self.lows, self.spans, self.counts = lows, spans, counts.reshape(-1)

    def by_tag(self) -> list[tuple[int, RampTable]]:
        """``(tag, table)`` for each tag a tagged table counted draws of: the untagged
        table of those draws (a copy of their counts)."""
        if not self.spans:
            return []
        grid = self.counts.reshape(-1, self.spans[-1])
        return [
            (
                self.lows[-1] + int(t),
                RampTable(
                    self.shares,
                    self.sized,
                    lows=self.lows[:-1],
                    spans=self.spans[:-1],
                    counts=np.ascontiguousarray(grid[:, t]),
                ),
            )
            for t in np.flatnonzero(grid.any(axis=0))
        ]

    def tagged_cells(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """``(month, level, count, tag)`` of a tagged table, each (k,): what :meth:`cells`
        gives for the draws of each tag (:meth:`by_tag`), with their tag, months
        ascending; a month, level and tag may come more than once, their counts to be
        added up. The levels of every tag come out of one pass over the months (a tag
        does not enter the level)."""
        empty = np.zeros(0, np.int64)
        if not self.spans:
            return empty, empty, empty, empty
        grid = self.counts.reshape(-1, self.spans[-1])  # (combinations, tags)
        tags = np.flatnonzero(grid.any(axis=0))
        if not len(tags):
            return empty, empty, empty, empty
        first = self.lows[-1]
        if len(self.spans) == 2:  # a held level, in every tag
            at, t = np.nonzero(grid[:, tags])
            level = at.astype(np.int64) + self.lows[0]
            return (
                np.zeros(len(at), np.int64),
                level,
                grid[at, tags[t]].astype(np.int64),
                (tags[t] + first),
            )
        months = len(self.shares)
        if not self.sized:  # one level per combination and month, in every tag
            pairs = np.flatnonzero(grid.any(axis=1))
            sub = grid[pairs][:, tags]
            p, t = np.nonzero(sub)
            r = self._ramps(pairs)  # (months, pairs)
            return (
                np.repeat(np.arange(months, dtype=np.int64), len(p)),
                r[:, p].reshape(-1),
                np.tile(sub[p, t].astype(np.int64), months),
                np.tile(tags[t] + first, months),
            )
        parts = list(self._sized(tags))
        return (
            np.repeat(np.arange(months, dtype=np.int64), [len(x) for x, _, _, _ in parts]),
            np.concatenate([x for x, _, _, _ in parts]).astype(np.int64),
            np.concatenate([n for _, n, _, _ in parts]).astype(np.int64),
            np.concatenate([t for _, _, t, _ in parts]).astype(np.int64) + first,
        )

    def cells(self) -> tuple[IntArray, IntArray, IntArray]:
        """``(month, level, count)``, each (k,): how many draws take each level
        [troops] in each month of the window (month 0 its first), months ascending
        and every month taken; a month and level may come more than once, their
        counts to be added up. The counts add up to the number of draws counted, in
        every month."""
        months = len(self.shares)
        if not self.spans:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty
        if len(self.spans) == 1:  # a held level
            at = np.flatnonzero(self.counts)
            return np.zeros(len(at), np.int64), at + self.lows[0], self.counts[at].astype(np.int64)
        if not self.sized:  # one level per combination and month: all months at once
            pair_n = self.counts
            pairs = np.flatnonzero(pair_n)
            r = self._ramps(pairs)
            at = np.repeat(np.arange(months, dtype=np.int64), len(pairs))
            return at, r.reshape(-1), np.tile(pair_n[pairs].astype(np.int64), months)
        pieces = self.levels()  # sized: month by month
        at = np.repeat(np.arange(months, dtype=np.int64), [len(lv) for lv, _ in pieces])
        return (
            at,
            np.concatenate([lv for lv, _ in pieces]),
            np.concatenate([n for _, n in pieces]),
        )

    def _ramps(self, pairs: IntArray) -> IntArray:
        """The ramp's level (months, pairs) of each combination ``pairs`` of start
        level and target (indices into the table's first two parts)."""
        at = self.spans[1]
        l0 = (pairs // at + self.lows[0]).astype(np.float64)
        t = (pairs % at + self.lows[1]).astype(np.float64)
        # the stepper's arithmetic, in its order: l0 + (T - l0) * share, halves up
        ramp = np.multiply((t - l0)[None, :], self.shares[:, None])
        ramp += l0
        ramp += 0.5
        return ramp.astype(np.int64)  # levels are >= 0: truncation floors

    def levels(self) -> list[tuple[IntArray, IntArray]]:
        """For each month of the window, ``(levels, counts)``: the levels the draws
        take [troops] and how many draws take each (both (k,), k varying by month);
        counts add up to the number of draws counted."""
        if not self.sized:  # the cells, month by month
            month, level, n = self.cells()
            cuts = np.searchsorted(month, np.arange(1, len(self.shares)))
            pieces = zip(np.split(level, cuts), np.split(n, cuts), strict=True)
            return [_merged(x, w) if len(x) else (x, w) for x, w in pieces]
        one = np.zeros(1, np.int64)  # (the one tag of an untagged table)
        return [_merged(x, n) if crossed else (x, n) for x, n, _, crossed in self._sized(one)]

    def _sized(self, tags: IntArray) -> Iterator[tuple[IntArray, IntArray, IntArray, bool]]:
        """For each month of a sized table, ``(level, count, tag, crossed)`` of the draws
        whose tag (an index along the tag part; 0 in an untagged table, whose last part
        is the size) is one of ``tags``, each (k,). Where the ramps do not cross, read
        off the summed-area table: tag by tag, levels ascending, each level once a tag.
        Where they cross (``crossed``): one a cell, a level perhaps more than once."""
        a0, a1, sizes = self.spans[:3]
        cube = self.counts.reshape(a0 * a1, sizes, -1)  # (combinations, sizes, tags)
        pairs = np.flatnonzero(cube.any(axis=(1, 2)))
        present = np.flatnonzero(cube.any(axis=(0, 2)))
        r = self._ramps(pairs)
        v = present + self.lows[2]
        h = cube[pairs][:, present][:, :, tags].astype(np.int64)  # (pairs, sizes, tags)
        summed = np.zeros((len(pairs) + 1, len(present) + 1, len(tags)), np.int64)
        np.cumsum(h, axis=0, out=summed[1:, 1:])
        np.cumsum(summed[1:, 1:], axis=1, out=summed[1:, 1:])
        taken: tuple[IntArray, ...] | None = None
        for row in r:
            if row.size > 1 and np.any(row[1:] < row[:-1]):  # the ramps cross: each cell
                taken = taken or np.nonzero(h)
                p, q, t = taken
                yield np.maximum(row[p], v[q]), h[p, q, t], tags[t], True
                continue
            x = np.union1d(row, v)  # every level max(r, size) can take, ascending
            below = summed[
                np.searchsorted(row, x, side="right"), np.searchsorted(v, x, side="right")
            ]  # (levels, tags)
            n = np.diff(below, axis=0, prepend=0)
            t, k = np.nonzero(n.T)  # tag by tag, levels ascending
            yield x[k], n[k, t], tags[t], False


def _constant(part: NDArray[np.generic]) -> bool:
    """Whether ``part`` is one value broadcast to every draw (stride 0)."""
    return part.ndim == 1 and part.size > 1 and part.strides[0] == 0


def _range(part: NDArray[np.generic]) -> tuple[int, int]:
    """The lowest and highest value of ``part`` (read once when it is broadcast)."""
    if _constant(part):
        return int(part[0]), int(part[0])
    return int(part.min()), int(part.max())


def _merged(levels: IntArray, weights: IntArray) -> tuple[IntArray, IntArray]:
    """``(distinct levels, total weight of each)`` of levels (k,) with weights (k,)."""
    low = int(levels.min())
    n = np.bincount(levels - low, weights=weights).astype(np.int64)
    at = np.flatnonzero(n)
    return at + low, n[at]
