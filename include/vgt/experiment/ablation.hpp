#pragma once
// Ablation<Variant...>: model variants compiled into one list, trained on the
// same data with the same seed, steps (or training time), batch and
// optimiser, then scored the same way (docs/ablation.md):
//
//   using MyAblation = Ablation<Variant<VideoUNet<Conv3D, NoMixer>>,
//                               Variant<VideoUNet<FrameConv, MyMixer>, "mine">>;
//   AblationResult r = MyAblation::run(read_ablation_config("ablation.json"));
//
// Per variant: parameters, forward FLOPs per frame, the median training
// step, peak tensor memory while training, the loss curve and its final
// value, and on MovingShapes, at each evaluated length, caption accuracy
// (and its parts), identity consistency, trajectory smoothness and the
// flow-warping error against real clips' (shape_prompt_evaluation.hpp),
// with a strip of samples. A structure model (Gen-1's video-to-video) is
// scored on edits instead: edit, colour and trajectory accuracy and the
// edits' flow-warping error against their sources'. The prediction task
// (frame_prediction.hpp) scores PSNR and SSIM of predicted frames instead.
// The output directory holds
//
//   results.json  report.md  report.html  loss.svg   (experiment/ablation_report.hpp)
//   variants/<variant>/   the variant's checkpoint, metrics.jsonl, samples_T<T>.gif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/bench/timing.hpp"
#include "vgt/core/host_memory.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/experiment/ablation_config.hpp"
#include "vgt/experiment/ablation_variant.hpp"
#include "vgt/experiment/frame_prediction.hpp"
#include "vgt/experiment/prediction_run.hpp"
#include "vgt/experiment/progress.hpp"
#include "vgt/experiment/shape_prompt_evaluation.hpp"
#include "vgt/experiment/trainer.hpp"
#include "vgt/io/safetensors.hpp"
#include "vgt/io/video.hpp"
#include "vgt/nn/parameters.hpp"

namespace vgt::experiment {

/// A variant's scores at one video length.
struct LengthQuality {
    std::int64_t frames = 0;
    std::string error;  // why sampling at this length failed (a model limited to fewer frames); empty otherwise
    double caption_accuracy = 0, colour_accuracy = 0, shape_accuracy = 0, direction_accuracy = 0;
    double identity_consistency = 0, trajectory_smoothness = 0;
    double warp_error = 0, real_warp_error = 0, warp_ratio = 0;
    std::string strip;  // the samples' GIF, relative to the output directory; empty without one
    // A structure model's edits (evaluate_shape_edits): colour_accuracy and
    // the warp errors are the edits', real_warp_error the sources'.
    bool edits = false;
    double edit_accuracy = 0, trajectory_accuracy = 0, trajectory_error = 0;  // trajectory_error: median, px
};

struct VariantResult {
    std::string name;
    std::string directory;  // relative to the output directory
    std::int64_t params = 0;
    double flops_per_frame = 0;    // forward, one video of the data's size, max_length context tokens
    std::int64_t steps = 0;        // optimiser steps taken
    bool stopped_by_time = false;  // training.max_seconds ended training before training.steps
    double training_seconds = 0;   // the steps' wall time
    double step_ms = 0;            // median step
    double peak_memory_bytes = 0;  // tensor storage while training, above what was in use before
    double final_loss = 0;         // mean over the last tenth of the steps
    std::vector<double> losses;    // one per step
    std::vector<LengthQuality> quality;          // text to video
    std::optional<PredictionQuality> prediction;  // the prediction task
    bool ema = false;              // quality was scored with the EMA weights
};

struct AblationResult {
    AblationConfig config;
    std::vector<VariantResult> variants;
    double seconds = 0;
};

/// A variant of the compiled list: its name and how to make its UNet.
struct AblationEntry {
    std::string name;
    UNetFactory factory;
};

/// A file-system name for a variant: letters, digits and '-' ("FrameConv-TemporalAttention-RoPE").
inline std::string variant_directory_name(std::string_view name) {
    std::string out;
    for (const char c : name) {
        const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (keep)
            out += c;
        else if (!out.empty() && out.back() != '-')
            out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out.empty() ? "variant" : out;
}

namespace detail {

inline double tail_mean(const std::vector<double>& v) {
    if (v.empty()) return std::nan("");
    const std::size_t count = std::max<std::size_t>(1, v.size() / 10);
    double sum = 0;
    for (std::size_t i = v.size() - count; i < v.size(); ++i) sum += v[i];
    return sum / static_cast<double>(count);
}

/// The training columns of a variant from one run's steps.
inline void record_training(VariantResult& result, std::int64_t steps, bool stopped_by_time,
                            const std::vector<double>& losses, const std::vector<double>& step_seconds) {
    result.steps = steps;
    result.stopped_by_time = stopped_by_time;
    result.training_seconds = 0;
    for (const double s : step_seconds) result.training_seconds += s;
    result.step_ms = 1e3 * bench::median(step_seconds);
    result.final_loss = tail_mean(losses);
    result.losses = losses;
}

/// Samples and scores the model at `frames` frames.
inline LengthQuality score_length(const TextToVideo& model, const AblationConfig& config, std::int64_t frames,
                                  const std::filesystem::path& out, const std::filesystem::path& variant_dir,
                                  ProgressStyle style) {
    const AblationEvaluation& e = config.evaluation;
    LengthQuality q;
    q.frames = frames;
    q.edits = model.config().conditioning.structure;
    try {
        const data::MovingShapes clips(shape_prompt_clips(model.config(), q.edits, frames).first);
        ShapePromptEvaluationOptions options;
        options.prompts = std::min<std::int64_t>(e.prompts, clips.size());
        options.batch = e.batch;
        options.sampling.steps = e.sample_steps;
        options.sampling.frames = q.edits ? 0 : frames;  // an edit has its source's length
        options.sampling.seed = e.seed;
        const auto progress = [&](std::int64_t done, std::int64_t total) {
            if (style == ProgressStyle::off) return;
            // A bar redraws one line; plain lines (a log file) get one per batch.
            fmt::print(stderr, "{}  scored {}/{} {} at T = {}{}", style == ProgressStyle::bar ? "\r" : "", done,
                       total, q.edits ? "edits" : "prompts", frames, style == ProgressStyle::bar ? "" : "\n");
        };
        Tensor samples;
        if (q.edits) {
            ShapeEditEvaluationOptions edit_options;
            static_cast<ShapePromptEvaluationOptions&>(edit_options) = options;
            const ShapeEditEvaluation r = evaluate_shape_edits(model, clips, edit_options, e.strip_videos, progress);
            q.colour_accuracy = r.colour_accuracy;
            q.edit_accuracy = r.edit_accuracy;
            q.trajectory_accuracy = r.trajectory_accuracy;
            q.trajectory_error = r.median_trajectory_error;
            q.warp_error = r.warp_error;
            q.real_warp_error = r.source_warp_error;
            q.warp_ratio = r.warp_ratio;
            samples = r.samples;
        } else {
            const ShapePromptEvaluation r = evaluate_shape_prompts(model, clips, options, e.strip_videos, progress);
            q.caption_accuracy = r.caption_accuracy;
            q.colour_accuracy = r.colour_accuracy;
            q.shape_accuracy = r.shape_accuracy;
            q.direction_accuracy = r.direction_accuracy;
            q.identity_consistency = r.identity_consistency;
            q.trajectory_smoothness = r.trajectory_smoothness;
            q.warp_error = r.warp_error;
            q.real_warp_error = r.real_warp_error;
            q.warp_ratio = r.warp_ratio;
            samples = r.samples;
        }
        if (style == ProgressStyle::bar) fmt::print(stderr, "\n");
        if (samples.defined() && io::video_io_available()) {
            const std::filesystem::path strip = variant_dir / fmt::format("samples_T{}.gif", frames);
            io::write_video(strip.string(), tile_side_by_side(samples), {.fps = 8});
            q.strip = std::filesystem::relative(strip, out).generic_string();
        }
    } catch (const Error& error) {
        if (style == ProgressStyle::bar) fmt::print(stderr, "\n");
        q.error = error.what();
    }
    return q;
}

}  // namespace detail

/// Trains a variant as a FramePredictor and scores its predictions.
inline void run_prediction_variant(const AblationConfig& config, const TrainConfig& train, const AblationEntry& entry,
                                   const std::filesystem::path& out, const std::filesystem::path& dir,
                                   VariantResult& result) {
    const VideoGeometry g = video_geometry(train.data);
    const models::VideoUNetOptions options = FramePredictor::unet_options(train.unet, g.channels);
    Generator init(train.training.seed);
    const std::size_t memory_before = host_memory_stats().bytes_in_use;
    reset_host_memory_peak();
    FramePredictor model(entry.factory(options, init), g.channels, config.prediction.context_frames,
                         options.time_embed_dim);
    const PredictionTraining run = train_predictor(model, train, dir);
    result.peak_memory_bytes = static_cast<double>(host_memory_stats().peak_bytes_in_use - memory_before);
    result.params = model.unet().params();
    result.flops_per_frame =
        model.unet().flops(Shape{1, g.frames, options.in_channels, g.height, g.width}, 0) / static_cast<double>(g.frames);
    detail::record_training(result, run.steps, run.stopped_by_time, run.losses, run.step_seconds);
    result.ema = train.optim.ema.has_value();
    result.prediction = score_predictor(model, train.data, config.prediction.clips, config.evaluation.batch,
                                        config.evaluation.strip_videos, out, dir);
}

/// Trains and scores the variant listed as `name` (the compiled `entry`,
/// or one derived from it) in out/variants/<name>/.
inline VariantResult run_ablation_variant(const AblationConfig& config, const AblationEntry& entry,
                                          const std::string& name, const std::filesystem::path& out) {
    VariantResult result;
    result.name = name;
    const std::filesystem::path dir = out / "variants" / variant_directory_name(name);
    result.directory = std::filesystem::relative(dir, out).generic_string();
    std::filesystem::create_directories(dir);
    std::filesystem::remove(dir / "metrics.jsonl");  // a rerun starts the variant's log afresh
    if (config.task == "prediction") {
        run_prediction_variant(config, config.train_of(name), entry, out, dir, result);
        return result;
    }

    TrainConfig train = config.train_of(name);
    train.model = entry.name;
    train.training.output_dir = dir.string();
    train.training.resume = false;

    const std::size_t memory_before = host_memory_stats().bytes_in_use;
    reset_host_memory_peak();
    Trainer trainer(train, entry.factory);
    const TrainResult run = trainer.run();
    result.peak_memory_bytes = static_cast<double>(host_memory_stats().peak_bytes_in_use - memory_before);

    TextToVideo& model = trainer.model();
    const VideoGeometry g = video_geometry(train.data);
    result.params = model.unet().params();
    result.flops_per_frame =
        model.unet().flops(Shape{1, g.frames, train.unet.in_channels, g.height, g.width}, train.text_encoder.max_length) /
        static_cast<double>(g.frames);
    detail::record_training(result, run.last_step, run.stopped_by_time, run.losses, run.step_seconds);

    if (config.evaluation.prompts > 0) {
        if (config.evaluation.ema && train.optim.ema)
            result.ema = load_ema_weights(model, io::read_safetensors(run.checkpoint).tensors);
        std::vector<std::int64_t> lengths = config.evaluation.frames;
        if (lengths.empty()) lengths.push_back(g.frames);
        const ProgressStyle style = progress_style(train.training.progress, stderr);
        for (const std::int64_t frames : lengths)
            result.quality.push_back(detail::score_length(model, config, frames, out, dir, style));
    }
    return result;
}

/// Called after each variant with the results so far (to write reports as
/// they grow, so that stopping a long ablation loses at most one variant).
using AblationProgress = std::function<void(const AblationResult& so_far)>;

/// Trains and scores the config's variants, found by name in `catalog`, in
/// the config's order; an unknown name is a vgt::Error listing the valid
/// ones. write_ablation_report (experiment/ablation_report.hpp) puts the
/// result on disk.
inline AblationResult run_ablation(const AblationConfig& config, const std::vector<AblationEntry>& catalog,
                                   const AblationProgress& after_each = {}) {
    config.validate();
    std::vector<const AblationEntry*> chosen;
    std::string valid;
    std::set<std::string> names;
    for (const AblationEntry& entry : catalog) {
        VGT_CHECK(names.insert(entry.name).second, "Ablation", "expected distinct variant names, found '{}' twice",
                  entry.name);
        valid += (valid.empty() ? "" : ", ") + entry.name;
    }
    const auto compiled = [&](const std::string& name) {
        const auto it = std::find_if(catalog.begin(), catalog.end(), [&](const AblationEntry& e) { return e.name == name; });
        return it == catalog.end() ? nullptr : &*it;
    };
    for (const auto& [name, derived] : config.derived) {
        VGT_CHECK(!compiled(name), "Ablation",
                  "expected derived variant names apart from the compiled list's, found '{}' in both", name);
        VGT_CHECK(compiled(derived.from), "Ablation",
                  "derived variant '{}': expected 'from' to name a variant of the compiled list ({}), found '{}'", name,
                  valid, derived.from);
    }
    for (const std::string& name : config.variants) {
        const auto derived = config.derived.find(name);
        const AblationEntry* entry = compiled(derived == config.derived.end() ? name : derived->second.from);
        VGT_CHECK(entry, "Ablation", "expected variants from the compiled list ({}) or 'derived', found '{}'", valid,
                  name);
        chosen.push_back(entry);
    }

    const std::filesystem::path out(config.output_dir);
    std::filesystem::create_directories(out);
    const bool show = progress_style(config.train.training.progress, stderr) != ProgressStyle::off;
    AblationResult result;
    result.config = config;
    const auto start = std::chrono::steady_clock::now();
    const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    for (std::size_t i = 0; i < chosen.size(); ++i) {
        const std::string& name = config.variants[i];
        if (show) {
            const double per_variant = i > 0 ? elapsed() / static_cast<double>(i) : -1.0;
            fmt::print(stderr, "ablation '{}': variant {}/{} {} (elapsed {}, about {} left)\n", config.name, i + 1,
                       chosen.size(), name, format_duration(elapsed()),
                       format_duration(per_variant * static_cast<double>(chosen.size() - i)));
        }
        try {
            result.variants.push_back(run_ablation_variant(config, *chosen[i], name, out));
        } catch (const Error& e) {
            fail("Ablation", "variant '{}': {}", name, e.what());
        }
        result.seconds = elapsed();
        if (after_each) after_each(result);
    }
    if (show) fmt::print(stderr, "ablation '{}': {} variants in {}\n", config.name, chosen.size(),
                         format_duration(result.seconds));
    return result;
}

/// A compile-time list of variants (ablation_variant.hpp).
template <class... Variants>
class Ablation {
public:
    static std::vector<AblationEntry> entries() { return {AblationEntry{Variants::name(), Variants::factory()}...}; }

    static std::vector<std::string> names() { return {Variants::name()...}; }

    /// Trains and scores the variants the config names.
    static AblationResult run(const AblationConfig& config, const AblationProgress& after_each = {}) {
        return run_ablation(config, entries(), after_each);
    }
};

}  // namespace vgt::experiment
