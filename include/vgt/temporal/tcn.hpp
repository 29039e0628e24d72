#pragma once
// TCN (Bai et al. 2018): a stack of causal dilated temporal convolutions
// over each pixel's sequence of frames, as a residual temporal mixer
// y = x + g(x).
//
// On h = GroupNorm(x) (per frame), seen as one signal z_0 [C, T] per pixel:
//   z_{l+1} = z_l + SiLU(conv_l(pad_left(z_l, (k−1)·2^l)))    l = 0 … L−1
// where conv_l is a Conv1d C→C with kernel k and dilation 2^l and no padding
// of its own: the (k−1)·2^l zeros go on the past side only, so output frame
// t sees input frames t − (k−1)·2^l … t. Then g = Conv1x1(z_L) per frame.
// Frame t of the output depends on frames t − (receptive_field() − 1) … t.
//
// Parameters (PyTorch-style names):
//   norm.weight [C], norm.bias [C]                 GroupNorm (1 and 0)
//   levels.<l>.weight [C, C, k], levels.<l>.bias [C]   Conv1d, fan-in uniform
//   out.weight [C, C, 1, 1], out.bias [C]          Conv2d 1×1 per frame, zero, so
//                                                  that the block starts as the identity

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/conv.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/temporal_conv.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class TCN {
public:
    static constexpr std::string_view name = "TCN";

    /// Beyond this depth the dilation 2^(L−1) would outgrow any video.
    static constexpr std::int64_t max_levels = 30;

    TCN(const MixerOptions& options, Generator& gen) : channels_(options.channels), kernel_(options.tcn_kernel) {
        const std::int64_t c = options.channels;
        VGT_CHECK(c >= 1, "TCN", "expected a positive channel count, found {}", c);
        VGT_CHECK(options.tcn_levels >= 1 && options.tcn_levels <= max_levels, "TCN",
                  "expected tcn_levels between 1 and {}, found {}", max_levels, options.tcn_levels);
        VGT_CHECK(options.tcn_kernel >= 1, "TCN", "expected a positive tcn_kernel, found {}", options.tcn_kernel);
        const std::int64_t groups = options.norm_groups == 0 ? nn::default_norm_groups(c) : options.norm_groups;
        VGT_CHECK(groups >= 1 && c % groups == 0, "TCN", "expected norm groups dividing {} channels, found {}", c,
                  groups);
        norm = nn::GroupNorm(groups, c, options.dtype);
        for (std::int64_t l = 0; l < options.tcn_levels; ++l)
            levels.emplace_back(c, c, std::vector<std::int64_t>{kernel_}, ConvOptions{.dilation = {dilation(l)}},
                                gen, options.dtype);
        out = nn::Conv(c, c, {1, 1}, ConvOptions{}, gen, options.dtype);
        out.zero_();
    }

    Tensor forward(const Tensor& video) const {
        const VideoShape v = check_input(video);
        Tensor z = unfold_frames(norm.forward(fold_frames(video)), v.batch);
        for (std::size_t l = 0; l < levels.size(); ++l) {
            const std::int64_t d = dilation(static_cast<std::int64_t>(l));
            const TemporalConvOptions causal{.dilation = d, .pad_before = (kernel_ - 1) * d, .pad_after = 0};
            z = z + silu(temporal_conv(z, levels[l].weight, levels[l].bias, causal));
        }
        return video + unfold_frames(out.forward(fold_frames(z)), v.batch);
    }

    /// Frames of the input that one output frame sees (itself included):
    /// 1 + (k − 1)·(2^L − 1).
    std::int64_t receptive_field() const {
        const auto depth = static_cast<std::int64_t>(levels.size());
        return 1 + (kernel_ - 1) * ((std::int64_t{1} << depth) - 1);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// Forward FLOPs of the convolutions (multiply-add = 2): each level's
    /// Conv1d and the 1×1 output conv at every (pixel, frame). GroupNorm,
    /// SiLU and the residual additions are not counted.
    double flops(const Shape& video) const {
        VGT_CHECK(video.rank() == 5, "TCN::flops", "expected a video shape [B, T, C, H, W], found {}", video);
        const std::int64_t positions = video[0] * video[1] * video[3] * video[4];
        double total = out.flops(positions);
        for (const nn::Conv& level : levels) total += level.flops(positions);
        return total;
    }

    bool is_causal() const { return true; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm.visit_parameters(visit, nn::join_name(prefix, "norm"));
        for (std::size_t l = 0; l < levels.size(); ++l)
            levels[l].visit_parameters(visit, nn::join_name(prefix, "levels." + std::to_string(l)));
        out.visit_parameters(visit, nn::join_name(prefix, "out"));
    }

    nn::GroupNorm norm;
    std::vector<nn::Conv> levels;
    nn::Conv out;

private:
    static std::int64_t dilation(std::int64_t level) { return std::int64_t{1} << level; }

    VideoShape check_input(const Tensor& video) const {
        const VideoShape v = VideoShape::of(video, "TCN");
        VGT_CHECK(v.channels == channels_, "TCN", "expected a video [B, T, {}, H, W], found shape {}", channels_,
                  video.shape());
        VGT_CHECK(video.dtype() == norm.weight.dtype(), "TCN", "expected a video of dtype {}, found {}",
                  dtype_name(norm.weight.dtype()), dtype_name(video.dtype()));
        VGT_CHECK(v.frames >= 1 && v.height >= 1 && v.width >= 1, "TCN",
                  "expected at least one frame of at least one pixel, found shape {}", video.shape());
        return v;
    }

    std::int64_t channels_;
    std::int64_t kernel_;
};

static_assert(check_temporal_mixer<TCN>());

}  // namespace vgt::temporal
