"""The commands that explore what drives the outcome: ``sweep`` and ``sensitivity``."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli import command_line, friendly, hold, main, say_written
from sim.cli.params import (
    SET_HELP,
    OneOf,
    PathName,
    apply_settings,
    as_written,
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


@main.command()
@click.argument("scenario", required=False, type=PathName(dir_okay=True))
@click.option(
    "--set",
    "settings",
    multiple=True,
    required=True,
    metavar="KEY=V1,V2,...",
    help="A key path and the values it takes (repeatable; the grid is every combination): "
    "--set announcement.delay=0,3,6,9 --set "
    "milestones.iraq-phase-1.target.reduce_by=300..900:100. Values in YAML flow "
    "syntax ({uniform: [0, 6]}) or ranges FROM..TO[:STEP]; one value holds the key there.",
)
@variant_option("Sweep only this variant (repeatable). Default: all.")
@draws_options("Draws per point (an ensemble per point).", "Seed, the same at every point.")
@out_option("out/<scenario id>-sweep/")
@scale_options
@quiet_option()
@friendly
def sweep(
    scenario: str | None,
    settings: tuple[str, ...],
    variants: tuple[str, ...],
    draws: int | None,
    seed: int | None,
    out_dir: str | None,
    chunk: int | None,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Run SCENARIO over a grid of values of one or more inputs.

    Each point of the grid is an ensemble with the same seed (common random
    numbers: neighbouring points differ only by the swept values), or the
    deterministic central run without --draws. Writes sweep.csv and
    sweep.parquet (a row per point, variant and outcome, a column per swept
    key), sweep.png (one swept key: lines; two: heat maps of the chance of
    meeting each deadline) and run.json.
    """
    import sim
    from sim.analysis.sweep import sweep as run_sweep
    from sim.cli import text
    from sim.errors import ScenarioError
    from sim.export import write_sweep
    from sim.io.settings import COMMAND_LINE, parse_axis
    from sim.plotting import use_agg

    draws_and_seed(draws, seed)
    cluster = executor(workers, scheduler)
    refuse_stray_value(settings, scenario)
    sc = sim.load_scenario(scenario or sim.default_scenario())
    names = sc.select(list(variants))
    axes = [parse_axis(t) for t in settings]
    keys = [k for k, _ in axes]
    for k in keys:
        if keys.count(k) > 1:
            raise ScenarioError(
                "each key in one --set", f"{k!r} {keys.count(k)} times", file=COMMAND_LINE, path=k
            )
    target = Path(out_dir) if out_dir else Path("out") / f"{sc.id}-sweep"
    sim.check_writable(target)
    hold(target)  # (until the command ends: one writer at a time)
    with cluster as pool:
        result = run_sweep(
            sc,
            [(k, [s.value for s in values]) for k, values in axes],
            names,
            draws,
            seed,
            labels=[[s.text for s in values] for _, values in axes],
            written=[[s.texts for s in values] for _, values in axes],
            chunk=chunk,
            progress=not quiet,
            executor=pool,
            origin=COMMAND_LINE,
        )
    use_agg()
    files = write_sweep(result, target, argv=command_line())
    if not quiet:
        for line in text.sweep_lines(result):
            click.echo(line)
    if not result.swept:  # (every key given one value: one point, a run's)
        click.echo(
            "forcesim: note: no key takes two or more values, so this sweep is one point "
            "and draws no sweep.png (sweep.csv has it; for a chart give a key several "
            "values, KEY=V1,V2 or KEY=FROM..TO, or use forcesim run --set KEY=VALUE)",
            err=True,
        )
    elif len(result.swept) > 2:
        click.echo(
            f"forcesim: note: sweep.png is drawn for one or two swept keys; this sweep has "
            f"{len(result.swept)} (sweep.csv has every point)",
            err=True,
        )
    if not any(f.name == "sweep.parquet" for f in files):
        click.echo(
            "forcesim: note: sweep.parquet is written when pyarrow is installed "
            "(pip install 'forcesim[parquet]'); sweep.csv has the same table",
            err=True,
        )
    say_written(target, files)


@main.command()
@click.argument("scenario", required=False, type=PathName(dir_okay=True))
@variant_option("Analyse only this variant (repeatable). Default: all.")
@draws_options("Draws of the ensemble (each tenth needs one).", "Seed (a whole number).", least=10)
@click.option(
    "--method",
    type=OneOf(["tenths", "sobol"]),
    default="tenths",
    show_default=True,
    help="tenths: each input's lowest and highest tenth of the draws (a tornado). "
    "sobol: first-order and total Sobol indices through SALib, from its own sample of "
    "N (inputs + 2) runs, N a power of two; the slower variance-based view.",
)
@out_option("out/<scenario id>-sensitivity/, or with --method sobol out/<scenario id>-sobol/")
@set_option(SET_HELP)
@scale_options
@quiet_option()
@friendly
def sensitivity(
    scenario: str | None,
    variants: tuple[str, ...],
    draws: int | None,
    seed: int | None,
    method: str,
    out_dir: str | None,
    chunk: int | None,
    settings: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Which uncertain input moves each outcome of SCENARIO, and how far.

    From the draws of one ensemble: each outcome (each milestone's p_met, each
    theater's mean level at each calendar deadline, each threshold's median
    month) over the draws with each uncertain input in its lowest and in its
    highest tenth, with the standard error of each swing. Writes sensitivity.csv
    (scenario,variant,input,outcome,low,high,swing,se,within_noise), tornado.png and
    run.json.
    """
    import sim
    from sim.analysis.sensitivity import SOBOL_BASE, power_of_two
    from sim.analysis.sensitivity import sensitivity as analyse
    from sim.cli import text
    from sim.export import write_sensitivity
    from sim.plotting import use_agg

    draws_and_seed(draws, seed, required=True)
    if method == "sobol" and (workers is not None or scheduler is not None):
        raise flag_error(
            "--workers" if workers is not None else "--scheduler",
            "--method tenths (the method run as tasks; sobol runs its own sample here)",
            written("--method", method),
        )
    if method == "sobol" and draws is not None and not power_of_two(draws):
        raise flag_error("--draws", SOBOL_BASE, repr(as_written("--draws")[1] or str(draws)))
    if method == "sobol":
        needs("SALib", "sensitivity", "--method", method)
    cluster = executor(workers, scheduler, draws)
    refuse_stray_value(settings, scenario)
    sc = sim.load_scenario(scenario or sim.default_scenario())
    names = sc.select(list(variants))
    sc = apply_settings(sc, settings, names)
    # (each method its own folder: a Sobol run replaced the tornado of the run before it)
    kind = "sobol" if method == "sobol" else "sensitivity"
    target = Path(out_dir) if out_dir else Path("out") / f"{sc.id}-{kind}"
    sim.check_writable(target)
    hold(target)  # (until the command ends: one writer at a time)
    with cluster as pool:
        try:
            result = analyse(
                sc,
                names,
                draws,
                seed,
                method=method,
                chunk=chunk,
                progress=not quiet,
                executor=pool,
            )
        except sim.ScenarioError as e:
            if (e.file, e.path) != ("<arguments>", "draws"):
                raise
            # a base sample size refused for this scenario: named as the flag it came from
            raise flag_error("--draws", e.expected, repr(e.found)) from None
    use_agg()
    files = write_sensitivity(result, target, argv=command_line())
    if not quiet:
        for line in text.sensitivity_lines(result):
            click.echo(line)
    say_written(target, files)
