#pragma once
// What the video metrics return, and the input handling they share.
//
// A video metric is a number per frame (or per consecutive pair of frames)
// and its mean over the clip. Metrics measure; they record nothing on the
// autograd tape, and they compute in float64 whatever the input's float
// type, so that a float32 video and its float64 copy score the same.

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::metrics {

/// A metric over a clip: one value per frame (or per frame pair) and their mean.
struct FrameScores {
    double mean = 0;
    std::vector<double> per_frame;
};

namespace detail {

/// The scores and their mean (NaN for no scores; +inf when one is +inf).
inline FrameScores summarize(std::vector<double> values) {
    FrameScores s;
    double sum = 0;
    for (double v : values) sum += v;
    s.mean = values.empty() ? std::nan("") : sum / static_cast<double>(values.size());
    s.per_frame = std::move(values);
    return s;
}

/// Every element of a float32/float64 CPU tensor, row-major, as float64;
/// a NaN or infinity is an error (a metric of it would silently be NaN).
inline std::vector<double> finite_values(const Tensor& x, std::string_view op, std::string_view what) {
    VGT_CHECK(x.defined(), op, "expected a {} tensor, found an undefined one", what);
    const Tensor in = vgt::detail::contiguous_data(x);
    std::vector<double> out(static_cast<std::size_t>(in.numel()));
    bool finite = true;
    dispatch_floating(in, op, [&]<class T>() {
        const T* p = in.data<T>();
        for (std::size_t i = 0; i < out.size(); ++i) {
            out[i] = static_cast<double>(p[i]);
            finite &= std::isfinite(out[i]);
        }
    });
    VGT_CHECK(finite, op, "expected finite values in the {}, found NaN or infinity", what);
    return out;
}

/// Checks a video [T, C, H, W] with T, C, H, W >= 1.
inline void check_video(const Tensor& video, std::string_view op, std::string_view what) {
    VGT_CHECK(video.defined(), op, "expected a {} video [T, C, H, W], found an undefined tensor", what);
    VGT_CHECK(video.rank() == 4, op, "expected a {} video of shape [T, C, H, W], found {}", what, video.shape());
    VGT_CHECK(video.numel() > 0, op, "expected a non-empty {} video, found shape {}", what, video.shape());
}

/// Checks two tensors of one shape (the reference and the one measured).
inline void check_same_shape(const Tensor& reference, const Tensor& test, std::string_view op) {
    VGT_CHECK(reference.defined() && test.defined(), op, "expected defined reference and test tensors, found {} and {}",
              reference.str(), test.str());
    VGT_CHECK(reference.shape() == test.shape(), op, "expected reference and test of one shape, found {} and {}",
              reference.shape(), test.shape());
}

}  // namespace detail

}  // namespace vgt::metrics
