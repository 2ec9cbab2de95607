"""module: a user's own nn.Module, from a Python file, as an Architecture record.

The file defines a class whose constructor takes `(input_shape, classes)` (one sample's shape:
`(features,)` for tabular data, `(channels, height, width)` for images; the number of classes)
and whose forward returns one logit per class, (samples, classes), two classes included (the
loss is then cross-entropy; prunelab's own nets give two classes one sigmoid output instead).
Its prunable layers are found as for every net here: its Conv2d and Linear modules in
definition order, the last the output layer (prunelab.architectures.base.layers).

`from_file(path, name)` loads the class and gives the record; `check(architecture, input_shape,
classes)` builds it once and says in one line what is wrong (the constructor, no prunable
layer, the output's shape), as prunelab.InputError. Where a file may lie is the caller's rule
(the pipeline: under models/).
"""
import importlib.util
import inspect
from pathlib import Path

import torch
from torch import nn

from prunelab import InputError
from prunelab.architectures.base import layers
from prunelab.architectures.record import Architecture


def load_class(path: str | Path, name: str) -> type:
    """The class `name` defined or imported in the Python file at `path`."""
    path = Path(path)
    where = f"{path}:{name}"
    if not path.is_file():
        raise InputError(f"{where}: no such file")
    spec = importlib.util.spec_from_file_location(f"prunelab_user_module_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the user's code: any error it raises is theirs to read, in one line
        raise InputError(f"{path} does not import: {type(error).__name__}: {error}".splitlines()[0]) from None
    found = getattr(module, name, None)
    if found is None:
        classes = sorted(key for key, value in vars(module).items()
                         if inspect.isclass(value) and issubclass(value, nn.Module) and value.__module__ == module.__name__)
        raise InputError(f"{where}: {path.name} has no {name}; its nn.Module classes: {', '.join(classes) or 'none'}")
    if not (inspect.isclass(found) and issubclass(found, nn.Module)):
        raise InputError(f"{where}: {name} is not an nn.Module class")
    return found


def from_file(path: str | Path, name: str) -> Architecture:
    """The record of class `name` in the file at `path`: built as name(input_shape, classes)."""
    cls = load_class(path, name)

    def make(input_shape, outputs):
        try:
            return cls(tuple(input_shape), outputs)
        except Exception as error:
            raise InputError(f"{path}:{name}({tuple(input_shape)}, {outputs}) failed: {type(error).__name__}: "
                             f"{error} (the constructor takes (input_shape, classes))".splitlines()[0]) from None

    return Architecture(make, f"{name} from {path}", image=None, outputs=lambda classes: classes)


def check(architecture: Architecture, input_shape: tuple, classes: int) -> nn.Module:
    """Build the module once and run one zero sample: it must have a prunable layer and give
    (1, the record's outputs for `classes`). Returns the module (seeded by the caller, if at
    all). A built-in's refusal of the shape (LeNet-5 on 8x8) is an InputError too."""
    where = architecture.about.split(":")[0]
    try:
        module = architecture.build(tuple(input_shape), classes)
    except InputError:
        raise
    except ValueError as error:
        raise InputError(f"{where}: {error}") from None
    outputs = architecture.outputs(classes)
    if not isinstance(module, nn.Module):
        raise InputError(f"{where}: the constructor gave a {type(module).__name__}, not an nn.Module")
    if not layers(module):
        raise InputError(f"{where}: no prunable layer (no nn.Conv2d or nn.Linear among its modules)")
    try:
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            output = module(torch.zeros(1, *input_shape))
    except Exception as error:
        raise InputError(f"{where}: forward on one sample of shape {tuple(input_shape)} failed: "
                         f"{type(error).__name__}: {error}".splitlines()[0]) from None
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (1, outputs):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise InputError(f"{where}: forward on one sample gave {shape}; expected (1, {outputs}): one logit per class")
    return module

