"""Where the shipped scenarios are, in a checkout and in an installed wheel."""

from __future__ import annotations

import errno
import os
from pathlib import Path

DEFAULT_SCENARIO = "iraq-syria-2024.yaml"


def scenarios_dir() -> Path:
    """The shipped scenarios: inside the installed package, else the checkout's ``scenarios/``."""
    packaged = Path(__file__).resolve().parent / "scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "scenarios"


def default_scenario() -> Path:
    """The path of the default scenario, ``iraq-syria-2024.yaml`` (repository or wheel).

    Returns
    -------
    pathlib.Path
        Pass it to :func:`sim.load_scenario` (or straight to :func:`sim.run`).

    Examples
    --------
    >>> scenario = sim.load_scenario(sim.default_scenario())
    """
    return scenarios_dir() / DEFAULT_SCENARIO


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` names a regular file (through links); False, not an error,
    where the system cannot look it up at all (a name too long for it, say: Python 3.11's
    ``Path.is_file`` raises there)."""
    try:
        return path.is_file()
    except OSError:
        return False


def unreachable(path: Path) -> str | None:
    """Why the system cannot look ``path`` up at all, for a message (``a name too long
    for the system: at most 255 bytes a name``); None where it can."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            name_max, path_max = name_limits()
            return (
                f"a name too long for the system: at most {name_max:,} bytes a name, "
                f"{path_max:,} the whole path"
            )
    except ValueError:  # (a NUL byte)
        return "a name with a NUL byte"
    return None


def name_limits() -> tuple[int, int]:
    """The system's longest name and path [bytes]: POSIX's common 255 and 4,096 where
    ``os.pathconf`` cannot say."""
    try:
        return os.pathconf("/", "PC_NAME_MAX"), os.pathconf("/", "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no pathconf
        return 255, 4096


def missing(path: Path) -> str:
    """What stands at a ``path`` that does not exist, for a message: ``no such file``,
    or a symbolic link whose target is gone (named as the link gives it; with the
    missing file at the end of a chain of links, or the loop the links make)."""
    if not path.is_symlink():
        return "no such file"
    try:
        target = os.readlink(path)
    except OSError:
        return "a symbolic link to a file that does not exist"
    end, seen = path, set()
    while end.is_symlink():  # each link's target read relative to the link's folder
        if os.path.abspath(end) in seen:
            return f"a symbolic link to {target!r}, in a loop of links"
        seen.add(os.path.abspath(end))
        try:
            end = end.parent / os.readlink(end)
        except OSError:
            break
    if len(seen) > 1:
        return f"a symbolic link to {target!r}, which leads to {str(end)!r}, which does not exist"
    return f"a symbolic link to {target!r}, which does not exist"


def is_scenario_name(path: Path) -> bool:
    """Whether a file's name is a scenario file's: ``.yaml`` or ``.yml`` in any case
    (``b.YAML`` was passed over without a word), and not hidden (an editor's lock
    ``.#a.yaml``, a copy's ``._a.yaml`` resource file)."""
    return path.suffix.lower() in (".yaml", ".yml") and not path.name.startswith(".")


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files a folder holds (:func:`is_scenario_name`), as a shell's
    ``*.yaml *.yml`` lists them: by name, not recursive."""
    return sorted(p for p in folder.iterdir() if is_scenario_name(p))
