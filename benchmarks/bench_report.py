"""Peak memory and wall time of ``forcesim report`` on large generated runs, each in a
process of its own.

    python benchmarks/bench_report.py [--variants N] [--theaters N] [--draws N]

The run is generated here: ``report-VxT``, V variants (default 30) of T theaters
(default 50) of 20,000 troops each over 120 months, without draws (or ``--draws N``,
seed 1); each theater is
cut to a level within two years of the announcement (``benchmarks/bench_scale_memory.py``'s
``_doc`` and ``_cut``), and each variant moves the deadline and level of one theater's
cut in ten (``overrides`` of its milestones): most of the variants' lines run along
the same path for long stretches, which the page's envelope chart draws again in
dashes, a trace per variant and stretch. The 30 x 50 page comes to 8.6 MB; before the
at-once refusal counted those lines and stretches, it was built whole before it was
refused (13.6 s and 337 MB here, 2026-12-02; a run of this kind took 30 s and 433 MB
in an earlier measure).

Then ``forcesim report`` of that run, in each of these ways:

* ``whole``: the page of every variant and theater (refused: over 6 MB);
* ``3 variants``: ``--variant`` three of them;
* ``10 theaters``: ``--theater`` ten of them, every variant;

each reporting its exit status, wall time and peak resident set size (``ru_maxrss``
of the child, from ``os.wait4``). ``--variants 100 --draws 300`` makes a run whose
page is refused at once by its tables (600,000 rows of ``monthly.csv`` and of
``bands.csv``); a page of 3 variants or 10 theaters of it reads only their rows (it
read every row, 471 to 498 MB, before they were chosen at read time). Wall times
depend on what else the machine runs; the peak RSS does not. This is a benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale_memory import _cut, _doc  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def scenario(variants: int, theaters: int) -> dict[str, Any]:
    """The generated scenario document: ``theaters`` theaters, ``variants`` variants."""
    names = [f"t{i:02d}" for i in range(theaters)]
    cuts = {f"{t}-cut": _cut(t, 6 + i % 18, 0, 4_000) for i, t in enumerate(names)}
    doc = _doc(
        f"report-{variants}x{theaters}", "2033-12", {t: {"initial": 20_000} for t in names}, cuts
    )
    doc["variants"] = {
        f"v{k:02d}": {
            "description": f"theaters {k % 10}, {k % 10 + 10}, ... cut on another schedule",
            "overrides": {
                "milestones": {
                    f"{t}-cut": {
                        "deadline": {"after_announcement": 3 + (i + k) % 24},
                        "target": {"level": 250 * ((i * 7 + k) % 16)},
                    }
                    for i, t in enumerate(names)
                    if (i + k) % 10 == 0
                }
            },
        }
        for k in range(variants)
    }
    return doc


def measure(args: list[str]) -> tuple[int, float, float, str]:
    """Run ``python -m sim ARGS``: its exit status, wall time [s], peak RSS [MB] and
    last line of output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    last = (output.strip().splitlines() or [""])[-1]
    return proc.returncode, wall, usage.ru_maxrss / 1024, last  # kB -> MB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=30)
    ap.add_argument("--theaters", type=int, default=50)
    ap.add_argument("--draws", type=int, default=0, help="draws of the run (default: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(yaml.safe_dump(scenario(args.variants, args.theaters), sort_keys=False))
        run = Path(tmp) / "run"
        draws = ["--draws", str(args.draws), "--seed", "1"] if args.draws else []
        code, wall, rss, last = measure(["run", str(path), "--out", str(run), "-q", *draws])
        if code != 0:
            sys.exit(f"forcesim run failed: {last}")
        print(
            f"report-{args.variants}x{args.theaters}, {args.draws or 'no'} draws: "
            f"run in {wall:.1f} s, {rss:,.0f} MB"
        )
        cases = {
            "whole": [],
            "3 variants": ["-v", "v00", "-v", "v01", "-v", "v02"],
            "10 theaters": [
                a for i in range(min(10, args.theaters)) for a in ("--theater", f"t{i:02d}")
            ],
        }
        for name, extra in cases.items():
            out = Path(tmp) / f"{name.replace(' ', '-')}.html"
            code, wall, rss, last = measure(["report", str(run), "-o", str(out), *extra])
            print(
                f"{name:12s} exit {code}  wall {wall:6.2f} s  peak RSS {rss:6,.0f} MB  {last[:150]}"
            )


if __name__ == "__main__":
    main()
