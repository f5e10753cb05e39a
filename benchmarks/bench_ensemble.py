"""Ensemble speed and memory: the default scenario at 10^4, 10^5 and 10^6 draws.

    python benchmarks/bench_ensemble.py [--quick] [--variants NAME]... [--scenario FILE]
                                        [--repeat R]

One line per number of draws N. Each N runs in a fresh subprocess, so its peak
resident memory (``ru_maxrss``) is its own; with ``--repeat R`` (default 3) it
runs R times and the line shows the fastest run (times on a shared machine only
ever get slower) and the largest peak memory:

* ``seconds``: wall time of ``sim.run(scenario, variants, draws=N, seed=1)``, all
  summaries included (bands, dates, p_met), the scenario already loaded;
* ``draw-months/s/variant``: ``N * months / (seconds / variants)``, the rate
  at which one variant's draws are stepped and summarised (target: >= 80 M);
* ``peak MB``: the subprocess's peak RSS, and in brackets its growth over the
  RSS after imports and loading (target: <= 400 MB, flat in N);
* ``floor s``: in the same subprocess, one pass writing the same number of
  float32 cells (N x months x theaters x variants) into a preallocated 1 MB
  float32 array (cache-resident), refilled until every cell is written: the
  cost of merely materialising each level once, with no arithmetic and no
  summary, at the fastest rate this machine writes memory;
* ``x floor``: seconds / floor seconds (target: <= 20, aim 5).

This is a benchmark, not a test: it asserts nothing.

Each subprocess first calls ``sim.keep_freed_memory()``, as the ``forcesim``
command does for its own process; with any ``MALLOC_*`` environment variable set
(``MALLOC_ARENA_MAX=8``, say) it leaves the allocator as glibc has it, to measure
that instead.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (10_000, 100_000, 1_000_000)
FLOOR_CELLS = 1 << 18  # 1 MB of float32


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def current_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def child(draws: int, scenario: str, variants: list[str]) -> None:
    """Run one N and print a JSON record (in the subprocess)."""
    import numpy as np

    import sim
    from sim.analysis.chunks import DEFAULT_CHUNK

    sim.keep_freed_memory()  # as the forcesim command does for its process
    sc = sim.load_scenario(scenario)
    names = sc.select(variants or None)
    plan = sc.plan(names[0])
    sim.run(sc, variants=names[:1], draws=100, seed=1)  # warm up lazy imports and caches
    base = current_mb()
    t0 = time.perf_counter()
    result = sim.run(sc, variants=names, draws=draws, seed=1)
    seconds = time.perf_counter() - t0
    peak = peak_mb()
    assert result.bands is not None and len(result.bands)

    months, theaters = plan.n_months, len(plan.theaters)
    cells = draws * months * theaters * len(names)
    buf = np.empty(FLOOR_CELLS, np.float32)
    buf.fill(0.0)  # preallocated and touched: the floor writes, it does not fault pages in
    t0 = time.perf_counter()
    done, value = 0, np.float32(1.0)
    while done < cells:
        if cells - done >= buf.size:
            buf.fill(value)
            done += buf.size
        else:
            buf.reshape(-1)[: cells - done] = value
            done = cells
    floor = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "draws": draws,
                "variants": len(names),
                "months": months,
                "theaters": theaters,
                "seconds": seconds,
                "peak": peak,
                "base": base,
                "floor": floor,
                "chunk": DEFAULT_CHUNK,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^4 draws only")
    ap.add_argument(
        "--variants",
        action="append",
        default=[],
        metavar="NAME",
        help="restrict to these variants (repeatable); default: all",
    )
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "iraq-syria-2024.yaml"))
    ap.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="R",
        help="subprocesses per N; the fastest is shown (default 3)",
    )
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.scenario, args.variants)
        return

    sizes = SIZES[:1] if args.quick else SIZES
    print(
        f"# {Path(args.scenario).name}, seed 1, wall seconds of sim.run(...) with all "
        f"summaries; fastest of {args.repeat} subprocesses per N"
    )
    print(
        f"{'draws':>9} {'variants':>8} {'months':>6} {'theaters':>8} {'seconds':>8} "
        f"{'draw-months/s/variant':>22} {'peak MB':>17} {'floor s':>8} {'x floor':>7}"
    )
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--scenario", args.scenario]
        for v in args.variants:
            cmd += ["--variants", v]
        recs = []
        for _ in range(max(1, args.repeat)):
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
            recs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        rec = min(recs, key=lambda r: r["seconds"])
        rec["floor"] = min(r["floor"] for r in recs)
        rec["peak"] = max(r["peak"] for r in recs)
        rec["base"] = min(r["base"] for r in recs)
        rate = rec["draws"] * rec["months"] * rec["variants"] / rec["seconds"]
        peak = f"{rec['peak']:.0f} (+{rec['peak'] - rec['base']:.0f})"
        print(
            f"{rec['draws']:>9,} {rec['variants']:>8} {rec['months']:>6} {rec['theaters']:>8} "
            f"{rec['seconds']:>8.3f} {rate / 1e6:>20.1f} M {peak:>17} "
            f"{rec['floor']:>8.3f} {rec['seconds'] / rec['floor']:>7.1f}"
        )


if __name__ == "__main__":
    main()
