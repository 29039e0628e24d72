#pragma once
// Reductions (sum, mean, max over dimensions) and their adjoint, expand.
// Reduced dimensions are moved innermost and each output element sums one
// contiguous run, accumulating in double.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/argmax_kernels.hpp"
#include "vgt/ops/map.hpp"
#include "vgt/ops/strided_loop.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

/// Sorted, unique, non-negative dimensions; empty `dims` means all of them.
inline std::vector<int> reduction_dims(const Tensor& x, const std::vector<int>& dims, std::string_view op) {
    std::vector<int> out;
    if (dims.empty()) {
        for (int i = 0; i < x.rank(); ++i) out.push_back(i);
        return out;
    }
    for (int d : dims) out.push_back(x.shape().normalize_dim(d, op));
    std::sort(out.begin(), out.end());
    VGT_CHECK(std::adjacent_find(out.begin(), out.end()) == out.end(), op, "expected distinct dimensions");
    return out;
}

/// x viewed with the kept dimensions first and the reduced ones last, as a
/// contiguous [kept, reduced] matrix; also returns the output shape.
struct ReductionLayout {
    Tensor rows;  // contiguous, shape [outer, inner]
    Shape kept_shape;  // with keepdim
    Shape squeezed_shape;  // without
};

inline ReductionLayout reduction_layout(const Tensor& x, const std::vector<int>& dims) {
    std::vector<int> order;
    std::vector<bool> reduced(x.rank(), false);
    for (int d : dims) reduced[d] = true;
    ReductionLayout layout;
    std::int64_t outer = 1, inner = 1;
    for (int i = 0; i < x.rank(); ++i) {
        if (!reduced[i]) {
            order.push_back(i);
            outer *= x.size(i);
            layout.kept_shape.push_back(x.size(i));
            layout.squeezed_shape.push_back(x.size(i));
        } else {
            layout.kept_shape.push_back(1);
        }
    }
    for (int d : dims) {
        order.push_back(d);
        inner *= x.size(d);
    }
    NoGradGuard no_grad;
    Tensor moved = contiguous_data(permute(x, order));
    layout.rows = moved.alias(Shape{outer, inner}, contiguous_strides(Shape{outer, inner}), moved.offset());
    return layout;
}

/// s·x as a new contiguous tensor; records nothing.
inline Tensor scale(const Tensor& x, double s) {
    if (!x.device().is_cpu()) return cuda::unary(x, kernels::MulScalar{s}, "scale");
    return map_unary(x, [s](auto v) { return static_cast<decltype(v)>(v * s); }, "scale");
}

}  // namespace detail

inline Tensor sum_to(const Tensor& g, const Shape& shape);

/// Views x at a larger `shape`: extents of 1 and missing leading dimensions
/// repeat without copying (stride 0).
inline Tensor expand(const Tensor& x, const Shape& shape) {
    VGT_CHECK(shape.rank() >= x.rank(), "expand", "expected a target rank of at least {}, found {} for {}", x.rank(),
              shape, x.shape());
    const Shape full = detail::broadcast_shapes(x.shape(), shape, "expand");
    VGT_CHECK(full == shape, "expand", "cannot expand {} to {}", x.shape(), shape);
    Tensor out = x.alias(shape, detail::broadcast_strides(x, shape), x.offset());
    const Shape in_shape = x.shape();
    return autograd::record(out, "expand", {x}, [in_shape](const Tensor& g) {
        return std::vector<Tensor>{sum_to(g, in_shape)};
    });
}

/// Sum over `dims` (all when empty).
inline Tensor sum(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false) {
    const auto rdims = detail::reduction_dims(x, dims, "sum");
    const auto layout = detail::reduction_layout(x, rdims);
    Tensor out = Tensor::empty(keepdim ? layout.kept_shape : layout.squeezed_shape, x.dtype(), x.device());
    if (!x.device().is_cpu()) {
        cuda::sum_rows(layout.rows, out, "sum");
    } else {
        dispatch_floating(x, "sum", [&]<class T>() {
            const T* in = layout.rows.data<T>();
            T* o = out.data<T>();
            const std::int64_t inner = layout.rows.size(1);
            parallel_for_chunks(0, layout.rows.size(0),
                                std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(inner, 1)),
                                [&](std::int64_t lo, std::int64_t hi) {
                                    for (std::int64_t r = lo; r < hi; ++r) {
                                        double acc = 0;
                                        const T* p = in + r * inner;
                                        for (std::int64_t i = 0; i < inner; ++i) acc += p[i];
                                        o[r] = static_cast<T>(acc);
                                    }
                                });
        });
    }
    const Shape in_shape = x.shape();
    const Shape kept_shape = layout.kept_shape;
    return autograd::record(out, "sum", {x}, [in_shape, kept_shape](const Tensor& g) {
        return std::vector<Tensor>{contiguous(expand(reshape(g, kept_shape), in_shape))};
    });
}

/// Sums g over the dimensions that broadcasting added to reach g's shape, so
/// that the result has `shape` (the adjoint of broadcasting).
inline Tensor sum_to(const Tensor& g, const Shape& shape) {
    if (g.shape() == shape) return g;
    const int lead = g.rank() - shape.rank();
    VGT_CHECK(lead >= 0, "sum_to", "expected a target rank of at most {}, found {}", g.rank(), shape);
    std::vector<int> dims;
    for (int i = 0; i < g.rank(); ++i) {
        if (i < lead) dims.push_back(i);
        else if (shape[i - lead] == 1 && g.size(i) != 1) dims.push_back(i);
        else
            VGT_CHECK(shape[i - lead] == g.size(i), "sum_to", "cannot reduce {} to {}", g.shape(), shape);
    }
    if (dims.empty()) return reshape(g, shape);
    return reshape(sum(g, dims, true), shape);
}

/// Mean over `dims` (all when empty).
inline Tensor mean(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false) {
    const auto rdims = detail::reduction_dims(x, dims, "mean");
    std::int64_t count = 1;
    for (int d : rdims) count *= x.size(d);
    VGT_CHECK(count > 0, "mean", "expected a non-empty reduction, found shape {}", x.shape());
    const double scale = 1.0 / static_cast<double>(count);
    Tensor out;
    {
        NoGradGuard no_grad;
        out = detail::scale(sum(x, rdims, keepdim), scale);
    }
    const Shape in_shape = x.shape();
    Shape kept = x.shape();
    for (int d : rdims) kept[d] = 1;
    return autograd::record(out, "mean", {x}, [in_shape, kept, scale](const Tensor& g) {
        return std::vector<Tensor>{detail::scale(expand(reshape(g, kept), in_shape), scale)};
    });
}

namespace detail {

/// The first maximum of every row of a reduction layout: its index (int64)
/// and, when `value` is defined, its value.
inline void argmax_of_rows(const Tensor& rows, const Tensor& index, const Tensor& value, std::string_view op) {
    if (!rows.device().is_cpu()) {
        cuda::argmax_rows(rows, index, value, op);
        return;
    }
    dispatch_floating(rows, op, [&]<class T>() {
        const kernels::ArgmaxRows<T> body{rows.data<T>(), index.data<std::int64_t>(),
                                          value.defined() ? value.data<T>() : nullptr, rows.size(1)};
        parallel_for(rows.size(0), body, 256);
    });
}

}  // namespace detail

/// Index of the largest element along `dim` (the first one on ties), as int64.
inline Tensor argmax(const Tensor& x, int dim, bool keepdim = false) {
    const int d = x.shape().normalize_dim(dim, "argmax");
    VGT_CHECK(x.size(d) > 0, "argmax", "expected a non-empty dimension {}, found shape {}", d, x.shape());
    const auto layout = detail::reduction_layout(x, {d});
    Tensor out = Tensor::empty(keepdim ? layout.kept_shape : layout.squeezed_shape, DType::Int64, x.device());
    detail::argmax_of_rows(layout.rows, out, Tensor{}, "argmax");
    return out;
}

/// Largest element along `dim`; the gradient flows to the first maximum.
inline Tensor max(const Tensor& x, int dim, bool keepdim = false) {
    const int d = x.shape().normalize_dim(dim, "max");
    VGT_CHECK(x.size(d) > 0, "max", "expected a non-empty dimension {}, found shape {}", d, x.shape());
    const auto layout = detail::reduction_layout(x, {d});
    Tensor index = Tensor::empty(layout.kept_shape, DType::Int64, x.device());
    Tensor out = Tensor::empty(keepdim ? layout.kept_shape : layout.squeezed_shape, x.dtype(), x.device());
    detail::argmax_of_rows(layout.rows, index, out, "max");

    const Shape in_shape = x.shape();
    const Shape kept_shape = layout.kept_shape;
    std::int64_t after = 1;
    for (int i = d + 1; i < in_shape.rank(); ++i) after *= in_shape[i];
    return autograd::record(out, "max", {x}, [=](const Tensor& g) {
        // g into the maxima of a zero tensor laid out as x, seen as [before, extent, after].
        Tensor grad = Tensor::zeros(in_shape, g.dtype(), g.device());
        const Tensor moved = detail::contiguous_data(reshape(g, kept_shape));
        const std::int64_t extent = in_shape[d];
        if (!moved.device().is_cpu()) {
            cuda::scatter_to_argmax(moved, index, grad, extent, after, "max");
            return std::vector<Tensor>{grad};
        }
        dispatch_floating(moved, "max", [&]<class T>() {
            const kernels::ScatterToArgmax<T> body{moved.data<T>(), index.data<std::int64_t>(), grad.data<T>(), extent,
                                                   after};
            parallel_for(moved.numel(), body);
        });
        return std::vector<Tensor>{grad};
    });
}

/// Largest element of the whole tensor, as a rank-0 tensor.
inline Tensor max(const Tensor& x) { return max(reshape(x, Shape{-1}), 0, false); }

}  // namespace vgt
