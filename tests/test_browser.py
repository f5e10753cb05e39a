"""The shareable page in a real browser: headless Chromium (Debian's ``chromium``) driven by
Playwright, pointed at that binary (Playwright's own browser download is never used).

It checks what a reader meets: the page loads with no console error and no network
request (only the file itself), every chart draws, hovering a known point shows the
right number, and the controls show and hide variants. Skipped, saying why, where no
Chromium or no Playwright is installed (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR, SHORTER_CALENDAR

import sim
from sim.cli import main


def _chromium() -> str | None:
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium found (looked for `chromium` on PATH and /usr/bin/chromium); "
    "install Debian's: apt-get install chromium",
)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright's Python package is not installed"
)
pytest.importorskip("plotly")

#: the flags of every launch: offline, quiet, no profile carried over
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AFGHANISTAN = SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"


def make_run(out: Path, *args: str) -> Path:
    result = CliRunner().invoke(
        main, ["run", *args, "--out", str(out), "--report", "-q"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "ens"
    return make_run(out, str(DEFAULT_SCENARIO), "--draws", "400", "--seed", "2")


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "afg"
    return make_run(
        out,
        str(AFGHANISTAN),
        "--observed",
        str(AFGHANISTAN.with_name("afghanistan-2020-observed.csv")),
        "--draws",
        "300",
        "--seed",
        "1",
    )


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    """One Chromium for the module, with a fresh profile directory."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


class Visit:
    """A page opened from a file, with every console message, script error and
    request it made (any request but the file itself is blocked, and recorded)."""

    def __init__(self, context: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.route(
            "**/*",
            lambda route: route.continue_() if route.request.url == self.url else route.abort(),
        )
        self.page.goto(self.url)
        self.page.wait_for_selector("html[data-charts=ready]", timeout=30_000)

    def point(self, chart: str, row: int, x: str, y: float) -> tuple[float, float]:
        """The position on screen of data point (x, y) in panel ``row`` of ``chart``."""
        return self.page.evaluate(
            """([id, row, x, y]) => {
                const gd = document.getElementById(id);
                const suffix = row > 1 ? String(row) : "";
                const xa = gd._fullLayout["xaxis" + suffix], ya = gd._fullLayout["yaxis" + suffix];
                const box = gd.getBoundingClientRect();
                return [box.left + xa._offset + xa.l2p(xa.d2l(x)),
                        box.top + ya._offset + ya.l2p(ya.d2l(y))];
            }""",
            [chart, row, x, y],
        )

    def hover(self, chart: str, row: int, x: str, y: float) -> str:
        """Move the mouse onto a data point; the hover label's text."""
        self.page.mouse.move(0, 0)
        self.page.locator(f"#{chart}").scroll_into_view_if_needed()
        px, py = self.point(chart, row, x, y)
        self.page.mouse.move(px, py)
        label = self.page.locator(f"#{chart} .hoverlayer")
        self.page.wait_for_function(
            f"document.querySelector('#{chart} .hoverlayer').textContent.length > 0",
            timeout=5_000,
        )
        return str(label.text_content())

    def visible(self, chart: str, meta: str) -> list[str]:
        """The legendgroup (variant) of every shown trace drawing ``meta``."""
        return self.page.evaluate(
            """([id, meta]) => document.getElementById(id).data
                .filter(t => t.meta === meta && t.visible !== false)
                .map(t => t.legendgroup)""",
            [chart, meta],
        )


@pytest.fixture(scope="module")
def visit(browser: Any, ensemble: Path) -> Iterator[Visit]:
    v = Visit(browser, ensemble / "report.html")
    yield v
    v.page.close()


@pytest.mark.slow
def test_the_page_loads_with_no_console_error_and_no_network_request(visit: Visit) -> None:
    assert visit.errors == []
    assert visit.requests == [visit.url]


@pytest.mark.slow
def test_every_chart_renders(visit: Visit) -> None:
    charts = visit.page.locator("div.chart")
    assert charts.count() == 2
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.locator("svg.main-svg").count() >= 1, chart.get_attribute("id")
        assert chart.locator(".scatterlayer .trace").count() > 10


@pytest.mark.slow
def test_a_browser_that_cannot_unpack_plotly_says_so_where_each_chart_would_be(
    browser: Any, ensemble: Path
) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.add_init_script("delete window.DecompressionStream;")  # as in Firefox before 113
    try:
        page.goto((ensemble / "report.html").resolve().as_uri())
        page.wait_for_selector("html[data-charts=unavailable]", timeout=30_000)
        notes = page.locator("div.chart p.no-chart")
        assert notes.count() == 2 and errors == []
        assert "cannot unpack the page's charts" in str(notes.first.text_content())
        assert "The table below the chart holds the same numbers." in str(
            notes.first.text_content()
        )
        assert page.locator("table").count() > 2  # the numbers are all still there
    finally:
        page.close()


@pytest.mark.slow
def test_a_page_whose_plotly_js_is_damaged_says_so_where_each_chart_would_be(
    browser: Any, ensemble: Path, tmp_path: Path
) -> None:
    page_text = (ensemble / "report.html").read_text(encoding="utf-8")
    start = page_text.index('id="plotly-js">') + len('id="plotly-js">')
    damaged = tmp_path / "damaged.html"  # not base64 at all: atob throws
    damaged.write_text(page_text[:start] + "#not-base64#" + page_text[start:], encoding="utf-8")
    page = browser.new_page()
    try:
        page.goto(damaged.resolve().as_uri())
        page.wait_for_selector("html[data-charts=unavailable]", timeout=30_000)
        notes = page.locator("div.chart p.no-chart")
        assert notes.count() == 2
        assert "could not unpack the page's charts" in str(notes.first.text_content())
    finally:
        page.close()


def test_hovering_the_envelope_shows_month_variant_and_troops(visit: Visit, ensemble: Path) -> None:
    monthly = pd.read_csv(ensemble / "monthly.csv")
    row = monthly[
        (monthly.variant == "slip-3") & (monthly.theater == "iraq") & (monthly.month == "2025-11")
    ]
    troops = int(row.troops.iloc[0])
    text = visit.hover("envelope-chart", 1, "2025-11-30", troops)
    assert "Nov 2025" in text
    assert f"slip-3: {troops:,} troops" in text


@pytest.mark.slow
def test_hovering_the_fan_shows_the_median_and_the_bands(visit: Visit, ensemble: Path) -> None:
    visit.page.select_option("#fan-variant", "slip-6")
    assert set(visit.visible("fan-chart", "median")) == {"slip-6"}
    bands = pd.read_csv(ensemble / "bands.csv")
    r = bands[(bands.variant == "slip-6") & (bands.theater == "iraq") & (bands.month == "2026-03")]
    r = r.iloc[0]
    text = visit.hover("fan-chart", 1, "2026-03-31", int(r.p50))
    assert "Mar 2026" in text and "slip-6" in text
    assert f"median of the draws: {int(r.p50):,} troops" in text
    assert f"25th–75th percentile: {int(r.p25):,}–{int(r.p75):,}" in text
    assert f"5th–95th percentile: {int(r.p05):,}–{int(r.p95):,}" in text
    description = visit.page.locator("#fan-description").text_content()
    assert description == "Announcement slips 6 months; the calendar deadlines hold"


@pytest.mark.slow
def test_unticking_a_variant_hides_its_lines_and_narrows_the_shading(
    visit: Visit, ensemble: Path
) -> None:
    page = visit.page
    before = visit.visible("envelope-chart", "variant")
    assert before.count("slip-6-moving") == 2  # one line per theater
    page.locator("fieldset.toggles input[value='slip-6-moving']").uncheck()
    after = visit.visible("envelope-chart", "variant")
    assert "slip-6-moving" not in after and len(after) == len(before) - 2
    top = page.evaluate(
        "(() => { const t = Array.from(document.getElementById('envelope-chart').data)"
        ".find(t => t.meta === 'range-high'); return [t.x, t.y]; })()"
    )
    monthly = pd.read_csv(ensemble / "monthly.csv")
    iraq = monthly[(monthly.theater == "iraq") & (monthly.variant != "slip-6-moving")]
    at_month_ends = [y for x, y in zip(*top, strict=True) if len(x) == 10]
    assert at_month_ends == iraq.groupby("month").troops.max().sort_index().tolist()
    page.locator("fieldset.toggles button[data-all='1']").click()
    assert len(visit.visible("envelope-chart", "variant")) == len(before)


@pytest.mark.slow
def test_the_shading_the_page_redraws_turns_where_lines_cross_as_the_written_one(
    visit: Visit, ensemble: Path
) -> None:
    # redrawn for the variants shown, it went from month end to month end only
    import sim
    from sim.report.charts import envelope_figure

    page = visit.page
    read = (
        "Array.from(document.getElementById('envelope-chart').data)"
        ".filter(t => t.meta === 'range-low' || t.meta === 'range-high')"
        ".map(t => [t.x, t.y])"
    )
    written = [
        [list(t.x), list(t.y)]
        for t in envelope_figure(sim.load_run(ensemble)).data
        if t.meta in ("range-low", "range-high")
    ]
    page.locator("fieldset.toggles input[value='on-time']").uncheck()
    page.locator("fieldset.toggles input[value='on-time']").check()
    redrawn = page.evaluate(read)
    assert any(len(wx) > len({v[:7] for v in wx}) for wx, _ in written)  # Iraq's cross
    for (x, y), (wx, wy) in zip(redrawn, written, strict=True):
        assert len(x) == len(wx)
        # (the same times to the second; the page rounds a crossing's level to 0.01)
        assert [v[:19] for v in x] == [v[:19] for v in wx]
        assert y == pytest.approx(wy, abs=0.011)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("meta", "variant"),
    [
        # Syria's central run counts troops its official figure leaves out: a dashed line each
        ("official", "syria-follows"),
        # Syria: all eight variants hold 1,500 together, drawn in dashes taking turns
        ("shared", "on-time"),
    ],
)
def test_unticking_a_variant_hides_its_official_figure_or_shared_dashes_ticking_shows_them(
    visit: Visit, meta: str, variant: str
) -> None:
    page = visit.page
    shown = visit.visible("envelope-chart", meta)
    assert variant in shown
    page.locator(f"fieldset.toggles input[value='{variant}']").uncheck()
    after = visit.visible("envelope-chart", meta)
    assert variant not in after and len(after) == len(shown) - shown.count(variant)
    page.locator(f"fieldset.toggles input[value='{variant}']").check()
    assert visit.visible("envelope-chart", meta) == shown


@pytest.mark.slow
def test_only_the_ticked_variants_targets_stay_marked_and_named(
    visit: Visit, ensemble: Path
) -> None:
    # the diamonds of unticked variants stayed: a line at 2,170 ran past a target of 1,900
    # that only other variants had, and read as a missed deadline
    page = visit.page
    read = """Array.from(document.getElementById('envelope-chart').data)
        .filter(t => t.meta === 'target')
        .map(t => [t.xaxis || 'x', t.x, t.y, t.customdata.map(c => c[0])])"""
    before = page.evaluate(read)
    milestones = pd.read_csv(ensemble / "milestones.csv")
    page.locator("#envelope-h ~ fieldset.toggles button[data-all='0']").click()
    page.locator("fieldset.toggles input[value='slip-6-moving']").check()
    mine = milestones[milestones.variant == "slip-6-moving"]
    after = page.evaluate(read)
    theaters = ["iraq", "syria"]  # the panels, top to bottom
    for (axis, x, y, text), tid in zip(after, theaters, strict=True):
        rows = mine[mine.theater == tid]
        assert sorted(zip([v[:7] for v in x], y, strict=True)) == sorted(
            zip(rows.deadline, rows.target, strict=True)
        ), axis
        assert all(t.endswith("(slip-6-moving)") and "on-time" not in t for t in text)
    assert sum(len(y) for _, _, y, _ in after) < sum(len(y) for _, _, y, _ in before)
    page.locator("#envelope-h ~ fieldset.toggles button[data-all='1']").click()
    assert page.evaluate(read) == before


@pytest.mark.slow
def test_an_observed_run_loads_cleanly_and_hovering_an_observation_names_it(
    browser: Any, observed: Path
) -> None:
    v = Visit(browser, observed / "report.html")
    try:
        assert v.errors == [] and v.requests == [v.url]
        assert v.page.locator("#envelope-chart svg.main-svg").count() >= 1
        text = v.hover("envelope-chart", 1, "2020-06-30", 8600)
        assert "reported 8,600 troops (2020-06-18" in text
    finally:
        v.page.close()


#: every drawn line and mark of a chart that a label's box covers: points along each
#: trace's paths (lines, bars, markers), on screen, inside the box of a label whose text
#: starts with the given words
COVERED = """([id, words]) => {
    const gd = document.getElementById(id);
    const out = [];
    for (const note of gd.querySelectorAll(".annotation")) {
        if (!note.textContent.startsWith(words)) continue;
        const box = note.querySelector(".bg") || note;
        const r = box.getBoundingClientRect();
        for (const path of gd.querySelectorAll(".scatterlayer .trace path")) {
            const ctm = path.getScreenCTM();
            const n = path.getTotalLength();
            if (!ctm || !n || getComputedStyle(path).opacity === "0") continue;
            for (let l = 0; l <= n; l += 1) {
                const q = path.getPointAtLength(l).matrixTransform(ctm);
                if (q.x > r.left && q.x < r.right && q.y > r.top && q.y < r.bottom) {
                    out.push(note.textContent);
                    break;
                }
            }
        }
    }
    return out;
}"""


@pytest.mark.slow
def test_the_as_of_label_on_the_page_covers_no_line_nor_mark(browser: Any, observed: Path) -> None:
    # "as of 31 Aug 2021" sat at the foot left of its line: its white box lay over the
    # announced and evacuation lines, the line at 0 and the report's bar of Aug 2021
    v = Visit(browser, observed / "report.html")
    try:
        for chart in ("envelope-chart", "fan-chart"):
            v.page.locator(f"#{chart}").scroll_into_view_if_needed()
            assert v.page.evaluate(COVERED, [chart, "as of"]) == [], chart
        shown = v.page.locator("#envelope-chart .annotation", has_text="as of 31 Aug 2021")
        assert shown.count() == 1  # the envelope keeps its label, where it is clear
    finally:
        v.page.close()


@pytest.mark.slow
def test_the_page_fits_a_phone_screen(browser: Any, ensemble: Path) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.goto((ensemble / "report.html").resolve().as_uri())
        page.wait_for_selector("html[data-charts=ready]", timeout=30_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        width = page.evaluate("document.getElementById('envelope-chart').offsetWidth")
        assert 300 <= width <= 390
        # wide tables scroll inside their own box instead of widening the page
        boxes = page.evaluate(
            "Array.from(document.querySelectorAll('.scroll'))"
            ".filter(e => e.scrollWidth > e.clientWidth).length"
        )
        assert boxes >= 1
    finally:
        page.close()


def test_a_title_of_one_long_word_wraps_inside_the_page(browser: Any, tmp_path: Path) -> None:
    # the page's heading ran off its right side, and the whole page scrolled sideways
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8")
    own = tmp_path / "long.yaml"
    own.write_text(re.sub(r"(?m)^title: .*$", "title: " + "Withdrawal" * 20, text))
    run = make_run(tmp_path / "out", str(own), "-v", "on-time")
    page = browser.new_page()
    try:
        page.goto((run / "report.html").resolve().as_uri())
        page.wait_for_selector("html[data-charts=ready]", timeout=30_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        heading = page.evaluate(
            "(() => { const h = document.querySelector('h1');"
            " return [h.scrollWidth, h.clientWidth]; })()"
        )
        assert heading[0] <= heading[1]
    finally:
        page.close()


@pytest.fixture(scope="module")
def conditioned(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "cond"
    record = DEFAULT_SCENARIO.with_name("iraq-syria-2024-observed.csv")
    return make_run(
        out,
        str(DEFAULT_SCENARIO),
        *("-v", "on-time", "-v", "slip-6", "--draws", "400", "--seed", "1"),
        *("--observed", str(record), "--condition", "--as-of", "2025-06-01"),
    )


@pytest.mark.slow
def test_a_conditioned_run_shows_its_weighted_fan_and_its_picker_switches_variant(
    browser: Any, conditioned: Path
) -> None:
    v = Visit(browser, conditioned / "report.html")
    try:
        assert v.errors == [] and v.requests == [v.url]
        assert v.page.locator("div.chart").count() == 3
        chart = "fan-conditioned-chart"
        assert v.page.locator(f"#{chart} .scatterlayer .trace").count() > 10
        assert set(v.visible(chart, "median")) == {"on-time"}
        v.page.select_option("#fan-conditioned-variant", "slip-6")
        v.page.wait_for_function(
            f"document.getElementById('{chart}').data"
            ".some(t => t.meta === 'median' && t.legendgroup === 'slip-6' && t.visible !== false)"
        )
        assert set(v.visible(chart, "median")) == {"slip-6"}
        assert set(v.visible("fan-chart", "median")) == {"on-time"}  # the other fan stays
    finally:
        v.page.close()


# variants named like the page's own groups of traces: the observations, the envelope's
# shading and the milestone targets
GROUP_NAMED = """\
id: groups
title: Variants named like the page's groups
as_of: 2024-09-06
calendar: {start: 2024-09, end: 2026-06}
announcement: {expected: 2024-09, delay: {uniform: [0, 4], assumption: judgement}}
theaters:
  iraq: {name: Iraq, initial: 1000}
milestones:
  out: {theater: iraq, deadline: 2025-09, target: {level: {uniform: [0, 400]}}}
variants:
  observed: {description: early, overrides: {milestones: {out: {deadline: 2025-03}}}}
  range: {description: late, overrides: {milestones: {out: {deadline: 2026-03}}}}
  target: {description: as planned}
"""


@pytest.mark.slow
def test_the_fan_picker_shows_only_the_chosen_variant_whatever_the_variants_are_called(
    browser: Any, tmp_path: Path
) -> None:
    scenario = tmp_path / "groups.yaml"
    scenario.write_text(GROUP_NAMED, encoding="utf-8")
    observed = tmp_path / "observed.csv"
    observed.write_text(
        "date,theater,troops_low,troops_high\n2025-01,iraq,700,800\n", encoding="utf-8"
    )
    run = make_run(
        tmp_path / "run", str(scenario), "--observed", str(observed), "--draws", "200",
        "--seed", "1",
    )  # fmt: skip
    v = Visit(browser, run / "report.html")
    try:
        assert v.errors == []
        for chosen in ("range", "target", "observed"):
            v.page.select_option("#fan-variant", chosen)
            v.page.wait_for_function(
                "document.getElementById('fan-chart').data"
                f".some(t => t.meta === 'median' && t.legendgroup === '{chosen}'"
                " && t.visible !== false)"
            )
            for meta in ("median", "band-low", "central", "deadline"):
                assert set(v.visible("fan-chart", meta)) == {chosen}, (chosen, meta)
            assert v.visible("fan-chart", "observed")  # the observations stay in view
    finally:
        v.page.close()


TWO_MONTHS = """\
id: two-months
title: Two months
as_of: 2024-01
calendar: {start: 2024-01, end: 2024-02}
announcement: {expected: 2024-01}
theaters:
  alpha: {initial: {value: 100, assumption: test}}
milestones:
  out:
    theater: alpha
    deadline: 2024-02
    target: {level: 0}
"""


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["two-months", "default"])
def test_the_month_axis_never_repeats_a_tick_label(
    browser: Any, ensemble: Path, tmp_path: Path, scenario: str
) -> None:
    # a two-month scenario's axis read "Feb 2024" four times: ticks a week apart,
    # each named by its month alone
    if scenario == "default":
        page_file = ensemble / "report.html"
    else:
        (tmp_path / "two.yaml").write_text(TWO_MONTHS, encoding="utf-8")
        page_file = make_run(tmp_path / "two", str(tmp_path / "two.yaml")) / "report.html"
    v = Visit(browser, page_file)
    try:
        axes = v.page.evaluate(  # the tick labels of each month axis (panel)
            "Array.from(document.querySelectorAll('#envelope-chart g.xaxislayer-above'))"
            ".map(a => Array.from(a.querySelectorAll('text')).map(t => t.textContent))"
        )
        labelled = [ticks for ticks in axes if ticks]
        assert labelled and all(len(ticks) >= 2 for ticks in labelled), axes
        for ticks in labelled:
            assert len(ticks) == len(set(ticks)), ticks
            if scenario == "default":  # a long span still names months
                assert all(re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t) for t in ticks), ticks
    finally:
        v.page.close()


@pytest.mark.slow
def test_the_shading_redrawn_past_a_shorter_calendars_end_spans_the_other_lines(
    browser: Any, tmp_path: Path
) -> None:
    # past the end of a variant on a shorter calendar its level is null, which the
    # page's script took for 0: the shading reached down to the axis there
    import sim
    from sim.report.charts import envelope_figure

    scenario = tmp_path / "short.yaml"
    scenario.write_text(SHORTER_CALENDAR, encoding="utf-8")
    run = make_run(tmp_path / "out", str(scenario))
    written = [
        [list(t.x), list(t.y)]
        for t in envelope_figure(sim.load_run(run)).data
        if t.meta in ("range-low", "range-high")
    ]
    v = Visit(browser, run / "report.html")
    try:
        v.page.locator("fieldset.toggles input[value='early']").uncheck()
        v.page.locator("fieldset.toggles input[value='early']").check()
        redrawn = v.page.evaluate(
            "Array.from(document.getElementById('envelope-chart').data)"
            ".filter(t => t.meta === 'range-low' || t.meta === 'range-high')"
            ".map(t => [t.x, t.y])"
        )
        assert v.errors == []
    finally:
        v.page.close()
    for (x, y), (wx, wy) in zip(redrawn, written, strict=True):
        assert [s[:19] for s in x] == [s[:19] for s in wx]
        assert y == pytest.approx(wy, abs=0.011)


def boxes_cut(page: Any) -> list[str]:
    """The caption of every table wider than its box (the rest hidden until scrolled)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.scroll'))
            .filter(e => e.scrollWidth > e.clientWidth + 1 && e.querySelector('caption'))
            .map(e => e.querySelector('caption').textContent)"""
    )


@pytest.mark.slow
def test_on_a_wide_screen_the_tables_that_can_fit_show_every_column_whole(
    browser: Any, observed: Path
) -> None:
    # at 1,400 px the threshold dates' last heading read 'never within the hori' and
    # its shares '0.': headings never wrapped, so the table ran past its box
    page = open_at(browser, observed, 1400)
    try:
        # the observations' columns cannot fit: each variant's table scrolls in its box
        assert boxes_cut(page) == [
            f"Observations scored against {v}" for v in ("doha", "announced", "evacuation")
        ]
        assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    finally:
        page.close()


@pytest.mark.slow
def test_a_table_wider_than_its_box_shows_a_shade_on_the_side_more_of_it_lies(
    browser: Any, observed: Path
) -> None:
    # the observations' columns ran to the box's edge and stopped there, cut through a
    # heading, with nothing to say the rest was a sideways scroll away
    from io import BytesIO

    from PIL import Image

    page = open_at(browser, observed, 1400)
    try:
        box = page.locator(".scroll", has_text="Observations scored against doha")
        box.scroll_into_view_if_needed()

        def edges() -> tuple[int, int]:
            """The lightness, 0 to 255, at the box's left and right edges, in the
            middle of the first row (its cells are padded, so both ends are blank)."""
            b = box.bounding_box()
            row = box.locator("tbody tr").first.bounding_box()
            assert b is not None and row is not None
            shot = Image.open(BytesIO(page.screenshot())).convert("L")
            y = int(row["y"] + row["height"] / 2)
            return shot.getpixel((int(b["x"]) + 1, y)), shot.getpixel(
                (int(b["x"] + b["width"]) - 2, y)
            )

        left, right = edges()
        assert left == 255 and right < 245, (left, right)
        box.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        left, right = edges()
        assert left < 245 and right == 255, (left, right)
    finally:
        page.close()


#: every two texts of a chart that meet (each box less a pixel), and every text that
#: runs past its chart's edges: [chart, text, other text or "the edge"]
CLASHES = """() => {
    const out = [];
    document.querySelectorAll('div.chart').forEach(gd => {
        const chart = gd.getBoundingClientRect();
        const boxes = Array.from(gd.querySelectorAll('svg text'))
            .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0)
            .map(t => [t.textContent, t.getBoundingClientRect()]);
        boxes.forEach(([text, r], i) => {
            if (r.left < chart.left - 1 || r.right > chart.right + 1)
                out.push([gd.id, text, 'the edge']);
            boxes.slice(i + 1).forEach(([other, s]) => {
                const wide = Math.min(r.right, s.right) - Math.max(r.left, s.left);
                const high = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
                if (wide > 1 && high > 1) out.push([gd.id, text, other]);
            });
        });
    });
    return out;
}"""


@pytest.fixture(scope="module")
def afghanistan_2011(tmp_path_factory) -> Path:
    # six-digit troop counts, and deadlines 9 months apart
    out = tmp_path_factory.mktemp("browser") / "afg11"
    scenario = SCENARIOS_DIR / "historical" / "afghanistan-2011.yaml"
    return make_run(out, str(scenario), "--draws", "200", "--seed", "1")


def clashes(page: Any, ticks: bool) -> list[list[str]]:
    """:data:`CLASHES` with (``ticks``) or without a tick label of the troops axis."""
    number = re.compile(r"^[\d,]+$")
    return [c for c in page.evaluate(CLASHES) if any(number.match(t) for t in c[1:]) == ticks]


def open_at(browser: Any, run: Path, width: int) -> Any:
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((run / "report.html").resolve().as_uri())
    page.wait_for_selector("html[data-charts=ready]", timeout=30_000)
    return page


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1400])
def test_the_troop_axis_labels_stand_whole_inside_the_chart_and_clear_of_its_title(
    browser: Any, afghanistan_2011: Path, width: int
) -> None:
    # '100,000' ran past the chart's left edge on a phone (cut to '00,000') and into the
    # axis title 'troops' at 1,400 px: the left margin was fixed, whatever the labels
    page = open_at(browser, afghanistan_2011, width)
    try:
        assert clashes(page, ticks=True) == []
    finally:
        page.close()


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 1400])
def test_plotlys_toolbar_is_offered_on_a_wide_screen_only(
    browser: Any, afghanistan_2011: Path, width: int
) -> None:
    # on a phone it stood over a long panel title ("Afghanistan" lost its "n")
    page = open_at(browser, afghanistan_2011, width)
    try:
        shown = page.evaluate(
            "Array.from(document.querySelectorAll('.chart .modebar-container'))"
            ".map(e => getComputedStyle(e).display !== 'none')"
        )
        assert shown and all(s == (width > 600) for s in shown), shown
    finally:
        page.close()


@pytest.mark.slow
def test_on_a_phone_the_deadline_labels_stand_inside_their_chart_and_clear_of_each_other(
    browser: Any, afghanistan_2011: Path
) -> None:
    # the labels of the deadlines of Dec 2011 and Sep 2012 lay over each other, placed as
    # for a chart 1,000 px wide
    page = open_at(browser, afghanistan_2011, 390)
    try:
        assert clashes(page, ticks=False) == []
        for chart in ("envelope-chart", "fan-chart"):  # each deadline keeps its label
            text = page.locator(f"#{chart}").text_content() or ""
            assert "Dec 2011" in text and "Sep 2012" in text, chart
    finally:
        page.close()


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "sites"
    scenario = SCENARIOS_DIR / "iraq-sites-2024.yaml"
    return make_run(out, str(scenario), "--draws", "200", "--seed", "1", "-v", "slip-6-residual")


@pytest.mark.slow
def test_on_a_wide_screen_a_heading_over_numbers_wraps_too(browser: Any, sites: Path) -> None:
    # 'never within the horizon' stood over its shares ('100.0 %') on one line, as the
    # numbers must: the threshold dates of the sites ran 36 px past their box
    page = open_at(browser, sites, 1400)
    try:
        assert boxes_cut(page) == []
    finally:
        page.close()


@pytest.mark.slow
def test_on_a_phone_a_tables_headings_stay_on_one_line(browser: Any, observed: Path) -> None:
    # headings that wrap to fit a wide screen wrapped a word a line on a phone, where the
    # table scrolls anyway: the threshold dates' heading row stood five lines tall
    page = open_at(browser, observed, 390)
    try:
        tall = page.evaluate(
            """() => Array.from(document.querySelectorAll('thead th'))
                .filter(th => th.offsetParent !== null)
                .filter(th => th.clientHeight > 2 * parseFloat(getComputedStyle(th).lineHeight))
                .map(th => th.textContent)"""
        )
        assert tall == []
    finally:
        page.close()


@pytest.mark.slow
def test_a_page_of_chosen_variants_and_a_theater_draws_only_them_on_a_desktop_and_a_phone(
    browser: Any, ensemble: Path, tmp_path: Path
) -> None:
    target = sim.write_report(
        ensemble, tmp_path / "some.html", variants=["slip-3", "on-time"], theaters="syria"
    )
    v = Visit(browser, target)
    try:
        assert v.errors == [] and v.requests == [v.url]
        assert sorted(set(v.visible("envelope-chart", "variant"))) == ["on-time", "slip-3"]
        assert v.visible("fan-chart", "median") == ["slip-3"]  # the first chosen
        for chart in ("envelope-chart", "fan-chart"):
            titles = v.page.evaluate(
                f"Array.from(document.querySelectorAll('#{chart} .annotation-text'))"
                ".map(e => e.textContent)"
            )
            assert "Syria" in titles and "Iraq" not in titles
        assert "Part of the run." in v.page.locator("header .selection").inner_text()
    finally:
        v.page.close()
    phone = browser.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.goto(target.resolve().as_uri())
        phone.wait_for_selector("html[data-charts=ready]", timeout=30_000)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


#: the deadlines' labels along the top of each panel (the envelope's annotations, the
#: fan's text) that a line, band edge or mark of the data runs under, by chart and text
LABELS_ON_DATA = """() => {
    const out = [];
    document.querySelectorAll('div.chart').forEach(gd => {
        const labels = [];
        gd.querySelectorAll('.annotation').forEach(g => {
            const a = (gd.layout.annotations || [])[Number(g.getAttribute('data-index'))];
            if (a && typeof a.yref === 'string' && a.yref.endsWith(' domain') && a.y >= 0.5
                && /met|deadline/.test(g.textContent))
                labels.push([g.textContent, g.querySelector('.bg') || g]);
        });
        gd.querySelectorAll('.scatterlayer .trace').forEach(g => {
            const t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
            if (t && t.meta === 'deadline-label' && t.visible === true)
                g.querySelectorAll('.textpoint text').forEach(n => labels.push([n.textContent, n]));
        });
        for (const [text, node] of labels) {
            const r = node.getBoundingClientRect();
            if (!r.width) continue;
            for (const g of gd.querySelectorAll('.scatterlayer .trace')) {
                const t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
                if (!t || t.visible !== true || ['deadline', 'deadline-label'].includes(t.meta))
                    continue;
                let hit = false;
                for (const path of g.querySelectorAll('path')) {
                    const ctm = path.getScreenCTM();
                    const n = path.getTotalLength();
                    if (!ctm || !n || getComputedStyle(path).opacity === '0') continue;
                    for (let l = 0; l <= n && !hit; l += 1) {
                        const q = path.getPointAtLength(l).matrixTransform(ctm);
                        hit = q.x > r.left && q.x < r.right && q.y > r.top && q.y < r.bottom;
                    }
                    if (hit) break;
                }
                if (hit) { out.push([gd.id, text, t.meta]); break; }
            }
        }
    });
    return out;
}"""


@pytest.fixture(scope="module")
def latest(tmp_path_factory) -> Path:
    vintage = SCENARIOS_DIR / "vintages" / "2026-02-24-syria-withdrawal.yaml"
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    out = tmp_path_factory.mktemp("browser") / "latest"
    return make_run(
        out, str(vintage), "--draws", "1000", "--seed", "1", "--observed", str(record),
        "--as-of", "2026-02-24", "--condition",
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("width", [390, 500])
def test_on_a_phone_no_deadline_label_stands_on_the_data(
    browser: Any, latest: Path, width: int
) -> None:
    # the February 2026 vintage: on a 500-px screen "Sep 2025 met 0 %" stood on the two
    # ringed reports at 2,500 in Iraq, and a label moved down a row on Syria's range bar
    page = open_at(browser, latest, width)
    try:
        assert page.evaluate(LABELS_ON_DATA) == []
    finally:
        page.close()


#: how many of the deadlines' labels each chart shows, drawn (not past its axis)
LABELS_SHOWN = """() => Array.from(document.querySelectorAll('div.chart')).map(gd => {
    let n = 0;
    gd.querySelectorAll('.scatterlayer .trace').forEach(g => {
        const t = g.__data__ && g.__data__[0] && g.__data__[0].trace;
        if (t && t.meta === 'deadline-label' && t.visible === true)
            g.querySelectorAll('.textpoint text').forEach(x => {
                if (x.getBoundingClientRect().width > 0) n += 1;
            });
    });
    gd.querySelectorAll('.annotation').forEach(g => {
        if (/met|deadline/.test(g.textContent) && g.getBoundingClientRect().width > 0) n += 1;
    });
    return n;
})"""


@pytest.mark.slow
def test_resetting_a_charts_axes_keeps_the_room_made_for_its_labels(
    browser: Any, latest: Path
) -> None:
    # the troop axis raised for the labels went back below them on "Reset axes", and the
    # fan's labels, drawn in troops above the old top, were no longer drawn
    page = open_at(browser, latest, 390)
    try:
        shown = page.evaluate(LABELS_SHOWN)
        assert sum(shown) > 0
        page.evaluate(
            "() => document.querySelectorAll('div.chart').forEach(gd => {"
            " const b = gd.querySelector('.modebar-btn[data-val=\"reset\"]'); if (b) b.click(); })"
        )
        page.wait_for_timeout(300)
        assert page.evaluate(LABELS_SHOWN) == shown
        assert page.evaluate(LABELS_ON_DATA) == []
    finally:
        page.close()
