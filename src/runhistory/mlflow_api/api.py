"""MLflow's tracking API as one object over the tracking service: each method takes MLflow's
request message (a dict, as its JSON) and returns its response message.

The server's MLflow routes and the embedded MLflow plugin both call it, so MLflow logs through
the same rules and the same write path as runhistory's own SDK. See docs/mlflow.md.
"""

from __future__ import annotations

from typing import Any

from runhistory.mlflow_api.experiments import MlflowExperiments
from runhistory.mlflow_api.logged_models import MlflowLoggedModels
from runhistory.mlflow_api.queries import MlflowQueries
from runhistory.mlflow_api.registry import MlflowRegistry
from runhistory.mlflow_api.runs import MlflowRuns
from runhistory.tracking.service import TrackingService

Message = dict[str, Any]


class MlflowApi:
    """MLflow's experiment, run, metric and artifact-listing calls, answered by ``service``.

    Every method takes ``(message, user)``: ``user`` is the authenticated caller's name
    (``None`` without authentication), which a created run is submitted by.
    """

    def __init__(self, service: TrackingService) -> None:
        self.service = service
        self.experiments = MlflowExperiments(service)
        self.runs = MlflowRuns(service, self.experiments)
        self.queries = MlflowQueries(service, self.experiments, self.runs)
        self.registry = MlflowRegistry(service, self.runs)
        self.logged_models = MlflowLoggedModels(service, self.experiments, self.runs)

    # experiments
    def create_experiment(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.create(message)

    def get_experiment(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.get(message)

    def get_experiment_by_name(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.get_by_name(message)

    def search_experiments(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.search(message)

    def update_experiment(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.update(message)

    def delete_experiment(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.delete(message)

    def restore_experiment(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.restore(message)

    def set_experiment_tag(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.set_tag(message)

    def delete_experiment_tag(self, message: Message, user: str | None = None) -> Message:
        return self.experiments.delete_tag(message)

    # runs
    def create_run(self, message: Message, user: str | None = None) -> Message:
        return self.runs.create(message, user)

    def get_run(self, message: Message, user: str | None = None) -> Message:
        return self.runs.get(message)

    def update_run(self, message: Message, user: str | None = None) -> Message:
        return self.runs.update(message)

    def delete_run(self, message: Message, user: str | None = None) -> Message:
        return self.runs.delete(message)

    def restore_run(self, message: Message, user: str | None = None) -> Message:
        return self.runs.restore(message)

    def log_metric(self, message: Message, user: str | None = None) -> Message:
        return self.runs.log_metric(message)

    def log_param(self, message: Message, user: str | None = None) -> Message:
        return self.runs.log_param(message)

    def log_batch(self, message: Message, user: str | None = None) -> Message:
        return self.runs.log_batch(message)

    def set_tag(self, message: Message, user: str | None = None) -> Message:
        return self.runs.set_tag(message)

    def delete_tag(self, message: Message, user: str | None = None) -> Message:
        return self.runs.delete_tag(message)

    def log_inputs(self, message: Message, user: str | None = None) -> Message:
        return self.runs.log_inputs(message)

    # queries
    def search_runs(self, message: Message, user: str | None = None) -> Message:
        return self.queries.search_runs(message)

    def get_metric_history(self, message: Message, user: str | None = None) -> Message:
        return self.queries.metric_history(message)

    def get_metric_history_bulk_interval(
        self, message: Message, user: str | None = None
    ) -> Message:
        return self.queries.metric_history_bulk(message)

    def list_artifacts(self, message: Message, user: str | None = None) -> Message:
        return self.queries.list_artifacts(message)

    # model registry
    def create_registered_model(self, message: Message, user: str | None = None) -> Message:
        return self.registry.create_model(message)

    def get_registered_model(self, message: Message, user: str | None = None) -> Message:
        return self.registry.get_model(message)

    def rename_registered_model(self, message: Message, user: str | None = None) -> Message:
        return self.registry.rename_model(message)

    def update_registered_model(self, message: Message, user: str | None = None) -> Message:
        return self.registry.update_model(message)

    def delete_registered_model(self, message: Message, user: str | None = None) -> Message:
        return self.registry.delete_model(message)

    def search_registered_models(self, message: Message, user: str | None = None) -> Message:
        return self.registry.search_models(message)

    def get_latest_versions(self, message: Message, user: str | None = None) -> Message:
        return self.registry.get_latest_versions(message)

    def set_registered_model_tag(self, message: Message, user: str | None = None) -> Message:
        return self.registry.set_model_tag(message)

    def delete_registered_model_tag(self, message: Message, user: str | None = None) -> Message:
        return self.registry.delete_model_tag(message)

    def set_registered_model_alias(self, message: Message, user: str | None = None) -> Message:
        return self.registry.set_alias(message)

    def delete_registered_model_alias(self, message: Message, user: str | None = None) -> Message:
        return self.registry.delete_alias(message)

    def get_model_version_by_alias(self, message: Message, user: str | None = None) -> Message:
        return self.registry.get_by_alias(message)

    def create_model_version(self, message: Message, user: str | None = None) -> Message:
        return self.registry.create_version(message)

    def get_model_version(self, message: Message, user: str | None = None) -> Message:
        return self.registry.get_version(message)

    def update_model_version(self, message: Message, user: str | None = None) -> Message:
        return self.registry.update_version(message)

    def transition_model_version_stage(self, message: Message, user: str | None = None) -> Message:
        return self.registry.transition_stage(message)

    def delete_model_version(self, message: Message, user: str | None = None) -> Message:
        return self.registry.delete_version(message)

    def get_model_version_download_uri(self, message: Message, user: str | None = None) -> Message:
        return self.registry.download_uri(message)

    def search_model_versions(self, message: Message, user: str | None = None) -> Message:
        return self.registry.search_versions(message)

    def set_model_version_tag(self, message: Message, user: str | None = None) -> Message:
        return self.registry.set_version_tag(message)

    def delete_model_version_tag(self, message: Message, user: str | None = None) -> Message:
        return self.registry.delete_version_tag(message)

    # logged models (MLflow 3)
    def create_logged_model(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.create(message, user)

    def get_logged_model(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.get(message)

    def finalize_logged_model(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.finalize(message)

    def delete_logged_model(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.delete(message)

    def set_logged_model_tags(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.set_tags(message)

    def delete_logged_model_tag(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.delete_tag(message)

    def log_logged_model_params(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.log_params(message)

    def search_logged_models(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.search(message)

    def log_outputs(self, message: Message, user: str | None = None) -> Message:
        return self.logged_models.log_outputs(message)
