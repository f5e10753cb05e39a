"""The one chunked loop over an ensemble's draws, and what it feeds.

Every ensemble-style pass (the ensemble's summaries, conditioning on
observations, paired comparisons) goes through :func:`run_chunks`: the draws
are taken ``chunk`` at a time from seeded per-quantity streams
(:class:`sim.model.draws.Draws`, one per plan, so plans that share a quantity
see the same numbers for it) and handed to a :class:`ChunkConsumer`. Streams
advance by exactly the draws taken, so no summary depends on the chunk size,
and memory holds one chunk at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from sim.model.draws import Draws
from sim.model.plan import Plan
from sim.model.stepper import StepInputs
from sim.schema import Spec, support

DEFAULT_CHUNK = 1 << 16


class ChunkConsumer(Protocol):
    """What :func:`run_chunks` feeds: anything that takes a chunk of draws."""

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        """Take one chunk: ``inputs[i]`` holds the same draws for ``plans[i]``."""


def chunks(n: int, size: int) -> Iterator[int]:
    """The sizes of the chunks that cover ``n`` draws, ``size`` at a time."""
    done = 0
    while done < n:
        take = min(size, n - done)
        yield take
        done += take


def chunk_size(plan: Plan) -> int:
    """Draws per chunk unless told: :data:`DEFAULT_CHUNK` for each announcement delay
    the draws may take (at most 4), so that the draws of each delay, stepped
    together, stay many. The summaries do not depend on it."""
    q = plan.delay
    if isinstance(q, Spec) and q.choice is not None:
        delays = len(set(q.choice.values)) + (q.probability is not None)
    else:
        lo, hi = support(q)
        delays = int(hi - lo) + 1
    return DEFAULT_CHUNK * max(1, min(4, delays))


def run_chunks(
    plans: Sequence[Plan],
    draws: int,
    seed: int,
    consumer: ChunkConsumer,
    *,
    chunk: int | None = None,
    bar: Any = None,
) -> None:
    """Feed ``draws`` draws of every plan in ``plans`` to ``consumer``, ``chunk`` at a
    time (default: :func:`chunk_size` of the first plan); ``bar`` (a tqdm bar, or
    None) advances by each chunk."""
    sources = [Draws(seed) for _ in plans]
    for take in chunks(draws, chunk or chunk_size(plans[0])):
        consumer.add_chunk([s.take(p, take) for s, p in zip(sources, plans, strict=True)])
        if bar is not None:
            bar.update(take)


def progress_bar(total: int, enabled: bool | None, label: str) -> Any:
    """A tqdm bar over ``total`` draws: shown when ``enabled`` in a terminal or a
    notebook, and when ``enabled`` is None only in a notebook; else None."""
    if enabled is False:
        return None
    in_notebook = "ipykernel" in sys.modules
    if enabled is None and not in_notebook:
        return None
    if not in_notebook and not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="draw", unit_scale=True, leave=False)
