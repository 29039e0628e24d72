// Ablations: variant names, the config (quick preset, rejected keys), a
// two-variant run end to end (every number in the table, the reports on
// disk), that a variant trains exactly as the preset of the same type does,
// equal-time budgets, the SVG chart, host memory accounting, and that every
// experiment config in the repository reads and names compiled variants.

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"
#include "experiment/experiment_support.hpp"

#include <vgt/core/host_memory.hpp>
#include <vgt/experiment/ablation.hpp>
#include <vgt/experiment/ablation_config.hpp>
#include <vgt/experiment/ablation_report.hpp>
#include <vgt/experiment/ablation_variant.hpp>
#include <vgt/experiment/builtin_variants.hpp>
#include <vgt/experiment/frame_prediction.hpp>
#include <vgt/experiment/prediction_run.hpp>
#include <vgt/experiment/trainer.hpp>
#include <vgt/io/svg_chart.hpp>
#include <vgt/models/unet_presets.hpp>

namespace vgt::test::ablation_test {

using namespace vgt::experiment;

namespace {

std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

/// A tiny ablation config: two frames of 8x8, a few steps, two prompts.
AblationConfig tiny_ablation(const std::string& out, std::vector<std::string> variants) {
    AblationConfig c;
    c.name = "tiny";
    c.variants = std::move(variants);
    c.train = test::tiny_train_config("gen1", out + "/unused");
    c.train.training.steps = 3;
    c.evaluation.prompts = 2;
    c.evaluation.batch = 2;
    c.evaluation.sample_steps = 2;
    c.evaluation.frames = {2, 3};
    c.evaluation.strip_videos = 2;
    c.output_dir = out;
    return c;
}

using models::VideoUNet;
using temporal::FrameConv;
using temporal::NoMixer;
using temporal::TemporalAttention;

}  // namespace

TEST_CASE("ablation variants are named after their conv stage, mixer and position unless named") {
    CHECK(Variant<VideoUNet<temporal::Conv3D, NoMixer>>::name() == "Conv3D+NoMixer");
    CHECK(Variant<VideoUNet<FrameConv, TemporalAttention<>>>::name() == "FrameConv+TemporalAttention");
    CHECK(Variant<VideoUNet<FrameConv, TemporalAttention<position::RoPE>>>::name() ==
          "FrameConv+TemporalAttention<RoPE>");
    CHECK(Variant<VideoUNet<temporal::AdapterConv2D, temporal::DirectedAttention<position::ALiBi>>>::name() ==
          "AdapterConv2D+DirectedAttention<ALiBi>");
    CHECK(Variant<VideoUNet<FrameConv, temporal::ConvLSTM>, "mine">::name() == "mine");
    CHECK(variant_directory_name("FrameConv+TemporalAttention<RoPE>") == "FrameConv-TemporalAttention-RoPE");
    CHECK(variant_directory_name("../..") == "variant");

    const std::vector<std::string> names = BuiltinAblation::names();
    CHECK(std::set<std::string>(names.begin(), names.end()).size() == names.size());
    for (const char* expected : {"Conv3D+NoMixer", "Conv2Plus1D+NoMixer", "AdapterConv2D+DirectedAttention",
                                 "FrameConv+SpatioTemporalAttention", "FrameConv+TemporalAttention<XPos>",
                                 "FrameConv+ConvLSTM", "FrameConv+TCN", "FrameConv+FrameDelta", "FrameConv+FlowWarp"})
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
}

TEST_CASE("ablation configs read from JSON, apply the quick preset, and reject what they cannot use") {
    const nlohmann::json base = {
        {"name", "study"},
        {"variants", {"FrameConv+NoMixer", "Conv3D+NoMixer"}},
        {"train", {{"training", {{"steps", 500}}}, {"optim", {{"lr_schedule", {{"total_steps", 500}}}}}}},
        {"evaluation", {{"prompts", 40}, {"frames", {8, 16}}}},
        {"quick", {{"train", {{"training", {{"steps", 20}}}}}, {"evaluation", {{"prompts", 4}}}}}};
    const AblationConfig full = ablation_config_from_json(base, false);
    CHECK(full.train.training.steps == 500);
    CHECK(full.evaluation.prompts == 40);
    CHECK(full.evaluation.frames == std::vector<std::int64_t>{8, 16});
    const AblationConfig quick = ablation_config_from_json(base, true);
    CHECK(quick.train.training.steps == 20);
    CHECK(quick.train.optim.lr_schedule.total_steps == 500);  // the merge keeps what the patch does not name
    CHECK(quick.evaluation.prompts == 4);
    CHECK(quick.evaluation.frames == std::vector<std::int64_t>{8, 16});

    nlohmann::json no_quick = base;
    no_quick.erase("quick");
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(no_quick, true); }),
               Catch::Contains("expected a 'quick' preset"));
    nlohmann::json with_model = base;
    with_model["train"]["model"] = "gen1";
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(with_model, false); }),
               Catch::Contains("expected no train.model"));
    nlohmann::json unknown = base;
    unknown["evaluation"]["promts"] = 3;
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(unknown, false); }), Catch::Contains("promts"));
    nlohmann::json twice = base;
    twice["variants"] = {"Conv3D+NoMixer", "Conv3D+NoMixer"};
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(twice, false); }),
               Catch::Contains("expected each variant once"));
    nlohmann::json none = base;
    none["variants"] = nlohmann::json::array();
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(none, false); }),
               Catch::Contains("expected at least one variant"));
    nlohmann::json mnist = base;
    mnist["train"]["data"] = {{"dataset", "moving-fashion-mnist"}};
    mnist["train"]["unet"] = {{"in_channels", 1}, {"out_channels", 1}};
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(mnist, false); }),
               Catch::Contains("expected evaluation.prompts 0 for data set 'moving-fashion-mnist'"));
    nlohmann::json task = base;
    task["task"] = "captioning";
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(task, false); }),
               Catch::Contains("expected task 'text-to-video' or 'prediction', found 'captioning'"));
    nlohmann::json context = base;
    context["task"] = "prediction";
    context["train"]["data"] = {{"moving_shapes", {{"frames", 6}}}};
    context["prediction"] = {{"context_frames", 6}};
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(context, false); }),
               Catch::Contains("expected context_frames in [1, 5]"));
    context["prediction"] = {{"context_frames", 5}};
    context["train"]["data"]["moving_shapes"].update({{"height", 8}, {"min_size", 3}, {"max_size", 5}});
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(context, false); }),
               Catch::Contains("expected frames of at least 11x11"));
    nlohmann::json bad_length = base;
    bad_length["evaluation"]["frames"] = {8, 0};
    CHECK_THAT(test::error_of([&] { ablation_config_from_json(bad_length, false); }),
               Catch::Contains("expected every length in frames in [1, 1024], found 0"));
}

TEST_CASE("derived variants train a compiled one with a patched train config") {
    const nlohmann::json base = {
        {"name", "study"},
        {"variants", {"Conv3D+NoMixer", "Conv3D+NoMixer, high lr"}},
        {"train", {{"training", {{"steps", 500}}}, {"optim", {{"adamw", {{"lr", 0.002}}}}}}},
        {"derived",
         {{"Conv3D+NoMixer, high lr", {{"from", "Conv3D+NoMixer"}, {"train", {{"optim", {{"adamw", {{"lr", 0.01}}}}}}}}}}},
        {"quick", {{"train", {{"training", {{"steps", 20}}}}}}}};
    for (const bool quick : {false, true}) {
        const AblationConfig c = ablation_config_from_json(base, quick);
        REQUIRE(c.derived.size() == 1);
        const DerivedVariant& d = c.derived.at("Conv3D+NoMixer, high lr");
        CHECK(d.from == "Conv3D+NoMixer");
        CHECK(d.train.optim.adamw.lr == 0.01);
        CHECK(c.train.optim.adamw.lr == 0.002);
        CHECK(d.train.training.steps == (quick ? 20 : 500));  // the patch applies to the quick preset's train
        CHECK(&c.train_of("Conv3D+NoMixer") == &c.train);
        CHECK(&c.train_of("Conv3D+NoMixer, high lr") == &d.train);
        nlohmann::json j = ablation_config_to_json(c);
        CHECK(j["derived"]["Conv3D+NoMixer, high lr"]["train"] == base["derived"]["Conv3D+NoMixer, high lr"]["train"]);
        j["train"].erase("model");  // written as the train config's, which names a preset
        nlohmann::json again = ablation_config_to_json(ablation_config_from_json(j, false));
        again["train"].erase("model");
        CHECK(again == j);
    }

    const auto error_with = [&](const std::function<void(nlohmann::json&)>& change) {
        nlohmann::json j = base;
        change(j);
        return test::error_of([&] { ablation_config_from_json(j, false); });
    };
    CHECK_THAT(error_with([](nlohmann::json& j) { j["variants"] = {"Conv3D+NoMixer"}; }),
               Catch::Contains("expected derived variant 'Conv3D+NoMixer, high lr' in 'variants'"));
    CHECK_THAT(error_with([](nlohmann::json& j) { j["derived"]["Conv3D+NoMixer, high lr"]["form"] = "x"; }),
               Catch::Contains("unknown key 'form' (expected one of: from, train)"));
    CHECK_THAT(error_with([](nlohmann::json& j) { j["derived"]["Conv3D+NoMixer, high lr"].erase("from"); }),
               Catch::Contains("'derived.Conv3D+NoMixer, high lr.from': expected the name of a compiled variant"));
    CHECK_THAT(error_with([](nlohmann::json& j) { j["derived"]["Conv3D+NoMixer, high lr"]["train"]["model"] = "gen1"; }),
               Catch::Contains("expected no model"));
    CHECK_THAT(error_with([](nlohmann::json& j) {
                   j["derived"]["Conv3D+NoMixer, high lr"]["train"]["optim"]["adamw"]["lrr"] = 1;
               }),
               Catch::Contains("derived.Conv3D+NoMixer, high lr.train") && Catch::Contains("unknown key 'lrr'"));
    CHECK_THAT(error_with([](nlohmann::json& j) {
                   j["derived"]["Conv3D+NoMixer, high lr"]["train"]["training"]["batch_size"] = 0;
               }),
               Catch::Contains("derived variant 'Conv3D+NoMixer, high lr'") && Catch::Contains("batch_size"));
    CHECK_THAT(error_with([](nlohmann::json& j) { j["derived"] = {1, 2}; }),
               Catch::Contains("expected 'derived' to be an object"));
}

TEST_CASE("every experiment config in benchmarks/ablations reads, with and without --quick, and names compiled "
          "variants") {
    const std::vector<std::string> names = BuiltinAblation::names();
    std::size_t configs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(VGT_ABLATIONS_DIR)) {
        if (entry.path().extension() != ".json") continue;
        ++configs;
        INFO(entry.path().string());
        for (const bool quick : {false, true}) {
            const AblationConfig c = read_ablation_config(entry.path().string(), quick);
            const auto compiled = [&](const std::string& v) {
                return std::find(names.begin(), names.end(), v) != names.end();
            };
            for (const std::string& v : c.variants) {
                INFO(v);
                const auto derived = c.derived.find(v);
                CHECK(compiled(derived == c.derived.end() ? v : derived->second.from));
            }
        }
    }
    CHECK(configs >= 4);
}

TEST_CASE("an ablation trains and scores each variant alike and writes its reports") {
    test::TempDir dir;
    const std::string out = (dir.path / "ablation").string();
    using Plain = Variant<VideoUNet<FrameConv, NoMixer>>;
    using Mine = Variant<VideoUNet<FrameConv, TemporalAttention<>>, "mine">;
    using Study = Ablation<Plain, Mine>;
    CHECK(Study::names() == std::vector<std::string>{"FrameConv+NoMixer", "mine"});

    CHECK_THAT(test::error_of([&] { Study::run(tiny_ablation(out, {"mine", "Conv3D+NoMixer"})); }),
               Catch::Contains("expected variants from the compiled list (FrameConv+NoMixer, mine) or 'derived', "
                               "found 'Conv3D+NoMixer'"));

    const AblationResult r = Study::run(tiny_ablation(out, {"FrameConv+NoMixer", "mine"}));
    write_ablation_report(r, "test");
    REQUIRE(r.variants.size() == 2);
    const TrainConfig& train = r.config.train;
    for (std::size_t i = 0; i < 2; ++i) {
        const VariantResult& v = r.variants[i];
        INFO(v.name);
        CHECK(v.steps == 3);
        CHECK_FALSE(v.stopped_by_time);
        REQUIRE(v.losses.size() == 3);
        for (const double l : v.losses) CHECK(std::isfinite(l));
        CHECK(v.final_loss == v.losses.back());  // the last tenth of 3 steps is the last step
        CHECK(v.step_ms > 0);
        CHECK(v.training_seconds * 1e3 >= v.step_ms);
        CHECK(v.peak_memory_bytes > 0);
        CHECK(v.ema);  // the tiny config keeps an EMA
        CHECK(std::filesystem::exists(std::filesystem::path(out) / v.directory / "checkpoint.safetensors"));
        REQUIRE(v.quality.size() == 2);
        CHECK(v.quality[0].frames == 2);
        CHECK(v.quality[1].frames == 3);
        for (const LengthQuality& q : v.quality) {
            CHECK(q.error.empty());
            CHECK(q.caption_accuracy >= 0);
            CHECK(q.caption_accuracy <= q.colour_accuracy);
            CHECK(q.colour_accuracy <= 1);
            CHECK(q.real_warp_error >= 0);
            if (io::video_io_available()) CHECK(std::filesystem::exists(std::filesystem::path(out) / q.strip));
        }
    }
    // Parameters and FLOPs are the UNet's own, counted on a model built apart.
    Generator gen(0);
    const VideoUNet<FrameConv, NoMixer> plain(train.unet, gen);
    const VideoUNet<FrameConv, TemporalAttention<>> mine(train.unet, gen);
    CHECK(r.variants[0].params == plain.params());
    CHECK(r.variants[1].params == mine.params());
    CHECK(r.variants[1].params > r.variants[0].params);
    const double frames = static_cast<double>(train.data.moving_shapes.frames);
    const Shape video{1, train.data.moving_shapes.frames, 3, 8, 8};
    CHECK(r.variants[0].flops_per_frame == Approx(plain.flops(video, train.text_encoder.max_length) / frames));
    CHECK(r.variants[1].flops_per_frame > r.variants[0].flops_per_frame);

    const nlohmann::json results = nlohmann::json::parse(read_text(std::filesystem::path(out) / "results.json"));
    CHECK(results["name"] == "tiny");
    CHECK(results["command"] == "test");
    REQUIRE(results["variants"].size() == 2);
    CHECK(results["variants"][1]["name"] == "mine");
    CHECK(results["variants"][1]["losses"].size() == 3);
    CHECK(results["variants"][1]["quality"][1]["frames"] == 3);
    CHECK(results["config"]["variants"] == nlohmann::json({"FrameConv+NoMixer", "mine"}));
    const std::string md = read_text(std::filesystem::path(out) / "report.md");
    CHECK_THAT(md, Catch::Contains("`FrameConv+NoMixer`") && Catch::Contains("`mine`") &&
                       Catch::Contains("## Quality at T = 2") && Catch::Contains("## Quality at T = 3") &&
                       Catch::Contains("loss.svg"));
    const std::string html = read_text(std::filesystem::path(out) / "report.html");
    CHECK(count_of(html, "<polyline") == 2);
    CHECK(count_of(html, "<table>") == 3);
    CHECK(read_text(std::filesystem::path(out) / "loss.svg").rfind("<svg", 0) == 0);
}

TEST_CASE("an ablation of structure models scores edits, a derived variant with the source's optical flow") {
    test::TempDir dir;
    const std::string out = (dir.path / "edits").string();
    using Plain = Variant<VideoUNet<FrameConv, NoMixer>>;
    using Flow = Variant<VideoUNet<FrameConv, temporal::FlowWarp>>;
    using Study = Ablation<Plain, Flow>;
    AblationConfig c = tiny_ablation(out, {"FrameConv+NoMixer", "FrameConv+FlowWarp", "external flow"});
    c.train.unet.in_channels = 4;
    c.train.conditioning.structure = true;
    c.train.data.moving_shapes.height = c.train.data.moving_shapes.width = 16;
    DerivedVariant external{"FrameConv+FlowWarp", {{"conditioning", {{"external_flow", "horn_schunck"}}}}, c.train};
    external.train.conditioning.external_flow = "horn_schunck";
    c.derived.emplace("external flow", external);

    AblationConfig unknown = c;
    unknown.derived.at("external flow").from = "FrameConv+ConvLSTM";
    CHECK_THAT(test::error_of([&] { Study::run(unknown); }),
               Catch::Contains("derived variant 'external flow': expected 'from' to name a variant of the compiled "
                               "list (FrameConv+NoMixer, FrameConv+FlowWarp), found 'FrameConv+ConvLSTM'"));
    AblationConfig no_flow = c;
    no_flow.derived.at("external flow").from = "FrameConv+NoMixer";
    CHECK_THAT(test::error_of([&] { Study::run(no_flow); }),
               Catch::Contains("variant 'external flow'") && Catch::Contains("temporal mixers take a flow"));

    const AblationResult r = Study::run(c);
    write_ablation_report(r, "test");
    REQUIRE(r.variants.size() == 3);
    CHECK(r.variants[2].name == "external flow");
    CHECK(r.variants[2].directory == "variants/external-flow");
    CHECK(r.variants[2].params == r.variants[1].params);
    // The same weights and batches; from the second step on, the flows differ.
    CHECK(r.variants[2].losses.front() == r.variants[1].losses.front());
    CHECK(r.variants[2].losses.back() != r.variants[1].losses.back());
    for (const VariantResult& v : r.variants) {
        INFO(v.name);
        REQUIRE(v.quality.size() == 2);
        for (const LengthQuality& q : v.quality) {
            CHECK(q.error.empty());
            CHECK(q.edits);
            CHECK(q.edit_accuracy >= 0);
            CHECK(q.edit_accuracy <= q.colour_accuracy);
            CHECK(q.edit_accuracy <= q.trajectory_accuracy);
            CHECK(q.trajectory_accuracy <= 1);
            CHECK(q.real_warp_error > 0);  // the sources move
            CHECK(std::isfinite(q.warp_ratio));
        }
    }
    const nlohmann::json results = nlohmann::json::parse(read_text(std::filesystem::path(out) / "results.json"));
    CHECK(results["variants"][2]["quality"][0]["task"] == "edit");
    CHECK(results["variants"][2]["quality"][0].contains("edit_accuracy"));
    CHECK(results["config"]["derived"]["external flow"]["from"] == "FrameConv+FlowWarp");
    const std::string md = read_text(std::filesystem::path(out) / "report.md");
    CHECK_THAT(md, Catch::Contains("## Edits at T = 2") && Catch::Contains("`external flow`") &&
                       !Catch::Contains("## Quality at T"));
}

TEST_CASE("a variant trains exactly as the preset of the same UNet type") {
    test::TempDir dir;
    const std::string out = (dir.path / "ablation").string();
    AblationConfig c = tiny_ablation(out, {"FrameConv+NoMixer"});
    c.evaluation.prompts = 0;
    const AblationResult r = Ablation<Variant<models::ImageUNet>>::run(c);
    REQUIRE(r.variants.size() == 1);
    CHECK(r.variants[0].quality.empty());

    TrainConfig preset = c.train;
    preset.model = "image";
    preset.training.output_dir = (dir.path / "preset").string();
    const TrainResult direct = Trainer(preset).run();
    CHECK(direct.losses == r.variants[0].losses);
}

TEST_CASE("training.max_seconds stops a run once its steps took that long") {
    test::TempDir dir;
    TrainConfig c = test::tiny_train_config("image", (dir.path / "run").string());
    c.training.steps = 50;
    c.training.max_seconds = 1e-9;
    const TrainResult r = Trainer(c).run();
    CHECK(r.last_step == 1);
    CHECK(r.stopped_by_time);
    CHECK(r.step_seconds.size() == 1);
    CHECK(std::filesystem::exists(dir.path / "run" / "checkpoint.safetensors"));
    c.training.max_seconds = -1;
    CHECK_THAT(test::error_of([&] { c.training.validate(); }), Catch::Contains("expected max_seconds >= 0"));
}

TEST_CASE("a factory-made UNet never resumes a checkpoint it could not rebuild") {
    test::TempDir dir;
    TrainConfig c = test::tiny_train_config("image", (dir.path / "run").string());
    c.training.steps = 1;
    Trainer(c).run();
    c.model = "mine";
    CHECK_THAT(test::error_of([&] { Trainer(c, unet_factory<models::ImageUNet>("mine")); }),
               Catch::Contains("expected no checkpoint to resume for model 'mine'"));
    c.training.resume = false;
    CHECK(Trainer(c, unet_factory<models::ImageUNet>("mine")).model().unet().name() == "mine");
    CHECK_THAT(test::error_of([&] { Trainer{c}; }), Catch::Contains("expected model one of"));
}

TEST_CASE("an untrained frame predictor copies the last known frame forward") {
    TrainConfig c = test::tiny_train_config("image", "unused");
    const models::VideoUNetOptions options = FramePredictor::unet_options(c.unet, 3);
    CHECK(options.in_channels == 4);
    CHECK(options.out_channels == 3);
    CHECK(options.context_dim == 0);
    Generator gen(1);
    const FramePredictor model(make_unet("conv3d", options, gen), 3, 2, options.time_embed_dim);
    const Tensor clips = rand({2, 5, 3, 8, 8}, gen);
    const Tensor predicted = model.predict(clips);
    REQUIRE(predicted.shape() == Shape{2, 3, 3, 8, 8});
    const Tensor last = expand(slice(clips, 1, 1, 2), Shape{2, 3, 3, 8, 8});
    CHECK(max(abs(sub(predicted, last))).item<double>() < 1e-6);
    // The loss is the squared error in [-1, 1] units: 4x that in [0, 1].
    const Tensor future = slice(clips, 1, 2, 5);
    const double expected = 4.0 * mean(square(sub(last, future))).item<double>();
    CHECK(model.loss(clips, gen).item<double>() == Approx(expected).epsilon(1e-5));
    CHECK_THAT(test::error_of([&] { model.predict(rand({2, 2, 3, 8, 8}, gen)); }),
               Catch::Contains("expected clips [B, T, 3, H, W] with T > 2"));
}

TEST_CASE("a prediction ablation trains each variant to predict frames and scores PSNR and SSIM") {
    test::TempDir dir;
    const std::string out = (dir.path / "prediction").string();
    AblationConfig c = tiny_ablation(out, {"FrameConv+NoMixer", "Conv3D+NoMixer"});
    c.task = "prediction";
    c.train.data.moving_shapes.frames = 4;
    c.train.data.moving_shapes.height = c.train.data.moving_shapes.width = 12;  // SSIM's window is 11
    c.train.training.steps = 6;
    c.prediction.context_frames = 2;
    c.prediction.clips = 5;
    c.evaluation.batch = 2;
    const AblationResult r = Ablation<Variant<models::ImageUNet>, Variant<models::Conv3DUNet>>::run(c);
    write_ablation_report(r, "");
    REQUIRE(r.variants.size() == 2);
    for (const VariantResult& v : r.variants) {
        INFO(v.name);
        CHECK(v.quality.empty());
        REQUIRE(v.prediction.has_value());
        CHECK(v.prediction->clips == 5);
        CHECK(std::isfinite(v.prediction->psnr));
        CHECK(v.prediction->ssim <= 1.0);
        CHECK(v.losses.size() == 6);
        CHECK(std::filesystem::exists(std::filesystem::path(out) / v.directory / "weights.safetensors"));
    }
    // The baseline does not depend on the model: PSNR of the pooled squared error of copying frame K − 1.
    CHECK(r.variants[0].prediction->baseline_psnr == r.variants[1].prediction->baseline_psnr);
    double squared_error = 0;
    visit_dataset(prediction_eval_data(c.train.data), [&](auto&& clips) {
        for (std::int64_t i = 0; i < 5; ++i) {
            const Tensor video = clips.get(i).video;
            const Tensor future = slice(video, 0, 2, 4);
            squared_error += mean(square(sub(expand(slice(video, 0, 1, 2), future.shape()), future))).item<double>();
        }
    });
    CHECK(r.variants[0].prediction->baseline_psnr == Approx(10 * std::log10(5 / squared_error)).epsilon(1e-4));
    const std::string md = read_text(std::filesystem::path(out) / "report.md");
    CHECK_THAT(md, Catch::Contains("## Prediction") && Catch::Contains("copy the last known frame") &&
                       Catch::Contains("predicts frames 3 to 4 from the first 2"));
    const nlohmann::json results = nlohmann::json::parse(read_text(std::filesystem::path(out) / "results.json"));
    CHECK(results["variants"][1]["prediction"]["clips"] == 5);
}

TEST_CASE("svg_line_chart draws one line per series, skips what a log axis cannot show, escapes labels") {
    io::ChartSeries a{"a<b>&c", {1, 2, 3, 4}, {1.0, 0.5, std::nan(""), 0.25}};
    io::ChartSeries b{"second", {1, 2}, {2.0, -1.0}};
    const std::string svg = io::svg_line_chart({a, b}, {.title = "t", .x_label = "step", .y_label = "loss",
                                                        .log_y = true});
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(count_of(svg, "<polyline") == 2);
    CHECK_THAT(svg, Catch::Contains("a&lt;b&gt;&amp;c"));
    CHECK_FALSE(svg.find("a<b>") != std::string::npos);
    // Series a keeps 3 points, b only its positive one.
    const auto points_of = [&](std::size_t which) {
        std::size_t at = 0;
        for (std::size_t k = 0; k <= which; ++k) at = svg.find("points=\"", at) + 8;
        const std::string list = svg.substr(at, svg.find('"', at) - at);
        return count_of(list, ",");
    };
    CHECK(points_of(0) == 3);
    CHECK(points_of(1) == 1);
    const std::string empty = io::svg_line_chart({}, {});
    CHECK(empty.rfind("<svg", 0) == 0);
}

TEST_CASE("host memory stats count tensor storage in use and its peak") {
    const HostMemoryStats before = host_memory_stats();
    reset_host_memory_peak();
    {
        const Tensor big = Tensor::zeros({1 << 18}, DType::Float32);  // 1 MiB
        CHECK(host_memory_stats().bytes_in_use >= before.bytes_in_use + (std::size_t{1} << 20));
    }
    const HostMemoryStats after = host_memory_stats();
    CHECK(after.bytes_in_use == before.bytes_in_use);
    CHECK(after.peak_bytes_in_use >= before.bytes_in_use + (std::size_t{1} << 20));
    reset_host_memory_peak();
    CHECK(host_memory_stats().peak_bytes_in_use == after.bytes_in_use);
}

}  // namespace vgt::test::ablation_test
