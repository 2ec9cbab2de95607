"""Stage train: the seed's network (model.hidden_sizes deep) and training loop, for train.repeats
torch seeds at once.

The models train as stacks (prunelab/fit.py), in parallel over the machine's cores: each
follows its own trajectory, so seed s here is seed s trained alone, bit for bit. data/model.pt
is the plain checkpoint of seed train.seed; data/models.pt holds every model.
"""
from prunelab import compute, fit, stacks
from prunelab.aggregate import mean_std
from prunelab.shapes import outputs_for
from stages import paths, run, schema
from stages.artifacts import rounded, write_csv, write_json
from stages.checkpoints import device_for, load_splits, save_checkpoint, save_stack


def train(x_train, y_train, x_test, y_test, hidden_sizes, seeds, epochs, lr, batch_size=0, device="cpu"):
    """The trained stack, one model per torch seed, and the first model's per-epoch scores.
    Labels are class numbers; two classes train one sigmoid output, more one output per class."""
    curve = []

    def record(epoch, weights):
        first = {key: value[:1].cpu() for key, value in weights.items()}
        curve.append({"epoch": epoch, **scores(first, x_train, y_train, x_test, y_test, 0)})

    classes = int(max(y_train.max(), y_test.max())) + 1
    initial = stacks.init_stack(seeds, x_train.shape[1], hidden_sizes, outputs_for(classes))
    trained = fit.train(initial, x_train, y_train, epochs, lr, batch_size=batch_size, order_seeds=seeds,
                        after_epoch=record, device=device)
    return trained, curve


def scores(weights, x_train, y_train, x_test, y_test, index=None):
    """Loss and accuracy on both splits: of one model (index) or arrays over all."""
    train_accuracy, train_loss = stacks.evaluate(weights, x_train, y_train)
    test_accuracy, test_loss = stacks.evaluate(weights, x_test, y_test)
    values = {"train_loss": train_loss, "train_accuracy": train_accuracy,
              "test_loss": test_loss, "test_accuracy": test_accuracy}
    return {key: float(value[index]) for key, value in values.items()} if index is not None else values


def main():
    params = schema.load("model", "train")
    settings = params["train"]
    device = device_for(settings["device"])
    compute.setup()
    (x_train, y_train), (x_test, y_test) = load_splits()
    seeds = list(range(settings["seed"], settings["seed"] + settings["repeats"]))
    weights, curve = train(x_train, y_train, x_test, y_test, params["model"]["hidden_sizes"], seeds,
                           settings["epochs"], settings["lr"], settings["batch_size"], device)
    save_checkpoint(paths.MODEL, stacks.unstack(weights, 0))
    save_stack(paths.MODELS, weights, seeds)
    write_csv(paths.TRAIN_CURVE, [rounded(row) for row in curve])
    final = {key: value for key, value in curve[-1].items() if key != "epoch"}
    every = scores(weights, x_train, y_train, x_test, y_test)
    spread = {}
    for key in ("test_accuracy", "train_accuracy"):
        spread[f"{key}_mean"], spread[f"{key}_std"] = mean_std(every[key])
    parameters = sum(value[0].numel() for value in weights.values())
    write_json(paths.TRAIN_METRICS, rounded({**final, "parameters": parameters, "repeats": len(seeds), **spread}))


if __name__ == "__main__":
    run(main)
