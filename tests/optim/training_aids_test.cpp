// The tools around the optimiser: the warm-up + cosine schedule (closed
// forms), the EMA of weights (closed forms, swap, state), clipping by global
// norm (against torch.nn.utils.clip_grad_norm_), gradient accumulation
// (k micro-batches = one batch), dynamic loss scaling (its rules) and the
// options in JSON.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "support.hpp"

#include <nlohmann/json.hpp>
#include <vgt/io/safetensors.hpp>
#include <vgt/optim/all.hpp>

namespace vgt::test::training_aids_test {

using vgt::test::max_relative_error;
using vgt::test::random;

namespace {

struct TwoParameters {
    Tensor weight, bias;

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit(nn::join_name(prefix, "weight"), weight);
        visit(nn::join_name(prefix, "bias"), bias);
    }
};

/// Three parameters named as in the golden clipping case.
struct ThreeParameters {
    Tensor weight, bias, scale;

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit(nn::join_name(prefix, "weight"), weight);
        visit(nn::join_name(prefix, "bias"), bias);
        visit(nn::join_name(prefix, "scale"), scale);
    }
};

Tensor trainable(const Tensor& t) {
    Tensor out = detach(clone(t));
    out.set_requires_grad(true);
    return out;
}

TwoParameters two_parameters(DType dtype, std::uint64_t seed) {
    return {trainable(random(Shape{3, 2}, seed, -1.0, 1.0, dtype)), trainable(random(Shape{3}, seed + 1, -1.0, 1.0, dtype))};
}

void set_grad(const Tensor& p, const Tensor& g) { p.impl()->grad = detach(clone(g)).impl(); }

Tensor int64_scalar(std::int64_t value) { return Tensor::from_vector(std::vector<std::int64_t>{value}, Shape{}); }

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           std::memcmp(contiguous(a).raw_data(), contiguous(b).raw_data(), a.nbytes()) == 0;
}

Tensor with_value_at(Tensor t, std::int64_t index, double value) {
    Tensor out = detach(clone(t));
    if (out.dtype() == DType::Float32)
        out.data<float>()[index] = static_cast<float>(value);
    else
        out.data<double>()[index] = value;
    return out;
}

}  // namespace

// ----- learning-rate schedule ---------------------------------------------

TEST_CASE("WarmupCosineSchedule: linear warm-up, cosine to the floor, then the floor", "[optim][lr_schedule]") {
    const optim::WarmupCosineSchedule schedule({.warmup_steps = 4, .total_steps = 14, .min_lr_ratio = 0.2});
    // Warm-up: (s + 1) / W, exact.
    CHECK(schedule.factor(0) == 0.25);
    CHECK(schedule.factor(1) == 0.5);
    CHECK(schedule.factor(3) == 1.0);
    // Cosine: 1 at its start, halfway between peak and floor at its middle.
    CHECK(schedule.factor(4) == 1.0);
    CHECK(schedule.factor(9) == Approx(0.6).epsilon(1e-15));
    CHECK(schedule.factor(6) == Approx(0.2 + 0.8 * 0.5 * (1 + std::cos(std::numbers::pi * 0.2))).epsilon(1e-15));
    CHECK(schedule.factor(14) == 0.2);
    CHECK(schedule.factor(1'000'000) == 0.2);
    CHECK(schedule.lr(3e-4, 1) == 3e-4 * 0.5);
    // Non-increasing after the warm-up, never below the floor.
    for (std::int64_t s = 4; s < 20; ++s) {
        CHECK(schedule.factor(s + 1) <= schedule.factor(s));
        CHECK(schedule.factor(s) >= 0.2);
    }
    // A pure function: the same step gives the same value in any order.
    CHECK(schedule.factor(7) == optim::WarmupCosineSchedule(schedule.options()).factor(7));

    // No warm-up starts at the peak; a floor of 1 is a constant rate.
    const optim::WarmupCosineSchedule cosine({.warmup_steps = 0, .total_steps = 10, .min_lr_ratio = 0.0});
    CHECK(cosine.factor(0) == 1.0);
    CHECK(cosine.factor(5) == Approx(0.5).epsilon(1e-15));
    CHECK(cosine.factor(10) == 0.0);
    const optim::WarmupCosineSchedule constant({.warmup_steps = 2, .total_steps = 3, .min_lr_ratio = 1.0});
    for (std::int64_t s = 1; s < 10; ++s) CHECK(constant.factor(s) == 1.0);

    CHECK_THROWS_WITH(schedule.factor(-1), Catch::Contains("step index >= 0"));
    CHECK_THROWS_WITH(optim::WarmupCosineSchedule({.warmup_steps = 5, .total_steps = 5}),
                      Catch::Contains("LRScheduleOptions") && Catch::Contains("total_steps > warmup_steps"));
    CHECK_THROWS_WITH(optim::WarmupCosineSchedule({.warmup_steps = -1}), Catch::Contains("warmup_steps >= 0"));
    CHECK_THROWS_WITH(optim::WarmupCosineSchedule({.min_lr_ratio = 1.5}), Catch::Contains("min_lr_ratio in [0, 1]"));
}

// ----- EMA ----------------------------------------------------------------

TEST_CASE("Ema with a constant decay is d^n·θ0 + (1 − d)·Σ d^(n−k)·θk", "[optim][ema]") {
    TwoParameters block = two_parameters(DType::Float64, 1);
    const Tensor start = detach(clone(block.weight));
    const double d = 0.7;
    optim::Ema ema(block, {.decay = d, .warmup = false});
    CHECK(ema.next_decay() == d);

    constexpr int n = 6;
    std::vector<Tensor> thetas;
    for (int k = 1; k <= n; ++k) {
        thetas.push_back(random(Shape{3, 2}, 100 + k));
        nn::load_parameters(block, {{"weight", thetas.back()}, {"bias", random(Shape{3}, 200 + k)}});
        ema.update(block);
    }
    CHECK(ema.updates() == n);
    Tensor expected = mul(start, std::pow(d, n));
    for (int k = 1; k <= n; ++k) expected = add(expected, mul(thetas[k - 1], (1 - d) * std::pow(d, n - k)));
    CHECK(max_relative_error(ema.weights()[0].second, expected) <= 1e-14);
    CHECK(ema.weights()[0].first == "weight");
}

TEST_CASE("Ema's warm-up decay is min(decay, (1 + n)/(10 + n)), n counted from 1", "[optim][ema]") {
    TwoParameters block = two_parameters(DType::Float64, 2);
    optim::Ema ema(block, {.decay = 0.5, .warmup = true});
    std::vector<double> decays;
    const double start = block.bias.to_vector<double>()[0];
    double expected = start;
    for (int k = 1; k <= 10; ++k) {
        decays.push_back(ema.next_decay());
        const Tensor theta = random(Shape{3}, 300 + k);
        nn::load_parameters(block, {{"weight", random(Shape{3, 2}, k)}, {"bias", theta}});
        ema.update(block);
        expected = decays.back() * expected + (1 - decays.back()) * theta.to_vector<double>()[0];
    }
    CHECK(decays[0] == Approx(2.0 / 11.0).epsilon(1e-15));
    CHECK(decays[1] == Approx(3.0 / 12.0).epsilon(1e-15));
    CHECK(decays[6] == Approx(8.0 / 17.0).epsilon(1e-15));
    CHECK(decays[7] == 0.5);  // (1 + 8)/(10 + 8) reaches the decay
    CHECK(decays[9] == 0.5);
    CHECK(ema.weights()[1].second.to_vector<double>()[0] == Approx(expected).epsilon(1e-14));

    CHECK(optim::Ema(block, {.decay = 0.9999}).next_decay() == Approx(2.0 / 11.0).epsilon(1e-15));
    CHECK_THROWS_WITH(optim::Ema(block, {.decay = 1.5}), Catch::Contains("EmaOptions") && Catch::Contains("decay in [0, 1]"));
}

TEST_CASE("Ema swaps with the weights and back, copies to them, and round trips its state", "[optim][ema]") {
    TwoParameters block = two_parameters(DType::Float32, 3);
    optim::Ema ema(block, {.decay = 0.9, .warmup = false});
    nn::load_parameters(block, {{"weight", random(Shape{3, 2}, 7)}, {"bias", random(Shape{3}, 8)}});
    ema.update(block);
    const Tensor trained = detach(clone(block.weight));
    const Tensor averaged = detach(clone(ema.weights()[0].second));
    REQUIRE_FALSE(same_bits(trained, averaged));

    const Tensor handle = block.weight;  // a swap writes in place: handles stay valid
    ema.swap_with(block);
    CHECK(same_bits(block.weight, averaged));
    CHECK(same_bits(ema.weights()[0].second, trained));
    CHECK(block.weight.same_storage(handle));
    ema.swap_with(block);
    CHECK(same_bits(block.weight, trained));
    CHECK(same_bits(ema.weights()[0].second, averaged));

    TwoParameters sampler = two_parameters(DType::Float32, 4);
    ema.copy_to(sampler);
    CHECK(same_bits(sampler.weight, averaged));
    CHECK(same_bits(block.weight, trained));

    // State through safetensors: the same averages and count, then the same next update.
    test::TempDir dir;
    io::write_safetensors(dir.file("ema.safetensors"), ema.state());
    optim::Ema resumed(two_parameters(DType::Float32, 5), {.decay = 0.9, .warmup = false});
    resumed.load_state(io::read_safetensors(dir.file("ema.safetensors")).tensors);
    CHECK(resumed.updates() == 1);
    ema.update(block);
    resumed.update(block);
    CHECK(same_bits(resumed.weights()[0].second, ema.weights()[0].second));
    CHECK(same_bits(resumed.weights()[1].second, ema.weights()[1].second));

    optim::NamedTensors state = ema.state();
    CHECK(state.back().first == "ema.num_updates");
    state[1].second = Tensor::zeros(Shape{4});
    CHECK_THROWS_WITH(resumed.load_state(state),
                      Catch::Contains("Ema::load_state") && Catch::Contains("'ema.bias' (expected float32 [3]"));
    state.pop_back();
    CHECK_THROWS_WITH(resumed.load_state(state), Catch::Contains("missing: 'ema.num_updates'"));
    CHECK(resumed.updates() == 2);  // unchanged by the failed loads

    TwoParameters other = two_parameters(DType::Float64, 6);
    CHECK_THROWS_WITH(ema.copy_to(other), Catch::Contains("Ema::copy_to") && Catch::Contains("parameter 'weight'"));
}

// ----- clipping -----------------------------------------------------------

TEST_CASE("clip_grad_norm matches torch.nn.utils.clip_grad_norm_", "[optim][clip]") {
    const io::SafetensorsFile golden = io::read_safetensors(std::string(VGT_GOLDEN_DIR) + "/optim/clip_grad_norm.safetensors");
    const std::vector<double> max_norms = golden.at("max_norms").to_vector<double>();
    for (const std::string dtype : {"float32", "float64"}) {
        // PyTorch sums float32 squares in float32; vgt in double.
        const double tolerance = dtype == "float32" ? 1e-6 : 1e-14;
        for (std::size_t k = 0; k < max_norms.size(); ++k) {
            INFO(dtype << ", max_norm " << max_norms[k]);
            const DType dt = dtype == "float32" ? DType::Float32 : DType::Float64;
            ThreeParameters block{trainable(Tensor::zeros(Shape{4, 3}, dt)), trainable(Tensor::zeros(Shape{4}, dt)),
                                  trainable(Tensor::zeros(Shape{2, 1, 3}, dt))};
            block.visit_parameters(
                [&](const std::string& name, Tensor& p) { set_grad(p, golden.at(dtype + ".grad." + name)); }, "");
            const double norm = optim::clip_grad_norm(block, max_norms[k]);
            const double expected = golden.at(dtype + "." + std::to_string(k) + ".norm").item();
            CHECK(std::abs(norm - expected) <= tolerance * expected);
            double clipped_squares = 0;
            block.visit_parameters(
                [&](const std::string& name, Tensor& p) {
                    const Tensor want = golden.at(dtype + "." + std::to_string(k) + ".clipped." + name);
                    CHECK(max_relative_error(p.grad(), want, 1e-3) <= tolerance);
                    for (const double g : p.grad().to_vector<double>()) clipped_squares += g * g;
                },
                "");
            CHECK(std::sqrt(clipped_squares) <= max_norms[k] * (1 + 1e-6));
        }
    }
}

TEST_CASE("clip_grad_norm names the parameter with a non-finite gradient and leaves the gradients alone",
          "[optim][clip]") {
    TwoParameters block = two_parameters(DType::Float32, 9);
    const Tensor gw = random(Shape{3, 2}, 10, -1.0, 1.0, DType::Float32);
    const Tensor gb = with_value_at(random(Shape{3}, 11, -1.0, 1.0, DType::Float32), 1,
                                    std::numeric_limits<double>::quiet_NaN());
    set_grad(block.weight, gw);
    set_grad(block.bias, gb);
    const optim::GradNorm report = optim::grad_norm(block);
    CHECK_FALSE(report.finite());
    CHECK(report.first_non_finite == "bias");
    CHECK_THROWS_WITH(optim::clip_grad_norm(block, 1e-3),
                      Catch::Contains("clip_grad_norm") && Catch::Contains("non-finite gradient in parameter 'bias'"));
    CHECK(same_bits(block.weight.grad(), gw));

    set_grad(block.bias, with_value_at(gb, 1, std::numeric_limits<double>::infinity()));
    CHECK(optim::grad_norm(block).first_non_finite == "bias");

    // Finite gradients: the norm of the concatenation; no gradient at all: 0.
    set_grad(block.bias, Tensor::full(Shape{3}, 2.0, DType::Float32));
    set_grad(block.weight, Tensor::zeros(Shape{3, 2}, DType::Float32));
    CHECK(optim::grad_norm(block).norm == Approx(std::sqrt(12.0)).epsilon(1e-15));
    CHECK(optim::clip_grad_norm(block, 100.0) == Approx(std::sqrt(12.0)).epsilon(1e-15));
    CHECK(same_bits(block.bias.grad(), Tensor::full(Shape{3}, 2.0, DType::Float32)));  // below the limit: unchanged
    nn::zero_grad(block);
    CHECK(optim::clip_grad_norm(block, 1.0) == 0.0);
    CHECK_THROWS_WITH(optim::clip_grad_norm(block, 0.0), Catch::Contains("max_norm > 0"));
}

// ----- gradient accumulation ---------------------------------------------

TEST_CASE("k accumulated micro-batches of b give the gradient and the AdamW step of one batch of k·b",
          "[optim][accumulation]") {
    const DType dtype = GENERATE(DType::Float64, DType::Float32);
    const double tolerance = dtype == DType::Float64 ? 1e-13 : 1e-6;
    INFO(dtype_name(dtype));
    Generator gen(21);
    const nn::Linear initial(3, 2, gen, dtype);
    const Tensor x = random(Shape{8, 3}, 22, -1.0, 1.0, dtype);
    const Tensor target = random(Shape{8, 2}, 23, -1.0, 1.0, dtype);
    auto copy_of = [&](const nn::Linear& layer) {
        nn::Linear out = layer;
        out.weight = trainable(layer.weight);
        out.bias = trainable(layer.bias);
        return out;
    };

    nn::Linear whole = copy_of(initial);
    const Tensor loss = mse_loss(whole.forward(x), target);
    backward(loss);

    nn::Linear accumulated = copy_of(initial);
    set_grad(accumulated.weight, Tensor::full(Shape{2, 3}, 5.0, dtype));  // stale: cleared first
    constexpr std::int64_t k = 4, b = 2;
    const double mean_loss = optim::accumulate_gradients(accumulated, k, [&](std::int64_t i) {
        return mse_loss(accumulated.forward(slice(x, 0, i * b, (i + 1) * b)), slice(target, 0, i * b, (i + 1) * b));
    });
    CHECK(mean_loss == Approx(loss.item()).epsilon(tolerance));
    CHECK(max_relative_error(accumulated.weight.grad(), whole.weight.grad()) <= tolerance);
    CHECK(max_relative_error(accumulated.bias.grad(), whole.bias.grad()) <= tolerance);

    optim::AdamW whole_adamw(whole), accumulated_adamw(accumulated);
    whole_adamw.step(whole, 0.1);
    accumulated_adamw.step(accumulated, 0.1);
    CHECK(max_relative_error(accumulated.weight, whole.weight) <= tolerance);
    CHECK(max_relative_error(accumulated.bias, whole.bias) <= tolerance);

    // With a loss scale the gradients come out multiplied by it (exact for a power of two).
    nn::Linear scaled = copy_of(initial);
    optim::accumulate_gradients(
        scaled, k,
        [&](std::int64_t i) {
            return mse_loss(scaled.forward(slice(x, 0, i * b, (i + 1) * b)), slice(target, 0, i * b, (i + 1) * b));
        },
        1024.0);
    optim::scale_gradients(scaled, 1.0 / 1024.0);
    CHECK(max_relative_error(scaled.weight.grad(), whole.weight.grad()) <= tolerance);

    CHECK_THROWS_WITH(optim::accumulate_gradients(scaled, 0, [&](std::int64_t) { return loss; }),
                      Catch::Contains("at least one micro-batch"));
    CHECK_THROWS_WITH(optim::accumulate_gradients(scaled, 1, [&](std::int64_t) { return whole.forward(x); }),
                      Catch::Contains("micro-batch 0: expected a loss with one element"));
}

// ----- dynamic loss scaling -----------------------------------------------

TEST_CASE("DynamicLossScaler halves and skips on a non-finite gradient, grows after growth_interval good steps",
          "[optim][loss_scale]") {
    optim::DynamicLossScaler scaler(
        {.enabled = true, .initial_scale = 1024.0, .growth_factor = 2.0, .backoff_factor = 0.5, .growth_interval = 3});
    CHECK(scaler.scale() == 1024.0);
    const Tensor loss = Tensor::scalar(0.75, DType::Float32);
    CHECK(scaler.scale_loss(loss).item() == 768.0);

    TwoParameters block = two_parameters(DType::Float32, 30);
    const Tensor gw = random(Shape{3, 2}, 31, -1.0, 1.0, DType::Float32);
    auto set_scaled_grads = [&](double bad) {
        set_grad(block.weight, mul(gw, scaler.scale()));
        set_grad(block.bias, with_value_at(Tensor::full(Shape{3}, scaler.scale(), DType::Float32), 2, bad));
    };
    int optimizer_steps = 0;
    auto count_step = [&] { ++optimizer_steps; };

    // A good step: gradients divided by S exactly, the step taken, the count up.
    set_scaled_grads(1.0);
    CHECK(scaler.step(block, count_step));
    CHECK(same_bits(block.weight.grad(), gw));
    CHECK(block.bias.grad().to_vector<double>() == std::vector<double>{1.0, 1.0, 1.0 / 1024.0});
    CHECK(optimizer_steps == 1);
    CHECK(scaler.growth_tracker() == 1);

    // Inf: skipped, S halved, count reset, gradients left alone.
    set_scaled_grads(std::numeric_limits<double>::infinity());
    const Tensor before = detach(clone(block.weight.grad()));
    CHECK_FALSE(scaler.step(block, count_step));
    CHECK(optimizer_steps == 1);
    CHECK(scaler.scale() == 512.0);
    CHECK(scaler.growth_tracker() == 0);
    CHECK(same_bits(block.weight.grad(), before));
    // NaN likewise.
    set_scaled_grads(std::numeric_limits<double>::quiet_NaN());
    CHECK_FALSE(scaler.step(block, count_step));
    CHECK(scaler.scale() == 256.0);

    // Three good steps in a row double it, and the count starts again.
    for (int i = 0; i < 2; ++i) {
        set_scaled_grads(1.0);
        CHECK(scaler.step(block, count_step));
        CHECK(scaler.scale() == 256.0);
    }
    set_scaled_grads(1.0);
    CHECK(scaler.step(block, count_step));
    CHECK(scaler.scale() == 512.0);
    CHECK(scaler.growth_tracker() == 0);
    CHECK(optimizer_steps == 4);

    // State round trip, then the same future.
    optim::DynamicLossScaler resumed(scaler.options());
    scaler.update(true);
    resumed.load_state(scaler.state());
    CHECK(resumed.scale() == 512.0);
    CHECK(resumed.growth_tracker() == 1);
    optim::NamedTensors state = scaler.state();
    state[1].second = int64_scalar(3);
    CHECK_THROWS_WITH(resumed.load_state(state),
                      Catch::Contains("'loss_scaler.growth_tracker': expected a count in [0, growth_interval = 3)"));
    state[0].second = Tensor::scalar(1.0, DType::Float32);
    CHECK_THROWS_WITH(resumed.load_state(state), Catch::Contains("'loss_scaler.scale' (expected float64 []"));
}

TEST_CASE("DynamicLossScaler: growth stops at the largest finite scale; disabled it is the identity",
          "[optim][loss_scale]") {
    optim::DynamicLossScaler huge({.enabled = true, .initial_scale = 1e308, .growth_interval = 1});
    huge.update(true);
    CHECK(huge.scale() == 1e308);
    CHECK(huge.growth_tracker() == 0);

    optim::DynamicLossScaler off;
    CHECK_FALSE(off.enabled());
    CHECK(off.scale() == 1.0);
    const Tensor loss = Tensor::scalar(3.0);
    CHECK(off.scale_loss(loss).same_storage(loss));
    TwoParameters block = two_parameters(DType::Float32, 40);
    set_grad(block.bias, Tensor::full(Shape{3}, std::numeric_limits<double>::infinity(), DType::Float32));
    bool stepped = false;
    CHECK(off.step(block, [&] { stepped = true; }));
    CHECK(stepped);
    CHECK(off.scale() == 1.0);

    CHECK_THROWS_WITH(optim::DynamicLossScaler({.initial_scale = 0}), Catch::Contains("initial_scale > 0"));
    CHECK_THROWS_WITH(optim::DynamicLossScaler({.growth_factor = 1.0}), Catch::Contains("growth_factor > 1"));
    CHECK_THROWS_WITH(optim::DynamicLossScaler({.backoff_factor = 1.0}), Catch::Contains("backoff_factor in (0, 1)"));
    CHECK_THROWS_WITH(optim::DynamicLossScaler({.growth_interval = 0}), Catch::Contains("growth_interval >= 1"));
}

// ----- JSON options -------------------------------------------------------

TEST_CASE("OptimConfig reads from JSON with defaults, null switches, and errors naming the key",
          "[optim][config]") {
    const nlohmann::json j = io::parse_json_config(R"({
        "adamw": {"lr": 2e-4, "beta2": 0.99, "amsgrad": true},
        "lr_schedule": {"warmup_steps": 500, "total_steps": 20000, "min_lr_ratio": 0.1},
        "max_grad_norm": null,
        "accumulation_steps": 4,
        "ema": {"decay": 0.999},
        "loss_scale": {"enabled": true, "growth_interval": 100}
    })", "test");
    const optim::OptimConfig c = optim::optim_config_from_json(j, "optim");
    CHECK(c.adamw.lr == 2e-4);
    CHECK(c.adamw.beta1 == 0.9);  // absent: the default
    CHECK(c.adamw.beta2 == 0.99);
    CHECK(c.adamw.amsgrad);
    CHECK(c.lr_schedule.warmup_steps == 500);
    CHECK(c.lr_schedule.min_lr_ratio == 0.1);
    CHECK_FALSE(c.max_grad_norm.has_value());
    CHECK(c.accumulation_steps == 4);
    REQUIRE(c.ema.has_value());
    CHECK(c.ema->decay == 0.999);
    CHECK(c.ema->warmup);
    CHECK(c.loss_scale.enabled);
    CHECK(c.loss_scale.growth_interval == 100);

    // Defaults: clipping at 1 and an EMA; writing emits every field, and reads back the same.
    const optim::OptimConfig defaults = optim::optim_config_from_json(nlohmann::json::object());
    CHECK(defaults.max_grad_norm == 1.0);
    CHECK(defaults.ema.has_value());
    CHECK(optim::optim_config_from_json(nlohmann::json::parse(R"({"ema": null})")).ema == std::nullopt);
    const nlohmann::json written = io::options_to_json(c);
    CHECK(written["adamw"]["weight_decay"] == 0.01);
    CHECK(written["max_grad_norm"].is_null());
    CHECK(io::options_to_json(optim::optim_config_from_json(written)) == written);

    auto read = [](const char* text) { return optim::optim_config_from_json(nlohmann::json::parse(text), "optim"); };
    CHECK_THROWS_WITH(read(R"({"adamw": {"learning_rate": 1}})"),
                      Catch::Contains("'optim.adamw': unknown key 'learning_rate'"));
    CHECK_THROWS_WITH(read(R"({"adamw": {"lr": -1}})"), Catch::Contains("'optim.adamw'") && Catch::Contains("lr >= 0"));
    CHECK_THROWS_WITH(read(R"({"lr_schedule": {"total_steps": 0}})"),
                      Catch::Contains("'optim.lr_schedule'") && Catch::Contains("total_steps > warmup_steps"));
    CHECK_THROWS_WITH(read(R"({"ema": {"decay": 2}})"), Catch::Contains("'optim.ema'") && Catch::Contains("decay"));
    CHECK_THROWS_WITH(read(R"({"max_grad_norm": 0})"),
                      Catch::Contains("'optim.max_grad_norm'") && Catch::Contains("max_grad_norm > 0"));
    CHECK_THROWS_WITH(read(R"({"accumulation_steps": 0})"), Catch::Contains("'optim.accumulation_steps'"));
    CHECK_THROWS_WITH(read(R"({"loss_scale": {"backoff_factor": 2}})"),
                      Catch::Contains("'optim.loss_scale'") && Catch::Contains("backoff_factor"));
    CHECK_THROWS_WITH(read(R"({"accumulation_steps": "two"})"),
                      Catch::Contains("'optim.accumulation_steps': expected an integer"));
}

}  // namespace vgt::test::training_aids_test
