"""Where the shipped scenarios are, in a checkout and in an installed wheel."""

from __future__ import annotations

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


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files a folder holds, as a shell's ``*.yaml *.yml`` lists them: by
    name, not recursive, and not the hidden ones (an editor's lock ``.#a.yaml``, a
    copy's ``._a.yaml`` resource file)."""
    return sorted(
        p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )


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
    from sim.errors import ScenarioError, describe

    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{function}() takes {or_else}the path of {what} (a str or pathlib.Path), "
            f"not {type(value).__name__}"
        )
    path = Path(value)
    why = None
    if isinstance(value, str) and "\n" in value:
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
