#include "support.hpp"

#include <vgt/io/npy.hpp>
#include <vgt/ops/grid_sample.hpp>

namespace vgt::test::grid_sample_test {

namespace {

Tensor grid_golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/resample/" + name + ".npy");
}

struct Mode {
    const char* tag;
    GridSampleOptions options;
};

const Mode kModes[] = {
    {"grid_zeros_noalign", {GridPadding::Zeros, false}},
    {"grid_zeros_align", {GridPadding::Zeros, true}},
    {"grid_border_noalign", {GridPadding::Border, false}},
    {"grid_border_align", {GridPadding::Border, true}},
};

}  // namespace

TEST_CASE("grid_sample reads pixels at their normalised coordinates", "[ops][grid_sample]") {
    std::vector<double> values(12);
    for (int i = 0; i < 12; ++i) values[static_cast<std::size_t>(i)] = i;
    const Tensor x = Tensor::from_vector(values, {1, 1, 3, 4});
    // With align_corners, (-1, -1) is pixel (0, 0) and (1, 1) is pixel (2, 3);
    // (0, 0) is the centre (row 1, column 1.5).
    const Tensor grid = Tensor::from_vector(std::vector<double>{-1, -1, 1, 1, 0, 0, -1.5, 0}, {1, 1, 4, 2});
    const auto aligned = grid_sample(x, grid, {GridPadding::Zeros, true}).to_vector<double>();
    CHECK(aligned[0] == Approx(0));
    CHECK(aligned[1] == Approx(11));
    CHECK(aligned[2] == Approx(5.5));
    CHECK(aligned[3] == Approx(0.25 * 4));  // x = -0.75: a quarter of pixel (1, 0), the rest outside
    // Border clamps the coordinate: x = -1.5 reads column 0.
    CHECK(grid_sample(x, grid, {GridPadding::Border, true}).to_vector<double>()[3] == Approx(4));
    // Without align_corners, ±1 are the outer pixel edges: (-1, -1) is half
    // a pixel up-left of pixel (0, 0), so zeros padding weighs it by 1/4.
    const auto edges = grid_sample(x, grid, {GridPadding::Zeros, false}).to_vector<double>();
    CHECK(edges[0] == Approx(0.25 * 0));
    CHECK(edges[1] == Approx(0.25 * 11));
    CHECK(edges[2] == Approx(5.5));
}

TEST_CASE("grid_sample gradients for x and grid in every mode", "[ops][grid_sample][gradcheck]") {
    // Points in [-1.2, 1.2] fall inside and outside the image; a fixed seed
    // keeps them off the pixel-boundary kinks of the bilinear weights.
    const std::vector<Tensor> inputs{test::random({2, 2, 3, 4}, 11), test::random({2, 3, 2, 2}, 12, -1.2, 1.2)};
    for (const Mode& mode : kModes) {
        INFO(mode.tag);
        const GridSampleOptions options = mode.options;
        const auto f = [options](const std::vector<Tensor>& in) { return grid_sample(in[0], in[1], options); };
        VGT_REQUIRE_GRADCHECK(f, inputs);
        // A strided input and grid read the same values.
        const auto strided = [options](const std::vector<Tensor>& in) {
            return grid_sample(transpose(in[0], 2, 3), transpose(in[1], 1, 2), options);
        };
        VGT_REQUIRE_GRADCHECK(strided, inputs);
    }
}

TEST_CASE("grid_sample with border padding has zero gradient at clamped coordinates", "[ops][grid_sample]") {
    Tensor x = test::random({1, 1, 3, 3}, 13);
    // x is clamped (left of the image), y is inside.
    Tensor grid = Tensor::from_vector(std::vector<double>{-1.7, 0.3}, {1, 1, 1, 2});
    grid.set_requires_grad(true);
    backward(sum(grid_sample(x, grid, {GridPadding::Border, false})));
    const auto g = grid.grad().to_vector<double>();
    CHECK(g[0] == 0.0);
    CHECK(g[1] != 0.0);
}

TEST_CASE("grid_sample matches PyTorch, forward and both gradients", "[ops][grid_sample][torch]") {
    for (const Mode& mode : kModes) {
        INFO(mode.tag);
        const std::string tag = mode.tag;
        Tensor x = grid_golden("grid_x");
        Tensor grid = grid_golden("grid_grid");
        REQUIRE(x.dtype() == DType::Float32);
        x.set_requires_grad(true);
        grid.set_requires_grad(true);
        const Tensor out = grid_sample(x, grid, mode.options);
        CHECK(test::max_relative_error(out, grid_golden(tag + "_out")) <= 1e-5);
        backward(out, grid_golden(tag + "_g"));
        CHECK(test::max_relative_error(x.grad(), grid_golden(tag + "_grad_x")) <= 1e-5);
        CHECK(test::max_relative_error(grid.grad(), grid_golden(tag + "_grad_grid")) <= 1e-5);
    }
}

TEST_CASE("warp gradients for frames and flow", "[ops][grid_sample][gradcheck]") {
    const std::vector<Tensor> inputs{test::random({1, 2, 3, 4}, 14), test::random({1, 2, 3, 4}, 15, -1.5, 1.5)};
    for (GridPadding padding : {GridPadding::Zeros, GridPadding::Border}) {
        const auto f = [padding](const std::vector<Tensor>& in) { return warp(in[0], in[1], padding); };
        VGT_REQUIRE_GRADCHECK(f, inputs);
    }
}

TEST_CASE("warp by zero flow is the identity and by an integer flow a shift", "[ops][grid_sample]") {
    const std::int64_t h = 4, w = 5;
    const Tensor x = test::random({2, 3, h, w}, 16);
    for (GridPadding padding : {GridPadding::Zeros, GridPadding::Border})
        CHECK(test::max_relative_error(warp(x, Tensor::zeros({2, 2, h, w}, DType::Float64), padding), x) < 1e-12);

    // output(y, x) = input(y - 2, x + 1)
    Tensor flow = Tensor::zeros({2, 2, h, w}, DType::Float64);
    slice(flow, 1, 0, 1).fill_(1.0);
    slice(flow, 1, 1, 2).fill_(-2.0);
    const auto in = x.to_vector<double>();
    const auto zeros = warp(x, flow, GridPadding::Zeros).to_vector<double>();
    const auto border = warp(x, flow, GridPadding::Border).to_vector<double>();
    double worst_zeros = 0, worst_border = 0;
    for (std::int64_t p = 0; p < 2 * 3; ++p)
        for (std::int64_t i = 0; i < h; ++i)
            for (std::int64_t j = 0; j < w; ++j) {
                const std::int64_t si = i - 2, sj = j + 1;
                const bool inside = si >= 0 && sj < w;
                const double expect_zeros = inside ? in[static_cast<std::size_t>((p * h + si) * w + sj)] : 0.0;
                const std::int64_t ci = std::max<std::int64_t>(si, 0), cj = std::min<std::int64_t>(sj, w - 1);
                const double expect_border = in[static_cast<std::size_t>((p * h + ci) * w + cj)];
                const auto k = static_cast<std::size_t>((p * h + i) * w + j);
                worst_zeros = std::max(worst_zeros, std::abs(zeros[k] - expect_zeros));
                worst_border = std::max(worst_border, std::abs(border[k] - expect_border));
            }
    CHECK(worst_zeros < 1e-12);
    CHECK(worst_border < 1e-12);
}

TEST_CASE("grid_sample and warp errors name the op and the shapes", "[ops][grid_sample]") {
    const Tensor x = Tensor::zeros({2, 3, 4, 5});
    CHECK_THROWS_WITH(grid_sample(Tensor::zeros({3, 4, 5}), Tensor::zeros({2, 4, 5, 2})),
                      Catch::Contains("grid_sample") && Catch::Contains("[3, 4, 5]"));
    CHECK_THROWS_WITH(grid_sample(x, Tensor::zeros({2, 4, 5, 3})),
                      Catch::Contains("grid_sample") && Catch::Contains("[2, 4, 5, 3]"));
    CHECK_THROWS_WITH(grid_sample(x, Tensor::zeros({1, 4, 5, 2})), Catch::Contains("grid_sample") &&
                                                                         Catch::Contains("[1, 4, 5, 2]") &&
                                                                         Catch::Contains("[2, 3, 4, 5]"));
    CHECK_THROWS_WITH(grid_sample(x, Tensor::zeros({2, 4, 5, 2}, DType::Float64)),
                      Catch::Contains("grid_sample") && Catch::Contains("float64"));
    CHECK_THROWS_WITH(warp(x, Tensor::zeros({2, 2, 4, 4})),
                      Catch::Contains("warp") && Catch::Contains("[2, 2, 4, 4]") && Catch::Contains("[2, 3, 4, 5]"));
    CHECK_THROWS_WITH(warp(x, Tensor::zeros({2, 3, 4, 5})), Catch::Contains("warp") && Catch::Contains("[2, 3, 4, 5]"));
    CHECK_THROWS_WITH(warp(Tensor::zeros({3, 4, 5}), Tensor::zeros({3, 2, 4, 5})),
                      Catch::Contains("warp") && Catch::Contains("[3, 4, 5]"));
}

TEST_CASE("grid_sample reads padding for far-away and NaN coordinates", "[ops][grid_sample]") {
    Tensor x = vgt::test::random({1, 2, 3, 4}, 31);
    const double far = 1e30, nan = std::numeric_limits<double>::quiet_NaN();
    Tensor grid = Tensor::from_vector(std::vector<double>{far, 0.0, -far, far, nan, 0.0, 0.0, nan}, {1, 2, 2, 2});
    const auto zeros = grid_sample(x, grid).to_vector();
    for (double v : zeros) CHECK(v == 0.0);
    const auto border = grid_sample(x, grid, {GridPadding::Border, false}).to_vector();
    for (double v : border) CHECK(std::isfinite(v));
}

}  // namespace vgt::test::grid_sample_test
