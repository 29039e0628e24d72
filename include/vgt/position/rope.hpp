#pragma once
// RoPE: rotary position embedding (Su et al. 2021, RoFormer), over frames.
// Channels of each head are taken in interleaved pairs (2i, 2i+1), and the
// pair i of a query or key at frame n turns by the angle n·θ_i with
// θ_i = 10000^(−2i/d):
//   (a, b) → (a·cos nθ_i − b·sin nθ_i,  a·sin nθ_i + b·cos nθ_i).
// A rotation keeps each pair's norm, and q_m·k_n then depends on the frames
// only through m − n: attention sees relative positions, with no table to
// outgrow. (The interleaved pairing is the paper's; GPT-NeoX-style code
// pairs channel i with i + d/2 instead, which is a permutation of channels.)
// No parameters.

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
#include "vgt/ops/pixel_attention.hpp"
#include "vgt/position/frame_positions.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::position {

/// θ_i = 10000^(−2i/d) for the d/2 pairs of a head of size d.
inline std::vector<double> rope_frequencies(std::int64_t head_dim) {
    VGT_CHECK(head_dim > 0 && head_dim % 2 == 0, "rope_frequencies",
              "expected a positive, even head size (pairs of channels), found {}", head_dim);
    std::vector<double> theta(static_cast<std::size_t>(head_dim / 2));
    for (std::int64_t i = 0; i < head_dim / 2; ++i)
        theta[static_cast<std::size_t>(i)] =
            std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
    return theta;
}

}  // namespace vgt::position

namespace vgt::detail {

/// cos and sin [L, d/2] of the angle frame(l)·θ_i of each token l and pair i,
/// each multiplied by scale(frame, i) (1 for RoPE; XPos folds its decay in).
template <class Scale>
std::pair<Tensor, Tensor> rotary_tables(const position::PositionContext& ctx, std::int64_t head_dim, DType dtype,
                                        Device device, Scale scale) {
    const std::vector<double> theta = position::rope_frequencies(head_dim);
    const std::int64_t pairs = head_dim / 2;
    const std::int64_t tokens = ctx.tokens();
    std::vector<double> cos(static_cast<std::size_t>(tokens * pairs));
    std::vector<double> sin(cos.size());
    for (std::int64_t l = 0; l < tokens; ++l) {
        const std::int64_t frame = position::frame_of_token(l, ctx);
        for (std::int64_t i = 0; i < pairs; ++i) {
            const double angle = static_cast<double>(frame) * theta[static_cast<std::size_t>(i)];
            const double s = scale(frame, i);
            cos[static_cast<std::size_t>(l * pairs + i)] = s * std::cos(angle);
            sin[static_cast<std::size_t>(l * pairs + i)] = s * std::sin(angle);
        }
    }
    return {constant_table(cos, Shape{tokens, pairs}, dtype, device),
            constant_table(sin, Shape{tokens, pairs}, dtype, device)};
}

/// RoPE and XPos need whole heads of an even size.
inline void check_rotary_heads(const temporal::MixerOptions& options, std::string_view op) {
    VGT_CHECK(options.heads > 0 && options.channels > 0 && options.channels % options.heads == 0 &&
                  (options.channels / options.heads) % 2 == 0,
              op, "expected heads dividing channels into heads of an even size d, found channels = {}, heads = {}",
              options.channels, options.heads);
}

}  // namespace vgt::detail

namespace vgt::position {

class RoPE {
public:
    static constexpr std::string_view name = "RoPE";

    RoPE(const temporal::MixerOptions& options, Generator&) { detail::check_rotary_heads(options, "RoPE"); }

    Tensor embed(const Tensor& h, const PositionContext&) const { return h; }

    /// q and k [N, heads, L, d] with every pair (2i, 2i+1) turned by frame·θ_i.
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext& ctx) const {
        detail::check_rotate_input(q, k, ctx, "RoPE::rotate");
        const auto [cos, sin] = detail::rotary_tables(ctx, q.size(3), q.dtype(), q.device(),
                                                      [](std::int64_t, std::int64_t) { return 1.0; });
        return {detail::rotate_pairs(q, cos, sin), detail::rotate_pairs(k, cos, sin)};
    }

    Tensor attention_bias(const PositionContext&) const { return {}; }

    /// The same rotation as tables for pixel_attention, which turns q and k
    /// as it reads them (one token per frame).
    PixelRotary pixel_rotary(const PositionContext& ctx, std::int64_t head_dim, DType dtype, Device device) const {
        const auto [cos, sin] =
            detail::rotary_tables(ctx, head_dim, dtype, device, [](std::int64_t, std::int64_t) { return 1.0; });
        return {cos, sin, cos, sin};
    }

    std::int64_t params() const { return nn::count_parameters(*this); }
    void visit_parameters(const nn::ParameterVisitor&, const std::string&) {}
};

static_assert(PositionPolicy<RoPE>);

}  // namespace vgt::position
