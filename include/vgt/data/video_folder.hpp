#pragma once
// VideoFolder: a data set over a user's own video files.
//
// Every video file under a folder (sub-folders too, unless told otherwise)
// is cut into clips of `frames` frames, `frame_stride` apart within a clip,
// with clips starting every `clip_stride` frames (default: one after the
// other, no overlap). Each clip is resized to height × width — by scaling to
// cover the size and cutting the centre out (`fit = crop`, the default) or by
// scaling to it (`stretch`) — so every clip of the data set has the same
// shape [T, C, H, W] and clips stack into batches.
//
// Captions come from a sidecar text file with the video's name and the
// extension .txt beside it: `walk.mp4` takes its caption from `walk.txt`
// (the whole file, surrounding white space removed). A video without one
// gets `default_caption`, or is an error with `require_captions`.
//
// Files are listed once, at construction, in path order; each video's frame
// count comes from the container's index where it has one, else from
// reading its packets (no decoding). Clip i is read when get(i) is called:
// from the start of its video, frames before the clip decoded and dropped,
// so late clips of long videos cost their position (cut long videos into
// shorter files for training). Reading needs vgt built with FFmpeg
// (VGT_WITH_FFMPEG); without it the constructor throws an error saying so.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/dataset.hpp"
#include "vgt/io/video.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::data {

/// How a video's frames are brought to the data set's size.
enum class VideoFit {
    crop,     // scale (keeping the aspect ratio) to cover height × width, cut out the centre
    stretch,  // scale each axis to height × width
};

inline std::string_view video_fit_name(VideoFit fit) { return fit == VideoFit::crop ? "crop" : "stretch"; }

inline VideoFit parse_video_fit(std::string_view name) {
    if (name == "crop") return VideoFit::crop;
    if (name == "stretch") return VideoFit::stretch;
    fail("VideoFolder", "expected fit 'crop' or 'stretch', found '{}'", name);
}

struct VideoFolderOptions {
    int frames = 16;              // T: frames per clip
    int frame_stride = 1;         // distance between a clip's frames (2: every other frame)
    int clip_stride = 0;          // distance between the first frames of consecutive clips; 0: a clip's span
    int height = 64, width = 64;  // H, W of every clip
    int channels = 3;             // 3 (RGB) or 1 (luma, BT.601 weights)
    VideoFit fit = VideoFit::crop;
    bool recursive = true;          // include sub-folders
    bool require_captions = false;  // a video without a caption file is an error
    std::string default_caption;    // caption of a video without a caption file
    bool strict = true;             // decoding errors and truncation are errors (io::ReadOptions::strict)
    std::vector<std::string> extensions = {".mp4", ".m4v",  ".mov", ".mkv", ".webm", ".avi",
                                           ".mpg", ".mpeg", ".gif", ".y4m", ".ogv",  ".flv"};

    /// Throws vgt::Error naming the first bad option; `root` names the folder in the message.
    void validate(std::string_view root = "") const {
        VGT_CHECK(frames >= 1 && frame_stride >= 1 && clip_stride >= 0, "VideoFolder",
                  "'{}': expected frames >= 1, frame_stride >= 1 and clip_stride >= 0, found {}, {} and {}", root,
                  frames, frame_stride, clip_stride);
        VGT_CHECK(height >= 1 && width >= 1 && height <= 16384 && width <= 16384, "VideoFolder",
                  "'{}': expected height and width in [1, 16384], found {} x {}", root, height, width);
        VGT_CHECK(channels == 1 || channels == 3, "VideoFolder", "'{}': expected channels 1 or 3, found {}", root,
                  channels);
        VGT_CHECK(!extensions.empty(), "VideoFolder", "'{}': expected at least one file extension, found none", root);
    }
};

/// One video of the folder and its clips.
struct VideoFolderEntry {
    std::string path;
    std::string caption;
    std::int64_t frames = 0;             // frames in the file
    std::int64_t height = 0, width = 0;  // stored size
    double fps = 0;
    std::int64_t clips = 0;       // clips cut from it
    std::int64_t first_clip = 0;  // data set index of its first clip
};

/// A clip and where it came from.
struct VideoFolderClip : Clip {
    std::string path;              // the video file
    std::int64_t first_frame = 0;  // index in the file of the clip's first frame
    double fps = 0;                // the clip's frame rate (the file's divided by frame_stride)
};

namespace detail {

/// How many clips of `frames` frames, `frame_stride` apart, starting every
/// `clip_stride` frames, fit in a video of `video_frames` frames.
inline std::int64_t clips_in_video(std::int64_t video_frames, std::int64_t frames, std::int64_t frame_stride,
                                   std::int64_t clip_stride) {
    const std::int64_t span = (frames - 1) * frame_stride + 1;
    if (video_frames < span) return 0;
    return (video_frames - span) / clip_stride + 1;
}

/// The size to read a video of src_h × src_w at, before the centre crop to
/// height × width (`crop`), or the final size (`stretch`).
inline std::pair<std::int64_t, std::int64_t> video_read_size(std::int64_t src_h, std::int64_t src_w,
                                                             std::int64_t height, std::int64_t width, VideoFit fit) {
    if (fit == VideoFit::stretch) return {height, width};
    const double scale = std::max(static_cast<double>(height) / static_cast<double>(src_h),
                                  static_cast<double>(width) / static_cast<double>(src_w));
    return {std::max<std::int64_t>(height, std::llround(static_cast<double>(src_h) * scale)),
            std::max<std::int64_t>(width, std::llround(static_cast<double>(src_w) * scale))};
}

/// The caption file of a video: same folder, same name, extension .txt.
inline std::string caption_path(const std::string& video) {
    return std::filesystem::path(video).replace_extension(".txt").string();
}

/// The caption in `path` (whole file, surrounding white space and a UTF-8
/// byte-order mark removed); false when there is no such file.
inline bool read_caption(const std::string& path, std::string& caption) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return false;
    std::ifstream in(path, std::ios::binary);
    VGT_CHECK(in.good(), "VideoFolder", "'{}': expected a readable caption file, found one that cannot be opened",
              path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    const auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && space(text.back())) text.pop_back();
    std::size_t start = 0;
    while (start < text.size() && space(text[start])) ++start;
    caption = text.substr(start);
    return true;
}

}  // namespace detail

class VideoFolder {
public:
    explicit VideoFolder(std::string root, VideoFolderOptions options = {})
        : root_(std::move(root)), options_(std::move(options)) {
        options_.validate(root_);
        if (!io::video_io_available()) io::detail::no_ffmpeg("VideoFolder");
        const std::vector<std::string> files = list_videos();
        VGT_CHECK(!files.empty(), "VideoFolder", "'{}': expected video files ({}), found none", root_,
                  fmt::join(options_.extensions, " "));
        const std::int64_t clip_stride = clip_step();
        std::int64_t longest = 0;
        for (const std::string& file : files) {
            VideoFolderEntry entry;
            entry.path = file;
            const io::VideoInfo info = io::probe_video(file);
            entry.height = info.height;
            entry.width = info.width;
            entry.fps = info.fps;
            entry.frames = info.frame_count > 0 ? info.frame_count : io::count_video_frames(file);
            longest = std::max(longest, entry.frames);
            if (!detail::read_caption(detail::caption_path(file), entry.caption)) {
                VGT_CHECK(!options_.require_captions, "VideoFolder",
                          "'{}': expected a caption file '{}' (require_captions), found none", file,
                          detail::caption_path(file));
                entry.caption = options_.default_caption;
            }
            entry.clips = detail::clips_in_video(entry.frames, options_.frames, options_.frame_stride, clip_stride);
            entry.first_clip = size_;
            size_ += entry.clips;
            entries_.push_back(std::move(entry));
        }
        VGT_CHECK(size_ > 0, "VideoFolder",
                  "'{}': expected a video of at least {} frames (a clip of {} frames {} apart), found {} videos of at "
                  "most {} frames",
                  root_, span(), options_.frames, options_.frame_stride, entries_.size(), longest);
    }

    /// Number of clips over all videos.
    std::int64_t size() const { return size_; }

    /// Clip `index`: float32 [frames, channels, height, width] in [0, 1], the
    /// video's caption, and where it came from.
    VideoFolderClip get(std::int64_t index) const {
        VGT_CHECK(index >= 0 && index < size_, "VideoFolder::get", "expected an index in [0, {}), found {}", size_,
                  index);
        const auto [entry, clip] = locate(index);
        const VideoFolderEntry& video = entries_[entry];
        const auto [read_h, read_w] =
            detail::video_read_size(video.height, video.width, options_.height, options_.width, options_.fit);
        io::ReadOptions read;
        read.first_frame = clip * clip_step();
        read.max_frames = options_.frames;
        read.stride = options_.frame_stride;
        read.height = read_h;
        read.width = read_w;
        read.strict = options_.strict;
        io::Video decoded = io::read_video(video.path, read);
        VGT_CHECK(decoded.frames.size(0) == options_.frames, "VideoFolder::get",
                  "'{}': expected {} frames from frame {} (the file was counted at {} frames), decoded {}", video.path,
                  options_.frames, read.first_frame, video.frames, decoded.frames.size(0));

        Tensor frames = decoded.frames;
        const std::int64_t top = (read_h - options_.height) / 2, left = (read_w - options_.width) / 2;
        if (read_h != options_.height || read_w != options_.width)
            frames = slice(slice(frames, 2, top, top + options_.height), 3, left, left + options_.width);
        if (options_.channels == 1) frames = luma(frames);

        VideoFolderClip out;
        out.video = vgt::detail::contiguous_data(frames);
        out.caption = video.caption;
        out.path = video.path;
        out.first_frame = read.first_frame;
        out.fps = decoded.fps;
        return out;
    }

    /// Which video (index into videos()) and which of its clips clip `index` is.
    std::pair<std::size_t, std::int64_t> locate(std::int64_t index) const {
        VGT_CHECK(index >= 0 && index < size_, "VideoFolder::locate", "expected an index in [0, {}), found {}", size_,
                  index);
        const auto after = std::upper_bound(entries_.begin(), entries_.end(), index,
                                            [](std::int64_t i, const VideoFolderEntry& e) { return i < e.first_clip; });
        // Videos with no clips share their first_clip with the next one: step back to the one holding the index.
        auto it = std::prev(after);
        while (it->clips == 0 || index >= it->first_clip + it->clips) --it;
        return {static_cast<std::size_t>(it - entries_.begin()), index - it->first_clip};
    }

    /// The videos found, in path order (those too short for a clip included, with 0 clips).
    const std::vector<VideoFolderEntry>& videos() const { return entries_; }
    const VideoFolderOptions& options() const { return options_; }
    const std::string& root() const { return root_; }

private:
    std::int64_t span() const { return static_cast<std::int64_t>(options_.frames - 1) * options_.frame_stride + 1; }
    std::int64_t clip_step() const { return options_.clip_stride > 0 ? options_.clip_stride : span(); }

    std::vector<std::string> list_videos() const {
        namespace fs = std::filesystem;
        std::error_code ec;
        VGT_CHECK(fs::is_directory(root_, ec), "VideoFolder", "'{}': expected a folder of videos, found {}", root_,
                  fs::exists(root_, ec) ? "something that is not a folder" : "nothing");
        std::vector<std::string> extensions;
        for (std::string ext : options_.extensions) {
            for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            extensions.push_back(ext);
        }
        std::vector<std::string> files;
        auto consider = [&](const fs::directory_entry& entry) {
            std::error_code entry_ec;
            if (!entry.is_regular_file(entry_ec)) return;
            const std::string ext = io::detail::lowercase_extension(entry.path().string());
            if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end())
                files.push_back(entry.path().string());
        };
        if (options_.recursive) {
            for (auto it = fs::recursive_directory_iterator(root_, fs::directory_options::skip_permission_denied, ec);
                 !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
                consider(*it);
        } else {
            for (auto it = fs::directory_iterator(root_, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
                consider(*it);
        }
        VGT_CHECK(!ec, "VideoFolder", "'{}': expected a readable folder, found an error listing it ({})", root_,
                  ec.message());
        std::sort(files.begin(), files.end());
        return files;
    }

    /// [T, 3, H, W] to [T, 1, H, W] with BT.601 luma weights.
    static Tensor luma(const Tensor& rgb) {
        const Tensor src = vgt::detail::contiguous_data(rgb);
        const std::int64_t frames = rgb.size(0), plane = rgb.size(2) * rgb.size(3);
        Tensor out = Tensor::empty(Shape{frames, 1, rgb.size(2), rgb.size(3)});
        const float* in = src.data<float>();
        float* o = out.data<float>();
        for (std::int64_t t = 0; t < frames; ++t)
            for (std::int64_t p = 0; p < plane; ++p) {
                const float* px = in + t * 3 * plane + p;
                o[t * plane + p] = 0.299f * px[0] + 0.587f * px[plane] + 0.114f * px[2 * plane];
            }
        return out;
    }

    std::string root_;
    VideoFolderOptions options_;
    std::vector<VideoFolderEntry> entries_;
    std::int64_t size_ = 0;
};

static_assert(Dataset<VideoFolder>, "VideoFolder must satisfy the Dataset concept");

}  // namespace vgt::data
