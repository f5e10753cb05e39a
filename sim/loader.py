"""Scenario file → validated documents, one per variant, with file positions.

The loader reads YAML (through :mod:`sim.yamlio`), follows ``extends``, merges
each variant's overrides onto the base, validates every resolved document
against :mod:`sim.schema`, runs the semantic checks of :mod:`sim.checks`, and
turns every failure into one :class:`~sim.errors.ScenarioError` that names the
file, line, column and key path.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError

from sim.checks import check_scenario, unused_inputs
from sim.errors import (
    ScenarioError,
    ScenarioWarning,
    describe,
    expected_found,
    listed,
    nearest,
    quoted_short,
)
from sim.io.files import not_a_file
from sim.io.numbers import number_hint, plain_number
from sim.io.observation_csv import read_observations
from sim.io.observations import (
    REPORTED,
    SERIES,
    TARGET,
    TARGET_TOLERANCE,
    Observation,
    ObservationSet,
    check_bounds,
    formula_problem,
    parse_by,
    parse_date,
    tolerance_from,
    unknown_series,
)
from sim.io.settings import NO_OP_MAPPING
from sim.io.yamlio import Path_, Positions, dotted, read_yaml
from sim.model.plan import Plan
from sim.months import month_hint
from sim.paths import is_regular_file
from sim.schema import (
    NUMBER_FORMS,
    AfterAnnouncement,
    AfterMilestone,
    ScenarioDoc,
    Source,
    Target,
    number_at,
    types_at,
)

MAX_EXTENDS_DEPTH = 8
_SCENARIO_FILE = "a forcesim scenario file (YAML keys such as id, title, calendar, theaters)"
BASE = "base"


@dataclass(frozen=True)
class Layer:
    """One file's positions, seen through a key prefix (a variant's ``overrides``)."""

    positions: Positions
    prefix: Path_ = ()
    #: in a file that extends another, each of its ``sources`` entries' index in the
    #: merged list (which holds the parent's first) -> its index in this file
    sources: Mapping[int, int] | None = None

    def own(self, path: Path_) -> Path_ | None:
        """``path`` as this file numbers it (``sources[29]`` of the merged list is its
        ``sources[0]``), or None for a ``sources`` entry of another file."""
        p = tuple(path)
        if self.sources is None or len(p) < 2 or p[0] != "sources" or not isinstance(p[1], int):
            return p
        j = self.sources.get(p[1])
        return None if j is None else ("sources", j, *p[2:])


class Locator:
    """Maps a key path of a resolved document to the file position it came from."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers

    def find(self, path: Path_, *, key: bool = False) -> tuple[str, int, int]:
        for layer in self.layers:
            own = layer.own(path)
            table = layer.positions.keys if key else layer.positions.values
            hit = None if own is None else table.get(layer.prefix + own)
            if hit:
                return layer.positions.file, hit[0], hit[1]
        for k in range(len(path), -1, -1):
            for layer in self.layers:
                own = layer.own(path[:k])
                hit = None if own is None else layer.positions.values.get(layer.prefix + own)
                if hit:
                    return layer.positions.file, hit[0], hit[1]
        first = self.layers[0].positions.file if self.layers else "<scenario>"
        return first, 1, 1

    def shown(self, path: Path_) -> Path_:
        """``path`` as the file that holds it numbers it (:meth:`Layer.own`), for an
        error to name; else as given."""
        for layer in self.layers:
            own = layer.own(path)
            if own is not None and own != tuple(path):
                # (the entry itself: a key its entry lacks is named in its numbering too)
                for full in (layer.prefix + own, layer.prefix + own[:2]):
                    if full in layer.positions.values or full in layer.positions.keys:
                        return own
        return path

    def error(self, path: Path_, expected: str, found: str, *, key: bool = False) -> ScenarioError:
        file, line, col = self.find(path, key=key)
        return ScenarioError(
            expected, found, file=file, line=line, col=col, path=dotted(self.shown(path))
        )

    def set_on_top(self, path: Path_) -> bool:
        """Whether a value at or below ``path`` was set on top of the files (``--set``,
        or overrides given in code); never, for files alone."""
        return False

    def removed(self, path: Path_) -> tuple[str, int] | None:
        """Where a file that extends another deleted the entry at ``path`` (``iraq:
        null``): ``(file, line)`` of the first file that wrote it, when that file wrote
        null there; else None."""
        for layer in self.layers:
            own = layer.own(path)
            full = None if own is None else layer.prefix + own
            if full is None or full not in layer.positions.values:
                continue
            # (a mapping has no text: only a scalar written null deletes)
            if layer.positions.texts.get(full) in ("null", "~", "Null", "NULL", ""):
                return layer.positions.file, layer.positions.values[full][0]
            return None
        return None

    def text(self, path: Path_) -> str | None:
        """The text of the scalar at ``path`` as written in the file it comes from (the
        first layer that holds the path), or None (not a scalar, or not from a file)."""
        for layer in self.layers:
            own = layer.own(path)
            full = None if own is None else layer.prefix + own
            if full is not None and full in layer.positions.values:
                return layer.positions.texts.get(full)
        return None

    def written_empty(self, path: Path_) -> bool:
        """Whether the first file that writes ``path`` writes an empty mapping there
        (``milestones: {}``: no key below it), not one an ``extends`` merge emptied."""
        for layer in self.layers:
            own = layer.own(path)
            full = None if own is None else layer.prefix + own
            if full is not None and full in layer.positions.values:
                n = len(full)
                return not any(len(k) > n and k[:n] == full for k in layer.positions.values)
        return False

    def holds(self, path: Path_) -> bool:
        """Whether a file wrote a value at ``path`` itself (not a default the schema
        fills in, which :meth:`find` places at the nearest key written above it)."""
        for layer in self.layers:
            own = layer.own(path)
            if own is not None and layer.prefix + own in layer.positions.values:
                return True
        return False

    def written(self, path: Path_, value: Any) -> str:
        """``value`` as the file wrote it, in quotes (``'2.500'``), else as the code gave it."""
        text = self.text(path)
        if text is None or isinstance(value, dict | list):
            return describe(value)
        return repr(text)

    def relayered(self, change: Callable[[list[Layer]], list[Layer]]) -> Locator:
        """A copy of this locator (of its kind: one that places values set on the command
        line or in code keeps doing so) with its layers ``change(layers)``."""
        out = copy.copy(self)
        out.layers = change(self.layers)
        return out

    def under(self, prefix: Path_) -> Locator:
        """A locator that first looks below ``prefix`` (for a variant's overrides)."""
        return Locator(
            [Layer(lay.positions, prefix + lay.prefix) for lay in self.layers] + self.layers
        )


def deep_merge(base: Any, over: Any, *, keep_none: bool = False, at: Path_ = ()) -> Any:
    """``over`` merged onto ``base``, both standing at key path ``at`` of a scenario
    document (the top by default; a variant's overrides are at the top too).

    Mappings merge key by key, ``null`` deletes a key, anything else replaces,
    with three rules for what a scenario means, each applied where the format
    puts the thing it is about (:func:`sim.schema.types_at`), never by the names of
    the keys a mapping holds (a theater may be called ``value``, a milestone
    ``choice`` or ``level``):

    * where a number stands, a mapping that states a number (it has ``value``,
      ``uniform``, ``triangular`` or ``choice``) replaces that number whole;
    * in a target or a deadline, a key of a set of alternatives replaces the
      others (``level`` and ``reduce_by`` of a target; ``after_announcement`` and
      ``after`` of a deadline), so a child switches a target's form without
      ``level: null``;
    * the ``sources`` list merges by ``id``: an entry with the id of an inherited
      one replaces it, a new id is added.

    With ``keep_none``, ``null`` is kept as a value (to merge one variant's
    overrides into another's, where it must still delete when the variant is
    resolved)."""
    if not (isinstance(base, dict) and isinstance(over, dict)) or states_number(at, over):
        return copy.deepcopy(over)
    out = dict(base)
    for model in types_at(at):
        for key, others in ALTERNATIVES.get(model, {}).items():
            if key in over:
                for other in others:
                    out.pop(other, None)
    for key, value in over.items():
        if value is None and not keep_none:
            out.pop(key, None)
        elif _by_id(out.get(key)) and _by_id(value) and list[Source] in types_at(at + (key,)):
            out[key] = _merge_by_id(out[key], value)
        elif key in out:
            out[key] = deep_merge(out[key], value, keep_none=keep_none, at=at + (key,))
        else:
            out[key] = copy.deepcopy(value)
    return out


def empty_merge(base: Any, over: Any, at: Path_ = ()) -> list[str] | None:
    """The key path, within ``over``, of the first empty mapping in ``over`` that would
    merge (:func:`deep_merge`) into a mapping ``base`` holds there, and so change nothing
    (``overrides: {milestones: {}}``: the milestones stay as they were); None when there
    is none. ``at``: where both stand in a scenario document."""
    if not (isinstance(base, dict) and isinstance(over, dict)) or states_number(at, over):
        return None
    for key, value in over.items():
        if not isinstance(value, dict) or not isinstance(base.get(key), dict):
            continue
        if not value:
            return [str(key)]
        below = empty_merge(base[key], value, at + (key,))
        if below is not None:
            return [str(key), *below]
    return None


def states_number(at: Path_, value: Any) -> bool:
    """Whether ``value``, standing at key path ``at`` of a scenario document, is a
    number's mapping that says how the number is drawn (one of
    :data:`sim.schema.NUMBER_FORMS` as a key) where the format has a number: such a
    mapping is one value, set or replaced whole. ``{value: ...}`` under
    ``theaters`` is a theater called ``value``, not a number."""
    return isinstance(value, dict) and bool(value.keys() & NUMBER_FORMS) and number_at(at)


# in the model of a target or a deadline, a key that, when an override states it,
# removes the keys of the other form
ALTERNATIVES: dict[Any, dict[str, tuple[str, ...]]] = {
    Target: {"level": ("reduce_by",), "reduce_by": ("level",)},
    AfterAnnouncement: {"after_announcement": ("after", "months")},
    AfterMilestone: {"after": ("after_announcement",)},
}


#: what an empty ``sources`` list is refused for where the scenario it merges onto
#: has sources (a variant's overrides, a ``--set``, a file that extends another)
EMPTY_SOURCES = (
    "sources to add, or to replace by id (they merge onto the scenario's, so an empty "
    "list removes none; a source no number cites is only listed)"
)
#: an empty list, as refused
EMPTY_LIST = "[] (an empty list)"


def empty_sources(base: Any, over: Any) -> bool:
    """Whether ``over`` (a mapping of scenario keys merged onto ``base``'s) gives an
    empty ``sources`` list where ``base`` has sources: merged by id, it changes
    nothing."""
    return (
        isinstance(over, dict)
        and over.get("sources") == []
        and isinstance(base, dict)
        and bool(base.get("sources"))
    )


def _by_id(value: Any) -> bool:
    """Whether ``value`` is a list of entries each with a text ``id`` to merge by (an id
    that is a list or a mapping is left to the schema to refuse, not hashed)."""
    return isinstance(value, list) and all(
        isinstance(v, dict) and isinstance(v.get("id"), str) for v in value
    )


def _merge_by_id(base: list[dict[str, Any]], over: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``base`` with each entry of ``over`` replacing the one of the same ``id``, or added.

    An id that ``over`` gives twice is kept twice (the second added after the first),
    so that the schema refuses it as it refuses one written twice in a file: merged,
    the first was lost without a word."""
    out = [copy.deepcopy(v) for v in base]
    where = {v["id"]: i for i, v in enumerate(out)}
    given: set[str] = set()  # (ids ``over`` gave already: one again is added, not merged)
    for v in over:
        if v["id"] in where and v["id"] not in given:
            out[where[v["id"]]] = copy.deepcopy(v)
        else:
            where.setdefault(v["id"], len(out))
            out.append(copy.deepcopy(v))
        given.add(v["id"])
    return out


def read_with_extends(
    path: Path, chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], list[Layer]]:
    """Raw data of a scenario with every ``extends`` parent merged under it."""
    data, positions = read_yaml(path)
    layers = [Layer(positions)]
    parent_ref = data.get("extends")
    if parent_ref is None:
        return data, layers
    loc = Locator(layers)
    if not isinstance(parent_ref, str) or not parent_ref.strip():
        # (a blank one named the file's own folder: "'' (a directory)")
        raise loc.error(("extends",), "a path to another scenario file", describe(parent_ref))
    # relative to the file that holds it: through a symbolic link, the file linked to
    # (as every parent in the chain is read), so a linked scenario extends what its
    # file does
    folder = Path(os.path.realpath(path)).parent
    named = folder / parent_ref
    if not is_regular_file(named):
        # (before resolving: a broken link is named as one, and a loop of links would
        # raise RuntimeError there)
        why = not_a_file(named)
        if why == "no such file" and not Path(parent_ref).is_absolute():
            # (a file copied to another folder names its parent from where it now is)
            why += f": extends is read from this file's folder, {folder}"
        found = f"{quoted_short(parent_ref, 120)} ({why})"
        raise loc.error(("extends",), "an existing scenario file", found)
    parent = named.resolve()
    if parent in chain or parent == path.resolve():
        raise loc.error(
            ("extends",),
            "a chain of extends without a cycle",
            f"{parent_ref!r}, which extends back to this file",
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise loc.error(
            ("extends",), f"at most {MAX_EXTENDS_DEPTH} levels of extends", "a deeper chain"
        )
    try:
        parent_data, parent_layers = read_with_extends(parent, chain + (path.resolve(),))
    except ScenarioError as exc:
        if exc.file == str(parent) and exc.path == "(document)" and "mapping" in exc.expected:
            # not YAML keys at all (extends: /etc/passwd): say so without quoting the file
            raise loc.error(("extends",), _SCENARIO_FILE, f"{parent_ref!r}, {exc.found}") from None
        raise
    known = set(ScenarioDoc.model_fields) | {"extends"}
    if not known & set(parent_data):
        raise loc.error(
            ("extends",),
            _SCENARIO_FILE,
            f"{parent_ref!r}, a YAML file with none of these keys",
        )
    child = {k: v for k, v in data.items() if k != "extends"}
    if empty_sources(parent_data, child):
        raise loc.error(("sources",), EMPTY_SOURCES, EMPTY_LIST)
    empty = empty_merge(parent_data, child)
    if empty is not None:
        raise loc.error(tuple(empty), NO_OP_MAPPING, "{}")
    merged = deep_merge(parent_data, child)
    merged.pop("extends", None)
    mine, theirs = _placed_sources(
        child.get("sources"),
        parent_data.get("sources"),
        merged.get("sources"),
        layers,
        parent_layers,
    )
    return merged, mine + theirs


def _placed_sources(
    mine: Any, theirs: Any, every: Any, over: list[Layer], under: list[Layer]
) -> tuple[list[Layer], list[Layer]]:
    """The layers ``over`` (of what merged the ``sources`` list ``mine`` onto
    ``theirs``, making ``every``: a file that extends another, a variant's overrides)
    and ``under`` (of what it merged onto), each placing the merged list's entries
    where they are written: ``over`` its own, numbered as it numbers them (merged by
    id, its entries stand among the others); ``under`` only those it still has (not
    those replaced by id, nor any where ``mine`` replaced its list whole). Without
    this, a key an entry of ``mine`` lacks was placed at the entry of ``theirs`` of the
    same index, which had it."""
    if not (isinstance(mine, list) and isinstance(theirs, list) and isinstance(every, list)):
        return over, under
    if _by_id(mine) and _by_id(theirs):
        index = {v["id"]: j for j, v in enumerate(mine)}
        numbers = {i: index[v["id"]] for i, v in enumerate(every) if v["id"] in index}
        over = [Layer(lay.positions, lay.prefix, numbers) for lay in over]
        gone = {i for i, v in enumerate(theirs) if v["id"] in index}
    else:
        gone = set(range(len(theirs)))
    return over, [_sources_kept(layer, len(theirs), gone) for layer in under]


def _placed_halves(mine: Any, theirs: Any, every: Any, layers: list[Layer]) -> list[Layer]:
    """:func:`_placed_sources` of a variant's layers (:meth:`Locator.under`: the layers
    below its overrides, then those it merged onto, as many of each)."""
    half = len(layers) // 2
    over, under = _placed_sources(mine, theirs, every, layers[:half], layers[half:])
    return over + under


def _sources_kept(layer: Layer, count: int, gone: set[int]) -> Layer:
    """``layer`` answering for the merged ``sources`` entries ``0 .. count - 1`` but
    ``gone`` (those a file extending it replaced), as it numbered them."""
    kept = {}
    for i in range(count):
        own = layer.own(("sources", i))
        if i not in gone and own is not None:
            kept[i] = int(own[1])
    return Layer(layer.positions, layer.prefix, kept)


def _real_path(loc: tuple[str | int, ...], data: Any, missing: bool) -> tuple[str | int, ...]:
    """The parts of a pydantic error location that are keys of the data (union tags and
    validator names dropped); a missing key's own name is kept."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]  # type: ignore[index]
            out.append(part)
        elif missing and i == len(loc) - 1:
            out.append(part)
    return tuple(out)


def _numeric(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validation_error(
    exc: ValidationError, locator: Locator, root: Path_ = (), data: Any = None
) -> ScenarioError:
    """The first pydantic error as one ScenarioError at its file position."""
    errors = exc.errors(include_url=False)
    err = errors[0]

    def where(e: Any) -> tuple[str | int, ...]:
        return _real_path(tuple(e["loc"]), data, e["type"] == "missing")

    loc = where(err)
    # text or a number (a report's tolerance): a number given is judged as one (".inf" is
    # no finite number), and anything else is told it may be either, not told to be text
    # in quotes ('true' in quotes is no tolerance either)
    either = err["type"] == "string_type" and any(
        other["type"] in ("int_type", "float_type") and where(other) == loc for other in errors[1:]
    )
    if either and _numeric(err.get("input")):
        for other in errors[1:]:
            if other["type"] != "string_type" and where(other) == loc:
                err, either = other, False
                break
    if err["type"] == "int_type":
        # a number may be whole or not (int | float): report the float branch's
        # error ("a finite number" for NaN, "a number" for text), not "a whole number"
        for other in errors[1:]:
            if (
                other["type"] in ("finite_number", "float_type", "float_parsing")
                and where(other) == loc
            ):
                err = other
                break
    path = root + loc
    kind, ctx, found_value = err["type"], err.get("ctx") or {}, err.get("input")
    # (a mapping's key broke its rule, "variants.On Time": placed at the key and quoted)
    key = tuple(err["loc"])[-1:] == ("[key]",)
    found = repr(found_value) if key else locator.written(path, found_value)
    if kind == "unknown_key":
        path = path + (ctx["key"],)
        expected = "one of " + ", ".join(ctx["allowed"])
        if ctx.get("hint"):
            expected += f" (did you mean {ctx['hint']!r}?)"
        found, key = f"unknown key {ctx['key']!r}", True
    elif kind == "missing":
        expected, found = f"the required key {str(path[-1]) if path else '?'!r}", "nothing"
        key = True
    elif kind == "missing_initial":
        expected, found = "initial (or sites with initial levels)", "neither"
    elif kind in ("value_error", "assertion_error"):
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        expected, found = expected_found(msg)
        found = found or describe(found_value)
    elif kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if "\\d{4}" in pattern:
            expected = "a month as YYYY-MM"
        elif "/" in pattern:
            expected = (
                "a theater id (lower-case letters, digits, - or _, starting with a letter or "
                "digit), or theater/site"
            )
        else:
            expected = (
                "an id of at most 64 lower-case letters, digits, - or _, starting with a "
                "letter or digit"
            )
    else:
        expected = _EXPECTED.get(kind) or err["msg"][0].lower() + err["msg"][1:]
        if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            expected = err["msg"].replace("Input should be ", "a number ")
        elif kind in ("too_short", "too_long") and isinstance(found_value, list | dict):
            # "at most 50 theaters, found 51 theaters"
            what = str(path[-1]) if path and path[-1] in _COUNTED else "items"
            bound = ctx.get("max_length") if kind == "too_long" else ctx.get("min_length")
            one = what.removesuffix("s")
            expected = f"{'at most' if kind == 'too_long' else 'at least'} {bound} "
            expected += one if bound == 1 else what
            found = f"{len(found_value)} {one if len(found_value) == 1 else what}"
        elif kind in ("string_too_short", "string_too_long") and isinstance(found_value, str):
            # "text of at most 4,000 characters, found 'yyyy…' (900,000 characters)"
            short = kind == "string_too_short"
            bound = ctx.get("min_length" if short else "max_length")
            expected = f"text of {'at least' if short else 'at most'} {bound:,} characters"
        elif kind in ("too_short", "too_long"):
            expected = err["msg"][0].lower() + err["msg"][1:]
        elif kind == "literal_error":
            expected = "one of " + str(ctx.get("expected", ""))
        elif kind in ("quantity", "deadline"):
            expected = err["msg"]
    text = locator.text(path)
    if kind in ("string_too_short", "string_too_long") and isinstance(found_value, str):
        # its start as the file wrote it (or as set in code), and the text's own length
        found = quoted_short(text if text is not None else found_value, 120, size=len(found_value))
    elif text is not None and not key and kind != "missing_initial":
        # quote the scalar as the file wrote it, and say what to write instead
        found = written(text) + ("" if either else _hint(kind, expected, text, found_value))
    if either:
        expected = "text or a number"
    return locator.error(path, expected, found, key=key)


#: the tables whose entries a length error counts by name
_COUNTED = (
    "theaters",
    "sites",
    "milestones",
    "residuals",
    "variants",
    "sources",
    "values",
    "observations",
)


def written(text: str) -> str:
    """A scalar's text as written, in quotes (a quoted scalar shows its own quotes)."""
    return text if text[:1] in ("'", '"') else repr(text)


def _hint(kind: str, expected: str, text: str, value: Any) -> str:
    """`` (what to write)`` for a scalar that broke a type rule, or ``""``."""
    if "number" in expected and not isinstance(value, bool):
        return number_hint(text)
    if kind == "bool_type" and isinstance(value, str):
        if value.strip().lower() in ("true", "false"):
            return " (write true or false without quotes)"
        if value.strip().lower() in ("yes", "no", "on", "off", "y", "n"):
            return " (write true or false: YAML 1.2 reads yes, no, on and off as text)"
    if expected == "text" and not isinstance(value, str):
        return f" (in quotes: '{text}')"
    return month_hint(text) if expected.startswith("a month") else ""  # (a day, Dec 2026)


_EXPECTED = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "string_type": "text",
    "string_unicode": "text (a lone surrogate, such as \\ud800, is no character)",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "date_type": "a date YYYY-MM-DD",
    "date_from_datetime_parsing": "a date YYYY-MM-DD",
    "union_tag_not_found": "a recognised form",
}


def validate_doc(data: dict[str, Any], locator: Locator, root: Path_ = ()) -> ScenarioDoc:
    try:
        return ScenarioDoc.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, locator, root, data) from None


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Resolved(NamedTuple):
    """One variant of a scenario, resolved, validated and compiled."""

    description: str
    doc: ScenarioDoc
    raw: dict[str, Any]
    locator: Locator
    plan: Plan


def resolve_variants(
    base_raw: dict[str, Any],
    base: ScenarioDoc,
    locator: Locator,
    *,
    recorded: bool = False,
    earlier: tuple[dict[str, Any], Mapping[str, Resolved]] | None = None,
) -> dict[str, Resolved]:
    """Each variant resolved (the base alone, as ``base``, when there are none).
    ``recorded``: the scenario of a run's record, which an earlier version ran: the
    values a variant may no longer change (:func:`refuse_scenario_own`) are read as
    that run read them (from the base), not refused. ``earlier``: ``(raw data,
    variants)`` of the scenario this one was made from (a copy with values set): a
    variant whose entry and base are the very objects they were there is taken as it
    was resolved, not checked again (a sweep sets its values on the variants it runs,
    and checked each of the others again at every point)."""
    plain = {k: v for k, v in base_raw.items() if k != "variants"}
    same_base = (
        earlier is not None
        and plain.keys() == {k for k in earlier[0] if k != "variants"}
        and all(plain[k] is earlier[0][k] for k in plain)
    )
    if not (same_base and base.variants):
        base_plan = check_scenario(base, locator)
        if not base.variants:
            return {BASE: Resolved("the scenario as written", base, base_raw, locator, base_plan)}
    out: dict[str, Resolved] = {}
    for name, variant in base.variants.items():
        if same_base and earlier is not None and name in earlier[1]:
            entries = base_raw.get("variants") or {}, earlier[0].get("variants") or {}
            if name in entries[1] and entries[0].get(name) is entries[1][name]:
                out[name] = earlier[1][name]
                continue
        for forbidden in ("variants", "extends", "id"):
            if forbidden in variant.overrides:
                raise locator.error(
                    ("variants", name, "overrides", forbidden),
                    "overrides of scenario values (not variants, extends or id)",
                    f"the key {forbidden!r}",
                    key=True,
                )
        raw, vloc = _layered(name, plain, base, locator)
        try:
            doc, plan = _resolved(name, raw, vloc, base, recorded)
        except ScenarioError as exc:
            exc = misnamed_entry(exc, plain, variant.overrides, vloc) or exc
            on_top = (exc.file or "").startswith("<") or locator.set_on_top(("variants", name))
            if on_top and _wrong_alike(exc, name, plain, base, locator):
                # (a value set on top of every variant, or one of the base a value set so
                # made wrong, wrong alike in each: no variant is to blame, and naming one
                # sent the reader to its overrides)
                raise exc from None
            raise in_variant(exc, name, locator) from None
        out[name] = Resolved(variant.description, doc, raw, vloc, plan)
    return out


def _layered(
    name: str, plain: dict[str, Any], base: ScenarioDoc, locator: Locator
) -> tuple[dict[str, Any], Locator]:
    """Variant ``name``'s data (the base's ``plain`` data with its overrides) and the
    locator that places its values."""
    variant = base.variants[name]
    empty = empty_merge(plain, variant.overrides)
    where = ("variants", name, "overrides", *(empty or ()))
    if empty is not None and locator.written_empty(where):  # (not emptied by its nulls)
        raise locator.error(where, NO_OP_MAPPING, "{}")
    raw = deep_merge(plain, variant.overrides)
    vloc = locator.under(("variants", name, "overrides"))
    if "sources" in variant.overrides:  # (each entry placed where it is written)
        sources = variant.overrides["sources"], plain.get("sources"), raw.get("sources")
        vloc = vloc.relayered(partial(_placed_halves, *sources))
    return raw, vloc


def _resolved(
    name: str, raw: dict[str, Any], vloc: Locator, base: ScenarioDoc, recorded: bool
) -> tuple[ScenarioDoc, Plan]:
    """Variant ``name``'s document and plan from its data and locator (:func:`_layered`),
    or its error."""
    if not recorded:
        refuse_scenario_own(name, base.variants[name].overrides, base, vloc)
    doc = validate_doc(raw, vloc)
    return doc, check_scenario(doc, vloc)


def _wrong_alike(
    exc: ScenarioError, name: str, plain: dict[str, Any], base: ScenarioDoc, locator: Locator
) -> bool:
    """Whether every other variant that values were set on top of (``--set``, or
    overrides given in code: :meth:`Locator.set_on_top`) is refused with the same error
    as variant ``name``'s ``exc``; where no other was, whether ``exc`` is placed on the
    values set on top themselves (not at a line of a file)."""
    compared = 0
    for other in base.variants:
        if other == name or not locator.set_on_top(("variants", other)):
            continue
        compared += 1
        try:
            _resolved(other, *_layered(other, plain, base, locator), base, False)
        except ScenarioError as them:
            if (them.path, them.expected, them.found) != (exc.path, exc.expected, exc.found):
                return False
        else:
            return False
    # (a value set on top of this variant alone, wrong at a line of the file: that
    # variant is to blame, and its name says where the value came from)
    return compared > 0 or (exc.file or "").startswith("<")


#: the tables of named entries, and what one entry of each is called
ENTRY_KINDS = {
    "theaters": "theater",
    "sites": "site",
    "milestones": "milestone",
    "residuals": "residual",
}


def misnamed_entry(
    exc: ScenarioError, base: dict[str, Any], overrides: dict[str, Any], locator: Locator
) -> ScenarioError | None:
    """For ``exc``, a required key missing from an entry itself (theater, site,
    milestone or residual: not from a part of it) that a variant's ``overrides`` add to
    ``base`` (raw data) under a name close to one the base has: the error of a
    misspelt name, at the entry's key, listing the names there are (likelier than a
    new entry left unfinished); else None."""
    if not exc.expected.startswith("the required key "):
        return None
    missing = exc.expected.removeprefix("the required key ")
    for path, known in _added(base, overrides):
        if exc.path != ".".join(map(str, path)) + "." + missing.strip("'"):
            continue
        hint = nearest(str(path[-1]), known)
        if hint is None:  # (a new entry, left unfinished: the schema's error says so)
            return None
        kind = ENTRY_KINDS[str(path[-2])]
        return locator.error(
            path,
            f"one of the {kind}s of the scenario ({listed(known)}; did you mean "
            f"{hint!r}?), or a whole new {kind} (this one has no {missing})",
            repr(path[-1]),
            key=True,
        )
    return None


def _added(base: dict[str, Any], overrides: dict[str, Any]) -> list[tuple[Path_, list[str]]]:
    """The entries ``overrides`` add to ``base`` (raw data): each one's key path and the
    names its table has in ``base``."""

    def table(data: Any, key: str) -> dict[Any, Any]:
        got = data.get(key) if isinstance(data, dict) else None
        return got if isinstance(got, dict) else {}

    out: list[tuple[Path_, list[str]]] = []
    for key in ("theaters", "milestones", "residuals"):
        have = table(base, key)
        for eid, entry in table(overrides, key).items():
            if eid not in have:
                out.append(((key, eid), [str(k) for k in have]))
            elif key == "theaters":
                sites = table(have[eid], "sites")
                out += [
                    ((key, eid, "sites", sid), [str(k) for k in sites])
                    for sid in table(entry, "sites")
                    if sid not in sites
                ]
    return out


#: the scenario's own values: charts, tables and pages take them from the base, the
#: same for every variant, so a variant's overrides may not change them
SCENARIO_OWN = ("title", "description", "as_of")


def refuse_scenario_own(
    name: str, overrides: dict[str, Any], base: ScenarioDoc, locator: Locator
) -> None:
    """Refuse, in variant ``name``'s ``overrides``, a value that every output reads from
    the base scenario and would leave as it is (accepted, then ignored): the scenario's
    title, description or as-of date (:data:`SCENARIO_OWN`), the name of a theater
    or site the base has, given otherwise, and an empty ``sources`` list where the
    base has sources (a variant's ``sources`` merge by id onto the base's: the sources
    its own numbers cite; :func:`empty_sources`).

    ``locator``: the variant's (:meth:`Locator.under` its overrides), so that key paths
    are those of the resolved variant. Raises ``ScenarioError`` at the key in the
    overrides, quoting the value as written.
    """
    for key in SCENARIO_OWN:
        if key in overrides:
            raise locator.error(
                (key,),
                f"overrides of values a variant may change (not {', '.join(SCENARIO_OWN[:-1])} "
                f"or {SCENARIO_OWN[-1]}: they are the scenario's, the same in every "
                f"variant; a variant's own is variants.{name}.description)",
                f"the key {key!r}",
                key=True,
            )
    if empty_sources({"sources": base.sources}, overrides):
        raise locator.error(("sources",), EMPTY_SOURCES, EMPTY_LIST)
    theaters = overrides.get("theaters")
    if not isinstance(theaters, dict):
        return
    for tid, theater in theaters.items():
        own = base.theaters.get(tid) if isinstance(tid, str) else None
        if own is None or not isinstance(theater, dict):
            continue
        named: list[tuple[Path_, Any, str | None]] = []
        if "name" in theater:
            named.append((("theaters", tid, "name"), theater["name"], own.name))
        sites = theater.get("sites")
        if isinstance(sites, dict):
            for sid, site in sites.items():
                if sid in own.sites and isinstance(site, dict) and "name" in site:
                    named.append(
                        (("theaters", tid, "sites", sid, "name"), site["name"], own.sites[sid].name)
                    )
        for path, given, written in named:
            if given == written:
                continue
            given_there = (
                f"the name the base gives it ({written!r})"
                if written is not None
                else "no name (the base gives it none: name it there, for every variant)"
            )
            raise locator.error(
                path,
                f"{given_there}: a theater or site is named one way in every variant's "
                "charts and tables (a variant may name one it adds)",
                locator.written(path, given),
            )


def in_overrides(exc: ScenarioError, name: str, locator: Locator) -> ScenarioError:
    """An error found in variant ``name`` with its key path the file's own
    (``variants.NAME.overrides.…``) when it lies at a line of the variant's overrides;
    else ``exc`` itself (a value of the base, placed where the base writes it)."""
    prefix: Path_ = ("variants", name, "overrides")
    spots = {
        (layer.positions.file, *pos)
        for layer in locator.layers
        for table in (layer.positions.values, layer.positions.keys)
        for path, pos in table.items()
        if path[: len(layer.prefix) + 3] == layer.prefix + prefix
    }
    if (exc.file, exc.line, exc.col) not in spots or exc.path == "(document)":
        return exc
    path = f"variants.{name}.overrides.{exc.path}"
    return ScenarioError(
        exc.expected, exc.found, file=exc.file, line=exc.line, col=exc.col, path=path
    )


def in_variant(exc: ScenarioError, name: str, locator: Locator) -> ScenarioError:
    """An error found in variant ``name``, saying so: at a line of its overrides, the
    key path is the file's own (``variants.NAME.overrides.…``); at a line of the base
    (the variant made a base value wrong), the message names the variant and where
    its overrides are."""
    moved = in_overrides(exc, name, locator)
    if moved is not exc:
        return moved
    prefix: Path_ = ("variants", name, "overrides")
    file, line, _ = locator.find(prefix, key=True)
    if file.startswith("<"):  # (values set on top: where the file writes the variant)
        file, line, _ = Locator(list(locator.layers)).find(prefix, key=True)
    if file.startswith("<"):  # (a variant of no file: made in code)
        return exc.with_found(f"{exc.found} (with variant {name!r})")
    return exc.with_found(
        f"{exc.found} (with variant {name!r}, whose overrides are at {file}:{line})"
    )


def unused_in(
    base: ScenarioDoc, locator: Locator, resolved: Mapping[str, Resolved]
) -> list[ScenarioWarning]:
    """The inputs of a resolved scenario that no run uses (:func:`sim.checks.unused_inputs`)."""
    variants = {n: (r.doc, r.raw, r.locator) for n, r in resolved.items() if n in base.variants}
    return unused_inputs(base, locator, variants)


def variant_names(wanted: str | Iterable[Any] | None, hint: str = "") -> list[str] | None:
    """Variant names as given: one name (a str), or any iterable of them (a list, a
    NumPy array, a pandas Series), as plain ``str``; None for None.

    Raises
    ------
    sim.ScenarioError
        At ``<arguments>``, ``variants``: for what is neither, or a name that is not
        text (``hint`` follows what is expected: ", one of a, b")."""
    if wanted is None:
        return None
    if isinstance(wanted, str):
        return [wanted]  # "slip-6": that variant, not its letters
    if not isinstance(wanted, Iterable) or isinstance(wanted, bytes | bytearray):
        # (b"base" iterated as its byte values: "found 98")
        raise ScenarioError(
            "variant names: one name or a list of names",
            repr(wanted)[:60] if isinstance(wanted, bytes | bytearray) else describe(wanted),
            file="<arguments>",
            path="variants",
        )
    if isinstance(wanted, set | frozenset):  # (their order, and every file's, by hash seed)
        raise ScenarioError(
            "variant names in a list (a set has no order: a list says which comes first)",
            "a set",
            file="<arguments>",
            path="variants",
        )
    names = list(wanted)
    for name in names:
        if not isinstance(name, str):  # (None included)
            raise ScenarioError(
                "variant names as text" + hint, repr(name)[:60], file="<arguments>", path="variants"
            )
    return [str(n) for n in names]  # (np.str_ as plain str)


def select_variants(
    available: Mapping[str, Any],
    wanted: str | Iterable[str] | None,
    locator: Locator | None = None,
) -> list[str]:
    """The variant names to run, checked against what the scenario defines: one name,
    or any iterable of names (a list, a NumPy array, a pandas Series); all of them when
    None or empty, each once in the order given.

    Raises
    ------
    sim.ScenarioError
        For a name that is not text (at ``<arguments>``), or an unknown name (at the
        file's ``variants`` key, with a did-you-mean).
    """
    names = variant_names(wanted, ", one of " + ", ".join(available)) or []
    if not names:
        return list(available)

    out: list[str] = []
    for name in names:
        if name not in available:
            hint = nearest(name, list(available))
            expected = "one of " + listed(list(available))
            several = [n.strip() for n in name.split(",")]
            if len(several) > 1 and all(n in available for n in several):
                # ("on-time,slip-6": a sweep's values take commas, variants do not)
                each = " ".join(f"--variant {n}" for n in several)
                expected += f" (several are named one at a time: {each}, or a list in Python)"
            elif hint:
                expected += f" (did you mean {hint!r}?)"
            file, line, col = locator.find(("variants",)) if locator else ("<scenario>", 1, 1)
            raise ScenarioError(
                expected,
                f"unknown variant {name!r}",
                file=file,
                line=line,
                col=col,
                path="variants",
                argument="variants",
            )
        if name not in out:
            out.append(str(name))  # (numpy's str_ of an array of names, as plain text)
    return out


def _doc_observations(
    doc: ScenarioDoc, locator: Locator, allowed: Sequence[str]
) -> ObservationSet | None:
    """The observations a scenario document lists or points to, checked."""
    obs = doc.observations
    if obs is None:
        return None
    if isinstance(obs, str):
        file, _, _ = locator.find(("observations",))
        # (relative to the file that holds it, through a link the file linked to)
        base = (
            Path(os.path.realpath(file)).parent if file and not file.startswith("<") else Path(".")
        )
        target = base / obs
        if not obs.strip() or not is_regular_file(target):
            why = "no path" if not obs.strip() else not_a_file(target)
            raise locator.error(
                ("observations",),
                "the path of an observations CSV file, relative to the scenario file",
                f"{quoted_short(obs, 120)} ({why})",
            )
        return read_observations(target, allowed)
    items: list[Observation] = []
    for i, o in enumerate(obs):
        path = ("observations", i)
        raw = o.date.isoformat() if isinstance(o.date, dt.date) else str(o.date)
        try:
            date, month = parse_date(raw)
        except ValueError as exc:
            expected, found = expected_found(exc)
            raise locator.error(path + ("date",), expected, found) from None
        if not SERIES.match(o.theater):
            raise locator.error(
                path + ("theater",), "a theater id or theater/site", describe(o.theater)
            )
        if o.theater not in allowed:
            raise locator.error(path + ("theater",), *unknown_series(o.theater, allowed))
        low = None if o.troops_low is None else float(o.troops_low)
        high = None if o.troops_high is None else float(o.troops_high)
        texts = {c: locator.text(path + (c,)) for c in ("troops_low", "troops_high")}
        broken = check_bounds(low, high, {c: s for c, s in texts.items() if s is not None})
        if broken:
            col, expected, found = broken
            raise locator.error(path + (col,), expected, found)
        for col in ("source", "quote"):
            text = getattr(o, col)
            formula = None if text is None else formula_problem(text)
            if formula is not None:
                raise locator.error(path + (col,), *formula)
        kind = o.kind or REPORTED
        try:
            tolerance = (
                None
                if o.tolerance is None
                else tolerance_from(
                    o.tolerance if isinstance(o.tolerance, str) else plain_number(o.tolerance)
                )
            )
        except ValueError as exc:
            expected, found = expected_found(exc)
            raise locator.error(path + ("tolerance",), expected, found) from None
        if kind == TARGET and tolerance is not None:
            raise locator.error(path + ("tolerance",), TARGET_TOLERANCE, repr(o.tolerance))
        by_text = o.by.isoformat() if isinstance(o.by, dt.date) else (o.by or "")
        try:
            by = parse_by(by_text, kind, month)
        except ValueError as exc:
            expected, found = expected_found(exc)
            raise locator.error(path + ("by",), expected, found) from None
        items.append(
            Observation(
                date,
                month,
                o.theater,
                low,
                high,
                o.source or "",
                o.quote or "",
                kind=kind,
                tolerance=tolerance,
                by=by,
            )
        )
    return ObservationSet(tuple(items), f"{locator.find(('observations',))[0]} (observations)")


def check_scenario_observations(doc: ScenarioDoc, locator: Locator) -> ObservationSet | None:
    """Check a base document's observations (inline, or the CSV it points to).

    Observations are facts, not readings of the plan: a variant may not override them.
    """
    for name, variant in doc.variants.items():
        if "observations" in variant.overrides:
            raise locator.error(
                ("variants", name, "overrides", "observations"),
                "observations in the base scenario (they are the same for every variant)",
                "observations in a variant",
                key=True,
            )
    if doc.observations is None:
        return None
    return _doc_observations(doc, locator, doc_series(doc))


def doc_series(doc: ScenarioDoc) -> list[str]:
    """What an observation may name in ``doc``: each theater, then each site key."""
    sites = [f"{tid}/{sid}" for tid, t in doc.theaters.items() for sid in t.sites]
    return list(doc.theaters) + sites
