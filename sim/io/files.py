"""Files written whole or not at all: run directories, single files, CSV and JSON.

**What forcesim wrote.** A run directory's ``run.json`` ends with a *manifest*: the
sha256 of every other file in the directory and a signature, an HMAC-SHA256 over
the whole record keyed by a fixed project string (:data:`MANIFEST_KEY`). The key is
no secret; it tells forcesim's ``run.json`` from one another tool wrote, not from a
forgery. A new run replaces a directory only when it is empty or holds exactly what
its manifest lists, unchanged; anything else (another tool's ``run.json``, a
``data/`` folder, an edited CSV) is refused with one line, and nothing is deleted.

**Writing.** A run is written into a fresh hidden directory beside the target,
``.NAME.forcesim-PID-TOKEN-SIGNATURE`` (the signature, over the name, the process id
and the host, marks it as forcesim's), which holds an advisory lock while it is
written. When every file is in place the two are swapped in one step: on Linux
``renameat2(RENAME_EXCHANGE)`` and on macOS ``renamex_np(RENAME_SWAP)``, so a reader
polling ``NAME`` finds the old run or the new one, whole, and never nothing. Where
the system has no atomic exchange (Windows, some network file systems) the old
directory is renamed aside and the new one renamed in: both complete, with a
moment in between when ``NAME`` is absent. The old run is then deleted, file by
file as its manifest lists them.

**Interruptions.** Ctrl-C and SIGTERM (handled alike by the command line) delete the
hidden directory on the way out. Once the swap begins they wait until it is done and
the replaced run deleted; the command then says which directories it wrote whole.
After SIGKILL or a power cut the hidden directory stays behind; the next write into
the same parent removes it, once its signature checks out, its process is gone and
its lock is free. Nothing else is touched.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import datetime as dt
import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import socket
import stat
import sys
import tempfile
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from sim.errors import ForcesimWarning, ScenarioError, describe
from sim.io.signals import stop_signals
from sim.io.yamlio import decode_text, read_limited
from sim.paths import missing, unreachable

#: the record every forcesim directory holds, written last
RECORD = "run.json"
#: the largest run.json read [bytes]. The record holds the resolved base and each
#: variant resolved (at most 100), each from a scenario of at most 9 files (``extends``
#: at most 8 deep) of ``MAX_BYTES`` each, written as JSON of up to 3 times the bytes of
#: its YAML (measured: 1.0 to 1.6 for the shipped and benchmark scenarios, 3.0 for
#: YAML written in flow style); with the observations and the manifest, under 3 GB.
#: A one-file scenario of 954,173 bytes with 100 variants writes 86,887,094 bytes.
MAX_RECORD_BYTES = 3_000_000_000
#: keys the manifest's signature; a fixed project string, not a secret
MANIFEST_KEY = b"forcesim/run-directory-manifest/v1"


class OutputError(ScenarioError):
    """The output directory cannot be written (reported like any bad input). ``cause``:
    what went wrong writing, without what was left (``No space left on device``), for a
    caller that says what is left in its own words; by default ``found``."""

    def __init__(
        self,
        target: Path,
        found: str,
        expected: str = "",
        option: str = "out_dir",
        *,
        cause: str | None = None,
    ) -> None:
        super().__init__(
            expected or "a writable output directory", found, file=str(target), path=option
        )
        self.cause = found if cause is None else cause


# ---------------------------------------------------------------- the manifest


def not_a_file(path: Path) -> str:
    """What stands at ``path`` where a regular file was expected, for a message: ``a
    directory``, ``not a regular file`` (a pipe, a device, a link to one) or ``no such
    file``; or why the system cannot look it up (:func:`sim.paths.unreachable`)."""
    why = unreachable(path)
    if why is not None:
        return why
    if path.is_dir():
        return "a directory"
    return "not a regular file" if path.exists() else missing(path)


def not_a_directory(path: Path) -> str:
    """What stands at ``path`` where a directory was expected, for a message: ``a
    file``, ``no such directory``, or a symbolic link whose target is gone or that is
    in a loop of links (:func:`sim.paths.missing`)."""
    if path.exists():
        return "a file"
    return missing(path) if path.is_symlink() else "no such directory"


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _signature(record: dict[str, Any]) -> str:
    """HMAC-SHA256 of the record (its manifest's own signature left out), over its
    canonical JSON: sorted keys, no spaces."""
    manifest = {k: v for k, v in record.get("manifest", {}).items() if k != "signature"}
    body = json.dumps(
        {**record, "manifest": manifest},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hmac.new(MANIFEST_KEY, body.encode("utf-8"), hashlib.sha256).hexdigest()


def utf8_text(text: str) -> str:
    """``text`` as UTF-8 can encode it (and a chart or a page show it): a file name of
    other bytes (``März`` in Latin-1, which Python holds as ``M\\udce4rz``) with its
    bytes escaped, ``M\\xe4rz``; any other text as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def in_utf8(value: Any) -> Any:
    """``value`` (loaded JSON) with every string that UTF-8 cannot encode written with
    its bytes escaped (:func:`utf8_text`): such a file name is recorded, not refused by
    the encoder."""
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, dict):
        return {in_utf8(k): in_utf8(v) for k, v in value.items()}
    if isinstance(value, list):
        return [in_utf8(v) for v in value]
    return value


def write_record(directory: Path, record: dict[str, Any]) -> None:
    """Write ``run.json``: ``record`` plus the signed manifest of every other file in
    ``directory`` (so it is written last)."""
    files = {
        p.name: file_sha256(p)
        for p in sorted(directory.iterdir())
        if p.name != RECORD and p.is_file() and not p.is_symlink()
    }
    # through JSON and back, so that the signature is over what a reader will load
    doc = json.loads(json.dumps({**record, "manifest": {"files": files}}, default=str))
    doc = in_utf8(doc)
    doc["manifest"]["signature"] = _signature(doc)
    write_json(doc, directory / RECORD)


class _DuplicateKey(Exception):
    """A mapping of a JSON text names a key twice (``object_pairs_hook``)."""


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON mapping, refusing a key named twice (``json.loads`` keeps the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _second_key(text: str) -> tuple[int, str, str]:
    """Where (offset), at what key path and under which key the first key named a second
    time in its mapping stands in ``text``, JSON that parses. Walked only once
    :func:`_once_each` has found one, to place the error."""
    for at, where, again in _places(text):
        if again is not None:
            return at, where, again
    raise AssertionError("no key named twice")  # pragma: no cover - only called on one


#: a JSON string, or one of the characters that open, close or separate lists and
#: mappings (numbers, true, false and null need no stop of their own)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],]')


def _after_blanks(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _places(text: str) -> Iterator[tuple[int, str, str | None]]:
    """Each key of a mapping and each item of a list in ``text``, JSON that parses, in
    the order written: where it starts (offset), its key path, dotted as errors name it
    (``observations.items[0].date``), and the key when its mapping named it before
    (else None)."""
    # each open list or mapping: the path of its current item (its key or index), and
    # the keys a mapping has named so far
    stack: list[tuple[bool, list[str | int], set[str]]] = []

    def path(last: str | int) -> str:
        out = ""
        for part in [at[0] for _, at, _ in stack[:-1]] + [last]:
            out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
        return out

    for token in _JSON_TOKEN.finditer(text):
        c, start = token.group(), token.start()
        if c[0] == '"':
            if stack and not stack[-1][0] and text[_after_blanks(text, token.end())] == ":":
                key = json.loads(c)
                _, at, keys = stack[-1]
                at[0] = key
                yield start, path(key), key if key in keys else None
                keys.add(key)
        elif c in "{[":
            stack.append((c == "[", [0 if c == "[" else ""], set()))
            if c == "[" and text[_after_blanks(text, token.end())] != "]":
                yield _after_blanks(text, token.end()), path(0), None
        elif c in "}]":
            stack.pop()
        elif stack and stack[-1][0]:  # a comma between the items of a list
            index = int(stack[-1][1][0]) + 1
            stack[-1][1][0] = index
            yield _after_blanks(text, token.end()), path(index), None


def place_in_record(error: ScenarioError, path: Path) -> ScenarioError:
    """``error``, about a key of the ``run.json`` at ``path``, placed at the line and
    column where that key (or an item of a list) stands in the file, or where its
    nearest enclosing key does when it is missing; unchanged when it is about another
    file, the whole file, or is placed already."""
    if (
        error.file != str(path)
        or not error.position
        or error.path in ("(file)", "(document)")
        or (error.line or 1, error.col or 1) != (1, 1)
    ):
        return error
    try:
        text = decode_text(path.read_bytes(), str(path))
    except (OSError, ScenarioError):
        return error
    best: int | None = None
    depth = 0
    for at, where, _ in _places(text):
        if where == error.path:
            best = at
            break
        if error.path.startswith(where) and error.path[len(where)] in ".[" and len(where) > depth:
            best, depth = at, len(where)
    if best is None:
        return error
    return error.located(str(path), text.count("\n", 0, best) + 1, best - text.rfind("\n", 0, best))


@contextlib.contextmanager
def placed_in_record(path: Path) -> Iterator[None]:
    """Re-raise a ScenarioError about a key of the ``run.json`` at ``path`` placed where
    the key stands (:func:`place_in_record`): the readers name its key path only."""
    try:
        yield
    except ScenarioError as exc:
        placed = place_in_record(exc, path)
        if placed is exc:
            raise
        raise placed from None


def load_record(path: Path) -> Any:
    """The JSON value a ``run.json`` holds, or a ScenarioError placed where its text
    goes wrong: bytes that are not UTF-8 text (a byte-order mark is dropped, as from
    every file forcesim reads), text that is not JSON (at the parser's line and column),
    a key named twice in one mapping (at its second, which ``json.loads`` would keep
    silently), or lists and mappings nested too deeply for the parser (a
    RecursionError); a file of more than ``MAX_RECORD_BYTES`` is not read."""
    name = str(path)
    text = decode_text(read_limited(path, "run.json", MAX_RECORD_BYTES), name)
    expected = "a run.json written by forcesim run"
    try:
        return json.loads(text, object_pairs_hook=_once_each)
    except _DuplicateKey:
        at, where, key = _second_key(text)
        raise ScenarioError(
            f"{expected} (each key once in a mapping)",
            f"the key {key!r} a second time",
            file=name,
            line=text.count("\n", 0, at) + 1,
            col=at - text.rfind("\n", 0, at),
            path=where,
        ) from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            expected,
            f"text that is not JSON ({exc.msg})",
            file=name,
            line=exc.lineno,
            col=exc.colno,
            path="(file)",
        ) from None
    except ValueError:  # an integer of more digits than Python converts (4,300)
        raise ScenarioError(
            expected, "a number of too many digits to read", file=name, path="(file)"
        ) from None
    except RecursionError:
        raise ScenarioError(
            expected, "lists or mappings nested too deeply to read", file=name, path="(file)"
        ) from None


def read_manifest(directory: Path) -> dict[str, str] | None:
    """The files (name -> sha256) a forcesim ``run.json`` in ``directory`` lists, or
    None when there is no ``run.json`` with a valid signature."""
    return manifest_of(stored_record(directory))


def stored_record(directory: Path) -> Any:
    """The value of the ``run.json`` in ``directory``, or None when there is none that
    reads as JSON (:func:`load_record`)."""
    try:
        return load_record(directory / RECORD)
    except (OSError, ValueError):  # (a ScenarioError is a ValueError)
        return None


def manifest_of(record: Any) -> dict[str, str] | None:
    """The files (name -> sha256) a ``run.json``'s value ``record`` lists, or None when
    it has no manifest with a valid signature."""
    try:
        manifest = record["manifest"]
        files = manifest["files"]
        signed = manifest["signature"]
    except (KeyError, TypeError):
        return None
    if not isinstance(files, dict) or not isinstance(signed, str) or signature_broken(record):
        return None
    return {str(k): str(v) for k, v in files.items()}


def signature_broken(record: Any) -> bool:
    """Whether ``record`` (a ``run.json``'s value) carries a manifest signature that
    does not match it: forcesim signed it, and it was changed after (a value in it, the
    seed say, would be believed though no file was checked against it)."""
    if not isinstance(record, dict):
        return False
    manifest = record.get("manifest")
    if not isinstance(manifest, dict) or "signature" not in manifest:
        return False
    signed = manifest["signature"]  # (one made a number or a list: changed, too)
    return not isinstance(signed, str) or not hmac.compare_digest(signed, _signature(record))


def record_files(directory: Path, names: list[str]) -> None:
    """Add files forcesim has just written into a run directory (``forcesim plot``)
    to its manifest, and sign it again. A directory whose ``run.json`` forcesim did
    not write is left as it is."""
    record = stored_record(directory)  # (read once)
    if manifest_of(record) is None:
        return
    files = dict(record["manifest"]["files"])
    for name in names:
        files[name] = file_sha256(directory / name)
    record["manifest"] = {"files": dict(sorted(files.items()))}
    record["manifest"]["signature"] = _signature(record)
    atomic_file(directory / RECORD, lambda tmp: write_json(record, tmp))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _counted(folder: Path, names: list[str]) -> str:
    """``3 files``, or ``3 entries`` when some of ``names`` in ``folder`` are not plain
    files (a folder, a link): what a message calls them."""
    plain = all((folder / n).is_file() and not (folder / n).is_symlink() for n in names)
    if plain:
        return _plural(len(names), "file")
    return f"{len(names)} {'entry' if len(names) == 1 else 'entries'}"


def foreign(target: Path) -> str | None:
    """Why a new run may not replace ``target``, or None when it may: it does not
    exist, is empty, or holds exactly the unchanged files its signed manifest lists
    (or fewer). Leftovers of killed forcesim writes inside it are removed first."""
    if not target.exists() and not target.is_symlink():
        return None
    if target.is_symlink():
        return "a symbolic link in its place (to write there, give the directory it points to)"
    if not target.is_dir():
        return "a file in its place (it is not a directory)"
    with contextlib.suppress(OSError):
        if os.path.samefile(target, os.getcwd()):
            return (
                "the working directory (a run replaces its directory whole: a shell or "
                "notebook working in it would be left in the old one; write from its parent "
                "folder, or elsewhere)"
            )
    if _read_only(target):
        return (
            "a read-only directory (no one may write in it: to replace it, make it "
            "writable, e.g. chmod u+w)"
        )
    clean_leftovers(target)
    entries = sorted(p.name for p in target.iterdir())
    if not entries:
        return None
    record = stored_record(target)  # (read once: its manifest, and whether it was edited)
    manifest = manifest_of(record)
    if manifest is None:
        others = len([e for e in entries if e != RECORD])
        if RECORD in entries:
            beside = f"beside {others} other {'entry' if others == 1 else 'entries'}"
            if signature_broken(record):
                return (
                    f"a directory whose {RECORD} was changed after forcesim signed it (its "
                    f"signature no longer matches: forcesim cannot tell its own files "
                    f"there, which you may delete yourself), {beside}"
                )
            return (
                f"a directory whose {RECORD} forcesim did not write (it has no signed "
                f"manifest: another tool's, or an older forcesim's, which you may delete "
                f"yourself), {beside}"
            )
        return (
            f"a directory holding {_counted(target, entries)} forcesim did not write "
            f"(e.g. {entries[0]!r})"
        )
    strangers = [
        e
        for e in entries
        if e != RECORD
        and (e not in manifest or (target / e).is_symlink() or not (target / e).is_file())
    ]
    if strangers:  # (forcesim may have written them, but not as part of this run)
        return (
            f"a run directory holding {_counted(target, strangers)} that "
            f"{'is' if len(strangers) == 1 else 'are'} not part of its run "
            f"(e.g. {strangers[0]!r}: move {'it' if len(strangers) == 1 else 'them'} out "
            "to replace the run)"
        )
    for name in entries:
        if name != RECORD and file_sha256(target / name) != manifest[name]:
            return f"a run directory whose {name} changed after forcesim wrote it"
    protected = [name for name in entries if _read_only(target / name)]
    if protected:
        return (
            f"a run directory whose {protected[0]} was made read-only (to replace it, "
            "make it writable, e.g. chmod u+w)"
        )
    return None


def _writable_dir(path: Path) -> bool:
    """Whether forcesim may create entries in ``path``: a directory this process may
    write, and not one made read-only (which root could still write)."""
    return path.is_dir() and not _read_only(path) and os.access(path, os.W_OK | os.X_OK)


def _read_only(path: Path) -> bool:
    """Whether ``path``'s permissions give no one the right to write it (``chmod a-w``):
    someone protected it, and forcesim does not replace it, root or not."""
    return not path.lstat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def refuse_foreign(target: Path, named: Path | None = None) -> None:
    """Raise when a new run may not replace ``target`` (:func:`foreign` says why), the
    error naming it as the user did (``named``: ``.`` for the spelled-out path)."""
    why = foreign(target)
    if why is None and target.is_dir() and not target.is_symlink() and os.path.ismount(target):
        # (a run is swapped in whole, and a mount point cannot be moved aside)
        why = (
            f"a mount point, which a run cannot replace (write into a folder inside it: "
            f"{Path(named or target) / 'run'})"
        )
    if why is not None:
        raise OutputError(
            named or target,
            why + "; nothing was deleted",
            "a new or empty directory, or one holding only an earlier forcesim run",
        )


_FILE_EXPECTED = "a file forcesim can write"

#: what a file forcesim wrote into a run directory may be replaced by (a chart or the
#: page drawn again); its tables are the run's record
_REDRAWN = (".png", ".pdf", ".svg", ".html")


def _run_around(folder: Path) -> Path | None:
    """The run directory forcesim wrote that is ``folder`` or holds it, nearest first;
    None when none does. Folders not made yet are skipped. A run directory holds a
    ``run.json`` forcesim wrote: signed, or read unsigned once its manifest was taken out
    (its ``forcesim_version`` says whose it is; another tool's ``run.json`` has none)."""
    # (as written first, so that a message names it so; then above where it starts,
    # each folder read once)
    seen: set[str] = set()
    for place in (folder, *folder.parents, *folder.resolve().parents):
        where = os.path.abspath(place)
        if where not in seen and _forcesim_record(stored_record(place)):
            return place
        seen.add(where)
    return None


def _same_place(a: Path, b: Path) -> bool:
    """Whether two paths name one folder (a folder not made yet: by its absolute path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _forcesim_record(record: Any) -> bool:
    """Whether a ``run.json``'s value is one forcesim wrote, signed or not."""
    return manifest_of(record) is not None or (
        isinstance(record, dict) and "forcesim_version" in record
    )


def refuse_overwrite(
    target: Path,
    drawn: str | None = None,
    charts: Collection[str] = (),
    source: Path | None = None,
) -> None:
    """Raise, before any work, when writing the file ``target`` (``-o``) would replace
    something forcesim did not write. An existing file is replaced only when the signed
    manifest of the run directory it lies in lists it unchanged, and it is a chart or a
    page drawn again; never one of the run's own ``charts`` (their names) by another
    chart than ``drawn`` (a run's ``envelope.png`` may take the envelope again, never
    the fan). Anything else, a directory included, is left as it is.

    A chart or page drawn from the run directory ``source`` goes into no other run's
    directory: there it would pass for that run's own, and a file its manifest does not
    list would keep a new run from replacing it.
    """
    if not _writable_dir(_nearest(target)):
        raise OutputError(target, _cannot_write(target), _FILE_EXPECTED, "output")
    home = target.parent if str(target.parent) else Path(".")
    if source is not None:
        inside = _run_around(home)
        mine = source.is_dir() and inside is not None and os.path.samefile(inside, source)
        if inside is not None and not (mine and inside == home):
            found = (
                f"{home}, the directory of another run (its {RECORD} records that run: "
                f"a file drawn from {source} would pass for one of its own)"
                if inside == home
                else f"{home}, a folder inside the run directory {inside} (a run holds "
                "only the files its record lists: another would keep a new run from "
                "replacing it)"
            )
            raise OutputError(
                target,
                f"{found}; nothing was written",
                "a file in no other run's directory"
                + (", or at the top of its own" if mine else ""),
                option="output",
            )
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_file():
        why = (
            "a symbolic link"
            if target.is_symlink()
            else "a directory"
            if target.is_dir()
            else "something other than a file"
        )
        found = f"{why} in its place"
    elif _read_only(target):
        found = "a read-only file (to replace it, make it writable, e.g. chmod u+w)"
    else:
        manifest = read_manifest(target.parent)
        if (
            manifest is not None
            and target.suffix.lower() in _REDRAWN
            and manifest.get(target.name) == file_sha256(target)
        ):
            if target.stem not in charts or target.stem == drawn:
                return
            found = (
                f"the run's own {target.stem} chart, which the {drawn} chart would replace "
                "(choose another name)"
            )
        elif manifest is not None and target.name in manifest:
            # (listed, but no longer as forcesim wrote it: sim.save over it, an editor)
            found = (
                f"{target.name} changed after forcesim wrote it (its bytes are not those "
                f"{RECORD} lists: a chart saved over it, or an edit, is kept: remove it "
                "to draw it again, or draw it elsewhere)"
            )
        else:
            # (forcesim may have drawn it once, elsewhere: only a run's signed manifest
            # says which files are its own)
            found = (
                "an existing file no run directory's signed manifest lists as its own "
                "(nor is a chart or page forcesim wrote outside a run directory, which it "
                "cannot tell from yours: remove it, or choose another name)"
            )
    raise OutputError(
        target,
        found + "; nothing was overwritten",
        "a new file, or a chart or page forcesim wrote into a run directory",
        option="output",
    )


# ---------------------------------------------------------------- temporary names


def _host() -> str:
    return socket.gethostname()


def _mark(name: str, pid: int, token: str) -> str:
    # (the name's bytes as the file system holds them: under LC_ALL=C, "ä" is two
    # escaped bytes, which UTF-8 cannot encode)
    body = os.fsencode(name) + f"\0{pid}\0{token}\0{_host()}".encode()
    return hmac.new(MANIFEST_KEY, body, hashlib.sha256).hexdigest()[:16]


#: the most bytes of the output's own name a temporary name carries: with the mark, the
#: process id and a suffix it stays within the 255 bytes a file name may take
TEMP_NAME_BYTES = 160


def _short(name: str, instead: str) -> str:
    """``name``'s first :data:`TEMP_NAME_BYTES` bytes, whole characters only (``instead``
    when none is left): what a name made from it carries of it, within 255 bytes."""
    raw = os.fsencode(name)[:TEMP_NAME_BYTES]
    text = raw.decode("utf-8", errors="ignore")
    try:
        os.fsencode(text)
    except UnicodeEncodeError:  # (a file system encoding that is not UTF-8: LC_ALL=C)
        text = os.fsdecode(raw)  # (its bytes as they were: the system takes them back)
    return text or instead


def temp_name(name: str, suffix: str = "") -> str:
    """A hidden name beside ``name`` that marks the entry as forcesim's, being written
    by this process: ``.NAME.forcesim-PID-TOKEN-SIGNATURE`` (plus ``suffix``), NAME cut
    to its first :data:`TEMP_NAME_BYTES` bytes (whole characters), so that an output
    whose own name is long but allowed gets a temporary name the system allows too."""
    short = _short(name, "output")
    pid, token = os.getpid(), secrets.token_hex(4)
    return f".{short}.forcesim-{pid}-{token}-{_mark(short, pid, token)}{suffix}"


_TEMP = re.compile(
    r"^\.(?P<name>.+)\.forcesim-(?P<pid>\d+)-(?P<token>[0-9a-f]{8})-(?P<mark>[0-9a-f]{16})"
)


def _writer(entry: Path) -> int | None:
    """The process id that made ``entry`` when its name is a valid forcesim temporary
    name (made on this host), else None."""
    m = _TEMP.match(entry.name)
    if m is None:
        return None
    pid = int(m.group("pid"))
    if not hmac.compare_digest(m.group("mark"), _mark(m.group("name"), pid, m.group("token"))):
        return None
    return pid


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or no way to tell: leave it be
    return True


def _lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive advisory lock on ``path`` (a directory
    or a file), or None when locks are not available; raises BlockingIOError when
    another process holds it."""
    try:
        import fcntl
    except ImportError:  # Windows: the process id alone says who is writing
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing drops the lock


def clean_leftovers(parent: Path) -> list[Path]:
    """Remove what killed forcesim writes left in ``parent``: hidden entries whose name
    carries a valid forcesim mark, whose process is gone and whose lock is free.
    Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = _writer(entry)
        if pid is None or _alive(pid):
            continue
        try:
            fd = _lock(entry)
        except OSError:
            continue  # locked (still being written) or gone already
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            pass
        finally:
            _unlock(fd)
    return removed


# ---------------------------------------------------------------- one writer at a time

#: the output directories this process holds the locks of: resolved path -> each lock's
#: (fd, lock file, whether this process made it)
_HELD: dict[str, list[tuple[int, Path, bool]]] = {}


def lock_path(target: Path) -> Path:
    """The lock file of output directory ``target``: in a ``forcesim-locks`` folder of
    the system's temporary directory, named by the sha256 of ``target``'s resolved path,
    so that every forcesim process of this host finds the same one and nothing is written
    beside the output before it is."""
    return _lock_file(os.fsencode(os.path.realpath(target)))


def lock_paths(target: Path) -> list[Path]:
    """Every lock file :func:`output_lock` takes for ``target``: :func:`lock_path`, and
    for each folder above it that exists, one named by that folder's device and inode
    and the rest of ``target``'s resolved path below it. A folder reached by two paths
    (a bind mount) has one inode, so that two commands writing one directory by two
    paths meet; and at least one folder above is the same for a command that finds
    ``target``'s parent missing (and makes it) and one that comes after it."""
    paths = [lock_path(target)]
    real = Path(os.path.realpath(target))
    below = Path(real.name)
    for folder in real.parents:
        try:
            info = os.stat(folder)
        except OSError:  # (not made yet)
            below = folder.name / below
            continue
        paths.append(_lock_file(b"%d:%d/" % (info.st_dev, info.st_ino) + os.fsencode(below)))
        below = folder.name / below
    return paths


def _lock_file(key: bytes) -> Path:
    digest = hashlib.sha256(key).hexdigest()[:32]
    return Path(tempfile.gettempdir()) / "forcesim-locks" / f"{digest}.lock"


def _holder(path: Path) -> str:
    """Who holds lock file ``path``, for the message: ``process PID``, or ``another
    process`` when its file does not say or names a process that is gone."""
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    if not pid.isdigit():
        return "another process"
    try:
        os.kill(int(pid), 0)  # (no signal sent: whether that process is there)
    except ProcessLookupError:  # a killed command's id, left in a file another user holds
        return "another process"
    except OSError:  # (there, but another user's)
        pass
    return f"process {pid}"


@contextlib.contextmanager
def output_lock(target: Path, option: str = "out_dir") -> Iterator[None]:
    """Hold an exclusive lock on output directory ``target`` for the block: a second
    forcesim command writing, replacing or adding to the same directory meanwhile
    stops at once with one line, instead of replacing what this one writes (two runs
    each swap their directory in whole, so the later deletes the earlier's files
    moments after it reported them written) or writing a page of the run it read into
    the run that replaced it. Each lock file (:func:`lock_paths`: by the directory's
    path, and by its folder's inode, which a bind mount shares) holds the process id and
    is removed when the block ends; one a killed process left is taken over, since the
    system drops a dead process's lock (another user's file, which this user may not
    write, is locked read-only: the lock is the same). Within one process the lock is
    re-entrant.
    Where the system has no ``flock`` (Windows), nothing is locked.

    Raises
    ------
    OutputError
        When another process holds it: ``TARGET:1:1: OPTION: expected an output
        directory no other forcesim command is writing, found one being written by
        process PID ...`` (OPTION ``out_dir``, or the command line's ``--out``).
    """
    key = os.path.realpath(target)
    if key in _HELD:
        yield
        return
    held: list[tuple[int, Path, bool]] = []
    try:
        for path in lock_paths(Path(target)):  # (the first refusal raises)
            got = _take(Path(target), option, path)
            if got is None:  # (said once: the folder, or the system, locks nothing)
                break
            held.append(got)
        _HELD[key] = held
        yield
    finally:
        _HELD.pop(key, None)
        for fd, path, mine in held:
            if mine:  # (another user's lock file is theirs to remove)
                with contextlib.suppress(OSError):
                    path.unlink()  # (while still locked: a waiter then finds it gone)
            _unlock(fd)


def _unlocked(path: Path, why: str) -> None:
    """Warn that the output directory is written without its lock: the lock file
    ``path`` cannot be used safely (``why``)."""
    warnings.warn(
        f"{path}: {why}; forcesim does not use it, so another forcesim command writing the "
        "same output directory meanwhile is not kept out (remove it to lock again)",
        ForcesimWarning,
        stacklevel=4,
    )


def _take(target: Path, option: str, path: Path) -> tuple[int, Path, bool] | None:
    """Lock ``target``'s lock file ``path`` (see :func:`output_lock`): its descriptor, its path,
    and whether this process made it (and so writes its id into it and removes it); or
    None where nothing can be locked. Raises OutputError when another process holds it.

    The lock folder is shared by the users of the host, so anyone may put something in
    it first: a lock file is never a symbolic link followed (it would empty the file it
    points to) or a file with other names (a hard link), nor one in a folder that is a
    link; such a lock is not used, with a warning."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    expected = "an output directory no other forcesim command is writing"
    with contextlib.suppress(OSError):  # (judged below: no folder, or a file in its place)
        path.parent.mkdir(mode=0o777, exist_ok=True)
    try:
        folder = os.lstat(path.parent)
    except OSError:
        return None  # no temporary directory to lock in: as without flock
    if not stat.S_ISDIR(folder.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(folder.st_mode) else "not a folder"
        _unlocked(path.parent, f"the lock folder is {kind}")
        return None
    if folder.st_uid == os.getuid():
        with contextlib.suppress(OSError):
            os.chmod(path.parent, 0o1777)  # (shared by the users of this host, as /tmp is)
    # (no link followed; and a pipe put there opens at once, to be refused, not waited on)
    nofollow = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
    for _ in range(20):
        writable = True
        try:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | nofollow, 0o644)
            except PermissionError:
                # another user's lock file (held now, or left by a command that was
                # killed), or a lock folder this user may not add to: lock the file
                # read-only (flock takes either), or where there is none, lock nothing
                writable = False
                fd = os.open(path, os.O_RDONLY | nofollow)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                _unlocked(path, "a symbolic link in place of a lock file")
            return None
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_nlink == 0:
            os.close(fd)  # (its last holder removed it as we opened it: open it again)
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
            os.close(fd)
            what = "not a regular file" if not stat.S_ISREG(info.st_mode) else "a hard link"
            _unlocked(path, f"{what} in place of a lock file")
            return None
        # (root too: another user's lock file is not written into, nor removed)
        mine = writable and info.st_uid == os.getuid()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            elsewhere = f", or write elsewhere with {option}" if option.startswith("--") else ""
            whose = "" if mine else " of another user"
            raise OutputError(
                target,
                f"one being written by {_holder(path)}{whose} (another forcesim command: "
                f"wait for it to finish{elsewhere})",
                expected,
                option,
            ) from None
        except OSError:  # no locks on this file system
            os.close(fd)
            return None
        try:  # the file may have been removed by its last holder before we locked it
            same = info.st_ino == os.lstat(path).st_ino
        except OSError:
            same = False
        if same:
            if mine:
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            return fd, path, mine
        os.close(fd)
    return None  # pragma: no cover - the file replaced twenty times over


# ---------------------------------------------------------------- swapping


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step; False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:  # pragma: no cover - no C library to ask
        return False
    if sys.platform.startswith("linux"):
        call = getattr(libc, "renameat2", None)  # glibc 2.28+
        if call is None:
            return False
        at_fdcwd, rename_exchange = -100, 2
        rc = call(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    elif sys.platform == "darwin":  # pragma: no cover - tested on Linux
        call = getattr(libc, "renamex_np", None)
        if call is None:
            return False
        rc = call(os.fsencode(a), os.fsencode(b), 0x2)  # RENAME_SWAP
    else:  # pragma: no cover
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # this file system cannot: fall back to two renames
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(tmp: Path, target: Path) -> Path | None:
    """Put ``tmp`` at ``target``; returns where the previous ``target`` now is (to be
    deleted), or None when there was none."""
    if not target.exists():
        os.rename(tmp, target)  # atomic; fails if something took the name meanwhile
        return None
    if _exchange(tmp, target):
        return tmp  # tmp's name now holds the previous run
    old = target.parent / temp_name(target.name)
    os.rename(target, old)
    os.rename(tmp, target)
    return old


def _discard(old: Path, name: str) -> None:
    """Delete a previous run moved aside: the files its manifest lists, then the
    directory. Anything else found there (written during the swap) is kept, in a
    visible directory beside the run, with a warning."""
    manifest = read_manifest(old)
    listed = set() if manifest is None else {*manifest, RECORD}
    failed: OSError | None = None  # (a file the system would not let go: the run is in)
    for entry in old.iterdir():
        if entry.name in listed and entry.is_file() and not entry.is_symlink():
            try:
                entry.unlink()
            except OSError as exc:
                failed = failed or exc
    try:
        old.rmdir()
    except OSError:
        kept = _kept_name(old.parent, name)
        try:
            os.rename(old, kept)
            where = kept
        except OSError:  # (left under its hidden name, which the next write would clear)
            where = old
        why = (
            "held files forcesim did not write when it was replaced; they are"
            if failed is None
            else "was replaced, but some of the previous run's files could not be removed "
            f"({failed.strerror or failed} on {Path(os.fsdecode(failed.filename or '')).name}); "
            "what is left of it is"
        )
        warnings.warn(f"{old.parent / name} {why} kept in {where}", ForcesimWarning, stacklevel=3)


def _kept_name(parent: Path, name: str) -> Path:
    """A visible name in ``parent``, not yet taken, for what is left of the run ``name``
    replaced: ``NAME.kept-YYYYmmdd-HHMMSS`` (then ``-2``, ``-3`` … within one second),
    NAME cut as :func:`temp_name` cuts it, so the name stays within 255 bytes."""
    short = _short(name, "run")
    base = f"{short}.kept-{dt.datetime.now():%Y%m%d-%H%M%S}"
    kept, n = parent / base, 1
    while os.path.lexists(kept):
        n += 1
        kept = parent / f"{base}-{n}"
    return kept


def made_parents(directory: Path) -> list[Path]:
    """Make ``directory`` and its missing ancestors (as ``mkdir -p``); the directories
    this made, outermost first, for :func:`unmake` to take away again when what was to
    be written there is not."""
    made: list[Path] = []
    parts = directory.parts
    try:
        # one level at a time, as the path is written ("a/../b" too): a folder counts as
        # made here only when this mkdir made it, never one that was there already
        for i in range(1, len(parts) + 1):
            step = Path(*parts[:i])
            try:
                os.mkdir(step)
            except FileExistsError:
                continue
            made.append(step)
        if parts and not directory.is_dir():
            raise FileExistsError(errno.EEXIST, "a file, not a directory", str(directory))
    except OSError:  # (those made before the one that failed: taken away again)
        unmake(made)
        raise
    return made


def unmake(made: list[Path]) -> None:
    """Remove the directories :func:`made_parents` made, innermost first, each only
    while empty (one that something else wrote into stays, and so do its ancestors):
    a write that failed or was interrupted leaves no folders behind it."""
    for directory in reversed(made):
        try:
            directory.rmdir()
        except OSError:
            return


def spelled_out(target: Path) -> Path:
    """``target`` with a last part that names a directory by its place, ``.`` or ``..``
    (``-o .``, ``-o out/sub/..``), spelled out as the absolute path it stands for: its
    new run is made beside it, in its parent, not inside it; any other path as it is."""
    if target.name not in ("", ".", "..") and ".." not in target.parts:
        return target
    # (realpath as the system reads the path: a link before a .. is followed first)
    return Path(os.path.realpath(target))


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target`` whole.

    Raises
    ------
    OutputError
        Before anything is written, when ``target`` holds files forcesim did not
        write or cannot be created, or another process is writing it
        (:func:`output_lock`).
    """
    named = Path(target)
    target = spelled_out(named)
    parent = target.parent if str(target.parent) else Path(".")
    refuse_foreign(target, named)
    tmp = parent / temp_name(target.name)
    lock, swapped = None, False
    made: list[Path] = []  # (the parents made here: taken away again unless swapped in)

    def abandon() -> None:
        """Take away all the new run left: its directory, its lock, the folders made."""
        nonlocal lock
        shutil.rmtree(tmp, ignore_errors=True)
        _unlock(lock)
        lock = None
        unmake(made)

    owner = contextlib.ExitStack()
    owner.enter_context(output_lock(target))  # (held already by a command that writes it)
    try:
        with _interrupts_deferred():  # (made and locked whole: an interruption removes it)
            try:
                made = made_parents(parent)
                clean_leftovers(parent)
                tmp.mkdir()
                lock = _lock(tmp)
                os.chmod(tmp, 0o777 & ~current_umask())  # as a plain mkdir would make it
                as_before(tmp, target)
            except OSError as exc:  # (abandoned below, as any failure before the swap)
                raise OutputError(target, _cannot_write(target, exc)) from None
        yield tmp
        refuse_foreign(target)  # again: something may have written there meanwhile
        with _interrupts_deferred():
            old = _swap_in(tmp, target)
            swapped = True
            WRITTEN.append(target)
            if old is not None:
                _discard(old, target.name)
    except OSError as exc:  # a full disk, a file size limit, a read-only file system
        if swapped:  # the new directory is in place; only the previous one's removal failed
            raise
        abandon()
        raise OutputError(target, _write_failure(exc, tmp, target)) from None
    except OutputError as exc:  # (a file of the run that could not be written)
        if not swapped:
            abandon()
        raise _named_as_given(exc, tmp, named) from None
    except BaseException:
        if not swapped:
            abandon()
        raise
    finally:
        _unlock(lock)
        owner.close()


def _named_as_given(exc: OutputError, tmp: Path, named: Path) -> OutputError:
    """``exc`` about a file of the new directory ``tmp`` (a full disk as its page is
    written), naming that file where the run was asked to go (``named``), and saying
    what is left there (:func:`_kept`): the temporary directory is gone, and its name
    meant nothing to the reader."""
    try:
        inside = Path(exc.file or "").relative_to(tmp)
    except ValueError:
        return exc
    return OutputError(named / inside, f"{exc.cause}; {_kept(named)}", exc.expected, exc.path)


def as_before(tmp: Path, target: Path) -> None:
    """Give the new directory or file ``tmp`` the owner, group and permissions of the one
    of its kind it replaces (``chmod 700``, a shared group with its set-group-ID bit: a
    run made a private folder readable by all, a page replaced a private page with one
    all could read); where the group cannot be kept (a group this user is not in), its
    group permissions are dropped instead. Its owner may always read and write it
    (and enter a directory), since the run or the file is written into it. Nothing,
    where ``target`` is no directory or file of ``tmp``'s kind yet, or is a symbolic
    link (the link itself is replaced: its target's owner and mode are not taken)."""
    try:
        before, new = os.lstat(target), os.stat(tmp)
    except OSError:
        return
    if stat.S_IFMT(before.st_mode) != stat.S_IFMT(new.st_mode):
        return
    mode = stat.S_IMODE(before.st_mode)
    try:  # (first: a change of owner clears the set-ID bits)
        os.chown(tmp, before.st_uid, before.st_gid)
    except OSError:
        try:
            os.chown(tmp, -1, before.st_gid)
        except OSError:
            mode &= ~(stat.S_IRWXG | stat.S_ISGID)
    owner = stat.S_IRWXU if stat.S_ISDIR(new.st_mode) else stat.S_IRUSR | stat.S_IWUSR
    os.chmod(tmp, mode | owner)


#: the directories this process has swapped into place lately, and the files it has
#: moved into place, in order (the last 64), so that an interruption that comes after a
#: write can say what was written
WRITTEN: collections.deque[Path] = collections.deque(maxlen=64)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and :func:`~sim.io.signals.stop_signals` until the block is done (in
    the main thread, where Python runs signal handlers): swapping the new directory in
    and deleting the one it replaced then happen whole, and the interruption comes
    after them, through the handler that was in place."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[int, Any] = {
        s: signal.signal(s, lambda signum, _frame: caught.append(signum))
        for s in (signal.SIGINT, *stop_signals())
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            handler = previous[caught[0]]
            if callable(handler):
                handler(caught[0], None)  # KeyboardInterrupt, or the command's SIGTERM
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), caught[0])


def _write_failure(exc: OSError, tmp: Path, target: Path) -> str:
    """What went wrong writing into ``target`` (through its temporary ``tmp``), without
    the temporary name: ``File too large while writing bands.csv; nothing was changed``."""
    why = exc.strerror or str(exc) or type(exc).__name__
    name = ""
    if exc.filename is not None:
        written = Path(os.fsdecode(exc.filename))
        try:
            name = str(written.relative_to(tmp))
        except ValueError:  # (the directory itself, or another: by its name alone)
            same = os.path.abspath(written) == os.path.abspath(target)
            name = "" if written.name.startswith(".") or same else written.name
    where = f" while writing {name}" if name and name != "." else ""
    if exc.errno == errno.EBUSY:  # (a bind mount os.path.ismount does not see, say)
        where += (
            f" ({target} is a mount point or in use, which a run cannot replace: write into "
            f"a folder inside it, {target / 'run'})"
        )
    return f"{why}{where}; {_kept(target)}"


def _kept(target: Path) -> str:
    """What is left at ``target``, a run directory a failed run did not replace."""
    if not target.exists():
        return "nothing was written"
    if _forcesim_record(stored_record(target)):
        return "the previous run is kept as it was"
    return f"nothing was written, and {target} is as it was"


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: rows of a table :func:`write_csv` turns into text at once: the text of a table of a
#: million rows (100 variants x 50 theaters x 120 months of bands) and its copy with
#: months as text took hundreds of MB at once
CSV_ROWS = 50_000


def csv_text(frame: pd.DataFrame, *, header: bool = True) -> str:
    """A table as forcesim writes it to CSV: months ``YYYY-MM``, booleans
    ``true``/``false``, numbers exact (:func:`float_text`, in a column of numbers and
    text too), a blank for a missing value;
    the header line first unless ``header`` is False."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            # (a missing month is blank: pandas before 3 writes NaT's text as "NaT")
            out[col] = out[col].astype(str).where(out[col].notna(), None)
        elif out[col].dtype in (bool, "boolean") or _booleans(out[col]):
            out[col] = out[col].map({True: "true", False: "false"})
        elif out[col].dtype == object:  # (floats among text: as in a float column, 1 not 1.0)
            out[col] = out[col].map(_number_among_text)
    text = out.to_csv(index=False, header=header, lineterminator="\n", float_format=float_text)
    assert isinstance(text, str)
    return text


def _number_among_text(value: Any) -> Any:
    """A cell of a column of numbers and text: a float as :func:`float_text` writes it
    (a missing value, NaN, stays missing: blank); anything else as it is."""
    if isinstance(value, float | np.floating) and value == value:
        return float_text(float(value))
    return value


def _booleans(column: pd.Series) -> bool:
    """Whether ``column`` (of dtype object) holds booleans with missing values only
    (``within_noise``: blank where no standard error was estimated); Python and numpy
    booleans alike. A column of text is told at its first value."""
    if column.dtype != object:
        return False
    present = column.dropna()
    if not len(present) or not isinstance(present.iloc[0], (bool, np.bool_)):
        return False
    return bool(present.map(lambda v: isinstance(v, (bool, np.bool_))).all())


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` as :func:`csv_text` gives it, byte for byte, turning
    :data:`CSV_ROWS` rows at a time into text."""
    with path.open("w", encoding="utf-8", newline="") as f:
        write_csv_rows(frame, f)


def write_csv_rows(frame: pd.DataFrame, into: TextIO, *, header: bool = True) -> None:
    """Write the rows of ``frame`` to the open text file ``into`` as :func:`csv_text`
    gives them (after the header line unless ``header`` is False), :data:`CSV_ROWS`
    rows at a time: each row's text depends on its own values only, so the parts of a
    table written one after another make the file of the whole table."""
    for start in range(0, max(len(frame), 1), CSV_ROWS):
        into.write(csv_text(frame.iloc[start : start + CSV_ROWS], header=header and start == 0))


#: the columns of forcesim's tables that hold ids: read as text, so that a theater or
#: variant called ``01`` or ``1e3`` stays itself (read as a number, ``01`` was 1, and a
#: chart of it failed)
ID_COLUMNS = (
    "scenario",
    "variant",
    "variant_a",
    "variant_b",
    "theater",
    "milestone",
    "profile",
    "vintage",
)


def read_written_csv(source: Any) -> pd.DataFrame:
    """A CSV table forcesim wrote, as pandas reads it: only a blank cell is missing
    (``NA`` or ``None`` stay text), the ids (:data:`ID_COLUMNS`) are text, and numbers
    read back as the exact floats written."""
    return pd.read_csv(source, **_WRITTEN)


def written_blocks(source: Any, rows: int) -> Iterator[pd.DataFrame]:
    """A CSV table forcesim wrote, read as :func:`read_written_csv` reads it, ``rows``
    rows at a time (each block's index its rows' places in the table)."""
    return iter(pd.read_csv(source, chunksize=rows, **_WRITTEN))


def read_written_rows(
    source: Any, keep: Callable[[pd.DataFrame], Any], chunk: int = 100_000
) -> pd.DataFrame:
    """The rows of a CSV table forcesim wrote that ``keep`` (a frame → a boolean mask)
    keeps, read ``chunk`` rows at a time so that the rest is never held whole; as
    :func:`read_written_csv` reads them, each row keeping its index (its place in the
    file: line ``index + 2``)."""
    parts = [rows[keep(rows)] for rows in written_blocks(source, chunk)]
    return pd.concat(parts) if parts else read_written_csv(source)


# pandas before 3.1 reads floats exactly only when asked; 3.1 always does, and deprecates asking
_EXACT_FLOATS: dict[str, Any] = (
    {}
    if tuple(int(p) for p in pd.__version__.split(".")[:2]) >= (3, 1)
    else {"float_precision": "round_trip"}
)
#: how :func:`read_written_csv` reads a table (pandas ignores ids a table lacks)
_WRITTEN: dict[str, Any] = {
    "keep_default_na": False,
    "na_values": [""],
    "dtype": dict.fromkeys(ID_COLUMNS, str),
    **_EXACT_FLOATS,
}


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """The same table as :func:`write_csv` writes, as Parquet: the columns and values
    pandas reads from that CSV file (months as ``YYYY-MM`` text, booleans as booleans), so
    ``pandas.read_parquet`` and :func:`read_written_csv` give equal frames. Needs pyarrow."""
    import io

    write_parquet_of(read_written_csv(io.StringIO(csv_text(frame))), path)


def csv_to_parquet(source: Path, target: Path, rows: int = CSV_ROWS) -> None:
    """Write the table of the CSV file ``source`` (as :func:`write_csv` wrote it) to
    ``target`` as :func:`write_parquet` writes that table, reading ``rows`` rows at a
    time: the same columns, types and values ``pandas.read_parquet`` gives, in row
    groups of at most ``rows`` rows, so the whole table is never held.

    Each column takes the type that reading the whole file gives: read block by block,
    a column whole numbers in some blocks and fractions in others is made float64, as
    the whole file reads; any other mix of types (text with blanks, say, or true/false
    with blanks) is read from the whole file at once instead. Needs pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kinds: dict[str, set[str]] = {}
    for block in written_blocks(source, rows):
        for name, dtype in block.dtypes.items():
            kinds.setdefault(str(name), set()).add(str(dtype))
    types: dict[str, str] = {}
    for name, seen in kinds.items():
        if len(seen) == 1:
            types[name] = next(iter(seen))
        elif seen <= {"int64", "float64"}:
            types[name] = "float64"
        else:  # (a mix only the whole file settles)
            write_parquet_of(read_written_csv(source), target)
            return
    writer = None
    try:
        for block in written_blocks(source, rows):
            table = pa.Table.from_pandas(block.astype(types), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(target, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # (no rows: the header's columns, as the whole file reads)
        write_parquet_of(read_written_csv(source), target)
    pa.default_memory_pool().release_unused()  # (the blocks' buffers, freed, go back)


def write_parquet_of(frame: pd.DataFrame, target: Path) -> None:
    """``frame`` (as :func:`read_written_csv` reads a table) to ``target`` as Parquet."""
    frame.to_parquet(target, index=False, engine="pyarrow")


def float_text(value: float) -> str:
    """A number as CSV text: the shortest digits that read back as the same float (those
    of Python's ``repr``), written out without an exponent (``0.000001``, not ``1e-06``,
    which a spreadsheet or a reader of the file may not take for a share), a whole
    number without ``.0``; never rounded."""
    text = repr(float(value))  # (the shortest digits; fast, and most need no more)
    if "e" in text:
        return str(np.format_float_positional(float(value), unique=True, trim="-"))
    return text[:-2] if text.endswith(".0") else text


def write_json(data: Any, path: Path) -> None:
    path.write_text(
        json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def atomic_file(
    target: Path,
    write: Callable[[Path], None],
    option: str = "output",
    then: Callable[[], None] | None = None,
) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``target``, then move it into place:
    a reader never finds ``target`` half-written (:func:`atomic_files` of one file).

    Raises
    ------
    OutputError
        As :func:`atomic_files`.
    """
    atomic_files([target], lambda _, tmp: write(tmp), option, then)


def atomic_files(
    targets: Sequence[Path],
    write: Callable[[Path, Path], None],
    option: str = "output",
    then: Callable[[], None] | None = None,
) -> None:
    """Call ``write(target, tmp)`` for each of ``targets`` on a temporary file beside it,
    then move them all into place together: a reader never finds one half-written, nor
    some replaced and others not (a run's charts drawn again). Each ``tmp`` keeps its
    target's suffix, and carries forcesim's mark, so that a leftover of a killed process
    is cleaned up; it takes the owner, group and permissions of the file it replaces
    (:func:`as_before`).

    Ctrl-C and SIGTERM wait while the files replace ``targets`` and ``then()`` runs (a
    run directory's manifest taking them in): a file is never in place without it. When
    ``then()`` fails (a full disk as the manifest is written again), or a move does,
    every target is left or put back as it was (the file it replaced, kept meanwhile by
    a hard link or, where none can be made, in memory: :func:`_kept_aside`; or no file)
    and the failure is raised. A file written whole outside a directory being written
    joins :data:`WRITTEN`, so that an interruption afterwards says so.

    Raises
    ------
    OutputError
        When a target's directory cannot be made or written, or writing fails (a full
        disk): one line naming that target and ``option``; every target is as it was.
    """
    if not targets:
        return
    tmps = [t.parent / temp_name(t.name, t.suffix) for t in targets]
    made: list[Path] = []  # (the parents made here: taken away again unless replaced)
    asides: list[Path | bytes | None] = []  # (the files replaced, while then() runs)
    replaced = 0  # (how many are in place)
    at = targets[0]  # (the target a failure is about)
    try:
        with _interrupts_deferred():  # (made whole: an interruption removes them)
            for target, tmp in zip(targets, tmps, strict=True):
                at = target
                try:
                    made += made_parents(target.parent)
                    # (the umask applies)
                    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                    as_before(tmp, target)
                except OSError as exc:
                    raise OutputError(
                        target, _cannot_write(target, exc), _FILE_EXPECTED, option
                    ) from None
        for target, tmp in zip(targets, tmps, strict=True):
            at = target
            write(target, tmp)
        keep = then is not None or len(targets) > 1  # (a file to put back, if one fails)
        with _interrupts_deferred():
            try:
                for target, tmp in zip(targets, tmps, strict=True):
                    at = target
                    asides.append(_kept_aside(target) if keep else None)
                    os.replace(tmp, target)
                    replaced += 1
                if then is not None:
                    then()
            except BaseException as exc:  # (every file put back as it was, the last first)
                done, replaced = replaced, 0
                stuck = [
                    targets[j]
                    for j in reversed(range(done))
                    if not _put_back_each(targets[j], asides[j])
                ]
                asides = asides[done:]  # (those put back are gone; a stuck one's stays)
                if stuck:  # (a disk full as the files are put back: say which)
                    raise OutputError(
                        stuck[-1],
                        f"{getattr(exc, 'strerror', None) or exc}; "
                        f"{', '.join(map(str, reversed(stuck)))} could not be put back as it "
                        "was: it holds the new file",
                        _FILE_EXPECTED,
                        option,
                    ) from exc
                raise
            for target in targets:
                # (not a file of a run being written, nor the record a chart joins)
                if _TEMP.match(target.parent.name) is None and target.name != RECORD:
                    WRITTEN.append(target)
            for aside in asides:
                if isinstance(aside, Path):
                    aside.unlink(missing_ok=True)
    except OSError as exc:  # a full disk, a file size limit
        if replaced == len(targets) and targets:
            raise  # the files are in place; only what follows them failed
        _left_over(tmps, asides, made)
        kept = "the file is kept as it was" if at.exists() else "nothing was written"
        cause = str(exc.strerror or exc)
        raise OutputError(at, f"{cause}; {kept}", _FILE_EXPECTED, option, cause=cause) from None
    except BaseException:
        if replaced < len(targets):
            _left_over(tmps, asides, made)
        raise


def _put_back_each(target: Path, aside: Path | bytes | None) -> bool:
    """:func:`_put_back`; False where it fails (the disk full, say)."""
    try:
        _put_back(target, aside)
    except OSError:
        return False
    return True


def _left_over(tmps: list[Path], asides: list[Path | bytes | None], made: list[Path]) -> None:
    """Take away what :func:`atomic_files` left when it failed: the temporary files, the
    second names of the files it kept aside, the folders it made."""
    for leftover in [*tmps, *asides]:
        if isinstance(leftover, Path):
            with contextlib.suppress(OSError):  # (none made, where the parent is a file)
                leftover.unlink()
    unmake(made)


def _kept_aside(target: Path) -> Path | bytes | None:
    """The file at ``target`` as it is, to put back if what follows its replacement
    fails: a second name for it (a hard link, forcesim's name, so that a killed
    process's leftover is cleaned up: no space taken, and ``target`` itself never
    moved), or, where the file system makes no hard link, its bytes (a chart or a
    page: a few MB at most); None when there is no file."""
    if not target.is_file() or target.is_symlink():
        return None
    aside = target.parent / temp_name(target.name, target.suffix)
    try:
        os.link(target, aside)
    except OSError:
        return target.read_bytes()
    return aside


def _put_back(target: Path, kept: Path | bytes | None) -> None:
    """Put ``target`` back as it was before it was replaced: the file ``kept`` aside or
    its bytes (:func:`_kept_aside`, written whole beside it, then moved in), or none."""
    if isinstance(kept, Path):
        os.replace(kept, target)
    elif kept is not None:
        again = target.parent / temp_name(target.name, target.suffix)
        try:
            again.write_bytes(kept)
            os.replace(again, target)
        finally:
            again.unlink(missing_ok=True)
    else:
        target.unlink(missing_ok=True)
    if target in WRITTEN:
        WRITTEN.remove(target)


def _nearest(target: Path) -> Path:
    """The nearest existing ancestor of ``target``: what creating it runs into."""
    probe = target.parent if str(target.parent) else Path(".")
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _cannot_write(target: Path, exc: OSError | None = None) -> str:
    """Why ``target`` cannot be created: ``cannot write to PATH (a file, not a
    directory)`` when an ancestor is a file, else ``cannot write to PATH: REASON``."""
    probe = _nearest(target)
    if not probe.is_dir():
        return f"cannot write to {probe} (a file, not a directory)"
    if exc is None and _read_only(probe):
        return f"cannot write to {probe}: a read-only directory"
    if exc is None and _read_only_mount(probe):  # (root may write any directory but there)
        return f"cannot write to {probe}: a read-only file system"
    why = "permission denied" if exc is None else (exc.strerror or str(exc))
    return f"cannot write to {probe}: {why}"


def _read_only_mount(path: Path) -> bool:
    """Whether ``path`` is on a file system mounted read-only (``statvfs``'s
    ``ST_RDONLY``; False where that cannot be told)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # (no statvfs: Windows)
        return False


def check_writable(out_dir: str | Path) -> None:
    """Fail early, before any work, when ``out_dir`` cannot be written.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The run directory a command is about to write.

    Raises
    ------
    sim.ScenarioError
        When its parent is not writable, a file stands in its place, it holds
        anything besides an earlier forcesim run (see :func:`foreign`), or it lies in a
        folder inside another run's directory.
    TypeError
        For ``out_dir`` of another type than a str or a path.
    """
    if not isinstance(out_dir, str | os.PathLike):
        raise TypeError(
            "check_writable() takes the path of an output directory (a str or "
            f"pathlib.Path), not {type(out_dir).__name__}"
        )
    named = Path(out_dir)
    out_dir = spelled_out(named)  # (the directory atomic_directory will write)
    if not _writable_dir(_nearest(out_dir)):
        raise OutputError(named, _cannot_write(out_dir))
    inside = _run_around(out_dir.parent) if str(out_dir.parent) else None
    if inside is not None and not _same_place(inside, out_dir):
        # (as plot -o and report -o refuse a folder there: the run above would then hold
        # a folder its record does not list, and could not be made again)
        raise OutputError(
            named,
            f"a folder inside the run directory {inside} (a run holds only the files its "
            "record lists: another would keep a new run from replacing it); nothing was "
            "written (write it elsewhere: -o DIR)",
            "a directory in no run's directory",
        )
    refuse_foreign(out_dir, named)


def _names_a_file(path: Path) -> bool:
    """Whether ``path`` names something that is there (a file's name may hold a line
    break); False where the system cannot look it up (YAML text of 5 MB)."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return False


def path_argument(
    value: object, what: str, argument: str, function: str, *, or_else: str = ""
) -> Path:
    """The path a public function was given for ``argument`` (``what``: ``"a scenario
    file"``), as a Path; ``or_else`` names what else it takes (``"a Scenario or "``).

    Raises
    ------
    TypeError
        For anything but a str or an ``os.PathLike`` (None, a number, a loaded object),
        naming ``function`` and the type found.
    sim.ScenarioError
        At ``<arguments>`` for text no file can be named by: text of several lines (the
        contents of a file, not its name) or a name the system refuses to look up (too
        long); the found value is cut short, never the whole text.
    """
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{function}() takes {or_else}the path of {what} (a str or pathlib.Path), "
            f"not {type(value).__name__}"
        )
    path = Path(value)
    why = None
    if isinstance(value, str) and "\n" in value and not _names_a_file(path):
        why = "text of several lines (the contents of a file: write it to a file, pass its path)"
    else:
        try:
            path.exists()
        except OSError as exc:  # (a name too long: exists() raises rather than says False)
            why = f"a path the system cannot look up ({exc.strerror or exc})"
    if why is not None:
        raise ScenarioError(
            f"the path of {what}",
            f"{describe(str(value), 40)}: {why}",
            file="<arguments>",
            path=argument,
        )
    return path
