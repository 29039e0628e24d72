#pragma once
// Options of the frame-wise video VAE (models/vae.hpp), mirrored in JSON
// through visit_fields (io/json_config.hpp):
//
//   {"in_channels": 3, "latent_channels": 4, "base_channels": 32,
//    "channel_multipliers": [1, 2, 4], "blocks_per_level": 1,
//    "norm_groups": 32, "latent_scale": 1.0}
//
// Level i works at base_channels · channel_multipliers[i] channels and ends
// with a stride-2 downsample, so the number of levels L sets the spatial
// downsampling factor 2^L (2 levels: ×4, 3 levels: ×8).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vgt/core/error.hpp"
#include "vgt/nn/group_norm.hpp"

namespace vgt::models {

struct VaeOptions {
    std::int64_t in_channels = 3;      // C of the frames (3 for RGB)
    std::int64_t latent_channels = 4;  // c of the latent [.., c, H/f, W/f]
    std::int64_t base_channels = 32;
    std::vector<std::int64_t> channel_multipliers = {1, 2, 4};  // one per level; L levels downsample by 2^L
    std::int64_t blocks_per_level = 1;                          // residual blocks per level, encoder and decoder
    std::int64_t norm_groups = 32;  // GroupNorm groups everywhere; 0 picks nn::default_norm_groups per layer
    double latent_scale = 1.0;      // multiplies latents for diffusion (see estimate_latent_scale)

    static constexpr std::int64_t kMaxLevels = 4;
    static constexpr std::int64_t kMaxChannels = 4096;

    std::int64_t levels() const { return static_cast<std::int64_t>(channel_multipliers.size()); }
    /// f = 2^L: frames of H×W give latents of (H/f)×(W/f).
    std::int64_t downsampling_factor() const { return std::int64_t{1} << levels(); }
    /// Channels of level i's residual blocks.
    std::int64_t level_channels(std::int64_t level) const {
        return base_channels * channel_multipliers[static_cast<std::size_t>(level)];
    }
    /// Groups of a GroupNorm over `channels`.
    std::int64_t groups_for(std::int64_t channels) const {
        return norm_groups == 0 ? nn::default_norm_groups(channels) : norm_groups;
    }

    /// Throws vgt::Error naming the first bad option.
    void validate() const {
        constexpr const char* op = "VaeOptions";
        VGT_CHECK(in_channels >= 1 && in_channels <= kMaxChannels, op, "expected in_channels in [1, {}], found {}",
                  kMaxChannels, in_channels);
        VGT_CHECK(latent_channels >= 1 && latent_channels <= kMaxChannels, op,
                  "expected latent_channels in [1, {}], found {}", kMaxChannels, latent_channels);
        VGT_CHECK(base_channels >= 1 && base_channels <= kMaxChannels, op,
                  "expected base_channels in [1, {}], found {}", kMaxChannels, base_channels);
        VGT_CHECK(levels() >= 1 && levels() <= kMaxLevels, op,
                  "expected 1 to {} channel_multipliers (one per level; 2 levels downsample ×4, 3 levels ×8), "
                  "found {}",
                  kMaxLevels, levels());
        for (std::int64_t m : channel_multipliers)
            VGT_CHECK(m >= 1 && m <= kMaxChannels / base_channels, op,
                      "expected channel_multipliers in [1, {}] (base_channels · multiplier <= {}), found {}",
                      kMaxChannels / base_channels, kMaxChannels, fmt::join(channel_multipliers, ", "));
        VGT_CHECK(blocks_per_level >= 1 && blocks_per_level <= 16, op, "expected blocks_per_level in [1, 16], found {}",
                  blocks_per_level);
        VGT_CHECK(norm_groups >= 0, op, "expected norm_groups >= 0 (0 picks a group count per layer), found {}",
                  norm_groups);
        VGT_CHECK(norm_groups == 0 || base_channels % norm_groups == 0, op,
                  "expected norm_groups dividing base_channels (and so every level's channels), found {} groups "
                  "for {} channels",
                  norm_groups, base_channels);
        VGT_CHECK(std::isfinite(latent_scale) && latent_scale > 0, op,
                  "expected a positive finite latent_scale, found {}", latent_scale);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, VaeOptions& o) {
    v("in_channels", o.in_channels);
    v("latent_channels", o.latent_channels);
    v("base_channels", o.base_channels);
    v("channel_multipliers", o.channel_multipliers);
    v("blocks_per_level", o.blocks_per_level);
    v("norm_groups", o.norm_groups);
    v("latent_scale", o.latent_scale);
}

}  // namespace vgt::models
