// `vgt metrics`: the reference-free metrics of one video. Temporal
// consistency (the flow-warping error between consecutive frames) always;
// with --prompt, the MovingShapes metrics: how well the video shows the
// shapes, colours and directions the prompt names, and how stable its
// objects are. Text, or JSON with --json (NaN, for a metric with nothing to
// measure, is null there).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/data/caption.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/data/palette.hpp"
#include "vgt/flow/estimate.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/video.hpp"
#include "vgt/metrics/shape_tracks.hpp"
#include "vgt/metrics/temporal_consistency.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::cli {

namespace {

constexpr std::string_view kOp = "vgt metrics";

bool has_npy_extension(std::string path) {
    std::transform(path.begin(), path.end(), path.begin(), [](unsigned char c) { return std::tolower(c); });
    return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npy") == 0;
}

/// The video as float [T, C, H, W] in [0, 1], C = 1 or 3: an .npy ([T, C, H, W],
/// or [1, T, C, H, W]; float in [0, 1] or uint8 in 0..255) or any file FFmpeg reads.
Tensor read_input_video(const std::string& path) {
    if (!has_npy_extension(path)) return vgt::io::read_video(path).frames;
    Tensor v = vgt::io::read_npy(path);
    if (v.rank() == 5 && v.size(0) == 1) v = select(v, 0, 0);
    VGT_CHECK(v.rank() == 4 && (v.size(1) == 1 || v.size(1) == 3), kOp,
              "'{}': expected a video [T, 3, H, W] (or [T, 1, H, W], or one clip [1, T, C, H, W]), found {}", path,
              v.shape());
    if (v.dtype() == DType::UInt8) return div(to(v, DType::Float32), 255.0);
    VGT_CHECK(is_floating(v.dtype()), kOp, "'{}': expected float32, float64 or uint8 values, found {}", path,
              dtype_name(v.dtype()));
    const auto values = v.to_vector<double>();
    const bool in_range = std::all_of(values.begin(), values.end(), [](double x) { return x >= 0.0 && x <= 1.0; });
    VGT_CHECK(in_range, kOp, "'{}': expected values in [0, 1] (NaN and infinity are not), found some outside", path);
    return v;
}

std::string direction_text(const std::optional<vgt::data::Direction>& d) {
    return d ? std::string(vgt::data::direction_name(*d)) : std::string("-");
}

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

int command_metrics(Flags& flags) {
    const std::string path = flags.required("video");
    const std::optional<std::string> prompt = flags.get("prompt");
    const bool as_json = flags.flag("json");
    const vgt::flow::FlowMethod method = vgt::flow::parse_flow_method(flags.text("flow", "hs"));
    vgt::metrics::ShapeTrackOptions shape_options;
    shape_options.detection.palette = vgt::data::palette_named(flags.text("palette", "default"));
    flags.apply_threads();
    flags.require_all_used();

    const Tensor video = read_input_video(path);
    VGT_CHECK(video.size(0) >= 2, kOp, "'{}': expected a video of at least 2 frames, found {}", path, video.shape());
    const auto consistency = vgt::metrics::temporal_consistency(video, method);
    std::optional<vgt::metrics::ShapeTrackReport> shapes;
    if (prompt) {
        VGT_CHECK(video.size(1) == 3, kOp, "'{}': expected an RGB video for --prompt (shapes are found by colour), found {}",
                  path, video.shape());
        shapes = vgt::metrics::shape_track_metrics(video, *prompt, shape_options);
    }
    double valid = 0;
    for (double f : consistency.valid_fraction) valid += f / static_cast<double>(consistency.valid_fraction.size());

    if (as_json) {
        nlohmann::json out;
        out["video"] = path;
        out["shape"] = std::vector<std::int64_t>(video.shape().begin(), video.shape().end());
        nlohmann::json tc;
        tc["flow"] = std::string(vgt::flow::flow_method_name(method));
        tc["mean"] = number(consistency.error.mean);
        tc["per_pair"] = nlohmann::json::array();
        for (double e : consistency.error.per_frame) tc["per_pair"].push_back(number(e));
        tc["valid_fraction"] = consistency.valid_fraction;
        out["temporal_consistency"] = tc;
        if (shapes) {
            const auto& r = *shapes;
            nlohmann::json s;
            s["prompt"] = *prompt;
            s["caption_accuracy"] = number(r.caption_accuracy);
            s["colour_accuracy"] = number(r.colour_accuracy);
            s["shape_accuracy"] = number(r.shape_accuracy);
            s["direction_accuracy"] = number(r.direction_accuracy);
            s["count_accuracy"] = number(r.count_accuracy);
            s["count_consistency"] = number(r.count_consistency);
            s["identity_consistency"] = number(r.identity_consistency);
            s["trajectory_smoothness"] = number(r.trajectory_smoothness);
            s["counts"] = r.counts;
            s["tracks"] = r.tracks.size();
            s["objects"] = nlohmann::json::array();
            for (const auto& o : r.prompt_objects) {
                nlohmann::json j;
                j["colour"] = o.prompt.colour;
                j["shape"] = o.prompt.noun;
                j["direction"] = o.prompt.direction ? nlohmann::json(std::string(vgt::data::direction_name(*o.prompt.direction)))
                                                    : nlohmann::json(nullptr);
                j["found"] = o.track.has_value();
                j["detected_shape"] = o.shape ? nlohmann::json(std::string(vgt::data::shape_name(*o.shape))) : nlohmann::json(nullptr);
                j["detected_direction"] = o.direction ? nlohmann::json(std::string(vgt::data::direction_name(*o.direction)))
                                                      : nlohmann::json(nullptr);
                j["colour_match"] = o.colour_match;
                j["shape_match"] = o.shape_match;
                j["direction_match"] = o.direction_match;
                s["objects"].push_back(j);
            }
            out["shapes"] = s;
        }
        fmt::print("{}\n", out.dump(2));
        return 0;
    }

    fmt::print("video {}: {} frames of {}x{}, {} channel{}\n", path, video.size(0), video.size(3), video.size(2),
               video.size(1), video.size(1) == 1 ? "" : "s");
    fmt::print("temporal consistency (flow-warping error, {} flow; lower is steadier): {:.6g}\n",
               vgt::flow::flow_method_name(method), consistency.error.mean);
    fmt::print("  per frame pair: {:.4g}\n", fmt::join(consistency.error.per_frame, " "));
    fmt::print("  pixels kept by the occlusion mask: {:.1f}%\n", 100.0 * valid);
    if (!shapes) return 0;
    const auto& r = *shapes;
    fmt::print("prompt \"{}\"\n", *prompt);
    fmt::print("  caption accuracy {:.3f} (colour {:.3f}, shape {:.3f}, direction {:.3f})\n", r.caption_accuracy,
               r.colour_accuracy, r.shape_accuracy, r.direction_accuracy);
    fmt::print("  count accuracy {:.3f}: objects per frame {}\n", r.count_accuracy, fmt::join(r.counts, " "));
    fmt::print("  count consistency {:.3f}, identity consistency {:.3f}, trajectory smoothness {:.3f} px/frame^2 "
               "(lower is smoother)\n",
               r.count_consistency, r.identity_consistency, r.trajectory_smoothness);
    for (const auto& o : r.prompt_objects) {
        const std::string asked = fmt::format("{} {} {}", o.prompt.colour, o.prompt.noun, direction_text(o.prompt.direction));
        if (!o.track) {
            fmt::print("  {:<28} not found (no {} object in {:.0f}% of the frames)\n", asked, o.prompt.colour,
                       100.0 * shape_options.min_track_share);
            continue;
        }
        fmt::print("  {:<28} seen as {} {} {}: {}\n", asked, o.prompt.colour, vgt::data::shape_name(*o.shape),
                   direction_text(o.direction), o.matched() ? "match" : "MISMATCH");
    }
    return 0;
}

}  // namespace vgt::cli
