#pragma once
// SpatioTemporalAttention: joint multi-head self-attention over all T·H·W
// tokens of each video (the "full" attention of Latte and Open-Sora). Its
// cost grows with (T·H·W)², so it is meant for low resolutions. With
// options.causal, the tokens of frame t see the tokens of frames ≤ t only
// (all of frame t's own tokens included), and the block is causal.
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
class SpatioTemporalAttention : public AttentionMixer<Pos, AttentionTokens::WholeVideo> {
public:
    static constexpr std::string_view name = "SpatioTemporalAttention";
    SpatioTemporalAttention(const MixerOptions& options, Generator& gen)
        : AttentionMixer<Pos, AttentionTokens::WholeVideo>(options, gen, name.data(), options.causal,
                                                           nn::MaskStyle::PreSoftmax) {}
};

static_assert(check_temporal_mixer<SpatioTemporalAttention<>>());

}  // namespace vgt::temporal
