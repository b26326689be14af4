"""The validator: every rule on what runhistory stores, in one place.

The SDK applies it at the call (``log*``, ``set_tags``, ``add_properties``, run fields), so a
bad call raises at once; the tracking service applies it to everything it is given (the
embedded SDK's batches and the server's REST bodies alike), so nothing the store would refuse
or could not read back reaches it. The rules:

- **Text** (:mod:`.text`): every string that is stored — metric names, values and
  descriptions, tag and property keys and values, display names, descriptions, strings inside
  documents — is valid Unicode without NUL characters and without lone surrogates. SQLite
  and PostgreSQL get the same rule. Text runhistory composes itself (error details of failed
  runs) is escaped instead (:func:`printable`).
- **Names and keys** (:mod:`.names`): experiment and model names follow their patterns;
  metric names are 1-255 characters; tag and property keys 1-255, values at most 5,000
  (numbers and bools are turned into strings; tags may be ``None``).
- **Integers** (:mod:`.points`): metric values of any size are stored exactly: a number for
  charts, plus the exact decimal text when ``|value| > 2**53`` (up to 4,300 digits). Steps are
  signed 64-bit integers; others are refused.
- **Points** (:mod:`.points`): each value type has its number/text shape; NaN has its own type
  (a float point holding NaN is refused); documents must be JSON with the shape of their
  kind (a row ``{column: scalar}``, a table ``{column: [values]}`` of equal lengths, an image
  reference string, the structured kinds' schemas).
- **Types**: every field has one type (a description is a string, a step an integer …); the
  error names the field and the value.
"""

from runhistory.tracking.validation.names import (
    EXPERIMENT_NAME_RULE,
    MAX_METRIC_NAME,
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MODEL_NAME_RULE,
    check_experiment_name,
    check_filter,
    check_metric_name,
    check_model_name,
    check_properties,
    check_tags,
)
from runhistory.tracking.validation.points import (
    MAX_STRING_VALUE,
    STEP_MAX,
    STEP_MIN,
    check_document,
    check_document_text,
    check_step,
    check_write,
    encode_int,
)
from runhistory.tracking.validation.text import (
    TEXT_RULE,
    check_optional_text,
    check_text,
    dump_document,
    has_nul_escape,
    printable,
    text_problem,
)

__all__ = [
    "EXPERIMENT_NAME_RULE",
    "MAX_METRIC_NAME",
    "MAX_STRING_VALUE",
    "MAX_TAG_KEY",
    "MAX_TAG_VALUE",
    "MODEL_NAME_RULE",
    "STEP_MAX",
    "STEP_MIN",
    "TEXT_RULE",
    "check_document",
    "check_document_text",
    "check_experiment_name",
    "check_filter",
    "check_metric_name",
    "check_model_name",
    "check_optional_text",
    "check_properties",
    "check_step",
    "check_tags",
    "check_text",
    "check_write",
    "dump_document",
    "encode_int",
    "has_nul_escape",
    "printable",
    "text_problem",
]
