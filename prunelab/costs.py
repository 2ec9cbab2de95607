"""What a pruned model costs: counts, multiply-adds and bytes, all deterministic.

Counts are over ALL parameters the forward pass uses (biases included), from the nonzero
entries, since `parameters()` never shrinks under pruning. Measured latency is a benchmark's
job (bench/), not a DVC output's.
"""
import functools
import gzip

import torch

from prunelab.compute import parallel_map
from prunelab.stacks import size, unstack
from prunelab.model import layer_names, serialized
from prunelab.pruning import shrink


@functools.lru_cache(maxsize=None)
def _checkpoint_bytes(shapes):
    # A torch.save file's size depends on the tensors' shapes, not their values.
    return len(serialized({key: torch.zeros(shape) for key, shape in shapes}))


def checkpoint_bytes(state: dict[str, torch.Tensor]) -> int:
    return _checkpoint_bytes(tuple((key, tuple(value.shape)) for key, value in state.items()))


def csr_bytes(state: dict[str, torch.Tensor]) -> int:
    """Pruned weight matrices as CSR (float32 values, int32 column indices and row pointers),
    other parameters dense: the array bytes, without a file format's overhead."""
    total = 0
    for key, value in state.items():
        if key.endswith(".weight"):
            nonzero = int((value != 0).sum())
            total += 4 * nonzero + 4 * nonzero + 4 * (value.shape[0] + 1)
        else:
            total += 4 * value.numel()
    return total


def report(state: dict[str, torch.Tensor]) -> dict[str, float]:
    """The cost columns of one pruned model's row."""
    total = sum(value.numel() for value in state.values())
    nonzero = sum(int((value != 0).sum()) for value in state.values())
    row = {"sparsity": 1 - nonzero / total, "nonzero_params": nonzero, "total_params": total,
           "compression": total / nonzero if nonzero else float("inf")}
    dense_macs = macs = 0
    # Per layer, for every depth; a layer's nonzero weights are also its multiply-adds per sample.
    for layer in layer_names(state):
        weight = state[f"{layer}.weight"]
        kept = int((weight != 0).sum())
        row[f"{layer}_nonzero_weights"] = kept
        row[f"{layer}_sparsity"] = 1 - kept / weight.numel()
        row[f"{layer}_empty"] = int(kept == 0)  # global pruning can empty the output layer first
        dense_macs += weight.numel()
        macs += kept
    checkpoint = serialized(state)
    small = shrink(state)
    row.update({
        "macs": macs,
        "speedup": dense_macs / macs if macs else float("inf"),
        "hidden_width": sum(small[f"{layer}.weight"].shape[0] for layer in layer_names(small)[:-1]),
        "checkpoint_bytes": len(checkpoint),
        "gzip_bytes": len(gzip.compress(checkpoint, compresslevel=6, mtime=0)),
        "csr_bytes": csr_bytes(state),
        "small_checkpoint_bytes": checkpoint_bytes(small),
    })
    return row


def reports(weights: dict[str, torch.Tensor]) -> list[dict[str, float]]:
    """One cost row per model of a stack of (masked) weights, over the workers (zlib releases the GIL)."""
    return parallel_map(lambda index: report(unstack(weights, index)), range(size(weights)))
