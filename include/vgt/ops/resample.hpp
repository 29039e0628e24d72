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
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/core/volume_index.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/resample_kernels.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace kernels {

/// Output index `dst` of a linearly resized axis reads inputs i0 and i1 with
/// weights w0 and w1 (i1 == i0 at the last input).
template <class T>
struct LinearTap {
    std::int64_t i0, i1;
    T w0, w1;
};

/// PyTorch's source index of a linear resize: align_corners maps the corner
/// pixels' centres onto each other, otherwise the pixel edges (and sources
/// left of the first centre clamp to it).
template <class T>
VGT_HOST_DEVICE LinearTap<T> linear_tap(std::int64_t dst, std::int64_t in_size, std::int64_t out_size,
                                        bool align_corners) {
    T src;
    if (align_corners) {
        const T scale = out_size > 1 ? T(in_size - 1) / T(out_size - 1) : T(0);
        src = scale * T(dst);
    } else {
        const T scale = T(in_size) / T(out_size);
        src = scale * (T(dst) + T(0.5)) - T(0.5);
        if (src < T(0)) src = T(0);
    }
    LinearTap<T> tap;
    tap.i0 = static_cast<std::int64_t>(src);
    if (tap.i0 > in_size - 1) tap.i0 = in_size - 1;
    tap.i1 = tap.i0 + (tap.i0 < in_size - 1 ? 1 : 0);
    tap.w1 = src - T(tap.i0);
    tap.w0 = T(1) - tap.w1;
    return tap;
}

/// Bilinear resize of [P, H, W] planes, one call per output element.
template <class T>
struct UpsampleBilinear {
    const T* in;
    T* out;
    const LinearTap<T>* rows;  // one per output row
    const LinearTap<T>* cols;  // one per output column
    std::int64_t h, w, oh, ow;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t x = i % ow;
        const std::int64_t y = (i / ow) % oh;
        const std::int64_t p = i / (ow * oh);
        const T* plane = in + p * h * w;
        const LinearTap<T> r = rows[y], c = cols[x];
        out[i] = r.w0 * (c.w0 * plane[r.i0 * w + c.i0] + c.w1 * plane[r.i0 * w + c.i1]) +
                 r.w1 * (c.w0 * plane[r.i1 * w + c.i0] + c.w1 * plane[r.i1 * w + c.i1]);
    }
};

/// Its adjoint, one call per plane: scatters each output gradient onto its
/// four taps (planes are independent, so threads never collide).
template <class T>
struct UpsampleBilinearBackward {
    const T* grad_out;
    T* grad_in;
    const LinearTap<T>* rows;
    const LinearTap<T>* cols;
    std::int64_t h, w, oh, ow;
    VGT_HOST_DEVICE void operator()(std::int64_t p) const {
        T* plane = grad_in + p * h * w;
        for (std::int64_t k = 0; k < h * w; ++k) plane[k] = T(0);
        const T* g = grad_out + p * oh * ow;
        for (std::int64_t y = 0; y < oh; ++y) {
            const LinearTap<T> r = rows[y];
            for (std::int64_t x = 0; x < ow; ++x) {
                const LinearTap<T> c = cols[x];
                const T v = g[y * ow + x];
                plane[r.i0 * w + c.i0] += r.w0 * c.w0 * v;
                plane[r.i0 * w + c.i1] += r.w0 * c.w1 * v;
                plane[r.i1 * w + c.i0] += r.w1 * c.w0 * v;
                plane[r.i1 * w + c.i1] += r.w1 * c.w1 * v;
            }
        }
    }
};

}  // namespace kernels

namespace detail {

/// "[N, C, L], [N, C, H, W] or [N, C, D, H, W]" check shared by the
/// resampling ops; returns the number of spatial dimensions.
inline int spatial_rank_of(const Tensor& x, std::string_view op) {
    VGT_CHECK(x.rank() >= 3 && x.rank() <= 5, op,
              "expected a [N, C, L], [N, C, H, W] or [N, C, D, H, W] tensor, found shape {}", x.shape());
    return x.rank() - 2;
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

    const Tensor in = detail::contiguous_data(x);
    Tensor out = Tensor::empty(Shape{x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
    dispatch_floating(x, "upsample_bilinear", [&]<class T>() {
        std::vector<kernels::LinearTap<T>> rows(static_cast<std::size_t>(out_h)), cols(static_cast<std::size_t>(out_w));
        for (std::int64_t y = 0; y < out_h; ++y) rows[y] = kernels::linear_tap<T>(y, h, out_h, align_corners);
        for (std::int64_t c = 0; c < out_w; ++c) cols[c] = kernels::linear_tap<T>(c, w, out_w, align_corners);
        const kernels::UpsampleBilinear<T> body{in.data<T>(), out.data<T>(), rows.data(), cols.data(),
                                                h,            w,             out_h,       out_w};
        parallel_for(out.numel(), body);
    });

    const Shape in_shape = x.shape();
    return autograd::record(out, "upsample_bilinear", {x}, [=](const Tensor& g) {
        const Tensor go = detail::contiguous_data(g);
        Tensor grad = Tensor::empty(in_shape, go.dtype(), go.device());
        dispatch_floating(go, "upsample_bilinear", [&]<class T>() {
            std::vector<kernels::LinearTap<T>> rows(static_cast<std::size_t>(out_h)),
                cols(static_cast<std::size_t>(out_w));
            for (std::int64_t y = 0; y < out_h; ++y) rows[y] = kernels::linear_tap<T>(y, h, out_h, align_corners);
            for (std::int64_t c = 0; c < out_w; ++c) cols[c] = kernels::linear_tap<T>(c, w, out_w, align_corners);
            const kernels::UpsampleBilinearBackward<T> body{go.data<T>(), grad.data<T>(), rows.data(), cols.data(),
                                                            h,            w,              out_h,       out_w};
            parallel_for(planes, body, 1);
        });
        return std::vector<Tensor>{grad};
    });
}

}  // namespace vgt
