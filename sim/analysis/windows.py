"""A window's month-by-month counts, computed once for every variant whose draws it fits.

Variants stepped side by side see the same draws (common random numbers), and a
variant that changes only when things happen (an announcement that slips, a later
milestone elsewhere) steps the very same levels through a window, months later: a
ramp's level in its ``i``-th month is ``max(floor(l0 + (T - l0) * share_i + 0.5),
size)`` (:mod:`sim.model.rules`), a function of each draw's start level ``l0``, target
``T`` and residual floor ``size``, and of the window's shares alone. So the counts of
the levels of one window's months, draw by draw, are those of any other window with
equal inputs in every draw and equal shares, whichever variant, series or calendar
months it belongs to. :class:`WindowMemo` keeps the last few windows counted draw by
draw, with copies of their inputs, and answers a window whose inputs equal one of them
(compared in full, value by value: equal counts are then certain, not likely) with its
counts; the default scenario's Iraq exit, counted draw by draw in each of five variants
stepped alike, is then counted once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: the most bytes the windows kept take (their inputs' copies and their counts), per
#: thread: the oldest go first
WINDOW_BYTES = 16 << 20


@dataclass(frozen=True)
class WindowInputs:
    """What a ramp's levels in months of its window follow from: each draw's start
    level ``level0`` and target ``target`` (g,) [troops, float], its residual floor
    ``floor`` (g,) [troops] or None when no floor lifts a level, and the window's share
    in each month ``shares`` (months,)."""

    level0: FloatArray
    target: FloatArray
    floor: IntArray | None
    shares: FloatArray

    def equals(self, other: WindowInputs) -> bool:
        """Whether every draw's inputs and every month's share are equal."""
        arrays: list[tuple[NDArray[Any], NDArray[Any]]] = [
            (self.level0, other.level0),
            (self.target, other.target),
        ]
        if self.floor is not None and other.floor is not None:
            arrays.append((self.floor, other.floor))
        return (
            self.level0.shape == other.level0.shape
            and all(a.dtype == b.dtype for a, b in arrays)
            and np.array_equal(self.shares, other.shares)
            and (self.floor is None) == (other.floor is None)
            and _same(self.level0, other.level0)
            and _same(self.target, other.target)
            and (self.floor is None or _same(self.floor, other.floor))  # type: ignore[arg-type]
        )

    def copy(self) -> WindowInputs:
        """A copy that owns its memory (not views of a group's larger arrays)."""
        return WindowInputs(
            self.level0.copy(),
            self.target.copy(),
            None if self.floor is None else self.floor.copy(),
            self.shares.copy(),
        )

    @property
    def nbytes(self) -> int:
        floor = 0 if self.floor is None else int(self.floor.nbytes)
        return int(self.level0.nbytes + self.target.nbytes + self.shares.nbytes) + floor


@dataclass(frozen=True)
class WindowCounts:
    """A window's counts: for each of its months, ``(low, counts)``, the draws at each
    level from ``low`` [troops] (trimmed to the levels some draw takes), and when they
    were summed, each month's sum of the levels ``sums`` (months,) [troops]."""

    months: list[tuple[int, IntArray]]
    sums: IntArray | None

    @property
    def nbytes(self) -> int:
        sums = 0 if self.sums is None else int(self.sums.nbytes)
        return sum(int(c.nbytes) for _, c in self.months) + sums


class WindowMemo:
    """The last windows counted draw by draw (at most :data:`WINDOW_BYTES` of them), by
    their inputs; one per thread while a chunk is fed to variants side by side
    (:func:`shared_windows`), as a thread steps those variants one after another."""

    def __init__(self, budget: int = WINDOW_BYTES) -> None:
        self.budget = budget
        #: whether windows are kept (False for the last variant fed a chunk: no other
        #: comes after it to ask)
        self.keeping = True
        self._kept: OrderedDict[int, tuple[WindowInputs, WindowCounts]] = OrderedDict()
        self._bytes = 0
        self._next = 0

    def wanted(self, inputs: WindowInputs) -> bool:
        """Whether a window of these inputs could be found or kept: one whose inputs
        alone pass the budget never is."""
        return inputs.nbytes <= self.budget and (self.keeping or bool(self._kept))

    def find(self, inputs: WindowInputs, *, sums: bool) -> WindowCounts | None:
        """The counts of a window whose inputs equal ``inputs`` (with the months' sums
        when ``sums``), or None."""
        for key, (kept, counts) in reversed(self._kept.items()):
            if (counts.sums is not None or not sums) and kept.equals(inputs):
                self._kept.move_to_end(key)
                return counts
        return None

    def keep(self, inputs: WindowInputs, counts: WindowCounts) -> None:
        """Keep a window's counts under a copy of its inputs, letting the oldest go past
        the budget (a window larger than the budget is not kept)."""
        size = inputs.nbytes + counts.nbytes
        if size > self.budget or not self.keeping:
            return
        while self._kept and self._bytes + size > self.budget:
            _, (old, old_counts) = self._kept.popitem(last=False)
            self._bytes -= old.nbytes + old_counts.nbytes
        self._kept[self._next] = (inputs.copy(), counts)
        self._next += 1
        self._bytes += size


def trimmed(low: int, counts: IntArray) -> tuple[int, IntArray]:
    """``(low, counts)`` cut to the levels some draw takes (a copy)."""
    taken = np.flatnonzero(counts)
    if not len(taken):
        return low, counts[:0].copy()
    return low + int(taken[0]), counts[taken[0] : taken[-1] + 1].copy()


_LOCAL = threading.local()


def window_memo() -> WindowMemo | None:
    """This thread's :class:`WindowMemo` while variants are fed one chunk's draws side by
    side (:func:`shared_windows`), else None: one variant alone would keep windows no
    other asks for."""
    memo: WindowMemo | None = getattr(_LOCAL, "memo", None)
    return memo


@contextmanager
def shared_windows() -> Iterator[WindowMemo]:
    """Within it, windows counted draw by draw are kept for the variants fed the same
    draws after (:func:`window_memo`, the memo it yields: set its ``keeping`` False for
    the last of them); at its end they are let go (the next chunk's draws are others).
    Nested uses share the outermost's memo."""
    memo: WindowMemo | None = getattr(_LOCAL, "memo", None)
    if memo is not None:
        yield memo
        return
    memo = _LOCAL.memo = WindowMemo()
    try:
        yield memo
    finally:
        _LOCAL.memo = None


def _same(a: NDArray[np.generic], b: NDArray[np.generic]) -> bool:
    return a is b or bool(np.array_equal(a, b))
