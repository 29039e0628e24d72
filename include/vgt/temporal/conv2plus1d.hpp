#pragma once
// Conv2Plus1D: the factorised stage of Make-A-Video and Gen-1. A 3×3 conv on
// every frame (Cin → Cout), then a Conv1d of kernel kt over T for every pixel
// (Cout → Cout, kt/2 zero frames on both sides). The temporal conv starts as
// the identity (Dirac weight, zero bias), so a freshly built stage computes
// exactly the per-frame conv of an image model and training adds motion.

#include <cstdint>
#include <string>
#include <string_view>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/temporal_conv.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class Conv2Plus1D {
public:
    static constexpr std::string_view name = "Conv2Plus1D";

    Conv2Plus1D(const ConvStageOptions& options, Generator& gen) {
        VGT_CHECK(options.in_channels >= 1 && options.out_channels >= 1, "Conv2Plus1D",
                  "expected positive channel counts, found in_channels = {}, out_channels = {}",
                  options.in_channels, options.out_channels);
        const std::int64_t kt = options.temporal_kernel;
        VGT_CHECK(kt >= 1 && kt % 2 == 1, "Conv2Plus1D", "expected an odd positive temporal kernel, found {}", kt);
        const std::int64_t c = options.out_channels;
        // The spatial weights are drawn first, so the same seed gives FrameConv's weights.
        spatial_ = nn::Conv(options.in_channels, c, {3, 3}, ConvOptions{.padding = {1}}, gen, options.dtype);
        temporal_ = nn::Conv(c, c, {kt}, ConvOptions{.padding = {kt / 2}}, gen, options.dtype);
        temporal_.weight = nn::dirac_conv1d_weight(c, kt, options.dtype);
        temporal_.bias = nn::zeros_parameter(Shape{c}, options.dtype);
    }

    /// [B, T, Cin, H, W] → [B, T, Cout, H, W].
    Tensor forward(const Tensor& video) const {
        const VideoShape v = check_input(video.shape());
        const Tensor per_frame = unfold_frames(spatial_.forward(fold_frames(video)), v.batch);
        const std::int64_t half = temporal_.weight.size(2) / 2;
        return temporal_conv(per_frame, temporal_.weight, temporal_.bias, {.pad_before = half, .pad_after = half});
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// 2·B·T·H·W·Cout·Cin·9 (spatial) + 2·B·T·H·W·Cout·Cout·kt (temporal);
    /// bias adds are point-wise and not counted.
    double flops(const Shape& video) const {
        const VideoShape v = check_input(video);
        const std::int64_t positions = v.batch * v.frames * v.pixels();
        return spatial_.flops(positions) + temporal_.flops(positions);
    }

    /// Frame t reads frames up to t + kt/2.
    bool is_causal() const { return false; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        spatial_.visit_parameters(visit, nn::join_name(prefix, "spatial"));
        temporal_.visit_parameters(visit, nn::join_name(prefix, "temporal"));
    }

    std::int64_t in_channels() const { return spatial_.in_channels(); }
    std::int64_t out_channels() const { return spatial_.out_channels(); }
    std::int64_t temporal_kernel() const { return temporal_.weight.size(2); }

private:
    VideoShape check_input(const Shape& shape) const {
        VGT_CHECK(shape.rank() == 5 && shape[2] == spatial_.in_channels(), "Conv2Plus1D",
                  "expected a video [B, T, {}, H, W], found shape {}", spatial_.in_channels(), shape);
        return {shape[0], shape[1], shape[2], shape[3], shape[4]};
    }

    nn::Conv spatial_;
    nn::Conv temporal_;
};

static_assert(check_conv_stage<Conv2Plus1D>());

}  // namespace vgt::temporal
