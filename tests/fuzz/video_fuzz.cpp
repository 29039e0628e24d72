// libFuzzer target: vgt::io::read_video and count_video_frames (FFmpeg's
// demuxers and decoders behind vgt's checks) on arbitrary files (tools/fuzz
// runs it; docs/robustness.md). Frames or a vgt::Error are the only
// acceptable outcome: any other exception escapes to libFuzzer, which reports
// it, and ASan / UBSan report bad memory accesses and undefined behaviour in
// vgt's code (FFmpeg's own libraries are not instrumented).
//
// Input layout: the first byte chooses the file name's extension (bits 0-2:
// FFmpeg's probing weighs it) and strict or tolerant decoding (bit 3); the
// rest is the file. The reader takes paths only, so each input is written to
// a per-process file in $VGT_FUZZ_TMPDIR (tools/fuzz sets it), else $TMPDIR,
// else /tmp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

#include "fuzz_support.hpp"

#include <vgt/io/video.hpp>

static_assert(vgt::io::video_io_available(),
              "video_fuzz needs vgt built with FFmpeg: define VGT_WITH_FFMPEG=1 and link libavformat, libavcodec, "
              "libswscale and libavutil");

namespace {

constexpr std::array<const char*, 8> kExtensions = {".mp4", ".mkv", ".avi", ".gif", ".y4m", ".mpg", ".webm", ".mov"};

volatile float sink = 0;  // keeps the reads of the decoded values

std::string temp_dir() {
    for (const char* name : {"VGT_FUZZ_TMPDIR", "TMPDIR"})
        if (const char* dir = std::getenv(name); dir != nullptr && *dir != '\0') return dir;
    return "/tmp";
}

std::string input_stem;  // <dir>/video_fuzz-<pid>

[[noreturn]] void finding(const char* what) { vgt::fuzz::report_finding("video_fuzz", what); }

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    vgt::io::set_ffmpeg_log_level(vgt::io::FfmpegLogLevel::quiet);
    input_stem = temp_dir() + "/video_fuzz-" + std::to_string(::getpid());
    // A directory that cannot be written would make every input a silent no-op.
    const std::string probe = input_stem + ".probe";
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (f == nullptr) {
        std::fprintf(stderr, "video_fuzz: cannot write temporary files in '%s' (set VGT_FUZZ_TMPDIR)\n",
                     temp_dir().c_str());
        std::exit(2);
    }
    std::fclose(f);
    std::remove(probe.c_str());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string path = input_stem + kExtensions[data[0] % kExtensions.size()];
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data + 1, 1, size - 1, f) != size - 1 || std::fclose(f) != 0)
        finding("could not write the input file");

    vgt::io::ReadOptions options;
    options.max_frames = 8;
    options.height = 16;
    options.width = 16;
    options.strict = (data[0] & 8) == 0;
    try {
        const vgt::io::Video video = vgt::io::read_video(path, options);
        const vgt::Tensor& frames = video.frames;
        if (frames.rank() != 4 || frames.size(0) < 1 || frames.size(0) > 8 || frames.size(1) != 3 ||
            frames.size(2) != 16 || frames.size(3) != 16 || frames.dtype() != vgt::DType::Float32)
            finding("read_video returned frames that are not float32 [1..8, 3, 16, 16]");
        const float* p = frames.data<float>();
        float sum = 0;
        for (std::int64_t i = 0; i < frames.numel(); ++i) {
            if (!(p[i] >= 0.0f && p[i] <= 1.0f)) finding("read_video returned a value outside [0, 1]");
            sum += p[i];
        }
        sink = sink + sum;
    } catch (const vgt::Error&) {
    }
    try {
        if (vgt::io::count_video_frames(path) < 0) finding("count_video_frames returned a negative count");
    } catch (const vgt::Error&) {
    }
    std::remove(path.c_str());
    return 0;
}
