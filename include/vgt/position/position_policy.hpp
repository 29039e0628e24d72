#pragma once
// What an attention mixer asks of a position policy. Attention sees L tokens
// per sequence, time-major: token i belongs to frame i / tokens_per_frame
// (tokens_per_frame is 1 for attention over T, H·W for joint space-time
// attention). Positions are frame indices; a policy acts at up to three
// points, each of which may be a no-op:
//   embed(h)          added to the normalised input before the q/k/v projection,
//   rotate(q, k)      applied to queries and keys per head ([N, heads, L, d]),
//   attention_bias()  added to the logits, [heads, L, L] (undefined: none).

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::position {

struct PositionContext {
    std::int64_t frames = 1;
    std::int64_t tokens_per_frame = 1;
    bool causal = false;  // keys after the query's frame are masked anyway; ALiBi uses −m·(i−j)
    std::int64_t tokens() const { return frames * tokens_per_frame; }
};

template <class P>
concept PositionPolicy = requires(P& p, const P& cp, const Tensor& t, const PositionContext& ctx,
                                  const temporal::MixerOptions& options, Generator& gen,
                                  const nn::ParameterVisitor& visit, const std::string& prefix) {
    { P::name } -> std::convertible_to<std::string_view>;
    P(options, gen);
    { cp.embed(t, ctx) } -> std::same_as<Tensor>;
    { cp.rotate(t, t, ctx) } -> std::same_as<std::pair<Tensor, Tensor>>;
    { cp.attention_bias(ctx) } -> std::same_as<Tensor>;
    p.visit_parameters(visit, prefix);
};

/// Whether a policy acts only through attention_bias() (its embed and rotate
/// are no-ops, declared by `static constexpr bool bias_only = true`): the
/// attention mixers may then skip the token layout those two act on.
template <class P>
constexpr bool is_bias_only() {
    if constexpr (requires { P::bias_only; }) return P::bias_only;
    else return false;
}

/// Whether a policy can hand its rotation to pixel_attention as tables
/// (RoPE, XPos): `pixel_rotary(ctx, head_dim, dtype, device)`.
template <class P>
concept HasPixelRotary = requires(const P& p, const PositionContext& ctx, std::int64_t d, DType dtype, Device device) {
    p.pixel_rotary(ctx, d, dtype, device);
};

/// No position information: attention over frames is then permutation-equivariant.
class NoPosition {
public:
    static constexpr std::string_view name = "NoPosition";
    NoPosition(const temporal::MixerOptions&, Generator&) {}
    static constexpr bool bias_only = true;  // embed and rotate are no-ops
    Tensor embed(const Tensor& h, const PositionContext&) const { return h; }
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext&) const { return {q, k}; }
    Tensor attention_bias(const PositionContext&) const { return {}; }
    std::int64_t params() const { return 0; }
    void visit_parameters(const nn::ParameterVisitor&, const std::string&) {}
};

}  // namespace vgt::position
