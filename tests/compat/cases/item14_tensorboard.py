# Item 14: azureml.tensorboard's export_to_tensorboard writes event files of a run's metrics.
# %%
import os
from azureml.core import Experiment, Workspace
from azureml.tensorboard.export import export_to_tensorboard

ws = Workspace.from_config()
exp = Experiment(ws, 'export-to-tensorboard')
root_run = exp.start_logging()
for alpha in [.1, .2, .3]:
    with root_run.child_run("alpha" + str(alpha)) as run:
        run.log("mse", 3000 * alpha)
        root_run.log("alpha", alpha)
        root_run.log("mse", 3000 * alpha)
# %%
logdir = 'exportedTBlogs'
log_path = os.path.join(os.getcwd(), logdir)
try:
    os.stat(log_path)
except os.error:
    os.mkdir(log_path)
export_to_tensorboard(root_run, logdir)
root_run.complete()
# %% check
import glob
import struct

from tensorboardX.proto.event_pb2 import Event


def scalars(folder):
    found = []
    for path in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        data = open(path, "rb").read()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            event = Event.FromString(data[offset + 12:offset + 12 + length])
            offset += 16 + length
            found += [(v.tag, event.step, round(v.simple_value, 4)) for v in event.summary.value]
    return found


root = scalars(os.path.join(logdir, root_run.id))
assert ("alpha", 2, 0.3) in root and ("mse", 0, 300.0) in root
children = [d for d in os.listdir(logdir) if d != root_run.id]
assert len(children) == 3
assert all(len(scalars(os.path.join(logdir, d))) == 1 for d in children)
