# Item 9: start_logging() creates ./outputs, so a model can be dumped there at once.
# %%
import joblib
from azureml.core import Experiment, Workspace

ws = Workspace.from_config()
experiment = Experiment(workspace=ws, name="diabetes-experiment")
for alpha in [0.1, 0.5]:
    run = experiment.start_logging()
    run.log("alpha_value", alpha)
    model_name = "model_alpha_" + str(alpha) + ".pkl"
    filename = "outputs/" + model_name
    joblib.dump(value={"alpha": alpha}, filename=filename)
    run.upload_file(name=model_name, path_or_stream=filename)
    run.complete()
# %%
best_run = None
for run in experiment.get_runs():
    if run.get_metrics()["alpha_value"] == 0.1:
        best_run = run
print(best_run.get_file_names())
best_run.download_file(name="model_alpha_0.1.pkl")
# %% check
import os

assert "model_alpha_0.1.pkl" in best_run.get_file_names()
assert "outputs/model_alpha_0.1.pkl" in best_run.get_file_names()
assert joblib.load("model_alpha_0.1.pkl") == {"alpha": 0.1}
assert os.path.isdir("outputs")
