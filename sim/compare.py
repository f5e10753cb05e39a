"""Paired variants: the distribution of B − A over common random numbers.

Both variants are stepped chunk by chunk, each from its own ``Draws(seed)``:
the streams are keyed by quantity, so A and B see identical draws for every
quantity they share, and the two runs of one draw differ only by what the
variants change. For every theater (and site) and month the difference of the
two levels in the same draw, ``B − A`` [troops], is counted in a histogram
offset by A's level bound (differences are whole troops between ``−bound(A)``
and ``+bound(B)``). Histograms of chunks add up, so the summaries are exact,
do not depend on the chunk size, and memory does not grow with the number of
draws. Percentiles are as in :mod:`sim.ensemble`: ``pXX`` is the smallest
difference with at least ``XX %`` of the draws at or below it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sim.draws import Draws, central_inputs
from sim.ensemble import (
    DEFAULT_CHUNK,
    PERCENTILES,
    check_args,
    chunks,
    inverse_cdf,
    level_bound,
    progress_bar,
    series,
)
from sim.errors import ScenarioError
from sim.months import format_month
from sim.plan import Plan
from sim.scenario import Scenario
from sim.stepper import StepOutput, step

if TYPE_CHECKING:
    from matplotlib.axes import Axes

COMPARE_COLUMNS = [
    "scenario",
    "variant_a",
    "variant_b",
    "theater",
    "month",
    "mean",
    "min",
    *[f"p{q:02d}" for q in PERCENTILES],
    "max",
    "p_b_greater",
    "p_b_less",
]


@dataclass
class Comparison:
    """What :func:`compare` returns.

    Attributes
    ----------
    scenario : Scenario
    a, b : str
        The two variants; every difference is ``B − A``.
    draws, seed : int
    table : pandas.DataFrame
        ``scenario, variant_a, variant_b, theater, month, mean, min, p05 … p95,
        max, p_b_greater, p_b_less``: per theater (and site) and month, the
        distribution of ``B − A`` [troops] over the draws and the shares of draws
        with B above and below A. ``month`` is a monthly ``Period``.
    central : pandas.DataFrame
        ``theater, month, difference``: ``B − A`` of the two deterministic
        central runs.
    """

    scenario: Scenario
    a: str
    b: str
    draws: int
    seed: int
    table: pd.DataFrame
    central: pd.DataFrame
    plans: dict[str, Plan] = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def variants(self) -> list[str]:
        return [self.a, self.b]

    @property
    def theaters(self) -> list[str]:
        """The theaters both variants have (site rows excluded), in the scenario's order."""
        names = set(self.table.theater)
        return [t for t in self.plans[self.a].theaters if t in names]

    def plot(
        self, ax: Axes | Sequence[Axes] | Any = None, theaters: Sequence[str] | None = None
    ) -> list[Axes]:
        """The fan of ``B − A`` per theater, with P(B > A) beneath; returns the axes.

        ``ax``: one axes per theater (the fan only), or two per theater (the fan,
        then the probability panel), theater by theater; a new 1600×1000 px (or
        taller) figure when omitted.
        """
        return draw_compare(self, ax=ax, theaters=theaters)

    def summary_lines(self) -> list[str]:
        """A short text table: each theater at the key months (deadlines, horizon)."""
        from sim.results import key_months

        months = key_months(self)  # type: ignore[arg-type]
        t = self.table
        lines = [
            f"{self.scenario.id}: {self.b} − {self.a}, troops at the end of each month; "
            f"{self.draws:,} paired draws (seed {self.seed})",
            f"{'theater':<10}{'month':>9}{'median':>9}{'90 % of draws':>18}{'mean':>10}"
            f"{'P(B>A)':>9}{'P(B<A)':>9}",
        ]
        for tid in self.theaters:
            rows = t[t.theater == tid]
            # the month of the largest mean difference, then the deadlines and the horizon
            size = rows["mean"].abs().to_numpy()
            peak = [str(rows.month.iloc[int(size.argmax())])] if size.max() > 0 else []
            for m in sorted({*peak, *months}):
                row = rows[rows.month.astype(str) == m]
                if not len(row):
                    continue
                r = row.iloc[0]
                span = f"{r.p05:+,} to {r.p95:+,}"
                note = "  (largest mean difference)" if m in peak else ""
                lines.append(
                    f"{tid:<10}{m:>9}{r.p50:>+9,}{span:>18}{r['mean']:>+10,.1f}"
                    f"{r.p_b_greater:>9.2f}{r.p_b_less:>9.2f}{note}"
                )
        return lines

    def __repr__(self) -> str:
        return (
            f"<Comparison {self.scenario.id}: {self.b} − {self.a}, {self.draws:,} draws, "
            f"seed {self.seed}>\n" + "\n".join(self.summary_lines()[1:])
        )


def _levels(plan: Plan, out: StepOutput, name: str, members: list[int]) -> NDArray[np.int32]:
    """(draws, months) levels of one series of ``plan`` in ``out``."""
    if name in plan.theaters:
        return out.theaters[:, plan.theaters.index(name), :]
    return out.tracks[:, members[0], :]


def _common_months(pa: Plan, pb: Plan, a: str, b: str) -> tuple[int, int]:
    """(first month ordinal, number of months) both variants cover."""
    first = max(pa.start, pb.start)
    last = min(pa.start + pa.n_months, pb.start + pb.n_months) - 1
    if last < first:
        raise ScenarioError(
            f"variants {a!r} and {b!r} with calendars that overlap",
            f"{format_month(pa.start)}..{format_month(pa.start + pa.n_months - 1)}"
            f" and {format_month(pb.start)}.."
            f"{format_month(pb.start + pb.n_months - 1)}",
            path="calendar",
        )
    return first, last - first + 1


MAX_CHUNK_CELLS = 1 << 26  # draw-track-months stepped at once per variant


def compare(
    scenario: Scenario | str | Path,
    a: str,
    b: str,
    draws: int,
    seed: int,
    *,
    chunk: int | None = None,
    progress: bool | None = None,
) -> Comparison:
    """Paired ensemble of variants ``a`` and ``b``: the distribution of ``B − A``.

    Parameters
    ----------
    scenario : Scenario or path
    a, b : str
        Variant names (the same name twice gives all-zero differences).
    draws : int
        Number of paired draws (1 to 100,000,000).
    seed : int
        Seed; the same seed gives the same output whatever ``chunk`` is.
    chunk : int, optional
        Draws stepped at a time; bounds memory, never changes the result. Default:
        65,536, fewer for scenarios with many tracks and months (about 64 M cells
        per variant and chunk).
    progress : bool, optional
        Show a progress bar (in a terminal or notebook); None: only in a notebook.

    Returns
    -------
    Comparison
        ``.table`` (DataFrame) and ``.plot()``.
    """
    if isinstance(scenario, Scenario):
        sc = scenario
    else:
        from sim.loader import load_scenario

        sc = load_scenario(scenario)
    return _compare(sc, a, b, draws, seed, chunk=chunk, progress=progress)


def _compare(
    scenario: Scenario,
    a: str,
    b: str,
    draws: int,
    seed: int,
    *,
    chunk: int | None,
    progress: bool | None,
) -> Comparison:
    for name in (a, b):
        scenario.select([name])  # unknown names raise ScenarioError with a suggestion
    draws, seed = check_args(draws, seed)
    pa, pb = scenario.plan(a), scenario.plan(b)
    if chunk is None:  # the stepper holds a few (draws, tracks, months) arrays per variant
        cells = max(len(p.tracks) * p.n_months for p in (pa, pb))
        chunk = max(1024, min(DEFAULT_CHUNK, MAX_CHUNK_CELLS // cells))
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer) or chunk < 1:
        raise ScenarioError("a chunk of at least 1 draw", repr(chunk), path="chunk")
    first, n_months = _common_months(pa, pb, a, b)
    oa, ob = first - pa.start, first - pb.start
    in_b = dict(series(pb))
    pairs = [(name, members, in_b[name]) for name, members in series(pa) if name in in_b]
    lo, hi = level_bound(pa), level_bound(pb)
    width = lo + hi + 1
    hist = np.zeros((len(pairs), n_months * width), np.int64)
    offsets = (np.arange(n_months, dtype=np.int64) * width + lo)[None, :]
    src_a, src_b = Draws(seed), Draws(seed)
    bar = progress_bar(draws, progress, f"{scenario.id} {b} − {a}")
    try:
        for take in chunks(draws, int(chunk)):
            out_a = step(pa, src_a.take(pa, take))
            out_b = step(pb, src_b.take(pb, take))
            for i, (name, ma, mb) in enumerate(pairs):
                la = _levels(pa, out_a, name, ma)[:, oa : oa + n_months].astype(np.int64)
                lb = _levels(pb, out_b, name, mb)[:, ob : ob + n_months].astype(np.int64)
                hist[i] += np.bincount((lb - la + offsets).ravel(), minlength=n_months * width)
            if bar is not None:
                bar.update(take)
    finally:
        if bar is not None:
            bar.close()
    months = [format_month(first + m) for m in range(n_months)]
    table = _table(scenario.id, a, b, [p[0] for p in pairs], months, hist, lo, width, draws)
    central = _central(pa, pb, pairs, oa, ob, n_months, months)
    return Comparison(
        scenario=scenario,
        a=a,
        b=b,
        draws=draws,
        seed=seed,
        table=table,
        central=central,
        plans={a: pa, b: pb},
    )


def _table(
    scenario_id: str,
    a: str,
    b: str,
    names: list[str],
    months: list[str],
    hist: NDArray[np.int64],
    lo: int,
    width: int,
    n: int,
) -> pd.DataFrame:
    n_months = len(months)
    values = np.arange(width, dtype=np.int64) - lo
    frames = []
    for i, name in enumerate(names):
        h = hist[i].reshape(n_months, width)
        cum = np.cumsum(h, axis=1)
        nonzero = h > 0
        frame = pd.DataFrame(
            {
                "scenario": scenario_id,
                "variant_a": a,
                "variant_b": b,
                "theater": name,
                "month": months,
                "mean": ((h * values).sum(axis=1) / n).round(3),
                "min": nonzero.argmax(axis=1) - lo,
                **{f"p{q:02d}": inverse_cdf(cum, q, n) - lo for q in PERCENTILES},
                "max": width - 1 - nonzero[:, ::-1].argmax(axis=1) - lo,
                "p_b_greater": (h[:, lo + 1 :].sum(axis=1) / n).round(6),
                "p_b_less": (h[:, :lo].sum(axis=1) / n).round(6),
            }
        )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)[COMPARE_COLUMNS]
    out["month"] = pd.PeriodIndex(out["month"], freq="M")
    return out


def _central(
    pa: Plan,
    pb: Plan,
    pairs: list[tuple[str, list[int], list[int]]],
    oa: int,
    ob: int,
    n_months: int,
    months: list[str],
) -> pd.DataFrame:
    out_a = step(pa, central_inputs(pa))
    out_b = step(pb, central_inputs(pb))
    frames = []
    for name, ma, mb in pairs:
        la = _levels(pa, out_a, name, ma)[0, oa : oa + n_months].astype(np.int64)
        lb = _levels(pb, out_b, name, mb)[0, ob : ob + n_months].astype(np.int64)
        frames.append(pd.DataFrame({"theater": name, "month": months, "difference": lb - la}))
    out = pd.concat(frames, ignore_index=True)
    out["month"] = pd.PeriodIndex(out["month"], freq="M")
    return out


def default_dir(comparison_or_id: Comparison | str, a: str, b: str) -> Path:
    """``out/<scenario id>-compare-A-vs-B`` (beside, not inside, the run directory, which a
    new run replaces whole)."""
    sid = comparison_or_id if isinstance(comparison_or_id, str) else comparison_or_id.scenario.id
    return Path("out") / f"{sid}-compare-{a}-vs-{b}"


def write_compare(
    comparison: Comparison, out_dir: Path, *, argv: list[str] | None = None, chart: bool = True
) -> list[Path]:
    """Write ``compare.csv``, ``compare.png`` and ``run.json`` into ``out_dir``, atomically."""
    from sim import plotting
    from sim.output import atomic_directory, run_record, write_csv, write_json

    with atomic_directory(out_dir) as tmp:
        write_csv(comparison.table, tmp / "compare.csv")
        if chart:
            plotting.save(comparison.plot(), tmp / "compare.png")
        record = run_record(
            comparison, argv, compare={"a": comparison.a, "b": comparison.b, "difference": "b - a"}
        )
        write_json(record, tmp / "run.json")
        names = sorted(p.name for p in tmp.iterdir())
    return [out_dir / n for n in names]


# ---------------------------------------------------------------- the chart

TOP_IN, BOTTOM_IN, BLOCK_HEAD_IN = 1.75, 1.0, 0.5
FAN_IN, PROB_IN, GAP_IN, FOOT_IN = 3.0, 1.15, 0.2, 0.62
LEFT_IN, RIGHT_IN = 1.1, 0.4
MORE_COLOR, LESS_COLOR = "#1b6ca8", "#d1495b"


def _signed(v: float, _pos: Any = None) -> str:
    if v == 0:
        return "0"
    return f"{'+' if v > 0 else '−'}{abs(v):,.0f}"


def _layout(n: int, with_prob: bool) -> tuple[Any, list[Axes]]:
    from sim import plotting

    plt = plotting.pyplot()
    block = BLOCK_HEAD_IN + FAN_IN + FOOT_IN + ((GAP_IN + PROB_IN + FOOT_IN) if with_prob else 0)
    body = n * block
    height = max(plotting.HEIGHT_IN, TOP_IN + body + BOTTOM_IN)
    grow = (height - TOP_IN - body - BOTTOM_IN) / n  # spare height goes to the fans
    width = plotting.WIDTH_IN
    fig = plt.figure(figsize=(width, height), dpi=plotting.DPI)
    axes: list[Axes] = []
    y = height - TOP_IN
    w = (width - LEFT_IN - RIGHT_IN) / width
    for _ in range(n):
        y -= BLOCK_HEAD_IN + FAN_IN + grow
        fan = fig.add_axes(
            (LEFT_IN / width, y / height, w, (FAN_IN + grow) / height),
            sharex=axes[0] if axes else None,
        )
        axes.append(fan)
        y -= FOOT_IN
        if with_prob:
            y -= GAP_IN + PROB_IN
            axes.append(
                fig.add_axes((LEFT_IN / width, y / height, w, PROB_IN / height), sharex=fan)
            )
            y -= FOOT_IN
    return fig, axes


def draw_compare(
    cmp: Comparison, ax: Any = None, theaters: Sequence[str] | None = None
) -> list[Axes]:
    """The chart of :meth:`Comparison.plot`; see there."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    from sim import plotting
    from sim.fan import (
        draw_bands,
        draw_median_and_central,
        legend_handles,
    )

    names = list(theaters) if theaters else cmp.theaters
    have = list(dict.fromkeys(cmp.table.theater))
    for name in names:
        if name not in have:
            raise ValueError(f"unknown theater {name!r}: expected one of {', '.join(have)}")
    fig = None
    if ax is None:
        fig, axes = _layout(len(names), True)
        with_prob = True
    else:
        axes = list(np.ravel(ax)) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) not in (len(names), 2 * len(names)):
            raise ValueError(
                f"expected {len(names)} axes (a fan per theater: "
                f"{', '.join(names)}) or {2 * len(names)} (a fan and a "
                f"probability panel per theater), found {len(axes)}"
            )
        with_prob = len(axes) == 2 * len(names)
    step_ = 2 if with_prob else 1
    t, c = cmp.table, cmp.central
    for i, tid in enumerate(names):
        fan = axes[i * step_]
        rows = t[t.theater == tid].sort_values("month")
        x = plotting.month_ends(rows.month)
        draw_bands(fan, x, rows)
        fan.axhline(0, color="#111111", lw=1.2, zorder=3)
        cen = c[c.theater == tid].sort_values("month")
        draw_median_and_central(
            fan, x, rows.p50, plotting.month_ends(cen.month), cen.difference, "central runs"
        )
        title = plotting.theater_title(cmp, tid)  # type: ignore[arg-type]
        plotting.style_axes(fan, title if fig is not None else f"{title}: {cmp.b} − {cmp.a}")
        fan.set_ylabel(f"troops, {cmp.b}\nminus {cmp.a}", fontsize=11)
        fan.yaxis.set_major_formatter(FuncFormatter(_signed))
        low = min(float(rows.p05.min()), float(cen.difference.min()), 0.0)
        high = max(float(rows.p95.max()), float(cen.difference.max()), 0.0)
        span = high - low
        if span == 0:
            fan.set_ylim(-100, 100)
            fan.text(
                0.5,
                0.62,
                f"no difference in any of the {cmp.draws:,} draws",
                transform=fan.transAxes,
                ha="center",
                va="center",
                fontsize=13,
                color="#333333",
            )
        else:
            # room above and below zero for the two labels, whichever side is empty
            fan.set_ylim(low - 0.14 * span, high + 0.22 * span)
        fan.annotate(
            f"above 0: more troops under {cmp.b}",
            (0, 1),
            xycoords="axes fraction",
            xytext=(8, -6),
            textcoords="offset points",
            va="top",
            fontsize=10,
            color="#333333",
        )
        fan.annotate(
            f"below 0: fewer troops under {cmp.b}",
            (0, 0),
            xycoords="axes fraction",
            xytext=(8, 6),
            textcoords="offset points",
            va="bottom",
            fontsize=10,
            color="#333333",
        )
        _compare_deadlines(cmp, tid, fan, label=True)
        if with_prob:
            fan.tick_params(labelbottom=True)
            prob = axes[i * step_ + 1]
            prob.fill_between(
                x,
                0,
                rows.p_b_greater.to_numpy(float),
                color=MORE_COLOR,
                alpha=0.25,
                lw=0,
                step=None,
            )
            prob.plot(
                x,
                rows.p_b_greater.to_numpy(float),
                color=MORE_COLOR,
                lw=2,
                label=f"P(B > A): more troops under {cmp.b}",
            )
            prob.plot(
                x,
                rows.p_b_less.to_numpy(float),
                color=LESS_COLOR,
                lw=2,
                ls=(0, (4, 2)),
                label=f"P(B < A): fewer troops under {cmp.b}",
            )
            plotting.style_axes(prob, "")
            prob.set_ylim(-0.03, 1.08)
            prob.set_yticks([0, 0.5, 1])
            prob.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            prob.set_ylabel("share of\ndraws", fontsize=11)
            prob.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=10,
                frameon=False,
                ncol=2,
                borderaxespad=0.1,
            )
            prob.set_title(
                f"How often {cmp.b} has more (or fewer) troops than {cmp.a}",
                loc="left",
                fontsize=11.5,
                pad=4,
            )
            _compare_deadlines(cmp, tid, prob, label=False)
    if fig is not None:
        _decorate_compare(cmp, fig, axes[0], legend_handles)
    else:
        handles, labels = legend_handles(axes[0])
        axes[0].legend(handles[:-1], labels[:-1], loc="best", fontsize=9, frameon=False)
    return axes


def _compare_deadlines(cmp: Comparison, tid: str, ax: Axes, *, label: bool) -> None:
    """Dotted verticals at either variant's calendar-month deadlines for ``tid``."""
    from sim.fan import deadline_marks

    months: set[int] = set()
    for plan in cmp.plans.values():
        for m in plan.milestones:
            track = plan.tracks[m.track]
            if m.kind == "month" and (track.theater == tid or track.key == tid):
                months.add(plan.start + m.month)
    periods = [pd.Period(format_month(o), freq="M") for o in sorted(months)]
    # one line: the legend names the dotted verticals, and a run of close deadlines
    # then stacks half as deep over the data
    marks = [(p, p.strftime("%b %Y") if label else "") for p in periods]
    deadline_marks(ax, marks, len(cmp.table.month.unique()), 10)


def _decorate_compare(cmp: Comparison, fig: Any, first: Axes, handles_of: Any) -> None:
    from sim import plotting
    from sim.fan import decorate

    handles, labels = handles_of(first)
    labels = [lab.replace("of draws", "of paired draws") for lab in labels]
    labels[-1] = "calendar deadline"
    note = plotting.footnote(cmp)  # type: ignore[arg-type]
    note += (
        f"\nPaired ensemble of {cmp.draws:,} draws, seed {cmp.seed}: both variants see the "
        "same draws of every input they share (common random numbers). Percentiles are "
        "exact over the draws."
    )
    decorate(
        fig,
        f"{cmp.scenario.doc.title}: {cmp.b} against {cmp.a}",
        f"Troops under {cmp.b} (B) minus troops under {cmp.a} (A) in the same draw, at the "
        f"end of each month, over {cmp.draws:,} paired draws of the uncertain inputs.",
        handles,
        labels,
        note,
    )
