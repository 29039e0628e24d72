// The pixel-attention kernels (vgt/cuda/pixel_attention.cuh) in each of
// their tuning variants, timed side by side on the GPU and checked against
// one another: whether each step of channels is loaded while the previous
// one computes (Pipelined), and how many blocks per multiprocessor the
// compiler must leave registers for (MinBlocks). Then the tensor-core
// forward pass for bfloat16 (pixel_attention_tensor_cores.cuh) in its
// MinBlocks variants, checked against the scalar bfloat16 kernel. The
// launchers use the defaults kPipelined and kMinBlocks; this program is how
// they were chosen. The CMake target vgt_attention_variants builds it
// (tools/device-check runs it with VGT_CHECK_VARIANTS=1); on its own,
//
//   nvcc -std=c++20 -O3 -arch=sm_90 -Iinclude benchmarks/attention_variants.cu -o attention_variants
//
// Shape: [B, T, C, H, W] = [8, 16, 320, 32, 32], 5 heads, as vgt_bench_gpu's
// pixel_attention cases. Prints, per variant and storage type, the median
// of 30 timed calls of the forward pass and of forward + backward, their
// bandwidth over the fewest bytes (4 and 11 tensors of the output's size),
// and the largest difference from the first variant's results.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "vgt/cuda/pixel_attention.cuh"
#include "vgt/cuda/pixel_attention_tensor_cores.cuh"

namespace {

using vgt::cuda::PixelAttentionShape;
namespace kernels = vgt::cuda::attention;

constexpr int kKeys = 16;
constexpr int kReps = 30;

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        std::fprintf(stderr, "attention_variants: %s: %s\n", what, cudaGetErrorString(e));
        std::exit(1);
    }
}

template <class S>
S to_storage(float x) {
    if constexpr (std::is_same_v<S, __nv_bfloat16>) return __float2bfloat16_rn(x);
    else return static_cast<S>(x);
}
template <class S>
float from_storage(S x) {
    if constexpr (std::is_same_v<S, __nv_bfloat16>) return __bfloat162float(x);
    else return static_cast<float>(x);
}

template <class T>
T* device_copy(const std::vector<T>& host) {
    T* d = nullptr;
    check(cudaMalloc(&d, host.size() * sizeof(T)), "cudaMalloc");
    check(cudaMemcpy(d, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
    return d;
}
template <class T>
std::vector<T> host_copy(const T* d, std::size_t n) {
    std::vector<T> h(n);
    check(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy back");
    return h;
}

struct Problem {
    PixelAttentionShape s{8, 16, 320, 5, 1024, 1.0 / 8.0, false, false};
    std::size_t qkv() const { return static_cast<std::size_t>(s.batch * s.frames * 3 * s.channels * s.pixels); }
    std::size_t out() const { return qkv() / 3; }
    std::size_t lse() const { return static_cast<std::size_t>(s.batch * s.heads * s.frames * s.pixels); }
    std::size_t pairs() const { return lse() * static_cast<std::size_t>(s.frames); }
};

template <class S>
struct Buffers {
    S *qkv, *grad, *out, *dqkv;
    float *lse, *workspace, *bias, *rotary, *dbias;
};

template <class S, bool Pipelined, int MinBlocks>
void forward(const Problem& p, const Buffers<S>& b, bool with_tables) {
    const dim3 grid = kernels::grid_of<kKeys>(p.s), block(kernels::kPixels, kernels::kRows);
    kernels::forward_kernel<kKeys, S, Pipelined, MinBlocks><<<grid, block>>>(
        p.s, b.qkv, with_tables ? b.bias : nullptr, with_tables ? b.rotary : nullptr, b.out, b.lse);
}

template <class S, bool Pipelined, int MinBlocks>
void backward(const Problem& p, const Buffers<S>& b, bool with_tables) {
    const dim3 grid = kernels::grid_of<kKeys>(p.s), block(kernels::kPixels, kernels::kRows);
    float* weights = b.workspace;
    float* score_grad = b.workspace + p.pairs();
    kernels::query_gradient_kernel<kKeys, S, Pipelined, MinBlocks><<<grid, block>>>(
        p.s, b.qkv, with_tables ? b.bias : nullptr, with_tables ? b.rotary : nullptr, b.lse, b.grad, b.dqkv, weights,
        score_grad);
    kernels::key_gradient_kernel<kKeys, S, Pipelined, MinBlocks><<<grid, block>>>(
        p.s, b.qkv, with_tables ? b.rotary : nullptr, b.grad, weights, score_grad, b.dqkv);
    if (with_tables)
        kernels::bias_gradient_kernel<float>
            <<<static_cast<unsigned>(p.s.heads * p.s.frames * p.s.frames), kernels::kThreads>>>(p.s, score_grad,
                                                                                                   b.dbias);
}

template <class F>
float median_ms(F&& f) {
    for (int i = 0; i < 3; ++i) f();
    check(cudaDeviceSynchronize(), "warm-up");
    std::vector<cudaEvent_t> ev(2 * kReps);
    for (auto& e : ev) check(cudaEventCreate(&e), "cudaEventCreate");
    for (int i = 0; i < kReps; ++i) {
        cudaEventRecord(ev[2 * i]);
        f();
        cudaEventRecord(ev[2 * i + 1]);
    }
    check(cudaDeviceSynchronize(), "timed calls");
    check(cudaGetLastError(), "a timed launch");
    std::vector<float> ms(kReps);
    for (int i = 0; i < kReps; ++i) cudaEventElapsedTime(&ms[i], ev[2 * i], ev[2 * i + 1]);
    for (auto& e : ev) cudaEventDestroy(e);
    std::sort(ms.begin(), ms.end());
    return ms[kReps / 2];
}

template <class S>
double max_difference(const std::vector<S>& a, const std::vector<S>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, static_cast<double>(std::abs(from_storage(a[i]) - from_storage(b[i]))));
    return worst;
}

template <class S>
struct Reference {
    std::vector<S> out, dqkv;
    std::vector<float> dbias;
};

template <class S, bool Pipelined, int MinBlocks>
void run_variant(const Problem& p, const Buffers<S>& b, Reference<S>& reference, const char* type, double copy_gbps) {
    // Results with bias and rotary tables, against the first variant's.
    check(cudaMemset(b.out, 0xff, p.out() * sizeof(S)), "poison");
    check(cudaMemset(b.dqkv, 0xff, p.qkv() * sizeof(S)), "poison");
    forward<S, Pipelined, MinBlocks>(p, b, true);
    backward<S, Pipelined, MinBlocks>(p, b, true);
    check(cudaDeviceSynchronize(), "checked run");
    check(cudaGetLastError(), "checked run");
    auto out = host_copy(b.out, p.out());
    auto dqkv = host_copy(b.dqkv, p.qkv());
    auto dbias = host_copy(b.dbias, static_cast<std::size_t>(p.s.heads * p.s.frames * p.s.frames));
    double d_out = 0, d_dqkv = 0, d_bias = 0;
    if (reference.out.empty()) {
        reference = {out, dqkv, dbias};
    } else {
        d_out = max_difference(out, reference.out);
        d_dqkv = max_difference(dqkv, reference.dqkv);
        d_bias = max_difference(dbias, reference.dbias);
    }
    const bool nan = std::any_of(out.begin(), out.end(), [](S x) { return std::isnan(from_storage(x)); }) ||
                     std::any_of(dqkv.begin(), dqkv.end(), [](S x) { return std::isnan(from_storage(x)); });
    const float fwd = median_ms([&] { forward<S, Pipelined, MinBlocks>(p, b, false); });
    const float both = median_ms([&] {
        forward<S, Pipelined, MinBlocks>(p, b, false);
        backward<S, Pipelined, MinBlocks>(p, b, false);
    });
    const double tensor = static_cast<double>(p.out() * sizeof(S));
    const double gbps_fwd = 4 * tensor / (fwd * 1e-3) / 1e9, gbps_both = 11 * tensor / (both * 1e-3) / 1e9;
    std::printf("| %s | %s | %d | %.3f | %.0f GB/s (%.0f %%) | %.3f | %.0f GB/s (%.0f %%) | %.1e %.1e %.1e%s |\n",
                type, Pipelined ? "yes" : "no", MinBlocks, fwd, gbps_fwd, 100 * gbps_fwd / copy_gbps, both, gbps_both,
                100 * gbps_both / copy_gbps, d_out, d_dqkv, d_bias, nan ? " NaN!" : "");
}

/// The tensor-core forward pass (bias, no rotary tables: those stay with
/// the scalar kernels) against the scalar bfloat16 kernel on the same
/// inputs, then timed alone and with the scalar backward pass.
template <int Wide, int MinBlocks>
void run_tensor_cores(const Problem& p, const Buffers<__nv_bfloat16>& b, double copy_gbps) {
    using S = __nv_bfloat16;
    namespace tc = kernels::tensor_cores;
    if (!tc::prepare<Wide, MinBlocks>()) {
        std::printf("| bfloat16, tensor cores, %d pixels a lane | - | %d | cannot run here |\n", Wide, MinBlocks);
        return;
    }
    // The scalar kernel's results with the bias alone (its launcher passes both tables or none).
    const dim3 grid = kernels::grid_of<kKeys>(p.s), block(kernels::kPixels, kernels::kRows);
    kernels::forward_kernel<kKeys, S><<<grid, block>>>(p.s, b.qkv, b.bias, nullptr, b.out, b.lse);
    check(cudaDeviceSynchronize(), "scalar reference");
    const auto reference_out = host_copy(b.out, p.out());
    const auto reference_lse = host_copy(b.lse, p.lse());
    check(cudaMemset(b.out, 0xff, p.out() * sizeof(S)), "poison");
    check(cudaMemset(b.lse, 0xff, p.lse() * sizeof(float)), "poison");
    tc::launch<Wide, MinBlocks>(p.s, b.qkv, b.bias, b.out, b.lse);
    check(cudaDeviceSynchronize(), "tensor-core run");
    check(cudaGetLastError(), "tensor-core run");
    const auto out = host_copy(b.out, p.out());
    const auto lse = host_copy(b.lse, p.lse());
    double largest = 0, worst = 0, worst_lse = 0;
    for (S x : reference_out) largest = std::max(largest, std::abs(double(from_storage(x))));
    for (std::size_t i = 0; i < out.size(); ++i)
        worst = std::max(worst, std::abs(double(from_storage(out[i])) - from_storage(reference_out[i])) / largest);
    for (std::size_t i = 0; i < lse.size(); ++i)
        worst_lse = std::max(worst_lse, double(std::abs(lse[i] - reference_lse[i])));
    const bool nan = std::any_of(out.begin(), out.end(), [](S x) { return std::isnan(from_storage(x)); }) ||
                     std::any_of(lse.begin(), lse.end(), [](float x) { return std::isnan(x); });
    const float fwd = median_ms([&] { tc::launch<Wide, MinBlocks>(p.s, b.qkv, nullptr, b.out, b.lse); });
    const float both = median_ms([&] {
        tc::launch<Wide, MinBlocks>(p.s, b.qkv, nullptr, b.out, b.lse);
        backward<S, kernels::kPipelined, kernels::kMinBlocks>(p, b, false);
    });
    const double tensor = static_cast<double>(p.out() * sizeof(S));
    const double gbps_fwd = 4 * tensor / (fwd * 1e-3) / 1e9, gbps_both = 11 * tensor / (both * 1e-3) / 1e9;
    std::printf("| bfloat16, tensor cores, %d pixels a lane | - | %d | %.3f | %.0f GB/s (%.0f %%) | %.3f "
                "| %.0f GB/s (%.0f %%) | out %.1e of the largest, lse %.1e%s |\n",
                Wide, MinBlocks, fwd, gbps_fwd, 100 * gbps_fwd / copy_gbps, both, gbps_both,
                100 * gbps_both / copy_gbps, worst, worst_lse, nan ? " NaN!" : "");
}

template <class S>
void run_type(const Problem& p, const char* type, double copy_gbps) {
    std::mt19937 gen(7);
    std::uniform_real_distribution<float> uniform(-1.f, 1.f);
    auto random = [&](std::size_t n) {
        std::vector<S> v(n);
        for (auto& x : v) x = to_storage<S>(uniform(gen));
        return v;
    };
    auto random_float = [&](std::size_t n) {
        std::vector<float> v(n);
        for (auto& x : v) x = uniform(gen);
        return v;
    };
    Buffers<S> b{};
    b.qkv = device_copy(random(p.qkv()));
    b.grad = device_copy(random(p.out()));
    check(cudaMalloc(&b.out, p.out() * sizeof(S)), "cudaMalloc");
    check(cudaMalloc(&b.dqkv, p.qkv() * sizeof(S)), "cudaMalloc");
    check(cudaMalloc(&b.lse, p.lse() * sizeof(float)), "cudaMalloc");
    check(cudaMalloc(&b.workspace, 2 * p.pairs() * sizeof(float)), "cudaMalloc");
    b.bias = device_copy(random_float(static_cast<std::size_t>(p.s.heads * p.s.frames * p.s.frames)));
    b.rotary = device_copy(random_float(static_cast<std::size_t>(4 * p.s.frames * (p.s.channels / p.s.heads / 2))));
    check(cudaMalloc(&b.dbias, static_cast<std::size_t>(p.s.heads * p.s.frames * p.s.frames) * sizeof(float)),
          "cudaMalloc");
    Reference<S> reference;
    run_variant<S, false, 1>(p, b, reference, type, copy_gbps);
    run_variant<S, false, 2>(p, b, reference, type, copy_gbps);
    run_variant<S, true, 1>(p, b, reference, type, copy_gbps);
    run_variant<S, true, 2>(p, b, reference, type, copy_gbps);
    if constexpr (std::is_same_v<S, __nv_bfloat16>) {
        run_tensor_cores<1, 2>(p, b, copy_gbps);
        run_tensor_cores<1, 3>(p, b, copy_gbps);
        run_tensor_cores<2, 1>(p, b, copy_gbps);
        run_tensor_cores<2, 2>(p, b, copy_gbps);
    }
    for (void* ptr : {static_cast<void*>(b.qkv), static_cast<void*>(b.grad), static_cast<void*>(b.out),
                      static_cast<void*>(b.dqkv), static_cast<void*>(b.lse), static_cast<void*>(b.workspace),
                      static_cast<void*>(b.bias), static_cast<void*>(b.rotary), static_cast<void*>(b.dbias)})
        cudaFree(ptr);
}

}  // namespace

int main() {
    // The copy bandwidth, read + write, of a 256 MiB buffer: the limit.
    const std::size_t n = std::size_t(1) << 28;
    void *src = nullptr, *dst = nullptr;
    check(cudaMalloc(&src, n), "cudaMalloc");
    check(cudaMalloc(&dst, n), "cudaMalloc");
    check(cudaMemset(src, 1, n), "cudaMemset");
    const float copy_ms = median_ms([&] { cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice); });
    const double copy_gbps = 2.0 * static_cast<double>(n) / (copy_ms * 1e-3) / 1e9;
    cudaFree(src);
    cudaFree(dst);
    const Problem p;
    std::printf("copy: %.0f GB/s read + write\n\n", copy_gbps);
    std::printf("| storage | pipelined | min blocks | forward ms | forward rate | fwd+bwd ms | fwd+bwd rate | "
                "max diff out, dqkv, dbias |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    run_type<float>(p, "float32", copy_gbps);
    run_type<__nv_bfloat16>(p, "bfloat16", copy_gbps);
    return 0;
}
