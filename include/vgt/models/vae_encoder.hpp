#pragma once
// The VAE's encoder, frame by frame: frames [N, C, H, W] → moments
// [N, 2c, H/f, W/f] (mean and logvar of c latent channels, f = 2^L):
//
//   conv_in (3×3, C → base)
//   per level i: blocks_per_level VaeResBlocks to base·mult[i] channels,
//                then a stride-2 VaeDownsample
//   mid: two VaeResBlocks
//   norm_out (GroupNorm), SiLU, conv_out (3×3 → 2c)
//
// Parameter names: conv_in.*, down.<i>.blocks.<j>.*, down.<i>.downsample.conv.*,
// mid.block_1.*, mid.block_2.*, norm_out.*, conv_out.*.

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

class VaeEncoder {
public:
    VaeEncoder() = default;
    /// `options` must be valid (VaeOptions::validate).
    VaeEncoder(const VaeOptions& options, Generator& gen, DType dtype) {
        const std::int64_t base = options.base_channels;
        conv_in_ = nn::Conv(options.in_channels, base, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype);
        std::int64_t channels = base;
        for (std::int64_t level = 0; level < options.levels(); ++level) {
            Level l;
            const std::int64_t out = options.level_channels(level);
            for (std::int64_t j = 0; j < options.blocks_per_level; ++j) {
                l.blocks.emplace_back(channels, out, options.groups_for(channels), options.groups_for(out), gen, dtype);
                channels = out;
            }
            l.downsample = VaeDownsample(channels, gen, dtype);
            down_.push_back(std::move(l));
        }
        const std::int64_t groups = options.groups_for(channels);
        mid_block_1_ = VaeResBlock(channels, channels, groups, groups, gen, dtype);
        mid_block_2_ = VaeResBlock(channels, channels, groups, groups, gen, dtype);
        norm_out_ = nn::GroupNorm(groups, channels, dtype, VaeResBlock::kNormEps);
        conv_out_ = nn::Conv(channels, 2 * options.latent_channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype);
    }

    /// frames [N, C, H, W] → moments [N, 2c, H/f, W/f]; the caller checks shapes.
    Tensor forward(const Tensor& frames) const {
        Tensor h = conv_in_.forward(frames);
        for (const Level& level : down_) {
            for (const VaeResBlock& block : level.blocks) h = block.forward(h);
            h = level.downsample.forward(h);
        }
        h = mid_block_2_.forward(mid_block_1_.forward(h));
        return conv_out_.forward(silu(norm_out_.forward(h)));
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_in_.visit_parameters(visit, nn::join_name(prefix, "conv_in"));
        for (std::size_t i = 0; i < down_.size(); ++i) {
            const std::string level = nn::join_name(prefix, "down." + std::to_string(i));
            for (std::size_t j = 0; j < down_[i].blocks.size(); ++j)
                down_[i].blocks[j].visit_parameters(visit, level + ".blocks." + std::to_string(j));
            down_[i].downsample.visit_parameters(visit, level + ".downsample");
        }
        mid_block_1_.visit_parameters(visit, nn::join_name(prefix, "mid.block_1"));
        mid_block_2_.visit_parameters(visit, nn::join_name(prefix, "mid.block_2"));
        norm_out_.visit_parameters(visit, nn::join_name(prefix, "norm_out"));
        conv_out_.visit_parameters(visit, nn::join_name(prefix, "conv_out"));
    }

private:
    struct Level {
        std::vector<VaeResBlock> blocks;
        VaeDownsample downsample;
    };

    nn::Conv conv_in_;
    std::vector<Level> down_;
    VaeResBlock mid_block_1_, mid_block_2_;
    nn::GroupNorm norm_out_;
    nn::Conv conv_out_;
};

}  // namespace vgt::models
