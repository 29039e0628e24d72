#pragma once
// Rectified flow with a noise level per frame that lags behind the frame
// before it (rolling denoising: Ruhe et al. 2024, "Rolling diffusion
// models"; Chen et al. 2024, "Diffusion forcing"). With lag L ≥ 0, a clip
// at flow time τ ∈ [0, 1] gives frame k of T the time
//
//   t_k(τ) = clamp((1 + L)·τ − L·(T − 1 − k)/(T − 1), 0, 1)
//
// so all frames are noise at τ = 1 and data at τ = 0; frame 0 reaches data
// first (at τ = L/(1 + L)), frame T − 1 leaves pure noise last (at
// τ = 1/(1 + L)), and L = 0 is the usual one time for the whole clip (as
// is T = 1: one frame has nothing to lag behind).
//
// Why: with one level for the whole clip, a prompt's direction of motion
// helps the denoiser only at the highest noise (at lower noise the frames
// already show where the object goes), so models learn colour and shape
// long before they learn to follow a direction. With later frames noisier
// than earlier ones, "frame 0 is here, the prompt says left, so frame 1 is
// there" is a first-order prediction at every level, and the sampler
// (lagged_euler_sample) makes each frame while its predecessors are
// already nearly clean. (Whether models then follow the direction is an
// experiment: docs/quality.md measures it, and at 1,000 steps they do not.)
//
// Training (lagged_flow_matching_loss) draws, in this order from a Philox
// Generator: B clip times (as sample_flow_times, before the shift), B
// uniforms choosing the clips that lag (probability `share`), then the
// noise. Every frame time is then shifted by options.shift. Frames at
// t = 0 are context, not a task (their target, the noise, is not in the
// input), so the loss averages over the other frames only.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampler_step.hpp"
#include "vgt/diffusion/training_loss.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::diffusion {

namespace detail {

/// The shape of videos [B, T, ...] seen as one batch of frames [B·T, ...],
/// so that per-sample levels become per-frame levels.
inline Shape frames_as_batch(const Shape& video) {
    Shape rows = video;
    rows[1] = video[0] * video[1];
    rows.erase(0);
    return rows;
}

}  // namespace detail

/// The frame times t_0 … t_{T−1} of clip time τ under lag L (the formula at the top).
inline std::vector<double> lagged_flow_times(double tau, std::int64_t frames, double lag) {
    VGT_CHECK(tau >= 0.0 && tau <= 1.0 && frames >= 1 && std::isfinite(lag) && lag >= 0.0, "lagged_flow_times",
              "expected a clip time in [0, 1], frames >= 1 and a finite lag >= 0, found {}, {} and {}", tau, frames,
              lag);
    if (frames == 1) return {tau};  // nothing to lag behind
    std::vector<double> out;
    for (std::int64_t k = 0; k < frames; ++k) {
        const double behind = static_cast<double>(frames - 1 - k) / static_cast<double>(frames - 1);
        out.push_back(std::clamp((1.0 + lag) * tau - lag * behind, 0.0, 1.0));
    }
    return out;
}

/// B·T frame times, row-major [B, T]: each clip's time drawn as
/// sample_flow_times draws it; a clip lags with probability `share`,
/// otherwise all its frames share its time; then every time is shifted.
inline std::vector<double> sample_lagged_flow_times(std::int64_t batch, std::int64_t frames,
                                                    const FlowTimeOptions& options, double lag, double share,
                                                    Generator& gen) {
    VGT_CHECK(share >= 0.0 && share <= 1.0, "sample_lagged_flow_times", "expected a share in [0, 1], found {}", share);
    FlowTimeOptions unshifted = options;
    unshifted.shift = 1.0;
    const std::vector<double> clip_times = sample_flow_times(batch, unshifted, gen);
    const std::uint64_t first = gen.advance(static_cast<std::uint64_t>(batch));
    std::vector<double> out;
    for (std::int64_t b = 0; b < batch; ++b) {
        const bool lags = philox_uniform(gen.seed(), first + static_cast<std::uint64_t>(b)) < share;
        for (double t : lagged_flow_times(clip_times[b], frames, lags ? lag : 0.0))
            out.push_back(shift_flow_time(t, options.shift));
    }
    return out;
}

/// The flow-matching loss of videos x0 [B, T, ...] at frame times
/// `times` (B·T, row-major): the model is told time [B, T]; frames at
/// t = 0 are left out of the mean.
inline DenoisingLoss frame_flow_matching_loss(const Denoiser& model, const Tensor& x0, const std::vector<double>& times,
                                              Generator& gen, Objective objective = Objective::flow) {
    const char* op = "frame_flow_matching_loss";
    VGT_CHECK(static_cast<bool>(model), op, "expected a model (a callable), found an empty function");
    VGT_CHECK(x0.rank() >= 3 && x0.size(0) >= 1 && x0.size(1) >= 1, op,
              "expected videos x0 [B, T, ...] with B, T >= 1, found shape {}", x0.shape());
    VGT_CHECK(x0.dtype() == DType::Float32 || x0.dtype() == DType::Float64, op,
              "expected float32 or float64 data, found {}", dtype_name(x0.dtype()));
    const std::int64_t batch = x0.size(0), frames = x0.size(1);
    VGT_CHECK(static_cast<std::int64_t>(times.size()) == batch * frames, op,
              "expected one time per frame ({} x {}), found {}", batch, frames, times.size());
    std::vector<NoiseLevel> levels;
    std::vector<double> kept;
    double kept_frames = 0.0;
    for (double t : times) {
        levels.push_back(flow_level(t));
        kept.push_back(t > 0.0 ? 1.0 : 0.0);
        kept_frames += kept.back();
    }
    VGT_CHECK(kept_frames > 0.0, op, "expected at least one frame with a flow time above 0, found none");

    const Shape frame_rows = detail::frames_as_batch(x0.shape());  // each frame at its own level
    DenoisingLoss r;
    r.noise = to(randn(x0.shape(), gen, x0.dtype()), x0.device());
    r.time = to(to(Tensor::from_vector(times, Shape{batch, frames}), x0.dtype()), x0.device());
    const TrainingPair pair = training_pair(objective, reshape(x0, frame_rows), reshape(r.noise, frame_rows), levels);
    r.x_t = reshape(pair.x_t, x0.shape());
    r.target = reshape(pair.target, x0.shape());
    r.output = model(r.x_t, r.time);
    VGT_CHECK(r.output.defined() && r.output.shape() == x0.shape() && r.output.dtype() == x0.dtype(), op,
              "expected a model output {}, found {}", x0.str(), r.output.str());
    Shape mask_shape{batch, frames};
    for (int d = 2; d < x0.rank(); ++d) mask_shape.push_back(1);
    const Tensor mask = to(to(Tensor::from_vector(kept, mask_shape), x0.dtype()), x0.device());
    const Tensor error = mul(sub(r.output, r.target), mask);
    const double per_frame = static_cast<double>(x0.numel()) / static_cast<double>(batch * frames);
    r.loss = div(sum(mul(error, error)), kept_frames * per_frame);
    const double value = to(r.loss, Device::cpu()).item();
    VGT_CHECK(std::isfinite(value), op,
              "expected a finite loss, found {} (the data or the model's output holds NaN or infinity)", value);
    return r;
}

/// Flow matching with lagged frame times: sample_lagged_flow_times, then
/// frame_flow_matching_loss.
inline DenoisingLoss lagged_flow_matching_loss(const Denoiser& model, const Tensor& x0, const FlowTimeOptions& options,
                                               double lag, double share, Generator& gen,
                                               Objective objective = Objective::flow) {
    VGT_CHECK(x0.rank() >= 3, "lagged_flow_matching_loss", "expected videos x0 [B, T, ...], found shape {}",
              x0.shape());
    const auto times = sample_lagged_flow_times(x0.size(0), x0.size(1), options, lag, share, gen);
    return frame_flow_matching_loss(model, x0, times, gen, objective);
}

/// Euler on the flow ODE with lagged frame times: `steps` uniform steps of
/// the clip time τ from 1 to 0, each frame moving by its own
/// t_k(τ_next) − t_k(τ) (both shifted by `shift`). The model is told the
/// frame times [B, T]. A frame waiting at t = 1 or done at t = 0 does not
/// move, so each frame gets about steps/(1 + L) steps of its own. The
/// output is read as a flow (velocity) or, for Objective::v, converted
/// through predict() at each frame's level.
inline Tensor lagged_euler_sample(const Denoiser& model, const Tensor& noise, int steps, double lag,
                                  double shift = 1.0, Objective prediction = Objective::flow) {
    const char* op = "lagged euler";
    detail::check_start(noise, op);
    VGT_CHECK(noise.rank() >= 3, op, "expected noise [B, T, ...], found shape {}", noise.shape());
    VGT_CHECK(steps >= 1, op, "expected at least 1 sampling step, found {}", steps);
    VGT_CHECK(prediction == Objective::flow || prediction == Objective::v, op,
              "expected a flow or v model (an epsilon or x0 output gives no velocity at t = 0 or 1), found {}",
              objective_name(prediction));
    const std::int64_t batch = noise.size(0), frames = noise.size(1);
    const auto frame_times = [&](int i) {
        std::vector<double> t = lagged_flow_times(1.0 - static_cast<double>(i) / static_cast<double>(steps), frames, lag);
        for (double& v : t) v = shift_flow_time(v, shift);
        return t;
    };
    Shape column_shape{1, frames};
    for (int d = 2; d < noise.rank(); ++d) column_shape.push_back(1);
    const Shape frame_rows = detail::frames_as_batch(noise.shape());

    NoGradGuard no_grad;
    Tensor x = noise;
    std::vector<double> now = frame_times(0);
    for (int i = 0; i < steps; ++i) {
        const std::vector<double> next = frame_times(i + 1);
        std::vector<double> per_clip, dt;
        for (std::int64_t b = 0; b < batch; ++b) per_clip.insert(per_clip.end(), now.begin(), now.end());
        for (std::int64_t k = 0; k < frames; ++k) dt.push_back(next[k] - now[k]);
        const Tensor time = to(to(Tensor::from_vector(per_clip, Shape{batch, frames}), x.dtype()), x.device());
        const Tensor out = model(x, time);
        detail::check_step_output(op, fmt::format("step {} of {}", i + 1, steps), x, out);
        Tensor velocity = out;
        if (prediction == Objective::v) {
            std::vector<NoiseLevel> levels;
            for (double t : per_clip) levels.push_back(flow_level(t));
            const Prediction p = predict(prediction, reshape(out, frame_rows), reshape(x, frame_rows), levels);
            velocity = reshape(sub(p.eps, p.x0), x.shape());
        }
        const Tensor step = to(to(Tensor::from_vector(dt, column_shape), x.dtype()), x.device());
        x = add(x, mul(velocity, step));
        now = next;
    }
    return x;
}

}  // namespace vgt::diffusion
