// vgt's side of the operator benchmark: times matmul and convolutions,
// forward and forward+backward, on a fixed number of threads.
// benchmarks/ops_torch.py holds the same cases for PyTorch, and
// benchmarks/run-ops runs the two alternately and prints the comparison.
//
//   vgt_bench_ops [--case NAME]... [--reps N] [--min-time SECONDS]
//                 [--warmup N] [--threads N] [--json] [--list]
//
// With --json each case prints one JSON object on its own line.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>
#include <fmt/format.h>

#include "vgt/autograd/backward.hpp"
#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/conv.hpp"
#include "vgt/ops/matmul.hpp"

namespace {

using vgt::Shape;
using vgt::Tensor;

/// One timed operation: the leaves it is applied to and how.
struct BenchCase {
    std::string name;
    std::string description;
    std::vector<Shape> leaf_shapes;  // in the order `run` takes them
    std::function<Tensor(const std::vector<Tensor>&)> run;
    double flops = 0;  // algorithmic FLOPs of one forward; backward counts twice that
    bool with_backward = true;
};

BenchCase matmul_case(std::string name, std::int64_t n, bool with_backward) {
    BenchCase c;
    c.name = std::move(name);
    c.description = fmt::format("[{0}, {0}] @ [{0}, {0}]", n);
    c.leaf_shapes = {Shape{n, n}, Shape{n, n}};
    c.run = [](const std::vector<Tensor>& t) { return vgt::matmul(t[0], t[1]); };
    c.flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    c.with_backward = with_backward;
    return c;
}

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
    c.leaf_shapes = {x, w, Shape{w[0]}};
    const vgt::ConvOptions options{.padding = {pad}};
    if (spatial == 2)
        c.run = [options](const std::vector<Tensor>& t) { return vgt::conv2d(t[0], t[1], t[2], options); };
    else
        c.run = [options](const std::vector<Tensor>& t) { return vgt::conv3d(t[0], t[1], t[2], options); };
    c.flops = flops;
    return c;
}

/// The cases, in the order they run. gemm_2048 measures the machine's GEMM
/// rate (forward only); the others are the comparison proper.
std::vector<BenchCase> all_cases() {
    std::vector<BenchCase> cases;
    cases.push_back(matmul_case("gemm_2048", 2048, false));
    cases.push_back(matmul_case("matmul_512", 512, true));
    cases.push_back(matmul_case("matmul_1024", 1024, true));
    cases.push_back(conv_case("conv2d_3x3", Shape{16, 64, 32, 32}, Shape{64, 64, 3, 3}, 1));
    cases.push_back(conv_case("conv2d_1x1", Shape{16, 64, 32, 32}, Shape{128, 64, 1, 1}, 0));
    cases.push_back(conv_case("conv3d_3x3x3", Shape{2, 64, 8, 32, 32}, Shape{64, 64, 3, 3, 3}, 1));
    return cases;
}

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

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
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

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string stats_json(const std::vector<double>& samples) {
    if (samples.empty()) return "null";
    const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    std::string list;
    for (double ms : samples) list += fmt::format("{}{:.4f}", list.empty() ? "" : ", ", ms);
    return fmt::format(R"({{"median_ms": {:.4f}, "min_ms": {:.4f}, "max_ms": {:.4f}, "reps": {}, "samples_ms": [{}]}})",
                       median(samples), *lo, *hi, samples.size(), list);
}

std::string stats_text(const std::vector<double>& samples) {
    if (samples.empty()) return "-";
    const auto [lo, hi] = std::minmax_element(samples.begin(), samples.end());
    return fmt::format("{:9.3f} ms (min {:.3f}, max {:.3f}, {} reps)", median(samples), *lo, *hi, samples.size());
}

void run_case(const BenchCase& c, const Settings& s) {
    vgt::Generator gen(1234);
    std::vector<Tensor> leaves;
    for (const Shape& shape : c.leaf_shapes) leaves.push_back(vgt::rand(shape, gen, vgt::DType::Float32, -1.0, 1.0));

    // Forward alone: no tape, as under torch.no_grad().
    const std::vector<double> fwd = measure(s, [&] {
        vgt::NoGradGuard no_grad;
        const auto start = Clock::now();
        const Tensor y = c.run(leaves);
        return ms_since(start);  // before y is freed, as on the PyTorch side
    });

    std::vector<double> fwd_bwd;
    if (c.with_backward) {
        for (Tensor& leaf : leaves) leaf.set_requires_grad();
        Tensor seed;
        {
            vgt::NoGradGuard no_grad;
            seed = Tensor::ones(c.run(leaves).shape());
        }
        fwd_bwd = measure(s, [&] {
            for (Tensor& leaf : leaves) leaf.zero_grad();
            const auto start = Clock::now();
            const Tensor y = c.run(leaves);
            vgt::backward(y, seed);
            return ms_since(start);
        });
        for (const Tensor& leaf : leaves)
            VGT_CHECK(leaf.grad().defined() && leaf.grad().shape() == leaf.shape(), "vgt_bench_ops",
                      "expected a gradient of shape {} after backward in case {}, found none or another shape",
                      leaf.shape(), c.name);
    }

    if (s.json) {
        fmt::print(R"({{"framework": "vgt", "case": "{}", "description": "{}", "flops": {:.0f}, "threads": {}, )"
                   R"("simd": "{}", "compiler": "g++ {}", "fwd": {}, "fwd_bwd": {}}})"
                   "\n",
                   c.name, c.description, c.flops, vgt::num_threads(), Eigen::SimdInstructionSetsInUse(),
                   __VERSION__, stats_json(fwd), stats_json(fwd_bwd));
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

int usage(const char* program, const std::string& problem) {
    if (!problem.empty()) fmt::print(stderr, "{}: {}\n", program, problem);
    fmt::print(stderr,
               "usage: {} [--case NAME]... [--reps N] [--min-time SECONDS] [--warmup N] [--threads N] [--json] "
               "[--list]\n",
               program);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
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
            else return usage(argv[0], fmt::format("unknown or incomplete argument '{}'", a));
        } catch (const std::exception&) {
            return usage(argv[0], fmt::format("expected a number after '{}', found '{}'", a, args[i]));
        }
    }
    if (s.min_reps < 1 || s.warmup < 0 || s.threads < 1)
        return usage(argv[0], "expected --reps >= 1, --warmup >= 0 and --threads >= 1");

    const std::vector<BenchCase> cases = all_cases();
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
            return usage(argv[0], fmt::format("unknown case '{}'; the cases are: {}", name, fmt::join(names, ", ")));
        }
        selected.push_back(&*found);
    }
    if (s.cases.empty())
        for (const BenchCase& c : cases) selected.push_back(&c);

    vgt::set_num_threads(s.threads);
    try {
        for (const BenchCase* c : selected) run_case(*c, s);
    } catch (const std::exception& e) {
        fmt::print(stderr, "vgt_bench_ops: {}\n", e.what());
        return 1;
    }
    return 0;
}
