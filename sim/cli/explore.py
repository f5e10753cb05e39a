"""The commands that explore what drives the outcome: ``sweep`` and ``sensitivity``."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli import command_line, friendly, main
from sim.cli.params import DRAWS, SEED, draws_and_seed, executor, scale_options


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=True))
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
@click.option(
    "--variant",
    "-v",
    "variants",
    multiple=True,
    metavar="NAME",
    help="Sweep only this variant (repeatable). Default: all.",
)
@click.option("--draws", type=DRAWS, metavar="N", help="Draws per point (an ensemble per point).")
@click.option("--seed", type=SEED, metavar="S", help="Seed, the same at every point.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(),
    metavar="DIR",
    help="Output directory. Default: out/<scenario id>-sweep/",
)
@click.option("--chunk", type=click.IntRange(1, 10_000_000), default=None, hidden=True)
@scale_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
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
    with cluster as pool:
        result = run_sweep(
            sc,
            [(k, [s.value for s in values]) for k, values in axes],
            names,
            draws,
            seed,
            labels=[[s.text for s in values] for _, values in axes],
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
    if len(result.swept) not in (1, 2):
        click.echo(
            f"forcesim: note: sweep.png is drawn for one or two swept keys; this sweep has "
            f"{len(result.swept)} (sweep.csv has every point)",
            err=True,
        )
    click.echo(f"wrote {len(files)} files to {target}/: " + ", ".join(f.name for f in files))
