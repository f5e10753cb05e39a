"""The one exception for bad scenarios, and its one-line rendering."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence


class ScenarioError(ValueError):
    """A scenario file (or a value set in code) broke a rule.

    Carries where (file, line, column, key path) and what (expected, found), so
    every front end can print the same single line::

        FILE:LINE:COL: key.path: expected …, found …

    It is a :class:`ValueError`. Values set in code
    (:meth:`sim.Scenario.with_overrides`) are reported with ``<overrides>`` as
    the file, arguments of :func:`sim.run` with ``<arguments>``.

    Parameters
    ----------
    expected, found : str
        What the rule wanted and what it got.
    file : str, optional
        The scenario file (or ``<overrides>``, ``<command line>``).
    line, col : int, optional
        1-based position in ``file``.
    path : str
        The dotted key path, e.g. ``theaters.iraq.initial``.
    position : bool
        False for a file or folder that is not there, or is not a file (a folder, a
        pipe) where one was expected: it has no line to point at, so the line names it
        alone, ``FILE: expected …, found …`` (no line, column or key path). Such an
        error is made with :meth:`absent`.
    argument : str, optional
        The parameter of the public function whose value was wrong, for an error
        placed elsewhere: an unknown variant name (``variants``) is placed at the
        scenario's ``variants`` key. The command line places it at the option that
        gave the value instead (``<command line>:1:1: --variant``).

    Attributes
    ----------
    expected, found, file, line, col, path, position, argument
        As given; ``str(error)`` and :meth:`one_line` give the whole line.
    """

    def __init__(
        self,
        expected: str,
        found: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        path: str = "(document)",
        position: bool = True,
        argument: str | None = None,
    ) -> None:
        self.expected = expected
        self.found = found
        self.file = file
        self.line = line
        self.col = col
        self.path = path or "(document)"
        self.position = position
        self.argument = argument
        super().__init__(self.one_line())

    @classmethod
    def absent(cls, expected: str, found: str, *, file: str, path: str = "(file)") -> ScenarioError:
        """The error of a file or folder that is not there, or is not a file (a folder,
        a pipe) where one was expected: ``position`` False, so the line names it alone,
        ``FILE: expected …, found …``."""
        return cls(expected, found, file=file, path=path, position=False)

    def one_line(self) -> str:
        where = printable(self.file or "<scenario>")
        found = quoted_start(self.found)
        # (a key path of thousands of characters, typed or pasted, is shortened as a value
        # is, where it stands and where what is expected repeats it)
        expected = _long_words_shortened(self.expected)
        if not self.position:  # nothing there to point into
            return f"{where}: expected {expected}, found {found}"
        where += f":{self.line or 1}:{self.col or 1}"
        # (a key path holds what was typed: a direction control in it would turn the line)
        path = quoted_start(printable(str(self.path)), PATH_SHOWN, PATH_SHOWN // 2)
        return f"{where}: {path}: expected {expected}, found {found}"

    def with_found(self, found: str) -> ScenarioError:
        """A copy of this error, at the same place, that found ``found`` (the text found
        with what made it: a variant's overrides, a sweep's point)."""
        return ScenarioError(
            self.expected,
            found,
            file=self.file,
            line=self.line,
            col=self.col,
            path=self.path,
            position=self.position,
            argument=self.argument,
        )

    def located(self, file: str, line: int, col: int, path: str | None = None) -> ScenarioError:
        """A copy of this error placed at a file position."""
        return ScenarioError(
            self.expected, self.found, file=file, line=line, col=col, path=path or self.path
        )


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then the exception it was raised from or while handling (``__cause__``,
    else ``__context__``), and so on, each once (a chain may loop)."""
    seen: set[int] = set()
    at: BaseException | None = exc
    while at is not None and id(at) not in seen:
        seen.add(id(at))
        yield at
        at = at.__cause__ or at.__context__


def printable(name: str) -> str:
    """``name`` (a file's) with each character that does not print written as its
    escape (a line break as ``\\n``, ESC as ``\\x1b``): a terminal would act on it, and
    a pipe drop it, so the line would name a file that is not there."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


#: the most characters of what an error found that its line quotes whole (forcesim's own
#: words, with the text they quote, stay well under it)
MAX_QUOTED = 1200
#: how many characters of a longer one it quotes, before saying how long it was
QUOTED_START = 300


def quoted_start(found: str, most: int = MAX_QUOTED, start: int = QUOTED_START) -> str:
    """``found`` whole, or for text longer than ``most`` characters (a 900,000-character
    title) its first ``start`` and its length: ``'yyy…' (900,002 characters in all)``.
    The line stays readable, and says how long the text was."""
    if len(found) <= most:
        return found
    return f"{found[:start]}… ({len(found):,} characters in all)"


def _long_words_shortened(text: str) -> str:
    """``text`` with each run of more than :data:`PATH_SHOWN` characters without a space
    (a key path typed or pasted, repeated in what is expected) shortened as
    :func:`quoted_start` shortens a value."""
    return re.sub(
        rf"\S{{{PATH_SHOWN + 1},}}",
        lambda m: quoted_start(m.group(), PATH_SHOWN, PATH_SHOWN // 2),
        text,
    )


#: the most characters of a key path an error line shows whole
PATH_SHOWN = 200


def expected_found(message: object) -> tuple[str, str]:
    """``(expected, found)`` of a message written ``expected …, found …`` (a ValueError's
    text, as forcesim's parsers raise them), the words "expected " left off; found is
    "" where the message has no ", found ". The two halves of a ScenarioError made from
    it."""
    expected, _, found = str(message).removeprefix("expected ").partition(", found ")
    return expected, found


def one_line(message: str) -> str:
    """``message`` on one line: each line break (with the blanks around it) made one
    space. Runs of spaces within a line stay: a value quoted as ``'  2024-09-27'`` is
    quoted as written, not with its two spaces made one. Only blanks and line breaks are
    trimmed at the ends: a no-break or thin space there is part of what was written
    (``2500`` followed by one is no number, and quoted without it looked like one)."""
    breaks = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # (what str.splitlines breaks at)
    return re.sub(rf"[ \t]*[{breaks}][ \t{breaks}]*", " ", message).strip(f" \t{breaks}")


def nearest(name: str, known: Sequence[str]) -> str | None:
    """The one of ``known`` a mistyped ``name`` most likely meant, for a did-you-mean:
    the same letters in another case (``Iraq`` for ``iraq``), else the closest by
    :func:`difflib.get_close_matches`; None when none is close."""
    import difflib

    same = [k for k in known if k.lower() == name.lower()]
    if same:
        return same[0]
    close = difflib.get_close_matches(name, list(known), n=1)
    return close[0] if close else None


def describe(value: object, limit: int = 60) -> str:
    """A short human rendering of a found value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


#: the most names a line lists of those a thing may be (a scenario may have 1,000 sites)
LISTED = 20


def listed(names: Sequence[str], most: int = LISTED) -> str:
    """``names`` joined by commas, or past ``most`` of them the first ``most`` and how
    many more: ``a, b, c (and 980 more)``, so that one line stays a line."""
    names = list(names)
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} (and {len(names) - most:,} more)"


def quoted_short(
    text: str, limit: int = 40, *, size: int | None = None, unit: str = "characters"
) -> str:
    """``text`` quoted whole when it has at most ``limit`` characters, else its first
    ``limit // 2`` quoted and how long it is (``size``, default its length, in
    ``unit``): ``'1000000000'… (5,001 characters)``, for a line that quotes what was
    written without pages of it."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit // 2]!r}… ({len(text) if size is None else size:,} {unit})"


def flag_argument(value: object, name: str, *, none: bool = False) -> None:
    """Refuse a flag of a public function that is not ``True`` or ``False`` (nor
    ``None``, when ``none``): ``condition="no"`` would have been taken as true.

    Raises
    ------
    ScenarioError
        At ``<arguments>``, naming the flag and quoting the value found.
    """
    if isinstance(value, bool) or (value is None and none):
        return
    kind = type(value)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"):  # (numpy 2, 1)
        return
    raise ScenarioError(
        "True or False" + (" (or None)" if none else ""),
        describe(value) if not isinstance(value, dict | list) else repr(value)[:60],
        file="<arguments>",
        path=name,
    )


class ForcesimWarning(UserWarning):
    """Base of the warnings forcesim gives: something will not show as the input
    suggests (the command line prints each as ``forcesim: warning: …``)."""


class ScenarioWarning(ForcesimWarning):
    """An input the model will not use, or an entry a variant adds that looks like a
    misspelt name, located like a :class:`ScenarioError`::

        FILE:LINE:COL: key.path: not used: why
        FILE:LINE:COL: key.path: a new entry: why

    :func:`sim.load_scenario` gives one Python warning for each (and keeps them on
    ``Scenario.warnings``); ``forcesim validate --strict`` fails on them.

    Parameters
    ----------
    why : str
        Why the input is not used (or the entry looks misspelt), and what to do.
    file : str, optional
        The scenario file.
    line, col : int, optional
        1-based position in ``file``.
    path : str
        The dotted key path.
    heading : str, optional
        What kind of warning: ``not used`` (the default), or ``a new entry`` for an
        entry a variant adds under a name a slip of typing from one the base has.
    """

    def __init__(
        self,
        why: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        path: str = "(document)",
        heading: str = "not used",
    ) -> None:
        self.why = why
        self.file = file
        self.line = line
        self.col = col
        self.path = path
        self.heading = heading
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.file or '<scenario>'}:{self.line or 1}:{self.col or 1}"
        return f"{where}: {self.path}: {self.heading}: {self.why}"
