"""The ``forcesim`` command line: a few lines per command over the public API.

The commands live in :mod:`sim.cli.run` (run, compare, backtest),
:mod:`sim.cli.explore` (sweep, sensitivity) and :mod:`sim.cli.files`
(validate, schema, sources, list, show, plot); the text
they print in :mod:`sim.cli.text`; option types in :mod:`sim.cli.params`.
Heavy libraries (numpy, pandas, matplotlib, pydantic) are imported inside the
commands, so ``forcesim --help`` stays fast.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from sim.errors import one_line, printable
from sim.io.signals import stop_signals
from sim.paths import name_limits

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``forcesim: error: MESSAGE`` (one line) and exit with ``code``."""
    click.echo(f"forcesim: error: {one_line(message)}", err=True)
    sys.exit(code)


@contextlib.contextmanager
def reported_warnings() -> Iterator[None]:
    """Print each forcesim warning raised inside as ``forcesim: warning: …`` (once), when
    the block succeeds: a failure prints its one error line alone."""
    import warnings

    from sim.errors import ForcesimWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ForcesimWarning)
        yield
    seen: set[str] = set()
    for w in caught:
        if not issubclass(w.category, ForcesimWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        elif str(w.message) not in seen:
            seen.add(str(w.message))
            click.echo(f"forcesim: warning: {one_line(str(w.message))}", err=True)


def on_command_line(exc: Any) -> Any:
    """A ScenarioError of the public API placed where the command line gave the value
    (in place; returned): the API names its parameter (``<arguments>:1:1: variants``,
    an output directory's ``out_dir``, a scenario's ``path``, an unknown variant at the
    scenario's ``variants`` key); the command line, the option or argument that gave
    it (``<command line>:1:1: -v``, ``SCENARIO``), a flag as it was typed."""
    from sim.cli.params import as_written, first_argument, given_flag, option_of, quoted_from

    io_files = sys.modules.get("sim.io.files")  # (imported by now, if it raised)
    output = io_files is not None and isinstance(exc, io_files.OutputError)
    flag = option_of(exc.path) if exc.file == "<arguments>" or output else None
    if flag is not None and output and exc.file != "<arguments>" and not given_flag(flag):
        # (plot RUN_DIR writing into RUN_DIR: no -o to name; run of the default scenario
        # into its default folder: neither)
        flag = first_argument() or f"{flag} (by default)"
    if flag is None and exc.file == "<arguments>":
        # (a parameter no option is named for: load_scenario's and load_observations'
        # path, load_run's run_dir; the value quoted tells which was given)
        flag = quoted_from(exc.found)
    if flag is not None:
        exc.file = "<command line>" if exc.file == "<arguments>" else exc.file
        exc.path = flag
    elif exc.argument is not None and given_flag(option_of(exc.argument)):
        # (an unknown --variant, placed at the scenario's variants key for Python)
        exc.file, exc.line, exc.col = "<command line>", None, None
        exc.path = option_of(exc.argument) or exc.path
    if exc.path.startswith("-"):  # a flag, named as the command line wrote it (-o)
        exc.path = as_written(exc.path)[0]
    return exc


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one line on stderr and exit code 2; print warnings."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sim.errors import ScenarioError

        io_files = sys.modules.get("sim.io.files")
        if io_files is not None:  # what an earlier command in this process wrote is not ours
            io_files.WRITTEN.clear()
        try:
            from sim.cli.params import refuse_repeated

            refuse_repeated()  # (before any work: a value given twice is not dropped)
            with reported_warnings():
                return func(*args, **kwargs)
        except Exception as exc:
            if not (_Forcesim.signalled or _interrupted_in(exc)):
                if isinstance(exc, ScenarioError):
                    fail(on_command_line(exc).one_line())
                _failed(exc)
            # an interruption another error came of (a Ctrl-C in an import, "Error calling
            # __set_name__"; a cluster's socket closed under it, "Bad file descriptor")
            _stop_interrupted(_Forcesim.signalled or 2)
        except KeyboardInterrupt as exc:
            _stop_interrupted(getattr(exc, "signum", 2))

    return wrapper


def _stop_interrupted(signum: int) -> NoReturn:
    """Say what an interruption by ``signum`` left (:func:`interrupted`), and exit with
    128 + ``signum``."""
    click.echo(f"forcesim: {interrupted()}", err=True)
    sys.exit(128 + signum)


def _interrupted_in(exc: BaseException) -> bool:
    """Whether ``exc`` came of a KeyboardInterrupt (raised from it, or while handling it)."""
    from sim.errors import exception_chain

    return any(isinstance(e, KeyboardInterrupt) for e in exception_chain(exc))


def _failed(exc: Exception) -> NoReturn:
    """Say an error no interruption caused in one line, and exit (click's own exits and
    errors go on to click)."""
    if isinstance(exc, click.exceptions.Exit | click.ClickException):
        raise exc
    if isinstance(exc, BrokenPipeError):  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    if isinstance(exc, OSError):
        import errno

        if exc.filename is None and _stdout_failed(exc):  # (> /dev/full; a full disk)
            _stdout_said(exc.strerror or str(exc))
        if exc.filename is None and _cwd_gone():
            fail(
                "the working directory: expected a directory that exists, found it deleted "
                "(cd to one that exists and run again)"
            )
        if exc.errno == errno.ENAMETOOLONG and exc.filename:  # (-o of 256 letters)
            name_max, path_max = name_limits()
            fail(
                f"{printable(str(exc.filename))}: expected a path the system takes (each "
                f"name at most {name_max:,} bytes, the whole at most {path_max:,}), "
                f"found {exc.strerror}"
            )
        fail(str(exc) if not exc.strerror else f"{exc.filename or ''}: {exc.strerror}".lstrip(": "))
    # a bug, not bad input: still one line, distinct exit code
    click.echo(
        f"forcesim: internal error: {type(exc).__name__}: {exc} "
        "(please report this with the scenario file)",
        err=True,
    )
    sys.exit(1)


def _stdout_failed(exc: BaseException) -> bool:
    """Whether ``exc`` was raised writing to standard output (a ``file`` that
    click.echo, or click's help, wrote to: the stream itself, or click's wrapper of it),
    or standard output is closed (``forcesim >&-``)."""
    if sys.stdout is None:
        return True
    tb = exc.__traceback__
    while tb is not None:
        if _is_stdout(tb.tb_frame.f_locals.get("file")):
            return True
        tb = tb.tb_next
    return False


def _is_stdout(stream: Any) -> bool:
    """Whether ``stream`` writes to this process's standard output (descriptor 1)."""
    if stream is None:
        return False
    if stream is sys.stdout:
        return True
    try:
        return bool(stream.fileno() == 1)
    except (AttributeError, OSError, ValueError):  # (no descriptor: a StringIO, closed)
        return False


class _ClosedOutput(io.TextIOBase):
    """Standard output where the process was started without one (``forcesim >&-``):
    writing to it fails as writing to a closed descriptor does, so a command that
    prints says it could not, rather than exit 0 having shown nothing."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "closed (started without one: >&-)")

    def writable(self) -> bool:
        return True


def _stdout_said(strerror: str) -> NoReturn:
    """Say that standard output could not be written, and exit 2."""
    fail(f"standard output: {strerror}{_written_before()}")


def _cwd_gone() -> bool:
    """Whether the working directory was deleted (``os.getcwd`` then fails)."""
    try:
        os.getcwd()
    except FileNotFoundError:
        return True
    return False


def _written_before() -> str:
    """``; out/x/ was written whole before it``, when a command wrote before it failed."""
    names = _written_whole()
    if not names:
        return ""
    return f"; {', '.join(names)} {'was' if len(names) == 1 else 'were'} written whole before it"


def _written_whole() -> list[str]:
    """The directories (``out/x/``) and files this command wrote whole, each once."""
    io_files = sys.modules.get("sim.io.files")  # (not loaded: nothing was written)
    written = [] if io_files is None else io_files.WRITTEN
    names = [f"{p}/" if p.is_dir() and not p.is_symlink() else str(p) for p in written]
    return list(dict.fromkeys(names))


def _flushed() -> None:
    """Flush standard output (what a command printed, its help): one line and exit 2
    where it cannot be written (a full disk), not the exit code of a command that
    printed nothing."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError) as exc:
        _stdout_said(getattr(exc, "strerror", None) or str(exc))


def hold(target: Any, option: str = "--out") -> None:
    """Hold the lock of output directory ``target`` until the command ends
    (:func:`sim.io.files.output_lock`): a second command writing it meanwhile stops with
    one line."""
    from pathlib import Path

    from sim.io.files import output_lock

    click.get_current_context().with_resource(output_lock(Path(target), option))


def interrupted() -> str:
    """What an interruption leaves: nothing, or the directories and files written whole
    before it came (an interruption during the last step of a write waits for that step)."""
    names = _written_whole()
    if not names:
        return "interrupted; nothing was written"
    return "interrupted after writing " + ", ".join(names) + " whole"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``signum``), raised where the program is (like Ctrl-C's
    KeyboardInterrupt), so that the same clean-up runs: a half-written run directory is
    removed, nothing is left."""

    def __init__(self, signum: int = 15) -> None:
        super().__init__()
        self.signum = signum


def _on_sigterm(signum: int, frame: Any) -> None:
    _Forcesim.signalled = signum
    raise Terminated(signum)


def _on_sigint(signum: int, frame: Any) -> None:
    """Ctrl-C: KeyboardInterrupt, as Python's own handler raises it, remembered, so that
    one raised where Python drops it (in a ``__del__`` or a callback: "Exception ignored
    in ...") still ends the command as an interruption."""
    _Forcesim.signalled = signum
    raise KeyboardInterrupt


def _quiet_unraisable(unraisable: Any) -> None:
    """Drop the interruption Python could not raise (it is remembered: :func:`_on_sigint`);
    report anything else as Python does."""
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _dropped(unraisable: Any) -> None:
    """Drop an error Python could not raise (after an interruption, at exit)."""


def _remember(signum: int, frame: Any) -> None:
    """From the command's end to the process's: a Ctrl-C, SIGTERM or SIGHUP is only noted."""
    _Forcesim.signalled = _Forcesim.signalled or signum


def _interrupted_at_exit() -> None:
    """At the end of a ``forcesim`` process (the last exit handler, registered first): a
    Ctrl-C, SIGTERM or SIGHUP noted since the command ended (:meth:`_Forcesim.main`) still says
    one line and ends with 128 + the signal, where Python's shutdown would have ended
    silently with 0, or by the signal itself (code -2)."""
    import signal

    if not _Forcesim.holding:
        return
    for signum in (signal.SIGINT, *stop_signals()):
        signal.signal(signum, signal.SIG_IGN)
    if _Forcesim.signalled:
        click.echo(f"forcesim: {interrupted()}", err=True)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # (a reader gone: | head)
            if stream is not None:  # (closed: forcesim >&-)
                stream.flush()
    # (the rest of the shutdown only frees memory: ending here leaves no moment for a
    # Ctrl-C to end the process by the signal)
    os._exit(128 + _Forcesim.signalled if _Forcesim.signalled else _Forcesim.code)


atexit.register(_interrupted_at_exit)


class _Forcesim(click.Group):
    """The command group: remembers the arguments it was invoked with (for run.json),
    handles SIGTERM and SIGHUP like Ctrl-C (:func:`stop_signals`), and prints click's
    usage errors as one line, like every other error (a refused value located like a
    scenario file's:
    ``<command line>:1:1: --draws: expected …, found '…'``)."""

    invoked: list[str] = []
    #: the signal (2, 15 or 1) that came while the command ran, or 0
    signalled: int = 0
    #: whether this process holds Ctrl-C and SIGTERM from the command's end to its exit
    holding: bool = False
    #: the exit code of the command (for :func:`_interrupted_at_exit`)
    code: int = 0

    def main(self, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        """Run the command; a Ctrl-C, SIGTERM or SIGHUP at any moment (also one Python drops, or
        one after the command's last write) ends it with one line and 128 + the signal."""
        import signal
        import threading

        _Forcesim.invoked = list(args) if args is not None else sys.argv[1:]
        _Forcesim.signalled = 0
        previous: dict[int, Any] = {}
        hook = sys.unraisablehook
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread:
            for signum in stop_signals():  # (SIGTERM; SIGHUP: the terminal closed)
                previous[signum] = signal.signal(signum, _on_sigterm)
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _on_sigint)
            sys.unraisablehook = _quiet_unraisable
        try:
            return self._run(args, *rest, **kwargs)
        except SystemExit as exc:
            _Forcesim.code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            raise
        finally:
            for signum, handler in previous.items():
                # (a forcesim process notes them from here to its exit: any before are said)
                standalone = args is None
                signal.signal(signum, _remember if standalone else handler)
                _Forcesim.signalled, _Forcesim.holding = 0, standalone
            # interrupted, a forcesim process has said so in one line: what a library
            # fails to tear down at exit after it (a local cluster stopped while it
            # started: "Exception ignored in atexit callback", a traceback) is not said
            interrupted_here = args is None and _Forcesim.code > 128
            sys.unraisablehook = _dropped if interrupted_here else hook
            if interrupted_here and "logging" in sys.modules:  # (asyncio's "Task exception
                import logging  # was never retrieved", a cluster's "Received 'close-stream'")

                logging.disable(logging.CRITICAL)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command the first word names; a word that names none is one located line
        listing the commands, with a did-you-mean."""
        from sim.cli.params import UnknownCommand
        from sim.errors import nearest

        name = args[0]
        if ctx.resilient_parsing:  # (completing a word at the shell: click's own way)
            return super().resolve_command(ctx, args)
        if self.get_command(ctx, name) is None and not name.startswith("-"):
            known = self.list_commands(ctx)
            near = nearest(name, known)
            hint = f" (did you mean {near!r}?)" if near else ""
            if name.lower() in ("help", "-help", "h"):
                hint = " (for help: forcesim --help, or forcesim COMMAND --help)"
            raise UnknownCommand(
                f"<command line>:1:1: {printable(name)}: expected a command of forcesim: "
                f"{', '.join(known)}{hint}, found {name!r}",
                ctx,
            )
        return super().resolve_command(ctx, args)

    def _run(self, args: Any, *rest: Any, **kwargs: Any) -> Any:
        """The command, its failures as one line each."""
        if sys.stdout is None:  # (forcesim >&-: click.echo would drop every line unsaid)
            sys.stdout = _ClosedOutput()
        try:
            out = super().main(args, *rest, **{**kwargs, "standalone_mode": False})
            if _Forcesim.signalled:  # raised where Python dropped it: the work went on
                raise click.exceptions.Abort()
            _flushed()
            return out
        except (click.exceptions.Abort, KeyboardInterrupt) as exc:
            cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__
            _stop_interrupted(_Forcesim.signalled or getattr(cause, "signum", 2))
        except click.exceptions.NoArgsIsHelpError as exc:  # a bare forcesim: its help
            try:
                click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            except OSError as broken:
                _failed(broken)
            _flushed()
            sys.exit(0)
        except click.BadParameter as exc:
            from sim.cli.params import usage_error, value_error

            if isinstance(exc, click.MissingParameter):
                fail(usage_error(exc), exc.exit_code)
            fail(exc.format_message() if exc.param is None else value_error(exc), exc.exit_code)
        except click.UsageError as exc:
            from sim.cli.params import usage_error

            fail(usage_error(exc), exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except click.exceptions.Exit as exc:
            _flushed()
            sys.exit(exc.exit_code)
        except OSError as exc:  # (help, the version, the schema: printed as they are)
            _failed(exc)


def say_written(target: Any, written: Sequence[Any]) -> None:
    """Print ``wrote N files to TARGET/: a, b`` for ``written`` (paths) put into
    folder ``target``, each name as :func:`sim.errors.printable` writes it (a name
    with a line break or ESC in it would otherwise break the line, or vanish)."""
    names = ", ".join(printable(Path(f).name) for f in written)
    click.echo(f"wrote {len(written)} files to {printable(str(target))}/: {names}")


def command_line() -> list[str]:
    """The command as invoked, for ``run.json``."""
    return ["forcesim", *_Forcesim.invoked]


@click.group(cls=_Forcesim, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="forcesim", prog_name="forcesim")
def main() -> None:
    """forcesim: force-level scenarios in, monthly troop projections and charts out.

    Start with `forcesim run` (the default scenario), then `forcesim list`.
    """
    from sim.analysis.heap import keep_freed_memory

    keep_freed_memory()  # this process is forcesim's own: its chunks reuse freed memory


# the commands register themselves on ``main``
from sim.cli import explore, files, run, vintages  # noqa: E402, F401
