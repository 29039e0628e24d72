#pragma once
// The command line shared by vgt's benchmark programs (vgt_bench_ops,
// vgt_bench_blocks): a program lists its cases and hands them to
// vgt::bench::run_main, which parses the common flags, times each case
// forward and forward+backward (vgt/bench/timing.hpp, the loop that
// `vgt bench blocks` uses too) and prints text or one JSON record per case.
// The PyTorch sides (benchmarks/bench_torch.py) time the same way and print
// the same records, which benchmarks/compare.py puts side by side. The GPU
// benchmark (gpu_bench.cpp) times on the device its own way and shares only
// the flag reader, parse_flags.
//
//   PROGRAM [--case NAME]... [--reps N] [--min-time SECONDS] [--warmup N]
//           [--threads N] [--json] [--list]

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/bench/timing.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/matmul.hpp"

namespace vgt::bench {

/// Float32 leaves uniform in [-1, 1) from a fixed seed.
inline std::vector<Tensor> random_leaves(const std::vector<Shape>& shapes, std::uint64_t seed = 1234) {
    Generator gen(seed);
    std::vector<Tensor> leaves;
    for (const Shape& shape : shapes) leaves.push_back(rand(shape, gen, DType::Float32, -1.0, 1.0));
    return leaves;
}

/// [n, n] @ [n, n]. Forward only, gemm_2048 measures the machine's GEMM rate.
inline BenchCase matmul_case(std::string name, std::int64_t n, bool with_backward) {
    BenchCase c;
    c.name = std::move(name);
    c.description = fmt::format("[{0}, {0}] @ [{0}, {0}]", n);
    c.flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    c.with_backward = with_backward;
    c.make = [n] {
        std::vector<Tensor> leaves = random_leaves({Shape{n, n}, Shape{n, n}});
        return Workload{leaves, [a = leaves[0], b = leaves[1]] { return matmul(a, b); }, {}};
    };
    return c;
}

/// The case every comparison also runs, for the "% of peak" column.
inline constexpr std::string_view peak_case_name = "gemm_2048";
inline BenchCase peak_case() { return matmul_case(std::string(peak_case_name), 2048, false); }

/// The programs' flags; the timing defaults are PyTorch's side's too.
struct Settings {
    std::vector<std::string> cases;  // empty: all
    TimingOptions timing;
    int threads = 2;
    bool json = false;
    bool list = false;
};

namespace detail {

inline std::string stats_text(const std::vector<double>& samples) {
    if (samples.empty()) return "-";
    const TimingSummary s = summarize(samples);
    return fmt::format("{:9.3f} ms (min {:.3f}, max {:.3f}, {} reps)", s.median_ms, s.min_ms, s.max_ms, s.reps);
}

inline void run_case(std::string_view program, const BenchCase& c, const Settings& s) {
    const CaseTiming t = time_case(c, s.timing, program);
    if (s.json) {
        fmt::print("{}\n", json_record(c, t));
    } else {
        fmt::print("{:<14} {}\n  fwd      {}  {:7.1f} GFLOP/s\n", c.name, c.description, stats_text(t.fwd),
                   gflops_per_second(c.flops, t.fwd));
        if (c.with_backward)
            fmt::print("  fwd+bwd  {}  {:7.1f} GFLOP/s\n", stats_text(t.fwd_bwd),
                       gflops_per_second(3 * c.flops, t.fwd_bwd));
    }
    std::fflush(stdout);
}

inline int usage(std::string_view program, const std::string& problem) {
    if (!problem.empty()) fmt::print(stderr, "{}: {}\n", program, problem);
    fmt::print(stderr,
               "usage: {} [--case NAME]... [--reps N] [--min-time SECONDS] [--warmup N] [--threads N] [--json] "
               "[--list]\n",
               program);
    return 2;
}

}  // namespace detail

/// Reads a command line of flags in order, for every benchmark program (the
/// GPU one too). `take(flag, value)` sees each flag with the argument after
/// it (nullptr after the last) and returns how many arguments it used: 1 for
/// a flag alone, 2 for a flag and its value, 0 for a flag it does not know
/// or whose value is missing. Returns what is wrong, for the usage message,
/// or "" when every argument was taken; an exception from `take` (std::stoi
/// of a value that is no number) reads "expected a number".
inline std::string parse_flags(int argc, char** argv,
                               const std::function<int(std::string_view flag, const char* value)>& take) {
    for (int i = 1; i < argc;) {
        const std::string_view flag = argv[i];
        const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
        int used = 0;
        try {
            used = take(flag, value);
        } catch (const std::exception&) {
            return fmt::format("expected a number after '{}', found '{}'", flag, value ? value : "");
        }
        if (used < 1 || used > 2 || (used == 2 && !value))
            return fmt::format("unknown or incomplete argument '{}'", flag);
        i += used;
    }
    return "";
}

/// The whole program: parses the flags, then lists or runs `cases` in order.
/// Cases are built lazily (`make`), so listing costs nothing.
inline int run_main(int argc, char** argv, std::string_view program, const std::vector<BenchCase>& cases) {
    Settings s;
    const std::string problem = parse_flags(argc, argv, [&s](std::string_view flag, const char* value) {
        if (flag == "--json" || flag == "--list") {  // switches: no value
            (flag == "--json" ? s.json : s.list) = true;
            return 1;
        }
        if (!value) return 0;
        if (flag == "--case") s.cases.emplace_back(value);
        else if (flag == "--reps") s.timing.min_reps = std::stoi(value);
        else if (flag == "--min-time") s.timing.min_seconds = std::stod(value);
        else if (flag == "--warmup") s.timing.warmup = std::stoi(value);
        else if (flag == "--threads") s.threads = std::stoi(value);
        else return 0;
        return 2;
    });
    if (!problem.empty()) return detail::usage(program, problem);
    if (s.timing.min_reps < 1 || s.timing.warmup < 0 || s.threads < 1)
        return detail::usage(program, "expected --reps >= 1, --warmup >= 0 and --threads >= 1");

    if (s.list) {
        for (const BenchCase& c : cases) fmt::print("{}\n", c.name);
        return 0;
    }
    std::vector<const BenchCase*> selected;
    for (const std::string& name : s.cases) {
        auto found = std::find_if(cases.begin(), cases.end(), [&](const BenchCase& c) { return c.name == name; });
        if (found == cases.end()) {
            std::vector<std::string> names;
            for (const BenchCase& c : cases) names.push_back(c.name);
            return detail::usage(program,
                                 fmt::format("unknown case '{}'; the cases are: {}", name, fmt::join(names, ", ")));
        }
        selected.push_back(&*found);
    }
    if (s.cases.empty())
        for (const BenchCase& c : cases) selected.push_back(&c);

    set_num_threads(s.threads);
    try {
        for (const BenchCase* c : selected) detail::run_case(program, *c, s);
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", program, e.what());
        return 1;
    }
    return 0;
}

}  // namespace vgt::bench
