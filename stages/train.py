"""Stage train: the seed's network and training loop, seeded, with a per-epoch curve."""
import torch
from torch import nn

from stages import UserError, run, schema
from stages.artifacts import REBUILD, load_split, rounded, write_csv, write_json
from stages.model import Net, as_tensors, evaluate, save_checkpoint, use_one_thread


def train(x_train, y_train, x_test, y_test, hidden_size, seed, epochs, lr):
    """The seed's loop: full-batch Adam on BCE. Returns the model and, per epoch, its scores after the step."""
    torch.manual_seed(seed)  # right before the model is built, as in a seeded run of the seed script
    model = Net(x_train.shape[1], hidden_size)
    criterion = nn.BCELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    curve = []
    for epoch in range(1, epochs + 1):
        model.train()
        optimizer.zero_grad()
        outputs = model(x_train)
        loss = criterion(outputs, y_train)
        loss.backward()
        optimizer.step()
        curve.append({"epoch": epoch, **scores(model, x_train, y_train, x_test, y_test)})
    return model, curve


def scores(model, x_train, y_train, x_test, y_test):
    """Loss and accuracy of the current weights on both splits."""
    train_accuracy, train_loss = evaluate(model, x_train, y_train)
    test_accuracy, test_loss = evaluate(model, x_test, y_test)
    return {"train_loss": train_loss, "train_accuracy": train_accuracy,
            "test_loss": test_loss, "test_accuracy": test_accuracy}


def main():
    params = schema.load("model", "train")
    use_one_thread()
    x_train, y_train = as_tensors(*load_split("data/train.npz"))
    x_test, y_test = as_tensors(*load_split("data/test.npz"))
    if x_test.shape[1:] != x_train.shape[1:]:
        raise UserError(f"data/test.npz: x has shape {tuple(x_test.shape)}; expected "
                        f"{x_train.shape[1]} features as in data/train.npz; {REBUILD}")
    model, curve = train(x_train, y_train, x_test, y_test,
                         params["model"]["hidden_size"], **params["train"])
    save_checkpoint("data/model.pt", model)
    write_csv("metrics/train_curve.csv", [rounded(row) for row in curve])
    final = {key: value for key, value in curve[-1].items() if key != "epoch"}
    write_json("metrics/train.json", rounded({**final, "parameters": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    run(main)
