#!/usr/bin/python3
"""Reference outputs for conv1d, conv2d and conv3d, written as float32 .npy
files into tests/golden/conv/.

Each case stores its input `x`, weight `w`, bias `b` (when it has one), the
output `y`, a random upstream gradient `g`, and the gradients of sum(g * y)
with respect to x, w and b (`dx`, `dw`, `db`). The options of each case are
repeated in tests/ops/conv_test.cpp. Run with Debian's /usr/bin/python3
(python3-torch):

    /usr/bin/python3 tests/golden/make_conv.py
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv")

# name, function, input shape, weight shape, bias?, stride, padding, dilation, groups
CASES = (
    ("conv1d_basic", F.conv1d, (2, 4, 20), (6, 4, 3), True, 1, 1, 1, 1),
    ("conv1d_groups_dilation", F.conv1d, (2, 4, 21), (6, 2, 5), True, 2, 2, 2, 2),
    ("conv2d_basic", F.conv2d, (2, 3, 10, 9), (5, 3, 3, 3), True, 1, 1, 1, 1),
    ("conv2d_stride_asymmetric", F.conv2d, (2, 4, 11, 10), (6, 4, 3, 2), True, (2, 1), (1, 0), 1, 1),
    ("conv2d_groups_dilation", F.conv2d, (2, 6, 12, 11), (4, 3, 3, 3), True, 1, (2, 1), (2, 1), 2),
    ("conv2d_depthwise", F.conv2d, (2, 4, 9, 9), (8, 1, 3, 3), False, 2, 1, 1, 4),
    ("conv2d_pointwise", F.conv2d, (2, 5, 8, 7), (7, 5, 1, 1), True, 1, 0, 1, 1),
    # Enough output positions (17 x 13) to be cut into tiles mid-row.
    ("conv2d_tiled", F.conv2d, (1, 4, 17, 13), (4, 4, 3, 3), True, 1, 1, 1, 1),
    ("conv3d_basic", F.conv3d, (2, 4, 5, 6, 7), (6, 4, 3, 3, 3), True, 1, 1, 1, 1),
    ("conv3d_strided_groups", F.conv3d, (2, 4, 6, 7, 8), (6, 2, 2, 3, 3), True, (1, 2, 2), (0, 1, 1), (2, 1, 1), 2),
)


def save(name, tensor):
    array = tensor.detach().numpy() if isinstance(tensor, torch.Tensor) else tensor
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(array, dtype=np.float32))


def main():
    torch.manual_seed(20240612)
    os.makedirs(OUT, exist_ok=True)
    for name, conv, x_shape, w_shape, has_bias, stride, padding, dilation, groups in CASES:
        x = torch.rand(*x_shape).mul(2).sub(1).requires_grad_(True)
        w = torch.rand(*w_shape).mul(2).sub(1).requires_grad_(True)
        b = torch.rand(w_shape[0]).mul(2).sub(1).requires_grad_(True) if has_bias else None
        y = conv(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        g = torch.randn(y.shape)
        inputs = [("x", x), ("w", w)] + ([("b", b)] if has_bias else [])
        grads = torch.autograd.grad(y, [t for _, t in inputs], grad_outputs=g)
        for key, tensor in inputs + [("y", y), ("g", g)]:
            save(f"{name}_{key}", tensor)
        for (key, _), grad in zip(inputs, grads):
            save(f"{name}_d{key}", grad)


if __name__ == "__main__":
    main()
