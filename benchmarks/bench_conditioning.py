"""What conditioning costs: the default scenario with its record, plain and conditioned.

    python benchmarks/bench_conditioning.py [--quick] [--repeat R] [--as-of DATE]
                                            [--scenario FILE] [--observed FILE]

For each number of draws N (10^5 and 10^6; 10^4 with ``--quick``) and each mode,
a fresh subprocess loads the scenario and the observations, warms up, and times
``sim.run(scenario, draws=N, seed=1, ...)`` with every summary:

* ``plain``: the ensemble alone (bands, dates, p_met);
* ``observed``: the same, scoring every observation in the same pass
  (``observed=...``);
* ``conditioned``: also conditioned on the observations (``condition=True``,
  and ``as_of`` when given): the plain summaries, the weighted ones, the
  effective draws.

The modes take turns (plain, observed, conditioned, plain, ...) R times (default
5), so that a busy machine slows them alike. Each line shows the fastest wall
time and the least CPU time (``time.process_time``, which other processes on the
machine disturb less) of the R runs, the largest peak RSS, and the ratio of each
mode to ``plain`` at the same N (the target for ``conditioned``: at most 1.5).
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
SIZES = (100_000, 1_000_000)
MODES = ("plain", "observed", "conditioned")


def child(draws: int, mode: str, scenario: str, observed: str, as_of: str | None) -> None:
    """Time one mode and N; print a JSON record (in the subprocess)."""
    import sim

    sim.keep_freed_memory()  # as the forcesim command does for its process
    sc = sim.load_scenario(scenario)
    obs = sim.load_observations(observed, sc)
    options: dict[str, object] = {}
    if mode != "plain":
        options["observed"] = obs
    if mode == "conditioned":
        options.update(condition=True, as_of=as_of)
    sim.run(sc, draws=200, seed=1, **options)  # warm up imports and caches
    t0, c0 = time.perf_counter(), time.process_time()
    result = sim.run(sc, draws=draws, seed=1, **options)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert result.bands is not None
    effective = None
    if mode == "conditioned":
        effective = min(result.observed.conditioned.effective.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak": peak, "effective": effective}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10^4 draws only")
    ap.add_argument("--repeat", type=int, default=5, metavar="R")
    ap.add_argument("--as-of", dest="as_of", default=None, metavar="DATE")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "iraq-syria-2024.yaml"))
    ap.add_argument("--observed", default=str(ROOT / "scenarios" / "iraq-syria-2024-observed.csv"))
    ap.add_argument("--child", nargs=2, metavar=("N", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1], args.scenario, args.observed, args.as_of)
        return

    sizes = (10_000,) if args.quick else SIZES
    print(
        f"# {Path(args.scenario).name} with {Path(args.observed).name}"
        + (f", as of {args.as_of}" if args.as_of else "")
        + f"; seed 1; sim.run(...) in a fresh subprocess, modes in turn {args.repeat} times: "
        "the fastest wall time and the least CPU time"
    )
    print(
        f"{'draws':>10} {'mode':>12} {'seconds':>8} {'x plain':>8} {'cpu s':>7} "
        f"{'x plain':>8} {'peak MB':>8} {'min effective draws':>20}"
    )
    for n in sizes:
        recs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
        for _ in range(max(1, args.repeat)):
            for mode in MODES:
                cmd = [sys.executable, __file__, "--child", str(n), mode]
                cmd += ["--scenario", args.scenario, "--observed", args.observed]
                if args.as_of:
                    cmd += ["--as-of", args.as_of]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
                recs[mode].append(json.loads(out.stdout.strip().splitlines()[-1]))
        wall0 = min(r["seconds"] for r in recs["plain"])
        cpu0 = min(r["cpu"] for r in recs["plain"])
        for mode in MODES:
            wall = min(r["seconds"] for r in recs[mode])
            cpu = min(r["cpu"] for r in recs[mode])
            peak = max(r["peak"] for r in recs[mode])
            eff = recs[mode][0]["effective"]
            print(
                f"{n:>10,} {mode:>12} {wall:>8.3f} {wall / wall0:>8.2f} {cpu:>7.3f} "
                f"{cpu / cpu0:>8.2f} {peak:>8.0f} {'' if eff is None else f'{eff:,.1f}':>20}"
            )


if __name__ == "__main__":
    main()
