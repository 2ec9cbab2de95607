"""docs/real-images.md: each figure of its prose rebuilt from the Fashion-MNIST results kept in
docs/results/fashion-300-100-* and found as written (the tables are command/output blocks,
which tests/test_quoted_figures.py reruns)."""
import functools
import json
import re

import pytest

from tests.conftest import ROOT
from tests.test_quoted_figures import aggregate_rows, text
from tests.test_readme import block

RESULTS = ROOT / "docs/results"
GOOD = ("global-magnitude", "lamp", "global-gradient")
RANDOM = ("global-random", "layerwise-random", "erk-random")
HIGH = ("0.8", "0.9", "0.917", "0.95")


@functools.cache
def rows(name):
    return aggregate_rows(RESULTS / name / "prune_aggregate.csv")


def methods():
    """(method, regime, level) -> the aggregate row, of fashion-300-100-methods."""
    return {(row["method"], row["regime"], row["level"]): row for row in rows("fashion-300-100-methods")}


def accuracy(row, std=True):
    return f"{float(row['accuracy_mean']):.4f}" + (f" ± {float(row['accuracy_std']):.4f}" if std else "")


def dense():
    return json.loads((RESULTS / "fashion-300-100-methods/train.json").read_text())


def fine_tuned(method, level):
    return float(methods()[method, "fine-tune", level]["accuracy_mean"])


def good_span():
    kept = [fine_tuned(method, level) for method in GOOD for level in ("0.8", "0.9")]
    return f"they keep {min(kept):.4f}–{max(kept):.4f} at 80–90 % removed"


def random_gap():
    gaps = [100 * (fine_tuned(good, level) - fine_tuned(random, level)) for level in HIGH for good in GOOD for random in RANDOM]
    assert min(gaps) > 0
    return f"trails them by {min(gaps):.1f} to {max(gaps):.1f} points from 80 % on"


def one_shot_loss():
    at_80 = {method: row for (method, regime, level), row in methods().items() if (regime, level) == ("one-shot", "0.8")}
    best = max(at_80, key=lambda method: float(at_80[method]["accuracy_mean"]))
    assert best == "lamp"
    loss = 100 * (dense()["test_accuracy_mean"] - float(at_80[best]["accuracy_mean"]))
    return f"loses at least {loss:.1f} points by 80 % (LAMP, the best there: {accuracy(at_80[best], std=False)})"


def random_at_95():
    table = methods()
    global_random, layerwise, erk = (accuracy(table[method, "one-shot", "0.95"], std=False) for method in RANDOM)
    return f"near chance (0.10) at 95 % ({global_random} and {layerwise}; ERK {erk})"


def layerwise_gradient():
    table = methods()
    gradient = [accuracy(table["layerwise-gradient", "fine-tune", level]) for level in ("0.917", "0.95")]
    magnitude = [accuracy(table["layerwise-magnitude", "fine-tune", level]) for level in ("0.917", "0.95")]
    return (f"fails fine-tuned** ({gradient[0]} at 91.7 %, {gradient[1]} at 95 %): it removes the same fraction of "
            f"each layer as layer-wise magnitude ({magnitude[0]}, {magnitude[1]})")


def kept(row, layer):
    return f"{100 * (1 - float(row[f'{layer}_sparsity_mean'])):.1f} %"


def global_against_layerwise():
    table = methods()
    at_917 = table["global-magnitude", "fine-tune", "0.917"]
    return (f"(global magnitude {accuracy(table['global-magnitude', 'fine-tune', '0.95'])} against layer-wise "
            f"{accuracy(table['layerwise-magnitude', 'fine-tune', '0.95'])} at 95 %): it leaves the output layer denser "
            f"(fc3 {kept(at_917, 'fc3')} kept at 91.7 %, the hidden layers {kept(at_917, 'fc1')} and {kept(at_917, 'fc2')})")


def dense_control():
    controls = {accuracy(row) for (method, regime, level), row in methods().items() if regime == "dense-budget-fine-tune"}
    assert len(controls) == 1
    return f"rows) score {controls.pop()}: the dense net has nothing to gain from them"


def dense_accuracy():
    trained = dense()
    return (f"Dense test accuracy **{trained['test_accuracy_mean']:.4f} ± {trained['test_accuracy_std']:.4f}** (mean ± "
            f"std over the seeds, `train.json`; seed 0: {trained['test_accuracy']:.4f})")


def dense_against_han():
    return f"Fashion-MNIST is harder than MNIST (dense accuracy {dense()['test_accuracy_mean']:.4f} here against"


def dense_of_the_table():
    trained = dense()
    return (f"dense {trained['test_accuracy_mean']:.4f} ± {trained['test_accuracy_std']:.4f}, from "
            "`docs/results/fashion-300-100-methods/prune_aggregate.csv`")


SENTENCES = [good_span, random_gap, one_shot_loss, random_at_95, layerwise_gradient, global_against_layerwise,
             dense_control, dense_accuracy, dense_of_the_table, dense_against_han]


@pytest.mark.parametrize("sentence", SENTENCES, ids=lambda sentence: sentence.__name__)
def test_the_prose_figure_is_its_results_file(sentence):
    assert sentence() in text(ROOT / "docs/real-images.md")


def imp():
    """(regime, round) -> the round rows of fashion-300-100-imp; (regime, level) for gradual's."""
    found = {}
    for row in rows("fashion-300-100-imp"):
        found[row["regime"], int(row["round"]) if row["level_by"] == "round" else row["level"]] = row
    return found


def points(a, b):
    return f"{100 * (float(a) - float(b)):.1f}"


def ticket_rounds():
    table, dense_mean = imp(), dense()["test_accuracy_mean"]
    last = max(key[1] for key in table if key[0] == "lottery-ticket")
    ticket = [float(table["lottery-ticket", r]["accuracy_mean"]) for r in range(last + 1)]
    above = [r for r in range(1, last + 1) if ticket[r] >= dense_mean]
    assert above == list(range(above[0], above[-1] + 1))  # one run of rounds
    early = [r for r in range(1, above[0])]  # the rounds before it, each named with its gap
    best = max(range(last + 1), key=lambda r: ticket[r])
    left = lambda r: f"{100 * (1 - float(table['lottery-ticket', r]['amount_mean'])):.1f} %"
    before = "".join(f" (round {r}: {100 * (dense_mean - ticket[r]):.2f} points below)" for r in early)
    return (f"The rewound ticket is at or above dense ({dense_mean:.4f}) at rounds {above[0]}–{above[-1]}{before}, "
            f"down to {left(above[-1])} of the weights left (best {ticket[best]:.4f} at {left(best)}), and "
            f"{100 * (dense_mean - ticket[last]):.2f} points below at {left(last)} "
            f"({accuracy(table['lottery-ticket', last])})")


def reinit_rounds():
    table, dense_mean = imp(), dense()["test_accuracy_mean"]
    control = {r: table["lottery-reinit", r]["accuracy_mean"] for r in (3, 7, 12)}
    return (f"{points(dense_mean, control[3])} points below dense at 51.3 %, {points(dense_mean, control[7])} at "
            f"21.1 %, {points(dense_mean, control[12])} at 7.0 % ({accuracy(table['lottery-reinit', 12])}), where the "
            f"ticket is {points(table['lottery-ticket', 12]['accuracy_mean'], control[12])} points ahead")


def imp_summary():
    found = json.loads((RESULTS / "fashion-300-100-imp/prune.json").read_text())["layerwise-magnitude"]
    ticket, control = found["lottery-ticket"], found["lottery-reinit"]
    percent = lambda entry, stat: f"{100 * entry[f'max_sparsity_within_tolerance_{stat}']:.1f}"
    return (f"the ticket to {percent(ticket, 'mean')} % sparsity over all parameters in every seed (std "
            f"{percent(ticket, 'std')}), the control to {percent(control, 'mean')} % ± {percent(control, 'std')}; "
            f"gain over the dense control {100 * ticket['gain_over_dense_budget_mean']:.2f} ± "
            f"{100 * ticket['gain_over_dense_budget_std']:.2f} points for the ticket, "
            f"{100 * control['gain_over_dense_budget_mean']:.2f} ± {100 * control['gain_over_dense_budget_std']:.2f} "
            f"for the control").replace("-", "−")


def dense_rounds():
    table = imp()
    control = [float(row["accuracy_mean"]) for (regime, r), row in table.items()
               if regime == "dense-budget-lottery-ticket" and r > 0]
    return f"training the dense net r × 12 epochs more (rounds 1–12) gives {min(control):.4f}–{max(control):.4f}"


def gradual():
    table, fine = imp(), methods()
    shown = [f"{float(table['gradual', level]['accuracy_mean']):.4f}" for level in ("0.8", "0.9", "0.93")]
    tuned = [accuracy(fine["layerwise-magnitude", "fine-tune", level], std=False) for level in ("0.8", "0.9", "0.917")]
    last = max(key[1] for key in table if key[0] == "lottery-ticket")
    return (f"keeps {shown[0]} at 80 % removed, {shown[1]} at 90 %, {shown[2]} at 93 %: ahead of one-shot + 2 epochs "
            f"of fine-tuning (layer-wise magnitude {tuned[0]}, {tuned[1]}; {tuned[2]} at 91.7 %) but behind the "
            f"ticket's twelve rounds at 93 % ({accuracy(table['lottery-ticket', last], std=False)})")


def han_table_1():
    table, dense_mean = methods(), dense()["test_accuracy_mean"]
    magnitude = table["global-magnitude", "fine-tune", "0.917"]
    return (f"{float(magnitude['compression_mean']):.1f}× over all parameters, biases kept): {dense_mean:.4f} → "
            f"{accuracy(magnitude)}, {points(dense_mean, magnitude['accuracy_mean'])} points lost; LAMP "
            f"{accuracy(table['lamp', 'fine-tune', '0.917'])}, global gradient "
            f"{accuracy(table['global-gradient', 'fine-tune', '0.917'])}")


def han_table_2():
    at_917 = methods()["global-magnitude", "fine-tune", "0.917"]
    return f"global magnitude at 91.7 %: fc1 {kept(at_917, 'fc1')}, fc2 {kept(at_917, 'fc2')}, fc3 {kept(at_917, 'fc3')}"


def dense_of_the_rounds():
    trained = json.loads((RESULTS / "fashion-300-100-imp/train.json").read_text())
    return (f"Test accuracy per round, mean ± std over three seeds, dense {trained['test_accuracy_mean']:.4f} ± "
            f"{trained['test_accuracy_std']:.4f}, beside the")


SENTENCES += [dense_of_the_rounds, ticket_rounds, reinit_rounds, imp_summary, dense_rounds, gradual, han_table_1, han_table_2]


def training_speed():
    """The speed figures of the prose, from the page's own bench block."""
    ratios = dict(re.findall(r"batch (\d+, \d seeds?) / two-core GEMM \| (\d+\.\d+) \|", block("bench:real-images")))
    return (f"the study's three seeds together: {ratios['256, 3 seeds']} of the machine's two-core GEMM rate** (target "
            f"≥ 0.6); one seed alone {ratios['256, 1 seed']}, at 1024 {ratios['1024, 1 seed']}")


SENTENCES.append(training_speed)
