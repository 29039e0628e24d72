// `vgt flow`: the optical flow between consecutive frames of a video, drawn
// with the colour wheel (flow/visualize.hpp) as a video of T − 1 frames, or
// kept as numbers in an .npy [T − 1, 2, H, W].

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/flow/estimate.hpp"
#include "vgt/flow/visualize.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/video.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::cli {

namespace {

constexpr std::string_view kFlowOp = "vgt flow";

bool has_extension(std::string path, std::string_view extension) {
    std::transform(path.begin(), path.end(), path.begin(), [](unsigned char c) { return std::tolower(c); });
    return path.size() >= extension.size() && path.compare(path.size() - extension.size(), extension.size(), extension) == 0;
}

double positive_number(Flags& flags, const std::string& name, double fallback) {
    const std::optional<std::string> text = flags.get(name);
    if (!text) return fallback;
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(*text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    VGT_CHECK(used == text->size() && std::isfinite(v) && v > 0, kFlowOp, "expected a positive number for --{}, found '{}'",
              name, *text);
    return v;
}

/// The frames [T, C, H, W] in [0, 1]: an .npy video ([T, C, H, W] or one
/// clip [1, T, C, H, W], C = 1 or 3; float in [0, 1] or uint8) or any file
/// FFmpeg reads, with its frame rate (0 when unknown).
std::pair<Tensor, double> read_frames(const std::string& path, const vgt::io::ReadOptions& options) {
    if (!has_extension(path, ".npy")) {
        vgt::io::Video video = vgt::io::read_video(path, options);
        return {video.frames, video.fps};
    }
    VGT_CHECK(options.height == 0 && options.width == 0, kFlowOp,
              "'{}': --height and --width resize video files as they are decoded; resize an .npy video before",
              path);
    Tensor v = vgt::io::read_npy(path);
    if (v.rank() == 5 && v.size(0) == 1) v = select(v, 0, 0);
    VGT_CHECK(v.rank() == 4 && (v.size(1) == 1 || v.size(1) == 3), kFlowOp,
              "'{}': expected a video [T, 3, H, W] (or [T, 1, H, W], or one clip [1, T, C, H, W]), found {}", path,
              v.shape());
    if (v.dtype() == DType::UInt8) v = div(to(v, DType::Float32), 255.0);
    VGT_CHECK(is_floating(v.dtype()), kFlowOp, "'{}': expected float32, float64 or uint8 values, found {}", path,
              dtype_name(v.dtype()));
    const std::int64_t first = std::min(options.first_frame, v.size(0));
    const std::int64_t last = options.max_frames < 0 ? v.size(0)
                                                     : std::min(v.size(0), first + options.max_frames * options.stride);
    return {contiguous(slice(v, 0, first, last, options.stride)), 0.0};
}

}  // namespace

int command_flow(Flags& flags) {
    const std::string input = flags.required("input");
    const std::string output = flags.required("out");
    const vgt::flow::FlowMethod method = vgt::flow::parse_flow_method(flags.text("method", "hs"));
    const double scale = positive_number(flags, "scale", 0.0);  // 0: the largest motion in the video
    vgt::io::ReadOptions read;
    read.first_frame = flags.integer("first-frame", 0, 0);
    read.max_frames = flags.integer("max-frames", -1, 2);
    read.stride = flags.integer("stride", 1, 1);
    read.height = flags.integer("height", 0, 0);
    read.width = flags.integer("width", 0, 0);
    const double fps = positive_number(flags, "fps", 0.0);  // 0: the input's, else 24
    flags.apply_threads();
    flags.require_all_used();
    const bool as_numbers = has_extension(output, ".npy");

    const auto [frames, source_fps] = read_frames(input, read);
    VGT_CHECK(frames.size(0) >= 2, kFlowOp, "'{}': expected a video of at least 2 frames, found {}", input,
              frames.shape());
    const std::int64_t pairs = frames.size(0) - 1;

    // Pair by pair, so that the estimator's working memory stays one pair's.
    vgt::NoGradGuard no_grad;
    std::vector<Tensor> fields;
    const auto start = std::chrono::steady_clock::now();
    for (std::int64_t t = 0; t < pairs; ++t) {
        const Tensor a = to(slice(frames, 0, t, t + 1), DType::Float32);
        const Tensor b = to(slice(frames, 0, t + 1, t + 2), DType::Float32);
        fields.push_back(vgt::flow::estimate_flow(a, b, method));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const Tensor flow = concat(fields, 0);  // [T − 1, 2, H, W]
    const double largest = vgt::flow::max_flow_magnitude(flow);

    if (as_numbers) {
        vgt::io::write_npy(output, flow);
    } else {
        const Tensor colours = vgt::flow::flow_to_rgb(flow, {scale});
        vgt::io::WriteOptions write;
        write.fps = fps > 0 ? fps : (source_fps > 0 ? source_fps : 24.0);
        vgt::io::write_video(output, colours, write);
    }
    fmt::print("{}: {} frame pairs of {}x{}, {} flow, {:.1f} ms per pair; largest motion {:.2f} px{}\n", output, pairs,
               frames.size(3), frames.size(2), vgt::flow::flow_method_name(method), 1e3 * seconds / static_cast<double>(pairs),
               largest,
               as_numbers ? "" : fmt::format(" (drawn fully saturated at {:.2f} px)", scale > 0 ? scale : largest));
    return 0;
}

}  // namespace vgt::cli
