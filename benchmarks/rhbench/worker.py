"""Entry point of a benchmark worker process: ``python -m rhbench.worker MODULE FUNCTION JSON``.

Imports ``rhbench.MODULE``, calls ``FUNCTION(**params)`` and prints its result as one JSON line
prefixed with :data:`rhbench.common.RESULT_MARK` (anything else the libraries print is ignored).
"""

from __future__ import annotations

import importlib
import json
import sys

from rhbench.common import RESULT_MARK


def main(argv: list[str]) -> None:
    """Run one worker function and print its result."""
    module_name, function_name, params = argv[1], argv[2], json.loads(argv[3])
    module = importlib.import_module(f"rhbench.{module_name}")
    result = getattr(module, function_name)(**params)
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv)
