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
import ctypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Mapping, TypeVar

import numpy as np
import torch

from prunelab import InputError
from prunelab.numerics import usable_cores

# Rows of a product's left operand one tile computes: small enough that the products of one
# minibatch (1024 rows) split four ways, big enough that BLAS runs at speed. A product of fewer
# multiply-adds than SMALL (per model) is one tile: splitting it costs more calls than it saves.
ROWS = 256
SMALL = 2**24
WORKERS_VARIABLE = "PRUNELAB_WORKERS"

_state = threading.local()  # .inside: this thread is a worker (nested work is shared, see parallel_map)
# "queued": tasks handed to the executor and not yet finished; fewer than the workers means one is idle.
_pool = {"workers": None, "executor": None, "queued": 0, "lock": threading.Lock()}
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def workers_from_environment(environ: Mapping[str, str] = os.environ) -> int:
    """PRUNELAB_WORKERS when set (an integer >= 1), else one worker per usable core."""
    value = environ.get(WORKERS_VARIABLE, "").strip()
    if not value:
        return usable_cores()
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{WORKERS_VARIABLE}={value!r}: expected an integer >= 1 (worker threads; unset: one per core)")
    return int(value)


def set_workers(count: int) -> None:
    """Use `count` worker threads from now on (the results do not change, only the speed).
    torch goes single-threaded in this process: its own threads would split sums by count."""
    torch.set_num_threads(1)
    if _pool["executor"] is not None:
        _pool["executor"].shutdown()
    _pool["workers"], _pool["queued"] = count, 0
    _pool["executor"] = ThreadPoolExecutor(count, initializer=_mark_worker) if count > 1 else None


def workers() -> int:
    if _pool["workers"] is None:
        set_workers(workers_from_environment())
    return _pool["workers"]


def setup() -> int:
    """torch single-threaded (the workers bring the cores), glibc's allocator told to hand large
    blocks back, and the worker count read, so that a bad PRUNELAB_WORKERS stops a stage before
    it writes anything. Returns the count."""
    torch.set_num_threads(1)
    return_large_blocks()
    return workers()


def return_large_blocks(threshold: int = 2**22) -> bool:
    """Serve allocations of `threshold` bytes and more by mmap, returned to the system on free.
    glibc otherwise raises that threshold to the largest block freed so far, and then, with
    threads allocating and freeing 16 MB activations, kept freed blocks it did not reuse: a
    stage evaluating 1,000,000 samples reached 13 GB. Fixing it costs about 10 % on such an
    evaluation and nothing where buffers are kept across steps. No-op off glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(-3, threshold))  # -3: M_MMAP_THRESHOLD (malloc.h)


def _mark_worker():
    _state.inside = True
    torch.set_num_threads(1)


def spread(count: int) -> bool:
    """Whether parallel_map hands `count` items to the workers: more than one item and worker,
    called outside a worker (inside one, items are shared with idle workers only)."""
    return count > 1 and workers() > 1 and not getattr(_state, "inside", False)


def _submit(task: Callable[[], _Result]):
    def counted():
        try:
            return task()
        finally:
            with _pool["lock"]:
                _pool["queued"] -= 1

    with _pool["lock"]:
        _pool["queued"] += 1
    try:
        return _pool["executor"].submit(counted)
    except BaseException:  # not handed over (a pool shut down): not queued either
        with _pool["lock"]:
            _pool["queued"] -= 1
        raise


def parallel_map(function: Callable[[_Item], _Result], items: Iterable[_Item]) -> list[_Result]:
    """[function(item) for item in items]: over the workers when called outside them; inside a
    worker (a stack's tiles while stacks run in parallel), in that worker's own thread, helped
    by any worker left idle (three seeds on two workers: the third seed's pieces spread once the
    second is done). Which thread runs an item never changes its bytes (the module docstring)."""
    items = list(items)
    if len(items) < 2 or workers() < 2:
        return [function(item) for item in items]
    if spread(len(items)):
        return [future.result() for future in [_submit(lambda item=item: function(item)) for item in items]]
    return _shared(function, items)


def _shared(function: Callable[[_Item], _Result], items: list[_Item]) -> list[_Result]:
    """The items taken one by one by this worker and by helpers sent to idle workers. No wait on
    a queue: this thread takes items until none is left, then waits only for items a helper
    is running (a helper's own nested maps end the same way), so no pool waits on itself."""
    results, errors, state = [None] * len(items), [], {"next": 0, "left": len(items)}
    finished = threading.Condition()

    def take():
        while True:
            with finished:
                index = state["next"]
                state["next"] += 1
            if index >= len(items):
                return
            try:
                results[index] = function(items[index])
            except BaseException as error:  # re-raised in the caller's thread
                errors.append((index, error))
            with finished:
                state["left"] -= 1
                if not state["left"]:
                    finished.notify_all()

    with _pool["lock"]:
        idle = _pool["workers"] - _pool["queued"]
    for _ in range(min(idle, len(items) - 1)):
        _submit(take)
    take()
    with finished:
        finished.wait_for(lambda: not state["left"])
    if errors:  # the first item's error, as a loop would raise, whichever thread failed first
        raise min(errors, key=lambda found: found[0])[1]
    return results


def product(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor,
            then: Callable[[int | slice, int, int], None] | None = None, tile_rows: int = ROWS) -> torch.Tensor:
    """out = a @ b for torch tensors: models x rows x inner @ models x inner x columns (either may
    be shared: 2-d), one model and tile_rows rows (all rows, if the product is small) per BLAS
    call, so that a model's result never depends on the stack around it or on the workers.

    then(model, start, stop), when given, is the row-wise work that follows (bias, ReLU): where
    the tiles run in parallel it runs in each tile's task, on rows still in that core's cache;
    called inside a worker (see spread), or on a GPU, it runs once, then(all models, 0, rows). Its work is
    element-wise or per column, so the bytes are the same either way."""
    rows = a.shape[-2]
    if out.device.type != "cpu":  # two matrices: into out's one model (an out to resize is deprecated)
        torch.matmul(a, b, out=out if a.dim() == 3 or b.dim() == 3 else out[0])
        if then:
            then(slice(None), 0, rows)
        return out
    outer = a.shape[-1] == 1  # one multiplication per entry: no sum to order, no BLAS call
    left, right, result = (a, b, out) if outer else (a.numpy(), b.numpy(), out.numpy())

    # An outer product is element-wise: any split gives the same bytes, so split it for speed.
    large = rows * b.shape[-1] * (1 if outer else a.shape[-1]) >= (SMALL // 64 if outer else SMALL)
    step = tile_rows if large else rows

    def tile(piece):
        model, start = piece
        stop = min(start + step, rows)
        first = (left[model] if left.ndim == 3 else left)[start:stop]
        second = right[model] if right.ndim == 3 else right
        if outer:
            torch.mul(first, second, out=result[model, start:stop])
        else:
            np.matmul(first, second, out=result[model, start:stop])
        if then and tiled_then:
            then(model, start, stop)

    pieces = [(model, start) for model in range(len(result)) for start in range(0, rows, step)]
    tiled_then = spread(len(pieces))
    parallel_map(tile, pieces)
    if then and not tiled_then:
        then(slice(None), 0, rows)
    return out
