#pragma once
// MovingShapes: clips of coloured shapes moving in straight lines and
// bouncing off the walls, made from a seed with no files. Each clip carries a
// caption made from its objects (data/caption.hpp states the direction rule)
// and its ground truth per object and frame: centroid, velocity, visible
// mask, colour, shape and size.
//
// Same seed, same bytes, on every machine. All randomness comes from Philox
// words (clip i of seed s reads words [i·2^32, (i+1)·2^32) of a stream keyed
// by s), and everything that decides a pixel is integer arithmetic: positions
// live on a grid of 1/64 pixel, each pixel is 4×4 point samples, inside-tests
// are integer comparisons, and a pixel's value is one division of an integer
// sum. The only floating-point steps (the direction of a velocity: a square
// root, a division and a product, then rounding to the grid) are single
// IEEE-754 operations, exact-rounded everywhere and not contractible into FMAs.
// (Compiling with -ffast-math gives up that guarantee.)
//
// Coordinates: pixel (x, y) is column x, row y, and its centre is the point
// (x, y), so an object's position is the mask-weighted mean of pixel indices
// when nothing covers it. Velocities are pixels per frame, "up" is -y.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/data/caption.hpp"
#include "vgt/data/dataset.hpp"
#include "vgt/data/palette.hpp"
#include "vgt/data/philox_words.hpp"

namespace vgt::data {

/// The shapes. `size` is the width and height of the shape's bounding box:
/// a circle's diameter, a square's side, an isosceles triangle's base and
/// height (apex up), a diamond's diagonals (a square turned 45°).
enum class ShapeKind { circle, square, triangle, diamond };

inline std::string_view shape_name(ShapeKind kind) {
    switch (kind) {
        case ShapeKind::circle: return "circle";
        case ShapeKind::square: return "square";
        case ShapeKind::triangle: return "triangle";
        case ShapeKind::diamond: return "diamond";
    }
    return "circle";
}

inline std::vector<ShapeKind> all_shape_kinds() {
    return {ShapeKind::circle, ShapeKind::square, ShapeKind::triangle, ShapeKind::diamond};
}

inline ShapeKind parse_shape_kind(std::string_view name) {
    for (ShapeKind k : all_shape_kinds())
        if (shape_name(k) == name) return k;
    fail("MovingShapes", "expected a shape name (circle, square, triangle, diamond), found '{}'", name);
}

/// The background: black, smooth grey value noise, or grey stripes (both static).
enum class BackgroundTexture { none, noise, stripes };

inline std::string_view texture_name(BackgroundTexture texture) {
    switch (texture) {
        case BackgroundTexture::none: return "none";
        case BackgroundTexture::noise: return "noise";
        case BackgroundTexture::stripes: return "stripes";
    }
    return "none";
}

inline BackgroundTexture parse_texture(std::string_view name) {
    if (name == "none") return BackgroundTexture::none;
    if (name == "noise") return BackgroundTexture::noise;
    if (name == "stripes") return BackgroundTexture::stripes;
    fail("MovingShapes", "expected a background texture (none, noise, stripes), found '{}'", name);
}

struct MovingShapesOptions {
    std::int64_t frames = 16;  // T
    std::int64_t height = 64;  // H
    std::int64_t width = 64;   // W
    std::int64_t min_objects = 1;
    std::int64_t max_objects = 2;  // at most the palette's size: colours in a clip are distinct
    std::vector<ShapeKind> shapes = {ShapeKind::circle, ShapeKind::square, ShapeKind::triangle};
    Palette palette = default_palette();
    double min_size = 10;  // pixels, see ShapeKind; max_size < min(H, W)
    double max_size = 16;
    double min_speed = 1;  // pixels per frame
    double max_speed = 3;
    bool occlusion = false;  // false: objects' bounding boxes never overlap in any frame
    BackgroundTexture texture = BackgroundTexture::none;
    double texture_strength = 0.25;  // brightest background value, in [0, 1]
    double texture_scale = 8;        // pixels: noise lattice cell, or stripe half-period
    std::uint64_t seed = 0;
    std::int64_t epoch_size = 10000;  // size(): clips per epoch
    // Combinations kept out of training, to measure generalisation to
    // prompts never seen: "colour shape direction" triples such as
    // "red circle left" or "blue square up-left" (direction_name's words).
    // split "train" draws a clip again until none of its objects is held
    // out, "held-out" until all of them are, "all" ignores the list.
    std::vector<std::string> held_out;
    std::string split = "all";

    /// Throws vgt::Error naming the first bad option.
    void validate() const {
        constexpr std::string_view op = "MovingShapes";
        VGT_CHECK(frames >= 1 && height >= 1 && width >= 1, op,
                  "expected frames, height and width >= 1, found T={} H={} W={}", frames, height, width);
        VGT_CHECK(height <= 8192 && width <= 8192 && frames <= 100000 && frames * height * width <= (1ll << 31),
                  op, "expected at most 8192×8192 pixels and 2^31 pixels in a clip, found T={} H={} W={}", frames,
                  height, width);
        validate_palette(palette, op);
        VGT_CHECK(min_objects >= 1 && min_objects <= max_objects, op,
                  "expected 1 <= min_objects <= max_objects, found min_objects={} max_objects={}", min_objects,
                  max_objects);
        VGT_CHECK(max_objects <= static_cast<std::int64_t>(palette.size()) && max_objects <= 64, op,
                  "expected max_objects <= the palette's {} colours (colours in a clip are distinct) and <= 64, "
                  "found {}",
                  palette.size(), max_objects);
        VGT_CHECK(!shapes.empty(), op, "expected at least one shape, found none");
        for (std::size_t i = 0; i < shapes.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                VGT_CHECK(shapes[i] != shapes[j], op, "expected distinct shapes, found '{}' twice",
                          shape_name(shapes[i]));
        const auto room = static_cast<double>(std::min(height, width));
        VGT_CHECK(min_size >= 1 && min_size <= max_size && max_size <= room - 1, op,
                  "expected 1 <= min_size <= max_size <= min(H, W) - 1 = {} pixels, found min_size={} max_size={}",
                  room - 1, min_size, max_size);
        VGT_CHECK(min_speed >= 0 && min_speed <= max_speed && max_speed <= static_cast<double>(std::max(height, width)),
                  op, "expected 0 <= min_speed <= max_speed <= max(H, W) pixels per frame, found min_speed={} max_speed={}",
                  min_speed, max_speed);
        VGT_CHECK(texture_strength >= 0 && texture_strength <= 1, op,
                  "expected texture_strength in [0, 1], found {}", texture_strength);
        VGT_CHECK(texture_scale >= 1 && texture_scale <= 4096, op, "expected texture_scale in [1, 4096] pixels, found {}",
                  texture_scale);
        VGT_CHECK(epoch_size >= 1 && epoch_size <= (1ll << 32), op, "expected epoch_size in [1, 2^32], found {}",
                  epoch_size);
        VGT_CHECK(split == "all" || split == "train" || split == "held-out", op,
                  "expected split 'all', 'train' or 'held-out', found '{}'", split);
        VGT_CHECK(split != "held-out" || !held_out.empty(), op,
                  "expected held_out combinations for split 'held-out', found none");
        for (const std::string& text : held_out) parse_combination(text);
    }

    /// One held_out entry, checked against the palette and the shapes.
    struct Combination {
        std::size_t colour = 0;  // index into palette
        ShapeKind shape = ShapeKind::circle;
        Direction direction = Direction::still;

        bool operator==(const Combination&) const = default;
    };

    Combination parse_combination(std::string_view text) const {
        constexpr std::string_view op = "MovingShapes";
        std::vector<std::string> words;
        std::size_t at = 0;
        while (at < text.size()) {
            const std::size_t end = std::min(text.find(' ', at), text.size());
            if (end > at) words.emplace_back(text.substr(at, end - at));
            at = end + 1;
        }
        VGT_CHECK(words.size() == 3, op, "expected a held_out entry 'colour shape direction' (three words), found '{}'",
                  text);
        Combination c;
        const NamedColour* colour = find_colour(palette, words[0]);
        VGT_CHECK(colour != nullptr, op, "expected a held_out colour from the palette, found '{}' in '{}'", words[0],
                  text);
        c.colour = static_cast<std::size_t>(colour - palette.data());
        bool shape_known = false;
        for (ShapeKind k : shapes)
            if (shape_name(k) == words[1]) {
                c.shape = k;
                shape_known = true;
            }
        VGT_CHECK(shape_known, op, "expected a held_out shape from the options' shapes, found '{}' in '{}'", words[1],
                  text);
        bool direction_known = false;
        for (int d = 0; d <= static_cast<int>(Direction::down_right); ++d)
            if (direction_name(static_cast<Direction>(d)) == words[2]) {
                c.direction = static_cast<Direction>(d);
                direction_known = true;
            }
        VGT_CHECK(direction_known, op,
                  "expected a held_out direction (still, left, right, up, down, up-left, up-right, down-left, "
                  "down-right), found '{}' in '{}'",
                  words[2], text);
        return c;
    }
};

/// Ground truth of one object of a clip.
struct ShapeObject {
    ShapeKind shape = ShapeKind::circle;
    NamedColour colour;
    double size = 0;  // pixels, see ShapeKind
    int depth = 0;    // z-order: an object covers every object of lower depth
    Tensor position;  // [T, 2] float64: centroid (x, y) in pixels, in every frame (also when covered)
    Tensor velocity;  // [T, 2] float64: (vx, vy) in pixels per frame (see MovingShapes::get)
    Tensor mask;      // [T, H, W] float32: the fraction of each pixel where this object is visible
    Direction direction = Direction::still;  // of velocity[0], as the caption says
    bool bouncing = false;                   // reverses on an axis at some frame strictly inside the clip

    std::string_view shape_name() const { return data::shape_name(shape); }
};

/// A MovingShapes clip: the video and caption, and its objects' ground truth.
struct ShapesClip : Clip {
    std::vector<ShapeObject> objects;  // in the caption's order; objects[k].depth == k
    std::int64_t index = 0;            // the data set index it was made from
    int phrasing = 0;                  // which caption phrasing (data/caption.hpp)
};

namespace detail {

inline constexpr std::int64_t kUnitsPerPixel = 64;  // positions and sizes on a 1/64-pixel grid
inline constexpr int kSamples = 4;                  // 4×4 point samples per pixel
inline constexpr std::uint64_t kShapesStreamKey = 0x6d6f76696e677368ull;  // keeps shape streams apart from others
inline constexpr std::uint64_t kTextureOffset = std::uint64_t{1} << 31;     // the texture's half of a clip's words
inline constexpr std::uint64_t kAttemptWords = std::uint64_t{1} << 20;      // words of one draw of a clip's objects
inline constexpr std::int64_t kSplitAttempts = 1000;                        // draws before a split gives up (< 2^11)

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
inline std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

/// Extent of a shape of size s (grid units) around its centroid, rounded out:
/// {left, right, top, bottom}, all >= 0.
inline std::array<std::int64_t, 4> shape_extent(ShapeKind kind, std::int64_t s) {
    const std::int64_t half = (s + 1) / 2;
    if (kind == ShapeKind::triangle) return {half, half, (2 * s + 2) / 3, (s + 2) / 3};
    return {half, half, half, half};
}

/// Whether the point (dx, dy) from the centroid lies in the shape (grid units).
inline bool shape_contains(ShapeKind kind, std::int64_t s, std::int64_t dx, std::int64_t dy) {
    const std::int64_t ax = dx < 0 ? -dx : dx;
    const std::int64_t ay = dy < 0 ? -dy : dy;
    switch (kind) {
        case ShapeKind::circle: return 4 * (dx * dx + dy * dy) <= s * s;
        case ShapeKind::square: return 2 * ax <= s && 2 * ay <= s;
        case ShapeKind::diamond: return 2 * (ax + ay) <= s;
        case ShapeKind::triangle:
            // Apex at dy = -2s/3, base at dy = s/3 and s wide: centroid at the origin.
            return 3 * dy <= s && 6 * ax <= 3 * dy + 2 * s;
    }
    return false;
}

/// One axis of a bouncing motion: the centroid moves along the unfolded line
/// u(t) = u0 + v·t in [0, R] reflected at both ends, offset by `low`.
struct BouncingAxis {
    std::int64_t low = 0, range = 1, u0 = 0, v = 0;

    std::int64_t unfolded(std::int64_t t) const { return u0 + v * t; }
    std::int64_t position(std::int64_t t) const {
        const std::int64_t m = floor_mod(unfolded(t), 2 * range);
        return low + (m <= range ? m : 2 * range - m);
    }
    /// The velocity leaving frame t (at a wall, the reflected one).
    std::int64_t velocity(std::int64_t t) const {
        if (v == 0) return 0;
        const std::int64_t q = floor_mod(2 * unfolded(t) + (v > 0 ? 1 : -1), 4 * range);
        return q < 2 * range ? v : -v;
    }
    /// Wall contacts strictly between frames 0 and last.
    std::int64_t contacts_inside(std::int64_t last) const {
        const std::int64_t a = std::min(unfolded(0), unfolded(last));
        const std::int64_t b = std::max(unfolded(0), unfolded(last));
        if (b - a < 2) return 0;
        return floor_div(b - 1, range) - floor_div(a, range);  // multiples of R in (a, b)
    }
};

struct ObjectPlan {
    ShapeKind shape;
    std::size_t colour;
    std::int64_t size;  // grid units
    BouncingAxis x, y;

    std::array<std::int64_t, 4> box(std::int64_t t) const {  // {x0, x1, y0, y1}, grid units
        const auto e = shape_extent(shape, size);
        const std::int64_t cx = x.position(t), cy = y.position(t);
        return {cx - e[0], cx + e[1], cy - e[2], cy + e[3]};
    }
};

/// Draws the position and velocity of one axis: centroid anywhere in [low, high].
inline BouncingAxis draw_axis(PhiloxWords& words, std::int64_t low, std::int64_t high, std::int64_t v) {
    BouncingAxis axis;
    axis.low = low;
    axis.range = high - low;
    axis.u0 = words.uniform(0, axis.range);
    axis.v = v;
    return axis;
}

/// Grey background value 0..255 of every pixel, row-major [H, W].
inline std::vector<std::int32_t> render_background(const MovingShapesOptions& o, PhiloxWords& words) {
    const std::int64_t H = o.height, W = o.width;
    std::vector<std::int32_t> grey(static_cast<std::size_t>(H * W), 0);
    const auto level = static_cast<std::int64_t>(o.texture_strength * 255.0);  // rounded down: at most the strength
    const std::int64_t scale = std::max<std::int64_t>(1, static_cast<std::int64_t>(o.texture_scale + 0.5));
    if (o.texture == BackgroundTexture::noise) {
        // Value noise: random levels on a lattice of `scale`-pixel cells,
        // bilinear between lattice points, sampled at pixel centres.
        const std::int64_t nx = W / scale + 2, ny = H / scale + 2;
        std::vector<std::int64_t> lattice(static_cast<std::size_t>(nx * ny));
        for (auto& v : lattice) v = words.uniform(0, level);
        const std::int64_t den = 2 * scale;
        for (std::int64_t y = 0; y < H; ++y) {
            const std::int64_t iy = (2 * y + 1) / den, ry = (2 * y + 1) % den;
            for (std::int64_t x = 0; x < W; ++x) {
                const std::int64_t ix = (2 * x + 1) / den, rx = (2 * x + 1) % den;
                auto at = [&](std::int64_t i, std::int64_t j) { return lattice[static_cast<std::size_t>(j * nx + i)]; };
                const std::int64_t top = at(ix, iy) * (den - rx) + at(ix + 1, iy) * rx;
                const std::int64_t bottom = at(ix, iy + 1) * (den - rx) + at(ix + 1, iy + 1) * rx;
                const std::int64_t sum = top * (den - ry) + bottom * ry;
                grey[static_cast<std::size_t>(y * W + x)] = static_cast<std::int32_t>((sum + den * den / 2) / (den * den));
            }
        }
    } else if (o.texture == BackgroundTexture::stripes) {
        // A triangle wave of period 2·scale along one of eight directions.
        static constexpr std::array<std::array<std::int64_t, 2>, 8> directions = {
            {{1, 0}, {0, 1}, {1, 1}, {1, -1}, {2, 1}, {1, 2}, {2, -1}, {1, -2}}};
        const auto& d = directions[static_cast<std::size_t>(words.uniform(0, 7))];
        const std::int64_t period = 2 * scale;
        const std::int64_t phase = words.uniform(0, period - 1);
        for (std::int64_t y = 0; y < H; ++y)
            for (std::int64_t x = 0; x < W; ++x) {
                const std::int64_t m = floor_mod(d[0] * x + d[1] * y + phase, period);
                const std::int64_t tri = m <= scale ? m : period - m;  // 0..scale
                grey[static_cast<std::size_t>(y * W + x)] = static_cast<std::int32_t>((2 * level * tri + scale) / (2 * scale));
            }
    }
    return grey;
}

}  // namespace detail

/// The MovingShapes data set: clip i is a pure function of (options, i).
class MovingShapes {
public:
    explicit MovingShapes(MovingShapesOptions options = {}) : options_(std::move(options)) {
        options_.validate();
        for (const std::string& text : options_.held_out) held_out_.push_back(options_.parse_combination(text));
    }

    const MovingShapesOptions& options() const { return options_; }
    std::int64_t size() const { return options_.epoch_size; }

    /// Colour and shape names, as parse_caption wants them.
    std::vector<std::string> colour_names() const {
        std::vector<std::string> names;
        for (const auto& c : options_.palette) names.push_back(c.name);
        return names;
    }
    std::vector<std::string> shape_names() const {
        std::vector<std::string> names;
        for (ShapeKind k : options_.shapes) names.emplace_back(shape_name(k));
        return names;
    }

    /// Clip `index` (0 <= index < size()). Ground-truth velocity[t] is the
    /// velocity leaving frame t: position[t+1] - position[t] whenever no wall
    /// is hit strictly between frames t and t+1; at a wall it is already
    /// reflected. The caption names direction_of(velocity[0]).
    ShapesClip get(std::int64_t index) const {
        VGT_CHECK(index >= 0 && index < size(), "MovingShapes::get", "expected an index in [0, {}), found {}", size(),
                  index);
        const MovingShapesOptions& o = options_;
        const std::uint64_t key = o.seed ^ detail::kShapesStreamKey;
        const std::uint64_t first_word = static_cast<std::uint64_t>(index) << 32;
        PhiloxWords texture_words(Generator(key, first_word + detail::kTextureOffset));

        ShapesClip clip;
        clip.index = index;
        std::size_t objects = 0;
        std::vector<detail::ObjectPlan> plan;
        // Attempt a reads its own stretch of the clip's words, so split "all"
        // (always attempt 0) makes the same clips as before splits existed.
        for (std::int64_t attempt = 0;; ++attempt) {
            VGT_CHECK(attempt < detail::kSplitAttempts, "MovingShapes::get",
                      "expected a clip of split '{}' within {} draws for index {}, found none; hold out fewer "
                      "combinations, or ones that the speeds and shapes allow",
                      o.split, detail::kSplitAttempts, index);
            PhiloxWords words(Generator(key, first_word + static_cast<std::uint64_t>(attempt) * detail::kAttemptWords));
            objects = static_cast<std::size_t>(words.uniform(o.min_objects, o.max_objects));
            clip.phrasing = static_cast<int>(words.uniform(0, kCaptionPhrasings - 1));
            plan = plan_objects(words, objects);
            if (in_split(plan)) break;
        }
        const std::vector<std::int32_t> background = detail::render_background(o, texture_words);

        const std::int64_t T = o.frames, H = o.height, W = o.width;
        clip.video = Tensor::empty(Shape{T, 3, H, W}, DType::Float32);
        std::vector<Tensor> masks;
        for (std::size_t k = 0; k < objects; ++k) masks.push_back(Tensor::zeros(Shape{T, H, W}, DType::Float32));
        render(plan, background, clip.video, masks);

        std::vector<CaptionObject> said;
        for (std::size_t k = 0; k < objects; ++k) {
            const detail::ObjectPlan& p = plan[k];
            ShapeObject obj;
            obj.shape = p.shape;
            obj.colour = o.palette[p.colour];
            obj.size = static_cast<double>(p.size) / detail::kUnitsPerPixel;
            obj.depth = static_cast<int>(k);
            obj.position = Tensor::empty(Shape{T, 2}, DType::Float64);
            obj.velocity = Tensor::empty(Shape{T, 2}, DType::Float64);
            double* pos = obj.position.data<double>();
            double* vel = obj.velocity.data<double>();
            constexpr double unit = detail::kUnitsPerPixel;
            for (std::int64_t t = 0; t < T; ++t) {
                // Grid coordinates count from the image's left/top edge; pixel centres sit at +0.5.
                pos[2 * t] = static_cast<double>(p.x.position(t)) / unit - 0.5;
                pos[2 * t + 1] = static_cast<double>(p.y.position(t)) / unit - 0.5;
                vel[2 * t] = static_cast<double>(p.x.velocity(t)) / unit;
                vel[2 * t + 1] = static_cast<double>(p.y.velocity(t)) / unit;
            }
            obj.mask = masks[k];
            obj.direction = direction_of(vel[0], vel[1]);
            obj.bouncing = p.x.contacts_inside(T - 1) > 0 || p.y.contacts_inside(T - 1) > 0;
            said.push_back({obj.colour.name, std::string(obj.shape_name()), obj.direction, obj.bouncing});
            clip.objects.push_back(std::move(obj));
        }
        clip.caption = make_caption(said, clip.phrasing);
        return clip;
    }

    /// The held_out combinations, parsed.
    const std::vector<MovingShapesOptions::Combination>& held_out() const { return held_out_; }

private:
    MovingShapesOptions options_;
    std::vector<MovingShapesOptions::Combination> held_out_;

    /// Whether a drawn clip belongs to the options' split.
    bool in_split(const std::vector<detail::ObjectPlan>& plan) const {
        if (options_.split == "all") return true;
        std::size_t held = 0;
        for (const detail::ObjectPlan& p : plan) {
            constexpr double unit = detail::kUnitsPerPixel;
            const MovingShapesOptions::Combination c{
                p.colour, p.shape,
                direction_of(static_cast<double>(p.x.velocity(0)) / unit, static_cast<double>(p.y.velocity(0)) / unit)};
            held += std::find(held_out_.begin(), held_out_.end(), c) != held_out_.end();
        }
        return options_.split == "train" ? held == 0 : held == plan.size();
    }

    /// Shapes, colours and sizes, then positions and velocities.
    std::vector<detail::ObjectPlan> plan_objects(PhiloxWords& words, std::size_t objects) const {
        const MovingShapesOptions& o = options_;
        constexpr std::int64_t unit = detail::kUnitsPerPixel;
        auto to_units = [](double pixels) { return static_cast<std::int64_t>(pixels * unit + 0.5); };

        std::vector<std::size_t> colours(o.palette.size());
        for (std::size_t i = 0; i < colours.size(); ++i) colours[i] = i;
        std::vector<detail::ObjectPlan> plan(objects);
        for (std::size_t k = 0; k < objects; ++k) {  // distinct colours: a partial Fisher–Yates shuffle
            const auto pick = static_cast<std::size_t>(words.uniform(static_cast<std::int64_t>(k),
                                                                     static_cast<std::int64_t>(colours.size()) - 1));
            std::swap(colours[k], colours[pick]);
            plan[k].colour = colours[k];
            plan[k].shape = o.shapes[static_cast<std::size_t>(words.uniform(0, static_cast<std::int64_t>(o.shapes.size()) - 1))];
            plan[k].size = words.uniform(to_units(o.min_size), to_units(o.max_size));
        }
        const std::int64_t min_speed = to_units(o.min_speed), max_speed = to_units(o.max_speed);
        const std::int64_t still = to_units(kStillSpeed);
        auto draw_motion = [&](detail::ObjectPlan& p) {
            // A direction uniform on the circle: a point uniform in a disk, by rejection.
            std::int64_t a = 0, b = 0;
            constexpr std::int64_t r = 1 << 15;
            do {
                a = words.uniform(-r, r);
                b = words.uniform(-r, r);
            } while (a * a + b * b == 0 || a * a + b * b > r * r);
            const double speed = static_cast<double>(words.uniform(min_speed, max_speed));
            const double norm = std::sqrt(static_cast<double>(a * a + b * b));
            std::int64_t vx = std::llround(speed * (static_cast<double>(a) / norm));
            std::int64_t vy = std::llround(speed * (static_cast<double>(b) / norm));
            // Slower than kStillSpeed is not moving at all, so that "still" in a caption is exact.
            if (vx * vx + vy * vy < still * still) vx = vy = 0;
            const auto e = detail::shape_extent(p.shape, p.size);
            p.x = detail::draw_axis(words, e[0], o.width * unit - e[1], vx);
            p.y = detail::draw_axis(words, e[2], o.height * unit - e[3], vy);
        };
        if (o.occlusion) {
            for (auto& p : plan) draw_motion(p);
            return plan;
        }
        // Without occlusion, each object's motion is drawn again until its
        // box stays clear of the boxes placed before it; a dead end starts over.
        constexpr int kRestarts = 20, kTries = 500;
        for (int restart = 0; restart < kRestarts; ++restart) {
            std::size_t placed = 0;
            for (; placed < objects; ++placed) {
                int tries = 0;
                do draw_motion(plan[placed]);
                while (!apart_from_earlier(plan, placed) && ++tries < kTries);
                if (tries == kTries) break;
            }
            if (placed == objects) return plan;
        }
        fail("MovingShapes::get",
             "expected to place {} objects of up to {} pixels in {}×{} for {} frames without overlap (occlusion "
             "off), found no placement; allow occlusion, or use fewer, smaller or slower objects or fewer frames",
             objects, o.max_size, o.height, o.width, o.frames);
    }

    /// Whether object k's box overlaps no earlier object's box in any frame.
    bool apart_from_earlier(const std::vector<detail::ObjectPlan>& plan, std::size_t k) const {
        for (std::int64_t t = 0; t < options_.frames; ++t) {
            const auto a = plan[k].box(t);
            for (std::size_t j = 0; j < k; ++j) {
                const auto b = plan[j].box(t);
                if (!(a[1] <= b[0] || b[1] <= a[0] || a[3] <= b[2] || b[3] <= a[2])) return false;
            }
        }
        return true;
    }

    /// Point-samples every frame: each sample takes the colour of the
    /// front-most object containing it (or the background); a pixel is the
    /// mean of its 16 samples, and object k's mask the share of them it won.
    void render(const std::vector<detail::ObjectPlan>& plan, const std::vector<std::int32_t>& background, Tensor& video,
                std::vector<Tensor>& masks) const {
        const std::int64_t H = options_.height, W = options_.width;
        constexpr int S = detail::kSamples;
        constexpr std::int64_t unit = detail::kUnitsPerPixel;
        const std::int64_t SW = W * S, SH = H * S;
        float* out = video.data<float>();
        std::vector<float*> mask_data;
        for (auto& m : masks) mask_data.push_back(m.data<float>());
        const std::size_t n = plan.size();

        parallel_for(options_.frames, [&](std::int64_t t) {
            std::vector<std::uint8_t> top(static_cast<std::size_t>(SW * SH), 0);
            for (std::size_t k = 0; k < n; ++k) {
                const detail::ObjectPlan& p = plan[k];
                const std::int64_t cx = p.x.position(t), cy = p.y.position(t);
                const auto box = p.box(t);
                // Sample (i, j) sits at grid point ((2i + 1)·unit / (2S), ...): only those in the box are tested.
                auto first = [&](std::int64_t lo) { return std::max<std::int64_t>(0, (2 * S * lo) / (2 * unit) - 1); };
                auto last = [&](std::int64_t hi, std::int64_t limit) {
                    return std::min<std::int64_t>(limit - 1, (2 * S * hi) / (2 * unit) + 1);
                };
                for (std::int64_t j = first(box[2]); j <= last(box[3], SH); ++j) {
                    const std::int64_t dy = (2 * j + 1) * unit / (2 * S) - cy;
                    for (std::int64_t i = first(box[0]); i <= last(box[1], SW); ++i) {
                        const std::int64_t dx = (2 * i + 1) * unit / (2 * S) - cx;
                        if (detail::shape_contains(p.shape, p.size, dx, dy))
                            top[static_cast<std::size_t>(j * SW + i)] = static_cast<std::uint8_t>(k + 1);
                    }
                }
            }
            std::array<std::int32_t, 65> counts{};
            const std::int64_t plane = H * W;
            for (std::int64_t y = 0; y < H; ++y)
                for (std::int64_t x = 0; x < W; ++x) {
                    std::fill(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(n + 1), 0);
                    for (int sj = 0; sj < S; ++sj)
                        for (int si = 0; si < S; ++si) ++counts[top[static_cast<std::size_t>((y * S + sj) * SW + x * S + si)]];
                    const std::int32_t grey = background[static_cast<std::size_t>(y * W + x)];
                    std::array<std::int32_t, 3> sum{counts[0] * grey, counts[0] * grey, counts[0] * grey};
                    for (std::size_t k = 0; k < n; ++k) {
                        const auto& rgb = options_.palette[plan[k].colour].rgb;
                        for (int c = 0; c < 3; ++c) sum[static_cast<std::size_t>(c)] += counts[k + 1] * rgb[static_cast<std::size_t>(c)];
                        if (counts[k + 1] != 0)
                            mask_data[k][t * plane + y * W + x] = static_cast<float>(counts[k + 1]) / float(S * S);
                    }
                    for (int c = 0; c < 3; ++c)
                        out[((t * 3 + c) * H + y) * W + x] = static_cast<float>(sum[static_cast<std::size_t>(c)]) / float(S * S * 255);
                }
        }, 1);
    }
};

static_assert(Dataset<MovingShapes>);

/// Ground-truth optical flow [T-1, 2, H, W] (float32, channels dx, dy in
/// pixels) from frame t to t+1: at each pixel, the displacement of the object
/// with the largest visible share of it, or 0 where the background's share
/// is larger. Objects translate rigidly, so this is exact inside them.
inline Tensor ground_truth_flow(const ShapesClip& clip) {
    VGT_CHECK(clip.video.defined() && clip.video.rank() == 4, "ground_truth_flow",
              "expected a clip with a video [T, C, H, W], found {}", clip.video.str());
    const std::int64_t T = clip.video.size(0), H = clip.video.size(2), W = clip.video.size(3);
    VGT_CHECK(T >= 2, "ground_truth_flow", "expected a clip of at least 2 frames, found {}", T);
    Tensor flow = Tensor::zeros(Shape{T - 1, 2, H, W}, DType::Float32);
    float* f = flow.data<float>();
    const std::int64_t plane = H * W;
    for (std::int64_t t = 0; t + 1 < T; ++t)
        for (std::int64_t i = 0; i < plane; ++i) {
            float best = 0, covered = 0;
            const ShapeObject* winner = nullptr;
            for (const auto& obj : clip.objects) {
                const float m = obj.mask.data<float>()[t * plane + i];
                covered += m;
                if (m > best) best = m, winner = &obj;
            }
            if (winner == nullptr || best < 1 - covered) continue;
            const double* p = winner->position.data<double>();
            f[(t * 2) * plane + i] = static_cast<float>(p[2 * (t + 1)] - p[2 * t]);
            f[(t * 2 + 1) * plane + i] = static_cast<float>(p[2 * (t + 1) + 1] - p[2 * t + 1]);
        }
    return flow;
}

}  // namespace vgt::data
