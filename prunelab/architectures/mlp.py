"""mlp: today's prunelab.model.Net (layers fc1, fc2, ...), built from (features,)."""
from prunelab.architectures.record import Architecture
from prunelab.options import Option


def make(input_shape, outputs, hidden_sizes):
    from prunelab.model import Net  # here: the record loads without torch
    return Net(input_shape[0], list(hidden_sizes), outputs)


ARCHITECTURE = Architecture(
    make, "prunelab.model.Net: Linear -> ReLU -> ... -> Linear, layers fc1, fc2, ...", image=False,
    options={"hidden_sizes": Option(
        (256,), lambda width: 1 <= width <= 10**5, "a non-empty list of integers in [1, 10**5]",
        "widths of the hidden layers, input to output ([256]: the seed's Net; [300, 100]: LeNet-300-100's shape)",
        kind=tuple, shown="[256]", item_expected="an integer in [1, 10**5]")})
