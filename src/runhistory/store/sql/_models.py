"""Registered models in the SQL store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from runhistory.errors import NotFoundError
from runhistory.store.base import UNCHANGED
from runhistory.store.sql._common import (
    SqlStoreBase,
    VersionTaken,
    add_key_values,
    insert_ignore,
    remove_keys,
    set_key_values,
    write_next_version,
)
from runhistory.store.sql.schema import (
    model_aliases,
    model_files,
    model_properties,
    model_tags,
    models,
    registered_models,
)
from runhistory.tracking.entities import ModelInfo

_CHILD_TABLES = (model_tags, model_properties, model_files)


def _not_found(name: str, version: int | None) -> NotFoundError:
    if version is None:
        return NotFoundError(f"no model named {name!r}", name=name)
    return NotFoundError(f"no model {name!r} with version {version}", name=name, version=version)


def _children(conn: Connection, names: Sequence[str]) -> dict[tuple[str, int], dict[str, Any]]:
    """Tags, properties and files of every version of the models ``names``."""
    found: dict[tuple[str, int], dict[str, Any]] = {}

    def slot(row: Any) -> dict[str, Any]:
        return found.setdefault(
            (row.name, row.version), {"tags": {}, "properties": {}, "files": []}
        )

    names = list(dict.fromkeys(names))
    for row in conn.execute(select(model_tags).where(model_tags.c.name.in_(names))):
        slot(row)["tags"][row.key] = row.value
    for row in conn.execute(select(model_properties).where(model_properties.c.name.in_(names))):
        slot(row)["properties"][row.key] = row.value
    query = select(model_files).where(model_files.c.name.in_(names))
    for row in conn.execute(query.order_by(model_files.c.position)):
        slot(row)["files"].append(row.path)
    return found


def _fetch(conn: Connection, query: Select[Any]) -> list[ModelInfo]:
    rows = conn.execute(query).all()
    children = _children(conn, [row.name for row in rows])
    return [ModelInfo(**row._mapping, **children.get((row.name, row.version), {})) for row in rows]


def _get(conn: Connection, name: str, version: int | None) -> ModelInfo:
    query = select(models).where(models.c.name == name)
    if version is None:
        query = query.order_by(models.c.version.desc()).limit(1)
    else:
        query = query.where(models.c.version == version)
    found = _fetch(conn, query)
    if not found:
        raise _not_found(name, version)
    return found[0]


def _insert_version(conn: Connection, values: dict[str, Any], extra: dict[str, Any]) -> int:
    name = values["name"]
    latest = conn.execute(select(func.max(models.c.version)).where(models.c.name == name))
    version = int(latest.scalar() or 0) + 1
    created = values["created_time"]
    row = {"name": name, "created_time": created, "updated_time": created}
    insert_ignore(conn, registered_models, [row], ["name"])
    touch = update(registered_models).where(registered_models.c.name == name)
    conn.execute(touch.values(updated_time=created))
    try:
        conn.execute(insert(models).values(**values, version=version))
    except IntegrityError as exc:
        raise VersionTaken from exc
    key = {"name": name, "version": version}
    set_key_values(conn, model_tags, key, extra["tags"] or {})
    add_key_values(conn, model_properties, key, extra["properties"] or {})
    paths = [{**key, "position": i, "path": path} for i, path in enumerate(extra["files"])]
    if paths:
        conn.execute(insert(model_files), paths)
    return version


class ModelsMixin(SqlStoreBase):
    """The model registry methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def create_model_version(
        self,
        name: str,
        created_time: float,
        run_id: str | None = None,
        experiment_name: str | None = None,
        description: str | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
        tags: dict[str, str | None] | None = None,
        properties: dict[str, str] | None = None,
        files: Sequence[str] = (),
        source: str | None = None,
    ) -> ModelInfo:
        values = {
            "name": name, "created_time": created_time, "run_id": run_id,
            "experiment_name": experiment_name, "description": description,
            "framework": framework, "framework_version": framework_version,
            "source": source, "updated_time": created_time,
        }  # fmt: skip
        extra = {"tags": tags, "properties": properties, "files": list(files)}

        def work(conn: Connection) -> ModelInfo:
            return _get(conn, name, _insert_version(conn, values, extra))

        return write_next_version(self, work, f"model {name!r}")

    def get_model(self, name: str, version: int | None = None) -> ModelInfo:
        return self._read(lambda conn: _get(conn, name, version))

    def list_models(
        self, name: str | None = None, run_id: str | None = None, latest: bool = False
    ) -> list[ModelInfo]:
        query = select(models).order_by(models.c.name, models.c.version.desc())
        if name is not None:
            query = query.where(models.c.name == name)
        if run_id is not None:
            query = query.where(models.c.run_id == run_id)
        found = self._read(lambda conn: _fetch(conn, query))
        if latest:  # newest version first within a name: keep the first of each
            found = list({model.name: model for model in reversed(found)}.values())[::-1]
        return found

    def list_models_page(
        self,
        name: str | None = None,
        run_id: str | None = None,
        after: tuple[str, int] | None = None,
        limit: int = 100,
    ) -> list[ModelInfo]:
        query = select(models).order_by(models.c.name, models.c.version.desc()).limit(limit)
        if name is not None:
            query = query.where(models.c.name == name)
        if run_id is not None:
            query = query.where(models.c.run_id == run_id)
        if after is not None:
            last_name, last_version = after
            query = query.where(
                or_(
                    models.c.name > last_name,
                    and_(models.c.name == last_name, models.c.version < last_version),
                )
            )
        return self._read(lambda conn: _fetch(conn, query))

    def update_model(
        self,
        name: str,
        version: int,
        tags: dict[str, str | None] | None = None,
        remove_tags: Sequence[str] = (),
        properties: dict[str, str] | None = None,
        description: str | None = UNCHANGED,
        stage: str | None = UNCHANGED,
        updated_time: float | None = None,
    ) -> ModelInfo:
        key = {"name": name, "version": version}
        columns: dict[str, Any] = {} if updated_time is None else {"updated_time": updated_time}
        if description is not UNCHANGED:
            columns["description"] = description
        if stage is not UNCHANGED:
            columns["stage"] = stage

        def work(conn: Connection) -> ModelInfo:
            _get(conn, name, version)
            set_key_values(conn, model_tags, key, tags or {})
            remove_keys(conn, model_tags, key, remove_tags)
            add_key_values(conn, model_properties, key, properties or {})
            if columns:
                stmt = update(models).where(models.c.name == name, models.c.version == version)
                conn.execute(stmt.values(**columns))
            return _get(conn, name, version)

        return self._write(work)

    def delete_model(self, name: str, version: int) -> None:
        def work(conn: Connection) -> None:
            _get(conn, name, version)
            for table in (*_CHILD_TABLES, models, model_aliases):
                conn.execute(delete(table).where(table.c.name == name, table.c.version == version))

        self._write(work)
