#pragma once
// Training and scoring a FramePredictor (frame_prediction.hpp) on a data set
// a train config describes: the optimiser, learning-rate schedule, gradient
// clipping, EMA, steps, batch, seed and training.max_seconds of the config,
// as the text-to-video Trainer uses them; then PSNR and SSIM of the
// predicted frames of held-out clips, beside those of copying the last known
// frame forward.
//
// Held-out clips: the test split of Fashion-MNIST (and data seed + 1) for
// moving-fashion-mnist, data seed + 1 for moving-shapes, the training clips
// themselves for a video folder.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/autograd/node.hpp"
#include "vgt/core/error.hpp"
#include "vgt/data/data_config.hpp"
#include "vgt/data/loader.hpp"
#include "vgt/experiment/frame_prediction.hpp"
#include "vgt/experiment/progress.hpp"
#include "vgt/experiment/train_config.hpp"
#include "vgt/experiment/trainer.hpp"
#include "vgt/io/safetensors.hpp"
#include "vgt/io/video.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/metrics/ssim.hpp"
#include "vgt/optim/adamw.hpp"
#include "vgt/optim/ema.hpp"
#include "vgt/optim/grad_accumulation.hpp"
#include "vgt/optim/grad_clip.hpp"
#include "vgt/optim/lr_schedule.hpp"

namespace vgt::experiment {

struct PredictionTraining {
    std::int64_t steps = 0;
    bool stopped_by_time = false;
    std::vector<double> losses, step_seconds;  // one per step
};

/// PSNR is that of the mean squared error over every predicted pixel of
/// every clip: a mean of per-frame PSNRs would be infinite as soon as one
/// frame is predicted exactly, which copying the last frame does whenever an
/// object moving by whole pixels stays put for a frame. SSIM is the mean
/// over clips of each clip's mean over its predicted frames.
struct PredictionQuality {
    std::int64_t clips = 0;
    double psnr = 0, ssim = 0;                    // of the predicted frames (dB; [−1, 1])
    double baseline_psnr = 0, baseline_ssim = 0;  // of the last known frame repeated
    std::string strip;                            // GIF relative to the output directory; empty without one
};

/// The data the predictions are scored on (see the header comment).
inline data::DataConfig prediction_eval_data(data::DataConfig d) {
    if (d.dataset == "moving-fashion-mnist") {
        d.moving_fashion_mnist.split = data::FashionMNISTSplit::Test;
        d.moving_fashion_mnist.seed += 1;
    } else if (d.dataset == "moving-shapes") {
        d.moving_shapes.split = "all";
        d.moving_shapes.seed += 1;
    }
    return d;
}

/// Trains `model` as `config` says; writes metrics.jsonl and, at the end,
/// weights.safetensors (the EMA weights when the optimiser keeps them, which
/// the model then holds) into `dir`.
inline PredictionTraining train_predictor(FramePredictor& model, const TrainConfig& config,
                                          const std::filesystem::path& dir) {
    const TrainingOptions& t = config.training;
    const optim::OptimConfig& o = config.optim;
    optim::AdamW adamw(model, o.adamw);
    const optim::WarmupCosineSchedule schedule(o.lr_schedule);
    std::optional<optim::Ema> ema;
    if (o.ema) ema.emplace(model, *o.ema);

    std::filesystem::create_directories(dir);
    std::FILE* file = std::fopen((dir / "metrics.jsonl").string().c_str(), "w");
    VGT_CHECK(file != nullptr, "train_predictor", "'{}': expected a writable directory, found an error opening "
              "metrics.jsonl", dir.string());
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> metrics(file, &std::fclose);

    PredictionTraining result;
    visit_dataset(config.data, [&](auto&& dataset) {
        data::LoaderOptions loader_options;
        loader_options.batch_size = t.batch_size;
        loader_options.seed = t.seed;
        loader_options.prefetch = t.prefetch;
        data::DataLoader loader(std::move(dataset), loader_options);
        ProgressBar progress(0, t.steps, progress_style(t.progress, stderr));
        double seconds = 0;
        for (std::int64_t s = 0; s < t.steps; ++s) {
            if (t.max_seconds > 0 && seconds >= t.max_seconds) {
                result.stopped_by_time = true;
                break;
            }
            const auto start = std::chrono::steady_clock::now();
            Generator gen = step_generator(t.seed, s);
            const double lr = schedule.lr(o.adamw.lr, s);
            const double loss = optim::accumulate_gradients(model, o.accumulation_steps, [&](std::int64_t) {
                return model.loss(loader.next().video, gen);
            });
            const double norm = o.max_grad_norm ? optim::clip_grad_norm(model, *o.max_grad_norm)
                                                : optim::grad_norm(model).norm;
            if (!std::isfinite(loss) || !std::isfinite(norm)) {
                progress.finish();
                fail("train_predictor", "training stopped at step {} (of {}): expected a finite loss and gradient "
                     "norm, found {} and {}", s + 1, t.steps, loss, norm);
            }
            adamw.step(model, lr);
            if (ema) ema->update(model);
            const double step_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            seconds += step_seconds;
            result.losses.push_back(loss);
            result.step_seconds.push_back(step_seconds);
            result.steps = s + 1;
            if (result.steps % t.log_every == 0 || result.steps == t.steps) {
                const nlohmann::json line = {{"step", result.steps}, {"loss", loss}, {"lr", lr}, {"grad_norm", norm},
                                             {"seconds", progress.seconds()}};
                std::fputs((line.dump() + "\n").c_str(), file);
                std::fflush(file);
                progress.update(result.steps, loss, t.max_seconds > 0 ? std::max(0.0, t.max_seconds - seconds) : -1.0);
            }
        }
        progress.finish();
    });
    if (ema) ema->swap_with(model);
    io::write_safetensors((dir / "weights.safetensors").string(), nn::named_parameters(model));
    return result;
}

/// PSNR and SSIM of `model`'s predictions of the first `clips` clips of the
/// held-out data (prediction_eval_data), in batches of `batch`; a GIF strip
/// of the first `strip_videos` (each clip beside its prediction after the
/// known frames) goes to dir/prediction.gif.
inline PredictionQuality score_predictor(const FramePredictor& model, const data::DataConfig& train_data,
                                         std::int64_t clips, std::int64_t batch, std::int64_t strip_videos,
                                         const std::filesystem::path& out, const std::filesystem::path& dir) {
    PredictionQuality q;
    double squared_error = 0, baseline_squared_error = 0;  // sums over clips of each clip's mean
    const std::int64_t k = model.context_frames();
    std::vector<Tensor> strips;
    NoGradGuard no_grad;
    visit_dataset(prediction_eval_data(train_data), [&](auto&& dataset) {
        const std::int64_t n = std::min<std::int64_t>(clips, static_cast<std::int64_t>(dataset.size()));
        for (std::int64_t first = 0; first < n; first += batch) {
            std::vector<Tensor> videos;
            for (std::int64_t i = first; i < std::min(n, first + batch); ++i) videos.push_back(dataset.get(i).video);
            const Tensor batch_videos = stack(videos, 0);
            const Tensor predicted = clamp(model.predict(batch_videos), 0.0, 1.0);
            for (std::size_t i = 0; i < videos.size(); ++i) {
                const Tensor& video = videos[i];
                const std::int64_t t = video.size(0);
                const Tensor truth = contiguous(slice(video, 0, k, t));
                const Tensor guess = contiguous(select(predicted, 0, static_cast<std::int64_t>(i)));
                const Tensor copied = contiguous(expand(slice(video, 0, k - 1, k), truth.shape()));
                squared_error += mean(square(sub(guess, truth))).item<double>();
                baseline_squared_error += mean(square(sub(copied, truth))).item<double>();
                q.ssim += metrics::video_ssim(truth, guess).mean;
                q.baseline_ssim += metrics::video_ssim(truth, copied).mean;
                ++q.clips;
                if (static_cast<std::int64_t>(strips.size()) < strip_videos)
                    strips.push_back(concat({video, concat({slice(video, 0, 0, k), guess}, 0)}, 3));
            }
        }
    });
    VGT_CHECK(q.clips > 0, "score_predictor", "expected held-out clips to score, found none");
    const auto n = static_cast<double>(q.clips);
    // Every clip has the same number of predicted pixels, so the mean of the clips' means is the pooled mean.
    const auto psnr_of = [](double mse) { return 10.0 * std::log10(1.0 / mse); };  // data range 1
    q.psnr = psnr_of(squared_error / n);
    q.baseline_psnr = psnr_of(baseline_squared_error / n);
    q.ssim /= n;
    q.baseline_ssim /= n;
    if (!strips.empty() && io::video_io_available()) {
        const std::filesystem::path strip = dir / "prediction.gif";
        io::write_video(strip.string(), tile_side_by_side(stack(strips, 0)), {.fps = 4});
        q.strip = std::filesystem::relative(strip, out).generic_string();
    }
    return q;
}

}  // namespace vgt::experiment
