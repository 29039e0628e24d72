// TCN: identity at init, causality, receptive field against a measured
// impulse response, any T, gradients, PyTorch golden cases, parameter and
// FLOP counts, errors.

#include "block_harness.hpp"

#include <vgt/temporal/tcn.hpp>

namespace vgt::test::tcn_test {

using vgt::Shape;
using vgt::Tensor;
using vgt::temporal::MixerOptions;
using vgt::temporal::TCN;

namespace {

MixerOptions tcn_options(std::int64_t channels, std::int64_t levels, std::int64_t kernel, std::int64_t groups = 0) {
    MixerOptions o;
    o.channels = channels;
    o.tcn_levels = levels;
    o.tcn_kernel = kernel;
    o.norm_groups = groups;
    o.dtype = vgt::DType::Float64;
    return o;
}

TCN make_tcn(std::int64_t channels, std::int64_t levels, std::int64_t kernel, std::uint64_t seed = 7,
             std::int64_t groups = 0) {
    vgt::Generator gen(seed);
    return TCN(tcn_options(channels, levels, kernel, groups), gen);
}

/// The output frames that move when input frame `source` alone changes.
std::vector<std::int64_t> frames_reached(const TCN& tcn, const Tensor& x, std::int64_t source) {
    vgt::NoGradGuard no_grad;
    const std::int64_t frame_count = x.size(1);
    const Tensor bump = vgt::test::random(vgt::test::frames(x, source, source + 1).shape(), 99, -2.0, 2.0);
    const Tensor changed = vgt::concat({vgt::test::frames(x, 0, source), bump,
                                        vgt::test::frames(x, source + 1, frame_count)},
                                       1);
    const Tensor y = tcn.forward(x), y_changed = tcn.forward(changed);
    std::vector<std::int64_t> reached;
    for (std::int64_t t = 0; t < frame_count; ++t)
        if (vgt::test::max_abs_difference(vgt::test::frames(y, t, t + 1), vgt::test::frames(y_changed, t, t + 1)) >
            1e-12)
            reached.push_back(t);
    return reached;
}

std::vector<std::int64_t> range(std::int64_t begin, std::int64_t end) {
    std::vector<std::int64_t> out;
    for (std::int64_t t = begin; t < end; ++t) out.push_back(t);
    return out;
}

}  // namespace

TEST_CASE("TCN is the identity at initialisation", "[temporal][tcn]") {
    const TCN tcn = make_tcn(8, 2, 3);
    const Tensor x = vgt::test::random(Shape{2, 4, 8, 3, 5}, 1);
    const Tensor y = tcn.forward(x);
    REQUIRE(y.shape() == x.shape());
    CHECK(y.to_vector<double>() == x.to_vector<double>());
    CHECK(tcn.is_causal());
    CHECK(vgt::temporal::is_causal(tcn));
    for (double v : tcn.out.weight.to_vector<double>()) CHECK(v == 0.0);
    for (double v : tcn.out.bias.to_vector<double>()) CHECK(v == 0.0);
    // The levels keep PyTorch's U(−1/√(kC), 1/√(kC)) weights.
    for (const auto& level : tcn.levels) {
        const double bound = 1.0 / std::sqrt(24.0);
        CHECK(vgt::max(vgt::abs(level.weight)).item<double>() <= bound);
        CHECK(vgt::max(vgt::abs(level.weight)).item<double>() > 0.0);
    }
}

TEST_CASE("TCN names its parameters like its PyTorch twin", "[temporal][tcn]") {
    const TCN tcn = make_tcn(8, 3, 2);
    const auto named = vgt::nn::named_parameters(tcn, "mixer");
    const std::vector<std::pair<std::string, Shape>> expected = {
        {"mixer.norm.weight", Shape{8}},       {"mixer.norm.bias", Shape{8}},
        {"mixer.levels.0.weight", Shape{8, 8, 2}}, {"mixer.levels.0.bias", Shape{8}},
        {"mixer.levels.1.weight", Shape{8, 8, 2}}, {"mixer.levels.1.bias", Shape{8}},
        {"mixer.levels.2.weight", Shape{8, 8, 2}}, {"mixer.levels.2.bias", Shape{8}},
        {"mixer.out.weight", Shape{8, 8, 1, 1}},   {"mixer.out.bias", Shape{8}},
    };
    REQUIRE(named.size() == expected.size());
    for (std::size_t i = 0; i < named.size(); ++i) {
        CHECK(named[i].first == expected[i].first);
        CHECK(named[i].second.shape() == expected[i].second);
        CHECK(named[i].second.requires_grad());
    }
    // Dilations 1, 2, 4.
    for (std::size_t l = 0; l < 3; ++l)
        CHECK(tcn.levels[l].options().dilation == std::vector<std::int64_t>{std::int64_t{1} << l});
}

TEST_CASE("TCN is causal", "[temporal][tcn]") {
    TCN tcn = make_tcn(8, 2, 3);
    vgt::test::randomize_parameters(tcn, 11);
    vgt::test::check_causal(tcn, vgt::test::random(Shape{2, 5, 8, 3, 5}, 2));
}

TEST_CASE("TCN receptive field matches its impulse response", "[temporal][tcn]") {
    CHECK(make_tcn(4, 2, 3).receptive_field() == 7);
    CHECK(make_tcn(4, 3, 2).receptive_field() == 8);
    CHECK(make_tcn(4, 1, 1).receptive_field() == 1);
    CHECK(make_tcn(4, 4, 3).receptive_field() == 31);

    for (const auto& [levels, kernel] : {std::pair<std::int64_t, std::int64_t>{2, 3}, {3, 2}, {1, 4}}) {
        TCN tcn = make_tcn(4, levels, kernel);
        vgt::test::randomize_parameters(tcn, 12);
        const std::int64_t field = tcn.receptive_field();
        const std::int64_t frame_count = field + 4;
        INFO("levels " << levels << ", kernel " << kernel << ", receptive field " << field);
        const Tensor x = vgt::test::random(Shape{1, frame_count, 4, 2, 3}, 3);
        // Input frame s reaches output frames s … s + field − 1 and no others.
        CHECK(frames_reached(tcn, x, 0) == range(0, field));
        CHECK(frames_reached(tcn, x, 2) == range(2, 2 + field));
        CHECK(frames_reached(tcn, x, frame_count - 1) == range(frame_count - 1, frame_count));
    }
}

TEST_CASE("TCN runs on any number of frames", "[temporal][tcn]") {
    TCN tcn = make_tcn(8, 2, 3);
    vgt::test::randomize_parameters(tcn, 13);
    vgt::NoGradGuard no_grad;
    const Tensor x = vgt::test::random(Shape{2, 11, 8, 3, 5}, 4);
    const Tensor y = tcn.forward(x);
    REQUIRE(y.shape() == x.shape());
    CHECK(vgt::test::max_abs_difference(y, x) > 1e-3);
    const Tensor first = tcn.forward(vgt::test::frames(x, 0, 1));
    REQUIRE(first.shape() == Shape{2, 1, 8, 3, 5});
    CHECK(vgt::test::max_abs_difference(first, vgt::test::frames(y, 0, 1)) <= 1e-12);
    // Shorter than the dilation of the last level (T = 2 < 2·(k − 1)).
    const Tensor two = tcn.forward(vgt::test::frames(x, 0, 2));
    CHECK(vgt::test::max_abs_difference(two, vgt::test::frames(y, 0, 2)) <= 1e-12);
}

TEST_CASE("TCN gradients", "[temporal][tcn][gradcheck]") {
    SECTION("2 levels, kernel 3, T = 4") {
        TCN tcn = make_tcn(4, 2, 3, 7, 2);
        vgt::test::randomize_parameters(tcn, 14);
        vgt::test::check_block_gradients(tcn, vgt::test::random(Shape{1, 4, 4, 3, 3}, 5));
    }
    SECTION("3 levels, kernel 2, T = 5") {
        TCN tcn = make_tcn(4, 3, 2);
        vgt::test::randomize_parameters(tcn, 15);
        vgt::test::check_block_gradients(tcn, vgt::test::random(Shape{1, 5, 4, 1, 3}, 6));
    }
    SECTION("T = 1, odd H and W") {
        TCN tcn = make_tcn(4, 2, 3);
        vgt::test::randomize_parameters(tcn, 16);
        vgt::test::check_block_gradients(tcn, vgt::test::random(Shape{2, 1, 4, 3, 1}, 7));
    }
}

TEST_CASE("TCN matches PyTorch", "[temporal][tcn][golden]") {
    vgt::test::check_against_torch<TCN>("tcn_l2_k3");
    vgt::test::check_against_torch<TCN>("tcn_l3_k2");
}

TEST_CASE("TCN parameter and FLOP counts", "[temporal][tcn]") {
    // norm 2C, each level k·C² + C, out C² + C.
    CHECK(make_tcn(8, 2, 3).params() == 16 + 2 * (192 + 8) + (64 + 8));
    CHECK(make_tcn(8, 3, 2).params() == 16 + 3 * (128 + 8) + (64 + 8));
    // [B=2, T=4, C=8, H=3, W=5]: 120 (pixel, frame) positions, each level
    // 2·k·C² per position, the out conv 2·C².
    const TCN tcn = make_tcn(8, 2, 3);
    CHECK(tcn.flops(Shape{2, 4, 8, 3, 5}) == 2 * (2.0 * 120 * 3 * 64) + 2.0 * 120 * 64);
    CHECK(tcn.flops(Shape{2, 4, 8, 3, 5}) == 107520.0);
}

TEST_CASE("TCN rejects bad input and options", "[temporal][tcn]") {
    const TCN tcn = make_tcn(8, 2, 3);
    CHECK_THROWS_WITH(tcn.forward(vgt::test::random(Shape{2, 8, 3, 5}, 1)),
                      Catch::Contains("TCN") && Catch::Contains("[2, 8, 3, 5]"));
    CHECK_THROWS_WITH(tcn.forward(vgt::test::random(Shape{2, 4, 6, 3, 5}, 1)),
                      Catch::Contains("TCN") && Catch::Contains("[2, 4, 6, 3, 5]") && Catch::Contains("8"));
    CHECK_THROWS_WITH(tcn.forward(vgt::test::random(Shape{1, 2, 8, 3, 3}, 1, -1.0, 1.0, vgt::DType::Float32)),
                      Catch::Contains("TCN") && Catch::Contains("float32"));
    CHECK_THROWS_WITH(tcn.flops(Shape{2, 8, 3, 5}), Catch::Contains("TCN") && Catch::Contains("[2, 8, 3, 5]"));
    vgt::Generator gen(1);
    CHECK_THROWS_WITH(TCN(tcn_options(8, 0, 3), gen), Catch::Contains("TCN") && Catch::Contains("tcn_levels"));
    CHECK_THROWS_WITH(TCN(tcn_options(8, 31, 3), gen), Catch::Contains("TCN") && Catch::Contains("31"));
    CHECK_THROWS_WITH(TCN(tcn_options(8, 2, 0), gen), Catch::Contains("TCN") && Catch::Contains("tcn_kernel"));
    CHECK_THROWS_WITH(TCN(tcn_options(0, 2, 3), gen), Catch::Contains("TCN") && Catch::Contains("channel"));
    CHECK_THROWS_WITH(TCN(tcn_options(8, 2, 3, 3), gen),
                      Catch::Contains("TCN") && Catch::Contains("norm groups") && Catch::Contains("3"));
}

}  // namespace vgt::test::tcn_test
