"""``python -m runhistory.compat.azureml SCRIPT [ARGS]``: run a script with the alias."""

import sys

from runhistory.compat.azureml import run_script

run_script(sys.argv[1:])
