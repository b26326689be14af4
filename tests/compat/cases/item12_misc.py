# Item 12: azureml.telemetry, the notebook view of runs and experiments, Docker defaults of an
# environment, and cancel() of a local job reporting Canceled at once.
# %%
from azureml.telemetry import set_diagnostics_collection

set_diagnostics_collection(send_diagnostics=True)
# %%
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name="explore-runs")
notebook_run = exp.start_logging()
notebook_run
# %%
exp
# %%
myenv = Environment(name="myenv")
myenv.docker.enabled = True
print(myenv.docker.base_image, myenv.docker.base_image_registry)
print(myenv.docker.shared_volumes, myenv.docker.shm_size)
# %%
with open("hello_with_delay.py", "w") as f:
    f.write("import time\nprint('Wait for 10 seconds..')\ntime.sleep(10)\nprint('Done waiting')\n")
with open(".amlignore", "w") as f:
    f.write("/outputs\n")
run_config = ScriptRunConfig(source_directory='.', script='hello_with_delay.py')
local_script_run = exp.submit(run_config)
print("Did the run start?", local_script_run.get_status())
local_script_run.cancel()
print("Did the run cancel?", local_script_run.get_status())
# %%
local_script_run = exp.submit(run_config)
local_script_run.fail()
print(local_script_run.get_status())
notebook_run.complete()
# %% check
html = notebook_run._repr_html_()
assert notebook_run.id in html and "<table" in html and "href=" in html
assert "explore-runs" in exp._repr_html_()
assert myenv.docker.base_image and myenv.docker.shm_size == "2g"
assert myenv.docker.shared_volumes is True and myenv.docker.base_image_registry.address is None
assert local_script_run.get_status() == "Failed"
canceled = [r for r in exp.get_runs() if r.get_status() == "Canceled"]
assert len(canceled) == 1
