"""Scale-out, sweep and sensitivity: wall times of the default scenario.

    python benchmarks/bench_scale.py [--draws N] [--points P] [--point-draws M]
                                     [--sens-draws S] [--workers W] [--only NAME]...

Three measurements (``--only ensemble|sweep|sensitivity`` picks some):

* ``ensemble``: ``sim.run`` of every variant at ``--draws`` draws (default
  10^8), in this process and on a local Dask cluster of ``--workers`` worker
  processes (default 2); the cluster's start-up is timed apart from the run. The
  summaries are checked to be identical.
* ``sweep``: a grid of ``--points`` points (default 1,000: the announcement delay
  0..9 by the first phase's cut, 100 values) over every variant at
  ``--point-draws`` draws per point (default 10^4), in this process and on the
  cluster; the tables are checked to be identical.
* ``sensitivity``: the tenths analysis of every variant at ``--sens-draws``
  draws (default 10^6) against the plain ensemble of the same draws, and the
  same two as command lines (``forcesim run`` and ``forcesim sensitivity``, each
  writing its files and charts), fastest of three.

Times are the fastest of the repeats given (``--repeat``, default 1 for the big
runs); the machine has 2 cores, so 2 workers are at best twice as fast, and only
when nothing else runs. CPU seconds are reported beside the wall times (the
workers' summed), so the cost of distributing shows even on a busy machine.
This is a benchmark, not a test: it checks only that the results agree.

Each subprocess first calls ``sim.keep_freed_memory()``, as the ``forcesim``
command does for its own process; with any ``MALLOC_*`` environment variable set
(``MALLOC_ARENA_MAX=8``, say) it leaves the allocator as glibc has it, to measure
that instead.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(func, repeat: int = 1):  # type: ignore[no-untyped-def]
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cpu_of(pool) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds used so far by the cluster's worker processes."""
    return sum(pool.client.run(time.process_time).values())


def ensemble(draws: int, workers: int) -> None:
    import sim

    sim.keep_freed_memory()  # as the forcesim command does for its process
    sc = sim.load_scenario(sim.default_scenario())
    sim.run(sc, draws=1000, seed=1)  # warm up
    cpu = time.process_time()
    here_s, here = timed(lambda: sim.run(sc, draws=draws, seed=1))
    here_cpu = time.process_time() - cpu
    t0 = time.perf_counter()
    with sim.open_executor(workers) as pool:
        start_s = time.perf_counter() - t0
        cpu, client_cpu = cpu_of(pool), time.process_time()
        there_s, there = timed(lambda: sim.run(sc, draws=draws, seed=1, executor=pool))
        there_cpu = cpu_of(pool) - cpu
        client_cpu = time.process_time() - client_cpu
    same = here.bands.equals(there.bands) and here.dates.equals(there.dates)
    variants = len(here.variants)
    print(
        f"ensemble: {draws:,} draws x {variants} variants: in-process {here_s:.1f} s "
        f"({here_cpu:.1f} s CPU); {workers} workers {there_s:.1f} s (+ {start_s:.1f} s "
        f"cluster start; {there_cpu:.1f} s CPU in the workers, {client_cpu:.1f} s here); "
        f"speed-up {here_s / there_s:.2f}x; identical summaries: {same}"
    )


def sweep(points: int, point_draws: int, workers: int) -> None:
    import sim

    sim.keep_freed_memory()  # as the forcesim command does for its process
    sc = sim.load_scenario(sim.default_scenario())
    cuts = points // 10
    axes = [
        ("announcement.delay", list(range(10))),
        ("milestones.iraq-phase-1.target.reduce_by", [300 + 6 * i for i in range(cuts)]),
    ]
    cpu = time.process_time()
    here_s, here = timed(lambda: sim.sweep(sc, axes, None, point_draws, 1))
    here_cpu = time.process_time() - cpu
    t0 = time.perf_counter()
    with sim.open_executor(workers) as pool:
        start_s = time.perf_counter() - t0
        cpu, client_cpu = cpu_of(pool), time.process_time()
        there_s, there = timed(lambda: sim.sweep(sc, axes, None, point_draws, 1, executor=pool))
        there_cpu = cpu_of(pool) - cpu
        client_cpu = time.process_time() - client_cpu
    n = 10 * cuts
    print(
        f"sweep: {n:,} points x {len(here.variants)} variants x {point_draws:,} draws: "
        f"in-process {here_s:.1f} s ({1000 * here_s / n:.0f} ms a point, {here_cpu:.1f} s "
        f"CPU); {workers} workers {there_s:.1f} s (+ {start_s:.1f} s cluster start; "
        f"{there_cpu:.1f} s CPU in the workers, {client_cpu:.1f} s here, checking every "
        f"point); speed-up {here_s / there_s:.2f}x; identical tables: "
        f"{here.table.equals(there.table)}"
    )


def sensitivity(draws: int, repeat: int) -> None:
    import sim

    sim.keep_freed_memory()  # as the forcesim command does for its process
    sc = sim.load_scenario(sim.default_scenario())
    sim.run(sc, draws=1000, seed=1)
    sim.sensitivity(sc, None, 1000, 1)
    run_s, _ = timed(lambda: sim.run(sc, draws=draws, seed=1), repeat)
    sens_s, _ = timed(lambda: sim.sensitivity(sc, None, draws, 1), repeat)
    print(
        f"sensitivity: {draws:,} draws x 8 variants: plain ensemble {run_s:.2f} s, "
        f"tenths {sens_s:.2f} s: {sens_s / run_s:.2f}x (computation only)"
    )
    exe = str(Path(sys.executable).parent / "forcesim")
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--draws", str(draws), "--seed", "1", "-q"]

        def cli(*args: str) -> None:
            subprocess.run([exe, *args, *common], check=True, capture_output=True)

        run_cli, _ = timed(lambda: cli("run", "--out", f"{tmp}/run"), repeat)
        sens_cli, _ = timed(lambda: cli("sensitivity", "--out", f"{tmp}/sens"), repeat)
    print(
        f"sensitivity, command lines with files and charts: forcesim run {run_cli:.2f} s, "
        f"forcesim sensitivity {sens_cli:.2f} s: {sens_cli / run_cli:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=100_000_000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--point-draws", type=int, default=10_000)
    parser.add_argument("--sens-draws", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", choices=["ensemble", "sweep", "sensitivity"])
    args = parser.parse_args()
    only = args.only or ["ensemble", "sweep", "sensitivity"]
    if "sensitivity" in only:
        sensitivity(args.sens_draws, args.repeat)
    if "sweep" in only:
        sweep(args.points, args.point_draws, args.workers)
    if "ensemble" in only:
        ensemble(args.draws, args.workers)


if __name__ == "__main__":
    main()
