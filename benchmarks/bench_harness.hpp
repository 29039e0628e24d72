#pragma once
// The timing harness shared by vgt's benchmark programs (vgt_bench_ops,
// vgt_bench_blocks): a program lists its cases and hands them to
// vgt::bench::run_main, which parses the common flags, times each case
// forward and forward+backward and prints text or one JSON record per case.
// The PyTorch sides (benchmarks/bench_torch.py) time the same way and print
// the same records, which benchmarks/compare.py puts side by side.
//
//   PROGRAM [--case NAME]... [--reps N] [--min-time SECONDS] [--warmup N]
//           [--threads N] [--json] [--list]

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <fmt/format.h>

#include "vgt/autograd/backward.hpp"
#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/matmul.hpp"

namespace vgt::bench {

/// What one case times: `forward()` reads the leaves (inputs and weights),
/// and forward+backward asks for the gradient of every leaf.
struct Workload {
    std::vector<Tensor> leaves;
    std::function<Tensor()> forward;
};

struct BenchCase {
    std::string name;
    std::string description;  // must read the same on the PyTorch side
    double flops = 0;         // algorithmic FLOPs of one forward; fwd+bwd counts 3x that
    std::int64_t params = -1;  // number of weights, reported when >= 0
    bool with_backward = true;
    std::function<Workload()> make;  // builds the leaves once per run, outside the timing
};

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
        return Workload{leaves, [a = leaves[0], b = leaves[1]] { return matmul(a, b); }};
    };
    return c;
}

/// The case every comparison also runs, for the "% of peak" column.
inline constexpr std::string_view peak_case_name = "gemm_2048";
inline BenchCase peak_case() { return matmul_case(std::string(peak_case_name), 2048, false); }

struct Settings {
    std::vector<std::string> cases;  // empty: all
    int min_reps = 7;
    double min_seconds = 1.0;  // keep repeating until the timed reps add up to this
    int max_reps = 200;
    int warmup = 2;
    int threads = 2;
    bool json = false;
    bool list = false;
};

namespace detail {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Runs `once` (which returns the milliseconds it measured) for the warm-up,
/// then at least min_reps times and until min_seconds have been measured.
template <class F>
std::vector<double> measure(const Settings& s, F&& once) {
    for (int i = 0; i < s.warmup; ++i) once();
    std::vector<double> samples;
    double total_ms = 0;
    while (static_cast<int>(samples.size()) < s.min_reps ||
           (total_ms < 1e3 * s.min_seconds && static_cast<int>(samples.size()) < s.max_reps)) {
        samples.push_back(once());
        total_ms += samples.back();
    }
    return samples;
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline std::string stats_json(const std::vector<double>& samples) {
    if (samples.empty()) return "null";
    const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    std::string list;
    for (double ms : samples) list += fmt::format("{}{:.4f}", list.empty() ? "" : ", ", ms);
    return fmt::format(R"({{"median_ms": {:.4f}, "min_ms": {:.4f}, "max_ms": {:.4f}, "reps": {}, "samples_ms": [{}]}})",
                       median(samples), *lo, *hi, samples.size(), list);
}

inline std::string stats_text(const std::vector<double>& samples) {
    if (samples.empty()) return "-";
    const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    return fmt::format("{:9.3f} ms (min {:.3f}, max {:.3f}, {} reps)", median(samples), *lo, *hi, samples.size());
}

/// Quotes and escapes a string for JSON (descriptions hold only printable ASCII).
inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

inline void run_case(std::string_view program, const BenchCase& c, const Settings& s) {
    Workload w = c.make();

    // Forward alone: no tape, as under torch.no_grad().
    const std::vector<double> fwd = measure(s, [&] {
        NoGradGuard no_grad;
        const auto start = Clock::now();
        const Tensor y = w.forward();
        return ms_since(start);  // before y is freed, as on the PyTorch side
    });

    std::vector<double> fwd_bwd;
    if (c.with_backward) {
        for (Tensor& leaf : w.leaves) leaf.set_requires_grad();
        Tensor seed;
        {
            NoGradGuard no_grad;
            seed = Tensor::ones(w.forward().shape());
        }
        fwd_bwd = measure(s, [&] {
            for (Tensor& leaf : w.leaves) leaf.zero_grad();
            const auto start = Clock::now();
            const Tensor y = w.forward();
            backward(y, seed);
            return ms_since(start);
        });
        for (std::size_t i = 0; i < w.leaves.size(); ++i) {
            const Tensor& leaf = w.leaves[i];
            VGT_CHECK(leaf.grad().defined() && leaf.grad().shape() == leaf.shape(), program,
                      "expected a gradient of shape {} for leaf {} after backward in case {}, found none or "
                      "another shape",
                      leaf.shape(), i, c.name);
        }
    }

    if (s.json) {
        const std::string params = c.params >= 0 ? fmt::format(R"("params": {}, )", c.params) : "";
        fmt::print(R"({{"framework": "vgt", "case": "{}", "description": {}, "flops": {:.0f}, {}"threads": {}, )"
                   R"("simd": "{}", "compiler": "g++ {}", "fwd": {}, "fwd_bwd": {}}})"
                   "\n",
                   c.name, json_string(c.description), c.flops, params, num_threads(),
                   Eigen::SimdInstructionSetsInUse(), __VERSION__, stats_json(fwd), stats_json(fwd_bwd));
    } else {
        const auto gflops = [](double flops, const std::vector<double>& v) {
            return v.empty() ? 0.0 : flops / (median(v) * 1e6);
        };
        fmt::print("{:<14} {}\n  fwd      {}  {:7.1f} GFLOP/s\n", c.name, c.description, stats_text(fwd),
                   gflops(c.flops, fwd));
        if (c.with_backward)
            fmt::print("  fwd+bwd  {}  {:7.1f} GFLOP/s\n", stats_text(fwd_bwd), gflops(3 * c.flops, fwd_bwd));
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

/// The whole program: parses the flags, then lists or runs `cases` in order.
/// Cases are built lazily (`make`), so listing costs nothing.
inline int run_main(int argc, char** argv, std::string_view program, const std::vector<BenchCase>& cases) {
    Settings s;
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        const bool has_value = i + 1 < args.size();
        try {
            if (a == "--json") s.json = true;
            else if (a == "--list") s.list = true;
            else if (a == "--case" && has_value) s.cases.emplace_back(args[++i]);
            else if (a == "--reps" && has_value) s.min_reps = std::stoi(std::string(args[++i]));
            else if (a == "--min-time" && has_value) s.min_seconds = std::stod(std::string(args[++i]));
            else if (a == "--warmup" && has_value) s.warmup = std::stoi(std::string(args[++i]));
            else if (a == "--threads" && has_value) s.threads = std::stoi(std::string(args[++i]));
            else return detail::usage(program, fmt::format("unknown or incomplete argument '{}'", a));
        } catch (const std::exception&) {
            return detail::usage(program, fmt::format("expected a number after '{}', found '{}'", a, args[i]));
        }
    }
    if (s.min_reps < 1 || s.warmup < 0 || s.threads < 1)
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
