#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <vgt/data/caption.hpp>
#include <vgt/data/moving_shapes.hpp>

namespace vgt::test::moving_shapes_test {

using namespace vgt::data;

namespace {

/// FNV-1a over the bit patterns of a clip's values (as integers, so the
/// hash does not depend on the machine's byte order) and its caption.
struct Fnv1a {
    std::uint64_t h = 0xcbf29ce484222325ull;
    void byte(std::uint8_t b) {
        h ^= b;
        h *= 0x100000001b3ull;
    }
    void word(std::uint64_t w, int bytes) {
        for (int i = 0; i < bytes; ++i) byte(static_cast<std::uint8_t>(w >> (8 * i)));
    }
    void floats(const Tensor& t) {
        for (float v : t.to_vector<float>()) {
            std::uint32_t bits = 0;
            std::memcpy(&bits, &v, 4);
            word(bits, 4);
        }
    }
    void doubles(const Tensor& t) {
        for (double v : t.to_vector<double>()) {
            std::uint64_t bits = 0;
            std::memcpy(&bits, &v, 8);
            word(bits, 8);
        }
    }
    void text(const std::string& s) {
        for (char c : s) byte(static_cast<std::uint8_t>(c));
    }
};

std::uint64_t clip_hash(const ShapesClip& clip) {
    Fnv1a f;
    f.floats(clip.video);
    f.text(clip.caption);
    for (const auto& o : clip.objects) {
        f.floats(o.mask);
        f.doubles(o.position);
        f.doubles(o.velocity);
        f.text(o.colour.name);
        f.text(std::string(o.shape_name()));
    }
    return f.h;
}

double at2(const Tensor& t, std::int64_t row, int col) { return t.data<double>()[2 * row + col]; }

MovingShapesOptions small_options() {
    MovingShapesOptions o;
    o.frames = 6;
    o.height = 32;
    o.width = 40;
    o.min_size = 6;
    o.max_size = 12;
    o.max_objects = 3;
    o.seed = 7;
    return o;
}

}  // namespace

TEST_CASE("moving shapes: the same seed and index give the same bytes", "[data][moving_shapes]") {
    MovingShapes a(small_options()), b(small_options());
    for (std::int64_t i : {0, 1, 5, 99}) CHECK(clip_hash(a.get(i)) == clip_hash(b.get(i)));
    CHECK(clip_hash(a.get(0)) != clip_hash(a.get(1)));
    MovingShapesOptions other = small_options();
    other.seed = 8;
    CHECK(clip_hash(MovingShapes(other).get(0)) != clip_hash(a.get(0)));
    // A clip depends on its index, not on how long the epoch is.
    other = small_options();
    other.epoch_size = 200;
    CHECK(clip_hash(MovingShapes(other).get(5)) == clip_hash(a.get(5)));
}

TEST_CASE("moving shapes: golden checksums guard cross-machine determinism", "[data][moving_shapes]") {
    // If these change, every machine's data changed: only update them on purpose.
    MovingShapesOptions o;
    o.frames = 4;
    o.height = 16;
    o.width = 20;
    o.min_size = 4;
    o.max_size = 8;
    o.min_objects = 2;
    o.max_objects = 3;
    o.shapes = all_shape_kinds();
    o.occlusion = true;
    o.texture = BackgroundTexture::noise;
    o.seed = 2024;
    const ShapesClip noise = MovingShapes(o).get(3);
    INFO(noise.caption);
    CHECK(clip_hash(noise) == 0xa2c2f029d9e52769ull);
    o.texture = BackgroundTexture::stripes;
    o.occlusion = false;
    o.max_objects = 2;
    o.max_speed = 6;
    const ShapesClip stripes = MovingShapes(o).get(11);
    INFO(stripes.caption);
    CHECK(clip_hash(stripes) == 0x3b3d4afbf46b235cull);
}

TEST_CASE("moving shapes: video, masks and ground truth have the documented shapes", "[data][moving_shapes]") {
    MovingShapesOptions o = small_options();
    o.frames = 1;  // any T, H, W
    o.height = 20;
    o.width = 50;
    const ShapesClip clip = MovingShapes(o).get(0);
    CHECK(clip.video.shape() == Shape{1, 3, 20, 50});
    CHECK(clip.video.dtype() == DType::Float32);
    REQUIRE(!clip.objects.empty());
    for (const auto& obj : clip.objects) {
        CHECK(obj.mask.shape() == Shape{1, 20, 50});
        CHECK(obj.position.shape() == Shape{1, 2});
        CHECK(obj.velocity.shape() == Shape{1, 2});
        CHECK(obj.depth == static_cast<int>(&obj - clip.objects.data()));
    }
    for (float v : clip.video.to_vector<float>()) REQUIRE((v >= 0.0f && v <= 1.0f));
}

TEST_CASE("moving shapes: bouncing keeps every shape inside the frame", "[data][moving_shapes]") {
    MovingShapesOptions o = small_options();
    o.frames = 40;
    o.min_speed = 3;
    o.max_speed = 9;
    o.occlusion = true;
    o.shapes = all_shape_kinds();
    MovingShapes shapes(o);
    int bouncing = 0;
    for (std::int64_t i = 0; i < 12; ++i) {
        const ShapesClip clip = shapes.get(i);
        for (const auto& obj : clip.objects) {
            bouncing += obj.bouncing;
            const double half = obj.size / 2;
            // The triangle's centroid is 2/3 of the height below its apex.
            const double above = obj.shape == ShapeKind::triangle ? 2 * obj.size / 3 : half;
            const double below = obj.size - above;
            for (std::int64_t t = 0; t < o.frames; ++t) {
                const double x = at2(obj.position, t, 0), y = at2(obj.position, t, 1);
                INFO(clip.caption << " t=" << t << " x=" << x << " y=" << y);
                REQUIRE(x - half >= -0.5);
                REQUIRE(x + half <= o.width - 0.5);
                REQUIRE(y - above >= -0.5);
                REQUIRE(y + below <= o.height - 0.5);
            }
            // Nothing drawn outside the bounding box either.
            const float* m = obj.mask.data<float>();
            for (std::int64_t t = 0; t < o.frames; ++t)
                for (std::int64_t y = 0; y < o.height; ++y)
                    for (std::int64_t x = 0; x < o.width; ++x)
                        if (m[(t * o.height + y) * o.width + x] > 0) {
                            REQUIRE(std::abs(x - at2(obj.position, t, 0)) <= half + 0.5);
                            REQUIRE(y >= at2(obj.position, t, 1) - above - 0.5);
                            REQUIRE(y <= at2(obj.position, t, 1) + below + 0.5);
                        }
        }
    }
    CHECK(bouncing > 5);  // fast objects over 40 frames do bounce
}

TEST_CASE("moving shapes: velocities match centroid differences and bounces reverse them", "[data][moving_shapes]") {
    MovingShapesOptions o = small_options();
    o.frames = 30;
    o.max_speed = 5;
    o.occlusion = true;  // three objects over 30 frames in 32×40 rarely stay apart
    MovingShapes shapes(o);
    int reversals = 0, compared = 0;
    for (std::int64_t i = 0; i < 10; ++i) {
        const ShapesClip clip = shapes.get(i);
        for (const auto& obj : clip.objects) {
            bool reversed = false;
            for (std::int64_t t = 0; t + 1 < o.frames; ++t)
                for (int axis = 0; axis < 2; ++axis) {
                    const double v = at2(obj.velocity, t, axis), next = at2(obj.velocity, t + 1, axis);
                    const double moved = at2(obj.position, t + 1, axis) - at2(obj.position, t, axis);
                    if (v == next) {
                        // No wall between t and t+1: the displacement is the velocity, exactly.
                        REQUIRE(moved == v);
                        ++compared;
                    } else {
                        REQUIRE(next == -v);  // a wall reflects one component
                        reversed = true;
                        ++reversals;
                    }
                }
            CHECK(reversed == obj.bouncing);
            CHECK(obj.direction == direction_of(at2(obj.velocity, 0, 0), at2(obj.velocity, 0, 1)));
            const double speed = std::hypot(at2(obj.velocity, 0, 0), at2(obj.velocity, 0, 1));
            CHECK(speed >= o.min_speed - 0.02);
            CHECK(speed <= o.max_speed + 0.02);
        }
    }
    CHECK(compared > 300);
    CHECK(reversals > 0);
}

TEST_CASE("moving shapes: masks match the rendered colours and the centroids", "[data][moving_shapes]") {
    for (BackgroundTexture texture : {BackgroundTexture::none, BackgroundTexture::noise, BackgroundTexture::stripes}) {
        for (bool occlusion : {false, true}) {
            MovingShapesOptions o = small_options();
            o.texture = texture;
            o.occlusion = occlusion;
            o.min_objects = 2;
            o.shapes = all_shape_kinds();
            MovingShapes shapes(o);
            for (std::int64_t i = 0; i < 4; ++i) {
                const ShapesClip clip = shapes.get(i);
                INFO(texture_name(texture) << " occlusion=" << occlusion << " " << clip.caption);
                const std::int64_t plane = o.height * o.width;
                const float* video = clip.video.data<float>();
                std::set<std::string> colours;
                for (const auto& obj : clip.objects) colours.insert(obj.colour.name);
                CHECK(colours.size() == clip.objects.size());  // distinct colours in a clip
                for (std::int64_t t = 0; t < o.frames; ++t)
                    for (std::int64_t p = 0; p < plane; ++p) {
                        float covered = 0;
                        for (std::size_t k = 0; k < clip.objects.size(); ++k) {
                            const ShapeObject& obj = clip.objects[k];
                            const float m = obj.mask.data<float>()[t * plane + p];
                            covered += m;
                            if (!occlusion)  // apart objects never share a pixel fully
                                for (std::size_t j = 0; j < k; ++j)
                                    if (m == 1) REQUIRE(clip.objects[j].mask.data<float>()[t * plane + p] == 0);
                            if (m == 1) {
                                const auto rgb = obj.colour.unit_rgb();
                                for (int c = 0; c < 3; ++c)
                                    REQUIRE(video[(t * 3 + c) * plane + p] == rgb[static_cast<std::size_t>(c)]);
                            }
                        }
                        REQUIRE(covered <= 1.0f);
                        const float grey = video[(t * 3) * plane + p];
                        if (covered == 0) {
                            REQUIRE(video[(t * 3 + 1) * plane + p] == grey);  // the background is grey
                            REQUIRE(grey <= static_cast<float>(o.texture_strength) + 1e-6f);
                            if (texture == BackgroundTexture::none) REQUIRE(grey == 0.0f);
                        }
                    }
                // Unoccluded objects: the mask's centroid is the ground-truth position.
                if (!occlusion)
                    for (const auto& obj : clip.objects)
                        for (std::int64_t t = 0; t < o.frames; ++t) {
                            double sum = 0, sx = 0, sy = 0;
                            const float* m = obj.mask.data<float>() + t * plane;
                            for (std::int64_t y = 0; y < o.height; ++y)
                                for (std::int64_t x = 0; x < o.width; ++x) {
                                    sum += m[y * o.width + x];
                                    sx += m[y * o.width + x] * static_cast<double>(x);
                                    sy += m[y * o.width + x] * static_cast<double>(y);
                                }
                            REQUIRE(sum > 0);
                            CHECK(std::abs(sx / sum - at2(obj.position, t, 0)) < 0.15);
                            CHECK(std::abs(sy / sum - at2(obj.position, t, 1)) < 0.15);
                        }
            }
        }
    }
}

TEST_CASE("moving shapes: each shape covers its area", "[data][moving_shapes]") {
    constexpr double pi = 3.14159265358979323846;
    for (ShapeKind kind : all_shape_kinds()) {
        MovingShapesOptions o = small_options();
        o.shapes = {kind};
        o.min_objects = o.max_objects = 1;
        o.min_size = 14;
        o.max_size = 18;
        const ShapesClip clip = MovingShapes(o).get(2);
        const ShapeObject& obj = clip.objects.at(0);
        const double s = obj.size;
        double area = 0;
        for (float m : select(obj.mask, 0, 0).to_vector<float>()) area += m;
        const double expected = kind == ShapeKind::circle ? pi * s * s / 4 : kind == ShapeKind::square ? s * s : s * s / 2;
        INFO(shape_name(kind) << " size " << s << " area " << area << " expected " << expected);
        CHECK(std::abs(area - expected) < 0.03 * expected);
        CHECK(clip.caption.find(std::string(shape_name(kind))) != std::string::npos);
    }
}

TEST_CASE("moving shapes: backgrounds are textured as asked", "[data][moving_shapes]") {
    for (BackgroundTexture texture : {BackgroundTexture::noise, BackgroundTexture::stripes}) {
        MovingShapesOptions o = small_options();
        o.texture = texture;
        o.texture_strength = 0.5;
        const ShapesClip clip = MovingShapes(o).get(0);
        std::set<float> greys;
        const std::int64_t plane = o.height * o.width;
        for (std::int64_t p = 0; p < plane; ++p) {
            bool covered = false;
            for (const auto& obj : clip.objects) covered |= obj.mask.data<float>()[p] > 0;
            if (!covered) greys.insert(clip.video.data<float>()[p]);
        }
        INFO(texture_name(texture));
        CHECK(greys.size() > 5);
        CHECK(*greys.rbegin() <= 0.5f);
        CHECK(*greys.rbegin() >= 0.3f);
    }
}

TEST_CASE("captions: the direction rule", "[data][caption]") {
    CHECK(direction_of(-1, 0) == Direction::left);
    CHECK(direction_of(2, 0) == Direction::right);
    CHECK(direction_of(0, -1) == Direction::up);
    CHECK(direction_of(0, 3) == Direction::down);
    CHECK(direction_of(1, -1) == Direction::up_right);
    CHECK(direction_of(-1, 1) == Direction::down_left);
    CHECK(direction_of(-1, -1) == Direction::up_left);
    CHECK(direction_of(1, 1) == Direction::down_right);
    // Sector edges at 22.5°: tan(22.5°) = 0.41421...
    CHECK(direction_of(1, -0.414) == Direction::right);
    CHECK(direction_of(1, -0.415) == Direction::up_right);
    CHECK(direction_of(0.414, 1) == Direction::down);
    CHECK(direction_of(0.415, 1) == Direction::down_right);
    CHECK(direction_of(0.3, 0.3) == Direction::still);
    CHECK(direction_of(0.5, 0) == Direction::right);
    CHECK(direction_name(Direction::up_left) == "up-left");
}

TEST_CASE("captions: phrasings, articles, and the parser reads every phrasing back", "[data][caption]") {
    CHECK(make_caption({{"red", "circle", Direction::left, false}}) == "a red circle moving left");
    CHECK(make_caption({{"red", "circle", Direction::left, false}, {"blue", "square", Direction::up_right, true}}, 0) ==
          "a red circle moving left and a blue square moving up and to the right and bouncing");
    CHECK(make_caption({{"orange", "triangle", Direction::down, true}}, 1) ==
          "an orange triangle that moves down, bouncing off the walls");
    CHECK(make_caption({{"", "ankle boot", Direction::still, false}}, 3) == "an ankle boot is standing still");
    CHECK(make_caption({{"red", "circle", Direction::left, false},
                        {"green", "square", Direction::up, false},
                        {"blue", "triangle", Direction::down_left, false}},
                       2) == "a red circle going left, a green square going up and a blue triangle going down and to the left");
    CHECK_THROWS_WITH(make_caption({}, 0), Catch::Contains("make_caption"));
    CHECK_THROWS_WITH(make_caption({{"red", "circle", Direction::left, false}}, 4), Catch::Contains("phrasing"));

    const std::vector<std::string> colours = {"red", "green", "blue", "orange"};
    const std::vector<std::string> nouns = {"circle", "square", "triangle", "ankle boot", "boot"};
    const std::vector<CaptionObject> objects = {{"red", "circle", Direction::up_left, true},
                                                {"orange", "square", Direction::right, false},
                                                {"green", "triangle", Direction::still, false},
                                                {"blue", "boot", Direction::down_right, true}};
    for (int phrasing = 0; phrasing < kCaptionPhrasings; ++phrasing) {
        const std::string caption = make_caption(objects, phrasing);
        INFO(caption);
        const auto parsed = parse_caption(caption, colours, nouns);
        REQUIRE(parsed.size() == objects.size());
        for (std::size_t k = 0; k < objects.size(); ++k) {
            CHECK(parsed[k].colour == objects[k].colour);
            CHECK(parsed[k].noun == objects[k].noun);
            REQUIRE(parsed[k].direction.has_value());
            CHECK(*parsed[k].direction == *objects[k].direction);
            CHECK(parsed[k].bouncing == objects[k].bouncing);
        }
    }
    // Longest noun wins; colours optional when asked; free text around it.
    auto boot = parse_caption("An Ankle-Boot, moving UP-LEFT!", colours, nouns, false);
    REQUIRE(boot.size() == 1);
    CHECK(boot[0].noun == "ankle boot");
    CHECK(boot[0].colour.empty());
    CHECK(*boot[0].direction == Direction::up_left);
    auto plain = parse_caption("a red circle", colours, nouns);
    REQUIRE(plain.size() == 1);
    CHECK(!plain[0].direction.has_value());
    CHECK(parse_caption("a purple circle moving left", colours, nouns).empty());
}

TEST_CASE("moving shapes: captions name each object's colour, shape and direction", "[data][moving_shapes]") {
    MovingShapesOptions o = small_options();
    o.frames = 24;
    o.shapes = all_shape_kinds();
    o.min_speed = 0;  // some still objects
    MovingShapes shapes(o);
    std::set<int> phrasings;
    std::set<Direction> directions;
    for (std::int64_t i = 0; i < 60; ++i) {
        const ShapesClip clip = shapes.get(i);
        INFO(clip.caption);
        phrasings.insert(clip.phrasing);
        const auto parsed = parse_caption(clip.caption, shapes.colour_names(), shapes.shape_names());
        REQUIRE(parsed.size() == clip.objects.size());
        for (std::size_t k = 0; k < parsed.size(); ++k) {
            const ShapeObject& obj = clip.objects[k];
            CHECK(parsed[k].colour == obj.colour.name);
            CHECK(parsed[k].noun == obj.shape_name());
            REQUIRE(parsed[k].direction.has_value());
            CHECK(*parsed[k].direction == obj.direction);
            CHECK(parsed[k].bouncing == obj.bouncing);
            directions.insert(obj.direction);
            // The direction's signs agree with the first frame's motion.
            const auto signs = direction_signs(obj.direction);
            const double vx = at2(obj.velocity, 0, 0), vy = at2(obj.velocity, 0, 1);
            if (signs[0] != 0) CHECK(vx * signs[0] > 0);
            if (signs[1] != 0) CHECK(vy * signs[1] > 0);
            if (obj.direction == Direction::still)  // still is exact: no motion at all
                for (double v : obj.velocity.to_vector<double>()) CHECK(v == 0);
        }
    }
    CHECK(phrasings.size() == static_cast<std::size_t>(kCaptionPhrasings));
    CHECK(directions.size() == 9);  // all eight directions and "still"
}

TEST_CASE("moving shapes: ground-truth flow is each object's displacement", "[data][moving_shapes]") {
    MovingShapesOptions o = small_options();
    o.min_objects = o.max_objects = 2;
    const ShapesClip clip = MovingShapes(o).get(1);
    const Tensor flow = ground_truth_flow(clip);
    REQUIRE(flow.shape() == Shape{o.frames - 1, 2, o.height, o.width});
    const std::int64_t plane = o.height * o.width;
    const float* f = flow.data<float>();
    int inside = 0;
    for (std::int64_t t = 0; t + 1 < o.frames; ++t)
        for (std::int64_t p = 0; p < plane; ++p) {
            float covered = 0;
            for (const auto& obj : clip.objects) {
                const float m = obj.mask.data<float>()[t * plane + p];
                covered += m;
                if (m == 1) {
                    ++inside;
                    CHECK(f[(t * 2) * plane + p] == static_cast<float>(at2(obj.position, t + 1, 0) - at2(obj.position, t, 0)));
                    CHECK(f[(t * 2 + 1) * plane + p] == static_cast<float>(at2(obj.position, t + 1, 1) - at2(obj.position, t, 1)));
                }
            }
            if (covered == 0) CHECK((f[(t * 2) * plane + p] == 0 && f[(t * 2 + 1) * plane + p] == 0));
        }
    CHECK(inside > 100);
    ShapesClip one_frame = clip;
    one_frame.video = slice(clip.video, 0, 0, 1);
    CHECK_THROWS_WITH(ground_truth_flow(one_frame), Catch::Contains("ground_truth_flow") && Catch::Contains("2 frames"));
}

TEST_CASE("moving shapes: held-out combinations stay out of the train split", "[data][moving_shapes]") {
    MovingShapesOptions o = small_options();
    o.palette = palette_named("primary");
    o.max_objects = 2;
    o.held_out = {"red circle left", "blue square up-right", "green triangle down"};
    const MovingShapes all(o);
    REQUIRE(all.held_out().size() == 3);
    CHECK(all.held_out()[1].colour == 2);
    CHECK(all.held_out()[1].shape == ShapeKind::square);
    CHECK(all.held_out()[1].direction == Direction::up_right);

    auto is_held_out = [&](const ShapeObject& obj) {
        for (const auto& c : all.held_out())
            if (o.palette[c.colour].name == obj.colour.name && c.shape == obj.shape && c.direction == obj.direction)
                return true;
        return false;
    };
    o.split = "train";
    const MovingShapes train(o);
    o.split = "held-out";
    o.min_objects = o.max_objects = 1;  // every object of a clip held out: rare with more
    const MovingShapes held(o);
    std::int64_t clips_with_held_out = 0, redrawn = 0;
    for (std::int64_t i = 0; i < 300; ++i) {
        const ShapesClip a = all.get(i);
        bool any = false;
        for (const auto& obj : a.objects) any |= is_held_out(obj);
        clips_with_held_out += any;
        const ShapesClip t = train.get(i);
        for (const auto& obj : t.objects) CHECK_FALSE(is_held_out(obj));
        // A clip already in the split is the same clip.
        if (!any) CHECK(t.caption == a.caption);
        if (!any) CHECK(test::max_abs_difference(t.video, a.video) == 0.0);
        redrawn += any;
        const ShapesClip h = held.get(i);
        for (const auto& obj : h.objects) CHECK(is_held_out(obj));
    }
    // The list matters: some clips of split "all" show a held-out combination.
    CHECK(clips_with_held_out > 0);
    CHECK(redrawn == clips_with_held_out);

    // Split "all" makes the clips of a data set without a list.
    MovingShapesOptions plain = small_options();
    plain.palette = palette_named("primary");
    plain.max_objects = 2;
    const MovingShapes unlisted(plain);
    for (std::int64_t i = 0; i < 5; ++i) CHECK(unlisted.get(i).caption == all.get(i).caption);

    auto rejects = [&](auto change, const char* text) {
        MovingShapesOptions bad = o;
        change(bad);
        CHECK_THROWS_WITH(MovingShapes(bad), Catch::Contains(text));
    };
    rejects([](auto& b) { b.held_out = {"purple circle left"}; }, "'purple'");
    rejects([](auto& b) { b.held_out = {"red hexagon left"}; }, "'hexagon'");
    rejects([](auto& b) { b.held_out = {"red circle sideways"}; }, "'sideways'");
    rejects([](auto& b) { b.held_out = {"red circle"}; }, "three words");
    rejects([](auto& b) { b.split = "test"; }, "'test'");
    rejects([](auto& b) { b.held_out = {}; }, "held_out combinations for split 'held-out'");
    // Only "still" objects held out while nothing can be still: no clip of the split exists.
    MovingShapesOptions impossible = o;
    impossible.held_out = {"red circle still"};
    impossible.min_objects = impossible.max_objects = 1;
    CHECK_THROWS_WITH(MovingShapes(impossible).get(0), Catch::Contains("within 1000 draws"));
}

TEST_CASE("moving shapes: bad options and indices are errors", "[data][moving_shapes]") {
    auto rejects = [](auto change, const char* text) {
        MovingShapesOptions o;
        change(o);
        CHECK_THROWS_WITH(MovingShapes(o), Catch::Contains("MovingShapes") && Catch::Contains(text));
    };
    rejects([](auto& o) { o.frames = 0; }, "T=0");
    rejects([](auto& o) { o.width = -3; }, "W=-3");
    rejects([](auto& o) { o.min_objects = 0; }, "min_objects=0");
    rejects([](auto& o) { o.min_objects = 3; }, "max_objects=2");
    rejects([](auto& o) { o.max_objects = 9; }, "8 colours");
    rejects([](auto& o) { o.shapes = {}; }, "at least one shape");
    rejects([](auto& o) { o.shapes = {ShapeKind::circle, ShapeKind::circle}; }, "'circle' twice");
    rejects([](auto& o) { o.palette = {}; }, "at least one colour");
    rejects([](auto& o) { o.palette = {{"Red", {255, 0, 0}}}; }, "'Red'");
    rejects([](auto& o) { o.palette = {{"red", {255, 0, 0}}, {"red", {200, 0, 0}}}; }, "'red' twice");
    rejects([](auto& o) { o.max_size = 64; }, "max_size=64");
    rejects([](auto& o) { o.min_size = 0.5; }, "min_size=0.5");
    rejects([](auto& o) { o.min_size = 20; }, "min_size=20");
    rejects([](auto& o) { o.min_speed = -1; }, "min_speed=-1");
    rejects([](auto& o) { o.max_speed = 100; }, "max_speed=100");
    rejects([](auto& o) { o.texture_strength = 1.5; }, "texture_strength");
    rejects([](auto& o) { o.texture_scale = 0; }, "texture_scale");
    rejects([](auto& o) { o.epoch_size = 0; }, "epoch_size");

    MovingShapes shapes(small_options());
    CHECK_THROWS_WITH(shapes.get(-1), Catch::Contains("MovingShapes::get") && Catch::Contains("-1"));
    CHECK_THROWS_WITH(shapes.get(10000), Catch::Contains("[0, 10000)"));

    // Objects that cannot be kept apart: an error that says what to change.
    MovingShapesOptions crowded;
    crowded.height = crowded.width = 12;
    crowded.min_size = crowded.max_size = 10;
    crowded.min_objects = crowded.max_objects = 3;
    CHECK_THROWS_WITH(MovingShapes(crowded).get(0), Catch::Contains("without overlap") && Catch::Contains("occlusion"));
    crowded.occlusion = true;
    CHECK(MovingShapes(crowded).get(0).objects.size() == 3);

    CHECK(parse_texture("stripes") == BackgroundTexture::stripes);
    CHECK_THROWS_WITH(parse_texture("plaid"), Catch::Contains("'plaid'"));
    CHECK(parse_shape_kind("diamond") == ShapeKind::diamond);
    CHECK_THROWS_WITH(parse_shape_kind("hexagon"), Catch::Contains("'hexagon'"));
    CHECK(palette_named("primary").size() == 3);
    CHECK_THROWS_WITH(palette_named("pastel"), Catch::Contains("'pastel'"));
}

}  // namespace vgt::test::moving_shapes_test
