#include "support.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <vgt/io/npy.hpp>
#include <vgt/ops/dropout.hpp>
#include <vgt/ops/softmax.hpp>

namespace vgt::test::softmax_test {

namespace {

Tensor golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/norm/" + name + ".npy");
}

Tensor apply_softmax(const Tensor& x, int dim, bool log) { return log ? log_softmax(x, dim) : softmax(x, dim); }

}  // namespace

TEST_CASE("softmax and log_softmax gradients match finite differences", "[ops][softmax][gradcheck]") {
    const std::vector<Tensor> inputs{test::random({2, 3, 4}, 11, -2.0, 2.0)};
    for (bool log : {false, true}) {
        for (int dim : {0, 1, -1}) {
            INFO((log ? "log_softmax" : "softmax") << " over dim " << dim);
            const auto fn = [dim, log](const std::vector<Tensor>& xs) { return apply_softmax(xs[0], dim, log); };
            VGT_REQUIRE_GRADCHECK(fn, inputs);
        }
        INFO((log ? "log_softmax" : "softmax") << " of a permuted view");
        const auto permuted = [log](const std::vector<Tensor>& xs) {
            return apply_softmax(permute(xs[0], {2, 0, 1}), 1, log);
        };
        VGT_REQUIRE_GRADCHECK(permuted, inputs);
        // A stride-0 upstream gradient (from the expand behind sum) reaches the backward.
        const auto summed = [log](const std::vector<Tensor>& xs) {
            return sum(apply_softmax(xs[0], 1, log), {1});
        };
        VGT_REQUIRE_GRADCHECK(summed, inputs);
    }
}

TEST_CASE("softmax rows sum to one and ignore a constant shift", "[ops][softmax]") {
    // Wide enough (inner 80 > one tile of 64 lines) to cover partial tiles.
    const Tensor x = test::random({3, 5, 80}, 21, -30.0, 30.0);
    for (int dim : {0, 1, 2}) {
        INFO("dim " << dim);
        const Tensor y = softmax(x, dim);
        const Tensor totals = sum(y, {dim});
        for (double t : totals.to_vector()) CHECK(t == Approx(1.0).epsilon(1e-12));
        const Tensor shifted = softmax(add(x, 1000.0), dim);
        CHECK(test::max_relative_error(shifted, y) < 1e-12);
        // log_softmax agrees with log(softmax) where softmax is not tiny.
        CHECK(test::max_relative_error(exp(log_softmax(x, dim)), y) < 1e-12);
    }
    // Large logits stay finite thanks to the max subtraction.
    const Tensor big = Tensor::from_vector(std::vector<float>{1000.0f, 1001.0f, 999.0f});
    const auto p = softmax(big, 0).to_vector();
    for (double v : p) CHECK(std::isfinite(v));
    CHECK(p[1] == Approx(1.0 / (1.0 + std::exp(-1.0) + std::exp(-2.0))).epsilon(1e-6));
    const auto lp = log_softmax(big, -1).to_vector();
    CHECK(lp[1] == Approx(-std::log(1.0 + std::exp(-1.0) + std::exp(-2.0))).epsilon(1e-6));
}

TEST_CASE("softmax weights of -inf and of far-below-max logits are exactly zero", "[ops][softmax]") {
    // A masked logit (−∞) or one 200 below the row's maximum has a weight
    // below float's smallest normal number: exactly 0, not a subnormal
    // (Eigen's vectorised exp alone gives 2.9e-39 there).
    const float inf = std::numeric_limits<float>::infinity();
    for (int width : {4, 37}) {  // both the SIMD body and its remainder
        INFO("row of " << width);
        std::vector<float> row(static_cast<std::size_t>(width), -inf);
        row[0] = 0.0f, row[1] = -200.0f, row[2] = -50.0f;
        const auto p = softmax(Tensor::from_vector(row), 0).to_vector();
        CHECK(p[0] == Approx(1.0).epsilon(1e-6));
        CHECK(p[1] == 0.0);
        CHECK(p[2] == Approx(std::exp(-50.0)).epsilon(1e-5));  // small but normal: kept
        for (std::size_t i = 3; i < p.size(); ++i) CHECK(p[i] == 0.0);
    }
}

TEST_CASE("softmax and log_softmax match PyTorch, forward and backward", "[ops][softmax][golden]") {
    for (bool log : {false, true}) {
        for (int dim : {0, 1, 2}) {
            const std::string prefix = std::string(log ? "log_softmax" : "softmax") + "_dim" + std::to_string(dim);
            INFO(prefix);
            Tensor x = golden("softmax_x");
            x.set_requires_grad();
            const Tensor y = apply_softmax(x, dim == 2 ? -1 : dim, log);
            CHECK(test::max_relative_error(y, golden(prefix + "_y")) <= 1e-5);
            backward(y, golden(prefix + "_g"));
            CHECK(test::max_relative_error(x.grad(), golden(prefix + "_dx")) <= 1e-5);
        }
    }
}

TEST_CASE("softmax rejects a dimension out of range", "[ops][softmax][errors]") {
    const Tensor x = Tensor::zeros({2, 3});
    CHECK_THROWS_WITH(softmax(x, 2), Catch::Contains("softmax") && Catch::Contains("[2, 3]"));
    CHECK_THROWS_WITH(log_softmax(x, -3), Catch::Contains("log_softmax") && Catch::Contains("[2, 3]"));
    CHECK_THROWS_WITH(softmax(Tensor::zeros({2}, DType::Int64), 0),
                      Catch::Contains("softmax") && Catch::Contains("int64"));
}

TEST_CASE("dropout keeps 1 - p of the elements, scaled to preserve the mean", "[ops][dropout]") {
    const Tensor x = Tensor::ones({200000}, DType::Float32);
    for (double p : {0.1, 0.5, 0.8}) {
        INFO("p = " << p);
        Generator gen(7);
        const auto y = dropout(x, p, gen).to_vector();
        std::int64_t dropped = 0, misscaled = 0;
        double total = 0;
        for (double v : y) {
            if (v == 0.0) ++dropped;
            else if (v != Approx(1.0 / (1.0 - p))) ++misscaled;
            total += v;
        }
        CHECK(misscaled == 0);
        const double fraction = static_cast<double>(dropped) / static_cast<double>(y.size());
        CHECK(std::abs(fraction - p) < 0.01);
        CHECK(std::abs(total / static_cast<double>(y.size()) - 1.0) < 0.02);
    }
}

TEST_CASE("dropout's mask depends only on the generator's seed and offset", "[ops][dropout]") {
    const Tensor x = test::random({4, 50}, 3, 0.5, 1.5);
    Generator a(99), b(99);
    const Tensor first = dropout(x, 0.5, a);
    CHECK(a.offset() == 200);
    CHECK(dropout(x, 0.5, b).to_vector() == first.to_vector());
    const Tensor second = dropout(x, 0.5, a);
    CHECK(second.to_vector() != first.to_vector());

    // Element i is kept exactly when uniform number first + i is at least p.
    Generator c(99, 200);
    const auto values = dropout(x, 0.5, c).to_vector();
    CHECK(values == second.to_vector());
    const auto xv = x.to_vector();
    for (std::size_t i = 0; i < values.size(); ++i) {
        const bool kept = philox_uniform(99, 200 + i) >= 0.5f;
        CHECK(values[i] == (kept ? 2.0 * xv[i] : 0.0));
    }

    // A strided view drops the same logical elements as its contiguous copy.
    Generator d(5), e(5);
    const Tensor t = transpose(x, 0, 1);
    CHECK(dropout(t, 0.3, d).to_vector() == dropout(contiguous(t), 0.3, e).to_vector());

    // The default generator restarts with manual_seed.
    manual_seed(17);
    const auto r1 = dropout(x, 0.4).to_vector();
    manual_seed(17);
    CHECK(dropout(x, 0.4).to_vector() == r1);
}

TEST_CASE("dropout is the identity outside training or at p = 0", "[ops][dropout]") {
    const Tensor x = test::random({3, 4}, 5);
    Generator gen(1);
    const Tensor eval = dropout(x, 0.5, gen, false);
    CHECK(eval.same_storage(x));
    CHECK(eval.to_vector() == x.to_vector());
    CHECK(dropout(x, 0.0, gen).to_vector() == x.to_vector());
    CHECK(gen.offset() == 0);
}

TEST_CASE("dropout's gradient uses the forward mask", "[ops][dropout][gradcheck]") {
    const std::vector<Tensor> inputs{test::random({3, 5}, 8)};
    const auto fn = [](const std::vector<Tensor>& xs) {
        Generator gen(2024);  // the same mask on every call
        return dropout(xs[0], 0.3, gen);
    };
    VGT_REQUIRE_GRADCHECK(fn, inputs);

    Tensor x = test::random({64}, 9, 1.0, 2.0);
    x.set_requires_grad();
    Generator gen(4);
    const Tensor y = dropout(x, 0.5, gen);
    backward(sum(y));
    const auto g = x.grad().to_vector();
    const auto yv = y.to_vector();
    for (std::size_t i = 0; i < g.size(); ++i) CHECK(g[i] == (yv[i] == 0.0 ? 0.0 : 2.0));
}

TEST_CASE("dropout rejects probabilities outside 0 <= p < 1", "[ops][dropout][errors]") {
    const Tensor x = Tensor::ones({2, 2});
    Generator gen(0);
    CHECK_THROWS_WITH(dropout(x, 1.0, gen), Catch::Contains("dropout") && Catch::Contains("[0, 1)") &&
                                                Catch::Contains("found 1"));
    CHECK_THROWS_WITH(dropout(x, -0.1, gen), Catch::Contains("dropout") && Catch::Contains("-0.1"));
    CHECK_THROWS_WITH(dropout(x, 1.5, gen, false), Catch::Contains("dropout"));
}

TEST_CASE("softmax gives the same bits on any thread count", "[ops][softmax][parallel]") {
    const Tensor x = test::random({40, 70, 90}, 50, -5.0, 5.0, DType::Float32);
    const Tensor g = test::random({40, 70, 90}, 51, -1.0, 1.0, DType::Float32);
    const auto run = [&](int dim, bool log) {
        Tensor leaf = clone(x);
        leaf.set_requires_grad();
        const Tensor y = apply_softmax(leaf, dim, log);
        backward(y, g);
        return std::pair{y.to_vector(), leaf.grad().to_vector()};
    };
    const int threads = num_threads();
    for (bool log : {false, true}) {
        for (int dim : {0, 1, 2}) {
            INFO((log ? "log_softmax" : "softmax") << " over dim " << dim);
            set_num_threads(1);
            const auto serial = run(dim, log);
            set_num_threads(3);
            const auto parallel = run(dim, log);
            CHECK(serial == parallel);
            // ... and agree with float64.
            Tensor x64 = to(x, DType::Float64);
            x64.set_requires_grad();
            const Tensor y64 = apply_softmax(x64, dim, log);
            backward(y64, to(g, DType::Float64));
            CHECK(test::max_relative_error(Tensor::from_vector(parallel.first, x.shape()), y64) < 1e-5);
            CHECK(test::max_relative_error(Tensor::from_vector(parallel.second, x.shape()), x64.grad()) < 1e-5);
        }
    }
    set_num_threads(threads);
}

}  // namespace vgt::test::softmax_test
