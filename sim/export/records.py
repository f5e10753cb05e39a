"""What ``run.json`` records: the version, the command, the input files and
their hashes, the resolved scenario, its sources and settings.

The scenario is recorded once, resolved (``resolved.base``, its ``variants`` with
their overrides); each variant as run is recorded as the JSON Patch (RFC 6902) that
turns ``resolved.base`` into it (``resolved.variant_patches``): a copy of the whole
scenario per variant made ``run.json`` grow with the scenario's size times its
variants (87 MB for a 954 kB scenario of 100 variants). Records written before hold
each variant whole (``resolved.variants``); :func:`resolved_variant` reads both."""

from __future__ import annotations

import copy
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
            "variant_patches": {
                v: json_patch(scenario.resolved_raw(None), scenario.resolved_raw(v))
                for v in variants
            },
        },
        "provenance": used_sources(scenario, list(variants)),
        **_settings_record(scenario),
    }


def json_patch(source: Any, target: Any) -> list[dict[str, Any]]:
    """The JSON Patch (RFC 6902) that turns ``source`` into ``target`` (plain JSON
    data): ``remove`` for a key only ``source`` has, ``add`` for one only ``target``
    has, ``replace`` for a value that differs (mappings compared key by key; a list or
    any other value replaced whole); ``[]`` when the two are equal."""
    ops: list[dict[str, Any]] = []
    _diff(source, target, "", ops)
    return ops


def _diff(source: Any, target: Any, at: str, ops: list[dict[str, Any]]) -> None:
    if isinstance(source, dict) and isinstance(target, dict):
        for key in source:
            if key not in target:
                ops.append({"op": "remove", "path": at + "/" + _escape(key)})
        for key, value in target.items():
            path = at + "/" + _escape(key)
            if key not in source:
                ops.append({"op": "add", "path": path, "value": value})
            else:
                _diff(source[key], value, path, ops)
    elif not _same(source, target):
        ops.append({"op": "replace", "path": at, "value": target})


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON text: ``1`` and ``True``, or ``1`` and ``1.0``, are not."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _escape(key: Any) -> str:
    """A mapping key as one JSON Pointer (RFC 6901) reference token."""
    return str(key).replace("~", "~0").replace("/", "~1")


def apply_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """``doc`` changed by the JSON Patch ``ops`` as :func:`json_patch` writes them
    (``add``, ``remove``, ``replace`` on mapping keys); ``doc`` itself is not changed.
    A KeyError or TypeError for a patch that does not fit ``doc``."""
    out = copy.deepcopy(doc)
    for op in ops:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
        if not tokens:
            if op["op"] != "replace":
                raise KeyError(op["path"])
            out = copy.deepcopy(op["value"])
            continue
        parent = out
        for token in tokens[:-1]:
            parent = parent[token]
        if not isinstance(parent, dict):
            raise TypeError(f"{op['path']}: not a key of a mapping")
        last = tokens[-1]
        if op["op"] in ("remove", "replace") and last not in parent:
            raise KeyError(op["path"])
        if op["op"] == "remove":
            del parent[last]
        elif op["op"] in ("add", "replace"):
            parent[last] = copy.deepcopy(op["value"])
        else:
            raise KeyError(f"{op['path']}: op {op['op']!r}")
    return out


def resolved_variant(record: dict[str, Any], name: str) -> dict[str, Any]:
    """Variant ``name`` as run, from a ``run.json`` record: ``resolved.base`` patched
    by ``resolved.variant_patches[name]``, or, in a record written before those,
    ``resolved.variants[name]`` (the variant whole). A KeyError for a variant the
    record does not hold."""
    resolved = record["resolved"]
    if "variant_patches" in resolved:
        result: dict[str, Any] = apply_patch(resolved["base"], resolved["variant_patches"][name])
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
