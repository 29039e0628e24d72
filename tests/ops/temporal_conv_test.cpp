#include "support.hpp"

#include <vgt/ops/conv.hpp>
#include <vgt/ops/temporal_conv.hpp>
#include <vgt/ops/view.hpp>
#include <vgt/temporal/layout.hpp>

namespace vgt::test::temporal_conv_test {

namespace {

/// The same convolution the long way: conv1d on the pixel signals [B·H·W, C, T], padding explicit.
Tensor through_conv1d(const Tensor& video, const Tensor& weight, const Tensor& bias, const TemporalConvOptions& o) {
    const auto v = temporal::VideoShape::of(video, "test");
    const Tensor signals = pad(temporal::to_pixel_signals(video), {o.pad_before, o.pad_after});
    const Tensor y = conv1d(signals, weight, bias, ConvOptions{.dilation = {o.dilation}});
    const temporal::VideoShape out{v.batch, y.size(2), weight.size(0), v.height, v.width};
    return temporal::from_pixel_signals(y, out);
}

struct Case {
    const char* name;
    Shape video;
    std::int64_t out_channels, kernel;
    TemporalConvOptions options;
    bool with_bias;
};

}  // namespace

TEST_CASE("temporal_conv equals conv1d on the pixel signals, forward and gradients", "[ops][temporal_conv]") {
    const std::vector<Case> cases = {
        {"same padding", {2, 5, 3, 4, 3}, 4, 3, {.dilation = 1, .pad_before = 1, .pad_after = 1}, true},
        {"causal, dilated", {1, 7, 2, 3, 5}, 2, 3, {.dilation = 2, .pad_before = 4, .pad_after = 0}, true},
        {"no padding, no bias", {2, 6, 3, 2, 2}, 5, 2, {}, false},
        {"one frame", {2, 1, 3, 3, 3}, 3, 3, {.dilation = 1, .pad_before = 1, .pad_after = 1}, true},
        {"kernel longer than the video", {1, 2, 2, 2, 3}, 2, 5, {.dilation = 1, .pad_before = 2, .pad_after = 2}, true},
    };
    set_num_threads(2);
    for (const Case& c : cases) {
        INFO(c.name);
        const Tensor x = random(c.video, 1);
        const Tensor w = random({c.out_channels, c.video[2], c.kernel}, 2);
        const Tensor b = c.with_bias ? random({c.out_channels}, 3) : Tensor{};
        const Tensor seed_grad = random(through_conv1d(x, w, b, c.options).shape(), 4);

        auto run = [&](bool fast) {
            Tensor xi = detach(x), wi = detach(w), bi = b.defined() ? detach(b) : Tensor{};
            xi.set_requires_grad();
            wi.set_requires_grad();
            if (bi.defined()) bi.set_requires_grad();
            const Tensor y = fast ? temporal_conv(xi, wi, bi, c.options) : through_conv1d(xi, wi, bi, c.options);
            backward(y, seed_grad);
            return std::vector<Tensor>{y, xi.grad(), wi.grad(), bi.defined() ? bi.grad() : Tensor{}};
        };
        const auto fast = run(true), slow = run(false);
        REQUIRE(fast[0].shape() == slow[0].shape());
        for (std::size_t i = 0; i < fast.size(); ++i) {
            if (!slow[i].defined()) continue;
            INFO("output, grad x, grad weight, grad bias: " << i);
            CHECK(max_relative_error(fast[i], slow[i]) < 1e-12);
        }
        VGT_REQUIRE_GRADCHECK(
            [&](const std::vector<Tensor>& t) {
                return temporal_conv(t[0], t[1], t.size() > 2 ? t[2] : Tensor{}, c.options);
            },
            c.with_bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w});
    }
}

TEST_CASE("temporal_conv in float32 agrees with float64", "[ops][temporal_conv]") {
    const Tensor x = random({2, 8, 16, 8, 8}, 5);
    const Tensor w = random({16, 16, 3}, 6);
    const Tensor b = random({16}, 7);
    const TemporalConvOptions o{.dilation = 1, .pad_before = 1, .pad_after = 1};
    const Tensor y64 = temporal_conv(x, w, b, o);
    const Tensor y32 = temporal_conv(to(x, DType::Float32), to(w, DType::Float32), to(b, DType::Float32), o);
    CHECK(y32.dtype() == DType::Float32);
    CHECK(max_relative_error(to(y32, DType::Float64), y64) < 1e-5);
}

TEST_CASE("temporal_conv names what it expected on bad input", "[ops][temporal_conv]") {
    const Tensor x = random({1, 4, 3, 2, 2}, 8);
    CHECK_THROWS_WITH(temporal_conv(random({4, 3, 2, 2}, 1), random({3, 3, 3}, 2)),
                      Catch::Contains("temporal_conv") && Catch::Contains("[B, T, C, H, W]"));
    CHECK_THROWS_WITH(temporal_conv(x, random({3, 2, 3}, 2)), Catch::Contains("[out, 3, k]"));
    CHECK_THROWS_WITH(temporal_conv(x, random({3, 3, 3}, 2), random({2}, 3)), Catch::Contains("bias [3]"));
    CHECK_THROWS_WITH(temporal_conv(x, random({3, 3, 5}, 2)), Catch::Contains("at least one output frame"));
    CHECK_THROWS_WITH(temporal_conv(x, random({3, 3, 3}, 2), {}, {.dilation = 0}), Catch::Contains("dilation >= 1"));
    CHECK_THROWS_WITH(temporal_conv(x, random({3, 3, 3}, 2, -1, 1, DType::Float32)),
                      Catch::Contains("float32"));
}

}  // namespace vgt::test::temporal_conv_test
