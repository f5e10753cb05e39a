"""Types of the lazily imported public API of :mod:`sim`."""

from sim.analysis.backtest import Backtest, run_backtest
from sim.analysis.compare import Comparison, compare
from sim.analysis.distributed import open_executor
from sim.analysis.heap import keep_freed_memory
from sim.analysis.observed import score_observations, with_observations
from sim.analysis.sensitivity import Sensitivity, sensitivity
from sim.analysis.sweep import Sweep, sweep
from sim.errors import ScenarioError, ScenarioWarning
from sim.export import (
    load_run,
    write_backtest,
    write_compare,
    write_run,
    write_sensitivity,
    write_sweep,
    write_vintages,
)
from sim.io.files import check_writable
from sim.io.observations import Tolerance
from sim.paths import default_scenario
from sim.plotting import (
    plot,
    plot_backtest,
    plot_compare,
    plot_envelope,
    plot_fan,
    plot_sweep,
    plot_tornado,
    plot_vintages,
    save,
)
from sim.report import write_report
from sim.results import Result
from sim.runner import run
from sim.scenario import Scenario, load_observations, load_scenario
from sim.vintages import VintageSeries, run_vintages

__version__: str

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
