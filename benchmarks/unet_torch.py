#!/usr/bin/python3
"""PyTorch's side of the UNet training-step benchmark: the cases of
unet_bench.cpp (include/vgt/bench/unet_cases.hpp), timed the same way, with
the same flags and the same JSON records.

    /usr/bin/python3 benchmarks/unet_torch.py [--case NAME]... [--reps N]
        [--min-time SECONDS] [--warmup N] [--threads N] [--json] [--list]
        [--no-mkldnn]

Each case is one UNet preset at the text-to-video quality bar's size
(benchmarks/quality/t2v.json): x [8, 8, 3, 32, 32], a time embedding
[8, 64] and 16 context tokens of width 32. fwd is the forward and the MSE
loss under torch.no_grad(); fwd+bwd is forward, loss, backward into every
weight and one torch.optim.AdamW step (lr 1e-4, weight decay 0.01).

The UNet is the PyTorch twin that tests/golden/make_video_unet.py writes the
video-UNet golden files with (same parameter names and layouts, built from
docs/video_unet.md), every weight redrawn uniform in [-0.1, 0.1) as on the
vgt side. Its Conv3D and Conv2Plus1D stages spell their temporal
convolutions out for the tests' sake; here they run as one Conv3d call
(blocks_torch.py's batched forwards), checked first against the twin's own
output in float64.

FLOPs are counted on one forward of a single video (times the batch) by
watching the operators it dispatches: convolutions, matrix products (the
linears) and batched products (the attention's q k^T and weights @ v, which
einsum lowers to), multiply-add = 2, as vgt's analytic count; compare.py
stops when the two disagree, which also checks that both sides built the
same architecture.
"""

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "golden"))
import bench_torch  # noqa: E402

PRESETS = ["magicvideo", "gen1", "vdm", "conv3d", "image", "vdm_flow"]  # models/unet_presets.hpp's order
VIDEO = [8, 8, 3, 32, 32]
CONTEXT_TOKENS = 16
# The quality bar's UNet (benchmarks/quality/t2v.json); the rest are VideoUNetOptions' defaults.
OPTIONS = dict(in_channels=3, out_channels=3, base_channels=16, channel_mult=[1, 2, 2], res_blocks=1,
               attention_levels=[1, 2], heads=2, temporal_heads=2, context_dim=32, time_embed_dim=64, max_frames=8)
WEIGHT_RANGE = 0.1
LEARNING_RATE, WEIGHT_DECAY = 1e-4, 0.01
CHECK_VIDEO = [1, 3, 3, 8, 8]  # where the batched stages are checked against the twin's own


def twin():
    """tests/golden/make_video_unet.py (imported late: it imports torch, which
    must see the thread settings first)."""
    return importlib.import_module("make_video_unet")


def build(preset, dtype):
    import torch

    m = twin()
    stage, mixer, position = m.PRESETS[preset]
    torch.manual_seed(0)
    return m.VideoUNet({**m.DEFAULTS, **OPTIONS, "stage": stage, "mixer": mixer, "position": position}).to(dtype)


def randomize(torch, module, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=p.dtype) * 2 - 1) * scale)


def uniform(torch, gen, shape, dtype=None):
    return torch.rand(shape, generator=gen, dtype=dtype or torch.float32) * 2 - 1


def inputs(torch, video, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    b = video[0]
    return (uniform(torch, gen, video, dtype), uniform(torch, gen, [b, OPTIONS["time_embed_dim"]], dtype),
            uniform(torch, gen, [b, CONTEXT_TOKENS, OPTIONS["context_dim"]], dtype))


def use_batched_stages(preset):
    """Swaps the twin's Conv3D and Conv2Plus1D forwards for one Conv3d call
    each, after checking that the swap leaves the UNet's output unchanged."""
    import torch

    blocks_torch = importlib.import_module("blocks_torch")
    stages = importlib.import_module("conv_stages")
    model = build(preset, torch.float64)
    randomize(torch, model, 0.5, seed=7)
    x, t, c = inputs(torch, CHECK_VIDEO, torch.float64, seed=8)
    with torch.no_grad():
        expected = model(x, t, c)
        stages.Conv3D.forward = blocks_torch.conv3d_forward
        stages.Conv2Plus1D.forward = blocks_torch.conv2plus1d_forward
        got = model(x, t, c)
    error = ((got - expected).abs().max() / expected.abs().max().clamp(min=1)).item()
    if error > 1e-9:
        sys.exit(f"unet_torch: preset {preset}: the batched stages change the UNet's output "
                 f"(relative error {error:.3g})")


def product(values):
    out = 1
    for v in values:
        out *= v
    return out


def operator_flops(torch, func, args, out):
    """Multiply-add FLOPs (x2) of one dispatched operator; 0 for point-wise work."""
    aten = torch.ops.aten
    if func in (aten.mm.default, aten.addmm.default):
        a, b = (args[0], args[1]) if func == aten.mm.default else (args[1], args[2])
        return 2 * a.shape[0] * a.shape[1] * b.shape[1]
    if func in (aten.bmm.default, aten.baddbmm.default):
        a, b = (args[0], args[1]) if func == aten.bmm.default else (args[1], args[2])
        return 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
    if func == aten.convolution.default:
        weight = args[1]  # [Cout, Cin / groups, *kernel]
        return 2 * out.shape[0] * out.shape[1] * weight.shape[1] * product(weight.shape[2:]) * product(out.shape[2:])
    return 0


def counted_flops(preset):
    """Forward FLOPs of the case, counted on one video and multiplied by the batch."""
    def count(torch):
        from torch.utils._python_dispatch import TorchDispatchMode

        class Counter(TorchDispatchMode):
            total = 0

            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                Counter.total += operator_flops(torch, func, args, out)
                return out

        model = build(preset, torch.float32)
        x, t, c = inputs(torch, [1] + VIDEO[1:], torch.float32, seed=1)
        with torch.no_grad(), Counter():
            model(x, t, c)
        return Counter.total * VIDEO[0]

    return count


def unet_case(preset):
    def make(torch, args):
        import torch.nn.functional as F

        use_batched_stages(preset)
        model = build(preset, torch.float32)
        randomize(torch, model, WEIGHT_RANGE, seed=1234)
        x, t, c = inputs(torch, VIDEO, torch.float32, seed=1234)
        target = uniform(torch, torch.Generator().manual_seed(4321), VIDEO)
        parameters = list(model.parameters())
        optimiser = torch.optim.AdamW(parameters, lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        return bench_torch.Workload(parameters, lambda: F.mse_loss(model(x, t, c), target),
                                    params=sum(p.numel() for p in parameters), update=optimiser.step)

    video = ", ".join(map(str, VIDEO))
    description = (f"UNet preset {preset} training step, x [{video}], "
                   f"context [{VIDEO[0]}, {CONTEXT_TOKENS}, {OPTIONS['context_dim']}]")
    return f"unet_{preset}", {"description": description, "flops": counted_flops(preset), "with_backward": True,
                              "make": make}


def all_cases():
    """Same names, descriptions and order as unet_step_cases() in unet_cases.hpp."""
    return dict([(bench_torch.PEAK_CASE, bench_torch.peak_case())] + [unet_case(p) for p in PRESETS])


if __name__ == "__main__":
    sys.exit(bench_torch.main(sys.argv[1:], all_cases(), __doc__))
