"""prunelab/pinned_layers.py: convolutions and linear layers through prunelab.compute's products,
equal to torch's own to rounding, and the same bytes wherever torch's own are not; max-pooling
over the workers, torch's own bytes."""
import copy
import json
import subprocess
import sys
import warnings

import pytest
import torch
from torch import nn

from prunelab import compute
from prunelab.pinned_layers import PinnedConv2d, PinnedLinear, PinnedMaxPool2d, pinned
from tests.conftest import ENV, ROOT


@pytest.mark.parametrize("options", [dict(kernel_size=5), dict(kernel_size=3, padding=1),
                                     dict(kernel_size=3, stride=2, padding=2, dilation=2),
                                     dict(kernel_size=(3, 1), padding="same", bias=False)],
                         ids=["valid", "padded", "strided-dilated", "same-no-bias"])
def test_a_convolution_and_its_gradients_equal_torchs_own(options):
    torch.manual_seed(0)
    plain = nn.Conv2d(3, 6, **options)
    mine = pinned(plain)
    assert type(mine) is PinnedConv2d and type(plain) is nn.Conv2d  # a copy; the original as it was
    x = torch.randn(4, 3, 11, 9)
    weights = torch.randn(plain(x).shape)  # a loss whose gradient differs at every output
    found = []
    for module in (plain, mine):
        inputs = x.clone().requires_grad_()
        out = module(inputs)
        (out * weights).sum().backward()
        found.append([out, inputs.grad] + [part.grad for part in module.parameters()])
    assert found[0][0].shape == found[1][0].shape
    for theirs, ours in zip(*found):
        assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-5 * theirs.abs().max().item())
        assert not torch.equal(ours, torch.zeros_like(ours))


def test_a_linear_layer_and_its_gradients_equal_torchs_own():
    torch.manual_seed(1)
    plain = nn.Linear(37, 11)
    mine = pinned(nn.Sequential(plain))[0]
    assert type(mine) is PinnedLinear
    x = torch.randn(300, 37)
    found = []
    for module in (plain, mine):
        inputs = x.clone().requires_grad_()
        out = module(inputs)
        (out * torch.arange(11.0)).sum().backward()
        found.append([out, inputs.grad, module.weight.grad, module.bias.grad])
    for theirs, ours in zip(*found):
        assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-5 * theirs.abs().max().item())


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("options", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                     dict(kernel_size=2, ceil_mode=True)], ids=["2x2", "overlapping-padded", "ceil"])
def test_max_pooling_in_pieces_is_torchs_own_bytes_with_ties(options, workers):
    compute.set_workers(workers)
    plain = nn.MaxPool2d(**options)
    mine = pinned(nn.Sequential(plain))[0]
    assert type(mine) is PinnedMaxPool2d
    x = torch.randn(70, 3, 9, 9, generator=torch.Generator().manual_seed(4)).round()  # ties in most windows
    found = []
    for module in (plain, mine):
        inputs = x.clone().requires_grad_()
        out = module(inputs)
        out.backward(torch.arange(out.numel(), dtype=torch.float32).view_as(out))
        found.append((out, inputs.grad))
    assert torch.equal(found[0][0], found[1][0]) and torch.equal(found[0][1], found[1][1])
    assert found[1][1].count_nonzero() > 0


def test_the_pinned_copy_has_the_same_parameters_under_the_same_names():
    torch.manual_seed(2)
    plain = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    mine = pinned(plain)
    assert [type(part) for part in mine] == [PinnedConv2d, nn.ReLU, nn.Flatten, PinnedLinear]
    assert plain.state_dict().keys() == mine.state_dict().keys()
    assert all(torch.equal(value, mine.state_dict()[key]) for key, value in plain.state_dict().items())
    x = torch.randn(5, 1, 8, 8)
    assert torch.allclose(mine(x), plain(x), atol=1e-6)


@pytest.mark.parametrize("conv, refused", [(nn.Conv2d(4, 4, 3, groups=2), "groups 2"),
                                           (nn.Conv2d(1, 2, 3, padding=1, padding_mode="reflect"), "'reflect'"),
                                           (nn.Conv2d(1, 2, 4, padding="same"), "padding 'same'")])
def test_a_convolution_it_cannot_compute_is_refused_by_name(conv, refused):
    with pytest.raises(ValueError, match=rf"^1: .*{refused}.*one group and symmetric zero padding"):
        pinned(nn.Sequential(nn.Identity(), conv))


# One process per variant: oneDNN reads its ISA when it loads. `import stages` pins what
# prunelab/numerics.py pins; the variant then sets what those pins leave free (or override
# with the value under test): oneDNN's ISA, mkldnn on or off, torch's and prunelab's threads.
PROBE = """
import hashlib, json, os, sys
variant = json.loads(sys.argv[1])
import stages
os.environ["ONEDNN_MAX_CPU_ISA"] = variant["isa"]
import torch
from torch import nn
from prunelab import autograd_fit, compute
from prunelab.architectures import ARCHITECTURES
compute.set_workers(variant["workers"])
torch.set_num_threads(variant["threads"])
torch.backends.mkldnn.enabled = variant["mkldnn"]

def digest(tensors):
    return hashlib.sha256(b"".join(t.detach().numpy().tobytes() for t in tensors)).hexdigest()

generator = torch.Generator().manual_seed(3)
x = torch.randn(96, 1, 28, 28, generator=generator)
y = torch.randint(0, 10, (96, 1), generator=generator).float()
torch.manual_seed(0)
net = ARCHITECTURES["lenet5"].build((1, 28, 28), 10)
# Minibatches of 48: pieces of 32 and 16 samples (pinned_layers.CHUNK), on 2 workers in parallel.
trained = autograd_fit.train(net, x, y, 1, 0.001, batch_size=48, order_seed=1)
# The control: torch's own convolutions, one forward and backward of LeNet-5's two.
convs = nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5))
out = convs(x[:64])
(out * out).sum().backward()
print(json.dumps({"pinned": digest(trained.weights.values()),
                  "torch": digest([out, *(part.grad for part in convs.parameters())])}))
"""

VARIANTS = [dict(isa="AVX2", mkldnn=True, threads=1, workers=1), dict(isa="SSE41", mkldnn=True, threads=2, workers=2),
            dict(isa="AVX", mkldnn=True, threads=1, workers=2), dict(isa="AVX2", mkldnn=False, threads=2, workers=1)]


def test_a_conv_net_trains_to_the_same_bytes_where_torchs_own_convolutions_do_not():
    found = []
    for variant in VARIANTS:
        result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(variant)], cwd=ROOT, env=ENV,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        found.append(json.loads(result.stdout))
    assert len({seen["pinned"] for seen in found}) == 1
    # The variants are real: torch's own convolutions gave other bytes under them (seen: 4 of 4).
    assert len({seen["torch"] for seen in found}) > 1


def test_off_the_cpu_the_pinned_layers_give_the_cpus_shapes_with_no_warning():
    """The GPU's branch (torch's own products into the pieces' outputs), on the meta device,
    which takes that branch with shapes only: LeNet-5's forward and backward as on the CPU."""
    from prunelab.architectures import ARCHITECTURES
    torch.manual_seed(0)
    net = pinned(ARCHITECTURES["lenet5"].build((1, 28, 28), 10))
    shapes = []
    for device in ("cpu", "meta"):
        module = copy.deepcopy(net).to(device)
        x = torch.zeros(70, 1, 28, 28, device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = module(x)
            out.sum().backward()
        shapes.append([out.shape] + [(name, part.grad.shape) for name, part in module.named_parameters()])
    assert shapes[0] == shapes[1] and len(shapes[0]) == 9


def test_a_1x1_convolution_keeps_its_input_for_the_backward():
    """A 1x1 kernel's im2col of a channels-last input is the input itself: the backward must not
    see a change made to the input after the forward (found in review: 2x the weight gradient)."""
    torch.manual_seed(5)
    mine = pinned(nn.Sequential(nn.Conv2d(3, 2, 1)))[0]
    x = torch.randn(4, 3, 5, 5).contiguous(memory_format=torch.channels_last)
    expected = x.clone()
    out = mine(x)
    x.mul_(2)
    out.sum().backward()
    assert torch.allclose(mine.weight.grad.view(2, 3), expected.sum(dim=(0, 2, 3)).expand(2, 3), rtol=1e-5)
