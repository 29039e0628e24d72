// The video UNet: against its PyTorch twin (golden cases from
// tests/golden/make_video_unet.py) in float64 and float32 with temporal
// layers on and off; identity of the temporal blocks at initialisation;
// temporal-off as the image model run frame by frame; causality; parameter
// counts and FLOPs in closed form; gradients; parameter names; options in
// JSON; the preset catalog; and the errors.

#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "temporal/block_harness.hpp"

#include <vgt/io/json_config.hpp>
#include <vgt/io/safetensors.hpp>
#include <vgt/models/unet_presets.hpp>
#include <vgt/models/video_unet.hpp>

namespace vgt::test::video_unet_test {

using models::Conv3DUNet;
using models::Gen1UNet;
using models::ImageUNet;
using models::MagicVideoUNet;
using models::UNetForwardOptions;
using models::VDMFlowUNet;
using models::VDMUNet;
using models::VideoUNetOptions;
using test::max_abs_difference;
using test::max_relative_error;
using test::random;

namespace {

const UNetForwardOptions kFramewise{.temporal = false};

/// Base 4, levels of 4 and 8 channels, one residual block, attention at level 1.
VideoUNetOptions tiny_options(std::int64_t context_dim = 0) {
    VideoUNetOptions o;
    o.in_channels = 3;
    o.out_channels = 2;
    o.base_channels = 4;
    o.channel_mult = {1, 2};
    o.res_blocks = 1;
    o.attention_levels = {1};
    o.heads = 2;
    o.context_dim = context_dim;
    o.time_embed_dim = 8;
    o.temporal_heads = 2;
    o.max_frames = 6;
    return o;
}

template <class UNet>
UNet make_unet(const VideoUNetOptions& o, std::uint64_t seed, DType dtype = DType::Float64) {
    Generator gen(seed);
    return UNet(o, gen, dtype);
}

/// Inputs of one forward pass.
struct Inputs {
    Tensor x, time_embedding, context, context_mask;
};

Inputs inputs_for(const VideoUNetOptions& o, std::int64_t batch, std::int64_t frames, std::int64_t size,
                  std::uint64_t seed) {
    Inputs in;
    in.x = random({batch, frames, o.in_channels, size, size}, seed);
    in.time_embedding = random({batch, o.time_embed_dim}, seed + 1);
    if (o.context_dim > 0) {
        in.context = random({batch, 3, o.context_dim}, seed + 2);
        std::vector<std::int64_t> mask(static_cast<std::size_t>(batch * 3), 1);
        mask.back() = 0;  // the last sample's last token is padding
        in.context_mask = Tensor::from_vector(mask, Shape{batch, 3});
    }
    return in;
}

template <class UNet>
Tensor run(const UNet& unet, const Inputs& in, const UNetForwardOptions& options = {}) {
    NoGradGuard no_grad;
    return unet.forward(in.x, in.time_embedding, in.context, in.context_mask, options);
}

std::map<std::string, Tensor> parameter_map(const auto& block) {
    std::map<std::string, Tensor> out;
    for (const auto& [name, p] : nn::named_parameters(block)) out.emplace(name, p);
    return out;
}

/// The image model's name of a video model's parameter: Conv2Plus1D calls
/// its 3×3 conv "spatial" where FrameConv says "conv".
std::string image_name(std::string name) {
    for (auto at = name.find(".spatial."); at != std::string::npos; at = name.find(".spatial."))
        name.replace(at, 9, ".conv.");
    return name;
}

/// Copies every parameter of `image` into `video` (see image_name); a Conv3D
/// weight [o, i, kt, 3, 3] gets the image's [o, i, 3, 3] in the tap that
/// reads the output's own frame and keeps its other taps. Returns the video
/// parameters that have no image twin.
template <class Video>
std::vector<std::string> copy_image_weights(Video& video, const ImageUNet& image) {
    const auto source = parameter_map(image);
    std::set<std::string> used;
    std::vector<std::string> video_only;
    const std::int64_t kt = video.options().temporal_kernel;
    const std::int64_t tap = video.options().causal ? kt - 1 : kt / 2;
    video.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            const auto it = source.find(image_name(name));
            if (it == source.end()) {
                video_only.push_back(name);
                return;
            }
            used.insert(it->first);
            const std::vector<double> from = it->second.to_vector<double>();
            double* to = p.data<double>();
            if (p.shape() == it->second.shape()) {
                std::memcpy(to, from.data(), p.nbytes());
                return;
            }
            REQUIRE(p.rank() == 5);  // Conv3D
            const std::int64_t pairs = p.size(0) * p.size(1);
            REQUIRE(Shape{p.size(0), p.size(1), p.size(3), p.size(4)} == it->second.shape());
            for (std::int64_t k = 0; k < pairs; ++k)
                std::memcpy(to + (k * kt + tap) * 9, from.data() + k * 9, 9 * sizeof(double));
        },
        "");
    CHECK(used.size() == source.size());  // every image weight found its place
    return video_only;
}

/// Frame t of every sample run alone as a 1-frame video, frames joined again.
template <class UNet>
Tensor frame_by_frame(const UNet& unet, const Inputs& in) {
    std::vector<Tensor> frames;
    for (std::int64_t t = 0; t < in.x.size(1); ++t) {
        Inputs one = in;
        one.x = contiguous(test::frames(in.x, t, t + 1));
        frames.push_back(run(unet, one, kFramewise));
    }
    return concat(frames, 1);
}

std::int64_t conv_params(std::int64_t in, std::int64_t out, std::int64_t k) { return out * in * k * k + out; }
double conv_flops(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t positions) {
    return 2.0 * static_cast<double>(in * out * k * k * positions);
}

}  // namespace

TEST_CASE("VideoUNet matches its PyTorch twin", "[models][unet]") {
    for (const std::string name : {"gen1", "vdm", "magicvideo", "vdm_flow"}) {
        INFO("golden case " << name);
        const io::SafetensorsFile file =
            io::read_safetensors(std::string(VGT_GOLDEN_DIR) + "/video_unet/" + name + ".safetensors");
        const auto options =
            io::options_from_json<VideoUNetOptions>(io::parse_json_config(file.metadata.at("options"), name), name);
        const auto optional = [&](const char* key) { return file.contains(key) ? file.at(key) : Tensor{}; };
        models::visit_unet(file.metadata.at("preset"), [&]<class UNet>() {
            for (const DType dtype : {DType::Float64, DType::Float32}) {
                INFO(dtype_name(dtype));
                UNet unet = make_unet<UNet>(options, 0, dtype);
                nn::load_parameters(unet, file.tensors, "unet");  // strict: the names agree both ways
                std::int64_t golden_params = 0;
                for (const auto& [n, t] : file.tensors)
                    if (n.rfind("unet.", 0) == 0) golden_params += t.numel();
                CHECK(unet.params() == golden_params);
                const auto cast = [&](const Tensor& t) { return t.defined() ? to(t, dtype) : t; };
                const Inputs in{cast(file.at("input")), cast(file.at("time_embedding")), cast(optional("context")),
                                optional("context_mask")};
                const double tolerance = dtype == DType::Float64 ? 1e-9 : 1e-4;
                CHECK(max_relative_error(run(unet, in), file.at("output")) <= tolerance);
                CHECK(max_relative_error(run(unet, in, kFramewise), file.at("output_frames")) <= tolerance);
            }
        });
    }
}

TEST_CASE("VideoUNet parameter names follow PyTorch", "[models][unet]") {
    const auto unet = make_unet<Gen1UNet>(tiny_options(5), 1);
    const auto params = parameter_map(unet);
    CHECK(params.size() == nn::named_parameters(unet).size());  // no name twice
    for (const char* name :
         {"conv_in.weight", "down.0.res.0.norm1.weight", "down.0.res.0.conv1.spatial.weight",
          "down.0.res.0.conv1.temporal.weight", "down.0.res.0.time_proj.weight", "down.0.res.0.conv2.spatial.bias",
          "down.0.temporal.0.qkv.weight", "down.0.downsample.conv.weight", "down.1.res.0.skip.weight",
          "down.1.attn.0.to_q.weight", "down.1.cross.0.to_k.weight", "down.1.cross.0.to_out.bias",
          "mid.res.0.conv1.spatial.weight", "mid.temporal.0.proj.weight", "mid.attn.to_q.weight",
          "mid.cross.to_v.weight",
          "mid.res.1.norm2.bias", "mid.temporal.1.norm.weight", "up.1.res.0.skip.weight", "up.1.res.1.time_proj.bias",
          "up.1.attn.1.to_out.weight", "up.1.upsample.conv.weight", "up.0.res.1.conv2.temporal.bias",
          "out.norm.weight", "out.conv.weight"}) {
        INFO(name);
        CHECK(params.count(name) == 1);
    }
    for (const char* absent : {"down.1.downsample.conv.weight", "up.0.upsample.conv.weight",
                               "down.0.attn.0.to_q.weight", "down.0.res.0.skip.weight", "mid.attn.to_q.bias",
                               "mid.res.2.norm1.weight"}) {
        INFO(absent);
        CHECK(params.count(absent) == 0);
    }
    CHECK(params.at("down.0.res.0.conv1.spatial.weight").shape() == Shape{4, 4, 3, 3});
    CHECK(params.at("up.1.res.0.conv1.spatial.weight").shape() == Shape{8, 16, 3, 3});  // 8 + the 8 of down.1
    CHECK(params.at("up.0.res.0.conv1.spatial.weight").shape() == Shape{4, 12, 3, 3});  // 8 + the downsample's 4
    CHECK(params.at("down.1.cross.0.to_k.weight").shape() == Shape{8, 5});
}

TEMPLATE_TEST_CASE("Temporal blocks start as identity: at init the model is the image model", "[models][unet]",
                   MagicVideoUNet, Gen1UNet, VDMUNet, VDMFlowUNet) {
    const VideoUNetOptions o = tiny_options(5);
    auto image = make_unet<ImageUNet>(o, 2);
    // An untrained model outputs zero (its last conv starts at zero).
    const Inputs in = inputs_for(o, 2, 3, 4, 3);
    CHECK(max_abs_difference(run(image, in), Tensor::zeros(Shape{2, 3, 2, 4, 4}, DType::Float64)) == 0.0);

    test::randomize_parameters(image, 4);
    auto video = make_unet<TestType>(o, 5);
    for (const std::string& name : copy_image_weights(video, image)) {
        INFO(name);
        CHECK((name.find("temporal") != std::string::npos || name.find("adapter") != std::string::npos));
    }
    const Tensor y = run(image, in);
    CHECK(max_abs_difference(run(video, in), y) <= 1e-12);
    // The check could fail: trained temporal layers make a difference.
    test::randomize_parameters(video, 6);
    copy_image_weights(video, image);
    CHECK(max_abs_difference(run(video, in), y) > 1e-6);
}

TEMPLATE_TEST_CASE("Temporal layers off: the image model, run frame by frame", "[models][unet]", MagicVideoUNet,
                   Gen1UNet, VDMUNet, Conv3DUNet, ImageUNet, VDMFlowUNet) {
    for (const bool causal : {false, true}) {
        INFO("causal " << causal);
        VideoUNetOptions o = tiny_options(5);
        o.causal = causal;
        auto video = make_unet<TestType>(o, 7);
        test::randomize_parameters(video, 8);
        const Inputs in = inputs_for(o, 2, 4, 4, 9);
        const Tensor framewise = run(video, in, kFramewise);
        CHECK(framewise.shape() == Shape{2, 4, 2, 4, 4});
        CHECK(max_abs_difference(framewise, frame_by_frame(video, in)) <= 1e-12);

        auto image = make_unet<ImageUNet>(o, 10);
        test::randomize_parameters(image, 11);
        copy_image_weights(video, image);
        CHECK(max_abs_difference(run(video, in, kFramewise), run(image, in)) <= 1e-12);
        if constexpr (!std::is_same_v<TestType, ImageUNet>)
            CHECK(max_abs_difference(run(video, in), run(image, in)) > 1e-6);
    }
}

TEST_CASE("VideoUNet causality: frame t does not read later frames iff every block is causal", "[models][unet]") {
    VideoUNetOptions o = tiny_options(5);
    CHECK(make_unet<MagicVideoUNet>(o, 1).is_causal());
    CHECK(make_unet<ImageUNet>(o, 1).is_causal());
    CHECK_FALSE(make_unet<Gen1UNet>(o, 1).is_causal());
    CHECK_FALSE(make_unet<VDMUNet>(o, 1).is_causal());
    CHECK_FALSE(make_unet<Conv3DUNet>(o, 1).is_causal());
    o.mask_mode = temporal::MaskMode::PostSoftmax;  // future keys still reach the softmax's denominator
    CHECK_FALSE(make_unet<MagicVideoUNet>(o, 1).is_causal());
    o.mask_mode = temporal::MaskMode::PreSoftmax;
    o.causal = true;
    CHECK(make_unet<Conv3DUNet>(o, 1).is_causal());

    const auto frames_after_change = [&](const auto& unet, std::int64_t t) {
        const Inputs in = inputs_for(o, 1, 4, 4, 20);
        Inputs changed = in;
        changed.x = concat({test::frames(in.x, 0, t + 1), random(test::frames(in.x, t + 1, 4).shape(), 21)}, 1);
        return std::pair{run(unet, in), run(unet, changed)};
    };
    const auto check_causal = [&](auto unet) {
        test::randomize_parameters(unet, 22);
        for (std::int64_t t = 0; t < 3; ++t) {
            INFO("frames after " << t << " changed");
            const auto [y, y_changed] = frames_after_change(unet, t);
            CHECK(max_abs_difference(test::frames(y_changed, 0, t + 1), test::frames(y, 0, t + 1)) <= 1e-12);
            CHECK(max_abs_difference(test::frames(y_changed, t + 1, 4), test::frames(y, t + 1, 4)) > 1e-9);
        }
    };
    check_causal(make_unet<MagicVideoUNet>(o, 23));
    check_causal(make_unet<Conv3DUNet>(o, 24));
    // A non-causal model's first frame moves when only later frames change.
    auto gen1 = make_unet<Gen1UNet>(o, 25);
    test::randomize_parameters(gen1, 26);
    const auto [y, y_changed] = frames_after_change(gen1, 0);
    CHECK(max_abs_difference(test::frames(y_changed, 0, 1), test::frames(y, 0, 1)) > 1e-9);
}

TEST_CASE("VideoUNet params and flops in closed form", "[models][unet]") {
    // ImageUNet of tiny_options(): conv_in 3→4; down.0 res 4→4, downsample;
    // down.1 res 4→8 + attn; mid res, attn, res at 8; up.1 res 16→8 + attn,
    // res 12→8 + attn, upsample; up.0 res 12→4, res 8→4; out 4→2.
    const VideoUNetOptions o = tiny_options();
    const auto image = make_unet<ImageUNet>(o, 1);
    const std::int64_t d = o.time_embed_dim;
    const auto res = [&](std::int64_t in, std::int64_t out) {
        // time_proj maps D to a scale and a shift per channel: 2·Cout outputs.
        return 2 * in + conv_params(in, out, 3) + 2 * (d * out + out) + 2 * out + conv_params(out, out, 3) +
               (in != out ? conv_params(in, out, 1) : 0);
    };
    const auto attn = [](std::int64_t c) { return 2 * c + 4 * c * c + c; };
    const std::int64_t expected_params = conv_params(3, 4, 3) + res(4, 4) + conv_params(4, 4, 3) + res(4, 8) + attn(8) +
                                         2 * res(8, 8) + attn(8) + res(16, 8) + attn(8) + res(12, 8) + attn(8) +
                                         conv_params(8, 8, 3) + res(12, 4) + res(8, 4) + 2 * 4 + conv_params(4, 2, 3);
    CHECK(image.params() == expected_params);

    // [B=2, T=3, 3, 8, 8]: 384 positions at level 0, 96 at level 1.
    const std::int64_t frames = 6, p0 = frames * 64, p1 = frames * 16;
    const auto res_flops = [&](std::int64_t in, std::int64_t out, std::int64_t positions) {
        return conv_flops(in, out, 3, positions) + conv_flops(out, out, 3, positions) + 2.0 * 2 * d * (2 * out) +
               (in != out ? conv_flops(in, out, 1, positions) : 0.0);
    };
    // Four C×C projections per token, and q·kᵀ and w·v over the 16 tokens of a frame.
    const double attn_flops = 2.0 * p1 * 8 * 8 * 4 + 4.0 * p1 * 16 * 8;
    const double expected_flops = conv_flops(3, 4, 3, p0) + res_flops(4, 4, p0) + conv_flops(4, 4, 3, p1) +
                                  res_flops(4, 8, p1) + attn_flops + 2 * res_flops(8, 8, p1) + attn_flops +
                                  res_flops(16, 8, p1) + attn_flops + res_flops(12, 8, p1) + attn_flops +
                                  conv_flops(8, 8, 3, p0) + res_flops(12, 4, p0) + res_flops(8, 4, p0) +
                                  conv_flops(4, 2, 3, p0);
    const Shape video{2, 3, 3, 8, 8};
    CHECK(image.flops(video) == Approx(expected_flops).epsilon(1e-12));

    // Gen-1 adds a kt = 3 temporal conv to each of the 16 stages and a
    // temporal attention mixer after each of the 8 residual blocks.
    const auto gen1 = make_unet<Gen1UNet>(o, 1);
    const auto temporal_conv = [](std::int64_t c) { return c * c * 3 + c; };
    const auto mixer = [](std::int64_t c) { return 2 * c + 3 * c * c + 3 * c + c * c + c; };
    // Output channels of the 8 residual blocks: down 4, 8; mid 8, 8; up.1 8, 8; up.0 4, 4.
    std::int64_t extra = 0;
    for (const std::int64_t c : {4, 8, 8, 8, 8, 8, 4, 4}) extra += 2 * temporal_conv(c) + mixer(c);
    CHECK(gen1.params() - image.params() == extra);

    // Conv3D's res convs read kt = 3 frames: three times the FLOPs of those convs.
    const auto conv3d = make_unet<Conv3DUNet>(o, 1);
    const double res_convs = conv_flops(4, 4, 3, p0) * 2 + conv_flops(4, 8, 3, p1) + conv_flops(8, 8, 3, p1) * 7 +
                             conv_flops(16, 8, 3, p1) + conv_flops(12, 8, 3, p1) + conv_flops(12, 4, 3, p0) +
                             conv_flops(8, 4, 3, p0) + conv_flops(4, 4, 3, p0) * 2;
    CHECK(conv3d.flops(video) - image.flops(video) == Approx(2.0 * res_convs).epsilon(1e-12));

    // Cross-attention with 5 context tokens of width 6 in the 3 units of level 1 and in the middle.
    const auto with_context = make_unet<ImageUNet>(tiny_options(6), 1);
    const double cross = 2.0 * p1 * 8 * 8 * 2 + 2.0 * 2 * 5 * 6 * 8 * 2 + 4.0 * p1 * 5 * 8;
    CHECK(with_context.flops(video, 5) - image.flops(video) == Approx(4 * cross).epsilon(1e-12));
    CHECK(with_context.params() - image.params() == 4 * (2 * 8 + 8 * 8 + 2 * 6 * 8 + 8 * 8 + 8));
}

TEST_CASE("VideoUNet gradients of inputs and parameters", "[models][unet][gradcheck]") {
    SECTION("Gen1UNet with a masked context") {
        const VideoUNetOptions o = tiny_options(4);
        auto unet = make_unet<Gen1UNet>(o, 30);
        test::randomize_parameters(unet, 31);
        const Inputs in = inputs_for(o, 1, 2, 4, 32);
        const std::vector<std::string> names = {"down.0.res.0.conv1.temporal.weight", "down.1.cross.0.to_k.weight",
                                                "mid.temporal.0.qkv.bias", "up.0.res.0.time_proj.weight",
                                                "up.1.attn.0.to_q.weight"};
        std::vector<Tensor> inputs = {in.x, in.time_embedding, in.context};
        for (const auto& name : names) inputs.push_back(test::parameter(unet, name));
        VGT_REQUIRE_GRADCHECK(
            [&](const std::vector<Tensor>& xs) {
                for (std::size_t i = 0; i < names.size(); ++i) {
                    const std::string& wanted = names[i];
                    unet.visit_parameters([&](const std::string& n, Tensor& p) { if (n == wanted) p = xs[3 + i]; }, "");
                }
                return unet.forward(xs[0], xs[1], xs[2], in.context_mask);
            },
            inputs);
    }
    SECTION("VDMFlowUNet with conditioned mixers (the time embedding reaches the flow)") {
        VideoUNetOptions o = tiny_options();
        o.conditioned_mixers = true;
        auto unet = make_unet<VDMFlowUNet>(o, 36);
        test::randomize_parameters(unet, 37);
        const Inputs in = inputs_for(o, 1, 2, 4, 38);
        const std::vector<std::string> names = {"down.1.temporal.0.1.flow_embedding.weight",
                                                "mid.temporal.1.1.flow_embedding.bias"};
        std::vector<Tensor> inputs = {in.x, in.time_embedding};
        for (const auto& name : names) inputs.push_back(test::parameter(unet, name));
        VGT_REQUIRE_GRADCHECK(
            [&](const std::vector<Tensor>& xs) {
                for (std::size_t i = 0; i < names.size(); ++i) {
                    const std::string& wanted = names[i];
                    unet.visit_parameters([&](const std::string& n, Tensor& p) { if (n == wanted) p = xs[2 + i]; }, "");
                }
                return unet.forward(xs[0], xs[1]);
            },
            inputs);
    }
    SECTION("Conv3DUNet with temporal layers off (the kernel's own-frame tap)") {
        VideoUNetOptions o = tiny_options();
        o.base_channels = 2;
        auto unet = make_unet<Conv3DUNet>(o, 33);
        test::randomize_parameters(unet, 34);
        const Inputs in = inputs_for(o, 1, 2, 4, 35);
        const std::string name = "down.0.res.0.conv2.conv.weight";
        VGT_REQUIRE_GRADCHECK(
            [&](const std::vector<Tensor>& xs) {
                unet.visit_parameters([&](const std::string& n, Tensor& p) { if (n == name) p = xs[1]; }, "");
                return unet.forward(xs[0], in.time_embedding, {}, {}, kFramewise);
            },
            {in.x, test::parameter(unet, name)});
    }
}

TEST_CASE("VideoUNet dropout acts only while training", "[models][unet]") {
    VideoUNetOptions o = tiny_options();
    o.dropout = 0.5;
    auto unet = make_unet<Gen1UNet>(o, 40);
    test::randomize_parameters(unet, 41);
    const Inputs in = inputs_for(o, 1, 2, 4, 42);
    const Tensor eval = run(unet, in);
    Generator a(7), b(7);
    const Tensor train_a = run(unet, in, {.training = true, .generator = &a});
    const Tensor train_b = run(unet, in, {.training = true, .generator = &b});
    CHECK(max_abs_difference(train_a, train_b) == 0.0);  // the same generator state, the same masks
    CHECK(max_abs_difference(train_a, eval) > 1e-6);
    o.dropout = 0.0;
    auto plain = make_unet<Gen1UNet>(o, 40);
    test::randomize_parameters(plain, 41);
    CHECK(max_abs_difference(run(plain, in), eval) == 0.0);  // dropout is not a parameter
}

TEST_CASE("VideoUNetOptions in JSON and their validation", "[models][unet]") {
    VideoUNetOptions o = tiny_options(7);
    o.mask_mode = temporal::MaskMode::PostSoftmax;
    o.dropout = 0.25;
    const nlohmann::json j = io::options_to_json(o);
    CHECK(j.at("mask_mode") == "post_softmax");
    CHECK(j.at("channel_mult") == nlohmann::json::array({1, 2}));
    const auto back = io::options_from_json<VideoUNetOptions>(j, "model");
    CHECK(io::options_to_json(back) == j);
    CHECK(back.mask_mode == temporal::MaskMode::PostSoftmax);
    CHECK(back.channel_mult == std::vector<std::int64_t>{1, 2});

    CHECK_THROWS_WITH(io::options_from_json<VideoUNetOptions>(nlohmann::json{{"channel_mul", {1}}}, "model"),
                      Catch::Contains("'model': unknown key 'channel_mul'"));
    CHECK_THROWS_WITH(io::options_from_json<VideoUNetOptions>(nlohmann::json{{"mask_mode", "soft"}}, "model"),
                      Catch::Contains("model.mask_mode") && Catch::Contains("'pre_softmax' or 'post_softmax'"));

    const auto invalid = [](auto change, const char* message) {
        VideoUNetOptions bad = tiny_options();
        change(bad);
        INFO(message);
        CHECK_THROWS_WITH(bad.validate(), Catch::Contains("VideoUNetOptions") && Catch::Contains(message));
        Generator gen(0);
        CHECK_THROWS_AS(ImageUNet(bad, gen), Error);
    };
    invalid([](VideoUNetOptions& b) { b.channel_mult = {}; }, "entries in channel_mult");
    invalid([](VideoUNetOptions& b) { b.channel_mult = {1, 0}; }, "channel_mult entries in [1");
    invalid([](VideoUNetOptions& b) { b.attention_levels = {2}; }, "attention_levels in [0, 2)");
    invalid([](VideoUNetOptions& b) { b.attention_levels = {1, 1}; }, "each of attention_levels once");
    invalid([](VideoUNetOptions& b) { b.heads = 3; }, "heads dividing the 8 channels of level 1");
    invalid([](VideoUNetOptions& b) { b.norm_groups = 3; }, "norm_groups dividing base_channels");
    invalid([](VideoUNetOptions& b) { b.res_blocks = 0; }, "res_blocks in [1, 16]");
    invalid([](VideoUNetOptions& b) { b.dropout = 1.0; }, "dropout in [0, 1)");
    invalid([](VideoUNetOptions& b) { b.context_dim = -1; }, "context_dim in [0,");
    invalid([](VideoUNetOptions& b) { b.time_embed_dim = 0; }, "time_embed_dim in [1,");
    // A mixer's own constraint surfaces from the mixer.
    VideoUNetOptions odd_heads = tiny_options();
    odd_heads.temporal_heads = 3;
    Generator gen(0);
    CHECK_THROWS_WITH(Gen1UNet(odd_heads, gen), Catch::Contains("TemporalAttention") && Catch::Contains("3 heads"));
}

TEST_CASE("The UNet catalog maps names to presets", "[models][unet]") {
    CHECK(models::unet_names() ==
          std::vector<std::string>{"magicvideo", "gen1", "vdm", "conv3d", "image", "vdm_flow"});
    std::vector<std::string> stages, mixers;
    for (const auto& name : models::unet_names())
        models::visit_unet(name, [&]<class UNet>() {
            stages.emplace_back(UNet::ConvStage::name);
            mixers.emplace_back(UNet::TemporalMixer::name);
        });
    CHECK(stages ==
          std::vector<std::string>{"AdapterConv2D", "Conv2Plus1D", "FrameConv", "Conv3D", "FrameConv", "FrameConv"});
    CHECK(mixers == std::vector<std::string>{"DirectedAttention", "TemporalAttention", "TemporalAttention", "NoMixer",
                                             "NoMixer", "Sequential<TemporalAttention,FlowWarp>"});
    bool vdm = false;
    models::visit_unet("vdm", [&]<class UNet>() { vdm = std::is_same_v<UNet, VDMUNet>; });
    CHECK(vdm);
    CHECK_THROWS_WITH(models::visit_unet("sora", []<class UNet>() {}),
                      Catch::Contains("expected one of magicvideo, gen1, vdm, conv3d, image, vdm_flow, found 'sora'"));
}

TEST_CASE("Conditioned mixers: each FlowWarp gets the time features, and a zero embedding flow changes nothing",
          "[models][unet]") {
    const VideoUNetOptions o = tiny_options(5);
    auto plain = make_unet<VDMFlowUNet>(o, 70);
    test::randomize_parameters(plain, 71);
    VideoUNetOptions c = o;
    c.conditioned_mixers = true;
    CHECK(io::options_to_json(c).at("conditioned_mixers") == true);
    CHECK(io::options_from_json<VideoUNetOptions>(io::options_to_json(c), "model").conditioned_mixers);
    auto conditioned = make_unet<VDMFlowUNet>(c, 70);
    // The conditioned model has the plain one's parameters plus a flow_embedding [2, D], [2] per mixer.
    const auto plain_params = parameter_map(plain);
    std::int64_t extra = 0, mixers = 0;
    conditioned.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            const auto it = plain_params.find(name);
            if (it != plain_params.end()) {
                p = clone(it->second);
                return;
            }
            INFO(name);
            CHECK(name.find(".temporal.") != std::string::npos);
            CHECK(name.find(".1.flow_embedding.") != std::string::npos);
            extra += p.numel();
            if (p.rank() == 2) {
                CHECK(p.shape() == Shape{2, 8});
                ++mixers;
            }
        },
        "");
    CHECK(mixers == 8);  // down 2, mid 2, up 2 × 2
    CHECK(extra == mixers * (2 * 8 + 2));
    CHECK(conditioned.params() == plain.params() + extra);

    // Zero embedding flows: the plain model. With them drawn, the time
    // embedding moves the flows and the output changes.
    const Inputs in = inputs_for(o, 2, 3, 4, 72);
    CHECK(max_abs_difference(run(conditioned, in), run(plain, in)) <= 1e-12);
    conditioned.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            if (name.find("flow_embedding") != std::string::npos) p = random(p.shape(), 74 + p.numel());
        },
        "");
    CHECK(max_abs_difference(run(conditioned, in), run(plain, in)) > 1e-6);
    // Temporal layers off, the mixers and their embedding do not run.
    CHECK(max_abs_difference(run(conditioned, in, kFramewise), run(plain, in, kFramewise)) <= 1e-12);
    // Per-frame time embeddings reach the flows too.
    Inputs per_frame = in;
    per_frame.time_embedding = random({2, 3, 8}, 75);
    CHECK(run(conditioned, per_frame).shape() == Shape{2, 3, 2, 4, 4});

    // Only a mixer that takes an embedding can be conditioned.
    VideoUNetOptions vdm = tiny_options(5);
    vdm.conditioned_mixers = true;
    CHECK_THROWS_WITH(make_unet<VDMUNet>(vdm, 76),
                      Catch::Contains("conditioned_mixers") && Catch::Contains("FlowWarp") &&
                          Catch::Contains("TemporalAttention"));
}

TEMPLATE_TEST_CASE("A time embedding per frame: equal rows are the clip's, each frame reads its own",
                   "[models][unet]", Gen1UNet, VDMUNet, Conv3DUNet) {
    const VideoUNetOptions o = tiny_options(5);
    auto unet = make_unet<TestType>(o, 60);
    test::randomize_parameters(unet, 61);
    const Inputs in = inputs_for(o, 2, 3, 4, 62);
    Inputs per_frame = in;  // [B, D] repeated over the frames: [B, T, D]
    per_frame.time_embedding = contiguous(expand(unsqueeze(in.time_embedding, 1), Shape{2, 3, o.time_embed_dim}));
    CHECK(max_abs_difference(run(unet, per_frame), run(unet, in)) <= 1e-12);

    // With temporal layers off every frame is its own image: frame 1 given
    // another embedding changes frame 1 and only frame 1.
    Inputs other = per_frame;
    const Tensor changed = random({2, 1, o.time_embed_dim}, 99);  // (63 made in.time_embedding)
    other.time_embedding = concat({slice(per_frame.time_embedding, 1, 0, 1), changed,
                                   slice(per_frame.time_embedding, 1, 2, 3)}, 1);
    const Tensor a = run(unet, per_frame, kFramewise), b = run(unet, other, kFramewise);
    CHECK(max_abs_difference(test::frames(a, 0, 1), test::frames(b, 0, 1)) <= 1e-12);
    CHECK(max_abs_difference(test::frames(a, 2, 3), test::frames(b, 2, 3)) <= 1e-12);
    CHECK(max_abs_difference(test::frames(a, 1, 2), test::frames(b, 1, 2)) > 1e-6);
    // ... and with them on, the other frames see it too.
    CHECK(max_abs_difference(test::frames(run(unet, per_frame), 0, 1), test::frames(run(unet, other), 0, 1)) > 1e-9);

    Inputs bad = in;
    bad.time_embedding = random({2, 4, o.time_embed_dim}, 100);
    CHECK_THROWS_WITH(run(unet, bad), Catch::Contains("or [2, 3, 8] (one per frame), found shape [2, 4, 8]"));
}

TEST_CASE("VideoUNet errors say what was expected", "[models][unet]") {
    const VideoUNetOptions o = tiny_options(5);
    const auto unet = make_unet<MagicVideoUNet>(o, 50);
    const Inputs in = inputs_for(o, 2, 3, 4, 51);
    const auto fails = [&](const Inputs& bad, const char* message, UNetForwardOptions options = {}) {
        INFO(message);
        CHECK_THROWS_WITH(run(unet, bad, options), Catch::Contains("VideoUNet") && Catch::Contains(message));
    };
    Inputs bad = in;
    bad.x = random({2, 3, 3, 4, 5}, 52);
    fails(bad, "positive multiples of 2^(levels−1) = 2 (2 levels), found 4×5");
    bad.x = random({2, 3, 4, 4, 4}, 52);
    fails(bad, "expected a video [B, T, 3, H, W], found shape [2, 3, 4, 4, 4]");
    bad.x = to(in.x, DType::Float32);
    fails(bad, "expected a float64 video");
    bad = in;
    bad.time_embedding = random({2, 7}, 53);
    fails(bad, "time embedding [2, 8]");
    bad = in;
    bad.context = random({2, 3, 4}, 54);
    fails(bad, "context [2, L, 5] (batch, tokens, context_dim), found shape [2, 3, 4]");
    bad.context = {};
    bad.context_mask = {};
    fails(bad, "expected a context [2, L, 5]");
    bad = in;
    bad.context_mask = Tensor::from_vector(std::vector<std::int64_t>{1, 1, 1, 0, 0, 0}, Shape{2, 3});
    fails(bad, "at least one visible token in every row of the mask, found none in row 1");
    bad.context_mask = Tensor::from_vector(std::vector<std::int64_t>{1, 1, 1, 1}, Shape{2, 2});
    fails(bad, "context mask [2, 3]");
    bad.context_mask = Tensor::from_vector(std::vector<double>{1, 1, 1, 1, 0.5, 1}, Shape{2, 3});
    fails(bad, "values 0 or 1, found 0.5 in row 1");
    // Tmax = 6: AdapterConv2D has no scale and shift for a seventh frame, unless time is off.
    bad = inputs_for(o, 1, 7, 4, 55);
    fails(bad, "at most max_frames = 6 frames (AdapterConv2D");
    CHECK(run(unet, bad, kFramewise).shape() == Shape{1, 7, 2, 4, 4});
    // Without cross-attention a context is an error, not silently ignored.
    const auto plain = make_unet<ImageUNet>(tiny_options(), 56);
    Inputs with_context = inputs_for(tiny_options(), 1, 2, 4, 57);
    with_context.context = random({1, 3, 5}, 58);
    CHECK_THROWS_WITH(run(plain, with_context), Catch::Contains("no context (context_dim = 0"));
}

}  // namespace vgt::test::video_unet_test
