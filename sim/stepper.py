"""The monthly stepper: a pure function from a plan and per-draw numbers to levels.

No file access, no randomness, no globals: arrays in, arrays out. Every array
has the draws on its first axis, so one call steps one deterministic run
(``n = 1``) or a chunk of an ensemble alike.

Month semantics (see ``docs/design.md``): month index 0 is the start month and
holds the initial level; the value for month ``m`` is the level at the end of
``m``. A milestone's window runs from its anchor ``s`` (the later of the
previous milestone on its track being reached and the month before the
announcement) to the month ``r`` it is reached; at month ``m`` in the window
the level is ``L0 + (T - L0) * share((m - s) / (r - s))``. ``r`` is the
deadline, or ``s + 1`` when the deadline is not feasible (it is then missed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.plan import Plan

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def share(profile: int, x: FloatArray) -> FloatArray:
    """Share of a window's change done at fraction ``x`` (0..1) of the window.

    Profiles by index in :data:`sim.schema.PROFILES`: linear ``x``; step ``0``
    until ``x = 1``; front ``1 - (1 - x)**2``; back ``x**2``; s-curve
    ``3x**2 - 2x**3``.
    """
    if profile == 0:
        return x
    if profile == 1:
        return (x >= 1.0).astype(np.float64)
    if profile == 2:
        return 1.0 - (1.0 - x) ** 2
    if profile == 3:
        return x * x
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class StepInputs:
    """Per-draw numbers for one plan; every array has ``n`` rows.

    initial : (n, tracks) initial levels [troops]
    delay : (n,) announcement delay [months]
    targets : (n, milestones) drawn target values (level or reduction) [troops]
    residual : (n, residuals) residual sizes [troops], 0 when absent
    """

    initial: FloatArray
    delay: IntArray
    targets: FloatArray
    residual: FloatArray

    @property
    def n(self) -> int:
        return int(self.delay.shape[0])


@dataclass(frozen=True)
class StepOutput:
    """Levels and milestone timing for ``n`` draws.

    tracks : (n, tracks, months) int32 levels [troops]
    theaters : (n, theaters, months) int32 levels [troops]
    deadline : (n, milestones) month index of each deadline after any slip
    original : (n, milestones) month index of each deadline without the slip
    reached : (n, milestones) month index in which each target is reached
    target : (n, milestones) the level each milestone reaches [troops]
    announce : (n,) month index of the announcement
    """

    tracks: NDArray[np.int32]
    theaters: NDArray[np.int32]
    deadline: IntArray
    original: IntArray
    reached: IntArray
    target: FloatArray
    announce: IntArray


@dataclass(frozen=True)
class Schedule:
    """Each milestone's window and the levels it runs between, for ``n`` draws.

    start : (n, milestones) month index the window starts after (its anchor)
    deadline : (n, milestones) month index of the deadline after any slip
    original : (n, milestones) month index of the deadline without the slip
    reached : (n, milestones) month index in which the target is reached
    level0 : (n, milestones) level at the window's start [troops]
    target : (n, milestones) level the window ends at [troops]
    announce : (n,) month index of the announcement

    The months (``start``, ``deadline``, ``original``, ``reached``) depend on
    the announcement delay only, never on the drawn levels.
    """

    start: IntArray
    deadline: IntArray
    original: IntArray
    reached: IntArray
    level0: FloatArray
    target: FloatArray
    announce: IntArray


def schedule(plan: Plan, inputs: StepInputs) -> Schedule:
    """Every milestone's window for ``inputs.n`` draws, dependencies first."""
    start, deadline, original, reached, announce = timing(plan, inputs.delay)
    level0, target = window_levels(plan, inputs.initial, inputs.targets)
    return Schedule(
        start=start,
        deadline=deadline,
        original=original,
        reached=reached,
        level0=level0,
        target=target,
        announce=announce,
    )


def timing(plan: Plan, delay: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """``(start, deadline, original, reached, announce)`` of :class:`Schedule` for
    announcement delays ``delay`` (n,) [months]."""
    n = delay.shape[0]
    delay = delay.astype(np.int64)
    announce = plan.announce + delay
    floor = np.maximum(announce - 1, 0)
    j_count = len(plan.milestones)
    start = np.empty((n, j_count), np.int64)
    deadline = np.empty((n, j_count), np.int64)
    original = np.empty((n, j_count), np.int64)
    reached = np.empty((n, j_count), np.int64)
    for j in plan.order:
        ms = plan.milestones[j]
        s = floor if ms.prev < 0 else np.maximum(reached[:, ms.prev], floor)
        if ms.kind == "month":
            e = np.full(n, ms.month, np.int64) + (delay if ms.slips else 0)
            e0 = np.full(n, ms.month, np.int64)
        elif ms.kind == "announcement":
            e = announce + ms.offset
            e0 = np.full(n, plan.announce + ms.offset, np.int64)
        else:
            e = reached[:, ms.ref] + ms.offset
            e0 = original[:, ms.ref] + ms.offset
        start[:, j], deadline[:, j], original[:, j] = s, e, e0
        reached[:, j] = np.maximum(e, s + 1)
    return start, deadline, original, reached, announce


def window_levels(
    plan: Plan, initial: FloatArray, targets: FloatArray, *, transposed: bool = False
) -> tuple[FloatArray, FloatArray]:
    """``(level0, target)`` of :class:`Schedule` from the initial levels (n, tracks)
    and the drawn targets (n, milestones) [troops]; they do not depend on timing.

    With ``transposed``, every array has the draws on its *last* axis instead.
    """
    if transposed:
        initial, targets = initial.T, targets.T
    n, j_count = targets.shape[0], len(plan.milestones)
    # np.empty, not zeros: every column is written, and fresh zeroed pages cost faults
    level0 = np.empty((j_count, n) if transposed else (n, j_count))
    target = np.empty((j_count, n) if transposed else (n, j_count))
    l0v, tv = (level0, target) if transposed else (level0.T, target.T)
    for j in plan.order:
        ms = plan.milestones[j]
        base = initial[:, ms.track] if ms.prev < 0 else tv[ms.prev]
        goal = targets[:, j]
        if ms.target_kind == "reduce_by":
            goal = np.maximum(base - goal, 0.0)
        l0v[j] = base
        np.maximum(goal, 0.0, out=tv[j])
    return level0, target


def theater_sums(plan: Plan, tracks: NDArray[np.int32]) -> NDArray[np.int32]:
    """(n, theaters, months) levels: each theater the sum of its tracks."""
    n, _, months = tracks.shape
    theaters = np.empty((n, len(plan.theaters), months), np.int32)
    for t, tid in enumerate(plan.theaters):
        theaters[:, t, :] = tracks[:, plan.theater_tracks(tid), :].sum(axis=1)
    return theaters


def step(plan: Plan, inputs: StepInputs) -> StepOutput:
    """Step ``inputs.n`` draws of ``plan`` through every month at once.

    Draws that share an announcement delay share every window's months, so
    they are stepped together, each track run by run (:class:`Group`): only
    the months inside a window are computed, the rest is filled in. Levels
    that are not whole troops (only a hand-made ``StepInputs`` has them) take
    :func:`step_dense`, the same model month by month; both give the same
    output, to the bit.
    """
    if not _whole(inputs.initial, inputs.targets, inputs.residual):
        return step_dense(plan, inputs)
    n, months = inputs.n, plan.n_months
    sched = schedule(plan, inputs)
    target = sched.target.copy()
    tracks = np.empty((n, len(plan.tracks), months), np.int32)
    if n:
        arrays = [
            np.ascontiguousarray(a.T)
            for a in (inputs.initial, sched.level0, sched.target, inputs.residual)
        ]
        delay = inputs.delay
        if delay.min() == delay.max():
            groups: list[tuple[Any, int]] = [(slice(None), 0)]
        else:
            order = np.argsort(delay, kind="stable")
            ordered = delay[order]
            cuts = [0, *(np.flatnonzero(ordered[1:] != ordered[:-1]) + 1).tolist(), n]
            groups = [(order[a:b], int(order[a])) for a, b in zip(cuts, cuts[1:], strict=False)]
        for idx, row in groups:
            part = arrays if isinstance(idx, slice) else [np.take(a, idx, axis=1) for a in arrays]
            group = Group(plan, sched.start[row].tolist(), sched.reached[row].tolist(), *part)
            for k in range(len(plan.tracks)):
                tracks[idx, k, :] = group.levels(k, 0, months - 1).T
                for j, value in group.targets(k).items():
                    target[idx, j] = value
    theaters = theater_sums(plan, tracks)
    return StepOutput(
        tracks=tracks,
        theaters=theaters,
        deadline=sched.deadline,
        original=sched.original,
        reached=sched.reached,
        target=target,
        announce=sched.announce,
    )


def _whole(*arrays: FloatArray) -> bool:
    """Every value is a whole number of troops from 0 to 2**52."""
    for a in arrays:
        if a.size and not (a.min() >= 0 and a.max() <= 2**52 and (np.floor(a) == a).all()):
            return False
    return True


def step_dense(plan: Plan, inputs: StepInputs) -> StepOutput:
    """:func:`step`, every draw and month in one array: the model as written in
    ``docs/design.md``, and the reference the faster paths are checked against."""
    n, months = inputs.n, plan.n_months
    j_count = len(plan.milestones)
    sched = schedule(plan, inputs)
    start, deadline, original, reached = (
        sched.start,
        sched.deadline,
        sched.original,
        sched.reached,
    )
    level0, target, announce = sched.level0, sched.target.copy(), sched.announce

    grid = np.arange(months, dtype=np.int64)
    tracks = np.empty((n, len(plan.tracks), months), np.int32)
    for k in range(len(plan.tracks)):
        on_track = [j for j in range(j_count) if plan.milestones[j].track == k]
        init = inputs.initial[:, k]
        path = _path(init, on_track, plan, start, reached, level0, target, grid)
        for r, res in enumerate(plan.residuals):
            if res.track != k:
                continue
            size = inputs.residual[:, r]
            f = (
                start[:, res.from_milestone]
                if res.from_month is None
                else np.full(n, res.from_month, np.int64)
            )
            u = np.full(n, months if res.until is None else res.until, np.int64)
            # targets of the milestones still to come are raised to the residual
            floored = target.copy()
            lifted = level0.copy()
            for j in on_track:
                if np.any(reached[:, j] > f):
                    raise_it = reached[:, j] > f
                    floored[:, j] = np.where(raise_it, np.maximum(target[:, j], size), target[:, j])
                prev = plan.milestones[j].prev
                lifted[:, j] = init if prev < 0 else floored[:, prev]
            kept = _path(init, on_track, plan, start, reached, lifted, floored, grid)
            # a residual that starts with a milestone is present from that milestone's
            # first month of change, never in the month its window starts from
            first = f + 1 if res.from_month is None else f
            present = (grid[None, :] >= first[:, None]) & (grid[None, :] <= u[:, None])
            path = np.where(present, np.maximum(kept, size[:, None]), path)
            for j in on_track:
                stays = (reached[:, j] > f) & (reached[:, j] <= u)
                target[:, j] = np.where(stays, np.maximum(floored[:, j], size), target[:, j])
        tracks[:, k, :] = np.floor(path + 0.5).astype(np.int32)

    theaters = theater_sums(plan, tracks)
    return StepOutput(
        tracks=tracks,
        theaters=theaters,
        deadline=deadline,
        original=original,
        reached=reached,
        target=target,
        announce=announce,
    )


def _path(
    init: FloatArray,
    on_track: list[int],
    plan: Plan,
    start: IntArray,
    reached: IntArray,
    level0: FloatArray,
    target: FloatArray,
    grid: IntArray,
) -> FloatArray:
    """One track's level in every month, milestone windows applied in order."""
    level = np.repeat(init[:, None], grid.shape[0], axis=1).astype(np.float64)
    for j in on_track:
        s = start[:, j][:, None]
        width = (reached[:, j] - start[:, j])[:, None]
        x = np.clip((grid[None, :] - s) / width, 0.0, 1.0)
        l0 = level0[:, j][:, None]
        new = l0 + (target[:, j][:, None] - l0) * share(plan.milestones[j].profile, x)
        np.copyto(level, new, where=grid[None, :] > s)
    return level


def _distinct_counts(
    parts: list[NDArray[Any]], shares: FloatArray, width: int, most: int
) -> IntArray | None:
    """Counts (len(shares), width) of ``max(floor(l0 + (T - l0) * share + 0.5), size)``
    over the draws, for each share, where ``parts`` are the draws' ``l0``, ``T``
    and optionally ``size``: computed once per distinct combination and counted
    with its multiplicity. None when the combinations could be more than ``most``.
    """
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
    l0, t = values[0], values[1]
    size = values[2] if len(values) > 2 else None
    d = t - l0
    w = weights[taken].astype(np.float64)
    out = np.empty((len(shares), width), np.int64)
    for i, sh in enumerate(shares):  # as Group.ramp_month, on the distinct draws
        row = d * sh
        row += l0
        row += 0.5
        level = row.astype(np.int64)
        if size is not None:
            np.maximum(level, size, out=level)
        out[i] = np.bincount(level, weights=w, minlength=width)
    return out


# ------------------------------------------------------------------ timing groups
#
# An ensemble only needs each draw's levels to count them, and most of a draw's
# months are flat: before a window opens, between windows, after the last one.
# The months of every window depend on the announcement delay only (see
# :func:`timing`), so draws with the same delay share them. For such a group a
# track's path is a sequence of *runs* of whole months: a level held (the
# initial level, a window's target, a window's start level) or a ramp
# (``l0 + (T - l0) * share``, computed exactly as :func:`_path` does, but only
# over the months inside the window). :class:`Group` evaluates a track over any
# range of months straight into whole troops; the result equals what
# :func:`step` gives for those draws and months, bit for bit.

_SHARES: dict[tuple[int, int], FloatArray] = {}


def share_table(profile: int, width: int) -> FloatArray:
    """``share`` at ``x = i / width`` for ``i = 0 .. width``, as :func:`_path` computes it."""
    key = (profile, width)
    table = _SHARES.get(key)
    if table is None:
        x = np.clip(np.arange(width + 1, dtype=np.int64) / np.int64(width), 0.0, 1.0)
        table = _SHARES[key] = share(profile, x)
    return table


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
    """Whole-troop levels of ``g`` draws that share their months (one announcement delay).

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
        self._targets: dict[int, dict[int, FloatArray]] = {}
        self._layers = [
            self._track_layers(k, level0, target, residual) for k in range(len(plan.tracks))
        ]
        self._runs = [self._track_runs(k) for k in range(len(plan.tracks))]

    def _track_layers(
        self, k: int, level0: FloatArray, target: FloatArray, residual: FloatArray
    ) -> list[_Layer]:
        """Layer 0 (no residual), then one layer per residual of track k, as :func:`step`
        builds them: the targets still to come when a residual starts are raised to it."""
        plan, months = self.plan, self.plan.n_months
        on_track = [j for j, m in enumerate(plan.milestones) if m.track == k]
        init = self._initial[k]
        tgt = {j: target[j] for j in on_track}
        layers = [_Layer(0, months - 1, None, {j: level0[j] for j in on_track}, dict(tgt))]
        for r, res in enumerate(plan.residuals):
            if res.track != k:
                continue
            size = residual[r]
            f = self.start[res.from_milestone] if res.from_month is None else res.from_month
            u = months if res.until is None else res.until
            floored: dict[int, FloatArray] = {}
            lifted: dict[int, FloatArray] = {}
            for j in on_track:
                floored[j] = np.maximum(tgt[j], size) if self.reached[j] > f else tgt[j]
                prev = plan.milestones[j].prev
                lifted[j] = init if prev < 0 else floored[prev]
            first = f + 1 if res.from_month is None else f  # as in step_dense
            layers.append(_Layer(first, u, size.astype(np.int64), lifted, floored))
            for j in on_track:
                if f < self.reached[j] <= u:
                    tgt[j] = np.maximum(floored[j], size)
        self._targets[k] = tgt
        return layers

    def _track_runs(self, k: int) -> list[Run]:
        """Runs ``(first, last, ramp, layer, source)`` covering every month of track k.

        source is ``-1`` for the initial level, else ``2 * milestone + end``
        (end 0: the window's start level, 1: its target). A run that is not a
        ramp holds its source's level; a ramp moves from the window's start
        level to its target.
        """
        plan, layers = self.plan, self._layers[k]
        on_track = [j for j, m in enumerate(plan.milestones) if m.track == k]
        # a window whose levels do not move (a step, or no change in any draw) holds
        flat = tuple(
            plan.milestones[j].profile == 1 or not np.any(layer.target[j] != layer.level0[j])
            for layer in layers
            for j in on_track
        )
        key = (k, tuple(self.start), tuple(self.reached), flat)
        runs: list[Run] | None = self._cache.get(key)
        if runs is not None:
            return runs
        is_flat = dict(
            zip([(li, j) for li in range(len(layers)) for j in on_track], flat, strict=True)
        )
        runs = []
        for m in range(plan.n_months):
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
                runs[-1] = (runs[-1][0], m, *piece)
            else:
                runs.append((m, m, *piece))
        self._cache[key] = runs
        return runs

    def uniform(self, k: int) -> bool:
        """Whether every draw of the group has the same levels on track k."""
        values = [self._initial[k]]
        for layer in self._layers[k]:
            values += [*layer.level0.values(), *layer.target.values()]
            if layer.size is not None:
                values.append(layer.size)
        return all(v.min() == v.max() for v in values)

    def head(self) -> Group:
        """The group of the first draw alone."""
        level0, target, residual = self._values
        return Group(
            self.plan,
            self.start,
            self.reached,
            self._initial[:, :1],
            level0[:, :1],
            target[:, :1],
            residual[:, :1],
            self._cache,
        )

    def active(self, k: int) -> tuple[int, int]:
        """Months ``(lo, hi)`` outside which track k's levels stay put: every month
        before ``lo`` has month ``lo``'s level, every month after ``hi`` month ``hi``'s."""
        changes = [
            m
            for a, b, ramp, _, _ in self._runs[k]
            for m in range(a, b + 1)
            if (ramp or m == a) and m > 0
        ]
        if not changes:
            return 0, 0
        return min(changes) - 1, max(changes)

    def targets(self, k: int) -> dict[int, FloatArray]:
        """The level each milestone of track k reaches, once residuals raise them
        (:class:`StepOutput` ``target``), by milestone index."""
        return self._targets[k]

    def runs(self, k: int) -> list[Run]:
        """Track k's runs ``(first, last, ramp, layer, source)``, covering every month."""
        return self._runs[k]

    def held(self, k: int, li: int, source: int) -> IntArray:
        """The level a run holds, per draw, as whole troops."""
        key = (k, li, source)
        out = self._ints.get(key)
        if out is None:
            layer = self._layers[k][li]
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

    def levels(
        self,
        k: int,
        lo: int,
        hi: int,
        out: IntArray | None = None,
        scratch: FloatArray | None = None,
    ) -> IntArray:
        """Track k's levels in months ``lo..hi``, shape (months, g), whole troops.

        ``out`` receives them; ``scratch`` is float room of at least that shape.
        """
        rows = hi - lo + 1
        if out is None:
            out = np.empty((rows, self.n), np.int64)
        for a, b, ramp, li, source in self._runs[k]:
            a, b = max(a, lo), min(b, hi)
            if a > b:
                continue
            block = out[a - lo : b - lo + 1]
            if not ramp:
                block[...] = self.held(k, li, source)
                continue
            layer = self._layers[k][li]
            j = source // 2
            s = self.start[j]
            sh = share_table(self.plan.milestones[j].profile, self.reached[j] - s)
            sh = sh[a - s : b - s + 1, None]
            l0, t = layer.level0[j], layer.target[j]
            if l0.min() == l0.max() and t.min() == t.max():
                l0, t = l0[:1], t[:1]  # every draw alike: one column does
                buf = np.multiply(sh, t - l0)
            else:
                if (
                    scratch is not None
                    and scratch.shape[1] == self.n
                    and scratch.shape[0] >= b - a + 1
                ):
                    buf = scratch[: b - a + 1]
                else:
                    buf = np.empty((b - a + 1, self.n))
                np.multiply(sh, t - l0, out=buf)
            # l0 + (T - l0) * share, then halves up, in _path's and step's order
            np.add(buf, l0, out=buf)
            np.add(buf, 0.5, out=buf)
            np.copyto(block, buf, casting="unsafe")  # levels are >= 0: truncation floors
            if layer.size is not None:
                np.maximum(block, layer.size, out=block)
        return out

    def ramp_rises(self, k: int, li: int, source: int) -> bool:
        """Whether the ramp of a run rises in some draw (else it never rises)."""
        layer = self._layers[k][li]
        j = source // 2
        return bool(np.any(layer.target[j] > layer.level0[j]))

    def ramp_month(
        self, k: int, li: int, source: int, m: int, out: IntArray, scratch: FloatArray
    ) -> IntArray:
        """Track k's levels in month m of a ramp run, into ``out`` (g,); ``scratch`` is
        float room of the same shape. As :meth:`levels` computes them."""
        layer = self._layers[k][li]
        j = source // 2
        s = self.start[j]
        sh = share_table(self.plan.milestones[j].profile, self.reached[j] - s)[m - s]
        d = self._steps.get((k, li, j))
        if d is None:
            d = self._steps[k, li, j] = layer.target[j] - layer.level0[j]
        np.multiply(d, sh, out=scratch)
        np.add(scratch, layer.level0[j], out=scratch)
        np.add(scratch, 0.5, out=scratch)
        np.copyto(out, scratch, casting="unsafe")
        if layer.size is not None:
            np.maximum(out, layer.size, out=out)
        return out

    def ramp_counts(
        self, k: int, li: int, source: int, a: int, b: int, width: int
    ) -> IntArray | None:
        """Counts (months a..b, levels 0..width-1) of track k's levels in a ramp run,
        computed once per distinct (start level, target, residual) of the draws;
        None when the draws take too many distinct ones for that to pay."""
        layer = self._layers[k][li]
        j = source // 2
        s = self.start[j]
        table = share_table(self.plan.milestones[j].profile, self.reached[j] - s)
        rows = table[a - s : b - s + 1]
        parts: list[NDArray[Any]] = [layer.level0[j], layer.target[j]]
        if layer.size is not None:
            parts.append(layer.size)
        return _distinct_counts(parts, rows, width, self.n // 8)

    def rises(self, k: int, block: IntArray, lo: int, hi: int) -> bool:
        """Whether track k's levels ``block`` (months lo..hi) may rise from one month to
        the next (False: they never do). Ramps are monotone; runs meet at their edges."""
        for a, b, ramp, li, source in self._runs[k]:
            if b < lo or a > hi:
                continue
            if a > lo and np.any(block[a - lo] > block[a - lo - 1]):
                return True
            if ramp:
                layer = self._layers[k][li]
                j = source // 2
                if np.any(layer.target[j] > layer.level0[j]):
                    return True
        return False
