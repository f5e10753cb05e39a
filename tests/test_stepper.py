"""sim.stepper: monthly levels, checked against values worked out by hand.

Month index 0 is the start month and holds the initial level. Unless a test
says otherwise the scenario starts 2024-01, ends 2024-12 and is announced in
2024-01 with no delay, so a milestone due 2024-11 has a window of 10 months
(index 0 to index 10) and the level at index m is L0 + (T - L0) * share(m / 10).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import make_doc

from sim.model.draws import Draws, central_inputs
from sim.model.rules import share
from sim.model.stepper import StepInputs, step
from sim.months import add_months, format_month, parse_month
from sim.scenario import load_scenario
from sim.schema import PROFILES

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def ms(
    theater: str = "alpha",
    deadline: Any = "2024-11",
    profile: str = "linear",
    slips: bool = False,
    **target: Any,
) -> dict[str, Any]:
    """A milestone; ``target`` is ``level=…`` or ``reduce_by=…`` (default level 0)."""
    return {
        "theater": theater,
        "deadline": deadline,
        "profile": profile,
        **({"slips": slips} if slips else {}),  # false is the default, and has no effect
        "target": target or {"level": 0},
    }


def doc(
    milestones: dict[str, Any],
    *,
    initial: int = 1000,
    expected: str = "2024-01",
    delay: int = 0,
    end: str = "2024-12",
    **more: Any,
) -> dict[str, Any]:
    return make_doc(
        theaters=more.pop("theaters", {"alpha": {"initial": initial}}),
        milestones=milestones,
        calendar={"end": end},
        announcement={"expected": expected, "delay": delay},
        **more,
    )


# ---------------------------------------------------------------- calendar


def test_months_are_calendar_months_not_30_day_blocks():
    assert add_months("2024-09", 6) == "2025-03"
    assert add_months("2024-12", 1) == "2025-01"
    assert add_months("2025-01", -1) == "2024-12"
    assert format_month(parse_month("2026-12")) == "2026-12"


def test_the_start_month_holds_the_initial_level_and_every_month_has_a_value(project):
    run = project(doc({"out": ms()}))
    assert run.months == MONTHS
    assert run["alpha"][0] == 1000


# ---------------------------------------------------------------- profiles


@pytest.mark.parametrize("x", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_share_follows_each_profiles_formula(x):
    xs = np.array([x])
    assert share(PROFILES.index("linear"), xs)[0] == pytest.approx(x)
    assert share(PROFILES.index("front"), xs)[0] == pytest.approx(1 - (1 - x) ** 2)
    assert share(PROFILES.index("back"), xs)[0] == pytest.approx(x**2)
    assert share(PROFILES.index("s-curve"), xs)[0] == pytest.approx(3 * x**2 - 2 * x**3)
    assert share(PROFILES.index("step"), xs)[0] == (1.0 if x == 1.0 else 0.0)


# level at index 2, 5 and 8 of a 1000 -> 0 drawdown over 10 months (x = 0.2, 0.5, 0.8):
#   linear  x            : 0.2, 0.5, 0.8         -> 800, 500, 200
#   front   1 - (1 - x)^2: 0.36, 0.75, 0.96      -> 640, 250, 40
#   back    x^2          : 0.04, 0.25, 0.64      -> 960, 750, 360
#   s-curve 3x^2 - 2x^3  : 0.104, 0.5, 0.896     -> 896, 500, 104
#   step    0 until x = 1                        -> 1000, 1000, 1000
@pytest.mark.parametrize(
    "profile, at_2, at_5, at_8",
    [
        ("linear", 800, 500, 200),
        ("front", 640, 250, 40),
        ("back", 960, 750, 360),
        ("s-curve", 896, 500, 104),
        ("step", 1000, 1000, 1000),
    ],
)
def test_each_profile_matches_its_formula_at_interior_months(project, profile, at_2, at_5, at_8):
    levels = project(doc({"out": ms(profile=profile)}))["alpha"]
    assert (levels[2], levels[5], levels[8]) == (at_2, at_5, at_8)
    assert levels[0] == 1000 and levels[10] == 0 and levels[11] == 0


def test_linear_drawdown_moves_the_same_number_of_troops_each_month(project):
    levels = project(doc({"out": ms()}))["alpha"]
    assert levels == [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100, 0, 0]


def test_step_profile_holds_the_level_until_the_deadline_month_then_changes_at_once(project):
    levels = project(doc({"out": ms(profile="step")}))["alpha"]
    assert levels == [1000] * 10 + [0, 0]


def test_back_loaded_reinforcement_follows_x_squared_upwards(project):
    # 1000 -> 2000 over 10 months, back-loaded: index 5 is 1000 + 1000 * 0.25
    levels = project(doc({"up": ms(profile="back", level=2000)}))["alpha"]
    assert levels[5] == 1250 and levels[10] == 2000


@pytest.mark.parametrize("profile", PROFILES)
def test_target_is_hit_exactly_in_the_deadline_month_for_every_profile(project, profile):
    # 2,500 - 617 over 7 months: no profile lands on a round number before the end
    run = project(
        doc({"cut": ms(deadline="2024-08", profile=profile, reduce_by=617)}, initial=2500)
    )
    assert run.at("alpha", "2024-08") == 1883
    assert run.at("alpha", "2024-07") != 1883
    assert run["alpha"][7:] == [1883] * 5
    row = run.milestones["cut"]
    assert (str(row.deadline), str(row.month_reached), row.met, row.target) == (
        "2024-08",
        "2024-08",
        True,
        1883,
    )


@pytest.mark.parametrize("profile", PROFILES)
def test_levels_are_whole_troops_within_the_window_for_every_profile(project, profile):
    run = project(doc({"cut": ms(deadline="2024-08", profile=profile, level=1)}, initial=2500))
    assert all(isinstance(v, int) for v in run["alpha"])
    assert all(1 <= v <= 2500 for v in run["alpha"])


def test_a_second_milestone_starts_its_window_when_the_first_is_reached(project):
    run = project(
        doc({"first": ms(deadline="2024-05", level=600), "second": ms(deadline="2024-11", level=0)})
    )
    # 1000 -> 600 over indices 0..4, then 600 -> 0 over indices 4..10
    assert run["alpha"] == [1000, 900, 800, 700, 600, 500, 400, 300, 200, 100, 0, 0]
    run = project(
        doc(
            {
                "first": ms(deadline="2024-03", level=800),
                "second": ms(deadline="2024-11", profile="step", level=0),
            }
        )
    )
    assert run["alpha"] == [1000, 900, 800] + [800] * 7 + [0, 0]


# ---------------------------------------------------------------- reinforcement


def test_a_target_above_the_current_level_is_a_reinforcement(project):
    run = project(doc({"surge": ms(deadline="2024-07", level=1600)}))
    assert run["alpha"] == [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1600, 1600, 1600, 1600, 1600]
    assert run.milestones["surge"].met


def test_a_drawdown_after_a_reinforcement_starts_from_the_reinforced_level(project):
    run = project(
        doc(
            {
                "surge": ms(deadline="2024-03", level=1400),
                "out": ms(deadline="2024-11", reduce_by=1400),
            }
        )
    )
    assert run["alpha"][:3] == [1000, 1200, 1400]
    assert run.at("alpha", "2024-07") == 700 and run.at("alpha", "2024-11") == 0


# ---------------------------------------------------------------- announcement


@pytest.mark.parametrize("expected, delay", [("2024-04", 0), ("2024-04", 2), ("2024-02", 5)])
def test_nothing_departs_before_the_announcement_month(project, expected, delay):
    run = project(doc({"out": ms(deadline="2024-12")}, expected=expected, delay=delay))
    announced = parse_month(add_months(expected, delay)) - parse_month("2024-01")
    levels = run["alpha"]
    assert levels[:announced] == [1000] * announced
    assert levels[announced] < 1000  # departures begin in the announcement month itself
    assert levels[11] == 0


def test_an_announcement_before_the_start_lets_departures_begin_at_once(project):
    run = project(doc({"out": ms()}, expected="2023-06"))
    assert run["alpha"][:3] == [1000, 900, 800]


def test_an_uncertain_delay_uses_its_central_value_in_a_deterministic_run(project):
    # weighted median of {0: 1, 3: 2, 9: 1} is 3: nothing leaves before 2024-04
    run = project(doc({"out": ms()}, delay={"choice": {"values": [0, 3, 9], "weights": [1, 2, 1]}}))
    assert run["alpha"][:3] == [1000, 1000, 1000] and run["alpha"][3] < 1000


@pytest.mark.parametrize(
    ("weights", "central"),
    [
        ([1, 3], 6),
        ([1e-12, 3e-12], 6),  # (the same odds at a small scale took 0)
        ([0.4999999999995, 0.5000000000005], 6),  # just past half: the second value
        ([4999999999995, 5000000000005], 6),
        ([0.5, 0.5], 0),  # exactly half: the first value reaches it
        ([0.1, 0.2, 0.3], 6),  # tenths, summed exactly: 0.1 + 0.2 reaches half of 0.6
    ],
)
def test_a_choices_central_value_is_its_weighted_median_at_any_scale_of_weights(
    weights: list[float], central: int
) -> None:
    from sim.schema import Spec

    values = [0, 6, 12][: len(weights)]
    spec = Spec.model_validate({"choice": {"values": values, "weights": weights}})
    assert spec.central == central


# ---------------------------------------------------------------- slip versus fixed


LATE = {
    "late": {
        "description": "announced six months late",
        "overrides": {"announcement": {"delay": 6}},
    }
}


def test_a_fixed_deadline_that_the_delay_makes_infeasible_is_missed(project):
    # due 2024-05; announced 2024-07: the cut happens in 2024-07, as soon as it may
    run = project(doc({"cut": ms(deadline="2024-05", level=400)}, variants=LATE), "late")
    assert run["alpha"] == [1000] * 6 + [400] * 6
    row = run.milestones["cut"]
    assert (str(row.deadline), str(row.month_reached), bool(row.met)) == (
        "2024-05",
        "2024-07",
        False,
    )


def test_a_fixed_deadline_holds_under_a_slip_and_the_drawdown_gets_steeper(project):
    d = doc(
        {"cut": ms(deadline="2024-11", level=400)},
        variants={"on-time": {"description": "on time", "overrides": {}}, **LATE},
    )
    on_time, late = project(d, "on-time"), project(d, "late")
    assert np.diff(on_time["alpha"][:11]).tolist() == [-60] * 10
    assert late["alpha"][:6] == [1000] * 6
    assert np.diff(late["alpha"][5:11]).tolist() == [-120] * 5
    assert late.at("alpha", "2024-11") == 400
    assert late.milestones["cut"].met and str(late.milestones["cut"].deadline) == "2024-11"


def test_a_slipping_deadline_moves_with_the_delay(project):
    run = project(
        doc({"cut": ms(deadline="2024-05", slips=True, level=400)}, variants=LATE), "late"
    )
    # due 2024-05 + 6 = 2024-11; the window runs from index 5 to index 10
    assert run["alpha"] == [1000] * 6 + [880, 760, 640, 520, 400, 400]
    row = run.milestones["cut"]
    assert (str(row.deadline), str(row.month_reached), bool(row.met)) == (
        "2024-11",
        "2024-11",
        True,
    )


def test_a_deadline_counted_from_the_announcement_slips_with_it(project):
    run = project(
        doc({"cut": ms(deadline={"after_announcement": 4}, level=400)}, variants=LATE), "late"
    )
    assert str(run.milestones["cut"].deadline) == "2024-11"
    assert run.at("alpha", "2024-11") == 400 and run.at("alpha", "2024-10") > 400
    assert run.milestones["cut"].met


def test_without_a_delay_slipping_and_fixed_deadlines_agree(project):
    fixed = project(doc({"cut": ms(level=400)}))
    slipping = project(doc({"cut": ms(slips=True, level=400)}))
    assert fixed["alpha"] == slipping["alpha"]


# ---------------------------------------------------------------- residual


def test_a_residual_floors_the_drawdown_until_it_ends(project):
    run = project(
        doc(
            {"out": ms()},
            residuals={
                "advisory": {"theater": "alpha", "size": 200, "from": "2024-01", "until": "2024-11"}
            },
        )
    )
    # the drawdown aims at 200 instead of 0: 1000 - 80 m; after 2024-11 the residual leaves
    assert run["alpha"] == [1000, 920, 840, 760, 680, 600, 520, 440, 360, 280, 200, 0]


def test_an_open_ended_residual_stays_to_the_horizon(project):
    run = project(
        doc(
            {"out": ms()},
            residuals={"advisory": {"theater": "alpha", "size": 200, "from": "2024-01"}},
        )
    )
    assert run["alpha"][10:] == [200, 200]
    assert run.milestones["out"].target == 200 and run.milestones["out"].met


def test_a_residual_from_a_milestone_leaves_the_earlier_path_alone(project):
    milestones = {"first": ms(deadline="2024-05", level=600), "last": ms(deadline="2024-11")}
    plain = project(doc(milestones))
    run = project(
        doc(
            milestones,
            residuals={
                "advisory": {"theater": "alpha", "size": 150, "from": {"milestone": "last"}}
            },
        )
    )
    assert run["alpha"][:5] == plain["alpha"][:5] == [1000, 900, 800, 700, 600]
    # from index 4 the last window aims at 150: 600 - 75 per month
    assert run["alpha"][4:] == [600, 525, 450, 375, 300, 225, 150, 150]


def test_a_residual_less_likely_than_not_is_left_out_of_a_deterministic_run(project):
    run = project(
        doc(
            {"out": ms()},
            residuals={
                "advisory": {
                    "theater": "alpha",
                    "from": "2024-01",
                    "size": {"value": 200, "probability": 0.4},
                }
            },
        )
    )
    assert run["alpha"][10:] == [0, 0]


def test_a_residual_range_uses_its_central_value(project):
    run = project(
        doc(
            {"out": ms()},
            residuals={
                "advisory": {"theater": "alpha", "from": "2024-01", "size": {"uniform": [100, 300]}}
            },
        )
    )
    assert run["alpha"][10:] == [200, 200]


# ---------------------------------------------------------------- dependency


TWO_THEATERS = {"alpha": {"initial": 1000}, "beta": {"initial": 300}}


def test_a_deadline_after_another_milestone_falls_that_many_months_after_it(project):
    run = project(
        doc(
            {
                "alpha-out": ms(deadline="2024-06"),
                "beta-out": ms(theater="beta", deadline={"after": "alpha-out", "months": 3}),
            },
            theaters=TWO_THEATERS,
        )
    )
    assert str(run.milestones["beta-out"].deadline) == "2024-09"
    assert run.at("beta", "2024-09") == 0 and run.at("beta", "2024-08") > 0
    assert run.milestones["beta-out"].met


def test_a_dependent_deadline_moves_when_the_milestone_it_follows_slips(project):
    d = doc(
        {
            "alpha-out": ms(deadline="2024-06", slips=True),
            "beta-out": ms(theater="beta", deadline={"after": "alpha-out", "months": 3}),
        },
        theaters=TWO_THEATERS,
        end="2025-06",
        variants={"late": {"description": "late", "overrides": {"announcement": {"delay": 2}}}},
    )
    run = project(d, "late")
    assert str(run.milestones["alpha-out"].deadline) == "2024-08"
    assert str(run.milestones["beta-out"].deadline) == "2024-11"
    assert run.at("beta", "2024-11") == 0


def test_a_dependent_deadline_counts_from_when_a_missed_milestone_is_actually_reached(project):
    d = doc(
        {
            "alpha-out": ms(deadline="2024-03"),
            "beta-out": ms(theater="beta", deadline={"after": "alpha-out", "months": 2}),
        },
        theaters=TWO_THEATERS,
        delay=5,
    )
    run = project(d)
    # alpha is due 2024-03 but can only leave in the announcement month, 2024-06
    assert str(run.milestones["alpha-out"].month_reached) == "2024-06"
    assert not run.milestones["alpha-out"].met
    assert str(run.milestones["beta-out"].deadline) == "2024-08"
    assert run.at("beta", "2024-08") == 0


# ---------------------------------------------------------------- execution delay


def test_an_execution_delay_stretches_the_window_past_the_deadline_and_misses_it(project):
    # 1,000 to 0 due 2024-06 (window 0..5), completed 3 months late: reached in
    # 2024-09, the window 0..8, so 1,000 - 125 m at month m; missed
    run = project(doc({"out": {**ms(deadline="2024-06"), "delay": 3}}))
    out = run.milestones["out"]
    assert str(out.deadline) == "2024-06" and str(out.month_reached) == "2024-09"
    assert not out.met
    assert run["alpha"][:10] == [1000, 875, 750, 625, 500, 375, 250, 125, 0, 0]


def test_a_zero_execution_delay_changes_nothing(project):
    plain = project(doc({"out": ms(deadline="2024-06")}))
    zero = project(doc({"out": {**ms(deadline="2024-06"), "delay": 0}}))
    assert plain["alpha"] == zero["alpha"]
    assert plain.milestones["out"].met and zero.milestones["out"].met


def test_a_milestone_dated_from_a_late_one_follows_when_it_is_actually_done(project):
    run = project(
        doc(
            {
                "alpha-out": {**ms(deadline="2024-06"), "delay": 2},
                "beta-out": ms(theater="beta", deadline={"after": "alpha-out", "months": 3}),
            },
            theaters=TWO_THEATERS,
            end="2025-06",
        )
    )
    assert str(run.milestones["alpha-out"].month_reached) == "2024-08"
    assert str(run.milestones["beta-out"].deadline) == "2024-11"
    assert run.milestones["beta-out"].met  # late only because the one it follows was


def test_an_execution_delay_adds_to_an_announcement_slip(project):
    d = doc(
        {"out": {**ms(deadline="2024-06", slips=True), "delay": {"value": 2}}},
        delay=1,
    )
    run = project(d)
    assert str(run.milestones["out"].deadline) == "2024-07"
    assert str(run.milestones["out"].month_reached) == "2024-09"


def test_an_uncertain_execution_delay_uses_its_central_value_in_a_deterministic_run(project):
    run = project(doc({"out": {**ms(deadline="2024-06"), "delay": {"uniform": [0, 4]}}}))
    assert str(run.milestones["out"].month_reached) == "2024-08"


def test_a_hold_then_a_dependent_drawdown_keeps_the_level_until_the_hold_ends(project):
    run = project(
        doc(
            {
                "alpha-out": ms(deadline="2024-04"),
                "beta-hold": ms(
                    theater="beta", deadline={"after": "alpha-out", "months": 2}, reduce_by=0
                ),
                "beta-out": ms(theater="beta", deadline={"after": "beta-hold", "months": 3}),
            },
            theaters=TWO_THEATERS,
        )
    )
    # alpha leaves by 2024-04 (index 3); beta holds 2 months more, to 2024-06 (index 5),
    # then leaves over 3 months, by 2024-09 (index 8)
    assert run["beta"][:6] == [300] * 6
    assert run["beta"][6:] == [200, 100, 0, 0, 0, 0]
    assert str(run.milestones["beta-out"].deadline) == "2024-09"


# ---------------------------------------------------------------- sites


SITE_THEATERS = {
    "alpha": {"sites": {"north": {"initial": 600}, "south": {"initial": 400}}},
    "beta": {"initial": 300},
}


def test_sites_sum_to_their_theater_every_month(project):
    run = project(
        doc(
            {
                "north-out": ms(theater="alpha/north", deadline="2024-06", profile="front"),
                "south-cut": ms(
                    theater="alpha/south", deadline="2024-10", profile="back", reduce_by=150
                ),
            },
            theaters=SITE_THEATERS,
        )
    )
    assert set(run.levels) == {"alpha", "alpha/north", "alpha/south", "beta"}
    total = np.add(run["alpha/north"], run["alpha/south"]).tolist()
    assert run["alpha"] == total
    assert run.at("alpha/north", "2024-06") == 0 and run.at("alpha/south", "2024-10") == 250
    assert run.at("alpha", "2024-12") == 250


def test_a_theater_without_sites_has_no_site_rows(project):
    run = project(doc({"out": ms()}))
    assert set(run.levels) == {"alpha"}


# ---------------------------------------------------------------- arrays in, arrays out


def _uncertain_plan(write):
    d = doc(
        {
            "north-out": ms(
                theater="alpha/north",
                deadline="2024-06",
                profile="s-curve",
                slips=True,
                reduce_by={"uniform": [100, 600]},
            ),
            "south-out": ms(
                theater="alpha/south",
                deadline="2024-11",
                profile="front",
                level={"triangular": [0, 50, 200]},
            ),
            "beta-out": {
                **ms(
                    theater="beta",
                    deadline={"after": "north-out", "months": 2},
                    profile="step",
                    level=0,
                ),
                "delay": {"choice": {"values": [0, 1, 3]}},
            },
        },
        theaters=SITE_THEATERS,
        end="2025-12",
        delay={"choice": {"values": [0, 2, 4, 8]}},
        residuals={
            "adv": {
                "theater": "alpha/south",
                "from": {"milestone": "south-out"},
                "size": {"uniform": [0, 150], "probability": 0.5},
            }
        },
    )
    return load_scenario(write(d)).plan("base")


def _row(inputs: StepInputs, i: int) -> StepInputs:
    return inputs.subset(slice(i, i + 1))


def _assert_same_as_one_by_one(plan, inputs: StepInputs) -> None:
    together = step(plan, inputs)
    for i in range(inputs.n):
        alone = step(plan, _row(inputs, i))
        for name in ("tracks", "theaters", "deadline", "original", "reached", "target", "announce"):
            np.testing.assert_array_equal(
                getattr(together, name)[i], getattr(alone, name)[0], err_msg=f"draw {i}: {name}"
            )


def test_many_drawn_inputs_stepped_at_once_equal_one_by_one_steps(write):
    plan = _uncertain_plan(write)
    inputs = Draws(seed=20240906).take(plan, 40)
    assert len(set(inputs.delay.tolist())) > 1  # the draws really differ
    assert len(set(inputs.exec_delay[:, 2].tolist())) > 1
    _assert_same_as_one_by_one(plan, inputs)


def test_many_hand_made_inputs_stepped_at_once_equal_one_by_one_steps(write):
    plan = _uncertain_plan(write)
    rng = np.random.default_rng(7)
    n = 25
    inputs = StepInputs(
        initial=rng.integers(0, 800, (n, len(plan.tracks))).astype(float),
        delay=rng.integers(0, 15, n),
        targets=rng.integers(0, 300, (n, len(plan.milestones))).astype(float),
        residual=rng.integers(0, 300, (n, len(plan.residuals))).astype(float),
        exec_delay=rng.integers(0, 4, (n, len(plan.milestones))),
    )
    _assert_same_as_one_by_one(plan, inputs)


def test_stepper_shapes_are_draws_by_tracks_or_theaters_by_months(write):
    plan = _uncertain_plan(write)
    out = step(plan, Draws(seed=1).take(plan, 3))
    assert out.tracks.shape == (3, 3, 24)
    assert out.theaters.shape == (3, 2, 24)
    assert out.reached.shape == out.deadline.shape == (3, 3)
    assert np.issubdtype(out.tracks.dtype, np.integer)


def test_stepper_is_pure_it_neither_changes_its_inputs_nor_depends_on_earlier_calls(write):
    plan = _uncertain_plan(write)
    inputs = Draws(seed=3).take(plan, 5)
    names = ("initial", "delay", "targets", "residual", "exec_delay", "unreported")
    before = {k: getattr(inputs, k).copy() for k in names}
    first = step(plan, inputs)
    step(plan, central_inputs(plan))
    second = step(plan, inputs)
    for k, v in before.items():
        np.testing.assert_array_equal(getattr(inputs, k), v)
    np.testing.assert_array_equal(first.tracks, second.tracks)


def test_a_residual_from_a_later_milestone_never_lifts_an_earlier_milestone_month(project):
    # first -> 100 by 2024-05; a residual of 300 starts with the next milestone:
    # 2024-05 still shows the first milestone's 100, and its target stays 100
    p = project(
        make_doc(
            milestones={
                "first": {"theater": "alpha", "deadline": "2024-05", "target": {"level": 100}},
                "second": {"theater": "alpha", "deadline": "2024-09", "target": {"level": 0}},
            },
            residuals={
                "advisory": {"theater": "alpha", "size": 300, "from": {"milestone": "second"}}
            },
        )
    )
    assert p.at("alpha", "2024-05") == 100
    assert p.milestones["first"].target == 100 and p.milestones["first"].met
    assert p.at("alpha", "2024-09") == 300
    assert p.milestones["second"].target == 300


def test_a_groups_level_in_a_month_is_the_steppers_level_in_held_runs_and_ramps():
    # the levels a conditioning tagger reads: one month of one track, held or in a window
    from sim.model.fastpath import Group
    from sim.model.rules import timing, timing_groups

    scenario = load_scenario("scenarios/iraq-syria-2024.yaml")
    plan = scenario.plan("as-reported")
    inputs = Draws(4).take(plan, 3000)
    want = step(plan, inputs).tracks  # (n, tracks, months)
    order, cuts = timing_groups(inputs.delay, inputs.exec_delay)
    arrays = inputs.group_arrays(plan)
    start, _, _, reached, _ = timing(plan, inputs.delay, inputs.exec_delay)
    ramps = 0
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        rows = order[a:b] if order is not None else np.arange(a, b)
        group = Group(
            plan, start[rows[0]].tolist(), reached[rows[0]].tolist(), *(x[:, rows] for x in arrays)
        )
        for k in range(len(plan.tracks)):
            ramps += sum(ramp for _, _, ramp, _, _ in group.runs(k))
            for m in range(plan.n_months):
                assert np.array_equal(group.level_in(k, m), want[rows, k, m]), (k, m)
    assert ramps > 0


def test_theater_sums_add_a_theaters_sites_in_place_without_a_copy_of_their_levels(write):
    # (a copy of every site's levels, n x sites x months, was taken to sum them: 63 MB of
    # 6,921 Sobol runs of 100 sites over 24 months, on top of the levels themselves)
    import tracemalloc

    from sim.model.rules import theater_sums

    doc = make_doc()
    doc["theaters"] = {
        "a": {"sites": {f"s{i}": {"initial": 10 + i} for i in range(20)}},
        "b": {"initial": 7},
    }
    doc["milestones"] = {}
    plan = load_scenario(write(doc)).plan("base")
    tracks = np.arange(500 * 21 * 24, dtype=np.int32).reshape(500, 21, 24) % 1000
    tracemalloc.start()
    try:
        sums = theater_sums(plan, tracks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < tracks.nbytes // 2  # (a copy of theater a's sites: 0.95 of them)
    np.testing.assert_array_equal(sums[:, 0, :], tracks[:, :20, :].sum(axis=1))
    np.testing.assert_array_equal(sums[:, 1, :], tracks[:, 20, :])
