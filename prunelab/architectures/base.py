"""What is read from a built module's structure (see __init__); the record is in record.py."""
import copy
from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn



@dataclass(frozen=True)
class Layer:
    name: str  # its module's path in the built module: tensors NAME.weight, NAME.bias
    kind: str  # "conv", "linear" or "output" (the last prunable layer, whatever its type)


@dataclass(frozen=True)
class Units:
    """A layer's structured units: unit j is `layer`'s output channel (or neuron) j, its bias j,
    and `following`'s input columns j * span .. (j + 1) * span - 1."""
    layer: str
    count: int
    following: str
    span: int  # 1, or at a conv -> linear boundary the spatial positions (h * w) of one channel

    def columns(self, unit: int) -> range:
        return range(unit * self.span, (unit + 1) * self.span)

    def keep(self, masks: dict, kept: torch.Tensor) -> dict:
        """Masks (state keys -> 0/1 tensors) times the units `kept` (count booleans): a new dict."""
        kept = kept.to(torch.float32)
        masks = dict(masks)
        weight, bias, following = f"{self.layer}.weight", f"{self.layer}.bias", f"{self.following}.weight"
        masks[weight] = masks[weight] * kept.view(-1, *[1] * (masks[weight].dim() - 1))
        masks[bias] = masks[bias] * kept
        columns = kept.repeat_interleave(self.span)
        masks[following] = masks[following] * columns.view(1, -1, *[1] * (masks[following].dim() - 2))
        return masks


def layers(module: nn.Module) -> list[Layer]:
    """The prunable layers, input to output: the Conv2d and Linear modules in definition order."""
    found = [(name, "conv" if isinstance(part, nn.Conv2d) else "linear")
             for name, part in module.named_modules() if isinstance(part, (nn.Conv2d, nn.Linear))]
    return [Layer(name, "output" if index == len(found) - 1 else kind) for index, (name, kind) in enumerate(found)]


def units(module: nn.Module) -> list[Units]:
    """Every layer's structured units but the output layer's (its outputs are the classes)."""
    found = layers(module)
    result = []
    for layer, following in zip(found, found[1:]):
        count = module.get_submodule(layer.name).weight.shape[0]
        fed = module.get_submodule(following.name).weight.shape[1]
        span, rest = divmod(fed, count)
        if rest or (following.kind == "conv" and span != 1):
            raise ValueError(f"{following.name} takes {fed} inputs; {layer.name} has {count} outputs")
        result.append(Units(layer.name, count, following.name, span))
    return result


def weight_counts(module: nn.Module) -> dict[str, tuple[int, int]]:
    """(weights, biases) of each prunable layer."""
    return {layer.name: (module.get_submodule(layer.name).weight.numel(),
                         module.get_submodule(layer.name).bias.numel()) for layer in layers(module)}


def multiply_adds(module: nn.Module, input_shape: tuple, masks: dict | None = None) -> dict[str, int]:
    """Multiply-adds of one sample per prunable layer: a conv out_h * out_w * k_h * k_w * c_in
    (per group) per output channel, times c_out; a linear in * out. Biases not counted. With
    masks (NAME.weight -> 0/1 tensor; layers without one dense), each weight kept costs its
    layer's output positions (out_h * out_w; 1 for a linear layer) and a removed one nothing,
    what a sparse kernel that skips zeros computes."""
    found, counted, hooks = layers(module), {}, []

    def count(name):
        def hook(part, inputs, output):
            positions = output.shape[2] * output.shape[3] if isinstance(part, nn.Conv2d) else 1
            mask = (masks or {}).get(f"{name}.weight")
            counted[name] = positions * (int(torch.count_nonzero(mask)) if mask is not None else part.weight.numel())
        return hook
    for layer in found:
        hooks.append(module.get_submodule(layer.name).register_forward_hook(count(layer.name)))
    try:
        with torch.no_grad():
            module(torch.zeros(1, *input_shape))
    finally:
        for hook in hooks:
            hook.remove()
    return {layer.name: counted[layer.name] for layer in found}


def shrink(module: nn.Module, state: dict, keep: dict) -> tuple[nn.Module, dict]:
    """The smaller dense module without the units removed, and its state_dict: `keep` maps a
    layer (of `units`) to its units' booleans. Its outputs equal `state` masked by those units'
    masks (a removed unit contributes exactly zero; the sums run in another order, so equal
    to rounding)."""
    small, state = copy.deepcopy(module), {key: value.clone() for key, value in state.items()}
    for group in units(module):
        if group.layer not in keep:
            continue
        kept = keep[group.layer].to(torch.bool)
        columns = kept.repeat_interleave(group.span)
        for key in (f"{group.layer}.weight", f"{group.layer}.bias"):
            state[key] = state[key][kept]
        state[f"{group.following}.weight"] = state[f"{group.following}.weight"][:, columns]
    with torch.random.fork_rng(devices=[]):  # the new layers' throwaway init leaves the caller's stream as it was
        for layer in layers(module):
            old, weight = module.get_submodule(layer.name), state[f"{layer.name}.weight"]
            if isinstance(old, nn.Conv2d):
                new = nn.Conv2d(weight.shape[1], weight.shape[0], old.kernel_size, old.stride, old.padding,
                                old.dilation, padding_mode=old.padding_mode)
            else:
                new = nn.Linear(weight.shape[1], weight.shape[0])
            parent, _, child = layer.name.rpartition(".")
            setattr(small.get_submodule(parent), child, new)
    small.load_state_dict(state)
    return small, state


def dense_head(parts: OrderedDict, features: int, widths: list, outputs: int) -> nn.Sequential:
    """`parts` (the conv layers ...), then a flatten and the fully connected layers fc1, fc2, ...
    with a ReLU after each hidden one, and Net's sigmoid for one output: one nn.Sequential."""
    parts["flatten"] = nn.Flatten()
    for index, (fan_in, fan_out) in enumerate(zip([features, *widths], [*widths, outputs]), start=1):
        parts[f"fc{index}"] = nn.Linear(fan_in, fan_out)
        if index <= len(widths):
            parts[f"relu_fc{index}"] = nn.ReLU()
    if outputs == 1:
        parts["sigmoid"] = nn.Sigmoid()
    return nn.Sequential(parts)
