#include "support.hpp"

using namespace vgt;
using test::random;

TEST_CASE("view operations differentiate", "[ops][view]") {
    Tensor x = random({2, 3, 4}, 21);
    const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
        {"reshape", [](const Tensor& t) { return reshape(t, {4, -1}); }},
        {"flatten", [](const Tensor& t) { return flatten(t, 1); }},
        {"slice", [](const Tensor& t) { return slice(t, 2, 1, 4, 2); }},
        {"slice negative", [](const Tensor& t) { return slice(t, -2, -2, 3); }},
        {"select", [](const Tensor& t) { return select(t, 1, 2); }},
        {"permute", [](const Tensor& t) { return permute(t, {2, 0, 1}); }},
        {"transpose", [](const Tensor& t) { return transpose(t, 0, 2); }},
        {"unsqueeze+squeeze", [](const Tensor& t) { return squeeze(unsqueeze(t, -1), 3); }},
        {"reshape of a permuted view", [](const Tensor& t) { return reshape(permute(t, {1, 0, 2}), {6, 4}); }},
        {"contiguous", [](const Tensor& t) { return contiguous(transpose(t, 1, 2)); }},
        {"clone", [](const Tensor& t) { return clone(t) * 2.0; }},
    };
    for (const auto& [name, op] : ops) {
        INFO(name);
        VGT_REQUIRE_GRADCHECK([op](const std::vector<Tensor>& in) { return op(in[0]); }, std::vector<Tensor>{x});
    }
}

TEST_CASE("to() converts and carries gradients between float types", "[ops][view]") {
    Tensor x = random({3}, 22).set_requires_grad();
    Tensor y = to(x, DType::Float32);
    CHECK(y.dtype() == DType::Float32);
    backward(sum(to(y, DType::Float64) * 3.0));
    CHECK(x.grad().to_vector() == std::vector<double>{3, 3, 3});
}
