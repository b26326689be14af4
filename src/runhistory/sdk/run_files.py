"""The file half of :class:`~runhistory.sdk.run.Run`: upload, download, snapshots, logs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runhistory.artifacts.paths import validate_artifact_name
from runhistory.errors import ValidationError
from runhistory.tracking.entities import FileInfo


class RunFilesMixin:
    """Files of a run: names are relative POSIX paths that stay inside the run."""

    _run_id: str

    if TYPE_CHECKING:  # provided by Run

        @property
        def _backend(self) -> Any: ...

    def upload_file(
        self, name: str, path_or_stream: Any, datastore_name: str | None = None
    ) -> FileInfo:
        """Store a local file (path) or a binary stream as ``name`` among the run's files.

        Raises:
            UnsafePathError: ``name`` is absolute or contains ``..``.
        """
        return self._backend.upload_file(self._run_id, name, path_or_stream)  # type: ignore[no-any-return]

    def _upload_for_metric(self, name: str, source: Any) -> None:
        self.upload_file(name, source)

    def upload_files(
        self,
        names: Sequence[str],
        paths: Sequence[str],
        return_artifacts: bool = False,
        timeout_seconds: int | None = None,
        datastore_name: str | None = None,
    ) -> list[FileInfo] | None:
        """Upload several files: ``names[i]`` gets the contents of ``paths[i]``."""
        if len(names) != len(paths):
            raise ValidationError(
                f"upload_files needs as many names as paths "
                f"({len(names)} names, {len(paths)} paths)"
            )
        for name in names:
            validate_artifact_name(name)
        uploaded = [self.upload_file(n, p) for n, p in zip(names, paths, strict=True)]
        return uploaded if return_artifacts else None

    def upload_folder(
        self, name: str, path: str, datastore_name: str | None = None
    ) -> list[FileInfo]:
        """Upload every file under folder ``path`` as ``name/<relative path>``."""
        return self._backend.upload_folder(self._run_id, name, path)  # type: ignore[no-any-return]

    def get_file_names(self) -> list[str]:
        """Names of the run's files, sorted."""
        return [f.name for f in self._backend.list_files(self._run_id)]

    def download_file(
        self, name: str, output_file_path: str | None = None, _validate_checksum: bool = False
    ) -> str:
        """Download one file; ``output_file_path`` may be a folder (default: working directory)."""
        name = validate_artifact_name(name)
        target = output_file_path or os.path.basename(name)
        if os.path.isdir(target):
            target = os.path.join(target, os.path.basename(name))
        return self._backend.download_file(self._run_id, name, target)  # type: ignore[no-any-return]

    def download_files(
        self,
        prefix: str | None = None,
        output_directory: str | None = None,
        output_paths: Sequence[str] | None = None,
        batch_size: int = 100,
        append_prefix: bool = True,
        timeout_seconds: int | None = None,
    ) -> list[str]:
        """Download the run's files (under ``prefix``) into ``output_directory``.

        With ``append_prefix=False`` the prefix is cut from the local paths.
        """
        names = [f.name for f in self._backend.list_files(self._run_id, prefix=prefix)]
        if output_paths is not None and len(output_paths) != len(names):
            raise ValidationError(
                f"output_paths has {len(output_paths)} entries for {len(names)} files"
            )
        folder = output_directory or os.getcwd()
        written = []
        for index, name in enumerate(names):
            relative = name
            if not append_prefix and prefix:
                relative = name[len(prefix) :].lstrip("/") or os.path.basename(name)
            target = (
                output_paths[index] if output_paths else os.path.join(folder, *relative.split("/"))
            )
            written.append(self._backend.download_file(self._run_id, name, target))
        return written

    def get_all_logs(self, destination: str | None = None) -> list[str]:
        """Download the run's log files (``logs/…``) to ``destination``; returns their paths.

        Without ``destination`` they go to a folder named after the run id in the working
        directory, as in the original SDK.
        """
        folder = destination or os.path.join(os.getcwd(), self._run_id)
        return self.download_files(prefix="logs/", output_directory=folder)

    def take_snapshot(self, file_or_folder_path: str) -> str:
        """Save a file or folder as the run's source snapshot; returns the snapshot id."""
        from runhistory import settings
        from runhistory.sdk.git_info import git_properties

        path = os.path.abspath(file_or_folder_path)
        snapshot_id: str = self._backend.take_snapshot(
            self._run_id,
            path,
            max_bytes=int(settings.get("RUNHISTORY_SNAPSHOT_MAX_BYTES")),
            max_files=int(settings.get("RUNHISTORY_SNAPSHOT_MAX_FILES")),
        )
        git = git_properties(path)
        if git:
            self._backend.add_run_properties(self._run_id, git)
        return snapshot_id

    def get_snapshot_id(self) -> str | None:
        """The id of the run's snapshot, or None."""
        return self._backend.get_run(self._run_id).snapshot_id  # type: ignore[no-any-return]

    def restore_snapshot(self, snapshot_id: str | None = None, path: str | None = None) -> str:
        """Write a snapshot (default: the run's) as a zip; returns the zip's path."""
        from runhistory.errors import NotFoundError

        snapshot_id = snapshot_id or self.get_snapshot_id()
        if snapshot_id is None:
            raise NotFoundError(f"run {self._run_id!r} has no snapshot")
        folder = path or os.getcwd()
        target = folder if folder.endswith(".zip") else os.path.join(folder, f"{snapshot_id}.zip")
        os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
        return self._backend.restore_snapshot_zip(snapshot_id, target)  # type: ignore[no-any-return]
