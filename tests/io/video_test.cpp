#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include <vgt/io/npy.hpp>
#include <vgt/io/palette.hpp>
#include <vgt/io/video.hpp>

namespace vgt::test::video_test {

using vgt::test::TempDir;
namespace fs = std::filesystem;

namespace {

[[maybe_unused]] std::vector<char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

[[maybe_unused]] void write_bytes(const std::string& path, const char* data, std::size_t size) {
    std::ofstream(path, std::ios::binary).write(data, static_cast<std::streamsize>(size));
}

/// A smooth moving pattern [T, 3, H, W] in [0.2, 0.8]: what lossy codecs keep well.
Tensor smooth_clip(std::int64_t frames, std::int64_t height, std::int64_t width) {
    Tensor t = Tensor::empty(Shape{frames, 3, height, width});
    float* p = t.data<float>();
    for (std::int64_t f = 0; f < frames; ++f)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t y = 0; y < height; ++y)
                for (std::int64_t x = 0; x < width; ++x)
                    p[((f * 3 + c) * height + y) * width + x] =
                        static_cast<float>(0.5 + 0.3 * std::sin(0.25 * static_cast<double>(x + f) +
                                                                0.2 * static_cast<double>(y) + static_cast<double>(c)));
    return t;
}

/// Frame t is a flat gray of level (40 + 20 t) / 255: frames tell their index.
[[maybe_unused]] Tensor numbered_clip(std::int64_t frames, std::int64_t height, std::int64_t width) {
    Tensor t = Tensor::empty(Shape{frames, 3, height, width});
    float* p = t.data<float>();
    const std::int64_t per_frame = 3 * height * width;
    for (std::int64_t f = 0; f < frames; ++f)
        std::fill(p + f * per_frame, p + (f + 1) * per_frame, static_cast<float>(40 + 20 * f) / 255.0f);
    return t;
}

/// The mean of each frame of [T, C, H, W].
[[maybe_unused]] std::vector<double> frame_means(const Tensor& clip) {
    const auto values = clip.to_vector<double>();
    const std::size_t per = values.size() / static_cast<std::size_t>(clip.size(0));
    std::vector<double> out;
    for (std::size_t f = 0; f < static_cast<std::size_t>(clip.size(0)); ++f) {
        double sum = 0;
        for (std::size_t i = 0; i < per; ++i) sum += values[f * per + i];
        out.push_back(sum / static_cast<double>(per));
    }
    return out;
}

[[maybe_unused]] double psnr(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    double mse = 0;
    for (std::size_t i = 0; i < va.size(); ++i) mse += (va[i] - vb[i]) * (va[i] - vb[i]);
    mse /= static_cast<double>(va.size());
    return mse == 0 ? 1e9 : 10 * std::log10(1.0 / mse);
}

std::vector<std::uint8_t> random_rgb(std::size_t pixels, std::uint32_t seed) {
    std::vector<std::uint8_t> out(3 * pixels);
    std::uint32_t state = seed;
    for (auto& v : out) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<std::uint8_t>(state >> 24);
    }
    return out;
}

}  // namespace

// ----- palettes: plain C++, tested in every build --------------------------------------

TEST_CASE("Median cut keeps up to 256 distinct colours exactly", "[io][palette]") {
    std::vector<std::uint8_t> rgb;
    for (int i = 0; i < 1000; ++i)  // 200 distinct colours, repeated
        for (int v : {(i % 200) * 1, 255 - (i % 200), (i % 200) / 2}) rgb.push_back(static_cast<std::uint8_t>(v));
    const io::Palette palette = io::median_cut_palette(rgb);
    CHECK(palette.colors.size() == 200);
    io::PaletteMapper mapper(palette);
    const auto indices = io::map_to_palette(rgb, 1, 1000, mapper, true);
    for (std::size_t p = 0; p < indices.size(); ++p) {
        const auto& c = palette.colors[indices[p]];
        REQUIRE((c[0] == rgb[3 * p] && c[1] == rgb[3 * p + 1] && c[2] == rgb[3 * p + 2]));
    }
}

TEST_CASE("Median cut fits many colours within a small error", "[io][palette]") {
    // A smooth gradient image with 64 x 64 = 4096 distinct colours.
    std::vector<std::uint8_t> rgb;
    for (int y = 0; y < 64; ++y)
        for (int x = 0; x < 64; ++x)
            for (int v : {4 * x, 4 * y, 255 - 2 * (x + y)}) rgb.push_back(static_cast<std::uint8_t>(v));
    for (int colors : {256, 16}) {
        const io::Palette palette = io::median_cut_palette(rgb, colors);
        CHECK(palette.colors.size() == static_cast<std::size_t>(colors));
        io::PaletteMapper mapper(palette);
        const auto plain = io::map_to_palette(rgb, 64, 64, mapper, false);
        double worst = 0, mean_rgb_error = 0;
        std::array<double, 3> sum_in{}, sum_out{};
        for (std::size_t p = 0; p < plain.size(); ++p)
            for (std::size_t c = 0; c < 3; ++c) {
                const double e = std::abs(double(palette.colors[plain[p]][c]) - double(rgb[3 * p + c]));
                worst = std::max(worst, e);
                mean_rgb_error += e / (3.0 * plain.size());
            }
        // 256 colours over a 2-D colour surface: boxes of about 16 x 16 levels.
        if (colors == 256) {
            CHECK(worst <= 16);
            CHECK(mean_rgb_error < 5);
        } else {
            CHECK(mean_rgb_error < 20);
        }
        // Dithering keeps the image's mean colour.
        const auto dithered = io::map_to_palette(rgb, 64, 64, mapper, true);
        for (std::size_t p = 0; p < dithered.size(); ++p)
            for (std::size_t c = 0; c < 3; ++c) {
                sum_in[c] += rgb[3 * p + c];
                sum_out[c] += palette.colors[dithered[p]][c];
            }
        for (std::size_t c = 0; c < 3; ++c) CHECK(std::abs(sum_in[c] - sum_out[c]) / double(plain.size()) < 1.0);
    }
    // Sampling: at most max_samples pixels decide, all 16 colours still exact.
    std::vector<std::uint8_t> few;
    for (int i = 0; i < 4096; ++i)
        for (int c = 0; c < 3; ++c) few.push_back(static_cast<std::uint8_t>((i / 256) * 16 + c));
    CHECK(io::median_cut_palette(few, 256, 512).colors.size() == 16);
    CHECK_THROWS_WITH(io::median_cut_palette(few, 0), Catch::Contains("median_cut_palette"));
    CHECK_THROWS_WITH(io::median_cut_palette(std::vector<std::uint8_t>{1, 2}), Catch::Contains("median_cut_palette"));
    const auto noise = random_rgb(5000, 7);
    CHECK(io::median_cut_palette(noise).colors.size() == 256);
}

#if VGT_WITH_FFMPEG

TEST_CASE("mp4 (H.264) round trip of a smooth clip", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    const Tensor clip = smooth_clip(8, 16, 16);
    const std::string path = dir.file("clip.mp4");
    const io::WrittenVideo written = io::write_video(path, clip, {.fps = 12});
    CHECK(written.frames == 8);
    CHECK(written.pixel_format == "yuv420p");
    CHECK((written.codec == "libx264" || written.codec == "mpeg4"));
    CHECK(written.bytes == fs::file_size(path));

    const io::Video video = io::read_video(path);
    REQUIRE(video.frames.shape() == clip.shape());
    CHECK(video.frames.dtype() == DType::Float32);
    CHECK(psnr(video.frames, clip) > 30.0);
    CHECK(video.fps == Approx(12.0));
    CHECK(video.info.width == 16);
    CHECK(video.info.height == 16);
    CHECK(video.info.frame_count == 8);
    CHECK(video.info.codec == (written.codec == "libx264" ? "h264" : "mpeg4"));
    CHECK(video.info.duration == Approx(8.0 / 12.0).margin(1e-3));

    const io::VideoInfo info = io::probe_video(path);
    CHECK(info.container.find("mp4") != std::string::npos);
    CHECK(info.fps == Approx(12.0));
    CHECK(io::count_video_frames(path) == 8);

    // Odd sizes: 4:4:4 chroma, same quality.
    const Tensor odd = smooth_clip(4, 15, 17);
    const io::WrittenVideo odd_written = io::write_video(dir.file("odd.mp4"), odd);
    if (odd_written.codec == "libx264") {
        CHECK(odd_written.pixel_format == "yuv444p");
        const io::Video back = io::read_video(dir.file("odd.mp4"));
        REQUIRE(back.frames.shape() == odd.shape());
        CHECK(psnr(back.frames, odd) > 30.0);
    }
    // Gray clips are written as RGB with equal channels; float64 is accepted.
    const Tensor gray = to(slice(smooth_clip(3, 16, 16), 1, 0, 1), DType::Float64);
    io::write_video(dir.file("gray.mp4"), gray);
    const io::Video gray_back = io::read_video(dir.file("gray.mp4"));
    REQUIRE(gray_back.frames.shape() == Shape{3, 3, 16, 16});
    CHECK(psnr(slice(gray_back.frames, 1, 0, 1), gray) > 30.0);
    CHECK(test::max_abs_difference(slice(gray_back.frames, 1, 0, 1), slice(gray_back.frames, 1, 2, 3)) < 0.03);
}

TEST_CASE("Every container vgt writes reads back", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    const Tensor clip = smooth_clip(6, 16, 16);
    struct Case {
        const char* name;
        double fps;
        double min_psnr;
        const char* codec;
    };
    for (const Case& c :
         {Case{"a.mkv", 10, 30, "h264"}, Case{"a.mov", 10, 30, "h264"}, Case{"a.avi", 10, 30, "mpeg4"},
          Case{"a.mpg", 25, 30, "mpeg1video"}, Case{"a.y4m", 10, 40, "rawvideo"}, Case{"A.GIF", 10, 30, "gif"}}) {
        INFO(c.name);
        const std::string path = dir.file(c.name);
        io::write_video(path, clip, {.fps = c.fps});
        const io::Video video = io::read_video(path);
        REQUIRE(video.frames.shape() == clip.shape());
        CHECK(psnr(video.frames, clip) > c.min_psnr);
        CHECK(video.fps == Approx(c.fps));
        if (std::string(c.codec) != "h264" || video.info.codec == "h264") CHECK(video.info.codec == c.codec);
        CHECK(io::count_video_frames(path) == 6);
    }
}

TEST_CASE("Files written by the ffmpeg program decode as ffmpeg decodes them", "[io][video]") {
    // tests/golden/make_video.py: VP9/WebM, MJPEG/AVI (full-range YUV),
    // a palettegen GIF, and H.264 tagged BT.709; ffmpeg's RGB decode of each.
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    for (const char* name : {"h264_bt709.mp4", "vp9.webm", "mjpeg.avi", "palette.gif"}) {
        INFO(name);
        const std::string path = std::string(VGT_GOLDEN_DIR) + "/video/" + name;
        const Tensor expected_hwc = io::read_npy(path + ".rgb.npy");  // uint8 [T, H, W, 3]
        const Tensor expected = permute(to(expected_hwc, DType::Float32), {0, 3, 1, 2});
        const io::Video video = io::read_video(path);
        REQUIRE(video.frames.shape() == Shape{6, 3, 16, 24});
        // Same library, same conversion: equal up to rounding in other FFmpeg versions.
        CHECK(test::max_abs_difference(mul(video.frames, 255.0), expected) <= 3.0);
        CHECK(psnr(video.frames, mul(expected, 1.0 / 255.0)) > 45.0);
        CHECK(video.fps == Approx(10.0));
    }
    // Reading the BT.709 file with BT.601 would shift colours by tens of levels: the tag is honoured.
    CHECK(io::probe_video(std::string(VGT_GOLDEN_DIR) + "/video/h264_bt709.mp4").codec == "h264");
}

TEST_CASE("Frame range, stride and resize", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    const std::string path = dir.file("numbered.y4m");
    io::write_video(path, numbered_clip(9, 8, 12), {.fps = 30});

    const auto level = [](std::int64_t t) { return static_cast<double>(40 + 20 * t) / 255.0; };
    io::Video all = io::read_video(path);
    REQUIRE(all.frames.size(0) == 9);
    const auto means = frame_means(all.frames);
    for (std::int64_t t = 0; t < 9; ++t)
        CHECK(means[static_cast<std::size_t>(t)] == Approx(level(t)).margin(2.0 / 255));

    io::Video some = io::read_video(path, {.first_frame = 2, .max_frames = 3, .stride = 2});
    REQUIRE(some.frames.shape() == Shape{3, 3, 8, 12});
    const auto some_means = frame_means(some.frames);
    CHECK(some_means[0] == Approx(level(2)).margin(2.0 / 255));
    CHECK(some_means[1] == Approx(level(4)).margin(2.0 / 255));
    CHECK(some_means[2] == Approx(level(6)).margin(2.0 / 255));
    CHECK(some.fps == Approx(15.0));

    // The end of the file comes first: frames 5 and 8 of 9.
    CHECK(io::read_video(path, {.first_frame = 5, .stride = 3}).frames.size(0) == 2);
    CHECK(io::read_video(path, {.max_frames = 4}).frames.size(0) == 4);

    // Resize: both given, or one with the aspect ratio kept.
    CHECK(io::read_video(path, {.height = 4, .width = 5}).frames.shape() == Shape{9, 3, 4, 5});
    CHECK(io::read_video(path, {.height = 4}).frames.shape() == Shape{9, 3, 4, 6});
    CHECK(io::read_video(path, {.width = 24}).frames.shape() == Shape{9, 3, 16, 24});
    const io::Video small = io::read_video(path, {.first_frame = 3, .max_frames = 1, .height = 2, .width = 3});
    CHECK(frame_means(small.frames)[0] == Approx(level(3)).margin(2.0 / 255));

    // A smooth clip keeps its look when shrunk by area averaging.
    io::write_video(dir.file("smooth.y4m"), smooth_clip(2, 16, 16));
    const Tensor half = io::read_video(dir.file("smooth.y4m"), {.height = 8, .width = 8}).frames;
    CHECK(frame_means(half)[0] == Approx(frame_means(smooth_clip(2, 16, 16))[0]).margin(0.01));

    CHECK_THROWS_WITH(io::read_video(path, {.first_frame = 9}), Catch::Contains("read_video") &&
                                                                    Catch::Contains("from frame 9") &&
                                                                    Catch::Contains("found 9 frames"));
    CHECK_THROWS_WITH(io::read_video(path, {.stride = 0}), Catch::Contains("read_video") && Catch::Contains("stride"));
    CHECK_THROWS_WITH(io::read_video(path, {.max_frames = 0}), Catch::Contains("max_frames"));
    CHECK_THROWS_WITH(io::read_video(path, {.first_frame = -1}), Catch::Contains("first_frame"));
    CHECK_THROWS_WITH(io::read_video(path, {.height = -2}), Catch::Contains("height"));
}

TEST_CASE("GIF: one palette per clip, exact when the clip has few colours", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    // Four flat colours in quadrants that rotate from frame to frame: exactly k / 255 values.
    const float colors[4][3] = {{1, 0, 0}, {0, 0.5f, 1}, {20 / 255.f, 200 / 255.f, 60 / 255.f}, {1, 1, 1}};
    Tensor blocks = Tensor::empty(Shape{5, 3, 12, 10});
    for (std::int64_t t = 0; t < 5; ++t)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t y = 0; y < 12; ++y)
                for (std::int64_t x = 0; x < 10; ++x)
                    blocks.data<float>()[((t * 3 + c) * 12 + y) * 10 + x] =
                        std::round(colors[(2 * (y / 6) + x / 5 + t) % 4][c] * 255.0f) / 255.0f;
    const io::WrittenVideo written = io::write_video(dir.file("blocks.gif"), blocks, {.fps = 20});
    CHECK(written.codec == "gif");
    CHECK(written.pixel_format == "pal8");
    const io::Video back = io::read_video(dir.file("blocks.gif"));
    REQUIRE(back.frames.shape() == blocks.shape());
    CHECK(back.frames.to_vector<float>() == blocks.to_vector<float>());
    CHECK(back.fps == Approx(20.0));

    // A smooth clip: within the palette's error, dithered or not.
    const Tensor smooth = smooth_clip(6, 24, 24);
    for (bool dither : {false, true}) {
        INFO("dither " << dither);
        io::write_video(dir.file("smooth.gif"), smooth, {.fps = 10, .dither = dither});
        const Tensor frames = io::read_video(dir.file("smooth.gif")).frames;
        REQUIRE(frames.shape() == smooth.shape());
        CHECK(psnr(frames, smooth) > 35.0);
        if (!dither) CHECK(test::max_abs_difference(frames, smooth) < 16.0 / 255);
        const auto got = frame_means(frames), want = frame_means(smooth);
        for (std::size_t t = 0; t < got.size(); ++t) CHECK(got[t] == Approx(want[t]).margin(1.0 / 255));
    }
    CHECK_THROWS_WITH(io::write_video(dir.file("fast.gif"), smooth, {.fps = 120}),
                      Catch::Contains("write_video") && Catch::Contains("fps <= 100"));
}

TEST_CASE("write_video checks its input and writes atomically", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    const std::string path = dir.file("clip.mp4");
    io::write_video(path, smooth_clip(3, 8, 8));
    const auto before = file_bytes(path);

    Tensor with_nan = smooth_clip(3, 8, 8);
    with_nan.data<float>()[3 * 64 * 2 + 5] = std::nanf("");
    CHECK_THROWS_WITH(io::write_video(path, with_nan),
                      Catch::Contains("write_video") && Catch::Contains("NaN in frame 2"));
    CHECK(file_bytes(path) == before);
    io::write_video(path, smooth_clip(5, 8, 8));
    CHECK(file_bytes(path) != before);
    CHECK(dir.names() == std::vector<std::string>{"clip.mp4"});

    CHECK_THROWS_WITH(io::write_video(dir.file("no/such/dir/clip.mp4"), smooth_clip(2, 8, 8)),
                      Catch::Contains("write_video") && Catch::Contains("no/such/dir"));
    CHECK_THROWS_WITH(io::write_video(dir.file("clip.webm"), smooth_clip(2, 8, 8)),
                      Catch::Contains("write_video") && Catch::Contains(".mp4") && Catch::Contains("'.webm'"));
    CHECK_THROWS_WITH(io::write_video(dir.file("clip"), smooth_clip(2, 8, 8)), Catch::Contains("found ''"));
    CHECK_THROWS_WITH(io::write_video(path, Tensor::zeros(Shape{2, 4, 8, 8})),
                      Catch::Contains("write_video") && Catch::Contains("[2, 4, 8, 8]"));
    CHECK_THROWS_WITH(io::write_video(path, Tensor::zeros(Shape{3, 8, 8})), Catch::Contains("[3, 8, 8]"));
    CHECK_THROWS_WITH(io::write_video(path, Tensor::zeros(Shape{0, 3, 8, 8})), Catch::Contains("[0, 3, 8, 8]"));
    CHECK_THROWS_WITH(io::write_video(path, smooth_clip(2, 8, 8), {.fps = 0}), Catch::Contains("fps"));
    CHECK_THROWS_WITH(io::write_video(path, smooth_clip(2, 8, 8), {.crf = 60}), Catch::Contains("crf"));
    CHECK_THROWS_WITH(io::write_video(dir.file("odd.avi"), smooth_clip(2, 7, 8)),
                      Catch::Contains("write_video") && Catch::Contains("even"));
    CHECK_THROWS_WITH(io::write_video(dir.file("bad.mpg"), smooth_clip(2, 8, 8), {.fps = 7}),
                      Catch::Contains("write_video") && Catch::Contains("avcodec_open2"));
    CHECK(dir.names() == std::vector<std::string>{"clip.mp4"});
}

TEST_CASE("Truncated video files: an error or the frames before the cut, never wrong pixels", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    const Tensor clip = smooth_clip(6, 16, 16);
    for (const char* name : {"t.mp4", "t.mkv", "t.avi", "t.gif", "t.y4m", "t.mpg"}) {
        INFO(name);
        const std::string path = dir.file(name);
        io::write_video(path, clip, {.fps = 25});
        const Tensor full = io::read_video(path).frames;
        const auto bytes = file_bytes(path);
        const std::string cut = dir.file(std::string("cut-") + name);
        int errors = 0;
        // Every length in the first 32 bytes, then 40 spread over the rest.
        std::vector<std::size_t> lengths;
        for (std::size_t n = 0; n < 32; ++n) lengths.push_back(n);
        for (std::size_t k = 0; k < 40; ++k) lengths.push_back(32 + (bytes.size() - 33) * k / 39);
        for (const std::size_t n : lengths) {
            INFO("cut to " << n << " of " << bytes.size() << " bytes");
            write_bytes(cut, bytes.data(), n);
            try {
                const Tensor got = io::read_video(cut).frames;
                // What decodes is a prefix of the clip, pixel for pixel.
                REQUIRE(got.size(0) <= full.size(0));
                CHECK(got.to_vector<float>() == slice(full, 0, 0, got.size(0)).to_vector<float>());
                // Containers with an index or a declared duration notice any missing frame.
                const std::string n(name);
                if (n == "t.mp4" || n == "t.mkv" || n == "t.avi") CHECK(got.size(0) == full.size(0));
            } catch (const Error& e) {
                ++errors;
                CHECK_THAT(e.what(), Catch::Contains("read_video") && Catch::Contains(cut));
            }
        }
        CHECK(errors > 30);
    }
    // Half an mp4: the index (at the end) is gone.
    const auto bytes = file_bytes(dir.file("t.mp4"));
    write_bytes(dir.file("half.mp4"), bytes.data(), bytes.size() / 2);
    CHECK_THROWS_WITH(io::read_video(dir.file("half.mp4")), Catch::Contains("read_video") &&
                                                                Catch::Contains("avformat_open_input") &&
                                                                Catch::Contains("moov atom not found"));
    CHECK_THROWS_WITH(io::count_video_frames(dir.file("half.mp4")), Catch::Contains("count_video_frames"));
    // A y4m cut inside a frame.
    const auto raw = file_bytes(dir.file("t.y4m"));
    write_bytes(dir.file("cut.y4m"), raw.data(), raw.size() - 100);
    CHECK_THROWS_WITH(io::read_video(dir.file("cut.y4m")), Catch::Contains("cut short"));
    CHECK(io::read_video(dir.file("cut.y4m"), {.strict = false}).frames.size(0) == 5);
}

TEST_CASE("Corrupted video files: an error or frames of the right size, never a crash", "[io][video]") {
    io::set_ffmpeg_log_level(io::FfmpegLogLevel::quiet);
    TempDir dir;
    const Tensor clip = smooth_clip(4, 16, 16);
    for (const char* name : {"c.mp4", "c.avi", "c.gif", "c.mkv"}) {
        INFO(name);
        const std::string path = dir.file(name);
        io::write_video(path, clip, {.fps = 25});
        const auto bytes = file_bytes(path);
        const std::string bad_path = dir.file(std::string("bad-") + name);
        std::uint32_t state = 12345;
        for (int trial = 0; trial < 40; ++trial) {
            std::vector<char> bad = bytes;
            for (int flips = 0; flips < 1 + trial % 4; ++flips) {
                state = state * 1664525u + 1013904223u;
                bad[state % bad.size()] ^= static_cast<char>(1 + (state >> 24) % 255);
            }
            write_bytes(bad_path, bad.data(), bad.size());
            try {
                const Tensor got = io::read_video(bad_path).frames;
                CHECK(got.size(1) == 3);
                CHECK(got.size(0) >= 1);
                CHECK(got.size(0) <= 64);
            } catch (const Error& e) {
                CHECK_THAT(e.what(), Catch::Contains("read_video"));
            }
        }
    }
    // Not a video at all.
    const std::string text = dir.file("text.mp4");
    { std::ofstream(text) << "this is not a video file, just some text"; }
    CHECK_THROWS_WITH(io::read_video(text), Catch::Contains("read_video") && Catch::Contains("text.mp4"));
    write_bytes(dir.file("empty.avi"), "", 0);
    CHECK_THROWS_WITH(io::read_video(dir.file("empty.avi")), Catch::Contains("read_video"));
    CHECK_THROWS_WITH(io::read_video(dir.file("missing.mp4")),
                      Catch::Contains("read_video") && Catch::Contains("missing.mp4") && Catch::Contains("found none"));
    CHECK_THROWS_WITH(io::read_video(dir.path.string()), Catch::Contains("directory"));
    CHECK_THROWS_WITH(io::probe_video(text), Catch::Contains("probe_video"));
}

#else  // built without FFmpeg: every entry point says so

TEST_CASE("Without FFmpeg the video functions say how to get them", "[io][video]") {
    STATIC_REQUIRE_FALSE(io::video_io_available());
    const Tensor clip = smooth_clip(2, 8, 8);
    CHECK_THROWS_WITH(io::write_video("/tmp/x.mp4", clip), Catch::Contains("write_video") &&
                                                               Catch::Contains("without FFmpeg") &&
                                                               Catch::Contains("VGT_WITH_FFMPEG"));
    CHECK_THROWS_WITH(io::read_video("/tmp/x.mp4"), Catch::Contains("read_video") && Catch::Contains("without FFmpeg"));
    CHECK_THROWS_WITH(io::probe_video("/tmp/x.mp4"),
                      Catch::Contains("probe_video") && Catch::Contains("without FFmpeg"));
    CHECK_THROWS_WITH(io::count_video_frames("/tmp/x.mp4"), Catch::Contains("without FFmpeg"));
    // Argument errors still come first.
    CHECK_THROWS_WITH(io::write_video("/tmp/x.mp4", Tensor::zeros(Shape{3, 8, 8})), Catch::Contains("[3, 8, 8]"));
}

#endif

}  // namespace vgt::test::video_test
