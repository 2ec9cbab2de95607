"""The latency tool: what every level of the sweep costs when it runs, measured on this machine.

    dvc repro                                   # first: it reads data/models.pt and data/test.npz
    python -m latency                           # CSV, crossovers, figure, machine -> latency-results/
    python -m latency --out docs/results/X      # a folder to keep
    python -m latency --regimes one-shot lottery-ticket gradual   # those regimes' masks too

Not a stage: timings depend on the machine, so they never enter dvc.lock or the committed
metrics. It reruns the sweep's regimes (`--regimes`, default one-shot, whose masks fine-tune
and the one-shot ticket share) from the checkpoints with prune-sweep's own functions, for the
first seed alone (its models are those of the whole sweep's first seed), and times the models
with prunelab/latency.py; a regime that prunes in rounds gives a row per round. __main__.py is the command line, figure.py draws.
"""
