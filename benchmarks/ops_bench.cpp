// vgt's side of the operator benchmark: times matmul and convolutions,
// forward and forward+backward, on a fixed number of threads.
// benchmarks/ops_torch.py holds the same cases for PyTorch, and
// benchmarks/run-ops runs the two alternately and prints the comparison.
//
//   vgt_bench_ops [--case NAME]... [--reps N] [--min-time SECONDS]
//                 [--warmup N] [--threads N] [--json] [--list]
//
// With --json each case prints one JSON object on its own line.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench_harness.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/conv.hpp"

namespace {

using vgt::Shape;
using vgt::Tensor;
using vgt::bench::BenchCase;
using vgt::bench::Workload;

/// Stride 1, zero padding `pad` on every side, bias included.
BenchCase conv_case(std::string name, Shape x, Shape w, std::int64_t pad) {
    const int spatial = x.rank() - 2;
    // Algorithmic FLOPs: 2 · N · Cout · Cin · prod(kernel) · prod(output).
    double flops = 2.0 * static_cast<double>(x[0]) * static_cast<double>(w[0]) * static_cast<double>(w[1]);
    for (int d = 0; d < spatial; ++d) {
        const std::int64_t out = x[2 + d] + 2 * pad - w[2 + d] + 1;
        flops *= static_cast<double>(w[2 + d]) * static_cast<double>(out);
    }
    BenchCase c;
    c.name = std::move(name);
    c.description = fmt::format("x {} * w {}, pad {}", x, w, pad);
    c.flops = flops;
    c.make = [x, w, pad, spatial] {
        std::vector<Tensor> t = vgt::bench::random_leaves({x, w, Shape{w[0]}});
        const vgt::ConvOptions options{.padding = {pad}};
        if (spatial == 2)
            return Workload{t, [t, options] { return vgt::conv2d(t[0], t[1], t[2], options); }, {}};
        return Workload{t, [t, options] { return vgt::conv3d(t[0], t[1], t[2], options); }, {}};
    };
    return c;
}

/// The cases, in the order they run. gemm_2048 measures the machine's GEMM
/// rate (forward only); the others are the comparison proper.
std::vector<BenchCase> all_cases() {
    std::vector<BenchCase> cases;
    cases.push_back(vgt::bench::peak_case());
    cases.push_back(vgt::bench::matmul_case("matmul_512", 512, true));
    cases.push_back(vgt::bench::matmul_case("matmul_1024", 1024, true));
    cases.push_back(conv_case("conv2d_3x3", Shape{16, 64, 32, 32}, Shape{64, 64, 3, 3}, 1));
    cases.push_back(conv_case("conv2d_1x1", Shape{16, 64, 32, 32}, Shape{128, 64, 1, 1}, 0));
    cases.push_back(conv_case("conv3d_3x3x3", Shape{2, 64, 8, 32, 32}, Shape{64, 64, 3, 3, 3}, 1));
    return cases;
}

}  // namespace

int main(int argc, char** argv) { return vgt::bench::run_main(argc, argv, "vgt_bench_ops", all_cases()); }
