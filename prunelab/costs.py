"""What a pruned model costs: counts, multiply-adds and bytes, all deterministic.

Counts are over ALL parameters the forward pass uses (biases included), from the nonzero
entries, since `parameters()` never shrinks under pruning. Measured latency is a benchmark's
job (bench/), not a DVC output's.
"""
import functools
import gzip

import torch

from prunelab.ensemble import unstack
from prunelab.model import serialized
from prunelab.pruning import PRUNED_LAYERS, live_neurons, shrink


@functools.lru_cache(maxsize=None)
def _checkpoint_bytes(shapes):
    # A torch.save file's size depends on the tensors' shapes, not their values.
    return len(serialized({key: torch.zeros(shape) for key, shape in shapes}))


def checkpoint_bytes(state):
    return _checkpoint_bytes(tuple((key, tuple(value.shape)) for key, value in state.items()))


def csr_bytes(state):
    """Pruned weight matrices as CSR (float32 values, int32 column indices and row pointers),
    other parameters dense: the array bytes, without a file format's overhead."""
    total = 0
    for key, value in state.items():
        if key.split(".")[0] in PRUNED_LAYERS and key.endswith(".weight"):
            nonzero = int((value != 0).sum())
            total += 4 * nonzero + 4 * nonzero + 4 * (value.shape[0] + 1)
        else:
            total += 4 * value.numel()
    return total


def report(state):
    """The cost columns of one pruned model's row."""
    total = sum(value.numel() for value in state.values())
    nonzero = sum(int((value != 0).sum()) for value in state.values())
    row = {"sparsity": 1 - nonzero / total, "nonzero_params": nonzero, "total_params": total,
           "compression": total / nonzero if nonzero else float("inf")}
    dense_macs = macs = 0
    for layer in PRUNED_LAYERS:
        weight = state[f"{layer}.weight"]
        kept = int((weight != 0).sum())
        row[f"{layer}_nonzero_weights"] = kept
        row[f"{layer}_sparsity"] = 1 - kept / weight.numel()
        row[f"{layer}_empty"] = int(kept == 0)  # global pruning can empty fc2 before fc1
        dense_macs += weight.numel()
        macs += kept
    checkpoint = serialized(state)
    small = shrink(state)
    row.update({
        "macs": macs,
        "speedup": dense_macs / macs if macs else float("inf"),
        "hidden_width": int(live_neurons(state).sum()),
        "checkpoint_bytes": len(checkpoint),
        "gzip_bytes": len(gzip.compress(checkpoint, compresslevel=6, mtime=0)),
        "csr_bytes": csr_bytes(state),
        "small_checkpoint_bytes": checkpoint_bytes(small),
    })
    return row


def reports(weights):
    """One cost row per model of a stack of (masked) weights."""
    return [report(unstack(weights, index)) for index in range(len(weights["fc1.weight"]))]
