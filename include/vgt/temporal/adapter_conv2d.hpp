#pragma once
// AdapterConv2D: MagicVideo's alternative to 3D and 2D+1D convs. One 3×3
// conv shared by all frames, then a per-frame adapter
//     z_t = S_t ⊙ conv(x_t) + B_t,   S, B ∈ [Tmax, Cout],
// a scale and shift per frame index and output channel. S starts at 1 and B
// at 0, so the stage starts as the image model's conv. Frame t has its own
// S_t and B_t, so a video of more than Tmax frames has no adapter to use.

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
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class AdapterConv2D {
public:
    static constexpr std::string_view name = "AdapterConv2D";

    AdapterConv2D(const ConvStageOptions& options, Generator& gen) {
        VGT_CHECK(options.in_channels >= 1 && options.out_channels >= 1, "AdapterConv2D",
                  "expected positive channel counts, found in_channels = {}, out_channels = {}",
                  options.in_channels, options.out_channels);
        VGT_CHECK(options.max_frames >= 1, "AdapterConv2D", "expected a positive Tmax (max_frames), found {}",
                  options.max_frames);
        conv_ = nn::Conv(options.in_channels, options.out_channels, {3, 3}, ConvOptions{.padding = {1}}, gen,
                         options.dtype);
        scale_ = nn::full_parameter(Shape{options.max_frames, options.out_channels}, 1.0, options.dtype);
        shift_ = nn::zeros_parameter(Shape{options.max_frames, options.out_channels}, options.dtype);
    }

    /// [B, T, Cin, H, W] → [B, T, Cout, H, W], T ≤ Tmax.
    Tensor forward(const Tensor& video) const {
        const VideoShape v = check_input(video.shape());
        const Tensor z = unfold_frames(conv_.forward(fold_frames(video)), v.batch);
        // Rows 0..T−1 of S and B as [T, Cout, 1, 1], broadcast over B, H and W.
        const Shape per_frame{v.frames, out_channels(), 1, 1};
        const Tensor s = reshape(slice(scale_, 0, 0, v.frames), per_frame);
        const Tensor b = reshape(slice(shift_, 0, 0, v.frames), per_frame);
        return add(mul(z, s), b);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// 2·B·T·H·W·Cout·Cin·9; the bias and the adapter are point-wise and not counted.
    double flops(const Shape& video) const {
        const VideoShape v = check_input(video);
        return conv_.flops(v.batch * v.frames * v.pixels());
    }

    /// The conv and the adapter of frame t read frame t only.
    bool is_causal() const { return true; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_.visit_parameters(visit, nn::join_name(prefix, "conv"));
        visit(nn::join_name(prefix, "adapter.scale"), scale_);
        visit(nn::join_name(prefix, "adapter.shift"), shift_);
    }

    std::int64_t in_channels() const { return conv_.in_channels(); }
    std::int64_t out_channels() const { return conv_.out_channels(); }
    std::int64_t max_frames() const { return scale_.size(0); }

private:
    VideoShape check_input(const Shape& shape) const {
        VGT_CHECK(shape.rank() == 5 && shape[2] == conv_.in_channels(), "AdapterConv2D",
                  "expected a video [B, T, {}, H, W], found shape {}", conv_.in_channels(), shape);
        VGT_CHECK(shape[1] <= max_frames(), "AdapterConv2D", "expected at most Tmax={} frames, found T={}",
                  max_frames(), shape[1]);
        return {shape[0], shape[1], shape[2], shape[3], shape[4]};
    }

    nn::Conv conv_;
    Tensor scale_;
    Tensor shift_;
};

static_assert(check_conv_stage<AdapterConv2D>());

}  // namespace vgt::temporal
