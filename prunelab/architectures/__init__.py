"""Architectures: each a record (Architecture) in ARCHITECTURES that builds a plain torch module
from one sample's input shape, (features,) or (channels, height, width), and the number of
classes, with its options (mlp: hidden_sizes; lenet5: conv_relu).

What pruning needs is read from the built module's own structure, never from layer names: its
prunable layers are its Conv2d and Linear modules in definition order (input to output; the
last is the output layer), each with its tensors NAME.weight and NAME.bias (`layers`). A
structured unit of a layer (a conv filter, a hidden neuron) is one output channel with its
bias, plus the following prunable layer's input columns it feeds: one column (a conv's input
channel, a linear's input), or after a flatten (conv -> linear) the h * w columns of that
channel's spatial positions, which torch's flatten of (channels, h, w) lays out channel-major
(`units`). This assumes only per-channel operations (ReLU, max-pool, flatten) between a layer
and the next prunable one, as in every net here. `weight_counts` and `multiply_adds` (at an
input shape) per layer; `shrink` builds the smaller dense net without removed units.

Modules are created input to output, so torch.manual_seed(s) before building gives the
weights a plain module written the obvious way would get. Outputs follow prunelab.model.Net:
two classes get one output with a sigmoid, more get one logit per class (shapes.outputs_for),
so the training code's BCE / cross-entropy choice fits every net.

A new architecture is one file here (a build function and its record) and a line below, plus
its test; docs/architectures.md shows one. The records load without torch (each build
function imports it): the params check reads their names and shapes.
"""
from prunelab.architectures import frankle_carbin, lenet5, mlp
from prunelab.architectures.record import Architecture

ARCHITECTURES = {
    "mlp": mlp.ARCHITECTURE,
    "lenet5": lenet5.ARCHITECTURE,
    "conv2": frankle_carbin.CONV2,
    "conv4": frankle_carbin.CONV4,
    "conv6": frankle_carbin.CONV6,
}
# model.arch's names: the built-ins, then the user's own nn.Module (model.module), which takes any input shape.
NAMES = (*ARCHITECTURES, "module")

# What is read from a built module (base.py): loaded, with torch, when first used, so that the
# records above load without it (the params check reads them).
_FROM_BASE = ("Layer", "Units", "dense_head", "layers", "multiply_adds", "shrink", "units", "weight_counts")


def __getattr__(name):
    if name in _FROM_BASE:
        from prunelab.architectures import base
        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def named(arch: str, module: str = "") -> Architecture:
    """The record of a built-in (`arch`), or for arch "module" the class `module` names as
    "PATH.py:CLASS" (prunelab.architectures.module.from_file)."""
    if arch == "module":
        from prunelab.architectures import module as user_module
        path, _, name = module.rpartition(":")
        return user_module.from_file(path, name)
    if arch not in ARCHITECTURES:
        raise ValueError(f"architecture {arch!r}: expected one of {', '.join(ARCHITECTURES)} or module")
    return ARCHITECTURES[arch]


__all__ = ["ARCHITECTURES", "NAMES", "named", "Architecture", *_FROM_BASE]
