"""What a pruned model costs when it runs: its inference time in each form a user could deploy.

Forms (FORMS), each a function of a batch (samples x features, float32) to the outputs that
the masked dense Net gives (a sigmoid for one output, else logits):
- dense: the masked weights in Net, as torch runs a checkpoint (zeros still multiplied);
- scipy-csr: every weight matrix as a scipy.sparse CSR array, activations features x samples;
- torch-csr: the same through torch.sparse_csr tensors (torch.mm of CSR by dense);
- shrunk: the narrower dense Net without dead neurons (prunelab.pruning.shrink).
Another architecture's module (a conv net, a user's) has prunelab/module_forms.py's forms
(dense, scipy-csr, shrunk: the same names, no torch-csr); forms_for gives either set.

Timing (time_call): warm-up calls, then repeats of a loop long enough for the timer, each
repeat's time per call, the forms' repeats interleaved; the fastest, the median and the
quartiles are reported. Measured speedup is the dense form's time over the form's, measured
side by side (a dense kernel multiplies every zero: the dense model's time at any level),
beside costs.report's theoretical `speedup`;
the crossover is the lowest sparsity from which a form beats dense at every higher level.
Timings depend on the machine: they never enter DVC outputs.
"""
import contextlib
import functools
import statistics
import time
import warnings
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from prunelab import module_forms
from prunelab.architectures import units
from prunelab.model import Net, layer_names
from prunelab.progress import progress
from prunelab.pruning import shrink

FORMS = ("dense", "scipy-csr", "torch-csr", "shrunk")
Forward = Callable[[torch.Tensor], torch.Tensor]


def _finish(logits: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(logits) if logits.shape[-1] == 1 else logits


def net_of(state: dict[str, torch.Tensor]) -> Net:
    """A Net of the state's own shapes holding its weights (any depth; a width may be 0)."""
    names = layer_names(state)
    widths = [state[f"{name}.weight"].shape[0] for name in names]
    with warnings.catch_warnings():  # a layer shrunk to no neuron: torch warns its init is a no-op
        warnings.simplefilter("ignore")
        net = Net(state["fc1.weight"].shape[1], widths[:-1], widths[-1])
    net.load_state_dict(state)
    return net.eval()


def _dense(state):
    return net_of(state)


def _scipy_csr(state):
    import scipy.sparse  # only where this form is built
    layers = [(scipy.sparse.csr_array(state[f"{name}.weight"].numpy()), state[f"{name}.bias"].numpy()[:, None])
              for name in layer_names(state)]

    def forward(x):
        # Features x samples: CSR (outputs x inputs) times a dense block is scipy's fast product.
        h = np.ascontiguousarray(x.numpy().T)
        for index, (weight, bias) in enumerate(layers):
            h = weight @ h
            h += bias
            if index < len(layers) - 1:
                np.maximum(h, 0, out=h)
        return _finish(torch.from_numpy(np.ascontiguousarray(h.T)))
    return forward


def _torch_csr(state):
    with warnings.catch_warnings():  # torch: "Sparse CSR tensor support is in beta state"
        warnings.simplefilter("ignore")
        layers = [(state[f"{name}.weight"].to_sparse_csr(), state[f"{name}.bias"][:, None])
                  for name in layer_names(state)]

    def forward(x):
        h = x.T.contiguous()
        for index, (weight, bias) in enumerate(layers):
            h = torch.mm(weight, h).add_(bias)
            if index < len(layers) - 1:
                h.relu_()
        return _finish(h.T.contiguous())
    return forward


def _shrunk(state):
    return net_of(shrink(state))


BUILDERS = {"dense": _dense, "scipy-csr": _scipy_csr, "torch-csr": _torch_csr, "shrunk": _shrunk}


def deployable(state: dict[str, torch.Tensor], form: str) -> Forward:
    """The pruned model (a plain, masked state_dict) in one of FORMS, built once, ready to time."""
    if form not in BUILDERS:
        raise ValueError(f"unknown form {form!r}: expected one of {', '.join(FORMS)}")
    return BUILDERS[form]({key: value.detach().float().contiguous() for key, value in state.items()})


def forms_for(module: torch.nn.Module | None) -> tuple[tuple[str, ...], Callable[[dict, str], Forward]]:
    """(the forms, a function (state, form) -> Forward that builds one) of the MLP (module None:
    FORMS, deployable) or of another architecture's module (module_forms's, without shrunk where
    its layers do not chain unit to unit, as a user's module may not: nothing to shrink)."""
    if module is None:
        return FORMS, deployable
    try:
        units(module)
        forms = module_forms.FORMS
    except ValueError:
        forms = tuple(form for form in module_forms.FORMS if form != "shrunk")
    return forms, functools.partial(module_forms.deployable, module)


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """torch's intra-op threads (and MKL's, which torch sets with them) for the block; scipy's
    CSR product is single-threaded whatever the count."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _loop(function: Forward, x: torch.Tensor, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        function(x)
    return time.perf_counter() - start


def _spread(samples: list[float]) -> tuple[float, float, float]:
    """(25th percentile, median, 75th percentile)."""
    return tuple(statistics.quantiles(samples, n=4, method="inclusive")) if len(samples) > 1 else tuple(samples * 3)


@torch.inference_mode()
def time_forms(functions: dict[str, Forward], x: torch.Tensor, repeats: int = 7, warmup: int = 3,
               min_seconds: float = 2e-3) -> tuple[dict[str, list[float]], dict[str, int]]:
    """(seconds per call of each function, one per repeat; calls per repeat). Each repeat is a
    loop of as many calls as last min_seconds (so the timer's resolution does not count), and
    the repeats are interleaved: repeat r of every function runs before repeat r + 1 of any, so
    a change in the machine's load falls on all of them alike."""
    numbers = {}
    for name, function in functions.items():
        for _ in range(warmup):
            function(x)
        number = 1
        while _loop(function, x, number) < min_seconds and number < 2**20:
            number *= 2
        numbers[name] = number
    samples = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            samples[name].append(_loop(function, x, numbers[name]) / numbers[name])
    return samples, numbers


def time_call(function: Forward, x: torch.Tensor, repeats: int = 7, warmup: int = 3,
              min_seconds: float = 2e-3) -> dict[str, float]:
    """Seconds per call of function(x): median, 25th and 75th percentile over the repeats."""
    samples, numbers = time_forms({"call": function}, x, repeats, warmup, min_seconds)
    q25, median, q75 = _spread(samples["call"])
    return {"median_s": median, "q25_s": q25, "q75_s": q75, "calls": numbers["call"]}


def measure(models: Iterable[dict], x: torch.Tensor, batches: Iterable[int], thread_counts: Iterable[int],
            forms: Iterable[str] = FORMS, repeats: int = 7, warmup: int = 3,
            min_seconds: float = 2e-3, deploy: Callable[[dict, str], Forward] = deployable) -> list[dict]:
    """One row per model x form x batch x thread count. models: dicts with a `state` (a plain
    masked state_dict) and the columns to carry (method and sparsity at least), each form built
    by deploy(state, form) (another architecture's: forms_for). A batch is the first `batch`
    samples of x. Against the dense form, measured side by side (forms must include
    it): measured_speedup, its fastest repeat's time over this form's fastest (other processes
    only ever add time, so the fastest repeat is the one they disturbed least: timeit's advice),
    and measured_speedup_median, the median over the repeats of the paired ratios."""
    models, forms = list(models), list(forms)
    if "dense" not in forms:
        raise ValueError(f"forms {forms}: expected dense among them, the reference of measured_speedup")
    built = [{form: deploy(model["state"], form) for form in forms} for model in models]
    rows = []
    for count in thread_counts:
        with threads(count):
            for batch in batches:
                inputs = x[:batch].contiguous()
                for model, functions in progress(list(zip(models, built)), f"latency, batch {batch}, "
                                                 f"{count} thread{'s' if count > 1 else ''}", unit="model"):
                    carried = {key: value for key, value in model.items() if key != "state"}
                    samples, numbers = time_forms(functions, inputs, repeats, warmup, min_seconds)
                    for form in forms:
                        q25, median, q75 = _spread(samples[form])
                        paired = statistics.median(d / t for d, t in zip(samples["dense"], samples[form]))
                        rows.append({**carried, "form": form, "batch": len(inputs), "threads": count,
                                     "min_s": min(samples[form]), "median_s": median, "q25_s": q25, "q75_s": q75,
                                     "calls": numbers[form],
                                     "measured_speedup": min(samples["dense"]) / min(samples[form]),
                                     "measured_speedup_median": paired})
    return rows


def crossovers(rows: list[dict], series: tuple = ("method",)) -> list[dict]:
    """Per series (the columns that name one line of models: a method, or a method and its
    regime), form (other than dense), batch and threads: the lowest sparsity from which the form
    beats the dense model (measured_speedup > 1) at that level and every higher one (None where
    it does not beat it even at the highest level), the best measured speedup, and the measured
    and theoretical speedups at the highest level."""
    groups = {}
    for row in rows:
        if row["form"] != "dense":
            groups.setdefault(tuple(row[column] for column in series) + (row["form"], row["batch"], row["threads"]),
                              []).append(row)
    result = []
    for key, members in groups.items():
        members = sorted(members, key=lambda row: row["sparsity"])
        crossover = None
        for row in reversed(members):
            if row["measured_speedup"] <= 1:
                break
            crossover = row["sparsity"]
        top = members[-1]
        result.append({**dict(zip(series + ("form", "batch", "threads"), key)),
                       "crossover_sparsity": crossover,
                       "best_measured_speedup": max(row["measured_speedup"] for row in members),
                       "top_sparsity": top["sparsity"], "top_measured_speedup": top["measured_speedup"],
                       "top_theoretical_speedup": top.get("theoretical_speedup")})
    return result


def machine() -> dict[str, object]:
    """What the timings ran on: CPU model (from /proc/cpuinfo where there is one), cores this
    process may use, the libraries' versions and BLAS, the numeric pins in the environment, and
    the load average."""
    import os
    import platform

    import scipy

    from prunelab.numerics import PINNED, usable_cores
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    config = torch.__config__.show()
    blas = next((part.split("=", 1)[1].strip() for part in config.split(",") if "BLAS_INFO=" in part), "unknown")
    return {"cpu": cpu, "usable_cores": usable_cores(), "logical_cpus": os.cpu_count(),
            "python": platform.python_version(), "torch": torch.__version__, "torch_blas": blas,
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(), "numpy": np.__version__,
            "scipy": scipy.__version__, "pins": {key: os.environ.get(key) for key in PINNED},
            # Other processes' load: on a shared machine the timings are only as steady as it.
            "load_average_1_5_15min": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
