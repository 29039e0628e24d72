#include "support.hpp"

#include <string>

#include <vgt/io/npy.hpp>
#include <vgt/ops/conv.hpp>

namespace vgt::test::conv_test {

namespace {

template <int D>
Tensor conv(const Tensor& x, const Tensor& w, const Tensor& b, const ConvOptions& options) {
    if constexpr (D == 1) return conv1d(x, w, b, options);
    else if constexpr (D == 2) return conv2d(x, w, b, options);
    else return conv3d(x, w, b, options);
}

/// Gradcheck of x, weight and (optionally) bias of a D-d convolution.
template <int D>
void require_conv_gradcheck(const Shape& x_shape, const Shape& w_shape, bool with_bias, const ConvOptions& options,
                            std::uint64_t seed = 1) {
    std::vector<Tensor> inputs{test::random(x_shape, seed), test::random(w_shape, seed + 1)};
    if (with_bias) inputs.push_back(test::random({w_shape[0]}, seed + 2));
    auto fn = [options, with_bias](const std::vector<Tensor>& in) {
        return conv<D>(in[0], in[1], with_bias ? in[2] : Tensor{}, options);
    };
    VGT_REQUIRE_GRADCHECK(fn, inputs);
}

/// The column matrix of positions [p0, p1) by its definition, one element at a time.
template <int D>
std::vector<double> naive_columns(const detail::ConvGeometry<D>& geo, const std::vector<double>& x, std::int64_t p0,
                                  std::int64_t p1) {
    std::vector<double> col;
    for (std::int64_t c = 0; c < geo.in_per_group(); ++c) {
        for (std::int64_t t = 0; t < geo.kernel_size; ++t) {
            for (std::int64_t p = p0; p < p1; ++p) {
                std::int64_t tap = t, position = p, offset = 0;
                bool inside = true;
                std::array<std::int64_t, D> k{}, o{};
                for (int d = D - 1; d >= 0; --d) {
                    k[d] = tap % geo.kernel[d];
                    tap /= geo.kernel[d];
                    o[d] = position % geo.out[d];
                    position /= geo.out[d];
                }
                for (int d = 0; d < D; ++d) {
                    const std::int64_t i = o[d] * geo.stride[d] - geo.padding[d] + k[d] * geo.dilation[d];
                    inside = inside && i >= 0 && i < geo.in[d];
                    offset = offset * geo.in[d] + i;
                }
                col.push_back(inside ? x[static_cast<std::size_t>(c * geo.in_size + offset)] : 0.0);
            }
        }
    }
    return col;
}

}  // namespace

TEST_CASE("conv1d of a hand-computed example", "[ops][conv]") {
    const Tensor x = Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, {1, 1, 4});
    const Tensor w = Tensor::from_vector(std::vector<double>{1, 0, -1}, {1, 1, 3});
    const Tensor b = Tensor::from_vector(std::vector<double>{0.5}, {1});
    // y[i] = x[i-1] − x[i+1] + 0.5 with zero padding.
    CHECK(conv1d(x, w, b, {.padding = {1}}).to_vector<double>() == std::vector<double>{-1.5, -1.5, -1.5, 3.5});
    // Stride 2, dilation 2, no padding: taps x[0], x[2] for the only output.
    CHECK(conv1d(x, w, {}, {.stride = {2}, .dilation = {1}}).to_vector<double>() == std::vector<double>{-2});
    const Tensor w2 = Tensor::from_vector(std::vector<double>{1, -1}, {1, 1, 2});
    CHECK(conv1d(x, w2, {}, {.dilation = {2}}).to_vector<double>() == std::vector<double>{-2, -2});
}

TEST_CASE("im2col of any tile matches the definition, and col2im is its adjoint", "[ops][conv]") {
    // Tiles that start and end mid-row, across every option path.
    struct Case {
        Shape x, w;
        ConvOptions options;
    };
    const std::vector<Case> cases{
        {{1, 2, 13}, {1, 2, 3}, {.stride = {2}, .padding = {2}, .dilation = {2}}},
        {{1, 2, 7, 9}, {1, 2, 3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .dilation = {1, 3}}},
        {{1, 3, 4, 5, 6}, {1, 3, 2, 3, 3}, {.stride = {1, 2, 1}, .padding = {1, 1, 2}, .dilation = {2, 1, 1}}},
    };
    for (const auto& c : cases) {
        auto run = [&]<int D>() {
            const Tensor x = test::random(c.x, 7);
            const auto geo = detail::conv_geometry<D>(x, Tensor::empty(c.w, DType::Float64), {}, c.options, "test");
            const detail::ConvTaps<D> taps(geo);
            const std::vector<double> xv = x.to_vector<double>();
            const std::int64_t positions = geo.out_size, rows = geo.col_rows();
            for (std::int64_t p0 : {std::int64_t{0}, std::int64_t{3}, positions / 2}) {
                for (std::int64_t p1 : {p0 + 1, p0 + 5, positions}) {
                    if (p1 > positions || p1 <= p0) continue;
                    INFO("input " << c.x.str() << ", positions [" << p0 << ", " << p1 << ")");
                    detail::ConvTileRows<D> tile;
                    tile.plan(geo, p0, p1);
                    std::vector<double> col(static_cast<std::size_t>(rows * (p1 - p0)), -99.0);
                    detail::im2col<D, double>(geo, taps, tile, xv.data(), 0, geo.in_per_group(), p1 - p0,
                                              col.data());
                    CHECK(col == naive_columns<D>(geo, xv, p0, p1));
                    // <im2col(x), c> = <x, col2im(c)> for a random c.
                    const std::vector<double> cv = test::random({rows * (p1 - p0)}, 8).to_vector<double>();
                    std::vector<double> folded(xv.size(), 0.0);
                    detail::col2im_add<D, double>(geo, taps, tile, cv.data(), 0, geo.in_per_group(), p1 - p0,
                                                  folded.data());
                    double lhs = 0, rhs = 0;
                    for (std::size_t i = 0; i < cv.size(); ++i) lhs += col[i] * cv[i];
                    for (std::size_t i = 0; i < xv.size(); ++i) rhs += xv[i] * folded[i];
                    CHECK(lhs == Approx(rhs).epsilon(1e-12));
                }
            }
        };
        if (c.x.rank() == 3) run.template operator()<1>();
        if (c.x.rank() == 4) run.template operator()<2>();
        if (c.x.rank() == 5) run.template operator()<3>();
    }
}

TEST_CASE("conv1d gradients match finite differences", "[ops][conv][gradcheck]") {
    SECTION("default options") { require_conv_gradcheck<1>({2, 3, 6}, {4, 3, 3}, true, {}); }
    SECTION("stride 2, padding 1") {
        require_conv_gradcheck<1>({2, 3, 7}, {4, 3, 3}, true, {.stride = {2}, .padding = {1}});
    }
    SECTION("dilation 2") {
        require_conv_gradcheck<1>({2, 3, 8}, {2, 3, 3}, true, {.padding = {2}, .dilation = {2}});
    }
    SECTION("groups 2") { require_conv_gradcheck<1>({2, 4, 6}, {6, 2, 3}, true, {.padding = {1}, .groups = 2}); }
    SECTION("depthwise") { require_conv_gradcheck<1>({2, 3, 6}, {6, 1, 3}, true, {.padding = {1}, .groups = 3}); }
    SECTION("no bias") { require_conv_gradcheck<1>({2, 3, 6}, {4, 3, 2}, false, {.stride = {2}}); }
    SECTION("1x1, stride 1, no padding") { require_conv_gradcheck<1>({2, 3, 5}, {4, 3, 1}, true, {}); }
    SECTION("non-contiguous input") {
        std::vector<Tensor> inputs{test::random({6, 2, 3}, 3), test::random({4, 3, 3}, 4), test::random({4}, 5)};
        auto fn = [](const std::vector<Tensor>& in) {
            return conv1d(permute(in[0], {1, 2, 0}), in[1], in[2], {.padding = {1}});
        };
        VGT_REQUIRE_GRADCHECK(fn, inputs);
    }
}

TEST_CASE("conv2d gradients match finite differences", "[ops][conv][gradcheck]") {
    SECTION("default options") { require_conv_gradcheck<2>({2, 2, 4, 5}, {3, 2, 3, 3}, true, {}); }
    SECTION("stride 2, padding 1") {
        require_conv_gradcheck<2>({2, 2, 5, 5}, {3, 2, 3, 3}, true, {.stride = {2}, .padding = {1}});
    }
    SECTION("per-dimension stride and padding") {
        require_conv_gradcheck<2>({1, 2, 5, 6}, {3, 2, 3, 2}, true, {.stride = {2, 1}, .padding = {1, 0}});
    }
    SECTION("dilation 2") {
        require_conv_gradcheck<2>({1, 2, 6, 5}, {2, 2, 2, 3}, true, {.padding = {1}, .dilation = {2}});
    }
    SECTION("groups 2") {
        require_conv_gradcheck<2>({2, 4, 4, 4}, {4, 2, 3, 3}, true, {.padding = {1}, .groups = 2});
    }
    SECTION("depthwise") {
        require_conv_gradcheck<2>({2, 3, 4, 4}, {3, 1, 3, 3}, true, {.stride = {2}, .padding = {1}, .groups = 3});
    }
    SECTION("no bias") { require_conv_gradcheck<2>({2, 2, 4, 4}, {3, 2, 2, 2}, false, {}); }
    SECTION("1x1, stride 1, no padding") { require_conv_gradcheck<2>({2, 3, 3, 4}, {4, 3, 1, 1}, true, {}); }
    SECTION("1x1 with stride 2 takes the general path") {
        require_conv_gradcheck<2>({1, 3, 5, 4}, {2, 3, 1, 1}, true, {.stride = {2}});
    }
    SECTION("non-contiguous input") {
        std::vector<Tensor> inputs{test::random({2, 4, 5, 2}, 3), test::random({3, 2, 3, 3}, 4),
                                   test::random({3}, 5)};
        auto fn = [](const std::vector<Tensor>& in) {
            return conv2d(permute(in[0], {0, 3, 1, 2}), in[1], in[2], {.padding = {1}});
        };
        VGT_REQUIRE_GRADCHECK(fn, inputs);
    }
    SECTION("tiles that end mid-row") {
        // 13 x 11 output positions are split into tiles of 72 (see conv_tiling).
        require_conv_gradcheck<2>({1, 1, 13, 11}, {2, 1, 3, 3}, true, {.padding = {1}});
    }
}

TEST_CASE("conv3d gradients match finite differences", "[ops][conv][gradcheck]") {
    SECTION("default options") { require_conv_gradcheck<3>({1, 2, 3, 4, 4}, {2, 2, 2, 3, 3}, true, {}); }
    SECTION("stride 2, padding 1") {
        require_conv_gradcheck<3>({1, 2, 3, 4, 4}, {2, 2, 3, 3, 3}, true, {.stride = {2}, .padding = {1}});
    }
    SECTION("per-dimension stride and padding") {
        require_conv_gradcheck<3>({1, 2, 3, 4, 5}, {2, 2, 3, 2, 3}, true,
                                  {.stride = {1, 2, 1}, .padding = {1, 0, 2}});
    }
    SECTION("dilation 2") {
        require_conv_gradcheck<3>({1, 2, 4, 4, 4}, {2, 2, 2, 2, 2}, true, {.padding = {1}, .dilation = {2}});
    }
    SECTION("groups 2") {
        require_conv_gradcheck<3>({1, 4, 3, 3, 3}, {4, 2, 2, 2, 2}, true, {.padding = {1}, .groups = 2});
    }
    SECTION("depthwise") {
        require_conv_gradcheck<3>({2, 2, 3, 3, 3}, {2, 1, 3, 3, 3}, true, {.padding = {1}, .groups = 2});
    }
    SECTION("no bias") { require_conv_gradcheck<3>({1, 2, 3, 3, 4}, {3, 2, 2, 2, 2}, false, {}); }
    SECTION("1x1, stride 1, no padding") { require_conv_gradcheck<3>({2, 3, 2, 3, 3}, {2, 3, 1, 1, 1}, true, {}); }
    SECTION("non-contiguous input") {
        std::vector<Tensor> inputs{test::random({3, 1, 3, 4, 2}, 3), test::random({2, 2, 2, 2, 3}, 4),
                                   test::random({2}, 5)};
        auto fn = [](const std::vector<Tensor>& in) {
            return conv3d(permute(in[0], {1, 4, 0, 2, 3}), in[1], in[2], {.padding = {0, 1, 1}});
        };
        VGT_REQUIRE_GRADCHECK(fn, inputs);
    }
}

TEST_CASE("conv gradients are computed only for inputs that want them", "[ops][conv]") {
    Tensor x = test::random({2, 3, 5, 5}, 1);
    Tensor w = test::random({4, 3, 3, 3}, 2).set_requires_grad();
    Tensor b = test::random({4}, 3);
    backward(sum(conv2d(x, w, b, {.padding = {1}})));
    CHECK_FALSE(x.grad().defined());
    CHECK_FALSE(b.grad().defined());
    REQUIRE(w.grad().defined());
    CHECK(w.grad().shape() == w.shape());
    {
        NoGradGuard no_grad;
        CHECK_FALSE(conv2d(x, w, b).requires_grad());
    }
}

TEST_CASE("conv results do not depend on the number of threads", "[ops][conv]") {
    // One (batch item, group) pair and many tiles: the input gradient splits
    // channels across threads and the weight gradient sums per-thread parts.
    const int saved_threads = num_threads();
    auto run = [](int threads) {
        set_num_threads(threads);
        Tensor x = test::random({1, 5, 19, 17}, 11).set_requires_grad();
        Tensor w = test::random({6, 5, 3, 3}, 12).set_requires_grad();
        Tensor b = test::random({6}, 13).set_requires_grad();
        Tensor y = conv2d(x, w, b, {.stride = {1, 2}, .padding = {1}});
        backward(y, test::random(y.shape(), 14));
        return std::vector<Tensor>{y, x.grad(), w.grad(), b.grad()};
    };
    const auto one = run(1);
    const auto three = run(3);
    set_num_threads(saved_threads);
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("result " << i);
        CHECK(test::max_relative_error(three[i], one[i]) <= 1e-12);
    }
}

TEST_CASE("conv1d, conv2d and conv3d match PyTorch, forward and backward", "[ops][conv][golden]") {
    struct Case {
        const char* name;
        bool with_bias;
        ConvOptions options;
    };
    // Options as in tests/golden/make_conv.py.
    const std::vector<Case> cases{
        {"conv1d_basic", true, {.padding = {1}}},
        {"conv1d_groups_dilation", true, {.stride = {2}, .padding = {2}, .dilation = {2}, .groups = 2}},
        {"conv2d_basic", true, {.padding = {1}}},
        {"conv2d_stride_asymmetric", true, {.stride = {2, 1}, .padding = {1, 0}}},
        {"conv2d_groups_dilation", true, {.padding = {2, 1}, .dilation = {2, 1}, .groups = 2}},
        {"conv2d_depthwise", false, {.stride = {2}, .padding = {1}, .groups = 4}},
        {"conv2d_pointwise", true, {}},
        {"conv2d_tiled", true, {.padding = {1}}},
        {"conv3d_basic", true, {.padding = {1}}},
        {"conv3d_strided_groups", true, {.stride = {1, 2, 2}, .padding = {0, 1, 1}, .dilation = {2, 1, 1}, .groups = 2}},
    };
    auto load = [](const std::string& name) { return io::read_npy(std::string(VGT_GOLDEN_DIR) + "/conv/" + name + ".npy"); };
    for (const auto& c : cases) {
        INFO(c.name);
        const std::string prefix = c.name;
        Tensor x = load(prefix + "_x").set_requires_grad();
        Tensor w = load(prefix + "_w").set_requires_grad();
        Tensor b = c.with_bias ? load(prefix + "_b").set_requires_grad() : Tensor{};
        REQUIRE(x.dtype() == DType::Float32);
        Tensor y;
        switch (x.rank()) {
            case 3: y = conv1d(x, w, b, c.options); break;
            case 4: y = conv2d(x, w, b, c.options); break;
            default: y = conv3d(x, w, b, c.options); break;
        }
        CHECK(test::max_relative_error(y, load(prefix + "_y")) <= 1e-5);
        backward(y, load(prefix + "_g"));
        CHECK(test::max_relative_error(x.grad(), load(prefix + "_dx")) <= 1e-5);
        CHECK(test::max_relative_error(w.grad(), load(prefix + "_dw")) <= 1e-5);
        if (c.with_bias) CHECK(test::max_relative_error(b.grad(), load(prefix + "_db")) <= 1e-5);
    }
}

TEST_CASE("conv rejects inputs it cannot convolve", "[ops][conv][errors]") {
    const Tensor x = Tensor::zeros({2, 4, 8, 8});
    const Tensor w = Tensor::zeros({6, 4, 3, 3});
    using Catch::Contains;
    // Wrong rank of input and weight.
    CHECK_THROWS_WITH(conv2d(Tensor::zeros({4, 8, 8}), w), Contains("conv2d") && Contains("[4, 8, 8]"));
    CHECK_THROWS_WITH(conv3d(x, w), Contains("conv3d") && Contains("[2, 4, 8, 8]"));
    CHECK_THROWS_WITH(conv1d(Tensor::zeros({2, 4, 8}), w), Contains("conv1d") && Contains("[6, 4, 3, 3]"));
    // Channels: input C must be weight.size(1) · groups; out channels divisible by groups.
    CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({6, 3, 3, 3})),
                      Contains("conv2d") && Contains("[2, 4, 8, 8]") && Contains("[6, 3, 3, 3]"));
    CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({6, 4, 3, 3}), {}, {.groups = 2}),
                      Contains("conv2d") && Contains("[6, 4, 3, 3]"));
    CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({5, 2, 3, 3}), {}, {.groups = 2}),
                      Contains("conv2d") && Contains("divisible") && Contains("[5, 2, 3, 3]"));
    CHECK_THROWS_WITH(conv2d(x, w, {}, {.groups = 0}), Contains("conv2d") && Contains("groups"));
    // Bias of the wrong shape.
    CHECK_THROWS_WITH(conv2d(x, w, Tensor::zeros({4})), Contains("conv2d") && Contains("[4]") && Contains("[6]"));
    CHECK_THROWS_WITH(conv2d(x, w, Tensor::zeros({1, 6})), Contains("conv2d") && Contains("[1, 6]"));
    // Stride, dilation, padding.
    CHECK_THROWS_WITH(conv2d(x, w, {}, {.stride = {0}}), Contains("conv2d") && Contains("stride"));
    CHECK_THROWS_WITH(conv2d(x, w, {}, {.stride = {1, -1}}), Contains("conv2d") && Contains("stride"));
    CHECK_THROWS_WITH(conv2d(x, w, {}, {.dilation = {0}}), Contains("conv2d") && Contains("dilation"));
    CHECK_THROWS_WITH(conv2d(x, w, {}, {.padding = {-1}}), Contains("conv2d") && Contains("padding"));
    CHECK_THROWS_WITH(conv2d(x, w, {}, {.padding = {1, 1, 1}}), Contains("conv2d") && Contains("padding"));
    // A kernel larger than the padded input leaves no output.
    CHECK_THROWS_WITH(conv2d(Tensor::zeros({2, 4, 2, 8}), w),
                      Contains("conv2d") && Contains("[2, 4, 2, 8]") && Contains("[6, 4, 3, 3]"));
    CHECK_THROWS_WITH(conv1d(Tensor::zeros({1, 1, 5}), Tensor::zeros({1, 1, 3}), {}, {.dilation = {3}}),
                      Contains("conv1d") && Contains("[1, 1, 5]"));
    CHECK_NOTHROW(conv2d(Tensor::zeros({2, 4, 1, 8}), w, {}, {.padding = {1}}));
    // Element types.
    CHECK_THROWS_WITH(conv2d(x, Tensor::zeros({6, 4, 3, 3}, DType::Float64)),
                      Contains("conv2d") && Contains("float32") && Contains("float64") && Contains("[6, 4, 3, 3]"));
    CHECK_THROWS_WITH(conv2d(x, w, Tensor::zeros({6}, DType::Float64)), Contains("conv2d") && Contains("float64"));
    CHECK_THROWS_WITH(conv2d(Tensor::zeros({2, 4, 8, 8}, DType::Int64), Tensor::zeros({6, 4, 3, 3}, DType::Int64)),
                      Contains("conv2d") && Contains("int64"));
}

}  // namespace vgt::test::conv_test
