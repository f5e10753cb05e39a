"""Reading YAML safely, keeping the position of every key and value.

This is the only module that parses YAML. It returns plain data (dicts, lists,
scalars) together with a :class:`Positions` map from key paths to
``(line, column)``, so that every later error can name the line it is about.

Rules, each failing with a :class:`~sim.errors.ScenarioError`:

* the file must exist, be a regular file, be at most ``MAX_BYTES``, be text
  (UTF-8, or UTF-16 or UTF-32 with a byte-order mark) and hold no NUL characters;
* scalars are read as YAML 1.2's core schema reads them (the schema editors use):
  ``true``/``false`` are the only booleans, ``null``/``~``/nothing the only null,
  and ``yes``, ``on``, ``2024-09-01`` or ``1_000`` stay text;
* a number must be plain decimal digits: forms that YAML 1.1 and 1.2 readers take
  for different numbers (``0700``, ``0o700``, ``0x1F``, ``1e3``) are refused with a
  hint (:mod:`sim.io.numbers`), never reinterpreted;
* a decimal a 64-bit float cannot hold as written is refused with what it would be
  read as (``2499.9999999999999999`` is the float 2500.0): the run never uses another
  number than the file's (:func:`sim.io.numbers.inexact`);
* only the plain YAML types (mapping, list, string, number, boolean, null); an
  explicit tag other than ``!!str`` is refused;
* anchors and aliases are refused (they are how "billion laughs" bombs work);
* duplicate keys are refused; keys must be strings;
* text holds no control character but tab and line break (a double-quoted ``"\\e[2J"``
  would otherwise reach the terminal, the charts and the page as an escape sequence);
* nesting is at most ``MAX_DEPTH`` levels deep.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import yaml

from sim.errors import ScenarioError, describe, one_line
from sim.io.numbers import (
    EXACT_EXPECTED,
    PLAIN_DECIMAL,
    form_hint,
    inexact,
    spoken,
    too_many_digits,
)
from sim.paths import missing

MAX_BYTES = 1_000_000
MAX_DEPTH = 32

#: the tag the composer gives every plain (unquoted, untagged) scalar: the builder
#: resolves it by the YAML 1.2 core schema, not PyYAML's YAML 1.1 resolver
PLAIN = "tag:forcesim,2024:plain"
_STR = "tag:yaml.org,2002:str"
_ALLOWED_TAGS = {PLAIN, _STR, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


class _PlainScalars:
    """Mixed into a PyYAML loader: every plain scalar is tagged :data:`PLAIN` (quoted
    ones stay str), so that the builder, not YAML 1.1's resolver, reads it."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return PLAIN
        return super().resolve(kind, value, implicit)  # type: ignore[misc]


# libyaml's composer when PyYAML was built with it (same nodes and marks, ~10x faster)
_FAST_LOADER = type(
    "_FastLoader", (_PlainScalars, getattr(yaml, "CSafeLoader", yaml.SafeLoader)), {}
)
_SLOW_LOADER = type("_SlowLoader", (_PlainScalars, yaml.SafeLoader), {})

# the YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$|^0o[0-7]+$|^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
#: C0 controls but tab and line feed, DEL and C1 controls: only an escape in a
#: double-quoted scalar makes them (the reader refuses them written as themselves)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

Path_ = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each key path sits in one file: ``(line, col)``, 1-based."""

    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    #: each scalar's text as written (quotes included), for messages to quote
    texts: dict[Path_, str] = field(default_factory=dict)

    def find(self, path: Path_, *, key: bool = False) -> tuple[int, int] | None:
        """Position of ``path`` (its key when ``key``), else of its nearest ancestor."""
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        p = tuple(path)
        while p:
            p = p[:-1]
            if p in self.values:
                return self.values[p]
        return None


def dotted(path: Path_) -> str:
    """``theaters.iraq.initial`` or ``sources[0].id`` for a key path."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


#: what :func:`value_at` gives where the data has nothing (None may be a value)
MISSING: Any = object()


def value_at(data: Any, path: Sequence[str], default: Any = MISSING) -> Any:
    """What plain data (nested mappings) holds at the key path ``path``, or ``default``
    where some key is missing or a value on the way is not a mapping."""
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return default
        data = data[part]
    return data


def holds(data: Any, value: Any) -> bool:
    """Whether ``data`` (plain data, a variant's at some key path) holds ``value``, what
    a setting or an override put there: the same, or for a mapping each of its entries
    (merged key by key onto what was there), a None (which deletes) by the key's absence
    (or a None kept); :data:`MISSING` data holds a None."""
    if isinstance(value, dict):
        return isinstance(data, dict) and all(
            (k not in data or data[k] is None) if v is None else k in data and holds(data[k], v)
            for k, v in value.items()
        )
    return bool(data == value) or (value is None and data is MISSING)


def read_yaml(path: str | Path) -> tuple[Any, Positions]:
    """Parse one YAML file into plain data and positions, or raise ScenarioError."""
    return parse_yaml(read_limited(path, "scenario file"), str(path))


def read_limited(path: str | Path, kind: str, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (``MAX_BYTES``), or a
    ScenarioError that names ``kind`` (e.g. ``"scenario file"``)."""
    name = str(path)
    p = Path(path)
    if not p.exists():
        raise ScenarioError.absent(f"an existing {kind}", missing(p), file=name)
    if not p.is_file():
        raise ScenarioError.absent(
            f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}",
            "a directory" if p.is_dir() else "not a regular file",
            file=name,
        )
    try:
        size = p.stat().st_size
        if size > limit:
            raise ScenarioError(
                f"a file of at most {limit:,} bytes",
                f"{size:,} bytes",
                file=name,
                path="(file)",
            )
        return p.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            "a readable file", exc.strerror or str(exc), file=name, path="(file)"
        ) from None


#: byte-order marks, longest first (UTF-32 LE starts with UTF-16 LE's mark)
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
)


def decode_text(raw: bytes, name: str) -> str:
    """The text of a file: UTF-8, or UTF-8, UTF-16 or UTF-32 with a byte-order mark
    (what editors and a PowerShell redirect write), the mark dropped; NUL characters
    refused. Else a ScenarioError located at the first bad character."""
    encoding, label, skip = "utf-8", "UTF-8", 0
    for bom, codec, what in _BOMS:
        if raw.startswith(bom):
            encoding, label, skip = codec, what, len(bom)
            break
    body = raw[skip:]
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        before = body[: exc.start].decode(encoding, "replace")
        _refuse_nul(before, skip, name)  # (UTF-16 without a mark fails first at its NULs)
        line, col = _text_line_col(before)
        found = f"the byte 0x{body[exc.start]:02x}" if exc.start < len(body) else "a cut-off end"
        if label != "UTF-8":
            found = f"bytes that are not {label} ({found.removeprefix('the ')})"
        raise ScenarioError(
            f"{label} text", found, file=name, line=line, col=col, path="(file)"
        ) from None
    _refuse_nul(text, skip, name)
    return text.removeprefix("\ufeff")


def _refuse_nul(text: str, skip: int, name: str) -> None:
    """Refuse ``text`` (decoded, after a byte-order mark of ``skip`` bytes) at its first
    NUL character, if any: where they are every other character or more, as text
    saved as UTF-16 or UTF-32 without a mark."""
    nul = text.find("\x00")
    if nul < 0:
        return
    line, col = _text_line_col(text[:nul])
    found = "a NUL byte"
    if not skip and text.count("\x00") * 4 >= len(text):  # every other byte, or 3 in 4
        found += " (UTF-16 or UTF-32 text without a byte-order mark? save it as UTF-8)"
    raise ScenarioError("a text file", found, file=name, line=line, col=col, path="(file)")


#: characters YAML 1.1 (PyYAML) reads as line breaks and YAML 1.2 as text
_ODD_BREAK = re.compile("[\x85\u2028\u2029]")
#: Unicode's direction embeddings, overrides and isolates: invisible, each shows the text
#: after it in another order than it is written (a chart's "1,500" would read "005,1")
DIRECTION_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
#: what a file or cell holding one is expected to be instead
DIRECTION_EXPECTED = (
    "text without direction controls (U+202A to U+202E, U+2066 to U+2069: each shows "
    "the text after it in another order than it is written)"
)


def plain_is_text(text: str) -> bool:
    """Whether ``text`` written plain (unquoted) reads back as that text: not a null,
    boolean or number of the YAML 1.2 core schema the reader resolves by (``1e3``,
    ``0o17``, ``.inf`` do not; a writer must quote them)."""
    return not any(p.match(text) for p in (_NULL, _TRUE, _FALSE, _INT, _FLOAT, _INF, _NAN))


def text_fault(text: str) -> tuple[str, str] | None:
    """``(what was expected, the character found)`` when ``text`` holds a character no
    scenario text may hold, however it came (written as itself, as a double-quoted
    escape such as ``"\\u202e"``, set in code or on the command line): a control
    character but tab and line feed, a direction control (:data:`DIRECTION_CONTROL`),
    or U+2028 or U+2029 (line breaks no editor shows); else None."""
    import unicodedata

    bad = _CONTROL.search(text)
    if bad is not None:
        return "text without control characters (tab and line breaks aside)", (
            f"U+{ord(bad.group()):04X}"
        )
    for pattern, expected in (
        (DIRECTION_CONTROL, DIRECTION_EXPECTED),
        (_ODD_BREAK, "text without U+2028 or U+2029 (line breaks no editor shows)"),
    ):
        bad = pattern.search(text)
        if bad is not None:
            char = bad.group()
            return expected, f"U+{ord(char):04X}, {unicodedata.name(char, 'a control')}"
    return None


def _text_line_col(before: str) -> tuple[int, int]:
    """1-based line and column of the character that follows ``before``."""
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def parse_yaml(raw: bytes | str, name: str = "<string>") -> tuple[Any, Positions]:
    """Parse YAML text (bytes or str) into plain data and positions."""
    if isinstance(raw, str) and len(raw) > MAX_BYTES:
        raise ScenarioError(
            f"a document of at most {MAX_BYTES:,} characters",
            f"{len(raw):,} characters",
            file=name,
            path="(file)",
        )
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise ScenarioError(
                f"a file of at most {MAX_BYTES:,} bytes",
                f"{len(raw):,} bytes",
                file=name,
                path="(file)",
            )
        text = decode_text(raw, name)
    else:
        text = raw.removeprefix("\ufeff")
    if not text.strip():
        raise ScenarioError(
            "a YAML mapping of scenario keys", "an empty file", file=name, path="(document)"
        )
    odd = _ODD_BREAK.search(text)
    if odd is not None:
        # PyYAML (YAML 1.1) breaks a line at each, YAML 1.2 and editors do not: the file
        # would be read other than as it shows, and an error placed on the wrong line
        import unicodedata

        line, col = _text_line_col(text[: odd.start()])
        code = ord(odd.group())
        raise ScenarioError(
            "no U+0085, U+2028 or U+2029 (the YAML reader takes each for a line break, "
            "which no editor shows: write a space or a new line instead)",
            f"the character U+{code:04X} ({unicodedata.name(odd.group(), 'NEXT LINE')})",
            file=name,
            line=line,
            col=col,
            path="(syntax)",
        )
    turn = DIRECTION_CONTROL.search(text)
    if turn is not None:
        import unicodedata

        line, col = _text_line_col(text[: turn.start()])
        raise ScenarioError(
            DIRECTION_EXPECTED,
            f"the character U+{ord(turn.group()):04X} ({unicodedata.name(turn.group())})",
            file=name,
            line=line,
            col=col,
            path="(syntax)",
        )
    probe = _deep_flow_prefix(text)
    if probe is not None:
        # PyYAML's scanner takes time in the square of the flow nesting depth (minutes for a
        # file of brackets): look for the error in the text up to the first deep bracket
        deep = _nesting_error(probe, name)
        if deep is not None:
            raise deep
    try:
        # compose() builds the node graph without constructing any object.
        try:
            node = yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.MarkedYAMLError:
            # the pure-Python parser says more about what it found (e.g. a tab): ask it
            node = yaml.compose(text, Loader=_SLOW_LOADER)
    except RecursionError:
        # PyYAML's composer recurses once per level: find the culprit with the flat parser
        raise (
            _nesting_error(text, name)
            or ScenarioError(f"at most {MAX_DEPTH} levels of nesting", "deeper nesting", file=name)
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = (exc.problem or "malformed YAML").strip().removeprefix("but ")
        problem = problem.removeprefix("found ")
        # ("expected a single document in the stream, but found another document")
        context = (exc.context or "").strip()
        wanted = context.removeprefix("expected ") if context.startswith("expected ") else ""
        # ("expected ',' or ']', but got ':'")
        both = re.fullmatch(r"expected (.+), but (?:got|found) (.+)", problem)
        if both is not None:
            wanted, problem = both.group(1), both.group(2)
        problem = problem.replace("'<stream end>'", "the end of the file")
        raise ScenarioError(
            f"valid YAML ({wanted})" if wanted else "valid YAML",
            problem,
            file=name,
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
            path="(syntax)",
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, where it stands
        before = text[: exc.position]
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        raise ScenarioError(
            "valid YAML (no control characters but tab and line breaks)",
            f"the character U+{code:04X}",
            file=name,
            line=before.count("\n") + 1,
            col=exc.position - (before.rfind("\n") + 1) + 1,
            path="(syntax)",
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(
            "valid YAML", str(exc).splitlines()[0] + _csv_hint(name), file=name, path="(syntax)"
        ) from None
    if node is None:
        raise ScenarioError("a YAML mapping of scenario keys", "an empty document", file=name)
    positions = Positions(name)
    data = _Builder(name, positions, text).build(node, (), 0)
    if "&" in text:  # an anchor no alias uses builds nothing twice, but it is refused too
        _refuse_anchors(text, name, positions)
    if data is None:
        raise ScenarioError(
            "a YAML mapping of scenario keys",
            "an empty document",
            file=name,
            line=node.start_mark.line + 1,
            col=node.start_mark.column + 1,
        )
    if not isinstance(data, dict):
        # what kind of value, never its content: the file may be anything (extends: /etc/passwd)
        raise ScenarioError(
            "a YAML mapping of scenario keys",
            _kind_of(data) + _csv_hint(name),
            file=name,
            line=node.start_mark.line + 1,
            col=node.start_mark.column + 1,
        )
    return data, positions


def _csv_hint(name: str) -> str:
    """What a file named ``*.csv`` read as a scenario is taken for: a record of reports,
    which ``--observed`` reads (a reporter ran ``forcesim validate`` on one)."""
    if not name.lower().endswith(".csv"):
        return ""
    return (
        " (a .csv file: scenarios are YAML; a record of reports is checked by "
        "forcesim run SCENARIO --observed FILE)"
    )


def _refuse_anchors(text: str, name: str, positions: Positions) -> None:
    """Raise at the first anchor (``&name``) in ``text``, at its value's key path."""
    for event in yaml.parse(text, Loader=_FAST_LOADER):
        anchor = getattr(event, "anchor", None)
        mark = event.start_mark
        if anchor and mark is not None and not isinstance(event, yaml.AliasEvent):
            at = (mark.line + 1, mark.column + 1)
            path = next((p for p, pos in positions.values.items() if pos == at), ())
            raise ScenarioError(
                "plain values (anchors and aliases are not supported)",
                f"the anchor '&{anchor}'",
                file=name,
                line=at[0],
                col=at[1],
                path=dotted(path) if path else "(syntax)",
            )


class _Builder:
    """Turns a composed node graph into plain data, enforcing the rules above."""

    def __init__(self, name: str, positions: Positions, text: str = "") -> None:
        self.name = name
        self.positions = positions
        self.text = text
        self.seen: set[int] = set()

    def fail(
        self, node: yaml.Node | yaml.Event, path: Path_, expected: str, found: str
    ) -> ScenarioError:
        return ScenarioError(
            expected, found, file=self.name, **_at(node.start_mark), path=dotted(path)
        )

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(node, path, f"at most {MAX_DEPTH} levels of nesting", "deeper nesting")
        if id(node) in self.seen:
            # the node's own mark is its anchor's; point at the (first) alias instead
            alias = (
                next(
                    (
                        e
                        for e in yaml.parse(self.text, Loader=yaml.SafeLoader)
                        if isinstance(e, yaml.AliasEvent)
                    ),
                    None,
                )
                if self.text
                else None
            )
            raise self.fail(
                alias or node,
                path,
                "plain values (anchors and aliases are not supported)",
                "an alias",
            )
        self.seen.add(id(node))
        if node.tag not in _ALLOWED_TAGS:
            raise self.fail(node, path, "plain YAML values without tags", f"the tag {node.tag!r}")
        self.positions.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            self.refuse_split_numbers(
                [n for pair in node.value for n in pair], path, in_mapping=True
            )
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in (PLAIN, _STR):
                    raise self.fail(key_node, path, "a plain key", "a complex key")
                key = str(key_node.value)
                self.check_text(key_node, path, key)
                if key == "<<":
                    raise self.fail(
                        key_node, path, "plain keys (merge keys are not supported)", "'<<'"
                    )
                if key in out:
                    raise self.fail(
                        key_node,
                        path + (key,),
                        "each key once in a mapping",
                        f"a duplicate key {key!r}",
                    )
                self.positions.keys[path + (key,)] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                out[key] = self.build(value_node, path + (key,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            self.refuse_split_numbers(node.value, path, in_mapping=False)
            return [self.build(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        self.positions.texts[path] = self.written(node)
        if node.tag == _STR:
            return self.check_text(node, path, node.value)
        return self.plain(node, path)

    def refuse_split_numbers(
        self, nodes: Sequence[yaml.Node], path: Path_, *, in_mapping: bool
    ) -> None:
        """Refuse a number a thousands separator split in a flow collection: in
        ``[1,500, 1,600]`` the comma with no space after it is YAML's separator, so the
        list read as 1, 500, 1, 600; in ``{value: 2,500}`` the 500 became a key.
        ``nodes``: the collection's items in order (a mapping's keys and values)."""
        if not self.text:
            return
        # in a mapping, a split number's later groups are keys without values: every
        # other node (a key's empty value between them)
        step = 2 if in_mapping else 1
        for i, node in enumerate(nodes[:-1]):
            if in_mapping and i % 2 == 0:  # (a key, then its value: not a split number)
                continue
            groups = [node]
            for k in range(i + 1, len(nodes), step):
                later = nodes[k]
                if not (_plain_group(later) and self._bare_comma(groups[-1], later)):
                    break
                if in_mapping and not _empty(nodes[k + 1]):
                    break
                groups.append(later)
                if "." in str(later.value):  # (a fraction ends the number)
                    break
            if len(groups) < 2 or not _plain_digits(node, 1, 3):
                continue
            written = self.text[node.start_mark.index : groups[-1].end_mark.index]
            digits = written.replace(",", "")
            one = spoken(int(digits)) if digits.isdigit() else "one number"
            one += f", write {digits}"
            if in_mapping:  # (the value's own key)
                where = path + (str(nodes[i - 1].value),)
                hint = f"for {one}"
            else:
                where = path + (i,)
                hint = (
                    f"for several numbers, a space after each comma: "
                    f"{written.replace(',', ', ')}; for {one}"
                )
            raise self.fail(
                node,
                where,
                "numbers without a thousands separator in [ ] or { }, where a comma "
                f"separates items ({hint})",
                repr(written),
            )

    def _bare_comma(self, before: yaml.Node, after: yaml.Node) -> bool:
        """Whether the text between two nodes is a comma alone (no space after it)."""
        return self.text[before.end_mark.index : after.start_mark.index] == ","

    def check_text(self, node: yaml.Node, path: Path_, text: str) -> str:
        """``text``, or a ScenarioError when it holds a character no text may hold
        (:func:`text_fault`: an escape such as ``"\\u202e"`` makes one)."""
        fault = text_fault(text)
        if fault is not None:
            expected, char = fault
            raise self.fail(node, path, expected, f"{self.written(node)} ({char})")
        return text

    def written(self, node: yaml.Node) -> str:
        """The scalar's text as it stands in the file (quotes included), on one line."""
        start, end = node.start_mark.index, node.end_mark.index
        raw = self.text[start:end] if self.text and 0 <= start < end else node.value
        return one_line(str(raw))

    def plain(self, node: yaml.Node, path: Path_) -> Any:
        """A plain scalar read by the YAML 1.2 core schema; a number in a form readers
        disagree on is refused with a hint."""
        text = node.value
        if _NULL.match(text):
            return None
        if _TRUE.match(text):
            return True
        if _FALSE.match(text):
            return False
        if _INF.match(text):
            return float("-inf") if text.startswith("-") else float("inf")
        if _NAN.match(text):
            return float("nan")
        if not (_INT.match(text) or _FLOAT.match(text)):
            return text
        if not PLAIN_DECIMAL.match(text):
            hint = form_hint(text)
            raise self.fail(
                node,
                path,
                "a plain decimal number"
                + (f" ({hint})" if hint else "")
                + ", or, where text is meant, text in quotes",
                repr(self.written(node)),
            )
        if re.fullmatch(r"[-+]?[0-9]+", text):
            long = too_many_digits(text)
            if long is not None:  # (Python reads no more than 4,300 digits as an int)
                raise self.fail(node, path, *long)
            return int(text)
        read = inexact(text)  # 2499.9999999999999999 is the float 2500.0
        if read is not None:
            raise self.fail(
                node, path, EXACT_EXPECTED, f"{self.written(node)!r}, which would be read as {read}"
            )
        return float(text)


def _plain_group(node: yaml.Node) -> bool:
    """Whether ``node`` is a plain scalar that could be a number's later group: three
    ASCII digits, perhaps with a fraction (``500``, ``500.5``)."""
    if not isinstance(node, yaml.ScalarNode) or node.style:
        return False
    return re.fullmatch(r"[0-9]{3}(\.[0-9]+)?", node.value) is not None


def _empty(node: yaml.Node) -> bool:
    """Whether ``node`` is a mapping value written as nothing (``{500}``'s null)."""
    return isinstance(node, yaml.ScalarNode) and node.start_mark.index == node.end_mark.index


def _plain_digits(node: yaml.Node, least: int, most: int) -> bool:
    """Whether ``node`` is a plain scalar of ``least`` to ``most`` ASCII digits (where
    fewer than 3 may do, a number's first group: a sign allowed, no leading 0)."""
    if not isinstance(node, yaml.ScalarNode) or node.style:  # (plain: None, or "" in C)
        return False
    if least < 3:  # a number's first group: a sign, no leading 0 ([0,300] is 0 and 300)
        return re.fullmatch(rf"[-+]?[1-9][0-9]{{{least - 1},{most - 1}}}", node.value) is not None
    return re.fullmatch(rf"[0-9]{{{least},{most}}}", node.value) is not None


def _kind_of(value: Any) -> str:
    """What kind of value ``value`` is, without any of its content."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text without any key: value lines"
    return describe(value)


class _Where(TypedDict, total=False):
    line: int
    col: int


def _at(mark: Any) -> _Where:
    """``line`` and ``col`` (1-based) of a PyYAML mark, when there is one."""
    return {"line": mark.line + 1, "col": mark.column + 1} if mark is not None else {}


def _deep_flow_prefix(text: str) -> str | None:
    """When brackets nest deeper than ``MAX_DEPTH``, the text up to the first such bracket
    with the open brackets closed again (a small document holding the same first error);
    else None. Brackets inside strings may fool it: the caller only trusts what the real
    parser then finds in the prefix."""
    closers: list[str] = []
    for m in _BRACKETS.finditer(text):
        c = m.group()
        if c in "[{":
            closers.append("]" if c == "[" else "}")
            if len(closers) > MAX_DEPTH:
                return text[: m.end()] + "".join(reversed(closers))
        elif closers:
            closers.pop()
    return None


_BRACKETS = re.compile(r"[\[\]{}]")


def _nesting_error(text: str, name: str) -> ScenarioError | None:
    """The builder's first error (too deep, or a complex key) found by walking the
    parser's flat event stream, which does not recurse; None when there is none or
    the text does not parse."""
    # one frame per open collection: [is_mapping, next_is_key, key_or_index]
    stack: list[list[Any]] = []
    path: list[str | int] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
                del path[len(stack) :]
                if stack and stack[-1][0]:
                    stack[-1][1] = True
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            mark = event.start_mark
            if stack:
                frame = stack[-1]
                if frame[0] and frame[1]:  # a key
                    if not isinstance(event, yaml.ScalarEvent):
                        return ScenarioError(
                            "a plain key",
                            "a complex key",
                            file=name,
                            **_at(mark),
                            path=dotted(tuple(path[: len(stack) - 1])),
                        )
                    frame[1], frame[2] = False, str(event.value)
                    continue
                if not frame[0]:
                    frame[2] += 1
                path[len(stack) - 1 :] = [frame[2]]
            if len(stack) > MAX_DEPTH:
                return ScenarioError(
                    f"at most {MAX_DEPTH} levels of nesting",
                    "deeper nesting",
                    file=name,
                    **_at(mark),
                    path=dotted(tuple(path)),
                )
            if isinstance(event, yaml.CollectionStartEvent):
                stack.append([isinstance(event, yaml.MappingStartEvent), True, -1])
            elif stack and stack[-1][0]:
                stack[-1][1] = True
    except yaml.YAMLError:
        return None
    return None
