"""Does 99 % sparsity pay at inference? The fastest sparse form's time / the dense one's.

Two shapes: the default model (25 inputs, hidden [256], one sigmoid output) and LeNet-300-100's
([300, 100] on 64 inputs and 10 outputs, as the digits source gives it). Each is Net's initial
weights (torch seed 0) pruned layer-wise by magnitude to 99 % of every layer's weights (a
trained net's pattern differs, its counts per layer do not; layer-wise keeps the 256 -> 1 layer
from being emptied, as global pruning of an untrained net does). Forms and timing are
prunelab/latency.py's (dense masked, scipy CSR, torch CSR; shrunk shown apart: how far it
shrinks depends on the neurons the pattern leaves alive, few of 256 with 99 % of fc2's 256 weights gone). Batch 1 and 256, one thread, the numeric pins in
force, the forms' repeats interleaved and each form's fastest repeat (as python -m latency
does); every ratio is measured in this one run.

Usage: python bench/sparse_latency.py [--repeats N]
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import record  # noqa: E402  (bench/record.py; the script's own folder is on sys.path)

import stages  # noqa: E402,F401  (first: it pins the numerics before numpy and torch load)
import numpy as np  # noqa: E402
import torch  # noqa: E402
from prunelab import latency  # noqa: E402
from prunelab.costs import report  # noqa: E402
from prunelab.model import Net  # noqa: E402
from prunelab.pruning import layerwise_magnitude  # noqa: E402

SHAPES = {"default model (25 -> [256] -> 1)": (25, [256], 1),
          "LeNet-300-100 shape (64 -> [300, 100] -> 10)": (64, [300, 100], 10)}
SPARSE = ("scipy-csr", "torch-csr")
BATCHES = (1, 256)


def pruned(features, hidden, outputs, amount=0.99):
    torch.manual_seed(0)
    state = Net(features, hidden, outputs).state_dict()
    masks = layerwise_magnitude(state, [amount], np.random.default_rng(0))
    return {key: state[key] * masks[key][0] for key in state}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    repeats = parser.parse_args().repeats
    print(f"{latency.machine()['cpu']}, one thread, pinned numerics; fastest of {repeats} interleaved repeats")
    print("| model at 99 % of the weights | batch | dense µs | fastest sparse form | its µs | "
          "fastest sparse / dense | shrunk / dense |")
    print("|---|---|---|---|---|---|---|")
    for label, shape in SHAPES.items():
        state = pruned(*shape)
        x = torch.randn(max(BATCHES), shape[0], generator=torch.Generator().manual_seed(0))
        forms = {form: latency.deployable(state, form) for form in latency.FORMS}
        with latency.threads(1):
            for batch in BATCHES:
                samples, _ = latency.time_forms(forms, x[:batch], repeats=repeats)
                times = {form: min(values) for form, values in samples.items()}
                fastest = min(SPARSE, key=times.get)
                print(f"| {label}, sparsity {report(state)['sparsity']:.3f} | {batch} | {times['dense'] * 1e6:.1f} | "
                      f"{fastest} | {times[fastest] * 1e6:.1f} | {times[fastest] / times['dense']:.2f} | "
                      f"{times['shrunk'] / times['dense']:.2f} |")


if __name__ == "__main__":
    with record.printed("sparse_latency"):
        main()
