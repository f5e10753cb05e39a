"""Peak memory and wall time of ``forcesim run`` on the format's largest products of
variants, theaters and months, each run in its own process, files and charts written.

    python benchmarks/bench_results.py [--draws N]... [--months 120|600]... [--quiet]
                                       [--observed [--condition | --wide]] [--workers W]

The scenarios are generated here (not shipped): ``variants-100`` is ``theaters-50`` of
``benchmarks/bench_scale_memory.py`` (50 theaters of 20,000 troops, each withdrawn to an
uncertain level after an uncertain announcement) with 100 variants, each moving every
theater's deadline (``after_announcement``) by its own number of months, over 120 months
(2024-01 to 2033-12) or, as ``variants-100-600``, the most months the format allows
(2024-01 to 2073-12): 600,000 or 3,000,000 rows of ``monthly`` (and of ``bands``, with
draws). The format's limits are 100 variants, 50 theaters and 600 months.

Each run is ``forcesim run SCENARIO [--draws N --seed 1] --out DIR`` as a user runs it
(with ``--quiet``: ``-q`` too), inside a fresh Python process that reports its wall time
and its peak resident set (``ru_maxrss``, MB of 2^20 bytes: the interpreter, the imports,
the run, the tables, the charts and ``run.json``). Without ``--draws``: the central run
only, then 300 draws. This is a benchmark, not a test; the target is at most 400 MB for
every scenario within the format's limits, at any number of draws. With ``--workers W``,
the runs with draws go to a local Dask cluster of W workers (``forcesim run --workers W``): the peak
RSS is the command's own process, and the line adds the largest of its child processes
(a worker, or the cluster's scheduler).

With ``--observed``, each theater is of 1,000 troops (each cut to 0 to 200) and the
scenario carries three reports (a range, a range from 0 and an upper bound, of three
theaters), which the run scores (``--condition``: and conditions on); 1,000 troops over
600 months are too large to count level by level (their level counts would take more
than 128 MB), so they are refused for conditioning and scored from counts of each
reported quantity. With ``--wide`` the theaters keep their 20,000 troops (cut to 0 to
4,000; the reports twenty times as large): every variant is counted in bins and its
reports scored from such counts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale_memory import _cut, _doc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def variants_doc(months: int) -> dict[str, Any]:
    """50 theaters x 100 variants over ``months`` months (120 or 600)."""
    end = {120: "2033-12", 600: "2073-12"}[months]
    sid = "variants-100" if months == 120 else f"variants-100-{months}"
    theaters = {f"t{i:02d}": {"initial": 20_000} for i in range(50)}
    cuts = {f"t{i:02d}-cut": _cut(f"t{i:02d}", 6 + i % 18, 0, 4_000) for i in range(50)}
    doc = _doc(sid, end, theaters, cuts)
    doc["variants"] = {
        f"v{j:03d}": {
            "description": f"cuts {j % 12} months later",
            "overrides": {
                "milestones": {
                    f"t{i:02d}-cut": {"deadline": {"after_announcement": 6 + (i + j) % 18 + j % 12}}
                    for i in range(50)
                }
            },
        }
        for j in range(100)
    }
    return doc


def observed_doc(months: int, wide: bool = False) -> dict[str, Any]:
    """:func:`variants_doc` of theaters of 1,000 troops (``wide``: 20,000), with three
    reports."""
    doc = variants_doc(months)
    scale = 20 if wide else 1
    for theater in doc["theaters"].values():
        theater["initial"] = 1_000 * scale
    for milestone in doc["milestones"].values():
        milestone["target"]["level"]["uniform"] = [0, 200 * scale]
    doc["observations"] = [
        {
            "date": "2025-03",
            "theater": "t00",
            "troops_low": 500 * scale,
            "troops_high": 1_000 * scale,
        },
        {"date": "2026-06", "theater": "t01", "troops_low": 0, "troops_high": 333 * scale},
        {"date": "2027-01", "theater": "t02", "troops_high": 250 * scale},
    ]
    return doc


CHILD = r"""
import json, resource, sys, time
from sim.cli import main
t0 = time.perf_counter()
try:
    main(sys.argv[1:], prog_name="forcesim")
except SystemExit as e:
    code = e.code
else:
    code = 0
wall = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
report = {"code": code, "wall": wall, "rss_mb": rss, "workers_mb": workers}
print(json.dumps(report), file=sys.stderr)
"""


def measure(args: list[str]) -> dict[str, Any]:
    """``forcesim ARGS`` in a fresh process: its exit code, wall time and peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, cwd=ROOT
    )
    last = (proc.stderr.strip().splitlines() or ["{}"])[-1]
    try:
        report: dict[str, Any] = json.loads(last)
    except json.JSONDecodeError:
        report = {"code": proc.returncode, "wall": None, "rss_mb": None, "error": last[:120]}
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, action="append", default=[], help="draws (repeatable)")
    ap.add_argument("--months", type=int, action="append", default=[], choices=[120, 600])
    ap.add_argument("--quiet", action="store_true", help="run with -q (no printed table)")
    ap.add_argument("--observed", action="store_true", help="score three reports")
    ap.add_argument("--condition", action="store_true", help="with --observed: condition too")
    ap.add_argument("--wide", action="store_true", help="with --observed: 20,000-troop theaters")
    ap.add_argument("--workers", type=int, default=0, help="run on a local cluster of N workers")
    args = ap.parse_args()
    if (args.condition or args.wide) and not args.observed:
        ap.error("--condition and --wide need --observed")
    if args.condition and args.wide:
        ap.error("--condition refuses forces counted in bins: not with --wide")
    months = args.months or [120, 600]
    draws: list[int | None] = [None, *args.draws] if args.draws else [None, 300]
    with tempfile.TemporaryDirectory() as tmp:
        for m in months:
            path = Path(tmp) / f"variants-{m}.yaml"
            doc = observed_doc(m, args.wide) if args.observed else variants_doc(m)
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            for n in draws:
                if args.condition and not n:
                    continue  # (conditioning weighs draws)
                cmd = ["run", str(path), "--out", str(Path(tmp) / f"out-{m}-{n}")]
                cmd += ["--draws", str(n), "--seed", "1"] if n else []
                cmd += ["--condition"] if args.condition else []
                cmd += ["-q"] if args.quiet else []
                cmd += ["--workers", str(args.workers)] if args.workers and n else []
                r = measure(cmd)
                wall = "-" if r.get("wall") is None else f"{r['wall']:.1f} s"
                rss = "-" if r.get("rss_mb") is None else f"{r['rss_mb']:,.0f} MB"
                what = f"{m} months, " + (f"{n:,} draws" if n else "central run")
                line = f"{what:28s} wall {wall:>9s}  peak RSS {rss:>9s}  exit {r.get('code')}"
                if args.workers and n and r.get("workers_mb"):
                    line += f"  (largest worker {r['workers_mb']:,.0f} MB)"
                print(line)


if __name__ == "__main__":
    main()
