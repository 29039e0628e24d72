// PSNR and SSIM: scikit-image references (tests/golden/make_metrics.py),
// known answers and error paths.

#include <cmath>
#include <limits>
#include <string>

#include "support.hpp"
#include "vgt/io/npy.hpp"
#include "vgt/metrics/psnr.hpp"
#include "vgt/metrics/ssim.hpp"

namespace vgt::test::psnr_ssim_test {

namespace {


Tensor golden(const std::string& name) { return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/metrics/" + name + ".npy"); }

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

}  // namespace

TEST_CASE("SSIM and PSNR match scikit-image per frame and per video", "[metrics]") {
    const Tensor ref = golden("video_ref"), dist = golden("video_dist");
    const auto expected_ssim = values(golden("ssim_per_frame"));
    const auto expected_luma = values(golden("ssim_luma_per_frame"));
    const auto expected_psnr = values(golden("psnr_per_frame"));

    const metrics::FrameScores s = metrics::video_ssim(ref, dist);
    REQUIRE(s.per_frame.size() == expected_ssim.size());
    double mean = 0;
    for (std::size_t t = 0; t < expected_ssim.size(); ++t) {
        CHECK(s.per_frame[t] == Approx(expected_ssim[t]).margin(1e-9));
        mean += expected_ssim[t] / static_cast<double>(expected_ssim.size());
    }
    CHECK(s.mean == Approx(mean).margin(1e-9));

    metrics::SsimOptions luma;
    luma.channels = metrics::SsimChannels::luma;
    const metrics::FrameScores y = metrics::video_ssim(ref, dist, luma);
    for (std::size_t t = 0; t < expected_luma.size(); ++t) CHECK(y.per_frame[t] == Approx(expected_luma[t]).margin(1e-9));

    const metrics::FrameScores p = metrics::video_psnr(ref, dist);
    for (std::size_t t = 0; t < expected_psnr.size(); ++t) CHECK(p.per_frame[t] == Approx(expected_psnr[t]).epsilon(1e-12));

    // One image of the clip through the image functions, and in float64.
    const Tensor frame = select(ref, 0, 2), frame_dist = select(dist, 0, 2);
    CHECK(metrics::ssim(frame, frame_dist) == Approx(expected_ssim[2]).margin(1e-9));
    CHECK(metrics::ssim(to(frame, DType::Float64), to(frame_dist, DType::Float64)) ==
          Approx(expected_ssim[2]).margin(1e-9));
    CHECK(metrics::psnr(frame, frame_dist) == Approx(expected_psnr[2]).epsilon(1e-12));
}

TEST_CASE("SSIM and PSNR honour the data range", "[metrics]") {
    const Tensor a = golden("range2_a"), b = golden("range2_b");
    CHECK(metrics::ssim(a, b, {.data_range = 2.0}) == Approx(values(golden("range2_ssim"))[0]).margin(1e-9));
    CHECK(metrics::psnr(a, b, {.data_range = 2.0}) == Approx(values(golden("range2_psnr"))[0]).epsilon(1e-12));
    // A [1, H, W] image and its [H, W] plane are the same measurement.
    CHECK(metrics::ssim(select(a, 0, 0), select(b, 0, 0), {.data_range = 2.0}) == Approx(metrics::ssim(a, b, {.data_range = 2.0})));
    // The default range 1 gives a different (lower) SSIM for the same values.
    CHECK(metrics::ssim(a, b) < metrics::ssim(a, b, {.data_range = 2.0}));
}

TEST_CASE("SSIM and PSNR known answers", "[metrics]") {
    const Tensor x = test::random(Shape{3, 3, 12, 14}, 7, 0.2, 0.8);
    // Identical videos: SSIM 1 everywhere, PSNR +inf.
    const auto same_ssim = metrics::video_ssim(x, x);
    for (double v : same_ssim.per_frame) CHECK(v == Approx(1.0).margin(1e-12));
    CHECK(std::isinf(metrics::video_psnr(x, x).mean));

    // A constant offset of 0.1: MSE 0.01, PSNR 20 dB; SSIM loses only its
    // luminance term, (2μxμy + C1)/(μx² + μy² + C1) < 1.
    const Tensor shifted = add(x, 0.1);
    const auto p = metrics::video_psnr(x, shifted);
    for (double v : p.per_frame) CHECK(v == Approx(20.0).epsilon(1e-9));
    const auto s = metrics::video_ssim(x, shifted);
    for (double v : s.per_frame) {
        CHECK(v < 1.0);
        CHECK(v > 0.9);
    }
    // Symmetric in its arguments; more noise, lower scores.
    const Tensor noisy = add(x, test::random(x.shape(), 8, -0.05, 0.05));
    const Tensor noisier = add(x, test::random(x.shape(), 9, -0.2, 0.2));
    CHECK(metrics::video_ssim(x, noisy).mean == Approx(metrics::video_ssim(noisy, x).mean).epsilon(1e-14));
    CHECK(metrics::video_ssim(x, noisier).mean < metrics::video_ssim(x, noisy).mean);
    CHECK(metrics::video_psnr(x, noisier).mean < metrics::video_psnr(x, noisy).mean);
    // Luma of a grey video is that grey: same SSIM as over channels.
    const Tensor grey = test::random(Shape{2, 1, 11, 11}, 10, 0, 1);
    const Tensor grey_noisy = add(grey, test::random(grey.shape(), 11, -0.1, 0.1));
    const Tensor rgb = concat({grey, grey, grey}, 1), rgb_noisy = concat({grey_noisy, grey_noisy, grey_noisy}, 1);
    CHECK(metrics::video_ssim(rgb, rgb_noisy, {.channels = metrics::SsimChannels::luma}).mean ==
          Approx(metrics::video_ssim(grey, grey_noisy).mean).epsilon(1e-12));
}

TEST_CASE("SSIM and PSNR reject bad input", "[metrics]") {
    const Tensor a = test::random(Shape{2, 3, 12, 12}, 1, 0, 1);
    CHECK_THROWS_WITH(metrics::video_ssim(a, test::random(Shape{2, 3, 12, 13}, 2)),
                      Catch::Contains("video_ssim") && Catch::Contains("[2, 3, 12, 13]"));
    CHECK_THROWS_WITH(metrics::video_psnr(a, select(a, 0, 0)),
                      Catch::Contains("video_psnr") && Catch::Contains("[3, 12, 12]"));
    const Tensor small = test::random(Shape{3, 10, 12}, 3, 0, 1);
    CHECK_THROWS_WITH(metrics::ssim(small, small), Catch::Contains("ssim") && Catch::Contains("11×11") &&
                                                       Catch::Contains("[3, 10, 12]"));
    const Tensor two = test::random(Shape{2, 12, 12}, 4, 0, 1);
    CHECK_THROWS_WITH(metrics::ssim(two, two, {.channels = metrics::SsimChannels::luma}),
                      Catch::Contains("ssim") && Catch::Contains("luma") && Catch::Contains("[2, 12, 12]"));
    Tensor bad = clone(select(a, 0, 0));
    bad.data<double>()[5] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(metrics::psnr(select(a, 0, 1), bad), Catch::Contains("psnr") && Catch::Contains("NaN"));
    CHECK_THROWS_WITH(metrics::psnr(a, a, {.data_range = 0}), Catch::Contains("psnr") && Catch::Contains("data_range"));
    CHECK_THROWS_WITH(metrics::ssim(select(a, 0, 0), Tensor::zeros(Shape{3, 12, 12}, DType::Int64)),
                      Catch::Contains("ssim") && Catch::Contains("int64"));
}

}  // namespace vgt::test::psnr_ssim_test
