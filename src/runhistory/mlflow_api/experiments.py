"""MLflow's experiment calls on the tracking service (create, get, search, rename, tags…)."""

from __future__ import annotations

from typing import Any

from runhistory.errors import NotFoundError
from runhistory.mlflow_api import mapping as mp
from runhistory.mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowApiError, not_found
from runhistory.mlflow_api.fields import key_of, list_of, pairs, refuse_hidden, value_of
from runhistory.mlflow_api.paging import page_of
from runhistory.mlflow_api.search import Clause, matches, parse_filter, parse_order_by
from runhistory.tracking.entities import ExperimentInfo
from runhistory.tracking.service import TrackingService

_VIEW_TYPES = {"ACTIVE_ONLY": "ActiveOnly", "DELETED_ONLY": "ArchivedOnly", "ALL": "All"}
_VIEW_NUMBERS = {"1": "ACTIVE_ONLY", "2": "DELETED_ONLY", "3": "ALL"}
EXPERIMENT_ATTRIBUTES = frozenset(("name", "creation_time", "last_update_time", "experiment_id"))


def view_type(value: object) -> str:
    """runhistory's view type for MLflow's ``view_type`` (a name or its enum number)."""
    name = _VIEW_NUMBERS.get(str(value), str(value)) if value is not None else "ACTIVE_ONLY"
    if name not in _VIEW_TYPES:
        raise MlflowApiError(f"invalid view_type {value!r}; one of {', '.join(_VIEW_TYPES)}")
    return name


class MlflowExperiments:
    """The experiment calls of MLflow's tracking API, answered by ``service``."""

    def __init__(self, service: TrackingService) -> None:
        self.service = service

    def resolve(self, experiment_id: object) -> ExperimentInfo:
        """The experiment with this id; MLflow's default id ``"0"`` is the ``Default`` one."""
        if not isinstance(experiment_id, str) or not experiment_id:
            raise MlflowApiError(f"experiment_id must be a non-empty string, got {experiment_id!r}")
        if experiment_id == mp.DEFAULT_EXPERIMENT_ID:
            return self.service.get_or_create_experiment(mp.DEFAULT_EXPERIMENT_NAME)
        try:
            return self.service.get_experiment(experiment_id)
        except NotFoundError:
            raise not_found(f"No Experiment with id={experiment_id} exists") from None

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/create``: a new active experiment (the name must be free)."""
        name = body.get("name")
        stored = mp.stored_experiment_name(name)
        assert isinstance(name, str)
        for archived in (False, True):
            try:
                self.service.get_experiment_by_name(stored, archived=archived)
            except NotFoundError:
                continue
            state = " in deleted state" if archived else ""
            raise MlflowApiError(
                f"Experiment '{name}' already exists{state}.", RESOURCE_ALREADY_EXISTS
            )
        experiment = self.service.get_or_create_experiment(stored)
        tags = pairs(body.get("tags"), "tags")
        refuse_hidden(tags, mp.HIDDEN_EXPERIMENT_TAGS)
        if mp.needs_name_tag(name):
            tags[mp.NAME_TAG] = name
        if tags:
            self.service.set_experiment_tags(experiment.experiment_id, tags)
        return {"experiment_id": experiment.experiment_id}

    def get(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/get``."""
        return {"experiment": mp.experiment_json(self.resolve(body.get("experiment_id")))}

    def get_by_name(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/get-by-name``: the active experiment, else the latest deleted one."""
        name = body.get("experiment_name")
        stored = mp.stored_experiment_name(name)
        for archived in (False, True):
            try:
                found = self.service.get_experiment_by_name(stored, archived=archived)
            except NotFoundError:
                continue
            return {"experiment": mp.experiment_json(found)}
        raise not_found(f"Could not find experiment with name '{name}'")

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/search`` with a filter on name, times and tags, ordered and paged."""
        wanted = _VIEW_TYPES[view_type(body.get("view_type"))]
        clauses = parse_filter(body.get("filter"), EXPERIMENT_ATTRIBUTES)
        order = parse_order_by(list_of(body.get("order_by")), EXPERIMENT_ATTRIBUTES)
        found = [mp.experiment_json(e) for e in self.service.list_experiments(view_type=wanted)]
        kept = [e for e in found if all(_experiment_matches(c, e) for c in clauses)]
        for term in reversed(order or [_default_order()]):
            present = [e for e in kept if _experimentvalue_of(e, term.entity, term.key) is not None]
            absent = [e for e in kept if _experimentvalue_of(e, term.entity, term.key) is None]
            present.sort(key=lambda e: _experimentvalue_of(e, term.entity, term.key),
                         reverse=term.descending)  # fmt: skip
            kept = present + absent
        items, token = page_of(kept, body.get("max_results"), body.get("page_token"), 1000, 50_000)
        answer: dict[str, Any] = {"experiments": items}
        if token:
            answer["next_page_token"] = token
        return answer

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/update``: rename."""
        experiment = self.resolve(body.get("experiment_id"))
        new_name = body.get("new_name")
        stored = mp.stored_experiment_name(new_name)
        assert isinstance(new_name, str)
        try:
            other = self.service.get_experiment_by_name(stored)
        except NotFoundError:
            other = None
        if other is not None and other.experiment_id != experiment.experiment_id:
            raise MlflowApiError(
                f"Experiment '{new_name}' already exists.", RESOURCE_ALREADY_EXISTS
            )
        if experiment.archived_time is not None:
            raise MlflowApiError(
                f"Cannot rename a non-active experiment {experiment.experiment_id}."
            )
        self.service.reactivate_experiment(experiment.experiment_id, new_name=stored)
        if mp.needs_name_tag(new_name):
            self.service.set_experiment_tags(experiment.experiment_id, {mp.NAME_TAG: new_name})
        elif mp.NAME_TAG in experiment.tags:
            self.service.remove_experiment_tags(experiment.experiment_id, [mp.NAME_TAG])
        return {}

    def delete(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/delete``: archived (its runs are kept; ``restore`` brings it back)."""
        experiment = self.resolve(body.get("experiment_id"))
        self.service.archive_experiment(experiment.experiment_id)
        return {}

    def restore(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/restore``: active again under its name."""
        experiment = self.resolve(body.get("experiment_id"))
        self.service.reactivate_experiment(experiment.experiment_id)
        return {}

    def set_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/set-experiment-tag``."""
        experiment = self.resolve(body.get("experiment_id"))
        key, value = key_of(body), value_of(body)
        refuse_hidden({key: value}, mp.HIDDEN_EXPERIMENT_TAGS)
        self.service.set_experiment_tags(experiment.experiment_id, {key: value})
        return {}

    def delete_tag(self, body: dict[str, Any]) -> dict[str, Any]:
        """``experiments/delete-experiment-tag``."""
        experiment = self.resolve(body.get("experiment_id"))
        key = key_of(body)
        refuse_hidden({key: ""}, mp.HIDDEN_EXPERIMENT_TAGS)
        if key not in experiment.tags:
            raise not_found(f"No tag with name: {key} in experiment {experiment.experiment_id}")
        self.service.remove_experiment_tags(experiment.experiment_id, [key])
        return {}


def _default_order() -> Any:
    return parse_order_by(["creation_time DESC"], EXPERIMENT_ATTRIBUTES)[0]


def _experimentvalue_of(experiment: dict[str, Any], entity: str, key: str) -> Any:
    if entity == "tags":
        return next((t["value"] for t in experiment["tags"] if t["key"] == key), None)
    if entity == "attributes":
        value = experiment.get(key)
        return float(value) if key.endswith("_time") and value is not None else value
    return None


def _experiment_matches(clause: Clause, experiment: dict[str, Any]) -> bool:
    if clause.entity not in ("tags", "attributes"):
        raise MlflowApiError(
            f"experiments are searched by name, times and tags, not {clause.entity}"
        )
    return matches(clause, _experimentvalue_of(experiment, clause.entity, clause.key))
