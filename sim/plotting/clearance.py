"""Keeping a chart's labels off its data.

What a panel draws (lines, their markers, bands, patches, other labels) is read
back from the axes as shapes in display units, and a label's box is tested
against them: :func:`hits` counts what a box would cover, :func:`clear_top_labels`
raises a panel's y-limit until the labels along its top (deadlines, the as-of
date) stand above the data beneath them, and :func:`place_clear` moves a label
to the first of several places where it covers nothing. Boxes are measured with
the figure's renderer, so call these once the panel's size is final.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.plotting import common

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox

#: the ``gid`` of the labels along a panel's top, kept clear of the data by raising the
#: panel's y-limit
TOP_LABELS = (common.DEADLINE_LABEL, common.AS_OF_LABEL)
#: how much one step of :func:`clear_top_labels` raises the y-limit, and the most steps
#: (1.06 ** 25: 4.3 times the data's height at most)
STEP, MAX_STEPS = 1.06, 25


def _renderer(ax: Axes) -> Any:
    return ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]


def _pieces(xy: np.ndarray) -> list[np.ndarray]:
    """The runs of finite points of ``xy`` (a line breaks where a value is missing)."""
    ok = np.isfinite(xy).all(axis=1)
    runs, start = [], None
    for i, good in enumerate([*ok, False]):
        if good and start is None:
            start = i
        elif not good and start is not None:
            runs.append(xy[start:i])
            start = None
    return runs


def _line_hits(line: Any, box: Bbox, *, verticals: bool) -> bool:
    from matplotlib.path import Path

    ax = line.axes
    if line.get_transform() != ax.transData and not verticals:
        return False  # a line across the panel (axvline): the labels stand beside it
    xy = np.asarray(line.get_xydata(), dtype=float)
    if not len(xy):
        return False
    shown = line.get_transform().transform(xy)
    if line.get_linestyle() not in ("None", "", " ") and line.get_linewidth() > 0:
        half = line.get_linewidth() * ax.figure.dpi / 72 / 2
        wide = box.expanded(1.0, 1.0).padded(half)
        for run in _pieces(shown):
            if len(run) == 1:
                continue
            if Path(run).intersects_bbox(wide, filled=False):
                return True
    if line.get_marker() not in (None, "None", "", " "):
        r = (line.get_markersize() / 2 + line.get_markeredgewidth()) * ax.figure.dpi / 72
        x, y = shown[:, 0], shown[:, 1]
        near = (x + r >= box.x0) & (x - r <= box.x1) & (y + r >= box.y0) & (y - r <= box.y1)
        if near.any():
            return True
    return False


def hits(
    ax: Axes,
    box: Bbox,
    *,
    verticals: bool = True,
    texts: bool = True,
    skip: Iterable[Any] = (),
) -> int:
    """How many of the artists of ``ax`` a box (display units) would cover: lines (with
    their width) and their markers, bands and patches, and with ``texts`` the other
    labels and the arrows of annotations; with ``verticals`` the lines across the panel
    too (``axvline``). Artists in ``skip`` and hidden ones are left out."""
    leave = {id(a) for a in skip}
    n = 0
    for line in ax.lines:
        if (
            id(line) not in leave
            and line.get_visible()
            and _line_hits(line, box, verticals=verticals)
        ):
            n += 1
    for coll in ax.collections:
        if id(coll) in leave or not coll.get_visible():
            continue
        transform = coll.get_transform()
        if any(transform.transform_path(p).intersects_bbox(box) for p in coll.get_paths()):
            n += 1
    for patch in ax.patches:
        if id(patch) not in leave and patch.get_visible():
            n += int(patch.get_window_extent(_renderer(ax)).overlaps(box))
    if texts:
        renderer = _renderer(ax)
        for t in ax.texts:
            if id(t) in leave or not t.get_visible():
                continue
            arrow = getattr(t, "arrow_patch", None)
            if arrow is not None:
                t.update_positions(renderer)  # type: ignore[attr-defined]
                if arrow.get_window_extent(renderer).overlaps(box):
                    n += 1
                    continue
            if t.get_text() and t.get_window_extent(renderer).overlaps(box):
                n += 1
    return n


def _top_labels(ax: Axes) -> list[Any]:
    return [t for t in ax.texts if t.get_gid() in TOP_LABELS and t.get_visible()]


def top_labels_on_data(ax: Axes) -> int:
    """How many of the labels along the top of ``ax`` (deadlines, the as-of date) cover
    its data (lines, markers, bands; not the verticals they label, nor each other)."""
    renderer = _renderer(ax)
    labels = _top_labels(ax)
    return sum(
        hits(ax, t.get_window_extent(renderer), verticals=False, texts=False) > 0 for t in labels
    )


def clear_top_labels(axes: Sequence[Axes]) -> None:
    """Raise each panel's y-limit, a step of :data:`STEP` at a time, until the labels
    along its top (:data:`TOP_LABELS`) cover none of its data: they stand in the room
    above it, with nothing behind them to hide. Panels sharing a y-axis are raised
    together. (The labels are placed in points from the top, so they stay where they
    are while the data moves down.)"""
    for ax in axes:
        if not _top_labels(ax):
            continue
        for _ in range(MAX_STEPS):
            if not top_labels_on_data(ax):
                break
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, lo + (hi - lo) * STEP)


def place_clear(
    ax: Axes, label: Any, places: Sequence[tuple[tuple[float, float], str, str]]
) -> int:
    """Move ``label`` (an annotation at an axes fraction) to the first of ``places``
    ((x, y) axes fraction, horizontal and vertical alignment) where it stays inside the
    panel and covers nothing :func:`hits` counts; else to the first that covers no data
    but the lines across the panel; else to the one that covers the fewest artists.
    Returns the index of the place taken."""
    renderer = _renderer(ax)
    inside = ax.get_window_extent(renderer)

    def put(i: int) -> Any:
        xy, ha, va = places[i]
        label.xy = label.xyann = xy  # (the text stands at xyann: no offset from xy)
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        return label.get_window_extent(renderer).padded(2)

    best: tuple[int, int] | None = None
    second: int | None = None
    for i in range(len(places)):
        box = put(i)
        if not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0):
            continue
        if box.y1 > inside.y1:
            continue
        n = hits(ax, box, skip=[label])
        if n == 0:
            return i
        if second is None and hits(ax, box, verticals=False, skip=[label]) == 0:
            second = i
        if best is None or n < best[0]:
            best = (n, i)
    chosen = second if second is not None else (best[1] if best is not None else 0)
    put(chosen)
    return chosen
