"""The study tool: one param over a few values, each value a queued DVC experiment.

    python -m study run features            # queue, run with -j 2, wait, compare
    python -m study compare features        # the table, from `dvc exp show --json`
    python -m study figure features -o DIR  # the figures (default: studies/, gitignored)

Not a stage: it drives DVC from outside the pipeline. experiments.py queues and reads the
experiments, figures.py draws them, __main__.py is the command line.
"""
