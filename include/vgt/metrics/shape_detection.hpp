#pragma once
// Finding MovingShapes-style objects in a frame, by colour alone, with no
// knowledge of how the frame was made (a generated video is read the same
// way as a ground-truth clip).
//
// 1. Colour segmentation: a pixel belongs to the palette colour nearest to
//    it in RGB (values in [0, 1]) when that distance is at most
//    `colour_tolerance`; otherwise it is background. With black or dark grey
//    backgrounds and the saturated palettes of data/palette.hpp, the default
//    0.25 keeps a shape's interior and drops the anti-aliased rim, whose
//    pixels are mixtures with the background (half the distance between the
//    closest palette colours, red and orange, is 0.25).
// 2. Connected components of each colour, 8-connected (a triangle's thin
//    apex stays attached); components under `min_area` pixels are noise.
// 3. Shape class from three moments of the component's pixel set, in its
//    bounding box of w×h pixels (pixel centres as points):
//      extent       = area / (w·h)                          square 1, circle π/4, triangle and
//                                                           diamond 1/2
//      centre depth = (cy − top + 0.5) / h                  1/2 for the symmetric shapes, 2/3 for
//                                                           a triangle with its apex up (its
//                                                           centroid is h/3 above its base)
//      corner share = the share of the area outside the     square 1/2, circle 1 − 2/π,
//                     diamond inscribed in the box          triangle 1/3, diamond 0
//    The class is the nearest of these prototypes among the shapes allowed,
//    in the distance with weights 1, 2 and 1/2: centre depth alone separates
//    triangle from diamond, and corner share mainly helps shapes under ten
//    pixels across, whose extents blur into each other. On MovingShapes
//    clips with sizes 10–16 px, one to three detections in 1000 get a wrong
//    class (a small circle that rasterises almost square); tracks vote them
//    away.
// 4. Centroid weighted by coverage, so that it moves smoothly with the
//    shape instead of in whole-pixel steps of its pixel set: the background
//    colour is the per-channel median of the unlabelled pixels two pixels
//    outside the bounding box, and every pixel of the component or of the
//    background in the box grown by one pixel counts with its projection on
//    the line from that background to the palette colour, clamped to [0, 1]
//    (the share of the pixel the shape covers, as in the generator's
//    ground-truth centroid). Within 0.2 px of MovingShapes' ground truth on
//    black, 0.6 px over its textures.
//
// Limits: shapes of one colour that touch merge into one component; a shape
// cut by another (occlusion) or by the image border loses its class; very
// small shapes (a few pixels across) are too coarse to classify; colours
// outside the palette, or a background as bright and saturated as a palette
// colour, are invisible or mistaken.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/data/palette.hpp"
#include "vgt/metrics/frame_scores.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::metrics {

struct ShapeDetectionOptions {
    data::Palette palette = data::default_palette();
    std::vector<data::ShapeKind> shapes = data::all_shape_kinds();  // the classes a component may get
    double colour_tolerance = 0.25;  // largest RGB distance from a palette colour, values in [0, 1]
    std::int64_t min_area = 9;       // pixels; smaller components are ignored

    void validate(std::string_view op) const {
        data::validate_palette(palette, op);
        VGT_CHECK(palette.size() < 65535, op, "expected fewer than 65535 palette colours, found {}", palette.size());
        VGT_CHECK(!shapes.empty(), op, "expected at least one shape class, found none");
        VGT_CHECK(colour_tolerance > 0 && colour_tolerance <= 2, op, "expected colour_tolerance in (0, 2], found {}",
                  colour_tolerance);
        VGT_CHECK(min_area >= 1, op, "expected min_area >= 1 pixel, found {}", min_area);
    }
};

/// One object found in a frame.
struct ShapeDetection {
    std::size_t colour = 0;  // index into the palette
    data::ShapeKind shape = data::ShapeKind::circle;
    double x = 0, y = 0;     // coverage-weighted centroid in pixels; pixel (x, y)'s centre is the point (x, y)
    std::int64_t area = 0;   // pixels
    std::array<std::int64_t, 4> box{};  // x0, x1, y0, y1, inclusive
    double extent = 0;        // area / box area
    double centre_depth = 0;  // (y − y0 + 0.5) / box height
    double corner_share = 0;  // share of the area outside the box's inscribed diamond
};

namespace detail {

/// Extent, centre depth and corner share of each shape class (see the top of this header).
inline std::array<double, 3> shape_prototype(data::ShapeKind kind) {
    switch (kind) {
        case data::ShapeKind::circle: return {0.7853981633974483, 0.5, 0.36338022763241865};
        case data::ShapeKind::square: return {1.0, 0.5, 0.5};
        case data::ShapeKind::triangle: return {0.5, 2.0 / 3.0, 1.0 / 3.0};
        case data::ShapeKind::diamond: return {0.5, 0.5, 0.0};
    }
    return {0, 0, 0};
}

inline data::ShapeKind classify_shape(const std::array<double, 3>& features,
                                      const std::vector<data::ShapeKind>& allowed) {
    constexpr std::array<double, 3> kWeights = {1.0, 2.0, 0.5};
    data::ShapeKind best = allowed.front();
    double best_distance = std::numeric_limits<double>::infinity();
    for (data::ShapeKind kind : allowed) {
        const auto p = shape_prototype(kind);
        double d = 0;
        for (std::size_t j = 0; j < 3; ++j) d += kWeights[j] * kWeights[j] * (features[j] - p[j]) * (features[j] - p[j]);
        if (d < best_distance) best_distance = d, best = kind;
    }
    return best;
}

/// Label of each pixel of an RGB frame (planes of h·w values): palette index + 1, or 0 for background.
inline void label_colours(const double* rgb, std::int64_t pixels, const data::Palette& palette, double tolerance,
                          std::uint16_t* labels) {
    std::vector<std::array<double, 3>> colours;
    for (const auto& c : palette) {
        const auto u = c.unit_rgb();
        colours.push_back({u[0], u[1], u[2]});
    }
    const double limit = tolerance * tolerance;
    for (std::int64_t i = 0; i < pixels; ++i) {
        const double r = rgb[i], g = rgb[pixels + i], b = rgb[2 * pixels + i];
        double best = std::numeric_limits<double>::infinity();
        std::size_t best_index = 0;
        for (std::size_t k = 0; k < colours.size(); ++k) {
            const double dr = r - colours[k][0], dg = g - colours[k][1], db = b - colours[k][2];
            const double d = dr * dr + dg * dg + db * db;
            if (d < best) best = d, best_index = k;
        }
        labels[i] = best <= limit ? static_cast<std::uint16_t>(best_index + 1) : std::uint16_t{0};
    }
}

/// The median of a few values (they are reordered).
inline double median_of(std::vector<double>& v) {
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    return *mid;
}

/// The coverage-weighted centroid of component `id` (see the top of this header), or
/// nothing when no pixel has positive coverage.
inline std::optional<std::array<double, 2>> coverage_centroid(const double* rgb, const std::uint16_t* labels,
                                                              const std::vector<std::int32_t>& component,
                                                              std::int32_t id, std::int64_t h, std::int64_t w,
                                                              const std::array<std::int64_t, 4>& box,
                                                              const std::array<float, 3>& colour) {
    const std::int64_t pixels = h * w;
    // The background: the per-channel median of the unlabelled pixels 2 px outside the box.
    std::array<double, 3> background{0, 0, 0};
    std::array<std::vector<double>, 3> ring;
    const std::int64_t rx0 = box[0] - 2, rx1 = box[1] + 2, ry0 = box[2] - 2, ry1 = box[3] + 2;
    for (std::int64_t y = std::max<std::int64_t>(ry0, 0); y <= std::min(ry1, h - 1); ++y)
        for (std::int64_t x = std::max<std::int64_t>(rx0, 0); x <= std::min(rx1, w - 1); ++x) {
            if (y != ry0 && y != ry1 && x != rx0 && x != rx1) continue;
            const std::int64_t q = y * w + x;
            if (labels[q] != 0) continue;
            for (int c = 0; c < 3; ++c) ring[static_cast<std::size_t>(c)].push_back(rgb[c * pixels + q]);
        }
    if (ring[0].size() >= 4)
        for (std::size_t c = 0; c < 3; ++c) background[c] = median_of(ring[c]);
    const std::array<double, 3> axis = {colour[0] - background[0], colour[1] - background[1], colour[2] - background[2]};
    const double norm = axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2];
    if (norm < 1e-6) return std::nullopt;
    // Each pixel's share of the colour: its projection on background → colour, clamped to [0, 1].
    double sum = 0, sx = 0, sy = 0;
    for (std::int64_t y = std::max<std::int64_t>(box[2] - 1, 0); y <= std::min(box[3] + 1, h - 1); ++y)
        for (std::int64_t x = std::max<std::int64_t>(box[0] - 1, 0); x <= std::min(box[1] + 1, w - 1); ++x) {
            const std::int64_t q = y * w + x;
            if (component[static_cast<std::size_t>(q)] != id && (labels[q] != 0 || component[static_cast<std::size_t>(q)] >= 0))
                continue;  // another object's pixel
            double share = 0;
            for (int c = 0; c < 3; ++c)
                share += (rgb[c * pixels + q] - background[static_cast<std::size_t>(c)]) * axis[static_cast<std::size_t>(c)];
            share = std::clamp(share / norm, 0.0, 1.0);
            sum += share;
            sx += share * static_cast<double>(x);
            sy += share * static_cast<double>(y);
        }
    if (sum <= 0) return std::nullopt;
    return std::array<double, 2>{sx / sum, sy / sum};
}

/// The 8-connected components of equal non-zero labels of one RGB frame, as detections.
inline std::vector<ShapeDetection> components(const double* rgb, const std::uint16_t* labels, std::int64_t h,
                                              std::int64_t w, const ShapeDetectionOptions& o) {
    std::vector<ShapeDetection> found;
    std::vector<std::int32_t> found_ids;
    std::vector<std::int32_t> component(static_cast<std::size_t>(h * w), -1);
    std::vector<std::int64_t> stack;
    std::int32_t next_id = 0;
    for (std::int64_t start = 0; start < h * w; ++start) {
        const std::uint16_t label = labels[start];
        if (label == 0 || component[static_cast<std::size_t>(start)] >= 0) continue;
        const std::int32_t id = next_id++;
        component[static_cast<std::size_t>(start)] = id;
        stack.assign(1, start);
        std::int64_t area = 0, x0 = w, x1 = -1, y0 = h, y1 = -1;
        double sx = 0, sy = 0;
        while (!stack.empty()) {
            const std::int64_t p = stack.back();
            stack.pop_back();
            const std::int64_t y = p / w, x = p % w;
            ++area;
            sx += static_cast<double>(x);
            sy += static_cast<double>(y);
            x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
            for (std::int64_t ny = std::max<std::int64_t>(y - 1, 0); ny <= std::min(y + 1, h - 1); ++ny)
                for (std::int64_t nx = std::max<std::int64_t>(x - 1, 0); nx <= std::min(x + 1, w - 1); ++nx) {
                    const std::int64_t q = ny * w + nx;
                    if (labels[q] == label && component[static_cast<std::size_t>(q)] < 0) {
                        component[static_cast<std::size_t>(q)] = id;
                        stack.push_back(q);
                    }
                }
        }
        if (area < o.min_area) continue;
        ShapeDetection d;
        d.colour = static_cast<std::size_t>(label - 1);
        d.area = area;
        d.box = {x0, x1, y0, y1};
        // Moments of the pixel set, for the class.
        const double mx = sx / static_cast<double>(area), my = sy / static_cast<double>(area);
        const double bw = static_cast<double>(x1 - x0 + 1), bh = static_cast<double>(y1 - y0 + 1);
        const double cx = 0.5 * static_cast<double>(x0 + x1), cy = 0.5 * static_cast<double>(y0 + y1);
        std::int64_t outside = 0;
        for (std::int64_t y = y0; y <= y1; ++y)
            for (std::int64_t x = x0; x <= x1; ++x)
                if (component[static_cast<std::size_t>(y * w + x)] == id)
                    outside += std::abs(static_cast<double>(x) - cx) / (0.5 * bw) +
                                   std::abs(static_cast<double>(y) - cy) / (0.5 * bh) > 1;
        d.extent = static_cast<double>(area) / (bw * bh);
        d.centre_depth = (my - static_cast<double>(y0) + 0.5) / bh;
        d.corner_share = static_cast<double>(outside) / static_cast<double>(area);
        d.shape = classify_shape({d.extent, d.centre_depth, d.corner_share}, o.shapes);
        d.x = mx, d.y = my;
        found.push_back(d);
        found_ids.push_back(id);
    }
    // Centroids once every pixel has its component, so that neighbours are told apart.
    for (std::size_t k = 0; k < found.size(); ++k) {
        ShapeDetection& d = found[k];
        const auto c = coverage_centroid(rgb, labels, component, found_ids[k], h, w, d.box,
                                         o.palette[d.colour].unit_rgb());
        if (c) d.x = (*c)[0], d.y = (*c)[1];
    }
    return found;
}

inline void check_rgb_video(const Tensor& video, std::string_view op) {
    check_video(video, op, "RGB");
    VGT_CHECK(video.size(1) == 3, op, "expected an RGB video [T, 3, H, W], found {}", video.shape());
}

}  // namespace detail

/// The objects in each frame of an RGB video [T, 3, H, W] with values in [0, 1].
inline std::vector<std::vector<ShapeDetection>> detect_shapes(const Tensor& video,
                                                              const ShapeDetectionOptions& options = {}) {
    constexpr std::string_view op = "detect_shapes";
    options.validate(op);
    detail::check_rgb_video(video, op);
    const std::vector<double> values = detail::finite_values(video, op, "video");
    const std::int64_t T = video.size(0), H = video.size(2), W = video.size(3);
    std::vector<std::vector<ShapeDetection>> frames(static_cast<std::size_t>(T));
    parallel_for(T, [&](std::int64_t t) {
        std::vector<std::uint16_t> labels(static_cast<std::size_t>(H * W));
        detail::label_colours(values.data() + t * 3 * H * W, H * W, options.palette, options.colour_tolerance,
                              labels.data());
        frames[static_cast<std::size_t>(t)] = detail::components(values.data() + t * 3 * H * W, labels.data(), H, W, options);
    }, 1);
    return frames;
}

/// The objects in one RGB frame [3, H, W].
inline std::vector<ShapeDetection> detect_shapes_in_frame(const Tensor& frame,
                                                          const ShapeDetectionOptions& options = {}) {
    VGT_CHECK(frame.defined() && frame.rank() == 3 && frame.size(0) == 3, "detect_shapes_in_frame",
              "expected an RGB frame [3, H, W], found {}", frame.defined() ? frame.str() : std::string("undefined"));
    return detect_shapes(unsqueeze(frame, 0), options).front();
}

}  // namespace vgt::metrics
