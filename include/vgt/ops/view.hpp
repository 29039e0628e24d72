#pragma once
// Shape operations. reshape (of a contiguous tensor), slice, select,
// permute, transpose, unsqueeze, squeeze and expand return views that share
// storage with their input; contiguous(), clone() and to() copy. Writes
// through a view are visible in its base. All of them record on the tape.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/strided_copy.hpp"

namespace vgt {

namespace detail {

/// A contiguous copy of `t`'s data, or `t` itself when already contiguous. No autograd.
inline Tensor contiguous_data(const Tensor& t) {
    if (t.is_contiguous()) return t;
    Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
    copy_strided(out, t);
    return out;
}

/// Resolves one -1 in a requested shape against a number of elements.
inline Shape infer_shape(const Shape& requested, std::int64_t numel, std::string_view op) {
    Shape shape = requested;
    int unknown = -1;
    std::int64_t known = 1;
    for (int i = 0; i < shape.rank(); ++i) {
        if (shape[i] == -1) {
            VGT_CHECK(unknown < 0, op, "expected at most one -1 in the shape, found {}", requested);
            unknown = i;
        } else {
            VGT_CHECK(shape[i] >= 0, op, "expected non-negative extents, found {}", requested);
            known *= shape[i];
        }
    }
    if (unknown >= 0) {
        VGT_CHECK(known > 0 && numel % known == 0, op, "cannot infer -1 in {} for {} elements", requested, numel);
        shape[unknown] = numel / known;
    }
    VGT_CHECK(shape.numel() == numel, op, "expected a shape with {} elements, found {} ({} elements)", numel, shape,
              shape.numel());
    return shape;
}

}  // namespace detail

/// Same data, new shape (one extent may be -1). A view when `x` is
/// contiguous, otherwise a copy.
inline Tensor reshape(const Tensor& x, const Shape& shape) {
    const Shape target = detail::infer_shape(shape, x.numel(), "reshape");
    Tensor base = detail::contiguous_data(x);
    Tensor out = base.alias(target, contiguous_strides(target), base.offset());
    const Shape in_shape = x.shape();
    return autograd::record(out, "reshape", {x}, [in_shape](const Tensor& g) {
        return std::vector<Tensor>{reshape(g, in_shape)};
    });
}

/// Collapses dimensions [start, end] into one.
inline Tensor flatten(const Tensor& x, int start = 0, int end = -1) {
    if (x.rank() == 0) return reshape(x, Shape{1});
    const int s = x.shape().normalize_dim(start, "flatten");
    const int e = x.shape().normalize_dim(end, "flatten");
    VGT_CHECK(s <= e, "flatten", "expected start <= end, found {} > {}", s, e);
    Shape shape;
    for (int i = 0; i < s; ++i) shape.push_back(x.size(i));
    std::int64_t merged = 1;
    for (int i = s; i <= e; ++i) merged *= x.size(i);
    shape.push_back(merged);
    for (int i = e + 1; i < x.rank(); ++i) shape.push_back(x.size(i));
    return reshape(x, shape);
}

/// Elements start, start+step, ... (< end) of dimension `dim`; a view.
/// Negative start/end count from the end, and both are clamped to the extent.
inline Tensor slice(const Tensor& x, int dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) {
    const int d = x.shape().normalize_dim(dim, "slice");
    const std::int64_t n = x.size(d);
    VGT_CHECK(step >= 1, "slice", "expected a positive step, found {}", step);
    if (start < 0) start += n;
    if (end < 0) end += n;
    start = std::clamp<std::int64_t>(start, 0, n);
    end = std::clamp<std::int64_t>(end, start, n);
    Shape shape = x.shape();
    Strides strides = x.strides();
    shape[d] = (end - start + step - 1) / step;
    strides[d] = x.strides()[d] * step;
    Tensor out = x.alias(shape, strides, x.offset() + start * x.strides()[d]);
    const Shape in_shape = x.shape();
    const DType dtype = x.dtype();
    const Device device = x.device();
    return autograd::record(out, "slice", {x}, [=](const Tensor& g) {
        Tensor grad = Tensor::zeros(in_shape, dtype, device);
        detail::copy_strided(slice(grad, d, start, end, step), g);
        return std::vector<Tensor>{grad};
    });
}

/// Moves dimension i of the result to position dims[i] of the input; a view.
inline Tensor permute(const Tensor& x, const std::vector<int>& dims) {
    VGT_CHECK(static_cast<int>(dims.size()) == x.rank(), "permute", "expected {} dimensions for a tensor of shape {}, found {}",
              x.rank(), x.shape(), dims.size());
    std::vector<int> order(dims.size());
    std::vector<bool> seen(dims.size(), false);
    Shape shape;
    Strides strides;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        const int d = x.shape().normalize_dim(dims[i], "permute");
        VGT_CHECK(!seen[d], "permute", "expected each dimension once, found {} twice", d);
        seen[d] = true;
        order[i] = d;
        shape.push_back(x.size(d));
        strides.push_back(x.strides()[d]);
    }
    Tensor out = x.alias(shape, strides, x.offset());
    return autograd::record(out, "permute", {x}, [order](const Tensor& g) {
        std::vector<int> inverse(order.size());
        for (std::size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
        return std::vector<Tensor>{permute(g, inverse)};
    });
}

/// Swaps two dimensions; a view.
inline Tensor transpose(const Tensor& x, int dim0, int dim1) {
    std::vector<int> order(x.rank());
    for (int i = 0; i < x.rank(); ++i) order[i] = i;
    std::swap(order[x.shape().normalize_dim(dim0, "transpose")], order[x.shape().normalize_dim(dim1, "transpose")]);
    return permute(x, order);
}

/// Inserts a dimension of extent 1 at `dim` (which may equal rank); a view.
inline Tensor unsqueeze(const Tensor& x, int dim) {
    const int d = dim < 0 ? dim + x.rank() + 1 : dim;
    VGT_CHECK(d >= 0 && d <= x.rank(), "unsqueeze", "expected a dimension in [{}, {}], found {}", -x.rank() - 1,
              x.rank(), dim);
    Shape shape = x.shape();
    shape.insert(d, 1);
    return reshape(x, shape);
}

/// Removes dimension `dim`, which must have extent 1; a view.
inline Tensor squeeze(const Tensor& x, int dim) {
    const int d = x.shape().normalize_dim(dim, "squeeze");
    VGT_CHECK(x.size(d) == 1, "squeeze", "expected dimension {} of {} to have extent 1, found {}", d, x.shape(),
              x.size(d));
    Shape shape = x.shape();
    shape.erase(d);
    return reshape(x, shape);
}

/// Index `index` of dimension `dim`, with that dimension removed; a view.
inline Tensor select(const Tensor& x, int dim, std::int64_t index) {
    const int d = x.shape().normalize_dim(dim, "select");
    const std::int64_t n = x.size(d);
    VGT_CHECK(index >= -n && index < n, "select", "expected an index in [{}, {}) of dimension {} of {}, found {}", -n,
              n, d, x.shape(), index);
    if (index < 0) index += n;
    return squeeze(slice(x, d, index, index + 1), d);
}

/// A contiguous tensor with x's values (x itself when already contiguous).
inline Tensor contiguous(const Tensor& x) {
    if (x.is_contiguous()) return x;
    Tensor out = detail::contiguous_data(x);
    return autograd::record(out, "contiguous", {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

/// A contiguous copy that shares no storage with x.
inline Tensor clone(const Tensor& x) {
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    detail::copy_strided(out, x);
    return autograd::record(out, "clone", {x}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

/// The same tensor cut off from the tape: no gradient flows through it.
inline Tensor detach(const Tensor& x) { return x.alias(x.shape(), x.strides(), x.offset()); }

namespace detail {
inline Tensor convert_dtype(const Tensor& x, DType dtype) {
    VGT_CHECK(x.device().is_cpu(), "to", "expected a CPU tensor to convert, found one on {}", x.device().str());
    Tensor src = contiguous_data(x);
    Tensor out = Tensor::empty(x.shape(), dtype, x.device());
    auto convert = [&]<class From>() {
        const From* in = src.data<From>();
        auto write = [&]<class To>() {
            To* o = out.data<To>();
            parallel_for(out.numel(), [&](std::int64_t i) { o[i] = static_cast<To>(in[i]); });
        };
        switch (dtype) {
            case DType::Float32: write.template operator()<float>(); break;
            case DType::Float64: write.template operator()<double>(); break;
            case DType::Int64: write.template operator()<std::int64_t>(); break;
            case DType::UInt8: write.template operator()<std::uint8_t>(); break;
            default: fail("to", "expected a CPU target dtype, found {}", dtype_name(dtype));
        }
    };
    switch (x.dtype()) {
        case DType::Float32: convert.template operator()<float>(); break;
        case DType::Float64: convert.template operator()<double>(); break;
        case DType::Int64: convert.template operator()<std::int64_t>(); break;
        case DType::UInt8: convert.template operator()<std::uint8_t>(); break;
        default: fail("to", "expected a CPU source dtype, found {}", dtype_name(x.dtype()));
    }
    return out;
}
}  // namespace detail

/// x converted to `dtype` (a copy, or x itself when the dtype already matches).
/// Gradients flow between floating types.
inline Tensor to(const Tensor& x, DType dtype) {
    if (x.dtype() == dtype) return x;
    Tensor out = detail::convert_dtype(x, dtype);
    const DType source = x.dtype();
    if (!is_floating(dtype)) return out;
    return autograd::record(out, "to", {x}, [source](const Tensor& g) {
        return std::vector<Tensor>{detail::convert_dtype(g, source)};
    });
}

}  // namespace vgt
