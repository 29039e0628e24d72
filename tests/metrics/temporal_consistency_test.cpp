// Temporal consistency (flow-warping error): known flows injected, the
// occlusion mask, flicker, and the built-in estimators.

#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "support.hpp"
#include "vgt/flow/flow_field.hpp"
#include "vgt/metrics/temporal_consistency.hpp"

namespace vgt::test::temporal_consistency_test {

namespace {


/// A smooth random RGB texture [3, h, w] in [0.1, 0.9], periodic in x and y.
std::vector<double> texture(std::int64_t h, std::int64_t w, std::uint64_t seed) {
    Generator gen(seed);
    const auto phases = rand(Shape{3, 4}, gen, DType::Float64, 0.0, 6.28).to_vector<double>();
    std::vector<double> out(static_cast<std::size_t>(3 * h * w));
    const double kx = 2 * M_PI / static_cast<double>(w), ky = 2 * M_PI / static_cast<double>(h);
    for (std::int64_t c = 0; c < 3; ++c)
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x) {
                const double* p = phases.data() + 4 * c;
                const double v = std::sin(kx * x + p[0]) + std::cos(ky * y + p[1]) +
                                 0.5 * std::sin(2 * kx * x + 3 * ky * y + p[2]) + 0.5 * std::cos(3 * kx * x - ky * y + p[3]);
                out[static_cast<std::size_t>((c * h + y) * w + x)] = 0.5 + 0.4 * v / 3.0;
            }
    return out;
}

/// T frames of the texture, frame t shifted by (t·dx, t·dy) with wrap-around; frame t scaled by gain(t).
Tensor translating_video(std::int64_t T, std::int64_t h, std::int64_t w, std::int64_t dx, std::int64_t dy,
                         const std::function<double(std::int64_t)>& gain = [](std::int64_t) { return 1.0; }) {
    const std::vector<double> base = texture(h, w, 3);
    std::vector<double> v(static_cast<std::size_t>(T * 3 * h * w));
    auto wrap = [](std::int64_t i, std::int64_t n) { return ((i % n) + n) % n; };
    for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x)
                    v[static_cast<std::size_t>(((t * 3 + c) * h + y) * w + x)] =
                        gain(t) * base[static_cast<std::size_t>((c * h + wrap(y - t * dy, h)) * w + wrap(x - t * dx, w))];
    return Tensor::from_vector(v, Shape{T, 3, h, w});
}

/// An estimator that returns one uniform flow (dx, dy) for a → b whenever
/// a comes before b in the video, and (−dx, −dy) otherwise; "before" is
/// told by `forward`, which compares the two batches.
metrics::FlowEstimator uniform_estimator(double dx, double dy, const Tensor& video) {
    return [dx, dy, video](const Tensor& a, const Tensor& b) {
        (void)b;
        // The forward call's first batch holds frames 0..T−2, whose first frame is the video's.
        const bool forward = a.to_vector<double>()[0] == video.to_vector<double>()[0] &&
                             a.to_vector<double>()[7] == video.to_vector<double>()[7];
        const double sign = forward ? 1.0 : -1.0;
        std::vector<Tensor> flows;
        for (std::int64_t k = 0; k < a.size(0); ++k)
            flows.push_back(flow::uniform_flow(a.size(2), a.size(3), sign * dx, sign * dy, a.dtype()));
        return stack(flows, 0);
    };
}

}  // namespace

TEST_CASE("temporal consistency of a static video is zero", "[metrics]") {
    const Tensor video = translating_video(4, 16, 20, 0, 0);
    const auto zero = metrics::temporal_consistency(video, uniform_estimator(0, 0, video));
    REQUIRE(zero.error.per_frame.size() == 3);
    for (std::size_t t = 0; t < 3; ++t) {
        CHECK(zero.error.per_frame[t] < 1e-24);
        CHECK(zero.valid_fraction[t] == 1.0);
    }
    // The built-in estimators find no motion in it either.
    CHECK(metrics::temporal_consistency(video).error.mean < 1e-12);
    CHECK(metrics::temporal_consistency(to(video, DType::Float32), flow::FlowMethod::LucasKanade).error.mean < 1e-10);
}

TEST_CASE("temporal consistency of a translation with its true flow is zero", "[metrics]") {
    const std::int64_t h = 18, w = 24, dx = 2, dy = 1;
    const Tensor video = translating_video(5, h, w, dx, dy);
    const auto exact = metrics::temporal_consistency(video, uniform_estimator(dx, dy, video));
    // Pixels whose p + F(p) leaves the frame are masked: (W − dx)(H − dy) remain.
    const double kept = static_cast<double>((w - dx) * (h - dy)) / static_cast<double>(h * w);
    for (std::size_t t = 0; t < 4; ++t) {
        CHECK(exact.error.per_frame[t] < 1e-24);
        CHECK(exact.valid_fraction[t] == Approx(kept).epsilon(1e-12));
    }
    // Without the forward–backward check the same pixels remain here (nothing is occluded).
    metrics::TemporalConsistencyOptions no_occlusion;
    no_occlusion.mask_occlusions = false;
    const auto unmasked = metrics::temporal_consistency(video, uniform_estimator(dx, dy, video), no_occlusion);
    CHECK(unmasked.error.mean < 1e-24);
    CHECK(unmasked.valid_fraction[0] == Approx(kept).epsilon(1e-12));
    // A flow that misses the motion leaves it in the error.
    const auto missed = metrics::temporal_consistency(video, uniform_estimator(0, 0, video));
    CHECK(missed.error.mean > 1e-3);
    // Float32 gives the same answer to float32 precision.
    CHECK(metrics::temporal_consistency(to(video, DType::Float32), uniform_estimator(dx, dy, to(video, DType::Float32)))
              .error.mean < 1e-10);
}

TEST_CASE("temporal consistency rises with brightness flicker", "[metrics]") {
    const std::int64_t h = 20, w = 24, dx = 1, dy = 1;
    const Tensor steady = translating_video(6, h, w, dx, dy);
    const Tensor flicker = translating_video(6, h, w, dx, dy, [](std::int64_t t) { return t % 2 ? 1.1 : 0.9; });
    const auto a = metrics::temporal_consistency(steady, uniform_estimator(dx, dy, steady));
    const auto b = metrics::temporal_consistency(flicker, uniform_estimator(dx, dy, flicker));
    CHECK(a.error.mean < 1e-24);
    CHECK(b.error.mean > 1e-3);
    for (double e : b.error.per_frame) CHECK(e > 1e-3);
    // The same under an estimated flow: Horn–Schunck explains most of the
    // motion, and flicker still raises the error several times over.
    const auto hs_steady = metrics::temporal_consistency(steady);
    const auto hs_flicker = metrics::temporal_consistency(flicker);
    const auto no_flow = metrics::temporal_consistency(steady, uniform_estimator(0, 0, steady));
    INFO("HS steady " << hs_steady.error.mean << ", HS flicker " << hs_flicker.error.mean << ", no flow "
                      << no_flow.error.mean);
    CHECK(hs_steady.error.mean < 0.25 * no_flow.error.mean);
    CHECK(hs_flicker.error.mean > 3 * hs_steady.error.mean);
}

TEST_CASE("temporal consistency masks occluded pixels", "[metrics]") {
    // A red square 6 px wide moves right 3 px per frame over a static texture.
    const std::int64_t T = 4, h = 16, w = 28, side = 6;
    const std::vector<double> base = texture(h, w, 5);
    std::vector<double> v(static_cast<std::size_t>(T * 3 * h * w));
    auto inside = [&](std::int64_t t, std::int64_t x, std::int64_t y) {
        return x >= 2 + 3 * t && x < 2 + 3 * t + side && y >= 5 && y < 5 + side;
    };
    for (std::int64_t t = 0; t < T; ++t)
        for (std::int64_t c = 0; c < 3; ++c)
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x)
                    v[static_cast<std::size_t>(((t * 3 + c) * h + y) * w + x)] =
                        inside(t, x, y) ? (c == 0 ? 1.0 : 0.0) : base[static_cast<std::size_t>((c * h + y) * w + x)];
    const Tensor video = Tensor::from_vector(v, Shape{T, 3, h, w});
    // The true flow of each pair, told apart by where the square is: +3 on
    // the square's pixels of a when b's square is further right, else −3.
    const metrics::FlowEstimator truth = [&](const Tensor& a, const Tensor& b) {
        Tensor flows = Tensor::zeros(Shape{a.size(0), 2, h, w}, DType::Float64);
        const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
        auto left_edge = [&](const std::vector<double>& f, std::int64_t k) {
            for (std::int64_t x = 0; x < w; ++x)
                if (f[static_cast<std::size_t>(((k * 3 + 1) * h + 7) * w + x)] == 0.0 &&
                    f[static_cast<std::size_t>(((k * 3 + 0) * h + 7) * w + x)] == 1.0)
                    return x;
            return std::int64_t{-1};
        };
        double* f = flows.data<double>();
        for (std::int64_t k = 0; k < a.size(0); ++k) {
            const std::int64_t xa = left_edge(av, k), xb = left_edge(bv, k);
            for (std::int64_t y = 5; y < 5 + side; ++y)
                for (std::int64_t x = xa; x < xa + side; ++x) f[((k * 2) * h + y) * w + x] = static_cast<double>(xb - xa);
        }
        return flows;
    };
    const auto masked = metrics::temporal_consistency(video, truth);
    metrics::TemporalConsistencyOptions no_occlusion;
    no_occlusion.mask_occlusions = false;
    const auto unmasked = metrics::temporal_consistency(video, truth, no_occlusion);
    INFO("masked " << masked.error.mean << ", unmasked " << unmasked.error.mean);
    // The background the square covers in t+1 is occluded there: masked, the
    // error is zero; unmasked, those pixels compare texture with red.
    CHECK(masked.error.mean < 1e-24);
    CHECK(unmasked.error.mean > 0.01);
    // Masked: the 3×6 pixels the square moves onto, per pair.
    for (double f : masked.valid_fraction) CHECK(f == Approx(1.0 - 18.0 / static_cast<double>(h * w)));
}

TEST_CASE("temporal consistency rejects bad input", "[metrics]") {
    const Tensor video = translating_video(3, 12, 12, 1, 0);
    CHECK_THROWS_WITH(metrics::temporal_consistency(slice(video, 0, 0, 1)),
                      Catch::Contains("temporal_consistency") && Catch::Contains("[1, 3, 12, 12]"));
    CHECK_THROWS_WITH(metrics::temporal_consistency(select(video, 0, 0)),
                      Catch::Contains("temporal_consistency") && Catch::Contains("[3, 12, 12]"));
    const metrics::FlowEstimator wrong = [](const Tensor& a, const Tensor&) {
        return Tensor::zeros(Shape{a.size(0), 2, 12, 11}, DType::Float64);
    };
    CHECK_THROWS_WITH(metrics::temporal_consistency(video, wrong),
                      Catch::Contains("temporal_consistency") && Catch::Contains("[2, 2, 12, 12]") &&
                          Catch::Contains("[2, 2, 12, 11]"));
    const metrics::FlowEstimator nan = [](const Tensor& a, const Tensor&) {
        return Tensor::full(Shape{a.size(0), 2, 12, 12}, std::nan(""), DType::Float64);
    };
    CHECK_THROWS_WITH(metrics::temporal_consistency(video, nan),
                      Catch::Contains("temporal_consistency") && Catch::Contains("NaN"));
    CHECK_THROWS_WITH(metrics::temporal_consistency(video, metrics::FlowEstimator{}),
                      Catch::Contains("temporal_consistency") && Catch::Contains("estimator"));
}

}  // namespace vgt::test::temporal_consistency_test
