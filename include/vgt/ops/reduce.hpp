#pragma once
// Reductions (sum, mean, max over dimensions) and their adjoint, expand.
// Reduced dimensions are moved innermost and each output element sums one
// contiguous run, accumulating in double.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/cuda/tensor_ops.hpp"
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

/// Index of the largest element along `dim` (the first one on ties), as int64.
inline Tensor argmax(const Tensor& x, int dim, bool keepdim = false) {
    const int d = x.shape().normalize_dim(dim, "argmax");
    VGT_CHECK(x.size(d) > 0, "argmax", "expected a non-empty dimension {}, found shape {}", d, x.shape());
    const auto layout = detail::reduction_layout(x, {d});
    Tensor out = Tensor::empty(keepdim ? layout.kept_shape : layout.squeezed_shape, DType::Int64, x.device());
    dispatch_floating(x, "argmax", [&]<class T>() {
        const T* in = layout.rows.data<T>();
        std::int64_t* o = out.data<std::int64_t>();
        const std::int64_t inner = layout.rows.size(1);
        parallel_for(layout.rows.size(0), [&](std::int64_t r) {
            const T* p = in + r * inner;
            std::int64_t best = 0;
            for (std::int64_t i = 1; i < inner; ++i)
                if (p[i] > p[best]) best = i;
            o[r] = best;
        }, 256);
    });
    return out;
}

/// Largest element along `dim`; the gradient flows to the first maximum.
inline Tensor max(const Tensor& x, int dim, bool keepdim = false) {
    const int d = x.shape().normalize_dim(dim, "max");
    Tensor index = argmax(x, d, true);
    const auto layout = detail::reduction_layout(x, {d});
    Tensor out = Tensor::empty(keepdim ? layout.kept_shape : layout.squeezed_shape, x.dtype(), x.device());
    dispatch_floating(x, "max", [&]<class T>() {
        const T* in = layout.rows.data<T>();
        const std::int64_t* idx = index.data<std::int64_t>();
        T* o = out.data<T>();
        const std::int64_t inner = layout.rows.size(1);
        for (std::int64_t r = 0; r < layout.rows.size(0); ++r) o[r] = in[r * inner + idx[r]];
    });
    const Shape in_shape = x.shape();
    const Shape kept_shape = layout.kept_shape;
    const DType dtype = x.dtype();
    return autograd::record(out, "max", {x}, [=](const Tensor& g) {
        // Scatter g into the argmax positions of a zero tensor laid out as x.
        Tensor grad = Tensor::zeros(in_shape, dtype);
        Tensor moved = detail::contiguous_data(reshape(g, kept_shape));
        std::int64_t before = 1, after = 1;
        for (int i = 0; i < d; ++i) before *= in_shape[i];
        for (int i = d + 1; i < in_shape.rank(); ++i) after *= in_shape[i];
        const std::int64_t extent = in_shape[d];
        dispatch_floating(dtype, "max", [&]<class T>() {
            T* pg = grad.data<T>();
            const T* pin = moved.data<T>();
            const std::int64_t* idx = index.data<std::int64_t>();
            for (std::int64_t b = 0; b < before; ++b)
                for (std::int64_t a = 0; a < after; ++a) {
                    const std::int64_t r = b * after + a;
                    pg[(b * extent + idx[r]) * after + a] = pin[r];
                }
        });
        return std::vector<Tensor>{grad};
    });
}

/// Largest element of the whole tensor, as a rank-0 tensor.
inline Tensor max(const Tensor& x) { return max(reshape(x, Shape{-1}), 0, false); }

}  // namespace vgt
