"""The timing harness shared by the PyTorch sides of the benchmarks
(ops_torch.py, blocks_torch.py): the counterpart of bench_harness.hpp, with
the same flags, the same timing rules and the same JSON records.

A side defines its cases as an ordered dict name -> case, where a case is a
dict with `description` and `flops` (identical to the vgt side's; `flops`
may be a function of the torch module, called once when the case runs),
`with_backward`, and `make(torch, args)`, which builds the inputs once,
outside the timing, and returns a Workload. Then it calls
`main(argv, cases, __doc__)`.
"""

import argparse
import collections
import json
import os
import resource
import statistics
import sys
import time

MAX_REPS = 200  # as in bench_harness.hpp
PEAK_CASE = "gemm_2048"

# leaves: the tensors whose gradients forward+backward computes; forward: a
# function of no arguments that runs the timed forward; params: the number of
# weights, reported when not None (must equal the vgt side's); info: further
# fields for the JSON record (how the case was run); update: a function run
# after each backward inside the timing (an optimiser step), or None.
Workload = collections.namedtuple("Workload", ["leaves", "forward", "params", "info", "update"],
                                  defaults=[None, None, None])


def uniform_leaves(torch, shapes, seed=1234):
    """Float32 leaves uniform in [-1, 1) from a fixed seed."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1 for shape in shapes]


def matmul_case(n, with_backward):
    def make(torch, args):
        a, b = uniform_leaves(torch, [[n, n], [n, n]])
        return Workload([a, b], lambda: torch.matmul(a, b))

    return {"description": f"[{n}, {n}] @ [{n}, {n}]", "flops": 2 * n * n * n, "with_backward": with_backward,
            "make": make}


def peak_case():
    """Forward only: the machine's GEMM rate, for the "% of peak" column."""
    return matmul_case(2048, False)


def parse_args(argv, cases, doc, add_arguments=None):
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", action="append", default=[], choices=list(cases), help="case to run (repeatable; default all)")
    p.add_argument("--reps", type=int, default=7, help="at least this many timed repetitions")
    p.add_argument("--min-time", type=float, default=1.0, help="repeat until the timed reps add up to this many seconds")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", action="store_true", help="one JSON object per case")
    p.add_argument("--list", action="store_true", help="print the case names and exit")
    p.add_argument("--no-mkldnn", action="store_true",
                   help="turn oneDNN off, so convolutions take PyTorch's own im2col + BLAS path")
    if add_arguments:
        add_arguments(p)
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


def resident_mib():
    """Resident memory of this process now, in MiB (as vgt's resident_mib())."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        return 0.0


def peak_resident_mib():
    """The process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(torch, name, case, args):
    rss_before = resident_mib()
    work = case["make"](torch, args)
    leaves, forward = work.leaves, work.forward

    def forward_once():
        with torch.no_grad():
            start = time.perf_counter()
            y = forward()
            elapsed = time.perf_counter() - start
        del y  # freed outside the timed region, as on the vgt side
        return 1e3 * elapsed

    fwd = measure(args, forward_once)

    fwd_bwd = []
    if case["with_backward"]:
        for leaf in leaves:
            leaf.requires_grad_(True)
        with torch.no_grad():
            seed = torch.ones_like(forward())

        def forward_backward_once():
            for leaf in leaves:
                leaf.grad = None
            start = time.perf_counter()
            y = forward()
            y.backward(seed)
            if work.update:
                work.update()
            elapsed = time.perf_counter() - start
            del y
            return 1e3 * elapsed

        fwd_bwd = measure(args, forward_backward_once)
        for i, leaf in enumerate(leaves):
            assert leaf.grad is not None and leaf.grad.shape == leaf.shape, f"{name}: no gradient for leaf {i}"

    flops = case["flops"](torch) if callable(case["flops"]) else case["flops"]
    record = {
        "framework": "torch",
        "case": name,
        "description": case["description"],
        "flops": flops,
    }
    if work.params is not None:
        record["params"] = work.params
    record.update(work.info or {})
    record.update({
        "rss_before_mib": round(rss_before, 1),
        "peak_rss_mib": round(peak_resident_mib(), 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "mkldnn": bool(torch.backends.mkldnn.enabled and torch.backends.mkldnn.is_available()),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "fwd": stats(fwd),
        "fwd_bwd": stats(fwd_bwd),
    })
    if args.json:
        print(json.dumps(record), flush=True)
    else:
        def line(label, samples, flops):
            s = stats(samples)
            return (f"  {label:<8} {s['median_ms']:9.3f} ms (min {s['min_ms']:.3f}, max {s['max_ms']:.3f}, "
                    f"{s['reps']} reps)  {flops / (s['median_ms'] * 1e6):7.1f} GFLOP/s")
        print(f"{name:<14} {case['description']}")
        print(line("fwd", fwd, flops))
        if fwd_bwd:
            print(line("fwd+bwd", fwd_bwd, 3 * flops))
        sys.stdout.flush()


def main(argv, cases, doc, add_arguments=None):
    """add_arguments(parser): adds a side's own flags (read by its cases' make)."""
    args = parse_args(argv, cases, doc, add_arguments)
    if args.list:
        print("\n".join(cases))
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
    for name in args.case or list(cases):
        run_case(torch, name, cases[name], args)
    return 0
