"""Experiment: a named container of runs."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from runhistory.tracking.entities import ExperimentInfo
from runhistory.tracking.validation import check_experiment_name

if TYPE_CHECKING:
    from runhistory.sdk.run import Run
    from runhistory.sdk.workspace import Workspace


class Experiment:
    """A named container of runs; ``Experiment(ws, name)`` gets or creates it.

    Names are 3-36 characters: a letter or digit first, then letters, digits, ``_`` or ``-``.

    Example:
        >>> exp = Experiment(ws, "mnist-cnn")  # doctest: +SKIP
        >>> run = exp.start_logging()  # doctest: +SKIP
    """

    def __init__(
        self,
        workspace: Workspace,
        name: str,
        _skip_name_validation: bool = False,
        _id: str | None = None,
        _archived_time: Any = None,
        _create_in_cloud: bool = True,
        _experiment_dto: ExperimentInfo | None = None,
        **kwargs: Any,
    ) -> None:
        self._workspace = workspace
        if _experiment_dto is not None:
            self._info = _experiment_dto
        elif _id is not None:
            self._info = self._backend.get_experiment(_id)
        else:
            if not _skip_name_validation:
                check_experiment_name(name)
            self._info = self._backend.get_or_create_experiment(name)

    @property
    def _backend(self) -> Any:
        return self._workspace._connection.backend

    # ---- attributes -----------------------------------------------------------------
    @property
    def id(self) -> str:
        """The experiment id."""
        return self._info.experiment_id

    @property
    def name(self) -> str:
        """The experiment name."""
        return self._info.name

    @property
    def workspace(self) -> Workspace:
        """The workspace holding the experiment."""
        return self._workspace

    @property
    def workspace_object(self) -> Workspace:
        """Same as :attr:`workspace` (kept for compatibility)."""
        return self._workspace

    @property
    def archived_time(self) -> str | None:
        """When the experiment was archived (ISO 8601, UTC), or None."""
        from runhistory.sdk.timefmt import iso_utc

        return iso_utc(self._info.archived_time)

    @property
    def tags(self) -> dict[str, str | None]:
        """The experiment's tags."""
        return dict(self._info.tags)

    @property
    def identity(self) -> str:
        """A printable identity: ``workspace/experiment``."""
        return f"{self._workspace.name}/{self.name}"

    @property
    def portal_url(self) -> str:
        """The studio page of this experiment."""
        return self.get_portal_url()

    def get_portal_url(self) -> str:
        """The studio page of this experiment (see :mod:`runhistory.sdk.portal`)."""
        from runhistory.sdk.portal import studio_base

        return f"{studio_base(self._workspace)}/#/experiments/{self.id}"

    @classmethod
    def get_docs_url(cls) -> str:
        """Where runhistory's documentation is."""
        return "https://runhistory.readthedocs.io/"

    # ---- runs -----------------------------------------------------------------------
    def start_logging(self, *args: Any, **kwargs: Any) -> Run:
        """Start an interactive run and return it (status Running).

        Args:
            outputs: folder whose files are uploaded under ``outputs/`` when the run ends
                (default ``./outputs``; ``False`` for none).
            snapshot_directory: folder (or file) to snapshot as the run's source.
            display_name: the run's display name.
            description: the run's description.
            system_metrics: sample CPU, memory, disk, network and GPU figures under
                ``system/`` in the background (default: the ``RUNHISTORY_SYSTEM_METRICS``
                setting, on; the interval is ``RUNHISTORY_SYSTEM_METRICS_INTERVAL``).
        """
        from runhistory.sdk.run import Run

        return Run._start_interactive(self, *args, **kwargs)

    def submit(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Run:
        """Submit a ``ScriptRunConfig`` (or any object with ``_submit``); returns its Run."""
        from runhistory.errors import ValidationError

        submit = getattr(config, "_submit", None)
        if submit is None:
            raise ValidationError(
                f"cannot submit a {type(config).__name__}: pass a ScriptRunConfig"
            )
        run: Run = submit(self, tags=tags, **kwargs)
        return run

    def get_runs(
        self,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        include_children: bool = False,
    ) -> Iterator[Run]:
        """Runs of this experiment, newest first, filtered by type, tags and properties.

        A tag or property filter is a key (the run has it) or ``{key: value}``. A generator,
        as in the original SDK: runs are fetched a page at a time as it is iterated.
        """
        from runhistory.sdk.run import Run

        return Run.list(
            self, type=type, tags=tags, properties=properties, include_children=include_children
        )

    # ---- lifecycle ------------------------------------------------------------------
    def archive(self) -> None:
        """Hide the experiment from default listings."""
        self._info = self._backend.archive_experiment(self.id)

    def reactivate(self, new_name: str | None = None) -> None:
        """Make an archived experiment active again, optionally renamed."""
        self._info = self._backend.reactivate_experiment(self.id, new_name)

    def refresh(self) -> None:
        """Reload the experiment from the store."""
        self._info = self._backend.get_experiment(self.id)

    @staticmethod
    def delete(workspace: Workspace, experiment_id: str) -> None:
        """Delete an experiment with all its runs."""
        workspace._connection.backend.delete_experiment(experiment_id)

    @staticmethod
    def list(
        workspace: Workspace,
        experiment_name: str | None = None,
        view_type: str = "ActiveOnly",
        tags: Any = None,
    ) -> builtins.list[Experiment]:
        """Experiments of a workspace; ``view_type`` is ActiveOnly, ArchivedOnly or All."""
        infos = workspace._connection.backend.list_experiments(
            name=experiment_name, view_type=view_type, tags=tags
        )
        return [Experiment(workspace, i.name, _experiment_dto=i) for i in infos]

    @staticmethod
    def from_directory(path: str, auth: Any = None) -> Experiment:
        """The experiment of a project folder: workspace from its config, name from the config's
        ``experiment_name`` or the folder name."""
        from runhistory.sdk.config import find_config_file, read_config
        from runhistory.sdk.workspace import Workspace

        workspace = Workspace.from_config(path)
        found = find_config_file(path)
        name = read_config(found).experiment_name if found else None
        return Experiment(workspace, name or os.path.basename(os.path.abspath(path)))

    # ---- tags -----------------------------------------------------------------------
    def tag(self, key: str, value: str | None = None) -> None:
        """Set one tag (a tag may have no value)."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, str | None]) -> None:
        """Insert or overwrite tags."""
        self._backend.set_experiment_tags(self.id, tags)
        self.refresh()

    def remove_tags(self, tags: builtins.list[str]) -> None:
        """Remove tags by key."""
        self._backend.remove_experiment_tags(self.id, [tags] if isinstance(tags, str) else tags)
        self.refresh()

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name}, Workspace: {self._workspace.name})"

    def _repr_html_(self) -> str:
        from runhistory.sdk.html import experiment_html

        return experiment_html(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)
