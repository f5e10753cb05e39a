"""Files written whole or not at all: run directories, single files, CSV and JSON.

A run directory is written into a fresh temporary directory beside the target
and swapped in only when complete, so an interrupted or failed run leaves the
previous run's directory as it was, and a new run never leaves stale files.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError


class OutputError(ScenarioError):
    """The output directory cannot be written (reported like any bad input)."""

    def __init__(self, target: Path, found: str) -> None:
        super().__init__("a writable output directory", found, file=str(target), path="--out")


def refuse_foreign(target: Path) -> None:
    """A run replaces its output directory whole: refuse one holding files that no
    forcesim run wrote (it has no ``run.json``), rather than delete them."""
    if target.is_dir() and not (target / "run.json").is_file():
        entries = [p.name for p in target.iterdir()]
        if entries:
            raise OutputError(
                target,
                f"a directory holding {len(entries)} files forcesim did not write "
                f"(e.g. {sorted(entries)[0]!r}); choose a new or empty directory",
            )


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target`` whole."""
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    refuse_foreign(target)
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
        os.chmod(tmp, 0o777 & ~current_umask())  # as a plain mkdir would make it
    except OSError as exc:
        raise OutputError(target, f"cannot write to {parent}: {exc.strerror or exc}") from None
    try:
        yield tmp
        old = None
        if target.exists():
            if not target.is_dir():
                raise OutputError(target, "a file in its place (it is not a directory)")
            old = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def csv_text(frame: pd.DataFrame) -> str:
    """A table as forcesim writes it to CSV: months ``YYYY-MM``, booleans
    ``true``/``false``, numbers exact (:func:`float_text`), a blank for a missing value."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.PeriodDtype):
            out[col] = out[col].astype(str)
        elif out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    text = out.to_csv(index=False, lineterminator="\n", float_format=float_text)
    assert isinstance(text, str)
    return text


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.write_text(csv_text(frame), encoding="utf-8", newline="")


def read_written_csv(source: Any) -> pd.DataFrame:
    """A CSV table forcesim wrote, as pandas reads it: only a blank cell is missing
    (``NA`` or ``None`` stay text), and numbers read back as the exact floats written."""
    return pd.read_csv(source, keep_default_na=False, na_values=[""], **_EXACT_FLOATS)


# pandas before 3.1 reads floats exactly only when asked; 3.1 always does, and deprecates asking
_EXACT_FLOATS: dict[str, Any] = (
    {}
    if tuple(int(p) for p in pd.__version__.split(".")[:2]) >= (3, 1)
    else {"float_precision": "round_trip"}
)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """The same table as :func:`write_csv` writes, as Parquet: the columns and values
    pandas reads from that CSV file (months as ``YYYY-MM`` text, booleans as booleans), so
    ``pandas.read_parquet`` and :func:`read_written_csv` give equal frames. Needs pyarrow."""
    import io

    read_written_csv(io.StringIO(csv_text(frame))).to_parquet(path, index=False, engine="pyarrow")


def float_text(value: float) -> str:
    """A number as CSV text: the shortest text that reads back as the same float
    (Python's ``repr``), a whole number without ``.0``; never rounded."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def write_json(data: Any, path: Path) -> None:
    path.write_text(
        json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def atomic_file(target: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``target``, then move it into place:
    a reader never finds ``target`` half-written. ``tmp`` keeps ``target``'s suffix."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())  # as a plain open() would make it
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_writable(out_dir: Path) -> None:
    """Fail early, before any work, when ``out_dir`` cannot be written.

    Parameters
    ----------
    out_dir : pathlib.Path
        The run directory a command is about to write.

    Raises
    ------
    sim.ScenarioError
        When its parent is not writable, a file stands in its place, or it holds
        files that forcesim did not write.
    """
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(out_dir, f"cannot write to {probe}: permission denied")
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(out_dir, "a file in its place (it is not a directory)")
    refuse_foreign(out_dir)
