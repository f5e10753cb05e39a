"""forcesim: force-level scenario simulation.

The public API, for notebooks and scripts::

    import sim
    scenario = sim.load_scenario("scenarios/iraq-syria-2024.yaml")
    result = sim.run(scenario)            # every variant
    result.monthly                        # tidy DataFrame
    sim.plot(result)                      # envelope chart (fan chart for an ensemble)

Imports are lazy so that the command line starts fast; ``sim/__init__.pyi``
gives type checkers the same names.
"""

from __future__ import annotations

from sim.io.signals import ignore_interrupts_in_a_starting_worker

# (first of all, in a worker process of a local cluster that forcesim starts)
ignore_interrupts_in_a_starting_worker()

from importlib import import_module  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402
from typing import Any  # noqa: E402

try:
    __version__ = version("forcesim")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

_WHERE = {
    "Backtest": "sim.analysis.backtest",
    "Comparison": "sim.analysis.compare",
    "Result": "sim.results",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.errors",
    "ScenarioWarning": "sim.errors",
    "Sensitivity": "sim.analysis.sensitivity",
    "Sweep": "sim.analysis.sweep",
    "VintageSeries": "sim.vintages",
    "Tolerance": "sim.io.observations",
    "check_writable": "sim.io.files",
    "compare": "sim.analysis.compare",
    "default_scenario": "sim.paths",
    "keep_freed_memory": "sim.analysis.heap",
    "load_observations": "sim.scenario",
    "load_run": "sim.export",
    "load_scenario": "sim.scenario",
    "open_executor": "sim.analysis.distributed",
    "plot": "sim.plotting",
    "plot_backtest": "sim.plotting",
    "plot_compare": "sim.plotting",
    "plot_envelope": "sim.plotting",
    "plot_fan": "sim.plotting",
    "plot_sweep": "sim.plotting",
    "plot_tornado": "sim.plotting",
    "run": "sim.runner",
    "run_backtest": "sim.analysis.backtest",
    "save": "sim.plotting",
    "score_observations": "sim.analysis.observed",
    "sensitivity": "sim.analysis.sensitivity",
    "sweep": "sim.analysis.sweep",
    "with_observations": "sim.analysis.observed",
    "write_backtest": "sim.export",
    "write_compare": "sim.export",
    "write_report": "sim.report",
    "write_run": "sim.export",
    "write_vintages": "sim.export",
    "run_vintages": "sim.vintages",
    "plot_vintages": "sim.plotting",
    "write_sensitivity": "sim.export",
    "write_sweep": "sim.export",
}

__all__ = [
    "Backtest",
    "Comparison",
    "Result",
    "Scenario",
    "ScenarioError",
    "ScenarioWarning",
    "Sensitivity",
    "Sweep",
    "Tolerance",
    "VintageSeries",
    "__version__",
    "check_writable",
    "compare",
    "default_scenario",
    "keep_freed_memory",
    "load_observations",
    "load_run",
    "load_scenario",
    "open_executor",
    "plot",
    "plot_backtest",
    "plot_compare",
    "plot_envelope",
    "plot_fan",
    "plot_sweep",
    "plot_tornado",
    "plot_vintages",
    "run",
    "run_backtest",
    "run_vintages",
    "save",
    "score_observations",
    "sensitivity",
    "sweep",
    "with_observations",
    "write_backtest",
    "write_compare",
    "write_report",
    "write_run",
    "write_sensitivity",
    "write_sweep",
    "write_vintages",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
