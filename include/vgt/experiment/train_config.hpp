#pragma once
// The configuration of a text-to-video training run, one JSON document:
//
//   {"model": "gen1", "unet": {...}, "text_encoder": {...}, "time_embedding": {...},
//    "diffusion": {...}, "data": {...}, "optim": {...}, "training": {...},
//    "conditioning": {...}, "space": "pixel"}
//
// Every key is a field of the structs below (docs/config.md lists them
// with their defaults). Reading is strict: an unknown key, a wrong type or a
// bad value is a vgt::Error naming the key's path. validate() also checks
// that the parts fit together (the UNet's channels match the data's, plus
// one for a structure map; its context width the text encoder's, which a
// content encoder must share; its time width the time embedding's).

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/data/data_config.hpp"
#include "vgt/diffusion/objective.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/diffusion/schedule.hpp"
#include "vgt/diffusion/training_loss.hpp"
#include "vgt/io/json_config.hpp"
#include "vgt/models/content_encoder.hpp"
#include "vgt/models/text_encoder.hpp"
#include "vgt/models/timestep_embedding.hpp"
#include "vgt/models/unet_presets.hpp"
#include "vgt/models/video_unet.hpp"
#include "vgt/optim/optim_config.hpp"

namespace vgt::io {

template <>
struct JsonCodec<diffusion::ScheduleKind>
    : JsonEnumCodec<diffusion::ScheduleKind, diffusion::schedule_name, diffusion::parse_schedule_kind> {};
template <>
struct JsonCodec<diffusion::Objective>
    : JsonEnumCodec<diffusion::Objective, diffusion::objective_name, diffusion::parse_objective> {};
template <>
struct JsonCodec<diffusion::SamplerKind>
    : JsonEnumCodec<diffusion::SamplerKind, diffusion::sampler_name, diffusion::parse_sampler_kind> {};
template <>
struct JsonCodec<diffusion::TimeSampling>
    : JsonEnumCodec<diffusion::TimeSampling, diffusion::time_sampling_name, diffusion::parse_time_sampling> {};

}  // namespace vgt::io

namespace vgt::experiment {

/// The noising process, the objective and the sampler's defaults.
struct DiffusionConfig {
    std::string process = "diffusion";  // "diffusion" (a timestep schedule) or "flow" (rectified flow, t in [0, 1])
    diffusion::ScheduleKind schedule = diffusion::ScheduleKind::cosine;  // process "diffusion"
    std::int64_t timesteps = 1000;                                       // N, process "diffusion"
    diffusion::Objective objective = diffusion::Objective::epsilon;
    diffusion::TimeSampling time_sampling = diffusion::TimeSampling::uniform;  // process "flow"
    double logit_mean = 0.0, logit_std = 1.0;                                  // logit-normal flow times
    double shift = 1.0;  // every noise level's SNR divided by shift², in training and sampling
    diffusion::SamplerKind sampler = diffusion::SamplerKind::ddim;              // default of sample()
    std::int64_t sample_steps = 50;
    double eta = 0.0;                 // ddim only
    double guidance = 3.0;            // classifier-free guidance w
    double temporal_guidance = 1.0;   // Gen-1's w_t (1: plain classifier-free guidance)
    // Frame times that lag (diffusion/frame_lag.hpp), process "flow" only:
    // L of t_k(τ), in training for a share of the clips and in sampling.
    double frame_lag = 0.0;
    double lagged_share = 1.0;  // of the training clips; the rest share one time

    bool is_flow() const { return process == "flow"; }
    bool lags_frames() const { return frame_lag > 0.0; }

    void validate() const {
        constexpr const char* op = "DiffusionConfig";
        VGT_CHECK(process == "diffusion" || process == "flow", op, "expected process 'diffusion' or 'flow', found '{}'",
                  process);
        VGT_CHECK(timesteps >= 1, op, "expected timesteps >= 1, found {}", timesteps);
        VGT_CHECK(sample_steps >= 1 && (is_flow() || sample_steps <= timesteps), op,
                  "expected sample_steps in [1, timesteps = {}], found {}", timesteps, sample_steps);
        VGT_CHECK(logit_std > 0.0, op, "expected logit_std > 0, found {}", logit_std);
        VGT_CHECK(std::isfinite(shift) && shift > 0.0, op, "expected a finite shift > 0, found {}", shift);
        VGT_CHECK(eta >= 0.0 && eta <= 1.0, op, "expected eta in [0, 1], found {}", eta);
        VGT_CHECK(is_flow() || sampler != diffusion::SamplerKind::euler, op,
                  "expected a sampler other than euler for process 'diffusion' (euler needs process 'flow')");
        VGT_CHECK(!is_flow() || objective != diffusion::Objective::epsilon, op,
                  "expected an objective other than epsilon for process 'flow' (an epsilon output gives no x0 at t = 1)");
        VGT_CHECK(std::isfinite(frame_lag) && frame_lag >= 0.0, op, "expected a finite frame_lag >= 0, found {}",
                  frame_lag);
        VGT_CHECK(lagged_share >= 0.0 && lagged_share <= 1.0, op, "expected lagged_share in [0, 1], found {}",
                  lagged_share);
        if (lags_frames()) {
            VGT_CHECK(is_flow(), op, "expected process 'flow' for frame_lag {} (lagged frame times are flow times), "
                      "found '{}'", frame_lag, process);
            VGT_CHECK(objective == diffusion::Objective::flow || objective == diffusion::Objective::v, op,
                      "expected objective 'flow' or 'v' for frame_lag {} (frames at t = 0 and 1 need a velocity), "
                      "found '{}'", frame_lag, diffusion::objective_name(objective));
            VGT_CHECK(sampler == diffusion::SamplerKind::euler, op,
                      "expected sampler 'euler' for frame_lag {} (the lagged sampler is Euler's), found '{}'",
                      frame_lag, diffusion::sampler_name(sampler));
        }
    }
};

template <class Visitor>
void visit_fields(Visitor& v, DiffusionConfig& c) {
    v("process", c.process);
    v("schedule", c.schedule);
    v("timesteps", c.timesteps);
    v("objective", c.objective);
    v("time_sampling", c.time_sampling);
    v("logit_mean", c.logit_mean);
    v("logit_std", c.logit_std);
    v("shift", c.shift);
    v("sampler", c.sampler);
    v("sample_steps", c.sample_steps);
    v("eta", c.eta);
    v("guidance", c.guidance);
    v("temporal_guidance", c.temporal_guidance);
    v("frame_lag", c.frame_lag);
    v("lagged_share", c.lagged_share);
}

/// The loop: length, batches, seeds, and what it writes where.
struct TrainingOptions {
    std::int64_t steps = 10000;             // optimiser steps in all (a resumed run goes on to this)
    std::int64_t batch_size = 8;            // clips per micro-batch
    std::uint64_t seed = 0;                 // initial weights, noise, times, dropout (with the step)
    std::int64_t log_every = 10;            // steps between metrics lines (and progress updates)
    std::int64_t sample_every = 1000;       // steps between sample videos; 0: none
    std::int64_t checkpoint_every = 1000;   // steps between checkpoints; 0: only at the end
    double condition_dropout = 0.1;         // p of replacing a caption by "" (classifier-free guidance)
    std::string output_dir = "runs/text_to_video";
    std::vector<std::string> sample_prompts = {"a red circle moving right", "a blue square moving down"};
    std::int64_t vocab_clips = 512;         // the first clips whose captions make the vocabulary
    int prefetch = 2;                       // the loader's batches prepared ahead
    bool resume = true;                     // continue from output_dir/checkpoint.safetensors when it exists
    std::string progress = "auto";          // "auto" (a bar on a terminal, lines otherwise), "lines", "off"
    double max_seconds = 0;                 // stop after the step that reaches this much training time; 0: no limit

    void validate() const {
        constexpr const char* op = "TrainingOptions";
        VGT_CHECK(steps >= 1, op, "expected steps >= 1, found {}", steps);
        VGT_CHECK(max_seconds >= 0, op, "expected max_seconds >= 0 (0: no limit), found {}", max_seconds);
        VGT_CHECK(batch_size >= 1, op, "expected batch_size >= 1, found {}", batch_size);
        VGT_CHECK(log_every >= 1, op, "expected log_every >= 1, found {}", log_every);
        VGT_CHECK(sample_every >= 0, op, "expected sample_every >= 0, found {}", sample_every);
        VGT_CHECK(checkpoint_every >= 0, op, "expected checkpoint_every >= 0, found {}", checkpoint_every);
        VGT_CHECK(condition_dropout >= 0.0 && condition_dropout <= 1.0, op,
                  "expected condition_dropout in [0, 1], found {}", condition_dropout);
        VGT_CHECK(!output_dir.empty(), op, "expected an output_dir, found an empty string");
        VGT_CHECK(sample_every == 0 || !sample_prompts.empty(), op,
                  "expected sample_prompts when sample_every > 0, found none");
        VGT_CHECK(vocab_clips >= 1, op, "expected vocab_clips >= 1, found {}", vocab_clips);
        VGT_CHECK(prefetch >= 0 && prefetch <= 8, op, "expected prefetch in [0, 8], found {}", prefetch);
        VGT_CHECK(progress == "auto" || progress == "lines" || progress == "off", op,
                  "expected progress 'auto', 'lines' or 'off', found '{}'", progress);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, TrainingOptions& o) {
    v("steps", o.steps);
    v("batch_size", o.batch_size);
    v("seed", o.seed);
    v("log_every", o.log_every);
    v("sample_every", o.sample_every);
    v("checkpoint_every", o.checkpoint_every);
    v("condition_dropout", o.condition_dropout);
    v("output_dir", o.output_dir);
    v("sample_prompts", o.sample_prompts);
    v("vocab_clips", o.vocab_clips);
    v("prefetch", o.prefetch);
    v("resume", o.resume);
    v("progress", o.progress);
    v("max_seconds", o.max_seconds);
}

/// How the prompt and the source reach the UNet besides cross-attention on
/// the text: Gen-1's structure and content conditioning (Esser et al.
/// 2023) and pooled text, all off by default. Structure: the structure map of the clip (luminance
/// edges, models/structure_map.hpp) at a level drawn per clip is
/// concatenated to the noisy input as one more channel. Content: a
/// ContentEncoder turns a random frame of the clip into tokens that join
/// the text tokens for cross-attention. External flow (with structure, for
/// mixers that take a flow such as FlowWarp): the optical flow of the clip
/// (training) or of the source video (editing), estimated by vgt::flow,
/// replaces the mixers' own flow heads. Text motion (for mixers that take a
/// flow, without structure): the UNet trains on each clip's motion, one
/// vector per frame from the estimated flow, given to the mixers as a
/// uniform flow field, while a small head learns the first frame pair's
/// motion from the pooled text; sampling gives the mixers the head's
/// motion for the prompt, so the prompt's direction reaches the frames.
struct ConditioningConfig {
    bool structure = false;
    std::int64_t max_structure_level = 2;  // training draws t_s uniformly from {0 … max_structure_level}
    double sigma_per_level = 1.0;          // the blur σ per level, in pixels
    double structure_dropout = 0.1;        // p of training a clip on a zero structure map
    bool content = false;
    models::ContentEncoderOptions content_encoder;  // its width must equal text_encoder.width
    double content_dropout = 0.1;                   // p of training a clip without its content tokens
    // The masked mean of the context tokens, through a linear map, added to
    // the time embedding (as Imagen pools its text): a global condition in
    // every residual block besides cross-attention.
    bool pooled_text = false;
    // "none", or the vgt::flow estimator ("horn_schunck" or "lucas_kanade")
    // whose flow of the source reaches the temporal mixers.
    std::string external_flow = "none";
    // "none", or the vgt::flow estimator whose flow of each training clip
    // gives its motion (text motion, above).
    std::string text_motion = "none";
    double motion_weight = 0.1;  // weight of the motion head's squared error (pixels²) in the training loss

    bool has_external_flow() const { return external_flow != "none"; }
    bool has_text_motion() const { return text_motion != "none"; }

    void validate() const {
        constexpr const char* op = "ConditioningConfig";
        VGT_CHECK(external_flow == "none" || external_flow == "horn_schunck" || external_flow == "lucas_kanade", op,
                  "expected external_flow one of none, horn_schunck, lucas_kanade, found '{}'", external_flow);
        VGT_CHECK(text_motion == "none" || text_motion == "horn_schunck" || text_motion == "lucas_kanade", op,
                  "expected text_motion one of none, horn_schunck, lucas_kanade, found '{}'", text_motion);
        VGT_CHECK(std::isfinite(motion_weight) && motion_weight >= 0.0, op,
                  "expected a finite motion_weight >= 0, found {}", motion_weight);
        VGT_CHECK(!(has_text_motion() && has_external_flow()), op,
                  "expected at most one of external_flow '{}' and text_motion '{}' (both give the mixers their flow)",
                  external_flow, text_motion);
        VGT_CHECK(max_structure_level >= 0, op, "expected max_structure_level >= 0, found {}", max_structure_level);
        VGT_CHECK(std::isfinite(sigma_per_level) && sigma_per_level > 0.0, op,
                  "expected a finite sigma_per_level > 0, found {}", sigma_per_level);
        VGT_CHECK(structure_dropout >= 0.0 && structure_dropout <= 1.0, op,
                  "expected structure_dropout in [0, 1], found {}", structure_dropout);
        VGT_CHECK(content_dropout >= 0.0 && content_dropout <= 1.0, op,
                  "expected content_dropout in [0, 1], found {}", content_dropout);
        content_encoder.validate();
    }
};

template <class Visitor>
void visit_fields(Visitor& v, ConditioningConfig& c) {
    v("structure", c.structure);
    v("max_structure_level", c.max_structure_level);
    v("sigma_per_level", c.sigma_per_level);
    v("structure_dropout", c.structure_dropout);
    v("content", c.content);
    v("content_encoder", c.content_encoder);
    v("content_dropout", c.content_dropout);
    v("pooled_text", c.pooled_text);
    v("external_flow", c.external_flow);
    v("text_motion", c.text_motion);
    v("motion_weight", c.motion_weight);
}

/// T, C, H, W of the clips a data config makes.
struct VideoGeometry {
    std::int64_t frames = 0, channels = 0, height = 0, width = 0;
};

inline VideoGeometry video_geometry(const data::DataConfig& d) {
    if (d.dataset == "moving-shapes")
        return {d.moving_shapes.frames, 3, d.moving_shapes.height, d.moving_shapes.width};
    if (d.dataset == "moving-fashion-mnist") {
        const auto& o = d.moving_fashion_mnist;
        return {o.frames, o.channels, o.height, o.width};
    }
    if (d.dataset == "video-folder") {
        const auto& o = d.video_folder.options;
        return {o.frames, o.channels, o.height, o.width};
    }
    fail("video_geometry", "expected dataset {}, found '{}'", data::kDataSetNames, d.dataset);
}

/// The UNet's options in a train config: VideoUNetOptions with defaults
/// that fit the rest of the config's defaults (RGB pixels; the context and
/// time widths of the default text encoder and time embedding). A "unet"
/// object in JSON starts from these.
struct TrainUNetOptions : models::VideoUNetOptions {
    TrainUNetOptions() {
        in_channels = 3;
        out_channels = 3;
        context_dim = models::TextEncoderOptions{}.width;
        time_embed_dim = models::TimestepEmbeddingOptions{}.width;
    }
};

template <class Visitor>
void visit_fields(Visitor& v, TrainUNetOptions& o) {
    visit_fields(v, static_cast<models::VideoUNetOptions&>(o));
}

struct TrainConfig {
    std::string model = "gen1";  // one of models::unet_names()
    TrainUNetOptions unet;
    models::TextEncoderOptions text_encoder;
    models::TimestepEmbeddingOptions time_embedding;
    DiffusionConfig diffusion;
    data::DataConfig data;
    optim::OptimConfig optim;
    TrainingOptions training;
    ConditioningConfig conditioning;
    // Where diffusion runs. Only "pixel" exists today; "latent" (a frozen
    // Vae encoding clips frame by frame, docs/vae.md) is the planned hook.
    std::string space = "pixel";

    /// That `model` names a preset, then validate_parts().
    void validate() const {
        bool known = false;
        for (const std::string& name : models::unet_names()) known |= name == model;
        VGT_CHECK(known, "TrainConfig", "expected model one of {}, found '{}'", fmt::join(models::unet_names(), ", "),
                  model);
        validate_parts();
    }

    /// Each part's own checks, then that the parts fit together; `model` is
    /// not looked at (a model made by a UNetFactory names itself).
    void validate_parts() const {
        constexpr const char* op = "TrainConfig";
        VGT_CHECK(space == "pixel", op,
                  "expected space 'pixel' (latent diffusion through a Vae is not available yet), found '{}'", space);
        unet.validate();
        text_encoder.validate();
        time_embedding.validate();
        diffusion.validate();
        data.validate();
        optim.validate();
        training.validate();
        conditioning.validate();
        const VideoGeometry g = video_geometry(data);
        if (conditioning.structure) {
            VGT_CHECK(g.channels == 1 || g.channels == 3, op,
                      "expected data of 1 or 3 channels for conditioning.structure (a luminance-edge map), found {}",
                      g.channels);
            VGT_CHECK(unet.in_channels == g.channels + 1 && unet.out_channels == g.channels, op,
                      "expected unet.in_channels {} (the data's {} channels + 1 structure channel, as "
                      "conditioning.structure is on) and unet.out_channels {}, found {} and {}",
                      g.channels + 1, g.channels, g.channels, unet.in_channels, unet.out_channels);
        } else {
            VGT_CHECK(unet.in_channels == g.channels && unet.out_channels == g.channels, op,
                      "expected unet.in_channels and unet.out_channels equal to the data's {} channels, found {} and "
                      "{}",
                      g.channels, unet.in_channels, unet.out_channels);
        }
        VGT_CHECK(!conditioning.has_external_flow() || conditioning.structure, op,
                  "expected conditioning.structure = true with conditioning.external_flow '{}' (the flow is the "
                  "source video's, and only a structure model samples from one), found structure = false",
                  conditioning.external_flow);
        VGT_CHECK(!conditioning.has_text_motion() || !conditioning.structure, op,
                  "expected conditioning.structure = false with conditioning.text_motion '{}' (an edit takes its "
                  "motion from the source: use external_flow), found structure = true",
                  conditioning.text_motion);
        if (conditioning.content) {
            VGT_CHECK(conditioning.content_encoder.width == text_encoder.width, op,
                      "expected conditioning.content_encoder.width equal to text_encoder.width {} (content tokens "
                      "join the text tokens), found {}",
                      text_encoder.width, conditioning.content_encoder.width);
            VGT_CHECK(conditioning.content_encoder.in_channels == g.channels, op,
                      "expected conditioning.content_encoder.in_channels equal to the data's {} channels, found {}",
                      g.channels, conditioning.content_encoder.in_channels);
        }
        VGT_CHECK(unet.context_dim == text_encoder.width, op,
                  "expected unet.context_dim equal to text_encoder.width {}, found {}", text_encoder.width,
                  unet.context_dim);
        VGT_CHECK(unet.time_embed_dim == time_embedding.width, op,
                  "expected unet.time_embed_dim equal to time_embedding.width {}, found {}", time_embedding.width,
                  unet.time_embed_dim);
        const std::int64_t factor = std::int64_t{1} << (unet.channel_mult.size() - 1);
        VGT_CHECK(g.height % factor == 0 && g.width % factor == 0, op,
                  "expected the data's height and width to be multiples of {} (2^(levels - 1)), found {}x{}", factor,
                  g.height, g.width);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, TrainConfig& c) {
    v("model", c.model);
    v("unet", c.unet);
    v("text_encoder", c.text_encoder);
    v("time_embedding", c.time_embedding);
    v("diffusion", c.diffusion);
    v("data", c.data);
    v("optim", c.optim);
    v("training", c.training);
    v("conditioning", c.conditioning);
    v("space", c.space);
}

/// A TrainConfig from a JSON document (absent keys keep their defaults),
/// validated; errors name the key's path.
inline TrainConfig train_config_from_json(const nlohmann::json& j) {
    TrainConfig config = io::options_from_json<TrainConfig>(j, "");
    config.validate();
    return config;
}

/// Reads, parses and validates a train config file.
inline TrainConfig read_train_config(const std::string& path) {
    const nlohmann::json j = io::read_json_config(path);
    try {
        return train_config_from_json(j);
    } catch (const Error& e) {
        fail("train config", "'{}': {}", path, e.what());
    }
}

inline nlohmann::json train_config_to_json(const TrainConfig& config) { return io::options_to_json(config); }

}  // namespace vgt::experiment
