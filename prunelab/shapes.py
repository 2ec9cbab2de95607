"""The MLP's shape from its data, without torch: what checking params needs before training.

Two classes keep the seed's single sigmoid output; more get one output (a logit) per class.
"""


def outputs_for(classes: int) -> int:
    """The output layer's width for a number of classes."""
    return 1 if classes == 2 else classes


def weight_count(widths: list[int]) -> tuple[int, int]:
    """(weights, biases) of the Linear layers between consecutive widths, input to output."""
    return sum(a * b for a, b in zip(widths, widths[1:])), sum(widths[1:])
