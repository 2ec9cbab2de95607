"""Stage prune-sweep: prune the trained model at every level and evaluate each on the test split.

A level is `amount`, the fraction of fc1+fc2 weights removed, as torch.nn.utils.prune takes
it; it is not a magnitude threshold. Sparsity and counts are over ALL parameters.
"""
from stages import run, schema
from stages.artifacts import load_split, rounded, write_csv, write_json
from stages.model import Net, as_tensors, evaluate, load_checkpoint, use_one_thread
from stages.pruning import global_magnitude, size_report

# Accuracies are ratios of counts; this absorbs float error in `dense - tolerance`.
EPS = 1e-9


def sweep(trained, amounts, x, y):
    """One row per amount, each pruned afresh from the trained weights."""
    rows = []
    for amount in amounts:
        # A fresh Net + load_state_dict, not deepcopy: deepcopy of pruned modules can fail.
        model = Net(trained.fc1.in_features, trained.fc1.out_features)
        model.load_state_dict(trained.state_dict())
        report = size_report(global_magnitude(model, amount))
        accuracy, loss = evaluate(model, x, y)
        rows.append({"amount": amount, **report, "accuracy": accuracy, "loss": loss})
    return rows


def summarise(rows, tolerance):
    """Scalars for `dvc metrics diff`: rows[0] is dense, rows[-1] the largest amount."""
    dense = rows[0]["accuracy"]
    within = max((row for row in rows if row["accuracy"] >= dense - tolerance - EPS),
                 key=lambda row: row["sparsity"])
    return {
        "tolerance": tolerance,
        "dense_accuracy": dense,
        "max_amount": rows[-1]["amount"],
        "accuracy_at_max_amount": rows[-1]["accuracy"],
        "max_sparsity_within_tolerance": within["sparsity"],
        "compression_within_tolerance": within["compression"],
        "amount_within_tolerance": within["amount"],
    }


def main():
    prune_params = schema.load("prune")["prune"]
    use_one_thread()
    x, y = as_tensors(*load_split("data/test.npz"))
    trained = load_checkpoint("data/model.pt", x.shape[1])
    amounts = [0.0] + sorted(a for a in prune_params["amounts"] if a != 0)
    rows = sweep(trained, amounts, x, y)
    write_csv("metrics/prune_sweep.csv", [rounded(row) for row in rows])
    write_json("metrics/prune.json", rounded(summarise(rows, prune_params["tolerance"])))


if __name__ == "__main__":
    run(main)
