"""The commands about files: ``validate``, ``schema``, ``sources``, ``list``, ``show``,
``plot`` and ``report``."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from sim.cli import EXIT_BAD_INPUT, friendly, hold, main, on_command_line
from sim.cli.params import OneOf, PathName, needs, variant_option
from sim.errors import printable


@main.command()
@click.argument("files", nargs=-1, required=True, type=PathName())
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail on any number that cites no source and states no assumption, on any "
    "input no run uses, and on an entry a variant adds under a name a slip of typing from "
    "the base's; every such problem is listed.",
)
@friendly
def validate(files: tuple[str, ...], strict: bool) -> None:
    """Check scenario FILES; exit 0 when all are valid.

    Prints one line per file: ok, or the error. Inputs no run uses, and entries a
    variant adds under a misspelt-looking name, are warnings (errors with --strict).
    """
    import warnings

    from sim.errors import ForcesimWarning, ScenarioError, printable
    from sim.scenario import load_scenario

    bad = 0
    for f in files:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ForcesimWarning)  # kept on sc.warnings
            try:
                sc = load_scenario(f)
            except ScenarioError as exc:
                click.echo(f"forcesim: error: {on_command_line(exc).one_line()}", err=True)
                bad += 1
                continue
        problems = _strict_problems(sc) if strict else []
        if not strict:
            for w in sc.warnings:
                click.echo(f"forcesim: warning: {w.one_line()}", err=True)
        for line in problems:
            click.echo(f"forcesim: error: {line}", err=True)
        if problems:
            bad += 1
        else:
            n = len(sc.variants)
            click.echo(f"{printable(f)}: ok ({sc.id}, {n} variant{'' if n == 1 else 's'})")
    if bad:
        sys.exit(EXIT_BAD_INPUT)


def _may_become_a_run(folder: Path) -> bool:
    """Whether a run could be being written into ``folder`` (an -o file's folder): it is
    not there yet, or empty. A file put there first would make that run refuse the
    folder at its end, so the two are kept apart by the folder's lock; a folder holding
    files is no run's to take whole (and another run's is refused), so plots and pages
    written side by side into one folder do not lock each other out."""
    import os

    folder = folder if str(folder) else Path(".")
    if not folder.exists():
        return True
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is None
    except OSError:
        return False


def _hold_both(run_dir: str, output: str | None) -> None:
    """Hold, until the command ends, the run directory drawn from (a run replacing it
    meanwhile would mix two runs) and the folder of ``-o`` when a run could be being
    written there (it would refuse the folder for the file put in it)."""
    hold(run_dir, "RUN_DIR")
    if output and _may_become_a_run(Path(output).parent):
        hold(Path(output).parent, "-o")


def _strict_problems(sc: Any) -> list[str]:
    """Every problem ``--strict`` finds in a loaded scenario, one line each: numbers with
    neither source nor assumption (each once, where it is written), then the warnings:
    inputs no run uses, and entries a variant adds under a misspelt-looking name."""
    from sim.errors import ScenarioError
    from sim.loader import in_overrides
    from sim.provenance import provenance

    lines: list[str] = []
    seen: set[tuple[Any, ...]] = set()
    for v in [None, *sc.doc.variants]:
        locator = sc.locator if v is None else sc.variants[v].locator
        for p in provenance(sc, v):
            if p.supported:
                continue
            path = tuple(p.path.split("."))
            err = locator.error(
                path,
                "a source or an assumption for every number (--strict)",
                f"{p.value} with neither"
                if locator.holds(path)
                else f"{path[-1]} not written ({p.value} by default) with neither",
            )
            where = (err.file, err.line, err.col, err.path)
            if where in seen:
                continue
            seen.add(where)
            if v is not None:
                err = in_overrides(err, v, sc.locator)
            lines.append(err.one_line())
    for w in sc.warnings:
        if w.heading == "not used":
            expected, found = "every input used by some run (--strict)", w.why
        else:  # (a new entry: quoted by its name, the why in what was expected)
            expected = (
                "no entry a variant adds under a name a slip of typing from the base's "
                f"(--strict: {w.why})"
            )
            found = repr(w.path.rsplit(".", 1)[-1])
        lines.append(
            ScenarioError(
                expected,
                found,
                file=w.file,
                line=w.line,
                col=w.col,
                path=w.path,
            ).one_line()
        )
    return lines


@main.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of scenario files, for editors."""
    from sim.provenance import json_schema

    click.echo(json_schema(), nl=False)


@main.command()
@click.argument("file", required=False, type=PathName())
@variant_option("List the numbers of this variant.")
@friendly
def sources(file: str | None, variants: tuple[str, ...]) -> None:
    """List every number in FILE (default: the shipped Iraq–Syria 2024 scenario) with
    the source it cites or the assumption behind it: the scenario's own, then each
    variant's changes (or one variant's numbers, with --variant)."""
    from sim.paths import default_scenario
    from sim.provenance import assumption_count, provenance
    from sim.scenario import load_scenario

    variant = _one_variant(variants)

    sc = load_scenario(file or default_scenario())
    if variant is not None:
        sc.select([variant])
    rows = provenance(sc, variant if variant in sc.doc.variants else None)
    for p in rows:
        _echo_number(p)
    flagged = sum(not p.supported for p in rows)
    # (whose numbers: the charts' footers count every variant's, the last line below)
    whose = (
        f"variant {variant}: "
        if variant is not None
        else "the scenario before its variants' changes: "
        if sc.doc.variants
        else ""
    )
    click.echo(
        f"{whose}{len(rows)} numbers: {sum(p.kind == 'source' for p in rows)} cite a source, "
        f"{sum(p.kind in ('assumption', 'variant') for p in rows)} rest on an assumption, "
        f"{flagged} unsupported"
    )
    if variant is not None or not sc.doc.variants:
        return
    base = {(p.path, str(p.value)) for p in rows}
    for name in sc.variant_names:  # what each variant changes, as charts count them
        own = [p for p in provenance(sc, name) if (p.path, str(p.value)) not in base]
        if own:
            click.echo(f"variant {name} changes:")
            for p in own:
                _echo_number(p, "  ")
    names = list(sc.variant_names)
    bare = assumption_count(sc, names, ("unsupported",))
    click.echo(
        f"across the {len(names)} variants, {assumption_count(sc, names)} distinct inputs rest "
        "on an assumption"
        + (f" and {bare} on neither a source nor an assumption" if bare else "")
        + " (as the charts' footers count them)"
    )


def _echo_number(p: Any, indent: str = "") -> None:
    """One number of :func:`sources`, with its source or assumption below it."""
    click.echo(f"{indent}{p.path} = {p.value}")
    if p.kind == "source":
        by = f"{p.publisher}, " if p.publisher else ""
        click.echo(f"{indent}    source {p.source_id}: {p.title} ({by}{p.date or 'undated'})")
        if p.url:
            click.echo(f"{indent}    {p.url}")
        else:
            click.echo(f"{indent}    no public address given")
        if p.quote:
            click.echo(f'{indent}    "{" ".join(p.quote.split())}"')
    elif p.kind in ("assumption", "variant"):
        click.echo(f"{indent}    assumption: {' '.join((p.assumption or '').split())}")
    else:
        click.echo(f"{indent}    UNSUPPORTED: cites no source and states no assumption")


def _as_passed(file: Path, root: Path, directory: str | None) -> str:
    """The path of a listed *file* as ``run``, ``show`` or ``sources`` take it from here.

    Under a DIRECTORY the user named, the file is shown below that name as it
    was written (``scenarios/historical/iraq-2008.yaml``); the shipped ones are
    shown relative to the working directory when they are under it (a
    checkout), else in full (an installed wheel).
    """
    if directory is not None:
        return str(Path(directory) / file.relative_to(root))
    try:
        return str(file.relative_to(Path.cwd()))
    except (ValueError, FileNotFoundError):  # (not under it; a working directory deleted)
        return str(file)


@main.command(name="list")
@click.argument("directory", required=False, type=PathName())
@friendly
def list_(directory: str | None) -> None:
    """List the scenarios in DIRECTORY (default: the shipped ones) and the folders below
    it, with their variants: every .yaml or .yml file (in any case), but none hidden
    or in a hidden folder (.git, an editor's .#lock)."""
    from sim.errors import ScenarioError, printable
    from sim.io.files import not_a_directory
    from sim.paths import is_scenario_name, scenarios_dir
    from sim.scenario import load_scenario

    root = Path(directory) if directory else scenarios_dir()
    if not root.is_dir():
        raise ScenarioError.absent(
            "a directory of scenario files",
            not_a_directory(root),
            file=str(root),
            path="(directory)",
        )
    files = sorted(
        f
        for f in root.rglob("*")
        if is_scenario_name(f)  # (a folder or pipe by such a name is listed as invalid)
        and not any(part.startswith(".") for part in f.relative_to(root).parts)
    )
    if not files:
        click.echo(f"no scenario files in {root}")
    for f in files:
        shown = printable(_as_passed(f, root, directory))
        try:
            sc = load_scenario(f)
        except ScenarioError as exc:
            click.echo(f"{shown}  (invalid: {exc.one_line()})")
            continue
        click.echo(f"{shown}  {sc.id}: {sc.title}")
        for name in sc.variants:
            click.echo(f"    {name:<20} {sc.describe(name)}")


@main.command()
@click.argument("file", required=False, type=PathName())
@variant_option("Show this variant resolved.")
@friendly
def show(file: str | None, variants: tuple[str, ...]) -> None:
    """Print FILE (default: the shipped Iraq–Syria 2024 scenario) resolved, after
    extends and a variant's overrides, as YAML."""
    from sim.paths import default_scenario
    from sim.scenario import load_scenario

    name = _one_variant(variants)
    sc = load_scenario(file or default_scenario())
    click.echo(sc.to_yaml(name), nl=False)


def _one_variant(given: tuple[str, ...]) -> str | None:
    """The one ``--variant`` of a command that shows one (None when not given); two
    are refused (click kept the last without a word)."""
    from sim.cli.params import flag_error

    if len(given) > 1:
        raise flag_error(
            "--variant",
            "one --variant NAME (this command shows one variant)",
            ", ".join(repr(v) for v in given),
        )
    return given[0] if given else None


@main.command()
@click.argument("run_dir", type=PathName())
@click.option(
    "-o",
    "--output",
    type=PathName(),
    help="Write one chart to this file instead (.png, .pdf or .svg: the extension picks "
    "the format).",
)
@click.option(
    "--chart",
    type=OneOf(["envelope", "fan", "fan_conditioned", "compare", "backtest"]),
    help="Draw only this chart. Default: every chart RUN_DIR's files hold "
    "(with -o, the first of them).",
)
@click.option(
    "--theater",
    "theaters",
    metavar="ID",
    multiple=True,
    help="Draw only this theater's panels, or a site's as THEATER/SITE (iraq/erbil); "
    "repeatable, drawn in the order given. Default: every theater, each followed by "
    "its sites.",
)
@variant_option(
    "Of a run's directory, draw only this variant (repeatable), in the order given, "
    "each in its colour. Default: every variant."
)
@click.option(
    "--column",
    is_flag=True,
    help="Of a run's directory, lay each chart out for a newspaper column 600 px wide "
    "(written 1200 px wide, for sharp screens), beside the run's own charts as "
    "envelope-column.png, fan-column.png... (or to -o): theaters stacked, at most four "
    "panels; the fan shows the first variant unless --variant is given.",
)
@friendly
def plot(
    run_dir: str,
    output: str | None,
    chart: str | None,
    theaters: tuple[str, ...],
    variants: tuple[str, ...],
    column: bool,
) -> None:
    """Re-draw every chart of RUN_DIR (from forcesim run, compare or backtest) from its
    files, without re-running.

    With --theater or --variant and no -o, RUN_DIR's charts are redrawn with only
    those; forcesim plot RUN_DIR draws them whole again. With --column, the charts
    are drawn for an article's column, beside the run's own, which stay as they are.
    """
    from sim.export import redraw
    from sim.plotting import use_agg

    use_agg()
    _hold_both(run_dir, output)
    written = redraw(Path(run_dir), output or None, chart, theaters, variants, column=column)
    shown = ""
    picked = [*dict.fromkeys(variants), *dict.fromkeys(theaters)]
    if picked:  # (only those: the run's own charts, unless -o or --column, now partial)
        shown = f" (only {', '.join(printable(t) for t in picked)}"
        if not output:
            them = "them" if len(written) > 1 else "it"
            again = " --column" if column else ""
            shown += f"; forcesim plot {_pasteable(str(run_dir))}{again} draws {them} whole again"
        shown += ")"
    click.echo("wrote " + ", ".join(printable(str(p)) for p in written) + shown)


@main.command()
@click.argument("run_dir", type=PathName())
@click.option(
    "-o",
    "--output",
    type=PathName(),
    metavar="FILE",
    help="HTML file to write. Default: RUN_DIR/report.html (with --variant or --theater "
    "too: the page of the whole run there is replaced).",
)
@variant_option("Show only this variant (repeatable), in the order given. Default: every variant.")
@click.option(
    "--theater",
    "theaters",
    metavar="ID",
    multiple=True,
    help="Show only this theater, or a site as THEATER/SITE (iraq/erbil); repeatable, "
    "in the order given. Default: every theater, each followed by its sites.",
)
@friendly
def report(
    run_dir: str, output: str | None, variants: tuple[str, ...], theaters: tuple[str, ...]
) -> None:
    """Write one self-contained interactive page to share, from a run directory.

    The page (report.html) holds the charts (hover for the numbers), the milestone,
    threshold-date and observation tables, every source and assumption, and the
    scenario as run; it opens offline in any browser. Works on earlier runs too.

    With --variant or --theater, the charts and tables show only those, and the page
    says what it leaves out; forcesim report RUN_DIR makes the whole page again.
    """
    import sim

    needs("plotly", "report", "report")
    _hold_both(run_dir, output)
    variants, theaters = tuple(dict.fromkeys(variants)), tuple(dict.fromkeys(theaters))
    path = sim.write_report(
        Path(run_dir),
        output or None,  # (as typed: 'adir/' is quoted with its /)
        variants=list(variants) or None,
        theaters=list(theaters) or None,
    )
    chosen = [f"variants {', '.join(variants)}"] if variants else []
    chosen += [f"theaters {', '.join(theaters)}"] if theaters else []
    shown = f"; only {' and '.join(chosen)}" if chosen else ""
    whole = Path(run_dir, "report.html")  # (it replaced the page of the whole run, if any)
    if chosen and (not output or (whole.exists() and path.samefile(whole))):
        shown += (
            # (quoted to paste where the name prints; escaped, as every name, where not)
            f"; forcesim report {_pasteable(str(run_dir))} makes the whole page again"
        )
    click.echo(f"wrote {printable(str(path))} ({path.stat().st_size:,} bytes{shown})")


def _pasteable(name: str) -> str:
    """``name`` quoted for a shell where it prints, else escaped (:func:`printable`)."""
    return shlex.quote(name) if name.isprintable() else printable(name)
