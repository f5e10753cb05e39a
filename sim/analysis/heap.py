"""Freed memory kept for the next chunk: the C allocator's two thresholds.

Every chunk of an ensemble allocates and frees arrays of a few hundred kB to a few
MB (drawn inputs, levels, counts). glibc's allocator serves a block larger than its
*mmap threshold* with pages fresh from the kernel and hands them back when the block
is freed, and it returns the top of its heap to the kernel once more than its *trim
threshold* lies free there. Either way the next chunk's arrays fault their pages in
again: the first run of the default scenario at 10^6 draws in a process takes about
150,000 page faults and 0.2 s of system time (``benchmarks/bench_ensemble.py``).

:func:`keep_freed_memory` fixes the mmap threshold at 32 MB (the most glibc's own
adjustment would raise it to) and the trim threshold at 128 MB, so blocks up to
32 MB come from the heap and up to 128 MB of freed memory stays there for the next
chunk. The library never calls it by itself (it changes no process-wide setting of
its caller's); the ``forcesim`` command calls it for its own process.

:func:`release_pages` hands back the pages of an array about to be dropped as it is
copied elsewhere block by block (conditioning's counts, widened), so the copy and the
original are not held whole at once. :func:`lazy_zeros` makes arrays of counts whose
pages take memory only once written (no huge pages), so that counts of the few levels
each month's draws take hold those pages only.
"""

from __future__ import annotations

import contextlib
import ctypes
import mmap
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (numpy loads where arrays are made: the command line starts without it)
    from numpy.typing import NDArray

#: blocks up to this size come from the heap, not fresh pages (bytes)
MMAP_THRESHOLD = 32 << 20
#: freed memory kept at the top of the heap before any goes back (bytes)
TRIM_THRESHOLD = 128 << 20
#: heaps (arenas) the process's threads share: one, whose freed memory malloc_trim hands back
ARENA_MAX = 1
M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (glibc's malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

_done = False
_tuned: Any = None  # the C library whose thresholds keep_freed_memory set


def _users_own() -> bool:
    """Whether the user tunes the allocator themselves (then it is theirs)."""
    return any(name.startswith("MALLOC_") for name in os.environ) or "glibc.malloc" in (
        os.environ.get("GLIBC_TUNABLES", "")
    )


def _glibc() -> bool:
    """Whether this process runs on glibc (``confstr`` names it; elsewhere it fails)."""
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):
        return False


def keep_freed_memory(libc: Any = None) -> bool:
    """Keep the memory an ensemble frees for its next chunk (glibc only).

    Sets glibc's ``M_MMAP_THRESHOLD`` to 32 MB and ``M_TRIM_THRESHOLD`` to 128 MB with
    ``mallopt`` (``man 3 mallopt``; setting either stops glibc adjusting them), once
    per process. Runs get faster by the page faults they no longer take (the default
    scenario at 10^6 draws: 0.65 s to 0.46 s for the first run in a process, README
    "Performance"); up to 128 MB that a run frees stays with the process. Results do
    not change.

    It also sets ``M_ARENA_MAX`` to 1: every thread allocates from the one heap that
    :func:`return_freed_memory` trims. Each thread that made an arena of its own (a
    Dask client's, receiving the parts run elsewhere) kept up to the trim threshold
    of freed memory there: the command's process of 100 variants conditioned on 2
    workers grew by 70-100 MB over the run, and peaked at 439 MB against 402 MB with
    one arena. A process's one thread allocates as before.

    The ``forcesim`` command calls this for its own process, and
    :func:`sim.open_executor` in the worker processes of a local cluster it starts
    (they are the run's own); ``sim.run`` and the rest of the library never do, so a
    notebook's allocator is left as it is unless the notebook calls this.

    Parameters
    ----------
    libc : object, optional
        The C library to tune (anything with ``mallopt``); default: this process's
        own, on Linux with glibc only.

    Returns
    -------
    bool
        True when the thresholds are set by this call; False when they were set
        before, when the user tunes the allocator (any ``MALLOC_*`` environment
        variable or a ``glibc.malloc`` tunable in ``GLIBC_TUNABLES``), or where there
        is no glibc (macOS, musl, Windows). It never raises.

    Examples
    --------
    >>> import sim
    >>> sim.keep_freed_memory()  # doctest: +SKIP
    True
    """
    global _done, _tuned
    if _done:
        return False
    _done = True
    if _users_own():
        return False
    try:
        if libc is None:
            if not _glibc():
                return False
            libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # mallopt returns 1 on success, 0 on error
    done = (
        bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
        & bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        & bool(mallopt(M_ARENA_MAX, ARENA_MAX))
    )
    if done:
        _tuned = libc
    return done


def return_freed_memory() -> bool:
    """Hand the freed memory that :func:`keep_freed_memory` keeps back to the kernel,
    once a run's chunks are done: the tables and charts written next reuse little of
    it, and their own blocks (a chart's 29 MB canvas, say) would otherwise be laid
    beside it.

    Calls glibc's ``malloc_trim(0)`` (``man 3 malloc_trim``): the free top of the
    heap, and whole free pages within it, go back; nothing in use moves, and the
    thresholds stay as they are. When pyarrow is loaded (pandas loads it where it is
    installed), its memory pool hands back what it keeps freed too
    (``pyarrow.MemoryPool.release_unused``): its allocator (mimalloc) kept up to
    60 MB that pandas had freed, at the charts of 100 variants x 50 theaters x 600
    months. Only in a process whose thresholds
    :func:`keep_freed_memory` set (the ``forcesim`` command's, or a notebook's that
    asked); elsewhere it does nothing. Measured: ``forcesim run`` of a record of
    6,000 monthly reports conditioned at 10^4 draws (``benchmarks/bench_records.py``,
    docs/observations.md) peaked in its charts at 360-390 MB before, 311 MB with it
    (MB of 2^20 bytes).

    Returns
    -------
    bool
        True when ``malloc_trim`` was called; False where the thresholds are not this
        module's or the C library has no ``malloc_trim``. It never raises.
    """
    try:
        trim = _tuned.malloc_trim
    except AttributeError:  # (None: the thresholds were not set here)
        return False
    trim(0)
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # (an older or odd pyarrow: its pool keeps what it keeps)
        with contextlib.suppress(Exception):
            arrow.default_memory_pool().release_unused()
    return True


_madvise: Any = None  # the C library's madvise, looked up once (False: none here)


def _advise() -> Any:
    """The C library's ``madvise`` (Linux), looked up once; False where there is none."""
    global _madvise
    if _madvise is None:
        _madvise = False
        if sys.platform.startswith("linux") and hasattr(mmap, "MADV_DONTNEED"):
            try:
                fn = ctypes.CDLL(None, use_errno=True).madvise
                fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
                fn.restype = ctypes.c_int
                _madvise = fn
            except (OSError, AttributeError):
                pass
    return _madvise


#: arrays of at least this many bytes are given huge pages by numpy (its allocator
#: asks the kernel for them: ``madvise(MADV_HUGEPAGE)``, numpy's ``alloc.c``)
HUGE_FROM = 4 << 20


#: arrays of fewer bytes are plain ``np.zeros`` in :func:`lazy_zeros`: the pages of a
#: small array of counts are few, and reading pages never written costs a fault each
#: (the default scenario's eight variants conditioned at 10^5 draws: 0.37 s against
#: 0.28 s with their 5.4 MB of tagged counts each made lazily)
LAZY_FROM = 16 << 20


def lazy_zeros(shape: tuple[int, ...], dtype: Any) -> NDArray[Any]:
    """``np.zeros(shape, dtype)`` whose pages the kernel backs only once written.

    Zeros from the C allocator are not so by themselves: memory reused from its heap
    (every block under the mmap threshold, 32 MB in a process that keeps freed
    memory: :func:`keep_freed_memory`) is cleared by writing every page of it, and
    numpy asks for transparent huge pages on an array of :data:`HUGE_FROM` bytes or
    more, so that where the kernel grants them (``/sys/kernel/mm/transparent_hugepage``,
    ``enabled`` ``always`` or ``madvise``) one count written backs 2 MB around it. An
    array of counts of levels is mostly zeros (the draws of a month take few of the
    levels a series may take), so on Linux the array's whole pages are advised back to
    the base page size (``madvise(MADV_NOHUGEPAGE)``, ``man 2 madvise``) and handed
    back (``MADV_DONTNEED``: they read as zeros) before anything is written, and only
    the bytes of its first and last partial pages are written as zeros: then only the
    4 kB pages holding some count take memory, whether the array came from the heap or
    from fresh pages. Measured (``forcesim vintages`` of ``theaters-50x5``,
    ``benchmarks/bench_records.py``): 50 theaters' tagged counts of 183 MB, 39 % of
    whose 4 kB pages hold a count, took all their 183 MB with huge pages; the run
    peaked at 311 MB against 415 MB. An array of fewer than :data:`LAZY_FROM` bytes,
    and any array elsewhere (or when the advice fails), is a plain ``np.zeros``.
    Never raises but as ``np.zeros`` does.
    """
    advise = _advise()
    import numpy as np

    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    if not advise or size < LAZY_FROM:
        return np.zeros(shape, dtype)
    array = np.empty(shape, dtype)
    base = array.__array_interface__["data"][0]
    lo, hi = _whole_pages(base, 0, size)
    if hasattr(mmap, "MADV_NOHUGEPAGE") and size >= HUGE_FROM:
        advise(lo, hi - lo, mmap.MADV_NOHUGEPAGE)
    if release_pages(array, 0, size) == 0:
        array.fill(0)
        return array
    raw = array.reshape(-1).view(np.uint8)
    raw[: lo - base] = 0
    raw[hi - base :] = 0
    return array


def _whole_pages(base: int, start: int, stop: int) -> tuple[int, int]:
    """The addresses ``(lo, hi)`` of the pages of a buffer at ``base`` that lie wholly
    within its bytes ``start``..``stop``, or within ``start`` rounded down to a page,
    never before the buffer's first whole page (``hi <= lo``: none)."""
    page = mmap.PAGESIZE
    first = -(-base // page) * page
    return max(first, (base + start) // page * page), (base + stop) // page * page


def release_pages(array: Any, start: int, stop: int) -> int:
    """Hand back to the kernel the pages of ``array``'s own buffer that lie wholly
    within bytes ``start``..``stop`` of it, or within ``start`` rounded down to a page
    (only pages of the buffer: never its first partial page nor its last), as a
    process does when it drops memory it will not read again. Those bytes read as
    zeros after; the buffer stays allocated (its owner frees it as before). For a
    buffer about to be dropped that is copied elsewhere block by block: its peak is
    then the copy and one block, not both whole.

    Linux only (``madvise(MADV_DONTNEED)``, ``man 2 madvise``: private anonymous
    memory, as the C allocator's, reads as zeros after); elsewhere nothing is
    released. Only an array that owns its memory (``array.base is None``) and is
    C-contiguous: a view of one holds it (as its ``base``, so its caller can count who
    holds it), where a view of an array that does not own its memory (one read back
    from a pickle's buffers, as a Dask part's counts are) names the memory's owner, not
    that array, and may still read those bytes; nothing is released for those. Returns
    the bytes released; never raises.
    """
    advise = _advise()
    if not advise or array.base is not None or not array.flags.c_contiguous:
        return 0
    lo, hi = _whole_pages(array.__array_interface__["data"][0], start, min(stop, array.nbytes))
    if hi <= lo or advise(lo, hi - lo, mmap.MADV_DONTNEED) != 0:
        return 0
    return hi - lo
