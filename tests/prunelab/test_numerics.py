"""Pinned numerics (prunelab/numerics.py): the committed dvc.lock on a machine that is not ours.

Another CPU is emulated by the variables with which the libraries choose their kernels: MKL's
branch, ATen's capability, OpenBLAS's core type, thread counts. Under each, the computing
stages must rewrite exactly the outputs that the committed dvc.lock records.
"""
import hashlib
import json
import subprocess
import sys

import pytest

from prunelab.numerics import PINNED
from stages import paths
from tests.conftest import BIN, ENV, ROOT, repro, sh

# Each line is one other machine; every value named in docs/reproducibility.md's Determinism section
# appears at least once (MKL_CBWR absent: unset).
MACHINES = [
    {"ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Prescott", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"},
    {"MKL_CBWR": "AVX", "ATEN_CPU_CAPABILITY": "avx2", "OPENBLAS_CORETYPE": "Haswell", "OMP_NUM_THREADS": "1",
     "MKL_NUM_THREADS": "1"},
    {"MKL_CBWR": "AVX2", "ATEN_CPU_CAPABILITY": "default", "OPENBLAS_CORETYPE": "Zen", "OMP_NUM_THREADS": "2",
     "MKL_NUM_THREADS": "1"},
    {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "avx2", "OPENBLAS_CORETYPE": "Prescott", "OMP_NUM_THREADS": "1",
     "MKL_NUM_THREADS": "2"},
]

# What a stage sees of its libraries once `stages` is imported: read back, not assumed.
PROBE = """
import os, json, stages, numpy, torch, threadpoolctl
from prunelab import compute
compute.setup()
capability = torch.backends.cpu.get_cpu_capability()
blas = [{k: pool[k] for k in ("internal_api", "architecture", "num_threads")}
        for pool in threadpoolctl.threadpool_info() if pool["internal_api"] == "openblas"]
print(json.dumps({"env": {k: os.environ.get(k) for k in %r}, "capability": capability,
                  "threads": torch.get_num_threads(), "openblas": blas}))
"""


def run_on(machine, repo, *args, timeout=900):
    """Run a command in repo as it would run on `machine`: the test's environment without any
    variable that prunelab/numerics.py pins, plus the machine's own (absent means unset)."""
    env = {key: value for key, value in ENV.items() if key not in PINNED}
    result = subprocess.run(args, cwd=repo, env={**env, "PYTHONPATH": str(ROOT), **machine}, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{result.stderr}"
    return result.stdout


def probe(machine):
    return json.loads(run_on(machine, ROOT, sys.executable, "-c", PROBE % (list(PINNED),)))


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: " ".join(f"{k}={v}" for k, v in m.items()))
def test_the_pins_override_the_outer_environment(machine):
    seen = probe(machine)
    assert seen["env"] == PINNED
    assert seen["capability"] == "AVX2"  # ATen honours the pin (this machine has AVX2)
    assert seen["threads"] == 1
    assert seen["openblas"] == [{"internal_api": "openblas", "architecture": "Haswell", "num_threads": 1}]


UNPINNED_TRAIN = """
import os, sys, runpy
outer = {k: os.environ.get(k) for k in %r}
import stages  # sets the pins; put the outer values back before numpy and torch load
for key, value in outer.items():
    os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
sys.argv = ["stages.train"]
runpy.run_module("stages.train", run_name="__main__")
"""


def test_without_the_pins_the_emulated_machines_do_change_the_bits(workdir):
    """The control: the emulation is real, so the test below could fail without prunelab/numerics.py."""
    run_on({}, workdir, sys.executable, "-m", "stages.generate_data")
    digests = set()
    for machine in ({"MKL_CBWR": "AVX2"}, {"MKL_CBWR": "COMPATIBLE"}, {"ATEN_CPU_CAPABILITY": "default"}):
        run_on(machine, workdir, sys.executable, "-c", UNPINNED_TRAIN % (list(PINNED),))
        digests.add(hashlib.md5((workdir / paths.MODELS).read_bytes()).hexdigest())
    assert len(digests) > 1


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: " ".join(f"{k}={v}" for k, v in m.items()))
def test_an_emulated_machine_reproduces_the_committed_lock(committed, tmp_path, machine):
    repo = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(committed), str(repo))
    # --force: every stage recomputes, sensitivity and plot too. dvc.lock records every
    # output's md5, so an unchanged lock means each output met the committed md5.
    run_on(machine, repo, str(BIN / "dvc"), "repro", "--force")
    assert sh(repo, "git", "status", "--porcelain").stdout == ""
    assert repro(repo)[0] == []
