#pragma once
// The text-to-video training loop: AdamW with warm-up + cosine learning
// rates, gradient clipping, optional gradient accumulation and loss scaling,
// an EMA of the weights, and in the output directory:
//
//   checkpoint.safetensors   every checkpoint_every steps and at the end (experiment/checkpoint.hpp)
//   metrics.jsonl            one JSON object per log_every steps: step, loss, lr, grad_norm, seconds
//   samples/step_NNNNNNNN.gif   every sample_every steps: the sample prompts side by side, EMA weights
//                               (.npy [P, T, C, H, W] when vgt was built without FFmpeg); a model with
//                               structure or content conditioning edits the data set's first clip
//
// Resuming is exact: everything random in step s (batch order, condition
// dropout, times, noise) is a function of (seed, s) — the loader's batch s,
// and a Philox generator at offset (s + 1)·2^40 — so N steps in one run and
// N/2 + N/2 with a checkpoint between give the same bits.
//
// training.max_seconds stops a run early once its steps (samples and
// checkpoints not counted) have taken that long: ablations compare models at
// equal training time this way.
//
// A non-finite loss or gradient norm stops training with a vgt::Error that
// names the step; nothing is written after it, so the last checkpoint stays
// the last good one.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/data/data_config.hpp"
#include "vgt/data/loader.hpp"
#include "vgt/data/moving_fashion_mnist.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/data/video_folder.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/experiment/progress.hpp"
#include "vgt/experiment/text_to_video.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/video.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/optim/adamw.hpp"
#include "vgt/optim/ema.hpp"
#include "vgt/optim/grad_accumulation.hpp"
#include "vgt/optim/grad_clip.hpp"
#include "vgt/optim/loss_scaler.hpp"
#include "vgt/optim/lr_schedule.hpp"

namespace vgt::experiment {

/// Random numbers a step may draw at most; step s draws from offset (s + 1)·kStepStride
/// (offsets below kStepStride initialise the weights).
inline constexpr std::uint64_t kStepStride = std::uint64_t{1} << 40;

/// The generator of training step `step`.
inline Generator step_generator(std::uint64_t seed, std::int64_t step) {
    return Generator(seed, (static_cast<std::uint64_t>(step) + 1) * kStepStride);
}

/// Calls f(dataset) with the data set a config describes.
template <class F>
decltype(auto) visit_dataset(const data::DataConfig& config, F&& f) {
    if (config.dataset == "moving-shapes") return f(data::MovingShapes(config.moving_shapes));
    if (config.dataset == "moving-fashion-mnist") return f(data::MovingFashionMNIST(config.moving_fashion_mnist));
    if (config.dataset == "video-folder")
        return f(data::VideoFolder(config.video_folder.root, config.video_folder.options));
    fail("visit_dataset", "expected dataset {}, found '{}'", data::kDataSetNames, config.dataset);
}

/// The captions of a data set's first `count` clips (fewer if it is smaller).
template <class Dataset>
std::vector<std::string> first_captions(Dataset& dataset, std::int64_t count) {
    std::vector<std::string> out;
    const std::int64_t n = std::min<std::int64_t>(count, static_cast<std::int64_t>(dataset.size()));
    for (std::int64_t i = 0; i < n; ++i) out.push_back(dataset.get(i).caption);
    return out;
}

/// The prompts' videos [P, T, C, H, W] side by side: [T, C, H, P·W].
inline Tensor tile_side_by_side(const Tensor& videos) {
    std::vector<Tensor> parts;
    for (std::int64_t p = 0; p < videos.size(0); ++p) parts.push_back(select(videos, 0, p));
    return contiguous(concat(parts, 3));
}

struct TrainResult {
    std::int64_t first_step = 0;  // the step the run started from (> 0 when resumed)
    std::int64_t last_step = 0;   // steps taken in all when it stopped
    std::vector<double> losses;   // one per step of this run
    std::vector<double> step_seconds;  // wall time of each step of this run (forward, backward, update)
    bool stopped_by_time = false;      // training.max_seconds ended the run before training.steps
    std::string checkpoint;       // the path of the last checkpoint written
};

class Trainer {
public:
    /// Called before step s's forward pass (tests use it to inject faults).
    using StepHook = std::function<void(std::int64_t step, TextToVideo& model)>;

    /// A fresh model, or, when training.resume is set and the output
    /// directory holds a checkpoint, the checkpoint's model and state. A
    /// resumed run must describe the same model, diffusion and data; its
    /// optim and training options may differ (more steps, other intervals).
    /// With `unet_factory` the UNet is what it makes (config.model names
    /// it); such a model is always fresh, as a checkpoint can only rebuild
    /// the presets.
    explicit Trainer(TrainConfig config, const UNetFactory& unet_factory = {})
        : config_(validated(std::move(config), static_cast<bool>(unet_factory))) {
        const std::filesystem::path dir(config_.training.output_dir);
        std::filesystem::create_directories(dir);
        checkpoint_path_ = (dir / "checkpoint.safetensors").string();
        VGT_CHECK(!unet_factory || !config_.training.resume || !std::filesystem::exists(checkpoint_path_), "Trainer",
                  "'{}': expected no checkpoint to resume for model '{}' (a model made by a UNet factory starts "
                  "fresh; set training.resume to false to overwrite it), found one",
                  checkpoint_path_, config_.model);
        if (config_.training.resume && std::filesystem::exists(checkpoint_path_)) {
            Checkpoint checkpoint = read_checkpoint(checkpoint_path_);
            check_same_model(checkpoint.model.config());
            model_ = std::make_unique<TextToVideo>(std::move(checkpoint.model));
            step_ = checkpoint.step;
            resumed_state_ = std::move(checkpoint.training_state);
        } else {
            const std::vector<std::string> captions = visit_dataset(config_.data, [&](auto&& dataset) {
                return first_captions(dataset, config_.training.vocab_clips);
            });
            Generator init(config_.training.seed);
            model_ = std::make_unique<TextToVideo>(TextToVideo::from_captions(config_, captions, init, unet_factory));
        }
    }

    void set_before_step(StepHook hook) { before_step_ = std::move(hook); }

    /// Trains from the current step to training.steps, or to `stop_at` when
    /// given (a checkpoint is written where it stops either way).
    TrainResult run(std::optional<std::int64_t> stop_at = std::nullopt) {
        const std::int64_t end = std::min(config_.training.steps, stop_at.value_or(config_.training.steps));
        return visit_dataset(config_.data, [&](auto&& dataset) { return run_on(std::move(dataset), end); });
    }

    TextToVideo& model() { return *model_; }
    std::int64_t step() const { return step_; }
    const std::string& checkpoint_path() const { return checkpoint_path_; }
    const TrainConfig& config() const { return config_; }

private:
    static TrainConfig validated(TrainConfig config, bool factory_made_unet) {
        if (factory_made_unet)
            config.validate_parts();
        else
            config.validate();
        return config;
    }

    /// Everything but optim and training must match the checkpoint's config.
    void check_same_model(const TrainConfig& saved) const {
        nlohmann::json a = train_config_to_json(config_), b = train_config_to_json(saved);
        for (const char* key : {"optim", "training"}) {
            a.erase(key);
            b.erase(key);
        }
        for (const auto& [key, value] : a.items())
            VGT_CHECK(b[key] == value, "Trainer",
                      "'{}': expected the checkpoint's '{}' to match the config's, found {} in the checkpoint and {} "
                      "in the config (set training.resume to false or use another output_dir)",
                      checkpoint_path_, key, b[key].dump(), value.dump());
    }

    template <class Dataset>
    TrainResult run_on(Dataset dataset, std::int64_t end) {
        const TrainingOptions& t = config_.training;
        const optim::OptimConfig& o = config_.optim;
        TextToVideo& model = *model_;

        optim::AdamW adamw(model, o.adamw);
        const optim::WarmupCosineSchedule schedule(o.lr_schedule);
        optim::DynamicLossScaler scaler(o.loss_scale);
        std::optional<optim::Ema> ema;
        if (o.ema) ema.emplace(model, *o.ema);
        if (!resumed_state_.empty()) {
            adamw.load_state(resumed_state_);
            if (ema) ema->load_state(resumed_state_);
            scaler.load_state(resumed_state_);
            resumed_state_.clear();
        }

        if (t.sample_every > 0 && (config_.conditioning.structure || config_.conditioning.content))
            sample_source_ = dataset.get(0).video;  // [T, C, H, W]: what the periodic samples edit

        data::LoaderOptions loader_options;
        loader_options.batch_size = t.batch_size;
        loader_options.seed = t.seed;
        loader_options.prefetch = t.prefetch;
        data::DataLoader<Dataset> loader(std::move(dataset), loader_options, step_ * o.accumulation_steps);

        std::FILE* metrics = std::fopen((std::filesystem::path(t.output_dir) / "metrics.jsonl").string().c_str(), "a");
        VGT_CHECK(metrics != nullptr, "Trainer", "'{}': expected a writable output directory, found an error opening "
                  "metrics.jsonl", t.output_dir);
        const std::unique_ptr<std::FILE, int (*)(std::FILE*)> metrics_file(metrics, &std::fclose);

        TrainResult result;
        result.first_step = step_;
        ProgressBar progress(step_, t.steps, progress_style(t.progress, stderr));
        bool saved = step_ >= end;  // nothing to do: the checkpoint there is already this state
        double training_seconds = 0;  // steps only: samples and checkpoints are not counted
        while (step_ < end) {
            if (t.max_seconds > 0 && training_seconds >= t.max_seconds) {
                result.stopped_by_time = true;
                break;
            }
            const std::int64_t s = step_;
            const auto step_start = std::chrono::steady_clock::now();
            Generator gen = step_generator(t.seed, s);
            if (before_step_) before_step_(s, model);
            const double lr = schedule.lr(o.adamw.lr, s);
            double norm = 0.0;
            double loss = 0.0;
            try {
                loss = optim::accumulate_gradients(
                    model, o.accumulation_steps,
                    [&](std::int64_t) {
                        auto batch = loader.next();
                        return model.training_loss(batch.video, batch.captions, t.condition_dropout, gen).loss;
                    },
                    scaler.scale());
                VGT_CHECK(std::isfinite(loss), "Trainer", "expected a finite loss, found {}", loss);
                scaler.step(model, [&] {
                    if (o.max_grad_norm) {
                        norm = optim::clip_grad_norm(model, *o.max_grad_norm);
                    } else {
                        const optim::GradNorm g = optim::grad_norm(model);
                        VGT_CHECK(g.finite(), "Trainer", "expected finite gradients, found a non-finite one in '{}'",
                                  g.first_non_finite);
                        norm = g.norm;
                    }
                    VGT_CHECK(std::isfinite(norm), "Trainer", "expected a finite gradient norm, found {}", norm);
                    adamw.step(model, lr);
                    if (ema) ema->update(model);
                });
            } catch (const Error& e) {
                progress.finish();
                fail("Trainer", "training stopped at step {} (of {}): {}; the last checkpoint, if any, is unchanged",
                     s + 1, t.steps, e.what());
            }
            step_ = s + 1;
            saved = false;
            result.losses.push_back(loss);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count();
            result.step_seconds.push_back(seconds);
            training_seconds += seconds;

            const bool last = step_ == end || (t.max_seconds > 0 && training_seconds >= t.max_seconds);
            if (step_ % t.log_every == 0 || last) {
                const nlohmann::json line = {{"step", step_}, {"loss", loss}, {"lr", lr}, {"grad_norm", norm},
                                             {"seconds", progress.seconds()}};
                std::fputs((line.dump() + "\n").c_str(), metrics);
                std::fflush(metrics);
                progress.update(step_, loss, t.max_seconds > 0 ? std::max(0.0, t.max_seconds - training_seconds) : -1.0);
            }
            if (t.sample_every > 0 && step_ % t.sample_every == 0) write_samples(ema ? &*ema : nullptr);
            if (t.checkpoint_every > 0 && step_ % t.checkpoint_every == 0) {
                save(adamw, ema ? &*ema : nullptr, scaler);
                saved = true;
            }
        }
        progress.finish();
        if (!saved) save(adamw, ema ? &*ema : nullptr, scaler);
        result.last_step = step_;
        result.checkpoint = checkpoint_path_;
        return result;
    }

    void save(const optim::AdamW& adamw, const optim::Ema* ema, const optim::DynamicLossScaler& scaler) {
        optim::NamedTensors state = adamw.state();
        if (ema)
            for (auto& entry : ema->state()) state.push_back(std::move(entry));
        for (auto& entry : scaler.state()) state.push_back(std::move(entry));
        write_checkpoint(checkpoint_path_, *model_, step_, step_generator(config_.training.seed, step_), state);
    }

    /// The sample prompts at this step, with the EMA weights when there are any.
    void write_samples(optim::Ema* ema) {
        const std::filesystem::path dir = std::filesystem::path(config_.training.output_dir) / "samples";
        std::filesystem::create_directories(dir);
        SampleRequest request;
        request.prompts = config_.training.sample_prompts;
        request.seed = config_.training.seed;
        if (sample_source_.defined()) {
            if (config_.conditioning.structure) request.source = unsqueeze(sample_source_, 0);
            if (config_.conditioning.content) request.reference = unsqueeze(select(sample_source_, 0, 0), 0);
        }
        if (ema) ema->swap_with(*model_);
        Tensor videos;
        try {
            videos = model_->sample(request);
        } catch (...) {
            if (ema) ema->swap_with(*model_);
            throw;
        }
        if (ema) ema->swap_with(*model_);
        const std::string stem = (dir / fmt::format("step_{:08}", step_)).string();
        if (io::video_io_available())
            io::write_video(stem + ".gif", tile_side_by_side(videos), {.fps = 8});
        else
            io::write_npy(stem + ".npy", videos);
    }

    TrainConfig config_;
    std::unique_ptr<TextToVideo> model_;
    std::int64_t step_ = 0;
    std::string checkpoint_path_;
    optim::NamedTensors resumed_state_;
    StepHook before_step_;
    Tensor sample_source_;  // the clip that periodic samples of a conditioned model edit
};

}  // namespace vgt::experiment
