"""Checkpoints and data splits as tensors: the pipeline's torch artifacts, checked on load."""
import pickle
import zipfile

import torch

from prunelab.model import as_tensors, layer_names, serialized
from stages import UserError, paths
from stages.artifacts import REBUILD, load_split, write_bytes


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


def save_stack(path, weights, seeds):
    """Every trained model in one file: the stacked state_dicts and each model's torch seed."""
    write_bytes(path, serialized({"seeds": torch.tensor(seeds, dtype=torch.int64), **weights}))


def load_stack(path, input_size):
    """(stacked weights, seeds) from save_stack's file, checked against the data's width."""
    expected = f"the stacked models of stage train: seeds and fc1.weight, fc1.bias, fc2.weight, ...; {REBUILD}"
    try:
        state = torch.load(path, weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{path}: missing; expected {expected}") from None
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        raise UserError(f"{path}: unreadable ({type(err).__name__}); expected {expected}") from None
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
