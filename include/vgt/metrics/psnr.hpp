#pragma once
// Peak signal-to-noise ratio: 10 · log10(R² / MSE), with R the data range
// (the span of values the signal can take: 1 for images in [0, 1]) and MSE
// the mean squared difference over every element (all channels and
// pixels). Identical inputs give +inf. The same definition as
// scikit-image's peak_signal_noise_ratio.
//
// Per video ([T, C, H, W]) it is computed per frame; the clip's value is
// the mean of the frames' PSNR (the convention of video-prediction papers),
// +inf when any frame is reproduced exactly.

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/metrics/frame_scores.hpp"

namespace vgt::metrics {

struct PsnrOptions {
    double data_range = 1.0;  // R: max − min of the values the signal can take
};

namespace detail {

inline double psnr_of(const double* a, const double* b, std::int64_t n, double range) {
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
    const double mse = sum / static_cast<double>(n);
    if (mse == 0) return std::numeric_limits<double>::infinity();
    return 10.0 * std::log10(range * range / mse);
}

inline void check_psnr_options(const PsnrOptions& o, std::string_view op) {
    VGT_CHECK(o.data_range > 0 && std::isfinite(o.data_range), op, "expected a positive finite data_range, found {}",
              o.data_range);
}

}  // namespace detail

/// PSNR of `test` against `reference` (tensors of one shape, any rank).
inline double psnr(const Tensor& reference, const Tensor& test, const PsnrOptions& options = {}) {
    constexpr std::string_view op = "psnr";
    detail::check_psnr_options(options, op);
    detail::check_same_shape(reference, test, op);
    VGT_CHECK(reference.numel() > 0, op, "expected non-empty tensors, found shape {}", reference.shape());
    const auto a = detail::finite_values(reference, op, "reference");
    const auto b = detail::finite_values(test, op, "test");
    return detail::psnr_of(a.data(), b.data(), reference.numel(), options.data_range);
}

/// PSNR of each frame of two videos [T, C, H, W], and their mean.
inline FrameScores video_psnr(const Tensor& reference, const Tensor& test, const PsnrOptions& options = {}) {
    constexpr std::string_view op = "video_psnr";
    detail::check_psnr_options(options, op);
    detail::check_video(reference, op, "reference");
    detail::check_same_shape(reference, test, op);
    const auto a = detail::finite_values(reference, op, "reference");
    const auto b = detail::finite_values(test, op, "test");
    const std::int64_t frames = reference.size(0), per_frame = reference.numel() / frames;
    std::vector<double> scores(static_cast<std::size_t>(frames));
    for (std::int64_t t = 0; t < frames; ++t)
        scores[static_cast<std::size_t>(t)] =
            detail::psnr_of(a.data() + t * per_frame, b.data() + t * per_frame, per_frame, options.data_range);
    return detail::summarize(std::move(scores));
}

}  // namespace vgt::metrics
