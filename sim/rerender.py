"""Re-draw a run's charts from the files it wrote, without re-running."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.ensemble import BAND_COLUMNS, DATE_COLUMNS
from sim.errors import ScenarioError
from sim.loader import Locator, resolve_variants, validate_doc
from sim.output import current_umask
from sim.results import MILESTONE_COLUMNS, MONTHLY_COLUMNS, Result
from sim.scenario import Scenario
from sim.yamlio import Positions


def _csv(path: Path, periods: tuple[str, ...], columns: list[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            "a CSV written by forcesim run", str(exc).splitlines()[0], file=str(path), path="(file)"
        ) from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ScenarioError(
            "the columns " + ",".join(columns),
            "no column " + ", ".join(missing),
            file=str(path),
            path="(header)",
        )
    for col in periods:
        if col in df:
            df[col] = pd.PeriodIndex(df[col].astype(str), freq="M")
    for col in ("met",):
        if col in df:
            df[col] = df[col].astype(str).str.lower() == "true"
    return df


def load_run(run_dir: Path) -> Result:
    """A Result rebuilt from ``monthly.csv``, ``milestones.csv``, ``bands.csv`` and ``run.json``."""
    record_path = run_dir / "run.json"
    for name in ("run.json", "monthly.csv", "milestones.csv"):
        if not (run_dir / name).is_file():
            raise ScenarioError(
                f"a run directory holding {name}",
                "no such file",
                file=str(run_dir / name),
                path="(file)",
            )
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        raw = record["resolved"]["base"]
        variants = list(record["variants"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ScenarioError(
            "a run.json written by forcesim run",
            f"{type(exc).__name__}: {exc}",
            file=str(record_path),
            path="resolved",
        ) from None
    locator = Locator([])
    locator.layers.append(_layer(str(record_path)))
    doc = validate_doc(raw, locator, ("resolved", "base"))
    sc = Scenario(
        path=record.get("input", {}).get("path"),
        sha256=record.get("input", {}).get("sha256", ""),
        doc=doc,
        raw=raw,
        locator=locator,
        variants=resolve_variants(raw, doc, locator),
    )
    names = sc.select(variants)
    monthly = _csv(run_dir / "monthly.csv", ("month",), MONTHLY_COLUMNS)
    milestones = _csv(run_dir / "milestones.csv", ("deadline", "month_reached"), MILESTONE_COLUMNS)
    bands = dates = None
    ens = record.get("ensemble") or {}
    if (run_dir / "bands.csv").is_file():
        bands = _csv(run_dir / "bands.csv", ("month",), BAND_COLUMNS)
        dates = _csv(run_dir / "dates.csv", ("p10", "p50", "p80", "p90"), DATE_COLUMNS)
    result = Result(
        scenario=sc,
        variants=names,
        monthly=monthly,
        milestones=milestones,
        plans={v: sc.plan(v) for v in names},
        bands=bands,
        dates=dates,
        draws=ens.get("draws"),
        seed=ens.get("seed"),
    )
    if (run_dir / "observed.csv").is_file():  # the charts draw the observations again
        from sim.observed import from_observed_csv

        result.observed = from_observed_csv(run_dir / "observed.csv")
    return result


def _layer(name: str):  # type: ignore[no-untyped-def]
    from sim.loader import Layer

    return Layer(Positions(name))


def redraw(run_dir: Path, output: Path | None = None) -> list[Path]:
    """Write ``envelope.png`` (and ``fan.png`` for an ensemble) from a run directory."""
    from sim import plotting

    if not run_dir.is_dir():
        raise ScenarioError(
            "a run directory (from forcesim run)",
            "a file" if run_dir.exists() else "no such directory",
            file=str(run_dir),
            path="(file)",
        )
    result = load_run(run_dir)
    target = output or run_dir / "envelope.png"
    written = [target]
    _atomic_png(plotting.plot_envelope(result), target)
    if result.bands is not None and output is None:
        _atomic_png(plotting.plot_fan(result), run_dir / "fan.png")
        written.append(run_dir / "fan.png")
    return written


def _atomic_png(axes, target: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import tempfile

    from sim import plotting

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".png", dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())  # as a plain open() would make it
    try:
        plotting.save(axes, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
