"""What a pruned model costs: counts, multiply-adds and bytes, all deterministic.

Counts are over ALL parameters the forward pass uses (biases included), from the nonzero
entries, since `parameters()` never shrinks under pruning. Measured latency is a benchmark's
job (bench/), not a DVC output's.
"""
import functools
import gzip

import torch

from prunelab.architectures import layers, multiply_adds, units
from prunelab.compute import parallel_map
from prunelab.module_forms import live_units
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


def net_report(template: torch.nn.Module, input_shape: tuple, state: dict[str, torch.Tensor],
               positions: dict[str, int] | None = None) -> dict[str, float]:
    """report's columns for a module of any architecture (prunelab.architectures; `template` its
    structure) at one sample's input shape: multiply-adds per layer from the module's own
    forward (a conv weight costs its output positions), the shrunk net from its structured
    units (prunelab.module_forms.live_units) where its structure has them; a user's module
    whose layers do not chain unit to unit has no hidden_width nor small_checkpoint_bytes."""
    total = sum(value.numel() for value in state.values())
    nonzero = sum(int((value != 0).sum()) for value in state.values())
    row = {"sparsity": 1 - nonzero / total, "nonzero_params": nonzero, "total_params": total,
           "compression": total / nonzero if nonzero else float("inf")}
    names = [layer.name for layer in layers(template)]
    for layer in names:
        weight = state[f"{layer}.weight"]
        kept = int((weight != 0).sum())
        row[f"{layer}_nonzero_weights"] = kept
        row[f"{layer}_sparsity"] = 1 - kept / weight.numel()
        row[f"{layer}_empty"] = int(kept == 0)
    positions = positions or output_positions(template, input_shape)
    dense_macs = sum(positions[layer] * state[f"{layer}.weight"].numel() for layer in names)
    macs = sum(positions[layer] * row[f"{layer}_nonzero_weights"] for layer in names)
    checkpoint = serialized(state)
    row.update({"macs": macs, "speedup": dense_macs / macs if macs else float("inf")})
    try:
        keep = live_units(template, state)
    except ValueError:  # no unit structure (a user's module): nothing to shrink
        keep = None
    if keep is not None:
        row["hidden_width"] = sum(int(kept.sum()) for kept in keep.values())
    row.update({"checkpoint_bytes": len(checkpoint),
                "gzip_bytes": len(gzip.compress(checkpoint, compresslevel=6, mtime=0)),
                "csr_bytes": csr_bytes(state)})
    if keep is not None:  # its file's size follows from the shapes alone (no module built)
        shapes = {key: list(value.shape) for key, value in state.items()}
        for group in units(template):
            count = int(keep[group.layer].sum())
            shapes[f"{group.layer}.weight"][0] = shapes[f"{group.layer}.bias"][0] = count
            shapes[f"{group.following}.weight"][1] = count * group.span
        row["small_checkpoint_bytes"] = _checkpoint_bytes(tuple((key, tuple(shape)) for key, shape in shapes.items()))
    return row


def output_positions(template: torch.nn.Module, input_shape: tuple) -> dict[str, int]:
    """Per prunable layer, the output positions one weight is used at per sample (a conv's out_h
    * out_w, a linear's 1): its multiply-adds per weight kept."""
    dense = multiply_adds(template, input_shape)
    return {layer: dense[layer] // template.get_submodule(layer).weight.numel() for layer in dense}


def reports(weights: dict[str, torch.Tensor], template: torch.nn.Module | None = None,
            input_shape: tuple = ()) -> list[dict[str, float]]:
    """One cost row per model of a stack of (masked) weights, over the workers (zlib releases
    the GIL): the MLP's (report), or with a template another architecture's (net_report)."""
    positions = output_positions(template, input_shape) if template is not None else None  # one forward, here

    def one(index):
        state = unstack(weights, index)
        return report(state) if template is None else net_report(template, input_shape, state, positions)
    return parallel_map(one, range(size(weights)))
