"""prunelab/costs.py: the cost columns of a pruned model, checked against hand counts, the documented
CSR formula, and torch.save / torch.nn.utils.prune run independently."""
import gzip
import io
import math

import pytest
import torch
from torch.nn.utils import prune

from prunelab import costs
from prunelab.stacks import stack
from prunelab.model import Net


def hand_state():
    """Net(3, 4) with 16 nonzero weights, a zero bias (fc1.bias[3]) and 21 parameters in all."""
    return {"fc1.weight": torch.tensor([[0.1, -0.9, 1.3], [-0.2, 0.5, -1.7], [0.3, -0.05, 0.7], [-1.1, 0.15, 0.4]]),
            "fc1.bias": torch.tensor([0.1, -0.2, 0.3, 0.0]),
            "fc2.weight": torch.tensor([[0.25, -0.02, 0.08, -1.6]]),
            "fc2.bias": torch.tensor([0.5])}


def hand_pruned():
    """hand_state with its 8 smallest weights zeroed: fc1 keeps 7 of 12, fc2 keeps neuron 3 only."""
    state = hand_state()
    state["fc1.weight"] = torch.tensor([[0.0, -0.9, 1.3], [0.0, 0.5, -1.7], [0.0, 0.0, 0.7], [-1.1, 0.0, 0.4]])
    state["fc2.weight"] = torch.tensor([[0.0, 0.0, 0.0, -1.6]])
    return state


def net_state(seed=0, hidden=256):
    torch.manual_seed(seed)
    return {key: value.detach().clone() for key, value in Net(25, hidden).state_dict().items()}


def torch_pruned(amount):
    """Net(25, 256) pruned by torch's own global L1 pruning, made plain with prune.remove."""
    torch.manual_seed(0)
    model = Net(25, 256)
    pairs = [(model.fc1, "weight"), (model.fc2, "weight")]
    prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=amount)
    for module, name in pairs:
        prune.remove(module, name)
    return {key: value.detach().clone() for key, value in model.state_dict().items()}


def saved_length(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return len(buffer.getvalue())


def test_counts_over_all_parameters_biases_included():
    row = costs.report(hand_pruned())
    assert row["total_params"] == 12 + 4 + 4 + 1
    assert row["nonzero_params"] == 7 + 3 + 1 + 1  # fc1 weights, nonzero fc1 biases, fc2 weight, fc2 bias
    assert row["sparsity"] == pytest.approx(9 / 21)
    assert row["compression"] == pytest.approx(21 / 12)
    assert row["fc1_nonzero_weights"] == 7 and row["fc2_nonzero_weights"] == 1
    assert row["fc1_sparsity"] == pytest.approx(5 / 12) and row["fc2_sparsity"] == pytest.approx(3 / 4)
    assert row["fc1_empty"] == 0 and row["fc2_empty"] == 0
    assert row["hidden_width"] == 1  # only neuron 3 still reaches the output


def test_macs_are_nonzero_weights_and_speedup_dense_over_macs():
    row = costs.report(hand_pruned())
    assert row["macs"] == 7 + 1
    assert row["speedup"] == pytest.approx(16 / 8)
    dense = costs.report(hand_state())
    assert dense["macs"] == 16 and dense["speedup"] == 1.0
    assert dense["sparsity"] == pytest.approx(1 / 21)  # the zero bias alone
    assert dense["compression"] == pytest.approx(21 / 20)


@pytest.mark.parametrize("zeroed, fc1_empty, fc2_empty, macs, width", [
    (("fc2.weight",), 0, 1, 12, 0),
    (("fc1.weight",), 1, 0, 4, 2),  # neurons 0 and 2 still output relu(positive bias)
    (("fc1.weight", "fc2.weight"), 1, 1, 0, 0),
])
def test_empty_flags_are_set_exactly_when_a_layer_is_all_zero(zeroed, fc1_empty, fc2_empty, macs, width):
    state = hand_state()
    for key in zeroed:
        state[key] = torch.zeros_like(state[key])
    row = costs.report(state)
    assert (row["fc1_empty"], row["fc2_empty"], row["macs"]) == (fc1_empty, fc2_empty, macs)
    assert row["speedup"] == (16 / macs if macs else math.inf)
    assert row["hidden_width"] == width


def test_one_weight_left_is_not_empty():
    state = hand_state()
    state["fc2.weight"] = torch.tensor([[0.0, 0.0, 0.0, 1e-30]])
    assert costs.report(state)["fc2_empty"] == 0


def test_all_zero_model_has_infinite_compression():
    state = {key: torch.zeros_like(value) for key, value in hand_state().items()}
    row = costs.report(state)
    assert row["nonzero_params"] == 0 and row["sparsity"] == 1.0
    assert row["compression"] == math.inf and row["speedup"] == math.inf


def test_csr_bytes_follow_the_documented_formula():
    # CSR of a weight matrix: 4 bytes per value + 4 per column index + 4 per row pointer (rows + 1);
    # biases dense at 4 bytes each.
    fc1 = 4 * 7 + 4 * 7 + 4 * (4 + 1)
    fc2 = 4 * 1 + 4 * 1 + 4 * (1 + 1)
    assert costs.report(hand_pruned())["csr_bytes"] == fc1 + 4 * 4 + fc2 + 4 * 1 == 112
    dense = (4 * 12 * 2 + 4 * 5) + 4 * 4 + (4 * 4 * 2 + 4 * 2) + 4
    assert costs.csr_bytes(hand_state()) == dense == 176


@pytest.mark.parametrize("state", [hand_state(), hand_pruned(), net_state()], ids=["hand", "pruned", "net"])
def test_checkpoint_bytes_is_the_length_of_a_torch_save(state):
    assert costs.report(state)["checkpoint_bytes"] == saved_length(state)


def test_gzip_shrinks_a_heavily_pruned_checkpoint():
    pruned, dense = costs.report(torch_pruned(0.95)), costs.report(net_state())
    assert pruned["sparsity"] > 0.9
    assert pruned["gzip_bytes"] < pruned["checkpoint_bytes"]
    assert pruned["gzip_bytes"] < dense["gzip_bytes"]
    # gzip of the same bytes, computed here.
    state = torch_pruned(0.95)
    buffer = io.BytesIO()
    torch.save(state, buffer)
    assert pruned["gzip_bytes"] == len(gzip.compress(buffer.getvalue(), compresslevel=6, mtime=0))


def test_small_checkpoint_is_smaller_when_neurons_were_removed():
    state = net_state()
    dense = costs.report(state)
    assert dense["hidden_width"] == 256 and dense["small_checkpoint_bytes"] == dense["checkpoint_bytes"]
    state["fc1.weight"][:128] = 0.0  # neurons 0..127 removed whole
    state["fc1.bias"][:128] = 0.0
    state["fc2.weight"][:, :128] = 0.0
    row = costs.report(state)
    assert row["hidden_width"] == 128
    assert row["small_checkpoint_bytes"] < row["checkpoint_bytes"]
    narrow = Net(25, 128)  # the width-128 net itself, saved here
    with torch.no_grad():
        narrow.fc1.weight.copy_(state["fc1.weight"][128:])
        narrow.fc1.bias.copy_(state["fc1.bias"][128:])
        narrow.fc2.weight.copy_(state["fc2.weight"][:, 128:])
        narrow.fc2.bias.copy_(state["fc2.bias"])
    plain = {key: value.clone() for key, value in narrow.state_dict().items()}  # as save_checkpoint writes it
    assert row["small_checkpoint_bytes"] == saved_length(plain)


@pytest.mark.parametrize("state", [hand_pruned(), torch_pruned(0.5)], ids=["hand", "net"])
def test_report_is_deterministic(state):
    first = costs.report(state)
    again = costs.report({key: value.clone() for key, value in state.items()})
    assert first == again


def test_reports_give_one_row_per_model_of_a_stack():
    states = [hand_state(), hand_pruned()]
    rows = costs.reports(stack(states))
    assert rows == [costs.report(state) for state in states]
    assert [row["nonzero_params"] for row in rows] == [20, 12]
