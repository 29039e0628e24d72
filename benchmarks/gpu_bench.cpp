// vgt's CUDA operations timed on the device, each beside the limit that
// says how good its time is: raw cuBLAS on the same buffers for the matrix
// products, a device-to-device copy for the memory-bound operations. The
// convolutions (cuDNN) have no limit of their own here: PyTorch, on cuDNN
// too, is their yardstick. The inputs are made on the CPU and moved with
// vgt::to, as a user would.
// benchmarks/gpu_torch.py times the same cases with PyTorch, and
// tools/device-check runs both and sets them side by side.
//
//   vgt_bench_gpu [--json PATH] [--reps N] [--warmup N] [--case NAME]...
//
// Prints a Markdown table; --json also writes every case's record there. An
// operation that vgt cannot yet run on CUDA shows as "unsupported: <why>" in
// its row, and the run goes on.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vgt/bench/unet_cases.hpp>
#include <vgt/core/bfloat16.hpp>
#include <vgt/vgt.hpp>

#include "bench_harness.hpp"  // parse_flags

namespace {

using nlohmann::json;
using vgt::Device;
using vgt::DType;
using vgt::Shape;
using vgt::Tensor;

constexpr Device kGpu = Device::cuda(0);

/// The memory-bound cases' tensors: 64M floats, 256 MiB, far beyond any cache.
constexpr std::int64_t kRows = 8192, kCols = 8192;

/// A failure of the benchmark's own CUDA or cuBLAS calls, as opposed to a
/// vgt::Error raised by the operation under test.
struct HarnessError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

void check(cudaError_t status, std::string_view call) {
    if (status != cudaSuccess)
        throw HarnessError(fmt::format("{}: {} ({})", call, cudaGetErrorName(status), cudaGetErrorString(status)));
}

void check(cublasStatus_t status, std::string_view call) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw HarnessError(
            fmt::format("{}: {} ({})", call, cublasGetStatusName(status), cublasGetStatusString(status)));
}

struct Settings {
    int reps = 50;
    int warmup = 5;
    std::string json_path;
    std::vector<std::string> cases;  // empty: all

    bool wants(std::string_view name) const {
        return cases.empty() || std::find(cases.begin(), cases.end(), name) != cases.end();
    }
};

/// Uniform in [-1, 1) from `seed`, made on the CPU and moved to the GPU:
/// never zeros, which some hardware paths treat faster than real data.
Tensor random_on_gpu(const Shape& shape, std::uint64_t seed) {
    vgt::Generator gen(seed);
    return vgt::to(vgt::rand(shape, gen, DType::Float32, -1.0, 1.0), kGpu);
}

/// Start and stop events for every timed call, created together so that
/// creating them is not timed either.
class EventPairs {
public:
    explicit EventPairs(int count) : events_(2 * static_cast<std::size_t>(count), nullptr) {
        for (cudaEvent_t& e : events_) check(cudaEventCreate(&e), "cudaEventCreate");
    }
    ~EventPairs() {
        for (cudaEvent_t e : events_)
            if (e) cudaEventDestroy(e);
    }
    EventPairs(const EventPairs&) = delete;
    EventPairs& operator=(const EventPairs&) = delete;

    cudaEvent_t start(int i) const { return events_[2 * static_cast<std::size_t>(i)]; }
    cudaEvent_t stop(int i) const { return events_[2 * static_cast<std::size_t>(i) + 1]; }

private:
    std::vector<cudaEvent_t> events_;
};

/// Milliseconds of device time per call of `work`, after `warmup` untimed
/// calls. Events go on the legacy default stream, where vgt's kernels and
/// this program's cuBLAS calls run. The calls are queued back to back and
/// synchronised once at the end, so the launch latency of one call hides
/// behind the previous one, as in a real program; a gap where the GPU waits
/// for the host (vgt's own overhead per call) does count. A call's result is
/// dropped after its stop event is queued: its freeing is not timed.
std::vector<double> time_on_device(const std::function<Tensor()>& work, const Settings& s) {
    for (int i = 0; i < s.warmup; ++i) work();
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize (warm-up)");
    EventPairs events(s.reps);
    for (int i = 0; i < s.reps; ++i) {
        check(cudaEventRecord(events.start(i), nullptr), "cudaEventRecord");
        Tensor result = work();
        check(cudaEventRecord(events.stop(i), nullptr), "cudaEventRecord");
    }
    check(cudaDeviceSynchronize(), "cudaDeviceSynchronize (timed calls)");
    check(cudaGetLastError(), "a kernel launched by the timed calls");
    std::vector<double> samples;
    for (int i = 0; i < s.reps; ++i) {
        float ms = 0;
        check(cudaEventElapsedTime(&ms, events.start(i), events.stop(i)), "cudaEventElapsedTime");
        samples.push_back(ms);
    }
    return samples;
}

double median(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    const std::size_t n = samples.size();
    return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

/// The keys every timing carries, in vgt's and PyTorch's records alike.
json timing_record(const std::vector<double>& samples) {
    return {{"median_ms", median(samples)},
            {"min_ms", *std::min_element(samples.begin(), samples.end())},
            {"max_ms", *std::max_element(samples.begin(), samples.end())},
            {"reps", samples.size()},
            {"samples_ms", samples}};
}

double tflops(double flops, double ms) { return flops / (ms * 1e-3) / 1e12; }
double gbps(double bytes, double ms) { return bytes / (ms * 1e-3) / 1e9; }

// ----- the copy bandwidth: the limit of the memory-bound cases ------------------

/// cudaMemcpy of a 64M-float tensor to another buffer on the same device,
/// counted as read + write (twice its size), like the memory-bound cases.
json copy_case(const Settings& s) {
    const Tensor source = random_on_gpu({kRows, kCols}, 11);
    Tensor destination = Tensor::empty(source.shape(), DType::Float32, kGpu);
    const double bytes = 2.0 * static_cast<double>(source.nbytes());
    const auto samples = time_on_device(
        [&] {
            check(cudaMemcpyAsync(destination.raw_data(), source.raw_data(), source.nbytes(),
                                  cudaMemcpyDeviceToDevice, nullptr),
                  "cudaMemcpyAsync");
            return Tensor{};
        },
        s);
    json record = timing_record(samples);
    record["case"] = "device_copy";
    record["description"] = fmt::format("cudaMemcpy device to device, [{}, {}] float32 (read + write)", kRows, kCols);
    record["kind"] = "limit";
    record["bytes"] = bytes;
    record["gbps"] = gbps(bytes, record["median_ms"].get<double>());
    return record;
}

// ----- matrix products against raw cuBLAS -----------------------------------------

struct GemmShape {
    std::string name;
    std::int64_t batch = 1;  // 1: plain [M, K] @ [K, N]
    std::int64_t m = 0, k = 0, n = 0;

    Shape a() const { return batch == 1 ? Shape{m, k} : Shape{batch, m, k}; }
    Shape b() const { return batch == 1 ? Shape{k, n} : Shape{batch, k, n}; }
    Shape c() const { return batch == 1 ? Shape{m, n} : Shape{batch, m, n}; }
    double flops() const { return 2.0 * static_cast<double>(batch * m * k * n); }
    std::string description() const { return fmt::format("{} @ {}", a(), b()); }
};

/// c = a · b for row-major float32 operands by cuBLAS alone. cuBLAS is
/// column-major, where a row-major C = A·B reads as Cᵀ = Bᵀ·Aᵀ: the
/// operands are swapped, no transposes are needed.
void cublas_product(cublasHandle_t handle, const GemmShape& g, const Tensor& a, const Tensor& b, Tensor& c) {
    const float one = 1.0f, zero = 0.0f;
    const int m = static_cast<int>(g.m), k = static_cast<int>(g.k), n = static_cast<int>(g.n);
    const auto* pa = static_cast<const float*>(a.raw_data());
    const auto* pb = static_cast<const float*>(b.raw_data());
    auto* pc = static_cast<float*>(c.raw_data());
    if (g.batch == 1) {
        check(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, pb, n, pa, k, &zero, pc, n), "cublasSgemm");
    } else {
        check(cublasSgemmStridedBatched(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, pb, n, g.k * g.n, pa, k,
                                        g.m * g.k, &zero, pc, n, g.m * g.n, static_cast<int>(g.batch)),
              "cublasSgemmStridedBatched");
    }
}

/// Largest |x - reference| over the largest |reference|: a GEMM that agrees
/// with cuBLAS to float32 rounding shows about 1e-6.
double relative_difference(const Tensor& x, const Tensor& reference) {
    const auto vx = vgt::to(x, Device::cpu()).to_vector<float>();
    const auto vr = vgt::to(reference, Device::cpu()).to_vector<float>();
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < vr.size(); ++i) {
        worst = std::max(worst, std::abs(static_cast<double>(vx[i]) - vr[i]));
        scale = std::max(scale, std::abs(static_cast<double>(vr[i])));
    }
    return scale > 0 ? worst / scale : worst;
}

/// cuBLAS first, so that its row is filled even where vgt::matmul throws.
void gemm_case(json& record, const GemmShape& g, cublasHandle_t handle, const Settings& s) {
    record["kind"] = "gemm";
    record["description"] = g.description();
    record["flops"] = g.flops();
    const Tensor a = random_on_gpu(g.a(), 1);
    const Tensor b = random_on_gpu(g.b(), 2);
    Tensor reference = Tensor::empty(g.c(), DType::Float32, kGpu);
    json cublas = timing_record(time_on_device(
        [&] {
            cublas_product(handle, g, a, b, reference);
            return Tensor{};
        },
        s));
    cublas["tflops"] = tflops(g.flops(), cublas["median_ms"].get<double>());
    record["cublas"] = cublas;

    record.update(timing_record(time_on_device([&] { return vgt::matmul(a, b); }, s)));
    const double ms = record["median_ms"].get<double>();
    record["tflops"] = tflops(g.flops(), ms);
    record["time_ratio_to_cublas"] = ms / cublas["median_ms"].get<double>();
    record["relative_difference_to_cublas"] = relative_difference(vgt::matmul(a, b), reference);
}

// ----- memory-bound point-wise operations and reductions ------------------------------

/// One pass over [8192, 8192] floats (64M, 256 MiB). `bytes` is what the
/// operation must read and write at least, each once.
struct MemoryCase {
    std::string name;
    std::string description;
    double bytes = 0;
    std::function<Tensor(const Tensor& x, const Tensor& y, const Tensor& row)> run;
};

std::vector<MemoryCase> memory_cases() {
    const double n = static_cast<double>(kRows * kCols) * sizeof(float);  // one full tensor
    const double row = static_cast<double>(kCols) * sizeof(float);
    const double column = static_cast<double>(kRows) * sizeof(float);
    const std::string x = fmt::format("x [{}, {}]", kRows, kCols);
    return {
        {"add", fmt::format("{} + y [{}, {}]", x, kRows, kCols), 3 * n,
         [](auto& x, auto& y, auto&) { return vgt::add(x, y); }},
        {"mul_row_broadcast", fmt::format("{} * r [1, {}]", x, kCols), 2 * n + row,
         [](auto& x, auto&, auto& r) { return vgt::mul(x, r); }},
        {"exp", "exp(" + x + ")", 2 * n, [](auto& x, auto&, auto&) { return vgt::exp(x); }},
        {"sigmoid", "sigmoid(" + x + ")", 2 * n, [](auto& x, auto&, auto&) { return vgt::sigmoid(x); }},
        {"silu", "silu(" + x + ")", 2 * n, [](auto& x, auto&, auto&) { return vgt::silu(x); }},
        {"gelu", "gelu(" + x + "), erf form", 2 * n, [](auto& x, auto&, auto&) { return vgt::gelu(x); }},
        {"sum_dim1", "sum(" + x + ", dim 1)", n + column, [](auto& x, auto&, auto&) { return vgt::sum(x, {1}); }},
        {"softmax_dim1", "softmax(" + x + ", dim 1)", 2 * n,
         [](auto& x, auto&, auto&) { return vgt::softmax(x, 1); }},
    };
}

/// The inputs all memory-bound cases share, made once.
struct MemoryInputs {
    Tensor x, y, row;
};

void memory_case(json& record, const MemoryCase& c, const MemoryInputs& in, double copy_gbps, const Settings& s) {
    record["kind"] = "memory";
    record["description"] = c.description;
    record["bytes"] = c.bytes;
    record.update(timing_record(time_on_device([&] { return c.run(in.x, in.y, in.row); }, s)));
    record["gbps"] = gbps(c.bytes, record["median_ms"].get<double>());
    if (copy_gbps > 0) record["fraction_of_copy"] = record["gbps"].get<double>() / copy_gbps;
}

// ----- forward and backward through the tape ---------------------------------------

/// Throws unless every leaf has its gradient on the GPU with the leaf's
/// shape: a missing one would mean the backward skipped work.
void expect_gradients(std::initializer_list<std::pair<const char*, const Tensor*>> leaves) {
    for (const auto& [name, leaf] : leaves) {
        const Tensor g = leaf->grad();
        if (!g.defined() || g.device() != kGpu || g.shape() != leaf->shape())
            throw HarnessError(fmt::format("expected the gradient of {} as a {} tensor of shape {}, found {}", name,
                                           kGpu.str(), leaf->shape(), g.str()));
    }
}

/// sum(silu(x · w)) and its gradients for x and w, all on the GPU: shows that
/// backward runs there. FLOPs count the three matrix products only.
void chain_case(json& record, const Settings& s) {
    constexpr std::int64_t n = 2048;
    record["kind"] = "autograd";
    record["description"] = fmt::format("sum(silu(x [{0}, {0}] @ w [{0}, {0}])), forward + backward", n);
    const double flops = 3 * 2.0 * static_cast<double>(n * n * n);
    record["flops"] = flops;
    Tensor x = random_on_gpu({n, n}, 21).set_requires_grad();
    Tensor w = random_on_gpu({n, n}, 22).set_requires_grad();
    record.update(timing_record(time_on_device(
        [&] {
            x.zero_grad();
            w.zero_grad();
            vgt::backward(vgt::sum(vgt::silu(vgt::matmul(x, w))));
            return Tensor{};
        },
        s)));
    record["tflops"] = tflops(flops, record["median_ms"].get<double>());
    expect_gradients({{"x", &x}, {"w", &w}});
}

// ----- convolutions (cuDNN) ----------------------------------------------------------

/// Stride 1, zero padding `pad` on every side, a bias, one group: conv2d for
/// a 4-d x, conv3d for a 5-d one.
struct ConvCase {
    std::string name;
    Shape x, w;
    std::int64_t pad = 1;

    int spatial() const { return x.rank() - 2; }
    Shape y() const {
        Shape out{x[0], w[0]};
        for (int d = 0; d < spatial(); ++d) out.push_back(x[2 + d] + 2 * pad - w[2 + d] + 1);
        return out;
    }
    /// Forward: 2 · N · C_out · output positions · C_in/groups · kernel size;
    /// the backward (input and weight gradients) is twice that.
    double flops() const {
        double f = 2.0 * static_cast<double>(w[0]) * static_cast<double>(w[1]);
        const Shape out = y();
        f *= static_cast<double>(out[0]);
        for (int d = 0; d < spatial(); ++d) f *= static_cast<double>(out[2 + d]) * static_cast<double>(w[2 + d]);
        return f;
    }
    std::string description(bool backward) const {
        return fmt::format("x {} * w {}, bias, pad {}{}", x, w, pad,
                           backward ? ", forward + backward into x, w and bias" : "");
    }
    Tensor run(const Tensor& xt, const Tensor& wt, const Tensor& bt) const {
        const vgt::ConvOptions options{.padding = {pad}};
        return spatial() == 2 ? vgt::conv2d(xt, wt, bt, options) : vgt::conv3d(xt, wt, bt, options);
    }
};

/// Forward alone (no tape), or forward and backward from a fixed random
/// output gradient into x, w and the bias. vgt measures cuDNN's algorithms
/// for each direction on the first call: at least one warm-up call, even
/// with --warmup 0, keeps that out of the timing.
void conv_case(json& record, const ConvCase& c, bool backward, Settings s) {
    s.warmup = std::max(s.warmup, 1);
    record["kind"] = backward ? "autograd" : "conv";
    record["description"] = c.description(backward);
    const double flops = (backward ? 3.0 : 1.0) * c.flops();
    record["flops"] = flops;
    Tensor x = random_on_gpu(c.x, 41);
    Tensor w = random_on_gpu(c.w, 42);
    Tensor b = random_on_gpu({c.w[0]}, 43);
    if (!backward) {
        record.update(timing_record(time_on_device([&] { return c.run(x, w, b); }, s)));
    } else {
        for (Tensor* leaf : {&x, &w, &b}) leaf->set_requires_grad();
        const Tensor seed = random_on_gpu(c.y(), 44);
        record.update(timing_record(time_on_device(
            [&] {
                for (Tensor* leaf : {&x, &w, &b}) leaf->zero_grad();
                vgt::backward(c.run(x, w, b), seed);
                return Tensor{};
            },
            s)));
        expect_gradients({{"x", &x}, {"w", &w}, {"bias", &b}});
    }
    record["tflops"] = tflops(flops, record["median_ms"].get<double>());
}

// ----- fused attention over the frames of each pixel -------------------------------------

/// Attention over T = 16 frames at every pixel of [B = 8, C = 320, 32 × 32]
/// videos, 5 heads of 64 channels: the packed projection qkv [B, T, 3C, H, W]
/// in, [B, T, C, H, W] out (ops/pixel_attention.hpp).
struct AttentionSize {
    std::int64_t batch = 8, frames = 16, channels = 320, heads = 5, height = 32, width = 32;
    std::int64_t pixels() const { return height * width; }
    Shape qkv() const { return {batch, frames, 3 * channels, height, width}; }
    Shape out() const { return {batch, frames, channels, height, width}; }
    vgt::cuda::PixelAttentionShape launcher_shape() const {
        return {batch, frames, channels, heads, pixels(), 1.0 / std::sqrt(static_cast<double>(channels / heads)),
                false, false};
    }
};

/// Uniform values in [-1, 1) rounded to bfloat16,
/// as the raw bytes of a uint8 tensor on the GPU: vgt's tensors have no
/// bfloat16 arithmetic yet, the attention kernels take the storage directly.
Tensor bfloat16_on_gpu(const Shape& shape, std::uint64_t seed) {
    vgt::Generator gen(seed);
    const Tensor values = vgt::rand(shape, gen, DType::Float32, -1.0, 1.0);
    Tensor bytes = Tensor::empty(Shape{2 * values.numel()}, DType::UInt8);
    const float* in = values.data<float>();
    auto* out = bytes.data<std::uint8_t>();
    for (std::int64_t i = 0; i < values.numel(); ++i) {
        const std::uint16_t bits = vgt::bfloat16_bits(in[i]);
        std::memcpy(out + 2 * i, &bits, sizeof bits);
    }
    return vgt::to(bytes, kGpu);
}

void check(vgt::cuda::Status status) {
    if (!status.ok()) throw HarnessError(fmt::format("{}: {}", status.call, status.message));
}

/// float32 through vgt::pixel_attention (the tape included with backward);
/// bfloat16 through the launchers on raw buffers. The bytes are the fewest
/// the work must move: forward reads q, k, v and writes the output; backward
/// then reads q, k, v and the output's gradient and writes dq, dk, dv.
void attention_case(json& record, bool bf16, bool backward, double copy_gbps, const Settings& s) {
    const AttentionSize a;
    const std::size_t element = bf16 ? 2 : 4;
    const double out_bytes = static_cast<double>(a.out().numel() * static_cast<std::int64_t>(element));
    const double bytes = (backward ? 11 : 4) * out_bytes;
    record["kind"] = "memory";
    record["description"] =
        fmt::format("pixel attention, qkv {} -> {}, {} heads, {}, {}", a.qkv(), a.out(), a.heads,
                    bf16 ? "bfloat16" : "float32", backward ? "forward + backward" : "forward");
    record["bytes"] = bytes;
    std::vector<double> samples;
    if (bf16) {
        using vgt::cuda::AttentionStorage;
        const auto shape = a.launcher_shape();
        const Tensor qkv = bfloat16_on_gpu(a.qkv(), 61), grad = bfloat16_on_gpu(a.out(), 62);
        Tensor out = Tensor::empty(Shape{2 * a.out().numel()}, DType::UInt8, kGpu);
        Tensor dqkv = Tensor::empty(Shape{2 * a.qkv().numel()}, DType::UInt8, kGpu);
        Tensor lse = Tensor::empty(Shape{a.batch, a.heads, a.frames, a.pixels()}, DType::Float32, kGpu);
        Tensor workspace = Tensor::empty(Shape{2, a.batch, a.heads, a.frames, a.frames, a.pixels()}, DType::Float32,
                                         kGpu);
        samples = time_on_device(
            [&] {
                check(vgt::cuda::pixel_attention_forward(AttentionStorage::BFloat16, shape, qkv.raw_data(), nullptr,
                                                         nullptr, out.raw_data(), lse.raw_data()));
                if (backward)
                    check(vgt::cuda::pixel_attention_backward(AttentionStorage::BFloat16, shape, qkv.raw_data(),
                                                              nullptr, nullptr, lse.raw_data(), grad.raw_data(),
                                                              dqkv.raw_data(), nullptr, workspace.raw_data()));
                return Tensor{};
            },
            s);
    } else {
        Tensor qkv = random_on_gpu(a.qkv(), 61);
        const Tensor grad = random_on_gpu(a.out(), 62);
        if (backward) qkv.set_requires_grad();
        samples = time_on_device(
            [&] {
                if (!backward) return vgt::pixel_attention(qkv, a.heads);
                qkv.zero_grad();
                vgt::backward(vgt::pixel_attention(qkv, a.heads), grad);
                return Tensor{};
            },
            s);
        if (backward) expect_gradients({{"qkv", &qkv}});
    }
    record.update(timing_record(samples));
    record["gbps"] = gbps(bytes, record["median_ms"].get<double>());
    if (copy_gbps > 0) record["fraction_of_copy"] = record["gbps"].get<double>() / copy_gbps;
}

// ----- one training step of each UNet preset ------------------------------------------

/// The step of benchmarks/unet_bench.cpp (vgt/bench/unet_cases.hpp) on the
/// GPU: the text-to-video quality bar's denoiser, every weight redrawn
/// uniform in ±0.1, then forward, MSE loss, backward into every weight and
/// one AdamW step. At this size (x [8, 8, 3, 32, 32]) the step is hundreds
/// of small kernels, so it measures the cost of launching them as much as
/// the GPU's arithmetic. FLOPs: the forward's, three times.
template <class UNet>
void unet_step_case(json& record, std::string_view preset, const Settings& s) {
    const vgt::models::VideoUNetOptions options = vgt::bench::quality_bar_unet_options();
    const Shape video = vgt::bench::quality_bar_video();
    const std::int64_t tokens = vgt::bench::quality_bar_context_tokens;
    vgt::Generator gen(1234);
    UNet model(options, gen);
    vgt::bench::redraw_unet_weights(model, gen);  // on the CPU still, as the CPU case does
    vgt::nn::move_parameters(model, kGpu);
    vgt::optim::AdamW optimiser(model, vgt::bench::unet_step_adamw());
    const Tensor x = random_on_gpu(video, 51), target = random_on_gpu(video, 52);
    const Tensor time = random_on_gpu({video[0], options.time_embed_dim}, 53);
    const Tensor context = random_on_gpu({video[0], tokens, options.context_dim}, 54);

    record["kind"] = "autograd";
    record["description"] = fmt::format("UNet preset {} training step (AdamW), x {}, context [{}, {}, {}]", preset,
                                        video, video[0], tokens, options.context_dim);
    const double flops = 3.0 * model.flops(video, tokens);
    record["flops"] = flops;
    record["params"] = model.params();
    record.update(timing_record(time_on_device(
        [&] {
            vgt::nn::zero_grad(model);
            vgt::backward(vgt::mse_loss(model.forward(x, time, context), target));
            optimiser.step(model);
            return Tensor{};
        },
        s)));
    record["tflops"] = tflops(flops, record["median_ms"].get<double>());
    model.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            if (p.device() != kGpu || !p.grad().defined() || p.grad().device() != kGpu)
                throw HarnessError(fmt::format("expected {} and its gradient on {}, found {} and {}", name,
                                               kGpu.str(), p.device().str(), p.grad().str()));
        },
        "");
}

// ----- running and reporting -----------------------------------------------------------

/// Runs one case into its record. vgt::Error means vgt cannot (yet) run
/// the operation on CUDA; anything else is a failure of the case. Either
/// way the next case runs, after clearing a recoverable CUDA error.
json run_case(const std::string& name, const std::function<void(json&)>& body) {
    json record = {{"case", name}};
    std::fprintf(stderr, "vgt_bench_gpu: %s\n", name.c_str());
    try {
        body(record);
    } catch (const vgt::Error& e) {
        record["unsupported"] = e.what();
    } catch (const std::exception& e) {
        record["failed"] = e.what();
    }
    (void)cudaDeviceSynchronize();
    (void)cudaGetLastError();
    return record;
}

/// One table cell of a record's rate: TFLOP/s for products, GB/s for passes over memory.
std::string rate_text(const json& r) {
    if (r.contains("tflops")) return fmt::format("{:.1f} TFLOP/s", r["tflops"].get<double>());
    if (r.contains("gbps")) return fmt::format("{:.0f} GB/s", r["gbps"].get<double>());
    return "-";
}

/// What the case's limit is and how close vgt comes to it.
std::pair<std::string, std::string> limit_text(const json& r) {
    if (r.contains("cublas")) {
        const json& c = r["cublas"];
        const std::string limit =
            fmt::format("cuBLAS {:.3f} ms, {:.1f} TFLOP/s", c["median_ms"].get<double>(), c["tflops"].get<double>());
        if (!r.contains("time_ratio_to_cublas")) return {limit, "-"};
        return {limit, fmt::format("time x{:.2f} (diff {:.1e})", r["time_ratio_to_cublas"].get<double>(),
                                   r["relative_difference_to_cublas"].get<double>())};
    }
    if (r.contains("fraction_of_copy"))
        return {"device copy", fmt::format("{:.0f} % of copy", 100 * r["fraction_of_copy"].get<double>())};
    return {"-", "-"};
}

std::string table_cell(std::string text) {
    std::replace(text.begin(), text.end(), '|', '/');
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
}

void print_table(const json& report) {
    fmt::print("## vgt on {} (CUDA runtime {}), median of {} calls after {} warm-up\n\n",
               report["device"].get<std::string>(), report["cuda_runtime"].get<std::string>(),
               report["reps"].get<int>(), report["warmup"].get<int>());
    fmt::print("| case | operation | vgt ms | vgt rate | limit | vgt against the limit |\n");
    fmt::print("| --- | --- | --- | --- | --- | --- |\n");
    for (const json& r : report["cases"]) {
        const std::string description = r.value("description", "");
        std::string ms = "-", rate = "-", limit = "-", versus = "-";
        if (r.contains("median_ms")) {
            ms = fmt::format("{:.3f}", r["median_ms"].get<double>());
            rate = rate_text(r);
        }
        std::tie(limit, versus) = limit_text(r);
        if (r.contains("unsupported")) versus = "unsupported: " + r["unsupported"].get<std::string>();
        if (r.contains("failed")) versus = "failed: " + r["failed"].get<std::string>();
        fmt::print("| {} | {} | {} | {} | {} | {} |\n", r["case"].get<std::string>(), table_cell(description), ms,
                   rate, table_cell(limit), table_cell(versus));
    }
}

int usage(const std::string& problem) {
    std::fprintf(stderr,
                 "vgt_bench_gpu: %s\nusage: vgt_bench_gpu [--json PATH] [--reps N] [--warmup N] [--case NAME]...\n",
                 problem.c_str());
    return 2;
}

/// The device's name, or throws with the runtime's reason there is none.
std::string device_name() {
    int count = 0;
    check(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
    if (count == 0) throw HarnessError("cudaGetDeviceCount: no CUDA device");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    return prop.name;
}

std::string runtime_version() {
    int version = 0;
    check(cudaRuntimeGetVersion(&version), "cudaRuntimeGetVersion");
    return fmt::format("{}.{}", version / 1000, version % 1000 / 10);
}

/// A cuBLAS handle on the legacy default stream, in plain float32 (no TF32),
/// released at exit.
class Cublas {
public:
    Cublas() {
        check(cublasCreate(&handle_), "cublasCreate");
        check(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
    }
    ~Cublas() { cublasDestroy(handle_); }
    Cublas(const Cublas&) = delete;
    Cublas& operator=(const Cublas&) = delete;
    cublasHandle_t get() const { return handle_; }

private:
    cublasHandle_t handle_ = nullptr;
};

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    // Every flag takes a value.
    const std::string problem = vgt::bench::parse_flags(argc, argv, [&s](std::string_view flag, const char* value) {
        if (!value) return 0;
        if (flag == "--json") s.json_path = value;
        else if (flag == "--reps") s.reps = std::stoi(value);
        else if (flag == "--warmup") s.warmup = std::stoi(value);
        else if (flag == "--case") s.cases.emplace_back(value);
        else return 0;
        return 2;
    });
    if (!problem.empty()) return usage(problem);
    if (s.reps < 1 || s.warmup < 0) return usage("expected --reps >= 1 and --warmup >= 0");

    json report = {{"framework", "vgt"}, {"reps", s.reps}, {"warmup", s.warmup}};
    try {
        report["device"] = device_name();
        report["cuda_runtime"] = runtime_version();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vgt_bench_gpu: no usable GPU, nothing to measure: %s\n", e.what());
        return 1;
    }

    json cases = json::array();
    const json copy = run_case("device_copy", [&](json& r) { r.update(copy_case(s)); });
    const double copy_gbps = copy.value("gbps", 0.0);
    cases.push_back(copy);

    const Cublas cublas;
    for (const GemmShape& g : {GemmShape{"gemm_4096", 1, 4096, 4096, 4096},
                               GemmShape{"bmm_attention", 64, 1024, 64, 1024}})
        if (s.wants(g.name)) cases.push_back(run_case(g.name, [&](json& r) { gemm_case(r, g, cublas.get(), s); }));

    const std::vector<MemoryCase> memory = memory_cases();
    if (std::any_of(memory.begin(), memory.end(), [&](const MemoryCase& c) { return s.wants(c.name); })) {
        MemoryInputs inputs;
        try {
            inputs = {random_on_gpu({kRows, kCols}, 31), random_on_gpu({kRows, kCols}, 32),
                      random_on_gpu({1, kCols}, 33)};
        } catch (const std::exception& e) {
            std::fprintf(stderr, "vgt_bench_gpu: could not place the inputs on the GPU: %s\n", e.what());
            return 1;
        }
        for (const MemoryCase& c : memory)
            if (s.wants(c.name))
                cases.push_back(run_case(c.name, [&](json& r) { memory_case(r, c, inputs, copy_gbps, s); }));
    }

    if (s.wants("chain_fwd_bwd")) cases.push_back(run_case("chain_fwd_bwd", [&](json& r) { chain_case(r, s); }));

    for (const ConvCase& c : {ConvCase{"conv2d_3x3", {32, 128, 64, 64}, {128, 128, 3, 3}},
                              ConvCase{"conv3d_3x3x3", {4, 64, 16, 64, 64}, {64, 64, 3, 3, 3}}})
        for (const bool backward : {false, true}) {
            const std::string name = backward ? c.name + "_fwd_bwd" : c.name;
            if (s.wants(name)) cases.push_back(run_case(name, [&](json& r) { conv_case(r, c, backward, s); }));
        }

    for (const bool bf16 : {false, true})
        for (const bool backward : {false, true}) {
            const std::string name =
                fmt::format("pixel_attention_{}{}", bf16 ? "bf16" : "f32", backward ? "_fwd_bwd" : "");
            if (s.wants(name))
                cases.push_back(run_case(name, [&](json& r) { attention_case(r, bf16, backward, copy_gbps, s); }));
        }

    for (const std::string_view preset : vgt::models::kUNetNames) {
        const std::string name = fmt::format("unet_{}_step", preset);
        if (!s.wants(name)) continue;
        vgt::models::visit_unet(preset, [&]<class UNet>() {
            cases.push_back(run_case(name, [&](json& r) { unet_step_case<UNet>(r, preset, s); }));
        });
    }

    report["copy_gbps"] = copy_gbps;
    report["cases"] = cases;
    print_table(report);
    if (!s.json_path.empty()) {
        std::ofstream out(s.json_path);
        out << report.dump(1) << '\n';
        if (!out) {
            std::fprintf(stderr, "vgt_bench_gpu: could not write %s\n", s.json_path.c_str());
            return 1;
        }
    }
    return 0;
}
