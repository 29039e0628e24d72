#pragma once
// The body shared by the attention mixers: y = x + proj(attention(qkv(h)))
// with h = GroupNorm(x) per frame. The mixers differ only in which tokens
// form a sequence (one sequence over T per pixel, or all T·H·W tokens of a
// video) and in the mask; TemporalAttention, DirectedAttention and
// SpatioTemporalAttention are thin named wrappers around this class.
//
// Parameters: norm.weight, norm.bias [C]; position.* (the policy's);
// qkv.weight [3C, C], qkv.bias [3C] (q = outputs 0..C−1, k = C..2C−1,
// v = 2C..3C−1, each split into heads of d = C/heads channels);
// proj.weight [C, C], proj.bias [C], zero at initialisation so that the
// mixer starts as the identity.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/launchers.hpp"
#include "vgt/nn/attention.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/conv.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/fused_attention.hpp"
#include "vgt/ops/pixel_attention.hpp"
#include "vgt/ops/temporal_conv.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

/// Which tokens of a video [B, T, C, H, W] form one attention sequence.
enum class AttentionTokens {
    PerPixel,    // B·H·W sequences of T tokens (to_pixel_sequences)
    WholeVideo,  // B sequences of T·H·W tokens, time-major (to_video_tokens)
};

template <position::PositionPolicy Pos, AttentionTokens Tokens>
class AttentionMixer {
public:
    /// `block_name` must be a string literal (it names the block in errors).
    /// `causal_mask`: query frame t sees key frames ≤ t only.
    AttentionMixer(const MixerOptions& options, Generator& gen, const char* block_name, bool causal_mask,
                   nn::MaskStyle mask_style)
        : block_name_(block_name),
          options_(validated(options, block_name)),
          causal_mask_(causal_mask),
          mask_style_(mask_style),
          norm(options_.norm_groups > 0 ? options_.norm_groups : nn::default_norm_groups(options_.channels),
               options_.channels, options_.dtype),
          position(options_, gen),
          qkv(options_.channels, 3 * options_.channels, gen, options_.dtype),
          proj(options_.channels, options_.channels, gen, options_.dtype) {
        proj.zero_();
    }

    Tensor forward(const Tensor& video) const {
        const VideoShape v = VideoShape::of(video, block_name_);
        const std::int64_t c = options_.channels;
        VGT_CHECK(v.channels == c, block_name_, "expected a video [B, T, {}, H, W], found shape {}", c, video.shape());
        VGT_CHECK(video.dtype() == options_.dtype, block_name_, "expected a {} video, found {}",
                  dtype_name(options_.dtype), dtype_name(video.dtype()));
        const position::PositionContext ctx{v.frames, tokens_per_frame(v), causal_mask_};
        if constexpr (Tokens == AttentionTokens::PerPixel && position::is_bias_only<Pos>()) {
            if (video.device().is_cpu() || fits_cuda_pixel_attention(v))
                return forward_in_video_layout(video, v, ctx, PixelRotary{});
        }
        if constexpr (Tokens == AttentionTokens::PerPixel && position::HasPixelRotary<Pos>) {
            // On the CPU the rotation stays on the sequences: turning the packed video there is composed ops.
            if (video.device().is_cuda() && fits_cuda_pixel_attention(v))
                return forward_in_video_layout(
                    video, v, ctx, position.pixel_rotary(ctx, c / options_.heads, video.dtype(), video.device()));
        }

        const Tensor h = unfold_frames(norm.forward(fold_frames(video)), v.batch);
        Tensor tokens = Tokens == AttentionTokens::PerPixel ? to_pixel_sequences(h) : to_video_tokens(h);  // [N, L, C]
        tokens = position.embed(tokens, ctx);
        const std::int64_t n = tokens.size(0), length = tokens.size(1), heads = options_.heads;

        // One linear over all tokens; q, k and v are [N, heads, L, d] views of
        // its output (strided, rows contiguous), which the attention reads in place.
        const Tensor qkv_heads =
            permute(reshape(qkv.forward(tokens), Shape{n, length, 3, heads, c / heads}), {2, 0, 3, 1, 4});
        auto [q, k] = position.rotate(select(qkv_heads, 0, 0), select(qkv_heads, 0, 1), ctx);
        const Tensor attended = nn::scaled_dot_product_attention(
            q, k, select(qkv_heads, 0, 2), attention_bias_on(video.device(), ctx),
            causal_mask_ ? nn::AttentionMask::Causal : nn::AttentionMask::None, mask_style_, ctx.tokens_per_frame);

        const Tensor merged = reshape(permute(attended, {0, 2, 1, 3}), Shape{n, length, c});
        const Tensor out = proj.forward(merged);
        const Tensor g = Tokens == AttentionTokens::PerPixel ? from_pixel_sequences(out, v) : from_video_tokens(out, v);
        return add(video, g);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// Forward FLOPs of the qkv and output projections and the two attention
    /// products (multiply-add = 2). Point-wise work (norm, position terms,
    /// softmax, mask, residual) is not counted.
    double flops(const Shape& video) const {
        VGT_CHECK(video.rank() == 5, block_name_, "expected a video shape [B, T, C, H, W], found {}", video);
        const VideoShape v{video[0], video[1], video[2], video[3], video[4]};
        const double c = static_cast<double>(options_.channels);
        const double d = c / static_cast<double>(options_.heads);
        const double length = static_cast<double>(Tokens == AttentionTokens::PerPixel ? v.frames
                                                                                       : v.frames * v.pixels());
        const double tokens = static_cast<double>(v.batch * v.frames * v.pixels());  // N·L
        const double sequences = tokens / length;                                   // N
        const double projections = 2.0 * tokens * c * 3.0 * c + 2.0 * tokens * c * c;
        const double products = 2.0 * (2.0 * sequences * static_cast<double>(options_.heads) * length * length * d);
        return projections + products;
    }

    /// A post-softmax mask is not enough: the softmax's denominator sums over
    /// every key, future frames included, so they still reach frame t.
    bool is_causal() const { return causal_mask_ && mask_style_ == nn::MaskStyle::PreSoftmax; }

    const MixerOptions& options() const { return options_; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm.visit_parameters(visit, nn::join_name(prefix, "norm"));
        position.visit_parameters(visit, nn::join_name(prefix, "position"));
        qkv.visit_parameters(visit, nn::join_name(prefix, "qkv"));
        proj.visit_parameters(visit, nn::join_name(prefix, "proj"));
    }

private:
    /// The position policy's bias, on the video's device: constant biases
    /// (ALiBi) are built on the CPU, learned ones live with the parameters.
    Tensor attention_bias_on(Device device, const position::PositionContext& ctx) const {
        const Tensor bias = position.attention_bias(ctx);
        return bias.defined() && bias.device() != device ? to(bias, device) : bias;
    }

    /// Per-pixel attention without regrouping the video into sequences: the
    /// projections are per-frame GEMMs and pixel_attention attends over the
    /// frames on the video's own layout (turning q and k by `rotary` when it
    /// is defined). Same parameters, same result.
    Tensor forward_in_video_layout(const Tensor& video, const VideoShape& v, const position::PositionContext& ctx,
                                   const PixelRotary& rotary) const {
        const Tensor h = unfold_frames(norm.forward(fold_frames(video)), v.batch);
        const Tensor packed = per_frame_linear(h, qkv, v);
        const FusedAttentionMask mask{causal_mask_, mask_style_ == nn::MaskStyle::PostSoftmax, 1};
        const Tensor attended =
            pixel_attention(packed, options_.heads, attention_bias_on(video.device(), ctx), mask, rotary);
        return add(video, per_frame_linear(attended, proj, v));
    }

    /// A Linear applied to every pixel of every frame of x [B, T, in, H, W]:
    /// temporal_conv with one tap on the CPU (its own GEMMs), a 1×1 conv2d
    /// over the folded frames elsewhere (cuDNN, no transposes).
    static Tensor per_frame_linear(const Tensor& x, const nn::Linear& linear, const VideoShape& v) {
        const std::int64_t out = linear.weight.size(0), in = linear.weight.size(1);
        if (x.device().is_cpu()) return temporal_conv(x, reshape(linear.weight, Shape{out, in, 1}), linear.bias);
        return unfold_frames(conv2d(fold_frames(x), reshape(linear.weight, Shape{out, in, 1, 1}), linear.bias),
                             v.batch);
    }

    /// Whether pixel_attention's CUDA kernels take this video.
    bool fits_cuda_pixel_attention(const VideoShape& v) const {
        return v.frames <= cuda::kPixelAttentionMaxFrames && v.batch * options_.heads <= 65535 &&
               v.frames * 3 * options_.channels * v.pixels() <= cuda::kPixelAttentionMaxVideoElements;
    }

    static const MixerOptions& validated(const MixerOptions& o, const char* block_name) {
        VGT_CHECK(o.channels >= 1, block_name, "expected a positive channel count, found {}", o.channels);
        VGT_CHECK(o.heads >= 1 && o.channels % o.heads == 0, block_name,
                  "expected a head count dividing {} channels, found {} heads", o.channels, o.heads);
        VGT_CHECK(o.norm_groups >= 0 && (o.norm_groups == 0 || o.channels % o.norm_groups == 0), block_name,
                  "expected norm_groups dividing {} channels (or 0 for the default), found {}", o.channels,
                  o.norm_groups);
        return o;
    }

    std::int64_t tokens_per_frame(const VideoShape& v) const {
        return Tokens == AttentionTokens::PerPixel ? 1 : v.pixels();
    }

    const char* block_name_;
    MixerOptions options_;
    bool causal_mask_;
    nn::MaskStyle mask_style_;

public:
    nn::GroupNorm norm;
    Pos position;
    nn::Linear qkv;
    nn::Linear proj;
};

}  // namespace vgt::temporal
