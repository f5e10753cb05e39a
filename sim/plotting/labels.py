"""Words for key paths and inputs, for the sweep and tornado charts.

``announcement.delay`` reads "Announcement delay"; a quantity's range is written
from its distribution (``uniform: [300, 900]`` → "300–900 troops"), with its
chance when it has a probability.
"""

from __future__ import annotations

from typing import Any, get_origin

from sim.schema import NUMBER_FORMS, ScenarioDoc, Spec, number_at, support, types_at


def _theater(doc: ScenarioDoc, tid: str) -> str:
    theater = doc.theaters.get(tid)
    return (theater.name if theater is not None and theater.name else None) or tid.title()


def _track(doc: ScenarioDoc, key: str) -> str:
    """A milestone's or residual's ``theater`` (``iraq`` or ``iraq/erbil``) in words."""
    tid, _, site = key.partition("/")
    if not site:
        return _theater(doc, tid)
    theater = doc.theaters.get(tid)
    named = theater.sites.get(site) if theater is not None else None
    return (
        f"{(named.name if named and named.name else None) or site.title()} ({_theater(doc, tid)})"
    )


#: a key's end inside a number's form: the number's own choices or their weights
FORM_ENDS = (["choice", "values"], ["choice", "weights"])
#: the fields that hold a month ``YYYY-MM``
MONTH_FIELDS = ("deadline", "expected", "from", "until", "start", "end")


def _number_end(parts: list[str]) -> int | None:
    """How many parts of a key path lead to a number (``announcement.delay`` in
    ``announcement.delay.choice.weights``: 2), or None: found by the place in the
    format (:func:`sim.schema.number_at`), so a theater called ``value`` is a theater."""
    return next((k for k in range(len(parts), 0, -1) if number_at(parts[:k])), None)


def _is_entry(parts: list[str]) -> bool:
    """Whether the key path ends at an entry of a table (``milestones.end``), whose
    last part is an id, not a field."""
    return any(get_origin(t) is dict for t in types_at(parts[:-1]))


def key_unit(key: str) -> str:
    """The unit of the value at ``key``: ``months``, ``share`` (a probability),
    ``month`` (a date), ``troops``, ``weight`` (the relative weights of a number's
    choices, ``...choice.weights``: no unit), or ``""`` (not a number: a whole
    entry such as ``milestones.ID``, a source). A number's own form (``...uniform``,
    ``...choice.values``) has the number's unit. Told by the key's place in the
    format, not by the names of the ids in it."""
    parts = key.split(".")
    at = _number_end(parts)
    if at is not None:
        form = parts[at:]
        if form == ["choice", "weights"]:
            return "weight"
        if form == ["probability"]:
            return "share"
        if form and form[0] not in NUMBER_FORMS:
            return ""  # its source, assumption or quote
        # the two numbers counted in months: announcement.delay and milestones.ID.delay
        return "months" if parts[at - 1] == "delay" else "troops"
    if _is_entry(parts) or not types_at(parts):
        return ""
    if parts[-1] in ("after_announcement", "months"):
        return "months"
    if parts[-1] in MONTH_FIELDS:
        return "month"
    return ""


def key_label(doc: ScenarioDoc, key: str) -> str:
    """``key`` (a dotted key path) in words, e.g. "Announcement delay"; a key inside a
    number's form names the number ("Announcement delay: weights of its choices")."""
    parts = key.split(".")
    if parts[-2:] in FORM_ENDS and number_at(parts[:-2]):
        number = key_label(doc, ".".join(parts[:-2]))
        return f"{number}: {'its choices' if parts[-1] == 'values' else 'weights of its choices'}"
    chance = parts[-1] == "probability" and number_at(parts[:-1])
    core = parts[:-1] if chance else parts
    text: str | None = None
    if core == ["announcement", "delay"]:
        text = "Announcement delay" if not chance else "Chance the announcement slips"
    elif core == ["announcement", "expected"]:
        text = "Expected announcement"
    elif len(core) >= 3 and core[0] == "theaters" and core[-1] == "initial":
        if len(core) == 5 and core[2] == "sites":
            text = f"Troops at {_track(doc, core[1] + '/' + core[3])} at the start"
        else:
            text = f"Troops in {_theater(doc, core[1])} at the start"
    elif len(core) >= 3 and core[0] == "theaters" and core[-1] == "unreported":
        where = (
            _track(doc, core[1] + "/" + core[3])
            if len(core) == 5 and core[2] == "sites"
            else _theater(doc, core[1])
        )
        text = f"Troops left out of official figures in {where}"
    elif len(core) >= 3 and core[0] == "milestones" and core[1] in doc.milestones:
        ms = doc.milestones[core[1]]
        where = _track(doc, ms.theater)
        if core[2:] == ["target", "reduce_by"]:
            text = f"Troops leaving {where} by {core[1]}"
        elif core[2:] == ["target", "level"]:
            text = f"{where} level targeted by {core[1]}"
        elif core[2] == "deadline":
            text = f"Deadline of {core[1]}"
        elif core[2:] == ["delay"]:
            text = f"Execution delay of {core[1]}" if not chance else f"Chance {core[1]} runs late"
    elif len(core) >= 3 and core[0] == "residuals" and core[1] in doc.residuals:
        where = _track(doc, doc.residuals[core[1]].theater)
        if core[2:] == ["size"]:
            text = (
                f"Size of the {core[1]} residual in {where}"
                if not chance
                else f"Chance the {core[1]} residual stays in {where}"
            )
    if text is None:
        return key
    return text


def _number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")


def quantity_range(q: Any, unit: str) -> str:
    """The values a quantity takes, in words: "300–900 troops", "0, 1, 2 or 6 months",
    "150–600 troops, 40 % chance (else 0)"."""
    plain = q.model_copy(update={"probability": None}) if isinstance(q, Spec) else q
    if isinstance(plain, Spec) and plain.choice is not None:
        values = sorted(set(plain.choice.values))
        shown = [_number(v) for v in values]
        text = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    else:
        lo, hi = support(plain)
        text = _number(lo) if lo == hi else f"{_number(lo)}–{_number(hi)}"
    text += f" {unit}" if unit in ("months", "troops") else ""
    if isinstance(q, Spec) and q.probability is not None and q.probability < 1:
        text += f", {100 * q.probability:.0f} % chance (else 0)"
    return text


def input_label(doc: ScenarioDoc, key: str, q: Any) -> str:
    """An uncertain input in words with its range: "Announcement delay (0, 1, 2, 3, 6,
    9 or 12 months)"."""
    return f"{key_label(doc, key)} ({quantity_range(q, key_unit(key))})"
