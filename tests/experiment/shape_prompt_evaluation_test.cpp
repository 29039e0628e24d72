#include "support.hpp"

#include <cmath>
#include <string>

#include <vgt/data/moving_shapes.hpp>
#include <vgt/experiment/shape_prompt_evaluation.hpp>
#include <vgt/ops/join.hpp>
#include <vgt/ops/pad.hpp>
#include <vgt/ops/view.hpp>

namespace vgt::test::shape_prompt_evaluation_test {

namespace {

data::MovingShapesOptions one_shape() {
    data::MovingShapesOptions o;
    o.frames = 8;
    o.height = o.width = 32;
    o.min_objects = o.max_objects = 1;
    o.min_size = 9;
    o.max_size = 12;
    o.palette = data::palette_named("primary");
    o.seed = 3;
    return o;
}

metrics::ShapeTrackOptions tracking_for(const data::MovingShapesOptions& o) {
    metrics::ShapeTrackOptions t;
    t.detection.palette = o.palette;
    t.detection.shapes = o.shapes;
    return t;
}

/// The clip with its colour channels rotated: red → green → blue → red.
Tensor rotate_colours(const Tensor& video) {
    return contiguous(concat({slice(video, 1, 2, 3), slice(video, 1, 0, 1), slice(video, 1, 1, 2)}, 1));
}

}  // namespace

TEST_CASE("shape prompts: a real clip scores as a perfect sample of its caption", "[experiment][evaluation]") {
    const data::MovingShapesOptions o = one_shape();
    const data::MovingShapes shapes(o);
    int perfect = 0;
    for (std::int64_t i = 0; i < 10; ++i) {
        const data::ShapesClip clip = shapes.get(i);
        const experiment::ShapePromptScore s = experiment::score_shape_prompt(clip.video, clip, tracking_for(o));
        CHECK(s.prompt == clip.caption);
        CHECK(s.colour);
        CHECK(s.shape);
        perfect += s.caption;
        // The sample is the real clip, so their warping errors are one number.
        CHECK(s.warp_error == s.real_warp_error);
    }
    // Directions read from a tracked centroid can miss only at a bounce in the first step.
    CHECK(perfect >= 9);

    // A black video draws nothing the caption asks for.
    const data::ShapesClip clip = shapes.get(0);
    const experiment::ShapePromptScore black =
        experiment::score_shape_prompt(Tensor::zeros(clip.video.shape(), DType::Float32), clip, tracking_for(o));
    CHECK_FALSE(black.caption);
    CHECK_FALSE(black.colour);
    CHECK(black.count_accuracy == 0.0);
}

TEST_CASE("shape edits: recoloured captions, colour change and trajectory error", "[experiment][evaluation]") {
    const data::MovingShapesOptions o = one_shape();
    const data::MovingShapes shapes(o);
    const data::ShapesClip clip = shapes.get(1);
    const std::string colour = clip.objects[0].colour.name;

    // Every shift names another colour of the palette, and only the colour changes.
    for (std::size_t shift = 0; shift < 4; ++shift) {
        const std::string prompt = experiment::recoloured_caption(clip, o.palette, shift);
        CHECK(prompt.find(colour) == std::string::npos);
        CHECK(prompt.find(std::string(clip.objects[0].shape_name())) != std::string::npos);
    }

    // The source with its channels rotated is a perfect edit into the next colour.
    const Tensor edit = rotate_colours(clip.video);
    const std::string next = experiment::recoloured_caption(clip, o.palette, 0);
    std::size_t from = 0;
    while (o.palette[from].name != colour) ++from;
    REQUIRE(next.find(o.palette[(from + 1) % 3].name) != std::string::npos);
    const experiment::ShapeEditScore good = experiment::score_shape_edit(edit, clip, next, tracking_for(o), 2.0);
    CHECK(good.colour_changed);
    CHECK(good.trajectory_error < 0.2);
    CHECK(good.edited());

    // The unedited source is not in the prompt's colour.
    const experiment::ShapeEditScore same = experiment::score_shape_edit(clip.video, clip, next, tracking_for(o), 2.0);
    CHECK_FALSE(same.colour_changed);
    CHECK(std::isinf(same.trajectory_error));
    CHECK_FALSE(same.edited());

    // The edit moved 3 pixels right in every frame: the colour is right, the trajectory is not.
    const Tensor shifted = contiguous(pad(slice(edit, 3, 0, 29), {3, 0, 0, 0}));
    const experiment::ShapeEditScore moved = experiment::score_shape_edit(shifted, clip, next, tracking_for(o), 2.0);
    CHECK(moved.colour_changed);
    CHECK(moved.trajectory_error > 2.0);
    CHECK_FALSE(moved.trajectory_kept);
}

}  // namespace vgt::test::shape_prompt_evaluation_test
