# Item 1: every sample prints the SDK version first.
# %%
import azureml.core
from azureml.core import Experiment, Run, Workspace

print("This notebook was created using SDK version 1.59.0, you are currently running version",
      azureml.core.VERSION)
# %%
print("SDK version:", azureml.core.VERSION)
# %% check
assert azureml.core.VERSION == azureml.core.__version__
assert isinstance(azureml.core.VERSION, str) and azureml.core.VERSION[0].isdigit()
