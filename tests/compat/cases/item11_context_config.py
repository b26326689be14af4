# Item 11: Run.get_context() outside a submission logs to the workspace of config.json.
# %%
import subprocess
import sys

with open("score.py", "w") as f:
    f.write("from azureml.core import Run\nrun = Run.get_context()\nrun.log('accuracy', 0.91)\n")
result = subprocess.run([sys.executable, "-m", "runhistory.compat.azureml", "score.py"],
                        capture_output=True, text=True)
print(result.stdout, result.stderr)
# %%
from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
runs = list(Experiment(ws, "score").get_runs())
# %% check
assert result.returncode == 0, result.stderr
assert "Run.get_context() outside a submitted job logs to workspace 'samples-ws'" in result.stderr
assert len(runs) == 1 and runs[0].get_metrics() == {"accuracy": 0.91}
assert runs[0].get_status() == "Completed"
