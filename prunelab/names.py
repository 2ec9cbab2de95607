"""The names of the pruning methods and regimes, importable without torch.

Checking params (stage check-params) needs only the names, and loading torch to learn them
cost about 4 s of every cold `dvc repro`. The records themselves are
`prunelab.pruning.METHODS` and `prunelab.regimes.REGIMES`; tests/prunelab/test_names.py keeps
these tuples equal to their keys, in order,
NEURON_METHODS to the records whose unit is neurons, and ARCHITECTURES and IMAGE_ARCHITECTURES
to prunelab.architectures' records (`module`, the user's own class, is none of them: it takes
any input shape).
"""

METHODS = ("global-magnitude", "layerwise-magnitude", "global-random", "layerwise-random", "structured", "lamp",
           "global-gradient", "layerwise-gradient", "erk-random")
# Those whose unit is whole neurons, not weights: no budget (prune.compressions, prune.speedups)
# applies to them, which check-params says before anything runs.
NEURON_METHODS = ("structured",)
REGIMES = ("one-shot", "fine-tune", "iterative", "lottery-ticket", "gradual", "lr-rewind", "lottery-one-shot")
# model.arch: the built-in architectures, then the user's own nn.Module (model.module).
ARCHITECTURES = ("mlp", "lenet5", "conv2", "conv4", "conv6", "module")
# Those that take images, (channels, height, width): an error on tabular data at check-params.
IMAGE_ARCHITECTURES = ("lenet5", "conv2", "conv4", "conv6")
