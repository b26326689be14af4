# Item 13: conda packages are installed with pip when there is no conda.
# expect: installing conda packages with pip instead: scikit-learn -> scikit-learn
# %%
import os
from azureml.core import Environment, Experiment, ScriptRunConfig, Workspace
from azureml.core.conda_dependencies import CondaDependencies

ws = Workspace.from_config()
exp = Experiment(workspace=ws, name='train-on-local')
os.makedirs("scripts", exist_ok=True)
with open("scripts/train.py", "w") as f:
    f.write("import sklearn\nfrom azureml.core.run import Run\n"
            "Run.get_context().log('sklearn', sklearn.__version__)\n")
# %%
system_managed_env = Environment("system-managed-env")
system_managed_env.python.user_managed_dependencies = False
cd = CondaDependencies.create(conda_packages=['scikit-learn'])
system_managed_env.python.conda_dependencies = cd
# %%
src = ScriptRunConfig(source_directory='./scripts', script='train.py')
src.run_config.environment = system_managed_env
run = exp.submit(src)
run.wait_for_completion(show_output=True)
# %% check
import shutil

import sklearn

if shutil.which("conda") is None:
    assert run.get_status() == "Completed"
    assert run.get_metrics() == {"sklearn": sklearn.__version__}
