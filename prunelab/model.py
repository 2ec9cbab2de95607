"""The seed's network, its tensors, and its checkpoint bytes."""
import io

import torch
from torch import nn


CHECKPOINT_KEYS = ("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias")


class Net(nn.Module):
    """The seed's MLP: Linear -> ReLU -> Linear -> Sigmoid."""

    def __init__(self, input_size, hidden_size, output_size=1):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_size, output_size)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc2(self.relu(self.fc1(x))))


def use_one_thread():
    # Float sums can differ with the thread count; one thread makes results independent of
    # the machine's core count, and at this size threads only add overhead.
    torch.set_num_threads(1)


def as_tensors(x, y):
    """Features and labels as the seed converts them: float32, labels as a column."""
    return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32).view(-1, 1)


def serialized(tensors):
    """torch.save bytes of a dict of tensors. In memory: torch.save embeds the file name, so
    saving straight to a temporary name would make the bytes depend on it."""
    buffer = io.BytesIO()
    torch.save({key: value.detach().clone() for key, value in tensors.items()}, buffer)
    return buffer.getvalue()
