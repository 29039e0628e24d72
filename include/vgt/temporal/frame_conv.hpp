#pragma once
// FrameConv: the image model's 3×3 convolution (pad 1) applied to every
// frame on its own. The per-frame baseline of the conv-stage slot.

#include <cstdint>
#include <string>
#include <string_view>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class FrameConv {
public:
    static constexpr std::string_view name = "FrameConv";

    FrameConv(const ConvStageOptions& options, Generator& gen) {
        VGT_CHECK(options.in_channels >= 1 && options.out_channels >= 1, "FrameConv",
                  "expected positive channel counts, found in_channels = {}, out_channels = {}",
                  options.in_channels, options.out_channels);
        conv_ = nn::Conv(options.in_channels, options.out_channels, {3, 3}, ConvOptions{.padding = {1}}, gen,
                         options.dtype);
    }

    /// [B, T, Cin, H, W] → [B, T, Cout, H, W].
    Tensor forward(const Tensor& video) const {
        const VideoShape v = check_input(video.shape());
        return unfold_frames(conv_.forward(fold_frames(video)), v.batch);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// 2·B·T·H·W·Cout·Cin·9; the bias add is point-wise and not counted.
    double flops(const Shape& video) const {
        const VideoShape v = check_input(video);
        return conv_.flops(v.batch * v.frames * v.pixels());
    }

    /// Each output frame reads its own input frame only.
    bool is_causal() const { return true; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_.visit_parameters(visit, nn::join_name(prefix, "conv"));
    }

    std::int64_t in_channels() const { return conv_.in_channels(); }
    std::int64_t out_channels() const { return conv_.out_channels(); }

private:
    VideoShape check_input(const Shape& shape) const {
        VGT_CHECK(shape.rank() == 5 && shape[2] == conv_.in_channels(), "FrameConv",
                  "expected a video [B, T, {}, H, W], found shape {}", conv_.in_channels(), shape);
        return {shape[0], shape[1], shape[2], shape[3], shape[4]};
    }

    nn::Conv conv_;
};

static_assert(check_conv_stage<FrameConv>());

}  // namespace vgt::temporal
