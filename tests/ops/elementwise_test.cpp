#include "support.hpp"

namespace vgt::test::elementwise_test {

using test::random;

TEST_CASE("binary arithmetic broadcasts and differentiates", "[ops][elementwise]") {
    using Binary = Tensor (*)(const Tensor&, const Tensor&);
    const std::vector<std::pair<const char*, Binary>> ops = {
        {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
        {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
        {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
        {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
    };
    // Same shape, a broadcast row, a broadcast column, leading dimensions, a scalar tensor.
    const std::vector<std::pair<Shape, Shape>> shapes = {
        {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1, 4}, {3, 1}}, {{4}, {2, 3, 4}}, {{2, 3}, {}},
    };
    for (const auto& [name, op] : ops) {
        for (const auto& [sa, sb] : shapes) {
            INFO(name << " " << sa.str() << " with " << sb.str());
            Tensor a = random(sa, 1);
            Tensor b = add(random(sb, 2, 0.5, 1.5), 0.0);  // away from 0 for div
            VGT_REQUIRE_GRADCHECK([op](const std::vector<Tensor>& in) { return op(in[0], in[1]); },
                                  std::vector<Tensor>{a, b});
        }
    }
    // Values, not only gradients.
    Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor b = Tensor::from_vector(std::vector<double>{10, 20, 30}, {3});
    CHECK((a + b).to_vector() == std::vector<double>{11, 22, 33, 14, 25, 36});
    CHECK((a * b).to_vector() == std::vector<double>{10, 40, 90, 40, 100, 180});
    CHECK((b - a).to_vector() == std::vector<double>{9, 18, 27, 6, 15, 24});
    CHECK_THROWS_WITH(add(a, Tensor::zeros({4}, DType::Float64)),
                      Catch::Contains("add") && Catch::Contains("[2, 3]") && Catch::Contains("[4]"));
    CHECK_THROWS_WITH(add(a, Tensor::zeros({3})), Catch::Contains("float64") && Catch::Contains("float32"));
}

TEST_CASE("binary ops read strided views", "[ops][elementwise]") {
    Tensor a = random({3, 4}, 3);
    Tensor at = transpose(a, 0, 1);  // [4, 3], not contiguous
    Tensor b = random({4, 3}, 4);
    Tensor expected = add(contiguous(at), b);
    CHECK(add(at, b).to_vector() == expected.to_vector());
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return mul(transpose(in[0], 0, 1), in[1]); },
                          std::vector<Tensor>{a, b});
}

TEST_CASE("scalar arithmetic and pow", "[ops][elementwise]") {
    Tensor x = random({2, 3}, 5, 0.5, 2.0);
    const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
        {"x+s", [](const Tensor& t) { return t + 1.5; }},  {"s-x", [](const Tensor& t) { return 2.0 - t; }},
        {"x*s", [](const Tensor& t) { return t * -3.0; }}, {"x/s", [](const Tensor& t) { return t / 4.0; }},
        {"s/x", [](const Tensor& t) { return 2.0 / t; }},  {"pow", [](const Tensor& t) { return pow(t, 2.5); }},
        {"square", [](const Tensor& t) { return square(t); }},
    };
    for (const auto& [name, op] : ops) {
        INFO(name);
        VGT_REQUIRE_GRADCHECK([op](const std::vector<Tensor>& in) { return op(in[0]); }, std::vector<Tensor>{x});
    }
    CHECK((2.0 / Tensor::full({1}, 4.0, DType::Float64)).item() == 0.5);
    CHECK_THROWS_WITH(div(x, 0.0), Catch::Contains("div"));
}

TEST_CASE("unary functions match their definitions and differentiate", "[ops][elementwise]") {
    struct Case {
        const char* name;
        Tensor (*op)(const Tensor&);
        double (*reference)(double);
        double low, high;
    };
    const std::vector<Case> cases = {
        {"neg", [](const Tensor& t) { return neg(t); }, [](double v) { return -v; }, -2, 2},
        {"exp", [](const Tensor& t) { return exp(t); }, [](double v) { return std::exp(v); }, -2, 2},
        {"log", [](const Tensor& t) { return log(t); }, [](double v) { return std::log(v); }, 0.2, 3},
        {"sqrt", [](const Tensor& t) { return sqrt(t); }, [](double v) { return std::sqrt(v); }, 0.2, 3},
        {"rsqrt", [](const Tensor& t) { return rsqrt(t); }, [](double v) { return 1 / std::sqrt(v); }, 0.2, 3},
        {"sigmoid", [](const Tensor& t) { return sigmoid(t); }, [](double v) { return 1 / (1 + std::exp(-v)); }, -4, 4},
        {"tanh", [](const Tensor& t) { return tanh(t); }, [](double v) { return std::tanh(v); }, -3, 3},
        {"relu", [](const Tensor& t) { return relu(t); }, [](double v) { return v > 0 ? v : 0.0; }, -2, 2},
        {"silu", [](const Tensor& t) { return silu(t); }, [](double v) { return v / (1 + std::exp(-v)); }, -4, 4},
        {"gelu", [](const Tensor& t) { return gelu(t); },
         [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }, -4, 4},
        {"abs", [](const Tensor& t) { return abs(t); }, [](double v) { return std::abs(v); }, -2, 2},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        Tensor x = random({3, 5}, 11, c.low, c.high);
        const auto got = c.op(x).to_vector();
        const auto in = x.to_vector();
        for (std::size_t i = 0; i < in.size(); ++i) REQUIRE(got[i] == Approx(c.reference(in[i])).epsilon(1e-12));
        VGT_REQUIRE_GRADCHECK([op = c.op](const std::vector<Tensor>& t) { return op(t[0]); }, std::vector<Tensor>{x});
    }
    // float32 runs the same bodies.
    Tensor xf = random({4}, 12, -1, 1, DType::Float32);
    CHECK(gelu(xf).dtype() == DType::Float32);
    CHECK_THROWS_WITH(exp(Tensor::zeros({2}, DType::Int64)), Catch::Contains("exp") && Catch::Contains("int64"));
}

TEST_CASE("exp, sigmoid, silu and tanh on contiguous CPU data take the vectorised form, equal to the scalar bodies",
          "[ops][elementwise]") {
    struct Case {
        const char* name;
        Tensor (*op)(const Tensor&);
    };
    const std::vector<Case> cases = {
        {"exp", [](const Tensor& t) { return exp(t); }},
        {"sigmoid", [](const Tensor& t) { return sigmoid(t); }},
        {"silu", [](const Tensor& t) { return silu(t); }},
        {"tanh", [](const Tensor& t) { return tanh(t); }},
    };
    set_num_threads(2);
    for (DType dtype : {DType::Float32, DType::Float64}) {
        // 300 × 190 elements: several chunks of the thread pool, and a tail.
        // exp stays below float32's overflow; the others see large magnitudes.
        for (const Case& c : cases) {
            INFO(c.name << " " << dtype_name(dtype));
            const double range = std::string(c.name) == "exp" ? 20 : 60;
            Tensor x = random({300, 190}, 31, -range, range, dtype);
            x.set_requires_grad();
            // The transposed view is not contiguous: it runs the scalar body.
            Tensor xt = transpose(detach(x), 0, 1);
            xt.set_requires_grad();
            const Tensor y = c.op(x);
            const Tensor yt = c.op(xt);
            const Tensor seed = random({300, 190}, 32, -1, 1, dtype);
            backward(y, seed);
            backward(yt, transpose(seed, 0, 1));

            const auto fast = y.to_vector(), scalar = contiguous(transpose(yt, 0, 1)).to_vector();
            const auto fast_grad = x.grad().to_vector();
            const auto scalar_grad = contiguous(transpose(xt.grad(), 0, 1)).to_vector();
            // Values agree to a few ulp. Gradients are compared absolutely: sigmoid's
            // y (1 − y) cancels where y ≈ 1, so one ulp of y is a large relative change.
            const bool single = dtype == DType::Float32;
            // Eigen's float tanh is a rational approximation within 3e-7 of
            // the exact value, libm's within 1.6e-7, and 1 − y² doubles the
            // absolute difference near saturation.
            const bool rational = single && std::string(c.name) == "tanh";
            const double tolerance = single ? (rational ? 5e-7 : 4e-7) : 1e-15;
            const double grad_margin = single ? (rational ? 1.2e-6 : 2e-7) : 1e-15;
            for (std::size_t i = 0; i < fast.size(); ++i) {
                REQUIRE(fast[i] == Approx(scalar[i]).epsilon(tolerance).margin(1e-30));
                REQUIRE(fast_grad[i] == Approx(scalar_grad[i]).epsilon(tolerance).margin(grad_margin));
            }
        }
    }
    // Overflow ends where the definitions say: exp(-x) = inf gives sigmoid 0 and silu -0.
    const Tensor big = Tensor::full({4}, -200.0, DType::Float32);
    CHECK(sigmoid(big).to_vector()[0] == 0.0);
    CHECK(silu(big).to_vector()[0] == 0.0);
    CHECK(std::isinf(exp(neg(big)).to_vector()[0]));
}

}  // namespace vgt::test::elementwise_test
