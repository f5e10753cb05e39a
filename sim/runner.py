"""The thin orchestrating layer: scenario → plans → stepper → Result."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sim.analysis.chunks import executor_argument
from sim.analysis.ensemble import check_args, run_ensemble
from sim.analysis.observed import (
    check_observed,
    observe_ensemble,
    refuse_run_options,
    score_observations,
    with_observations,
)
from sim.errors import flag_argument
from sim.model.draws import central_inputs
from sim.model.stepper import step
from sim.results import (
    Result,
    milestone_columns,
    milestones_of,
    monthly_columns,
    monthly_of,
)
from sim.scenario import Scenario, scenario_argument


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
        Variant names (or one name); all of the scenario's variants when omitted
        or empty (as :meth:`sim.Scenario.select`).
    draws : int, optional
        Number of Monte Carlo draws for an ensemble, 1 to 100,000,000;
        deterministic (every input at its central value) when omitted.
    seed : int, optional
        Seed of the ensemble's random generator, 0 to 2**63 − 1 (required with
        ``draws``, refused without it).
    **options
        Ensemble options: ``chunk`` (draws per chunk), ``progress`` (bool),
        ``keep_counts`` (keep each month's level counts on ``result.counts``),
        ``executor`` (run the draws on a Dask cluster:
        :func:`sim.analysis.distributed.open_executor`; the same result).
        Observation options: ``observed`` (an ObservationSet, from
        :func:`sim.load_observations`, or the path of its CSV file), and with it
        ``tolerance``, ``as_of``, ``condition`` and ``error`` as for
        :func:`sim.score_observations`; the observations are scored (and, with
        ``condition``, the ensemble conditioned on them) in the ensemble's own pass
        over the draws, and attached to the result (``result.observed``).

    Returns
    -------
    Result
        ``.monthly`` (one row per variant, theater or site, and month; levels in
        whole troops at the end of each month) and ``.milestones`` (one row per
        variant and milestone) DataFrames, and with draws ``.bands`` (percentiles
        of the level [troops]) and ``.dates`` (threshold months and shares 0–1);
        the columns are listed on :class:`~sim.results.Result`. Draw it with
        :func:`sim.plot`.

    Every table of every variant is held as a frame: a row of ``monthly`` (and of
    ``bands``) per variant, series (theater or site) and month. At the format's
    largest products that is 600,000 rows of each for 100 variants x 50 theaters x
    120 months, and 3,000,000 at 600 months: ``sim.write_run(sim.run(...))`` of those
    peaked at 549 MB and 1,581 MB with 300 draws (708 MB at 600 months without draws).
    ``forcesim run`` writes such runs as they are made instead, a variant's rows at a
    time, observations scored and conditioned on in each variant's pass
    (:func:`sim.export.stream.stream_run`).

    Raises
    ------
    sim.ScenarioError
        A scenario path that does not load (:func:`sim.load_scenario`); an unknown
        variant (at the scenario's ``variants`` key, with a did-you-mean); at
        ``<arguments>``: ``draws`` outside 1 to 100,000,000 or not whole, ``draws``
        without ``seed`` or ``seed`` without ``draws``, a seed outside 0 to
        2**63 − 1, a bad ``chunk``, an observation option without ``observed``,
        ``condition`` without ``draws``, ``error`` without ``condition=True``,
        ``progress``, ``keep_counts`` or ``condition`` that is not True or False
        (``progress`` may be None), or a bad ``tolerance``, ``as_of`` or ``error``
        (as :func:`sim.score_observations` raises); for ``observed`` given as a path,
        a bad row of the file (:func:`sim.load_observations`).
    TypeError
        An option ``run`` does not take, or ``observed`` that is neither an
        ObservationSet nor a path.
    """
    allowed = {"chunk", "progress", "keep_counts", "executor", *OBSERVING}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(
            f"run() takes the options {', '.join(sorted(allowed))}, not {', '.join(unknown)}"
        )
    executor_argument(options.get("executor"))
    for flag in ("progress", "keep_counts", "condition"):  # (condition="no" is truthy)
        if flag in options:
            flag_argument(options[flag], flag, none=flag != "condition")
    # an observation option left at its default (None, condition=False) asks nothing
    observing = {k: options.pop(k) for k in OBSERVING if k in options}
    observing = {k: v for k, v in observing.items() if v is not None and v is not False}
    observed = observing.pop("observed", None)
    refuse_run_options(observed, observing, draws, seed)
    sc = scenario_argument(scenario, "run")
    names = sc.select(variants)  # run(s, "slip-6"): that variant, not its letters
    if observed is not None:  # the CSV's path read, or a set checked, against this scenario
        observed = check_observed(sc, observed, "observed=")
    plans = {name: sc.plan(name) for name in names}
    inputs = {name: central_inputs(plans[name]) for name in names}
    central = {name: step(plans[name], inputs[name]) for name in names}
    basis = any(t.has_basis for p in plans.values() for t in p.tracks)
    result = Result(
        scenario=sc,
        variants=names,
        # (each one frame of every variant: one costs about as much as a variant's own)
        monthly=monthly_of(
            [
                monthly_columns(
                    sc.id, n, plans[n], central[n], inputs[n].unreported[0] if basis else None
                )
                for n in names
            ]
        ),
        milestones=milestones_of(
            [milestone_columns(sc.id, n, plans[n], central[n]) for n in names]
        ),
        plans=plans,
        central=central,
    )
    if observed is not None:
        if draws is not None:
            draws, seed = check_args(draws, seed)
            return observe_ensemble(
                result, observed, draws=draws, seed=seed, **observing, **options
            )
        return with_observations(result, score_observations(result, observed, **observing))
    if draws is not None:
        return run_ensemble(result, draws=draws, seed=seed, **options)
    return result


OBSERVING = ("observed", "tolerance", "as_of", "condition", "error")
