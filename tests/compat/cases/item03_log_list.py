# Item 3: log_list takes any iterable (a generator, a numpy array, a pandas Series), and so
# do table columns.
# %%
import numpy as np
import pandas as pd
from azureml.core import Experiment, Run, Workspace

ws = Workspace.from_config()
experiment = Experiment(workspace=ws, name='logging-api-test')
run = experiment.start_logging()
scale_factor = 2
# %%
fibonacci_values = [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]
scaled_values = (i * scale_factor for i in fibonacci_values)
run.log_list(name='Fibonacci', value=scaled_values)
run.log_list(name='Squares', value=np.arange(5) ** 2)
run.log_list(name='Halves', value=pd.Series([0.5, 1.5, 2.5]))
# %%
angles = np.linspace(-1, 1, 4)
run.log_table(name='Sine Wave', value={'angle': angles, 'sine': pd.Series(np.sin(angles))})
run.complete()
# %% check
metrics = Run(experiment, run.id).get_metrics()
assert metrics['Fibonacci'] == [i * 2 for i in [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]]
assert metrics['Squares'] == [0, 1, 4, 9, 16]
assert metrics['Halves'] == [0.5, 1.5, 2.5]
assert metrics['Sine Wave']['angle'] == list(angles)
assert len(metrics['Sine Wave']['sine']) == 4
