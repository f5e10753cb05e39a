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


def step(plan: Plan, inputs: StepInputs) -> StepOutput:
    """Step ``inputs.n`` draws of ``plan`` through every month at once."""
    n, months = inputs.n, plan.n_months
    delay = inputs.delay.astype(np.int64)
    announce = plan.announce + delay
    floor = np.maximum(announce - 1, 0)
    j_count = len(plan.milestones)
    start = np.zeros((n, j_count), np.int64)
    deadline = np.zeros((n, j_count), np.int64)
    original = np.zeros((n, j_count), np.int64)
    reached = np.zeros((n, j_count), np.int64)
    level0 = np.zeros((n, j_count))
    target = np.zeros((n, j_count))

    for j in plan.order:
        ms = plan.milestones[j]
        if ms.prev < 0:
            s = floor
            base = inputs.initial[:, ms.track]
        else:
            s = np.maximum(reached[:, ms.prev], floor)
            base = target[:, ms.prev]
        if ms.kind == "month":
            e = np.full(n, ms.month, np.int64) + (delay if ms.slips else 0)
            e0 = np.full(n, ms.month, np.int64)
        elif ms.kind == "announcement":
            e = announce + ms.offset
            e0 = np.full(n, plan.announce + ms.offset, np.int64)
        else:
            e = reached[:, ms.ref] + ms.offset
            e0 = original[:, ms.ref] + ms.offset
        goal = inputs.targets[:, j]
        if ms.target_kind == "reduce_by":
            goal = np.maximum(base - goal, 0.0)
        start[:, j], deadline[:, j], original[:, j] = s, e, e0
        reached[:, j] = np.maximum(e, s + 1)
        level0[:, j], target[:, j] = base, np.maximum(goal, 0.0)

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
            f = (start[:, res.from_milestone] if res.from_month is None
                 else np.full(n, res.from_month, np.int64))
            u = np.full(n, months if res.until is None else res.until, np.int64)
            # targets of the milestones still to come are raised to the residual
            floored = target.copy()
            lifted = level0.copy()
            for j in on_track:
                if np.any(reached[:, j] > f):
                    raise_it = reached[:, j] > f
                    floored[:, j] = np.where(raise_it, np.maximum(target[:, j], size),
                                             target[:, j])
                prev = plan.milestones[j].prev
                lifted[:, j] = init if prev < 0 else floored[:, prev]
            kept = _path(init, on_track, plan, start, reached, lifted, floored, grid)
            present = (grid[None, :] >= f[:, None]) & (grid[None, :] <= u[:, None])
            path = np.where(present, np.maximum(kept, size[:, None]), path)
            for j in on_track:
                stays = (reached[:, j] > f) & (reached[:, j] <= u)
                target[:, j] = np.where(stays, np.maximum(floored[:, j], size), target[:, j])
        tracks[:, k, :] = np.floor(path + 0.5).astype(np.int32)

    theaters = np.empty((n, len(plan.theaters), months), np.int32)
    for t, tid in enumerate(plan.theaters):
        theaters[:, t, :] = tracks[:, plan.theater_tracks(tid), :].sum(axis=1)
    return StepOutput(tracks=tracks, theaters=theaters, deadline=deadline, original=original,
                      reached=reached, target=target, announce=announce)


def _path(init: FloatArray, on_track: list[int], plan: Plan, start: IntArray, reached: IntArray,
          level0: FloatArray, target: FloatArray, grid: IntArray) -> FloatArray:
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
