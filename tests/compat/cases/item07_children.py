# Item 7: create_children(count=N) numbers its children as the original; tag_key/tag_values.
# %%
from azureml.core import Experiment, Run, Workspace

ws = Workspace.from_config()
run = Experiment(ws, "explore-runs").start_logging()
child_runs = run.create_children(count=5)
for c, child in enumerate(child_runs):
    child.log(name="Hello from child run ", value=c)
    child.complete()
# %%
tagged = run.create_children(tag_key="alpha", tag_values=["0.1", "0.5", "1.0"])
for child in tagged:
    child.start()
    child.complete()
run.complete()
# %% check
numbers = sorted(int(child.get_tags()["azureml.batch_child_number"]) for child in child_runs)
assert numbers == [0, 1, 2, 3, 4]
assert sorted(child.get_tags()["alpha"] for child in tagged) == ["0.1", "0.5", "1.0"]
assert len(list(run.get_children())) == 8  # a generator, as in the original
found = run.get_children(tags={"azureml.batch_child_number": "3"})
assert [child.id for child in found] == [child_runs[3].id]
