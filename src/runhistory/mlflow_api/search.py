"""MLflow's search grammar for runs: ``filter_string`` clauses joined by AND, and ``order_by``.

A clause is ``<entity>.<key> <comparator> <value>``: the entity is ``metrics``, ``params``,
``tags`` or ``attributes`` (keys with spaces or dots may be quoted in backticks or double
quotes), the comparators are ``= != > >= < <= LIKE ILIKE IN NOT IN IS NULL IS NOT NULL``, values
are numbers, quoted strings or a parenthesised list of strings. Runs are matched against the
values MLflow shows for them (a metric's latest value), so a filter here selects what MLflow's
own server would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any, TypeVar

from runhistory.mlflow_api.errors import MlflowApiError
from runhistory.mlflow_api.paging import (
    decode_values_token,
    encode_values_token,
    page_size,
    query_scope,
)

_ENTITIES = {
    "metric": "metrics", "metrics": "metrics",
    "param": "params", "params": "params", "parameter": "params", "parameters": "params",
    "tag": "tags", "tags": "tags",
    "attribute": "attributes", "attributes": "attributes", "attr": "attributes",
    "run": "attributes",
}  # fmt: skip
_ATTRIBUTE_ALIASES = {"created": "start_time", "Created": "start_time", "run_uuid": "run_id"}
NUMERIC_ATTRIBUTES = frozenset(
    ("start_time", "end_time", "creation_time", "last_update_time", "creation_timestamp",
     "last_updated_timestamp", "timestamp", "version_number")
)  # fmt: skip
STRING_ATTRIBUTES = frozenset(
    ("run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage", "name",
     "experiment_id")
)  # fmt: skip
RUN_ATTRIBUTES = frozenset(
    ("start_time", "end_time", "run_id", "run_name", "status", "user_id", "artifact_uri",
     "lifecycle_stage")
)  # fmt: skip
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.]))
      | (?P<op>!=|<>|>=|<=|=|>|<|\(|\)|,)
      | (?P<ident>(?:[A-Za-z_][\w]*)\.(?:`[^`]+`|"[^"]+"|[\w.\-/:]+)|[A-Za-z_][\w]*)
    )""",
    re.VERBOSE,
)
_WORD_OPS = ("NOT IN", "IS NOT NULL", "IS NULL", "ILIKE", "LIKE", "IN", "AND")
_WORD = re.compile(
    r"\s*(" + "|".join(w.replace(" ", r"\s+") for w in _WORD_OPS) + r")\b", re.IGNORECASE
)


R = TypeVar("R", bound=dict[str, Any])


@dataclass(frozen=True)
class Clause:
    """One comparison of a filter."""

    entity: str
    key: str
    op: str
    value: Any


def parse_identifier(text: str, attributes: frozenset[str] | None = None) -> tuple[str, str]:
    """``(entity, key)`` of ``metrics.acc``, ``tags.`my tag```, ``status``… (``attributes``:
    the names an ``attributes.`` key may have; those of runs by default)."""
    entity, dot, key = text.partition(".")
    if not dot:
        entity, key = "attributes", text
    wanted = _ENTITIES.get(entity.lower())
    if wanted is None:
        raise MlflowApiError(
            f"invalid identifier {text!r}: expected metrics.<key>, params.<key>, tags.<key> "
            "or attributes.<name>"
        )
    if len(key) >= 2 and key[0] == key[-1] and key[0] in '`"':
        key = key[1:-1]
    if wanted == "attributes":
        allowed = RUN_ATTRIBUTES if attributes is None else attributes
        key = _ATTRIBUTE_ALIASES.get(key, key) if attributes is None else key
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise MlflowApiError(f"invalid attribute key {key!r}; searchable attributes: {known}")
    return wanted, key


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        word = _WORD.match(text, position)
        if word is not None:
            found.append(("word", " ".join(word.group(1).upper().split())))
            position = word.end()
            continue
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MlflowApiError(
                f"invalid filter {text!r}: cannot parse at {text[position:]!r:.40}"
            )
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def parse_filter(text: object, attributes: frozenset[str] | None = None) -> list[Clause]:
    """The clauses of an MLflow filter string (empty for no filter)."""
    if text is None or text == "":
        return []
    if not isinstance(text, str):
        raise MlflowApiError(f"filter must be a string, got {text!r:.80}")
    if not text.strip():
        return []
    tokens = _tokens(text)
    clauses: list[Clause] = []
    index = 0

    def take() -> tuple[str, str]:
        nonlocal index
        if index >= len(tokens):
            raise MlflowApiError(f"invalid filter {text!r}: it ends in the middle of a clause")
        index += 1
        return tokens[index - 1]

    while True:
        kind, ident = take()
        if kind != "ident":
            raise MlflowApiError(f"invalid filter {text!r}: expected an identifier, got {ident!r}")
        entity, key = parse_identifier(ident, attributes)
        kind, op = take()
        op = "!=" if op == "<>" else op
        if op in ("IS NULL", "IS NOT NULL"):
            clauses.append(Clause(entity, key, op, None))
        elif op in ("IN", "NOT IN"):
            clauses.append(Clause(entity, key, op, _take_list(take, text)))
        elif kind in ("op", "word") and op in ("=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE"):
            kind, literal = take()
            clauses.append(Clause(entity, key, op, _literal(kind, literal, text)))
        else:
            raise MlflowApiError(f"invalid filter {text!r}: unknown comparator {op!r}")
        _check_clause(clauses[-1])
        if index == len(tokens):
            return clauses
        kind, word = take()
        if word != "AND":
            raise MlflowApiError(
                f"invalid filter {text!r}: clauses are joined with AND (OR is not supported)"
            )


def _take_list(take: Callable[[], tuple[str, str]], text: str) -> tuple[Any, ...]:
    if take()[1] != "(":
        raise MlflowApiError(f"invalid filter {text!r}: IN needs a list like ('a', 'b')")
    values: list[Any] = []
    while True:
        kind, literal = take()
        values.append(_literal(kind, literal, text))
        kind, sep = take()
        if sep == ")":
            return tuple(values)
        if sep != ",":
            raise MlflowApiError(f"invalid filter {text!r}: expected ',' or ')' in a list")


def _literal(kind: str, literal: str, text: str) -> Any:
    if kind == "string":
        return _unquote(literal)
    if kind == "number":
        return float(literal)
    raise MlflowApiError(f"invalid filter {text!r}: expected a value, got {literal!r}")


def _check_clause(clause: Clause) -> None:
    numeric = clause.entity == "metrics" or (
        clause.entity == "attributes" and clause.key in NUMERIC_ATTRIBUTES
    )
    if numeric and clause.op in ("LIKE", "ILIKE", "IN", "NOT IN"):
        raise MlflowApiError(f"{clause.op} cannot compare {clause.entity}.{clause.key} (a number)")
    if numeric and clause.value is not None and not isinstance(clause.value, float):
        raise MlflowApiError(
            f"{clause.entity}.{clause.key} is a number: compare it with a number, "
            f"not {clause.value!r}"
        )
    if not numeric and isinstance(clause.value, float):
        raise MlflowApiError(
            f"{clause.entity}.{clause.key} is a string: quote the value ('{clause.value:g}')"
        )


def _like(pattern: str, flags: int = 0) -> re.Pattern[str]:
    parts = ("." * (c == "_") + ".*" * (c == "%") or re.escape(c) for c in pattern)
    return re.compile("".join(parts) + r"\Z", flags | re.DOTALL)


def matches(clause: Clause, value: Any) -> bool:
    """Whether a run whose value for the clause's key is ``value`` (``None``: none) matches."""
    if clause.op == "IS NULL":
        return value is None
    if clause.op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False
    wanted = clause.value
    op = clause.op
    if op == "LIKE":
        return _like(wanted).match(value) is not None
    if op == "ILIKE":
        return _like(wanted, re.IGNORECASE).match(value) is not None
    if op == "IN":
        return value in wanted
    if op == "NOT IN":
        return value not in wanted
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    }  # fmt: skip
    try:
        return comparisons[op](value, wanted)
    except TypeError:
        return False


@dataclass(frozen=True)
class OrderKey:
    """One ``order_by`` term."""

    entity: str
    key: str
    descending: bool


def parse_order_by(
    terms: list[str] | None, attributes: frozenset[str] | None = None
) -> list[OrderKey]:
    """The terms of MLflow's ``order_by`` (``"metrics.acc DESC"``, ``"attributes.start_time"``)."""
    keys: list[OrderKey] = []
    for term in terms or []:
        text = term.strip()
        direction = "ASC"
        head, _, tail = text.rpartition(" ")
        if head and tail.upper() in ("ASC", "DESC"):
            text, direction = head.strip(), tail.upper()
        entity, key = parse_identifier(text, attributes)
        keys.append(OrderKey(entity, key, direction == "DESC"))
    return keys


def _terms(order: list[OrderKey]) -> list[OrderKey]:
    return [
        *order,
        OrderKey("attributes", "start_time", True),
        OrderKey("attributes", "run_id", False),
    ]


def sort_values(record: dict[str, Any], order: list[OrderKey]) -> tuple[Any, ...]:
    """The values a record is sorted on by :func:`sort_records` (its position in the order)."""
    return tuple(record[t.entity].get(t.key) for t in _terms(order))


def compare_values(a: tuple[Any, ...], b: tuple[Any, ...], order: list[OrderKey]) -> int:
    """-1, 0 or 1 as records with sort values ``a`` come before, with or after ``b``."""
    for term, x, y in zip(_terms(order), a, b, strict=True):
        if x == y:
            continue
        if x is None or y is None:
            return 1 if x is None else -1
        try:
            less = x < y
        except TypeError:
            less = str(x) < str(y)
        return (1 if less else -1) if term.descending else (-1 if less else 1)
    return 0


def sort_records(records: list[R], order: list[OrderKey]) -> list[R]:
    """Records sorted by ``order``, then by start time (newest first) and run id; a run
    without the value sorts last, whatever the direction."""
    keyed: list[tuple[tuple[Any, ...], R]] = [(sort_values(r, order), r) for r in records]

    def compare(a: tuple[tuple[Any, ...], R], b: tuple[tuple[Any, ...], R]) -> int:
        return compare_values(a[0], b[0], order)

    keyed.sort(key=cmp_to_key(compare))
    return [r for _, r in keyed]


def records_after(
    ordered: list[R], order: list[OrderKey], after: tuple[Any, ...] | None
) -> list[R]:
    """The records of ``ordered`` (sorted by :func:`sort_records`) strictly after the record
    whose sort values are ``after`` (all of them without)."""
    if after is None:
        return ordered
    if len(after) != len(_terms(order)):
        raise MlflowApiError("Invalid page token: it is not a position in this search")
    for index, record in enumerate(ordered):
        if compare_values(sort_values(record, order), after, order) > 0:
            return ordered[index:]
    return []


def keyset_page(
    records: list[R],
    order: list[OrderKey],
    body: dict[str, Any],
    listing: str,
    limits: tuple[int, int],
) -> tuple[list[R], str | None]:
    """One page of ``records`` sorted by ``order`` for a search request ``body``, and the
    token of the next: the sort values of the page's last record, bound to ``listing`` and
    the request's filter and order (``limits``: MLflow's default and largest page size)."""
    size = page_size(body.get("max_results"), *limits)
    scope = query_scope({
        "listing": listing, "filter": str(body.get("filter") or ""),
        "order": [[o.entity, o.key, o.descending] for o in order],
    })  # fmt: skip
    token = body.get("page_token")
    after = decode_values_token(token, scope) if token else None
    rest = records_after(sort_records(records, order), order, after)
    page = rest[:size]
    if len(rest) <= size:
        return page, None
    return page, encode_values_token(sort_values(page[-1], order), scope)
