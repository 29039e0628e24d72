#pragma once
// Construction options of the two slots. Every block of a slot takes the same
// options struct and reads the fields it needs, so a model or an ablation
// builds any block the same way and a JSON config maps onto one struct.

#include <cstdint>
#include <string_view>

#include "vgt/core/dtype.hpp"
#include <fmt/format.h>

#include "vgt/core/error.hpp"

namespace vgt::temporal {

/// Options of a conv stage: [B, T, Cin, H, W] → [B, T, Cout, H, W].
struct ConvStageOptions {
    std::int64_t in_channels = 0;
    std::int64_t out_channels = 0;
    std::int64_t temporal_kernel = 3;  // kt of Conv3D and Conv2Plus1D (odd)
    bool causal = false;               // Conv3D: pad kt − 1 past frames only
    std::int64_t max_frames = 16;      // AdapterConv2D: Tmax, the frames with their own scale and shift
    DType dtype = DType::Float32;
};

/// How DirectedAttention applies its causal mask.
enum class MaskMode {
    PreSoftmax,   // −∞ on future frames before the softmax (rows renormalised)
    PostSoftmax,  // the paper's literal softmax(QKᵀ/√d) ⊙ M, rows not renormalised
};

inline std::string_view mask_mode_name(MaskMode mode) {
    return mode == MaskMode::PreSoftmax ? "pre_softmax" : "post_softmax";
}

inline MaskMode parse_mask_mode(std::string_view name) {
    if (name == "pre_softmax") return MaskMode::PreSoftmax;
    if (name == "post_softmax") return MaskMode::PostSoftmax;
    throw Error(fmt::format("parse_mask_mode: expected 'pre_softmax' or 'post_softmax', found '{}'", name));
}

/// Options of a temporal mixer y = x + g(x) over [B, T, C, H, W]; also the
/// options of the position policy inside an attention mixer.
struct MixerOptions {
    std::int64_t channels = 0;
    std::int64_t heads = 4;              // attention heads; must divide channels
    std::int64_t norm_groups = 0;        // GroupNorm groups of h; 0 picks nn::default_norm_groups
    std::int64_t max_frames = 16;        // Learned positions: Tmax
    bool causal = false;                 // SpatioTemporalAttention: attend to frames ≤ t only
    MaskMode mask_mode = MaskMode::PreSoftmax;  // DirectedAttention
    std::int64_t tcn_levels = 2;         // TCN depth L (dilations 1, 2, …, 2^(L−1))
    std::int64_t tcn_kernel = 3;         // TCN kernel k
    std::int64_t embedding_dim = 0;      // FlowWarp: width of the conditioning embedding; 0: unconditioned
    DType dtype = DType::Float32;
};

}  // namespace vgt::temporal
