#pragma once
// The video UNets the research notes compare, as named instantiations of
// VideoUNet, and the catalog that maps a config's name onto one of them:
//
//   name          type             conv stage      temporal mixer
//   "magicvideo"  MagicVideoUNet   AdapterConv2D   DirectedAttention
//   "gen1"        Gen1UNet         Conv2Plus1D     TemporalAttention
//   "vdm"         VDMUNet          FrameConv       TemporalAttention<RelativeBias>
//   "conv3d"      Conv3DUNet       Conv3D          NoMixer
//   "image"       ImageUNet        FrameConv       NoMixer
//   "vdm_flow"    VDMFlowUNet      FrameConv       TemporalAttention<RelativeBias>, then FlowWarp
//
//   visit_unet("gen1", [&]<class UNet>() { UNet model(options, gen); ... });
//
// An unknown name is a vgt::Error listing the valid ones.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vgt/core/error.hpp"
#include "vgt/models/video_unet.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/position/relative_bias.hpp"
#include "vgt/temporal/adapter_conv2d.hpp"
#include "vgt/temporal/conv2plus1d.hpp"
#include "vgt/temporal/conv3d_stage.hpp"
#include "vgt/temporal/directed_attention.hpp"
#include "vgt/temporal/flow_warp.hpp"
#include "vgt/temporal/frame_conv.hpp"
#include "vgt/temporal/no_mixer.hpp"
#include "vgt/temporal/sequential.hpp"
#include "vgt/temporal/temporal_attention.hpp"

namespace vgt::models {

/// MagicVideo (Zhou et al. 2022): a shared 2D conv with a per-frame adapter,
/// and directed (causal) temporal self-attention.
using MagicVideoUNet = VideoUNet<temporal::AdapterConv2D, temporal::DirectedAttention<position::NoPosition>>;

/// Gen-1 (Esser et al. 2023): a 1D temporal conv after each 2D conv, and
/// temporal self-attention.
using Gen1UNet = VideoUNet<temporal::Conv2Plus1D, temporal::TemporalAttention<position::NoPosition>>;

/// Video Diffusion Models (Ho et al. 2022): 2D convs per frame, and temporal
/// attention with a learned relative-position bias.
using VDMUNet = VideoUNet<temporal::FrameConv, temporal::TemporalAttention<position::RelativeBias>>;

/// The 3D-convolution baseline.
using Conv3DUNet = VideoUNet<temporal::Conv3D, temporal::NoMixer>;

/// An image diffusion UNet run frame by frame, the reference every video
/// model is compared with.
using ImageUNet = VideoUNet<temporal::FrameConv, temporal::NoMixer>;

/// VDM's blocks with a FlowWarp after each temporal attention: the previous
/// frame aligned by a flow before it is fused. With
/// VideoUNetOptions::conditioned_mixers the flow also takes the time
/// embedding, so a prompt can set the motion.
using VDMFlowUNet = VideoUNet<temporal::FrameConv,
                              temporal::Sequential<temporal::TemporalAttention<position::RelativeBias>, temporal::FlowWarp>>;

inline constexpr std::array<std::string_view, 6> kUNetNames = {"magicvideo", "gen1",  "vdm",
                                                               "conv3d",     "image", "vdm_flow"};

inline std::vector<std::string> unet_names() { return {kUNetNames.begin(), kUNetNames.end()}; }

/// Calls f.template operator()<UNet>() with the preset called `name`.
template <class F>
void visit_unet(std::string_view name, F&& f) {
    if (name == "magicvideo") return f.template operator()<MagicVideoUNet>();
    if (name == "gen1") return f.template operator()<Gen1UNet>();
    if (name == "vdm") return f.template operator()<VDMUNet>();
    if (name == "conv3d") return f.template operator()<Conv3DUNet>();
    if (name == "image") return f.template operator()<ImageUNet>();
    if (name == "vdm_flow") return f.template operator()<VDMFlowUNet>();
    fail("unet", "expected one of {}, found '{}'", fmt::join(kUNetNames, ", "), name);
}

}  // namespace vgt::models
