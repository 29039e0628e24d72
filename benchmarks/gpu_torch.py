#!/usr/bin/env python3
"""PyTorch's side of the GPU benchmark: the cases of gpu_bench.cpp on a CUDA
device, timed the same way (CUDA events on the default stream, calls queued
back to back after warm-up, medians), with the same case names and JSON
keys. It also prints the table that sets vgt's run beside PyTorch's.

    python3 benchmarks/gpu_torch.py [--json PATH] [--reps N] [--warmup N] [--case NAME]...
    python3 benchmarks/gpu_torch.py --compare VGT_JSON [TORCH_JSON]

Without PyTorch or without a CUDA device it says so in one line and exits
with status 0 (with --json it writes a record saying why), so that a device
check still shows vgt's side. Matrix products and convolutions run in true
float32: TF32 is turned off, as cuBLAS does by default for vgt and as vgt
asks of cuDNN. cuDNN's benchmark mode is on, since vgt also measures cuDNN's
algorithms once per shape; the warm-up calls take that search out of the
timing on both sides. All these settings live in this process only.
"""

import argparse
import importlib
import json
import statistics
import sys

ROWS, COLS = 8192, 8192
FLOAT_BYTES = 4


def shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


# ----- the cases: the names, descriptions and byte or FLOP counts of gpu_bench.cpp -----

def gemm_cases():
    """name -> (a shape, b shape); FLOPs are 2·batch·M·K·N."""
    return {
        "gemm_4096": ([4096, 4096], [4096, 4096]),
        "bmm_attention": ([64, 1024, 64], [64, 64, 1024]),
    }


def memory_cases(F):
    """name -> (description, bytes read and written at least, function of (x, y, row))."""
    n = ROWS * COLS * FLOAT_BYTES
    x = f"x [{ROWS}, {COLS}]"
    return {
        "add": (x + f" + y [{ROWS}, {COLS}]", 3 * n, lambda x, y, r: x + y),
        "mul_row_broadcast": (x + f" * r [1, {COLS}]", 2 * n + COLS * FLOAT_BYTES, lambda x, y, r: x * r),
        "exp": (f"exp({x})", 2 * n, lambda x, y, r: x.exp()),
        "sigmoid": (f"sigmoid({x})", 2 * n, lambda x, y, r: x.sigmoid()),
        "silu": (f"silu({x})", 2 * n, lambda x, y, r: F.silu(x)),
        "gelu": (f"gelu({x}), erf form", 2 * n, lambda x, y, r: F.gelu(x)),
        "sum_dim1": (f"sum({x}, dim 1)", n + ROWS * FLOAT_BYTES, lambda x, y, r: x.sum(dim=1)),
        "softmax_dim1": (f"softmax({x}, dim 1)", 2 * n, lambda x, y, r: x.softmax(dim=1)),
    }


CHAIN_N = 2048


def conv_cases():
    """name -> (x shape, weight shape, padding): stride 1, a bias, one group;
    each also runs forward + backward as NAME_fwd_bwd."""
    return {
        "conv2d_3x3": ([32, 128, 64, 64], [128, 128, 3, 3], 1),
        "conv3d_3x3x3": ([4, 64, 16, 64, 64], [64, 64, 3, 3, 3], 1),
    }


def conv_names():
    return [name + suffix for name in conv_cases() for suffix in ("", "_fwd_bwd")]


UNET_PRESETS = ["magicvideo", "gen1", "vdm", "conv3d", "image", "vdm_flow"]  # models/unet_presets.hpp's order


def unet_step_names():
    return [f"unet_{preset}_step" for preset in UNET_PRESETS]


# Pixel attention: [B, T, C, H, W] = [8, 16, 320, 32, 32], 5 heads (AttentionSize in gpu_bench.cpp).
ATTENTION = dict(batch=8, frames=16, channels=320, heads=5, height=32, width=32)


def attention_names():
    return [f"pixel_attention_{dtype}{suffix}" for dtype in ("f32", "bf16") for suffix in ("", "_fwd_bwd")]


ALL_CASES = ["device_copy", *gemm_cases(), *memory_cases(None), "chain_fwd_bwd", *conv_names(), *attention_names(),
             *unet_step_names()]


# ----- timing ----------------------------------------------------------------------

def time_on_device(torch, work, args):
    """Milliseconds of device time per call, as time_on_device in gpu_bench.cpp:
    warm-up, then every call between two events, queued back to back and
    synchronised once; a call's result is dropped after its stop event."""
    for _ in range(args.warmup):
        work()
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(args.reps)]
    for start, stop in events:
        start.record()
        result = work()
        stop.record()
        del result
    torch.cuda.synchronize()
    return [start.elapsed_time(stop) for start, stop in events]


def timing_record(samples):
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
            "reps": len(samples), "samples_ms": samples}


def random_on_gpu(torch, shape, seed):
    """Uniform in [-1, 1): never zeros."""
    gen = torch.Generator(device="cuda").manual_seed(seed)
    return torch.rand(shape, device="cuda", generator=gen) * 2 - 1


def new_precision_api(torch):
    """Whether this PyTorch sets TF32 through fp32_precision: the settings'
    names changed in 2.9, and older versions raise on unknown names rather
    than answer hasattr()."""
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 9)


def use_true_float32(torch):
    """Turns TF32 off for matrix products; returns how, for the record."""
    matmul = torch.backends.cuda.matmul
    if new_precision_api(torch):
        matmul.fp32_precision = "ieee"
        return "torch.backends.cuda.matmul.fp32_precision = 'ieee'"
    matmul.allow_tf32 = False
    return "torch.backends.cuda.matmul.allow_tf32 = False"


def use_true_float32_convolutions(torch):
    """Turns TF32 off for cuDNN's convolutions and lets cuDNN measure its
    algorithms per shape (benchmark mode), as vgt does; returns how, for the
    record. As for matrix products, only the name this version reads is set."""
    cudnn = torch.backends.cudnn
    cudnn.benchmark = True
    if new_precision_api(torch):
        cudnn.conv.fp32_precision = "ieee"
        return "torch.backends.cudnn.conv.fp32_precision = 'ieee', cudnn.benchmark = True"
    cudnn.allow_tf32 = False
    return "torch.backends.cudnn.allow_tf32 = False, cudnn.benchmark = True"


def copy_case(torch, args):
    source = random_on_gpu(torch, [ROWS, COLS], 11)
    destination = torch.empty_like(source)
    nbytes = 2 * source.numel() * source.element_size()

    def copy():
        destination.copy_(source)

    record = timing_record(time_on_device(torch, copy, args))
    record.update(description=f"copy_ device to device, [{ROWS}, {COLS}] float32 (read + write)", kind="limit",
                  bytes=nbytes, gbps=nbytes / (record["median_ms"] * 1e-3) / 1e9)
    return record


def gemm_case(torch, a_shape, b_shape, args):
    a, b = random_on_gpu(torch, a_shape, 1), random_on_gpu(torch, b_shape, 2)
    batch = a_shape[0] if len(a_shape) == 3 else 1
    flops = 2.0 * batch * a_shape[-2] * a_shape[-1] * b_shape[-1]
    record = timing_record(time_on_device(torch, lambda: torch.matmul(a, b), args))
    record.update(kind="gemm", description=f"{shape_text(a_shape)} @ {shape_text(b_shape)}", flops=flops,
                  tflops=flops / (record["median_ms"] * 1e-3) / 1e12)
    return record


def memory_case(torch, description, nbytes, run, inputs, copy_gbps, args):
    record = timing_record(time_on_device(torch, lambda: run(*inputs), args))
    record.update(kind="memory", description=description, bytes=nbytes,
                  gbps=nbytes / (record["median_ms"] * 1e-3) / 1e9)
    if copy_gbps:
        record["fraction_of_copy"] = record["gbps"] / copy_gbps
    return record


def chain_case(torch, F, args):
    n = CHAIN_N
    x = random_on_gpu(torch, [n, n], 21).requires_grad_()
    w = random_on_gpu(torch, [n, n], 22).requires_grad_()

    def step():
        x.grad = None
        w.grad = None
        F.silu(x @ w).sum().backward()

    flops = 3 * 2.0 * n * n * n
    record = timing_record(time_on_device(torch, step, args))
    record.update(kind="autograd", description=f"sum(silu(x [{n}, {n}] @ w [{n}, {n}])), forward + backward",
                  flops=flops, tflops=flops / (record["median_ms"] * 1e-3) / 1e12)
    return record


def conv_case(torch, F, x_shape, w_shape, pad, backward, args):
    """Forward alone (no graph), or forward and backward from a fixed random
    output gradient into x, w and the bias, as conv_case in gpu_bench.cpp.
    cuDNN's benchmark search runs on the first call: at least one warm-up
    call, even with --warmup 0, keeps it out of the timing."""
    args = argparse.Namespace(**{**vars(args), "warmup": max(args.warmup, 1)})
    conv = F.conv2d if len(x_shape) == 4 else F.conv3d
    x, w, b = (random_on_gpu(torch, x_shape, 41), random_on_gpu(torch, w_shape, 42),
               random_on_gpu(torch, [w_shape[0]], 43))
    spatial = len(x_shape) - 2
    y_shape = [x_shape[0], w_shape[0], *(x_shape[2 + d] + 2 * pad - w_shape[2 + d] + 1 for d in range(spatial))]
    # 2 · N · C_out · output positions · C_in/groups · kernel size; backward twice that.
    flops = 2.0 * w_shape[0] * w_shape[1] * y_shape[0]
    for d in range(spatial):
        flops *= y_shape[2 + d] * w_shape[2 + d]
    description = f"x {shape_text(x_shape)} * w {shape_text(w_shape)}, bias, pad {pad}"
    if not backward:
        record = timing_record(time_on_device(torch, lambda: conv(x, w, b, padding=pad), args))
    else:
        flops *= 3
        description += ", forward + backward into x, w and bias"
        leaves = [leaf.requires_grad_() for leaf in (x, w, b)]
        seed = random_on_gpu(torch, y_shape, 44)

        def step():
            for leaf in leaves:
                leaf.grad = None
            conv(x, w, b, padding=pad).backward(seed)

        record = timing_record(time_on_device(torch, step, args))
        for name, leaf in zip(("x", "w", "bias"), leaves):
            if leaf.grad is None or leaf.grad.shape != leaf.shape:
                raise RuntimeError(f"expected the gradient of {name} with shape {list(leaf.shape)}")
    record.update(kind="autograd" if backward else "conv", description=description, flops=flops,
                  tflops=flops / (record["median_ms"] * 1e-3) / 1e12)
    return record


def attention_case(torch, F, name, copy_gbps, args):
    """The same function as vgt's pixel_attention, written as a PyTorch user
    would: the packed projection regrouped into per-pixel sequences for
    scaled_dot_product_attention, and the result put back in the video layout."""
    a = ATTENTION
    b, t, c, heads, h, w = a["batch"], a["frames"], a["channels"], a["heads"], a["height"], a["width"]
    d, p = c // heads, h * w
    bf16, backward = "bf16" in name, name.endswith("_fwd_bwd")
    dtype = torch.bfloat16 if bf16 else torch.float32
    qkv = random_on_gpu(torch, [b, t, 3 * c, h, w], 61).to(dtype).requires_grad_(backward)
    grad = random_on_gpu(torch, [b, t, c, h, w], 62).to(dtype)

    def attend():
        parts = qkv.view(b, t, 3, heads, d, p).permute(2, 0, 5, 3, 1, 4)  # [3, B, P, heads, T, d]
        o = F.scaled_dot_product_attention(parts[0], parts[1], parts[2])
        return o.permute(0, 3, 2, 4, 1).reshape(b, t, c, h, w)

    def step():
        if not backward:
            return attend()
        qkv.grad = None
        attend().backward(grad)

    element = 2 if bf16 else 4
    nbytes = (11 if backward else 4) * b * t * c * p * element
    record = timing_record(time_on_device(torch, step, args))
    record.update(kind="memory", bytes=nbytes, gbps=nbytes / (record["median_ms"] * 1e-3) / 1e9,
                  description=f"pixel attention, qkv {shape_text([b, t, 3 * c, h, w])} -> "
                              f"{shape_text([b, t, c, h, w])}, {heads} heads, {'bfloat16' if bf16 else 'float32'}, "
                              f"{'forward + backward' if backward else 'forward'}")
    if copy_gbps:
        record["fraction_of_copy"] = record["gbps"] / copy_gbps
    return record


def unet_step_case(torch, F, preset, args):
    """One training step of a UNet preset, as unet_step_case in gpu_bench.cpp:
    benchmarks/unet_torch.py's model (the PyTorch twin of vgt's UNet, every
    weight redrawn uniform in ±0.1) on the GPU, forward, MSE loss, backward
    and one step of PyTorch's default AdamW. FLOPs: the forward's, counted
    by unet_torch.py, three times."""
    unet = importlib.import_module("unet_torch")
    unet.use_batched_stages(preset)
    model = unet.build(preset, torch.float32)
    unet.randomize(torch, model, unet.WEIGHT_RANGE, seed=1234)
    model = model.cuda()
    video, tokens, options = unet.VIDEO, unet.CONTEXT_TOKENS, unet.OPTIONS
    x, target = random_on_gpu(torch, video, 51), random_on_gpu(torch, video, 52)
    time = random_on_gpu(torch, [video[0], options["time_embed_dim"]], 53)
    context = random_on_gpu(torch, [video[0], tokens, options["context_dim"]], 54)
    optimiser = torch.optim.AdamW(model.parameters(), lr=unet.LEARNING_RATE, weight_decay=unet.WEIGHT_DECAY)

    def step():
        optimiser.zero_grad(set_to_none=True)
        F.mse_loss(model(x, time, context), target).backward()
        optimiser.step()

    record = timing_record(time_on_device(torch, step, args))
    for name, p in model.named_parameters():
        if p.grad is None or p.grad.device != p.device:
            raise RuntimeError(f"expected the gradient of {name} on {p.device}")
    flops = 3.0 * unet.counted_flops(preset)(torch)
    record.update(kind="autograd", flops=flops, tflops=flops / (record["median_ms"] * 1e-3) / 1e12,
                  params=sum(p.numel() for p in model.parameters()),
                  description=(f"UNet preset {preset} training step (AdamW), x {shape_text(video)}, "
                               f"context [{video[0]}, {tokens}, {options['context_dim']}]"))
    return record


def run_case(torch, name, body):
    """One case's record; an exception becomes the record's `failed` key."""
    print(f"gpu_torch: {name}", file=sys.stderr, flush=True)
    try:
        record = body()
    except Exception as e:  # report and go on, as vgt_bench_gpu does
        record = {"failed": f"{type(e).__name__}: {e}"}
    torch.cuda.synchronize()
    return {"case": name, **record}


def measure(args):
    """The report, or None with a reason when there is nothing to time on."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        return None, f"PyTorch is not installed for {sys.executable} ({e})"
    if not torch.cuda.is_available():
        return None, f"PyTorch {torch.__version__} sees no CUDA device (built for CUDA {torch.version.cuda})"

    report = {"framework": "torch", "torch": torch.__version__, "cuda_runtime": torch.version.cuda,
              "device": torch.cuda.get_device_name(0), "reps": args.reps, "warmup": args.warmup,
              "float32_matmul": use_true_float32(torch),
              "float32_conv": use_true_float32_convolutions(torch)}
    wants = (lambda name: not args.case or name in args.case)
    cases = [run_case(torch, "device_copy", lambda: copy_case(torch, args))]
    copy_gbps = cases[0].get("gbps")
    for name, (a_shape, b_shape) in gemm_cases().items():
        if wants(name):
            cases.append(run_case(torch, name, lambda: gemm_case(torch, a_shape, b_shape, args)))
    memory = {name: case for name, case in memory_cases(F).items() if wants(name)}
    if memory:
        inputs = (random_on_gpu(torch, [ROWS, COLS], 31), random_on_gpu(torch, [ROWS, COLS], 32),
                  random_on_gpu(torch, [1, COLS], 33))
        for name, (description, nbytes, run) in memory.items():
            cases.append(run_case(torch, name,
                                  lambda: memory_case(torch, description, nbytes, run, inputs, copy_gbps, args)))
        del inputs
    if wants("chain_fwd_bwd"):
        cases.append(run_case(torch, "chain_fwd_bwd", lambda: chain_case(torch, F, args)))
    for name, (x_shape, w_shape, pad) in conv_cases().items():
        for backward in (False, True):
            full_name = name + ("_fwd_bwd" if backward else "")
            if wants(full_name):
                cases.append(run_case(torch, full_name,
                                      lambda: conv_case(torch, F, x_shape, w_shape, pad, backward, args)))
    for name in attention_names():
        if wants(name):
            cases.append(run_case(torch, name, lambda: attention_case(torch, F, name, copy_gbps, args)))
    for preset, name in zip(UNET_PRESETS, unet_step_names()):
        if wants(name):
            cases.append(run_case(torch, name, lambda: unet_step_case(torch, F, preset, args)))
    report["copy_gbps"] = copy_gbps
    report["cases"] = cases
    return report, None


# ----- the tables ----------------------------------------------------------------------

def cell(text, limit=110):
    text = str(text).replace("|", "/").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def rate_text(record):
    if record and "median_ms" in record:
        if "tflops" in record:
            return f"{record['tflops']:.1f} TFLOP/s"
        if "gbps" in record:
            return f"{record['gbps']:.0f} GB/s"
    return "-"


def ms_text(record):
    if not record:
        return "-"
    if "median_ms" in record:
        return f"{record['median_ms']:.3f}"
    if "unsupported" in record:
        return "unsupported"
    return "failed" if "failed" in record else "-"


def versus_limit_text(record):
    """How close vgt comes to the case's limit: cuBLAS's time, or the copy's
    bandwidth. Where vgt did not run, cuBLAS's rate still shows."""
    problem = next((f"{key}: {record[key]}" for key in ("unsupported", "failed") if key in record), None)
    if "cublas" in record:
        peak = f"cuBLAS {record['cublas']['tflops']:.1f} TFLOP/s"
        if problem:
            return f"{peak}; {problem}"
        return f"x{record['time_ratio_to_cublas']:.2f} cuBLAS's time ({peak})"
    if problem:
        return problem
    if "fraction_of_copy" in record:
        return f"{100 * record['fraction_of_copy']:.0f} % of copy"
    return "-"


def print_comparison(vgt, torch_report):
    """One row per case of vgt's run, with PyTorch's time beside it."""
    torch_cases = {c["case"]: c for c in (torch_report or {}).get("cases", [])}
    print(f"## vgt against PyTorch on {vgt.get('device', '?')}: median ms of {vgt.get('reps')} calls after warm-up")
    print()
    if torch_report is None:
        print("PyTorch: no record.")
    elif "unavailable" in torch_report:
        print(f"PyTorch: not measured: {torch_report['unavailable']}")
    else:
        print(f"PyTorch {torch_report.get('torch')} (CUDA {torch_report.get('cuda_runtime')}), "
              f"{torch_report.get('float32_matmul')}; {torch_report.get('float32_conv', 'cuDNN settings unrecorded')}.")
    print()
    print("| case | vgt ms | torch ms | vgt / torch | vgt rate | torch rate | vgt against its limit |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for record in vgt.get("cases", []):
        other = torch_cases.get(record["case"])
        ratio = "-"
        if other and "median_ms" in record and "median_ms" in other and other["median_ms"] > 0:
            ratio = f"{record['median_ms'] / other['median_ms']:.2f}"
        print(f"| {record['case']} | {ms_text(record)} | {ms_text(other)} | {ratio} | {rate_text(record)} | "
              f"{rate_text(other)} | {cell(versus_limit_text(record))} |")


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"gpu_torch: could not read {path}: {e}", file=sys.stderr)
        return None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", help="also write the report here")
    p.add_argument("--reps", type=int, default=50, help="timed calls per case (default 50, as vgt_bench_gpu)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    p.add_argument("--case", action="append", default=[], choices=ALL_CASES,
                   help="case to run (repeatable; default all; device_copy always runs)")
    p.add_argument("--compare", nargs="+", metavar="JSON",
                   help="print the table of vgt's report (VGT_JSON) beside PyTorch's (TORCH_JSON) and exit")
    args = p.parse_args(argv)
    if args.reps < 1 or args.warmup < 0:
        p.error("expected --reps >= 1 and --warmup >= 0")
    if args.compare and len(args.compare) > 2:
        p.error("--compare takes VGT_JSON and optionally TORCH_JSON")
    return args


def main(argv):
    args = parse_args(argv)
    if args.compare:
        vgt = load(args.compare[0])
        if vgt is None:
            return 1
        print_comparison(vgt, load(args.compare[1]) if len(args.compare) > 1 else None)
        return 0

    report, unavailable = measure(args)
    if report is None:
        print(f"gpu_torch: nothing timed: {unavailable}")
        report = {"framework": "torch", "unavailable": unavailable, "cases": []}
    else:
        print(f"## PyTorch {report['torch']} on {report['device']}: median ms of {args.reps} calls after warm-up")
        print()
        print("| case | operation | torch ms | torch rate |")
        print("| --- | --- | --- | --- |")
        for c in report["cases"]:
            rate = cell("failed: " + c["failed"]) if "failed" in c else rate_text(c)
            print(f"| {c['case']} | {cell(c.get('description', ''))} | {ms_text(c)} | {rate} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
