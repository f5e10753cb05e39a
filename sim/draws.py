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
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import NDArray

from sim.plan import Plan, Quantity
from sim.schema import Spec, central
from sim.stepper import StepInputs


def whole(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round to whole troops or months, halves away from zero."""
    return np.floor(values + 0.5)


def from_uniform(q: Quantity, u: NDArray[np.float64], gate: NDArray[np.float64] | None
                 ) -> NDArray[np.float64]:
    """Values of quantity ``q`` for uniform numbers ``u`` (inverse CDF), whole."""
    if not isinstance(q, Spec):
        return np.full(u.shape, float(q))
    if q.value is not None:
        out = np.full(u.shape, float(q.value))
    elif q.uniform is not None:
        lo, hi = q.uniform
        out = lo + u * (hi - lo)
    elif q.triangular is not None:
        lo, mode, hi = (float(v) for v in q.triangular)
        if hi == lo:
            out = np.full(u.shape, lo)
        else:
            cut = (mode - lo) / (hi - lo)
            left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
            right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
            out = np.where(u < cut, left, right)
    else:
        assert q.choice is not None
        values = np.asarray(q.choice.values, np.float64)
        weights = np.asarray(q.choice.weights or [1.0] * len(values), np.float64)
        cum = np.cumsum(weights) / weights.sum()
        out = values[np.minimum(np.searchsorted(cum, u, side="right"), len(values) - 1)]
    out = whole(out)
    if q.probability is not None and gate is not None:
        out = np.where(gate < q.probability, out, 0.0)
    return out


def central_inputs(plan: Plan) -> StepInputs:
    """One draw holding every quantity's central value."""
    def value(q: Quantity) -> NDArray[np.float64]:
        return whole(np.array([central(q)]))

    return _inputs(plan, lambda path, q, n: value(q), 1)


class Draws:
    """Seeded per-quantity streams; ``take(plan, n)`` returns the next ``n`` draws."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def _stream(self, name: str) -> np.random.Generator:
        if name not in self._streams:
            ss = np.random.SeedSequence([self.seed, zlib.crc32(name.encode())])
            self._streams[name] = np.random.default_rng(ss)
        return self._streams[name]

    def uniforms(self, name: str, n: int) -> NDArray[np.float64]:
        return self._stream(name).random(n)

    def take(self, plan: Plan, n: int) -> StepInputs:
        def value(path: str, q: Quantity, n: int) -> NDArray[np.float64]:
            if not isinstance(q, Spec):
                return np.full(n, float(q))
            # both streams advance for every quantity, so chunking never shifts them
            u = self.uniforms(path, n)
            gate = self.uniforms(path + "#probability", n)
            return from_uniform(q, u, gate)

        return _inputs(plan, value, n)


def _inputs(plan: Plan, value, n: int) -> StepInputs:  # type: ignore[no-untyped-def]
    initial = np.empty((n, len(plan.tracks)))
    for k, t in enumerate(plan.tracks):
        initial[:, k] = value(t.initial_path, t.initial, n)
    targets = np.empty((n, len(plan.milestones)))
    for j, m in enumerate(plan.milestones):
        targets[:, j] = value(m.target_path, m.target, n)
    residual = np.empty((n, len(plan.residuals)))
    for r, res in enumerate(plan.residuals):
        residual[:, r] = value(res.size_path, res.size, n)
    delay = value("announcement.delay", plan.delay, n).astype(np.int64)
    return StepInputs(initial=np.maximum(initial, 0), delay=np.maximum(delay, 0),
                      targets=np.maximum(targets, 0), residual=np.maximum(residual, 0))
