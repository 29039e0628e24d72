#pragma once
// The VAE's decoder, the encoder's mirror, frame by frame: latents
// [N, c, h, w] → frames [N, C, f·h, f·w] (f = 2^L):
//
//   conv_in (3×3, c → base·mult[L−1])
//   mid: two VaeResBlocks
//   per level i = L−1, ..., 0: a VaeUpsample (nearest ×2, 3×3 conv), then
//                blocks_per_level VaeResBlocks to base·mult[i] channels
//   norm_out (GroupNorm), SiLU, conv_out (3×3 → C)
//
// Levels are numbered as the encoder's (up.0 works at full resolution and
// runs last). Parameter names: conv_in.*, mid.block_1.*, mid.block_2.*,
// up.<i>.upsample.conv.*, up.<i>.blocks.<j>.*, norm_out.*, conv_out.*.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/models/vae_blocks.hpp"
#include "vgt/models/vae_options.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"

namespace vgt::models {

class VaeDecoder {
public:
    VaeDecoder() = default;
    /// `options` must be valid (VaeOptions::validate).
    VaeDecoder(const VaeOptions& options, Generator& gen, DType dtype) {
        std::int64_t channels = options.level_channels(options.levels() - 1);
        conv_in_ = nn::Conv(options.latent_channels, channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype);
        const std::int64_t groups = options.groups_for(channels);
        mid_block_1_ = VaeResBlock(channels, channels, groups, groups, gen, dtype);
        mid_block_2_ = VaeResBlock(channels, channels, groups, groups, gen, dtype);
        up_.resize(static_cast<std::size_t>(options.levels()));
        for (std::int64_t level = options.levels() - 1; level >= 0; --level) {
            Level& l = up_[static_cast<std::size_t>(level)];
            l.upsample = VaeUpsample(channels, gen, dtype);
            const std::int64_t out = options.level_channels(level);
            for (std::int64_t j = 0; j < options.blocks_per_level; ++j) {
                l.blocks.emplace_back(channels, out, options.groups_for(channels), options.groups_for(out), gen, dtype);
                channels = out;
            }
        }
        norm_out_ = nn::GroupNorm(options.groups_for(channels), channels, dtype, VaeResBlock::kNormEps);
        conv_out_ = nn::Conv(channels, options.in_channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype);
    }

    /// latents [N, c, h, w] → frames [N, C, f·h, f·w]; the caller checks shapes.
    Tensor forward(const Tensor& latents) const {
        Tensor h = mid_block_2_.forward(mid_block_1_.forward(conv_in_.forward(latents)));
        for (std::size_t i = up_.size(); i-- > 0;) {
            h = up_[i].upsample.forward(h);
            for (const VaeResBlock& block : up_[i].blocks) h = block.forward(h);
        }
        return conv_out_.forward(silu(norm_out_.forward(h)));
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_in_.visit_parameters(visit, nn::join_name(prefix, "conv_in"));
        mid_block_1_.visit_parameters(visit, nn::join_name(prefix, "mid.block_1"));
        mid_block_2_.visit_parameters(visit, nn::join_name(prefix, "mid.block_2"));
        for (std::size_t i = 0; i < up_.size(); ++i) {
            const std::string level = nn::join_name(prefix, "up." + std::to_string(i));
            up_[i].upsample.visit_parameters(visit, level + ".upsample");
            for (std::size_t j = 0; j < up_[i].blocks.size(); ++j)
                up_[i].blocks[j].visit_parameters(visit, level + ".blocks." + std::to_string(j));
        }
        norm_out_.visit_parameters(visit, nn::join_name(prefix, "norm_out"));
        conv_out_.visit_parameters(visit, nn::join_name(prefix, "conv_out"));
    }

private:
    struct Level {
        VaeUpsample upsample;
        std::vector<VaeResBlock> blocks;
    };

    nn::Conv conv_in_;
    VaeResBlock mid_block_1_, mid_block_2_;
    std::vector<Level> up_;
    nn::GroupNorm norm_out_;
    nn::Conv conv_out_;
};

}  // namespace vgt::models
