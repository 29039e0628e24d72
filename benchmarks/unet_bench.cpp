// vgt's side of the UNet training-step benchmark: one step of each UNet
// preset (vgt/bench/unet_cases.hpp) at the text-to-video quality bar's size,
// after the GEMM peak case. benchmarks/unet_torch.py holds the same cases for
// PyTorch, and benchmarks/run-unet runs the two alternately and prints the
// comparison.
//
//   vgt_bench_unet [--case NAME]... [--reps N] [--min-time SECONDS]
//                  [--warmup N] [--threads N] [--json] [--list]

#include <exception>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench_harness.hpp"
#include "vgt/bench/unet_cases.hpp"

int main(int argc, char** argv) {
    try {
        std::vector<vgt::bench::BenchCase> cases{vgt::bench::peak_case()};
        for (auto& c : vgt::bench::unet_step_cases()) cases.push_back(std::move(c));
        return vgt::bench::run_main(argc, argv, "vgt_bench_unet", cases);
    } catch (const std::exception& e) {  // a model that fails to build its case
        fmt::print(stderr, "vgt_bench_unet: {}\n", e.what());
        return 1;
    }
}
