"""Validated scenario document → :class:`Plan`, the stepper's static structure.

A plan is what the stepper needs that does not vary between draws: the months,
the tracks (a theater, or a site of a theater), the milestones in an order
where everything a milestone depends on comes first, and the residuals. The
numbers that may vary between draws stay as quantities, each with a stable
name (its key path), so that :mod:`sim.draws` can give every variant the same
draws for the same quantity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from sim.errors import ScenarioError, listed, nearest
from sim.months import format_month, parse_month
from sim.schema import (
    PROFILES,
    AfterAnnouncement,
    AfterMilestone,
    FromMilestone,
    Number,
    ScenarioDoc,
    Spec,
    central,
    support,
)

Quantity = Number | Spec


@dataclass(frozen=True)
class Track:
    """A force whose level the stepper moves: a theater without sites, or one site."""

    key: str  # "iraq" or "iraq/erbil"
    theater: str
    site: str | None
    initial: Quantity  # the official figure when ``unreported`` is given
    initial_path: str
    unreported: Quantity = 0  # troops official figures leave out (reporting basis)
    unreported_path: str = ""

    @property
    def has_basis(self) -> bool:
        """Whether official figures of this track may leave part of it out."""
        return support(self.unreported)[1] > 0


@dataclass(frozen=True)
class MilestonePlan:
    id: str
    track: int
    kind: str  # "month" | "announcement" | "milestone"
    month: int  # month index for kind "month" (0 = start month)
    offset: int  # months after the announcement / the referenced milestone
    ref: int  # referenced milestone index for kind "milestone", else -1
    slips: bool  # the deadline moves with the announcement delay
    target_kind: str  # "level" | "reduce_by"
    target: Quantity
    target_path: str
    profile: int  # index into PROFILES
    prev: int  # previous milestone on the same track, else -1
    delay: Quantity = 0  # execution delay [months]: completion behind the deadline
    delay_path: str = ""


@dataclass(frozen=True)
class ResidualPlan:
    id: str
    track: int
    size: Quantity
    size_path: str
    from_month: int | None  # month index, or None when it starts with a milestone
    from_milestone: int  # milestone index, else -1
    until: int | None  # last month index it is present, None when open-ended


@dataclass(frozen=True)
class Plan:
    """Everything the stepper needs that does not vary between draws."""

    scenario: str
    start: int  # month ordinal of the first month
    n_months: int
    theaters: tuple[str, ...]
    theater_names: tuple[str, ...]
    tracks: tuple[Track, ...]
    milestones: tuple[MilestonePlan, ...]
    order: tuple[int, ...]  # milestone indices, dependencies first
    residuals: tuple[ResidualPlan, ...]
    announce: int  # month index of the expected announcement (may be < 0)
    delay: Quantity

    @property
    def months(self) -> list[str]:
        return [format_month(self.start + i) for i in range(self.n_months)]

    def series_names(self) -> list[str]:
        """What an observation may name: each theater, then each site key (``iraq/erbil``)."""
        return list(self.theaters) + [t.key for t in self.tracks if t.site is not None]

    def track_milestones(self, k: int) -> list[int]:
        """The milestones of track ``k`` in the order they chain (each after its ``prev``);
        the list is shared, not to be changed."""
        return self._by_track[k]

    @cached_property
    def _by_track(self) -> list[list[int]]:
        return [
            [j for j in self.order if self.milestones[j].track == k]
            for k in range(len(self.tracks))
        ]

    def track_timed(self, k: int) -> list[int]:
        """The milestones whose window months (start and reached, :func:`sim.model.rules.timing`)
        fix track ``k``'s levels: its own, and those its residuals start with; ascending,
        the list shared, not to be changed."""
        return self._timed[k]

    @cached_property
    def _timed(self) -> list[list[int]]:
        out = []
        for k in range(len(self.tracks)):
            timed = set(self._by_track[k])
            timed.update(
                r.from_milestone for r in self.residuals if r.track == k and r.from_month is None
            )
            out.append(sorted(timed))
        return out

    def theater_tracks(self, theater: str) -> list[int]:
        """The tracks of a theater, in order; the list is shared, not to be changed."""
        return self._by_theater.get(theater, [])

    @cached_property
    def _by_theater(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, t in enumerate(self.tracks):
            out.setdefault(t.theater, []).append(i)
        return out

    def series_tracks(self, name: str) -> list[int]:
        """The tracks a series sums: a theater's tracks, or the one track of a site key."""
        return [i for i, t in enumerate(self.tracks) if name in (t.theater, t.key)]

    def has_basis(self, name: str) -> bool:
        """Whether official figures of series ``name`` (a theater or site key) may leave
        part of it out: some track of it has a reporting basis."""
        return any(self.tracks[k].has_basis for k in self.series_tracks(name))

    def track_top(self, k: int) -> int:
        """The highest level track ``k`` can take in any draw [troops].

        The largest of: its initial level plus the troops official figures leave
        out (the stepper's start level), each ``level`` target on it and each
        residual size on it, each the top of its range rounded to whole troops
        (``floor(x + 0.5)``, as the draws are). Reductions only lower a level.
        """

        def top(q: Quantity) -> int:  # the highest whole value a draw can take
            return int(math.floor(support(q)[1] + 0.5))

        t = self.tracks[k]
        hi = top(t.initial) + (top(t.unreported) if t.has_basis else 0)
        for m in self.milestones:
            if m.track == k and m.target_kind == "level":
                hi = max(hi, top(m.target))
        for r in self.residuals:
            if r.track == k:
                hi = max(hi, top(r.size))
        return hi

    def quantities(self) -> dict[str, Quantity]:
        """Every number the stepper takes, by its key path."""
        out: dict[str, Quantity] = {"announcement.delay": self.delay}
        for t in self.tracks:
            out[t.initial_path] = t.initial
            out[t.unreported_path] = t.unreported
        for m in self.milestones:
            out[m.target_path] = m.target
            out[m.delay_path] = m.delay
        for r in self.residuals:
            out[r.size_path] = r.size
        return out


def compile_plan(doc: ScenarioDoc, error: Any = None) -> Plan:
    """Build the plan of one resolved scenario document.

    ``error(path_tuple, expected, found)`` makes the exception for a broken
    reference; by default a plain :class:`ScenarioError` without a position.
    """

    def fail(path: tuple[str | int, ...], expected: str, found: str) -> Exception:
        if error is not None:
            return error(path, expected, found)
        return ScenarioError(expected, found, path=".".join(map(str, path)))

    start = parse_month(doc.calendar.start)
    n_months = parse_month(doc.calendar.end) - start + 1
    tracks: list[Track] = []
    for tid, theater in doc.theaters.items():
        if theater.sites:
            if theater.unreported is not None:
                sites = ", ".join(f"theaters.{tid}.sites.{s}" for s in theater.sites)
                raise fail(
                    ("theaters", tid, "unreported"),
                    f"unreported on each site of a theater with sites ({sites})",
                    "unreported on the theater",
                )
            for sid, site in theater.sites.items():
                tracks.append(
                    Track(
                        f"{tid}/{sid}",
                        tid,
                        sid,
                        site.initial,
                        f"theaters.{tid}.sites.{sid}.initial",
                        0 if site.unreported is None else site.unreported,
                        f"theaters.{tid}.sites.{sid}.unreported",
                    )
                )
        else:
            assert theater.initial is not None
            tracks.append(
                Track(
                    tid,
                    tid,
                    None,
                    theater.initial,
                    f"theaters.{tid}.initial",
                    0 if theater.unreported is None else theater.unreported,
                    f"theaters.{tid}.unreported",
                )
            )
    keys = {t.key: i for i, t in enumerate(tracks)}

    def track_of(where: str, path: tuple[str | int, ...]) -> int:
        if where in keys:
            return keys[where]
        if where in doc.theaters and doc.theaters[where].sites:
            sites = listed([f"{where}/{s}" for s in doc.theaters[where].sites])
            raise fail(path, f"a site of a theater with sites ({sites})", repr(where))
        raise fail(path, _one_of(list(keys), "theater", where), f"unknown theater {where!r}")

    ids = list(doc.milestones)
    index = {mid: i for i, mid in enumerate(ids)}
    milestones: list[MilestonePlan] = []
    for mid, ms in doc.milestones.items():
        track = track_of(ms.theater, ("milestones", mid, "theater"))
        dl = ms.deadline
        kind, month, offset, ref, slips = "month", 0, 0, -1, ms.slips
        if isinstance(dl, AfterAnnouncement):
            kind, offset, slips = "announcement", dl.after_announcement, True
        elif isinstance(dl, AfterMilestone):
            if dl.after not in index:
                raise fail(
                    ("milestones", mid, "deadline", "after"),
                    _one_of(ids, "milestone", dl.after),
                    f"unknown milestone {dl.after!r}",
                )
            if dl.after == mid:
                raise fail(
                    ("milestones", mid, "deadline", "after"),
                    "another milestone",
                    "the milestone itself",
                )
            kind, offset, ref = "milestone", dl.months, index[dl.after]
        else:
            month = parse_month(dl) - start
        if ms.target.level is not None:
            tkind, target = "level", ms.target.level
        else:
            assert ms.target.reduce_by is not None
            tkind, target = "reduce_by", ms.target.reduce_by
        milestones.append(
            MilestonePlan(
                id=mid,
                track=track,
                kind=kind,
                month=month,
                offset=offset,
                ref=ref,
                slips=slips,
                target_kind=tkind,
                target=target,
                target_path=f"milestones.{mid}.target.{tkind}",
                profile=PROFILES.index(ms.profile),
                prev=-1,
                delay=0 if ms.delay is None else ms.delay,
                delay_path=f"milestones.{mid}.delay",
            )
        )
    expected = parse_month(doc.announcement.expected) - start
    milestones = _chain_tracks(milestones, expected, central(doc.announcement.delay))
    order = _dependency_order(milestones, ids, fail)
    # a milestone that depends on another "slips" when the one it follows does
    for j in order:
        m = milestones[j]
        if m.kind == "milestone" and milestones[m.ref].slips and not m.slips:
            milestones[j] = MilestonePlan(**{**m.__dict__, "slips": True})

    residuals: list[ResidualPlan] = []
    for rid, res in doc.residuals.items():
        track = track_of(res.theater, ("residuals", rid, "theater"))
        from_month, from_ms = None, -1
        if isinstance(res.from_, FromMilestone):
            if res.from_.milestone not in index:
                raise fail(
                    ("residuals", rid, "from", "milestone"),
                    _one_of(ids, "milestone", res.from_.milestone),
                    f"unknown milestone {res.from_.milestone!r}",
                )
            from_ms = index[res.from_.milestone]
        else:
            from_month = parse_month(res.from_) - start
        until = parse_month(res.until) - start if res.until else None
        if until is not None and from_month is not None and until < from_month:
            raise fail(
                ("residuals", rid, "until"),
                f"a month at or after from ({res.from_})",
                repr(res.until),
            )
        residuals.append(
            ResidualPlan(rid, track, res.size, f"residuals.{rid}.size", from_month, from_ms, until)
        )

    return Plan(
        scenario=doc.id,
        start=start,
        n_months=n_months,
        theaters=tuple(doc.theaters),
        theater_names=tuple(t.name or tid.title() for tid, t in doc.theaters.items()),
        tracks=tuple(tracks),
        milestones=tuple(milestones),
        order=tuple(order),
        residuals=tuple(residuals),
        announce=parse_month(doc.announcement.expected) - start,
        delay=doc.announcement.delay,
    )


def _chain_tracks(
    milestones: list[MilestonePlan], expected: int, delay: float
) -> list[MilestonePlan]:
    """Each milestone with ``prev`` set to the one before it on its track, ordered by
    its deadline in the central run (announcement delay ``delay``): the month as
    written (plus the delay when it slips), the announcement plus the offset, or the
    referenced milestone's deadline plus the offset; file order breaks ties. So a
    file that ``extends`` another may add a milestone before an inherited one. A
    reference cycle keeps file order (it is reported later)."""
    nominal: dict[int, float] = {}

    def when(j: int, seen: frozenset[int] = frozenset()) -> float:
        if j not in nominal:
            m = milestones[j]
            if m.kind == "month":
                nominal[j] = m.month + (delay if m.slips else 0)
            elif m.kind == "announcement":
                nominal[j] = expected + delay + m.offset
            elif m.ref in seen:
                return float(j) - 1e9  # a cycle: file order
            else:
                nominal[j] = when(m.ref, seen | {j}) + m.offset
        return nominal[j]

    by_track: dict[int, list[int]] = {}
    for j in sorted(range(len(milestones)), key=lambda j: (when(j), j)):
        by_track.setdefault(milestones[j].track, []).append(j)
    out = list(milestones)
    for chain in by_track.values():
        for before, j in zip([-1, *chain], chain, strict=False):
            out[j] = replace(milestones[j], prev=before)
    return out


def _dependency_order(milestones: list[MilestonePlan], ids: list[str], fail: Any) -> list[int]:
    """Milestone indices with every dependency (same-track predecessor, ``after``) first."""
    deps = [{d for d in (m.prev, m.ref) if d >= 0} for m in milestones]
    order: list[int] = []
    state = [0] * len(milestones)  # 0 new, 1 on the stack, 2 done

    def visit(j: int, stack: list[int]) -> None:
        if state[j] == 2:
            return
        if state[j] == 1:
            cycle = " -> ".join(ids[k] for k in stack[stack.index(j) :] + [j])
            raise fail(
                ("milestones", ids[j], "deadline"),
                "milestones without a dependency cycle",
                f"the cycle {cycle}",
            )
        state[j] = 1
        for d in sorted(deps[j]):
            visit(d, stack + [j])
        state[j] = 2
        order.append(j)

    for j in range(len(milestones)):
        visit(j, [])
    return order


def _one_of(names: list[str], kind: str, name: object = None) -> str:
    """What an error expects of a name: ``one of a, b`` (the first :data:`~sim.errors.LISTED`
    of many, with a did-you-mean for ``name``), or that the scenario has none."""
    if not names:
        return f"a {kind} of the scenario (it has none)"
    hint = nearest(name, names) if isinstance(name, str) else None
    return "one of " + listed(names) + (f" (did you mean {hint!r}?)" if hint else "")
