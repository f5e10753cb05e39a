"""Command-line speed: ``forcesim run`` against the cost of the libraries it needs.

    python benchmarks/bench_cli.py [--repeat 5]

Prints the median wall time (of ``--repeat`` runs, each a fresh process) of:

* ``forcesim run`` of the default scenario, writing every file and the PNG, to a
  temporary directory;
* the floor: ``python -c`` that imports numpy, pandas and matplotlib (Agg) and
  saves an empty figure as PNG; the ratio run / floor (target: <= 1.5);
* ``forcesim --help`` (target: < 0.3 s);
* for reference, ``forcesim run --draws 100000 --seed 1`` (the ensemble with its
  fan chart) and ``python -c pass`` (the interpreter alone).

This is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = (
    "import numpy, pandas, matplotlib; matplotlib.use('Agg'); "
    "import matplotlib.pyplot as plt; fig = plt.figure(); fig.savefig({png!r})"
)


# Bytecode caching on, as for any pip-installed package: the libraries in the floor
# come with their .pyc files, and the untimed warm-up pass writes forcesim's.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def forcesim() -> list[str]:
    exe = Path(sys.executable).with_name("forcesim")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim"]


def median_time(cmd: list[str], repeat: int, fresh_dir: bool = False) -> float:
    times = []
    for _ in range(repeat):
        tmp = Path(tempfile.mkdtemp(prefix="forcesim-bench-"))
        try:
            args = [a.replace("{tmp}", str(tmp)) for a in cmd]
            t0 = time.perf_counter()
            subprocess.run(
                args,
                check=True,
                cwd=ROOT,
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            times.append(time.perf_counter() - t0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    fs = forcesim()
    floor_code = FLOOR.format(png="{tmp}/empty.png")
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        (
            "floor: import numpy+pandas+matplotlib, save empty PNG",
            [sys.executable, "-c", floor_code],
        ),
        ("forcesim run (default scenario, PNG)", [*fs, "run", "--quiet", "--out", "{tmp}/out"]),
        ("forcesim --help", [*fs, "--help"]),
        (
            "forcesim run --draws 100000 --seed 1",
            [*fs, "run", "--quiet", "--draws", "100000", "--seed", "1", "--out", "{tmp}/out"],
        ),
    ]
    # one untimed pass of each, so that every run sees warm file caches
    for _, cmd in rows:
        median_time(cmd, 1)
    results = {}
    print(f"# median of {args.repeat} fresh processes, wall seconds")
    for label, cmd in rows:
        results[label] = median_time(cmd, args.repeat)
        print(f"{results[label]:8.3f}  {label}")
    run = results["forcesim run (default scenario, PNG)"]
    floor = results["floor: import numpy+pandas+matplotlib, save empty PNG"]
    print(f"{run / floor:8.2f}x forcesim run / floor (target <= 1.5)")
    print(f"{results['forcesim --help']:8.3f}  forcesim --help (target < 0.3 s)")


if __name__ == "__main__":
    main()
