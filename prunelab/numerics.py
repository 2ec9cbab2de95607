"""Pinned numerics: the same params give the same bits on every x86-64 CPU with AVX2.

Each library below picks its kernels by the CPU it finds (vendor, ISA, cache sizes, cores),
and different kernels sum in different orders, so the last bits of a GEMM or of make_classification's
redundant features move from one machine to the next. These variables pin one code path that
every AVX2 machine, Intel or AMD, runs alike. They override whatever the user's shell set,
and take effect only when set before numpy and torch load: `stages/__init__.py` calls pin()
first thing, so every stage (`python -m stages.X`) is pinned before it imports anything.
"""
import os
import sys
from typing import MutableMapping

PINNED = {
    # Intel MKL (torch's float32 GEMMs): its conditional numerical reproducibility branch.
    # COMPATIBLE is the one branch documented to give the same results on Intel and non-Intel
    # CPUs; AVX2 falls back to the AUTO branch on AMD, which differs from Intel's AVX2 kernels.
    "MKL_CBWR": "COMPATIBLE",
    # ATen's element-wise and reduction kernels: AVX2 on every machine (an AVX-512 CPU would
    # otherwise dispatch wider vectors, which reduce in another order).
    "ATEN_CPU_CAPABILITY": "avx2",
    # oneDNN, should an op route through it: no wider ISA than AVX2.
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    # numpy's OpenBLAS (make_classification's redundant features are a BLAS product): the
    # Haswell kernels, which every AVX2 CPU runs; its own pick varies by CPU model.
    "OPENBLAS_CORETYPE": "Haswell",
    # numpy's own SIMD loops (e.g. log10 in the figures' axis scale): no AVX-512 variants.
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    # One thread everywhere: a sum split over threads rounds differently with another count.
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}

# Libraries that read the variables above when they load.
NUMERIC_MODULES = ("numpy", "torch", "sklearn", "scipy")


def usable_cores() -> int:
    """The cores this process may run on (its affinity), without loading a numeric library."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def pin(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Set the pinned variables. Returns the numeric libraries that were already loaded, for
    which the pins come too late (empty when called before any numeric import, as stages do)."""
    environ.update(PINNED)
    return [name for name in NUMERIC_MODULES if name in sys.modules]

