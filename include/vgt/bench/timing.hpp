#pragma once
// Timing a piece of work forward and forward+backward, and the JSON record
// of the result. Shared by `vgt bench blocks` and the benchmark programs
// (benchmarks/vgt_bench_ops, vgt_bench_blocks), whose records
// benchmarks/compare.py sets beside PyTorch's (benchmarks/bench_torch.py
// times the same way and prints the same keys).
//
//   BenchCase c = ...;
//   const CaseTiming t = time_case(c, TimingOptions{.min_reps = 5});
//   fmt::print("{}\n", json_record(c, t));

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <Eigen/Core>
#include <fmt/format.h>

#include "vgt/autograd/backward.hpp"
#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt::bench {

/// What one case times: `forward()` reads the leaves (inputs and weights),
/// and forward+backward asks for the gradient of every leaf. `update`, when
/// set, runs after each backward inside the timing (an optimiser step, so
/// that forward+backward times a whole training step).
struct Workload {
    std::vector<Tensor> leaves;
    std::function<Tensor()> forward;
    std::function<void()> update;
};

struct BenchCase {
    std::string name;
    std::string description;   // must read the same on the PyTorch side
    double flops = 0;          // algorithmic FLOPs of one forward; fwd+bwd counts 3x that
    std::int64_t params = -1;  // number of weights, reported when >= 0
    bool with_backward = true;
    std::function<Workload()> make;  // builds the leaves once per timing, outside the clock
};

/// How long to time: `warmup` untimed calls, then at least `min_reps` timed
/// calls, and more until they add up to `min_seconds` (at most `max_reps`).
struct TimingOptions {
    int min_reps = 7;
    double min_seconds = 1.0;
    int max_reps = 200;
    int warmup = 2;
};

/// Milliseconds per call; fwd_bwd is empty for a forward-only case.
struct CaseTiming {
    std::vector<double> fwd;
    std::vector<double> fwd_bwd;
    double rss_before_mib = 0;  // resident memory of the process before the case was built
    double peak_rss_mib = 0;    // the process's peak resident memory after the case ran
};

/// Resident memory now and the process's peak so far, in MiB (0 where the
/// system does not say). A benchmark program runs one case per process, so
/// the peak minus the resident memory before the case is what the case used
/// at most: its inputs, weights, activations, gradients and workspaces.
inline double resident_mib() {
    long pages = 0, resident = 0;
    if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

inline double peak_resident_mib() {
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

/// Median, min and max of a list of timings, in milliseconds.
struct TimingSummary {
    double median_ms = 0;
    double min_ms = 0;
    double max_ms = 0;
    std::size_t reps = 0;
};

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

inline TimingSummary summarize(const std::vector<double>& samples_ms) {
    if (samples_ms.empty()) return {};
    const auto [lo, hi] = std::minmax_element(samples_ms.begin(), samples_ms.end());
    return {median(samples_ms), *lo, *hi, samples_ms.size()};
}

/// Counted FLOPs per second at the median time, in GFLOP/s (0 without samples).
inline double gflops_per_second(double flops, const std::vector<double>& samples_ms) {
    return samples_ms.empty() ? 0.0 : flops / (median(samples_ms) * 1e6);
}

namespace detail {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// Runs `once` (which returns the milliseconds it measured) as the options say.
template <class F>
std::vector<double> measure(const TimingOptions& options, F&& once) {
    for (int i = 0; i < options.warmup; ++i) once();
    std::vector<double> samples;
    double total_ms = 0;
    while (static_cast<int>(samples.size()) < options.min_reps ||
           (total_ms < 1e3 * options.min_seconds && static_cast<int>(samples.size()) < options.max_reps)) {
        samples.push_back(once());
        total_ms += samples.back();
    }
    return samples;
}

inline std::string stats_json(const std::vector<double>& samples) {
    if (samples.empty()) return "null";
    const TimingSummary s = summarize(samples);
    std::string list;
    for (double ms : samples) list += fmt::format("{}{:.4f}", list.empty() ? "" : ", ", ms);
    return fmt::format(R"({{"median_ms": {:.4f}, "min_ms": {:.4f}, "max_ms": {:.4f}, "reps": {}, "samples_ms": [{}]}})",
                       s.median_ms, s.min_ms, s.max_ms, s.reps, list);
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

}  // namespace detail

/// Builds the case's workload and times its forward (tape off, as under
/// torch.no_grad()) and, unless forward-only, forward+backward from a seed
/// of ones into every leaf. `context` names the caller in error messages.
inline CaseTiming time_case(const BenchCase& c, const TimingOptions& options, std::string_view context = "time_case") {
    CaseTiming timing;
    timing.rss_before_mib = resident_mib();
    Workload w = c.make();
    timing.fwd = detail::measure(options, [&] {
        NoGradGuard no_grad;
        const auto start = detail::Clock::now();
        const Tensor y = w.forward();
        return detail::ms_since(start);  // before y is freed, as on the PyTorch side
    });
    if (!c.with_backward) {
        timing.peak_rss_mib = peak_resident_mib();
        return timing;
    }

    for (Tensor& leaf : w.leaves) leaf.set_requires_grad();
    Tensor seed;
    {
        NoGradGuard no_grad;
        seed = Tensor::ones(w.forward().shape());
    }
    timing.fwd_bwd = detail::measure(options, [&] {
        for (Tensor& leaf : w.leaves) leaf.zero_grad();  // dropped outside the clock
        const auto start = detail::Clock::now();
        const Tensor y = w.forward();
        backward(y, seed);
        if (w.update) w.update();
        return detail::ms_since(start);
    });
    // A leaf without its gradient means the backward skipped work: the time would flatter it.
    for (std::size_t i = 0; i < w.leaves.size(); ++i) {
        const Tensor& leaf = w.leaves[i];
        VGT_CHECK(leaf.grad().defined() && leaf.grad().shape() == leaf.shape(), context,
                  "expected a gradient of shape {} for leaf {} after backward in case {}, found none or another shape",
                  leaf.shape(), i, c.name);
    }
    timing.peak_rss_mib = peak_resident_mib();
    return timing;
}

/// One line of JSON: the case, the build it ran on, and every sample.
/// benchmarks/compare.py reads these keys; bench_torch.py writes the same.
inline std::string json_record(const BenchCase& c, const CaseTiming& timing) {
    const std::string params = c.params >= 0 ? fmt::format(R"("params": {}, )", c.params) : "";
    return fmt::format(R"({{"framework": "vgt", "case": "{}", "description": {}, "flops": {:.0f}, {}"threads": {}, )"
                       R"("simd": "{}", "compiler": "g++ {}", "rss_before_mib": {:.1f}, "peak_rss_mib": {:.1f}, )"
                       R"("fwd": {}, "fwd_bwd": {}}})",
                       c.name, detail::json_string(c.description), c.flops, params, num_threads(),
                       Eigen::SimdInstructionSetsInUse(), __VERSION__, timing.rss_before_mib, timing.peak_rss_mib,
                       detail::stats_json(timing.fwd), detail::stats_json(timing.fwd_bwd));
}

}  // namespace vgt::bench
