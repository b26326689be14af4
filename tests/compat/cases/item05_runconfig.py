# Item 5: distributed and Docker settings import, are recorded, and a local run says what it
# ignores.
# expect: the local target ignores distributed_job_config PyTorchConfiguration
# %%
import os
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.runconfig import (DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, DockerConfiguration,
                                    MpiConfiguration, PyTorchConfiguration,
                                    TensorflowConfiguration)

ws = Workspace.from_config()
os.makedirs("dist", exist_ok=True)
with open("dist/train.py", "w") as f:
    f.write("from azureml.core import Run\nRun.get_context().log('ranks', 1)\n")
# %%
env = Environment("pytorch-env")
env.python.user_managed_dependencies = True
env.docker.base_image = DEFAULT_GPU_IMAGE
distr_config = PyTorchConfiguration(process_count=8, node_count=2)
docker_config = DockerConfiguration(use_docker=True)
src = ScriptRunConfig(source_directory="dist", script="train.py", compute_target="local",
                      environment=env, distributed_job_config=distr_config,
                      docker_runtime_config=docker_config)
run = Experiment(ws, "distributed-pytorch").submit(src)
run.wait_for_completion(show_output=True)
# %%
mpi = MpiConfiguration(process_count_per_node=2, node_count=2)
tf = TensorflowConfiguration(worker_count=2, parameter_server_count=1)
# %% check
definition = run.get_details()["runDefinition"]
assert definition["distributed"]["framework"] == "PyTorch"
assert definition["distributed"]["processCount"] == 8 and definition["distributed"]["nodeCount"] == 2
assert definition["dockerRuntime"]["useDocker"] is True
assert run.get_status() == "Completed" and run.get_metrics() == {"ranks": 1}
assert mpi.node_count == 2 and tf.worker_count == 2
assert DEFAULT_CPU_IMAGE and DEFAULT_GPU_IMAGE != DEFAULT_CPU_IMAGE
