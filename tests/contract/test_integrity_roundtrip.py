"""Anything the validator accepts comes back exactly, on every storage (issue 11).

Hypothesis draws metric values of every scalar type (floats with NaN and infinities, integers
of any size, bools, any text the text rule allows), steps over the whole 64-bit range, rows,
tags and properties; a run logs them and the test reads them back through ``get_metrics``,
``get_metric_history``, tags and properties. Bounded: a few dozen examples per storage.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runhistory import Experiment, Run, Workspace
from runhistory.tracking.validation import STEP_MAX, STEP_MIN, check_text
from support.services import ALL_STORAGES

# Text the validator accepts: every character but NUL and lone surrogates.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
NAMES = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=20)
SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400) | st.integers(-(2**70), 2**70),
    st.booleans(),
    TEXT,
)
ROW_VALUES = st.one_of(st.floats(), st.integers(-(2**63), 2**63 - 1), st.booleans(), TEXT)


@pytest.fixture(params=ALL_STORAGES)
def backend_name(request: pytest.FixtureRequest) -> str:
    """Every storage: embedded SQLite and PostgreSQL, servers on SQLite and PostgreSQL."""
    return str(request.param)


def same(got: Any, wanted: Any) -> bool:
    """Equal, of the same type, NaN equal to NaN (in lists and dicts too)."""
    if isinstance(wanted, list):
        return isinstance(got, list) and len(got) == len(wanted) and all(
            same(g, w) for g, w in zip(got, wanted, strict=True)
        )  # fmt: skip
    if isinstance(wanted, dict):
        return isinstance(got, dict) and got.keys() == wanted.keys() and all(
            same(got[k], wanted[k]) for k in wanted
        )  # fmt: skip
    if type(got) is not type(wanted):
        return False
    if isinstance(wanted, float) and math.isnan(wanted):
        return math.isnan(got)
    return bool(got == wanted)


@given(
    metrics=st.dictionaries(NAMES, st.lists(SCALARS, min_size=1, max_size=4), max_size=4),
    stepped=st.lists(
        st.tuples(st.integers(STEP_MIN, STEP_MAX), st.floats(allow_nan=False)), max_size=4
    ),
    row=st.dictionaries(
        NAMES.filter(lambda k: k not in ("name", "description")), ROW_VALUES, min_size=1, max_size=3
    ),
    tags=st.dictionaries(NAMES, st.none() | TEXT, max_size=3),
    properties=st.dictionaries(NAMES, TEXT, max_size=3),
)
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_what_the_validator_accepts_round_trips(
    workspace: Workspace,
    experiment: Experiment,
    metrics: dict[str, list[Any]],
    stepped: list[tuple[int, float]],
    row: dict[str, Any],
    tags: dict[str, str | None],
    properties: dict[str, str],
) -> None:
    for text in [*metrics, *row, *tags, *properties]:
        check_text(text, "a generated key")  # the strategies only make accepted text
    run = experiment.start_logging(outputs=False)
    for name, values in metrics.items():
        for value in values:
            run.log(f"m/{name}", value)
    for step, value in stepped:
        run.log("stepped", value, step=step)
    run.log_row("row", **row)
    run.set_tags(tags)
    run.add_properties(properties)
    run.complete()
    stored = Run.get(workspace, run.id)
    found = stored.get_metrics()
    for name, values in metrics.items():
        assert same(found[f"m/{name}"], values[0] if len(values) == 1 else values)
        history = stored.get_metric_history(f"m/{name}")
        assert same([p["value"] for p in history], values)
    if stepped:
        history = stored.get_metric_history("stepped")
        assert [(p["step"], p["value"]) for p in history] == stepped
    assert same(found["row"], row)
    assert stored.get_tags() == tags
    assert stored.get_properties() == properties
