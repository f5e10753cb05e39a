"""What a paired comparison costs against the plain ensemble of the same two variants.

    python benchmarks/bench_compare.py [--quick] [--repeat R] [-a A] [-b B] [--scenario FILE]

For each number of draws N (10^5 and 10^6; 10^4 with ``--quick``), a fresh
subprocess loads the scenario, warms up, and times in turn, R times (default 3):

* ``plain``: ``sim.run(scenario, [A, B], draws=N, seed=1)``, every summary of both;
* ``compare``: ``sim.compare(scenario, A, B, draws=N, seed=1)``, the distribution
  of B - A over the same draws.

Each line shows the fastest wall time of each (times on a shared machine only
ever get slower) and their ratio (target: compare at most 1.5 times plain). This
is a benchmark, not a test: it asserts nothing.

Each subprocess first calls ``sim.keep_freed_memory()``, as the ``forcesim``
command does for its own process; with any ``MALLOC_*`` environment variable set
(``MALLOC_ARENA_MAX=8``, say) it leaves the allocator as glibc has it, to measure
that instead.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(draws: int, scenario: str, a: str, b: str, repeat: int) -> None:
    """Time both modes in turn (in the subprocess) and print a JSON record."""
    import sim

    sim.keep_freed_memory()  # as the forcesim command does for its process
    sc = sim.load_scenario(scenario)
    sim.run(sc, [a, b], draws=200, seed=1)  # warm up imports and caches
    sim.compare(sc, a, b, draws=200, seed=1)
    best = {"plain": float("inf"), "compare": float("inf")}
    for _ in range(repeat):
        t0 = time.perf_counter()
        sim.run(sc, [a, b], draws=draws, seed=1)
        best["plain"] = min(best["plain"], time.perf_counter() - t0)
        t0 = time.perf_counter()
        sim.compare(sc, a, b, draws=draws, seed=1)
        best["compare"] = min(best["compare"], time.perf_counter() - t0)
    print(json.dumps({"draws": draws, **best}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10^4 draws only")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("-a", default="on-time")
    ap.add_argument("-b", default="slip-6")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "iraq-syria-2024.yaml"))
    ap.add_argument("--child", nargs=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(int(args.child[0]), args.scenario, args.a, args.b, args.repeat)
        return
    sizes = (10_000,) if args.quick else (100_000, 1_000_000)
    print(
        f"# {Path(args.scenario).name}: {args.b} - {args.a}, seed 1, fastest of "
        f"{args.repeat} in one fresh subprocess per N"
    )
    print(f"{'draws':>10s} {'plain s':>9s} {'compare s':>10s} {'x plain':>8s}")
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--repeat", str(args.repeat)]
        cmd += ["-a", args.a, "-b", args.b, "--scenario", args.scenario]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = r["compare"] / r["plain"]
        print(f"{n:>10,d} {r['plain']:>9.3f} {r['compare']:>10.3f} {ratio:>8.2f}")


if __name__ == "__main__":
    main()
