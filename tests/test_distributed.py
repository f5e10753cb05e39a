"""Parts of an ensemble run elsewhere give the in-process result, to the byte.

The streams of a part starting at draw k are positioned there (PCG64 ``advance``),
the parts' counts add up, and ``--workers 2`` on a local Dask cluster writes the
same CSV files as the in-process run. Two tests start a cluster (two worker
processes on the loopback interface, shut down at the end).
"""

from __future__ import annotations

import pickle
import re
import signal
import subprocess
import sys
import weakref
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, InProcessParts

import sim
from sim.analysis.chunks import consume_all, feed, split
from sim.analysis.ensemble import accumulator
from sim.cli import main
from sim.model.draws import Draws

QUANTITIES = """\
id: kinds
title: every kind of quantity
as_of: 2024-01
calendar: {start: 2024-01, end: 2026-12}
announcement:
  expected: 2024-03
  delay: {choice: {values: [0, 2, 5], weights: [5, 3, 2]}, probability: 0.7}
theaters:
  alpha:
    initial: {uniform: [900, 1100]}
  beta:
    initial: 400
milestones:
  alpha-half:
    theater: alpha
    deadline: 2024-12
    target: {reduce_by: {triangular: [300, 450, 600]}}
  alpha-out:
    theater: alpha
    deadline: 2025-12
    target: {level: 0}
residuals:
  stay:
    theater: alpha
    size: {uniform: [50, 150], probability: 0.5}
    from: {milestone: alpha-out}
"""


@pytest.fixture(scope="module")
def kinds(tmp_path_factory) -> sim.Scenario:
    path = tmp_path_factory.mktemp("kinds") / "kinds.yaml"
    path.write_text(QUANTITIES, encoding="utf-8")
    return sim.load_scenario(path)


def test_a_uniform_double_takes_one_64_bit_output_so_advance_positions_a_stream() -> None:
    whole = np.random.default_rng(np.random.SeedSequence([7, 11])).random(1000)
    for k in (1, 17, 999):
        rng = np.random.default_rng(np.random.SeedSequence([7, 11]))
        rng.bit_generator.advance(k)
        assert np.array_equal(rng.random(1000 - k), whole[k:])


@pytest.mark.parametrize("start", [1, 999, 65_537])
def test_draws_from_an_offset_equal_the_same_draws_of_the_whole_stream(
    kinds: sim.Scenario, start: int
) -> None:
    plan = kinds.plan("base")
    whole = Draws(5).take(plan, start + 300)
    part = Draws(5, start).take(plan, 300)
    for field in ("initial", "delay", "targets", "residual", "exec_delay", "unreported"):
        assert np.array_equal(getattr(part, field), getattr(whole, field)[start:]), field


def test_split_covers_every_draw_once_in_order() -> None:
    assert split(10, 3, 1) == [(0, 4), (4, 4), (8, 2)]
    assert split(10, 8, 4) == [(0, 4), (4, 4), (8, 2)]
    assert split(5, 2, 100) == [(0, 5)]
    ranges = split(1_000_003, 7, 1000)
    assert sum(c for _, c in ranges) == 1_000_003
    assert all(a + c == b for (a, c), (b, _) in zip(ranges, ranges[1:], strict=False))


def test_an_accumulator_survives_pickling_with_its_counts(kinds: sim.Scenario) -> None:
    result = sim.run(kinds)
    plan = kinds.plan("base")
    acc = accumulator(plan, result.milestones)
    sim.analysis.chunks.run_chunks([plan], 500, 3, acc)
    back = pickle.loads(pickle.dumps(acc))
    assert back.n == 500 and np.array_equal(back.hist, acc.hist)
    assert back.bands("k", "base").equals(acc.bands("k", "base"))
    assert back.dates("k", "base").equals(acc.dates("k", "base"))


@pytest.mark.slow
@pytest.mark.parametrize("parts", [2, 5])
def test_an_ensemble_in_merged_parts_equals_the_ensemble_in_one_pass(
    kinds: sim.Scenario, parts: int
) -> None:
    here = sim.run(kinds, draws=3000, seed=9, chunk=256)
    there = sim.run(kinds, draws=3000, seed=9, chunk=100, executor=InProcessParts(parts))
    pd_equal = [here.bands.equals(there.bands), here.dates.equals(there.dates)]
    assert pd_equal == [True, True]
    assert here.milestones.equals(there.milestones)


@pytest.mark.slow
def test_the_default_scenario_in_parts_equals_one_pass() -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    here = sim.run(sc, draws=4000, seed=1)
    there = sim.run(sc, draws=4000, seed=1, chunk=500, executor=InProcessParts(3))
    assert here.bands.equals(there.bands) and here.dates.equals(there.dates)
    assert here.milestones.equals(there.milestones)


def test_a_comparison_in_parts_equals_one_pass() -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    here = sim.compare(sc, "as-reported", "slip-6", 3000, 2)
    there = sim.compare(sc, "as-reported", "slip-6", 3000, 2, executor=InProcessParts(4))
    assert here.table.equals(there.table)


class Keep:
    """A consumer that keeps the first track's initial levels it is fed."""

    def __init__(self) -> None:
        self.seen: list[np.ndarray] = []

    def add_chunk(self, inputs: Sequence[Any]) -> None:
        self.seen.append(inputs[0].initial[:, 0].copy())

    def merge(self, other: Keep) -> None:
        self.seen += other.seen


def test_every_part_is_fed_from_its_own_offset_and_merged_in_draw_order(
    kinds: sim.Scenario,
) -> None:
    plan = kinds.plan("base")
    whole = Draws(4).take(plan, 1000).initial[:, 0]
    (kept,) = consume_all([([plan], Keep)], 1000, 4, chunk=64, executor=InProcessParts(3))
    assert len(kept.seen) > 3 and np.array_equal(np.concatenate(kept.seen), whole)


class Counted(Keep):
    """A :class:`Keep` that lists (weakly) each one read back from a part, and at each
    merge how many of them are alive."""

    made: ClassVar[list[weakref.ref[Counted]]] = []
    alive: ClassVar[list[int]] = []

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        Counted.made.append(weakref.ref(self))

    def merge(self, other: Keep) -> None:
        Counted.alive.append(sum(ref() is not None for ref in Counted.made))
        super().merge(other)


def test_parts_are_taken_and_merged_one_at_a_time_not_all_held(kinds: sim.Scenario) -> None:
    # the parts' results were gathered all at once and merged after: a pass over a large
    # force held four parts of some 40 MB of counts each in the command's process
    Counted.made.clear()
    Counted.alive.clear()
    plan = kinds.plan("base")
    whole = Draws(4).take(plan, 1000).initial[:, 0]
    (kept,) = consume_all([([plan], Counted)], 1000, 4, chunk=64, executor=InProcessParts(4))
    assert np.array_equal(np.concatenate(kept.seen), whole)
    assert Counted.alive == [2, 2, 2]  # the first part, merged into, and the one merged


def test_each_jobs_consumer_is_handed_out_before_the_next_jobs_parts_are_read(
    kinds: sim.Scenario,
) -> None:
    # every job's merged consumer was held until the last job's parts were merged: 100
    # variants of 24 to 100 MB of counts each, 4.4 GB in the command's process
    Counted.made.clear()
    plan = kinds.plan("base")
    jobs = [([plan], Counted)] * 3
    alive = []
    for kept in consume_all(jobs, 1000, 4, chunk=64, executor=InProcessParts(2)):
        alive.append(sum(ref() is not None for ref in Counted.made))
        assert np.array_equal(np.concatenate(kept.seen), Draws(4).take(plan, 1000).initial[:, 0])
        del kept
    assert alive == [1, 1, 1]  # (its own parts merged into one; no other job's read yet)


@pytest.mark.slow
def test_dask_imap_runs_at_most_ahead_tasks_beyond_the_result_taken() -> None:
    # every task ran at once: their results piled up on the workers while the caller
    # took them one at a time
    from sim.analysis.distributed import open_executor

    with open_executor(workers=2) as pool:
        assert pool is not None and pool.ahead == 2
        results = pool.imap(abs, list(range(-8, 0)))
        assert next(results) == 8
        submitted = len(pool.client.futures)
        assert submitted <= 1 + pool.ahead  # (the one taken is let go)
        assert list(results) == [7, 6, 5, 4, 3, 2, 1]
        assert pool.map(abs, [-1, -2, -3]) == [1, 2, 3]


@pytest.mark.slow
def test_dask_imap_cancels_the_tasks_not_taken_when_one_fails_or_the_caller_stops() -> None:
    # the tasks submitted but not taken stayed on the cluster, their futures held by
    # the error's traceback, until the client closed
    from sim.analysis.distributed import open_executor

    with open_executor(workers=2) as pool:
        assert pool is not None
        with pytest.raises(TypeError):
            list(pool.imap(abs, [-1, "x", 2, 3, 4, 5]))
        assert not pool.client.futures
        results = pool.imap(abs, list(range(-8, 0)))
        assert next(results) == 8
        results.close()
        assert not pool.client.futures


@pytest.mark.slow
def test_dask_imap_gives_each_result_in_order_and_raises_a_tasks_error() -> None:
    from sim.analysis.distributed import open_executor

    with open_executor(workers=2) as pool:
        assert pool is not None
        assert list(pool.imap(abs, [-3, 1, -2, 5, -7])) == [3, 1, 2, 5, 7]
        with pytest.raises(TypeError):
            list(pool.imap(abs, [-1, "x", 2]))


def test_a_task_sends_its_result_with_its_arrays_memory_beside_it_not_copied(
    kinds: sim.Scenario,
) -> None:
    # dask copied the arrays inside a part's consumer as a worker sent it (a part of a
    # pass over a large force: 60-75 MB more in the worker); an array it sends as it is
    from sim.analysis.distributed import packed, unpacked

    plan = kinds.plan("base")
    result = sim.run(kinds)
    acc = accumulator(plan, result.milestones)
    sim.analysis.chunks.run_chunks([plan], 500, 3, acc)
    acc.hist += 1  # (counts in every column: sent whole, as they are)
    head, buffers = packed(lambda a: a, acc)
    assert any(np.shares_memory(b, acc.hist) for b in buffers)
    assert len(head) < acc.hist.nbytes // 4
    back = unpacked((head, buffers))
    assert back.n == 500 and np.array_equal(back.hist, acc.hist) and back.hist.flags.writeable


def test_a_part_sends_of_each_months_counts_only_the_columns_some_draw_is_counted_in(
    kinds: sim.Scenario,
) -> None:
    # a part's counts were sent whole, though a month's draws take few of the levels a
    # series may take: 46 MB a variant of 50 theaters, about a tenth of it counts, and
    # the command's process received two parts at a time (425 MB at the peak)
    from sim.analysis.accumulator import PackedCounts
    from sim.analysis.distributed import packed, unpacked

    plan = kinds.plan("base")
    acc = accumulator(plan, sim.run(kinds).milestones)
    sim.analysis.chunks.run_chunks([plan], 500, 3, acc)
    acc.settle()  # (as a part sends it)
    acc.lowest_counts()[0, 5] = 2  # (a running-minimum correction is sent alike)
    grid = acc.hist.reshape(-1, acc.span)
    taken = [np.flatnonzero(r) for r in grid]
    spans = sum(t[-1] - t[0] + 1 for t in taken if t.size)
    assert spans < acc.hist.size // 2  # (the test means something)
    sent = PackedCounts.of(acc.hist, acc.span)
    assert sent.values.nbytes == spans * acc.hist.itemsize
    head, buffers = packed(lambda a: a, acc)
    assert sum(b.nbytes for b in buffers) < acc.hist.nbytes // 4
    back = unpacked((head, buffers))
    assert np.array_equal(back.hist, acc.hist) and np.array_equal(back._lower, acc._lower)
    assert back.hist.base is None and back.hist.flags.writeable  # (memory of its own)
    more = accumulator(plan, sim.run(kinds).milestones)
    sim.analysis.chunks.run_chunks([plan], 300, 4, more)
    more.settle()
    want = acc.hist + more.hist
    back.merge(unpacked(packed(lambda a: a, more)))
    assert np.array_equal(back.hist, want)


def test_a_part_and_each_merge_hand_the_freed_memory_back(kinds, monkeypatch) -> None:
    # a worker kept up to 128 MB freed by a part's chunks beside the part it held, and the
    # command's process as much beside the parts it merged: over 400 MB each
    import sim.analysis.chunks as chunks

    trims: list[str] = []
    monkeypatch.setattr(chunks, "return_freed_memory", lambda: trims.append("trim"))
    plan = kinds.plan("base")
    (kept,) = consume_all([([plan], Keep)], 1000, 4, chunk=64, executor=InProcessParts(3))
    assert len(kept.seen) > 3 and trims == ["trim"] * (
        3 + 3
    )  # after each of 3 parts, as each is taken


@pytest.mark.slow
def test_workers_2_writes_the_same_csv_files_as_the_in_process_run(tmp_path) -> None:
    common = ["run", str(DEFAULT_SCENARIO), "--draws", "3000", "--seed", "11", "-q"]
    runner = CliRunner()
    here = runner.invoke(main, [*common, "--out", str(tmp_path / "here")])
    assert here.exit_code == 0, here.output
    there = runner.invoke(main, [*common, "--out", str(tmp_path / "there"), "--workers", "2"])
    assert there.exit_code == 0, there.output
    for name in ("monthly.csv", "milestones.csv", "bands.csv", "dates.csv"):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes()


@pytest.mark.slow
def test_local_worker_processes_keep_freed_memory_as_the_command_does() -> None:
    from sim.analysis import heap
    from sim.analysis.distributed import open_executor

    def state() -> tuple[bool, bool]:  # (tuned once, left to the user's own settings)
        return heap._done, heap._users_own()

    with open_executor(workers=2) as pool:
        assert pool is not None
        seen = pool.client.run(state)
    assert len(seen) == 2 and all(done and not own for done, own in seen.values())


def test_local_workers_as_threads_run_and_give_the_same_summaries() -> None:
    # processes=False is documented: its scheduler failed to start, given a host that
    # dask's in-process transport does not take
    from sim.analysis.distributed import open_executor

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    here = sim.run(scenario, variants=["on-time"], draws=300, seed=4)
    with open_executor(workers=2, processes=False) as pool:
        assert pool is not None
        there = sim.run(scenario, variants=["on-time"], draws=300, seed=4, executor=pool)
    pd.testing.assert_frame_equal(here.bands, there.bands)


def test_a_local_cluster_starts_without_a_warning_while_dasks_usual_port_is_taken() -> None:
    # its web server took Dask's port 8787, and a second cluster (another run's) found
    # it taken and warned, an error under the suite's warnings filter
    import contextlib
    import socket

    from sim.analysis.distributed import open_executor

    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # (taken already: the same test)
            taken.bind(("127.0.0.1", 8787))
        taken.listen()
        with open_executor(workers=1, processes=False) as pool:
            assert pool is not None and pool.client.submit(abs, -3).result() == 3


def test_workers_needs_an_ensemble_and_excludes_scheduler(tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "never"
    result = runner.invoke(main, ["run", "--workers", "2", "--out", str(out)])
    assert (
        result.exit_code == 2
        and "<command line>:1:1: --workers: expected --draws N" in result.output
    )
    both = ["run", "--draws", "10", "--seed", "1", "--workers", "2", "--scheduler", "x"]
    result = runner.invoke(main, [*both, "--out", str(out)])
    assert result.exit_code == 2 and "--workers N or --scheduler ADDRESS, not both" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("origin", "place"),
    [(None, "<arguments>:1:1: scheduler"), ("<command line>", "<command line>:1:1: --scheduler")],
    ids=["called from Python", "from the command"],
)
def test_an_unreachable_scheduler_is_a_one_line_error_at_the_argument_as_given(
    origin, place
) -> None:
    # from Python it was placed at "<command line>:1:1: --scheduler", an option never typed
    from sim.analysis.distributed import open_executor

    pattern = rf"^{re.escape(place)}: expected the address of a running Dask"
    kwargs = {} if origin is None else {"origin": origin}
    with (
        pytest.raises(sim.ScenarioError, match=pattern),
        open_executor(scheduler="tcp://127.0.0.1:9", timeout="0.5s", **kwargs),
    ):
        pass  # pragma: no cover


def test_a_scheduler_address_where_nothing_listens_is_said_at_once() -> None:
    # Dask retries a refused connection until its timeout: a mistyped port waited 10 s
    import socket

    from sim.analysis.distributed import open_executor

    with socket.socket() as s:  # (a port free a moment ago: nothing listens there now)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with pytest.raises(sim.ScenarioError) as caught, open_executor(scheduler=address):
        pass  # pragma: no cover
    said = "(connection refused: nothing listens at that port)"
    assert str(caught.value).endswith(f"found {address!r} {said}")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        # bytes read as Dask's message: an array of 3 EiB asked for (an internal error)
        (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n", "is not a Dask scheduler"),
        (None, "no Dask scheduler answered there within"),  # it waits: the run hung
    ],
)
def test_a_service_that_is_not_a_dask_scheduler_is_a_one_line_error(
    answer: bytes | None, said: str, monkeypatch
) -> None:
    import socket
    import threading

    from sim.analysis import distributed
    from sim.analysis.distributed import open_executor

    monkeypatch.setattr(distributed, "CONNECT_GRACE", 1.0)
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # (closed)
                return
            held.append(conn)
            if answer is not None:
                conn.recv(65536)
                conn.sendall(answer)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        with (
            pytest.raises(sim.ScenarioError) as err,
            open_executor(scheduler=address, timeout="1s"),
        ):
            pass  # pragma: no cover
    finally:
        server.close()
        for conn in held:
            conn.close()
        # (the connection given up on ends once the service closes: not left running
        # into the next test, which starts event loops of its own)
        for thread in threading.enumerate():
            if thread.name == "forcesim-connect":
                thread.join(30)
    line = err.value.one_line()
    assert line.startswith("<arguments>:1:1: scheduler: expected the address of a running")
    assert f"found {address!r} (" in line and said in line, line


@pytest.mark.slow
def test_without_workers_or_scheduler_nothing_imports_dask(tmp_path) -> None:
    code = (
        "import sys; from click.testing import CliRunner; from sim.cli import main; "
        f"r = CliRunner().invoke(main, ['run', '--draws', '200', '--seed', '1', '-q', "
        f"'--out', {str(tmp_path / 'run')!r}]); "
        "assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_part_feeds_a_fresh_consumer(kinds: sim.Scenario) -> None:
    from sim.analysis.chunks import Part

    plan = kinds.plan("base")
    result = sim.run(kinds)
    part = Part((plan,), 3, 100, 50, lambda: accumulator(plan, result.milestones), 16)
    assert feed(part).n == 50


@pytest.mark.slow
def test_conditioning_refused_on_local_workers_is_one_line_without_worker_logs(tmp_path) -> None:
    # the refusal is raised in a worker's task and raised again here, where it becomes
    # one line; the worker's own log of the failed task (a block of eight lines with
    # its traceback) was printed on stderr as well
    theaters = ("t0", "t1", "t2")
    milestones = "".join(
        f"  cut-{t}:\n    theater: {t}\n    deadline: {{after_announcement: 590}}\n"
        f"    target: {{level: {{uniform: [0, 500]}}}}\n"
        for t in theaters
    )
    scenario = tmp_path / "tight.yaml"
    scenario.write_text(
        "id: tight\ntitle: tight reports\nas_of: 2024-01\n"
        "announcement: {expected: 2024-03, delay: {uniform: [0, 12]}}\n"
        "calendar: {start: 2024-01, end: 2073-12}\n"
        "theaters:\n"
        + "".join(f"  {t}: {{initial: 1500}}\n" for t in theaters)
        # (draws miss from about 1,630 to 1,680 of these 1,800 reports: ~1 GB of counts)
        + "milestones:\n"
        + milestones,
        encoding="utf-8",
    )
    record = tmp_path / "tight.csv"
    record.write_text(
        "date,theater,troops_low,troops_high,kind,tolerance\n"
        + "".join(
            f"{y}-{m:02d}-15,{t},700,800,reported,0\n"
            for y in range(2024, 2074)
            for m in range(1, 13)
            for t in theaters
        ),
        encoding="utf-8",
    )
    out = tmp_path / "run"
    args = ["run", str(scenario), "--observed", str(record), "--draws", "400", "--seed", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "sim", *args, "--condition", "--out", str(out), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stdout + done.stderr
    assert lines[0].startswith(f"forcesim: error: {record}:1:1: (rows): expected draws that miss")
    assert not out.exists()


def _sigint_ignored() -> bool:
    import signal

    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.mark.slow
def test_a_local_clusters_workers_leave_ctrl_c_to_the_command() -> None:
    # a terminal's Ctrl-C reaches every process of its group: each worker printed a
    # traceback of its own (67 lines) above the command's one line
    pytest.importorskip("distributed")
    import signal

    from sim.analysis.distributed import open_executor

    before = signal.getsignal(signal.SIGINT)
    with open_executor(workers=2) as pool:
        assert pool is not None
        assert list(pool.client.run(_sigint_ignored).values()) == [True, True]
    assert signal.getsignal(signal.SIGINT) is before  # this process's own is untouched


def _starting_worker_ignores_ctrl_c(queue) -> None:  # (run in a spawned process)
    import signal

    queue.put(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("marked", "name", "ignores"),
    [
        (True, "Dask Worker process (from Nanny)", True),
        (False, "Dask Worker process (from Nanny)", False),  # (a cluster not forcesim's)
        (True, "SpawnProcess-1", False),  # (the user's own, the variable left behind)
    ],
)
def test_a_worker_a_local_cluster_spawns_ignores_ctrl_c_from_importing_sim(
    monkeypatch, marked, name, ignores
):
    # a worker interrupted while it started (importing dask, before it could be told to
    # leave Ctrl-C to the command) printed a traceback of its own above the command's line
    import multiprocessing

    from sim.io.signals import LOCAL_WORKER

    if marked:
        monkeypatch.setenv(LOCAL_WORKER, "1")
    else:
        monkeypatch.delenv(LOCAL_WORKER, raising=False)
    spawn = multiprocessing.get_context("spawn")
    queue = spawn.Queue()
    # (the spawned process imports this test module, and with it sim, before it runs;
    # it starts with Ctrl-C as this process has it, which a shell leaves ignored for a
    # job it puts in the background: taken as Python's own for the test)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        child = spawn.Process(target=_starting_worker_ignores_ctrl_c, args=(queue,), name=name)
        child.start()
    finally:
        signal.signal(signal.SIGINT, before)
    assert queue.get(timeout=60) is ignores
    child.join(60)


def test_the_commands_own_process_keeps_ctrl_c_with_the_worker_variable_set(monkeypatch):
    # (the variable may be in this process's environment while it starts a cluster)
    import multiprocessing  # noqa: F401  (as in a process that started one)
    import signal

    from sim.io.signals import LOCAL_WORKER, ignore_interrupts_in_a_starting_worker

    monkeypatch.setenv(LOCAL_WORKER, "1")
    before = signal.getsignal(signal.SIGINT)
    assert ignore_interrupts_in_a_starting_worker() is False
    assert signal.getsignal(signal.SIGINT) is before


@pytest.mark.slow
def test_a_local_cluster_leaves_no_worker_variable_in_the_callers_environment() -> None:
    # Dask's nanny sets it in the process that starts the cluster: the caller's own
    # children, started later, then ignored Ctrl-C
    import os

    pytest.importorskip("distributed")
    from sim.analysis.distributed import WORKER_LOGS, open_executor
    from sim.io.signals import LOCAL_WORKER

    before = {name: os.environ.get(name) for name in (LOCAL_WORKER, WORKER_LOGS)}
    with open_executor(workers=1):
        pass
    assert {name: os.environ.get(name) for name in before} == before


def test_a_scheduler_without_a_worker_yet_is_said_at_once_and_the_run_goes_on() -> None:
    # the run waited with no word; an adaptive cluster starts its workers when tasks
    # arrive, so it is not refused
    from dask.distributed import LocalCluster

    from sim.analysis.distributed import open_executor

    said: list[str] = []
    with (
        LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        open_executor(scheduler=cluster.scheduler_address, waiting=said.append) as executor,
    ):
        assert executor is not None
    assert said == [
        f"the scheduler at {cluster.scheduler_address} has no worker yet; the run waits for "
        "one (each needs forcesim installed; Ctrl-C stops it)"
    ]


def _no_forcesim() -> str:
    raise ModuleNotFoundError("No module named 'sim'")


def test_a_scheduler_whose_worker_cannot_import_forcesim_is_a_one_line_error(
    monkeypatch,
) -> None:
    # its worker died on the first task, and the run waited for ever
    from dask.distributed import LocalCluster

    from sim.analysis import distributed
    from sim.analysis.distributed import open_executor

    monkeypatch.setattr(distributed, "_has_forcesim", _no_forcesim)
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster,
        pytest.raises(sim.ScenarioError) as err,
        open_executor(scheduler=cluster.scheduler_address),
    ):
        pass  # pragma: no cover
    assert str(err.value).endswith(
        "with a worker that cannot import it (ModuleNotFoundError: No module named 'sim')"
    )


def test_more_local_workers_than_four_per_cpu_are_refused_naming_the_machines_cpus(
    tmp_path,
) -> None:
    # 256 workers on two CPUs ran 300 draws for over 900 s, printing Dask's warnings
    from sim.cli.params import Workers

    cpus = Workers().cpus  # (os.sched_getaffinity where the system has it)
    most = 4 * cpus
    args = ["run", "--draws", "300", "--seed", "1", "--workers", str(most + 1)]
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"forcesim: error: <command line>:1:1: --workers: expected a whole number from 1 to "
        f"{most} (4 per CPU of the {cpus} this machine gives forcesim: each worker is a "
        f"process), found '{most + 1}'\n"
    )
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("workers", [0, -1, 2.5, "2", True, 10**6])
def test_open_executor_refuses_a_worker_count_that_is_not_a_whole_number_in_range(workers):
    # 0 or -1 opened a cluster with no worker and the first run waited for ever; "2" and
    # 2.5 failed inside Dask; nothing capped the count
    with pytest.raises(sim.ScenarioError) as err, sim.open_executor(workers=workers):
        pass
    assert str(err.value).startswith(
        "<arguments>:1:1: workers: expected a whole number of worker processes from 1 to "
    )


@pytest.mark.slow
def test_an_executor_used_after_its_block_ended_says_so() -> None:
    # Dask's own "No clients found ... from distributed import Client" came out of sim.run
    pytest.importorskip("distributed")
    from sim.analysis.distributed import open_executor

    scenario = sim.load_scenario(sim.default_scenario())
    with open_executor(workers=1) as pool:
        pass
    with pytest.raises(ValueError, match=r"^executor was closed when its with block ended"):
        sim.run(scenario, draws=500, seed=1, executor=pool)
