"""prunelab/module_forms.py: every deployable form of a pruned conv net gives the masked dense
net's outputs, and the shrunk one is smaller where units contribute nothing."""
import pytest
import torch

from prunelab.architectures import ARCHITECTURES, weight_counts
from prunelab.module_forms import FORMS, deployable, live_units


def pruned(name, shape, keep=0.1, seed=0):
    torch.manual_seed(seed)
    module = ARCHITECTURES[name].build(shape, 10)
    generator = torch.Generator().manual_seed(seed)
    state = {key: value * (torch.rand(value.shape, generator=generator) < keep) if key.endswith("weight") else value
             for key, value in module.state_dict().items()}
    return module, state


@pytest.mark.parametrize("name, shape", [("lenet5", (1, 28, 28)), ("conv2", (3, 8, 8)),
                                         ("lenet5", (1, 16, 16))])
def test_every_form_gives_the_masked_nets_outputs(name, shape):
    module, state = pruned(name, shape)
    x = torch.randn(7, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        dense = deployable(module, state, "dense")(x)
        assert dense.shape == (7, 10)
        for form in FORMS[1:]:
            got = deployable(module, state, form)(x)
            assert torch.allclose(got, dense, rtol=1e-4, atol=1e-5 * dense.abs().max().item()), form


def test_units_with_no_outgoing_weight_are_shrunk_away_and_what_feeds_only_them_too():
    module, state = pruned("conv2", (1, 8, 8), keep=1.0)
    # fc1's neurons 0..99 lose every outgoing weight (fc2's columns); conv2's filters 0..9 lose
    # theirs (fc1's columns of those channels, 16 positions each) and then
    # conv1's filter 3 loses its every outgoing weight in conv2 except into filters 0..9.
    state["fc2.weight"][:, :100] = 0
    state["fc1.weight"][:, :10 * 16] = 0
    state["conv2.weight"][10:, 3] = 0
    keep = live_units(module, state)
    assert keep["fc1"].sum() == 156 and keep["conv2"].sum() == 54 and keep["conv1"].sum() == 63
    assert not keep["conv1"][3] and keep["conv1"][2]
    small = deployable(module, state, "shrunk")
    counts = weight_counts(small)
    assert counts["conv1"] == (63 * 9, 63) and counts["conv2"] == (54 * 63 * 9, 54) and counts["fc1"][1] == 156
    x = torch.randn(5, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.allclose(small(x), deployable(module, state, "dense")(x), atol=1e-5)


def test_an_unknown_form_names_the_forms():
    module, state = pruned("lenet5", (1, 16, 16))
    with pytest.raises(ValueError, match="^unknown form 'csr': expected one of dense, scipy-csr, shrunk$"):
        deployable(module, state, "csr")
