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

The rules themselves are in :mod:`sim.model.rules`; this module puts them
together twice: :func:`step_dense`, the executable specification, and
:func:`step`, which evaluates the same rules over runs of months
(:class:`sim.model.fastpath.Group`) and gives the same output to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.model.fastpath import Group
from sim.model.plan import Plan
from sim.model.rules import (
    residual_layers,
    share,
    theater_sums,
    timing,
    timing_groups,
    window_levels,
)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StepInputs:
    """Per-draw numbers for one plan; every array has ``n`` rows.

    initial : (n, tracks) initial levels of the whole force [troops]
    delay : (n,) announcement delay [months]
    targets : (n, milestones) drawn target values (level or reduction) [troops]
    residual : (n, residuals) residual sizes [troops], 0 when absent
    exec_delay : (n, milestones) execution delay of each milestone [months]: how far
        completing it falls behind its deadline; zeros when not given
    unreported : (n, tracks) troops each track's official figures leave out [troops];
        zeros when not given. The stepper does not use it: a track's official figure
        is ``max(level - unreported, 0)`` (:func:`sim.model.rules.official`).
    """

    initial: FloatArray
    delay: IntArray
    targets: FloatArray
    residual: FloatArray
    exec_delay: IntArray = None  # type: ignore[assignment]
    unreported: FloatArray = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.exec_delay is None:
            object.__setattr__(self, "exec_delay", np.zeros(self.targets.shape, np.int64))
        if self.unreported is None:
            object.__setattr__(self, "unreported", np.zeros(self.initial.shape))

    @property
    def n(self) -> int:
        return int(self.delay.shape[0])

    def group_arrays(self, plan: Plan) -> list[FloatArray]:
        """``[initial, level0, target, residual]``, each (rows, n), the draws on the last
        axis: what a :class:`~sim.model.fastpath.Group` takes (the windows' start levels
        and targets from :func:`~sim.model.rules.window_levels`)."""
        initial = self.initial.T
        level0, target = window_levels(plan, initial, self.targets.T, transposed=True)
        return [initial, level0, target, self.residual.T]

    def subset(self, index: Any) -> StepInputs:
        """The draws ``index`` selects (a boolean mask or positions), in that order."""
        return StepInputs(
            initial=self.initial[index],
            delay=self.delay[index],
            targets=self.targets[index],
            residual=self.residual[index],
            exec_delay=self.exec_delay[index],
            unreported=self.unreported[index],
        )


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
    the announcement delay and the milestones' execution delays only, never on
    the drawn levels.
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
    start, deadline, original, reached, announce = timing(plan, inputs.delay, inputs.exec_delay)
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


def step(plan: Plan, inputs: StepInputs, cache: dict[Any, Any] | None = None) -> StepOutput:
    """Step ``inputs.n`` draws of ``plan`` through every month at once.

    Draws that share their timing (the announcement delay and every milestone's
    execution delay, :func:`sim.model.rules.timing_groups`) share every window's
    months, so they are stepped together, each track run by run (:class:`Group`): only
    the months inside a window are computed, the rest is filled in. Levels
    that are not whole troops (only a hand-made ``StepInputs`` has them) take
    :func:`step_dense`, the same model month by month; both give the same
    output, to the bit. ``cache`` (a dict kept between calls for the same plan) saves
    re-deriving each timing group's runs of months.
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
        order, cuts = timing_groups(inputs.delay, inputs.exec_delay)
        groups: list[tuple[Any, int]] = (
            [(slice(None), 0)]
            if order is None
            else [(order[a:b], int(order[a])) for a, b in zip(cuts, cuts[1:], strict=False)]
        )
        for idx, row in groups:
            part = arrays if isinstance(idx, slice) else [np.take(a, idx, axis=1) for a in arrays]
            initial, level0, target_, residual = part
            group = Group(
                plan,
                sched.start[row].tolist(),
                sched.reached[row].tolist(),
                initial,
                level0,
                target_,
                residual,
                cache=cache,
            )
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
    sched = schedule(plan, inputs)
    start, reached = sched.start, sched.reached
    level0, target = sched.level0, sched.target.copy()

    grid = np.arange(months, dtype=np.int64)
    tracks = np.empty((n, len(plan.tracks), months), np.int32)
    for k in range(len(plan.tracks)):
        on_track = plan.track_milestones(k)
        init = inputs.initial[:, k]
        path = _path(init, on_track, plan, start, reached, level0, target, grid)
        layers, final = residual_layers(
            plan,
            k,
            start.T,
            reached.T,
            init,
            {j: target[:, j] for j in on_track},
            inputs.residual.T,
        )
        for layer in layers:
            lifted, floored = level0.copy(), target.copy()
            for j in on_track:
                lifted[:, j], floored[:, j] = layer.level0[j], layer.target[j]
            kept = _path(init, on_track, plan, start, reached, lifted, floored, grid)
            first = np.broadcast_to(layer.first, (n,))
            last = np.broadcast_to(layer.last, (n,))
            present = (grid[None, :] >= first[:, None]) & (grid[None, :] <= last[:, None])
            path = np.where(present, np.maximum(kept, layer.size[:, None]), path)
        for j in on_track:
            target[:, j] = final[j]
        tracks[:, k, :] = np.floor(path + 0.5).astype(np.int32)

    return StepOutput(
        tracks=tracks,
        theaters=theater_sums(plan, tracks),
        deadline=sched.deadline,
        original=sched.original,
        reached=reached,
        target=target,
        announce=sched.announce,
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
