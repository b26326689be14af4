"""Job credentials: what a cluster job authenticates with instead of its user's token."""

from __future__ import annotations

from conftest import AuthApp


def _run_id(app: AuthApp) -> str:
    headers = {"Authorization": f"Bearer {app.token}"}
    exp = app.client.post("/api/v1/experiments", json={"name": "jobs"}, headers=headers)
    run = app.client.post(
        "/api/v1/runs", json={"experiment_id": exp.json()["experiment_id"]}, headers=headers
    )
    assert run.status_code in (200, 201), run.text
    return str(run.json()["run_id"])


def test_a_credential_opens_the_server_until_the_job_ends_it(auth_app: AuthApp) -> None:
    run_id = _run_id(auth_app)
    user = {"Authorization": f"Bearer {auth_app.token}"}
    made = auth_app.client.post("/api/v1/job-credentials", json={"run_id": run_id}, headers=user)
    assert made.status_code == 201, made.text
    credential = made.json()["credential"]
    assert credential.startswith("rhj_") and auth_app.token not in credential
    job = {"Authorization": f"Bearer {credential}"}
    assert auth_app.client.get(f"/api/v1/runs/{run_id}", headers=job).status_code == 200
    again = auth_app.client.post("/api/v1/job-credentials", json={"run_id": run_id}, headers=job)
    assert again.status_code == 403  # a job cannot make more credentials
    assert auth_app.client.delete("/api/v1/job-credentials/current", headers=job).status_code == 204
    assert auth_app.client.get(f"/api/v1/runs/{run_id}", headers=job).status_code == 401


def test_revoking_the_token_ends_its_job_credentials(auth_app: AuthApp) -> None:
    run_id = _run_id(auth_app)
    user = {"Authorization": f"Bearer {auth_app.token}"}
    made = auth_app.client.post("/api/v1/job-credentials", json={"run_id": run_id}, headers=user)
    job = {"Authorization": f"Bearer {made.json()['credential']}"}
    auth_app.tokens.revoke("tester")
    assert auth_app.client.get(f"/api/v1/runs/{run_id}", headers=job).status_code == 401


def test_an_unknown_run_gets_no_credential(auth_app: AuthApp) -> None:
    user = {"Authorization": f"Bearer {auth_app.token}"}
    made = auth_app.client.post("/api/v1/job-credentials", json={"run_id": "nope"}, headers=user)
    assert made.status_code == 404
