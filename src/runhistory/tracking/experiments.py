"""Rules for experiments: naming, archiving, reactivation, tags."""

from __future__ import annotations

import time
from collections.abc import Sequence

from runhistory.errors import ExperimentArchivedError, NotFoundError, ValidationError
from runhistory.store.base import TrackingStore
from runhistory.tracking.entities import (
    ExperimentInfo,
    ExperimentsPage,
    ExperimentSummary,
    SavedView,
)
from runhistory.tracking.paging import check_page_size, decode_key_token, encode_key_token, scope_of
from runhistory.tracking.validation import (
    check_experiment_name,
    check_filter,
    check_tags,
    check_text,
)

MAX_VIEW_NAME = 255
MAX_VIEW_STATE = 8000

VIEW_TYPES = ("ActiveOnly", "ArchivedOnly", "All")


class ExperimentRules:
    """The experiment half of :class:`~runhistory.tracking.service.TrackingService`."""

    store: TrackingStore

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The active experiment called ``name``, created if there is none.

        An archived experiment of that name stays archived: writing to the name makes a new one.
        """
        check_experiment_name(name)
        try:
            return self.store.get_experiment_by_name(name)
        except NotFoundError:
            pass
        try:
            return self.store.create_experiment(name)
        except Exception:
            # Another process may have created it between our read and our insert.
            return self.store.get_experiment_by_name(name)

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """The experiment with this id."""
        return self.store.get_experiment(experiment_id)

    def summarize_experiment(self, experiment_id: str) -> ExperimentSummary:
        """The number of runs of an experiment and the distinct tag keys, property keys and
        metric names of its runs, each with how many runs have it (for the columns of a
        runs table, without reading every run)."""
        return self.store.summarize_experiment(experiment_id)

    def list_views(self, experiment_id: str) -> list[SavedView]:
        """The saved views of an experiment's runs table, by name."""
        return self.store.list_views(experiment_id)

    def save_view(self, experiment_id: str, name: object, state: object) -> SavedView:
        """Save the runs-table view ``state`` (the studio's URL query) as ``name``, replacing
        a view of that name.

        Raises:
            ValidationError: an empty or too long name, or a state over 8,000 characters.
        """
        checked = check_text(name, "view name", MAX_VIEW_NAME)
        if not checked.strip():
            raise ValidationError("a view name must not be empty", field="name")
        return self.store.save_view(experiment_id, checked, check_text(state, "view state",
                                                                       MAX_VIEW_STATE))  # fmt: skip

    def delete_view(self, experiment_id: str, name: str) -> None:
        """Delete a saved view."""
        self.store.delete_view(experiment_id, name)

    def get_experiment_by_name(self, name: str, archived: bool = False) -> ExperimentInfo:
        """The active (or archived) experiment with this name."""
        return self.store.get_experiment_by_name(name, archived=archived)

    def list_experiments(
        self,
        name: str | None = None,
        view_type: str = "ActiveOnly",
        tags: object = None,
    ) -> list[ExperimentInfo]:
        """Experiments filtered by name, view type and tags (key or ``{key: value}``)."""
        if view_type not in VIEW_TYPES:
            raise ValidationError(
                f"view_type must be one of {', '.join(VIEW_TYPES)}, got {view_type!r}"
            )
        wanted = check_filter("tag", tags)
        found = self.store.list_experiments(name=name, view_type=view_type)
        if not wanted:
            return found
        return [e for e in found if _matches(e.tags, wanted)]

    def list_experiments_page(
        self,
        name: str | None = None,
        view_type: str = "ActiveOnly",
        tags: object = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> ExperimentsPage:
        """One page of :meth:`list_experiments`, oldest first (keyset paging by created time,
        name and id): pass its ``next_page_token`` for the next one. A page may hold fewer
        than ``page_size`` experiments (even none) and still have a next page.

        Raises:
            ValidationError: a bad ``view_type`` or ``page_size``, or ``page_token`` is not a
                token of this listing (same filters).
        """
        if view_type not in VIEW_TYPES:
            raise ValidationError(
                f"view_type must be one of {', '.join(VIEW_TYPES)}, got {view_type!r}"
            )
        check_page_size(page_size)
        wanted = check_filter("tag", tags) or {}
        scope = scope_of(
            {"listing": "experiments", "name": name, "view_type": view_type, "tags": wanted}
        )
        after = None
        if page_token is not None:
            created, last_name, last_id = decode_key_token(page_token, scope, (float, str, str))
            after = (float(created), str(last_name), str(last_id))
        found = self.store.list_experiments_page(
            name=name, view_type=view_type, after=after, limit=page_size + 1
        )
        more = len(found) > page_size
        scanned = found[:page_size]
        token = None
        if more:
            last = scanned[-1]
            token = encode_key_token((last.created_time, last.name, last.experiment_id), scope)
        return ExperimentsPage([e for e in scanned if _matches(e.tags, wanted)], token)

    def archive_experiment(self, experiment_id: str) -> ExperimentInfo:
        """Hide an experiment from default listings; archiving twice is a no-op."""
        found = self.store.get_experiment(experiment_id)
        if found.archived_time is not None:
            return found
        return self.store.update_experiment(experiment_id, archived_time=time.time())

    def reactivate_experiment(
        self, experiment_id: str, new_name: str | None = None
    ) -> ExperimentInfo:
        """Make an archived experiment active again, optionally under a new name."""
        found = self.store.get_experiment(experiment_id)
        name = check_experiment_name(new_name) if new_name else found.name
        try:
            active = self.store.get_experiment_by_name(name)
        except NotFoundError:
            active = None
        if active is not None and active.experiment_id != experiment_id:
            raise ExperimentArchivedError(
                f"cannot reactivate experiment {found.name!r} as {name!r}: an active experiment "
                f"already has that name; pass new_name='...' to reactivate it under another name"
            )
        return self.store.update_experiment(experiment_id, name=name, archived_time=None)

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment with all its runs."""
        self.store.get_experiment(experiment_id)
        self.store.delete_experiment(experiment_id)

    def set_experiment_tags(self, experiment_id: str, tags: object) -> None:
        """Insert or overwrite experiment tags."""
        self.store.set_experiment_tags(experiment_id, check_tags(tags))

    def remove_experiment_tags(self, experiment_id: str, keys: Sequence[str]) -> None:
        """Remove experiment tags."""
        self.store.remove_experiment_tags(experiment_id, list(keys))


def _matches(have: dict[str, str | None], wanted: dict[str, str | None]) -> bool:
    return all(k in have and (v is None or have[k] == v) for k, v in wanted.items())
