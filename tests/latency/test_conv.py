"""The latency command on conv nets (LeNet-5, a user's module) trained on tiny images: a row per
method x level x form (module_forms's dense, scipy-csr, shrunk) x batch, the sweep's own masks
and theoretical speedups, every form's outputs the dense form's, and one-line errors for
checkpoints of another model.arch and for structured pruning of a user's module."""
import csv

import pytest
import torch
import yaml

from latency.__main__ import COLUMNS, main, sweep_models
from prunelab import architectures, module_forms
from stages import UserError, generate_data, paths, prune_sweep, schema, train
from tests.conftest import ROOT

FAST = ["--repeats", "1", "--warmup", "0", "--min-seconds", "0", "--threads", "1"]
LEVELS = ("0.0", "0.5", "0.9")
MODULE = {"arch": "module", "module": "models/small_cnn.py:SmallCNN"}


def configure(model, **prune):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"] = {"source": "idx", "path": "datasets/tiny", "random_state": 42, "standardize": False}
    params["model"].update(model)
    params["train"].update({"epochs": 1, "repeats": 1, "batch_size": 16})
    params["prune"].update({"amounts": [0.5, 0.9], "thresholds": [], "regimes": ["one-shot"],
                            "methods": ["global-magnitude"], **prune})
    with open("params.yaml", "w") as handle:
        yaml.safe_dump(params, handle, sort_keys=False)


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def images(tiny_images):
    return tiny_images


def test_lenet5_forms_are_timed_on_the_sweeps_masks_and_give_the_dense_outputs(images):
    configure({"arch": "lenet5"}, methods=["global-magnitude", "structured"])
    generate_data.main()
    train.main()
    main(["--out", "out", "--batches", "1", "test", *FAST])
    table = rows("out/latency.csv")
    assert tuple(table[0]) == COLUMNS
    keys = sorted((row["method"], row["level"], row["form"], row["batch"]) for row in table)
    assert keys == sorted((method, level, form, batch) for method in ("global-magnitude", "structured")
                          for level in LEVELS for form in module_forms.FORMS for batch in ("1", "24"))
    prune_sweep.main()
    swept = {(row["method"], row["level"]): row for row in rows(paths.PRUNE_SWEEP)}
    for row in table:
        expected = swept[(row["method"], row["level"])]
        assert float(row["sparsity"]) == pytest.approx(float(expected["sparsity"]), abs=1e-6)
        assert float(row["theoretical_speedup"]) == pytest.approx(float(expected["speedup"]), rel=1e-5)
        assert int(row["hidden_width"]) == int(expected["hidden_width"])
    assert float(swept[("global-magnitude", "0.9")]["speedup"]) > 2  # a conv weight costs its positions
    assert len(rows("out/crossover.csv")) == 2 * 2 * 2  # methods x (scipy-csr, shrunk) x batches
    assert "| structured | one-shot | shrunk |" in open("out/summary.md").read()

    # The models timed: the sweep's (every layer's nonzero count), each form giving the dense outputs.
    params = schema.load("model", "train", "prune")
    models, x_test, trained = sweep_models(params, ["global-magnitude", "structured"], ["one-shot"])
    x = trained.inputs(x_test)
    narrower = 0
    for model in models:
        expected = swept[(model["method"], str(model["level"]))]
        for layer in ("conv1", "conv2", "fc1", "fc2"):
            assert int((model["state"][f"{layer}.weight"] != 0).sum()) == int(expected[f"{layer}_nonzero_weights"])
        with torch.inference_mode():
            dense = module_forms.deployable(trained.template, model["state"], "dense")(x)
            for form in module_forms.FORMS[1:]:
                got = module_forms.deployable(trained.template, model["state"], form)(x)
                torch.testing.assert_close(got, dense, rtol=1e-4, atol=1e-5 * max(dense.abs().max().item(), 1))
        shrunk = module_forms.deployable(trained.template, model["state"], "shrunk")
        narrower += architectures.weight_counts(shrunk)["fc1"][1] < 500
    assert narrower >= 2  # structured at 0.5 and 0.9 removed fc1 neurons: the shrunk form is smaller


def test_a_users_module_is_timed_and_checkpoints_of_another_arch_are_an_error(images):
    configure(MODULE)
    generate_data.main()
    train.main()
    main(["--out", "out", "--batches", "4", *FAST])
    table = rows("out/latency.csv")
    assert sorted((row["level"], row["form"]) for row in table) == sorted(
        (level, form) for level in LEVELS for form in module_forms.FORMS)
    with pytest.raises(UserError, match=r"^method structured \(--methods, default prune.methods\): model.arch is "
                                        r"module"):
        main(["--out", "other", "--methods", "structured", *FAST])
    configure({"arch": "lenet5"})
    with pytest.raises(UserError, match=r"^data/models.pt: architecture module and seeds 0..0 do not fit params.yaml "
                                        r"\(model.arch lenet5, seeds 0..0\); run `dvc repro`"):
        main(["--out", "other", *FAST])
    configure({"arch": "mlp"})
    with pytest.raises(UserError, match=r"^data/models.pt: architecture module .* \(model.arch mlp, seeds 0..0\)"):
        main(["--out", "other", *FAST])
    assert not (images / "other").exists()


BRANCHES = '''from torch import nn
import torch


class Branches(nn.Module):
    """Two linear branches side by side: no layer feeds the next unit to unit."""

    def __init__(self, input_shape, classes):
        super().__init__()
        features = input_shape[0] * input_shape[1] * input_shape[2]
        self.left, self.right, self.out = nn.Linear(features, 3), nn.Linear(features, 5), nn.Linear(8, classes)

    def forward(self, x):
        x = x.flatten(1)
        return self.out(torch.cat([self.left(x), self.right(x)], 1).relu())
'''


def test_a_module_without_units_has_no_shrunk_form_nor_hidden_width(images):
    (images / "models/branches.py").write_text(BRANCHES)
    configure({"arch": "module", "module": "models/branches.py:Branches"})
    generate_data.main()
    train.main()
    main(["--out", "out", "--batches", "2", *FAST])
    table = rows("out/latency.csv")
    assert sorted((row["level"], row["form"]) for row in table) == sorted(
        (level, form) for level in LEVELS for form in ("dense", "scipy-csr"))
    assert {row["hidden_width"] for row in table} == {""}
    written = open("out/summary.md").read()
    main(["--out", "out", "--summarize"])
    assert open("out/summary.md").read() == written and "| global-magnitude | one-shot | scipy-csr |" in written
