#pragma once
// The layers a VideoUNet (models/video_unet.hpp) is built from, all on videos
// [B, T, C, H, W]. Norms, spatial attention, down- and upsampling work frame
// by frame (T folded into the batch); only the conv stage and the temporal
// mixer between them see time.
//
//   UNetResBlock<Stage>   h = conv1(SiLU(norm1(x))),
//                         [scale, shift] = time_proj(SiLU(e)) (2·Cout values)
//                         y = skip(x) + conv2(dropout(SiLU(norm2(h)·(1 + scale) + shift)))
//                         conv1 and conv2 are the conv stage (3×3 in space),
//                         skip a frame-wise 1×1 conv where channels change.
//                         The time embedding modulates h after its norm
//                         (ADM's scale-shift norm): added before a GroupNorm
//                         of one channel per group, as small UNets have, a
//                         per-channel shift would be normalised away.
//   SpatialSelfAttention  y = x + to_out(attention(to_q h, to_k h, to_v h)),
//                         h = GroupNorm(x), over the H·W tokens of each frame
//   CrossAttention        y = x + to_out(attention(to_q h, to_k c, to_v c))
//                         from every token of every frame to the context c
//   UNetDownsample        3×3 conv, stride 2, padding 1, per frame
//   UNetUpsample          nearest ×2, then a 3×3 conv, per frame
//
// Initialisation follows Dhariwal & Nichol's ADM UNet: the last layer of each
// residual branch (conv2's spatial conv, the attentions' to_out) starts at
// zero, so every block starts as its skip path. Parameter names follow
// PyTorch / diffusers: norm1.*, conv1.<stage's own>, time_proj.*, norm2.*,
// conv2.*, skip.*; norm.*, to_q.weight, to_k.weight, to_v.weight (no bias),
// to_out.weight, to_out.bias; conv.*.

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/attention.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/conv.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/dropout.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/matmul.hpp"
#include "vgt/ops/resample.hpp"
#include "vgt/ops/softmax.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/adapter_conv2d.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/conv2plus1d.hpp"
#include "vgt/temporal/conv3d_stage.hpp"
#include "vgt/temporal/frame_conv.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::models {

/// How one forward pass runs.
struct UNetForwardOptions {
    /// false: every layer that reads other frames (or the frame index) is
    /// off and the model is the image model run frame by frame — Gen-1's
    /// temporal guidance, and single images as T = 1 clips in joint training.
    bool temporal = true;
    /// true: dropout is active (drawing from `generator`, or the default one).
    bool training = false;
    Generator* generator = nullptr;
    /// An optical flow [B, T, 2, Hf, Wf] (flow/flow_field.hpp; frame t's
    /// flow maps it to frame t − 1, frame 0's is ignored) that every temporal
    /// mixer taking one (temporal::TakesFlow, e.g. FlowWarp) uses instead of
    /// its own estimate, each resizing it to its level. Undefined: none.
    Tensor flow{};
};

namespace detail {

/// A stage of the user's own may say what it computes with time off.
template <class Stage>
concept HasPerFrameForward = requires(const Stage& s, const Tensor& video) {
    { s.forward_per_frame(video) } -> std::same_as<Tensor>;
};

/// The stage's parameter called `name` (a handle sharing its storage).
template <class Block>
Tensor named_parameter(const Block& block, std::string_view name) {
    Tensor found;
    nn::visit_parameters(block, [&](const std::string& n, const Tensor& p) {
        if (n == name) found = p;
    });
    VGT_CHECK(found.defined(), "UNet conv stage", "expected a parameter '{}' in {}, found none", name, Block::name);
    return found;
}

/// 3×3 conv, padding 1, on every frame of a video.
inline Tensor frame_conv3x3(const Tensor& video, const Tensor& weight, const Tensor& bias) {
    const auto v = temporal::VideoShape::of(video, "UNet frame conv");
    return temporal::unfold_frames(conv2d(temporal::fold_frames(video), weight, bias, ConvOptions{.padding = {1}}),
                                   v.batch);
}

}  // namespace detail

/// A conv stage with time off: the image model's 3×3 conv of each frame.
///   Conv2Plus1D     its spatial conv; the temporal conv is skipped
///   AdapterConv2D   its shared conv; the per-frame scale and shift are skipped
///   Conv3D          the kernel tap that reads the output's own frame (the
///                   centre tap, or the last one when causal)
///   FrameConv       unchanged
/// A stage of one's own may define `Tensor forward_per_frame(const Tensor&)
/// const`; otherwise each frame runs alone as a 1-frame video.
template <class Stage>
Tensor conv_stage_per_frame(const Stage& stage, const Tensor& video) {
    if constexpr (detail::HasPerFrameForward<Stage>) {
        return stage.forward_per_frame(video);
    } else if constexpr (std::same_as<Stage, temporal::FrameConv>) {
        return stage.forward(video);
    } else if constexpr (std::same_as<Stage, temporal::Conv2Plus1D>) {
        return detail::frame_conv3x3(video, detail::named_parameter(stage, "spatial.weight"),
                                     detail::named_parameter(stage, "spatial.bias"));
    } else if constexpr (std::same_as<Stage, temporal::AdapterConv2D>) {
        return detail::frame_conv3x3(video, detail::named_parameter(stage, "conv.weight"),
                                     detail::named_parameter(stage, "conv.bias"));
    } else if constexpr (std::same_as<Stage, temporal::Conv3D>) {
        const std::int64_t kt = stage.temporal_kernel();
        const Tensor tap = contiguous(select(detail::named_parameter(stage, "conv.weight"), 2,
                                             stage.is_causal() ? kt - 1 : kt / 2));
        return detail::frame_conv3x3(video, tap, detail::named_parameter(stage, "conv.bias"));
    } else {
        const auto v = temporal::VideoShape::of(video, "conv_stage_per_frame");
        const Tensor frames = reshape(video, Shape{v.batch * v.frames, 1, v.channels, v.height, v.width});
        const Tensor out = stage.forward(frames);
        return reshape(out, Shape{v.batch, v.frames, out.size(2), v.height, v.width});
    }
}

/// Zeroes the part of a stage whose output the stage scales or mixes
/// (the 3×3 conv), so that its output starts at zero while a Dirac temporal
/// conv or an adapter scale of 1 keeps its gradient. Stages of one's own
/// keep their initialisation.
template <class Stage>
void zero_conv_stage_output(Stage& stage) {
    std::string_view conv;
    if constexpr (std::same_as<Stage, temporal::Conv2Plus1D>)
        conv = "spatial";
    else if constexpr (std::same_as<Stage, temporal::FrameConv> || std::same_as<Stage, temporal::AdapterConv2D> ||
                       std::same_as<Stage, temporal::Conv3D>)
        conv = "conv";
    if (conv.empty()) return;
    stage.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            if (name == nn::join_name(conv, "weight") || name == nn::join_name(conv, "bias")) p.fill_(0.0);
        },
        "");
}

/// GroupNorm of every frame of a video.
inline Tensor norm_frames(const nn::GroupNorm& norm, const Tensor& video) {
    const auto v = temporal::VideoShape::of(video, "UNet norm");
    return temporal::unfold_frames(norm.forward(temporal::fold_frames(video)), v.batch);
}

/// An nn::Conv over every frame of a video.
inline Tensor conv_frames(const nn::Conv& conv, const Tensor& video) {
    const auto v = temporal::VideoShape::of(video, "UNet conv");
    return temporal::unfold_frames(conv.forward(temporal::fold_frames(video)), v.batch);
}

/// What a residual block needs besides its channel counts.
struct UNetResBlockOptions {
    std::int64_t time_embed_dim = 0;
    std::int64_t norm_groups = 0;  // 0 picks nn::default_norm_groups per norm
    double dropout = 0.0;
    temporal::ConvStageOptions stage;  // kt, causal, Tmax and dtype; the channels are set per conv
};

template <class Stage>
class UNetResBlock {
    static_assert(temporal::check_conv_stage<Stage>());

public:
    UNetResBlock(std::int64_t in_channels, std::int64_t out_channels, const UNetResBlockOptions& o, Generator& gen)
        : norm1(groups(o.norm_groups, in_channels), in_channels, o.stage.dtype),
          conv1(stage_options(o.stage, in_channels, out_channels), gen),
          time_proj(o.time_embed_dim, 2 * out_channels, gen, o.stage.dtype),
          norm2(groups(o.norm_groups, out_channels), out_channels, o.stage.dtype),
          conv2(stage_options(o.stage, out_channels, out_channels), gen),
          dropout_(o.dropout) {
        zero_conv_stage_output(conv2);
        if (in_channels != out_channels)
            skip = nn::Conv(in_channels, out_channels, {1, 1}, ConvOptions{}, gen, o.stage.dtype);
    }

    /// x [B, T, Cin, H, W], time_features = SiLU(e) [B, D] (one noise level
    /// per clip) or [B, T, D] (one per frame) → [B, T, Cout, H, W].
    Tensor forward(const Tensor& x, const Tensor& time_features, const UNetForwardOptions& run) const {
        const auto v = temporal::VideoShape::of(x, "UNetResBlock");
        Tensor h = stage_forward(conv1, silu(norm_frames(norm1, x)), run);
        const std::int64_t c = out_channels();
        const std::int64_t time_rows = time_features.rank() == 3 ? v.frames : 1;
        const Tensor t = reshape(time_proj.forward(time_features), Shape{v.batch, time_rows, 2 * c, 1, 1});
        const Tensor scale = slice(t, 2, 0, c), shift = slice(t, 2, c, 2 * c);
        h = silu(add(mul(norm_frames(norm2, h), add(scale, 1.0)), shift));
        if (run.training && dropout_ > 0.0)
            h = run.generator ? dropout(h, dropout_, *run.generator) : dropout(h, dropout_);
        h = stage_forward(conv2, h, run);
        return add(has_skip() ? conv_frames(skip, x) : x, h);
    }

    /// Forward FLOPs of the convs and the time projection (point-wise work not counted).
    double flops(const Shape& video) const {
        const Shape mid{video[0], video[1], out_channels(), video[3], video[4]};
        const std::int64_t positions = video[0] * video[1] * video[3] * video[4];
        return conv1.flops(video) + conv2.flops(mid) + time_proj.flops(video[0]) +
               (has_skip() ? skip.flops(positions) : 0.0);
    }

    bool is_causal() const { return temporal::is_causal(conv1) && temporal::is_causal(conv2); }
    bool has_skip() const { return skip.weight.defined(); }
    std::int64_t in_channels() const { return norm1.weight.size(0); }
    std::int64_t out_channels() const { return norm2.weight.size(0); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm1.visit_parameters(visit, nn::join_name(prefix, "norm1"));
        conv1.visit_parameters(visit, nn::join_name(prefix, "conv1"));
        time_proj.visit_parameters(visit, nn::join_name(prefix, "time_proj"));
        norm2.visit_parameters(visit, nn::join_name(prefix, "norm2"));
        conv2.visit_parameters(visit, nn::join_name(prefix, "conv2"));
        if (has_skip()) skip.visit_parameters(visit, nn::join_name(prefix, "skip"));
    }

    nn::GroupNorm norm1;
    Stage conv1;
    nn::Linear time_proj;
    nn::GroupNorm norm2;
    Stage conv2;
    nn::Conv skip;  // undefined weight: identity

private:
    static std::int64_t groups(std::int64_t norm_groups, std::int64_t channels) {
        return norm_groups > 0 ? norm_groups : nn::default_norm_groups(channels);
    }
    static temporal::ConvStageOptions stage_options(temporal::ConvStageOptions o, std::int64_t in, std::int64_t out) {
        o.in_channels = in;
        o.out_channels = out;
        return o;
    }
    static Tensor stage_forward(const Stage& stage, const Tensor& x, const UNetForwardOptions& run) {
        return run.temporal ? stage.forward(x) : conv_stage_per_frame(stage, x);
    }

    double dropout_ = 0.0;
};

namespace detail {

/// [N, L, C] → [N, heads, L, C/heads], a view (rows of C/heads contiguous).
inline Tensor split_heads(const Tensor& tokens, std::int64_t heads) {
    const std::int64_t n = tokens.size(0), length = tokens.size(1), c = tokens.size(2);
    return permute(reshape(tokens, Shape{n, length, heads, c / heads}), {0, 2, 1, 3});
}

/// [N, heads, L, d] → [N, L, heads·d].
inline Tensor merge_heads(const Tensor& x) {
    return reshape(permute(x, {0, 2, 1, 3}), Shape{x.size(0), x.size(2), x.size(1) * x.size(3)});
}

}  // namespace detail

/// Multi-head self-attention over the H·W positions of each frame.
class SpatialSelfAttention {
public:
    SpatialSelfAttention(std::int64_t channels, std::int64_t heads, std::int64_t norm_groups, Generator& gen,
                         DType dtype)
        : norm(norm_groups > 0 ? norm_groups : nn::default_norm_groups(channels), channels, dtype),
          to_q(channels, channels, gen, dtype, false),
          to_k(channels, channels, gen, dtype, false),
          to_v(channels, channels, gen, dtype, false),
          to_out(channels, channels, gen, dtype),
          heads_(heads) {
        VGT_CHECK(heads >= 1 && channels % heads == 0, "SpatialSelfAttention",
                  "expected a head count dividing {} channels, found {}", channels, heads);
        to_out.zero_();
    }

    Tensor forward(const Tensor& x) const {
        const auto v = temporal::VideoShape::of(x, "SpatialSelfAttention");
        // Time-major video tokens [B, T·H·W, C] are frames' tokens [B·T, H·W, C].
        const Shape frame_tokens{v.batch * v.frames, v.pixels(), v.channels};
        const Tensor h = reshape(temporal::to_video_tokens(norm_frames(norm, x)), frame_tokens);
        const Tensor attended = nn::scaled_dot_product_attention(detail::split_heads(to_q.forward(h), heads_),
                                                                 detail::split_heads(to_k.forward(h), heads_),
                                                                 detail::split_heads(to_v.forward(h), heads_));
        const Tensor out = to_out.forward(detail::merge_heads(attended));
        return add(x, temporal::from_video_tokens(reshape(out, Shape{v.batch, v.frames * v.pixels(), v.channels}), v));
    }

    /// The four projections and the two products over L = H·W tokens per frame.
    double flops(const Shape& video) const {
        const double c = static_cast<double>(video[2]);
        const double length = static_cast<double>(video[3] * video[4]);
        const double tokens = static_cast<double>(video[0] * video[1]) * length;
        return 2.0 * tokens * c * c * 4.0 + 4.0 * tokens * length * c;
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm.visit_parameters(visit, nn::join_name(prefix, "norm"));
        to_q.visit_parameters(visit, nn::join_name(prefix, "to_q"));
        to_k.visit_parameters(visit, nn::join_name(prefix, "to_k"));
        to_v.visit_parameters(visit, nn::join_name(prefix, "to_v"));
        to_out.visit_parameters(visit, nn::join_name(prefix, "to_out"));
    }

    nn::GroupNorm norm;
    nn::Linear to_q, to_k, to_v, to_out;

private:
    std::int64_t heads_;
};

/// [B, 1, 1, L] additive key bias of a context mask [B, L] (nn::key_padding_bias),
/// in `dtype` on `device`, after checking the mask matches the context.
inline Tensor context_key_bias(const Tensor& mask, std::int64_t batch, std::int64_t length, DType dtype,
                               Device device) {
    VGT_CHECK(mask.rank() == 2 && mask.size(0) == batch && mask.size(1) == length, "VideoUNet",
              "expected a context mask [{}, {}] (batch, context tokens), found shape {}", batch, length, mask.shape());
    return to(nn::key_padding_bias(mask, dtype, "VideoUNet"), device);
}

/// Multi-head attention from every position of every frame to the context
/// tokens [B, L, context_dim] of its video. Queries attend independently, so
/// attending from all T·H·W tokens at once equals attending per frame.
class CrossAttention {
public:
    CrossAttention(std::int64_t channels, std::int64_t context_dim, std::int64_t heads, std::int64_t norm_groups,
                   Generator& gen, DType dtype)
        : norm(norm_groups > 0 ? norm_groups : nn::default_norm_groups(channels), channels, dtype),
          to_q(channels, channels, gen, dtype, false),
          to_k(context_dim, channels, gen, dtype, false),
          to_v(context_dim, channels, gen, dtype, false),
          to_out(channels, channels, gen, dtype),
          heads_(heads) {
        VGT_CHECK(heads >= 1 && channels % heads == 0, "CrossAttention",
                  "expected a head count dividing {} channels, found {}", channels, heads);
        to_out.zero_();
    }

    /// x [B, T, C, H, W], context [B, L, context_dim], key_bias [B, 1, 1, L] or undefined.
    Tensor forward(const Tensor& x, const Tensor& context, const Tensor& key_bias) const {
        const auto v = temporal::VideoShape::of(x, "CrossAttention");
        const Tensor h = temporal::to_video_tokens(norm_frames(norm, x));  // [B, T·H·W, C]
        const double scale = 1.0 / std::sqrt(static_cast<double>(v.channels / heads_));
        const Tensor q = mul(detail::split_heads(to_q.forward(h), heads_), scale);
        const Tensor k = detail::split_heads(to_k.forward(context), heads_);
        Tensor logits = matmul(q, transpose(k, -1, -2));  // [B, heads, T·H·W, L]
        if (key_bias.defined()) logits = add(logits, key_bias);
        const Tensor attended = matmul(softmax(logits, -1), detail::split_heads(to_v.forward(context), heads_));
        return add(x, temporal::from_video_tokens(to_out.forward(detail::merge_heads(attended)), v));
    }

    /// q and out projections over the video's tokens, k and v over the
    /// context's, and the two products.
    double flops(const Shape& video, std::int64_t context_length) const {
        const double c = static_cast<double>(video[2]);
        const double tokens = static_cast<double>(video[0] * video[1] * video[3] * video[4]);
        const double context_tokens = static_cast<double>(video[0] * context_length);
        return 2.0 * tokens * c * c * 2.0 + 2.0 * context_tokens * static_cast<double>(context_dim()) * c * 2.0 +
               4.0 * tokens * static_cast<double>(context_length) * c;
    }

    std::int64_t context_dim() const { return to_k.in_features(); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm.visit_parameters(visit, nn::join_name(prefix, "norm"));
        to_q.visit_parameters(visit, nn::join_name(prefix, "to_q"));
        to_k.visit_parameters(visit, nn::join_name(prefix, "to_k"));
        to_v.visit_parameters(visit, nn::join_name(prefix, "to_v"));
        to_out.visit_parameters(visit, nn::join_name(prefix, "to_out"));
    }

    nn::GroupNorm norm;
    nn::Linear to_q, to_k, to_v, to_out;

private:
    std::int64_t heads_;
};

/// H×W → H/2×W/2 per frame (H and W even).
class UNetDownsample {
public:
    UNetDownsample(std::int64_t channels, Generator& gen, DType dtype)
        : conv(channels, channels, {3, 3}, ConvOptions{.stride = {2}, .padding = {1}}, gen, dtype) {}

    Tensor forward(const Tensor& x) const { return conv_frames(conv, x); }
    double flops(const Shape& video) const { return conv.flops(video[0] * video[1] * (video[3] / 2) * (video[4] / 2)); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv.visit_parameters(visit, nn::join_name(prefix, "conv"));
    }

    nn::Conv conv;
};

/// H×W → 2H×2W per frame: nearest-neighbour copies, then a 3×3 conv.
class UNetUpsample {
public:
    UNetUpsample(std::int64_t channels, Generator& gen, DType dtype)
        : conv(channels, channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype) {}

    Tensor forward(const Tensor& x) const {
        const auto v = temporal::VideoShape::of(x, "UNetUpsample");
        return temporal::unfold_frames(conv.forward(upsample_nearest(temporal::fold_frames(x), 2)), v.batch);
    }
    double flops(const Shape& video) const { return conv.flops(video[0] * video[1] * video[3] * video[4] * 4); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv.visit_parameters(visit, nn::join_name(prefix, "conv"));
    }

    nn::Conv conv;
};

}  // namespace vgt::models
