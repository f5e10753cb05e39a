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
