#include "support.hpp"

namespace vgt::test::tape_test {

using test::random;

TEST_CASE("a tensor used twice accumulates both gradients", "[autograd]") {
    Tensor x = Tensor::full({2}, 3.0, DType::Float64).set_requires_grad();
    Tensor y = x * x + x;  // dy/dx = 2x + 1
    backward(sum(y));
    CHECK(x.grad().to_vector() == std::vector<double>{7, 7});
    // A second graph adds to the leaf's gradient.
    backward(sum(x * 2.0));
    CHECK(x.grad().to_vector() == std::vector<double>{9, 9});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("a leaf's gradient is its own contiguous storage, never an alias of another tensor", "[autograd]") {
    // A gradient that passes through unchanged is the caller's seed: it must be copied.
    Tensor x = random({2, 3}, 4).set_requires_grad();
    Tensor seed = random({2, 3}, 5);
    backward(add(x, 1.0), seed);
    CHECK_FALSE(x.grad().same_storage(seed));
    seed.data<double>()[0] += 100.0;
    CHECK(x.grad().to_vector()[0] == seed.to_vector()[0] - 100.0);
    // A transposed view of the seed: copied, and contiguous.
    x.zero_grad();
    backward(transpose(x, 0, 1), transpose(seed, 0, 1));
    CHECK_FALSE(x.grad().same_storage(seed));
    CHECK(x.grad().is_contiguous());
    CHECK(x.grad().to_vector() == seed.to_vector());
    // A fresh gradient (which backward may hand over without a copy): still
    // not the seed's storage, contiguous and exact.
    x.zero_grad();
    backward(mul(x, 3.0), seed);
    CHECK_FALSE(x.grad().same_storage(seed));
    CHECK(x.grad().is_contiguous());
    CHECK(max_relative_error(x.grad(), mul(seed, 3.0)) == 0.0);
}

TEST_CASE("no_grad records nothing", "[autograd]") {
    Tensor x = random({3}, 1).set_requires_grad();
    {
        NoGradGuard no_grad;
        Tensor y = exp(x);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.is_leaf());
    }
    CHECK(exp(x).requires_grad());
    CHECK_THROWS_WITH(backward(sum(detach(x))), Catch::Contains("backward"));
}

TEST_CASE("backward frees the graph", "[autograd]") {
    Tensor x = random({3}, 2).set_requires_grad();
    Tensor loss = sum(tanh(x));
    std::weak_ptr<autograd::Node> node = loss.grad_fn();
    backward(loss);
    CHECK(loss.grad_fn()->inputs.empty());
    CHECK_THROWS_WITH(backward(loss), Catch::Contains("freed"));
    loss = Tensor();
    CHECK(node.expired());
}

TEST_CASE("non-scalar outputs need an explicit gradient", "[autograd]") {
    Tensor x = random({2, 2}, 3).set_requires_grad();
    Tensor y = x * 3.0;
    CHECK_THROWS_WITH(backward(y), Catch::Contains("[2, 2]"));
    backward(y, Tensor::full({2, 2}, 2.0, DType::Float64));
    CHECK(x.grad().to_vector() == std::vector<double>{6, 6, 6, 6});
}

TEST_CASE("deep graphs do not overflow the stack", "[autograd]") {
    Tensor x = Tensor::full({1}, 1.0, DType::Float64).set_requires_grad();
    Tensor y = x;
    for (int i = 0; i < 100000; ++i) y = y + 1.0;
    backward(sum(y));
    CHECK(x.grad().item() == 1.0);
}

namespace {
// A custom operation with its own backward: y = x³, dy/dx = 3x².
Tensor cube(const Tensor& x) {
    Tensor y;
    {
        NoGradGuard no_grad;
        y = x * x * x;
    }
    Tensor saved = detach(x);
    return autograd::record(y, "cube", {x}, [saved](const Tensor& g) {
        return std::vector<Tensor>{g * saved * saved * 3.0};
    });
}
}  // namespace

TEST_CASE("a custom operation plugs into the tape", "[autograd]") {
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return cube(in[0]); }, std::vector<Tensor>{random({4}, 5)});
    // gradcheck itself catches a wrong backward.
    auto wrong = [](const std::vector<Tensor>& in) {
        Tensor y;
        {
            NoGradGuard no_grad;
            y = in[0] * 2.0;
        }
        return autograd::record(y, "wrong", {in[0]}, [](const Tensor& g) { return std::vector<Tensor>{g * 3.0}; });
    };
    CHECK_FALSE(gradcheck(wrong, {random({3}, 6)}).passed);
    // A backward returning the wrong shape is reported, not silently used.
    Tensor x = random({3}, 7).set_requires_grad();
    Tensor y = clone(x);
    autograd::record(y, "bad_shape", {x}, [](const Tensor&) { return std::vector<Tensor>{Tensor::zeros({4}, DType::Float64)}; });
    Tensor z = Tensor(y.impl());
    CHECK_THROWS_WITH(backward(sum(z)), Catch::Contains("bad_shape") && Catch::Contains("[4]"));
}

}  // namespace vgt::test::tape_test
