#pragma once
// A text-to-video diffusion model in pixel space: a word tokenizer built
// from the training captions, a TextEncoder for the prompts, a
// TimestepEmbedding for the diffusion time, and a VideoUNet preset chosen by
// name (experiment/unet_model.hpp), all made from one TrainConfig.
//
//   training_loss: clips [B, T, C, H, W] in [0, 1] → x0 = 2·clip − 1, each
//                  caption replaced by "" with probability p (classifier-free
//                  guidance's condition dropout), then the diffusion or
//                  flow-matching loss of the config's objective.
//   sample:        prompts → noise → sampler with classifier-free guidance
//                  (the empty prompt is the null condition) and optionally
//                  Gen-1's temporal guidance (the UNet with temporal layers
//                  off) → (x + 1) / 2 clamped to [0, 1].
//
// Parameter names: "text_encoder.*", "time_embedding.*", "unet.*".

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/condition_dropout.hpp"
#include "vgt/diffusion/guidance.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/diffusion/schedule.hpp"
#include "vgt/diffusion/training_loss.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/experiment/unet_model.hpp"
#include "vgt/models/text_encoder.hpp"
#include "vgt/models/timestep_embedding.hpp"
#include "vgt/models/tokenizer.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"

namespace vgt::experiment {

/// What sample() makes. Fields left at 0 / empty take the config's defaults
/// (the data's frame count; diffusion.sampler, sample_steps, guidance,
/// temporal_guidance).
struct SampleRequest {
    std::vector<std::string> prompts;
    std::int64_t frames = 0;
    std::int64_t steps = 0;
    std::optional<diffusion::SamplerKind> sampler;
    std::optional<double> guidance;           // w
    std::optional<double> temporal_guidance;  // w_t
    std::uint64_t seed = 0;
};

class TextToVideo {
public:
    /// Builds every part from `config` (validated here) and `tokenizer`,
    /// drawing initial weights from `gen` in the order text encoder, time
    /// embedding, UNet.
    TextToVideo(TrainConfig config, models::Tokenizer tokenizer, Generator& gen)
        : config_(validated(std::move(config))),
          text_encoder_(std::move(tokenizer), config_.text_encoder, gen),
          time_embedding_(config_.time_embedding, gen),
          unet_(make_unet(config_.model, config_.unet, gen)) {
        if (!config_.diffusion.is_flow())
            schedule_ = diffusion::NoiseSchedule::named(config_.diffusion.schedule, config_.diffusion.timesteps);
    }

    /// A model whose vocabulary comes from `captions`.
    static TextToVideo from_captions(TrainConfig config, const std::vector<std::string>& captions, Generator& gen) {
        models::Tokenizer tokenizer = models::Tokenizer::from_captions(captions, config.text_encoder.vocab_limit);
        return TextToVideo(std::move(config), std::move(tokenizer), gen);
    }

    /// The denoising loss of a batch: videos float32 [B, T, C, H, W] in
    /// [0, 1], one caption per video. Draws from `gen`, in order: B uniforms
    /// for the condition dropout (probability `condition_dropout`), then
    /// the loss's times and noise, then any dropout inside the UNet.
    diffusion::DenoisingLoss training_loss(const Tensor& videos, const std::vector<std::string>& captions,
                                           double condition_dropout, Generator& gen) const {
        constexpr const char* op = "TextToVideo::training_loss";
        const VideoGeometry g = video_geometry(config_.data);
        VGT_CHECK(videos.rank() == 5 && videos.size(2) == g.channels && videos.size(3) == g.height &&
                      videos.size(4) == g.width && videos.dtype() == DType::Float32,
                  op, "expected float32 videos [B, T, {}, {}, {}], found {}", g.channels, g.height, g.width,
                  videos.str());
        VGT_CHECK(static_cast<std::int64_t>(captions.size()) == videos.size(0), op,
                  "expected one caption per video ({}), found {}", videos.size(0), captions.size());
        const std::vector<bool> dropped = diffusion::condition_drop_mask(videos.size(0), condition_dropout, gen);
        std::vector<std::string> texts = captions;
        for (std::size_t i = 0; i < texts.size(); ++i)
            if (dropped[i]) texts[i].clear();
        const models::TextEncoding context = text_encoder_.encode(texts);
        const Tensor x0 = sub(mul(videos, 2.0), 1.0);
        models::UNetForwardOptions run;
        run.training = true;
        run.generator = &gen;
        const diffusion::Denoiser model = [&](const Tensor& x_t, const Tensor& time) {
            return unet_->forward(x_t, time_embedding_.forward(time), context.tokens, context.mask, run);
        };
        const DiffusionConfig& d = config_.diffusion;
        if (d.is_flow()) {
            const diffusion::FlowTimeOptions times{d.time_sampling, d.logit_mean, d.logit_std};
            return diffusion::flow_matching_loss(model, x0, times, gen, d.objective);
        }
        return diffusion::diffusion_loss(model, x0, *schedule_, d.objective, gen);
    }

    /// Videos [P, T, C, H, W] in [0, 1] for P prompts, from noise drawn
    /// from Generator(request.seed).
    Tensor sample(const SampleRequest& request) const {
        constexpr const char* op = "TextToVideo::sample";
        const DiffusionConfig& d = config_.diffusion;
        const VideoGeometry g = video_geometry(config_.data);
        VGT_CHECK(!request.prompts.empty(), op, "expected at least one prompt, found none");
        const std::int64_t frames = request.frames > 0 ? request.frames : g.frames;
        VGT_CHECK(request.frames >= 0, op, "expected frames >= 0 (0: the data's {}), found {}", g.frames,
                  request.frames);
        const std::int64_t steps = request.steps > 0 ? request.steps : d.sample_steps;
        VGT_CHECK(request.steps >= 0 && steps <= (d.is_flow() ? std::int64_t{1} << 20 : d.timesteps), op,
                  "expected steps >= 0 (0: the config's {}) and at most {}, found {}", d.sample_steps,
                  d.is_flow() ? std::int64_t{1} << 20 : d.timesteps, request.steps);
        diffusion::Guidance guidance;
        guidance.scale = request.guidance.value_or(d.guidance);
        guidance.temporal_scale = request.temporal_guidance.value_or(d.temporal_guidance);
        diffusion::SamplerOptions sampler;
        sampler.kind = request.sampler.value_or(d.sampler);
        sampler.prediction = d.objective;
        sampler.eta = sampler.kind == diffusion::SamplerKind::ddim ? d.eta : 0.0;

        NoGradGuard no_grad;
        const auto prompts = static_cast<std::int64_t>(request.prompts.size());
        const models::TextEncoding conditional = text_encoder_.encode(request.prompts);
        const models::TextEncoding empty = text_encoder_.encode(std::vector<std::string>(request.prompts.size()));
        const diffusion::BatchedForward forward = [&](const Tensor& x, const Tensor& time,
                                                      std::span<const diffusion::Evaluation> blocks, bool mixers) {
            std::vector<Tensor> tokens, masks;
            for (const diffusion::Evaluation e : blocks) {
                const models::TextEncoding& c = e == diffusion::Evaluation::conditional ? conditional : empty;
                tokens.push_back(c.tokens);
                masks.push_back(c.mask);
            }
            models::UNetForwardOptions run;
            run.temporal = mixers;
            return unet_->forward(x, time_embedding_.forward(time), tokens.size() == 1 ? tokens[0] : concat(tokens, 0),
                                  masks.size() == 1 ? masks[0] : concat(masks, 0), run);
        };
        const diffusion::Denoiser denoiser =
            diffusion::guided_denoiser(diffusion::batch_by_mixers(forward), guidance);
        const diffusion::SamplingGrid grid = d.is_flow() ? diffusion::flow_grid(static_cast<int>(steps))
                                                         : diffusion::timestep_grid(*schedule_, static_cast<int>(steps));
        Generator gen(request.seed);
        const Tensor x = diffusion::sample(denoiser, Shape{prompts, frames, g.channels, g.height, g.width},
                                           DType::Float32, grid, sampler, gen);
        return clamp(add(mul(x, 0.5), 0.5), 0.0, 1.0);
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        text_encoder_.visit_parameters(visit, nn::join_name(prefix, "text_encoder"));
        time_embedding_.visit_parameters(visit, nn::join_name(prefix, "time_embedding"));
        unet_->visit_parameters(visit, nn::join_name(prefix, "unet"));
    }

    const TrainConfig& config() const { return config_; }
    const models::Tokenizer& tokenizer() const { return text_encoder_.tokenizer(); }
    const models::TextEncoder& text_encoder() const { return text_encoder_; }
    const models::TimestepEmbedding& time_embedding() const { return time_embedding_; }
    const UNetModel& unet() const { return *unet_; }

private:
    static TrainConfig validated(TrainConfig config) {
        config.validate();
        return config;
    }

    TrainConfig config_;
    models::TextEncoder text_encoder_;
    models::TimestepEmbedding time_embedding_;
    std::unique_ptr<UNetModel> unet_;
    std::optional<diffusion::NoiseSchedule> schedule_;  // process "diffusion" only
};

}  // namespace vgt::experiment
