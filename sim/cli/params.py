"""Option types of the command line: click parses and checks every flag value, and a
bad one exits 2 with one line located like a scenario file's error,
``<command line>:1:1: --draws: expected …, found '…'`` (:func:`value_error`)."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

import click

from sim.errors import quoted_short

MAX_DRAWS = 100_000_000  # as sim.analysis.ensemble.MAX_DRAWS (checked in the tests)


class WholeNumber(click.IntRange):
    """A whole number in a range, written as plain decimal digits, as every number
    forcesim reads (:mod:`sim.io.numbers`): ``1_000``, ``05`` or digits of another script,
    which Python's ``int`` takes, are refused with a hint."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import re

        from sim.io.numbers import form_hint

        text = value.strip() if isinstance(value, str) else ""
        hint = form_hint(text, yaml=False) if text else None
        # (text that is no number at all is refused below, with the range it must be in)
        numeric = hint is not None or any(c.isdigit() for c in text)
        if numeric and not re.fullmatch(r"[-+]?(0|[1-9][0-9]*)", text):
            self.fail(
                f"expected a whole number as plain digits, found {quoted_short(value)}"
                + (f" ({hint})" if hint else ""),
                param,
                ctx,
            )
        low, high = self.min, self.max
        if isinstance(value, str) and not numeric:  # (click would say "not a valid integer")
            self.fail(
                f"expected a whole number from {low:,} to {high:,}, found {quoted_short(value)}"
                if low is not None and high is not None
                else f"expected a whole number as plain digits, found {quoted_short(value)}",
                param,
                ctx,
            )
        # (digits past any bound are out of range without reading them: Python will not
        # read more than 4,300 digits as an int)
        digits = len(text.lstrip("+-"))
        if (
            numeric
            and low is not None
            and high is not None
            and (digits > len(f"{max(abs(low), abs(high))}") or not low <= int(text) <= high)
        ):
            self.fail(  # (click's own message quotes int(text), not the text)
                f"expected a whole number from {low:,} to {high:,}, found {quoted_short(value)}",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


class OneOf(click.Choice):
    """One of a few words, refused as every other value is: ``expected one of csv,
    parquet, both, found 'xls'``."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value not in self.choices:
            from sim.errors import nearest

            near = nearest(value, [str(c) for c in self.choices])
            hint = f" (did you mean {near!r}?)" if near else ""
            self.fail(
                f"expected one of {', '.join(map(str, self.choices))}{hint}, found {value!r}",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


DRAWS = WholeNumber(1, MAX_DRAWS)
SEED = WholeNumber(0, 2**63 - 1)


class ToleranceType(click.ParamType):
    """``--tolerance``: ``5%`` (of each bound), ``200`` (troops) or ``0`` (exact)."""

    name = "tolerance"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from sim.errors import ScenarioError
        from sim.io.observations import Tolerance, parse_tolerance

        if isinstance(value, Tolerance):
            return value
        try:
            return parse_tolerance(str(value))
        except ScenarioError as exc:
            self.fail(f"expected {exc.expected}, found {exc.found}", param, ctx)


TOLERANCE = ToleranceType()


class ErrorRateType(click.ParamType):
    """``--error-rate``: the chance that a report is wrong, as conditioning takes it
    (``sim.run(..., error=...)``): ``5%``, ``0.05``, ``5e-2`` or ``1/20``, above 0 and below 1,
    kept exact (a :class:`fractions.Fraction`, as the weights are computed)."""

    name = "rate"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import re
        from fractions import Fraction

        if isinstance(value, Fraction):
            return value
        text = str(value).strip()
        from sim.io.numbers import PLAIN_DECIMAL

        # (as --tolerance reads a number, a plain decimal: .05, 5. and "5 %" too)
        digits = r"((0|[1-9][0-9]*)(\.[0-9]*)?|\.[0-9]+)"
        number = text[:-1].strip() if text.endswith("%") else text
        plain = PLAIN_DECIMAL.match(number) is not None and not number.startswith(("-", "+"))
        rate: Fraction | None = None
        if plain and text.endswith("%") and text[-2:-1] in (" ", *"0123456789."):
            rate = Fraction(number) / 100
        elif (plain and number == text) or re.fullmatch(r"[1-9][0-9]*/[1-9][0-9]*", text):
            rate = Fraction(text)
        elif re.fullmatch(digits + r"[eE]-?[0-9]{1,2}", text):
            # 1e-3, as sim.run takes it: exact; an exponent of at most two digits (a
            # fraction of 10^200000000 would take minutes and gigabytes to make)
            rate = Fraction(text)
        if rate is None or not 0 < rate < 1:
            # (a whole number from 1 to 99 is most likely a percentage without its sign)
            percent = rate is not None and number == text and plain and 1 <= rate < 100
            whole = text.rstrip(".")  # (5. is 5)
            hint = f" (a chance of {whole} percent is written {whole}%)" if percent else ""
            self.fail(
                "expected a chance that a report is wrong, above 0 and below 1: a percentage "
                f"(5%), a decimal (0.05 or 5e-2) or a fraction (1/20), found {str(value)!r}" + hint,
                param,
                ctx,
            )
        return rate


ERROR_RATE = ErrorRateType()


class PathName(click.Path):
    """A path that has a name: a blank one is refused, not taken as the default (``--out
    ''`` would write to the default directory, ``--observed ''`` read the scenario's own
    observations, ``run ''`` run the default scenario, ``validate ''`` read ``.``,
    each without saying so)."""

    what = "a file name"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (a file forcesim cannot read is refused by the reader, as every file is:
        # "FILE:1:1: (file): expected a readable file, found Permission denied")
        kwargs.setdefault("readable", False)
        super().__init__(*args, **kwargs)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail(f"expected {self.what}, found {value!r}", param, ctx)
        if isinstance(value, str) and ctx is not None and isinstance(param, click.Option):
            # (-o --seed made a directory called --seed; -o=x one called =x)
            params = ctx.command.get_params(ctx)  # (--help/-h too)
            names = {n for p in params for n in getattr(p, "opts", ())}
            names |= {n for p in params for n in getattr(p, "secondary_opts", ())}
            if value.partition("=")[0] in names:
                self.fail(
                    f"expected {self.what}, found {value!r}, an option of the command (give "
                    f"{param.opts[0]} its {self.what.removeprefix('a ')} before the next "
                    f"option; one really called so: ./{value})",
                    param,
                    ctx,
                )
            short = [o for o in param.opts if not o.startswith("--")]
            long = [o for o in param.opts if o.startswith("--")]
            if value.startswith("=") and short and long:
                rest = value[1:] or "NAME"
                self.fail(
                    f"expected {self.what}, found {value!r} (a short option takes its value "
                    f"after a space: {short[0]} {rest}, or {long[0]}={rest})",
                    param,
                    ctx,
                )
        return super().convert(value, param, ctx)


class DirectoryName(PathName):
    """A directory to write into, by name (see :class:`PathName`)."""

    what = "a directory name"


def variant_option(help_text: str) -> Any:
    """``--variant/-v NAME``, repeatable, into the parameter ``variants``."""
    return click.option(
        "--variant", "-v", "variants", multiple=True, metavar="NAME", help=help_text
    )


def out_option(default: str) -> Any:
    """``--out DIR``, into ``out_dir``; ``default`` says where it writes without it."""
    return click.option(
        "--out",
        "-o",
        "out_dir",
        type=DirectoryName(),
        metavar="DIR",
        help=f"Output directory. Default: {default}",
    )


def draws_options(draws_help: str, seed_help: str, least: int = 1) -> Any:
    """``--draws N`` (at least ``least``) and ``--seed S`` (click-checked ranges), and the
    hidden ``--chunk``."""
    draws = DRAWS if least == 1 else WholeNumber(least, MAX_DRAWS)

    def apply(func: Any) -> Any:
        func = click.option("--chunk", type=WholeNumber(1, 10_000_000), hidden=True)(func)
        func = click.option("--seed", type=SEED, metavar="S", help=seed_help)(func)
        return click.option("--draws", type=draws, metavar="N", help=draws_help)(func)

    return apply


def quiet_option(help_text: str = "No progress bar and no table.") -> Any:
    """``--quiet/-q``."""
    return click.option("--quiet", "-q", is_flag=True, help=help_text)


def set_option(help_text: str) -> Any:
    """The repeatable ``--set KEY=VALUE`` option (parsed in the command, so that a bad
    value is a located one-line error like a scenario file's)."""
    return click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="KEY=VALUE",
        help=help_text,
    )


SET_HELP = (
    "Set one value by key path on top of every variant that runs, in YAML flow "
    "syntax: --set announcement.delay=3, --set 'announcement.delay={uniform: [0, 6]}'. "
    "Repeatable; wins over a variant's own value."
)


def refuse_stray_value(texts: tuple[str, ...], scenario: str | None) -> None:
    """Refuse, before the scenario is read, ``--set KEY VALUE`` (a space for the ``=``):
    the VALUE became the SCENARIO argument, and was refused as a missing scenario file.
    Only when a ``--set`` has no ``=`` and SCENARIO names nothing that exists."""
    from pathlib import Path

    from sim.errors import ScenarioError

    if scenario is None or Path(scenario).exists():
        return
    for text in texts:
        if "=" not in text:
            raise ScenarioError(
                "KEY=VALUE, the value after '=' (a dotted key path, =, a value)",
                f"{text!r}, then {scenario!r} as the scenario file (write "
                f"--set {text.strip()}={scenario})",
                file="<command line>",
                path="--set",
            )


def apply_settings(scenario: Any, texts: tuple[str, ...], variants: list[str]) -> Any:
    """``scenario`` with every ``--set KEY=VALUE`` of ``texts`` applied to ``variants``
    (unchanged without any)."""
    if not texts:
        return scenario
    from sim.io.settings import COMMAND_LINE, parse_setting

    parsed = [parse_setting(t) for t in texts]
    return scenario.with_settings(
        [(s.key, s.value) for s in parsed],
        variants=variants,
        origin=COMMAND_LINE,
        written=[s.texts for s in parsed],
    )


class Workers(WholeNumber):
    """``--workers N``: 1 to :data:`sim.analysis.workers.WORKERS_PER_CPU` per CPU
    this process may use."""

    def __init__(self) -> None:
        from sim.analysis.workers import WORKERS_PER_CPU, cpus_given

        self.cpus, self.per_cpu = cpus_given(), WORKERS_PER_CPU
        super().__init__(1, WORKERS_PER_CPU * self.cpus)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = value.strip() if isinstance(value, str) else ""
        if text.isascii() and text.isdigit() and (len(text) > 6 or int(text) > (self.max or 0)):
            self.fail(
                f"expected a whole number from 1 to {self.max:,} ({self.per_cpu} per CPU "
                f"of the {self.cpus:,} this machine gives forcesim: each worker is a "
                f"process), found {quoted_short(value)}",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


def scale_options(func: Any) -> Any:
    """``--workers N`` and ``--scheduler ADDRESS``: where the draws run."""
    func = click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="Send the draws as tasks to a running Dask scheduler "
        "(tcp://host:8786; README: Scale-out). The same files as without.",
    )(func)
    return click.option(
        "--workers",
        type=Workers(),
        metavar="N",
        help="Run the draws as tasks on a local Dask cluster of N worker processes "
        "(pip install 'forcesim[dask]'). The same files as without.",
    )(func)


def written(flag: str, value: Any = None) -> str:
    """``flag`` and its value as the command line gave them, quoted for an error to
    show: ``'--draws 100'``, or ``'--draws=100'`` as typed (the last one, which click
    takes), read as click reads them (:func:`given`: a value that looks like a flag,
    ``-v --draws``, is the other option's); ``'--draws VALUE'`` when the command was
    not read from a command line."""
    last = _last_given(flag)
    if last is not None:
        return repr(last[2])
    return repr(flag if value is None or value is True else f"{flag} {value}")


def flag_error(flag: str, expected: str, found: str) -> Exception:
    """The one-line error of a flag given without the flag it needs, or beside one it
    excludes: ``<command line>:1:1: FLAG: expected …, found …``."""
    from sim.errors import ScenarioError
    from sim.io.settings import COMMAND_LINE

    return ScenarioError(expected, found, file=COMMAND_LINE, path=flag)


def executor(workers: int | None, scheduler: str | None, draws: int | None = 1) -> Any:
    """The context manager giving the Dask executor of ``--workers``/``--scheduler``
    (None without them), checked before any work."""
    if workers is not None and scheduler is not None:
        raise flag_error(
            "--workers",
            "--workers N or --scheduler ADDRESS, not both (a local cluster, or a running one)",
            f"{written('--workers', workers)} and {written('--scheduler', scheduler)}",
        )
    if (workers is not None or scheduler is not None) and draws is None:
        flag, value = ("--workers", workers) if workers is not None else ("--scheduler", scheduler)
        raise flag_error(
            flag,
            f"--draws N and --seed S with {flag} (it runs an ensemble)",
            f"{written(flag, value)}, and no --draws",
        )
    if workers is not None:
        needs("distributed", "dask", "--workers", workers)
    elif scheduler is not None:
        needs("distributed", "dask", "--scheduler", scheduler)
    from sim.analysis.distributed import open_executor
    from sim.io.settings import COMMAND_LINE

    def waiting(message: str) -> None:  # (said at once: the run may wait a long time)
        click.echo(f"forcesim: {message}", err=True)

    return open_executor(workers, scheduler, waiting=waiting, origin=COMMAND_LINE)


def draws_and_seed(draws: int | None, seed: int | None, *, required: bool = False) -> None:
    """``--draws`` and ``--seed`` come together (and, when ``required``, at all)."""
    if draws is not None and seed is None:
        raise flag_error(
            "--draws",
            "--seed S with --draws N (the same seed gives the same output)",
            f"{written('--draws', draws)}, and no --seed",
        )
    if seed is not None and draws is None:
        raise flag_error(
            "--seed",
            "--draws N with --seed S (a seed alone runs nothing random)",
            f"{written('--seed', seed)}, and no --draws",
        )
    if required and draws is None:
        raise flag_error(
            "--draws", "--draws N and --seed S (this runs an ensemble)", "no --draws, no --seed"
        )


FORMATS = {"csv": ("csv",), "parquet": ("parquet",), "both": ("csv", "parquet")}


def needs(module: str, extra: str, flag: str, value: Any = True) -> None:
    """Fail before any work, as a one-line error at ``flag`` (given as ``value``), when
    an optional dependency is missing; ``flag`` is the command's name (``report``) for
    a command that needs it whatever its flags."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise flag_error(
            flag,
            f"{module} installed: pip install 'forcesim[{extra}]'",
            (f"{written(flag, value)}, and " if flag.startswith("-") else "")
            + f"no module {module}",
        )


def given(param: click.Parameter, command: click.Command) -> list[tuple[str, str | None, str]]:
    """Each time the command line gave the option ``param`` of ``command``: the name as
    written (``-o`` or ``--output``), the value as written (None for a flag) and the
    option as typed (``--draws=10``, ``--draws 10``, ``-ox.png``, ``-v A`` of ``-qv A``,
    ``--quiet``), in order, read as click reads them (nothing after ``--``)."""
    from sim.cli import _Forcesim

    options = {
        name: p
        for p in command.params
        if isinstance(p, click.Option)
        for name in (*p.opts, *p.secondary_opts)
    }
    args = _Forcesim.invoked
    found: list[tuple[str, str | None, str]] = []
    i = 0
    while i < len(args):
        arg, i = args[i], i + 1
        if arg == "--":
            break
        if arg.startswith("--"):
            name, eq, value = arg.partition("=")
            opt = options.get(name)
            if opt is None:
                continue
            typed = arg
            if not eq and not opt.is_flag:
                value, i = (args[i] if i < len(args) else ""), i + 1
                typed = f"{name} {value}"
            if opt is param:
                found.append((name, None if opt.is_flag else value, typed))
        elif arg.startswith("-") and len(arg) > 1:  # one or more short options
            for k in range(1, len(arg)):
                opt = options.get("-" + arg[k])
                if opt is None:
                    break
                value, typed = None, "-" + arg[k]
                if not opt.is_flag:
                    value, typed = arg[k + 1 :], "-" + arg[k:]
                    if not value:
                        value, i = (args[i] if i < len(args) else ""), i + 1
                        typed = f"-{arg[k]} {value}"
                if opt is param:
                    found.append(("-" + arg[k], value, typed))
                if value is not None:
                    break
    return found


def option_of(parameter: str) -> str | None:
    """The long name (``--variant``) of the running command's option whose value goes
    into the Python parameter ``parameter`` (``variants``), or None: no such option, or
    no command running. An error of the public API names the parameter it was given;
    the command line names the option the user typed instead."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    # (a command that takes one variant names its parameter ``variant``)
    for param in ctx.command.params:
        if isinstance(param, click.Option) and param.name in (parameter, parameter.rstrip("s")):
            return next((o for o in param.opts if o.startswith("--")), param.opts[0])
    return None


def quoted_from(found: str) -> str | None:
    """The option (its long name) or argument (``SCENARIO``) of the running command that
    gave the value an error quotes at the start of ``found`` (as :func:`sim.errors.describe`
    quotes it: ``'a\\nb.yaml': text of several lines``), or None. The API names its
    parameter, and some have no option of that name (``path``, of both ``load_scenario``
    and ``load_observations``): only the value tells which of the command's it was."""
    from sim.errors import describe

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        values = value if isinstance(value, tuple | list) else (value,)
        if any(isinstance(v, str) and found.startswith(describe(v, 40)) for v in values):
            if isinstance(param, click.Option):
                return next((o for o in param.opts if o.startswith("--")), param.opts[0])
            return (param.name or "").upper() or None
    return None


def first_argument() -> str | None:
    """The running command's first argument, as its usage names it (``RUN_DIR``), or
    None (none, or none given: ``forcesim run`` runs the default scenario)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    named = [p.name for p in ctx.command.params if isinstance(p, click.Argument) and p.name]
    if not named or ctx.params.get(named[0]) in (None, ()):
        return None
    return named[0].upper()


def refuse_repeated() -> None:
    """Refuse, in one line, an option of the running command that takes one value given
    twice with values that differ as the option reads them (``--seed 1 --seed 2``; not
    ``--seed 1 --seed=1``, nor ``--tolerance 5% --tolerance '5 %'``): click keeps the
    last, and the first would be dropped without a word. Options that gather values
    (``--variant``, ``--set``) and flags may repeat."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return

    def read(param: click.Option, value: str | None) -> Any:
        try:  # (as the option reads it: its type's value; the text where it has none)
            typed = param.type_cast_value(ctx, value)
            if isinstance(param.type, click.Path) and isinstance(typed, str):
                return repr(PurePath(typed))  # (d, d/ and ./d name one folder)
            return repr(typed)
        except (click.BadParameter, ValueError, TypeError):
            return repr(value)

    for param in ctx.command.params:
        if not isinstance(param, click.Option) or param.multiple or param.count:
            continue
        if param.is_flag:
            continue
        seen = given(param, ctx.command)
        if len({read(param, value) for _, value, _ in seen}) > 1:
            name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
            raise flag_error(
                name,
                f"{name} once (given twice, only the last would count)",
                ", then ".join(repr(typed) for _, _, typed in seen),
            )


def given_flag(flag: str | None) -> bool:
    """Whether the command line gave the option ``flag`` (its long name) at all."""
    return flag is not None and _last_given(flag) is not None


def as_written(flag: str) -> tuple[str, str | None]:
    """The option ``flag`` (its long name) of the running command as the command line
    last gave it: its name as written (``-v`` or ``--variant``) and its value as
    written; ``(flag, None)`` when it was not given (or is no option of the command)."""
    last = _last_given(flag)
    return (last[0], last[1]) if last is not None else (flag, None)


def _last_given(flag: str) -> tuple[str, str | None, str] | None:
    """The last time the command line gave the option ``flag`` of the running command
    (:func:`given`: the one click reads), or None: not given, no such option, or no
    command running."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    for param in ctx.command.params:
        if isinstance(param, click.Option) and flag in param.opts + param.secondary_opts:
            occurrences = given(param, ctx.command)
            return occurrences[-1] if occurrences else None
    return None


class UnknownCommand(click.UsageError):
    """A first word that is no command of forcesim, its line already located."""


def _close(typed: str, option: str) -> bool:
    """Whether ``typed`` is likely a slip for ``option``: one begins the other
    (``--out``, ``--output``), or they match in at least 80 % of their characters
    (:class:`difflib.SequenceMatcher`'s ratio: ``--drawz``, ``--draws``)."""
    import difflib

    if option.startswith(typed) or typed.startswith(option):
        return True
    return difflib.SequenceMatcher(None, typed, option).ratio() >= 0.8


def _commands_with(ctx: click.Context | None, option: str) -> list[str]:
    """The names of the other forcesim commands that take ``option`` (``--chart``:
    ``plot``)."""
    if ctx is None or ctx.parent is None:
        return []
    group = ctx.find_root().command
    commands = getattr(group, "commands", {})
    return [
        name
        for name, cmd in sorted(commands.items())
        if cmd is not ctx.command
        and any(
            isinstance(p, click.Option) and option in p.opts + p.secondary_opts for p in cmd.params
        )
    ]


def usage_error(exc: click.UsageError) -> str:
    """The one line of a command line click could not take apart, located as every
    other error is: ``<command line>:1:1: KEY: expected …, found …``. KEY is the option
    as written (``--drawz``, did-you-mean and all), the argument left out (``FILES``),
    or the first word too many; the expected part names the command's usage."""
    from sim.errors import printable  # (a key typed with ESC in it would reach the terminal)

    if isinstance(exc, UnknownCommand):
        return exc.message
    ctx = exc.ctx
    command = ctx.command_path if ctx is not None else "forcesim"
    usage = ctx.command.get_usage(ctx).removeprefix("Usage: ") if ctx is not None else command
    at = "<command line>:1:1"
    if isinstance(exc, click.NoSuchOption):
        near = list(exc.possibilities or ())
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        others = _commands_with(ctx, exc.option_name)
        if others and ctx is not None:  # another command's option: said so
            where = others[0] if len(others) == 1 else ", ".join(others[:-1]) + " and " + others[-1]
            said = f"{exc.option_name} is an option of {ctx.find_root().command_path} {where}"
            # (beside a near spelling of this command's own, --out for --output; not
            # beside a far one, --variant for --chart)
            close = near and _close(exc.option_name, near[0])
            hint = f" (did you mean {near[0]!r}? {said})" if close else f" ({said})"
        return (
            f"{at}: {printable(exc.option_name)}: expected an option of {command} "
            f"({command} --help lists them){hint}, found {exc.option_name!r}"
        )
    if isinstance(exc, click.BadOptionUsage):
        name = printable(exc.option_name)
        if "does not take a value" in exc.message:
            return f"{at}: {name}: expected {name} alone (a switch takes no value), found a value"
        return f"{at}: {name}: expected a value after {name}, found none"
    if isinstance(exc, click.MissingParameter) and exc.param is not None:
        param = exc.param
        name = param.opts[0] if isinstance(param, click.Option) else param.name.upper()
        return f"{at}: {name}: expected a value for {name} ({usage}), found none"
    extra = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", exc.message)
    if extra:  # (click joins the words too many with spaces: one may hold a space)
        words = extra.group(1)
        return f"{at}: {printable(words)}: expected no more arguments ({usage}), found {words!r}"
    return f"{at}: {command}: {exc.format_message()}"


def value_error(exc: click.BadParameter) -> str:
    """The one line of a value click refused (``exc``, from an option type above):
    ``<command line>:1:1: FLAG: expected …, found '…'``, FLAG as the command line wrote
    it (``-o`` or ``--output``: the last one given, the one click reads), or the name
    of an argument (``SCENARIO``)."""
    from sim.io.settings import COMMAND_LINE

    param, ctx = exc.param, exc.ctx
    assert param is not None
    name = param.human_readable_name
    if isinstance(param, click.Option):
        name = max(param.opts, key=len)
        if ctx is not None:
            occurrences = given(param, ctx.command)
            name = occurrences[-1][0] if occurrences else name
    return f"{COMMAND_LINE}:1:1: {name}: {exc.message}"
