"""Stage train: the seed's training run, its checkpoint and its curve."""
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from stages import UserError, generate_data, train
from stages.model import Net, as_tensors, load_checkpoint, save_checkpoint
from stages.artifacts import load_split


class SeedNet(nn.Module):
    """The seed report's class, as a user's notebook has it."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden_size, output_size)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc2(self.relu(self.fc1(x))))


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
    return as_tensors(*load_split("data/train.npz")) + as_tensors(*load_split("data/test.npz"))


def test_a_run_equals_the_seed_scripts_run_with_that_seed(data):
    model, curve = train.train(*data, hidden_size=16, seed=3, epochs=8, lr=0.01)
    reference = seed_script_run(data[0], data[1].view(-1), seed=3, hidden_size=16, epochs=8, lr=0.01)
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert [row["epoch"] for row in curve] == list(range(1, 9))


def test_main_writes_checkpoint_curve_and_metrics(data):
    train.main()
    state = torch.load("data/model.pt", weights_only=True)
    assert list(state) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    SeedNet(6, 16, 1).load_state_dict(state)  # a plain state_dict of the seed's Net
    metrics = json.loads(Path("metrics/train.json").read_text())
    assert metrics["parameters"] == 6 * 16 + 16 + 16 + 1
    assert 0.5 < metrics["test_accuracy"] <= 1
    lines = Path("metrics/train_curve.csv").read_text().splitlines()
    assert lines[0] == "epoch,train_loss,train_accuracy,test_loss,test_accuracy"
    assert len(lines) == 1 + 8
    last = dict(zip(lines[0].split(","), map(float, lines[-1].split(","))))
    assert {key: metrics[key] for key in last if key != "epoch"} == {k: v for k, v in last.items() if k != "epoch"}


def test_same_params_give_identical_checkpoint_bytes(data):
    train.main()
    first = Path("data/model.pt").read_bytes()
    train.main()
    assert Path("data/model.pt").read_bytes() == first


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = Net(5, 7)
    save_checkpoint(tmp_path / "model.pt", model)
    loaded = load_checkpoint(tmp_path / "model.pt", input_size=5)
    assert loaded.fc1.out_features == 7
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


@pytest.mark.parametrize("damage, problem", [
    (lambda path: path.write_bytes(path.read_bytes()[:200]), "unreadable"),
    (lambda path: path.write_bytes(b"not a checkpoint"), "unreadable"),
    (lambda path: path.unlink(), "missing"),
    (lambda path: torch.save({"weight": torch.zeros(2)}, path), "wrong keys"),
    (lambda path: torch.save(dict.fromkeys(["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"], 1), path),
     "a value is not a float tensor"),
])
def test_a_damaged_checkpoint_is_a_one_line_error_naming_it(tmp_path, damage, problem):
    path = tmp_path / "model.pt"
    save_checkpoint(path, Net(5, 7))
    damage(path)
    with pytest.raises(UserError, match=f"^{path}: {problem}"):
        load_checkpoint(path, input_size=5)


def test_a_checkpoint_for_other_features_is_an_error(tmp_path):
    save_checkpoint(tmp_path / "model.pt", Net(5, 7))
    with pytest.raises(UserError, match="do not fit 4 input features"):
        load_checkpoint(tmp_path / "model.pt", input_size=4)
