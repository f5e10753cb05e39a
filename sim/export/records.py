"""What ``run.json`` records: the version, the command, the input files and
their hashes, the resolved scenario, its sources and settings."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from sim.months import format_month
from sim.provenance import used_sources


def base_record(scenario: Any, variants: list[str], argv: list[str] | None) -> dict[str, Any]:
    """What every ``run.json`` holds: version, command, time, input files and hashes,
    the resolved scenario and the sources and assumptions its variants use."""
    return {
        "forcesim_version": version("forcesim"),
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
        **_settings_record(scenario),
    }


def _settings_record(scenario: Any) -> dict[str, Any]:
    """``{"set": {key: value, ...}}`` for the values set by ``--set`` (or
    :meth:`sim.Scenario.with_settings`), in the order given; empty without any."""
    settings = getattr(scenario, "settings", ())
    return {"set": dict(settings)} if settings else {}


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
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for layer in scenario.locator.layers:
        name = layer.positions.file
        if name in seen or not Path(name).is_file():
            continue
        seen.add(name)
        out.append({"path": name, "sha256": hashlib.sha256(Path(name).read_bytes()).hexdigest()})
    return out


#: what ``formats`` of :func:`write_run` may hold: a table's file types
def observation_record(o: Any) -> dict[str, Any]:
    return {
        "date": o.date,
        "theater": o.theater,
        "troops_low": o.low,
        "troops_high": o.high,
        "source": o.source,
        "quote": o.quote,
        "kind": o.kind,
        "tolerance": None if o.tolerance is None else o.tolerance.record(),
        "by": None if o.by is None else format_month(o.by),
    }
