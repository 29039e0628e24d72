#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <vgt/data/dataset.hpp>
#include <vgt/data/video_folder.hpp>

namespace vgt::test::video_folder_test {

using vgt::test::TempDir;
namespace fs = std::filesystem;

static_assert(data::Dataset<data::VideoFolder>);
static_assert(std::is_same_v<data::clip_type_t<data::VideoFolder>, data::VideoFolderClip>);

TEST_CASE("Clip counts and read sizes", "[data][video_folder]") {
    using data::detail::clips_in_video;
    // 10 frames, clips of 4 consecutive frames, back to back: starts 0 and 4.
    CHECK(clips_in_video(10, 4, 1, 4) == 2);
    // Overlapping clips starting every frame: starts 0..6.
    CHECK(clips_in_video(10, 4, 1, 1) == 7);
    // Every other frame: a clip spans 7 frames; the second, frames 7..13, needs 14.
    CHECK(clips_in_video(10, 4, 2, 7) == 1);
    CHECK(clips_in_video(13, 4, 2, 7) == 1);
    CHECK(clips_in_video(14, 4, 2, 7) == 2);
    CHECK(clips_in_video(3, 4, 1, 4) == 0);
    CHECK(clips_in_video(4, 4, 1, 4) == 1);

    using data::detail::video_read_size;
    // Crop: cover 32 x 32 from 48 x 64 (landscape) -> 32 x 43, then cut the centre.
    CHECK(video_read_size(48, 64, 32, 32, data::VideoFit::crop) == std::pair<std::int64_t, std::int64_t>{32, 43});
    CHECK(video_read_size(64, 48, 32, 32, data::VideoFit::crop) == std::pair<std::int64_t, std::int64_t>{43, 32});
    CHECK(video_read_size(16, 16, 32, 64, data::VideoFit::crop) == std::pair<std::int64_t, std::int64_t>{64, 64});
    CHECK(video_read_size(48, 64, 32, 32, data::VideoFit::stretch) == std::pair<std::int64_t, std::int64_t>{32, 32});

    CHECK(data::detail::caption_path("/data/clips/walk.mp4") == "/data/clips/walk.txt");
}

TEST_CASE("Captions from sidecar files", "[data][video_folder]") {
    TempDir dir;
    { std::ofstream(dir.file("a.txt")) << "\xEF\xBB\xBF  a red circle moving left \n\n"; }
    std::string caption;
    CHECK(data::detail::read_caption(dir.file("a.txt"), caption));
    CHECK(caption == "a red circle moving left");
    CHECK_FALSE(data::detail::read_caption(dir.file("missing.txt"), caption));
    CHECK_FALSE(data::detail::read_caption(dir.path.string(), caption));  // a folder is not a caption file
}

#if VGT_WITH_FFMPEG

namespace {

/// Frame t of video v is a flat colour (v, t) / 255-ish: frames tell where they came from.
Tensor flat_clip(std::int64_t frames, std::int64_t height, std::int64_t width, int video) {
    Tensor t = Tensor::empty(Shape{frames, 3, height, width});
    float* p = t.data<float>();
    const std::int64_t plane = height * width;
    for (std::int64_t f = 0; f < frames; ++f)
        for (std::int64_t c = 0; c < 3; ++c)
            std::fill(p + (f * 3 + c) * plane, p + (f * 3 + c + 1) * plane,
                      static_cast<float>(c == 0   ? 30 + 20 * f
                                         : c == 1 ? 40 + 60 * video
                                                  : 128) /
                          255.0f);
    return t;
}

double channel_mean(const Tensor& clip, std::int64_t frame, std::int64_t channel) {
    const Tensor plane = contiguous(select(select(clip, 0, frame), 0, channel));
    const auto values = plane.to_vector<double>();
    double sum = 0;
    for (double v : values) sum += v;
    return sum / static_cast<double>(values.size());
}

}  // namespace

TEST_CASE("VideoFolder cuts clips from every video", "[data][video_folder]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    fs::create_directories(dir.path / "sub");
    // b: 9 frames 16 x 24 (y4m), a: 5 frames 16 x 16 (mp4), sub/c: 2 frames (too short), notes.md ignored.
    io::write_video(dir.file("b.y4m"), flat_clip(9, 16, 24, 1), {.fps = 20});
    io::write_video(dir.file("a.mp4"), flat_clip(5, 16, 16, 0), {.fps = 10});
    io::write_video(dir.file("sub/c.gif"), flat_clip(2, 8, 8, 2), {.fps = 10});
    { std::ofstream(dir.file("notes.md")) << "not a video"; }
    { std::ofstream(dir.file("b.txt")) << "stripes of colour\n"; }

    data::VideoFolderOptions options;
    options.frames = 3;
    options.height = 8;
    options.width = 8;
    options.default_caption = "a video";
    data::VideoFolder folder(dir.path.string(), options);

    const auto& videos = folder.videos();
    REQUIRE(videos.size() == 3);
    CHECK(fs::path(videos[0].path).filename() == "a.mp4");
    CHECK(fs::path(videos[1].path).filename() == "b.y4m");
    CHECK(fs::path(videos[2].path).filename() == "c.gif");
    CHECK(videos[0].frames == 5);
    CHECK(videos[1].frames == 9);
    CHECK(videos[2].frames == 2);
    CHECK(videos[0].clips == 1);  // frames 0-2
    CHECK(videos[1].clips == 3);  // frames 0-2, 3-5, 6-8
    CHECK(videos[2].clips == 0);
    CHECK(videos[1].width == 24);
    CHECK(folder.size() == 4);

    CHECK(folder.locate(0) == std::pair<std::size_t, std::int64_t>{0, 0});
    CHECK(folder.locate(3) == std::pair<std::size_t, std::int64_t>{1, 2});

    const data::VideoFolderClip first = folder.get(0);
    CHECK(first.video.shape() == Shape{3, 3, 8, 8});
    CHECK(first.video.dtype() == DType::Float32);
    CHECK(first.caption == "a video");
    CHECK(first.first_frame == 0);
    CHECK(first.fps == Approx(10.0));

    // Clip 3 is frames 6, 7, 8 of b, cropped from 16 x 24 (read at 8 x 12) to 8 x 8.
    const data::VideoFolderClip last = folder.get(3);
    CHECK(last.video.shape() == Shape{3, 3, 8, 8});
    CHECK(last.caption == "stripes of colour");
    CHECK(last.first_frame == 6);
    for (std::int64_t t = 0; t < 3; ++t) {
        CHECK(channel_mean(last.video, t, 0) == Approx((30.0 + 20.0 * (6 + t)) / 255.0).margin(3.0 / 255));
        CHECK(channel_mean(last.video, t, 1) == Approx(100.0 / 255.0).margin(3.0 / 255));
    }
    // Deterministic: the same index gives the same clip.
    CHECK(folder.get(2).video.to_vector<float>() == folder.get(2).video.to_vector<float>());

    CHECK_THROWS_WITH(folder.get(4), Catch::Contains("VideoFolder::get") && Catch::Contains("[0, 4)"));
    CHECK_THROWS_WITH(folder.get(-1), Catch::Contains("VideoFolder::get"));
}

TEST_CASE("VideoFolder options: strides, stretch, gray, captions required", "[data][video_folder]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    io::write_video(dir.file("v.y4m"), flat_clip(10, 16, 24, 1), {.fps = 20});
    fs::create_directories(dir.path / "deeper");
    io::write_video(dir.file("deeper/w.y4m"), flat_clip(10, 16, 16, 2), {.fps = 20});

    data::VideoFolderOptions options;
    options.frames = 3;
    options.frame_stride = 2;  // span 5
    options.clip_stride = 2;   // starts 0, 2, 4
    options.height = 4;
    options.width = 6;
    options.fit = data::VideoFit::stretch;
    options.channels = 1;
    options.recursive = false;
    data::VideoFolder folder(dir.path.string(), options);
    REQUIRE(folder.videos().size() == 1);
    CHECK(folder.size() == 3);
    const data::VideoFolderClip clip = folder.get(2);
    CHECK(clip.video.shape() == Shape{3, 1, 4, 6});
    CHECK(clip.first_frame == 4);
    CHECK(clip.fps == Approx(10.0));
    // Luma of frame 4 + 2 t: 0.299 R + 0.587 G + 0.114 B.
    for (std::int64_t t = 0; t < 3; ++t) {
        const double r = (30.0 + 20.0 * (4 + 2 * t)) / 255.0, g = 100.0 / 255.0, b = 128.0 / 255.0;
        CHECK(channel_mean(clip.video, t, 0) == Approx(0.299 * r + 0.587 * g + 0.114 * b).margin(3.0 / 255));
    }

    options.recursive = true;
    CHECK(data::VideoFolder(dir.path.string(), options).size() == 6);

    options.require_captions = true;
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string(), options), Catch::Contains("VideoFolder") &&
                                                                         Catch::Contains("w.txt") &&
                                                                         Catch::Contains("require_captions"));
    options.require_captions = false;

    options.frames = 20;
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string(), options), Catch::Contains("VideoFolder") &&
                                                                         Catch::Contains("at least 39 frames") &&
                                                                         Catch::Contains("at most 10 frames"));
}

TEST_CASE("VideoFolder errors", "[data][video_folder]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    CHECK_THROWS_WITH(data::VideoFolder(dir.file("missing")),
                      Catch::Contains("VideoFolder") && Catch::Contains("found nothing"));
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string()),
                      Catch::Contains("VideoFolder") && Catch::Contains("found none") && Catch::Contains(".mp4"));
    data::VideoFolderOptions bad;
    bad.channels = 2;
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string(), bad), Catch::Contains("channels"));
    bad = {};
    bad.frames = 0;
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string(), bad), Catch::Contains("frames >= 1"));

    // A damaged file is named at construction.
    { std::ofstream(dir.file("broken.mp4")) << "not really an mp4"; }
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string()),
                      Catch::Contains("broken.mp4") && Catch::Contains("probe_video"));
}

#else  // built without FFmpeg

TEST_CASE("Without FFmpeg VideoFolder says how to get it", "[data][video_folder]") {
    TempDir dir;
    CHECK_THROWS_WITH(data::VideoFolder(dir.path.string()),
                      Catch::Contains("VideoFolder") && Catch::Contains("without FFmpeg"));
}

#endif

}  // namespace vgt::test::video_folder_test
