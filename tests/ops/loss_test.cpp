#include "support.hpp"

#include <cmath>
#include <string>
#include <vector>

#include <vgt/io/npy.hpp>
#include <vgt/ops/embedding.hpp>
#include <vgt/ops/loss.hpp>

namespace vgt::test::loss_test {

namespace {

Tensor golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/norm/" + name + ".npy");
}

Tensor int64s(const std::vector<std::int64_t>& values, const Shape& shape) {
    return Tensor::from_vector(values, shape);
}

const char* reduction_name(Reduction r) {
    return r == Reduction::None ? "none" : r == Reduction::Mean ? "mean" : "sum";
}

}  // namespace

TEST_CASE("mse_loss values and gradients", "[ops][loss][gradcheck]") {
    const Tensor pred = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {2, 2});
    const Tensor target = Tensor::from_vector(std::vector<double>{0, 2, 5, 1}, {2, 2});
    CHECK(mse_loss(pred, target).item() == Approx((1.0 + 0 + 4 + 9) / 4));
    CHECK(mse_loss(pred, target, Reduction::Sum).item() == Approx(14.0));
    CHECK(mse_loss(pred, target, Reduction::None).to_vector() == std::vector<double>{1, 0, 4, 9});

    const std::vector<Tensor> inputs{test::random({3, 4}, 1), test::random({3, 4}, 2)};
    for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        INFO(reduction_name(r));
        const auto fn = [r](const std::vector<Tensor>& xs) { return mse_loss(xs[0], xs[1], r); };
        VGT_REQUIRE_GRADCHECK(fn, inputs);
    }
    // A strided prediction against a contiguous target.
    const auto strided = [](const std::vector<Tensor>& xs) { return mse_loss(transpose(xs[0], 0, 1), xs[1]); };
    VGT_REQUIRE_GRADCHECK(strided, (std::vector<Tensor>{test::random({4, 3}, 3), test::random({3, 4}, 4)}));
    // Large enough for several partial sums.
    const Tensor big = Tensor::full({70000}, 3.0, DType::Float32);
    CHECK(mse_loss(big, Tensor::zeros({70000}), Reduction::Sum).item() == Approx(9.0 * 70000));
}

TEST_CASE("mse_loss rejects mismatched inputs", "[ops][loss][errors]") {
    CHECK_THROWS_WITH(mse_loss(Tensor::zeros({2, 3}), Tensor::zeros({3, 2})),
                      Catch::Contains("mse_loss") && Catch::Contains("[2, 3]") && Catch::Contains("[3, 2]"));
    CHECK_THROWS_WITH(mse_loss(Tensor::zeros({2}), Tensor::zeros({2}, DType::Float64)),
                      Catch::Contains("mse_loss") && Catch::Contains("float64"));
    CHECK_THROWS_WITH(mse_loss(Tensor::zeros({0}), Tensor::zeros({0})),
                      Catch::Contains("mse_loss") && Catch::Contains("[0]"));
}

TEST_CASE("cross_entropy gradients match finite differences", "[ops][loss][gradcheck]") {
    const Tensor logits2 = test::random({4, 5}, 5, -2.0, 2.0);
    const Tensor labels2 = int64s({3, -100, 0, 4}, {4});
    const Tensor logits4 = test::random({2, 3, 2, 2}, 6, -2.0, 2.0);
    const Tensor labels4 = int64s({0, 2, -100, 1, 1, 1, 0, -100}, {2, 2, 2});
    for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
        INFO(reduction_name(r));
        const auto fn = [r](const std::vector<Tensor>& xs) { return cross_entropy(xs[0], xs[1], -100, r); };
        VGT_REQUIRE_GRADCHECK(fn, (std::vector<Tensor>{logits2, labels2}));
        VGT_REQUIRE_GRADCHECK(fn, (std::vector<Tensor>{logits4, labels4}));
    }
    // Another ignore_index: label 2 is ignored, -100 would be out of range.
    const auto ignore_two = [](const std::vector<Tensor>& xs) { return cross_entropy(xs[0], xs[1], 2); };
    VGT_REQUIRE_GRADCHECK(ignore_two, (std::vector<Tensor>{logits2, int64s({2, 1, 2, 0}, {4})}));
    // One unbatched sample: logits [C], a rank-0 label.
    const auto single = [](const std::vector<Tensor>& xs) { return cross_entropy(xs[0], xs[1]); };
    VGT_REQUIRE_GRADCHECK(single, (std::vector<Tensor>{test::random({5}, 7), int64s({3}, {})}));
}

TEST_CASE("cross_entropy values follow the definition", "[ops][loss]") {
    const Tensor logits = Tensor::from_vector(std::vector<double>{1, 2, 3, 0, 0, 0}, {2, 3});
    const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    const double lse1 = std::log(3.0);
    const Tensor labels = int64s({2, 0}, {2});
    CHECK(cross_entropy(logits, labels).item() == Approx(((lse0 - 3) + lse1) / 2));
    CHECK(cross_entropy(logits, labels, Reduction::Sum).item() == Approx((lse0 - 3) + lse1));
    const auto none = cross_entropy(logits, labels, Reduction::None).to_vector();
    CHECK(none[0] == Approx(lse0 - 3));
    CHECK(none[1] == Approx(lse1));
    // The mean counts only labels that are not ignored.
    CHECK(cross_entropy(logits, int64s({2, -100}, {2})).item() == Approx(lse0 - 3));
    CHECK(cross_entropy(logits, int64s({2, -100}, {2}), Reduction::None).to_vector()[1] == 0.0);
    // Every label ignored: the mean is 0/0, as in PyTorch, and the gradient is zero.
    Tensor x = clone(logits);
    x.set_requires_grad();
    const Tensor all_ignored = cross_entropy(x, int64s({-100, -100}, {2}));
    CHECK(std::isnan(all_ignored.item()));
    backward(all_ignored);
    for (double g : x.grad().to_vector()) CHECK(g == 0.0);
}

TEST_CASE("cross_entropy matches PyTorch, forward and backward", "[ops][loss][golden]") {
    for (const std::string prefix : {"cross_entropy_2d", "cross_entropy_4d"}) {
        const Tensor labels = golden(prefix + "_labels");
        REQUIRE(labels.dtype() == DType::Int64);
        for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
            const std::string name = prefix + "_" + reduction_name(r);
            INFO(name);
            Tensor logits = golden(prefix + "_logits");
            logits.set_requires_grad();
            const Tensor loss = cross_entropy(logits, labels, -100, r);
            CHECK(test::max_relative_error(loss, golden(name + "_loss")) <= 1e-5);
            if (r == Reduction::None) backward(loss, golden(name + "_g"));
            else backward(loss);
            CHECK(test::max_relative_error(logits.grad(), golden(name + "_dlogits")) <= 1e-5);
        }
    }
}

TEST_CASE("cross_entropy rejects bad labels", "[ops][loss][errors]") {
    const Tensor logits = Tensor::zeros({3, 5});
    CHECK_THROWS_WITH(cross_entropy(logits, int64s({0, 7, 1}, {3})),
                      Catch::Contains("cross_entropy") && Catch::Contains("label 7") && Catch::Contains("5 classes"));
    CHECK_THROWS_WITH(cross_entropy(logits, int64s({0, -1, 1}, {3})),
                      Catch::Contains("cross_entropy") && Catch::Contains("label -1") && Catch::Contains("5 classes"));
    CHECK_THROWS_WITH(cross_entropy(logits, int64s({0, 1}, {2})),
                      Catch::Contains("cross_entropy") && Catch::Contains("[3, 5]") && Catch::Contains("[2]"));
    CHECK_THROWS_WITH(cross_entropy(logits, Tensor::zeros({3})),
                      Catch::Contains("cross_entropy") && Catch::Contains("int64") && Catch::Contains("float32"));
    CHECK_THROWS_WITH(cross_entropy(Tensor::zeros({2, 4, 3}), int64s({0, 1}, {2})),
                      Catch::Contains("cross_entropy") && Catch::Contains("[2, 3]") && Catch::Contains("[2, 4, 3]"));
}

TEST_CASE("embedding looks up rows and sums the gradients of repeated indices", "[ops][embedding]") {
    const Tensor weight = Tensor::from_vector(std::vector<double>{0, 1, 10, 11, 20, 21, 30, 31}, {4, 2});
    const Tensor idx = int64s({3, 1, 1, 0, 3, 3}, {2, 3});
    const Tensor out = embedding(weight, idx);
    CHECK(out.shape() == Shape{2, 3, 2});
    CHECK(out.to_vector() == std::vector<double>{30, 31, 10, 11, 10, 11, 0, 1, 30, 31, 30, 31});
    CHECK(embedding(weight, int64s({2}, {})).to_vector() == std::vector<double>{20, 21});

    const auto fn = [](const std::vector<Tensor>& xs) { return embedding(xs[0], xs[1]); };
    VGT_REQUIRE_GRADCHECK(fn, (std::vector<Tensor>{test::random({4, 3}, 9), idx}));
    // A transposed (strided) table.
    const auto strided = [](const std::vector<Tensor>& xs) { return embedding(transpose(xs[0], 0, 1), xs[1]); };
    VGT_REQUIRE_GRADCHECK(strided, (std::vector<Tensor>{test::random({3, 4}, 10), idx}));

    // Many positions share few rows, spread over threads: each row's
    // gradient is its count times the upstream value, row 2 is never used.
    const std::int64_t n = 30000;
    std::vector<std::int64_t> many(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) many[static_cast<std::size_t>(i)] = (i * 7) % 5 == 2 ? 0 : (i * 7) % 5;
    Tensor table = Tensor::zeros({5, 16}, DType::Float32);
    table.set_requires_grad();
    backward(sum(embedding(table, int64s(many, {n}))));
    std::vector<double> counts(5, 0.0);
    for (std::int64_t v : many) counts[static_cast<std::size_t>(v)] += 1;
    const auto g = table.grad().to_vector();
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < g.size(); ++i) wrong += g[i] != counts[i / 16];
    CHECK(counts[2] == 0.0);
    CHECK(wrong == 0);
}

TEST_CASE("embedding rejects indices out of range", "[ops][embedding][errors]") {
    const Tensor weight = Tensor::zeros({4, 2});
    CHECK_THROWS_WITH(embedding(weight, int64s({0, 4}, {2})),
                      Catch::Contains("embedding") && Catch::Contains("index 4") && Catch::Contains("4 rows"));
    CHECK_THROWS_WITH(embedding(weight, int64s({-1}, {1})),
                      Catch::Contains("embedding") && Catch::Contains("index -1") && Catch::Contains("4 rows"));
    CHECK_THROWS_WITH(embedding(Tensor::zeros({4}), int64s({0}, {1})),
                      Catch::Contains("embedding") && Catch::Contains("[4]"));
    CHECK_THROWS_WITH(embedding(weight, Tensor::zeros({2})),
                      Catch::Contains("embedding") && Catch::Contains("float32"));
}

}  // namespace vgt::test::loss_test
