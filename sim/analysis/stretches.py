"""Levels held over stretches of months, counted as differences between months.

A level that draws hold over months a..b is counted once: its counts are added at
month a and taken away at month b + 1, and the running sum over the months gives each
month's counts (a difference array, which a prefix sum inverts: Blelloch 1990,
"Prefix sums and their applications", CMU-CS-90-190). Only the months where
some stretch starts or ends are written, which are few: the edges of the windows (6 to
14 of the 42 to 80 months of the shipped historical scenarios, conditioned at 10^4
draws). So a month's row of differences is made only when it is first written, and a
stretch costs two rows, not a row for every month of the scenario.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.analysis.summaries import COUNT

CountRow = NDArray[Any]


class HeldStretches:
    """Differences between months of the counts of held levels, for some arrays of
    counts (0: the counts themselves, 1: the running minimum's correction) and series.

    Parameters
    ----------
    months : int
        Months of the scenario (a stretch that lasts to the end is never taken away).
    span : int
        Columns of one month's counts (levels, times slots for tagged draws).
    dtype : numpy dtype, optional
        The counts' type (default :data:`~sim.analysis.summaries.COUNT`).

    Row ``(array, series, month)`` is that month's difference, (span,) of ``dtype``,
    made zero when first asked for.
    """

    def __init__(self, months: int, span: int, dtype: Any = COUNT) -> None:
        self.months = months
        self.span = span
        self.dtype = dtype
        # (array, series) -> month -> that month's differences
        self._rows: dict[tuple[int, int], dict[int, CountRow]] = {}
        self._made = 0  # rows held

    def row(self, array: int, series: int, month: int) -> CountRow:
        """Month ``month``'s differences of ``array``, ``series`` (span,), to add to
        (``month`` within the scenario: 0 to ``months - 1``)."""
        rows = self._rows.setdefault((array, series), {})
        got = rows.get(month)
        if got is None:
            got = rows[month] = np.zeros(self.span, self.dtype)
            self._made += 1
        return got

    def add(
        self, array: int, series: int, first: int, last: int, cols: Any, counts: NDArray[Any]
    ) -> None:
        """Count ``counts`` in columns ``cols`` (a slice, or column indices, repeated or
        not) of every month ``first..last``: added at ``first``, taken away after
        ``last`` (nothing is taken away after the last month of the scenario)."""
        for month, ufunc in ((first, np.add), (last + 1, np.subtract)):
            if month < self.months:
                row = self.row(array, series, month)
                if isinstance(cols, slice):  # (a view: counted in place)
                    ufunc(row[cols], counts, out=row[cols])
                else:  # (repeated columns count each time)
                    ufunc.at(row, cols, counts)

    @property
    def nbytes(self) -> int:
        """The bytes of the rows held (made and not yet folded)."""
        return self._made * self.span * np.dtype(self.dtype).itemsize

    def fold(self, array: int, series: int, dest: NDArray[Any]) -> None:
        """Add the running sums of ``array``'s differences for ``series`` to ``dest``
        (months, span): every month from the first written on gets the sum of the
        differences up to it. The rows folded are dropped."""
        rows = self._rows.pop((array, series), {})
        self._made -= len(rows)
        months = sorted(rows)
        running: CountRow | None = None
        for k, m in enumerate(months):
            d = rows[m]
            if running is None:
                running = d
            else:
                running += d
            end = months[k + 1] if k + 1 < len(months) else self.months
            taken = np.flatnonzero(running)
            if taken.size:  # (a stretch that ended: nothing more to add)
                # only the columns some stretch holds: the pages of the rest stay unwritten
                lo, hi = int(taken[0]), int(taken[-1]) + 1
                dest[m:end, lo:hi] += running[lo:hi]

    def arrays(self) -> set[tuple[int, int]]:
        """The ``(array, series)`` pairs some row was written for (not yet folded)."""
        return set(self._rows)

    def relay(self, width: int, at: int, count: int, size: int) -> None:
        """Lay every row out again over ``size`` slots per level (``width`` levels), its
        ``count`` slots so far going to slots ``at..at + count - 1``, as
        :meth:`sim.analysis.accumulator.Accumulator` lays out its counts."""
        for rows in self._rows.values():
            for m, d in rows.items():
                wide = np.zeros((width, size), self.dtype)
                wide[:, at : at + count] = d.reshape(width, count)
                rows[m] = wide.reshape(-1)
        self.span = width * size
