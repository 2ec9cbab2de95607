"""Reference implementations written from the papers, for tests/prunelab/test_paper_definitions.py.

None of this imports prunelab's scores, masks, schedules or Method internals: the expected side
must not share code with the side under test. Plain Python lists of floats; the project's two
documented conventions are implemented here on their own: a level removes round(a * n), and
ties go to the earlier entry (the sort key carries the index)."""
import math

import torch
from torch import nn


def layers(state):
    """The layers with a weight tensor, in the state's order (torch's: input to output)."""
    return [key[:-len(".weight")] for key in state if key.endswith(".weight")]


def flat(tensor):
    return [float(value) for value in tensor.reshape(-1).tolist()]


def lowest(scores, count, alive=None):
    """Indices of the `count` removed: what is dead first, then lowest score, earlier index first."""
    alive = alive if alive is not None else [True] * len(scores)
    order = sorted(range(len(scores)), key=lambda i: (alive[i], scores[i], i))
    return set(order[:count])


def masks_from_removed(state, removed):
    """{layer.weight: 0/1 tensor} from {layer: set of flat indices removed}."""
    out = {}
    for layer, gone in removed.items():
        weight = state[f"{layer}.weight"]
        out[f"{layer}.weight"] = torch.tensor([0.0 if i in gone else 1.0 for i in range(weight.numel())]).reshape(weight.shape)
    return out


def magnitude(state):
    """Han et al. 2015: a weight's score is |w|."""
    return {layer: [abs(v) for v in flat(state[f"{layer}.weight"])] for layer in layers(state)}


def lamp(state):
    """Lee et al. 2021, eq. (2): with a layer's weights indexed so that |w_1| <= ... <= |w_n|
    (ties: the earlier first), score(u) = w_u^2 / sum_{v >= u} w_v^2."""
    out = {}
    for layer in layers(state):
        squares = [v * v for v in flat(state[f"{layer}.weight"])]
        order = sorted(range(len(squares)), key=lambda i: (squares[i], i))
        score, tail = [0.0] * len(squares), 0.0
        for i in reversed(order):
            tail += squares[i]
            score[i] = squares[i] / tail if tail else 0.0
        out[layer] = score
    return out


def saliency(state, gradient):
    """Molchanov et al. 2017 / ShrinkBench's gradient magnitude: |w * dL/dw|."""
    return {layer: [abs(w * g) for w, g in zip(flat(state[f"{layer}.weight"]), flat(gradient[f"{layer}.weight"]))]
            for layer in layers(state)}


def autograd_gradient(state, x, y):
    """dL/dw by autograd through torch.nn: Linear/ReLU layers, Sigmoid and BCELoss on the
    float 0/1 label column (the seed's Net and loss for one output), full batch."""
    names = layers(state)
    modules = []
    for index, layer in enumerate(names):
        weight = state[f"{layer}.weight"]
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(state[f"{layer}.bias"])
        modules += [linear, nn.ReLU()] if index < len(names) - 1 else [linear, nn.Sigmoid()]
    net = nn.Sequential(*modules)
    nn.BCELoss()(net(x), y).backward()
    linears = [module for module in net if isinstance(module, nn.Linear)]
    return {f"{layer}.weight": linear.weight.grad.detach() for layer, linear in zip(names, linears)}


def pooled_removed(scores, total, alive=None):
    """Global ranking: all layers' scores in one list (input layer first), `total` lowest go."""
    names = list(scores)
    pooled = [v for layer in names for v in scores[layer]]
    live = [a for layer in names for a in alive[layer]] if alive else None
    gone = lowest(pooled, total, live)
    removed, start = {}, 0
    for layer in names:
        removed[layer] = {i - start for i in gone if start <= i < start + len(scores[layer])}
        start += len(scores[layer])
    return removed


def layer_removed(scores, counts, alive=None):
    return {layer: lowest(values, counts[layer], alive[layer] if alive else None) for layer, values in scores.items()}


def neuron_scores(state):
    """Structured: a hidden neuron's L2 norm of its incoming and its outgoing weights."""
    names = layers(state)
    out = {}
    for layer, following in zip(names, names[1:]):
        incoming, outgoing = state[f"{layer}.weight"], state[f"{following}.weight"]
        out[layer] = [math.sqrt(sum(v * v for v in flat(incoming[j])) + sum(v * v for v in flat(outgoing[:, j])))
                      for j in range(incoming.shape[0])]
    return out


def neuron_masks(state, removed):
    """Weight and bias masks with the removed neurons' row, bias and outgoing column zero."""
    names = layers(state)
    out = {key: torch.ones_like(value) for key, value in state.items()}
    for layer, following in zip(names, names[1:]):
        for j in removed.get(layer, ()):
            out[f"{layer}.weight"][j] = 0
            out[f"{layer}.bias"][j] = 0
            out[f"{following}.weight"][:, j] = 0
    return out


def erk_counts(shapes, kept_total):
    """Evci et al. 2020 (RigL), ERK for linear layers: density_l = eps (n_in + n_out) / (n_in n_out),
    eps such that the kept weights total `kept_total`; a layer whose density would pass 1 is kept
    dense and eps solved again over the others, until none passes. Kept weights per layer (floats)."""
    return erk_kernel_counts(shapes, kept_total)  # a linear layer's (n_out, n_in): sum / prod is the same


def erk_kernel_counts(shapes, kept_total):
    """RigL's ERK for any weight tensor (google-research/rigl, sparse_utils.get_sparsities_erdos_renyi):
    raw density sum(shape) / prod(shape), so a conv kernel (c_out, c_in, k_h, k_w) gets
    (c_out + c_in + k_h + k_w) / (c_out c_in k_h k_w); scaled to `kept_total`, the tensors that
    would pass density 1 made dense and the rest solved again. Kept weights per tensor (floats)."""
    sizes, factors = [], []
    for shape in shapes:
        size = 1
        for dim in shape:
            size *= dim
        sizes.append(size)
        factors.append(sum(shape))  # density * size = eps * sum(shape)
    dense = set()
    while True:
        rest = kept_total - sum(sizes[i] for i in dense)
        eps = rest / sum(factors[i] for i in range(len(shapes)) if i not in dense)
        over = {i for i in range(len(shapes)) if i not in dense and eps * factors[i] > sizes[i]}
        if not over:
            return [float(sizes[i]) if i in dense else eps * factors[i] for i in range(len(shapes))]
        dense |= over


def cubic(s_i, s_f, t, t_0, n, dt):
    """Zhu & Gupta 2017, eq. (1): s_t = s_f + (s_i - s_f)(1 - (t - t_0)/(n dt))^3 for t in
    [t_0, t_0 + n dt]; s_f after."""
    if t >= t_0 + n * dt:
        return s_f
    return s_f + (s_i - s_f) * (1 - (t - t_0) / (n * dt)) ** 3


def frankle_carbin_left(sizes, rates, target):
    """Frankle & Carbin 2019: each round removes p% of each layer's surviving weights (the output
    layer at its own rate; one pooled group for global pruning), round(p * survivors), until
    the fraction removed reaches `target`. Survivors per group after each round, round 0 first."""
    total, left = sum(sizes), [list(sizes)]
    while (total - sum(left[-1])) / total < target:
        step = [round(rate * kept) for kept, rate in zip(left[-1], rates)]
        if not any(step):
            break
        left.append([kept - gone for kept, gone in zip(left[-1], step)])
    return left
