#!/usr/bin/python3
"""PyTorch's side of the temporal-block benchmark: the cases of
blocks_bench.cpp, timed the same way, with the same flags and the same JSON
records.

    /usr/bin/python3 benchmarks/blocks_torch.py [--case NAME]... [--reps N]
        [--min-time SECONDS] [--warmup N] [--threads N] [--json] [--list]
        [--no-mkldnn] [--reference-forward]

The blocks are the reference modules of tests/reference/, the PyTorch twins
that the tests compare vgt with (same parameter names, layouts and
initialisation), built at C = 64 and then with every weight redrawn uniform
in [-0.1, 0.1), as on the vgt side.

Several reference modules compute their forward by a deliberately different
route than vgt, for the tests' sake: per-gate convolutions (ConvLSTM), sums
of einsums over temporal taps (Conv2Plus1D, TCN, FrameDelta), a loop over
frame pairs (FlowWarp), rotary angles in float64 (RoPE). Timing those would
measure the route, not PyTorch. For these blocks this script times a
batched forward written here the way the block is written in PyTorch (a
Conv3d with a (k, 1, 1) kernel for a temporal conv, one input convolution
for all frames, all frame pairs at once, float32 angles), over the same
module and parameters, and checks at the start of every case that it gives
the reference forward's output (float64, a small video, 1e-9 relative).
--reference-forward times the modules' own forwards instead (the RoPE case
then fails: the reference rotary turns float32 queries into float64).
Every timed forward returns a contiguous [B, T, C, H, W] video, like vgt's.

FLOPs are the blocks' analytic forward counts, computed here from the
definitions (multiply-add = 2; convolutions, linears and the two attention
products; point-wise work not counted), independently of vgt's flops();
compare.py stops when the two disagree.

Run it with Debian's /usr/bin/python3, which has python3-torch.
"""

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import bench_torch  # noqa: E402

BATCH, FRAMES, CHANNELS, SIZE = 2, 8, 64, 32
VIDEO = [BATCH, FRAMES, CHANNELS, SIZE, SIZE]
# Joint attention over all T*H*W tokens: at 32x32 the scores alone are 1 GiB
# per video, so that case runs on 8x8 frames (512 tokens), as on the vgt side.
SMALL_VIDEO = [BATCH, FRAMES, CHANNELS, 8, 8]
HEADS = 4
TEMPORAL_KERNEL = 3
TCN_LEVELS, TCN_KERNEL = 2, 3
WEIGHT_RANGE = 0.1  # every weight U(-0.1, 0.1) after the module's own init
CHECK_VIDEO = [2, 4, 8, 5, 6]  # where a batched forward is checked against the reference's


def reference(name):
    """A module of tests/reference (imported late: they import torch, which
    must see the thread settings first)."""
    return importlib.import_module(name)


def default_norm_groups(channels):
    """The largest divisor of channels that is at most 32 (nn::default_norm_groups)."""
    return max(g for g in range(1, min(32, channels) + 1) if channels % g == 0)


# ----- analytic forward FLOPs (multiply-add = 2) ------------------------------

def positions(video):
    """Output positions of a per-pixel layer: B*T*H*W."""
    b, t, _, h, w = video
    return b * t * h * w


def conv_flops(count, cin, cout, taps):
    """A convolution or linear with `taps` kernel taps, at `count` output positions."""
    return 2 * count * cout * cin * taps


def attention_flops(video, joint):
    """qkv (C -> 3C) and proj (C -> C) on every token, and q k^T and
    weights @ v over every sequence (4 * L^2 * C per sequence, all heads)."""
    b, t, c, h, w = video
    tokens = positions(video)
    length = t * h * w if joint else t
    sequences = tokens // length
    return conv_flops(tokens, c, 3 * c, 1) + conv_flops(tokens, c, c, 1) + 4 * sequences * length * length * c


def stage_flops(video, kind):
    n, c = positions(video), video[2]
    spatial = conv_flops(n, c, c, 9)
    return {"FrameConv": spatial, "AdapterConv2D": spatial,
            "Conv3D": conv_flops(n, c, c, 9 * TEMPORAL_KERNEL),
            "Conv2Plus1D": spatial + conv_flops(n, c, c, TEMPORAL_KERNEL)}[kind]


def conv_lstm_flops(video):
    """Input conv C -> 4C (3x3) on every frame, hidden conv C -> 4C (3x3) on
    frames 1.. (H_{-1} = 0), output conv 1x1."""
    b, t, c, h, w = video
    n = positions(video)
    return conv_flops(n, c, 4 * c, 9) + conv_flops(b * (t - 1) * h * w, c, 4 * c, 9) + conv_flops(n, c, c, 1)


def flow_warp_flops(video):
    """Flow head (2C -> C 3x3, C -> 2 3x3) on the B*(T-1) frame pairs, fuse 2C -> C 1x1 on every frame."""
    b, t, c, h, w = video
    pairs = b * (t - 1) * h * w
    return conv_flops(pairs, 2 * c, c, 9) + conv_flops(pairs, c, 2, 9) + conv_flops(positions(video), 2 * c, c, 1)


def tcn_flops(video):
    n, c = positions(video), video[2]
    return TCN_LEVELS * conv_flops(n, c, c, TCN_KERNEL) + conv_flops(n, c, c, 1)


def frame_delta_flops(video):
    n, c = positions(video), video[2]
    return conv_flops(n, 2 * c, c, 3) + conv_flops(n, c, c, 1)


# ----- batched forwards over the reference modules' parameters ---------------

def residual_add(x, g):
    """x [B, T, C, H, W] + g [B, C, T, H, W]: a contiguous [B, T, C, H, W]."""
    return x + g.transpose(1, 2)


def group_norm_per_frame(norm, x):
    b, t = x.shape[:2]
    return norm(x.flatten(0, 1)).unflatten(0, (b, t))


def temporal_kernel(weight):
    """A Conv1d weight [Cout, Cin, k] as a Conv3d weight [Cout, Cin, k, 1, 1]."""
    return weight[:, :, :, None, None]


def conv3d_forward(m, x):
    import torch.nn.functional as F

    kt = m.kt
    v = x.transpose(1, 2)  # [B, C, T, H, W]
    if m.causal:
        y = F.conv3d(F.pad(v, (0, 0, 0, 0, kt - 1, 0)), m.conv.weight, m.conv.bias, padding=(0, 1, 1))
    else:
        y = F.conv3d(v, m.conv.weight, m.conv.bias, padding=(kt // 2, 1, 1))
    return y.transpose(1, 2).contiguous()


def conv2plus1d_forward(m, x):
    import torch.nn.functional as F

    b, t = x.shape[:2]
    z = m.spatial(x.flatten(0, 1)).unflatten(0, (b, t)).transpose(1, 2)  # [B, C, T, H, W]
    kt = m.temporal.kt
    y = F.conv3d(z, temporal_kernel(m.temporal.weight), m.temporal.bias, padding=(kt // 2, 0, 0))
    return y.transpose(1, 2).contiguous()


def conv_lstm_forward(m, x):
    import torch
    import torch.nn.functional as F

    b, t, c, h, w = x.shape
    hn = m.norm(x.flatten(0, 1))
    input_gates = F.conv2d(hn, m.input_conv.weight, m.input_conv.bias, padding=1).unflatten(0, (b, t))
    w_i, w_f, w_o = (p.view(1, c, 1, 1) for p in (m.peephole_input, m.peephole_forget, m.peephole_output))
    hidden = cell = None
    states = []
    for step in range(t):
        gates = input_gates[:, step]
        if step > 0:  # H_{-1} = C_{-1} = 0
            gates = gates + F.conv2d(hidden, m.hidden_conv.weight, None, padding=1)
        i, f, g, o = gates.chunk(4, dim=1)
        if step == 0:
            cell = torch.sigmoid(i) * torch.tanh(g)
        else:
            cell = torch.sigmoid(f + w_f * cell) * cell + torch.sigmoid(i + w_i * cell) * torch.tanh(g)
        hidden = torch.sigmoid(o + w_o * cell) * torch.tanh(cell)
        states.append(hidden)
    return x + m.out(torch.stack(states, dim=1).flatten(0, 1)).unflatten(0, (b, t))


def flow_warp_forward(m, x):
    import torch

    b, t = x.shape[:2]
    hn = group_norm_per_frame(m.norm, x)
    aligned = [torch.zeros_like(hn[:, :1])]
    if t > 1:
        previous, current = hn[:, :-1].flatten(0, 1), hn[:, 1:].flatten(0, 1)
        flow = m.head(previous, current)
        aligned.append(reference("flow_delta").warp(previous, flow).unflatten(0, (b, t - 1)))
    mixed = torch.cat([hn, torch.cat(aligned, dim=1)], dim=2)
    return x + m.fuse(mixed.flatten(0, 1)).unflatten(0, (b, t))


def tcn_forward(m, x):
    import torch.nn.functional as F

    z = group_norm_per_frame(m.norm, x).transpose(1, 2)  # [B, C, T, H, W]
    for level in m.levels:
        back = (level.kernel - 1) * level.dilation  # causal: all padding before frame 0
        y = F.conv3d(F.pad(z, (0, 0, 0, 0, back, 0)), temporal_kernel(level.weight), level.bias,
                     dilation=(level.dilation, 1, 1))
        z = z + F.silu(y)
    return residual_add(x, F.conv3d(z, m.out.weight[:, :, None], m.out.bias))


def frame_delta_forward(m, x):
    import torch
    import torch.nn.functional as F

    hn = group_norm_per_frame(m.norm, x)
    delta = torch.cat([torch.zeros_like(hn[:, :1]), hn[:, 1:] - hn[:, :-1]], dim=1)
    hd = torch.cat([hn, delta], dim=2).transpose(1, 2)  # [B, 2C, T, H, W]
    e = F.conv3d(hd, temporal_kernel(m.temporal.weight), m.temporal.bias, padding=(1, 0, 0))
    return residual_add(x, F.conv3d(F.silu(e), m.out.weight[:, :, None], m.out.bias))


def float32_rope(m):
    """Replaces the reference RoPE policy (float64 angles) by the same rotation in the queries' dtype."""
    positions = reference("positions")

    class RoPE(positions.NoPosition):
        @staticmethod
        def turn(x, ctx):
            import torch

            d = x.shape[-1]
            theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=x.dtype) / d)
            angle = positions.token_frames(ctx).to(x.dtype)[:, None] * theta  # [L, d/2]
            cos, sin = angle.cos(), angle.sin()
            a, b = x[..., 0::2], x[..., 1::2]  # pairs (2i, 2i+1)
            return torch.stack([a * cos - b * sin, a * sin + b * cos], dim=-1).flatten(-2)

        def rotate(self, q, k, ctx):
            return self.turn(q, ctx), self.turn(k, ctx)

    m.position = RoPE(CHANNELS, HEADS)


# ----- cases -------------------------------------------------------------------

def randomize(torch, module, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_((torch.rand(p.shape, generator=gen, dtype=p.dtype) * 2 - 1) * scale)


def check_against_reference(torch, name, build, forward, prepare):
    """The batched forward equals the reference module's own, in float64."""
    module = build(CHECK_VIDEO[2]).double()
    randomize(torch, module, 0.5, seed=7)
    gen = torch.Generator().manual_seed(8)
    x = torch.rand(CHECK_VIDEO, generator=gen, dtype=torch.float64) * 2 - 1
    with torch.no_grad():
        expected = module(x)
        if prepare:
            prepare(module)
        got = forward(module, x) if forward else module(x)
    error = ((got - expected).abs().max() / expected.abs().max().clamp(min=1)).item()
    if not got.is_contiguous() or error > 1e-9:
        sys.exit(f"blocks_torch: case {name}: the batched forward differs from the reference module's "
                 f"(relative error {error:.3g}, contiguous {got.is_contiguous()})")


def block_case(name, description, video, flops, build, forward=None, prepare=None):
    """(name, case). build(channels): the reference module; forward(module,
    x): the timed forward (None: the module's own); prepare(module): a change
    made to the module before timing (a policy swapped for an equal one)."""

    def make(torch, args):
        fast = (forward or prepare) and not args.reference_forward
        route = ("batched" if forward else "float32_rope") if fast else "reference"
        if fast:
            check_against_reference(torch, name, build, forward, prepare)
        torch.manual_seed(0)  # the modules' own init draws from the global generator
        module = build(video[2])
        randomize(torch, module, WEIGHT_RANGE, seed=1234)
        if fast and prepare:
            prepare(module)
        gen = torch.Generator().manual_seed(1234)
        x = torch.rand(video, generator=gen, dtype=torch.float32) * 2 - 1
        run = forward if fast and forward else (lambda m, v: m(v))
        parameters = list(module.parameters())
        return bench_torch.Workload([x] + parameters, lambda: run(module, x),
                                    params=sum(p.numel() for p in parameters),
                                    info={"torch_forward": route})

    return name, {"description": f"{description}, x {list(video)}", "flops": flops, "with_backward": True,
                  "make": make}


def all_cases():
    """Same names, descriptions and order as all_cases() in blocks_bench.cpp."""
    kt, heads = TEMPORAL_KERNEL, HEADS
    stages = lambda: reference("conv_stages")  # noqa: E731
    attention = lambda: reference("attention")  # noqa: E731
    groups = default_norm_groups
    cases = [
        (bench_torch.PEAK_CASE, bench_torch.peak_case()),
        block_case("frame_conv", "FrameConv 3x3, 64 -> 64", VIDEO, stage_flops(VIDEO, "FrameConv"),
                   lambda c: stages().FrameConv(c, c)),
        block_case("conv3d", "Conv3D 3x3x3, 64 -> 64", VIDEO, stage_flops(VIDEO, "Conv3D"),
                   lambda c: stages().Conv3D(c, c, kt), conv3d_forward),
        block_case("conv2plus1d", "Conv2Plus1D 3x3 then kt 3, 64 -> 64", VIDEO, stage_flops(VIDEO, "Conv2Plus1D"),
                   lambda c: stages().Conv2Plus1D(c, c, kt), conv2plus1d_forward),
        block_case("adapter_conv2d", "AdapterConv2D 3x3, Tmax 8, 64 -> 64", VIDEO,
                   stage_flops(VIDEO, "AdapterConv2D"), lambda c: stages().AdapterConv2D(c, c, FRAMES)),
        block_case("temporal_attention", "TemporalAttention, NoPosition, heads 4", VIDEO,
                   attention_flops(VIDEO, joint=False), lambda c: attention().TemporalAttention(c, heads)),
        block_case("temporal_attention_rope", "TemporalAttention, RoPE, heads 4", VIDEO,
                   attention_flops(VIDEO, joint=False), lambda c: attention().TemporalAttention(c, heads, "RoPE"),
                   prepare=float32_rope),
        block_case("directed_attention", "DirectedAttention, NoPosition, heads 4, pre-softmax mask", VIDEO,
                   attention_flops(VIDEO, joint=False), lambda c: attention().DirectedAttention(c, heads)),
        block_case("spatiotemporal_attention",
                   "SpatioTemporalAttention, NoPosition, heads 4, 8x8 frames (512 tokens per video)", SMALL_VIDEO,
                   attention_flops(SMALL_VIDEO, joint=True), lambda c: attention().SpatioTemporalAttention(c, heads)),
        block_case("conv_lstm", "ConvLSTM 3x3", VIDEO, conv_lstm_flops(VIDEO),
                   lambda c: reference("recurrent").ConvLSTM(c, groups(c)), conv_lstm_forward),
        block_case("flow_warp", "FlowWarp, flow head", VIDEO, flow_warp_flops(VIDEO),
                   lambda c: reference("flow_delta").FlowWarp(c, groups(c)), flow_warp_forward),
        block_case("tcn", "TCN 2 levels, kernel 3", VIDEO, tcn_flops(VIDEO),
                   lambda c: reference("recurrent").TCN(c, groups(c), TCN_LEVELS, TCN_KERNEL), tcn_forward),
        block_case("frame_delta", "FrameDelta", VIDEO, frame_delta_flops(VIDEO),
                   lambda c: reference("flow_delta").FrameDelta(c, groups(c)), frame_delta_forward),
    ]
    return dict(cases)


def add_arguments(parser):
    parser.add_argument("--reference-forward", action="store_true",
                        help="time the reference modules' own forwards instead of the batched ones")


if __name__ == "__main__":
    sys.exit(bench_torch.main(sys.argv[1:], all_cases(), __doc__, add_arguments))
