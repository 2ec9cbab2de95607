"""What one Slurm job of a study runs (study/slurm.py submits it through submitit).

Standard library only, and pickled by value: a node needs the venv (python, dvc, submitit)
but not this checkout. The job clones the git remote at the submitted commit into a
temporary folder, runs its point as a DVC experiment (pulling from the DVC remote what it
can, computing the rest), then pushes the outputs to the DVC remote and the experiment's ref
to the git remote, the ref last: a job killed at any moment before that leaves nothing that
looks finished, and its point is submitted again.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_point(origin, commit, name, flags, cpus):
    """Run point `name` (-S flags) of the study at `commit` of git remote `origin`; its
    stages get the job's CPUs (PRUNELAB_WORKERS, unless the job's environment sets it)."""
    bin_dir = str(Path(sys.executable).parent)
    env = {"PRUNELAB_WORKERS": os.environ.get("SLURM_CPUS_PER_TASK") or str(cpus), **os.environ,
           "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "DVC_NO_ANALYTICS": "1"}
    with tempfile.TemporaryDirectory(prefix=f"prunelab-{name}-") as tmp:
        repo = Path(tmp) / "repo"
        for step, command in (("clone", ["git", "clone", "-q", "--no-checkout", origin, str(repo)]),
                              ("checkout", ["git", "-C", str(repo), "checkout", "-q", commit]),
                              ("experiment", ["dvc", "exp", "run", "--pull", "--allow-missing", "-n", name, *flags]),
                              ("push outputs", ["dvc", "push"]),
                              ("push ref", ["dvc", "exp", "push", "--no-cache", "origin", name])):
            print("+", " ".join(command), flush=True)
            start = time.monotonic()
            done = subprocess.run(command, cwd=repo if command[0] == "dvc" else tmp, env=env)
            print(f"took {time.monotonic() - start:.2f} s: {step}", flush=True)  # bench/ reads it
            if done.returncode != 0:
                raise RuntimeError(f"{name}: `{' '.join(command)}` exited {done.returncode}")
    return name
