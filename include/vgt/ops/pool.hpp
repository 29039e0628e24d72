#pragma once
// Spatial downsampling of [N, C, ...] tensors over their trailing 1, 2 or 3
// dimensions:
//   avg_pool    the mean of each kernel window (no padding), as PyTorch's
//               avg_pool1d/2d/3d;
//   downsample  every factor-th element from index 0: a strided view, so its
//               gradient comes from slice().

#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/pool_kernels.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// Mean over windows of `kernel` elements moved by `stride` (empty: the
/// kernel) along the trailing kernel.size() dimensions of x, which must be
/// [N, C, L], [N, C, H, W] or [N, C, D, H, W] to match. No padding: the
/// output extent is (in − k) / s + 1, rounded down.
inline Tensor avg_pool(const Tensor& x, const std::vector<std::int64_t>& kernel,
                       const std::vector<std::int64_t>& stride = {}) {
    const int spatial = static_cast<int>(kernel.size());
    VGT_CHECK(spatial >= 1 && spatial <= 3, "avg_pool", "expected a kernel over 1, 2 or 3 dimensions, found {}",
              spatial);
    const std::vector<std::int64_t> steps = stride.empty() ? kernel : stride;
    VGT_CHECK(x.rank() == spatial + 2, "avg_pool",
              "expected a rank-{} [N, C, ...] input for a {}-d kernel, found shape {}", spatial + 2, spatial,
              x.shape());
    VGT_CHECK(steps.size() == kernel.size(), "avg_pool", "expected {} strides, found {}", spatial, steps.size());
    const Shape kernel_shape(kernel), stride_shape(steps);
    Shape out_shape = x.shape();
    std::int64_t ext[3] = {1, 1, 1}, out_ext[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1};
    for (int i = 0; i < spatial; ++i) {
        const std::int64_t n = x.size(2 + i), ki = kernel_shape[i], si = stride_shape[i];
        VGT_CHECK(ki >= 1 && si >= 1, "avg_pool", "expected positive kernel and stride, found kernel {} and stride {}",
                  kernel_shape, stride_shape);
        VGT_CHECK(ki <= n, "avg_pool",
                  "expected a kernel no larger than the input, found kernel {} for input of shape {}", kernel_shape,
                  x.shape());
        const int j = 3 - spatial + i;
        ext[j] = n;
        k[j] = ki;
        s[j] = si;
        out_ext[j] = (n - ki) / si + 1;
        out_shape[2 + i] = out_ext[j];
    }
    const kernels::AvgPoolGeometry geometry{ext[0], ext[1], ext[2], out_ext[0], out_ext[1], out_ext[2],
                                            k[0],   k[1],   k[2],   s[0],       s[1],       s[2]};

    const Tensor in = detail::contiguous_data(x);
    Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
    if (!x.device().is_cpu()) {
        cuda::avg_pool(in, out, geometry, "avg_pool");
    } else {
        dispatch_floating(x, "avg_pool", [&]<class T>() {
            const kernels::AvgPool<T> body{in.data<T>(), out.data<T>(), geometry};
            parallel_for(out.numel(), body, 1024);
        });
    }

    const Shape in_shape = x.shape();
    return autograd::record(out, "avg_pool", {x}, [in_shape, geometry](const Tensor& g) {
        const Tensor go = detail::contiguous_data(g);
        Tensor grad = Tensor::empty(in_shape, go.dtype(), go.device());
        if (!go.device().is_cpu()) {
            cuda::avg_pool_gradient(go, grad, geometry, "avg_pool");
            return std::vector<Tensor>{grad};
        }
        dispatch_floating(go, "avg_pool", [&]<class T>() {
            const kernels::AvgPoolBackward<T> body{go.data<T>(), grad.data<T>(), geometry};
            parallel_for(grad.numel(), body, 1024);
        });
        return std::vector<Tensor>{grad};
    });
}

/// avg_pool over L of [N, C, L]; the stride defaults to the kernel.
inline Tensor avg_pool1d(const Tensor& x, std::int64_t kernel) { return avg_pool(x, {kernel}); }
inline Tensor avg_pool1d(const Tensor& x, std::int64_t kernel, std::int64_t stride) {
    return avg_pool(x, {kernel}, {stride});
}
/// avg_pool over H and W of [N, C, H, W] with a square kernel.
inline Tensor avg_pool2d(const Tensor& x, std::int64_t kernel) { return avg_pool(x, {kernel, kernel}); }
inline Tensor avg_pool2d(const Tensor& x, std::int64_t kernel, std::int64_t stride) {
    return avg_pool(x, {kernel, kernel}, {stride, stride});
}
/// avg_pool over D, H and W of [N, C, D, H, W] with a cubic kernel.
inline Tensor avg_pool3d(const Tensor& x, std::int64_t kernel) { return avg_pool(x, {kernel, kernel, kernel}); }
inline Tensor avg_pool3d(const Tensor& x, std::int64_t kernel, std::int64_t stride) {
    return avg_pool(x, {kernel, kernel, kernel}, {stride, stride, stride});
}

/// Keeps every factors[i]-th element (from index 0) of spatial dimension i
/// of an [N, C, L], [N, C, H, W] or [N, C, D, H, W] tensor. A view of x.
inline Tensor downsample(const Tensor& x, const std::vector<std::int64_t>& factors) {
    VGT_CHECK(x.rank() >= 3 && x.rank() <= 5, "downsample",
              "expected a [N, C, L], [N, C, H, W] or [N, C, D, H, W] tensor, found shape {}", x.shape());
    const int spatial = x.rank() - 2;
    VGT_CHECK(static_cast<int>(factors.size()) == spatial, "downsample",
              "expected {} factors for input of shape {}, found {}", spatial, x.shape(), factors.size());
    for (std::int64_t f : factors)
        VGT_CHECK(f >= 1, "downsample", "expected positive factors, found {} for input of shape {}", Shape(factors),
                  x.shape());
    Tensor out = x;
    for (int i = 0; i < spatial; ++i) {
        const std::int64_t f = factors[static_cast<std::size_t>(i)];
        if (f > 1) out = slice(out, 2 + i, 0, x.size(2 + i), f);
    }
    return out;
}

/// The same factor along every spatial dimension.
inline Tensor downsample(const Tensor& x, std::int64_t factor) {
    VGT_CHECK(x.rank() >= 3 && x.rank() <= 5, "downsample",
              "expected a [N, C, L], [N, C, H, W] or [N, C, D, H, W] tensor, found shape {}", x.shape());
    return downsample(x, std::vector<std::int64_t>(static_cast<std::size_t>(x.rank() - 2), factor));
}

}  // namespace vgt
