"""``runhistory compute …``: the workspace's named compute targets."""

from __future__ import annotations

from typing import Any

import click

from runhistory.cli.options import common_options, confirm, output_options

_COLUMNS = (("Name", "name"), ("Kind", "kind"), ("Type", "type"), ("Address", "address"),
            ("Max jobs", "max_nodes"))  # fmt: skip


@click.group()
def compute() -> None:
    """Attach, list, show and detach compute targets (Ray clusters, local pools)."""


def _row(target: Any) -> dict[str, Any]:
    return {"name": target.name, "kind": target.kind, "type": target.type,
            "address": target.address, "max_nodes": target.max_nodes,
            "vm_size": target.vm_size}  # fmt: skip


@compute.group("attach")
def attach() -> None:
    """Attach an existing cluster as a named target."""


@attach.command("ray")
@click.option(
    "--name", required=True, help="The target's name (ScriptRunConfig(compute_target=NAME))."
)
@click.option(
    "--address", required=True, help="The cluster's job server, e.g. http://10.0.0.5:8265."
)
@click.option(
    "--check/--no-check", default=True, help="Check that the job server answers (default)."
)
@common_options
def attach_ray(name: str, address: str, check: bool) -> None:
    """Attach the Ray cluster whose job server is at --address as target NAME."""
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.compute_target import ComputeTarget, ComputeTargetException, RayCompute

    workspace = open_workspace()
    try:
        config = RayCompute.attach_configuration(address=address)
        if check:
            from runhistory.compute.ray_target import cluster_nodes

            nodes = cluster_nodes(config.settings["address"])
            click.echo(f"the cluster answers: {nodes} node(s) alive", err=True)
        target = ComputeTarget.attach(workspace, name, config)
    except ComputeTargetException as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"attached ray target {target.name} at {target.address}", err=True)


@compute.command("list")
@output_options
@common_options
def list_targets(output: str, query: Any) -> None:
    """List the workspace's compute targets."""
    from runhistory.cli.output import Columns, emit
    from runhistory.cli.workspace import open_workspace

    rows = [_row(t) for t in open_workspace().compute_targets.values()]
    emit(rows, output, query, Columns(pairs=_COLUMNS))


@compute.command("show")
@click.argument("name")
@output_options
@common_options
def show(name: str, output: str, query: Any) -> None:
    """Show compute target NAME and whether it answers."""
    from runhistory.cli.output import emit
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.compute_target import ComputeTarget, ComputeTargetException

    try:
        target = ComputeTarget(open_workspace(), name)
    except ComputeTargetException as exc:
        raise click.ClickException(str(exc)) from None
    row = _row(target)
    status = target.get_status()
    row.update({"state": status.state, "nodes": status.current_node_count})
    if status.errors:
        row["error"] = "; ".join(status.errors)
    emit(row, output, query)


@compute.command("detach")
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
def detach(name: str, yes: bool) -> None:
    """Forget compute target NAME (the cluster itself keeps running)."""
    from runhistory.cli.workspace import open_workspace
    from runhistory.sdk.compute_target import ComputeTarget, ComputeTargetException

    try:
        target = ComputeTarget(open_workspace(), name)
        confirm(f"Detach compute target {name}?", yes)
        target.detach()
    except ComputeTargetException as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"detached compute target {name}", err=True)
