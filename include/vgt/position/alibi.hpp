#pragma once
// ALiBi: attention with linear biases (Press et al. 2022, "Train Short, Test
// Long"), over frames. Head h penalises a key by its distance in frames
// from the query, with slope m_h = 2^(−8(h+1)/heads), the geometric
// sequence that starts at 2^(−8/heads):
//   bias[h, i, j] = −m_h · |i − j|         (frames of query i and key j)
//   bias[h, i, j] = −m_h · (i − j)         with ctx.causal (future keys are masked by the caller)
// No parameters. For a number of heads that is not a power of two the paper
// interleaves two such sequences; this policy keeps the one sequence for any
// number of heads.
//
// The bias is a constant built on the CPU in options.dtype; an attention on
// another device moves it there with to(bias, device).

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

/// m_h = 2^(−8(h+1)/heads) for h = 0, …, heads − 1.
inline std::vector<double> alibi_slopes(std::int64_t heads) {
    VGT_CHECK(heads > 0, "alibi_slopes", "expected a positive number of heads, found {}", heads);
    std::vector<double> slopes(static_cast<std::size_t>(heads));
    for (std::int64_t h = 0; h < heads; ++h)
        slopes[static_cast<std::size_t>(h)] =
            std::exp2(-8.0 * static_cast<double>(h + 1) / static_cast<double>(heads));
    return slopes;
}

class ALiBi {
public:
    static constexpr std::string_view name = "ALiBi";

    ALiBi(const temporal::MixerOptions& options, Generator&) : heads_(options.heads), dtype_(options.dtype) {
        VGT_CHECK(heads_ > 0, "ALiBi", "expected a positive number of heads, found {}", heads_);
    }

    static constexpr bool bias_only = true;  // embed and rotate are no-ops
    Tensor embed(const Tensor& h, const PositionContext&) const { return h; }
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext&) const { return {q, k}; }

    /// −m_h · |frame(i) − frame(j)| (or −m_h · (frame(i) − frame(j)) when causal), [heads, L, L].
    Tensor attention_bias(const PositionContext& ctx) const {
        detail::check_position_context(ctx, "ALiBi::attention_bias");
        const std::int64_t frames = ctx.frames;
        const std::vector<double> slopes = alibi_slopes(heads_);
        std::vector<double> bias(static_cast<std::size_t>(heads_ * frames * frames));
        for (std::int64_t h = 0; h < heads_; ++h)
            for (std::int64_t i = 0; i < frames; ++i)
                for (std::int64_t j = 0; j < frames; ++j) {
                    const double distance = static_cast<double>(ctx.causal ? i - j : (i < j ? j - i : i - j));
                    bias[static_cast<std::size_t>((h * frames + i) * frames + j)] =
                        -slopes[static_cast<std::size_t>(h)] * distance;
                }
        const Tensor per_frame = detail::constant_table(bias, Shape{heads_, frames, frames}, dtype_, Device::cpu());
        return detail::expand_frame_bias(per_frame, ctx);
    }

    std::int64_t heads() const { return heads_; }
    std::int64_t params() const { return nn::count_parameters(*this); }
    void visit_parameters(const nn::ParameterVisitor&, const std::string&) {}

private:
    std::int64_t heads_;
    DType dtype_;
};

static_assert(PositionPolicy<ALiBi>);

}  // namespace vgt::position
