"""prunelab/names.py: the torch-free names equal the registries they stand for."""
from prunelab import names
from prunelab.architectures import ARCHITECTURES
from prunelab.pruning import METHODS
from prunelab.regimes import REGIMES


def test_method_and_regime_names_are_the_registries_keys_in_order():
    assert names.METHODS == tuple(METHODS)
    assert names.REGIMES == tuple(REGIMES)
    assert names.NEURON_METHODS == tuple(name for name, method in METHODS.items() if method.unit == "neurons")


def test_architecture_names_are_the_records_and_the_users_module():
    assert names.ARCHITECTURES == (*ARCHITECTURES, "module")
    assert names.IMAGE_ARCHITECTURES == tuple(name for name, record in ARCHITECTURES.items() if record.image)
