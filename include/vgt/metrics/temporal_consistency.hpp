#pragma once
// Temporal consistency: the flow-warping error between consecutive frames,
// the standard measure of flicker (Lai et al., "Learning Blind Video
// Temporal Consistency", ECCV 2018).
//
// For each pair of frames (V_t, V_{t+1}) of a video [T, C, H, W]:
//
//   F   = the flow t → t+1 and B = the flow t+1 → t (flow/flow_field.hpp:
//         F lives on frame t's grid, V_t(p) ≈ V_{t+1}(p + F(p)))
//   W   = warp(V_{t+1}, F): frame t+1 brought back onto frame t's grid,
//         W(p) = V_{t+1}(p + F(p)), bilinear
//   M   = forward–backward consistency of F and B (flow/consistency.hpp):
//         0 where p is occluded in t+1, where the flows disagree, or where
//         p + F(p) leaves the frame; 1 elsewhere
//   E_t = Σ_p M(p)·|V_t(p) − W(p)|² / Σ_p M(p)
//
// |·|² sums the squared differences over the C channels (so an RGB error
// is three times a per-channel mean square, as in Lai et al.). E_t is 0 for
// a static video and for any motion the flow explains exactly; brightness
// flicker, popping details and objects that change between frames raise
// it. A pair where no pixel survives the mask scores 0 and has valid
// fraction 0 (as Lai et al.'s code does); read valid_fraction with it. The
// video's value is the mean of E_t over its T − 1 pairs.
//
// The number depends on the flow estimator: a flow that explains less of the
// motion leaves more of the motion in the error, and masks less. Compare
// videos under one estimator only. Without `mask_occlusions` only pixels
// whose p + F(p) leaves the frame are masked (and B is not estimated).

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/consistency.hpp"
#include "vgt/flow/estimate.hpp"
#include "vgt/metrics/frame_scores.hpp"
#include "vgt/ops/grid_sample.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::metrics {

/// A flow estimator: frames a and b [N, C, H, W] → the flows a → b [N, 2, H, W] in pixels.
using FlowEstimator = std::function<Tensor(const Tensor& a, const Tensor& b)>;

struct TemporalConsistencyOptions {
    bool mask_occlusions = true;            // forward–backward check; off: only leaving the frame is masked
    flow::ConsistencyOptions consistency;   // its tolerances
};

/// The warping error of each consecutive pair and its mean, with the share of pixels the mask kept.
struct TemporalConsistency {
    FrameScores error;                   // per pair (t, t+1), T − 1 values, and their mean
    std::vector<double> valid_fraction;  // per pair: Σ M / (H·W)
};

namespace detail {

/// Checks an estimator's output: [N, 2, H, W], floating point; returns it in `dtype`.
inline Tensor checked_flow(const Tensor& flow, std::int64_t n, std::int64_t h, std::int64_t w, DType dtype,
                           std::string_view op, std::string_view what) {
    VGT_CHECK(flow.defined() && flow.rank() == 4 && flow.size(0) == n && flow.size(1) == 2 && flow.size(2) == h &&
                  flow.size(3) == w,
              op, "expected the flow estimator to return {} flows [{}, 2, {}, {}], found {}", what, n, h, w,
              flow.defined() ? flow.str() : std::string("an undefined tensor"));
    VGT_CHECK(is_floating(flow.dtype()), op, "expected floating-point {} flows, found {}", what,
              dtype_name(flow.dtype()));
    finite_values(flow, op, std::string(what) + " flow");
    return flow.dtype() == dtype ? flow : to(flow, dtype);
}

/// 1 where p + flow(p) stays inside the frame, else 0: [N, 1, H, W].
inline Tensor inside_mask(const Tensor& flow) {
    const std::int64_t n = flow.size(0), h = flow.size(2), w = flow.size(3);
    const Tensor f = vgt::detail::contiguous_data(flow);
    Tensor mask = Tensor::empty(Shape{n, 1, h, w}, flow.dtype());
    dispatch_floating(f, "temporal_consistency", [&]<class T>() {
        const T* fp = f.data<T>();
        T* m = mask.data<T>();
        parallel_for(n * h * w, [&](std::int64_t i) {
            const std::int64_t k = i / (h * w), q = i % (h * w);
            const T x = T(q % w) + fp[(2 * k) * h * w + q], y = T(q / w) + fp[(2 * k + 1) * h * w + q];
            m[i] = (x >= T(0) && x <= T(w - 1) && y >= T(0) && y <= T(h - 1)) ? T(1) : T(0);
        }, 4096);
    });
    return mask;
}

}  // namespace detail

/// The flow-warping error of a video [T, C, H, W] (T >= 2) under `estimate`.
inline TemporalConsistency temporal_consistency(const Tensor& video, const FlowEstimator& estimate,
                                                const TemporalConsistencyOptions& options = {}) {
    constexpr std::string_view op = "temporal_consistency";
    detail::check_video(video, op, "input");
    VGT_CHECK(is_floating(video.dtype()), op, "expected a float32 or float64 video, found {}",
              dtype_name(video.dtype()));
    VGT_CHECK(video.size(0) >= 2, op, "expected a video of at least 2 frames, found {}", video.shape());
    VGT_CHECK(static_cast<bool>(estimate), op, "expected a flow estimator, found an empty function");
    const std::int64_t pairs = video.size(0) - 1, c = video.size(1), h = video.size(2), w = video.size(3);
    const std::vector<double> values = detail::finite_values(video, op, "video");  // frames 0..T−2 lead it

    autograd::NoGradGuard no_grad;
    const Tensor first = contiguous(slice(video, 0, 0, pairs));
    const Tensor second = contiguous(slice(video, 0, 1, pairs + 1));
    const Tensor forward = detail::checked_flow(estimate(first, second), pairs, h, w, video.dtype(), op, "forward");
    Tensor mask;
    if (options.mask_occlusions) {
        const Tensor backward =
            detail::checked_flow(estimate(second, first), pairs, h, w, video.dtype(), op, "backward");
        mask = flow::consistency_mask(forward, backward, options.consistency);
    } else {
        mask = detail::inside_mask(forward);
    }
    const Tensor warped = warp(second, forward, GridPadding::Zeros);

    const double* a = values.data();
    const std::vector<double> b = detail::finite_values(warped, op, "warped video");
    const std::vector<double> m = mask.to_vector<double>();
    const std::int64_t plane = h * w;
    std::vector<double> errors(static_cast<std::size_t>(pairs)), valid(static_cast<std::size_t>(pairs));
    parallel_for(pairs, [&](std::int64_t t) {
        double total = 0, kept = 0;
        for (std::int64_t q = 0; q < plane; ++q) {
            const double weight = m[static_cast<std::size_t>(t * plane + q)];
            if (weight == 0) continue;
            double d2 = 0;
            for (std::int64_t k = 0; k < c; ++k) {
                const auto at = static_cast<std::size_t>((t * c + k) * plane + q);
                d2 += (a[at] - b[at]) * (a[at] - b[at]);
            }
            total += weight * d2;
            kept += weight;
        }
        errors[static_cast<std::size_t>(t)] = kept > 0 ? total / kept : 0.0;
        valid[static_cast<std::size_t>(t)] = kept / static_cast<double>(plane);
    }, 1);
    return {detail::summarize(std::move(errors)), std::move(valid)};
}

/// The flow-warping error under one of vgt's estimators with its default options.
inline TemporalConsistency temporal_consistency(const Tensor& video,
                                                flow::FlowMethod method = flow::FlowMethod::HornSchunck,
                                                const TemporalConsistencyOptions& options = {}) {
    return temporal_consistency(
        video, [method](const Tensor& a, const Tensor& b) { return flow::estimate_flow(a, b, method); }, options);
}

}  // namespace vgt::metrics
