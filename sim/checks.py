"""Semantic checks: rules a document can break while every key has the right type.

Each check raises a located :class:`~sim.errors.ScenarioError`. They run on
every resolved document (the base and each variant) when a scenario loads.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import partial
from typing import Any

from sim.errors import ScenarioWarning
from sim.io.numbers import whole_problem
from sim.io.yamlio import value_at
from sim.model.draws import central_inputs, shared_streams, stream_key
from sim.model.plan import Plan, compile_plan
from sim.model.stepper import step
from sim.months import first_day, format_month
from sim.provenance import describe_quantity
from sim.schema import PROFILES as PROFILE_NAMES
from sim.schema import ScenarioDoc, Spec, central, support

MAX_TROOPS = 10_000_000  # any one level [troops]; keeps ensemble histograms bounded
# A theater's highest level (the sum of its tracks' highest) is at most MAX_TROOPS too, so
# with at most 50 theaters every sum of levels stays below 2**31 - 1 (int32 levels).


MAX_DELAY = 600  # months: the longest calendar the format allows

#: the most sites a scenario may have, over all its theaters: each site is a series of
#: every table and a track the stepper moves one at a time, so within it every run stays
#: inside the memory the README states (the largest public count of US base sites
#: abroad is about 750: Quincy Institute, *Drawdown*, 2021; docs/scenario-format.md)
MAX_SITES = 1_000


def _same_number(text: str, found: str) -> bool:
    try:
        return float(text) == float(found.replace(",", ""))
    except ValueError:
        return False


def _num(x: float) -> str:
    if isinstance(x, int):
        return f"{x:,}"  # exact: a float would round a large integer
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,}"


def _written_numbers(q: Any) -> list[tuple[tuple[str | int, ...], Any]]:
    """(key path within the quantity, number as given) of each number a quantity writes."""
    if not isinstance(q, Spec):
        return [((), q)]
    parts: list[tuple[tuple[str | int, ...], Any]] = []
    if q.value is not None:
        parts.append((("value",), q.value))
    for form in ("uniform", "triangular"):
        parts += [((form, i), v) for i, v in enumerate(getattr(q, form) or [])]
    if q.choice is not None:
        parts += [(("choice", "values", i), v) for i, v in enumerate(q.choice.values)]
    return parts


def _refuse(err: Any, q: Any, path: tuple[str | int, ...], bound: float, expected: str) -> Any:
    """``err`` about the number of quantity ``q`` (at ``path``) equal to ``bound``, one
    of its :func:`support`: at that number's own key path, and the number as given, not
    as the float ``bound`` (``99999999999999999``, not ``100,000,000,000,000,000``)."""
    for sub, v in _written_numbers(q):
        if float(v) == bound:
            return err(path + sub, expected, _num(v))
    return err(path, expected, _num(bound))


def _reference_error(doc: ScenarioDoc, locator: Any, path: Any, expected: str, found: str) -> Any:
    """A broken reference's error (:func:`sim.model.plan.compile_plan`), saying where the
    theater or site it names was deleted (``theaters: {iraq: null}`` in a file that
    extends another, or a setting of null): else the parent's milestone is blamed, and
    what removed the entry is not named."""
    name = value_at(doc.model_dump(), [str(part) for part in path], None)  # (an error's path)
    if isinstance(name, str) and name:
        tid, _, sid = name.partition("/")
        entry = ("theaters", tid, "sites", sid) if sid else ("theaters", tid)
        gone = locator.removed(entry)
        if gone is not None:
            found += f" ({'.'.join(entry)} is deleted at {gone[0]}:{gone[1]})"
    return locator.error(path, expected, found)


def check_scenario(doc: ScenarioDoc, locator: Any) -> Plan:
    """Compile ``doc`` and check it; return the plan."""
    _check_whole(doc, locator)
    _check_site_count(doc, locator)
    plan = compile_plan(doc, error=partial(_reference_error, doc, locator))

    def err(path: Any, expected: str, found: str, **kw: Any) -> Any:
        # a number found at a scalar the file wrote: quote it as written ('1400', not 1,400)
        text = locator.text(path)
        if text is not None and _same_number(text, found):
            found = text if text[:1] in ("'", '"') else repr(text)
        elif text is not None and ".." in text:  # a value a sweep's range made: the range
            found = f"{found} (a value of the range {text!r})"
        return locator.error(path, expected, found, **kw)

    _check_levels(doc, err)
    _check_sources(doc, err)
    delay, at = doc.announcement.delay, ("announcement", "delay")
    lo, hi = support(delay)
    if lo < 0:
        raise _refuse(err, delay, at, lo, "a delay of 0 months or more")
    if hi > MAX_DELAY:
        raise _refuse(err, delay, at, hi, f"a delay of at most {MAX_DELAY} months")
    _check_milestones(doc, plan, err)
    _check_residuals(doc, plan, err)
    _check_theater_totals(plan, err)
    _check_reachable(plan, err)
    _check_streams(plan, err)
    return plan


def _check_streams(plan: Plan, err: Any) -> None:
    """Refuse two uncertain inputs whose random streams would be one: each stream is
    seeded by the run's seed and a 32-bit hash of its key path
    (:func:`sim.model.draws.stream_key`), and two paths with the same hash would draw
    the same numbers (one chance in about 10^3 for the largest scenario the format
    allows, and then only with ids chosen by chance). At the second path's key (its
    ``probability`` for the stream of a probability)."""
    pair = shared_streams(plan)
    if pair is None:
        return
    first, second = pair
    key, _, part = second.partition("#")
    path = (*key.split("."), *([part] if part else []))  # (a probability's own key)
    raise err(
        path,
        "inputs drawn independently (each random stream is seeded by the CRC-32 of its key path)",
        f"{second!r}, whose CRC-32 ({stream_key(second)}) is that of {first!r}: the two "
        "would draw the same numbers (rename one of the ids)",
        key=True,
    )


def quantities(doc: ScenarioDoc) -> list[tuple[tuple[str | int, ...], Any, str]]:
    """(key path, quantity, unit) of every number the model counts in whole units:
    troops [troops] and the announcement delay [months]."""
    out: list[tuple[tuple[str | int, ...], Any, str]] = [
        (("announcement", "delay"), doc.announcement.delay, "months")
    ]
    for tid, t in doc.theaters.items():
        if t.initial is not None:
            out.append((("theaters", tid, "initial"), t.initial, "troops"))
        for sid, s in t.sites.items():
            out.append((("theaters", tid, "sites", sid, "initial"), s.initial, "troops"))
    for mid, m in doc.milestones.items():
        kind = "level" if m.target.level is not None else "reduce_by"
        out.append((("milestones", mid, "target", kind), getattr(m.target, kind), "troops"))
    for rid, r in doc.residuals.items():
        out.append((("residuals", rid, "size"), r.size, "troops"))
    return out


def _check_whole(doc: ScenarioDoc, locator: Any) -> None:
    """Troops and months are whole: a fraction, or a thousands separator (``2.500``), is
    refused with a hint, never rounded."""
    for path, q, unit in quantities(doc):
        for sub, value in _written_numbers(q):
            full = path + sub
            broken = whole_problem(value, locator.text(full), unit)
            if broken is not None:
                raise locator.error(full, *broken)


def _check_site_count(doc: ScenarioDoc, locator: Any) -> None:
    """At most :data:`MAX_SITES` sites over all theaters; the error names the first
    site past the limit, in the order the file gives them."""
    total = sum(len(t.sites) for t in doc.theaters.values())
    if total <= MAX_SITES:
        return
    seen = 0
    for tid, t in doc.theaters.items():
        if seen + len(t.sites) > MAX_SITES:
            sid = list(t.sites)[MAX_SITES - seen]
            raise locator.error(
                ("theaters", tid, "sites", sid),
                f"at most {MAX_SITES:,} sites in a scenario, over all its theaters",
                f"{total:,} sites (this one the {MAX_SITES + 1:,}st)",
                key=True,
            )
        seen += len(t.sites)


def _check_reachable(plan: Plan, err: Any) -> None:
    """Every target must be reached within the calendar in the central run; otherwise
    the chart could never show it (a step profile would show nothing at all)."""

    out = step(plan, central_inputs(plan))
    last = plan.n_months - 1
    for j, ms in enumerate(plan.milestones):
        reached = int(out.reached[0, j])
        if reached > last:
            key = {"month": (), "announcement": ("after_announcement",), "milestone": ("months",)}[
                ms.kind
            ]
            raise err(
                ("milestones", ms.id, "deadline", *key),
                f"a target reached within the calendar (by "
                f"{format_month(plan.start + last)}; the {PROFILE_NAMES[ms.profile]} "
                f"profile cannot reach it otherwise)",
                f"it is reached in {format_month(plan.start + reached)}",
            )


def _check_levels(doc: ScenarioDoc, err: Any) -> None:
    for tid, theater in doc.theaters.items():
        quantities: list[tuple[tuple[str, ...], Any]] = [
            (("theaters", tid, "initial"), theater.initial),
            (("theaters", tid, "unreported"), theater.unreported),
        ]
        for sid, s in theater.sites.items():
            quantities += [
                (("theaters", tid, "sites", sid, "initial"), s.initial),
                (("theaters", tid, "sites", sid, "unreported"), s.unreported),
            ]
        for path, q in quantities:
            if q is not None and support(q)[0] < 0:
                what = "a number of troops" if path[-1] == "unreported" else "a level"
                raise _refuse(err, q, path, support(q)[0], f"{what} of 0 troops or more")
            if q is not None and support(q)[1] > MAX_TROOPS:
                expected = f"a level of at most {MAX_TROOPS:,} troops"
                raise _refuse(err, q, path, support(q)[1], expected)
        if theater.sites and isinstance(theater.initial, Spec) and theater.initial.uncertain:
            # the theater's level is the sum of its sites': this uncertainty would be dropped
            raise err(
                ("theaters", tid, "initial"),
                "a plain number, or no initial, for a theater with sites (its level is "
                "the sum of its sites'; put the uncertainty on the sites)",
                describe_quantity(theater.initial),
            )
        if theater.sites and theater.initial is not None:
            total = sum(central(s.initial) for s in theater.sites.values())
            if total != central(theater.initial):
                raise err(
                    ("theaters", tid, "initial"),
                    f"the sum of its sites' initial levels ({_num(total)})",
                    _num(central(theater.initial)),
                )


def _check_sources(doc: ScenarioDoc, err: Any) -> None:
    known = {s.id for s in doc.sources}
    seen: set[str] = set()
    for i, s in enumerate(doc.sources):
        if s.id in seen:
            raise err(("sources", i, "id"), "each source id once", f"a second {s.id!r}")
        seen.add(s.id)
    for path, cited in citations(doc):
        if cited not in known:
            expected = "one of the ids in sources: " + (", ".join(sorted(known)) or "(none)")
            raise err(path, expected, repr(cited))


def citations(doc: ScenarioDoc) -> list[tuple[tuple[str | int, ...], str]]:
    """Every ``source`` key of ``doc``'s numbers, milestones and announcement (not the
    ``sources`` list, its observations or its variants): ``(path, the id it names)``,
    in the file's order."""
    return [(path, text) for path, text in _texts(doc) if path[-1] == "source"]


def _texts(doc: ScenarioDoc) -> list[tuple[tuple[str | int, ...], str]]:
    """Every string of ``doc`` but those of its ``sources`` list, its observations and
    its variants: ``(path, the string)``, in the file's order."""
    out: list[tuple[tuple[str | int, ...], str]] = []

    def walk(value: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))
        elif path and isinstance(value, str):
            out.append((path, value))

    walk(doc.model_dump(by_alias=True, exclude={"sources", "variants", "observations"}), ())
    return out


def late_citations(
    doc: ScenarioDoc, as_of: dt.date
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """The citations of ``doc`` (:func:`citations`) that name a source dated after
    ``as_of``, a projection's date: ``(path, source id, its date as written)`` each, in
    the file's order. A source dated by its month alone counts from the month's first
    day (it may have come out before the projection); an id ``sources`` lacks, or a
    source with no date, is never late here."""
    late = _late_sources(doc, as_of)
    return [(path, cited, late[cited]) for path, cited in citations(doc) if cited in late]


def _late_sources(doc: ScenarioDoc, as_of: dt.date) -> dict[str, str]:
    """The sources of ``doc`` dated after ``as_of``, by id: their dates as written (one
    dated by its month alone counts from the month's first day)."""
    return {
        s.id: str(s.date) for s in doc.sources if s.date is not None and first_day(s.date) > as_of
    }


def late_mentions(doc: ScenarioDoc, as_of: dt.date) -> list[tuple[tuple[str | int, ...], str, str]]:
    """The text of ``doc`` (assumptions, quotes, descriptions, titles: every string but
    the ``sources`` list, its observations, its variants and the ``source`` keys) that
    names, as a whole word, the id of a source dated after ``as_of`` (as
    :func:`late_citations` dates them): ``(path, source id, its date as written)`` each,
    in the file's order, the first such id of each text. An assumption that names a
    later report was made knowing it."""
    dated = _late_sources(doc, as_of)
    if not dated:
        return []
    names = re.compile(
        r"(?<![\w-])("
        + "|".join(re.escape(i) for i in sorted(dated, key=len, reverse=True))
        + r")(?![\w-])"
    )
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    for path, text in _texts(doc):
        found = None if path[-1] == "source" else names.search(text)
        if found:
            out.append((path, found.group(1), dated[found.group(1)]))
    return out


def _check_milestones(doc: ScenarioDoc, plan: Plan, err: Any) -> None:
    start = plan.start
    levels = {k: central(t.initial) + central(t.unreported) for k, t in enumerate(plan.tracks)}
    for ms in (plan.milestones[j] for j in plan.order):  # each track in date order
        path = ("milestones", ms.id)
        lo_delay, hi_delay = support(ms.delay)
        if lo_delay < 0:
            expected = "an execution delay of 0 months or more"
            raise _refuse(err, ms.delay, path + ("delay",), lo_delay, expected)
        if hi_delay > MAX_DELAY:
            expected = f"an execution delay of at most {MAX_DELAY} months"
            raise _refuse(err, ms.delay, path + ("delay",), hi_delay, expected)
        if ms.kind == "announcement":
            # the earliest the deadline falls: the announcement as expected, or as little
            # delayed as the draws allow (a written deadline before the start is refused
            # as well, below)
            least = max(math.ceil(support(plan.delay)[0]), 0)
            earliest = plan.announce + least + ms.offset
            if earliest < 1:
                announced = format_month(start + plan.announce + least)
                when = (
                    f"the announcement at the earliest in {announced} (expected "
                    f"{format_month(start + plan.announce)}, delayed {least} months or more)"
                    if least
                    else f"the announcement expected in {announced}"
                )
                raise err(
                    path + ("deadline",),
                    f"a deadline after the start month {format_month(start)}",
                    f"{{after_announcement: {ms.offset}}}, which falls in "
                    f"{format_month(start + earliest)} with {when}",
                )
        if ms.kind == "month":
            if ms.month < 1:
                raise err(
                    path + ("deadline",),
                    f"a deadline after the start month {format_month(start)}",
                    format_month(start + ms.month),
                )
            if ms.month >= plan.n_months:
                raise err(
                    path + ("deadline",),
                    f"a deadline within the horizon (by {format_month(start + plan.n_months - 1)})",
                    format_month(start + ms.month),
                )
        lo, hi = support(ms.target)
        level = levels[ms.track]
        target = path + ("target", ms.target_kind)
        if lo < 0:
            raise _refuse(err, ms.target, target, lo, "0 troops or more")
        if hi > MAX_TROOPS:
            raise _refuse(err, ms.target, target, hi, f"at most {MAX_TROOPS:,} troops")
        if ms.target_kind == "reduce_by":
            if hi > level:
                raise _refuse(
                    err,
                    ms.target,
                    target,
                    hi,
                    f"a reduction of at most the {_num(level)} troops "
                    f"{plan.tracks[ms.track].key} holds then",
                )
            levels[ms.track] = level - central(ms.target)
        else:
            levels[ms.track] = central(ms.target)


def _check_theater_totals(plan: Plan, err: Any) -> None:
    """Each theater's highest level, the sum of its tracks' highest levels (initial
    plus unreported, level targets, residual sizes: :meth:`Plan.track_top`), is at
    most MAX_TROOPS: the level arrays are int32, and 50 theaters of 10,000,000 sum
    to 5e8, far below 2**31 - 1."""
    for tid in plan.theaters:
        tracks = plan.theater_tracks(tid)
        total = sum(plan.track_top(k) for k in tracks)
        if total > MAX_TROOPS:
            parts = "its sites' highest levels" if len(tracks) > 1 else "initial plus unreported"
            raise err(
                ("theaters", tid),
                f"a theater of at most {MAX_TROOPS:,} troops at its highest (the sum of {parts})",
                f"{_num(total)} troops",
            )


def _check_residuals(doc: ScenarioDoc, plan: Plan, err: Any) -> None:
    for res in plan.residuals:
        lo, hi = support(res.size)
        track = plan.tracks[res.track]
        initial = support(track.initial)[1] + support(track.unreported)[1]
        size = ("residuals", res.id, "size")
        if lo < 0:
            raise _refuse(err, res.size, size, lo, "0 troops or more")
        if hi > initial:
            raise _refuse(
                err,
                res.size,
                size,
                hi,
                f"a residual no larger than the force ({_num(initial)} troops in "
                f"{plan.tracks[res.track].key})",
            )
        if res.from_month is not None and not 0 <= res.from_month < plan.n_months:
            raise err(
                ("residuals", res.id, "from"),
                "a month within the calendar",
                format_month(plan.start + res.from_month),
            )


# ---------------------------------------------------------------- inputs not used


def unused_inputs(
    base: ScenarioDoc, locator: Any, variants: dict[str, tuple[ScenarioDoc, dict[str, Any], Any]]
) -> list[ScenarioWarning]:
    """Inputs a scenario accepts but no run uses, each as a located warning:

    * an uncertain base number that every variant replaces (no run draws it);
    * ``slips`` that says the opposite of what happens: a deadline counted from the
      announcement always moves with it, one counted from another milestone moves
      exactly when that one does;
    * an entry a variant adds whose id is a slip of typing from one the base has
      (:func:`added_near`): a misspelt name adds a theater, site, milestone or
      residual where it meant to change one (heading ``a new entry``).

    ``variants`` maps each variant name to (document, raw data, locator); empty when
    the scenario has none.
    """
    out: dict[tuple[Any, ...], ScenarioWarning] = {}

    def warn(loc: Any, path: tuple[str | int, ...], why: str) -> None:
        file, line, col = loc.find(path, key=True)
        w = ScenarioWarning(why, file=file, line=line, col=col, path=".".join(map(str, path)))
        out.setdefault((file, line, col, w.path), w)

    if variants:
        used: dict[tuple[str | int, ...], list[Any]] = {}
        for doc, _raw, _loc in variants.values():
            for path, q, _unit in quantities(doc):
                used.setdefault(path, []).append(_numbers(q))
        names = ", ".join(variants)
        for path, q, _unit in quantities(base):
            if isinstance(q, Spec) and q.uncertain and _numbers(q) not in used.get(path, []):
                warn(
                    locator,
                    path,
                    f"every variant ({names}) replaces this {describe_quantity(q)}, so no "
                    "run draws it; state it in the variants that should use it",
                )
    for doc, _raw, loc in variants.values() or [(base, {}, locator)]:
        for mid, m in doc.milestones.items():
            if isinstance(m.deadline, str) or "slips" not in m.model_fields_set:
                continue
            after = getattr(m.deadline, "after", None)
            if after is None:
                moves, counted = True, "the announcement"
            else:
                ref = doc.milestones.get(after)
                moves = ref is not None and _moves(doc, after)
                counted = f"milestone {after!r}, which {'moves' if moves else 'does not move'}"
            if m.slips == moves:
                continue  # it says what happens anyway
            warn(
                loc,
                ("milestones", mid, "slips"),
                f"slips: {str(m.slips).lower()} has no effect: this deadline is counted from "
                f"{counted} with the announcement (slips applies to a deadline written as a "
                "month)",
            )
    for name, (doc, _raw, loc) in variants.items():
        for path, kind, near in added_near(base, doc):
            file, line, col = loc.find(path, key=True)
            w = ScenarioWarning(
                f"the base scenario has no {kind} {path[-1]!r}, but has {near!r}, a slip of "
                f"typing apart: this variant adds {path[-1]!r} as a new {kind} and leaves "
                f"{near!r} as the base has it; if that is meant, name the new {kind} apart",
                file=file,
                line=line,
                col=col,
                path=".".join(("variants", name, "overrides", *path)),
                heading="a new entry",
            )
            out.setdefault((file, line, col, w.path), w)
    return list(out.values())


def added_near(base: ScenarioDoc, doc: ScenarioDoc) -> list[tuple[tuple[str, ...], str, str]]:
    """The entries ``doc`` (a variant) has and ``base`` has not whose id is one slip of
    typing (:func:`typed_apart`) from an id of the same table in both: ``(key path,
    kind, the base's id)`` each. Theaters, their sites, milestones and residuals."""
    tables: list[tuple[tuple[str, ...], str, Any, Any]] = [
        (("theaters",), "theater", doc.theaters, base.theaters),
        (("milestones",), "milestone", doc.milestones, base.milestones),
        (("residuals",), "residual", doc.residuals, base.residuals),
    ]
    for tid, theater in doc.theaters.items():
        if tid in base.theaters:
            tables.append(
                (("theaters", tid, "sites"), "site", theater.sites, base.theaters[tid].sites)
            )
    out = []
    for at, kind, mine, theirs in tables:
        for eid in mine:
            if eid in theirs:
                continue
            # (of the base's ids the variant still has: one it deleted is not left as is)
            near = next((b for b in theirs if b in mine and typed_apart(eid, b)), None)
            if near is not None:
                out.append(((*at, eid), kind, near))
    return out


def typed_apart(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one slip of typing: a letter typed twice or
    left out, or two neighbours swapped (the edits of Damerau 1964, *Communications of
    the ACM* 7(3), less the change of one letter for another, which tells real names
    apart as often as it makes a typo: ``iran`` and ``iraq``, ``site-a`` and
    ``site-b``), none of them a digit (``phase-1``, ``phase-12``), both ids of at
    least 3 characters: ``chadd`` and ``chad``, ``liason`` and ``liaison``,
    ``chad-exti`` and ``chad-exit``."""
    if a == b or min(len(a), len(b)) < 3 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) != len(b):
        short, long = (a, b) if len(a) < len(b) else (b, a)
        return any(
            long[:i] + long[i + 1 :] == short and not long[i].isdigit() for i in range(len(long))
        )
    differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and a[differ[0]] == b[differ[1]]
        and a[differ[1]] == b[differ[0]]
        and not any(a[i].isdigit() for i in differ)
    )


def _moves(doc: ScenarioDoc, mid: str, depth: int = 0) -> bool:
    """Whether milestone ``mid``'s deadline moves with the announcement delay."""
    m = doc.milestones[mid]
    if isinstance(m.deadline, str):
        return m.slips
    after = getattr(m.deadline, "after", None)
    if after is None:
        return True
    return after in doc.milestones and depth < len(doc.milestones) and _moves(doc, after, depth + 1)


def _numbers(q: Any) -> Any:
    """What a quantity draws (its numbers, not its source or assumption)."""
    if isinstance(q, Spec):
        return q.model_dump(include={"value", "uniform", "triangular", "choice", "probability"})
    return float(q)
