#pragma once
// How well a text-to-video model draws what MovingShapes prompts ask for.
//
// The prompts are the captions of real clips (typically of a held-out split,
// data/moving_shapes.hpp: combinations of colour, shape and direction that
// training never showed). For each clip the model samples one video from its
// caption, and both videos are scored:
//
//   the sample   by metrics::shape_track_metrics against the caption:
//                caption accuracy (colour, shape and direction all right),
//                colour, shape and direction accuracy, count accuracy and
//                identity consistency;
//   both         by the flow-warping error (metrics/temporal_consistency.hpp),
//                so that the samples' flicker reads as a ratio to that of
//                real clips of the same prompts.
//
// Editing (a structure model, Gen-1's video-to-video) is scored alike:
// each real clip is edited with its own caption but another colour of the
// palette, and the edit counts when the object shows up in the new colour
// (a track of it in at least 3/4 of the frames, shape_track_metrics's
// rule) and its centroid stays, on average over the frames where it is
// found, within `max_trajectory_error` pixels of the source object's. The
// edits' flow-warping error is scored beside their sources'.
//
// Prompts are sampled in batches; the batch starting at prompt i uses seed
// `sampling.seed + i`, so an evaluation with the same batch size is
// reproducible, and a longer one extends a shorter one.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/experiment/text_to_video.hpp"
#include "vgt/metrics/shape_tracks.hpp"
#include "vgt/metrics/temporal_consistency.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::experiment {

struct ShapePromptEvaluationOptions {
    std::int64_t prompts = 100;  // clips 0 … prompts−1 of the data set give the prompts
    std::int64_t batch = 8;      // prompts sampled together
    SampleRequest sampling;      // steps, sampler, guidance, temporal_guidance, seed (prompts are set per batch)

    void validate() const {
        constexpr const char* op = "ShapePromptEvaluationOptions";
        VGT_CHECK(prompts >= 1, op, "expected prompts >= 1, found {}", prompts);
        VGT_CHECK(batch >= 1, op, "expected batch >= 1, found {}", batch);
    }
};

/// One prompt's scores.
struct ShapePromptScore {
    std::string prompt;
    bool caption = false, colour = false, shape = false, direction = false;
    double count_accuracy = 0, identity_consistency = 0;
    double trajectory_smoothness = 0;            // px/frame², NaN without a 3-frame track
    double warp_error = 0, real_warp_error = 0;  // the sample's and the real clip's
};

struct ShapePromptEvaluation {
    std::vector<ShapePromptScore> scores;
    double caption_accuracy = 0, colour_accuracy = 0, shape_accuracy = 0, direction_accuracy = 0;
    double count_accuracy = 0, identity_consistency = 0;
    double trajectory_smoothness = 0;            // mean over the prompts with a 3-frame track (NaN: none)
    double warp_error = 0, real_warp_error = 0;  // means over the prompts
    double warp_ratio = 0;                       // warp_error / real_warp_error
    Tensor samples;                              // the first `keep_samples` videos [K, T, 3, H, W]
};

/// The MovingShapes clips whose captions a model trained on `config` is
/// scored on, and a description of them. Text to video: the held-out split
/// when the data holds combinations out, otherwise clips of data seed + 1
/// (whose captions may repeat training ones). Edits (`edits`): clips of data
/// seed + 1. `frames` > 0 sets the clips' length (sampling longer videos
/// than the model was trained on).
inline std::pair<data::MovingShapesOptions, std::string> shape_prompt_clips(const TrainConfig& config, bool edits,
                                                                            std::int64_t frames = 0) {
    VGT_CHECK(config.data.dataset == "moving-shapes", "shape_prompt_clips",
              "expected a model trained on moving-shapes (the prompts are scored by the MovingShapes metrics), "
              "found data set '{}'",
              config.data.dataset);
    data::MovingShapesOptions o = config.data.moving_shapes;
    if (frames > 0) o.frames = frames;
    if (edits) {
        o.split = "all";
        o.seed += 1;
        return {o, "clips from data seed + 1, each edited into another colour"};
    }
    if (!o.held_out.empty()) {
        o.split = "held-out";
        return {o, fmt::format("captions of held-out clips: {} combinations never trained on", o.held_out.size())};
    }
    o.split = "all";
    o.seed += 1;
    return {o, "captions of clips from data seed + 1 (the model holds no combinations out, so prompts may repeat "
               "training captions)"};
}

/// Scores a video drawn for the caption of `real` (the prompt), and the
/// real clip's flow-warping error beside it.
inline ShapePromptScore score_shape_prompt(const Tensor& video, const data::ShapesClip& real,
                                           const metrics::ShapeTrackOptions& tracking) {
    ShapePromptScore s;
    s.prompt = real.caption;
    const metrics::ShapeTrackReport report = metrics::shape_track_metrics(video, s.prompt, tracking);
    s.caption = report.caption_accuracy == 1.0;
    s.colour = report.colour_accuracy == 1.0;
    s.shape = report.shape_accuracy == 1.0;
    s.direction = std::isnan(report.direction_accuracy) || report.direction_accuracy == 1.0;
    s.count_accuracy = report.count_accuracy;
    s.identity_consistency = report.identity_consistency;
    s.trajectory_smoothness = report.trajectory_smoothness;
    s.warp_error = metrics::temporal_consistency(video).error.mean;
    s.real_warp_error = metrics::temporal_consistency(real.video).error.mean;
    return s;
}

/// Samples and scores `options.prompts` videos from the captions of `clips`.
/// `progress(done, total)` is called after each batch.
inline ShapePromptEvaluation evaluate_shape_prompts(
    const TextToVideo& model, const data::MovingShapes& clips, const ShapePromptEvaluationOptions& options,
    std::int64_t keep_samples = 16, const std::function<void(std::int64_t, std::int64_t)>& progress = {}) {
    constexpr const char* op = "evaluate_shape_prompts";
    options.validate();
    VGT_CHECK(options.prompts <= clips.size(), op, "expected at most the data set's {} clips as prompts, found {}",
              clips.size(), options.prompts);
    const data::MovingShapesOptions& data = clips.options();
    metrics::ShapeTrackOptions tracking;
    tracking.detection.palette = data.palette;
    tracking.detection.shapes = data.shapes;

    ShapePromptEvaluation result;
    std::vector<Tensor> kept;
    const std::int64_t n = options.prompts;
    for (std::int64_t first = 0; first < n; first += options.batch) {
        const std::int64_t count = std::min(options.batch, n - first);
        std::vector<data::ShapesClip> real;
        SampleRequest request = options.sampling;
        request.prompts.clear();
        for (std::int64_t i = 0; i < count; ++i) {
            real.push_back(clips.get(first + i));
            request.prompts.push_back(real.back().caption);
        }
        request.seed = options.sampling.seed + static_cast<std::uint64_t>(first);
        const Tensor videos = model.sample(request);  // [count, T, 3, H, W]
        for (std::int64_t i = 0; i < count; ++i) {
            const Tensor video = select(videos, 0, i);
            ShapePromptScore s = score_shape_prompt(video, real[static_cast<std::size_t>(i)], tracking);
            result.scores.push_back(std::move(s));
            if (static_cast<std::int64_t>(kept.size()) < keep_samples) kept.push_back(video);
        }
        if (progress) progress(first + count, n);
    }

    const auto total = static_cast<double>(result.scores.size());
    std::int64_t captions = 0, colours = 0, shapes = 0, directions = 0, tracked = 0;
    double smoothness = 0;
    for (const ShapePromptScore& s : result.scores) {
        if (std::isfinite(s.trajectory_smoothness)) {
            smoothness += s.trajectory_smoothness;
            ++tracked;
        }
        captions += s.caption;
        colours += s.colour;
        shapes += s.shape;
        directions += s.direction;
        result.count_accuracy += s.count_accuracy / total;
        result.identity_consistency += s.identity_consistency / total;
        result.warp_error += s.warp_error / total;
        result.real_warp_error += s.real_warp_error / total;
    }
    result.caption_accuracy = static_cast<double>(captions) / total;
    result.colour_accuracy = static_cast<double>(colours) / total;
    result.shape_accuracy = static_cast<double>(shapes) / total;
    result.direction_accuracy = static_cast<double>(directions) / total;
    result.trajectory_smoothness = tracked > 0 ? smoothness / static_cast<double>(tracked) : std::nan("");
    result.warp_ratio = result.real_warp_error > 0 ? result.warp_error / result.real_warp_error : std::nan("");
    if (!kept.empty()) result.samples = stack(kept, 0);
    return result;
}

struct ShapeEditEvaluationOptions : ShapePromptEvaluationOptions {
    double max_trajectory_error = 2.0;  // pixels: mean centroid distance to the source object's
};

/// One edit's scores.
struct ShapeEditScore {
    std::string source_caption, prompt;
    bool colour_changed = false;      // a track of the prompt's colour in ≥ 3/4 of the frames
    double trajectory_error = std::numeric_limits<double>::infinity();  // px; inf without such a track
    bool trajectory_kept = false;     // trajectory_error <= max_trajectory_error
    double warp_error = 0, source_warp_error = 0;  // the edit's and its source's flow-warping error
    bool edited() const { return colour_changed && trajectory_kept; }
};

struct ShapeEditEvaluation {
    std::vector<ShapeEditScore> scores;
    double colour_accuracy = 0;       // share of edits in the new colour
    double trajectory_accuracy = 0;   // share whose trajectory stayed
    double edit_accuracy = 0;         // share with both
    double median_trajectory_error = 0;  // px, over the edits with a track of the new colour (NaN: none)
    double warp_error = 0, source_warp_error = 0;  // means over the edits and over their sources
    double warp_ratio = 0;            // warp_error / source_warp_error
    Tensor samples;                   // sources and edits of the first clips, [2K, T, 3, H, W], interleaved
};

/// The caption of a single-object or multi-object clip with object 0's
/// colour replaced by the palette's next-but-`shift` colour.
inline std::string recoloured_caption(const data::ShapesClip& clip, const data::Palette& palette, std::size_t shift) {
    std::vector<data::CaptionObject> objects;
    for (const data::ShapeObject& o : clip.objects)
        objects.push_back({o.colour.name, std::string(o.shape_name()), o.direction, o.bouncing});
    const data::NamedColour* now = data::find_colour(palette, objects[0].colour);
    const auto from = static_cast<std::size_t>(now - palette.data());
    objects[0].colour = palette[(from + 1 + shift % (palette.size() - 1)) % palette.size()].name;
    return data::make_caption(objects, clip.phrasing);
}

/// Scores `edit`, a video made from `source` for `prompt` (which names
/// object 0 of the source in another colour).
inline ShapeEditScore score_shape_edit(const Tensor& edit, const data::ShapesClip& source, const std::string& prompt,
                                       const metrics::ShapeTrackOptions& tracking, double max_trajectory_error) {
    ShapeEditScore s;
    s.source_caption = source.caption;
    s.prompt = prompt;
    const metrics::ShapeTrackReport report = metrics::shape_track_metrics(edit, prompt, tracking);
    const metrics::PromptObjectScore& object = report.prompt_objects.front();
    s.colour_changed = object.colour_match;
    if (object.track) {
        const metrics::ShapeTrack& track = report.tracks[*object.track];
        const Tensor position = contiguous(source.objects.front().position);  // [T, 2] float64
        const double* truth = position.data<double>();
        double sum = 0;
        for (std::size_t k = 0; k < track.length(); ++k) {
            const auto t = static_cast<std::size_t>(track.frames[k]);
            sum += std::hypot(track.points[k].x - truth[2 * t], track.points[k].y - truth[2 * t + 1]);
        }
        s.trajectory_error = sum / static_cast<double>(track.length());
    }
    s.trajectory_kept = s.trajectory_error <= max_trajectory_error;
    s.warp_error = metrics::temporal_consistency(edit).error.mean;
    s.source_warp_error = metrics::temporal_consistency(source.video).error.mean;
    return s;
}

/// Edits the first `options.prompts` clips of `clips` into another colour
/// (recoloured_caption with shift i for clip i) and scores each edit.
inline ShapeEditEvaluation evaluate_shape_edits(
    const TextToVideo& model, const data::MovingShapes& clips, const ShapeEditEvaluationOptions& options,
    std::int64_t keep_pairs = 8, const std::function<void(std::int64_t, std::int64_t)>& progress = {}) {
    constexpr const char* op = "evaluate_shape_edits";
    options.validate();
    VGT_CHECK(options.prompts <= clips.size(), op, "expected at most the data set's {} clips, found {}", clips.size(),
              options.prompts);
    const data::MovingShapesOptions& data = clips.options();
    VGT_CHECK(data.palette.size() >= 2, op, "expected a palette of at least two colours to edit into, found {}",
              data.palette.size());
    metrics::ShapeTrackOptions tracking;
    tracking.detection.palette = data.palette;
    tracking.detection.shapes = data.shapes;

    ShapeEditEvaluation result;
    std::vector<Tensor> kept;
    std::vector<double> found_errors;
    const std::int64_t n = options.prompts;
    for (std::int64_t first = 0; first < n; first += options.batch) {
        const std::int64_t count = std::min(options.batch, n - first);
        std::vector<data::ShapesClip> real;
        std::vector<Tensor> sources;
        SampleRequest request = options.sampling;
        request.prompts.clear();
        for (std::int64_t i = 0; i < count; ++i) {
            real.push_back(clips.get(first + i));
            sources.push_back(real.back().video);
            request.prompts.push_back(
                recoloured_caption(real.back(), data.palette, static_cast<std::size_t>(first + i)));
        }
        request.source = stack(sources, 0);
        request.seed = options.sampling.seed + static_cast<std::uint64_t>(first);
        const Tensor videos = model.sample(request);
        for (std::int64_t i = 0; i < count; ++i) {
            const data::ShapesClip& clip = real[static_cast<std::size_t>(i)];
            const Tensor video = select(videos, 0, i);
            ShapeEditScore s = score_shape_edit(video, clip, request.prompts[static_cast<std::size_t>(i)], tracking,
                                                options.max_trajectory_error);
            if (std::isfinite(s.trajectory_error)) found_errors.push_back(s.trajectory_error);
            result.scores.push_back(std::move(s));
            if (static_cast<std::int64_t>(kept.size()) < 2 * keep_pairs) {
                kept.push_back(clip.video);
                kept.push_back(video);
            }
        }
        if (progress) progress(first + count, n);
    }

    const auto total = static_cast<double>(result.scores.size());
    std::int64_t coloured = 0, kept_on_track = 0, edited = 0;
    for (const ShapeEditScore& s : result.scores) {
        coloured += s.colour_changed;
        kept_on_track += s.trajectory_kept;
        edited += s.edited();
        result.warp_error += s.warp_error / total;
        result.source_warp_error += s.source_warp_error / total;
    }
    result.warp_ratio = result.source_warp_error > 0 ? result.warp_error / result.source_warp_error : std::nan("");
    result.colour_accuracy = static_cast<double>(coloured) / total;
    result.trajectory_accuracy = static_cast<double>(kept_on_track) / total;
    result.edit_accuracy = static_cast<double>(edited) / total;
    std::sort(found_errors.begin(), found_errors.end());
    result.median_trajectory_error = found_errors.empty() ? std::nan("") : found_errors[found_errors.size() / 2];
    if (!kept.empty()) result.samples = stack(kept, 0);
    return result;
}

}  // namespace vgt::experiment
