"""Stage train: the seed's training run, its checkpoint and its curve."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from prunelab.stacks import init_stack, unstack
from prunelab.model import Net, as_tensors
from stages import UserError, generate_data, paths, train
from stages.artifacts import load_split
from stages.checkpoints import load_stack, save_stack
from tests.conftest import ENV, ROOT, SeedNet, evaluate


def seed_script_run(x_train, y_train, seed, hidden_size, epochs, lr):
    """The seed's training code, with torch.manual_seed(seed) set before the model is made."""
    torch.manual_seed(seed)
    model = SeedNet(x_train.shape[1], hidden_size, 1)
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(x_train), y_train.view(-1, 1))
        loss.backward()
        optimizer.step()
    return model


@pytest.fixture
def data(workdir):
    generate_data.main()
    return as_tensors(*load_split(paths.TRAIN_SPLIT)) + as_tensors(*load_split(paths.TEST_SPLIT))


def test_a_single_seed_run_equals_the_seed_scripts_run(data):
    weights, curve = train.train(*data, hidden_sizes=[16], seeds=[3], epochs=8, lr=0.01)
    reference = seed_script_run(data[0], data[1].view(-1), seed=3, hidden_size=16, epochs=8, lr=0.01)
    for key, value in reference.state_dict().items():
        # Batched matmul kernels round differently from nn.Linear's: equal to float rounding.
        assert torch.allclose(weights[key][0], value, atol=1e-6), key
    assert [row["epoch"] for row in curve] == list(range(1, 9))


def test_each_seed_of_a_batch_matches_its_solo_run(data):
    weights, _ = train.train(*data, hidden_sizes=[16], seeds=[4, 5, 6], epochs=8, lr=0.01)
    for index, seed in enumerate([4, 5, 6]):
        reference = seed_script_run(data[0], data[1].view(-1), seed=seed, hidden_size=16, epochs=8, lr=0.01)
        for key, value in reference.state_dict().items():
            assert torch.allclose(weights[key][index], value, atol=1e-5), (seed, key)


def test_main_writes_checkpoint_curve_and_metrics(data):
    train.main()  # repeats: 3, seed: 0
    weights, seeds = load_stack(paths.MODELS, 6)
    assert seeds == [0, 1, 2] and weights["fc1.weight"].shape == (3, 16, 6)
    state = torch.load(paths.MODEL, weights_only=True)
    assert all(torch.equal(state[key], weights[key][0]) for key in state)
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    SeedNet(6, 16, 1).load_state_dict(state)  # a plain state_dict of the seed's Net
    metrics = json.loads(Path(paths.TRAIN_METRICS).read_text())
    assert metrics["parameters"] == 6 * 16 + 16 + 16 + 1 and metrics["repeats"] == 3
    every = [evaluate(load_net(unstack(weights, index)), *data[2:])[0] for index in range(3)]
    assert metrics["test_accuracy_mean"] == round(float(np.mean(every)), 6)
    assert metrics["test_accuracy_std"] == round(float(np.std(every, ddof=1)), 6)
    assert metrics["test_accuracy"] == round(every[0], 6)
    assert 0.5 < metrics["test_accuracy"] <= 1
    lines = Path(paths.TRAIN_CURVE).read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_accuracy,test_loss,test_accuracy"
    assert len(lines) == 1 + 8
    last = dict(zip(lines[0].split(","), map(float, lines[-1].split(","))))
    assert {key: metrics[key] for key in last if key != "epoch"} == {k: v for k, v in last.items() if k != "epoch"}


def test_same_params_give_identical_checkpoint_bytes(data):
    train.main()
    first = Path(paths.MODEL).read_bytes()
    train.main()
    assert Path(paths.MODEL).read_bytes() == first


def load_net(state):
    model = Net(state["fc1.weight"].shape[1], state["fc1.weight"].shape[0])
    model.load_state_dict(state)
    return model


def test_stack_round_trip(tmp_path):
    weights = init_stack([7, 8], 5, 4)
    save_stack(tmp_path / "models.pt", weights, [7, 8])
    loaded, seeds = load_stack(tmp_path / "models.pt", input_size=5)
    assert seeds == [7, 8]
    assert all(torch.equal(loaded[key], value) for key, value in weights.items())


@pytest.mark.parametrize("damage, problem", [
    (lambda path: path.write_bytes(path.read_bytes()[:200]), "unreadable"),
    (lambda path: path.write_bytes(b"not a checkpoint"), "unreadable"),
    (lambda path: path.unlink(), "missing"),
    (lambda path: torch.save({"weight": torch.zeros(2)}, path), "wrong keys"),
    (lambda path: torch.save({"seeds": torch.tensor([0]), **dict.fromkeys(("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"), 1)}, path),
     "a value is not a float tensor"),
    (lambda path: torch.save({"seeds": [0], **init_stack([0], 5, 4)}, path), "seeds is not an int64 tensor"),
    (lambda path: torch.save({"seeds": torch.tensor([0, 1]), **init_stack([0], 5, 4)}, path), "shapes"),
])
def test_a_damaged_models_file_is_a_one_line_error_naming_it(tmp_path, damage, problem):
    path = tmp_path / "models.pt"
    save_stack(path, init_stack([0], 5, 4), [0])
    damage(path)
    with pytest.raises(UserError, match=f"^{path}: {problem}"):
        load_stack(path, input_size=5)


def test_a_models_file_for_other_features_is_an_error(tmp_path):
    save_stack(tmp_path / "models.pt", init_stack([0], 5, 4), [0])
    with pytest.raises(UserError, match="do not fit 1 seeds and 4 input features"):
        load_stack(tmp_path / "models.pt", input_size=4)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU: the error is for machines without")
@pytest.mark.parametrize("stage", ["stages.train", "stages.prune_sweep"])
def test_cuda_without_a_gpu_is_one_line_and_writes_nothing(data, stage):
    train.main()
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["train"]["device"] = "cuda"
    Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    before = {path: path.read_bytes() for path in Path(".").rglob("*") if path.is_file() and path.name != "params.yaml"}
    result = subprocess.run([sys.executable, "-m", stage], env={**ENV, "PYTHONPATH": str(ROOT)},
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith("error: train.device: cuda, but torch finds no CUDA GPU on this machine")
    assert result.stderr.endswith("; expected cpu here\n") and result.stderr.count("\n") == 1
    after = {path: path.read_bytes() for path in Path(".").rglob("*") if path.is_file() and path.name != "params.yaml"}
    assert after == before
