// The text-to-video pipeline: the train config in JSON, the TextToVideo
// model (names, loss, sampling), checkpoints (round trip, checked loading),
// the exact resume of a training run, the NaN guard, and a short training
// run whose loss falls.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

#include "support.hpp"
#include "experiment/experiment_support.hpp"

#include <vgt/experiment/checkpoint.hpp>
#include <vgt/experiment/progress.hpp>
#include <vgt/experiment/text_to_video.hpp>
#include <vgt/experiment/train_config.hpp>
#include <vgt/experiment/trainer.hpp>

namespace vgt::test::trainer_test {

using namespace vgt::experiment;

namespace {

std::vector<std::byte> parameter_bytes(const TextToVideo& model) {
    std::vector<std::byte> out;
    nn::visit_parameters(model, [&](const std::string&, const Tensor& p) {
        const auto* b = static_cast<const std::byte*>(p.raw_data());
        out.insert(out.end(), b, b + p.nbytes());
    });
    return out;
}

std::vector<char> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("train config: JSON round trip, strict keys and consistency checks", "[experiment]") {
    const TrainConfig c = test::tiny_train_config("gen1", "out");
    const nlohmann::json j = train_config_to_json(c);
    CHECK(train_config_to_json(train_config_from_json(j)) == j);
    CHECK(j.at("diffusion").at("schedule") == "cosine");
    CHECK(j.at("diffusion").at("sampler") == "ddim");

    // Defaults fit together and validate.
    CHECK_NOTHROW(TrainConfig{}.validate());
    CHECK_NOTHROW(train_config_from_json(nlohmann::json::object()));
    // A partial "unet" object starts from the train config's UNet defaults (RGB), not VideoUNetOptions' (4 latents).
    const TrainConfig partial = train_config_from_json({{"unet", {{"base_channels", 32}}}});
    CHECK(partial.unet.in_channels == 3);
    CHECK(partial.unet.base_channels == 32);

    nlohmann::json bad = j;
    bad["training"]["stepz"] = 3;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("'training': unknown key 'stepz'"));
    bad = j;
    bad["model"] = "sora";
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("found 'sora'"));
    bad = j;
    bad["diffusion"]["objective"] = "noise";
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("diffusion.objective"));
    bad = j;
    bad["unet"]["context_dim"] = 32;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("unet.context_dim equal to text_encoder.width 16, found 32"));
    bad = j;
    bad["unet"]["in_channels"] = 4;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("the data's 3 channels"));
    bad = j;
    bad["space"] = "latent";
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("space 'pixel'"));
    bad = j;
    bad["diffusion"]["process"] = "flow";  // with the epsilon objective
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }), Catch::Contains("other than epsilon"));
    bad = j;
    bad["diffusion"]["shift"] = 0;
    CHECK_THAT(test::error_of([&] { train_config_from_json(bad); }),
               Catch::Contains("expected a finite shift > 0, found 0"));
    bad = j;
    bad["diffusion"]["shift"] = 3.5;
    CHECK(train_config_from_json(bad).diffusion.shift == 3.5);

    test::TempDir dir;
    {
        std::ofstream(dir.file("train.json")) << R"({"training": {"steps": 0}})";
    }
    CHECK_THAT(test::error_of([&] { read_train_config(dir.file("train.json")); }),
               Catch::Contains("train.json") && Catch::Contains("expected steps >= 1, found 0"));
    CHECK_THAT(test::error_of([&] { read_train_config(dir.file("absent.json")); }), Catch::Contains("absent.json"));
}

TEST_CASE("TextToVideo: names, loss with condition dropout, guided sampling", "[experiment]") {
    const TrainConfig c = test::tiny_train_config("gen1", "out");
    Generator gen(1);
    const std::vector<std::string> captions = {"a red circle moving left", "a blue square moving up"};
    TextToVideo model = TextToVideo::from_captions(c, captions, gen);
    CHECK(model.tokenizer().id("circle") > 3);

    std::int64_t unet = 0, text = 0, time = 0, other = 0;
    nn::visit_parameters(model, [&](const std::string& name, const Tensor&) {
        if (name.rfind("unet.", 0) == 0) ++unet;
        else if (name.rfind("text_encoder.", 0) == 0) ++text;
        else if (name.rfind("time_embedding.", 0) == 0) ++time;
        else ++other;
    });
    CHECK(unet > 0);
    CHECK(text > 0);
    CHECK(time == 4);
    CHECK(other == 0);

    data::MovingShapes shapes(c.data.moving_shapes);
    const auto batch = data::collate(std::vector<data::ShapesClip>{shapes.get(0), shapes.get(1)});
    Generator step_a(5), step_b(5);
    const auto a = model.training_loss(batch.video, batch.captions, 0.5, step_a);
    const auto b = model.training_loss(batch.video, batch.captions, 0.5, step_b);
    REQUIRE(a.loss.numel() == 1);
    CHECK(std::isfinite(a.loss.item<float>()));
    CHECK(a.loss.item<float>() == b.loss.item<float>());  // the generator decides everything
    // x0 is the clip scaled to [-1, 1]: at level (α, σ), x_t = α·(2v − 1) + σ·ε.
    CHECK(a.x_t.shape() == batch.video.shape());

    nn::zero_grad(model);
    backward(a.loss);
    bool unet_grad = false;
    nn::visit_parameters(model, [&](const std::string& name, const Tensor& p) {
        if (!p.grad().defined()) return;
        const auto g = p.grad().to_vector<float>();
        const bool nonzero = std::any_of(g.begin(), g.end(), [](float v) { return v != 0.0f; });
        if (name.rfind("unet.", 0) == 0) unet_grad |= nonzero;
    });
    CHECK(unet_grad);  // (the text encoder's is 0 at initialisation: cross-attention's to_out starts at zero)

    CHECK_THAT(test::error_of([&] { model.training_loss(batch.video, {"one"}, 0.0, step_a); }),
               Catch::Contains("one caption per video (2), found 1"));

    SampleRequest request;
    request.prompts = {"a red circle moving left", "a blue square moving up"};
    request.seed = 7;
    request.temporal_guidance = 0.5;  // Gen-1's temporal guidance: a mixers-off evaluation too
    const Tensor v1 = model.sample(request);
    const Tensor v2 = model.sample(request);
    REQUIRE(v1.shape() == Shape{2, 2, 3, 8, 8});
    const auto values = v1.to_vector<float>();
    CHECK(*std::min_element(values.begin(), values.end()) >= 0.0f);
    CHECK(*std::max_element(values.begin(), values.end()) <= 1.0f);
    CHECK(v1.to_vector<float>() == v2.to_vector<float>());
    request.frames = 3;
    request.sampler = diffusion::SamplerKind::dpm_solver_pp_2m;
    CHECK(model.sample(request).shape() == Shape{2, 3, 3, 8, 8});
    request.prompts.clear();
    CHECK_THAT(test::error_of([&] { model.sample(request); }), Catch::Contains("at least one prompt"));
}

TEST_CASE("checkpoint: round trip and checked loading", "[experiment]") {
    test::TempDir dir;
    const TrainConfig c = test::tiny_train_config("image", dir.path.string());
    Generator gen(3);
    const TextToVideo model = TextToVideo::from_captions(c, {"a red circle moving left"}, gen);
    const std::string path = dir.file("ckpt.safetensors");
    Tensor extra = Tensor::from_vector(std::vector<double>{1.5, 2.5});
    write_checkpoint(path, model, 12, Generator(3, 99), {{"optim.x", extra}});

    const Checkpoint back = read_checkpoint(path);
    CHECK(back.step == 12);
    CHECK(back.rng.seed() == 3);
    CHECK(back.rng.offset() == 99);
    CHECK(parameter_bytes(back.model) == parameter_bytes(model));
    CHECK(back.model.tokenizer().to_json() == model.tokenizer().to_json());
    CHECK(train_config_to_json(back.model.config()) == train_config_to_json(model.config()));
    REQUIRE(back.training_state.size() == 1);
    CHECK(back.training_state[0].first == "optim.x");
    CHECK(back.training_state[0].second.to_vector<double>() == std::vector<double>{1.5, 2.5});

    // A parameter of the wrong shape, a missing one, an unknown one.
    io::SafetensorsFile file = io::read_safetensors(path);
    auto rewrite = [&](auto edit) {
        auto tensors = file.tensors;
        edit(tensors);
        io::write_safetensors(dir.file("bad.safetensors"), tensors, file.metadata);
        return test::error_of([&] { read_checkpoint(dir.file("bad.safetensors")); });
    };
    CHECK_THAT(rewrite([](auto& t) { t[0].second = Tensor::zeros(Shape{1}, DType::Float32); }),
               Catch::Contains("expected parameter 'text_encoder.token_embedding.weight'"));
    CHECK_THAT(rewrite([](auto& t) { t.erase(t.begin()); }),
               Catch::Contains("not found: text_encoder.token_embedding.weight"));
    CHECK_THAT(rewrite([](auto& t) { t.emplace_back("unet.extra", Tensor::zeros(Shape{1}, DType::Float32)); }),
               Catch::Contains("unknown one: 'unet.extra'"));
    file.metadata.erase("tokenizer");
    CHECK_THAT(rewrite([](auto&) {}), Catch::Contains("expected metadata 'tokenizer'"));
    CHECK_THAT(test::error_of([&] { write_checkpoint(path, model, 1, gen, {{"weights.x", extra}}); }),
               Catch::Contains("found 'weights.x'"));
}

TEST_CASE("trainer: N steps equal N/2 + checkpoint + N/2, bit for bit", "[experiment]") {
    test::TempDir dir;
    TrainConfig straight = test::tiny_train_config("gen1", dir.file("straight"));
    TrainConfig split = test::tiny_train_config("gen1", dir.file("split"));
    split.training.prefetch = 2;  // the loader's thread does not change the batches
    straight.training.checkpoint_every = 2;
    straight.optim.lr_schedule.warmup_steps = 2;
    split.optim.lr_schedule.warmup_steps = 2;

    Trainer a(straight);
    const TrainResult ra = a.run();
    CHECK(ra.last_step == 4);
    {
        Trainer first(split);
        const TrainResult r1 = first.run(2);
        CHECK(r1.last_step == 2);
    }
    Trainer second(split);
    CHECK(second.step() == 2);
    const TrainResult r2 = second.run();
    CHECK(r2.first_step == 2);
    CHECK(r2.last_step == 4);
    CHECK(parameter_bytes(second.model()) == parameter_bytes(a.model()));
    CHECK(std::vector<double>(ra.losses.begin() + 2, ra.losses.end()) == r2.losses);

    // The optimiser and EMA state resume too: the final checkpoints hold the same tensors.
    const io::SafetensorsFile fa = io::read_safetensors(a.checkpoint_path());
    const io::SafetensorsFile fb = io::read_safetensors(second.checkpoint_path());
    REQUIRE(fa.tensors.size() == fb.tensors.size());
    bool same = true;
    for (std::size_t i = 0; i < fa.tensors.size(); ++i) {
        const Tensor& x = fa.tensors[i].second;
        const Tensor& y = fb.tensors[i].second;
        same &= fa.tensors[i].first == fb.tensors[i].first && x.nbytes() == y.nbytes() &&
                std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
    }
    CHECK(same);
    CHECK(fa.metadata.at("step") == "4");

    // One metrics line per step (log_every 1), over both halves of the split run.
    std::ifstream metrics(dir.file("split") + "/metrics.jsonl");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(metrics, line);) lines.push_back(nlohmann::json::parse(line));
    REQUIRE(lines.size() == 4);
    CHECK(lines[3].at("step") == 4);
    for (const char* key : {"loss", "lr", "grad_norm", "seconds"}) CHECK(lines[3].contains(key));
    CHECK(lines[0].at("lr").get<double>() == Approx(3e-3 / 2));  // warm-up: (s + 1) / W

    // A different model in the same directory is refused.
    TrainConfig other = split;
    other.model = "image";
    CHECK_THAT(test::error_of([&] { Trainer t(other); }), Catch::Contains("expected the checkpoint's 'model' to match"));
}

TEST_CASE("trainer: a NaN stops training at its step and keeps the last checkpoint", "[experiment]") {
    test::TempDir dir;
    TrainConfig c = test::tiny_train_config("image", dir.file("run"));
    c.training.checkpoint_every = 1;
    Trainer trainer(c);
    std::vector<char> before;
    trainer.set_before_step([&](std::int64_t step, TextToVideo& model) {
        if (step != 2) return;
        before = file_bytes(trainer.checkpoint_path());
        model.visit_parameters(
            [](const std::string& name, Tensor& p) {
                if (name == "unet.conv_in.weight") p.data<float>()[0] = std::nanf("");
            },
            "");
    });
    const std::string message = test::error_of([&] { trainer.run(); });
    CHECK_THAT(message, Catch::Contains("training stopped at step 3 (of 4)"));
    CHECK(trainer.step() == 2);
    REQUIRE(!before.empty());
    CHECK(file_bytes(trainer.checkpoint_path()) == before);
    CHECK(read_checkpoint(trainer.checkpoint_path()).step == 2);
}

TEST_CASE("trainer: the loss falls on MovingShapes", "[experiment]") {
    test::TempDir dir;
    TrainConfig c = test::tiny_train_config("image", dir.file("run"));
    c.training.steps = 40;
    c.training.batch_size = 8;
    c.training.log_every = 10;
    c.optim.adamw.lr = 1e-2;
    Trainer trainer(c);
    const TrainResult r = trainer.run();
    REQUIRE(r.losses.size() == 40);
    const double first = std::accumulate(r.losses.begin(), r.losses.begin() + 5, 0.0) / 5;
    const double last = std::accumulate(r.losses.end() - 5, r.losses.end(), 0.0) / 5;
    INFO("mean loss of the first 5 steps " << first << ", of the last 5 " << last);
    CHECK(last < 0.5 * first);
}

TEST_CASE("progress: bar and plain lines", "[experiment]") {
    ProgressBar bar(0, 10, ProgressStyle::bar);
    CHECK_THAT(bar.line(5, 0.25), Catch::StartsWith("[############............] 5/10  loss 0.2500"));
    ProgressBar lines(0, 10, ProgressStyle::lines);
    CHECK_THAT(lines.line(5, 0.25), Catch::StartsWith("5/10  loss 0.2500"));
    // A time budget ends the run sooner than the steps would: its ETA is the time left.
    CHECK_THAT(lines.line(0, 0.25, 70.0), Catch::EndsWith("ETA 1m10s (time limit)"));
    CHECK_THAT(lines.line(5, 0.25, 1e6), !Catch::Contains("time limit"));
    CHECK(format_duration(3723) == "1h02m03s");
    CHECK(format_duration(172) == "2m52s");
    CHECK(format_duration(7) == "7s");
    CHECK(progress_style("off", stderr) == ProgressStyle::off);
}

}  // namespace vgt::test::trainer_test
