"""The MLP (the seed's Net at its default size), its tensors, and its checkpoint bytes.

Layers are named fc1, fc2, ... from input to output, so a plain state_dict of the seed's
one-hidden-layer Net (fc1.weight, fc1.bias, fc2.weight, fc2.bias) loads into Net(n, [256]).
"""
import io
from typing import Mapping

import numpy as np
import torch
from torch import nn


def layer_names(state: Mapping[str, torch.Tensor]) -> list[str]:
    """The prunable layers of a state_dict (or stack, or masks), input to output: each NAME that
    has a NAME.weight, in the state's own order. torch orders a state_dict by the modules'
    definition, which is the order prunelab.architectures.layers reads from a built module, so
    no layer's name is parsed: Net's fc1, fc2, ... (fc10 after fc9), a conv net's conv1, ...,
    fc1, a user's features.0, head."""
    return [key.removesuffix(".weight") for key in state if key.endswith(".weight")]


class Net(nn.Module):
    """Linear -> ReLU -> ... -> Linear, then Sigmoid for one output (the seed's Net with hidden
    [256]); with one output per class it returns the logits (softmax is in the loss)."""

    def __init__(self, input_size, hidden_sizes, output_size=1):
        super().__init__()
        widths = [input_size, *([hidden_sizes] if isinstance(hidden_sizes, int) else hidden_sizes), output_size]
        # Created in order, so torch's random stream initialises fc1 first, as the seed's Net does.
        for index, (fan_in, fan_out) in enumerate(zip(widths, widths[1:]), start=1):
            setattr(self, f"fc{index}", nn.Linear(fan_in, fan_out))
        self.layers = len(widths) - 1
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for index in range(1, self.layers):
            x = self.relu(getattr(self, f"fc{index}")(x))
        x = getattr(self, f"fc{self.layers}")(x)
        return self.sigmoid(x) if x.shape[-1] == 1 else x


def as_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Features and labels as the seed converts them: float32, labels as a column (class numbers
    for more than two classes, read back with .long())."""
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).view(-1, 1)


def serialized(tensors: Mapping[str, torch.Tensor]) -> bytes:
    """torch.save bytes of a dict of tensors. In memory: torch.save embeds the file name, so
    saving straight to a temporary name would make the bytes depend on it."""
    buffer = io.BytesIO()
    torch.save({key: value.detach().clone() for key, value in tensors.items()}, buffer)
    return buffer.getvalue()
