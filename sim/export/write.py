"""Writing run directories: a run's tables and charts, comparisons, backtests,
sweeps, sensitivity and vintage series, each directory whole or not at all."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import plotting
from sim.analysis.backtest import Backtest
from sim.analysis.compare import Comparison
from sim.analysis.heap import return_freed_memory
from sim.analysis.observed import (
    Assessment,
    conditioned_result,
    has_conditioned_bands,
)
from sim.analysis.sensitivity import Sensitivity
from sim.analysis.sweep import Sweep
from sim.errors import ScenarioError
from sim.export.records import base_record, observation_record, run_record
from sim.io.files import (
    atomic_directory,
    path_argument,
    write_csv,
    write_parquet,
    write_record,
)
from sim.plotting.common import expect
from sim.results import PartialResult, Result
from sim.schema import PROFILES
from sim.vintages import VintageSeries

TABLE_FORMATS = ("csv", "parquet")


def write_directory(
    out_dir: str | Path,
    fill: Callable[[Path], dict[str, Any]],
    function: str = "write_directory",
) -> list[Path]:
    """Write a directory whole or not at all: ``fill(tmp)`` writes the files into a
    temporary directory and returns the ``run.json`` record, which gets the signed
    manifest of those files (:func:`sim.io.files.write_record`). Returns the files
    written, sorted by name.

    Raises
    ------
    TypeError
        For an ``out_dir`` that is not a path (a str or pathlib.Path), naming
        ``function``, the public writer called.
    """
    out_dir = path_argument(out_dir, "an output directory", "out_dir", function)
    return_freed_memory()  # (the chunks are done: their freed memory goes back first)
    with atomic_directory(out_dir) as tmp:
        write_record(tmp, fill(tmp))
        names = sorted(p.name for p in tmp.iterdir())
    return [out_dir / n for n in names]


def _is_both(value: Any) -> bool:
    return isinstance(value, str) and value == "both"


def write_run(
    result: Result,
    out_dir: str | Path,
    *,
    argv: list[str] | None = None,
    chart: bool = True,
    formats: Sequence[str] = ("csv",),
    extra: Callable[[Path, dict[str, Any]], None] | None = None,
) -> list[Path]:
    """Write every file of a run into ``out_dir``, all or nothing.

    Parameters
    ----------
    result : Result
        From :func:`sim.run`; with observations scored
        (:func:`sim.score_observations`) it also writes ``observed.csv`` and, when
        the ensemble was conditioned, the conditioned bands, dates and fan chart.
    out_dir : str or pathlib.Path
        The run directory: created, or replaced whole when it holds only the files
        of an earlier run.
    argv : list of str, optional
        The command line recorded in ``run.json`` (default ``sys.argv``).
    chart : bool
        Draw the PNG charts (default True).
    formats : str or sequence of str
        The file types of the tables: ``"csv"`` (the default), ``"parquet"`` (needs
        pyarrow: the same columns and values, see :func:`sim.io.files.write_parquet`),
        or both: ``("csv", "parquet")``, or ``"both"`` as ``forcesim run --format``
        writes it.
    extra : callable, optional
        ``extra(directory, record)`` writes more files into the run directory once the
        tables and charts are there and before ``run.json`` (``record``) is written, so
        they are part of the run (``forcesim run --report`` writes its page this way).

    Returns
    -------
    list of pathlib.Path
        The files written, sorted by name.

    Raises
    ------
    sim.ScenarioError
        When ``out_dir`` cannot be written or holds files forcesim did not write.
    ValueError
        When ``formats`` is empty, names another format, or is not a format or
        formats at all (``None``).
    """
    given = formats
    if isinstance(formats, str):
        formats = [formats]  # formats="parquet": that format, not its letters
    expected = f"expected formats among {', '.join(TABLE_FORMATS)}, or 'both'"
    if not isinstance(formats, Iterable):  # (None: "'NoneType' object is not iterable")
        raise ValueError(f"{expected}, found {given!r}")
    # ("both" as forcesim run --format both names them, alone or in a list)
    formats = [f for x in formats for f in (TABLE_FORMATS if _is_both(x) else (x,))]
    unknown = [f for f in formats if f not in TABLE_FORMATS]
    if unknown or not formats:
        raise ValueError(f"{expected}, found {given!r}")
    refuse_changed(result)

    def fill(tmp: Path) -> dict[str, Any]:
        for name, frame in _run_tables(result).items():
            _write_table(frame, tmp / name, formats)
        if chart:
            for name, draw in run_charts(result).items():
                plotting.save(draw(), tmp / f"{name}.png")
        record = run_record(result, argv)
        if extra is not None:
            extra(tmp, record)
        return record

    return write_directory(out_dir, fill, "write_run")


def refuse_changed(result: Result) -> None:
    """Raise, before anything is written, when ``result`` is not a Result or its frames
    were changed in place since the run made them (:meth:`Result.changed`): the signed
    manifest of a run directory vouches that forcesim wrote every value in it.

    Raises
    ------
    TypeError
        For anything but a Result.
    sim.ScenarioError
        At ``<arguments>``, naming the frames changed.
    """
    if not isinstance(result, Result):
        raise TypeError(f"expected a Result (from sim.run), found {type(result).__name__}")
    if isinstance(result, PartialResult):
        raise ScenarioError(
            "a Result as sim.run made it (a run written as it was made keeps only the rows "
            "its charts draw; its tables are the files it wrote)",
            "the rows kept of a streamed run",
            file="<arguments>",
            path="result",
        )
    changed = result.changed()
    if changed:
        raise ScenarioError(
            "a Result as sim.run made it (a run directory records the run; a table "
            "changed in code is written with DataFrame.to_csv, or the run made again)",
            ", ".join(f"result.{name}" for name in changed) + " changed since the run",
            file="<arguments>",
            path="result",
        )


def _run_tables(result: Result) -> dict[str, pd.DataFrame]:
    """The tables of a run by file name (without the extension), in writing order."""
    tables = {"monthly": result.monthly, "milestones": result.milestones}
    if result.bands is not None:
        assert result.dates is not None
        tables |= {"bands": result.bands, "dates": result.dates}
    if isinstance(result.observed, Assessment):
        tables["observed"] = result.observed.table
        if result.observed.conditioned is not None:
            tables["conditioning"] = result.observed.conditioned.table(result.scenario.id)
        cond = conditioned_result(result, result.observed)
        if cond is not None:
            assert cond.bands is not None and cond.dates is not None
            tables |= {"bands_conditioned": cond.bands, "dates_conditioned": cond.dates}
    return tables


def _write_table(frame: pd.DataFrame, stem: Path, formats: Sequence[str]) -> None:
    if "csv" in formats:
        write_csv(frame, stem.with_suffix(".csv"))
    if "parquet" in formats:
        write_parquet(frame, stem.with_suffix(".parquet"))


def run_charts(
    result: Result,
    theaters: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    *,
    column: bool = False,
) -> dict[str, Callable[[], Any]]:
    """The charts of a run, by name: ``envelope``; with an ensemble ``fan``; with a
    conditioned ensemble ``fan_conditioned``. Each value draws its chart and returns
    the axes (so that a caller draws only those it wants). ``theaters``: the panels to
    draw, theater ids or sites as ``THEATER/SITE`` (default: every theater, each
    followed by its sites); ``variants``: the variants to draw (default: every one; of
    the weighted fan, those of them kept in the conditioned tables, and no weighted fan
    where none is); ``column``: each laid out for a newspaper column
    (:mod:`sim.plotting.column`)."""
    only = list(theaters) if theaters else None
    some = list(variants) if variants else None
    charts: dict[str, Callable[[], Any]] = {
        "envelope": lambda: plotting.plot_envelope(
            result, theaters=only, variants=some, column=column
        )
    }
    if result.bands is not None:
        charts["fan"] = lambda: plotting.plot_fan(
            result, theaters=only, variants=some, column=column
        )
    assessment = result.observed
    if isinstance(assessment, Assessment) and has_conditioned_bands(assessment):
        # (of the variants asked, those that kept enough effective draws to be weighted:
        # the conditioned tables hold no others; none, and there is no weighted fan)
        left = set(assessment.conditioned.too_few) if assessment.conditioned else set()
        weighed = None if some is None else [v for v in some if v not in left]
        if weighed is None or weighed:
            charts["fan_conditioned"] = lambda: plotting.plot_fan(
                result, theaters=only, variants=weighed, weighted=True, column=column
            )
    return charts


def write_compare(
    comparison: Comparison, out_dir: Path, *, argv: list[str] | None = None, chart: bool = True
) -> list[Path]:
    """Write a comparison's files, all or nothing.

    Parameters
    ----------
    comparison : Comparison
        From :func:`sim.compare`.
    out_dir : pathlib.Path
        The directory to write: ``compare.csv``, ``compare.png`` and ``run.json``.
    argv : list of str, optional
        The command line recorded in ``run.json``.
    chart : bool
        Draw ``compare.png`` (default True).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    sim.ScenarioError
        Before anything is written, when ``out_dir`` cannot be created or written,
        holds files forcesim did not write (none is deleted), or another process is
        writing it (:func:`sim.io.files.atomic_directory`).
    """
    expect(comparison, Comparison, "write_compare", "sim.compare")

    def fill(tmp: Path) -> dict[str, Any]:
        write_csv(comparison.table, tmp / "compare.csv")
        if chart:
            plotting.save(plotting.plot_compare(comparison), tmp / "compare.png")
        record = run_record(
            comparison, argv, compare={"a": comparison.a, "b": comparison.b, "difference": "b - a"}
        )
        return record

    return write_directory(out_dir, fill, "write_compare")


def write_backtest(bt: Backtest, out_dir: Path, *, argv: list[str] | None = None) -> list[Path]:
    """Write a backtest's files, all or nothing.

    Parameters
    ----------
    bt : Backtest
        From :func:`sim.run_backtest`.
    out_dir : pathlib.Path
        The directory to write: ``backtest.csv``, ``errors.csv``, ``paths.csv``,
        ``backtest.png`` and ``run.json``.
    argv : list of str, optional
        The command line recorded in ``run.json``.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    sim.ScenarioError
        Before anything is written, when ``out_dir`` cannot be created or written,
        holds files forcesim did not write (none is deleted), or another process is
        writing it (:func:`sim.io.files.atomic_directory`).
    """
    expect(bt, Backtest, "write_backtest", "sim.backtest")

    def fill(tmp: Path) -> dict[str, Any]:
        write_csv(bt.table, tmp / "backtest.csv")
        write_csv(bt.errors, tmp / "errors.csv")
        write_csv(bt.paths, tmp / "paths.csv")
        plotting.save(plotting.plot_backtest(bt), tmp / "backtest.png")
        best = bt.best()
        return {
            **base_record(bt.scenario, bt.variants, argv),
            "profiles": list(PROFILES),
            "observations": {
                "origin": bt.observations.origin,
                "sha256": bt.observations.sha256,
                "count": len(bt.observations),
                # so that forcesim plot can draw them again, wherever the file went
                "items": [observation_record(o) for o in bt.observations],
            },
            "best": {k: (v.item() if hasattr(v, "item") else v) for k, v in best.items()},
        }

    return write_directory(out_dir, fill, "write_backtest")


def write_sweep(sw: Sweep, out_dir: Path, *, argv: list[str] | None = None) -> list[Path]:
    """Write a sweep's files, all or nothing.

    Parameters
    ----------
    sw : Sweep
        From :func:`sim.analysis.sweep.sweep`.
    out_dir : pathlib.Path
        The directory to write: ``sweep.csv``, ``sweep.parquet`` (when pyarrow is
        installed), ``sweep.png`` (for one or two swept keys, with milestones)
        and ``run.json``.
    argv : list of str, optional
        The command line recorded in ``run.json``.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    sim.ScenarioError
        Before anything is written, when ``out_dir`` cannot be created or written,
        holds files forcesim did not write (none is deleted), or another process is
        writing it (:func:`sim.io.files.atomic_directory`).
    """
    expect(sw, Sweep, "write_sweep", "sim.sweep")
    import importlib.util

    def fill(tmp: Path) -> dict[str, Any]:
        write_csv(sw.table, tmp / "sweep.csv")
        if importlib.util.find_spec("pyarrow") is not None:
            write_parquet(sw.table, tmp / "sweep.parquet")
        if len(sw.swept) in (1, 2) and any(sw.table.outcome.str.startswith("p_met ")):
            plotting.save(plotting.plot_sweep(sw), tmp / "sweep.png")
        record = {
            **base_record(sw.scenario, sw.variants, argv),
            "sweep": {
                "keys": sw.keys,
                "values": sw.values,
                "points": int(np.prod([len(v) for v in sw.values])),
                "draws": sw.draws,
                "seed": sw.seed,
            },
        }
        return record

    return write_directory(out_dir, fill, "write_sweep")


def write_sensitivity(
    sens: Sensitivity, out_dir: Path, *, argv: list[str] | None = None
) -> list[Path]:
    """Write a sensitivity analysis's files, all or nothing.

    Parameters
    ----------
    sens : Sensitivity
        From :func:`sim.analysis.sensitivity.sensitivity`.
    out_dir : pathlib.Path
        The directory to write: ``sensitivity.csv`` and ``tornado.png`` (tenths),
        or ``sobol.csv`` and ``sobol.png`` (Sobol indices), and ``run.json``.
    argv : list of str, optional
        The command line recorded in ``run.json``.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    sim.ScenarioError
        Before anything is written, when ``out_dir`` cannot be created or written,
        holds files forcesim did not write (none is deleted), or another process is
        writing it (:func:`sim.io.files.atomic_directory`).
    """
    expect(sens, Sensitivity, "write_sensitivity", "sim.sensitivity")
    stem = "sensitivity" if sens.method == "tenths" else "sobol"
    chart = "tornado" if sens.method == "tenths" else "sobol"

    def fill(tmp: Path) -> dict[str, Any]:
        write_csv(sens.table, tmp / f"{stem}.csv")
        try:
            axes = plotting.plot_tornado(sens)
        except ValueError:  # no input moves any outcome: the CSV says so, no chart
            axes = None
        if axes is not None:
            plotting.save(axes, tmp / f"{chart}.png")
        record = {
            **base_record(sens.scenario, sens.variants, argv),
            "sensitivity": {"method": sens.method, "draws": sens.draws, "seed": sens.seed},
        }
        return record

    return write_directory(out_dir, fill, "write_sensitivity")


def write_vintages(
    series: VintageSeries,
    out_dir: Path,
    *,
    argv: list[str] | None = None,
    variant: str | None = None,
    chart: bool = True,
    theaters: Sequence[str] | None = None,
    column: bool = False,
    through: str | None = None,
) -> list[Path]:
    """Write a vintage series' files, all or nothing.

    Parameters
    ----------
    series : VintageSeries
        From :func:`sim.run_vintages`.
    out_dir : pathlib.Path
        The directory to write: ``scores.csv``, ``pooled.csv``, ``points.csv``,
        ``conditioning.csv``, ``vintages.png`` and ``run.json``.
    argv : list of str, optional
        The command line recorded in ``run.json``.
    variant : str, optional
        The variant the chart draws (default ``as-reported``).
    chart : bool
        Draw ``vintages.png`` (default True).
    theaters : sequence of str, optional
        The theaters (or ``THEATER/SITE``) the chart draws, in order (default: every
        theater of the vintages); the tables keep every one.
    column : bool
        With ``chart``, also draw ``vintages-column.png``, laid out for a newspaper
        column 600 px wide (:func:`sim.plot_vintages` with ``column=True``).
    through : str, optional
        The last month the charts draw, ``YYYY-MM`` (:func:`sim.plot_vintages`).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    sim.ScenarioError
        Before anything is written, when ``out_dir`` cannot be created or written,
        holds files forcesim did not write (none is deleted), or another process is
        writing it (:func:`sim.io.files.atomic_directory`).
    ValueError
        For a ``variant`` or a theater no vintage has, or a ``through`` not a month
        they project (:func:`sim.plot_vintages`); nothing is written.
    TypeError
        For ``series`` that is not a VintageSeries (from :func:`sim.run_vintages`).
    """
    expect(series, VintageSeries, "write_vintages", "sim.run_vintages")
    tables = [
        v.result.observed.conditioned.table(v.scenario.id).assign(as_of=v.as_of.isoformat())
        for v in series.vintages
        if v.result.observed.conditioned is not None
    ]
    conditioning = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()

    def fill(tmp: Path) -> dict[str, Any]:
        write_csv(series.scores, tmp / "scores.csv")
        write_csv(series.pooled, tmp / "pooled.csv")
        write_csv(series.points, tmp / "points.csv")
        write_csv(conditioning, tmp / "conditioning.csv")
        if chart:
            axes = plotting.plot_vintages(
                series, variant=variant, theaters=theaters, through=through
            )
            plotting.save(axes, tmp / "vintages.png")
        if chart and column:
            axes = plotting.plot_vintages(
                series, variant=variant, theaters=theaters, column=True, through=through
            )
            plotting.save(axes, tmp / "vintages-column.png")
        first = series.vintages[0]
        record = base_record(first.scenario, list(first.result.variants), argv)
        record["vintages"] = [
            {
                "id": v.scenario.id,
                "as_of": v.as_of.isoformat(),
                "path": v.scenario.path,
                "sha256": v.scenario.sha256,
                "variants": list(v.result.variants),
            }
            for v in series.vintages
        ]
        record["ensemble"] = {"draws": series.draws, "seed": series.seed}
        if series.left_out:  # too few effective draws: not scored, not drawn
            record["left_out"] = [
                {"vintage": v, "variant": name, "effective_draws": round(e, 3)}
                for v, name, e in series.left_out
            ]
        if series.absent:  # series a vintage lacks: their later reports not scored for it
            record["absent"] = [
                {"vintage": v, "series": name, "later_reports": n} for v, name, n in series.absent
            ]
        if series.lacking:  # variants asked for that a vintage does not have
            record["lacking"] = [{"vintage": v, "variant": name} for v, name in series.lacking]
        record["observed"] = {
            "origin": series.observations.origin,
            "sha256": series.observations.sha256,
            "observations": len(series.observations),
            # (it decides which draws fit each report, so the scores: as a run records it)
            "tolerance": first.result.observed.tolerance.record(),
        }
        cond = first.result.observed.conditioned
        if cond is not None:  # (the same for every vintage)
            record["observed"]["error_rate"] = str(cond.error)
        return record

    return write_directory(out_dir, fill, "write_vintages")
