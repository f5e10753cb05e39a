"""Charts laid out for a newspaper column: 600 px wide on screen.

A chart of forcesim's own is 1600 px wide: shrunk into a 600-px column, its 9.5 pt
text would stand about 5 px tall. A column chart is laid out for that width instead:
6 in wide at 100 px an inch, the panels stacked one under another across the whole
width, the title and subtitle wrapped above them, the key under them and the
footnote under the key, every text at a size that reads at 600 px. It is written at
:data:`COLUMN_DPI` (1200 px wide), so that it stays sharp on a screen of two pixels a
point; shown 600 px wide, its text is the size given here.

The panels are drawn by the chart functions themselves, into the column's axes
(:func:`sim.plotting.common.into_axes`, with matplotlib's ``font.size`` at
:data:`TEXT_PT`); this module only makes the figure and sets the text around them.
"""

from __future__ import annotations

import math
import textwrap
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sim.plotting import common

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: the width of a column chart [in]: 600 px at 100 px an inch
COLUMN_IN = 6.0
#: the resolution a column chart is written at [px an inch]: 1200 px wide, twice the
#: column's pixels, for screens of two pixels a point
COLUMN_DPI = 200
#: matplotlib's ``font.size`` while the panels are drawn [pt]: their ticks, panel
#: titles and deadline labels take their sizes from it
TEXT_PT = 11.0
#: the most panels one column chart stacks (more make a column too long to read)
MAX_PANELS = 4
#: the refusal of axes given with ``column=True``
OWN = "{}(column=True) lays out a figure of its own: leave out ax"
#: how a reader picks the variants of a column chart
CHOOSE_VARIANTS = "forcesim plot RUN --column --variant NAME (variants=[...] in Python)"
#: how a reader picks the theaters (or sites) of a column chart
CHOOSE_THEATERS = "forcesim plot RUN --column --theater ID (theaters=[...] in Python)"

# geometry [in]
EDGE_IN = 0.14  # the texts' left and right margin
LEFT_IN, RIGHT_IN = 0.78, 0.2  # the panels' margins (tick labels and "troops" at left)
PANEL_IN = 2.35  # one panel's plotting area
PANEL_HEAD_IN = 0.42  # a panel's title above it
PANEL_FOOT_IN = 0.52  # two-line date ticks under it
GAP_IN = 0.12  # between the blocks of text

TITLE_PT, SUBTITLE_PT, KEY_PT, FOOT_PT = 14.5, 10.5, 9.5, 8.5
#: the characters of a key's label on one line (half the column, after its mark)
KEY_CHARACTERS = 34

#: the figures made by :func:`figure` (``save`` writes them at :data:`COLUMN_DPI`)
_COLUMN: weakref.WeakSet[Any] = weakref.WeakSet()


def figure(n_panels: int) -> tuple[Figure, list[Axes]]:
    """A column figure with ``n_panels`` axes stacked one under another, each of its
    final size (the chart functions place labels by the axes' size as they draw). Its
    height is provisional: :func:`frame` sets it once the text around them is known."""
    plt = common.pyplot()
    body = n_panels * (PANEL_HEAD_IN + PANEL_IN + PANEL_FOOT_IN)
    fig = plt.figure(figsize=(COLUMN_IN, body), dpi=common.DPI)
    _COLUMN.add(fig)
    axes: list[Axes] = []
    for i in range(n_panels):
        bottom = body - (i + 1) * (PANEL_HEAD_IN + PANEL_IN + PANEL_FOOT_IN) + PANEL_FOOT_IN
        axes.append(
            fig.add_axes(
                (
                    LEFT_IN / COLUMN_IN,
                    bottom / body,
                    (COLUMN_IN - LEFT_IN - RIGHT_IN) / COLUMN_IN,
                    PANEL_IN / body,
                ),
                sharex=axes[0] if axes else None,
            )
        )
    return fig, axes


def is_column(fig: Any) -> bool:
    """Whether ``fig`` is a column chart's figure (:func:`figure`)."""
    return fig in _COLUMN


def drawing() -> Any:
    """The matplotlib settings the panels of a column chart are drawn under."""
    import matplotlib

    return matplotlib.rc_context({"font.size": TEXT_PT})


def frame(
    fig: Figure,
    axes: Sequence[Axes],
    title: str,
    subtitle: str,
    handles: list[Any],
    labels: list[str],
    note: str,
    *,
    key_title: str | None = None,
    handler_map: dict[Any, Any] | None = None,
    head_in: float = 0.0,
) -> None:
    """Set the text around a column chart's panels and its final height: the title and
    subtitle wrapped above them, the key (``handles``, ``labels``, under ``key_title``)
    in two columns under them (``handler_map``: as matplotlib's legend takes it) and
    the footnote ``note`` (its lines each wrapped) under the key; ``head_in`` [in] more
    above the first panel, for labels standing over it. The panels keep their size in
    inches; the figure grows to hold the text."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    room = (COLUMN_IN - 2 * EDGE_IN) * common.DPI  # [px] a line of text may take
    # (drawn as written: the chart function drawing them keeps "$" from being read as
    # TeX, common.plain_text)
    plain: dict[str, Any] = {"va": "top", "ha": "left"}
    head = fig.text(0, 0, "", fontsize=TITLE_PT, fontweight="bold", **plain)
    _wrap(head, title, room, renderer)
    sub = fig.text(0, 0, "", fontsize=SUBTITLE_PT, color="#333333", linespacing=1.35, **plain)
    _wrap(sub, subtitle, room, renderer)
    foot = fig.text(0, 0, "", fontsize=FOOT_PT, color="#444444", **plain)
    _wrap(foot, note, room, renderer)
    key = fig.legend(
        handles,
        [common.wrapped(label, KEY_CHARACTERS) for label in labels],
        loc="upper left",
        ncol=2 if len(labels) > 3 else 1,
        fontsize=KEY_PT,
        frameon=False,
        handlelength=2.2,
        columnspacing=1.2,
        title=key_title,
        title_fontsize=KEY_PT + 0.5,
        alignment="left",
        borderaxespad=0,
        borderpad=0,
        handler_map=handler_map,
    )

    def tall(artist: Any) -> float:  # [in]
        return float(artist.get_window_extent(renderer).height) / common.DPI

    n = len(axes)
    body = n * (PANEL_HEAD_IN + PANEL_IN + PANEL_FOOT_IN)
    top = EDGE_IN + tall(head) + GAP_IN / 2 + tall(sub) + GAP_IN + head_in
    height = top + body + GAP_IN + tall(key) + 1.5 * GAP_IN + tall(foot) + EDGE_IN
    height = math.ceil(height * COLUMN_DPI) / COLUMN_DPI  # (whole pixels as written)
    fig.set_figheight(height)

    def y(inches: float) -> float:  # a distance from the top as a figure fraction
        return 1 - inches / height

    head.set_position((EDGE_IN / COLUMN_IN, y(EDGE_IN)))
    sub.set_position((EDGE_IN / COLUMN_IN, y(EDGE_IN + tall(head) + GAP_IN / 2)))
    width = (COLUMN_IN - LEFT_IN - RIGHT_IN) / COLUMN_IN
    for i, a in enumerate(axes):
        panel_top = top + i * (PANEL_HEAD_IN + PANEL_IN + PANEL_FOOT_IN) + PANEL_HEAD_IN
        a.set_position((LEFT_IN / COLUMN_IN, y(panel_top + PANEL_IN), width, PANEL_IN / height))
    below = top + body + GAP_IN
    key.set_bbox_to_anchor((EDGE_IN / COLUMN_IN, y(below)), transform=fig.transFigure)
    foot.set_position((EDGE_IN / COLUMN_IN, y(below + tall(key) + 1.5 * GAP_IN)))


def _wrap(text: Any, words: str, room: float, renderer: Any) -> None:
    """Set ``words`` into ``text`` with each of its lines wrapped to fit ``room`` [px]:
    at the most characters a line that keep the widest line within it."""
    lines = words.split("\n") if words else []
    width = max((len(line) for line in lines), default=1)
    while True:
        text.set_text("\n".join(textwrap.fill(line, width) for line in lines))
        if width <= 20 or text.get_window_extent(renderer).width <= room:
            return
        width -= max(1, width // 20)


def not_drawn(result: Any, series: Sequence[str], variants: Sequence[str] = ()) -> str:
    """A column chart's line, for its readers, naming the theaters (or sites) and
    variants it leaves out for want of room (how to choose others is the warning's:
    the readers of an article do not draw charts); empty where none is."""
    parts = [common.theater_title(result, t) for t in series] + [
        f"the variant {v}" for v in variants
    ]
    if not parts:
        return ""
    return f"Not drawn here, for want of room: {', '.join(parts)}."
