"""``forcesim run`` writes each variant's rows as they are made (sim.export.stream): the
same files as ``sim.write_run(sim.run(...))``, to the byte, the same printed table, and
never a frame of more than one variant's rows."""

from __future__ import annotations

import json
import warnings
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import DEFAULT_SCENARIO, SCENARIOS_DIR, InProcessParts, dump, make_doc

import sim
import sim.analysis.summaries as summaries
import sim.io.files as files
import sim.results as results
from sim.analysis.observed import HELD_COLUMNS
from sim.cli import main, text
from sim.export.stream import stream_run
from sim.plotting.common import CrowdedChart

SITES = SCENARIOS_DIR / "iraq-sites-2024.yaml"


def _many_variants(tmp_path: Path) -> Path:
    """Three theaters (one of sites, one with a reporting basis), seven variants."""
    doc = make_doc(
        calendar={"start": "2024-01", "end": "2026-12"},
        theaters={
            "alpha": {"initial": 2_000, "unreported": 300},
            "beta": {"initial": {"uniform": [900, 1_100]}},
            "gamma": {"sites": {"east": {"initial": 400}, "west": {"initial": 600}}},
        },
        milestones={
            "alpha-cut": {
                "theater": "alpha",
                "deadline": "2025-06",
                "target": {"level": {"uniform": [500, 1_500]}},
            },
            "beta-out": {"theater": "beta", "deadline": "2025-12", "target": {"level": 0}},
            "west-out": {"theater": "gamma/west", "deadline": "2025-03", "target": {"level": 0}},
        },
        variants={
            f"v{i}": {
                "description": f"beta out {i} months later",
                "overrides": {"milestones": {"beta-out": {"deadline": f"2026-{i + 1:02d}"}}},
            }
            for i in range(7)
        },
    )
    path = tmp_path / "many.yaml"
    path.write_text(dump(doc))
    return path


def _files(run: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run.iterdir()) if p.suffix in (".csv", ".png")}


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--draws", "300", "--seed", "4"],
        ["--draws", "300", "--seed", "4", "--variant", "v5", "--variant", "v2"],
    ],
    ids=["central", "ensemble", "chosen variants"],
)
def test_run_command_writes_the_files_and_table_sim_run_writes(tmp_path, args) -> None:
    scenario = _many_variants(tmp_path)
    res = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "cli"), *args])
    assert res.exit_code == 0, res.output
    draws = int(args[1]) if args else None
    chosen = [a for i, a in enumerate(args) if i and args[i - 1] == "--variant"] or None
    whole = sim.run(scenario, chosen, draws=draws, seed=4 if draws else None)
    with warnings.catch_warnings():  # (the fan of 7 variants shows 6: the command says so)
        warnings.simplefilter("ignore", CrowdedChart)
        sim.write_run(whole, tmp_path / "api")
    assert _files(tmp_path / "cli") == _files(tmp_path / "api")
    assert "\n".join(text.run_lines(whole)) in res.output


@pytest.mark.slow
def test_run_table_of_sites_and_official_figures_reads_as_from_the_whole_frame(
    tmp_path,
) -> None:
    whole = sim.run(SITES, draws=200, seed=2)
    _, kept, levels = stream_run(
        sim.load_scenario(SITES), whole.variants, tmp_path / "r", draws=200, seed=2, chart=False
    )
    assert text.run_lines(kept, levels) == text.run_lines(whole)


@pytest.mark.slow
def test_streamed_parquet_and_parts_run_elsewhere_give_the_same_tables(tmp_path) -> None:
    pytest.importorskip("pyarrow")
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    names = sc.select(None)
    stream_run(
        sc,
        names,
        tmp_path / "s",
        draws=500,
        seed=3,
        formats=["csv", "parquet"],
        executor=InProcessParts(3),
        chart=False,
    )
    whole = sim.run(sc, draws=500, seed=3)
    sim.write_run(whole, tmp_path / "w", formats=["csv", "parquet"], chart=False)
    for table in ("monthly", "milestones", "bands", "dates"):
        assert (tmp_path / "s" / f"{table}.csv").read_bytes() == (
            tmp_path / "w" / f"{table}.csv"
        ).read_bytes()
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "s" / f"{table}.parquet"),
            pd.read_parquet(tmp_path / "w" / f"{table}.parquet"),
        )


@pytest.mark.slow
def test_streamed_conditioned_parquet_and_parts_run_elsewhere_give_the_same_tables(
    tmp_path,
) -> None:
    pytest.importorskip("pyarrow")
    sc = sim.load_scenario(_observed_variants(tmp_path))
    options: dict[str, Any] = {
        "draws": 300,
        "seed": 4,
        "observed": sc.observations(),
        "tolerance": "5%",
        "condition": True,
        "error": "0.002",
    }
    both = ["csv", "parquet"]
    names = sc.select(None)
    parts = InProcessParts(3)
    stream_run(sc, names, tmp_path / "s", executor=parts, formats=both, chart=False, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CrowdedChart)
        sim.write_run(sim.run(sc, **options), tmp_path / "w", formats=both, chart=False)
    written = sorted(p.name for p in (tmp_path / "w").iterdir())
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == written
    assert "bands_conditioned.parquet" in written
    for name in written:
        if name.endswith(".csv"):
            assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "w" / name).read_bytes()
        elif name.endswith(".parquet"):
            pd.testing.assert_frame_equal(
                pd.read_parquet(tmp_path / "s" / name), pd.read_parquet(tmp_path / "w" / name)
            )


@pytest.mark.slow
@pytest.mark.parametrize(
    "scored", [[], ["--condition", "--error-rate", "0.002"]], ids=["plain", "conditioned"]
)
def test_run_command_never_holds_a_frame_of_more_than_one_variants_rows_while_writing(
    tmp_path, monkeypatch, scored
) -> None:
    scenario = (_observed_variants if scored else _many_variants)(tmp_path)
    made: list[weakref.ref[pd.DataFrame]] = []  # every frame of monthly or bands rows
    held: list[int] = []  # at each block of CSV text: the most rows a live one has
    frame_of, csv_text = results.frame_of, files.csv_text

    def kept(parts: list[dict[str, Any]], columns: Any = None) -> pd.DataFrame:
        frame = frame_of(parts, columns)
        made.append(weakref.ref(frame))
        return frame

    def counted(frame: pd.DataFrame, *, header: bool = True) -> str:
        held.append(max([len(f) for r in made if (f := r()) is not None], default=0))
        return csv_text(frame, header=header)

    monkeypatch.setattr(results, "frame_of", kept)
    monkeypatch.setattr(summaries, "frame_of", kept)
    monkeypatch.setattr(files, "csv_text", counted)
    args = ["run", str(scenario), "-q", "--out", str(tmp_path / "r"), "--draws", "50"]
    res = CliRunner().invoke(main, [*args, "--seed", "1", *scored])
    assert res.exit_code == 0, res.output
    assert ("bands_conditioned.csv" in res.output) == bool(scored)
    plan = sim.load_scenario(scenario).plan("v0")
    one_variant = len(plan.series_names()) * plan.n_months  # (5 series x 36 months)
    assert held and max(held) == one_variant  # (the whole run's: 7 times as many)


def test_write_run_refuses_the_rows_a_streamed_run_kept_for_its_charts(tmp_path) -> None:
    sc = sim.load_scenario(DEFAULT_SCENARIO)
    _, kept, _ = stream_run(sc, sc.select(None), tmp_path / "r", chart=False)
    with pytest.raises(sim.ScenarioError, match="keeps only the rows its charts draw"):
        sim.write_run(kept, tmp_path / "again")
    assert not (tmp_path / "again").exists()


@pytest.mark.slow
@pytest.mark.parametrize("rows", [7, 50_000])
def test_parquet_read_back_a_block_at_a_time_equals_the_table_read_whole(tmp_path, rows) -> None:
    pytest.importorskip("pyarrow")
    whole = sim.run(DEFAULT_SCENARIO, draws=200, seed=5)
    sim.write_run(whole, tmp_path / "w", formats=["csv", "parquet"], chart=False)
    for table in ("monthly", "milestones", "bands", "dates"):
        target = tmp_path / f"{table}-{rows}.parquet"
        files.csv_to_parquet(tmp_path / "w" / f"{table}.csv", target, rows=rows)
        pd.testing.assert_frame_equal(
            pd.read_parquet(target), pd.read_parquet(tmp_path / "w" / f"{table}.parquet")
        )


def _observed_variants(tmp_path: Path) -> Path:
    """:func:`_many_variants` with reports: of ``beta`` in the middle of its withdrawal
    (which some variants' draws meet and others' hardly do), of a site, of an official
    figure, and a target (never scored); none is public before 2025-02."""
    doc = make_doc(**_doc_of(_many_variants(tmp_path)))
    doc["observations"] = [
        {
            "date": "2025-09",
            "theater": "beta",
            "troops_low": 166,
            "troops_high": 168,
            "tolerance": 0,
        },
        {"date": "2025-02", "theater": "gamma/west", "troops_low": 0, "troops_high": 10},
        {"date": "2025-11", "theater": "alpha", "troops_high": 2_000, "kind": "official"},
        {"date": "2027-06", "theater": "beta", "troops_high": 0, "kind": "target"},
    ]
    path = tmp_path / "observed.yaml"
    path.write_text(dump(doc))
    return path


def _doc_of(path: Path) -> dict[str, Any]:
    import yaml

    doc = yaml.safe_load(path.read_text())
    return {k: v for k, v in doc.items() if k in ("calendar", "theaters", "milestones", "variants")}


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--draws", "300", "--seed", "4"],
        ["--draws", "300", "--seed", "4", "--condition", "--error-rate", "0.002"],
        ["--draws", "300", "--seed", "4", "--condition", "--as-of", "2025-01", "--tolerance", "40"],
    ],
    ids=["central", "ensemble", "conditioned", "conditioned as of"],
)
def test_run_command_scoring_observations_writes_the_files_sim_run_writes(tmp_path, args) -> None:
    scenario = _observed_variants(tmp_path)
    res = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "cli"), *args])
    assert res.exit_code == 0, res.output
    flags = [a for a in args if a != "--condition"]
    options: dict[str, Any] = dict(zip(flags[::2], flags[1::2], strict=True))
    sc = sim.load_scenario(scenario)
    whole = sim.run(
        sc,
        draws=int(options["--draws"]) if "--draws" in options else None,
        seed=4 if "--draws" in options else None,
        observed=sc.observations(),
        tolerance=options.get("--tolerance", sim.Tolerance.default()),
        condition="--condition" in args,
        as_of=options.get("--as-of"),
        error=options.get("--error-rate"),
    )
    with warnings.catch_warnings():  # (the fan of 7 variants shows 6: the command says so)
        warnings.simplefilter("ignore", CrowdedChart)
        sim.write_run(whole, tmp_path / "whole")
    streamed, written = _files(tmp_path / "cli"), _files(tmp_path / "whole")
    assert "observed.csv" in streamed
    if "--condition" in args:
        c = whole.observed.conditioned
        if "--as-of" in args:  # (no report known: every variant's own summaries, unweighted)
            assert not c.too_few and set(c.used.values()) == {0}
        else:  # (the conditioned fan's variants are not the fan's)
            assert c.too_few[0] == "v0" and c.variants and min(c.used.values()) > 0
        assert "fan_conditioned.png" in streamed
    assert streamed.keys() == written.keys()
    assert [n for n in streamed if streamed[n] != written[n]] == []
    lines = text.observed_lines(whole.observed, whole.variants, sc)
    assert "\n".join(lines) in res.output
    record = json.loads((tmp_path / "cli" / "run.json").read_text())
    assert record["observed"] == json.loads(json.dumps(whole.observed.record(), default=str))


@pytest.mark.slow
def test_streamed_run_holds_a_few_columns_of_observed_rows_and_no_distribution(
    tmp_path,
) -> None:
    sc = sim.load_scenario(_observed_variants(tmp_path))
    options: dict[str, Any] = {"draws": 300, "seed": 4, "condition": True, "error": "0.002"}
    _, kept, _ = stream_run(
        sc, sc.select(None), tmp_path / "r", observed=sc.observations(), chart=False, **options
    )
    table = kept.observed.table
    assert list(table.columns) == HELD_COLUMNS
    share = "p_consistent_conditioned"  # (a share, in 4 bytes a row; flags as booleans,
    # a byte a row; the rest as categories)
    assert table[share].dtype == np.float32
    flags = {"consistent": "boolean", "known": "bool"}
    assert {c: str(table[c].dtype) for c in flags} == flags
    kinds = (t for c, t in table.dtypes.items() if c != share and c not in flags)
    assert all(isinstance(t, pd.CategoricalDtype) for t in kinds)
    assert kept.observed.distributions == {}
    whole = sim.run(sc, observed=sc.observations(), **options).observed
    assert whole.distributions  # (sim.run keeps them: sim.vintages reads them)
    rest = [c for c in HELD_COLUMNS if c != share]
    pd.testing.assert_frame_equal(
        table[rest].astype(object), whole.table[rest].astype(object), check_dtype=False
    )
    np.testing.assert_array_equal(
        table[share].to_numpy(), whole.table[share].to_numpy().astype(np.float32)
    )
    assert text.observed_lines(kept.observed, kept.variants, sc) == text.observed_lines(
        whole, kept.variants, sc
    )


@pytest.mark.parametrize(
    "options",
    [{"condition": True}, {"as_of": "2025-06"}, {"tolerance": "10%"}, {"seed": 3}],
    ids=["condition", "as of", "tolerance", "seed without draws"],
)
def test_streamed_run_refuses_what_sim_run_refuses_in_its_words(tmp_path, options) -> None:
    sc = sim.load_scenario(_observed_variants(tmp_path))
    said = []
    for call in (
        lambda: sim.run(sc, **options),
        lambda: stream_run(sc, sc.select(None), tmp_path / "r", **options),
    ):
        with pytest.raises(sim.ScenarioError, match="<arguments>") as refused:
            call()
        said.append(str(refused.value))
    assert said[0] == said[1]
    assert not (tmp_path / "r").exists()


def test_streamed_run_refuses_observations_of_another_scenario(tmp_path) -> None:
    sc = sim.load_scenario(_observed_variants(tmp_path))
    other = sim.load_observations(SCENARIOS_DIR / "iraq-syria-2024-observed.csv")
    with pytest.raises(sim.ScenarioError, match="theater"):
        stream_run(sc, sc.select(None), tmp_path / "r", observed=other)
    assert not (tmp_path / "r").exists()
