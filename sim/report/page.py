"""The page: one HTML file holding a run's charts, tables, sources and settings.

Everything the page needs is inside it: plotly.js (compressed: :func:`_plotly_js`),
the style sheet, the script and the data, so it opens offline and makes no network
request. Its sections, in order: the variants; the envelope chart; the fan chart (an
ensemble); the fan weighted by the reports (a conditioned ensemble); milestones and
threshold dates; observations (a run with observations); sources and assumptions with
the numbers resting on each; the scenario as run (resolved YAML) and how it was run
(version, seed, command line). Each chart is followed by a table of the numbers it
shows.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
import gzip
import html
import math
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from sim import colors
from sim.analysis.observed import Assessment, conditioned_result
from sim.errors import ScenarioError
from sim.export import (
    chosen_rows,
    chosen_variants,
    has_table,
    read_record,
    read_table,
    rebuild_scored,
    refuse_page,
    refuse_unknown,
    table_rows,
)
from sim.io.files import (
    CSV_ROWS,
    atomic_file,
    float_text,
    in_utf8,
    not_a_directory,
    path_argument,
    record_files,
    refuse_overwrite,
)
from sim.io.numbers import exact_percent
from sim.months import spell_date, spell_day
from sim.plotting.common import (
    DEADLINE_KEY,
    base_deadlines,
    distinct_names,
    fan_series,
    line_notes,
    median_notes,
    panel_deadlines,
    plan_series,
    series_keys,
    theater_title,
    theaters_then_sites,
)
from sim.plotting.envelope import ALIKE_KEY, shared_runs
from sim.plotting.fan import CENTRAL_READING, DEADLINE_LABEL
from sim.plotting.observed import (
    CENTRAL_UNWEIGHTED,
    as_of_of,
    left_out_note,
    not_known_label,
    observations_of,
    visible,
)
from sim.provenance import Provenance, number_sources, provenance
from sim.report.charts import AS_OF, as_of_line, envelope_figure, fan_figure, month_ends
from sim.results import Result

if TYPE_CHECKING:
    from sim.io.observations import Observation
    from sim.model.plan import Plan

#: the largest page forcesim writes [bytes]; plotly.js takes about 1.96 MB of it
#: (4.8 MB unpacked: :func:`_plotly_js`)
MAX_BYTES = 6_000_000
#: the fewest bytes the page spends on a row of ``monthly.csv`` besides its level's digits:
#: its cell in the envelope table, ``<td></td>``, and a separator in the chart's list (each
#: digit is written twice, once in each; each thousands separator once, in the table)
LEVEL_BYTES = len("<td></td>") + len(",")
#: the fewest bytes the page spends on a row of ``bands.csv``: a row of its fan table, the
#: month and nine numbers (p05 to p95, the mean, the central run; the chart's not counted)
BAND_ROW_BYTES = len("<tr><th scope='row'>2024-01</th></tr>") + 9 * len("<td>0</td>")
#: the fewest bytes of a row of the envelope table besides its levels: its month
MONTH_ROW_BYTES = len("<tr><th scope='row'>2024-01</th></tr>")
#: the fewest bytes the fan chart spends on a row of ``bands.csv``: 13 numbers (the three
#: bands' edges, the median, and the edges again in its hover data), each at least one
#: byte of a typed array, which plotly writes in base64 (4 characters per 3 bytes)
FAN_ROW_BYTES = 13 * 4 // 3
SCORING_ROWS = 500
"""The most rows of ``observed.csv`` the page lists per variant (the file holds them all):
10,000 reports of one theater made a table of 4.3 MB and a page over MAX_BYTES."""

# column headings of the tables (a column not named here keeps its CSV name)
MILESTONE_HEADINGS = {
    # (the central run's: "met" by the deadline after any slip, beside P(met) by the one
    # before any delay, where a slipping variant reads "yes" beside 0 %)
    "deadline": "deadline (after any slip)",
    "met": "met by that deadline (central run)",
    "month_reached": "reached",
    "p_met": "P(met by the original deadline)",
    "p_met_conditioned": "P(met), conditioned",
    "target": "target [troops]",
}
DATE_HEADINGS = {
    "level": "level [troops]",
    "p10": "10 % of draws by",
    "p50": "50 % by",
    "p80": "80 % by",
    "p90": "90 % by",
    "never": "never within the horizon",
}
#: columns holding a share of draws (0 to 1), shown as a percentage, every digit kept
SHARES = {"p_met", "p_met_conditioned", "never", "p_consistent", "p_consistent_conditioned"}
#: the page's headings of observed.csv's columns, in words (each heading's tooltip is
#: the file's own name: a reader of the page is not a reader of the CSV)
OBSERVED_HEADINGS = {
    "troops_low": "troops, low",
    "troops_high": "troops, high",
    "level": "central run [troops]",
    "consistent": "central run consistent",
    "percentile_rank": "percentile rank [%]",
    "in_band80": "in the 10th–90th band",
    "p_consistent": "draws consistent",
    "p_consistent_conditioned": "draws consistent, weighted",
    "by": "due by",
    "accept_low": "accepted from",
    "accept_high": "accepted to",
}


def esc(value: Any) -> str:
    """Text for HTML, escaped."""
    return html.escape(str(value))


def report_html(
    run_dir: Path,
    record: dict[str, Any] | None = None,
    *,
    variants: Iterable[str] | str | None = None,
    theaters: Iterable[str] | str | None = None,
) -> str:
    """The page of a run directory, as HTML text.

    Parameters
    ----------
    run_dir : pathlib.Path
        A directory written by ``forcesim run`` (:func:`sim.write_run`).
    record : dict, optional
        Its ``run.json`` document; read from the directory when omitted.
    variants : str or iterable of str, optional
        Show only these of the run's variants, in this order (default: every one).
    theaters : str or iterable of str, optional
        Show only these theaters' panels and table rows, or a site's as
        ``THEATER/SITE`` (``iraq/erbil``), in this order (default: every theater, each
        followed by its sites). The page says what it leaves out.

    Returns
    -------
    str
        One self-contained HTML document.

    Raises
    ------
    sim.ScenarioError
        When ``run_dir`` is not a run directory (:func:`sim.export.read.refuse_page`),
        or a variant or theater is not one of the run's (one line naming those it has).
    """
    if record is None:
        record = read_record(run_dir, page=True)
    else:
        refuse_page(run_dir, record)
    chosen = _chosen_variants(run_dir, record, variants)
    asked = _names(theaters, "theaters") or None
    result = rebuild_scored(run_dir, record, chosen, asked)  # (their rows alone read)
    series = _chosen_series(run_dir, result, chosen, asked)
    observed = read_table(run_dir, "observed") if has_table(run_dir, "observed") else None
    return Page(result, record, observed, variants=chosen, theaters=series).html()


def _and(names: list[str]) -> str:
    """Names as a list in prose: ``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _names(names: Iterable[str] | str | None, parameter: str) -> list[str]:
    """The names a caller chose (one name, or several) for the function's ``parameter``,
    each once in the order given; empty for none."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [names]  # "iraq": that theater, not its letters
    if not isinstance(names, Iterable):  # (5, say: one line, not a TypeError)
        raise ScenarioError(
            "a name, or names, as text", repr(names)[:60], file="<arguments>", path=parameter
        )
    out = []
    for name in names:
        if not isinstance(name, str):
            raise ScenarioError(
                "names as text",
                repr(name)[:60],
                file="<arguments>",
                path=parameter,
            )
        if name not in out:
            out.append(name)
    return out


def _chosen_variants(
    run_dir: Path, record: dict[str, Any], variants: Iterable[str] | str | None
) -> list[str] | None:
    """The variants chosen, checked against those the run's ``run.json`` lists
    (:func:`sim.export.read.chosen_variants`); None for every one."""
    return chosen_variants(run_dir, record, _names(variants, "variants"))


def _chosen_series(
    run_dir: Path, result: Result, chosen: list[str] | None, asked: list[str] | None
) -> list[str] | None:
    """The theaters and sites ``asked``, checked against those of the run's ``result``
    and, of them, those the ``chosen`` variants have (a site only other variants have
    has no rows to show); None for every one."""
    if not asked:
        return None
    every = plan_series(result)
    refuse_unknown(run_dir, "theaters", "theaters and sites", every, asked)
    known = plan_series(result, chosen)
    lacking = [n for n in asked if n not in known]
    if chosen is not None and lacking:
        raise ScenarioError(
            f"theaters and sites the variants chosen have ({_and(chosen)} in {run_dir}: "
            f"{', '.join(known)})",
            ", ".join(repr(n) for n in lacking) + ", which only other variants have",
            file="<arguments>",
            path="theaters",
        )
    return asked


def _select(r: Result, variants: list[str] | None, series: list[str] | None) -> Result:
    """``r`` holding only the ``variants`` (those of them it has, in that order, its
    frames' rows too) and the rows of the theaters and sites ``series`` (None: every
    one)."""
    keep = [v for v in variants if v in r.variants] if variants is not None else list(r.variants)

    def rows(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else _rows(frame, keep, series, variants is not None)

    monthly, milestones = rows(r.monthly), rows(r.milestones)
    assert monthly is not None and milestones is not None
    return dataclasses.replace(
        r,
        variants=keep,
        monthly=monthly,
        milestones=milestones,
        bands=rows(r.bands),
        dates=rows(r.dates),
        plans={v: r.plans[v] for v in keep},
    )


def _rows(
    frame: pd.DataFrame, variants: list[str], series: list[str] | None, ordered: bool
) -> pd.DataFrame:
    """The rows of ``frame`` of ``variants`` and of the theaters and sites ``series``
    (None: every one; :func:`sim.export.chosen_rows`), and when ``ordered`` the
    variants' rows in the order of ``variants`` (as the charts have them), each
    variant's as they were."""
    mask = chosen_rows(frame, variants, series)
    if not ordered or "variant" not in frame:
        return frame[mask]
    rank = frame["variant"][mask].astype(str).map({v: i for i, v in enumerate(variants)})
    return frame[mask].iloc[np.argsort(rank.to_numpy(), kind="stable")]


class Page:
    """The HTML of one run's page, section by section."""

    def __init__(
        self,
        result: Result,
        record: dict[str, Any],
        observed: pd.DataFrame | None,
        *,
        variants: list[str] | None = None,
        theaters: list[str] | None = None,
    ) -> None:
        self.whole = result  # (the run as it is, for what the page leaves out)
        self.chosen = variants
        self.series = theaters  # the panels, in order; None: every theater and site
        selected = variants is not None or theaters is not None
        self.result = _select(result, variants, theaters) if selected else result
        self.record = record
        if observed is not None and selected:
            observed = _rows(observed, self.result.variants, theaters, variants is not None)
        self.observed = observed
        self.doc = result.scenario.doc
        # (a fan of the sites chosen needs their percentiles: a run without them has none)
        self.ensemble = result.bands is not None and bool(self.fan_panels(self.result))
        # the conditioned ensemble, when the run was conditioned and kept some variant
        # (of those chosen)
        assessment = result.observed
        cond = (
            conditioned_result(result, assessment) if isinstance(assessment, Assessment) else None
        )
        if cond is not None and selected:
            cond = _select(cond, variants, theaters)
            cond = cond if cond.variants and self.fan_panels(cond) else None
        self.cond = cond

    def panels(self, r: Result) -> list[str]:
        """The envelope's panels (and its tables'): the theaters and sites chosen, else
        each theater followed by its sites."""
        return list(self.series) if self.series is not None else series_keys(r)

    def fan_panels(self, r: Result) -> list[str]:
        """A fan chart's panels: those of :meth:`panels` that ``r.bands`` holds (a site's
        percentiles are kept only for some runs), else :func:`fan_series`."""
        if self.series is None:
            return fan_series(r)
        have = set() if r.bands is None else set(distinct_names(r.bands.theater))
        return [k for k in self.series if "/" not in k or k in have]

    def _left_out(self, cond: Result) -> dict[str, list[Observation]]:
        """Per conditioned variant, the reports its conditioned fan rings: drawn in its
        panels, but left out of its weights (:meth:`Assessment.left_out`)."""
        a = self.result.observed
        if not isinstance(a, Assessment):
            return {}
        months = next(iter(cond.plans.values())).months
        drawn = {o for k in self.fan_panels(cond) for o in visible(a.observations.items, k, months)}
        return {v: [o for o in out if o in drawn] for v, out in a.left_out(cond.variants).items()}

    # ------------------------------------------------------------ the whole page

    def html(self) -> str:
        # (an ensemble's page leads with its range of outcomes, the reports' weighted one
        # first: the numbers to quote; the central runs of every variant follow, the
        # overview of the readings. A reader of the central run alone had taken one path
        # for the projection)
        sections = []
        if self.cond is not None:
            sections.append(
                (
                    "fan-conditioned",
                    "Range of outcomes, weighted by the reports",
                    self.conditioned(),
                )
            )
        if self.ensemble:
            sections.append(("fan", "Range of outcomes", self.fan()))
        sections.append(("envelope", "Troops month by month", self.envelope()))
        sections.append(("milestones", "Milestones", self.milestones()))
        if self.observed is not None:
            sections.append(("observed", "Observations", self.observations()))
        sections += [
            ("sources", "Sources and assumptions", self.sources()),
            ("scenario", "The scenario as run", self.scenario()),
        ]
        nav = "".join(f'<li><a href="#{k}">{esc(t)}</a></li>' for k, t, _ in sections)
        body = "".join(
            f'<section id="{k}" aria-labelledby="{k}-h"><h2 id="{k}-h">{esc(t)}</h2>{s}</section>'
            for k, t, s in sections
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(self.doc.title)} · forcesim</title>"
            f'<meta name="description" content="{esc(self.lead_text())}">'
            f"<style>{_asset('page.css')}</style></head>"
            f'<body><header class="top">{self.header()}'
            f'<nav aria-label="Contents"><ul>{nav}</ul></nav></header>'
            f"<main>{body}</main>"
            f"<footer>{self.footer()}</footer>"
            + "<noscript><p>The charts need JavaScript; the tables under each chart hold "
            "the same numbers.</p></noscript>"
            + self.figures()
            + f'<script type="application/gzip" id="plotly-js">{_plotly_js()}</script>'
            + f"<script>{_asset('page.js')}</script>"
            + "</body></html>\n"
        )

    def lead_text(self) -> str:
        r = self.result
        kind = (
            f"an ensemble of {r.draws:,} random draws of the uncertain inputs (seed {r.seed})"
            if self.ensemble
            else "each input at its central value"
        )
        news = as_of_of(r)
        return (
            f"Projected troops at the end of each month under {len(r.variants)} "
            f"reading{'s' if len(r.variants) != 1 else ''} of the plan "
            f"(variant{'s' if len(r.variants) != 1 else ''}), "
            f"{kind}; as of {spell_date(self.doc.as_of)}"
            + (f", with the reports known on {spell_day(news)}." if news is not None else ".")
        )

    def header(self) -> str:
        rec = self.record
        return (
            f"<h1>{esc(self.doc.title)}</h1>"
            f'<p class="lead">{esc(self.lead_text())}</p>'
            + self.left_out()
            + f'<p class="meta">Scenario <code>{esc(self.doc.id)}</code> · forcesim '
            f"{esc(rec.get('forcesim_version', '?'))} · run {esc(rec.get('time', '?'))}. "
            "A forcesim projection, not a forecast of record.</p>"
        )

    def footer(self) -> str:
        return (
            "<p>Made with forcesim from the files of one run directory; "
            f"<code>{esc(self.command())}</code> makes this page again. Levels are whole "
            "troops at the end of each month.</p>"
        )

    def command(self) -> str:
        """The command line that makes this page: ``forcesim report RUN_DIR`` and the
        variants and theaters chosen."""
        words = ["forcesim", "report", "RUN_DIR"]
        for v in self.chosen or ():
            words += ["--variant", v]
        for t in self.series or ():
            words += ["--theater", t]
        return shlex.join(words).replace("'RUN_DIR'", "RUN_DIR")

    def left_out(self) -> str:
        """What a page of some variants or theaters leaves out, under the lead: those it
        shows, of how many, and the command for the page of the whole run ("" for
        that page)."""
        if self.chosen is None and self.series is None:
            return ""
        parts = []
        every = list(self.whole.variants)
        if self.chosen is not None and len(self.chosen) < len(every):
            n = len(self.chosen)
            parts.append(
                f"{n} of the run's {len(every):,} variants"
                + (":" if n > 1 else ",")
                + f" {_and(self.chosen)}"
            )
        known = plan_series(self.whole)
        if self.series is not None and len(self.series) < len(known):
            n = len(self.series)
            names = _and([theater_title(self.whole, t) for t in self.series])
            kinds = "theaters and sites" if any("/" in k for k in known) else "theaters"
            parts.append(
                f"{n} of {'its' if parts else 'the run' + chr(39) + 's'} "
                f"{len(known):,} {kinds}" + (":" if n > 1 else ",") + f" {names}"
            )
        if not parts:  # every one chosen, in another order: nothing left out
            return ""
        return (
            '<p class="selection"><strong>Part of the run.</strong> This page shows '
            f"{esc('; and '.join(parts))}. Its charts and tables leave the others out; the "
            "run's CSV files hold them all, and <code>forcesim report RUN_DIR</code> makes "
            "the page of the whole run.</p>"
        )

    def figures(self) -> str:
        """The chart data, as JSON the page's script hands to plotly.js."""
        cond = self.cond
        figs: dict[str, Callable[[], Any]] = {
            "envelope": lambda: envelope_figure(self.result, theaters=self.series)
        }
        if self.ensemble:
            figs["fan"] = lambda: fan_figure(self.result, theaters=self.fan_panels(self.result))
        if cond is not None:
            figs["fan-conditioned"] = lambda: fan_figure(
                cond, theaters=self.fan_panels(cond), left_out=self._left_out(cond)
            )
        out = []
        for key, draw in figs.items():  # (one figure held at a time)
            text = _shared_x(draw().to_json(pretty=False, engine="json"))
            text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            out.append(f'<script type="application/json" id="{key}-chart-data">{text}</script>')
        return "".join(out)

    # ------------------------------------------------------------ sections

    def variants(self) -> str:
        palette = colors.run_colors(self.result)
        rows = "".join(
            f'<tr><th scope="row"><span class="swatch" style="--c:{palette[v]}"></span>'
            f"{esc(v)}</th><td>{esc(self._describe(v))}</td></tr>"
            for v in self.result.variants
        )
        return (
            '<h3 id="variants">The variants</h3>'
            "<p>Each variant is one reading of the plan: the same scenario with some "
            "inputs changed, in the colour of its line.</p>"
            + _scroll(
                "<table class='prose'><caption>Variants</caption><thead><tr>"
                "<th scope='col'>variant</th><th scope='col'>what it changes</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
        )

    def _describe(self, v: str) -> str:
        try:
            return self.result.scenario.describe(v)
        except (ScenarioError, AttributeError):  # a variant the scenario lacks: no text
            return ""

    def envelope(self) -> str:
        r = self.result
        palette = colors.run_colors(r)
        boxes = "".join(
            f'<label><input type="checkbox" checked value="{esc(v)}">'
            f'<span class="swatch" style="--c:{palette[v]}"></span>{esc(v)}</label>'
            for v in r.variants
        )
        several = len(r.variants) > 1  # (one variant has no range across variants)
        shading = (
            "range",
            colors.css(colors.rgb(colors.RANGE), colors.RANGE_ALPHA),
            "range across the variants shown",
        )
        panels = self.panels(r)
        together = self._runs_together(r, panels)
        # (what the panels shown draw: a page of one theater may have no milestone)
        key = _key(
            ([shading] if several else [])
            + (
                [("diamond", colors.TARGET, "milestone target at its deadline")]
                if r.milestones.theater.isin(panels).any()
                else []
            )
            + (
                [("dotted", colors.DEADLINE, DEADLINE_KEY)]
                if any(base_deadlines(r, tid) for tid in panels)
                else []
            )
            + (
                [("alike", ";--d:".join(palette[v] for v in together[:2]), ALIKE_KEY)]
                if together
                else []
            )
            + (
                [("dashed", "#555555", "each variant's official figure, where it differs")]
                if self._official_differs()
                else []
            )
            + self._as_of_key(r)
            + self._observed_key()
        )
        names = ", ".join(theater_title(r, t) for t in panels)
        alt = (
            f"Line chart, one panel per theater or site ({names}): troops at the end of "
            "each month, one line per variant. The table below the chart lists every value."
        )
        read = " ".join(line_notes(r, panels, list(r.variants)))
        lead = (
            "One line per variant; the shading spans the lowest to the highest of the "
            "variants shown."
            if several
            else f"One line, of the variant {esc(r.variants[0])}."
        )
        return (
            f"<p>{lead} {esc(read) + ' ' if read else ''}"
            "Hover over (or tap) the chart for each variant's level that month.</p>"
            f'<fieldset class="toggles"><legend>Variants shown</legend>{boxes}'
            '<span class="all"><button type="button" data-all="1">all</button>'
            '<button type="button" data-all="0">none</button></span></fieldset>'
            f"{key}"
            f'<figure><div class="chart" id="envelope-chart" style="--rows:{len(panels)}" '
            f'role="img" aria-label="{esc(alt)}"></div>'
            f"<figcaption>{esc(self.caption())}</figcaption></figure>"
            + _details("The numbers in this chart", self.envelope_tables())
            + self.variants()
        )

    @staticmethod
    def _runs_together(r: Result, panels: list[str]) -> list[str]:
        """The variants of the first lines that run along the same path in a panel of
        ``panels`` (drawn there in dashes of each one's colour: the key says so), or an
        empty list."""
        m = r.monthly
        for tid in panels:
            wide = m[m.theater == tid].pivot(index="month", columns="variant", values="troops")
            for group, _, _ in shared_runs(wide):
                return [str(wide.columns[k]) for k in group]
        return []

    def _official_differs(self) -> bool:
        """Whether some official figure leaves troops out (the charts then draw it)."""
        m = self.result.monthly
        return "official" in m and bool((m.official != m.troops).any())

    def _as_of_key(self, r: Result) -> list[tuple[str, str, str]]:
        """The key's entry for the solid line at the scenario's as-of date, when the
        charts of ``r`` draw it (:func:`sim.report.charts.as_of_line`): a panel with no
        room for its label draws the line alone, and the key says what it is."""
        line = as_of_line(r, month_ends(sorted(r.monthly.month.astype(str).unique())))
        return [] if line is None else [("vline", AS_OF, line[1])]

    def _observed_key(self) -> list[tuple[str, str, str]]:
        """The key's entries for the observations drawn: the shapes, each kind shown,
        and with an as-of date what was known then, what came later, and the line."""
        obs = observations_of(self.result)
        if obs is None:
            return []
        items = [
            (
                "dot",
                colors.OBSERVED,
                "reported: a level, a range (bar) or \u201cfewer/more than\u201d (arrow), "
                "at the end of its month",
            )
        ]
        kinds = {o.kind for o in obs.items}
        # (an open-ended one is an arrow in its kind's colour, as a report's is in black)
        arrow = {o.kind for o in obs.items if o.shape in ("at most", "at least")}
        if "official" in kinds:
            items.append(
                (
                    "square",
                    colors.OFFICIAL,
                    "official figure (declared)"
                    + (", an arrow where open-ended" if "official" in arrow else ""),
                )
            )
        if "target" in kinds:
            items.append(
                (
                    "diamond solid",
                    colors.PROMISED,
                    "target or promise, when it is due"
                    + (", an arrow where open-ended" if "target" in arrow else ""),
                )
            )
        as_of = as_of_of(self.result)
        if as_of is not None:
            known = {o.known(as_of) for o in obs.items}
            if len(known) > 1:
                items.append(("dot", colors.OBSERVED, f"known on {spell_day(as_of)} (filled)"))
                hollow = not_known_label(obs.items, as_of)
                items.append(("hollow", colors.OBSERVED, f"{hollow} (hollow)"))
            items.append(("dashdot", AS_OF, f"reports known on {spell_day(as_of)}"))
        return items

    def caption(self, weighted: bool = False) -> str:
        """A chart's caption: the date and the sources; a chart ``weighted`` by the
        reports names the date they were known on too."""
        names, others = number_sources(self.result.scenario, list(self.result.variants))
        sources = "; ".join(names)
        # (the others, the record's reports say, may be dated after the as-of date)
        rest = (
            f" The scenario also lists {others:,} source{'' if others == 1 else 's'} no "
            "number shown cites."
            if (others)
            else ""
        )
        news = as_of_of(self.result) if weighted else None
        day = spell_date(self.doc.as_of)
        when = f"Scenario as of {day}"
        if news is not None:
            when += f", conditioned on reports known on {spell_day(news)}."
        else:
            when += ", conditioned on every report given." if weighted else "."
        return (
            f"{when} Sources of its numbers: {sources or 'none cited'}.{rest} Troops at the "
            "end of each month."
        )

    def envelope_tables(self) -> str:
        r = self.result
        out = []
        for tid in self.panels(r):  # (each theater, then its sites; or those chosen)
            rows = r.monthly[r.monthly.theater == tid]
            wide = rows.pivot(index="month", columns="variant", values="troops")
            wide = wide[[v for v in r.variants if v in wide.columns]]
            title = theater_title(r, tid)
            out.append(
                f"<h3>{esc(title)}</h3>"
                + _table(
                    # a variant may be called month: the columns are told apart by place
                    wide.reset_index(allow_duplicates=True),
                    caption=f"{title}: troops at the end of each month, by variant",
                )
            )
        return "".join(out)

    def fan(self) -> str:
        r = self.result
        return self._fan_section(r, "fan", self.fan_tables(r))

    def conditioned(self) -> str:
        """The conditioned fan: the bands of the draws weighted by the reports."""
        cond = self.cond
        assert cond is not None and isinstance(self.result.observed, Assessment)
        a = self.result.observed
        c = a.conditioned
        assert c is not None
        when = f" known on {spell_day(a.as_of)}" if a.as_of is not None else ""
        used = a.weighing_count(list(cond.variants))
        left = [v for v in self.result.variants if v not in cond.variants]
        effective = ", ".join(f"{v} {c.effective[v]:,.1f}" for v in cond.variants)
        lead = (
            f"<p>Each draw weighted by how many of the {used} report{'' if used == '1' else 's'}"
            f"{esc(when)} it misses "
            f"(each taken as right within {esc(a.tolerance)} with probability "
            f"{exact_percent(1 - c.error)}). Effective draws, the unweighted draws the "
            f"weighted set is worth: {esc(effective)} of {c.draws:,}."
            + (
                f" Left out for fewer than 30 effective draws: {esc(', '.join(left))}."
                if left
                else ""
            )
            + "</p>"
        )
        ringed = {f"{o.date} {o.theater}" for out in self._left_out(cond).values() for o in out}
        if ringed:
            note = left_out_note(cond, a, cond.variants, ringed=True, drawn=ringed, each="variant")
            lead += f'<p class="left-out">{esc(note)}</p>'
        dates = ""
        if cond.dates is not None and not cond.dates.empty:  # (dates_conditioned.csv)
            dates = (
                '<h4 id="dates-conditioned">Threshold dates, weighted by the reports</h4>'
                "<p>As the threshold dates under the milestones, over the same weighted "
                "draws as this fan: the month by which 10, 50, 80 and 90 % of the weight "
                "is first at or below each level, and the weighted share that never gets "
                "there.</p>"
                + _table(
                    cond.dates.drop(columns=["scenario"], errors="ignore"),
                    caption="Threshold dates, weighted by the reports",
                    headings={**DATE_HEADINGS, "p10": "10 % of the weight by"},
                )
            )
        return (
            lead
            + self._fan_section(
                cond,
                "fan-conditioned",
                self.fan_tables(cond, weighted=True),
                self.caption(weighted=True),
            )
            + dates
        )

    def _fan_section(self, r: Result, key: str, tables: str, caption: str | None = None) -> str:
        """A fan chart's picker, key, chart, caption (default :meth:`caption`) and
        tables (``key``: its ids' stem)."""
        options = "".join(
            f'<option value="{esc(v)}" data-description="{esc(self._describe(v))}">'
            f"{esc(v)}</option>"
            for v in r.variants
        )
        panels = self.fan_panels(r)
        dated = any(panel_deadlines(r.plans[v], tid) for v in r.variants for tid in panels)
        legend = _key(
            [
                ("band", colors.css(colors.mix(colors.FAN_HUE, amount)), label)
                for _, _, label, amount in colors.BANDS
            ]
            + [
                ("line", colors.MEDIAN, "median of the draws"),
                (
                    "dashed",
                    colors.CENTRAL,
                    CENTRAL_UNWEIGHTED if key != "fan" else f"central run ({CENTRAL_READING})",
                ),
            ]
            + ([("dotted", colors.DEADLINE, DEADLINE_LABEL)] if dated else [])
            + (
                [("dashed", colors.OFFICIAL, "official figure (central run)")]
                if self._official_differs()
                else []
            )
            + self._as_of_key(r)
            + self._observed_key()
        )
        per = "theater or site" if any("/" in k for k in panels) else "theater"
        alt = (
            f"Fan chart, one panel per {per}, for the variant chosen above: the 5th to 95th, "
            f"10th to 90th and 25th to 75th percentiles of {r.draws:,} draws, the median of "
            "the draws and the central run. "
            "The table below the chart lists every value."
        )
        first = r.variants[0]
        return (
            f"<p>{r.draws:,} random draws of every uncertain input (seed {r.seed}); every "
            "variant sees the same draws. Percentiles are exact over the draws. "
            + "".join(esc(n) + " " for n in median_notes(r, panels, list(r.variants)))
            + "Hover over (or tap) the chart for the median and each band's edges that "
            "month.</p>"
            f'<div class="picker"><label for="{key}-variant">Variant</label>'
            f'<select id="{key}-variant">{options}</select>'
            f'<p id="{key}-description" aria-live="polite">{esc(self._describe(first))}</p>'
            "</div>"
            f"{legend}"
            f'<figure><div class="chart" id="{key}-chart" style="--rows:{len(panels)}" '
            f'role="img" aria-label="{esc(alt)}"></div>'
            f"<figcaption>{esc(caption or self.caption())}</figcaption></figure>"
            + _details("The numbers in this chart", tables)
        )

    def fan_tables(self, r: Result, *, weighted: bool = False) -> str:
        """The numbers of a fan chart of ``r``: each theater's (then each of its sites')
        and variant's percentiles; ``weighted``: of the draws weighted by the reports,
        as each table's caption says (the plain and weighted tables' captions were
        alike)."""
        draws = "the draws weighted by the reports" if weighted else "the draws"
        assert r.bands is not None
        cols = ["month", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "mean", "central run"]
        out = []
        for tid in self.fan_panels(r):
            out.append(f"<h3>{esc(theater_title(r, tid))}</h3>")
            for v in r.variants:
                b = r.bands[(r.bands.variant == v) & (r.bands.theater == tid)]
                m = r.monthly[(r.monthly.variant == v) & (r.monthly.theater == tid)]
                frame = b.merge(
                    m[["month", "troops"]].rename(columns={"troops": "central run"}),
                    on="month",
                    how="left",
                )
                out.append(
                    f"<h4>{esc(v)}</h4>"
                    + _table(
                        frame[cols].sort_values("month"),
                        caption=f"{theater_title(r, tid)}, {v}: percentiles of {draws} [troops]",
                        headings={"p50": "p50 (median)"},
                    )
                )
        return "".join(out)

    def milestones(self) -> str:
        r = self.result
        ms = r.milestones.drop(columns=["scenario"], errors="ignore")
        parts = [
            "<p>Each milestone of each variant: its deadline after any slip, the level it "
            "brings its theater to, when the central run gets there and whether that is "
            "by the deadline"
            + (
                "; P(met) is the share of draws reaching their own target by the original "
                "(unslipped) deadline: each draw's drawn cut, any advisory presence that "
                "stays allowed, so it can differ from the threshold dates below, which "
                "hold every draw to the central run's level."
                if "p_met" in ms.columns
                else "."
            )
            + " Shares are shown to a tenth of a percent; the CSV files hold them as "
            "computed.</p>",
            _table(ms, caption="Milestones", headings=MILESTONE_HEADINGS),
        ]
        if ms.empty:  # (a page of part of a run: a theater no milestone is on)
            parts = [
                "<p>None: no milestone of the run is on the theaters and variants this page "
                "shows (<code>forcesim report RUN_DIR</code> makes the page of the whole "
                "run).</p>"
            ]
        if r.dates is not None and not r.dates.empty:
            dates = r.dates.drop(columns=["scenario"], errors="ignore")
            parts += [
                '<h3 id="dates">Threshold dates</h3>',
                "<p>For each threshold, the month by which 10, 50, 80 and 90 % of the draws "
                "are first at or below its level (— when that many never get there), and the "
                "share that never do within the horizon. The calendar's first month means "
                "that share of the draws is at or below the level from the start.</p>",
                _table(dates, caption="Threshold dates", headings=DATE_HEADINGS),
            ]
        return "".join(parts)

    def observations(self) -> str:
        assert self.observed is not None
        info = self.record.get("observed") or {}
        lines = []
        if info:
            origin = info.get("origin")
            tol = info.get("tolerance")
            lines.append(
                f"<p>{esc(info.get('observations', len(self.observed)))} observations"
                + (f" from <code>{esc(_shown_path(origin))}</code>" if origin else "")
                + (f", tolerance {esc(_tolerance(tol))}" if tol is not None else "")
                + ".</p>"
            )
        cond = info.get("conditioning") or {}
        effective = cond.get("effective_draws") or {}
        if self.chosen is not None:
            effective = {v: e for v, e in effective.items() if v in self.result.variants}
        if effective:
            draws = cond.get("draws") or 0
            rows = pd.DataFrame(
                [
                    {
                        "variant": v,
                        "draws": draws,
                        "effective draws": round(e, 1),  # (a tenth, as the command prints it)
                        "share": _share(e, draws) if draws else None,
                    }
                    for v, e in effective.items()
                ]
            )
            when = as_of_of(self.result)  # (the record's observed.as_of, read and checked)
            lines.append(
                "<h3>Conditioning</h3><p>Each draw weighted by how many of the reports "
                + (f"known on {spell_day(when)} " if when else "")
                + "it misses (each taken as right within its tolerance"
                + f"{esc(_right_chance(cond.get('error_rate')))}); the effective number of draws "
                "the weighted set is worth, per variant.</p>"
                + _table(rows, caption="Effective draws after conditioning", shares={"share"})
            )
        table = self.observed.drop(columns=["scenario"], errors="ignore")
        lines.append("<h3>Scoring</h3>" + _scoring(table))
        return "".join(lines)

    def sources(self) -> str:
        entries = self._provenance()
        all_variants = list(self.result.variants)
        by_source: dict[str, list[tuple[Provenance, list[str]]]] = {}
        by_assumption: dict[str, list[tuple[Provenance, list[str]]]] = {}
        by_variant: list[tuple[Provenance, list[str]]] = []
        unsupported: list[tuple[Provenance, list[str]]] = []
        for p, vs in entries:
            if p.kind == "source" and p.source_id:
                by_source.setdefault(p.source_id, []).append((p, vs))
            elif p.kind == "assumption":
                by_assumption.setdefault(p.assumption or "", []).append((p, vs))
            elif p.kind == "variant":
                by_variant.append((p, vs))
            else:
                unsupported.append((p, vs))
        # each input (key and value) counted once, however many variants set it and for
        # whatever reason each gives, as the charts' footers and `forcesim sources` count
        citing = {(p.path, p.value) for group in by_source.values() for p, _ in group}
        resting = {(p.path, p.value) for group in by_assumption.values() for p, _ in group}
        resting |= {(p.path, p.value) for p, _ in by_variant}
        neither = {(p.path, p.value) for p, _ in unsupported}
        parts = [
            f"<p>What each number of the run rests on: {len(citing | resting | neither)} "
            f"numbers (a number the variants share counted once), {len(citing)} citing a "
            f"source, {len(resting)} resting on an assumption, {len(neither)} on "
            "neither.</p>",
            "<h3>Sources</h3>",
        ]
        for s in self.doc.sources:
            meta = ", ".join(str(x) for x in (s.publisher, s.date) if x)
            # a web address linked (its scheme in any case: HTTPS:// is one); any other
            # (www.…, doi:…) shown as written, not linked: a javascript: one runs nothing
            link = (
                f' <a href="{esc(s.url)}" rel="noopener noreferrer">{esc(s.url)}</a>'
                if s.url and str(s.url).lower().startswith(("http://", "https://"))
                else f" · address: {esc(s.url)}"
                if s.url
                else ""
            )
            quote = f"<blockquote>{esc(s.quote)}</blockquote>" if s.quote else ""
            cited = by_source.get(s.id, [])
            # (a source no number cites may still be named in an assumption's reasons,
            # and one dated after the scenario is context, not what it was built on)
            later = (
                f" It is dated after the scenario's as-of date ({esc(spell_date(self.doc.as_of))})."
                if s.date is not None and _later(s.date, self.doc.as_of)
                else ""
            )
            named = sorted(
                {
                    p.path
                    for p, _ in entries
                    if p.kind == "assumption" and _names_source(p.assumption, s.id)
                }
            )
            codes = [f"<code>{esc(n)}</code>" for n in named]
            uncited = "<p>No number of this run cites it" + (
                f"; the assumption of {codes[0]} names it in its reasons."
                if len(codes) == 1
                else f"; the assumptions of {_and(codes)} name it in their reasons."
                if codes
                else "."
            )
            parts.append(
                f'<article class="source" id="source-{esc(s.id)}"><h4>{esc(s.title)}</h4>'
                f'<p class="meta"><code>{esc(s.id)}</code>{" · " + esc(meta) if meta else ""}'
                f"{link or ' · no public address given'}</p>{quote}"
                + (
                    (f"<p>{later.strip()}</p>" if later else "")
                    + "<p>Numbers that rest on it:</p>"
                    + _numbers(cited, all_variants, s.quote)
                    if cited
                    else uncited + later + "</p>"
                )
                + "</article>"
            )
        parts.append("<h3>Assumptions</h3>")
        if not by_assumption:
            parts.append("<p>None.</p>")
        for text, cited in by_assumption.items():
            parts.append(
                f'<article class="assumption"><p class="assumed">{esc(text)}</p>'
                "<p>Numbers that rest on it:</p>"
                + _numbers(cited, all_variants, None)
                + "</article>"
            )
        if by_variant:
            rows = pd.DataFrame(
                [
                    {"variant": ", ".join(vs), "number": p.path, "value": p.value}
                    for p, vs in by_variant
                ]
            )
            parts.append(
                "<h4>Set by a variant</h4><p>Numbers a variant's overrides set without a "
                "source or assumption of their own: the variant's description (under the "
                '<a href="#variants">variants</a>) is their reason.</p>'
                + _table(rows, caption="Numbers set by a variant")
            )
        if unsupported:
            parts.append(
                "<h3>Numbers with neither</h3><p>These cite no source and state no "
                "assumption.</p>" + _numbers(unsupported, all_variants, None)
            )
        return "".join(parts)

    def _provenance(self) -> list[tuple[Provenance, list[str]]]:
        """Every distinct (number, support) of the run, with the variants using it."""
        sc = self.result.scenario
        seen: dict[Provenance, list[str]] = {}
        for v in self.result.variants:
            for p in provenance(sc, v if v in sc.doc.variants else None):
                seen.setdefault(p, []).append(v)
        return list(seen.items())

    def scenario(self) -> str:
        rec = self.record
        sc = self.result.scenario
        ens = rec.get("ensemble") or {}
        command = rec.get("command")
        rows: list[tuple[str, str]] = [
            ("forcesim version", esc(rec.get("forcesim_version", "?"))),
            (
                "command line",
                "<code>"
                + esc(
                    " ".join(_shown(a) for a in command) if isinstance(command, list) else command
                )
                + "</code>",
            ),
            ("run at", esc(rec.get("time", "?"))),
        ]
        if ens:
            rows += [("draws", esc(f"{ens.get('draws'):,}")), ("seed", esc(ens.get("seed")))]
        inp = rec.get("input") or {}
        if inp.get("path"):
            rows.append(("scenario file", f"<code>{esc(_shown_path(inp['path']))}</code>"))
        if inp.get("sha256"):
            rows.append(("its sha256", f"<code class='hash'>{esc(inp['sha256'])}</code>"))
        for f in inp.get("files") or []:
            if f.get("path") != inp.get("path"):
                rows.append(("extends", f"<code>{esc(_shown_path(str(f.get('path'))))}</code>"))
        if rec.get("numpy_version"):
            rows.append(("numpy version", esc(rec["numpy_version"])))
        table = "".join(f"<tr><th scope='row'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        yaml_parts = [_details("The base scenario, resolved (YAML)", _pre(sc.to_yaml(None)))]
        each = "".join(
            _details(f"{v}", _pre(sc.to_yaml(v)))
            for v in self.result.variants
            if v in sc.doc.variants
        )
        if each:
            yaml_parts.append(_details("Each variant, resolved (YAML)", each))
        return (
            _scroll(
                f"<table class='settings'><caption>How this run was made</caption>{table}</table>"
            )
            + "<p>The scenario as it was run, after <code>extends</code> and each variant's "
            "overrides (from <code>run.json</code>):</p>" + "".join(yaml_parts)
        )


# ---------------------------------------------------------------- pieces


def _asset(name: str) -> str:
    return resources.files("sim.report").joinpath(name).read_text(encoding="utf-8")


def _shared_x(text: str) -> str:
    """A figure's JSON with each run of months its traces repeat written once: a trace's
    ``x`` becomes ``{"shared": i}``, the i-th list of ``sharedX``, which the page's
    script puts back before plotting (every panel and variant plots the same months,
    so this keeps large scenarios' pages small)."""
    import json

    fig = json.loads(text)
    shared: list[Any] = []
    where: dict[str, int] = {}
    for trace in fig.get("data", []):
        x = trace.get("x")
        if isinstance(x, list) and len(x) > 1:
            key = json.dumps(x)
            if key not in where:
                where[key] = len(shared)
                shared.append(x)
            trace["x"] = {"shared": where[key]}
    fig["sharedX"] = shared
    return json.dumps(fig, separators=(",", ":"), ensure_ascii=False)


@functools.cache
def _plotly_js() -> str:
    """plotly.js (4.8 MB) gzip-compressed (RFC 1952, no time stamp, so the same bytes each
    time) in base64 (RFC 4648): about 1.96 MB, which the page's script unpacks with the
    browser's ``DecompressionStream`` (Chrome and Edge 80, Firefox 113, Safari 16.4 and
    later) before it draws. Made once per process."""
    from plotly.offline import get_plotlyjs

    packed = gzip.compress(get_plotlyjs().encode("utf-8"), compresslevel=9, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def _scroll(inner: str) -> str:
    """A table that scrolls sideways on a narrow screen instead of widening the page."""
    return f'<div class="scroll" tabindex="0">{inner}</div>'


def _shown(argument: str) -> str:
    """A command-line argument as the page shows it: :func:`_shown_path`, quoted as a
    shell would need it (a name with a space), the ``…/`` left outside the quotes."""
    shown = _shown_path(argument)
    if shown == argument:
        return shlex.quote(argument)
    head, _, name = shown.rpartition("…/")
    return head + "…/" + shlex.quote(name)


def _shown_path(text: str) -> str:
    """A path as a page to share shows it: an absolute one by its name alone, after
    ``…/`` (its folders are the author's own: ``/home/jane/work/plan.yaml`` shows as
    ``…/plan.yaml``), and so the value of an option written ``--observed=/home/…``;
    any other text as written. ``run.json`` keeps it whole. (A backslash separates
    folders only in a Windows path, one with a drive: in a name ``run.json`` escaped,
    ``sc-m\\xe4rz.yaml``, it is part of the name.)"""
    if not isinstance(text, str):
        return text
    option, eq, value = text.partition("=")
    if eq and option.startswith("--") and value:
        return f"{option}={_shown_path(value)}"
    windows = PureWindowsPath(text)
    if windows.drive:
        name = windows.name
    elif text.startswith(("/", "~")):
        name = PurePosixPath(text).name
    else:
        return text
    return f"…/{name}" if name else text


def _details(summary: str, inner: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{inner}</details>"


def _scoring(table: pd.DataFrame) -> str:
    """``observed.csv``'s rows, one table per variant in a fold of its own (the first
    open), each headed by how many reports were scored against it and how many its
    central run is consistent with: every observation is scored against every variant,
    and one table of them all ran to hundreds of rows. A table without variants (a
    column missing from an edited file) is shown whole."""
    if table.empty:  # (a page of theaters no report is of: a heading over no rows)
        return "<p>No report of the theaters and variants this page shows.</p>"
    if "variant" not in table:
        return _table(
            table, caption="Observations scored against each variant", headings=OBSERVED_HEADINGS
        )
    parts = []
    for i, (variant, rows) in enumerate(table.groupby("variant", sort=False)):
        rows = rows.drop(columns=["variant"])
        scored = rows[rows["status"] == "scored"] if "status" in rows else rows
        summary = f"{variant}: {len(scored)} of {len(rows)} observations scored"
        if "consistent" in scored:
            fits = int(scored["consistent"].map(lambda v: v is True or v == "True").sum())
            summary += f", the central run consistent with {fits}"
        if "conditioning" in scored:
            off = int((scored["conditioning"] == "discrepant").sum())
            summary += f", {off} discrepant (left out of the weights)" if off else ""
        caption = f"Observations scored against {variant}"
        note = ""
        if len(rows) > SCORING_ROWS:
            note = (
                f"<p>The first {SCORING_ROWS:,} of {len(rows):,} rows; "
                "<code>observed.csv</code> holds every one.</p>"
            )
            rows = rows.head(SCORING_ROWS)
        table = _table(rows, caption=caption, headings=OBSERVED_HEADINGS)
        parts.append(_details(summary, note + table, open_=i == 0))
    return (
        "<p>Every observation is scored against every variant: one table per variant, "
        "each row one observation, its columns those of <code>observed.csv</code> (a "
        "heading's tooltip gives the file's name of its column).</p>" + "".join(parts)
    )


def _pre(text: str) -> str:
    return _scroll(f"<pre><code>{esc(text)}</code></pre>")


def _key(items: list[tuple[str, str, str]]) -> str:
    """The chart's key: (kind of mark, colour, label) → a list of swatches."""
    lis = "".join(
        f'<li><span class="mark {kind}" style="--c:{color}"></span>{esc(label)}</li>'
        for kind, color, label in items
    )
    return f'<ul class="key" aria-label="Key">{lis}</ul>'


def _names_source(text: str | None, source_id: str) -> bool:
    """Whether an assumption's ``text`` names the source ``source_id`` (as a whole id:
    ``shafaq`` is not named by ``shafaq-2025``)."""
    if not text:
        return False
    return re.search(rf"(?<![\w-]){re.escape(source_id)}(?![\w-])", text) is not None


def _later(when: dt.date | str, as_of: dt.date | str) -> bool:
    """Whether a day or month (``YYYY-MM[-DD]``) is wholly after another: compared to the
    precision of the less precise (a source of ``2024-09`` is not after ``2024-09-06``)."""
    a, b = str(when)[:10], str(as_of)[:10]
    n = min(len(a), len(b))
    return a[:n] > b[:n]


def _numbers(
    cited: Iterable[tuple[Provenance, list[str]]], all_variants: list[str], quote: str | None
) -> str:
    items = []
    for p, vs in cited:
        where = (
            "every variant"
            if vs == all_variants
            else ("variant " if len(vs) == 1 else "variants ") + ", ".join(vs)
        )
        own = f"<blockquote>{esc(p.quote)}</blockquote>" if p.quote and p.quote != quote else ""
        items.append(
            f"<li><code>{esc(p.path)}</code> = {esc(p.value)} <span class='where'>({esc(where)})"
            f"</span>{own}</li>"
        )
    return f"<ul class='numbers'>{''.join(items)}</ul>"


def _tolerance(tol: Any) -> str:
    if isinstance(tol, dict):
        parts = []
        if tol.get("relative"):
            # (what the run was told, not a result: every digit)
            parts.append(f"±{exact_percent(Fraction(float_text(float(tol['relative']))))}")
        if tol.get("absolute"):
            troops = float(tol["absolute"])
            parts.append(f"±{_number(troops)} {'troop' if troops == 1 else 'troops'}")
        return " and ".join(parts) or "none (exact)"
    return str(tol)


def _number(value: float) -> str:
    """A number exactly as written to CSV, with thousands separators."""
    text = float_text(value)
    if "n" in text:  # nan, inf: as they are
        return text
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-')):,}"
    return sign + grouped + (f".{frac}" if frac else "")


def _share(part: float, whole: int) -> float:
    """``part / whole`` divided in decimal, from the digits the files hold, then made a
    float: 575.905 of 10,000 is 0.0575905 (binary division gives 0.057590499999999996,
    which the page would show digit by digit)."""
    return float(Decimal(float_text(part)) / Decimal(whole))


#: the decimals of a percentage on the page: every share in one precision, so that a
#: share of the draws (30.15 %) and a weighted one (27.1698 %) read side by side
PERCENT_PLACES = 1


def _percent(share: float) -> str:
    """A share (0 to 1) as a percentage to :data:`PERCENT_PLACES` decimals, rounded half
    to even from the digits the files hold (0.3015 is 30.2 %); "<0.1 %" and ">99.9 %"
    rather than 0 or 100 for a share that is neither. The files keep every digit."""
    d = Decimal(float_text(share)) * 100
    step = Decimal(1).scaleb(-PERCENT_PLACES)
    if 0 < d < step:
        return f"<{step} %"
    if 100 - step < d < 100:
        return f">{100 - step} %"
    return f"{d.quantize(step, rounding=ROUND_HALF_EVEN)} %"


def _cell(value: Any, share: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value is pd.NA or value is pd.NaT:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, pd.Period):
        return str(value)
    if isinstance(value, int | float) and share:  # a share read back as 0 or 1 is an int
        return esc(_percent(float(value)))  # ("<0.1 %": the "<" as text, not a tag's)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return _number(value)
    return esc(value)


def _right_chance(error_rate: Any) -> str:
    """`` with probability 95 %``: the chance a report is right, as the command and the
    charts write it, from ``run.json``'s ``error_rate`` (``"1/20"``); nothing where the
    record gives none, or none forcesim writes."""
    try:
        return f" with probability {exact_percent(1 - Fraction(str(error_rate)))}"
    except (ValueError, ZeroDivisionError):
        return ""


def _table(
    frame: pd.DataFrame,
    *,
    caption: str,
    headings: dict[str, str] | None = None,
    shares: set[str] | None = None,
) -> str:
    """A frame as an accessible HTML table: a caption, column headings, the first column
    as row headings, numbers right-aligned and exact."""
    headings = headings or {}
    shares = SHARES | (shares or set())
    cols = list(frame.columns)  # read by place: two columns may share a name
    classes = [_num_class(frame.iloc[:, i]) for i in range(len(cols))]
    # a CSV name may break after each '_' (percentile_<wbr>rank), so headings wrap; a
    # heading in words keeps the file's name as its tooltip
    head = "".join(
        f'<th scope="col"{classes[i]}'
        + (f' title="{esc(c)}"' if str(c) in headings else "")
        + f">{esc(headings.get(str(c), str(c))).replace('_', '_<wbr>')}</th>"
        for i, c in enumerate(cols)
    )
    is_share = [str(c) in shares for c in cols]
    numeric = all(classes[1:]) and len(cols) > 1  # then the table's class aligns them
    if numeric:
        classes = [""] * len(cols)
    rows = []
    for values in frame.itertuples(index=False, name=None):
        cells = []
        for i, v in enumerate(values):
            tag = "th scope='row'" if i == 0 else "td"
            end = "th" if i == 0 else "td"
            cells.append(f"<{tag}{classes[i]}>{_cell(_plain(v), is_share[i])}</{end}>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return _scroll(
        f"<table{NUMS if numeric else ''}><caption>{esc(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


NUMS = ' class="nums"'


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _plain(value: Any) -> Any:
    """numpy scalars as Python numbers (so ints print as ints)."""
    if hasattr(value, "item") and not isinstance(value, pd.Period):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def _num_class(column: pd.Series) -> str:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return ' class="num"'
    return ""


def write_report(
    run_dir: str | Path,
    output: str | Path | None = None,
    *,
    record: dict[str, Any] | None = None,
    variants: Iterable[str] | str | None = None,
    theaters: Iterable[str] | str | None = None,
) -> Path:
    """Write the shareable page of a run: one self-contained interactive HTML file.

    Parameters
    ----------
    run_dir : str or pathlib.Path
        A directory written by ``forcesim run`` (:func:`sim.write_run`); earlier runs work too.
    output : str or pathlib.Path, optional
        The file to write, ending in ``.html`` or ``.htm``; default ``run_dir/report.html``
        (a page of some variants or theaters too: it replaces the page of the whole run
        there, as ``forcesim plot --theater`` replaces the run's charts).
    record : dict, optional
        The run's ``run.json`` document, when it is not yet in ``run_dir`` (as while
        :func:`sim.write_run` is writing the directory); read from it when omitted.
    variants : str or iterable of str, optional
        Show only these of the run's variants, in this order (default: every one).
    theaters : str or iterable of str, optional
        Show only these theaters, or sites as ``THEATER/SITE`` (``iraq/erbil``), in
        this order (default: every theater, each followed by its sites). With
        ``variants``, the charts and tables (milestones, threshold dates, observations)
        keep only their rows, and the page says what it leaves out.

    Returns
    -------
    pathlib.Path
        The file written (whole or not at all).

    Raises
    ------
    sim.ScenarioError
        When ``run_dir`` is not a run directory, a variant or theater is not one of the
        run's (one line naming those it has), ``output`` does not end in ``.html`` or
        ``.htm``, the page would exceed 6 MB (:data:`MAX_BYTES`; refused before it is
        built when the run's tables and envelope chart alone put it over), or
        ``output`` exists and forcesim did not write it
        (:func:`sim.io.files.refuse_overwrite`).
    TypeError
        For ``run_dir`` that is not a path (a Result: write it with
        :func:`sim.write_run` first), ``output`` that is neither a path nor None, or
        ``record`` that is neither a dict nor None.
    """
    run_dir = path_argument(
        run_dir,
        "a run directory (a Result is written there by sim.write_run)",
        "run_dir",
        "write_report",
    )
    if output is not None:
        path_argument(output, "an .html file", "output", "write_report")
    if record is not None and not isinstance(record, dict):  # ('int' has no attribute 'get')
        raise TypeError(
            f"write_report takes record= as the run.json document (a dict), not {record!r}"
        )
    if not run_dir.is_dir():
        raise ScenarioError.absent(
            "a run directory (from forcesim run)",
            not_a_directory(run_dir),
            file=str(run_dir),
        )
    if output is not None and (
        str(output).endswith("/") or Path(output).suffix.lower() not in (".html", ".htm")
    ):
        # (a run's envelope.png, say, would become a page under a chart's name)
        raise ScenarioError(
            "a file ending in .html or .htm",
            repr(str(output)),
            file="<arguments>",
            path="output",
        )
    target = Path(output) if output is not None else run_dir / "report.html"
    finished = record is None  # (a run being written by sim.write_run lists its own files)
    # (one given is as run.json will hold it: a name of bytes other than UTF-8 escaped)
    record = in_utf8(record) if record is not None else read_record(run_dir, page=True)
    chosen = _chosen_variants(run_dir, record, variants)
    series = _names(theaters, "theaters") or None
    if finished:
        refuse_overwrite(target, source=run_dir)
    every = len(record.get("variants") or [])
    shown = len(chosen) if chosen is not None else every
    _refuse_large(run_dir, target, shown, _too_large(shown), chosen, series)
    data = report_html(run_dir, record, variants=chosen, theaters=series).encode("utf-8")
    if len(data) > MAX_BYTES:
        raise ScenarioError(
            f"a page of at most {MAX_BYTES:,} bytes",
            f"{len(data):,} bytes ({_too_large(shown)})",
            file=str(target),
            path="(file)",
        )
    inside = finished and target.parent.resolve() == run_dir.resolve()
    atomic_file(  # forcesim wrote it: a new run may replace it
        target,
        lambda tmp: _write_bytes(tmp, data),
        then=(lambda: record_files(run_dir, [target.name])) if inside else None,
    )
    return target


def _too_large(shown: int) -> str:
    """Why a page of ``shown`` variants is refused for its size, and what to do."""
    # (fewer variants is advice only when there are several to choose from)
    fewer = "--variant NAME or " if shown > 1 else ""
    return (
        "too many theaters, months or variants to share as one page: show fewer with "
        f"forcesim report RUN_DIR {fewer}--theater ID "
        f"({'variants=[...] or ' if fewer else ''}theaters=[...] in Python), "
        "or share the PNG charts and CSV files"
    )


def refuse_large_run(target: Path, plans: Mapping[str, Plan], draws: int | None) -> None:
    """Refuse, before a run is made, a page of it that its tables alone would put over
    :data:`MAX_BYTES` (what :func:`write_report` refuses once the run is written, known
    here from the ``plans`` of its variants and its number of ``draws``): plotly.js, a
    level a month of each theater and site of each variant (:data:`LEVEL_BYTES` and at
    least one digit twice), an envelope-table row a month of each theater and site
    in at least as many months as the longest calendar of the variants that have it
    (:data:`MONTH_ROW_BYTES`), and with draws as many fan-table rows as levels
    (:data:`BAND_ROW_BYTES`). A page that passes may still be refused once its levels'
    digits are counted.

    Raises
    ------
    sim.ScenarioError
        At ``target``, as :func:`write_report` refuses it."""
    levels = sum(len(p.series_names()) * p.n_months for p in plans.values())
    months: dict[str, int] = {}  # a series' months: those of the longest plan that has it
    for p in plans.values():
        for k in p.series_names():
            months[k] = max(months.get(k, 0), p.n_months)
    bands = levels if draws else 0
    least = len(_plotly_js()) + (LEVEL_BYTES + 2) * levels
    least += MONTH_ROW_BYTES * sum(months.values()) + BAND_ROW_BYTES * bands
    _refuse_count(target, len(plans), _too_large(len(plans)), levels, least, bands=bands)


def _refuse_large(
    run_dir: Path,
    target: Path,
    variants: int,
    why: str,
    chosen: list[str] | None = None,
    series: list[str] | None = None,
) -> None:
    """Refuse at once, before the run is read whole, a page its tables and envelope
    chart put over :data:`MAX_BYTES` by what they hold alone: plotly.js, each monthly
    level in the envelope table and chart (:func:`_level_bytes`), the envelope table's
    rows (a month of a theater or site each, :data:`MONTH_ROW_BYTES`), a fan-table row
    per row of ``bands.csv`` (:data:`BAND_ROW_BYTES`), then the envelope chart's lines
    and the dashed stretches where variants' lines share a path (:func:`_line_bytes`)
    and the fan chart's numbers (:data:`FAN_ROW_BYTES` a row of ``bands.csv``) are the
    least such a page holds; of the ``chosen`` variants and ``series`` (theaters
    and sites, checked against the run's here) alone when given. (Building the page of
    100 variants of 50 theaters over 120 months, 1,000 draws, took 8 minutes and 2.4 GB
    before it was refused for its size; 30 variants of 50 theaters without draws, whose
    lines share many stretches, 30 s and 433 MB.)"""
    levels_read = _monthly_levels(run_dir, chosen, series)
    if levels_read is None:  # unreadable: reading the run says why
        if chosen is None and series is None:
            levels = table_rows(run_dir, "monthly")  # (counted without reading it)
            _refuse_count(target, variants, why, levels, (LEVEL_BYTES + 1) * levels)
        return
    monthly, present = levels_read
    if series is not None:
        refuse_unknown(run_dir, "theaters", "theaters and sites", present, series)
    selected = chosen is not None or series is not None
    levels, level_bytes = _level_bytes(monthly["troops"])
    months = int(monthly.groupby(["theater", "month"], observed=True).ngroups)
    bands = _band_rows(run_dir, chosen, series) if selected else table_rows(run_dir, "bands")
    least = len(_plotly_js()) + level_bytes + MONTH_ROW_BYTES * months + BAND_ROW_BYTES * bands
    _refuse_count(target, variants, why, levels, least, bands=bands)
    lines, stretches, line_bytes = _line_bytes(monthly)
    least += line_bytes + FAN_ROW_BYTES * bands
    _refuse_count(target, variants, why, levels, least, bands=bands, lines=(lines, stretches))


def _refuse_count(
    target: Path,
    variants: int,
    why: str,
    levels: int,
    least: int,
    *,
    bands: int = 0,
    lines: tuple[int, int] | None = None,
) -> None:
    """Refuse a page that needs more than :data:`MAX_BYTES` by ``least`` bytes alone,
    saying what they hold: the ``levels`` of ``variants``, ``bands`` rows of
    percentiles and (when the charts are counted) the envelope chart's ``lines``
    (lines, stretches drawn again in dashes)."""
    if least <= MAX_BYTES:
        return
    of = f" of {variants:,} variant{'' if variants == 1 else 's'}" if variants else ""
    percentiles = f" and {bands:,} months of percentiles" if bands else ""
    what = "tables alone need"
    drawn = ""
    if lines is not None:
        what = "tables and charts alone need"
        drawn = (
            f", drawn as {lines[0]:,} lines and {lines[1]:,} stretches where variants' "
            "lines share a path (each drawn again in dashes)"
        )
    raise ScenarioError(
        f"a page of at most {MAX_BYTES:,} bytes",
        f"a run whose {what} more than {least:,} bytes: {levels:,} monthly "
        f"levels{of}{percentiles}{drawn} ({why})",
        file=str(target),
        path="(file)",
    )


def _monthly_levels(
    run_dir: Path, chosen: list[str] | None = None, series: list[str] | None = None
) -> tuple[pd.DataFrame, list[str]] | None:
    """``monthly.csv``'s (or ``.parquet``'s) ``variant``, ``theater``, ``month`` and
    ``troops`` columns (the text as categories), read alone, with the theaters and sites
    the whole table holds (as :func:`series_keys` orders them); of the ``chosen``
    variants and ``series`` alone when given. A CSV file is read :data:`CSV_ROWS` rows
    at a time, so the rest is never held, nor the text of any. None when they cannot be
    read."""
    columns = ["variant", "theater", "month", "troops"]
    path = run_dir / "monthly.csv"
    selected = chosen is not None or series is not None
    present: dict[str, None] = {}

    def kept(frame: pd.DataFrame) -> pd.DataFrame:
        present.update(dict.fromkeys(distinct_names(frame["theater"])))
        return frame[chosen_rows(frame, chosen, series)] if selected else frame

    try:
        if path.is_file():  # (a block of rows at a time, its text made categories)
            # (a variant or theater called NA, None or null is text, not a gap; one
            # called 01 is text, not the number 1)
            text = dict.fromkeys(columns[:3], str)
            with pd.read_csv(
                path, usecols=columns, dtype=text, keep_default_na=False, chunksize=CSV_ROWS
            ) as blocks:
                parts = [
                    kept(block.astype(dict.fromkeys(columns[:3], "category"))) for block in blocks
                ]
            if not parts:  # (the header alone)
                parts = [pd.read_csv(path, usecols=columns, dtype=text).astype("category")]
            frame = pd.DataFrame(
                {
                    c: union_categoricals([b[c] for b in parts])
                    if c in columns[:3]
                    else np.concatenate([b[c].to_numpy() for b in parts])
                    for c in columns
                }
            )
        else:
            frame = pd.read_parquet(run_dir / "monthly.parquet", columns=columns)
            for c in columns[:3]:
                frame[c] = frame[c].astype(str).astype("category")
            frame = kept(frame)
        if not pd.api.types.is_numeric_dtype(frame["troops"]):
            frame["troops"] = pd.to_numeric(frame["troops"], errors="coerce")
    except (OSError, ImportError, ValueError, KeyError, TypeError, OverflowError):
        # (a number of 309 digits overflows a float: reading the run says where it is)
        return None
    return frame, theaters_then_sites((t for t in present if "/" not in t), present)


def _band_rows(run_dir: Path, chosen: list[str] | None, series: list[str] | None) -> int:
    """How many rows of ``bands.csv`` (or ``.parquet``) are of the variants and
    theaters chosen; 0 when it is missing or unreadable (reading the run says why)."""
    if not has_table(run_dir, "bands"):
        return 0
    path = run_dir / "bands.csv"
    columns = ["variant", "theater"]
    try:
        if path.is_file():  # (a block of rows at a time: the rest never held)
            with pd.read_csv(
                path,
                usecols=columns,
                dtype=str,  # (an id 01 is text, not the number 1)
                keep_default_na=False,
                chunksize=CSV_ROWS,
            ) as blocks:
                return sum(int(chosen_rows(b, chosen, series).sum()) for b in blocks)
        frame = pd.read_parquet(run_dir / "bands.parquet", columns=columns)
    except (OSError, ImportError, ValueError, KeyError, TypeError):
        return 0
    return int(chosen_rows(frame, chosen, series).sum())


def _level_bytes(troops: pd.Series) -> tuple[int, int]:
    """How many levels ``troops`` (monthly's column) holds, and the fewest bytes the
    page spends on them: :data:`LEVEL_BYTES` each, and their digits twice (the table's
    and the chart's copy) and thousands separators once (the table's); a column that
    does not read as whole numbers counts one digit a level (reading the run says what
    is wrong with it)."""
    levels = len(troops)
    if not pd.api.types.is_integer_dtype(troops):
        return levels, (LEVEL_BYTES + 1) * levels
    places = _places(troops.to_numpy(dtype=np.int64))
    return levels, LEVEL_BYTES * levels + int((2 * places + (places - 1) // 3).sum())


def _places(values: Any) -> Any:
    """The decimal digits of each whole number of ``values`` (its sign not counted)."""
    whole = np.abs(np.asarray(values, dtype=np.int64))
    # (compared with powers of ten, not a logarithm: exact at 1,000)
    return 1 + sum((whole >= 10**k).astype(np.int64) for k in range(1, 19))


#: the fewest bytes of a variant's line on the envelope chart besides its name (twice,
#: as its name and legend group) and its levels (counted with the tables'): its JSON
#: with an empty colour, width 0 and the hover label as the page escapes it
LINE_BYTES = len(
    '{"hovertemplate":"%{fullData.name}: %{y:,} troops\\u003cextra\\u003e\\u003c/extra'
    '\\u003e","legendgroup":"","line":{"color":"","width":0},"meta":"variant","mode":"lines",'
    '"name":"","x":{"shared":0},"y":[],"type":"scatter","xaxis":"x","yaxis":"y"},'
)
#: the fewest bytes of a dashed stretch where variants' lines share a path
#: (:func:`sim.report.charts._shared_stretches`), besides its variant's name (twice)
#: and its levels
STRETCH_BYTES = len(
    '{"hoverinfo":"skip","legendgroup":"","line":{"color":"","dash":"0px,0px,7px,0px",'
    '"width":2.6},"meta":"shared","mode":"lines","name":"","showlegend":false,'
    '"x":{"shared":0},"y":[],"type":"scatter","xaxis":"x","yaxis":"y"},'
)


def _line_bytes(monthly: pd.DataFrame) -> tuple[int, int, int]:
    """The envelope chart's lines (one per variant and theater or site), the stretches
    where several run along the same path (drawn again in dashes, one per variant:
    :func:`sim.plotting.envelope.shared_runs`), and the fewest bytes the page spends
    on them besides the lines' levels: :data:`LINE_BYTES` a line,
    :data:`STRETCH_BYTES` a stretch, the variant's name twice each, and each
    stretch's levels (digits and commas)."""
    from sim.plotting.envelope import shared_runs

    lines = stretches = total = 0
    for _, rows in monthly.groupby("theater", observed=True, sort=False):
        try:
            wide = rows.astype({"variant": str, "month": str}).pivot(
                index="month", columns="variant", values="troops"
            )
        except ValueError:  # a month twice: reading the run says what is wrong
            continue
        names = [len(str(v).encode("utf-8")) for v in wide.columns]
        lines += len(names)
        total += sum(LINE_BYTES + 2 * n for n in names)
        values = wide.to_numpy(dtype=float)
        # (a level past int64, in a run no manifest vouches for, counts 19 digits:
        # reading the run says what is wrong with it)
        digits = _places(np.clip(np.nan_to_num(values), -1e18, 1e18))
        for group, first, last in shared_runs(values):
            for k in group:
                stretches += 1
                points = last - first + 1
                total += STRETCH_BYTES + 2 * names[k] + int(digits[first : last + 1, k].sum())
                total += points - 1  # (the commas between them)
    return lines, stretches, total
