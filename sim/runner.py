"""The thin orchestrating layer: scenario → plans → stepper → Result."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.ensemble import run_ensemble
from sim.errors import ScenarioError
from sim.model.draws import central_inputs
from sim.model.stepper import step
from sim.results import Result, milestone_frame, monthly_frame
from sim.scenario import Scenario, load_scenario


def run(
    scenario: Scenario | str | Path,
    variants: Sequence[str] | None = None,
    draws: int | None = None,
    seed: int | None = None,
    **options: Any,
) -> Result:
    """Project every month of every selected variant.

    Parameters
    ----------
    scenario : Scenario or path
        A loaded scenario, or a path to load.
    variants : sequence of str or str, optional
        Variant names (or one name); all of the scenario's variants when omitted.
    draws : int, optional
        Number of Monte Carlo draws for an ensemble; deterministic when omitted.
    seed : int, optional
        Seed of the ensemble's random generator (required with ``draws``).
    **options
        Ensemble options: ``chunk`` (draws per chunk), ``progress`` (bool),
        ``keep_counts`` (keep each month's level counts on ``result.counts``),
        ``executor`` (run the draws on a Dask cluster:
        :func:`sim.analysis.distributed.open_executor`; the same result).

    Returns
    -------
    Result
        ``.monthly`` and ``.milestones`` DataFrames (and ``.bands``, ``.dates``
        with draws); draw it with :func:`sim.plot`.
    """
    unknown = sorted(set(options) - {"chunk", "progress", "keep_counts", "executor"})
    if unknown:
        raise TypeError(
            "run() takes the options chunk, progress, keep_counts and executor, not "
            + ", ".join(unknown)
        )
    if seed is not None and draws is None:
        raise ScenarioError(
            "draws= together with seed= (a seed alone runs nothing random)",
            f"seed={seed!r} without draws",
            file="<arguments>",
            path="seed",
        )
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if isinstance(variants, str):
        variants = [variants]  # run(s, "slip-6"): that variant, not its letters
    names = sc.select(list(variants) if variants else None)
    plans = {name: sc.plan(name) for name in names}
    central = {name: step(plans[name], central_inputs(plans[name])) for name in names}
    result = Result(
        scenario=sc,
        variants=names,
        monthly=pd.concat(
            [monthly_frame(sc.id, n, plans[n], central[n]) for n in names], ignore_index=True
        ),
        milestones=pd.concat(
            [milestone_frame(sc.id, n, plans[n], central[n]) for n in names], ignore_index=True
        ),
        plans=plans,
        central=central,
    )
    if draws is not None:
        return run_ensemble(result, draws=draws, seed=seed, **options)
    return result
