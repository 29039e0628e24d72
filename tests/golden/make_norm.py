#!/usr/bin/python3
"""Reference outputs for softmax, log_softmax, layer_norm, group_norm and
cross_entropy, written as float32 .npy files into tests/golden/norm/.

Each case stores its inputs, parameters and a random upstream gradient `g`,
the forward output and the gradient of sum(g * output) with respect to every
input that has one. Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 tests/golden/make_norm.py
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "norm")


def save(name, tensor):
    array = tensor.detach().numpy() if isinstance(tensor, torch.Tensor) else tensor
    np.save(os.path.join(OUT, name + ".npy"), np.array(array, order="C"))  # keeps rank 0


def leaf(*shape, scale=1.0, shift=0.0):
    return (torch.randn(*shape) * scale + shift).requires_grad_(True)


def backward_with_random_upstream(prefix, out, inputs):
    """Stores a random upstream gradient and d(sum(g * out))/d(each input)."""
    g = torch.randn(out.shape)
    save(prefix + "_g", g)
    grads = torch.autograd.grad(out, [t for _, t in inputs], grad_outputs=g)
    for (name, _), grad in zip(inputs, grads):
        save(prefix + "_d" + name, grad)


def softmax_cases():
    # A large spread (scale 4) with an offset checks the max-subtraction.
    x = leaf(3, 4, 5, scale=4.0, shift=20.0)
    save("softmax_x", x)
    for dim in (0, 1, 2):
        for name, fn in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
            prefix = f"{name}_dim{dim}"
            y = fn(x, dim=dim)
            save(prefix + "_y", y)
            backward_with_random_upstream(prefix, y, [("x", x)])


def layer_norm_cases():
    # Offset inputs: the variance must not be computed as E[x²] − E[x]².
    x = leaf(4, 3, 8, scale=2.0, shift=5.0)
    save("layer_norm_x", x)
    for k, shape in ((1, (8,)), (2, (3, 8))):
        w = leaf(*shape)
        b = leaf(*shape)
        prefix = f"layer_norm_{k}d"
        save(prefix + "_w", w)
        save(prefix + "_b", b)
        y = F.layer_norm(x, shape, w, b, eps=1e-5)
        save(prefix + "_y", y)
        backward_with_random_upstream(prefix, y, [("x", x), ("w", w), ("b", b)])


def group_norm_cases():
    for prefix, shape, groups in (("group_norm_4d", (2, 6, 4, 5), 3), ("group_norm_5d", (2, 4, 3, 2, 3), 2)):
        x = leaf(*shape, scale=3.0, shift=-2.0)
        w = leaf(shape[1])
        b = leaf(shape[1])
        save(prefix + "_x", x)
        save(prefix + "_w", w)
        save(prefix + "_b", b)
        y = F.group_norm(x, groups, w, b, eps=1e-5)
        save(prefix + "_y", y)
        backward_with_random_upstream(prefix, y, [("x", x), ("w", w), ("b", b)])


def cross_entropy_cases():
    cases = (
        ("cross_entropy_2d", (7, 5), (7,)),
        ("cross_entropy_4d", (2, 4, 3, 3), (2, 3, 3)),
    )
    for prefix, logit_shape, label_shape in cases:
        logits = leaf(*logit_shape, scale=2.0)
        labels = torch.randint(0, logit_shape[1], label_shape)
        labels.view(-1)[::4] = -100  # some positions are ignored
        save(prefix + "_logits", logits)
        save(prefix + "_labels", labels.numpy().astype(np.int64))
        for reduction in ("mean", "sum"):
            loss = F.cross_entropy(logits, labels, ignore_index=-100, reduction=reduction)
            save(f"{prefix}_{reduction}_loss", loss)
            (grad,) = torch.autograd.grad(loss, [logits])
            save(f"{prefix}_{reduction}_dlogits", grad)
        loss = F.cross_entropy(logits, labels, ignore_index=-100, reduction="none")
        save(f"{prefix}_none_loss", loss)
        backward_with_random_upstream(f"{prefix}_none", loss, [("logits", logits)])


def main():
    torch.manual_seed(20240611)
    torch.set_default_dtype(torch.float32)
    os.makedirs(OUT, exist_ok=True)
    softmax_cases()
    layer_norm_cases()
    group_norm_cases()
    cross_entropy_cases()


if __name__ == "__main__":
    main()
