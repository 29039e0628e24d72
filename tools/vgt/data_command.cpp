// `vgt data preview`: a look at what a data set feeds a model. Renders the
// first K clips of MovingShapes or MovingFashionMNIST (options from flags),
// or of any data set a JSON data config describes (--config, with
// VideoFolder), and writes them as an
// animated GIF or video (the clips tiled in a grid, every frame), a PNG (one
// row of frames per clip) or an .npy batch [K, T, 3, S, S]; prints each
// clip's caption.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "vgt/core/error.hpp"
#include "vgt/data/batch.hpp"
#include "vgt/data/data_config.hpp"
#include "vgt/data/moving_fashion_mnist.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/data/video_folder.hpp"
#include "vgt/io/image.hpp"
#include "vgt/io/json_config.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/io/video.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::cli {

namespace {

struct PreviewClips {
    Tensor video;                       // [K, T, 3, S, S]
    std::vector<std::string> captions;  // K
};

template <class Dataset>
PreviewClips first_clips(const Dataset& dataset, std::int64_t count) {
    VGT_CHECK(count <= dataset.size(), "vgt data preview", "expected --count at most the data set's {} clips, found {}",
              dataset.size(), count);
    std::vector<vgt::data::clip_type_t<Dataset>> clips;
    for (std::int64_t i = 0; i < count; ++i) clips.push_back(dataset.get(i));
    auto batch = vgt::data::collate(std::move(clips));
    return {batch.video, batch.captions};
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// The first clips of the data set a JSON data config file describes.
PreviewClips clips_from_config(const std::string& path, std::int64_t count) {
    const vgt::data::DataConfig config = vgt::data::data_config_from_json(vgt::io::read_json_config(path));
    if (config.dataset == "moving-shapes") return first_clips(vgt::data::MovingShapes(config.moving_shapes), count);
    if (config.dataset == "moving-fashion-mnist")
        return first_clips(vgt::data::MovingFashionMNIST(config.moving_fashion_mnist), count);
    return first_clips(vgt::data::VideoFolder(config.video_folder.root, config.video_folder.options), count);
}

/// The first clips of MovingShapes or MovingFashionMNIST with options from flags.
PreviewClips clips_from_flags(Flags& flags, std::int64_t count) {
    const std::string dataset = flags.text("dataset", "moving-shapes");
    const std::int64_t frames = flags.integer("frames", 16);
    const std::int64_t size = flags.integer("size", 64);
    const auto seed = static_cast<std::uint64_t>(flags.integer("seed", 0, 0));
    if (dataset == "moving-shapes") {
        vgt::data::MovingShapesOptions o;
        o.frames = frames;
        o.height = o.width = size;
        o.seed = seed;
        o.max_objects = flags.integer("objects", o.max_objects);
        o.min_objects = std::min(o.min_objects, o.max_objects);
        o.texture = vgt::data::parse_texture(flags.text("texture", "none"));
        o.occlusion = flags.flag("occlusion");
        // Sizes follow the frame (10–16 pixels in 64), so any --size works.
        o.max_size = std::max(1.0, std::min(o.max_size * static_cast<double>(size) / 64.0, static_cast<double>(size - 1)));
        o.min_size = std::max(1.0, std::min(o.min_size * static_cast<double>(size) / 64.0, o.max_size));
        o.max_speed = std::min(o.max_speed * static_cast<double>(size) / 64.0, static_cast<double>(size));
        o.min_speed = std::min(o.min_speed, o.max_speed);
        o.epoch_size = std::max<std::int64_t>(count, 1);
        flags.require_all_used();
        return first_clips(vgt::data::MovingShapes(o), count);
    }
    if (dataset == "moving-fashion-mnist") {
        vgt::data::MovingFashionMNISTOptions o;
        VGT_CHECK(frames <= 100000 && size <= 8192, "vgt data preview",
                  "expected --frames <= 100000 and --size <= 8192, found {} and {}", frames, size);
        o.frames = static_cast<int>(frames);
        o.height = o.width = static_cast<int>(size);
        o.channels = 3;
        o.seed = seed;
        o.max_items = static_cast<int>(flags.integer("objects", o.max_items));
        o.min_items = std::min(o.min_items, o.max_items);
        o.split = vgt::data::fashion_mnist_split_named(flags.text("split", "train"));
        o.max_speed = std::min(o.max_speed, static_cast<double>(std::max<std::int64_t>(size - 28, 0)));
        o.min_speed = std::min(o.min_speed, o.max_speed);
        o.varied_captions = true;
        flags.require_all_used();
        return first_clips(vgt::data::MovingFashionMNIST(o), count);
    }
    flags.require_all_used();
    throw vgt::Error(fmt::format("vgt data preview: expected --dataset moving-shapes or moving-fashion-mnist (or "
                                 "--config FILE for any data set), found '{}'",
                                 dataset));
}

}  // namespace

int command_data_preview(Flags& flags) {
    const std::string out = flags.required("out");
    const std::int64_t count = flags.integer("count", 4);
    const std::int64_t fps = flags.integer("fps", 8);
    flags.apply_threads();
    PreviewClips preview;
    if (const auto config = flags.get("config")) {
        for (const char* option : {"dataset", "frames", "size", "seed", "objects", "texture", "occlusion", "split"})
            VGT_CHECK(!flags.get(option), "vgt data preview",
                      "expected the data set's options in --config or as flags, not both: found --config and --{}",
                      option);
        flags.require_all_used();
        preview = clips_from_config(*config, count);
    } else {
        preview = clips_from_flags(flags, count);
    }

    if (ends_with(out, ".npy")) {
        vgt::io::write_npy(out, preview.video);
    } else if (ends_with(out, ".png")) {
        vgt::io::save_frame_grid(out, preview.video);
    } else {
        vgt::io::WriteOptions options;
        options.fps = static_cast<double>(fps);
        vgt::io::write_video(out, vgt::io::video_grid(preview.video), options);
    }
    for (std::size_t i = 0; i < preview.captions.size(); ++i) fmt::print("{}: {}\n", i, preview.captions[i]);
    fmt::print("wrote {} ({} clips of {} frames, {}x{})\n", out, preview.video.size(0), preview.video.size(1),
               preview.video.size(4), preview.video.size(3));
    return 0;
}

}  // namespace vgt::cli
