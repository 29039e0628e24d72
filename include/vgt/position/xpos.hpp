#pragma once
// XPos: RoPE with an exponential decay (Sun et al. 2023, "A Length-
// Extrapolatable Transformer"), over frames. Pair i of a head of size d has
// ζ_i = (2i + 0.4d)/(1.4d) < 1; at frame n the query's pair is rotated as in
// RoPE and multiplied by ζ_i^(n/512), the key's pair rotated and divided by
// it, so q_m·k_n carries ζ_i^((m−n)/512): a relative position again, now
// with attention to distant frames damped most on the fast-turning pairs.
// scale_base 512 as in the paper; positions are frame indices from 0.
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
#include "vgt/position/rope.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::position {

/// ζ_i = (2i + 0.4d)/(1.4d) for the d/2 pairs of a head of size d.
inline std::vector<double> xpos_decay_bases(std::int64_t head_dim) {
    VGT_CHECK(head_dim > 0 && head_dim % 2 == 0, "xpos_decay_bases",
              "expected a positive, even head size (pairs of channels), found {}", head_dim);
    const double d = static_cast<double>(head_dim);
    std::vector<double> zeta(static_cast<std::size_t>(head_dim / 2));
    for (std::int64_t i = 0; i < head_dim / 2; ++i)
        zeta[static_cast<std::size_t>(i)] = (2.0 * static_cast<double>(i) + 0.4 * d) / (1.4 * d);
    return zeta;
}

class XPos {
public:
    static constexpr std::string_view name = "XPos";
    static constexpr double scale_base = 512.0;

    XPos(const temporal::MixerOptions& options, Generator&) { detail::check_rotary_heads(options, "XPos"); }

    Tensor embed(const Tensor& h, const PositionContext&) const { return h; }

    /// RoPE's rotation; q times ζ_i^(frame/512), k divided by it.
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext& ctx) const {
        detail::check_rotate_input(q, k, ctx, "XPos::rotate");
        const PixelRotary t = pixel_rotary(ctx, q.size(3), q.dtype(), q.device());
        return {detail::rotate_pairs(q, t.cos_q, t.sin_q), detail::rotate_pairs(k, t.cos_k, t.sin_k)};
    }

    /// The rotation and decay as tables (queries', then keys'), as
    /// pixel_attention takes them.
    PixelRotary pixel_rotary(const PositionContext& ctx, std::int64_t head_dim, DType dtype, Device device) const {
        const std::vector<double> zeta = xpos_decay_bases(head_dim);
        auto decay = [&](std::int64_t frame, std::int64_t i, double sign) {
            return std::pow(zeta[static_cast<std::size_t>(i)], sign * static_cast<double>(frame) / scale_base);
        };
        const auto [cos_q, sin_q] = detail::rotary_tables(
            ctx, head_dim, dtype, device, [&](std::int64_t n, std::int64_t i) { return decay(n, i, 1.0); });
        const auto [cos_k, sin_k] = detail::rotary_tables(
            ctx, head_dim, dtype, device, [&](std::int64_t n, std::int64_t i) { return decay(n, i, -1.0); });
        return {cos_q, sin_q, cos_k, sin_k};
    }

    Tensor attention_bias(const PositionContext&) const { return {}; }

    std::int64_t params() const { return nn::count_parameters(*this); }
    void visit_parameters(const nn::ParameterVisitor&, const std::string&) {}
};

static_assert(PositionPolicy<XPos>);

}  // namespace vgt::position
