"""Named compute targets on every backend: create, load, list, delete, and clear refusals."""

from __future__ import annotations

import logging

import pytest

from runhistory import Workspace
from runhistory.sdk.compute_target import (
    AmlCompute,
    ComputeInstance,
    ComputeTarget,
    ComputeTargetException,
    RemoteCompute,
)


def test_a_cluster_without_default_cluster_is_a_local_pool_said_in_a_log_line(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("RUNHISTORY_DEFAULT_CLUSTER", raising=False)
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=3)
    with caplog.at_level(logging.INFO, logger="runhistory.compute"):
        created = ComputeTarget.create(workspace, "cpu-cluster", config)
    assert "local process pool running 3 job(s) at once" in caplog.text
    assert "RUNHISTORY_DEFAULT_CLUSTER" in caplog.text
    assert isinstance(created, AmlCompute)
    assert (created.kind, created.max_nodes, created.vm_size) == ("local", 3, "STANDARD_D2_V2")
    loaded = ComputeTarget(workspace=workspace, name="cpu-cluster")
    assert isinstance(loaded, AmlCompute) and loaded.max_nodes == 3
    assert AmlCompute(workspace, "cpu-cluster").type == "AmlCompute"
    status = loaded.get_status()
    assert status.provisioning_state == "Succeeded" and status.current_node_count == 3


def test_a_pools_nodes_are_listed_and_its_scale_settings_updated(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUNHISTORY_DEFAULT_CLUSTER", raising=False)
    config = AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4)
    cluster = ComputeTarget.create(workspace, "cpu-cluster", config)
    nodes = cluster.list_nodes()
    assert [n["nodeId"] for n in nodes] == [f"cpu-cluster-{i}" for i in range(4)]
    assert {(n["nodeState"], n["privateIpAddress"]) for n in nodes} == {("idle", "127.0.0.1")}

    cluster.update(idle_seconds_before_scaledown=300)
    cluster.update(min_nodes=0)
    assert "min_nodes_requested" not in cluster.serialize()["properties"]
    cluster.update(min_nodes=1, max_nodes=2)
    loaded = ComputeTarget(workspace=workspace, name="cpu-cluster")
    assert (
        isinstance(loaded, AmlCompute) and loaded.max_nodes == 2 and len(loaded.list_nodes()) == 2
    )
    properties = loaded.serialize()["properties"]
    assert properties["idle_seconds_before_scaledown"] == 300
    assert (properties["min_nodes_requested"], properties["vm_size"]) == (1, "STANDARD_D2_V2")
    with pytest.raises(ComputeTargetException, match="max_nodes"):
        loaded.update(max_nodes=0)
    assert ComputeTarget(workspace=workspace, name="cpu-cluster").max_nodes == 2  # kept


def test_a_cluster_with_default_cluster_is_that_ray_cluster(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RUNHISTORY_DEFAULT_CLUSTER", "http://127.0.0.1:9")
    with caplog.at_level(logging.INFO, logger="runhistory.compute"):
        created = ComputeTarget.create(
            workspace, "gpu-cluster", AmlCompute.provisioning_configuration(max_nodes=2)
        )
    assert "on the Ray cluster http://127.0.0.1:9 (RUNHISTORY_DEFAULT_CLUSTER)" in caplog.text
    assert (created.kind, created.address) == ("ray", "http://127.0.0.1:9")
    status = created.get_status()  # nothing listens on port 9
    assert status.provisioning_state == "Failed" and status.errors
    with pytest.raises(ComputeTargetException, match="not ready"):
        created.wait_for_completion(timeout_in_minutes=0.001)


def test_listing_holds_local_and_the_named_targets_and_delete_forgets(
    workspace: Workspace,
) -> None:
    ComputeTarget.create(workspace, "box", ComputeInstance.provisioning_configuration("D1"))
    attach = RemoteCompute.attach_configuration(address="http://10.1.2.3:8265/")
    ComputeTarget.attach(workspace, "rays", attach)
    targets = workspace.compute_targets
    assert sorted(targets) == ["box", "local", "rays"]
    assert targets["box"].kind == "local" and targets["box"].max_nodes == 1
    assert targets["rays"].address == "http://10.1.2.3:8265"
    assert isinstance(targets["rays"], RemoteCompute)
    targets["box"].delete()
    with pytest.raises(ComputeTargetException, match="'box' not found"):
        ComputeTarget(workspace, "box")
    assert sorted(workspace.compute_targets) == ["local", "rays"]
    with pytest.raises(ComputeTargetException, match="cannot be deleted"):
        workspace.compute_targets["local"].delete()


def test_refusals_name_the_problem(workspace: Workspace) -> None:
    config = ComputeInstance.provisioning_configuration()
    ComputeTarget.create(workspace, "taken", config)
    with pytest.raises(ComputeTargetException, match="already exists"):
        ComputeTarget.create(workspace, "taken", config)
    with pytest.raises(ComputeTargetException, match="invalid compute target name"):
        ComputeTarget.create(workspace, "no spaces", config)
    with pytest.raises(ComputeTargetException, match="built-in"):
        ComputeTarget.create(workspace, "local", config)
    with pytest.raises(ComputeTargetException, match="http"):
        RemoteCompute.attach_configuration(address="10.0.0.5")
    with pytest.raises(ComputeTargetException, match="not found"):
        ComputeTarget(workspace, "missing")
