"""Charts drawn with a count at the format's most (milestones, variants, theaters):
each draws, within a size an image viewer opens, and says what it left out."""

from __future__ import annotations

import io
import itertools

import pandas as pd
import pytest
from conftest import make_doc
from matplotlib.text import Text

import sim
from sim.analysis.sweep import Sweep
from sim.plotting.common import CrowdedChart

MOST_PX = 16_000  # the tallest (or widest) chart that still opens as one picture
MOST_MILESTONES, MOST_VARIANTS, MOST_THEATERS = 200, 100, 50


def _pixels(axes) -> tuple[int, int]:
    fig = axes[0].get_figure(root=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=20)  # a small draw: the size is read off the figure
    w, h = fig.get_size_inches() * fig.dpi
    return int(w), int(h)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> sim.Scenario:
    """The most theaters, milestones and variants."""
    theaters = {f"t{i:02d}": {"initial": 1000} for i in range(MOST_THEATERS)}
    milestones = {
        f"m{i:03d}": {
            "theater": f"t{i % MOST_THEATERS:02d}",
            "deadline": f"2024-{4 + 2 * (i // MOST_THEATERS):02d}",
            "target": {"level": 800 - 200 * (i // MOST_THEATERS)},
        }
        for i in range(MOST_MILESTONES)
    }
    variants = {
        f"v{i:02d}": {"description": "a delay", "overrides": {}} for i in range(MOST_VARIANTS)
    }
    doc = make_doc(theaters=theaters, milestones=milestones, variants=variants)
    path = tmp_path_factory.mktemp("crowded") / "crowded.yaml"
    import yaml

    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return sim.load_scenario(path)


def _sweep(sc: sim.Scenario, keys: dict[str, list[int]]) -> Sweep:
    """A sweep of ``sc`` over ``keys`` with made-up chances (the chart reads only its table)."""
    variants = list(sc.select(None))
    mids = list(sc.doc.milestones)
    rows = []
    for point in itertools.product(*keys.values()):
        for v in variants:
            for j, m in enumerate(mids):
                rows.append(
                    {
                        **dict(zip(keys, point, strict=True)),
                        "variant": v,
                        "outcome": f"p_met {m}",
                        "value": (j + sum(point)) % 2,
                        "month": None,
                    }
                )
    return Sweep(
        scenario=sc,
        keys=list(keys),
        values=[list(v) for v in keys.values()],
        labels=[[str(x) for x in v] for v in keys.values()],
        variants=variants,
        draws=None,
        seed=None,
        table=pd.DataFrame(rows),
    )


@pytest.mark.slow
def test_a_heat_map_of_the_most_milestones_and_variants_draws_readable_and_says_what_it_left_out(
    crowded,
) -> None:
    from sim.plotting.sweep import HEAT_COLUMNS, plot_sweep

    sw = _sweep(crowded, {"announcement.delay": [0, 3], "announcement.expected": [0, 1]})
    with pytest.warns(CrowdedChart, match="first 1 of 100 variants.*sweep.csv has every value"):
        axes = plot_sweep(sw)
    width, height = _pixels(axes)
    assert height <= MOST_PX and width <= MOST_PX
    fig = axes[0].get_figure(root=True)
    assert "sweep.csv has every value" in "\n".join(t.get_text() for t in fig.texts)
    # panels side by side are wide enough to read
    lefts = sorted({round(ax.get_position().x0, 3) for ax in axes})
    assert len(lefts) <= HEAT_COLUMNS
    assert min(ax.get_position().width * fig.get_figwidth() for ax in axes) >= 2.0


@pytest.mark.slow
def test_a_line_chart_of_the_most_milestones_and_variants_draws_readable_and_says_what_it_left_out(
    crowded,
) -> None:
    from sim.plotting.common import MAX_LINES
    from sim.plotting.sweep import MAX_LINE_PANELS, plot_sweep

    sw = _sweep(crowded, {"announcement.delay": [0, 3, 6]})
    with pytest.warns(CrowdedChart, match="first 10 of 100 variants and the first 12 of 200"):
        axes = plot_sweep(sw)
    width, height = _pixels(axes)
    assert height <= MOST_PX and width <= MOST_PX
    assert len(axes) == MAX_LINE_PANELS
    assert all(len(ax.get_lines()) <= 2 * MAX_LINES for ax in axes)
    fig = axes[0].get_figure(root=True)
    assert "sweep.csv has every value" in "\n".join(t.get_text() for t in fig.texts)


def _fifty(tmp_path, sid: str = "fifty", as_of: str = "2024-01"):
    """The most theaters, a milestone each, two variants."""
    import yaml

    doc = make_doc(
        id=sid,
        as_of=as_of,
        theaters={f"t{i:02d}": {"initial": 1000} for i in range(MOST_THEATERS)},
        milestones={
            f"t{i:02d}-cut": {
                "theater": f"t{i:02d}",
                "deadline": "2024-10",
                "target": {"level": {"uniform": [0, 400]}},
            }
            for i in range(MOST_THEATERS)
        },
        variants={
            "on-time": {"description": "as planned", "overrides": {}},
            "late": {
                "description": "later",
                "overrides": {"announcement": {"expected": "2024-03"}},
            },
        },
    )
    path = tmp_path / f"{sid}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return sim.load_scenario(path)


def _observed(tmp_path):
    path = tmp_path / "observed.csv"
    lines = ["date,theater,troops_low,troops_high,source,quote"]
    for i in range(MOST_THEATERS):
        lines += [f"2024-03-15,t{i:02d},900,900,,", f"2024-08-15,t{i:02d},500,700,,"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _shows_twelve_and_says_so(axes, csv: str) -> None:
    width, height = _pixels(axes)
    assert height <= MOST_PX and width <= MOST_PX
    fig = axes[0].get_figure(root=True)
    texts = [t.get_text() for t in fig.findobj(Text)]
    assert any(f"the first 12; {csv}" in t for t in texts), texts


@pytest.mark.slow
def test_a_comparison_of_the_most_theaters_stacks_twelve_and_says_what_it_left_out(
    tmp_path,
) -> None:
    from sim.plotting.compare import plot_compare

    cmp = sim.compare(_fifty(tmp_path), "on-time", "late", draws=20, seed=1)
    with pytest.warns(CrowdedChart, match="50 theaters: this chart shows the first 12"):
        axes = plot_compare(cmp)
    assert len(axes) == 2 * 12
    _shows_twelve_and_says_so(axes, "compare.csv has every theater")


@pytest.mark.slow
def test_a_backtest_of_the_most_theaters_stacks_twelve_and_says_what_it_left_out(
    tmp_path,
) -> None:
    from sim.analysis.backtest import run_backtest
    from sim.io.observation_csv import read_observations
    from sim.plotting.backtest import plot_backtest

    bt = run_backtest(_fifty(tmp_path), read_observations(_observed(tmp_path)))
    with pytest.warns(CrowdedChart, match="50 theaters: this chart shows the first 12"):
        axes = plot_backtest(bt)
    assert len({ax.get_title(loc="left").split(" · ")[0] for ax in axes[:-1]}) == 12
    _shows_twelve_and_says_so(axes, "choose with forcesim plot RUN --theater ID")


@pytest.mark.slow
def test_vintages_of_the_most_theaters_stack_twelve_and_say_what_they_left_out(tmp_path) -> None:
    from sim.plotting.vintages import plot_vintages

    vintages = [_fifty(tmp_path, "v1", "2024-02"), _fifty(tmp_path, "v2", "2024-04")]
    series = sim.run_vintages(vintages, _observed(tmp_path), draws=20, seed=1)
    with pytest.warns(CrowdedChart, match="50 theaters: this chart shows the first 12"):
        axes = plot_vintages(series, variant="on-time")
    assert len(axes) == 12
    _shows_twelve_and_says_so(axes, "points.csv and scores.csv have every theater")
