// vgt's side of the temporal-block benchmark: every conv stage and temporal
// mixer (vgt/bench/block_cases.hpp), forward and forward+backward, on a video
// [B=2, T=8, C=64, H=32, W=32] in float32 on a fixed number of threads,
// after the GEMM peak case. benchmarks/blocks_torch.py holds the same cases
// for PyTorch, and benchmarks/run-blocks runs the two alternately and prints
// the comparison. `vgt bench blocks` times the same cases at any shape.
//
//   vgt_bench_blocks [--case NAME]... [--reps N] [--min-time SECONDS]
//                    [--warmup N] [--threads N] [--json] [--list]
//
// With --json each case prints one JSON object on its own line.

#include <exception>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench_harness.hpp"
#include "vgt/bench/block_cases.hpp"

int main(int argc, char** argv) {
    try {
        std::vector<vgt::bench::BenchCase> cases{vgt::bench::peak_case()};
        for (auto& c : vgt::bench::block_cases(vgt::bench::default_block_video())) cases.push_back(std::move(c));
        return vgt::bench::run_main(argc, argv, "vgt_bench_blocks", cases);
    } catch (const std::exception& e) {  // a block that fails to build its case
        fmt::print(stderr, "vgt_bench_blocks: {}\n", e.what());
        return 1;
    }
}
