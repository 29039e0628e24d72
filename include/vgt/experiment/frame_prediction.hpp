#pragma once
// Video prediction with a video UNet: given the first K frames of a clip,
// predict the rest in one forward pass, and score the prediction by PSNR and
// SSIM against the real frames. It is the task where a temporal block has a
// right answer to reach (ablation experiment 6, docs/ablation.md).
//
//   input   frames 0 … K−1 of the clip, then frame K−1 repeated for the
//           frames to predict, in [−1, 1], plus a channel that is 1 on the
//           known frames and 0 on the rest: [B, T, C + 1, H, W]
//   output  frame K−1 + the UNet's output on frames K … T−1
//
// The UNet's output conv starts at zero, so an untrained predictor copies the
// last known frame forward: the baseline every trained one is measured
// against. The time embedding is zero and there is no text.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/experiment/unet_model.hpp"
#include "vgt/models/video_unet.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/loss.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::experiment {

class FramePredictor {
public:
    /// The UNet options of a predictor of C-channel frames: `base` with
    /// in_channels C + 1, out_channels C and no cross-attention.
    static models::VideoUNetOptions unet_options(models::VideoUNetOptions base, std::int64_t channels) {
        base.in_channels = channels + 1;
        base.out_channels = channels;
        base.context_dim = 0;
        return base;
    }

    /// `unet` must have been made with unet_options(); K = context_frames >= 1.
    FramePredictor(std::unique_ptr<UNetModel> unet, std::int64_t channels, std::int64_t context_frames,
                   std::int64_t time_embed_dim)
        : unet_(std::move(unet)), channels_(channels), context_frames_(context_frames),
          time_embed_dim_(time_embed_dim) {
        VGT_CHECK(unet_ != nullptr, "FramePredictor", "expected a UNet, found none");
        VGT_CHECK(context_frames >= 1, "FramePredictor", "expected context_frames >= 1, found {}", context_frames);
    }

    /// Frames K … T−1 of `clips` [B, T, C, H, W] (in [0, 1]) predicted from
    /// frames 0 … K−1: [B, T − K, C, H, W], in [0, 1] up to the model's error
    /// (clamp before scoring).
    Tensor predict(const Tensor& clips, const models::UNetForwardOptions& run = {}) const {
        check_clips(clips);
        const std::int64_t b = clips.size(0), t = clips.size(1), h = clips.size(3), w = clips.size(4);
        const std::int64_t k = context_frames_, future = t - k;
        const Tensor x = sub(mul(clips, 2.0), 1.0);
        const Tensor known = slice(x, 1, 0, k);
        const Tensor last = slice(x, 1, k - 1, k);  // [B, 1, C, H, W]
        const Tensor repeated = contiguous(expand(last, Shape{b, future, channels_, h, w}));
        const Tensor mask = concat({Tensor::ones({b, k, 1, h, w}, x.dtype()), Tensor::zeros({b, future, 1, h, w}, x.dtype())}, 1);
        const Tensor input = concat({concat({known, repeated}, 1), mask}, 2);
        const Tensor time = Tensor::zeros({b, time_embed_dim_}, x.dtype());
        const Tensor out = unet_->forward(input, time, {}, {}, run);
        const Tensor predicted = add(repeated, slice(out, 1, k, t));  // in [−1, 1]
        return div(add(predicted, 1.0), 2.0);
    }

    /// The mean squared error of the predicted frames, in [−1, 1] units (a
    /// batch's training loss); `gen` feeds any dropout in the UNet.
    Tensor loss(const Tensor& clips, Generator& gen) const {
        models::UNetForwardOptions run;
        run.training = true;
        run.generator = &gen;
        const Tensor predicted = predict(clips, run);
        const Tensor target = slice(clips, 1, context_frames_, clips.size(1));
        return mul(mse_loss(predicted, target), 4.0);  // (2a − 2b)² = 4 (a − b)²
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        unet_->visit_parameters(visit, nn::join_name(prefix, "unet"));
    }

    const UNetModel& unet() const { return *unet_; }
    std::int64_t context_frames() const { return context_frames_; }

private:
    void check_clips(const Tensor& clips) const {
        VGT_CHECK(clips.rank() == 5 && clips.size(2) == channels_ && clips.size(1) > context_frames_,
                  "FramePredictor", "expected clips [B, T, {}, H, W] with T > {} (the known frames), found {}",
                  channels_, context_frames_, clips.str());
    }

    std::unique_ptr<UNetModel> unet_;
    std::int64_t channels_;
    std::int64_t context_frames_;
    std::int64_t time_embed_dim_;
};

}  // namespace vgt::experiment
