#!/usr/bin/python3
"""PyTorch's side of the operator benchmark: the cases of ops_bench.cpp, timed
the same way, with the same flags and the same JSON records.

    /usr/bin/python3 benchmarks/ops_torch.py [--case NAME]... [--reps N]
        [--min-time SECONDS] [--warmup N] [--threads N] [--json] [--list]
        [--no-mkldnn]

Run it with Debian's /usr/bin/python3, which has python3-torch.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_torch  # noqa: E402


def conv_case(x, w, pad):
    """Stride 1, zero padding `pad` on every side, bias included."""
    flops = 2 * x[0] * w[0] * w[1]  # 2 · N · Cout · Cin · prod(kernel) · prod(output)
    for d in range(len(x) - 2):
        flops *= w[2 + d] * (x[2 + d] + 2 * pad - w[2 + d] + 1)

    def make(torch, args):
        leaves = bench_torch.uniform_leaves(torch, [x, w, [w[0]]])
        conv = torch.nn.functional.conv2d if len(x) == 4 else torch.nn.functional.conv3d
        return bench_torch.Workload(leaves, lambda: conv(leaves[0], leaves[1], leaves[2], padding=pad))

    return {"description": f"x {list(x)} * w {list(w)}, pad {pad}", "flops": flops, "with_backward": True,
            "make": make}


# Same names, shapes and order as all_cases() in ops_bench.cpp.
CASES = {
    bench_torch.PEAK_CASE: bench_torch.peak_case(),
    "matmul_512": bench_torch.matmul_case(512, True),
    "matmul_1024": bench_torch.matmul_case(1024, True),
    "conv2d_3x3": conv_case([16, 64, 32, 32], [64, 64, 3, 3], 1),
    "conv2d_1x1": conv_case([16, 64, 32, 32], [128, 64, 1, 1], 0),
    "conv3d_3x3x3": conv_case([2, 64, 8, 32, 32], [64, 64, 3, 3, 3], 1),
}


if __name__ == "__main__":
    sys.exit(bench_torch.main(sys.argv[1:], CASES, __doc__))
