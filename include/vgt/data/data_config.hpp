#pragma once
// The data sets' options in JSON (io/json_config.hpp): a training config's
// "data" object, or a file for `vgt data preview --config`.
//
//   {"dataset": "moving-shapes",
//    "moving_shapes": {"frames": 16, "height": 64, "width": 64, "shapes": ["circle", "square"],
//                      "palette": "primary", "texture": "noise"}}
//
// Keys and their defaults are the options structs' fields; `palette` is a
// built-in palette's name or a list of {"name": "red", "rgb": [255, 0, 0]}.
// Only the chosen data set's object is validated.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/data/moving_fashion_mnist.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/data/palette.hpp"
#include "vgt/data/video_folder.hpp"
#include "vgt/io/json_config.hpp"

namespace vgt::data {

template <class Visitor>
void visit_fields(Visitor& v, NamedColour& c) {
    v("name", c.name);
    v("rgb", c.rgb);
}

}  // namespace vgt::data

namespace vgt::io {

template <>
struct JsonCodec<data::ShapeKind> : JsonEnumCodec<data::ShapeKind, data::shape_name, data::parse_shape_kind> {};

template <>
struct JsonCodec<data::BackgroundTexture>
    : JsonEnumCodec<data::BackgroundTexture, data::texture_name, data::parse_texture> {};

template <>
struct JsonCodec<data::FashionMNISTSplit>
    : JsonEnumCodec<data::FashionMNISTSplit, data::split_name, data::fashion_mnist_split_named> {};

template <>
struct JsonCodec<data::VideoFit> : JsonEnumCodec<data::VideoFit, data::video_fit_name, data::parse_video_fit> {};

/// A palette: a built-in palette's name, or a list of named colours.
template <>
struct JsonCodec<data::Palette> {
    static data::Palette read(const nlohmann::json& j, const ConfigPath& path) {
        if (j.is_string()) return detail::with_path(path, [&] { return data::palette_named(j.get<std::string>()); });
        if (!j.is_array())
            detail::config_type_error(path, "a palette name or a list of {\"name\": ..., \"rgb\": [r, g, b]}", j);
        data::Palette palette;
        for (std::size_t i = 0; i < j.size(); ++i)
            palette.push_back(JsonCodec<data::NamedColour>::read(j[i], path.index(i)));
        return palette;
    }
    static nlohmann::json write(const data::Palette& palette) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& c : palette) out.push_back(JsonCodec<data::NamedColour>::write(c));
        return out;
    }
};

}  // namespace vgt::io

namespace vgt::data {

/// The data set names a config's "dataset" takes.
inline constexpr std::string_view kDataSetNames = "moving-shapes, moving-fashion-mnist, video-folder";

/// A VideoFolder data set: its folder and options (one JSON object).
struct VideoFolderSource {
    std::string root;  // the folder of videos
    VideoFolderOptions options;
};

struct DataConfig {
    std::string dataset = "moving-shapes";  // one of kDataSetNames
    MovingShapesOptions moving_shapes;
    MovingFashionMNISTOptions moving_fashion_mnist;
    VideoFolderSource video_folder;

    /// Throws vgt::Error naming the first bad option of the chosen data set.
    void validate() const {
        if (dataset == "moving-shapes") return moving_shapes.validate();
        if (dataset == "moving-fashion-mnist") return moving_fashion_mnist.validate();
        if (dataset == "video-folder") {
            VGT_CHECK(!video_folder.root.empty(), "DataConfig", "expected video_folder.root (a folder of videos), found none");
            return video_folder.options.validate(video_folder.root);
        }
        fail("DataConfig", "expected dataset {}, found '{}'", kDataSetNames, dataset);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, MovingShapesOptions& o) {
    v("frames", o.frames);
    v("height", o.height);
    v("width", o.width);
    v("min_objects", o.min_objects);
    v("max_objects", o.max_objects);
    v("shapes", o.shapes);
    v("palette", o.palette);
    v("min_size", o.min_size);
    v("max_size", o.max_size);
    v("min_speed", o.min_speed);
    v("max_speed", o.max_speed);
    v("occlusion", o.occlusion);
    v("texture", o.texture);
    v("texture_strength", o.texture_strength);
    v("texture_scale", o.texture_scale);
    v("seed", o.seed);
    v("epoch_size", o.epoch_size);
    v("held_out", o.held_out);
    v("split", o.split);
}

template <class Visitor>
void visit_fields(Visitor& v, MovingFashionMNISTOptions& o) {
    v("split", o.split);
    v("directory", o.directory);
    v("clips", o.clips);
    v("frames", o.frames);
    v("height", o.height);
    v("width", o.width);
    v("channels", o.channels);
    v("min_items", o.min_items);
    v("max_items", o.max_items);
    v("min_speed", o.min_speed);
    v("max_speed", o.max_speed);
    v("compass_directions", o.compass_directions);
    v("subpixel", o.subpixel);
    v("varied_captions", o.varied_captions);
    v("seed", o.seed);
}

template <class Visitor>
void visit_fields(Visitor& v, VideoFolderSource& s) {
    v("root", s.root);
    VideoFolderOptions& o = s.options;
    v("frames", o.frames);
    v("frame_stride", o.frame_stride);
    v("clip_stride", o.clip_stride);
    v("height", o.height);
    v("width", o.width);
    v("channels", o.channels);
    v("fit", o.fit);
    v("recursive", o.recursive);
    v("require_captions", o.require_captions);
    v("default_caption", o.default_caption);
    v("strict", o.strict);
    v("extensions", o.extensions);
}

template <class Visitor>
void visit_fields(Visitor& v, DataConfig& c) {
    v("dataset", c.dataset);
    v("moving_shapes", c.moving_shapes);
    v("moving_fashion_mnist", c.moving_fashion_mnist);
    v("video_folder", c.video_folder);
}

/// A DataConfig from a JSON object (absent keys keep their defaults),
/// validated. `root` names the object in messages ("data").
inline DataConfig data_config_from_json(const nlohmann::json& j, std::string root = "") {
    const io::ConfigPath path(root);
    DataConfig config = io::options_from_json<DataConfig>(j, std::move(root));
    // A bad value of the chosen data set: the message names its object.
    std::string chosen = config.dataset;
    for (char& c : chosen) c = c == '-' ? '_' : c;
    if (chosen == "moving_shapes" || chosen == "moving_fashion_mnist" || chosen == "video_folder")
        io::detail::with_path(path.key(chosen), [&] { config.validate(); });
    else
        io::detail::with_path(path.key("dataset"), [&] { config.validate(); });
    return config;
}

}  // namespace vgt::data
