#include "support.hpp"

#include <algorithm>
#include <cmath>

#include <vgt/ops/conv.hpp>
#include <vgt/ops/conv_winograd.hpp>
#include <vgt/ops/view.hpp>

namespace vgt::test::conv_winograd_test {

namespace {

/// y = Aᵀ [(G g) ⊙ (Bᵀ d)] of one dimension, in double.
template <int M>
std::vector<double> one_dimensional(const std::vector<double>& d, const std::vector<double>& g) {
    using F = detail::WinogradTransforms<M>;
    std::vector<double> product(F::alpha);
    for (int i = 0; i < F::alpha; ++i) {
        double kernel = 0, input = 0;
        for (int k = 0; k < 3; ++k) kernel += F::kernel[i][k] * g[static_cast<std::size_t>(k)];
        for (int k = 0; k < F::alpha; ++k) input += F::input[i][k] * d[static_cast<std::size_t>(k)];
        product[static_cast<std::size_t>(i)] = kernel * input;
    }
    std::vector<double> y(M);
    for (int r = 0; r < M; ++r)
        for (int i = 0; i < F::alpha; ++i) y[static_cast<std::size_t>(r)] += F::output[r][i] * product[static_cast<std::size_t>(i)];
    return y;
}

template <int M>
void require_exact_transforms() {
    const auto d = test::random({M + 2}, 3).to_vector<double>();
    const auto g = test::random({3}, 4).to_vector<double>();
    const auto y = one_dimensional<M>(d, g);
    for (int r = 0; r < M; ++r) {
        const double direct = d[r] * g[0] + d[r + 1] * g[1] + d[r + 2] * g[2];
        CHECK(y[static_cast<std::size_t>(r)] == Approx(direct).epsilon(1e-12).margin(1e-12));
    }
}

/// Largest |a − b| over the largest |b|.
double error_over_scale(const Tensor& a, const Tensor& b) {
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    double worst = 0, scale = 0;
    for (std::size_t i = 0; i < va.size(); ++i) {
        worst = std::max(worst, std::abs(va[i] - vb[i]));
        scale = std::max(scale, std::abs(vb[i]));
    }
    return worst / scale;
}

struct Case {
    const char* name;
    Shape x, w;
    ConvOptions options;
};

/// conv2d/conv3d in float32 (which take the transforms) against the same
/// convolution in float64 (im2col), forward, input and weight gradients.
void require_matches_float64(const Case& c) {
    INFO(c.name);
    const bool three_d = c.x.size() == 5;
    const Tensor x64 = test::random(c.x, 1), w64 = test::random(c.w, 2, -0.2, 0.2), b64 = test::random({c.w[0]}, 3);
    auto run = [&](DType dtype) {
        Tensor x = to(x64, dtype).set_requires_grad(), w = to(w64, dtype).set_requires_grad();
        Tensor b = to(b64, dtype).set_requires_grad();
        Tensor y = three_d ? conv3d(x, w, b, c.options) : conv2d(x, w, b, c.options);
        backward(y, to(test::random(y.shape(), 4), dtype));
        return std::vector<Tensor>{y, x.grad(), w.grad(), b.grad()};
    };
    if (three_d) {
        REQUIRE(detail::winograd_applies(detail::conv_geometry<3>(x64, w64, b64, c.options, "test")));
    } else {
        REQUIRE(detail::winograd_applies(detail::conv_geometry<2>(x64, w64, b64, c.options, "test")));
    }
    const auto single = run(DType::Float32), reference = run(DType::Float64);
    const char* names[] = {"y", "grad x", "grad w", "grad b"};
    for (std::size_t i = 0; i < single.size(); ++i) {
        INFO(names[i]);
        CHECK(error_over_scale(single[i], reference[i]) <= 1e-5);
    }
}

}  // namespace

TEST_CASE("Winograd transforms compute a 3-tap correlation exactly", "[ops][conv][winograd]") {
    require_exact_transforms<4>();
}

TEST_CASE("float32 convolutions through Winograd match float64 im2col, forward and backward",
          "[ops][conv][winograd]") {
    // Two threads: blocks of tiles per thread for many tiles, one shared
    // block for few; sizes not divisible by the 4×4 tile, every padding.
    const int saved_threads = num_threads();
    set_num_threads(2);
    const std::vector<Case> cases{
        {"2-d, many tiles", {6, 16, 32, 30}, {20, 16, 3, 3}, {.padding = {1}}},
        {"2-d, few tiles, odd sizes", {2, 17, 9, 11}, {16, 17, 3, 3}, {.padding = {1}}},
        {"2-d, padding 0", {1, 16, 10, 7}, {16, 16, 3, 3}, {}},
        {"2-d, padding 2 and 0", {2, 16, 6, 9}, {18, 16, 3, 3}, {.padding = {2, 0}}},
        {"2-d, two output channels", {3, 16, 12, 12}, {2, 16, 3, 3}, {.padding = {1}}},
        {"3-d, kt 3", {2, 16, 5, 12, 10}, {16, 16, 3, 3, 3}, {.padding = {1}}},
        {"3-d, kt 2, causal-like padding", {1, 16, 4, 7, 9}, {16, 16, 2, 3, 3}, {.padding = {1, 1, 1}}},
        {"3-d, no temporal padding", {1, 8, 6, 8, 8}, {16, 8, 3, 3, 3}, {.padding = {0, 1, 1}}},
    };
    for (const auto& c : cases) require_matches_float64(c);
    set_num_threads(saved_threads);
}

TEST_CASE("Winograd is chosen only for stride-1, 3x3, ungrouped convolutions with enough input channels",
          "[ops][conv][winograd]") {
    auto applies2 = [](Shape x, Shape w, ConvOptions options) {
        const Tensor xt = Tensor::zeros(x), wt = Tensor::zeros(w);
        return detail::winograd_applies(detail::conv_geometry<2>(xt, wt, Tensor{}, options, "test"));
    };
    auto applies3 = [](Shape x, Shape w, ConvOptions options) {
        const Tensor xt = Tensor::zeros(x), wt = Tensor::zeros(w);
        return detail::winograd_applies(detail::conv_geometry<3>(xt, wt, Tensor{}, options, "test"));
    };
    CHECK(applies2({1, 16, 8, 8}, {16, 16, 3, 3}, {.padding = {1}}));
    CHECK_FALSE(applies2({1, 16, 8, 8}, {16, 16, 3, 3}, {.stride = {2}, .padding = {1}}));
    CHECK_FALSE(applies2({1, 16, 8, 8}, {16, 16, 3, 3}, {.padding = {2}, .dilation = {2}}));
    CHECK_FALSE(applies2({1, 16, 8, 8}, {16, 8, 3, 3}, {.padding = {1}, .groups = 2}));
    CHECK_FALSE(applies2({1, 16, 8, 8}, {16, 16, 5, 5}, {.padding = {2}}));
    CHECK_FALSE(applies2({1, 16, 8, 8}, {16, 16, 3, 3}, {.padding = {3}}));
    CHECK_FALSE(applies2({1, 3, 8, 8}, {16, 3, 3, 3}, {.padding = {1}}));   // an RGB input
    CHECK(applies2({1, 16, 8, 8}, {3, 16, 3, 3}, {.padding = {1}}));  // an RGB output
    CHECK_FALSE(applies2({1, 15, 8, 8}, {32, 15, 3, 3}, {.padding = {1}}));
    CHECK(applies3({1, 16, 4, 8, 8}, {16, 16, 3, 3, 3}, {.padding = {1}}));
    CHECK(applies3({1, 8, 4, 8, 8}, {8, 8, 3, 3, 3}, {.padding = {1}}));  // 8 channels × 3 taps
    CHECK_FALSE(applies3({1, 16, 4, 8, 8}, {16, 16, 3, 1, 1}, {.padding = {1, 0, 0}}));
    CHECK_FALSE(applies3({1, 16, 4, 8, 8}, {16, 16, 3, 3, 3}, {.padding = {3, 1, 1}}));
}

}  // namespace vgt::test::conv_winograd_test
