"""The ``forcesim`` command line: a few lines per command over the public API.

Heavy libraries (numpy, pandas, matplotlib, pydantic) are imported inside the
commands, so ``forcesim --help`` stays fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

EXIT_BAD_INPUT = 2


def fail(message: str) -> None:
    click.echo(f"forcesim: error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sim.errors import ScenarioError

        try:
            return func(*args, **kwargs)
        except ScenarioError as exc:
            fail(exc.one_line())
        except BrokenPipeError:  # the reader went away (| head): stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            fail(
                str(exc)
                if not exc.strerror
                else f"{exc.filename or ''}: {exc.strerror}".lstrip(": ")
            )
        except KeyboardInterrupt:
            click.echo("forcesim: interrupted; nothing was written", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug, not bad input: still one line, distinct exit code
            click.echo(
                f"forcesim: internal error: {type(exc).__name__}: {exc} "
                "(please report this with the scenario file)",
                err=True,
            )
            sys.exit(1)

    return wrapper


class _Forcesim(click.Group):
    """The command group; remembers the arguments it was invoked with, for run.json."""

    invoked: list[str] = []

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        _Forcesim.invoked = list(args) if args is not None else sys.argv[1:]
        return super().main(args, *rest, **kwargs)


def _command_line() -> list[str]:
    return ["forcesim", *_Forcesim.invoked]


@click.group(cls=_Forcesim, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="forcesim", prog_name="forcesim")
def main() -> None:
    """forcesim: force-level scenarios in, monthly troop projections and charts out.

    Start with `forcesim run` (the default scenario), then `forcesim list`.
    """


def _default(scenario: str | None) -> Path:
    from sim.paths import default_scenario

    return Path(scenario) if scenario else default_scenario()


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=True))
@click.option(
    "--variant",
    "-v",
    "variants",
    multiple=True,
    metavar="NAME",
    help="Run only this variant (repeatable). Default: all.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(),
    metavar="DIR",
    help="Output directory. Default: out/<scenario id>/",
)
@click.option("--draws", type=str, metavar="N", help="Monte Carlo draws for an ensemble.")
@click.option("--seed", type=str, metavar="S", help="Seed for the ensemble (a whole number).")
@click.option("--chunk", type=click.IntRange(1, 10_000_000), default=None, hidden=True)
@click.option(
    "--observed",
    metavar="FILE",
    type=click.Path(),
    help="Observed levels (CSV: date,theater,troops_low,troops_high,source,quote) "
    "to draw and score. Default: the scenario's own observations, if any.",
)
@click.option(
    "--condition",
    is_flag=True,
    help="With --draws: also summarise only the draws consistent with every "
    "observation (bands_conditioned.csv, fan_conditioned.png).",
)
@click.option(
    "--tolerance",
    metavar="T",
    help="How far outside an observed range still counts as consistent: a "
    "percentage of each bound (default 5%) or a number of troops.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
@friendly
def run(
    scenario: str | None,
    variants: tuple[str, ...],
    out_dir: str | None,
    draws: str | None,
    seed: str | None,
    chunk: int | None,
    observed: str | None,
    condition: bool,
    tolerance: str | None,
    quiet: bool,
) -> None:
    """Run SCENARIO (default: the shipped Iraq–Syria 2024 scenario)."""
    from sim.ensemble import parse_draws, parse_seed
    from sim.loader import load_scenario
    from sim.observed import attach, empty_message, for_run, score_observations, summary_lines
    from sim.output import check_writable, write_run
    from sim.report import print_summary
    from sim.runner import run as run_scenario

    n = parse_draws(draws, seed)
    s = parse_seed(seed, draws)
    sc = load_scenario(_default(scenario))
    target = Path(out_dir) if out_dir else Path("out") / sc.id
    check_writable(target)
    names = sc.select(list(variants))
    obs, tol = for_run(sc, observed, tolerance, condition, n)
    options: dict[str, Any] = {"progress": not quiet}
    if chunk:
        options["chunk"] = chunk
    # with observations to rank and no conditioning, the run keeps its counts: one pass
    keep = {"keep_counts": True} if obs is not None and n and not condition else {}
    result = run_scenario(sc, names, draws=n, seed=s, **options, **keep)
    writers = []
    if obs is not None:
        assessment = score_observations(result, obs, tol, condition=condition, **options)
        writers = attach(result, assessment)
    files = write_run(result, target, argv=_command_line(), extra_writers=writers)
    if not quiet:
        print_summary(result)
        if obs is not None:
            for line in summary_lines(assessment, names):
                click.echo(line)
    if obs is not None and (message := empty_message(assessment)):
        click.echo(f"forcesim: warning: {message}", err=True)
    click.echo(f"wrote {len(files)} files to {target}/: " + ", ".join(f.name for f in files))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=True))
@click.option(
    "--variant",
    "-v",
    "variants",
    multiple=True,
    metavar="NAME",
    help="Backtest only this variant (repeatable). Default: all.",
)
@click.option(
    "--observed",
    metavar="FILE",
    type=click.Path(),
    help="Observed levels (CSV). Default: the scenario's own observations.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(),
    metavar="DIR",
    help="Output directory. Default: out/<scenario id>-backtest/",
)
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
    from sim.backtest import run_backtest, write_backtest
    from sim.loader import load_scenario
    from sim.observed import load_observations
    from sim.output import check_writable

    sc = load_scenario(scenario)
    target = Path(out_dir) if out_dir else Path("out") / f"{sc.id}-backtest"
    check_writable(target)
    names = sc.select(list(variants))
    obs = load_observations(observed, sc) if observed else None
    bt = run_backtest(sc, obs, names)
    files = write_backtest(bt, target, argv=_command_line())
    lines = bt.summary_lines()
    for line in lines if not quiet else lines[-2:-1]:
        click.echo(line)
    click.echo(f"wrote {len(files)} files to {target}/: " + ", ".join(f.name for f in files))


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=True))
@click.option(
    "--variant",
    "-v",
    "variants",
    multiple=True,
    metavar="NAME",
    help="A, then B (exactly two): the charts show B minus A.",
)
@click.option("--draws", type=str, metavar="N", help="Number of paired Monte Carlo draws.")
@click.option("--seed", type=str, metavar="S", help="Seed (a whole number).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(),
    metavar="DIR",
    help="Output directory. Default: out/<scenario id>-compare-A-vs-B/",
)
@click.option("--chunk", type=click.IntRange(1, 10_000_000), default=None, hidden=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no table.")
@friendly
def compare(
    scenario: str | None,
    variants: tuple[str, ...],
    draws: str | None,
    seed: str | None,
    out_dir: str | None,
    chunk: int | None,
    quiet: bool,
) -> None:
    """Compare two variants of SCENARIO draw by draw (common random numbers).

    Writes compare.csv (the distribution of B - A and P(B > A) per theater and
    month), compare.png and run.json.
    """
    from sim.compare import compare as compare_variants
    from sim.compare import default_dir, write_compare
    from sim.ensemble import parse_draws, parse_seed
    from sim.errors import ScenarioError
    from sim.loader import load_scenario
    from sim.output import check_writable

    if len(variants) != 2:
        raise ScenarioError(
            "exactly two --variant NAME options (A, then B)",
            f"{len(variants)}" + (f" ({', '.join(variants)})" if variants else ""),
            file="<command line>",
            path="--variant",
        )
    n = parse_draws(draws, seed)
    s = parse_seed(seed, draws)
    if n is None or s is None:
        raise ScenarioError(
            "--draws N and --seed S (compare runs a paired ensemble)",
            "neither",
            file="<command line>",
            path="--draws",
        )
    sc = load_scenario(_default(scenario))
    a, b = variants
    sc.select([a, b])
    target = Path(out_dir) if out_dir else default_dir(sc.id, a, b)
    check_writable(target)
    options: dict[str, Any] = {"progress": not quiet}
    if chunk:
        options["chunk"] = chunk
    result = compare_variants(sc, a, b, n, s, **options)
    files = write_compare(result, target, argv=_command_line())
    if not quiet:
        for line in result.summary_lines():
            click.echo(line)
    click.echo(f"wrote {len(files)} files to {target}/: " + ", ".join(f.name for f in files))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail on any number that cites no source and states no assumption.",
)
def validate(files: tuple[str, ...], strict: bool) -> None:
    """Check scenario FILES; exit 0 when all are valid."""
    from sim.errors import ScenarioError
    from sim.loader import load_scenario
    from sim.provenance import provenance

    bad = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as exc:
            click.echo(f"forcesim: error: {exc.one_line()}", err=True)
            bad += 1
            continue
        unsupported = []
        if strict:
            for v in [None, *sc.doc.variants]:
                locator = sc.locator if v is None else sc.variants[v].locator
                unsupported += [(locator, p) for p in provenance(sc, v) if not p.supported]
        if unsupported:
            locator, first = unsupported[0]
            more = f" (and {len(unsupported) - 1} more)" if len(unsupported) > 1 else ""
            err = locator.error(
                tuple(first.path.split(".")),
                "a source or an assumption for every number (--strict)",
                f"{first.value} with neither{more}",
            )
            click.echo(f"forcesim: error: {err.one_line()}", err=True)
            bad += 1
        else:
            click.echo(f"{f}: ok ({sc.id}, {len(sc.variants)} variants)")
    if bad:
        sys.exit(EXIT_BAD_INPUT)


@main.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of scenario files, for editors."""
    from sim.provenance import json_schema

    click.echo(json_schema(), nl=False)


@main.command()
@click.argument("file", type=click.Path())
@click.option("--variant", "-v", metavar="NAME", help="List the numbers of this variant.")
@friendly
def sources(file: str, variant: str | None) -> None:
    """List every number in FILE with the source it cites or the assumption behind it."""
    from sim.loader import load_scenario
    from sim.provenance import provenance

    sc = load_scenario(file)
    if variant is not None:
        sc.select([variant])
    rows = provenance(sc, variant if variant in sc.doc.variants else None)
    for p in rows:
        click.echo(f"{p.path} = {p.value}")
        if p.kind == "source":
            click.echo(f"    source {p.source_id}: {p.title} ({p.date or 'undated'})")
            if p.quote:
                click.echo(f'    "{" ".join(p.quote.split())}"')
        elif p.kind in ("assumption", "variant"):
            click.echo(f"    assumption: {' '.join((p.assumption or '').split())}")
        else:
            click.echo("    UNSUPPORTED: cites no source and states no assumption")
    flagged = sum(not p.supported for p in rows)
    click.echo(
        f"{len(rows)} numbers: {sum(p.kind == 'source' for p in rows)} cite a source, "
        f"{sum(p.kind in ('assumption', 'variant') for p in rows)} rest on an assumption, "
        f"{flagged} unsupported"
    )


@main.command(name="list")
@click.argument("directory", required=False, type=click.Path())
@friendly
def list_(directory: str | None) -> None:
    """List the scenarios in DIRECTORY (default: the shipped ones), with their variants."""
    from sim.errors import ScenarioError
    from sim.loader import load_scenario
    from sim.paths import scenarios_dir

    root = Path(directory) if directory else scenarios_dir()
    if not root.is_dir():
        raise ScenarioError(
            "a directory of scenario files",
            "a file" if root.exists() else "no such directory",
            file=str(root),
            path="(directory)",
        )
    files = sorted(root.rglob("*.yaml")) + sorted(root.rglob("*.yml"))
    if not files:
        click.echo(f"no scenario files in {root}")
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as exc:
            click.echo(f"{f.relative_to(root)}  (invalid: {exc.one_line()})")
            continue
        click.echo(f"{f.relative_to(root)}  {sc.id}: {sc.title}")
        for name in sc.variants:
            click.echo(f"    {name:<20} {sc.describe(name)}")


@main.command()
@click.argument("file", type=click.Path())
@click.option("--variant", "-v", metavar="NAME", help="Show this variant resolved.")
@friendly
def show(file: str, variant: str | None) -> None:
    """Print FILE resolved (after extends and a variant's overrides) as YAML."""
    from sim.loader import load_scenario

    sc = load_scenario(file)
    click.echo(sc.to_yaml(variant), nl=False)


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option(
    "-o", "--output", type=click.Path(), help="PNG to write. Default: RUN_DIR/envelope.png"
)
@friendly
def plot(run_dir: str, output: str | None) -> None:
    """Re-draw the charts from a run directory's files, without re-running."""
    from sim.rerender import redraw

    written = redraw(Path(run_dir), Path(output) if output else None)
    click.echo("wrote " + ", ".join(str(p) for p in written))


if __name__ == "__main__":  # pragma: no cover
    main()
