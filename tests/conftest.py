"""Shared helpers: a minimal valid scenario, builders for variations of it, and
small readers for what a run produces.

Scenario files are written into ``tmp_path``; nothing touches the network or
the repository's own files.
"""

from __future__ import annotations

import copy
import pickle
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest
import yaml

# charts in this process are drawn off-screen (set here, not through MPLBACKEND, so
# that subprocesses such as notebook kernels keep their own backend)
matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _own_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite's temporary files, output locks among them (``forcesim-locks``), in a
    folder of its own: a test never takes or leaves a lock in the machine's temporary
    folder, where a user's own ``forcesim`` commands keep theirs (tests that point
    ``tempfile.tempdir`` elsewhere still may)."""
    import tempfile

    folder = str(tmp_path_factory.mktemp("tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", folder)
        patch.setenv("TMPDIR", folder)  # and for the commands run as subprocesses
        yield


SCENARIOS_DIR = REPO / "scenarios"
DEFAULT_SCENARIO = SCENARIOS_DIR / "iraq-syria-2024.yaml"

#: a scenario with a variant on a shorter calendar: its levels past its end are NaN
SHORTER_CALENDAR = """\
id: shorter-calendar
title: A variant on a shorter calendar
as_of: 2024-09-06
calendar: {start: 2024-09, end: 2025-12}
announcement: {expected: 2024-09, assumption: "on time"}
theaters:
  iraq: {name: Iraq, initial: {value: 2500, assumption: "as reported"}}
  syria: {name: Syria, initial: {value: 900, assumption: "as reported"}}
milestones:
  exit: {theater: iraq, target: {level: 0}, deadline: 2025-09}
  syria-exit: {theater: syria, target: {level: 0}, deadline: 2025-06, profile: back}
variants:
  base: {description: the whole calendar}
  early:
    description: ends in June 2025, its Iraq exit by then, back-loaded, crossing base's line
    overrides:
      calendar: {end: 2025-06}
      milestones:
        exit: {deadline: 2025-06, profile: back}
"""

# The smallest scenario the loader accepts with a milestone in it. Tests that
# need a bad file change one line of this text and look the line up with
# ``line_of`` so that the expected position never drifts.
MINIMAL_YAML = """\
id: mini
title: Minimal scenario
as_of: 2024-01
calendar:
  start: 2024-01
  end: 2024-12
announcement:
  expected: 2024-01
theaters:
  alpha:
    initial: 1000
milestones:
  alpha-out:
    theater: alpha
    deadline: 2024-11
    target:
      level: 0
"""


def minimal_doc() -> dict[str, Any]:
    """MINIMAL_YAML as a plain dict (a fresh copy each call)."""
    return yaml.safe_load(MINIMAL_YAML)


def merged(base: Any, over: Any) -> Any:
    """``over`` deep-merged onto ``base``; a ``None`` value deletes the key."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = copy.deepcopy(base)
        for k, v in over.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merged(out.get(k), v) if k in out else copy.deepcopy(v)
        return out
    return copy.deepcopy(over)


def make_doc(**changes: Any) -> dict[str, Any]:
    """The minimal document with top-level keys deep-merged (``None`` deletes).

    ``milestones=...`` and ``theaters=...`` replace the minimal ones whole,
    since a test that states them means exactly those.
    """
    doc = minimal_doc()
    for key in ("milestones", "theaters", "residuals", "variants"):
        if key in changes:
            doc.pop(key, None)
    return merged(doc, changes)


def large_force_doc() -> dict[str, Any]:
    """One theater of up to 100,000 troops over five years: level-by-level counts of
    60 months x 100,001 levels (22.9 MB), held for most months, small enough to count
    level by level (not :mod:`sim.analysis.wide`)."""
    return make_doc(
        calendar={"start": "2024-01", "end": "2028-12"},
        announcement={"expected": "2024-01"},
        theaters={"alpha": {"initial": {"uniform": [60_000, 100_000]}}},
        milestones={
            "alpha-out": {
                "theater": "alpha",
                "deadline": "2026-06",
                "target": {"level": {"uniform": [0, 5_000]}},
            }
        },
    )


def dump(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the ``nth`` line containing ``needle``."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not found {nth} times in the test's YAML"
    return hits[nth - 1]


def col_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based column where ``needle`` starts on the line ``line_of`` finds."""
    line = text.splitlines()[line_of(text, needle, nth) - 1]
    return line.index(needle) + 1


def located(
    file: str | Path,
    line: int | None,
    col: int | None,
    path: str,
    expected: str = "",
    found: str = "",
) -> str:
    """A regex for the one-line error ``FILE:LINE:COL: key.path: expected …, found …``.

    ``line``/``col`` of None match any number; ``expected``/``found`` are
    regex fragments that must appear in their part of the message.
    """
    num = r"\d+"
    return (
        "^"
        + re.escape(str(file))
        + ":"
        + (str(line) if line is not None else num)
        + ":"
        + (str(col) if col is not None else num)
        + ": "
        + re.escape(path)
        + ": expected .*"
        + expected
        + ".*, found .*"
        + found
        + r".*$"
    )


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write(text_or_bytes_or_dict, name="scenario.yaml") -> Path`` in ``tmp_path``."""

    def _write(
        content: str | bytes | dict[str, Any] = MINIMAL_YAML, name: str = "scenario.yaml"
    ) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict):
            content = dump(content)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def project(write: Callable[..., Path]) -> Callable[..., Any]:
    """``project(doc, variant=None) -> Projection`` for a scenario document (dict or text)."""

    def _project(doc: dict[str, Any] | str, variant: str | None = None) -> Projection:
        import sim

        path = write(doc)
        result = sim.run(sim.load_scenario(path), [variant] if variant else None)
        return Projection(result, variant or result.variants[0])

    return _project


class Projection:
    """One variant's run, read the way the tests want it."""

    def __init__(self, result: Any, variant: str) -> None:
        self.result = result
        self.variant = variant
        monthly = result.monthly[result.monthly.variant == variant]
        self.months = [str(m) for m in monthly[monthly.theater == monthly.theater.iloc[0]].month]
        self.levels: dict[str, list[int]] = {
            name: [int(v) for v in rows.troops]
            for name, rows in monthly.groupby("theater", sort=False)
        }
        ms = result.milestones[result.milestones.variant == variant]
        self.milestones = {r.milestone: r for r in ms.itertuples(index=False)}

    def at(self, theater: str, month: str) -> int:
        return self.levels[theater][self.months.index(month)]

    def __getitem__(self, theater: str) -> list[int]:
        return self.levels[theater]


@pytest.fixture(autouse=True)
def _grouped_steps(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Step draws a timing group at a time, however small the groups, unless the test is
    marked ``dense_steps``. forcesim steps draws every month at once where their groups
    hold few draws (:data:`sim.analysis.accumulator.DENSE_GROUP_DRAWS`, scaled to the
    months), as the groups of
    the suite's small ensembles often do: left to choose, they would not check the
    grouped route that large runs take. The tests marked ``dense_steps`` check that the
    two routes count alike."""
    if request.node.get_closest_marker("dense_steps") is None:
        import sim.analysis.accumulator as accumulator

        monkeypatch.setattr(accumulator, "DENSE_GROUP_DRAWS", 0)


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    """Close every matplotlib figure a test opened (warnings are errors here)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


class InProcessParts:
    """An executor (:class:`sim.analysis.chunks.Executor`) that runs each part here, in
    a shuffled order (as a cluster may), each result pickled and read back as if sent
    from a worker."""

    def __init__(self, parts: int) -> None:
        self.parts = parts

    def map(
        self,
        func: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        sizes: Sequence[int] | None = None,
        bar: Any = None,
    ) -> list[Any]:
        return list(self.imap(func, items, sizes=sizes, bar=bar))

    def imap(
        self,
        func: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        sizes: Sequence[int] | None = None,
        bar: Any = None,
    ) -> Iterator[Any]:
        """As :meth:`map`, each result kept pickled (as a worker keeps it) and read back
        only when the one before has been taken."""
        order = np.random.default_rng(0).permutation(len(items))
        sent = {int(i): pickle.dumps(func(items[int(i)])) for i in order}
        for i in range(len(items)):
            yield pickle.loads(sent.pop(i))


def rss_of(array: object) -> int:
    """Bytes of ``array``'s buffer's mappings the process holds (``/proc/self/smaps``)."""
    lo = array.__array_interface__["data"][0]  # type: ignore[attr-defined]
    hi = lo + array.nbytes  # type: ignore[attr-defined]
    held, start, end = 0, 0, 0
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5:
                start, end = (int(x, 16) for x in head[0].split("-"))
            elif head[0] == "Rss:" and start < hi and end > lo:
                held += int(head[1]) * 1024
    return held
