"""``RunDetails(run).show()`` in a real Jupyter kernel, executed by ``nbclient``.

The kernel is this environment's Python. The notebook starts a run, shows the widget, logs 50
losses and completes the run; the widget's model state, read in the kernel, must reach the 50
points and ``Completed`` with its polling thread gone. A second widget is closed while its run
is still live: its thread must end at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
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
    client.execute(cwd=str(tmp_path))

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
