#pragma once
// Video files in and out through FFmpeg's libraries (libavformat,
// libavcodec, libswscale, libavutil).
//
// read_video decodes anything FFmpeg reads (mp4, mov, mkv, avi, mpeg, gif,
// y4m, webm, ...) into a float32 tensor [T, 3, H, W] in [0, 1], with a frame
// range, a stride and a resize. write_video writes a clip as H.264 in mp4
// (mov, mkv), as animated GIF with a palette made for the clip, and, mostly
// for exchange and tests, as MPEG-4 Part 2 in avi, MPEG-1 in mpg and raw
// frames in y4m; the extension picks the container.
//
// The video build is optional: vgt's CMake defines VGT_WITH_FFMPEG=1 and links
// the libraries when pkg-config finds them. Without it this header still
// compiles, video_io_available() is false and the functions throw a
// vgt::Error saying so.
//
// Untrusted files: every FFmpeg call is checked, and a failure is a
// vgt::Error naming the operation, the file, the call, FFmpeg's error text
// and the last message FFmpeg logged about it. Decoding is strict by
// default: a decoding error, a packet the demuxer marks corrupt, or fewer
// packets than the container's index lists (a truncated file) is an error,
// not a silently shorter or damaged clip. All FFmpeg resources are owned by
// RAII handles and released on every path.
//
// FFmpeg's own logging: on first use vgt routes FFmpeg's log through a
// callback that keeps recent messages for error texts and prints nothing
// (set_ffmpeg_log_level changes that). The callback is process-wide: a
// program that installs its own with av_log_set_callback afterwards wins.

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/io/file.hpp"
#include "vgt/io/palette.hpp"
#include "vgt/ops/view.hpp"

#if defined(VGT_WITH_FFMPEG) && VGT_WITH_FFMPEG
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}
#define VGT_VIDEO_IO 1
#else
#define VGT_VIDEO_IO 0
#endif

namespace vgt::io {

/// What a video file says about itself.
struct VideoInfo {
    std::int64_t width = 0;  // stored picture size (no rotation or aspect applied)
    std::int64_t height = 0;
    double fps = 0;                 // average frame rate; 0 when the file gives none
    std::int64_t frame_count = -1;  // frames the container's index lists; -1 when it has none
    double duration = 0;            // seconds; 0 when unknown
    std::string container;          // FFmpeg's demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2", "gif"
    std::string codec;              // the decoder, e.g. "h264", "gif"
};

/// Which frames read_video keeps and at what size.
struct ReadOptions {
    std::int64_t first_frame = 0;  // index of the first frame kept (display order, from 0)
    std::int64_t max_frames = -1;  // keep at most this many; -1: to the end
    std::int64_t stride = 1;       // keep every stride-th frame from first_frame
    std::int64_t height = 0;       // output size; 0 keeps the source's, and with only one of the two
    std::int64_t width = 0;        //   given the other follows the aspect ratio
    bool strict = true;            // false: decoding errors and truncation are tolerated (damaged
                                   //   frames as the decoder conceals them, a cut file's frames up to the cut)
};

/// A decoded clip.
struct Video {
    Tensor frames;   // float32 [T, 3, H, W] in [0, 1]
    double fps = 0;  // rate of `frames`: the source's divided by the stride (0 when unknown)
    VideoInfo info;  // of the file
};

/// How write_video encodes.
struct WriteOptions {
    double fps = 24;
    int crf = 18;                   // H.264 quality, 0 (lossless) to 51; lower is better. MPEG-4 / MPEG-1
                                    //   use quantiser max(1, round(crf / 6)).
    bool dither = true;             // GIF: Floyd–Steinberg error diffusion onto the palette
    std::string preset = "medium";  // H.264 (libx264) speed / size trade-off
};

/// What write_video produced.
struct WrittenVideo {
    std::string codec;         // encoder used, e.g. "libx264", "mpeg4", "gif"
    std::string pixel_format;  // e.g. "yuv420p", "yuv444p", "pal8"
    std::int64_t frames = 0;
    std::size_t bytes = 0;
};

/// How much of FFmpeg's own log reaches stderr (messages are kept for error texts either way).
enum class FfmpegLogLevel { quiet, errors, warnings, info };

/// True when vgt was built with FFmpeg (VGT_WITH_FFMPEG).
inline constexpr bool video_io_available() { return VGT_VIDEO_IO != 0; }

/// The file extensions write_video accepts.
inline constexpr std::array<std::string_view, 9> kVideoWriteExtensions = {".mp4", ".m4v",  ".mov", ".mkv", ".avi",
                                                                          ".mpg", ".mpeg", ".y4m", ".gif"};

namespace detail {

inline std::string lowercase_extension(const std::string& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

/// Output size for a source of src_h x src_w under the options' height / width.
inline std::pair<std::int64_t, std::int64_t> resized_size(std::int64_t src_h, std::int64_t src_w, std::int64_t height,
                                                          std::int64_t width) {
    if (height > 0 && width > 0) return {height, width};
    if (height > 0)
        return {height, std::max<std::int64_t>(1, std::llround(static_cast<double>(src_w) * height / src_h))};
    if (width > 0) return {std::max<std::int64_t>(1, std::llround(static_cast<double>(src_h) * width / src_w)), width};
    return {src_h, src_w};
}

inline void check_read_options(const std::string& path, const ReadOptions& o) {
    VGT_CHECK(o.first_frame >= 0, "read_video", "'{}': expected first_frame >= 0, found {}", path, o.first_frame);
    VGT_CHECK(o.max_frames == -1 || o.max_frames > 0, "read_video",
              "'{}': expected max_frames > 0 or -1 (to the end), found {}", path, o.max_frames);
    VGT_CHECK(o.stride >= 1, "read_video", "'{}': expected stride >= 1, found {}", path, o.stride);
    VGT_CHECK(o.height >= 0 && o.width >= 0 && o.height <= 16384 && o.width <= 16384, "read_video",
              "'{}': expected height and width in [0, 16384] (0 keeps the source's), found {} x {}", path, o.height,
              o.width);
}

/// Checks a clip for write_video and returns it as contiguous [T, C, H, W].
inline Tensor checked_clip(const std::string& path, const Tensor& video, const WriteOptions& options) {
    constexpr std::string_view op = "write_video";
    VGT_CHECK(video.defined(), op, "'{}': expected a video tensor, found an empty handle", path);
    VGT_CHECK(video.device().is_cpu(), op, "'{}': expected a CPU tensor, found {}", path, video.str());
    VGT_CHECK(video.dtype() == DType::Float32 || video.dtype() == DType::Float64, op,
              "'{}': expected a float32 or float64 video, found {}", path, dtype_name(video.dtype()));
    VGT_CHECK(video.rank() == 4 && (video.size(1) == 3 || video.size(1) == 1), op,
              "'{}': expected a video [T, 3, H, W] (or [T, 1, H, W] for gray), found shape {}", path, video.shape());
    VGT_CHECK(video.size(0) > 0 && video.size(2) > 0 && video.size(3) > 0, op,
              "'{}': expected at least one frame of at least 1 x 1, found shape {}", path, video.shape());
    VGT_CHECK(video.size(2) <= 16384 && video.size(3) <= 16384, op,
              "'{}': expected frames of at most 16384 x 16384, found shape {}", path, video.shape());
    VGT_CHECK(std::isfinite(options.fps) && options.fps > 0 && options.fps <= 1000, op,
              "'{}': expected fps in (0, 1000], found {}", path, options.fps);
    VGT_CHECK(options.crf >= 0 && options.crf <= 51, op, "'{}': expected crf in [0, 51], found {}", path, options.crf);
    const std::string ext = lowercase_extension(path);
    VGT_CHECK(std::find(kVideoWriteExtensions.begin(), kVideoWriteExtensions.end(), ext) != kVideoWriteExtensions.end(),
              op, "'{}': expected one of the extensions {}, found '{}'", path,
              fmt::join(kVideoWriteExtensions.begin(), kVideoWriteExtensions.end(), " "), ext);
    return vgt::detail::contiguous_data(video);
}

/// Frame t of a contiguous clip [T, C, H, W] as interleaved 8-bit RGB
/// (gray replicated): values clamped to [0, 1] and rounded to k / 255.
inline void frame_to_rgb24(const Tensor& clip, std::int64_t t, std::uint8_t* out, std::string_view path) {
    const std::int64_t channels = clip.size(1), plane = clip.size(2) * clip.size(3);
    dispatch_floating(clip.dtype(), "write_video", [&]<class T>() {
        const T* in = clip.data<T>() + t * channels * plane;
        for (std::int64_t p = 0; p < plane; ++p)
            for (std::int64_t c = 0; c < 3; ++c) {
                const double v = static_cast<double>(in[(channels == 1 ? 0 : c) * plane + p]);
                if (std::isnan(v))
                    fail("write_video", "'{}': expected pixel values in [0, 1], found NaN in frame {}", path, t);
                out[3 * p + c] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
            }
    });
}

[[noreturn]] inline void no_ffmpeg(std::string_view op) {
    fail(op,
         "vgt was built without FFmpeg: install libavformat-dev, libavcodec-dev, libswscale-dev and libavutil-dev "
         "(and pkg-config) and configure with -DVGT_WITH_FFMPEG=ON (or define VGT_WITH_FFMPEG=1 and link "
         "libavformat, libavcodec, libswscale and libavutil)");
}

}  // namespace detail

#if VGT_VIDEO_IO

namespace detail {

// ----- FFmpeg's log: kept for error texts, printed only on request ----------------

struct FfmpegLogState {
    struct Message {
        const void* source;
        std::uint64_t sequence;
        std::string text;
    };
    std::mutex mutex;
    std::deque<Message> recent;  // warnings and errors, newest last
    std::uint64_t sequence = 0;
    int print_level = AV_LOG_QUIET;
};

inline FfmpegLogState& ffmpeg_log_state() {
    static FfmpegLogState state;
    return state;
}

inline void ffmpeg_log_callback(void* source, int level, const char* format, va_list args) {
    try {
        FfmpegLogState& state = ffmpeg_log_state();
        int print_level;
        {
            std::lock_guard lock(state.mutex);
            print_level = state.print_level;
        }
        if (level <= print_level) {
            va_list copy;
            va_copy(copy, args);
            av_log_default_callback(source, level, format, copy);
            va_end(copy);
        }
        if (level > AV_LOG_WARNING) return;
        char line[512];
        std::vsnprintf(line, sizeof line, format, args);
        std::string text(line);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        if (text.empty()) return;
        std::lock_guard lock(state.mutex);
        state.recent.push_back({source, ++state.sequence, std::move(text)});
        if (state.recent.size() > 64) state.recent.pop_front();
    } catch (...) {
        // Nothing may unwind through FFmpeg's C frames.
    }
}

/// Installs the callback once per process.
inline void ffmpeg_setup() {
    static std::once_flag once;
    std::call_once(once, [] { av_log_set_callback(ffmpeg_log_callback); });
}

inline std::uint64_t ffmpeg_log_mark() {
    FfmpegLogState& state = ffmpeg_log_state();
    std::lock_guard lock(state.mutex);
    return state.sequence;
}

/// The last message FFmpeg logged since `mark`, preferring those about
/// `sources` (our format and codec contexts), as " (FFmpeg: ...)" or "".
inline std::string ffmpeg_said(std::uint64_t mark, std::initializer_list<const void*> sources) {
    FfmpegLogState& state = ffmpeg_log_state();
    std::lock_guard lock(state.mutex);
    const FfmpegLogState::Message* any = nullptr;
    for (auto it = state.recent.rbegin(); it != state.recent.rend() && it->sequence > mark; ++it) {
        for (const void* s : sources)
            if (s != nullptr && it->source == s) return fmt::format(" (FFmpeg: {})", escaped(it->text, 200));
        if (any == nullptr) any = &*it;
    }
    return any != nullptr ? fmt::format(" (FFmpeg: {})", escaped(any->text, 200)) : std::string();
}

inline std::string av_error_text(int code) {
    char text[AV_ERROR_MAX_STRING_SIZE] = {};
    if (av_strerror(code, text, sizeof text) < 0) return fmt::format("error {}", code);
    return text;
}

// ----- RAII handles --------------------------------------------------------------

struct InputFormatCloser {
    void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct OutputFormatFreer {
    void operator()(AVFormatContext* p) const { avformat_free_context(p); }
};
struct CodecContextFreer {
    void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameFreer {
    void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketFreer {
    void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct ScalerFreer {
    void operator()(SwsContext* p) const { sws_freeContext(p); }
};
struct DictionaryFreer {
    void operator()(AVDictionary* p) const { av_dict_free(&p); }
};
using InputFormat = std::unique_ptr<AVFormatContext, InputFormatCloser>;
using OutputFormat = std::unique_ptr<AVFormatContext, OutputFormatFreer>;
using CodecContext = std::unique_ptr<AVCodecContext, CodecContextFreer>;
using Frame = std::unique_ptr<AVFrame, FrameFreer>;
using Packet = std::unique_ptr<AVPacket, PacketFreer>;
using Scaler = std::unique_ptr<SwsContext, ScalerFreer>;

/// Drops a packet's or frame's payload at scope exit.
struct PacketUnref {
    AVPacket* packet;
    ~PacketUnref() { av_packet_unref(packet); }
};
struct FrameUnref {
    AVFrame* frame;
    ~FrameUnref() { av_frame_unref(frame); }
};

inline Frame make_frame(std::string_view op, const std::string& path) {
    AVFrame* f = av_frame_alloc();
    VGT_CHECK(f != nullptr, op, "'{}': av_frame_alloc failed (out of memory)", path);
    return Frame(f);
}
inline Packet make_packet(std::string_view op, const std::string& path) {
    AVPacket* p = av_packet_alloc();
    VGT_CHECK(p != nullptr, op, "'{}': av_packet_alloc failed (out of memory)", path);
    return Packet(p);
}

// ----- reading -------------------------------------------------------------------------

/// An opened input: the demuxer, the best video stream and its decoder.
struct VideoInput {
    std::string path;
    std::uint64_t log_mark = 0;
    InputFormat format;
    CodecContext codec;
    AVStream* stream = nullptr;
    int stream_index = -1;

    /// Throws "op: 'path': `call` failed: <av_strerror> (FFmpeg: <last message>)".
    [[noreturn]] void fail_call(std::string_view op, std::string_view what, std::string_view call, int code) const {
        fail(op, "'{}': expected {}, found an error from {}: {}{}", path, what, call, av_error_text(code),
             ffmpeg_said(log_mark, {format.get(), codec.get()}));
    }
};

inline VideoInput open_video(const std::string& path, std::string_view op, bool strict = true) {
    ffmpeg_setup();
    VideoInput in;
    in.path = path;
    in.log_mark = ffmpeg_log_mark();
    // A clear message for the common mistakes before FFmpeg's generic ones.
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    VGT_CHECK(!ec && std::filesystem::exists(status), op, "'{}': expected a video file to read, found none", path);
    VGT_CHECK(!std::filesystem::is_directory(status), op, "'{}': expected a video file to read, found a directory",
              path);

    // "file:" keeps a path with a colon from being read as a protocol; the
    // whitelist keeps playlists and references inside the file from opening
    // anything but local files.
    AVDictionary* raw_options = nullptr;
    const int set = av_dict_set(&raw_options, "protocol_whitelist", "file", 0);
    VGT_CHECK(set >= 0, op, "'{}': av_dict_set failed: {}", path, av_error_text(set));
    std::unique_ptr<AVDictionary, DictionaryFreer> options_guard(raw_options);
    AVFormatContext* raw = nullptr;
    const std::string url = "file:" + path;
    int ret = avformat_open_input(&raw, url.c_str(), nullptr, &raw_options);
    options_guard.release();
    options_guard.reset(raw_options);
    if (ret < 0) in.fail_call(op, "a video file FFmpeg can open", "avformat_open_input", ret);
    in.format.reset(raw);

    ret = avformat_find_stream_info(in.format.get(), nullptr);
    if (ret < 0) in.fail_call(op, "readable stream information", "avformat_find_stream_info", ret);
    ret = av_find_best_stream(in.format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
    if (ret < 0) in.fail_call(op, "a video stream", "av_find_best_stream", ret);
    in.stream_index = ret;
    in.stream = in.format->streams[ret];

    const AVCodecParameters* par = in.stream->codecpar;
    const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
    VGT_CHECK(decoder != nullptr, op, "'{}': expected a codec this FFmpeg can decode, found '{}' without a decoder",
              path, avcodec_get_name(par->codec_id));
    VGT_CHECK(par->width > 0 && par->height > 0 && par->width <= 16384 && par->height <= 16384, op,
              "'{}': expected a picture size between 1 x 1 and 16384 x 16384, found {} x {}", path, par->width,
              par->height);
    in.codec.reset(avcodec_alloc_context3(decoder));
    VGT_CHECK(in.codec != nullptr, op, "'{}': avcodec_alloc_context3 failed (out of memory)", path);
    ret = avcodec_parameters_to_context(in.codec.get(), par);
    if (ret < 0) in.fail_call(op, "usable codec parameters", "avcodec_parameters_to_context", ret);
    in.codec->thread_count = 0;  // as many as FFmpeg sees fit
    in.codec->pkt_timebase = in.stream->time_base;
    // Strict: a damaged frame is an error instead of a concealed picture.
    if (strict) in.codec->err_recognition |= AV_EF_EXPLODE;
    ret = avcodec_open2(in.codec.get(), decoder, nullptr);
    if (ret < 0) in.fail_call(op, fmt::format("an openable '{}' decoder", decoder->name), "avcodec_open2", ret);
    return in;
}

inline VideoInfo info_of(const VideoInput& in) {
    VideoInfo info;
    info.width = in.stream->codecpar->width;
    info.height = in.stream->codecpar->height;
    const AVRational rate = av_guess_frame_rate(in.format.get(), in.stream, nullptr);
    info.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0.0;
    info.frame_count = in.stream->nb_frames > 0 ? in.stream->nb_frames : -1;
    if (in.stream->duration != AV_NOPTS_VALUE && in.stream->duration > 0)
        info.duration = static_cast<double>(in.stream->duration) * av_q2d(in.stream->time_base);
    else if (in.format->duration != AV_NOPTS_VALUE && in.format->duration > 0)
        info.duration = static_cast<double>(in.format->duration) / AV_TIME_BASE;
    info.container = in.format->iformat->name;
    info.codec = in.codec->codec->name;
    return info;
}

/// Demuxer names whose streams carry no index and end with their last frame:
/// bytes left after the last packet mean a frame was cut off.
inline bool ends_with_last_frame(const AVInputFormat* format) {
    return std::string_view(format->name) == "yuv4mpegpipe";
}

/// Drives demuxer and decoder over the whole stream, calling on_frame(frame)
/// for each decoded frame until it returns false. Strict: decoding errors,
/// corrupt packets and signs of truncation (checked when the stream was read
/// to its end) are errors. Returns the number of packets read.
template <class OnFrame>
std::int64_t decode_frames(VideoInput& in, std::string_view op, bool strict, OnFrame&& on_frame) {
    Packet packet = make_packet(op, in.path);
    Frame frame = make_frame(op, in.path);
    std::int64_t packets = 0;
    std::int64_t last_end = -1;  // byte offset after the last video packet
    double latest = -1;          // seconds: the latest packet end of any stream
    bool more = true;

    // Pulls every frame the decoder has ready; false once on_frame has enough.
    auto drain = [&]() {
        while (more) {
            const int ret = avcodec_receive_frame(in.codec.get(), frame.get());
            if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
            if (ret < 0) {
                if (strict) in.fail_call(op, "decodable video data", "avcodec_receive_frame", ret);
                return;
            }
            FrameUnref unref{frame.get()};
            more = on_frame(frame.get());
        }
    };

    while (more) {
        const int ret = av_read_frame(in.format.get(), packet.get());
        if (ret == AVERROR_EOF) break;
        if (ret < 0) {
            if (strict) in.fail_call(op, "a readable video file", "av_read_frame", ret);
            break;
        }
        PacketUnref unref{packet.get()};
        const std::int64_t stamp = packet->pts != AV_NOPTS_VALUE ? packet->pts : packet->dts;
        if (stamp != AV_NOPTS_VALUE && packet->stream_index >= 0 &&
            packet->stream_index < static_cast<int>(in.format->nb_streams)) {
            const AVRational base = in.format->streams[packet->stream_index]->time_base;
            latest = std::max(latest,
                              static_cast<double>(stamp + std::max<std::int64_t>(packet->duration, 0)) * av_q2d(base));
        }
        if (packet->stream_index != in.stream_index) continue;
        ++packets;
        if (packet->pos >= 0) last_end = packet->pos + packet->size;
        if (strict && (packet->flags & AV_PKT_FLAG_CORRUPT))
            fail(op, "'{}': expected intact video data, found packet {} marked corrupt (truncated or damaged file){}",
                 in.path, packets - 1, ffmpeg_said(in.log_mark, {in.format.get(), in.codec.get()}));
        const int sent = avcodec_send_packet(in.codec.get(), packet.get());
        if (sent < 0 && sent != AVERROR(EAGAIN)) {
            if (strict)
                in.fail_call(op, fmt::format("decodable video data in packet {}", packets - 1), "avcodec_send_packet",
                             sent);
            continue;
        }
        drain();
    }
    if (!more) return packets;

    // End of file: flush the frames the decoder still holds.
    const int sent = avcodec_send_packet(in.codec.get(), nullptr);
    if (sent < 0 && sent != AVERROR_EOF && strict) in.fail_call(op, "a decoder to flush", "avcodec_send_packet", sent);
    drain();
    if (!more || !strict) return packets;

    AVIOContext* io = in.format->pb;
    if (io != nullptr && io->error < 0) in.fail_call(op, "a readable video file", "avio (read error)", io->error);
    if (in.stream->nb_frames > 0 && packets < in.stream->nb_frames)
        fail(op, "'{}': expected the {} frames the container's index lists, found {} (truncated file?){}", in.path,
             in.stream->nb_frames, packets, ffmpeg_said(in.log_mark, {in.format.get(), in.codec.get()}));
    if (io != nullptr && ends_with_last_frame(in.format->iformat)) {
        const std::int64_t size = avio_size(io);
        if (size > 0 && last_end >= 0 && last_end < size)
            fail(op, "'{}': expected the file to end after its last frame, found {} bytes more (a frame cut short)",
                 in.path, size - last_end);
    }
    // A duration the container declares (not one FFmpeg estimated) that the
    // packets fall short of by more than half a frame: the end is missing.
    const AVFormatContext* format = in.format.get();
    if (format->duration_estimation_method == AVFMT_DURATION_FROM_STREAM && format->duration > 0 && latest >= 0) {
        const double start =
            format->start_time != AV_NOPTS_VALUE ? static_cast<double>(format->start_time) / AV_TIME_BASE : 0.0;
        const double declared = static_cast<double>(format->duration) / AV_TIME_BASE;
        const AVRational rate = av_guess_frame_rate(in.format.get(), in.stream, nullptr);
        const double frame = rate.num > 0 && rate.den > 0 ? 1.0 / av_q2d(rate) : 0.04;
        if (latest - start < declared - 0.5 * frame)
            fail(op,
                 "'{}': expected packets up to the {:.3f} s the container declares, found them ending at {:.3f} s "
                 "(truncated file? ReadOptions::strict = false reads what is there)",
                 in.path, declared, latest - start);
    }
    return packets;
}

/// Converts decoded frames to RGB24 of one output size, reusing its scaler.
class RgbConverter {
public:
    RgbConverter(std::int64_t height, std::int64_t width, std::string path)
        : height_(static_cast<int>(height)), width_(static_cast<int>(width)), path_(std::move(path)) {}

    /// Appends frame `f` as planar float [3, H, W] in [0, 1] to `out`.
    void append(const AVFrame* f, std::vector<float>& out) {
        prepare(f);
        if (!rgb_) {
            rgb_ = make_frame("read_video", path_);
            rgb_->format = AV_PIX_FMT_RGB24;
            rgb_->width = width_;
            rgb_->height = height_;
            const int ret = av_frame_get_buffer(rgb_.get(), 32);
            VGT_CHECK(ret >= 0, "read_video", "'{}': av_frame_get_buffer failed: {}", path_, av_error_text(ret));
        }
        const int rows = sws_scale(scaler_.get(), f->data, f->linesize, 0, f->height, rgb_->data, rgb_->linesize);
        VGT_CHECK(rows == height_, "read_video", "'{}': expected sws_scale to produce {} rows, found {}", path_,
                  height_, rows);
        const std::size_t plane = static_cast<std::size_t>(height_) * static_cast<std::size_t>(width_);
        const std::size_t base = out.size();
        out.resize(base + 3 * plane);
        float* dst = out.data() + base;
        for (int y = 0; y < height_; ++y) {
            const std::uint8_t* row = rgb_->data[0] + static_cast<std::ptrdiff_t>(y) * rgb_->linesize[0];
            for (int x = 0; x < width_; ++x)
                for (int c = 0; c < 3; ++c)
                    dst[c * plane + static_cast<std::size_t>(y) * width_ + x] =
                        static_cast<float>(row[3 * x + c]) / 255.0f;
        }
    }

private:
    void prepare(const AVFrame* f) {
        const auto format = static_cast<AVPixelFormat>(f->format);
        VGT_CHECK(f->width > 0 && f->height > 0 && format != AV_PIX_FMT_NONE, "read_video",
                  "'{}': expected decoded frames with a size and pixel format, found {} x {} ({})", path_, f->width,
                  f->height, av_get_pix_fmt_name(format) ? av_get_pix_fmt_name(format) : "none");
        if (scaler_ && format == src_format_ && f->width == src_w_ && f->height == src_h_ &&
            f->colorspace == colorspace_ && f->color_range == range_)
            return;
        // Area averaging when shrinking, bicubic otherwise; exact rounding and
        // full-resolution chroma for the RGB side.
        const bool shrink = width_ < f->width && height_ < f->height;
        const int flags = (shrink ? SWS_AREA : SWS_BICUBIC) | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
        scaler_.reset(sws_getContext(f->width, f->height, format, width_, height_, AV_PIX_FMT_RGB24, flags, nullptr,
                                     nullptr, nullptr));
        VGT_CHECK(scaler_ != nullptr, "read_video", "'{}': sws_getContext failed for {} x {} {} to {} x {} rgb24",
                  path_, f->width, f->height, av_get_pix_fmt_name(format) ? av_get_pix_fmt_name(format) : "?", width_,
                  height_);
        // YUV to RGB with the matrix and range the stream declares (BT.601 when it declares none).
        const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
        if (desc != nullptr && !(desc->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL)) &&
            desc->nb_components >= 3) {
            const int space = f->colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : static_cast<int>(f->colorspace);
            const bool full = f->color_range == AVCOL_RANGE_JPEG || format == AV_PIX_FMT_YUVJ420P ||
                              format == AV_PIX_FMT_YUVJ422P || format == AV_PIX_FMT_YUVJ444P;
            const int* coefficients = sws_getCoefficients(space);
            const int ret = sws_setColorspaceDetails(scaler_.get(), coefficients, full ? 1 : 0, coefficients, 1, 0,
                                                     1 << 16, 1 << 16);
            VGT_CHECK(ret >= 0, "read_video", "'{}': sws_setColorspaceDetails failed for {} (colorspace {})", path_,
                      av_get_pix_fmt_name(format), space);
        }
        src_format_ = format;
        src_w_ = f->width;
        src_h_ = f->height;
        colorspace_ = f->colorspace;
        range_ = f->color_range;
    }

    int height_, width_;
    std::string path_;
    Scaler scaler_;
    Frame rgb_;
    AVPixelFormat src_format_ = AV_PIX_FMT_NONE;
    int src_w_ = 0, src_h_ = 0;
    AVColorSpace colorspace_ = AVCOL_SPC_UNSPECIFIED;
    AVColorRange range_ = AVCOL_RANGE_UNSPECIFIED;
};

// ----- writing ------------------------------------------------------------------------------

/// A seekable in-memory output for the muxer, so that the finished file goes
/// to disk in one atomic write.
struct MemoryOutput {
    std::vector<std::byte> bytes;
    std::size_t position = 0;

#if LIBAVFORMAT_VERSION_MAJOR >= 61
    static int write(void* opaque, const std::uint8_t* data, int size){
#else
    static int write(void* opaque, std::uint8_t* data, int size) {
#endif
        auto* self = static_cast<MemoryOutput*>(opaque);
    try {
        const std::size_t end = self->position + static_cast<std::size_t>(size);
        if (end > self->bytes.size()) self->bytes.resize(end);
        std::memcpy(self->bytes.data() + self->position, data, static_cast<std::size_t>(size));
        self->position = end;
        return size;
    } catch (...) {
        return AVERROR(ENOMEM);
    }
}

static std::int64_t
seek(void* opaque, std::int64_t offset, int whence) {
    auto* self = static_cast<MemoryOutput*>(opaque);
    if (whence & AVSEEK_SIZE) return static_cast<std::int64_t>(self->bytes.size());
    whence &= ~AVSEEK_FORCE;
    std::int64_t target;
    if (whence == SEEK_SET)
        target = offset;
    else if (whence == SEEK_CUR)
        target = static_cast<std::int64_t>(self->position) + offset;
    else if (whence == SEEK_END)
        target = static_cast<std::int64_t>(self->bytes.size()) + offset;
    else
        return AVERROR(EINVAL);
    if (target < 0) return AVERROR(EINVAL);
    self->position = static_cast<std::size_t>(target);
    return target;
}
};  // namespace detail

/// The AVIOContext over a MemoryOutput, with its buffer.
struct MemoryIo {
    AVIOContext* context = nullptr;
    MemoryIo() = default;
    MemoryIo(const MemoryIo&) = delete;
    MemoryIo& operator=(const MemoryIo&) = delete;
    ~MemoryIo() {
        if (context != nullptr) {
            av_freep(&context->buffer);
            avio_context_free(&context);
        }
    }
};

enum class VideoCodecChoice { h264, mpeg4, mpeg1, raw, gif };

/// Everything one write_video call holds.
struct VideoOutput {
    std::string path;
    std::uint64_t log_mark = 0;
    MemoryOutput memory;
    MemoryIo io;
    OutputFormat format;
    CodecContext codec;
    AVStream* stream = nullptr;
    Packet packet;

    [[noreturn]] void fail_call(std::string_view what, std::string_view call, int code) const {
        fail("write_video", "'{}': expected {}, found an error from {}: {}{}", path, what, call, av_error_text(code),
             ffmpeg_said(log_mark, {format.get(), codec.get()}));
    }

    /// Points the muxer at `memory`.
    void open_memory_io() {
        auto* buffer = static_cast<std::uint8_t*>(av_malloc(1 << 16));
        VGT_CHECK(buffer != nullptr, "write_video", "'{}': av_malloc failed (out of memory)", path);
        io.context =
            avio_alloc_context(buffer, 1 << 16, 1, &memory, nullptr, &MemoryOutput::write, &MemoryOutput::seek);
        if (io.context == nullptr) {
            av_free(buffer);
            fail("write_video", "'{}': avio_alloc_context failed (out of memory)", path);
        }
        format->pb = io.context;
        format->flags |= AVFMT_FLAG_CUSTOM_IO;
    }

    /// Sends `frame` (nullptr: flush) and muxes every packet that comes out.
    void encode(const AVFrame* frame) {
        int ret = avcodec_send_frame(codec.get(), frame);
        if (ret < 0) fail_call("an encodable frame", "avcodec_send_frame", ret);
        while (true) {
            ret = avcodec_receive_packet(codec.get(), packet.get());
            if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
            if (ret < 0) fail_call("an encoded packet", "avcodec_receive_packet", ret);
            PacketUnref unref{packet.get()};
            av_packet_rescale_ts(packet.get(), codec->time_base, stream->time_base);
            packet->stream_index = stream->index;
            ret = av_interleaved_write_frame(format.get(), packet.get());
            if (ret < 0) fail_call("a muxable packet", "av_interleaved_write_frame", ret);
        }
    }
};

inline VideoCodecChoice codec_for_extension(const std::string& ext) {
    if (ext == ".gif") return VideoCodecChoice::gif;
    if (ext == ".avi") return VideoCodecChoice::mpeg4;
    if (ext == ".mpg" || ext == ".mpeg") return VideoCodecChoice::mpeg1;
    if (ext == ".y4m") return VideoCodecChoice::raw;
    return VideoCodecChoice::h264;
}

/// The encoder and pixel format for a codec choice and picture size.
inline std::pair<const AVCodec*, AVPixelFormat> find_encoder(VideoCodecChoice choice, bool odd, const std::string& path,
                                                             std::int64_t height, std::int64_t width) {
    constexpr std::string_view op = "write_video";
    const AVCodec* encoder = nullptr;
    AVPixelFormat pixel_format = odd ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P;
    switch (choice) {
        case VideoCodecChoice::h264:
            encoder = avcodec_find_encoder_by_name("libx264");
            if (encoder == nullptr) {  // an FFmpeg built without libx264
                encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
                VGT_CHECK(!odd, op,
                          "'{}': this FFmpeg has no libx264, and its MPEG-4 fallback needs an even size, found {} x {}",
                          path, height, width);
            }
            break;
        case VideoCodecChoice::mpeg4:
            encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
            break;
        case VideoCodecChoice::mpeg1:
            encoder = avcodec_find_encoder(AV_CODEC_ID_MPEG1VIDEO);
            break;
        case VideoCodecChoice::raw:
            encoder = avcodec_find_encoder(AV_CODEC_ID_WRAPPED_AVFRAME);
            break;
        case VideoCodecChoice::gif:
            encoder = avcodec_find_encoder(AV_CODEC_ID_GIF);
            pixel_format = AV_PIX_FMT_PAL8;
            break;
    }
    VGT_CHECK(encoder != nullptr, op, "'{}': expected an encoder for it in this FFmpeg, found none", path);
    VGT_CHECK(
        !odd || choice == VideoCodecChoice::h264 || choice == VideoCodecChoice::gif || choice == VideoCodecChoice::raw,
        op, "'{}': expected an even height and width for {}, found {} x {}", path, encoder->name, height, width);
    return {encoder, pixel_format};
}

}  // namespace detail

/// Routes FFmpeg's log to stderr from `level` up (default: quiet).
inline void set_ffmpeg_log_level(FfmpegLogLevel level) {
    detail::ffmpeg_setup();
    auto& state = detail::ffmpeg_log_state();
    std::lock_guard lock(state.mutex);
    switch (level) {
        case FfmpegLogLevel::quiet:
            state.print_level = AV_LOG_QUIET;
            break;
        case FfmpegLogLevel::errors:
            state.print_level = AV_LOG_ERROR;
            break;
        case FfmpegLogLevel::warnings:
            state.print_level = AV_LOG_WARNING;
            break;
        case FfmpegLogLevel::info:
            state.print_level = AV_LOG_INFO;
            break;
    }
}

/// What the file says about its video stream, without decoding it.
inline VideoInfo probe_video(const std::string& path) {
    const detail::VideoInput in = detail::open_video(path, "probe_video");
    return detail::info_of(in);
}

/// The number of frames in the file's video stream, counted by reading
/// every packet without decoding (one packet holds one frame in every
/// common codec). Truncation checks as in read_video.
inline std::int64_t count_video_frames(const std::string& path) {
    detail::VideoInput in = detail::open_video(path, "count_video_frames");
    AVFormatContext* format = in.format.get();
    detail::Packet packet = detail::make_packet("count_video_frames", path);
    std::int64_t frames = 0, last_end = -1;
    while (true) {
        const int ret = av_read_frame(format, packet.get());
        if (ret == AVERROR_EOF) break;
        if (ret < 0) in.fail_call("count_video_frames", "a readable video file", "av_read_frame", ret);
        detail::PacketUnref unref{packet.get()};
        if (packet->stream_index != in.stream_index) continue;
        if (packet->flags & AV_PKT_FLAG_CORRUPT)
            fail("count_video_frames", "'{}': expected intact video data, found packet {} marked corrupt", path,
                 frames);
        if (packet->pos >= 0) last_end = packet->pos + packet->size;
        if (!(packet->flags & AV_PKT_FLAG_DISCARD)) ++frames;
    }
    if (format->pb != nullptr && format->pb->error < 0)
        in.fail_call("count_video_frames", "a readable video file", "avio (read error)", format->pb->error);
    if (in.stream->nb_frames > 0 && frames < in.stream->nb_frames)
        fail("count_video_frames",
             "'{}': expected the {} frames the container's index lists, found {} (truncated file?)", path,
             in.stream->nb_frames, frames);
    if (format->pb != nullptr && detail::ends_with_last_frame(format->iformat)) {
        const std::int64_t size = avio_size(format->pb);
        VGT_CHECK(!(size > 0 && last_end >= 0 && last_end < size), "count_video_frames",
                  "'{}': expected the file to end after its last frame, found {} bytes more (a frame cut short)", path,
                  size - last_end);
    }
    return frames;
}

/// Decodes the frames `options` select into float32 [T, 3, H, W] in [0, 1].
/// Frames before first_frame are decoded and dropped (no seeking), so a
/// clip late in a long file costs its position. Gray or alpha sources give
/// RGB (alpha dropped). A file with no selected frame is an error.
inline Video read_video(const std::string& path, const ReadOptions& options = {}) {
    constexpr std::string_view op = "read_video";
    detail::check_read_options(path, options);
    detail::VideoInput in = detail::open_video(path, op, options.strict);
    Video video;
    video.info = detail::info_of(in);
    const auto [height, width] =
        detail::resized_size(video.info.height, video.info.width, options.height, options.width);
    detail::RgbConverter converter(height, width, path);
    std::vector<float> pixels;
    if (options.max_frames > 0)
        pixels.reserve(static_cast<std::size_t>(std::min<std::int64_t>(options.max_frames, 4096) * 3 * height * width));
    std::int64_t index = 0, kept = 0;
    detail::decode_frames(in, op, options.strict, [&](const AVFrame* frame) {
        const std::int64_t i = index++;
        if (i < options.first_frame || (i - options.first_frame) % options.stride != 0) return true;
        converter.append(frame, pixels);
        ++kept;
        return options.max_frames < 0 || kept < options.max_frames;
    });
    VGT_CHECK(kept > 0, op, "'{}': expected at least one frame from frame {} on, found {} frames in the file", path,
              options.first_frame, index);
    video.frames = Tensor::empty(Shape{kept, 3, height, width}, DType::Float32);
    std::copy(pixels.begin(), pixels.end(), video.frames.data<float>());
    video.fps = video.info.fps / static_cast<double>(options.stride);
    return video;
}

/// Encodes `video` [T, 3, H, W] (or [T, 1, H, W] gray; float32 or float64,
/// values clamped to [0, 1], NaN an error) into `path`, the container and
/// codec chosen by the extension:
///   .mp4 .m4v .mov .mkv  H.264 (libx264; yuv420p, or yuv444p when H or W is
///                        odd); MPEG-4 Part 2 when this FFmpeg has no libx264
///   .gif                 GIF with one palette for the clip (median cut),
///                        dithered unless options.dither is false
///   .avi  MPEG-4 Part 2   .mpg .mpeg  MPEG-1 (standard frame rates only)
///   .y4m  raw YUV frames
/// The file is assembled in memory and written atomically (io/file.hpp).
inline WrittenVideo write_video(const std::string& path, const Tensor& video, const WriteOptions& options = {}) {
    constexpr std::string_view op = "write_video";
    const Tensor clip = detail::checked_clip(path, video, options);
    detail::ffmpeg_setup();
    const std::int64_t frames = clip.size(0), height = clip.size(2), width = clip.size(3);
    const std::string ext = detail::lowercase_extension(path);
    const detail::VideoCodecChoice choice = detail::codec_for_extension(ext);
    const bool odd = height % 2 != 0 || width % 2 != 0;

    detail::VideoOutput out;
    out.path = path;
    out.log_mark = detail::ffmpeg_log_mark();
    out.packet = detail::make_packet(op, path);

    // Muxer, chosen by the extension.
    AVFormatContext* raw_format = nullptr;
    int ret = avformat_alloc_output_context2(&raw_format, nullptr, nullptr, path.c_str());
    if (ret < 0 || raw_format == nullptr)
        out.fail_call(fmt::format("a container for '{}'", ext), "avformat_alloc_output_context2",
                      ret < 0 ? ret : AVERROR_MUXER_NOT_FOUND);
    out.format.reset(raw_format);

    // Encoder.
    const auto [encoder, pixel_format] = detail::find_encoder(choice, odd, path, height, width);
    VGT_CHECK(choice != detail::VideoCodecChoice::gif || options.fps <= 100, op,
              "'{}': expected fps <= 100 for a GIF (frame delays are in 1/100 s), found {}", path, options.fps);

    out.stream = avformat_new_stream(out.format.get(), nullptr);
    VGT_CHECK(out.stream != nullptr, op, "'{}': avformat_new_stream failed (out of memory)", path);
    out.codec.reset(avcodec_alloc_context3(encoder));
    VGT_CHECK(out.codec != nullptr, op, "'{}': avcodec_alloc_context3 failed (out of memory)", path);
    AVCodecContext* codec = out.codec.get();
    const AVRational rate = av_d2q(options.fps, 1 << 20);
    codec->width = static_cast<int>(width);
    codec->height = static_cast<int>(height);
    codec->pix_fmt = pixel_format;
    codec->framerate = rate;
    codec->time_base = choice == detail::VideoCodecChoice::gif ? AVRational{1, 100} : av_inv_q(rate);
    codec->sample_aspect_ratio = AVRational{1, 1};
    if (pixel_format != AV_PIX_FMT_PAL8) {
        // BT.601, limited range: what players assume for untagged video, tagged as well.
        codec->colorspace = AVCOL_SPC_SMPTE170M;
        codec->color_primaries = AVCOL_PRI_SMPTE170M;
        codec->color_trc = AVCOL_TRC_SMPTE170M;
        codec->color_range = AVCOL_RANGE_MPEG;
    }
    if (out.format->oformat->flags & AVFMT_GLOBALHEADER) codec->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    const std::string encoder_name = encoder->name;
    if (encoder_name == "libx264") {
        ret = av_opt_set(codec->priv_data, "crf", std::to_string(options.crf).c_str(), 0);
        if (ret < 0) out.fail_call(fmt::format("libx264 to take crf {}", options.crf), "av_opt_set", ret);
        ret = av_opt_set(codec->priv_data, "preset", options.preset.c_str(), 0);
        if (ret < 0) out.fail_call(fmt::format("a libx264 preset, found '{}'", options.preset), "av_opt_set", ret);
    } else if (choice != detail::VideoCodecChoice::raw && choice != detail::VideoCodecChoice::gif) {
        codec->flags |= AV_CODEC_FLAG_QSCALE;
        codec->global_quality = FF_QP2LAMBDA * std::max(1, static_cast<int>(std::lround(options.crf / 6.0)));
    }
    ret = avcodec_open2(codec, encoder, nullptr);
    if (ret < 0) out.fail_call(fmt::format("an openable '{}' encoder", encoder_name), "avcodec_open2", ret);
    ret = avcodec_parameters_from_context(out.stream->codecpar, codec);
    if (ret < 0) out.fail_call("stream parameters", "avcodec_parameters_from_context", ret);
    out.stream->time_base = codec->time_base;
    out.stream->avg_frame_rate = rate;

    // Output into memory.
    out.open_memory_io();
    ret = avformat_write_header(out.format.get(), nullptr);
    if (ret < 0) out.fail_call("a writable container header", "avformat_write_header", ret);

    // Frames: RGB24, then to the encoder's pixel format.
    std::vector<std::uint8_t> rgb(static_cast<std::size_t>(3 * height * width));
    detail::Frame frame = detail::make_frame(op, path);
    frame->format = pixel_format;
    frame->width = static_cast<int>(width);
    frame->height = static_cast<int>(height);
    ret = av_frame_get_buffer(frame.get(), 32);
    if (ret < 0) out.fail_call("a frame buffer", "av_frame_get_buffer", ret);

    detail::Scaler scaler;
    std::unique_ptr<PaletteMapper> mapper;
    if (choice == detail::VideoCodecChoice::gif) {
        // One palette for the whole clip: colours stay put from frame to frame.
        std::vector<std::uint8_t> all(static_cast<std::size_t>(frames) * rgb.size());
        for (std::int64_t t = 0; t < frames; ++t)
            detail::frame_to_rgb24(clip, t, all.data() + static_cast<std::size_t>(t) * rgb.size(), path);
        mapper = std::make_unique<PaletteMapper>(median_cut_palette(all));
    } else {
        scaler.reset(sws_getContext(static_cast<int>(width), static_cast<int>(height), AV_PIX_FMT_RGB24,
                                    static_cast<int>(width), static_cast<int>(height), pixel_format,
                                    SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, nullptr, nullptr, nullptr));
        VGT_CHECK(scaler != nullptr, op, "'{}': sws_getContext failed for rgb24 to {}", path,
                  av_get_pix_fmt_name(pixel_format));
        const int* bt601 = sws_getCoefficients(SWS_CS_ITU601);
        ret = sws_setColorspaceDetails(scaler.get(), bt601, 1, bt601, 0, 0, 1 << 16, 1 << 16);
        VGT_CHECK(ret >= 0, op, "'{}': sws_setColorspaceDetails failed for rgb24 to {} (BT.601)", path,
                  av_get_pix_fmt_name(pixel_format));
    }

    for (std::int64_t t = 0; t < frames; ++t) {
        ret = av_frame_make_writable(frame.get());
        if (ret < 0) out.fail_call("a writable frame", "av_frame_make_writable", ret);
        detail::frame_to_rgb24(clip, t, rgb.data(), path);
        if (mapper) {
            const std::vector<std::uint8_t> indices = map_to_palette(rgb, height, width, *mapper, options.dither);
            for (std::int64_t y = 0; y < height; ++y)
                std::memcpy(frame->data[0] + y * frame->linesize[0], indices.data() + y * width,
                            static_cast<std::size_t>(width));
            auto* palette = reinterpret_cast<std::uint32_t*>(frame->data[1]);
            const auto& colors = mapper->palette().colors;
            for (std::size_t i = 0; i < 256; ++i) {
                const auto& c = colors[std::min(i, colors.size() - 1)];
                palette[i] = 0xff000000u | std::uint32_t{c[0]} << 16 | std::uint32_t{c[1]} << 8 | std::uint32_t{c[2]};
            }
            frame->pts = std::llround(static_cast<double>(t) * 100.0 / options.fps);
        } else {
            const std::uint8_t* src[4] = {rgb.data(), nullptr, nullptr, nullptr};
            const int src_stride[4] = {static_cast<int>(3 * width), 0, 0, 0};
            ret = sws_scale(scaler.get(), src, src_stride, 0, static_cast<int>(height), frame->data, frame->linesize);
            VGT_CHECK(ret == static_cast<int>(height), op,
                      "'{}': expected sws_scale to convert {} rows of frame {}, found {}", path, height, t, ret);
            frame->pts = t;
        }
        out.encode(frame.get());
    }
    out.encode(nullptr);
    ret = av_write_trailer(out.format.get());
    if (ret < 0) out.fail_call("a finished container", "av_write_trailer", ret);
    avio_flush(out.io.context);
    if (out.io.context->error < 0) out.fail_call("a complete output", "avio_flush", out.io.context->error);

    detail::write_file_atomically(path, std::span<const std::byte>(out.memory.bytes.data(), out.memory.bytes.size()),
                                  op);
    return WrittenVideo{encoder_name, av_get_pix_fmt_name(pixel_format), frames, out.memory.bytes.size()};
}

#else  // no FFmpeg: the same functions, each an error that says so

inline void set_ffmpeg_log_level(FfmpegLogLevel) {}
inline VideoInfo probe_video(const std::string&) { detail::no_ffmpeg("probe_video"); }
inline std::int64_t count_video_frames(const std::string&) { detail::no_ffmpeg("count_video_frames"); }
inline Video read_video(const std::string& path, const ReadOptions& options = {}) {
    detail::check_read_options(path, options);
    detail::no_ffmpeg("read_video");
}
inline WrittenVideo write_video(const std::string& path, const Tensor& video, const WriteOptions& options = {}) {
    detail::checked_clip(path, video, options);
    detail::no_ffmpeg("write_video");
}

#endif

}  // namespace vgt::io

#undef VGT_VIDEO_IO
