# Item 10: python -m runhistory.compat.azureml scripts/train.py imports modules beside the
# script, as python scripts/train.py does.
# %%
import os
import subprocess
import sys

os.makedirs("scripts", exist_ok=True)
with open("scripts/mylib.py", "w") as f:
    f.write("def get_alphas():\n    return [0.0, 0.5, 1.0]\n")
with open("scripts/train.py", "w") as f:
    f.write("import mylib\nfrom azureml.core.run import Run\n"
            "run = Run.get_context()\n"
            "for alpha in mylib.get_alphas():\n    run.log('alpha', alpha)\n"
            "print('trained with', mylib.get_alphas())\n")
# %%
result = subprocess.run([sys.executable, "-m", "runhistory.compat.azureml", "scripts/train.py"],
                        capture_output=True, text=True)
print(result.stdout, result.stderr)
# %% check
assert result.returncode == 0, result.stderr
assert "trained with [0.0, 0.5, 1.0]" in result.stdout
