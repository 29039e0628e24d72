#pragma once
// FlowWarp: a temporal mixer that aligns the previous frame to the current
// one by optical flow before mixing them, so that a moving object meets its
// own features instead of whatever was at the same pixel a frame ago.
//
//   h          = GroupNorm(x), per frame
//   flow_t     = Conv3x3(SiLU(Conv3x3([h_{t−1}, h_t])))   t ≥ 1, [2, H, W] in pixels
//   warped_t   = warp(h_{t−1}, flow_t)                     t ≥ 1 (bilinear, zeros outside)
//   warped_0   = 0
//   y_t        = x_t + Conv1x1([h_t, warped_t])
//
// The flow follows vgt::warp: warped_t(p) = h_{t−1}(p + flow_t(p)), channel 0
// the x (column) displacement, channel 1 the y (row) one. So flow_t points
// from a pixel of frame t to where its content was in frame t − 1: a scene
// that moved one pixel to the right has flow (−1, 0).
//
// Built with MixerOptions::embedding_dim = D > 0, the block is conditioned:
// forward_conditioned(video, e) adds a flow from the conditioning embedding
// e (in a VideoUNet the SiLU'd time embedding, pooled text included),
//
//   flow_t += Linear(e)                 the same 2-vector at every pixel,
//
// with e per clip [B, D] or per frame [B, T, D] (frame t's row). A prompt can
// then name a motion directly: "moving left" becomes a shift of the previous
// frame's features, which the head's flow, read from the frames, refines.
// Spatial convs and same-pixel temporal attention give a word no such path.
//
// The flow head's last conv, the embedding's linear and the fuse conv start
// at zero, so the flow starts at 0 and the block is the identity. Instead of the flow head, a
// caller may pass its own flow (forward(video, flow), e.g. from a vgt::flow
// estimator); frame t depends only on frames t − 1 and t either way, so the
// block is causal.
//
// Parameters: norm.{weight,bias} [C]; flow_head.0.weight [C, 2C, 3, 3],
// flow_head.0.bias [C]; flow_head.1.weight [2, C, 3, 3], flow_head.1.bias [2];
// fuse.weight [C, 2C, 1, 1], fuse.bias [C]; conditioned, also
// flow_embedding.weight [2, D], flow_embedding.bias [2].

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/grid_sample.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/resample.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/block_concepts.hpp"
#include "vgt/temporal/layout.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::temporal {

class FlowWarp {
public:
    static constexpr std::string_view name = "FlowWarp";

    FlowWarp(const MixerOptions& options, Generator& gen)
        : channels_(checked(options.channels)),
          norm_(options.norm_groups > 0 ? options.norm_groups : nn::default_norm_groups(options.channels),
                options.channels, options.dtype),
          flow_hidden_(2 * options.channels, options.channels, {3, 3}, ConvOptions{{}, {1}, {}, 1}, gen,
                       options.dtype),
          flow_out_(options.channels, 2, {3, 3}, ConvOptions{{}, {1}, {}, 1}, gen, options.dtype),
          fuse_(2 * options.channels, options.channels, {1, 1}, ConvOptions{}, gen, options.dtype) {
        VGT_CHECK(options.embedding_dim >= 0, "FlowWarp", "expected embedding_dim >= 0 in MixerOptions, found {}",
                  options.embedding_dim);
        flow_out_.zero_();
        fuse_.zero_();
        if (options.embedding_dim > 0) flow_embedding_.emplace(options.embedding_dim, 2, gen, options.dtype);
        if (flow_embedding_) flow_embedding_->zero_();
    }

    /// y = x + g(x) with the flow from the block's own flow head. A
    /// conditioned block needs its embedding: forward_conditioned.
    Tensor forward(const Tensor& video) const {
        require_unconditioned("forward_conditioned(video, embedding)");
        const VideoShape v = check_video(video);
        const Tensor h = normalized(video);
        return mix(video, h, head_flow(h, v), v);
    }

    /// y = x + g(x) with the head's flow plus the embedding's, for a block
    /// built with embedding_dim = D > 0; embedding [B, D] or [B, T, D].
    Tensor forward_conditioned(const Tensor& video, const Tensor& embedding) const {
        const VideoShape v = check_video(video);
        const Tensor h = normalized(video);
        return mix(video, h, conditioned_flow(h, embedding, v), v);
    }

    /// The conditioned flow as a video-shaped field [B, T, 2, H, W] (frame 0
    /// zero), the counterpart of predicted_flow.
    Tensor predicted_flow(const Tensor& video, const Tensor& embedding) const {
        const VideoShape v = check_video(video);
        const Tensor flow = conditioned_flow(normalized(video), embedding, v);
        return with_zero_first_frame(flow, v, 2, video.dtype(), video.device());
    }

    /// D of a conditioned block, 0 for an unconditioned one.
    std::int64_t embedding_dim() const { return flow_embedding_ ? flow_embedding_->in_features() : 0; }

    /// y = x + g(x) with an external flow [B, T, 2, Hf, Wf] in pixels of its
    /// own Hf×Wf grid, flow_t mapping frame t to t − 1 as above (frame 0 is
    /// ignored). It is resized to H×W bilinearly with PyTorch's
    /// align_corners=False convention (pixel areas line up, so a displacement
    /// scales by W/Wf along x and H/Hf along y), and its components are
    /// scaled by those factors. Gradients flow to the flow too.
    Tensor forward(const Tensor& video, const Tensor& flow) const {
        const VideoShape v = check_video(video);
        return mix(video, normalized(video), resized_flow(flow, v), v);
    }

    /// The flow head's output as a video-shaped field [B, T, 2, H, W] (frame
    /// 0 zero): forward(video, predicted_flow(video)) equals forward(video).
    Tensor predicted_flow(const Tensor& video) const {
        require_unconditioned("predicted_flow(video, embedding)");
        const VideoShape v = check_video(video);
        const Tensor flow = head_flow(normalized(video), v);
        return with_zero_first_frame(flow, v, 2, video.dtype(), video.device());
    }

    /// The previous frames aligned to each frame, warp(h_{t−1}, flow_t) with
    /// zeros at t = 0, [B, T, C, H, W]: what the fuse conv sees beside h_t.
    Tensor warped_previous(const Tensor& video) const {
        require_unconditioned("warped_previous(video, predicted_flow(video, embedding))");
        const VideoShape v = check_video(video);
        const Tensor h = normalized(video);
        return warped(h, head_flow(h, v), v);
    }
    Tensor warped_previous(const Tensor& video, const Tensor& flow) const {
        const VideoShape v = check_video(video);
        return warped(normalized(video), resized_flow(flow, v), v);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }

    /// Forward FLOPs of the convs: the flow head on the B·(T − 1) frame
    /// pairs, the fuse conv on all B·T frames (frame 0 sees zeros beside h_0
    /// but runs all the same). GroupNorm, SiLU, the bilinear warp and the
    /// residual add are point-wise or gathers and not counted.
    double flops(const Shape& video) const {
        const std::int64_t pixels = video[3] * video[4];
        const std::int64_t pairs = video[0] * (video[1] - 1);
        const double embedding = flow_embedding_ ? flow_embedding_->flops(video[0] * video[1]) : 0.0;
        return flow_hidden_.flops(pairs * pixels) + flow_out_.flops(pairs * pixels) +
               fuse_.flops(video[0] * video[1] * pixels) + embedding;
    }

    bool is_causal() const { return true; }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm_.visit_parameters(visit, nn::join_name(prefix, "norm"));
        flow_hidden_.visit_parameters(visit, nn::join_name(prefix, "flow_head.0"));
        flow_out_.visit_parameters(visit, nn::join_name(prefix, "flow_head.1"));
        fuse_.visit_parameters(visit, nn::join_name(prefix, "fuse"));
        if (flow_embedding_) flow_embedding_->visit_parameters(visit, nn::join_name(prefix, "flow_embedding"));
    }

private:
    static std::int64_t checked(std::int64_t channels) {
        VGT_CHECK(channels >= 1, "FlowWarp", "expected a positive channel count in MixerOptions, found {}",
                  channels);
        return channels;
    }

    VideoShape check_video(const Tensor& video) const {
        const VideoShape v = VideoShape::of(video, "FlowWarp");
        VGT_CHECK(v.channels == channels_, "FlowWarp", "expected a video with {} channels [B, T, {}, H, W], found {}",
                  channels_, channels_, video.shape());
        VGT_CHECK(v.frames >= 1 && v.height >= 1 && v.width >= 1, "FlowWarp",
                  "expected a non-empty video, found shape {}", video.shape());
        return v;
    }

    /// A conditioned block's flow needs its embedding: `call` is the one to use.
    void require_unconditioned(const char* call) const {
        VGT_CHECK(!flow_embedding_, "FlowWarp",
                  "expected {} for a block built with embedding_dim = {}, found a call without the embedding", call,
                  embedding_dim());
    }

    /// GroupNorm per frame, [B·T, C, H, W].
    Tensor normalized(const Tensor& video) const { return norm_.forward(fold_frames(video)); }

    /// Frames [t0, t1) of each video of folded frames [B·T, ...], folded again.
    static Tensor frame_range(const Tensor& folded, const VideoShape& v, std::int64_t t0, std::int64_t t1) {
        return fold_frames(slice(unfold_frames(folded, v.batch), 1, t0, t1));
    }

    /// [B·(T − 1), K, H, W] (undefined when T = 1) → [B, T, K, H, W] with frame 0 zero.
    static Tensor with_zero_first_frame(const Tensor& later, const VideoShape& v, std::int64_t k, DType dtype,
                                        Device device) {
        const Tensor first = Tensor::zeros(Shape{v.batch, 1, k, v.height, v.width}, dtype, device);
        if (!later.defined()) return first;
        return concat({first, unfold_frames(later, v.batch)}, 1);
    }

    /// The flow head on all frame pairs at once: [B·(T − 1), 2, H, W], undefined for T = 1.
    Tensor head_flow(const Tensor& h, const VideoShape& v) const {
        if (v.frames < 2) return {};
        // [h_{t−1}, h_t] of every pair in one copy, straight from views of the frames.
        const Tensor videos = unfold_frames(h, v.batch);
        const Tensor pairs =
            fold_frames(concat({slice(videos, 1, 0, v.frames - 1), slice(videos, 1, 1, v.frames)}, 2));
        return flow_out_.forward(silu(flow_hidden_.forward(pairs)));
    }

    /// The head's flow plus the embedding's 2-vector per clip or per frame:
    /// [B·(T − 1), 2, H, W], undefined for T = 1.
    Tensor conditioned_flow(const Tensor& h, const Tensor& embedding, const VideoShape& v) const {
        const std::int64_t d = embedding_dim();
        VGT_CHECK(d > 0, "FlowWarp",
                  "expected a block built with embedding_dim > 0 for forward_conditioned, found embedding_dim = 0");
        const bool per_clip = embedding.defined() && embedding.rank() == 2 && embedding.size(0) == v.batch &&
                              embedding.size(1) == d;
        const bool per_frame = embedding.defined() && embedding.rank() == 3 && embedding.size(0) == v.batch &&
                               embedding.size(1) == v.frames && embedding.size(2) == d;
        VGT_CHECK(per_clip || per_frame, "FlowWarp",
                  "expected an embedding [{}, {}] (batch, embedding_dim) or [{}, {}, {}] (one per frame), found {}",
                  v.batch, d, v.batch, v.frames, d,
                  embedding.defined() ? fmt::format("shape {}", embedding.shape()) : std::string("none"));
        VGT_CHECK(embedding.dtype() == norm_.weight.dtype(), "FlowWarp",
                  "expected an embedding of the block's dtype {}, found {}", dtype_name(norm_.weight.dtype()),
                  dtype_name(embedding.dtype()));
        const Tensor head = head_flow(h, v);
        if (!head.defined()) return head;
        const Tensor shift = flow_embedding_->forward(embedding);  // [B, 2] or [B, T, 2]
        const Tensor per_pair = per_clip ? reshape(shift, Shape{v.batch, 1, 2, 1, 1})
                                         : reshape(slice(shift, 1, 1, v.frames), Shape{v.batch, v.frames - 1, 2, 1, 1});
        const Tensor flow = add(reshape(head, Shape{v.batch, v.frames - 1, 2, v.height, v.width}), per_pair);
        return reshape(flow, Shape{v.batch * (v.frames - 1), 2, v.height, v.width});
    }

    /// An external flow [B, T, 2, Hf, Wf] → frames 1.. at H×W in pixels of
    /// H×W, [B·(T − 1), 2, H, W]; undefined for T = 1.
    Tensor resized_flow(const Tensor& flow, const VideoShape& v) const {
        VGT_CHECK(flow.rank() == 5 && flow.size(0) == v.batch && flow.size(1) == v.frames && flow.size(2) == 2 &&
                      flow.size(3) >= 1 && flow.size(4) >= 1,
                  "FlowWarp", "expected a flow of shape [{}, {}, 2, Hf, Wf] for a video of shape {}, found {}",
                  v.batch, v.frames, v.shape(), flow.shape());
        VGT_CHECK(flow.dtype() == norm_.weight.dtype(), "FlowWarp",
                  "expected a flow of the block's dtype {}, found {}", dtype_name(norm_.weight.dtype()),
                  dtype_name(flow.dtype()));
        if (v.frames < 2) return {};
        const std::int64_t hf = flow.size(3), wf = flow.size(4);
        Tensor later = fold_frames(slice(flow, 1, 1, v.frames));
        if (hf == v.height && wf == v.width) return later;
        later = upsample_bilinear(later, v.height, v.width, false);
        const std::vector<double> factors{static_cast<double>(v.width) / static_cast<double>(wf),
                                          static_cast<double>(v.height) / static_cast<double>(hf)};
        return mul(later, to(to(Tensor::from_vector(factors, Shape{1, 2, 1, 1}), flow.dtype()), flow.device()));
    }

    /// warp(h_{t−1}, flow_t) for t ≥ 1, zeros at t = 0: [B, T, C, H, W].
    Tensor warped(const Tensor& h, const Tensor& flow, const VideoShape& v) const {
        const Tensor later = flow.defined() ? warp(frame_range(h, v, 0, v.frames - 1), flow, GridPadding::Zeros)
                                            : Tensor{};
        return with_zero_first_frame(later, v, v.channels, h.dtype(), h.device());
    }

    Tensor mix(const Tensor& video, const Tensor& h, const Tensor& flow, const VideoShape& v) const {
        const Tensor aligned = fold_frames(warped(h, flow, v));
        const Tensor g = fuse_.forward(concat({h, aligned}, 1));
        return add(video, unfold_frames(g, v.batch));
    }

    std::int64_t channels_;
    nn::GroupNorm norm_;
    nn::Conv flow_hidden_;  // flow_head.0: [h_{t−1}, h_t] (2C) → C
    nn::Conv flow_out_;     // flow_head.1: C → 2, zero at init
    nn::Conv fuse_;         // [h_t, warped_t] (2C) → C, zero at init
    std::optional<nn::Linear> flow_embedding_;  // conditioned: D → 2, zero at init
};

static_assert(check_temporal_mixer<FlowWarp>());

}  // namespace vgt::temporal
