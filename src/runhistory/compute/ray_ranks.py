"""The ranks of a distributed run on a Ray cluster: N processes in one placement group.

Each rank is a Ray actor (:class:`RankWorker`) placed on a bundle of the group; it extracts the
run's snapshot and runs the script with the usual variables: ``MASTER_ADDR``/``MASTER_PORT``
(rank 0's node and a free port there), ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK`` (and the Open MPI
names of the same numbers, for scripts written for ``MpiConfiguration``; no ``mpirun`` is used).
The driver copies each rank's output to ``logs/rank_N.txt`` while it runs (rank 0's also to
``logs/std_log.txt``); the first rank that fails fails the run and the others are stopped.
``./outputs`` and ``./logs`` of rank 0 are uploaded.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import sys
import tempfile
import time
import zipfile
from typing import TYPE_CHECKING, Any

from runhistory import settings
from runhistory.client.outputs import upload_output_folders
from runhistory.compute.base import LOG_FILE
from runhistory.compute.logs import LogUploader
from runhistory.compute.process import JobProcess
from runhistory.compute.ray_target import job_resources
from runhistory.compute.supervisor import exit_error
from runhistory.errors import RunhistoryError
from runhistory.tracking import status as st

if TYPE_CHECKING:
    from runhistory.compute.ray_job import RayJobDriver

PYTHON = "{python}"
_READ_CHUNK = 1 << 20
_PLACEMENT_WAIT = 120.0
_POLL = 0.25


def _unzip(data: bytes, folder: str) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as opened:
        for member in opened.infolist():
            target = opened.extract(member, folder)
            mode = (member.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)


class RankWorker:
    """One rank (a Ray actor): runs the script in its own copy of the snapshot."""

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.folder = tempfile.mkdtemp(prefix=f"runhistory-rank{rank}-")
        self.workdir = os.path.join(self.folder, "wd")
        self.log_path = os.path.join(self.folder, "rank.log")
        self.job: JobProcess | None = None

    def node_ip(self) -> str:
        """The address of this rank's node."""
        import ray

        return str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]

    def free_port(self) -> int:
        """A TCP port free on this node (for MASTER_PORT)."""
        with socket.socket() as probe:
            probe.bind(("", 0))
            return int(probe.getsockname()[1])

    def start(self, snapshot: bytes, argv: list[str], env: dict[str, str]) -> int:
        """Extract the snapshot and start the script; returns its pid."""
        os.makedirs(self.workdir, exist_ok=True)
        _unzip(snapshot, self.workdir)
        command = [sys.executable if part == PYTHON else part for part in argv]
        self.job = JobProcess(command, self.workdir, {**os.environ, **env}, self.log_path)
        return self.job.pid

    def poll(self) -> int | None:
        """The script's exit code, or None while it runs."""
        assert self.job is not None
        return self.job.poll()

    def read_log(self, offset: int) -> bytes:
        """Output written since ``offset`` (at most 1 MiB per call)."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(offset)
                return handle.read(_READ_CHUNK)
        except OSError:
            return b""

    def stop(self, grace_seconds: float) -> int:
        """End the script (SIGTERM, then SIGKILL after the grace)."""
        assert self.job is not None
        return self.job.stop(grace_seconds)

    def finish(self) -> str:
        """After exit: reap leftovers; the last lines of stderr."""
        assert self.job is not None
        self.job.finish()
        return self.job.stderr_tail()

    def collect(self) -> bytes:
        """``./outputs`` and ``./logs`` of this rank as a zip archive."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in ("outputs", "logs"):
                top = os.path.join(self.workdir, name)
                for root, _dirs, names in os.walk(top):
                    for file_name in names:
                        path = os.path.join(root, file_name)
                        archive.write(path, os.path.relpath(path, self.workdir))
        return buffer.getvalue()

    def cleanup(self) -> None:
        """Remove this rank's folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


class DistributedRun:
    """Starts, watches and ends the ranks of one run (called by the job's driver)."""

    def __init__(self, driver: RayJobDriver, workdir: str, ranks: int) -> None:
        self.driver = driver
        self.workdir = workdir
        self.ranks = ranks
        self.backend = driver.backend
        self.run_id = driver.run_id
        self.std_log = os.path.join(driver.home, "std_log.txt")

    def _say(self, text: str) -> None:
        with open(self.std_log, "a", encoding="utf-8") as handle:
            handle.write(f"[runhistory] {text}\n")

    def _bundle(self) -> tuple[dict[str, float], dict[str, Any]]:
        resources = job_resources(self.driver.definition)
        bundle: dict[str, float] = {"CPU": resources.get("cpu", 1.0)}
        options: dict[str, Any] = {"num_cpus": bundle["CPU"]}
        if resources.get("gpu"):
            bundle["GPU"] = options["num_gpus"] = resources["gpu"]
        if resources.get("memory_gb"):
            bundle["memory"] = options["memory"] = resources["memory_gb"] * 1024**3
        return bundle, options

    def run(self) -> None:
        """Place, start and watch the ranks; the run ends with its final status."""
        import ray
        from ray.util.placement_group import placement_group, remove_placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        ray.init(log_to_driver=False)
        bundle, options = self._bundle()
        group = placement_group([bundle] * self.ranks, strategy="SPREAD")
        workers: list[Any] = []
        try:
            if not group.wait(timeout_seconds=_PLACEMENT_WAIT):
                raise RunhistoryError(
                    f"the Ray cluster cannot place {self.ranks} ranks of {bundle} within "
                    f"{_PLACEMENT_WAIT:.0f} s: ask for fewer processes or resources, or add nodes"
                )
            actor = ray.remote(RankWorker)
            for rank in range(self.ranks):
                strategy = PlacementGroupSchedulingStrategy(
                    group, placement_group_bundle_index=rank
                )
                workers.append(actor.options(scheduling_strategy=strategy, **options).remote(rank))
            self._start(ray, workers)
            self._watch_and_finish(ray, workers)
        finally:
            for worker in workers:
                try:
                    ray.get(worker.cleanup.remote(), timeout=30)
                    ray.kill(worker)
                except Exception as exc:  # the node may be gone
                    print(f"ray_ranks: cleanup: {exc}", file=sys.stderr)
            remove_placement_group(group)
            ray.shutdown()

    def _start(self, ray: Any, workers: list[Any]) -> None:
        addresses = ray.get([w.node_ip.remote() for w in workers])
        port = ray.get(workers[0].free_port.remote())
        archive = os.path.join(self.driver.home, "ranks-snapshot.zip")
        self.backend.restore_snapshot_zip(self.backend.get_run(self.run_id).snapshot_id, archive)
        with open(archive, "rb") as handle:
            snapshot = ray.put(handle.read())
        os.remove(archive)
        argv = self.driver._argv(PYTHON)
        base = self.driver.rank_environment()
        seen: dict[str, int] = {}
        nodes = sorted(set(addresses))
        pids = []
        for rank, (worker, address) in enumerate(zip(workers, addresses, strict=True)):
            local_rank = seen[address] = seen.get(address, -1) + 1
            env = {**base, "MASTER_ADDR": str(addresses[0]), "MASTER_PORT": str(port),
                   "WORLD_SIZE": str(self.ranks), "RANK": str(rank),
                   "LOCAL_RANK": str(local_rank), "NODE_RANK": str(nodes.index(address)),
                   "OMPI_COMM_WORLD_SIZE": str(self.ranks), "OMPI_COMM_WORLD_RANK": str(rank),
                   "OMPI_COMM_WORLD_LOCAL_RANK": str(local_rank)}  # fmt: skip
            pids.append(worker.start.remote(snapshot, argv, env))
        ray.get(pids)
        self.driver._record({"ranks": self.ranks, "master_addr": addresses[0],
                             "master_port": port, "rank_nodes": addresses})  # fmt: skip
        self._say(f"{self.ranks} ranks started on {', '.join(sorted(set(addresses)))}")
        self.driver._set(st.RUNNING)
        self.backend.heartbeat(self.run_id)

    def _watch_and_finish(self, ray: Any, workers: list[Any]) -> None:
        paths = [os.path.join(self.driver.home, f"rank_{r}.txt") for r in range(self.ranks)]
        uploaders = [
            LogUploader(self.backend, self.run_id, path, f"logs/rank_{r}.txt")
            for r, path in enumerate(paths)
        ]
        std_uploader = LogUploader(self.backend, self.run_id, self.std_log, LOG_FILE)
        offsets = [0] * self.ranks
        upload_every = float(settings.get("RUNHISTORY_LOG_UPLOAD_INTERVAL"))
        beat_every = float(settings.get("RUNHISTORY_HEARTBEAT_INTERVAL"))
        limit = self.driver.compute.get("max_run_duration_seconds")
        deadline = time.monotonic() + float(limit) if limit else None
        next_upload = next_beat = 0.0
        reason: str | None = None
        failed: tuple[int, int] | None = None
        codes: list[int | None] = [None] * self.ranks
        while True:
            codes = ray.get([w.poll.remote() for w in workers])
            self._pull_logs(ray, workers, paths, offsets)
            bad = [(r, c) for r, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                failed = bad[0]
                break
            if all(c == 0 for c in codes):
                break
            now = time.monotonic()
            try:
                if now >= next_upload:
                    for uploader in [*uploaders, std_uploader]:
                        uploader.upload()
                    next_upload = now + upload_every
                if now >= next_beat:
                    self.backend.heartbeat(self.run_id)
                    next_beat = now + beat_every
                stop = self.driver._stop_asked()
            except RunhistoryError as exc:  # a store hiccup must not orphan the ranks
                print(f"ray_ranks: {exc}", file=sys.stderr, flush=True)
                stop = False
            if stop or (deadline is not None and now > deadline):
                reason = "cancel" if stop else "timeout"
                break
            time.sleep(_POLL)
        grace = min(float(settings.get("RUNHISTORY_CANCEL_GRACE_SECONDS")), 10.0)
        if failed is not None:
            self._say(f"rank {failed[0]} exited with code {failed[1]}: stopping the other ranks")
        if failed is not None or reason is not None:
            running = [w for w, c in zip(workers, codes, strict=True) if c is None]
            ray.get([w.stop.remote(grace) for w in running])
        tails = ray.get([w.finish.remote() for w in workers])
        self._pull_logs(ray, workers, paths, offsets)
        for uploader in [*uploaders, std_uploader]:
            uploader.upload(force=True)
        self._finalize(ray, workers, reason, failed, tails)

    def _pull_logs(
        self, ray: Any, workers: list[Any], paths: list[str], offsets: list[int]
    ) -> None:
        while True:
            chunks = ray.get([w.read_log.remote(o) for w, o in zip(workers, offsets, strict=True)])
            if not any(chunks):
                return
            for rank, chunk in enumerate(chunks):
                if not chunk:
                    continue
                with open(paths[rank], "ab") as handle:
                    handle.write(chunk)
                if rank == 0:
                    with open(self.std_log, "ab") as handle:
                        handle.write(chunk)
                offsets[rank] += len(chunk)

    def _finalize(self, ray: Any, workers: list[Any], reason: str | None,
                  failed: tuple[int, int] | None, tails: list[str]) -> None:  # fmt: skip
        driver = self.driver
        driver._record({"exit_codes": ray.get([w.poll.remote() for w in workers])})
        if reason == "cancel" or driver._stop_asked():
            self._upload_rank0(ray, workers[0])
            driver._set(st.CANCELED)
            return
        driver._set(st.FINALIZING)
        self._upload_rank0(ray, workers[0])
        if reason == "timeout":
            limit = driver.compute.get("max_run_duration_seconds")
            message = f"the run exceeded max_run_duration_seconds={limit}; its ranks were stopped"
            driver._set(st.FAILED, {"message": message, "code": "RunTimeout"})
        elif failed is not None:
            rank, code = failed
            error = exit_error(code, tails[rank])
            error["message"] = (
                f"rank {rank} of {self.ranks}: {error['message']} (the other ranks were stopped)"
            )
            error["rank"] = rank
            driver._set(st.FAILED, error)
        else:
            driver._set(st.COMPLETED)

    def _upload_rank0(self, ray: Any, worker: Any) -> None:
        if not self.driver.compute.get("output_collection", True):
            return
        data = ray.get(worker.collect.remote())
        folder = os.path.join(self.driver.home, "rank0")
        os.makedirs(folder, exist_ok=True)
        _unzip(data, folder)
        found = {n: os.path.join(folder, n) for n in ("outputs", "logs")}
        upload_output_folders(
            self.backend, self.run_id, {n: p for n, p in found.items() if os.path.isdir(p)}
        )
