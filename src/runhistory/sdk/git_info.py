"""Git facts about a source folder, recorded as run properties when a snapshot is taken."""

from __future__ import annotations

import os
import subprocess


def _git(folder: str, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "-C", folder, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None  # no git installed, or it hung
    return result.stdout.strip() if result.returncode == 0 else None


def git_properties(path: str) -> dict[str, str]:
    """Repository, branch, commit and dirty flag of the repository holding ``path``.

    Both the original SDK's ``azureml.git.*`` keys and MLflow's ``mlflow.source.git.*`` keys are
    returned; an empty dict when ``path`` is not in a git repository or git is absent.
    """
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    top = _git(folder, "rev-parse", "--show-toplevel")
    if not top:
        return {}
    remote = _git(folder, "config", "--get", "remote.origin.url") or top
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD") or ""
    commit = _git(folder, "rev-parse", "HEAD") or ""
    changes = _git(folder, "status", "--porcelain")
    properties = {
        "azureml.git.repository_uri": remote,
        "mlflow.source.git.repoURL": remote,
        "azureml.git.branch": branch,
        "mlflow.source.git.branch": branch,
        "azureml.git.commit": commit,
        "mlflow.source.git.commit": commit,
        "azureml.git.dirty": str(bool(changes)),
    }
    return {key: value for key, value in properties.items() if value}
