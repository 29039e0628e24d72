#pragma once
// A text-to-video diffusion model in pixel space: a word tokenizer built
// from the training captions, a TextEncoder for the prompts, a
// TimestepEmbedding for the diffusion time, and a VideoUNet preset chosen by
// name (experiment/unet_model.hpp), all made from one TrainConfig.
//
//   training_loss: clips [B, T, C, H, W] in [0, 1] → x0 = 2·clip − 1, each
//                  caption replaced by "" with probability p (classifier-free
//                  guidance's condition dropout), then the diffusion or
//                  flow-matching loss of the config's objective (with
//                  diffusion.frame_lag, a flow time per frame that lags
//                  behind the frame before, diffusion/frame_lag.hpp).
//   sample:        prompts → noise → sampler with classifier-free guidance
//                  (the empty prompt is the null condition) and optionally
//                  Gen-1's temporal guidance (the UNet with temporal layers
//                  off) → (x + 1) / 2 clamped to [0, 1].
//
// With Gen-1's conditioning (TrainConfig::conditioning) the model edits
// videos: structure concatenates the structure map of the clip (training)
// or of a source video (sampling) to the noisy input as channel C; content
// appends a ContentEncoder's tokens of a reference frame to the text
// tokens. Guidance's null condition drops the text and the content but
// keeps the structure, as Gen-1 does. With conditioning.external_flow the
// optical flow of the clip (training) or of the source (sampling) reaches
// the UNet's flow-taking mixers (UNetForwardOptions::flow).
//
// With conditioning.text_motion the prompt sets the motion: training gives
// the flow-taking mixers each clip's motion (flow_motion of its estimated
// flow, one vector per frame, as a uniform field) and trains a motion head,
// the mean of the prompt's words in an embedding of its own → MLP → the
// first frame pair's motion in pixels, by its squared error (weight
// motion_weight, added to the loss); sampling gives the mixers the head's
// motion for the prompt at every frame. Denoising alone pays too little for
// a direction word to be learnt (docs/quality.md); a regression from the
// words to the motion pays for nothing else. The head has its own words
// because the text encoder is no place to learn them: the regression's
// error, in pixels², would retrain the encoder for the motion alone, and
// the encoder's pooled output, detached, holds no direction to regress.
//
// Parameter names: "text_encoder.*", "time_embedding.*", "unet.*", and
// "content_encoder.*" with content conditioning, "text_to_time.*" with
// pooled text, "motion_head.{words,0,1}.*" with text motion.

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
#include "vgt/diffusion/frame_lag.hpp"
#include "vgt/diffusion/guidance.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/diffusion/sampling_grid.hpp"
#include "vgt/diffusion/schedule.hpp"
#include "vgt/diffusion/training_loss.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/experiment/unet_model.hpp"
#include "vgt/experiment/video_conditions.hpp"
#include "vgt/models/content_encoder.hpp"
#include "vgt/models/text_encoder.hpp"
#include "vgt/models/timestep_embedding.hpp"
#include "vgt/models/tokenizer.hpp"
#include "vgt/nn/linear.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/embedding.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

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
    // Structure models (conditioning.structure) only, and needed there: the
    // source video [P or 1, T, C, H, W] in [0, 1] whose structure the
    // samples keep, at structure level t_s. Its T is the frame count.
    Tensor source;
    std::int64_t structure_level = 0;
    // Content models (conditioning.content) only: reference frames
    // [P or 1, C, H', W'] in [0, 1] whose content the samples take; without
    // one the content tokens are left out (the null content).
    Tensor reference;
};

class TextToVideo {
public:
    /// Builds every part from `config` (validated here) and `tokenizer`,
    /// drawing initial weights from `gen` in the order text encoder, time
    /// embedding, UNet, content encoder (with content conditioning), pooled
    /// text projection (with conditioning.pooled_text), motion head's words
    /// and layers (with conditioning.text_motion). The UNet is the
    /// preset config.model names, or what `unet_factory` makes when given
    /// (config.model is then only its name).
    TextToVideo(TrainConfig config, models::Tokenizer tokenizer, Generator& gen, const UNetFactory& unet_factory = {})
        : config_(validated(std::move(config), static_cast<bool>(unet_factory))),
          text_encoder_(std::move(tokenizer), config_.text_encoder, gen),
          time_embedding_(config_.time_embedding, gen),
          unet_(unet_factory ? unet_factory(config_.unet, gen) : make_unet(config_.model, config_.unet, gen)) {
        const ConditioningConfig& c = config_.conditioning;
        VGT_CHECK(!c.has_external_flow() || unet_->takes_flow(), "TextToVideo",
                  "expected a model whose temporal mixers take a flow (FlowWarp) for conditioning.external_flow "
                  "'{}', found {}",
                  c.external_flow, unet_->name());
        VGT_CHECK(!c.has_text_motion() || unet_->takes_flow(), "TextToVideo",
                  "expected a model whose temporal mixers take a flow (FlowWarp, e.g. the vdm_flow preset) for "
                  "conditioning.text_motion '{}', found {}",
                  c.text_motion, unet_->name());
        if (c.content) content_encoder_.emplace(c.content_encoder, gen);
        if (c.pooled_text) text_to_time_.emplace(config_.text_encoder.width, config_.time_embedding.width, gen);
        if (c.has_text_motion()) {
            // N(0, 1) words, as torch.nn.Embedding: their mean then has the
            // scale a Linear's initialisation expects.
            const std::int64_t width = config_.text_encoder.width;
            motion_words_ = nn::parameter(randn(Shape{text_encoder_.tokenizer().size(), width}, gen, DType::Float32));
            motion_hidden_.emplace(width, kMotionHidden, gen);
            motion_out_.emplace(kMotionHidden, 2, gen);
            motion_out_->zero_();  // the motion starts at 0: still clips
        }
        if (!config_.diffusion.is_flow())
            schedule_ = diffusion::NoiseSchedule::named(config_.diffusion.schedule, config_.diffusion.timesteps)
                            .shifted(config_.diffusion.shift);
    }

    /// A model whose vocabulary comes from `captions`.
    static TextToVideo from_captions(TrainConfig config, const std::vector<std::string>& captions, Generator& gen,
                                     const UNetFactory& unet_factory = {}) {
        models::Tokenizer tokenizer = models::Tokenizer::from_captions(captions, config.text_encoder.vocab_limit);
        return TextToVideo(std::move(config), std::move(tokenizer), gen, unet_factory);
    }

    /// The denoising loss of a batch: videos float32 [B, T, C, H, W] in
    /// [0, 1], one caption per video. Draws from `gen`, in order: B uniforms
    /// for the condition dropout (probability `condition_dropout`), then
    /// the loss's times and noise, then (structure conditioning) B uniforms
    /// for the structure levels and B for the structure dropout, then
    /// (content conditioning) B for the reference frames and B for the
    /// content dropout, then any dropout inside the UNet. With text motion
    /// the loss includes motion_weight × the motion head's squared error,
    /// the head reading every caption (the condition dropout is the UNet's).
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
        if (config_.conditioning.has_external_flow()) run.flow = clip_flow(videos, flow_method());
        Tensor motion;  // [B, T, 2], text motion only
        if (config_.conditioning.has_text_motion()) {
            motion = flow_motion(clip_flow(videos, flow::parse_flow_method(config_.conditioning.text_motion)));
            run.flow = uniform_flow(motion, videos.size(3), videos.size(4));
        }
        const diffusion::Denoiser model = [&](const Tensor& x_t, const Tensor& time) {
            // Gen-1's conditions draw after the condition dropout, the times and
            // the noise, so a model without them draws exactly as before.
            const Tensor input =
                config_.conditioning.structure ? concat({x_t, training_structure(videos, gen)}, 2) : x_t;
            const models::TextEncoding full = content_encoder_ ? with_content(context, training_content(videos, gen))
                                                               : context;
            return unet_->forward(input, conditioned_time(time, full), full.tokens, full.mask, run);
        };
        const DiffusionConfig& d = config_.diffusion;
        diffusion::DenoisingLoss result;
        if (d.is_flow()) {
            const diffusion::FlowTimeOptions times{d.time_sampling, d.logit_mean, d.logit_std, d.shift};
            result = d.lags_frames() ? diffusion::lagged_flow_matching_loss(model, x0, times, d.frame_lag,
                                                                            d.lagged_share, gen, d.objective)
                                     : diffusion::flow_matching_loss(model, x0, times, gen, d.objective);
        } else {
            result = diffusion::diffusion_loss(model, x0, *schedule_, d.objective, gen);
        }
        if (motion.defined() && videos.size(1) >= 2) {
            const Tensor error = sub(motion_of(captions), select(motion, 1, 1));  // [B, 2]
            result.loss = add(result.loss, mul(mean(mul(error, error)), config_.conditioning.motion_weight));
        }
        return result;
    }

    /// The motion head's motion for each prompt, [P, 2] in pixels per frame
    /// (the flow convention: content at p came from p + m in the frame
    /// before); text motion models only.
    Tensor predicted_motion(const std::vector<std::string>& prompts) const {
        VGT_CHECK(motion_hidden_.has_value(), "TextToVideo::predicted_motion",
                  "expected a model trained with conditioning.text_motion, found text_motion '{}'",
                  config_.conditioning.text_motion);
        return motion_of(prompts);
    }

    /// Videos [P, T, C, H, W] in [0, 1] for P prompts, from noise drawn
    /// from Generator(request.seed); for a structure model, edits of
    /// request.source.
    Tensor sample(const SampleRequest& request) const {
        constexpr const char* op = "TextToVideo::sample";
        const DiffusionConfig& d = config_.diffusion;
        const VideoGeometry g = video_geometry(config_.data);
        VGT_CHECK(!request.prompts.empty(), op, "expected at least one prompt, found none");
        VGT_CHECK(request.frames >= 0, op, "expected frames >= 0 (0: the data's {}), found {}", g.frames,
                  request.frames);
        const auto prompts = static_cast<std::int64_t>(request.prompts.size());
        // The conditions of a source are computed once per source clip (one
        // source may serve every prompt), then given to each prompt.
        const Tensor source = source_clips(request, prompts);  // [P or 1, T, C, H, W], or none
        const auto per_prompt = [&](const Tensor& t) {
            if (!t.defined() || t.size(0) == prompts) return t;
            Shape all = t.shape();
            all[0] = prompts;
            return contiguous(expand(t, all));
        };
        const Tensor structure = per_prompt(
            source.defined()
                ? clip_structure(source,
                                 std::vector<std::int64_t>(static_cast<std::size_t>(source.size(0)),
                                                           request.structure_level),
                                 config_.conditioning.sigma_per_level)
                : Tensor{});  // [P, T, 1, H, W]
        Tensor flow = per_prompt(config_.conditioning.has_external_flow() ? clip_flow(source, flow_method())
                                                                          : Tensor{});  // [P, T, 2, H, W]
        const std::int64_t frames =
            structure.defined() ? structure.size(1) : (request.frames > 0 ? request.frames : g.frames);
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
        models::TextEncoding conditional = text_encoder_.encode(request.prompts);
        if (motion_hidden_) {
            // The prompt's motion at every frame (frame 0's is unused).
            const Tensor motion = motion_of(request.prompts);  // [P, 2]
            flow = uniform_flow(contiguous(expand(unsqueeze(motion, 1), Shape{prompts, frames, 2})), g.height,
                                g.width);
        }
        models::TextEncoding empty = text_encoder_.encode(std::vector<std::string>(request.prompts.size()));
        if (content_encoder_) {
            // The null condition keeps the tokens' count but masks the content out.
            const models::TextEncoding content = sample_content(request, prompts);
            conditional = with_content(conditional, content);
            empty = with_content(empty, {content.tokens, content_mask(std::vector<bool>(request.prompts.size(), false),
                                                                      content.tokens.size(1))});
        } else {
            VGT_CHECK(!request.reference.defined(), op,
                      "expected no reference image (the model was trained without content conditioning; train with "
                      "conditioning.content = true), found {}",
                      request.reference.str());
        }
        const diffusion::BatchedForward forward = [&](const Tensor& x, const Tensor& time,
                                                      std::span<const diffusion::Evaluation> blocks, bool mixers) {
            std::vector<Tensor> tokens, masks;
            for (const diffusion::Evaluation e : blocks) {
                const models::TextEncoding& c = e == diffusion::Evaluation::conditional ? conditional : empty;
                tokens.push_back(c.tokens);
                masks.push_back(c.mask);
            }
            // Every evaluation, the null one included, sees the structure and the flow.
            const auto per_block = [&](const Tensor& t) {
                return blocks.size() == 1 ? t : concat(std::vector<Tensor>(blocks.size(), t), 0);
            };
            models::UNetForwardOptions run;
            run.temporal = mixers;
            if (flow.defined()) run.flow = per_block(flow);
            const Tensor input = structure.defined() ? concat({x, per_block(structure)}, 2) : x;
            const models::TextEncoding context{tokens.size() == 1 ? tokens[0] : concat(tokens, 0),
                                               masks.size() == 1 ? masks[0] : concat(masks, 0)};
            return unet_->forward(input, conditioned_time(time, context), context.tokens, context.mask, run);
        };
        const diffusion::Denoiser denoiser =
            diffusion::guided_denoiser(diffusion::batch_by_mixers(forward), guidance);
        const Shape shape{prompts, frames, g.channels, g.height, g.width};
        Generator gen(request.seed);
        Tensor x;
        if (d.lags_frames()) {
            VGT_CHECK(sampler.kind == diffusion::SamplerKind::euler, op,
                      "expected sampler 'euler' (the model lags its frames, diffusion.frame_lag {}), found '{}'",
                      d.frame_lag, diffusion::sampler_name(sampler.kind));
            x = diffusion::lagged_euler_sample(denoiser, randn(shape, gen, DType::Float32), static_cast<int>(steps),
                                               d.frame_lag, d.shift, d.objective);
        } else {
            const diffusion::SamplingGrid grid =
                d.is_flow() ? diffusion::flow_grid(static_cast<int>(steps), d.shift)
                            : diffusion::timestep_grid(*schedule_, static_cast<int>(steps));
            x = diffusion::sample(denoiser, shape, DType::Float32, grid, sampler, gen);
        }
        return clamp(add(mul(x, 0.5), 0.5), 0.0, 1.0);
    }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        text_encoder_.visit_parameters(visit, nn::join_name(prefix, "text_encoder"));
        time_embedding_.visit_parameters(visit, nn::join_name(prefix, "time_embedding"));
        unet_->visit_parameters(visit, nn::join_name(prefix, "unet"));
        if (content_encoder_) content_encoder_->visit_parameters(visit, nn::join_name(prefix, "content_encoder"));
        if (text_to_time_) text_to_time_->visit_parameters(visit, nn::join_name(prefix, "text_to_time"));
        if (motion_hidden_) {
            visit(nn::join_name(prefix, "motion_head.words.weight"), motion_words_);
            motion_hidden_->visit_parameters(visit, nn::join_name(prefix, "motion_head.0"));
            motion_out_->visit_parameters(visit, nn::join_name(prefix, "motion_head.1"));
        }
    }

    const TrainConfig& config() const { return config_; }
    const models::Tokenizer& tokenizer() const { return text_encoder_.tokenizer(); }
    const models::TextEncoder& text_encoder() const { return text_encoder_; }
    const models::TimestepEmbedding& time_embedding() const { return time_embedding_; }
    const UNetModel& unet() const { return *unet_; }
    /// The content encoder; null without content conditioning.
    const models::ContentEncoder* content_encoder() const { return content_encoder_ ? &*content_encoder_ : nullptr; }

private:
    static TrainConfig validated(TrainConfig config, bool factory_made_unet) {
        if (factory_made_unet)
            config.validate_parts();
        else
            config.validate();
        return config;
    }

    /// The time embedding of time [B] ([B, D]) or of frame times [B, T]
    /// ([B, T, D]), plus (conditioning.pooled_text) the projected masked mean
    /// of the context tokens: every residual block then sees the prompt
    /// through its time projection, not only the levels where
    /// cross-attention runs.
    Tensor conditioned_time(const Tensor& time, const models::TextEncoding& context) const {
        const bool per_frame = time.rank() == 2;
        Tensor embedding = time_embedding_.forward(per_frame ? reshape(time, Shape{time.numel()}) : time);
        if (per_frame) embedding = reshape(embedding, Shape{time.size(0), time.size(1), embedding.size(1)});
        if (!text_to_time_) return embedding;
        const Tensor text = text_to_time_->forward(masked_mean(context.tokens, context.mask));  // [B, D]
        return add(embedding, per_frame ? unsqueeze(text, 1) : text);
    }

    /// The mean over the tokens of tokens [B, L, d] where mask [B, L] is 1, [B, d].
    static Tensor masked_mean(const Tensor& tokens, const Tensor& mask) {
        const Tensor weights = unsqueeze(to(mask, tokens.dtype()), 2);  // [B, L, 1]
        return div(sum(mul(tokens, weights), {1}), sum(weights, {1}));
    }

    /// The motion head's motion for each prompt, [B, 2]: the mean of the
    /// prompt's words (<bos> and <eos> included) in the head's own embedding,
    /// then the MLP.
    Tensor motion_of(const std::vector<std::string>& prompts) const {
        const models::TokenBatch batch = tokenizer().encode(prompts, text_encoder_.options().max_length);
        const Tensor words = masked_mean(embedding(motion_words_, batch.ids), batch.mask);
        return motion_out_->forward(silu(motion_hidden_->forward(words)));
    }

    /// Text tokens followed by content tokens, and their masks.
    static models::TextEncoding with_content(const models::TextEncoding& text, const models::TextEncoding& content) {
        return {concat({text.tokens, content.tokens}, 1), concat({text.mask, content.mask}, 1)};
    }

    /// The structure channel of a training batch: each clip's map at a level
    /// uniform over {0 … max_structure_level}, zero with probability
    /// structure_dropout.
    Tensor training_structure(const Tensor& videos, Generator& gen) const {
        const ConditioningConfig& c = config_.conditioning;
        const std::int64_t batch = videos.size(0);
        const std::vector<std::int64_t> levels = draw_integers(batch, c.max_structure_level + 1, gen);
        const std::vector<bool> dropped = diffusion::condition_drop_mask(batch, c.structure_dropout, gen);
        const Tensor maps = clip_structure(videos, levels, c.sigma_per_level);
        const Shape row{videos.size(1), 1, videos.size(3), videos.size(4)};
        return diffusion::drop_condition(maps, Tensor::zeros(row, maps.dtype()), dropped);
    }

    /// The content tokens of a training batch: a random frame of each clip,
    /// masked out with probability content_dropout.
    models::TextEncoding training_content(const Tensor& videos, Generator& gen) const {
        const std::int64_t batch = videos.size(0);
        const std::vector<std::int64_t> frames = draw_integers(batch, videos.size(1), gen);
        const std::vector<bool> dropped =
            diffusion::condition_drop_mask(batch, config_.conditioning.content_dropout, gen);
        std::vector<bool> kept;
        for (const bool d : dropped) kept.push_back(!d);
        const Tensor tokens = content_encoder_->forward(sub(mul(reference_frames(videos, frames), 2.0), 1.0));
        return {tokens, content_mask(kept, tokens.size(1))};
    }

    flow::FlowMethod flow_method() const { return flow::parse_flow_method(config_.conditioning.external_flow); }

    /// The source as float32 clips [P or 1, T, C, H, W] for a structure
    /// model (a source of one clip serves every prompt); none otherwise.
    Tensor source_clips(const SampleRequest& request, std::int64_t prompts) const {
        constexpr const char* op = "TextToVideo::sample";
        const Tensor& source = request.source;
        if (!config_.conditioning.structure) {
            VGT_CHECK(!source.defined(), op,
                      "expected no source video (the model was trained without structure conditioning; train with "
                      "conditioning.structure = true), found {}",
                      source.str());
            return {};
        }
        const VideoGeometry g = video_geometry(config_.data);
        VGT_CHECK(source.defined(), op,
                  "expected a source video [{}, T, {}, {}, {}] in [0, 1] (the model was trained with structure "
                  "conditioning), found none",
                  prompts, g.channels, g.height, g.width);
        VGT_CHECK(source.rank() == 5 && (source.size(0) == prompts || source.size(0) == 1) && source.size(1) >= 1 &&
                      source.size(2) == g.channels && source.size(3) == g.height && source.size(4) == g.width &&
                      is_floating(source.dtype()),
                  op, "expected a float source video [{} or 1, T, {}, {}, {}], found {}", prompts, g.channels, g.height,
                  g.width, source.str());
        VGT_CHECK(request.frames == 0 || request.frames == source.size(1), op,
                  "expected frames 0 or the source video's {}, found {}", source.size(1), request.frames);
        VGT_CHECK(request.structure_level >= 0, op, "expected a structure level >= 0, found {}",
                  request.structure_level);
        return to(source, DType::Float32);
    }

    /// The reference frames' content tokens [P, K, d] and their mask (all 0
    /// without a reference).
    models::TextEncoding sample_content(const SampleRequest& request, std::int64_t prompts) const {
        constexpr const char* op = "TextToVideo::sample";
        const models::ContentEncoderOptions& o = content_encoder_->options();
        const auto count = static_cast<std::size_t>(prompts);
        const Tensor& reference = request.reference;
        if (!reference.defined())
            return {Tensor::zeros(Shape{prompts, o.tokens, o.width}),
                    content_mask(std::vector<bool>(count, false), o.tokens)};
        VGT_CHECK(reference.rank() == 4 && (reference.size(0) == prompts || reference.size(0) == 1) &&
                      reference.size(1) == o.in_channels && is_floating(reference.dtype()),
                  op, "expected float reference frames [{} or 1, {}, H, W] in [0, 1], found {}", prompts,
                  o.in_channels, reference.str());
        Tensor frames = to(reference, DType::Float32);
        if (frames.size(0) != prompts)
            frames = contiguous(expand(frames, Shape{prompts, frames.size(1), frames.size(2), frames.size(3)}));
        return {content_encoder_->forward(sub(mul(frames, 2.0), 1.0)),
                content_mask(std::vector<bool>(count, true), o.tokens)};
    }

    TrainConfig config_;
    models::TextEncoder text_encoder_;
    models::TimestepEmbedding time_embedding_;
    std::unique_ptr<UNetModel> unet_;
    std::optional<models::ContentEncoder> content_encoder_;  // content conditioning only
    std::optional<diffusion::NoiseSchedule> schedule_;  // process "diffusion" only
    std::optional<nn::Linear> text_to_time_;             // conditioning.pooled_text only
    static constexpr std::int64_t kMotionHidden = 64;    // the motion head's hidden width
    Tensor motion_words_;                                 // [V, text width], conditioning.text_motion only
    std::optional<nn::Linear> motion_hidden_, motion_out_;  // conditioning.text_motion only
};

}  // namespace vgt::experiment
