"""Batches of run changes on the wire: what the remote client spools and the server decodes.

A batch is a JSON object with the lists ``creates``, ``updates``, ``tags``, ``properties``
and ``statuses`` and the object ``metrics`` (``{run id: [metric writes]}``, the writes as in
:func:`~runhistory.client.wire.encode_writes`); every list is optional. Each entry carries its
``run_id``. Decoding checks the shapes and types only; the tracking service checks the rules.

A creation whose definition holds an environment also names it by ``environment_id`` (see
:mod:`runhistory.tracking.run_environments`): sent whole with its id the first time, the
environment is afterwards named by its id alone (``run_definition`` without
``environment``), which the server takes once it has stored that id (it answers
:class:`~runhistory.errors.UnknownEnvironmentError` for the whole request otherwise, and the
client sends it again whole). A creation without ``environment_id`` carries its environment
inline, as older clients send it. The spool keeps every batch whole.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

import orjson

from runhistory.client.wire import (
    _all_finite,
    _default,
    _has_marker_key,
    decode_write,
    dumps,
    encode_writes,
)
from runhistory.errors import RunhistoryError, ValidationError
from runhistory.tracking.entities import (
    PropertyChange,
    RunChanges,
    RunCreate,
    RunUpdate,
    StatusChange,
    TagChange,
)
from runhistory.tracking.run_environments import (
    ENVIRONMENT,
    KnownEnvironment,
    environment_document,
)

FEATURE = "change-batches"  # named in a server's /server-info when it takes these batches
ENVIRONMENT_IDS = "environment-ids"  # named there when it takes creations' environment_id
ENVIRONMENT_ID = "environment_id"  # a creation's field naming its definition's environment
_HEX = frozenset("0123456789abcdef")
_REQUIRED = ("run_id", "experiment_id", "status", "created_time")
_REQUIRED_SET = frozenset(_REQUIRED)
_PARTS = ("creates", "updates", "tags", "properties", "statuses", "metrics")
_PART_SET = frozenset(_PARTS)
_NUMBER = (int, float)
# The fields of a run creation and the types each may hold (None: may be null).
_CREATE_FIELDS: dict[str, tuple[tuple[type, ...], bool]] = {
    "run_id": ((str,), False), "experiment_id": ((str,), False), "status": ((str,), False),
    "created_time": (_NUMBER, False), "parent_run_id": ((str,), True),
    "display_name": ((str,), True), "description": ((str,), True), "run_type": ((str,), False),
    "target": ((str,), False), "submitted_by": ((str,), True), "start_time": (_NUMBER, True),
    "end_time": (_NUMBER, True), "error": ((dict,), True), "run_definition": ((dict,), True),
    "tags": ((dict,), False), "properties": ((dict,), False), ENVIRONMENT_ID: ((str,), True),
}  # fmt: skip
# The exact types of each field taken as they are (not bool, though an int; null if nullable).
_EXACT_TYPES: dict[str, frozenset[type]] = {
    name: frozenset(types) | ({type(None)} if nullable else set())
    for name, (types, nullable) in _CREATE_FIELDS.items()
}


def encode_changes(changes: RunChanges, environment_ids: bool = True) -> dict[str, Any]:
    """A batch as a JSON-ready object (only the parts it has), environments whole, with their
    ids unless ``environment_ids`` is false (a server that does not name
    :data:`ENVIRONMENT_IDS`); see :func:`by_reference` for the short form."""
    found: dict[str, Any] = {}
    if changes.creates:
        found["creates"] = [_create_fields(c, environment_ids) for c in changes.creates]
    if changes.updates:
        found["updates"] = [{"run_id": c.run_id, "fields": c.fields} for c in changes.updates]
    if changes.tags:
        found["tags"] = [{"run_id": c.run_id, "set": c.set, "remove": list(c.remove)}
                         for c in changes.tags]  # fmt: skip
    if changes.properties:
        found["properties"] = [{"run_id": c.run_id, "properties": c.properties}
                               for c in changes.properties]  # fmt: skip
    if changes.statuses:
        found["statuses"] = [_fields(c, _STATUS_NAMES) for c in changes.statuses]
    if changes.metrics:
        found["metrics"] = {run_id: encode_writes(w) for run_id, w in changes.metrics.items()}
    return found


def dumps_batch(record: dict[str, Any], checked: bool) -> bytes:
    """A spooled batch of run changes (``{"batch_id", "run_ids", "changes"}``, ``changes``
    from :func:`encode_changes`) as :func:`~runhistory.client.wire.dumps` writes it, cheaper.

    ``dumps`` looks for a non-finite float in every value when the JSON holds a ``null``, and
    a run creation always has some (no parent, no description): a hundred values walked for
    each run. Here only the values that may hold a float are: times, run definitions and
    errors, updated fields, metric times (their numbers are made finite or strings by
    ``encode_writes``); tags and properties too unless ``checked`` (the SDK checked them:
    text or ``None``).
    """
    return _dumps_forms(record, None, checked)[0]


def dumps_batch_forms(
    record: dict[str, Any], checked: bool, whole: bool = True
) -> tuple[bytes | None, bytes | None, frozenset[str]]:
    """:func:`dumps_batch` of a spooled batch and of its short form (:func:`by_reference`:
    ``None`` when no creation names an environment), with the ids the short form names.

    ``whole=False``: the whole form is left out (``None``) when there is a short one; it is
    :func:`dumps_batch` of the same record, made when needed (a batch sent whole or written
    to the spool). A run sent while nothing else waits travels short and is never written:
    its whole form (the environment's kilobytes copied, and searched twice) would be made
    for nothing.
    """
    short = by_reference(record["changes"])
    if short is None:
        return _dumps_forms(record, None, checked)[0], None, frozenset()
    short_record = {**record, "changes": short[0]}
    if not whole:
        return None, _dumps_short(short_record, checked), short[1]
    data, short_data = _dumps_forms(record, short_record, checked)
    return data, short_data, short[1]


def whole_size(record: dict[str, Any], short_data: bytes) -> int:
    """About how many bytes :func:`dumps_batch` of ``record`` takes, from its short form's
    (the environments it names by id added; a megabyte for one not encoded here)."""
    size = len(short_data)
    last = _last_environment
    for create in record["changes"].get("creates", ()):
        if ENVIRONMENT_ID in create:
            fragment = create["run_definition"].get(ENVIRONMENT)
            if last is not None and last[1][0] is fragment:
                size += last[2] + 16  # and its key
            else:
                size += 1 << 20
    return size


def _dumps_short(short: dict[str, Any], checked: bool) -> bytes:
    """The short form as :func:`_dumps_forms` writes it, its values looked at alone: they are
    the whole form's but for the environments, JSON encoded already by :func:`dumps` (their
    floats and keys dealt with there), so what it finds the whole form's search would."""
    try:
        data = orjson.dumps(short, default=_default)
    except TypeError:  # an integer beyond 64 bits: dumps marks it
        return dumps(short)
    if (b"null" not in data or _changes_finite(short["changes"], checked)) and not (
        _has_marker_key(data)
    ):
        return data
    return dumps(short)


def _dumps_forms(
    record: dict[str, Any], short: dict[str, Any] | None, checked: bool
) -> tuple[bytes, bytes | None]:
    """``record`` and ``short`` (the same values but for the environments, JSON encoded
    already) as :func:`dumps_batch` writes them: their floats are looked at once, and a key
    like a marker looked for in the whole form alone (the short form's keys are among its)."""
    try:
        data = orjson.dumps(record, default=_default)
        short_data = None if short is None else orjson.dumps(short, default=_default)
    except TypeError:  # an integer beyond 64 bits: dumps marks it
        return dumps(record), None if short is None else dumps(short)
    if (b"null" not in data or _changes_finite(record["changes"], checked)) and not (
        _has_marker_key(data)
    ):
        return data, short_data
    return dumps(record), None if short is None else dumps(short)


def _changes_finite(changes: dict[str, Any], checked: bool) -> bool:
    """Whether the parts of an encoded batch that may hold a float hold only finite ones."""
    loose: list[Any] = []
    for create in changes.get("creates", ()):
        loose += (create["created_time"], create["start_time"], create["end_time"],
                  create["error"], create["run_definition"])  # fmt: skip
        if not checked:
            loose += (create["tags"], create["properties"])
    loose += (u["fields"] for u in changes.get("updates", ()))
    if not checked:
        loose += (t["set"] for t in changes.get("tags", ()))
        loose += (p["properties"] for p in changes.get("properties", ()))
    for status in changes.get("statuses", ()):
        loose += (status["time"], status["error"])
    for writes in changes.get("metrics", {}).values():
        loose += (w["columns"][4] for w in writes)
    return _all_finite(loose)


def by_reference(encoded: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]] | None:
    """The short form of a batch from :func:`encode_changes`: its creations name their
    environments by id alone; with those ids (``None`` when no creation names one)."""
    creates = encoded.get("creates")
    if not creates or not any(ENVIRONMENT_ID in c for c in creates):
        return None
    named: set[str] = set()
    short = []
    for create in creates:
        if ENVIRONMENT_ID in create:
            named.add(create[ENVIRONMENT_ID])
            definition = create["run_definition"]
            rest = {k: v for k, v in definition.items() if k != ENVIRONMENT}
            create = {**create, "run_definition": rest}
        short.append(create)
    return {**encoded, "creates": short}, frozenset(named)


def _fields(change: Any, names: tuple[str, ...]) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies the run definition (its environment) of every run.
    return dict(zip(names, _GETTERS[names](change), strict=True))


def _create_fields(create: RunCreate, with_id: bool) -> dict[str, Any]:
    """A run creation's fields, its definition's environment as JSON already encoded, with
    its id.

    The SDK hands every run of a process the very same environment object (a few hundred
    packages, never changed): encoded once, it is embedded as it is (``orjson.Fragment``)
    instead of being encoded, and searched for non-finite floats, with each run.
    """
    fields = _fields(create, _CREATE_NAMES)
    definition = create.run_definition
    if definition is not None and type(definition.get(ENVIRONMENT)) is dict:
        fragment, environment_id = _encoded(definition[ENVIRONMENT])
        fields["run_definition"] = {**definition, ENVIRONMENT: fragment}
        if environment_id is not None and with_id:
            fields[ENVIRONMENT_ID] = environment_id
    return fields


def _encoded(environment: dict[str, Any]) -> tuple[orjson.Fragment, str | None]:
    """An environment's JSON and id (``None``: sent inline only, the server refuses it or
    stores it under the id it computes; its JSON needs the wire's markers, or the store's
    text rule refuses it)."""
    global _last_environment
    last = _last_environment  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is environment:
        return last[1]
    data = dumps(environment)
    environment_id: str | None = None
    try:
        if data == orjson.dumps(environment):  # read back as it is: the server finds this id
            environment_id = environment_document(environment)[0]
    except (RunhistoryError, TypeError):
        pass
    encoded = (orjson.Fragment(data), environment_id)
    # holds the object: its id stays unique
    _last_environment = (environment, encoded, len(data))
    return encoded


# The last environment object encoded, its JSON and its id, and the JSON's length.
_last_environment: tuple[dict[str, Any], tuple[orjson.Fragment, str | None], int] | None = None
_CREATE_NAMES = tuple(f.name for f in dataclasses.fields(RunCreate))
_STATUS_NAMES = tuple(f.name for f in dataclasses.fields(StatusChange))
# Each record's fields read at once, as a tuple (one C call instead of a getattr a field).
_GETTERS = {names: operator.attrgetter(*names) for names in (_CREATE_NAMES, _STATUS_NAMES)}


def named_environments(batches: list[Any]) -> set[str]:
    """The environment ids that creations of encoded batches (``{batch_id, changes}``) name
    without carrying the environment: the server must have stored them."""
    named: set[str] = set()
    for batch in batches:
        changes = batch.get("changes") if type(batch) is dict else None
        creates = changes.get("creates") if type(changes) is dict else None
        if type(creates) is not list:
            continue
        for create in creates:
            if type(create) is not dict:
                continue
            environment_id = create.get(ENVIRONMENT_ID)
            definition = create.get("run_definition")
            if type(environment_id) is str and (
                type(definition) is not dict or ENVIRONMENT not in definition
            ):
                named.add(environment_id)
    return named


def count_changes(data: dict[str, Any]) -> tuple[int, int]:
    """``(run changes, metric values)`` in an encoded batch (for progress and sizing)."""
    changes = sum(len(data.get(part) or ()) for part in _PARTS[:-1])
    values = sum(
        len(w["columns"][1]) for writes in (data.get("metrics") or {}).values() for w in writes
    )
    return changes, values


def decode_changes(data: Any) -> RunChanges:
    """A batch from its JSON form.

    Raises:
        ValidationError: a part or an entry has the wrong shape or type (named).
    """
    if not isinstance(data, dict):
        raise ValidationError(f"'changes' must be an object, got {type(data).__name__}")
    if not _PART_SET.issuperset(data):
        unknown = sorted(set(map(str, data)) - _PART_SET)
        raise ValidationError(f"'changes' has unknown parts {unknown}; known: {list(_PARTS)}")
    changes = RunChanges()
    changes.creates = [_create(item) for item in _list(data, "creates")]
    for item in _list(data, "updates"):
        changes.updates.append(RunUpdate(_run_id(item, "updates"), _dict(item, "fields")))
    for item in _list(data, "tags"):
        remove = item.get("remove") or []
        if not isinstance(remove, list):
            raise ValidationError("'tags' entries: 'remove' must be a list of keys")
        changes.tags.append(TagChange(_run_id(item, "tags"), _dict(item, "set"), tuple(remove)))
    for item in _list(data, "properties"):
        run_id = _run_id(item, "properties")
        changes.properties.append(PropertyChange(run_id, _dict(item, "properties")))
    for item in _list(data, "statuses"):
        run_id, status, time = _run_id(item, "statuses"), item.get("status"), item.get("time")
        error = item.get("error")
        if not isinstance(status, str) or not isinstance(time, _NUMBER) or isinstance(time, bool):
            raise ValidationError("'statuses' entries need 'status' (string) and 'time' (number)")
        if error is not None and not isinstance(error, dict):
            raise ValidationError("'statuses' entries: 'error' must be an object or null")
        changes.statuses.append(StatusChange(run_id, status, float(time), error))
    metrics = data.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise ValidationError("'metrics' must be an object {run id: [writes]}")
    for run_id, writes in metrics.items():
        if not isinstance(writes, list):
            raise ValidationError(f"'metrics' of run {run_id!r} must be a list of writes")
        changes.metrics[run_id] = [decode_write(w) for w in writes]
    return changes


def _list(data: dict[str, Any], part: str) -> list[dict[str, Any]]:
    found = data.get(part) or []
    if type(found) is list:  # as JSON decodes: checked without a generator
        for item in found:
            if type(item) is not dict:
                break
        else:
            return found
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise ValidationError(f"{part!r} must be a list of objects")
    return found


def _run_id(item: dict[str, Any], part: str) -> str:
    run_id = item.get("run_id")
    if not isinstance(run_id, str):
        raise ValidationError(f"{part!r} entries need 'run_id' (a string), got {run_id!r:.80}")
    return run_id


def _dict(item: dict[str, Any], key: str) -> dict[str, Any]:
    found = item.get(key) or {}
    if not isinstance(found, dict):
        raise ValidationError(f"{key!r} must be an object, got {type(found).__name__}")
    return found


def _create(item: dict[str, Any]) -> RunCreate:
    values = _plain_create(item)
    if values is None:
        values = _checked_create(item)
    environment_id = values.pop(ENVIRONMENT_ID, None)
    if environment_id is not None:
        values["run_definition"] = _named(environment_id, values.get("run_definition"))
    return RunCreate(**values)


def _plain_create(item: dict[str, Any]) -> dict[str, Any] | None:
    """A creation's fields if each is of a type :func:`_checked_create` takes as it is (an
    integer time made a float) and the required ones are there; else ``None`` (checked
    there, and refused with its message). Most creations: without its tests field by field."""
    values: dict[str, Any] = {}
    exact = _EXACT_TYPES
    for name, value in item.items():
        kinds = exact.get(name)
        if kinds is None or type(value) not in kinds:
            return None
        values[name] = float(value) if type(value) is int else value
    if not _REQUIRED_SET.issubset(values):
        return None
    return values


def _checked_create(item: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(map(str, item)) - set(_CREATE_FIELDS))
    if unknown:
        raise ValidationError(f"'creates' entries have unknown fields {unknown}")
    values: dict[str, Any] = {}
    for name, (types, nullable) in _CREATE_FIELDS.items():
        if name not in item:
            continue
        value = item[name]
        if value is None and nullable:
            values[name] = None
            continue
        if not isinstance(value, types) or isinstance(value, bool):
            kind = "/".join(t.__name__ for t in types) + (" or null" if nullable else "")
            raise ValidationError(f"run creation: {name!r} must be {kind}, got {value!r:.80}")
        values[name] = float(value) if isinstance(value, int | float) else value
    missing = [n for n in _REQUIRED if n not in values]
    if missing:
        raise ValidationError(f"a run creation needs {missing}")
    return values


def _named(environment_id: str, definition: dict[str, Any] | None) -> dict[str, Any]:
    """A definition whose environment is named by ``environment_id``: carried whole (checked
    against the id) or not (a stored one: the server checked the id before decoding)."""
    if len(environment_id) != 64 or not _HEX.issuperset(environment_id):
        raise ValidationError(
            f"run creation: {ENVIRONMENT_ID!r} must be 64 lowercase hex digits (the SHA-256 "
            f"of the environment's canonical JSON), got {environment_id!r:.80}",
            field=ENVIRONMENT_ID,
        )
    named = dict(definition or {})
    if ENVIRONMENT not in named:
        named[ENVIRONMENT] = KnownEnvironment(environment_id)
        return named
    found, document = environment_document(named[ENVIRONMENT])
    if found != environment_id:
        raise ValidationError(
            f"run creation: {ENVIRONMENT_ID!r} {environment_id!r} does not match the "
            f"environment sent with it (the SHA-256 of its canonical JSON, keys sorted, is "
            f"{found!r}); send the environment's own id, or the environment without one",
            field=ENVIRONMENT_ID,
        )
    named[ENVIRONMENT] = KnownEnvironment(environment_id, document)
    return named
