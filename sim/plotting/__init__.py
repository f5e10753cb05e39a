"""Charts: the only package that imports matplotlib.

Every chart is a function of data, ``(data, *, ax=None, ...) -> list of Axes``:
it draws on the axes given, or on a new figure, and returns the axes; none
calls ``show()``, picks a file name or changes matplotlib's backend.
:func:`save` writes a figure as PNG, PDF or SVG.
"""

from __future__ import annotations

from typing import Any

from sim.analysis.backtest import Backtest
from sim.analysis.compare import Comparison
from sim.plotting.backtest import plot_backtest
from sim.plotting.common import save, use_agg
from sim.plotting.compare import plot_compare
from sim.plotting.envelope import plot_envelope
from sim.plotting.fan import plot_fan
from sim.plotting.observed import mark_conditioned
from sim.plotting.sweep import plot_sweep
from sim.plotting.tornado import plot_tornado
from sim.plotting.vintages import plot_vintages
from sim.results import Result

__all__ = [
    "mark_conditioned",
    "plot",
    "plot_backtest",
    "plot_compare",
    "plot_envelope",
    "plot_fan",
    "plot_sweep",
    "plot_tornado",
    "plot_vintages",
    "save",
    "use_agg",
]


def plot(data: Result | Comparison | Backtest, ax: Any = None, **options: Any) -> list[Any]:
    """The natural chart of any forcesim result.

    Parameters
    ----------
    data : Result, Comparison or Backtest
        A deterministic run gives the envelope chart (:func:`plot_envelope`), an
        ensemble the fan chart (:func:`plot_fan`), a comparison its paired fan
        (:func:`plot_compare`), a backtest its profiles (:func:`plot_backtest`).
    ax : matplotlib Axes or sequence of Axes, optional
        Where to draw; a new figure when omitted. (A backtest always draws its own
        figure.)
    **options
        Passed on, e.g. ``theaters=[...]`` or ``variants=[...]``.

    Returns
    -------
    list of matplotlib.axes.Axes

    Raises
    ------
    TypeError
        For anything else, or axes given for a backtest.
    """
    if isinstance(data, Comparison):
        return plot_compare(data, ax=ax, **options)
    if isinstance(data, Backtest):
        if ax is not None:  # it would be drawn elsewhere, and the axes left empty
            raise TypeError("a backtest draws its own figure: call sim.plot(backtest)")
        return plot_backtest(data, **options)
    if isinstance(data, Result):
        if data.bands is not None:
            return plot_fan(data, ax=ax, **options)
        return plot_envelope(data, ax=ax, **options)
    raise TypeError(f"expected a Result, Comparison or Backtest, found {type(data).__name__}")
