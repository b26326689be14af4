# Item 4: the environment registry, curated names, and environments from files.
# expect: curated environment 'AzureML-Minimal' is a cloud image
# %%
import shutil
from azureml.core import Environment, Workspace
from azureml.core.environment import CondaDependencies

ws = Workspace.from_config()
curated_env = Environment.get(workspace=ws, name="AzureML-Minimal")
# %%
envs = Environment.list(workspace=ws)
for env in envs:
    if env.startswith("AzureML"):
        print("Name", env)
        if envs[env].python.conda_dependencies is not None:
            print("packages", envs[env].python.conda_dependencies.serialize_to_string())
# %%
myenv = Environment(name="myenv")
conda_dep = CondaDependencies()
conda_dep.add_conda_package("scikit-learn")
conda_dep.add_pip_package("pillow")
myenv.python.conda_dependencies = conda_dep
myenv.register(workspace=ws)
# %%
for name, env in ws.environments.items():
    print("Name {} \t version {}".format(name, env.version))
restored_environment = Environment.get(workspace=ws, name="myenv", version="1")
restored_environment
# %%
myenv.python.conda_dependencies.add_pip_package("pyyaml")
second = myenv.register(workspace=ws)
again = myenv.register(workspace=ws)
latest = Environment.get(ws, "myenv")
# %%
with open("environment.yml", "w") as f:
    f.write("name: from-file\ndependencies:\n  - python=3.11\n  - pip:\n    - requests\n")
with open("requirements.txt", "w") as f:
    f.write("requests>=2\n# a comment\nnumpy\n")
from_conda = Environment.from_conda_specification(name="from-conda", file_path="environment.yml")
from_pip = Environment.from_pip_requirements(name="from-pip", file_path="requirements.txt")
try:
    Environment.from_existing_conda_environment("from-existing", "base")
    conda_message = None
except Exception as error:
    conda_message = str(error)
# %% check
assert curated_env.python.user_managed_dependencies is True
assert "AzureML-Minimal" in envs and "myenv" not in envs
assert restored_environment.version == "1"
assert "scikit-learn" in list(restored_environment.python.conda_dependencies.conda_packages)
assert second.version == "2" and again.version == "2" and latest.version == "2"
assert "pyyaml" in list(latest.python.conda_dependencies.pip_packages)
assert ws.environments["myenv"].version == "2"
assert "requests" in list(from_conda.python.conda_dependencies.pip_packages)
assert {"requests>=2", "numpy"} <= set(from_pip.python.conda_dependencies.pip_packages)
if shutil.which("conda") is None:
    assert conda_message and "no conda" in conda_message and "from_pip_requirements" in conda_message
try:
    Environment.get(ws, "no-such-environment")
    raise AssertionError("a missing environment was found")
except KeyError as error:
    assert "no-such-environment" in str(error)
