#include "support.hpp"

namespace vgt::test::join_test {

using test::random;

TEST_CASE("concat, stack, split and chunk", "[ops][join]") {
    Tensor a = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
    Tensor b = Tensor::from_vector(std::vector<double>{5, 6}, {2, 1});
    CHECK(concat({a, b}, 1).to_vector() == std::vector<double>{1, 2, 5, 3, 4, 6});
    CHECK(stack({a, a}, 0).shape() == Shape{2, 2, 2});
    CHECK(stack({a, a}, -1).to_vector() == std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4});
    auto pieces = split(random({5, 3}, 1), {2, 3}, 0);
    CHECK(pieces[1].shape() == Shape{3, 3});
    CHECK(chunk(random({2, 6}, 1), 3, 1)[2].shape() == Shape{2, 2});

    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return concat({in[0], in[1], in[0]}, 1); },
                          std::vector<Tensor>{random({2, 3, 2}, 2), random({2, 1, 2}, 3)});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return stack({in[0], in[1]}, 1); },
                          std::vector<Tensor>{random({2, 3}, 4), random({2, 3}, 5)});
    VGT_REQUIRE_GRADCHECK(
        [](const std::vector<Tensor>& in) {
            auto p = split(in[0], {1, 3}, -1);
            return concat({p[1] * 2.0, p[0]}, -1);
        },
        std::vector<Tensor>{random({2, 4}, 6)});

    CHECK_THROWS_WITH(concat({a, random({3, 1}, 1)}, 1), Catch::Contains("concat") && Catch::Contains("[3, 1]"));
    CHECK_THROWS_WITH(split(a, {1, 2}, 0), Catch::Contains("split") && Catch::Contains("3"));
    CHECK_THROWS_WITH(chunk(a, 3, 0), Catch::Contains("chunk"));
}

TEST_CASE("constant padding", "[ops][pad]") {
    Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
    Tensor p = pad(x, {1, 0, 0, 1}, -1.0);
    CHECK(p.shape() == Shape{3, 3});
    CHECK(p.to_vector() == std::vector<double>{-1, 1, 2, -1, 3, 4, -1, -1, -1});
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return pad(in[0], {2, 1, 0, 3, 1, 1}); },
                          std::vector<Tensor>{random({2, 2, 3}, 7)});
    CHECK_THROWS_WITH(pad(x, {1}), Catch::Contains("pad"));
    CHECK_THROWS_WITH(pad(x, {-1, 0}), Catch::Contains("non-negative"));
}

}  // namespace vgt::test::join_test
