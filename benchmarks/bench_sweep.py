"""What a sweep spends on each point before and while it runs, one variant of several.

    python benchmarks/bench_sweep.py [--repeat R] [--variant NAME] [--scenario FILE]

A fresh subprocess loads the scenario, warms up, and times, R times (default 3):

* ``settings``: ``scenario.with_settings([...], variants=[NAME])`` for each point of
  a grid of 13 announcement delays x 100 initial levels of Iraq (1,300 points), the
  check a sweep makes of every point before it runs any (each point's values set
  on the variant swept, validated and compiled);
* ``sweep``: ``sim.sweep(scenario, grid, variants=[NAME])`` of the same grid, the
  central run of every point (its outcomes read off one path each), checks included;
* ``refused``: a grid of 100 x 100 points whose delays from 45 months on leave a
  target unreached, refused at its first such point (the 4,501st), as a user with
  too wide a range meets it.

Each line shows the fastest wall time (times on a shared machine only ever get
slower), per point where that is the unit, and the subprocess's peak RSS. This is a
benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DELAYS, LEVELS = range(13), range(2000, 2100)


def child(scenario: str, variant: str, repeat: int) -> None:
    """Time the three in turn (in the subprocess) and print a JSON record."""
    import itertools

    import sim

    sc = sim.load_scenario(scenario)
    grid = {"announcement.delay": list(DELAYS), "theaters.iraq.initial": list(LEVELS)}
    sim.sweep(sc, {"announcement.delay": [0, 1]}, variants=[variant])  # warm up
    best = {"settings": float("inf"), "sweep": float("inf"), "refused": float("inf")}
    points = list(itertools.product(*grid.values()))
    for _ in range(repeat):
        t0 = time.perf_counter()
        for point in points:
            sc.with_settings(list(zip(grid, point, strict=True)), variants=[variant])
        best["settings"] = min(best["settings"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        sim.sweep(sc, grid, variants=[variant])
        best["sweep"] = min(best["sweep"], time.perf_counter() - t0)
        wide = {"announcement.delay": list(range(100)), "theaters.iraq.initial": list(LEVELS)}
        t0 = time.perf_counter()
        with contextlib.suppress(sim.ScenarioError):  # (refused: the time to refuse)
            sim.sweep(sc, wide, variants=[variant])
        best["refused"] = min(best["refused"], time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"points": len(points), "peak": peak, **best}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--variant", default="on-time")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "iraq-syria-2024.yaml"))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.scenario, args.variant, args.repeat)
        return
    cmd = [sys.executable, __file__, "--child", "--repeat", str(args.repeat)]
    cmd += ["--variant", args.variant, "--scenario", args.scenario]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    n = r["points"]
    print(f"# {Path(args.scenario).name}, variant {args.variant}; fastest of {args.repeat}")
    print(f"{'':24}{'seconds':>9}{'ms/point':>10}")
    print(f"{'settings, 1,300 points':24}{r['settings']:9.3f}{1000 * r['settings'] / n:10.2f}")
    print(f"{'sweep, 1,300 points':24}{r['sweep']:9.3f}{1000 * r['sweep'] / n:10.2f}")
    print(f"{'refused at point 4,501':24}{r['refused']:9.3f}")
    print(f"peak RSS {r['peak']:.0f} MB")


if __name__ == "__main__":
    main()
