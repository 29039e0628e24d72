#!/usr/bin/python3
"""Golden cases of the optimisation toolkit (include/vgt/optim/), for
tests/optim/adamw_test.cpp and tests/optim/training_aids_test.cpp.

adamw_<case>.safetensors: torch.optim.AdamW run for `steps` steps on three
named parameters, the learning rate of step s being lr * factor(s) of the
warm-up + cosine schedule below (the same formula as
vgt::optim::WarmupCosineSchedule). The parameter `scale` gets no gradient on
the first two steps, which AdamW skips (its step count starts later).

| tensor | meaning |
| --- | --- |
| `param.<name>` | the parameter before the first step |
| `grad.<s>.<name>` | its gradient at step s (absent: no gradient) |
| `lr` | float64 [steps], the learning rate of each step |
| `final.<name>` | the parameter after the last step |
| `state.<name>.{exp_avg,exp_avg_sq,max_exp_avg_sq,step}` | AdamW's state after the last step |

Metadata: lr, beta1, beta2, eps, weight_decay, amsgrad, steps,
warmup_steps, total_steps, min_lr_ratio.

clip_grad_norm.safetensors: torch.nn.utils.clip_grad_norm_ on three
gradients per dtype (`<dtype>.grad.<name>`), for each max norm k of the
float64 tensor `max_norms`: the norm it returned (`<dtype>.<k>.norm`) and the
clipped gradients (`<dtype>.<k>.clipped.<name>`).

Run with Debian's /usr/bin/python3 (python3-torch):

    /usr/bin/python3 tests/golden/make_optim.py
"""

import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim")

SHAPES = {"weight": (4, 3), "bias": (4,), "scale": (2, 1, 3)}
# Gradient sizes far apart, so that eps matters for some elements and not others.
GRAD_SCALES = {"weight": 1.0, "bias": 1e-3, "scale": 30.0}
NAMES = {torch.float32: "float32", torch.float64: "float64"}


def schedule_factor(step, warmup_steps, total_steps, min_lr_ratio):
    """Linear warm-up to 1 over warmup_steps, then cosine decay to min_lr_ratio at total_steps."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr_ratio
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def numpy(t):
    return t.detach().numpy().copy()


def adamw_case(name, dtype, seed, steps=12, lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1,
               amsgrad=False, warmup_steps=3, total_steps=10, min_lr_ratio=0.1):
    gen = torch.Generator().manual_seed(seed)
    params = {n: torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype).requires_grad_(True)
              for n, shape in SHAPES.items()}
    tensors = {f"param.{n}": numpy(p) for n, p in params.items()}
    optimizer = torch.optim.AdamW(list(params.values()), lr=lr, betas=betas, eps=eps,
                                  weight_decay=weight_decay, amsgrad=amsgrad)
    lrs = []
    for s in range(steps):
        step_lr = lr * schedule_factor(s, warmup_steps, total_steps, min_lr_ratio)
        lrs.append(step_lr)
        for group in optimizer.param_groups:
            group["lr"] = step_lr
        for n, p in params.items():
            if n == "scale" and s < 2:
                p.grad = None
                continue
            g = torch.randn(SHAPES[n], generator=gen, dtype=torch.float64) * GRAD_SCALES[n]
            p.grad = g.to(dtype)
            tensors[f"grad.{s}.{n}"] = numpy(p.grad)
        optimizer.step()
    tensors["lr"] = np.array(lrs, dtype=np.float64)
    for n, p in params.items():
        tensors[f"final.{n}"] = numpy(p)
        state = optimizer.state[p]
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            if key in state:
                tensors[f"state.{n}.{key}"] = numpy(state[key])
        tensors[f"state.{n}.step"] = np.array(int(state["step"].item()), dtype=np.int64)
    metadata = {
        "lr": repr(lr), "beta1": repr(betas[0]), "beta2": repr(betas[1]), "eps": repr(eps),
        "weight_decay": repr(weight_decay), "amsgrad": str(amsgrad).lower(), "steps": str(steps),
        "warmup_steps": str(warmup_steps), "total_steps": str(total_steps), "min_lr_ratio": repr(min_lr_ratio),
    }
    safetensors_io.save(os.path.join(OUT, f"adamw_{name}.safetensors"), tensors, metadata)


def clip_case():
    gen = torch.Generator().manual_seed(7)
    max_norms = [0.5, 1e3]
    tensors = {"max_norms": np.array(max_norms, dtype=np.float64)}
    for dtype, dtype_name in NAMES.items():
        grads = {n: (torch.randn(shape, generator=gen, dtype=torch.float64) * GRAD_SCALES[n]).to(dtype)
                 for n, shape in SHAPES.items()}
        for n, g in grads.items():
            tensors[f"{dtype_name}.grad.{n}"] = numpy(g)
        for k, max_norm in enumerate(max_norms):
            params = {n: torch.zeros(SHAPES[n], dtype=dtype, requires_grad=True) for n in SHAPES}
            for n, p in params.items():
                p.grad = grads[n].clone()
            norm = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
            tensors[f"{dtype_name}.{k}.norm"] = np.array(norm.item(), dtype=np.float64)
            for n, p in params.items():
                tensors[f"{dtype_name}.{k}.clipped.{n}"] = numpy(p.grad)
    safetensors_io.save(os.path.join(OUT, "clip_grad_norm.safetensors"), tensors)


def main():
    os.makedirs(OUT, exist_ok=True)
    adamw_case("float32", torch.float32, seed=1)
    adamw_case("float64", torch.float64, seed=1)
    adamw_case("amsgrad_float32", torch.float32, seed=2, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
               weight_decay=0.5, amsgrad=True, warmup_steps=0, total_steps=12, min_lr_ratio=0.0)
    adamw_case("amsgrad_float64", torch.float64, seed=2, lr=0.01, betas=(0.8, 0.99), eps=1e-6,
               weight_decay=0.5, amsgrad=True, warmup_steps=0, total_steps=12, min_lr_ratio=0.0)
    clip_case()


if __name__ == "__main__":
    main()
