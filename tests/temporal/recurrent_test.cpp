// ConvLSTM: identity at init, causality, any T, gradients, PyTorch golden
// cases, parameter and FLOP counts, errors.

#include "block_harness.hpp"

#include <vgt/temporal/conv_lstm.hpp>

namespace vgt::test::recurrent_test {

using vgt::Shape;
using vgt::Tensor;
using vgt::temporal::ConvLSTM;
using vgt::temporal::MixerOptions;

namespace {

MixerOptions lstm_options(std::int64_t channels, std::int64_t groups = 0) {
    MixerOptions o;
    o.channels = channels;
    o.norm_groups = groups;
    o.dtype = vgt::DType::Float64;
    return o;
}

ConvLSTM make_lstm(std::int64_t channels, std::uint64_t seed = 5, std::int64_t groups = 0) {
    vgt::Generator gen(seed);
    return ConvLSTM(lstm_options(channels, groups), gen);
}

}  // namespace

TEST_CASE("ConvLSTM is the identity at initialisation", "[temporal][conv_lstm]") {
    const ConvLSTM lstm = make_lstm(8);
    const Tensor x = vgt::test::random(Shape{2, 4, 8, 3, 5}, 1);
    const Tensor y = lstm.forward(x);
    REQUIRE(y.shape() == x.shape());
    CHECK(y.to_vector<double>() == x.to_vector<double>());
    CHECK(lstm.is_causal());
    CHECK(vgt::temporal::is_causal(lstm));
}

TEST_CASE("ConvLSTM initialisation: forget bias 1, peepholes and output projection 0", "[temporal][conv_lstm]") {
    const ConvLSTM lstm = make_lstm(4);
    const auto bias = lstm.input_conv.bias.to_vector<double>();
    REQUIRE(bias.size() == 16);
    for (int c = 4; c < 8; ++c) CHECK(bias[c] == 1.0);
    // The other gates keep PyTorch's U(−1/√(9C), 1/√(9C)) bias.
    const double bound = 1.0 / std::sqrt(36.0);
    int nonzero = 0;
    for (int c : {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15}) {
        CHECK(std::abs(bias[c]) <= bound);
        nonzero += bias[c] != 0.0;
    }
    CHECK(nonzero > 0);
    for (const Tensor* p : {&lstm.peephole_input, &lstm.peephole_forget, &lstm.peephole_output, &lstm.out.weight,
                            &lstm.out.bias})
        for (double v : p->to_vector<double>()) CHECK(v == 0.0);
    CHECK(vgt::max(vgt::abs(lstm.hidden_conv.weight)).item<double>() > 0.0);
    CHECK_FALSE(lstm.hidden_conv.bias.defined());
}

TEST_CASE("ConvLSTM names its parameters like its PyTorch twin", "[temporal][conv_lstm]") {
    const ConvLSTM lstm = make_lstm(8);
    const auto named = vgt::nn::named_parameters(lstm, "mixer");
    const std::vector<std::pair<std::string, Shape>> expected = {
        {"mixer.norm.weight", Shape{8}},
        {"mixer.norm.bias", Shape{8}},
        {"mixer.input_conv.weight", Shape{32, 8, 3, 3}},
        {"mixer.input_conv.bias", Shape{32}},
        {"mixer.hidden_conv.weight", Shape{32, 8, 3, 3}},
        {"mixer.peephole_input", Shape{8}},
        {"mixer.peephole_forget", Shape{8}},
        {"mixer.peephole_output", Shape{8}},
        {"mixer.out.weight", Shape{8, 8, 1, 1}},
        {"mixer.out.bias", Shape{8}},
    };
    REQUIRE(named.size() == expected.size());
    for (std::size_t i = 0; i < named.size(); ++i) {
        CHECK(named[i].first == expected[i].first);
        CHECK(named[i].second.shape() == expected[i].second);
        CHECK(named[i].second.requires_grad());
    }
}

TEST_CASE("ConvLSTM is causal", "[temporal][conv_lstm]") {
    ConvLSTM lstm = make_lstm(8);
    vgt::test::randomize_parameters(lstm, 11);
    vgt::test::check_causal(lstm, vgt::test::random(Shape{2, 4, 8, 3, 5}, 2));
}

TEST_CASE("ConvLSTM runs on any number of frames", "[temporal][conv_lstm]") {
    ConvLSTM lstm = make_lstm(8);
    vgt::test::randomize_parameters(lstm, 12);
    vgt::NoGradGuard no_grad;
    const Tensor x = vgt::test::random(Shape{2, 7, 8, 3, 5}, 3);
    const Tensor y = lstm.forward(x);
    REQUIRE(y.shape() == x.shape());
    // One frame on its own is the first step of the recurrence.
    const Tensor first = lstm.forward(vgt::test::frames(x, 0, 1));
    REQUIRE(first.shape() == Shape{2, 1, 8, 3, 5});
    CHECK(vgt::test::max_abs_difference(first, vgt::test::frames(y, 0, 1)) <= 1e-12);
    CHECK(vgt::test::max_abs_difference(y, x) > 1e-3);
    // The state carries over: frame 1 depends on frame 0.
    const Tensor second_alone = lstm.forward(vgt::test::frames(x, 1, 2));
    CHECK(vgt::test::max_abs_difference(second_alone, vgt::test::frames(y, 1, 2)) > 1e-6);
}

TEST_CASE("ConvLSTM gradients", "[temporal][conv_lstm][gradcheck]") {
    ConvLSTM lstm = make_lstm(4, 5, 2);
    vgt::test::randomize_parameters(lstm, 13);
    SECTION("T = 3") { vgt::test::check_block_gradients(lstm, vgt::test::random(Shape{1, 3, 4, 3, 3}, 4)); }
    SECTION("T = 1, odd H and W") { vgt::test::check_block_gradients(lstm, vgt::test::random(Shape{2, 1, 4, 3, 1}, 5)); }
}

TEST_CASE("ConvLSTM's fused CPU recurrence equals the op-by-op one, forward and every gradient",
          "[temporal][conv_lstm]") {
    struct Case {
        const char* name;
        vgt::DType dtype;
        std::int64_t channels;
        Shape video;
        double tolerance;
    };
    // float64 at 4 channels (im2col), float32 at 16 (Winograd convolutions;
    // the two routes sum in different orders, so float32 differs in rounding).
    const std::vector<Case> cases{
        {"float64, B 2, T 4", vgt::DType::Float64, 4, {2, 4, 4, 5, 3}, 1e-12},
        {"float32, B 2, T 3", vgt::DType::Float32, 16, {2, 3, 16, 9, 7}, 1e-4},
        {"float64, T 1", vgt::DType::Float64, 4, {3, 1, 4, 4, 4}, 1e-12},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        MixerOptions options = lstm_options(c.channels, 2);
        options.dtype = c.dtype;
        vgt::Generator gen(3);
        ConvLSTM lstm(options, gen);
        vgt::test::randomize_parameters(lstm, 21);
        auto run = [&](bool fused) {
            Tensor x = vgt::to(vgt::test::random(c.video, 8), c.dtype).set_requires_grad();
            for (auto& [name, p] : vgt::nn::named_parameters(lstm)) p.zero_grad();
            const Tensor y = fused ? lstm.forward(x) : lstm.forward_stepwise(x);
            vgt::backward(y, vgt::to(vgt::test::random(c.video, 9), c.dtype));
            std::vector<std::pair<std::string, Tensor>> results{{"y", vgt::detach(y)}, {"grad x", x.grad()}};
            for (const auto& [name, p] : vgt::nn::named_parameters(lstm))
                results.emplace_back("grad " + name, p.grad().defined() ? vgt::clone(p.grad()) : Tensor::zeros(p.shape(), c.dtype));
            return results;
        };
        const auto fused = run(true), stepwise = run(false);
        REQUIRE(fused.size() == stepwise.size());
        for (std::size_t i = 0; i < fused.size(); ++i) {
            INFO(fused[i].first);
            CHECK(vgt::test::max_relative_error(fused[i].second, stepwise[i].second) <= c.tolerance);
        }
    }
}

TEST_CASE("ConvLSTM matches PyTorch", "[temporal][conv_lstm][golden]") {
    vgt::test::check_against_torch<ConvLSTM>("conv_lstm_t4");
    vgt::test::check_against_torch<ConvLSTM>("conv_lstm_t2_odd");
}

TEST_CASE("ConvLSTM parameter and FLOP counts", "[temporal][conv_lstm]") {
    const ConvLSTM lstm = make_lstm(8);
    // norm 2C, input conv 4C·C·9 + 4C, hidden conv 4C·C·9, peepholes 3C, out C² + C.
    CHECK(lstm.params() == 16 + (2304 + 32) + 2304 + 24 + (64 + 8));
    // [B=2, T=4, C=8, H=3, W=5]: input conv over 2·4·15 = 120 positions, hidden
    // conv over the 2·3·15 = 90 positions of frames 1..3, out conv over 120.
    const double input = 2.0 * 120 * 32 * 8 * 9;  // 552960
    const double hidden = 2.0 * 90 * 32 * 8 * 9;  // 414720
    const double out = 2.0 * 120 * 8 * 8;         // 15360
    CHECK(lstm.flops(Shape{2, 4, 8, 3, 5}) == input + hidden + out);
    CHECK(lstm.flops(Shape{2, 4, 8, 3, 5}) == 983040.0);
    CHECK(lstm.flops(Shape{1, 1, 8, 2, 2}) == 2.0 * 4 * 32 * 72 + 2.0 * 4 * 64);
}

TEST_CASE("ConvLSTM rejects bad input and options", "[temporal][conv_lstm]") {
    const ConvLSTM lstm = make_lstm(8);
    CHECK_THROWS_WITH(lstm.forward(vgt::test::random(Shape{2, 8, 3, 5}, 1)),
                      Catch::Contains("ConvLSTM") && Catch::Contains("[2, 8, 3, 5]"));
    CHECK_THROWS_WITH(lstm.forward(vgt::test::random(Shape{2, 4, 6, 3, 5}, 1)),
                      Catch::Contains("ConvLSTM") && Catch::Contains("[2, 4, 6, 3, 5]") && Catch::Contains("8"));
    CHECK_THROWS_WITH(lstm.forward(vgt::test::random(Shape{1, 2, 8, 3, 3}, 1, -1.0, 1.0, vgt::DType::Float32)),
                      Catch::Contains("ConvLSTM") && Catch::Contains("float32"));
    CHECK_THROWS_WITH(lstm.flops(Shape{2, 8, 3, 5}),
                      Catch::Contains("ConvLSTM") && Catch::Contains("[2, 8, 3, 5]"));
    vgt::Generator gen(1);
    CHECK_THROWS_WITH(ConvLSTM(lstm_options(0), gen), Catch::Contains("ConvLSTM") && Catch::Contains("0"));
    CHECK_THROWS_WITH(ConvLSTM(lstm_options(8, 3), gen),
                      Catch::Contains("ConvLSTM") && Catch::Contains("norm groups") && Catch::Contains("3"));
}

}  // namespace vgt::test::recurrent_test
