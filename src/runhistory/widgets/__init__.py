"""Notebook widgets: :class:`RunDetails`, a live view of a run (``azureml.widgets`` alias).

Importing this package needs no notebook packages; showing the widget needs the ``notebook``
extra (``anywidget``). See docs/notebook.md.
"""

from runhistory.widgets.run_details import RunDetails

__all__ = ["RunDetails"]
