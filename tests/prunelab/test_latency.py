"""Deployable forms of a pruned model: the same outputs as the masked dense net; rows and crossovers."""
import numpy as np
import pytest
import torch

from prunelab import latency, stacks
from prunelab.model import Net
from prunelab.pruning import METHODS

AMOUNTS = [0.0, 0.5, 0.9, 0.99]


def pruned_states(method, hidden, outputs, amounts=AMOUNTS, features=10, seed=0):
    torch.manual_seed(seed)
    state = Net(features, hidden, outputs).state_dict()
    masks = METHODS[method](state, amounts, np.random.default_rng(seed))
    return [{key: state[key] * masks[key][level] for key in state} for level in range(len(amounts))]


def reference(state, x):
    """The pipeline's own forward pass (stacks.forward, a stack of one), not any form's code."""
    return stacks.forward(stacks.stack([state]), x)[0]


@pytest.mark.parametrize("method", ["global-magnitude", "layerwise-random", "structured"])
@pytest.mark.parametrize("hidden,outputs", [([16], 1), ([12, 8], 3)])
def test_every_form_gives_the_masked_dense_outputs(method, hidden, outputs):
    x = torch.randn(37, 10, generator=torch.Generator().manual_seed(1))
    for state in pruned_states(method, hidden, outputs):
        expected = reference(state, x)
        for form in latency.FORMS:
            got = latency.deployable(state, form)(x)
            assert got.shape == expected.shape, form
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6, msg=form)


def test_shrunk_is_narrower_where_structured_pruning_removed_neurons():
    state = pruned_states("structured", [16], 1)[2]  # 90 % of the neurons
    net = latency.deployable(state, "shrunk")
    assert net.fc1.weight.shape[0] < 16
    assert latency.deployable(state, "dense").fc1.weight.shape[0] == 16


def test_a_net_with_no_live_neuron_shrinks_to_width_zero_and_still_runs():
    state = pruned_states("global-magnitude", [16], 1)[0]
    state = {**state, "fc2.weight": torch.zeros_like(state["fc2.weight"])}
    x = torch.randn(5, 10)
    shrunk = latency.deployable(state, "shrunk")
    assert shrunk.fc1.weight.shape[0] == 0
    for form in latency.FORMS:
        torch.testing.assert_close(latency.deployable(state, form)(x), reference(state, x))


def test_unknown_form_is_an_error_naming_the_forms():
    with pytest.raises(ValueError, match="expected one of dense, scipy-csr, torch-csr, shrunk"):
        latency.deployable(pruned_states("structured", [4], 1)[0], "coo")


def test_measure_gives_a_row_per_model_form_batch_and_thread_count():
    models = [{"method": method, "level": level, "sparsity": level, "state": state}
              for method in ("global-magnitude", "structured")
              for level, state in zip(AMOUNTS, pruned_states(method, [8], 1))]
    x = torch.randn(20, 10)
    before = torch.get_num_threads()
    rows = latency.measure(models, x, batches=[1, 20], thread_counts=[1, 2], repeats=2, warmup=1, min_seconds=0)
    keys = [(row["method"], row["level"], row["form"], row["batch"], row["threads"]) for row in rows]
    assert sorted(keys) == sorted((model["method"], model["level"], form, batch, count) for model in models
                                  for form in latency.FORMS for batch in (1, 20) for count in (1, 2))
    assert torch.get_num_threads() == before  # the thread count is put back
    dense = {(row["method"], row["level"], row["batch"], row["threads"]): row for row in rows if row["form"] == "dense"}
    for row in rows:
        assert row["min_s"] <= row["q25_s"] <= row["median_s"] <= row["q75_s"] and row["calls"] >= 1
        # The dense form's fastest repeat over this form's, the two measured side by side.
        reference = dense[row["method"], row["level"], row["batch"], row["threads"]]
        assert row["measured_speedup"] == reference["min_s"] / row["min_s"]
        if row["form"] == "dense":
            assert row["measured_speedup"] == row["measured_speedup_median"] == 1.0


def test_measure_computes_its_columns_from_the_timed_samples(monkeypatch):
    """time_forms replaced by fixed seconds per repeat: every column is the arithmetic on them."""
    def fixed(functions, x, repeats, warmup, min_seconds):
        times = {"dense": [4.0, 2.0, 6.0]}
        return ({name: list(times.get(name, [1.0, 4.0, 1.5])) for name in functions}, dict.fromkeys(functions, 8))
    monkeypatch.setattr(latency, "time_forms", fixed)
    models = [{"method": "global-magnitude", "sparsity": 0.5, "state": pruned_states("global-magnitude", [8], 1)[1]}]
    rows = {row["form"]: row for row in latency.measure(models, torch.randn(4, 10), [4], [1])}
    assert sorted(rows) == sorted(latency.FORMS)
    columns = ("min_s", "q25_s", "median_s", "q75_s", "calls", "measured_speedup", "measured_speedup_median")
    assert [rows["dense"][key] for key in columns] == [2.0, 3.0, 4.0, 5.0, 8, 1.0, 1.0]
    for form in latency.FORMS[1:]:
        # Fastest over fastest 2.0 / 1.0; the paired ratios 4/1, 2/4, 6/1.5 = 4, 0.5, 4: median 4
        # (the medians' ratio, 4.0 / 1.5, is neither).
        assert [rows[form][key] for key in columns] == [1.0, 1.25, 1.5, 2.75, 8, 2.0, 4.0], form


def test_measure_needs_the_dense_form_as_its_reference():
    models = [{"method": "structured", "sparsity": 0.0, "state": pruned_states("structured", [4], 1)[0]}]
    with pytest.raises(ValueError, match="expected dense among them"):
        latency.measure(models, torch.randn(3, 10), [1], [1], forms=["shrunk"])


def test_time_forms_gives_every_function_a_time_per_repeat():
    calls = []
    functions = {name: (lambda x, name=name: calls.append(name)) for name in ("a", "b")}
    samples, numbers = latency.time_forms(functions, torch.zeros(1), repeats=3, warmup=2, min_seconds=0)
    assert {name: len(times) for name, times in samples.items()} == {"a": 3, "b": 3}
    assert numbers == {"a": 1, "b": 1}
    assert calls == ["a", "a", "a", "b", "b", "b"] + ["a", "b"] * 3  # warm-up, calibration, then interleaved


def test_crossover_is_the_sparsity_from_which_a_form_wins_at_every_higher_level():
    def rows(speedups):
        return [{"method": "m", "form": "scipy-csr", "batch": 1, "threads": 1, "sparsity": s, "measured_speedup": v}
                for s, v in zip([0.0, 0.5, 0.8, 0.9, 0.99], speedups)]
    (wins,) = latency.crossovers(rows([0.4, 1.2, 0.9, 1.1, 3.0]))
    assert wins["crossover_sparsity"] == 0.9 and wins["best_measured_speedup"] == 3.0
    assert (wins["top_sparsity"], wins["top_measured_speedup"]) == (0.99, 3.0)
    (never,) = latency.crossovers(rows([0.4, 1.2, 1.5, 1.1, 0.9]))
    assert never["crossover_sparsity"] is None and never["best_measured_speedup"] == 1.5


def test_crossovers_keep_each_series_apart():
    rows = [{"method": "m", "regime": regime, "form": "scipy-csr", "batch": 1, "threads": 1, "sparsity": s,
             "measured_speedup": v} for regime, speedups in (("a", (0.5, 2.0)), ("b", (2.0, 0.5)))
            for s, v in zip((0.5, 0.9), speedups)]
    by_regime = latency.crossovers(rows, ("method", "regime"))
    assert [(row["regime"], row["crossover_sparsity"]) for row in by_regime] == [("a", 0.9), ("b", None)]
    (pooled,) = latency.crossovers(rows)
    assert pooled["method"] == "m" and "regime" not in pooled


def test_time_call_reports_the_median_between_its_quartiles():
    calls = []
    timing = latency.time_call(lambda x: calls.append(1), torch.zeros(1), repeats=5, warmup=1, min_seconds=0)
    assert timing["q25_s"] <= timing["median_s"] <= timing["q75_s"] and timing["calls"] == 1
    assert len(calls) == 1 + 1 + 5  # warm-up, calibration, repeats


def test_machine_names_the_cpu_cores_libraries_and_pins():
    described = latency.machine()
    assert described["cpu"] and described["usable_cores"] >= 1 and described["torch"] == torch.__version__
    assert set(described["pins"]) >= {"MKL_CBWR", "OMP_NUM_THREADS"}
