"""A run written as it is made: each variant's rows of ``monthly``, ``bands`` and
``dates`` go to their files as the variant is done, so that the largest runs the format
allows (100 variants x 50 theaters x 600 months: 3,000,000 rows of each table) never
hold every variant's frames. What the charts draw and ``forcesim run`` prints is kept
aside as the rows go by (:class:`Kept`, :class:`~sim.results.TheaterLevels`)."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import plotting
from sim.analysis.accumulator import TooManySlots
from sim.analysis.chunks import Executor
from sim.analysis.conditioning import TallyTooLarge
from sim.analysis.ensemble import check_args, variant_summaries
from sim.analysis.heap import return_freed_memory
from sim.analysis.observed import (
    Scoring,
    check_observed,
    observed_levels,
    parts_frame,
    refuse_run_options,
    scored_milestones,
    scoring_of,
)
from sim.analysis.summaries import bands_of, dates_of, series
from sim.errors import flag_argument
from sim.export.read import chosen_rows, run_table
from sim.export.records import run_record
from sim.export.write import TABLE_FORMATS, run_charts, write_directory
from sim.io.files import csv_to_parquet, write_csv, write_csv_rows
from sim.io.observations import ObservationSet, Tolerance
from sim.model.draws import central_inputs
from sim.model.plan import Plan
from sim.model.stepper import StepOutput, step
from sim.plotting.common import MAX_FAN_PANELS, MAX_THEATERS, theaters_then_sites
from sim.results import (
    PartialResult,
    TheaterLevels,
    milestone_columns,
    milestones_of,
    monthly_columns,
    monthly_of,
)
from sim.scenario import Scenario


class TableFile:
    """One table's CSV file written a part at a time: the header with the first part,
    then each part's rows (:func:`sim.io.files.write_csv_rows`): the file
    :func:`sim.io.files.write_csv` writes of the parts' frames put together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None  # (made with the first part: a table of no part has no file)
        self.parts = 0

    def add(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (after the header line, for the first part)."""
        if self._file is None:
            self._file = self.path.open("w", encoding="utf-8", newline="")
        if self.parts == 0 or len(frame):
            write_csv_rows(frame, self._file, header=self.parts == 0)
            self.parts += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


@dataclass
class Kept:
    """The rows of a streamed run kept for its charts: those of the series and variants
    the charts draw (the envelope's first :data:`~sim.plotting.common.MAX_THEATERS`
    series of every variant, the fan's :data:`~sim.plotting.common.MAX_FAN_PANELS`
    panels), the first row of every series (so that the charts find every series the
    run has, in the order the whole frames give them), and the ``zero`` rows of
    ``dates`` (which the printed table reads). ``monthly``'s are kept as column arrays
    (:func:`sim.results.monthly_columns`, names shared between rows), and made a frame
    once the draws are done: as frames, the rows of 100 variants x 12 series x 600
    months took 44 MB, their strings held row by row."""

    monthly: list[dict[str, np.ndarray]] = field(default_factory=list)
    bands: list[pd.DataFrame] = field(default_factory=list)
    dates: list[pd.DataFrame] = field(default_factory=list)
    #: the series of each table seen so far
    seen: dict[str, set[str]] = field(default_factory=lambda: {"monthly": set(), "bands": set()})

    #: of the ``monthly`` rows kept, those the fan draws (and each series' first)
    fan: list[np.ndarray] = field(default_factory=list)

    def add(self, table: str, rows: Any, keep: np.ndarray, fan: Any = False) -> None:
        """Keep the rows of ``rows`` (a frame, or for ``monthly`` its columns) that
        ``keep`` (bool, a row each) selects, and the first row of each series not seen
        before; for ``monthly``, ``fan`` (bool, a row each, or one for all) marks those
        of them the fan draws."""
        first = np.zeros(len(keep), bool)
        if table in self.seen:
            first = self.firsts(table, rows["theater"])
            keep = keep | first
        if table == "monthly":
            self.monthly.append({c: v[keep] for c, v in rows.items()})
            self.fan.append((np.asarray(fan, bool) | first)[keep])
        else:
            getattr(self, table).append(rows[keep])

    def firsts(self, table: str, theater: Any) -> np.ndarray:
        """Which of the rows of the series ``theater`` (one a row) are the first of their
        series in ``table`` so far (bool, a row each); those series are seen from now."""
        seen = self.seen[table]
        theater = np.asarray(theater, dtype=object)
        first = ~pd.Series(theater).duplicated().to_numpy()
        first &= np.fromiter((t not in seen for t in theater), bool, len(theater))
        seen.update(theater[first])
        return first

    def frame(self, table: str) -> pd.DataFrame:
        """The rows kept of ``table``, one frame (the parts are let go)."""
        parts = getattr(self, table)
        setattr(self, table, [])
        if table == "monthly":
            return monthly_of(parts)
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _charted(names: list[str], plans: dict[str, Plan]) -> tuple[set[str], set[str], set[str]]:
    """The series the envelope draws (of every variant), and the variants and series of
    the fan's panels, as the charts of :func:`sim.export.write.run_charts` choose them
    from the whole frames (:func:`sim.plotting.common.series_keys`, ``fan_series``,
    ``theater_selection`` and ``fan_selection``)."""
    present: dict[str, None] = {}  # every series, in the order monthly lists them first
    theaters: dict[str, None] = {}
    for n in names:
        plan = plans[n]
        theaters |= dict.fromkeys(plan.theaters)
        for tid in plan.theaters:
            present[tid] = None
            present |= {
                plan.tracks[k].key: None
                for k in plan.theater_tracks(tid)
                if plan.tracks[k].site is not None
            }
    keys = theaters_then_sites(theaters, present)
    banded = {s for n in names for s, _ in series(plans[n])}
    fan = [k for k in keys if "/" not in k or k in banded][:MAX_FAN_PANELS]
    chosen = names[: max(1, MAX_FAN_PANELS // max(len(fan), 1))]
    return set(keys[:MAX_THEATERS]), set(chosen), set(fan)


def stream_run(
    scenario: Scenario,
    names: list[str],
    out_dir: str | Path,
    *,
    draws: int | None = None,
    seed: int | None = None,
    chunk: int | None = None,
    progress: bool | None = None,
    executor: Executor | None = None,
    argv: list[str] | None = None,
    chart: bool = True,
    formats: Sequence[str] = ("csv",),
    extra: Callable[[Path, dict[str, Any]], None] | None = None,
    observed: ObservationSet | None = None,
    tolerance: Tolerance | str | None = None,
    as_of: Any = None,
    condition: bool = False,
    error: Any = None,
) -> tuple[list[Path], PartialResult, TheaterLevels]:
    """Run the variants ``names`` of ``scenario`` and write its run directory as
    ``sim.write_run(sim.run(...))`` does, the same files to the byte, holding one
    variant's rows at a time; for Parquet, each table is read back from its CSV file
    a block of rows at a time (:func:`sim.io.files.csv_to_parquet`: the table
    :func:`sim.io.files.write_parquet` writes of the frame, as pandas reads it). The
    options are :func:`sim.run`'s and :func:`sim.write_run`'s: with ``observed``, the
    observations are scored (and with ``condition`` the ensemble conditioned on them)
    a variant at a time, in its pass over the draws
    (:class:`sim.analysis.observed.Scoring`), each variant's conditioned rows written
    as they are made too.

    Returns
    -------
    files : list of pathlib.Path
        The files written, sorted by name.
    kept : PartialResult
        The run as far as the charts and the printed table need it: every
        milestone, but only the rows of ``monthly`` the fan draws and of ``bands`` and
        ``dates`` that :class:`Kept` keeps, and the scored observations
        (``kept.observed``: of every row of ``observed.csv``, the columns
        :data:`~sim.analysis.observed.HELD_COLUMNS` as categories, and no
        distribution; of the conditioned bands and dates, only the rows the
        conditioned fan chart draws). Not the run's tables: read those from the
        files.
    levels : TheaterLevels
        Each variant's theater levels (:func:`sim.cli.text.run_lines`).

    Raises
    ------
    sim.ScenarioError
        As :func:`sim.run` and :func:`sim.write_run` do.
    ValueError
        When ``formats`` is empty or names another format.
    """
    formats = [formats] if isinstance(formats, str) else list(formats)
    if not formats or any(f not in TABLE_FORMATS for f in formats):
        raise ValueError(f"expected formats among {', '.join(TABLE_FORMATS)}, found {formats!r}")
    if draws is not None:
        draws, seed = check_args(draws, seed, chunk)
    flag_argument(condition, "condition")  # (condition="no" is truthy)
    given = {"tolerance": tolerance, "as_of": as_of, "condition": condition, "error": error}
    refuse_run_options(
        observed, {k: v for k, v in given.items() if v is not None and v is not False}, draws, seed
    )
    plans = {n: scenario.plan(n) for n in names}
    envelope, fan_variants, fan_series = _charted(names, plans)
    scoring = None
    if observed is not None:
        scoring = scoring_of(
            scenario,
            plans,
            None if draws is None else _milestone_rows(scenario, names, plans),
            names,
            check_observed(scenario, observed, "observed="),
            tolerance,
            draws=draws,
            condition=condition,
            as_of=as_of,
            error=error,
            keep=False,
        )
    kept = Kept()
    levels = TheaterLevels()
    central: dict[str, StepOutput] = {}
    made: list[PartialResult] = []

    def keep(name: str, columns: dict[str, np.ndarray]) -> None:
        """Keep what the charts and the printed table read of a variant's central rows."""
        levels.add(monthly_of([columns]))
        theater = pd.Series(columns["theater"])
        fan = name in fan_variants and theater.isin(fan_series).to_numpy()
        kept.add("monthly", columns, theater.isin(envelope).to_numpy() | fan, fan)

    def fill(tmp: Path) -> dict[str, Any]:
        tables = ["monthly", "milestones", *(["bands", "dates"] if draws is not None else [])]
        files = {t: TableFile(tmp / f"{t}.csv") for t in tables if t != "milestones"}
        files |= {t: TableFile(tmp / f"{t}.csv") for t in ["observed", *CONDITIONED]}
        p_met: list[Any] = []
        try:
            for name, columns, out, summary in _parts(
                scenario, names, plans, draws, seed, chunk, progress, executor, scoring
            ):
                central[name] = _slim(out)
                files["monthly"].add(monthly_of([columns]))
                if scoring is not None:
                    files["observed"].add(
                        scoring.score(name, observed_levels(columns, scoring.observations))
                    )
                if draws is None:
                    keep(name, columns)
                in_fan = name in fan_variants
                if summary is not None:
                    bands, dates, met = summary
                    files["bands"].add(bands)
                    files["dates"].add(dates)
                    kept.add("bands", bands, in_fan & bands.theater.isin(fan_series).to_numpy())
                    kept.add("dates", dates, (dates.threshold == "zero").to_numpy())
                    p_met += list(met)
                    if scoring is not None and scoring.conditioned is not None:
                        parts = scoring.condition_variant(name, summary)
                        if parts is not None:
                            files["bands_conditioned"].add(parts_frame([parts[0]], bands_of))
                            files["dates_conditioned"].add(parts_frame([parts[1]], dates_of))
                if scoring is not None:
                    scoring.forget(name)
                # the variant's rows and its pass over the draws are let go: their freed
                # memory goes back before the next variant's (else the long-lived rows
                # kept between them leave it in holes the next pass cannot use whole)
                columns = summary = bands = dates = parts = None  # type: ignore[assignment]
                return_freed_memory()
        except (TooManySlots, TallyTooLarge) as e:
            assert scoring is not None
            raise scoring.refusal(e) from None
        finally:
            for f in files.values():
                f.close()
        return_freed_memory()  # (the draws are done: their freed memory goes back first)
        assessment = None if scoring is None else scoring.assessment()
        cond = None if assessment is None else assessment.conditioned
        conditioned = files["bands_conditioned"].parts > 0
        if assessment is not None:
            tables.append("observed")
        if cond is not None:
            write_csv(cond.table(scenario.id), tmp / "conditioning.csv")
            tables.append("conditioning")
            if conditioned:
                tables.extend(CONDITIONED)
        # the rows of the conditioned fan chart: its own choice of variants and panels
        cond_kept = Kept()
        cond_names: list[str] = []
        cond_fan: tuple[set[str], set[str]] = (set(), set())
        if cond is not None and conditioned:
            cond_names = cond.variants
            _, chosen, panels = _charted(cond_names, plans)
            cond_fan = chosen, panels
            cond.bands = _charted_rows(tmp / "bands_conditioned.csv", cond_fan, cond_kept)
            cond.dates = _charted_rows(tmp / "dates_conditioned.csv", (cond_fan[0], None))
            return_freed_memory()  # (the blocks read)
        if draws is not None:
            # the central rows made again, a variant at a time, now that no pass over the
            # draws is to come: kept beside the passes, they raised each one's floor by
            # as much (100 variants x 50 theaters x 600 months: some 45 MB by the last)
            basis = _basis(plans)
            for name in names:
                columns = _central(scenario, name, plans[name], basis)[0]
                keep(name, columns)
                if name in cond_names:
                    drawn = pd.Series(columns["theater"]).isin(cond_fan[1]).to_numpy(copy=True)
                    drawn &= name in cond_fan[0]
                    cond_kept.add("monthly", columns, drawn, drawn)
        milestones = milestones_of(
            [milestone_columns(scenario.id, n, plans[n], central[n]) for n in names]
        )
        if draws is not None:  # (as sim.run's ensemble adds it)
            milestones = milestones.assign(p_met=p_met if p_met else pd.Series(dtype=float))
        if assessment is not None:  # (as sim.with_observations makes them)
            milestones = scored_milestones(milestones, assessment)
        write_csv(milestones, tmp / "milestones.csv")
        result = PartialResult(
            scenario=scenario,
            variants=list(names),
            monthly=kept.frame("monthly"),
            milestones=milestones,
            plans=plans,
            bands=kept.frame("bands") if draws is not None else None,
            dates=kept.frame("dates") if draws is not None else None,
            draws=draws,
            seed=seed if draws is not None else None,
            # (what the printed table reads of a central run: its original deadlines)
            central=central,
            observed=assessment,
        )
        fan_rows = np.concatenate(kept.fan)
        kept.fan = []
        return_freed_memory()  # (the kept parts, now one frame each)
        if chart:
            plotting.save(run_charts(result)["envelope"](), tmp / "envelope.png")
        # the fan needs only its own panels' rows: the envelope's go before its canvas
        # is made (the rows of 100 variants x 12 series x 600 months are 43 MB)
        result = replace(result, monthly=result.monthly[fan_rows].reset_index(drop=True))
        gc.collect()  # (the envelope's figure, whose parts refer to each other)
        return_freed_memory()
        if chart:
            for chart_name, draw in run_charts(result).items():
                if chart_name not in ("envelope", "fan_conditioned"):
                    plotting.save(draw(), tmp / f"{chart_name}.png")
            if cond_names:  # drawn of its own rows (its variants may be other than the fan's)
                gc.collect()  # (the fan's figure first)
                return_freed_memory()
                cond_result = replace(result, monthly=cond_kept.frame("monthly"))
                draw = run_charts(cond_result)["fan_conditioned"]
                plotting.save(draw(), tmp / "fan_conditioned.png")
        # the last chart's figure (whose parts refer to each other) and canvas go back
        # before the tables are read back and run.json is made and written (a chart's
        # canvas is 29 MB)
        gc.collect()
        return_freed_memory()
        if "parquet" in formats:  # the CSV text read back, as write_parquet reads it
            for table in tables:
                source = tmp / f"{table}.csv"
                csv_to_parquet(source, tmp / f"{table}.parquet")
                return_freed_memory()
                if "csv" not in formats:
                    source.unlink()
        made.append(result)
        record = run_record(result, argv)
        if extra is not None:
            extra(tmp, record)
        return record

    files = write_directory(Path(out_dir), fill)
    return files, made[0], levels


#: the tables of a conditioned ensemble, written a variant at a time as the plain ones
CONDITIONED = ["bands_conditioned", "dates_conditioned"]


def _charted_rows(
    path: Path, chosen: tuple[set[str], set[str] | None], kept: Kept | None = None
) -> pd.DataFrame:
    """The rows of the table at ``path`` (``bands`` or ``dates`` columns, as the run
    wrote them) of the variants and series ``chosen`` (series None: every one), and
    with ``kept`` the first row of every series, read a block of rows at a time, as
    :func:`sim.load_run` reads them (months as periods)."""
    variants, theaters = chosen

    def rows(block: pd.DataFrame) -> np.ndarray:
        mask = chosen_rows(block, variants, theaters)
        return mask if kept is None else mask | kept.firsts("bands", block.theater)

    dates = path.name.startswith("dates")
    return run_table(path.parent, path.stem, rows, dates=dates)


def _milestone_rows(scenario: Scenario, names: list[str], plans: dict[str, Plan]) -> pd.DataFrame:
    """The ``milestones`` rows of the central runs of ``names`` (small: a row per
    milestone), which the ensemble's threshold dates read."""
    return milestones_of(
        [
            milestone_columns(scenario.id, n, plans[n], step(plans[n], central_inputs(plans[n])))
            for n in names
        ]
    )


def _slim(out: StepOutput) -> StepOutput:
    """A central run without its levels (``monthly`` holds them)."""
    empty = np.zeros((1, 0, 0), np.int32)
    return replace(out, tracks=empty, theaters=empty)


Summary = tuple[pd.DataFrame, pd.DataFrame, Any]


def _parts(
    scenario: Scenario,
    names: list[str],
    plans: dict[str, Plan],
    draws: int | None,
    seed: int | None,
    chunk: int | None,
    progress: bool | None,
    executor: Executor | None,
    scoring: Scoring | None = None,
) -> Iterator[tuple[str, dict[str, np.ndarray], StepOutput, Summary | None]]:
    """Each variant in the order of ``names``: its ``monthly`` columns
    (:func:`sim.results.monthly_columns`) and central run,
    and with draws its ``bands`` and ``dates`` frames and its ``p_met`` (a share per
    milestone), as :func:`sim.run` makes them for all variants at once; with
    ``scoring``, its observations scored in the variant's pass over the draws."""
    basis = _basis(plans)
    if draws is None:
        for name in names:
            yield name, *_central(scenario, name, plans[name], basis), None
        return
    assert seed is not None
    milestones = scoring.milestones if scoring else _milestone_rows(scenario, names, plans)
    for name, (band_columns, date_rows, met), _ in variant_summaries(
        scenario,
        plans,
        milestones,
        names,
        draws=draws,
        seed=seed,
        chunk=chunk,
        progress=progress,
        executor=executor,
        **({} if scoring is None else scoring.options()),
    ):
        monthly, out = _central(scenario, name, plans[name], basis)
        yield name, monthly, out, (bands_of([band_columns]), dates_of([date_rows]), met)


def _basis(plans: dict[str, Plan]) -> bool:
    """Whether some variant has a reporting basis: then every row has ``official``."""
    return any(t.has_basis for p in plans.values() for t in p.tracks)


def _central(
    scenario: Scenario, name: str, plan: Plan, basis: bool
) -> tuple[dict[str, np.ndarray], StepOutput]:
    """A variant's central run and its ``monthly`` columns (with ``official`` when
    ``basis``), as :func:`sim.run` makes them."""
    inputs = central_inputs(plan)
    out = step(plan, inputs)
    unreported = inputs.unreported[0] if basis else None
    return monthly_columns(scenario.id, name, plan, out, unreported), out
