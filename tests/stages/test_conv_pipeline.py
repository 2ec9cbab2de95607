"""The stages on conv nets: model.arch (a built-in, LeNet-5, or a user's module under models/)
through generate-data, train, prune-sweep, sensitivity and plot, on tiny images; and every bad
input a conv net brings, each one line with nothing written."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from prunelab import architectures
from stages import UserError, generate_data, paths, plot, prune_sweep, schema, sensitivity, train
from stages.checkpoints import load_models
from tests.conftest import ENV, ROOT

MODULE = "models/small_cnn.py:SmallCNN"
SWEEP = {"methods": ["global-magnitude", "layerwise-magnitude"], "regimes": ["one-shot", "iterative"],
         "amounts": [0.5, 0.8], "thresholds": [], "finetune_epochs": 1, "iterative_rate": 0.3}


def configure(folder, data, model, prune=None, train_values=None):
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"] = {"random_state": 42, "standardize": False, **data}
    params["model"].update(model)
    params["train"].update({"epochs": 2, "repeats": 2, "batch_size": 16, **(train_values or {})})
    params["prune"].update({**SWEEP, **(prune or {})})
    params["sensitivity"]["amounts"] = [0.5]
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture
def images(tiny_images):
    return tiny_images


IDX = {"source": "idx", "path": "datasets/tiny"}


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_lenet5_runs_every_stage_on_images_of_its_shape(images):
    configure(images, IDX, {"arch": "lenet5"})
    generate_data.main()
    train.main()
    models = load_models(paths.MODELS, (1, 16, 16))
    assert models.arch == "lenet5" and models.seeds == [0, 1]
    with pytest.raises(UserError, match=r"trained on samples of shape \(1, 16, 16\), the data's are \(1, 8, 8\)"):
        load_models(paths.MODELS, (1, 8, 8))
    # Seed 0's weights before training are the plain LeNet-5's after torch.manual_seed(0).
    torch.manual_seed(0)
    plain = architectures.ARCHITECTURES["lenet5"].build((1, 16, 16), 4)
    assert list(models.weights) == [name for name, _ in plain.named_parameters()]
    metrics = json.loads(Path(paths.TRAIN_METRICS).read_text())
    assert metrics["parameters"] == sum(value.numel() for value in plain.parameters())
    assert [row["epoch"] for row in rows(paths.TRAIN_CURVE)] == ["1", "2"]
    prune_sweep.main()
    table = rows(paths.PRUNE_SWEEP)
    # Multiply-adds at the dense level, counted by hand for 1x16x16: conv1 12*12 positions x 25 x 20,
    # conv2 2*2 x 25*20 x 50, fc1 50 x 500, fc2 500 x 4.
    dense = [row for row in table if row["level"] == "0.0"]
    assert {int(row["macs"]) for row in dense} == {12 * 12 * 25 * 20 + 2 * 2 * 500 * 50 + 50 * 500 + 500 * 4}
    pruned = [row for row in table if row["regime"] == "one-shot" and row["level"] == "0.8"]
    for row in pruned:
        # A conv weight kept costs its output positions: the multiply-adds follow the layers' counts.
        assert int(row["macs"]) == (144 * int(row["conv1_nonzero_weights"]) + 4 * int(row["conv2_nonzero_weights"])
                                    + int(row["fc1_nonzero_weights"]) + int(row["fc2_nonzero_weights"]))
        assert float(row["speedup"]) > 1
    assert {row["regime"] for row in table} == {"one-shot", "iterative"}
    sensitivity.main()
    assert {row["layer"] for row in rows(paths.SENSITIVITY)} == {"conv1", "conv2", "fc1", "fc2"}
    plot.main()
    assert (Path(paths.PLOTS_DIR) / "accuracy_vs_sparsity.png").stat().st_size > 0


def test_a_seed_trained_in_a_stack_is_its_solo_run_and_the_conv_rate_moves_only_conv_layers(images):
    configure(images, IDX, {"arch": "module", "module": MODULE}, {"methods": ["layerwise-magnitude"],
                                                                  "regimes": ["iterative"]})
    generate_data.main()
    train.main()
    both = load_models(paths.MODELS, (1, 16, 16))
    configure(images, IDX, {"arch": "module", "module": MODULE}, train_values={"seed": 1, "repeats": 1})
    train.main()
    alone = load_models(paths.MODELS, (1, 16, 16))
    assert all(torch.equal(both.weights[key][1], alone.weights[key][0]) for key in both.weights)

    def sparsities(conv_rate):
        configure(images, IDX, {"arch": "module", "module": MODULE},
                  {"methods": ["layerwise-magnitude"], "regimes": ["iterative"], "iterative_conv_rate": conv_rate})
        prune_sweep.main()
        return {(row["round"], layer): float(row[f"{layer}_sparsity"]) for row in rows(paths.PRUNE_SWEEP)
                for layer in ("features.0", "features.3", "classifier")}

    same, apart = sparsities(0.0), sparsities(0.1)
    # Round 1: 30 % of each conv layer (rate) against 10 % (conv rate); the output layer 15 % in both.
    assert same[("1", "features.3")] == pytest.approx(0.3, abs=0.01)
    assert apart[("1", "features.3")] == pytest.approx(0.1, abs=0.01)
    assert all(same[key] == apart[key] for key in same if key[1] == "classifier")
    header = rows(paths.PRUNE_SWEEP)[0]
    assert "hidden_width" in header and "features.0_nonzero_weights" in header


def stage(folder, name):
    return subprocess.run([sys.executable, "-m", f"stages.{name}"], cwd=folder, env={**ENV, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True)


@pytest.mark.parametrize("data, model, message", [
    ({"source": "make_classification", "n_samples": 200, "n_features": 6, "n_classes": 2,
      "n_clusters_per_class": 2, "test_size": 0.3}, {"arch": "conv2"},
     "model.arch is conv2, which takes images (channels x height x width), but data.source make_classification "
     "gives rows of features"),
    (IDX, {"arch": "module"}, "model.arch is module but model.module is not set; expected models/FILE.py:CLASS"),
    (IDX, {"arch": "mlp", "module": MODULE}, "model.module is set, but it applies only to model.arch module"),
    (IDX, {"arch": "module", "module": "datasets/small_cnn.py:SmallCNN"},
     "model.module = 'datasets/small_cnn.py:SmallCNN': expected none (\"\"), or models/FILE.py:CLASS"),
    (IDX, {"arch": "module", "module": "models/../small_cnn.py:SmallCNN"}, "expected none (\"\"), or models/"),
    (IDX, {"arch": "module", "module": "models/gone.py:Net"}, "model.module = 'models/gone.py:Net': no file "
     "models/gone.py; expected a Python file under models/"),
    (IDX, {"arch": "vgg16"}, "model.arch = 'vgg16': expected one of mlp, lenet5, conv2, conv4, conv6, module"),
])
def test_check_params_refuses_a_model_that_cannot_fit(images, data, model, message):
    configure(images, data, model)
    result = stage(images, "check_params")
    assert result.returncode == 1 and message in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert not (images / paths.PARAMS_OK).exists()


BROKEN = {
    "import": ("import torch\nraise RuntimeError('no GPU here')\n", "Net", "models/broken.py does not import: "
               "RuntimeError: no GPU here"),
    "class": ("from torch import nn\nclass Other(nn.Module):\n    pass\n", "Net",
              "models/broken.py:Net: broken.py has no Net; its nn.Module classes: Other"),
    "constructor": ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n",
                    "Net", "(the constructor takes (input_shape, classes))"),
    "no layer": ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self, shape, classes):\n"
                 "        super().__init__()\n    def forward(self, x):\n        return x\n", "Net", "no prunable layer"),
    "outputs": ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self, shape, classes):\n"
                "        super().__init__()\n        self.fc = nn.Linear(256, 3)\n"
                "    def forward(self, x):\n        return self.fc(x.flatten(1))\n", "Net",
                "gave (1, 3); expected (1, 4): one logit per class"),
}


@pytest.mark.parametrize("case", BROKEN)
def test_train_refuses_a_module_that_does_not_build_in_one_line_writing_nothing(images, case):
    text, name, message = BROKEN[case]
    (images / "models/broken.py").write_text(text)
    configure(images, IDX, {"arch": "module", "module": f"models/broken.py:{name}"})
    assert stage(images, "check_params").returncode == 0
    assert stage(images, "generate_data").returncode == 0
    result = stage(images, "train")
    assert result.returncode == 1 and message in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert not (images / paths.MODELS).exists() and not (images / paths.MODEL).exists()


def test_lenet5_on_images_too_small_and_structured_on_a_users_module_are_refused(images):
    configure(images, {"source": "digits", "test_size": 0.3}, {"arch": "lenet5"})
    assert stage(images, "generate_data").returncode == 0
    result = stage(images, "train")
    assert result.returncode == 1 and "input 8x8: LeNet-5 needs at least 16x16" in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1 and not (images / paths.MODELS).exists()
    configure(images, IDX, {"arch": "module", "module": MODULE}, {"methods": ["structured"], "regimes": ["one-shot"]},
              {"repeats": 1, "epochs": 1})
    assert stage(images, "generate_data").returncode == 0 and stage(images, "train").returncode == 0
    result = stage(images, "prune_sweep")
    assert result.returncode == 1 and "prune.methods lists structured, but model.arch is module" in result.stderr
    assert not (images / paths.PRUNE_SWEEP).exists()


def test_model_conv_relu_builds_lenet5_with_a_relu_after_each_conv_in_every_stage(images):
    """model.conv_relu, LeNet-5's record option as a param: train builds that variant, its
    models.pt says so, and the later stages rebuild the same module from it."""
    configure(images, IDX, {"arch": "lenet5", "conv_relu": True}, prune={"regimes": ["one-shot"]})
    generate_data.main()
    train.main()
    models = load_models(paths.MODELS, (1, 16, 16))
    relus = [name for name, part in models.template.named_modules() if isinstance(part, torch.nn.ReLU)]
    assert relus == ["relu1", "relu2", "relu_fc1"]
    # Seed 0's first model is the plain LeNet-5 with conv ReLUs: its forward with those weights.
    first = {name: value[0] for name, value in models.weights.items()}
    x = torch.randn(3, 1, 16, 16)
    with_relu, without = (architectures.ARCHITECTURES["lenet5"].build((1, 16, 16), 4, conv_relu=flag)
                          for flag in (True, False))
    with torch.no_grad():
        for module in (with_relu, without):
            module.load_state_dict(first)
        ours = torch.func.functional_call(models.template, first, (x,))
        assert torch.allclose(ours, with_relu(x)) and not torch.allclose(ours, without(x))
    # Trained as that variant: the stage's models are the library's training of it, byte for byte.
    from prunelab import net_stacks
    from stages.checkpoints import load_splits
    (x_train, y_train), _ = load_splits()
    record = architectures.ARCHITECTURES["lenet5"].configured(conv_relu=True)
    template, initial = net_stacks.init(record, [0, 1], (1, 16, 16), 4)
    expected = net_stacks.train(template, initial, x_train.view(-1, 1, 16, 16), y_train, 2, 0.01, order_seeds=[0, 1],
                                batch_size=16)
    assert all(torch.equal(expected[key], models.weights[key]) for key in expected)
    prune_sweep.main()
    assert {row["regime"] for row in rows(paths.PRUNE_SWEEP)} == {"one-shot"}
    configure(images, IDX, {"arch": "lenet5", "conv_relu": 1})
    with pytest.raises(UserError, match=r"model.conv_relu = 1: expected true or false$"):
        schema.load("model")
