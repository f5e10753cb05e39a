"""The short table ``forcesim run`` prints."""

from __future__ import annotations

import click

from sim.results import Result, key_months


def summary_lines(result: Result) -> list[str]:
    months = key_months(result)
    cols = [(t, m) for t in result.theaters for m in months]
    df = result.monthly
    width = max(len(v) for v in result.variants) + 2
    cw = max(16, *(len(t) + len(m) + 3 for t, m in cols))
    head = " " * width + "".join(f"{t + ' ' + m:>{cw}}" for t, m in cols) + "   milestones"
    lines = [
        f"{result.scenario.id}: {result.scenario.title}",
        "troops at the end of each month"
        + (
            f"; ensemble of {result.draws:,} draws (seed {result.seed}), deterministic "
            "central run shown"
            if result.draws
            else ""
        ),
        head,
    ]
    for v in result.variants:
        rows = df[df.variant == v]
        cells = []
        for t, m in cols:
            hit = rows[(rows.theater == t) & (rows.month.astype(str) == m)].troops
            cells.append(f"{int(hit.iloc[0]):>{cw},}" if len(hit) else f"{'-':>{cw}}")
        ms = result.milestones[result.milestones.variant == v]
        marks = []
        originals = _original_deadlines(result, v)
        for _, r in ms.iterrows():
            deadline = str(r.deadline)
            original = originals.get(r.milestone, deadline)
            when = deadline if deadline == original else f"{deadline}, slipped from {original}"
            state = f"met ({when})" if r.met else f"MISSED ({when}; reached {r.month_reached})"
            if "p_met" in ms.columns:
                state += f", p={r.p_met:.2f} by {original}"
            marks.append(f"{r.milestone} {state}")
        lines.append(f"{v:<{width}}" + "".join(cells) + "   " + ("; ".join(marks) or "-"))
    return lines


def _original_deadlines(result: Result, variant: str) -> dict[str, str]:
    """Each milestone's deadline without the announcement's slip, ``YYYY-MM``."""
    from sim.months import format_month

    plan, out = result.plans[variant], result.central[variant]
    return {
        m.id: format_month(plan.start + int(out.original[0, j]))
        for j, m in enumerate(plan.milestones)
    }


def print_summary(result: Result) -> None:
    for line in summary_lines(result):
        click.echo(line)
