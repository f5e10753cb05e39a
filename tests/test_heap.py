"""The allocator thresholds an ensemble sets once per process (sim.analysis.heap)."""

from __future__ import annotations

import sys
import types

import pytest
from click.testing import CliRunner
from conftest import rss_of

import sim
from sim.analysis import heap
from sim.cli import main


class FakeLibc:
    """A C library whose ``mallopt`` and ``malloc_trim`` record their calls; ``mallopt``
    returns ``answer``."""

    def __init__(self, answer: int = 1) -> None:
        self.calls: list[tuple[int, int]] = []
        self.trims: list[int] = []
        self.answer = answer

    def mallopt(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return self.answer

    def malloc_trim(self, pad: int) -> int:
        self.trims.append(pad)
        return 1


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that has not set the thresholds yet, with no MALLOC_* of its own."""
    monkeypatch.setattr(heap, "_done", False)
    monkeypatch.setattr(heap, "_tuned", None)
    for name in [n for n in heap.os.environ if n.startswith("MALLOC_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)


def test_keep_freed_memory_sets_the_mmap_and_trim_thresholds_and_one_arena_once(
    fresh: None,
) -> None:
    libc = FakeLibc()
    assert heap.keep_freed_memory(libc) is True
    # (and one arena for every thread: the freed memory of a thread's own arena stayed)
    assert libc.calls == [(-3, 32 << 20), (-1, 128 << 20), (-8, 1)]
    assert heap.keep_freed_memory(libc) is False  # once per process
    assert len(libc.calls) == 3


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MALLOC_ARENA_MAX", "2"),
        ("MALLOC_TRIM_THRESHOLD_", "0"),
        ("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536"),
    ],
)
def test_keep_freed_memory_leaves_a_users_own_allocator_settings_alone(
    fresh: None, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    libc = FakeLibc()
    assert heap.keep_freed_memory(libc) is False
    assert libc.calls == []


def test_keep_freed_memory_goes_on_without_mallopt_or_when_it_fails(fresh: None) -> None:
    assert heap.keep_freed_memory(object()) is False  # a C library without mallopt
    heap._done = False
    assert heap.keep_freed_memory(FakeLibc(answer=0)) is False  # mallopt refuses


def test_the_forcesim_command_keeps_freed_memory_and_sim_run_leaves_it_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "keep_freed_memory", lambda: calls.append(1))
    sim.run(sim.default_scenario(), variants=["as-reported"], draws=100, seed=1)
    assert calls == []  # the library changes no process-wide setting by itself
    result = CliRunner().invoke(main, ["list"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert calls == [1]


def test_freed_memory_goes_back_only_where_keep_freed_memory_set_the_thresholds(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the freed memory kept for the next chunk stayed once the chunks were done, and the
    # charts' blocks were laid beside it: 360-390 MB at the peak of a record of 6,000
    # monthly reports conditioned at 10^4 draws, 311 MB handed back first
    libc = FakeLibc()
    assert heap.return_freed_memory() is False  # (the thresholds are not this module's)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")  # the user's own allocator settings
    assert heap.keep_freed_memory(libc) is False
    assert heap.return_freed_memory() is False and libc.trims == []
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    heap._done = False
    refused = FakeLibc(answer=0)
    assert heap.keep_freed_memory(refused) is False and heap.return_freed_memory() is False
    heap._done = False
    assert heap.keep_freed_memory(libc) is True
    assert heap.return_freed_memory() is True and libc.trims == [0]


def test_freed_memory_goes_back_from_pyarrows_pool_too_where_pyarrow_is_loaded(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mimalloc, pyarrow's allocator, kept up to 60 MB that pandas had freed, at the charts
    # of 100 variants x 50 theaters x 600 months scored against three reports (424 MB
    # at the peak, 368 MB with it handed back)
    released: list[str] = []

    class Pool:
        def release_unused(self) -> None:
            released.append("released")

    arrow = types.SimpleNamespace(default_memory_pool=Pool)
    monkeypatch.setitem(sys.modules, "pyarrow", arrow)
    assert heap.return_freed_memory() is False and released == []  # (not this module's)
    assert heap.keep_freed_memory(FakeLibc()) is True
    assert heap.return_freed_memory() is True and released == ["released"]
    monkeypatch.delitem(sys.modules, "pyarrow")
    assert heap.return_freed_memory() is True and released == ["released"]  # (not loaded)
    monkeypatch.setitem(sys.modules, "pyarrow", types.SimpleNamespace())  # no pool here
    assert heap.return_freed_memory() is True


@pytest.mark.slow
def test_a_run_directory_is_written_after_the_freed_memory_goes_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    from sim.export import write

    events: list[str] = []
    monkeypatch.setattr(write, "return_freed_memory", lambda: events.append("returned"))
    save = write.plotting.save
    monkeypatch.setattr(
        write.plotting, "save", lambda *a, **k: events.append("chart") or save(*a, **k)
    )
    result = sim.run(sim.default_scenario(), variants=["as-reported"], draws=100, seed=1)
    sim.write_run(result, tmp_path / "out")
    assert events[0] == "returned" and "chart" in events


def test_each_job_of_the_chunk_loop_hands_its_freed_memory_back_before_it_is_summarised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the up to 128 MB a pass freed stayed kept beside the weighted summaries and the
    # plain counts made after it: a conditioned vintage of 50 theaters peaked at 453 MB
    # with it, 433 MB handed back first
    from sim.analysis import chunks

    events: list[str] = []
    monkeypatch.setattr(chunks, "return_freed_memory", lambda: events.append("returned"))

    class Consumer:
        def add_chunk(self, inputs: object) -> None:
            events.append("chunk")

    scenario = sim.load_scenario(sim.default_scenario())
    plans = [scenario.plan(v) for v in ("as-reported", "on-time")]
    jobs = [([plan], Consumer) for plan in plans]
    for _ in chunks.consume_all(jobs, 300, 1, chunk=100):
        events.append("summarised")
    job = ["chunk"] * 3 + ["returned", "summarised"]
    assert events == job + job


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="smaps is Linux's")
def test_lazy_zeros_take_a_page_for_a_count_written_not_a_huge_page() -> None:
    # numpy asks for huge pages on arrays of 4 MB or more: where the kernel grants them,
    # one count written took 2 MB, and counts of a few levels a month took every page
    import numpy as np

    counts = heap.lazy_zeros((64, 1 << 18), np.int32)  # 64 MB
    assert counts.shape == (64, 1 << 18) and counts.dtype == np.int32
    assert rss_of(counts) <= 64 << 10  # (nothing written yet)
    for row in range(0, 64, 8):
        counts[row, 12345] = 1
    assert rss_of(counts) <= 8 * (64 << 10)
    assert int(counts.sum()) == 8


def test_lazy_zeros_are_zeros_where_the_heap_held_other_values_and_in_every_size() -> None:
    # memory reused from the heap was cleared by writing every page (a 16 MB array took
    # 16 MB at once in the command's process); its whole pages are handed back instead,
    # and the partial ones at either end written
    import numpy as np

    for n in (1, 1000, 4097, (1 << 22) + 3):
        before = np.full(n, 7, np.int32)
        del before
        counts = heap.lazy_zeros((n,), np.int32)
        assert counts.shape == (n,) and not counts.any()
        counts[-1] = 1
        assert int(counts.sum()) == 1
