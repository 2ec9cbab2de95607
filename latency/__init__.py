"""The latency tool: what every level of the sweep costs when it runs, measured on this machine.

    dvc repro                                   # first: it reads data/models.pt and data/test.npz
    python -m latency                           # CSV, crossovers, figure, machine -> latency-results/
    python -m latency --out docs/results/X      # a folder to keep

Not a stage: timings depend on the machine, so they never enter dvc.lock or the committed
metrics. It recomputes the sweep's one-shot masks from the checkpoints with prune-sweep's own
functions (the masks of one-shot, fine-tune and the lottery ticket), for the first seed, and
times them with prunelab/latency.py. __main__.py is the command line, figure.py draws.
"""
