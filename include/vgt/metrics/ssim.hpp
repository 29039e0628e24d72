#pragma once
// Structural similarity (Wang, Bovik, Sheikh and Simoncelli, 2004).
//
// For two planes x, y, with a normalised Gaussian window w of standard
// deviation σ = 1.5 truncated at radius r = floor(3.5·σ + 0.5) = 5 (11×11):
//
//   μx = w ∗ x,   σx² = w ∗ x² − μx²,   σxy = w ∗ (x·y) − μx·μy   (μy, σy² alike)
//   SSIM(p) = (2·μx·μy + C1)(2·σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2))
//   C1 = (K1·R)², C2 = (K2·R)²,  K1 = 0.01, K2 = 0.03, R = data range (1 for [0, 1])
//
// The image's SSIM is the mean of SSIM(p) over the pixels whose whole window
// lies inside the image (the map cropped by r on every side), so no border
// rule enters. Channels: by default each channel is a plane and the image's
// SSIM is the mean over channels; SsimChannels::luma first turns RGB into
// luma Y = 0.299·R + 0.587·G + 0.114·B (ITU-R BT.601) and measures that one
// plane. Both match scikit-image's structural_similarity(gaussian_weights=True,
// sigma=1.5, use_sample_covariance=False, data_range=R) (with channel_axis
// for the mean over channels), which tests/golden/make_metrics.py checks.
// Images must be at least 2r+1 = 11 pixels on each side.
//
// Per video ([T, C, H, W]) SSIM is computed per frame, and the clip's value
// is the mean over frames.

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/metrics/frame_scores.hpp"

namespace vgt::metrics {

/// How SSIM treats channels: each its own plane (mean over channels), or RGB as luma.
enum class SsimChannels { mean, luma };

struct SsimOptions {
    double data_range = 1.0;  // R
    double sigma = 1.5;       // of the Gaussian window; radius floor(3.5·σ + 0.5)
    double k1 = 0.01;
    double k2 = 0.03;
    SsimChannels channels = SsimChannels::mean;
};

namespace kernels {

/// SSIM at one pixel from the windowed moments E[x], E[y], E[x²], E[y²], E[xy].
struct SsimFromMoments {
    double c1, c2;
    VGT_HOST_DEVICE double operator()(double mx, double my, double mxx, double myy, double mxy) const {
        const double vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my;
        return ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
};

}  // namespace kernels

namespace detail {

/// Window radius for σ, as scipy's gaussian_filter with truncate = 3.5.
inline std::int64_t ssim_radius(double sigma) { return static_cast<std::int64_t>(3.5 * sigma + 0.5); }

/// The normalised 1-D Gaussian weights exp(−k²/(2σ²)), k = −r..r.
inline std::vector<double> gaussian_window(double sigma, std::int64_t radius) {
    std::vector<double> w(static_cast<std::size_t>(2 * radius + 1));
    double sum = 0;
    for (std::int64_t k = -radius; k <= radius; ++k) {
        const double v = std::exp(-0.5 * static_cast<double>(k * k) / (sigma * sigma));
        w[static_cast<std::size_t>(k + radius)] = v;
        sum += v;
    }
    for (double& v : w) v /= sum;
    return w;
}

/// Mean SSIM of two h×w planes over the pixels whose window lies inside.
inline double ssim_plane(const double* x, const double* y, std::int64_t h, std::int64_t w,
                         const std::vector<double>& window, const kernels::SsimFromMoments& body) {
    const auto radius = static_cast<std::int64_t>(window.size() / 2);
    const std::int64_t wo = w - 2 * radius, ho = h - 2 * radius, taps = 2 * radius + 1;
    // Horizontal pass: the five moments' row sums over valid columns, [h, wo] each.
    std::vector<double> rows(static_cast<std::size_t>(5 * h * wo));
    double* rx = rows.data();
    double* ry = rx + h * wo;
    double* rxx = ry + h * wo;
    double* ryy = rxx + h * wo;
    double* rxy = ryy + h * wo;
    for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < wo; ++j) {
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            const double* px = x + i * w + j;
            const double* py = y + i * w + j;
            for (std::int64_t k = 0; k < taps; ++k) {
                const double g = window[static_cast<std::size_t>(k)], a = px[k], b = py[k];
                sx += g * a;
                sy += g * b;
                sxx += g * a * a;
                syy += g * b * b;
                sxy += g * a * b;
            }
            const std::int64_t o = i * wo + j;
            rx[o] = sx, ry[o] = sy, rxx[o] = sxx, ryy[o] = syy, rxy[o] = sxy;
        }
    // Vertical pass and the SSIM formula, summed over the valid pixels.
    double total = 0;
    for (std::int64_t i = 0; i < ho; ++i)
        for (std::int64_t j = 0; j < wo; ++j) {
            double m[5] = {0, 0, 0, 0, 0};
            for (std::int64_t k = 0; k < taps; ++k) {
                const double g = window[static_cast<std::size_t>(k)];
                const std::int64_t o = (i + k) * wo + j;
                m[0] += g * rx[o];
                m[1] += g * ry[o];
                m[2] += g * rxx[o];
                m[3] += g * ryy[o];
                m[4] += g * rxy[o];
            }
            total += body(m[0], m[1], m[2], m[3], m[4]);
        }
    return total / static_cast<double>(ho * wo);
}

inline void check_ssim_options(const SsimOptions& o, std::string_view op) {
    VGT_CHECK(o.data_range > 0 && std::isfinite(o.data_range), op, "expected a positive finite data_range, found {}",
              o.data_range);
    VGT_CHECK(o.sigma > 0 && o.sigma <= 100, op, "expected sigma in (0, 100], found {}", o.sigma);
    VGT_CHECK(o.k1 > 0 && o.k2 > 0, op, "expected positive k1 and k2, found k1={} k2={}", o.k1, o.k2);
}

/// SSIM of `frames` images [C, H, W] stored back to back; one score per image.
inline std::vector<double> ssim_images(const std::vector<double>& a, const std::vector<double>& b, std::int64_t frames,
                                       std::int64_t channels, std::int64_t h, std::int64_t w, const SsimOptions& o,
                                       std::string_view op, const Shape& shape) {
    const std::int64_t radius = ssim_radius(o.sigma);
    VGT_CHECK(h >= 2 * radius + 1 && w >= 2 * radius + 1, op,
              "expected images of at least {}×{} pixels (the window for sigma {}), found shape {}", 2 * radius + 1,
              2 * radius + 1, o.sigma, shape);
    const bool luma = o.channels == SsimChannels::luma && channels > 1;
    VGT_CHECK(!luma || channels == 3, op, "expected 1 or 3 channels for SSIM on luma, found shape {}", shape);
    const std::vector<double> window = gaussian_window(o.sigma, radius);
    const kernels::SsimFromMoments body{(o.k1 * o.data_range) * (o.k1 * o.data_range),
                                        (o.k2 * o.data_range) * (o.k2 * o.data_range)};
    const std::int64_t plane = h * w, planes = luma ? 1 : channels;
    std::vector<double> per_plane(static_cast<std::size_t>(frames * planes));
    parallel_for(frames * planes, [&](std::int64_t index) {
        const std::int64_t t = index / planes, c = index % planes;
        if (!luma) {
            const std::int64_t at = (t * channels + c) * plane;
            per_plane[static_cast<std::size_t>(index)] = ssim_plane(a.data() + at, b.data() + at, h, w, window, body);
            return;
        }
        std::vector<double> ya(static_cast<std::size_t>(plane)), yb(static_cast<std::size_t>(plane));
        const double* pa = a.data() + t * 3 * plane;
        const double* pb = b.data() + t * 3 * plane;
        for (std::int64_t i = 0; i < plane; ++i) {
            ya[static_cast<std::size_t>(i)] = 0.299 * pa[i] + 0.587 * pa[plane + i] + 0.114 * pa[2 * plane + i];
            yb[static_cast<std::size_t>(i)] = 0.299 * pb[i] + 0.587 * pb[plane + i] + 0.114 * pb[2 * plane + i];
        }
        per_plane[static_cast<std::size_t>(index)] = ssim_plane(ya.data(), yb.data(), h, w, window, body);
    }, 1);
    std::vector<double> scores(static_cast<std::size_t>(frames), 0.0);
    for (std::int64_t t = 0; t < frames; ++t) {
        for (std::int64_t c = 0; c < planes; ++c)
            scores[static_cast<std::size_t>(t)] += per_plane[static_cast<std::size_t>(t * planes + c)];
        scores[static_cast<std::size_t>(t)] /= static_cast<double>(planes);
    }
    return scores;
}

}  // namespace detail

/// SSIM of `test` against `reference`: images [C, H, W] or planes [H, W] of one shape.
inline double ssim(const Tensor& reference, const Tensor& test, const SsimOptions& options = {}) {
    constexpr std::string_view op = "ssim";
    detail::check_ssim_options(options, op);
    detail::check_same_shape(reference, test, op);
    VGT_CHECK(reference.rank() == 2 || reference.rank() == 3, op, "expected images [C, H, W] or [H, W], found {}",
              reference.shape());
    const bool planar = reference.rank() == 2;
    const std::int64_t c = planar ? 1 : reference.size(0);
    VGT_CHECK(c > 0, op, "expected at least one channel, found shape {}", reference.shape());
    const auto a = detail::finite_values(reference, op, "reference");
    const auto b = detail::finite_values(test, op, "test");
    return detail::ssim_images(a, b, 1, c, reference.size(-2), reference.size(-1), options, op, reference.shape())[0];
}

/// SSIM of each frame of two videos [T, C, H, W], and their mean.
inline FrameScores video_ssim(const Tensor& reference, const Tensor& test, const SsimOptions& options = {}) {
    constexpr std::string_view op = "video_ssim";
    detail::check_ssim_options(options, op);
    detail::check_video(reference, op, "reference");
    detail::check_same_shape(reference, test, op);
    const auto a = detail::finite_values(reference, op, "reference");
    const auto b = detail::finite_values(test, op, "test");
    return detail::summarize(detail::ssim_images(a, b, reference.size(0), reference.size(1), reference.size(2),
                                                 reference.size(3), options, op, reference.shape()));
}

}  // namespace vgt::metrics
