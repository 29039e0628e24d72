#pragma once
// Optical-flow fields and the one convention every vgt::flow function keeps.
//
// A flow field is a tensor [2, H, W] (one field) or [N, 2, H, W] (a batch),
// in pixels: channel 0 is the x (column) displacement, channel 1 the y (row)
// one, with y pointing down the image.
//
// The flow from frame a to frame b, F_ab, lives on a's pixel grid and says
// where each pixel of a is found in b:
//
//     a(p) ≈ b(p + F_ab(p)),   that is   warp(b, F_ab) ≈ a
//
// with vgt::warp(x, flow)(p) = x(p + flow(p)) (ops/grid_sample.hpp). An
// object that moves 3 px to the right between a and b has F_ab = (3, 0) on
// its pixels of a. This is the convention of OpenCV's
// calcOpticalFlowFarneback(prev, next) and DIS (prev(p) ≈ next(p + flow(p)))
// and of the Middlebury benchmark, so their fields compare without any
// conversion. FlowWarp (temporal/flow_warp.hpp) wants, for frame t, the flow
// from frame t to frame t − 1: estimate it with a = frame t, b = frame t − 1.
//
// Per-pixel quantities derived from a field (endpoint errors, consistency
// masks) keep its layout with one channel: [1, H, W] or [N, 1, H, W].

#include <cstdint>
#include <string_view>

#include "vgt/core/dtype.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt::flow {

namespace detail {

/// The extents of a validated flow field.
struct FlowLayout {
    bool batched = false;  // [N, 2, H, W] rather than [2, H, W]
    std::int64_t n = 1, h = 0, w = 0;

    /// The field's own shape.
    Shape flow_shape() const { return batched ? Shape{n, 2, h, w} : Shape{2, h, w}; }
    /// The shape of a one-channel per-pixel map over the field.
    Shape map_shape() const { return batched ? Shape{n, 1, h, w} : Shape{1, h, w}; }
    std::int64_t pixels() const { return h * w; }
};

/// Checks that `flow` is a floating-point [2, H, W] or [N, 2, H, W] CPU
/// field; `what` names it in messages ("flow", "reference", ...).
inline FlowLayout flow_layout(const Tensor& flow, std::string_view op, std::string_view what = "flow") {
    VGT_CHECK(flow.defined(), op, "expected a {} field, found an undefined tensor", what);
    const bool batched = flow.rank() == 4;
    VGT_CHECK((flow.rank() == 3 || batched) && flow.size(batched ? 1 : 0) == 2, op,
              "expected a {} field of shape [2, H, W] or [N, 2, H, W], found {}", what, flow.shape());
    VGT_CHECK(is_floating(flow.dtype()), op, "expected a float32 or float64 {} field, found {}", what,
              dtype_name(flow.dtype()));
    FlowLayout l;
    l.batched = batched;
    l.n = batched ? flow.size(0) : 1;
    l.h = flow.size(-2);
    l.w = flow.size(-1);
    VGT_CHECK(l.n > 0 && l.h > 0 && l.w > 0, op, "expected a non-empty {} field, found shape {}", what, flow.shape());
    return l;
}

/// Checks that two fields have one shape and one dtype.
inline FlowLayout flow_pair_layout(const Tensor& first, const Tensor& second, std::string_view op,
                                   std::string_view first_name, std::string_view second_name) {
    const FlowLayout l = flow_layout(first, op, first_name);
    flow_layout(second, op, second_name);
    VGT_CHECK(first.shape() == second.shape(), op, "expected {} and {} fields of one shape, found {} and {}",
              first_name, second_name, first.shape(), second.shape());
    VGT_CHECK(first.dtype() == second.dtype(), op, "expected {} and {} fields of one dtype, found {} and {}",
              first_name, second_name, dtype_name(first.dtype()), dtype_name(second.dtype()));
    return l;
}

}  // namespace detail

/// A field [2, H, W] that moves every pixel by (dx, dy).
inline Tensor uniform_flow(std::int64_t height, std::int64_t width, double dx, double dy,
                           DType dtype = DType::Float32) {
    VGT_CHECK(height > 0 && width > 0, "uniform_flow", "expected a positive height and width, found {} x {}", height,
              width);
    VGT_CHECK(is_floating(dtype), "uniform_flow", "expected a float32 or float64 field, found {}", dtype_name(dtype));
    Tensor flow = Tensor::empty(Shape{2, height, width}, dtype);
    const Strides plane_strides{width, 1};
    flow.alias(Shape{height, width}, plane_strides, 0).fill_(dx);
    flow.alias(Shape{height, width}, plane_strides, height * width).fill_(dy);
    return flow;
}

}  // namespace vgt::flow
