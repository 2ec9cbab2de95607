"""Every artifact path of the pipeline, written once.

dvc.yaml loads this file as `vars` (DVC reads a Python file's module-level constants) and
writes each path as `${NAME}`; the stages, the study tool, the tools and the tests import it.
Paths are relative to the repository root, where DVC runs every stage. Only constants here:
DVC parses the file without running it.
"""

PARAMS_OK = "data/params.ok"              # check-params' constant output: every stage waits on it
DATASETS_DIR = "datasets"                 # a CSV source's files (data.path lies under it)
MODULES_DIR = "models"                    # a user's own nn.Module files (model.module lies under it)
TRAIN_SPLIT = "data/train.npz"
TEST_SPLIT = "data/test.npz"
DATA_METRICS = "metrics/data.json"
MODEL = "data/model.pt"                   # the model of torch seed train.seed, a plain state_dict
MODELS = "data/models.pt"                 # every trained model, stacked, with their torch seeds
TRAIN_METRICS = "metrics/train.json"
TRAIN_CURVE = "metrics/train_curve.csv"
STRUCTURED_DIR = "data/structured"        # structured pruning's narrower nets, one per level
PRUNE_METRICS = "metrics/prune.json"
PRUNE_SWEEP = "metrics/prune_sweep.csv"
PRUNE_AGGREGATE = "metrics/prune_aggregate.csv"
SENSITIVITY = "metrics/sensitivity.csv"
SENSITIVITY_AGGREGATE = "metrics/sensitivity_aggregate.csv"
PLOTS_DIR = "metrics/plots"
