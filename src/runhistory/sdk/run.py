"""Run: one trial of an experiment — its lifecycle, tags, properties, children and queries."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from runhistory.errors import ActivityFailedException, ValidationError
from runhistory.sdk.environment_info import shared_environment
from runhistory.sdk.run_files import RunFilesMixin
from runhistory.sdk.run_metrics import RunMetricsMixin
from runhistory.sdk.run_pages import lazy_runs
from runhistory.sdk.run_state import RunStateMixin
from runhistory.sdk.write_behind import queue_new_run, writes_behind
from runhistory.sysmetrics.monitor import check_settings
from runhistory.tracking import status as st
from runhistory.tracking.entities import PropertyChange, RunInfo, RunsPage, TagChange
from runhistory.tracking.run_records import property_conflict
from runhistory.tracking.validation import check_properties, check_tags

if TYPE_CHECKING:
    from runhistory.client.protocol import Backend
    from runhistory.sdk.experiment import Experiment
    from runhistory.sdk.heartbeat import Heartbeat
    from runhistory.sdk.model import Model
    from runhistory.sdk.workspace import Workspace
    from runhistory.sysmetrics.monitor import SystemMonitor

_TYPE_PROVIDERS: dict[str, Any] = {}
# Run types whose class lives in an optional module, loaded when a run of that type is read.
_BUILTIN_TYPES = {"hyperdrive": "runhistory.hyperdrive.run:HyperDriveRun"}


class Run(RunMetricsMixin, RunFilesMixin, RunStateMixin):
    """One trial of an experiment: metrics, files, tags, properties and status.

    ``Run(experiment, run_id)`` loads an existing run. New runs come from
    ``experiment.start_logging()``, ``experiment.submit(...)``, ``run.child_run()`` or
    ``Run.get_context()``.

    Example:
        >>> run = experiment.start_logging()  # doctest: +SKIP
        >>> for epoch in range(10):  # doctest: +SKIP
        ...     run.log("loss", 1 / (epoch + 1), step=epoch)
        >>> run.complete()  # doctest: +SKIP
    """

    def __init__(
        self, experiment: Experiment, run_id: str, outputs: Any = None, **kwargs: Any
    ) -> None:
        self._experiment = experiment
        connection = experiment.workspace._connection
        self._connection = connection
        self._queue = connection.queue
        info = kwargs.get("_info")
        self._info: RunInfo = info if info is not None else connection.backend.get_run(run_id)
        self._run_id = self._info.run_id
        self._shapes = {}
        self._scalar_keys = {}
        self._put = connection.queue.put
        self._outputs_dir = _outputs_folder(outputs) if kwargs.get("_track_outputs") else None
        # Runs this process created are written behind: changes go through the queue.
        self._write_behind: bool = bool(kwargs.get("_write_behind"))
        self._added_properties: dict[str, str] = {}
        self._system_monitor: SystemMonitor | None = None
        self._heartbeat: Heartbeat | None = None  # interactive runs beat while their process lives

    @property
    def _backend(self) -> Backend:
        return self._connection.backend

    # ---- construction ---------------------------------------------------------------
    @classmethod
    def _start_interactive(
        cls,
        experiment: Experiment,
        outputs: Any = None,
        snapshot_directory: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        system_metrics: bool | None = None,
        **kwargs: Any,
    ) -> Run:
        from runhistory.sdk.heartbeat import start_heartbeat  # with logging: not for readers

        sampling = check_settings(system_metrics)  # a bad setting is said before the run exists
        connection = experiment.workspace._connection
        definition = {"environment": shared_environment()}
        behind = writes_behind(connection)
        if behind:
            info = queue_new_run(
                experiment,
                st.RUNNING,
                display_name=display_name,
                description=description,
                run_definition=definition,
            )
        else:
            info = connection.backend.create_run(
                experiment.id,
                status=st.RUNNING,
                display_name=display_name,
                description=description,
                run_type="experimentrun",
                run_definition=definition,
            )
        run = cls(
            experiment,
            info.run_id,
            outputs=outputs,
            _info=info,
            _track_outputs=True,
            _write_behind=behind,
        )
        queue, run_id = connection.queue, info.run_id
        # The beat names the connection, not the run: a run that references its own beat
        # would be a reference cycle, freed only by the garbage collector (every run of a
        # loop like B3's), instead of as soon as the caller drops it.
        run._heartbeat = start_heartbeat(
            lambda: connection.backend.heartbeat(run_id), run_id, lambda: not queue.closed
        )
        folder = run._outputs_dir
        if folder is not None and not os.path.isdir(folder):  # as the original: it exists at once
            os.makedirs(folder, exist_ok=True)
        if snapshot_directory is not None:
            run.take_snapshot(snapshot_directory)
        run._start_system_metrics(sampling)
        return run

    @staticmethod
    def get(workspace: Workspace, run_id: str) -> Run:
        """The run with this id in a workspace.

        Raises:
            NotFoundError: no run has this id.
        """
        from runhistory.sdk.experiment import Experiment

        info = workspace._connection.backend.get_run(run_id)
        experiment = Experiment(workspace, info.experiment_name, _id=info.experiment_id)
        return _rehydrate(experiment, info)

    @staticmethod
    def list(
        experiment: Experiment,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        status: str | None = None,
        include_children: bool = False,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Run]:
        """Runs of an experiment, newest first, filtered by type, tags, properties and status.

        A generator, as in the original SDK: runs are fetched a page at a time as it is
        iterated (``next(Run.list(experiment))`` is one small request); filters are checked
        on the first ``next()`` but for the status, checked at once.
        """
        if status is not None:
            st.check_status_name(status)
        backend = experiment.workspace._connection.backend

        def fetch(page_size: int, page_token: str | None) -> RunsPage:
            return backend.search_runs_page(
                experiment_id=experiment.id,
                run_type=type,
                tags=tags,
                properties=properties,
                status=status,
                include_children=include_children,
                with_definition=False,  # read by get_details() / get_environment() when asked
                page_size=page_size,
                page_token=page_token,
            )

        if not _rehydrate_runs:
            return lazy_runs(fetch, lambda i: Run(experiment, i.run_id, _info=i))
        return lazy_runs(fetch, lambda i: _rehydrate(experiment, i))

    @staticmethod
    def list_by_compute(
        compute: Any,
        type: str | None = None,
        tags: Any = None,
        properties: Any = None,
        status: str | None = None,
    ) -> builtins.list[Run]:
        """Not available: runhistory lists runs per experiment; use ``Run.list``."""
        raise ValidationError("list_by_compute needs a cloud compute object; use Run.list()")

    @classmethod
    def get_context(
        cls, allow_offline: bool = True, used_for_context_manager: bool = False, **kwargs: Any
    ) -> Run:
        """The submitted run of this process, or one interactive run per process.

        A script launched by runhistory gets its submitted run. Otherwise the first call makes
        an interactive run in the default workspace (experiment named after the script),
        completed at exit — or Failed if the interpreter exits on an uncaught exception.
        """
        from runhistory.sdk.context import get_context_run

        return get_context_run(allow_offline=allow_offline)

    @classmethod
    def get_submitted_run(cls, **kwargs: Any) -> Run:
        """Same as :meth:`get_context`."""
        return cls.get_context()

    @staticmethod
    def add_type_provider(runtype: str, run_factory: Any) -> None:
        """Register a factory that rehydrates runs of a custom type."""
        _TYPE_PROVIDERS[runtype] = run_factory

    @classmethod
    def get_docs_url(cls) -> str:
        """Where runhistory's documentation is."""
        return "https://runhistory.readthedocs.io/"

    # ---- identity -------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The run id."""
        return self._run_id

    @property
    def experiment(self) -> Experiment:
        """The experiment the run belongs to."""
        return self._experiment

    @property
    def number(self) -> int:
        """Position of the run in its experiment (1, 2, …)."""
        if not self._info.number:  # a run written behind gets its number when stored
            self._refresh()
        return self._info.number

    @property
    def type(self) -> str:
        """The run type (``experimentrun``, ``azureml.scriptrun``, …)."""
        return self._info.run_type

    @property
    def name(self) -> str | None:
        """The run's display name."""
        return self._info.display_name

    @property
    def display_name(self) -> str | None:
        """The run's display name (settable)."""
        return self._info.display_name

    @display_name.setter
    def display_name(self, value: str) -> None:
        self._info = self._backend.update_run(self._run_id, display_name=value)

    @property
    def description(self) -> str | None:
        """The run's description (settable)."""
        return self._info.description

    @description.setter
    def description(self, value: str) -> None:
        self._info = self._backend.update_run(self._run_id, description=value)

    @property
    def identity(self) -> str:
        """A printable identity: ``experiment/run id``."""
        return f"{self._experiment.name}/{self._run_id}"

    @property
    def parent(self) -> Run | None:
        """The parent run, or None for a top-level run."""
        parent_id = self._info.parent_run_id
        return None if parent_id is None else Run(self._experiment, parent_id)

    @property
    def portal_url(self) -> str:
        """The studio page of this run."""
        return self.get_portal_url()

    def get_portal_url(self) -> str:
        """The studio page of this run (see :mod:`runhistory.sdk.portal` for the base URL)."""
        from runhistory.sdk.portal import studio_base

        base = studio_base(self._experiment.workspace)
        return f"{base}/#/experiments/{self._experiment.id}/runs/{self._run_id}"

    # ---- tags and properties --------------------------------------------------------
    @property
    def tags(self) -> dict[str, str | None]:
        """The run's tags (refreshed)."""
        return self.get_tags()

    @property
    def properties(self) -> dict[str, str]:
        """The run's properties (refreshed)."""
        return self.get_properties()

    def tag(self, key: str, value: str | None = None) -> None:
        """Set one tag; a tag may have no value."""
        self.set_tags({key: value})

    def set_tags(self, tags: dict[str, str | None] | str) -> None:
        """Insert or overwrite tags; a string sets one tag without value."""
        wanted = {tags: None} if isinstance(tags, str) else tags
        if self._write_behind:
            self._queue.put_change(TagChange(self._run_id, check_tags(wanted)))
        else:
            self._backend.set_run_tags(self._run_id, wanted)

    def remove_tags(self, tags: builtins.list[str] | str) -> None:
        """Remove tags by key."""
        keys = [tags] if isinstance(tags, str) else list(tags)
        if self._write_behind:
            self._queue.put_change(TagChange(self._run_id, remove=tuple(map(str, keys))))
        else:
            self._backend.remove_run_tags(self._run_id, keys)

    def get_tags(self) -> dict[str, str | None]:
        """The run's tags."""
        self._refresh()
        return dict(self._info.tags)

    def add_properties(self, properties: dict[str, str]) -> None:
        """Add properties; they are immutable once set.

        Raises:
            PropertyImmutableError: a key already has a different value.
        """
        if not self._write_behind:
            self._backend.add_run_properties(self._run_id, properties)
            return
        checked = check_properties(properties)
        known, added = self._info.properties, self._added_properties
        if known or added:  # a new run's first properties: nothing to conflict with
            for key, value in checked.items():
                current = added.get(key, known.get(key))
                if current is not None and current != value:
                    raise property_conflict(self._run_id, key, current, value)
        added.update(checked)
        self._queue.put_change(PropertyChange(self._run_id, checked))

    def get_properties(self) -> dict[str, str]:
        """The run's properties."""
        self._refresh()
        return dict(self._info.properties)

    # ---- children -------------------------------------------------------------------
    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: Any = None
    ) -> Run:
        """Create and start a child run (``name`` is its display name)."""
        behind = writes_behind(self._connection) and run_id is None
        if behind:
            info = queue_new_run(
                self._experiment, st.RUNNING, parent_run_id=self._run_id, display_name=name
            )
        else:
            info = self._backend.create_run(
                self._experiment.id,
                run_id=run_id,
                parent_run_id=self._run_id,
                status=st.RUNNING,
                display_name=name,
            )
        return Run(
            self._experiment,
            info.run_id,
            outputs=outputs,
            _info=info,
            _track_outputs=outputs is not None,
            _write_behind=behind,
        )

    def create_children(
        self,
        count: int | None = None,
        tag_key: str | None = None,
        tag_values: builtins.list[str] | None = None,
    ) -> builtins.list[Run]:
        """Create ``count`` children, or one child per value tagged ``tag_key=value``.

        As in the original, each child of ``count=N`` is tagged with its position:
        ``azureml.batch_child_number`` (or ``tag_key`` when given) = ``"0"`` … ``"N-1"``.

        Raises:
            ValidationError: neither form was given, ``tag_values`` came without ``tag_key``,
                or ``count`` differs from the number of ``tag_values``.
        """
        tag_sets = _children_tags(count, tag_key, tag_values)
        behind = writes_behind(self._connection)
        children = []
        for tags in tag_sets:
            if behind:  # all of them stored in one transaction
                info = queue_new_run(
                    self._experiment, st.NOT_STARTED, parent_run_id=self._run_id, tags=tags
                )
            else:
                info = self._backend.create_run(
                    self._experiment.id,
                    parent_run_id=self._run_id,
                    status=st.NOT_STARTED,
                    tags=tags,
                )
            children.append(Run(self._experiment, info.run_id, _info=info, _write_behind=behind))
        return children

    def get_children(
        self,
        recursive: bool = False,
        tags: Any = None,
        properties: Any = None,
        type: str | None = None,
        status: str | None = None,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Run]:
        """Children of the run (all descendants with ``recursive``), newest first.

        A generator, as in the original SDK: children are fetched a page at a time.
        """
        backend, run_id, experiment = self._backend, self._run_id, self._experiment

        def fetch(page_size: int, page_token: str | None) -> RunsPage:
            return backend.get_children_page(
                run_id,
                recursive=recursive,
                tags=tags,
                properties=properties,
                run_type=type,
                status=status,
                page_size=page_size,
                page_token=page_token,
            )

        if not _rehydrate_runs:
            return lazy_runs(fetch, lambda i: Run(experiment, i.run_id, _info=i))
        return lazy_runs(fetch, lambda i: _rehydrate(experiment, i))

    def submit_child(self, config: Any, tags: dict[str, str] | None = None, **kwargs: Any) -> Run:
        """Submit a ``ScriptRunConfig`` as a child of this run."""
        submit = getattr(config, "_submit", None)
        if submit is None:
            raise ValidationError(
                f"cannot submit a {type(config).__name__}: pass a ScriptRunConfig"
            )
        run: Run = submit(self._experiment, tags=tags, parent_run=self, **kwargs)
        return run

    # ---- metrics reads --------------------------------------------------------------
    def get_metrics(
        self,
        name: str | None = None,
        recursive: bool = False,
        run_type: str | None = None,
        populate: bool = False,
    ) -> dict[str, Any]:
        """Logged metrics in the original SDK's shapes (waits for this process's queue first).

        One value comes back bare, several as a list; rows and tables as ``{column: values}``.
        With ``recursive=True`` the result is keyed by run id over the run and its descendants.
        """
        self._queue.flush(run_id=self._run_id)
        return self._backend.get_metrics(
            self._run_id, name=name, recursive=recursive, run_type=run_type
        )

    def get_metric_history(self, name: str) -> builtins.list[dict[str, Any]]:
        """Every value of a metric with its ``step`` and ``time`` (epoch seconds), in order."""
        self._queue.flush(run_id=self._run_id)
        columns = self._backend.get_metric_history(self._run_id, name)
        steps: Sequence[int | None] = (
            columns.steps if columns.steps is not None else [None] * len(columns)
        )
        return [
            {"step": s, "value": v, "time": t}
            for s, v, t in zip(steps, columns.values, columns.times, strict=True)
        ]

    def flush(self, timeout_seconds: int = 300) -> None:
        """Wait until every value logged so far is stored.

        Raises:
            FlushTimeoutError: values were still waiting when the timeout passed.
            ValidationError: a value or change of this run was refused when stored (each is
                raised once; the rest of what was logged is stored). Other runs' refusals are
                raised by their own ``flush()``/``complete()``.
        """
        self._queue.flush(timeout_seconds, run_id=self._run_id)

    # ---- models and secrets ---------------------------------------------------------
    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: Any = None,
        properties: Any = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        datasets: Any = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **kwargs: Any,
    ) -> Model:
        """Register a file or folder among the run's files as the next version of a model."""
        from runhistory.sdk.model import Model

        self._upload_outputs()
        info = self._backend.register_model(
            self._run_id,
            model_name,
            model_path=model_path,
            tags=tags,
            properties=properties,
            model_framework=model_framework,
            model_framework_version=model_framework_version,
            description=description,
        )
        return Model._from_info(self._experiment.workspace, info)

    def get_secret(self, name: str) -> str:
        """A secret's value from the workspace's secret store."""
        return self._backend.get_secret(name)

    def get_secrets(self, secrets: builtins.list[str]) -> dict[str, str]:
        """Several secrets as ``{name: value}``."""
        return {name: self.get_secret(name) for name in secrets}

    # ---- context manager ------------------------------------------------------------
    def __enter__(self) -> Run:
        self._refresh()
        if self._info.status in st.STARTABLE_STATUSES:
            self.start()
        return self

    def __exit__(
        self,
        exit_type: builtins.type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        self._refresh()
        if st.is_terminal(self._info.status):
            return False
        if value is None:
            self.complete()
        else:
            self.fail(error_details=value)
        return False

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
    ) -> dict[str, Any]:
        """Wait until the run is finished and return its details.

        Raises:
            ActivityFailedException: the run ended Failed and ``raise_on_error`` is True.
        """
        from runhistory.sdk.watch import wait_for_run

        details = wait_for_run(
            self, show_output=show_output, wait_post_processing=wait_post_processing
        )
        if raise_on_error and details["status"] == st.FAILED:
            error = details.get("error", {})
            raise ActivityFailedException(
                f"run {self._run_id} failed: {error.get('message', 'no error details')}",
                error=error,
            )
        return details

    def __repr__(self) -> str:
        return (
            f"Run(Experiment: {self._experiment.name}, Id: {self._run_id}, "
            f"Type: {self.type}, Status: {self._info.status})"
        )

    def _repr_html_(self) -> str:
        from runhistory.sdk.html import run_html

        return run_html(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other._run_id == self._run_id

    def __hash__(self) -> int:
        return hash(self._run_id)


BATCH_CHILD_TAG = "azureml.batch_child_number"


def _children_tags(
    count: Any, tag_key: str | None, tag_values: Any
) -> builtins.list[dict[str, str | None]]:
    """The tags of each child ``create_children`` makes."""
    if count is None and tag_values is None:
        raise ValidationError("create_children takes count=N, or tag_key=... with tag_values=[...]")
    if tag_values is not None and not tag_key:
        raise ValidationError("create_children: tag_values needs a tag_key to be stored under")
    values = None if tag_values is None else [str(v) for v in tag_values]
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValidationError(f"count must be a positive integer, got {count!r}")
        if values is not None and len(values) != count:
            raise ValidationError(
                f"create_children: count={count} but {len(values)} tag_values were given"
            )
        values = values or [str(i) for i in range(count)]
    if not values:
        raise ValidationError("create_children: tag_values must not be empty")
    key = tag_key or BATCH_CHILD_TAG
    return [{key: value} for value in values]


def _rehydrate(experiment: Experiment, info: RunInfo) -> Run:
    """The run as an object of its type's class (``HyperDriveRun`` for a sweep), else ``Run``."""
    provider = _TYPE_PROVIDERS.get(info.run_type)
    if provider is None and info.run_type in _BUILTIN_TYPES:
        import importlib

        module, _, name = _BUILTIN_TYPES[info.run_type].partition(":")
        provider = getattr(importlib.import_module(module), name)
    if provider is None:
        return Run(experiment, info.run_id, _info=info)
    found: Run = provider(experiment, info.run_id, _info=info)
    return found


def _outputs_folder(outputs: Any) -> str | None:
    if outputs is False:
        return None
    if outputs:
        folder: str = os.path.abspath(os.fspath(outputs))
        return folder
    # The default, ``outputs`` in the working directory: made absolute once per directory
    # (a process starting many runs asks only for the working directory each time).
    global _default_outputs
    cwd = os.getcwd()
    known = _default_outputs
    if known is None or known[0] != cwd:
        known = _default_outputs = (cwd, os.path.join(cwd, "outputs"))
    return known[1]


_default_outputs: tuple[str, str] | None = None  # (working directory, its outputs folder)
