// `vgt info`: how this program was built and which devices it can use.

#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/build_info.hpp"

namespace vgt::cli {

int command_info(Flags& flags) {
    flags.apply_threads();
    const bool json = flags.flag("json");
    flags.require_all_used();

    const BuildInfo b = build_info();
    std::string why_no_gpu;
    const std::vector<GpuInfo> devices = gpus(&why_no_gpu);

    if (json) {
        nlohmann::json gpu_list = nlohmann::json::array();
        for (const GpuInfo& g : devices)
            gpu_list.push_back({{"index", g.index},
                                {"name", g.name},
                                {"memory_bytes", g.memory_bytes},
                                {"compute_capability", fmt::format("{}.{}", g.compute_major, g.compute_minor)},
                                {"multiprocessors", g.multiprocessors}});
        nlohmann::json out = {{"version", b.version},
                              {"compiler", b.compiler},
                              {"vector_instructions", b.vector_instructions},
                              {"eigen", b.eigen},
                              {"cuda", b.cuda},
                              {"ffmpeg", b.ffmpeg},
                              {"zlib", b.zlib},
                              {"threads", b.threads},
                              {"hardware_threads", b.hardware_threads},
                              {"gpus", gpu_list}};
        if (devices.empty()) out["no_gpu_because"] = why_no_gpu;
        fmt::print("{}\n", out.dump(1));
        return 0;
    }

    const auto yes_no = [](bool on, const char* what) { return on ? fmt::format("yes ({})", what) : std::string("no"); };
    fmt::print("vgt {}\n", b.version);
    fmt::print("  compiler      {}, vector instructions: {}, Eigen {}\n", b.compiler, b.vector_instructions, b.eigen);
    fmt::print("  CPU threads   {} of {} hardware threads (--threads N to change)\n", b.threads, b.hardware_threads);
    fmt::print("  CUDA          {}\n", yes_no(b.cuda, "compiled in"));
    fmt::print("  FFmpeg        {}\n", yes_no(b.ffmpeg, "video files: mp4, avi, gif, ..."));
    fmt::print("  zlib          {}\n", yes_no(b.zlib, "gzip-compressed files"));
    if (devices.empty()) {
        fmt::print("  GPUs          none: {}\n", why_no_gpu);
    } else {
        for (const GpuInfo& g : devices)
            fmt::print("  GPU {}         {}, {} MiB, compute capability {}.{}, {} multiprocessors\n", g.index, g.name,
                       g.memory_bytes >> 20, g.compute_major, g.compute_minor, g.multiprocessors);
    }
    return 0;
}

}  // namespace vgt::cli
