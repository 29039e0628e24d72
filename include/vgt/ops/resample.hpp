#pragma once
// Resizing the spatial dimensions of [N, C, ...] tensors, with PyTorch's
// index conventions (F.interpolate):
//   upsample_nearest   integer factors on [N, C, L], [N, C, H, W] or
//                      [N, C, D, H, W]: every element becomes a block;
//   upsample_bilinear  [N, C, H, W] to any size (up or down), with or
//                      without align_corners.
// Both work on the tensor as [P, D, H, W] planes (P = N·C, missing spatial
// dimensions of extent 1), which is a free reshape of the contiguous input.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/core/volume_index.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/resample_kernels.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

/// "[N, C, L], [N, C, H, W] or [N, C, D, H, W]" check shared by the
/// resampling ops; returns the number of spatial dimensions.
inline int spatial_rank_of(const Tensor& x, std::string_view op) {
    VGT_CHECK(x.rank() >= 3 && x.rank() <= 5, op,
              "expected a [N, C, L], [N, C, H, W] or [N, C, D, H, W] tensor, found shape {}", x.shape());
    return x.rank() - 2;
}

/// The taps of every output index of a linearly resized axis.
template <class T>
std::vector<kernels::LinearTap<T>> linear_taps(std::int64_t in_size, std::int64_t out_size, bool align_corners) {
    std::vector<kernels::LinearTap<T>> taps(static_cast<std::size_t>(out_size));
    for (std::int64_t i = 0; i < out_size; ++i)
        taps[static_cast<std::size_t>(i)] = kernels::linear_tap<T>(i, in_size, out_size, align_corners);
    return taps;
}

/// A tap table as raw bytes on `device`, for the GPU's kernels to read: the
/// same taps the CPU computed, so both devices weigh the same pixels alike.
template <class T>
Tensor tap_table(const std::vector<kernels::LinearTap<T>>& taps, Device device) {
    Tensor bytes = Tensor::empty(Shape{static_cast<std::int64_t>(taps.size() * sizeof(kernels::LinearTap<T>))},
                                 DType::UInt8, Device::cpu());
    std::memcpy(bytes.raw_data(), taps.data(), static_cast<std::size_t>(bytes.nbytes()));
    return to(bytes, device);
}

}  // namespace detail

/// Nearest-neighbour upsampling by an integer factor per spatial dimension
/// (`scales` has one entry per spatial dimension of x: L, H W, or D H W), as
/// F.interpolate(x, scale_factor=scales, mode='nearest').
inline Tensor upsample_nearest(const Tensor& x, const std::vector<std::int64_t>& scales) {
    const int spatial = detail::spatial_rank_of(x, "upsample_nearest");
    VGT_CHECK(static_cast<int>(scales.size()) == spatial, "upsample_nearest",
              "expected {} scale factors for input of shape {}, found {}", spatial, x.shape(), scales.size());
    for (std::int64_t s : scales)
        VGT_CHECK(s >= 1, "upsample_nearest", "expected positive integer scale factors, found {} for input of shape {}",
                  Shape(scales), x.shape());
    for (int i = 2; i < x.rank(); ++i)
        VGT_CHECK(x.size(i) > 0, "upsample_nearest", "expected non-empty spatial dimensions, found shape {}",
                  x.shape());

    // Pad to three spatial dimensions: [P, D, H, W] with missing ones = 1.
    std::int64_t ext[3] = {1, 1, 1}, fac[3] = {1, 1, 1};
    for (int i = 0; i < spatial; ++i) {
        ext[3 - spatial + i] = x.size(2 + i);
        fac[3 - spatial + i] = scales[static_cast<std::size_t>(i)];
    }
    Shape out_shape = x.shape();
    for (int i = 0; i < spatial; ++i) out_shape[2 + i] *= scales[static_cast<std::size_t>(i)];

    const Tensor in = detail::contiguous_data(x);
    Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
    const cuda::UpsampleShape planes{ext[0], ext[1], ext[2], fac[0], fac[1], fac[2]};
    if (!x.device().is_cpu()) {
        cuda::upsample_nearest(in, out, planes, "upsample_nearest");
    } else {
        dispatch_floating(x, "upsample_nearest", [&]<class T>() {
            const kernels::UpsampleNearestRows<T> body{in.data<T>(), out.data<T>(), ext[0], ext[1], ext[2],
                                                       fac[0],       fac[1],         fac[2]};
            const std::int64_t row = ext[2] * fac[2];
            parallel_for(out.numel() / row, body, std::max<std::int64_t>(1, 4096 / row));
        });
    }

    const Shape in_shape = x.shape();
    return autograd::record(out, "upsample_nearest", {x}, [in_shape, ext, fac, planes](const Tensor& g) {
        const Tensor go = detail::contiguous_data(g);
        Tensor grad = Tensor::empty(in_shape, go.dtype(), go.device());
        if (!go.device().is_cpu()) {
            cuda::upsample_nearest_gradient(go, grad, planes, "upsample_nearest");
            return std::vector<Tensor>{grad};
        }
        dispatch_floating(go, "upsample_nearest", [&]<class T>() {
            const kernels::UpsampleNearestBackward<T> body{go.data<T>(), grad.data<T>(), ext[0], ext[1], ext[2],
                                                           fac[0],       fac[1],         fac[2]};
            parallel_for(grad.numel(), body, 512);
        });
        return std::vector<Tensor>{grad};
    });
}

/// The same factor along every spatial dimension.
inline Tensor upsample_nearest(const Tensor& x, std::int64_t scale) {
    const int spatial = detail::spatial_rank_of(x, "upsample_nearest");
    return upsample_nearest(x, std::vector<std::int64_t>(static_cast<std::size_t>(spatial), scale));
}

/// Bilinear resize of [N, C, H, W] to [N, C, out_h, out_w], as
/// F.interpolate(x, size=(out_h, out_w), mode='bilinear', align_corners=...).
inline Tensor upsample_bilinear(const Tensor& x, std::int64_t out_h, std::int64_t out_w,
                                bool align_corners = false) {
    VGT_CHECK(x.rank() == 4, "upsample_bilinear", "expected a [N, C, H, W] tensor, found shape {}", x.shape());
    VGT_CHECK(out_h > 0 && out_w > 0, "upsample_bilinear",
              "expected a positive output size, found [{}, {}] for input of shape {}", out_h, out_w, x.shape());
    VGT_CHECK(x.size(2) > 0 && x.size(3) > 0, "upsample_bilinear", "expected non-empty H and W, found shape {}",
              x.shape());
    const std::int64_t planes = x.size(0) * x.size(1), h = x.size(2), w = x.size(3);
    const cuda::BilinearResizeShape shape{planes, h, w, out_h, out_w};

    const Tensor in = detail::contiguous_data(x);
    Tensor out = Tensor::empty(Shape{x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
    dispatch_floating(x.dtype(), "upsample_bilinear", [&]<class T>() {
        const auto rows = detail::linear_taps<T>(h, out_h, align_corners);
        const auto cols = detail::linear_taps<T>(w, out_w, align_corners);
        if (!x.device().is_cpu()) {
            cuda::upsample_bilinear(in, out, detail::tap_table(rows, x.device()), detail::tap_table(cols, x.device()),
                                    shape, "upsample_bilinear");
            return;
        }
        const kernels::UpsampleBilinear<T> body{in.data<T>(), out.data<T>(), rows.data(), cols.data(),
                                                h,            w,             out_h,       out_w};
        parallel_for(out.numel(), body);
    });

    const Shape in_shape = x.shape();
    return autograd::record(out, "upsample_bilinear", {x}, [=](const Tensor& g) {
        const Tensor go = detail::contiguous_data(g);
        Tensor grad = Tensor::empty(in_shape, go.dtype(), go.device());
        dispatch_floating(go.dtype(), "upsample_bilinear", [&]<class T>() {
            const auto rows = detail::linear_taps<T>(h, out_h, align_corners);
            const auto cols = detail::linear_taps<T>(w, out_w, align_corners);
            if (!go.device().is_cpu()) {
                cuda::upsample_bilinear_gradient(go, grad, detail::tap_table(rows, go.device()),
                                                 detail::tap_table(cols, go.device()), shape, "upsample_bilinear");
                return;
            }
            const kernels::UpsampleBilinearBackwardRows<T> body{go.data<T>(), grad.data<T>(), rows.data(), cols.data(),
                                                                h,            w,              out_h,       out_w};
            parallel_for(planes * h, body, 1);
        });
        return std::vector<Tensor>{grad};
    });
}

}  // namespace vgt
