#pragma once
// DirectedAttention: MagicVideo's directed temporal self-attention. Per
// pixel, multi-head attention over T in which frame t attends to frames ≤ t
// only. options.mask_mode picks how the mask acts:
//   pre_softmax (default): −∞ on the logits of future frames, so each row is
//     renormalised over the frames it sees; the block is causal.
//   post_softmax: the paper's literal softmax(QKᵀ/√d) ⊙ M, rows not
//     renormalised. Future values are hidden, but the softmax's denominator
//     still sums over future keys, so future frames change the weights of
//     frame t: this mode is NOT causal, and is_causal() says so.
// Parameters and their layout: see temporal/attention_mixer.hpp.

#include <string_view>

#include "vgt/core/random.hpp"
#include "vgt/nn/attention.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/temporal/attention_mixer.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

template <position::PositionPolicy Pos = position::NoPosition>
class DirectedAttention : public AttentionMixer<Pos, AttentionTokens::PerPixel> {
public:
    static constexpr std::string_view name = "DirectedAttention";
    DirectedAttention(const MixerOptions& options, Generator& gen)
        : AttentionMixer<Pos, AttentionTokens::PerPixel>(
              options, gen, name.data(), true,
              options.mask_mode == MaskMode::PostSoftmax ? nn::MaskStyle::PostSoftmax : nn::MaskStyle::PreSoftmax) {}
};

static_assert(check_temporal_mixer<DirectedAttention<>>());

}  // namespace vgt::temporal
