"""Per-draw numbers for the stepper: the central values, or seeded random draws.

Randomness lives here and only here. Each uncertain quantity has its own
stream, made from the run's seed and the quantity's key path
(``numpy.random.SeedSequence([seed, crc32(path)])``). So:

* every variant sees the same draws for the same quantity (common random
  numbers): two variants differ only by what the variant changes, even when a
  variant changes a distribution's parameters (the same uniform numbers are
  pushed through the new inverse CDF);
* the stream is consumed in order, so draws are the same whatever the chunk
  size.

A stream is only drawn from when its numbers are used: a quantity's own stream
when it has a distribution (not a plain ``value``), its ``#probability`` stream
when it has a probability. Each stream depends on the seed and its name only,
so skipping an unused one changes no other draw.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.model.plan import Plan, Quantity
from sim.model.stepper import StepInputs
from sim.schema import Spec, central


def whole(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round to whole troops or months, halves away from zero."""
    return np.floor(values + 0.5)


def from_uniform(
    q: Quantity, u: NDArray[np.float64], gate: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Values of quantity ``q`` for uniform numbers ``u`` (inverse CDF), whole.

    ``uniform`` is the discrete uniform on its whole values (:func:`_whole_uniform`);
    ``triangular`` and ``choice`` values are rounded to whole numbers, halves up.
    """
    if not isinstance(q, Spec):
        return np.full(u.shape, float(q))
    # the steps work in place where they can; the arithmetic (and so every value,
    # to the last bit) is that of the plain formulas in the comments
    if q.value is not None:
        out = np.full(u.shape, np.floor(np.float64(q.value) + 0.5))  # whole(value)
    else:
        if q.uniform is not None:  # whole already: every whole value equally likely
            return _gated(q, _whole_uniform(q.uniform, u), gate)
        if q.triangular is not None:
            out = _triangular(q.triangular, u)
        else:
            assert q.choice is not None
            out = _choice(q.choice.values, q.choice.weights, u)
        np.add(out, 0.5, out=out)  # whole(out)
        np.floor(out, out=out)
    return _gated(q, out, gate)


def _gated(
    q: Spec, out: NDArray[np.float64], gate: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """``out`` where the quantity applies (``gate < probability``), else 0."""
    if q.probability is not None and gate is not None:
        return np.where(gate < q.probability, out, 0.0)
    return out


def _whole_uniform(bounds: list[float] | list[int], u: NDArray[np.float64]) -> NDArray[np.float64]:
    """The discrete uniform on the whole numbers from ``whole(low)`` to ``whole(high)``:
    ``floor(lo + u (hi - lo + 1))``, capped at ``hi`` (a ``u`` within rounding of 1).

    Every whole value in the range has the same chance, ``1 / (hi - lo + 1)``: the
    quantities are whole troops or months, and rounding a continuous draw instead
    would give each end half the chance of the values between.
    """
    lo, hi = (float(np.floor(np.float64(b) + 0.5)) for b in bounds)
    out = np.multiply(u, hi - lo + 1.0)
    np.add(out, lo, out=out)
    np.floor(out, out=out)
    np.minimum(out, hi, out=out)
    return out


def _triangular(params: list[float] | list[int], u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Inverse CDF of triangular [lo, mode, hi]: ``lo + sqrt(u (hi - lo) (mode - lo))``
    below the mode's share ``cut``, ``hi - sqrt((1 - u) (hi - lo) (hi - mode))`` above."""
    lo, mode, hi = (float(v) for v in params)
    if hi == lo:
        return np.full(u.shape, lo)
    cut = (mode - lo) / (hi - lo)
    left = np.multiply(u, hi - lo)
    np.multiply(left, mode - lo, out=left)
    np.sqrt(left, out=left)
    np.add(left, lo, out=left)
    right = np.subtract(1.0, u)
    np.multiply(right, hi - lo, out=right)
    np.multiply(right, hi - mode, out=right)
    np.sqrt(right, out=right)
    np.subtract(hi, right, out=right)
    return np.where(u < cut, left, right)


def _choice(
    values: list[float] | list[int], weights: list[float] | list[int] | None, u: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``values[i]`` for the first ``i`` whose cumulative weight share exceeds ``u``."""
    vals = np.asarray(values, np.float64)
    w = np.asarray(weights or [1.0] * len(vals), np.float64)
    cum = np.cumsum(w) / w.sum()
    if len(cum) <= 16:  # the count of cum <= u, as searchsorted(side="right") gives it
        index = (u >= cum[0]).astype(np.intp)
        for c in cum[1:]:
            np.add(index, u >= c, out=index)
    else:
        index = np.searchsorted(cum, u, side="right")
    np.minimum(index, len(vals) - 1, out=index)
    return vals.take(index)


def central_inputs(plan: Plan) -> StepInputs:
    """One draw holding every quantity's central value."""

    def value(q: Quantity) -> NDArray[np.float64]:
        return whole(np.array([central(q)]))

    return _inputs(plan, lambda path, q, n: value(q), 1, {})[0]


class Draws:
    """Seeded per-quantity streams; ``take(plan, n)`` returns the next ``n`` draws.

    ``start`` positions every stream at draw ``start`` (PCG64's ``advance``: one
    64-bit output per uniform double), so a part of an ensemble starting there
    gets the same numbers as the whole ensemble taken in one process.
    """

    def __init__(self, seed: int, start: int = 0) -> None:
        self.seed = int(seed)
        self.start = int(start)
        self._streams: dict[str, np.random.Generator] = {}
        self._alike: dict[tuple[int, ...], tuple[list[Plan], list[dict[str, int]]]] = {}

    def _stream(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            ss = np.random.SeedSequence([self.seed, stream_key(name)])
            bits = np.random.PCG64(ss)  # what default_rng(ss) uses
            if self.start:
                bits.advance(self.start)
            self._streams[name] = np.random.Generator(bits)
        return self._streams[name]

    def uniforms(self, name: str, n: int) -> NDArray[np.float64]:
        return self._stream(name).random(n)

    def take(self, plan: Plan, n: int) -> StepInputs:
        """The next ``n`` draws of ``plan``."""
        return self.take_all([plan], n)[0]

    def take_all(self, plans: list[Plan], n: int) -> list[StepInputs]:
        """The next ``n`` draws of each of ``plans`` (variants of one scenario).

        Each stream advances once by ``n`` however many plans use it, and a quantity
        that several plans share (the same path and the same value or distribution)
        is computed once for all of them: the numbers are those each plan would get
        from a :class:`Draws` of its own, to the bit."""
        drawn: dict[str, NDArray[np.float64]] = {}

        def value(path: str, q: Quantity, n: int) -> NDArray[np.float64]:
            if not isinstance(q, Spec):
                return whole(np.full(n, float(q)))
            u = uniforms(path) if q.value is None else np.empty(n)
            gate = uniforms(path + "#probability") if q.probability is not None else None
            return from_uniform(q, u, gate)

        def uniforms(name: str) -> NDArray[np.float64]:
            if name not in drawn:
                # a stream advances by n whenever it is used, so chunking never shifts it
                drawn[name] = self.uniforms(name, n)
            return drawn[name]

        same = self._same(plans)
        made: list[dict[str, Any]] = []
        out = []
        for i, plan in enumerate(plans):
            have = {part: made[j][part] for part, j in same[i].items() if j < i}
            inputs, parts = _inputs(plan, value, n, have)
            made.append(parts)
            out.append(inputs)
        return out

    def _same(self, plans: list[Plan]) -> list[dict[str, int]]:
        """For each plan and part of its inputs, the first plan with the same quantities
        in that part (itself when none before): worked out once per list of plans."""
        key = tuple(id(p) for p in plans)
        if key not in self._alike:
            keys = [_part_keys(p) for p in plans]
            self._alike[key] = (
                list(plans),  # (kept, so that the ids stay theirs)
                [
                    {part: next(j for j in range(i + 1) if keys[j][part] == k[part]) for part in k}
                    for i, k in enumerate(keys)
                ],
            )
        return self._alike[key][1]


def stream_key(name: str) -> int:
    """The number a stream's name adds to the run's seed: the CRC-32 of its UTF-8
    bytes (a 32-bit hash; :func:`shared_streams` finds two names of a plan that share
    one)."""
    return zlib.crc32(name.encode())


def stream_names(plan: Plan) -> list[str]:
    """The names of every stream ``plan`` draws from, in the order of its inputs: the
    key path of each quantity with a distribution, and ``PATH#probability`` of each
    with a probability."""
    names: list[str] = []
    for part in _part_keys(plan).values():
        for entry in part:
            pairs = [(entry[0], entry[1])]
            if len(entry) == 5 and entry[2]:  # (a force with an official basis)
                pairs.append((entry[3], entry[4]))
            for path, q in pairs:
                if not isinstance(q, Spec):
                    continue
                if q.value is None:
                    names.append(path)
                if q.probability is not None:
                    names.append(path + "#probability")
    return list(dict.fromkeys(names))


def shared_streams(plan: Plan) -> tuple[str, str] | None:
    """Two of ``plan``'s stream names (:func:`stream_names`) whose keys
    (:func:`stream_key`) are equal, the first-named first, or None. Two such streams
    would give the same numbers: quantities the scenario says are independent would
    move together."""
    seen: dict[int, str] = {}
    for name in stream_names(plan):
        other = seen.setdefault(stream_key(name), name)
        if other != name:
            return other, name
    return None


def _part_keys(plan: Plan) -> dict[str, Any]:
    """The quantities, with their paths, of each part of a plan's inputs: two plans with
    equal keys for a part draw the same numbers for it."""
    return {
        "forces": [
            (t.initial_path, t.initial, t.has_basis, t.unreported_path, t.unreported)
            for t in plan.tracks
        ],
        "delay": [("announcement.delay", plan.delay)],
        "targets": [(m.target_path, m.target) for m in plan.milestones],
        "residual": [(r.size_path, r.size) for r in plan.residuals],
        "late": [(m.delay_path, m.delay) for m in plan.milestones],
    }


def _inputs(  # type: ignore[no-untyped-def]
    plan: Plan, value, n: int, have: dict[str, Any]
) -> tuple[StepInputs, dict[str, Any]]:
    """One plan's ``n`` draws from ``value(path, quantity, n)``, and its parts (initial
    levels, delays, targets, residuals, execution delays); the parts in ``have`` are
    those of an earlier plan with the same quantities in them, taken as they are.
    Parts are made read-only, since plans share them."""

    def forces() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        initial = np.empty((len(plan.tracks), n))
        unreported = np.zeros((len(plan.tracks), n))
        for k, t in enumerate(plan.tracks):
            initial[k] = value(t.initial_path, t.initial, n)
            if t.has_basis:  # the whole force starts at the official figure plus the rest
                unreported[k] = np.maximum(value(t.unreported_path, t.unreported, n), 0)
                np.maximum(initial[k], 0, out=initial[k])
                initial[k] += unreported[k]
        np.maximum(initial, 0, out=initial)
        return initial.T, unreported.T

    def rows(paths: list[tuple[str, Quantity]], dtype: Any) -> NDArray[Any]:
        out = np.empty((len(paths), n), dtype)
        for j, (path, q) in enumerate(paths):
            out[j] = value(path, q, n)
        np.maximum(out, 0, out=out)
        return out.T

    keys = _part_keys(plan)
    make = {
        "forces": forces,
        "delay": lambda: (rows(keys["delay"], np.int64)[:, 0].copy(),),
        "targets": lambda: (rows(keys["targets"], np.float64),),
        "residual": lambda: (rows(keys["residual"], np.float64),),
        "late": lambda: (rows(keys["late"], np.int64),),
    }
    parts = {}
    for part, maker in make.items():
        if part in have:
            parts[part] = have[part]
            continue
        arrays = maker()
        for a in arrays:
            a.flags.writeable = False
        parts[part] = arrays
    initial, unreported = parts["forces"]
    inputs = StepInputs(
        initial=initial,
        delay=parts["delay"][0],
        targets=parts["targets"][0],
        residual=parts["residual"][0],
        exec_delay=parts["late"][0],
        unreported=unreported,
    )
    return inputs, parts
