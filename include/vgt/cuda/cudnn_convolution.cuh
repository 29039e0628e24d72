#pragma once
// Convolutions on cuDNN: the conv_* launchers of vgt/cuda/launchers.hpp.
// For each (shape, direction) cuDNN measures its algorithms once; the
// fastest one that keeps plain fp32 arithmetic is cached and reused, its
// workspace taken from the backend's device scratch. Read by backend.cu
// only. Without cuDNN (VGT_WITH_CUDNN unset) the launchers say so instead.

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

#include <cuda_runtime.h>

#include "vgt/cuda/device_scratch.cuh"
#include "vgt/cuda/launchers.hpp"

#if defined(VGT_WITH_CUDNN)
#include <cudnn.h>
#endif

namespace vgt::cuda {

#if defined(VGT_WITH_CUDNN)

namespace cudnn_detail {

Status from_cudnn(cudnnStatus_t status, const char* call) {
    if (status == CUDNN_STATUS_SUCCESS) return {};
    return {call, cudnnGetErrorString(status)};
}

/// Returns from the enclosing function when a cuDNN call fails.
#define VGT_CUDNN_TRY(call)                                                  \
    do {                                                                     \
        if (Status vgt_cudnn_status = from_cudnn((call), #call); !vgt_cudnn_status.ok()) \
            return vgt_cudnn_status;                                         \
    } while (false)

/// One cuDNN handle per device, made on first use and kept for the process.
Status handle_for(int device, cudnnHandle_t* handle) {
    static std::mutex mutex;
    static auto* handles = new std::unordered_map<int, cudnnHandle_t>();
    std::lock_guard<std::mutex> lock(mutex);
    if (auto found = handles->find(device); found != handles->end()) {
        *handle = found->second;
        return {};
    }
    if (cudaSetDevice(device) != cudaSuccess) return {"cudaSetDevice", cudaGetErrorString(cudaGetLastError())};
    cudnnHandle_t made = nullptr;
    VGT_CUDNN_TRY(cudnnCreate(&made));
    (*handles)[device] = made;
    *handle = made;
    return {};
}

/// The descriptors of one convolution, destroyed with it. A 1-d
/// convolution is described as a 2-d one of height 1 (cuDNN needs >= 2).
struct Descriptors {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    ~Descriptors() {
        if (x) cudnnDestroyTensorDescriptor(x);
        if (y) cudnnDestroyTensorDescriptor(y);
        if (bias) cudnnDestroyTensorDescriptor(bias);
        if (w) cudnnDestroyFilterDescriptor(w);
        if (conv) cudnnDestroyConvolutionDescriptor(conv);
    }
};

/// Contiguous strides of an n-d tensor of extents `dims`.
void contiguous(const int* dims, int n, int* strides) {
    strides[n - 1] = 1;
    for (int i = n - 2; i >= 0; --i) strides[i] = strides[i + 1] * dims[i + 1];
}

Status describe(const ConvShape& s, Scalar scalar, Descriptors& d) {
    const cudnnDataType_t type = scalar == Scalar::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    const int spatial = s.spatial == 1 ? 2 : s.spatial;
    const int lead = spatial - s.spatial;  // 1 for a 1-d convolution seen as 2-d
    const int rank = spatial + 2;
    int x_dims[5], y_dims[5], w_dims[5], b_dims[5], strides[5];
    int pad[3], stride[3], dilation[3];
    x_dims[0] = y_dims[0] = static_cast<int>(s.batch);
    x_dims[1] = static_cast<int>(s.in_channels);
    y_dims[1] = w_dims[0] = static_cast<int>(s.out_channels);
    w_dims[1] = static_cast<int>(s.in_channels / s.groups);
    for (int i = 0; i < spatial; ++i) {
        const int k = i - lead;  // index into the shape's own dimensions
        x_dims[2 + i] = k < 0 ? 1 : static_cast<int>(s.in[k]);
        y_dims[2 + i] = k < 0 ? 1 : static_cast<int>(s.out[k]);
        w_dims[2 + i] = k < 0 ? 1 : static_cast<int>(s.kernel[k]);
        pad[i] = k < 0 ? 0 : static_cast<int>(s.padding[k]);
        stride[i] = k < 0 ? 1 : static_cast<int>(s.stride[k]);
        dilation[i] = k < 0 ? 1 : static_cast<int>(s.dilation[k]);
    }
    for (int i = 0; i < rank; ++i) b_dims[i] = i == 1 ? y_dims[1] : 1;
    VGT_CUDNN_TRY(cudnnCreateTensorDescriptor(&d.x));
    VGT_CUDNN_TRY(cudnnCreateTensorDescriptor(&d.y));
    VGT_CUDNN_TRY(cudnnCreateTensorDescriptor(&d.bias));
    VGT_CUDNN_TRY(cudnnCreateFilterDescriptor(&d.w));
    VGT_CUDNN_TRY(cudnnCreateConvolutionDescriptor(&d.conv));
    contiguous(x_dims, rank, strides);
    VGT_CUDNN_TRY(cudnnSetTensorNdDescriptor(d.x, type, rank, x_dims, strides));
    contiguous(y_dims, rank, strides);
    VGT_CUDNN_TRY(cudnnSetTensorNdDescriptor(d.y, type, rank, y_dims, strides));
    contiguous(b_dims, rank, strides);
    VGT_CUDNN_TRY(cudnnSetTensorNdDescriptor(d.bias, type, rank, b_dims, strides));
    VGT_CUDNN_TRY(cudnnSetFilterNdDescriptor(d.w, type, CUDNN_TENSOR_NCHW, rank, w_dims));
    VGT_CUDNN_TRY(cudnnSetConvolutionNdDescriptor(d.conv, spatial, pad, stride, dilation, CUDNN_CROSS_CORRELATION,
                                                  type));
    VGT_CUDNN_TRY(cudnnSetConvolutionGroupCount(d.conv, static_cast<int>(s.groups)));
    // FMA only: TF32 tensor cores would round fp32 inputs to 10-bit mantissas.
    VGT_CUDNN_TRY(cudnnSetConvolutionMathType(d.conv, scalar == Scalar::Float64 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
    return {};
}

enum class Direction : std::int64_t { Forward, BackwardInput, BackwardWeight };

/// Everything that decides an algorithm's speed and validity.
using Key = std::array<std::int64_t, 26>;
Key key_of(int device, Scalar scalar, Direction direction, const ConvShape& s) {
    Key key{device, static_cast<std::int64_t>(scalar), static_cast<std::int64_t>(direction), s.spatial, s.batch,
            s.in_channels, s.out_channels, s.groups};
    for (int i = 0; i < 3; ++i) {
        key[8 + i] = s.in[i];
        key[11 + i] = s.kernel[i];
        key[14 + i] = s.stride[i];
        key[17 + i] = s.padding[i];
        key[20 + i] = s.dilation[i];
    }
    return key;
}

struct Choice {
    int algorithm = 0;
    std::size_t workspace = 0;
};

/// The first (fastest) measured algorithm that ran and stayed off tensor cores.
template <class Perf>
Status pick(const Perf* results, int count, const char* what, Choice* choice) {
    for (int i = 0; i < count; ++i) {
        if (results[i].status != CUDNN_STATUS_SUCCESS) continue;
        if (results[i].mathType == CUDNN_TENSOR_OP_MATH || results[i].mathType == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION)
            continue;
        *choice = {static_cast<int>(results[i].algo), results[i].memory};
        return {};
    }
    return {what, "no algorithm ran for this shape"};
}

/// The cached choice for `key`, measuring the algorithms first when new.
template <class Measure>
Status choose(const Key& key, Measure&& measure, Choice* choice) {
    static std::mutex mutex;
    static auto* cache = new std::map<Key, Choice>();
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (auto found = cache->find(key); found != cache->end()) {
            *choice = found->second;
            return {};
        }
    }
    if (Status s = measure(choice); !s.ok()) return s;
    std::lock_guard<std::mutex> lock(mutex);
    (*cache)[key] = *choice;
    return {};
}

constexpr int kCandidates = 8;

/// cuDNN's scaling factors 1 and 0 in the computation's element type.
struct UnitScaling {
    bool f64;
    double one64 = 1, zero64 = 0;
    float one32 = 1, zero32 = 0;
    const void* one() const { return f64 ? static_cast<const void*>(&one64) : &one32; }
    const void* zero() const { return f64 ? static_cast<const void*>(&zero64) : &zero32; }
};

/// What one call needs: the handle, the descriptors, the chosen algorithm
/// and its workspace.
struct Prepared {
    cudnnHandle_t handle = nullptr;
    Descriptors descriptors;
    Choice choice;
    void* workspace = nullptr;
};

/// Fills `p` for one direction; `measure(handle, descriptors, results,
/// &count)` runs cuDNN's Find for that direction.
template <class Perf, class Measure>
Status prepare(int device, Scalar scalar, const ConvShape& shape, Direction direction, const char* find_name,
               Measure&& measure, Prepared& p) {
    if (Status s = handle_for(device, &p.handle); !s.ok()) return s;
    if (Status s = describe(shape, scalar, p.descriptors); !s.ok()) return s;
    Status chosen = choose(key_of(device, scalar, direction, shape), [&](Choice* c) -> Status {
        Perf results[kCandidates];
        int count = 0;
        if (Status s = from_cudnn(measure(p.handle, p.descriptors, results, &count), find_name); !s.ok()) return s;
        return pick(results, count, find_name, c);
    }, &p.choice);
    if (!chosen.ok()) return chosen;
    return device_scratch(device, p.choice.workspace, &p.workspace);
}

}  // namespace cudnn_detail

Status conv_forward(int device, Scalar scalar, const ConvShape& shape, const void* x, const void* w,
                    const void* bias, void* y) {
    using namespace cudnn_detail;
    Prepared p;
    Status ready = prepare<cudnnConvolutionFwdAlgoPerf_t>(
        device, scalar, shape, Direction::Forward, "cudnnFindConvolutionForwardAlgorithm",
        [](cudnnHandle_t h, const Descriptors& d, cudnnConvolutionFwdAlgoPerf_t* results, int* count) {
            return cudnnFindConvolutionForwardAlgorithm(h, d.x, d.w, d.conv, d.y, kCandidates, count, results);
        },
        p);
    if (!ready.ok()) return ready;
    const UnitScaling unit{scalar == Scalar::Float64};
    const Descriptors& d = p.descriptors;
    VGT_CUDNN_TRY(cudnnConvolutionForward(p.handle, unit.one(), d.x, x, d.w, w, d.conv,
                                          static_cast<cudnnConvolutionFwdAlgo_t>(p.choice.algorithm), p.workspace,
                                          p.choice.workspace, unit.zero(), d.y, y));
    if (bias) VGT_CUDNN_TRY(cudnnAddTensor(p.handle, unit.one(), d.bias, bias, unit.one(), d.y, y));
    return {};
}

Status conv_backward_input(int device, Scalar scalar, const ConvShape& shape, const void* w, const void* gy,
                           void* gx) {
    using namespace cudnn_detail;
    Prepared p;
    Status ready = prepare<cudnnConvolutionBwdDataAlgoPerf_t>(
        device, scalar, shape, Direction::BackwardInput, "cudnnFindConvolutionBackwardDataAlgorithm",
        [](cudnnHandle_t h, const Descriptors& d, cudnnConvolutionBwdDataAlgoPerf_t* results, int* count) {
            return cudnnFindConvolutionBackwardDataAlgorithm(h, d.w, d.y, d.conv, d.x, kCandidates, count, results);
        },
        p);
    if (!ready.ok()) return ready;
    const UnitScaling unit{scalar == Scalar::Float64};
    const Descriptors& d = p.descriptors;
    VGT_CUDNN_TRY(cudnnConvolutionBackwardData(p.handle, unit.one(), d.w, w, d.y, gy, d.conv,
                                               static_cast<cudnnConvolutionBwdDataAlgo_t>(p.choice.algorithm),
                                               p.workspace, p.choice.workspace, unit.zero(), d.x, gx));
    return {};
}

Status conv_backward_weight(int device, Scalar scalar, const ConvShape& shape, const void* x, const void* gy,
                            void* gw) {
    using namespace cudnn_detail;
    Prepared p;
    Status ready = prepare<cudnnConvolutionBwdFilterAlgoPerf_t>(
        device, scalar, shape, Direction::BackwardWeight, "cudnnFindConvolutionBackwardFilterAlgorithm",
        [](cudnnHandle_t h, const Descriptors& d, cudnnConvolutionBwdFilterAlgoPerf_t* results, int* count) {
            return cudnnFindConvolutionBackwardFilterAlgorithm(h, d.x, d.y, d.conv, d.w, kCandidates, count, results);
        },
        p);
    if (!ready.ok()) return ready;
    const UnitScaling unit{scalar == Scalar::Float64};
    const Descriptors& d = p.descriptors;
    VGT_CUDNN_TRY(cudnnConvolutionBackwardFilter(p.handle, unit.one(), d.x, x, d.y, gy, d.conv,
                                                 static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.choice.algorithm),
                                                 p.workspace, p.choice.workspace, unit.zero(), d.w, gw));
    return {};
}

#undef VGT_CUDNN_TRY

#else  // no cuDNN

namespace cudnn_detail {
inline constexpr Status kMissing{"cuDNN", "this build of vgt has no cuDNN (configure with cuDNN 9 installed)"};
}
Status conv_forward(int, Scalar, const ConvShape&, const void*, const void*, const void*, void*) {
    return cudnn_detail::kMissing;
}
Status conv_backward_input(int, Scalar, const ConvShape&, const void*, const void*, void*) {
    return cudnn_detail::kMissing;
}
Status conv_backward_weight(int, Scalar, const ConvShape&, const void*, const void*, void*) {
    return cudnn_detail::kMissing;
}

#endif

}  // namespace vgt::cuda
