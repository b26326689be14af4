"""Real Jupyter for tests: a kernel spec of this environment's Python, and the widget notebook.

Kernels run this test environment's interpreter (``sys.executable``) from a kernel spec written
into a temporary Jupyter path, so no kernel installed elsewhere on the machine is picked up.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat

KERNEL_NAME = "runhistory-tests"
THREAD_PREFIX = "runhistory-widget"


def jupyter_environment(folder: Path) -> dict[str, str]:
    """Environment variables under which Jupyter finds only this environment's kernel."""
    kernels = folder / "jupyter-data" / "kernels" / KERNEL_NAME
    kernels.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "runhistory tests",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return {
        "JUPYTER_PATH": str(folder / "jupyter-data"),
        "JUPYTER_DATA_DIR": str(folder / "jupyter-data"),
        "JUPYTER_CONFIG_DIR": str(folder / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(folder / "jupyter-runtime"),
        "IPYTHONDIR": str(folder / "ipython"),
    }


SETUP = """\
import json, threading, time
import runhistory.compat.azureml as alias
alias.install()
from azureml.core import Experiment, Workspace
from azureml.widgets import RunDetails

ws = Workspace(path={workspace!r})
run = Experiment(ws, "notebook-widget").start_logging(display_name="trained in a notebook")
run.tag("notebook")
run.add_properties({{"learning_rate": "0.01"}})"""

SHOW = """\
details = RunDetails(run)
details.show()"""

TRAIN = """\
for step in range({points}):
    run.log("loss", 1.0 / (step + 1), step=step)
    time.sleep({pause})
run.complete()"""

STATE = """\
def widget_threads():
    return [t.name for t in threading.enumerate() if t.name.startswith({prefix!r})]

deadline = time.time() + 30
while widget_threads() and time.time() < deadline:
    time.sleep(0.05)
widget = details.widget_instance
loss = next(s for s in widget.series if s["name"] == "loss")
print("STATE " + json.dumps({{
    "status": widget.run["status"], "count": loss["count"], "x": loss["x"], "y": loss["y"],
    "polling": widget.polling, "threads": widget_threads(), "error": widget.error,
    "model_id": widget.model_id, "run_id": run.id,
}}))"""


SWEEP = """\
from azureml.core import Run
config = json.dumps({"name": "accuracy", "goal": "maximize"})
created = ws._connection.backend.create_run(
    run.experiment.id, status="Running", run_type="hyperdrive", display_name="sweep",
    properties={"primary_metric_config": config},
)
sweep = Run(run.experiment, created.run_id)
for index, (rate, layers) in enumerate([(0.1, 2), (0.01, 2), (0.001, 2), (0.1, 4), (0.01, 4)]):
    child = sweep.child_run(name=f"trial {index}")
    child.add_properties({"learning_rate": str(rate), "layers": str(layers)})
    for step in range(20):
        child.log("accuracy", 0.5 + layers / 20 - rate + step / 100, step=step)
    child.complete()
sweep.complete()
RunDetails(sweep).show()"""


def widget_notebook(
    workspace: Path, points: int = 50, pause: float = 0.02, more: Sequence[str] = ()
) -> nbformat.NotebookNode:
    """A notebook that starts a run, shows ``RunDetails(run)``, logs ``points`` losses and
    completes it; its fourth cell prints the widget's kernel-side state as ``STATE {json}``.
    ``more`` cells follow."""
    cells = [
        SETUP.format(workspace=str(workspace)),
        SHOW,
        TRAIN.format(points=points, pause=pause),
        STATE.format(prefix=THREAD_PREFIX),
        *more,
    ]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "runhistory tests",
        "language": "python",
    }
    return notebook


def printed(notebook: nbformat.NotebookNode, tag: str) -> dict[str, Any]:
    """The JSON a cell printed on a line ``TAG {json}``."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for line in str(output.get("text", "")).splitlines():
                if line.startswith(f"{tag} "):
                    return dict(json.loads(line[len(tag) + 1 :]))
    raise AssertionError(f"no cell printed {tag}: {[c.get('outputs') for c in notebook.cells]}")
