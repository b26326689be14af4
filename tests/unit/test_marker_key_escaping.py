"""Keys that look like value markers are escaped on encode and unescaped on decode.

The wire (``runhistory.client.wire``) and the stored metric documents
(``runhistory.tracking.metrics``) share the rule of ``runhistory.tracking.markers``: any map,
at any depth, whatever its keys, comes back as itself, and JSON written before the escaping
existed (a remote client's spool files, stored documents, older clients) reads as it did.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from runhistory.client.wire import dumps, loads, tag_floats
from runhistory.tracking.entities import KIND_ROW, MetricColumns
from runhistory.tracking.markers import (
    decode_document,
    escape_key,
    may_hold_marker,
    unescape_key,
)
from runhistory.tracking.metrics import collate, encode_document

MARKER_LIKE = st.sampled_from(
    ["$float", "$int", "$undecodable", "$$float", "$$int", "$$$undecodable", "$", "$x",
     "float", "int", "error", "a"]
)  # fmt: skip


def values(text: st.SearchStrategy[str], ints: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """Nested lists and maps of JSON leaves, keys often like markers."""
    leaves = st.one_of(
        st.none(), st.booleans(), text, MARKER_LIKE, ints, st.floats(allow_nan=False),
        st.sampled_from([math.inf, -math.inf]),
    )  # fmt: skip
    keys = MARKER_LIKE | text
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=12,
    )


VALUES = values(st.text(max_size=8), st.integers(-(2**70), 2**70))
# What a document may hold: text without NUL, integers of 64 bits.
STORED_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
DOCUMENT_VALUES = values(STORED_TEXT, st.integers(-(2**63), 2**63 - 1))


@given(VALUES)
@settings(max_examples=300, deadline=None)
def test_any_value_round_trips_over_the_wire(value: Any) -> None:
    assert loads(dumps(value)) == value
    assert loads(dumps(value).decode()) == value


@given(st.dictionaries(MARKER_LIKE | STORED_TEXT, DOCUMENT_VALUES, min_size=1, max_size=4))
@settings(max_examples=300, deadline=None)
def test_any_document_round_trips_through_storage(document: dict[str, Any]) -> None:
    assert decode_document(orjson.loads(encode_document(document))) == document


def test_every_marker_alone_is_a_map_not_a_marker() -> None:
    for key in ("$float", "$int", "$undecodable"):
        for text in ("", "5", "nan", "x"):
            assert loads(dumps({key: text})) == {key: text}
            assert loads(dumps({"tags": {key: text}})) == {"tags": {key: text}}
            assert decode_document(orjson.loads(encode_document({key: text}))) == {key: text}


def test_markers_are_not_escaped_and_escaped_keys_gain_one_dollar() -> None:
    assert dumps({"x": math.inf, "n": 2**70}) == (
        b'{"x":{"$float":"inf"},"n":{"$int":"1180591620717411303424"}}'
    )
    assert dumps({"$int": "1"}) == b'{"$$int":"1"}'
    assert dumps({"$$int": "1", "$x": "2"}) == b'{"$$$int":"1","$x":"2"}'
    assert escape_key("$undecodable") == "$$undecodable"
    assert escape_key("$$$float") == "$$$$float"
    assert escape_key("float") == "float" and escape_key("$floats") == "$floats"
    assert unescape_key("$$int") == "$int" and unescape_key("$int") == "$int"


def test_json_written_before_the_escaping_reads_as_it_did() -> None:
    assert loads(b'{"$float": "nan", "a": 1}') == {"$float": "nan", "a": 1}
    assert math.isnan(loads(b'{"v": {"$float": "nan"}}')["v"])
    assert loads(b'{"v": {"$int": "18446744073709551616"}}') == {"v": 2**64}
    assert loads(b'{"\\u0024int": "5"}') == 5  # a marker with its dollar written as an escape
    # a spooled batch from an older client: documents are text, read as they were stored
    spooled = {"run_id": "r", "batch_id": "b", "writes": [
        {"name": "row", "kind": "row", "description": "",
         "columns": [[None], [5], [None], ['{"a":{"$float":"nan"},"b":1}'], [1.0]]},
    ]}  # fmt: skip
    assert loads(orjson.dumps(spooled)) == spooled
    stored = orjson.loads('{"a":{"$float":"nan"},"b":1}')
    collated = collate(KIND_ROW, MetricColumns([0], None, [stored], [1.0]))
    assert math.isnan(collated["a"]) and collated["b"] == 1


def test_a_row_keyed_undecodable_is_the_users_row() -> None:
    stored = orjson.loads(encode_document({"$undecodable": 1, "b": 2}))
    marker = {"$undecodable": "{broken", "error": "not JSON"}
    collated = collate(KIND_ROW, MetricColumns([0, 1], None, [stored, marker], [1.0, 2.0]))
    assert collated == {
        "$undecodable": [1, {"$undecodable": "{broken", "error": "not JSON"}],
        "b": [2, None],
    }


def test_the_widget_json_keeps_keys_as_they_are() -> None:
    assert tag_floats({"$int": "1", "x": math.nan}) == {"$int": "1", "x": {"$float": "nan"}}


def test_may_hold_marker_finds_every_dollar_string_and_escape() -> None:
    """The one search the client's decoder and the lean CLI share: a string that starts
    with ``$`` (or any ``\\u`` escape, which may spell one) is found, else nothing is."""
    assert may_hold_marker(b'{"a":{"$float":"nan"}}')
    assert may_hold_marker(b'["$$int"]')
    assert may_hold_marker(b'{"a":"\\u0024int"}')
    assert not may_hold_marker(b'{"price":"5$"}')  # a '$' inside a string only
    assert not may_hold_marker(b'{"a":[1,2,null],"b":"x"}')
