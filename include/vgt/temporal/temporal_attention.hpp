#pragma once
// TemporalAttention: per pixel, multi-head self-attention over the T frames
// (the temporal attention of Gen-1, VDM and AnimateDiff), y = x + g(x).
// Every frame sees every other frame, so the block is not causal.
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
class TemporalAttention : public AttentionMixer<Pos, AttentionTokens::PerPixel> {
public:
    static constexpr std::string_view name = "TemporalAttention";
    TemporalAttention(const MixerOptions& options, Generator& gen)
        : AttentionMixer<Pos, AttentionTokens::PerPixel>(options, gen, name.data(), false,
                                                         nn::MaskStyle::PreSoftmax) {}
};

static_assert(check_temporal_mixer<TemporalAttention<>>());

}  // namespace vgt::temporal
