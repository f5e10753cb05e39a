"""Calendar months: parsing ``YYYY-MM`` and exact month arithmetic; how a day is
spelled for a reader.

A month is held as an ordinal, ``year * 12 + (month - 1)``, so that adding
``n`` months is integer addition and 2024-09 plus 6 months is 2025-03.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def parse_month(text: str) -> int:
    """Ordinal of a ``YYYY-MM`` string; raises ``ValueError`` naming what was wrong."""
    if not isinstance(text, str):
        raise ValueError(f"expected a month as YYYY-MM, found {text!r}")
    m = _MONTH.fullmatch(text)
    if not m:
        raise ValueError(f"expected a month as YYYY-MM, found {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"expected a month between 01 and 12, found {text!r}")
    if not 1900 <= year <= 2200:
        raise ValueError(f"expected a year between 1900 and 2200, found {text!r}")
    return year * 12 + month - 1


def format_month(ordinal: int) -> str:
    """``YYYY-MM`` for a month ordinal."""
    year, month0 = divmod(int(ordinal), 12)
    return f"{year:04d}-{month0 + 1:02d}"


def add_months(text: str, n: int) -> str:
    """``YYYY-MM`` plus ``n`` calendar months."""
    return format_month(parse_month(text) + n)


_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def first_day(value: dt.date | str) -> dt.date:
    """The first day a date may stand for: a day as written (``YYYY-MM-DD``, or a date),
    or for a month alone (``YYYY-MM``) its first day: a report or source dated by its
    month may have come out on any of its days."""
    if isinstance(value, dt.date):
        return value
    parts = [int(p) for p in str(value).split("-")]
    return dt.date(parts[0], parts[1], parts[2] if len(parts) > 2 else 1)


def spell_day(day: dt.date) -> str:
    """A day as the charts and the report page write it: ``1 Jun 2025`` (no leading zero,
    English month whatever the locale). Files (CSV, run.json) keep ISO dates."""
    return f"{day.day} {_ABBR[day.month - 1]} {day.year}"


def spell_month(text: str) -> str:
    """A calendar month (``YYYY-MM``) as the charts and the report page write it: ``Sep 2025``
    (English month whatever the locale), as :func:`spell_day` writes a day. Raises
    ``ValueError`` as :func:`parse_month` does. Files (CSV, run.json) keep ISO months."""
    year, month0 = divmod(parse_month(text), 12)
    return f"{_ABBR[month0]} {year}"


def spell_date(value: dt.date | str) -> str:
    """A date as written in a scenario, a day or a month (``YYYY-MM``), spelled as
    :func:`spell_day` does: ``6 Sep 2024``, ``Sep 2024``; other text as it is."""
    if isinstance(value, dt.date):
        return spell_day(value)
    try:
        return spell_month(str(value))
    except ValueError:
        pass
    try:
        return spell_day(dt.date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def month_meant(text: str) -> str | None:
    """The month ``YYYY-MM`` that ``text``, written another way, names (``Dec 2026``,
    ``December 2026``, ``2026-12-31``, ``2026/12``, ``12/2026``), for a hint beside a
    refusal; None when it names none of these ways (or holds digits of another script,
    which ``strptime`` would read as these)."""
    if not text.isascii():
        return None
    for form in ("%b %Y", "%B %Y", "%Y-%m-%d", "%Y/%m", "%m/%Y", "%Y-%m"):
        try:
            return f"{dt.datetime.strptime(text.strip(), form):%Y-%m}"
        except ValueError:
            continue
    return None


def month_hint(text: str) -> str:
    """`` (for that month write 2026-12)``, the hint a refusal of ``text`` as a month
    gives where it names one another way (:func:`month_meant`); "" where it names none,
    or is that month already written YYYY-MM (a month out of range, ``2026-13``)."""
    meant = month_meant(text)
    return f" (for that month write {meant})" if meant is not None and meant != text else ""
