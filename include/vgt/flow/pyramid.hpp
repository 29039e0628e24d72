#pragma once
// Gaussian image pyramids for coarse-to-fine flow estimation, and the
// pieces they are made of: separable Gaussian blur, halving, and carrying a
// flow field from a coarse level to the next finer one.
//
// Level 0 is the input; level l + 1 is level l blurred with a Gaussian of
// standard deviation `sigma` and sampled at its even rows and columns, so
// that pixel (x, y) of level l + 1 sits exactly on pixel (2x, 2y) of level
// l. A level of H rows has ⌈H/2⌉ rows below it. Borders replicate the edge
// pixel. These are image-processing steps of the estimators, not autograd
// operations: their outputs carry no gradient.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/pixel_loop.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::flow {

namespace kernels {

/// i clamped to [0, n): the replicated border.
VGT_HOST_DEVICE inline std::int64_t clamp_index(std::int64_t i, std::int64_t n) {
    return i < 0 ? 0 : (i >= n ? n - 1 : i);
}

/// plane[y, x] at a real point, bilinear; the point is clamped into the
/// plane first, so samples past the border read the edge (and a NaN
/// coordinate reads column or row 0 rather than an undefined cast).
template <class T>
VGT_HOST_DEVICE T bilinear_clamped(const T* plane, std::int64_t h, std::int64_t w, T x, T y) {
    x = !(x > T(0)) ? T(0) : (x > T(w - 1) ? T(w - 1) : x);
    y = !(y > T(0)) ? T(0) : (y > T(h - 1) ? T(h - 1) : y);
    const std::int64_t x0 = static_cast<std::int64_t>(x), y0 = static_cast<std::int64_t>(y);
    const std::int64_t x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    const T fx = x - T(x0), fy = y - T(y0);
    const T top = plane[y0 * w + x0] + fx * (plane[y0 * w + x1] - plane[y0 * w + x0]);
    const T bottom = plane[y1 * w + x0] + fx * (plane[y1 * w + x1] - plane[y1 * w + x0]);
    return top + fy * (bottom - top);
}

/// A 1-D filter of 2·radius + 1 taps along the rows (x) of [P, H, W]
/// planes, one call per output pixel.
template <class T>
struct RowFilter {
    const T* in;
    T* out;
    const T* taps;
    std::int64_t radius, h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const T* row = in + (n * h + y) * w;
        T acc = T(0);
        if (x >= radius && x + radius < w) {
            for (std::int64_t k = -radius; k <= radius; ++k) acc += taps[k + radius] * row[x + k];
        } else {
            for (std::int64_t k = -radius; k <= radius; ++k) acc += taps[k + radius] * row[clamp_index(x + k, w)];
        }
        out[(n * h + y) * w + x] = acc;
    }
};

/// The same filter along the columns (y).
template <class T>
struct ColumnFilter {
    const T* in;
    T* out;
    const T* taps;
    std::int64_t radius, h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const T* column = in + n * h * w + x;
        T acc = T(0);
        for (std::int64_t k = -radius; k <= radius; ++k) acc += taps[k + radius] * column[clamp_index(y + k, h) * w];
        out[(n * h + y) * w + x] = acc;
    }
};

/// out [P, ⌈H/2⌉, ⌈W/2⌉] = in [P, H, W] at even rows and columns; one call
/// per output pixel.
template <class T>
struct Decimate2 {
    const T* in;
    T* out;
    std::int64_t h, w, ho, wo;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        out[(n * ho + y) * wo + x] = in[(n * h + 2 * y) * w + 2 * x];
    }
};

/// A flow [N, 2, hc, wc] of a coarse level carried to the finer level
/// [N, 2, h, w] below it: fine pixel p sits at p/2 on the coarse grid, and
/// displacements double. One call per pixel of the fine planes [N·2, h, w].
template <class T>
struct UpsampleFlow2 {
    const T* coarse;
    T* fine;
    std::int64_t hc, wc, h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t plane, std::int64_t y, std::int64_t x) const {
        fine[(plane * h + y) * w + x] =
            T(2) * bilinear_clamped(coarse + plane * hc * wc, hc, wc, T(0.5) * T(x), T(0.5) * T(y));
    }
};

}  // namespace kernels

/// How a coarse-to-fine estimator builds its pyramid.
struct PyramidOptions {
    std::int64_t levels = 5;    // at most this many levels, the input included (1: no pyramid)
    std::int64_t min_size = 16;  // no level with a side shorter than this (the input excepted)
    double sigma = 1.0;          // Gaussian blur before each halving, in pixels of the finer level
};

/// Throws vgt::Error naming `op` when an option is out of range.
inline void check_options(const PyramidOptions& o, std::string_view op) {
    VGT_CHECK(o.levels >= 1 && o.levels <= 32, op, "expected pyramid levels in [1, 32], found {}", o.levels);
    VGT_CHECK(o.min_size >= 1, op, "expected a pyramid min_size of at least 1, found {}", o.min_size);
    VGT_CHECK(std::isfinite(o.sigma) && o.sigma >= 0.0 && o.sigma <= 10.0, op,
              "expected a pyramid sigma in [0, 10], found {}", o.sigma);
}

/// The number of levels a pyramid over h × w images has: halve while the
/// smaller side of the next level stays at least min_size.
inline std::int64_t pyramid_depth(std::int64_t h, std::int64_t w, const PyramidOptions& o) {
    std::int64_t depth = 1;
    while (depth < o.levels) {
        h = (h + 1) / 2;
        w = (w + 1) / 2;
        if (std::min(h, w) < o.min_size) break;
        ++depth;
    }
    return depth;
}

namespace detail {

/// Normalised Gaussian taps over [−⌈3σ⌉, ⌈3σ⌉]; a single tap 1 for σ = 0.
template <class T>
std::vector<T> gaussian_taps(double sigma) {
    if (sigma <= 0.0) return {T(1)};
    const std::int64_t radius = static_cast<std::int64_t>(std::ceil(3.0 * sigma));
    std::vector<double> taps(static_cast<std::size_t>(2 * radius + 1));
    double total = 0;
    for (std::int64_t k = -radius; k <= radius; ++k) {
        const double v = std::exp(-0.5 * static_cast<double>(k * k) / (sigma * sigma));
        taps[static_cast<std::size_t>(k + radius)] = v;
        total += v;
    }
    std::vector<T> out;
    for (double v : taps) out.push_back(static_cast<T>(v / total));
    return out;
}

/// Filters `count` planes h × w (contiguous at `in`) by `taps` along rows
/// then columns into `out`; `scratch` holds count·h·w elements.
template <class T>
void separable_filter(const T* in, T* out, T* scratch, std::int64_t count, std::int64_t h, std::int64_t w,
                      const std::vector<T>& taps) {
    const std::int64_t radius = static_cast<std::int64_t>(taps.size() / 2);
    for_each_pixel(count, h, w, kernels::RowFilter<T>{in, scratch, taps.data(), radius, h, w});
    for_each_pixel(count, h, w, kernels::ColumnFilter<T>{scratch, out, taps.data(), radius, h, w});
}

/// Planes [P, H, W] blurred with a Gaussian of σ (a copy for σ = 0).
template <class T>
Tensor blur_planes(const Tensor& planes, double sigma) {
    const std::int64_t p = planes.size(0), h = planes.size(1), w = planes.size(2);
    Tensor out = Tensor::empty(planes.shape(), planes.dtype());
    if (sigma <= 0.0) {
        std::copy(planes.data<T>(), planes.data<T>() + planes.numel(), out.data<T>());
        return out;
    }
    Tensor scratch = Tensor::empty(planes.shape(), planes.dtype());
    separable_filter(planes.data<T>(), out.data<T>(), scratch.data<T>(), p, h, w, gaussian_taps<T>(sigma));
    return out;
}

/// Planes [P, H, W] blurred and halved to [P, ⌈H/2⌉, ⌈W/2⌉].
template <class T>
Tensor halve_planes(const Tensor& planes, double sigma) {
    const std::int64_t p = planes.size(0), h = planes.size(1), w = planes.size(2);
    const std::int64_t ho = (h + 1) / 2, wo = (w + 1) / 2;
    const Tensor blurred = blur_planes<T>(planes, sigma);
    Tensor out = Tensor::empty(Shape{p, ho, wo}, planes.dtype());
    for_each_pixel(p, ho, wo, kernels::Decimate2<T>{blurred.data<T>(), out.data<T>(), h, w, ho, wo});
    return out;
}

/// The pyramid of planes [P, H, W]: level 0 is `planes` itself.
template <class T>
std::vector<Tensor> plane_pyramid(const Tensor& planes, const PyramidOptions& o) {
    std::vector<Tensor> levels{planes};
    const std::int64_t depth = pyramid_depth(planes.size(1), planes.size(2), o);
    for (std::int64_t l = 1; l < depth; ++l) levels.push_back(halve_planes<T>(levels.back(), o.sigma));
    return levels;
}

/// A flow [N, 2, hc, wc] carried to the finer level of h × w pixels.
template <class T>
Tensor upsample_flow_planes(const Tensor& coarse, std::int64_t h, std::int64_t w) {
    const std::int64_t n = coarse.size(0), hc = coarse.size(2), wc = coarse.size(3);
    Tensor fine = Tensor::empty(Shape{n, 2, h, w}, coarse.dtype());
    for_each_pixel(n * 2, h, w, kernels::UpsampleFlow2<T>{coarse.data<T>(), fine.data<T>(), hc, wc, h, w});
    return fine;
}

/// images viewed as contiguous planes [P, H, W] (P = product of the leading extents).
inline Tensor as_planes(const Tensor& images, std::string_view op) {
    VGT_CHECK(images.rank() >= 2, op, "expected images of shape [..., H, W], found {}", images.shape());
    VGT_CHECK(images.size(-1) > 0 && images.size(-2) > 0, op, "expected non-empty images, found shape {}",
              images.shape());
    const Tensor in = vgt::detail::contiguous_data(images);
    const Shape planes{in.numel() / (images.size(-1) * images.size(-2)), images.size(-2), images.size(-1)};
    return in.alias(planes, contiguous_strides(planes), in.offset());
}

}  // namespace detail

/// Images [..., H, W] blurred over their last two dimensions with a Gaussian
/// of standard deviation sigma pixels (borders replicated). No gradient.
inline Tensor gaussian_blur(const Tensor& images, double sigma) {
    VGT_CHECK(std::isfinite(sigma) && sigma >= 0.0 && sigma <= 100.0, "gaussian_blur",
              "expected a sigma in [0, 100], found {}", sigma);
    const Tensor planes = detail::as_planes(images, "gaussian_blur");
    return dispatch_floating(planes, "gaussian_blur", [&]<class T>() {
        const Tensor out = detail::blur_planes<T>(planes, sigma);
        return out.alias(images.shape(), contiguous_strides(images.shape()), 0);
    });
}

/// Images [..., H, W] blurred (sigma) and sampled at even rows and columns:
/// [..., ⌈H/2⌉, ⌈W/2⌉]. No gradient.
inline Tensor downsample2(const Tensor& images, double sigma = 1.0) {
    VGT_CHECK(std::isfinite(sigma) && sigma >= 0.0 && sigma <= 100.0, "downsample2",
              "expected a sigma in [0, 100], found {}", sigma);
    const Tensor planes = detail::as_planes(images, "downsample2");
    return dispatch_floating(planes, "downsample2", [&]<class T>() {
        const Tensor out = detail::halve_planes<T>(planes, sigma);
        Shape shape = images.shape();
        shape[shape.rank() - 2] = out.size(1);
        shape[shape.rank() - 1] = out.size(2);
        return out.alias(shape, contiguous_strides(shape), 0);
    });
}

/// The Gaussian pyramid of images [..., H, W]: level 0 is the input itself
/// (a contiguous copy of a strided view), each next level downsample2 of the
/// one before, as many as pyramid_depth allows. No gradient.
inline std::vector<Tensor> gaussian_pyramid(const Tensor& images, const PyramidOptions& options = {}) {
    check_options(options, "gaussian_pyramid");
    const Tensor planes = detail::as_planes(images, "gaussian_pyramid");
    return dispatch_floating(planes, "gaussian_pyramid", [&]<class T>() {
        std::vector<Tensor> levels = detail::plane_pyramid<T>(planes, options);
        for (Tensor& level : levels) {
            Shape shape = images.shape();
            shape[shape.rank() - 2] = level.size(1);
            shape[shape.rank() - 1] = level.size(2);
            level = level.alias(shape, contiguous_strides(shape), level.offset());
        }
        return levels;
    });
}

}  // namespace vgt::flow
