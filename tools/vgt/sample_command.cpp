// `vgt sample [--checkpoint CKPT] --prompt TEXT --out FILE`: videos from a
// text-to-video checkpoint (docs/training.md), with the EMA weights when the
// checkpoint has them; without one, from the model bundled with vgt.

#include <cmath>
#include <filesystem>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/diffusion/sampler.hpp"
#include "vgt/experiment/checkpoint.hpp"
#include "vgt/experiment/trainer.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/video.hpp"
#include "vgt/nn/parameters.hpp"

namespace vgt::cli {

namespace {

constexpr const char* kBundledModelName = "moving_shapes_t2v.safetensors";

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The model `vgt sample` uses without --checkpoint: the one in the source
/// tree this program was built from, else the one installed beside it
/// (<prefix>/share/vgt/models, the program being <prefix>/bin/vgt).
std::string bundled_model() {
    std::vector<std::filesystem::path> candidates;
#if defined(VGT_BUNDLED_MODEL)
    candidates.emplace_back(VGT_BUNDLED_MODEL);
#endif
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) candidates.push_back(self.parent_path().parent_path() / "share/vgt/models" / kBundledModelName);
    std::vector<std::string> tried;
    for (const auto& c : candidates) {
        if (std::filesystem::is_regular_file(c, error)) return c.string();
        tried.push_back(c.string());
    }
    throw vgt::Error(fmt::format("vgt sample: expected --checkpoint, or the bundled model at {}, found none",
                                 fmt::join(tried, " or ")));
}

}  // namespace

int command_sample(Flags& flags) {
    flags.apply_threads();
    const std::optional<std::string> given = flags.get("checkpoint");
    const std::string path = given ? *given : bundled_model();
    experiment::SampleRequest request;
    request.prompts = {flags.required("prompt")};
    const std::string out = flags.required("out");
    request.frames = flags.integer("frames", 0, 1);
    request.steps = flags.integer("steps", 0, 1);
    if (const auto sampler = flags.get("sampler")) request.sampler = diffusion::parse_sampler_kind(*sampler);
    request.guidance = flags.number("guidance");
    request.temporal_guidance = flags.number("temporal-guidance");
    request.seed = static_cast<std::uint64_t>(flags.integer("seed", 0, 0));
    const bool training_weights = flags.flag("no-ema");
    const double fps = flags.number("fps").value_or(8.0);
    flags.require_all_used();
    if (!ends_with(out, ".npy") && !io::video_io_available())
        throw vgt::Error(fmt::format("vgt sample: '{}': this vgt was built without FFmpeg; write an .npy instead", out));

    experiment::Checkpoint checkpoint = experiment::read_checkpoint(path);
    const bool ema = !training_weights && experiment::use_ema_weights(checkpoint);
    const Tensor videos = checkpoint.model.sample(request);  // [1, T, C, H, W]
    if (ends_with(out, ".npy"))
        io::write_npy(out, videos);
    else
        io::write_video(out, experiment::tile_side_by_side(videos), {.fps = fps});
    fmt::print("{}: {} frames of {}x{} from step {} ({} weights)\n", out, videos.size(1), videos.size(3),
               videos.size(4), checkpoint.step, ema ? "EMA" : training_weights ? "training" : "stored");
    return 0;
}

}  // namespace vgt::cli
