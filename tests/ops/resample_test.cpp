#include "support.hpp"

#include <vgt/io/npy.hpp>
#include <vgt/ops/pool.hpp>
#include <vgt/ops/resample.hpp>

namespace vgt::test::resample_test {

namespace {

Tensor resample_golden(const std::string& name) {
    return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/resample/" + name + ".npy");
}

Tensor iota(const Shape& shape) {
    std::vector<double> values(static_cast<std::size_t>(shape.numel()));
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i);
    return Tensor::from_vector(values, shape);
}

}  // namespace

TEST_CASE("upsample_nearest repeats every element into a block", "[ops][resample]") {
    const Tensor x = iota({1, 1, 2, 3});
    const Tensor y = upsample_nearest(x, {2, 3});
    CHECK(y.shape() == Shape{1, 1, 4, 9});
    const auto v = y.to_vector<double>();
    CHECK(v[0] == 0);
    CHECK(v[2] == 0);
    CHECK(v[3] == 1);
    CHECK(v[8] == 2);
    CHECK(v[9] == 0);   // second output row still reads input row 0
    CHECK(v[18] == 3);  // third output row reads input row 1
    CHECK(v[35] == 5);

    CHECK(upsample_nearest(iota({1, 2, 3}), 2).to_vector<double>() ==
          std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
    CHECK(upsample_nearest(iota({1, 1, 2, 2, 2}), 2).shape() == Shape{1, 1, 4, 4, 4});
}

TEST_CASE("upsample_nearest gradients: 1-d, 2-d and 3-d", "[ops][resample][gradcheck]") {
    const auto nearest1d = [](const std::vector<Tensor>& in) { return upsample_nearest(in[0], 3); };
    const auto nearest2d = [](const std::vector<Tensor>& in) { return upsample_nearest(in[0], {2, 3}); };
    const auto nearest3d = [](const std::vector<Tensor>& in) { return upsample_nearest(in[0], {2, 1, 3}); };
    // A transposed (non-contiguous) input exercises the strided read.
    const auto nearest2d_strided = [](const std::vector<Tensor>& in) {
        return upsample_nearest(transpose(in[0], 2, 3), 2);
    };
    const std::vector<Tensor> x1{test::random({2, 2, 3}, 1)};
    const std::vector<Tensor> x2{test::random({1, 2, 3, 2}, 2)};
    const std::vector<Tensor> x3{test::random({1, 2, 2, 2, 3}, 3)};
    VGT_REQUIRE_GRADCHECK(nearest1d, x1);
    VGT_REQUIRE_GRADCHECK(nearest2d, x2);
    VGT_REQUIRE_GRADCHECK(nearest3d, x3);
    VGT_REQUIRE_GRADCHECK(nearest2d_strided, x2);
}

TEST_CASE("upsample_bilinear matches hand-computed values", "[ops][resample]") {
    // [0, 1] resized to 4 columns: without align_corners the sources are
    // -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last pixel).
    const Tensor x = iota({1, 1, 1, 2});
    CHECK(upsample_bilinear(x, 1, 4).to_vector<double>() == std::vector<double>{0, 0.25, 0.75, 1});
    // With align_corners, 0 and 1 land on the corners: 0, 1/3, 2/3, 1.
    const auto aligned = upsample_bilinear(x, 1, 4, true).to_vector<double>();
    CHECK(aligned[1] == Approx(1.0 / 3.0));
    CHECK(aligned[3] == Approx(1.0));
    // Same size is the identity either way.
    const Tensor img = test::random({2, 3, 4, 5}, 9);
    CHECK(test::max_relative_error(upsample_bilinear(img, 4, 5), img) == 0.0);
    CHECK(test::max_relative_error(upsample_bilinear(img, 4, 5, true), img) < 1e-15);
}

TEST_CASE("upsample_bilinear gradients: up and down, both align_corners", "[ops][resample][gradcheck]") {
    const std::vector<Tensor> x{test::random({1, 2, 3, 4}, 4)};
    for (bool align : {false, true}) {
        INFO("align_corners = " << align);
        const auto up = [align](const std::vector<Tensor>& in) { return upsample_bilinear(in[0], 5, 7, align); };
        const auto down = [align](const std::vector<Tensor>& in) { return upsample_bilinear(in[0], 2, 3, align); };
        const auto mixed = [align](const std::vector<Tensor>& in) { return upsample_bilinear(in[0], 1, 6, align); };
        VGT_REQUIRE_GRADCHECK(up, x);
        VGT_REQUIRE_GRADCHECK(down, x);
        VGT_REQUIRE_GRADCHECK(mixed, x);
    }
}

TEST_CASE("avg_pool matches hand-computed values", "[ops][pool]") {
    const Tensor x = iota({1, 1, 4, 4});
    // 2x2 windows with stride 2: means of {0,1,4,5}, {2,3,6,7}, ...
    CHECK(avg_pool2d(x, 2).to_vector<double>() == std::vector<double>{2.5, 4.5, 10.5, 12.5});
    // Overlapping windows (stride 1): 3x3 outputs.
    CHECK(avg_pool2d(x, 2, 1).shape() == Shape{1, 1, 3, 3});
    // A stride larger than the kernel skips elements: windows {0,1}, {3,4}, {6,7}.
    CHECK(avg_pool1d(iota({1, 1, 8}), 2, 3).to_vector<double>() == std::vector<double>{0.5, 3.5, 6.5});
}

TEST_CASE("avg_pool gradients: 1-d, 2-d and 3-d with stride != kernel", "[ops][pool][gradcheck]") {
    const auto pool1d = [](const std::vector<Tensor>& in) { return avg_pool1d(in[0], 3, 2); };
    const auto pool1d_gaps = [](const std::vector<Tensor>& in) { return avg_pool1d(in[0], 2, 3); };
    const auto pool2d = [](const std::vector<Tensor>& in) { return avg_pool(in[0], {3, 2}, {2, 3}); };
    const auto pool3d = [](const std::vector<Tensor>& in) { return avg_pool(in[0], {2, 2, 3}, {1, 2, 2}); };
    const std::vector<Tensor> x1{test::random({2, 2, 9}, 5)};
    const std::vector<Tensor> x2{test::random({1, 2, 5, 7}, 6)};
    const std::vector<Tensor> x3{test::random({1, 1, 3, 4, 5}, 7)};
    VGT_REQUIRE_GRADCHECK(pool1d, x1);
    VGT_REQUIRE_GRADCHECK(pool1d_gaps, x1);
    VGT_REQUIRE_GRADCHECK(pool2d, x2);
    VGT_REQUIRE_GRADCHECK(pool3d, x3);
}

TEST_CASE("downsample keeps every factor-th element as a view", "[ops][pool]") {
    const Tensor x = iota({1, 1, 3, 5});
    const Tensor y = downsample(x, 2);
    CHECK(y.same_storage(x));
    CHECK(y.shape() == Shape{1, 1, 2, 3});
    CHECK(y.to_vector<double>() == std::vector<double>{0, 2, 4, 10, 12, 14});
    CHECK(downsample(x, {1, 3}).to_vector<double>() == std::vector<double>{0, 3, 5, 8, 10, 13});
    CHECK(downsample(iota({1, 1, 2, 3, 4}), {2, 2, 3}).shape() == Shape{1, 1, 1, 2, 2});

    const auto down2d = [](const std::vector<Tensor>& in) { return downsample(in[0], {2, 3}); };
    const auto down1d = [](const std::vector<Tensor>& in) { return downsample(in[0], 2); };
    const std::vector<Tensor> x2{test::random({1, 2, 3, 5}, 8)};
    const std::vector<Tensor> x1{test::random({2, 1, 5}, 9)};
    VGT_REQUIRE_GRADCHECK(down2d, x2);
    VGT_REQUIRE_GRADCHECK(down1d, x1);
}

TEST_CASE("nearest upsampling and avg_pool match PyTorch", "[ops][resample][pool][torch]") {
    CHECK(test::max_relative_error(upsample_nearest(resample_golden("nearest1d_x"), 3),
                                   resample_golden("nearest1d_out")) <= 1e-5);
    CHECK(test::max_relative_error(upsample_nearest(resample_golden("nearest2d_x"), {2, 3}),
                                   resample_golden("nearest2d_out")) <= 1e-5);
    CHECK(test::max_relative_error(upsample_nearest(resample_golden("nearest3d_x"), {2, 1, 3}),
                                   resample_golden("nearest3d_out")) <= 1e-5);
    CHECK(test::max_relative_error(avg_pool1d(resample_golden("avgpool1d_x"), 3, 2),
                                   resample_golden("avgpool1d_out")) <= 1e-5);
    CHECK(test::max_relative_error(avg_pool(resample_golden("avgpool2d_x"), {3, 2}, {2, 3}),
                                   resample_golden("avgpool2d_out")) <= 1e-5);
    CHECK(test::max_relative_error(avg_pool(resample_golden("avgpool3d_x"), {2, 3, 2}, {1, 2, 3}),
                                   resample_golden("avgpool3d_out")) <= 1e-5);
}

TEST_CASE("upsample_bilinear matches PyTorch, forward and gradient", "[ops][resample][torch]") {
    struct Case {
        const char* tag;
        std::int64_t h, w;
        bool align;
    };
    for (const Case& c : {Case{"bilinear_up_noalign", 9, 12, false}, Case{"bilinear_up_align", 9, 12, true},
                          Case{"bilinear_down_noalign", 3, 4, false}, Case{"bilinear_down_align", 3, 4, true}}) {
        INFO(c.tag);
        Tensor x = resample_golden("bilinear_x");
        REQUIRE(x.dtype() == DType::Float32);
        x.set_requires_grad(true);
        const Tensor out = upsample_bilinear(x, c.h, c.w, c.align);
        CHECK(test::max_relative_error(out, resample_golden(std::string(c.tag) + "_out")) <= 1e-5);
        backward(out, resample_golden(std::string(c.tag) + "_g"));
        CHECK(test::max_relative_error(x.grad(), resample_golden(std::string(c.tag) + "_grad_x")) <= 1e-5);
    }
}

TEST_CASE("resampling errors name the op and the shapes", "[ops][resample][pool]") {
    const Tensor img = Tensor::zeros({1, 2, 4, 5});
    CHECK_THROWS_WITH(upsample_nearest(Tensor::zeros({4, 5}), 2),
                      Catch::Contains("upsample_nearest") && Catch::Contains("[4, 5]"));
    CHECK_THROWS_WITH(upsample_nearest(img, {2, 0}), Catch::Contains("upsample_nearest") && Catch::Contains("[2, 0]") &&
                                                         Catch::Contains("[1, 2, 4, 5]"));
    CHECK_THROWS_WITH(upsample_nearest(img, {2, 2, 2}),
                      Catch::Contains("upsample_nearest") && Catch::Contains("[1, 2, 4, 5]"));
    CHECK_THROWS_WITH(upsample_bilinear(Tensor::zeros({2, 4, 5}), 8, 10),
                      Catch::Contains("upsample_bilinear") && Catch::Contains("[2, 4, 5]"));
    CHECK_THROWS_WITH(upsample_bilinear(img, 0, 10),
                      Catch::Contains("upsample_bilinear") && Catch::Contains("[1, 2, 4, 5]"));
    CHECK_THROWS_WITH(avg_pool2d(img, 5), Catch::Contains("avg_pool") && Catch::Contains("[5, 5]") &&
                                              Catch::Contains("[1, 2, 4, 5]"));
    CHECK_THROWS_WITH(avg_pool2d(img, 2, 0), Catch::Contains("avg_pool") && Catch::Contains("[0, 0]"));
    CHECK_THROWS_WITH(avg_pool3d(img, 2), Catch::Contains("avg_pool") && Catch::Contains("[1, 2, 4, 5]"));
    CHECK_THROWS_WITH(avg_pool(img, {2, 2}, {1}), Catch::Contains("avg_pool") && Catch::Contains("strides"));
    CHECK_THROWS_WITH(downsample(img, 0), Catch::Contains("downsample") && Catch::Contains("[1, 2, 4, 5]"));
    CHECK_THROWS_WITH(downsample(Tensor::zeros({3, 4}), 2),
                      Catch::Contains("downsample") && Catch::Contains("[3, 4]"));
}

}  // namespace vgt::test::resample_test
