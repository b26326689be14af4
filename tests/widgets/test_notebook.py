"""``RunDetails(run).show()`` in a real Jupyter kernel, executed by ``nbclient``.

The kernel is this environment's Python. The notebook starts a run, shows the widget, logs 50
losses and completes the run; the widget's model state, read in the kernel, must reach the 50
points and ``Completed`` with its polling thread gone. A second widget is closed while its run
is still live: its thread must end at once. A zoom request sent to the widget's comm as the
browser sends it gets the zoomed steps in full.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from support.notebooks import KERNEL_NAME, jupyter_environment, printed, widget_notebook

CLOSE = """\
second = Experiment(ws, "notebook-widget").start_logging()
closing = RunDetails(second)
closing.show()
time.sleep(0.3)
before = widget_threads()
closing.widget_instance.close()
print("CLOSED " + json.dumps({
    "before": before, "after": widget_threads(),
    "polling": closing.widget_instance.polling, "status": second.get_status(),
}))
second.complete()"""

ENDED = """\
ended = RunDetails(run)
ended.show()
status = ended.widget_instance.run["status"]
print("ENDED " + json.dumps({"threads": widget_threads(), "status": status}))"""


def test_widget_state_reaches_every_point_and_the_final_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in jupyter_environment(tmp_path).items():
        monkeypatch.setenv(name, value)
    notebook = widget_notebook(tmp_path / "workspace", points=50, more=[CLOSE, ENDED])
    client = NotebookClient(notebook, timeout=120, kernel_name=KERNEL_NAME)
    with client.setup_kernel(cwd=str(tmp_path)):
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        shown = printed(notebook, "STATE")
        zoomed = _zoom(client.kc, shown["model_id"], shown["run_id"])

    state = printed(notebook, "STATE")
    assert state["status"] == "Completed"
    assert state["count"] == 50
    assert state["x"] == list(range(50))
    assert state["y"] == pytest.approx([1.0 / (step + 1) for step in range(50)])
    assert state["polling"] is False and state["threads"] == [] and state["error"] == ""

    closed = printed(notebook, "CLOSED")
    assert len(closed["before"]) == 1  # polling while the run is live
    assert closed["after"] == [] and closed["polling"] is False
    assert closed["status"] == "Running"

    ended = printed(notebook, "ENDED")  # a finished run is shown without a thread
    assert ended == {"threads": [], "status": "Completed"}

    # A chart zoomed in the browser asks the kernel for those steps in full.
    assert zoomed["id"] == 7 and len(zoomed["series"]) == 1
    assert zoomed["series"][0]["x"] == list(range(10, 20))


def _zoom(kernel: Any, model_id: str, run_id: str) -> dict[str, Any]:
    """Send the widget the message a zoomed chart sends; return the kernel's answer."""
    request = {"type": "detail", "id": 7, "run_ids": [run_id], "name": "loss", "max_points": 100,
               "min_step": 10, "max_step": 19}  # fmt: skip
    data = {"method": "custom", "content": request}
    message = kernel.session.msg("comm_msg", {"comm_id": model_id, "data": data})
    kernel.shell_channel.send(message)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reply = run_sync(kernel.get_iopub_msg)(timeout=30)  # nbclient's client is asynchronous
        content = reply["content"]
        if reply["msg_type"] == "comm_msg" and content.get("comm_id") == model_id:
            answer = content["data"].get("content", {})
            if content["data"].get("method") == "custom" and answer.get("type") == "detail":
                return dict(answer)
    raise AssertionError("the kernel did not answer the zoom request")
