"""Where the arithmetic runs: worker threads over every core, and the matrix products.

The same bytes on any core count: every BLAS and torch call stays single-threaded (a sum split
over threads rounds differently with another count, prunelab/numerics.py), and parallel work is
cut into pieces fixed by the shapes alone (a stack of models, a tile of ROWS rows of a product,
a chunk of samples), never by the number of workers. The workers only decide which core
computes a piece, so one worker or sixteen give identical results.

Threads, not processes: numpy's BLAS and torch's kernels release the GIL, and threads share the
dataset instead of copying it into every process.

Products on the CPU go through numpy's OpenBLAS, pinned to its Haswell kernels: the one GEMM
code every AVX2 CPU runs alike at full speed. torch's MKL is only alike across Intel and AMD
in its COMPATIBLE branch (SSE2 code), which runs GEMMs at half the speed.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from prunelab import InputError

# Rows of a product's left operand one tile computes: small enough that the products of one
# minibatch (1024 rows) split four ways, big enough that BLAS runs at speed.
ROWS = 256
WORKERS_VARIABLE = "PRUNELAB_WORKERS"

_state = threading.local()  # .inside: this thread is a worker (nested work runs in place)
_pool = {"workers": None, "executor": None}


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def workers_from_environment(environ=os.environ):
    """PRUNELAB_WORKERS when set (an integer >= 1), else one worker per usable core."""
    value = environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return usable_cores()
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{WORKERS_VARIABLE}={value!r}: expected an integer >= 1 (worker threads; unset: one per core)")
    return int(value)


def set_workers(count):
    """Use `count` worker threads from now on (the results do not change, only the speed)."""
    if _pool["executor"] is not None:
        _pool["executor"].shutdown()
    _pool["workers"] = count
    _pool["executor"] = ThreadPoolExecutor(count, initializer=_mark_worker) if count > 1 else None


def workers():
    if _pool["workers"] is None:
        set_workers(workers_from_environment())
    return _pool["workers"]


def setup():
    """torch single-threaded (the workers bring the cores) and the worker count read, so that a
    bad PRUNELAB_WORKERS stops a stage before it writes anything. Returns the count."""
    torch.set_num_threads(1)
    return workers()


def _mark_worker():
    _state.inside = True
    torch.set_num_threads(1)


def parallel_map(function, items):
    """[function(item) for item in items], spread over the workers. Called from inside a worker
    (a stack's tiles while stacks run in parallel) it runs in place: no pool waits on itself."""
    items = list(items)
    if workers() == 1 or len(items) < 2 or getattr(_state, "inside", False):
        return [function(item) for item in items]
    return list(_pool["executor"].map(function, items))


def product(a, b, out):
    """out = a @ b for torch tensors: models x rows x inner @ models x inner x columns (either may
    be shared: 2-d), one model and ROWS rows at a time, so that a model's result never depends
    on the stack around it."""
    if out.device.type != "cpu":
        return torch.matmul(a, b, out=out)
    if a.shape[-1] == 1:  # an outer product: one multiplication per entry, no sum to order
        return torch.mul(a, b, out=out)
    left, right, result = a.numpy(), b.numpy(), out.numpy()

    def tile(piece):
        model, start = piece
        np.matmul((left[model] if left.ndim == 3 else left)[start:start + ROWS],
                  right[model] if right.ndim == 3 else right, out=result[model, start:start + ROWS])

    parallel_map(tile, [(model, start) for model in range(len(result)) for start in range(0, a.shape[-2], ROWS)])
    return out
