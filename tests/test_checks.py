"""sim.checks: rules a well-typed document can still break, each a located ScenarioError."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from conftest import MINIMAL_YAML, col_of, line_of, located, make_doc

import sim
from sim.analysis.summaries import level_bound
from sim.errors import ScenarioError
from sim.model.draws import central_inputs
from sim.model.stepper import step
from sim.scenario import load_scenario

TWO_MILESTONES = (
    MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2024-05")
    + """\
  alpha-later:
    theater: alpha
    deadline: 2024-11
    target:
      level: 0
"""
)

SITES = """\
id: sites
title: With sites
as_of: 2024-01
calendar:
  start: 2024-01
  end: 2024-12
announcement:
  expected: 2024-01
theaters:
  alpha:
    sites:
      north:
        initial: 600
      south:
        initial: 400
"""


def test_a_valid_scenario_passes_every_check(write):
    sc = load_scenario(write(TWO_MILESTONES))
    assert list(sc.doc.milestones) == ["alpha-out", "alpha-later"]


# ---------------------------------------------------------------- levels


def test_negative_initial_level_is_rejected(write):
    text = MINIMAL_YAML.replace("initial: 1000", "initial: -5")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "initial: -5"),
            col_of(text, "initial: -5") + 9,
            "theaters.alpha.initial",
            "a level of 0 troops or more",
            "-5",
        ),
    ):
        load_scenario(path)


def test_a_level_whose_range_dips_below_zero_is_rejected(write):
    text = MINIMAL_YAML.replace("initial: 1000", "initial: {uniform: [-10, 1000]}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "uniform"),
            col_of(text, "-10"),
            "theaters.alpha.initial.uniform[0]",
            "0 troops or more",
            "'-10'",
        ),
    ):
        load_scenario(path)


def test_negative_site_level_is_rejected(write):
    text = SITES.replace("initial: 400", "initial: -400")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "-400"),
            col_of(text, "-400"),
            "theaters.alpha.sites.south.initial",
            "0 troops or more",
            "-400",
        ),
    ):
        load_scenario(path)


def test_negative_target_level_is_rejected(write):
    text = MINIMAL_YAML.replace("level: 0", "level: -1")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "level: -1"),
            None,
            "milestones.alpha-out.target.level",
            "0 troops or more",
            "-1",
        ),
    ):
        load_scenario(path)


def test_theater_initial_that_differs_from_its_sites_sum_is_rejected(write):
    text = SITES.replace("    sites:\n", "    initial: 1200\n    sites:\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "initial: 1200"),
            None,
            "theaters.alpha.initial",
            r"the sum of its sites' initial levels \(1,000\)",
            "'1200'",
        ),
    ):
        load_scenario(path)


def test_theater_initial_equal_to_its_sites_sum_is_accepted(write):
    sc = load_scenario(write(SITES.replace("    sites:\n", "    initial: 1000\n    sites:\n")))
    assert [t.key for t in sc.plan("base").tracks] == ["alpha/north", "alpha/south"]


def _sites_text(counts: list[int]) -> str:
    """A scenario of theaters with these numbers of 10-troop sites."""
    head = SITES.split("theaters:\n")[0] + "theaters:\n"
    body = "".join(
        f"  t{t}:\n    sites:\n" + "".join(f"      s{i}:\n        initial: 10\n" for i in range(n))
        for t, n in enumerate(counts)
    )
    return head + body


def test_a_scenario_of_the_most_sites_the_format_allows_is_accepted(write):
    sc = load_scenario(write(_sites_text([400, 600])))
    assert len(sc.plan("base").tracks) == 1_000


def test_one_site_past_the_limit_is_rejected_at_that_site_over_all_theaters(write):
    text = _sites_text([400, 601])
    path = write(text)
    # the 1,001st site is t1's s600: its key, where the file writes it
    line = line_of(text, "      s600:")
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line,
            7,
            "theaters.t1.sites.s600",
            "at most 1,000 sites in a scenario, over all its theaters",
            r"1,001 sites \(this one the 1,001st\)",
        ),
    ):
        load_scenario(path)


def test_a_variant_adding_a_site_past_the_limit_is_rejected(write):
    text = _sites_text([1_000]) + (
        "variants:\n  more:\n    description: one more site\n"
        "    overrides: {theaters: {t0: {sites: {extra: {initial: 5}}}}}\n"
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path, None, None, "variants.more.overrides.theaters.t0.sites.extra", "1,000 sites"
        ),
    ):
        load_scenario(path)


# ---------------------------------------------------------------- milestones


def test_milestones_of_a_track_are_taken_in_date_order_not_file_order(write):
    text = (
        MINIMAL_YAML
        + """\
  alpha-early:
    theater: alpha
    deadline: 2024-05
    target:
      level: 0
"""
    )
    path = write(text)
    result = sim.run(load_scenario(path))
    ms = result.milestones.set_index("milestone")
    # taken in date order, whatever the file order: 0 by 2024-05, then 0 by 2024-11
    assert str(ms.loc["alpha-early", "month_reached"]) == "2024-05"
    assert bool(ms.met.all())


def test_deadline_before_the_start_is_rejected(write):
    text = MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2023-11")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "2023-11"),
            col_of(text, "2023-11"),
            "milestones.alpha-out.deadline",
            "a deadline after the start month 2024-01",
            "2023-11",
        ),
    ):
        load_scenario(path)


def test_deadline_in_the_start_month_is_rejected_because_the_start_holds_the_initial_level(write):
    text = MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2024-01")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "deadline:"),
            None,
            "milestones.alpha-out.deadline",
            "after the start month",
            "2024-01",
        ),
    ):
        load_scenario(path)


def test_deadline_past_the_horizon_is_rejected(write):
    text = MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2025-03")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "2025-03"),
            None,
            "milestones.alpha-out.deadline",
            r"within the horizon \(by 2024-12\)",
            "2025-03",
        ),
    ):
        load_scenario(path)


def test_reduction_larger_than_the_force_is_rejected(write):
    text = MINIMAL_YAML.replace("level: 0", "reduce_by: 1500")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "reduce_by"),
            col_of(text, "1500"),
            "milestones.alpha-out.target.reduce_by",
            "a reduction of at most the 1,000 troops alpha holds then",
            "'1500'",
        ),
    ):
        load_scenario(path)


def test_reduction_larger_than_what_is_left_after_an_earlier_milestone_is_rejected(write):
    text = TWO_MILESTONES.replace("      level: 0\n", "      reduce_by: 600\n", 1).replace(
        "      level: 0\n", "      reduce_by: 500\n"
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "reduce_by: 500"),
            None,
            "milestones.alpha-later.target.reduce_by",
            "at most the 400 troops alpha holds then",
            "500",
        ),
    ):
        load_scenario(path)


def test_a_reduction_range_reaching_past_the_force_is_rejected(write):
    text = MINIMAL_YAML.replace("level: 0", "reduce_by: {uniform: [500, 1001]}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "1001"),
            col_of(text, "1001"),
            "milestones.alpha-out.target.reduce_by.uniform[1]",
            "at most the 1,000 troops",
            "'1001'",
        ),
    ):
        load_scenario(path)


def test_milestone_for_an_unknown_theater_lists_the_known_ones(write):
    text = MINIMAL_YAML.replace("theater: alpha", "theater: beta")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "theater: beta"),
            col_of(text, "beta"),
            "milestones.alpha-out.theater",
            "one of alpha",
            "unknown theater 'beta'",
        ),
    ):
        load_scenario(path)


def test_milestone_on_a_theater_with_sites_must_name_a_site(write):
    text = (
        SITES + "milestones:\n  out:\n    theater: alpha\n    deadline: 2024-06\n"
        "    target: {level: 0}\n"
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "theater: alpha"),
            None,
            "milestones.out.theater",
            "a site of a theater with sites",
            "'alpha'",
        ),
    ):
        load_scenario(path)


def test_dependency_on_an_unknown_milestone_is_rejected(write):
    text = MINIMAL_YAML.replace("deadline: 2024-11", "deadline: {after: ghost, months: 2}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "ghost"),
            col_of(text, "ghost"),
            "milestones.alpha-out.deadline.after",
            "one of alpha-out",
            "unknown milestone 'ghost'",
        ),
    ):
        load_scenario(path)


def test_a_milestone_depending_on_itself_is_rejected(write):
    text = MINIMAL_YAML.replace("deadline: 2024-11", "deadline: {after: alpha-out, months: 2}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            None,
            None,
            "milestones.alpha-out.deadline.after",
            "another milestone",
            "the milestone itself",
        ),
    ):
        load_scenario(path)


def test_a_dependency_cycle_between_milestones_is_rejected(write):
    text = (
        MINIMAL_YAML.replace("theaters:\n", "theaters:\n  beta:\n    initial: 10\n").replace(
            "deadline: 2024-11", "deadline: {after: beta-out, months: 1}"
        )
        + """\
  beta-out:
    theater: beta
    deadline: {after: alpha-out, months: 1}
    target:
      level: 0
"""
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            None,
            None,
            "milestones.alpha-out.deadline",
            "without a dependency cycle",
            "alpha-out -> beta-out -> alpha-out",
        ),
    ):
        load_scenario(path)


def test_a_negative_offset_after_a_milestone_is_rejected(write):
    text = TWO_MILESTONES.replace("deadline: 2024-11", "deadline: {after: alpha-out, months: -2}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "months: -2"),
            None,
            "milestones.alpha-later.deadline.months",
            found="-2",
        ),
    ):
        load_scenario(path)


def test_a_target_that_cannot_be_reached_within_the_calendar_is_rejected(write):
    text = MINIMAL_YAML.replace("deadline: 2024-11", "deadline: {after_announcement: 14}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            None,
            None,
            "milestones.alpha-out.deadline.after_announcement",
            "a target reached within the calendar",
            "2025-03",
        ),
    ):
        load_scenario(path)


# ---------------------------------------------------------------- announcement, residuals, sources


def test_negative_announcement_delay_is_rejected(write):
    text = MINIMAL_YAML.replace("  expected: 2024-01\n", "  expected: 2024-01\n  delay: -2\n")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "delay: -2"),
            None,
            "announcement.delay",
            "a delay of 0 months or more",
            "-2",
        ),
    ):
        load_scenario(path)


RESIDUAL = """\
residuals:
  advisory:
    theater: alpha
    size: 200
    from: 2024-06
"""


def test_residual_larger_than_the_force_is_rejected(write):
    text = MINIMAL_YAML + RESIDUAL.replace("size: 200", "size: 1200")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "size: 1200"),
            col_of(text, "1200"),
            "residuals.advisory.size",
            r"no larger than the force \(1,000 troops in alpha\)",
            "'1200'",
        ),
    ):
        load_scenario(path)


def test_residual_ending_before_it_begins_is_rejected(write):
    text = MINIMAL_YAML + RESIDUAL + "    until: 2024-03\n"
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "until"),
            None,
            "residuals.advisory.until",
            r"at or after from \(2024-06\)",
            "2024-03",
        ),
    ):
        load_scenario(path)


def test_residual_starting_with_an_unknown_milestone_is_rejected(write):
    text = MINIMAL_YAML + RESIDUAL.replace("from: 2024-06", "from: {milestone: ghost}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "ghost"),
            None,
            "residuals.advisory.from.milestone",
            "one of alpha-out",
            "unknown milestone 'ghost'",
        ),
    ):
        load_scenario(path)


def test_residual_starting_outside_the_calendar_is_rejected(write):
    text = MINIMAL_YAML + RESIDUAL.replace("from: 2024-06", "from: 2026-06")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "2026-06"),
            None,
            "residuals.advisory.from",
            "a month within the calendar",
            "2026-06",
        ),
    ):
        load_scenario(path)


def test_a_source_id_not_listed_in_sources_is_rejected(write):
    text = MINIMAL_YAML.replace("initial: 1000", "initial: {value: 1000, source: rumour}")
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "rumour"),
            None,
            "theaters.alpha.initial.source",
            r"one of the ids in sources: \(none\)",
            "'rumour'",
        ),
    ):
        load_scenario(path)


def test_a_source_id_listed_twice_is_rejected(write):
    text = MINIMAL_YAML + "sources:\n  - id: s1\n    title: One\n  - id: s1\n    title: Two\n"
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "id: s1", 2),
            None,
            "sources[1].id",
            "each source id once",
            "a second 's1'",
        ),
    ):
        load_scenario(path)


# ---------------------------------------------------------------- checks run on every variant


def test_checks_run_on_every_variant_and_point_at_its_override(write):
    text = (
        MINIMAL_YAML.replace("level: 0", "reduce_by: 400")
        + """\
variants:
  deeper:
    description: a deeper cut
    overrides:
      milestones:
        alpha-out:
          target: {reduce_by: 1400}
"""
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "reduce_by: 1400"),
            None,
            "variants.deeper.overrides.milestones.alpha-out.target.reduce_by",
            "at most the 1,000 troops",
            "'1400'",
        ),
    ):
        load_scenario(path)


def test_a_level_beyond_ten_million_troops_is_rejected(write):
    path = write(make_doc(theaters={"alpha": {"initial": 1_000_000_000}}))
    with pytest.raises(
        ScenarioError,
        match=r"theaters\.alpha\.initial: expected a level of at most 10,000,000 troops, "
        r"found '1000000000'",
    ):
        load_scenario(path)


def test_a_reinforcement_beyond_ten_million_troops_is_rejected(write):
    doc = make_doc(
        milestones={
            "up": {"theater": "alpha", "deadline": "2024-11", "target": {"level": 20_000_000}}
        }
    )
    with pytest.raises(
        ScenarioError, match=r"milestones\.up\.target\.level: expected at most 10,000,000 troops"
    ):
        load_scenario(write(doc))


def test_an_announcement_delay_beyond_the_longest_calendar_is_refused(write):
    text = MINIMAL_YAML.replace(
        "  expected: 2024-01\n", "  expected: 2024-01\n  delay: {uniform: [0, 100000]}\n"
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=r"announcement\.delay\.uniform\[1\]: expected a delay of at most 600 months, "
        r"found '100000'",
    ):
        load_scenario(path)


def test_a_theater_whose_sites_sum_beyond_ten_million_troops_is_refused_in_one_line(write):
    # 215 sites of 10,000,000 would sum to 2,150,000,000: past 2**31 - 1 in int32 levels
    sites = {f"s{i}": {"initial": 10_000_000} for i in range(215)}
    path = write(make_doc(theaters={"alpha": {"sites": sites}}, milestones={}))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert re.match(
        located(
            path,
            None,
            None,
            "theaters.alpha",
            r"a theater of at most 10,000,000 troops at its highest",
            r"2,150,000,000 troops",
        ),
        message,
    )


def test_a_theater_whose_initial_plus_unreported_passes_ten_million_is_refused(write):
    theater = {"initial": 9_000_000, "unreported": 2_000_000}
    path = write(make_doc(theaters={"alpha": theater}, milestones={}))
    with pytest.raises(
        ScenarioError,
        match=r"theaters\.alpha: expected a theater of at most 10,000,000 troops at its highest "
        r"\(the sum of initial plus unreported\), found 11,000,000 troops",
    ):
        load_scenario(path)


def test_the_largest_forces_the_limits_allow_sum_exactly(write):
    # 50 theaters (the most the format allows) of 10,000,000 each, one of them split
    # into 4 sites: every theater total and the sum over theaters are exact
    theaters: dict[str, Any] = {f"t{i:02d}": {"initial": 10_000_000} for i in range(49)}
    theaters["split"] = {"sites": {f"s{i}": {"initial": 2_500_000} for i in range(4)}}
    scenario = load_scenario(write(make_doc(theaters=theaters, milestones={})))
    plan = scenario.plan(scenario.variant_names[0])
    out = step(plan, central_inputs(plan))
    assert out.theaters.shape == (1, 50, plan.n_months)
    assert (out.theaters == 10_000_000).all()
    assert int(out.theaters.astype(np.int64).sum(axis=1).max()) == 500_000_000
    assert 500_000_000 < 2**31 - 1
    assert level_bound(plan) == 10_000_000  # the largest series, not the sum of them


def test_a_too_large_number_inside_a_mapping_is_quoted_as_written_at_its_own_line(write):
    # a float would turn 99999999999999999 into 100,000,000,000,000,000: another number
    text = MINIMAL_YAML.replace(
        "initial: 1000", "initial: {uniform: [0, 99999999999999999], assumption: x}"
    )
    path = write(text)
    with pytest.raises(
        ScenarioError,
        match=located(
            path,
            line_of(text, "uniform"),
            col_of(text, "99999999999999999"),
            "theaters.alpha.initial.uniform[1]",
            "a level of at most 10,000,000 troops",
            "'99999999999999999'",
        ),
    ):
        load_scenario(path)


def test_a_too_long_delay_set_in_code_is_shown_exactly(write):
    sc = load_scenario(write(MINIMAL_YAML))
    with pytest.raises(
        ScenarioError,
        match=r"announcement\.delay: expected a delay of at most 600 months, "
        r"found 99,999,999,999,999,999,999,999",
    ):
        sc.with_settings({"announcement.delay": 99_999_999_999_999_999_999_999})


#: a whole number past a float's range (about 1.8e308): float() of it raises
PAST_FLOAT = "9" * 310


@pytest.mark.parametrize(
    "written,key",
    [
        ("initial: " + PAST_FLOAT, "theaters.alpha.initial"),
        (
            "initial: {uniform: [0, " + PAST_FLOAT + "], assumption: x}",
            "theaters.alpha.initial.uniform[1]",
        ),
        ("initial: 1000\n    unreported: " + PAST_FLOAT, "theaters.alpha.unreported"),
    ],
)
def test_a_whole_number_past_a_floats_range_is_one_located_line_not_a_traceback(
    write, written, key
):
    text = MINIMAL_YAML.replace("initial: 1000", written)
    path = write(text)
    with pytest.raises(ScenarioError, match=re.escape(key) + r": expected .*'9{310}'"):
        load_scenario(path)
    from click.testing import CliRunner

    from sim.cli import main

    for args in (["validate", str(path)], ["run", "-q", str(path), "-o", str(path.parent / "o")]):
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and "internal error" not in res.output
        assert len(res.output.strip().splitlines()) == 1, res.output
    assert not (path.parent / "o").exists()


def test_a_number_past_a_floats_range_set_in_code_or_on_the_command_line_is_refused(write):
    path = write(MINIMAL_YAML)
    sc = load_scenario(path)
    with pytest.raises(ScenarioError, match=r"theaters\.alpha\.initial: expected a number between"):
        sc.with_overrides({"theaters": {"alpha": {"initial": 10**400}}})
    from click.testing import CliRunner

    from sim.cli import main

    out = path.parent / "o"
    res = CliRunner().invoke(
        main, ["run", "-q", str(path), "--set", f"announcement.delay={PAST_FLOAT}", "-o", str(out)]
    )
    assert res.exit_code == 2 and "announcement.delay: expected" in res.output, res.output
    assert not out.exists()


def test_a_tolerance_past_a_floats_range_given_in_code_is_refused_in_one_line(write):
    sc = load_scenario(write(MINIMAL_YAML))
    obs = sim.load_observations(
        write(
            "date,theater,troops_low,troops_high,kind\n2024-03,alpha,900,,reported\n", name="o.csv"
        ),
        sc,
    )
    with pytest.raises(ScenarioError, match=r"tolerance: expected a tolerance"):
        sim.run(sc, observed=obs, tolerance=10**400)


def test_report_troops_past_a_floats_range_are_refused_as_above_the_most_troops(write):
    sc = load_scenario(write(MINIMAL_YAML))
    path = write(
        f"date,theater,troops_low,troops_high,kind\n2024-03,alpha,{PAST_FLOAT},,reported\n",
        name="o.csv",
    )
    with pytest.raises(
        ScenarioError, match=r"troops_low: expected at most 10,000,000 troops, found '9{310}'"
    ):
        sim.load_observations(path, sc)


@pytest.mark.parametrize(
    "value,shown",
    [
        (2400.0000000001, "2400.0000000001"),
        (2400.49999, "2400.49999"),
        (0.1 + 0.2, "0.30000000000000004"),
    ],
)
def test_a_fraction_of_a_troop_given_in_code_is_quoted_exactly_not_rounded(write, value, shown):
    sc = load_scenario(write(MINIMAL_YAML))
    with pytest.raises(
        ScenarioError, match=r"expected a whole number of troops, found " + re.escape(shown) + "$"
    ):
        sc.with_overrides({"theaters": {"alpha": {"initial": value}}})


def test_a_deadline_after_the_announcement_that_falls_before_the_start_is_refused(tmp_path) -> None:
    # a written deadline before the start was refused; one computed from an announcement
    # expected years before ran, dropping the whole force in the first month
    from conftest import MINIMAL_YAML

    text = (
        MINIMAL_YAML.replace("start: 2024-01", "start: 2024-09")
        .replace("expected: 2024-01", "expected: 2020-01")
        .replace("deadline: 2024-11", "deadline: {after_announcement: 50}")
    )
    path = tmp_path / "early.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert err.value.one_line() == (
        f"{path}:15:15: milestones.alpha-out.deadline: expected a deadline after the start "
        "month 2024-09, found {after_announcement: 50}, which falls in 2024-03 with the "
        "announcement expected in 2020-01"
    )
    delayed = text.replace("expected: 2020-01", "expected: 2020-01\n  delay: {uniform: [3, 6]}")
    path.write_text(delayed.replace("after_announcement: 50", "after_announcement: 52"), "utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert err.value.one_line().endswith(
        "found {after_announcement: 52}, which falls in 2024-08 with the announcement at the "
        "earliest in 2020-04 (expected 2020-01, delayed 3 months or more)"
    )
    path.write_text(text.replace("after_announcement: 50", "after_announcement: 57"), "utf-8")
    sc = sim.load_scenario(path)
    assert sc.plan(sc.select(None)[0]).milestones[0].offset == 57  # (2024-10: taken)
