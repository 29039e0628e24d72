#pragma once
// An ablation's results on disk, in its output directory:
//
//   results.json   the config, the machine and every number of every variant (the loss curve included)
//   report.md      the tables, the loss chart and the sample strips, for reading on a forge
//   report.html    the same in one page, the chart inline
//   loss.svg       the loss curves, smoothed over a fiftieth of the run, on a log scale

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vgt/core/build_info.hpp"
#include "vgt/core/error.hpp"
#include "vgt/experiment/ablation.hpp"
#include "vgt/io/svg_chart.hpp"

namespace vgt::experiment {

namespace detail {

/// The processor's name as the kernel reports it; "unknown" elsewhere.
inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    return "unknown";
}

inline std::string utc_now() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm);
    return text;
}

/// NaN and infinities as JSON null.
inline nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

/// A trailing mean over `window` values.
inline std::vector<double> smoothed(const std::vector<double>& v, std::size_t window) {
    std::vector<double> out;
    double sum = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        sum += v[i];
        if (i >= window) sum -= v[i - window];
        out.push_back(sum / static_cast<double>(std::min(i + 1, window)));
    }
    return out;
}

inline std::string fixed_or_dash(double v, int digits) {
    return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "–";
}

/// The rows of the report's tables: header cells, then one row of cells per variant.
struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

inline Table cost_table(const AblationResult& r) {
    Table t{{"variant", "parameters", "MFLOP / frame", "step (ms, median)", "peak memory (MB)", "steps",
             "training (s)", "final loss"},
            {}};
    for (const VariantResult& v : r.variants)
        t.rows.push_back({v.name, fmt::format("{}", v.params), fmt::format("{:.1f}", v.flops_per_frame / 1e6),
                          fmt::format("{:.{}f}", v.step_ms, v.step_ms < 100 ? 1 : 0), fmt::format("{:.1f}", v.peak_memory_bytes / 1e6),
                          fmt::format("{}{}", v.steps, v.stopped_by_time ? " (time)" : ""),
                          fmt::format("{:.{}f}", v.training_seconds, v.training_seconds < 100 ? 1 : 0), fmt::format("{:.4f}", v.final_loss)});
    return t;
}

/// The lengths any variant was scored at, in order.
inline std::vector<std::int64_t> scored_lengths(const AblationResult& r) {
    std::vector<std::int64_t> out;
    for (const VariantResult& v : r.variants)
        for (const LengthQuality& q : v.quality)
            if (std::find(out.begin(), out.end(), q.frames) == out.end()) out.push_back(q.frames);
    return out;
}

inline Table quality_table(const AblationResult& r, std::int64_t frames) {
    Table t{{"variant", "caption", "colour", "shape", "direction", "identity", "smoothness (px/frame²)",
             "warp error ratio"},
            {}};
    for (const VariantResult& v : r.variants)
        for (const LengthQuality& q : v.quality) {
            if (q.frames != frames || q.edits) continue;
            if (!q.error.empty()) {
                t.rows.push_back({v.name, fmt::format("failed: {}", q.error), "", "", "", "", "", ""});
                continue;
            }
            t.rows.push_back({v.name, fixed_or_dash(q.caption_accuracy, 2), fixed_or_dash(q.colour_accuracy, 2),
                              fixed_or_dash(q.shape_accuracy, 2), fixed_or_dash(q.direction_accuracy, 2),
                              fixed_or_dash(q.identity_consistency, 2), fixed_or_dash(q.trajectory_smoothness, 2),
                              fixed_or_dash(q.warp_ratio, 2)});
        }
    return t;
}

/// The structure models' edits at `frames` frames.
inline Table edit_table(const AblationResult& r, std::int64_t frames) {
    Table t{{"variant", "edited", "new colour", "trajectory kept", "trajectory error (px, median)",
             "warp error ratio"},
            {}};
    for (const VariantResult& v : r.variants)
        for (const LengthQuality& q : v.quality) {
            if (q.frames != frames || !q.edits) continue;
            if (!q.error.empty()) {
                t.rows.push_back({v.name, fmt::format("failed: {}", q.error), "", "", "", ""});
                continue;
            }
            t.rows.push_back({v.name, fixed_or_dash(q.edit_accuracy, 2), fixed_or_dash(q.colour_accuracy, 2),
                              fixed_or_dash(q.trajectory_accuracy, 2), fixed_or_dash(q.trajectory_error, 2),
                              fixed_or_dash(q.warp_ratio, 2)});
        }
    return t;
}

/// PSNR and SSIM of each variant's predictions, then of copying the last known frame.
inline Table prediction_table(const AblationResult& r) {
    Table t{{"variant", "PSNR (dB)", "SSIM"}, {}};
    const PredictionQuality* baseline = nullptr;
    for (const VariantResult& v : r.variants) {
        if (!v.prediction) continue;
        t.rows.push_back({v.name, fmt::format("{:.2f}", v.prediction->psnr), fmt::format("{:.3f}", v.prediction->ssim)});
        baseline = &*v.prediction;
    }
    if (baseline)
        t.rows.push_back({"copy the last known frame", fmt::format("{:.2f}", baseline->baseline_psnr),
                          fmt::format("{:.3f}", baseline->baseline_ssim)});
    return t;
}

inline std::string markdown_table(const Table& t) {
    // Variant names go in code spans: a name such as "TemporalAttention<RoPE>" is not HTML.
    std::string out = "|";
    for (const std::string& h : t.header) out += fmt::format(" {} |", h);
    out += "\n|";
    for (std::size_t i = 0; i < t.header.size(); ++i) out += i == 0 ? " --- |" : " ---: |";
    out += "\n";
    for (const auto& row : t.rows) {
        out += "|";
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::string escaped;
            for (const char c : row[i]) {
                if (c == '|') escaped += '\\';
                escaped += c;
            }
            out += i == 0 ? fmt::format(" `{}` |", escaped) : fmt::format(" {} |", escaped);
        }
        out += "\n";
    }
    return out;
}

inline std::string html_table(const Table& t) {
    std::string out = "<table>\n<tr>";
    for (const std::string& h : t.header) out += fmt::format("<th>{}</th>", io::xml_escaped(h));
    out += "</tr>\n";
    for (const auto& row : t.rows) {
        out += "<tr>";
        for (std::size_t i = 0; i < row.size(); ++i)
            out += i == 0 ? fmt::format("<td><code>{}</code></td>", io::xml_escaped(row[i]))
                          : fmt::format("<td>{}</td>", io::xml_escaped(row[i]));
        out += "</tr>\n";
    }
    out += "</table>\n";
    return out;
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
    const std::filesystem::path partial = path.string() + ".partial";
    {
        std::ofstream out(partial, std::ios::binary);
        out << text;
        VGT_CHECK(out.good(), "write_ablation_report", "'{}': expected a writable file, found a write error",
                  partial.string());
    }
    std::filesystem::rename(partial, path);  // a reader never sees half a report
}

}  // namespace detail

/// Everything of a result as JSON; `command` is how it was made (may be empty).
inline nlohmann::json ablation_results_json(const AblationResult& r, const std::string& command) {
    const BuildInfo b = build_info();
    nlohmann::json variants = nlohmann::json::array();
    for (const VariantResult& v : r.variants) {
        nlohmann::json quality = nlohmann::json::array();
        for (const LengthQuality& q : v.quality) {
            nlohmann::json j = {{"frames", q.frames}};
            if (!q.error.empty()) {
                j["error"] = q.error;
            } else if (q.edits) {
                j.update({{"task", "edit"},
                          {"edit_accuracy", q.edit_accuracy},
                          {"colour_accuracy", q.colour_accuracy},
                          {"trajectory_accuracy", q.trajectory_accuracy},
                          {"median_trajectory_error", detail::number_or_null(q.trajectory_error)},
                          {"warp_error", detail::number_or_null(q.warp_error)},
                          {"source_warp_error", detail::number_or_null(q.real_warp_error)},
                          {"warp_ratio", detail::number_or_null(q.warp_ratio)},
                          {"strip", q.strip}});
            } else {
                j.update({{"caption_accuracy", q.caption_accuracy},
                          {"colour_accuracy", q.colour_accuracy},
                          {"shape_accuracy", q.shape_accuracy},
                          {"direction_accuracy", q.direction_accuracy},
                          {"identity_consistency", detail::number_or_null(q.identity_consistency)},
                          {"trajectory_smoothness", detail::number_or_null(q.trajectory_smoothness)},
                          {"warp_error", detail::number_or_null(q.warp_error)},
                          {"real_warp_error", detail::number_or_null(q.real_warp_error)},
                          {"warp_ratio", detail::number_or_null(q.warp_ratio)},
                          {"strip", q.strip}});
            }
            quality.push_back(std::move(j));
        }
        nlohmann::json losses = nlohmann::json::array();
        for (const double l : v.losses) losses.push_back(detail::number_or_null(l));
        variants.push_back({{"name", v.name},
                            {"directory", v.directory},
                            {"parameters", v.params},
                            {"flops_per_frame", v.flops_per_frame},
                            {"steps", v.steps},
                            {"stopped_by_time", v.stopped_by_time},
                            {"training_seconds", v.training_seconds},
                            {"step_ms_median", detail::number_or_null(v.step_ms)},
                            {"peak_memory_bytes", v.peak_memory_bytes},
                            {"final_loss", detail::number_or_null(v.final_loss)},
                            {"ema_weights_scored", v.ema},
                            {"quality", quality},
                            {"prediction", v.prediction ? nlohmann::json{{"clips", v.prediction->clips},
                                                                         {"psnr", detail::number_or_null(v.prediction->psnr)},
                                                                         {"ssim", v.prediction->ssim},
                                                                         {"baseline_psnr", detail::number_or_null(v.prediction->baseline_psnr)},
                                                                         {"baseline_ssim", v.prediction->baseline_ssim},
                                                                         {"strip", v.prediction->strip}}
                                                        : nlohmann::json()},
                            {"losses", losses}});
    }
    return {{"name", r.config.name},
            {"description", r.config.description},
            {"complete", r.variants.size() == r.config.variants.size()},
            {"command", command},
            {"finished", detail::utc_now()},
            {"seconds", r.seconds},
            {"machine",
             {{"cpu", detail::cpu_model()},
              {"threads", b.threads},
              {"hardware_threads", b.hardware_threads},
              {"vgt", b.version},
              {"compiler", b.compiler},
              {"vector_instructions", b.vector_instructions}}},
            {"config", ablation_config_to_json(r.config)},
            {"variants", variants}};
}

/// The loss curves as an SVG chart.
inline std::string ablation_loss_chart(const AblationResult& r) {
    std::vector<io::ChartSeries> series;
    for (const VariantResult& v : r.variants) {
        io::ChartSeries s;
        s.label = v.name;
        s.y = detail::smoothed(v.losses, std::max<std::size_t>(1, v.losses.size() / 50));
        for (std::size_t i = 0; i < s.y.size(); ++i) s.x.push_back(static_cast<double>(i + 1));
        series.push_back(std::move(s));
    }
    return io::svg_line_chart(series, {.title = fmt::format("training loss: {}", r.config.name),
                                       .x_label = "step",
                                       .y_label = "loss",
                                       .log_y = true});
}

/// Writes results.json, report.md, report.html and loss.svg into the config's output directory.
inline void write_ablation_report(const AblationResult& r, const std::string& command = "") {
    const std::filesystem::path out(r.config.output_dir);
    std::filesystem::create_directories(out);
    const nlohmann::json results = ablation_results_json(r, command);
    detail::write_text(out / "results.json", results.dump(1) + "\n");
    const std::string chart = ablation_loss_chart(r);
    detail::write_text(out / "loss.svg", chart);

    const nlohmann::json& m = results["machine"];
    const std::string made_by =
        fmt::format("{}{} CPU thread{} on {} ({} hardware threads), vgt {} built with {}; finished {}, {:.0f} s in all.",
                    command.empty() ? "" : fmt::format("`{}`: ", command), m["threads"].get<int>(),
                    m["threads"].get<int>() == 1 ? "" : "s",
                    m["cpu"].get<std::string>(), m["hardware_threads"].get<int>(), m["vgt"].get<std::string>(),
                    m["compiler"].get<std::string>(), results["finished"].get<std::string>(), r.seconds);
    const TrainConfig& train = r.config.train;
    const bool predicting = r.config.task == "prediction";
    const VideoGeometry g = video_geometry(train.data);
    const std::string budget = fmt::format(
        "data {} ({} frames), batch {}, seed {}, {} steps{}", train.data.dataset, g.frames, train.training.batch_size,
        train.training.seed, train.training.steps,
        train.training.max_seconds > 0
            ? fmt::format(" or {:g} s of training, whichever comes first", train.training.max_seconds)
            : "");
    const std::string setup =
        predicting
            ? fmt::format("Every variant: {}; predicts frames {} to {} from the first {} in one pass, scored on {} "
                          "held-out clips.",
                          budget, r.config.prediction.context_frames + 1, g.frames, r.config.prediction.context_frames,
                          r.config.prediction.clips)
            : fmt::format("Every variant: {}, {} process, {} objective; quality on {} prompts ({}), {} sampling steps.",
                          budget,
                          train.diffusion.process, diffusion::objective_name(train.diffusion.objective),
                          r.config.evaluation.prompts,
                          train.data.dataset == "moving-shapes"
                              ? shape_prompt_clips(train, train.conditioning.structure).second
                              : "none scored",
                          r.config.evaluation.sample_steps > 0 ? r.config.evaluation.sample_steps
                                                               : train.diffusion.sample_steps);

    const std::size_t planned = r.config.variants.size();
    const std::string partial =
        r.variants.size() < planned
            ? fmt::format("Partial: {} of {} variants so far.", r.variants.size(), planned)
            : std::string();
    std::string md = fmt::format("# Ablation: {}\n\n", r.config.name);
    if (!partial.empty()) md += fmt::format("**{}**\n\n", partial);
    if (!r.config.description.empty()) md += r.config.description + "\n\n";
    md += fmt::format("{}\n\n{}\n\n## Cost and training\n\n", made_by, setup);
    md += detail::markdown_table(detail::cost_table(r));
    std::string html = fmt::format(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Ablation: {0}</title>\n<style>body{{font-family:"
        "sans-serif;max-width:1100px;margin:2em auto}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}}td:first-child{{text-align:left}}img{{image-rendering:pixelated;"
        "height:96px;margin:4px 0}}</style></head><body>\n<h1>Ablation: {0}</h1>\n",
        io::xml_escaped(r.config.name));
    if (!partial.empty()) html += fmt::format("<p><strong>{}</strong></p>\n", partial);
    if (!r.config.description.empty()) html += fmt::format("<p>{}</p>\n", io::xml_escaped(r.config.description));
    html += fmt::format("<p>{}</p>\n<p>{}</p>\n<h2>Cost and training</h2>\n", io::xml_escaped(made_by),
                        io::xml_escaped(setup));
    html += detail::html_table(detail::cost_table(r));
    bool any_prompts = false, any_edits = false;
    for (const std::int64_t frames : detail::scored_lengths(r)) {
        const detail::Table table = detail::quality_table(r, frames);
        if (!table.rows.empty()) {
            any_prompts = true;
            md += fmt::format("\n## Quality at T = {}\n\n", frames) + detail::markdown_table(table);
            html += fmt::format("<h2>Quality at T = {}</h2>\n", frames) + detail::html_table(table);
        }
        const detail::Table edits = detail::edit_table(r, frames);
        if (!edits.rows.empty()) {
            any_edits = true;
            md += fmt::format("\n## Edits at T = {}\n\n", frames) + detail::markdown_table(edits);
            html += fmt::format("<h2>Edits at T = {}</h2>\n", frames) + detail::html_table(edits);
        }
    }
    if (predicting) {
        const detail::Table table = detail::prediction_table(r);
        md += fmt::format("\n## Prediction\n\n{}", detail::markdown_table(table));
        md += "\nPSNR and SSIM of the predicted frames against the real ones: PSNR of the squared error pooled over "
              "every predicted pixel of the held-out clips, SSIM the mean over the clips; copying the last known frame "
              "forward is what an untrained predictor does.\n";
        html += "<h2>Prediction</h2>\n";
        html += detail::html_table(table);
    } else {
        if (any_prompts)
            md += "\nCaption, colour, shape and direction: shares of prompts drawn right. Identity: how consistently "
                  "one object keeps its colour and shape. Smoothness: the mean second difference of the tracked "
                  "centroid, lower is smoother. Warp error ratio: the samples' flow-warping error over real clips' (1 "
                  "is as steady as real video).\n";
        if (any_edits)
            md += "\nEdits: each source clip edited into another colour by its caption. New colour: the object shows "
                  "in the prompt's colour; trajectory kept: its centroid stays within 2 px of the source's on average; "
                  "edited: both. Warp error ratio: the edits' flow-warping error over their sources'.\n";
    }
    md += "\n## Loss\n\n![training loss](loss.svg)\n";
    html += "<h2>Loss</h2>\n";
    html += chart;
    bool strips_heading = false;
    for (const VariantResult& v : r.variants) {
        if (v.prediction && !v.prediction->strip.empty()) {
            if (!strips_heading) {
                md += "\n## Samples\n\n";
                html += "<h2>Samples</h2>\n";
                strips_heading = true;
            }
            md += fmt::format("`{}`: each clip, then its first {} frames and the prediction:\n\n![prediction]({})\n\n",
                              v.name, r.config.prediction.context_frames, v.prediction->strip);
            html += fmt::format("<p><code>{}</code><br><img src=\"{}\" alt=\"prediction\"></p>\n",
                                io::xml_escaped(v.name), io::xml_escaped(v.prediction->strip));
        }
        for (const LengthQuality& q : v.quality) {
            if (q.strip.empty()) continue;
            if (!strips_heading) {
                md += "\n## Samples\n\n";
                html += "<h2>Samples</h2>\n";
                strips_heading = true;
            }
            md += fmt::format("`{}`, T = {}{}:\n\n![samples]({})\n\n", v.name, q.frames,
                              q.edits ? ", each source beside its edit" : "", q.strip);
            html += fmt::format("<p><code>{0}</code>, T = {1}<br><img src=\"{2}\" alt=\"{0} samples\"></p>\n",
                                io::xml_escaped(v.name), q.frames, io::xml_escaped(q.strip));
        }
    }
    html += "</body></html>\n";
    detail::write_text(out / "report.md", md);
    detail::write_text(out / "report.html", html);
}

}  // namespace vgt::experiment
