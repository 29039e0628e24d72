// The sampling side of vgt::diffusion: grids, the four samplers (oracle
// denoisers for one data point, exact denoisers for Gaussian data, DDPM's
// sample statistics, PyTorch re-implementations of each update), seeds,
// errors that name the step, and guidance.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "support.hpp"

#include <vgt/diffusion/all.hpp>
#include <vgt/io/npy.hpp>

namespace vgt::test::sampling_test {

using namespace vgt::diffusion;

namespace {

Tensor golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/diffusion/" + name + ".npy");
}

/// The level the model is at, from the time it is told: a timestep of
/// `schedule`, or (schedule == nullptr) a flow time.
NoiseLevel level_at(const NoiseSchedule* schedule, const Tensor& time) {
    const double t = time.to_vector<double>().front();
    return schedule ? schedule->level(static_cast<std::int64_t>(t)) : flow_level(t);
}

/// The perfect model when the data is the single point x0*: it knows x0
/// exactly, so ε = (x_t − α·x0*)/σ, and outputs both as `objective`.
Denoiser oracle(const Tensor& x0_star, Objective objective, const NoiseSchedule* schedule) {
    return [=](const Tensor& x_t, const Tensor& time) {
        const NoiseLevel l = level_at(schedule, time);
        const Tensor eps = div(sub(x_t, mul(x0_star, l.alpha)), l.sigma);
        return model_output(objective, Prediction{x0_star, eps}, l);
    };
}

/// Data x0 ~ N(mu, s²) per element: E[x0 | x_t] = mu + α s²/(α² s² + σ²)·(x_t − α mu).
double gaussian_x0(double x, NoiseLevel l, double mu, double s) {
    return mu + l.alpha * s * s / (l.alpha * l.alpha * s * s + l.sigma * l.sigma) * (x - l.alpha * mu);
}

/// The exact (posterior-mean) denoiser of Gaussian data, as an epsilon model.
Denoiser gaussian_denoiser(double mu, double s, const NoiseSchedule* schedule) {
    return [=](const Tensor& x_t, const Tensor& time) {
        const NoiseLevel l = level_at(schedule, time);
        const Tensor x0 = add(mul(x_t, l.alpha * s * s / (l.alpha * l.alpha * s * s + l.sigma * l.sigma)),
                              mu - l.alpha * mu * l.alpha * s * s / (l.alpha * l.alpha * s * s + l.sigma * l.sigma));
        return div(sub(x_t, mul(x0, l.alpha)), l.sigma);
    };
}

/// A model whose call k returns outputs[k], whatever its input.
Denoiser replay(std::vector<Tensor> outputs) {
    auto calls = std::make_shared<std::size_t>(0);
    return [outputs, calls](const Tensor&, const Tensor&) {
        REQUIRE(*calls < outputs.size());
        return outputs[(*calls)++];
    };
}

/// Some smooth model that is not an oracle: 0.8·tanh(x) + 0.0003·t.
Tensor smooth_model(const Tensor& x_t, const Tensor& time) {
    Shape column{x_t.size(0)};
    for (int d = 1; d < x_t.rank(); ++d) column.push_back(1);
    return add(mul(tanh(x_t), 0.8), mul(reshape(time, column), 0.0003));
}

}  // namespace

TEST_CASE("Sampling grids", "[diffusion][grid]") {
    SECTION("trailing spacing starts at N - 1 and rounds half to even") {
        CHECK(trailing_timesteps(1000, 10) == std::vector<std::int64_t>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99});
        CHECK(trailing_timesteps(1000, 1) == std::vector<std::int64_t>{999});
        CHECK(trailing_timesteps(10, 10) == std::vector<std::int64_t>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
        // 1000 − 62.5·i: 937.5 → 938, 812.5 → 812 (NumPy's rounding).
        const auto sixteen = trailing_timesteps(1000, 16);
        CHECK(sixteen[1] == 937);
        CHECK(sixteen[3] == 811);
    }
    SECTION("a timestep grid ends at the clean point") {
        const NoiseSchedule s = NoiseSchedule::linear();
        const SamplingGrid g = timestep_grid(s, 4);
        REQUIRE(g.size() == 5);
        CHECK(g[0].time == 999);
        CHECK(g[0].level.alpha == s.level(999).alpha);
        CHECK(g[4].time == kCleanTimestep);
        CHECK(g[4].level.alpha == 1.0);
        CHECK(g[4].level.sigma == 0.0);
    }
    SECTION("a flow grid walks t from 1 to 0") {
        const SamplingGrid g = flow_grid(4);
        REQUIRE(g.size() == 5);
        for (std::size_t i = 0; i < 5; ++i) {
            CHECK(g[i].time == 1.0 - 0.25 * static_cast<double>(i));
            CHECK(g[i].level.sigma == g[i].time);
            CHECK(g[i].level.alpha == 1.0 - g[i].time);
        }
    }
    SECTION("errors") {
        const NoiseSchedule s = NoiseSchedule::linear();
        CHECK_THROWS_WITH(timestep_grid(s, 0), Catch::Contains("expected at least 1 sampling step, found 0"));
        CHECK_THROWS_WITH(timestep_grid(s, 1001), Catch::Contains("at most 1000 sampling steps"));
        const std::vector<std::int64_t> out_of_range = {999, 1000}, rising = {500, 600}, negative = {10, -1};
        CHECK_THROWS_WITH(timestep_grid(s, out_of_range),
                          Catch::Contains("expected timesteps in [0, 999], found 1000 at position 1"));
        CHECK_THROWS_WITH(timestep_grid(s, rising), Catch::Contains("strictly decreasing timesteps, found 600 after 500"));
        CHECK_THROWS_WITH(timestep_grid(s, negative), Catch::Contains("found -1 at position 1"));
        CHECK_THROWS_WITH(flow_grid(0), Catch::Contains("at least 1 sampling step"));
        const std::vector<double> zero = {1.0, 0.0};
        CHECK_THROWS_WITH(flow_grid(zero), Catch::Contains("flow times in (0, 1], found 0 at position 1"));
        CHECK_THROWS_WITH(check_grid(SamplingGrid{{kCleanTimestep, NoiseLevel{1.0, 0.0}}}, "ddim"),
                          Catch::Contains("at least 2 points"));
        CHECK_THROWS_WITH(check_grid(SamplingGrid{{5, s.level(5)}, {7, s.level(7)}, {-1, NoiseLevel{}}}, "ddim"),
                          Catch::Contains("expected noise to decrease"));
        CHECK_THROWS_WITH(check_grid(SamplingGrid{{5, s.level(5)}, {3, s.level(3)}}, "ddim"),
                          Catch::Contains("clean last point"));
    }
}

TEST_CASE("Samplers land on the data point under an oracle denoiser", "[diffusion][sampler]") {
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const Tensor x0_star = test::random(Shape{2, 3, 4}, 21, -1.5, 1.5);
    const Tensor noise = randn(x0_star.shape(), *std::make_unique<Generator>(22), DType::Float64);
    struct Case {
        SamplerKind kind;
        double eta;
    };
    const std::vector<Case> cases = {{SamplerKind::ddpm, 0.0},
                                     {SamplerKind::ddim, 0.0},
                                     {SamplerKind::ddim, 1.0},
                                     {SamplerKind::ddim, 0.4},
                                     {SamplerKind::dpm_solver_pp_2m, 0.0}};
    for (const Case& c : cases) {
        for (const Objective objective : all_objectives()) {
            for (const int steps : {1, 2, 7, 50}) {
                INFO(sampler_name(c.kind) << " eta " << c.eta << ", " << objective_name(objective) << ", " << steps
                                          << " steps on the linear schedule");
                Generator gen(3);
                const Tensor x = sample(oracle(x0_star, objective, &schedule), noise, timestep_grid(schedule, steps),
                                        {c.kind, objective, c.eta}, gen);
                CHECK(test::max_abs_difference(x, x0_star) < 1e-10);
            }
        }
    }
    // Every sampler on a flow grid; an epsilon output says nothing about x0 at t = 1.
    for (const SamplerKind kind : all_sampler_kinds()) {
        for (const Objective objective : {Objective::flow, Objective::v, Objective::x0}) {
            for (const int steps : {1, 3, 25}) {
                INFO(sampler_name(kind) << ", " << objective_name(objective) << ", " << steps << " flow steps");
                Generator gen(3);
                const Tensor x =
                    sample(oracle(x0_star, objective, nullptr), noise, flow_grid(steps), {kind, objective, 0.0}, gen);
                CHECK(test::max_abs_difference(x, x0_star) < 1e-10);
            }
        }
    }
    SECTION("float32 lands to float precision") {
        const Tensor x32 = to(x0_star, DType::Float32);
        for (const SamplerKind kind : {SamplerKind::ddim, SamplerKind::dpm_solver_pp_2m, SamplerKind::ddpm}) {
            Generator gen(3);
            const Tensor x = sample(oracle(x32, Objective::epsilon, &schedule), to(noise, DType::Float32),
                                    timestep_grid(schedule, 20), {kind, Objective::epsilon, 0.0}, gen);
            CHECK(x.dtype() == DType::Float32);
            CHECK(test::max_abs_difference(x, x32) < 1e-4);
        }
        Generator gen(3);
        const Tensor x =
            sample(oracle(x32, Objective::flow, nullptr), to(noise, DType::Float32), flow_grid(20),
                   {SamplerKind::euler, Objective::flow, 0.0}, gen);
        CHECK(test::max_abs_difference(x, x32) < 1e-5);
    }
}

TEST_CASE("One DDIM and one DPM-Solver++ step on Gaussian data match hand-computed values", "[diffusion][sampler]") {
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const double mu = 0.6, s = 0.4;
    const Denoiser model = gaussian_denoiser(mu, s, &schedule);
    const std::vector<double> xs = {-1.3, 0.2, 2.1};
    const Tensor x = Tensor::from_vector(xs, Shape{3, 1, 1});

    // From t = 900 to 600, then 600 to 300: the exact x0 at each point, then the updates written out.
    const NoiseLevel l900 = schedule.level(900), l600 = schedule.level(600), l300 = schedule.level(300);
    const auto lam = [](NoiseLevel l) { return std::log(l.alpha / l.sigma); };
    std::vector<double> ddim1, dpm1, dpm2;
    for (double v : xs) {
        const double m900 = gaussian_x0(v, l900, mu, s);
        // DDIM, η = 0: x_s = α_s·x̂0 + σ_s·ε̂, ε̂ = (x − α_t x̂0)/σ_t.
        ddim1.push_back(l600.alpha * m900 + l600.sigma * (v - l900.alpha * m900) / l900.sigma);
        // DPM-Solver++ first order: (σ_s/σ_t)·x − α_s·(e^{−h} − 1)·x̂0.
        const double h1 = lam(l600) - lam(l900);
        const double x1 = l600.sigma / l900.sigma * v - l600.alpha * (std::exp(-h1) - 1) * m900;
        dpm1.push_back(x1);
        // Second order: D = (1 + 1/2r)·x̂0(600) − 1/2r·x̂0(900), r = h_prev/h.
        const double m600 = gaussian_x0(x1, l600, mu, s);
        const double h2 = lam(l300) - lam(l600), r = h1 / h2;
        const double d = (1 + 1 / (2 * r)) * m600 - 1 / (2 * r) * m900;
        dpm2.push_back(l300.sigma / l600.sigma * x1 - l300.alpha * (std::exp(-h2) - 1) * d);
    }
    const auto at = [&](std::int64_t t, const Tensor& xt) {
        return predict(Objective::epsilon, model(xt, Tensor::full(Shape{xt.size(0)}, static_cast<double>(t), DType::Float64)), xt,
                       schedule.level(t));
    };
    const Prediction p900 = at(900, x);
    const Tensor ddim_x = ddim_step(p900, l900, l600, 0.0, Tensor());
    CHECK(test::max_abs_difference(ddim_x, Tensor::from_vector(ddim1, x.shape())) < 1e-13);
    const Tensor dpm_x1 = dpm_solver_pp_2m_step(x, p900.x0, l900, l600);
    CHECK(test::max_abs_difference(dpm_x1, Tensor::from_vector(dpm1, x.shape())) < 1e-13);
    // DPM-Solver++'s first-order update is DDIM's.
    CHECK(test::max_abs_difference(dpm_x1, ddim_x) < 1e-13);
    const Tensor dpm_x2 = dpm_solver_pp_2m_step(dpm_x1, at(600, dpm_x1).x0, l600, l300, p900.x0, l900);
    CHECK(test::max_abs_difference(dpm_x2, Tensor::from_vector(dpm2, x.shape())) < 1e-13);

    // The sampler loop on the grid 900, 600, 300, clean takes these steps,
    // then returns the last prediction of x0; it draws no numbers.
    const std::vector<std::int64_t> timesteps = {900, 600, 300};
    Generator gen(1);
    const Tensor out = sample(model, x, timestep_grid(schedule, timesteps), {SamplerKind::dpm_solver_pp_2m}, gen);
    std::vector<double> expected;
    for (double v : dpm2) expected.push_back(gaussian_x0(v, l300, mu, s));
    CHECK(test::max_abs_difference(out, Tensor::from_vector(expected, x.shape())) < 1e-13);
    CHECK(gen.offset() == 0);
    // Deterministic: the same noise maps to the same sample.
    CHECK(test::max_abs_difference(sample(model, x, timestep_grid(schedule, timesteps), {SamplerKind::dpm_solver_pp_2m}, gen), out) ==
          0.0);
}

TEST_CASE("Deterministic samplers converge to the exact probability-flow map of Gaussian data",
          "[diffusion][sampler]") {
    // For x0 ~ N(mu, s²) the probability-flow ODE between two levels is affine,
    // x_s = α_s mu + √(α_s² s² + σ_s²)/√(α_t² s² + σ_t²)·(x_t − α_t mu), and
    // both samplers end with the exact x̂0 at the grid's last noisy point. So
    // the reference is the exact flow to that point, then its x̂0; the
    // difference is the solvers' own error.
    const double mu = -0.3, s = 0.7;
    const std::vector<double> xs = {-2.0, -0.5, 0.4, 1.7};
    const Tensor x = Tensor::from_vector(xs, Shape{4, 1, 1});
    const auto spread = [&](NoiseLevel l) { return std::sqrt(l.alpha * l.alpha * s * s + l.sigma * l.sigma); };
    const auto errors = [&](const SamplingGrid& grid, const Denoiser& model) {
        const NoiseLevel top = grid.front().level, last = grid[grid.size() - 2].level;
        std::vector<double> reference;
        for (double v : xs)
            reference.push_back(gaussian_x0(last.alpha * mu + spread(last) / spread(top) * (v - top.alpha * mu), last, mu, s));
        const Tensor expected = Tensor::from_vector(reference, x.shape());
        Generator gen(0);
        return std::pair{test::max_abs_difference(sample(model, x, grid, {SamplerKind::ddim}, gen), expected),
                         test::max_abs_difference(sample(model, x, grid, {SamplerKind::dpm_solver_pp_2m}, gen), expected)};
    };

    SECTION("steps uniform in lambda: first order for DDIM, second order for DPM-Solver++(2M)") {
        // A variance-preserving grid given by λ itself (the model is told λ).
        const auto level_of = [](double lambda) {
            const double alpha = std::sqrt(1.0 / (1.0 + std::exp(-2.0 * lambda)));
            return NoiseLevel{alpha, std::sqrt(1.0 - alpha * alpha)};
        };
        const Denoiser model = [&](const Tensor& x_t, const Tensor& time) {
            const NoiseLevel l = level_of(time.to_vector<double>().front());
            std::vector<double> eps;
            for (double v : x_t.to_vector<double>()) eps.push_back((v - l.alpha * gaussian_x0(v, l, mu, s)) / l.sigma);
            return Tensor::from_vector(eps, x_t.shape());
        };
        std::vector<double> ddim, dpm;
        for (const int steps : {20, 40, 80, 160}) {
            SamplingGrid grid;
            for (int i = 0; i <= steps; ++i) {
                const double lambda = -2.7 + 5.3 * static_cast<double>(i) / static_cast<double>(steps);
                grid.push_back({lambda, level_of(lambda)});
            }
            grid.push_back({0.0, NoiseLevel{1.0, 0.0}});
            const auto [e_ddim, e_dpm] = errors(grid, model);
            ddim.push_back(e_ddim);
            dpm.push_back(e_dpm);
        }
        for (std::size_t i = 1; i < ddim.size(); ++i) {
            const double ddim_ratio = ddim[i - 1] / ddim[i], dpm_ratio = dpm[i - 1] / dpm[i];
            INFO("errors DDIM " << ddim[i] << ", DPM-Solver++(2M) " << dpm[i] << "; halving the step divides them by "
                                << ddim_ratio << " and " << dpm_ratio);
            CHECK(dpm[i] < ddim[i]);
            CHECK((ddim_ratio > 1.8 && ddim_ratio < 2.2));
            CHECK((dpm_ratio > 3.5 && dpm_ratio < 4.5));
        }
    }
    SECTION("the trailing timestep grid of a real schedule: DPM-Solver++(2M) is the more accurate") {
        const NoiseSchedule schedule = NoiseSchedule::scaled_linear();
        for (const int steps : {10, 20, 40, 80}) {
            const auto [e_ddim, e_dpm] = errors(timestep_grid(schedule, steps), gaussian_denoiser(mu, s, &schedule));
            INFO(steps << " steps: DDIM error " << e_ddim << ", DPM-Solver++(2M) error " << e_dpm);
            CHECK(e_dpm < 0.2 * e_ddim);
            CHECK(e_dpm < 0.01);
        }
    }
}

TEST_CASE("DDIM with eta = 1 takes DDPM's step; Euler is DDIM on a flow grid", "[diffusion][sampler]") {
    // Linear, not cosine: at cosine's t = 999 (alpha ~ 5e-5) converting ε to x0
    // amplifies rounding beyond the 1e-12 this compares to.
    const NoiseSchedule schedule = NoiseSchedule::linear();
    Generator noise_gen(8);
    const Tensor noise = randn(Shape{3, 2, 2}, noise_gen, DType::Float64);
    for (const int steps : {1, 5, 30}) {
        Generator a(4), b(4);
        const Tensor ddpm = sample(smooth_model, noise, timestep_grid(schedule, steps), {SamplerKind::ddpm}, a);
        const Tensor ddim = sample(smooth_model, noise, timestep_grid(schedule, steps), {SamplerKind::ddim, Objective::epsilon, 1.0}, b);
        INFO(steps << " steps: |ddpm - ddim| = " << test::max_abs_difference(ddpm, ddim));
        CHECK(test::max_abs_difference(ddpm, ddim) < 1e-12);
        CHECK(a.offset() == b.offset());
        CHECK(a.offset() == static_cast<std::uint64_t>(12 * (steps - 1)));  // noise at every step but the last
    }
    for (const int steps : {1, 4, 16}) {
        Generator gen(0);
        const Tensor euler = sample(smooth_model, noise, flow_grid(steps), {SamplerKind::euler, Objective::flow}, gen);
        const Tensor ddim = sample(smooth_model, noise, flow_grid(steps), {SamplerKind::ddim, Objective::flow}, gen);
        CHECK(test::max_abs_difference(euler, ddim) < 1e-12);
        CHECK(gen.offset() == 0);
    }
}

TEST_CASE("DDPM samples have the statistics of the exact ancestral chain and the target", "[diffusion][sampler]") {
    // With the exact denoiser of x0 ~ N(mu, s²), each DDPM step is
    // x_s = a·x_t + b + c·z: the sample stays Gaussian with a mean and
    // variance that the recursion gives exactly, close to (mu, s²).
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const double mu = 0.7, s = 0.5;
    const std::int64_t n = 20000;
    for (const int steps : {1000, 50}) {
        INFO(steps << " steps");
        const SamplingGrid grid = timestep_grid(schedule, steps);
        const NoiseLevel top = grid[0].level;
        // Start from the exact marginal N(α mu, α² s² + σ²) at t = 999.
        double mean = top.alpha * mu, var = top.alpha * top.alpha * s * s + top.sigma * top.sigma;
        Generator gen(100);
        const Tensor start = add(mul(randn(Shape{n, 1}, gen, DType::Float64), std::sqrt(var)), mean);
        for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
            const NoiseLevel l = grid[i].level;
            const Posterior p = posterior(l, grid[i + 1].level);
            const double k = l.alpha * s * s / (l.alpha * l.alpha * s * s + l.sigma * l.sigma);
            const double a = p.x_t_coef + p.x0_coef * k;
            mean = a * mean + p.x0_coef * (mu - k * l.alpha * mu);
            var = a * a * var + p.variance;
        }
        const Tensor x = sample(gaussian_denoiser(mu, s, &schedule), start, grid, {SamplerKind::ddpm}, gen);
        const auto v = x.to_vector<double>();
        double m = 0, q = 0;
        for (double e : v) m += e / static_cast<double>(n);
        for (double e : v) q += (e - m) * (e - m) / static_cast<double>(n - 1);
        INFO("recursion mean " << mean << " var " << var << "; samples mean " << m << " var " << q);
        CHECK(std::abs(m - mean) < 4 * std::sqrt(var / static_cast<double>(n)));
        CHECK(std::abs(q - var) < 4 * var * std::sqrt(2.0 / static_cast<double>(n - 1)));
        if (steps == 1000) {
            // Every timestep: the samples match the target within sampling error.
            CHECK(std::abs(m - mu) < 4 * s / std::sqrt(static_cast<double>(n)));
            CHECK(std::abs(q - s * s) < 4 * s * s * std::sqrt(2.0 / static_cast<double>(n - 1)));
        } else {
            // Coarse steps keep the mean but shrink the variance: each step
            // plugs in E[x0 | x_t] and drops Var[x0 | x_t].
            CHECK(std::abs(mean - mu) < 1e-3);
            CHECK(var < 0.9 * s * s);
        }
    }
}

TEST_CASE("Sampler updates match PyTorch re-implementations of the published steps", "[diffusion][sampler][golden]") {
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const Tensor x = golden("step_x"), out = golden("step_out"), out2 = golden("step_out2"), z = golden("step_noise");
    const auto level = [&](std::int64_t t) { return schedule.level(t); };
    const double tol = 1e-12;

    SECTION("DDPM, epsilon, 600 -> 400 and x0, 500 -> 499") {
        const Prediction p = predict(Objective::epsilon, out, x, level(600));
        CHECK(test::max_abs_difference(ddpm_step(x, p.x0, level(600), level(400), z), golden("step_ddpm_eps_600_400")) < tol);
        CHECK(test::max_abs_difference(ddpm_step(x, out, level(500), level(499), z), golden("step_ddpm_x0_500_499")) < tol);
    }
    SECTION("DDIM, v with eta 0 and epsilon with eta 0.5") {
        CHECK(test::max_abs_difference(ddim_step(predict(Objective::v, out, x, level(600)), level(600), level(400), 0.0, Tensor()),
                           golden("step_ddim_v_eta0_600_400")) < tol);
        CHECK(test::max_abs_difference(ddim_step(predict(Objective::epsilon, out, x, level(800)), level(800), level(300), 0.5, z),
                           golden("step_ddim_eps_eta05_800_300")) < tol);
    }
    SECTION("DPM-Solver++(2M): a first-order step, then a second-order one") {
        const Tensor m0 = predict(Objective::epsilon, out, x, level(900)).x0;
        const Tensor x1 = dpm_solver_pp_2m_step(x, m0, level(900), level(600));
        CHECK(test::max_abs_difference(x1, golden("step_dpmpp_first_900_600")) < tol);
        const Tensor m1 = predict(Objective::epsilon, out2, x1, level(600)).x0;
        CHECK(test::max_abs_difference(dpm_solver_pp_2m_step(x1, m1, level(600), level(300), m0, level(900)),
                           golden("step_dpmpp_second_600_300")) < tol);
    }
    SECTION("Euler on the flow ODE, 0.7 -> 0.4") {
        CHECK(test::max_abs_difference(euler_step(x, out, 0.7, 0.4), golden("step_euler_07_04")) < tol);
    }
    SECTION("three-step loops with the model's outputs supplied") {
        const Tensor x_start = golden("loop_x");
        const std::vector<Tensor> outs = {golden("loop_out0"), golden("loop_out1"), golden("loop_out2")};
        const std::vector<std::int64_t> timesteps = {900, 600, 300};
        const SamplingGrid grid = timestep_grid(schedule, timesteps);
        Generator gen(0);
        CHECK(test::max_abs_difference(sample(replay(outs), x_start, grid, {SamplerKind::ddim}, gen), golden("loop_ddim")) < tol);
        CHECK(test::max_abs_difference(sample(replay(outs), x_start, grid, {SamplerKind::dpm_solver_pp_2m}, gen),
                           golden("loop_dpmpp")) < tol);
        const std::vector<double> times = {1.0, 0.6, 0.25};
        const std::vector<Tensor> flow_outs = {golden("loop_flow_out0"), golden("loop_flow_out1"),
                                               golden("loop_flow_out2")};
        CHECK(test::max_abs_difference(sample(replay(flow_outs), x_start, flow_grid(times), {SamplerKind::euler, Objective::flow}, gen),
                           golden("loop_euler")) < tol);
    }
}

TEST_CASE("Samplers are reproducible from a seed", "[diffusion][sampler]") {
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const SamplingGrid grid = timestep_grid(schedule, 8);
    for (const SamplerOptions options :
         {SamplerOptions{SamplerKind::ddpm}, SamplerOptions{SamplerKind::ddim, Objective::epsilon, 0.7}}) {
        Generator a(5), b(5), c(6);
        const Tensor xa = sample(smooth_model, Shape{2, 3, 3}, DType::Float64, grid, options, a);
        const Tensor xb = sample(smooth_model, Shape{2, 3, 3}, DType::Float64, grid, options, b);
        const Tensor xc = sample(smooth_model, Shape{2, 3, 3}, DType::Float64, grid, options, c);
        CHECK(test::max_abs_difference(xa, xb) == 0.0);
        CHECK(test::max_abs_difference(xa, xc) > 1e-3);
        // The shape overload draws the starting noise first, then the steps' noise.
        Generator d(5);
        const Tensor noise = randn(Shape{2, 3, 3}, d, DType::Float64);
        CHECK(test::max_abs_difference(sample(smooth_model, noise, grid, options, d), xa) == 0.0);
        CHECK(a.offset() == 18 * 8);
    }
    // A float32 run draws the same numbers, rounded.
    Generator a(5), b(5);
    const Tensor x64 = sample(smooth_model, Shape{2, 3, 3}, DType::Float64, grid, {SamplerKind::ddpm}, a);
    const Tensor x32 = sample(smooth_model, Shape{2, 3, 3}, DType::Float32, grid, {SamplerKind::ddpm}, b);
    CHECK(test::max_abs_difference(x32, x64) < 1e-4);
}

TEST_CASE("Sampler errors name the step", "[diffusion][sampler][errors]") {
    const NoiseSchedule schedule = NoiseSchedule::linear();
    const Tensor x = test::random(Shape{2, 3}, 1);
    Generator gen(0);
    const SamplingGrid grid = timestep_grid(schedule, 5);  // 999, 799, 599, 399, 199

    const Denoiser nan_late = [](const Tensor& x_t, const Tensor& time) {
        return time.to_vector<double>()[0] < 650 ? mul(x_t, std::nan("")) : mul(x_t, 0.1);
    };
    for (const SamplerKind kind : {SamplerKind::ddpm, SamplerKind::ddim, SamplerKind::dpm_solver_pp_2m}) {
        const std::string name(sampler_name(kind));
        CHECK_THROWS_WITH(sample(nan_late, x, grid, {kind}, gen),
                          Catch::Contains(name + ": step 3 of 5 (time 599): expected a finite model output, found NaN"));
    }
    CHECK_THROWS_WITH(sample(nan_late, x, flow_grid(2), {SamplerKind::euler, Objective::flow}, gen),
                      Catch::Contains("euler: step 1 of 2 (time 1): expected a finite model output"));

    const Denoiser wrong_shape = [](const Tensor& x_t, const Tensor&) { return reshape(x_t, Shape{3, 2}); };
    CHECK_THROWS_WITH(sample(wrong_shape, x, grid, {SamplerKind::ddim}, gen),
                      Catch::Contains("ddim: step 1 of 5 (time 999): expected a model output Tensor(float64, [2, 3])"));
    CHECK_THROWS_WITH(sample(smooth_model, x, flow_grid(3), {SamplerKind::ddim}, gen),
                      Catch::Contains("step 1 of 3 (time 1): predict: an epsilon output gives no x0 where alpha = 0"));
    CHECK_THROWS_WITH(sample(smooth_model, x, grid, {SamplerKind::euler, Objective::flow}, gen),
                      Catch::Contains("euler: expected a rectified-flow grid"));
    CHECK_THROWS_WITH(sample(smooth_model, x, grid, {SamplerKind::ddpm, Objective::epsilon, 0.5}, gen),
                      Catch::Contains("ddpm: expected eta = 0 (eta applies to ddim only), found 0.5"));
    CHECK_THROWS_WITH(sample(smooth_model, x, grid, {SamplerKind::ddim, Objective::epsilon, 1.5}, gen),
                      Catch::Contains("expected eta in [0, 1], found 1.5"));
    CHECK_THROWS_WITH(sample(Denoiser(), x, grid, {SamplerKind::ddim}, gen), Catch::Contains("found an empty function"));
    CHECK_THROWS_WITH(sample(smooth_model, Tensor::zeros(Shape{2, 3}, DType::Int64), grid, {SamplerKind::ddim}, gen),
                      Catch::Contains("expected float32 or float64 noise, found int64"));
}

TEST_CASE("Guidance combines the three evaluations", "[diffusion][guidance]") {
    const Tensor c = test::random(Shape{2, 3}, 31), u = test::random(Shape{2, 3}, 32), pi = test::random(Shape{2, 3}, 33);
    const auto output_of = [&](Evaluation e) {
        return e == Evaluation::conditional ? c : e == Evaluation::unconditional ? u : pi;
    };
    const auto run = [&](const Guidance& g) {
        std::vector<Tensor> outs;
        for (Evaluation e : g.evaluations()) outs.push_back(output_of(e));
        return g.combine(outs);
    };
    const auto formula = [&](double w, double wt) {  // μ_π + w_t(μ − μ_π) + w(μ_c − μ)
        return add(add(pi, mul(sub(u, pi), wt)), mul(sub(c, u), w));
    };
    using E = std::vector<Evaluation>;

    SECTION("known numbers") {
        const std::vector<Tensor> three = {Tensor::full(Shape{2}, 3.0, DType::Float64), Tensor::full(Shape{2}, 1.0, DType::Float64),
                                           Tensor::full(Shape{2}, 0.5, DType::Float64)};
        CHECK(Guidance{7.5, 2.0}.combine(three).to_vector<double>() == std::vector<double>{16.5, 16.5});
        const std::vector<Tensor> two = {three[0], three[1]};
        CHECK(Guidance{7.5, 1.0}.combine(two).to_vector<double>() == std::vector<double>{16.0, 16.0});
    }
    SECTION("w = 1, w_t = 1 is the conditional output itself") {
        const Guidance g{1.0, 1.0};
        CHECK(g.evaluations() == E{Evaluation::conditional});
        CHECK(run(g).same_storage(c));
    }
    SECTION("w_t = 1 removes the mixers-off term: classifier-free guidance") {
        for (const double w : {0.5, 3.0, 7.5}) {
            const Guidance g{w, 1.0};
            CHECK(g.evaluations() == E{Evaluation::conditional, Evaluation::unconditional});
            CHECK(test::max_abs_difference(run(g), add(u, mul(sub(c, u), w))) < 1e-14);
        }
        CHECK(Guidance{0.0, 1.0}.evaluations() == E{Evaluation::unconditional});
        CHECK(run(Guidance{0.0, 1.0}).same_storage(u));
    }
    SECTION("temporal guidance needs all three, and matches the formula") {
        for (const auto& [w, wt] : std::vector<std::pair<double, double>>{{7.5, 2.0}, {1.0, 1.5}, {0.0, 3.0}, {4.0, 0.0}}) {
            const Guidance g{w, wt};
            INFO("w " << w << ", w_t " << wt);
            CHECK(test::max_abs_difference(run(g), formula(w, wt)) < 1e-13);
        }
        CHECK(Guidance{7.5, 2.0}.evaluations() ==
              E{Evaluation::conditional, Evaluation::unconditional, Evaluation::unconditional_without_mixers});
        // w_t = w: μ(∅) drops out, μ̃ = μ_π + w(μ_c − μ_π).
        CHECK(Guidance{3.0, 3.0}.evaluations() == E{Evaluation::conditional, Evaluation::unconditional_without_mixers});
        CHECK(test::max_abs_difference(run(Guidance{3.0, 3.0}), formula(3.0, 3.0)) < 1e-13);
    }
    SECTION("errors") {
        CHECK_THROWS_WITH((Guidance{std::nan(""), 1.0}.evaluations()), Catch::Contains("finite guidance weights"));
        CHECK_THROWS_WITH((Guidance{2.0, 1.0}.combine(std::vector<Tensor>{c})), Catch::Contains("expected 2 outputs"));
    }
}

TEST_CASE("Guided models batch the conditional and unconditional passes", "[diffusion][guidance]") {
    // A toy network: the condition adds 1, the temporal mixers add 0.25.
    const auto network = [](const Tensor& x, Evaluation e) {
        return add(mul(x, 0.5), (e == Evaluation::conditional ? 1.0 : 0.0) +
                                    (e == Evaluation::unconditional_without_mixers ? 0.0 : 0.25));
    };
    struct Call {
        std::int64_t rows;
        std::vector<Evaluation> blocks;
        bool mixers;
    };
    std::vector<Call> calls;
    const BatchedForward forward = [&](const Tensor& x, const Tensor& time, std::span<const Evaluation> blocks,
                                       bool mixers) {
        REQUIRE(time.size(0) == x.size(0));
        calls.push_back({x.size(0), std::vector<Evaluation>(blocks.begin(), blocks.end()), mixers});
        const std::int64_t b = x.size(0) / static_cast<std::int64_t>(blocks.size());
        std::vector<Tensor> parts;
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            CHECK(mixers == (blocks[i] != Evaluation::unconditional_without_mixers));
            parts.push_back(network(slice(x, 0, static_cast<std::int64_t>(i) * b, static_cast<std::int64_t>(i + 1) * b),
                                    blocks[i]));
        }
        return concat(parts, 0);
    };
    const Tensor x = test::random(Shape{3, 2, 2}, 41);
    const Tensor time = Tensor::full(Shape{3}, 500.0, DType::Float64);
    const Guidance g{5.0, 1.5};

    const Tensor batched = guided_denoiser(batch_by_mixers(forward), g)(x, time);
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].rows == 6);
    CHECK(calls[0].blocks == std::vector<Evaluation>{Evaluation::conditional, Evaluation::unconditional});
    CHECK(calls[0].mixers);
    CHECK(calls[1].rows == 3);
    CHECK(calls[1].blocks == std::vector<Evaluation>{Evaluation::unconditional_without_mixers});
    CHECK_FALSE(calls[1].mixers);

    const Tensor separate = guided_denoiser(
        evaluate_separately([&](const Tensor& xt, const Tensor&, Evaluation e) { return network(xt, e); }), g)(x, time);
    CHECK(test::max_abs_difference(batched, separate) < 1e-14);
    // μ̃ = μ_π + 1.5·(μ − μ_π) + 5·(μ_c − μ) = 0.5x + 1.5·0.25 + 5·1.
    CHECK(test::max_abs_difference(batched, add(mul(x, 0.5), 5.375)) < 1e-14);

    // Plain CFG is one pass over 2B; w = 1, w_t = 1 one pass over B.
    calls.clear();
    guided_denoiser(batch_by_mixers(forward), Guidance{7.5, 1.0})(x, time);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].rows == 6);
    calls.clear();
    const Tensor conditional = guided_denoiser(batch_by_mixers(forward), Guidance{})(x, time);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].rows == 3);
    CHECK(test::max_abs_difference(conditional, network(x, Evaluation::conditional)) == 0.0);

    SECTION("a guided denoiser drives any sampler") {
        const NoiseSchedule schedule = NoiseSchedule::linear();
        Generator a(1), b(1);
        const Tensor guided = sample(guided_denoiser(batch_by_mixers(forward), Guidance{}), x,
                                     timestep_grid(schedule, 4), {SamplerKind::ddpm}, a);
        const Tensor plain = sample([&](const Tensor& xt, const Tensor&) { return network(xt, Evaluation::conditional); },
                                    x, timestep_grid(schedule, 4), {SamplerKind::ddpm}, b);
        CHECK(test::max_abs_difference(guided, plain) == 0.0);
    }
    SECTION("errors") {
        const GuidedModel short_model = [&](const Tensor& xt, const Tensor&, std::span<const Evaluation>) {
            return std::vector<Tensor>{xt};
        };
        CHECK_THROWS_WITH(guided_denoiser(short_model, Guidance{2.0, 1.0})(x, time),
                          Catch::Contains("expected the model to return 2 outputs"));
        const BatchedForward halves = [](const Tensor& xb, const Tensor&, std::span<const Evaluation>, bool) {
            return slice(xb, 0, 0, 3);
        };
        CHECK_THROWS_WITH(guided_denoiser(batch_by_mixers(halves), Guidance{2.0, 1.0})(x, time),
                          Catch::Contains("expected the forward pass to return shape [6, 2, 2]"));
    }
}

}  // namespace vgt::test::sampling_test
