"""Fuzzing every operation of the served OpenAPI schema: no answer is a server error, and every
answer conforms to its documented status codes, content types and body schemas.

The app is served by uvicorn in a thread of this process on a SQLite workspace, and by a
``runhistory server`` subprocess on PostgreSQL; each holds an experiment, a running run with
metrics and a file, a model and a secret. Every generated case is sent to both servers (the
cases are generated once: generating them costs far more than sending them). Half of the
generated path parameters are replaced by each server's real ids, so the fuzzer reaches past
the 404s into real writes and reads.
Bounded: 20 cases an operation (12 valid, 8 invalid), without a database of examples.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from runhistory.server.app import create_app
from runhistory.server.config import ServerSettings, open_services
from server.conftest import serving
from support.services import postgres_database, start_server

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = ((GenerationMode.POSITIVE, 12), (GenerationMode.NEGATIVE, 8))  # 20 cases an operation


def _seed(http: httpx.Client) -> dict[str, str]:
    experiment = http.post("/api/v1/experiments", json={"name": "fuzzed"}).json()
    run = http.post("/api/v1/runs", json={"experiment_id": experiment["experiment_id"],
                                          "status": "Running"}).json()  # fmt: skip
    run_id = run["run_id"]
    columns = [[0, 1], [0, 0], [1.0, 2.0], [None, None], [1.0, 2.0]]
    writes = [{"name": "loss", "kind": "scalar", "columns": columns}]
    http.post(f"/api/v1/runs/{run_id}/metrics", json={"writes": writes})
    http.put(f"/api/v1/runs/{run_id}/files/outputs/model.txt", content=b"weights")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("train.py", "print('hi')\n")
    snapshot = http.post(f"/api/v1/runs/{run_id}/snapshot", content=buffer.getvalue()).json()
    model = {"run_id": run_id, "model_name": "fuzzed-model", "model_path": "outputs/model.txt"}
    http.post("/api/v1/models", json=model)
    http.put("/api/v1/secrets/fuzzed-secret", json={"value": "s3cret"})
    definition = {"environment": {"python": {"userManagedDependencies": True}}}
    http.post("/api/v1/environments", json={"name": "fuzzed-env", "definition": definition})
    return {
        "experiment_id": experiment["experiment_id"], "run_id": run_id, "name": "fuzzed-model",
        "version": "1", "snapshot_id": snapshot["snapshot_id"], "file": "model.txt",
    }  # fmt: skip


@dataclass
class Served:
    """One seeded server: its name, address, seeded ids and the operations it answered."""

    name: str
    url: str
    real: dict[str, str]
    answered: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Served]]:
    """Two seeded servers: in-thread on SQLite, and a ``runhistory server`` subprocess on a
    fresh PostgreSQL database."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with contextlib.ExitStack() as stack:
        settings_ = ServerSettings(backend_store_uri=str(folder / "ws"))
        in_thread = stack.enter_context(serving(create_app(settings_, open_services(settings_))))
        database = stack.enter_context(postgres_database("rh_fuzz"))
        server = start_server(database, folder / "server.log",
                              artifact_location=str(folder / "artifacts"))  # fmt: skip
        stack.callback(server.stop)
        subprocess_ = stack.enter_context(httpx.Client(base_url=server.url, timeout=60))
        yield [
            Served("sqlite", str(in_thread.base_url).rstrip("/"), _seed(in_thread)),
            Served("postgresql", server.url, _seed(subprocess_)),
        ]


_NAMES = {"/experiments/": "fuzzed", "/files/": "outputs/model.txt",
          "/file-info/": "outputs/model.txt", "/secrets/": "fuzzed-secret",
          "/environments/": "fuzzed-env"}  # fmt: skip


def _aimed(
    operation: Any, path_parameters: dict[str, Any], aim: bool, seeded: dict[str, str]
) -> dict[str, Any]:
    """The path parameters aimed at the seeded records when ``aim`` (every other case of an
    operation); never for a deletion or an archive, which would leave the other operations
    nothing to reach."""
    label: str = operation.label
    if not aim or label.startswith("DELETE") or label.endswith("/archive"):
        return path_parameters
    real = dict(seeded)
    real["name"] = next((v for k, v in _NAMES.items() if k in label), seeded["name"])
    return {key: real.get(key, value) for key, value in path_parameters.items()}


def _has_invalid_input(operation: Any) -> bool:
    """Whether the schema lets a request of ``operation`` be invalid: not when its only inputs
    are path parameters that take any string (the negative mode has nothing to send there)."""
    definition = operation.definition.raw
    if "requestBody" in definition:
        return True
    for parameter in definition.get("parameters", []):
        schema = {k: v for k, v in parameter.get("schema", {}).items() if k != "title"}
        if parameter.get("in") != "path" or schema != {"type": "string"}:
            return True
    return False


def _fuzz(operation: Any, mode: GenerationMode, examples: int, servers: list[Served]) -> None:
    cases = itertools.count()  # every other case is aimed, whatever the process's hash seed
    failed_on: list[str] = []

    @settings(
        max_examples=examples, deadline=None, derandomize=True, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        generated = case.path_parameters
        aim = bool(generated) and next(cases) % 2 == 0
        for server in servers:
            if generated:
                case.path_parameters = _aimed(operation, generated, aim, server.real)
            failed_on[:] = [server.name]
            response = case.call_and_validate(base_url=server.url, checks=CHECKS)
            if response.status_code < 300:
                server.answered.add(operation.label)
        failed_on.clear()

    try:
        check()
    except BaseException as exc:  # which server answered the (shrunk) failing case
        if failed_on and not isinstance(exc, (Unsatisfiable, KeyboardInterrupt, SystemExit)):
            raise AssertionError(f"on {failed_on[0]}: {exc}") from exc
        raise


def test_every_operation_answers_as_documented(servers: list[Served]) -> None:
    schema = schemathesis.openapi.from_url(f"{servers[0].url}/api/v1/openapi.json")
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        for mode, examples in MODES:
            if mode is GenerationMode.NEGATIVE and not _has_invalid_input(operation):
                continue
            try:
                _fuzz(operation, mode, examples, servers)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing invalid to send: only strings
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # schemathesis raises a BaseExceptionGroup of failures
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
    # The seeded ids took the fuzzer past the 404s: most operations answered with success.
    for server in servers:
        missed = sorted(set(o.label for o in operations) - server.answered)
        assert len(server.answered) >= len(operations) * 2 // 3, (server.name, missed)
