// The CUDA backend: the definitions of vgt/cuda/launchers.hpp. A program
// that runs vgt on a GPU compiles this unit once (CMake's vgt::vgt target
// does it for its consumers). It reads only headers free of the C++20
// formatting library: the CUDA runtime, cuBLAS, cuDNN, the launch helper and
// the point-wise bodies that the CPU runs too.

#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <unordered_map>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "vgt/core/cuda_launch.cuh"
#include "vgt/cuda/cudnn_convolution.cuh"
#include "vgt/cuda/device_scratch.cuh"
#include "vgt/cuda/launchers.hpp"
#include "vgt/cuda/pixel_attention.cuh"
#include "vgt/cuda/pixel_attention_tensor_cores.cuh"
#include "vgt/ops/argmax_kernels.hpp"
#include "vgt/ops/grid_sample_kernels.hpp"
#include "vgt/ops/pointwise_kernels.hpp"
#include "vgt/ops/resample_kernels.hpp"
#include "vgt/optim/adamw_kernel.hpp"

namespace vgt::cuda {

namespace {

Status from_cuda(cudaError_t error, const char* call) {
    if (error == cudaSuccess) return {};
    (void)cudaGetLastError();  // clear the sticky slot for the next launch check
    return {call, cudaGetErrorString(error)};
}

/// Element offsets of linear index i in each operand of a strided walk.
template <int N>
struct Offsets {
    std::int64_t at[N];
};
/// Index is 32-bit for walks of under 2^32 elements: 64-bit division costs
/// several times more and dominates a strided kernel.
template <class Index, int N>
__device__ Offsets<N> offsets_of(const StridedArgs<N>& walk, Index i) {
    Offsets<N> o{};
    for (int d = walk.rank - 1; d >= 0; --d) {
        const Index extent = static_cast<Index>(walk.shape[d]);
        const Index index = i % extent;
        i /= extent;
        for (int k = 0; k < N; ++k) o.at[k] += static_cast<std::int64_t>(index) * walk.strides[k][d];
    }
    return o;
}

/// Calls f.template operator()<Index>() with the narrowest index type for the walk.
template <int N, class F>
Status with_index(const StridedArgs<N>& walk, F&& f) {
    return walk.numel <= 0xffffffffll ? f.template operator()<std::uint32_t>()
                                      : f.template operator()<std::uint64_t>();
}

/// Flat kernels move 16 bytes per access when every pointer allows it.
template <class T>
constexpr int kPack = 16 / sizeof(T);
template <class T>
struct alignas(16) Pack {
    T v[kPack<T>];
};
bool packable(std::initializer_list<const void*> pointers) {
    for (const void* p : pointers)
        if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) return false;
    return true;
}
template <class T>
std::int64_t packs_of(std::int64_t n) {
    return (n + kPack<T> - 1) / kPack<T>;
}

/// True when every operand walks its memory in order: one flat loop then does.
template <int N>
bool is_flat(const StridedArgs<N>& walk) {
    if (walk.rank != 1) return false;
    for (int k = 0; k < N; ++k)
        if (walk.strides[k][0] != 1) return false;
    return true;
}

// ----- point-wise ----------------------------------------------------------------

template <class Body, class T, class Index>
struct UnaryStrided {
    Body body;
    StridedArgs<2> walk;
    T* out;
    const T* in;
    __device__ void operator()(std::int64_t i) const {
        const auto o = offsets_of(walk, static_cast<Index>(i));
        out[o.at[0]] = body(in[o.at[1]]);
    }
};

/// Element-wise over n contiguous elements, a pack of 16 bytes per thread
/// (the last pack may be partial): f(i) computes element i.
template <class T, class Element>
__device__ void for_pack(std::int64_t pack, std::int64_t n, T* out, Element f) {
    const std::int64_t first = pack * kPack<T>;
    if (first + kPack<T> <= n) {
        Pack<T> result;
#pragma unroll
        for (int k = 0; k < kPack<T>; ++k) result.v[k] = f(first + k);
        *reinterpret_cast<Pack<T>*>(out + first) = result;
    } else {
        for (std::int64_t i = first; i < n; ++i) out[i] = f(i);
    }
}

template <class Body, class T>
struct UnaryFlat {
    Body body;
    std::int64_t n;
    T* out;
    const T* in;
    __device__ void operator()(std::int64_t pack) const {
        for_pack(pack, n, out, [&](std::int64_t i) { return body(in[i]); });
    }
};
template <class Body, class T>
struct UnaryBackward {
    Body body;
    std::int64_t n;
    const T *g, *x, *y;
    T* dx;
    __device__ T element(std::int64_t i) const { return g[i] * body.derivative(x[i], y[i]); }
    __device__ void operator()(std::int64_t pack) const {
        for_pack(pack, n, dx, [&](std::int64_t i) { return element(i); });
    }
};

/// UnaryBackward one element per thread, for operands not 16-byte aligned.
template <class Body, class T>
struct UnaryBackwardEach {
    UnaryBackward<Body, T> packed;
    __device__ void operator()(std::int64_t i) const { packed.dx[i] = packed.element(i); }
};

template <class Body, class T, class Index>
struct BinaryStrided {
    Body body;
    StridedArgs<3> walk;
    T* out;
    const T *a, *b;
    __device__ void operator()(std::int64_t i) const {
        const auto o = offsets_of(walk, static_cast<Index>(i));
        out[o.at[0]] = body(a[o.at[1]], b[o.at[2]]);
    }
};
template <class Body, class T>
struct BinaryFlat {
    Body body;
    std::int64_t n;
    T* out;
    const T *a, *b;
    __device__ void operator()(std::int64_t pack) const {
        for_pack(pack, n, out, [&](std::int64_t i) { return body(a[i], b[i]); });
    }
};

template <class T, class Index>
struct Fill {
    StridedArgs<1> walk;
    T value;
    T* out;
    __device__ void operator()(std::int64_t i) const { out[offsets_of(walk, static_cast<Index>(i)).at[0]] = value; }
};

template <class T, class Index>
struct Copy {
    StridedArgs<2> walk;
    T* dst;
    const T* src;
    __device__ void operator()(std::int64_t i) const {
        const auto o = offsets_of(walk, static_cast<Index>(i));
        dst[o.at[0]] = src[o.at[1]];
    }
};

/// Calls f(body) with the body `described` names, parameters filled in.
template <class F>
Status with_unary_body(UnaryBody described, F&& f) {
    switch (described.kind) {
        case UnaryKind::Neg: return f(kernels::Neg{});
        case UnaryKind::Exp: return f(kernels::Exp{});
        case UnaryKind::Log: return f(kernels::Log{});
        case UnaryKind::Sqrt: return f(kernels::Sqrt{});
        case UnaryKind::Rsqrt: return f(kernels::Rsqrt{});
        case UnaryKind::Sigmoid: return f(kernels::Sigmoid{});
        case UnaryKind::Tanh: return f(kernels::Tanh{});
        case UnaryKind::Relu: return f(kernels::Relu{});
        case UnaryKind::Silu: return f(kernels::Silu{});
        case UnaryKind::Gelu: return f(kernels::Gelu{});
        case UnaryKind::Abs: return f(kernels::Abs{});
        case UnaryKind::Clamp: return f(kernels::Clamp{described.a, described.b});
        case UnaryKind::PowScalar: return f(kernels::PowScalar{described.a});
        case UnaryKind::AddScalar: return f(kernels::AddScalar{described.a});
        case UnaryKind::MulScalar: return f(kernels::MulScalar{described.a});
        case UnaryKind::ScalarDiv: return f(kernels::ScalarDiv{described.a});
    }
    return {"map_unary", "unknown point-wise body"};
}

template <class F>
Status with_binary_body(BinaryKind kind, F&& f) {
    switch (kind) {
        case BinaryKind::Add: return f(kernels::Add{});
        case BinaryKind::Sub: return f(kernels::Sub{});
        case BinaryKind::Mul: return f(kernels::Mul{});
        case BinaryKind::Div: return f(kernels::Div{});
    }
    return {"map_binary", "unknown point-wise body"};
}

/// Calls f.template operator()<T>() for the scalar's element type.
template <class F>
Status with_scalar(Scalar scalar, F&& f) {
    return scalar == Scalar::Float64 ? f.template operator()<double>() : f.template operator()<float>();
}

// ----- reductions -------------------------------------------------------------------

constexpr int kWarp = 32;
constexpr int kBlock = 256;

template <class T>
__device__ T warp_sum(T v) {
    for (int delta = kWarp / 2; delta > 0; delta /= 2) v += __shfl_xor_sync(0xffffffffu, v, delta);
    return v;
}
template <class T>
__device__ T warp_max(T v) {
    for (int delta = kWarp / 2; delta > 0; delta /= 2) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, delta));
    return v;
}

/// Sum of one value per thread of the block; every thread gets the total.
template <class T>
__device__ T block_sum(T v) {
    __shared__ T partial[kBlock / kWarp];
    __shared__ T total;
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    v = warp_sum(v);
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    if (warp == 0) {
        T w = lane < blockDim.x / kWarp ? partial[lane] : T(0);
        w = warp_sum(w);
        if (lane == 0) total = w;
    }
    __syncthreads();
    const T result = total;
    __syncthreads();  // `total` and `partial` are reused by the next call
    return result;
}

/// One warp per row: rows shorter than a block's worth of work.
template <class T>
__global__ void sum_rows_by_warp(std::int64_t rows, std::int64_t cols, const T* in, T* out) {
    const int lane = threadIdx.x % kWarp;
    const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / kWarp);
    for (std::int64_t r = blockIdx.x * (blockDim.x / kWarp) + threadIdx.x / kWarp; r < rows; r += warps) {
        const T* p = in + r * cols;
        double acc = 0;
        for (std::int64_t c = lane; c < cols; c += kWarp) acc += p[c];
        acc = warp_sum(acc);
        if (lane == 0) out[r] = static_cast<T>(acc);
    }
}

/// Partial sums of chunks of `chunk` elements, a block per (row, chunk):
/// the first pass for a few rows too long for one block each.
template <class T>
__global__ void sum_row_chunks(std::int64_t rows, std::int64_t cols, std::int64_t chunk, std::int64_t chunks,
                               const T* in, double* partial) {
    for (std::int64_t item = blockIdx.x; item < rows * chunks; item += gridDim.x) {
        const std::int64_t row = item / chunks, first = (item % chunks) * chunk;
        const std::int64_t last = first + chunk < cols ? first + chunk : cols;
        const T* p = in + row * cols;
        double acc = 0;
        for (std::int64_t c = first + threadIdx.x; c < last; c += blockDim.x) acc += p[c];
        acc = block_sum(acc);
        if (threadIdx.x == 0) partial[item] = acc;
    }
}

/// One block per row: long rows, and the second pass over the partial sums
/// of sum_row_chunks (In = double), which sums them in a fixed order.
template <class In, class Out>
__global__ void sum_rows_by_block(std::int64_t rows, std::int64_t cols, const In* in, Out* out) {
    for (std::int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const In* p = in + r * cols;
        double acc = 0;
        for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) acc += p[c];
        acc = block_sum(acc);
        if (threadIdx.x == 0) out[r] = static_cast<Out>(acc);
    }
}

int grid_for(std::int64_t items) {
    return static_cast<int>(items < 65535 * 8 ? (items > 0 ? items : 1) : 65535 * 8);
}

/// Softmax along contiguous rows (inner == 1): one warp per row, three passes
/// (max, sum of exponentials, write), the row read from cache after the first.
template <class T>
__global__ void softmax_rows(bool log, std::int64_t rows, std::int64_t n, const T* x, T* y) {
    const int lane = threadIdx.x % kWarp;
    const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / kWarp);
    for (std::int64_t r = blockIdx.x * (blockDim.x / kWarp) + threadIdx.x / kWarp; r < rows; r += warps) {
        const T* xr = x + r * n;
        T* yr = y + r * n;
        T m = -INFINITY;
        for (std::int64_t c = lane; c < n; c += kWarp) m = fmax(m, xr[c]);
        m = warp_max(m);
        T total = 0;
        for (std::int64_t c = lane; c < n; c += kWarp) total += exp(xr[c] - m);
        total = warp_sum(total);
        if (log) {
            const T log_total = ::log(total);
            for (std::int64_t c = lane; c < n; c += kWarp) yr[c] = (xr[c] - m) - log_total;
        } else {
            const T inverse = T(1) / total;
            for (std::int64_t c = lane; c < n; c += kWarp) yr[c] = exp(xr[c] - m) * inverse;
        }
    }
}

/// Softmax along a strided extent (inner > 1): one thread per line; adjacent
/// threads take adjacent lines, so every read is coalesced.
template <class T>
__global__ void softmax_strided(bool log, std::int64_t outer, std::int64_t extent, std::int64_t inner, const T* x,
                                T* y) {
    const std::int64_t lines = outer * inner;
    const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
    for (std::int64_t line = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines;
         line += stride) {
        const std::int64_t first = line / inner * extent * inner + line % inner;
        T m = -INFINITY;
        for (std::int64_t k = 0; k < extent; ++k) m = fmax(m, x[first + k * inner]);
        T total = 0;
        for (std::int64_t k = 0; k < extent; ++k) total += exp(x[first + k * inner] - m);
        const T log_total = ::log(total), inverse = T(1) / total;
        for (std::int64_t k = 0; k < extent; ++k) {
            const T shifted = x[first + k * inner] - m;
            y[first + k * inner] = log ? shifted - log_total : exp(shifted) * inverse;
        }
    }
}

/// dx = y·(g − Σ g·y) for softmax, g − exp(y)·Σ g for log-softmax; a warp per row.
template <class T>
__global__ void softmax_rows_backward(bool log, std::int64_t rows, std::int64_t n, const T* y, const T* g, T* dx) {
    const int lane = threadIdx.x % kWarp;
    const std::int64_t warps = static_cast<std::int64_t>(gridDim.x) * (blockDim.x / kWarp);
    for (std::int64_t r = blockIdx.x * (blockDim.x / kWarp) + threadIdx.x / kWarp; r < rows; r += warps) {
        const T *yr = y + r * n, *gr = g + r * n;
        T* dr = dx + r * n;
        T t = 0;
        for (std::int64_t c = lane; c < n; c += kWarp) t += log ? gr[c] : gr[c] * yr[c];
        t = warp_sum(t);
        for (std::int64_t c = lane; c < n; c += kWarp) dr[c] = log ? gr[c] - exp(yr[c]) * t : yr[c] * (gr[c] - t);
    }
}

template <class T>
__global__ void softmax_strided_backward(bool log, std::int64_t outer, std::int64_t extent, std::int64_t inner,
                                         const T* y, const T* g, T* dx) {
    const std::int64_t lines = outer * inner;
    const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
    for (std::int64_t line = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; line < lines;
         line += stride) {
        const std::int64_t first = line / inner * extent * inner + line % inner;
        T t = 0;
        for (std::int64_t k = 0; k < extent; ++k) {
            const std::int64_t at = first + k * inner;
            t += log ? g[at] : g[at] * y[at];
        }
        for (std::int64_t k = 0; k < extent; ++k) {
            const std::int64_t at = first + k * inner;
            dx[at] = log ? g[at] - exp(y[at]) * t : y[at] * (g[at] - t);
        }
    }
}

/// One block per row of a layer or group norm: the mean and variance in
/// double by two passes (one-pass moments cancel badly), then the write.
template <class T>
__global__ void norm_rows_forward(NormRows layout, double eps, const T* x, const T* w, const T* b, T* y,
                                  double* mean_out, double* rstd_out) {
    const std::int64_t n = layout.channels_per_row * layout.span;
    for (std::int64_t row = blockIdx.x; row < layout.rows; row += gridDim.x) {
        const T* xr = x + row * n;
        T* yr = y + row * n;
        const std::int64_t base = (row % layout.groups) * layout.channels_per_row;
        double total = 0;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) total += xr[i];
        const double mean = block_sum(total) / static_cast<double>(n);
        double squares = 0;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            const double d = xr[i] - mean;
            squares += d * d;
        }
        const double rstd = 1.0 / sqrt(block_sum(squares) / static_cast<double>(n) + eps);
        if (threadIdx.x == 0) mean_out[row] = mean, rstd_out[row] = rstd;
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            const std::int64_t c = base + i / layout.span;
            yr[i] = static_cast<T>((xr[i] - mean) * rstd * static_cast<double>(w[c]) + static_cast<double>(b[c]));
        }
    }
}

template <class T>
__global__ void norm_rows_input_gradient(NormRows layout, const T* x, const T* g, const T* w, const double* mean,
                                         const double* rstd, T* dx) {
    const std::int64_t n = layout.channels_per_row * layout.span;
    for (std::int64_t row = blockIdx.x; row < layout.rows; row += gridDim.x) {
        const T *xr = x + row * n, *gr = g + row * n;
        T* out = dx + row * n;
        const std::int64_t base = (row % layout.groups) * layout.channels_per_row;
        const double m = mean[row], r = rstd[row];
        double sum_g = 0, sum_gx = 0;  // Σ ĝ and Σ ĝ·(x − mean)
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            const double gw = static_cast<double>(gr[i]) * static_cast<double>(w[base + i / layout.span]);
            sum_g += gw;
            sum_gx += gw * (xr[i] - m);
        }
        sum_g = block_sum(sum_g);
        sum_gx = block_sum(sum_gx);
        const double shift = -r * sum_g / static_cast<double>(n);
        const double slope = -r * r * r * sum_gx / static_cast<double>(n);
        for (std::int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            const double wc = w[base + i / layout.span];
            out[i] = static_cast<T>(r * wc * static_cast<double>(gr[i]) + shift + slope * (xr[i] - m));
        }
    }
}

/// One block per affine channel: its sums run over every row of its group
/// and the channel's `span` values in each.
template <class T>
__global__ void norm_rows_affine_gradient(NormRows layout, const T* x, const T* g, const double* mean,
                                          const double* rstd, T* dw, T* db) {
    const std::int64_t channels = layout.groups * layout.channels_per_row;
    const std::int64_t n = layout.channels_per_row * layout.span;
    const std::int64_t samples = layout.rows / layout.groups;
    const std::int64_t per_channel = samples * layout.span;
    for (std::int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
        const std::int64_t group = c / layout.channels_per_row, within = c % layout.channels_per_row;
        double acc_w = 0, acc_b = 0;
        for (std::int64_t j = threadIdx.x; j < per_channel; j += blockDim.x) {
            const std::int64_t row = (j / layout.span) * layout.groups + group;
            const std::int64_t at = row * n + within * layout.span + j % layout.span;
            const double gv = g[at];
            acc_w += gv * (x[at] - mean[row]) * rstd[row];
            acc_b += gv;
        }
        acc_w = block_sum(acc_w);
        acc_b = block_sum(acc_b);
        if (threadIdx.x == 0) {
            if (dw) dw[c] = static_cast<T>(acc_w);
            if (db) db[c] = static_cast<T>(acc_b);
        }
    }
}

/// One thread per output element of an embedding lookup.
template <class T>
struct GatherRows {
    const std::int64_t* index;
    const T* table;
    T* out;
    std::int64_t width;
    __device__ void operator()(std::int64_t i) const { out[i] = table[index[i / width] * width + i % width]; }
};

/// The embedding gradient as a gather: one thread per table element scans
/// the indices for its row, so no two threads add into one place and the
/// sum runs in index order (deterministic, as on the CPU).
template <class T>
struct SumRowsByIndex {
    const std::int64_t* index;
    const T* g;
    T* grad;
    std::int64_t count, width;
    __device__ void operator()(std::int64_t e) const {
        const std::int64_t row = e / width, col = e % width;
        T acc = 0;
        for (std::int64_t i = 0; i < count; ++i)
            if (index[i] == row) acc += g[i * width + col];
        grad[e] = acc;
    }
};

// ----- cuBLAS ---------------------------------------------------------------------

/// One cuBLAS handle per device, made on first use and kept for the process.
Status blas_handle(int device, cublasHandle_t* handle) {
    static std::mutex mutex;
    static auto* handles = new std::unordered_map<int, cublasHandle_t>();
    std::lock_guard<std::mutex> lock(mutex);
    auto found = handles->find(device);
    if (found != handles->end()) {
        *handle = found->second;
        return {};
    }
    if (Status s = from_cuda(cudaSetDevice(device), "cudaSetDevice"); !s.ok()) return s;
    cublasHandle_t made = nullptr;
    const cublasStatus_t status = cublasCreate(&made);
    if (status != CUBLAS_STATUS_SUCCESS) return {"cublasCreate", cublasGetStatusString(status)};
    // Default math keeps fp32 products on FMA units (TF32 needs opting in).
    cublasSetMathMode(made, CUBLAS_DEFAULT_MATH);
    (*handles)[device] = made;
    *handle = made;
    return {};
}

}  // namespace

// ----- launchers ----------------------------------------------------------------

Status map_unary(Scalar scalar, UnaryBody described, const StridedArgs<2>& walk, void* out, const void* in) {
    return with_unary_body(described, [&](auto body) {
        return with_scalar(scalar, [&]<class T>() {
            using Body = decltype(body);
            T* o = static_cast<T*>(out);
            const T* i = static_cast<const T*>(in);
            if (is_flat(walk) && packable({out, in}))
                return from_cuda(cuda_for(packs_of<T>(walk.numel), UnaryFlat<Body, T>{body, walk.numel, o, i}),
                                 "map_unary");
            return with_index(walk, [&]<class Index>() {
                return from_cuda(cuda_for(walk.numel, UnaryStrided<Body, T, Index>{body, walk, o, i}), "map_unary");
            });
        });
    });
}

Status unary_backward(Scalar scalar, UnaryBody described, std::int64_t n, const void* g, const void* x, const void* y,
                      void* dx) {
    return with_unary_body(described, [&](auto body) {
        return with_scalar(scalar, [&]<class T>() {
            const UnaryBackward<decltype(body), T> kernel{body, n, static_cast<const T*>(g), static_cast<const T*>(x),
                                                          static_cast<const T*>(y), static_cast<T*>(dx)};
            if (packable({g, x, y, dx})) return from_cuda(cuda_for(packs_of<T>(n), kernel), "unary_backward");
            return from_cuda(cuda_for(n, UnaryBackwardEach<decltype(body), T>{kernel}), "unary_backward");
        });
    });
}

Status map_binary(Scalar scalar, BinaryKind kind, const StridedArgs<3>& walk, void* out, const void* a,
                  const void* b) {
    return with_binary_body(kind, [&](auto body) {
        return with_scalar(scalar, [&]<class T>() {
            using Body = decltype(body);
            T* o = static_cast<T*>(out);
            const T *pa = static_cast<const T*>(a), *pb = static_cast<const T*>(b);
            if (is_flat(walk) && packable({out, a, b}))
                return from_cuda(cuda_for(packs_of<T>(walk.numel), BinaryFlat<Body, T>{body, walk.numel, o, pa, pb}),
                                 "map_binary");
            return with_index(walk, [&]<class Index>() {
                return from_cuda(cuda_for(walk.numel, BinaryStrided<Body, T, Index>{body, walk, o, pa, pb}),
                                 "map_binary");
            });
        });
    });
}

Status fill(Scalar scalar, const StridedArgs<1>& walk, double value, void* out) {
    return with_scalar(scalar, [&]<class T>() {
        return with_index(walk, [&]<class Index>() {
            return from_cuda(cuda_for(walk.numel, Fill<T, Index>{walk, static_cast<T>(value), static_cast<T*>(out)}),
                             "fill");
        });
    });
}

Status copy_strided(std::size_t width, const StridedArgs<2>& walk, void* dst, const void* src) {
    auto copy = [&]<class T>() {
        return with_index(walk, [&]<class Index>() {
            const Copy<T, Index> kernel{walk, static_cast<T*>(dst), static_cast<const T*>(src)};
            return from_cuda(cuda_for(walk.numel, kernel), "copy_strided");
        });
    };
    switch (width) {
        case 1: return copy.template operator()<std::uint8_t>();
        case 2: return copy.template operator()<std::uint16_t>();
        case 4: return copy.template operator()<std::uint32_t>();
        case 8: return copy.template operator()<std::uint64_t>();
    }
    return {"copy_strided", "expected elements of 1, 2, 4 or 8 bytes"};
}

Status argmax_rows(Scalar scalar, std::int64_t rows, std::int64_t inner, const void* in, std::int64_t* index,
                   void* value) {
    if (rows <= 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::ArgmaxRows<T> body{static_cast<const T*>(in), index, static_cast<T*>(value), inner};
        return from_cuda(cuda_for(rows, body), "argmax_rows");
    });
}

Status scatter_to_argmax(Scalar scalar, std::int64_t rows, std::int64_t extent, std::int64_t after,
                         const void* grad_out, const std::int64_t* index, void* grad_in) {
    if (rows <= 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::ScatterToArgmax<T> body{static_cast<const T*>(grad_out), index, static_cast<T*>(grad_in),
                                               extent, after};
        return from_cuda(cuda_for(rows, body), "scatter_to_argmax");
    });
}

Status sum_rows(Scalar scalar, std::int64_t rows, std::int64_t cols, const void* in, void* out) {
    if (rows <= 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const T* pi = static_cast<const T*>(in);
        T* po = static_cast<T*>(out);
        // Fewer rows than about two per multiprocessor leave the device
        // idle with a block per row: split them into chunks first.
        constexpr std::int64_t kChunk = 16384, kFewRows = 256;
        if (rows < kFewRows && cols >= 4 * kChunk) {
            const std::int64_t chunks = (cols + kChunk - 1) / kChunk;
            int device = 0;
            if (Status s = from_cuda(cudaGetDevice(&device), "cudaGetDevice"); !s.ok()) return s;
            void* scratch = nullptr;
            if (Status s = device_scratch(device, sizeof(double) * rows * chunks, &scratch); !s.ok()) return s;
            double* partial = static_cast<double*>(scratch);
            sum_row_chunks<T><<<grid_for(rows * chunks), kBlock>>>(rows, cols, kChunk, chunks, pi, partial);
            sum_rows_by_block<double, T><<<grid_for(rows), kBlock>>>(rows, chunks, partial, po);
        } else if (cols >= 1024) {
            sum_rows_by_block<T, T><<<grid_for(rows), kBlock>>>(rows, cols, pi, po);
        } else {
            constexpr int kRowsPerBlock = kBlock / kWarp;
            sum_rows_by_warp<T><<<grid_for((rows + kRowsPerBlock - 1) / kRowsPerBlock), kBlock>>>(rows, cols, pi, po);
        }
        return from_cuda(cudaGetLastError(), "sum_rows");
    });
}

Status softmax_lines(Scalar scalar, bool log, std::int64_t outer, std::int64_t extent, std::int64_t inner,
                     const void* x, void* y) {
    if (outer * inner * extent == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const T* px = static_cast<const T*>(x);
        T* py = static_cast<T*>(y);
        if (inner == 1) {
            constexpr int kRowsPerBlock = kBlock / kWarp;
            softmax_rows<T><<<grid_for((outer + kRowsPerBlock - 1) / kRowsPerBlock), kBlock>>>(log, outer, extent, px,
                                                                                               py);
        } else {
            softmax_strided<T><<<grid_for((outer * inner + kBlock - 1) / kBlock), kBlock>>>(log, outer, extent, inner,
                                                                                           px, py);
        }
        return from_cuda(cudaGetLastError(), "softmax_lines");
    });
}

Status softmax_lines_backward(Scalar scalar, bool log, std::int64_t outer, std::int64_t extent, std::int64_t inner,
                              const void* y, const void* g, void* dx) {
    if (outer * inner * extent == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const T *py = static_cast<const T*>(y), *pg = static_cast<const T*>(g);
        T* pd = static_cast<T*>(dx);
        if (inner == 1) {
            constexpr int kRowsPerBlock = kBlock / kWarp;
            softmax_rows_backward<T><<<grid_for((outer + kRowsPerBlock - 1) / kRowsPerBlock), kBlock>>>(
                log, outer, extent, py, pg, pd);
        } else {
            softmax_strided_backward<T><<<grid_for((outer * inner + kBlock - 1) / kBlock), kBlock>>>(
                log, outer, extent, inner, py, pg, pd);
        }
        return from_cuda(cudaGetLastError(), "softmax_lines_backward");
    });
}

Status norm_rows(Scalar scalar, const NormRows& layout, double eps, const void* x, const void* w, const void* b,
                 void* y, double* mean, double* rstd) {
    if (layout.rows <= 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        norm_rows_forward<T><<<grid_for(layout.rows), kBlock>>>(layout, eps, static_cast<const T*>(x),
                                                               static_cast<const T*>(w), static_cast<const T*>(b),
                                                               static_cast<T*>(y), mean, rstd);
        return from_cuda(cudaGetLastError(), "norm_rows");
    });
}

Status norm_rows_backward_input(Scalar scalar, const NormRows& layout, const void* x, const void* g, const void* w,
                                const double* mean, const double* rstd, void* dx) {
    if (layout.rows <= 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        norm_rows_input_gradient<T><<<grid_for(layout.rows), kBlock>>>(
            layout, static_cast<const T*>(x), static_cast<const T*>(g), static_cast<const T*>(w), mean, rstd,
            static_cast<T*>(dx));
        return from_cuda(cudaGetLastError(), "norm_rows_backward_input");
    });
}

Status norm_rows_backward_affine(Scalar scalar, const NormRows& layout, const void* x, const void* g,
                                 const double* mean, const double* rstd, void* dw, void* db) {
    const std::int64_t channels = layout.groups * layout.channels_per_row;
    if (channels <= 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        norm_rows_affine_gradient<T><<<grid_for(channels), kBlock>>>(layout, static_cast<const T*>(x),
                                                                     static_cast<const T*>(g), mean, rstd,
                                                                     static_cast<T*>(dw), static_cast<T*>(db));
        return from_cuda(cudaGetLastError(), "norm_rows_backward_affine");
    });
}

Status embedding_forward(Scalar scalar, std::int64_t count, std::int64_t width, const std::int64_t* index,
                         const void* table, void* out) {
    return with_scalar(scalar, [&]<class T>() {
        const GatherRows<T> kernel{index, static_cast<const T*>(table), static_cast<T*>(out), width};
        return from_cuda(cuda_for(count * width, kernel), "embedding_forward");
    });
}

Status embedding_backward(Scalar scalar, std::int64_t vocab, std::int64_t count, std::int64_t width,
                          const std::int64_t* index, const void* g, void* grad) {
    return with_scalar(scalar, [&]<class T>() {
        return from_cuda(cuda_for(vocab * width, SumRowsByIndex<T>{index, static_cast<const T*>(g),
                                                                   static_cast<T*>(grad), count, width}),
                         "embedding_backward");
    });
}

Status upsample_nearest(Scalar scalar, const UpsampleShape& shape, std::int64_t out_numel, const void* in, void* out) {
    const std::int64_t row = shape.w * shape.sw;
    if (out_numel == 0 || row == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::UpsampleNearestRows<T> body{static_cast<const T*>(in), static_cast<T*>(out), shape.d, shape.h,
                                                   shape.w, shape.sd, shape.sh, shape.sw};
        return from_cuda(cuda_for(out_numel / row, body), "upsample_nearest");
    });
}

Status upsample_nearest_backward(Scalar scalar, const UpsampleShape& shape, std::int64_t in_numel,
                                 const void* grad_out, void* grad_in) {
    return with_scalar(scalar, [&]<class T>() {
        const kernels::UpsampleNearestBackward<T> body{static_cast<const T*>(grad_out), static_cast<T*>(grad_in),
                                                       shape.d, shape.h, shape.w, shape.sd, shape.sh, shape.sw};
        return from_cuda(cuda_for(in_numel, body), "upsample_nearest_backward");
    });
}

Status dropout(Scalar scalar, std::int64_t n, const kernels::DropoutKeep& keep, double scale, const void* x, void* out,
               std::uint8_t* mask) {
    if (n == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::DropoutForward<T> body{static_cast<const T*>(x), static_cast<T*>(out), mask, keep,
                                              static_cast<T>(scale)};
        return from_cuda(cuda_for(n, body), "dropout");
    });
}

Status dropout_backward(Scalar scalar, std::int64_t n, double scale, const void* grad_out, const std::uint8_t* mask,
                        void* grad_in) {
    if (n == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::DropoutBackward<T> body{static_cast<const T*>(grad_out), mask, static_cast<T*>(grad_in),
                                               static_cast<T>(scale)};
        return from_cuda(cuda_for(n, body), "dropout_backward");
    });
}

Status avg_pool(Scalar scalar, const kernels::AvgPoolGeometry& geometry, std::int64_t out_numel, const void* in,
                void* out) {
    if (out_numel == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::AvgPool<T> body{static_cast<const T*>(in), static_cast<T*>(out), geometry};
        return from_cuda(cuda_for(out_numel, body), "avg_pool");
    });
}

Status avg_pool_backward(Scalar scalar, const kernels::AvgPoolGeometry& geometry, std::int64_t in_numel,
                         const void* grad_out, void* grad_in) {
    if (in_numel == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const kernels::AvgPoolBackward<T> body{static_cast<const T*>(grad_out), static_cast<T*>(grad_in), geometry};
        return from_cuda(cuda_for(in_numel, body), "avg_pool_backward");
    });
}

namespace {
/// A bilinear-resize body of either direction: both read from one plane
/// buffer into another through the two tap tables.
template <template <class> class Body, class T>
Body<T> bilinear_body(const BilinearResizeShape& s, const void* rows, const void* cols, const void* from, void* to) {
    return {static_cast<const T*>(from), static_cast<T*>(to), static_cast<const kernels::LinearTap<T>*>(rows),
            static_cast<const kernels::LinearTap<T>*>(cols), s.h, s.w, s.oh, s.ow};
}
}  // namespace

Status upsample_bilinear(Scalar scalar, const BilinearResizeShape& shape, const void* rows, const void* cols,
                         const void* in, void* out) {
    const std::int64_t n = shape.planes * shape.oh * shape.ow;  // a thread per output element
    if (n == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const auto body = bilinear_body<kernels::UpsampleBilinear, T>(shape, rows, cols, in, out);
        return from_cuda(cuda_for(n, body), "upsample_bilinear");
    });
}

Status upsample_bilinear_backward(Scalar scalar, const BilinearResizeShape& shape, const void* rows, const void* cols,
                                  const void* grad_out, void* grad_in) {
    const std::int64_t n = shape.planes * shape.h;  // a thread per input row
    if (n == 0) return {};
    return with_scalar(scalar, [&]<class T>() {
        const auto body = bilinear_body<kernels::UpsampleBilinearBackwardRows, T>(shape, rows, cols, grad_out, grad_in);
        return from_cuda(cuda_for(n, body), "upsample_bilinear_backward");
    });
}

namespace {
kernels::GridSampleGeometry geometry_of(const GridSampleShape& s) {
    return {s.c, s.h, s.w, s.ho, s.wo, s.border ? GridPadding::Border : GridPadding::Zeros, s.align_corners};
}
}  // namespace

Status grid_sample_forward(Scalar scalar, const GridSampleShape& shape, const void* in, const void* grid, void* out) {
    return with_scalar(scalar, [&]<class T>() {
        const kernels::GridSampleForwardPoint<T> body{static_cast<const T*>(in), static_cast<const T*>(grid),
                                                      static_cast<T*>(out), geometry_of(shape)};
        return from_cuda(cuda_for(shape.n * shape.ho * shape.wo, body), "grid_sample_forward");
    });
}

Status grid_sample_backward_input(Scalar scalar, const GridSampleShape& shape, const void* grid, const void* grad_out,
                                  void* grad_in) {
    return with_scalar(scalar, [&]<class T>() {
        const kernels::GridSampleBackwardInput<T> body{static_cast<const T*>(grid), static_cast<const T*>(grad_out),
                                                       static_cast<T*>(grad_in), geometry_of(shape)};
        return from_cuda(cuda_for(shape.n * shape.c, body), "grid_sample_backward_input");
    });
}

Status grid_sample_backward_grid(Scalar scalar, const GridSampleShape& shape, const void* in, const void* grid,
                                 const void* grad_out, void* grad_grid) {
    return with_scalar(scalar, [&]<class T>() {
        const kernels::GridSampleBackwardGrid<T> body{static_cast<const T*>(in), static_cast<const T*>(grid),
                                                      static_cast<const T*>(grad_out), static_cast<T*>(grad_grid),
                                                      geometry_of(shape)};
        return from_cuda(cuda_for(shape.n * shape.ho * shape.wo, body), "grid_sample_backward_grid");
    });
}

Status pixel_attention_forward(AttentionStorage storage, const PixelAttentionShape& shape, const void* qkv,
                               const void* bias, const void* rotary, void* out, void* lse) {
    if (shape.batch * shape.heads * shape.frames * shape.pixels == 0) return {};
    if (shape.frames * 3 * shape.channels * shape.pixels > kPixelAttentionMaxVideoElements)
        return {"pixel_attention_forward", "a video too large for 32-bit offsets"};
    // bfloat16 up to 16 frames without rotary tables: tensor cores (a lane
    // loads two pixels as one word where the pixel count is even and the
    // tensors are word-aligned).
    namespace tc = attention::tensor_cores;
    if (storage == AttentionStorage::BFloat16 && shape.frames <= tc::kFrames && rotary == nullptr) {
        const auto* q = static_cast<const __nv_bfloat16*>(qkv);
        const auto* b = static_cast<const float*>(bias);
        auto* o = static_cast<__nv_bfloat16*>(out);
        auto* l = static_cast<float*>(lse);
        const bool words = shape.pixels % 2 == 0 && reinterpret_cast<std::uintptr_t>(qkv) % 4 == 0 &&
                           reinterpret_cast<std::uintptr_t>(out) % 4 == 0;
        if (words && tc::prepare<tc::kWide>()) {
            tc::launch<tc::kWide>(shape, q, b, o, l);
            return from_cuda(cudaGetLastError(), "pixel_attention_forward (tensor cores)");
        }
        if (tc::prepare<1>()) {
            tc::launch<1>(shape, q, b, o, l);
            return from_cuda(cudaGetLastError(), "pixel_attention_forward (tensor cores)");
        }
    }
    return attention::with_storage(storage, [&]<class S>() {
        using A = typename attention::AccumulateOf<S>::type;
        return attention::with_keys(shape.frames, [&]<int Keys>() {
            attention::forward_kernel<Keys, S><<<attention::grid_of<Keys>(shape),
                                                 dim3(attention::kPixels, attention::kRows)>>>(
                shape, static_cast<const S*>(qkv), static_cast<const A*>(bias), static_cast<const A*>(rotary),
                static_cast<S*>(out), static_cast<A*>(lse));
            return from_cuda(cudaGetLastError(), "pixel_attention_forward");
        });
    });
}

Status pixel_attention_backward(AttentionStorage storage, const PixelAttentionShape& shape, const void* qkv,
                                const void* bias, const void* rotary, const void* lse, const void* grad_out,
                                void* dqkv, void* dbias, void* workspace) {
    if (shape.batch * shape.heads * shape.frames * shape.pixels == 0) return {};
    if (shape.frames * 3 * shape.channels * shape.pixels > kPixelAttentionMaxVideoElements)
        return {"pixel_attention_backward", "a video too large for 32-bit offsets"};
    return attention::with_storage(storage, [&]<class S>() {
        using A = typename attention::AccumulateOf<S>::type;
        A* weights = static_cast<A*>(workspace);
        A* score_grad = weights + shape.batch * shape.heads * shape.frames * shape.frames * shape.pixels;
        return attention::with_keys(shape.frames, [&]<int Keys>() {
            const dim3 grid = attention::grid_of<Keys>(shape), block(attention::kPixels, attention::kRows);
            attention::query_gradient_kernel<Keys, S><<<grid, block>>>(
                shape, static_cast<const S*>(qkv), static_cast<const A*>(bias), static_cast<const A*>(rotary),
                static_cast<const A*>(lse), static_cast<const S*>(grad_out), static_cast<S*>(dqkv), weights,
                score_grad);
            if (Status s = from_cuda(cudaGetLastError(), "pixel_attention_backward (queries)"); !s.ok()) return s;
            attention::key_gradient_kernel<Keys, S><<<grid, block>>>(shape, static_cast<const S*>(qkv),
                                                                     static_cast<const A*>(rotary),
                                                                     static_cast<const S*>(grad_out), weights,
                                                                     score_grad, static_cast<S*>(dqkv));
            if (Status s = from_cuda(cudaGetLastError(), "pixel_attention_backward (keys)"); !s.ok()) return s;
            if (dbias) {
                attention::bias_gradient_kernel<A>
                    <<<static_cast<unsigned>(shape.heads * shape.frames * shape.frames), attention::kThreads>>>(
                        shape, score_grad, static_cast<A*>(dbias));
                return from_cuda(cudaGetLastError(), "pixel_attention_backward (bias)");
            }
            return Status{};
        });
    });
}

Status adamw_update(Scalar scalar, std::int64_t n, const AdamWStep& step, void* param, const void* grad,
                    void* exp_avg, void* exp_avg_sq, void* max_exp_avg_sq) {
    return with_scalar(scalar, [&]<class T>() {
        const optim::kernels::AdamWUpdate<T> body{
            static_cast<T*>(param),          static_cast<const T*>(grad),       static_cast<T*>(exp_avg),
            static_cast<T*>(exp_avg_sq),     static_cast<T*>(max_exp_avg_sq),   static_cast<T>(step.decay_factor),
            static_cast<T>(step.beta1),      static_cast<T>(step.one_minus_beta1), static_cast<T>(step.beta2),
            static_cast<T>(step.one_minus_beta2), static_cast<T>(step.bias_correction2_sqrt),
            static_cast<T>(step.eps),        static_cast<T>(step.neg_step_size)};
        return from_cuda(cuda_for(n, body), "adamw_update");
    });
}

Status gemm_batched(int device, Scalar scalar, std::int64_t batches, std::int64_t m, std::int64_t k, std::int64_t n,
                    const void* a, bool a_column_major, const void* b, bool b_column_major, void* c) {
    if (batches == 0 || m == 0 || n == 0) return {};
    cublasHandle_t handle = nullptr;
    if (Status s = blas_handle(device, &handle); !s.ok()) return s;
    // cuBLAS is column-major: row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ.
    // A row-major operand read column-major is its own transpose (no op);
    // a column-major one needs the transpose op.
    const cublasOperation_t op_b = b_column_major ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_a = a_column_major ? CUBLAS_OP_T : CUBLAS_OP_N;
    const int ld_b = static_cast<int>(b_column_major ? k : n);
    const int ld_a = static_cast<int>(a_column_major ? m : k);
    const int rows = static_cast<int>(n), cols = static_cast<int>(m), inner = static_cast<int>(k);
    const int count = static_cast<int>(batches);
    cublasStatus_t status;
    if (scalar == Scalar::Float64) {
        const double one = 1, zero = 0;
        status = cublasDgemmStridedBatched(handle, op_b, op_a, rows, cols, inner, &one, static_cast<const double*>(b),
                                           ld_b, k * n, static_cast<const double*>(a), ld_a, m * k, &zero,
                                           static_cast<double*>(c), rows, m * n, count);
    } else {
        const float one = 1, zero = 0;
        status = cublasSgemmStridedBatched(handle, op_b, op_a, rows, cols, inner, &one, static_cast<const float*>(b),
                                           ld_b, k * n, static_cast<const float*>(a), ld_a, m * k, &zero,
                                           static_cast<float*>(c), rows, m * n, count);
    }
    if (status != CUBLAS_STATUS_SUCCESS)
        return {scalar == Scalar::Float64 ? "cublasDgemmStridedBatched" : "cublasSgemmStridedBatched",
                cublasGetStatusString(status)};
    return {};
}

Status synchronize(int device) {
    if (Status s = from_cuda(cudaSetDevice(device), "cudaSetDevice"); !s.ok()) return s;
    return from_cuda(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

}  // namespace vgt::cuda
