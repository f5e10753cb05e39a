"""The stepping rules, each written once: profile shares, window timing, window
levels, residual layering, theater sums, official figures and timing groups.

Both steppers use these functions: :func:`sim.model.stepper.step_dense` (the
model as written, every draw and month in one array) and the grouped fast path
(:mod:`sim.model.fastpath`), which evaluates the same rules only over the
months that move. Month semantics are in ``docs/design.md``.

The functions take months either per draw (arrays of shape ``(n,)``) or shared
by a group of draws (plain integers): every rule is written with numpy
operations that broadcast, so both callers get the same arithmetic, bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.model.plan import Plan

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


_SHARES: dict[tuple[int, int], FloatArray] = {}


def share_table(profile: int, width: int) -> FloatArray:
    """``share`` at ``x = i / width`` for ``i = 0 .. width``, as :func:`_path` computes it."""
    key = (profile, width)
    table = _SHARES.get(key)
    if table is None:
        x = np.clip(np.arange(width + 1, dtype=np.int64) / np.int64(width), 0.0, 1.0)
        table = _SHARES[key] = share(profile, x)
    return table


def original_deadlines(plan: Plan) -> list[int]:
    """Each milestone's original deadline (month index, in file order): computed without
    the announcement delay or any execution delay (:func:`timing`'s ``original``),
    whatever form its deadline takes. What ``p_met`` is measured against, and where
    the charts draw a milestone's deadline."""
    original = timing(plan, np.zeros(1, np.int64))[2]
    return [int(m) for m in original[0]]


def dated_deadlines(plan: Plan) -> list[int | None]:
    """Each milestone's original deadline (:func:`original_deadlines`, month index, in
    file order) where it is a date on the calendar, else None: a deadline written as a
    month is one, and so is one counted from another milestone whose deadline is; one
    counted from the announcement is not (its month is an order's, as uncertain as the
    announcement: ``docs/vintages.md`` writes random orders so). These are the
    deadlines the charts draw (the validation keeps them within the calendar)."""
    original = original_deadlines(plan)
    dated: list[bool] = [False] * len(plan.milestones)
    for j in plan.order:  # (a milestone after the one it counts from)
        ms = plan.milestones[j]
        dated[j] = ms.kind == "month" or (ms.kind == "milestone" and dated[ms.ref])
    return [m if on else None for m, on in zip(original, dated, strict=True)]


def timing(
    plan: Plan, delay: IntArray, exec_delay: IntArray | None = None
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """``(start, deadline, original, reached, announce)`` of :class:`Schedule` for
    announcement delays ``delay`` (n,) and execution delays ``exec_delay``
    (n, milestones; zeros when None) [months].

    The rule, per milestone in dependency order: the anchor ``s`` is the later of
    the previous milestone on the track being reached and the month before the
    announcement; the deadline ``e`` is the calendar month (plus the announcement
    delay when it slips), the announcement month plus the offset, or the month the
    milestone it follows is reached plus the offset; it is reached in
    ``r = max(e + x, s + 1)``, ``x`` its execution delay. The original deadline is
    ``e`` computed without either delay.
    """
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
        late = e if exec_delay is None else e + exec_delay[:, j]
        reached[:, j] = np.maximum(late, s + 1)
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


def official(levels: Any, unreported: Any) -> Any:
    """The official figure of a track: its level less the troops official figures
    leave out, never below 0, ``max(level - unreported, 0)`` [troops]. Broadcasts."""
    return np.maximum(levels - unreported, 0)


def theater_sums(plan: Plan, tracks: NDArray[np.int32]) -> NDArray[np.int32]:
    """(n, theaters, months) levels: each theater the sum of its tracks."""
    n, _, months = tracks.shape
    theaters = np.empty((n, len(plan.theaters), months), np.int32)
    for t, tid in enumerate(plan.theaters):
        own = plan.theater_tracks(tid)
        if own == list(range(own[0], own[-1] + 1)):  # (a view: no copy of its levels)
            theaters[:, t, :] = tracks[:, own[0] : own[-1] + 1, :].sum(axis=1)
        else:
            theaters[:, t, :] = tracks[:, own, :].sum(axis=1)
    return theaters


@dataclass(frozen=True)
class ResidualLayer:
    """A track's milestone levels while one residual is present.

    first, last : month index (or (n,) month indices) of the first and last month
        the residual is present
    size : (n,) residual size [troops], a floor on the levels while present
    level0, target : per milestone index on the track, the window's start level and
        end level with the residual's floor applied to the targets still to come [troops]
    """

    first: Any
    last: Any
    size: FloatArray
    level0: dict[int, FloatArray]
    target: dict[int, FloatArray]


def residual_layers(
    plan: Plan,
    k: int,
    start: Any,
    reached: Any,
    initial: FloatArray,
    target: dict[int, FloatArray],
    residual: FloatArray,
) -> tuple[list[ResidualLayer], dict[int, FloatArray]]:
    """The residuals of track ``k``, layered in file order, and the level each
    milestone of the track finally reaches.

    ``start[j]`` and ``reached[j]`` are milestone j's window months: a month index
    shared by every draw, or an (n,) array of them. ``initial`` (n,) is the track's
    initial level, ``target[j]`` (n,) milestone j's window target, ``residual[r]``
    (n,) residual r's size [troops]. A residual present from month ``f`` raises to
    its size the targets of the milestones reached after ``f``; a residual that
    starts with a milestone holds from that milestone's first month of change.
    """
    months = plan.n_months
    on_track = plan.track_milestones(k)
    final = {j: target[j] for j in on_track}
    layers: list[ResidualLayer] = []
    for r, res in enumerate(plan.residuals):
        if res.track != k:
            continue
        size = residual[r]
        f = start[res.from_milestone] if res.from_month is None else res.from_month
        u = months if res.until is None else res.until
        floored: dict[int, FloatArray] = {}
        lifted: dict[int, FloatArray] = {}
        for j in on_track:
            floored[j] = _raised_where(reached[j] > f, final[j], size)
            prev = plan.milestones[j].prev
            lifted[j] = initial if prev < 0 else floored[prev]
        first = f + 1 if res.from_month is None else f
        layers.append(ResidualLayer(first, u, size, lifted, floored))
        for j in on_track:
            stays = (reached[j] > f) & (reached[j] <= u)
            final[j] = _raised_where(stays, floored[j], size)
    return layers, final


def _raised_where(where: Any, level: FloatArray, size: FloatArray) -> FloatArray:
    """``np.where(where, np.maximum(level, size), level)``: ``level`` raised to ``size``
    in the draws ``where`` holds. ``where`` one bool for every draw (a window's months
    shared by a group of draws) takes the one branch without building the other."""
    if np.ndim(where) == 0:
        return np.maximum(level, size) if where else level
    return np.where(where, np.maximum(level, size), level)


def window_months(
    plan: Plan, delay: IntArray, exec_delay: IntArray, block: int = 1 << 14
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.bool_]]:
    """``(start, reached, met)``: every draw's window months, as :func:`timing` gives
    them, (n, milestones) each (month indices; int32), and whether each draw reaches
    each milestone by its original deadline (n, milestones). Computed ``block`` draws at
    a time, so that :func:`timing`'s other arrays stay small."""
    n = delay.shape[0]
    start = np.empty((n, len(plan.milestones)), np.int32)
    reached = np.empty_like(start)
    met = np.empty((n, len(plan.milestones)), np.bool_)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        s, _, original, r, _ = timing(plan, delay[lo:hi], exec_delay[lo:hi])
        np.less_equal(r, original, out=met[lo:hi])
        start[lo:hi], reached[lo:hi] = s, r
    return start, reached, met


def group_firsts(order: IntArray | None, cuts: list[int]) -> Any:
    """Where the first draw of each group of :func:`timing_groups` (or :func:`row_groups`)
    stands: ``slice(0, 1)`` for one group of draws in their own order, else the indices
    ``order[cuts[:-1]]`` (groups,); indexing a per-draw array with it gives one row per
    group."""
    return slice(0, 1) if order is None else order[cuts[:-1]]


def timing_groups(delay: IntArray, exec_delay: IntArray) -> tuple[IntArray | None, list[int]]:
    """Draws grouped by their timing key: the announcement delay ``delay`` (n,) and
    every milestone's execution delay ``exec_delay`` (n, milestones), which together
    fix every window's months (:func:`timing`).

    Returns ``(order, cuts)`` as :func:`row_groups` does.
    """
    n = delay.shape[0]
    columns = [delay] + [exec_delay[:, j] for j in range(exec_delay.shape[1])] if n else []
    return row_groups(columns, n)


def row_groups(
    columns: Sequence[NDArray[np.integer[Any]]], n: int
) -> tuple[IntArray | None, list[int]]:
    """The n draws grouped by their values in whole-number ``columns`` (each (n,)).

    Returns ``(order, cuts)``: the draws ``order[cuts[i]:cuts[i + 1]]`` take the same
    value in every column (a stable sort, so draws keep their order within a group);
    ``order`` is None when every draw does (one group, ``cuts == [0, n]``).
    """
    varying = [c for c in columns if c.min() != c.max()]
    if not varying:
        return None, [0, n]
    # one whole-number key per draw: mixed radix over the columns' ranges, or the
    # index of the draw's row among the distinct rows when that would not fit
    key = np.zeros(n, np.int64)
    size = 1
    for c in varying:
        low, span = int(c.min()), int(c.max()) - int(c.min()) + 1
        size *= span
        if size >= 2**62:
            rows = np.stack(varying, axis=1)
            key = np.unique(rows, axis=0, return_inverse=True)[1].reshape(n).astype(np.int64)
            size = int(key.max()) + 1
            break
        key *= span
        key += c - low
    order = np.argsort(key.astype(np.int16) if size < 2**15 else key, kind="stable")
    ordered = key[order]
    cuts = [0, *(np.flatnonzero(ordered[1:] != ordered[:-1]) + 1).tolist(), n]
    return order, cuts
