"""Peak memory and wall time of ensembles of large scenarios, each in its own process.

    python benchmarks/bench_scale_memory.py [--draws N] [--limit-gb G] [--quick]
                                            [--only NAME]... [--observed]

The scenarios are generated here (they are not shipped as user scenarios):

* ``theaters-50``: 50 theaters of 20,000 troops each over 120 months, each
  withdrawn to an uncertain level within two years of an uncertain announcement;
* ``troops-10m``: one theater of 10,000,000 troops over 24 months, cut to an
  uncertain level;
* ``sites-100``: one theater of 100 sites of 1,000 troops each over 24 months,
  each site cut on its own uncertain schedule;
* ``sites-1000``: one theater of 1,000 sites (the most the format allows), each of
  an uncertain 900 to 1,100 troops over 24 months, the first 200 (the most
  milestones) cut on their own uncertain schedules;
* ``months-600``: one theater of 1,000 troops over 600 months (50 years);
* ``troops-10m-600``: one theater of 10,000,000 troops over 600 months, cut to an
  uncertain level over ten years (the largest force over the longest horizon).
* ``sites-2-600``: one theater of two sites over 600 months, each drawn over 0 to
  2,000 troops and cut over the whole horizon to a level drawn over the same range:
  half the draws rise month after month, so the theater's running minimum is
  counted too (the longest horizon for a theater made of sites);
* ``timing-keys-10``: 10 theaters of about 1,000 troops over 120 months, each cut in
  two milestones (an uncertain share by 2026, then to 0 by 2028), every milestone
  with an execution delay of 0 to 12 months: nearly every draw has a timing key of
  its own (13^21 of them), though each theater's windows take at most 13^3.
* ``sites-timing-keys-10``: the same 10 theaters, each made of 3 sites of about
  2,000 troops, each site cut in the same two milestones with their execution
  delays (30 sites, 60 milestones): the series summed of sites, over draws
  whose timing groups hold a handful of draws each, even theater by theater.

Each is run by ``sim.run(scenario, draws=N, seed=1)`` (every variant, no files
written) in a fresh Python process, which reports its wall time for the run and
its peak resident set size (``ru_maxrss``, the whole process: interpreter,
imports and the run), and the write floor of ``benchmarks/bench_ensemble.py``
for the same number of levels (one float32 write per draw, month, series
(theater or site) and variant) with the wall time as a multiple of it. The
child's address space is capped at ``--limit-gb`` (default 8 GB, of the
machine's 23) so an oversized allocation fails as a ``MemoryError`` there
rather than exhausting the machine; a ``MemoryError`` is reported as the
scenario's result. ``--quick`` runs 10^3 draws and a smaller cap (4 GB), to
check the script itself. With ``--observed``, each run also scores up to four reports
(``sim.run(..., observed=...)``): the first and the last series (theater or site)
at months 12 and 24 where the run is that long, each stated as its central run's level
there ±10 % (at most 10,000,000); each line says how many. This is
a benchmark, not a test.

Each subprocess first calls ``sim.keep_freed_memory()``, as the ``forcesim``
command does for its own process; with any ``MALLOC_*`` environment variable set
(``MALLOC_ARENA_MAX=8``, say) it leaves the allocator as glibc has it, to measure
that instead.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

HEAD: dict[str, Any] = {
    "as_of": "2024-01",
    "announcement": {"expected": "2024-03", "delay": {"uniform": [0, 12]}},
}


def _doc(sid: str, end: str, theaters: dict[str, Any], milestones: dict[str, Any]) -> dict:
    return {
        "id": sid,
        "title": f"Benchmark: {sid}",
        **HEAD,
        "calendar": {"start": "2024-01", "end": end},
        "theaters": theaters,
        "milestones": milestones,
    }


def _cut(where: str, months: int, low: int, high: int) -> dict[str, Any]:
    return {
        "theater": where,
        "deadline": {"after_announcement": months},
        "target": {"level": {"uniform": [low, high]}},
        "profile": "linear",
    }


def scenarios() -> dict[str, dict[str, Any]]:
    """The generated scenario documents, by benchmark name."""
    t50 = {f"t{i:02d}": {"initial": 20_000} for i in range(50)}
    m50 = {f"t{i:02d}-cut": _cut(f"t{i:02d}", 6 + i % 18, 0, 4_000) for i in range(50)}
    sites = {f"s{i:03d}": {"initial": 1_000} for i in range(100)}
    m100 = {f"s{i:03d}-cut": _cut(f"big/s{i:03d}", 3 + i % 12, 0, 300) for i in range(100)}
    many = {f"s{i:04d}": {"initial": {"uniform": [900, 1_100]}} for i in range(1_000)}
    m200 = {f"s{i:04d}-cut": _cut(f"big/s{i:04d}", 3 + i % 12, 0, 300) for i in range(200)}
    two = {s: {"initial": {"uniform": [0, 2_000]}} for s in ("north", "south")}
    m2 = {f"{s}-cut": _cut(f"big/{s}", 580, 0, 2_000) for s in two}
    t10 = {f"t{i}": {"initial": {"uniform": [1_000, 1_100]}} for i in range(10)}
    m10: dict[str, Any] = {}
    for i in range(10):
        m10[f"t{i}-cut"] = {
            "theater": f"t{i}",
            "deadline": "2026-01",
            "profile": "s-curve",
            "target": {"reduce_by": {"uniform": [0, 400]}},
            "delay": {"uniform": [0, 12]},
        }
        m10[f"t{i}-out"] = {
            "theater": f"t{i}",
            "deadline": "2028-01",
            "target": {"level": 0},
            "delay": {"uniform": [0, 12]},
        }
    t10s = {
        f"t{i}": {"sites": {f"s{j}": {"initial": {"uniform": [1_900, 2_100]}} for j in range(3)}}
        for i in range(10)
    }
    m10s: dict[str, Any] = {}
    for i in range(10):
        for j in range(3):
            where = f"t{i}/s{j}"
            for step in ("cut", "out"):  # (a copy each: YAML would write shared ones as aliases)
                m10s[f"t{i}-s{j}-{step}"] = {**copy.deepcopy(m10[f"t{i}-{step}"]), "theater": where}
    return {
        "theaters-50": _doc("theaters-50", "2033-12", t50, m50),
        "troops-10m": _doc(
            "troops-10m",
            "2025-12",
            {"big": {"initial": 10_000_000}},
            {"cut": _cut("big", 12, 2_000_000, 6_000_000)},
        ),
        "sites-100": _doc("sites-100", "2025-12", {"big": {"sites": sites}}, m100),
        "sites-1000": _doc("sites-1000", "2025-12", {"big": {"sites": many}}, m200),
        "months-600": _doc(
            "months-600",
            "2073-12",
            {"alpha": {"initial": 1_000}},
            {"out": _cut("alpha", 120, 0, 200)},
        ),
        "sites-2-600": _doc("sites-2-600", "2073-12", {"big": {"sites": two}}, m2),
        "timing-keys-10": _doc("timing-keys-10", "2033-12", t10, m10),
        "sites-timing-keys-10": _doc("sites-timing-keys-10", "2033-12", t10s, m10s),
        "troops-10m-600": _doc(
            "troops-10m-600",
            "2073-12",
            {"big": {"initial": 10_000_000}},
            {"cut": _cut("big", 120, 0, 6_000_000)},
        ),
    }


CHILD = r"""
import json, resource, sys, time
limit = int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import sim
sim.keep_freed_memory()  # as the forcesim command does for its process
sc = sim.load_scenario(sys.argv[1])
observed = sim.load_observations(sys.argv[4], sc) if len(sys.argv) > 4 else None
t0 = time.perf_counter()
try:
    sim.run(sc, draws=int(sys.argv[2]), seed=1, observed=observed)
    outcome = "ok"
except MemoryError as e:
    outcome = "MemoryError: " + str(e)[:120]
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB -> MB on Linux
# the write floor, as benchmarks/bench_ensemble.py measures it: one float32 write per
# level the run summarises (draws x months x series x variants), into a 1 MB buffer
import numpy as np
plans = [sc.plan(v) for v in sc.select(None)]
cells = int(sys.argv[2]) * sum(p.n_months * len(p.series_names()) for p in plans)
buf = np.zeros(1 << 18, np.float32)
t0 = time.perf_counter()
done = 0
while done < cells:
    take = min(buf.size, cells - done)
    buf[:take] = 1.0
    done += take
floor = time.perf_counter() - t0
print(json.dumps({"outcome": outcome, "wall": wall, "rss_mb": rss, "floor": floor}))
"""


def reports(path: Path) -> str:
    """A reports file (CSV text) for the scenario at ``path``: its first and last series
    at months 12 and 24 (where the run is that long), each its central run's level of
    the first variant there, within ±10 %."""
    import sim

    sc = sim.load_scenario(path)
    variant = sc.select(None)[0]
    plan = sc.plan(variant)
    monthly = sim.run(sc, variants=[variant]).monthly
    names = plan.series_names()
    rows = ["date,theater,troops_low,troops_high"]
    for name in dict.fromkeys([names[0], names[-1]]):
        levels = monthly[monthly.theater == name].set_index("month").troops
        for m in (12, 24):
            if m < plan.n_months:
                month = levels.index[m]
                level = int(levels.iloc[m])
                high = min(level * 11 // 10, 10_000_000)  # (the format's largest level)
                rows.append(f"{month},{name},{level * 9 // 10},{high}")
    return "\n".join(rows) + "\n"


def measure(path: Path, draws: int, limit: int, observed: Path | None = None) -> dict[str, Any]:
    """Run the child on ``path`` (scoring ``observed``, when given); its JSON report, or
    the failure it exited with."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(draws), str(limit)]
        + ([str(observed)] if observed else []),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {
            "outcome": f"exit {proc.returncode}: {last[:120]}",
            "wall": None,
            "rss_mb": None,
            "floor": None,
        }
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=None, help="draws per run (default 10^4)")
    ap.add_argument("--limit-gb", type=float, default=None, help="address-space cap per run")
    ap.add_argument("--quick", action="store_true", help="10^3 draws, 4 GB cap")
    ap.add_argument("--only", action="append", default=[], help="run only this scenario")
    ap.add_argument("--observed", action="store_true", help="score four reports too")
    args = ap.parse_args()
    draws = args.draws or (1_000 if args.quick else 10_000)
    limit_gb = args.limit_gb or (4.0 if args.quick else 8.0)
    docs = scenarios()
    unknown = set(args.only) - set(docs)
    if unknown:
        ap.error(f"unknown scenario {sorted(unknown)}; known: {sorted(docs)}")
    print(f"{draws:,} draws per run, address space capped at {limit_gb:g} GB")
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in docs.items():
            if args.only and name not in args.only:
                continue
            path = Path(tmp) / f"{name}.yaml"
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            observed = None
            if args.observed:
                observed = Path(tmp) / f"{name}-observed.csv"
                observed.write_text(reports(path))
            r = measure(path, draws, int(limit_gb * 2**30), observed)
            if observed is not None:
                r["outcome"] += f", {len(observed.read_text().splitlines()) - 1} reports"
            wall = "-" if r["wall"] is None else f"{r['wall']:.2f} s"
            rss = "-" if r["rss_mb"] is None else f"{r['rss_mb']:,.0f} MB"
            times = "-" if r["wall"] is None or not r["floor"] else f"{r['wall'] / r['floor']:.0f}"
            floor = "-" if not r["floor"] else f"{r['floor']:.3f} s"
            print(
                f"{name:12s} wall {wall:>9s}  peak RSS {rss:>9s}  floor {floor:>8s}"
                f"  x floor {times:>5s}  {r['outcome']}"
            )


if __name__ == "__main__":
    main()
