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
    or a symbolic link whose target is gone (named as the link gives it)."""
    if path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            return "a symbolic link to a file that does not exist"
        return f"a symbolic link to {target!r}, which does not exist"
    return "no such file"
