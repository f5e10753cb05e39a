"""Hash every CSV the CLI writes for the shipped scenarios, to show a change keeps them.

Usage::

    python benchmarks/output_hashes.py --save before.json     # on the old code
    python benchmarks/output_hashes.py --against before.json  # on the new code

It runs ``forcesim`` (through ``python -m sim``) for: every shipped scenario
deterministically; the default scenario as an ensemble; an observed and
conditioned ensemble; ``compare``; and ``backtest``. With ``--against`` it
prints each CSV that differs and exits 1 when any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SC = ROOT / "scenarios"
AFG = SC / "historical" / "afghanistan-2020.yaml"

COMMANDS: dict[str, list[str]] = {
    "run-default": ["run", str(SC / "iraq-syria-2024.yaml")],
    "run-sites": ["run", str(SC / "iraq-sites-2024.yaml")],
    "run-afghanistan": ["run", str(AFG)],
    "ensemble": ["run", "--draws", "20000", "--seed", "7"],
    "ensemble-sites": ["run", str(SC / "iraq-sites-2024.yaml"), "--draws", "5000", "--seed", "3"],
    "observed-condition": [
        "run",
        str(AFG),
        "--draws",
        "20000",
        "--seed",
        "11",
        "--condition",
        "--tolerance",
        "15%",
    ],
    "compare": ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "20000", "--seed", "5"],
    "backtest": ["backtest", str(AFG)],
}


def hashes(commands: dict[str, list[str]] = COMMANDS) -> dict[str, str]:
    """``{"name/file.csv": sha256}`` for every CSV each command writes."""
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, args in commands.items():
            target = Path(tmp) / name
            cmd = [sys.executable, "-m", "sim", *args, "--out", str(target), "--quiet"]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
            if done.returncode != 0:
                raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr.strip()}")
            for csv in sorted(target.glob("*.csv")):
                out[f"{name}/{csv.name}"] = hashlib.sha256(csv.read_bytes()).hexdigest()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the hashes to this JSON file")
    group.add_argument("--against", type=Path, help="compare with hashes saved earlier")
    args = parser.parse_args()
    now = hashes()
    if args.save:
        args.save.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"{len(now)} CSV files hashed into {args.save}")
        return 0
    before = json.loads(args.against.read_text())
    bad = [k for k in sorted(set(before) | set(now)) if before.get(k) != now.get(k)]
    for k in bad:
        print(
            f"differs: {k}"
            if k in before and k in now
            else f"only {'before' if k in before else 'now'}: {k}"
        )
    print(f"{len(now)} CSV files, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
