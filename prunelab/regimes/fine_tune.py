"""fine-tune: prune, then prune.finetune_epochs of Adam at prune.finetune_lr with the masks held
(Han et al. 2015's retraining after one pruning step)."""
from prunelab.options import Option
from prunelab.regimes.one_shot import pruned
from prunelab.regimes.record import Control, Regime

# Read by iterative and gradual too (prunelab/regimes/iterative.py, gradual.py).
EPOCHS = Option(10, lambda v: 1 <= v <= 10**5, "an integer in [1, 10**5]",
                "epochs of Adam after pruning, masks held (each round's, for iterative)")
LR = Option(0.01, lambda v: v > 0, "a number > 0", "Adam learning rate of fine-tuning", kind=float)


def settings(prune) -> dict:
    from prunelab.sweep_setup import Training
    return {"finetune": Training(prune["finetune_epochs"], prune["finetune_lr"])}


def run(setup, method) -> dict:
    weights, masks = pruned(setup, method)
    return {"fine-tune": setup.train(weights, masks, setup.finetune, f"fine-tune {method.name}")}


REGIME = Regime("fine-tune", run, "prune once, then fine-tune with the masks held",
                options={"finetune_epochs": EPOCHS, "finetune_lr": LR}, settings=settings,
                controls={"fine-tune": Control(lambda setup: setup.finetune)})
