"""conv2, conv4, conv6: Frankle & Carbin 2019's Conv-2/4/6 (their Figure 2): blocks of two 3x3
convs (padding 1, "same") with a ReLU each, then a 2x2 max-pool, of 64, (Conv-4/6) 128,
(Conv-6) 256 filters; then fc1 256, fc2 256 (ReLU each), fc3 the output.

Weights (biases not counted), on 3x32x32 (CIFAR-10, their setting):
  Conv-2: convs 1,728 + 36,864; fc 16,384 x 256 + 65,536 + 2,560      = 4,300,992 (paper: 4.3M)
  Conv-4: convs 259,776; fc 8,192 x 256 + 65,536 + 2,560              = 2,425,024 (paper: 2.4M)
  Conv-6: convs 1,144,512; fc 4,096 x 256 + 65,536 + 2,560            = 2,261,184 (paper: 1.7M)
The paper's values are as the project's notes recall its table (not checked against its text
here). Conv-2 and Conv-4 agree; Conv-6's 1.7M is not what the layer list gives, and no reading
of "same" or "valid" padding found here gives it: these nets follow the layer list. On 1x28x28
the pools floor (28 -> 14 -> 7 -> 3): Conv-2 3,316,800, Conv-4 1,932,352, Conv-6 1,801,280.
"""
from collections import OrderedDict

from prunelab.architectures.record import Architecture


def family(blocks):
    """Conv-(2 * blocks)'s build function."""
    def make(input_shape, outputs):
        from torch import nn  # here: the record loads without torch
        from prunelab.architectures.base import dense_head
        channels, height, width = input_shape
        if min(height, width) < 2 ** blocks:
            raise ValueError(f"input {height}x{width}: Conv-{2 * blocks} needs at least {2 ** blocks}x{2 ** blocks}")
        parts, fan_in = OrderedDict(), channels
        for block, fan_out in enumerate([64, 128, 256][:blocks]):
            for index in (2 * block + 1, 2 * block + 2):
                parts[f"conv{index}"] = nn.Conv2d(fan_in, fan_out, 3, padding=1)
                parts[f"relu{index}"] = nn.ReLU()
                fan_in = fan_out
            parts[f"pool{block + 1}"] = nn.MaxPool2d(2)
        return dense_head(parts, fan_in * (height >> blocks) * (width >> blocks), [256, 256], outputs)
    return make


CONV2 = Architecture(family(1), "Frankle & Carbin 2019's Conv-2: 3x3 convs 64, 64, pool, FC 256, 256, out; "
                                "4,300,992 weights on 3x32x32 (3,316,800 on 1x28x28)", image=True)
CONV4 = Architecture(family(2), "Frankle & Carbin 2019's Conv-4: 64, 64, pool, 128, 128, pool, FC 256, 256, out; "
                                "2,425,024 weights on 3x32x32 (1,932,352 on 1x28x28)", image=True)
CONV6 = Architecture(family(3), "Frankle & Carbin 2019's Conv-6: 64, 64, pool, 128, 128, pool, 256, 256, pool, "
                                "FC 256, 256, out; 2,261,184 weights on 3x32x32 (1,801,280 on 1x28x28)", image=True)
