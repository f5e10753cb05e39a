"""The signals that stop a command, for the command line and for the writers that hold
them back while a directory is swapped in (kept apart from :mod:`sim.io.files`, whose
imports the command line's start-up does not pay for)."""

from __future__ import annotations


def stop_signals() -> tuple[int, ...]:
    """The signals besides Ctrl-C that end a command as an interruption, its half-made
    files removed: SIGTERM, and SIGHUP where there is one (the terminal closed, which
    left a run's hidden temporary folder behind) unless the process ignores it
    (``nohup forcesim …``: the run goes on, as the user asked)."""
    import signal

    hup: int | None = getattr(signal, "SIGHUP", None)
    if hup is None or signal.getsignal(hup) is signal.SIG_IGN:
        return (signal.SIGTERM,)
    return (signal.SIGTERM, hup)


#: set in the environment of the worker processes of a local cluster that forcesim starts
#: (:func:`sim.open_executor`)
LOCAL_WORKER = "FORCESIM_LOCAL_WORKER"
#: how Dask's nanny names the worker processes it starts
DASK_WORKER = "Dask Worker process"


def ignore_interrupts_in_a_starting_worker() -> bool:
    """In a worker process of a local cluster that forcesim starts, as it starts: ignore
    Ctrl-C (SIGINT). A terminal sends it to every process of its group, and a worker
    still starting printed a traceback of its own; the command that started the cluster
    stops it when interrupted. A spawned process runs its parent's main module again
    before anything else (the ``forcesim`` script, a user's script), which imports
    :mod:`sim` first: it calls this. (A worker that runs is told the same by
    :func:`sim.analysis.distributed.leave_interrupts_to_the_client`.) True when set."""
    import os
    import sys

    if os.environ.get(LOCAL_WORKER) != "1" or "multiprocessing" not in sys.modules:
        return False
    # (a spawned process has the name its parent gave it before it runs the main module:
    # Dask's nanny names its workers so; the variable may be left in the environment of
    # the process that started the cluster, whose own children are named otherwise)
    name = sys.modules["multiprocessing"].current_process().name
    if not name.startswith(DASK_WORKER):
        return False
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return True
