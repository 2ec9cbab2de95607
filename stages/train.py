"""Stage train: the network model.arch names (the seed's MLP, model.hidden_sizes deep, by
default) and its training loop, for train.repeats torch seeds at once.

The MLP's models train as stacks (prunelab/fit.py), in parallel over the machine's cores: each
follows its own trajectory, so seed s here is seed s trained alone, bit for bit. Every other
architecture (prunelab/architectures) trains by autograd through pinned layers
(prunelab/net_stacks.py), one model per worker, each with the same bytes as alone; its module
is built, and checked, here first, before anything is written. data/model.pt is the plain
checkpoint of seed train.seed; data/models.pt holds every model (and names its architecture).
"""
import functools

from prunelab import architectures, compute, fit, net_stacks, stacks
from prunelab.architectures.module import check
from prunelab.aggregate import mean_std
from prunelab.shapes import outputs_for
from stages import paths, run, schema
from stages.artifacts import rounded, write_csv, write_json
from stages.checkpoints import device_for, load_splits, sample_shape, save_checkpoint, save_stack


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


def train_net(record, input_shape, x_train, y_train, x_test, y_test, seeds, epochs, lr, batch_size=0, device="cpu"):
    """`train` for an architecture record (prunelab.architectures) on rows reshaped to samples
    of input_shape: (the template module, the trained stack, the first model's curve)."""
    classes = int(max(y_train.max(), y_test.max())) + 1
    template = check(record, input_shape, classes)
    x_train, x_test = x_train.view(len(x_train), *input_shape), x_test.view(len(x_test), *input_shape)
    evaluate = functools.partial(net_stacks.evaluate, template)
    curve = []

    def after_epoch(epoch, weights):
        curve.append({"epoch": epoch, **scores(weights, x_train, y_train, x_test, y_test, 0, evaluate)})

    _, initial = net_stacks.init(record, seeds, input_shape, classes)
    trained = net_stacks.train(template, initial, x_train, y_train, epochs, lr, order_seeds=seeds,
                               after_epoch=after_epoch, batch_size=batch_size, device=device)
    return template, trained, curve


def scores(weights, x_train, y_train, x_test, y_test, index=None, evaluate=stacks.evaluate):
    """Loss and accuracy on both splits: of one model (index) or arrays over all."""
    train_accuracy, train_loss = evaluate(weights, x_train, y_train)
    test_accuracy, test_loss = evaluate(weights, x_test, y_test)
    values = {"train_loss": train_loss, "train_accuracy": train_accuracy,
              "test_loss": test_loss, "test_accuracy": test_accuracy}
    return {key: float(value[index]) for key, value in values.items()} if index is not None else values


def main():
    params = schema.load("model", "train")
    settings, model = params["train"], params["model"]
    device = device_for(settings["device"])
    compute.setup()
    (x_train, y_train), (x_test, y_test) = load_splits()
    seeds = list(range(settings["seed"], settings["seed"] + settings["repeats"]))
    options = (settings["epochs"], settings["lr"], settings["batch_size"], device)
    if model["arch"] == "mlp":
        weights, curve = train(x_train, y_train, x_test, y_test, model["hidden_sizes"], seeds, *options)
        architecture, evaluate = None, stacks.evaluate
    else:
        shape = sample_shape()
        record = architectures.named(model["arch"], model["module"])
        chosen = {name: model[name] for name in record.options}  # its options' params (model.conv_relu)
        template, weights, curve = train_net(record.configured(**chosen), shape,
                                             x_train, y_train, x_test, y_test, seeds, *options)
        architecture = {"arch": model["arch"], "module": model["module"], "input_shape": list(shape),
                        "classes": int(max(y_train.max(), y_test.max())) + 1, **({"options": chosen} if chosen else {})}
        x_train, x_test = x_train.view(len(x_train), *shape), x_test.view(len(x_test), *shape)
        evaluate = functools.partial(net_stacks.evaluate, template)
    save_checkpoint(paths.MODEL, stacks.unstack(weights, 0))
    save_stack(paths.MODELS, weights, seeds, architecture)
    write_csv(paths.TRAIN_CURVE, [rounded(row) for row in curve])
    final = {key: value for key, value in curve[-1].items() if key != "epoch"}
    every = scores(weights, x_train, y_train, x_test, y_test, evaluate=evaluate)
    spread = {}
    for key in ("test_accuracy", "train_accuracy"):
        spread[f"{key}_mean"], spread[f"{key}_std"] = mean_std(every[key])
    parameters = sum(value[0].numel() for value in weights.values())
    write_json(paths.TRAIN_METRICS, rounded({**final, "parameters": parameters, "repeats": len(seeds), **spread}))


if __name__ == "__main__":
    run(main)
