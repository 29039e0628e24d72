#pragma once
// Conv3D: a (kt, 3, 3) convolution over time, height and width, the 3D-conv
// baseline that the factorised stages are measured against. Frames outside
// the video are zeros. Non-causal, kt/2 frames are padded on both sides (kt
// odd); causal, kt − 1 past frames only, so frame t sees frames t−kt+1..t.

#include <cstdint>
#include <string>
#include <string_view>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/pad.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class Conv3D {
public:
    static constexpr std::string_view name = "Conv3D";

    Conv3D(const ConvStageOptions& options, Generator& gen) : causal_(options.causal) {
        VGT_CHECK(options.in_channels >= 1 && options.out_channels >= 1, "Conv3D",
                  "expected positive channel counts, found in_channels = {}, out_channels = {}",
                  options.in_channels, options.out_channels);
        const std::int64_t kt = options.temporal_kernel;
        VGT_CHECK(kt >= 1 && (options.causal || kt % 2 == 1), "Conv3D",
                  "expected a positive temporal kernel, odd unless causal, found {} (causal = {})", kt,
                  options.causal);
        // Causal: the past frames come from an explicit pad on T, the conv pads H and W only.
        const std::int64_t time_padding = causal_ ? 0 : kt / 2;
        conv_ = nn::Conv(options.in_channels, options.out_channels, {kt, 3, 3},
                         ConvOptions{.padding = {time_padding, 1, 1}}, gen, options.dtype);
    }

    /// [B, T, Cin, H, W] → [B, T, Cout, H, W].
    Tensor forward(const Tensor& video) const {
        check_input(video.shape());
        Tensor volume = to_channels_first_volume(video);
        // pad() lists (before, after) from the last dimension: W, H, then T.
        if (causal_) volume = pad(volume, {0, 0, 0, 0, temporal_kernel() - 1, 0});
        return from_channels_first_volume(conv_.forward(volume));
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// 2·B·T·H·W·Cout·Cin·kt·9; the bias add is point-wise and not counted.
    double flops(const Shape& video) const {
        const VideoShape v = check_input(video);
        return conv_.flops(v.batch * v.frames * v.pixels());
    }

    bool is_causal() const { return causal_; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_.visit_parameters(visit, nn::join_name(prefix, "conv"));
    }

    std::int64_t in_channels() const { return conv_.in_channels(); }
    std::int64_t out_channels() const { return conv_.out_channels(); }
    std::int64_t temporal_kernel() const { return conv_.weight.size(2); }

private:
    VideoShape check_input(const Shape& shape) const {
        VGT_CHECK(shape.rank() == 5 && shape[2] == conv_.in_channels(), "Conv3D",
                  "expected a video [B, T, {}, H, W], found shape {}", conv_.in_channels(), shape);
        return {shape[0], shape[1], shape[2], shape[3], shape[4]};
    }

    nn::Conv conv_;
    bool causal_ = false;
};

static_assert(check_conv_stage<Conv3D>());

}  // namespace vgt::temporal
