// A text-to-video model with lagged frame times (diffusion.frame_lag): its
// config, its training loss (a time per frame), its sampling; and the
// caption probe (experiment/caption_probe.hpp) that shows which words of
// the captions a model uses.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"
#include "experiment/experiment_support.hpp"

#include <vgt/data/batch.hpp>
#include <vgt/experiment/caption_probe.hpp>
#include <vgt/experiment/checkpoint.hpp>
#include <vgt/experiment/text_to_video.hpp>
#include <vgt/experiment/train_config.hpp>

namespace vgt::test::lagged_frames_test {

using namespace vgt::experiment;

namespace {

TrainConfig lagged_config(double lag) {
    TrainConfig c = test::tiny_train_config("vdm", "out");
    c.data.moving_shapes.frames = 4;
    c.diffusion.process = "flow";
    c.diffusion.objective = diffusion::Objective::flow;
    c.diffusion.sampler = diffusion::SamplerKind::euler;
    c.diffusion.sample_steps = 6;
    c.diffusion.frame_lag = lag;
    return c;
}

}  // namespace

TEST_CASE("frame_lag in the train config: round trip and checks", "[experiment][frame_lag]") {
    const TrainConfig c = lagged_config(1.5);
    const nlohmann::json j = train_config_to_json(c);
    CHECK(j.at("diffusion").at("frame_lag") == 1.5);
    CHECK(j.at("diffusion").at("lagged_share") == 1.0);
    CHECK(train_config_from_json(j).diffusion.frame_lag == 1.5);
    CHECK_NOTHROW(c.validate());

    const auto fails = [&](auto edit) {
        TrainConfig bad = c;
        edit(bad.diffusion);
        return test::error_of([&] { bad.validate(); });
    };
    CHECK_THAT(fails([](DiffusionConfig& d) { d.frame_lag = -1.0; }), Catch::Contains("finite frame_lag >= 0, found -1"));
    CHECK_THAT(fails([](DiffusionConfig& d) { d.lagged_share = 1.5; }),
               Catch::Contains("lagged_share in [0, 1], found 1.5"));
    CHECK_THAT(fails([](DiffusionConfig& d) { d.sampler = diffusion::SamplerKind::ddim; }),
               Catch::Contains("expected sampler 'euler' for frame_lag 1.5"));
    CHECK_THAT(fails([](DiffusionConfig& d) { d.objective = diffusion::Objective::x0; }),
               Catch::Contains("expected objective 'flow' or 'v' for frame_lag 1.5"));
    CHECK_THAT(fails([](DiffusionConfig& d) {
                   d.process = "diffusion";
                   d.sampler = diffusion::SamplerKind::ddim;
                   d.objective = diffusion::Objective::v;
               }),
               Catch::Contains("expected process 'flow' for frame_lag 1.5"));
    // A lag of 0 asks nothing of the rest.
    CHECK_NOTHROW(test::tiny_train_config("vdm", "out").validate());
}

TEST_CASE("TextToVideo with lagged frames: a time per frame in training and sampling", "[experiment][frame_lag]") {
    const TrainConfig c = lagged_config(1.0);
    Generator init(4);
    TextToVideo model = TextToVideo::from_captions(c, {"a red circle moving left", "a blue square moving up"}, init);
    test::randomize_parameters(model, 5, 0.3);
    data::MovingShapes shapes(c.data.moving_shapes);
    const auto batch = data::collate(std::vector<data::ShapesClip>{shapes.get(0), shapes.get(1), shapes.get(2)});

    Generator gen(6);
    const auto r = model.training_loss(batch.video, batch.captions, 0.0, gen);
    REQUIRE(r.time.shape() == Shape{3, 4});
    const auto times = r.time.to_vector<float>();
    bool some_lag = false;
    for (int b = 0; b < 3; ++b) {
        for (int k = 1; k < 4; ++k) CHECK(times[b * 4 + k] >= times[b * 4 + k - 1]);
        some_lag |= times[b * 4 + 3] > times[b * 4];
    }
    CHECK(some_lag);
    CHECK(std::isfinite(r.loss.item<float>()));
    nn::zero_grad(model);
    backward(r.loss);
    bool time_grad = false;
    nn::visit_parameters(model, [&](const std::string& name, const Tensor& p) {
        if (name.rfind("time_embedding.", 0) != 0 || !p.grad().defined()) return;
        for (float g : p.grad().to_vector<float>()) time_grad |= g != 0.0f;
    });
    CHECK(time_grad);  // the frame times reach the UNet through the time embedding

    // A share of 0 trains on one time per clip, as without the lag.
    TrainConfig shared = c;
    shared.diffusion.lagged_share = 0.0;
    Generator init_b(4);
    TextToVideo shared_model = TextToVideo::from_captions(shared, {"a red circle moving left"}, init_b);
    Generator gen_b(6);
    const auto s = shared_model.training_loss(batch.video, batch.captions, 0.0, gen_b);
    const auto shared_times = s.time.to_vector<float>();
    for (int b = 0; b < 3; ++b)
        for (int k = 1; k < 4; ++k) CHECK(shared_times[b * 4 + k] == shared_times[b * 4]);

    SampleRequest request;
    request.prompts = {"a red circle moving left", "a blue square moving up"};
    request.seed = 3;
    const Tensor v1 = model.sample(request), v2 = model.sample(request);
    REQUIRE(v1.shape() == Shape{2, 4, 3, 8, 8});
    CHECK(v1.to_vector<float>() == v2.to_vector<float>());
    // The same weights without the lag sample something else from the same noise.
    TrainConfig plain = c;
    plain.diffusion.frame_lag = 0.0;
    Generator init_c(4);
    TextToVideo plain_model = TextToVideo::from_captions(plain, {"a red circle moving left", "a blue square moving up"},
                                                         init_c);
    test::randomize_parameters(plain_model, 5, 0.3);
    CHECK(test::max_abs_difference(plain_model.sample(request), v1) > 1e-4);

    request.sampler = diffusion::SamplerKind::ddim;
    CHECK_THAT(test::error_of([&] { model.sample(request); }),
               Catch::Contains("expected sampler 'euler' (the model lags its frames, diffusion.frame_lag 1)"));

    SECTION("a checkpoint keeps the lag") {
        test::TempDir dir;
        write_checkpoint(dir.file("lagged.safetensors"), model, 1, Generator(0), {});
        CHECK(read_checkpoint(dir.file("lagged.safetensors")).model.config().diffusion.frame_lag == 1.0);
    }
}

TEST_CASE("Caption probe: whole words swapped, the loss at the same noise", "[experiment][probe]") {
    const CaptionSwap directions{"directions swapped", {{"left", "right"}, {"up", "down"}, {"upper", "lower"}}};
    CHECK(swap_words("a red circle moving left", directions) == "a red circle moving right");
    CHECK(swap_words("a green square that moves toward the upper left, bouncing", directions) ==
          "a green square that moves toward the lower right, bouncing");
    CHECK(swap_words("down and to the right", directions) == "up and to the left");
    CHECK(swap_words("leftover uptown", directions) == "leftover uptown");  // whole words only
    CHECK(swap_words("", directions).empty());

    const TrainConfig c = test::tiny_train_config("gen1", "out");
    const data::MovingShapes shapes(c.data.moving_shapes);
    const auto swaps = moving_shapes_swaps(shapes);
    REQUIRE(swaps.size() == 3);
    CHECK(swaps[1].name == shapes.colour_names()[0] + " <-> " + shapes.colour_names()[1]);
    CHECK(swaps[2].name == shapes.shape_names()[0] + " <-> " + shapes.shape_names()[1]);

    std::vector<std::string> captions;
    for (std::int64_t i = 0; i < 16; ++i) captions.push_back(shapes.get(i).caption);
    Generator init(8);
    TextToVideo model = TextToVideo::from_captions(c, captions, init);
    test::randomize_parameters(model, 9, 0.3);  // at initialisation cross-attention outputs zero
    const std::vector<CaptionSwap> probes{{"absent words", {{"purple", "hexagon"}}}, swaps[1]};
    const auto rows = probe_captions(model, shapes, probes, {.clips = 12, .batch = 5, .seed = 2});
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].name == "captions");
    CHECK(rows[0].ratio == 1.0);
    CHECK(std::isfinite(rows[0].loss));
    CHECK(rows[1].loss == rows[0].loss);  // nothing swapped: the same loss, to the bit
    CHECK(rows[2].name == swaps[1].name);
    CHECK(std::abs(rows[2].ratio - 1.0) > 1e-6);
    CHECK(rows[2].ratio == rows[2].loss / rows[0].loss);
    // The same seed gives the same numbers.
    CHECK(probe_captions(model, shapes, probes, {.clips = 12, .batch = 5, .seed = 2})[2].loss == rows[2].loss);
    CHECK_THAT(test::error_of([&] { probe_captions(model, shapes, probes, {.clips = 65}); }),
               Catch::Contains("expected clips in [1, 64]"));
}

}  // namespace vgt::test::lagged_frames_test
