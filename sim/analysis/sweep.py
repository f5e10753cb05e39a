"""Parameter sweeps: a grid of values of chosen inputs, each point an ensemble.

Every point of the grid (every combination of the swept values, the first key
varying slowest) is the scenario with those values set on top of every variant
(:meth:`sim.Scenario.with_settings`), run as an ensemble of ``draws`` draws
with the *same* seed. Random numbers are drawn per quantity from streams keyed
by the seed and the quantity's key path (:mod:`sim.model.draws`), so every point
sees the same random numbers: neighbouring points differ only by the swept
values (common random numbers), and a point equals the same settings run alone.
Without draws each point is the deterministic central run.

Each point gives the outcomes of :mod:`sim.analysis.outcomes` for each variant:
one row per point, variant and outcome.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.accumulator import Accumulator
from sim.analysis.chunks import Executor, executor_argument, progress_bar, run_chunks
from sim.analysis.ensemble import check_args
from sim.analysis.outcomes import central_values, measure, outcomes
from sim.analysis.summaries import MAX_DRAWS, level_bound, series, thresholds
from sim.analysis.wide import require_dense
from sim.errors import ScenarioError
from sim.io.observations import formula_problem
from sim.model.draws import central_inputs
from sim.model.plan import Plan
from sim.model.stepper import step
from sim.months import format_month
from sim.results import milestone_columns
from sim.scenario import Scenario, from_code, scenario_argument

MAX_POINTS = 100_000
VALUE_COLUMNS = ["variant", "outcome", "value", "month"]


@dataclass(frozen=True)
class PointJob:
    """What one point needs to run anywhere: each variant's plan and threshold marks;
    without draws, each variant's outcome values of the central run, read off when its
    marks were (the run is stepped once, not again for its values)."""

    index: int
    plans: tuple[tuple[str, Plan, tuple[tuple[str, str, int], ...]], ...]
    draws: int | None
    seed: int | None
    chunk: int | None = None
    central: tuple[list[Any], ...] | None = None


def run_point(job: PointJob) -> list[tuple[str, list[Any]]]:
    """``(variant, outcome values)`` for each variant of one point (a task)."""
    out = []
    for i, (name, plan, marks) in enumerate(job.plans):
        if job.draws is None:  # one run, its values read off when the job was made
            assert job.central is not None
            out.append((name, job.central[i]))
            continue
        sel = series(plan)
        acc = Accumulator(
            plan, level_bound(plan), [s for s, _ in sel], [m for _, m in sel], list(marks)
        )
        assert job.seed is not None
        run_chunks([plan], job.draws, job.seed, acc, chunk=job.chunk)
        out.append((name, measure(acc, outcomes(plan, list(marks)))))
    return out


def run_points(jobs: list[PointJob]) -> list[list[tuple[str, list[Any]]]]:
    """:func:`run_point` of each job, in order (a batch of points as one task)."""
    return [run_point(job) for job in jobs]


def _same_value(value: Any) -> str:
    """A text equal for values that are the same setting: a number whole as a float
    (``300.0``) written as the whole number (``300``), mappings in key order."""
    if isinstance(value, float) and value.is_integer():
        return repr(int(value))
    if isinstance(value, dict):
        inner = ", ".join(f"{k!r}: {_same_value(v)}" for k, v in sorted(value.items(), key=str))
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_same_value(v) for v in value) + "]"
    return repr(value)


@dataclass
class Sweep:
    """What :func:`sweep` returns.

    Attributes
    ----------
    scenario : Scenario
    keys : list of str
        The swept key paths, in grid order (the first varies slowest).
    values : list of list
        Each key's values, as set.
    labels : list of list of str
        Each value as written (``300``, ``{uniform: [0, 6]}``).
    variants : list of str
    draws, seed : int or None
        None: each point is the deterministic central run.
    table : pandas.DataFrame
        ``scenario``, a column per swept key, ``variant, outcome, value, month``:
        one row per point, variant and outcome (:mod:`sim.analysis.outcomes`).
        ``value`` is the share (p_met) or mean level [troops], empty for a median
        month; ``month`` is the median month ``YYYY-MM`` of a date outcome, empty
        otherwise (and when half the draws never get there within the horizon).
        A key column holds numbers when every value is a number, else the values
        as written.
    """

    scenario: Scenario
    keys: list[str]
    values: list[list[Any]]
    labels: list[list[str]]
    variants: list[str]
    draws: int | None
    seed: int | None
    table: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def swept(self) -> list[str]:
        """The keys that take more than one value (the grid's real dimensions)."""
        return [k for k, v in zip(self.keys, self.values, strict=True) if len(v) > 1]

    def __repr__(self) -> str:
        kind = f"{self.draws:,} draws, seed {self.seed}" if self.draws else "deterministic"
        shape = " x ".join(str(len(v)) for v in self.values)
        return f"<Sweep {self.scenario.id}: {shape} points of {', '.join(self.keys)}; {kind}>"


def sweep(
    scenario: Scenario | str | os.PathLike[str],
    axes: Sequence[tuple[str, Sequence[Any]]] | Mapping[str, Sequence[Any]],
    variants: Sequence[str] | None = None,
    draws: int | None = None,
    seed: int | None = None,
    *,
    labels: Sequence[Sequence[str]] | None = None,
    written: Sequence[Sequence[Mapping[tuple[str | int, ...], str]]] | None = None,
    chunk: int | None = None,
    progress: bool | None = None,
    executor: Executor | None = None,
    origin: str = "<overrides>",
) -> Sweep:
    """Run a grid of values of ``axes`` over ``variants``, each point an ensemble.

    Parameters
    ----------
    scenario : Scenario, or the path of a scenario file
    axes : sequence of (key, values), or mapping of key to values
        Dotted key paths and the values each takes (a key with one value is
        held there), each key once. Values are as a scenario file writes them.
    variants : sequence of str, optional
        Default: every variant.
    draws, seed : int, optional
        Draws per point and their seed (the same for every point); without them
        each point is the deterministic central run.
    labels : sequence of sequence of str, optional
        Each value as written, for the table (default: ``str(value)``).
    written : sequence of sequence of mapping, optional
        Each value's scalars as the user wrote them, for errors to quote
        (:meth:`sim.Scenario.with_settings`); default: none.
    chunk, progress
        As for :func:`sim.run`.
    executor : optional
        Run the points as tasks on a Dask cluster
        (:func:`sim.analysis.distributed.open_executor`); the same table.
    origin : str
        The file name errors give for a swept value (``<command line>``).

    Returns
    -------
    Sweep

    Raises
    ------
    sim.ScenarioError
        For a bad key or value at any point (every point is checked before any is
        run), a key or value given twice (``300`` and ``300.0``), labels that do not
        match the values, a bad ``chunk``, more than 100,000 points, or more than
        100,000,000 draws a variant (points x ``draws``, as many as one ensemble may
        have: :data:`sim.analysis.summaries.MAX_DRAWS`).
    TypeError
        For an ``executor`` that is not one :func:`sim.open_executor` returns.
    """
    scenario = scenario_argument(scenario, "sweep")
    executor_argument(executor)
    names = scenario.select(variants)  # (first: sweep(s, axes, 100, 1) is variants=100)
    if draws is not None or seed is not None or chunk is not None:
        draws, seed = check_args(draws, seed, chunk)
    if not isinstance(axes, Mapping | Sequence) or isinstance(axes, str):
        raise TypeError(
            "sweep() takes axes as (key, values) pairs or a mapping of key to values, "
            f"not {type(axes).__name__}"
        )
    pairs = list(axes.items()) if isinstance(axes, Mapping) else list(axes)
    for pair in pairs:
        if (
            not isinstance(pair, tuple | list)
            or len(pair) != 2
            or isinstance(pair[1], str | bytes | Mapping)
            or not isinstance(pair[1], Iterable)  # ("announcement.delay", 3): not a list
        ):
            raise ScenarioError(
                "axes as (key, list of values) pairs or a mapping of key to list of values",
                repr(pair),
                file=origin,
                path="(sweep)",
            )
    for key, vals in pairs:
        if isinstance(vals, set | frozenset):  # (the points' order, sweep.csv's rows, by hash)
            raise ScenarioError(
                "a list of values (a set has no order: a list says which comes first)",
                "a set",
                file=origin,
                path=str(key),
            )
    keys = [str(k) for k, _ in pairs]
    values = [from_code(list(v), (str(k),), origin) for k, v in pairs]  # numpy numbers as Python's
    labels, written = (
        _per_key(name, given) for name, given in (("labels", labels), ("written", written))
    )
    texts = (
        [list(t) for t in labels] if labels is not None else [[str(x) for x in v] for v in values]
    )
    if not keys or any(not v for v in values):
        raise ScenarioError(
            "at least one key with at least one value", "none", file=origin, path="(sweep)"
        )
    twice = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
    if twice is not None:
        raise ScenarioError("each key swept once", f"{twice!r} twice", file=origin, path=twice)
    shown = [list(w) for w in written] if written is not None else [[{}] * len(v) for v in values]
    for name, given in (("labels", texts), ("written", shown)):
        if [len(t) for t in given] != [len(v) for v in values]:
            raise ScenarioError(
                f"{'a label' if name == 'labels' else 'a mapping of texts'} for each value "
                "of each key",
                f"{[len(t) for t in given]} {name} for {[len(v) for v in values]} values",
                file="<arguments>",
                path=name,
            )
    for key, vals, text in zip(keys, values, texts, strict=True):
        seen: dict[str, str] = {}
        as_text = _key_column(vals, text)[0] is object  # (its column holds the labels)
        for value, label in zip(vals, text, strict=True):
            # (the table writes a key's labels as given, where any value is no number; a
            # label of a number, -3, is read by a spreadsheet as that number)
            plain = isinstance(value, int | float) and _NUMBER_TEXT.fullmatch(label.strip())
            formula = formula_problem(label, "sweep.csv") if as_text and not plain else None
            if formula is not None:
                raise ScenarioError(*formula, file=origin, path=key)
            same = _same_value(value)
            if same in seen:  # 300 and 300.0: the same point run twice, every row twice
                raise ScenarioError(
                    "each value once",
                    f"{seen[same]!r} and {label!r}, the same value",
                    file=origin,
                    path=key,
                )
            seen[same] = label
    count = int(np.prod([len(v) for v in values]))
    if count > MAX_POINTS:
        raise ScenarioError(
            f"a grid of at most {MAX_POINTS:,} points", f"{count:,}", file=origin, path="(sweep)"
        )
    if draws is not None and count * draws > MAX_DRAWS:
        # (601 points of 10**8 draws would run for days): as many draws as one ensemble
        raise ScenarioError(
            f"a grid whose points x draws are at most {MAX_DRAWS:,} draws a variant, "
            "as one ensemble's (fewer points or fewer draws)",
            f"{count:,} points x {draws:,} draws ({count * draws:,})",
            file=origin,
            path="(sweep)",
        )
    jobs = []
    for i, (point, point_texts, point_labels) in enumerate(
        zip(
            itertools.product(*values),
            itertools.product(*shown),
            itertools.product(*texts),
            strict=True,
        )
    ):
        try:
            sc = scenario.with_settings(
                list(zip(keys, point, strict=True)),
                variants=names,
                origin=origin,
                written=list(point_texts),
            )
        except ScenarioError as exc:  # (the values of this point, not the file, broke it)
            where = ", ".join(f"{k}={t}" for k, t in zip(keys, point_labels, strict=True))
            raise exc.with_found(f"{exc.found}, at the sweep's point {where}") from None
        plans = []
        central: list[list[Any]] = []
        for name in names:
            plan = sc.plan(name)
            if draws is not None:  # (the central run counts no levels)
                require_dense(plan, name, sc, "a sweep")  # (sc: its point's values named)
            # (the central run's milestone columns, not a frame of them: a frame per
            # variant and point cost about a millisecond, a tenth of a point's work)
            run = step(plan, central_inputs(plan))
            marks = thresholds(plan, milestone_columns(sc.id, name, plan, run))
            plans.append((name, plan, tuple(marks)))
            if draws is None:  # (its values read off the same run: not stepped again)
                central.append(central_values(plan, outcomes(plan, marks), marks, run))
        read = tuple(central) if draws is None else None
        jobs.append(PointJob(i, tuple(plans), draws, seed, chunk, read))
    per_point = (draws or 1) * len(names)
    bar = progress_bar(count * per_point, progress, f"{scenario.id} sweep")
    try:
        if executor is None:
            results = []
            for job in jobs:
                results.append(run_point(job))
                if bar is not None:
                    bar.update(per_point)
        else:
            batches = [
                jobs[a : a + _batch(count, executor.parts)]
                for a in range(0, count, _batch(count, executor.parts))
            ]
            done = executor.map(
                run_points, batches, sizes=[len(b) * per_point for b in batches], bar=bar
            )
            results = [r for batch in done for r in batch]
    finally:
        if bar is not None:
            bar.close()
    table = _table(scenario, keys, values, texts, jobs, results)
    return Sweep(scenario, keys, values, texts, names, draws, seed, table)


def _batch(points: int, parts: int) -> int:
    """Points per task: enough tasks to keep every worker busy (four per part)."""
    return max(1, -(-points // (4 * parts)))


#: a label that is a plain number as written (``-3``, ``+0.5``)
_NUMBER_TEXT = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")


def _key_column(values: list[Any], texts: list[str]) -> tuple[Any, list[Any]]:
    """A key's column: numbers when every value is one, else the values as written."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        kind = "int64" if all(isinstance(v, int) for v in values) else "float64"
        return kind, list(values)
    return object, list(texts)


def _table(
    scenario: Scenario,
    keys: list[str],
    values: list[list[Any]],
    texts: list[list[str]],
    jobs: list[PointJob],
    results: list[list[tuple[str, list[Any]]]],
) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {"scenario": [], **{k: [] for k in keys}}
    columns.update({c: [] for c in VALUE_COLUMNS})
    kinds = [_key_column(v, t) for v, t in zip(values, texts, strict=True)]
    points = list(itertools.product(*[range(len(v)) for v in values]))
    for job, point, result in zip(jobs, points, results, strict=True):
        for (_name, plan, marks), (variant, measured) in zip(job.plans, result, strict=True):
            outs = outcomes(plan, list(marks))
            for o, v in zip(outs, measured, strict=True):
                columns["scenario"].append(scenario.id)
                for k, (_, shown), i in zip(keys, kinds, point, strict=True):
                    columns[k].append(shown[i])
                columns["variant"].append(variant)
                columns["outcome"].append(o.name)
                if o.kind == "date":
                    columns["value"].append(np.nan)
                    columns["month"].append(format_month(plan.start + v) if v is not None else None)
                else:
                    columns["value"].append(np.nan if v is None else v)
                    columns["month"].append(None)
    frame = pd.DataFrame(columns)
    for k, (kind, _) in zip(keys, kinds, strict=True):
        frame[k] = frame[k].astype(kind)
    frame["value"] = frame["value"].astype("float64")
    frame["month"] = frame["month"].astype(object)
    return frame


def _per_key(name: str, given: Any) -> list[Any] | None:
    """``given`` (``labels`` or ``written`` of :func:`sweep`: one list per key) as a list,
    or a TypeError naming it; None as it is."""
    if given is None:
        return None
    rows = (
        list(given)
        if isinstance(given, Iterable) and not isinstance(given, str | bytes | Mapping)
        else None
    )
    if rows is None or any(isinstance(r, str | bytes) or not isinstance(r, Iterable) for r in rows):
        raise TypeError(
            f"sweep takes {name} as one list per key (one entry per value), "
            f"not {type(given).__name__}"
        )
    return rows
