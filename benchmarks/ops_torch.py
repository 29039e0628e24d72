#!/usr/bin/python3
"""PyTorch's side of the operator benchmark: the cases of ops_bench.cpp, timed
the same way, with the same flags and the same JSON records.

    /usr/bin/python3 benchmarks/ops_torch.py [--case NAME]... [--reps N]
        [--min-time SECONDS] [--warmup N] [--threads N] [--json] [--list]
        [--no-mkldnn]

Run it with Debian's /usr/bin/python3, which has python3-torch.
"""

import argparse
import json
import os
import statistics
import sys
import time


def matmul_case(n, with_backward):
    return {
        "description": f"[{n}, {n}] @ [{n}, {n}]",
        "leaf_shapes": [[n, n], [n, n]],
        "padding": None,
        "flops": 2 * n * n * n,
        "with_backward": with_backward,
    }


def conv_case(x, w, pad):
    """Stride 1, zero padding `pad` on every side, bias included."""
    flops = 2 * x[0] * w[0] * w[1]  # 2 · N · Cout · Cin · prod(kernel) · prod(output)
    for d in range(len(x) - 2):
        flops *= w[2 + d] * (x[2 + d] + 2 * pad - w[2 + d] + 1)
    return {
        "description": f"x {list(x)} * w {list(w)}, pad {pad}",
        "leaf_shapes": [list(x), list(w), [w[0]]],
        "padding": pad,
        "flops": flops,
        "with_backward": True,
    }


# Same names, shapes and order as all_cases() in ops_bench.cpp.
CASES = {
    "gemm_2048": matmul_case(2048, False),
    "matmul_512": matmul_case(512, True),
    "matmul_1024": matmul_case(1024, True),
    "conv2d_3x3": conv_case([16, 64, 32, 32], [64, 64, 3, 3], 1),
    "conv2d_1x1": conv_case([16, 64, 32, 32], [128, 64, 1, 1], 0),
    "conv3d_3x3x3": conv_case([2, 64, 8, 32, 32], [64, 64, 3, 3, 3], 1),
}


MAX_REPS = 200  # as in ops_bench.cpp


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append", default=[], choices=list(CASES), help="case to run (repeatable; default all)")
    p.add_argument("--reps", type=int, default=7, help="at least this many timed repetitions")
    p.add_argument("--min-time", type=float, default=1.0, help="repeat until the timed reps add up to this many seconds")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true", help="one JSON object per case")
    p.add_argument("--list", action="store_true", help="print the case names and exit")
    p.add_argument("--no-mkldnn", action="store_true",
                   help="turn oneDNN off, so convolutions take PyTorch's own im2col + BLAS path")
    args = p.parse_args(argv)
    if args.reps < 1 or args.warmup < 0 or args.threads < 1:
        p.error("expected --reps >= 1, --warmup >= 0 and --threads >= 1")
    return args


def measure(args, once):
    """Warm-up, then at least --reps timed calls and until --min-time seconds were measured."""
    for _ in range(args.warmup):
        once()
    samples = []
    while len(samples) < args.reps or (sum(samples) < 1e3 * args.min_time and len(samples) < MAX_REPS):
        samples.append(once())
    return samples


def stats(samples):
    if not samples:
        return None
    return {
        "median_ms": round(statistics.median(samples), 4),
        "min_ms": round(min(samples), 4),
        "max_ms": round(max(samples), 4),
        "reps": len(samples),
        "samples_ms": [round(s, 4) for s in samples],
    }


def run_case(torch, name, case, args):
    gen = torch.Generator().manual_seed(1234)
    leaves = [torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1 for shape in case["leaf_shapes"]]
    if case["padding"] is None:
        def run(t):
            return torch.matmul(t[0], t[1])
    else:
        conv = torch.nn.functional.conv2d if len(case["leaf_shapes"][0]) == 4 else torch.nn.functional.conv3d
        pad = case["padding"]

        def run(t):
            return conv(t[0], t[1], t[2], padding=pad)

    def forward_once():
        with torch.no_grad():
            start = time.perf_counter()
            y = run(leaves)
            elapsed = time.perf_counter() - start
        del y  # freed outside the timed region, as on the vgt side
        return 1e3 * elapsed

    fwd = measure(args, forward_once)

    fwd_bwd = []
    if case["with_backward"]:
        for leaf in leaves:
            leaf.requires_grad_(True)
        with torch.no_grad():
            seed = torch.ones_like(run(leaves))

        def forward_backward_once():
            for leaf in leaves:
                leaf.grad = None
            start = time.perf_counter()
            y = run(leaves)
            y.backward(seed)
            elapsed = time.perf_counter() - start
            del y
            return 1e3 * elapsed

        fwd_bwd = measure(args, forward_backward_once)
        for leaf in leaves:
            assert leaf.grad is not None and leaf.grad.shape == leaf.shape, f"{name}: no gradient for a leaf"

    record = {
        "framework": "torch",
        "case": name,
        "description": case["description"],
        "flops": case["flops"],
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "mkldnn": bool(torch.backends.mkldnn.enabled and torch.backends.mkldnn.is_available()),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "fwd": stats(fwd),
        "fwd_bwd": stats(fwd_bwd),
    }
    if args.json:
        print(json.dumps(record), flush=True)
    else:
        def line(label, samples, flops):
            s = stats(samples)
            return (f"  {label:<8} {s['median_ms']:9.3f} ms (min {s['min_ms']:.3f}, max {s['max_ms']:.3f}, "
                    f"{s['reps']} reps)  {flops / (s['median_ms'] * 1e6):7.1f} GFLOP/s")
        print(f"{name:<14} {case['description']}")
        print(line("fwd", fwd, case["flops"]))
        if fwd_bwd:
            print(line("fwd+bwd", fwd_bwd, 3 * case["flops"]))
        sys.stdout.flush()


def main(argv):
    args = parse_args(argv)
    if args.list:
        print("\n".join(CASES))
        return 0
    # OpenBLAS (matmul) reads its thread count when it is loaded; OpenMP
    # (oneDNN, elementwise) is set again through torch below.
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    # Idle OpenMP threads sleep instead of spinning, as vgt's pool does: a
    # spinning thread takes its core from whatever else runs, which on a
    # shared 2-core machine more than doubled the time of a convolution.
    # An OMP_WAIT_POLICY already in the environment wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(args.threads)
    if args.no_mkldnn:
        torch.backends.mkldnn.enabled = False
    for name in args.case or list(CASES):
        run_case(torch, name, CASES[name], args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
