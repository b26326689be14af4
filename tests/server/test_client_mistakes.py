"""A client's mistakes are answered 4xx with a message that names them, never 500 or 503."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from runhistory import Model, Workspace
from runhistory.errors import InvalidNameError, UnsafePathError

HUGE = 2**70


def _run(client: httpx.Client) -> str:
    experiment = client.post("/api/v1/experiments", json={"name": "mistakes"}).json()
    body = {"experiment_id": experiment["experiment_id"], "status": "Running"}
    return str(client.post("/api/v1/runs", json=body).json()["run_id"])


def _assert_400(response: httpx.Response, *fragments: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    for fragment in fragments:
        assert fragment in body["message"], body
    return body


@pytest.mark.parametrize(
    "query",
    [f"offset={HUGE}", "offset=-1", f"limit={HUGE}", "limit=-5", "limit=0"],
)
@pytest.mark.parametrize("listing", ["/api/v1/runs", "/api/v1/experiments", "/api/v1/models"])
def test_paging_parameters_at_their_bounds_are_400(
    client: httpx.Client, listing: str, query: str
) -> None:
    _assert_400(client.get(f"{listing}?{query}"), query.split("=")[0])


def test_steps_out_of_the_64_bit_range_are_400(client: httpx.Client) -> None:
    run_id = _run(client)
    history = client.get(f"/api/v1/runs/{run_id}/metrics/history?name=x&min_step={HUGE}")
    _assert_400(history, "min_step")
    series = {"run_ids": [run_id], "names": ["x"], "max_step": -HUGE}
    _assert_400(client.post("/api/v1/metrics/series", json=series), "max_step")
    points = {"run_ids": [run_id], "names": ["x"], "max_points": HUGE}
    _assert_400(client.post("/api/v1/metrics/series", json=points), "max_points")


def test_a_series_axis_other_than_step_or_time_is_400(client: httpx.Client) -> None:
    run_id = _run(client)
    series = {"run_ids": [run_id], "names": ["x"], "x": "wall"}
    _assert_400(client.post("/api/v1/metrics/series", json=series), "x")
    series["x"] = "time"
    assert client.post("/api/v1/metrics/series", json=series).json() == {"series": []}


def test_a_model_version_out_of_range_is_400(client: httpx.Client) -> None:
    _assert_400(client.get(f"/api/v1/models/m/versions/{HUGE}"), "version")


def test_snapshot_limits_out_of_range_are_400(client: httpx.Client) -> None:
    response = client.post(f"/api/v1/runs/{_run(client)}/snapshot?max_files={HUGE}", content=b"")
    _assert_400(response, "max_files")


def test_a_path_segment_over_255_bytes_is_refused(client: httpx.Client) -> None:
    run_id = _run(client)
    response = client.put(f"/api/v1/runs/{run_id}/files/a/{'n' * 256}.txt", content=b"x")
    body = _assert_400(response, "255")
    assert body["error"] == "UnsafePathError"
    fits = client.put(f"/api/v1/runs/{run_id}/files/a/{'n' * 251}.txt", content=b"x")
    assert fits.status_code == 200, fits.text


@pytest.mark.parametrize("first, second", [("a", "a/b"), ("a/b", "a"), ("a/b/c", "a/b")])
def test_a_file_and_a_folder_of_the_same_name_are_409(
    client: httpx.Client, first: str, second: str
) -> None:
    run_id = _run(client)
    assert client.put(f"/api/v1/runs/{run_id}/files/{first}", content=b"1").status_code == 200
    response = client.put(f"/api/v1/runs/{run_id}/files/{second}", content=b"2")
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "ConflictError"
    assert "both a file and a folder" in response.json()["message"]
    names = [f["name"] for f in client.get(f"/api/v1/runs/{run_id}/files").json()["items"]]
    assert names == [first]


@pytest.mark.parametrize("name", ["a\nb.txt", "tab\there.txt", "bell\x07.txt", "del\x7f.txt"])
def test_file_names_with_control_characters_are_refused(client: httpx.Client, name: str) -> None:
    run_id = _run(client)
    url = httpx.URL(f"{str(client.base_url).rstrip('/')}/api/v1/runs/{run_id}/files/")
    response = client.put(url.copy_with(raw_path=url.raw_path + _quote(name)), content=b"x")
    body = _assert_400(response, "control character")
    assert body["error"] == "UnsafePathError"


def _quote(name: str) -> bytes:
    from urllib.parse import quote

    return quote(name, safe="").encode()


def _zip(members: dict[str, bytes], metadata: dict[str, Any] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if metadata is not None:
            archive.writestr("metadata.json", orjson.dumps(metadata))
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_snapshot_zip_over_its_limits_is_refused_before_unpacking(client: httpx.Client) -> None:
    run_id = _run(client)
    bomb = _zip({"zeros.bin": b"\0" * (4 * 1024 * 1024)})  # 4 MiB declared, ~4 KiB sent
    response = client.post(f"/api/v1/runs/{run_id}/snapshot?max_bytes=1048576", content=bomb)
    assert response.status_code == 413, response.text
    assert "4194304 bytes" in response.json()["message"]
    many = _zip({f"f{i}.txt": b"x" for i in range(20)})
    response = client.post(f"/api/v1/runs/{run_id}/snapshot?max_files=10", content=many)
    assert response.status_code == 413, response.text
    assert "20 files" in response.json()["message"]
    big = _zip({"random.bin": bytes(range(256)) * 8192})  # 2 MiB that does not compress
    response = client.post(f"/api/v1/runs/{run_id}/snapshot?max_bytes=1048576", content=big)
    assert response.status_code == 413, response.text
    assert client.get(f"/api/v1/runs/{run_id}").json()["snapshot_id"] is None


def test_a_model_upload_without_a_name_is_refused(client: httpx.Client) -> None:
    archive = _zip({"files/model.txt": b"w"}, metadata={"model_name": None})
    response = client.post("/api/v1/models/upload", content=archive)
    _assert_400(response, "model name")
    assert client.get("/api/v1/models").json()["items"] == []


def test_register_model_with_no_name_is_refused_by_the_sdk(
    client: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "model.txt").write_text("weights")
    workspace = Workspace(tracking_uri=str(client.base_url))
    with pytest.raises(InvalidNameError, match="None"):
        Model.register(workspace, str(tmp_path / "model.txt"), model_name=None)  # type: ignore[arg-type]
    assert Model.list(workspace) == []


def test_the_sdk_refuses_a_file_name_with_a_newline(client: httpx.Client, tmp_path: Path) -> None:
    from runhistory import Experiment

    source = tmp_path / "f.txt"
    source.write_text("x")
    run = Experiment(Workspace(tracking_uri=str(client.base_url)), "newline").start_logging()
    with pytest.raises(UnsafePathError, match="control character"):
        run.upload_file("bad\nname.txt", str(source))
    assert run.get_file_names() == []


@pytest.mark.parametrize("marker", [[1, 2], "not-a-number", None, {"x": 1}])
def test_a_bad_non_finite_float_marker_is_never_a_server_error(
    client: httpx.Client, marker: object
) -> None:
    body = {"batches": [{"run_id": _run(client), "writes": [{"$float": marker}]}]}
    response = client.post("/api/v1/metrics/batches", json=body)
    if isinstance(marker, str):  # a marker holding text that is no number: the body is refused
        _assert_400(response, "$float")
    else:  # not a marker: a write without a name, refused in the batch's result
        assert response.status_code == 200, response.text
        assert "'name'" in response.json()["results"][0]["errors"][0]["message"]


@pytest.mark.parametrize("version", [str(HUGE), "²", "-1"])
def test_odd_version_numbers_are_400(client: httpx.Client, version: str) -> None:
    for path in (
        f"/api/v1/models/m/versions/{version}",
        f"/api/v1/environments/e/versions/{version}",
    ):
        _assert_400(client.get(path), "version")
