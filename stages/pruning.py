"""Pruning methods and the count of what a pruned model really keeps.

`parameters()` never shrinks under torch.nn.utils.prune (it holds weight_orig in full), so
counts here come from the tensors the forward pass uses: nonzero entries, biases included.
"""
from torch.nn.utils import prune

PRUNED_LAYERS = ("fc1", "fc2")


def global_magnitude(model, amount):
    """Remove the fraction `amount` of fc1+fc2 weights with the smallest |w|, pooled across layers."""
    prune.global_unstructured(
        [(getattr(model, layer), "weight") for layer in PRUNED_LAYERS],
        pruning_method=prune.L1Unstructured,
        amount=amount,
    )
    return model


def effective_parameters(model):
    """Parameter name -> the tensor the forward pass uses (mask applied where pruned)."""
    tensors = {}
    for module_name, module in model.named_modules():
        for name, _ in module.named_parameters(recurse=False):
            name = name.removesuffix("_orig")
            tensors[f"{module_name}.{name}"] = getattr(module, name)
    return tensors


def size_report(model):
    """Nonzero counts, sparsity and compression over all parameters; sparsity per pruned layer."""
    tensors = effective_parameters(model)
    total = sum(t.numel() for t in tensors.values())
    nonzero = sum(int((t != 0).sum()) for t in tensors.values())
    report = {"sparsity": 1 - nonzero / total, "nonzero_params": nonzero, "total_params": total,
              "compression": total / nonzero}
    for layer in PRUNED_LAYERS:
        weight = tensors[f"{layer}.weight"]
        kept = int((weight != 0).sum())
        report[f"{layer}_nonzero_weights"] = kept
        report[f"{layer}_sparsity"] = 1 - kept / weight.numel()
    return report
