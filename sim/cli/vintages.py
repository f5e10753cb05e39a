"""The command that replays news: ``vintages``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli import command_line, friendly, hold, main, say_written
from sim.cli.params import (
    DRAWS,
    ERROR_RATE,
    SEED,
    TOLERANCE,
    DirectoryName,
    PathName,
    flag_error,
    quiet_option,
    variant_option,
)

if TYPE_CHECKING:
    from fractions import Fraction

    from sim.io.observations import Tolerance
    from sim.scenario import Scenario


@main.command()
@click.argument("files", nargs=-1, required=True, type=PathName())
@click.option(
    "--observed",
    metavar="FILE",
    type=PathName(),
    help="The record every vintage is conditioned on and scored against (CSV). "
    "Default: the first vintage's own observations.",
)
@variant_option(
    "Score only this variant (repeatable). Default: every variant of each vintage; "
    "the chart draws the first one given (default as-reported)."
)
@click.option(
    "--draws",
    type=DRAWS,
    metavar="N",
    default=20_000,
    show_default=True,
    help="Monte Carlo draws of each vintage.",
)
@click.option(
    "--seed",
    type=SEED,
    metavar="S",
    default=1,
    show_default=True,
    help="Seed of every vintage's ensemble (a whole number).",
)
@click.option("--tolerance", type=TOLERANCE, metavar="T", help="As for forcesim run (default 5%).")
@click.option(
    "--error-rate",
    "error_rate",
    type=ERROR_RATE,
    metavar="R",
    help="The chance that a report is wrong, as for forcesim run --condition (default 5%).",
)
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=DirectoryName(),
    metavar="DIR",
    help="Output directory. Default: out/vintages/",
)
@click.option(
    "--theater",
    "theaters",
    metavar="ID",
    multiple=True,
    help="Chart (in the order given) and print only this theater, or a site as "
    "THEATER/SITE (iraq/erbil); repeatable. The CSV files keep every one. Default: every "
    "theater of the vintages.",
)
@click.option(
    "--column",
    is_flag=True,
    help="Also draw vintages-column.png, the chart laid out for a newspaper column 600 px "
    "wide (written 1200 px wide): at most four panels stacked, the key under them.",
)
@click.option(
    "--through",
    metavar="YYYY-MM",
    help="The last month the charts draw (to show a deadline beyond the reports: "
    "--through 2026-12). Default: nine months after the last report (or after a year "
    "from the first vintage's date, when the reports end sooner).",
)
@quiet_option()
@friendly
def vintages(
    files: tuple[str, ...],
    observed: str | None,
    variants: tuple[str, ...],
    draws: int,
    seed: int,
    tolerance: Tolerance | None,
    error_rate: Fraction | None,
    out_dir: str | None,
    theaters: tuple[str, ...],
    column: bool,
    through: str | None,
    quiet: bool,
) -> None:
    """Replay a series of dated scenarios (vintages) and score each out of sample.

    Each vintage is conditioned on the reports known on its as_of date and scored
    against every later report: scores.csv (coverage of the 50 % and 80 % bands, the
    coverage a calibrated projection would have, interval score, CRPS per vintage,
    variant, theater and horizon), pooled.csv (the same, every vintage together),
    points.csv (each scored report), conditioning.csv,
    vintages.png (with --column, vintages-column.png too) and run.json. A directory among
    FILES stands for the .yaml files it holds, in name order (hidden ones left out).
    The charts draw to nine months after the last report (at least a year and nine months
    from the first vintage's date), or to --through YYYY-MM.
    """
    import sim
    from sim.cli import text
    from sim.errors import ScenarioError
    from sim.paths import scenario_files
    from sim.plotting import use_agg

    paths: list[Path] = []
    for given in files:
        f = Path(given)
        if f.is_dir():
            found = scenario_files(f)
            if not found:
                raise ScenarioError.absent(
                    "a folder holding scenario files (.yaml, .yml; hidden ones left out)",
                    "none in it",
                    file=given,
                )
            paths += found
        else:
            paths.append(f)
    scenarios = [sim.load_scenario(f) for f in paths]
    _refuse_theaters(scenarios, theaters)  # (before any run)
    _refuse_through(scenarios, variants, through)
    target = Path(out_dir) if out_dir else Path("out") / "vintages"
    sim.check_writable(target)
    hold(target)  # (until the command ends: one writer at a time)
    first = min(scenarios, key=lambda s: s.as_of_day)
    obs = sim.load_observations(observed, scenarios) if observed else first.observations()
    unused = []  # (a later vintage's own record, not the one every vintage is scored on)
    if not observed and obs is not None:
        for sc in scenarios:
            own = sc.observations() if sc is not first else None
            if own is not None and own.items != obs.items:
                unused.append(
                    f"{sc.id}'s own observations ({own.origin}) are not used: every vintage "
                    f"is conditioned and scored on one record, the first vintage's "
                    f"({obs.origin}); give --observed FILE to choose it."
                )
    if obs is None:
        raise flag_error(
            "--observed",
            "a record to score the vintages against: --observed FILE, or observations in "
            "the first vintage",
            f"no --observed, and no observations in {first.path or first.id}",
        )
    series = sim.run_vintages(
        scenarios,
        obs,
        draws=draws,
        seed=seed,
        variants=list(variants) or None,
        tolerance=tolerance,
        error=error_rate,
        progress=not quiet,
    )
    use_agg()
    files_written = sim.write_vintages(
        series,
        target,
        argv=command_line(),
        variant=variants[0] if variants else None,
        theaters=list(theaters) or None,
        column=column,
        through=through,
    )
    if not quiet:
        for line in text.vintage_lines(series, variants, theaters):
            click.echo(line)
    for message in [*unused, *text.vintage_warnings(series)]:
        click.echo(f"forcesim: warning: {message}", err=True)
    say_written(target, files_written)


def _refuse_theaters(scenarios: list[Scenario], theaters: tuple[str, ...]) -> None:
    """Refuse, in one line, a ``--theater`` that no vintage has (a theater, or a site as
    THEATER/SITE), naming those they have and the nearest."""
    from sim.errors import nearest

    known: list[str] = []
    for sc in scenarios:
        for tid, theater in sc.doc.theaters.items():
            known += [tid, *(f"{tid}/{site}" for site in theater.sites)]
    known = list(dict.fromkeys(known))
    unknown = [t for t in theaters if t not in known]
    if unknown:
        hint = nearest(unknown[0], known)
        raise flag_error(
            "--theater",
            "a theater or THEATER/SITE of the vintages: " + ", ".join(known),
            repr(unknown[0]) + (f" (did you mean {hint!r}?)" if hint else ""),
        )


def _refuse_through(
    scenarios: list[Scenario], variants: tuple[str, ...], through: str | None
) -> None:
    """Refuse, in one line and before any run, a ``--through`` that is not a month the
    vintages project after the first one's date (:func:`sim.plotting.vintages.through_month`)."""
    from sim.errors import expected_found
    from sim.months import parse_month
    from sim.plotting.vintages import through_month

    if through is None:
        return
    # (the vintages that run: a vintage lacking every --variant is skipped, and the
    # chart's months are those of the variants run, as plot_vintages takes them)
    running = [
        (sc, names)
        for sc in scenarios
        if (names := [v for v in sc.variants if not variants or v in variants])
    ]
    if not running:
        return  # (run_vintages says that none runs)
    first = min(parse_month(f"{sc.as_of_day:%Y-%m}") for sc, _ in running)
    last = max(
        plan.start + plan.n_months - 1
        for sc, names in running
        for plan in (sc.plan(n) for n in names)
    )
    try:
        through_month(through, first, last)
    except ValueError as exc:
        expected, found = expected_found(exc)
        raise flag_error("--through", expected, found) from None
