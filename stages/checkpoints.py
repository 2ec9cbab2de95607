"""Checkpoints and data splits as tensors: the pipeline's torch artifacts, checked on load.

data/models.pt of an architecture other than the MLP also says what it is: `architecture`, the
UTF-8 bytes of a JSON object (arch, module, input_shape, classes, and options when the record
has any: model.conv_relu), from which every later stage rebuilds the module (load_models); the
MLP's file is as it always was (Net's keys say it all).
"""
import functools
import json
import pickle
import zipfile
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from prunelab import architectures, net_stacks, stacks
# Loaded by the records when a net is built (model.arch module's loader, and what is read from a
# built module): imported here so that every stage that loads a checkpoint depends on them in dvc.yaml.
from prunelab.architectures import base, module  # noqa: F401
from prunelab.model import as_tensors, layer_names, serialized
from prunelab import InputError
from stages import UserError, paths
from stages.artifacts import REBUILD, load_sample_shape, load_split, write_bytes


def load_splits():
    """((x, y) of the train split, (x, y) of the test split) as tensors, with equal feature counts."""
    x_train, y_train = as_tensors(*load_split(paths.TRAIN_SPLIT))
    x_test, y_test = as_tensors(*load_split(paths.TEST_SPLIT))
    if x_test.shape[1:] != x_train.shape[1:]:
        raise UserError(f"{paths.TEST_SPLIT}: x has shape {tuple(x_test.shape)}; expected "
                        f"{x_train.shape[1]} features as in {paths.TRAIN_SPLIT}; {REBUILD}")
    return (x_train, y_train), (x_test, y_test)


def device_for(name):
    """The torch device train.device names, checked before anything is written."""
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("train.device: cuda, but torch finds no CUDA GPU on this machine "
                        f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); expected cpu here")
    return torch.device(name)


def save_checkpoint(path, state):
    """A plain state_dict (Net's keys: fc1.weight, fc1.bias, fc2.weight, ...) to path."""
    write_bytes(path, serialized(state))


def sample_shape():
    """One sample's shape in the splits: (features,), or an image's (channels, height, width)."""
    return load_sample_shape(paths.TRAIN_SPLIT, load_split(paths.TRAIN_SPLIT)[0].shape[1])


def save_stack(path, weights, seeds, architecture=None):
    """Every trained model in one file: the stacked state_dicts and each model's torch seed (and
    for another architecture than the MLP its description: a dict as Models.about)."""
    about = {"architecture": torch.tensor(list(json.dumps(architecture, sort_keys=True).encode()), dtype=torch.uint8)}
    write_bytes(path, serialized({"seeds": torch.tensor(seeds, dtype=torch.int64),
                                  **(about if architecture else {}), **weights}))


@dataclass
class Models:
    """Stage train's models: the stack, their torch seeds, and the architecture's module (None:
    the MLP, whose stacks run prunelab/stacks.py's fast path) at one sample's input shape."""
    weights: dict
    seeds: list
    template: nn.Module | None
    input_shape: tuple
    arch: str = "mlp"                 # model.arch it was trained as
    build: Callable | None = None     # a fresh module of the architecture, from torch's stream

    def evaluate(self, weights, x, y):
        """(accuracies, losses) of every model of a stack on rows x (flat, as the splits hold them)."""
        if self.template is None:
            return stacks.evaluate(weights, x, y)
        return net_stacks.evaluate(self.template, weights, x.view(len(x), *self.input_shape), y)

    def inputs(self, x):
        """x as the architecture takes it: the MLP rows, another a sample's shape."""
        return x if self.template is None else x.view(len(x), *self.input_shape)


def load_models(path, input_shape):
    """Models from save_stack's file, checked against the data's sample shape."""
    expected = f"the stacked models of stage train; {REBUILD}"
    try:
        state = torch.load(path, weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; expected {expected}") from None
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: unreadable ({type(err).__name__}); expected {expected}") from None
    if not isinstance(state, dict) or "architecture" not in state:
        features = int(torch.tensor(input_shape).prod())  # the MLP reads an image's pixels as features
        weights, seeds = _mlp_stack(path, state, features)
        return Models(weights, seeds, None, (features,))
    state = dict(state)
    try:
        about = json.loads(bytes(state.pop("architecture").tolist()).decode())
        record = architectures.named(about["arch"], about["module"]).configured(**about.get("options", {}))
        build = functools.partial(record.build, tuple(about["input_shape"]), about["classes"])
        with torch.random.fork_rng(devices=[]):  # a template's values are never used: leave the stream alone
            template = build()
    except InputError:  # the user's module file, changed since train ran: its own one line
        raise
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
        raise UserError(f"{path}: its architecture is unreadable; expected {expected}") from None
    if tuple(about["input_shape"]) != tuple(input_shape):
        raise UserError(f"{path}: trained on samples of shape {tuple(about['input_shape'])}, the data's are "
                        f"{tuple(input_shape)}; {REBUILD}")
    seeds = state.pop("seeds", None)
    if not isinstance(seeds, torch.Tensor) or seeds.dtype != torch.int64 or seeds.dim() != 1:
        raise UserError(f"{path}: seeds is missing or not an int64 tensor; expected {expected}")
    shapes = {name: (len(seeds), *value.shape) for name, value in template.named_parameters()}
    found = {name: tuple(value.shape) for name, value in state.items() if isinstance(value, torch.Tensor)}
    if found != shapes or not all(value.is_floating_point() for value in state.values()):
        raise UserError(f"{path}: tensors {found} are not {about['arch']}'s {shapes}; {REBUILD}")
    return Models(state, seeds.tolist(), template, tuple(input_shape), about["arch"], build)


def load_stack(path, input_size):
    """(stacked weights, seeds) of the MLP from save_stack's file, checked against the data's width."""
    models = load_models(path, (input_size,))
    if models.template is not None:
        raise UserError(f"{path}: holds another architecture than mlp; expected the MLP's models")
    return models.weights, models.seeds


def _mlp_stack(path, state, input_size):
    expected = f"the stacked models of stage train: seeds and fc1.weight, fc1.bias, fc2.weight, ...; {REBUILD}"
    if not isinstance(state, dict) or "seeds" not in state:
        raise UserError(f"{path}: wrong keys; expected {expected}")
    seeds = state.pop("seeds")
    layers = layer_names(state)
    if not layers or sorted(state) != sorted(f"fc{index}.{kind}" for index in range(1, len(layers) + 1)
                                             for kind in ("weight", "bias")):
        raise UserError(f"{path}: wrong keys; expected {expected}")
    if not isinstance(seeds, torch.Tensor) or seeds.dtype != torch.int64:
        raise UserError(f"{path}: seeds is not an int64 tensor; expected {expected}")
    if not all(isinstance(value, torch.Tensor) and value.is_floating_point() for value in state.values()):
        raise UserError(f"{path}: a value is not a float tensor; expected {expected}")
    if not _shapes_chain(state, layers, len(seeds), input_size):
        found = {key: tuple(value.shape) for key, value in state.items()}
        raise UserError(f"{path}: shapes {found} do not fit {len(seeds)} seeds and {input_size} input features; "
                        f"{REBUILD}")
    return state, seeds.tolist()


def _shapes_chain(state, layers, models, input_size):
    """Each layer takes the previous one's outputs (the first, the data's features), per model."""
    fan_in = input_size
    for layer in layers:
        weight, bias = state[f"{layer}.weight"], state[f"{layer}.bias"]
        if weight.dim() != 3 or tuple(weight.shape[::2]) != (models, fan_in) or tuple(bias.shape) != weight.shape[:2]:
            return False
        fan_in = weight.shape[1]
    return models > 0
