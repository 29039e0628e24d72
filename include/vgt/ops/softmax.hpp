#pragma once
// softmax and log_softmax along any dimension, with fused backward passes.
//
// A tensor seen along dimension d is [outer, extent, inner]: each of the
// outer·inner lines holds `extent` elements `inner` apart. The kernel bodies
// work on a tile of `width` adjacent lines at once, so that for inner > 1
// the innermost loop runs over contiguous memory. The usual last-dimension
// case (inner == 1: contiguous lines) runs on the CPU through Eigen arrays,
// whose exp() is vectorised; the tests cover both paths.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/pointwise_arrays.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace kernels {

/// Lines handled together by one call of a line body (bounds its scratch).
inline constexpr std::int64_t kLineTile = 64;

/// Forward softmax (or log-softmax) of `width` ≤ kLineTile adjacent lines:
/// line c holds x[c + k·stride] for k < extent. Subtracting the line's
/// maximum keeps exp() finite; sums accumulate in double.
struct SoftmaxLines {
    bool log;
    template <class T>
    VGT_HOST_DEVICE void operator()(const T* x, T* y, std::int64_t extent, std::int64_t stride,
                                    std::int64_t width) const {
        T line_max[kLineTile];
        double total[kLineTile];
        for (std::int64_t c = 0; c < width; ++c) {
            line_max[c] = -std::numeric_limits<T>::infinity();
            total[c] = 0;
        }
        for (std::int64_t k = 0; k < extent; ++k) {
            const T* row = x + k * stride;
            for (std::int64_t c = 0; c < width; ++c) line_max[c] = row[c] > line_max[c] ? row[c] : line_max[c];
        }
        for (std::int64_t k = 0; k < extent; ++k) {
            const T* row = x + k * stride;
            T* out = y + k * stride;
            for (std::int64_t c = 0; c < width; ++c) {
                const T e = std::exp(row[c] - line_max[c]);
                if (!log) out[c] = e;
                total[c] += e;
            }
        }
        T factor[kLineTile];
        if (log) {
            // log softmax = (x − max) − log Σ exp(x − max); subtracting the
            // max first keeps the small differences exact.
            for (std::int64_t c = 0; c < width; ++c) factor[c] = static_cast<T>(std::log(total[c]));
            for (std::int64_t k = 0; k < extent; ++k) {
                const T* row = x + k * stride;
                T* out = y + k * stride;
                for (std::int64_t c = 0; c < width; ++c) out[c] = (row[c] - line_max[c]) - factor[c];
            }
        } else {
            for (std::int64_t c = 0; c < width; ++c) factor[c] = static_cast<T>(1.0 / total[c]);
            for (std::int64_t k = 0; k < extent; ++k) {
                T* out = y + k * stride;
                for (std::int64_t c = 0; c < width; ++c) out[c] *= factor[c];
            }
        }
    }
};

/// Backward of SoftmaxLines given its output y and the upstream gradient g:
///   softmax:     dx = y ⊙ (g − Σ g⊙y)
///   log-softmax: dx = g − exp(y) · Σ g
struct SoftmaxBackwardLines {
    bool log;
    template <class T>
    VGT_HOST_DEVICE void operator()(const T* y, const T* g, T* dx, std::int64_t extent, std::int64_t stride,
                                    std::int64_t width) const {
        double total[kLineTile];
        for (std::int64_t c = 0; c < width; ++c) total[c] = 0;
        for (std::int64_t k = 0; k < extent; ++k) {
            const T* yr = y + k * stride;
            const T* gr = g + k * stride;
            for (std::int64_t c = 0; c < width; ++c) total[c] += log ? gr[c] : gr[c] * yr[c];
        }
        T t[kLineTile];
        for (std::int64_t c = 0; c < width; ++c) t[c] = static_cast<T>(total[c]);
        for (std::int64_t k = 0; k < extent; ++k) {
            const T* yr = y + k * stride;
            const T* gr = g + k * stride;
            T* out = dx + k * stride;
            if (log)
                for (std::int64_t c = 0; c < width; ++c) out[c] = gr[c] - std::exp(yr[c]) * t[c];
            else
                for (std::int64_t c = 0; c < width; ++c) out[c] = yr[c] * (gr[c] - t[c]);
        }
    }
};

}  // namespace kernels

namespace detail {

/// A contiguous tensor seen along one dimension as [outer, extent, inner].
struct DimLayout {
    std::int64_t outer = 1;
    std::int64_t extent = 1;
    std::int64_t inner = 1;
    /// Offset of element k of line `line` (line = o·inner + s).
    std::int64_t offset(std::int64_t line, std::int64_t k) const {
        return (line / inner * extent + k) * inner + line % inner;
    }
};

/// The layout of `shape` along `dim` (a rank-0 tensor is one line of one element).
inline DimLayout dim_layout(const Shape& shape, int dim, std::string_view op) {
    DimLayout layout;
    if (shape.rank() == 0) {
        VGT_CHECK(dim == 0 || dim == -1, op, "expected dimension 0 or -1 of a rank-0 tensor, found {}", dim);
        return layout;
    }
    VGT_CHECK(dim >= -shape.rank() && dim < shape.rank(), op,
              "expected a dimension in [{}, {}) for input of shape {}, found {}", -shape.rank(), shape.rank(), shape,
              dim);
    const int d = dim < 0 ? dim + shape.rank() : dim;
    for (int i = 0; i < d; ++i) layout.outer *= shape[i];
    layout.extent = shape[d];
    for (int i = d + 1; i < shape.rank(); ++i) layout.inner *= shape[i];
    return layout;
}

/// Calls f(first element offset, width) for every tile of adjacent lines,
/// in parallel. Tiles never cross an outer slice.
template <class F>
void for_each_line_tile(const DimLayout& layout, F&& f) {
    const std::int64_t tile = std::min(layout.inner, kernels::kLineTile);
    if (tile == 0 || layout.outer == 0 || layout.extent == 0) return;
    const std::int64_t tiles_per_slice = (layout.inner + tile - 1) / tile;
    const std::int64_t items = layout.outer * tiles_per_slice;
    const std::int64_t grain = std::max<std::int64_t>(1, 16384 / (layout.extent * tile));
    parallel_for_chunks(0, items, grain, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t item = lo; item < hi; ++item) {
            const std::int64_t o = item / tiles_per_slice;
            const std::int64_t c0 = (item % tiles_per_slice) * tile;
            f(o * layout.extent * layout.inner + c0, std::min(tile, layout.inner - c0));
        }
    });
}

/// Calls f(line index) for each of the `lines` contiguous lines of `extent` elements, in parallel.
template <class F>
void for_each_contiguous_line(std::int64_t lines, std::int64_t extent, F&& f) {
    parallel_for(lines, f, std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(extent, 1)));
}

/// softmax / log-softmax of contiguous `x` along a layout, into a new tensor. Records nothing.
inline Tensor softmax_forward(const Tensor& x, const DimLayout& layout, bool log, std::string_view op) {
    if (!x.device().is_cpu()) return cuda::softmax(x, layout.outer, layout.extent, layout.inner, log, op);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    dispatch_floating(x, op, [&]<class T>() {
        const T* in = x.data<T>();
        T* o = out.data<T>();
        const std::int64_t n = layout.extent;
        if (layout.inner == 1 && n > 0) {
            for_each_contiguous_line(layout.outer, n, [&](std::int64_t r) {
                const ConstArrayMap<T> xr(in + r * n, n);
                ArrayMap<T> yr(o + r * n, n);
                const T m = xr.maxCoeff();
                if (log) {
                    const T log_total = std::log((xr - m).exp().sum());
                    yr = (xr - m) - log_total;
                } else {
                    yr = exp_flushed(xr - m);
                    yr *= T(1) / yr.sum();
                }
            });
            return;
        }
        const kernels::SoftmaxLines body{log};
        for_each_line_tile(layout, [&](std::int64_t first, std::int64_t width) {
            body(in + first, o + first, layout.extent, layout.inner, width);
        });
    });
    return out;
}

/// Gradient of softmax_forward given its output `y` and contiguous `g`. Records nothing.
inline Tensor softmax_backward(const Tensor& y, const Tensor& g, const DimLayout& layout, bool log,
                               std::string_view op) {
    if (!y.device().is_cpu()) return cuda::softmax_gradient(y, g, layout.outer, layout.extent, layout.inner, log, op);
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    dispatch_floating(y, op, [&]<class T>() {
        const T* py = y.data<T>();
        const T* pg = g.data<T>();
        T* o = dx.data<T>();
        const std::int64_t n = layout.extent;
        if (layout.inner == 1 && n > 0) {
            for_each_contiguous_line(layout.outer, n, [&](std::int64_t r) {
                const ConstArrayMap<T> yr(py + r * n, n);
                const ConstArrayMap<T> gr(pg + r * n, n);
                ArrayMap<T> dr(o + r * n, n);
                if (log) dr = gr - yr.exp() * gr.sum();
                else dr = yr * (gr - (gr * yr).sum());
            });
            return;
        }
        const kernels::SoftmaxBackwardLines body{log};
        for_each_line_tile(layout, [&](std::int64_t first, std::int64_t width) {
            body(py + first, pg + first, o + first, layout.extent, layout.inner, width);
        });
    });
    return dx;
}

inline Tensor softmax_op(const Tensor& x, int dim, bool log, const char* op) {
    const DimLayout layout = dim_layout(x.shape(), dim, op);
    Tensor out = softmax_forward(contiguous_data(x), layout, log, op);
    if (!autograd::any_requires_grad({x})) return out;
    Tensor y = detach(out);
    return autograd::record(out, op, {x}, [y, layout, log, op](const Tensor& g) {
        return std::vector<Tensor>{softmax_backward(y, contiguous_data(g), layout, log, op)};
    });
}

}  // namespace detail

/// exp(x) / Σ exp(x) along `dim` (negative counts from the end).
inline Tensor softmax(const Tensor& x, int dim) { return detail::softmax_op(x, dim, false, "softmax"); }

/// log(softmax(x, dim)), computed as x − logsumexp(x) without forming softmax.
inline Tensor log_softmax(const Tensor& x, int dim) { return detail::softmax_op(x, dim, true, "log_softmax"); }

}  // namespace vgt
