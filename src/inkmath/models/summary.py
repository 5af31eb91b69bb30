"""A model's layers with output shapes and parameter counts (``inkmath summary``, the HTML report)."""

from __future__ import annotations


def layer_table(model, in_size: int) -> list[dict]:
    """Each leaf module with its output shape and parameter count, from one forward pass with hooks."""
    import torch

    rows: list[dict] = []
    hooks = []
    for name, mod in model.named_modules():
        if len(list(mod.children())) == 0:
            def hook(m, inp, out, name=name):
                rows.append({"layer": name, "type": type(m).__name__, "output": list(out.shape[1:]),
                             "parameters": sum(p.numel() for p in m.parameters())})
            hooks.append(mod.register_forward_hook(hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, in_size, in_size))
    for h in hooks:
        h.remove()
    return rows
