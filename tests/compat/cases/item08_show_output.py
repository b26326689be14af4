# Item 8: wait_for_completion(show_output=True) streams the job's log, then metrics and
# outputs are there to register a model.
# expect: epoch 3 of 3
# expect: Execution Summary
# %%
import os
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace

ws = Workspace.from_config()
os.makedirs("scripts", exist_ok=True)
with open("scripts/train.py", "w") as f:
    f.write(
        "import os, time\n"
        "from azureml.core import Run\n"
        "run = Run.get_context()\n"
        "for epoch in range(1, 4):\n"
        "    print(f'epoch {epoch} of 3', flush=True)\n"
        "    run.log('loss', 1.0 / epoch)\n"
        "    time.sleep(0.3)\n"
        "os.makedirs('outputs', exist_ok=True)\n"
        "open('outputs/model.pkl', 'wb').write(b'weights')\n"
    )
# %%
user_managed_env = Environment("user-managed-env")
user_managed_env.python.user_managed_dependencies = True
src = ScriptRunConfig(source_directory='./scripts', script='train.py', environment=user_managed_env)
run = Experiment(workspace=ws, name='train-on-local').submit(src)
run.wait_for_completion(show_output=True)
# %%
metrics = run.get_metrics()
model = run.register_model(model_name='best_model', model_path='./outputs/model.pkl')
print("Registered model:\n --> Name: {}\n --> Version: {}\n --> URL: {}".format(
    model.name, model.version, model.url))
# %% check
assert run.get_status() == "Completed"
assert metrics["loss"] == [1.0, 0.5, 1.0 / 3]
assert model.version == 1 and "outputs/model.pkl" in run.get_file_names()
