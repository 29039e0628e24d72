// Gen-1's structure and content conditioning in the text-to-video pipeline:
// the config section and its checks, the structure channel and the content
// tokens reaching the UNet (in training and sampling, the null condition
// keeping the structure), the source's optical flow reaching FlowWarp
// mixers, the checkpoint round trip of a conditioned model, and a short
// structure-conditioned training run whose loss falls.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "support.hpp"
#include "experiment/experiment_support.hpp"

#include <vgt/data/moving_shapes.hpp>
#include <vgt/experiment/checkpoint.hpp>
#include <vgt/experiment/text_to_video.hpp>
#include <vgt/experiment/train_config.hpp>
#include <vgt/experiment/trainer.hpp>
#include <vgt/experiment/video_conditions.hpp>
#include <vgt/temporal/flow_warp.hpp>
#include <vgt/temporal/frame_conv.hpp>
#include <vgt/temporal/no_mixer.hpp>

namespace vgt::test::gen1_conditioning_test {

using namespace vgt::experiment;

namespace {

/// tiny_train_config with structure on: the UNet reads RGB + the structure map.
TrainConfig structure_config(const std::string& model, const std::string& output_dir) {
    TrainConfig c = test::tiny_train_config(model, output_dir);
    c.unet.in_channels = 4;
    c.optim.adamw.lr = 1e-2;
    c.optim.ema = optim::EmaOptions{};
    c.training.log_every = 10;
    c.conditioning.structure = true;
    return c;
}

/// structure_config with content conditioning too (tokens of the text's width).
TrainConfig content_config(const std::string& output_dir) {
    TrainConfig c = structure_config("gen1", output_dir);
    c.conditioning.content = true;
    c.conditioning.content_encoder.channels = {4, 8};
    c.conditioning.content_encoder.tokens = 2;
    c.conditioning.content_encoder.width = 16;
    return c;
}

std::vector<std::byte> parameter_bytes(const TextToVideo& model) {
    std::vector<std::byte> out;
    nn::visit_parameters(model, [&](const std::string&, const Tensor& p) {
        const auto* b = static_cast<const std::byte*>(p.raw_data());
        out.insert(out.end(), b, b + p.nbytes());
    });
    return out;
}

}  // namespace

TEST_CASE("conditioning config: defaults off, JSON round trip, consistency checks", "[experiment][gen1]") {
    // Absent, the section keeps today's model: a config (or a checkpoint's) without it reads as before.
    const TrainConfig plain = train_config_from_json(nlohmann::json::object());
    CHECK_FALSE(plain.conditioning.structure);
    CHECK_FALSE(plain.conditioning.content);
    nlohmann::json old = train_config_to_json(plain);
    old.erase("conditioning");
    CHECK(train_config_to_json(train_config_from_json(old)) == train_config_to_json(plain));

    const TrainConfig c = content_config("out");
    const nlohmann::json j = train_config_to_json(c);
    CHECK(j.at("conditioning").at("structure") == true);
    CHECK(j.at("conditioning").at("content_encoder").at("width") == 16);
    CHECK(train_config_to_json(train_config_from_json(j)) == j);

    nlohmann::json bad = j;
    bad["unet"]["in_channels"] = 3;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("expected unet.in_channels 4 (the data's 3 channels + 1 structure channel"));
    bad = train_config_to_json(plain);
    bad["unet"]["in_channels"] = 4;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("the data's 3 channels, found 4"));
    bad = j;
    bad["conditioning"]["content_encoder"]["width"] = 32;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("conditioning.content_encoder.width equal to text_encoder.width 16") &&
                   Catch::Contains("found 32"));
    bad = j;
    bad["conditioning"]["content_encoder"]["in_channels"] = 1;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("content_encoder.in_channels equal to the data's 3 channels, found 1"));
    bad = j;
    bad["conditioning"]["structure_dropout"] = 1.5;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("expected structure_dropout in [0, 1], found 1.5"));
    bad = j;
    bad["conditioning"]["max_structure_level"] = -1;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("max_structure_level >= 0, found -1"));
    bad = j;
    bad["conditioning"]["sigma_per_level"] = 0.0;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("sigma_per_level > 0"));
    bad = j;
    bad["conditioning"]["structur"] = true;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("'conditioning': unknown key 'structur'"));
}

TEST_CASE("structure conditioning: the map reaches the UNet in training and sampling", "[experiment][gen1]") {
    TrainConfig c = structure_config("gen1", "out");
    c.conditioning.max_structure_level = 0;  // every clip at level 0: the map is known
    c.conditioning.structure_dropout = 0.0;
    const std::vector<std::string> captions = {"a red circle moving left", "a blue square moving up"};
    Generator init(1);
    TextToVideo model = TextToVideo::from_captions(c, captions, init);
    open_zero_parameters(model);
    TrainConfig dropped_config = c;
    dropped_config.conditioning.structure_dropout = 1.0;  // every map replaced by zeros
    Generator init_again(1);
    TextToVideo dropped = TextToVideo::from_captions(dropped_config, captions, init_again);
    open_zero_parameters(dropped);
    REQUIRE(parameter_bytes(dropped) == parameter_bytes(model));

    const auto batch = two_clips(c);
    Generator gen_a(5), gen_b(5);
    const auto with_map = model.training_loss(batch.video, batch.captions, 0.0, gen_a);
    const auto with_zeros = dropped.training_loss(batch.video, batch.captions, 0.0, gen_b);
    CHECK(values(with_map.x_t) == values(with_zeros.x_t));  // the same times and noise
    CHECK(values(with_map.output) != values(with_zeros.output));

    // The UNet saw [x_t, structure map] and [x_t, 0] along channels.
    const models::TextEncoding context = model.text_encoder().encode(batch.captions);
    const Tensor time = model.time_embedding().forward(with_map.time);
    const Tensor map = clip_structure(batch.video, {0, 0}, c.conditioning.sigma_per_level);
    CHECK(values(map) != values(Tensor::zeros(map.shape())));
    const Tensor expected =
        model.unet().forward(concat({with_map.x_t, map}, 2), time, context.tokens, context.mask, {});
    CHECK(test::max_abs_difference(with_map.output, expected) < 1e-5);
    const Tensor expected_zeros = model.unet().forward(concat({with_zeros.x_t, Tensor::zeros(map.shape())}, 2), time,
                                                       context.tokens, context.mask, {});
    CHECK(test::max_abs_difference(with_zeros.output, expected_zeros) < 1e-5);

    // Sampling follows the source; guidance 0 (the null condition alone) still sees the structure.
    SampleRequest request;
    request.prompts = {"a red circle moving left"};
    request.seed = 3;
    request.source = slice(batch.video, 0, 0, 1);
    request.temporal_guidance = 0.5;
    const Tensor edited = model.sample(request);
    CHECK(edited.shape() == Shape{1, 2, 3, 8, 8});
    CHECK(values(model.sample(request)) == values(edited));
    SampleRequest other = request;
    other.source = slice(batch.video, 0, 1, 2);
    CHECK(values(model.sample(other)) != values(edited));
    other = request;
    other.structure_level = 2;
    CHECK(values(model.sample(other)) != values(edited));
    SampleRequest null_only = request;
    null_only.guidance = 0.0;
    const Tensor null_a = model.sample(null_only);
    null_only.source = slice(batch.video, 0, 1, 2);
    CHECK(values(model.sample(null_only)) != values(null_a));

    // A source of one clip serves every prompt; its frame count is the samples'.
    SampleRequest two = request;
    two.prompts = {"a red circle", "a blue square"};
    two.source = concat({request.source, request.source}, 1);  // T = 4
    CHECK(model.sample(two).shape() == Shape{2, 4, 3, 8, 8});

    SampleRequest missing = request;
    missing.source = Tensor();
    CHECK_THAT(test::error_of([&] { model.sample(missing); }),
               Catch::Contains("expected a source video [1, T, 3, 8, 8]") && Catch::Contains("found none"));
    SampleRequest wrong = request;
    wrong.source = Tensor::zeros(Shape{1, 2, 3, 4, 4});
    CHECK_THAT(test::error_of([&] { model.sample(wrong); }), Catch::Contains("expected a float source video"));
    wrong = request;
    wrong.frames = 3;
    CHECK_THAT(test::error_of([&] { model.sample(wrong); }), Catch::Contains("frames 0 or the source video's 2, found 3"));
    wrong = request;
    wrong.reference = Tensor::zeros(Shape{1, 3, 8, 8});
    CHECK_THAT(test::error_of([&] { model.sample(wrong); }), Catch::Contains("without content conditioning"));

    // A model without structure conditioning refuses a source.
    TrainConfig plain = c;
    plain.conditioning.structure = false;
    plain.unet.in_channels = 3;
    Generator init_plain(1);
    const TextToVideo text_only = TextToVideo::from_captions(plain, captions, init_plain);
    CHECK_THAT(test::error_of([&] { text_only.sample(request); }),
               Catch::Contains("trained without structure conditioning; train with conditioning.structure = true"));
}

TEST_CASE("clip_flow: each frame's flow to the one before, frame 0 zero", "[experiment][gen1]") {
    // A 6×6 grey square moving 1 px right per frame on black: frame t's flow to t − 1 is (−1, 0) on it.
    // Clip 1 moves the square left from where clip 0's ends.
    const std::int64_t frames = 3, size = 24;
    Tensor clips = Tensor::zeros(Shape{2, frames, 3, size, size});
    float* p = clips.data<float>();
    for (std::int64_t b = 0; b < 2; ++b)
        for (std::int64_t t = 0; t < frames; ++t)
            for (std::int64_t c = 0; c < 3; ++c)
                for (std::int64_t y = 9; y < 15; ++y) {
                    const std::int64_t left = b == 0 ? 8 + t : 10 - t;
                    for (std::int64_t x = left; x < left + 6; ++x)
                        p[(((b * frames + t) * 3 + c) * size + y) * size + x] = 0.8f;
                }
    const Tensor flow = clip_flow(clips, flow::FlowMethod::HornSchunck);
    REQUIRE(flow.shape() == Shape{2, frames, 2, size, size});
    const std::vector<float> f = values(flow);
    const auto at = [&](std::int64_t b, std::int64_t t, std::int64_t k, std::int64_t y, std::int64_t x) {
        return f[static_cast<std::size_t>((((b * frames + t) * 2 + k) * size + y) * size + x)];
    };
    for (std::int64_t k = 0; k < 2; ++k) CHECK(at(0, 0, k, 12, 11) == 0.0f);
    for (std::int64_t t = 1; t < frames; ++t) {
        INFO("frame " << t);
        CHECK(at(0, t, 0, 12, 10 + t) == Approx(-1.0).margin(0.25));  // the square's centre in frame t
        CHECK(at(0, t, 1, 12, 10 + t) == Approx(0.0).margin(0.25));
        CHECK(at(1, t, 0, 12, 13 - t) == Approx(1.0).margin(0.25));   // moving left
    }
    CHECK_THAT(test::error_of([&] { clip_flow(Tensor::zeros(Shape{1, 2, 2, 8, 8}), flow::FlowMethod::HornSchunck); }),
               Catch::Contains("expected float clips [B, T, 1 or 3, H, W]"));
}

TEST_CASE("external flow: the source's optical flow replaces FlowWarp's flow head", "[experiment][gen1]") {
    using FlowUNet = models::VideoUNet<temporal::FrameConv, temporal::FlowWarp>;
    const UNetFactory factory = unet_factory<FlowUNet>("FrameConv+FlowWarp");
    TrainConfig c = structure_config("FrameConv+FlowWarp", "out");
    c.conditioning.max_structure_level = 0;
    c.conditioning.structure_dropout = 0.0;
    c.conditioning.external_flow = "horn_schunck";
    c.data.moving_shapes.frames = 3;
    c.data.moving_shapes.height = c.data.moving_shapes.width = 16;

    // The config: a known estimator, and only with structure (the flow is the source's).
    nlohmann::json j = train_config_to_json(c);
    j["model"] = "gen1";  // a preset name: read alone, the config must name one
    CHECK(j.at("conditioning").at("external_flow") == "horn_schunck");
    CHECK(train_config_to_json(train_config_from_json(j)) == j);
    CHECK(train_config_from_json(nlohmann::json::object()).conditioning.external_flow == "none");
    nlohmann::json bad = j;
    bad["conditioning"]["external_flow"] = "farneback";
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("expected external_flow one of none, horn_schunck, lucas_kanade, found 'farneback'"));
    bad = j;
    bad["conditioning"]["structure"] = false;
    bad["unet"]["in_channels"] = 3;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("expected conditioning.structure = true with conditioning.external_flow"));

    const std::vector<std::string> captions = {"a red circle moving left", "a blue square moving up"};
    TrainConfig no_flow = c;
    no_flow.conditioning.external_flow = "none";
    // A model whose mixers take no flow cannot use one.
    TrainConfig preset = c;
    preset.model = "gen1";
    Generator init_preset(1);
    CHECK_THAT(test::error_of([&] { TextToVideo::from_captions(preset, captions, init_preset); }),
               Catch::Contains("expected a model whose temporal mixers take a flow (FlowWarp)") &&
                   Catch::Contains("found gen1"));

    Generator init_a(1), init_b(1);
    TextToVideo model = TextToVideo::from_captions(c, captions, init_a, factory);
    TextToVideo own_flow = TextToVideo::from_captions(no_flow, captions, init_b, factory);
    open_zero_parameters(model);
    open_zero_parameters(own_flow);
    REQUIRE(parameter_bytes(model) == parameter_bytes(own_flow));

    // Training: the UNet saw the clips' flow, and it changes the output.
    const auto batch = two_clips(c);
    const Tensor videos = batch.video;  // [2, 3, 3, 16, 16]
    Generator gen_a(5), gen_b(5);
    const auto with_flow = model.training_loss(videos, batch.captions, 0.0, gen_a);
    const auto with_head = own_flow.training_loss(videos, batch.captions, 0.0, gen_b);
    CHECK(values(with_flow.x_t) == values(with_head.x_t));
    CHECK(values(with_flow.output) != values(with_head.output));
    const models::TextEncoding context = model.text_encoder().encode(batch.captions);
    const Tensor time = model.time_embedding().forward(with_flow.time);
    const Tensor input = concat({with_flow.x_t, clip_structure(videos, {0, 0}, c.conditioning.sigma_per_level)}, 2);
    models::UNetForwardOptions run;
    run.flow = clip_flow(videos, flow::FlowMethod::HornSchunck);
    CHECK(test::max_abs_difference(with_flow.output,
                                   model.unet().forward(input, time, context.tokens, context.mask, run)) < 1e-5);
    CHECK(test::max_abs_difference(with_head.output,
                                   model.unet().forward(input, time, context.tokens, context.mask, {})) < 1e-5);

    // Sampling: the source's flow, the same for the same source, and not the flow head's.
    SampleRequest request;
    request.prompts = {"a red circle moving left", "a blue square moving up"};
    request.seed = 3;
    request.source = slice(videos, 0, 0, 1);
    request.temporal_guidance = 0.5;
    const Tensor edited = model.sample(request);
    CHECK(edited.shape() == Shape{2, 3, 3, 16, 16});
    CHECK(values(model.sample(request)) == values(edited));
    CHECK(values(own_flow.sample(request)) != values(edited));
    // One source for two prompts (its structure and flow computed once) edits
    // as the same source given to each prompt.
    SampleRequest each = request;
    each.source = concat({request.source, request.source}, 0);
    CHECK(values(model.sample(each)) == values(edited));

    // The UNet checks the flow it is given.
    const Tensor x = Tensor::zeros(Shape{1, 3, 4, 16, 16});
    const Tensor e = Tensor::zeros(Shape{1, c.unet.time_embed_dim});
    const Tensor tokens = Tensor::zeros(Shape{1, 2, c.unet.context_dim});
    models::UNetForwardOptions wrong;
    wrong.flow = Tensor::zeros(Shape{1, 2, 2, 16, 16});
    CHECK_THAT(test::error_of([&] { model.unet().forward(x, e, tokens, {}, wrong); }),
               Catch::Contains("expected a flow [1, 3, 2, Hf, Wf]"));
    wrong.flow = Tensor::zeros(Shape{1, 3, 2, 4, 4});
    CHECK(model.unet().forward(x, e, tokens, {}, wrong).shape() == Shape{1, 3, 3, 16, 16});  // any grid, resized
    Generator init_plain(1);
    const auto plain = unet_factory<models::VideoUNet<temporal::FrameConv, temporal::NoMixer>>("plain")(c.unet, init_plain);
    CHECK_THAT(test::error_of([&] { plain->forward(x, e, tokens, {}, wrong); }),
               Catch::Contains("expected no flow (NoMixer computes its own mixing"));
}

TEST_CASE("content conditioning: reference tokens join the text tokens", "[experiment][gen1]") {
    TrainConfig c = content_config("out");
    c.diffusion.objective = diffusion::Objective::x0;  // bounded samples: an epsilon model at init saturates them
    const std::vector<std::string> captions = {"a red circle moving left", "a blue square moving up"};
    Generator init(2);
    TextToVideo model = TextToVideo::from_captions(c, captions, init);
    REQUIRE(model.content_encoder() != nullptr);
    std::int64_t content_parameters = 0;
    nn::visit_parameters(model, [&](const std::string& name, const Tensor&) {
        content_parameters += name.rfind("content_encoder.", 0) == 0 ? 1 : 0;
    });
    CHECK(content_parameters == 6);  // two convs and to_tokens, weight and bias each
    open_zero_parameters(model);

    const auto batch = two_clips(c);
    Generator gen(4);
    const auto loss = model.training_loss(batch.video, batch.captions, 0.1, gen);
    nn::zero_grad(model);
    backward(loss.loss);
    bool content_grad = false;
    nn::visit_parameters(model, [&](const std::string& name, const Tensor& p) {
        if (name.rfind("content_encoder.", 0) != 0 || !p.grad().defined()) return;
        for (const float g : p.grad().to_vector<float>()) content_grad |= g != 0.0f;
    });
    CHECK(content_grad);

    SampleRequest request;
    request.prompts = {"a red circle moving left"};
    request.seed = 6;
    request.source = slice(batch.video, 0, 0, 1);
    const Tensor no_reference = model.sample(request);
    request.reference = select(slice(batch.video, 0, 0, 1), 1, 0);  // [1, C, H, W]
    const Tensor first = model.sample(request);
    CHECK(values(first) != values(no_reference));
    request.reference = test::random(Shape{1, 3, 16, 16}, 11, 0.0, 1.0);  // any size the encoder can pool
    CHECK(values(model.sample(request)) != values(first));
    request.reference = Tensor::zeros(Shape{1, 1, 8, 8});
    CHECK_THAT(test::error_of([&] { model.sample(request); }),
               Catch::Contains("expected float reference frames [1 or 1, 3, H, W]"));
}

TEST_CASE("checkpoint: a structure and content model round-trips to the same samples", "[experiment][gen1]") {
    test::TempDir dir;
    const TrainConfig c = content_config(dir.path.string());
    Generator init(3);
    TextToVideo model = TextToVideo::from_captions(c, {"a red circle moving left"}, init);
    open_zero_parameters(model);
    const std::string path = dir.file("ckpt.safetensors");
    write_checkpoint(path, model, 7, Generator(3, 1));

    const Checkpoint back = read_checkpoint(path);
    CHECK(back.step == 7);
    CHECK(train_config_to_json(back.model.config()) == train_config_to_json(model.config()));
    CHECK(parameter_bytes(back.model) == parameter_bytes(model));
    CHECK(io::read_safetensors(path).tensors.size() == nn::named_parameters(model).size());

    const auto batch = two_clips(c);
    SampleRequest request;
    request.prompts = {"a red circle moving left"};
    request.seed = 8;
    request.source = slice(batch.video, 0, 0, 1);
    request.reference = select(slice(batch.video, 0, 1, 2), 1, 0);
    request.structure_level = 1;
    request.temporal_guidance = 0.5;
    CHECK(values(back.model.sample(request)) == values(model.sample(request)));
}

TEST_CASE("trainer: a structure model's loss falls, and its samples edit a data clip", "[experiment][gen1]") {
    test::TempDir dir;
    TrainConfig c = structure_config("image", dir.file("run"));
    c.training.steps = 40;
    c.training.batch_size = 8;
    c.training.sample_every = 40;
    c.training.sample_prompts = {"a red circle"};
    Trainer trainer(c);
    const TrainResult r = trainer.run();
    REQUIRE(r.losses.size() == 40);
    const double first = std::accumulate(r.losses.begin(), r.losses.begin() + 5, 0.0) / 5;
    const double last = std::accumulate(r.losses.end() - 5, r.losses.end(), 0.0) / 5;
    INFO("mean loss of the first 5 steps " << first << ", of the last 5 " << last);
    CHECK(last < 0.5 * first);
    const std::filesystem::path samples = std::filesystem::path(dir.file("run")) / "samples";
    CHECK((std::filesystem::exists(samples / "step_00000040.gif") ||
           std::filesystem::exists(samples / "step_00000040.npy")));
    CHECK(read_checkpoint(r.checkpoint).model.config().conditioning.structure);
}

}  // namespace vgt::test::gen1_conditioning_test
