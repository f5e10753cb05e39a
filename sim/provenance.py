"""Where every number of a resolved scenario comes from.

Each number is justified by (in order): a setting made for the run
(``--set``, :meth:`sim.Scenario.with_settings`), which replaces whatever the file
said of it; its own ``source`` or ``assumption`` (a number written as a mapping),
the ``source`` or ``assumption`` of the object that holds it (a milestone, the
announcement), or, for a number set by a variant's overrides, that variant's
description. A number with none of these is *unsupported*; ``forcesim validate
--strict`` fails on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.io.yamlio import MISSING, dotted, holds, value_at
from sim.months import spell_date
from sim.schema import JSON_SCHEMA_DIALECT, ScenarioDoc, Spec


@dataclass(frozen=True)
class Provenance:
    """One number of a scenario and what justifies it."""

    path: str
    value: str
    kind: str  # "source" | "assumption" | "variant" | "unsupported"
    source_id: str | None = None
    title: str | None = None
    date: str | None = None
    quote: str | None = None
    assumption: str | None = None
    publisher: str | None = None
    url: str | None = None
    seed: str | None = None

    @property
    def supported(self) -> bool:
        return self.kind != "unsupported"


def describe_quantity(q: Any) -> str:
    """A quantity in words: ``2500``, ``uniform [300, 900]``, ``choice [0, 12] with
    probability 0.4``."""
    if isinstance(q, Spec):
        for form in ("value", "uniform", "triangular"):
            v = getattr(q, form)
            if v is not None:
                text = f"{v}" if form == "value" else f"{form} {v}"
                break
        else:
            assert q.choice is not None
            text = f"choice {q.choice.values}"
        if q.probability is not None:
            text += f" with probability {q.probability}"
        return text
    return str(q)


def numbers(doc: ScenarioDoc) -> list[tuple[tuple[str | int, ...], Any, Any]]:
    """(key path, number, holder) for every number the model uses."""
    out: list[tuple[tuple[str | int, ...], Any, Any]] = []
    ann = doc.announcement
    out.append((("announcement", "expected"), ann.expected, ann))
    out.append((("announcement", "delay"), ann.delay, ann))
    for tid, t in doc.theaters.items():
        if t.initial is not None:
            out.append((("theaters", tid, "initial"), t.initial, None))
        if t.unreported is not None:
            out.append((("theaters", tid, "unreported"), t.unreported, None))
        for sid, s in t.sites.items():
            out.append((("theaters", tid, "sites", sid, "initial"), s.initial, None))
            if s.unreported is not None:
                out.append((("theaters", tid, "sites", sid, "unreported"), s.unreported, None))
    for mid, m in doc.milestones.items():
        dl = m.deadline
        if isinstance(dl, str):
            out.append((("milestones", mid, "deadline"), dl, m))
        elif hasattr(dl, "after_announcement"):
            out.append(
                (("milestones", mid, "deadline", "after_announcement"), dl.after_announcement, m)
            )
        else:
            out.append((("milestones", mid, "deadline", "months"), dl.months, m))
        kind = "level" if m.target.level is not None else "reduce_by"
        out.append((("milestones", mid, "target", kind), getattr(m.target, kind), m))
        if m.delay is not None:
            out.append((("milestones", mid, "delay"), m.delay, m))
    for rid, r in doc.residuals.items():
        out.append((("residuals", rid, "size"), r.size, r))
    return out


def _reaches(key: str, value: Any, number: str, raw: Any) -> bool:
    """Whether the setting of ``key`` to ``value`` set the number at the dotted path
    ``number`` of the variant's data ``raw`` (the setting made for it, and not undone
    there since): the number itself or a part of it (its ``uniform`` bounds) where
    ``raw`` holds what the setting set; or, for a mapping set above it, an entry the
    mapping gives (not one it left as it was), where ``raw`` holds that entry (a later
    setting inside the mapping takes that entry's place, not the mapping's others)."""
    if key == number or key.startswith(f"{number}."):
        return holds(value_at(raw, key.split(".")), value)
    if number.startswith(f"{key}."):
        given = value_at(value, number[len(key) + 1 :].split("."))
        return given is not MISSING and holds(value_at(raw, number.split(".")), given)
    return False


def provenance(scenario: Any, variant: str | None = None) -> list[Provenance]:
    """Every number of the base (or of one variant) with what justifies it."""
    doc: ScenarioDoc = scenario.doc if variant is None else scenario.resolved(variant)
    sources = {s.id: s for s in doc.sources}
    overrides: dict[str, Any] = {}
    description = ""
    if variant is not None and variant in scenario.doc.variants:
        overrides = scenario.doc.variants[variant].overrides
        description = scenario.doc.variants[variant].description
    out: list[Provenance] = []
    # a number that a setting of the run reached (the setting's value is where it was
    # set, in this variant's data: a setting made for some variants only, or undone by a
    # later one, reaches no other) rests on that setting
    raw = scenario.resolved_raw(variant if variant in scenario.doc.variants else None)
    settings = [(str(k), v) for k, v in getattr(scenario, "settings", ())]
    for path, value, holder in numbers(doc):
        text = describe_quantity(value)
        key = dotted(path)
        reached = [(k, v) for k, v in settings if _reaches(k, v, key, raw)]
        if reached:
            said = "; ".join(f"{k} = {json.dumps(v, default=str)}" for k, v in reached)
            out.append(Provenance(key, text, "assumption", assumption=f"set for this run: {said}"))
            continue
        own = value if isinstance(value, Spec) else None
        cite, assumption, quote = None, None, None
        for obj in (own, holder):
            if obj is None:
                continue
            cite = cite or getattr(obj, "source", None)
            assumption = assumption or getattr(obj, "assumption", None)
            quote = quote or getattr(obj, "quote", None)
            if cite or assumption:
                break
        set_here = value_at(overrides, [str(part) for part in path]) is not MISSING
        if (own is None or not (own.source or own.assumption)) and set_here:
            out.append(
                Provenance(
                    dotted(path), text, "variant", assumption=f"variant {variant}: {description}"
                )
            )
        elif cite and cite in sources:
            s = sources[cite]
            out.append(
                Provenance(
                    dotted(path),
                    text,
                    "source",
                    cite,
                    s.title,
                    str(s.date) if s.date else None,
                    quote or s.quote,
                    publisher=s.publisher,
                    url=s.url,
                    seed=s.seed,
                )
            )
        elif assumption:
            out.append(Provenance(dotted(path), text, "assumption", assumption=assumption))
        else:
            out.append(Provenance(dotted(path), text, "unsupported"))
    return out


def used_sources(scenario: Any, variants: list[str]) -> dict[str, Any]:
    """What run.json records: the sources the run cited and the assumptions it made."""
    cited: dict[str, dict[str, Any]] = {}
    assumptions: dict[str, str] = {}
    unsupported: list[str] = []
    for v in variants:
        for p in provenance(scenario, v if v in scenario.doc.variants else None):
            key = f"{v}:{p.path}"
            if p.kind == "source" and p.source_id:
                cited.setdefault(p.source_id, {"title": p.title, "date": p.date})
            elif p.kind in ("assumption", "variant"):
                assumptions[key] = p.assumption or ""
            else:
                unsupported.append(key)
    return {"sources": cited, "assumptions": assumptions, "unsupported": unsupported}


def number_sources(scenario: Any, variants: list[str]) -> tuple[list[str], int]:
    """The scenario's sources that some number of ``variants`` cites, in the file's order,
    each as ``PUBLISHER (DATE)`` (its title without a publisher; the date as the charts
    write it, ``6 Sep 2024``), and how many other sources it lists (those of its
    reports, say, which may be dated after the scenario's as-of date): a chart's
    footnote and the page's captions name the first, count the others."""
    cited = set(used_sources(scenario, variants)["sources"])
    first = [s for s in scenario.doc.sources if s.id in cited]
    names = [
        f"{s.publisher or s.title} ({spell_date(s.date)})" if s.date else s.publisher or s.title
        for s in first
    ]
    return names, len(scenario.doc.sources) - len(first)


def report_publishers(sources: Iterable[Any], observations: Sequence[Any]) -> list[tuple[str, int]]:
    """The outlets of the reports ``observations`` cite (each report's ``source``, an id
    among ``sources``), each with how many reports it has, most first (in the reports'
    order where equal); reports citing none of ``sources``, left out. An outlet is its
    source's ``publisher`` up to the first comma, parenthesis or " via " (a source with no
    publisher: its whole title):
    the publishers the shipped records write name the outlet first ("Shafaq News,
    carrying Reuters' reporting", "Reuters (Idrees Ali) via Dawn"). A chart of reports
    credits them (:func:`reports_credit`)."""
    by_id = {s.id: s for s in sources}
    counts: dict[str, int] = {}
    for o in observations:
        source = by_id.get(o.source) if o.source else None
        if source is not None:
            # (a title names no outlet: it is kept whole, not cut at its comma)
            name = outlet(source.publisher) if source.publisher else source.title
            counts[name] = counts.get(name, 0) + 1
    order = {name: i for i, name in enumerate(counts)}
    return sorted(counts.items(), key=lambda item: (-item[1], order[item[0]]))


def outlet(publisher: str) -> str:
    """The outlet a ``publisher`` text names first: up to its first comma, parenthesis or
    " via " (``"AFP via Hurriyet Daily News"``: ``"AFP"``), the whole text where that
    leaves nothing."""
    head = re.split(r",|\(| via ", publisher, maxsplit=1)[0].strip()
    return head or publisher.strip()


def reports_credit(sources: Iterable[Any], observations: Sequence[Any], shown: int = 2) -> str:
    """A chart footer's credit of the reports drawn (:func:`report_publishers`): ``"from
    22 outlets, most often Shafaq News (13) and Reuters (7)"`` (of the ``shown`` with the
    most reports, those with more than one), ``"from Shafaq News"`` for one outlet; empty
    when no report cites one of ``sources``."""
    publishers = report_publishers(sources, observations)
    if not publishers:
        return ""
    if len(publishers) == 1:
        return f"from {publishers[0][0]}"
    top = [f"{name} ({n:,})" for name, n in publishers[:shown] if n > 1]
    if not top:  # (one report each: none is "most often")
        return f"from {len(publishers):,} outlets"
    named = top[0] if len(top) == 1 else ", ".join(top[:-1]) + " and " + top[-1]
    return f"from {len(publishers):,} outlets, most often {named}"


def assumption_count(scenario: Any, variants: list[str], kinds: tuple[str, ...] = ()) -> int:
    """How many distinct inputs (a key path with its value) of ``variants`` rest on an
    assumption rather than a source (a variant's own value included); with ``kinds``,
    those of these :attr:`Provenance.kind` instead (``("unsupported",)``: those with
    neither a source nor an assumption)."""
    kinds = kinds or ("assumption", "variant")
    seen: set[str] = set()
    for v in variants:
        for p in provenance(scenario, v if v in scenario.doc.variants else None):
            if p.kind in kinds:
                seen.add(f"{p.path}={p.value}")
    return len(seen)


def json_schema() -> str:
    """The JSON Schema (draft 2020-12) of scenario files, from :mod:`sim.schema`.

    It accepts every file as written, a file with ``extends`` included: such a file
    holds only what it adds to or changes in the file it extends, so for it no key
    is required and any key may be ``null`` (which deletes it). A file without
    ``extends`` must hold every required key. Rules that need the whole document
    (:mod:`sim.checks`) are beyond a JSON Schema; ``forcesim validate`` applies them.
    """
    full = ScenarioDoc.model_json_schema(by_alias=True, mode="validation")
    defs = full.pop("$defs", {})
    full["title"] = "forcesim scenario"
    partial = _partial(full)
    partial["title"] = "forcesim scenario extending another (only what it changes)"
    schema = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "forcesim scenario",
        "description": full.get("description", ""),
        "$defs": {
            **defs,
            **{f"{name}{_PARTIAL}": _partial(d) for name, d in defs.items()},
            "ScenarioFile": full,
            "ScenarioFileExtending": partial,
        },
        "if": {"type": "object", "required": ["extends"]},
        "then": {"$ref": "#/$defs/ScenarioFileExtending"},
        "else": {"$ref": "#/$defs/ScenarioFile"},
    }
    return json.dumps(schema, indent=2, sort_keys=False) + "\n"


_PARTIAL = "Partial"


def _partial(node: Any) -> Any:
    """A JSON Schema node for a file that only changes what it extends: no required
    keys, ``null`` allowed for every key (it deletes), references to partial defs."""
    if isinstance(node, list):
        return [_partial(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required":
            continue
        if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = value + _PARTIAL
        elif key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {k: {"anyOf": [_partial(v), {"type": "null"}]} for k, v in value.items()}
        elif key in ("minProperties", "minItems"):
            continue
        else:
            out[key] = _partial(value)
    return out
