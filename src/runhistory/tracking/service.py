"""The tracking service: the one place that holds runhistory's rules.

The embedded SDK calls it in-process; the server hosts the very same class; the remote SDK
reaches it over HTTP. It composes the rule sets of each resource over one metadata store and
one artifact store.
"""

from __future__ import annotations

from runhistory.artifacts.base import ArtifactStore
from runhistory.store.base import TrackingStore
from runhistory.tracking.changes import ChangeRules
from runhistory.tracking.compute_rules import ComputeTargetRules
from runhistory.tracking.environment_registry import EnvironmentRegistryRules
from runhistory.tracking.experiments import ExperimentRules
from runhistory.tracking.files import FileRules
from runhistory.tracking.metric_rules import MetricRules
from runhistory.tracking.models import LocalModelRules, ModelRules
from runhistory.tracking.registry import ModelFileRules, RegistryRules
from runhistory.tracking.runs import RunRules
from runhistory.tracking.secret_rules import SecretRules


class TrackingService(
    ExperimentRules,
    RunRules,
    ChangeRules,
    MetricRules,
    FileRules,
    ModelRules,
    LocalModelRules,
    RegistryRules,
    ModelFileRules,
    EnvironmentRegistryRules,
    ComputeTargetRules,
    SecretRules,
):
    """Experiments, runs, metrics, files, models, environments and secrets, with their rules.

    Args:
        store: the metadata store.
        artifacts: the artifact store for file contents.
        secret_key_path: the key file that encrypts secrets at rest.
        heartbeat_timeout: seconds after which a silent running run shows NotResponding.
    """

    def __init__(
        self,
        store: TrackingStore,
        artifacts: ArtifactStore,
        secret_key_path: str | None = None,
        heartbeat_timeout: float = 120.0,
    ) -> None:
        self.store = store
        self.artifacts = artifacts
        self.secret_key_path = secret_key_path
        self.heartbeat_timeout = heartbeat_timeout
        self._metric_shapes = {}
        self._new_runs = set()

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()
