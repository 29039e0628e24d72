#include "support.hpp"

namespace vgt::test::reduce_test {

using test::random;

TEST_CASE("sum and mean over any set of dimensions", "[ops][reduce]") {
    Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
    CHECK(sum(x).item() == 21);
    CHECK(sum(x, {0}).to_vector() == std::vector<double>{5, 7, 9});
    CHECK(sum(x, {1}, true).shape() == Shape{2, 1});
    CHECK(mean(x, {-1}).to_vector() == std::vector<double>{2, 5});
    CHECK(mean(x).item() == 3.5);

    Tensor v = random({2, 3, 4}, 3);
    const std::vector<std::vector<int>> dim_sets = {{}, {0}, {1}, {2}, {0, 2}, {-1, 0}};
    for (const auto& dims : dim_sets) {
        for (bool keep : {false, true}) {
            INFO("dims " << dims.size() << " keepdim " << keep);
            VGT_REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return sum(in[0], dims, keep); },
                                  std::vector<Tensor>{v});
            VGT_REQUIRE_GRADCHECK([&](const std::vector<Tensor>& in) { return mean(in[0], dims, keep); },
                                  std::vector<Tensor>{v});
        }
    }
    CHECK_THROWS_WITH(sum(v, {3}), Catch::Contains("sum") && Catch::Contains("3"));
    CHECK_THROWS_WITH(sum(v, {1, 1}), Catch::Contains("distinct"));
}

TEST_CASE("max picks the largest element and routes its gradient", "[ops][reduce]") {
    Tensor x = Tensor::from_vector(std::vector<double>{1, 7, 3, 9, 2, 4}, {2, 3});
    CHECK(max(x, 1).to_vector() == std::vector<double>{7, 9});
    CHECK(max(x, 0, true).to_vector() == std::vector<double>{9, 7, 4});
    CHECK(argmax(x, 1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0});
    CHECK(max(x).item() == 9);
    Tensor v = random({3, 4, 2}, 9);
    for (int dim : {0, 1, 2, -1}) {
        VGT_REQUIRE_GRADCHECK([dim](const std::vector<Tensor>& in) { return max(in[0], dim); }, std::vector<Tensor>{v});
    }
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return max(in[0]); }, std::vector<Tensor>{v});
}

TEST_CASE("expand and sum_to are adjoint", "[ops][reduce]") {
    Tensor x = random({3, 1}, 4);
    Tensor e = expand(x, {2, 3, 5});
    CHECK(e.same_storage(x));
    CHECK(e.strides()[0] == 0);
    CHECK(e.strides()[2] == 0);
    VGT_REQUIRE_GRADCHECK([](const std::vector<Tensor>& in) { return expand(in[0], {2, 3, 5}); },
                          std::vector<Tensor>{x});
    CHECK(sum_to(Tensor::ones({2, 3, 5}, DType::Float64), {3, 1}).to_vector() == std::vector<double>{10, 10, 10});
    CHECK_THROWS_WITH(expand(x, {2, 2}), Catch::Contains("expand") && Catch::Contains("[2, 2]"));
}

}  // namespace vgt::test::reduce_test
