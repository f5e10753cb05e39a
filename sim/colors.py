"""The colours of every chart, in one place: the PNG charts (:mod:`sim.plotting`) and the
interactive page (:mod:`sim.report`) both read them here, so a variant has the same colour
on both. Plain hex strings; this module imports nothing of forcesim (only functools and
typing).
"""

from __future__ import annotations

import functools
from typing import Any

#: one colour per variant, in run order (repeating after ten), chosen for readers with a
#: colour-vision deficiency as much as for the rest: every pair of the ten stands at least
#: 11 apart in CAM02-UCS (ΔE', Luo, Cui & Li 2006, *Color Research & Application* 31(4))
#: in normal vision and in full deuteranomaly, protanomaly and tritanomaly as Machado,
#: Oliveira & Fernandes simulate them (2009, *IEEE TVCG* 15(6)), and at least 10 from each
#: mark drawn beside variants (observed, official, promised, as-of, targets, deadlines, the
#: range's shading); each line has a contrast of at least 3:1 against white (WCAG 2.1,
#: 1.4.11). The palette it replaced put as-reported and residual 3.6 apart under
#: tritanomaly, and slip-6 5.3 from as-reported under protanomaly. The nearest pairs are
#: chosen last: a scenario of few variants gets the colours farthest apart.
PALETTE = (
    "#1b6ca8",  # blue
    "#a80c00",  # brick red
    "#a89054",  # khaki
    "#489c9c",  # teal
    "#84306c",  # plum
    "#8490cc",  # periwinkle
    "#240030",  # aubergine, nearly black
    "#f05490",  # pink
    "#906048",  # brown
    "#a854fc",  # violet
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


def contrast(color: str, against: str = "#ffffff") -> float:
    """The contrast ratio of two ``#rrggbb`` colours, 1 to 21: ``(L1 + 0.05) / (L2 +
    0.05)`` of their relative luminances, the lighter above (WCAG 2.1, its definitions
    of contrast ratio and relative luminance)."""

    def luminance(c: str) -> float:
        r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb(c))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(color), luminance(against)), reverse=True)
    return (high + 0.05) / (low + 0.05)


#: the contrast text in a variant's colour keeps against white (WCAG 2.1, 1.4.3: 4.5:1 for
#: text under 18 pt)
TEXT_CONTRAST = 4.5


@functools.cache  # (each end label asks again: up to 256 contrasts a colour)
def legible(color: str) -> str:
    """``color`` for text on white: as it is where it has :data:`TEXT_CONTRAST` against
    white, else darkened (each channel scaled down alike, so its hue stays) as little
    as gives it that, to the 1/255 a screen shows."""
    if contrast(color) >= TEXT_CONTRAST:
        return color
    r, g, b = (round(c * 255) for c in rgb(color))
    for scale in range(255, -1, -1):
        darker = "#{:02x}{:02x}{:02x}".format(*(v * scale // 255 for v in (r, g, b)))
        if contrast(darker) >= TEXT_CONTRAST:
            return darker
    return "#000000"
