#!/usr/bin/python3
"""Writes PyTorch references for the resampling ops into tests/golden/resample/.

Run with Debian's python3 (python3-torch, numpy):  /usr/bin/python3 tests/golden/make_resample.py
Every array is float32; inputs and upstream gradients come from a fixed seed.
"""

import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resample")


def save(name, tensor):
    np.save(os.path.join(OUT, name + ".npy"), tensor.detach().numpy().astype(np.float32))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)

    # Nearest upsampling by integer factors, 1-d, 2-d and 3-d (forward).
    for name, shape, scale in [
        ("nearest1d", (2, 3, 5), (3.0,)),
        ("nearest2d", (2, 3, 4, 5), (2.0, 3.0)),
        ("nearest3d", (1, 2, 3, 4, 5), (2.0, 1.0, 3.0)),
    ]:
        x = torch.randn(shape)
        save(name + "_x", x)
        save(name + "_out", F.interpolate(x, scale_factor=scale, mode="nearest"))

    # Average pooling with stride != kernel (forward).
    x = torch.randn(2, 3, 11)
    save("avgpool1d_x", x)
    save("avgpool1d_out", F.avg_pool1d(x, 3, 2))
    x = torch.randn(2, 3, 9, 10)
    save("avgpool2d_x", x)
    save("avgpool2d_out", F.avg_pool2d(x, (3, 2), (2, 3)))
    x = torch.randn(1, 2, 5, 6, 7)
    save("avgpool3d_x", x)
    save("avgpool3d_out", F.avg_pool3d(x, (2, 3, 2), (1, 2, 3)))

    # Bilinear resize up and down, both align_corners (forward and grad of x).
    x = torch.randn(2, 3, 5, 7)
    save("bilinear_x", x)
    for direction, size in [("up", (9, 12)), ("down", (3, 4))]:
        for align in (False, True):
            tag = f"bilinear_{direction}_{'align' if align else 'noalign'}"
            xi = x.clone().requires_grad_(True)
            out = F.interpolate(xi, size=size, mode="bilinear", align_corners=align)
            g = torch.randn(out.shape)
            out.backward(g)
            save(tag + "_out", out)
            save(tag + "_g", g)
            save(tag + "_grad_x", xi.grad)

    # grid_sample, zeros/border x align_corners (forward and both gradients).
    x = torch.randn(2, 3, 6, 7)
    grid = torch.rand(2, 5, 4, 2) * 2.4 - 1.2
    save("grid_x", x)
    save("grid_grid", grid)
    for padding in ("zeros", "border"):
        for align in (False, True):
            tag = f"grid_{padding}_{'align' if align else 'noalign'}"
            xi = x.clone().requires_grad_(True)
            gi = grid.clone().requires_grad_(True)
            out = F.grid_sample(xi, gi, mode="bilinear", padding_mode=padding, align_corners=align)
            g = torch.randn(out.shape)
            out.backward(g)
            save(tag + "_out", out)
            save(tag + "_g", g)
            save(tag + "_grad_x", xi.grad)
            save(tag + "_grad_grid", gi.grad)


if __name__ == "__main__":
    main()
