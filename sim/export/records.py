"""What ``run.json`` records: the version, the command, the input files and
their hashes, the resolved scenario, its sources and settings.

The scenario is recorded once, resolved (``resolved.base``, its ``variants`` with
their overrides); each variant as run is recorded as the JSON Patch (RFC 6902, made
and applied by the ``jsonpatch`` library, which tells ``1`` from ``1.0`` and ``True``)
that turns ``resolved.base`` into it (``resolved.variant_patches``): a copy of the whole
scenario per variant made ``run.json`` grow with the scenario's size times its
variants (87 MB for a 954 kB scenario of 100 variants). Records written before hold
each variant whole (``resolved.variants``); :func:`resolved_variant` reads both."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonpatch
import numpy as np

from sim.months import format_month
from sim.provenance import used_sources


def base_record(scenario: Any, variants: list[str], argv: list[str] | None) -> dict[str, Any]:
    """What every ``run.json`` holds: version, command, time, input files and hashes,
    the resolved scenario and the sources and assumptions its variants use."""
    base = scenario.resolved_raw(None)
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
            "base": base,
            "variant_patches": {
                v: jsonpatch.make_patch(base, scenario.resolved_raw(v)).patch for v in variants
            },
        },
        "provenance": used_sources(scenario, list(variants)),
        **_settings_record(scenario),
    }


def resolved_variant(record: dict[str, Any], name: str) -> dict[str, Any]:
    """Variant ``name`` as run, from a ``run.json`` record: ``resolved.base`` patched
    by ``resolved.variant_patches[name]``, or, in a record written before those,
    ``resolved.variants[name]`` (the variant whole). A KeyError for a variant the
    record does not hold."""
    resolved = record["resolved"]
    if "variant_patches" in resolved:
        result: dict[str, Any] = jsonpatch.apply_patch(
            resolved["base"], resolved["variant_patches"][name]
        )
        return result
    whole: dict[str, Any] = resolved["variants"][name]
    return whole


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
