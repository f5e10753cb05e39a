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
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sim.analysis.heap import return_freed_memory
from sim.analysis.windows import shared_windows
from sim.model.draws import Draws
from sim.model.plan import Plan
from sim.model.stepper import StepInputs
from sim.schema import Spec, support

DEFAULT_CHUNK = 1 << 16
#: the most bytes of drawn inputs (float64 per draw and quantity) in one chunk
INPUT_BYTES = 32 << 20
#: the fewest draws in a chunk: with more quantities than INPUT_BYTES holds for these
#: (a theater of thousands of sites), a chunk takes this many and goes over it
MIN_CHUNK = 64


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
    together, stay many; fewer when the plan has so many tracks and milestones that a
    chunk's drawn inputs would take more than :data:`INPUT_BYTES` (at least
    :data:`MIN_CHUNK`). The summaries do not depend on it."""
    q = plan.delay
    if isinstance(q, Spec) and q.choice is not None:
        delays = len(set(q.choice.values)) + (q.probability is not None)
    else:
        lo, hi = support(q)
        delays = int(hi - lo) + 1
    # a chunk's inputs at most (10,000 sites at 1,024 draws, the floor this once had,
    # took 167 MB, and as much again to put the draws in timing order)
    most = max(MIN_CHUNK, INPUT_BYTES // (8 * input_columns(plan)))
    return min(DEFAULT_CHUNK * max(1, min(4, delays)), most)


def input_columns(plan: Plan) -> int:
    """The numbers drawn per draw of ``plan`` (each 8 bytes): initial and unreported
    levels per track, target and execution delay per milestone, residual sizes, and
    the announcement delay."""
    return 2 * len(plan.tracks) + 2 * len(plan.milestones) + len(plan.residuals) + 1


def fan_chunk(plans: Sequence[Plan]) -> int:
    """Draws per chunk for plans stepped side by side (:class:`Fanout`): every plan's
    drawn inputs of a chunk are held at once, so together they take at most twice
    :data:`INPUT_BYTES` (and at most :data:`DEFAULT_CHUNK` draws, at least
    :data:`MIN_CHUNK`)."""
    columns = sum(input_columns(p) for p in plans)
    return max(MIN_CHUNK, min(DEFAULT_CHUNK, 2 * INPUT_BYTES // (8 * columns)))


def run_chunks(
    plans: Sequence[Plan],
    draws: int,
    seed: int,
    consumer: ChunkConsumer,
    *,
    chunk: int | None = None,
    bar: Any = None,
    start: int = 0,
    units: int = 1,
) -> None:
    """Feed ``draws`` draws of every plan in ``plans`` to ``consumer``, ``chunk`` at a
    time (default: :func:`chunk_size` of the first plan); ``bar`` (a tqdm bar, or
    None) advances by ``units`` per draw of each chunk. ``start`` skips the ensemble's
    first draws: the draws fed are those numbered ``start .. start + draws - 1``.

    The plans' draws are taken together (:meth:`sim.model.draws.Draws.take_all`): a
    quantity the plans share is drawn once per chunk for all of them."""
    source = Draws(seed, start)
    for take in chunks(draws, chunk or chunk_size(plans[0])):
        consumer.add_chunk(source.take_all(list(plans), take))
        if bar is not None:
            bar.update(take * units)


class Executor(Protocol):
    """Where the parts of an ensemble run when not here, one after another
    (:class:`sim.analysis.distributed.DaskExecutor`)."""

    parts: int  # how many parts to cut each ensemble into

    def map(
        self,
        func: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        sizes: Sequence[int] | None = None,
        bar: Any = None,
    ) -> list[Any]:
        """``[func(item) for item in items]``, computed elsewhere; ``bar`` advances by
        ``sizes[i]`` as item i is done."""

    def imap(
        self,
        func: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        sizes: Sequence[int] | None = None,
        bar: Any = None,
    ) -> Iterator[Any]:
        """``func(item)`` for each item in order, computed elsewhere, each result handed
        over only when the one before has been taken, so that the caller holds one at
        a time, and computed only a few items ahead of it (a Dask executor: one per
        worker thread), so that finished results do not pile up elsewhere; ``bar`` as
        for :meth:`map`."""


@dataclass(frozen=True)
class Part:
    """The draws ``start .. start + count - 1`` of ``plans``, fed to a fresh ``make()``."""

    plans: tuple[Plan, ...]
    seed: int
    start: int
    count: int
    make: Callable[[], Any]
    chunk: int | None = None


def feed(part: Part) -> Any:
    """The consumer ``part.make()`` after :func:`run_chunks` fed it ``part``'s draws.

    Where it runs (a worker), the memory its chunks freed then goes back to the system
    (:func:`sim.analysis.heap.return_freed_memory`, in processes that keep it): the
    worker holds this part's consumer until it is taken while it runs its next part,
    and up to 128 MB kept free beside both took a worker over 400 MB."""
    consumer = part.make()
    run_chunks(part.plans, part.count, part.seed, consumer, chunk=part.chunk, start=part.start)
    return_freed_memory()
    return consumer


@dataclass(frozen=True)
class Fanout:
    """A maker of one consumer for several one-plan consumers, so that plans stepped
    side by side (the variants of an ensemble) share each chunk's draws.

    ``Fanout(makers)()`` is a :class:`Fanned` whose ``consumers[i]`` is ``makers[i]()``
    and is fed the draws of ``plans[i]``."""

    makers: tuple[Callable[[], Any], ...]

    def __call__(self) -> Fanned:
        return Fanned([make() for make in self.makers])


@dataclass
class Fanned:
    """Consumers fed side by side: ``consumers[i]`` takes the draws of the i-th plan."""

    consumers: list[Any]

    def add_chunk(self, inputs: Sequence[StepInputs]) -> None:
        """Give each consumer its plan's draws of this chunk (a window one counts draw
        by draw is counted once for the others that step the same draws through it:
        :mod:`sim.analysis.windows`)."""
        with shared_windows() as memo:
            last = len(self.consumers) - 1
            for i, (consumer, one) in enumerate(zip(self.consumers, inputs, strict=True)):
                memo.keeping = i < last  # (none after the last asks)
                consumer.add_chunk([one])

    def merge(self, other: Fanned) -> None:
        """Merge each consumer with the same one of another part."""
        for mine, theirs in zip(self.consumers, other.consumers, strict=True):
            mine.merge(theirs)


def split(draws: int, parts: int, least: int) -> list[tuple[int, int]]:
    """``(start, count)`` of at most ``parts`` consecutive parts covering ``draws`` draws,
    each of at least ``least`` draws (but the last)."""
    size = max(least, -(-draws // max(1, parts)))
    return [(a, min(size, draws - a)) for a in range(0, draws, size)]


def executor_argument(executor: object) -> None:
    """Refuse an ``executor`` that is not None nor what :func:`sim.open_executor`
    returns (a string or a worker count failed deep inside with an AttributeError).

    Raises
    ------
    TypeError
        Naming what was given and where an executor comes from.
    ValueError
        For an executor whose ``with`` block has ended (its client closed).
    """
    if executor is None:
        return
    if not (
        isinstance(getattr(executor, "parts", None), int)
        and callable(getattr(executor, "imap", None))
        and callable(getattr(executor, "map", None))
    ):
        raise TypeError(
            "executor takes what sim.open_executor() returns (with sim.open_executor(workers=2) "
            f"as ex: sim.run(..., executor=ex)), or None to run here, not {type(executor).__name__}"
        )
    if getattr(getattr(executor, "client", None), "status", None) in ("closing", "closed"):
        raise ValueError(
            "executor was closed when its with block ended: use it inside the block "
            "(with sim.open_executor(workers=2) as ex: sim.run(..., executor=ex))"
        )


def consume_all(
    jobs: Sequence[tuple[Sequence[Plan], Callable[[], Any]]],
    draws: int,
    seed: int,
    *,
    chunk: int | None = None,
    bar: Any = None,
    executor: Executor | None = None,
    units: int | Sequence[int] = 1,
) -> Iterator[Any]:
    """For each job ``(plans, make)`` in turn: the consumer ``make()`` fed ``draws``
    draws of ``plans``, here (one :func:`run_chunks` per job, run as the job's turn
    comes, so one job's consumer is held at a time) or, with ``executor``, as parts
    run elsewhere (:meth:`Executor.imap`, a few ahead of the one taken) and merged
    (``consumer.merge(other)``) in draw order, each job's consumer handed out once its
    last part is merged.
    Merged counts equal those of one pass here, to the last draw. ``bar`` advances by
    ``units`` per draw of a job (or ``units[i]`` per draw of job i)."""
    each = [units] * len(jobs) if isinstance(units, int) else list(units)
    executor_argument(executor)
    if executor is None:
        for (plans, make), unit in zip(jobs, each, strict=True):
            consumer = make()
            run_chunks(plans, draws, seed, consumer, chunk=chunk, bar=bar, units=unit)
            return_freed_memory()  # (the chunks' room, not kept beside what summarises them)
            yield consumer
        return
    parts: list[Part] = []
    owner: list[int] = []
    for i, (plans, make) in enumerate(jobs):
        least = chunk or chunk_size(plans[0])
        for start, count in split(draws, executor.parts, least):
            parts.append(Part(tuple(plans), seed, start, count, make, chunk))
            owner.append(i)
    sizes = [p.count * each[i] for p, i in zip(parts, owner, strict=True)]
    # each part taken as it comes, in draw order, and let go once merged: all at once, a
    # pass over a large force held every part's counts here before merging them
    # (sim.analysis.wide: four parts of some 40 MB); and each job's consumer handed out
    # once its last part is merged, and let go there (an observer lets its own tagged
    # counts go), not held until every job is done (100 variants of 24 MB of counts
    # each: 4.4 GB)
    left = Counter(owner)
    merged: Any = None
    # (not zip(owner, ...) nor enumerate: they keep the pair they gave last, and so the
    # part, until they give the next)
    k = 0
    for consumer in executor.imap(feed, parts, sizes=sizes, bar=bar):
        i, k = owner[k], k + 1
        if merged is None:
            merged = consumer
        else:
            merged.merge(consumer)
        consumer = None
        return_freed_memory()  # (a part's room, freed, not kept beside the next one's)
        left[i] -= 1
        if not left[i]:  # (the parts come in draw order, job by job)
            done, merged = merged, None
            yield done
            done = None


def _in_kernel() -> bool:
    """Whether this process is a running Jupyter kernel (IPython's shell with a kernel),
    not merely one that imported ipykernel."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def progress_bar(total: int, enabled: bool | None, label: str) -> Any:
    """A tqdm bar over ``total`` draws: shown when ``enabled`` in a terminal or a
    notebook, and when ``enabled`` is None only in a notebook; else None."""
    if enabled is False:
        return None
    in_notebook = _in_kernel()
    if enabled is None and not in_notebook:
        return None
    if not in_notebook and not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=label, unit="draw", unit_scale=True, leave=False)
