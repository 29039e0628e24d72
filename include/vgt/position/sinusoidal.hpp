#pragma once
// Sinusoidal: the fixed positions of "Attention Is All You Need" (Vaswani et
// al. 2017), one row per frame added to the normalised input h:
//   pe[t, 2i] = sin(t · 10000^(−2i/C)),  pe[t, 2i+1] = cos(t · 10000^(−2i/C)).
// No parameters; defined for any number of frames.

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/position/frame_positions.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::position {

/// pe [frames, channels] in `dtype` (channels even), frames 0, 1, …, frames − 1.
inline Tensor sinusoidal_positions(std::int64_t frames, std::int64_t channels, DType dtype = DType::Float64) {
    VGT_CHECK(channels > 0 && channels % 2 == 0, "sinusoidal_positions",
              "expected a positive, even number of channels (sin and cos pairs), found {}", channels);
    VGT_CHECK(frames >= 0, "sinusoidal_positions", "expected a non-negative number of frames, found {}", frames);
    std::vector<double> pe(static_cast<std::size_t>(frames * channels));
    for (std::int64_t i = 0; 2 * i < channels; ++i) {
        const double frequency = std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(channels));
        for (std::int64_t t = 0; t < frames; ++t) {
            const double angle = static_cast<double>(t) * frequency;
            pe[static_cast<std::size_t>(t * channels + 2 * i)] = std::sin(angle);
            pe[static_cast<std::size_t>(t * channels + 2 * i + 1)] = std::cos(angle);
        }
    }
    return to(Tensor::from_vector(pe, Shape{frames, channels}), dtype);
}

class Sinusoidal {
public:
    static constexpr std::string_view name = "Sinusoidal";

    Sinusoidal(const temporal::MixerOptions& options, Generator&) : channels_(options.channels) {
        VGT_CHECK(channels_ > 0 && channels_ % 2 == 0, "Sinusoidal",
                  "expected a positive, even number of channels (sin and cos pairs), found {}", channels_);
    }

    /// h [N, L, C] + pe[frame of each token].
    Tensor embed(const Tensor& h, const PositionContext& ctx) const {
        detail::check_embed_input(h, ctx, channels_, "Sinusoidal::embed");
        const Tensor pe = to(sinusoidal_positions(ctx.frames, channels_, h.dtype()), h.device());
        return detail::add_per_frame(h, pe, ctx);
    }
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext&) const { return {q, k}; }
    Tensor attention_bias(const PositionContext&) const { return {}; }

    std::int64_t params() const { return nn::count_parameters(*this); }
    void visit_parameters(const nn::ParameterVisitor&, const std::string&) {}

private:
    std::int64_t channels_;
};

static_assert(PositionPolicy<Sinusoidal>);

}  // namespace vgt::position
