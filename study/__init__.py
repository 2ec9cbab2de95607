"""The study tool: a grid of params (studies.yaml, or --grid), each point a DVC experiment,
run here through DVC's queue or on a Slurm cluster, one job per point.

    python -m study run features            # queue, run with -j 2, wait, compare
    python -m study run g --grid data.n_features=10,20 --grid train.seed=0,1 --on slurm
    python -m study status g | collect g    # the Slurm jobs' states; dvc exp pull the finished
    python -m study compare features        # the table, from `dvc exp show --json`
    python -m study keep features           # its inputs kept: docs/studies/features.json
    python -m study compare features --kept docs/studies/features.json   # the table from them
    python -m study figure features -o DIR  # the figures (default: studies/, gitignored)

Not a stage: it drives DVC from outside the pipeline. declared.py reads and checks the
studies, experiments.py queues and reads the experiments, slurm.py submits and follows the
jobs that job.py describes, figures.py draws them, kept.py keeps a table as a file, __main__.py is the command line.
"""
