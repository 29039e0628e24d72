// The frame-wise video VAE: against its PyTorch twin (golden cases from
// tests/golden/make_vae.py) in float64 and float32, the loss terms against
// PyTorch and in closed form, gradchecks of the loss and of the logvar clamp,
// frame independence, the reparameterisation, the latent scale, options in
// JSON, a checkpoint round trip, the errors, and a short training run whose
// loss must fall.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

#include <vgt/data/moving_shapes.hpp>
#include <vgt/io/json_config.hpp>
#include <vgt/io/safetensors.hpp>
#include <vgt/models/vae.hpp>
#include <vgt/models/vae_loss.hpp>
#include <vgt/optim/adamw.hpp>

namespace vgt::test::vae_test {

using models::DiagonalGaussian;
using models::ReconstructionLoss;
using models::Vae;
using models::VaeLossOptions;
using models::VaeOptions;
using vgt::test::max_relative_error;
using vgt::test::random;

namespace {

io::SafetensorsFile golden(const std::string& name) {
    return io::read_safetensors(std::string(VGT_GOLDEN_DIR) + "/vae/" + name + ".safetensors");
}

VaeOptions options_of(const io::SafetensorsFile& file) {
    const auto& m = file.metadata;
    VaeOptions o;
    o.in_channels = std::stoll(m.at("in_channels"));
    o.latent_channels = std::stoll(m.at("latent_channels"));
    o.base_channels = std::stoll(m.at("base_channels"));
    o.blocks_per_level = std::stoll(m.at("blocks_per_level"));
    o.norm_groups = std::stoll(m.at("norm_groups"));
    o.latent_scale = std::stod(m.at("latent_scale"));
    o.channel_multipliers.clear();
    std::stringstream list(m.at("channel_multipliers"));
    for (std::string item; std::getline(list, item, ',');) o.channel_multipliers.push_back(std::stoll(item));
    return o;
}

/// A VAE of the golden file's options and weights, in `dtype`.
Vae golden_vae(const io::SafetensorsFile& file, DType dtype) {
    Generator gen(0);
    Vae vae(options_of(file), gen, dtype);
    nn::load_parameters(vae, file.tensors, "vae");
    return vae;
}

/// The smallest VAE with every kind of layer: ×4, channel changes, two blocks.
VaeOptions tiny_options() {
    VaeOptions o;
    o.in_channels = 3;
    o.latent_channels = 2;
    o.base_channels = 4;
    o.channel_multipliers = {1, 2};
    o.blocks_per_level = 1;
    o.norm_groups = 2;
    return o;
}

Tensor parameter(const Vae& vae, const std::string& name) {
    for (const auto& [n, p] : nn::named_parameters(vae))
        if (n == name) return p;
    FAIL("no parameter " << name);
    return {};
}

double scalar(const Tensor& t) { return t.item<double>(); }

/// max |a − b| / max |b|: float32 rounding grows with the values a layer
/// sums, so errors are measured against the tensor's scale, not per element.
double error_relative_to_largest(const Tensor& a, const Tensor& b) {
    double largest = 0;
    for (const double v : b.to_vector()) largest = std::max(largest, std::abs(v));
    return max_relative_error(a, b, largest);
}

/// Largest |a − b| over all elements.
double largest_difference(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const auto va = a.to_vector(), vb = b.to_vector();
    double worst = 0;
    for (std::size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
    return worst;
}

double relative(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

}  // namespace

TEST_CASE("VaeOptions: factor 2^levels, channels per level, validation naming the option", "[models][vae]") {
    VaeOptions o;
    CHECK_NOTHROW(o.validate());
    CHECK(o.downsampling_factor() == 8);
    o.channel_multipliers = {1, 2};
    CHECK(o.downsampling_factor() == 4);
    CHECK(o.level_channels(1) == 64);
    CHECK(o.groups_for(64) == 32);
    o.norm_groups = 0;
    CHECK(o.groups_for(48) == 24);

    auto rejects = [](auto change, const char* message) {
        VaeOptions bad = tiny_options();
        change(bad);
        CHECK_THROWS_WITH(bad.validate(), Catch::Contains("VaeOptions") && Catch::Contains(message));
    };
    rejects([](VaeOptions& b) { b.in_channels = 0; }, "in_channels in [1, 4096]");
    rejects([](VaeOptions& b) { b.latent_channels = -1; }, "latent_channels in [1, 4096]");
    rejects([](VaeOptions& b) { b.channel_multipliers = {}; }, "1 to 4 channel_multipliers");
    rejects([](VaeOptions& b) { b.channel_multipliers = {1, 1, 1, 1, 1}; }, "found 5");
    rejects([](VaeOptions& b) { b.channel_multipliers = {1, 0}; }, "channel_multipliers in [1, 1024]");
    rejects([](VaeOptions& b) { b.blocks_per_level = 0; }, "blocks_per_level in [1, 16]");
    rejects([](VaeOptions& b) { b.norm_groups = 3; }, "dividing base_channels");
    rejects([](VaeOptions& b) { b.latent_scale = 0; }, "positive finite latent_scale");
    rejects([](VaeOptions& b) { b.latent_scale = std::numeric_limits<double>::quiet_NaN(); }, "latent_scale");
}

TEST_CASE("VaeOptions and VaeLossOptions read from JSON with defaults and write every field", "[models][vae]") {
    const auto j =
        io::parse_json_config(R"({"base_channels": 16, "channel_multipliers": [1, 2], "latent_scale": 0.25})", "test");
    const VaeOptions o = io::options_from_json<VaeOptions>(j, "vae");
    CHECK(o.base_channels == 16);
    CHECK(o.channel_multipliers == std::vector<std::int64_t>{1, 2});
    CHECK(o.latent_scale == 0.25);
    CHECK(o.latent_channels == 4);  // the default
    const VaeOptions back = io::options_from_json<VaeOptions>(io::options_to_json(o));
    CHECK(back.channel_multipliers == o.channel_multipliers);
    CHECK(back.latent_scale == o.latent_scale);
    CHECK(io::options_to_json(o).size() == 7);
    CHECK_THROWS_WITH(io::options_from_json<VaeOptions>(io::parse_json_config(R"({"levels": 3})", "test"), "vae"),
                      Catch::Contains("'vae': unknown key 'levels'"));
    CHECK_THROWS_WITH(io::options_from_json<VaeOptions>(io::parse_json_config(R"({"base_channels": 1.5})", "t"), "vae"),
                      Catch::Contains("vae.base_channels") && Catch::Contains("an integer"));

    const auto lj = io::parse_json_config(R"({"reconstruction": "l2", "temporal_weight": 0.1})", "test");
    const VaeLossOptions l = io::options_from_json<VaeLossOptions>(lj, "loss");
    CHECK(l.reconstruction == ReconstructionLoss::l2);
    CHECK(l.temporal_weight == 0.1);
    CHECK(l.kl_weight == 1e-4);
    CHECK(io::options_to_json(l)["reconstruction"] == "l2");
    CHECK_THROWS_WITH(
        io::options_from_json<VaeLossOptions>(io::parse_json_config(R"({"reconstruction": "l3"})", "t"), "loss"),
        Catch::Contains("loss.reconstruction") && Catch::Contains("'l1' or 'l2'"));
    CHECK_THROWS_WITH((VaeLossOptions{.kl_weight = -1}.validate()), Catch::Contains("kl_weight >= 0"));
}

TEST_CASE("Vae parameters are named as in PyTorch, with a skip conv only where channels change", "[models][vae]") {
    Generator gen(1);
    const Vae vae(tiny_options(), gen);
    std::map<std::string, Shape> shapes;
    for (const auto& [name, p] : nn::named_parameters(vae)) shapes[name] = p.shape();
    CHECK(shapes.at("encoder.conv_in.weight") == Shape{4, 3, 3, 3});
    CHECK(shapes.at("encoder.down.0.blocks.0.conv1.weight") == Shape{4, 4, 3, 3});
    CHECK(shapes.count("encoder.down.0.blocks.0.skip.weight") == 0);
    CHECK(shapes.at("encoder.down.1.blocks.0.skip.weight") == Shape{8, 4, 1, 1});
    CHECK(shapes.at("encoder.down.1.downsample.conv.weight") == Shape{8, 8, 3, 3});
    CHECK(shapes.at("encoder.mid.block_2.norm2.bias") == Shape{8});
    CHECK(shapes.at("encoder.conv_out.weight") == Shape{4, 8, 3, 3});  // 2 · latent channels
    CHECK(shapes.at("decoder.conv_in.weight") == Shape{8, 2, 3, 3});
    CHECK(shapes.at("decoder.up.1.upsample.conv.weight") == Shape{8, 8, 3, 3});
    CHECK(shapes.at("decoder.up.0.blocks.0.skip.weight") == Shape{4, 8, 1, 1});
    CHECK(shapes.at("decoder.norm_out.weight") == Shape{4});
    CHECK(shapes.at("decoder.conv_out.weight") == Shape{3, 4, 3, 3});
    // Parameters start as PyTorch's: norms at weight 1 and bias 0, convs U(±1/√fan_in).
    CHECK(parameter(vae, "encoder.norm_out.weight").to_vector() == std::vector<double>(8, 1.0));
    CHECK(parameter(vae, "decoder.up.0.blocks.0.norm2.bias").to_vector() == std::vector<double>(4, 0.0));
    double largest = 0;
    for (const double w : parameter(vae, "encoder.conv_in.weight").to_vector()) largest = std::max(largest, std::abs(w));
    CHECK(largest <= 1.0 / std::sqrt(27.0));
    CHECK(largest > 0.5 / std::sqrt(27.0));
}

TEST_CASE("Vae matches its PyTorch twin in float64 (1e-10) and float32 (1e-4 relative)", "[models][vae]") {
    for (const std::string name : {"video_x4", "frames_x8"}) {
        INFO("golden case " << name);
        const io::SafetensorsFile file = golden(name);
        NoGradGuard no_grad;
        {
            const Vae vae = golden_vae(file, DType::Float64);
            // Every golden parameter is one of the VAE's (load_parameters is strict) and none is missing.
            std::int64_t golden_params = 0;
            for (const auto& [n, t] : file.tensors)
                if (n.rfind("vae.", 0) == 0) golden_params += t.numel();
            CHECK(golden_params == vae.params());
            const DiagonalGaussian q = vae.encode(file.at("input"));
            CHECK(max_relative_error(q.mean, file.at("mean"), 1e-3) <= 1e-10);
            CHECK(max_relative_error(q.logvar, file.at("logvar"), 1e-3) <= 1e-10);
            CHECK(max_relative_error(vae.decode(file.at("latent")), file.at("decoded"), 1e-3) <= 1e-10);
            CHECK(vae.latent_shape(file.at("input").shape()) == file.at("mean").shape());
        }
        {
            const Vae vae = golden_vae(file, DType::Float32);
            const DiagonalGaussian q = vae.encode(to(file.at("input"), DType::Float32));
            CHECK(q.mean.dtype() == DType::Float32);
            CHECK(error_relative_to_largest(q.mean, file.at("mean_f32")) <= 1e-4);
            CHECK(error_relative_to_largest(q.logvar, file.at("logvar_f32")) <= 1e-4);
            CHECK(error_relative_to_largest(vae.decode(to(file.at("latent"), DType::Float32)),
                                            file.at("decoded_f32")) <= 1e-4);
        }
    }
    // The video case pushes two logvar channels past [−30, 20]: the clamp is exercised above.
    const Tensor logvar = golden("video_x4").at("logvar");
    CHECK(select(select(logvar, 2, 0), 0, 0).to_vector()[0] == -30.0);
    CHECK(select(select(logvar, 2, 1), 0, 0).to_vector()[0] == 20.0);
}

TEST_CASE("vae_loss terms match PyTorch for L1 and L2 (1e-10)", "[models][vae][loss]") {
    const io::SafetensorsFile file = golden("video_x4");
    const Vae vae = golden_vae(file, DType::Float64);
    NoGradGuard no_grad;
    const Tensor x = file.at("input");
    const DiagonalGaussian q = vae.encode(x);
    const Tensor z = add(q.mean, mul(q.stddev(), file.at("noise")));
    const Tensor reconstruction = vae.decode(z);
    CHECK(max_relative_error(reconstruction, file.at("reconstruction"), 1e-3) <= 1e-10);
    VaeLossOptions options;
    options.kl_weight = std::stod(file.metadata.at("kl_weight"));
    options.temporal_weight = std::stod(file.metadata.at("temporal_weight"));
    for (const ReconstructionLoss kind : {ReconstructionLoss::l1, ReconstructionLoss::l2}) {
        const std::string prefix = "loss." + std::string(models::reconstruction_loss_name(kind)) + ".";
        INFO(prefix);
        options.reconstruction = kind;
        const models::VaeLoss loss = models::vae_loss(x, reconstruction, q, options);
        CHECK(relative(scalar(loss.reconstruction), scalar(file.at(prefix + "reconstruction"))) <= 1e-10);
        CHECK(relative(scalar(loss.kl), scalar(file.at(prefix + "kl"))) <= 1e-10);
        CHECK(relative(scalar(loss.temporal), scalar(file.at(prefix + "temporal"))) <= 1e-10);
        CHECK(relative(scalar(loss.total), scalar(file.at(prefix + "total"))) <= 1e-10);
    }
}

TEST_CASE("vae_loss in closed form: KL of a diagonal Gaussian, constant errors cost no temporal term",
          "[models][vae][loss]") {
    // KL(N(μ, σ²) ‖ N(0, 1)) = (μ² + σ² − 1 − log σ²) / 2.
    const DiagonalGaussian q{Tensor::from_vector(std::vector<double>{0, 1, 0, -2}, Shape{4}),
                             Tensor::from_vector(std::vector<double>{0, 0, std::log(4.0), -1}, Shape{4})};
    const auto kl = q.kl_to_standard_normal().to_vector();
    CHECK(kl[0] == 0.0);
    CHECK(kl[1] == 0.5);
    CHECK(kl[2] == Approx(0.5 * (4 - 1 - std::log(4.0))).epsilon(1e-15));
    CHECK(kl[3] == Approx(0.5 * (4 + std::exp(-1.0) - 1 + 1)).epsilon(1e-15));

    // A video whose reconstruction is off by one constant: no flicker.
    const Tensor x = random(Shape{1, 3, 2, 2, 2}, 5);
    const DiagonalGaussian posterior{Tensor::zeros(Shape{1, 3, 1, 1, 1}, DType::Float64),
                                     Tensor::zeros(Shape{1, 3, 1, 1, 1}, DType::Float64)};
    VaeLossOptions o{.reconstruction = ReconstructionLoss::l1, .kl_weight = 0.5, .temporal_weight = 2.0};
    auto steady = models::vae_loss(x, add(x, 0.25), posterior, o);
    CHECK(scalar(steady.reconstruction) == Approx(0.25).epsilon(1e-14));
    CHECK(scalar(steady.kl) == 0.0);
    CHECK(scalar(steady.temporal) == Approx(0.0).margin(1e-15));
    // Errors +e, −e, +e over the frames: every consecutive difference is 2e in size.
    Tensor flicker_error = Tensor::zeros(x.shape(), DType::Float64);
    auto* fe = flicker_error.data<double>();
    for (std::int64_t i = 0; i < flicker_error.numel(); ++i) fe[i] = (i / 8) % 2 == 0 ? 0.1 : -0.1;
    o.reconstruction = ReconstructionLoss::l2;
    const models::VaeLoss flicker = models::vae_loss(x, add(x, flicker_error), posterior, o);
    CHECK(scalar(flicker.reconstruction) == Approx(0.01).epsilon(1e-12));
    CHECK(scalar(flicker.temporal) == Approx(0.04).epsilon(1e-12));
    CHECK(scalar(flicker.total) == Approx(0.01 + 2.0 * 0.04).epsilon(1e-12));
    // Frames without a time axis have no temporal term; asking for one is an error.
    o.temporal_weight = 0;
    const Tensor frames = random(Shape{2, 3, 2, 2}, 6);
    const DiagonalGaussian frame_posterior{Tensor::zeros(Shape{2, 1, 1, 1}, DType::Float64),
                                           Tensor::zeros(Shape{2, 1, 1, 1}, DType::Float64)};
    CHECK(scalar(models::vae_loss(frames, frames, frame_posterior, o).temporal) == 0.0);
    o.temporal_weight = 1;
    CHECK_THROWS_WITH(models::vae_loss(frames, frames, frame_posterior, o),
                      Catch::Contains("vae_loss") && Catch::Contains("T >= 2"));
    CHECK_THROWS_WITH(models::vae_loss(x, slice(x, 1, 0, 2), posterior, o),
                      Catch::Contains("expected a reconstruction like the input"));
    Tensor nan_x = clone(x);
    nan_x.data<double>()[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(models::vae_loss(x, nan_x, posterior, o), Catch::Contains("expected a finite loss"));
}

TEST_CASE("vae_loss gradients with respect to the VAE's parameters agree with finite differences",
          "[models][vae][loss][gradcheck]") {
    Generator init(3);
    Vae vae(tiny_options(), init, DType::Float64);
    test::randomize_parameters(vae, 4);
    const Tensor x = random(Shape{1, 2, 3, 4, 4}, 7, 0.0, 1.0);
    const std::vector<std::string> names = {"encoder.conv_in.bias",
                                            "encoder.down.1.blocks.0.norm1.weight",
                                            "encoder.conv_out.bias",
                                            "decoder.up.0.blocks.0.skip.bias",
                                            "decoder.up.1.upsample.conv.bias",
                                            "decoder.conv_out.bias"};
    for (const ReconstructionLoss kind : {ReconstructionLoss::l1, ReconstructionLoss::l2}) {
        INFO("reconstruction " << models::reconstruction_loss_name(kind));
        const VaeLossOptions o{.reconstruction = kind, .kl_weight = 0.3, .temporal_weight = 0.7};
        std::vector<Tensor> inputs;
        for (const auto& n : names) inputs.push_back(parameter(vae, n));
        const std::vector<Tensor> saved = inputs;
        auto assign = [&](const std::vector<Tensor>& values) {
            vae.visit_parameters(
                [&](const std::string& n, Tensor& p) {
                    for (std::size_t k = 0; k < names.size(); ++k)
                        if (n == names[k]) p = values[k];
                },
                "");
        };
        VGT_REQUIRE_GRADCHECK(
            [&](const std::vector<Tensor>& xs) {
                assign(xs);
                Generator noise(99);  // the same ε on every evaluation
                return models::vae_loss(x, vae.forward(x, noise), o).total;
            },
            inputs);
        assign(saved);
    }
}

TEST_CASE("clamp passes values and gradients inside [low, high] and pins the rest", "[models][vae]") {
    const Tensor x = Tensor::from_vector(std::vector<double>{-40, -30, -1.5, 0, 19.5, 20, 33}, Shape{7});
    CHECK(vgt::clamp(x, -30, 20).to_vector() == std::vector<double>{-30, -30, -1.5, 0, 19.5, 20, 20});
    CHECK(std::isnan(vgt::clamp(Tensor::scalar(std::nan(""), DType::Float64), -1, 1).item()));
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& xs) { return vgt::clamp(xs[0], -0.5, 0.25); },
                          {Tensor::from_vector(std::vector<double>{-0.9, -0.3, 0.1, 0.2, 0.7}, Shape{5})});
    Tensor leaf = clone(x).set_requires_grad();
    backward(sum(vgt::clamp(leaf, -30, 20)));
    CHECK(leaf.grad().to_vector() == std::vector<double>{0, 1, 1, 1, 1, 1, 0});
    CHECK_THROWS_WITH(vgt::clamp(x, 1, 0), Catch::Contains("low <= high"));
}

TEST_CASE("Vae works frame by frame: shapes ×4 and ×8, videos equal their frames encoded alone", "[models][vae]") {
    Generator gen(5);
    Vae vae(tiny_options(), gen, DType::Float64);
    test::randomize_parameters(vae, 6);
    NoGradGuard no_grad;
    const Tensor video = random(Shape{2, 3, 3, 8, 12}, 8, 0.0, 1.0);
    const DiagonalGaussian q = vae.encode(video);
    CHECK(q.mean.shape() == Shape{2, 3, 2, 2, 3});
    CHECK(vae.decode(q.mean).shape() == video.shape());
    for (std::int64_t b = 0; b < 2; ++b)
        for (std::int64_t t = 0; t < 3; ++t) {
            INFO("clip " << b << " frame " << t);
            const Tensor frame = unsqueeze(select(select(video, 0, b), 0, t), 0);  // [1, C, H, W]
            const DiagonalGaussian alone = vae.encode(frame);
            CHECK(largest_difference(select(select(q.mean, 0, b), 0, t), select(alone.mean, 0, 0)) <= 1e-13);
            CHECK(largest_difference(select(select(q.logvar, 0, b), 0, t), select(alone.logvar, 0, 0)) <= 1e-13);
        }
    // Changing one frame changes that frame's latent only.
    Tensor changed = clone(video);
    changed.data<double>()[3 * 8 * 12 + 5] += 0.5;  // clip 0, frame 1
    const Tensor moved = vae.encode(changed).mean;
    CHECK(largest_difference(select(moved, 1, 0), select(q.mean, 1, 0)) == 0.0);
    CHECK(largest_difference(select(moved, 1, 1), select(q.mean, 1, 1)) > 1e-6);
    CHECK(largest_difference(select(moved, 1, 2), select(q.mean, 1, 2)) == 0.0);

    VaeOptions x8 = tiny_options();
    x8.channel_multipliers = {1, 1, 2};
    Generator gen8(9);
    const Vae vae8(x8, gen8);
    CHECK(vae8.downsampling_factor() == 8);
    const Tensor frames = rand(Shape{2, 3, 16, 24}, gen8);
    const Tensor z = vae8.encode(frames).mean;
    CHECK(z.shape() == Shape{2, 2, 2, 3});
    CHECK(vae8.decode(z).shape() == frames.shape());
}

TEST_CASE("Vae samples by reparameterisation from a Philox generator", "[models][vae]") {
    Generator gen(10);
    Vae vae(tiny_options(), gen, DType::Float64);
    test::randomize_parameters(vae, 11);
    const Tensor x = random(Shape{1, 2, 3, 4, 4}, 12, 0.0, 1.0);
    NoGradGuard no_grad;
    Generator a(42), b(42), c(43), noise_gen(42);
    const models::VaeOutput out = vae.forward(x, a);
    const Tensor expected = add(out.posterior.mean, mul(exp(mul(out.posterior.logvar, 0.5)),
                                                        randn(out.posterior.mean.shape(), noise_gen, DType::Float64)));
    CHECK(largest_difference(out.latent, expected) == 0.0);
    CHECK(largest_difference(out.reconstruction, vae.decode(out.latent)) == 0.0);
    CHECK(largest_difference(vae.forward(x, b).latent, out.latent) == 0.0);
    CHECK(largest_difference(vae.forward(x, c).latent, out.latent) > 1e-3);
    CHECK(a.offset() == static_cast<std::uint64_t>(out.latent.numel()));  // one normal per latent element
}

TEST_CASE("The latent scale gives unit-variance latents and is undone by decode_scaled", "[models][vae]") {
    Generator gen(13);
    Vae vae(tiny_options(), gen, DType::Float64);
    test::randomize_parameters(vae, 14);
    NoGradGuard no_grad;
    const Tensor x = random(Shape{2, 3, 3, 8, 8}, 15, 0.0, 1.0);
    Generator g1(7), g2(7), g3(7);
    const double scale = models::estimate_latent_scale(vae, x, g1);
    const auto z = vae.encode(x).sample(g3).to_vector();
    double mean = 0, squares = 0;
    for (double v : z) mean += v;
    mean /= static_cast<double>(z.size());
    for (double v : z) squares += (v - mean) * (v - mean);
    CHECK(scale == Approx(1.0 / std::sqrt(squares / static_cast<double>(z.size() - 1))).epsilon(1e-14));

    vae.set_latent_scale(scale);
    CHECK(vae.options().latent_scale == scale);
    const Tensor scaled = vae.encode_scaled(x, g2);
    const auto s = scaled.to_vector();
    double smean = 0, ssquares = 0;
    for (double v : s) smean += v;
    smean /= static_cast<double>(s.size());
    for (double v : s) ssquares += (v - smean) * (v - smean);
    CHECK(std::sqrt(ssquares / static_cast<double>(s.size() - 1)) == Approx(1.0).epsilon(1e-12));
    CHECK(max_relative_error(vae.decode_scaled(scaled), vae.decode(Tensor::from_vector(z, scaled.shape()))) <= 1e-12);
    CHECK(max_relative_error(vae.encode_scaled(x), mul(vae.encode(x).mean, scale)) == 0.0);
    CHECK_THROWS_WITH(vae.set_latent_scale(0), Catch::Contains("positive finite scale"));
    CHECK_THROWS_WITH(models::estimate_latent_scale(vae, slice(x, 0, 0, 0), g1), Catch::Contains("at least one frame"));
}

TEST_CASE("A VAE checkpoint: parameters in safetensors, options with the latent scale in its metadata",
          "[models][vae]") {
    test::TempDir dir;
    Generator gen(16);
    VaeOptions o = tiny_options();
    Vae vae(o, gen);
    vae.set_latent_scale(0.375);
    io::write_safetensors(dir.file("vae.safetensors"), nn::named_parameters(vae),
                          {{"vae_options", io::options_to_json(vae.options()).dump()}});

    const io::SafetensorsFile file = io::read_safetensors(dir.file("vae.safetensors"));
    const VaeOptions loaded_options =
        io::options_from_json<VaeOptions>(io::parse_json_config(file.metadata.at("vae_options"), "metadata"));
    CHECK(loaded_options.latent_scale == 0.375);
    Generator other(17);
    Vae loaded(loaded_options, other);
    nn::load_parameters(loaded, file.tensors);
    NoGradGuard no_grad;
    const Tensor x = rand(Shape{1, 2, 3, 8, 8}, gen);
    CHECK(largest_difference(loaded.encode_scaled(x), vae.encode_scaled(x)) == 0.0);
}

TEST_CASE("Vae rejects bad input with errors that say what was expected", "[models][vae]") {
    Generator gen(18);
    const Vae vae(tiny_options(), gen);
    NoGradGuard no_grad;
    CHECK_THROWS_WITH(vae.encode(Tensor::zeros(Shape{1, 2, 4, 8, 8})), Catch::Contains("Vae::encode") &&
                                                                           Catch::Contains("3 channels") &&
                                                                           Catch::Contains("[1, 2, 4, 8, 8]"));
    CHECK_THROWS_WITH(vae.encode(Tensor::zeros(Shape{1, 3, 8, 10})),
                      Catch::Contains("multiples of 4") && Catch::Contains("[1, 3, 8, 10]"));
    CHECK_THROWS_WITH(vae.encode(Tensor::zeros(Shape{3, 8, 8})), Catch::Contains("[N, 3, H, W]"));
    CHECK_THROWS_WITH(vae.encode(Tensor::zeros(Shape{1, 3, 8, 8}, DType::Float64)),
                      Catch::Contains("expected float32 frames"));
    CHECK_THROWS_WITH(vae.encode(Tensor{}), Catch::Contains("undefined"));
    Tensor nan_frames = Tensor::zeros(Shape{1, 1, 3, 4, 4});
    nan_frames.data<float>()[17] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(vae.encode(nan_frames),
                      Catch::Contains("expected finite frames") && Catch::Contains("element 17"));
    nan_frames.data<float>()[17] = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH(vae.encode(nan_frames), Catch::Contains("expected finite frames"));
    CHECK_THROWS_WITH(vae.decode(Tensor::zeros(Shape{1, 3, 2, 2})),
                      Catch::Contains("Vae::decode") && Catch::Contains("latents with 2 channels"));
    CHECK_THROWS_WITH(vae.decode(Tensor::zeros(Shape{1, 2, 0, 2})), Catch::Contains("positive height and width"));
    CHECK_THROWS_WITH(vae.latent_shape(Shape{1, 3, 6, 8}), Catch::Contains("multiples of 4"));
    CHECK_THROWS_WITH(Vae(VaeOptions{.base_channels = 0}, gen), Catch::Contains("base_channels in [1, 4096]"));
}

TEST_CASE("A tiny VAE trained with AdamW on a fixed MovingShapes batch halves its loss in 30 steps",
          "[models][vae][training]") {
    data::MovingShapesOptions shapes;
    shapes.frames = 4;
    shapes.height = shapes.width = 16;
    shapes.min_size = 5;
    shapes.max_size = 8;
    const data::MovingShapes dataset(shapes);
    std::vector<Tensor> clips;
    for (std::int64_t i = 0; i < 2; ++i) clips.push_back(dataset.get(i).video);
    const Tensor video = stack(clips, 0);  // [2, 4, 3, 16, 16]

    VaeOptions o;
    o.base_channels = 8;
    o.channel_multipliers = {1, 2};
    o.norm_groups = 4;
    Generator init(19);
    Vae vae(o, init);
    optim::AdamW optimizer(vae, {.lr = 1e-2, .weight_decay = 0});
    const VaeLossOptions loss_options{
        .reconstruction = ReconstructionLoss::l2, .kl_weight = 1e-4, .temporal_weight = 0.1};
    Generator noise(20);
    double first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
        nn::zero_grad(vae);
        const models::VaeLoss loss = models::vae_loss(video, vae.forward(video, noise), loss_options);
        backward(loss.total);
        optimizer.step(vae);
        (step == 0 ? first : last) = scalar(loss.total);
    }
    INFO("loss " << first << " -> " << last);
    CHECK(last < 0.5 * first);
}

}  // namespace vgt::test::vae_test
