"""mlp: today's prunelab.model.Net (layers fc1, fc2, ...), built from (features,)."""
from prunelab.architectures.record import Architecture
from prunelab.options import Option


def make(input_shape, outputs, hidden_sizes):
    from prunelab.model import Net  # here: the record loads without torch
    return Net(input_shape[0], list(hidden_sizes), outputs)


ARCHITECTURE = Architecture(
    make, "prunelab.model.Net: Linear -> ReLU -> ... -> Linear, layers fc1, fc2, ...", image=False,
    options={"hidden_sizes": Option((256,), lambda v: len(v) >= 1 and all(w >= 1 for w in v),
                                    "one or more positive widths", "hidden layer widths, input to output",
                                    kind=tuple)})
