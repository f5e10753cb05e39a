"""How many local worker processes a machine takes: light enough for the command line
to state the range of ``--workers`` without loading numpy or Dask."""

from __future__ import annotations

import os

#: local workers per CPU of the machine at most: each is a process, and 256 of them on
#: two CPUs took over 900 s for 300 draws, printing Dask's warnings by the hundred
WORKERS_PER_CPU = 4


def cpus_given() -> int:
    """The CPUs this process may use (at least 1)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return max(1, cpus or os.cpu_count() or 1)
