"""The shareable page (``report.html``): self-contained, complete, accessible, and the same
numbers and colours as the run's files and PNG charts. The page in a real browser is
tested in ``test_browser.py``."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import importlib.util
import json
import re
import shlex
import shutil
from decimal import ROUND_HALF_EVEN, Decimal
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR, SHORTER_CALENDAR, make_doc

import sim
from sim import colors
from sim.cli import main
from sim.io.files import record_files
from sim.provenance import provenance

pytest.importorskip("plotly")

from sim.report import MAX_BYTES, report_html  # noqa: E402
from sim.report.charts import AS_OF, envelope_figure, fan_figure  # noqa: E402

AFGHANISTAN = SCENARIOS_DIR / "historical" / "afghanistan-2020.yaml"
AFGHANISTAN_OBSERVED = SCENARIOS_DIR / "historical" / "afghanistan-2020-observed.csv"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_dir(tmp_path_factory, name: str, *args: str) -> Path:
    out = tmp_path_factory.mktemp("report") / name
    result = invoke("run", *args, "--out", str(out), "--report", "-q")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory) -> Path:
    return run_dir(tmp_path_factory, "ens", str(DEFAULT_SCENARIO), "--draws", "400", "--seed", "2")


@pytest.fixture(scope="module")
def deterministic(tmp_path_factory) -> Path:
    return run_dir(tmp_path_factory, "det", str(DEFAULT_SCENARIO))


@pytest.fixture(scope="module")
def observed(tmp_path_factory) -> Path:
    return run_dir(
        tmp_path_factory,
        "afg",
        str(AFGHANISTAN),
        "--observed",
        str(AFGHANISTAN_OBSERVED),
        "--draws",
        "400",
        "--seed",
        "3",
        "--condition",
        "--tolerance",
        "15%",
    )


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each heading."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = int(tag[1])
            self.headings.append((self._heading, ""))

    def handle_endtag(self, tag: str) -> None:
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def page_of(run: Path) -> str:
    return (run / "report.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- one file, offline


@pytest.mark.slow
def test_the_page_loads_nothing_from_elsewhere(ensemble: Path) -> None:
    page = page_of(ensemble)
    tags = parse(page)
    for tag, attrs in tags.tags:
        assert "src" not in attrs, (tag, attrs)
        assert tag not in ("link", "img", "iframe", "object", "embed"), (tag, attrs)
        if tag == "a":  # links to the sources are followed only when clicked
            assert attrs["href"].startswith(("#", "https://", "http://")), attrs
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert styles and not any(re.search(r"url\(|@import|@font-face", s) for s in styles)
    assert "Plotly.newPlot" in page and 'id="plotly-js"' in page  # the library, inlined


@pytest.mark.slow
def test_the_page_names_files_by_name_not_the_authors_folders(ensemble: Path) -> None:
    # "scenario file /home/…/scenarios/iraq-syria-2024.yaml" on a page made to be published
    page = (ensemble / "report.html").read_text(encoding="utf-8")
    assert DEFAULT_SCENARIO.is_absolute() and ensemble.is_absolute()
    for folder in (DEFAULT_SCENARIO.parent, ensemble.parent):
        assert str(folder) not in page
    assert "<code>…/iraq-syria-2024.yaml</code>" in page  # the scenario file's row
    assert "forcesim run …/iraq-syria-2024.yaml --draws 400" in page  # the command line
    record = json.loads((ensemble / "run.json").read_text(encoding="utf-8"))
    assert record["input"]["path"] == str(DEFAULT_SCENARIO)  # (the record keeps it whole)


def test_the_page_names_an_observed_file_and_odd_names_by_file_name(tmp_path) -> None:
    # --observed=/abs/… and the observations' origin kept the folders; a name run.json
    # escaped (sc-m\xe4rz.yaml) lost what came before its backslash
    scenario = tmp_path / b"sc-m\xe4rz.yaml".decode("utf-8", "surrogateescape")
    shutil.copyfile(AFGHANISTAN, scenario)
    shutil.copyfile(AFGHANISTAN_OBSERVED, tmp_path / AFGHANISTAN_OBSERVED.name)  # (it names it)
    out = tmp_path / "run"
    args = [str(scenario), f"--observed={AFGHANISTAN_OBSERVED}", "--draws", "100", "--seed", "1"]
    result = invoke("run", *args, "--out", str(out), "--report", "-q")
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    for folder in (tmp_path, AFGHANISTAN.parent):
        assert str(folder) not in page
    assert f"--observed=…/{AFGHANISTAN_OBSERVED.name}" in page
    assert "…/&#x27;sc-m\\xe4rz.yaml&#x27;" in page or "…/'sc-m\\xe4rz.yaml'" in page


@pytest.mark.slow
def test_a_page_of_one_variant_speaks_of_no_range_across_variants(
    tmp_path, deterministic: Path
) -> None:
    # the PNG stopped speaking of shading for one variant; the page still did
    out = tmp_path / "one"
    assert (
        invoke("run", str(DEFAULT_SCENARIO), "-v", "on-time", "--out", str(out), "-q").exit_code
        == 0
    )
    assert invoke("report", str(out)).exit_code == 0
    one = (out / "report.html").read_text(encoding="utf-8")
    every = (deterministic / "report.html").read_text(encoding="utf-8")
    assert "range across the variants shown" not in one
    assert "the shading spans the lowest" not in one  # (page.js says it in a comment)
    assert "One line, of the variant on-time." in one
    assert "range across the variants shown" in every and "the shading spans the lowest" in every


@pytest.mark.slow
@pytest.mark.slow
def test_the_page_holds_plotly_js_gzipped_in_base64_and_it_unpacks_to_the_library(
    ensemble: Path,
) -> None:
    from plotly.offline import get_plotlyjs

    page = page_of(ensemble)
    (packed,) = re.findall(r'<script type="application/gzip" id="plotly-js">(.*?)</script>', page)
    assert gzip.decompress(base64.b64decode(packed, validate=True)) == get_plotlyjs().encode()
    assert len(packed) < len(get_plotlyjs()) / 2  # 1.96 MB in place of 4.8 MB


@pytest.mark.slow
def test_the_page_is_under_6_mb(ensemble: Path, observed: Path) -> None:
    for run in (ensemble, observed):
        size = (run / "report.html").stat().st_size
        assert 1_900_000 < size < MAX_BYTES == 6_000_000, size


@pytest.mark.slow
def test_a_conditioned_page_of_every_site_and_variant_of_the_sites_scenario_fits(
    tmp_path_factory,
) -> None:
    # 5 theaters and sites × 9 variants, each fan twice (plain and weighted): with
    # plotly.js uncompressed this page came to 6.48 MB and was refused
    run = run_dir(
        tmp_path_factory,
        "sites-cond",
        str(SCENARIOS_DIR / "iraq-sites-2024.yaml"),
        "--observed",
        str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv"),
        "--condition",
        "--draws",
        "5000",
        "--seed",
        "1",
    )
    page = page_of(run)
    assert len(page.encode()) < MAX_BYTES
    assert page.count("percentiles of the draws") >= 2 * 5 * 9


@pytest.mark.slow
def test_run_report_writes_the_page_into_the_run_directory_and_lists_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    result = invoke("run", str(DEFAULT_SCENARIO), "-v", "on-time", "--out", str(out), "--report")
    assert result.exit_code == 0, result.output
    assert "report.html" in result.output.splitlines()[-1]
    assert (out / "report.html").is_file() and (out / "run.json").is_file()


@pytest.mark.slow
def test_report_command_rebuilds_the_same_page_from_an_earlier_run(
    ensemble: Path, tmp_path: Path
) -> None:
    target = tmp_path / "again.html"
    result = invoke("report", str(ensemble), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"wrote {target} (")
    assert target.read_bytes() == (ensemble / "report.html").read_bytes()


@pytest.mark.slow
def test_report_command_writes_report_html_in_the_run_directory_by_default(
    deterministic: Path,
) -> None:
    before = (deterministic / "report.html").read_bytes()
    (deterministic / "report.html").unlink()
    result = invoke("report", str(deterministic))
    assert result.exit_code == 0, result.output
    assert (deterministic / "report.html").read_bytes() == before


def test_report_of_something_that_is_not_a_run_directory_is_one_line_and_exit_2(
    tmp_path: Path,
) -> None:
    result = invoke("report", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.output == (
        f"forcesim: error: {tmp_path / 'nope'}: expected a run directory "
        "(from forcesim run), found no such directory\n"
    )
    (tmp_path / "empty").mkdir()
    result = invoke("report", str(tmp_path / "empty"))
    assert result.exit_code == 2
    assert re.match(
        r"^forcesim: error: .*run\.json.*expected a run directory holding run\.json", result.output
    )


def test_report_of_a_folder_of_scenarios_says_what_the_folder_holds(tmp_path: Path) -> None:
    # "found no such file" of scenarios/vintages left a reader guessing which file
    folder = tmp_path / "vintages"
    folder.mkdir()
    for name in ("a.yaml", "b.yaml", ".lock.yaml"):
        (folder / name).write_text("id: x\n")
    result = invoke("report", str(folder))
    assert result.exit_code == 2
    assert result.output.endswith(
        "found no run.json, in a folder of 2 scenario files (a run of one is made with: "
        "forcesim run FILE --out DIR)\n"
    )


def test_report_of_a_folder_of_yml_scenarios_says_what_the_folder_holds(tmp_path: Path) -> None:
    # .yml files are scenarios too (list, validate and vintages take them)
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "a.yml").write_text("id: x\n")
    result = invoke("report", str(folder))
    assert result.exit_code == 2
    assert "found no run.json, in a folder of 1 scenario file (a run of one" in result.output


def test_run_report_without_plotly_is_a_usage_error_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "plotly" else real(name, *a)
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", "--out", str(out), "--report"])
    assert result.exit_code == 2
    assert (
        "<command line>:1:1: --report: expected plotly" in result.output
        and "forcesim[report]" in result.output
    )
    assert not out.exists()


def test_a_page_over_the_limit_is_refused_and_nothing_is_written(
    deterministic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sim.report.page.MAX_BYTES", 1_000_000)
    target = tmp_path / "big.html"
    with pytest.raises(sim.ScenarioError, match=r"expected a page of at most 1,000,000 bytes"):
        sim.write_report(deterministic, target)
    assert not target.exists()


@pytest.mark.slow
def test_a_page_over_the_limit_advises_fewer_variants_only_when_there_are_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sim.report.page.MAX_BYTES", 1_000_000)
    for variants, advice in ((["on-time", "slip-3"], True), (["on-time"], False)):
        out = tmp_path / "-".join(variants)
        sim.write_run(sim.run(DEFAULT_SCENARIO, variants), out)
        with pytest.raises(sim.ScenarioError, match="share the PNG charts and CSV files") as got:
            sim.write_report(out)
        assert (
            "forcesim report RUN_DIR --variant NAME or --theater ID" in str(got.value)
        ) is advice
        assert "--theater ID" in str(got.value)
        assert not (out / "report.html").exists()


def test_a_page_its_tables_put_over_the_limit_is_refused_before_the_run_is_read(
    ensemble: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 variants of 50 theaters over 120 months took 8 minutes and 2.4 GB to be refused
    def never(*args: Any) -> None:
        raise AssertionError("the run's tables were read")

    from sim.report import page

    # room for plotly.js (its size depends on plotly's version) and a little more: the
    # run's tables alone put the page over it
    cap = len(page._plotly_js()) + 1_000
    monkeypatch.setattr("sim.report.page.rebuild_scored", never)
    monkeypatch.setattr("sim.report.page.MAX_BYTES", cap)
    target = tmp_path / "big.html"
    with pytest.raises(sim.ScenarioError) as got:
        sim.write_report(ensemble, target)
    levels = len(pd.read_csv(ensemble / "monthly.csv"))
    bands = len(pd.read_csv(ensemble / "bands.csv"))
    variants = len(json.loads((ensemble / "run.json").read_text())["variants"])
    text = got.value.one_line()
    assert "\n" not in text
    assert f"expected a page of at most {cap:,} bytes" in text
    assert (
        f"{levels:,} monthly levels of {variants} variants and {bands:,} months of percentiles"
        in text
    )
    assert "show fewer with forcesim report RUN_DIR --variant NAME or --theater ID" in text
    assert not target.exists()


def test_the_levels_digits_count_towards_the_page_a_run_is_refused_at_once_for(
    deterministic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each level is written twice, in the envelope's table and chart: 20 variants of 50
    # theaters over 120 months (20,000 troops each) came to 8.9 MB and took 48 s and
    # 303 MB to be refused, counted at 10 bytes a level
    from sim.report import page

    def never(*args: Any) -> None:
        raise AssertionError("the run's tables were read")

    levels = len(pd.read_csv(deterministic / "monthly.csv"))
    cap = len(page._plotly_js()) + page.LEVEL_BYTES * levels + levels  # a digit each, once
    monkeypatch.setattr("sim.report.page.MAX_BYTES", cap)
    monkeypatch.setattr("sim.report.page.rebuild_scored", never)
    with pytest.raises(sim.ScenarioError, match=f"{levels:,} monthly levels of"):
        sim.write_report(deterministic, tmp_path / "big.html")
    assert not (tmp_path / "big.html").exists()


def test_the_envelope_tables_rows_count_towards_the_page_a_run_is_refused_at_once_for(
    deterministic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 35 variants of 50 theaters over 120 months without draws took 71 s and 469 MB to be
    # refused (15 MB), counted without the table's 6,000 rows of a month each
    from sim.report import page

    def never(*args: Any) -> None:
        raise AssertionError("the run's tables were read")

    troops = pd.read_csv(deterministic / "monthly.csv")["troops"]
    cap = len(page._plotly_js()) + page._level_bytes(troops)[1]  # levels only
    monkeypatch.setattr("sim.report.page.MAX_BYTES", cap)
    monkeypatch.setattr("sim.report.page.rebuild_scored", never)
    with pytest.raises(sim.ScenarioError, match="monthly levels of"):
        sim.write_report(deterministic, tmp_path / "big.html")
    assert not (tmp_path / "big.html").exists()


@pytest.mark.slow
def test_a_page_under_the_limit_by_its_table_rows_is_built_as_before(
    deterministic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (the count is the least a page holds: a page that fits is never refused by it)
    size = (deterministic / "report.html").stat().st_size
    monkeypatch.setattr("sim.report.page.MAX_BYTES", size)
    target = sim.write_report(deterministic, tmp_path / "same.html")
    assert target.read_bytes() == (deterministic / "report.html").read_bytes()


@pytest.mark.slow
def test_a_page_whose_lines_share_many_stretches_is_built_as_before_at_its_own_size(
    ensemble: Path, observed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the count of the envelope chart's lines and dashed stretches is the least they take
    for run in (ensemble, observed):
        size = (run / "report.html").stat().st_size
        monkeypatch.setattr("sim.report.page.MAX_BYTES", size)
        target = sim.write_report(run, tmp_path / f"{run.name}.html")
        assert target.read_bytes() == (run / "report.html").read_bytes()


def test_the_envelope_charts_lines_and_shared_stretches_count_towards_the_refusal_at_once(
    deterministic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 30 variants of 50 theaters without draws, whose lines share 3,326 stretches (each
    # drawn again in dashes), passed the tables' count and took 30 s and 433 MB to be
    # refused for its 8.6 MB page
    from sim.report import page

    def never(*args: Any) -> None:
        raise AssertionError("the run's tables were read")

    levels = page._monthly_levels(deterministic)
    assert levels is not None
    monthly = levels[0]
    months = monthly.groupby(["theater", "month"], observed=True).ngroups
    tables = len(page._plotly_js()) + page._level_bytes(monthly["troops"])[1]
    tables += page.MONTH_ROW_BYTES * months
    lines, stretches, _ = page._line_bytes(monthly)
    assert stretches > 0
    monkeypatch.setattr("sim.report.page.MAX_BYTES", tables + 1)  # the tables fit
    monkeypatch.setattr("sim.report.page.rebuild_scored", never)
    with pytest.raises(sim.ScenarioError) as got:
        sim.write_report(deterministic, tmp_path / "big.html")
    assert (
        "tables and charts alone need more than" in str(got.value)
        and f"drawn as {lines:,} lines and {stretches:,} stretches where variants' lines "
        "share a path"
        in str(got.value)
    )
    assert not (tmp_path / "big.html").exists()


# ---------------------------------------------------------------- a page of some variants


def chart_data(page: str, key: str) -> dict[str, Any]:
    found = re.search(
        rf'<script type="application/json" id="{key}-chart-data">(.*?)</script>', page, re.S
    )
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.mark.slow
def test_a_page_of_chosen_variants_and_theaters_shows_only_them_and_says_so(
    ensemble: Path, tmp_path: Path
) -> None:
    target = sim.write_report(
        ensemble, tmp_path / "some.html", variants=["slip-3", "on-time"], theaters="syria"
    )
    page = target.read_text(encoding="utf-8")
    every = json.loads((ensemble / "run.json").read_text())["variants"]
    assert (
        f"This page shows 2 of the run&#x27;s {len(every)} variants: slip-3 and on-time; and "
        "1 of its 2 theaters, Syria." in page
    )
    assert (
        "<code>forcesim report RUN_DIR --variant slip-3 --variant on-time --theater syria" in page
    )
    for key in ("envelope", "fan"):
        fig = chart_data(page, key)
        names = {t["legendgroup"] for t in fig["data"] if t.get("meta") in ("variant", "median")}
        assert names == {"slip-3", "on-time"}, key
        titles = [a["text"] for a in fig["layout"]["annotations"] if a.get("yref") == "paper"]
        assert titles == ["<b>Syria</b>"], key
    # the tables follow: envelope and fan tables, milestones and threshold dates
    assert "Iraq: troops at the end of each month" not in page
    assert "Syria: troops at the end of each month" in page
    assert re.findall(r"<h4>([^<]*)</h4>", page.split('id="fan-h"')[1].split("</section>")[0]) == [
        "slip-3",
        "on-time",
    ]
    milestones = page.split('id="milestones-h"')[1].split("</section>")[0]
    # (milestones, then threshold dates: each row's variant first, its theater a cell)
    firsts = re.findall(r"<tr><th scope='row'[^>]*>([^<]*)</th>", milestones)
    assert set(firsts) == {"slip-3", "on-time"}  # (syria has no milestone: its dates)
    assert "<td>syria</td>" in milestones and "<td>iraq</td>" not in milestones
    assert "Part of the run" not in page_of(ensemble)


@pytest.mark.slow
def test_a_page_of_chosen_variants_keeps_their_observations_only_in_the_order_chosen(
    observed: Path, tmp_path: Path
) -> None:
    record = json.loads((observed / "run.json").read_text())
    first, *others = record["variants"]
    assert others
    chosen = [others[-1], first]
    page = sim.write_report(observed, tmp_path / "two.html", variants=chosen).read_text()
    scoring = page.split('id="observed-h"')[1].split("</section>")[0]
    summaries = re.findall(r"<summary>([^:<]*):", scoring)
    assert summaries == chosen
    milestones = page.split('id="milestones-h"')[1].split("</section>")[0]
    firsts = re.findall(r"<tr><th scope='row'[^>]*>([^<]*)</th>", milestones)
    assert list(dict.fromkeys(firsts)) == chosen


def test_an_unknown_variant_or_theater_is_one_line_quoting_it_and_naming_the_runs(
    deterministic: Path,
) -> None:
    before = (deterministic / "report.html").read_bytes()
    variants = ", ".join(json.loads((deterministic / "run.json").read_text())["variants"])
    result = invoke("report", str(deterministic), "--variant", "on-tme")
    assert result.exit_code == 2
    assert result.output == (
        f"forcesim: error: <command line>:1:1: --variant: expected one of the variants "
        f"{deterministic} has: {variants} (did you mean 'on-time'?), found 'on-tme'\n"
    )
    result = invoke("report", str(deterministic), "--theater", "Syria", "--theater", "iraq")
    assert result.exit_code == 2
    assert result.output == (
        f"forcesim: error: <command line>:1:1: --theater: expected one of the theaters and "
        f"sites {deterministic} has: iraq, syria (did you mean 'syria'?), found 'Syria'\n"
    )
    assert (deterministic / "report.html").read_bytes() == before


@pytest.mark.slow
def test_a_run_refused_as_one_page_gets_the_page_of_the_variants_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    sim.write_run(sim.run(DEFAULT_SCENARIO), out)
    one = sim.write_report(out, tmp_path / "one.html", variants="on-time").stat().st_size
    monkeypatch.setattr("sim.report.page.MAX_BYTES", one)
    with pytest.raises(sim.ScenarioError, match="--variant NAME or --theater ID"):
        sim.write_report(out)
    result = invoke("report", str(out), "-v", "on-time")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"wrote {out / 'report.html'} ({one:,} bytes; only variants on-time; "
        f"forcesim report {out} makes the whole page again)\n"
    )
    assert (out / "report.html").read_bytes() == (tmp_path / "one.html").read_bytes()


@pytest.mark.slow
def test_the_report_command_names_each_choice_once_and_says_when_it_replaced_the_runs_page(
    tmp_path: Path,
) -> None:
    # a name given twice is shown once on the page, but the line listed it twice; and
    # -o RUN_DIR/report.html replaced the page of the whole run without saying so
    out = tmp_path / "run"
    sim.write_run(sim.run(DEFAULT_SCENARIO), out)
    target = out / "report.html"
    result = invoke(
        "report", str(out), "-v", "on-time", "-v", "on-time", "--theater", "syria",
        "--theater", "syria", "-o", str(target),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"wrote {target} ({target.stat().st_size:,} bytes; only variants on-time and "
        f"theaters syria; forcesim report {out} makes the whole page again)\n"
    )
    result = invoke("report", str(out), "-v", "on-time", "-o", str(tmp_path / "part.html"))
    assert result.output.endswith("bytes; only variants on-time)\n")


# ---------------------------------------------------------------- structure and accessibility


@pytest.mark.slow
def test_headings_run_from_one_h1_down_without_skipping_a_level(
    ensemble: Path, observed: Path
) -> None:
    for run in (ensemble, observed):
        headings = parse(page_of(run)).headings
        assert headings[0][0] == 1 and [h for h, _ in headings].count(1) == 1
        for (a, _), (b, text) in zip(headings, headings[1:], strict=False):
            assert b <= a + 1, f"h{a} then h{b} ({text})"
    titles = [t for h, t in parse(page_of(ensemble)).headings if h == 2]
    assert titles == [  # (an ensemble's range first: the numbers to quote)
        "Range of outcomes",
        "Troops month by month",
        "Milestones",
        "Sources and assumptions",
        "The scenario as run",
    ]
    assert "Observations" in [t for h, t in parse(page_of(observed)).headings if h == 2]


def test_every_chart_has_a_label_and_a_table_of_its_numbers(ensemble: Path) -> None:
    page = page_of(ensemble)
    charts = [a for t, a in parse(page).tags if t == "div" and "chart" in (a.get("class") or "")]
    assert [c["id"] for c in charts] == ["fan-chart", "envelope-chart"]
    for c in charts:
        assert c["role"] == "img" and len(c["aria-label"] or "") > 40
        after = page[page.index(f'id="{c["id"]}"') :]
        assert after.index("<details><summary>The numbers in this chart</summary>") < 2000


def test_the_envelope_table_holds_the_monthly_levels(deterministic: Path) -> None:
    page = page_of(deterministic)
    monthly = pd.read_csv(deterministic / "monthly.csv")
    row = monthly[(monthly.theater == "iraq") & (monthly.month == "2025-10")]
    levels = dict(zip(row.variant, row.troops, strict=True))
    table = page[page.index("Iraq: troops at the end of each month, by variant") :]
    cells = re.search(r"<tr><th scope='row'>2025-10</th>(.*?)</tr>", table)
    assert cells is not None
    values = re.findall(r"<td>([^<]*)</td>", cells.group(1))
    assert values == [f"{levels[v]:,}" for v in levels]


def test_the_fan_table_holds_every_percentile_of_every_variant(ensemble: Path) -> None:
    page = page_of(ensemble)
    bands = pd.read_csv(ensemble / "bands.csv")
    b = bands[(bands.variant == "slip-6") & (bands.theater == "iraq") & (bands.month == "2025-12")]
    r = b.iloc[0]
    table = page[page.index("Iraq, slip-6: percentiles of the draws") :]
    cells = re.search(r"<tr><th scope='row'>2025-12</th>(.*?)</tr>", table)
    assert cells is not None
    values = re.findall(r"<td>([^<]*)</td>", cells.group(1))
    expected = [f"{int(r[c]):,}" for c in ("p05", "p10", "p25", "p50", "p75", "p90", "p95")]
    assert values[:7] == expected
    assert values[7] == f"{r['mean']:,}".rstrip("0").rstrip(".")  # the mean, every decimal


def test_tables_have_captions_and_column_headings(ensemble: Path) -> None:
    page = page_of(ensemble)
    assert page.count("<table") == page.count("<caption>")
    assert page.count("<table") == page.count("<thead>") + page.count("class='settings'")


@pytest.mark.slow
def test_variant_colours_are_those_of_the_png_charts(ensemble: Path) -> None:
    from sim.plotting import plot_envelope, plot_fan

    result = sim.load_run(ensemble)
    axes = plot_envelope(result)
    png = {line.get_label(): line.get_color() for line in axes[0].get_lines()}
    fig = envelope_figure(result)
    web = {t.name: t.line.color for t in fig.data if t.meta == "variant"}
    assert {v: png[v] for v in result.variants} == {v: web[v] for v in result.variants}
    assert list(web.values())[: len(result.variants)] == list(colors.PALETTE[:8])
    # the fan's bands: the same shades of the same blue
    fan_axes = plot_fan(result, variants=["on-time"])
    fills = [c.get_facecolor()[0][:3] for c in fan_axes[0].collections][:3]
    web_fills = [t.fillcolor for t in fan_figure(result).data if t.meta == "band-high"][:3]
    assert web_fills == ["rgba({},{},{},1)".format(*(round(c * 255) for c in f)) for f in fills]


def _key_text(page: str) -> str:
    """The page's text outside its scripts (the keys, captions and tables)."""
    return re.sub(r"(?s)<script.*?</script>", "", page)


@pytest.mark.slow
def test_a_pages_keys_name_deadlines_and_targets_only_where_its_panels_draw_them(
    ensemble: Path, tmp_path: Path
) -> None:
    # a page of on-time's Syria (no milestone there) keyed a diamond and a dotted line
    # that it never drew
    whole = _key_text(page_of(ensemble))
    for entry in (
        "milestone target at its deadline",
        "deadline before any delay<",
        "deadline before any delay (share of draws meeting it)",
    ):
        assert entry in whole
    out = tmp_path / "syria.html"
    args = ["report", str(ensemble), "-v", "on-time", "--theater", "syria", "-o", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    assert "deadline before any delay" not in _key_text(out.read_text(encoding="utf-8"))
    assert "milestone target" not in _key_text(out.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_the_pages_month_axis_spans_the_months_drawn_not_its_labels(ensemble: Path) -> None:
    # left to Plotly, the axis widened to hold the as-of line's label: on a phone it
    # began two years before the run
    result = sim.load_run(ensemble)
    months = pd.PeriodIndex(result.monthly.month.drop_duplicates(), freq="M")
    first, last = months.min().to_timestamp(how="end"), months.max().to_timestamp(how="end")
    for fig in (envelope_figure(result), fan_figure(result)):
        lo, hi = (pd.Timestamp(t) for t in fig.layout.xaxis.range)
        span = last.normalize() - first.normalize()
        assert first.normalize() - 0.03 * span < lo < first.normalize()
        assert last.normalize() < hi < last.normalize() + 0.03 * span


def _range_outside_lines(fig: Any) -> float:
    """How far [troops] the page's shading passes the lines of its panel anywhere:
    between each two corners of the range, at a quarter, half and three quarters of
    the way, the shading's edge (straight between corners) against the lowest and
    highest of the lines (straight between month ends) there."""
    import numpy as np

    worst = 0.0
    for low in (t for t in fig.data if t.meta == "range-low"):
        high = next(t for t in fig.data if t.meta == "range-high" and t.yaxis == low.yaxis)
        lines = [t for t in fig.data if t.meta == "variant" and t.yaxis == low.yaxis]
        months = pd.to_datetime(list(lines[0].x)).asi8.astype(float)
        corners = pd.to_datetime(list(low.x), format="ISO8601").asi8.astype(float)
        levels = np.array([list(t.y) for t in lines], dtype=float)
        for a in range(len(corners) - 1):
            for f in (0.25, 0.5, 0.75):
                when = corners[a] + f * (corners[a + 1] - corners[a])
                at = [np.interp(when, months, row) for row in levels]
                lo = low.y[a] + f * (low.y[a + 1] - low.y[a])
                hi = high.y[a] + f * (high.y[a + 1] - high.y[a])
                worst = max(worst, min(at) - lo, hi - max(at))
    return worst


@pytest.mark.slow
@pytest.mark.parametrize("which", ["observed", "deterministic"])
def test_the_page_envelopes_shading_stays_between_the_lines_where_they_cross(
    which: str, request: pytest.FixtureRequest
) -> None:
    # shaded from month end to month end it cut across each crossing of two lines,
    # outside all of them (Afghanistan 2020: a wedge of 300 troops, Jan-Feb 2021)
    result = sim.load_run(request.getfixturevalue(which))
    assert _range_outside_lines(envelope_figure(result)) < 0.02


def test_where_variants_share_a_path_each_shows_in_its_own_colour_in_turn(
    deterministic: Path,
) -> None:
    # the lines of on-time, residual and syria-follows run together in Iraq and all eight
    # in Syria; drawn one on another in narrowing widths the page showed one blend
    result = sim.load_run(deterministic)
    fig = envelope_figure(result)
    palette = {t.name: t.line.color for t in fig.data if t.meta == "variant"}
    lines = {(t.name, t.yaxis): t for t in fig.data if t.meta == "variant"}
    shared = [t for t in fig.data if t.meta == "shared"]
    syria = {t.name for t in shared if t.yaxis == "y2"}
    assert syria == set(result.variants)  # all eight hold 1,500 together at first
    assert {t.name for t in shared if t.yaxis == "y"} >= {"on-time", "residual", "syria-follows"}
    by_stretch: dict[tuple[Any, ...], list[Any]] = {}
    for t in shared:
        assert t.line.color == palette[t.name] and t.hoverinfo == "skip" and not t.showlegend
        line = lines[(t.name, t.yaxis)]
        where = [list(line.x).index(x) for x in t.x]  # the stretch lies on its own line
        assert list(t.y) == [line.y[i] for i in where]
        by_stretch.setdefault((t.yaxis, t.x[0], t.x[-1]), []).append(t)
    for stretch in by_stretch.values():
        assert len(stretch) >= 2
        # one period of the same length, each colour's dash at its own offset
        patterns = [[float(p.removesuffix("px")) for p in t.line.dash.split(",")] for t in stretch]
        assert len({sum(p) for p in patterns}) == 1
        assert sorted(p[1] for p in patterns) == [i * patterns[0][2] for i in range(len(stretch))]


def test_colours_on_the_page_keys_are_the_chart_colours(ensemble: Path) -> None:
    page = page_of(ensemble)
    for v, c in colors.variant_colors(sim.load_run(ensemble).variants).items():
        assert f'<span class="swatch" style="--c:{c}"></span>{v}</label>' in page
    assert f'style="--c:{colors.MEDIAN}"></span>median of the draws' in page
    assert "median draw" not in page  # a line of monthly medians no single draw need follow
    assert "P(met by the original deadline)" in page  # beside a deadline column that slips
    # (and the central run's columns say which deadline theirs is)
    assert "deadline (after any slip)" in page and "met by that deadline (central run)" in page


# ---------------------------------------------------------------- what the page says


@pytest.mark.slow
def test_the_charts_hold_the_runs_numbers(ensemble: Path) -> None:
    result = sim.load_run(ensemble)
    fig = envelope_figure(result)
    line = next(
        t for t in fig.data if t.meta == "variant" and t.name == "slip-3" and t.xaxis == "x"
    )
    m = result.monthly
    expected = m[(m.variant == "slip-3") & (m.theater == "iraq")].sort_values("month")
    assert list(line.y) == expected.troops.tolist()
    assert line.x[0] == "2024-09-30" and "%{y:,} troops" in line.hovertemplate
    fan = fan_figure(result)
    median = next(t for t in fan.data if t.meta == "median" and t.legendgroup == "slip-3")
    b = result.bands
    assert b is not None
    rows = b[(b.variant == "slip-3") & (b.theater == "iraq")].sort_values("month")
    assert list(median.y) == rows.p50.tolist()
    assert (
        median.customdata.tolist()
        == rows[["p25", "p75", "p10", "p90", "p05", "p95"]].to_numpy().tolist()
    )
    shown = {t.legendgroup for t in fan.data if t.visible is not False and t.meta == "median"}
    assert shown == {result.variants[0]}  # one variant at a time; the page picks


def test_milestones_and_threshold_dates_are_all_there(ensemble: Path) -> None:
    page = page_of(ensemble)
    ms = pd.read_csv(ensemble / "milestones.csv")
    section = page[page.index('id="milestones"') : page.index('id="sources"')]
    for r in ms.itertuples():
        assert r.milestone in section
    # p_met as a percentage to a tenth: 0.3725 -> 37.2 % (half to even)
    for p in ms.p_met.unique():
        assert f">{_tenth(p)} %<" in section, p
    dates = pd.read_csv(ensemble / "dates.csv")
    assert "Threshold dates" in section
    for t in dates.threshold.unique():
        assert escape(t) in section
    # P(met) 100 % beside "80 % of draws by 2025-11" at the same milestone's level read
    # as a contradiction: the page says P(met) holds each draw to its own target
    assert "reaching their own target by the original (unslipped) deadline" in section


def test_a_source_no_number_cites_says_which_assumption_names_it_and_if_it_came_later(
    ensemble: Path,
) -> None:
    # buzzfeed-2017-12-06 read "No number of this run cites it" though Syria's unreported
    # troops rest on an assumption that gives it as a reason; and 2025-26 reports sat in
    # a page "as of 6 Sep 2024" with nothing saying they came after it
    page = page_of(ensemble)

    def article(source_id: str) -> str:
        start = page.index(f'id="source-{source_id}"')
        return page[start : page.index("</article>", start)]

    old = article("buzzfeed-2017-12-06")
    assert "the assumption of <code>theaters.syria.unreported</code> names it" in old
    assert "dated after" not in old
    later = article("cnn-2024-12-19")
    assert "No number of this run cites it." in later
    assert "dated after the scenario's as-of date (6 Sep 2024)" in later
    assert "dated after" not in article("shafaq")  # (cited, and of the scenario's day)


def _source_meta(page: str, source_id: str) -> str:
    """The line under a source's title on the page: its publisher, date and address."""
    start = page.index(f'id="source-{source_id}"')
    return page[page.index('<p class="meta">', start) : page.index("</p>", start)]


def test_each_source_on_the_page_links_its_address_or_says_none_is_given(ensemble: Path) -> None:
    # the page named the file of a local copy ("file 003_….txt"), which no reader has
    page = page_of(ensemble)

    def meta(source_id: str) -> str:
        return _source_meta(page, source_id)

    assert '<a href="https://www.shafaq.com/en/Iraq/' in meta("shafaq")
    assert meta("report-003").endswith(" · no public address given")
    assert ".txt" not in page[page.index('id="sources"') : page.index('id="scenario"')]


@pytest.mark.slow
def test_a_number_resting_on_a_source_dated_after_the_scenario_says_so_on_the_page(
    tmp_path: Path,
) -> None:
    # the sentence went only to sources no number cites: a number resting on a later
    # report, the case that matters most, said nothing
    text = DEFAULT_SCENARIO.read_text(encoding="utf-8").replace(
        "level: {value: 0, source: shafaq,", "level: {value: 0, source: cnn-2024-12-19,"
    )
    assert "source: cnn-2024-12-19," in text
    scenario = tmp_path / "late.yaml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(scenario), "-q", "--report", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text(encoding="utf-8")
    start = page.index('id="source-cnn-2024-12-19"')
    article = page[start : page.index("</article>", start)]
    assert "Numbers that rest on it:" in article
    assert "dated after the scenario's as-of date (6 Sep 2024)" in article


def test_every_source_quote_and_assumption_is_shown_with_its_numbers(ensemble: Path) -> None:
    page = page_of(ensemble)
    section = page[page.index('id="sources"') : page.index('id="scenario"')]
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    for s in scenario.doc.sources:
        assert escape(s.title) in section
        if s.quote:
            assert escape(s.quote) in section
    record = json.loads((ensemble / "run.json").read_text())
    for text in set(record["provenance"]["assumptions"].values()):
        if not text.startswith("variant "):
            assert escape(text) in section, text
    for v in record["variants"]:
        for p in provenance(scenario, v):
            assert f"<code>{escape(p.path)}</code>" in section or escape(p.path) in section
            if p.quote:
                assert escape(p.quote) in section


def test_the_scenario_as_run_version_seed_and_command_line(ensemble: Path) -> None:
    page = page_of(ensemble)
    record = json.loads((ensemble / "run.json").read_text())
    section = page[page.index('id="scenario"') :]
    # (its absolute paths by file name: the folders are the author's own)
    shown = [
        f"…/{Path(a).name}" if a.startswith("/") else shlex.quote(a) for a in record["command"]
    ]
    assert f"<code>{escape(' '.join(shown))}</code>" in section
    assert f"<th scope='row'>forcesim version</th><td>{record['forcesim_version']}" in section
    assert "<th scope='row'>seed</th><td>2</td>" in section
    assert "<th scope='row'>draws</th><td>400</td>" in section
    result = sim.load_run(ensemble)
    assert escape(result.scenario.to_yaml(None)) in section
    assert escape(result.scenario.to_yaml("slip-6")) in section


def test_a_deterministic_run_has_the_envelope_and_no_fan(deterministic: Path) -> None:
    page = page_of(deterministic)
    assert 'id="envelope-chart"' in page and 'id="fan-chart"' not in page
    assert "Range of outcomes" not in page and "P(met" not in page


@pytest.mark.slow
def test_the_observations_table_shows_every_column_observed_csv_has(
    observed: Path, tmp_path: Path
) -> None:
    page = page_of(observed)
    table = pd.read_csv(observed / "observed.csv")
    section = page[page.index('id="observed"') : page.index('id="sources"')]
    section = section.replace("<wbr>", "")  # where a heading may wrap
    for col in table.columns:  # (by its name, or in words with its name as the tooltip)
        if col != "scenario":
            named = rf'<th scope="col"[^>]*>{re.escape(col)}</th>'
            worded = rf'<th scope="col"[^>]*title="{re.escape(col)}">[^<]+</th>'
            assert re.search(named, section) or re.search(worded, section), col
    assert "tolerance ±15 %" in section and "Effective draws after conditioning" in section
    # a column the run did not write before (scoring gains columns): shown as it is
    table["discrepant"] = ["yes-really" if i % 2 else "no" for i in range(len(table))]
    copy = tmp_path / "run"
    copy.mkdir()
    for f in observed.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    table.to_csv(copy / "observed.csv", index=False)
    record_files(copy, ["observed.csv"])  # as the run that wrote the column signs it
    again = report_html(copy)
    assert ">discrepant</th>" in again and "yes-really" in again


def test_the_scoring_is_one_folded_table_per_variant_headed_by_what_fits(observed: Path) -> None:
    # every observation against every variant made one table of hundreds of rows
    page = page_of(observed)
    table = pd.read_csv(observed / "observed.csv")
    section = page[page.index("<h3>Scoring</h3>") : page.index('id="sources"')]
    variants = list(dict.fromkeys(table.variant))
    folds = re.findall(r"<details( open)?><summary>([^<]*)</summary>", section)
    assert [opened for opened, _ in folds] == [" open"] + [""] * (len(variants) - 1)
    for (_, summary), v in zip(folds, variants, strict=True):
        rows = table[table.variant == v]
        scored = rows[rows.status == "scored"]
        fits = int((scored.consistent == True).sum())  # noqa: E712 (True, False or blank)
        assert summary.startswith(
            f"{v}: {len(scored)} of {len(rows)} observations scored, "
            f"the central run consistent with {fits}"
        ), summary
    captions = re.findall(r"<caption>([^<]*)</caption>", section)
    assert captions == [f"Observations scored against {v}" for v in variants]
    assert ">variant</th>" not in section  # (each table is one variant's)


@pytest.mark.slow
def test_a_long_record_lists_its_first_rows_per_variant_and_points_to_observed_csv(
    observed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10,000 reports of one theater made a 4.3 MB table: the page was refused
    monkeypatch.setattr("sim.report.page.SCORING_ROWS", 3, raising=False)
    table = pd.read_csv(observed / "observed.csv")
    page = report_html(observed)
    section = page[page.index("<h3>Scoring</h3>") : page.index('id="sources"')]
    for variant, rows in table.groupby("variant", sort=False):
        assert len(rows) > 3
        assert f"{variant}: {(rows.status == 'scored').sum()} of {len(rows)} obs" in section
    tables = re.findall(r"<tbody>(.*?)</tbody>", section, re.S)
    assert [t.count("<tr>") for t in tables] == [3] * table.variant.nunique()
    note = f"The first 3 of {len(table) // table.variant.nunique():,} rows; "
    assert section.count(note + "<code>observed.csv</code> holds every one.") == len(tables)


def test_the_weighted_share_of_consistent_draws_is_a_percentage_as_the_plain_one_is(
    observed: Path,
) -> None:
    # p_consistent read '100.0 %' and p_consistent_conditioned beside it '1'
    section = page_of(observed)
    section = section[section.index("<h3>Scoring</h3>") : section.index('id="sources"')]
    table = pd.read_csv(observed / "observed.csv")
    first = table[table.variant == table.variant.iloc[0]]
    head = section[: section.index("</table>")]
    cells = re.findall(r"<tr>(.*?)</tr>", head[head.index("<tbody>") :])
    cols = [c for c in table.columns if c not in ("scenario", "variant")]
    at = cols.index("p_consistent_conditioned")
    shown = 0
    for row, value in zip(cells, first.p_consistent_conditioned, strict=True):
        cell = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)[at]
        if not pd.isna(value):
            assert cell.endswith(" %"), cell
            shown += 1
    assert shown


def test_the_share_of_effective_draws_is_divided_in_decimal_not_shown_with_binary_noise(
    observed: Path,
) -> None:
    from sim.report.page import _percent, _share

    # 575.905 / 10,000 in binary floating point is 0.057590499999999996; a share is
    # rounded from its decimal digits, 5.75 % half to even to 5.8 %
    assert _share(575.905, 10_000) == 0.0575905
    assert _percent(_share(575, 10_000)) == "5.8 %"
    page = page_of(observed)
    section = page[page.index("Effective draws after conditioning") :]
    cond = json.loads((observed / "run.json").read_text())["observed"]["conditioning"]
    for variant, effective in cond["effective_draws"].items():
        exact = Decimal(repr(effective)) * 100 / cond["draws"]
        tenth = exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
        assert f"<td>{tenth} %</td>" in section, variant


def _tenth(share: float) -> Decimal:
    """A share as a percentage to a tenth, half to even, from its decimal digits."""
    return (Decimal(repr(float(share))) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


@pytest.mark.slow
def test_the_milestones_table_shows_plain_and_conditioned_p_met_at_one_precision(
    as_of: Path,
) -> None:
    # "30.15 %" beside the conditioned "27.1698 %": the stored values, digit by digit
    from sim.report.page import _percent

    page = report_html(as_of)
    section = page[page.index('id="milestones"') : page.index('id="sources"')]
    ms = pd.read_csv(as_of / "milestones.csv")
    shown = re.findall(r">((?:&lt;|&gt;)?[0-9.]+) %<", section)
    assert shown and all(re.fullmatch(r"(&lt;|&gt;)?[0-9]+\.[0-9]", s) for s in shown), shown
    for p in [*ms.p_met, *ms.p_met_conditioned]:
        assert f">{_tenth(p)} %<" in section, p
    assert "the CSV files hold them as computed" in section
    assert [_percent(s) for s in (0.0, 0.0004, 0.3015, 0.99951, 1.0)] == [
        "0.0 %",
        "<0.1 %",
        "30.2 %",
        ">99.9 %",
        "100.0 %",
    ]


def test_a_share_below_a_tenth_of_a_percent_is_written_as_text_not_as_a_tag_opening() -> None:
    # "<0.1 %" went into the cell as it is: "<0" opens no tag in a browser, but it is
    # an HTML parse error, and every other text on the page is escaped
    from sim.report.page import _table

    frame = pd.DataFrame({"milestone": ["a", "b"], "p_met": [0.0004, 0.9996]})
    table = _table(frame, caption="Milestones")
    assert "<td>&lt;0.1 %</td>" in table.replace(' class="nums"', "")
    assert "&gt;99.9 %" in table
    assert "<0" not in table


def test_observations_are_drawn_on_both_charts(observed: Path) -> None:
    result = sim.load_run(observed)
    for fig in (envelope_figure(result), fan_figure(result)):
        drawn = [t for t in fig.data if t.meta == "observed"]
        kinds = {t.name for t in drawn if t.name}
        assert {"reported level", "reported range", "reported \u201cfewer than\u201d"} <= kinds
        hover = [c for t in drawn if t.customdata is not None for c in t.customdata]
        assert any("reported 8,600 troops (2020-06-18" in c for c in hover), hover[:3]


def test_the_as_of_line_is_drawn_when_it_falls_within_the_months(observed: Path) -> None:
    fig = envelope_figure(sim.load_run(observed))  # as of 2021-08-31, within 2020-02..2021-09
    labels = [a.text for a in fig.layout.annotations]
    assert "as of 31 Aug 2021" in labels
    assert "deadline Jul 2020" in labels and "deadline Apr 2021" in labels


def _as_of_lines(fig: Any) -> list[Any]:
    """The solid verticals a page's chart draws at the scenario's as-of date."""
    return [s for s in fig.layout.shapes if s.line.color == AS_OF and s.line.dash == "solid"]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["observed", "ensemble"])
def test_the_key_above_each_chart_names_the_as_of_line_when_the_charts_draw_it(
    request, which: str
) -> None:
    # on Afghanistan's fan the deadlines a month apart leave no room for "as of 31 Aug
    # 2021": the line was drawn unlabelled, and nothing on the page said what it was
    run = request.getfixturevalue(which)
    result = sim.load_run(run)
    drawn = [bool(_as_of_lines(make(result))) for make in (envelope_figure, fan_figure)]
    assert drawn == [which == "observed"] * 2  # (the default scenario's date: before its months)
    keys = re.findall(r'<ul class="key".*?</ul>', page_of(run), re.S)
    assert len(keys) == (3 if which == "observed" else 2)  # envelope, fan (and weighted fan)
    entry = f'<span class="mark vline" style="--c:{AS_OF}"></span>as of 31 Aug 2021'
    for key in keys:
        assert (entry in key) == (which == "observed"), key


@pytest.mark.slow
def test_a_parquet_only_run_gives_the_same_tables_on_its_page(
    observed: Path, tmp_path_factory
) -> None:
    pytest.importorskip("pyarrow")
    args = json.loads((observed / "run.json").read_text())["command"][2:]
    args = args[: args.index("--out")] + args[args.index("--out") + 2 :]
    args = [a for a in args if a not in ("--report", "-q")]
    parquet = run_dir(tmp_path_factory, "pq", *args, "--format", "parquet")
    assert not list(parquet.glob("*.csv"))
    # every section but the last (which names the command line and time) is the same
    a, b = page_of(observed), page_of(parquet)
    start, end = 'id="envelope"', 'id="scenario"'
    assert a[a.index(start) : a.index(end)] == b[b.index(start) : b.index(end)]


@pytest.mark.slow
def test_a_parquet_run_with_reports_not_scored_writes_its_page_as_it_writes_the_run(
    tmp_path,
) -> None:
    # a report that is a target or out of range has no verdict: the Parquet table's
    # column of true, false and blank read back as True, False and None, which the
    # page's check of the unsigned table refused while the run was being written
    pytest.importorskip("pyarrow")
    scenario = str(SCENARIOS_DIR / "historical" / "syria-2018.yaml")
    pages = []
    for fmt in ("parquet", "csv"):
        out = tmp_path / fmt
        args = ["run", scenario, "--format", fmt, "--report", "-q", "--out", str(out)]
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        pages.append((out / "report.html").read_text(encoding="utf-8"))
    table = pd.read_parquet(tmp_path / "parquet" / "observed.parquet")
    assert table.consistent.isna().any() and table.consistent.dropna().isin([True, False]).all()
    start, end = 'id="envelope"', 'id="scenario"'
    a, b = pages
    assert a[a.index(start) : a.index(end)] == b[b.index(start) : b.index(end)]


@pytest.mark.slow
def test_the_months_every_trace_plots_are_written_once_in_the_page(ensemble: Path) -> None:
    page = report_html(ensemble)
    result = sim.load_run(ensemble)
    for key, make in (("envelope", envelope_figure), ("fan", fan_figure)):
        found = re.search(
            rf'<script type="application/json" id="{key}-chart-data">(.*?)</script>', page, re.S
        )
        assert found is not None
        fig = json.loads(found.group(1))
        # the same months for every panel and variant: a few lists for many traces
        assert 0 < len(fig["sharedX"]) * 4 < len(fig["data"])
        # put back as the page's script does, every trace plots the figure's own months
        original = make(result)
        for written, trace in zip(fig["data"], original.data, strict=True):
            x = written.get("x")
            if isinstance(x, dict):
                x = fig["sharedX"][x["shared"]]
            assert x == (None if trace.x is None else [v if v is None else str(v) for v in trace.x])


@pytest.fixture(scope="module")
def as_of(tmp_path_factory) -> Path:
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    return run_dir(
        tmp_path_factory,
        "asof",
        str(DEFAULT_SCENARIO),
        *("-v", "on-time", "--draws", "400", "--seed", "1", "--observed", str(record)),
        *("--condition", "--as-of", "2025-06-01"),
    )


@pytest.mark.slow
def test_a_target_is_a_grey_diamond_at_the_month_it_is_due_not_a_reported_level(
    as_of: Path,
) -> None:
    result = sim.load_run(as_of)
    for fig in (envelope_figure(result), fan_figure(result)):
        drawn = [t for t in fig.data if t.meta == "observed" and t.customdata is not None]
        targets = [t for t in drawn if t.name.startswith("target or promise")]
        points = [t for t in targets if t.error_y.array is None]
        assert points and all(t.marker.symbol == "diamond" for t in points)
        assert all(colors.PROMISED in (t.marker.color, t.marker.line.color) for t in targets)
        # Iraq's exit "by 2026-12" at the end of 2026, where the PNG draws it
        iraq = [t for t in targets if t.xaxis in (None, "x")]
        assert "2026-12-31" in [x for t in iraq for x in t.x]
        reported = [t for t in drawn if t.name.startswith("reported")]
        assert not [c for t in reported for c in t.customdata if c.startswith("target")]
        official = [t for t in drawn if t.name.startswith("official figure")]
        assert official and all(t.marker.symbol == "square" for t in official)


@pytest.mark.slow
def test_a_run_as_of_a_date_draws_later_reports_hollow_and_marks_the_date(as_of: Path) -> None:
    result = sim.load_run(as_of)
    fig = envelope_figure(result)
    points = [t for t in fig.data if t.meta == "observed" and t.mode == "markers"]
    later = [t for t in points if t.name.endswith("(reported later)")]
    known = [t for t in points if t.name.endswith("(known on 1 Jun 2025)")]
    assert later and known
    assert all(t.marker.color == "white" for t in later if t.error_y.array is None)
    assert all(t.marker.color != "white" for t in known if t.error_y.array is None)
    assert "reports known on 1 Jun 2025" in [a.text for a in fig.layout.annotations]
    page = report_html(as_of)
    assert "with the reports known on 1 Jun 2025." in page
    assert "reported later (hollow)" in page


@pytest.mark.slow
def test_the_page_spells_the_day_reports_were_known_on_as_its_charts_do(as_of: Path) -> None:
    # the key said "reports known on 2025-06-01" beside the chart's "as of 1 Jun 2025"
    page = report_html(as_of)
    assert not re.search(r"(known on|as of|known then) 2025-06-01", page)
    for said in (
        "reports known on 1 Jun 2025",  # the key, the chart's label
        "known on 1 Jun 2025 (filled)",
        "with the reports known on 1 Jun 2025.",
        "conditioned on reports known on 1 Jun 2025.",
        "reports known on 1 Jun 2025 it misses",
    ):
        assert said in page, said


@pytest.mark.parametrize("written", ["2025-06", "June 2025", "2025-02-30", "20250601"])
def test_a_run_json_whose_as_of_is_not_a_day_is_refused_at_the_key_not_a_crash(
    as_of: Path, tmp_path: Path, written: str
) -> None:
    # the page spells the day the run conditioned on; a hand-edited "as_of" that is no
    # YYYY-MM-DD day made it an internal error (ValueError: Invalid isoformat string)
    edited = tmp_path / "edited"
    edited.mkdir()
    for f in as_of.iterdir():
        (edited / f.name).write_bytes(f.read_bytes())
    text = (edited / "run.json").read_text(encoding="utf-8")
    assert text.count('"as_of": "2025-06-01"') == 1
    (edited / "run.json").write_text(
        text.replace('"as_of": "2025-06-01"', f'"as_of": "{written}"'), encoding="utf-8"
    )
    line = text[: text.index('"as_of": "2025-06-01"')].count("\n") + 1
    result = invoke("report", str(edited), "-o", str(tmp_path / "page.html"))
    assert result.exit_code == 2
    assert re.fullmatch(
        rf"forcesim: error: {re.escape(str(edited))}/run\.json:{line}:\d+: observed\.as_of: "
        rf"expected a date as YYYY-MM-DD, as forcesim writes in run\.json, found "
        rf'"{re.escape(written)}"\n',
        result.stderr,
    )
    assert not (tmp_path / "page.html").exists()


@pytest.mark.slow
def test_each_variants_official_figure_is_drawn_where_it_leaves_troops_out(
    ensemble: Path,
) -> None:
    result = sim.load_run(ensemble)
    m = result.monthly
    syria = m[(m.theater == "syria") & (m.variant == "on-time")].sort_values("month")
    assert (syria.official != syria.troops).any()  # the 900 leaves troops out
    axis = "x2"  # Syria is the second panel
    for fig in (envelope_figure(result), fan_figure(result)):
        lines = [
            t
            for t in fig.data
            if t.meta == "official" and t.legendgroup == "on-time" and t.xaxis == axis
        ]
        assert len(lines) == 1
        assert list(lines[0].y) == syria.official.tolist()
    # thin over the median (Syria's, at the official 900, was hidden under it)
    fan = fan_figure(result)
    (median,) = [
        t for t in fan.data if t.meta == "median" and t.legendgroup == "on-time" and t.xaxis == axis
    ]
    (official,) = [
        t
        for t in fan.data
        if t.meta == "official" and t.legendgroup == "on-time" and t.xaxis == axis
    ]
    assert official.line.width <= median.line.width - 1
    iraq = [t for t in envelope_figure(result).data if t.meta == "official" and t.xaxis == "x"]
    assert iraq == []  # Iraq's figure leaves nothing out: no second line


@pytest.mark.slow
def test_a_conditioned_run_s_page_has_the_weighted_fan_with_its_effective_draws(
    as_of: Path,
) -> None:
    from sim.analysis.observed import conditioned_result
    from sim.export import read_record, rebuild_scored

    page = report_html(as_of)
    assert 'id="fan-conditioned-chart"' in page and 'id="fan-conditioned-chart-data"' in page
    assert "Range of outcomes, weighted by the reports" in page
    assert "Scenario as of 6 Sep 2024, conditioned on reports known on 1 Jun 2025." in page
    # the chance a report is right as every other line writes it ("1 − 1/20" read apart)
    assert "right within its tolerance with probability 95 %)" in page
    assert "1 − 1/20" not in page
    result = rebuild_scored(as_of, read_record(as_of))
    effective = result.observed.conditioned.effective["on-time"]
    assert f"on-time {effective:,.1f} of 400" in page
    # the weighted medians, not the plain ones, are what the chart draws
    cond = conditioned_result(result, result.observed)
    median = next(
        t
        for t in fan_figure(cond).data
        if t.meta == "median" and t.legendgroup == "on-time" and t.xaxis in (None, "x")
    )
    weighted = pd.read_csv(as_of / "bands_conditioned.csv")
    iraq = weighted[(weighted.theater == "iraq") & (weighted.variant == "on-time")]
    assert list(median.y) == iraq.sort_values("month").p50.tolist()
    plain = pd.read_csv(as_of / "bands.csv")
    plain = plain[(plain.theater == "iraq") & (plain.variant == "on-time")]
    assert list(median.y) != plain.sort_values("month").p50.tolist()


@pytest.mark.slow
def test_a_plain_ensemble_s_page_has_no_weighted_fan(ensemble: Path) -> None:
    page = report_html(ensemble)
    assert 'id="fan-conditioned-chart"' not in page
    assert "Range of outcomes, weighted by the reports" not in page


@pytest.mark.slow
def test_report_to_a_file_that_is_not_html_is_refused_and_the_runs_chart_is_kept(
    deterministic: Path, tmp_path: Path
) -> None:
    chart = deterministic / "envelope.png"
    before = chart.read_bytes()
    result = invoke("report", str(deterministic), "-o", str(chart))
    assert result.exit_code == 2
    assert result.output == (
        "forcesim: error: <command line>:1:1: -o: expected a file ending in .html "
        f"or .htm, found {str(chart)!r}\n"
    )
    assert chart.read_bytes() == before
    result = invoke("report", str(deterministic), "-o", str(tmp_path / "page.txt"))
    assert result.exit_code == 2 and not (tmp_path / "page.txt").exists()
    result = invoke("report", str(deterministic), "-o", str(tmp_path / "Page.HTM"))
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_the_page_envelope_follows_a_theater_of_sites_with_a_panel_per_site_as_the_png(
    tmp_path: Path,
) -> None:
    from sim.plotting import plot_envelope

    result = sim.run(SCENARIOS_DIR / "iraq-sites-2024.yaml", ["on-time"])
    fig = envelope_figure(result)
    titles = [a.text for a in fig.layout.annotations if a.text.startswith("<b>")]
    png = [ax.get_title(loc="left") for ax in plot_envelope(result)]
    assert titles == [f"<b>{t}</b>" for t in png]
    assert png[:2] == ["Iraq", "Ain al-Asad (al-Anbar), Iraq"]
    out = tmp_path / "sites"
    sim.write_run(result, out)
    page = report_html(out)
    assert "Erbil (Iraq): troops at the end of each month, by variant" in page


@pytest.mark.slow
def test_the_page_fan_follows_a_theater_of_sites_with_a_panel_and_tables_per_site(
    tmp_path: Path,
) -> None:
    result = sim.run(SCENARIOS_DIR / "iraq-sites-2024.yaml", ["on-time"], draws=200, seed=3)
    fig = fan_figure(result)
    titles = [a.text for a in fig.layout.annotations if a.text.startswith("<b>")]
    png = [ax.get_title(loc="left") for ax in sim.plot_envelope(result)]
    assert titles == [f"<b>{t}</b>" for t in png]
    erbil = [t for t in fig.data if t.meta == "median" and t.yaxis == "y4"]
    bands = result.bands[(result.bands.theater == "iraq/erbil")].sort_values("month")
    assert [list(t.y) for t in erbil] == [bands.p50.tolist()]
    out = tmp_path / "sites"
    sim.write_run(result, out)
    page = report_html(out)
    assert "Erbil (Iraq), on-time: percentiles of the draws [troops]" in page
    assert 'id="fan-chart" style="--rows:5"' in page
    assert "Fan chart, one panel per theater or site, for the variant chosen above" in page


def test_the_pages_captions_name_the_sources_of_its_numbers_and_count_the_others(
    deterministic: Path,
) -> None:
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page_of(deterministic), re.S)
    assert captions
    for text in captions:
        assert text.startswith("Scenario as of 6 Sep 2024. Sources of its numbers: Shafaq"), text
        assert "The scenario also lists 27 sources no number shown cites." in text
        assert "2026" not in text


@pytest.mark.slow
def test_the_pages_lead_and_captions_spell_the_scenarios_day_as_the_reports_day(
    as_of: Path,
) -> None:
    # "as of 2024-09-06, with the reports known on 1 Jun 2025": two spellings in a sentence
    page = report_html(as_of)
    assert "; as of 6 Sep 2024, with the reports known on 1 Jun 2025." in page
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page, re.S)
    assert captions
    for text in captions:
        assert not re.search(r"[0-9]{4}-[0-9]{2}", text), text  # sources' dates too
        assert "(6 Sep 2024)" in text, text


def test_a_scenario_date_is_spelled_as_a_day_or_as_a_month() -> None:
    import datetime as dt

    from sim.months import spell_date

    assert spell_date(dt.date(2024, 9, 6)) == "6 Sep 2024"
    assert spell_date("2021-08") == "Aug 2021"
    assert spell_date("2021-08-31") == "31 Aug 2021"


def test_the_page_counts_the_numbers_resting_on_an_assumption_as_the_charts_do(
    ensemble: Path,
) -> None:
    from sim.provenance import assumption_count

    page = page_of(ensemble)
    found = re.search(
        r"rests on: (\d+) numbers \(a number the variants share counted once\), (\d+) citing "
        r"a source, (\d+) resting on an assumption, (\d+) on neither",
        page,
    )
    assert found is not None
    total, citing, resting, neither = map(int, found.groups())
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    record = json.loads((ensemble / "run.json").read_text())
    # the charts' footers: "12 inputs across the 8 variants shown are assumptions";
    # slip-6, slip-6-moving and slip-6-residual all set announcement.delay to 6, once
    assert resting == assumption_count(scenario, record["variants"]) == 12
    assert neither == assumption_count(scenario, record["variants"], ("unsupported",))
    assert (total, citing, neither) == (18, 6, 0)


#: after "found a directory of forcesim KIND": what a compare or backtest folder holds
DRAWN_AGAIN = r" \(its chart is {kind}\.png: forcesim plot draws it again\)"
#: what a sweep (sweep.png) or sensitivity (tornado.png) folder holds: a chart drawn as
#: the command runs (the line said nothing of it)
DRAWN_AS_IT_RUNS = r" \(its chart is {chart}\.png: running forcesim {kind} again draws it again\)"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "kind", "tail"),
    [
        # before: "expected a run directory holding monthly.csv, found no such file", as if
        # the directory were broken
        (
            ["compare", "-v", "on-time", "-v", "slip-6", "--draws", "20", "--seed", "1"],
            "compare",
            DRAWN_AGAIN,
        ),
        (
            ["backtest", "--observed", str(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")],
            "backtest",
            DRAWN_AGAIN,
        ),
        # before: "expected a directory of forcesim run, compare or backtest", plot's wording
        (
            ["sweep", "--set", "announcement.delay=0,3"],
            "sweep",
            DRAWN_AS_IT_RUNS.replace("{chart}", "sweep"),
        ),
        (
            ["sensitivity", "--draws", "20", "--seed", "1"],
            "sensitivity",
            DRAWN_AS_IT_RUNS.replace("{chart}", "tornado"),
        ),
    ],
)
def test_report_of_another_commands_directory_asks_for_a_run_in_reports_words(
    tmp_path, command, kind, tail
) -> None:
    out = tmp_path / kind
    assert (
        invoke(command[0], str(DEFAULT_SCENARIO), *command[1:], "-q", "--out", str(out)).exit_code
        == 0
    )
    before = sorted(p.name for p in out.iterdir())
    result = invoke("report", str(out))
    assert result.exit_code == 2
    assert re.fullmatch(
        rf"forcesim: error: {re.escape(str(out))}/run\.json:1:1: \(file\): expected a directory "
        rf"of forcesim run \(the page is a run's\), found a directory of forcesim {kind}"
        + tail.format(kind=kind)
        + r"\n",
        result.stderr,
    )
    # the same line when report_html is given the directory's run.json
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    with pytest.raises(sim.ScenarioError) as given:
        report_html(out, record)
    assert result.stderr == f"forcesim: error: {given.value}\n"
    assert sorted(p.name for p in out.iterdir()) == before


@pytest.mark.slow
@pytest.mark.parametrize(("variants", "said"), [(["on-time"], "1 reading of the plan (variant),")])
def test_the_pages_summary_counts_one_variant_in_the_singular(
    tmp_path_factory, variants: list[str], said: str
) -> None:
    # (it said "under 1 reading of the plan (variants)")
    flags = [f for v in variants for f in ("-v", v)]
    run = run_dir(tmp_path_factory, "one-variant", str(DEFAULT_SCENARIO), *flags)
    assert said in page_of(run)


@pytest.mark.slow
def test_a_variant_on_a_shorter_calendar_gets_its_envelope_chart_and_page(tmp_path) -> None:
    # its months past its own end are NaN in the panel's table of levels: the PNG's end
    # labels and the page's lines took int(NaN), and `forcesim run` ended in an internal
    # error with nothing written
    scenario = tmp_path / "short.yaml"
    scenario.write_text(SHORTER_CALENDAR, encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("run", str(scenario), "--out", str(out), "--report", "-q")
    assert result.exit_code == 0, result.output
    assert {"envelope.png", "report.html"} <= {p.name for p in out.iterdir()}
    fig = envelope_figure(sim.load_run(out))
    early = next(t for t in fig.data if t.meta == "variant" and t.name == "early")
    assert list(early.y)[-1] is None and list(early.y)[9] == 0  # drawn to June 2025 only
    high = next(t for t in fig.data if t.meta == "range-high")
    assert any(len(x) > 10 for x in high.x)  # it still turns where the lines cross
    assert list(high.y)[-1] == 0 and None not in list(high.y)  # base's alone at the end


def test_a_crossings_time_is_written_in_full_to_the_millisecond_as_the_page_writes_it() -> None:
    # the script rounds a crossing's time to the millisecond (Math.round) and writes it
    # in full; written, it was cut off (0.4 ms before a second's end, a second apart from
    # the script's own corner for it), and one at midnight (halfway through a 30-day
    # month) was written as a bare date, as a month's end is
    from sim.report.charts import _edge_times

    at = np.array(
        ["2025-01-15T10:20:59.9996", "2025-01-31", "2025-04-15", "2025-04-30"],
        dtype="datetime64[ns]",
    )
    assert _edge_times(at) == [
        "2025-01-15 10:21:00.000",
        "2025-01-31",
        "2025-04-15 00:00:00.000",
        "2025-04-30",
    ]


@pytest.fixture(scope="module")
def known_before(tmp_path_factory) -> Path:
    # reports known on 22 Aug 2021, nine days before the scenario's as-of date
    return run_dir(
        tmp_path_factory,
        "afg-known",
        str(AFGHANISTAN),
        *("--observed", str(AFGHANISTAN_OBSERVED), "--draws", "400", "--seed", "3"),
        *("--condition", "--tolerance", "15%", "--as-of", "2021-08-22"),
    )


@pytest.mark.slow
def test_the_as_of_label_does_not_cross_the_reports_known_line_nor_it_the_as_of_line(
    known_before: Path,
) -> None:
    from sim.report.charts import _label_box

    result = sim.load_run(known_before)
    fig = envelope_figure(result)
    x = [str(t)[:10] for t in next(t for t in fig.data if t.meta == "variant").x]
    lines = {
        s.line.dash: pd.Timestamp(s.x0).value for s in fig.layout.shapes if s.line.color == AS_OF
    }
    assert set(lines) == {"solid", "dashdot"}
    notes = {
        a.text.split(" on ")[0]: a
        for a in fig.layout.annotations
        if a.text.startswith(("as of", "reports"))
    }
    assert "reports known" in notes  # (the as-of label, where no place is clear, goes)
    for text, other in (("as of 31 Aug 2021", "dashdot"), ("reports known", "solid")):
        if text in notes:
            a = notes[text]
            start, end, _, _ = _label_box(a.text, a.x, x, a.xanchor == "right", 1.0, 1, 1.0)
            assert not start <= lines[other] <= end, (text, a.x, a.xanchor)


@pytest.mark.parametrize(
    ("tolerance", "shown"),
    [
        ({"relative": 0.05, "absolute": 0}, "±5 %"),
        ({"relative": 0, "absolute": 1}, "±1 troop"),
        ({"relative": 0, "absolute": 200}, "±200 troops"),
        ({"relative": 0, "absolute": 0}, "none (exact)"),
    ],
)
def test_the_pages_tolerance_reads_one_troop_in_the_singular(tolerance, shown):
    from sim.report.page import _tolerance

    assert _tolerance(tolerance) == shown


def test_the_page_gives_no_description_for_a_variant_its_scenario_lacks() -> None:
    from sim.report.page import Page

    scenario = sim.load_scenario(sim.default_scenario())
    page = Page(sim.run(scenario, ["on-time"]), {}, None)
    assert page._describe("not-in-the-scenario") == ""
    assert page._describe("on-time") == scenario.describe("on-time")


def test_a_page_of_chosen_variants_and_theaters_reads_only_their_levels_and_percentiles(
    ensemble: Path,
) -> None:
    # a page of 2 of 100 variants of 50 theaters (300 draws) read all 600,000 rows of
    # monthly.csv and bands.csv first: 22 s and 471 MB; of 1 theater, 18 s and 486 MB
    from sim.export import read_record, rebuild_scored

    record = read_record(ensemble, page=True)
    whole = rebuild_scored(ensemble, record)
    for variants, theaters in ((["slip-3", "on-time"], None), (None, ["syria"])):
        some = rebuild_scored(ensemble, record, variants, theaters)
        for name in ("monthly", "bands"):
            full, read = getattr(whole, name), getattr(some, name)
            kept = full.variant.isin(variants or full.variant) & full.theater.isin(
                theaters or full.theater
            )
            assert 0 < len(read) < len(full), name
            pd.testing.assert_frame_equal(read, full[kept].reset_index(drop=True))
        assert some.variants == whole.variants  # (the page chooses among them)
        pd.testing.assert_frame_equal(some.milestones, whole.milestones)  # (small: whole)


def test_rows_read_a_block_at_a_time_are_those_of_the_whole_file_at_their_places(
    ensemble: Path,
) -> None:
    from sim.io.files import read_written_csv, read_written_rows

    path = ensemble / "bands.csv"
    whole = read_written_csv(path)
    read = read_written_rows(path, lambda rows: rows.variant == "slip-3", chunk=7)
    pd.testing.assert_frame_equal(read, whole[whole.variant == "slip-3"])


def test_a_month_of_many_reports_is_capped_only_at_the_ends_of_what_they_cover(
    tmp_path: Path,
) -> None:
    # as on the PNG charts: 40 reports of one month, their ends a troop apart, drew 80
    # caps one over another into a black block; a month of three keeps each one's caps
    rows = ["date,theater,troops_low,troops_high"]
    rows += [f"2025-03-{1 + i % 28:02d},iraq,{1500 + i},{2000 + i}" for i in range(40)]
    rows += [f"2025-06-{10 + i:02d},iraq,{1200 + 100 * i},{1300 + 100 * i}" for i in range(3)]
    record = tmp_path / "crowded.csv"
    record.write_text("\n".join(rows) + "\n")
    scenario = sim.load_scenario(DEFAULT_SCENARIO)
    fig = envelope_figure(sim.run(scenario, ["as-reported"], observed=record))
    ranges = [t for t in fig.data if t.meta == "observed" and t.error_y.array is not None]
    capped = [t for t in ranges if t.error_y.width]
    assert [len(t.x) for t in capped] == [3]  # June's three, each capped
    hovered = [t for t in ranges if not t.error_y.width]
    assert [len(t.x) for t in hovered] == [40] and hovered[0].marker.opacity == 0
    caps = [t for t in fig.data if t.meta == "observed" and t.hoverinfo == "skip"]
    assert [sorted(t.y) for t in caps] == [[1500, 2039]]


@pytest.mark.slow
def test_variants_or_theaters_that_are_not_names_are_refused_in_one_line(tmp_path: Path) -> None:
    # a number where names go raised a TypeError ('int' object is not iterable)
    out = tmp_path / "run"
    sim.write_run(sim.run(DEFAULT_SCENARIO), out)
    with pytest.raises(
        sim.ScenarioError, match=r"^<arguments>:1:1: variants: expected a name, or names, as text"
    ):
        sim.write_report(out, tmp_path / "x.html", variants=5)  # type: ignore[arg-type]
    with pytest.raises(
        sim.ScenarioError, match=r"^<arguments>:1:1: theaters: expected a name, or names, as text"
    ):
        sim.write_report(out, tmp_path / "x.html", theaters=5)  # type: ignore[arg-type]
    assert not (tmp_path / "x.html").exists()


@pytest.mark.slow
def test_a_page_of_a_theater_no_milestone_is_on_says_there_are_none(tmp_path: Path) -> None:
    # its milestones table had a heading and no rows
    out = tmp_path / "run"
    sim.write_run(sim.run(DEFAULT_SCENARIO), out)
    target = tmp_path / "syria.html"
    result = invoke("report", str(out), "-v", "on-time", "--theater", "syria", "-o", str(target))
    assert result.exit_code == 0, result.output
    page = target.read_text()
    assert "None: no milestone of the run is on the theaters and variants this page" in page
    whole = tmp_path / "whole.html"
    assert invoke("report", str(out), "-o", str(whole)).exit_code == 0
    assert "None: no milestone" not in whole.read_text()


@pytest.mark.parametrize(
    ("when", "as_of", "after"),
    [
        ("2024-09", dt.date(2024, 9, 6), False),  # (a month that holds the day: not after)
        ("2024-10", dt.date(2024, 9, 6), True),
        (dt.date(2024, 9, 7), dt.date(2024, 9, 6), True),
        (dt.date(2024, 9, 6), dt.date(2024, 9, 6), False),
        (dt.date(2024, 10, 1), "2024-09", True),
        (dt.date(2024, 9, 30), "2024-09", False),
    ],
)
def test_a_source_is_dated_after_the_scenario_only_when_wholly_after_it(when, as_of, after) -> None:
    from sim.report.page import _later

    assert _later(when, as_of) is after


@pytest.mark.slow
def test_run_report_of_a_page_over_the_limit_names_the_run_folder_not_its_staging_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it named forcesim's own temporary folder (gone by then) and advised
    # "forcesim report RUN_DIR" of a run the refusal had thrown away
    monkeypatch.setattr("sim.report.page.MAX_BYTES", 1_000_000)
    monkeypatch.setattr("sim.report.page.refuse_large_run", lambda *a: None)  # (made, then)
    out = tmp_path / "deep" / "run"
    result = invoke(
        "run", str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-3", "-q", "--report",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert err.startswith(
        "forcesim: error: <command line>:1:1: --report: expected a page of at most "
        "1,000,000 bytes, found "
    ), err
    assert f"forcesim report {out} --variant NAME or --theater ID" in err
    assert err.endswith(
        "; run again without --report to keep the run, then make a page of some of it\n"
    )
    assert ".forcesim-" not in err and err.count("\n") == 1
    assert not (tmp_path / "deep").exists()


@pytest.mark.slow
def test_the_levels_of_a_page_of_some_theaters_are_read_a_block_of_rows_at_a_time(
    ensemble: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a page of one theater of 50 over 600 months and 100 variants held all 3,000,000
    # rows to count its size: 481 MB
    from sim.report import page

    whole, every = page._monthly_levels(ensemble) or (None, None)
    assert whole is not None and every == ["iraq", "syria"]
    monkeypatch.setattr("sim.report.page.CSV_ROWS", 7)
    blocks: list[int] = []
    whole_read = pd.read_csv

    def read_csv(*args: Any, **kwargs: Any) -> Any:
        blocks.append(kwargs.get("chunksize", 0))
        return whole_read(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", read_csv)
    read = page._monthly_levels(ensemble, ["slip-3"], ["syria"])
    assert blocks == [7]  # (never the whole table at once)
    assert read is not None
    part, present = read
    assert present == every  # (an unknown theater is still named among the run's)
    wanted = whole[(whole.variant == "slip-3") & (whole.theater == "syria")]
    pd.testing.assert_frame_equal(
        part.astype(str), wanted.reset_index(drop=True).astype(str), check_dtype=False
    )
    assert len(part) > 7 and all(str(part[c].dtype) == "category" for c in part.columns[:3])


def test_run_report_of_a_page_its_tables_put_over_the_limit_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 100 variants of 50 theaters over 600 months ran for 29 s (434 MB) before its page
    # was refused for a size the scenario alone tells
    from sim.report import page

    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the run was made")

    monkeypatch.setattr("sim.export.stream.stream_run", never)
    # 2 variants of 3 series over 61 months: 366 levels, at least 12 bytes each
    monkeypatch.setattr("sim.report.page.MAX_BYTES", len(page._plotly_js()) + 4_000)
    out = tmp_path / "deep" / "run"
    result = invoke(
        "run", str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-3", "-q", "--report",
        "--draws", "100", "--seed", "1", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    err = result.stderr
    assert err.startswith("forcesim: error: <command line>:1:1: --report: expected a page of")
    assert "found a run whose tables alone need more than" in err
    assert f"forcesim report {out} --variant NAME or --theater ID" in err
    assert err.endswith(
        "; run without --report to keep the run, then make a page of some of it\n"
    ), err
    assert err.count("\n") == 1 and not (tmp_path / "deep").exists()


SHORT_AND_WIDE = make_doc(  # a variant of 40 theaters more, over 2 of the 120 months
    calendar={"start": "2024-01", "end": "2033-12"},
    milestones={"alpha-out": {"theater": "alpha", "deadline": "2024-02", "target": {"level": 0}}},
    variants={
        "base": {"description": "long, one theater"},
        "wide": {
            "description": "short, many theaters",
            "overrides": {
                "calendar": {"end": "2024-02"},
                "theaters": {f"t{i:02d}": {"initial": 1000} for i in range(40)},
            },
        },
    },
)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sim.plotting.common.CrowdedChart")  # (41 theaters)
@pytest.mark.parametrize("kind", ["default", "variants of other theaters and calendars"])
def test_the_count_before_a_run_never_refuses_a_page_that_fits(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Any
) -> None:
    # the count before the run is a floor of the one made after it: a page that fits is
    # never refused early (40 theaters of a 2-month variant were counted over 120 months)
    from sim.report import page

    if kind == "default":
        sc, draws = sim.load_scenario(DEFAULT_SCENARIO), 100
        names = ["on-time", "slip-3"]
    else:
        sc, draws = sim.load_scenario(write(SHORT_AND_WIDE)), None
        names = ["base", "wide"]
    out = tmp_path / "run"
    sim.write_run(sim.run(sc, names, draws=draws, seed=1 if draws else None), out)
    size = len(report_html(out).encode("utf-8"))
    monkeypatch.setattr("sim.report.page.MAX_BYTES", size)
    page.refuse_large_run(tmp_path / "r.html", {v: sc.plan(v) for v in names}, draws)
    sim.write_report(out, tmp_path / "r.html")
    assert (tmp_path / "r.html").stat().st_size == size


def test_the_pages_envelope_says_its_lines_take_central_values_and_count_syrias_whole_force(
    deterministic: Path,
) -> None:
    page = page_of(deterministic)
    assert "Each line takes every uncertain input at its central value." in page
    assert (
        "Syria&#x27;s lines count the whole force: the official figure (dashed) plus the "
        "troops it leaves out, 600 at the start." in page
    )


def test_the_pages_key_says_an_open_ended_target_is_an_arrow_in_grey(as_of: Path) -> None:
    # the record's "fewer than 1,000" targets were grey arrows the key did not name
    page = page_of(as_of)
    assert "target or promise, when it is due, an arrow where open-ended" in page
    assert "official figure (declared)<" in page  # (the record's official figures are levels)


def test_the_pages_scoring_table_heads_its_columns_in_words_with_the_files_name_as_tooltip(
    as_of: Path,
) -> None:
    # "troops_ low", "p_ consistent_ conditioned": the CSV's names broken at underscores
    page = page_of(as_of)
    assert 'title="p_consistent_conditioned">draws consistent, weighted</th>' in page
    assert 'title="troops_low">troops, low</th>' in page
    assert "p_<wbr>consistent_<wbr>conditioned" not in page


@pytest.mark.slow
@pytest.mark.parametrize("calendar", ["{end: 2025-06}", "{start: 2025-01}"])
def test_a_variant_on_another_calendar_draws_its_official_figure_with_gaps_not_int64_min(
    write, calendar: str
) -> None:
    # the envelope PNG failed (NaN to int) and the page drew -9,223,372,036,854,775,808
    import yaml

    doc = yaml.safe_load(SHORTER_CALENDAR)
    doc["theaters"]["syria"]["unreported"] = 600  # (the official figure then differs)
    doc["variants"]["early"]["overrides"]["calendar"] = yaml.safe_load(calendar)
    if "start" in calendar:
        doc["variants"]["early"]["overrides"].pop("milestones")
    result = sim.run(sim.load_scenario(write(doc)))
    assert sim.plot_envelope(result)  # (no error)
    fig = envelope_figure(result)
    official = [t for t in fig.data if t.meta == "official" and t.legendgroup == "early"]
    assert official
    for trace in official:
        values = list(trace.y)
        assert None in values  # the months the variant lacks
        assert all(v is None or 0 <= v <= 10_000_000 for v in values)


def test_a_conditioned_page_shows_the_weighted_threshold_dates_beside_its_weighted_fan(
    as_of: Path,
) -> None:
    # the page showed only the unweighted dates beside the weighted fan
    page = (as_of / "report.html").read_text(encoding="utf-8")
    assert '<h4 id="dates-conditioned">Threshold dates, weighted by the reports</h4>' in page
    section = page.split('id="dates-conditioned"', 1)[1].split("</table>", 1)[0]
    weighted = pd.read_csv(as_of / "dates_conditioned.csv")
    assert "10 % of the weight by" in section
    for row in weighted.itertuples():
        assert f"<td>{row.p10}</td>" in section or pd.isna(row.p10)
    assert page.index('id="dates-conditioned"') < page.index('<h3 id="dates">')


SITE_DROPPED = """\
id: dropped
title: A variant without one of the sites
as_of: 2024-03-15
calendar: {start: 2024-01, end: 2025-12}
announcement: {expected: 2024-03, delay: {uniform: [0, 4], assumption: x}}
theaters:
  t1:
    sites:
      s1: {initial: {value: 600, assumption: x}}
      s2: {initial: {value: 400, assumption: x}}
milestones:
  out: {theater: t1/s1, deadline: {after_announcement: 6}, target: {level: 0}, slips: true}
variants:
  both: {description: both sites}
  one:
    description: without s2
    overrides:
      theaters: {t1: {sites: {s2: null}}}
"""


@pytest.mark.slow
def test_a_page_of_a_site_only_other_variants_have_is_refused_not_written_empty(tmp_path):
    # report -v one --theater t1/s2 wrote a 2 MB page with an empty chart
    scenario = tmp_path / "dropped.yaml"
    scenario.write_text(SITE_DROPPED, encoding="utf-8")
    run = tmp_path / "run"
    made = invoke("run", str(scenario), "--draws", "100", "--seed", "1", "-q", "--out", str(run))
    assert made.exit_code == 0, made.output
    page = tmp_path / "page.html"
    res = CliRunner().invoke(
        main, ["report", str(run), "-v", "one", "--theater", "t1/s2", "-o", str(page)]
    )
    assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
    assert "--theater: expected theaters and sites the variants chosen have (one in " in res.stderr
    assert res.stderr.rstrip().endswith("found 't1/s2', which only other variants have")
    assert not page.exists()
    both = ["report", str(run), "-v", "one", "-v", "both", "--theater", "t1/s2", "-o", str(page)]
    assert CliRunner().invoke(main, both).exit_code == 0 and page.exists()


@pytest.fixture(scope="module")
def latest(tmp_path_factory) -> Path:
    """The latest vintage conditioned on what was known then: reports left out of the
    weights as discrepant."""
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    return run_dir(
        tmp_path_factory,
        "latest",
        str(SCENARIOS_DIR / "vintages" / "2026-02-24-syria-withdrawal.yaml"),
        *("-v", "as-reported", "-v", "us-reading", "--draws", "400", "--seed", "1"),
        *("--observed", str(record), "--condition", "--as-of", "2026-02-24"),
    )


@pytest.mark.slow
def test_a_conditioned_fan_counts_only_the_reports_that_weigh_its_draws(latest: Path) -> None:
    # the fan said "how many of the 13 reports" where the run's own summary said 10 (and
    # 3 discrepant, left out)
    from sim.export import read_record, rebuild_scored

    result = rebuild_scored(latest, read_record(latest))
    a = result.observed
    left = a.discrepant()
    assert left  # (the case: some reports are left out)
    weigh = {v: a.conditioned.used[v] - len(left.get(v, [])) for v in a.conditioned.effective}
    assert len(set(weigh.values())) == 1
    n = weigh["as-reported"]
    fig = sim.plot_fan(result, weighted=True)[0].figure
    subtitle = next(t.get_text() for t in fig.texts if t.get_text().startswith("Each draw"))
    plt.close(fig)
    assert f"how many of the {n} reports known then it misses" in subtitle
    assert f"how many of the {n} reports known on 24 Feb 2026 it misses" in report_html(latest)


@pytest.mark.slow
def test_a_conditioned_page_rings_the_reports_left_out_of_each_variants_weights(
    latest: Path,
) -> None:
    # the PNG ringed them; the page drew them as any other report
    from sim.analysis.observed import conditioned_result
    from sim.export import read_record, rebuild_scored

    result = rebuild_scored(latest, read_record(latest))
    a = result.observed
    cond = conditioned_result(result, a)
    left = a.left_out(cond.variants)
    fig = fan_figure(cond, left_out=left)
    rings = [t for t in fig.data if t.meta == "left-out"]
    for v in cond.variants:
        mine = [t for t in rings if t.legendgroup == v]
        assert sorted(y for t in mine for y in t.y) == sorted(o.reference for o in left[v])
        assert all(t.visible == (v == cond.variants[0]) for t in mine)
    assert not [t for t in fan_figure(cond).data if t.meta == "left-out"]  # (only if asked)
    page = report_html(latest)
    reports = sorted({f"{o.date} {o.theater}" for out in left.values() for o in out})
    assert reports
    assert '<p class="left-out">Ringed: drawn, but left out of the weights' in page
    for r in reports:
        day, _, tid = r.partition(" ")
        assert f"{tid.capitalize()} on {sim.months.spell_date(day)}" in page


def test_the_pages_key_says_what_lines_dashed_in_several_colours_are(tmp_path_factory) -> None:
    from sim.plotting.envelope import ALIKE_KEY

    alike = run_dir(
        tmp_path_factory, "alike", str(DEFAULT_SCENARIO), "-v", "on-time", "-v", "slip-3"
    )
    one = run_dir(tmp_path_factory, "one", str(DEFAULT_SCENARIO), "-v", "on-time")
    page = report_html(alike)
    assert '<span class="mark alike"' in page and ALIKE_KEY in page
    assert ALIKE_KEY not in report_html(one)


@pytest.mark.slow
def test_the_pages_effective_draws_table_shows_a_tenth_of_a_draw_as_the_command_does(
    latest: Path,
) -> None:
    # it showed 169.132, three decimals a reader cannot use
    record = json.loads((latest / "run.json").read_text(encoding="utf-8"))
    effective = record["observed"]["conditioning"]["effective_draws"]
    page = report_html(latest)
    for e in effective.values():
        assert f"<td>{e:,.1f}</td>" in page or f'">{e:,.1f}</td>' in page
        if f"{e:,.1f}" != f"{e:,}":
            assert f"{e:,}</td>" not in page


@pytest.mark.slow
def test_the_pages_fan_says_why_syrias_median_runs_on_its_official_figure(ensemble: Path) -> None:
    page = report_html(ensemble).replace("&#x27;", "'")
    assert "official figure leaves no troops out with a chance of at least 50 % (the" in page
    assert "(the scenario's), so the median" in page


def test_a_sources_address_in_capitals_is_linked_and_one_of_no_web_scheme_shown_as_text(
    tmp_path: Path,
) -> None:
    # HTTPS://…, www.… and doi:… all passed validation, and the page said "no public
    # address given" of each
    from conftest import MINIMAL_YAML

    sources = (
        "sources:\n"
        "  - {id: caps, title: Caps, url: 'HTTPS://example.org/report'}\n"
        "  - {id: www, title: Www, url: 'www.example.org/report'}\n"
        "  - {id: doi, title: Doi, url: 'doi:10.1000/182'}\n"
        "  - {id: js, title: Js, url: 'javascript:alert(1)'}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_YAML + sources, encoding="utf-8")
    out = tmp_path / "out"
    assert invoke("run", str(path), "-o", str(out), "--report", "-q").exit_code == 0
    page = page_of(out)

    def meta(source_id: str) -> str:
        return _source_meta(page, source_id)

    assert '<a href="HTTPS://example.org/report"' in meta("caps")
    assert meta("www").endswith(" · address: www.example.org/report")
    assert meta("doi").endswith(" · address: doi:10.1000/182")
    assert meta("js").endswith(" · address: javascript:alert(1)") and "<a" not in meta("js")


def test_every_panel_of_a_page_chart_names_its_months_not_the_bottom_one_alone(ensemble) -> None:
    # on a phone, Iraq's panel stood three panels' scrolling above the only dates
    result = sim.load_run(ensemble)
    for fig in (envelope_figure(result), fan_figure(result)):
        axes = [fig.layout[k] for k in fig.layout if k.startswith("xaxis")]
        assert len(axes) >= 2
        assert all(axis.showticklabels for axis in axes)


def test_the_weighted_fans_tables_say_their_percentiles_are_of_the_weighted_draws(
    as_of: Path,
) -> None:
    # the plain and weighted tables had one caption: "percentiles of the draws"
    page = report_html(as_of)
    assert "Iraq, on-time: percentiles of the draws [troops]" in page
    assert "Iraq, on-time: percentiles of the draws weighted by the reports [troops]" in page


@pytest.mark.slow
def test_a_page_of_a_site_no_report_is_of_says_so_not_a_heading_over_no_rows(
    tmp_path: Path,
) -> None:
    # "report -v us-reading --theater syria/core" showed the scored table's head alone
    vintage = SCENARIOS_DIR / "vintages" / "2026-02-24-syria-withdrawal.yaml"
    record = SCENARIOS_DIR / "iraq-syria-2024-observed.csv"
    run = tmp_path / "run"
    args = [str(vintage), "--observed", str(record), "--draws", "100", "--seed", "1"]
    assert CliRunner().invoke(main, ["run", *args, "-o", str(run), "-q"]).exit_code == 0
    page = tmp_path / "p.html"
    made = CliRunner().invoke(
        main, ["report", str(run), "-v", "us-reading", "--theater", "syria/core", "-o", str(page)]
    )
    assert made.exit_code == 0, made.output
    text = page.read_text()
    assert "No report of the theaters and variants this page shows." in text
    assert "Observations scored against" not in text
