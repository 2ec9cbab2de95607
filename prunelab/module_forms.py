"""Deployable forms of any architecture's pruned module (conv nets included), each a function of
a batch (samples x one sample's shape) to the outputs the masked dense module gives; what
prunelab/latency.py times. The MLP's own forms are latency.py's.

- dense: the masked module as torch runs it (every zero still multiplied);
- scipy-csr: every conv and linear weight as a scipy.sparse CSR array, a convolution as unfold
  (im2col) and one CSR product over every sample's positions, so only the weights kept are
  multiplied; the rest of the forward (pooling, ReLU, flatten) is the module's own;
- shrunk: the smaller dense module (prunelab.architectures.shrink) without the units that
  contribute exactly nothing: a filter or neuron whose every outgoing weight (the following
  layer's columns it feeds) is zero. Removing one removes its own incoming weights, which can
  leave a unit before it with no outgoing weight, so it repeats until none is. (A unit with no
  incoming weight still passes its bias on, through whatever follows, so it stays.)
"""
import copy
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from prunelab.architectures import shrink, units

FORMS = ("dense", "scipy-csr", "shrunk")
Forward = Callable[[torch.Tensor], torch.Tensor]


class _CsrConv2d(nn.Conv2d):
    def forward(self, x):
        samples, _, height, width = x.shape
        k_h, k_w = self.kernel_size
        padding = tuple(self._reversed_padding_repeated_twice[::-2])
        columns = functional.unfold(x, (k_h, k_w), self.dilation, padding, self.stride)  # n x K x L
        positions = columns.shape[2]
        flat = columns.transpose(0, 1).reshape(columns.shape[1], -1).numpy()  # K x (n * L)
        out = torch.from_numpy(np.ascontiguousarray(self.csr @ flat))          # filters x (n * L)
        out += self.bias.detach().view(-1, 1)
        out_h = (height + 2 * padding[0] - self.dilation[0] * (k_h - 1) - 1) // self.stride[0] + 1
        return out.view(-1, samples, positions).transpose(0, 1).reshape(samples, -1, out_h, positions // out_h)


class _CsrLinear(nn.Linear):
    def forward(self, x):
        # Features x samples: CSR (outputs x inputs) times a dense block is scipy's fast product.
        out = self.csr @ np.ascontiguousarray(x.detach().numpy().T)
        return torch.from_numpy(np.ascontiguousarray(out.T)) + self.bias.detach()


def _masked(module: nn.Module, state: dict) -> nn.Module:
    module = copy.deepcopy(module)
    module.load_state_dict({key: value.detach().float().contiguous() for key, value in state.items()})
    return module.eval()


def _scipy_csr(module: nn.Module) -> nn.Module:
    import scipy.sparse  # only where this form is built
    module = copy.deepcopy(module)
    for part in module.modules():
        if type(part) is nn.Conv2d:
            if part.groups != 1 or part.padding_mode != "zeros":
                raise ValueError("scipy-csr: a convolution of one group with zero padding only")
            part.__class__ = _CsrConv2d
        elif type(part) is nn.Linear:
            part.__class__ = _CsrLinear
        else:
            continue
        part.csr = scipy.sparse.csr_array(part.weight.detach().reshape(part.weight.shape[0], -1).numpy())
    return module


def live_units(module: nn.Module, state: dict) -> dict[str, torch.Tensor]:
    """Per layer but the output, its units with a nonzero outgoing weight after the dead ones
    downstream are gone (booleans; shrink's `keep`)."""
    groups = units(module)
    keep = {group.layer: torch.ones(group.count, dtype=torch.bool) for group in groups}
    following_of = {group.layer: group for group in groups}
    changed = True
    while changed:
        changed = False
        for group in reversed(groups):
            weight = state[f"{group.following}.weight"]
            rows = keep[group.following] if group.following in following_of else torch.ones(weight.shape[0], dtype=torch.bool)
            outgoing = weight[rows].transpose(0, 1).reshape(group.count, group.span, -1)  # unit x span x rest
            live = (outgoing != 0).flatten(1).any(dim=1) & keep[group.layer]
            if not torch.equal(live, keep[group.layer]):
                keep[group.layer], changed = live, True
    for name, kept in keep.items():
        if not kept.any():
            kept[0] = True  # a layer keeps one unit: shrink builds no layer of width 0
    return keep


def deployable(module: nn.Module, state: dict, form: str) -> Forward:
    """The pruned module (a template of its architecture and a plain, masked state_dict) in one
    of FORMS, built once, ready to time."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}: expected one of {', '.join(FORMS)}")
    masked = _masked(module, state)
    if form == "dense":
        return masked
    if form == "scipy-csr":
        return _scipy_csr(masked)
    small, _ = shrink(masked, masked.state_dict(), live_units(masked, masked.state_dict()))
    return small.eval()
