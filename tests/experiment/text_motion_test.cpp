// Text motion (conditioning.text_motion): the motion of a flow field, the
// uniform field made from it, the config's checks, the clips' motion
// reaching the flow-taking mixers in training beside the motion head's
// squared error, the head reading the captions' words (not the text
// encoder), the head's motion reaching them in sampling, and the head's
// parameters in a checkpoint.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"
#include "experiment/experiment_support.hpp"

#include <vgt/autograd/backward.hpp>
#include <vgt/data/moving_shapes.hpp>
#include <vgt/experiment/checkpoint.hpp>
#include <vgt/experiment/text_to_video.hpp>
#include <vgt/experiment/train_config.hpp>
#include <vgt/experiment/video_conditions.hpp>
#include <vgt/nn/parameters.hpp>

namespace vgt::test::text_motion_test {

using namespace vgt::experiment;

namespace {

/// tiny_train_config on the vdm_flow preset with text motion, 3 frames of 16×16.
TrainConfig motion_config(const std::string& output_dir) {
    TrainConfig c = test::tiny_train_config("vdm_flow", output_dir);
    c.conditioning.text_motion = "horn_schunck";
    c.conditioning.motion_weight = 0.5;
    c.data.moving_shapes.frames = 3;
    c.data.moving_shapes.height = c.data.moving_shapes.width = 16;
    c.diffusion.process = "flow";
    c.diffusion.objective = diffusion::Objective::flow;
    c.diffusion.sampler = diffusion::SamplerKind::euler;
    return c;
}

}  // namespace

TEST_CASE("flow_motion: the moving pixels' vector per frame; uniform_flow spreads it", "[experiment][text_motion]") {
    // Frame 0 still; frame 1 a uniform (0.5, −2); frame 2 a patch moving (−1, 0) over a still
    // background with a faint (0, 0.1) elsewhere, which the squared weights all but ignore.
    const std::int64_t h = 6, w = 8;
    Tensor flow = Tensor::zeros(Shape{1, 3, 2, h, w});
    float* f = flow.data<float>();
    const auto at = [&](std::int64_t t, std::int64_t k, std::int64_t y, std::int64_t x) -> float& {
        return f[((t * 2 + k) * h + y) * w + x];
    };
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            at(1, 0, y, x) = 0.5f;
            at(1, 1, y, x) = -2.0f;
            const bool patch = y >= 2 && y < 4 && x >= 3 && x < 6;
            at(2, 0, y, x) = patch ? -1.0f : 0.0f;
            at(2, 1, y, x) = patch ? 0.0f : 0.1f;
        }
    const std::vector<float> m = values(flow_motion(flow));
    REQUIRE(m.size() == 6);
    CHECK(m[0] == 0.0f);
    CHECK(m[1] == 0.0f);
    CHECK(m[2] == Approx(0.5).epsilon(1e-5));
    CHECK(m[3] == Approx(-2.0).epsilon(1e-5));
    // 6 pixels of weight 1 at (−1, 0) and 42 of weight 0.01 at (0, 0.1).
    CHECK(m[4] == Approx(-6.0 / 6.42).epsilon(1e-5));
    CHECK(m[5] == Approx(42 * 0.01 * 0.1 / 6.42).epsilon(1e-5));

    const Tensor field = uniform_flow(Tensor::from_vector(std::vector<float>{1, 2, 3, 4}, Shape{1, 2, 2}), 3, 2);
    REQUIRE(field.shape() == Shape{1, 2, 2, 3, 2});
    const std::vector<float> v = values(field);
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(v[i] == static_cast<float>(1 + i / 6));

    CHECK_THAT(test::error_of([] { flow_motion(Tensor::zeros(Shape{1, 3, 3, 4, 4})); }),
               Catch::Contains("expected a float flow [B, T, 2, H, W]"));
    CHECK_THAT(test::error_of([] { uniform_flow(Tensor::zeros(Shape{1, 3}), 4, 4); }),
               Catch::Contains("expected motion [B, T, 2]"));
}

TEST_CASE("text motion config: JSON round trip and consistency checks", "[experiment][text_motion]") {
    const TrainConfig c = motion_config("out");
    nlohmann::json j = train_config_to_json(c);
    CHECK(j.at("conditioning").at("text_motion") == "horn_schunck");
    CHECK(j.at("conditioning").at("motion_weight") == 0.5);
    CHECK(train_config_to_json(train_config_from_json(j)) == j);
    const TrainConfig defaults = train_config_from_json(nlohmann::json::object());
    CHECK(defaults.conditioning.text_motion == "none");
    CHECK(defaults.conditioning.motion_weight == 0.1);

    const auto error_with = [&](const char* key, const nlohmann::json& value) {
        nlohmann::json bad = j;
        bad["conditioning"][key] = value;
        return test::error_of([&] { train_config_from_json(bad); });
    };
    CHECK_THAT(error_with("text_motion", "farneback"),
               Catch::Contains("expected text_motion one of none, horn_schunck, lucas_kanade, found 'farneback'"));
    CHECK_THAT(error_with("motion_weight", -1.0), Catch::Contains("expected a finite motion_weight >= 0, found -1"));
    CHECK_THAT(error_with("external_flow", "lucas_kanade"),
               Catch::Contains("expected at most one of external_flow 'lucas_kanade' and text_motion 'horn_schunck'"));
    nlohmann::json structure = j;
    structure["conditioning"]["structure"] = true;
    structure["unet"]["in_channels"] = 4;
    CHECK_THAT(test::error_of([&] { train_config_from_json(structure); }),
               Catch::Contains("expected conditioning.structure = false with conditioning.text_motion"));

    // A preset whose mixers take no flow cannot be given the motion.
    TrainConfig vdm = c;
    vdm.model = "vdm";
    Generator init(1);
    CHECK_THAT(test::error_of([&] { TextToVideo::from_captions(vdm, {"a red circle moving left"}, init); }),
               Catch::Contains("take a flow (FlowWarp, e.g. the vdm_flow preset) for conditioning.text_motion") &&
                   Catch::Contains("found vdm"));
    TextToVideo plain = TextToVideo::from_captions(motion_config("out"), {"a"}, init);
    TrainConfig off = c;
    off.conditioning.text_motion = "none";
    TextToVideo without = TextToVideo::from_captions(off, {"a"}, init);
    CHECK_THAT(test::error_of([&] { without.predicted_motion({"a"}); }),
               Catch::Contains("expected a model trained with conditioning.text_motion, found text_motion 'none'"));
    CHECK(plain.predicted_motion({"a", "b"}).shape() == Shape{2, 2});
}

TEST_CASE("text motion training: the clips' motion reaches the mixers, the head's error joins the loss",
          "[experiment][text_motion]") {
    const TrainConfig c = motion_config("out");
    const std::vector<std::string> captions = {"a red circle moving left", "a blue square moving up"};
    Generator init(1);
    TextToVideo model = TextToVideo::from_captions(c, captions, init);
    open_zero_parameters(model);
    // Its parameters: the motion head's words and two layers beside the usual parts.
    const auto names = nn::named_parameters(model);
    std::vector<std::string> head;
    for (const auto& [name, p] : names)
        if (name.rfind("motion_head.", 0) == 0) head.push_back(name + " " + p.shape().str());
    const std::int64_t vocabulary = model.tokenizer().size();
    CHECK(head == std::vector<std::string>{"motion_head.words.weight " + Shape{vocabulary, 16}.str(),
                                           "motion_head.0.weight [64, 16]", "motion_head.0.bias [64]",
                                           "motion_head.1.weight [2, 64]", "motion_head.1.bias [2]"});

    const auto batch = two_clips(c);
    const Tensor videos = batch.video;  // [2, 3, 3, 16, 16]
    Generator gen(5);
    const diffusion::DenoisingLoss loss = model.training_loss(videos, batch.captions, 0.0, gen);
    const Tensor motion = flow_motion(clip_flow(videos, flow::FlowMethod::HornSchunck));  // [2, 3, 2]
    // The clips move, so the motion is not 0.
    CHECK(test::max_abs_difference(select(motion, 1, 1), Tensor::zeros(Shape{2, 2})) > 0.3);

    NoGradGuard no_grad;
    const models::TextEncoding context = model.text_encoder().encode(batch.captions);
    const Tensor time = model.time_embedding().forward(loss.time);
    models::UNetForwardOptions run;
    run.flow = uniform_flow(motion, 16, 16);
    const Tensor with_motion = model.unet().forward(loss.x_t, time, context.tokens, context.mask, run);
    CHECK(test::max_abs_difference(loss.output, with_motion) < 1e-5);
    CHECK(test::max_abs_difference(loss.output, model.unet().forward(loss.x_t, time, context.tokens, context.mask,
                                                                     {})) > 1e-4);
    // loss = the flow-matching error + weight · mean((head − first pair's motion)²).
    const Tensor denoising = mean(mul(sub(loss.output, loss.target), sub(loss.output, loss.target)));
    const Tensor error = sub(model.predicted_motion(batch.captions), select(motion, 1, 1));
    const double expected =
        denoising.item<float>() + c.conditioning.motion_weight * mean(mul(error, error)).item<float>();
    CHECK(loss.loss.item<float>() == Approx(expected).epsilon(1e-5));
}

TEST_CASE("text motion: the head's error trains the head, not the text encoder", "[experiment][text_motion]") {
    TrainConfig c = motion_config("out");
    const std::vector<std::string> captions = {"a red circle moving left", "a blue square moving up"};
    const auto batch = two_clips(c);
    // The text encoder's gradient with the head's error weighted 0 and 1, from the same draws.
    const auto gradients = [&](double weight, const char* prefix) {
        c.conditioning.motion_weight = weight;
        Generator init(1);
        TextToVideo model = TextToVideo::from_captions(c, captions, init);
        open_zero_parameters(model);
        Generator gen(5);
        const diffusion::DenoisingLoss loss = model.training_loss(batch.video, batch.captions, 0.0, gen);
        nn::zero_grad(model);
        backward(loss.loss);
        std::vector<float> out;
        nn::visit_parameters(model, [&](const std::string& name, const Tensor& p) {
            if (name.rfind(prefix, 0) != 0 || !p.grad().defined()) return;
            for (const float g : p.grad().to_vector<float>()) out.push_back(g);
        });
        return out;
    };
    const std::vector<float> encoder = gradients(0.0, "text_encoder.");
    REQUIRE(!encoder.empty());
    CHECK(gradients(1.0, "text_encoder.") == encoder);
    const std::vector<float> head = gradients(1.0, "motion_head.");
    REQUIRE(!head.empty());
    CHECK(std::any_of(head.begin(), head.end(), [](float g) { return g != 0.0f; }));
}

TEST_CASE("text motion: the head reads every caption's words, dropped or not", "[experiment][text_motion]") {
    TrainConfig c = motion_config("out");
    c.conditioning.motion_weight = 1.0;
    const auto batch = two_clips(c);
    Generator init(1);
    TextToVideo model = TextToVideo::from_captions(c, {"a red circle moving left", "a blue square moving up",
                                                       "a green triangle moving down"},
                                                   init);
    open_zero_parameters(model);
    // The head's motion depends on the words: at init a direction word already moves it.
    CHECK(test::max_abs_difference(model.predicted_motion({"a red circle moving left"}),
                                   model.predicted_motion({"a red circle moving up"})) > 1e-4);

    // Every caption dropped (condition dropout 1): the UNet sees "", the head still the captions.
    Generator gen(5);
    const diffusion::DenoisingLoss loss = model.training_loss(batch.video, batch.captions, 1.0, gen);
    nn::zero_grad(model);
    backward(loss.loss);
    const models::Tokenizer& words = model.tokenizer();
    std::vector<std::int64_t> read = {models::Tokenizer::bos_id, models::Tokenizer::eos_id};
    for (const std::string& caption : batch.captions)
        for (const std::int64_t id : words.word_ids(caption)) read.push_back(id);
    nn::visit_parameters(model, [&](const std::string& name, const Tensor& p) {
        if (name != "motion_head.words.weight") return;
        REQUIRE(p.grad().defined());
        const Tensor grad = p.grad();  // [V, 16]
        for (std::int64_t id = 0; id < words.size(); ++id) {
            const double size = test::max_abs_difference(select(grad, 0, id), Tensor::zeros(Shape{16}));
            const bool in_captions = std::find(read.begin(), read.end(), id) != read.end();
            INFO("token '" << words.token(id) << "'");
            if (in_captions)
                CHECK(size > 0.0);
            else
                CHECK(size == 0.0);
        }
    });
}

TEST_CASE("text motion sampling: the prompt's motion reaches the mixers", "[experiment][text_motion]") {
    test::TempDir dir;
    const TrainConfig c = motion_config(dir.path.string());
    Generator init(2);
    TextToVideo model = TextToVideo::from_captions(c, {"a red circle moving left", "a blue square moving up"}, init);
    open_zero_parameters(model);
    SampleRequest request;
    request.prompts = {"a red circle moving left", "a blue square moving up"};
    request.seed = 4;
    const Tensor samples = model.sample(request);
    CHECK(samples.shape() == Shape{2, 3, 3, 16, 16});
    CHECK(values(model.sample(request)) == values(samples));

    // Another motion for the same prompts: other samples.
    model.visit_parameters(
        [](const std::string& name, Tensor& p) {
            if (name == "motion_head.1.bias") p.fill_(2.5);
        },
        "");
    const Tensor moved = model.sample(request);
    CHECK(test::max_abs_difference(moved, samples) > 1e-4);

    // The head is saved: a checkpoint predicts the same motion and samples the same.
    const std::string path = dir.file("ckpt.safetensors");
    write_checkpoint(path, model, 3, Generator(2, 1));
    const Checkpoint back = read_checkpoint(path);
    CHECK(values(back.model.predicted_motion(request.prompts)) == values(model.predicted_motion(request.prompts)));
    CHECK(values(back.model.sample(request)) == values(moved));
}

}  // namespace vgt::test::text_motion_test
