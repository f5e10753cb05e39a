"""Time reading a run back signed (tables read as written) and unsigned (every cell
checked first, sim.export.tables).

Usage::

    python benchmarks/bench_unsigned_read.py [--draws 2000] [--scenario FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument(
        "--scenario", type=Path, default=ROOT / "scenarios" / "iraq-sites-2024.yaml"
    )
    args = parser.parse_args()
    result = sim.run(sim.load_scenario(args.scenario), draws=args.draws, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        signed = Path(tmp) / "signed"
        sim.write_run(result, signed, chart=False)
        unsigned = Path(shutil.copytree(signed, Path(tmp) / "unsigned"))
        record = json.loads((unsigned / "run.json").read_text())
        record.pop("manifest")
        (unsigned / "run.json").write_text(json.dumps(record))
        rows = sum(len(p.read_text().splitlines()) - 1 for p in signed.glob("*.csv"))
        a = best_of(5, lambda: sim.load_run(signed))
        b = best_of(5, lambda: sim.load_run(unsigned))
    print(f"{args.scenario.name}, {args.draws} draws: {rows} table rows")
    print(f"load_run signed   {a * 1000:7.1f} ms")
    print(f"load_run unsigned {b * 1000:7.1f} ms (+{(b - a) * 1000:.1f} ms for the checks)")


if __name__ == "__main__":
    main()
