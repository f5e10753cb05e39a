"""Properties of the stepper over generated scenarios, validated through the loader.

Scenario documents are generated as dicts, valid by construction, written as
YAML and loaded with :func:`sim.load_scenario`, so every example also checks
that the loader accepts what the format allows. A ScenarioError here is a
failure: either the generator or the loader is wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import dump
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.model.draws import central_inputs
from sim.model.stepper import step
from sim.months import add_months
from sim.scenario import load_scenario
from sim.schema import PROFILES

START = "2024-01"
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("properties") / "scenario.yaml"


def load(doc: dict[str, Any], path):
    path.write_text(dump(doc), encoding="utf-8")
    return load_scenario(path)


def outcomes(sc):
    """(variant, plan, step output of the central inputs) for every variant."""
    for name in sc.variant_names:
        plan = sc.plan(name)
        yield name, plan, step(plan, central_inputs(plan))


@st.composite
def scenarios(draw, *, drawdown_only: bool = False, feasible: bool = False) -> dict[str, Any]:
    """A valid scenario document.

    drawdown_only: every target is at or below the level before it, and a residual
        (if any) starts with the first milestone of its track.
    feasible: every deadline is a month at or after the announcement (after any
        delay), one per month per track, within the horizon; no residuals or
        dependencies, one variant. Every target can then be met exactly.
    """
    n_months = draw(st.integers(6, 30))
    expected = draw(st.integers(0, 5))
    delay = draw(st.integers(0, 5))
    announced = expected + delay
    theaters: dict[str, Any] = {}
    tracks: list[tuple[str, int]] = []
    for t in range(draw(st.integers(1, 3))):
        tid = f"t{t}"
        if draw(st.booleans()):
            sites = {
                f"s{k}": {"initial": draw(st.integers(0, 2000))}
                for k in range(draw(st.integers(1, 3)))
            }
            theaters[tid] = {"sites": sites}
            tracks += [(f"{tid}/{sid}", s["initial"]) for sid, s in sites.items()]
        else:
            initial = draw(st.integers(0, 5000))
            theaters[tid] = {"initial": initial}
            tracks.append((tid, initial))

    milestones: dict[str, Any] = {}
    residuals: dict[str, Any] = {}
    for key, initial in tracks:
        level = initial
        first = max(announced, 1) if feasible else 1
        free = n_months - first
        count = draw(st.integers(0, min(3, free))) if free > 0 else 0
        months = (
            sorted(draw(st.sets(st.integers(first, n_months - 1), min_size=count, max_size=count)))
            if count
            else []
        )
        ids = []
        last_written = 0  # calendar deadlines of a track must be written in date order
        for i, month in enumerate(months):
            mid = f"{key.replace('/', '-')}-m{i}"
            # drawdown-only: fixed months, since a variant with another delay moves a
            # slipping deadline past a fixed one, and the track then takes its targets
            # in that date order, which need not be a drawdown
            forms = ["month"] if drawdown_only else ["month", "slipping", "announcement"]
            # a milestone dated after another takes its place on the track by that date,
            # which need not be the order its level was drawn in: not drawdown-only
            if not feasible and not drawdown_only and milestones:
                forms.append("after")
            form = draw(st.sampled_from(forms))
            deadline: Any = add_months(START, month)
            slips = False
            if form == "slipping" and month - delay >= max(1, last_written):
                deadline, slips = add_months(START, month - delay), True
                last_written = month - delay
            elif form == "announcement" and month >= announced:
                deadline = {"after_announcement": month - announced}
            elif form == "after":
                deadline = {
                    "after": draw(st.sampled_from(sorted(milestones))),
                    "months": draw(st.integers(0, 4)),
                }
            else:
                last_written = month
            new_level = draw(st.integers(0, level if drawdown_only else 6000))
            if draw(st.booleans()):
                target = {"level": new_level}
            else:
                new_level = draw(st.integers(0, level))  # a reduction never exceeds the force
                target = {"reduce_by": level - new_level}
            level = new_level
            milestones[mid] = {
                "theater": key,
                "deadline": deadline,
                "target": target,
                "profile": draw(st.sampled_from(PROFILES)),
                # written only when it has an effect (slips: false on a deadline counted
                # from the announcement would say the opposite of what happens)
                **({"slips": True} if slips else {}),
            }
            ids.append(mid)
        if not feasible and draw(st.booleans()):
            size = draw(st.integers(0, initial))
            if drawdown_only:
                if not ids:
                    continue
                start: Any = {"milestone": ids[0]}
            elif ids and draw(st.booleans()):
                start = {"milestone": draw(st.sampled_from(sorted(milestones)))}
            else:
                start = add_months(START, draw(st.integers(0, n_months - 1)))
            residual = {"theater": key, "size": size, "from": start}
            if draw(st.booleans()):
                first_month = (
                    0
                    if isinstance(start, dict)
                    else int(start[5:]) - 1 + 12 * (int(start[:4]) - 2024)
                )
                residual["until"] = add_months(START, draw(st.integers(first_month, n_months - 1)))
            residuals[f"r-{key.replace('/', '-')}"] = residual

    doc: dict[str, Any] = {
        "id": "generated",
        "title": "Generated scenario",
        "as_of": START,
        "calendar": {"start": START, "end": add_months(START, n_months - 1)},
        "announcement": {"expected": add_months(START, expected), "delay": delay},
        "theaters": theaters,
        "milestones": milestones,
        "residuals": residuals,
    }
    if not feasible and draw(st.booleans()):
        doc["variants"] = {
            "as-written": {"description": "as written", "overrides": {}},
            "other-delay": {
                "description": "another delay",
                "overrides": {"announcement": {"delay": draw(st.integers(0, 3))}},
            },
        }
    return doc


def _drop_unreachable(doc: dict[str, Any]) -> dict[str, Any]:
    """The loader refuses a target the calendar cannot reach (a slip past the horizon);
    the generator cannot always know, so such documents get a longer calendar."""
    doc["calendar"]["end"] = add_months(START, 600 - 1 - 60)
    return doc


def load_generated(doc: dict[str, Any], path):
    from sim.errors import ScenarioError

    # a milestone dated after another takes its place by date, so a reduction the
    # generator sized in file order may exceed the level it then follows: discarded; so
    # is a deadline counted from an announcement a variant makes in the start month
    # ({after_announcement: 0} with no delay), which the loader refuses as it refuses
    # a written deadline of the start month
    try:
        return load(doc, path)
    except ScenarioError as exc:
        _set_aside(exc)
        if "a target reached within the calendar" not in str(exc):
            raise
    try:
        return load(_drop_unreachable(doc), path)
    except ScenarioError as exc:  # (the longer calendar may show either of them too)
        _set_aside(exc)
        raise


def _set_aside(exc: Exception) -> None:
    """Set aside, as hypothesis assumes, a generated document the loader refuses for
    what the generator cannot know (:func:`load_generated`)."""
    for expected in (
        "expected a reduction of at most",
        "expected a deadline after the start month",
    ):
        assume(expected not in str(exc))


@pytest.mark.slow
@PROPERTY
@given(doc=scenarios())
def test_levels_are_never_negative(scratch, doc):
    sc = load_generated(doc, scratch)
    for name, plan, out in outcomes(sc):
        assert out.tracks.min(initial=0) >= 0, name
        assert out.theaters.min(initial=0) >= 0, name
        assert out.tracks.shape[-1] == plan.n_months


@pytest.mark.slow
@PROPERTY
@given(doc=scenarios(drawdown_only=True))
def test_drawdown_only_scenarios_never_rise_and_never_exceed_the_start(scratch, doc):
    sc = load_generated(doc, scratch)
    for name, _plan, out in outcomes(sc):
        for levels in (out.tracks[0], out.theaters[0]):
            steps = np.diff(levels, axis=-1)
            assert (steps <= 0).all(), f"{name}: a level rises"
            assert (levels <= levels[:, :1]).all(), f"{name}: a level exceeds the start"


@pytest.mark.slow
@PROPERTY
@given(doc=scenarios(feasible=True))
def test_feasible_targets_are_met_exactly_in_their_deadline_month(scratch, doc):
    sc = load(doc, scratch)
    [(_name, plan, out)] = list(outcomes(sc))
    expected_level = {}
    for key, track in ((t.key, t) for t in plan.tracks):
        expected_level[key] = int(track.initial)
    for j, ms in enumerate(plan.milestones):
        key = plan.tracks[ms.track].key
        raw = doc["milestones"][ms.id]
        goal = raw["target"].get("level")
        if goal is None:
            goal = expected_level[key] - raw["target"]["reduce_by"]
        expected_level[key] = goal
        deadline = int(out.deadline[0, j])
        assert int(out.reached[0, j]) == deadline, f"{ms.id} missed"
        assert int(out.tracks[0, ms.track, deadline]) == goal, f"{ms.id} not hit exactly"


@pytest.mark.slow
@PROPERTY
@given(doc=scenarios())
def test_theaters_are_the_sum_of_their_sites(scratch, doc):
    sc = load_generated(doc, scratch)
    for _name, plan, out in outcomes(sc):
        for t, tid in enumerate(plan.theaters):
            parts = out.tracks[0, plan.theater_tracks(tid)].sum(axis=0)
            np.testing.assert_array_equal(out.theaters[0, t], parts)
