#pragma once
// The frames a flow estimator reads: one pair of grayscale images [H, W], or
// a batch of pairs [N, 1, H, W]; RGB batches [N, 3, H, W] are turned into
// luma first (ITU-R BT.601 weights), so that a video [T, 3, H, W] sliced
// into frames 0..T−2 and 1..T−1 gives the flows of all its consecutive
// pairs at once. Intensities are expected in [0, 1] (the range vgt's image
// and video readers produce): the estimators' thresholds and smoothness
// weights are in those units.
//
// Estimators work on a stack of N contiguous planes [N, H, W] of the
// frames' element type; their output is the flow layout of flow_field.hpp:
// [2, H, W] for an [H, W] pair, [N, 2, H, W] for a batch.

#include <cmath>
#include <cstdint>
#include <string_view>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::flow::detail {

/// The extents of a validated frame tensor.
struct FrameLayout {
    bool batched = false;  // [N, C, H, W] rather than [H, W]
    std::int64_t n = 1, c = 1, h = 0, w = 0;

    Shape flow_shape() const { return batched ? Shape{n, 2, h, w} : Shape{2, h, w}; }
    Shape plane_shape() const { return Shape{n, h, w}; }
};

/// Checks frames [H, W] or [N, C, H, W] with C of 1 or 3.
inline FrameLayout frame_layout(const Tensor& frames, std::string_view op, std::string_view what) {
    VGT_CHECK(frames.defined(), op, "expected {} frames, found an undefined tensor", what);
    FrameLayout l;
    if (frames.rank() == 2) {
        l.h = frames.size(0);
        l.w = frames.size(1);
    } else {
        VGT_CHECK(frames.rank() == 4 && (frames.size(1) == 1 || frames.size(1) == 3), op,
                  "expected {} frames of shape [H, W], [N, 1, H, W] or [N, 3, H, W] (RGB), found {}", what,
                  frames.shape());
        l.batched = true;
        l.n = frames.size(0);
        l.c = frames.size(1);
        l.h = frames.size(2);
        l.w = frames.size(3);
    }
    VGT_CHECK(l.n > 0 && l.h > 0 && l.w > 0, op, "expected non-empty {} frames, found shape {}", what,
              frames.shape());
    return l;
}

/// Checks the two frames of a flow estimate: one shape, one floating dtype.
inline FrameLayout frame_pair_layout(const Tensor& a, const Tensor& b, std::string_view op) {
    const FrameLayout l = frame_layout(a, op, "first");
    frame_layout(b, op, "second");
    VGT_CHECK(a.shape() == b.shape(), op, "expected first and second frames of one shape, found {} and {}",
              a.shape(), b.shape());
    VGT_CHECK(a.dtype() == b.dtype(), op, "expected first and second frames of one dtype, found {} and {}",
              dtype_name(a.dtype()), dtype_name(b.dtype()));
    VGT_CHECK(is_floating(a.dtype()), op, "expected float32 or float64 frames, found {}", dtype_name(a.dtype()));
    return l;
}

/// The frames as contiguous grayscale planes [N, H, W] of element type T;
/// a NaN or infinite pixel is an error (it would spread through every
/// iteration of an estimator and give a field of NaN).
template <class T>
Tensor gray_planes(const Tensor& frames, const FrameLayout& l, std::string_view op, std::string_view what) {
    const Tensor in = vgt::detail::contiguous_data(frames);
    const T* src = in.data<T>();
    const std::int64_t pixels = l.h * l.w;
    Tensor out = Tensor::empty(l.plane_shape(), frames.dtype());
    T* dst = out.data<T>();
    bool finite = true;
    for (std::int64_t k = 0; k < l.n; ++k) {
        const T* item = src + k * l.c * pixels;
        T* plane = dst + k * pixels;
        if (l.c == 1) {
            for (std::int64_t i = 0; i < pixels; ++i) plane[i] = item[i];
        } else {
            for (std::int64_t i = 0; i < pixels; ++i)
                plane[i] = T(0.299) * item[i] + T(0.587) * item[pixels + i] + T(0.114) * item[2 * pixels + i];
        }
        for (std::int64_t i = 0; i < pixels; ++i) finite &= std::isfinite(plane[i]);
    }
    VGT_CHECK(finite, op, "expected finite pixel values in the {} frames, found NaN or infinity", what);
    return out;
}

/// Gives the [N, 2, H, W] field its public shape (drops N for an [H, W] pair).
inline Tensor shaped_flow(const Tensor& flow, const FrameLayout& l) {
    return l.batched ? flow : flow.alias(l.flow_shape(), contiguous_strides(l.flow_shape()), flow.offset());
}

}  // namespace vgt::flow::detail
