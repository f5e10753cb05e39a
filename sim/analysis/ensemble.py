"""Monte Carlo ensembles: every variant's draws, stepped in chunks and counted exactly.

:func:`run_ensemble` runs the draws of each variant through the one chunk loop
(:mod:`sim.analysis.chunks`): variants whose counts are small side by side, sharing
each chunk's draws, into level-by-level counts (:mod:`sim.analysis.accumulator`);
forces too large for that in bins refined in a second pass (:mod:`sim.analysis.wide`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.analysis.accumulator import Accumulator
from sim.analysis.chunks import (
    DEFAULT_CHUNK,
    Executor,
    Fanout,
    consume_all,
    fan_chunk,
    progress_bar,
)
from sim.analysis.summaries import (
    MAX_DRAWS,
    SHARE_PLACES,
    BandColumns,
    bands_of,
    counts_bytes,
    dates_of,
    level_bound,
    rounded_all,
    series,
    thresholds,
)
from sim.analysis.wide import is_wide, require_dense, run_wide
from sim.errors import ScenarioError
from sim.model.plan import Plan
from sim.results import Result
from sim.scenario import Scenario

#: the most bytes of counts held at once for variants stepped side by side (as much as
#: one variant counted level by level may hold, :data:`sim.analysis.wide.DENSE_BYTES`)
FAN_BYTES = 128 << 20
#: the tags a variant's tagged counts are taken to hold, at most, when deciding that
MAX_SLOTS = 16


def _draws_in_range(n: int, file: str, path: str) -> int:
    if not 1 <= n <= MAX_DRAWS:
        raise ScenarioError(
            f"a number of draws from 1 to {MAX_DRAWS:,}", f"{n:,}", file=file, path=path
        )
    return int(n)


def _seed_in_range(s: int, file: str, path: str) -> int:
    if not 0 <= s < 2**63:
        raise ScenarioError("a seed from 0 to 2**63 - 1", str(s), file=file, path=path)
    return int(s)


def check_args(draws: int | None, seed: int | None, chunk: int | None = None) -> tuple[int, int]:
    """``draws`` and ``seed`` given to the Python API, checked, and ``chunk`` (draws per
    chunk: None for the default, else a whole number from 1 to :data:`MAX_DRAWS`)."""
    if chunk is not None and (
        isinstance(chunk, bool)
        or not isinstance(chunk, int | np.integer)
        or not 1 <= chunk <= MAX_DRAWS
    ):
        raise ScenarioError(
            f"a whole number of draws per chunk from 1 to {MAX_DRAWS:,}, or None for the default",
            repr(chunk),
            file="<arguments>",
            path="chunk",
        )
    if draws is None or isinstance(draws, bool) or not isinstance(draws, int | np.integer):
        raise ScenarioError(
            "a whole number of draws", repr(draws), file="<arguments>", path="draws"
        )
    if seed is None or isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ScenarioError(
            "a whole-number seed with draws", repr(seed), file="<arguments>", path="seed"
        )
    return _draws_in_range(draws, "<arguments>", "draws"), _seed_in_range(
        seed, "<arguments>", "seed"
    )


@dataclass(frozen=True)
class LevelCounts:
    """Settled counts of one variant's draws: ``hist[series, month * (bound + 1) + level]``."""

    names: list[str]
    bound: int
    hist: NDArray[np.int64]


def run_ensemble(
    result: Result,
    *,
    draws: int,
    seed: int | None,
    chunk: int | None = None,
    progress: bool | None = None,
    keep_counts: bool = False,
    executor: Executor | None = None,
    makers: dict[str, Callable[[], Any]] | None = None,
    slots: Mapping[str, int] | None = None,
    done: Callable[[str, Any], None] | None = None,
) -> Result:
    """A copy of a deterministic :class:`Result` with the ensemble's ``bands``,
    ``dates`` and ``p_met``.

    With ``keep_counts``, each variant's per-month level counts stay on
    ``counts`` (a :class:`LevelCounts` per variant), so that observations can be
    ranked without stepping the draws again. With ``executor``
    (:func:`sim.analysis.distributed.open_executor`), the draws run as parts
    elsewhere and their counts are merged: the same summaries, to the last draw.

    ``makers[variant]``, when given, makes the chunk consumer of a variant in place
    of its empty accumulator (picklable, for an executor); the consumer's
    ``total()`` is then the accumulator of every draw, and ``done(variant,
    consumer)`` receives it after the pass (observations are scored and the
    ensemble conditioned in the same pass, :mod:`sim.analysis.observed`). ``slots[variant]``
    is then the most tags its consumer may count draws under (each multiplies its
    counts), so that variants whose tagged counts could be large are not held at once."""
    draws, seed = check_args(draws, seed, chunk)
    # per variant: its bands (columns), dates (rows) and p_met
    summaries: dict[str, Summaries] = {}
    counts: dict[str, LevelCounts] = {}
    for name, summary, kept in variant_summaries(
        result.scenario,
        result.plans,
        result.milestones,
        result.variants,
        draws=draws,
        seed=seed,
        chunk=chunk,
        progress=progress,
        keep_counts=keep_counts,
        executor=executor,
        makers=makers,
        slots=slots,
        done=done,
    ):
        summaries[name] = summary
        if kept is not None:
            counts[name] = kept
    # (every variant's rows make one frame: one costs about as much as each variant's
    # small frame)
    bands = bands_of([summaries[name][0] for name in result.variants])
    dates = dates_of([summaries[name][1] for name in result.variants])
    p_met = [p for name in result.variants for p in summaries[name][2]]
    milestones = (
        result.milestones.assign(p_met=p_met)
        if p_met
        else result.milestones.assign(p_met=pd.Series(dtype=float))
    )
    return replace(
        result,
        bands=bands,
        dates=dates,
        milestones=milestones,
        draws=draws,
        seed=seed,
        counts=counts,
    )


#: one variant's summaries: its bands (columns), its dates (rows) and its p_met (one
#: share per milestone)
Summaries = tuple[BandColumns, list[dict[str, Any]], Any]


def variant_summaries(
    scenario: Scenario,
    plans: dict[str, Plan],
    milestones: pd.DataFrame,
    names: list[str],
    *,
    draws: int,
    seed: int,
    chunk: int | None = None,
    progress: bool | None = None,
    keep_counts: bool = False,
    executor: Executor | None = None,
    makers: dict[str, Callable[[], Any]] | None = None,
    slots: Mapping[str, int] | None = None,
    done: Callable[[str, Any], None] | None = None,
) -> Iterator[tuple[str, Summaries, LevelCounts | None]]:
    """Each variant of ``names`` in turn, once its draws are counted: its name, its
    summaries and (with ``keep_counts``) its level counts; the options as
    :func:`run_ensemble` takes them (``draws`` and ``seed`` checked already).

    Variants are counted in the order of ``names``: each run of consecutive variants
    counted level by level in batches side by side (:func:`_consumers`), a force too
    large for that alone in bins (:func:`sim.analysis.wide.run_wide`), and its consumer
    from ``makers`` (a :class:`~sim.analysis.conditioning.LevelTally` of what its
    observations compare) in a pass of its own over the same draws; so a caller that
    writes each variant's rows as they come holds one variant's summaries at a time.
    The summaries do not depend on that grouping: each variant's draws are those of
    the seed, whatever runs beside it."""
    wide = {name for name in names if is_wide(plans[name])}
    if keep_counts:
        for name in names:
            if name in wide:
                require_dense(plans[name], name, scenario, "keep_counts (every level's counts)")
    # (a force counted in bins whose reports are scored takes a pass of its own for them)
    passes = len(names) + (len(wide) if makers is not None else 0)
    # (the bar counts each variant's draws: say so, or 60.0k of 20,000 draws puzzles)
    times = f"{passes} variants" if passes == len(names) else f"{passes} passes"
    label = scenario.id if passes == 1 else f"{scenario.id}, {draws:,} draws × {times}"
    bar = progress_bar(draws * passes, progress, label)
    # consecutive variants counted level by level together, a wide one alone
    runs: list[list[str]] = []
    for name in names:
        if runs and name not in wide and runs[-1][0] not in wide:
            runs[-1].append(name)
        else:
            runs.append([name])
    try:
        for run in runs:
            if run[0] in wide:  # a force too large to count level by level
                name = run[0]
                marks = thresholds(plans[name], milestones[milestones.variant == name])
                summary = run_wide(
                    plans[name],
                    marks,
                    draws=draws,
                    seed=seed,
                    scenario=scenario.id,
                    variant=name,
                    chunk=chunk,
                    bar=bar,
                    executor=executor,
                )
                if makers is not None:  # its own pass over the same draws, for its checks
                    (consumer,) = consume_all(
                        [([plans[name]], makers[name])],
                        draws,
                        seed,
                        chunk=chunk,
                        bar=bar,
                        executor=executor,
                    )
                    if done is not None:
                        done(name, consumer)
                    consumer = None
                yield name, summary, None
                continue
            make = {
                name: makers[name]
                if makers is not None
                else partial(accumulator, plans[name], milestones[milestones.variant == name])
                for name in run
            }
            accs = _consumers(plans, run, make, slots or {}, draws, seed, chunk, bar, executor)
            for name, consumer in zip(run, accs, strict=True):
                if done is not None:  # (first: it lets the tagged counts go)
                    done(name, consumer)
                acc = consumer.total() if makers is not None else consumer
                summary = (
                    acc.band_columns(scenario.id, name),
                    acc.date_rows(scenario.id, name),
                    rounded_all(acc.met, acc.n, SHARE_PLACES),
                )
                kept = LevelCounts(acc.names, acc.bound, acc.hist) if keep_counts else None
                consumer = acc = None  # (its counts go before the next variant's are made)
                yield name, summary, kept
    finally:
        if bar is not None:
            bar.close()


def _consumers(
    plans_of: dict[str, Plan],
    names: list[str],
    make: dict[str, Callable[[], Any]],
    slots: Mapping[str, int],
    draws: int,
    seed: int,
    chunk: int | None,
    bar: Any,
    executor: Executor | None,
) -> Iterator[Any]:
    """The consumer of each variant of ``names`` after its draws, in order: in batches
    side by side, sharing each chunk's draws, when there are several chunks to share
    (for one chunk, fresh counts of every variant at once cost more than the draws they
    share), each batch's counts small together (:func:`fan_batches`); else one variant
    at a time, so that one variant's counts are held at a time. Side by side, a chunk
    holds every variant's drawn inputs, so it takes fewer draws
    (:func:`~sim.analysis.chunks.fan_chunk`)."""
    plans = [plans_of[name] for name in names]
    shared = fan_chunk(plans) if len(plans) > 1 else 0
    # (side by side pays only with chunks of many draws: each chunk costs every variant
    # a pass over its timing groups and tracks)
    if shared < DEFAULT_CHUNK // 4 or draws <= DEFAULT_CHUNK:
        batches = [[name] for name in names]
    else:
        batches = fan_batches(
            names,
            {v: counts_bytes(plans_of[v]) * min(slots.get(v, 1), MAX_SLOTS) for v in names},
        )
    widest = max(batches, key=len, default=[])
    if chunk is None and len(widest) > 1:  # (one variant at a time: each its own chunk)
        chunk = fan_chunk([plans_of[v] for v in widest])
    jobs = [
        (
            [plans_of[name] for name in batch],
            Fanout(tuple(make[name] for name in batch)) if len(batch) > 1 else make[batch[0]],
        )
        for batch in batches
    ]
    done = consume_all(
        jobs,
        draws,
        seed,
        chunk=chunk,
        bar=bar,
        executor=executor,
        units=[len(batch) for batch in batches],
    )
    return (
        one
        for batch, consumer in zip(batches, done, strict=True)
        for one in (consumer.consumers if len(batch) > 1 else [consumer])
    )


def fan_batches(names: list[str], held: dict[str, int]) -> list[list[str]]:
    """The variants ``names`` in consecutive batches stepped side by side, each holding
    at most :data:`FAN_BYTES` of counts together (``held[name]`` each; a variant over
    it alone makes a batch of one)."""
    batches: list[list[str]] = []
    total = 0
    for name in names:
        if batches and total + held[name] <= FAN_BYTES:
            batches[-1].append(name)
            total += held[name]
        else:
            batches.append([name])
            total = held[name]
    return batches


def accumulator(plan: Plan, milestones: pd.DataFrame, *, dates: bool = True) -> Accumulator:
    """An empty :class:`Accumulator` for every series of ``plan``, with the threshold
    dates of ``milestones`` (one variant's rows) unless ``dates`` is False."""
    sel = series(plan)
    return Accumulator(
        plan,
        level_bound(plan),
        [s for s, _ in sel],
        [m for _, m in sel],
        thresholds(plan, milestones) if dates else [],
    )
