"""Stepper arrays → tidy pandas DataFrames, and the :class:`Result` a run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ScenarioError
from sim.model.plan import Plan
from sim.model.rules import official
from sim.model.stepper import StepOutput
from sim.months import parse_month
from sim.scenario import Scenario
from sim.schema import ScenarioDoc

MONTHLY_COLUMNS = ["scenario", "variant", "theater", "month", "troops"]
#: the frames of a Result, whose contents a run directory records
FRAMES = ("monthly", "milestones", "bands", "dates")
MILESTONE_COLUMNS = [
    "scenario",
    "variant",
    "milestone",
    "theater",
    "deadline",
    "target",
    "month_reached",
    "met",
]


#: the month ordinal (:mod:`sim.months`) of pandas' monthly period 0, 1970-01
PERIOD_ZERO = 1970 * 12


def month_periods(ordinals: Any) -> pd.PeriodIndex:
    """Monthly periods of month ordinals (:mod:`sim.months`), made from the integers
    (``PeriodIndex.from_ordinals`` from pandas 2.2; a period array of them before)."""
    values = np.asarray(ordinals, np.int64) - PERIOD_ZERO
    make = getattr(pd.PeriodIndex, "from_ordinals", None)
    if make is not None:
        return make(values, freq="M")  # type: ignore[no-any-return]
    return pd.PeriodIndex(pd.arrays.PeriodArray(values, dtype=pd.PeriodDtype("M")))


def month_period(ordinal: int) -> pd.Period:
    """The monthly period of one month ordinal."""
    return pd.Period(ordinal=int(ordinal) - PERIOD_ZERO, freq="M")


def monthly_frame(
    scenario_id: str,
    variant: str,
    plan: Plan,
    out: StepOutput,
    unreported: np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per theater (and site) and month of draw 0 of ``out``.

    With ``unreported`` (tracks,) [troops], the troops each track's official figures
    leave out in this run, an ``official`` column gives each row's official figure:
    the sum over its tracks of ``max(level - unreported, 0)``
    (:func:`sim.model.rules.official`).
    """
    return monthly_of([monthly_columns(scenario_id, variant, plan, out, unreported)])


def monthly_columns(
    scenario_id: str,
    variant: str,
    plan: Plan,
    out: StepOutput,
    unreported: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The columns of :func:`monthly_frame` (``month`` as month ordinals), for
    :func:`monthly_of` to make one frame of several variants."""
    names: list[str] = []
    blocks: list[np.ndarray] = []
    for t, tid in enumerate(plan.theaters):
        names.append(tid)
        blocks.append(out.theaters[0, t])
        for k in plan.theater_tracks(tid):
            if plan.tracks[k].site is not None:
                names.append(plan.tracks[k].key)
                blocks.append(out.tracks[0, k])
    columns = {
        **key_columns(scenario_id, variant, plan, names),
        "troops": np.concatenate(blocks).astype(np.int64),
    }
    if unreported is not None:
        parts = [
            sum(
                official(out.tracks[0, k].astype(np.int64), int(unreported[k]))
                for k in plan.series_tracks(name)
            )
            for name in names
        ]
        columns["official"] = np.concatenate(parts).astype(np.int64)
    return columns


def key_columns(
    scenario_id: str, variant: str, plan: Plan, names: list[str]
) -> dict[str, np.ndarray]:
    """The key columns of one variant's rows, a row per series ``names[i]`` and month of
    ``plan``, series by series: ``scenario``, ``variant``, ``theater`` (the series) and
    ``month`` (month ordinals), each (series x months,)."""
    months, rows = plan.n_months, plan.n_months * len(names)
    return {
        "scenario": _repeated(scenario_id, rows),
        "variant": _repeated(variant, rows),
        "theater": np.repeat(np.array(names, dtype=object), months),
        "month": np.tile(plan.start + np.arange(months, dtype=np.int64), len(names)),
    }


def _fingerprint(frame: pd.DataFrame | None) -> tuple[Any, ...] | None:
    """What :meth:`Result.changed` compares: a frame's columns, dtypes and number of
    rows, and a 64-bit hash of each row with its index (pandas'
    ``hash_pandas_object``: a changed value goes unnoticed with odds of 2^-64 per row).
    That hash takes -0.0 for 0.0 (they compare equal), which are written apart: the sign
    of each float column's values is folded into it, a multiplier per column."""
    if frame is None:
        return None
    rows = pd.util.hash_pandas_object(frame, index=True).to_numpy()
    for j in range(frame.shape[1]):
        column = frame.iloc[:, j]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
            signs = np.signbit(column.to_numpy())
            if signs.any():
                rows = rows ^ signs.astype(np.uint64) * np.uint64(_SIGN_MIX * (j + 1) % 2**64)
    return list(frame.columns), [str(t) for t in frame.dtypes], len(frame), rows


#: an odd 64-bit multiplier (2^64 over the golden ratio) that spreads a column's sign bits
_SIGN_MIX = 0x9E3779B97F4A7C15


def _repeated(text: str, rows: int) -> np.ndarray:
    """An object array (rows,) of the one string ``text``: every row refers to it
    (``np.full(rows, text, dtype=object)`` made a new string per row, 110 bytes a row
    of bands for the scenario's id and the variant's name)."""
    out = np.empty(rows, dtype=object)
    out.fill(text)
    return out


def monthly_of(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One frame of the rows of ``parts`` (:func:`monthly_columns`, each with the same
    columns), in order: the frame ``pandas.concat`` of each part's own frame gives."""
    return frame_of(parts)


def frame_of(parts: list[dict[str, Any]], columns: list[str] | None = None) -> pd.DataFrame:
    """One frame of the rows of ``parts``, each a column array by name with a ``month``
    column of month ordinals (:mod:`sim.months`), in order: the frame ``pandas.concat``
    of each part's own frame gives, ``month`` as monthly periods. ``columns``: the
    columns and their order; by default the first part's."""
    names = columns if columns is not None else list(parts[0])
    both = {c: np.concatenate([p[c] for p in parts]) for c in names}
    both["month"] = month_periods(both["month"]).array
    return pd.DataFrame(both, columns=names)


def milestone_frame(scenario_id: str, variant: str, plan: Plan, out: StepOutput) -> pd.DataFrame:
    """One row per milestone of draw 0: deadline after any slip, month reached, met."""
    return milestones_of([milestone_columns(scenario_id, variant, plan, out)])


def milestone_columns(
    scenario_id: str, variant: str, plan: Plan, out: StepOutput
) -> dict[str, Any]:
    """The columns of :func:`milestone_frame` (deadlines and months reached as month
    ordinals), for :func:`milestones_of` to make one frame of several variants."""
    deadline = out.deadline[0]
    reached = out.reached[0]
    return {
        "scenario": scenario_id,
        "variant": variant,
        "milestone": [m.id for m in plan.milestones],
        "theater": [plan.tracks[m.track].key for m in plan.milestones],
        "deadline": plan.start + np.asarray(deadline, np.int64),
        "target": out.target[0].round().astype(np.int64),
        "month_reached": plan.start + np.asarray(reached, np.int64),
        "met": reached <= deadline,
    }


def milestones_of(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One frame of the rows of ``parts`` (:func:`milestone_columns`), in order: the
    frame ``pandas.concat`` of each part's own frame gives (made as that concat when
    some part has no milestones: its own frame then holds other column types)."""
    if len(parts) > 1 and any(len(p["milestone"]) == 0 for p in parts):
        return pd.concat([milestones_of([p]) for p in parts], ignore_index=True)
    both: dict[str, Any] = {
        c: (
            [x for p in parts for x in p[c]]
            if isinstance(parts[0][c], list)
            else np.concatenate([p[c] for p in parts])
        )
        for c in MILESTONE_COLUMNS[2:]
    }
    for c in ("scenario", "variant"):  # (a part's own frame: the one value on each row)
        both[c] = (
            parts[0][c]
            if len(parts) == 1
            else np.repeat(
                np.array([p[c] for p in parts], dtype=object), [len(p["milestone"]) for p in parts]
            )
        )
    both["deadline"] = month_periods(both["deadline"])
    both["month_reached"] = month_periods(both["month_reached"])
    return pd.DataFrame(both, columns=MILESTONE_COLUMNS)


@dataclass(frozen=True)
class Result:
    """What :func:`sim.run` returns.

    Attributes
    ----------
    scenario : Scenario
    variants : list of str
    monthly : pandas.DataFrame
        ``scenario, variant, theater, month, troops``; ``month`` is a monthly
        ``Period``; theater totals, and site rows as ``iraq/erbil``. When some
        theater has a reporting basis (``unreported``), also ``official``: the
        official figure, ``troops`` less the unreported part [troops].
    milestones : pandas.DataFrame
        ``scenario, variant, milestone, theater, deadline, target,
        month_reached, met``, one row per variant and milestone: ``deadline``
        (after any slip) and ``month_reached`` are monthly ``Period`` s, ``target``
        the level the milestone reaches [troops], ``met`` is ``month_reached <=
        deadline`` of the central run. An ensemble adds ``p_met``, the share (0–1)
        of draws that reach the target by the original, unslipped deadline.
    bands : pandas.DataFrame or None
        ``scenario, variant, theater, month, mean, min, p05, p10, p25, p50, p75,
        p90, p95, max`` [troops], one row per variant, theater (and site) and
        month: ``pXX`` is the smallest level with at least XX % of the draws at or
        below it (the inverse of the empirical distribution function, Hyndman &
        Fan 1996, definition 1: :func:`sim.analysis.scores.percentile`), exact
        over the draws; ``mean`` rounded to 3 decimals. None without draws.
    dates : pandas.DataFrame or None
        ``scenario, variant, theater, threshold, level, p10, p50, p80, p90,
        never``, one row per variant, theater (and site) and threshold (``zero``,
        ``residual ID``, ``milestone ID``) at ``level`` [troops]: ``pXX`` the
        month (a monthly ``Period``) by which XX % of the draws have first been at
        or below the level, ``NaT`` when that many never are within the horizon;
        ``never`` the share (0–1) of draws that never are. None without draws.
    draws, seed : int or None
        The ensemble's size and seed; None for a deterministic run.
    observed : Assessment or ObservationSet or None
        Observations scored against the run (:func:`sim.with_observations`), or
        read back from a run directory; the charts draw them.
    counts : dict
        With ``keep_counts``: each variant's level counts
        (:class:`sim.analysis.ensemble.LevelCounts`).
    central : dict
        Each variant's deterministic central run (:class:`sim.model.stepper.StepOutput`).

    A Result is frozen: analyses return new Results (``dataclasses.replace``). Its
    frames are pandas DataFrames, which code may still change in place; each one's
    columns, dtypes and a hash of each row as made are kept, so that :meth:`changed`
    can say which were, and a run directory is never written from them
    (:func:`sim.write_run`).
    """

    scenario: Scenario
    variants: list[str]
    monthly: pd.DataFrame
    milestones: pd.DataFrame
    plans: dict[str, Plan] = field(repr=False)
    bands: pd.DataFrame | None = None
    dates: pd.DataFrame | None = None
    draws: int | None = None
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)
    observed: Any = field(default=None, repr=False)
    counts: dict[str, Any] = field(default_factory=dict, repr=False)
    central: dict[str, StepOutput] = field(default_factory=dict, repr=False)
    _made: dict[str, Any] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        # each frame's fingerprint, not a copy: a copy doubled the memory of a large
        # run's frames (a million rows of bands for 100 variants x 50 theaters)
        made = {name: _fingerprint(f) for name, f in self._frames().items()}
        object.__setattr__(self, "_made", {"variants": list(self.variants), **made})

    def _frames(self) -> dict[str, pd.DataFrame | None]:
        return {name: getattr(self, name) for name in FRAMES}

    def made_digest(self) -> str:
        """What tells this run from another, as made (a change in place since is not
        seen): the sha256, as hex, of its scenario id, draws, seed and variants and the
        hash of each row of its levels (``monthly``) and bands as made. Two runs of the
        same scenario, inputs and seed share it; an assessment of one is refused on
        another (:func:`sim.with_observations`)."""
        import hashlib

        h = hashlib.sha256(
            repr((self.scenario.id, self.draws, self.seed, self._made["variants"])).encode()
        )
        for name in ("monthly", "bands"):
            made = self._made.get(name)
            if made:  # (its rows' hashes: the values, not how pandas holds them)
                h.update(name.encode())
                h.update(np.ascontiguousarray(made[3]).tobytes())
        return h.hexdigest()

    def changed(self) -> list[str]:
        """The attributes (``variants``, ``monthly``, ``milestones``, ``bands``, ``dates``)
        whose contents were changed in place since the Result was made: a column set,
        a value edited, rows dropped with ``inplace=True``, a variant appended.

        Returns
        -------
        list of str
            Their names; empty for a Result as the run made it.
        """
        out = [] if list(self.variants) == self._made["variants"] else ["variants"]
        for name, frame in self._frames().items():
            kept = self._made[name]
            if kept is None:
                same = frame is None
            else:
                try:
                    now = _fingerprint(frame) if isinstance(frame, pd.DataFrame) else None
                except TypeError:  # a cell set to something unhashable: changed
                    now = None
                same = now is not None and now[:3] == kept[:3] and np.array_equal(now[3], kept[3])
            if not same:
                out.append(name)
        return out

    @property
    def theaters(self) -> list[str]:
        """Theater ids of every variant, in the order they first appear."""
        out: list[str] = []
        for plan in self.plans.values():
            out += [t for t in plan.theaters if t not in out]
        return out

    def summary(self, months: Any = None) -> pd.DataFrame:
        """Each variant's theater levels at the key months: the central run's (each input
        at its central value), in an ensemble too, whose percentiles are in ``bands``.

        Parameters
        ----------
        months : str, pandas.Period or a sequence of them, optional
            Months as ``YYYY-MM`` (or pandas monthly periods); default: the base
            scenario's calendar deadlines and the horizon.

        Returns
        -------
        pandas.DataFrame
            One row per variant; columns (theater, month) [troops].

        Raises
        ------
        sim.ScenarioError
            A month that is not ``YYYY-MM`` or lies outside the scenario's calendar.
        """
        several = pd.api.types.is_list_like(months)  # (not text, a period or a number)
        if months is None or (several and len(months) == 0):
            wanted = list(key_months(self.scenario.doc))
        else:
            wanted = self._summary_months(list(months) if several else [months])
        df = self.monthly[~self.monthly.theater.str.contains("/", regex=False)]
        df = df[df.month.astype(str).isin(wanted)]
        table = df.pivot_table(
            index="variant",
            columns=["theater", "month"],
            values="troops",
            aggfunc="first",
            sort=False,
        )
        return table.reindex(self.variants)

    def _summary_months(self, months: list[Any]) -> list[str]:
        """``summary``'s months as ``YYYY-MM``, each within the run's months."""
        first, last = str(self.monthly.month.min()), str(self.monthly.month.max())
        out = []
        for m in months:
            text = str(m) if isinstance(m, pd.Period) else m
            try:
                ordinal = parse_month(text)
            except ValueError:
                raise ScenarioError(
                    f"months as YYYY-MM, from {first} to {last}",
                    repr(m),
                    file="<arguments>",
                    path="months",
                ) from None
            if not parse_month(first) <= ordinal <= parse_month(last):
                raise ScenarioError(
                    f"a month the run covers, from {first} to {last}",
                    repr(text),
                    file="<arguments>",
                    path="months",
                )
            out.append(text)
        return out

    def to_xarray(self) -> Any:
        """The run's levels as an xarray Dataset, for labelled slicing in notebooks.

        Returns
        -------
        xarray.Dataset
            ``troops`` (variant × theater × month) [troops]: the deterministic run
            (``monthly``: each input at its central value). For an ensemble also
            ``bands`` (variant × theater × month × statistic) [troops]: ``bands`` with
            its statistics (``mean``, ``min``, ``p05`` … ``p95``, ``max``) along the last
            dimension. Coordinates: ``variant`` in run order, ``theater`` as in
            ``monthly`` (theaters and ``theater/site`` keys, in order of first
            appearance), ``month`` as monthly periods (``ds.sel(month="2025-09")``
            works), ``statistic``. Values are float64, NaN where a variant has no such
            series or month; whole troops otherwise, unchanged. ``attrs`` hold the
            scenario id and title, its as-of date, and for an ensemble the draws and seed.

        Raises
        ------
        ImportError
            When xarray is not installed (``pip install 'forcesim[xarray]'``).
        """
        try:
            import xarray as xr
        except ImportError as exc:
            raise ImportError(
                "Result.to_xarray needs xarray: pip install 'forcesim[xarray]'"
            ) from exc
        keys = ["variant", "theater", "month"]
        names = list(dict.fromkeys(self.monthly.theater))
        months = pd.PeriodIndex(sorted(set(self.monthly.month)), freq="M", name="month")
        full = pd.MultiIndex.from_product([self.variants, names, months], names=keys)
        shape = (len(self.variants), len(names), len(months))
        coords: dict[str, Any] = {"variant": self.variants, "theater": names, "month": months}
        troops = self.monthly.set_index(keys)["troops"].reindex(full).to_numpy(float)
        data: dict[str, Any] = {
            "troops": (
                keys,
                troops.reshape(shape),
                {"units": "troops", "long_name": "troops at the end of the month, central run"},
            )
        }
        if self.bands is not None:
            stats = [c for c in self.bands.columns if c not in ("scenario", *keys)]
            coords["statistic"] = stats
            bands = self.bands.set_index(keys)[stats].reindex(full).to_numpy(float)
            data["bands"] = (
                [*keys, "statistic"],
                bands.reshape(*shape, len(stats)),
                {"units": "troops", "long_name": "troops at the end of the month, over the draws"},
            )
        doc = self.scenario.doc
        attrs: dict[str, Any] = {"scenario": doc.id, "title": doc.title, "as_of": str(doc.as_of)}
        if self.draws:
            attrs |= {"draws": self.draws, "seed": self.seed}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def _shown(self) -> str:
        """What :meth:`summary` shows, said beside it: of an ensemble, the central run's
        levels, which are not a percentile of the draws (those are in ``bands``)."""
        if not self.draws:
            return "deterministic; troops at the end of each month"
        return (
            f"ensemble of {self.draws:,} draws, seed {self.seed}; the table: troops at the "
            "end of each month in the central run (each input at its central value, not a "
            "percentile of the draws: those are in .bands)"
        )

    def __repr__(self) -> str:
        return (
            f"<Result {self.scenario.id}: {len(self.variants)} variants, {self._shown()}>\n"
            + self.summary().to_string()
        )

    def _repr_html_(self) -> str:
        from html import escape

        return (
            f"<p><b>{escape(self.scenario.title)}</b> — {len(self.variants)} variants, "
            f"{escape(self._shown())}</p>" + self.summary().to_html()
        )


def key_months(doc: ScenarioDoc) -> list[str]:
    """Calendar deadlines of the base milestones, then the horizon, as ``YYYY-MM``."""
    months = sorted({m.deadline for m in doc.milestones.values() if isinstance(m.deadline, str)})
    end = doc.calendar.end
    return [m for m in months if m != end] + [end]


class TheaterLevels:
    """Each variant's central level of each theater (not its sites), month by month, as
    arrays: what ``forcesim run`` prints of a run, gathered a variant's ``monthly`` rows
    at a time (:meth:`add`) or from a whole frame (:meth:`of`). For 100 variants x 50
    theaters x 600 months it holds 12 MB, where the rows as a frame and as Python
    numbers took over ten times that.

    Attributes
    ----------
    levels : dict
        ``(variant, theater) -> (first month ordinal, levels (months,) [troops])``, the
        months consecutive, int32 where the levels fit, in the order the rows came.
    official : dict
        ``theater -> (troops, official figure, month)`` of the first row (in the order
        the rows came) whose official figure leaves troops out.
    """

    def __init__(self) -> None:
        self.levels: dict[tuple[str, str], tuple[int, np.ndarray]] = {}
        self.official: dict[str, tuple[int, int, pd.Period]] = {}

    @classmethod
    def of(cls, monthly: pd.DataFrame) -> TheaterLevels:
        """The levels of a whole ``monthly`` frame (:attr:`Result.monthly`)."""
        out = cls()
        out.add(monthly)
        return out

    def add(self, monthly: pd.DataFrame) -> None:
        """Take the theater rows of a ``monthly`` frame (one variant's, or several)."""
        rows = monthly[~monthly.theater.str.contains("/", regex=False)]
        if "official" in rows:
            differ = rows[rows.official != rows.troops]
            for t, troops, official, month in zip(
                differ.theater, differ.troops, differ.official, differ.month, strict=True
            ):
                if t not in self.official:
                    self.official[str(t)] = (int(troops), int(official), month)
        ordinals = rows.month.array.asi8 + PERIOD_ZERO
        troops = rows.troops.to_numpy(np.int64)
        variant = rows.variant.to_numpy(object)
        theater = rows.theater.to_numpy(object)
        # each series' rows are consecutive: a new one where the variant or theater changes
        new = np.flatnonzero((variant[1:] != variant[:-1]) | (theater[1:] != theater[:-1]))
        starts = [0, *(new + 1).tolist()] if len(rows) else []
        for a, b in zip(starts, [*starts[1:], len(rows)], strict=True):
            block = troops[a:b]
            small = len(block) == 0 or int(block.max()) < 2**31  # (int32 halves them)
            self.levels[str(variant[a]), str(theater[a])] = (
                int(ordinals[a]),
                block.astype(np.int32) if small else block.copy(),
            )


@dataclass(frozen=True)
class PartialResult(Result):
    """A :class:`Result` whose frames hold only some of a run's rows: those a run
    written as it was made keeps for its charts and printed table
    (:func:`sim.export.stream.stream_run`), the whole tables being in the run
    directory. Nothing is kept to tell a frame changed in place (hashing the rows of
    100 variants x 12 series x 600 months took some 75 MB for a moment), and
    :meth:`changed` names every frame, so :func:`sim.write_run` never writes one."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_made", {"variants": None, **dict.fromkeys(FRAMES, ())})
