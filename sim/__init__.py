"""forcesim: force-level scenario simulation.

The public API, for notebooks and scripts::

    import sim
    scenario = sim.load_scenario("scenarios/iraq-syria-2024.yaml")
    result = sim.run(scenario)            # every variant
    result.monthly                        # tidy DataFrame
    result.plot()                         # envelope chart

Imports are lazy so that the command line starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "default_scenario",
    "load_observations",
    "load_scenario",
    "plot_envelope",
    "plot_fan",
    "run",
    "run_backtest",
    "score_observations",
]

_WHERE = {
    "Result": "sim.results",
    "run_backtest": "sim.backtest",
    "load_observations": "sim.observed",
    "score_observations": "sim.observed",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "default_scenario": "sim.paths",
    "load_scenario": "sim.loader",
    "plot_envelope": "sim.plotting",
    "plot_fan": "sim.plotting",
    "run": "sim.runner",
}

if TYPE_CHECKING:
    from sim.backtest import run_backtest
    from sim.errors import ScenarioError
    from sim.loader import load_scenario
    from sim.observed import load_observations, score_observations
    from sim.paths import default_scenario
    from sim.plotting import plot_envelope, plot_fan
    from sim.results import Result
    from sim.runner import run
    from sim.scenario import Scenario


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
