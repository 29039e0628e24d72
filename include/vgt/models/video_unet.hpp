#pragma once
// VideoUNet<Stage, Mixer>: the denoiser of the latent video diffusion models,
// an ADM-style UNet (Dhariwal & Nichol 2021) whose residual blocks take their
// 3×3 convs from a conv stage and are each followed by a temporal mixer:
//
//   conv_in (3×3, per frame)
//   down.l, l = 0 … L−1:  res_blocks × [res → temporal (→ attn → cross)],
//                         then a stride-2 downsample except at the last level
//   mid:                  res → temporal → attn (→ cross) → res → temporal
//   up.l, l = L−1 … 0:    (res_blocks + 1) × [concat skip → res → temporal
//                         (→ attn → cross)], then a ×2 upsample except at l = 0
//   out:                  GroupNorm → SiLU → 3×3 conv (per frame, zero at init)
//
// attn (spatial self-attention) and cross (cross-attention to the context)
// sit at the levels listed in attention_levels and in the middle; cross only
// when context_dim > 0. The skips are the outputs of conv_in, of every down
// unit and of every downsample, consumed in reverse. Layers are in
// models/unet_blocks.hpp.
//
// The position policy is a template argument of the attention mixers
// (TemporalAttention<RelativeBias>), so Mixer is a complete mixer type and
// the model needs no third parameter.
//
// A mixer that takes an optical flow (FlowWarp) is given
// UNetForwardOptions::flow when the caller passes one, at every level. With
// conditioned_mixers, a mixer that takes an embedding (FlowWarp, or a
// Sequential holding one) is given the residual blocks' SiLU'd time
// embedding instead, pooled text included when the caller adds it.
//
// Parameter names: conv_in.*, down.<l>.res.<i>.*, down.<l>.temporal.<i>.*,
// down.<l>.attn.<i>.*, down.<l>.cross.<i>.*, down.<l>.downsample.conv.*,
// mid.res.<0|1>.*, mid.temporal.<0|1>.*, mid.attn.*, mid.cross.*,
// up.<l>.res.<i>.* … up.<l>.upsample.conv.*, out.norm.*, out.conv.*, where l
// is the level (0 the finest) and the names below each block are the block's
// own (docs/blocks.md, unet_blocks.hpp).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/io/json_config.hpp"
#include "vgt/models/unet_blocks.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

// DirectedAttention's mask mode in JSON: "pre_softmax" or "post_softmax".
namespace vgt::io {

template <>
struct JsonCodec<temporal::MaskMode>
    : JsonEnumCodec<temporal::MaskMode, temporal::mask_mode_name, temporal::parse_mask_mode> {};

}  // namespace vgt::io

namespace vgt::models {

struct VideoUNetOptions {
    std::int64_t in_channels = 4;   // latent channels, plus the structure channels Gen-1 concatenates
    std::int64_t out_channels = 4;  // what the objective predicts (ε, v, x₀) per latent channel
    std::int64_t base_channels = 64;
    std::vector<std::int64_t> channel_mult = {1, 2, 4};  // level l has base_channels · channel_mult[l] channels
    std::int64_t res_blocks = 2;                         // per level (the up path has one more)
    std::vector<std::int64_t> attention_levels = {1, 2};  // levels with spatial self- and cross-attention
    std::int64_t heads = 4;                              // of the spatial and cross-attention
    std::int64_t context_dim = 0;                        // width of the context tokens; 0: no cross-attention
    std::int64_t time_embed_dim = 256;                   // width of the time embedding the caller passes
    std::int64_t norm_groups = 0;                        // GroupNorm groups; 0 picks nn::default_norm_groups per norm
    double dropout = 0.0;                                // in every residual block, while training

    // The temporal blocks (temporal::ConvStageOptions, temporal::MixerOptions).
    std::int64_t temporal_kernel = 3;  // kt of Conv3D and Conv2Plus1D
    bool causal = false;               // Conv3D pads past frames only; SpatioTemporalAttention masks the future
    std::int64_t max_frames = 16;      // Tmax of AdapterConv2D and of Learned positions
    std::int64_t temporal_heads = 4;   // of the attention mixers
    temporal::MaskMode mask_mode = temporal::MaskMode::PreSoftmax;  // DirectedAttention
    std::int64_t tcn_levels = 2;
    std::int64_t tcn_kernel = 3;
    // Mixers that take an embedding (FlowWarp) get the residual blocks' SiLU'd
    // time embedding, so a prompt reaches the motion (FlowWarp: a flow per clip).
    bool conditioned_mixers = false;

    static constexpr std::int64_t kMaxLevels = 6;
    static constexpr std::int64_t kMaxChannels = 8192;

    std::int64_t levels() const { return static_cast<std::int64_t>(channel_mult.size()); }
    std::int64_t level_channels(std::int64_t level) const {
        return base_channels * channel_mult[static_cast<std::size_t>(level)];
    }
    bool has_attention(std::int64_t level) const {
        for (std::int64_t l : attention_levels)
            if (l == level) return true;
        return false;
    }
    /// H and W must be multiples of 2^(L−1).
    std::int64_t size_multiple() const { return std::int64_t{1} << (levels() - 1); }
    std::int64_t groups_for(std::int64_t channels) const {
        return norm_groups > 0 ? norm_groups : nn::default_norm_groups(channels);
    }

    /// Throws vgt::Error naming the first bad option.
    void validate() const {
        constexpr const char* op = "VideoUNetOptions";
        VGT_CHECK(in_channels >= 1 && in_channels <= kMaxChannels, op, "expected in_channels in [1, {}], found {}",
                  kMaxChannels, in_channels);
        VGT_CHECK(out_channels >= 1 && out_channels <= kMaxChannels, op, "expected out_channels in [1, {}], found {}",
                  kMaxChannels, out_channels);
        VGT_CHECK(base_channels >= 1 && base_channels <= kMaxChannels, op,
                  "expected base_channels in [1, {}], found {}", kMaxChannels, base_channels);
        VGT_CHECK(levels() >= 1 && levels() <= kMaxLevels, op, "expected 1 to {} entries in channel_mult, found {}",
                  kMaxLevels, levels());
        for (std::int64_t m : channel_mult)
            VGT_CHECK(m >= 1 && m <= kMaxChannels / base_channels, op,
                      "expected channel_mult entries in [1, {}] (base_channels · multiplier ≤ {}), found [{}]",
                      kMaxChannels / base_channels, kMaxChannels, fmt::join(channel_mult, ", "));
        VGT_CHECK(res_blocks >= 1 && res_blocks <= 16, op, "expected res_blocks in [1, 16], found {}", res_blocks);
        for (std::size_t i = 0; i < attention_levels.size(); ++i) {
            const std::int64_t l = attention_levels[i];
            VGT_CHECK(l >= 0 && l < levels(), op, "expected attention_levels in [0, {}) (one per level), found [{}]",
                      levels(), fmt::join(attention_levels, ", "));
            for (std::size_t j = 0; j < i; ++j)
                VGT_CHECK(attention_levels[j] != l, op, "expected each of attention_levels once, found [{}]",
                          fmt::join(attention_levels, ", "));
        }
        VGT_CHECK(heads >= 1, op, "expected heads >= 1, found {}", heads);
        for (std::int64_t l = 0; l < levels(); ++l)
            VGT_CHECK(!(has_attention(l) || l + 1 == levels()) || level_channels(l) % heads == 0, op,
                      "expected heads dividing the {} channels of level {} (it has attention), found {} heads",
                      level_channels(l), l, heads);
        VGT_CHECK(context_dim >= 0 && context_dim <= kMaxChannels, op,
                  "expected context_dim in [0, {}] (0: no cross-attention), found {}", kMaxChannels, context_dim);
        VGT_CHECK(time_embed_dim >= 1 && time_embed_dim <= kMaxChannels, op,
                  "expected time_embed_dim in [1, {}], found {}", kMaxChannels, time_embed_dim);
        VGT_CHECK(norm_groups >= 0, op, "expected norm_groups >= 0 (0 picks a group count per norm), found {}",
                  norm_groups);
        VGT_CHECK(norm_groups == 0 || base_channels % norm_groups == 0, op,
                  "expected norm_groups dividing base_channels (and so every level's channels), found {} groups "
                  "for {} channels",
                  norm_groups, base_channels);
        VGT_CHECK(dropout >= 0.0 && dropout < 1.0, op, "expected dropout in [0, 1), found {}", dropout);
        VGT_CHECK(temporal_kernel >= 1, op, "expected temporal_kernel >= 1, found {}", temporal_kernel);
        VGT_CHECK(max_frames >= 1, op, "expected max_frames >= 1, found {}", max_frames);
        VGT_CHECK(temporal_heads >= 1, op, "expected temporal_heads >= 1, found {}", temporal_heads);
        VGT_CHECK(tcn_levels >= 1 && tcn_kernel >= 1, op, "expected tcn_levels and tcn_kernel >= 1, found {} and {}",
                  tcn_levels, tcn_kernel);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, VideoUNetOptions& o) {
    v("in_channels", o.in_channels);
    v("out_channels", o.out_channels);
    v("base_channels", o.base_channels);
    v("channel_mult", o.channel_mult);
    v("res_blocks", o.res_blocks);
    v("attention_levels", o.attention_levels);
    v("heads", o.heads);
    v("context_dim", o.context_dim);
    v("time_embed_dim", o.time_embed_dim);
    v("norm_groups", o.norm_groups);
    v("dropout", o.dropout);
    v("temporal_kernel", o.temporal_kernel);
    v("causal", o.causal);
    v("max_frames", o.max_frames);
    v("temporal_heads", o.temporal_heads);
    v("mask_mode", o.mask_mode);
    v("tcn_levels", o.tcn_levels);
    v("tcn_kernel", o.tcn_kernel);
    v("conditioned_mixers", o.conditioned_mixers);
}

namespace detail {

template <class Stage>
concept HasFrameLimit = requires(const Stage& s) {
    { s.max_frames() } -> std::convertible_to<std::int64_t>;
};

}  // namespace detail

template <class Stage, class Mixer>
class VideoUNet {
    static_assert(temporal::check_conv_stage<Stage>());
    static_assert(temporal::check_temporal_mixer<Mixer>());

public:
    using ConvStage = Stage;
    using TemporalMixer = Mixer;
    /// Whether forward takes an external flow (UNetForwardOptions::flow).
    static constexpr bool takes_flow = temporal::TakesFlow<Mixer>;

    /// The units of one level: res.i → temporal.i (→ attn.i → cross.i).
    struct Level {
        std::vector<UNetResBlock<Stage>> res;
        std::vector<Mixer> temporal;
        std::vector<SpatialSelfAttention> attn;  // empty at levels without attention
        std::vector<CrossAttention> cross;       // empty without attention or context
        std::optional<UNetDownsample> downsample;
        std::optional<UNetUpsample> upsample;
    };

    VideoUNet(const VideoUNetOptions& options, Generator& gen, DType dtype = DType::Float32)
        : options_(validated(options)), dtype_(dtype) {
        const VideoUNetOptions& o = options_;
        VGT_CHECK(!o.conditioned_mixers || temporal::TakesEmbedding<Mixer>, "VideoUNet",
                  "expected conditioned_mixers only with a mixer that takes an embedding (FlowWarp), found {}",
                  Mixer::name);
        conv_in_ = nn::Conv(o.in_channels, o.base_channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype);
        std::vector<std::int64_t> skips{o.base_channels};
        std::int64_t channels = o.base_channels;
        for (std::int64_t l = 0; l < o.levels(); ++l) {
            Level level;
            for (std::int64_t i = 0; i < o.res_blocks; ++i) {
                add_unit(level, channels, o.level_channels(l), o.has_attention(l), gen);
                channels = o.level_channels(l);
                skips.push_back(channels);
            }
            if (l + 1 < o.levels()) {
                level.downsample.emplace(channels, gen, dtype);
                skips.push_back(channels);
            }
            down_.push_back(std::move(level));
        }
        add_unit(mid_, channels, channels, true, gen);
        add_unit(mid_, channels, channels, false, gen);
        up_.resize(static_cast<std::size_t>(o.levels()));
        for (std::int64_t l = o.levels() - 1; l >= 0; --l) {
            Level& level = up_[static_cast<std::size_t>(l)];
            for (std::int64_t i = 0; i <= o.res_blocks; ++i) {
                add_unit(level, channels + skips.back(), o.level_channels(l), o.has_attention(l), gen);
                skips.pop_back();
                channels = o.level_channels(l);
            }
            if (l > 0) level.upsample.emplace(channels, gen, dtype);
        }
        out_norm_ = nn::GroupNorm(o.groups_for(channels), channels, dtype);
        out_conv_ = nn::Conv(channels, o.out_channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype);
        out_conv_.zero_();
    }

    /// x [B, T, in_channels, H, W] (H, W multiples of 2^(L−1)),
    /// time_embedding [B, time_embed_dim] or, for a noise level per frame,
    /// [B, T, time_embed_dim], context [B, L, context_dim]
    /// (required when context_dim > 0, absent otherwise), context_mask [B, L]
    /// with 1 on tokens and 0 on padding (optional) → [B, T, out_channels, H, W].
    Tensor forward(const Tensor& x, const Tensor& time_embedding, const Tensor& context = {},
                   const Tensor& context_mask = {}, const UNetForwardOptions& run = {}) const {
        const temporal::VideoShape v = check_video(x.shape(), x.dtype(), run.temporal);
        check_time_embedding(time_embedding, v);
        const Tensor key_bias = check_context(context, context_mask, v.batch);
        if (run.flow.defined()) check_flow(run.flow, v);
        const Tensor time_features = silu(time_embedding);

        Tensor h = conv_frames(conv_in_, x);
        std::vector<Tensor> skips{h};
        for (const Level& level : down_) {
            for (std::size_t i = 0; i < level.res.size(); ++i) {
                h = unit(level, i, h, time_features, context, key_bias, run);
                skips.push_back(h);
            }
            if (level.downsample) {
                h = level.downsample->forward(h);
                skips.push_back(h);
            }
        }
        h = unit(mid_, 0, h, time_features, context, key_bias, run);
        h = unit(mid_, 1, h, time_features, context, key_bias, run);
        for (auto level = up_.rbegin(); level != up_.rend(); ++level) {
            for (std::size_t i = 0; i < level->res.size(); ++i) {
                h = unit(*level, i, concat({h, skips.back()}, 2), time_features, context, key_bias, run);
                skips.pop_back();
            }
            if (level->upsample) h = level->upsample->forward(h);
        }
        return conv_frames(out_conv_, silu(norm_frames(out_norm_, h)));
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// Forward FLOPs (multiply-add = 2) of every conv, projection and
    /// attention product for a video of shape [B, T, in_channels, H, W] with
    /// temporal layers on and `context_length` context tokens; point-wise
    /// work (norms, activations, residual adds, softmax) is not counted.
    double flops(const Shape& video, std::int64_t context_length = 0) const {
        const temporal::VideoShape v = check_video(video, dtype_, false);
        const auto at = [&](std::int64_t channels, std::int64_t height, std::int64_t width) {
            return Shape{v.batch, v.frames, channels, height, width};
        };
        double total = conv_in_.flops(v.batch * v.frames * v.pixels());
        std::int64_t height = v.height, width = v.width;
        const auto units = [&](const Level& level) {
            for (std::size_t i = 0; i < level.res.size(); ++i) {
                total += level.res[i].flops(at(level.res[i].in_channels(), height, width));
                const Shape out = at(level.res[i].out_channels(), height, width);
                total += level.temporal[i].flops(out);
                if (i < level.attn.size()) total += level.attn[i].flops(out);
                if (i < level.cross.size()) total += level.cross[i].flops(out, context_length);
            }
        };
        for (const Level& level : down_) {
            units(level);
            if (level.downsample) {
                total += level.downsample->flops(at(level.res.back().out_channels(), height, width));
                height /= 2;
                width /= 2;
            }
        }
        units(mid_);
        for (auto level = up_.rbegin(); level != up_.rend(); ++level) {
            units(*level);
            if (level->upsample) {
                total += level->upsample->flops(at(level->res.back().out_channels(), height, width));
                height *= 2;
                width *= 2;
            }
        }
        return total + out_conv_.flops(v.batch * v.frames * v.pixels());
    }

    /// Whether output frame t depends only on input frames ≤ t: true when
    /// every conv stage and every mixer is causal (everything else works
    /// frame by frame, norms included).
    bool is_causal() const {
        bool causal = true;
        const auto check = [&](const Level& level) {
            for (const auto& res : level.res) causal = causal && res.is_causal();
            for (const auto& mixer : level.temporal) causal = causal && temporal::is_causal(mixer);
        };
        for (const Level& level : down_) check(level);
        check(mid_);
        for (const Level& level : up_) check(level);
        return causal;
    }

    const VideoUNetOptions& options() const { return options_; }
    DType dtype() const { return dtype_; }
    const std::vector<Level>& down() const { return down_; }
    const Level& mid() const { return mid_; }
    const std::vector<Level>& up() const { return up_; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_in_.visit_parameters(visit, nn::join_name(prefix, "conv_in"));
        for (std::size_t l = 0; l < down_.size(); ++l) {
            const std::string name = nn::join_name(prefix, fmt::format("down.{}", l));
            visit_units(down_[l], visit, name, true);
            if (down_[l].downsample) down_[l].downsample->visit_parameters(visit, nn::join_name(name, "downsample"));
        }
        visit_units(mid_, visit, nn::join_name(prefix, "mid"), false);
        for (std::size_t l = up_.size(); l-- > 0;) {
            const std::string name = nn::join_name(prefix, fmt::format("up.{}", l));
            visit_units(up_[l], visit, name, true);
            if (up_[l].upsample) up_[l].upsample->visit_parameters(visit, nn::join_name(name, "upsample"));
        }
        out_norm_.visit_parameters(visit, nn::join_name(prefix, "out.norm"));
        out_conv_.visit_parameters(visit, nn::join_name(prefix, "out.conv"));
    }

private:
    static const VideoUNetOptions& validated(const VideoUNetOptions& o) {
        o.validate();
        return o;
    }

    temporal::ConvStageOptions stage_options() const {
        temporal::ConvStageOptions s;
        s.temporal_kernel = options_.temporal_kernel;
        s.causal = options_.causal;
        s.max_frames = options_.max_frames;
        s.dtype = dtype_;
        return s;
    }

    temporal::MixerOptions mixer_options(std::int64_t channels) const {
        temporal::MixerOptions m;
        m.channels = channels;
        m.heads = options_.temporal_heads;
        m.norm_groups = options_.norm_groups;
        m.max_frames = options_.max_frames;
        m.causal = options_.causal;
        m.mask_mode = options_.mask_mode;
        m.tcn_levels = options_.tcn_levels;
        m.tcn_kernel = options_.tcn_kernel;
        m.embedding_dim = options_.conditioned_mixers ? options_.time_embed_dim : 0;
        m.dtype = dtype_;
        return m;
    }

    void add_unit(Level& level, std::int64_t in_channels, std::int64_t out_channels, bool attention, Generator& gen) {
        const VideoUNetOptions& o = options_;
        const UNetResBlockOptions res{o.time_embed_dim, o.norm_groups, o.dropout, stage_options()};
        level.res.emplace_back(in_channels, out_channels, res, gen);
        level.temporal.emplace_back(mixer_options(out_channels), gen);
        if (!attention) return;
        level.attn.emplace_back(out_channels, o.heads, o.norm_groups, gen, dtype_);
        if (o.context_dim > 0)
            level.cross.emplace_back(out_channels, o.context_dim, o.heads, o.norm_groups, gen, dtype_);
    }

    /// res.i → temporal.i (skipped with time off) → attn.i → cross.i.
    Tensor unit(const Level& level, std::size_t i, const Tensor& x, const Tensor& time_features, const Tensor& context,
                const Tensor& key_bias, const UNetForwardOptions& run) const {
        Tensor h = level.res[i].forward(x, time_features, run);
        if (run.temporal) h = mix(level.temporal[i], h, time_features, run);
        if (i < level.attn.size()) h = level.attn[i].forward(h);
        if (i < level.cross.size()) h = level.cross[i].forward(h, context, key_bias);
        return h;
    }

    /// A mixer on h: with the caller's flow when it takes one, else with the
    /// time features when it is conditioned, else on h alone.
    Tensor mix(const Mixer& mixer, const Tensor& h, const Tensor& time_features, const UNetForwardOptions& run) const {
        if constexpr (temporal::TakesFlow<Mixer>)
            if (run.flow.defined()) return mixer.forward(h, run.flow);
        if constexpr (temporal::TakesEmbedding<Mixer>)
            if (options_.conditioned_mixers) return mixer.forward_conditioned(h, time_features);
        return mixer.forward(h);
    }

    /// Units of the middle are named mid.res.0, mid.attn, mid.res.1: one attention, no index.
    static void visit_units(Level& level, const nn::ParameterVisitor& visit, const std::string& prefix,
                            bool indexed_attention) {
        for (std::size_t i = 0; i < level.res.size(); ++i) {
            const auto numbered = [&](const char* kind) {
                return nn::join_name(prefix, fmt::format("{}.{}", kind, i));
            };
            const auto attention = [&](const char* kind) {
                return indexed_attention ? numbered(kind) : nn::join_name(prefix, kind);
            };
            level.res[i].visit_parameters(visit, numbered("res"));
            level.temporal[i].visit_parameters(visit, numbered("temporal"));
            if (i < level.attn.size()) level.attn[i].visit_parameters(visit, attention("attn"));
            if (i < level.cross.size()) level.cross[i].visit_parameters(visit, attention("cross"));
        }
    }

    temporal::VideoShape check_video(const Shape& shape, DType dtype, bool temporal_on) const {
        constexpr const char* op = "VideoUNet";
        const std::int64_t c = options_.in_channels, m = options_.size_multiple();
        VGT_CHECK(shape.rank() == 5 && shape[2] == c && shape[0] >= 1 && shape[1] >= 1, op,
                  "expected a video [B, T, {}, H, W], found shape {}", c, shape);
        const temporal::VideoShape v{shape[0], shape[1], shape[2], shape[3], shape[4]};
        VGT_CHECK(v.height >= m && v.width >= m && v.height % m == 0 && v.width % m == 0, op,
                  "expected H and W that are positive multiples of 2^(levels−1) = {} ({} levels), found {}×{}", m,
                  options_.levels(), v.height, v.width);
        VGT_CHECK(dtype == dtype_, op, "expected a {} video (the model's dtype), found {}", dtype_name(dtype_),
                  dtype_name(dtype));
        if constexpr (detail::HasFrameLimit<Stage>)
            VGT_CHECK(!temporal_on || v.frames <= options_.max_frames, op,
                      "expected at most max_frames = {} frames ({} has a scale and shift per frame index), found T = "
                      "{}; run with temporal off for longer clips",
                      options_.max_frames, Stage::name, v.frames);
        return v;
    }

    /// An external flow needs mixers that take one; it is checked here once
    /// (each mixer checks its own resize).
    void check_flow(const Tensor& flow, const temporal::VideoShape& v) const {
        constexpr const char* op = "VideoUNet";
        VGT_CHECK(takes_flow, op, "expected no flow ({} computes its own mixing; a mixer such as FlowWarp takes one), "
                  "found a flow of shape {}", Mixer::name, flow.shape());
        VGT_CHECK(flow.rank() == 5 && flow.size(0) == v.batch && flow.size(1) == v.frames && flow.size(2) == 2 &&
                      flow.size(3) >= 1 && flow.size(4) >= 1,
                  op, "expected a flow [{}, {}, 2, Hf, Wf] (the video's batch and frames), found shape {}", v.batch,
                  v.frames, flow.shape());
        VGT_CHECK(flow.dtype() == dtype_, op, "expected a {} flow (the model's dtype), found {}", dtype_name(dtype_),
                  dtype_name(flow.dtype()));
    }

    void check_time_embedding(const Tensor& e, const temporal::VideoShape& v) const {
        const std::int64_t d = options_.time_embed_dim;
        const bool per_clip = e.defined() && e.rank() == 2 && e.size(0) == v.batch && e.size(1) == d;
        const bool per_frame =
            e.defined() && e.rank() == 3 && e.size(0) == v.batch && e.size(1) == v.frames && e.size(2) == d;
        VGT_CHECK(per_clip || per_frame, "VideoUNet",
                  "expected a time embedding [{}, {}] (batch, time_embed_dim) or [{}, {}, {}] (one per frame), "
                  "found {}",
                  v.batch, d, v.batch, v.frames, d,
                  e.defined() ? fmt::format("shape {}", e.shape()) : std::string("none"));
        VGT_CHECK(e.dtype() == dtype_, "VideoUNet", "expected a {} time embedding, found {}", dtype_name(dtype_),
                  dtype_name(e.dtype()));
    }

    /// The key bias of the context mask (undefined without a mask).
    Tensor check_context(const Tensor& context, const Tensor& mask, std::int64_t batch) const {
        constexpr const char* op = "VideoUNet";
        const std::int64_t d = options_.context_dim;
        if (d == 0) {
            VGT_CHECK(!context.defined() && !mask.defined(), op,
                      "expected no context (context_dim = 0: the model has no cross-attention), found {}",
                      context.defined() ? fmt::format("a context of shape {}", context.shape()) : "a context mask");
            return {};
        }
        VGT_CHECK(context.defined(), op,
                  "expected a context [{}, L, {}] (context_dim > 0); pass a null context for unconditional samples, "
                  "found none",
                  batch, d);
        VGT_CHECK(context.rank() == 3 && context.size(0) == batch && context.size(1) >= 1 && context.size(2) == d, op,
                  "expected a context [{}, L, {}] (batch, tokens, context_dim), found shape {}", batch, d,
                  context.shape());
        VGT_CHECK(context.dtype() == dtype_, op, "expected a {} context, found {}", dtype_name(dtype_),
                  dtype_name(context.dtype()));
        if (!mask.defined()) return {};
        return context_key_bias(mask, batch, context.size(1), dtype_, context.device());
    }

    VideoUNetOptions options_;
    DType dtype_;
    nn::Conv conv_in_;
    std::vector<Level> down_;
    Level mid_;
    std::vector<Level> up_;
    nn::GroupNorm out_norm_;
    nn::Conv out_conv_;
};

}  // namespace vgt::models
