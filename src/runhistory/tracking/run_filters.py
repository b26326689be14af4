"""The runs table's filters and orders as text: ``property:lr<0.1``, ``-metric:loss``.

``where`` terms are ``<kind>:<key><op><value>`` with kind ``property``, ``tag`` or ``metric``
and op one of ``<``, ``<=``, ``>``, ``>=``, ``=``, ``!=`` (``<``/``>`` need a number). A sort
is a column of :class:`~runhistory.tracking.entities.RunOrder`, descending with a leading
``-``. A term that cannot be read is refused with a message naming it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from runhistory.errors import ValidationError
from runhistory.tracking.entities import RunCondition, RunOrder

_TERM = re.compile(r"^(property|tag|metric|min|max):([^<>=!]+)(<=|>=|!=|<|>|=)(.+)$", re.DOTALL)
# A number that PostgreSQL casts without overflow (30 digits at most, a 2-digit exponent).
NUMBER = re.compile(
    r"^\s*[-+]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][-+]?[0-9]{1,2})?\s*$"
)
BUILT_IN_ORDERS = ("created", "number", "name", "status", "start", "duration")
MAX_TERMS = 50
MAX_TEXT = 1000
DEFAULT_ORDER = RunOrder("created", desc=True)
# property and tag values; a metric's last value, or its smallest or largest value
KINDS = ("property", "tag", "metric", "min", "max")


def parse_where(terms: Sequence[str] | None) -> tuple[RunCondition, ...]:
    """The conditions of ``where`` terms.

    Raises:
        ValidationError: a term cannot be read, or there are more than :data:`MAX_TERMS`.
    """
    if not terms:
        return ()
    if len(terms) > MAX_TERMS:
        raise ValidationError(
            f"at most {MAX_TERMS} where terms, got {len(terms)}", parameter="where"
        )
    found = []
    for term in terms:
        match = _TERM.match(term) if isinstance(term, str) else None
        if match is None:
            raise ValidationError(
                f"cannot read the filter {term!r}: write property:<key><op><value>, "
                "tag:<key><op><value>, metric:<name><op><value> (its last value), "
                "min:<name><op><number> or max:<name><op><number> (op: < <= > >= = !=)",
                parameter="where",
            )
        kind, key, op, value = match.groups()
        if op not in ("=", "!=") and not NUMBER.match(value):
            raise ValidationError(
                f"{term!r}: {op} needs a number, not {value!r}", parameter="where"
            )
        found.append(RunCondition(kind, key, op, value))
    return tuple(found)


def parse_text(text: str | None) -> str | None:
    """Free-text words (None when empty)."""
    if text is None or not text.strip():
        return None
    if len(text) > MAX_TEXT:
        raise ValidationError(
            f"the search text is longer than {MAX_TEXT} characters", parameter="q"
        )
    return " ".join(text.split())


def parse_sort(sort: str | None) -> RunOrder | None:
    """The order of ``sort`` (None: the default, newest first).

    Raises:
        ValidationError: not a column runs can be sorted by.
    """
    if sort is None or sort in ("", "-created"):
        return None
    desc = sort.startswith("-")
    column = sort[1:] if desc else sort
    kind, _, key = column.partition(":")
    if column not in BUILT_IN_ORDERS and not (kind in KINDS and key):
        raise ValidationError(
            f"cannot sort runs by {sort!r}: use {', '.join(BUILT_IN_ORDERS)}, property:<key>, "
            "tag:<key>, metric:<name>, min:<name> or max:<name>, with a leading - for "
            "descending",
            parameter="sort",
        )
    return RunOrder(column, desc)
