// `vgt edit --checkpoint CKPT --input VIDEO --prompt TEXT --out FILE`:
// Gen-1's video-to-video editing (docs/training.md). The checkpoint's model
// must have been trained with structure conditioning; the input video's
// structure map (at --structure-level) conditions every denoising step, and
// the prompt (and, for a content model, a --reference image) says what it
// should look like. The EMA weights are used when the checkpoint has them.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/experiment/trainer.hpp"
#include "vgt/io/image.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/video.hpp"
#include "vgt/models/structure_map.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/resample.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::cli {

namespace {

constexpr std::string_view kEditOp = "vgt edit";

bool has_suffix(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Images [N, C, H, W] with C turned into `channels`: RGB to grey by BT.601
/// luma, grey to RGB by repetition; other changes are errors.
Tensor with_channels(const Tensor& images, std::int64_t channels, const std::string& path) {
    const std::int64_t c = images.size(1);
    if (c == channels) return images;
    if (c == 3 && channels == 1) {
        const Tensor y = models::luma(unsqueeze(images, 0));  // [1, N, 1, H, W]
        return select(y, 0, 0);
    }
    if (c == 1 && channels == 3)
        return contiguous(expand(images, Shape{images.size(0), 3, images.size(2), images.size(3)}));
    throw vgt::Error(fmt::format("{}: '{}': expected {} channels (or 1 or 3, converted), found {}", kEditOp, path,
                                 channels, c));
}

/// Images [N, C, H, W] resized bilinearly to height × width (as they are when the sizes match).
Tensor resized(const Tensor& images, std::int64_t height, std::int64_t width) {
    if (images.size(2) == height && images.size(3) == width) return images;
    return clamp(upsample_bilinear(images, height, width), 0.0, 1.0);
}

/// The first `frames` frames of a video file or an .npy [T, C, H, W] (or
/// [1, T, C, H, W]) in [0, 1], as float32 [frames, channels, height, width].
Tensor read_source(const std::string& path, std::int64_t frames, std::int64_t channels, std::int64_t height,
                   std::int64_t width) {
    Tensor video;
    if (has_suffix(path, ".npy")) {
        video = io::read_npy(path);
        if (video.rank() == 5 && video.size(0) == 1) video = select(video, 0, 0);
        VGT_CHECK(video.rank() == 4 && is_floating(video.dtype()), kEditOp,
                  "'{}': expected a float video [T, C, H, W] in [0, 1] (or one clip [1, T, C, H, W]), found {}", path,
                  video.str());
        video = to(slice(video, 0, 0, std::min(frames, video.size(0))), DType::Float32);
    } else {
        VGT_CHECK(io::video_io_available(), kEditOp,
                  "'{}': this vgt was built without FFmpeg; give the input as an .npy [T, C, H, W] in [0, 1]", path);
        io::ReadOptions read;
        read.max_frames = frames;
        read.height = height;
        read.width = width;
        video = io::read_video(path, read).frames;
    }
    VGT_CHECK(video.size(0) == frames, kEditOp,
              "'{}': expected at least {} frames (the model's, or --frames), found {}", path, frames, video.size(0));
    return contiguous(resized(with_channels(video, channels, path), height, width));
}

/// A reference image (PNG, JPEG, or an .npy [C, H, W] in [0, 1]) as float32 [1, channels, height, width].
Tensor read_reference(const std::string& path, std::int64_t channels, std::int64_t height, std::int64_t width) {
    Tensor image = has_suffix(path, ".npy") ? io::read_npy(path) : io::read_image(path);
    VGT_CHECK(image.rank() == 3 && is_floating(image.dtype()), kEditOp,
              "'{}': expected a float image [C, H, W] in [0, 1], found {}", path, image.str());
    image = to(unsqueeze(image, 0), DType::Float32);
    if (image.size(1) == 4) image = slice(image, 1, 0, 3);  // drop alpha
    return contiguous(resized(with_channels(image, channels, path), height, width));
}

}  // namespace

int command_edit(Flags& flags) {
    flags.apply_threads();
    const std::string path = flags.required("checkpoint");
    const std::string input = flags.required("input");
    experiment::SampleRequest request;
    request.prompts = {flags.required("prompt")};
    const std::string out = flags.required("out");
    const std::int64_t frames_flag = flags.integer("frames", 0, 1);
    request.structure_level = flags.integer("structure-level", 0, 0);
    request.steps = flags.integer("steps", 0, 1);
    if (const auto sampler = flags.get("sampler")) request.sampler = diffusion::parse_sampler_kind(*sampler);
    request.guidance = flags.number("guidance");
    request.temporal_guidance = flags.number("temporal-guidance");
    request.seed = static_cast<std::uint64_t>(flags.integer("seed", 0, 0));
    const std::optional<std::string> reference = flags.get("reference");
    const bool training_weights = flags.flag("no-ema");
    const double fps = flags.number("fps").value_or(8.0);
    flags.require_all_used();
    VGT_CHECK(fps > 0, kEditOp, "expected a positive --fps, found {}", fps);
    VGT_CHECK(has_suffix(out, ".npy") || io::video_io_available(), kEditOp,
              "'{}': this vgt was built without FFmpeg; write an .npy instead", out);

    experiment::Checkpoint checkpoint = experiment::read_checkpoint(path);
    const experiment::TrainConfig& config = checkpoint.model.config();
    VGT_CHECK(config.conditioning.structure, kEditOp,
              "'{}' was trained without structure conditioning; train with conditioning.structure = true", path);
    VGT_CHECK(!reference || config.conditioning.content, kEditOp,
              "'{}' was trained without content conditioning, so --reference has no effect; train with "
              "conditioning.content = true or leave --reference out",
              path);
    const experiment::VideoGeometry g = experiment::video_geometry(config.data);
    const std::int64_t frames = frames_flag > 0 ? frames_flag : g.frames;
    request.source = unsqueeze(read_source(input, frames, g.channels, g.height, g.width), 0);
    if (reference) request.reference = read_reference(*reference, g.channels, g.height, g.width);

    const bool ema = !training_weights && experiment::use_ema_weights(checkpoint);
    const Tensor videos = checkpoint.model.sample(request);  // [1, T, C, H, W]
    if (has_suffix(out, ".npy"))
        io::write_npy(out, videos);
    else
        io::write_video(out, experiment::tile_side_by_side(videos), {.fps = fps});
    fmt::print("{}: {} frames of {}x{} edited from '{}' at structure level {}, step {} ({} weights)\n", out,
               videos.size(1), videos.size(3), videos.size(4), input, request.structure_level, checkpoint.step,
               ema ? "EMA" : training_weights ? "training" : "stored");
    return 0;
}

}  // namespace vgt::cli
