// Lagged frame times (diffusion/frame_lag.hpp): the closed form, the
// training draws and loss, and the lagged Euler sampler against an oracle
// and against plain Euler.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"

#include <vgt/diffusion/all.hpp>

namespace vgt::test::frame_lag_test {

using namespace vgt::diffusion;

namespace {

/// Per-element flow times [B, T] as a column [B, T, 1, …] of x's rank.
Tensor frame_column(const Tensor& time, const Tensor& x) {
    Shape shape{time.size(0), time.size(1)};
    for (int d = 2; d < x.rank(); ++d) shape.push_back(1);
    return reshape(time, shape);
}

/// Element-wise f(x, x0, t) over videos [B, T, F] with frame times [B, T], on the host.
template <class F>
Tensor per_frame(const Tensor& x, const Tensor& x0, const Tensor& time, F f) {
    const auto xv = x.to_vector<double>(), x0v = x0.to_vector<double>(), tv = time.to_vector<double>();
    const auto features = static_cast<std::size_t>(x.numel() / time.numel());
    std::vector<double> out(xv.size());
    for (std::size_t i = 0; i < xv.size(); ++i) out[i] = f(xv[i], x0v[i], tv[i / features]);
    return Tensor::from_vector(out, x.shape());
}

/// The exact velocity toward one data point x0: with x_t = (1 − t)·x0 + t·ε,
/// v = ε − x0 = (x_t − x0)/t; 0 where t = 0 (a finished frame does not move).
Denoiser oracle_velocity(const Tensor& x0, std::vector<Tensor>* seen_times = nullptr) {
    return [x0, seen_times](const Tensor& x, const Tensor& time) {
        if (seen_times) seen_times->push_back(time);
        return per_frame(x, x0, time, [](double xi, double x0i, double t) { return t > 0 ? (xi - x0i) / t : 0.0; });
    };
}

}  // namespace

TEST_CASE("Lagged frame times follow their closed form", "[diffusion][frame_lag]") {
    SECTION("lag 0 is one time for the whole clip") {
        for (const double tau : {0.0, 0.3, 1.0}) CHECK(lagged_flow_times(tau, 5, 0.0) == std::vector<double>(5, tau));
    }
    SECTION("lag 1 over 5 frames: t_k = clamp(2 tau - (4 - k)/4, 0, 1)") {
        const auto mid = lagged_flow_times(0.5, 5, 1.0);
        const std::vector<double> expected{0.0, 0.25, 0.5, 0.75, 1.0};
        REQUIRE(mid.size() == 5);
        for (std::size_t k = 0; k < 5; ++k) CHECK(std::abs(mid[k] - expected[k]) < 1e-15);
        CHECK(lagged_flow_times(1.0, 5, 1.0) == std::vector<double>(5, 1.0));
        CHECK(lagged_flow_times(0.0, 5, 1.0) == std::vector<double>(5, 0.0));
        // Frame 0 is done at tau = L/(1 + L); the last frame leaves noise at 1/(1 + L).
        CHECK(lagged_flow_times(0.5, 5, 1.0)[0] == 0.0);
        CHECK(lagged_flow_times(0.5 + 1e-9, 5, 1.0)[0] > 0.0);
        CHECK(lagged_flow_times(0.5, 5, 1.0)[4] == 1.0);
        CHECK(lagged_flow_times(0.5 - 1e-9, 5, 1.0)[4] < 1.0);
    }
    SECTION("times never decrease along the frames, and one frame is its clip") {
        for (const double lag : {0.25, 1.0, 3.0})
            for (const double tau : {0.1, 0.4, 0.8}) {
                const auto t = lagged_flow_times(tau, 8, lag);
                for (std::size_t k = 1; k < t.size(); ++k) CHECK(t[k] >= t[k - 1]);
            }
        CHECK(lagged_flow_times(0.7, 1, 2.0) == std::vector<double>{0.7});
    }
    SECTION("bad input") {
        CHECK_THROWS_WITH(lagged_flow_times(1.5, 4, 1.0), Catch::Contains("expected a clip time in [0, 1]"));
        CHECK_THROWS_WITH(lagged_flow_times(0.5, 4, -1.0), Catch::Contains("a finite lag >= 0, found 0.5, 4 and -1"));
        CHECK_THROWS_WITH(lagged_flow_times(0.5, 0, 1.0), Catch::Contains("frames >= 1"));
    }
}

TEST_CASE("Lagged training times: the clips' draws, the share, then the shift", "[diffusion][frame_lag]") {
    const FlowTimeOptions options{TimeSampling::logit_normal, 0.5, 1.2, 2.0};
    FlowTimeOptions unshifted = options;
    unshifted.shift = 1.0;
    Generator reference(11);
    const std::vector<double> clip_times = sample_flow_times(6, unshifted, reference);
    SECTION("share 1: every clip lags") {
        Generator gen(11);
        const auto t = sample_lagged_flow_times(6, 4, options, 1.0, 1.0, gen);
        REQUIRE(t.size() == 24);
        for (std::size_t b = 0; b < 6; ++b) {
            const auto expected = lagged_flow_times(clip_times[b], 4, 1.0);
            for (std::size_t k = 0; k < 4; ++k)
                CHECK(std::abs(t[b * 4 + k] - shift_flow_time(expected[k], 2.0)) < 1e-15);
        }
        CHECK(gen.offset() == 12);  // 6 times, then 6 uniforms for the share
    }
    SECTION("share 0: each clip's frames share its shifted time, as flow_matching_loss draws it") {
        Generator gen(11), plain(11);
        const auto t = sample_lagged_flow_times(6, 4, options, 1.0, 0.0, gen);
        const auto shared = sample_flow_times(6, options, plain);
        for (std::size_t b = 0; b < 6; ++b)
            for (std::size_t k = 0; k < 4; ++k) CHECK(std::abs(t[b * 4 + k] - shared[b]) < 1e-15);
    }
    SECTION("share 0.5 lags about half the clips") {
        Generator gen(5);
        const auto t = sample_lagged_flow_times(2000, 4, {TimeSampling::uniform, 0.0, 1.0, 1.0}, 1.0, 0.5, gen);
        int lagged = 0;
        for (std::size_t b = 0; b < 2000; ++b) lagged += t[b * 4] != t[b * 4 + 3] ? 1 : 0;
        CHECK(std::abs(lagged - 1000) < 100);
    }
    Generator gen(1);
    CHECK_THROWS_WITH(sample_lagged_flow_times(2, 4, options, 1.0, 1.5, gen),
                      Catch::Contains("expected a share in [0, 1], found 1.5"));
}

TEST_CASE("The per-frame flow loss: each frame at its level, finished frames left out", "[diffusion][frame_lag]") {
    const Tensor x0 = test::random(Shape{2, 3, 2, 2}, 4, -1.0, 1.0);
    // A model that says zero: the loss is the mean squared target of the kept frames.
    const Denoiser zero = [](const Tensor& x, const Tensor&) { return mul(x, 0.0); };
    const std::vector<double> times{0.2, 0.5, 0.0, 1.0, 0.0, 0.7};
    Generator gen(9), noise_gen(9);
    const DenoisingLoss r = frame_flow_matching_loss(zero, x0, times, gen);
    const Tensor noise = randn(x0.shape(), noise_gen, x0.dtype());
    CHECK(test::max_abs_difference(r.noise, noise) == 0.0);
    CHECK(r.time.shape() == Shape{2, 3});
    double total = 0.0;
    int kept = 0;
    const auto x0v = x0.to_vector<double>(), ev = noise.to_vector<double>(), xt = r.x_t.to_vector<double>();
    for (int b = 0; b < 2; ++b)
        for (int k = 0; k < 3; ++k) {
            const double t = times[static_cast<std::size_t>(b * 3 + k)];
            for (int p = 0; p < 4; ++p) {
                const auto i = static_cast<std::size_t>((b * 3 + k) * 4 + p);
                CHECK(std::abs(xt[i] - ((1 - t) * x0v[i] + t * ev[i])) < 1e-15);
                if (t > 0) total += (ev[i] - x0v[i]) * (ev[i] - x0v[i]);
            }
            kept += t > 0 ? 1 : 0;
        }
    CHECK(std::abs(r.loss.item<double>() - total / (kept * 4)) < 1e-14);

    SECTION("equal times per clip give the per-clip loss") {
        const Denoiser toy = [](const Tensor& x, const Tensor& time) {
            return add(mul(x, 0.5), mul(frame_column(time, x), 0.25));
        };
        const Denoiser toy_clip = [](const Tensor& x, const Tensor& time) {
            return add(mul(x, 0.5), mul(reshape(time, Shape{x.size(0), 1, 1, 1}), 0.25));
        };
        Generator a(3), b(3);
        const DenoisingLoss per_frame_loss = frame_flow_matching_loss(toy, x0, {0.3, 0.3, 0.3, 0.8, 0.8, 0.8}, a);
        const DenoisingLoss per_clip = denoising_loss(toy_clip, x0, {0.3, 0.8}, {flow_level(0.3), flow_level(0.8)},
                                                      Objective::flow, b);
        CHECK(std::abs(per_frame_loss.loss.item<double>() - per_clip.loss.item<double>()) < 1e-14);
    }
    SECTION("bad input") {
        Generator g(0);
        CHECK_THROWS_WITH(frame_flow_matching_loss(zero, x0, {0.1, 0.2}, g),
                          Catch::Contains("expected one time per frame (2 x 3), found 2"));
        CHECK_THROWS_WITH(frame_flow_matching_loss(zero, x0, std::vector<double>(6, 0.0), g),
                          Catch::Contains("at least one frame with a flow time above 0"));
        CHECK_THROWS_WITH(frame_flow_matching_loss(zero, Tensor::zeros(Shape{4}), {0.5}, g),
                          Catch::Contains("expected videos x0 [B, T, ...]"));
    }
}

TEST_CASE("Lagged Euler: lands on the data point, lag 0 is plain Euler", "[diffusion][frame_lag][sampler]") {
    const Tensor x0 = test::random(Shape{2, 5, 3}, 31, -1.5, 1.5);
    Generator noise_gen(32);
    const Tensor noise = randn(x0.shape(), noise_gen, DType::Float64);
    for (const double lag : {0.0, 0.5, 1.0, 3.0})
        for (const int steps : {1, 4, 17}) {
            INFO("lag " << lag << ", " << steps << " steps");
            std::vector<Tensor> seen;
            const Tensor x = lagged_euler_sample(oracle_velocity(x0, &seen), noise, steps, lag, 1.5);
            CHECK(test::max_abs_difference(x, x0) < 1e-12);
            REQUIRE(seen.size() == static_cast<std::size_t>(steps));
            // The model is told every frame's time: the first step's are all 1, then they lag.
            CHECK(seen[0].shape() == Shape{2, 5});
            const auto last = seen.back().to_vector<double>();
            const auto expected = lagged_flow_times(1.0 / steps, 5, lag);
            for (std::size_t k = 0; k < 5; ++k) {
                CHECK(std::abs(last[k] - shift_flow_time(expected[k], 1.5)) < 1e-15);
                CHECK(last[5 + k] == last[k]);
            }
        }
    SECTION("at lag 1 the first frame is finished when the last one starts") {
        std::vector<Tensor> seen;
        (void)lagged_euler_sample(oracle_velocity(x0, &seen), noise, 10, 1.0);
        const auto t = seen[5].to_vector<double>();  // tau = 0.5
        CHECK(t[0] == 0.0);
        CHECK(t[4] == 1.0);
    }
    SECTION("with lag 0 it is Euler on the shifted flow grid") {
        const Denoiser smooth = [](const Tensor& x, const Tensor& time) {
            return add(mul(tanh(x), 0.7), mul(frame_column(time, x), 0.3));
        };
        const Denoiser smooth_clip = [](const Tensor& x, const Tensor& time) {
            return add(mul(tanh(x), 0.7), mul(reshape(time, Shape{x.size(0), 1, 1}), 0.3));
        };
        for (const int steps : {1, 6}) {
            const Tensor lagged = lagged_euler_sample(smooth, noise, steps, 0.0, 2.0);
            const Tensor plain = euler_sample(smooth_clip, noise, flow_grid(steps, 2.0));
            CHECK(test::max_abs_difference(lagged, plain) < 1e-14);
        }
    }
    SECTION("a v model is read through its levels") {
        // The oracle's v output: v = α·ε − σ·x0 with α = 1 − t, σ = t and ε = (x − (1 − t)·x0)/t.
        const Denoiser oracle_v = [x0](const Tensor& x, const Tensor& time) {
            return per_frame(x, x0, time, [](double xi, double x0i, double t) {
                const double eps = t > 0 ? (xi - (1 - t) * x0i) / t : 0.0;
                return (1 - t) * eps - t * x0i;
            });
        };
        const Tensor x = lagged_euler_sample(oracle_v, noise, 8, 1.0, 1.0, Objective::v);
        CHECK(test::max_abs_difference(x, x0) < 1e-10);
    }
    SECTION("bad input") {
        const Denoiser same = [](const Tensor& x, const Tensor&) { return x; };
        CHECK_THROWS_WITH(lagged_euler_sample(same, noise, 0, 1.0), Catch::Contains("at least 1 sampling step"));
        CHECK_THROWS_WITH(lagged_euler_sample(same, noise, 4, 1.0, 1.0, Objective::epsilon),
                          Catch::Contains("expected a flow or v model"));
        CHECK_THROWS_WITH(lagged_euler_sample(same, Tensor::zeros(Shape{2, 3}), 4, 1.0),
                          Catch::Contains("expected noise [B, T, ...]"));
        const Denoiser nan = [](const Tensor& x, const Tensor&) { return mul(x, std::nan("")); };
        CHECK_THROWS_WITH(lagged_euler_sample(nan, noise, 4, 1.0), Catch::Contains("step 1 of 4: expected a finite"));
    }
}

}  // namespace vgt::test::frame_lag_test
