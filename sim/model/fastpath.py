"""The grouped fast path: whole-troop levels of draws that share their months.

An ensemble only needs each draw's levels to count them, and most of a draw's
months are flat: before a window opens, between windows, after the last one.
The months of every window depend on the announcement delay and the
milestones' execution delays only (see :func:`sim.model.rules.timing`), so
draws with the same timing key (:func:`sim.model.rules.timing_groups`) share
them. For
such a group a track's path is a sequence of *runs* of whole months: a level
held (the initial level, a window's target, a window's start level) or a ramp
(``l0 + (T - l0) * share``, computed exactly as the dense stepper does, but
only over the months inside the window). :class:`Group` evaluates a track over
any range of months straight into whole troops; the result equals what
:func:`sim.model.stepper.step_dense` gives for those draws and months, bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.model.plan import Plan
from sim.model.rules import residual_layers, share_table

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: the most entries a runs cache holds (runs by track and timing key, each up to a few
#: kB with many milestones): past it, the cache starts again, so that scenarios whose
#: draws take a timing key each keep bounded memory
RUNS_KEPT = 4096
#: the most bytes of ramp months a group keeps once a tagger has read them (for
#: :meth:`Group.kept`); a record that reads more months computes the rest again when
#: they are counted
KEPT_BYTES = 32 << 20
#: the most bytes of float room :meth:`Group.ramp_months` computes a block in: the
#: months of a longer block are computed a few at a time into its whole-troop rows
#: (float room of the whole block would double what a tagger reads)
RAMP_SCRATCH_BYTES = 1 << 20


def _distinct_counts(
    parts: list[NDArray[Any]],
    shares: FloatArray,
    width: int,
    most: int,
    slot: Any = 0,
    slots: int = 1,
    mapping: Any = None,
    sums: IntArray | None = None,
) -> tuple[int, IntArray] | None:
    """Counts of ``L = max(floor(l0 + (T - l0) * share + 0.5), size)`` over the draws,
    for each share, where ``parts`` are the draws' ``l0``, ``T`` and optionally
    ``size``: computed once per distinct combination and counted with its
    multiplicity. None when the combinations could be more than ``most``.

    Returns ``(first column, counts (len(shares), columns))``: with one slot, every
    level ``0 .. width - 1`` (first column 0); with ``slots`` slots, the columns
    ``L * slots + slot`` the draws take (``slot`` a whole number or one per draw).
    With ``mapping`` (one slot only), level L is counted at column ``mapping(L)``
    (columns ``0 .. width - 1``); with ``sums`` (len(shares),), each share's sum of the
    levels over the draws is added to it [troops].
    """
    per_draw = np.ndim(slot) > 0
    if per_draw:
        parts = [*parts, slot]
    lows, spans, total = [], [], 1
    for part in parts:
        low, high = part.min(), part.max()
        lows.append(low)
        spans.append(int(high - low) + 1)
        total *= spans[-1]
        if total > most:
            return None
    key = (parts[0] - lows[0]).astype(np.int64)
    for part, low, span in zip(parts[1:], lows[1:], spans[1:], strict=True):
        key *= span
        key += (part - low).astype(np.int64)
    weights = np.bincount(key, minlength=total)
    taken = np.flatnonzero(weights)
    values = []
    rest = taken
    for low, span in zip(reversed(lows), reversed(spans), strict=True):
        values.append(rest % span + low)  # float for levels, int for the size
        rest = rest // span
    values.reverse()
    if per_draw:
        slot = values.pop()
    l0, t = values[0], values[1]
    size = values[2] if len(values) > 2 else None
    times = weights[taken]
    w = times.astype(np.float64)
    d = t - l0
    if slots <= 1:  # every share at once: (shares, distinct draws), as Group.ramp_month
        level2 = np.multiply(d[None, :], np.asarray(shares, np.float64)[:, None])
        level2 += l0
        level2 += 0.5
        levels = level2.astype(np.int64)
        if size is not None:
            np.maximum(levels, size, out=levels)
        if sums is not None:
            sums += levels @ times
        at = levels if mapping is None else mapping(levels)
        at += (np.arange(len(shares), dtype=np.int64) * width)[:, None]
        out = np.bincount(
            at.ravel(), weights=np.tile(w, len(shares)), minlength=width * len(shares)
        )
        return 0, out.astype(np.int64).reshape(len(shares), width)
    columns = []
    for sh in shares:  # as Group.ramp_month, on the distinct draws
        row = d * sh
        row += l0
        row += 0.5
        level = row.astype(np.int64)
        if size is not None:
            np.maximum(level, size, out=level)
        level *= slots
        level += slot
        columns.append(level)
    low = min(int(c.min()) for c in columns)
    span = max(int(c.max()) for c in columns) - low + 1
    out = np.empty((len(shares), span), np.int64)
    for i, level in enumerate(columns):
        out[i] = np.bincount(level - low, weights=w, minlength=span)
    return low, out


@dataclass(frozen=True)
class _Layer:
    """A track's path with the milestone levels of one residual (layer 0: none)."""

    first: int  # first month the layer applies
    last: int  # last month it applies
    size: IntArray | None  # residual size (g,) [troops], a floor on the layer's levels
    level0: dict[int, FloatArray]  # window start level per milestone (g,) [troops]
    target: dict[int, FloatArray]  # window end level per milestone (g,) [troops]


Run = tuple[int, int, bool, int, int]  # first month, last month, ramp?, layer, source


class Group:
    """Whole-troop levels of ``g`` draws that share their months (one timing key).

    ``start`` and ``reached`` are the shared window months per milestone (a row
    of :func:`timing`). ``initial`` (tracks, g), ``level0`` and ``target``
    (milestones, g, from :func:`window_levels`) and ``residual`` (residuals, g)
    hold the draws on their *last* axis, as whole troops. ``cache`` (any dict
    kept between groups of the same plan) saves re-deriving the runs.
    """

    def __init__(
        self,
        plan: Plan,
        start: list[int],
        reached: list[int],
        initial: FloatArray,
        level0: FloatArray,
        target: FloatArray,
        residual: FloatArray,
        cache: dict[Any, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.n = int(initial.shape[1])
        self.start, self.reached = start, reached
        self._initial = initial
        self._values = (level0, target, residual)
        self._cache = {} if cache is None else cache
        self._ints: dict[tuple[int, int, int], IntArray] = {}
        self._steps: dict[tuple[int, int, int], FloatArray] = {}
        self._floors: dict[tuple[int, int, int], IntArray | None] = {}
        self._targets: dict[int, dict[int, FloatArray]] = {}
        self._uniform: dict[int, bool] = {}
        self._head: Group | None = None
        # months of ramps that :meth:`level_in` computed, by (track, month): kept, so
        # that counting the group's levels (:meth:`kept`) need not compute them again
        self._months: dict[tuple[int, int], IntArray] = {}
        # each track's layers and runs, made when the track is first asked for
        self._layer_lists: dict[int, list[_Layer]] = {}
        self._run_lists: dict[int, list[Run]] = {}

    def _track_layers(
        self, k: int, level0: FloatArray, target: FloatArray, residual: FloatArray
    ) -> list[_Layer]:
        """Layer 0 (no residual), then one layer per residual of track k, as
        :func:`sim.model.rules.residual_layers` builds them: the targets still to
        come when a residual starts are raised to it."""
        plan = self.plan
        on_track = plan.track_milestones(k)
        tgt = {j: target[j] for j in on_track}
        base = _Layer(0, plan.n_months - 1, None, {j: level0[j] for j in on_track}, dict(tgt))
        layers, self._targets[k] = residual_layers(
            plan, k, self.start, self.reached, self._initial[k], tgt, residual
        )
        return [base] + [
            _Layer(int(r.first), int(r.last), r.size.astype(np.int64), r.level0, r.target)
            for r in layers
        ]

    def _track_runs(self, k: int) -> list[Run]:
        """Runs ``(first, last, ramp, layer, source)`` covering every month of track k.

        source is ``-1`` for the initial level, else ``2 * milestone + end``
        (end 0: the window's start level, 1: its target). A run that is not a
        ramp holds its source's level; a ramp moves from the window's start
        level to its target.
        """
        plan, layers = self.plan, self._layers(k)
        on_track = plan.track_milestones(k)
        # a window whose levels do not move (a step, or no change in any draw) holds
        flat = tuple(
            plan.milestones[j].profile == 1 or not np.any(layer.target[j] != layer.level0[j])
            for layer in layers
            for j in on_track
        )
        timed = plan.track_timed(k)  # (the other windows' months do not touch track k)
        key = (k, tuple(self.start[j] for j in timed), tuple(self.reached[j] for j in timed), flat)
        runs: list[Run] | None = self._cache.get(key)
        if runs is not None:
            return runs
        is_flat = dict(
            zip([(li, j) for li in range(len(layers)) for j in on_track], flat, strict=True)
        )
        # what a month takes changes only where a layer or a window starts or ends: the
        # months from one such edge to the next take the same piece
        months = plan.n_months
        edges = {0, months}
        for layer in layers[1:]:
            edges.update((layer.first, layer.last + 1))
        for j in on_track:
            edges.update((self.start[j] + 1, self.reached[j]))
        cuts = sorted(e for e in edges if 0 <= e <= months)
        runs = []
        for m, end in itertools.pairwise(cuts):
            li = 0
            for i in range(1, len(layers)):
                if layers[i].first <= m <= layers[i].last:
                    li = i
            w = -1
            for j in on_track:
                if self.start[j] < m:
                    w = j
            if w < 0:
                piece = (False, li, -1)  # the initial level
            elif m >= self.reached[w]:
                piece = (False, li, 2 * w + 1)  # the window's target
            elif is_flat[li, w]:
                piece = (False, li, 2 * w)  # the window's start level, held
            else:
                piece = (True, li, 2 * w)
            if runs and runs[-1][2:] == piece:
                runs[-1] = (runs[-1][0], end - 1, *piece)
            else:
                runs.append((m, end - 1, *piece))
        if len(self._cache) >= RUNS_KEPT:  # many timing keys: start the cache again
            self._cache.clear()
        self._cache[key] = runs
        return runs

    def uniform(self, k: int) -> bool:
        """Whether every draw of the group has the same levels on track k."""
        alike = self._uniform.get(k)
        if alike is None:
            values = [self._initial[k]]
            for layer in self._layers(k):
                values += [*layer.level0.values(), *layer.target.values()]
                if layer.size is not None:
                    values.append(layer.size)
            # (targets first: they are the likeliest to differ)
            alike = self._uniform[k] = all(v.min() == v.max() for v in reversed(values))
        return alike

    def head(self) -> Group:
        """The group of the first draw alone (made once)."""
        if self._head is None:
            level0, target, residual = self._values
            self._head = Group(
                self.plan,
                self.start,
                self.reached,
                self._initial[:, :1],
                level0[:, :1],
                target[:, :1],
                residual[:, :1],
                self._cache,
            )
        return self._head

    def active(self, k: int) -> tuple[int, int]:
        """Months ``(lo, hi)`` outside which track k's levels stay put: every month
        before ``lo`` has month ``lo``'s level, every month after ``hi`` month ``hi``'s."""
        changes = [
            m
            for a, b, ramp, _, _ in self.runs(k)
            for m in range(a, b + 1)
            if (ramp or m == a) and m > 0
        ]
        if not changes:
            return 0, 0
        return min(changes) - 1, max(changes)

    def targets(self, k: int) -> dict[int, FloatArray]:
        """The level each milestone of track k reaches, once residuals raise them
        (:class:`StepOutput` ``target``), by milestone index."""
        self._layers(k)
        return self._targets[k]

    def runs(self, k: int) -> list[Run]:
        """Track k's runs ``(first, last, ramp, layer, source)``, covering every month."""
        runs = self._run_lists.get(k)
        if runs is None:
            runs = self._run_lists[k] = self._track_runs(k)
        return runs

    def _layers(self, k: int) -> list[_Layer]:
        """Track k's layers (made once)."""
        layers = self._layer_lists.get(k)
        if layers is None:
            level0, target, residual = self._values
            layers = self._layer_lists[k] = self._track_layers(k, level0, target, residual)
        return layers

    def held(self, k: int, li: int, source: int) -> IntArray:
        """The level a run holds, per draw, as whole troops."""
        key = (k, li, source)
        out = self._ints.get(key)
        if out is None:
            layer = self._layers(k)[li]
            if source < 0:
                value = self._initial[k]
            else:
                j, end = divmod(source, 2)
                value = layer.target[j] if end else layer.level0[j]
            out = value.astype(np.int64)
            if layer.size is not None:
                out = np.maximum(out, layer.size)
            self._ints[key] = out
        return out

    def level_in(
        self,
        k: int,
        m: int,
        out: IntArray | None = None,
        scratch: FloatArray | None = None,
    ) -> IntArray:
        """Track k's levels (g,) in month m, as :meth:`levels` gives them. A month in a
        held run gives the run's own (cached) array, the same object for every month
        of the run; do not change it. A month of a ramp is written into ``out`` when
        ``out`` and ``scratch`` (float room, (g,)) are given (:meth:`ramp_month`), else
        into a new array kept for :meth:`kept` while the group keeps at most
        :data:`KEPT_BYTES` of them (do not change it either)."""
        for a, b, ramp, li, source in self.runs(k):
            if a <= m <= b:
                if not ramp:
                    return self.held(k, li, source)
                if out is not None and scratch is not None:
                    return self.ramp_month(k, li, source, m, out, scratch)
                got = self._months.get((k, m))
                if got is None:
                    room = np.empty(self.n, np.int64)
                    got = self.ramp_month(k, li, source, m, room, np.empty(self.n))
                    self._keep(k, m, got)
                return got
        return self.levels(k, m, m)[0]

    def ramp_months(
        self, k: int, m: int, months: Sequence[int], least: int
    ) -> tuple[list[int], list[IntArray]] | None:
        """``(those months, their levels)``: track k's levels (g,) in the months of
        ``months`` (consecutive, ascending, m among them) that lie in the ramp run of
        month m, computed as one block (as :meth:`levels`, the same arithmetic as
        :meth:`level_in`, a few months at a time in float room of at most
        :data:`RAMP_SCRATCH_BYTES`) and kept for :meth:`kept` as :meth:`level_in` keeps
        its months (do not change them); None when month m is held or fewer than
        ``least`` of the months lie in its run."""
        for a, b, ramp, _, _ in self.runs(k):
            if a <= m <= b:
                if not ramp:
                    return None
                inside = [x for x in months if a <= x <= b]
                if len(inside) < least:
                    return None
                block = np.empty((len(inside), self.n), np.int64)
                step = max(1, RAMP_SCRATCH_BYTES // (8 * max(1, self.n)))
                scratch = np.empty((min(step, len(inside)), self.n))
                for i in range(0, len(inside), step):
                    j = min(i + step, len(inside))
                    self.levels(k, inside[i], inside[j - 1], block[i:j], scratch)
                rows = list(block)
                for x, row in zip(inside, rows, strict=True):
                    self._keep(k, x, row)
                return inside, rows
        return None

    def _keep(self, k: int, m: int, levels: IntArray) -> None:
        """Keep track k's levels in ramp month m for :meth:`kept`, while the months kept
        take at most :data:`KEPT_BYTES` (each (g,) int64); a month kept already stays."""
        if (k, m) not in self._months and (len(self._months) + 1) * levels.nbytes <= KEPT_BYTES:
            self._months[k, m] = levels

    def kept(self, k: int, m: int) -> IntArray | None:
        """Track k's levels (g,) in month m of a ramp when :meth:`level_in` computed
        them already (do not change them), else None."""
        return self._months.get((k, m))

    def levels(
        self,
        k: int,
        lo: int,
        hi: int,
        out: IntArray | None = None,
        scratch: FloatArray | None = None,
    ) -> IntArray:
        """Track k's levels in months ``lo..hi``, shape (months, g), whole troops.

        ``out`` receives them; ``scratch`` is float room (rows, g) in which a ramp's
        months are computed ``rows`` at a time (default: as many as
        :data:`RAMP_SCRATCH_BYTES` holds), so that float room as large as the levels
        is never needed.
        """
        rows = hi - lo + 1
        if out is None:
            out = np.empty((rows, self.n), np.int64)
        if scratch is None or scratch.ndim != 2 or scratch.shape[1] != self.n or not len(scratch):
            step = min(rows, max(1, RAMP_SCRATCH_BYTES // (8 * max(1, self.n))))
            scratch = np.empty((step, self.n))
        for a, b, ramp, li, source in self.runs(k):
            a, b = max(a, lo), min(b, hi)
            if a > b:
                continue
            block = out[a - lo : b - lo + 1]
            if not ramp:
                block[...] = self.held(k, li, source)
                continue
            layer = self._layers(k)[li]
            j = source // 2
            sh = self.window_shares(j, a, b)[:, None]
            l0, t = layer.level0[j], layer.target[j]
            floor = self.lifting_floor(k, li, j)
            alike = l0.min() == l0.max() and t.min() == t.max()
            if alike:  # every draw alike: one column does
                l0, t = l0[:1], t[:1]
            d = t - l0
            step = b - a + 1 if alike else scratch.shape[0]
            for r in range(0, b - a + 1, step):
                part = block[r : r + step]
                if alike:
                    buf = np.multiply(sh[r : r + step], d)
                else:
                    buf = scratch[: part.shape[0]]
                    np.multiply(sh[r : r + step], d, out=buf)
                # l0 + (T - l0) * share, then halves up, in _path's and step's order
                np.add(buf, l0, out=buf)
                np.add(buf, 0.5, out=buf)
                np.copyto(part, buf, casting="unsafe")  # levels are >= 0: truncation floors
                if floor is not None:
                    np.maximum(part, floor, out=part)
        return out

    def ramp_rises(self, k: int, li: int, source: int) -> bool:
        """Whether the ramp of a run rises in some draw (else it never rises)."""
        layer = self._layers(k)[li]
        j = source // 2
        return bool(np.any(layer.target[j] > layer.level0[j]))

    def ramp_month(
        self, k: int, li: int, source: int, m: int, out: IntArray, scratch: FloatArray
    ) -> IntArray:
        """Track k's levels in month m of a ramp run, into ``out`` (g,); ``scratch`` is
        float room of the same shape. As :meth:`levels` computes them."""
        layer = self._layers(k)[li]
        j = source // 2
        sh = self.window_shares(j, m, m)[0]
        d = self._steps.get((k, li, j))
        if d is None:
            d = self._steps[k, li, j] = layer.target[j] - layer.level0[j]
        np.multiply(d, sh, out=scratch)
        np.add(scratch, layer.level0[j], out=scratch)
        np.add(scratch, 0.5, out=scratch)
        np.copyto(out, scratch, casting="unsafe")
        floor = self.lifting_floor(k, li, j)
        if floor is not None:
            np.maximum(out, floor, out=out)
        return out

    def window_shares(self, j: int, a: int | None = None, b: int | None = None) -> FloatArray:
        """The share of milestone j's window reached in each month from its start
        (:func:`~sim.model.rules.share_table`, as the stepper computes it), or in months
        ``a..b`` of the run only (each within the window); shared by the group's draws."""
        s = self.start[j]
        table = share_table(self.plan.milestones[j].profile, self.reached[j] - s)
        return table if a is None or b is None else table[a - s : b - s + 1]

    def lifting_floor(self, k: int, li: int, j: int) -> IntArray | None:
        """Layer li's residual sizes (g,) [troops] when that floor raises some draw's
        level in the ramp of milestone j on track k; None when it raises none (the
        layer has no residual, or its levels are the ramp's own: the floor need not be
        applied, nor counted as an input of the ramp). Looked at once per ramp.

        A ramp's level is ``floor(fl(fl(fl(d * share) + l0) + 0.5))`` with ``d = T - l0``
        (exact: whole troops below 2**52, which the fast path requires of its inputs)
        and ``0 <= share <= 1``. Rounding is monotone and ``d`` exact, so ``fl(d * share)``
        lies between ``d`` and 0; adding ``l0`` gives a value between ``T`` and ``l0``
        (exactly at the ends); adding 0.5 and flooring gives at least ``min(l0, T)``. So a
        residual ``size <= min(l0, T)`` in every draw never lifts the level: so for a
        residual under a falling ramp whose target it is (the default scenario's
        advisory presence)."""
        key = (k, li, j)
        if key not in self._floors:
            size = self._layers(k)[li].size
            if size is not None:
                layer = self._layers(k)[li]
                sh = self.window_shares(j)
                low = np.minimum(layer.level0[j], layer.target[j])
                if sh.min() >= 0.0 and sh.max() <= 1.0 and np.all(size <= low):
                    size = None
            self._floors[key] = size
        return self._floors[key]

    def start_source(self, source: int) -> int:
        """The source of the level the window of a run's ``source`` starts from (as
        :meth:`runs` numbers them): its milestone's previous one's target, or the
        initial level (-1)."""
        prev = self.plan.milestones[source // 2].prev
        return -1 if prev < 0 else 2 * prev + 1

    def ramp_parts(self, k: int, li: int, source: int) -> tuple[list[NDArray[Any]], int]:
        """``(parts, milestone)`` of a ramp run of track k: the draws' start levels and
        targets (g,) (float, whole troops) and, in a layer with a residual, its sizes
        (int) [troops], from which its levels follow (see :meth:`ramp_month`)."""
        layer = self._layers(k)[li]
        j = source // 2
        parts: list[NDArray[Any]] = [layer.level0[j], layer.target[j]]
        floor = self.lifting_floor(k, li, j)
        if floor is not None:
            parts.append(floor)
        return parts, j

    def ramp_counts(
        self,
        k: int,
        li: int,
        source: int,
        a: int,
        b: int,
        width: int,
        slot: Any = 0,
        slots: int = 1,
        mapping: Any = None,
        sums: IntArray | None = None,
    ) -> tuple[int, IntArray] | None:
        """``(first column, counts (months a..b, columns))`` of track k's levels in a
        ramp run (levels 0..width-1; with ``slots`` slots, level L of a draw in slot
        ``slot`` at column ``L * slots + slot``), computed once per distinct (start
        level, target, residual, slot) of the draws; None when the draws take too
        many distinct ones for that to pay. ``mapping`` and ``sums``: as
        :func:`_distinct_counts` takes them (``sums`` per month a..b)."""
        parts, j = self.ramp_parts(k, li, source)
        rows = self.window_shares(j, a, b)
        return _distinct_counts(
            parts, rows, width, max(self.n // 8, 4096), slot, slots, mapping, sums
        )

    def rises(self, k: int, block: IntArray, lo: int, hi: int) -> bool:
        """Whether track k's levels ``block`` (months lo..hi) may rise from one month to
        the next (False: they never do). Ramps are monotone; runs meet at their edges."""
        for a, b, ramp, li, source in self.runs(k):
            if b < lo or a > hi:
                continue
            if a > lo and np.any(block[a - lo] > block[a - lo - 1]):
                return True
            if ramp:
                layer = self._layers(k)[li]
                j = source // 2
                if np.any(layer.target[j] > layer.level0[j]):
                    return True
        return False


def input_rows(plan: Plan, tracks: Sequence[int]) -> tuple[IntArray, ...]:
    """The rows a :class:`Group` of ``tracks`` reads in each of its input arrays (the
    draws' initial levels, windows' start levels, windows' targets, residual sizes):
    the tracks, their milestones (twice) and their residuals."""
    on = set(tracks)
    ms = [j for j, m in enumerate(plan.milestones) if m.track in on]
    rs = [r for r, x in enumerate(plan.residuals) if x.track in on]
    return tuple(np.array(x, np.int64) for x in (list(tracks), ms, ms, rs))


def take_rows(a: FloatArray, rows: IntArray, order: NDArray[Any]) -> FloatArray:
    """``a`` (rows, draws) with the draws in ``order``, in the given ``rows`` only (the
    others left unset: not to be read)."""
    out = np.empty((a.shape[0], len(order)), a.dtype)
    for r in rows.tolist():
        np.take(a[r], order, out=out[r])
    return out
