#pragma once
// The embedding of the diffusion time that every block of a denoiser adds to
// its features, and MagicVideo's frame-rate / motion embedding added to it.
//
// A scalar s (an integer timestep, a flow-matching time t ∈ [0, 1], a
// frame rate) becomes the sinusoidal features of DDPM / ADM (Ho et al. 2020;
// Dhariwal & Nichol 2021) with F = frequency_channels, half = F/2:
//
//   a     = time_scale · s
//   ω_i   = max_period^(−i / half),          i = 0 … half − 1
//   e(s)  = [sin(a·ω_0) … sin(a·ω_{half−1}), cos(a·ω_0) … cos(a·ω_{half−1})]
//
// (cos first with cos_first, as ADM and Stable Diffusion lay it out), and an
// MLP maps them to the model width d: Linear(F, d), SiLU, Linear(d, d).
// time_scale lets flow-matching times in [0, 1] span the angles that
// integer timesteps 0 … 1000 span (time_scale = 1000).
//
// Parameters: linear_1.weight [d, F], linear_1.bias [d], linear_2.weight
// [d, d], linear_2.bias [d] (diffusers' TimestepEmbedding names).
// No gradient flows to the scalars themselves: they are data, not features.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::models {

struct TimestepEmbeddingOptions {
    std::int64_t frequency_channels = 256;  // F: sinusoidal features (even)
    std::int64_t width = 512;               // d: the embedding's size
    double max_period = 10000.0;            // the longest period of the sinusoids, in units of a
    double time_scale = 1.0;                // a = time_scale · s
    bool cos_first = false;                 // [cos, sin] instead of [sin, cos]

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "TimestepEmbeddingOptions";
        VGT_CHECK(frequency_channels >= 2 && frequency_channels % 2 == 0, op,
                  "expected a positive, even frequency_channels (sin and cos halves), found {}", frequency_channels);
        VGT_CHECK(width >= 1, op, "expected a positive width, found {}", width);
        VGT_CHECK(std::isfinite(max_period) && max_period > 0, op, "expected a finite max_period > 0, found {}",
                  max_period);
        VGT_CHECK(std::isfinite(time_scale) && time_scale > 0, op, "expected a finite time_scale > 0, found {}",
                  time_scale);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, TimestepEmbeddingOptions& o) {
    v("frequency_channels", o.frequency_channels);
    v("width", o.width);
    v("max_period", o.max_period);
    v("time_scale", o.time_scale);
    v("cos_first", o.cos_first);
}

/// The sinusoidal features e(s) [B, channels] of scalars `values` [B] (any
/// float or int64 dtype, finite), computed in double and returned in `dtype`.
inline Tensor sinusoidal_embedding(const Tensor& values, std::int64_t channels, double max_period = 10000.0,
                                   double time_scale = 1.0, bool cos_first = false, DType dtype = DType::Float32) {
    constexpr const char* op = "sinusoidal_embedding";
    VGT_CHECK(values.rank() == 1, op, "expected scalars [B], found shape {}", values.shape());
    VGT_CHECK(is_floating(values.dtype()) || values.dtype() == DType::Int64, op,
              "expected float or int64 scalars, found {}", dtype_name(values.dtype()));
    VGT_CHECK(channels >= 2 && channels % 2 == 0, op,
              "expected a positive, even number of channels (sin and cos halves), found {}", channels);
    VGT_CHECK(std::isfinite(max_period) && max_period > 0, op, "expected a finite max_period > 0, found {}",
              max_period);
    VGT_CHECK(std::isfinite(time_scale) && time_scale > 0, op, "expected a finite time_scale > 0, found {}",
              time_scale);
    const std::vector<double> s = values.to_vector<double>();
    for (std::size_t b = 0; b < s.size(); ++b)
        VGT_CHECK(std::isfinite(s[b]), op, "expected finite scalars, found {} at position {}", s[b], b);

    const std::int64_t batch = values.size(0), half = channels / 2;
    const std::int64_t sin_at = cos_first ? half : 0, cos_at = cos_first ? 0 : half;
    std::vector<double> out(static_cast<std::size_t>(batch * channels));
    for (std::int64_t i = 0; i < half; ++i) {
        const double frequency = std::exp(-std::log(max_period) * static_cast<double>(i) / static_cast<double>(half));
        for (std::int64_t b = 0; b < batch; ++b) {
            const double angle = time_scale * s[static_cast<std::size_t>(b)] * frequency;
            out[static_cast<std::size_t>(b * channels + sin_at + i)] = std::sin(angle);
            out[static_cast<std::size_t>(b * channels + cos_at + i)] = std::cos(angle);
        }
    }
    return to(Tensor::from_vector(out, Shape{batch, channels}), dtype);
}

/// e(s) followed by Linear, SiLU, Linear: scalars [B] → [B, width].
class TimestepEmbedding {
public:
    TimestepEmbedding(const TimestepEmbeddingOptions& options, Generator& gen, DType dtype = DType::Float32)
        : options_(validated(options)),
          dtype_(dtype),
          linear_1(options_.frequency_channels, options_.width, gen, dtype),
          linear_2(options_.width, options_.width, gen, dtype) {}

    /// values [B] (timesteps, flow times or frame rates) → [B, width].
    Tensor forward(const Tensor& values) const { return embed_features(features(values)); }

    /// The sinusoidal features [B, frequency_channels] that forward feeds the MLP.
    Tensor features(const Tensor& values) const {
        return sinusoidal_embedding(values, options_.frequency_channels, options_.max_period, options_.time_scale,
                                    options_.cos_first, dtype_);
    }

    /// The MLP alone: features [B, frequency_channels] → [B, width].
    Tensor embed_features(const Tensor& features) const {
        VGT_CHECK(features.rank() == 2 && features.size(1) == options_.frequency_channels, "TimestepEmbedding",
                  "expected features [B, {}], found shape {}", options_.frequency_channels, features.shape());
        return linear_2.forward(silu(linear_1.forward(features)));
    }

    const TimestepEmbeddingOptions& options() const { return options_; }
    DType dtype() const { return dtype_; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        linear_1.visit_parameters(visit, nn::join_name(prefix, "linear_1"));
        linear_2.visit_parameters(visit, nn::join_name(prefix, "linear_2"));
    }

private:
    static const TimestepEmbeddingOptions& validated(const TimestepEmbeddingOptions& o) {
        o.validate();
        return o;
    }

    TimestepEmbeddingOptions options_;
    DType dtype_;

public:
    nn::Linear linear_1;
    nn::Linear linear_2;
};

/// Options of TimestepMotionEmbedding: one embedding for the diffusion time
/// and one for the motion scalar, of one width.
struct TimestepMotionOptions {
    TimestepEmbeddingOptions timestep;
    TimestepEmbeddingOptions motion;

    void validate() const {
        timestep.validate();
        motion.validate();
        VGT_CHECK(timestep.width == motion.width, "TimestepMotionOptions",
                  "expected timestep.width and motion.width to be equal (the embeddings are added), found {} and {}",
                  timestep.width, motion.width);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, TimestepMotionOptions& o) {
    v("timestep", o.timestep);
    v("motion", o.motion);
}

/// MagicVideo's frame-rate conditioning: emb = timestep(t) + motion(m),
/// where m is a frame rate or a motion-strength scalar per video and both
/// are TimestepEmbeddings with their own parameters. motion.linear_2 starts
/// at zero, so that adding the block to a trained model leaves its time
/// embedding unchanged until training moves it.
///
/// Parameters: timestep.linear_1.*, timestep.linear_2.*, motion.linear_1.*,
/// motion.linear_2.*.
class TimestepMotionEmbedding {
public:
    TimestepMotionEmbedding(const TimestepMotionOptions& options, Generator& gen, DType dtype = DType::Float32)
        : timestep((options.validate(), options.timestep), gen, dtype), motion(options.motion, gen, dtype) {
        motion.linear_2.zero_();
    }

    /// times [B], motion values [B] → [B, width].
    Tensor forward(const Tensor& times, const Tensor& motion_values) const {
        VGT_CHECK(times.rank() == 1 && motion_values.rank() == 1 && times.size(0) == motion_values.size(0),
                  "TimestepMotionEmbedding", "expected times [B] and motion values [B] of one B, found {} and {}",
                  times.shape(), motion_values.shape());
        return add(timestep.forward(times), motion.forward(motion_values));
    }

    std::int64_t width() const { return timestep.options().width; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        timestep.visit_parameters(visit, nn::join_name(prefix, "timestep"));
        motion.visit_parameters(visit, nn::join_name(prefix, "motion"));
    }

    TimestepEmbedding timestep;
    TimestepEmbedding motion;
};

}  // namespace vgt::models
