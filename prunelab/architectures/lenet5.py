"""lenet5: Han et al. 2015's LeNet-5, Caffe's examples/mnist/lenet: conv1 20@5x5 (no padding),
2x2 max-pool, conv2 50@5x5, 2x2 max-pool, fc1 500, ReLU, fc2 (the output).

On 1x28x28 (28 -> 24 -> 12 -> 8 -> 4): conv1 500 + 20, conv2 25,000 + 50, fc1 800 x 500 =
400,000 + 500, fc2 5,000 + 10 = 431,080 weights and biases (430,500 weights): Han et al.'s
431K (their Table 2: 0.5K, 25K, 400K, 5K). Multiply-adds 288,000 + 1,600,000 + 400,000 +
5,000 = 2,293,000.

ReLU: Caffe's lenet has one, after ip1 (here fc1), and none after the convs; Han et al.
pruned that model, so it is the default. `conv_relu: true` adds one after each conv, as many
reimplementations do. Caffe initialises with xavier; here torch's defaults (kaiming-uniform)
are kept, like every other net here. Caffe pools with ceil, which on 24 and 8 is floor.
"""
from collections import OrderedDict

from prunelab.architectures.record import Architecture
from prunelab.options import Option


def make(input_shape, outputs, conv_relu):
    from torch import nn  # here: the record loads without torch
    from prunelab.architectures.base import dense_head
    channels, height, width = input_shape
    parts, sizes = OrderedDict(), [height, width]
    for index, (fan_in, fan_out) in enumerate([(channels, 20), (20, 50)], start=1):
        parts[f"conv{index}"] = nn.Conv2d(fan_in, fan_out, 5)
        if conv_relu:
            parts[f"relu{index}"] = nn.ReLU()
        parts[f"pool{index}"] = nn.MaxPool2d(2)
        sizes = [(size - 4) // 2 for size in sizes]
    if min(sizes) < 1:
        raise ValueError(f"input {height}x{width}: LeNet-5 needs at least 16x16")
    return dense_head(parts, 50 * sizes[0] * sizes[1], [500], outputs)


ARCHITECTURE = Architecture(
    make, "Han et al. 2015's LeNet-5 (Caffe's lenet): conv 20@5x5, pool, conv 50@5x5, pool, FC 500, ReLU, FC out; "
          "431,080 weights and biases on 1x28x28", image=True,
    options={"conv_relu": Option(False, lambda v: isinstance(v, bool), "true or false",
                                 "a ReLU after each conv too (Caffe's lenet has none)", kind=bool)})
