#include "support.hpp"

#include <string>
#include <vector>

#include <vgt/io/npy.hpp>
#include <vgt/ops/norm.hpp>

namespace vgt::test::norm_test {

namespace {

Tensor golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/norm/" + name + ".npy");
}

/// Per-row mean and biased variance of a [rows, n] tensor.
std::vector<std::pair<double, double>> row_moments(const Tensor& t, std::int64_t n) {
    const auto v = t.to_vector();
    std::vector<std::pair<double, double>> out;
    for (std::size_t r = 0; r * n < v.size(); ++r) {
        double m = 0, s = 0;
        for (std::int64_t i = 0; i < n; ++i) m += v[r * n + i];
        m /= static_cast<double>(n);
        for (std::int64_t i = 0; i < n; ++i) s += (v[r * n + i] - m) * (v[r * n + i] - m);
        out.emplace_back(m, s / static_cast<double>(n));
    }
    return out;
}

}  // namespace

TEST_CASE("layer_norm gradients match finite differences", "[ops][norm][gradcheck]") {
    const Tensor x = test::random({2, 3, 4}, 1, -2.0, 3.0);
    for (const Shape& shape : {Shape{4}, Shape{3, 4}}) {
        const std::vector<Tensor> affine{x, test::random(shape, 2, 0.5, 1.5), test::random(shape, 3)};
        INFO("normalised shape " << shape.str());
        const auto with_affine = [shape](const std::vector<Tensor>& xs) {
            return layer_norm(xs[0], shape, xs[1], xs[2]);
        };
        VGT_REQUIRE_GRADCHECK(with_affine, affine);
        const auto weight_only = [shape](const std::vector<Tensor>& xs) { return layer_norm(xs[0], shape, xs[1]); };
        VGT_REQUIRE_GRADCHECK(weight_only, std::vector<Tensor>(affine.begin(), affine.begin() + 2));
        const auto bias_only = [shape](const std::vector<Tensor>& xs) {
            return layer_norm(xs[0], shape, Tensor{}, xs[1]);
        };
        VGT_REQUIRE_GRADCHECK(bias_only, (std::vector<Tensor>{x, affine[2]}));
        const auto plain = [shape](const std::vector<Tensor>& xs) { return layer_norm(xs[0], shape); };
        VGT_REQUIRE_GRADCHECK(plain, std::vector<Tensor>{x});
    }
    // A strided input, and a larger eps.
    const auto permuted = [](const std::vector<Tensor>& xs) {
        return layer_norm(permute(xs[0], {1, 0, 2}), {2, 4}, xs[1], Tensor{}, 1e-2);
    };
    VGT_REQUIRE_GRADCHECK(permuted, (std::vector<Tensor>{x, test::random({2, 4}, 4)}));
}

TEST_CASE("layer_norm normalises each position to mean 0 and variance 1", "[ops][norm]") {
    // Means far larger than the spread: a one-pass variance (E[x²] − E[x]²)
    // or a float32 mean would lose it.
    for (const auto& [dtype, offset] : {std::pair{DType::Float32, 1000.0}, std::pair{DType::Float64, 1e8}}) {
        INFO(dtype_name(dtype));
        const Tensor x = test::random({5, 2, 100}, 7, offset, offset + 1.0, dtype);
        const Tensor y = layer_norm(x, {2, 100}, {}, {}, 0.0);
        for (const auto& [m, var] : row_moments(y, 200)) {
            CHECK(std::abs(m) < 1e-5);
            CHECK(var == Approx(1.0).epsilon(1e-4));
        }
    }
    // weight and bias apply per element of the normalised shape.
    const Tensor x = test::random({3, 4}, 8);
    const Tensor w = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {4});
    const Tensor b = Tensor::from_vector(std::vector<double>{0, 1, 0, -1}, {4});
    const auto plain = layer_norm(x, {4}).to_vector();
    const auto affine = layer_norm(x, {4}, w, b).to_vector();
    for (std::size_t i = 0; i < plain.size(); ++i) {
        const double wi = 1.0 + static_cast<double>(i % 4);
        const double bi = std::vector<double>{0, 1, 0, -1}[i % 4];
        CHECK(affine[i] == Approx(plain[i] * wi + bi));
    }
}

TEST_CASE("group_norm gradients match finite differences", "[ops][norm][gradcheck]") {
    const Tensor x4 = test::random({2, 4, 2, 3}, 11, -1.0, 2.0);
    for (std::int64_t groups : {1, 2, 4}) {
        INFO("groups " << groups);
        const auto fn = [groups](const std::vector<Tensor>& xs) { return group_norm(xs[0], groups, xs[1], xs[2]); };
        VGT_REQUIRE_GRADCHECK(fn, (std::vector<Tensor>{x4, test::random({4}, 12, 0.5, 1.5), test::random({4}, 13)}));
    }
    const auto plain = [](const std::vector<Tensor>& xs) { return group_norm(xs[0], 2); };
    VGT_REQUIRE_GRADCHECK(plain, std::vector<Tensor>{x4});
    const auto weight_only = [](const std::vector<Tensor>& xs) { return group_norm(xs[0], 2, xs[1]); };
    VGT_REQUIRE_GRADCHECK(weight_only, (std::vector<Tensor>{x4, test::random({4}, 14)}));
    const auto bias_only = [](const std::vector<Tensor>& xs) { return group_norm(xs[0], 4, Tensor{}, xs[1]); };
    VGT_REQUIRE_GRADCHECK(bias_only, (std::vector<Tensor>{x4, test::random({4}, 15)}));

    // [N, C, L] and [N, C, T, H, W] inputs.
    const auto three = [](const std::vector<Tensor>& xs) { return group_norm(xs[0], 2, xs[1], xs[2]); };
    VGT_REQUIRE_GRADCHECK(three, (std::vector<Tensor>{test::random({3, 4, 5}, 16), test::random({4}, 17),
                                                      test::random({4}, 18)}));
    VGT_REQUIRE_GRADCHECK(three, (std::vector<Tensor>{test::random({2, 4, 2, 2, 2}, 19), test::random({4}, 20),
                                                      test::random({4}, 21)}));
    // A strided input: channels last, viewed as [N, C, H, W].
    const auto strided = [](const std::vector<Tensor>& xs) {
        return group_norm(permute(xs[0], {0, 3, 1, 2}), 3, xs[1], xs[2]);
    };
    VGT_REQUIRE_GRADCHECK(strided, (std::vector<Tensor>{test::random({2, 2, 2, 6}, 22), test::random({6}, 23),
                                                        test::random({6}, 24)}));
}

TEST_CASE("group_norm takes statistics per sample and group", "[ops][norm]") {
    // [B·T, C, H, W]: changing one frame leaves every other frame's output unchanged.
    Tensor x = test::random({4, 6, 3, 3}, 30);
    const Tensor y = group_norm(x, 3);
    for (const auto& [m, var] : row_moments(y, 2 * 9)) {
        CHECK(std::abs(m) < 1e-12);
        CHECK(var == Approx(1.0).epsilon(1e-4));
    }
    Tensor changed = clone(x);
    select(changed, 0, 2).fill_(5.0);
    select(select(changed, 0, 2), 0, 0).fill_(-3.0);
    const Tensor y2 = group_norm(changed, 3);
    for (std::int64_t frame = 0; frame < 4; ++frame) {
        const bool same = select(y2, 0, frame).to_vector() == select(y, 0, frame).to_vector();
        CHECK(same == (frame != 2));
    }
    // Tiles of channels wider than one (span 1) and partial tiles: C = 70, groups = 1.
    const Tensor wide = test::random({3, 70, 1}, 31);
    const Tensor w = test::random({70}, 32);
    const Tensor b = test::random({70}, 33);
    const std::vector<Tensor> inputs{wide, w, b};
    const auto fn = [](const std::vector<Tensor>& xs) { return group_norm(xs[0], 1, xs[1], xs[2]); };
    GradcheckOptions options;
    VGT_REQUIRE_GRADCHECK(fn, inputs, options);
}

TEST_CASE("layer_norm and group_norm match PyTorch, forward and backward", "[ops][norm][golden]") {
    const auto run = [](const std::string& prefix, Tensor x, const auto& op) {
        INFO(prefix);
        Tensor w = golden(prefix + "_w");
        Tensor b = golden(prefix + "_b");
        x.set_requires_grad();
        w.set_requires_grad();
        b.set_requires_grad();
        const Tensor y = op(x, w, b);
        CHECK(test::max_relative_error(y, golden(prefix + "_y")) <= 1e-5);
        backward(y, golden(prefix + "_g"));
        CHECK(test::max_relative_error(x.grad(), golden(prefix + "_dx")) <= 1e-5);
        CHECK(test::max_relative_error(w.grad(), golden(prefix + "_dw")) <= 1e-5);
        CHECK(test::max_relative_error(b.grad(), golden(prefix + "_db")) <= 1e-5);
    };
    run("layer_norm_1d", golden("layer_norm_x"),
        [](const Tensor& x, const Tensor& w, const Tensor& b) { return layer_norm(x, {8}, w, b); });
    run("layer_norm_2d", golden("layer_norm_x"),
        [](const Tensor& x, const Tensor& w, const Tensor& b) { return layer_norm(x, {3, 8}, w, b); });
    run("group_norm_4d", golden("group_norm_4d_x"),
        [](const Tensor& x, const Tensor& w, const Tensor& b) { return group_norm(x, 3, w, b); });
    run("group_norm_5d", golden("group_norm_5d_x"),
        [](const Tensor& x, const Tensor& w, const Tensor& b) { return group_norm(x, 2, w, b); });
}

TEST_CASE("layer_norm and group_norm reject mismatched shapes", "[ops][norm][errors]") {
    const Tensor x = Tensor::zeros({2, 3, 4});
    CHECK_THROWS_WITH(layer_norm(x, {5}), Catch::Contains("layer_norm") && Catch::Contains("[2, 3, 4]") &&
                                              Catch::Contains("[5]"));
    CHECK_THROWS_WITH(layer_norm(x, {1, 2, 3, 4}), Catch::Contains("layer_norm") && Catch::Contains("[1, 2, 3, 4]"));
    CHECK_THROWS_WITH(layer_norm(x, {3, 4}, Tensor::ones({4})),
                      Catch::Contains("layer_norm") && Catch::Contains("weight") && Catch::Contains("[3, 4]") &&
                          Catch::Contains("[4]"));
    CHECK_THROWS_WITH(layer_norm(x, {4}, {}, Tensor::ones({4}, DType::Float64)),
                      Catch::Contains("layer_norm") && Catch::Contains("bias") && Catch::Contains("float64"));
    CHECK_THROWS_WITH(group_norm(x, 2), Catch::Contains("group_norm") && Catch::Contains("[2, 3, 4]") &&
                                            Catch::Contains("found 2"));
    CHECK_THROWS_WITH(group_norm(x, 0), Catch::Contains("group_norm") && Catch::Contains("found 0"));
    CHECK_THROWS_WITH(group_norm(Tensor::zeros({6}), 1), Catch::Contains("group_norm") && Catch::Contains("[6]"));
    CHECK_THROWS_WITH(group_norm(x, 3, Tensor::ones({4})),
                      Catch::Contains("group_norm") && Catch::Contains("weight") && Catch::Contains("[3]") &&
                          Catch::Contains("[4]"));
    CHECK_THROWS_WITH(group_norm(Tensor::zeros({2, 3, 4}, DType::Int64), 3),
                      Catch::Contains("group_norm") && Catch::Contains("int64"));
}

TEST_CASE("layer_norm and group_norm give the same bits on any thread count", "[ops][norm][parallel]") {
    // Large enough that every loop is split across threads.
    const auto run = [](const Tensor& x0, const Tensor& w0, const Tensor& g, const auto& op) {
        Tensor x = clone(x0), w = clone(w0);
        x.set_requires_grad();
        w.set_requires_grad();
        const Tensor y = op(x, w);
        backward(y, g);
        return std::vector<std::vector<double>>{y.to_vector(), x.grad().to_vector(), w.grad().to_vector()};
    };
    const Tensor x = test::random({64, 8, 130}, 40, -3.0, 5.0, DType::Float32);
    const Tensor g = test::random({64, 8, 130}, 41, -1.0, 1.0, DType::Float32);
    const Tensor lw = test::random({8, 130}, 42, 0.5, 1.5, DType::Float32);
    const Tensor gw = test::random({8}, 43, 0.5, 1.5, DType::Float32);
    const auto ln = [](const Tensor& a, const Tensor& w) { return layer_norm(a, {8, 130}, w); };
    const auto ln_last = [](const Tensor& a, const Tensor& w) { return layer_norm(a, {130}, select(w, 0, 0)); };
    const auto gn = [](const Tensor& a, const Tensor& w) { return group_norm(a, 4, w); };
    const int threads = num_threads();
    set_num_threads(1);
    const auto serial_ln = run(x, lw, g, ln);
    const auto serial_last = run(x, lw, g, ln_last);
    const auto serial_gn = run(x, gw, g, gn);
    set_num_threads(3);
    const auto parallel_ln = run(x, lw, g, ln);
    const auto parallel_last = run(x, lw, g, ln_last);
    const auto parallel_gn = run(x, gw, g, gn);
    set_num_threads(threads);
    CHECK(serial_ln == parallel_ln);
    CHECK(serial_last == parallel_last);
    CHECK(serial_gn == parallel_gn);

    // The float32 results agree with a float64 computation.
    const auto reference = run(to(x, DType::Float64), to(lw, DType::Float64), to(g, DType::Float64), ln);
    for (std::size_t k = 0; k < 3; ++k) {
        const Shape shape{static_cast<std::int64_t>(reference[k].size())};
        CHECK(test::max_relative_error(Tensor::from_vector(parallel_ln[k], shape),
                                       Tensor::from_vector(reference[k], shape)) < 1e-5);
    }
}

}  // namespace vgt::test::norm_test
