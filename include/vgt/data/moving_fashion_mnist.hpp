#pragma once
// MovingFashionMNIST: Fashion-MNIST's 28×28 clothing images bouncing in a
// larger frame, as Moving MNIST moves digits, with a caption from the class
// names ("a sneaker moving down") and ground truth per frame.
//
// The images come from Debian's dataset-fashion-mnist (the four gzip IDX
// files under /usr/share/datasets/fashion-mnist), or any folder holding the
// same files, compressed or not: the `directory` option, else the
// environment variable VGT_FASHION_MNIST_DIR, else Debian's folder. The
// train and test splits are the files' own (60000 and 10000 images); a
// decoded split is cached for the life of the process, so any number of
// data sets over it decode the files once.
//
// Clip i is a function of (options, i) only: its random numbers are the
// Philox stream `seed` from number i·kDrawsPerClip on, so it is the same on
// every machine, in any order, on any thread.
//
// Motion. Each item's 28×28 box has its top-left corner (x, y) in
// [0, W-28] × [0, H-28] and a constant velocity (vx, vy) in pixels per
// frame; moving past a wall reflects the position back inside and flips that
// velocity component, so an item never leaves the frame. Without `subpixel`,
// positions and velocities are whole pixels and each image is pasted as is;
// with it, both are real and the image is resampled bilinearly at the
// fractional position. Items are composited by the per-pixel maximum, as
// Moving MNIST does, on a black background; values are in [0, 1].

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/caption.hpp"
#include "vgt/data/dataset.hpp"
#include "vgt/io/idx.hpp"

namespace vgt::data {

/// Fashion-MNIST's side length: every image is kFashionMNISTSize × kFashionMNISTSize.
inline constexpr int kFashionMNISTSize = 28;
inline constexpr int kFashionMNISTClasses = 10;

/// The data set's own class names, by label.
inline constexpr std::array<std::string_view, kFashionMNISTClasses> kFashionMNISTClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

/// The nouns captions use for each label: the class names made into nouns
/// that take "a"/"an" ("a pair of trousers", "an ankle boot").
inline constexpr std::array<std::string_view, kFashionMNISTClasses> kFashionMNISTCaptionNouns = {
    "T-shirt", "pair of trousers", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"};

/// The caption nouns as strings, for parse_caption(text, {}, nouns, false).
inline std::vector<std::string> fashion_mnist_caption_nouns() {
    return {kFashionMNISTCaptionNouns.begin(), kFashionMNISTCaptionNouns.end()};
}

enum class FashionMNISTSplit { Train, Test };

inline std::string_view split_name(FashionMNISTSplit split) { return split == FashionMNISTSplit::Train ? "train" : "test"; }

/// "train" or "test" (for the command line and configs).
inline FashionMNISTSplit fashion_mnist_split_named(std::string_view name) {
    if (name == "train") return FashionMNISTSplit::Train;
    if (name == "test") return FashionMNISTSplit::Test;
    fail("MovingFashionMNIST", "expected split 'train' or 'test', found '{}'", name);
}

/// Where Debian's dataset-fashion-mnist puts the files.
inline constexpr std::string_view kFashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist";

/// The folder to read: `directory` if not empty, else $VGT_FASHION_MNIST_DIR
/// if set and not empty, else Debian's folder.
inline std::string fashion_mnist_directory(const std::string& directory = "") {
    if (!directory.empty()) return directory;
    const char* env = std::getenv("VGT_FASHION_MNIST_DIR");
    if (env != nullptr && *env != '\0') return env;
    return std::string(kFashionMNISTDebianDir);
}

/// One split of Fashion-MNIST as the files hold it.
struct FashionMNIST {
    Tensor images;  // uint8 [N, 28, 28], 0 = background
    Tensor labels;  // uint8 [N], in [0, 10)
    std::string images_path, labels_path;

    std::int64_t size() const { return labels.numel(); }
    int label(std::int64_t i) const { return labels.data<std::uint8_t>()[i]; }
    const std::uint8_t* image(std::int64_t i) const {
        return images.data<std::uint8_t>() + i * kFashionMNISTSize * kFashionMNISTSize;
    }
};

namespace detail {

/// `<dir>/<stem>.gz`, else `<dir>/<stem>` (a gunzipped copy), else an error
/// that says how to get the files.
inline std::string find_fashion_mnist_file(const std::string& dir, const std::string& stem) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (const std::string& name : {stem + ".gz", stem}) {
        const fs::path path = fs::path(dir) / name;
        if (fs::is_regular_file(path, ec)) return path.string();
    }
    fail("load_fashion_mnist",
         "expected Fashion-MNIST's '{}.gz' (or '{}') in '{}', found no such file: install Debian's "
         "dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or point VGT_FASHION_MNIST_DIR (or the "
         "data set's `directory` option) at a folder holding {{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte[.gz]",
         stem, stem, dir);
}

inline std::shared_ptr<const FashionMNIST> decode_fashion_mnist(const std::string& images_path,
                                                               const std::string& labels_path) {
    constexpr std::string_view op = "load_fashion_mnist";
    auto data = std::make_shared<FashionMNIST>();
    data->images_path = images_path;
    data->labels_path = labels_path;
    data->images = io::read_idx(images_path);
    data->labels = io::read_idx(labels_path);
    const Tensor& images = data->images;
    const Tensor& labels = data->labels;
    VGT_CHECK(images.dtype() == DType::UInt8 && images.rank() == 3 && images.size(1) == kFashionMNISTSize &&
                  images.size(2) == kFashionMNISTSize && images.size(0) > 0,
              op, "'{}': expected uint8 images of shape [N, 28, 28] with N > 0, found {} of shape {}", images_path,
              dtype_name(images.dtype()), images.shape());
    VGT_CHECK(labels.dtype() == DType::UInt8 && labels.rank() == 1, op,
              "'{}': expected uint8 labels of shape [N], found {} of shape {}", labels_path, dtype_name(labels.dtype()),
              labels.shape());
    VGT_CHECK(labels.size(0) == images.size(0), op, "'{}': expected {} labels (one per image in '{}'), found {}",
              labels_path, images.size(0), images_path, labels.size(0));
    const std::uint8_t* l = labels.data<std::uint8_t>();
    for (std::int64_t i = 0; i < labels.numel(); ++i)
        VGT_CHECK(l[i] < kFashionMNISTClasses, op, "'{}': expected labels in [0, {}), found {} at index {}",
                  labels_path, kFashionMNISTClasses, static_cast<int>(l[i]), i);
    return data;
}

}  // namespace detail

/// One split of Fashion-MNIST from `directory` (see fashion_mnist_directory),
/// decoded once per process: later calls for the same files return the same
/// shared data.
inline std::shared_ptr<const FashionMNIST> load_fashion_mnist(FashionMNISTSplit split,
                                                             const std::string& directory = "") {
    const std::string dir = fashion_mnist_directory(directory);
    const std::string prefix = split == FashionMNISTSplit::Train ? "train" : "t10k";
    const std::string images_path = detail::find_fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
    const std::string labels_path = detail::find_fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");

    static std::mutex mutex;
    static std::map<std::pair<std::string, std::string>, std::shared_ptr<const FashionMNIST>> cache;
    // Held while decoding, so two threads asking at once decode once.
    const std::lock_guard<std::mutex> lock(mutex);
    auto& entry = cache[{images_path, labels_path}];
    if (!entry) entry = detail::decode_fashion_mnist(images_path, labels_path);
    return entry;
}

/// Most items a MovingFashionMNIST clip holds.
inline constexpr int kMaxFashionItems = 16;

struct MovingFashionMNISTOptions {
    FashionMNISTSplit split = FashionMNISTSplit::Train;
    std::string directory;          // empty: $VGT_FASHION_MNIST_DIR, else Debian's folder
    std::int64_t clips = 0;         // clips per epoch; 0: one per image of the split
    int frames = 20;                // T
    int height = 64, width = 64;    // H, W: at least 28
    int channels = 1;               // 1 (grey) or 3 (the grey value in R, G and B)
    int min_items = 1, max_items = 2;
    double min_speed = 2.0, max_speed = 4.0;  // pixels per frame, at most the room to move (size - 28)
    bool compass_directions = true;  // the 8 compass directions, else any angle (as Moving MNIST)
    bool subpixel = false;           // real positions and bilinear resampling, else whole pixels
    bool varied_captions = false;    // a phrasing per clip (caption.hpp), else phrasing 0
    std::uint64_t seed = 0;

    /// Throws vgt::Error naming the first bad option (the files are checked when read).
    void validate() const {
        constexpr std::string_view op = "MovingFashionMNIST";
        VGT_CHECK(frames >= 1, op, "expected frames >= 1, found {}", frames);
        VGT_CHECK(height >= kFashionMNISTSize && width >= kFashionMNISTSize, op,
                  "expected a frame of at least 28x28 (the images' size), found {}x{} (height x width)", height,
                  width);
        VGT_CHECK(height <= 8192 && width <= 8192 && frames <= 100000 &&
                      static_cast<std::int64_t>(frames) * height * width <= (std::int64_t{1} << 31),
                  op, "expected at most 8192x8192 pixels and 2^31 pixels in a clip, found T={} H={} W={}", frames,
                  height, width);
        VGT_CHECK(channels == 1 || channels == 3, op, "expected channels 1 or 3, found {}", channels);
        VGT_CHECK(min_items >= 1 && min_items <= max_items && max_items <= kMaxFashionItems, op,
                  "expected 1 <= min_items <= max_items <= {}, found min_items {} and max_items {}", kMaxFashionItems,
                  min_items, max_items);
        const int room = std::min(height, width) - kFashionMNISTSize;
        // One reflection per step keeps an item inside when it moves at most the room it has.
        VGT_CHECK(std::isfinite(min_speed) && std::isfinite(max_speed) && 0 <= min_speed &&
                      min_speed <= max_speed && max_speed <= room,
                  op,
                  "expected 0 <= min_speed <= max_speed <= {} (the room to move in a {}x{} frame), found min_speed "
                  "{} and max_speed {}",
                  room, height, width, min_speed, max_speed);
        VGT_CHECK(clips >= 0, op, "expected clips >= 0 (0: one per image), found {}", clips);
    }
};

/// Ground truth of one item in one frame.
struct FashionItemState {
    /// Top-left corner of the item's 28×28 box: image pixel (r, c) lands on
    /// frame pixel (y + r, x + c), bilinearly spread over its neighbours when
    /// the position is fractional (`subpixel`).
    double x = 0, y = 0;
    /// Velocity in pixels per frame as of this frame (after any bounce that
    /// brought it here): the next frame's position is this one plus the
    /// velocity, reflected at the walls.
    double vx = 0, vy = 0;
};

/// Ground truth of one item over the clip.
struct FashionItem {
    int label = 0;                   // class, 0..9
    std::int64_t image_index = 0;    // which image of the split
    bool bouncing = false;           // hits a wall during the clip
    std::vector<FashionItemState> frames;  // one per frame
    std::string_view class_name() const { return kFashionMNISTClassNames[static_cast<std::size_t>(label)]; }
};

/// A MovingFashionMNIST clip: video [T, C, H, W], caption, and per-item tracks
/// in the order the caption names them.
struct FashionClip : Clip {
    std::vector<FashionItem> items;
};

class MovingFashionMNIST {
public:
    /// Random numbers reserved per clip (a clip draws 2, plus 5 per item).
    static constexpr std::uint64_t kDrawsPerClip = 1024;
    static constexpr int kMaxItems = kMaxFashionItems;

    explicit MovingFashionMNIST(MovingFashionMNISTOptions options = {}) : options_(std::move(options)) {
        const auto& o = options_;
        o.validate();
        data_ = load_fashion_mnist(o.split, o.directory);
        size_ = o.clips > 0 ? o.clips : data_->size();
    }

    std::int64_t size() const { return size_; }
    const MovingFashionMNISTOptions& options() const { return options_; }
    /// The images and labels of the split the clips are made of.
    const FashionMNIST& source() const { return *data_; }

    FashionClip get(std::int64_t index) const {
        VGT_CHECK(index >= 0 && index < size_, "MovingFashionMNIST::get", "expected an index in [0, {}), found {}",
                  size_, index);
        const auto& o = options_;
        Draws draws{Generator(o.seed, static_cast<std::uint64_t>(index) * kDrawsPerClip)};
        FashionClip clip;
        const int count = o.min_items + static_cast<int>(draws.below(o.max_items - o.min_items + 1));
        const int phrasing = static_cast<int>(draws.below(kCaptionPhrasings));
        const double limit_x = o.width - kFashionMNISTSize, limit_y = o.height - kFashionMNISTSize;

        std::vector<CaptionObject> caption_objects;
        for (int k = 0; k < count; ++k) {
            FashionItem item;
            item.image_index = draws.below(data_->size());
            item.label = data_->label(item.image_index);
            double x = limit_x * draws.uniform(), y = limit_y * draws.uniform();
            const double speed = o.min_speed + (o.max_speed - o.min_speed) * draws.uniform();
            // Unit direction, image coordinates (y grows down). Compass
            // directions from a table, so that "up" has vx exactly 0.
            double ux = 0, uy = 0;
            if (o.compass_directions) {
                constexpr double d = std::numbers::sqrt2 / 2;
                static constexpr std::array<std::array<double, 2>, 8> compass = {
                    {{1, 0}, {d, -d}, {0, -1}, {-d, -d}, {-1, 0}, {-d, d}, {0, 1}, {d, d}}};
                const auto& u = compass[static_cast<std::size_t>(draws.below(8))];
                ux = u[0], uy = u[1];
            } else {
                const double angle = 2 * std::numbers::pi * draws.uniform();
                ux = std::cos(angle), uy = -std::sin(angle);
            }
            double vx = speed * ux, vy = speed * uy;
            if (!o.subpixel) x = std::round(x), y = std::round(y), vx = std::round(vx), vy = std::round(vy);
            item.frames.resize(static_cast<std::size_t>(o.frames));
            for (int t = 0; t < o.frames; ++t) {
                if (t > 0) {
                    x += vx;
                    y += vy;
                    // Both axes reflect (no short circuit): a corner bounces on both.
                    const bool bounced_x = reflect(x, vx, limit_x);
                    const bool bounced_y = reflect(y, vy, limit_y);
                    item.bouncing = item.bouncing || bounced_x || bounced_y;
                }
                item.frames[static_cast<std::size_t>(t)] = {x, y, vx, vy};
            }
            const FashionItemState& first = item.frames.front();
            CaptionObject object;
            object.noun = std::string(kFashionMNISTCaptionNouns[static_cast<std::size_t>(item.label)]);
            object.direction = direction_of(first.vx, first.vy);
            object.bouncing = item.bouncing;
            caption_objects.push_back(std::move(object));
            clip.items.push_back(std::move(item));
        }
        clip.caption = make_caption(caption_objects, o.varied_captions ? phrasing : 0);
        clip.video = render(clip.items);
        return clip;
    }

private:
    /// The next numbers of the clip's Philox stream.
    struct Draws {
        Generator generator;
        std::uint32_t word() {
            const std::uint64_t j = generator.advance(1);
            return philox_block(generator.seed(), j >> 2).x[j & 3];
        }
        /// Uniform in [0, n), n < 2^32 (multiply-shift: bias below n / 2^32).
        std::int64_t below(std::int64_t n) {
            return static_cast<std::int64_t>((static_cast<std::uint64_t>(word()) * static_cast<std::uint64_t>(n)) >> 32);
        }
        double uniform() { return philox_unit(word()); }  // in (0, 1)
    };

    /// Reflects a coordinate that left [0, limit] back inside (one reflection
    /// suffices: a step is at most `limit`); true when it bounced.
    static bool reflect(double& p, double& v, double limit) {
        if (p < 0) {
            p = -p;
            v = -v;
            return true;
        }
        if (p > limit) {
            p = 2 * limit - p;
            v = -v;
            return true;
        }
        return false;
    }

    Tensor render(const std::vector<FashionItem>& items) const {
        const auto& o = options_;
        const std::int64_t T = o.frames, C = o.channels, H = o.height, W = o.width;
        Tensor video = Tensor::zeros(Shape{T, C, H, W}, DType::Float32);
        float* out = video.data<float>();
        constexpr int S = kFashionMNISTSize;
        for (std::int64_t t = 0; t < T; ++t) {
            float* frame = out + t * C * H * W;
            for (const FashionItem& item : items) {
                const std::uint8_t* image = data_->image(item.image_index);
                const FashionItemState& s = item.frames[static_cast<std::size_t>(t)];
                const double fx0 = std::floor(s.x), fy0 = std::floor(s.y);
                const auto ix = static_cast<std::int64_t>(fx0), iy = static_cast<std::int64_t>(fy0);
                const float ax = static_cast<float>(s.x - fx0), ay = static_cast<float>(s.y - fy0);
                // Pixel (r, c) of the box takes image (r - ay, c - ax) bilinearly: a
                // splat of each image pixel onto its four neighbours, which moves the
                // intensity centroid by exactly (ay, ax). Whole positions: a copy.
                const int rows = ay > 0 ? S + 1 : S, cols = ax > 0 ? S + 1 : S;
                auto at = [&](int r, int c) -> float {
                    return (r < 0 || c < 0 || r >= S || c >= S) ? 0.0f : static_cast<float>(image[r * S + c]) / 255.0f;
                };
                for (int r = 0; r < rows; ++r) {
                    float* row = frame + (iy + r) * W + ix;
                    for (int c = 0; c < cols; ++c) {
                        const float v = (1 - ay) * ((1 - ax) * at(r, c) + ax * at(r, c - 1)) +
                                        ay * ((1 - ax) * at(r - 1, c) + ax * at(r - 1, c - 1));
                        row[c] = std::max(row[c], v);
                    }
                }
            }
            for (std::int64_t c = 1; c < C; ++c) std::copy(frame, frame + H * W, frame + c * H * W);
        }
        return video;
    }

    MovingFashionMNISTOptions options_;
    std::shared_ptr<const FashionMNIST> data_;
    std::int64_t size_ = 0;
};

static_assert(Dataset<MovingFashionMNIST>);

}  // namespace vgt::data
