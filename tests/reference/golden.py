"""Writes golden cases for the temporal-block tests.

A case is one safetensors file tests/golden/blocks/<name>.safetensors holding
`input`, `output` and every parameter of the PyTorch reference module as
`block.<name>` (float64), with the block's options as string metadata. The
weights are random, not the initial ones, so that a case exercises every
parameter. Run the make_*.py scripts with /usr/bin/python3 (Debian's
python3-torch).
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

GOLDEN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "blocks")


def randomize(module, seed, scale=0.5):
    """Every parameter U(-scale, scale) from a fixed seed."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale)


def video(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1


def write_case(name, module, x, metadata, seed=1, extra_inputs=None, forward=None):
    """Randomises `module`, runs it on x in float64 and writes the case file.

    extra_inputs: further named tensors the C++ side passes to forward
    (e.g. an external flow); forward: how to call the module (default module(x)).
    """
    module = module.double()
    randomize(module, seed)
    extra_inputs = extra_inputs or {}
    with torch.no_grad():
        y = forward(module, x, **extra_inputs) if forward else module(x)
    tensors = {"input": x.numpy(), "output": y.numpy()}
    for key, value in extra_inputs.items():
        tensors[key] = value.numpy()
    for pname, p in module.named_parameters():
        tensors["block." + pname] = p.detach().numpy()
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    safetensors_io.save(os.path.join(GOLDEN_DIR, name + ".safetensors"), tensors,
                        {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in metadata.items()})
    return y
