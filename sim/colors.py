"""The colours of every chart, in one place: the PNG charts (:mod:`sim.plotting`) and the
interactive page (:mod:`sim.report`) both read them here, so a variant has the same colour
on both. Plain hex strings; this module imports nothing of forcesim (only typing).
"""

from __future__ import annotations

from typing import Any

#: one colour per variant, in run order (repeating after ten); the first four, all most
#: scenarios have, far apart in hue (blue, red, yellow, purple: the teal, next to the
#: blue, comes sixth), and no two of the ten closer than 25 in CIELAB (ΔE*ab, CIE 1976)
#: where a second red, green or purple once stood 18.5 from the first; none within 20 of
#: the marks drawn beside variants (observed, official, promised, as-of: a grey tenth
#: variant was the promises' grey)
PALETTE = (
    "#1b6ca8",
    "#d1495b",
    "#edae49",
    "#8d6a9f",
    "#66a182",
    "#00798c",
    "#2e4057",
    "#8c5a3c",
    "#e07fb4",
    "#6b8e23",
)

#: the envelope's shading between the lowest and highest variant, and its opacity
RANGE = "#9db4c0"
RANGE_ALPHA = 0.35
#: dotted deadline verticals
DEADLINE = "#555555"
#: milestone target diamonds (edge; the face is white)
TARGET = "#222222"
#: observed levels (the face; the edge is white): a reported count, an official figure
#: (and the projected official figure), a target or promise; the as-of line
OBSERVED = "#111111"
OBSERVED_EDGE = "white"
OFFICIAL = "#c05a00"
PROMISED = "#777777"
AS_OF = "#7a1f1f"

#: the fan: its hue, the median of the draws and the central run
FAN_HUE = PALETTE[0]
MEDIAN = "#0b3a5e"
CENTRAL = "#222222"
#: (lower, upper, label, mix with white) of the fan's bands, from the widest to the narrowest
#: (named by their percentiles: where many draws share a level, half of them at an
#: official figure say, a band holds more than its nominal share of the draws)
BANDS = (
    ("p05", "p95", "5th–95th percentile of the draws", 0.22),
    ("p10", "p90", "10th–90th percentile", 0.40),
    ("p25", "p75", "25th–75th percentile", 0.65),
)


def variant_colors(
    variants: list[str] | tuple[str, ...], every: list[str] | tuple[str, ...] | None = None
) -> dict[str, str]:
    """Each variant's colour: the palette in the order of ``every`` (the scenario's
    variants, so that a variant keeps its colour in a run of some of them, on every
    chart and page), repeating after ten; in the order of ``variants`` when ``every`` is
    not given, does not name them all, or would give two of them one colour (a run of
    variants ten apart in a scenario of more than ten)."""
    if every is not None and set(variants) <= set(every):
        place = {v: i for i, v in enumerate(every)}
        spots = [place[v] % len(PALETTE) for v in variants]
        if len(set(spots)) == min(len(variants), len(PALETTE)):
            return {v: PALETTE[i] for v, i in zip(variants, spots, strict=True)}
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variants)}


def run_colors(run: Any) -> dict[str, str]:
    """Each variant of ``run`` (anything with ``variants`` and a ``scenario``: a Result,
    a Backtest, a Sweep) in its colour: :func:`variant_colors` in the order of the
    scenario's variants, so a run of some of them colours each as the whole run does."""
    return variant_colors(list(run.variants), list(run.scenario.variants))


def rgb(color: str) -> tuple[float, float, float]:
    """A ``#rrggbb`` colour as (red, green, blue), each 0 to 1."""
    h = color.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected a colour as #rrggbb, found {color!r}")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)


def mix(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` blended with white: ``amount`` 1 is the colour, 0 is white."""
    r, g, b = rgb(color)
    return (1 - amount * (1 - r), 1 - amount * (1 - g), 1 - amount * (1 - b))


def css(color: tuple[float, float, float], alpha: float = 1.0) -> str:
    """An (r, g, b) colour (0 to 1 each) as CSS ``rgba(...)``, each channel rounded to
    the nearest of the 256 levels a screen shows."""
    r, g, b = (round(c * 255) for c in color)
    return f"rgba({r},{g},{b},{alpha:g})"
