// AdamW: against torch.optim.AdamW (golden cases from
// tests/golden/make_optim.py), closed forms of a first step, bit-exact
// resume through a safetensors checkpoint, and the errors of loading state
// and of stepping parameters it was not made for.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "support.hpp"

#include <vgt/io/safetensors.hpp>
#include <vgt/optim/adamw.hpp>
#include <vgt/optim/lr_schedule.hpp>

namespace vgt::test::adamw_test {

using vgt::test::max_relative_error;
using vgt::test::random;

namespace {

/// Three parameters named as in the golden cases, plus a frozen one.
struct ThreeParameters {
    Tensor weight, bias, scale, frozen;

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit(nn::join_name(prefix, "weight"), weight);
        visit(nn::join_name(prefix, "bias"), bias);
        visit(nn::join_name(prefix, "scale"), scale);
        if (frozen.defined()) visit(nn::join_name(prefix, "frozen"), frozen);
    }
};

Tensor trainable_copy(const Tensor& t) {
    Tensor out = detach(clone(t));
    out.set_requires_grad(true);
    return out;
}

ThreeParameters random_parameters(DType dtype, std::uint64_t seed) {
    ThreeParameters block;
    block.weight = trainable_copy(random(Shape{4, 3}, seed, -1.0, 1.0, dtype));
    block.bias = trainable_copy(random(Shape{4}, seed + 1, -1.0, 1.0, dtype));
    block.scale = trainable_copy(random(Shape{2, 1, 3}, seed + 2, -1.0, 1.0, dtype));
    return block;
}

/// Sets a leaf's .grad() to a copy of `g` (as backward would leave it).
void set_grad(const Tensor& p, const Tensor& g) { p.impl()->grad = detach(clone(g)).impl(); }

double metadata_number(const io::SafetensorsFile& file, const std::string& key) {
    return std::stod(file.metadata.at(key));
}

double largest_magnitude(const Tensor& t) {
    double out = 0;
    for (const double v : t.to_vector<double>()) out = std::max(out, std::abs(v));
    return out;
}

Tensor int64_scalar(std::int64_t value) { return Tensor::from_vector(std::vector<std::int64_t>{value}, Shape{}); }

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() &&
           std::memcmp(contiguous(a).raw_data(), contiguous(b).raw_data(), a.nbytes()) == 0;
}

/// Random gradients for `step` on every parameter, reproducible.
void set_random_grads(ThreeParameters& block, int step) {
    std::uint64_t seed = 1000 + 10 * static_cast<std::uint64_t>(step);
    block.visit_parameters(
        [&](const std::string&, Tensor& p) { set_grad(p, random(p.shape(), seed++, -2.0, 2.0, p.dtype())); }, "");
}

}  // namespace

TEST_CASE("AdamW matches torch.optim.AdamW over a warm-up + cosine schedule", "[optim][adamw]") {
    const auto name = GENERATE(std::string("float32"), std::string("float64"), std::string("amsgrad_float32"),
                               std::string("amsgrad_float64"));
    INFO("case adamw_" << name);
    const io::SafetensorsFile golden =
        io::read_safetensors(std::string(VGT_GOLDEN_DIR) + "/optim/adamw_" + name + ".safetensors");
    const bool single = name.ends_with("float32");
    // The same operations in the same order: float32 differs from PyTorch
    // by rounding (~1e-7, fused multiply-adds in its vectorised kernels),
    // float64 in the last bits.
    const double tolerance = single ? 1e-6 : 1e-13;

    optim::AdamWOptions options;
    options.lr = metadata_number(golden, "lr");
    options.beta1 = metadata_number(golden, "beta1");
    options.beta2 = metadata_number(golden, "beta2");
    options.eps = metadata_number(golden, "eps");
    options.weight_decay = metadata_number(golden, "weight_decay");
    options.amsgrad = golden.metadata.at("amsgrad") == "true";
    optim::LRScheduleOptions schedule_options;
    schedule_options.warmup_steps = std::stoll(golden.metadata.at("warmup_steps"));
    schedule_options.total_steps = std::stoll(golden.metadata.at("total_steps"));
    schedule_options.min_lr_ratio = metadata_number(golden, "min_lr_ratio");
    const optim::WarmupCosineSchedule schedule(schedule_options);
    const int steps = std::stoi(golden.metadata.at("steps"));

    ThreeParameters block;
    block.weight = trainable_copy(golden.at("param.weight"));
    block.bias = trainable_copy(golden.at("param.bias"));
    block.scale = trainable_copy(golden.at("param.scale"));
    optim::AdamW adamw(block, options);

    const std::vector<double> lrs = golden.at("lr").to_vector<double>();
    REQUIRE(static_cast<int>(lrs.size()) == steps);
    for (int s = 0; s < steps; ++s) {
        const double lr = schedule.lr(options.lr, s);
        CHECK(std::abs(lr - lrs[static_cast<std::size_t>(s)]) <= 1e-15 * lrs[static_cast<std::size_t>(s)]);
        block.visit_parameters(
            [&](const std::string& pname, Tensor& p) {
                const std::string key = "grad." + std::to_string(s) + "." + pname;
                if (golden.contains(key))
                    set_grad(p, golden.at(key));
                else
                    p.zero_grad();
            },
            "");
        adamw.step(block, lr);
    }

    const optim::NamedTensors state = adamw.state();
    auto state_tensor = [&](const std::string& key) -> const Tensor& {
        for (const auto& [n, t] : state)
            if (n == key) return t;
        FAIL("no state tensor " << key);
        return state.front().second;
    };
    block.visit_parameters(
        [&](const std::string& pname, Tensor& p) {
            INFO("parameter " << pname);
            CHECK(max_relative_error(p, golden.at("final." + pname), 1e-3) <= tolerance);
            CHECK(adamw.step_count(pname) == golden.at("state." + pname + ".step").item<std::int64_t>());
            CHECK(state_tensor("optim." + pname + ".step").item<std::int64_t>() == adamw.step_count(pname));
            for (const std::string key : {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}) {
                const std::string golden_key = "state." + pname + "." + key;
                CHECK(golden.contains(golden_key) == (key != "max_exp_avg_sq" || options.amsgrad));
                if (!golden.contains(golden_key)) continue;
                INFO("state " << key);
                // Moments of the small gradients are ~1e-3 and ~1e-7: errors
                // relative to the tensor's largest element.
                const Tensor& expected = golden.at(golden_key);
                CHECK(max_relative_error(state_tensor("optim." + pname + "." + key), expected,
                                         largest_magnitude(expected)) <= tolerance);
            }
        },
        "");
    // The parameter without a gradient on the first two steps took two fewer.
    CHECK(adamw.step_count("scale") == steps - 2);
    CHECK(adamw.step_count("weight") == steps);
}

TEST_CASE("AdamW's first step is lr·sign(g) after decoupled decay, and decay alone without a gradient",
          "[optim][adamw]") {
    ThreeParameters block = random_parameters(DType::Float64, 1);
    const Tensor weight0 = detach(clone(block.weight));
    const Tensor bias0 = detach(clone(block.bias));
    const Tensor scale0 = detach(clone(block.scale));
    const Tensor g = random(Shape{4, 3}, 2, -3.0, 3.0);
    set_grad(block.weight, g);
    set_grad(block.bias, Tensor::zeros(Shape{4}, DType::Float64));

    optim::AdamWOptions options;
    options.eps = 0;  // m̂/√v̂ = g/|g| exactly on a first step
    options.weight_decay = 0.25;
    const double lr = 0.1;
    optim::AdamW adamw(block, options);
    options.eps = 1e-8;
    optim::AdamW adamw_eps(block, options);
    adamw.step(block, lr);

    const auto w0 = weight0.to_vector<double>(), gv = g.to_vector<double>(), w1 = block.weight.to_vector<double>();
    double worst = 0;
    for (std::size_t i = 0; i < w0.size(); ++i)
        worst = std::max(worst, std::abs(w1[i] - (w0[i] * (1 - lr * 0.25) - lr * (gv[i] > 0 ? 1.0 : -1.0))));
    CHECK(worst <= 1e-15);
    // A zero gradient with eps = 0 would be 0/0; a missing one is skipped.
    CHECK_FALSE(std::isfinite(block.bias.to_vector<double>()[0]));
    CHECK(same_bits(block.scale, scale0));
    CHECK(adamw.step_count("scale") == 0);

    // With eps > 0 a zero gradient leaves the decay alone: p·(1 − lr·λ).
    block.bias = trainable_copy(bias0);
    set_grad(block.bias, Tensor::zeros(Shape{4}, DType::Float64));
    adamw_eps.step(block, lr);
    CHECK(max_relative_error(block.bias, mul(bias0, 1 - lr * 0.25), 1e-300) <= 1e-15);
}

TEST_CASE("AdamW skips frozen parameters and keeps no state for them", "[optim][adamw]") {
    ThreeParameters block = random_parameters(DType::Float32, 3);
    block.frozen = random(Shape{5}, 9, -1.0, 1.0, DType::Float32);
    const Tensor frozen0 = detach(clone(block.frozen));
    optim::AdamW adamw(block);
    set_random_grads(block, 0);
    adamw.step(block, 1e-2);
    CHECK(same_bits(block.frozen, frozen0));
    CHECK(adamw.state().size() == 9);  // step, exp_avg, exp_avg_sq for three parameters
    CHECK_THROWS_WITH(adamw.step_count("frozen"), Catch::Contains("'frozen'"));

    // A parameter frozen after the optimiser was made: no gradient, skipped.
    block.weight.set_requires_grad(false);
    block.weight.zero_grad();
    const Tensor weight1 = detach(clone(block.weight));
    adamw.step(block, 1e-2);
    CHECK(same_bits(block.weight, weight1));
    CHECK(adamw.step_count("weight") == 1);
    CHECK(adamw.step_count("bias") == 2);
}

TEST_CASE("AdamW state saved to safetensors and loaded back resumes bit-identically", "[optim][adamw]") {
    const bool amsgrad = GENERATE(false, true);
    INFO("amsgrad " << amsgrad);
    optim::AdamWOptions options;
    options.weight_decay = 0.05;
    options.amsgrad = amsgrad;
    const optim::WarmupCosineSchedule schedule({.warmup_steps = 2, .total_steps = 8, .min_lr_ratio = 0.1});
    constexpr int total = 10, interrupted_at = 4;

    ThreeParameters straight = random_parameters(DType::Float32, 5);
    optim::AdamW straight_adamw(straight, options);
    for (int s = 0; s < total; ++s) {
        set_random_grads(straight, s);
        if (s < 3) straight.scale.zero_grad();  // step counts that differ between parameters
        straight_adamw.step(straight, schedule.lr(options.lr, s));
    }

    test::TempDir dir;
    const std::string checkpoint = dir.file("checkpoint.safetensors");
    {
        ThreeParameters first = random_parameters(DType::Float32, 5);
        optim::AdamW adamw(first, options);
        for (int s = 0; s < interrupted_at; ++s) {
            set_random_grads(first, s);
            if (s < 3) first.scale.zero_grad();
            adamw.step(first, schedule.lr(options.lr, s));
        }
        optim::NamedTensors tensors = nn::named_parameters(first, "model");
        for (auto& entry : adamw.state()) tensors.push_back(entry);
        io::write_safetensors(checkpoint, tensors);
    }
    const io::SafetensorsFile file = io::read_safetensors(checkpoint);
    ThreeParameters resumed = random_parameters(DType::Float32, 77);  // other values, overwritten by the load
    nn::load_parameters(resumed, file.tensors, "model", /*strict=*/false);
    optim::AdamW resumed_adamw(resumed, options);
    resumed_adamw.load_state(file.tensors);
    CHECK(resumed_adamw.step_count("scale") == 1);
    CHECK(resumed_adamw.step_count("weight") == interrupted_at);
    for (int s = interrupted_at; s < total; ++s) {
        set_random_grads(resumed, s);
        resumed_adamw.step(resumed, schedule.lr(options.lr, s));
    }

    CHECK(same_bits(resumed.weight, straight.weight));
    CHECK(same_bits(resumed.bias, straight.bias));
    CHECK(same_bits(resumed.scale, straight.scale));
    const optim::NamedTensors a = resumed_adamw.state(), b = straight_adamw.state();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a[i].first);
        CHECK(a[i].first == b[i].first);
        CHECK(same_bits(a[i].second, b[i].second));
    }
}

TEST_CASE("AdamW::load_state names missing, unknown and mismatched tensors and changes nothing",
          "[optim][adamw]") {
    ThreeParameters block = random_parameters(DType::Float32, 11);
    optim::AdamW adamw(block);
    set_random_grads(block, 0);
    adamw.step(block, 1e-3);
    const optim::NamedTensors saved = adamw.state("opt");
    optim::AdamW other(block);

    auto without = [&](const std::string& name) {
        optim::NamedTensors out;
        for (const auto& entry : saved)
            if (entry.first != name) out.push_back(entry);
        return out;
    };
    auto replaced = [&](const std::string& name, const Tensor& t) {
        optim::NamedTensors out = saved;
        for (auto& entry : out)
            if (entry.first == name) entry.second = t;
        return out;
    };
    CHECK_THROWS_WITH(other.load_state(without("opt.bias.exp_avg"), "opt"),
                      Catch::Contains("AdamW::load_state") && Catch::Contains("missing: 'opt.bias.exp_avg'"));
    CHECK_THROWS_WITH(other.load_state(replaced("opt.weight.exp_avg_sq", Tensor::zeros(Shape{3, 4})), "opt"),
                      Catch::Contains("'opt.weight.exp_avg_sq' (expected float32 [4, 3], found Tensor(float32, [3, 4]))"));
    CHECK_THROWS_WITH(other.load_state(replaced("opt.weight.exp_avg", Tensor::zeros(Shape{4, 3}, DType::Float64)), "opt"),
                      Catch::Contains("'opt.weight.exp_avg'") && Catch::Contains("float64"));
    CHECK_THROWS_WITH(other.load_state(replaced("opt.scale.step", Tensor::scalar(1.0)), "opt"),
                      Catch::Contains("'opt.scale.step' (expected int64 []"));
    optim::NamedTensors extra = saved;
    extra.emplace_back("opt.gone.exp_avg", Tensor::zeros(Shape{2}));
    extra.emplace_back("model.weight", Tensor::zeros(Shape{7}));  // outside the prefix: ignored
    CHECK_THROWS_WITH(other.load_state(extra, "opt"), Catch::Contains("unknown: 'opt.gone.exp_avg'") &&
                                                          !Catch::Contains("model.weight"));
    // Everything at once is one message; under another prefix nothing is found.
    CHECK_THROWS_WITH(other.load_state(saved), Catch::Contains("missing: 'optim.weight.step', 'optim.weight.exp_avg'"));
    optim::NamedTensors negative = replaced("opt.bias.step", int64_scalar(-1));
    CHECK_THROWS_WITH(other.load_state(negative, "opt"), Catch::Contains("'opt.bias.step': expected a count >= 0"));

    // The failed loads changed nothing; a good one takes everything.
    CHECK(other.step_count("weight") == 0);
    other.load_state(saved, "opt");
    CHECK(other.step_count("weight") == 1);
    const optim::NamedTensors reloaded = other.state("opt");
    for (std::size_t i = 0; i < saved.size(); ++i) CHECK(same_bits(reloaded[i].second, saved[i].second));
}

TEST_CASE("AdamW rejects bad options and parameters it was not made for", "[optim][adamw]") {
    ThreeParameters block = random_parameters(DType::Float32, 13);
    auto make = [&](auto edit) {
        optim::AdamWOptions o;
        edit(o);
        return optim::AdamW(block, o);
    };
    CHECK_THROWS_WITH(make([](auto& o) { o.lr = -1; }), Catch::Contains("AdamWOptions") && Catch::Contains("lr >= 0"));
    CHECK_THROWS_WITH(make([](auto& o) { o.beta1 = 1.0; }), Catch::Contains("beta1 in [0, 1)"));
    CHECK_THROWS_WITH(make([](auto& o) { o.beta2 = -0.1; }), Catch::Contains("beta2 in [0, 1)"));
    CHECK_THROWS_WITH(make([](auto& o) { o.eps = std::nan(""); }), Catch::Contains("eps >= 0"));
    CHECK_THROWS_WITH(make([](auto& o) { o.weight_decay = -0.1; }), Catch::Contains("weight_decay >= 0"));

    optim::AdamW adamw(block);
    set_random_grads(block, 0);
    CHECK_THROWS_WITH(adamw.step(block, -1e-3), Catch::Contains("learning rate >= 0"));
    CHECK_THROWS_WITH(adamw.step(block, std::nan("")), Catch::Contains("learning rate >= 0"));

    ThreeParameters renamed = block;
    renamed.frozen = trainable_copy(Tensor::zeros(Shape{2}));
    CHECK_THROWS_WITH(adamw.step(renamed, 1e-3), Catch::Contains("AdamW::step") && Catch::Contains("new trainable one: 'frozen'"));
    optim::NamedTensors two = optim::trainable_parameters(block);
    two.pop_back();
    CHECK_THROWS_WITH(adamw.step(two, 1e-3), Catch::Contains("expected parameter 'scale'"));
    ThreeParameters reshaped = random_parameters(DType::Float32, 13);
    reshaped.bias = trainable_copy(Tensor::zeros(Shape{5}));
    CHECK_THROWS_WITH(adamw.step(reshaped, 1e-3), Catch::Contains("parameter 'bias': expected float32 [4]"));
    ThreeParameters wrong_grad = random_parameters(DType::Float32, 13);
    set_grad(wrong_grad.bias, Tensor::zeros(Shape{4}, DType::Float64));
    CHECK_THROWS_WITH(adamw.step(wrong_grad, 1e-3), Catch::Contains("expected a gradient like the parameter"));
    optim::NamedTensors twice = optim::trainable_parameters(block);
    twice.push_back(twice.front());
    CHECK_THROWS_WITH(optim::AdamW(twice), Catch::Contains("'weight' twice"));
}

}  // namespace vgt::test::adamw_test
