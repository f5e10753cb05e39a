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

#: the ``gid`` of the labels along a panel's top (deadlines, the as-of date), none of which
#: may cover the data
TOP_LABELS = (common.DEADLINE_LABEL_GID, common.AS_OF_LABEL_GID)
#: those of them kept clear of the data by raising the panel's y-limit (the deadlines'
#: labels); the as-of label finds room within the limits (:func:`beside_line`)
RAISING_LABELS = (common.DEADLINE_LABEL_GID,)
#: how much one step of :func:`clear_top_labels` raises the y-limit, and the most steps
#: (1.06 ** 25: 4.3 times the data's height at most)
STEP, MAX_STEPS = 1.06, 25


def _renderer(ax: Axes) -> Any:
    return ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]


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
        # only the segments whose own bounds reach the box can cross it: a record's
        # thousands of bars, one line of two-point pieces, made a path each, for every
        # place a label was tried (an as-of label walked down a panel the bars covered
        # in 48 s of a 66 s run)
        a, b = shown[:-1], shown[1:]
        lo, hi = np.fmin(a, b), np.fmax(a, b)
        near = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
        near &= (hi[:, 0] >= wide.x0) & (lo[:, 0] <= wide.x1)
        near &= (hi[:, 1] >= wide.y0) & (lo[:, 1] <= wide.y1)
        for i in np.flatnonzero(near):
            if Path(shown[i : i + 2]).intersects_bbox(wide, filled=False):
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


def _top_labels(ax: Axes, gids: Sequence[str] = TOP_LABELS) -> list[Any]:
    return [t for t in ax.texts if t.get_gid() in gids and t.get_visible()]


def top_labels_on_data(ax: Axes, gids: Sequence[str] = TOP_LABELS) -> int:
    """How many of the labels along the top of ``ax`` (deadlines, the as-of date; those
    whose ``gid`` is in ``gids``) cover its data (lines, markers, bands; not the
    verticals they label, nor each other)."""
    renderer = _renderer(ax)
    labels = _top_labels(ax, gids)
    return sum(
        hits(ax, t.get_window_extent(renderer), verticals=False, texts=False) > 0 for t in labels
    )


def clear_top_labels(axes: Sequence[Axes]) -> None:
    """Raise each panel's y-limit, a step of :data:`STEP` at a time, until the deadlines'
    labels along its top (:data:`RAISING_LABELS`) cover none of its data: they stand in
    the room above it, with nothing behind them to hide. Panels sharing a y-axis are
    raised together. (The labels are placed in points from the top, so they stay where
    they are while the data moves down.) An as-of label does not raise the limit: place
    it afterwards (:func:`beside_line`)."""
    for ax in axes:
        if not _top_labels(ax, RAISING_LABELS):
            continue
        for _ in range(MAX_STEPS):
            if not top_labels_on_data(ax, RAISING_LABELS):
                break
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, lo + (hi - lo) * STEP)


def place_clear(
    ax: Axes,
    label: Any,
    places: Sequence[tuple[tuple[float, float], str, str]],
    *,
    edge: int | None = None,
) -> int:
    """Move ``label`` (an annotation at an axes fraction) to a place of ``places`` ((x, y)
    axes fraction, horizontal and vertical alignment) inside the panel. The first
    ``edge`` places (all by default) are at the panel's edge and come before the rest:
    the first edge place covering nothing :func:`hits` counts; else the first edge place
    covering no data but the lines across the panel (the label then gets a white ground,
    so the dotted line stops at it rather than running through the words); else the same
    two tries over the other places; else the place covering the fewest artists.
    Returns the index of the place taken."""
    renderer = _renderer(ax)
    inside = ax.get_window_extent(renderer)
    first = len(places) if edge is None else edge

    def put(i: int) -> Any:
        xy, ha, va = places[i]
        label.xy = label.xyann = xy  # (the text stands at xyann: no offset from xy)
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        return label.get_window_extent(renderer).padded(2)

    counted: dict[int, tuple[int, int]] = {}  # place -> (artists covered, without verticals)

    def count(i: int) -> None:
        box = put(i)
        if not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0):
            return
        if box.y1 > inside.y1:
            return
        n = hits(ax, box, skip=[label])
        counted[i] = (n, n and hits(ax, box, verticals=False, skip=[label]))

    # the places are measured in order, and a group's measuring stops at the first place
    # covering nothing: no later place could be taken before it (a conditioned fan of 30
    # panels measured all 28 places of each panel's label, 10 of a 32 s run)
    for group in (range(first), range(first, len(places))):
        for i in group:
            count(i)
            if i in counted and counted[i][0] == 0:
                put(i)
                return i
        chosen = next((i for i in group if i in counted and counted[i][1] == 0), None)
        if chosen is not None:
            put(chosen)
            if counted[chosen][0]:
                label.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 1.5})
            return chosen
    chosen = min(counted, key=lambda i: counted[i][0]) if counted else 0
    put(chosen)
    return chosen


#: the step [pt] by which :func:`beside_line` moves a label down its line
DOWN_PT = 4.0


def beside_line(ax: Axes, label: Any, wordings: Sequence[str] = (), *, gap: float = 4.0) -> bool:
    """Move ``label``, an annotation hanging from the top of the panel at its line's x
    (``xycoords=("data", "axes fraction")``, offset in points), to the first place beside
    the line, from the top down in steps of :data:`DOWN_PT` and at each height left of
    the line, then right, ``gap`` pt from it, where it stays inside the panel and covers
    nothing :func:`hits` counts: no line, mark, band, other label, nor a line across the
    panel. Its own text is tried first, then each of ``wordings`` (shorter ones) in turn.
    The panel's limits are left as they are: the label takes the room the data leave.
    Where no wording finds a place, the label is removed (a legend names the line) and
    False returned. Call it once the panel's limits and its other labels are final."""
    renderer = _renderer(ax)
    panel = ax.get_window_extent(renderer)
    label.set_verticalalignment("top")
    for text in dict.fromkeys([label.get_text(), *wordings]):
        label.set_text(text)
        depth = -TOP_PT
        while True:
            low = True
            for ha, dx in (("right", -gap), ("left", gap)):
                label.set_horizontalalignment(ha)
                label.xyann = (dx, depth)
                box = label.get_window_extent(renderer)
                if box.y0 < panel.y0:
                    continue
                low = False
                inside = panel.x0 <= box.x0 and box.x1 <= panel.x1 and box.y1 <= panel.y1
                if inside and not hits(ax, box.padded(2), skip=[label]):
                    return True
            if low:
                break
            depth -= DOWN_PT
    label.remove()
    return False


#: the most rows a run of close deadline labels stacks into before a shorter wording
MAX_ROWS = 4
#: a label's gap from its line, and from the panel's top [pt]
GAP_PT, TOP_PT = 4.0, 3.0


def stop_below_labels(ax: Axes, line: Any, gids: Sequence[str]) -> None:
    """Stop vertical ``line`` (an ``axvline``) a point below the lowest of the labels of
    ``gids`` along the top of ``ax`` that it would run through, as :func:`line_labels`
    stops each labelled line at its own label: those labels stand above the data, so the
    line still crosses every month's data. Call it once the labels are placed."""
    from matplotlib.transforms import ScaledTranslation

    renderer = _renderer(ax)
    x = float(ax.get_xaxis_transform().transform((line.get_xydata()[0][0], 0))[0])
    boxes = [t.get_window_extent(renderer) for t in _top_labels(ax, gids)]
    crossed = [box for box in boxes if _crossed(x, box, 1.0)]
    if not crossed:
        return
    fig = ax.figure
    top = ax.get_window_extent(renderer).y1
    drop = (top - min(box.y0 for box in crossed)) / fig.dpi + 1 / 72  # [in]
    down = ScaledTranslation(0, -drop, fig.dpi_scale_trans)  # type: ignore[attr-defined]
    line.set_transform(ax.get_xaxis_transform() + down)


def _crossed(x: float, box: Bbox, pad: float) -> bool:
    return box.x0 - pad < x < box.x1 + pad


def line_labels(
    ax: Axes,
    lines: Sequence[Any],
    wordings: Sequence[Sequence[str]],
    *,
    rows: int | None = None,
    **style: Any,
) -> list[Any]:
    """Label vertical lines (``axvline``) along the panel's top, each beside its line,
    with no label overlapping another or crossed by another label's line: the boxes are
    measured with the figure's renderer.

    A label hangs from the top, right of its line (left when it would pass the panel's
    right edge, or cross a line); one that would overlap a label or cross a line drops a
    row, and each line then stops at the top of its own label, so that the rows above
    are clear. Labels are placed in their longest wording first (``wordings[i]``, longest
    first), row by row; those that find no place within ``rows`` rows (at most
    :data:`MAX_ROWS`; fewer when given) take the next, shorter wording. A line none of
    whose wordings fits is left unlabelled and stops beneath the lowest label.

    Parameters
    ----------
    ax : matplotlib Axes
        The panel, laid out at its final size, its x-limits set.
    lines : sequence of Line2D
        The verticals, as ``ax.axvline`` drew them.
    wordings : sequence of sequence of str
        For each line, its label's wordings, longest first; all with as many text lines.
    rows : int, optional
        The most rows (default :data:`MAX_ROWS`).
    **style
        Text properties of the labels (``fontsize`` [pt], ``color``, ``zorder``, ``gid``).

    Returns
    -------
    list
        Each line's label (an Annotation), or None where none fits.
    """
    from matplotlib.transforms import ScaledTranslation

    renderer = _renderer(ax)
    fig = ax.figure
    size = float(style.get("fontsize", 10))
    n_text = max((w[0].count("\n") + 1 for w in wordings if w), default=1)
    row_pt = n_text * size * 1.25 + 3
    most = min(MAX_ROWS, rows) if rows is not None else MAX_ROWS
    panel = ax.get_window_extent(renderer)
    at = [float(line.get_xydata()[0][0]) for line in lines]  # [data units]
    xs = [float(ax.get_xaxis_transform().transform((x, 0))[0]) for x in at]  # [display]

    def attempt(order: Sequence[int], avoid: set[int]) -> dict[int, tuple[Any, int, Bbox]]:
        placed: dict[int, tuple[Any, int, Bbox]] = {}  # line -> (label, row, box)

        def fits(i: int, row: int, box: Bbox) -> bool:
            if box.x0 < panel.x0 or box.x1 > panel.x1:
                return False
            if any(_crossed(xs[u], box, 1.0) for u in avoid if u != i):
                return False
            for j, (_, row_j, box_j) in placed.items():
                if box.overlaps(box_j):
                    return False
                if row_j <= row and _crossed(xs[j], box, 1.0):  # j's line runs past this row
                    return False
                if row <= row_j and _crossed(xs[i], box_j, 1.0):  # this line runs past j's
                    return False
            return True

        for k in range(max(len(w) for w in wordings)):
            for row in range(most):
                for i in order:
                    if i in placed or k >= len(wordings[i]):
                        continue
                    label = ax.annotate(
                        wordings[i][k],
                        (at[i], 1.0),
                        xycoords=("data", "axes fraction"),
                        xytext=(GAP_PT, -TOP_PT - row * row_pt),
                        textcoords="offset points",
                        va="top",
                        **style,
                    )
                    for right in (True, False):
                        label.set_horizontalalignment("left" if right else "right")
                        label.xyann = (GAP_PT if right else -GAP_PT, -TOP_PT - row * row_pt)
                        box = label.get_window_extent(renderer)
                        if fits(i, row, box):
                            placed[i] = (label, row, box)
                            break
                    else:
                        label.remove()
        return placed

    def worth(placed: dict[int, tuple[Any, int, Bbox]]) -> tuple[int, int]:
        return len(placed), -sum(row for _, row, _ in placed.values())

    def over_unlabelled(placed: dict[int, tuple[Any, int, Bbox]]) -> set[int]:
        """The lines left unlabelled that a label stands over: the label would read as
        theirs (its edge at their line, its own line beyond it)."""
        bare = set(range(len(lines))) - set(placed)
        return {u for u in bare if any(_crossed(xs[u], b, 1.0) for _, _, b in placed.values())}

    # two greedy passes, the lines taken left to right and right to left; the better kept;
    # again, where a label stands over a line left unlabelled, with no label over it
    if not wordings:
        return []
    avoid: set[int] = set()
    for tries in range(3):
        forward = attempt(range(len(lines)), avoid)
        backward = attempt(range(len(lines) - 1, -1, -1), avoid)
        better = worth(forward) >= worth(backward)
        placed, lost = (forward, backward) if better else (backward, forward)
        for label, _, _ in lost.values():
            label.remove()
        over = over_unlabelled(placed)
        if not over or tries == 2:
            break
        avoid |= over
        for label, _, _ in placed.values():
            label.remove()
    for i, (_, _, box) in list(placed.items()):  # (still over one: the key names the line)
        if any(_crossed(xs[u], box, 1.0) for u in over):
            placed.pop(i)[0].remove()
    lowest = max((row for _, row, _ in placed.values()), default=-1)
    for i, line in enumerate(lines):
        row = placed[i][1] if i in placed else lowest + 1
        if row > 0:  # stops at the top of its label: nothing crosses the rows above
            drop = (TOP_PT + row * row_pt) / 72
            down = ScaledTranslation(0, -drop, fig.dpi_scale_trans)  # type: ignore[attr-defined]
            line.set_transform(ax.get_xaxis_transform() + down)
    return [placed[i][0] if i in placed else None for i in range(len(lines))]
