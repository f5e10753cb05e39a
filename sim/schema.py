"""The scenario format: one typed definition, the single source of truth.

Every key a scenario file may hold is declared here, with its type, unit and
default. The loader validates raw YAML data against these models; the JSON
Schema printed by ``forcesim schema`` is generated from them; the docs in
``docs/scenario-format.md`` describe them. Nothing after the loader sees a raw
dict.

Units: troop numbers are whole troops [troops]; delays and offsets are whole
calendar months [months]; months are ``YYYY-MM`` strings.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import sys
import types
from collections.abc import Sequence
from fractions import Fraction
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    Tag,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.errors import describe
from sim.months import month_hint, parse_month

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
PROFILES = ("linear", "step", "front", "back", "s-curve")
Profile = Literal["linear", "step", "front", "back", "s-curve"]

Id = Annotated[StrictStr, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Text = Annotated[StrictStr, StringConstraints(max_length=4000)]
#: a scenario's title: the charts' headline, on one line (at 200 characters already at
#: its smallest readable size; the description holds the rest)
Title = Annotated[StrictStr, StringConstraints(max_length=200)]
TrackId = Annotated[  # a theater, or theater/site
    StrictStr, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)?$")
]


def _check_float_range(value: int | float) -> int | float:
    """``value`` when a float can hold it (every number is computed with as a float);
    else ValueError: an int past ``sys.float_info.max`` (about 1.8e308) has no float,
    and made a traceback where it was first used."""
    if isinstance(value, int) and not -sys.float_info.max <= value <= sys.float_info.max:
        raise ValueError(
            "expected a number between -1.8e308 and 1.8e308 (the most a float holds), "
            f"found {value}"
        )
    return value


Number = Annotated[StrictInt | StrictFloat, AfterValidator(_check_float_range)]


def day_meant(value: dt.date) -> str:
    """A day set in code where a month is expected, for a refusal's found part:
    ``the day 2026-11-30 (for that month write 2026-11)``; its day would be dropped
    unsaid if it were taken."""
    day = value.isoformat()[:10]
    return f"the day {day}{month_hint(day)}"


def _check_month(value: Any) -> str:
    """``value`` when it is a real month ``YYYY-MM``; else ValueError("expected …, found …"),
    with the month to write where it names one another way (a day ``2026-12-31``, a
    ``datetime.date``, ``Dec 2026``)."""
    if isinstance(value, dt.date):  # (set in code: its day would be dropped unsaid)
        raise ValueError(f"expected a month as YYYY-MM, found {day_meant(value)}")
    if not isinstance(value, str):
        raise ValueError(f"expected a month as YYYY-MM, found {describe(value)}")
    try:
        parse_month(value)
    except ValueError as exc:  # ("expected …, found …")
        hint = month_hint(value)
        if not hint:
            raise
        raise ValueError(f"{exc}{hint}") from None
    return value


def _check_day_or_month(value: Any) -> dt.date | str:
    """A date ``YYYY-MM-DD`` (as a date) or a month ``YYYY-MM`` (as text), in ASCII digits
    (another script's are the same bad form as any); never a number read as a timestamp."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a real calendar date, found {value!r}") from None
        parse_month(value[:7])  # the year's range
        return day
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}", value):
        return _check_month(value)
    raise ValueError(
        f"expected a date as YYYY-MM-DD or a month as YYYY-MM, found {describe(value)}"
    )


MONTH_PATTERN = r"^\d{4}-\d{2}$"
Month = Annotated[
    str,
    BeforeValidator(_check_month),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "examples": ["2025-09"]}),
]
#: a date or a month: a date comes back as ``datetime.date``, a month as ``YYYY-MM`` text
DayOrMonth = Annotated[
    dt.date | str,
    BeforeValidator(_check_day_or_month),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}(-\d{2})?$",
            "examples": ["2024-09-06", "2024-09"],
        }
    ),
]


class Model(BaseModel):
    """Base for every scenario model: frozen, no NaN, unknown keys refused with a suggestion."""

    model_config = ConfigDict(
        frozen=True, allow_inf_nan=False, populate_by_name=True, extra="forbid"
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = [f.alias or name for name, f in cls.model_fields.items()]
            for key in data:
                if key not in allowed and key not in cls.model_fields:
                    hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key",
                        {"key": str(key), "allowed": allowed, "hint": hint[0] if hint else ""},
                    )
        return data


# ---------------------------------------------------------------- quantities


#: the largest weight of a ``choice``: whole numbers up to it are exact as floats, and a
#: thousand of them add up to a finite sum
MAX_WEIGHT = 10**15


def _check_weight(weight: float) -> float:
    """A ``choice`` weight of at most :data:`MAX_WEIGHT` (larger ones overflowed the
    float sum, silently dropping a value, or could not be made a float at all)."""
    if not weight <= MAX_WEIGHT:
        raise ValueError(
            f"expected a weight of at most {MAX_WEIGHT:,} (weights are odds: only their "
            f"ratios count), found {weight}"
        )
    return weight


# (its own bound, far below a float's, is the one to name)
Weight = Annotated[StrictInt | StrictFloat, AfterValidator(_check_weight)]


class Choice(Model):
    """A discrete distribution: ``values`` with optional positive ``weights``."""

    values: list[Number] = Field(min_length=1, max_length=1000)
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"expected one weight per value ({len(self.values)}), "
                    f"found {len(self.weights)} weights"
                )
            if any(w <= 0 for w in self.weights):
                raise ValueError(f"expected positive weights, found {self.weights}")
        return self


#: the keys of a number's mapping that say how it is drawn (exactly one is given)
NUMBER_FORMS = ("value", "uniform", "triangular", "choice")


class Spec(Model):
    """A number written as a mapping: a value or a distribution, with its provenance.

    Exactly one of ``value``, ``uniform``, ``triangular`` or ``choice`` (:data:`NUMBER_FORMS`).
    ``probability`` is the chance that the quantity applies at all; when it
    does not, the quantity is 0 (no residual, no slip).
    """

    value: Number | None = None
    uniform: list[Number] | None = Field(default=None, min_length=2, max_length=2)
    triangular: list[Number] | None = Field(default=None, min_length=3, max_length=3)
    choice: Choice | None = None
    probability: Number | None = None
    source: Id | None = None
    assumption: Text | None = None
    quote: Text | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Spec:
        given = [k for k in NUMBER_FORMS if getattr(self, k) is not None]
        if len(given) != 1:
            # (a form written with nothing after it, `value:` or `value: null`, is named)
            empty = [k for k in NUMBER_FORMS if k in self.model_fields_set and k not in given]
            found = " and ".join(given) if given else "none of them"
            if not given and empty:
                found = " and ".join(f"{k} with no number (null)" for k in empty)
            raise ValueError(
                f"expected exactly one of value, uniform, triangular, choice, found {found}"
            )
        if self.uniform is not None and not self.uniform[0] <= self.uniform[1]:
            raise ValueError(
                f"expected uniform: [low, high] with low <= high, found {self.uniform}"
            )
        if self.triangular is not None:
            lo, mode, hi = self.triangular
            if not lo <= mode <= hi:
                raise ValueError(
                    f"expected triangular: [low, mode, high] with "
                    f"low <= mode <= high, found {self.triangular}"
                )
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError(f"expected a probability between 0 and 1, found {self.probability}")
        return self

    @property
    def support(self) -> tuple[float, float]:
        """Lowest and highest value the quantity can take (0 included when it may not apply)."""
        if self.value is not None:
            lo = hi = float(self.value)
        elif self.uniform is not None:
            lo, hi = float(self.uniform[0]), float(self.uniform[1])
        elif self.triangular is not None:
            lo, hi = float(self.triangular[0]), float(self.triangular[2])
        else:
            assert self.choice is not None
            lo, hi = float(min(self.choice.values)), float(max(self.choice.values))
        if self.probability is not None and self.probability < 1:
            lo, hi = min(lo, 0.0), max(hi, 0.0)
        return lo, hi

    @property
    def central(self) -> float:
        """The value a deterministic run uses (see docs/scenario-format.md)."""
        if self.probability is not None and self.probability < 0.5:
            return 0.0
        if self.value is not None:
            return float(self.value)
        if self.uniform is not None:
            return (self.uniform[0] + self.uniform[1]) / 2
        if self.triangular is not None:
            return float(self.triangular[1])
        assert self.choice is not None
        return _weighted_median(self.choice.values, self.choice.weights)

    @property
    def uncertain(self) -> bool:
        return self.value is None or (self.probability is not None and self.probability < 1)


def _weighted_median(values: list[Number], weights: list[Number] | None) -> float:
    """The smallest value whose cumulative weight reaches half the total weight
    (docs/scenario-format.md, "Distributions and central values").

    Summed exactly, each weight as the decimal it prints as (``0.1`` is one tenth, as
    written): a tolerance in floating point decided near-ties by the weights' scale, so
    weights ``[1e-12, 3e-12]`` took the first value and ``[1, 3]`` the second."""
    pairs = sorted(zip(values, weights or [1] * len(values), strict=True))
    exact = [(v, Fraction(repr(w)) if isinstance(w, float) else Fraction(w)) for v, w in pairs]
    half = sum(w for _, w in exact) / 2
    acc = Fraction(0)
    for v, w in exact:
        acc += w
        if acc >= half:
            return float(v)
    return float(pairs[-1][0])


def _quantity_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict | Spec):
        return "spec"
    return None


Quantity = Annotated[
    Annotated[Number, Tag("number")] | Annotated[Spec, Tag("spec")],
    Discriminator(
        _quantity_kind,
        custom_error_type="quantity",
        custom_error_message="a number, or a mapping with value/uniform/triangular/choice",
    ),
]


def central(q: Number | Spec) -> float:
    """The deterministic value of a quantity."""
    return q.central if isinstance(q, Spec) else float(q)


def support(q: Number | Spec) -> tuple[float, float]:
    """The lowest and highest value a quantity can take."""
    return q.support if isinstance(q, Spec) else (float(q), float(q))


# ---------------------------------------------------------------- metadata


class Source(Model):
    """A document the scenario's numbers come from."""

    id: Id
    title: Text
    publisher: Text | None = None
    date: DayOrMonth | None = None
    url: Text | None = None
    seed: Text | None = Field(
        default=None,
        description="the file name of a local copy of the document (not shipped)",
    )
    quote: Text | None = None


class Calendar(Model):
    """The months a run covers: ``start`` holds the initial levels; ``end`` is the horizon."""

    start: Month
    end: Month

    @model_validator(mode="after")
    def _order(self) -> Calendar:
        months = parse_month(self.end) - parse_month(self.start)
        if months < 1:
            raise ValueError(f"expected end after start, found {self.start} to {self.end}")
        if months > 600:
            raise ValueError(
                f"expected a horizon of at most 600 months (50 years), found {months} months"
            )
        return self


class Announcement(Model):
    """When the plan becomes official: ``expected`` month plus ``delay`` [months]."""

    expected: Month
    delay: Quantity = 0
    source: Id | None = None
    assumption: Text | None = None


UNREPORTED = (
    "reporting basis [troops]: troops present that official figures leave out (such as "
    "temporary forces). With it, `initial` is the official figure and the whole force "
    "starts at initial + unreported; in every month the official figure is the level "
    "less the unreported part (never below 0). Any number form; 0 or more."
)


class Site(Model):
    """A named part of a theater (a base, a city) with its own initial level [troops]."""

    name: Text | None = None
    initial: Quantity
    unreported: Quantity | None = Field(default=None, description=UNREPORTED)


class Theater(Model):
    """A country-level force. With ``sites``, its level is the sum of its sites'."""

    name: Text | None = None
    initial: Quantity | None = None
    unreported: Quantity | None = Field(default=None, description=UNREPORTED)
    sites: dict[Id, Site] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _initial_given(self) -> Theater:
        if self.initial is None and not self.sites:
            raise PydanticCustomError("missing_initial", "initial missing", {})
        return self


# ---------------------------------------------------------------- milestones


class AfterAnnouncement(Model):
    """A deadline ``after_announcement`` months after the announcement (it slips with it)."""

    after_announcement: StrictInt = Field(ge=0, le=600)


class AfterMilestone(Model):
    """A deadline ``months`` after another milestone is reached."""

    after: Id
    months: StrictInt = Field(ge=0, le=600)


def _deadline_kind(value: Any) -> str | None:
    if isinstance(value, str | dt.date):  # (a day set in code: refused as a month, with its month)
        return "month"
    if isinstance(value, dict):
        if "after_announcement" in value:
            return "announcement"
        if "after" in value:
            return "milestone"
    if isinstance(value, AfterAnnouncement):
        return "announcement"
    if isinstance(value, AfterMilestone):
        return "milestone"
    return None


Deadline = Annotated[
    Annotated[Month, Tag("month")]
    | Annotated[AfterAnnouncement, Tag("announcement")]
    | Annotated[AfterMilestone, Tag("milestone")],
    Discriminator(
        _deadline_kind,
        custom_error_type="deadline",
        custom_error_message="a month YYYY-MM, {after_announcement: N} or {after: ID, months: N}",
    ),
]


class Target(Model):
    """What a milestone reaches: a ``level`` [troops] or a reduction ``reduce_by`` [troops]."""

    level: Quantity | None = None
    reduce_by: Quantity | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if (self.level is None) == (self.reduce_by is None):
            raise ValueError(
                "expected exactly one of level or reduce_by, found "
                + ("both" if self.level is not None else "neither")
            )
        return self


class Milestone(Model):
    """A target for a theater (``iraq``) or a site (``iraq/erbil``) by a deadline."""

    theater: TrackId
    deadline: Deadline
    target: Target
    profile: Profile = "linear"
    slips: StrictBool = False
    delay: Quantity | None = Field(
        default=None,
        description="execution delay [months]: how far completing the milestone falls "
        "behind its deadline (0 or more; any number form, drawn per draw)",
    )
    description: Text | None = None
    source: Id | None = None
    assumption: Text | None = None


class FromMilestone(Model):
    """A residual that starts with a milestone's window."""

    milestone: Id


class Residual(Model):
    """A force that stays in a theater or site after the drawdown."""

    theater: TrackId
    size: Quantity
    from_: Month | FromMilestone = Field(alias="from")
    until: Month | None = None
    description: Text | None = None


class Variant(Model):
    """A named reading of the scenario: ``overrides`` deep-merged on the base."""

    description: Text
    overrides: dict[str, Any] = Field(default_factory=dict)


class Observation(Model):
    """A reported troop level (a point, a range, or an open-ended bound), an official
    figure, or a target; see docs/observations.md."""

    date: DayOrMonth
    theater: StrictStr
    troops_low: Number | None = None
    troops_high: Number | None = None
    kind: Literal["reported", "official", "target"] | None = Field(
        default=None,
        description="reported (default: a count somebody gave, compared with the whole "
        "force), official (a declared figure, compared with the official figure) or "
        "target (a plan or promise: drawn, never scored)",
    )
    tolerance: StrictStr | Number | None = Field(
        default=None,
        description="this report's own tolerance, as --tolerance: '5%' of each bound "
        "or a number of troops",
    )
    by: dt.date | Month | None = Field(
        default=None, description="for a target: the month it is due (drawn there)"
    )
    source: Text | None = None
    quote: Text | None = None


class ScenarioDoc(Model):
    """A whole scenario, after ``extends`` and (for a variant) its overrides."""

    id: Id
    title: Title
    description: Text | None = None
    as_of: DayOrMonth
    extends: Text | None = None
    sources: list[Source] = Field(default_factory=list, max_length=200)
    calendar: Calendar
    announcement: Announcement
    theaters: dict[Id, Theater] = Field(min_length=1, max_length=50)
    milestones: dict[Id, Milestone] = Field(default_factory=dict, max_length=200)
    residuals: dict[Id, Residual] = Field(default_factory=dict, max_length=50)
    variants: dict[Id, Variant] = Field(default_factory=dict, max_length=100)
    observations: Annotated[list[Observation], Field(min_length=1)] | Text | None = None


# ---------------------------------------------------------------- positions


def types_at(path: Sequence[str | int]) -> list[Any]:
    """What the format allows at the key path ``path`` of a scenario document.

    The answer comes from the models above, never from the keys a mapping holds:
    at ``theaters.value.initial`` stands a number, at ``theaters.value`` a theater
    (an id is any id, ``value`` or ``choice`` included). A variant's ``overrides``
    hold the document's own keys, so ``variants.late.overrides.theaters.iraq``
    is a theater too.

    Parameters
    ----------
    path : sequence of str or int
        Keys from the top of the document (ints index lists).

    Returns
    -------
    list
        Each type that may stand there, unions and ``Annotated`` unwrapped
        (a model class such as :class:`Spec`, ``dict[...]``, ``list[...]``, or a
        scalar type); empty when the format has no such key.
    """
    here: list[Any] = [ScenarioDoc]
    for part in path:
        here = _alternatives([child for tp in here for child in _child(tp, part)])
        if not here:
            break
    return here


def number_at(path: Sequence[str | int]) -> bool:
    """Whether a number (a plain number or a :class:`Spec` mapping) stands at ``path``
    (:func:`types_at`): ``announcement.delay``, ``theaters.ID.initial``, ..."""
    return Spec in types_at(path)


def _alternatives(annotations: Sequence[Any]) -> list[Any]:
    """The types the annotations allow, each once: ``Annotated`` and unions unwrapped."""
    out: list[Any] = []
    for tp in annotations:
        origin = get_origin(tp)
        if origin is Annotated:
            members = _alternatives([get_args(tp)[0]])
        elif origin is Union or origin is types.UnionType:
            members = _alternatives(get_args(tp))
        else:
            members = [tp]
        out.extend(m for m in members if m not in out)
    return out


def _child(tp: Any, part: str | int) -> list[Any]:
    """The annotations of what stands at key ``part`` inside a value of type ``tp``."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp is Variant and part == "overrides":
            return [ScenarioDoc]  # overrides restate the document's keys
        for name, f in tp.model_fields.items():
            if part in (name, f.alias):
                return [f.annotation]
        return []
    origin = get_origin(tp)
    if origin is dict and isinstance(part, str):
        return [get_args(tp)[1]]
    if origin is list and isinstance(part, int):
        return [get_args(tp)[0]]
    return []
