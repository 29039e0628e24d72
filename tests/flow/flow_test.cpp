#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <vgt/flow/consistency.hpp>
#include <vgt/flow/endpoint_error.hpp>
#include <vgt/flow/estimate.hpp>
#include <vgt/flow/flow_field.hpp>
#include <vgt/flow/horn_schunck.hpp>
#include <vgt/flow/image_gradients.hpp>
#include <vgt/flow/lucas_kanade.hpp>
#include <vgt/flow/median_filter.hpp>
#include <vgt/flow/pyramid.hpp>
#include <vgt/flow/visualize.hpp>
#include <vgt/ops/grid_sample.hpp>

namespace vgt::test::flow_test {

namespace {

constexpr double kPi = 3.14159265358979323846;

/// A smooth texture in [0.1, 0.9]: a few sinusoids at different angles.
double texture(double x, double y) {
    return 0.5 + 0.15 * std::sin(0.31 * x + 0.20 * y) + 0.12 * std::cos(0.23 * y - 0.13 * x + 1.0) +
           0.08 * std::sin(0.19 * x + 0.41 * y + 2.0) + 0.05 * std::cos(0.5 * x - 0.37 * y);
}

/// A pair of frames [H, W] whose true flow from a to b is `truth` [2, H, W]:
/// a(p) = texture(p), b(q) = texture(m(q)) with m undoing the motion, so
/// that a(p) = b(p + truth(p)) holds exactly.
struct FramePair {
    Tensor a, b, truth;
};

/// Every pixel moves by (dx, dy).
FramePair translated(std::int64_t h, std::int64_t w, double dx, double dy, DType dtype = DType::Float32) {
    Tensor a = Tensor::empty({h, w}, DType::Float64), b = Tensor::empty({h, w}, DType::Float64);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            const auto fx = static_cast<double>(x), fy = static_cast<double>(y);
            a.data<double>()[y * w + x] = texture(fx, fy);
            b.data<double>()[y * w + x] = texture(fx - dx, fy - dy);
        }
    return {to(a, dtype), to(b, dtype), to(flow::uniform_flow(h, w, dx, dy, DType::Float64), dtype)};
}

/// The scene turns by `degrees` about the frame's centre (counter-clockwise
/// on screen, y down): p moves to c + R(p − c).
FramePair rotated(std::int64_t size, double degrees) {
    const double t = degrees * kPi / 180.0, c = 0.5 * static_cast<double>(size - 1);
    Tensor a = Tensor::empty({size, size}, DType::Float64), b = Tensor::empty({size, size}, DType::Float64);
    Tensor truth = Tensor::empty({2, size, size}, DType::Float64);
    for (std::int64_t y = 0; y < size; ++y)
        for (std::int64_t x = 0; x < size; ++x) {
            const double px = static_cast<double>(x) - c, py = static_cast<double>(y) - c;
            a.data<double>()[y * size + x] = texture(px + c, py + c);
            // b at q shows what a had at R⁻¹(q − c) + c.
            b.data<double>()[y * size + x] = texture(std::cos(t) * px + std::sin(t) * py + c,
                                                     -std::sin(t) * px + std::cos(t) * py + c);
            truth.data<double>()[y * size + x] = std::cos(t) * px - std::sin(t) * py - px;
            truth.data<double>()[size * size + y * size + x] = std::sin(t) * px + std::cos(t) * py - py;
        }
    return {to(a, DType::Float32), to(b, DType::Float32), to(truth, DType::Float32)};
}

/// 1 inside, 0 within `margin` pixels of the border: [1, H, W].
Tensor interior(std::int64_t h, std::int64_t w, std::int64_t margin) {
    Tensor m = Tensor::zeros({1, h, w}, DType::Float32);
    for (std::int64_t y = margin; y < h - margin; ++y)
        for (std::int64_t x = margin; x < w - margin; ++x) m.data<float>()[y * w + x] = 1.0f;
    return m;
}

double aee(const Tensor& flow, const Tensor& truth, const Tensor& mask) {
    return flow::average_endpoint_error(to(flow, DType::Float64), to(truth, DType::Float64), mask).item<double>();
}

double max_abs(const Tensor& t) {
    double m = 0;
    for (double v : t.to_vector<double>()) m = std::max(m, std::abs(v));
    return m;
}

/// A pixel's RGB from a [3, H, W] image.
std::vector<double> pixel(const Tensor& rgb, std::int64_t y, std::int64_t x) {
    const std::int64_t h = rgb.size(1), w = rgb.size(2);
    const auto v = rgb.to_vector<double>();
    return {v[static_cast<std::size_t>(y * w + x)], v[static_cast<std::size_t>(h * w + y * w + x)],
            v[static_cast<std::size_t>(2 * h * w + y * w + x)]};
}

/// The hue of an RGB colour, in degrees [0, 360).
double hue(const std::vector<double>& c) {
    const double hi = std::max({c[0], c[1], c[2]}), lo = std::min({c[0], c[1], c[2]}), d = hi - lo;
    double hdeg = 0;
    if (d <= 0) return 0;
    if (hi == c[0]) hdeg = 60.0 * std::fmod((c[1] - c[2]) / d + 6.0, 6.0);
    else if (hi == c[1]) hdeg = 60.0 * ((c[2] - c[0]) / d + 2.0);
    else hdeg = 60.0 * ((c[0] - c[1]) / d + 4.0);
    return hdeg;
}

}  // namespace

TEST_CASE("flow: the estimators find a sub-pixel translation", "[flow]") {
    const FramePair pair = translated(64, 64, 1.5, -0.7);
    const Tensor mask = interior(64, 64, 8);
    const Tensor hs = flow::horn_schunck(pair.a, pair.b);
    const Tensor lk = flow::lucas_kanade(pair.a, pair.b);
    CHECK(hs.shape() == Shape{2, 64, 64});
    CHECK(lk.shape() == Shape{2, 64, 64});
    CHECK(hs.dtype() == DType::Float32);
    CHECK(aee(hs, pair.truth, mask) < 0.1);
    CHECK(aee(lk, pair.truth, mask) < 0.1);

    // The convention of flow_field.hpp, through vgt::warp: b warped by the
    // flow from a to b is a again.
    const Tensor back = warp(reshape(pair.b, {1, 1, 64, 64}), reshape(hs, {1, 2, 64, 64}));
    const Tensor difference = mul(sub(reshape(back, {1, 64, 64}), pair.a), mask);
    CHECK(max_abs(difference) < 0.01);

    // float64 frames give a float64 flow of the same quality.
    const FramePair pair64 = translated(64, 64, 1.5, -0.7, DType::Float64);
    const Tensor hs64 = flow::horn_schunck(pair64.a, pair64.b);
    CHECK(hs64.dtype() == DType::Float64);
    CHECK(aee(hs64, pair64.truth, mask) < 0.1);
}

TEST_CASE("flow: coarse-to-fine finds a translation of several pixels", "[flow]") {
    const FramePair pair = translated(64, 64, -9.0, 6.75);
    const Tensor mask = interior(64, 64, 14);
    CHECK(aee(flow::horn_schunck(pair.a, pair.b), pair.truth, mask) < 0.1);
    CHECK(aee(flow::lucas_kanade(pair.a, pair.b), pair.truth, mask) < 0.1);
    // Without a pyramid the linearisation cannot see 11 pixels away.
    flow::HornSchunckOptions flat;
    flat.pyramid.levels = 1;
    CHECK(aee(flow::horn_schunck(pair.a, pair.b, flat), pair.truth, mask) > 1.0);
    flow::LucasKanadeOptions flat_lk;
    flat_lk.pyramid.levels = 1;
    CHECK(aee(flow::lucas_kanade(pair.a, pair.b, flat_lk), pair.truth, mask) > 1.0);
}

TEST_CASE("flow: identical frames have zero flow", "[flow]") {
    const FramePair pair = translated(48, 40, 0, 0);
    CHECK(max_abs(flow::horn_schunck(pair.a, pair.a)) < 1e-6);
    CHECK(max_abs(flow::lucas_kanade(pair.a, pair.a)) < 1e-6);
    // A flat frame has no texture at all: still zero, not NaN.
    const Tensor flat = Tensor::full({32, 32}, 0.5);
    CHECK(max_abs(flow::horn_schunck(flat, flat)) == 0.0);
    CHECK(max_abs(flow::lucas_kanade(flat, flat)) == 0.0);
}

TEST_CASE("flow: a small rotation", "[flow]") {
    const FramePair pair = rotated(64, 2.0);  // up to 1.1 px at the corners
    const Tensor mask = interior(64, 64, 8);
    CHECK(aee(flow::horn_schunck(pair.a, pair.b), pair.truth, mask) < 0.1);
    CHECK(aee(flow::lucas_kanade(pair.a, pair.b), pair.truth, mask) < 0.1);
}

TEST_CASE("flow: batches, RGB frames and strided views give the per-pair flows", "[flow]") {
    const FramePair first = translated(32, 40, 1.0, 0.5), second = translated(32, 40, -0.5, 1.0);
    const Tensor a = stack({first.a, second.a}, 0), b = stack({first.b, second.b}, 0);  // [2, 32, 40]
    const Tensor a4 = reshape(a, {2, 1, 32, 40}), b4 = reshape(b, {2, 1, 32, 40});
    const Tensor batch = flow::horn_schunck(a4, b4);
    REQUIRE(batch.shape() == Shape{2, 2, 32, 40});
    CHECK(max_abs(sub(select(batch, 0, 1), flow::horn_schunck(second.a, second.b))) < 1e-6);
    const Tensor lk = flow::lucas_kanade(a4, b4);
    CHECK(max_abs(sub(select(lk, 0, 0), flow::lucas_kanade(first.a, first.b))) < 1e-6);
    // Grey RGB frames ([N, 3, H, W], luma weights summing to 1) are the grey frames.
    const Tensor rgb_a = contiguous(expand(a4, {2, 3, 32, 40})), rgb_b = contiguous(expand(b4, {2, 3, 32, 40}));
    CHECK(max_abs(sub(flow::horn_schunck(rgb_a, rgb_b), batch)) < 1e-4);
    // A transposed view is read through its strides.
    const Tensor at = contiguous(transpose(first.a, 0, 1)), bt = contiguous(transpose(first.b, 0, 1));
    CHECK(max_abs(sub(flow::horn_schunck(transpose(at, 0, 1), transpose(bt, 0, 1)),
                      flow::horn_schunck(first.a, first.b))) < 1e-6);
}

TEST_CASE("flow: estimate_flow picks a method by name", "[flow]") {
    const FramePair pair = translated(32, 32, 0.8, 0.3);
    CHECK(flow::parse_flow_method("hs") == flow::FlowMethod::HornSchunck);
    CHECK(flow::parse_flow_method("lucas_kanade") == flow::FlowMethod::LucasKanade);
    CHECK(flow::flow_method_name(flow::FlowMethod::LucasKanade) == "lucas_kanade");
    CHECK(max_abs(sub(flow::estimate_flow(pair.a, pair.b, flow::FlowMethod::LucasKanade),
                      flow::lucas_kanade(pair.a, pair.b))) == 0.0);
    CHECK_THROWS_WITH(flow::parse_flow_method("farneback"),
                      Catch::Contains("parse_flow_method") && Catch::Contains("farneback"));
}

TEST_CASE("flow: options out of range are errors", "[flow]") {
    const FramePair pair = translated(16, 16, 0, 0);
    const auto hs = [&](auto change) {
        flow::HornSchunckOptions o;
        change(o);
        return flow::horn_schunck(pair.a, pair.b, o);
    };
    CHECK_THROWS_WITH(hs([](auto& o) { o.alpha = 0; }), Catch::Contains("horn_schunck") && Catch::Contains("alpha"));
    CHECK_THROWS_WITH(hs([](auto& o) { o.iterations = 0; }),
                      Catch::Contains("horn_schunck") && Catch::Contains("iterations"));
    CHECK_THROWS_WITH(hs([](auto& o) { o.warps = 0; }), Catch::Contains("horn_schunck") && Catch::Contains("warps"));
    CHECK_THROWS_WITH(hs([](auto& o) { o.relaxation = 2.0; }),
                      Catch::Contains("horn_schunck") && Catch::Contains("relaxation"));
    CHECK_THROWS_WITH(hs([](auto& o) { o.median_radius = 4; }),
                      Catch::Contains("horn_schunck") && Catch::Contains("median_radius"));
    CHECK_THROWS_WITH(hs([](auto& o) { o.pyramid.levels = 0; }),
                      Catch::Contains("horn_schunck") && Catch::Contains("pyramid levels"));
    CHECK_THROWS_WITH(hs([](auto& o) { o.presmooth_sigma = std::nan(""); }),
                      Catch::Contains("horn_schunck") && Catch::Contains("presmooth_sigma"));
    const auto lk = [&](auto change) {
        flow::LucasKanadeOptions o;
        change(o);
        return flow::lucas_kanade(pair.a, pair.b, o);
    };
    CHECK_THROWS_WITH(lk([](auto& o) { o.window_radius = 0; }),
                      Catch::Contains("lucas_kanade") && Catch::Contains("window_radius"));
    CHECK_THROWS_WITH(lk([](auto& o) { o.min_eigenvalue = 0; }),
                      Catch::Contains("lucas_kanade") && Catch::Contains("min_eigenvalue"));
    CHECK_THROWS_WITH(lk([](auto& o) { o.iterations = 0; }),
                      Catch::Contains("lucas_kanade") && Catch::Contains("iterations"));
    CHECK_THROWS_WITH(lk([](auto& o) { o.pyramid.min_size = 0; }),
                      Catch::Contains("lucas_kanade") && Catch::Contains("min_size"));
    CHECK_THROWS_WITH(flow::flow_to_rgb(pair.truth, {-1.0}),
                      Catch::Contains("flow_to_rgb") && Catch::Contains("max_magnitude"));
    CHECK_THROWS_WITH(flow::consistency_mask(pair.truth, pair.truth, {-0.1, 0.5}),
                      Catch::Contains("consistency_mask") && Catch::Contains("alpha1"));
    CHECK_THROWS_WITH(flow::median_filter(pair.a, 4), Catch::Contains("median_filter") && Catch::Contains("4"));
}

TEST_CASE("flow: frames of the wrong shape or content are errors", "[flow]") {
    const Tensor good = Tensor::zeros({8, 8});
    CHECK_THROWS_WITH(flow::horn_schunck(Tensor::zeros({3, 8, 8}), Tensor::zeros({3, 8, 8})),
                      Catch::Contains("horn_schunck") && Catch::Contains("[3, 8, 8]"));
    CHECK_THROWS_WITH(flow::lucas_kanade(Tensor::zeros({1, 2, 8, 8}), Tensor::zeros({1, 2, 8, 8})),
                      Catch::Contains("lucas_kanade") && Catch::Contains("[1, 2, 8, 8]"));
    CHECK_THROWS_WITH(flow::horn_schunck(good, Tensor::zeros({8, 9})),
                      Catch::Contains("horn_schunck") && Catch::Contains("[8, 9]"));
    CHECK_THROWS_WITH(flow::horn_schunck(good, Tensor::zeros({8, 8}, DType::Float64)),
                      Catch::Contains("horn_schunck") && Catch::Contains("float64"));
    CHECK_THROWS_WITH(flow::horn_schunck(Tensor::zeros({8, 8}, DType::Int64), Tensor::zeros({8, 8}, DType::Int64)),
                      Catch::Contains("horn_schunck") && Catch::Contains("int64"));
    CHECK_THROWS_WITH(flow::horn_schunck(Tensor::zeros({0, 8}), Tensor::zeros({0, 8})),
                      Catch::Contains("horn_schunck") && Catch::Contains("[0, 8]"));
    Tensor nan_frame = Tensor::zeros({8, 8});
    nan_frame.data<float>()[10] = std::nanf("");
    CHECK_THROWS_WITH(flow::lucas_kanade(good, nan_frame), Catch::Contains("lucas_kanade") && Catch::Contains("NaN"));

    const Tensor field = Tensor::zeros({2, 8, 8});
    CHECK_THROWS_WITH(flow::consistency_mask(field, Tensor::zeros({2, 8, 7})),
                      Catch::Contains("consistency_mask") && Catch::Contains("[2, 8, 7]"));
    CHECK_THROWS_WITH(flow::endpoint_error(Tensor::zeros({3, 8, 8}), Tensor::zeros({3, 8, 8})),
                      Catch::Contains("endpoint_error") && Catch::Contains("[3, 8, 8]"));
    CHECK_THROWS_WITH(flow::flow_to_rgb(Tensor::zeros({1, 1, 8, 8})),
                      Catch::Contains("flow_to_rgb") && Catch::Contains("[1, 1, 8, 8]"));
    CHECK_THROWS_WITH(flow::average_endpoint_error(field, field, Tensor::ones({8, 8})),
                      Catch::Contains("average_endpoint_error") && Catch::Contains("[1, 8, 8]"));
    CHECK_THROWS_WITH(flow::average_endpoint_error(field, field, Tensor::zeros({1, 8, 8})),
                      Catch::Contains("average_endpoint_error") && Catch::Contains("all zero"));
    CHECK_THROWS_WITH(flow::image_gradients(Tensor::zeros({2, 2, 8, 8})),
                      Catch::Contains("image_gradients") && Catch::Contains("[2, 2, 8, 8]"));
}

TEST_CASE("flow: the consistency mask flags an occlusion and pixels leaving the frame", "[flow]") {
    const std::int64_t h = 12, w = 16;
    // The scene moves 2 px right; in b a static occluder covers columns
    // 6..9 of rows 3..7, so there the backward flow is 0.
    const Tensor forward = flow::uniform_flow(h, w, 2.0, 0.0, DType::Float64);
    Tensor backward = flow::uniform_flow(h, w, -2.0, 0.0, DType::Float64);
    for (std::int64_t y = 3; y <= 7; ++y)
        for (std::int64_t x = 6; x <= 9; ++x) backward.data<double>()[y * w + x] = 0.0;
    const Tensor mask = flow::consistency_mask(forward, backward);
    REQUIRE(mask.shape() == Shape{1, h, w});
    const auto m = mask.to_vector<double>();
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x) {
            INFO("pixel (" << x << ", " << y << ")");
            // p lands on x + 2: inside the occluder (columns 6..9 of b) it
            // finds backward flow 0; columns 14, 15 leave the frame; on the
            // occluder's edges (landing on column 5.something) bilinear
            // weights mix, but x + 2 is an integer here.
            const bool occluded = y >= 3 && y <= 7 && x + 2 >= 6 && x + 2 <= 9;
            const bool leaves = x + 2 > w - 1;
            CHECK(m[static_cast<std::size_t>(y * w + x)] == (occluded || leaves ? 0.0 : 1.0));
        }
    // A batch gives [N, 1, H, W], and the tolerance grows with the motion.
    const Tensor batch = flow::consistency_mask(reshape(forward, {1, 2, h, w}), reshape(backward, {1, 2, h, w}));
    CHECK(batch.shape() == Shape{1, 1, h, w});
    const Tensor slightly_off = flow::uniform_flow(h, w, -1.5, 0.0, DType::Float64);  // |f + b|² = 0.25 < 0.5
    CHECK(flow::consistency_mask(forward, slightly_off).to_vector<double>()[0] == 1.0);
}

TEST_CASE("flow: the colour wheel", "[flow]") {
    // Unit vectors right, down, left, up (y down the image) and zero.
    Tensor field = Tensor::zeros({2, 1, 5}, DType::Float64);
    double* f = field.data<double>();
    const double u[5] = {1, 0, -1, 0, 0}, v[5] = {0, 1, 0, -1, 0};
    for (int i = 0; i < 5; ++i) f[i] = u[i], f[5 + i] = v[i];
    const Tensor rgb = flow::flow_to_rgb(field);  // scale: the largest magnitude, 1
    REQUIRE(rgb.shape() == Shape{3, 1, 5});
    REQUIRE(rgb.dtype() == DType::Float64);
    // The wheel's colours: right is its first entry (pure red), down between
    // entries 13 and 14 (red → yellow), left entry 27 (cyan → blue, 2/11 of
    // the ramp), up between 40 and 41 (blue → magenta).
    const auto right = pixel(rgb, 0, 0), down = pixel(rgb, 0, 1), left = pixel(rgb, 0, 2), up = pixel(rgb, 0, 3);
    CHECK(right[0] == Approx(1.0));
    CHECK(right[1] == Approx(0.0));
    CHECK(right[2] == Approx(0.0));
    CHECK(down[0] == Approx(1.0));
    CHECK(down[1] == Approx(229.5 / 255));
    CHECK(down[2] == Approx(0.0));
    CHECK(left[0] == Approx(0.0));
    CHECK(left[1] == Approx(209.0 / 255));
    CHECK(left[2] == Approx(1.0));
    CHECK(up[0] == Approx(88.0 / 255));
    CHECK(up[1] == Approx(0.0));
    CHECK(up[2] == Approx(1.0));
    CHECK(hue(right) == 0.0);
    CHECK(hue(down) == Approx(54).margin(1));
    CHECK(hue(left) == Approx(191).margin(1));
    CHECK(hue(up) == Approx(261).margin(1));
    Tensor negative_zero = Tensor::zeros({2, 1, 1}, DType::Float64);
    negative_zero.data<double>()[0] = 1.0;
    negative_zero.data<double>()[1] = -0.0;
    CHECK(pixel(flow::flow_to_rgb(negative_zero), 0, 0)[2] == 0.0);
    // Zero motion is white.
    const auto still = pixel(rgb, 0, 4);
    CHECK(still[0] == 1.0);
    CHECK(still[1] == 1.0);
    CHECK(still[2] == 1.0);

    // Half the scale fades halfway to white; beyond the scale is darker.
    const Tensor half = flow::flow_to_rgb(field, {2.0});
    CHECK(pixel(half, 0, 0)[2] == Approx(0.5));
    CHECK(pixel(half, 0, 2)[0] == Approx(0.5));
    const Tensor beyond = flow::flow_to_rgb(field, {0.5});
    CHECK(pixel(beyond, 0, 2)[1] == Approx(0.75 * 209.0 / 255));

    // One scale for a whole batch: a frame with small motion stays pale.
    Tensor batch = Tensor::zeros({2, 2, 1, 1});
    batch.data<float>()[0] = 4.0f;  // item 0 moves 4 px right, item 1 moves 1 px right
    batch.data<float>()[2] = 1.0f;
    const auto colours = flow::flow_to_rgb(batch).to_vector<double>();
    CHECK(colours[5] == Approx(0.75));  // item 1, blue channel: a quarter of the way to red
    CHECK(flow::max_flow_magnitude(batch) == 4.0);

    // Unknown flow is black; the legend's centre is white.
    field.data<double>()[4] = std::nan("");
    const auto unknown = pixel(flow::flow_to_rgb(field), 0, 4);
    CHECK(unknown[0] + unknown[1] + unknown[2] == 0.0);
    const Tensor legend = flow::color_wheel_legend(33);
    REQUIRE(legend.shape() == Shape{3, 33, 33});
    CHECK(pixel(legend, 16, 16)[1] == 1.0f);
    CHECK(pixel(legend, 16, 32)[1] == Approx(0.0));  // the right edge: pure wheel red
}

TEST_CASE("flow: endpoint error of known fields, and its gradient", "[flow][gradcheck]") {
    const Tensor f = flow::uniform_flow(4, 6, 3.0, 4.0, DType::Float64);
    const Tensor zero = Tensor::zeros({2, 4, 6}, DType::Float64);
    const Tensor e = flow::endpoint_error(f, zero);
    REQUIRE(e.shape() == Shape{1, 4, 6});
    CHECK(max_abs(sub(e, 5.0)) < 1e-12);
    CHECK(flow::average_endpoint_error(f, zero).item<double>() == Approx(5.0));
    // A mask weighs pixels: half the frame wrong by 5, half right.
    Tensor g = contiguous(f);
    Tensor mask = Tensor::zeros({1, 4, 6});
    for (std::int64_t i = 0; i < 12; ++i) {
        g.data<double>()[i] = g.data<double>()[24 + i] = 0.0;  // rows 0, 1 right
        mask.data<float>()[i] = 1.0f;
    }
    CHECK(flow::average_endpoint_error(g, zero).item<double>() == Approx(2.5));
    CHECK(flow::average_endpoint_error(g, zero, mask).item<double>() == Approx(0.0));
    CHECK(flow::average_endpoint_error(g, zero, 1.0 - mask).item<double>() == Approx(5.0));

    const std::vector<Tensor> inputs{test::random({2, 2, 3, 4}, 21), test::random({2, 2, 3, 4}, 22)};
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return flow::endpoint_error(in[0], in[1]); }, inputs);
    const Tensor weights = test::random({2, 1, 3, 4}, 23, 0.0, 1.0);
    VGT_REQUIRE_GRADCHECK(
        [weights](const std::vector<Tensor>& in) { return flow::average_endpoint_error(in[0], in[1], weights); },
        inputs);
    // Where the two fields agree the gradient is 0, not NaN.
    Tensor same = test::random({2, 3, 3}, 24);
    same.set_requires_grad();
    backward(flow::average_endpoint_error(same, detach(same)));
    CHECK(max_abs(same.grad()) == 0.0);
}

TEST_CASE("flow: pyramids, blur, gradients and the median filter", "[flow]") {
    CHECK(flow::pyramid_depth(64, 64, {}) == 3);  // 64, 32, 16
    CHECK(flow::pyramid_depth(64, 64, {5, 4, 1.0}) == 5);
    CHECK(flow::pyramid_depth(10, 100, {}) == 1);
    const Tensor image = to(translated(33, 20, 0, 0).a, DType::Float64);
    const auto levels = flow::gaussian_pyramid(reshape(image, {1, 1, 33, 20}), {4, 4, 1.0});
    REQUIRE(levels.size() == 3);
    CHECK(levels[1].shape() == Shape{1, 1, 17, 10});
    CHECK(levels[2].shape() == Shape{1, 1, 9, 5});
    // Blurring keeps a constant and, away from the borders, a linear ramp.
    CHECK(max_abs(sub(flow::gaussian_blur(Tensor::full({7, 9}, 0.25, DType::Float64), 1.5), 0.25)) < 1e-12);
    Tensor ramp = Tensor::empty({16, 16}, DType::Float64);
    for (std::int64_t y = 0; y < 16; ++y)
        for (std::int64_t x = 0; x < 16; ++x) ramp.data<double>()[y * 16 + x] = 0.1 * static_cast<double>(x) - 0.2 * static_cast<double>(y);
    const auto blurred = flow::gaussian_blur(ramp, 1.0).to_vector<double>();
    CHECK(blurred[8 * 16 + 8] == Approx(0.1 * 8 - 0.2 * 8));
    CHECK(flow::downsample2(ramp).to_vector<double>()[4 * 8 + 4] == Approx(0.1 * 8 - 0.2 * 8));
    // The gradient of a ramp is exact inside (five-point differences).
    const Tensor grad = flow::image_gradients(ramp);
    REQUIRE(grad.shape() == Shape{2, 16, 16});
    CHECK(grad.to_vector<double>()[8 * 16 + 8] == Approx(0.1));
    CHECK(grad.to_vector<double>()[256 + 8 * 16 + 8] == Approx(-0.2));

    // The median filter against sorting each window.
    const Tensor noise = test::random({2, 9, 11}, 31);
    const auto in = noise.to_vector<double>();
    for (std::int64_t r = 1; r <= 3; ++r) {
        const auto out = flow::median_filter(noise, r).to_vector<double>();
        std::int64_t mismatches = 0;
        for (std::int64_t p = 0; p < 2; ++p)
            for (std::int64_t y = 0; y < 9; ++y)
                for (std::int64_t x = 0; x < 11; ++x) {
                    std::vector<double> window;
                    for (std::int64_t dy = -r; dy <= r; ++dy)
                        for (std::int64_t dx = -r; dx <= r; ++dx)
                            window.push_back(in[static_cast<std::size_t>(p * 99 + std::clamp<std::int64_t>(y + dy, 0, 8) * 11 +
                                                                         std::clamp<std::int64_t>(x + dx, 0, 10))]);
                    std::nth_element(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(window.size() / 2),
                                     window.end());
                    mismatches += window[window.size() / 2] != out[static_cast<std::size_t>(p * 99 + y * 11 + x)];
                }
        INFO("radius " << r);
        CHECK(mismatches == 0);
    }
    // An isolated outlier in a flow field disappears.
    Tensor spike = flow::uniform_flow(8, 8, 1.0, 0.0);
    spike.data<float>()[3 * 8 + 4] = 40.0f;
    CHECK(max_abs(sub(flow::median_filter(spike, 1), flow::uniform_flow(8, 8, 1.0, 0.0))) == 0.0);
}

}  // namespace vgt::test::flow_test
