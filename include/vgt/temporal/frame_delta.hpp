#pragma once
// FrameDelta: a temporal mixer built on the differences between adjacent
// frames. Adjacent frames are mostly alike, so what carries the motion is
// what changed; the block hands that change to a temporal conv next to the
// frames themselves.
//
//   h   = GroupNorm(x), per frame
//   d_t = h_t − h_{t−1},  d_0 = 0
//   e   = Conv1d over T, per pixel, of [h, d] (2C → C, kernel 3, zero padding 1 on both ends)
//   y   = x + Conv1x1(SiLU(e))
//
// The temporal conv is centred (padding 1 before and after), so frame t's
// output reads frame t + 1: the block is NOT causal. With d inside the
// window, e_t depends on frames t − 2 … t + 1. The output conv starts at
// zero, so the block is the identity at initialisation.
//
// Parameters: norm.{weight,bias} [C]; temporal.weight [C, 2C, 3],
// temporal.bias [C]; out.weight [C, C, 1, 1], out.bias [C].

#include <cstdint>
#include <string>
#include <string_view>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/temporal_conv.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class FrameDelta {
public:
    static constexpr std::string_view name = "FrameDelta";
    static constexpr std::int64_t kTemporalKernel = 3;

    FrameDelta(const MixerOptions& options, Generator& gen)
        : channels_(checked(options.channels)),
          norm_(options.norm_groups > 0 ? options.norm_groups : nn::default_norm_groups(options.channels),
                options.channels, options.dtype),
          temporal_(2 * options.channels, options.channels, {kTemporalKernel},
                    ConvOptions{{}, {kTemporalKernel / 2}, {}, 1}, gen, options.dtype),
          out_(options.channels, options.channels, {1, 1}, ConvOptions{}, gen, options.dtype) {
        out_.zero_();
    }

    Tensor forward(const Tensor& video) const {
        const VideoShape v = VideoShape::of(video, "FrameDelta");
        VGT_CHECK(v.channels == channels_, "FrameDelta",
                  "expected a video with {} channels [B, T, {}, H, W], found {}", channels_, channels_,
                  video.shape());
        VGT_CHECK(v.frames >= 1 && v.height >= 1 && v.width >= 1, "FrameDelta",
                  "expected a non-empty video, found shape {}", video.shape());
        const Tensor h = unfold_frames(norm_.forward(fold_frames(video)), v.batch);
        const Tensor delta = frame_differences(h, v);
        constexpr std::int64_t half = kTemporalKernel / 2;
        const Tensor e = temporal_conv(concat({h, delta}, 2), temporal_.weight, temporal_.bias,
                                       {.pad_before = half, .pad_after = half});  // [B, T, C, H, W]
        const Tensor g = out_.forward(fold_frames(silu(e)));
        return add(video, unfold_frames(g, v.batch));
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// Forward FLOPs of the temporal conv (B·H·W signals of T steps) and the
    /// 1×1 output conv (B·T frames). GroupNorm, the differences, SiLU and the
    /// residual add are point-wise and not counted.
    double flops(const Shape& video) const {
        const std::int64_t positions = video[0] * video[1] * video[3] * video[4];
        return temporal_.flops(positions) + out_.flops(positions);
    }

    bool is_causal() const { return false; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm_.visit_parameters(visit, nn::join_name(prefix, "norm"));
        temporal_.visit_parameters(visit, nn::join_name(prefix, "temporal"));
        out_.visit_parameters(visit, nn::join_name(prefix, "out"));
    }

private:
    static std::int64_t checked(std::int64_t channels) {
        VGT_CHECK(channels >= 1, "FrameDelta", "expected a positive channel count in MixerOptions, found {}",
                  channels);
        return channels;
    }

    /// d_t = h_t − h_{t−1} with d_0 = 0, [B, T, C, H, W].
    static Tensor frame_differences(const Tensor& h, const VideoShape& v) {
        const Tensor first = Tensor::zeros(Shape{v.batch, 1, v.channels, v.height, v.width}, h.dtype(), h.device());
        if (v.frames < 2) return first;
        return concat({first, sub(slice(h, 1, 1, v.frames), slice(h, 1, 0, v.frames - 1))}, 1);
    }

    std::int64_t channels_;
    nn::GroupNorm norm_;
    nn::Conv temporal_;  // [h, d] (2C) → C over T
    nn::Conv out_;       // C → C, zero at init
};

static_assert(check_temporal_mixer<FrameDelta>());

}  // namespace vgt::temporal
