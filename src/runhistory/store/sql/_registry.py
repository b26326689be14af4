"""Registered models as a whole in the SQL store: description, tags and aliases of a model
name, renaming and deleting a model with all its versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from runhistory.errors import ConflictError, NotFoundError
from runhistory.store.base import UNCHANGED
from runhistory.store.sql._common import SqlStoreBase, remove_keys, set_key_values
from runhistory.store.sql.schema import (
    model_aliases,
    model_files,
    model_properties,
    model_tags,
    models,
    registered_model_tags,
    registered_models,
)
from runhistory.tracking.entities import RegisteredModelInfo

_VERSION_CHILDREN = (model_tags, model_properties, model_files)


def _fetch(conn: Connection, names: Sequence[str] | None) -> list[RegisteredModelInfo]:
    query = select(registered_models).order_by(registered_models.c.name)
    tag_query = select(registered_model_tags)
    alias_query = select(model_aliases)
    if names is not None:
        query = query.where(registered_models.c.name.in_(names))
        tag_query = tag_query.where(registered_model_tags.c.name.in_(names))
        alias_query = alias_query.where(model_aliases.c.name.in_(names))
    tags: dict[str, dict[str, str | None]] = {}
    for row in conn.execute(tag_query):
        tags.setdefault(row.name, {})[row.key] = row.value
    aliases: dict[str, dict[str, int]] = {}
    for row in conn.execute(alias_query.order_by(model_aliases.c.alias)):
        aliases.setdefault(row.name, {})[row.alias] = row.version
    return [
        RegisteredModelInfo(
            **row._mapping, tags=tags.get(row.name, {}), aliases=aliases.get(row.name, {})
        )
        for row in conn.execute(query)
    ]


def _get(conn: Connection, name: str) -> RegisteredModelInfo:
    found = _fetch(conn, [name])
    if not found:
        raise NotFoundError(f"no registered model named {name!r}", name=name)
    return found[0]


def _refuse_taken(conn: Connection, name: str) -> None:
    taken = conn.execute(select(registered_models.c.name).where(registered_models.c.name == name))
    if taken.first() is not None:
        raise ConflictError(f"a registered model named {name!r} exists already", name=name)


def _rows(conn: Connection, table: Any, name: str) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(table).where(table.c.name == name))]


class RegistryMixin(SqlStoreBase):
    """The registered-model methods of :class:`~runhistory.store.sql.SqlTrackingStore`."""

    def create_registered_model(
        self,
        name: str,
        created_time: float,
        description: str | None = None,
        tags: dict[str, str | None] | None = None,
    ) -> RegisteredModelInfo:
        def work(conn: Connection) -> RegisteredModelInfo:
            _refuse_taken(conn, name)
            conn.execute(
                insert(registered_models).values(
                    name=name,
                    created_time=created_time,
                    updated_time=created_time,
                    description=description,
                )
            )
            set_key_values(conn, registered_model_tags, {"name": name}, tags or {})
            return _get(conn, name)

        return self._write(work)

    def get_registered_model(self, name: str) -> RegisteredModelInfo:
        return self._read(lambda conn: _get(conn, name))

    def list_registered_models(self) -> list[RegisteredModelInfo]:
        return self._read(lambda conn: _fetch(conn, None))

    def update_registered_model(
        self,
        name: str,
        updated_time: float,
        description: str | None = UNCHANGED,
        tags: dict[str, str | None] | None = None,
        remove_tags: Sequence[str] = (),
        aliases: dict[str, int] | None = None,
        remove_aliases: Sequence[str] = (),
    ) -> RegisteredModelInfo:
        owner = {"name": name}

        def work(conn: Connection) -> RegisteredModelInfo:
            _get(conn, name)
            columns: dict[str, Any] = {"updated_time": updated_time}
            if description is not UNCHANGED:
                columns["description"] = description
            stmt = update(registered_models).where(registered_models.c.name == name)
            conn.execute(stmt.values(**columns))
            set_key_values(conn, registered_model_tags, owner, tags or {})
            remove_keys(conn, registered_model_tags, owner, remove_tags)
            for alias, version in (aliases or {}).items():
                _point_alias(conn, name, alias, version)
            if remove_aliases:
                conn.execute(
                    delete(model_aliases).where(
                        model_aliases.c.name == name, model_aliases.c.alias.in_(remove_aliases)
                    )
                )
            return _get(conn, name)

        return self._write(work)

    def rename_registered_model(
        self, name: str, new_name: str, updated_time: float
    ) -> RegisteredModelInfo:
        def work(conn: Connection) -> RegisteredModelInfo:
            old = _get(conn, name)
            _refuse_taken(conn, new_name)
            conn.execute(
                insert(registered_models).values(
                    name=new_name,
                    created_time=old.created_time,
                    updated_time=updated_time,
                    description=old.description,
                )
            )
            for table in (registered_model_tags, model_aliases):
                conn.execute(update(table).where(table.c.name == name).values(name=new_name))
            children = {table: _rows(conn, table, name) for table in _VERSION_CHILDREN}
            for table in _VERSION_CHILDREN:
                conn.execute(delete(table).where(table.c.name == name))
            versions = _rows(conn, models, name)
            conn.execute(delete(models).where(models.c.name == name))
            if versions:
                conn.execute(insert(models), [{**v, "name": new_name} for v in versions])
            for table, rows in children.items():
                if rows:
                    conn.execute(insert(table), [{**r, "name": new_name} for r in rows])
            conn.execute(delete(registered_models).where(registered_models.c.name == name))
            return _get(conn, new_name)

        return self._write(work)

    def delete_registered_model(self, name: str) -> None:
        def work(conn: Connection) -> None:
            _get(conn, name)
            tables = (*_VERSION_CHILDREN, models, model_aliases, registered_model_tags)
            for table in (*tables, registered_models):
                conn.execute(delete(table).where(table.c.name == name))

        self._write(work)


def _point_alias(conn: Connection, name: str, alias: str, version: int) -> None:
    exists = select(models.c.version).where(models.c.name == name, models.c.version == version)
    if conn.execute(exists).first() is None:
        raise NotFoundError(f"no model {name!r} with version {version}", name=name, version=version)
    conn.execute(
        delete(model_aliases).where(model_aliases.c.name == name, model_aliases.c.alias == alias)
    )
    conn.execute(insert(model_aliases).values(name=name, alias=alias, version=version))
