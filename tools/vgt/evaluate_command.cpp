// `vgt evaluate --checkpoint CKPT`: how well a model trained on
// MovingShapes does what prompts ask for (experiment/shape_prompt_evaluation.hpp).
// A text-to-video model draws the captions of real clips: of the held-out
// split when the model's data config holds combinations out, otherwise of
// clips from another seed of the same data set. A structure model (Gen-1's
// video-to-video) edits such clips into another colour. A text-to-video
// model is also probed (experiment/caption_probe.hpp): its loss on training
// clips with their captions and with directions, colours or shapes swapped.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/experiment/caption_probe.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/experiment/shape_prompt_evaluation.hpp"
#include "vgt/io/image.hpp"
#include "vgt/io/video.hpp"

namespace vgt::cli {

int command_evaluate(Flags& flags) {
    flags.apply_threads();
    const std::string path = flags.required("checkpoint");
    experiment::ShapePromptEvaluationOptions options;
    options.prompts = flags.integer("prompts", 100, 1);
    options.batch = flags.integer("batch", 8, 1);
    options.sampling.steps = flags.integer("steps", 0, 1);
    if (const auto sampler = flags.get("sampler")) options.sampling.sampler = diffusion::parse_sampler_kind(*sampler);
    options.sampling.guidance = flags.number("guidance");
    options.sampling.temporal_guidance = flags.number("temporal-guidance");
    options.sampling.seed = static_cast<std::uint64_t>(flags.integer("seed", 0, 0));
    const std::optional<std::string> out = flags.get("out");
    const bool training_weights = flags.flag("no-ema");
    const bool json = flags.flag("json");
    const std::int64_t structure_level = flags.integer("structure-level", 0, 0);
    const std::int64_t probe_clips = flags.integer("probe-clips", 96, 0);
    flags.require_all_used();

    experiment::Checkpoint checkpoint = experiment::read_checkpoint(path);
    const bool ema = !training_weights && experiment::use_ema_weights(checkpoint);
    const bool edits = checkpoint.model.config().conditioning.structure;
    const auto [source, described] = experiment::shape_prompt_clips(checkpoint.model.config(), edits);
    data::MovingShapes clips(source);
    if (options.prompts > clips.size())
        throw vgt::Error(fmt::format("vgt evaluate: expected --prompts at most the data set's epoch_size {}, found {}",
                                     clips.size(), options.prompts));

    auto progress = [&](std::int64_t done, std::int64_t total) {
        if (!json) fmt::print(stderr, "\revaluated {}/{} {}", done, total, edits ? "edits" : "prompts");
    };
    nlohmann::json report = {{"checkpoint", path},
                             {"step", checkpoint.step},
                             {"weights", ema ? "ema" : training_weights ? "training" : "stored"},
                             {"clips", options.prompts},
                             {"prompt_source", described}};
    nlohmann::json per_clip = nlohmann::json::array();
    Tensor samples;
    std::vector<std::string> sample_lines;
    if (edits) {
        experiment::ShapeEditEvaluationOptions edit_options;
        static_cast<experiment::ShapePromptEvaluationOptions&>(edit_options) = options;
        edit_options.sampling.structure_level = structure_level;
        const experiment::ShapeEditEvaluation r =
            experiment::evaluate_shape_edits(checkpoint.model, clips, edit_options, 8, progress);
        report["task"] = "edit";
        report["structure_level"] = structure_level;
        report["colour_accuracy"] = r.colour_accuracy;
        report["trajectory_accuracy"] = r.trajectory_accuracy;
        report["edit_accuracy"] = r.edit_accuracy;
        report["median_trajectory_error"] = r.median_trajectory_error;
        report["warp_error"] = r.warp_error;
        report["source_warp_error"] = r.source_warp_error;
        report["warp_ratio"] = r.warp_ratio;
        for (const auto& e : r.scores)
            per_clip.push_back({{"source", e.source_caption},
                                {"prompt", e.prompt},
                                {"colour_changed", e.colour_changed},
                                {"trajectory_error", std::isfinite(e.trajectory_error) ? nlohmann::json(e.trajectory_error)
                                                                                      : nlohmann::json(nullptr)},
                                {"trajectory_kept", e.trajectory_kept},
                                {"warp_error", e.warp_error},
                                {"source_warp_error", e.source_warp_error}});
        samples = r.samples;
        for (std::size_t i = 0; i < r.scores.size() && i < 8; ++i) {
            sample_lines.push_back(fmt::format("{}: source: {}", 2 * i, r.scores[i].source_caption));
            sample_lines.push_back(fmt::format("{}: edit:   {}{}", 2 * i + 1, r.scores[i].prompt,
                                               r.scores[i].edited() ? "" : "  [missed]"));
        }
    } else {
        const experiment::ShapePromptEvaluation r =
            experiment::evaluate_shape_prompts(checkpoint.model, clips, options, 16, progress);
        report["task"] = "text-to-video";
        report["caption_accuracy"] = r.caption_accuracy;
        report["colour_accuracy"] = r.colour_accuracy;
        report["shape_accuracy"] = r.shape_accuracy;
        report["direction_accuracy"] = r.direction_accuracy;
        report["count_accuracy"] = r.count_accuracy;
        report["identity_consistency"] = r.identity_consistency;
        report["trajectory_smoothness"] = r.trajectory_smoothness;
        report["warp_error"] = r.warp_error;
        report["real_warp_error"] = r.real_warp_error;
        report["warp_ratio"] = r.warp_ratio;
        for (const auto& p : r.scores)
            per_clip.push_back({{"prompt", p.prompt},
                                {"caption", p.caption},
                                {"colour", p.colour},
                                {"shape", p.shape},
                                {"direction", p.direction},
                                {"count_accuracy", p.count_accuracy},
                                {"identity_consistency", p.identity_consistency},
                                {"warp_error", p.warp_error},
                                {"real_warp_error", p.real_warp_error}});
        samples = r.samples;
        for (std::size_t i = 0; i < r.scores.size() && i < 16; ++i)
            sample_lines.push_back(
                fmt::format("{}: {}{}", i, r.scores[i].prompt, r.scores[i].caption ? "" : "  [missed]"));
        if (probe_clips > 0) {
            // Training clips: the probe asks what the model learnt from them.
            const data::MovingShapes training(checkpoint.model.config().data.moving_shapes);
            experiment::CaptionProbeOptions probe;
            probe.clips = std::min(probe_clips, training.size());
            probe.batch = options.batch;
            nlohmann::json rows = nlohmann::json::array();
            for (const auto& row : experiment::probe_captions(checkpoint.model, training,
                                                              experiment::moving_shapes_swaps(training), probe))
                rows.push_back({{"captions", row.name}, {"loss", row.loss}, {"ratio", row.ratio}});
            report["caption_probe"] = {{"clips", probe.clips}, {"rows", rows}};
        }
    }
    if (!json) fmt::print(stderr, "\n");

    if (out) {
        const std::filesystem::path dir(*out);
        std::filesystem::create_directories(dir);
        nlohmann::json full = report;
        full["per_clip"] = per_clip;
        std::ofstream(dir / "evaluation.json") << full.dump(1) << "\n";
        if (io::video_io_available() && samples.defined())
            io::write_video((dir / "samples.gif").string(), io::video_grid(samples), {.fps = 4});
        std::ofstream captions(dir / "samples.txt");
        for (const std::string& line : sample_lines) captions << line << "\n";
    }
    if (json) {
        fmt::print("{}\n", report.dump(1));
        return 0;
    }
    fmt::print("{} (step {}, {} weights): {} clips, {}\n", path, checkpoint.step,
               ema ? "EMA" : training_weights ? "training" : "stored", options.prompts, described);
    auto number_of = [&](const char* key) { return report[key].get<double>(); };
    if (edits) {
        fmt::print("  edits in the new colour     {:.3f}\n", number_of("colour_accuracy"));
        fmt::print("  trajectory within 2 px      {:.3f}  (median error {:.2f} px)\n", number_of("trajectory_accuracy"),
                   number_of("median_trajectory_error"));
        fmt::print("  both                        {:.3f}\n", number_of("edit_accuracy"));
        fmt::print("  warp error ratio            {:.2f}  (edits {:.5f}, sources {:.5f})\n", number_of("warp_ratio"),
                   number_of("warp_error"), number_of("source_warp_error"));
    } else {
        fmt::print("  caption accuracy     {:.3f}  (colour {:.3f}, shape {:.3f}, direction {:.3f})\n",
                   number_of("caption_accuracy"), number_of("colour_accuracy"), number_of("shape_accuracy"),
                   number_of("direction_accuracy"));
        fmt::print("  count accuracy       {:.3f}\n", number_of("count_accuracy"));
        fmt::print("  identity consistency {:.3f}\n", number_of("identity_consistency"));
        if (report["trajectory_smoothness"].is_number())
            fmt::print("  trajectory smoothness {:.3f} px/frame² (lower is smoother)\n",
                       number_of("trajectory_smoothness"));
        fmt::print("  warping error        {:.5f} (real clips {:.5f}, ratio {:.2f})\n", number_of("warp_error"),
                   number_of("real_warp_error"), number_of("warp_ratio"));
        if (report.contains("caption_probe")) {
            fmt::print("  loss of {} training clips (same noise and times):\n",
                       report["caption_probe"]["clips"].get<std::int64_t>());
            for (const auto& row : report["caption_probe"]["rows"])
                fmt::print("    {:<22} {:.5f}  ({:.4f}x)\n", row["captions"].get<std::string>(),
                           row["loss"].get<double>(), row["ratio"].get<double>());
        }
    }
    if (out) fmt::print("  written: {}/evaluation.json, samples.gif, samples.txt\n", *out);
    return 0;
}

}  // namespace vgt::cli
