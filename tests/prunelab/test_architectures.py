"""prunelab/architectures: each built-in is the plain torch module its paper describes (checked
against modules written here without the library), its counts are the papers' layer
arithmetic, and its structured units are exactly what removing a filter or neuron removes."""
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from prunelab.architectures import ARCHITECTURES, Layer, Units, shrink
from prunelab.model import Net


class RefLeNet5(nn.Module):
    """Caffe's lenet written out: conv 20@5x5, pool, conv 50@5x5, pool, ip1 500, ReLU, ip2."""

    def __init__(self, channels, size, outputs, conv_relu=False, widths=(20, 50)):
        super().__init__()
        self.conv_relu, self.outputs = conv_relu, outputs
        self.c1 = nn.Conv2d(channels, widths[0], 5)
        self.c2 = nn.Conv2d(widths[0], widths[1], 5)
        side = ((size - 4) // 2 - 4) // 2
        self.ip1 = nn.Linear(widths[1] * side * side, 500)
        self.ip2 = nn.Linear(500, outputs)

    def forward(self, x):
        act = F.relu if self.conv_relu else (lambda t: t)
        x = F.max_pool2d(act(self.c1(x)), 2)
        x = F.max_pool2d(act(self.c2(x)), 2)
        x = self.ip2(F.relu(self.ip1(torch.flatten(x, 1))))
        return torch.sigmoid(x) if self.outputs == 1 else x


class RefConv(nn.Module):
    """Frankle & Carbin's Conv-2/4/6 written out: pairs of 3x3 same convs + ReLU, 2x2 max-pool;
    FC 256, 256, out."""

    def __init__(self, channels, size, outputs, widths):
        super().__init__()
        self.outputs = outputs
        self.convs = nn.ModuleList()
        for width in widths:
            self.convs.append(nn.Conv2d(channels, width, 3, padding=1))
            channels = width
        side = size >> (len(widths) // 2)
        self.fcs = nn.ModuleList([nn.Linear(channels * side * side, 256), nn.Linear(256, 256), nn.Linear(256, outputs)])

    def forward(self, x):
        for index, conv in enumerate(self.convs):
            x = F.relu(conv(x))
            if index % 2 == 1:
                x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fcs[2](F.relu(self.fcs[1](F.relu(self.fcs[0](x)))))
        return torch.sigmoid(x) if self.outputs == 1 else x


CONV_WIDTHS = {"conv2": (64, 64), "conv4": (64, 64, 128, 128), "conv6": (64, 64, 128, 128, 256, 256)}


def reference(name, channels, size, classes, **options):
    outputs = 1 if classes == 2 else classes
    if name == "lenet5":
        return RefLeNet5(channels, size, outputs, **options)
    return RefConv(channels, size, outputs, CONV_WIDTHS[name])


def same_weights(source, target):
    """Loads source's tensors into target in parameter order (shapes must agree)."""
    values = list(source.state_dict().values())
    keys = list(target.state_dict())
    assert [tuple(v.shape) for v in values] == [tuple(v.shape) for v in target.state_dict().values()]
    target.load_state_dict(dict(zip(keys, values)))


CASES = [("lenet5", 1, 16, 2, {}), ("lenet5", 2, 20, 10, {"conv_relu": True}), ("lenet5", 1, 20, 3, {}),
         ("conv2", 3, 6, 10, {}), ("conv2", 2, 6, 2, {}), ("conv4", 3, 8, 10, {}), ("conv6", 3, 8, 4, {}),
         ("conv6", 1, 9, 2, {})]


@pytest.mark.parametrize("name, channels, size, classes, options", CASES)
def test_forward_equals_the_module_written_out(name, channels, size, classes, options):
    torch.manual_seed(0)
    ours = ARCHITECTURES[name].build((channels, size, size), classes, **options)
    ref = reference(name, channels, size, classes, **options)
    same_weights(ours, ref)
    x = torch.randn(5, channels, size, size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got, want = ours(x), ref(x)
    assert got.shape == (5, 1 if classes == 2 else classes)
    assert torch.equal(got, want)


@pytest.mark.parametrize("name, channels, size, classes, options", CASES)
def test_the_same_seed_gives_the_written_out_modules_weights(name, channels, size, classes, options):
    torch.manual_seed(7)
    ours = ARCHITECTURES[name].build((channels, size, size), classes, **options)
    torch.manual_seed(7)
    ref = reference(name, channels, size, classes, **options)
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), ref.state_dict().values()))
    assert len(ours.state_dict()) == len(ref.state_dict())


@pytest.mark.parametrize("hidden, classes", [((256,), 2), ((8, 4), 3), ((5,), 10)])
def test_mlp_is_model_net(hidden, classes):
    torch.manual_seed(3)
    ours = ARCHITECTURES["mlp"].build((6,), classes, hidden_sizes=hidden)
    torch.manual_seed(3)
    net = Net(6, list(hidden), 1 if classes == 2 else classes)
    assert isinstance(ours, Net)
    assert list(ours.state_dict()) == list(net.state_dict())
    assert all(torch.equal(ours.state_dict()[key], value) for key, value in net.state_dict().items())
    x = torch.randn(4, 6)
    assert torch.equal(ours(x), net(x))


def test_mlp_default_is_one_hidden_layer_of_256():
    assert list(ARCHITECTURES["mlp"].build((25,), 2).state_dict()) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert ARCHITECTURES["mlp"].build((25,), 2).fc1.out_features == 256


def weights(name, shape, classes=10):
    arch = ARCHITECTURES[name]
    return arch.weight_counts(arch.build(shape, classes))


def test_lenet5_weights_on_mnist_are_han_et_als_431k():
    counts = weights("lenet5", (1, 28, 28))
    # 28 -5+1-> 24 -pool-> 12 -5+1-> 8 -pool-> 4; fc1 takes 50 * 4 * 4 = 800.
    assert counts == {"conv1": (20 * 1 * 5 * 5, 20),      # 500 (Han et al. Table 2: 0.5K)
                      "conv2": (50 * 20 * 5 * 5, 50),     # 25,000 (25K)
                      "fc1": (800 * 500, 500),            # 400,000 (400K)
                      "fc2": (500 * 10, 10)}              # 5,000 (5K)
    assert sum(w for w, _ in counts.values()) == 430_500
    assert sum(w + b for w, b in counts.values()) == 431_080  # Han et al. Table 1: 431K


@pytest.mark.parametrize("name, total", [
    # convs: 3*64*9 = 1,728; 64*64*9 = 36,864; 32 -pool-> 16: fc1 64*16*16 = 16,384 inputs * 256 = 4,194,304;
    # fc2 256*256 = 65,536; fc3 256*10 = 2,560.                                   Frankle & Carbin: 4.3M
    ("conv2", 1_728 + 36_864 + 4_194_304 + 65_536 + 2_560),
    # + 64*128*9 = 73,728 and 128*128*9 = 147,456; 32 -> 16 -> 8: fc1 128*8*8 = 8,192 * 256 = 2,097,152.  2.4M
    ("conv4", 1_728 + 36_864 + 73_728 + 147_456 + 2_097_152 + 65_536 + 2_560),
    # + 128*256*9 = 294,912 and 256*256*9 = 589,824; 32 -> 4: fc1 256*4*4 = 4,096 * 256 = 1,048,576.
    # (The paper's table says 1.7M for Conv-6: see prunelab/architectures/frankle_carbin.py.)
    ("conv6", 1_728 + 36_864 + 73_728 + 147_456 + 294_912 + 589_824 + 1_048_576 + 65_536 + 2_560),
])
def test_conv_weights_on_cifar_follow_the_layer_list(name, total):
    counts = weights(name, (3, 32, 32))
    assert sum(w for w, _ in counts.values()) == total
    assert round(total / 1e5) / 10 == {"conv2": 4.3, "conv4": 2.4, "conv6": 2.3}[name]


def test_conv_weights_on_mnist_shaped_inputs():
    # 28 -> 14 (-> 7 -> 3): fc1 64*14*14 = 12,544; 128*7*7 = 6,272; 256*3*3 = 2,304 inputs.
    assert sum(w for w, _ in weights("conv2", (1, 28, 28)).values()) == 576 + 36_864 + 12_544 * 256 + 65_536 + 2_560
    assert sum(w for w, _ in weights("conv4", (1, 28, 28)).values()) == (576 + 36_864 + 73_728 + 147_456 + 6_272 * 256
                                                                         + 65_536 + 2_560)
    assert sum(w for w, _ in weights("conv6", (1, 28, 28)).values()) == (576 + 36_864 + 73_728 + 147_456 + 294_912
                                                                         + 589_824 + 2_304 * 256 + 65_536 + 2_560)


def test_lenet5_multiply_adds_on_mnist():
    arch = ARCHITECTURES["lenet5"]
    assert arch.multiply_adds(arch.build((1, 28, 28), 10), (1, 28, 28)) == {
        "conv1": 24 * 24 * 5 * 5 * 1 * 20,    # 288,000 (Han et al.'s FLOPs are twice these)
        "conv2": 8 * 8 * 5 * 5 * 20 * 50,     # 1,600,000
        "fc1": 800 * 500,                     # 400,000
        "fc2": 500 * 10}                      # 5,000; total 2,293,000


def test_masked_multiply_adds_count_each_kept_weight_at_every_output_position():
    arch = ARCHITECTURES["lenet5"]
    net = arch.build((1, 28, 28), 10)
    masks = {"conv2.weight": torch.ones(50, 20, 5, 5), "fc1.weight": torch.ones(500, 800)}
    masks["conv2.weight"].view(-1)[torch.arange(0, 1000, 100)] = 0   # 10 kernel weights
    masks["fc1.weight"].view(-1)[torch.arange(0, 100_000, 1000)] = 0  # 100 weights
    assert arch.multiply_adds(net, (1, 28, 28), masks) == {
        "conv1": 24 * 24 * 500, "conv2": 8 * 8 * (25_000 - 10), "fc1": 400_000 - 100, "fc2": 5_000}


def test_filters_removed_cost_what_the_shrunk_net_costs_dense():
    """A removed filter's masks (its kernel and the next layer's input channel) against the
    smaller dense net that shrink builds: the same multiply-adds, layer by layer."""
    arch = ARCHITECTURES["conv2"]
    torch.manual_seed(0)
    net = arch.build((1, 8, 8), 3)
    state = net.state_dict()
    keep = {"conv1": torch.arange(64) % 5 != 0, "fc1": torch.arange(256) % 3 != 0}
    masks = {key: torch.ones_like(value) for key, value in state.items()}
    for group in arch.units(net):
        if group.layer in keep:
            masks = group.keep(masks, keep[group.layer])
    small, _ = shrink(net, state, keep)
    masked = arch.multiply_adds(net, (1, 8, 8), masks)
    assert masked == arch.multiply_adds(small, (1, 8, 8))
    assert masked["conv1"] < arch.multiply_adds(net, (1, 8, 8))["conv1"]


def test_conv2_multiply_adds_on_cifar():
    arch = ARCHITECTURES["conv2"]
    macs = arch.multiply_adds(arch.build((3, 32, 32), 10), (3, 32, 32))
    assert macs == {"conv1": 32 * 32 * 3 * 3 * 3 * 64,     # 1,769,472 ("same" padding: 32x32 out)
                    "conv2": 32 * 32 * 3 * 3 * 64 * 64,    # 37,748,736
                    "fc1": 16_384 * 256,                   # 4,194,304
                    "fc2": 256 * 256,                      # 65,536
                    "fc3": 256 * 10}                       # 2,560
    assert sum(macs.values()) == 43_780_608


def test_prunable_layers_in_order_with_kinds():
    arch = ARCHITECTURES["conv6"]
    assert arch.layers(arch.build((3, 8, 8), 10)) == (
        [Layer(f"conv{i}", "conv") for i in range(1, 7)] + [Layer("fc1", "linear"), Layer("fc2", "linear"),
                                                             Layer("fc3", "output")])
    assert ARCHITECTURES["lenet5"].layers(ARCHITECTURES["lenet5"].build((1, 28, 28), 2)) == [
        Layer("conv1", "conv"), Layer("conv2", "conv"), Layer("fc1", "linear"), Layer("fc2", "output")]
    mlp = ARCHITECTURES["mlp"]
    assert mlp.layers(mlp.build((6,), 3, hidden_sizes=(8, 4))) == [
        Layer("fc1", "linear"), Layer("fc2", "linear"), Layer("fc3", "output")]
    assert mlp.units(mlp.build((6,), 3, hidden_sizes=(8, 4))) == [Units("fc1", 8, "fc2", 1), Units("fc2", 4, "fc3", 1)]


def masked(module, group, drop):
    """module's state with unit `drop` of `group` zeroed by its mask."""
    state = module.state_dict()
    kept = torch.ones(group.count, dtype=torch.bool)
    kept[drop] = False
    masks = group.keep({key: torch.ones_like(value) for key, value in state.items()}, kept)
    return {key: value * masks[key] for key, value in state.items()}


def test_units_of_a_conv_conv_and_a_conv_linear_boundary():
    torch.manual_seed(0)
    net = ARCHITECTURES["conv2"].build((2, 6, 6), 3)
    groups = ARCHITECTURES["conv2"].units(net)
    # 6x6 -> pool -> 3x3: each conv2 filter feeds 9 of fc1's 576 columns, channel-major.
    assert groups == [Units("conv1", 64, "conv2", 1), Units("conv2", 64, "fc1", 9), Units("fc1", 256, "fc2", 1),
                      Units("fc2", 256, "fc3", 1)]
    assert list(groups[1].columns(5)) == list(range(45, 54))
    x = torch.randn(7, 2, 6, 6, generator=torch.Generator().manual_seed(2))
    full = net(x).detach()
    for group, drop in ((groups[0], 11), (groups[1], 5)):
        torch.manual_seed(0)
        net = ARCHITECTURES["conv2"].build((2, 6, 6), 3)
        original = {key: value.clone() for key, value in net.state_dict().items()}
        net.load_state_dict(masked(net, group, drop))
        out = net(x).detach()
        # The net written out without that filter, the original tensors cut by hand.
        ref = RefConv(2, 6, 3, (63, 64) if group.layer == "conv1" else (64, 63))
        keep = [i for i in range(64) if i != drop]
        cut = original
        for key in (f"{group.layer}.weight", f"{group.layer}.bias"):
            cut[key] = cut[key][keep]
        if group.layer == "conv1":
            cut["conv2.weight"] = cut["conv2.weight"][:, keep]
        else:  # fc1's columns 9 * c .. 9 * c + 8 are channel c's 3x3 positions
            cut["fc1.weight"] = cut["fc1.weight"][:, [i for i in range(576) if not 9 * drop <= i < 9 * drop + 9]]
        ref.load_state_dict(dict(zip(ref.state_dict(), cut.values())))
        assert not torch.allclose(out, full)  # the filter mattered
        torch.testing.assert_close(out, ref(x).detach(), rtol=1e-5, atol=1e-6)


def test_a_units_mask_is_its_filter_its_bias_and_the_columns_it_feeds():
    net = ARCHITECTURES["conv2"].build((2, 6, 6), 3)
    conv1, conv2 = ARCHITECTURES["conv2"].units(net)[:2]
    ones = {key: torch.ones_like(value) for key, value in net.state_dict().items()}
    for group, drop, columns in ((conv1, 11, [11]), (conv2, 5, list(range(45, 54)))):
        kept = torch.arange(64) != drop
        masks = group.keep(ones, kept)
        removed = {key: (mask == 0).nonzero().tolist() for key, mask in masks.items() if (mask == 0).any()}
        following = net.get_submodule(group.following).weight
        assert set(removed) == {f"{group.layer}.weight", f"{group.layer}.bias", f"{group.following}.weight"}
        assert {tuple(i[:1]) for i in removed[f"{group.layer}.weight"]} == {(drop,)}
        assert len(removed[f"{group.layer}.weight"]) == net.get_submodule(group.layer).weight[0].numel()
        assert removed[f"{group.layer}.bias"] == [[drop]]
        assert sorted({i[1] for i in removed[f"{group.following}.weight"]}) == columns
        assert len(removed[f"{group.following}.weight"]) == following.shape[0] * len(columns) * following[0, 0].numel()
    assert all(torch.equal(value, torch.ones_like(value)) for value in ones.values())  # keep returns new masks


def test_units_of_lenet5_without_relu_after_its_convs():
    torch.manual_seed(4)
    net = ARCHITECTURES["lenet5"].build((1, 20, 20), 10)
    group = ARCHITECTURES["lenet5"].units(net)[1]
    assert group == Units("conv2", 50, "fc1", 4)  # 20 -> 16 -> 8 -> 4 -> 2: 2x2 positions per filter
    x = torch.randn(3, 1, 20, 20)
    net.load_state_dict(masked(net, group, 17))
    small, _ = shrink(net, net.state_dict(), {"conv2": torch.arange(50) != 17})
    assert small.conv2.out_channels == 49 and small.fc1.in_features == 49 * 4
    torch.testing.assert_close(small(x), net(x), rtol=1e-5, atol=1e-6)


def test_shrink_equals_the_masked_net():
    torch.manual_seed(5)
    net = ARCHITECTURES["conv4"].build((3, 8, 8), 10)
    generator = torch.Generator().manual_seed(6)
    keep = {group.layer: torch.rand(group.count, generator=generator) > 0.3 for group in ARCHITECTURES["conv4"].units(net)}
    masks = {key: torch.ones_like(value) for key, value in net.state_dict().items()}
    for group in ARCHITECTURES["conv4"].units(net):
        masks = group.keep(masks, keep[group.layer])
    state = {key: value * masks[key] for key, value in net.state_dict().items()}
    before = torch.random.get_rng_state()
    small, small_state = shrink(net, state, keep)
    assert torch.equal(torch.random.get_rng_state(), before)  # shrinking draws nothing from the caller's stream
    net.load_state_dict(state)
    assert [small.get_submodule(name).weight.shape[0] for name in keep] == [int(k.sum()) for k in keep.values()]
    assert sum(v.numel() for v in small_state.values()) < sum(v.numel() for v in state.values())
    x = torch.randn(4, 3, 8, 8, generator=generator)
    torch.testing.assert_close(small(x), net(x), rtol=1e-5, atol=1e-6)


def test_a_wrong_shape_or_option_is_refused():
    with pytest.raises(ValueError, match="channels, height, width"):
        ARCHITECTURES["conv2"].build((784,), 10)
    with pytest.raises(ValueError, match=r"\(features,\)"):
        ARCHITECTURES["mlp"].build((1, 28, 28), 10)
    with pytest.raises(ValueError, match="unknown options"):
        ARCHITECTURES["conv2"].build((3, 32, 32), 10, hidden_sizes=(5,))
    with pytest.raises(ValueError, match="at least 16x16"):
        ARCHITECTURES["lenet5"].build((1, 12, 12), 10)
    with pytest.raises(ValueError, match="conv_relu"):
        ARCHITECTURES["lenet5"].build((1, 28, 28), 10, conv_relu=1)


DOC = Path(__file__).resolve().parents[2] / "docs" / "architectures.md"


def test_the_docs_example_is_lenet5s_build_function():
    example = re.search(r"```python\n(def make\(.*?)\n\n\n", DOC.read_text(), re.S).group(1)
    assert example in (Path(__file__).resolve().parents[2] / "prunelab" / "architectures" / "lenet5.py").read_text()


def test_the_docs_counts_table_is_computed():
    rows = re.findall(r"^\| `(\w+)`, (\d)×(\d+)×(\d+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|", DOC.read_text(), re.M)
    assert len(rows) == 4
    for name, channels, height, width, weights, total, macs in rows:
        arch, shape = ARCHITECTURES[name], (int(channels), int(height), int(width))
        net = arch.build(shape, 10)
        counts = arch.weight_counts(net)
        assert [int(v.replace(",", "")) for v in (weights, total, macs)] == [
            sum(w for w, _ in counts.values()), sum(w + b for w, b in counts.values()),
            sum(arch.multiply_adds(net, shape).values())]
