"""The frozen, validated scenario that everything after the loader works on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from sim.loader import BASE, Locator, deep_merge, resolve_variants, select_variants, validate_doc
from sim.plan import Plan, compile_plan
from sim.schema import ScenarioDoc


@dataclass(frozen=True)
class Scenario:
    """A validated scenario with every variant resolved.

    Attributes
    ----------
    path : str or None
        The file it was loaded from (None when built in code).
    sha256 : str
        Hash of that file's bytes.
    doc : ScenarioDoc
        The base document, after ``extends``.
    variants : Mapping[str, tuple]
        For each variant name: description, resolved document, raw data, locator.
    """

    path: str | None
    sha256: str
    doc: ScenarioDoc
    raw: dict[str, Any] = field(repr=False)
    locator: Locator = field(repr=False)
    variants: Mapping[str, tuple[str, ScenarioDoc, dict[str, Any], Locator]] = field(repr=False)

    @property
    def id(self) -> str:
        return self.doc.id

    @property
    def title(self) -> str:
        return self.doc.title

    @property
    def variant_names(self) -> list[str]:
        return list(self.variants)

    def describe(self, name: str) -> str:
        return self.variants[name][0]

    def resolved(self, name: str) -> ScenarioDoc:
        """The validated document of one variant."""
        return self.variants[select_variants(self.variants, [name], self.locator)[0]][1]

    def resolved_raw(self, name: str | None = None) -> dict[str, Any]:
        """The plain data of the base (``name=None``) or of one variant."""
        if name is None:
            return self.raw
        return self.variants[select_variants(self.variants, [name], self.locator)[0]][2]

    def plan(self, name: str) -> Plan:
        return compile_plan(self.resolved(name))

    def select(self, names: list[str] | tuple[str, ...] | None) -> list[str]:
        return select_variants(self.variants, names, self.locator)

    def to_yaml(self, name: str | None = None) -> str:
        """The resolved scenario (or one variant) as YAML text."""
        data = _plain(self.resolved_raw(name))
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def with_overrides(self, overrides: Mapping[str, Any], *, variant: str | None = None
                       ) -> Scenario:
        """A new scenario with ``overrides`` deep-merged onto the base, or onto one
        variant's overrides when ``variant`` names one (a new name adds a variant).

        Validated like a file: bad values raise :class:`sim.ScenarioError` naming
        the key path, with ``<overrides>`` as the file.
        """
        over = dict(overrides)
        if variant is None:
            raw = deep_merge(self.raw, over)
        else:
            current = self.raw.get("variants", {}).get(variant)
            entry = dict(current) if isinstance(current, dict) else {
                "description": over.pop("description", f"{variant} (set in code)")}
            entry["overrides"] = deep_merge(entry.get("overrides", {}), over)
            raw = deep_merge(self.raw, {"variants": {variant: entry}})
            if "description" in over:
                raw["variants"][variant]["description"] = over["description"]
                raw["variants"][variant]["overrides"].pop("description", None)
        locator = _CodeLocator(self.locator)
        doc = validate_doc(raw, locator)
        variants = resolve_variants(raw, doc, locator)
        return Scenario(path=self.path, sha256=self.sha256, doc=doc, raw=raw, locator=locator,
                        variants=variants)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{n}</code></td><td>{d[0]}</td></tr>"
                       for n, d in self.variants.items())
        return (f"<b>{self.title}</b> <code>{self.id}</code><br>"
                f"{self.doc.calendar.start} to {self.doc.calendar.end}, "
                f"theaters: {', '.join(self.doc.theaters)}<table>{rows}</table>")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


class _CodeLocator(Locator):
    """Points at the file for keys the file has, and at ``<overrides>`` for the rest."""

    def __init__(self, inner: Locator) -> None:
        super().__init__(list(inner.layers))

    def find(self, path: Any, *, key: bool = False) -> tuple[str, int, int]:
        for layer in self.layers:
            table = layer.positions.keys if key else layer.positions.values
            if layer.prefix + tuple(path) in table:
                return super().find(path, key=key)
        return "<overrides>", 1, 1

    def under(self, prefix: Any) -> Locator:
        return _CodeLocator(super().under(prefix))


BASE_NAME = BASE
