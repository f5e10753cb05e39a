"""Writing a run directory: CSV files, charts and ``run.json``, all or nothing.

Everything is written into a fresh temporary directory beside the target and
swapped in only when complete, so an interrupted or failed run leaves the
previous run's directory as it was, and a new run never leaves stale files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError


class OutputError(ScenarioError):
    """The output directory cannot be written (reported like any bad input)."""

    def __init__(self, target: Path, found: str) -> None:
        super().__init__("a writable output directory", found, file=str(target), path="--out")


def refuse_foreign(target: Path) -> None:
    """A run replaces its output directory whole: refuse one holding files that no
    forcesim run wrote (it has no ``run.json``), rather than delete them."""
    if target.is_dir() and not (target / "run.json").is_file():
        entries = [p.name for p in target.iterdir()]
        if entries:
            raise OutputError(
                target,
                f"a directory holding {len(entries)} files forcesim did not write "
                f"(e.g. {sorted(entries)[0]!r}); choose a new or empty directory",
            )


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target`` whole."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    refuse_foreign(target)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
        os.chmod(tmp, 0o777 & ~current_umask())  # as a plain mkdir would make it
    except OSError as exc:
        raise OutputError(target, f"cannot write to {parent}: {exc.strerror or exc}") from None
    try:
        yield tmp
        old = None
        if target.exists():
            if not target.is_dir():
                raise OutputError(target, "a file in its place (it is not a directory)")
            old = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            out[col] = out[col].astype(str)
        elif out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n", float_format="%.6g")


def base_record(scenario: Any, variants: list[str], argv: list[str] | None) -> dict[str, Any]:
    """What every ``run.json`` holds: version, command, time, input files and hashes,
    the resolved scenario and the sources and assumptions its variants use."""
    import numpy as np

    from sim import __version__
    from sim.provenance import used_sources

    return {
        "forcesim_version": __version__,
        "command": argv if argv is not None else sys.argv,
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input": {
            "path": scenario.path,
            "sha256": scenario.sha256,
            "files": _input_files(scenario),
        },
        "scenario": scenario.id,
        "variants": list(variants),
        "numpy_version": np.__version__,
        "resolved": {
            "base": scenario.resolved_raw(None),
            "variants": {v: scenario.resolved_raw(v) for v in variants},
        },
        "provenance": used_sources(scenario, list(variants)),
    }


def run_record(result: Any, argv: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """The ``run.json`` document of a run: :func:`base_record`, plus the ensemble and
    observations when there are any."""
    record = base_record(result.scenario, result.variants, argv)
    if result.draws:
        record["ensemble"] = {"draws": result.draws, "seed": result.seed, **result.extra}
    if getattr(result, "observed", None) is not None:
        record["observed"] = result.observed.record()
    record.update(extra)
    return record


def _input_files(scenario: Any) -> list[dict[str, str]]:
    """Every file the scenario was read from (itself and its extends chain), hashed."""
    import hashlib

    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for layer in scenario.locator.layers:
        name = layer.positions.file
        if name in seen or not Path(name).is_file():
            continue
        seen.add(name)
        out.append({"path": name, "sha256": hashlib.sha256(Path(name).read_bytes()).hexdigest()})
    return out


def write_json(data: Any, path: Path) -> None:
    path.write_text(
        json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def write_run(
    result: Any,
    out_dir: Path,
    *,
    argv: list[str] | None = None,
    chart: bool = True,
    extra_writers: list[Callable[[Path], None]] | None = None,
) -> list[Path]:
    """Write every file of a run into ``out_dir`` atomically; return their paths."""
    from sim import plotting

    with atomic_directory(out_dir) as tmp:
        write_csv(result.monthly, tmp / "monthly.csv")
        write_csv(result.milestones, tmp / "milestones.csv")
        if result.bands is not None:
            write_csv(result.bands, tmp / "bands.csv")
            write_csv(result.dates, tmp / "dates.csv")
        for writer in extra_writers or []:
            writer(tmp)
        if chart:
            plotting.save(plotting.plot_envelope(result), tmp / "envelope.png")
            if result.bands is not None:
                plotting.save(plotting.plot_fan(result), tmp / "fan.png")
        write_json(run_record(result, argv), tmp / "run.json")
        names = sorted(p.name for p in tmp.iterdir())
    return [out_dir / n for n in names]


def check_writable(out_dir: Path) -> None:
    """Fail early, before any work, when ``out_dir``'s parent cannot take a new directory."""
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(out_dir, f"cannot write to {probe}: permission denied")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(out_dir, "a file in its place (it is not a directory)")
    refuse_foreign(out_dir)


__all__ = ["OutputError", "atomic_directory", "check_writable", "write_csv", "write_run"]
