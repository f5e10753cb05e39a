"""Values set on the command line: ``--set KEY=VALUE`` and a sweep's ``--set KEY=V1,V2,...``.

``KEY`` is a dotted key path into the scenario (``announcement.delay``,
``milestones.iraq-phase-1.target.reduce_by``); ``VALUE`` is one value in YAML
flow syntax, read by :mod:`sim.io.yamlio` (the project's only YAML parser), so
``600``, ``null``, ``[300, 900]`` and ``{uniform: [0, 6]}`` all work. A sweep's
list is split at the commas that stand outside brackets and quotes; each item is
a flow value or a range ``FROM..TO`` or ``FROM..TO:STEP`` (both ends included,
step 1 unless given). Range arithmetic is exact (decimal), so ``0..1:0.1``
gives ``0, 0.1, ..., 1`` as written, not as repeated float addition would.

Every problem is a :class:`~sim.errors.ScenarioError` naming ``<command line>``
and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from typing import Any

from sim.errors import ScenarioError, quoted_short
from sim.io.numbers import EXACT_EXPECTED, form_hint, inexact, too_many_digits
from sim.io.yamlio import parse_yaml

COMMAND_LINE = "<command line>"
MAX_POINTS = 100_000  # values one swept key may take
_KEY_PART = re.compile(r"^[A-Za-z0-9_-]+$")
_NUM = r"(-?[0-9]+(?:\.[0-9]+)?)"
_RANGE = re.compile(rf"^\s*{_NUM}\s*\.\.\s*{_NUM}\s*(?::\s*{_NUM}\s*)?$")
#: a range written with what a range's numbers do not take (``+1..3``, ``0..2:1e0``,
#: ``1..3:1:1``, ``..3``): numbers, signs, exponents, dots and colons alone, two dots
_BAD_RANGE = re.compile(r"^\s*[0-9.:eE+\-\s]*\.\.[0-9.:eE+\-\s]*$")
_WRAP = "v: "  # a value is read as the document ``v: VALUE``
#: what looks like a range written another way (``0-12:3``, ``0...12``, ``0 to 12``):
#: refused with the range's form, not read as a value no scenario takes
_NEAR_RANGE = re.compile(
    r"\s*[+-]?\d+(?:\.\d+)?\s*(?:-\s*[+-]?\d+(?:\.\d+)?\s*:\s*\S+"  # (a month, 2025-06, is a value)
    r"|(?:\.{3,}|to)\s*[+-]?\d+(?:\.\d+)?\s*(?::\s*\S+)?)\s*$"
)


@dataclass(frozen=True)
class Setting:
    """One ``KEY=VALUE``: the dotted ``key``, its parsed ``value`` and the ``text`` given;
    ``texts``: each scalar of the value as written, by key path below ``key`` (``()`` for
    a scalar value), for errors to quote (``'1.50'``, not ``1.5``)."""

    key: str
    value: Any
    text: str
    texts: Mapping[tuple[str | int, ...], str] = field(default_factory=dict)


def _error(key: str, expected: str, found: str, col: int = 1) -> ScenarioError:
    return ScenarioError(expected, found, file=COMMAND_LINE, line=1, col=col, path=key or "(--set)")


def _split_key(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq:
        raise _error(key, "KEY=VALUE (a dotted key path, =, a value)", repr(text))
    parts = key.split(".")
    if not key or not all(_KEY_PART.match(p) for p in parts):
        raise _error(
            key,
            "a dotted key path such as announcement.delay or theaters.iraq.initial",
            repr(key),
        )
    if not value.strip():
        raise _error(key, "a value after '=' (null deletes the key)", "nothing")
    return key, value


def parse_value(key: str, text: str) -> Any:
    """One value in YAML flow syntax (``600``, ``null``, ``{uniform: [0, 6]}``)
    (:func:`parse_written` also gives each scalar's text as written).

    Raises
    ------
    sim.ScenarioError
        For text that is not one YAML value, at ``<command line>:1:COL`` where COL
        is the column within ``text``.
    """
    return parse_written(key, text)[0]


def parse_written(key: str, text: str) -> tuple[Any, dict[tuple[str | int, ...], str]]:
    """:func:`parse_value`, and each scalar of the value as written, by key path below
    ``key`` (``()`` for a scalar value)."""
    if "\n" in text or "\r" in text:
        raise _error(key, "a value on one line", repr(text))
    try:
        data, positions = parse_yaml(_WRAP + text, COMMAND_LINE)
    except ScenarioError as exc:
        col = max(1, (exc.col or 1) - len(_WRAP)) if exc.line in (None, 1) else 1
        if exc.path is not None and exc.path.split(".")[0].split("[")[0] == "v":
            # the value reads as YAML but is refused as written (010, 1:30): say why
            raise _error(key, exc.expected, exc.found, col) from None
        raise _error(
            key,
            "a value in YAML flow syntax, e.g. 600, [300, 900] or {uniform: [0, 6]}",
            f"{text.strip()!r} ({exc.found})",
            col,
        ) from None
    if list(data) != ["v"]:
        raise _error(key, "one value", repr(text.strip()))
    if data["v"] is None and not text.split("#")[0].strip():
        # (=#3 is a comment alone, no value: it read as null, and deleted the key)
        raise _error(
            key,
            "a value, or null written as null to delete the key (a # starts a comment "
            "in YAML: quote text that holds one)",
            repr(text.strip()),
        )
    empty = _empty_mapping(data["v"])
    if empty is not None:
        # a mapping merges key by key into the one it sets: an empty one (or one inside
        # it, theaters={iraq: {}}) would change nothing, and the run would go on as if
        # it had been heard
        raise _error(".".join([key, *empty]), NO_OP_MAPPING, repr(text.strip()))
    texts = {path[1:]: t for path, t in positions.texts.items() if path[:1] == ("v",)}
    return data["v"], texts


#: what a mapping that merges into another and changes nothing is told to be (by
#: ``--set``, and by the loader of a variant's overrides or an extending file)
NO_OP_MAPPING = (
    "a value that changes something (a mapping merges key by key, so {} sets nothing; "
    "null deletes the key)"
)


def _empty_mapping(value: Any) -> list[str] | None:
    """The keys down to an empty mapping in ``value`` (``[]`` for ``value`` itself),
    reached through mappings only (a list is set whole, not merged), or None."""
    if not isinstance(value, dict):
        return None
    if not value:
        return []
    for name, inner in value.items():
        below = _empty_mapping(inner)
        if below is not None:
            return [str(name), *below]
    return None


def parse_setting(text: str) -> Setting:
    """``KEY=VALUE`` → :class:`Setting`.

    Examples
    --------
    >>> parse_setting("announcement.delay={uniform: [0, 6]}").value
    {'uniform': [0, 6]}
    """
    key, value = _split_key(text)
    parsed, texts = parse_written(key, value)
    return Setting(key, parsed, value.strip(), texts)


def split_items(text: str) -> list[str]:
    """``text`` split at the commas outside brackets, braces and quotes."""
    items: list[str] = []
    depth, quote, start = 0, "", 0
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        elif c == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def expand_range(key: str, text: str) -> list[Setting] | None:
    """``FROM..TO[:STEP]`` → one :class:`Setting` per value (None when ``text`` is not
    a range). Whole numbers stay whole; every value is ``FROM + i * STEP`` in exact
    decimal arithmetic, up to and including ``TO``; a ``TO`` off that grid is refused
    (its value would not run). An error about a value quotes the
    range as written (``'0..9:1.50'``): the value itself was not written."""
    m = _RANGE.match(text)
    if m is None:
        return None
    for bound in m.groups():
        hint = None if bound is None else form_hint(bound)
        if hint:  # 010..012 is 8..10 to a YAML 1.1 reader: never read as 10..12
            raise _error(key, f"a range of plain decimal numbers ({hint})", repr(text.strip()))
    # (exact: as many digits as the range is written with, and more; decimal's 28 by
    # default rounded a long end, or failed on it)
    digits = sum(len(g) for g in m.groups() if g) + 10
    with localcontext(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN):
        return _expanded(key, text, m, digits)


def _expanded(key: str, text: str, m: re.Match[str], digits: int) -> list[Setting]:
    """:func:`expand_range` of a range matched as ``m``, in a decimal context of
    ``digits`` digits (every difference and quotient of its numbers exact)."""
    lo, hi = Decimal(m.group(1)), Decimal(m.group(2))
    step = Decimal(m.group(3)) if m.group(3) else Decimal(1)
    if step <= 0:
        raise _error(key, "a range with a positive STEP", repr(text.strip()))
    if hi < lo:
        raise _error(key, "a range FROM..TO with FROM <= TO", repr(text.strip()))
    if (hi - lo) % step:  # (0..10:3 ran 0, 3, 6, 9: the 10 written was dropped)
        below = lo + ((hi - lo) // step) * step
        raise _error(
            key,
            f"a range whose TO is FROM plus a whole number of STEPs, both ends run "
            f"({lo:f}..{below:f}:{step:f} or {lo:f}..{below + step:f}:{step:f})",
            repr(text.strip()),
        )
    counted = (hi - lo) / step + 1  # (exact: a whole number, checked above)
    if counted > MAX_POINTS:
        many = f"{counted:,f}" if counted.adjusted() < 30 else f"about 10^{counted.adjusted()}"
        raise _error(
            key, f"at most {MAX_POINTS:,} values", f"{many} in {quoted_short(text.strip(), 80)}"
        )
    count = int(counted)
    whole = all(d == d.to_integral_value() for d in (lo, step))
    if whole:  # (Python reads no more than 4,300 digits as an int)
        for bound in (m.group(1), m.group(2)):
            long = too_many_digits(bound.partition(".")[0])
            if long is not None:
                raise _error(key, *long)
    out = []
    for i in range(count):
        d = lo + i * step
        if not whole and (read := inexact(format(d, "f"))) is not None:
            # (0..1:0.12345678901234567891 ran a value other than the one it names)
            raise _error(
                key,
                EXACT_EXPECTED,
                f"{format(d, 'f')!r} in {quoted_short(text.strip(), 80)}, "
                f"which would be read as {read}",
            )
        value: Any = int(d) if whole else float(d)
        out.append(Setting(key, value, str(value), {(): text.strip()}))
    return out


def parse_axis(text: str) -> tuple[str, list[Setting]]:
    """A sweep's ``KEY=V1,V2,...`` → the key and one :class:`Setting` per value.

    Each item is a YAML flow value or a range ``FROM..TO[:STEP]``; items are
    split at commas outside brackets and quotes, so ``{uniform: [0, 3]},{uniform:
    [0, 6]}`` is two values.

    Raises
    ------
    sim.ScenarioError
        For a malformed key, item or range, or a value listed twice.
    """
    key, rest = _split_key(text)
    values: list[Setting] = []
    for item in split_items(rest):
        if not item.strip():
            raise _error(key, "values separated by single commas", f"an empty item in {rest!r}")
        expanded = expand_range(key, item)
        if expanded is None and _NEAR_RANGE.match(item):  # (0-12:3, 0...12: a range meant)
            raise _error(
                key,
                "a value, or a range FROM..TO[:STEP] (two dots: 0..12:3)",
                repr(item.strip()),
            )
        if expanded is None and _BAD_RANGE.match(item):  # (+1..3: read as a formula's text)
            raise _error(
                key,
                "a range FROM..TO[:STEP] of plain decimal numbers, a minus their only sign "
                "(0..12:3, -3..3:0.5)",
                repr(item.strip()),
            )
        if expanded is None:
            parsed, texts = parse_written(key, item)
            expanded = [Setting(key, parsed, item.strip(), texts)]
        values.extend(expanded)
    seen: set[str] = set()
    for s in values:
        if s.text in seen:
            raise _error(key, "each value once", f"{s.text!r} twice")
        seen.add(s.text)
    if len(values) > MAX_POINTS:
        raise _error(key, f"at most {MAX_POINTS:,} values", f"{len(values):,}")
    return key, values
