#include "block_harness.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <vgt/temporal/adapter_conv2d.hpp>
#include <vgt/temporal/conv2plus1d.hpp>
#include <vgt/temporal/conv3d_stage.hpp>
#include <vgt/temporal/frame_conv.hpp>

namespace vgt::test::conv_stages_test {

using namespace vgt::temporal;

namespace {

using test::parameter;
using test::parameter_shapes;
using test::set_parameter;

temporal::ConvStageOptions stage_options(std::int64_t in_channels, std::int64_t out_channels,
                                         std::int64_t temporal_kernel = 3, bool causal = false,
                                         std::int64_t max_frames = 16) {
    temporal::ConvStageOptions o;
    o.in_channels = in_channels;
    o.out_channels = out_channels;
    o.temporal_kernel = temporal_kernel;
    o.causal = causal;
    o.max_frames = max_frames;
    o.dtype = DType::Float64;
    return o;
}

template <class Block>
Block make_stage(const temporal::ConvStageOptions& options, std::uint64_t seed) {
    Generator gen(seed);
    return Block(options, gen);
}

/// Whether output frame T−2 moves when only the last input frame changes.
template <class Block>
bool reads_next_frame(const Block& block, const Tensor& x) {
    NoGradGuard no_grad;
    const std::int64_t t = x.size(1);
    const Tensor changed = concat({test::frames(x, 0, t - 1), test::random(test::frames(x, t - 1, t).shape(), 404)}, 1);
    return test::max_abs_difference(test::frames(block.forward(changed), t - 2, t - 1),
                                    test::frames(block.forward(x), t - 2, t - 1)) > 1e-9;
}

}  // namespace

TEMPLATE_TEST_CASE("conv stages map [B, T, Cin, H, W] to [B, T, Cout, H, W] for any T", "[temporal][stages]",
                   FrameConv, Conv3D, Conv2Plus1D, AdapterConv2D) {
    auto block = make_stage<TestType>(stage_options(3, 5, 3, false, 7), 1);
    for (std::int64_t t : {1, 2, 7}) {
        INFO("T = " << t);
        const Tensor y = block.forward(test::random({2, t, 3, 3, 5}, 10 + static_cast<std::uint64_t>(t)));
        CHECK(y.shape() == Shape{2, t, 5, 3, 5});
    }
    // A strided view of a video gives the same result as its contiguous copy.
    const Tensor wide = test::random({2, 4, 3, 4, 5}, 20);
    const Tensor view = slice(wide, 3, 1, 4);
    REQUIRE_FALSE(view.is_contiguous());
    CHECK(test::max_abs_difference(block.forward(view), block.forward(contiguous(view))) == 0.0);
    // float32 through the default options.
    auto block32 = make_stage<TestType>([] {
        auto o = stage_options(3, 5);
        o.dtype = DType::Float32;
        return o;
    }(), 1);
    const Tensor y32 = block32.forward(test::random({1, 3, 3, 4, 4}, 21, -1.0, 1.0, DType::Float32));
    CHECK(y32.dtype() == DType::Float32);
    CHECK(y32.shape() == Shape{1, 3, 5, 4, 4});
}

TEMPLATE_TEST_CASE("conv stages: gradients of input and parameters", "[temporal][stages][gradcheck]", FrameConv,
                   Conv3D, Conv2Plus1D, AdapterConv2D) {
    auto block = make_stage<TestType>(stage_options(2, 3, 3, false, 4), 2);
    test::randomize_parameters(block, 3);
    SECTION("T = 1") { test::check_block_gradients(block, test::random({2, 1, 2, 3, 5}, 4)); }
    SECTION("T = 3, odd H and W") { test::check_block_gradients(block, test::random({1, 3, 2, 3, 5}, 5)); }
}

TEST_CASE("Conv3D causal: gradients through the past-frame padding", "[temporal][stages][gradcheck]") {
    auto block = make_stage<Conv3D>(stage_options(2, 3, 3, true), 6);
    test::randomize_parameters(block, 7);
    test::check_block_gradients(block, test::random({1, 3, 2, 3, 5}, 8));
    test::check_block_gradients(block, test::random({2, 1, 2, 3, 3}, 9));
}

TEST_CASE("Conv2Plus1D kt = 5: gradients with T shorter than the kernel", "[temporal][stages][gradcheck]") {
    auto block = make_stage<Conv2Plus1D>(stage_options(2, 2, 5), 10);
    test::randomize_parameters(block, 11);
    test::check_block_gradients(block, test::random({1, 2, 2, 3, 3}, 12));
}

TEST_CASE("Conv2Plus1D at init equals FrameConv with the same spatial weights", "[temporal][stages]") {
    for (std::int64_t kt : {1, 3, 5}) {
        INFO("kt = " << kt);
        const auto frame = make_stage<FrameConv>(stage_options(3, 5), 30);
        auto factorised = make_stage<Conv2Plus1D>(stage_options(3, 5, kt), 31);
        set_parameter(factorised, "spatial.weight", parameter(frame, "conv.weight"));
        set_parameter(factorised, "spatial.bias", parameter(frame, "conv.bias"));
        const Tensor x = test::random({2, 4, 3, 3, 5}, 32);
        CHECK(test::max_abs_difference(factorised.forward(x), frame.forward(x)) == 0.0);
    }
    // Its spatial weights are drawn first, so one seed gives FrameConv's own.
    const Tensor x = test::random({1, 3, 3, 4, 4}, 33);
    CHECK(test::max_abs_difference(make_stage<Conv2Plus1D>(stage_options(3, 5), 34).forward(x),
                                   make_stage<FrameConv>(stage_options(3, 5), 34).forward(x)) == 0.0);
}

TEST_CASE("AdapterConv2D at init equals FrameConv with the same conv weights", "[temporal][stages]") {
    const auto frame = make_stage<FrameConv>(stage_options(3, 5), 40);
    auto adapter = make_stage<AdapterConv2D>(stage_options(3, 5, 3, false, 6), 41);
    CHECK(parameter(adapter, "adapter.scale").to_vector<double>() == std::vector<double>(30, 1.0));
    CHECK(parameter(adapter, "adapter.shift").to_vector<double>() == std::vector<double>(30, 0.0));
    set_parameter(adapter, "conv.weight", parameter(frame, "conv.weight"));
    set_parameter(adapter, "conv.bias", parameter(frame, "conv.bias"));
    for (std::int64_t t : {1, 4, 6}) {
        INFO("T = " << t);
        const Tensor x = test::random({2, t, 3, 3, 5}, 42 + static_cast<std::uint64_t>(t));
        CHECK(test::max_abs_difference(adapter.forward(x), frame.forward(x)) == 0.0);
    }
}

TEST_CASE("AdapterConv2D scales and shifts frame t with row t", "[temporal][stages]") {
    const auto frame = make_stage<FrameConv>(stage_options(2, 3), 45);
    auto adapter = make_stage<AdapterConv2D>(stage_options(2, 3, 3, false, 4), 46);
    set_parameter(adapter, "conv.weight", parameter(frame, "conv.weight"));
    set_parameter(adapter, "conv.bias", parameter(frame, "conv.bias"));
    // S[t, c] = t + 2, B[t, c] = 10·c.
    std::vector<double> scale, shift;
    for (int t = 0; t < 4; ++t)
        for (int c = 0; c < 3; ++c) {
            scale.push_back(t + 2.0);
            shift.push_back(10.0 * c);
        }
    set_parameter(adapter, "adapter.scale", Tensor::from_vector(scale, Shape{4, 3}));
    set_parameter(adapter, "adapter.shift", Tensor::from_vector(shift, Shape{4, 3}));
    const Tensor x = test::random({2, 3, 2, 3, 3}, 47);
    const Tensor z = frame.forward(x);
    const Tensor y = adapter.forward(x);
    for (std::int64_t t = 0; t < 3; ++t)
        for (std::int64_t c = 0; c < 3; ++c) {
            const Tensor expected = add(mul(select(select(z, 1, t), 1, c), static_cast<double>(t + 2)), 10.0 * c);
            CHECK(test::max_abs_difference(contiguous(select(select(y, 1, t), 1, c)), contiguous(expected)) <= 1e-12);
        }
}

TEST_CASE("Conv3D with only its current-frame tap equals FrameConv", "[temporal][stages]") {
    // Non-causal, frame t's own tap is the centre kt/2; causal, it is the last, kt − 1.
    for (const bool causal : {false, true}) {
        INFO("causal = " << causal);
        const std::int64_t kt = 3;
        const auto frame = make_stage<FrameConv>(stage_options(3, 4), 50);
        auto volume = make_stage<Conv3D>(stage_options(3, 4, kt, causal), 51);
        const Tensor w2 = parameter(frame, "conv.weight");  // [4, 3, 3, 3]
        const Tensor zeros = Tensor::zeros(w2.shape(), DType::Float64);
        std::vector<Tensor> taps(kt, zeros);
        taps[causal ? kt - 1 : kt / 2] = w2;
        set_parameter(volume, "conv.weight", stack(taps, 2));
        set_parameter(volume, "conv.bias", parameter(frame, "conv.bias"));
        const Tensor x = test::random({2, 4, 3, 3, 5}, 52);
        CHECK(test::max_abs_difference(volume.forward(x), frame.forward(x)) <= 1e-12);
    }
}

TEST_CASE("Conv3D causal: frame t reads frames ≤ t only", "[temporal][stages][causal]") {
    for (std::int64_t kt : {2, 3}) {
        INFO("kt = " << kt);
        auto block = make_stage<Conv3D>(stage_options(2, 3, kt, true), 60);
        test::randomize_parameters(block, 61);
        CHECK(block.is_causal());
        test::check_causal(block, test::random({2, 4, 2, 3, 5}, 62));
        CHECK(block.forward(test::random({1, 1, 2, 3, 3}, 63)).shape() == Shape{1, 1, 3, 3, 3});
    }
}

TEST_CASE("per-frame stages are causal", "[temporal][stages][causal]") {
    auto frame = make_stage<FrameConv>(stage_options(2, 3), 64);
    auto adapter = make_stage<AdapterConv2D>(stage_options(2, 3, 3, false, 4), 65);
    test::randomize_parameters(adapter, 66);
    CHECK(frame.is_causal());
    CHECK(adapter.is_causal());
    const Tensor x = test::random({2, 4, 2, 3, 5}, 67);
    test::check_causal(frame, x);
    test::check_causal(adapter, x);
}

TEST_CASE("non-causal Conv3D and Conv2Plus1D read the next frame", "[temporal][stages][causal]") {
    const Tensor x = test::random({2, 4, 2, 3, 5}, 70);
    auto volume = make_stage<Conv3D>(stage_options(2, 3, 3, false), 71);
    CHECK_FALSE(volume.is_causal());
    CHECK(reads_next_frame(volume, x));
    auto factorised = make_stage<Conv2Plus1D>(stage_options(2, 3, 3), 72);
    CHECK_FALSE(factorised.is_causal());
    test::randomize_parameters(factorised, 73);
    CHECK(reads_next_frame(factorised, x));
    // The causal Conv3D, same weights, does not.
    auto causal = make_stage<Conv3D>(stage_options(2, 3, 3, true), 71);
    CHECK_FALSE(reads_next_frame(causal, x));
}

TEST_CASE("conv stages match PyTorch", "[temporal][stages][torch]") {
    test::check_against_torch<FrameConv>("frame_conv");
    test::check_against_torch<Conv3D>("conv3d_k3");
    test::check_against_torch<Conv3D>("conv3d_causal_k3");
    test::check_against_torch<Conv2Plus1D>("conv2plus1d_k3");
    test::check_against_torch<Conv2Plus1D>("conv2plus1d_k5");
    test::check_against_torch<AdapterConv2D>("adapter_conv2d_t3_tmax5");
}

TEST_CASE("conv stages: parameter names, shapes and counts", "[temporal][stages]") {
    using Named = std::vector<std::pair<std::string, Shape>>;
    const auto frame = make_stage<FrameConv>(stage_options(3, 5), 80);
    CHECK(parameter_shapes(frame, "stage") == Named{{"stage.conv.weight", {5, 3, 3, 3}}, {"stage.conv.bias", {5}}});
    CHECK(frame.params() == 5 * 3 * 9 + 5);  // 140

    const auto volume = make_stage<Conv3D>(stage_options(3, 5, 3), 81);
    CHECK(parameter_shapes(volume, "") == Named{{"conv.weight", {5, 3, 3, 3, 3}}, {"conv.bias", {5}}});
    CHECK(volume.params() == 410);  // 5·3·3·9 + 5

    const auto factorised = make_stage<Conv2Plus1D>(stage_options(3, 5, 3), 82);
    CHECK(parameter_shapes(factorised, "") == Named{{"spatial.weight", {5, 3, 3, 3}},
                                                    {"spatial.bias", {5}},
                                                    {"temporal.weight", {5, 5, 3}},
                                                    {"temporal.bias", {5}}});
    CHECK(factorised.params() == 220);  // 140 + 5·5·3 + 5

    const auto adapter = make_stage<AdapterConv2D>(stage_options(3, 5), 83);  // Tmax = 16
    CHECK(parameter_shapes(adapter, "") == Named{{"conv.weight", {5, 3, 3, 3}},
                                                 {"conv.bias", {5}},
                                                 {"adapter.scale", {16, 5}},
                                                 {"adapter.shift", {16, 5}}});
    CHECK(adapter.params() == 300);  // 140 + 2·16·5
}

TEST_CASE("conv stages: forward FLOPs", "[temporal][stages]") {
    // [B=2, T=4, Cin=3, H=6, W=8]: 384 output positions, Cout = 5.
    const Shape shape{2, 4, 3, 6, 8};
    CHECK(make_stage<FrameConv>(stage_options(3, 5), 90).flops(shape) == 103680.0);   // 2·384·5·3·9
    CHECK(make_stage<Conv3D>(stage_options(3, 5, 3), 90).flops(shape) == 311040.0);   // ·kt
    CHECK(make_stage<Conv3D>(stage_options(3, 5, 3, true), 90).flops(shape) == 311040.0);
    CHECK(make_stage<Conv2Plus1D>(stage_options(3, 5, 3), 90).flops(shape) == 161280.0);  // + 2·384·5·5·3
    CHECK(make_stage<AdapterConv2D>(stage_options(3, 5), 90).flops(shape) == 103680.0);
    CHECK_THROWS_WITH(make_stage<Conv3D>(stage_options(3, 5), 90).flops(Shape{2, 4, 4, 6, 8}),
                      Catch::Contains("Conv3D") && Catch::Contains("[2, 4, 4, 6, 8]"));
}

TEST_CASE("conv stages: errors", "[temporal][stages][errors]") {
    const Tensor frames4d = test::random({2, 3, 4, 4}, 100);
    const Tensor wrong_channels = test::random({2, 4, 4, 3, 5}, 101);
    const auto frame = make_stage<FrameConv>(stage_options(3, 5), 102);
    CHECK_THROWS_WITH(frame.forward(frames4d), Catch::Contains("FrameConv") && Catch::Contains("[2, 3, 4, 4]"));
    CHECK_THROWS_WITH(frame.forward(wrong_channels),
                      Catch::Contains("FrameConv") && Catch::Contains("[B, T, 3, H, W]") &&
                          Catch::Contains("[2, 4, 4, 3, 5]"));
    CHECK_THROWS_WITH(make_stage<Conv3D>(stage_options(3, 5), 103).forward(wrong_channels),
                      Catch::Contains("Conv3D") && Catch::Contains("[2, 4, 4, 3, 5]"));
    CHECK_THROWS_WITH(make_stage<Conv3D>(stage_options(3, 5), 103).forward(frames4d),
                      Catch::Contains("Conv3D") && Catch::Contains("[2, 3, 4, 4]"));
    CHECK_THROWS_WITH(make_stage<Conv2Plus1D>(stage_options(3, 5), 104).forward(wrong_channels),
                      Catch::Contains("Conv2Plus1D") && Catch::Contains("[2, 4, 4, 3, 5]"));
    CHECK_THROWS_WITH(make_stage<AdapterConv2D>(stage_options(3, 5), 105).forward(frames4d),
                      Catch::Contains("AdapterConv2D") && Catch::Contains("[2, 3, 4, 4]"));

    const auto adapter = make_stage<AdapterConv2D>(stage_options(3, 5, 3, false, 5), 106);
    CHECK(adapter.forward(test::random({1, 5, 3, 3, 3}, 107)).shape() == Shape{1, 5, 5, 3, 3});
    CHECK_THROWS_WITH(adapter.forward(test::random({1, 6, 3, 3, 3}, 108)),
                      Catch::Contains("AdapterConv2D: expected at most Tmax=5 frames, found T=6"));
    CHECK_THROWS_WITH(adapter.flops(Shape{1, 6, 3, 3, 3}), Catch::Contains("Tmax=5") && Catch::Contains("T=6"));

    CHECK_THROWS_WITH(make_stage<Conv3D>(stage_options(3, 5, 4), 109),
                      Catch::Contains("Conv3D") && Catch::Contains("odd") && Catch::Contains("found 4"));
    CHECK_THROWS_WITH(make_stage<Conv2Plus1D>(stage_options(3, 5, 2), 110),
                      Catch::Contains("Conv2Plus1D") && Catch::Contains("found 2"));
    CHECK_THROWS_WITH(make_stage<AdapterConv2D>(stage_options(3, 5, 3, false, 0), 111),
                      Catch::Contains("AdapterConv2D") && Catch::Contains("found 0"));
    CHECK_THROWS_WITH(make_stage<FrameConv>(stage_options(0, 5), 112),
                      Catch::Contains("FrameConv") && Catch::Contains("in_channels = 0"));
}

}  // namespace vgt::test::conv_stages_test
