"""The shipped vintage series, scenarios/vintages/: one scenario per date of news, each
built on the one before and holding only what was public on its date."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR

import sim
from sim.analysis.observed import MIN_EFFECTIVE_DRAWS
from sim.cli import main
from sim.io.yamlio import read_yaml
from sim.provenance import provenance
from sim.schema import support

VINTAGES_DIR = SCENARIOS_DIR / "vintages"
VINTAGES = sorted(VINTAGES_DIR.glob("*.yaml"))
IDS = [p.stem for p in VINTAGES]
RECORD = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"

# the dates of news the series must hold (issue 12, item 2)
DATES = ["2024-09-27", "2024-12-19", "2025-04-18", "2025-10-01", "2026-01-23", "2026-02-24"]

# Known reports that no draw of any vintage can meet, each explained at the top of
# the vintage that first knows it: a mid-2025 count of Iraq published in October
# 2025, a Syria count of June 2025 that repeated the figure from before the cut, and
# Shafaq's Iraq count of January 2026 that repeated the figure of early 2025.
STALE_REPORTS = {"2025-10-01 iraq", "2025-06-03 syria", "2026-01-18 iraq"}


def as_date(value: Any, *, end: bool = False) -> dt.date:
    """A date, or a ``YYYY-MM`` month as its first (or, with ``end``, last) day."""
    if isinstance(value, dt.date):
        return value
    year, month = map(int, str(value).split("-")[:2])
    if not end:
        return dt.date(year, month, 1)
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)


def raw(path: Path) -> dict[str, Any]:
    return read_yaml(path)[0]


def texts(value: Any, skip: frozenset[str] = frozenset({"sources"})) -> list[str]:
    """Every string under ``value`` except under the keys in ``skip``."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in skip for t in texts(v, skip)]
    if isinstance(value, list):
        return [t for v in value for t in texts(v, skip)]
    return []


def cited(value: Any) -> list[str]:
    """The ids named by every ``source`` key under ``value`` (not the ``sources`` list)."""
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "source" and isinstance(v, str):
                out.append(v)
            elif k != "sources":
                out += cited(v)
    elif isinstance(value, list):
        for v in value:
            out += cited(v)
    return out


@pytest.fixture(scope="module")
def series() -> list[sim.Scenario]:
    return [sim.load_scenario(p) for p in VINTAGES]


def test_the_series_holds_a_vintage_for_each_date_of_news(series):
    assert [as_date(sc.doc.as_of).isoformat() for sc in series] == DATES
    assert [p.name[:10] for p in VINTAGES] == DATES  # file names sort by date


@pytest.mark.parametrize("path", VINTAGES, ids=IDS)
def test_every_vintage_validates_strictly(path):
    result = CliRunner().invoke(main, ["validate", "--strict", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output + result.stderr


def test_each_vintage_extends_the_one_before_and_the_first_the_default_scenario():
    parents = [VINTAGES_DIR / raw(p)["extends"] for p in VINTAGES]
    assert parents[0].resolve() == DEFAULT_SCENARIO.resolve()
    assert [p.resolve() for p in parents[1:]] == [p.resolve() for p in VINTAGES[:-1]]


def test_as_of_strictly_increases_from_the_default_scenario_on(series):
    dates = [as_date(sim.load_scenario(DEFAULT_SCENARIO).doc.as_of)]
    dates += [as_date(sc.doc.as_of) for sc in series]
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False)), dates


def test_every_vintage_has_its_own_id_and_title_and_a_short_description(series):
    assert len({sc.id for sc in series}) == len(series)
    assert len({sc.doc.title for sc in series}) == len(series)
    for sc in series:
        description = sc.doc.description or ""
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", description.strip()) if s]
        assert 1 <= len(sentences) <= 2, (sc.id, description)


def test_every_vintage_starts_in_september_2024_and_keeps_the_as_reported_reading(series):
    for sc in series:
        assert sc.doc.calendar.start == "2024-09", sc.id
        assert "as-reported" in sc.variant_names, sc.id


@pytest.mark.parametrize("path", VINTAGES, ids=IDS)
def test_every_number_of_every_reading_cites_a_source_or_states_an_assumption(path):
    sc = sim.load_scenario(path)
    for variant in [None, *sc.variant_names]:
        unsupported = [p.path for p in provenance(sc, variant) if not p.supported]
        assert unsupported == [], (variant, unsupported)


@pytest.mark.parametrize("path", VINTAGES, ids=IDS)
def test_no_vintage_cites_a_source_dated_after_its_as_of(path):
    sc = sim.load_scenario(path)
    as_of = as_date(sc.doc.as_of)
    dated = {s.id: as_date(s.date) for s in sc.doc.sources if s.date is not None}
    ids = re.compile(r"\b(" + "|".join(map(re.escape, sorted(dated, key=len)[::-1])) + r")\b")
    for variant in [None, *sc.variant_names]:
        doc = (sc.doc if variant is None else sc.resolved(variant)).model_dump(by_alias=True)
        named = set(cited(doc))  # what numbers, milestones and the announcement cite
        for text in texts(doc):  # and what assumptions and descriptions mention
            named |= set(ids.findall(text))
        late = sorted(s for s in named if s in dated and dated[s] > as_of)
        assert late == [], (variant, late)
        assert named <= {s.id for s in sc.doc.sources}, (variant, named)


@pytest.mark.parametrize("path", VINTAGES[1:], ids=IDS[1:])
def test_a_vintage_lists_only_the_sources_it_adds(path):
    mine = [s["id"] for s in raw(path).get("sources", [])]
    inherited = [s.id for s in sim.load_scenario(VINTAGES_DIR / raw(path)["extends"]).doc.sources]
    assert not set(mine) & set(inherited)
    assert [s.id for s in sim.load_scenario(path).doc.sources] == inherited + mine


def test_the_default_scenario_stays_as_reported_on_2024_09_06():
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    assert as_date(sc.doc.as_of) == dt.date(2024, 9, 6)
    assert "slip-6" in sc.variant_names  # the vintages drop the slips, not the default
    start = sim.run(sc).monthly
    start = start[start.month.astype(str) == "2024-09"].set_index(["variant", "theater"])
    assert set(start.official.xs("iraq", level="theater")) == {2500}
    assert set(start.official.xs("syria", level="theater")) == {900}


def test_after_the_joint_statement_the_announcement_slip_readings_are_gone(series):
    for sc in series:
        assert not [v for v in sc.variant_names if v.startswith("slip")], sc.id
        assert support(sc.plan("as-reported").delay) == (0, 0), sc.id


def central(sc: sim.Scenario, variant: str = "as-reported") -> dict[tuple[str, str], int]:
    monthly = sim.run(sc, variants=[variant]).monthly
    return {
        (t, str(m)): int(x)
        for t, m, x in zip(monthly.theater, monthly.month, monthly.troops, strict=True)
    }


def test_from_december_2024_syria_holds_900_declared_and_1100_temporary_troops(series):
    for sc in series[1:]:
        monthly = sim.run(sc, variants=["as-reported"]).monthly
        first = monthly[(monthly.month.astype(str) == "2024-09") & (monthly.theater == "syria")]
        assert (int(first.troops.iloc[0]), int(first.official.iloc[0])) == (2000, 900), sc.id


def test_the_iraq_first_phase_ends_when_ain_al_asad_was_handed_over(series):
    by_date = dict(zip(DATES, series, strict=True))
    milestones = sim.run(by_date["2026-01-23"], variants=["as-reported"]).milestones
    phase_1 = milestones[milestones.milestone == "iraq-phase-1"].iloc[0]
    assert str(phase_1.month_reached) == "2026-01"  # 4 months after 2025-09


def test_the_last_vintage_takes_syria_to_none_by_april_2026_in_its_central_run(series):
    levels = central(series[-1])
    assert levels[("syria", "2026-02")] > 900
    assert levels[("syria", "2026-04")] == 0


@pytest.mark.slow
@pytest.mark.parametrize("path", VINTAGES, ids=IDS)
def test_conditioning_on_the_record_known_then_keeps_draws_in_every_variant(path):
    sc = sim.load_scenario(path)
    result = sim.run(sc, draws=2_000, seed=1)
    observations = sim.load_observations(RECORD, sc)
    assessment = sim.score_observations(result, observations, condition=True, as_of=sc.doc.as_of)
    conditioned = assessment.conditioned
    assert conditioned is not None
    assert conditioned.too_few == []
    assert min(conditioned.effective.values()) >= 10 * MIN_EFFECTIVE_DRAWS
    for variant, reports in assessment.discrepant().items():
        assert set(reports) <= STALE_REPORTS, (variant, reports)


def test_an_order_dated_from_the_announcement_draws_no_deadline_on_the_charts():
    # docs/vintages.md writes a random order so "that no calendar deadline is drawn"
    from sim.plotting.common import base_deadlines

    path = SCENARIOS_DIR / "vintages" / "2024-12-19-syria-count.yaml"
    result = sim.run(sim.load_scenario(path))
    assert base_deadlines(result, "syria") == []
    assert base_deadlines(result, "iraq")  # (the calendar deadlines are drawn)


@pytest.mark.parametrize("kind", ["numpy array", "pandas Series", "pandas Index"])
def test_run_vintages_takes_variants_as_an_array_as_sim_run_does(kind):
    # a NumPy array was an internal "truth value of an array is ambiguous"
    import numpy as np
    import pandas as pd

    names = ["as-reported", "on-time"]
    given = {"numpy array": np.array, "pandas Series": pd.Series, "pandas Index": pd.Index}[kind]
    vintages = [sim.load_scenario(p) for p in VINTAGES[:2]]
    got = sim.run_vintages(vintages, RECORD, draws=60, seed=1, variants=given(names))
    want = sim.run_vintages(vintages, RECORD, draws=60, seed=1, variants=names)
    pd.testing.assert_frame_equal(got.points, want.points)
    pd.testing.assert_frame_equal(got.scores, want.scores)


def test_run_vintages_refuses_variants_that_are_not_names():
    vintages = [sim.load_scenario(VINTAGES[0])]
    with pytest.raises(sim.ScenarioError, match=r"^<arguments>:1:1: variants: .* found 3$"):
        sim.run_vintages(vintages, RECORD, draws=60, seed=1, variants=[3])


def test_a_vintage_dated_before_its_calendar_is_refused_at_its_as_of_not_at_a_source(tmp_path):
    # as_of 2020-01-01 was refused at an inherited source dated after it, in the parent
    # file: the date itself, outside the calendar, is what is wrong
    parent = SCENARIOS_DIR / "vintages" / "2024-12-19-syria-count.yaml"
    early = tmp_path / "early.yaml"
    early.write_text(f"extends: {parent}\nid: early\ntitle: t\nas_of: 2020-01-01\n")
    later = SCENARIOS_DIR / "vintages" / "2025-04-18-syria-consolidation.yaml"
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    with pytest.raises(sim.ScenarioError) as err:
        sim.run_vintages(
            [sim.load_scenario(early), sim.load_scenario(later)], record, draws=10, seed=1
        )
    assert err.value.one_line() == (
        f"{early}:4:8: as_of: expected a vintage's as_of within its calendar (2024-09 to "
        "2028-06), the date it is conditioned on, found '2020-01-01'"
    )


@pytest.mark.slow
def test_the_readme_quotes_the_latest_projections_iraq_at_the_end_of_2026_as_it_runs():
    # the README's "latest projection" paragraph quotes four numbers of this run
    path = SCENARIOS_DIR / "vintages" / "2026-02-24-syria-withdrawal.yaml"
    sc = sim.load_scenario(path)
    record = sim.load_observations(SCENARIOS_DIR / "iraq-syria-2024-observed.csv", sc)
    result = sim.run(
        sc,
        ["as-reported"],
        draws=20000,
        seed=1,
        observed=record,
        condition=True,
        as_of="2026-02-24",
    )
    bands = result.observed.conditioned.bands
    row = bands[(bands.theater == "iraq") & (bands.month == "2026-12")].iloc[0]
    central = result.monthly
    level = central[(central.theater == "iraq") & (central.month == "2026-12")].troops.iloc[0]
    ms = result.milestones.set_index("milestone")
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text().split())
    assert (
        f"weighted 25th percentile is {int(row.p25):,} troops and the weighted median "
        f"{int(row.p50):,}" in readme
    )
    assert f"reads {int(level):,}" in readme
    cells = f"`{int(level):,}` and `{int(row.p25):,}–{int(row.p75):,} ({int(row.p50):,})`"
    assert cells in readme  # (the table --at 2026-12 prints)
    assert f"by September 2026 is {ms.loc['iraq-phase-2', 'p_met_conditioned']:.2f}" in readme


def test_report_outlets_count_each_outlets_reports_most_first() -> None:
    # the vintages and backtest charts named only the record's file, not who reported
    from types import SimpleNamespace

    from sim.provenance import outlet, report_publishers, reports_credit

    def source(id_: str, publisher: str) -> SimpleNamespace:
        return SimpleNamespace(id=id_, publisher=publisher, title="t")

    sources = [
        source("a", "Rudaw"),
        source("b", "Shafaq News"),
        source("c", "Shafaq News, carrying Reuters' reporting"),
    ]
    reports = [SimpleNamespace(source=s) for s in ("a", "b", "c", "x", None, "b")]
    assert report_publishers(sources, reports) == [("Shafaq News", 3), ("Rudaw", 1)]
    assert reports_credit(sources, reports) == "from 2 outlets, most often Shafaq News (3)"
    assert reports_credit(sources, reports[:2]) == "from 2 outlets"  # (one each: none most)
    assert reports_credit(sources, reports[1:3]) == "from Shafaq News"
    assert reports_credit(sources, reports[3:5]) == ""
    assert outlet("Reuters (Idrees Ali, Phil Stewart) via Dawn") == "Reuters"
    assert outlet("AFP via Hurriyet Daily News") == "AFP"
    assert outlet("(anonymous)") == "(anonymous)"
    untitled = [SimpleNamespace(id="t", publisher=None, title="Iraq, Syria: troops (report)")]
    assert reports_credit(untitled, [SimpleNamespace(source="t")]) == (
        "from Iraq, Syria: troops (report)"
    )  # (a title names no outlet: kept whole)


@pytest.mark.slow
def test_the_vintages_chart_credits_the_records_publishers() -> None:
    from sim.plotting.vintages import _footnote
    from sim.provenance import reports_credit

    series = sim.run_vintages(
        [sim.load_scenario(p) for p in sorted((SCENARIOS_DIR / "vintages").glob("*.yaml"))[-2:]],
        SCENARIOS_DIR / "iraq-syria-2024-observed.csv",
        draws=200,
        seed=1,
    )
    cited = [s for v in series.vintages for s in v.scenario.doc.sources]
    credit = reports_credit(cited, list(series.observations))
    assert credit == "from 16 outlets, most often Shafaq News (13) and Reuters (6)"
    assert f"Record: iraq-syria-2024-observed.csv, reports {credit}." in " ".join(
        _footnote(series, "as-reported", "").split()
    )
    # a chart of one theater credits the outlets of its reports alone (Syria's chart had
    # credited Shafaq News's 13 reports, 11 of them of Iraq)
    syria = [o for o in series.observations if o.theater == "syria"]
    alone = reports_credit(cited, syria)
    assert alone != credit
    assert f"Record: iraq-syria-2024-observed.csv, reports of syria {alone}." in " ".join(
        _footnote(series, "as-reported", "", ["syria"]).split()
    )


@pytest.mark.slow
def test_each_vintages_date_stands_over_its_line_and_no_two_dates_overlap() -> None:
    # the dashed date lines had no label: a reader matched six colours against the key
    import matplotlib.pyplot as plt

    from sim.months import spell_day

    paths = sorted((SCENARIOS_DIR / "vintages").glob("*.yaml"))
    series = sim.run_vintages(
        [sim.load_scenario(p) for p in paths],
        SCENARIOS_DIR / "iraq-syria-2024-observed.csv",
        draws=200,
        seed=1,
    )
    axes = sim.plot_vintages(series)
    fig = axes[0].get_figure(root=True)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    days = [spell_day(v.as_of) for v in series.vintages]
    labels = [t for t in axes[0].texts if t.get_text() in days]
    assert sorted(t.get_text() for t in labels) == sorted(days)
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        assert a.y0 >= axes[0].bbox.y1  # (above the panel)
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])
    plt.close(fig)
