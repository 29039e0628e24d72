#pragma once
// The variants `vgt ablate` is compiled with: every conv stage without a
// mixer, every mixer on FrameConv, every position policy under
// TemporalAttention, and the presets of unet_presets.hpp under their
// stage-and-mixer names. The experiments in benchmarks/ablations/ pick from
// this list; a study of a block of one's own compiles its own
// Ablation<...> (examples/07_ablation.cpp).

#include "vgt/experiment/ablation.hpp"
#include "vgt/experiment/ablation_variant.hpp"
#include "vgt/models/video_unet.hpp"
#include "vgt/position/all.hpp"
#include "vgt/temporal/catalog.hpp"

namespace vgt::experiment {

namespace builtin {

template <class Stage, class Mixer>
using UNetVariant = Variant<models::VideoUNet<Stage, Mixer>>;

using namespace vgt::temporal;
using namespace vgt::position;

using BuiltinAblation = Ablation<
    // Conv stages alone: MagicVideo's efficiency claim.
    UNetVariant<FrameConv, NoMixer>, UNetVariant<Conv3D, NoMixer>, UNetVariant<Conv2Plus1D, NoMixer>,
    UNetVariant<AdapterConv2D, NoMixer>, UNetVariant<AdapterConv2D, DirectedAttention<>>,
    // Attention direction.
    UNetVariant<FrameConv, TemporalAttention<>>, UNetVariant<FrameConv, DirectedAttention<>>,
    UNetVariant<FrameConv, SpatioTemporalAttention<>>,
    // Positions, and recurrence and convolution over time, for long videos.
    UNetVariant<FrameConv, TemporalAttention<Sinusoidal>>, UNetVariant<FrameConv, TemporalAttention<Learned>>,
    UNetVariant<FrameConv, TemporalAttention<RelativeBias>>, UNetVariant<FrameConv, TemporalAttention<RoPE>>,
    UNetVariant<FrameConv, TemporalAttention<ALiBi>>, UNetVariant<FrameConv, TemporalAttention<XPos>>,
    UNetVariant<FrameConv, ConvLSTM>, UNetVariant<FrameConv, TCN>,
    // Frame differences, optical flow, and Gen-1's stage and mixer.
    UNetVariant<FrameConv, FrameDelta>, UNetVariant<FrameConv, FlowWarp>,
    UNetVariant<Conv2Plus1D, TemporalAttention<>>>;

}  // namespace builtin

using builtin::BuiltinAblation;

}  // namespace vgt::experiment
