"""What every chart shares: size, palette, axes style, the footnote, saving.

The library never changes matplotlib's backend: figures are made with pyplot,
so that a notebook shows them, and the command line picks Agg for itself
(:func:`use_agg`).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import sys
import textwrap
import warnings
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import pandas as pd

from sim import colors
from sim.colors import legible as colors_legible
from sim.errors import ForcesimWarning
from sim.months import format_month, spell_date, spell_day
from sim.provenance import assumption_count, number_sources
from sim.results import Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sim.model.plan import Plan

WIDTH_IN, HEIGHT_IN, DPI = 16.0, 10.0, 100  # 1600 x 1000 px

#: the body-text size [pt] a figure of forcesim's own is designed around
DESIGN_PT = 12.5
# how the chart now being drawn sizes its text: 1 in a figure of forcesim's own;
# into axes given, the caller's font.size over DESIGN_PT (see into_axes)
_TEXT_SCALE: contextvars.ContextVar[float] = contextvars.ContextVar("text_scale", default=1.0)
_OWN: contextvars.ContextVar[bool] = contextvars.ContextVar("own_figure", default=True)


@contextlib.contextmanager
def into_axes(own: bool) -> Iterator[None]:
    """Draw a chart in a figure of forcesim's own (``own``: every size as designed,
    for a 16-inch-wide figure) or into axes a caller gave: then text follows the
    caller's matplotlib ``font.size`` (each size scaled by ``font.size / DESIGN_PT``,
    so 15 pt titles become 12 pt at matplotlib's default 10 pt), date ticks thin out to
    fit the axes' width, and nothing is drawn outside the axes but their title and
    the labels above the deadlines (no names at the lines' ends: ``ax.legend()`` gives
    them), so that a layout engine sizes the caller's axes alone."""
    import matplotlib as mpl

    scale = 1.0 if own else float(mpl.rcParams["font.size"]) / DESIGN_PT
    tokens = (_TEXT_SCALE.set(scale), _OWN.set(own))
    try:
        yield
    finally:
        _OWN.reset(tokens[1])
        _TEXT_SCALE.reset(tokens[0])


#: the figures forcesim made for a chart of its own (see :func:`made_here`)
_MADE: weakref.WeakSet[Any] = weakref.WeakSet()


def made_here(fig: Any) -> Any:
    """Record ``fig`` as a figure of forcesim's own, so that a function labelling its
    axes afterwards (:func:`sim.plotting.mark_conditioned`) sizes text as designed
    there, and as :func:`into_axes` says in axes a caller made; returns ``fig``."""
    _MADE.add(fig)
    return fig


def _drawable(axes: Any) -> None:
    """Give the figure of a caller's ``axes`` (one Axes, or a list or array of them) a
    canvas that can measure text where it has the bare one: a figure made with
    ``matplotlib.figure.Figure()``, or one ``plt.close`` closed, has it, and the labels'
    placing stopped with an internal AttributeError there, as on the pdf, svg and ps
    backends' canvases. A canvas that measures text (Agg's, and every interactive
    backend's, built on it) is left as it is, with its window."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for ax in _each_axes(axes):
        fig = ax.get_figure(root=True)
        # (the bare canvas, or a non-interactive backend's that measures no text:
        # pdf, svg, ps; an interactive one is Agg's and keeps its window)
        if fig is not None and not hasattr(fig.canvas, "get_renderer"):
            FigureCanvasAgg(fig)  # (it makes itself the figure's canvas)


#: the ``gid`` of the hidden mark a chart function leaves in each panel it drew,
#: so that a second chart is not drawn over it (``ax.cla()`` takes it away)
CHART_GID = "forcesim-chart"


def _each_axes(axes: Any) -> list[Any]:
    """``axes`` (one Axes, or a list or array of them) as a flat list of Axes."""
    from matplotlib.axes import Axes

    many = axes if isinstance(axes, Sequence | np.ndarray) else [axes]
    return [a for a in np.ravel(np.asarray(many, dtype=object)) if isinstance(a, Axes)]


def _mark_drawn(axes: Any) -> None:
    """Leave :data:`CHART_GID`'s mark in each panel of a chart just drawn: a bare artist,
    hidden and out of the layout (not a line: ``ax.lines[-1]`` stays the chart's)."""
    from matplotlib.artist import Artist

    for ax in _each_axes(axes):
        if not any(a.get_gid() == CHART_GID for a in ax.get_children()):
            mark = Artist()
            mark.set_visible(False)
            mark.set_in_layout(False)
            mark.set_gid(CHART_GID)
            ax.add_artist(mark)


def _refuse_drawn(axes: Any, function: str) -> None:
    """Refuse axes a chart function drew into already: the second chart's titles,
    labels and lines lay over the first's.

    Raises
    ------
    ValueError
        Naming the function and how to go on."""
    if any(any(a.get_gid() == CHART_GID for a in ax.get_children()) for ax in _each_axes(axes)):
        raise ValueError(
            f"{function}() expected axes holding no chart of forcesim's yet (give new axes, "
            "or clear them first with ax.cla()), found axes a chart was drawn into"
        )


def _in_own_figure(axes: Any) -> bool:
    first = axes[0] if isinstance(axes, Sequence | np.ndarray) else axes
    return first is not None and first.get_figure(root=True) in _MADE


def pt(size: float) -> float:
    """A font size [pt] as drawn: ``size`` in a figure of forcesim's own, scaled to the
    caller's text into axes given (:func:`into_axes`)."""
    return size * _TEXT_SCALE.get()


DEADLINE_LABEL_GID = "deadline-label"
"""The ``gid`` of a deadline's label, so a later label can keep clear of it."""

AS_OF_LABEL_GID = "as-of-label"
"""The ``gid`` of the as-of line's label."""


def own_figure() -> bool:
    """Whether the chart now being drawn is in a figure of forcesim's own."""
    return _OWN.get()


F = TypeVar("F", bound=Callable[..., Any])


def expect(value: object, kind: type, function: str, made_by: str) -> None:
    """Refuse a chart function's data that is not a ``kind`` (a Result where a Comparison
    is drawn failed deep inside with an AttributeError).

    Raises
    ------
    TypeError
        Naming ``function``, what it draws and where that comes from (``made_by``)."""
    if not isinstance(value, kind):
        raise TypeError(
            f"{function}() takes a {kind.__name__} (from {made_by}), not {type(value).__name__}"
        )


def plain_text(func: F) -> F:
    """Make a chart function draw every text as written: matplotlib would read
    ``$...$`` in a title or a variant's description as TeX math (or hand it to LaTeX
    when ``text.usetex`` is set). Each text of the returned axes' figure is marked
    plain after drawing (an ``rc_context`` around the drawing would also reset
    IPython's interactive mode, and a notebook would show no chart). A function with
    an ``ax`` parameter draws into the axes given as :func:`into_axes` says; one with
    an ``axes`` parameter (it labels a chart already drawn) does so unless those axes
    are in a figure forcesim made (:func:`made_here`)."""
    import inspect

    signature = inspect.signature(func)
    takes_ax, takes_axes = "ax" in signature.parameters, "axes" in signature.parameters

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs).arguments
        except TypeError as exc:  # (inspect's words, naming no function)
            raise TypeError(_arguments_refused(func.__name__, signature, kwargs, exc)) from None
        if takes_ax:
            given = bound.get("ax") is not None
        else:
            given = takes_axes and not _in_own_figure(bound.get("axes"))
        if given:
            _drawable(bound.get("ax") if takes_ax else bound.get("axes"))
        if given and takes_ax:
            _refuse_drawn(bound.get("ax"), func.__name__)
        with glyphs_gathered(), into_axes(not given), _no_math():
            axes = func(*args, **kwargs)
        as_written(axes)
        if takes_ax:
            _mark_drawn(axes)
        return axes

    return cast(F, wrapper)


@contextlib.contextmanager
def _no_math() -> Iterator[None]:
    """Make every text created while a chart is drawn plain from the start: the texts a
    chart measures as it lays itself out (a title fitted to the width, labels kept
    apart) were parsed as TeX math when measured, and a scenario's title written
    ``$\\frac{1}$`` stopped the run with matplotlib's parse error. Only this setting is
    set and put back (an ``rc_context`` would reset IPython's interactive mode too)."""
    import matplotlib as mpl

    before = mpl.rcParams["text.parse_math"]
    mpl.rcParams["text.parse_math"] = False
    try:
        yield
    finally:
        mpl.rcParams["text.parse_math"] = before


def _arguments_refused(name: str, signature: Any, kwargs: dict[str, Any], exc: Exception) -> str:
    """The refusal of arguments a chart function does not take: its name, the option
    not taken with the nearest it does take (``theater``: ``theaters``), and its
    options; else inspect's own words, after the function's name."""
    from sim.errors import nearest

    takes = list(signature.parameters)[1:]  # (the first is the data drawn)
    unknown = [k for k in kwargs if k not in signature.parameters]
    if not unknown:
        return f"{name}(): {exc}"
    near = nearest(unknown[0], takes)
    hint = f" (did you mean {near!r}?)" if near else ""
    return f"{name}() takes the options {', '.join(takes)}, not {unknown[0]!r}{hint}"


def as_written(axes: Any) -> None:
    """Mark every text of the figure holding ``axes`` to be drawn as written (a tab, which
    no font draws, as a space: matplotlib warned of a missing glyph)."""
    from matplotlib.text import Text

    first = axes[0] if isinstance(axes, Sequence | np.ndarray) else axes
    fig = first.get_figure(root=True) if first is not None else None
    if fig is None:
        return
    for text in fig.findobj(Text):
        text.set_parse_math(False)
        text.set_usetex(False)
        if "\t" in text.get_text():
            text.set_text(text.get_text().replace("\t", " "))


#: lines one panel holds, each in its own colour: more cannot be told apart
MAX_LINES = len(colors.PALETTE)
#: panels one fan chart holds (theaters x variants): more make a poster, not a chart
MAX_FAN_PANELS = 32
#: theaters stacked on one envelope or comparison chart
MAX_THEATERS = 12
#: how a reader picks what a crowded chart leaves out
CHOOSE = "choose with forcesim plot RUN --variant NAME (variants=[...] in Python)"
#: how a reader picks the panels of a crowded chart
CHOOSE_PANELS = "forcesim plot RUN --theater ID (theaters=[...] in Python)"


class CrowdedChart(ForcesimWarning):
    """A chart left something out, because drawing it all would make a picture no
    reader can take in; the message says what, and how to choose."""


class MissingGlyphs(ForcesimWarning):
    """Some characters of the scenario's text (an emoji in a title, say) are in no font
    the charts draw with: each shows as an empty box in the PNG, PDF or SVG. The
    tables and the page keep them."""


#: matplotlib's warning of a character its font lacks: the character's code point and
#: the font's name
_GLYPH = re.compile(r"Glyph (\d+) \(.*?\) missing from font\(s\) (.+?)\.?$", re.S)


@contextlib.contextmanager
def glyphs_gathered() -> Iterator[None]:
    """Gather matplotlib's warnings of characters missing from its font, given while
    drawing or saving a chart (one per character and text drawn), into one
    :class:`MissingGlyphs` warning naming each character once; any other warning is
    given again as it was."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    missing: dict[int, str] = {}
    for w in caught:
        m = _GLYPH.match(str(w.message)) if issubclass(w.category, UserWarning) else None
        if m is None:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        else:
            missing.setdefault(int(m.group(1)), m.group(2))
    if missing:
        import unicodedata

        named = ", ".join(
            f"{chr(c)} (U+{c:04X} {unicodedata.name(chr(c), 'unnamed')})" for c in sorted(missing)
        )
        fonts = " or ".join(dict.fromkeys(missing.values()))
        warnings.warn(
            MissingGlyphs(
                f"the charts cannot draw {named}: no font they use ({fonts}) has it, so it "
                "shows as an empty box there; the tables and the page keep it"
            ),
            stacklevel=3,
        )


def warn_crowded(chart: str, note: str) -> None:
    """Give the note a crowded chart carries as a warning too (for whoever draws it)."""
    # (the note is a sentence on the chart; after a colon it goes on in lower case)
    word = note.split(" ", 1)[0]
    said = note[:1].lower() + note[1:] if word[1:] == word[1:].lower() else note
    warnings.warn(CrowdedChart(f"the {chart} chart: {said}"), stacklevel=4)


def crowded_variants(n_variants: int) -> str | None:
    """The envelope's note when it has more variants than lines a reader can tell
    apart (:data:`MAX_LINES`), else None."""
    if n_variants <= MAX_LINES:
        return None
    return (
        f"{n_variants} variants are more lines than a reader can tell apart: the first "
        f"{MAX_LINES} are drawn, the shading spans all {n_variants}; {CHOOSE}."
    )


def fan_selection(
    theaters: list[str],
    variants: list[str],
    *,
    most: int = MAX_FAN_PANELS,
    choose: tuple[str, str] = (CHOOSE, CHOOSE_PANELS),
) -> tuple[list[str], list[str], str | None]:
    """The theaters (or sites, ``THEATER/SITE``) and variants a new fan chart draws (at
    most ``most`` panels, theaters first) and the note that says what was left out, or
    None; ``choose``: how a reader picks other variants, and fewer panels."""
    names, chosen = theaters[:most], variants
    if len(names) * len(chosen) > most:
        chosen = variants[: max(1, most // len(names))]
    if (len(names), len(chosen)) == (len(theaters), len(variants)):
        return names, chosen, None
    sites = any("/" in t for t in theaters)
    what = "theaters and sites" if sites else "theaters"
    left = []
    if len(chosen) < len(variants):
        left.append(f"the first {len(chosen)} of {len(variants)} variants")
    if len(names) < len(theaters):
        left.append(f"the first {len(names)} of {len(theaters)} {what}")
    return (
        names,
        chosen,
        f"A panel per {'theater or site' if sites else 'theater'} and variant would make "
        f"{len(theaters) * len(variants)} panels: this chart shows {' and '.join(left)}; "
        f"{choose[0]}, or fewer panels with {choose[1]}.",
    )


def theater_selection(
    theaters: list[str],
    choose: str = f"choose with {CHOOSE_PANELS}",
    *,
    chart: str | None = None,
    most: int = MAX_THEATERS,
) -> tuple[list[str], str | None]:
    """The theaters a new envelope, comparison, backtest or vintages chart stacks (at
    most ``most``) and the note that says what was left out (ending in ``choose``: how
    a reader picks others), or None; with ``chart`` (its name), a :class:`CrowdedChart`
    warning says the note too."""
    if len(theaters) <= most:
        return theaters, None
    what = "theaters and sites" if any("/" in t for t in theaters) else "theaters"
    note = f"{len(theaters)} {what}: this chart shows the first {most}; {choose}."
    if chart is not None:
        warn_crowded(chart, note)
    return theaters[:most], note


def crowding(result: Result) -> dict[str, str]:
    """For the charts ``forcesim run`` draws of ``result``: chart name -> what it
    leaves out and how to choose (only the charts that leave something out)."""
    notes: dict[str, str] = {}
    envelope = [
        n
        for n in (
            crowded_variants(len(result.variants)),
            theater_selection(theater_list(result, None, sites=True))[1],
        )
        if n
    ]
    if envelope:
        notes["envelope"] = " ".join(envelope)
    if result.bands is not None:
        note = fan_selection(fan_series(result), list(result.variants))[2]
        if note:
            notes["fan"] = note
    return notes


def pyplot() -> Any:
    """matplotlib's pyplot, with whatever backend the caller chose (Agg, when
    :func:`use_agg` was called before matplotlib was imported)."""
    if _agg_pending:
        _set_agg()
    import matplotlib.pyplot as plt

    return plt


#: :func:`use_agg` was called before matplotlib was imported: Agg is chosen when
#: :func:`pyplot` first imports it (every chart of this package is drawn through it)
_agg_pending = False


def _set_agg() -> None:
    global _agg_pending
    import matplotlib

    matplotlib.use("Agg")
    _agg_pending = False


def use_agg() -> None:
    """Draw off screen (the command line's choice; a library never makes it).

    Where matplotlib is not imported yet, the choice waits for the first chart
    (:func:`pyplot`), so that matplotlib is not imported while a run counts its draws:
    14 to 29 MB. Nothing is set for other processes (no ``MPLBACKEND``)."""
    global _agg_pending
    if "matplotlib" in sys.modules:
        _set_agg()
    else:
        _agg_pending = True


#: the envelope's margins and the least height of one theater's panel [inches]
ENVELOPE_TOP_IN, ENVELOPE_BOTTOM_IN, ENVELOPE_PANEL_IN = 1.2, 1.4, 2.9


def envelope_height(n_theaters: int) -> float:
    """The envelope figure's height [inches]: 10, taller when the theaters' panels
    would be under :data:`ENVELOPE_PANEL_IN` each."""
    return max(HEIGHT_IN, ENVELOPE_TOP_IN + ENVELOPE_BOTTOM_IN + ENVELOPE_PANEL_IN * n_theaters)


def check_given(ax: Any) -> list[Axes]:
    """The caller's axes as a list (one axes, a sequence, or an array from
    ``plt.subplots`` read row by row), each one a chart of months against troops can be
    drawn in: plain (rectilinear) axes with a linear y-axis.

    Raises
    ------
    ValueError
        For what is not matplotlib axes (a theater's name given in ``ax``'s place),
        polar, 3-D or other projections, or a log (or other) y scale, whose troop
        levels of 0 it could not show.
    """
    from matplotlib.axes import Axes  # (lazily: importing the package draws nothing)

    axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
    for a in axes:
        if not isinstance(a, Axes):  # (a theater's name in ax's place, say)
            shown = repr(str(a)) if isinstance(a, str) else type(a).__name__
            hint = " (theaters are given as theaters=[...])" if isinstance(a, str) else ""
            raise ValueError(
                f"ax: expected matplotlib axes (from plt.subplots), found {shown}{hint}"
            )
        name = getattr(a, "name", None)
        if name != "rectilinear":
            raise ValueError(
                f"expected plain (rectilinear) axes, found {name or type(a).__name__!r} axes"
            )
        if a.get_yscale() != "linear":
            raise ValueError(
                f"expected axes with a linear y-axis (levels reach 0 troops), found a "
                f"{a.get_yscale()!r} y-axis"
            )
    return axes


def axes_for(result: Result, theaters: Sequence[str], ax: Any) -> tuple[Figure | None, list[Axes]]:
    plt = pyplot()
    if ax is None:
        fig, axes = plt.subplots(
            len(theaters),
            1,
            figsize=(WIDTH_IN, envelope_height(len(theaters))),
            dpi=DPI,
            sharex=True,
            squeeze=False,
        )
        return fig, list(axes[:, 0])
    axes = check_given(ax)
    if len(axes) != len(theaters):
        raise ValueError(
            f"expected {len(theaters)} axes (one per theater: "
            f"{', '.join(theaters)}), found {len(axes)}"
        )
    return None, axes


def month_ends(months: pd.Series | pd.PeriodIndex) -> np.ndarray:
    """Month periods → datetimes at the end of each month (the level's moment)."""
    idx = pd.PeriodIndex(months, freq="M")
    return idx.to_timestamp(how="end").normalize().to_numpy()


def series_keys(result: Result) -> list[str]:
    """Every series of ``result``: each theater, followed by its sites
    (``THEATER/SITE``) when it is made of sites."""
    return theaters_then_sites(result.theaters, distinct_names(result.monthly.theater))


def distinct_names(column: pd.Series) -> list[str]:
    """The distinct names of a column of theater (or variant) ids, as text, in the
    order they first come; each row looked at in C, not one at a time."""
    return [str(n) for n in pd.unique(column.dropna())]


def plan_series(result: Result, variants: Collection[str] | None = None) -> list[str]:
    """Every theater and site of a run (of its ``variants``, when given), from its
    plans, as :func:`series_keys` orders them (each theater, then its sites): the same
    whether its levels were read whole or only some of their rows."""
    plans = [p for v, p in result.plans.items() if variants is None or v in variants]
    keys = (k for plan in plans for k in plan.series_names())
    return theaters_then_sites(result.theaters, keys)


def theaters_then_sites(theaters: Iterable[str], series: Iterable[str]) -> list[str]:
    """Each of ``theaters`` in turn, followed by the sites of it (``THEATER/SITE``) among
    ``series``, in the order they first come there: how every chart, table and page
    orders a run's theaters and sites."""
    sites = list(dict.fromkeys(k for k in series if "/" in k))
    out: list[str] = []
    for tid in theaters:
        out += [tid, *(k for k in sites if k.startswith(f"{tid}/"))]
    return out


def fan_series(result: Result) -> list[str]:
    """The series a fan chart of ``result`` draws by default: each theater, followed by
    those of its sites (``THEATER/SITE``) that ``result.bands`` holds."""
    have = set() if result.bands is None else set(distinct_names(result.bands.theater))
    return [k for k in series_keys(result) if "/" not in k or k in have]


def theater_list(
    result: Result, theaters: Sequence[str] | str | None, *, sites: bool = False
) -> list[str]:
    """The series to draw: those asked for (checked, each once, in the order given; a
    theater or a site, ``THEATER/SITE``), else every theater, and with ``sites`` each
    theater's sites after it."""
    known = series_keys(result)
    names = names_given(theaters)
    if not names:
        return known if sites else list(result.theaters)
    unknown = [t for t in names if t not in known]
    if unknown:
        raise ValueError(
            f"expected theaters among {', '.join(known)}, found {', '.join(map(str, unknown))}"
        )
    return names


def names_given(names: Sequence[str] | str | None) -> list[Any]:
    """The names a chart was asked for, each once in the order given: one name (not its
    letters), or any iterable of them (a list, an array, a pandas Series); none for None.
    The caller checks each against what it knows (a name that is not text is unknown).

    Raises
    ------
    ValueError
        For something that is neither a name nor an iterable of names (``5``), or a
        set of names (no order)."""
    if names is None:
        return []
    if isinstance(names, bytes | bytearray) or (
        not isinstance(names, str) and not hasattr(names, "__iter__")
    ):
        # ('int' object is not iterable, from deep inside; b"iraq" read as 105, 114, ...)
        raise ValueError(f"expected a name or a list of names, found {names!r}")
    if isinstance(names, set | frozenset):  # (the panels' order would follow the hash seed)
        raise ValueError(
            "expected a name or a list of names (a set has no order: a list says which "
            f"comes first), found a set, {sorted(map(str, names))!r}"
        )
    given = [names] if isinstance(names, str) else list(names)
    return [n for i, n in enumerate(given) if n not in given[:i]]


def theater_title(result: Result, tid: str) -> str:
    """A series' name: the theater's, or for a site ``Erbil (Iraq)`` (:func:`_site_title`);
    as the base scenario names it, or else the first variant of the result that has it
    (a theater or site a variant adds)."""
    theater, _, site = tid.partition("/")
    docs = [result.scenario.doc]
    docs += [
        result.scenario.resolved(v) for v in result.variants if v in result.scenario.doc.variants
    ]
    for doc in docs:
        t = doc.theaters.get(theater)
        if t is None or (site and site not in t.sites):
            continue
        if not site:
            return t.name or tid.title()
        return _site_title(t.sites[site].name or site.title(), theater_title(result, theater))
    if site and any(theater in doc.theaters for doc in docs):
        return _site_title(site.title(), theater_title(result, theater))
    return tid


def _site_title(site: str, theater: str) -> str:
    """``Erbil (Iraq)``; a site name that ends in brackets of its own takes the theater
    after a comma: ``Ain al-Asad (al-Anbar), Iraq``, not ``… (al-Anbar) (Iraq)``."""
    return f"{site}, {theater}" if site.endswith(")") else f"{site} ({theater})"


#: what a dotted vertical is, in every chart's key: a deadline as the plan dates it
DEADLINE_KEY = "deadline before any delay"


def panel_deadlines(plan: Any, tid: str) -> dict[int, list[str]]:
    """The dated deadlines of ``plan`` on a panel (:func:`sim.model.rules.dated_deadlines`:
    before any delay; written as a month, or after another milestone that is): month
    index -> the milestones due then, in file order. On a theater's panel those of the
    theater and its sites, on a site's (``tid`` ``theater/site``) its own."""
    out: dict[int, list[str]] = {}
    for mid, month in _on_panel(plan, tid).items():
        if month is not None:
            out.setdefault(month - plan.start, []).append(mid)
    return out


def _on_panel(plan: Any, tid: str) -> dict[str, int | None]:
    """Each milestone on a panel (:func:`panel_deadlines`) -> the month ordinal of its
    dated deadline, or None where it has none."""
    from sim.model.rules import dated_deadlines

    out: dict[str, int | None] = {}
    for m, month in zip(plan.milestones, dated_deadlines(plan), strict=True):
        track = plan.tracks[m.track]
        if tid in (track.key, track.theater):
            out[m.id] = None if month is None else plan.start + month
    return out


def base_deadlines(result: Result, tid: str) -> list[str]:
    """The deadlines the envelope draws on a panel, ``YYYY-MM``, in month order: the
    base scenario's dated deadlines (:func:`panel_deadlines`), as the file states them,
    the same for every variant drawn (a variant that moves one shows its own at its
    target mark). Where the run set a milestone's value on top of every variant
    (``--set milestones.…``, :meth:`sim.Scenario.with_settings`), each milestone that
    every variant drawn dates alike is drawn at that date instead."""
    months = _on_panel(_base_plan(result.scenario.doc), tid)
    if any(str(key).split(".")[0] == "milestones" for key, _ in result.scenario.settings):
        runs = [_on_panel(result.plans[v], tid) for v in result.variants if v in result.plans]
        for mid in dict.fromkeys(mid for run in runs for mid in run):
            agreed = {run.get(mid, -1) for run in runs}  # (-1: a variant without it)
            if len(agreed) == 1 and -1 not in agreed:
                months[mid] = agreed.pop()
    return [format_month(m) for m in sorted({m for m in months.values() if m is not None})]


#: the last scenario document :func:`_base_plan` compiled, and its plan: a chart asks
#: for each of its panels in turn
_BASE_PLAN: list[Any] = [None, None]


def _base_plan(doc: Any) -> Any:
    """The plan of a scenario's base document (compiled once for its panels)."""
    if _BASE_PLAN[0] is not doc:
        from sim.model.plan import compile_plan

        _BASE_PLAN[:] = [doc, compile_plan(doc)]
    return _BASE_PLAN[1]


def legend_entries(axes: Sequence[Axes]) -> tuple[list[Any], list[str]]:
    """Every labelled artist of every panel, each label once, in drawing order."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    return handles, labels


def panel_note(
    ax: Axes, text: str, *, y: float = 0.5, size: float, color: str = "#333333", **extra: Any
) -> Any:
    """A note centred across a panel at height ``y`` (axes fraction) in place of what the
    panel cannot show ("no difference in any of the draws")."""
    extra.setdefault("va", "center")
    return ax.text(
        0.5, y, text, transform=ax.transAxes, ha="center", fontsize=size, color=color, **extra
    )


def axes_points(ax: Axes) -> tuple[float, float]:
    """The axes' width and height as laid out now [pt] (its bounding box, which is the
    true size inside a subfigure too)."""
    fig = ax.get_figure(root=True)
    dpi = fig.dpi if fig is not None else 72.0
    return ax.bbox.width * 72 / dpi, ax.bbox.height * 72 / dpi


def label_room(ax: Axes, row: float) -> int | None:
    """How many rows of labels ``row`` pt apart the top of the caller's axes has room
    for (two fifths of their height, one at least); None, no limit, in a figure of
    forcesim's own."""
    if own_figure():
        return None
    return max(1, int(0.4 * axes_points(ax)[1] / row))


def style_axes(ax: Axes, title: str) -> None:
    size = pt(15)
    if not own_figure() and title:  # no wider than the caller's axes (to 60 % of the size)
        fits = 0.95 * axes_points(ax)[0] / (0.62 * len(title))
        size = max(min(size, fits), 0.6 * size)
    ax.set_title(title, loc="left", fontsize=size, fontweight="bold")
    ax.set_ylabel("troops", fontsize=pt(12))
    troops_axis(ax.yaxis)
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd", lw=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    date_axis(ax)
    ax.tick_params(labelsize=pt(11))


#: from this many troops up, an axis's ticks read in millions ("2.5M"): "10,000,000"
#: is wider than the room left of the panels
MILLIONS = 1_000_000


def troops_text(value: float, *, millions: bool = False, sign: bool = False) -> str:
    """A number of troops as a tick reads it, exactly: ``1,250`` (with thousands
    separators), ``2.5`` (a tick between whole troops keeps its digits, to 12
    significant: a step's float error dropped), ``2.5M``
    (``millions``, for a whole number: the value over 10^6, every digit kept);
    ``sign`` puts ``+`` or ``−`` before any value but 0."""
    millions = millions and value != 0 and float(value).is_integer()
    size = abs(value) / MILLIONS if millions else abs(value)
    if not float(size).is_integer():
        # to 12 significant digits: a locator's tick is a multiple of its step, and 3 x
        # 0.1 is 0.30000000000000004 (n / 10^6 for n whole below 10^12 keeps them all)
        size = float(f"{size:.12g}")
    # (a whole number of millions, or else the shortest decimal of the float, which for
    # n / 10^6 with n whole is n / 10^6 written out)
    text = f"{size:,.0f}" if float(size).is_integer() else f"{size:,}"
    text += "M" if millions else ""
    if value < 0:
        return f"−{text}"
    return f"+{text}" if sign and value > 0 else text


def troops_axis(
    axis: Any, *, sign: bool = False, negative: bool = True, whole: bool = True
) -> None:
    """Ticks of troops on ``axis`` (a matplotlib ``XAxis`` or ``YAxis``): at steps of
    1, 2, 2.5, 5 or 10 times a power of ten, as matplotlib's default locator, and at
    whole numbers only unless ``whole`` is False (a mean may fall between); labelled
    by :func:`troops_text`, in millions on an axis with a tick of a million troops or
    more, ``+``/``−`` with ``sign``, and no label below 0 with ``negative`` False
    (room kept there for other labels)."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 2.5, 5, 10], integer=whole))
    axis.set_major_formatter(_troops_formatter()(sign=sign, negative=negative))


@functools.cache
def _troops_formatter() -> Any:
    from matplotlib.ticker import Formatter

    class TroopsFormatter(Formatter):  # type: ignore[misc]
        """Tick labels of :func:`troops_text`, all in millions when any tick shown is
        a million troops or more (decided for the ticks together)."""

        def __init__(self, *, sign: bool, negative: bool) -> None:
            self.sign, self.negative, self.millions = sign, negative, False

        def set_locs(self, locs: Any) -> None:
            super().set_locs(locs)
            low, high = sorted(self.axis.get_view_interval()) if self.axis else (-1e300, 1e300)
            shown = [abs(v) for v in locs if low <= v <= high]
            self.millions = max(shown, default=0) >= MILLIONS

        def __call__(self, x: float, pos: int | None = None) -> str:
            if x < 0 and not self.negative:
                return ""
            return troops_text(x, millions=self.millions, sign=self.sign)

    return TroopsFormatter


def date_axis(ax: Axes) -> None:
    """Month-and-year ticks every January and July, or every one, two or five years
    when the span is too long for half-years to fit (more than about four years); in a
    figure of forcesim's own, a short span (under about two and a half years) gets a
    tick every month, second or third month, the shortest step giving at most 8; a span
    holding fewer than three firsts of a month, ticks on the 1st and 15th, named with
    their day ("15 Feb / 2024")."""
    import matplotlib.dates as mdates

    if own_figure():
        locator = _fitting_date_locator()(None, minticks=3, maxticks=9)
        # every month, second, third or sixth (Jan and Jul), the shortest step that
        # gives at most 8 ticks: a one-year span had two (Jul and Jan) with sixths alone
        locator.intervald[mdates.MONTHLY] = [1, 2, 3, 6]
        locator.maxticks[mdates.MONTHLY] = 8
    else:  # the caller's axes may be narrow: no more labels than fit
        locator = _fitting_date_locator()(pt(11), minticks=3, maxticks=9)
        # Jan and Jul, else each Jan (every other Jan in a span under three years,
        # where year ticks are not tried): with [6] alone, a narrow panel of a short
        # span got half-years that overlap, and matplotlib's "unable to pick" warning
        locator.intervald[mdates.MONTHLY] = [6, 12, 24]
    locator.intervald[mdates.YEARLY] = [1, 2, 5, 10]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(_month_formatter()())


@functools.cache
def _month_formatter() -> Any:
    import matplotlib.dates as mdates

    class MonthFormatter(mdates.DateFormatter):  # type: ignore[misc]
        """Ticks at the first of their months, as a month and year ("Jan / 2025");
        ticks closer than that (a span of a month or two) with their day too
        ("8 Feb / 2024"): by month alone, each would read "Feb / 2024"."""

        def __init__(self) -> None:
            super().__init__("%b\n%Y")

        def format_ticks(self, values: Any) -> list[str]:
            days = {mdates.num2date(v).day for v in values}
            self.fmt = "%b\n%Y" if days <= {1} else "%-d %b\n%Y"
            return list(super().format_ticks(values))

    return MonthFormatter


@functools.cache
def _fitting_date_locator() -> Any:
    import matplotlib.dates as mdates

    class FittingDateLocator(mdates.AutoDateLocator):  # type: ignore[misc]
        """An AutoDateLocator that, with ``label_pt``, asks for no more ticks than fit
        the axes' width as drawn: one per ``0.08 * label_pt`` inches (a two-line "Jan /
        2025" label and the gap after it; 0.88 inch at 11 pt), at least ``minticks``,
        at most 9. A span holding fewer than three firsts of a month gets ticks on the
        1st and 15th of each month: matplotlib's daily ticks restart each month
        (29 Feb and 1 Mar side by side)."""

        def __init__(self, label_pt: float | None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.label_pt = label_pt
            self.half_months = mdates.MonthLocator(bymonthday=[1, 15])

        def __call__(self) -> Any:
            vmin, vmax = self.viewlim_to_dt()
            if vmin > vmax:
                vmin, vmax = vmax, vmin
            firsts = (vmax.year - vmin.year) * 12 + vmax.month - vmin.month + (vmin.day == 1)
            if firsts < 3:
                self.half_months.set_axis(self.axis)
                return self.half_months.tick_values(vmin, vmax)
            axes = getattr(self.axis, "axes", None)
            fig = axes.get_figure(root=True) if axes is not None else None
            if self.label_pt is not None and axes is not None and fig is not None:
                # the width drawn (get_position() is a share of the subfigure, if any)
                width_in = axes.bbox.width / fig.dpi
                fit = max(self.minticks, min(9, int(width_in / (0.08 * self.label_pt))))
                self.maxticks = dict.fromkeys(self.maxticks, fit)
            return super().__call__()

    return FittingDateLocator


def footnote(
    result: Result, news: date | None = None, *, conditioned: bool = False, reader: bool = False
) -> str:
    """The foot of a chart: the scenario's date ("Scenario as of": not the date of any
    report a chart draws) and the sources of its numbers, how many inputs are
    assumptions, and what the levels are. A ``conditioned`` chart's first line says
    what it is conditioned on: the reports known on ``news``, or every report given
    (it then names fewer sources, so that it still fits the chart's width). With
    ``reader`` (a chart for an article's readers), nothing addressed to the user of
    the tool: no command, nor the file's sources no number cites."""
    doc = result.scenario.doc
    day = spell_date(doc.as_of)
    lead = f"Scenario as of {day}"
    if news is not None:
        lead += f", conditioned on reports known on {spell_day(news)}"
    elif conditioned:
        lead += ", conditioned on every report given"
    cited, others = number_sources(result.scenario, list(result.variants))
    # (the others, a record's reports say, may be dated after the as-of date)
    rest = (
        f" The file also lists {_plural_of(others, 'source')} no number shown cites."
        if others and not reader
        else ""
    )
    names = "; ".join(cited)
    longer = len(lead) - len(f"Scenario as of {day}")  # what the lead takes of the line
    if len(names) + len(rest) + longer > 170:  # a long list would run off the chart
        shown = 0
        while shown < len(cited) and len("; ".join(cited[: shown + 1])) + len(rest) + longer <= 140:
            shown += 1
        shown = max(shown, 1)  # (a list is never reduced to no name at all)
        if shown < len(cited):
            names = "; ".join(cited[:shown]) + f"; and {len(cited) - shown} more"
    assumed = _assumption_count(result)
    bare = _assumption_count(result, ("unsupported",))
    lines = [f"{lead}. Sources of its numbers: {names or 'none cited'}.{rest}"]
    if assumed or bare:
        told = []
        if assumed:
            told.append(
                f"{_plural_of(assumed, 'input')} across the "
                f"{_variants_shown(len(result.variants))} "
                f"{'is an assumption' if assumed == 1 else 'are assumptions'}, "
                "not reported figures"
            )
        if bare:
            told.append(
                f"{_plural_of(bare, 'input')} {'has' if bare == 1 else 'have'} neither a "
                "source nor an assumption"
            )
        lines.append(
            "; ".join(told)
            + (
                "."
                if reader
                else f"; the command “{_sources_command(result)}” "
                "lists each number with its source or assumption."
            )
        )
        lines[-1] = lines[-1][0].upper() + lines[-1][1:]
    last = "Levels at the end of each month."
    settings = result.scenario.settings_text()
    if settings:  # (a variant named for a value of the file runs with these instead)
        last += f" Set in every variant for this run: {settings}."
    lines.append(f"{last} forcesim projection, not a forecast of record.")
    return "\n".join(lines)


def median_notes(result: Result, series: Sequence[str], variants: Sequence[str]) -> list[str]:
    """What a reader of a fan chart needs where a series' median and central run part for
    the troops its official figure leaves out: per series of ``series`` (theater or
    ``THEATER/SITE``) whose official figure leaves no troop out with a chance of at least
    a half in ``variants`` (the same in each: :func:`none_left_out`), that chance (the
    scenario's, not the share of the draws, which varies about it),
    and that the median of the draws may so lie on the official figure while the
    central run, every input at its central value, counts more. Sentences, in the order
    of ``series``; none for a fan of draws weighted by reports (their median follows the
    reports, not this share)."""
    from sim.io.numbers import exact_percent

    weighted = getattr(getattr(result, "observed", None), "conditioned", None)
    if weighted is not None and result.bands is not None and result.bands is weighted.bands:
        return []
    notes = []
    for tid in series:
        shares = {none_left_out(result.plans[v], tid) for v in variants if v in result.plans}
        if len(shares) != 1:  # (a share that differs by variant: not one sentence)
            continue
        (share,) = shares
        if share is None or share < Fraction(1, 2):
            continue
        notes.append(
            f"{theater_title(result, tid)}'s official figure leaves no troops out with a "
            f"chance of at least {exact_percent(share)} (the scenario's), so the median of "
            "the draws may run on the official figure, below the central run."
        )
    return notes


def none_left_out(plan: Plan, tid: str) -> Fraction | None:
    """The least share of draws in which the official figure of series ``tid`` (a theater,
    or a site as ``THEATER/SITE``) leaves no troop out: the product over its tracks of
    the chance that each leaves none, 1 for a track whose ``unreported`` is 0 in every
    draw and ``1 - probability`` for one whose ``unreported`` applies with a
    ``probability`` below 1 (each drawn apart; a drawn size of 0 only adds to it). None
    when its figure counts every troop in every draw, or when a track may leave troops
    out in every draw."""
    from sim.model.plan import support
    from sim.schema import Spec

    tracks = [t for t in plan.tracks if t.key == tid or ("/" not in tid and t.theater == tid)]
    share, basis = Fraction(1), False
    for t in tracks:
        if support(t.unreported)[1] <= 0:
            continue
        basis = True
        q = t.unreported
        if not (isinstance(q, Spec) and q.probability is not None and q.probability < 1):
            return None
        share *= 1 - Fraction(str(q.probability))
    return share if basis else None


def line_notes(result: Result, series: Sequence[str], variants: Sequence[str]) -> list[str]:
    """What a reader needs to read each variant's line of a central run: that it sets
    every uncertain input to its central value (said when some of ``variants`` has
    one, :func:`sim.analysis.sensitivity.uncertain_inputs`), and, per series of
    ``series`` whose official figure leaves troops out, that its lines count the
    whole force (with the troops left out in the first month, a range across the
    variants where they differ). Sentences, in the order of ``series``."""
    from sim.analysis.sensitivity import uncertain_inputs

    notes = []
    if any(uncertain_inputs(result.plans[v]) for v in variants if v in result.plans):
        notes.append("Each line takes every uncertain input at its central value.")
    df = result.monthly
    if "official" not in df:
        return notes
    for tid in series:
        rows = df[(df.theater == tid) & df.variant.isin(list(variants))]
        differ = rows[rows.official != rows.troops]
        if not len(differ):
            continue
        # (only the variants whose figure leaves troops out: one may set it to 0)
        named = [v for v in variants if v in set(differ.variant)]
        rows = rows[rows.variant.isin(named)]
        first = rows[rows.month == rows.month.min()]
        gaps = sorted({int(g) for g in first.troops - first.official if g > 0})
        # (what the figure leaves out may change: temporary forces that leave, a figure
        # that comes to count them; said as at the start unless it holds throughout)
        held = {int(g) for g in rows.troops - rows.official} == set(gaps)
        amount = "the troops it leaves out"
        if gaps:
            some = f"{gaps[0]:,}" if len(gaps) == 1 else f"{gaps[0]:,} to {gaps[-1]:,}"
            amount = f"{some} troops it leaves out" if held else f"{amount}, {some} at the start"
        whose = "" if len(named) == len(set(df.variant) & set(variants)) else ", ".join(named)
        title = theater_title(result, tid)
        # (a name the file writes in lower case is not capitalised to start the sentence)
        lines = (
            f"The lines of {title}{f' in {whose}' if whose else ''}"
            if title[:1].islower()
            else f"{title}'s lines{f' of {whose}' if whose else ''}"
        )
        if (rows.official == 0).all():  # (a part no official figure counts: all left out)
            some = f"{gaps[0]:,}" if len(gaps) == 1 else f"{gaps[0]:,} to {gaps[-1]:,}"
            many = "" if not gaps else f": {some} troops" if held else f": {some} at the start"
            notes.append(
                f"{lines} count troops the official figure leaves out entirely (its dashed "
                f"line lies at 0){many}."
            )
            continue
        notes.append(f"{lines} count the whole force: the official figure (dashed) plus {amount}.")
    return notes


def _plural_of(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _sources_command(result: Result) -> str:
    """The ``forcesim sources`` command that lists the chart's numbers: with the
    scenario file's name (not its folders, which are the author's own), or for a shipped
    scenario its path from the project's root (``scenarios/vintages/….yaml``, as the
    README's commands name it), unless it is the shipped default scenario's file, which
    the command reads when given no file."""
    import shlex
    from pathlib import Path

    from sim.io.files import utf8_text
    from sim.paths import default_scenario, scenarios_dir

    path = result.scenario.path
    name = utf8_text(Path(path).name) if path else ""  # (bytes of no UTF-8: escaped)
    try:  # (the shipped file itself, not any file of its name: an edited copy, say)
        where = Path(path).resolve() if path is not None else None
        shipped = where == default_scenario().resolve()
        if where is not None and where.is_relative_to(scenarios_dir()):
            name = utf8_text(str(Path("scenarios") / where.relative_to(scenarios_dir())))
    except (OSError, RuntimeError):
        shipped = False
    file = "" if not name or shipped else " " + shlex.quote(name)
    return f"forcesim sources{file}{_one_variant(result)}"


def _one_variant(result: Result) -> str:
    """`` --variant NAME`` when the chart shows one variant of several (so the listing
    it points to is that variant's)."""
    doc = result.scenario.doc
    if len(result.variants) == 1 and doc.variants and result.variants[0] in doc.variants:
        return f" --variant {result.variants[0]}"
    return ""


def _variants_shown(n: int) -> str:
    return "variant shown" if n == 1 else f"{n} variants shown"


def _assumption_count(result: Result, kinds: tuple[str, ...] = ()) -> int:
    return assumption_count(result.scenario, list(result.variants), kinds)


def only(result: Result, variants: list[str]) -> Result:
    """A view of ``result`` holding only ``variants``."""
    import dataclasses

    return dataclasses.replace(
        result,
        variants=variants,
        monthly=result.monthly[result.monthly.variant.isin(variants)],
        milestones=result.milestones[result.milestones.variant.isin(variants)],
        plans={v: result.plans[v] for v in variants},
    )


def wrapped(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters, broken at spaces and after
    hyphens (a variant id of 60 characters, ``with-a-long-name-…``), and inside a word
    only when one is longer than a line: every character kept, in order."""
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=True)) or text


#: the characters on a line of the names at the right end of an envelope panel's lines:
#: at 9.5 pt (6.25 px a character at 100 dpi), they fill the 2.8 in between the panel and the
#: legend's column
END_LABEL_CHARACTERS = 45


def end_label_lines(
    names: list[str], lead: str = "", width: int = END_LABEL_CHARACTERS
) -> list[str]:
    """The names of lines that end together after ``lead`` (their level, ``"0: "``),
    joined with ", " onto lines of at most three names and ``width`` characters (a
    longer name on lines of its own, :func:`wrapped`); each name but the last is
    followed by its comma."""
    lines: list[list[str]] = [[]]
    for name in names:
        line = lines[-1]
        room = width - (len(lead) if len(lines) == 1 else 0)
        if line and (len(line) == 3 or len(", ".join([*line, name])) + 1 > room):
            lines.append([])
        lines[-1].append(name)
    texts = [", ".join(line) for line in lines]
    out: list[str] = []
    for text in [t + "," for t in texts[:-1]] + texts[-1:]:
        out += wrapped(text, width - (len(lead) if not out else 0)).split("\n")
    out[0] = lead + out[0]
    return out


#: the ground of a label at a line's end: the panel's gridlines run on past its last
#: month, under the label's first words, and white keeps them out of the text
END_LABEL_GROUND = {"facecolor": "white", "edgecolor": "none", "pad": 1.0}


def end_labels(ax: Axes, x_end: Any, last: pd.Series, colors: dict[str, str]) -> None:
    """Name the variants at the right end of their lines; lines that end together share
    one label, so a line hidden under another is still accounted for; a line that
    ends before the panel's last month (``last`` NaN) has none. (Not into axes
    given: the names would stand outside them, where the caller's layout has no room;
    ``ax.legend()`` names the lines.)"""
    if not own_figure():
        return
    groups: dict[int, list[str]] = {}
    for variant, value in last.items():
        if pd.isna(value):  # a variant on a shorter calendar: its line ends earlier
            continue
        groups.setdefault(int(value), []).append(str(variant))
    top = ax.get_ylim()[1]
    # the height of one line of label text in data units (panel height from the figure)
    height_px = ax.get_window_extent().height or 300.0
    line = top * 14.0 / height_px
    floor = 0.0  # the lowest y the next label may take, above the ones placed
    for value in sorted(groups):
        names = groups[value]
        lines = end_label_lines(names, f"{value:,}: ")
        y = max(float(value), floor)
        floor = y + line * len(lines) + 0.6 * line
        ax.annotate(
            "\n".join(lines),
            (x_end, y),
            xytext=(8, 0),
            textcoords="offset points",
            va="bottom",
            fontsize=9.5,
            linespacing=1.1,
            color=colors_legible(colors[names[0]]) if len(names) == 1 else "#333333",
            annotation_clip=False,
            bbox=END_LABEL_GROUND,
        )


def save(axes: Sequence[Axes] | Axes, path: Any) -> None:
    """Write the figure holding ``axes`` to a file, then close the figure.

    The figure is drawn into a temporary file beside ``path`` that then replaces
    ``path``: a file already there is replaced whole (as ``savefig`` would replace it)
    or, when drawing fails, left exactly as it was; never half-written.

    Parameters
    ----------
    axes : matplotlib Axes or sequence of them
        Axes of the figure to write (as a chart function returns them).
    path : str or pathlib.Path
        The file; its extension picks the format: ``.png``, ``.pdf`` or ``.svg``.

    Raises
    ------
    ValueError
        For any other extension, a directory at ``path``, or no axes.
    TypeError
        When ``path`` is not a path.
    OSError
        When the file cannot be written (``PermissionError`` for a read-only file,
        which is never replaced; ``FileNotFoundError`` for a missing directory).
    """
    import errno
    import os
    from pathlib import Path

    from sim.io.files import as_before, temp_name

    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"expected the path of a .png, .pdf or .svg file, found {path!r}")
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in SAVE_METADATA:
        raise ValueError(f"expected a .png, .pdf or .svg file, found {str(path)!r}")
    if target.is_dir():
        raise ValueError(f"expected a .png, .pdf or .svg file, found a directory {str(path)!r}")
    if target.is_symlink():  # the file it links to is written, as savefig would write it
        target = Path(os.path.realpath(target))
    if target.exists() and not target.stat().st_mode & 0o222:  # (chmod a-w: protected)
        raise PermissionError(
            errno.EACCES,
            "a read-only file (to replace it, make it writable, e.g. chmod u+w)",
            str(path),
        )
    given = list(np.ravel(cast(Any, axes))) if isinstance(axes, Sequence | np.ndarray) else [axes]
    fig = getattr(given[0], "get_figure", lambda **_: None)(root=True) if given else None
    if fig is None:
        raise ValueError(f"expected the axes a chart function returned, found {axes!r}")
    import matplotlib

    as_written(given)
    tmp = target.parent / temp_name(target.name, target.suffix)
    try:
        # (same figure, same bytes)
        # (a PDF's fonts embedded as TrueType, Type 42, which design software edits: Type 3
        # glyphs, matplotlib's default, it handles poorly)
        with (
            glyphs_gathered(),
            matplotlib.rc_context({"svg.hashsalt": "forcesim", "pdf.fonttype": 42}),
        ):
            fig.savefig(tmp, format=fmt, dpi=saved_dpi(fig), metadata=SAVE_METADATA[fmt])
        as_before(tmp, target)  # (a private chart stays private)
        os.replace(tmp, target)
    except Exception as exc:  # (named as the file asked for, not the temporary one)
        # (a full disk in the PDF backend raises an AttributeError in its clean-up; an
        # error of the file system only, not a bug with a font lookup somewhere behind it)
        failed = exc if isinstance(exc, OSError) else _disk_failed(exc)
        if failed is None:
            raise
        raise OSError(failed.errno, failed.strerror or str(failed), str(target)) from None
    finally:
        tmp.unlink(missing_ok=True)
    pyplot().close(fig)


def saved_dpi(fig: Any) -> int:
    """The resolution [px an inch] a chart's figure is written at: :data:`DPI`, or for a
    column chart :data:`sim.plotting.column.COLUMN_DPI`."""
    from sim.plotting import column

    return column.COLUMN_DPI if column.is_column(fig) else DPI


def _disk_failed(exc: BaseException) -> OSError | None:
    """The error of a disk that could not take a file (full, over a size limit or a
    quota, failing, read-only) that ``exc`` came of, if any."""
    import errno

    from sim.errors import exception_chain

    disk = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS)
    return next(
        (e for e in exception_chain(exc) if isinstance(e, OSError) and e.errno in disk), None
    )


# no dates or versions in the files, so that the same run gives the same bytes
SAVE_METADATA: dict[str, dict[str, Any]] = {
    "png": {"Software": None},
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None},
    "svg": {"Creator": None, "Date": None},
}


def fit_width(text: Any, right: float = 0.985) -> None:
    """Shrink a one-line figure text whose right end would pass ``right`` (a fraction of
    the figure's width) so that it ends there; a text that fits is left as it is."""
    fig = text.get_figure(root=True)
    for _ in range(4):  # (glyphs are hinted to whole pixels: smaller is not quite in step)
        extent = text.get_window_extent(fig.canvas.get_renderer())
        room = right * fig.bbox.width - extent.x0
        if not extent.width > room > 0:
            return
        text.set_fontsize(text.get_fontsize() * room / extent.width * 0.995)


def title_size(text: str, width_in: float = WIDTH_IN) -> float:
    """A bold title's font size [pt]: 20, smaller for a long title so it fits the width."""
    fits = width_in * 72 * 0.95 / (0.64 * 20)  # characters that fit at 20 pt
    return max(12.0, min(20.0, 20.0 * fits / max(len(text), 1)))
