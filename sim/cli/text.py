"""Everything the command line prints besides errors: the run table, the
observations summary, the comparison and backtest tables."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.backtest import Backtest
from sim.analysis.compare import Comparison
from sim.analysis.conditioning import disagreeing_days
from sim.analysis.observed import DISCREPANT, MIN_EFFECTIVE_DRAWS, USED, Assessment
from sim.analysis.sensitivity import Sensitivity, noise_of
from sim.analysis.sweep import Sweep
from sim.errors import listed
from sim.io.numbers import exact_percent
from sim.io.observations import (
    NOT_A_LEVEL,
    OUT_OF_RANGE,
    SCORED,
    TARGET,
    Observation,
)
from sim.model.plan import Plan
from sim.months import format_month, parse_month
from sim.results import Result, TheaterLevels, key_months
from sim.scenario import Scenario
from sim.schema import PROFILES
from sim.vintages import VintageSeries

#: the widest line the command line prints [characters]
WIDTH = 120


def run_lines(
    result: Result,
    levels: TheaterLevels | None = None,
    at: str | None = None,
    bands: tuple[pd.DataFrame | None, bool] | None = None,
    zero: pd.DataFrame | None = None,
    today: dt.date | None = None,
) -> list[str]:
    """The table ``forcesim run`` prints, at most :data:`WIDTH` characters wide.

    For each theater: the level at the horizon and, for each variant, the month where
    it stands out most from the others (the largest gap to the nearest other variant,
    or, for a variant that every month equals one other or another, to the median of
    the others; :func:`_cell`), with its level and the gap there. A
    scenario with one variant shows its calendar deadlines and horizon instead. Then
    each variant's milestones, met or missed. ``levels``: the theaters' levels of every
    variant, when ``result.monthly`` does not hold them all (a run written as it was
    made, :func:`sim.export.stream.stream_run`); by default read from it. ``at``
    (``YYYY-MM``, a month the run steps): the levels shown are that month's, not the
    last's, and an ensemble's 25th–75th percentile and median then follow (weighted by
    the reports where the run was conditioned on them and some variant kept enough
    effective draws); ``bands``: ``(rows, weighted)``, the percentiles of that month
    when ``result`` does not hold every variant's (a run written as it was made keeps
    only its charts' rows), by default :func:`_bands_of`'s. ``zero``: the weighted
    ``zero`` rows of ``dates_conditioned`` of every variant weighted, where ``result``
    does not hold them all; by default those ``result`` holds. ``today`` (default: the
    clock's) dates :func:`known_age`'s line.
    """
    doc = result.scenario.doc
    variants = list(result.variants)
    if levels is None:
        levels = TheaterLevels.of(result.monthly)
    months = sorted(
        {m for first, x in levels.levels.values() for m in range(first, first + len(x))}
    )
    rows = _shortened(variants, 28)  # (each row's name told apart from the others)
    name_w = max(len("variant"), *(len(rows[v]) for v in variants)) + 2
    named = _shortened(variants, 16)  # (the variant a cell names)
    if len(variants) > 1:
        columns = [
            # (the last month any variant steps, which the cells read: the file's own
            # calendar end may be another, moved by --set or a variant's overrides)
            (f"at {at}", at) if at else (f"at {format_month(months[-1])}", "end"),
            ("stands out most", "gap"),
        ]
    else:
        # (the file's deadlines within the months stepped, then the last month stepped:
        # --set or a variant's overrides may have moved the calendar's end)
        last = format_month(months[-1])
        shown = [m for m in key_months(doc)[:-1] if parse_month(m) < months[-1]] + [last]
        columns = [(f"at {at}", at)] if at else [(m, m) for m in shown]
    frame, weighted = (bands or _bands_of(result)) if at else (None, False)
    if frame is not None:
        frame = frame[frame.month.astype(str) == at]  # (the month's rows, found once)
        # (the range first: where the draws split in two, the median alone misleads)
        columns.insert(1, ("weighted 25th–75th (median)" if weighted else "25th–75th (median)", ""))
    cells = {
        (v, t): [
            _percentiles(frame, v, t)
            if not kind
            else _cell(levels.levels, named, v, t, months, kind)
            for _, kind in columns
        ]
        for v in variants
        for t in result.theaters
    }
    widths = [
        max(len(head), *(len(cells[v, t][i]) for v in variants for t in result.theaters))
        for i, (head, _) in enumerate(columns)
    ]
    block = sum(w + 2 for w in widths) + 1
    per_row = max(1, (WIDTH - name_w) // block)
    lines = [
        _fit(f"{result.scenario.id}: {result.scenario.title}"),
        "troops at the end of each month"
        + (
            f"; ensemble of {result.draws:,} draws (seed {result.seed}), the deterministic "
            "central run shown"
            if result.draws
            else ""
        ),
    ]
    lines += _settings_lines(result.scenario)
    age = known_age(result, today, keep=KEEP)  # (a report's date and theater kept together)
    if age is not None:  # (wrapped: a report left out is named whole)
        lines += [
            part.replace(KEEP, " ")
            for part in textwrap.wrap(age, WIDTH, subsequent_indent="    ", break_on_hyphens=False)
        ]
    # where official figures leave troops out: say so, and how many
    for t in result.theaters:
        if t in levels.official:
            troops, off, month = levels.official[t]
            lines.append(
                _fit(
                    f"{t}: the whole force shown; official figures leave some out "
                    f"({troops:,} vs an official {off:,} in {month}; see monthly.csv)"
                )
            )
    if frame is not None:
        lines += textwrap.wrap(
            f"at {at}: the central run; 25th–75th (median): the draws' percentiles then"
            + (", each draw weighted by the reports it misses" if weighted else "")
            + _unweighted_note(result, weighted),
            WIDTH,
            subsequent_indent="    ",
        )
        if not weighted:  # (why a median may sit under the central run)
            from sim.plotting.common import median_notes

            for note in median_notes(result, list(result.theaters), variants):
                lines += textwrap.wrap(note, WIDTH, subsequent_indent="    ")
    dashes = _dashes_note(result, cells, weighted)
    if dashes:
        lines += textwrap.wrap(dashes, WIDTH, subsequent_indent="    ")
    if len(variants) > 1:
        lines.append(
            "stands out most: the month where a variant is furthest from the nearest "
            "other (the gap to it)"
        )
        if any(c.endswith(" vs the median)") for row in cells.values() for c in row):
            lines.append(
                "vs the median: a variant that each month equals one of the others is "
                "measured from the median of the others"
            )
    theaters = list(result.theaters)
    for start in range(0, len(theaters), per_row):
        chunk = theaters[start : start + per_row]
        lines.append(" " * name_w + "".join(f" {t:-^{block - 1}}" for t in chunk).rstrip())
        lines.append(
            f"{'variant':<{name_w}}"
            + "".join(
                " "
                + "".join(f"{head:>{w + 2}}" for (head, _), w in zip(columns, widths, strict=True))
                for _ in chunk
            )
        )
        for v in variants:
            lines.append(
                f"{rows[v]:<{name_w}}"
                + "".join(
                    " " + "".join(f"{c:>{w + 2}}" for c, w in zip(cells[v, t], widths, strict=True))
                    for t in chunk
                )
            )
    residuals = any(p.residuals for p in result.plans.values())
    ms = result.milestones
    marks = {v: _milestone_marks(result, v) for v in variants}
    drawn = "p_met" in ms.columns
    slipped = any(_SLIPPED in m for v in variants for m in marks[v])
    notes = []
    if residuals or (drawn and slipped):
        # (the central run's "met" at a slipped deadline beside p=0.00 by the deadline
        # before the slip read as a contradiction)
        met = "met: " + ("the central run reaches" if drawn else "reached") + " the target"
        if slipped:
            met += " by the deadline as slipped"
        if residuals:
            met += (
                (
                    "; a residual presence that stays raises the target, so a milestone met"
                    " may leave troops: zero troops, below, says when the last leave"
                )
                if drawn
                else "; a residual presence that stays raises the target"
            )
        notes.append(met)
    if drawn and slipped:
        notes.append("p: the share of draws meeting the deadline before any delay")
    weighted = bool(
        "p_met_conditioned" in ms.columns
        and ms.p_met_conditioned[ms.variant.isin(variants)].notna().any()
    )
    if weighted:
        notes.append("weighted: p with the draws weighted by the reports known")
    if any("±" in m for v in variants for m in marks[v]):
        notes.append(
            "±: one Monte Carlo standard error, √(p(1−p)/n), n the draws"
            + (" (the effective draws, weighted)" if weighted else "")
            + ", shown where it reaches 0.005"
        )
    head = f"milestones ({'; '.join(notes)})" if notes else "milestones"
    lines += textwrap.wrap(head, WIDTH, subsequent_indent=" " * 4, break_on_hyphens=False)
    # variants whose milestones read the same share a line
    lines += _grouped((v, "; ".join(marks[v]) or "-") for v in variants)
    if residuals and result.dates is not None:
        lines += _zero_lines(result, zero)
    return lines


def _alike(texts: Iterable[tuple[str, str]], indent: str) -> list[str]:
    """One ``names: text`` line per distinct text of the ``(variant, text)`` pairs, the
    variants that read alike named together, in the order first seen."""
    by_text: dict[str, list[str]] = {}
    for v, text in texts:
        by_text.setdefault(text, []).append(v)
    return [f"{indent}{', '.join(names)}: {text}" for text, names in by_text.items()]


#: a space the wrapped lines never break at (printed as a plain space)
KEEP = "\u00a0"


def _grouped(texts: Iterable[tuple[str, str]]) -> list[str]:
    """:func:`_alike` lines, two spaces in, wrapped within :data:`WIDTH` (never at a
    :data:`KEEP` space)."""
    return [
        part.replace(KEEP, " ")
        for line in _alike(texts, "")
        for part in textwrap.wrap(
            line, WIDTH, initial_indent="  ", subsequent_indent=" " * 4, break_on_hyphens=False
        )
    ]


def _zero_lines(result: Result, weighted: pd.DataFrame | None = None) -> list[str]:
    """Where a residual presence may stay, when each theater's draws reach zero troops
    (from ``dates.csv``'s ``zero`` rows): a milestone met is not a force gone; in a run
    conditioned on reports, the weighted month beside it (``weighted``: the ``zero`` rows
    of ``dates_conditioned``, by default those the result holds), as the milestones' lines
    give the weighted share beside the plain one."""
    assert result.dates is not None
    zero = result.dates[result.dates.threshold == "zero"]
    observed = result.observed
    cond = observed.conditioned if isinstance(observed, Assessment) else None
    if weighted is None and cond is not None and cond.dates is not None:
        weighted = cond.dates
    if weighted is not None:
        weighted = weighted[weighted.threshold == "zero"]
    texts = []
    for v in result.variants:
        parts = []
        for r in zero[zero.variant == v].itertuples():
            plain = _zero_text(r)
            text = f"{r.theater} {plain}"
            if weighted is not None:
                w = weighted[(weighted.variant == v) & (weighted.theater == r.theater)]
                if len(w):
                    said = _zero_text(next(w.itertuples()))
                    text += " (weighted alike)" if said == plain else f" (weighted: {said})"
            parts.append(text)
        texts.append((v, "; ".join(parts) or "-"))
    head = "zero troops, when the last leave (the draws' median month, and how many never get there"
    if weighted is not None and len(weighted):
        head += "; weighted: each draw weighted by the reports it misses"
        few = [v for v in result.variants if v not in set(weighted.variant)]
        head += f", not for {', '.join(few)}: too few effective draws)" if few else ")"
    else:
        head += ")"
    return [*textwrap.wrap(head, WIDTH, subsequent_indent=" " * 4), *_grouped(texts)]


def _zero_text(row: Any) -> str:
    """When one theater's draws reach zero troops, from a ``zero`` row of the threshold
    dates: "by 2026-12 in half the draws, never in 37 %", "never in 60 % of draws",
    "never"."""
    never = float(row.never)
    if never >= 1:
        return "never"
    if never > 0.5:
        return f"never in {never * 100:.0f}{KEEP}% of draws"
    return f"by {row.p50} in half the draws" + (
        f", never in {never * 100:.0f}{KEEP}%" if never > 0 else ""
    )


def _settings_lines(scenario: Scenario) -> list[str]:
    """The line that says which values ``--set`` put on top of every variant (none when
    nothing was set): the variants' names describe the file's values, not these."""
    settings = scenario.settings_text()
    return [_fit(f"set in every variant for this run: {settings}")] if settings else []


def _fit(line: str) -> str:
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"


def _shortened(names: list[str], width: int) -> dict[str, str]:
    """Each of ``names`` as a table shows it, in as few characters from ``width`` up
    as tell them apart: a longer one cut with "…", in the middle first
    (``variant-with-a…-and-on-0``: ids that share a long start, or a long end, still
    read apart), else at the first place where the cut names all differ
    (``…-delayed-by-03-…`` and ``…-06-…`` cut nearer their end)."""
    longest = max((len(n) for n in names), default=0)
    for w in range(width, longest):
        middle = w // 2
        for head in [*range(middle, w), *range(middle - 1, 0, -1)]:
            tail = w - 1 - head
            short = {
                n: n if len(n) <= w else n[:head] + "…" + (n[len(n) - tail :] if tail else "")
                for n in names
            }
            if len(set(short.values())) == len(short):
                return short
    return {n: n for n in names}


def _bands_of(result: Result) -> tuple[pd.DataFrame | None, bool]:
    """``(bands, weighted)``: the percentiles the run table shows beside its levels, the
    weighted ones of a run conditioned on reports where some variant kept enough
    effective draws, else the draws' own (None without draws)."""
    observed = result.observed
    if isinstance(observed, Assessment) and observed.conditioned is not None:
        weighted = observed.conditioned.bands
        if weighted is not None and len(weighted):
            return weighted, True
    return result.bands, False


def _unweighted_note(result: Result, weighted: bool) -> str:
    """Why a conditioned run's table shows the draws' own percentiles: no variant kept
    enough effective draws to be weighted."""
    observed = result.observed
    if weighted or not isinstance(observed, Assessment) or observed.conditioned is None:
        return ""
    return (
        f" (unweighted: no variant keeps {observed.conditioned.minimum} effective draws "
        "to be weighted by the reports)"
    )


def _dashes_note(result: Result, cells: dict[tuple[str, str], list[str]], weighted: bool) -> str:
    """What a ``-`` of the run table stands for: a variant left out of the weighted
    percentiles for too few effective draws, or one without that month or theater (a
    calendar that ends before, a theater it deletes); empty where there is none."""
    dashed = [v for (v, _), row in cells.items() if "-" in row]
    if not dashed:
        return ""
    observed = result.observed
    few = (
        set(observed.conditioned.too_few)
        if weighted and isinstance(observed, Assessment) and observed.conditioned is not None
        else set()
    )
    reasons = []
    if few & set(dashed):
        assert isinstance(observed, Assessment) and observed.conditioned is not None
        reasons.append(
            f"fewer than {observed.conditioned.minimum} effective draws, not weighted "
            f"({', '.join(v for v in result.variants if v in few and v in dashed)})"
        )
    short = [v for v in dict.fromkeys(dashed) if v not in few]
    if short:
        reasons.append(f"not in the variant's months or theaters ({', '.join(short)})")
    return "-: " + "; ".join(reasons)


#: months between what a run knows and today from which the table says how old it is
STALE_MONTHS = 2


def known_age(result: Result, today: dt.date | None = None, *, keep: str = " ") -> str | None:
    """A line saying how long before ``today`` (default: the clock's) the run's
    knowledge ends, where that is :data:`STALE_MONTHS` or more: the scenario's as-of
    day, or, where the run was conditioned on reports, the latest report that weighs
    the draws of a variant it writes weighted summaries of (a target, or a report
    superseded or no draw comes near, weighs none);
    a reader quoting a projection as of now learns it is not. None where it is recent.
    ``keep``: the space between a report's date and its series (a no-break space keeps
    them on one line when wrapped).

    Where a report dated after that is left out of the weights because no draw comes
    within its tolerance (news the scenario cannot take in), the line says so whatever
    its age, naming the reports: the projection does not follow them, and only a
    scenario revised for what changed can (a reporter read a run conditioned on a
    report of 1,000 troops, which no draw reached, as "none are left")."""
    when = result.scenario.as_of_day
    obs = result.observed
    later: list[str] = []
    if obs is not None and obs.conditioned is not None and "conditioning" in obs.table:
        # (the reports that weigh some variant's weighted summaries: not a target, nor
        # one superseded or discrepant, nor one of variants left out for too few draws)
        t = obs.table
        weighing = t[(t.conditioning == USED) & ~t.variant.isin(obs.conditioned.too_few)]
        day_of = {str(o.date): o.day for o in obs.observations}
        latest: dict[str, dt.date] = {}  # each series' latest report weighed
        for d, series in zip(weighing.date, weighing.theater, strict=True):
            if str(d) in day_of:
                latest[series] = max(latest.get(series, when), day_of[str(d)])
        when = max([when, *latest.values()])
        # the reports left out, no draw coming near, dated after the latest report of
        # their own series weighed (a later one of another theater does not hide them)
        written = [v for v in obs.conditioned.effective if v not in obs.conditioned.too_few]
        seen: set[str] = set()
        for o in sorted(
            (o for left in obs.left_out(written).values() for o in left), key=lambda o: o.day
        ):
            name = f"{o.date}{keep}{o.theater}"
            if o.day > latest.get(o.theater, result.scenario.as_of_day) and name not in seen:
                seen.add(name)
                later.append(name)
    today = today or dt.date.today()
    # (whole months gone by: 24 Feb to 5 Dec is 9; a month's last day reaches any day, so
    # 31 Dec to 29 Feb is 2)
    last_day = (today + dt.timedelta(days=1)).day == 1
    months = (today.year - when.year) * 12 + today.month - when.month
    months -= today.day < when.day and not last_day
    if months < STALE_MONTHS and not later:
        return None
    what = "its latest report weighed" if when != result.scenario.as_of_day else "as of"
    line = f"{what} {when.isoformat()}"
    if months >= STALE_MONTHS:
        line += f", {months} months before today ({today.isoformat()})"
    if not later:
        return line + ": nothing reported since is in it"
    many = len(later) > 1
    return (
        f"{line}: the later report{'s' if many else ''} {'; '.join(later)} "
        f"{'are' if many else 'is'} left out, no draw coming within "
        f"{'their' if many else 'its'} tolerance: this projection does not follow "
        f"{'them' if many else 'it'}; only a scenario revised for what changed can take "
        f"{'them' if many else 'it'} in"
    )


def _percentiles(bands: pd.DataFrame | None, v: str, t: str) -> str:
    """A run table's cell: the 25th–75th percentile and median of variant ``v``'s level
    in theater ``t`` (``382–1,842 (1,613)``), from ``bands``, the rows of one month;
    ``-`` where it has none (a variant left out of the weighted bands, or a month it does
    not step)."""
    if bands is None:
        return "-"
    row = bands[(bands.variant == v) & (bands.theater == t)]
    if row.empty:
        return "-"
    p25, p50, p75 = (int(row[c].iloc[0]) for c in ("p25", "p50", "p75"))
    return f"{p25:,}–{p75:,} ({p50:,})"


def _cell(
    levels: dict[tuple[str, str], tuple[int, np.ndarray]],
    variants: dict[str, str],
    v: str,
    t: str,
    months: list[int],
    kind: str,
) -> str:
    """One cell of the run table: a level (``kind`` a month ``YYYY-MM``, or ``end``), or
    (``gap``) where variant ``v`` stands out from the others in theater ``t``
    (``levels``: :attr:`sim.results.TheaterLevels.levels`; ``variants``: each variant
    by the name a cell shows, :func:`_shortened`; ``months``: every month ordinal of the
    run, in order):

    * ``same as U`` when another variant has the same level every month;
    * else the month where ``v`` is furthest from the nearest other variant, with the
      gap to it (``2025-01: 2,380 (+80 vs on-time)``), the earliest such month, and of
      variants equally near the first;
    * else (``v`` always matches one variant or another) the month where it is
      furthest from the median of the others;
    * else ``nowhere: each month equals another variant`` (it is the median of the others too).
    """
    mine = levels.get((v, t))
    if mine is None:
        return "-"
    first, values = mine
    if kind != "gap":
        at = months[-1] if kind == "end" else parse_month(kind)
        return f"{int(values[at - first]):,}" if 0 <= at - first < len(values) else "-"
    others = [u for u in variants if u != v and (u, t) in levels]
    for u in others:
        if levels[u, t][0] == first and np.array_equal(levels[u, t][1], values):
            return f"same as {variants[u]}"
    if not others:
        return "-"
    # the months of v, and each other variant's levels in them (NaN where it has none)
    grid = np.array(months, np.int64)
    grid = grid[(grid >= first) & (grid < first + len(values))]
    mine_at = values[grid - first].astype(float)
    theirs = np.full((len(others), len(grid)), np.nan)
    for i, u in enumerate(others):
        start, level = levels[u, t]
        inside = (grid >= start) & (grid < start + len(level))
        theirs[i, inside] = level[grid[inside] - start]
    gaps = mine_at[None, :] - theirs
    size = np.where(np.isnan(gaps), np.inf, np.abs(gaps))
    nearest = size.argmin(axis=0)  # (the first of the variants equally near)
    near = gaps[nearest, np.arange(len(grid))]
    reach = np.where(np.isnan(near), 0.0, np.abs(near))
    if len(grid) and reach.max() > 0:
        j = int(reach.argmax())  # (the first month of the largest gap)
        return (
            f"{format_month(int(grid[j]))}: {int(mine_at[j]):,} "
            f"({near[j]:+,.0f} vs {variants[others[nearest[j]]]})"
        )
    counted = ~np.isnan(theirs)
    off = np.zeros(len(grid))
    for m in np.flatnonzero(counted.any(axis=0)):
        off[m] = mine_at[m] - float(np.median(theirs[counted[:, m], m]))
    if len(grid) and np.abs(off).max() > 0:
        k = int(np.abs(off).argmax())  # (the first month furthest from the median)
        return f"{format_month(int(grid[k]))}: {int(mine_at[k]):,} ({off[k]:+,.0f} vs the median)"
    return "nowhere: each month equals another variant"


#: how a milestone's mark names the deadline a slip moved it from
_SLIPPED = ", slipped from "


def _milestone_marks(result: Result, v: str) -> list[str]:
    ms = result.milestones[result.milestones.variant == v]
    marks = []
    originals = _original_deadlines(result, v)
    for _, r in ms.iterrows():
        deadline = str(r.deadline)
        original = originals.get(r.milestone, deadline)
        when = deadline if deadline == original else f"{deadline}{_SLIPPED}{original}"
        state = f"met ({when})" if r.met else f"MISSED ({when}; reached {r.month_reached})"
        if "p_met" in ms.columns:
            error = _standard_error(r.p_met, result.draws)
            state += f", p={r.p_met:.2f}{error}{KEEP}by{KEEP}{original}"
            weighted = getattr(r, "p_met_conditioned", None)
            if weighted is not None and weighted == weighted:  # (NaN: not conditioned)
                error = _standard_error(weighted, _effective_draws(result, v))
                state += f" ({weighted:.2f}{error}{KEEP}weighted)"
        marks.append(f"{r.milestone} {state}")
    return marks


def _standard_error(p: float, n: float | None) -> str:
    """``±0.02``: the Monte Carlo standard error of a share ``p`` of ``n`` draws,
    √(p(1−p)/n) (the binomial proportion's), where it shows at 2 decimals (0.005 or
    more); for weighted draws ``n`` is their effective number, Kish's (Σw)²/Σw², the
    usual approximation (Kish 1965, *Survey Sampling*, §11.7; Owen 2013, *Monte Carlo
    theory, methods and examples*, §9.3). Empty when it would not show."""
    if not n or n <= 0 or not 0 <= p <= 1:
        return ""
    se = math.sqrt(p * (1 - p) / n)
    return f"{KEEP}±{se:.2f}" if se >= 0.005 else ""


def _effective_draws(result: Result, variant: str) -> float | None:
    """The effective draws of ``variant`` once conditioned, or None."""
    cond = getattr(getattr(result, "observed", None), "conditioned", None)
    effective = getattr(cond, "effective", None) or {}
    return effective.get(variant)


def _original_deadlines(result: Result, variant: str) -> dict[str, str]:
    """Each milestone's deadline without the announcement's slip, ``YYYY-MM``
    (:func:`sim.model.rules.original_deadlines`)."""
    from sim.model.rules import original_deadlines

    plan = result.plans[variant]
    return {
        m.id: format_month(plan.start + month)
        for m, month in zip(plan.milestones, original_deadlines(plan), strict=True)
    }


#: the reports outside a run's months or series named in its summary line, at most
SHOWN_OUTSIDE = 3
#: the reports a variant's central run misses named in its line, at most
SHOWN_MISSES = 15
#: the reports of one day that disagree named in a warning, at most
SHOWN_DISAGREEING = 4


def _first_few(names: Sequence[str], most: int, where: str | None = None) -> str:
    """``names`` joined, at most ``most`` of them, then how many more and ``where`` they
    are listed (without ``where``, an ellipsis): a record of thousands of reports made a
    line of thousands of names."""
    if len(names) <= most:
        return ", ".join(names)
    if where is None:
        return f"{', '.join(names[:most])}, …"
    return f"{', '.join(names[:most])} and {len(names) - most:,} more ({where})"


def _report_labels(chosen: Any, rows: Any, several: bool) -> list[str]:
    """A label for each report of ``chosen`` (rows of the observed table, of one
    variant) among ``rows`` (all of that variant's rows it is named among): its date, and
    its theater when ``several`` theaters are reported; a day and theater of several
    reports (an official 900 beside a reported 2,000) named by kind where their kinds
    differ, and by source where one kind has several."""

    def name(r: Any) -> list[str]:
        return [f"{d} {th}" if several else str(d) for d, th in zip(r.date, r.theater, strict=True)]

    named, every = name(chosen), name(rows)
    # (counted once: 10,000 reports of one day were counted again for each)
    times = Counter(every)
    pairs = Counter(zip(every, rows.kind, strict=True))
    kinds: dict[str, set[str]] = {}
    for label, kind in pairs:
        kinds.setdefault(label, set()).add(kind)
    out = []
    for label, k, src in zip(named, chosen.kind, chosen.source, strict=True):
        if times[label] > 1:
            mixed, same = len(kinds[label]) > 1, pairs[label, k] > 1
            label += f" {k}" if mixed else ""
            label += f" ({src})" if same and src else ""
        out.append(label)
    return out


def observed_lines(
    assessment: Assessment, variants: Iterable[str], scenario: Scenario | None = None
) -> list[str]:
    """What ``forcesim run`` prints about the observations; with the ``scenario``, when a
    run without ``--as-of`` is conditioned on reports made after its own ``as_of``."""
    t = assessment.table
    n = len(assessment.observations)
    first = t[t.variant == next(iter(variants), None)] if len(t) else t
    scored = first[first.status == SCORED]
    targets = int((first.status == NOT_A_LEVEL).sum())
    out_of_range = int((first.status == OUT_OF_RANGE).sum())
    when = assessment.as_of
    split = ""
    if when is not None:
        known = int(scored.known.sum())
        # (a report dated by its month alone, of the as-of month, before its last day:
        # neither known nor later; the rows of a variant follow the observations' order)
        unsure = sum(
            1
            for o, status in zip(assessment.observations, first.status, strict=False)
            if status == SCORED and not o.known(when) and not o.after(when)
        )
        later = len(scored) - known - unsure
        split = f" ({known} known on {when.isoformat()}, {later} reported later"
        split += f", {unsure} dated by the as-of month alone)" if unsure else ")"
    outside = ""
    if out_of_range:  # (which: "out of range" alone did not say of what)
        rows = first[first.status == OUT_OF_RANGE]
        named = [f"{d} {th}" for d, th in zip(rows.date, rows.theater, strict=True)]
        outside = f" ({_first_few(named, SHOWN_OUTSIDE)})"
    lines = [
        f"observations: {n:,} from {assessment.observations.origin}; {len(scored):,} "
        f"level{'' if len(scored) == 1 else 's'} "
        f"scored{split}, {targets} target{'s' if targets != 1 else ''} (drawn, not scored), "
        f"{out_of_range} outside the scenario's months or series{outside}; "
        f"tolerance {assessment.tolerance}"
    ]
    several = len({o.theater for o in assessment.observations}) > 1
    scored_of: dict[str, Any] = {}  # each variant's scored rows, taken once

    def scored_rows(v: str) -> Any:
        if v not in scored_of:
            scored_of[v] = t[(t.variant == v) & (t.status == SCORED)]
        return scored_of[v]

    # variants that fit and miss the same reports share one line
    verdicts = []
    for v in variants:
        rows = scored_rows(v)
        ok = int(rows.consistent.fillna(False).sum())
        text = f"central run consistent with {ok:,} of {len(rows):,}"
        bad = rows[rows.consistent.eq(False).fillna(False).to_numpy(bool)]
        if len(bad):
            out = _report_labels(bad, rows, several)
            text += " (not: " + _first_few(out, SHOWN_MISSES, "observed.csv lists them") + ")"
        verdicts.append((v, text))
    lines += _alike(verdicts, "    ")
    c = assessment.conditioned
    if c is not None:
        which = f"known on {when.isoformat()}" if when is not None else "known"
        lines.append(
            f"conditioning on the reports {which} (each right within its tolerance with "
            f"probability {exact_percent(1 - c.error)}): effective draws per variant"
        )
        later = 0
        if when is None and scenario is not None:
            later = _used_after(assessment, first, scenario.as_of_day)
        if later and scenario is not None:
            day = str(scenario.doc.as_of)  # as written: a day, or a month (its last day)
            lines += textwrap.wrap(
                f"(without --as-of every report counts, {later} of them made after the "
                f"scenario's as_of, {day}; --as-of {day} conditions on what was known then)",
                WIDTH,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        far = assessment.discrepant()
        weighs = assessment.weighing(list(c.effective))
        weighed = []  # variants weighed alike share a line
        for v, e in c.effective.items():
            # a discrepant report is missed by every draw alike: it weighs none of them
            off = len(far.get(v, []))
            weigh = weighs[v]
            # (the known reports that repeat a quantity a later one states: fewer
            # reports weigh the draws than are known, and the line says why)
            again = int(((t.variant == v) & (t.conditioning == "superseded")).sum())
            besides = [
                f"{off} discrepant, left out" if off else "",
                f"{again} superseded by a later report of {'its' if again == 1 else 'their'} month"
                if again
                else "",
            ]
            text = (
                f"{e:,.1f}{KEEP}of{KEEP}{c.draws:,} ({100 * e / c.draws:.1f}{KEEP}%), "
                f"{weigh} report{'' if weigh == 1 else 's'}"
                + (f" (and {'; '.join(b for b in besides if b)})" if any(besides) else "")
            )
            if e < c.minimum:
                text += f"; fewer than {c.minimum}: left out of the conditioned files"
            weighed.append((v, text))
        lines += _alike(weighed, "    ")
        lines += _mostly_missed(scored_rows, c, several)
        for report, (but, named) in assessment.discrepant_reports(list(c.effective)).items():
            who = _who(but, named)
            lines.append(
                f"    discrepant: {report}: no draw of {who} comes within its tolerance; "
                "left out of the weights"
            )
    # within the width of the run table, continuation lines indented under their line
    # (never broken at a KEEP space)
    return [
        part.replace(KEEP, " ")
        for line in lines
        for part in textwrap.wrap(
            line.lstrip(),
            WIDTH,
            initial_indent=line[: len(line) - len(line.lstrip())],
            subsequent_indent=" " * (len(line) - len(line.lstrip()) + 4),
            break_on_hyphens=False,
        )
    ]


def _mostly_missed(scored_rows: Callable[[str], Any], c: Any, several: bool) -> list[str]:
    """The reports that weigh the draws but that fewer than half the weighted draws come
    within (``p_consistent_conditioned`` under 0.5), for each variant in the conditioned
    files, named as :func:`_report_labels` names them among the variant's scored rows
    (``scored_rows(variant)``), variants naming the same reports on one line: the
    weighted bands do not follow these, and a reader of the bands should know which."""
    named: dict[tuple[str, ...], list[str]] = {}
    shares: dict[tuple[str, ...], list[float]] = {}
    for v in c.variants:
        rows = scored_rows(v)
        low = rows[(rows.conditioning == "used") & (rows.p_consistent_conditioned < 0.5)]
        if not len(low):
            continue
        labels = tuple(_report_labels(low, rows, several))
        named.setdefault(labels, []).append(v)
        shares.setdefault(labels, []).extend(low.p_consistent_conditioned.tolist())
    if not named:
        return []
    lines = [
        "    reports fewer than half the weighted draws come within (p_consistent_conditioned "
        "in observed.csv):"
    ]
    for labels, vs in named.items():
        low_share, high_share = 100 * min(shares[labels]), 100 * max(shares[labels])
        span = f"{low_share:.0f}{KEEP}%"
        if f"{high_share:.0f}" != f"{low_share:.0f}":
            span = f"{low_share:.0f}–{high_share:.0f}{KEEP}%"
        reports = _first_few(list(labels), SHOWN_MISSES, "observed.csv lists them")
        lines.append(f"        {', '.join(vs)}: {reports} ({span} of the weighted draws within)")
    return lines


def conditioning_warnings(assessment: Assessment, plan: Plan) -> list[str]:
    """The warnings of a conditioned run of ``plan`` (a variant's; the reports' quantities
    follow its reporting bases): reports of one day that disagree where the order of
    their rows decides which conditions, no report conditioning the draws (the
    conditioned files are then the plain ensemble's), and some (or every) variant
    keeping too few effective draws."""
    c = assessment.conditioned
    if c is None:
        return []
    lines = disagreement_lines(
        disagreeing_days(assessment.observations, assessment.tolerance, plan, assessment.as_of)
    )
    far = assessment.discrepant()
    if not any(n - len(far.get(v, [])) for v, n in c.used.items()):
        when = assessment.as_of
        known = f"known on {when.isoformat()} " if when is not None else ""
        off = sorted({r for reports in far.values() for r in reports})
        why = (
            f"the reports that count are discrepant, no draw coming near them: {', '.join(off)}"
            if off
            else "none of the record's levels in the scenario's months was public by then: a "
            "later --as-of conditions it"
            if when is not None
            else "none of the record's levels falls in the scenario's months and series"
        )
        return lines + [
            f"--condition: no report {known}weighs the draws ({why}), so the conditioned "
            "files repeat the plain ensemble."
        ]
    if not c.too_few:
        return lines
    why = (
        "the draws that fit the known reports best are so few that its conditioned "
        "bands would rest on a handful of them; observed.csv shows which reports it "
        "misses (a model that cannot reach them, or reports that contradict each other), "
        "and more --draws or a wider --tolerance may help"
    )
    if not c.variants:
        return lines + [
            f"no variant keeps {c.minimum} effective draws or more (fewest "
            f"{min(c.effective.values()):,.1f}); no conditioned files were written: {why}."
        ]
    return lines + [
        f"{v} keeps {c.effective[v]:,.1f} effective draws of {c.draws:,} (fewer than "
        f"{c.minimum}); it is left out of the conditioned files: {why}."
        for v in c.too_few
    ]


def disagreement_lines(groups: Iterable[Sequence[Observation]]) -> list[str]:
    """A warning per group of reports of one quantity and day that disagree
    (:func:`sim.analysis.conditioning.disagreeing_days`): the one listed last counts, so
    the order of the rows decides what conditions and what is scored."""
    out = []
    for rows in groups:
        first = rows[0]
        said = _first_few(
            [f"{_observed_text(o)}{f' ({o.source})' if o.source else ''}" for o in rows],
            SHOWN_DISAGREEING,
            "observed.csv lists them",
        )
        last = rows[-1]
        out.append(
            f"{first.date} {first.theater}: reports of one day disagree beyond the "
            f"tolerance ({said}); the one listed last counts"
            + (f" ({last.source})" if last.source else "")
            + ", so the order of the rows decides what conditions and what is scored: "
            "list last the report to trust, or leave the other out."
        )
    return out


def _observed_text(o: Observation) -> str:
    """A report's figure as a reader reads it: ``1,500``, ``900–2,000``, ``fewer than
    1,000``, ``more than 900``; an official figure says so."""
    if o.low is None:
        text = f"fewer than {o.high:,.0f}"
    elif o.high is None:
        text = f"more than {o.low:,.0f}"
    elif o.low == o.high:
        text = f"{o.low:,.0f}"
    else:
        text = f"{o.low:,.0f}–{o.high:,.0f}"
    return f"official {text}" if o.kind == "official" else text


def vintage_warnings(series: VintageSeries) -> list[str]:
    """A warning per vintage with variants left out for too few effective draws (the
    variants of one vintage named together), then one per vintage lacking series the
    record reports on later (the series of one vintage named together)."""
    minimum = MIN_EFFECTIVE_DRAWS
    by_vintage: dict[str, list[str]] = {}
    for vintage, variant, effective in series.left_out:
        by_vintage.setdefault(vintage, []).append(f"{variant} {effective:,.1f}")
    # the reports known on a vintage's date that no draw comes near: left out of its
    # weights, as forcesim run says of them, so its projection does not follow them
    discrepant = []
    for v in series.vintages:
        assessment = v.result.observed
        if assessment is None or assessment.conditioned is None:
            continue
        among = list(assessment.conditioned.effective)
        reports = [
            report + ("" if but and not named else f" ({_who(but, named)})")
            for report, (but, named) in assessment.discrepant_reports(among).items()
        ]
        if reports:
            discrepant.append(
                f"{v.scenario.id} leaves out of its weights {'; '.join(reports)}: no draw "
                "comes within its tolerance, so its projection does not follow "
                f"{'it' if len(reports) == 1 else 'them'} (forcesim run --condition "
                "--as-of its date lists them too)."
            )
    if series.draws < minimum and by_vintage:  # (none could keep enough: said once)
        lines = [
            f"no vintage is scored or drawn: {_draws(series.draws)} each "
            f"{'is' if series.draws == 1 else 'are'} fewer than the {minimum} effective "
            "draws a vintage needs, and conditioning keeps fewer still; give many more "
            "--draws (the README's series takes 20,000)."
        ]
        by_vintage = {}
    else:
        lines = []
    lines += [
        f"{vintage} keeps fewer than {minimum} effective draws of {series.draws:,} in "
        f"{', '.join(found)}; not scored and not drawn: the draws that fit the reports "
        "known on its date are so few that bands and scores would rest on a handful of "
        "them; more --draws or a wider --tolerance may help."
        for vintage, found in by_vintage.items()
    ]
    lines += discrepant
    # reports of one day that disagree, where their order decides what a vintage is
    # conditioned on (the latest known on its date) or scored on (the latest of all),
    # each group once for the series
    groups: dict[tuple[int, ...], list[Observation]] = {}
    for v in series.vintages:
        assessment = v.result.observed
        if assessment is None:
            continue
        plan = v.result.plans[v.result.variants[0]]
        for when in (v.as_of, None):
            for rows in disagreeing_days(series.observations, assessment.tolerance, plan, when):
                groups.setdefault(tuple(id(o) for o in rows), rows)
    lines += disagreement_lines(groups.values())
    had = {v.scenario.id for v in series.vintages}
    for variant in dict.fromkeys(name for _, name in series.lacking):
        ids = [i for i, name in series.lacking if name == variant and i in had]
        if ids:
            lines.append(
                f"{variant} is not a variant of {', '.join(ids)}: not run or scored for "
                f"{'it' if len(ids) == 1 else 'them'}."
            )
    asked = list(dict.fromkeys(name for _, name in series.lacking))
    gone = [i for i, _ in series.skipped]
    if gone:
        one = len(gone) == 1
        what = (
            f"the variant asked for, {asked[0]}"
            if len(asked) == 1
            else f"all the variants asked for ({', '.join(asked)})"
        )
        lines.append(f"{', '.join(gone)} {'lacks' if one else 'lack'} {what}: left out.")
    for vintage in dict.fromkeys(i for i, _, _ in series.absent):
        found = series.absent_of(vintage)
        names = [name for name, _ in found]
        total = sum(n for _, n in found)
        each = f" ({', '.join(f'{n} of {name}' for name, n in found)})" if len(found) > 1 else ""
        lines.append(
            f"{vintage} lacks {', '.join(names[:-1]) + ' and ' if names[:-1] else ''}"
            f"{names[-1]}, which the record reports on after its date: {total} later "
            f"report{'' if total == 1 else 's'} not scored for it{each}; a vintage is "
            "scored on the series it projects."
        )
    reported = list(dict.fromkeys(o.theater for o in series.observations or ()))
    for v in series.vintages:  # (a record of other theaters: an empty score, not a fit)
        own = {name for p in v.result.plans.values() for name in p.series_names()}
        if reported and not own & set(reported):
            lines.append(
                f"{v.scenario.id} shares no theater or site with the record, which reports "
                f"on {listed(reported)}: none of its reports conditions or scores it."
            )
    return lines


def _absent_of(lacks: dict[str, int], theaters: Sequence[str] = ()) -> str:
    """The series a vintage lacks (``lacks``: each with its later reports, from
    :meth:`VintageSeries.absent_of`; of ``theaters`` alone, in their order, when given):
    ``beta (2 later reports), iraq/erbil (1)``; empty when it lacks none."""
    names = dict.fromkeys(theaters) if theaters else lacks
    lacked = [(name, lacks[name]) for name in names if name in lacks]
    return ", ".join(
        f"{name} ({n} later report{'' if n == 1 else 's'})" if k == 0 else f"{name} ({n})"
        for k, (name, n) in enumerate(lacked)
    )


def _used_after(assessment: Assessment, rows: Any, day: dt.date | None) -> int:
    """How many of the reports that condition (``rows``: one variant's rows of the
    observed table, in file order; a discrepant report counts, as it would have
    conditioned any variant it came near) were made after ``day`` for certain."""
    items = assessment.observations.items
    if day is None or len(rows) != len(items):
        return 0
    used = rows.conditioning.isin([USED, DISCREPANT]).tolist() if "conditioning" in rows else []
    return sum(1 for o, u in zip(items, used, strict=False) if u and o.after(day))


def compare_lines(cmp: Comparison) -> list[str]:
    """A short text table: each theater at the key months (deadlines, horizon)."""
    months = key_months(cmp.scenario.doc)
    t = cmp.table
    lines = [
        _fit(
            f"{cmp.scenario.id}: {cmp.b} − {cmp.a}, troops at the end of each month; "
            f"{cmp.draws:,} paired draw{'' if cmp.draws == 1 else 's'} (seed {cmp.seed})"
        ),
        *_settings_lines(cmp.scenario),
        _fit(f"A: {cmp.a}, B: {cmp.b}; P(B>A): the share of draws where B has more troops"),
        f"{'theater':<10}{'month':>9}{'median':>9}{'90 % of draws':>18}{'mean':>10}"
        f"{'P(B>A)':>9}{'P(B<A)':>9}",
    ]
    for tid in cmp.theaters:
        rows = t[t.theater == tid]
        # the month of the largest mean difference, then the deadlines and the horizon
        size = rows["mean"].abs().to_numpy()
        peak = [str(rows.month.iloc[int(size.argmax())])] if size.max() > 0 else []
        for m in sorted({*peak, *months}):
            row = rows[rows.month.astype(str) == m]
            if not len(row):
                continue
            r = row.iloc[0]
            span = f"{r.p05:+,} to {r.p95:+,}"
            note = "  (largest mean difference)" if m in peak else ""
            lines.append(
                f"{tid:<10}{m:>9}{r.p50:>+9,}{span:>18}{r['mean']:>+10,.1f}"
                f"{r.p_b_greater:>9.2f}{r.p_b_less:>9.2f}{note}"
            )
    return lines


def sweep_lines(sw: Sweep) -> list[str]:
    """What ``forcesim sweep`` prints: the grid (and, where a variant sets a swept key
    itself, that the swept values replace its own), then each variant's lowest and
    highest chance of meeting each deadline across the points, with where they are."""
    shape = " x ".join(f"{k} ({len(v)})" for k, v in zip(sw.keys, sw.values, strict=True))
    points = len(sw.table.drop_duplicates(subset=sw.keys))
    kind = (
        f"{sw.draws:,} draws per point (seed {sw.seed}, the same at every point)"
        if sw.draws
        else "the deterministic central run at each point"
    )
    lines = [
        f"{sw.scenario.id}: sweep of {shape}: {points:,} points x {len(sw.variants)} "
        f"variants; {kind}"
    ]
    if any(_variant_sets(sw.scenario, v, key) for v in sw.variants for key in sw.keys):
        # (a variant named for a value of the key, slip-6, runs at every value swept)
        lines.append(
            "the swept values replace each variant's own: a variant's name may no longer say them"
        )
    t = sw.table[sw.table.outcome.str.startswith("p_met ")]
    if not len(t):
        return lines
    lines.append("chance of meeting each deadline (p_met), lowest and highest across the points:")
    width = max(len(v) for v in sw.variants) + 2
    mw = max(len(o) for o in t.outcome) - 4

    for v in sw.variants:
        for outcome, rows in t[t.variant == v].groupby("outcome", sort=False):
            lo = rows.loc[rows.value.idxmin()]
            hi = rows.loc[rows.value.idxmax()]
            head = f"  {v:<{width}}{str(outcome).removeprefix('p_met '):<{mw}}"
            if lo.value == hi.value:
                lines.append(f"{head}{lo.value:5.2f} at every point")
            else:
                lines.append(
                    f"{head}{lo.value:5.2f} ({_at(sw, lo)}) to {hi.value:.2f} ({_at(sw, hi)})"
                )
    return lines


def _variant_sets(scenario: Any, variant: str, key: str) -> bool:
    """Whether ``variant``'s overrides write a value at dotted ``key``."""
    at: Any = (scenario.raw.get("variants") or {}).get(variant, {}).get("overrides")
    for part in key.split("."):
        if not isinstance(at, dict) or part not in at:
            return False
        at = at[part]
    return True


def sensitivity_lines(sens: Sensitivity) -> list[str]:
    """What ``forcesim sensitivity`` prints: for each variant and milestone, the input
    that moves its chance of being met the most (tenths), or the largest total Sobol
    index."""
    t = sens.table
    kind = (
        f"tenths of {sens.draws:,} draws (seed {sens.seed})"
        if sens.method == "tenths"
        else f"Sobol indices from {sens.draws:,} base samples (seed {sens.seed})"
    )
    lines = [f"{sens.scenario.id}: what moves each deadline, {kind}"]
    lines += _settings_lines(sens.scenario)
    prefix = "p_met " if sens.method == "tenths" else "met "
    width = max(len(v) for v in sens.variants) + 2
    for v in sens.variants:
        rows = t[(t.variant == v) & t.outcome.str.startswith(prefix)]
        for outcome, group in rows.groupby("outcome", sort=False):
            mid = str(outcome).removeprefix(prefix)
            if sens.method == "tenths":
                top = group.iloc[0]  # sorted by swing, largest first
                if not top.swing:
                    lines.append(f"  {v:<{width}}{mid}: no input moves it")
                    continue
                noise = noise_of(top.within_noise)
                if noise is None:  # one-draw tenths
                    said = ", its standard error not estimated (one draw per tenth)"
                elif noise:
                    said = (
                        f", within sampling noise (standard error {float(top.se):.2f}): "
                        "more draws would tell"
                    )
                else:
                    said = ""
                lines.append(
                    f"  {v:<{width}}{mid}: {top.input} moves it most, "
                    f"{float(top.low):.2f} (lowest tenth) to {float(top.high):.2f} (highest)" + said
                )
            else:
                valid = group.dropna(subset=["total"])
                if not len(valid):
                    lines.append(f"  {v:<{width}}{mid}: does not vary")
                    continue
                top = valid.loc[valid.total.idxmax()]
                lines.append(
                    f"  {v:<{width}}{mid}: {top.input}, total index {top.total:.2f}"
                    f"{_plus_minus(top.total_conf)} (first-order {top.first_order:.2f}"
                    f"{_plus_minus(top.first_order_conf)})"
                )
    return lines


def _plus_minus(conf: float) -> str:
    """A Sobol index's 95 % confidence half-width as ``" ± 0.06"``; nothing when it is 0
    or missing (an index every resample puts at the same value)."""
    return f" ± {conf:.2f}" if math.isfinite(float(conf)) and conf > 0 else ""


def _at(sw: Sweep, row: object) -> str:
    """Where a row of the sweep table sits in the grid: ``key=value`` of the swept keys."""
    return ", ".join(f"{k}={row[k]}" for k in sw.swept) or "every point"  # type: ignore[index]


def backtest_lines(bt: Backtest) -> list[str]:
    sc = bt.scenario
    compared = int(bt.table.observations.max()) if len(bt.table) else 0
    n = len(bt.observations)
    targets = sum(o.kind == TARGET for o in bt.observations)
    lines = [
        f"{sc.id}: backtest of {len(PROFILES)} profiles x {len(bt.variants)} "
        f"variant{'s' if len(bt.variants) != 1 else ''} against {n - targets} "
        f"observation{'' if n - targets == 1 else 's'} "
        f"({compared} within the scenario's months)"
        + (
            f"; {targets} target{'' if targets == 1 else 's'} drawn, not compared"
            if targets
            else ""
        ),
        "each profile applied to every milestone; errors in troops beyond the "
        "observed range; MAPE in % of the observed level",
    ]
    width = max([len(v) for v in bt.variants] + [7]) + 2
    lines.append(
        f"{'variant':<{width}}{'profile':<10}{'MAE':>9}{'MAPE':>9}{'max error':>11}{'months':>8}"
    )
    for v in bt.variants:
        compared = bt.table[bt.table.variant == v].mae.notna().any()
        best = bt.best(v).profile if compared else None
        tied = bt.tied(v) if compared else []
        for _, r in bt.table[bt.table.variant == v].iterrows():
            mark = "  <- best for this variant" if r.profile == best else ""
            mark = mark or ("  <- as good (tied)" if r.profile in tied else "")
            lines.append(
                f"{v:<{width}}{r.profile:<10}{_fmt(r.mae):>9}"
                f"{_fmt(r.mape, pct=True):>9}{_fmt(r.max_error):>11}"
                f"{int(r.months_compared):>8}{mark}"
            )
    b = bt.best()
    lines.append(
        f"best fit: profile {b.profile!r} with variant {b.variant!r}: MAE "
        f"{_fmt(b.mae)} troops, MAPE {_fmt(b.mape, pct=True)}, max error "
        f"{_fmt(b.max_error)} troops over {int(b.months_compared)} "
        f"month{'' if int(b.months_compared) == 1 else 's'}" + _ties(bt.tied())
    )
    by_profile = bt.table.groupby("profile", sort=False).mae.mean()
    ranked = sorted(by_profile.items(), key=lambda kv: (kv[1], PROFILES.index(kv[0])))
    lines.append("mean MAE across variants: " + ", ".join(f"{p} {_fmt(m)}" for p, m in ranked))
    return lines


def _ties(profiles: list[str]) -> str:
    """What the best-fit line adds when other profiles fit exactly as well."""
    if len(profiles) < 2:
        return ""
    others = profiles[1:]
    named = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
    return f" (tied with {named}: the same MAE and max error; the first in profile order is named)"


def _fmt(x: float | None, pct: bool = False, places: int = 1) -> str:
    """A table cell: a number in whole units (``3,375``), or with ``pct`` a percentage
    of ``places`` decimals (``45.5 %``); ``–`` where it is missing (None or NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{places}f} %" if pct else f"{x:,.0f}"


def _vintages_run(series: VintageSeries) -> str:
    """``6 vintages``, ``1 vintage``, or ``3 of 6 vintages`` when some had none of the
    variants asked for."""
    n = len(series.vintages)
    every = n + len(series.skipped)
    word = "vintage" if every == 1 else "vintages"
    return f"{n} {word}" if n == every else f"{n} of {every} {word}"


def vintage_lines(
    series: VintageSeries, variants: Sequence[str] = (), theaters: Sequence[str] = ()
) -> list[str]:
    """What ``forcesim vintages`` prints: per vintage and theater, how its bands did on
    the later reports (all horizons), for ``variants`` (default: ``as-reported``, or
    each vintage's first variant) and ``theaters`` (default: every one, as scored);
    scores.csv has every variant, theater and horizon."""
    s = series.scores
    rows = s[s.horizon == "all"]
    every = rows  # (every theater's, to tell a theater left unscored from a vintage)
    if theaters:
        rows = rows[rows.theater.isin(list(theaters))]
    # the theater column as wide as its longest name (alpha/north, not alpha/no)
    wide = max([len("theater"), *(len(str(t)) for t in rows.theater)]) + 2
    lines = [
        f"{_vintages_run(series)}, {_draws(series.draws)} each (seed {series.seed}, "
        f"tolerance {series.tolerance_text()}):",
        "    each conditioned on what was known on its date, scored on what came later",
        f"{'vintage':<22}{'as of':>11}{'variant':>16}{'theater':>{wide}}{'later':>7}"
        f"{'in 50 %':>9}{'in 80 %':>9}{'exp 80 %':>10}{'IS80':>9}{'CRPS':>9}",
    ]
    seen: list[str] = []  # the variants shown, in order
    for vintage in series.vintages:
        shown = list(variants) or [
            "as-reported"
            if "as-reported" in vintage.result.variants
            else vintage.result.variants[0]
        ]
        mine = rows[(rows.vintage == vintage.scenario.id) & rows.variant.isin(shown)]
        few = [
            f"{v}: {e:,.1f} effective draws, not scored"
            for i, v, e in series.left_out
            if i == vintage.scenario.id and v in shown
        ]
        others = every[(every.vintage == vintage.scenario.id) & every.variant.isin(shown)]
        lacks = dict(series.absent_of(vintage.scenario.id))
        absent = _absent_of(lacks, theaters)
        had = [t for t in theaters if t not in lacks]  # (the rest: the line below)
        if few or (not len(mine) and (had or not theaters)):
            later = series.later_levels(vintage.as_of)
            lines.append(
                f"{vintage.scenario.id:<22}{vintage.as_of.isoformat():>11}   "
                + (
                    "; ".join(few)
                    if few
                    else f"no later report of {', '.join(had)} scored"
                    if len(others)  # (scored in other theaters: those asked for had none)
                    else f"no later report scored ({later:,} later: each open-ended, "
                    "outside its months, superseded by a later one of its month, or of a "
                    "level it was conditioned on)"
                    if later
                    else "no later report"
                )
            )
        for r in mine.itertuples():
            lines.append(f"{r.vintage[:21]:<22}{r.as_of:>11}" + _score_cells(r, wide))
        if absent:  # reports of a series a later vintage adds
            lines.append(
                f"{vintage.scenario.id:<22}{vintage.as_of.isoformat():>11}   "
                f"not in this vintage, not scored: {absent}"
            )
        seen += [v for v in shown if v not in seen]
    pooled = series.pooled
    # (a variant pooled over two vintages or more: over one, it repeats that one's row)
    together = pooled[(pooled.horizon == "all") & pooled.variant.isin(seen) & (pooled.vintages > 1)]
    if theaters:
        together = together[together.theater.isin(list(theaters))]
    pooled_lines = len(series.vintages) > 1 and len(together) > 0
    if pooled_lines:
        for r in together.itertuples():  # every vintage's scores together
            lines.append(f"{f'all {r.vintages} vintages':<22}{'':>11}" + _score_cells(r, wide))
        # and every theater's: the series' one headline (where it pools several)
        every_theater = series.pooled_together(list(theaters) if theaters else None)
        every_theater = every_theater[every_theater.horizon == "all"]
        for v in seen:
            if (together.variant == v).sum() > 1:
                for r in every_theater[every_theater.variant == v].itertuples():
                    lines.append(f"{'all vintages':<22}{'':>11}" + _score_cells(r, wide))
    key = (
        "later: the reports after the vintage's date it scores (of each quantity in a month, "
        "the one that counts, if it states both bounds); in 50 % / in 80 %: the share of them "
        "inside its central 50 % / 80 % band; exp 80 %: what a calibrated projection would put "
        "inside its 80 % bands, the mean share of the draws they hold (at least 80 %: a band holds "
        "every draw at its ends); IS80: mean interval score of the 80 % band, CRPS: mean "
        "continuous ranked probability score, both in troops, lower is better"
        + (
            "; all N vintages: every vintage's later reports together, a report once per "
            "vintage that scores it; theater all: every theater's together"
            if pooled_lines
            else ""
        )
        + " (docs/vintages.md)"
    )
    # (a number keeps its per cent sign on its line)
    glued = key.replace(" %", "\u00a0%")
    wrapped = textwrap.wrap(glued, width=100, subsequent_indent="    ", break_on_hyphens=False)
    lines += [line.replace("\u00a0", " ") for line in wrapped]
    lines.append(
        "scores.csv has every variant and horizon band; pooled.csv every vintage together; "
        "points.csv each scored report"
    )
    return lines


def _score_cells(r: Any, wide: int) -> str:
    """A row of the vintages' table after its first two columns: the variant, the
    theater (``wide`` characters) and the scores of ``r`` (a row of ``scores.csv`` or
    ``pooled.csv``)."""
    return (
        f"{r.variant[:15]:>16}{r.theater:>{wide}}"
        f"{r.observations:>7}{_fmt(100 * r.coverage50, pct=True, places=0):>9}"
        f"{_fmt(100 * r.coverage80, pct=True, places=0):>9}"
        f"{_fmt(100 * r.expected_coverage80, pct=True, places=0):>10}"
        f"{_fmt(r.interval_score):>9}{_fmt(r.crps):>9}"
    )


def _draws(n: int) -> str:
    """``1 draw``, ``2,000 draws``."""
    return f"{n:,} draw" + ("" if n == 1 else "s")


def _who(but: bool, named: list[str]) -> str:
    """The variants a report is discrepant in, as :meth:`Assessment.discrepant_reports`
    names them: ``any variant``, ``any variant but a, b`` or ``a, b``."""
    if but:
        return f"any variant but {', '.join(named)}" if named else "any variant"
    return ", ".join(named)
