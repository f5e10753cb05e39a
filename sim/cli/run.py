"""The commands that compute: ``run``, ``compare`` and ``backtest``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli import command_line, friendly, hold, main, say_written
from sim.cli.params import (
    ERROR_RATE,
    FORMATS,
    SET_HELP,
    TOLERANCE,
    OneOf,
    PathName,
    apply_settings,
    draws_and_seed,
    draws_options,
    executor,
    flag_error,
    needs,
    out_option,
    quiet_option,
    refuse_stray_value,
    scale_options,
    set_option,
    variant_option,
    written,
)

if TYPE_CHECKING:
    from fractions import Fraction

    from sim.io.observations import ObservationSet, Tolerance
    from sim.scenario import Scenario


@main.command()
@click.argument("scenario", required=False, type=PathName(dir_okay=True))
@variant_option("Run only this variant (repeatable). Default: all.")
@out_option("out/<scenario id>/")
@draws_options("Monte Carlo draws for an ensemble.", "Seed for the ensemble (a whole number).")
@click.option(
    "--observed",
    metavar="FILE",
    type=PathName(),
    help="Observed levels to draw and score (CSV: date,theater,troops_low,troops_high; "
    "optional kind,tolerance,by,source,quote; docs/observations.md). Default: the "
    "scenario's own observations, if any.",
)
@click.option(
    "--condition",
    is_flag=True,
    help="With --draws: also summarise the draws weighted by how well they fit the "
    "observations known on the as-of date (bands_conditioned.csv, fan_conditioned.png, "
    "conditioning.csv).",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="YYYY-MM-DD or YYYY-MM: only observations made public by then condition; "
    "later ones are scored out of sample. A report dated only by the as-of month "
    "(2025-06 with --as-of 2025-06-15) may be either, so it does neither. Default: "
    "every observation is known.",
)
@click.option(
    "--tolerance",
    type=TOLERANCE,
    metavar="T",
    help="How far outside an observed range still counts as consistent: a "
    "percentage of each bound (default 5%) or a number of troops.",
)
@click.option(
    "--error-rate",
    "error_rate",
    type=ERROR_RATE,
    metavar="R",
    help="With --condition: the chance that a report is wrong (5%, 0.05, 5e-2 or 1/20; "
    "default 5%); a draw missing k counted reports weighs R^k.",
)
@click.option(
    "--format",
    "table_format",
    type=OneOf(list(FORMATS)),
    default="csv",
    show_default=True,
    help="File type of the tables: CSV, Parquet (needs pyarrow) or both.",
)
@click.option(
    "--report",
    is_flag=True,
    help="Also write report.html: one self-contained interactive page to share (needs plotly).",
)
@click.option(
    "--at",
    "at",
    metavar="MONTH",
    help="YYYY-MM: the month the table shows each variant's level at (default: the "
    "last month); with --draws also the 25th–75th percentile and median of the draws "
    "then (weighted by the reports with --condition). With --quiet, the table is still "
    "printed, without the lines on the reports.",
)
@set_option(SET_HELP)
@scale_options
@quiet_option("No progress bar and no table (with --at, the table still).")
@friendly
def run(
    scenario: str | None,
    variants: tuple[str, ...],
    out_dir: str | None,
    draws: int | None,
    seed: int | None,
    chunk: int | None,
    observed: str | None,
    condition: bool,
    as_of: str | None,
    tolerance: Tolerance | None,
    error_rate: Fraction | None,
    table_format: str,
    report: bool,
    at: str | None,
    settings: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Run SCENARIO (default: the shipped Iraq–Syria 2024 scenario)."""
    import sim
    from sim.cli import text
    from sim.plotting import use_agg

    draws_and_seed(draws, seed)
    if at is not None:
        _refuse_month_text(at)
    if "parquet" in FORMATS[table_format]:
        needs("pyarrow", "parquet", "--format", table_format)
    if report:
        needs("plotly", "report", "--report")
    if error_rate is not None and not condition:
        raise flag_error(
            "--error-rate",
            "--condition with --error-rate (it weighs the reports a draw misses)",
            f"{written('--error-rate', error_rate)}, and no --condition",
        )
    cluster = executor(workers, scheduler, draws)
    refuse_stray_value(settings, scenario)
    sc = sim.load_scenario(scenario or sim.default_scenario())
    target = Path(out_dir) if out_dir else Path("out") / sc.id
    names = sc.select(list(variants))
    sc = apply_settings(sc, settings, names)
    if at is not None:
        _refuse_month(at, [m for v in names for m in sc.plan(v).months])
    sim.check_writable(target)
    hold(target)  # (until the command ends: one writer at a time)
    obs = _observations(sc, observed, tolerance, condition, as_of, draws)
    if report:  # (a page too large to share is known before the run is made)
        from sim.report.page import refuse_large_run

        with _report_refused(target, made=False):
            refuse_large_run(target / "report.html", {v: sc.plan(v) for v in names}, draws)
    scoring: dict[str, Any] = {}
    if obs is not None:  # scored (and conditioned on) in each variant's pass over the draws
        scoring = {
            "observed": obs,
            "tolerance": tolerance or sim.Tolerance.default(),
            "condition": condition,
            "as_of": None if as_of is None else _as_of(sc, as_of),
            "error": error_rate,
        }
    # each variant's rows written as they are made (sim.export.stream)
    from sim.export.stream import stream_run

    use_agg()
    with cluster as pool:
        files, result, levels = stream_run(
            sc,
            names,
            target,
            draws=draws,
            seed=seed,
            chunk=chunk,
            progress=not quiet,
            executor=pool,
            argv=command_line(),
            formats=FORMATS[table_format],
            extra=partial(_write_report, target) if report else None,
            **scoring,
        )
    if not quiet or at is not None:  # (--at -q: the month's table, and nothing else)
        # (the weighted months to zero troops are printed where a residual may stay)
        stays = any(p.residuals for p in result.plans.values())
        zero = _weighted_zero(target, result) if stays else None
        for line in text.run_lines(
            result, levels, at=at, bands=_at_bands(target, at, result), zero=zero
        ):
            click.echo(line)
    if not quiet and obs is not None:
        for line in text.observed_lines(result.observed, names, sc):
            click.echo(line)
    if obs is not None:
        for message in text.conditioning_warnings(result.observed, result.plans[names[0]]):
            click.echo(f"forcesim: warning: {message}", err=True)
    say_written(target, files)


@main.command()
@click.argument("scenario", type=PathName(dir_okay=True))
@variant_option("Backtest only this variant (repeatable). Default: all.")
@click.option(
    "--observed",
    metavar="FILE",
    type=PathName(),
    help="Observed levels (CSV). Default: the scenario's own observations.",
)
@out_option("out/<scenario id>-backtest/")
@click.option("--quiet", "-q", is_flag=True, help="No table; just where the files are.")
@friendly
def backtest(
    scenario: str, variants: tuple[str, ...], observed: str | None, out_dir: str | None, quiet: bool
) -> None:
    """Run every drawdown profile of SCENARIO against its observed levels.

    Each profile (linear, step, front, back, s-curve) is applied to every
    milestone of every variant; writes backtest.csv (MAE, MAPE, max error,
    months compared), errors.csv, paths.csv, backtest.png and run.json, and
    says which profile fits best.
    """
    import sim
    from sim.cli import text
    from sim.plotting import use_agg

    sc = sim.load_scenario(scenario)
    target = Path(out_dir) if out_dir else Path("out") / f"{sc.id}-backtest"
    sim.check_writable(target)
    hold(target)  # (until the command ends: one writer at a time)
    names = sc.select(list(variants))
    obs = sim.load_observations(observed, sc) if observed else None
    bt = sim.run_backtest(sc, obs, names)
    use_agg()
    files = sim.write_backtest(bt, target, argv=command_line())
    lines = text.backtest_lines(bt)
    for line in lines if not quiet else lines[-2:-1]:
        click.echo(line)
    say_written(target, files)


@main.command()
@click.argument("scenario", required=False, type=PathName(dir_okay=True))
@variant_option("A, then B (exactly two): the charts show B minus A.")
@draws_options("Number of paired Monte Carlo draws.", "Seed (a whole number).")
@out_option("out/<scenario id>-compare-A-vs-B/")
@set_option(SET_HELP)
@scale_options
@quiet_option()
@friendly
def compare(
    scenario: str | None,
    variants: tuple[str, ...],
    draws: int | None,
    seed: int | None,
    out_dir: str | None,
    chunk: int | None,
    settings: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Compare two variants of SCENARIO draw by draw (common random numbers).

    Writes compare.csv (the distribution of B - A and P(B > A) per theater and
    month), compare.png and run.json.
    """
    import sim
    from sim.cli import text
    from sim.plotting import use_agg

    if len(variants) != 2:
        raise flag_error(
            "--variant",
            "exactly two --variant NAME options (A, then B)",
            f"{len(variants)}" + (f" ({', '.join(map(repr, variants))})" if variants else ""),
        )
    if variants[0] == variants[1]:
        from sim.analysis.compare import SAME_VARIANT

        raise flag_error(
            "--variant",
            f"two different variants, A then B ({SAME_VARIANT})",
            f"{variants[0]!r} twice",
        )
    draws_and_seed(draws, seed, required=True)
    assert draws is not None and seed is not None
    cluster = executor(workers, scheduler, draws)
    refuse_stray_value(settings, scenario)
    sc = sim.load_scenario(scenario or sim.default_scenario())
    a, b = variants
    sc = apply_settings(sc, settings, sc.select([a, b]))
    # beside, not inside, the run directory, which a new run replaces whole
    target = Path(out_dir) if out_dir else Path("out") / f"{sc.id}-compare-{a}-vs-{b}"
    sim.check_writable(target)
    hold(target)  # (until the command ends: one writer at a time)
    options: dict[str, Any] = {"progress": not quiet}
    if chunk:
        options["chunk"] = chunk
    with cluster as pool:
        result = sim.compare(sc, a, b, draws, seed, executor=pool, **options)
    use_agg()
    files = sim.write_compare(result, target, argv=command_line())
    if not quiet:
        for line in text.compare_lines(result):
            click.echo(line)
    say_written(target, files)


def _write_report(target: Path, run_dir: Path, record: dict[str, Any]) -> None:
    """``--report``: the page, written into the run directory (``run_dir``, the one being
    made for ``target``) before its run.json."""
    import sim

    with _report_refused(target, made=True):
        sim.write_report(run_dir, record=record)


@contextlib.contextmanager
def _report_refused(target: Path, *, made: bool) -> Iterator[None]:
    """A page too large to share refused at ``--report``, naming the run's own folder
    ``target`` (not one being made, which goes with the refusal), and saying how to
    keep the run (run again, when it was ``made`` and goes with the refusal)."""
    from sim.errors import ScenarioError

    try:
        yield
    except ScenarioError as exc:
        if exc.path != "(file)" or not exc.expected.startswith("a page of at most"):
            raise
        import shlex

        found = exc.found.replace(
            "forcesim report RUN_DIR", f"forcesim report {shlex.quote(str(target))}"
        )
        raise ScenarioError(
            exc.expected,
            f"{found}; run {'again ' if made else ''}without --report to keep the run, "
            "then make a page of some of it",
            file="<command line>",
            path="--report",
        ) from None


def _observations(
    scenario: Scenario,
    observed: str | Path | None,
    tolerance: Tolerance | None,
    condition: bool,
    as_of: str | None,
    draws: int | None,
) -> ObservationSet | None:
    """The observations and tolerance of a ``forcesim run``, checked before any work:
    ``--observed FILE`` replaces the scenario's own observations; ``--condition``
    needs draws and observations; ``--tolerance`` and ``--as-of`` need observations,
    and ``--as-of`` a date within the scenario's calendar."""
    import sim

    if condition and draws is None:
        if observed is None and scenario.observations() is None:  # (both missing: said once)
            raise flag_error(
                "--condition",
                "--observed FILE (or observations in the scenario), --draws N and --seed S "
                "with --condition (it conditions an ensemble on reports)",
                f"no --observed, no observations in {scenario.path or scenario.id}, and no --draws",
            )
        raise flag_error(
            "--condition",
            "--draws N and --seed S with --condition (it conditions an ensemble)",
            "no --draws",
        )
    if as_of is not None:
        _as_of(scenario, as_of)
    obs = sim.load_observations(observed, scenario) if observed else scenario.observations()
    if obs is None and (condition or tolerance is not None or as_of is not None):
        flag = "--condition" if condition else "--tolerance" if tolerance else "--as-of"
        raise flag_error(
            flag,
            f"observations for {flag}: --observed FILE, or observations in the scenario",
            f"no --observed, and no observations in {scenario.path or scenario.id}",
        )
    return obs


def _as_of(scenario: Scenario, text: str) -> Any:
    """``--as-of`` as a date within the scenario's calendar (a one-line error otherwise)."""
    from sim.io.observations import parse_as_of

    cal = scenario.doc.calendar
    return parse_as_of(text, cal.start, cal.end)


def _at_bands(target: Path, at: str | None, result: Any) -> tuple[Any, bool] | None:
    """``(rows, weighted)``: the percentiles of month ``at`` of every variant, as the run
    at ``target`` wrote them (the run's result holds only its charts' rows), weighted by
    the reports where the run wrote weighted ones; None without ``at`` or draws."""
    from sim.export.read import has_table, run_table

    if at is None or not result.draws:
        return None
    # (a run writes its directory whole: weighted bands there are this run's)
    weighted = has_table(target, "bands_conditioned")
    stem = "bands_conditioned" if weighted else "bands"
    rows = run_table(target, stem, lambda block: (block.month.astype(str) == at).to_numpy())
    return rows, weighted


def _weighted_zero(target: Path, result: Any) -> Any:
    """The ``zero`` rows of every weighted variant's threshold dates, as the run at
    ``target`` wrote them (the result holds only its charts' rows); None where the run
    wrote no weighted dates."""
    from sim.export.read import has_table, run_table

    if not result.draws or not has_table(target, "dates_conditioned"):
        return None
    return run_table(
        target,
        "dates_conditioned",
        lambda block: (block.threshold == "zero").to_numpy(),
        dates=True,
    )


def _refuse_month_text(at: str) -> None:
    """Refuse, in one line, an ``--at`` that is not a month written YYYY-MM, with the
    month to write where the text names one another way (``Dec 2026``, ``2026-12-31``,
    ``12/2026``)."""
    from sim.errors import expected_found
    from sim.months import month_hint, parse_month

    try:
        parse_month(at)
        return
    except ValueError as exc:  # (its words: "a month between 01 and 12" for 2026-13)
        expected = expected_found(exc)[0]
    raise flag_error("--at", expected, written("--at", at) + month_hint(at))


def _refuse_month(at: str, months: list[str]) -> None:
    """Refuse, in one line, an ``--at`` (written as a month: :func:`_refuse_month_text`)
    that is not a month the run steps."""
    if at not in months:
        raise flag_error(
            "--at", f"a month the run steps, {min(months)} to {max(months)}", written("--at", at)
        )
