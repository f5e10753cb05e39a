"""Fuzzing the loader and the stepper with generated scenario documents.

Every generated input must either load and run, with levels that are whole,
never negative and as long as the calendar, or be refused with the one-line
ScenarioError. Anything else (another exception, a hang) fails the test.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import sim
from sim.errors import ScenarioError
from sim.io.yamlio import parse_yaml
from sim.loader import Layer, Locator, resolve_variants, validate_doc
from sim.model.draws import Draws
from sim.model.stepper import step
from sim.paths import scenarios_dir
from sim.scenario import Scenario

SHIPPED = sorted(scenarios_dir().rglob("*.yaml"))
FUZZ = settings(
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = [
    "id",
    "title",
    "as_of",
    "calendar",
    "start",
    "end",
    "announcement",
    "expected",
    "delay",
    "theaters",
    "iraq",
    "syria",
    "initial",
    "sites",
    "milestones",
    "theater",
    "deadline",
    "target",
    "level",
    "reduce_by",
    "profile",
    "slips",
    "residuals",
    "size",
    "from",
    "until",
    "variants",
    "overrides",
    "description",
    "value",
    "uniform",
    "triangular",
    "choice",
    "values",
    "weights",
    "probability",
    "source",
    "assumption",
    "after",
    "months",
    "after_announcement",
    "milestone",
    "sources",
    "name",
]
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "2024-09",
            "2025-09",
            "2026-12",
            "2024-13",
            "0000-00",
            "linear",
            "step",
            "s-curve",
            "iraq",
            "iraq/erbil",
            "x",
            "",
        ]
    ),
    st.text(max_size=8),
)
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=40,
)


def check_outcome(text: str) -> str:
    """Load ``text`` as a scenario; run it if valid. Returns 'ok' or 'refused'."""
    try:
        data, positions = parse_yaml(text.encode("utf-8"), "fuzz.yaml")
        locator = Locator([Layer(positions)])
        doc = validate_doc(data, locator)
        variants = resolve_variants(data, doc, locator)
    except ScenarioError as exc:
        line = str(exc)
        assert "\n" not in line and line.startswith("fuzz.yaml:"), line
        assert ": expected " in line and ", found " in line, line
        return "refused"
    sc = Scenario(
        path="fuzz.yaml", sha256="", doc=doc, raw=data, locator=locator, variants=variants
    )
    for name in sc.variant_names:
        plan = sc.plan(name)
        for inputs in (None, Draws(7).take(plan, 16)):
            if inputs is None:
                from sim.model.draws import central_inputs

                inputs = central_inputs(plan)
            out = step(plan, inputs)
            assert out.theaters.shape[-1] == plan.n_months
            assert out.theaters.min() >= 0
            assert out.tracks.min() >= 0
            assert np.array_equal(out.theaters[:, :, 0].sum(), out.tracks[:, :, 0].sum())
    return "ok"


def _dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@pytest.mark.slow
@FUZZ
@given(DOCS)
def test_random_documents_run_or_are_refused_in_one_line(doc):
    event(check_outcome(_dump(doc)))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


REPLACEMENTS = st.one_of(
    SCALARS,
    st.just({}),
    st.just([]),
    st.just(-1),
    st.just(10**9),
    st.just(math.nan),
    st.just({"uniform": [900, 300]}),
    st.just({"triangular": [1, 5, 2]}),
    st.just({"choice": {"values": [1], "weights": [0]}}),
    st.just({"value": 1, "probability": 1.5}),
    st.just({"after": "iraq-exit", "months": 3}),
    st.just({"after_announcement": 999}),
)


@st.composite
def mutated_shipped(draw):
    path = draw(st.sampled_from(SHIPPED))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.pop("extends", None)
    data = copy.deepcopy(data)
    targets = [p for p in _paths(data) if p]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(targets))
        parent = data
        try:
            for part in where[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "rename"]))
            if action == "replace" or isinstance(parent, list):
                parent[where[-1]] = draw(REPLACEMENTS)
            elif action == "delete":
                del parent[where[-1]]
            else:
                parent[draw(st.sampled_from(KEYS)) + "x"] = parent.pop(where[-1])
        except (KeyError, IndexError, TypeError, AttributeError):
            continue
    return data


@pytest.mark.slow
@FUZZ
@given(mutated_shipped())
def test_mutated_shipped_scenarios_run_or_are_refused_in_one_line(doc):
    event(check_outcome(_dump(doc)))


@pytest.mark.slow
@FUZZ
@given(st.sampled_from(SHIPPED), st.data())
def test_byte_level_damage_never_crashes_the_reader(path, data):
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at : at + 1] = data.draw(st.binary(min_size=0, max_size=3))
    try:
        parse_yaml(bytes(raw), "fuzz.yaml")
    except ScenarioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.yaml:")


def test_the_default_scenario_passes_the_fuzz_invariants():
    text = (scenarios_dir() / "iraq-syria-2024.yaml").read_text(encoding="utf-8")
    assert check_outcome(text) == "ok"
    assert isinstance(sim.load_scenario(scenarios_dir() / "iraq-syria-2024.yaml"), Scenario)
