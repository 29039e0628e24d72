#pragma once
// The denoising training loss: noise a batch at random levels, ask the
// model for the objective's target, and return the mean squared error.
//
//   diffusion_loss       DDPM-style: timesteps uniform over {0 … N−1}
//   flow_matching_loss   rectified flow: t uniform on (0, 1), or logit-normal
//                        t = sigmoid(m + s·z), z ~ N(0, 1) (Esser et al. 2024,
//                        "Scaling rectified flow transformers")
//
// Random numbers come from a Philox Generator in a fixed order: first B
// numbers for the times (uniform, or normal for logit-normal), then
// x0.numel() normal numbers for the noise (row-major). A seed therefore
// gives the same loss on any thread count or device.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/schedule.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/loss.hpp"

namespace vgt::diffusion {

enum class TimeSampling { uniform, logit_normal };

inline std::string_view time_sampling_name(TimeSampling s) {
    return s == TimeSampling::uniform ? "uniform" : "logit-normal";
}

inline std::vector<TimeSampling> all_time_samplings() { return {TimeSampling::uniform, TimeSampling::logit_normal}; }

/// The time sampling called `name`; an unknown name is an error listing the valid ones.
inline TimeSampling parse_time_sampling(std::string_view name) {
    std::string valid;
    for (TimeSampling s : all_time_samplings()) {
        if (time_sampling_name(s) == name) return s;
        valid += (valid.empty() ? "" : ", ") + std::string(time_sampling_name(s));
    }
    fail("time sampling", "expected one of {}, found '{}'", valid, name);
}

/// How flow matching draws t.
struct FlowTimeOptions {
    TimeSampling sampling = TimeSampling::uniform;
    double logit_mean = 0.0;  // m of logit-normal
    double logit_std = 1.0;   // s of logit-normal
    double shift = 1.0;       // each drawn t becomes shift_flow_time(t, shift) (noise_level.hpp)
};

/// One training step's loss and what went into it.
struct DenoisingLoss {
    Tensor loss;    // scalar mean squared error (on the tape when the model's output is)
    Tensor time;    // [B] what the model was told: timesteps, or flow times
    Tensor noise;   // ε, x0's shape
    Tensor x_t;     // the model's input
    Tensor target;  // the objective's target
    Tensor output;  // the model's output
};

/// B timesteps uniform over {0 … N−1}: ⌊u·N⌋ of B Philox uniforms u ∈ (0, 1).
inline std::vector<std::int64_t> sample_timesteps(std::int64_t batch, std::int64_t timesteps, Generator& gen) {
    VGT_CHECK(batch >= 0 && timesteps >= 1, "sample_timesteps",
              "expected batch >= 0 and timesteps >= 1, found batch {} and timesteps {}", batch, timesteps);
    const std::uint64_t first = gen.advance(static_cast<std::uint64_t>(batch));
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < batch; ++i) {
        const double u = philox_uniform(gen.seed(), first + static_cast<std::uint64_t>(i));
        out.push_back(std::min(static_cast<std::int64_t>(u * static_cast<double>(timesteps)), timesteps - 1));
    }
    return out;
}

/// B flow times in (0, 1): Philox uniforms, or sigmoid(m + s·z) of Philox
/// normals, each then shifted by options.shift.
inline std::vector<double> sample_flow_times(std::int64_t batch, const FlowTimeOptions& options, Generator& gen) {
    const char* op = "sample_flow_times";
    VGT_CHECK(batch >= 0, op, "expected a non-negative batch size, found {}", batch);
    VGT_CHECK(std::isfinite(options.logit_mean) && options.logit_std > 0.0 && std::isfinite(options.logit_std), op,
              "expected a finite logit_mean and a positive logit_std, found {} and {}", options.logit_mean,
              options.logit_std);
    VGT_CHECK(std::isfinite(options.shift) && options.shift > 0.0, op, "expected a finite shift > 0, found {}",
              options.shift);
    const std::uint64_t first = gen.advance(static_cast<std::uint64_t>(batch));
    std::vector<double> out;
    for (std::int64_t i = 0; i < batch; ++i) {
        const std::uint64_t j = first + static_cast<std::uint64_t>(i);
        if (options.sampling == TimeSampling::uniform) {
            out.push_back(shift_flow_time(philox_uniform(gen.seed(), j), options.shift));
        } else {
            const double z = philox_normal(gen.seed(), j);
            out.push_back(
                shift_flow_time(1.0 / (1.0 + std::exp(-(options.logit_mean + options.logit_std * z))), options.shift));
        }
    }
    return out;
}

/// The loss at given per-sample times and levels, with noise drawn from gen
/// (x0.numel() normal numbers): the part both losses share.
inline DenoisingLoss denoising_loss(const Denoiser& model, const Tensor& x0, const std::vector<double>& times,
                                    const std::vector<NoiseLevel>& levels, Objective objective, Generator& gen) {
    const char* op = "denoising_loss";
    VGT_CHECK(static_cast<bool>(model), op, "expected a model (a callable), found an empty function");
    VGT_CHECK(x0.rank() >= 1 && x0.size(0) >= 1, op, "expected a batch x0 [B, ...] with B >= 1, found shape {}",
              x0.shape());
    VGT_CHECK(x0.dtype() == DType::Float32 || x0.dtype() == DType::Float64, op,
              "expected float32 or float64 data, found {}", dtype_name(x0.dtype()));
    VGT_CHECK(static_cast<std::int64_t>(times.size()) == x0.size(0) && levels.size() == times.size(), op,
              "expected one time and one level per batch element ({}), found {} and {}", x0.size(0), times.size(),
              levels.size());
    DenoisingLoss r;
    r.noise = to(randn(x0.shape(), gen, x0.dtype()), x0.device());
    r.time = to(to(Tensor::from_vector(times), x0.dtype()), x0.device());
    const TrainingPair pair = training_pair(objective, x0, r.noise, levels);
    r.x_t = pair.x_t;
    r.target = pair.target;
    r.output = model(r.x_t, r.time);
    VGT_CHECK(r.output.defined() && r.output.shape() == x0.shape() && r.output.dtype() == x0.dtype(), op,
              "expected a model output {}, found {}", x0.str(), r.output.str());
    r.loss = mse_loss(r.output, r.target);
    const double value = to(r.loss, Device::cpu()).item();
    VGT_CHECK(std::isfinite(value), op, "expected a finite loss, found {} (the data or the model's output holds NaN or infinity)",
              value);
    return r;
}

/// DDPM-style loss: B timesteps uniform over the schedule, then the noise.
inline DenoisingLoss diffusion_loss(const Denoiser& model, const Tensor& x0, const NoiseSchedule& schedule,
                                    Objective objective, Generator& gen) {
    VGT_CHECK(x0.rank() >= 1, "diffusion_loss", "expected a batch x0 [B, ...], found shape {}", x0.shape());
    const auto steps = sample_timesteps(x0.size(0), schedule.timesteps(), gen);
    std::vector<double> times;
    std::vector<NoiseLevel> levels;
    for (std::int64_t t : steps) {
        times.push_back(static_cast<double>(t));
        levels.push_back(schedule.level(t));
    }
    return denoising_loss(model, x0, times, levels, objective, gen);
}

/// Flow-matching loss: B flow times, then the noise; x_t = (1 − t)·x0 + t·ε.
inline DenoisingLoss flow_matching_loss(const Denoiser& model, const Tensor& x0, const FlowTimeOptions& options,
                                        Generator& gen, Objective objective = Objective::flow) {
    VGT_CHECK(x0.rank() >= 1, "flow_matching_loss", "expected a batch x0 [B, ...], found shape {}", x0.shape());
    const auto times = sample_flow_times(x0.size(0), options, gen);
    std::vector<NoiseLevel> levels;
    for (double t : times) levels.push_back(flow_level(t));
    return denoising_loss(model, x0, times, levels, objective, gen);
}

}  // namespace vgt::diffusion
