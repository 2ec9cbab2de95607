"""prunelab/architectures/module.py: a user's nn.Module from a file, as a record, and each thing
that can be wrong with it as one line naming the file and what was expected."""
import pytest
import torch
from torch import nn

from prunelab import InputError, autograd_fit
from prunelab.architectures import layers
from prunelab.architectures.module import check, from_file

GOOD = '''
import torch
from torch import nn


class Small(nn.Module):
    """Conv, pool, linear: the shape and the classes come in."""

    def __init__(self, input_shape, classes):
        super().__init__()
        channels, height, width = input_shape
        self.features = nn.Sequential(nn.Conv2d(channels, 4, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(4 * ((height - 2) // 2) * ((width - 2) // 2), classes)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))
'''


def write(tmp_path, text, name="net.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_users_module_builds_as_its_class_does_and_trains(tmp_path):
    path = write(tmp_path, GOOD)
    arch = from_file(path, "Small")
    torch.manual_seed(3)
    module = check(arch, (1, 10, 10), 2)
    assert [(layer.name, layer.kind) for layer in layers(module)] == [("features.0", "conv"), ("head", "output")]
    torch.manual_seed(3)
    plain = type(module)((1, 10, 10), 2)  # the same class, the same seed: the same weights
    assert all(torch.equal(value, plain.state_dict()[key]) for key, value in module.state_dict().items())
    generator = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 1, 10, 10, generator=generator), torch.randint(0, 2, (32, 1), generator=generator).float()
    trained = autograd_fit.train(module, x, y, 2, 0.01, batch_size=8)  # two logits: cross-entropy
    assert trained.steps == 8 and not torch.equal(trained.weights["head.weight"], module.head.weight)


@pytest.mark.parametrize("text, name, message", [
    (None, "Small", r"net\.py:Small: no such file$"),
    ("def broken(:\n", "Small", r"net\.py does not import: SyntaxError: "),
    ("import no_such_package_here\n", "Small", r"net\.py does not import: ModuleNotFoundError: No module named"),
    (GOOD, "Large", r"net\.py:Large: net\.py has no Large; its nn\.Module classes: Small$"),
    ("Small = 3\n", "Small", r"net\.py:Small: Small is not an nn\.Module class$"),
])
def test_a_file_or_class_that_cannot_be_loaded_is_one_line(tmp_path, text, name, message):
    path = tmp_path / "net.py" if text is None else write(tmp_path, text)
    with pytest.raises(InputError, match=message) as raised:
        from_file(path, name)
    assert "\n" not in str(raised.value)


NO_ARGS = "from torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
NO_LAYER = ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self, shape, classes):\n"
            "        super().__init__()\n        self.act = nn.ReLU()\n    def forward(self, x):\n        return x\n")
WRONG_OUT = ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self, shape, classes):\n"
             "        super().__init__()\n        self.fc = nn.Linear(shape[0], 1)\n"
             "    def forward(self, x):\n        return self.fc(x)\n")
FAILS = ("from torch import nn\nclass Net(nn.Module):\n    def __init__(self, shape, classes):\n"
         "        super().__init__()\n        self.fc = nn.Linear(5, classes)\n"
         "    def forward(self, x):\n        return self.fc(x)\n")


@pytest.mark.parametrize("text, message", [
    (NO_ARGS, r"net\.py:Net\(\(6,\), 3\) failed: TypeError: .* \(the constructor takes \(input_shape, classes\)\)$"),
    (NO_LAYER, r"Net from .*net\.py: no prunable layer \(no nn\.Conv2d or nn\.Linear among its modules\)$"),
    (WRONG_OUT, r"Net from .*net\.py: forward on one sample gave \(1, 1\); expected \(1, 3\): one logit per class$"),
    (FAILS, r"Net from .*net\.py: forward on one sample of shape \(6,\) failed: RuntimeError: "),
])
def test_a_module_that_does_not_fit_the_data_is_one_line(tmp_path, text, message):
    arch = from_file(write(tmp_path, text), "Net")
    with pytest.raises(InputError, match=message) as raised:
        check(arch, (6,), 3)
    assert "\n" not in str(raised.value)


def test_a_module_that_fits_gives_one_logit_per_class_even_for_two(tmp_path):
    arch = from_file(write(tmp_path, WRONG_OUT.replace("nn.Linear(shape[0], 1)", "nn.Linear(shape[0], classes)")), "Net")
    assert arch.outputs(2) == 2
    assert isinstance(check(arch, (6,), 2), nn.Module)
