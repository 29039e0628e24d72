// The training side of vgt::diffusion: noise schedules (closed forms and
// PyTorch), the four objectives (closed forms, exact round trips, PyTorch),
// the training loss (recomputed by hand from the same Philox numbers),
// timestep sampling, conditioning dropout, and the name parsers.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "support.hpp"

#include <vgt/diffusion/all.hpp>
#include <vgt/io/npy.hpp>

namespace vgt::test::training_test {

using namespace vgt::diffusion;

namespace {

Tensor golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/diffusion/" + name + ".npy");
}

double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(std::abs(b[i]), 1e-300));
    return worst;
}

/// A stand-in model: 0.5·x_t + 0.001·t, with t broadcast over each sample.
Tensor toy_model(const Tensor& x_t, const Tensor& time) {
    Shape column{x_t.size(0)};
    for (int d = 1; d < x_t.rank(); ++d) column.push_back(1);
    return add(mul(x_t, 0.5), mul(reshape(time, column), 0.001));
}

}  // namespace

TEST_CASE("Noise schedules match their closed forms", "[diffusion][schedule]") {
    SECTION("linear: equally spaced betas, alphas_cumprod their running product") {
        const NoiseSchedule s = NoiseSchedule::linear();
        REQUIRE(s.timesteps() == 1000);
        double product = 1.0;
        for (std::int64_t t = 0; t < 1000; ++t) {
            const auto i = static_cast<std::size_t>(t);
            CHECK(std::abs(s.betas()[i] - (1e-4 + (0.02 - 1e-4) * static_cast<double>(t) / 999.0)) < 1e-17);
            CHECK(s.alphas()[i] == 1.0 - s.betas()[i]);
            product *= 1.0 - s.betas()[i];
            CHECK(s.alpha_cumprod(t) == product);
        }
        CHECK(s.betas().front() == 1e-4);
        CHECK(s.betas().back() == 0.02);
        CHECK(NoiseSchedule::linear(1, 0.3, 0.5).betas() == std::vector<double>{0.3});
    }
    SECTION("scaled-linear: square roots of the betas equally spaced") {
        const NoiseSchedule s = NoiseSchedule::scaled_linear();
        const double a = std::sqrt(0.00085), b = std::sqrt(0.012);
        for (std::size_t i = 0; i < 1000; ++i) {
            const double r = a + (b - a) * static_cast<double>(i) / 999.0;
            CHECK(std::abs(s.betas()[i] - r * r) < 1e-17);
        }
    }
    SECTION("cosine: alphas_cumprod telescopes to f(t+1)/f(0), the last betas capped at 0.999") {
        const NoiseSchedule s = NoiseSchedule::cosine();
        const auto f = [](double t) {
            const double c = std::cos((t / 1000.0 + 0.008) / 1.008 * std::numbers::pi / 2);
            return c * c;
        };
        int capped = 0;
        for (std::int64_t t = 0; t < 1000; ++t) {
            const auto i = static_cast<std::size_t>(t);
            CHECK(s.betas()[i] <= 0.999);
            if (s.betas()[i] == 0.999) {
                ++capped;
                continue;
            }
            CHECK(s.alpha_cumprod(t) == Approx(f(static_cast<double>(t) + 1) / f(0)).epsilon(1e-12));
        }
        CHECK(capped == 1);  // only β_999, where f(1000) = cos²(π/2) ≈ 0
        CHECK(s.betas().back() == 0.999);
    }
    SECTION("levels: (sqrt(abar), sqrt(1 - abar)), variance preserving") {
        for (const ScheduleKind kind : all_schedule_kinds()) {
            const NoiseSchedule s = NoiseSchedule::named(kind);
            for (std::int64_t t : {0, 1, 250, 999}) {
                const NoiseLevel l = s.level(t);
                CHECK(l.alpha == std::sqrt(s.alpha_cumprod(t)));
                CHECK(l.sigma == std::sqrt(1.0 - s.alpha_cumprod(t)));
                CHECK(l.alpha * l.alpha + l.sigma * l.sigma == Approx(1.0).epsilon(1e-15));
                CHECK(l.lambda() == Approx(std::log(l.alpha / l.sigma)).epsilon(1e-14));
            }
            // Noise grows with t.
            for (std::int64_t t = 1; t < 1000; ++t) CHECK(s.alpha_cumprod(t) < s.alpha_cumprod(t - 1));
        }
    }
}

TEST_CASE("Noise schedules match PyTorch", "[diffusion][schedule][golden]") {
    for (const ScheduleKind kind : all_schedule_kinds()) {
        for (const std::int64_t n : {std::int64_t{1000}, std::int64_t{7}}) {
            std::string file = std::string(schedule_name(kind));
            for (char& c : file)
                if (c == '-') c = '_';
            const std::string suffix = n == 7 ? "_n7" : "";
            INFO(file << suffix);
            const NoiseSchedule s = NoiseSchedule::named(kind, n);
            CHECK(max_rel_diff(s.betas(), golden("schedule_" + file + "_betas" + suffix).to_vector<double>()) < 1e-13);
            CHECK(max_rel_diff(s.alphas_cumprod(), golden("schedule_" + file + "_alphas_cumprod" + suffix).to_vector<double>()) <
                  1e-12);
        }
    }
}

TEST_CASE("Noise schedules reject bad input", "[diffusion][schedule][errors]") {
    const NoiseSchedule s = NoiseSchedule::linear();
    CHECK_THROWS_WITH(s.level(1000), Catch::Contains("expected a timestep in [0, 999], found 1000"));
    CHECK_THROWS_WITH(s.alpha_cumprod(-1), Catch::Contains("found -1"));
    CHECK_THROWS_WITH(NoiseSchedule::linear(0), Catch::Contains("at least 1 timestep"));
    CHECK_THROWS_WITH(NoiseSchedule::from_betas({0.5, 1.0}), Catch::Contains("found 1 at timestep 1"));
    CHECK_THROWS_WITH(NoiseSchedule::linear(10, 0.0, 0.02), Catch::Contains("beta in (0, 1)"));
    CHECK_THROWS_WITH(NoiseSchedule::cosine(10, 0.008, 1.0), Catch::Contains("max_beta in (0, 1)"));
    CHECK_THROWS_WITH(NoiseSchedule::named("quadratic"),
                      Catch::Contains("expected one of linear, scaled-linear, cosine, found 'quadratic'"));
    CHECK_THROWS_AS(variance_preserving_level(1.5), Error);
    CHECK_THROWS_AS(flow_level(-0.1), Error);
}

TEST_CASE("Objectives: targets in closed form, conversions exact inverses", "[diffusion][objective]") {
    const Tensor x0 = test::random(Shape{2, 3, 4}, 1, -2.0, 2.0);
    const Tensor eps = test::random(Shape{2, 3, 4}, 2, -2.0, 2.0);
    const Tensor out = test::random(Shape{2, 3, 4}, 3, -2.0, 2.0);
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const std::vector<NoiseLevel> levels = {schedule.level(0), schedule.level(500), schedule.level(999),
                                            flow_level(0.01),  flow_level(0.5),     flow_level(0.99),
                                            NoiseLevel{0.7, 1.3}};
    const auto xv = x0.to_vector<double>(), ev = eps.to_vector<double>();
    for (const Objective objective : all_objectives()) {
        for (const NoiseLevel level : levels) {
            INFO(objective_name(objective) << " at alpha " << level.alpha << ", sigma " << level.sigma);
            const TrainingPair pair = training_pair(objective, x0, eps, level);
            // x_t and the target element by element.
            const auto xt = pair.x_t.to_vector<double>(), target = pair.target.to_vector<double>();
            double worst_xt = 0, worst_target = 0;
            for (std::size_t i = 0; i < xv.size(); ++i) {
                worst_xt = std::max(worst_xt, std::abs(xt[i] - (level.alpha * xv[i] + level.sigma * ev[i])));
                const double expected = objective == Objective::epsilon ? ev[i]
                                        : objective == Objective::x0    ? xv[i]
                                        : objective == Objective::v     ? level.alpha * ev[i] - level.sigma * xv[i]
                                                                        : ev[i] - xv[i];
                worst_target = std::max(worst_target, std::abs(target[i] - expected));
            }
            CHECK(worst_xt < 1e-15);
            CHECK(worst_target < 1e-15);
            // Target -> (x0, eps) recovers the pair ...
            const Prediction p = predict(objective, pair.target, pair.x_t, level);
            CHECK(test::max_abs_difference(p.x0, x0) < 1e-12);
            CHECK(test::max_abs_difference(p.eps, eps) < 1e-12);
            // ... and any output -> (x0, eps) -> output is the identity.
            CHECK(test::max_abs_difference(model_output(objective, predict(objective, out, pair.x_t, level), level), out) < 1e-12);
            // The two predictions are consistent with x_t.
            const Prediction q = predict(objective, out, pair.x_t, level);
            CHECK(test::max_abs_difference(add_noise(q.x0, q.eps, level), pair.x_t) < 1e-12);
        }
    }
    SECTION("flow time t: x_t = (1 - t) x0 + t eps, target eps - x0 is dx_t/dt") {
        const double t = 0.3, dt = 1e-6;
        const Tensor a = add_noise(x0, eps, flow_level(t)), b = add_noise(x0, eps, flow_level(t + dt));
        CHECK(test::max_abs_difference(div(sub(b, a), dt), objective_target(Objective::flow, x0, eps, flow_level(t))) < 1e-8);
    }
    SECTION("v at a variance-preserving level: x0 = alpha x_t - sigma v, eps = sigma x_t + alpha v") {
        const NoiseLevel l = schedule.level(321);
        const TrainingPair pair = training_pair(Objective::v, x0, eps, l);
        CHECK(test::max_abs_difference(sub(mul(pair.x_t, l.alpha), mul(pair.target, l.sigma)), x0) < 1e-12);
        CHECK(test::max_abs_difference(add(mul(pair.x_t, l.sigma), mul(pair.target, l.alpha)), eps) < 1e-12);
    }
    SECTION("float32 keeps its dtype and round trips to float precision") {
        const Tensor x32 = to(x0, DType::Float32), e32 = to(eps, DType::Float32);
        for (const Objective objective : all_objectives()) {
            const TrainingPair pair = training_pair(objective, x32, e32, schedule.level(400));
            CHECK(pair.x_t.dtype() == DType::Float32);
            CHECK(pair.target.dtype() == DType::Float32);
            const Prediction p = predict(objective, pair.target, pair.x_t, schedule.level(400));
            CHECK(test::max_abs_difference(p.x0, x32) < 1e-5);
            CHECK(test::max_abs_difference(p.eps, e32) < 1e-5);
        }
    }
}

TEST_CASE("Objectives with one level per sample match per-sample arithmetic and PyTorch",
          "[diffusion][objective][golden]") {
    const Tensor x0 = golden("objective_x0"), noise = golden("objective_noise");
    const NoiseSchedule schedule = NoiseSchedule::linear();
    std::vector<NoiseLevel> levels;
    for (double t : golden("objective_timesteps").to_vector<double>())
        levels.push_back(schedule.level(static_cast<std::int64_t>(t)));
    std::vector<NoiseLevel> flow_levels;
    for (double t : golden("objective_flow_times").to_vector<double>()) flow_levels.push_back(flow_level(t));
    for (const Objective objective : all_objectives()) {
        const std::string name(objective_name(objective));
        INFO(name);
        const auto& l = objective == Objective::flow ? flow_levels : levels;
        const TrainingPair pair = training_pair(objective, x0, noise, l);
        CHECK(test::max_abs_difference(pair.x_t, golden("objective_" + name + "_x_t")) < 1e-14);
        CHECK(test::max_abs_difference(pair.target, golden("objective_" + name + "_target")) < 1e-14);
        // Row b equals the computation at level b alone.
        for (std::int64_t b = 0; b < 3; ++b) {
            const TrainingPair row = training_pair(objective, slice(x0, 0, b, b + 1), slice(noise, 0, b, b + 1),
                                                   l[static_cast<std::size_t>(b)]);
            CHECK(test::max_abs_difference(slice(pair.target, 0, b, b + 1), row.target) == 0.0);
            const Prediction p = predict(objective, pair.target, pair.x_t, l);
            CHECK(test::max_abs_difference(p.x0, x0) < 1e-12);
        }
    }
}

TEST_CASE("Objectives reject levels where an output says nothing", "[diffusion][objective][errors]") {
    const Tensor x = test::random(Shape{2, 3}, 4);
    CHECK_THROWS_WITH(predict(Objective::epsilon, x, x, flow_level(1.0)),
                      Catch::Contains("an epsilon output gives no x0 where alpha = 0"));
    CHECK_THROWS_WITH(predict(Objective::x0, x, x, NoiseLevel{1.0, 0.0}),
                      Catch::Contains("an x0 output gives no noise where sigma = 0"));
    const std::vector<NoiseLevel> three(3, NoiseLevel{0.6, 0.8});
    CHECK_THROWS_WITH(add_noise(x, x, three), Catch::Contains("1 noise level or one per batch element (2), found 3"));
    CHECK_THROWS_WITH(predict(Objective::v, test::random(Shape{2, 4}, 5), x, NoiseLevel{0.6, 0.8}),
                      Catch::Contains("expected a model output of shape [2, 3]"));
}

TEST_CASE("The training loss is the objective's MSE, reproducible from a seed", "[diffusion][loss]") {
    const Tensor x0 = test::random(Shape{4, 2, 3}, 6, -1.0, 1.0);
    const NoiseSchedule schedule = NoiseSchedule::cosine();

    for (const Objective objective : all_objectives()) {
        INFO(objective_name(objective));
        Generator gen(42);
        const DenoisingLoss r = diffusion_loss(toy_model, x0, schedule, objective, gen);
        CHECK(gen.offset() == 4 + 24);  // B times, then x0.numel() noise numbers

        // The same numbers by hand: timesteps ⌊u·N⌋, then the noise.
        Generator replay(42);
        std::vector<NoiseLevel> levels;
        std::vector<double> times;
        const std::uint64_t first = replay.advance(4);
        for (std::uint64_t i = 0; i < 4; ++i) {
            const auto t = static_cast<std::int64_t>(philox_uniform(42, first + i) * 1000.0);
            times.push_back(static_cast<double>(t));
            levels.push_back(schedule.level(t));
        }
        CHECK(r.time.to_vector<double>() == times);
        const Tensor noise = randn(x0.shape(), replay, DType::Float64);
        CHECK(test::max_abs_difference(r.noise, noise) == 0.0);
        const TrainingPair pair = training_pair(objective, x0, noise, levels);
        const auto out = toy_model(pair.x_t, r.time).to_vector<double>(), target = pair.target.to_vector<double>();
        double sse = 0;
        for (std::size_t i = 0; i < out.size(); ++i) sse += (out[i] - target[i]) * (out[i] - target[i]);
        CHECK(r.loss.item() == Approx(sse / static_cast<double>(out.size())).epsilon(1e-14));
        CHECK(test::max_abs_difference(r.x_t, pair.x_t) == 0.0);

        Generator again(42), other(43);
        CHECK(diffusion_loss(toy_model, x0, schedule, objective, again).loss.item() == r.loss.item());
        CHECK(diffusion_loss(toy_model, x0, schedule, objective, other).loss.item() != r.loss.item());
    }

    SECTION("flow matching: times from the options, x_t = (1 - t) x0 + t eps") {
        for (const TimeSampling sampling : all_time_samplings()) {
            const FlowTimeOptions options{sampling, 0.3, 0.7};
            Generator gen(9);
            const DenoisingLoss r = flow_matching_loss(toy_model, x0, options, gen);
            Generator replay(9);
            const std::vector<double> times = sample_flow_times(4, options, replay);
            CHECK(r.time.to_vector<double>() == times);
            std::vector<NoiseLevel> levels;
            for (double t : times) levels.push_back(NoiseLevel{1.0 - t, t});
            const Tensor noise = randn(x0.shape(), replay, DType::Float64);
            const TrainingPair pair = training_pair(Objective::flow, x0, noise, levels);
            CHECK(test::max_abs_difference(r.target, sub(noise, x0)) == 0.0);
            CHECK(test::max_abs_difference(r.x_t, pair.x_t) == 0.0);
            CHECK(r.loss.item() == Approx(mse_loss(toy_model(pair.x_t, r.time), pair.target).item()).epsilon(1e-14));
        }
    }

    SECTION("the loss carries the gradient to the model's parameters") {
        Tensor w = Tensor::full(Shape{1}, 0.8, DType::Float64);
        w.set_requires_grad();
        const Denoiser model = [&](const Tensor& x_t, const Tensor&) { return mul(x_t, w); };
        Generator gen(3);
        const DenoisingLoss r = diffusion_loss(model, x0, NoiseSchedule::linear(), Objective::v, gen);
        backward(r.loss);
        // d/dw mean((w·x_t − target)²) = mean(2·(w·x_t − target)·x_t)
        const auto xt = r.x_t.to_vector<double>(), target = r.target.to_vector<double>();
        double expected = 0;
        for (std::size_t i = 0; i < xt.size(); ++i) expected += 2 * (0.8 * xt[i] - target[i]) * xt[i];
        CHECK(w.grad().item() == Approx(expected / static_cast<double>(xt.size())).epsilon(1e-12));
    }

    SECTION("float32 data gives a float32 loss") {
        Generator gen(1);
        const DenoisingLoss r = diffusion_loss(toy_model, to(x0, DType::Float32), schedule, Objective::epsilon, gen);
        CHECK(r.loss.dtype() == DType::Float32);
        CHECK(r.time.dtype() == DType::Float32);
    }

    SECTION("errors") {
        Generator gen(1);
        const Denoiser nan_model = [](const Tensor& x_t, const Tensor&) { return mul(x_t, std::nan("")); };
        CHECK_THROWS_WITH(diffusion_loss(nan_model, x0, schedule, Objective::epsilon, gen),
                          Catch::Contains("expected a finite loss"));
        const Denoiser bad_shape = [](const Tensor& x_t, const Tensor&) { return slice(x_t, 0, 0, 1); };
        CHECK_THROWS_WITH(diffusion_loss(bad_shape, x0, schedule, Objective::epsilon, gen),
                          Catch::Contains("expected a model output Tensor(float64, [4, 2, 3])"));
        CHECK_THROWS_WITH(flow_matching_loss(toy_model, x0, FlowTimeOptions{TimeSampling::logit_normal, 0.0, 0.0}, gen),
                          Catch::Contains("positive logit_std"));
    }
}

TEST_CASE("Timesteps and flow times follow their distributions", "[diffusion][loss]") {
    const std::int64_t n = 20000;
    Generator gen(11);
    const auto steps = sample_timesteps(n, 1000, gen);
    double mean = 0;
    std::int64_t low = 1000, high = -1;
    for (std::int64_t t : steps) {
        mean += static_cast<double>(t) / static_cast<double>(n);
        low = std::min(low, t);
        high = std::max(high, t);
    }
    CHECK(low == 0);
    CHECK(high == 999);
    CHECK(std::abs(mean - 499.5) < 4 * 288.7 / std::sqrt(static_cast<double>(n)));

    const auto uniform = sample_flow_times(n, {}, gen);
    double umean = 0;
    for (double t : uniform) {
        CHECK((t > 0.0 && t < 1.0));
        umean += t / static_cast<double>(n);
    }
    CHECK(std::abs(umean - 0.5) < 4 * std::sqrt(1.0 / 12.0 / static_cast<double>(n)));

    // logit(t) ~ N(m, s²).
    const FlowTimeOptions options{TimeSampling::logit_normal, 0.5, 0.8};
    const auto logit_normal = sample_flow_times(n, options, gen);
    double lmean = 0, lvar = 0;
    for (double t : logit_normal) lmean += std::log(t / (1 - t)) / static_cast<double>(n);
    for (double t : logit_normal) lvar += std::pow(std::log(t / (1 - t)) - lmean, 2) / static_cast<double>(n - 1);
    CHECK(std::abs(lmean - 0.5) < 4 * 0.8 / std::sqrt(static_cast<double>(n)));
    CHECK(std::abs(lvar - 0.64) < 4 * 0.64 * std::sqrt(2.0 / static_cast<double>(n)));
}

TEST_CASE("Conditioning dropout replaces whole rows from Philox numbers", "[diffusion][dropout]") {
    const Tensor cond = test::random(Shape{6, 2, 3}, 7);
    const Tensor empty = test::random(Shape{2, 3}, 8);

    SECTION("the mask is u_i < p of the generator's next B uniforms") {
        Generator gen(5);
        const std::vector<bool> mask = condition_drop_mask(6, 0.5, gen);
        CHECK(gen.offset() == 6);
        for (std::uint64_t i = 0; i < 6; ++i) CHECK(mask[i] == (philox_uniform(5, i) < 0.5f));
        Generator again(5);
        CHECK(condition_drop_mask(6, 0.5, again) == mask);
    }
    SECTION("dropped rows hold the empty condition, kept rows their own") {
        const std::vector<bool> mask = {true, false, false, true, true, false};
        const Tensor out = drop_condition(cond, empty, mask);
        for (std::int64_t i = 0; i < 6; ++i)
            CHECK(test::max_abs_difference(select(out, 0, i), mask[static_cast<std::size_t>(i)] ? empty : select(cond, 0, i)) == 0.0);
        // The [1, ...] form of the empty condition is the same.
        CHECK(test::max_abs_difference(drop_condition(cond, unsqueeze(empty, 0), mask), out) == 0.0);
    }
    SECTION("p = 0 keeps everything, p = 1 drops everything, both draw B numbers") {
        Generator gen(1);
        CHECK(drop_condition(cond, empty, 0.0, gen).same_storage(cond));
        CHECK(gen.offset() == 6);
        const Tensor all = drop_condition(cond, empty, 1.0, gen);
        for (std::int64_t i = 0; i < 6; ++i) CHECK(test::max_abs_difference(select(all, 0, i), empty) == 0.0);
    }
    SECTION("the dropped fraction is p") {
        Generator gen(2);
        const std::vector<bool> mask = condition_drop_mask(20000, 0.1, gen);
        double fraction = 0;
        for (bool d : mask) fraction += d ? 1.0 / 20000.0 : 0.0;
        CHECK(std::abs(fraction - 0.1) < 4 * std::sqrt(0.1 * 0.9 / 20000.0));
    }
    SECTION("a learned empty condition receives the gradient of the rows it fills") {
        Tensor learned = test::random(Shape{2, 3}, 9);
        learned.set_requires_grad();
        const Tensor out = drop_condition(cond, learned, {true, false, true, true, false, false});
        backward(sum(out));
        for (double g : learned.grad().to_vector<double>()) CHECK(g == 3.0);
    }
    SECTION("errors") {
        Generator gen(1);
        CHECK_THROWS_WITH(condition_drop_mask(3, 1.5, gen), Catch::Contains("probability p in [0, 1], found 1.5"));
        CHECK_THROWS_WITH(drop_condition(cond, test::random(Shape{3, 2}, 1), 0.5, gen),
                          Catch::Contains("expected an empty condition of shape [2, 3] or [1, 2, 3], found [3, 2]"));
        CHECK_THROWS_WITH(drop_condition(cond, empty, std::vector<bool>{true}),
                          Catch::Contains("expected 6 drop flags"));
    }
}

TEST_CASE("A shift divides every noise level's signal-to-noise ratio by shift squared", "[diffusion][shift]") {
    const auto flow_snr = [](double t) { return std::pow((1.0 - t) / t, 2); };
    for (double shift : {0.5, 1.0, 3.0, 8.0}) {
        CAPTURE(shift);
        CHECK(shift_flow_time(0.0, shift) == 0.0);
        CHECK(shift_flow_time(1.0, shift) == 1.0);
        for (double t : {0.01, 0.2, 0.5, 0.9, 0.999}) {
            CAPTURE(t);
            CHECK(flow_snr(shift_flow_time(t, shift)) == Approx(flow_snr(t) / (shift * shift)).epsilon(1e-9));
        }
    }
    CHECK(shift_flow_time(0.5, 3.0) == Approx(0.75));  // 3·0.5 / (1 + 2·0.5)

    // A shifted schedule: ᾱ/(1 − ᾱ) divided by shift² at every timestep, so
    // its betas are valid, and shift 1 changes nothing.
    const NoiseSchedule cosine = NoiseSchedule::cosine(1000);
    const NoiseSchedule shifted = cosine.shifted(4.0);
    REQUIRE(shifted.timesteps() == 1000);
    double worst = 0;
    for (std::int64_t t = 0; t < 1000; ++t) {
        const double a = cosine.alpha_cumprod(t), b = shifted.alpha_cumprod(t);
        worst = std::max(worst, std::abs((b / (1 - b)) / (a / (1 - a)) * 16.0 - 1.0));
    }
    CHECK(worst < 1e-9);
    CHECK(cosine.shifted(1.0).betas() == cosine.betas());

    // Training draws and sampling grids shift alike.
    Generator plain_gen(5), shifted_gen(5);
    const auto plain = sample_flow_times(64, {TimeSampling::logit_normal, 0.3, 1.2}, plain_gen);
    const auto moved = sample_flow_times(64, {TimeSampling::logit_normal, 0.3, 1.2, 6.0}, shifted_gen);
    REQUIRE(moved.size() == plain.size());
    for (std::size_t i = 0; i < plain.size(); ++i) CHECK(moved[i] == shift_flow_time(plain[i], 6.0));
    CHECK(shifted_gen.offset() == plain_gen.offset());
    const SamplingGrid grid = flow_grid(4, 6.0);
    REQUIRE(grid.size() == 5);
    for (int i = 0; i < 4; ++i) CHECK(grid[static_cast<std::size_t>(i)].time == shift_flow_time(1.0 - i / 4.0, 6.0));
    CHECK(grid.back().time == 0.0);

    CHECK_THROWS_WITH(shift_flow_time(0.5, 0.0), Catch::Contains("a finite shift > 0, found 0.5 and 0"));
    CHECK_THROWS_WITH(cosine.shifted(-1.0), Catch::Contains("finite shift > 0"));
    Generator gen(1);
    CHECK_THROWS_WITH(sample_flow_times(2, {TimeSampling::uniform, 0.0, 1.0, std::nan("")}, gen),
                      Catch::Contains("expected a finite shift > 0, found nan"));
}

TEST_CASE("Schedule, objective, sampler and time-sampling names parse and list the valid ones",
          "[diffusion][names]") {
    for (const ScheduleKind k : all_schedule_kinds()) CHECK(parse_schedule_kind(schedule_name(k)) == k);
    for (const Objective o : all_objectives()) CHECK(parse_objective(objective_name(o)) == o);
    for (const SamplerKind k : all_sampler_kinds()) CHECK(parse_sampler_kind(sampler_name(k)) == k);
    for (const TimeSampling s : all_time_samplings()) CHECK(parse_time_sampling(time_sampling_name(s)) == s);
    CHECK(parse_sampler_kind("dpm-solver++2m") == SamplerKind::dpm_solver_pp_2m);
    CHECK(parse_schedule_kind("scaled-linear") == ScheduleKind::scaled_linear);

    CHECK_THROWS_WITH(parse_schedule_kind("Linear"),
                      Catch::Contains("noise schedule: expected one of linear, scaled-linear, cosine, found 'Linear'"));
    CHECK_THROWS_WITH(parse_objective("eps"), Catch::Contains("expected one of epsilon, v, x0, flow, found 'eps'"));
    CHECK_THROWS_WITH(parse_sampler_kind("dpm++"),
                      Catch::Contains("sampler: expected one of ddpm, ddim, dpm-solver++2m, euler, found 'dpm++'"));
    CHECK_THROWS_WITH(parse_time_sampling("normal"), Catch::Contains("expected one of uniform, logit-normal"));
}

}  // namespace vgt::test::training_test
