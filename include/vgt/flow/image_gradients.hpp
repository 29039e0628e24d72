#pragma once
// Spatial derivatives of images for flow estimation: the five-point central
// difference
//
//     dI/dx (x) ≈ (I(x−2) − 8·I(x−1) + 8·I(x+1) − I(x+2)) / 12
//
// (exact for cubic polynomials, so far less biased on smooth texture than
// the three-point (I(x+1) − I(x−1)) / 2), borders replicated. The gradient
// of grayscale images [H, W] or [N, 1, H, W] has the flow layout: channel 0
// is d/dx, channel 1 d/dy. No gradient flows through it.

#include <cstdint>
#include <utility>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/pixel_loop.hpp"
#include "vgt/flow/pyramid.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::flow {

namespace kernels {

/// d/dx and d/dy of [P, H, W] planes, one call per pixel; gx and gy are
/// planes of the same layout.
template <class T>
struct ImageGradient {
    const T* image;
    T* gx;
    T* gy;
    std::int64_t h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const std::int64_t i = (n * h + y) * w + x;
        const T* row = image + (i - x);
        const T* column = image + (i - y * w);
        const T c1 = T(8) / T(12), c2 = T(1) / T(12);
        gx[i] = c1 * (row[clamp_index(x + 1, w)] - row[clamp_index(x - 1, w)]) -
                c2 * (row[clamp_index(x + 2, w)] - row[clamp_index(x - 2, w)]);
        gy[i] = c1 * (column[clamp_index(y + 1, h) * w] - column[clamp_index(y - 1, h) * w]) -
                c2 * (column[clamp_index(y + 2, h) * w] - column[clamp_index(y - 2, h) * w]);
    }
};

}  // namespace kernels

namespace detail {

/// The gradients of planes [P, H, W] as two stacks [P, H, W] (x, then y).
template <class T>
std::pair<Tensor, Tensor> plane_gradients(const Tensor& planes) {
    const std::int64_t h = planes.size(1), w = planes.size(2);
    Tensor gx = Tensor::empty(planes.shape(), planes.dtype());
    Tensor gy = Tensor::empty(planes.shape(), planes.dtype());
    for_each_pixel(planes.size(0), h, w, kernels::ImageGradient<T>{planes.data<T>(), gx.data<T>(), gy.data<T>(), h, w});
    return {gx, gy};
}

}  // namespace detail

/// The spatial gradient of images [H, W] (→ [2, H, W]) or [N, 1, H, W]
/// (→ [N, 2, H, W]); channel 0 is d/dx, channel 1 d/dy, per pixel.
inline Tensor image_gradients(const Tensor& images) {
    const bool batched = images.rank() == 4;
    VGT_CHECK(images.rank() == 2 || (batched && images.size(1) == 1), "image_gradients",
              "expected images of shape [H, W] or [N, 1, H, W], found {}", images.shape());
    const std::int64_t n = batched ? images.size(0) : 1, h = images.size(-2), w = images.size(-1);
    VGT_CHECK(n > 0 && h > 0 && w > 0, "image_gradients", "expected non-empty images, found shape {}",
              images.shape());
    const Tensor in = vgt::detail::contiguous_data(images);
    Tensor out = Tensor::empty(batched ? Shape{n, 2, h, w} : Shape{2, h, w}, images.dtype());
    dispatch_floating(images, "image_gradients", [&]<class T>() {
        const T* src = in.data<T>();
        T* dst = out.data<T>();
        for (std::int64_t k = 0; k < n; ++k)
            for_each_pixel(1, h, w,
                           kernels::ImageGradient<T>{src + k * h * w, dst + 2 * k * h * w, dst + (2 * k + 1) * h * w,
                                                     h, w});
    });
    return out;
}

}  // namespace vgt::flow
