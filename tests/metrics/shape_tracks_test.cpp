// MovingShapes metrics: detection against the generator's ground truth,
// near-perfect scores on ground-truth clips, lower scores on corrupted ones,
// prompt matching attribute by attribute, the tracker, and error paths.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support.hpp"
#include "vgt/data/caption.hpp"
#include "vgt/data/moving_shapes.hpp"
#include "vgt/metrics/shape_tracks.hpp"

namespace vgt::test::shape_tracks_test {

namespace {


data::MovingShapes shapes_data(data::BackgroundTexture texture, bool all_shapes = false) {
    data::MovingShapesOptions o;
    o.texture = texture;
    if (all_shapes) o.shapes = data::all_shape_kinds();
    return data::MovingShapes(o);
}

Tensor frames_at(const Tensor& video, const std::vector<std::int64_t>& indices) {
    std::vector<Tensor> frames;
    for (std::int64_t i : indices) frames.push_back(select(video, 0, i));
    return stack(frames, 0);
}

/// The clip's frames in a random order (a fixed shuffle per seed).
Tensor shuffled(const Tensor& video, std::uint64_t seed) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(video.size(0)));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int64_t>(i);
    Generator gen(seed);
    const auto u = rand(Shape{video.size(0)}, gen, DType::Float64).to_vector<double>();
    for (std::size_t i = order.size() - 1; i > 0; --i)
        std::swap(order[i], order[std::min(i, static_cast<std::size_t>(u[i] * static_cast<double>(i + 1)))]);
    return frames_at(video, order);
}

/// Gaussian noise of standard deviation sigma, clamped to [0, 1].
Tensor noisy(const Tensor& video, double sigma, std::uint64_t seed) {
    Generator gen(seed);
    Tensor out = contiguous(add(video, mul(randn(video.shape(), gen, DType::Float32), sigma)));
    float* p = out.data<float>();
    for (std::int64_t i = 0; i < out.numel(); ++i) p[i] = std::clamp(p[i], 0.0f, 1.0f);
    return out;
}

/// From frame T/2 on, channels (r, g, b) become (g, b, r): red turns blue, green red, ... (white stays).
Tensor colour_swapped(const Tensor& video) {
    std::vector<Tensor> frames;
    for (std::int64_t t = 0; t < video.size(0); ++t) {
        const Tensor f = select(video, 0, t);
        frames.push_back(t >= video.size(0) / 2 ? frames_at(f, {1, 2, 0}) : f);
    }
    return stack(frames, 0);
}

/// Frames 5..10 removed: the objects jump.
Tensor frames_dropped(const Tensor& video) {
    std::vector<std::int64_t> keep;
    for (std::int64_t t = 0; t < video.size(0); ++t)
        if (t < 5 || t > 10) keep.push_back(t);
    return frames_at(video, keep);
}

struct Means {
    double caption = 0, colour = 0, shape = 0, count = 0, count_accuracy = 0, identity = 0, smoothness = 0;
    int smooth_clips = 0;
    void add(const metrics::ShapeTrackReport& r, double n) {
        caption += r.caption_accuracy / n;
        colour += r.colour_accuracy / n;
        shape += r.shape_accuracy / n;
        count += r.count_consistency / n;
        count_accuracy += r.count_accuracy / n;
        identity += r.identity_consistency / n;
        if (!std::isnan(r.trajectory_smoothness)) smoothness += r.trajectory_smoothness, ++smooth_clips;
    }
    double mean_smoothness() const { return smooth_clips ? smoothness / smooth_clips : std::nan(""); }
};

data::Direction reversed(data::Direction d) {
    const auto s = data::direction_signs(d);
    return data::direction_of(-s[0], -s[1], 0.1);
}

}  // namespace

TEST_CASE("shape detection finds MovingShapes objects where the ground truth puts them", "[metrics]") {
    for (auto texture : {data::BackgroundTexture::none, data::BackgroundTexture::noise, data::BackgroundTexture::stripes}) {
        INFO("texture " << data::texture_name(texture));
        const data::MovingShapes dataset = shapes_data(texture, true);
        std::int64_t detections = 0, right_class = 0;
        double worst = 0;
        for (std::int64_t i = 0; i < 10; ++i) {
            const data::ShapesClip clip = dataset.get(i);
            const auto found = metrics::detect_shapes(clip.video);
            REQUIRE(found.size() == static_cast<std::size_t>(clip.video.size(0)));
            for (std::size_t t = 0; t < found.size(); ++t) {
                REQUIRE(found[t].size() == clip.objects.size());
                for (const auto& d : found[t]) {
                    const auto object = std::find_if(clip.objects.begin(), clip.objects.end(), [&](const auto& o) {
                        return o.colour.name == data::default_palette()[d.colour].name;
                    });
                    REQUIRE(object != clip.objects.end());
                    const double* p = object->position.template data<double>() + 2 * t;
                    worst = std::max(worst, std::hypot(d.x - p[0], d.y - p[1]));
                    right_class += d.shape == object->shape;
                    ++detections;
                }
            }
        }
        // Coverage-weighted centroids: exact up to the rim's sampling on black,
        // within half a pixel over textures; the class right almost always.
        CHECK(worst < (texture == data::BackgroundTexture::none ? 0.2 : 0.6));
        CHECK(static_cast<double>(right_class) >= 0.99 * static_cast<double>(detections));
    }
}

TEST_CASE("shape-track metrics are near perfect on ground-truth clips", "[metrics]") {
    for (auto texture : {data::BackgroundTexture::none, data::BackgroundTexture::noise, data::BackgroundTexture::stripes}) {
        INFO("texture " << data::texture_name(texture));
        const data::MovingShapes dataset = shapes_data(texture);
        Means m;
        for (std::int64_t i = 0; i < 20; ++i) {
            const data::ShapesClip clip = dataset.get(i);
            const auto r = metrics::shape_track_metrics(clip.video, clip.caption);
            REQUIRE(r.prompt_objects.size() == clip.objects.size());
            m.add(r, 20);
        }
        CHECK(m.colour == Approx(1.0));
        CHECK(m.shape == Approx(1.0));
        CHECK(m.count == Approx(1.0));
        CHECK(m.count_accuracy == Approx(1.0));
        CHECK(m.caption >= 0.95);  // direction: a bounce right after frame 0 can hide the caption's
        CHECK(m.identity >= 0.98);
        CHECK(m.mean_smoothness() < 0.5);  // bounces only
    }
}

TEST_CASE("shape-track metrics drop on corrupted clips", "[metrics]") {
    const data::MovingShapes dataset = shapes_data(data::BackgroundTexture::none);
    Means clean, mixed, noise, swap, dropped;
    for (std::int64_t i = 0; i < 20; ++i) {
        const data::ShapesClip clip = dataset.get(i);
        clean.add(metrics::shape_track_metrics(clip.video, clip.caption), 20);
        mixed.add(metrics::shape_track_metrics(shuffled(clip.video, 100 + i), clip.caption), 20);
        noise.add(metrics::shape_track_metrics(noisy(clip.video, 0.2, 200 + i), clip.caption), 20);
        swap.add(metrics::shape_track_metrics(colour_swapped(clip.video), clip.caption), 20);
        dropped.add(metrics::shape_track_metrics(frames_dropped(clip.video), clip.caption), 20);
    }
    INFO("caption: clean " << clean.caption << " shuffled " << mixed.caption << " noise " << noise.caption
                           << " colour swap " << swap.caption << " dropped " << dropped.caption);
    INFO("identity: clean " << clean.identity << " shuffled " << mixed.identity << " noise " << noise.identity
                            << " colour swap " << swap.identity << " dropped " << dropped.identity);
    INFO("smoothness: clean " << clean.mean_smoothness() << " shuffled " << mixed.mean_smoothness() << " noise "
                              << noise.mean_smoothness() << " dropped " << dropped.mean_smoothness());
    CHECK(clean.caption >= 0.95);
    CHECK(clean.identity >= 0.98);
    // Shuffled frames: objects jump about, tracks break, directions are lost.
    CHECK(mixed.caption <= clean.caption - 0.4);
    CHECK(mixed.identity <= clean.identity - 0.15);
    CHECK(mixed.mean_smoothness() > 3 * clean.mean_smoothness());
    // Noise: shapes fragment and lose their class.
    CHECK(noise.caption <= clean.caption - 0.4);
    CHECK(noise.shape <= clean.shape - 0.4);
    CHECK(noise.identity <= clean.identity - 0.2);
    // Colours swapped halfway: the prompt's colours vanish after half the clip.
    CHECK(swap.colour <= clean.colour - 0.5);
    CHECK(swap.caption <= clean.caption - 0.5);
    CHECK(swap.identity < clean.identity - 0.05);
    CHECK(swap.count < clean.count);  // orange has no swapped counterpart in the palette
    // Frames dropped: one jump of six frames' motion.
    CHECK(dropped.mean_smoothness() > 3 * clean.mean_smoothness());
    CHECK(dropped.identity < clean.identity);
}

TEST_CASE("shape-track metrics score each attribute of the prompt", "[metrics]") {
    const data::MovingShapes dataset = shapes_data(data::BackgroundTexture::none);
    // A clip with two objects whose caption the video matches.
    data::ShapesClip clip;
    for (std::int64_t i = 0;; ++i) {
        clip = dataset.get(i);
        if (clip.objects.size() == 2 && metrics::shape_track_metrics(clip.video, clip.caption).caption_accuracy == 1.0)
            break;
    }
    std::vector<data::CaptionObject> said;
    for (const auto& o : clip.objects) said.push_back({o.colour.name, std::string(o.shape_name()), o.direction, o.bouncing});

    SECTION("the true caption, in every phrasing") {
        for (int phrasing = 0; phrasing < data::kCaptionPhrasings; ++phrasing) {
            const auto r = metrics::shape_track_metrics(clip.video, data::make_caption(said, phrasing));
            CHECK(r.caption_accuracy == 1.0);
            CHECK(r.direction_accuracy == 1.0);
            REQUIRE(r.prompt_objects.size() == 2);
            CHECK(r.prompt_objects[0].track.has_value());
        }
    }
    SECTION("a wrong direction") {
        auto wrong = said;
        wrong[0].direction = reversed(*wrong[0].direction);
        const auto r = metrics::shape_track_metrics(clip.video, data::make_caption(wrong));
        CHECK(r.colour_accuracy == 1.0);
        CHECK(r.shape_accuracy == 1.0);
        CHECK(r.direction_accuracy == 0.5);
        CHECK(r.caption_accuracy == 0.5);
        CHECK_FALSE(r.prompt_objects[0].direction_match);
        CHECK(r.prompt_objects[0].direction == said[0].direction);
    }
    SECTION("a wrong shape") {
        auto wrong = said;
        wrong[1].noun = wrong[1].noun == "circle" ? "square" : "circle";
        const auto r = metrics::shape_track_metrics(clip.video, data::make_caption(wrong));
        CHECK(r.shape_accuracy == 0.5);
        CHECK(r.caption_accuracy == 0.5);
        CHECK(r.prompt_objects[1].colour_match);
        CHECK_FALSE(r.prompt_objects[1].shape_match);
    }
    SECTION("a colour the video does not show, and an object too many") {
        auto wrong = said;
        for (const auto& c : data::default_palette())
            if (c.name != said[0].colour && c.name != said[1].colour) {
                wrong.push_back({c.name, "circle", data::Direction::left, false});
                break;
            }
        const auto r = metrics::shape_track_metrics(clip.video, data::make_caption(wrong));
        CHECK(r.colour_accuracy == Approx(2.0 / 3.0));
        CHECK(r.caption_accuracy == Approx(2.0 / 3.0));
        CHECK(r.count_accuracy == 0.0);  // every frame shows two objects, the prompt names three
        CHECK(r.count_consistency == 1.0);
        CHECK_FALSE(r.prompt_objects[2].track.has_value());
    }
    SECTION("no direction stated") {
        const std::string prompt = "a " + said[0].colour + " " + said[0].noun;
        const auto r = metrics::shape_track_metrics(clip.video, prompt);
        CHECK(r.caption_accuracy == 1.0);
        CHECK(std::isnan(r.direction_accuracy));
        CHECK(r.count_accuracy == 0.0);
    }
}

TEST_CASE("the tracker links detections by colour, distance and gap", "[metrics]") {
    auto at = [](std::size_t colour, double x, double y) {
        metrics::ShapeDetection d;
        d.colour = colour;
        d.x = x;
        d.y = y;
        d.shape = data::ShapeKind::square;
        return d;
    };
    // Colour 0 moves right 2 px a frame, is missing in frame 2; colour 1 stays,
    // then jumps 30 px at frame 4 (more than max_step = 64 / 4 = 16).
    const std::vector<std::vector<metrics::ShapeDetection>> frames = {
        {at(0, 10, 10), at(1, 40, 40)},
        {at(0, 12, 10), at(1, 40, 40)},
        {at(1, 40, 40)},
        {at(0, 16, 10), at(1, 40, 40)},
        {at(1, 10, 40), at(0, 18, 10)},
    };
    metrics::TrackAssignment assignment;
    const auto tracks = metrics::track_shapes(frames, 64, 64, {}, &assignment);
    REQUIRE(tracks.size() == 3);
    CHECK(tracks[0].frames == std::vector<std::int64_t>{0, 1, 3, 4});
    CHECK(tracks[1].frames == std::vector<std::int64_t>{0, 1, 2, 3});
    CHECK(tracks[2].frames == std::vector<std::int64_t>{4});
    CHECK(assignment[4] == std::vector<std::size_t>{2, 0});
    // A gap of two frames is too long for max_gap = 1; allowed with max_gap = 2.
    const std::vector<std::vector<metrics::ShapeDetection>> gap = {{at(0, 10, 10)}, {}, {}, {at(0, 12, 10)}};
    CHECK(metrics::track_shapes(gap, 64, 64).size() == 2);
    metrics::ShapeTrackingOptions patient;
    patient.max_gap = 2;
    CHECK(metrics::track_shapes(gap, 64, 64, patient).size() == 1);
    // Two objects of one colour: the nearest centroid wins.
    const std::vector<std::vector<metrics::ShapeDetection>> twins = {{at(3, 10, 10), at(3, 30, 10)},
                                                                      {at(3, 29, 11), at(3, 11, 11)}};
    metrics::TrackAssignment twin_assignment;
    metrics::track_shapes(twins, 64, 64, {}, &twin_assignment);
    CHECK(twin_assignment[1] == std::vector<std::size_t>{1, 0});
}

TEST_CASE("shape-track metrics reject bad input", "[metrics]") {
    const Tensor grey = Tensor::zeros(Shape{4, 1, 16, 16});
    CHECK_THROWS_WITH(metrics::shape_track_metrics(grey),
                      Catch::Contains("shape_track_metrics") && Catch::Contains("[4, 1, 16, 16]"));
    CHECK_THROWS_WITH(metrics::detect_shapes(Tensor::zeros(Shape{3, 16, 16})),
                      Catch::Contains("detect_shapes") && Catch::Contains("[3, 16, 16]"));
    const Tensor video = Tensor::zeros(Shape{4, 3, 16, 16});
    CHECK_THROWS_WITH(metrics::shape_track_metrics(video, "a purple dodecahedron"),
                      Catch::Contains("shape_track_metrics") && Catch::Contains("purple dodecahedron") &&
                          Catch::Contains("circle"));
    metrics::ShapeTrackOptions bad;
    bad.detection.colour_tolerance = 0;
    CHECK_THROWS_WITH(metrics::shape_track_metrics(video, bad), Catch::Contains("colour_tolerance"));
    bad = {};
    bad.tracking.max_gap = -1;
    CHECK_THROWS_WITH(metrics::shape_track_metrics(video, bad), Catch::Contains("max_gap"));
    // An empty video has nothing to be consistent about.
    const auto empty = metrics::shape_track_metrics(video, "a red circle moving left");
    CHECK(empty.count_consistency == 0.0);
    CHECK(empty.identity_consistency == 0.0);
    CHECK(empty.caption_accuracy == 0.0);
    CHECK(std::isnan(empty.trajectory_smoothness));
}

}  // namespace vgt::test::shape_tracks_test
