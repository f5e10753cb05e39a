"""Peak memory and wall time of runs scored against (and conditioned on) large records.

    python benchmarks/bench_records.py [--draws N]... [--limit-gb G] [--quick]
                                       [--only NAME]...

The scenarios and their records are generated here (not shipped):

* ``monthly-10x600``: 10 theaters of 1,500 troops over 600 months, each cut to an
  uncertain level over 590 months (ramps that move every month), and a record of
  6,000 reports, every month of every theater, each a range of 0 to 2,000 troops
  (every draw within it: one number of reports missed);
* ``crowded-24``: one theater of 100,000 troops over 24 months, cut to an uncertain
  level within a year, and a record of 10,000 reports (the most a file may hold),
  about 417 in each month, of ranges that differ report by report;
* ``tight-10x600``: ``monthly-10x600``'s scenario with every report a range of 700 to
  800 troops, which draws miss in thousands of different numbers: conditioning on it
  is refused in one line (the counts would take several GB), scoring runs.
* ``theaters-50x5``: 50 theaters of 1,600 troops over 120 months (``theaters-50`` of
  ``bench_scale_memory.py`` small enough to count level by level), each cut to 0 to
  320 troops, and a report of each theater on five dates, four of which (mid-2027) a
  draw misses about once in seven: ``forcesim vintages`` of five as-of dates after
  them, each conditioned on five sets of counts (0 to 4 reports missed; draws missing
  all four are rare, so the last set comes in a later group and the counts widen);
* ``theaters-50x4``: the same with three such reports (four sets).
* ``dense-240k`` and ``dense-100k``: one theater drawn uniformly over 0 to 240,000
  (100,000) troops, moved by the end of 2025 to a level drawn over the same range (half
  the draws rise, so the running minimum is counted too), and reports early in 2024
  of 0 to an even share of that range each, three (ten): draws miss 0 to 3 (0 to 10)
  of them, and whatever their number the draws of a month fill nearly every page of
  every set of counts. Their sets lay out 255 (254) MB of the 320 MB budget
  (``TAGGED_BYTES``);
* ``dense-300k``: the same over 0 to 300,000 troops with three reports, 312 MB laid
  out, near the budget's edge (README "Performance" and "Known gaps").
* ``sites-2-600``: ``bench_scale_memory.py``'s theater of two sites rising over 600
  months, and three reports (the theater in 2025 and 2026, a site in mid-2027), each a
  range that some draws miss: a theater made of sites over the most months, its draws
  in four sets of counts.

Each is run by ``forcesim run`` (charts and tables written, as a user runs it) with
``--observed``, once scored only and once with ``--condition`` (``theaters-50x*``: by
``forcesim vintages``, files and chart written), in a fresh process
whose address space is capped at ``--limit-gb`` (default 8 GB), and reports its
wall time, its peak resident set size (``ru_maxrss`` of the child) and its exit
status. ``--quick`` runs 10^3 draws. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scale_memory import _cut, _doc  # noqa: E402

HEADER = ["date", "theater", "troops_low", "troops_high", "kind", "tolerance", "by", "source"]


def _monthly(low: int, high: int) -> tuple[dict[str, Any], Iterator[list[Any]]]:
    theaters = {f"t{i:02d}": {"initial": 1500} for i in range(10)}
    milestones = {f"cut-{t}": _cut(t, 590, 0, 500) for t in theaters}
    doc = _doc("monthly-10x600", "2073-12", theaters, milestones)
    rows = (
        [f"{y}-{m:02d}-15", t, low, high, "reported", 0, "", f"r-{t}-{y}-{m}"]
        for y in range(2024, 2074)
        for m in range(1, 13)
        for t in theaters
    )
    return doc, rows


def _crowded() -> tuple[dict[str, Any], Iterator[list[Any]]]:
    doc = _doc(
        "crowded-24", "2025-12", {"big": {"initial": 100_000}}, {"cut": _cut("big", 12, 0, 50_000)}
    )
    months = [(y, m) for y in (2024, 2025) for m in range(1, 13)]
    rows = (
        [f"{y}-{m:02d}-{1 + i % 28:02d}", "big", 40_000 + i, 90_000 + i, "reported", 0, "", f"r{i}"]
        for i in range(10_000)
        for y, m in [months[i % len(months)]]
    )
    return doc, rows


def _theaters(narrow: int) -> tuple[dict[str, Any], Iterator[list[Any]]]:
    theaters = {f"t{i:02d}": {"initial": 1_600} for i in range(50)}
    milestones = {f"{t}-cut": _cut(t, 6 + i % 18, 0, 320) for i, t in enumerate(theaters)}
    doc = _doc(f"theaters-50x{narrow + 1}", "2033-12", theaters, milestones)
    # a report of each theater on five dates a year apart, every draw's level but
    # ``narrow`` of them in mid-2027 (t00, t01, ...), which a draw misses about once in
    # seven (levels 0 to 320 drawn, 0 to 272 reported): draws miss 0 to ``narrow``
    rows = (
        [
            f"{y}-06-15",
            t,
            0,
            272 if y == 2027 and i < narrow else 2_000,
            "reported",
            0,
            "",
            f"r-{t}-{y}",
        ]
        for y in range(2025, 2030)
        for i, t in enumerate(theaters)
    )
    return doc, rows


def _dense(top: int, reports: int) -> tuple[dict[str, Any], Iterator[list[Any]]]:
    doc = _doc(
        f"dense-{top // 1000}k",
        "2025-12",
        {"big": {"initial": {"uniform": [0, top]}}},
        {"move": {**_cut("big", 24, 0, top), "deadline": "2025-12"}},
    )
    # report i: 0 to (i + 1) / (reports + 1) of the range, a month each from 2024-01
    share = [top * (i + 1) // (reports + 1) for i in range(reports)]
    rows = (
        [f"2024-{i + 1:02d}-15", "big", 0, high, "reported", 0, "", f"r{i}"]
        for i, high in enumerate(share)
    )
    return doc, rows


def _sites() -> tuple[dict[str, Any], Iterator[list[Any]]]:
    from bench_scale_memory import scenarios

    doc = scenarios()["sites-2-600"]
    reports = [
        ("2025-01-15", "big", 1_500, 2_500),
        ("2026-01-15", "big", 1_200, 2_400),
        ("2027-06-15", "big/north", 300, 1_500),
    ]
    rows = (
        [date, where, low, high, "reported", 0, "", f"r{i}"]
        for i, (date, where, low, high) in enumerate(reports)
    )
    return doc, rows


#: the as-of dates of the vintages of ``theaters-50x*`` (``forcesim vintages``)
AS_OF = ["2027-07", "2027-10", "2028-01", "2028-07", "2029-07"]


def cases() -> dict[str, tuple[dict[str, Any], Iterator[list[Any]]]]:
    """Each benchmark's scenario document and the rows of its record."""
    return {
        "monthly-10x600": _monthly(0, 2000),
        "crowded-24": _crowded(),
        "tight-10x600": _monthly(700, 800),
        "theaters-50x5": _theaters(4),
        "theaters-50x4": _theaters(3),
        "dense-240k": _dense(240_000, 3),
        "dense-100k": _dense(100_000, 10),
        "dense-300k": _dense(300_000, 3),
        "sites-2-600": _sites(),
    }


def measure(args: list[str], limit: int) -> dict[str, Any]:
    """Run ``forcesim ARGS`` capped at ``limit`` bytes of address space."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=ROOT,
            preexec_fn=cap,
        )
        # this child's own resource use (its peak RSS), whatever ran before it
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        last = (err.read().strip().splitlines() or [""])[-1]
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "wall": wall,
        "rss_mb": usage.ru_maxrss / 1024,  # kB on Linux
        "last": last,
    }


def _line(name: str, draws: int, mode: str, r: dict[str, Any]) -> None:
    outcome = "ok" if r["exit"] == 0 else f"exit {r['exit']}: {r['last'][:150]}"
    print(
        f"{name:15s} {draws:>9,} {mode:10s} {r['wall']:>7.2f} s {r['rss_mb']:>6,.0f} MB  {outcome}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, action="append", help="draws (repeatable; 10^4, 10^5)")
    ap.add_argument("--limit-gb", type=float, default=8.0, help="address-space cap per run")
    ap.add_argument("--quick", action="store_true", help="10^3 draws")
    ap.add_argument("--only", action="append", default=[], help="run only this benchmark")
    args = ap.parse_args()
    sizes = args.draws or ([1_000] if args.quick else [10_000, 100_000])
    made = cases()
    unknown = set(args.only) - set(made)
    if unknown:
        ap.error(f"unknown benchmark {sorted(unknown)}; known: {sorted(made)}")
    print(f"address space capped at {args.limit_gb:g} GB; one process per line")
    print(f"{'benchmark':15s} {'draws':>9s} {'mode':10s} {'wall':>9s} {'peak RSS':>9s}  outcome")
    limit = int(args.limit_gb * 2**30)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (doc, rows) in made.items():
            if args.only and name not in args.only:
                continue
            scenario, record = Path(tmp) / f"{name}.yaml", Path(tmp) / f"{name}.csv"
            scenario.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
            with record.open("w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow(HEADER)
                out.writerows(rows)
            if name.startswith("theaters-50x"):  # five vintages, each conditioned
                files = []
                for k, when in enumerate(AS_OF, 1):
                    v = Path(tmp) / f"{name}-v{k}.yaml"
                    v.write_text(
                        f"extends: {scenario.name}\nid: {name}-v{k}\nas_of: '{when}'\n",
                        encoding="utf-8",
                    )
                    files.append(str(v))
                for draws in sizes:
                    out = Path(tmp) / f"{name}-{draws}-vintages"
                    run = ["vintages", *files, "--observed", str(record), "--draws", str(draws)]
                    r = measure([*run, "--seed", "1", "--out", str(out), "-q"], limit)
                    _line(name, draws, "vintages", r)
                continue
            for draws in sizes:
                for mode in ("scored", "conditioned"):
                    run = [
                        "run",
                        str(scenario),
                        "--observed",
                        str(record),
                        "--draws",
                        str(draws),
                        "--seed",
                        "1",
                        "--out",
                        str(Path(tmp) / f"{name}-{draws}-{mode}"),
                        "-q",
                    ] + (["--condition"] if mode == "conditioned" else [])
                    _line(name, draws, mode, measure(run, limit))


if __name__ == "__main__":
    main()
