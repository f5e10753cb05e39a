"""Observed levels: the CSV format, consistency scoring, percentile ranks, and
conditioning an ensemble on what was observed."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, MINIMAL_YAML, SCENARIOS_DIR, located

import sim
from sim.analysis.observed import score_observations as score
from sim.analysis.observed import with_observations
from sim.analysis.summaries import level_views, series
from sim.cli import main
from sim.io.files import csv_text
from sim.io.observation_csv import read_observations
from sim.io.observations import ObservationSet, Tolerance, parse_tolerance, recorded_tolerance
from sim.model.draws import Draws
from sim.model.stepper import step

HEADER = "date,theater,troops_low,troops_high,source,quote\n"

# alpha: 1,000 troops at 2024-01, linearly to 0 by 2024-11: 1,000 - 100 m at month m,
# so 500 at 2024-06 and 0 from 2024-11 to the horizon 2024-12.

UNCERTAIN_YAML = """\
id: spread
title: A drawdown with uncertain inputs
as_of: 2024-01
calendar: {start: 2024-01, end: 2024-12}
announcement:
  expected: 2024-01
  delay: {choice: {values: [0, 1, 2, 3]}, assumption: test}
theaters:
  alpha:
    initial: {uniform: [800, 1200], assumption: test}
milestones:
  half:
    theater: alpha
    deadline: 2024-06
    target: {reduce_by: {uniform: [200, 600], assumption: test}}
  out:
    theater: alpha
    deadline: 2024-11
    profile: back
    target: {level: 0}
variants:
  base:
    description: as written
    overrides: {}
  slow:
    description: the second phase front-loaded
    overrides:
      milestones: {out: {profile: front}}
"""


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


@pytest.fixture
def observations(tmp_path):
    """``observations(rows, header=HEADER, name="obs.csv") -> Path`` of a CSV file."""

    def _write(rows: str, header: str = HEADER, name: str = "obs.csv") -> Path:
        path = tmp_path / name
        path.write_text(header + rows, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def mini(write):
    return sim.load_scenario(write(MINIMAL_YAML))


def scored(result, rows_text, observations, tolerance=None):
    """observed.csv rows as dicts; the tolerance is exact unless given."""
    obs = read_observations(observations(rows_text), ["alpha"])
    table = score(result, obs, tolerance or Tolerance()).table
    return [dict(r) for _, r in table.iterrows()]


# ---------------------------------------------------------------- reading the CSV


def test_a_csv_holds_points_ranges_and_open_ended_bounds(observations):
    path = observations(
        "# a comment line, and a blank line below\n"
        "\n"
        "2024-06,alpha,500,500,a point,\n"
        '2024-06-15,alpha,450,550,a range,"quoted, with a comma"\n'
        '2024-07,alpha,,"2,500",fewer than 2500,\n'
        "2024-08,alpha,300,,more than 300,\n"
    )
    obs = read_observations(path, ["alpha"])
    assert [o.shape for o in obs] == ["point", "range", "at most", "at least"]
    assert [o.month_text for o in obs] == ["2024-06", "2024-06", "2024-07", "2024-08"]
    assert obs.items[1].date == "2024-06-15"
    assert obs.items[1].quote == "quoted, with a comma"
    assert obs.items[2].high == 2500 and obs.items[2].low is None
    assert [o.reference for o in obs] == [500, 500, 2500, 300]
    assert len(obs.sha256 or "") == 64


def test_source_and_quote_columns_are_optional_and_in_any_order(observations):
    path = observations("alpha,100,2024-03,150\n", header="theater,troops_low,date,troops_high\n")
    (o,) = read_observations(path).items
    assert (o.theater, o.low, o.high, o.month_text, o.source) == ("alpha", 100, 150, "2024-03", "")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADER + "2024-03,alpha,1,1,,\n").encode("utf-8"))
    assert len(read_observations(path)) == 1


BAD_ROWS = [
    # (row, column name, 1-based field index, expected fragment, found fragment)
    ("2024-13,alpha,1,1,,", "date", 1, "month between 01 and 12", "2024-13"),
    ("2024-02-30,alpha,1,1,,", "date", 1, "real calendar date", "2024-02-30"),
    ("24-02,alpha,1,1,,", "date", 1, "YYYY-MM-DD or YYYY-MM", "24-02"),
    ("2024-02,alpah,1,1,,", "theater", 2, "did you mean 'alpha'", "unknown theater 'alpah'"),
    # (a near miss in capitals is named with the theaters there are; other text by the rule)
    ("2024-02,Alpha,1,1,,", "theater", 2, "did you mean 'alpha'", "unknown theater 'Alpha'"),
    ("2024-02,Zulu Base,1,1,,", "theater", 2, "theater id", "Zulu Base"),
    ("2024-02,alpha,-5,1,,", "troops_low", 3, "0 troops or more", "-5"),
    ("2024-02,alpha,abc,1,,", "troops_low", 3, "number of troops or a blank", "abc"),
    ("2024-02,alpha,1,2.5,,", "troops_high", 4, "whole number of troops", "2.5"),
    ("2024-02,alpha,,,,", "troops_low", 3, "troops_low or troops_high", "both blank"),
    ("2024-02,alpha,900,800,,", "troops_high", 4, "at or above troops_low", "800"),
    ("2024-02,alpha,1,1", "(row)", 1, "6 fields", "4 fields"),
    ("2024-02,alpha,1,1,,,", "(row)", 7, "6 fields", "7 fields"),
    ('2024-02,alpha,1,1,"open quote,', "(row)", 1, "quotes closed", "unexpected end"),
]


@pytest.mark.parametrize(
    "row,column,field,expected,found", BAD_ROWS, ids=[f"{c}-{f}" for _, c, _, _, f in BAD_ROWS]
)
def test_a_bad_row_is_one_line_naming_file_line_column_and_what_was_wrong(
    observations, row, column, field, expected, found
):
    path = observations("2024-02,alpha,1,1,,\n# comment\n" + row + "\n")
    starts = [1] + [i + 2 for i, ch in enumerate(row) if ch == ","]
    col = starts[field - 1] if field <= len(starts) else 1
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:4:{col}: {column}: expected "), message
    assert expected in message.split(", found ")[0] or expected in message, message
    assert found in message.split(", found ", 1)[1], message


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0c", "\x1c"])
def test_rows_end_only_at_line_ends_so_later_lines_keep_their_numbers(observations, separator):
    # str.splitlines() also splits at these: a quote pasted from a web page was cut in two
    # and every later row given the wrong line number
    path = observations(f'2024-02,alpha,1,1,a,"said{separator}more"\n2024-03,alpha,x,1,,\n')
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    message = str(err.value)
    if separator in "\u2028\u2029":  # text: kept, and the error is the next row's own
        assert message.startswith(f"{path}:3:15: troops_low: expected "), message
    else:  # a control character: refused where it stands
        assert message.startswith(f"{path}:2:21: quote: expected text without control"), message
        assert repr(f"said{separator}more") in message


def test_a_terminal_escape_in_a_source_is_refused(observations):
    path = observations("2024-02,alpha,1,1,\x1b]0;title\x07,\n")
    with pytest.raises(
        sim.ScenarioError,
        match=located(path, 2, 19, "source", "text without control characters", r"'\\x1b"),
    ):
        read_observations(path, ["alpha"])


@pytest.mark.parametrize(
    "cell,col,text",
    [
        ('"=HYPERLINK(""http://x"",""click"")",', "source", '=HYPERLINK("http://x","click")'),
        ("a report,@SUM(1+1)", "quote", "@SUM(1+1)"),
        ("+cmd,", "source", "+cmd"),
        ("-2+3,", "source", "-2+3"),
    ],
)
def test_a_source_or_quote_a_spreadsheet_would_run_as_a_formula_is_refused(
    observations, cell, col, text
):
    # written into observed.csv as it stands, it would be run by whoever opens that table
    path = observations(f"2024-02,alpha,1,1,{cell}\n")
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    message = str(err.value)
    assert message.startswith(f"{path}:2:"), message
    assert f": {col}: expected text that does not begin with {text[0]!r}" in message
    assert message.endswith(f"found {text!r}"), message


def test_a_lone_dash_for_no_source_and_a_formula_sign_inside_the_text_are_kept(observations):
    path = observations("2024-02,alpha,1,1,-,up by =5% and -3\n")
    (obs,) = read_observations(path, ["alpha"])
    assert (obs.source, obs.quote) == ("-", "up by =5% and -3")


def test_an_inline_source_a_spreadsheet_would_run_as_a_formula_is_located(write):
    text = MINIMAL_YAML + (
        "observations:\n"
        '  - {date: 2024-06, theater: alpha, troops_low: 1, troops_high: 1, source: "=1+1"}\n'
    )
    file = write(text)
    line = len(text.splitlines())
    found = re.escape("'=1+1'")
    with pytest.raises(
        sim.ScenarioError, match=located(file, line, None, "observations[0].source", "", found)
    ):
        sim.load_scenario(file)


def test_a_tolerance_on_a_target_is_refused_as_never_used_in_the_csv_and_inline(tmp_path, write):
    # a target is never scored or conditioned on: its tolerance was read and ignored
    path = tmp_path / "t.csv"
    path.write_text(
        "date,theater,troops_low,troops_high,kind,tolerance,by,source,quote\n"
        "2024-02-01,alpha,0,0,target,10%,2024-09,a,\n"
    )
    expected = "no tolerance on a target (a target is drawn, never scored or conditioned on)"
    with pytest.raises(
        sim.ScenarioError, match=rf"t\.csv:2:\d+: tolerance: expected {re.escape(expected)}.*'10%'"
    ):
        read_observations(path, ["alpha"])
    text = MINIMAL_YAML + (
        "observations:\n"
        "  - {date: 2024-06, theater: alpha, troops_low: 0, troops_high: 0, kind: target,"
        " tolerance: 200, source: a}\n"
    )
    file = write(text)
    with pytest.raises(
        sim.ScenarioError, match=rf"observations\[0\]\.tolerance: expected {re.escape(expected)}"
    ):
        sim.load_scenario(file)


def test_a_quote_longer_than_the_csv_module_reads_is_refused_as_too_long(observations):
    # a cell over the csv module's 131,072 characters read 'expected a CSV row (quotes
    # closed on the same line), found field larger than field limit (131072)'
    path = observations('2024-02,alpha,1,1,a,"' + "x" * 200_000 + '"\n')
    with pytest.raises(
        sim.ScenarioError,
        match=located(path, 2, 21, "(row)", "a cell of at most 4,000 characters", "200,000"),
    ):
        read_observations(path, ["alpha"])


def test_a_quote_with_a_direction_override_is_refused_at_its_cell(observations):
    path = observations('2024-02,alpha,1,1,a,"about \u202e1,500"\n')
    with pytest.raises(
        sim.ScenarioError,
        match=located(path, 2, 21, "quote", "text without direction controls", r"\\u202e1,500"),
    ):
        read_observations(path, ["alpha"])


def test_a_quote_with_a_line_separator_is_read_whole(observations):
    obs = read_observations(observations('2024-02,alpha,1,1,a,"said\u2028more"\n'), ["alpha"])
    assert [o.quote for o in obs] == ["said\u2028more"]


@pytest.mark.parametrize(
    "header,expected,found",
    [
        ("date,theater,troops_low,troop_high\n", "did you mean 'troops_high'", "'troop_high'"),
        (
            "date,theater,troops_low\n",
            "the columns date, theater, troops_low, troops_high",
            "no 'troops_high'",
        ),
        ("date,theater,troops_low,troops_high,date\n", "each column once", "a second 'date'"),
    ],
)
def test_a_bad_header_names_the_column(observations, header, expected, found):
    path = observations("", header=header)
    with pytest.raises(sim.ScenarioError, match=located(path, 1, None, "(header)", "", "")) as err:
        read_observations(path)
    assert expected in str(err.value) and found in str(err.value)


@pytest.mark.parametrize(
    "content,found",
    [
        (b"", "an empty file"),
        (b"# only a comment\n", "an empty file"),
        (HEADER.encode(), "only the header"),
        (HEADER.encode() + b"2024-01,alpha,1,1,\x00,\n", "a NUL byte"),
        (HEADER.encode() + b"2024-01,alpha,1,1,\xff,\n", "the byte 0xff"),
    ],
)
def test_a_file_that_is_not_an_observations_csv_is_one_line(tmp_path, content, found):
    path = tmp_path / "obs.csv"
    path.write_bytes(content)
    with pytest.raises(sim.ScenarioError, match=found):
        read_observations(path)


def test_a_missing_file_or_a_directory_is_one_line(tmp_path):
    with pytest.raises(sim.ScenarioError, match="no such file"):
        read_observations(tmp_path / "nope.csv")
    with pytest.raises(sim.ScenarioError, match="a directory"):
        read_observations(tmp_path)


# ---------------------------------------------------------------- tolerance


@pytest.mark.parametrize(
    "text,relative,absolute,shown",
    [
        (None, 0.05, 0, "±5 %"),
        ("10%", 0.10, 0, "±10 %"),
        ("0", 0, 0, "none (exact)"),
        ("250", 0, 250, "±250 troops"),
        (" 2.5 % ", 0.025, 0, "±2.5 %"),
    ],
)
def test_a_tolerance_is_a_percentage_of_each_bound_or_a_number_of_troops(
    text, relative, absolute, shown
):
    tol = parse_tolerance(text)
    assert (tol.relative, tol.absolute, str(tol)) == (pytest.approx(relative), absolute, shown)


@pytest.mark.parametrize("text", ["abc", "-5%", "101%", "-1", "nan%", "5%%"])
def test_a_bad_tolerance_is_a_command_line_error(text):
    with pytest.raises(sim.ScenarioError, match=r"^<command line>:1:1: --tolerance: expected"):
        parse_tolerance(text)


@pytest.mark.parametrize(
    "text,hint",
    [
        ("1e3", "(write 1000, without an exponent)"),
        ("1_000", "(write 1000, without underscores)"),
        ("0700", "(write 700, without the leading zero)"),
        ("05%", "(write 5%, without the leading zero)"),
        ("0x5%", "(0x5 is hexadecimal: write 5% if that is meant)"),
        ("2 500%", ""),  # (2500% would be refused too: no hint)
        ("2 500", "(for two thousand five hundred write 2500)"),
        ("\u0665", ""),  # an Arabic-Indic five, which Python's float reads as 5
    ],
)
def test_a_tolerance_is_plain_decimal_digits_as_every_number_and_other_forms_are_refused(
    text, hint, observations, mini
):
    # (float() read all of these: 1_000 as 1000, 0700 as 700, 2 500 as 2500)
    with pytest.raises(
        sim.ScenarioError,
        match=re.escape("--tolerance: expected a tolerance as a percentage")
        + ".*"
        + re.escape(f"found {text!r}" + (f" {hint}" if hint else ""))
        + "$",
    ):
        parse_tolerance(text)
    path = observations("2024-06,alpha,500,500,,\n", HEADER.replace("\n", ",tolerance\n"))
    path.write_text(path.read_text().replace("500,500,,\n", f"500,500,,,{text}\n"))
    with pytest.raises(sim.ScenarioError, match=re.escape("tolerance: expected a tolerance")):
        read_observations(path, ["alpha"])


@pytest.mark.parametrize(
    "text,written,shown",
    [
        ("1234567", "1234567", "±1,234,567 troops"),
        ("12.3456789%", "12.3456789%", "±12.3456789 %"),
        ("1.0000001", "1.0000001", "±1.0000001 troops"),
        ("7%", "7%", "±7 %"),
        ("1", "1", "±1 troop"),  # (one troop, not "±1 troops")
    ],
)
def test_a_tolerance_is_written_and_shown_as_given_never_rounded(
    text, written, shown, observations, mini
):
    # (it was written with %g: 1.23457e+06, 12.3457%, 1.0000001 as 1)
    tol = parse_tolerance(text)
    assert (tol.text(), str(tol)) == (written, shown)
    assert parse_tolerance(tol.text()) == tol
    rows = scored(sim.run(mini), "2024-06,alpha,500,500,,\n", observations, tol)
    assert rows[0]["tolerance"] == written


@pytest.mark.parametrize(
    "cell,col", [("1\uff1500", 15), ('"1,\uff1500"', 15), ("5\u0660\u0660", 15)]
)
def test_a_troop_count_in_another_script_s_digits_is_refused_not_read_as_ascii(
    cell, col, observations
):
    # (\d took them and float() read 1５00 as 1500)
    path = observations(f"2024-06,alpha,{cell},2500,,\n")
    with pytest.raises(
        sim.ScenarioError,
        match=located(path, 2, col, "troops_low", "a whole number of troops or a blank", ""),
    ):
        read_observations(path, ["alpha"])


SHARE_HINT = (
    "(on whole troops a tolerance below 1 troop is none at all: for {} % of each bound write {}%)"
)


@pytest.mark.parametrize("text,share", [("0.05", "5"), ("0.5", "50"), ("0.0000001", "0.00001")])
def test_a_tolerance_below_one_troop_is_refused_as_a_share_written_without_its_percent_sign(
    text, share, write, observations, mini, tmp_path
):
    # (0.05 was read as 0.05 troops: on whole troops no tolerance at all, where
    # --error-rate 0.05 is 5 %)
    as_written = re.escape(f"{text!r} {SHARE_HINT.format(share, share)}") + "$"
    found = "found " + as_written
    with pytest.raises(sim.ScenarioError, match=r"^<command line>:1:1: --tolerance: .*" + found):
        parse_tolerance(text)
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: tolerance: .*" + found):
        parse_tolerance(float(text), file="<arguments>", path="tolerance")
    path = observations(f"2024-06,alpha,500,500,,,{text}\n", HEADER.replace("\n", ",tolerance\n"))
    with pytest.raises(sim.ScenarioError, match=located(path, 2, 25, "tolerance", "", as_written)):
        read_observations(path, ["alpha"])
    scenario = write(
        MINIMAL_YAML + "observations:\n"
        f"  - {{date: 2024-06, theater: alpha, troops_low: 500, troops_high: 500, "
        f"tolerance: {text}}}\n"
    )
    with pytest.raises(sim.ScenarioError, match=r"observations\[0\]\.tolerance: .*" + found):
        sim.load_scenario(scenario)
    good = observations("2024-06,alpha,500,500,,\n", name="good.csv")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(write(MINIMAL_YAML)),
            "--out",
            str(out),
            "--observed",
            str(good),
            "--tolerance",
            text,
        ],
    )
    assert res.exit_code == 2 and not out.exists()
    assert [ln for ln in res.output.splitlines() if ln] == [
        "forcesim: error: <command line>:1:1: --tolerance: expected a tolerance as a percentage "
        "from 0% to 100% (of each bound) or a number of troops (0, or 1 to 10,000,000), "
        f"found {text!r} {SHARE_HINT.format(share, share)}"
    ]


@pytest.mark.parametrize(
    "text,accepted", [("0", (500, 500)), ("1", (499, 501)), ("2.5", (497.5, 502.5))]
)
def test_a_tolerance_of_0_or_at_least_1_troop_is_taken_and_a_fraction_widens_by_its_whole_part(
    text, accepted, mini, observations
):
    result = sim.run(mini)  # alpha holds 500 troops at the end of 2024-06
    rows = scored(result, "2024-06,alpha,500,500,,\n", observations, parse_tolerance(text))
    assert (rows[0]["accept_low"], rows[0]["accept_high"]) == accepted
    # levels are whole troops: 2.5 (or 2.9) accepts the same levels as 2
    reports = "2024-06,alpha,502,502,,\n2024-06,alpha,503,503,,\n"
    for tol in ("2", "2.5", "2.9"):
        rows = scored(result, reports, observations, parse_tolerance(tol))
        assert [r["consistent"] for r in rows] == [True, False], tol


TOLERANCE_IN_CODE = [
    (
        {"absolute": 0.05},
        "Tolerance.absolute: expected a number of troops: 0, or from 1 to 10,000,000, "
        "found 0.05 (on whole troops a tolerance below 1 troop is none at all: for 5 % of "
        "each bound write Tolerance(relative=0.05))",
    ),
    ({"absolute": -1}, "Tolerance.absolute: expected a number of troops: 0, or from 1 to"),
    ({"absolute": float("nan")}, "Tolerance.absolute: expected a number of troops"),
    ({"absolute": 10_000_001}, "Tolerance.absolute: expected a number of troops"),
    ({"relative": 5}, "Tolerance.relative: expected a share of each bound from 0 to 1 "),
    (
        {"relative": 0.05, "absolute": 100},
        "Tolerance: expected a share of each bound (relative) or a number of troops "
        "(absolute), not both, found relative=0.05 and absolute=100",
    ),
]


@pytest.mark.parametrize(("given", "message"), TOLERANCE_IN_CODE)
def test_a_tolerance_made_in_code_is_refused_where_its_text_would_be(given, message, mini):
    # Tolerance(absolute=0.05) was taken (and widened nothing) where --tolerance 0.05 is
    # refused as most likely meant as 5%
    with pytest.raises(sim.ScenarioError, match="^" + re.escape(f"<arguments>:1:1: {message}")):
        sim.Tolerance(**given)
    assert sim.Tolerance(absolute=1) == parse_tolerance("1")
    assert sim.Tolerance(relative=1) == parse_tolerance("100%")


@pytest.mark.slow
def test_a_run_made_with_a_tolerance_below_one_troop_before_it_was_refused_still_reads(
    mini, observations, tmp_path
):
    # (as an older forcesim took Tolerance(absolute=0.5) from code and wrote it)
    obs = read_observations(observations("2024-06,alpha,500,500,,\n"), ["alpha"])
    result = sim.run(mini, observed=obs, tolerance=recorded_tolerance(absolute=0.5))
    sim.write_run(result, tmp_path / "run")
    assert read_csv(tmp_path / "run" / "observed.csv")[1][0]["tolerance"] == "0.5"
    back = sim.load_run(tmp_path / "run")
    assert back.observed is not None and len(back.observed.observations) == 1
    assert invoke("plot", str(tmp_path / "run"), "-o", str(tmp_path / "c.png")).exit_code == 0


# ---------------------------------------------------------------- consistency


def test_a_point_is_consistent_only_within_the_tolerance(mini, observations):
    result = sim.run(mini)
    rows = scored(result, "2024-06,alpha,500,500,,\n2024-06,alpha,600,600,,\n", observations)
    assert [(r["level"], r["consistent"]) for r in rows] == [(500, True), (500, False)]
    rows = scored(result, "2024-06,alpha,600,600,,\n", observations, Tolerance(absolute=100))
    assert rows[0]["consistent"] is True  # 600 - 100 = 500: bounds are inclusive
    rows = scored(result, "2024-06,alpha,520,520,,\n", observations, Tolerance(relative=0.05))
    assert (rows[0]["consistent"], rows[0]["accept_low"], rows[0]["accept_high"]) == (
        True,
        494,
        546,
    )


def test_a_bound_widened_by_a_share_is_worked_out_in_decimal_not_binary(observations):
    # 220 * (1 + 0.15) was 252.99999999999997 in floats: a level of 253, on the bound,
    # was judged inconsistent and its report left out of conditioning
    from dataclasses import replace

    (obs,) = read_observations(observations("2026-10,alpha,220,220,,\n"), ["alpha"]).items
    assert Tolerance(relative=0.15).accept(obs) == (187.0, 253.0)
    for percent in (7, 15, 43):
        tol, share = Tolerance(relative=percent / 100), Fraction(percent, 100)
        for troops in range(1, 20_001, 7):
            one = replace(obs, low=troops, high=troops)
            want = (float(troops * (1 - share)), float(troops * (1 + share)))
            assert tol.accept(one) == want, (percent, troops)


def test_a_range_holds_the_levels_between_its_bounds(mini, observations):
    rows = scored(sim.run(mini), "2024-06,alpha,450,550,,\n2024-06,alpha,501,900,,\n", observations)
    assert [r["consistent"] for r in rows] == [True, False]


def test_fewer_than_and_more_than_are_open_ended(mini, observations):
    rows = scored(
        sim.run(mini),
        "2024-06,alpha,,400,,\n2024-06,alpha,,500,,\n2024-06,alpha,600,,,\n2024-06,alpha,500,,,\n",
        observations,
    )
    assert [r["consistent"] for r in rows] == [False, True, False, True]
    assert pd.isna(rows[0]["accept_low"]) and pd.isna(rows[2]["accept_high"])


def test_a_dated_observation_is_compared_with_the_end_of_its_month(mini, observations):
    rows = scored(
        sim.run(mini), "2024-01-02,alpha,1000,1000,,\n2024-06-30,alpha,500,500,,\n", observations
    )
    assert [(r["month"], r["level"], r["consistent"]) for r in rows] == [
        (pd.Period("2024-01", "M"), 1000, True),
        (pd.Period("2024-06", "M"), 500, True),
    ]


def test_the_scored_table_holds_flags_as_booleans_and_months_as_periods(
    mini, observations, tmp_path
):
    # "true"/"false" text made .astype(bool) count every "false" as consistent, and
    # t[t.known] raise; the CSV still spells them true, false and YYYY-MM
    obs = read_observations(
        observations(
            "2024-06,alpha,500,500,reported,,\n2024-06,alpha,600,600,reported,,\n"
            "2030-01,alpha,0,0,reported,,\n2024-03,alpha,0,0,target,2024-11,\n",
            header="date,theater,troops_low,troops_high,kind,by,source\n",
        ),
        ["alpha"],
    )
    table = score(sim.run(mini), obs, Tolerance()).table
    assert str(table.consistent.dtype) == "boolean" and table.known.dtype == bool
    assert table.consistent.astype("boolean").sum() == 1  # (of 2 scored; 2 not compared)
    assert table.consistent.isna().tolist() == [False, False, True, True]
    assert len(table[table.known]) == 4
    assert table.month.tolist() == [
        pd.Period(m, "M") for m in ("2024-06",) * 2 + ("2030-01", "2024-03")
    ]
    assert table.by.isna().tolist() == [True, True, True, False]
    assert table.by.iloc[3] == pd.Period("2024-11", "M")
    written = csv_text(table)
    assert written.splitlines()[1].split(",")[7] == "true"  # consistent, as before


def test_observations_outside_the_scenario_months_are_listed_never_scored(mini, observations):
    rows = scored(
        sim.run(mini),
        "2023-12,alpha,0,0,,\n2025-01-31,alpha,0,0,,\n2024-12,alpha,0,0,,\n",
        observations,
    )
    assert [r["status"] for r in rows] == ["out of range", "out of range", "scored"]
    assert [r["consistent"] for r in rows][2] is True
    assert pd.isna(rows[0]["consistent"]) and pd.isna(rows[1]["consistent"])
    assert pd.isna(rows[0]["level"]) and pd.isna(rows[1]["level"])


def test_every_variant_gets_a_row_for_every_observation(write, observations):
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    rows = scored(sim.run(sc), "2024-03,alpha,700,900,,\n2030-01,alpha,0,0,,\n", observations)
    assert [(r["variant"], r["date"]) for r in rows] == [
        ("base", "2024-03"),
        ("base", "2030-01"),
        ("slow", "2024-03"),
        ("slow", "2030-01"),
    ]


# ---------------------------------------------------------------- ensembles


def brute_force(plan, draws, seed):
    """Every draw stepped at once: {series: (n, months) levels}, reached, original."""
    out = step(plan, Draws(seed).take(plan, draws))
    sel = series(plan)
    return level_views(plan, out, [s for s, _ in sel], [m for _, m in sel]), out


def test_percentile_rank_and_band_are_exact_over_the_draws(write, observations):
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    result = sim.run(sc, ["base"], draws=3000, seed=11, progress=False)
    path = observations(
        "2024-01,alpha,1000,1000,,\n2024-04,alpha,600,700,,\n"
        "2024-08,alpha,,250,,\n2024-08,alpha,2000,,,\n"
    )
    obs = read_observations(path, ["alpha"])
    table = score(result, obs, Tolerance(), chunk=257).table
    levels, _ = brute_force(result.plans["base"], 3000, 11)
    lv = levels["alpha"]
    for row, o in zip(table.itertuples(), obs, strict=True):
        month = lv[:, o.month - result.plans["base"].start]
        ref = o.reference
        rank = 100 * ((month < ref).mean() + 0.5 * (month == ref).mean())
        if o.bounded:
            assert row.percentile_rank == pytest.approx(rank, abs=1e-3)
        else:  # "fewer than" / "more than" has no middle to rank
            assert pd.isna(row.percentile_rank)
        p10, p90 = np.percentile(month, [10, 90], method="inverted_cdf")
        lo = -np.inf if o.low is None else o.low
        hi = np.inf if o.high is None else o.high
        assert row.in_band80 == bool(lo <= p90 and hi >= p10)
        accept_lo, accept_hi = Tolerance().accept(o)
        assert row.p_consistent == pytest.approx(
            ((month >= accept_lo) & (month <= accept_hi)).mean(), abs=1e-6
        )


def test_conditioning_needs_an_ensemble(mini, observations):
    obs = read_observations(observations("2024-03,alpha,1,1,,\n"), ["alpha"])
    with pytest.raises(
        sim.ScenarioError, match="^<arguments>:1:1: condition: expected an ensemble"
    ):
        score(sim.run(mini), obs, condition=True)


# ---------------------------------------------------------------- in the scenario file


def test_a_scenario_may_list_observations_or_point_to_a_csv_beside_it(write, tmp_path):
    from sim.scenario import scenario_observations

    inline = (
        MINIMAL_YAML
        + """\
observations:
  - {date: 2024-06-15, theater: alpha, troops_low: 450, troops_high: 550, source: a report}
  - {date: 2024-08, theater: alpha, troops_high: 400}
"""
    )
    obs = scenario_observations(sim.load_scenario(write(inline)))
    assert [(o.month_text, o.shape) for o in obs] == [("2024-06", "range"), ("2024-08", "at most")]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "seen.csv").write_text(HEADER + "2024-03,alpha,700,700,,\n")
    pointed = write(MINIMAL_YAML + "observations: seen.csv\n", name="sub/scenario.yaml")
    obs = scenario_observations(sim.load_scenario(pointed))
    assert [o.low for o in obs] == [700] and obs.origin.endswith("seen.csv")


@pytest.mark.parametrize(
    "extra,needle,path,found",
    [
        (
            "observations:\n  - {date: 2024-06, theater: beta, troops_low: 1, troops_high: 1}\n",
            "beta",
            "observations[0].theater",
            "unknown theater 'beta'",
        ),
        (
            "observations:\n  - {date: 2024-06, theater: alpha, troops_low: 9, troops_high: 1}\n",
            "troops_low: 9",
            "observations[0].troops_high",
            "1",
        ),
        (
            "observations:\n  - {date: 2024-06, theater: alpha}\n",
            "theater: alpha}",
            "observations[0].troops_low",
            "both blank",
        ),
        ("observations: missing.csv\n", "missing.csv", "observations", "no such file"),
        ("observations: ''\n", "observations: ''", "observations", r"'' \(no path\)"),
    ],
)
def test_bad_observations_in_a_scenario_are_located_errors(write, extra, needle, path, found):
    text = MINIMAL_YAML + extra
    file = write(text)
    line = [i for i, t in enumerate(text.splitlines(), 1) if needle in t][0]
    with pytest.raises(sim.ScenarioError, match=located(file, line, None, path, "", found)):
        sim.load_scenario(file)


def test_a_bad_row_in_the_csv_a_scenario_points_to_names_the_csv(write, tmp_path):
    (tmp_path / "seen.csv").write_text(HEADER + "2024-03,alpha,700,700,,\n2024-04,beta,1,1,,\n")
    file = write(MINIMAL_YAML + "observations: seen.csv\n")
    with pytest.raises(
        sim.ScenarioError, match=located(tmp_path / "seen.csv", 3, 9, "theater", "", "beta")
    ):
        sim.load_scenario(file)


def test_a_variant_may_not_override_the_observations(write):
    text = (
        MINIMAL_YAML
        + """\
variants:
  other:
    description: x
    overrides:
      observations: []
"""
    )
    with pytest.raises(sim.ScenarioError, match="variants.other.overrides.observations"):
        sim.load_scenario(write(text))


# ---------------------------------------------------------------- the command line


@pytest.mark.slow
def test_run_observed_writes_observed_csv_and_draws_the_observations(write, observations, tmp_path):
    scenario = write(MINIMAL_YAML)
    path = observations("2024-06,alpha,500,500,a,\n2024-07,alpha,,100,b,\n2030-01,alpha,0,0,c,\n")
    out = tmp_path / "run"
    result = invoke("run", str(scenario), "--observed", str(path), "--out", str(out))
    assert result.exit_code == 0, result.output
    header, rows = read_csv(out / "observed.csv")
    assert header[:8] == [
        "date",
        "theater",
        "kind",
        "variant",
        "troops_low",
        "troops_high",
        "level",
        "consistent",
    ]
    assert "percentile_rank" not in header and "status" in header
    assert [(r["level"], r["consistent"], r["status"]) for r in rows] == [
        ("500", "true", "scored"),
        ("400", "false", "scored"),
        ("", "", "out of range"),
    ]
    record = json.loads((out / "run.json").read_text())
    assert record["observed"]["observations"] == 3
    assert "base: central run consistent with 1 of 2 (not: 2024-07)" in result.output
    assert "1 outside the scenario's months or series (2030-01 alpha)" in " ".join(
        result.output.split()
    )


def test_the_reports_outside_a_run_are_named_at_most_three_then_an_ellipsis(mini, observations):
    from sim.cli.text import observed_lines

    rows = "".join(f"20{y}-01,alpha,0,0,s{y},\n" for y in range(30, 35))
    obs = read_observations(observations(rows + "2024-06,alpha,500,500,a,\n"), ["alpha"])
    result = sim.run(mini)
    text = " ".join(" ".join(observed_lines(score(result, obs), result.variants)).split())
    assert (
        "5 outside the scenario's months or series (2030-01 alpha, 2031-01 alpha, 2032-01 alpha, …)"
    ) in text


def test_a_conditioned_runs_line_of_effective_draws_says_how_many_known_reports_repeat_one(
    write, observations
):
    # "5 reports" where 8 were known: the three that repeat a month's quantity (a later
    # report of the same month counts) were not said
    from sim.cli.text import observed_lines

    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    rows = (
        "2024-03-05,alpha,800,800,a,\n2024-03-20,alpha,750,750,b,\n"
        "2024-04-10,alpha,700,700,c,\n2024-12-01,alpha,0,0,d,\n"
    )
    obs = read_observations(observations(rows), ["alpha"])
    result = sim.run(sc, draws=400, seed=1, observed=obs, condition=True, as_of="2024-06-01")
    text = " ".join(" ".join(observed_lines(result.observed, result.variants)).split())
    assert re.search(r", 2 reports \(and 1 superseded by a later report of its month\)", text)


@pytest.mark.slow
def test_run_with_draws_adds_ranks_and_condition_writes_the_conditioned_files(
    write, observations, tmp_path
):
    scenario = write(UNCERTAIN_YAML)
    path = observations("2024-01,alpha,900,1100,,\n2024-06,alpha,,700,,\n")
    out = tmp_path / "run"
    result = invoke(
        "run",
        str(scenario),
        "--observed",
        str(path),
        "--draws",
        "400",
        "--seed",
        "2",
        "--condition",
        "--out",
        str(out),
        "-q",
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    for name in (
        "observed.csv",
        "bands_conditioned.csv",
        "dates_conditioned.csv",
        "fan_conditioned.png",
        "bands.csv",
        "fan.png",
    ):
        assert name in names
    header, _ = read_csv(out / "observed.csv")
    assert header[8:13] == [
        "percentile_rank",
        "in_band80",
        "p_consistent",
        "conditioning",
        "p_consistent_conditioned",
    ]
    header, rows = read_csv(out / "milestones.csv")
    assert header[-2:] == ["p_met", "p_met_conditioned"]
    bands_header, _ = read_csv(out / "bands_conditioned.csv")
    assert bands_header == read_csv(out / "bands.csv")[0]
    header, rows = read_csv(out / "conditioning.csv")
    assert header == ["scenario", "variant", "draws", "effective_draws"]
    assert [r["variant"] for r in rows] == ["base", "slow"]
    assert all(30 <= float(r["effective_draws"]) <= 400 for r in rows)
    record = json.loads((out / "run.json").read_text())["observed"]["conditioning"]
    assert set(record["effective_draws"]) == {"base", "slow"}
    # the file and the record give one figure, to the same three decimals
    assert {r["variant"]: float(r["effective_draws"]) for r in rows} == record["effective_draws"]


@pytest.mark.slow
def test_the_scenario_own_observations_are_used_without_observed(write, tmp_path):
    scenario = write(
        MINIMAL_YAML + "observations:\n"
        "  - {date: 2024-06, theater: alpha, troops_low: 500, troops_high: 500}\n"
    )
    out = tmp_path / "run"
    assert invoke("run", str(scenario), "--out", str(out), "-q").exit_code == 0
    assert read_csv(out / "observed.csv")[1][0]["consistent"] == "true"


BAD_COMMANDS = [
    (["--observed", "{missing}"], "no such file"),
    (["--observed", "{bad}"], "theater: expected one of alpha"),
    (
        ["--observed", "{good}", "--condition"],
        "<command line>:1:1: --condition: expected --draws N and --seed S with --condition "
        "(it conditions an ensemble), found no --draws",
    ),
    (
        ["--condition"],
        "<command line>:1:1: --condition: expected --observed FILE (or observations in the "
        "scenario), --draws N and --seed S with --condition (it conditions an ensemble on "
        "reports), found no --observed, no observations in ",
    ),
    (
        ["--condition", "--draws", "10", "--seed", "1"],
        "<command line>:1:1: --condition: expected observations for --condition: --observed "
        "FILE, or observations in the scenario, found no --observed, and no observations in ",
    ),
    (
        ["--tolerance", "5%"],
        "<command line>:1:1: --tolerance: expected observations for --tolerance: --observed "
        "FILE, or observations in the scenario, found no --observed, and no observations in ",
    ),
    (["--observed", "{good}", "--tolerance", "lots"], "<command line>:1:1: --tolerance: expected"),
]


@pytest.mark.parametrize("args,message", BAD_COMMANDS, ids=[m for _, m in BAD_COMMANDS])
def test_bad_observed_arguments_exit_2_with_one_line_and_nothing_written(
    write, observations, tmp_path, args, message
):
    scenario = write(MINIMAL_YAML)
    files = {
        "missing": str(tmp_path / "missing.csv"),
        "bad": str(observations("2024-03,beta,1,1,,\n", name="bad.csv")),
        "good": str(observations("2024-03,alpha,1,1,,\n", name="good.csv")),
    }
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["run", str(scenario), "--out", str(out), *[a.format(**files) for a in args]]
    )
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("forcesim: error: "), result.output
    assert message in lines[0]
    assert not out.exists()


# ---------------------------------------------------------------- charts


def _markers(axes) -> int:
    """The marks observations put on ``axes``: each point of their lines (a bar's two
    ends, each cap, each dot and triangle)."""
    return sum(
        int(np.isfinite(np.asarray(line.get_ydata(), float)).sum())
        for a in axes
        for line in a.lines
        if line.get_zorder() == 9
    )


def test_the_envelope_and_fan_draw_each_kind_of_observation(write, observations):
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    result = sim.run(sc, draws=100, seed=1, progress=False)
    obs = read_observations(
        observations(
            "2024-03,alpha,800,800,,\n2024-04,alpha,600,700,,\n2024-05,alpha,,500,,\n"
            "2024-06,alpha,100,,,\n2030-01,alpha,0,0,not drawn,\n"
        ),
        ["alpha"],
    )
    result = with_observations(result, score(result, obs))
    # a point: 1 mark; a range: 4 (the bar's ends and two caps); open-ended: a triangle
    # and an arrow
    env = sim.plot_envelope(result)
    assert _markers(env) == 1 + 4 + 1 + 1
    assert sum(1 for t in env[0].texts if getattr(t, "arrow_patch", None)) >= 2
    labels = env[0].get_legend_handles_labels()[1]
    assert {"reported level", "reported range"} <= set(labels)
    fan = sim.plot_fan(result)
    assert _markers(fan) == 2 * (1 + 4 + 1 + 1)  # both variants' panels
    assert sim.plot_envelope(result, observed=False) and True


@pytest.mark.slow
def test_hundreds_of_reports_draw_a_few_lines_per_panel_not_lines_per_report(write, observations):
    # each report had its own lines (a bar, two caps): a record of thousands of rows made
    # thousands of artists, and placing each label tested every one of them (a minute for
    # a chart); marks that look alike are now one line
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    result = sim.run(sc, draws=100, seed=1, progress=False)
    rows = "".join(
        f"2024-{m:02d}-{d:02d},alpha,{100 * d},{100 * d + 50},,\n"
        for m in range(1, 13)
        for d in range(1, 26)
    )
    rows += "2024-05-02,alpha,,500,,\n2024-06-03,alpha,100,,,\n2024-07-04,alpha,300,300,,\n"
    obs = read_observations(observations(rows), ["alpha"])
    result = with_observations(result, score(result, obs))
    for axes in (sim.plot_envelope(result), sim.plot_fan(result)):
        for ax in axes:
            lines = [line for line in ax.lines if line.get_zorder() == 9]
            assert len(lines) <= 5  # bars, caps, dots, two triangles
        # every report is still drawn: 300 ranges (2 ends, 2 caps), 2 triangles, a dot
        assert _markers(axes) == len(axes) * (300 * 4 + 2 + 1)


def test_ranges_reported_every_month_of_a_long_scenario_leave_the_projection_visible(
    write, observations
):
    # 600 monthly ranges were bars 3.2 pt wide 1.1 pt apart: one black block over the panel
    def bars(end: str, months: int) -> tuple[float, float]:
        sc = sim.load_scenario(write(MINIMAL_YAML.replace("end: 2024-12", f"end: {end}")))
        rows = "".join(f"{2024 + i // 12}-{1 + i % 12:02d},alpha,0,2000,,\n" for i in range(months))
        result = sim.run(sc)
        obs = read_observations(observations(rows), ["alpha"])
        (ax,) = sim.plot_envelope(with_observations(result, score(result, obs)))
        (bar,) = [
            line
            for line in ax.lines
            if line.get_zorder() == 9
            and line.get_linestyle() == "-"
            and line.get_marker() == "None"
        ]
        width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
        return bar.get_linewidth(), bar.get_linewidth() * months / width_pt

    lw, covered = bars("2073-12", 600)
    assert covered <= 1 / 3 + 1e-9, (lw, covered)  # of the panel's width, at most a third
    assert bars("2024-12", 12)[0] == 3.2  # a short scenario's bars as wide as ever


def test_solid_bars_of_a_month_that_overlap_are_drawn_as_the_stretches_they_cover(
    write, observations
):
    # 10,000 reports over 24 months drew 10,000 bars one over another, and Agg took
    # 135 MB to raster them: the bars of one look at one x are drawn as the stretches
    # they cover (the same pixels, but for the smoothed edges that overlapping bars
    # drew darker), each report keeping its caps; dashed bars (targets)
    # are not joined, their dashes starting where each bar does
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    result = sim.run(sc, draws=100, seed=1, progress=False)
    header = "date,theater,troops_low,troops_high,kind,source\n"
    rows = (
        "2024-05-02,alpha,100,300,reported,a\n2024-05-09,alpha,200,400,reported,b\n"
        "2024-05-16,alpha,400,450,reported,c\n2024-05-23,alpha,600,700,reported,d\n"
        "2024-05-30,alpha,100,300,target,e\n2024-05-30,alpha,200,400,target,f\n"
    )
    obs = read_observations(observations(rows, header), ["alpha"])
    result = with_observations(result, score(result, obs))
    for axes in (sim.plot_envelope(result), sim.plot_fan(result)):
        ax = axes[0]
        bars = [
            line for line in ax.lines if line.get_zorder() == 9 and line.get_linestyle() != "None"
        ]
        spans = sorted(
            (tuple(np.asarray(line.get_ydata(), float)[i : i + 2]), line.get_linestyle())
            for line in bars
            for i in range(0, len(line.get_ydata()), 3)
        )
        assert spans == [
            ((100.0, 300.0), "--"),
            ((100.0, 450.0), "-"),
            ((200.0, 400.0), "--"),
            ((600.0, 700.0), "-"),
        ]
        caps = [line for line in ax.lines if line.get_marker() == "_"]
        assert sum(len(line.get_ydata()) for line in caps) == 2 * 6


def test_observation_set_from_code_can_be_passed_to_the_charts(mini):
    from sim.io.observations import Observation

    result = sim.run(mini)
    obs = ObservationSet((Observation("2024-06", 2024 * 12 + 5, "alpha", 500, 500),), "code")
    axes = sim.plot_envelope(result, observed=obs)
    assert _markers(axes) == 1


@pytest.mark.slow
def test_plot_of_a_run_directory_draws_its_observations_again(write, observations, tmp_path):
    from sim.export import load_run

    scenario = write(MINIMAL_YAML)
    path = observations("2024-06,alpha,500,500,a,\n2024-07,alpha,,100,b,\n")
    out = tmp_path / "run"
    assert (
        invoke("run", str(scenario), "--observed", str(path), "--out", str(out), "-q").exit_code
        == 0
    )
    (out / "envelope.png").unlink()
    assert invoke("plot", str(out)).exit_code == 0
    assert (out / "envelope.png").is_file()
    result = load_run(out)
    assert [(o.month_text, o.shape) for o in result.observed.observations] == [
        ("2024-06", "point"),
        ("2024-07", "at most"),
    ]
    assert _markers(sim.plot_envelope(result)) == 2


def test_missed_reports_of_one_day_and_theater_are_told_apart_by_kind_and_source() -> None:
    from sim.cli.text import observed_lines

    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    record = sim.load_observations(SCENARIOS_DIR / "iraq-syria-2024-observed.csv", scenario)
    result = sim.run(scenario, ["on-time"], observed=record)
    line = " ".join(" ".join(observed_lines(result.observed, ["on-time"])).split())  # (wrapped)
    # Reuters and CNN both reported 2,000 in Syria on 2024-12-19, beside the official 900
    # (from Reuters too, and consistent): the kind tells the miss from the official
    # figure, the source the two reports of one kind
    assert (
        "2024-12-19 syria reported (reuters-2024-12-19), 2024-12-19 syria reported "
        "(cnn-2024-12-19)" in line
    )
    assert "2025-04-15 syria," in line  # a report alone that day keeps its short name


def test_a_directory_given_as_observations_is_named_with_the_right_article(tmp_path) -> None:
    with pytest.raises(sim.ScenarioError, match="expected an observations CSV file, found a dir"):
        sim.load_observations(tmp_path, sim.load_scenario(DEFAULT_SCENARIO))


RISING = """\
id: rise
title: A force that grows
as_of: 2024-01
calendar: {start: 2024-01, end: 2026-12}
announcement: {expected: 2024-01, delay: {uniform: [0, 6], assumption: judgement}}
theaters:
  niger: {name: Niger, initial: 100}
milestones:
  up:
    theater: niger
    deadline: 2025-06
    target: {level: {uniform: [1500, 2500], assumption: judgement}}
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("doc", "corner"),
    [(RISING, "right"), (None, "left")],  # a build-up fills the lower left; a drawdown not
)
def test_the_effective_draws_label_sits_in_a_corner_no_band_passes_under(
    tmp_path, doc, corner
) -> None:
    import matplotlib.dates as mdates

    from sim.analysis.observed import conditioned_result
    from sim.plotting import mark_conditioned
    from sim.plotting.common import month_ends

    if doc is None:
        scenario, theater = DEFAULT_SCENARIO, "iraq"
        line = "2025-06,iraq,1800,2100,reported,,\n"
    else:
        scenario, theater = tmp_path / "rise.yaml", "niger"
        scenario.write_text(doc, encoding="utf-8")
        line = "2024-06,niger,300,500,reported,,\n"
    path = tmp_path / "obs.csv"
    path.write_text("date,theater,troops_low,troops_high,kind,source,quote\n" + line)
    sc = sim.load_scenario(scenario)
    result = sim.run(sc, variants=sc.select(None)[:1], draws=2000, seed=1,
                     observed=sim.load_observations(path, sc), condition=True)  # fmt: skip
    cond = conditioned_result(result, result.observed)
    axes = sim.plot_fan(cond, theaters=[theater])
    mark_conditioned(axes, cond, result.observed, theaters=[theater])
    ax = axes[0]
    (label,) = [t for t in ax.texts if t.get_text().startswith("effective draws")]
    assert label.get_horizontalalignment() == corner
    renderer = ax.figure.canvas.get_renderer()
    box = label.get_window_extent(renderer).transformed(ax.transAxes.inverted())
    rows = cond.bands[(cond.bands.theater == theater) & (cond.bands.variant == cond.variants[0])]
    x = mdates.date2num(month_ends(rows.month))
    to_axes = ax.transData + ax.transAxes.inverted()
    for xi, lo, hi in zip(x, rows.p05, rows.p95, strict=True):
        (fx, fy0), (_, fy1) = to_axes.transform([(xi, float(lo)), (xi, float(hi))])
        assert not (box.x0 <= fx <= box.x1 and fy1 >= box.y0 and fy0 <= box.y1), (fx, fy0)


@pytest.mark.slow
def test_run_prints_one_line_for_variants_that_fit_the_same_reports(write, observations, tmp_path):
    scenario = write(
        MINIMAL_YAML
        + """\
variants:
  same:
    description: the base again
    overrides: {}
  again:
    description: and again
    overrides: {}
  low:
    description: a smaller force
    overrides:
      theaters:
        alpha:
          initial: 400
"""
    )
    path = observations("2024-02,alpha,900,1000,a,\n2024-03,alpha,300,400,b,\n")
    result = invoke("run", str(scenario), "--observed", str(path), "--out", str(tmp_path / "r"))
    assert result.exit_code == 0, result.output
    verdicts = [line.strip() for line in result.output.splitlines() if "consistent with" in line]
    assert verdicts == [
        "same, again: central run consistent with 1 of 2 (not: 2024-03)",
        "low: central run consistent with 1 of 2 (not: 2024-02)",
    ]


def test_a_bad_argument_of_the_python_api_names_the_argument_not_the_command_line(
    mini, observations
):
    plain = sim.run(mini)
    record = sim.load_observations(observations("2024-06,alpha,500,500,a,\n"), mini)
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: tolerance: expected"):
        sim.score_observations(plain, record, "lots")
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: tolerance: expected"):
        sim.run(mini, draws=10, seed=1, observed=record, tolerance="lots")
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: condition: expected"):
        sim.score_observations(plain, record, condition=True)


@pytest.mark.parametrize("given", ["x", None, "scenario"])
def test_scoring_something_other_than_a_run_is_a_type_error_naming_what_was_given(
    mini, observations, given
):
    # a scenario or a path in place of the run was an AttributeError deep inside
    record = sim.load_observations(observations("2024-06,alpha,500,500,a,\n"), mini)
    wrong = mini if given == "scenario" else given
    with pytest.raises(TypeError, match=r"^expected a Result \(from sim.run\), found "):
        sim.score_observations(wrong, record)


@pytest.mark.slow
def test_a_conditioned_fan_in_the_callers_axes_labels_its_draws_at_the_callers_text_size(
    tmp_path,
) -> None:
    # mark_conditioned on a fan drawn into a paper's axes kept the 9.5 pt bold label of
    # forcesim's 16-inch figure, beside 8 pt deadline labels, and ran out of the panel
    import matplotlib.pyplot as plt

    from sim.analysis.observed import conditioned_result
    from sim.plotting import mark_conditioned

    path = tmp_path / "obs.csv"
    path.write_text(
        "date,theater,troops_low,troops_high,kind,source,quote\n2025-06,iraq,1800,2100,reported,,\n"
    )
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    result = sim.run(sc, variants=sc.select(None)[:2], draws=500, seed=1,
                     observed=sim.load_observations(path, sc), condition=True)  # fmt: skip
    cond = conditioned_result(result, result.observed)

    def label_sizes(axes):
        return [t.get_fontsize() for a in axes for t in a.texts if "effective" in t.get_text()]

    with plt.rc_context({"font.size": 10}):
        fig, given = plt.subplots(1, 2, figsize=(7, 2.6), layout="constrained")
        mark_conditioned(sim.plot_fan(cond, ax=given, theaters=["iraq"]), cond, result.observed)
    assert label_sizes(given) == [pytest.approx(9.5 * 10 / 12.5)] * 2
    own = sim.plot_fan(cond, theaters=["iraq"])  # forcesim's own figure: as designed
    mark_conditioned(own, cond, result.observed, theaters=["iraq"])
    assert label_sizes(own) == [9.5] * 2
    plt.close("all")


def test_a_record_may_name_a_theater_only_some_variant_or_later_vintage_has(write, tmp_path):
    # the record was checked against the first variant of the first vintage: a theater a
    # variant adds (or a site a later vintage adds) was refused as unknown
    extra = "variants:\n  base: {description: as is}\n  wider:\n    description: and beta\n"
    extra += "    overrides:\n      theaters:\n        beta: {initial: 300}\n"
    scenario = sim.load_scenario(write(MINIMAL_YAML + extra, name="s.yaml"))
    record = tmp_path / "record.csv"
    record.write_text(
        "date,theater,troops_low,troops_high,source,quote\n2024-03-01,beta,300,300,,\n"
    )
    assert [o.theater for o in sim.load_observations(record, scenario).items] == ["beta"]
    plain = sim.load_scenario(write(MINIMAL_YAML, name="plain.yaml"))
    assert len(sim.load_observations(record, [plain, scenario]).items) == 1
    with pytest.raises(sim.ScenarioError, match="theater"):
        sim.load_observations(record, plain)


def test_the_as_of_label_drops_below_a_deadline_label_it_would_overlap(write, observations):
    # a deadline the month before the as-of date: the deadline's label starts right
    # of its line, the as-of label ends left of its own, a month later
    sc = sim.load_scenario(write(MINIMAL_YAML.replace("deadline: 2024-11", "deadline: 2024-06")))
    result = sim.run(sc, draws=100, seed=1, progress=False)
    obs = read_observations(observations("2024-05,alpha,500,500,,\n"), ["alpha"])
    result = with_observations(result, score(result, obs, as_of="2024-07-15"))
    for axes in (sim.plot_envelope(result), sim.plot_fan(result)):
        ax = axes[0]
        renderer = ax.figure.canvas.get_renderer()
        note = [t for t in ax.texts if t.get_text().startswith("as of")]
        deadline = [
            t for t in ax.texts if {"deadline Jun 2024", "Jun 2024"} & {*t.get_text().split("\n")}
        ]
        assert len(note) == 1 and deadline
        box = note[0].get_window_extent(renderer)
        assert not any(t.get_window_extent(renderer).overlaps(box) for t in deadline)
        assert box.y1 <= min(t.get_window_extent(renderer).y0 for t in deadline)


def test_rank_stats_read_off_cumulative_counts_equal_a_count_over_every_level():
    # ranks, the 10-90 band and the share within tolerance from the cumulative counts,
    # against masks over the levels: half levels, open ends, bounds past the top level
    from types import SimpleNamespace

    from sim.analysis.observed import rank_stats

    rng = np.random.default_rng(4)
    hist = rng.integers(0, 4, 60).astype(np.int64)
    hist[[0, 59]] = 0
    hist[30] = 5
    levels = np.arange(60)
    n = int(hist.sum())
    cases = [(10, 20), (20.5, 20.5), (30, 30), (None, 25), (40, None), (-5, 3), (55, 80)]
    for low, high in cases:
        obs = SimpleNamespace(low=low, high=high, bounded=low is not None and high is not None)
        obs.reference = (low + high) / 2 if obs.bounded else (high if low is None else low)
        for accept in [(-math.inf, 12.3), (7.5, math.inf), (29.2, 30.9), (-3, 99), (31, 30.5)]:
            rank, band, share = rank_stats(hist, obs, accept)
            ref = obs.reference
            below, equal = int(hist[levels < ref].sum()), int(hist[levels == ref].sum())
            want_rank = Fraction(200 * below + 100 * equal, 2 * n)  # exact, as scored
            assert rank == (want_rank if obs.bounded else None)
            cum = np.cumsum(hist)
            p10, p90 = (int((cum < max(-(-q * n // 100), 1)).sum()) for q in (10, 90))
            lo = -math.inf if low is None else low
            hi = math.inf if high is None else high
            assert band == (lo <= p90 and hi >= p10)
            inside = hist[(levels >= accept[0]) & (levels <= accept[1])].sum()
            assert share == Fraction(int(inside), n)


def test_with_observations_refuses_an_assessment_of_another_run(write, observations):
    # attached to another run, its p_met_conditioned silently became NaN
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    obs = read_observations(observations("2024-03,alpha,800,800,,\n"), ["alpha"])
    small = sim.run(sc, draws=100, seed=1, progress=False)
    large = sim.run(sc, draws=200, seed=1, progress=False)
    plain = sim.run(sc, progress=False)
    assessment = score(small, obs)
    assert with_observations(small, assessment).observed is assessment
    for other in (large, plain):
        with pytest.raises(ValueError, match=r"expected the assessment .* found one of") as e:
            with_observations(other, assessment)
        assert "draws 100" in str(e.value)


def test_with_observations_refuses_an_assessment_of_another_seed_scenario_or_input(
    write, observations
):
    # an assessment of seed 1 was attached to a run of seed 2 (or of another scenario)
    # and write_run signed its conditioned bands beside the other run's tables
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    obs = read_observations(observations("2024-03,alpha,800,800,,\n"), ["alpha"])
    one = sim.run(sc, draws=100, seed=1, progress=False)
    assessment = score(one, obs)
    again = sim.run(sc, draws=100, seed=1, progress=False)  # (the same run, made again)
    assert with_observations(again, assessment).observed is assessment
    other_id = sc.with_overrides({"id": "another"})
    moved = sc.with_settings({"theaters.alpha.initial": 1001})
    for other, found in (
        (sim.run(sc, draws=100, seed=2, progress=False), "another run (scenario spread, seed 1)"),
        (
            sim.run(other_id, draws=100, seed=1, progress=False),
            "another run (scenario spread, seed 1)",
        ),
        (
            sim.run(moved, draws=100, seed=1, progress=False),
            "another run of scenario spread, seed 1, whose inputs or levels differ",
        ),
    ):
        with pytest.raises(ValueError, match=re.escape(found)):
            with_observations(other, assessment)


def test_many_fewer_than_reports_of_one_month_draw_one_arrow_each_triangle_kept(
    write, observations
):
    # 3,333 targets "fewer than N" drew 3,333 arrows a panel, one over another: placing the
    # chart's labels clear of each took most of 100 s
    sc = sim.load_scenario(write(MINIMAL_YAML))
    result = sim.run(sc)
    rows = "".join(f"2024-06-{1 + i % 28:02d},alpha,,{400 + i},,\n" for i in range(200))
    obs = read_observations(observations(rows), ["alpha"])
    (ax,) = sim.plot_envelope(with_observations(result, score(result, obs)))
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None)]
    assert 1 <= len(arrows) <= 3, len(arrows)  # bounds 400 to 599, arrows ~100 long
    heads = [line for line in ax.lines if line.get_marker() == "v"]
    assert sum(len(line.get_xdata()) for line in heads) == 200  # every bound still drawn
    # the arrow kept starts at the highest bound: the others lie on its shaft
    assert max(a.xyann[1] for a in arrows) == 599


def test_a_percentage_tolerance_written_with_a_leading_zero_is_told_to_keep_its_percent():
    # the hint said "write 5", which reads as 5 troops
    from sim.io.observations import parse_tolerance

    with pytest.raises(sim.ScenarioError) as err:
        parse_tolerance("005%")
    assert str(err.value).endswith("found '005%' (write 5%, without the leading zero)")
    with pytest.raises(sim.ScenarioError) as err:
        parse_tolerance("10000001")
    assert "a number of troops (0, or 1 to 10,000,000), found '10000001'" in str(err.value)


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        # (a spreadsheet saved in a locale whose list separator is ';')
        (
            "date;theater;troops_low;troops_high",
            "(1 fields) (its names are separated by semicolons: save it with commas)",
        ),
        # (DATE,THEATER,... had no hint)
        (
            "DATE,THEATER,TROOPS_LOW,TROOPS_HIGH",
            "(4 fields) (the names are written in lower case: date, theater, ...)",
        ),
    ],
    ids=["semicolons", "capitals"],
)
def test_a_first_line_naming_no_column_as_forcesim_reads_them_says_how_to_write_it(
    tmp_path, mini, header, hint
):
    path = tmp_path / "g.csv"
    path.write_text(f"{header}\n2025-01-15,alpha,2400,2400\n")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_observations(path, mini)
    assert str(err.value).endswith(f"found a first line with none of them {hint}")


def test_an_unknown_column_gets_a_did_you_mean_only_when_close_in_letters_or_case(tmp_path, mini):
    # an unknown "notes" column got "did you mean 'quote'?"
    path = tmp_path / "g.csv"
    for column, hint in (("notes", None), ("Source", "source"), ("troop_low", "troops_low")):
        path.write_text(f"date,theater,troops_low,troops_high,{column}\n2025-01-15,alpha,1,2,x\n")
        with pytest.raises(sim.ScenarioError) as err:
            sim.load_observations(path, mini)
        said = str(err.value)
        assert said.endswith(f"found the column {column!r}")
        assert ("did you mean" in said) == (hint is not None)
        assert hint is None or f"(did you mean {hint!r}?)" in said


def test_an_open_ended_target_or_official_figure_has_its_own_legend_entry(write, observations):
    # grey triangles (a target of "fewer than 1,000") had no entry: a reader took them
    # for reports, whose triangles are black
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    result = sim.run(sc, draws=100, seed=1, progress=False)
    header = "date,theater,troops_low,troops_high,source,quote,kind\n"
    rows = "2024-03,alpha,,500,,,target\n2024-04,alpha,300,,,,official\n2024-05,alpha,,400,,,\n"
    obs = read_observations(observations(rows, header=header), ["alpha"])
    result = with_observations(result, score(result, obs))
    labels = sim.plot_envelope(result)[0].get_legend_handles_labels()[1]
    assert {"target \u201cfewer than\u201d", "official figure \u201cmore than\u201d"} <= set(labels)
    assert "reported \u201cfewer than\u201d" in labels
    assert "target \u201cmore than\u201d" not in labels  # (none drawn)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_the_observations_sha256_is_the_files_own_bytes_whatever_its_encoding(
    observations, encoding
):
    # a UTF-16 file and one with a byte-order mark recorded the hash of their UTF-8 twin
    import hashlib

    path = observations("2024-03,alpha,800,800,,\n")
    path.write_bytes(path.read_text(encoding="utf-8").encode(encoding))
    obs = read_observations(path, ["alpha"])
    assert obs.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("2024-13-01", "a month between 01 and 12"),
        ("0001-01-01", "a year between 1900 and 2200"),
    ],
)
def test_a_bad_date_is_quoted_whole_as_written_not_cut_to_its_month(observations, date, expected):
    # '2024-13-01' was quoted as '2024-13'
    path = observations(f"{date},alpha,800,800,,\n")
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    assert str(err.value).endswith(f"date: expected {expected}, found '{date}'")
    header = "date,theater,troops_low,troops_high,source,quote,kind,by\n"
    path = observations(f"2024-03-01,alpha,,500,,,target,{date}\n", header=header)
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    assert f"found '{date}'" in str(err.value)


def test_a_level_written_minus_zero_is_refused_and_told_to_drop_the_sign(observations):
    # '-0' was taken, and observed.csv then wrote accept_low as -0; then it was refused as
    # "a level of 0 troops or more", which it seems to be
    path = observations("2024-03,alpha,-0,800,,\n")
    with pytest.raises(sim.ScenarioError) as err:
        read_observations(path, ["alpha"])
    assert str(err.value).endswith(
        "troops_low: expected a level of 0 troops or more, 0 written without a sign, found '-0'"
    )


def test_a_rank_or_share_written_as_an_end_is_exact_never_a_rounded_rare_draw(write, observations):
    # one draw in 200,000 at 0: its mid-rank 0.00025 % and share 0.000005 rounded to
    # "0" read as "outside every draw" (and a share of 0 as a discrepant report)
    src = MINIMAL_YAML.replace(
        "    initial: 1000\n",
        "    initial:\n      choice: {values: [0, 1000], weights: [1, 199999]}\n"
        "      assumption: one draw in 200,000 at 0\n",
    )
    sc = sim.load_scenario(write(src))
    obs = read_observations(
        observations("2024-01,alpha,0,0,,\n2024-01,alpha,1000,1000,,\n"), ["alpha"]
    )
    one = score(sim.run(sc, draws=200_000, seed=3, progress=False), obs, Tolerance()).table
    assert one.p_consistent.tolist() == [0.000005, 0.999995]  # exactly one draw at 0
    assert one.percentile_rank.tolist()[0] == 0.001  # 0.00025, one step inside the end
    none = score(sim.run(sc, draws=200_000, seed=1, progress=False), obs, Tolerance()).table
    assert none.p_consistent.tolist() == [0.0, 1.0]  # no draw at 0: the ends, exact
    assert none.percentile_rank.tolist()[0] == 0.0


def test_rounded_inside_keeps_a_ratio_off_the_ends_it_does_not_reach():
    from sim.analysis.summaries import rounded_inside

    assert rounded_inside(Fraction(1, 3_000_000), 1, 6) == 0.000001
    assert rounded_inside(Fraction(2_999_999, 3_000_000), 1, 6) == 0.999999
    assert rounded_inside(Fraction(100, 400_000), 1, 3, 100) == 0.001
    assert rounded_inside(100 - Fraction(100, 400_000), 1, 3, 100) == 99.999
    assert (rounded_inside(0, 1, 6), rounded_inside(1, 1, 6)) == (0.0, 1.0)
    assert rounded_inside(Fraction(12_345, 1_000), 1, 3, 100) == 12.345
    # with no step inside the ends, "one step inside" was the other end (0.3 as 1)
    with pytest.raises(ValueError, match="expected places with a step inside 0 to 1, found 0"):
        rounded_inside(Fraction(3, 10), 1, 0)
    assert rounded_inside(Fraction(1, 1000), 1, 0, 100) == 1.0  # (100 whole steps: one in)


def test_a_spreadsheets_row_of_empty_cells_is_skipped_as_a_blank_line(tmp_path) -> None:
    # ",,,,,,,," at the end of an exported sheet was refused: "date: expected a date …"
    path = tmp_path / "sheet.csv"
    path.write_text(
        "date,theater,troops_low,troops_high,kind,source,quote\n"
        "2024-10-01,alpha,900,900,reported,a,\n"
        ",,,,,,\n"
        ' , ,"",,,, \n'
    )
    (only,) = read_observations(path, ["alpha"])
    assert only.date == "2024-10-01"
    path.write_text(",,,\n" + path.read_text())  # (before the header too)
    assert [o.date for o in read_observations(path, ["alpha"])] == ["2024-10-01"]
    path.write_text(path.read_text() + ",alpha,,,,,\n")  # (a cell filled: a row, checked)
    with pytest.raises(sim.ScenarioError, match=r"sheet\.csv:6:1: date: expected a date"):
        read_observations(path, ["alpha"])


def test_a_report_and_a_target_of_one_month_and_level_are_drawn_side_by_side_each_whole(
    mini, observations
):
    # a report of 0 in the month two targets were due for 0 was hidden under their
    # diamond (drawn over reports); a report alone in its month stays at the month's end
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    header = "date,theater,troops_low,troops_high,kind,by,source\n"
    rows = (
        "2024-11-20,alpha,0,0,reported,,a\n2024-09-01,alpha,0,0,target,2024-11,b\n"
        "2024-06-15,alpha,500,500,reported,,c\n"
    )
    obs = read_observations(observations(rows, header), ["alpha"])
    plain, drawn = sim.run(mini), sim.run(mini, draws=50, seed=1)
    for axes in (sim.plot_envelope(plain, observed=obs), sim.plot_fan(drawn, observed=obs)):
        ax = axes[0]
        ax.figure.canvas.draw()

        def centres(marker: str, zorder: float, ax=ax) -> list[tuple[float, float]]:
            """The centres [px] of the observations' marks ``marker`` (drawn at
            ``zorder``: a milestone's own diamond is drawn below a target reported)."""
            return [
                tuple(ax.transData.transform((mdates.date2num(x), y)))
                for line in ax.lines
                if line.get_marker() == marker and line.get_zorder() == zorder
                for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
            ]

        dots, (diamond,) = centres("o", 9), centres("D", 9.7)
        (low,) = [d for d in dots if abs(d[1] - diamond[1]) < 1]
        # side by side, the report left of the target, no closer than a dot is wide,
        # either side of the end of November
        assert diamond[0] - low[0] >= 8.5 * ax.figure.dpi / 72 * 0.99
        november = mdates.date2num(np.datetime64("2024-11-30"))
        assert low[0] < ax.transData.transform((november, 0))[0] < diamond[0]
        # the June report, alone in its month, is at the end of June
        (june,) = [d for d in dots if d is not low]
        june_end = mdates.date2num(np.datetime64("2024-06-30"))
        assert june[0] == pytest.approx(ax.transData.transform((june_end, 500))[0], abs=0.5)
        plt.close("all")


def test_conditioning_on_no_known_report_says_the_conditioned_files_repeat_the_plain_ones(
    write, observations, tmp_path
):
    # --as-of before every report wrote the conditioned files, weighted by nothing, and
    # said nothing
    sc = write(UNCERTAIN_YAML)
    path = observations("2024-06-10,alpha,500,500,a,\n")
    args = ["run", str(sc), "--observed", str(path), "--draws", "200", "--seed", "1"]
    early = invoke(*args, "--condition", "--as-of", "2024-03-01", "--out", str(tmp_path / "a"))
    assert early.exit_code == 0, early.output
    assert (
        "forcesim: warning: --condition: no report known on 2024-03-01 weighs the draws"
        in early.stderr
    )
    assert (tmp_path / "a" / "bands_conditioned.csv").is_file()
    later = invoke(*args, "--condition", "--as-of", "2024-07-01", "--out", str(tmp_path / "b"))
    assert later.exit_code == 0, later.output
    assert "no report" not in later.stderr
    # the known report that counts is one no draw comes near: said so, not "none known"
    far = observations("2024-03-10,alpha,900,900,a,\n2024-03-20,alpha,9000,9000,b,\n", name="f.csv")
    args = ["run", str(sc), "--observed", str(far), "--draws", "200", "--seed", "1"]
    off = invoke(*args, "--condition", "--out", str(tmp_path / "c"))
    assert off.exit_code == 0, off.output
    assert (
        "forcesim: warning: --condition: no report weighs the draws (the reports that count "
        "are discrepant, no draw coming near them: 2024-03-20 alpha), so the conditioned "
        "files repeat the plain ensemble." in " ".join(off.stderr.split())
    )


def test_reports_of_one_day_and_quantity_that_disagree_are_found_and_named_in_a_warning(
    mini, observations
):
    # the order of two rows of one day decided what conditioned and what was scored
    # (1,500 then 1,000 in Syria on 2026-01-23), and nothing said so
    from sim.analysis.conditioning import disagreeing_days
    from sim.cli.text import disagreement_lines

    header = "date,theater,troops_low,troops_high,kind,source\n"
    rows = (
        "2024-05-10,alpha,1500,1500,reported,anadolu\n"
        "2024-05-10,alpha,1000,1000,reported,wsj\n"
        # (alpha has no reporting basis: its official figure states its level, one
        # quantity with the counts)
        "2024-05-10,alpha,900,900,official,dod\n"
        "2024-06-10,alpha,1000,1000,reported,a\n2024-06-10,alpha,1040,1040,reported,b\n"
        "2024-07-10,alpha,,1000,reported,c\n2024-07-10,alpha,1200,,reported,d\n"
        # (a report later in its month counts, whatever the order of these two)
        "2024-09-05,alpha,300,300,reported,e\n2024-09-05,alpha,700,700,reported,f\n"
        "2024-09-20,alpha,650,650,reported,g\n"
        # (a month alone is its last day: one day with the 31st)
        "2024-10,alpha,100,100,reported,h\n2024-10-31,alpha,500,500,reported,i\n"
    )
    obs = read_observations(observations(rows, header), ["alpha"])
    plan = mini.plan("base")
    sources = [[o.source for o in g] for g in disagreeing_days(obs, Tolerance.default(), plan)]
    # June's two meet within 5 %; July's "fewer than 1,000" and "more than 1,200" do not
    assert sources == [["anadolu", "wsj", "dod"], ["c", "d"], ["h", "i"]]
    # known on 2024-09-10, September's pair is the latest of its month, and October's
    # not yet known
    known = disagreeing_days(obs, Tolerance.default(), plan, dt.date(2024, 9, 10))
    assert [[o.source for o in g] for g in known] == [
        ["anadolu", "wsj", "dod"],
        ["c", "d"],
        ["e", "f"],
    ]
    (line, *_) = disagreement_lines(disagreeing_days(obs, Tolerance.default(), plan))
    assert line == (
        "2024-05-10 alpha: reports of one day disagree beyond the tolerance (1,500 "
        "(anadolu), 1,000 (wsj), official 900 (dod)); the one listed last counts (dod), so "
        "the order of the rows decides what conditions and what is scored: list last the "
        "report to trust, or leave the other out."
    )
    # within ±60 %, 1,000 meets 1,500 and 900, and "fewer than 1,000" "more than 1,200";
    # 100 and 500 do not
    wide = disagreeing_days(obs, parse_tolerance("60%"), plan)
    assert [[o.source for o in g] for g in wide] == [["h", "i"]]


@pytest.mark.slow
def test_a_conditioned_runs_months_to_zero_troops_give_the_weighted_month_beside_the_plain(
    tmp_path,
):
    # the lines gave the plain draws' months beside weighted odds, and sent the reader to
    # dates_conditioned.csv for the weighted ones; where no variant keeps enough
    # effective draws there are none to give
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    args = ["run", "--observed", str(record), "--seed", "1", "--condition", "--as-of", "2025-06-01"]
    few = invoke(*args, "--draws", "300", "--out", str(tmp_path / "a"))
    weighted = invoke(*args, "--draws", "1000", "--out", str(tmp_path / "b"))
    assert few.exit_code == weighted.exit_code == 0, weighted.output
    assert not (tmp_path / "a" / "dates_conditioned.csv").exists()
    head = "zero troops, when the last leave (the draws' median month, and how many never get there"
    assert f"{head})" in few.stdout
    said = " ".join(weighted.stdout.split())
    assert f"{head}; weighted: each draw weighted by the reports it misses" in said
    dates = pd.read_csv(tmp_path / "b" / "dates_conditioned.csv")
    row = dates[(dates.variant == "on-time") & (dates.theater == "iraq")]
    row = row[row.threshold == "zero"].iloc[0]
    plain = pd.read_csv(tmp_path / "b" / "dates.csv")
    plain = plain[(plain.variant == "on-time") & (plain.theater == "iraq")]
    plain = plain[plain.threshold == "zero"].iloc[0]
    if (row.p50, row.never) != (plain.p50, plain.never):
        assert (
            f"(weighted: by {row.p50} in half the draws, never in {row.never * 100:.0f} %)" in said
        )
    else:
        assert "(weighted alike)" in said


def test_a_ring_around_a_report_left_out_of_the_weights_sits_on_its_dodged_mark(
    write, observations
):
    # the ring placed the report again after the panel's limits had grown, and where a
    # target of its month sat beside it, drew it half a mark away from the dot
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from sim.analysis.observed import conditioned_result
    from sim.plotting import mark_conditioned

    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    header = "date,theater,troops_low,troops_high,kind,source\n"
    rows = (
        "2024-03-10,alpha,900,900,reported,a\n"  # (near every draw: it weighs them)
        "2024-04-10,alpha,5000,5000,reported,far\n"  # (no draw comes near: left out)
        "2024-04-10,alpha,5100,5100,target,plan\n"  # (beside it: both dodged)
    )
    obs = read_observations(observations(rows, header), ["alpha"])
    result = sim.run(sc, draws=400, seed=1, observed=obs, condition=True)
    cond = conditioned_result(result, result.observed)
    axes = sim.plot_fan(cond)
    mark_conditioned(axes, cond, result.observed)
    for ax in axes:
        (ring,) = [line for line in ax.lines if line.get_gid() == "left-out"]
        (dot,) = [
            (x, y)
            for line in ax.lines
            if line.get_marker() == "o" and line.get_zorder() == 9
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
            if y == 5000
        ]
        april = mdates.date2num(np.datetime64("2024-04-30"))
        assert mdates.date2num(dot[0]) < april  # (dodged left of the target)
        assert list(ring.get_xdata()) == [dot[0]] and list(ring.get_ydata()) == [5000]
    plt.close("all")


def test_a_variants_misses_and_a_days_disagreeing_reports_are_named_a_few_then_counted(
    mini, observations
):
    # 9,999 reports of one day took a minute to name (each counted again for every
    # other) and printed a line of a million characters
    from sim.analysis.conditioning import disagreeing_days
    from sim.cli.text import disagreement_lines, observed_lines

    rows = "".join(f"2024-06-10,alpha,{5000 + 100 * i},{5000 + 100 * i},s{i},\n" for i in range(20))
    obs = read_observations(observations(rows), ["alpha"])
    result = sim.run(mini)
    text = " ".join(" ".join(observed_lines(score(result, obs), result.variants)).split())
    named = ", ".join(f"2024-06-10 (s{i})" for i in range(15))
    assert (
        f"central run consistent with 0 of 20 (not: {named} and 5 more (observed.csv lists them))"
        in text
    )
    (line,) = disagreement_lines(disagreeing_days(obs, Tolerance.default(), mini.plan("base")))
    assert (
        "(5,000 (s0), 5,100 (s1), 5,200 (s2), 5,300 (s3) and 16 more (observed.csv lists them))"
        in line
    )


def test_an_empty_list_of_observations_in_a_scenario_is_refused_as_an_empty_record_is(
    tmp_path,
) -> None:
    # observations: [] ran, conditioned on nothing, where a CSV of a header alone is refused
    from conftest import MINIMAL_YAML

    path = tmp_path / "empty.yaml"
    path.write_text(MINIMAL_YAML + "observations: []\n", encoding="utf-8")
    with pytest.raises(sim.ScenarioError) as err:
        sim.load_scenario(path)
    assert err.value.one_line() == (
        f"{path}:18:15: observations: expected at least 1 observation, found 0 observations"
    )


def test_an_observation_set_and_an_assessment_show_as_one_line_not_every_report() -> None:
    # in a notebook, evaluating either filled the screen with every quote and showed
    # months as internal numbers (month=24288)
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    obs = sim.load_observations(SCENARIOS_DIR / "iraq-syria-2024-observed.csv", sc)
    shown = repr(obs)
    assert "\n" not in shown and "month=" not in shown and len(shown) < 300
    assert shown.startswith(f"<ObservationSet: {len(obs)} observations from ")
    assert "2024-01-26 to 2026-02-23 (iraq, syria); .frame() lists them>" in shown
    result = sim.run(sc, draws=200, seed=1, observed=obs, condition=True, as_of="2025-06-01")
    shown = repr(result.observed)
    assert "\n" not in shown and len(shown) < 400
    assert "scored against 8 variants, 200 draws, as of 2025-06-01, tolerance ±5 %" in shown
    low = min(result.observed.conditioned.effective.values())
    assert f"conditioned, effective draws {low:,.1f}" in shown


def test_the_one_line_shows_say_one_variant_and_an_empty_set_without_parentheses() -> None:
    from dataclasses import replace

    sc = sim.load_scenario(DEFAULT_SCENARIO)
    obs = sim.load_observations(SCENARIOS_DIR / "iraq-syria-2024-observed.csv", sc)
    result = sim.run(sc, variants=["on-time"], draws=100, seed=1, observed=obs, condition=True)
    assert "scored against 1 variant, 100 draws" in repr(result.observed)
    c = result.observed.conditioned
    bare = replace(result.observed, conditioned=replace(c, effective={}))
    assert "effective draws" not in repr(bare)  # (a run read back without them: no error)
    empty = ObservationSet((), "none.csv")
    assert repr(empty) == "<ObservationSet: 0 observations from none.csv; .frame() lists them>"


def test_an_as_of_date_before_the_scenarios_own_warns_of_hindsight_once() -> None:
    # a reporter ran the February 2026 vintage --as-of 2025-06-01 and read it as what
    # could have been projected then: the scenario already knew eight months of news
    from sim.analysis.observed import Hindsight

    vintage = sim.load_scenario(SCENARIOS_DIR / "vintages" / "2026-02-24-syria-withdrawal.yaml")
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    with pytest.warns(Hindsight) as caught:
        sim.run(vintage, ["as-reported"], observed=record, as_of="2025-06-01")
    assert [str(w.message) for w in caught if w.category is Hindsight] == [
        "the as-of date 2025-06-01 is before the scenario's own as_of, 2026-02-24: its "
        "numbers were set knowing what was reported until then, so this is not a "
        "projection that could have been made on 2025-06-01; only a scenario dated by then "
        "(a vintage) is such a projection"
    ]
    # on or after its own date: nothing said
    sim.run(vintage, ["as-reported"], observed=record, as_of="2026-02-24")


@pytest.mark.slow
def test_load_run_of_a_conditioned_run_gives_its_scores_and_weighted_fan(
    write, observations, tmp_path
):
    # load_run gave the bare observations: plot_fan(weighted=True) of it was refused as
    # "not conditioned", and the scores of observed.csv were not in it
    sc = sim.load_scenario(write(UNCERTAIN_YAML))
    obs = read_observations(observations("2024-03,alpha,800,800,a,\n"), ["alpha"])
    made = sim.run(sc, draws=400, seed=1, observed=obs, condition=True)
    sim.write_run(made, tmp_path / "run")
    back = sim.load_run(tmp_path / "run")
    assert back.observed.conditioned is not None
    assert back.observed.conditioned.effective == pytest.approx(
        made.observed.conditioned.effective, abs=1e-3
    )  # (as the file writes them)
    assert list(back.observed.table["percentile_rank"]) == pytest.approx(
        list(made.observed.table["percentile_rank"])
    )
    assert len(sim.plot_fan(back, weighted=True)) >= 1  # (its panels)
    # what it scored goes on as observations, as an ObservationSet did (sim.run took
    # load_run(...).observed before it was the run's Assessment)
    again = sim.run(back.scenario, draws=400, seed=1, observed=back.observed, condition=True)
    assert again.observed.observations.items == made.observed.observations.items
    assert sim.score_observations(back, back.observed).table is not None


def test_an_as_of_date_after_today_warns_of_foresight(monkeypatch, tmp_path) -> None:
    # --as-of 2027-06-01 for 2025-06-01 ran, and said nothing of a date not yet come
    from sim.analysis import observed

    monkeypatch.setattr(observed, "_today", lambda: dt.date(2025, 3, 1))
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    with pytest.warns(observed.Foresight) as caught:
        sim.run(sc, ["on-time"], observed=record, as_of="2025-06-01")
    assert [str(w.message) for w in caught if w.category is observed.Foresight] == [
        "the as-of date 2025-06-01 is after today, 2025-03-01: nothing is known yet of the "
        "days between, so every report on record is weighed, as of today; give the date of "
        "the news to project from it"
    ]
    sim.run(sc, ["on-time"], observed=record, as_of="2025-03-01")  # today: nothing said
    sim.run(sc, ["on-time"], observed=record, as_of="2025-03")  # this month: nothing said
    monkeypatch.setattr(observed, "_today", lambda: dt.date(2026, 12, 5))
    result = invoke(
        "run", str(DEFAULT_SCENARIO), "-v", "on-time", "--observed", str(record),
        "--as-of", "2027-06-01", "-o", str(tmp_path / "run"), "-q",
    )  # fmt: skip
    assert result.exit_code == 0
    assert "warning: the as-of date 2027-06-01 is after today, 2026-12-05" in result.output
