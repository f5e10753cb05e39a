"""Scale-out on Dask: the parts of an ensemble, and the points of a sweep, as tasks.

``--workers N`` starts a ``dask.distributed`` local cluster of N worker processes
on this machine (loopback only, no dashboard); ``--scheduler ADDRESS`` sends the
tasks to a cluster that is already running (``dask scheduler`` and ``dask
worker ADDRESS`` on the machines, each with forcesim installed). Nothing else in
forcesim imports dask: without these flags it is never loaded, and it is an
extra (``pip install 'forcesim[dask]'``).

Results do not depend on where the draws ran. An ensemble is cut into parts of
consecutive draws (:func:`sim.analysis.chunks.split`); a part starting at draw
``k`` positions every quantity's random stream at ``k``
(:class:`sim.model.draws.Draws` with ``start``), so it draws exactly the numbers
the in-process run draws there, and the parts' level counts add up to the
in-process counts (:meth:`sim.analysis.accumulator.Accumulator.merge`). The files
written are byte-identical whatever the number of workers, parts and chunks.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sim.analysis.heap import keep_freed_memory
from sim.analysis.workers import WORKERS_PER_CPU, cpus_given
from sim.errors import ScenarioError, exception_chain
from sim.io.settings import COMMAND_LINE
from sim.io.signals import LOCAL_WORKER

CONNECT_TIMEOUT = "10s"
#: seconds beyond the connection's timeout that a scheduler is waited for, for its
#: handshake (:func:`_connect`)
CONNECT_GRACE = 5.0
UNTRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
#: the environment variable that sets the level of a Dask process's own logs from its
#: start (Dask's configuration ``logging.distributed``)
WORKER_LOGS = "DASK_LOGGING__DISTRIBUTED"


class DaskExecutor:
    """Runs tasks on a Dask cluster through ``client`` (a ``dask.distributed.Client``).

    Attributes
    ----------
    parts : int
        How many parts each ensemble is cut into: twice the cluster's worker
        threads, so that a slow part does not hold the others up.
    ahead : int
        How many tasks :meth:`imap` runs ahead of the result taken: the cluster's
        worker threads (each worker holds its finished result until it is taken).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        threads = sum(client.nthreads().values())
        self.parts = max(2, 2 * threads)
        self.ahead = max(1, threads)

    def map(
        self,
        func: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        sizes: Sequence[int] | None = None,
        bar: Any = None,
    ) -> list[Any]:
        """``[func(item) for item in items]``, each item a task on the cluster.

        Results come back in the order of ``items``; ``bar`` advances by
        ``sizes[i]`` (default 1) as task i finishes. An exception in a task is
        raised here, as it was raised there.
        """
        # (all at once: every result is held here anyway)
        return list(self.imap(func, items, sizes=sizes, bar=bar, ahead=len(items)))

    def imap(
        self,
        func: Callable[[Any], Any],
        items: Sequence[Any],
        *,
        sizes: Sequence[int] | None = None,
        bar: Any = None,
        ahead: int | None = None,
    ) -> Iterator[Any]:
        """``func(item)`` of each item in the order of ``items``, run as tasks at most
        ``ahead`` (default :attr:`ahead`) ahead of the one taken: each result is
        fetched from its worker only once the one before it is taken, and let go there
        when fetched, so this process holds one at a time (:meth:`map` holds all; a
        part of a pass over a large force takes some 40 MB), and the workers at most
        ``ahead`` (all at once, the parts of 100 variants, each of 24 to 100 MB of
        counts, piled up on the workers and here). ``bar`` advances by ``sizes[i]``
        (default 1) as task i finishes."""
        from dask.distributed import as_completed

        if not items:
            return
        task = partial(packed, func)
        futures: list[Any] = []
        index: dict[Any, int] = {}
        running = as_completed()

        def submit(upto: int) -> None:  # the tasks before ``upto``, not yet submitted
            while len(futures) < min(upto, len(items)):
                future = self.client.submit(task, items[len(futures)], pure=False)
                index[future.key] = len(futures)
                futures.append(future)
                running.add(future)

        window = self.ahead if ahead is None else max(1, ahead)
        try:
            yield from self._taken(running, futures, index, submit, window, sizes, bar)
        finally:  # (a task's error, or the caller done early: the rest are not wanted)
            left = [f for f in futures if f is not None]
            if left:
                self.client.cancel(left)
            futures.clear()
            running.clear()

    @staticmethod
    def _taken(
        running: Any,
        futures: list[Any],
        index: dict[Any, int],
        submit: Callable[[int], None],
        window: int,
        sizes: Sequence[int] | None,
        bar: Any,
    ) -> Iterator[Any]:
        """The results of :meth:`imap`'s tasks in order, each submitted ``window``
        ahead of the one taken."""
        submit(window)
        finished: set[int] = set()
        taken = 0
        for future in running:
            i = index.pop(future.key)
            if bar is not None:
                bar.update(sizes[i] if sizes is not None else 1)
            finished.add(i)
            while taken in finished:
                mine, futures[taken] = futures[taken], None
                try:
                    result = [unpacked(mine.result())]
                finally:  # (its worker drops the result, or its error: it is here now)
                    mine.release()
                finished.discard(taken)
                taken += 1
                submit(taken + window)
                # (handed out, not held here while the caller uses it: the caller may
                # let it go before it asks for the next)
                yield result.pop()


def packed(func: Callable[[Any], Any], item: Any) -> tuple[bytes, list[NDArray[np.uint8]]]:
    """``func(item)`` as a task sends it back: pickled (protocol 5) with the memory of
    its arrays beside it, as arrays of bytes, not copied. Dask sends an array as it is,
    but copied the arrays inside any other object as it sent it: a part's counts of
    some 30 MB took a worker 60-75 MB more while they were sent (a 20 MB array inside
    an object: 50 MB more; the array alone, or these bytes: nothing)."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(func(item), protocol=5, buffer_callback=buffers.append)
    return head, [np.frombuffer(b.raw(), np.uint8) for b in buffers]


def unpacked(sent: tuple[bytes, list[NDArray[np.uint8]]]) -> Any:
    """The result :func:`packed` sent, its arrays on the memory that came with it."""
    head, buffers = sent
    return pickle.loads(head, buffers=buffers)


def leave_interrupts_to_the_client() -> bool:
    """In a local cluster's worker process: ignore Ctrl-C (SIGINT), which a terminal
    sends to every process of its group; the command that started the cluster stops
    it when it is interrupted. True when set (only a process's main thread can)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return True


@contextmanager
def _environ_kept(*names: str) -> Iterator[None]:
    """Put environment variables ``names`` back as they were (or unset) after the block."""
    values = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _has_forcesim() -> str:
    """(on a worker) The forcesim version it imports."""
    import sim

    return str(sim.__version__)


def _check_workers(
    client: Any, scheduler: str, where: tuple[str, str], waiting: Callable[[str], None] | None
) -> None:
    """Check that each worker ``scheduler`` has now imports forcesim (one that cannot
    died on its first task, and the run waited for ever), else close ``client`` and
    raise a ScenarioError; with no worker yet, tell ``waiting`` (an adaptive cluster
    starts its workers when tasks arrive, a queued job later: the run waits for them)."""
    if not client.scheduler_info().get("workers"):
        if waiting is not None:
            waiting(
                f"the scheduler at {scheduler} has no worker yet; the run waits for one "
                "(each needs forcesim installed; Ctrl-C stops it)"
            )
        return
    try:
        client.run(_has_forcesim)
    except Exception as exc:  # (the worker's own import error)
        client.close()
        raise ScenarioError(
            "a Dask scheduler whose workers have forcesim installed",
            f"{scheduler!r}, with a worker that cannot import it ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:120]})",
            file=where[0],
            path=where[1],
        ) from None


def _check_workers_argument(workers: object) -> None:
    """Refuse a ``workers`` that is not a whole number from 1 to :data:`WORKERS_PER_CPU`
    per CPU (0 or less started a cluster with no worker, and the run waited for ever)."""
    from sim.errors import ScenarioError

    most = WORKERS_PER_CPU * cpus_given()
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer):
        found = f"{workers!r} ({type(workers).__name__})"
    elif not 1 <= int(workers) <= most:
        found = repr(int(workers))
    else:
        return
    raise ScenarioError(
        f"a whole number of worker processes from 1 to {most:,} ({WORKERS_PER_CPU} per CPU "
        f"of the {cpus_given():,} this machine gives forcesim)",
        found,
        file="<arguments>",
        path="workers",
    )


def _refused(scheduler: str) -> str | None:
    """What stops a connection to ``scheduler`` at once, said in a few words: nothing
    listening at a TCP address (refused), or a host name that does not resolve; None
    when the address is not plain TCP, or a connection is made or only slow (Dask's own
    attempt then says what it finds, within its timeout). Dask retries a refused
    connection until its timeout, so a mistyped port kept the command waiting 10 s."""
    import socket

    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, rest = parse_address(scheduler)
        if scheme != "tcp":
            return None
        host, port = parse_host_port(rest)
        port = int(port)
    except (ValueError, TypeError):
        return None
    if not 1 <= port <= 65535:
        return f"no port: a TCP port is 1 to 65535, not {port}"
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return None
    except ConnectionRefusedError:
        return "connection refused: nothing listens at that port"
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            return f"no host is known by the name {host!r}"
        return None  # (a name server that did not answer, say: Dask's attempt says)
    except OSError:  # (slow, unreachable or filtered: Dask's attempt says)
        return None


def _connect(client_type: Any, scheduler: str, timeout: str, where: tuple[str, str]) -> Any:
    """A Dask client of the scheduler at ``scheduler``, or a ScenarioError at ``where`` (file, key)
    when none answers there within ``timeout`` (and a few seconds more).

    The address is the user's: a service that is not Dask's may answer anything. Its
    bytes read as a Dask message asked for an array of 3 EiB (a ``MemoryError``), and
    one that waits for more of a request never answered (Dask's timeout covers the
    connection, not the handshake after it): the client is made in a thread of its
    own, waited for, and any failure is said in one line."""
    import gc
    import threading

    from dask.utils import parse_timedelta

    expected = "the address of a running Dask scheduler (e.g. tcp://127.0.0.1:8786)"
    refused = _refused(scheduler)
    if refused is not None:
        raise ScenarioError(expected, f"{scheduler!r} ({refused})", file=where[0], path=where[1])
    got: dict[str, Any] = {}
    lock = threading.Lock()

    def connect() -> None:
        try:
            client = client_type(scheduler, timeout=timeout)
        except Exception as exc:  # (whatever a service that is not Dask's leads to)
            got["error"] = exc
            # The client half made is held by the error's frames, in a cycle: left to a
            # later collection, its clean-up (Client.__del__, which takes Dask's one lock
            # of event loops) ran in whatever thread allocated next, and in one starting
            # a loop under that lock it waited for itself for ever. Its frames let go,
            # it is cleaned up here, where no lock is held.
            for e in exception_chain(exc):
                e.__traceback__ = None
            del exc
            gc.collect()
            return
        with lock:  # (made after the wait was given up: nobody will close it but here)
            if got.get("abandoned"):
                client.close()
            else:
                got["client"] = client

    thread = threading.Thread(target=connect, name="forcesim-connect", daemon=True)
    thread.start()
    seconds = parse_timedelta(timeout) if timeout is not None else None
    wait = None if seconds is None else float(seconds) + CONNECT_GRACE
    try:
        thread.join(wait)
    finally:
        with lock:
            if "client" not in got and "error" not in got:
                got["abandoned"] = True  # (timed out or interrupted)
    if got.get("abandoned"):
        found = f"{scheduler!r} (no Dask scheduler answered there within {wait:g} s)"
        raise ScenarioError(expected, found, file=where[0], path=where[1])
    exc = got.get("error")
    if exc is not None:
        said = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        if not isinstance(exc, OSError | TimeoutError | ValueError):
            said = f"what answered there is not a Dask scheduler: {type(exc).__name__}"
        raise ScenarioError(expected, f"{scheduler!r} ({said})", file=where[0], path=where[1])
    return got["client"]


@contextmanager
def open_executor(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    processes: bool = True,
    timeout: str = CONNECT_TIMEOUT,
    waiting: Callable[[str], None] | None = None,
    origin: str = "<arguments>",
) -> Iterator[DaskExecutor | None]:
    """A :class:`DaskExecutor` for ``--workers`` or ``--scheduler``, closed on exit;
    None (run here) when neither is given.

    Parameters
    ----------
    workers : int, optional
        Start a local cluster of this many workers (one thread each) on the
        loopback interface; it is shut down on exit. Worker processes keep freed
        memory for their next chunk (:func:`sim.keep_freed_memory`); a scheduler's
        workers are left as they are.
    scheduler : str, optional
        The address of a running Dask scheduler (``tcp://host:8786``); its workers
        need forcesim installed.
    processes : bool
        Local workers as processes (default) or as threads of this process.
    timeout : str
        How long to try to reach ``scheduler`` (a Dask duration, default 10 s).
    waiting : callable, optional
        Told, in a sentence, when ``scheduler`` has no worker yet (the run then waits
        for one).
    origin : str
        Where an error places the argument: ``<arguments>`` and its name (default), or
        ``<command line>`` and its option (``--scheduler``), as the command passes.

    Returns
    -------
    context manager
        Gives a :class:`DaskExecutor` (or None) to pass as ``executor=`` to
        :func:`sim.run`, :func:`sim.compare`, :func:`sim.sweep` and
        :func:`sim.sensitivity`; the cluster is shut down when it closes.

    Raises
    ------
    sim.ScenarioError
        When ``workers`` is not a whole number from 1 to :data:`WORKERS_PER_CPU` per
        CPU, dask is not installed, the scheduler cannot be reached, or a worker it has
        cannot import forcesim.
    """
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None:
        _check_workers_argument(workers)
    name = "scheduler" if scheduler is not None else "workers"
    where = (origin, f"--{name}" if origin == COMMAND_LINE else name)
    try:
        import dask
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError(
            "dask.distributed installed (pip install 'forcesim[dask]')",
            "no module dask.distributed",
            file=where[0],
            path=where[1],
        ) from None
    cluster = None
    if scheduler is not None:
        client = _connect(Client, scheduler, timeout, where)
        _check_workers(client, scheduler, where, waiting)
    else:
        # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, which makes
        # glibc hand every large temporary array back to the system when it is freed:
        # a part of an ensemble then runs 2.5 times slower than here (it allocates a
        # few arrays of a chunk's size per chunk). Unset, glibc's own threshold holds.
        # and its statistical profiler samples every thread's stack every 10 ms: off,
        # it is for diagnosing Dask itself
        # The workers are told they are this run's own: each then leaves Ctrl-C to this
        # process from its start (sim.io.signals.LOCAL_WORKER), not only once it runs;
        # and their logs are as silent as silence_logs below from their start (one
        # stopped while it started said "INFO - Received 'close-stream'" below the
        # command's one line)
        spawned = {LOCAL_WORKER: "1", WORKER_LOGS: "critical"}
        with (
            dask.config.set(
                {UNTRIM: None, "distributed.worker.profile.enabled": False}
                | {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in spawned.items()}
            ),
            _environ_kept(*spawned),  # (the nanny sets them in this process too)
        ):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                # worker processes talk over the loopback interface; threads of this
                # process over dask's in-process transport, which takes no host
                # (given one, the scheduler failed to start)
                **({"host": "127.0.0.1"} if processes else {}),
                # the scheduler's small web server (health and metrics; no dashboard
                # without bokeh) on a free loopback port: on Dask's 8787 a second
                # cluster, another run's, found it taken and warned
                dashboard_address="127.0.0.1:0",
                # a task's exception is raised again here (DaskExecutor.map), where the
                # command says it in one line: a worker's own log of it ("Compute
                # Failed", its traceback) would print it again, as a block on stderr
                silence_logs=logging.CRITICAL,
            )
        try:  # (interrupted here, the cluster is closed, not left to Dask's exit hook)
            client = Client(cluster)
            if processes:  # the workers are this run's own processes: as the command's own
                client.run(keep_freed_memory)
                # Ctrl-C at a terminal reaches every process of its group: each worker
                # printed its own traceback. This process stops them when interrupted
                client.run(leave_interrupts_to_the_client)
        except BaseException:
            cluster.close()
            raise
    try:
        yield DaskExecutor(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
