#include "support.hpp"

namespace vgt::test::matmul_test {

using test::random;

namespace {
// Reference product by definition, in double.
std::vector<double> naive_matmul(const std::vector<double>& a, const std::vector<double>& b, std::int64_t m,
                                 std::int64_t k, std::int64_t n) {
    std::vector<double> c(static_cast<std::size_t>(m * n), 0.0);
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j)
            for (std::int64_t p = 0; p < k; ++p) c[i * n + j] += a[i * k + p] * b[p * n + j];
    return c;
}
}  // namespace

TEST_CASE("matmul computes the product, also of transposed views and large matrices", "[ops][matmul]") {
    for (auto [m, k, n] : {std::tuple<int, int, int>{3, 4, 5}, {1, 7, 1}, {130, 70, 90}}) {
        Tensor a = random({m, k}, 1), b = random({k, n}, 2);
        const auto expected = naive_matmul(a.to_vector(), b.to_vector(), m, k, n);
        const auto got = matmul(a, b).to_vector();
        for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(got[i] == Approx(expected[i]).epsilon(1e-12));
        // Aᵀᵀ read as a column-major view gives the same result.
        const auto via_views = matmul(transpose(contiguous(transpose(a, 0, 1)), 0, 1), b).to_vector();
        for (std::size_t i = 0; i < expected.size(); ++i) REQUIRE(via_views[i] == Approx(expected[i]).epsilon(1e-12));
    }
}

TEST_CASE("matmul, bmm and linear differentiate, with broadcast batches", "[ops][matmul]") {
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                          std::vector<Tensor>{random({3, 4}, 1), random({4, 2}, 2)});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                          std::vector<Tensor>{random({2, 1, 3, 4}, 3), random({3, 4, 2}, 4)});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return matmul(transpose(in[0], -1, -2), in[1]); },
                          std::vector<Tensor>{random({2, 4, 3}, 5), random({4, 2}, 6)});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return bmm(in[0], in[1]); },
                          std::vector<Tensor>{random({2, 3, 4}, 7), random({2, 4, 5}, 8)});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                          std::vector<Tensor>{random({2, 3, 4}, 9), random({5, 4}, 10), random({5}, 11)});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return linear(in[0], in[1]); },
                          std::vector<Tensor>{random({3, 4}, 12), random({2, 4}, 13)});
}

TEST_CASE("matrix products reject mismatched shapes", "[ops][matmul]") {
    CHECK_THROWS_WITH(matmul(random({2, 3}, 1), random({4, 5}, 2)),
                      Catch::Contains("matmul") && Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
    CHECK_THROWS_WITH(bmm(random({2, 3, 4}, 1), random({3, 4, 5}, 2)), Catch::Contains("bmm"));
    CHECK_THROWS_WITH(linear(random({2, 3}, 1), random({5, 4}, 2)),
                      Catch::Contains("linear") && Catch::Contains("[2, 3]"));
    CHECK_THROWS_WITH(matmul(random({2, 3}, 1), random({3}, 2)), Catch::Contains("rank >= 2"));
}

TEST_CASE("linear equals matmul plus bias on large and strided inputs, with gradients", "[ops][matmul]") {
    set_num_threads(2);
    // 3·700 rows: several chunks per thread; the input is a transposed view.
    const Tensor x = transpose(random({3, 40, 700}, 1), 1, 2);  // [3, 700, 40], not contiguous
    const Tensor w = random({24, 40}, 2), b = random({24}, 3);
    const Tensor seed = random({3, 700, 24}, 4);
    auto run = [&](bool fused, bool with_bias) {
        Tensor xi = detach(x), wi = detach(w), bi = detach(b);
        for (Tensor* t : {&xi, &wi, &bi}) t->set_requires_grad();
        Tensor y;
        if (fused) {
            y = with_bias ? linear(xi, wi, bi) : linear(xi, wi);
        } else {
            y = matmul(xi, transpose(wi, 0, 1));
            if (with_bias) y = add(y, bi);
        }
        backward(y, seed);
        return std::vector<Tensor>{y, xi.grad(), wi.grad(), with_bias ? bi.grad() : Tensor{}};
    };
    for (bool with_bias : {true, false}) {
        INFO("bias " << with_bias);
        const auto fused = run(true, with_bias), composed = run(false, with_bias);
        for (std::size_t i = 0; i < fused.size(); ++i) {
            if (!composed[i].defined()) continue;
            INFO("output, grad x, grad weight, grad bias: " << i);
            CHECK(test::max_relative_error(fused[i], composed[i]) < 1e-12);
        }
    }
    CHECK_THROWS_WITH(linear(random({2, 3}, 1), random({5, 3}, 2, -1, 1, DType::Float32)),
                      Catch::Contains("linear") && Catch::Contains("one dtype"));
}

}  // namespace vgt::test::matmul_test
