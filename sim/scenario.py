"""The frozen, validated scenario that everything after the loader works on."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import decimal
import fractions
import sys
import warnings as _warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.checks import typed_apart
from sim.errors import ScenarioError, ScenarioWarning, describe, nearest
from sim.io.files import path_argument
from sim.io.observation_csv import read_observations
from sim.io.observations import ObservationSet
from sim.io.settings import NO_OP_MAPPING
from sim.io.yamlio import MAX_DEPTH, MISSING, holds, plain_is_text, text_fault, value_at
from sim.loader import (
    EMPTY_LIST,
    EMPTY_SOURCES,
    ENTRY_KINDS,
    SCENARIO_OWN,
    Locator,
    Resolved,
    check_scenario_observations,
    deep_merge,
    empty_merge,
    empty_sources,
    read_with_extends,
    resolve_variants,
    select_variants,
    sha256_of,
    states_number,
    unused_in,
    validate_doc,
)
from sim.model.plan import Plan
from sim.schema import NUMBER_FORMS, ScenarioDoc, number_at


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
    variants : Mapping[str, sim.loader.Resolved]
        For each variant name: description, resolved document, raw data, locator, plan.
    settings : tuple of (str, object)
        The values set by key path on top of the variants (:meth:`with_settings`,
        ``--set``), in the order given; ``run.json`` records them.
    warnings : tuple of sim.ScenarioWarning
        Inputs no run uses, and entries a variant adds under a name a slip of typing
        from the base's (each also given as a Python warning when loaded).
    """

    path: str | None
    sha256: str
    doc: ScenarioDoc
    raw: dict[str, Any] = field(repr=False)
    locator: Locator = field(repr=False)
    variants: Mapping[str, Resolved] = field(repr=False)
    settings: tuple[tuple[str, Any], ...] = ()
    warnings: tuple[ScenarioWarning, ...] = field(default=(), repr=False)

    @property
    def id(self) -> str:
        """The scenario's ``id``."""
        return self.doc.id

    def settings_text(self, most: int = 90) -> str:
        """The values set on top of the variants (:attr:`settings`), as a reader of a
        chart or table needs them said, ``key=value`` each (``announcement.delay=3``,
        ``theaters.iraq.initial={uniform: [2000, 3000]}``), at most ``most`` characters
        (cut with ``…``); ``""`` when nothing was set. A variant named for a value of
        the file (``on-time``) runs with these values instead."""
        text = ", ".join(f"{key}={_flow(value)}" for key, value in self.settings)
        return text if len(text) <= most else text[: most - 1] + "…"

    def run_with(self, most: int = 90) -> str:
        """``"run with announcement.delay=9 set"``: what a chart or page says of every
        variant when values are set on top of them (:meth:`settings_text`, at most
        ``most`` characters of them); ``""`` when nothing was set."""
        settings = self.settings_text(most)
        return f"run with {settings} set" if settings else ""

    @property
    def title(self) -> str:
        """The scenario's ``title``."""
        return self.doc.title

    @property
    def as_of_day(self) -> dt.date:
        """The scenario's ``as_of`` as a day: the date written, or for a month alone its
        last day (a projection dated by its month is made knowing the whole month)."""
        value = self.doc.as_of
        if isinstance(value, dt.date):
            return value
        year, month = (int(p) for p in str(value).split("-"))
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)

    @property
    def variant_names(self) -> list[str]:
        """Names of the variants, in file order (``["base"]`` when it defines none)."""
        return list(self.variants)

    def describe(self, name: str) -> str:
        """The description of variant ``name``; when values are set on top of the
        variants (:attr:`settings`), led by them (``Run with announcement.delay=9 set.
        The agreed schedule, …``): a variant named and described for a value of the
        file (``on-time``) runs with the values set instead, and a chart or page that
        gives the description says so first.

        Raises
        ------
        sim.ScenarioError
            For an unknown name, with a did-you-mean suggestion (as every method
            taking a variant's name does).
        """
        description = self._variant(name).description
        said = self.run_with()
        return f"{said[0].upper()}{said[1:]}. {description}" if said else description

    def resolved(self, name: str) -> ScenarioDoc:
        """The validated document of one variant (a ScenarioError for an unknown name)."""
        return self._variant(name).doc

    def resolved_raw(self, name: str | None = None) -> dict[str, Any]:
        """The plain data of the base (``name=None``) or of one variant (a ScenarioError
        for an unknown name)."""
        if name is None:
            return self.raw
        return self._variant(name).raw

    def plan(self, name: str) -> Plan:
        """Variant ``name`` compiled for the stepper (compiled once, when loaded); a
        ScenarioError for an unknown name."""
        return self._variant(name).plan

    def _variant(self, name: str) -> Resolved:
        return self.variants[select_variants(self.variants, [name], self.locator)[0]]

    def observations(self) -> ObservationSet | None:
        """The observations the scenario lists or points to (None when it has none)."""
        return check_scenario_observations(self.doc, self.locator)

    def select(self, names: str | Iterable[str] | None) -> list[str]:
        """``names`` (one name, or an iterable of names) checked against the variants,
        each once in the order given (all of them when None or empty).

        Raises
        ------
        sim.ScenarioError
            For a name that is not text, or an unknown name (with a did-you-mean).
        """
        return select_variants(self.variants, names, self.locator)

    def to_yaml(self, name: str | None = None) -> str:
        """The resolved scenario (or one variant) as YAML text that loads from anywhere.

        ``extends`` is merged in, and observations kept in a CSV file are written
        inline (a relative path would point nowhere once the text is saved
        elsewhere; a scenario rebuilt from a run directory, whose file is out of
        reach, keeps the path). Numbers are plain decimals, so the text reads back
        the same.

        Parameters
        ----------
        name : str, optional
            A variant, resolved; the base scenario (with its variants) when omitted.

        Returns
        -------
        str
            YAML text; ``forcesim show`` prints it.

        Raises
        ------
        sim.ScenarioError
            For an unknown variant name, with a did-you-mean suggestion.
        """
        data = _plain(self.resolved_raw(name))
        for variant in (data.get("variants") or {}).values():
            # (a mapping the nulls of an extending file emptied changes nothing, and read
            # back it would be refused as one written empty)
            if isinstance(variant, dict) and isinstance(variant.get("overrides"), dict):
                variant["overrides"] = _without_empty(variant["overrides"])
        head = ""
        obs = None
        if isinstance(data.get("observations"), str):
            try:
                obs = self.observations()
            except ScenarioError:  # rebuilt from a run.json far from the file: keep the path
                obs = None
        if obs is not None:
            data["observations"] = [_inline(o) for o in obs]
            head = (
                f"# observations: inlined from {obs.origin}"
                + (f" (sha256 {obs.sha256})" if obs.sha256 else "")
                + "\n"
            )
        return head + yaml.dump(
            data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )

    def with_overrides(
        self, overrides: Mapping[str, Any], *, variant: str | None = None
    ) -> Scenario:
        """A copy of the scenario with values changed in code, validated like a file.

        Parameters
        ----------
        overrides : mapping
            Keys nested as in the scenario file, merged like a variant's
            ``overrides``: mappings merge key by key, ``None`` deletes a key, and
            anything else (a number, a list, a ``{value: ...}`` or distribution
            mapping) replaces the value whole. numpy and pandas scalars (what
            ``df.troops.max()`` returns) count as the Python numbers they hold,
            and arrays and tuples as lists.
        variant : str, optional
            Change this variant's overrides instead of the base. A name the
            scenario does not have adds a variant; a ``description`` key in
            ``overrides`` sets its description.

        Returns
        -------
        Scenario
            A new scenario; this one is unchanged.

        Raises
        ------
        sim.ScenarioError
            For a bad value or an unknown key, naming the key path; for ``extends``,
            which is followed only as a file is loaded; on a scenario with values set
            (:meth:`with_settings`), which apply after every override and are named
            by the run: call this first. A value set here is reported with
            ``<overrides>`` as the file.
        TypeError
            For a ``variant`` that is not one name (a list of them).

        Warns
        -----
        sim.ScenarioWarning
            For a new ``variant`` a slip of typing from one the scenario has
            (``slip6`` beside ``slip-6``): it is added, not the other changed.

        Notes
        -----
        Base overrides sit under every variant: a variant that sets the same
        key keeps its own value (every variant of the default scenario sets
        ``announcement.delay``, so change the delay through ``variant=``).

        Examples
        --------
        >>> scenario = sim.load_scenario(sim.default_scenario())
        >>> later = scenario.with_overrides({"announcement": {"delay": 9}}, variant="slip-9")
        >>> bigger = scenario.with_overrides({"theaters": {"iraq": {"initial": 3000}}})
        """
        if not isinstance(overrides, Mapping):
            raise ScenarioError(
                "a mapping of scenario keys",
                describe(overrides),
                file="<overrides>",
                path="(overrides)",
            )
        if variant is not None and not isinstance(variant, str):  # (a list: one name only)
            raise TypeError(
                f"with_overrides changes one variant: variant takes its name (a str), not "
                f"{type(variant).__name__} (call it once per variant)"
            )
        dotted_key = next((k for k in overrides if isinstance(k, str) and "." in k), None)
        if dotted_key is not None:  # {"theaters.iraq.initial": 3000}: with_settings' form
            nested = (
                "".join(f"{{{p!r}: " for p in dotted_key.split("."))
                + "…"
                + "}" * (dotted_key.count(".") + 1)
            )
            raise ScenarioError(
                f"keys nested as in the file ({nested}), or with_settings for a dotted key path",
                f"the dotted key {dotted_key!r}",
                file="<overrides>",
                path=dotted_key,
            )
        if self.settings:  # (they are applied after every override: this one would win)
            keys = ", ".join(k for k, _ in self.settings)
            raise ScenarioError(
                "with_overrides before with_settings (values set apply after every "
                "variant's own overrides, and the run names them: call with_overrides "
                "on the scenario first, then with_settings)",
                f"a scenario with values set ({keys})",
                file="<overrides>",
                path="(overrides)",
            )
        over = from_code(overrides)
        code = _set_paths(over) if over else set()
        if variant is None and "extends" in over:  # (followed only as a file is loaded)
            raise ScenarioError(
                "overrides of scenario values (not extends, which is followed only as a"
                " file is loaded: load a scenario file that extends the other)",
                "the key 'extends'",
                file="<overrides>",
                path="extends",
            )
        # (an empty mapping merged into one the scenario holds changes nothing, as in a
        # file or --set: said, not run as if heard)
        known = variant is not None and variant in self.raw.get("variants", {})
        empty = empty_merge(self.resolved_raw(variant) if known else self.raw, over)
        if empty is not None:
            raise ScenarioError(NO_OP_MAPPING, "{}", file="<overrides>", path=".".join(empty))
        added: list[ScenarioWarning] = []
        if variant is None:
            raw = deep_merge(self.raw, over)
        else:
            current = self.raw.get("variants", {}).get(variant)
            where = ("variants", variant)
            if isinstance(current, dict):
                code = {where + ("overrides",) + p for p in code} | {where + ("description",)}
                entry = dict(current)
            else:
                code, entry = {where}, {"description": f"{variant} (set in code)"}
                # ("slip6" for slip-6: a new variant, not the change meant; "slip-9" is
                # a new one, as load_scenario tells a variant's new entries apart)
                near = next(
                    (v for v in self.raw.get("variants", {}) if typed_apart(variant, v)), None
                )
                if near is not None:
                    added.append(
                        ScenarioWarning(
                            f"the scenario has no variant {variant!r}, so one is added; to "
                            f"change {near!r}, give variant={near!r}",
                            file="<overrides>",
                            line=1,
                            col=1,
                            path=f"variants.{variant}",
                            heading="a new entry",
                        )
                    )
            if "description" in over:
                entry["description"] = over.pop("description")
            entry["overrides"] = deep_merge(entry.get("overrides") or {}, over, keep_none=True)
            raw = {**self.raw, "variants": {**self.raw.get("variants", {}), variant: entry}}
        rebuilt = self._rebuilt(raw, _CodeLocator(self.locator, code), self.settings)
        if added:
            rebuilt = dataclasses.replace(rebuilt, warnings=(*_warn(added), *rebuilt.warnings))
        return rebuilt

    def with_settings(
        self,
        settings: Mapping[str, Any] | Sequence[tuple[str, Any]],
        *,
        variants: Sequence[str] | None = None,
        origin: str = "<overrides>",
        written: Sequence[Mapping[tuple[str | int, ...], str]] | None = None,
    ) -> Scenario:
        """A copy with values set by dotted key path on top of every variant that runs.

        Parameters
        ----------
        settings : mapping or sequence of (key, value)
            Dotted key paths (``announcement.delay``,
            ``milestones.iraq-phase-1.target.reduce_by``) and values as a scenario
            file writes them (a number, ``None`` to delete, a ``{uniform: [0, 6]}``
            mapping, ...); a NumPy number or array as the Python number or list it
            holds. A later setting of the same key wins; one inside an earlier one
            (``announcement``, then ``announcement.delay``) refines it, and a mapping
            merges onto what an earlier one set; one that replaces what an earlier
            one set (``announcement.delay``, then an ``announcement`` mapping giving a
            ``delay``; ``reduce_by`` after ``level``) is refused.
        variants : sequence of str, optional
            The variants to change (default: all). Each is changed *after* its own
            overrides, so a setting wins over a variant's value for the same key;
            a scenario without variants has its base changed.
        origin : str
            The file name errors give for a set value (the command line passes
            ``<command line>``).
        written : sequence of mapping, optional
            For each setting, in order, the text of each scalar of its value as the
            user wrote it, by key path below the setting's key (``()`` for a scalar
            value): an error quotes it (``'1.50'``) instead of the parsed value
            (``1.5``). Default: none (errors show the values given).

        Returns
        -------
        Scenario
            A new scenario; ``settings`` records what was set.

        Raises
        ------
        TypeError
            For ``settings`` that are neither a mapping nor an iterable of (key, value)
            pairs, or ``written`` that is not a sequence of mappings.
        sim.ScenarioError
            As for a variant's ``overrides``: an unknown key (with a suggestion), a
            bad value, or a key a variant may not set (``variants``, ``extends``,
            ``id``, ``observations``; with variants, also the scenario's own ``title``,
            ``description`` and ``as_of``, and a new name for a theater or site; an
            empty ``sources`` list, which would remove none), at ``ORIGIN:1:1`` with the
            key path.

        Examples
        --------
        >>> later = scenario.with_settings({"announcement.delay": 9})  # every variant
        """
        items = (
            list(settings.items())
            if isinstance(settings, Mapping)
            else list(settings)
            if isinstance(settings, Iterable) and not isinstance(settings, str | bytes)
            else None
        )
        if items is None or not all(isinstance(i, tuple | list) and len(i) == 2 for i in items):
            raise TypeError(
                "with_settings takes a mapping of key paths to values "
                f"({{'announcement.delay': 9}}) or (key, value) pairs, not {settings!r}"
            )
        # numbers from numpy (np.arange) are set as the Python numbers they hold, as
        # with_overrides takes them
        items = [(key, from_code(value, (str(key),), origin)) for key, value in items]
        if written is not None and not (
            isinstance(written, Sequence)
            and not isinstance(written, str)
            and all(isinstance(w, Mapping) for w in written)
        ):
            raise TypeError(
                "with_settings takes written as one mapping per setting (key path below the "
                f"setting's key -> the text as written), not {type(written).__name__}"
            )
        if written is not None and len(written) != len(items):
            raise ScenarioError(
                "the text of each setting's value as written, one mapping per setting",
                f"{len(written)} for {len(items)} settings",
                file="<arguments>",
                path="written",
            )
        for key, value in items:
            parts = tuple(str(key).split("."))
            if not key or not all(parts):
                raise ScenarioError(
                    "a dotted key path such as announcement.delay",
                    repr(key),
                    file=origin,
                    line=1,
                    col=1,
                    path=str(key) or "(key)",
                )
            if parts[0] in ("variants", "extends", "id", "observations"):
                raise ScenarioError(
                    "overrides of scenario values (not variants, extends, id or observations)",
                    f"the key {parts[0]!r}",
                    file=origin,
                    line=1,
                    col=1,
                    path=str(key),
                )
            if parts == ("sources",) and empty_sources(self.raw, {"sources": value}):
                raise ScenarioError(
                    EMPTY_SOURCES, EMPTY_LIST, file=origin, line=1, col=1, path=str(key)
                )
            if self.doc.variants and parts[0] in SCENARIO_OWN:
                raise ScenarioError(
                    f"a value a variant may change (not {', '.join(SCENARIO_OWN[:-1])} or "
                    f"{SCENARIO_OWN[-1]}: they are the scenario's, the same in every variant; "
                    "change them in its file)",
                    f"the key {parts[0]!r}",
                    file=origin,
                    line=1,
                    col=1,
                    path=str(key),
                )
        names = self.select(variants)
        runs: list[str | None] = list(names) if self.doc.variants else [None]
        docs = {}  # each run's data, with the settings checked so far
        left: list[dict[str | None, Any]] = []  # what each setting left there
        overs: dict[str | None, dict[str, Any]] = {name: {} for name in runs}  # what each sets
        texts: dict[tuple[str | int, ...], str] = {}  # scalars as written, by raw key path
        for name in runs:
            overrides = {} if name is None else self.raw["variants"][name].get("overrides")
            docs[name] = deep_merge(self.raw, overrides or {})
        for j, (key, value) in enumerate(items):
            parts = tuple(str(key).split("."))
            for name in runs:  # the latest setting of a key wins: its texts replace
                raw_at = parts if name is None else ("variants", name, "overrides", *parts)
                for old in [p for p in texts if p[: len(raw_at)] == raw_at]:
                    del texts[old]
                for sub, text in (written[j] if written is not None else {}).items():
                    texts[raw_at + tuple(sub)] = text
            # a field of an entry the scenario lacks: a misspelt name
            missing = {}
            for name in runs:
                got = _missing_entry(docs[name], parts)
                if got is not None:
                    missing[name] = got
            if missing:
                name, (at, entries, known) = next(iter(missing.items()))
                raise ScenarioError(
                    # (named by variant when some variant has it)
                    _entry_expected(
                        parts, at, entries, known, None if len(missing) == len(runs) else name
                    ),
                    repr(parts[at]),
                    file=origin,
                    line=1,
                    col=1,
                    path=str(key),
                )
            # (an entry a setting adds whole may have its fields set by later ones)
            for name in runs:
                nested = _setting(docs[name], parts, value)
                if nested is None:
                    raise ScenarioError(
                        *_no_form(docs[name], parts, name if self.doc.variants else None),
                        file=origin,
                        line=1,
                        col=1,
                        path=str(key),
                    )
                overs[name] = deep_merge(overs[name], nested, keep_none=True)
                docs[name] = deep_merge(docs[name], nested)
            # (what this setting left in each run's data: a later one must not undo it)
            left.append({n: _copied(value_at(docs[n], list(parts))) for n in runs})
        refuse_undone(items, left, docs, origin)
        if not self.doc.variants:
            raw, code = deep_merge(self.raw, overs[None]), _set_paths(overs[None])
        else:
            table = dict(self.raw.get("variants") or {})
            code = set()
            for name in names:
                entry = dict(table[name])
                over = overs[name]
                entry["overrides"] = deep_merge(entry.get("overrides") or {}, over, keep_none=True)
                table[name] = entry
                code |= {("variants", name, "overrides") + p for p in _set_paths(over)}
            raw = {**self.raw, "variants": table}
        settings = self.settings + tuple((str(k), v) for k, v in items)
        # a setting replaces a value in every variant on purpose: no new warning
        return self._rebuilt(
            raw, _CodeLocator(self.locator, code, origin, texts), settings, self.warnings
        )

    def _rebuilt(
        self,
        raw: dict[str, Any],
        locator: Locator,
        settings: tuple[tuple[str, Any], ...],
        warnings: tuple[ScenarioWarning, ...] | None = None,
    ) -> Scenario:
        """This scenario's file with ``raw`` in place of its data, validated and resolved
        as :func:`load_scenario` does; ``warnings`` None: those of the new data."""
        doc = validate_doc(raw, locator)
        variants = resolve_variants(raw, doc, locator, earlier=(self.raw, self.variants))
        check_scenario_observations(doc, locator)
        return Scenario(
            path=self.path,
            sha256=self.sha256,
            doc=doc,
            raw=raw,
            locator=locator,
            variants=variants,
            settings=settings,
            warnings=_warn(unused_in(doc, locator, variants)) if warnings is None else warnings,
        )

    def __repr__(self) -> str:
        return (
            f"<Scenario {self.id}: {self.doc.calendar.start} to {self.doc.calendar.end}, "
            f"theaters {', '.join(self.doc.theaters)}; variants {', '.join(self.variants)}>"
        )

    def _repr_html_(self) -> str:
        from html import escape

        rows = "".join(
            f"<tr><td><code>{escape(n)}</code></td><td>{escape(d[0])}</td></tr>"
            for n, d in self.variants.items()
        )
        return (
            f"<b>{escape(self.title)}</b> <code>{escape(self.id)}</code><br>"
            f"{self.doc.calendar.start} to {self.doc.calendar.end}, "
            f"theaters: {', '.join(self.doc.theaters)}<table>{rows}</table>"
        )


def _copied(value: Any) -> Any:
    """A deep copy of plain data; :data:`MISSING` (a key deleted) as itself."""
    return value if value is MISSING else copy.deepcopy(value)


def refuse_undone(
    items: Sequence[tuple[Any, Any]],
    left: Sequence[Mapping[Any, Any]],
    docs: Mapping[Any, Any],
    origin: str,
) -> None:
    """Refuse a setting that a later one undoes, in the data of any run ``docs`` (each
    variant's, every setting applied as :meth:`Scenario.with_settings` applies them;
    ``left[i]``: what setting i left at its key in each run's data, before the later
    ones): ``announcement.delay=0`` then ``announcement={..., delay: 8}`` ran delay 8
    while the run's head (and a sweep's rows) named 0; so did ``target.level`` then
    ``target.reduce_by`` (which takes its place), or a number's ``probability`` then a
    new form of it (a number's mapping replaces it whole). A later setting of the same
    key wins, and one inside an earlier setting's mapping changes that entry as asked;
    a mapping that leaves the key out merges onto it.

    Raises
    ------
    sim.ScenarioError
        At the earlier key, naming the later one that undid it."""
    paths = [tuple(str(key).split(".")) for key, _ in items]
    for i, first in enumerate(paths):
        later = paths[i + 1 :]
        if not later or first in later:
            continue  # (set again: the later one wins, as written)
        refined = [t for t in later if t[: len(first)] == first]
        for name, was in left[i].items():
            expect = _copied(was)
            for then in refined:  # (inside it: what a later one refines is that one's)
                inner: Any = expect
                rest = then[len(first) :]
                for part in rest[:-1]:
                    inner = inner.get(part) if isinstance(inner, dict) else None
                if isinstance(inner, dict):
                    inner.pop(rest[-1], None)
            now = value_at(docs[name], list(first))
            if holds(now, expect) and (isinstance(was, dict) or not refined):
                continue
            near = [t for t in later if t[: len(first)] == first or first[: len(t)] == t]
            near += [t for t in later if t[:-1] == first[:-1]]
            culprit = ".".join((near or later)[0])
            raise ScenarioError(
                f"no setting undone by a later one ({culprit} takes the place of what it "
                "set: set one of them, or the wider one first)",
                f"{'.'.join(first)!r}, then {culprit!r}",
                file=origin,
                line=1,
                col=1,
                path=".".join(first),
            )


def scenario_argument(scenario: object, function: str) -> Scenario:
    """The scenario a public function was given: a :class:`Scenario` as it is, or the
    path of a scenario file, loaded (:func:`load_scenario`).

    Raises
    ------
    TypeError
        For anything else (None, a Result, a number), naming ``function``.
    sim.ScenarioError
        For a path that does not load."""
    if isinstance(scenario, Scenario):
        return scenario
    path_argument(scenario, "a scenario file", "scenario", function, or_else="a Scenario or ")
    return load_scenario(scenario)  # type: ignore[arg-type]


def load_scenario(path: str | Path) -> Scenario:
    """Load, validate and freeze one scenario file.

    Parameters
    ----------
    path : str or pathlib.Path
        A scenario YAML file. ``extends`` paths inside it are relative to it.

    Returns
    -------
    sim.Scenario
        The validated scenario with every variant resolved.

    Raises
    ------
    sim.ScenarioError
        For any problem, naming file, line, column and key path; for text that names
        no file (the YAML itself, say) at ``<arguments>``.
    TypeError
        For a ``path`` that is not a str or ``pathlib.Path`` (None, a Scenario).

    Warns
    -----
    sim.ScenarioWarning
        For each input no run uses, and each entry a variant adds under a name a slip
        of typing from the base's (also kept on ``Scenario.warnings``).
    """
    p = path_argument(path, "a scenario file", "path", "load_scenario")
    raw, layers = read_with_extends(p)
    locator = Locator(layers)
    base = validate_doc(raw, locator)
    variants = resolve_variants(raw, base, locator)
    check_scenario_observations(base, locator)
    return Scenario(
        path=str(p),
        sha256=sha256_of(p),
        doc=base,
        raw=raw,
        locator=locator,
        variants=variants,
        warnings=_warn(unused_in(base, locator, variants)),
    )


def _warn(found: list[ScenarioWarning]) -> tuple[ScenarioWarning, ...]:
    """Give each warning as a Python warning (a notebook shows it); return them all."""
    for w in found:
        _warnings.warn(w, stacklevel=3)
    return tuple(found)


def scenario_observations(scenario: Scenario) -> ObservationSet | None:
    """The observations a loaded scenario lists or points to (None when it has none)."""
    return scenario.observations()


def load_observations(
    path: str | Path,
    scenario: Scenario | str | Path | Sequence[Scenario | str | Path] | None = None,
) -> ObservationSet:
    """Read an observations CSV file (``date,theater,troops_low,troops_high,source,quote``).

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file; see ``docs/observations.md``.
    scenario : Scenario, a scenario file's path, or a sequence of them, optional
        When given, each row's theater must be one of the theaters or sites of one of
        its variants (of one of the scenarios, such as a series of vintages). A path is
        loaded (:func:`load_scenario`); a folder is not a scenario.

    Returns
    -------
    ObservationSet
        The observations, in file order, with the file's name and sha256.

    Raises
    ------
    sim.ScenarioError
        For the first bad row: ``FILE:LINE:COL: column: expected …, found …``; for an
        empty sequence of scenarios, or a scenario file that does not load.
    TypeError
        For a scenario that is neither a :class:`Scenario` nor a scenario file's path
        (which is loaded), or a ``path`` that is not a str or ``pathlib.Path``.
    """
    path_argument(path, "an observations CSV file", "path", "load_observations")
    allowed = None if scenario is None else series_of(scenario_list(scenario))
    return read_observations(path, allowed)


def series_of(scenarios: Sequence[Scenario]) -> list[str]:
    """Every theater and site of every variant of ``scenarios``, each once, in order: the
    series an observation may report."""
    return list(
        dict.fromkeys(
            n for sc in scenarios for v in sc.variant_names for n in sc.plan(v).series_names()
        )
    )


def scenario_list(
    scenarios: Scenario | str | Path | Iterable[Scenario | str | Path],
) -> list[Scenario]:
    """One scenario, or any iterable of them (a list, a tuple, a generator), as a list;
    a scenario file's path (a str or :class:`pathlib.Path`) is loaded
    (:func:`load_scenario`), as :func:`sim.run` loads one.

    Raises
    ------
    sim.ScenarioError
        For an empty one (``<arguments>``, key ``scenario``), or a file that does not
        load.
    TypeError
        For anything else (bytes, a number), naming what it takes.
    """
    if isinstance(scenarios, Scenario | str | Path):
        scenarios = [scenarios]
    if isinstance(scenarios, bytes) or not isinstance(scenarios, Iterable):
        items: list[Any] = [scenarios]
    else:
        items = list(scenarios)
    wrong = next((x for x in items if not isinstance(x, Scenario | str | Path)), None)
    if wrong is not None:
        raise TypeError(
            "expected a Scenario, a scenario file's path, or a sequence of them "
            f"(sim.load_scenario), found {type(wrong).__name__} {wrong!r:.60}"
        )
    if not items:
        raise ScenarioError(
            "at least one scenario", "an empty sequence", file="<arguments>", path="scenario"
        )
    return [x if isinstance(x, Scenario) else load_scenario(x) for x in items]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def from_code(value: Any, path: tuple[Any, ...] = (), origin: str = "<overrides>") -> Any:
    """Values set in code as plain data: numpy and pandas scalars as the Python number
    (or bool or text) they hold, a monthly ``pandas.Period`` (a month of forcesim's
    tables) as its ``YYYY-MM``, arrays and tuples as lists, any mapping as a dict; a
    ``Decimal`` or ``Fraction`` as the int or float that is exactly it.

    Raises
    ------
    sim.ScenarioError
        At ``origin``, naming the key path: a mapping or list that holds itself (or
        nests deeper than a scenario file may), a set (it has no order: a list says
        which value is which), or a Decimal or Fraction no float is exactly.
    """
    return _plain_data(value, path, origin, [])


def _plain_data(value: Any, path: tuple[Any, ...], origin: str, inside: list[int]) -> Any:
    """:func:`from_code`, ``inside`` the ids of the containers around ``value``."""

    def refuse(expected: str, found: str) -> ScenarioError:
        where = ".".join(str(p) for p in path) or "(overrides)"
        return ScenarioError(expected, found, file=origin, path=where)

    if isinstance(value, Mapping | list | tuple | np.ndarray):
        if id(value) in inside:
            raise refuse("plain data (mappings and lists)", "a container that holds itself")
        if len(inside) >= MAX_DEPTH:
            raise refuse(f"at most {MAX_DEPTH} levels of nesting", "deeper nesting")
        inside = [*inside, id(value)]
    if isinstance(value, Mapping):
        for k in value:
            if isinstance(k, str) and (fault := text_fault(k)) is not None:
                raise refuse(fault[0], f"the key {k!r} ({fault[1]})")
        return {k: _plain_data(v, (*path, k), origin, inside) for k, v in value.items()}
    if isinstance(value, str):  # (as a file's text is checked: an escape makes these)
        fault = text_fault(value)
        if fault is not None:
            raise refuse(fault[0], f"{value!r} ({fault[1]})")
        return value
    if isinstance(value, np.ndarray):
        return _plain_data(value.tolist(), path, origin, inside)
    if isinstance(value, list | tuple):
        return [_plain_data(v, (*path, i), origin, inside) for i, v in enumerate(value)]
    if isinstance(value, set | frozenset):
        raise refuse("a list (a set has no order: a list says which value is which)", "a set")
    if isinstance(value, np.floating) and value.dtype.itemsize > 8:  # (np.longdouble)
        if np.isfinite(value) and np.longdouble(float(value)) != value:
            raise refuse(
                "a number a 64-bit float holds exactly (as a scenario file's numbers are)",
                f"{type(value).__name__} {_long_text(value)}",
            )
        return float(value)
    if isinstance(value, np.generic):
        return value.item()
    pandas = sys.modules.get("pandas")  # (a Period exists only where pandas is loaded)
    if pandas is not None and isinstance(value, pandas.Period):
        if value.freqstr == "M":  # (a month of forcesim's own tables: the text it stands for)
            return str(value)
        raise refuse("a month as YYYY-MM", f"a period of frequency {value.freqstr!r}, {value}")
    if isinstance(value, decimal.Decimal | fractions.Fraction):
        exact = fractions.Fraction(value)
        if exact.denominator == 1:
            return int(exact)
        if fractions.Fraction(float(exact)) == exact:
            return float(exact)
        raise refuse(
            "a number a 64-bit float holds exactly (as a scenario file's numbers are)",
            f"{type(value).__name__} {value}",
        )
    return value


def _long_text(value: Any) -> str:
    """A long double as written in full, in plain digits where it has at most 30 of
    them before the point (scientific beyond: ``1e4000`` is not four thousand zeros)."""
    import numpy as np

    if np.isfinite(value) and abs(value) < 1e30:
        return str(np.format_float_positional(value))
    return str(np.format_float_scientific(value))


def _inline(o: Any) -> dict[str, Any]:
    """One observation as a scenario file lists it."""
    out: dict[str, Any] = {"date": o.date, "theater": o.theater}
    for key, bound in (("troops_low", o.low), ("troops_high", o.high)):
        if bound is not None:
            out[key] = int(bound)
    out.update({k: v for k, v in (("source", o.source), ("quote", o.quote)) if v})
    return out


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, with floats as plain decimals (never ``1.0e-05``), the only
    number form the loader reads."""


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    import decimal
    import math

    if not math.isfinite(value):
        return dumper.represent_float(value)
    text = format(decimal.Decimal(repr(value)), "f")
    if "." not in text:
        text += ".0"
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


_Dumper.add_representer(float, _represent_float)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Text in quotes where the reader would take it plain for a number, a boolean or
    null by YAML 1.2 (``1e3``, ``0o17``): PyYAML's own test is YAML 1.1's, which left
    them plain, so ``forcesim show`` wrote what it then read as numbers."""
    if not plain_is_text(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def _missing_entry(doc: Any, parts: tuple[str, ...]) -> tuple[int, str, list[str]] | None:
    """Where the dotted key ``parts`` sets a field of an entry that ``doc`` has not
    got (``theaters.irak.initial`` in a scenario of iraq and syria): ``(index of the
    entry's name in parts, the table, the names it has)``; None when it names only
    entries that exist, or sets a whole entry (``theaters.kuwait``), which adds it.
    Tables are looked for where the format has them only: theaters, milestones and
    residuals at the top, sites in a theater (``theaters.iraq.sites.erbil``); a table
    that is not a mapping is left to the validation."""
    where = [0] if parts[0] in ("theaters", "milestones", "residuals") else []
    if parts[0] == "theaters" and len(parts) > 2 and parts[2] == "sites":
        where.append(2)
    for i in where:
        if len(parts) < i + 3:  # a whole entry, or the table itself
            return None
        node = value_at(doc, parts[: i + 1], None)
        if node is not None and not isinstance(node, dict):
            return None
        known = [str(k) for k in node or {}]
        if parts[i + 1] not in known:
            return i + 1, parts[i], known
    return None


def _entry_expected(
    parts: tuple[str, ...], at: int, table: str, known: list[str], variant: str | None
) -> str:
    """What a setting of a field of a missing entry should have named."""
    kind = ENTRY_KINDS[table]
    where = "the scenario" if variant is None else f"variant {variant!r}"
    if table == "sites":  # a theater's sites
        where = f"theater {parts[at - 2]!r} in " + where
    names = ", ".join(known) if known else "there are none"
    hint = nearest(parts[at], known)
    if hint:
        names += f"; did you mean {hint!r}?"
    whole = "..."
    for part in reversed(parts[at + 1 :]):  # theaters.kuwait={sites: {a: ...}}
        whole = "{" + f"{part}: {whole}" + "}"
    entry = ".".join(parts[: at + 1])
    return f"one of the {kind}s of {where} ({names}), or a whole new {kind} ({entry}={whole})"


def _form_at(parts: tuple[str, ...]) -> int | None:
    """Where the dotted key ``parts`` goes inside a number's form: the index of the
    form's key (``choice`` in ``announcement.delay.choice.weights``), or None. Found
    where the format has a number (:func:`sim.schema.number_at`), not by key names:
    ``theaters.value.initial`` names a theater called ``value``."""
    return next(
        (i for i in range(1, len(parts) - 1) if parts[i] in NUMBER_FORMS and number_at(parts[:i])),
        None,
    )


def _setting(doc: Any, parts: tuple[str, ...], value: Any) -> dict[str, Any] | None:
    """The overrides mapping that sets ``value`` at the dotted key ``parts`` of ``doc``
    (one run's data). A key inside a number's form (``announcement.delay.choice.weights``)
    changes that field of the number as ``doc`` has it: the mapping restates the whole
    number with the field changed (its other fields, ``probability``, ``source`` and
    ``assumption`` kept), since a number's mapping in overrides replaces it whole;
    None when ``doc``'s number has no such form. Anything else is ``value`` nested
    under ``parts``."""

    def nest(keys: tuple[str, ...], inner: Any) -> Any:
        for key in reversed(keys):
            inner = {key: inner}
        return inner

    at = _form_at(parts)
    if at is None:
        return nest(parts, value)  # type: ignore[no-any-return]
    number = value_at(doc, parts[:at], None)
    if not (isinstance(number, dict) and isinstance(number.get(parts[at]), dict)):
        return None  # no such form to change a field of
    field = nest(parts[at + 1 :], value)
    whole = {**number, parts[at]: deep_merge(number[parts[at]], field, at=parts[: at + 1])}
    return nest(parts[:at], whole)  # type: ignore[no-any-return]


def _no_form(doc: Any, parts: tuple[str, ...], variant: str | None) -> tuple[str, str]:
    """``(expected, found)`` for a setting inside a number's form (:func:`_setting`)
    whose number has no such form."""
    at = _form_at(parts)
    assert at is not None
    number = value_at(doc, parts[:at], None)
    where = "the scenario" if variant is None else f"variant {variant!r}"
    dotted = ".".join(parts[:at])
    shown = "not set" if number is None else describe(number)
    return (
        f"a number drawn by {parts[at]} in {where} (there {dotted} is {shown}), or the "
        f"whole number ({dotted}={{{parts[at]}: ...}})",
        f"a setting of its {'.'.join(parts[at:])}",
    )


def _set_paths(over: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Key paths of the values an overrides mapping sets (a number's mapping is one
    value: :func:`sim.loader.states_number`)."""
    if isinstance(over, dict) and over and not states_number(prefix, over):
        return set().union(*(_set_paths(v, prefix + (str(k),)) for k, v in over.items()))
    return {prefix}


class _CodeLocator(Locator):
    """Points at ``<overrides>`` for values set in code and for the mappings that hold
    them (``code``: their key paths in the raw document), at the file for keys the
    file has, and at ``<overrides>`` for the rest; ``texts``: the scalars set as the user
    wrote them (``--set``), by key path in the raw document."""

    def __init__(
        self,
        inner: Locator,
        code: Collection[tuple[Any, ...]] = (),
        origin: str = "<overrides>",
        texts: Mapping[tuple[Any, ...], str] | None = None,
    ) -> None:
        super().__init__(list(inner.layers))
        self.code: set[tuple[Any, ...]] = set(code)
        self.origin = origin
        self.texts: dict[tuple[Any, ...], str] = dict(texts or {})
        self.inner = inner if isinstance(inner, _CodeLocator) else None

    def _set_here(self, path: Any) -> bool:
        for layer in self.layers:
            full = layer.prefix + tuple(path)
            if any(full[:k] in self.code for k in range(1, len(full) + 1)) or (
                path and any(c[: len(full)] == full for c in self.code)
            ):
                return True
        return False

    def find(self, path: Any, *, key: bool = False) -> tuple[str, int, int]:
        # the latest values set win: this locator's, then those of the ones it wraps
        if self._set_here(path):
            return self.origin, 1, 1
        if self.inner is not None and self.inner._set_here(path):
            return self.inner.find(path, key=key)
        for layer in self.layers:
            table = layer.positions.keys if key else layer.positions.values
            if layer.prefix + tuple(path) in table:
                return Locator.find(self, path, key=key)
        return self.inner.find(path, key=key) if self.inner is not None else (self.origin, 1, 1)

    def _setter(self, path: Any) -> _CodeLocator | None:
        """The latest of this locator and those it wraps that set a value at or below
        ``path``, or None."""
        chain: _CodeLocator | None = self
        while chain is not None and not chain._set_here(path):
            chain = chain.inner
        return chain

    def set_on_top(self, path: Any) -> bool:
        return self._setter(path) is not None

    def removed(self, path: Any) -> tuple[str, int] | None:
        """Where the entry at ``path`` was deleted: where it was set, when set on top (a
        setting of null: the entry is gone from the data, so a setting is what removed
        it); else as the files say."""
        setter = self._setter(path)
        return (setter.origin, 1) if setter is not None else Locator.removed(self, path)

    def holds(self, path: Any) -> bool:
        return self.set_on_top(path) or Locator.holds(self, path)

    def text(self, path: Any) -> str | None:
        """A value set on the command line as the user wrote it; None for one set in
        code (it has no text); else as the file wrote it."""
        setter = self._setter(path)
        if setter is not None:
            for layer in setter.layers:
                got = setter.texts.get(layer.prefix + tuple(path))
                if got is not None:
                    return got
            return None
        if self.find(path)[0].startswith("<"):
            return None
        return super().text(path)

    def relayered(self, change: Any) -> Locator:
        out = Locator.relayered(self, change)
        if self.inner is not None:
            out.inner = self.inner.relayered(change)  # type: ignore[attr-defined]
        return out

    def under(self, prefix: Any) -> Locator:
        out = _CodeLocator(Locator.under(self, prefix), self.code, self.origin, self.texts)
        if self.inner is not None:
            out.inner = self.inner.under(prefix)  # type: ignore[assignment]
        return out


def _flow(value: Any) -> str:
    """A value set in code or on the command line, as YAML's flow style writes it:
    numbers exactly, ``true``/``false``, ``null``, mappings and lists in braces and
    brackets."""
    from sim.io.numbers import plain_number

    if value is None:  # (as YAML writes it, not Python's None)
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return plain_number(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    text = str(value)
    # (text that would read back as another value, null or 600, or not as one value,
    # "a, b: c": in quotes, as a reader of the line would need to type it)
    odd = (
        not plain_is_text(text)
        or text != text.strip()
        or any(c in text for c in ",{}[]#")
        or ": " in text
        or text.endswith(":")
        or text[:1] in tuple("'\"&*!|>%@`-?")
    )
    return "'" + text.replace("'", "''") + "'" if odd else text


def _without_empty(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its empty mappings, at any depth (one emptied so is dropped too)."""
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = _without_empty(value)
            if not value:
                continue
        out[key] = value
    return out
