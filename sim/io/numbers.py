"""How a number may be written in a scenario or an observations file, and what to say
when it is written some other way.

The rule is the same everywhere: a number is plain decimal digits, with a point for a
fraction (``2500``, ``0.4``). Forms that another reader could take for a different
number are refused with a hint, never reinterpreted:

* a leading zero (``0700``): YAML 1.1 readers take it for the octal 448;
* octal and hexadecimal (``0o700``, ``0x1F``), exponents (``1e3``), underscores
  (``1_000``) and base-60 (``2:30``, which YAML 1.1 reads as 150);
* a thousands separator where a whole number belongs (``2.500``, which reads as
  two and a half): the hint spells the number out ("for two thousand five hundred
  write 2500").
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

from sim.errors import quoted_short

#: plain decimal: digits without a leading zero, an optional fraction (``.5`` and ``5.`` too)
PLAIN_DECIMAL = re.compile(r"^[-+]?(0|[1-9][0-9]*)(\.[0-9]*)?$|^[-+]?\.[0-9]+$")
#: a whole number with a thousands separator: ``2.500``, ``1,250,000``, ``2 500``
THOUSANDS = re.compile(
    r"^[-+]?[1-9][0-9]{0,2}(?:(?P<sep>[.,\u00a0\u202f ' ])[0-9]{3})(?:(?P=sep)[0-9]{3})*$"
)

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((1_000_000_000, "billion"), (1_000_000, "million"), (1_000, "thousand"))


def spoken(n: int) -> str:
    """``n`` in English words: ``spoken(2500)`` is ``"two thousand five hundred"``."""
    if n < 0:
        return "minus " + spoken(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + ("-" + _ONES[ones] if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return _ONES[hundreds] + " hundred" + (" " + spoken(rest) if rest else "")
    for size, name in _SCALES:
        if n >= size:
            high, rest = divmod(n, size)
            return spoken(high) + " " + name + (" " + spoken(rest) if rest else "")
    raise AssertionError  # pragma: no cover


def thousands_hint(text: str) -> str | None:
    """For a whole number written with a thousands separator (``2.500``): the hint
    ``"for two thousand five hundred write 2500"``; else None."""
    t = text.strip()
    m = THOUSANDS.match(t)
    if m is None:
        return None
    digits = re.sub(r"[^0-9-]", "", t)
    return f"for {spoken(int(digits))} write {int(digits)}"


def form_hint(text: str, *, yaml: bool = True, unit: str = "") -> str | None:
    """What to write instead of a number form that readers disagree on (``0700``,
    ``0o700``, ``0x1F``, ``1e3``, ``1_000``, ``2:30``); None for a plain decimal or for
    text that is no number at all. ``yaml``: say how YAML 1.1 readers take a leading zero;
    ``unit``: written after the number to write (``%``: ``write 5%``, not ``write 5``)."""
    hint = _form_hint(text, yaml)
    if hint is None or not unit:
        return hint
    return re.sub(r"\bwrite (-?[0-9][0-9.]*)", lambda m: f"write {m.group(1)}{unit}", hint)


def _form_hint(text: str, yaml: bool) -> str | None:
    """:func:`form_hint` without a unit."""
    t = text.strip()
    sign = "-" if t.startswith("-") else ""
    body = t.lstrip("+-")
    if PLAIN_DECIMAL.match(t):
        return None
    if re.fullmatch(r"0[0-9]+(\.[0-9]*)?", body):
        plain = sign + (body.lstrip("0") or "0")
        if plain.startswith((".", "-.")):
            plain = plain.replace(".", "0.", 1)
        octal = ""
        if yaml and re.fullmatch(r"0[0-7]+", body):
            octal = f"; YAML 1.1 readers take {t} for the octal {int(sign + body, 8)}"
        return f"write {plain}, without the leading zero{octal}"
    if re.fullmatch(r"0o[0-7]+", body):
        return f"{t} is octal: write {int(sign + body[2:], 8)} if that is meant"
    if re.fullmatch(r"0x[0-9a-fA-F]+", body):
        return f"{t} is hexadecimal: write {int(sign + body[2:], 16)} if that is meant"
    if re.fullmatch(r"0b[01]+", body):
        return f"{t} is binary: write {int(sign + body[2:], 2)} if that is meant"
    if re.fullmatch(r"([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+", body):
        try:
            value = float(t)
        except ValueError:  # pragma: no cover - the pattern is a float
            return None
        if value == value and abs(value) < 1e15:
            plain = f"{value:.15g}" if not value.is_integer() else str(int(value))
            if "e" not in plain:
                return f"write {plain}, without an exponent"
        return "write the number as plain digits, without an exponent"
    if re.fullmatch(r"[0-9][0-9_]*(\.[0-9_]*)?", body) and "_" in body:
        return f"write {sign}{body.replace('_', '')}, without underscores"
    if re.fullmatch(r"[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?", body):
        value = 0
        for part in body.split(".")[0].replace("_", "").split(":"):
            value = value * 60 + int(part)
        return (
            f"YAML 1.1 readers take {t} for the base-60 number {sign}{value}: "
            "write the number as plain digits"
        )
    hint = thousands_hint(t)
    if hint:
        return hint
    return None


def whole_problem(value: float, text: str | None, unit: str) -> tuple[str, str] | None:
    """(expected, found) when ``value`` (written ``text``, when it comes from a file) is
    not a whole number of ``unit`` written plainly; None when it is. ``2.500`` is
    refused although YAML reads it as 2.5, and ``2.000`` although it reads as 2: both
    are most likely a thousands separator (where the value read is the number with the
    separator dropped, as for ``"2,500"`` in a CSV cell, it is fine). Nothing is ever
    rounded."""
    shown = None if text is None else (text if text[:1] in ("'", '"') else repr(text))
    hint = None if text is None else thousands_hint(text)
    if hint is not None and float(value) != float(re.sub(r"[^0-9-]", "", text or "")):
        return f"a whole number of {unit}, without a thousands separator", f"{shown} ({hint})"
    if not float(value).is_integer():
        return f"a whole number of {unit}", shown or plain_number(value)
    return None


def number_hint(text: str) -> str:
    """`` (hint)`` for a text where a number was expected, or ``""``."""
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        inner = t[1:-1].strip()
        if PLAIN_DECIMAL.match(inner):
            return f" (a number in quotes is text: write {inner} without quotes)"
        t = inner
    hint = form_hint(t) or thousands_hint(t)
    return f" ({hint})" if hint else ""


def plain_number(value: float, scale: int = 1) -> str:
    """``value * scale`` as the shortest plain decimal (no exponent, no trailing ``.0``)
    that reads back as ``value`` once divided by ``scale``: ``plain_number(0.07, 100)``
    is ``"7"`` (not ``7.000000000000001``), ``plain_number(1e-07)`` is ``"0.0000001"``,
    ``plain_number(1234567.0)`` is ``"1234567"``. Never rounded: the text reads back as
    the same float."""
    x = float(value)
    if x != x or x in (float("inf"), float("-inf")):
        return repr(x)
    for digits in range(1, 18):
        text = f"{x * scale:.{digits}g}"
        if float(text) / scale == x:
            break
    else:  # pragma: no cover - 17 significant digits always read back
        text = repr(x * scale)
    plain = format(Decimal(text), "f")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return "0" if plain in ("-0", "") else plain


def exact_percent(share: Fraction) -> str:
    """``share`` (a chance, 0 to 1) as a percentage: every digit where that takes at
    most :data:`MOST_DIGITS` significant digits (``19/20`` is ``"95 %"``, ``1 -
    1/10**19`` is ``"99.99999999999999999 %"``, not 100 %); else, marked ``≈``, the
    fewest digits from six up that neither read as 100 % nor 0 % of a chance that is
    neither (``2/3`` is ``"≈66.6667 %"``, ``1 - 1/30000000`` is ``"≈99.999997 %"``).
    A value the user wrote is never shown rounded as though it were exact."""
    from decimal import localcontext

    pct = Fraction(share) * 100
    text = "0"
    for digits in range(1, MOST_DIGITS + 1):
        with localcontext() as ctx:
            ctx.prec = digits
            d = Decimal(pct.numerator) / Decimal(pct.denominator)
        text = format(d, "f")
        text = text.rstrip("0").rstrip(".") if "." in text else text
        if Fraction(text) == pct:
            return f"{text} %"
        if digits >= 6 and Fraction(text) not in (0, 100):
            break
    return f"≈{text} %"


#: the most significant digits :func:`exact_percent` shows
MOST_DIGITS = 40


#: the most digits of a whole number forcesim reads: far more than any of its limits
#: (a seed's, 19 digits; a longer number is refused by its key's own rule), within the
#: 4,300 Python reads as an int before refusing
MAX_DIGITS = 4_000


def too_many_digits(text: str) -> tuple[str, str] | None:
    """(expected, found) for a whole number written with more than :data:`MAX_DIGITS`
    digits (the found text cut short, with its length), or None."""
    digits = len(text.strip().lstrip("+-"))
    if digits <= MAX_DIGITS:
        return None
    return (
        f"a number of at most {MAX_DIGITS:,} digits",
        quoted_short(text.strip(), size=digits, unit="digits"),
    )


#: what a plain decimal :func:`inexact` refuses should be
EXACT_EXPECTED = (
    "a number a 64-bit float holds as written (15 significant digits or fewer always are)"
)


def inexact(text: str) -> str | None:
    """For a plain decimal (:data:`PLAIN_DECIMAL`) that reads as a float other than the
    number written (``2499.9999999999999999`` is the float 2500.0, ``0.99999999999999999``
    is 1.0): what it would be read as (``"2500"``); None when the float, written back as
    forcesim writes numbers (``repr``), is the number written (``0.1``, ``2500.000``)."""
    t = text.strip()
    value = float(t)
    if Decimal(repr(value)) == Decimal(t):
        return None
    read = repr(value)
    return read[:-2] if read.endswith(".0") else read
