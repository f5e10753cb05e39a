"""Print a pip constraints file pinning every declared dependency to its floor.

pip has no "lowest versions" resolution: pinning each ``name>=X`` of pyproject.toml
(runtime and the ``dev`` extra) to ``name==X`` makes it install exactly the floors,
so the suite runs against the oldest versions the project says it supports.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml").read_text())[
    "project"
]
extras = project["optional-dependencies"]
specs = list(project["dependencies"])
specs += [s for group in extras.values() for s in group if not s.startswith("forcesim[")]
for spec in specs:
    # name, its extras (not part of a constraint), floor
    m = re.fullmatch(
        r"\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)\s*(?:,.*)?", spec
    )
    if m is None:
        if ">=" in spec or "<" in spec or "==" in spec:
            sys.exit(f"floors.py: cannot read the floor of {spec!r}")
        continue  # no floor declared (e.g. types-PyYAML): whatever pip picks
    print(f"{m.group(1)}=={m.group(2)}")
