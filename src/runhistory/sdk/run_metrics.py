"""The logging half of :class:`~runhistory.sdk.run.Run`: every ``log_*`` kind."""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from runhistory.client.batches import QueueItem
from runhistory.client.queue import MetricQueue
from runhistory.errors import InvalidMetricError, ValidationError
from runhistory.tracking import entities as e
from runhistory.tracking.metric_errors import kind_rule_error, step_rule_error
from runhistory.tracking.metrics import check_row, check_table, encode_document, encode_value
from runhistory.tracking.validation import check_metric_name, check_step, check_text

_now = time.time


class RunMetricsMixin:
    """``log``, ``log_list``, ``log_row``, ``log_table``, ``log_image`` and structured kinds."""

    _run_id: str
    _queue: MetricQueue
    _shapes: dict[str, tuple[str, bool]]
    _scalar_keys: dict[str, tuple[int, bool]]
    _put: Callable[[QueueItem], None]

    if TYPE_CHECKING:  # provided by RunFilesMixin in the composed Run

        def _upload_for_metric(self, name: str, source: Any) -> None: ...

    def _metric_key(self, name: str, kind: str, has_step: bool, description: str) -> int:
        """Check the metric's shape and return its queue key (cached for scalars)."""
        if type(description) is not str or description:
            check_text(description, f"metric {name!r}: 'description'")
        shape = self._shapes.get(name)
        if shape is None:
            check_metric_name(name)
            self._shapes[name] = (kind, has_step)
        elif shape[0] != kind:
            raise kind_rule_error(name, shape[0], kind)
        elif shape[1] != has_step:
            raise step_rule_error(name, shape[1])
        key = self._queue.key(self._run_id, name, kind, description)
        if kind == e.KIND_SCALAR:  # shared by the run's objects, emptied when it finishes
            self._scalar_keys = self._queue.scalar_cache(self._run_id)
            self._scalar_keys[name] = (key, has_step)
        return key

    def log(self, name: str, value: Any, description: str = "", step: int | None = None) -> None:
        """Log a number, string or bool under ``name``; repeated calls make a vector.

        Args:
            name: the metric name.
            value: a number (numpy scalars included), string or bool; NaN and inf are kept.
            description: an optional description (a string), stored with the first value.
            step: optional position of the value, a signed 64-bit integer; if any value of a
                metric has a step, all must.

        Raises:
            InvalidMetricError: for lists (use ``log_list``), dicts (use ``log_row``) and other
                types, a step out of range, a string breaking the text rule (NUL, lone
                surrogates), or when steps are mixed.
            ValidationError: a description that is not a string.
        """
        cached = self._scalar_keys.get(name)
        if cached is None or cached[1] is not (step is not None) or type(description) is not str:
            key = self._metric_key(name, e.KIND_SCALAR, step is not None, description)
        else:
            key = cached[0]
        # The signed 64-bit range as literals (STEP_MIN, STEP_MAX): cheaper than two globals.
        if step is not None and (
            type(step) is not int or not -9223372036854775808 <= step <= 9223372036854775807
        ):
            step = check_step(name, step)
        if type(value) is float and value == value:
            self._put((key, step, 0, value, None, _now()))
        else:
            self._put((key, step, *encode_value(name, value), _now()))

    def log_list(self, name: str, value: Any, description: str = "") -> None:
        """Log a list of numbers, strings or bools as one metric.

        Any iterable is taken, as in the original: a generator, a numpy array, a pandas Series.
        """
        value = _as_list(value)
        if not isinstance(value, (list, tuple)):
            raise InvalidMetricError(
                f"metric {name!r}: log_list takes a list, got {type(value).__name__}"
            )
        key = self._metric_key(name, e.KIND_LIST, False, description)
        when = _now()
        self._queue.put_many([(key, None, *encode_value(name, v), when) for v in value])

    def log_row(self, name: str, description: str | None = None, **kwargs: Any) -> None:
        """Log one row of a table metric: ``run.log_row("results", epoch=1, loss=0.3)``."""
        row = check_row(name, kwargs)
        self._put_document(name, e.KIND_ROW, row, description or "")

    def log_table(self, name: str, value: Any, description: str = "") -> None:
        """Log a table: a dict of column name to values (any iterable), all of equal length."""
        if isinstance(value, dict):
            value = {column: _as_list(values) for column, values in value.items()}
        self._put_document(name, e.KIND_TABLE, check_table(name, value), description)

    def log_accuracy_table(self, name: str, value: Any, description: str = "") -> None:
        """Log an accuracy table (dict or JSON string); see ``runhistory.metrics``."""
        self._log_structured(name, e.KIND_ACCURACY_TABLE, value, description)

    def log_confusion_matrix(self, name: str, value: Any, description: str = "") -> None:
        """Log a confusion matrix (dict or JSON string), validated against its labels."""
        self._log_structured(name, e.KIND_CONFUSION_MATRIX, value, description)

    def log_predictions(self, name: str, value: Any, description: str = "") -> None:
        """Log binned predictions with error bars (dict or JSON string)."""
        self._log_structured(name, e.KIND_PREDICTIONS, value, description)

    def log_residuals(self, name: str, value: Any, description: str = "") -> None:
        """Log a residuals histogram (dict or JSON string)."""
        self._log_structured(name, e.KIND_RESIDUALS, value, description)

    def _log_structured(self, name: str, kind: str, value: Any, description: str) -> None:
        from runhistory.tracking.structured import validate_document

        self._put_document(name, kind, validate_document(kind, value), description)

    def _put_document(self, name: str, kind: str, document: Any, description: str) -> None:
        text = encode_document(document, name)
        key = self._metric_key(name, kind, False, description)
        self._put((key, None, e.VTYPE_JSON, None, text, _now()))

    def log_image(
        self, name: str, path: str | None = None, plot: Any = None, description: str = ""
    ) -> None:
        """Log an image from a file ``path`` or a matplotlib figure / pyplot ``plot``.

        The image is stored among the run's files; the metric holds a reference to it.
        """
        if (path is None) == (plot is None):
            raise ValidationError(f"image {name!r}: pass exactly one of path= or plot=")
        key = self._metric_key(name, e.KIND_IMAGE, False, description)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        if path is not None:
            extension = os.path.splitext(str(path))[1] or ".png"
            file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}{extension}"
            self._upload_for_metric(file_name, str(path))
        else:
            file_name = f"images/{safe}_{uuid.uuid4().hex[:8]}.png"
            buffer = io.BytesIO()
            figure = plot.gcf() if hasattr(plot, "gcf") else plot
            figure.savefig(buffer, format="png")
            buffer.seek(0)
            self._upload_for_metric(file_name, buffer)
        reference = f"aml://artifactId/ExperimentRun/dcid.{self._run_id}/{file_name}"
        self._put((key, None, e.VTYPE_JSON, None, encode_document(reference), _now()))


def _as_list(value: Any) -> Any:
    """Any iterable (generator, numpy array, pandas Series) as a list; other values as given."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple, str, bytes, dict)) or not hasattr(value, "__iter__"):
        return value
    return list(value)
