#include "block_harness.hpp"

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <vgt/temporal/flow_warp.hpp>
#include <vgt/temporal/frame_delta.hpp>
#include <vgt/temporal/no_mixer.hpp>
#include <vgt/temporal/sequential.hpp>

namespace vgt::test::flow_delta_test {

using namespace vgt::temporal;

namespace {

using test::parameter;
using test::parameter_shapes;
using test::set_parameter;

using DeltaThenWarp = Sequential<FrameDelta, FlowWarp>;
using NoneThenDelta = Sequential<NoMixer, FrameDelta>;
using NoneThenWarp = Sequential<NoMixer, FlowWarp>;

static_assert(check_temporal_mixer<DeltaThenWarp>());
static_assert(check_temporal_mixer<NoneThenDelta>());
static_assert(DeltaThenWarp::name == "Sequential<FrameDelta,FlowWarp>");
static_assert(NoneThenDelta::name == "Sequential<NoMixer,FrameDelta>");
static_assert(Sequential<DeltaThenWarp, NoMixer>::name == "Sequential<Sequential<FrameDelta,FlowWarp>,NoMixer>");

MixerOptions mixer_options(std::int64_t channels, std::int64_t norm_groups = 0) {
    MixerOptions o;
    o.channels = channels;
    o.norm_groups = norm_groups;
    o.dtype = DType::Float64;
    return o;
}

template <class Block>
Block make_mixer(std::int64_t channels, std::uint64_t seed, std::int64_t norm_groups = 0) {
    Generator gen(seed);
    return Block(mixer_options(channels, norm_groups), gen);
}

/// A block conditioned on an embedding of width `embedding_dim`.
template <class Block>
Block make_conditioned(std::int64_t channels, std::int64_t embedding_dim, std::uint64_t seed) {
    MixerOptions o = mixer_options(channels);
    o.embedding_dim = embedding_dim;
    Generator gen(seed);
    return Block(o, gen);
}

/// A [C, 2C, k...] weight (k = 1 for each entry of `taps`, or the given
/// extents) that copies input channel offset + c to output channel c at tap `centre`.
Tensor selector_weight(std::int64_t channels, std::int64_t offset, const Shape& taps, std::int64_t centre) {
    Shape shape{channels, 2 * channels};
    std::int64_t per_filter = 1;
    for (std::int64_t k : taps) {
        shape.push_back(k);
        per_filter *= k;
    }
    Tensor w = Tensor::zeros(shape, DType::Float64);
    double* data = w.data<double>();
    for (std::int64_t c = 0; c < channels; ++c) data[(c * 2 * channels + offset + c) * per_filter + centre] = 1.0;
    return w;
}

/// Gradcheck of forward(xs) with respect to `inputs` and every parameter of
/// the block, which forward reads from the block (xs holds the inputs first,
/// then the parameters); the parameters are put back afterwards.
template <class Block, class Forward>
void check_gradients_with(Block& block, std::vector<Tensor> inputs, const Forward& forward) {
    const std::size_t first = inputs.size();
    block.visit_parameters([&](const std::string&, Tensor& p) { inputs.push_back(p); }, "");
    const std::vector<Tensor> saved = inputs;
    const auto set_parameters = [&](const std::vector<Tensor>& from) {
        std::size_t k = first;
        block.visit_parameters([&](const std::string&, Tensor& p) { p = from[k++]; }, "");
    };
    VGT_REQUIRE_GRADCHECK(
        [&](const std::vector<Tensor>& xs) {
            set_parameters(xs);
            return forward(xs);
        },
        inputs);
    set_parameters(saved);
}

/// GroupNorm per frame with unit weight and zero bias, [B, T, C, H, W].
Tensor normalized(const Tensor& x, std::int64_t groups) {
    return unfold_frames(group_norm(fold_frames(x), groups), x.size(0));
}

/// An external flow [B, T, 2, H, W] of constant (dx, dy).
Tensor constant_flow(std::int64_t b, std::int64_t t, std::int64_t h, std::int64_t w, double dx, double dy) {
    Tensor flow = Tensor::zeros({b, t, 2, h, w}, DType::Float64);
    slice(flow, 2, 0, 1).fill_(dx);
    slice(flow, 2, 1, 2).fill_(dy);
    return flow;
}

}  // namespace

TEST_CASE("FlowWarp, FrameDelta and their Sequential combinations start as the identity",
          "[temporal][flow_warp][frame_delta][sequential]") {
    NoGradGuard no_grad;
    const Tensor x = test::random({2, 4, 8, 3, 5}, 1);
    const auto warp_block = make_mixer<FlowWarp>(8, 2);
    CHECK(test::max_abs_difference(warp_block.forward(x), x) == 0.0);
    CHECK(test::max_abs_difference(warp_block.predicted_flow(x), Tensor::zeros({2, 4, 2, 3, 5}, DType::Float64)) ==
          0.0);
    CHECK(test::max_abs_difference(warp_block.forward(x, test::random({2, 4, 2, 3, 5}, 3)), x) == 0.0);
    CHECK(test::max_abs_difference(make_mixer<FrameDelta>(8, 4).forward(x), x) == 0.0);
    CHECK(test::max_abs_difference(make_mixer<DeltaThenWarp>(8, 5).forward(x), x) == 0.0);
    CHECK(test::max_abs_difference(make_mixer<NoneThenDelta>(8, 6).forward(x), x) == 0.0);
}

TEST_CASE("FlowWarp is causal and FrameDelta reads the next frame", "[temporal][flow_warp][frame_delta][causal]") {
    const Tensor x = test::random({2, 4, 4, 3, 5}, 10);
    auto warp_block = make_mixer<FlowWarp>(4, 11);
    test::randomize_parameters(warp_block, 12);
    CHECK(warp_block.is_causal());
    test::check_causal(warp_block, x);

    auto warp_after_none = make_mixer<NoneThenWarp>(4, 13);
    test::randomize_parameters(warp_after_none, 14);
    CHECK(warp_after_none.is_causal());
    test::check_causal(warp_after_none, x);

    auto delta = make_mixer<FrameDelta>(4, 15);
    test::randomize_parameters(delta, 16);
    CHECK_FALSE(delta.is_causal());
    CHECK_FALSE(make_mixer<DeltaThenWarp>(4, 17).is_causal());
    CHECK_FALSE(make_mixer<NoneThenDelta>(4, 18).is_causal());
    // Output frame 0 changes when only input frame 1 does.
    NoGradGuard no_grad;
    const Tensor changed = concat({test::frames(x, 0, 1), test::random({2, 1, 4, 3, 5}, 19), test::frames(x, 2, 4)}, 1);
    CHECK(test::max_abs_difference(test::frames(delta.forward(changed), 0, 1), test::frames(delta.forward(x), 0, 1)) >
          1e-6);
}

TEST_CASE("FlowWarp with an external flow of one whole pixel warps the previous frame by a shift",
          "[temporal][flow_warp]") {
    NoGradGuard no_grad;
    const std::int64_t b = 2, t = 3, c = 4, h = 4, w = 5;
    const Tensor x = test::random({b, t, c, h, w}, 20);
    auto block = make_mixer<FlowWarp>(c, 21);
    // The scene moved one pixel right and one up from t − 1 to t: frame t
    // finds pixel (i, j)'s content at (i + 1, j − 1) of frame t − 1.
    const Tensor flow = constant_flow(b, t, h, w, -1.0, 1.0);
    const Tensor hn = normalized(x, nn::default_norm_groups(c));
    const auto hv = hn.to_vector<double>();
    Tensor expected = Tensor::zeros({b, t, c, h, w}, DType::Float64);
    double* e = expected.data<double>();
    for (std::int64_t n = 0; n < b; ++n)
        for (std::int64_t f = 1; f < t; ++f)
            for (std::int64_t ch = 0; ch < c; ++ch)
                for (std::int64_t i = 0; i + 1 < h; ++i)
                    for (std::int64_t j = 1; j < w; ++j)
                        e[(((n * t + f) * c + ch) * h + i) * w + j] =
                            hv[static_cast<std::size_t>((((n * t + f - 1) * c + ch) * h + i + 1) * w + j - 1)];
    CHECK(test::max_abs_difference(block.warped_previous(x, flow), expected) <= 1e-12);

    // The same through forward: a fuse conv that copies the warped half, so y − x = warped.
    set_parameter(block, "fuse.weight", selector_weight(c, c, Shape{1, 1}, 0));
    CHECK(test::max_abs_difference(sub(block.forward(x, flow), x), expected) <= 1e-12);
    // Without flow, warped = the previous frame itself.
    const Tensor still = concat({Tensor::zeros({b, 1, c, h, w}, DType::Float64), test::frames(hn, 0, t - 1)}, 1);
    CHECK(test::max_abs_difference(sub(block.forward(x, constant_flow(b, t, h, w, 0, 0)), x), still) <= 1e-12);
}

TEST_CASE("FlowWarp resizes an external flow to the frame size and scales its vectors", "[temporal][flow_warp]") {
    NoGradGuard no_grad;
    const std::int64_t b = 1, t = 3, c = 4, h = 4, w = 6;
    const Tensor x = test::random({b, t, c, h, w}, 30);
    auto block = make_mixer<FlowWarp>(c, 31);
    test::randomize_parameters(block, 32);
    // (−0.5, 0.5) pixels of a 2×3 grid are (−1, 1) pixels of the 4×6 frames.
    const Tensor half = constant_flow(b, t, h / 2, w / 2, -0.5, 0.5);
    const Tensor full = constant_flow(b, t, h, w, -1.0, 1.0);
    CHECK(test::max_abs_difference(block.warped_previous(x, half), block.warped_previous(x, full)) <= 1e-12);
    CHECK(test::max_abs_difference(block.forward(x, half), block.forward(x, full)) <= 1e-12);
    // Unscaled, the vectors would shift by half a pixel: the check could fail.
    CHECK(test::max_abs_difference(block.warped_previous(x, constant_flow(b, t, h, w, -0.5, 0.5)),
                                   block.warped_previous(x, full)) > 1e-3);
    // Frame 0 of an external flow is ignored.
    Tensor other_first = clone(full);
    slice(other_first, 1, 0, 1).fill_(7.0);
    CHECK(test::max_abs_difference(block.forward(x, other_first), block.forward(x, full)) == 0.0);
}

TEST_CASE("FlowWarp's own flow is the external flow it would be given", "[temporal][flow_warp]") {
    NoGradGuard no_grad;
    const Tensor x = test::random({2, 3, 4, 3, 5}, 40);
    auto block = make_mixer<FlowWarp>(4, 41);
    test::randomize_parameters(block, 42);
    const Tensor flow = block.predicted_flow(x);
    REQUIRE(flow.shape() == Shape{2, 3, 2, 3, 5});
    CHECK(test::max_abs_difference(test::frames(flow, 0, 1), Tensor::zeros({2, 1, 2, 3, 5}, DType::Float64)) == 0.0);
    CHECK(test::max_abs_difference(test::frames(flow, 1, 3), Tensor::zeros({2, 2, 2, 3, 5}, DType::Float64)) > 0.5);
    CHECK(test::max_abs_difference(block.forward(x, flow), block.forward(x)) <= 1e-12);
    CHECK(test::max_abs_difference(block.warped_previous(x, flow), block.warped_previous(x)) <= 1e-12);
}

TEST_CASE("A conditioned FlowWarp adds the embedding's flow, per clip or per frame", "[temporal][flow_warp]") {
    NoGradGuard no_grad;
    const std::int64_t b = 2, t = 3, c = 4, h = 3, w = 5, d = 6;
    const Tensor x = test::random({b, t, c, h, w}, 140);
    const Tensor e = test::random({b, d}, 141);
    auto block = make_conditioned<FlowWarp>(c, d, 142);
    CHECK(block.embedding_dim() == d);
    // At init the embedding's linear is zero like the head's last conv and the fuse: the identity.
    CHECK(test::max_abs_difference(block.forward_conditioned(x, e), x) == 0.0);
    CHECK(test::max_abs_difference(block.predicted_flow(x, e), Tensor::zeros({b, t, 2, h, w}, DType::Float64)) == 0.0);

    test::randomize_parameters(block, 143);
    auto plain = make_mixer<FlowWarp>(c, 142);  // the same head, no embedding
    plain.visit_parameters([&](const std::string& name, Tensor& p) { p = clone(parameter(block, name)); }, "");
    // The difference of the flows is Linear(e) for frames ≥ 1, at every pixel, and zero at frame 0.
    const Tensor linear_e = add(matmul(e, transpose(parameter(block, "flow_embedding.weight"), 0, 1)),
                                parameter(block, "flow_embedding.bias"));  // [B, 2]
    const Tensor difference = sub(block.predicted_flow(x, e), plain.predicted_flow(x));
    const Tensor expected_later = expand(reshape(linear_e, {b, 1, 2, 1, 1}), {b, t - 1, 2, h, w});
    CHECK(test::max_abs_difference(test::frames(difference, 1, t), expected_later) <= 1e-12);
    CHECK(test::max_abs_difference(test::frames(difference, 0, 1), Tensor::zeros({b, 1, 2, h, w}, DType::Float64)) ==
          0.0);
    CHECK(test::max_abs_difference(linear_e, Tensor::zeros({b, 2}, DType::Float64)) > 0.1);
    // The conditioned block is the plain one given that flow.
    CHECK(test::max_abs_difference(block.forward_conditioned(x, e), block.forward(x, block.predicted_flow(x, e))) <=
          1e-12);

    // Per frame: equal rows are the clip's embedding; frame t reads row t, and row 0 is unused.
    const Tensor rows = concat({reshape(e, {b, 1, d}), reshape(e, {b, 1, d}), reshape(e, {b, 1, d})}, 1);
    CHECK(test::max_abs_difference(block.forward_conditioned(x, rows), block.forward_conditioned(x, e)) <= 1e-12);
    Tensor other_row0 = clone(rows);
    slice(other_row0, 1, 0, 1).fill_(3.0);
    CHECK(test::max_abs_difference(block.forward_conditioned(x, other_row0), block.forward_conditioned(x, rows)) ==
          0.0);
    Tensor other_row2 = clone(rows);
    slice(other_row2, 1, 2, 3).fill_(3.0);
    const Tensor y2 = block.forward_conditioned(x, other_row2), y = block.forward_conditioned(x, rows);
    CHECK(test::max_abs_difference(test::frames(y2, 0, 2), test::frames(y, 0, 2)) == 0.0);
    CHECK(test::max_abs_difference(test::frames(y2, 2, 3), test::frames(y, 2, 3)) > 1e-3);
    // T = 1 has no pair to warp: the embedding has no effect.
    const Tensor one = test::random({b, 1, c, h, w}, 144);
    CHECK(test::max_abs_difference(block.forward_conditioned(one, e), plain.forward(one)) <= 1e-12);
}

TEST_CASE("A constant embedding flow of one pixel shifts the previous frame", "[temporal][flow_warp]") {
    NoGradGuard no_grad;
    const std::int64_t b = 1, t = 2, c = 4, h = 4, w = 5, d = 3;
    const Tensor x = test::random({b, t, c, h, w}, 150);
    auto block = make_conditioned<FlowWarp>(c, d, 151);
    // The head stays zero; the embedding (1, 0, 0) maps to the flow (−1, 0): the scene moved right by a pixel.
    Tensor weight = Tensor::zeros({2, d}, DType::Float64);
    weight.data<double>()[0] = -1.0;
    set_parameter(block, "flow_embedding.weight", weight);
    set_parameter(block, "fuse.weight", selector_weight(c, c, Shape{1, 1}, 0));
    const Tensor e = Tensor::from_vector(std::vector<double>{1.0, 0.0, 0.0}, Shape{b, d});
    const Tensor moved = sub(block.forward_conditioned(x, e), x);
    CHECK(test::max_abs_difference(moved, block.warped_previous(x, constant_flow(b, t, h, w, -1.0, 0.0))) <= 1e-12);
    // Frame 1 at column j holds frame 0's column j − 1.
    const Tensor hn = normalized(x, nn::default_norm_groups(c));
    CHECK(test::max_abs_difference(slice(test::frames(moved, 1, 2), 4, 1, w),
                                   slice(test::frames(hn, 0, 1), 4, 0, w - 1)) <= 1e-12);
}

TEST_CASE("Sequential gives the embedding to the parts that take one", "[temporal][flow_warp][sequential]") {
    NoGradGuard no_grad;
    using DeltaThenConditionedWarp = Sequential<FrameDelta, FlowWarp>;
    static_assert(TakesEmbedding<DeltaThenConditionedWarp>);
    static_assert(!TakesEmbedding<NoneThenDelta>);
    auto both = make_conditioned<DeltaThenConditionedWarp>(4, 5, 160);
    test::randomize_parameters(both, 161);
    const Tensor x = test::random({2, 3, 4, 3, 5}, 162);
    const Tensor e = test::random({2, 5}, 163);
    CHECK(test::max_abs_difference(both.forward_conditioned(x, e),
                                   both.part<1>().forward_conditioned(both.part<0>().forward(x), e)) == 0.0);
    CHECK(parameter(both, "1.flow_embedding.weight").shape() == Shape{2, 5});
    CHECK(parameter_shapes(both).size() == 16);

    // An external flow goes to the parts that take one in the same way.
    static_assert(TakesFlow<DeltaThenConditionedWarp>);
    static_assert(!TakesFlow<NoneThenDelta>);
    const Tensor flow = test::random({2, 3, 2, 3, 5}, 164, -1.5, 1.5);
    CHECK(test::max_abs_difference(both.forward(x, flow), both.part<1>().forward(both.part<0>().forward(x), flow)) ==
          0.0);
}

TEST_CASE("FlowWarp gradients with an embedding", "[temporal][flow_warp][gradcheck]") {
    auto block = make_conditioned<FlowWarp>(4, 3, 170);
    test::randomize_parameters(block, 171);
    for (const Shape& e_shape : {Shape{2, 3}, Shape{2, 3, 3}}) {
        INFO("embedding of rank " << e_shape.rank());
        check_gradients_with(block, {test::random({2, 3, 4, 3, 4}, 172), test::random(e_shape, 173)},
                             [&](const std::vector<Tensor>& xs) { return block.forward_conditioned(xs[0], xs[1]); });
    }
}

TEST_CASE("A conditioned FlowWarp refuses calls without its embedding and bad embeddings", "[temporal][flow_warp]") {
    const auto conditioned = make_conditioned<FlowWarp>(4, 6, 180);
    const auto plain = make_mixer<FlowWarp>(4, 181);
    const Tensor x = Tensor::zeros({2, 3, 4, 3, 5}, DType::Float64);
    CHECK_THROWS_WITH(conditioned.forward(x), Catch::Contains("FlowWarp") &&
                                                  Catch::Contains("forward_conditioned(video, embedding)") &&
                                                  Catch::Contains("embedding_dim = 6"));
    CHECK_THROWS_WITH(conditioned.predicted_flow(x), Catch::Contains("predicted_flow(video, embedding)"));
    CHECK_THROWS_WITH(conditioned.warped_previous(x),
                      Catch::Contains("warped_previous(video, predicted_flow(video, embedding))"));
    CHECK_THROWS_WITH(plain.forward_conditioned(x, Tensor::zeros({2, 6}, DType::Float64)),
                      Catch::Contains("FlowWarp") && Catch::Contains("embedding_dim = 0"));
    CHECK_THROWS_WITH(conditioned.forward_conditioned(x, Tensor::zeros({2, 5}, DType::Float64)),
                      Catch::Contains("[2, 6] (batch, embedding_dim) or [2, 3, 6]") && Catch::Contains("[2, 5]"));
    CHECK_THROWS_WITH(conditioned.forward_conditioned(x, Tensor::zeros({2, 2, 6}, DType::Float64)),
                      Catch::Contains("[2, 2, 6]"));
    CHECK_THROWS_WITH(conditioned.forward_conditioned(x, Tensor{}), Catch::Contains("found none"));
    CHECK_THROWS_WITH(conditioned.forward_conditioned(x, Tensor::zeros({2, 6}, DType::Float32)),
                      Catch::Contains("float32"));
    MixerOptions negative = mixer_options(4);
    negative.embedding_dim = -1;
    Generator gen(182);
    CHECK_THROWS_WITH(FlowWarp(negative, gen), Catch::Contains("embedding_dim >= 0") && Catch::Contains("-1"));
}

TEST_CASE("FrameDelta sees d_0 = 0 and d_t = h_t − h_{t−1}", "[temporal][frame_delta]") {
    NoGradGuard no_grad;
    const std::int64_t b = 2, t = 4, c = 4, h = 3, w = 5;
    const Tensor x = test::random({b, t, c, h, w}, 50);
    auto block = make_mixer<FrameDelta>(c, 51);
    // e = d at the centre tap, out = identity: y − x = SiLU(d).
    set_parameter(block, "temporal.weight", selector_weight(c, c, Shape{3}, 1));
    set_parameter(block, "temporal.bias", Tensor::zeros({c}, DType::Float64));
    Tensor eye = Tensor::zeros({c, c, 1, 1}, DType::Float64);
    for (std::int64_t k = 0; k < c; ++k) eye.data<double>()[k * c + k] = 1.0;
    set_parameter(block, "out.weight", eye);
    const Tensor hn = normalized(x, nn::default_norm_groups(c));
    const Tensor d = concat({Tensor::zeros({b, 1, c, h, w}, DType::Float64),
                             sub(test::frames(hn, 1, t), test::frames(hn, 0, t - 1))},
                            1);
    CHECK(test::max_abs_difference(sub(block.forward(x), x), silu(d)) <= 1e-12);

    // A still video has d = 0 everywhere, d_0 included: the weights on d do nothing.
    auto random_block = make_mixer<FrameDelta>(c, 52);
    test::randomize_parameters(random_block, 53);
    const Tensor still = concat({test::frames(x, 0, 1), test::frames(x, 0, 1), test::frames(x, 0, 1)}, 1);
    const Tensor before = random_block.forward(still);
    Tensor w_no_delta = clone(parameter(random_block, "temporal.weight"));
    slice(w_no_delta, 1, c, 2 * c).fill_(0.0);
    auto masked = make_mixer<FrameDelta>(c, 52);  // a copy would share the parameters' storage
    test::randomize_parameters(masked, 53);
    set_parameter(masked, "temporal.weight", w_no_delta);
    CHECK(test::max_abs_difference(masked.forward(still), before) <= 1e-12);
    CHECK(test::max_abs_difference(masked.forward(x), random_block.forward(x)) > 1e-3);
}

TEST_CASE("FlowWarp and FrameDelta run on any T", "[temporal][flow_warp][frame_delta]") {
    NoGradGuard no_grad;
    auto warp_block = make_mixer<FlowWarp>(4, 60);
    auto delta = make_mixer<FrameDelta>(4, 61);
    auto both = make_mixer<DeltaThenWarp>(4, 62);
    test::randomize_parameters(warp_block, 63);
    test::randomize_parameters(delta, 64);
    test::randomize_parameters(both, 65);
    for (std::int64_t t : {1, 2, 7}) {
        INFO("T = " << t);
        const Tensor x = test::random({2, t, 4, 3, 5}, 66);
        CHECK(warp_block.forward(x).shape() == x.shape());
        CHECK(warp_block.forward(x, test::random({2, t, 2, 2, 2}, 67)).shape() == x.shape());
        CHECK(warp_block.predicted_flow(x).shape() == Shape{2, t, 2, 3, 5});
        CHECK(warp_block.warped_previous(x).shape() == x.shape());
        CHECK(delta.forward(x).shape() == x.shape());
        CHECK(both.forward(x).shape() == x.shape());
    }
    // T = 1: the warped previous frame is zero, so the output is x + fuse([h, 0]).
    const Tensor one = test::random({2, 1, 4, 3, 5}, 68);
    CHECK(test::max_abs_difference(warp_block.warped_previous(one), Tensor::zeros({2, 1, 4, 3, 5}, DType::Float64)) ==
          0.0);
    CHECK(test::max_abs_difference(warp_block.forward(one), one) > 1e-3);
}

TEST_CASE("FlowWarp gradients with its flow head", "[temporal][flow_warp][gradcheck]") {
    auto block = make_mixer<FlowWarp>(4, 70);
    test::randomize_parameters(block, 71);
    {
        NoGradGuard no_grad;
        REQUIRE(test::max_abs_difference(block.predicted_flow(test::random({1, 3, 4, 3, 5}, 72)),
                                         Tensor::zeros({1, 3, 2, 3, 5}, DType::Float64)) > 0.5);
    }
    test::check_block_gradients(block, test::random({1, 3, 4, 3, 5}, 72));
    test::check_block_gradients(block, test::random({2, 1, 4, 3, 5}, 73));
}

TEST_CASE("FlowWarp gradients with an external flow at another resolution", "[temporal][flow_warp][gradcheck]") {
    auto block = make_mixer<FlowWarp>(4, 80);
    test::randomize_parameters(block, 81);
    check_gradients_with(block, {test::random({1, 3, 4, 3, 5}, 82), test::random({1, 3, 2, 2, 3}, 83, -1.3, 1.3)},
                         [&](const std::vector<Tensor>& xs) { return block.forward(xs[0], xs[1]); });
}

TEST_CASE("FrameDelta and Sequential gradients", "[temporal][frame_delta][sequential][gradcheck]") {
    auto delta = make_mixer<FrameDelta>(4, 90);
    test::randomize_parameters(delta, 91);
    test::check_block_gradients(delta, test::random({2, 4, 4, 3, 5}, 92));
    test::check_block_gradients(delta, test::random({1, 1, 4, 3, 5}, 93));
    auto both = make_mixer<DeltaThenWarp>(4, 94);
    test::randomize_parameters(both, 95);
    test::check_block_gradients(both, test::random({1, 3, 4, 3, 5}, 96));
}

TEST_CASE("Sequential names parameters by position and builds its parts in order", "[temporal][sequential]") {
    const auto both = make_mixer<DeltaThenWarp>(4, 100);
    const auto names = parameter_shapes(both);
    REQUIRE(names.size() == 14);
    CHECK(names[0] == std::pair<std::string, Shape>{"0.norm.weight", Shape{4}});
    CHECK(names[2] == std::pair<std::string, Shape>{"0.temporal.weight", Shape{4, 8, 3}});
    CHECK(names[6] == std::pair<std::string, Shape>{"1.norm.weight", Shape{4}});
    CHECK(names[13] == std::pair<std::string, Shape>{"1.fuse.bias", Shape{4}});
    // Part 0 draws first from the generator, part 1 next.
    Generator gen(100);
    const FrameDelta first(mixer_options(4), gen);
    const FlowWarp second(mixer_options(4), gen);
    CHECK(test::max_abs_difference(parameter(both, "0.temporal.weight"), parameter(first, "temporal.weight")) == 0.0);
    CHECK(test::max_abs_difference(parameter(both, "1.flow_head.0.weight"), parameter(second, "flow_head.0.weight")) ==
          0.0);
    CHECK(both.part<0>().params() == first.params());
    CHECK(both.part<0>().params() + both.part<1>().params() == both.params());
    CHECK(std::string(DeltaThenWarp::name) == "Sequential<FrameDelta,FlowWarp>");

    // The combination is its parts in order.
    auto randomized = make_mixer<DeltaThenWarp>(4, 101);
    test::randomize_parameters(randomized, 102);
    NoGradGuard no_grad;
    const Tensor x = test::random({2, 3, 4, 3, 5}, 103);
    CHECK(test::max_abs_difference(randomized.forward(x),
                                   randomized.part<1>().forward(randomized.part<0>().forward(x))) == 0.0);
}

TEST_CASE("FlowWarp, FrameDelta and Sequential parameter names, counts and FLOPs",
          "[temporal][flow_warp][frame_delta][sequential]") {
    const std::int64_t c = 8;
    const auto warp_block = make_mixer<FlowWarp>(c, 110);
    const auto delta = make_mixer<FrameDelta>(c, 111);
    const std::vector<std::pair<std::string, Shape>> warp_names = {
        {"norm.weight", {8}},          {"norm.bias", {8}},
        {"flow_head.0.weight", {8, 16, 3, 3}}, {"flow_head.0.bias", {8}},
        {"flow_head.1.weight", {2, 8, 3, 3}},  {"flow_head.1.bias", {2}},
        {"fuse.weight", {8, 16, 1, 1}},        {"fuse.bias", {8}}};
    CHECK(parameter_shapes(warp_block) == warp_names);
    const std::vector<std::pair<std::string, Shape>> delta_names = {
        {"norm.weight", {8}}, {"norm.bias", {8}},        {"temporal.weight", {8, 16, 3}},
        {"temporal.bias", {8}}, {"out.weight", {8, 8, 1, 1}}, {"out.bias", {8}}};
    CHECK(parameter_shapes(delta) == delta_names);

    // FlowWarp: 2C + (C·2C·9 + C) + (2·C·9 + 2) + (C·2C + C) = 16 + 1160 + 146 + 136.
    CHECK(warp_block.params() == 1458);
    // FrameDelta: 2C + (C·2C·3 + C) + (C·C + C) = 16 + 392 + 72.
    CHECK(delta.params() == 480);
    CHECK(make_mixer<DeltaThenWarp>(c, 112).params() == 1458 + 480);
    CHECK(make_mixer<NoneThenDelta>(c, 113).params() == 480);

    const Shape shape{2, 4, 8, 3, 5};  // B, T, C, H, W
    // Flow head 2·B·(T−1)·H·W·(C·2C·9 + 2·C·9) = 2·2·3·15·1296 = 233280,
    // fuse on every frame 2·B·T·H·W·C·2C = 2·2·4·15·128 = 30720.
    CHECK(warp_block.flops(shape) == 264000.0);
    // Temporal conv 2·B·T·H·W·C·2C·3 = 92160, out 2·B·T·H·W·C·C = 15360.
    CHECK(delta.flops(shape) == 107520.0);
    CHECK(make_mixer<DeltaThenWarp>(c, 114).flops(shape) == 264000.0 + 107520.0);
    CHECK(make_mixer<NoneThenDelta>(c, 115).flops(shape) == 107520.0);
    // T = 1 has no frame pair: only the fuse conv runs.
    CHECK(warp_block.flops(Shape{2, 1, 8, 3, 5}) == 2.0 * 2 * 1 * 15 * 8 * 16);

    // Conditioned on a D = 5 embedding: flow_embedding [2, 5] and [2], 12 more
    // parameters, and its linear on every frame's row, 2·B·T·5·2 FLOPs.
    const auto conditioned = make_conditioned<FlowWarp>(c, 5, 116);
    std::vector<std::pair<std::string, Shape>> conditioned_names = warp_names;
    conditioned_names.push_back({"flow_embedding.weight", {2, 5}});
    conditioned_names.push_back({"flow_embedding.bias", {2}});
    CHECK(parameter_shapes(conditioned) == conditioned_names);
    CHECK(conditioned.params() == 1458 + 12);
    CHECK(conditioned.flops(shape) == 264000.0 + 2.0 * 2 * 4 * 5 * 2);
}

TEST_CASE("FlowWarp, FrameDelta and Sequential reject bad input", "[temporal][flow_warp][frame_delta][sequential]") {
    const auto warp_block = make_mixer<FlowWarp>(4, 120);
    const auto delta = make_mixer<FrameDelta>(4, 121);
    const auto both = make_mixer<DeltaThenWarp>(4, 122);
    const Tensor x = Tensor::zeros({2, 3, 4, 3, 5}, DType::Float64);
    CHECK_THROWS_WITH(warp_block.forward(Tensor::zeros({3, 4, 3, 5}, DType::Float64)),
                      Catch::Contains("FlowWarp") && Catch::Contains("[3, 4, 3, 5]"));
    CHECK_THROWS_WITH(warp_block.forward(Tensor::zeros({2, 3, 5, 3, 5}, DType::Float64)),
                      Catch::Contains("FlowWarp") && Catch::Contains("4 channels") &&
                          Catch::Contains("[2, 3, 5, 3, 5]"));
    CHECK_THROWS_WITH(warp_block.forward(x, Tensor::zeros({2, 2, 2, 3, 5}, DType::Float64)),
                      Catch::Contains("FlowWarp") && Catch::Contains("[2, 2, 2, 3, 5]") &&
                          Catch::Contains("[2, 3, 2, Hf, Wf]"));
    CHECK_THROWS_WITH(warp_block.forward(x, Tensor::zeros({2, 3, 3, 3, 5}, DType::Float64)),
                      Catch::Contains("FlowWarp") && Catch::Contains("[2, 3, 3, 3, 5]"));
    CHECK_THROWS_WITH(warp_block.forward(x, Tensor::zeros({2, 3, 2, 3, 5}, DType::Float32)),
                      Catch::Contains("FlowWarp") && Catch::Contains("float32"));
    CHECK_THROWS_WITH(delta.forward(Tensor::zeros({2, 3, 6, 3, 5}, DType::Float64)),
                      Catch::Contains("FrameDelta") && Catch::Contains("[2, 3, 6, 3, 5]"));
    CHECK_THROWS_WITH(delta.forward(Tensor::zeros({2, 3, 4, 3}, DType::Float64)),
                      Catch::Contains("FrameDelta") && Catch::Contains("[2, 3, 4, 3]"));
    CHECK_THROWS_WITH(both.forward(Tensor::zeros({2, 3, 4}, DType::Float64)),
                      Catch::Contains("Sequential<FrameDelta,FlowWarp>") && Catch::Contains("[2, 3, 4]"));
    Generator gen(123);
    CHECK_THROWS_WITH(FlowWarp(mixer_options(0), gen), Catch::Contains("FlowWarp") && Catch::Contains("0"));
    CHECK_THROWS_WITH(FrameDelta(mixer_options(6, 4), gen),
                      Catch::Contains("GroupNorm") && Catch::Contains("6 channels"));
}

TEST_CASE("FlowWarp, FrameDelta and Sequential match PyTorch", "[temporal][flow_warp][frame_delta][golden]") {
    test::check_against_torch<FlowWarp>("flow_warp_head");
    test::check_against_torch<FlowWarp>("flow_warp_head_g2_odd");
    test::check_against_torch<FlowWarp>("flow_warp_external_half", [](const FlowWarp& b, const io::SafetensorsFile& f) {
        return b.forward(f.at("input"), f.at("flow"));
    });
    for (const char* name : {"flow_warp_embedding_clip", "flow_warp_embedding_frames"})
        test::check_against_torch<FlowWarp>(name, [](const FlowWarp& b, const io::SafetensorsFile& f) {
            return b.forward_conditioned(f.at("input"), f.at("embedding"));
        });
    test::check_against_torch<FrameDelta>("frame_delta");
    test::check_against_torch<FrameDelta>("frame_delta_g2_t2");
    test::check_against_torch<DeltaThenWarp>("sequential_frame_delta_flow_warp");
}

}  // namespace vgt::test::flow_delta_test
