"""Freed memory kept for the next chunk: the C allocator's two thresholds.

Every chunk of an ensemble allocates and frees arrays of a few hundred kB to a few
MB (drawn inputs, levels, counts). glibc's allocator serves a block larger than its
*mmap threshold* with pages fresh from the kernel and hands them back when the block
is freed, and it returns the top of its heap to the kernel once more than its *trim
threshold* lies free there. Either way the next chunk's arrays fault their pages in
again: on the default scenario at 10^6 draws, about 150,000 page faults and a third
of the first run's wall time (``benchmarks/bench_ensemble.py``).

:func:`keep_freed_memory` fixes the mmap threshold at 32 MB (the most glibc's own
adjustment would raise it to) and the trim threshold at 128 MB, so blocks up to
32 MB come from the heap and up to 128 MB of freed memory stays there for the next
chunk. Both are ``mallopt`` parameters (glibc, ``man 3 mallopt``: ``M_MMAP_THRESHOLD``
is -3 and ``M_TRIM_THRESHOLD`` is -1; setting either stops glibc adjusting them).
Elsewhere (macOS, musl, Windows), or when the user has set any ``MALLOC_*`` variable
or a ``glibc.malloc`` tunable of their own, nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import platform
from typing import Any

#: blocks up to this size come from the heap, not fresh pages (bytes)
MMAP_THRESHOLD = 32 << 20
#: freed memory kept at the top of the heap before any goes back (bytes)
TRIM_THRESHOLD = 128 << 20
M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (glibc's malloc.h)
M_MMAP_THRESHOLD = -3

_done = False


def _users_own() -> bool:
    """Whether the user tunes the allocator themselves (then it is theirs)."""
    return any(name.startswith("MALLOC_") for name in os.environ) or "glibc.malloc" in (
        os.environ.get("GLIBC_TUNABLES", "")
    )


def keep_freed_memory(libc: Any = None) -> bool:
    """Set the thresholds once per process (later calls do nothing); True when they
    are set now. ``libc``: the C library to tune (default: the process's own, on
    Linux with glibc only). Never raises: where it cannot apply, runs go on as they
    would without it."""
    global _done
    if _done:
        return False
    _done = True
    if _users_own():
        return False
    try:
        if libc is None:
            if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
                return False
            libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # mallopt returns 1 on success, 0 on error
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) & bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
