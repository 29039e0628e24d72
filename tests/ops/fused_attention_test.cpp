#include "support.hpp"

#include <cmath>
#include <vector>

#include <vgt/nn/attention.hpp>
#include <vgt/ops/elementwise.hpp>
#include <vgt/ops/fused_attention.hpp>
#include <vgt/ops/reduce.hpp>
#include <vgt/ops/view.hpp>

namespace vgt::test::fused_attention_test {

namespace {

struct Case {
    const char* name;
    Shape shape;  // [N, heads, L, d]
    bool with_bias;
    nn::AttentionMask mask;
    nn::MaskStyle style;
    std::int64_t tokens_per_frame;
    bool strided;  // q, k, v as heads of one packed [N, L, 3, heads, d] tensor
};

/// q, k, v [N, heads, L, d]: contiguous, or views into one packed projection.
std::vector<Tensor> operands(const Shape& s, bool strided, std::uint64_t seed) {
    if (!strided) return {random(s, seed), random(s, seed + 1), random(s, seed + 2)};
    const Tensor packed = random({s[0], s[2], 3, s[1], s[3]}, seed);
    const Tensor heads = permute(packed, {2, 0, 3, 1, 4});  // [3, N, heads, L, d], no copy
    return {select(heads, 0, 0), select(heads, 0, 1), select(heads, 0, 2)};
}

}  // namespace

TEST_CASE("fused attention equals the composed ops, forward and gradients", "[ops][attention]") {
    using nn::AttentionMask;
    using nn::MaskStyle;
    const std::vector<Case> cases = {
        {"temporal, no mask", {5, 2, 4, 3}, false, AttentionMask::None, MaskStyle::PreSoftmax, 1, false},
        {"bias, packed heads", {3, 2, 5, 4}, true, AttentionMask::None, MaskStyle::PreSoftmax, 1, true},
        {"causal pre-softmax", {4, 3, 6, 2}, true, AttentionMask::Causal, MaskStyle::PreSoftmax, 1, true},
        {"causal post-softmax", {4, 1, 5, 3}, false, AttentionMask::Causal, MaskStyle::PostSoftmax, 1, false},
        {"frames of several tokens", {2, 2, 6, 3}, true, AttentionMask::Causal, MaskStyle::PreSoftmax, 3, false},
        {"one token", {3, 2, 1, 4}, false, AttentionMask::Causal, MaskStyle::PreSoftmax, 1, true},
    };
    set_num_threads(2);
    for (const Case& c : cases) {
        INFO(c.name);
        const std::vector<Tensor> qkv = operands(c.shape, c.strided, 10);
        const Tensor bias = c.with_bias ? random({c.shape[1], c.shape[2], c.shape[2]}, 20) : Tensor{};
        const Tensor seed_grad = random(c.shape, 30);
        auto run = [&](bool fused) {
            std::vector<Tensor> leaves;
            for (const Tensor& t : qkv) leaves.push_back(detach(t));
            if (bias.defined()) leaves.push_back(detach(bias));
            for (Tensor& t : leaves) t.set_requires_grad();
            const Tensor b = bias.defined() ? leaves[3] : Tensor{};
            const Tensor y = fused ? nn::scaled_dot_product_attention(leaves[0], leaves[1], leaves[2], b, c.mask,
                                                                      c.style, c.tokens_per_frame)
                                   : nn::detail::composed_attention(leaves[0], leaves[1], leaves[2], b, c.mask,
                                                                    c.style, c.tokens_per_frame);
            backward(y, seed_grad);
            std::vector<Tensor> out{contiguous(y)};
            for (const Tensor& t : leaves) out.push_back(t.grad());
            return out;
        };
        const auto fused = run(true), composed = run(false);
        for (std::size_t i = 0; i < fused.size(); ++i) {
            INFO("output, dq, dk, dv, dbias: " << i);
            REQUIRE(fused[i].shape() == composed[i].shape());
            CHECK(max_relative_error(fused[i], composed[i]) < 1e-12);
        }
        VGT_REQUIRE_GRADCHECK(
            [&](const std::vector<Tensor>& t) {
                return nn::scaled_dot_product_attention(t[0], t[1], t[2], t.size() > 3 ? t[3] : Tensor{}, c.mask,
                                                        c.style, c.tokens_per_frame);
            },
            bias.defined() ? std::vector<Tensor>{qkv[0], qkv[1], qkv[2], bias}
                           : std::vector<Tensor>{qkv[0], qkv[1], qkv[2]});
    }
}

TEST_CASE("fused attention: masked weights are exactly zero and rows sum to one", "[ops][attention]") {
    const Shape s{2, 2, 4, 3};
    const Tensor q = random(s, 1), k = random(s, 2);
    const Tensor v = Tensor::ones(s, DType::Float64);
    // With v all ones every output is the row sum of the weights.
    const auto pre = contiguous(fused_attention(q, k, v, {}, 0.5, {.causal = true})).to_vector();
    for (double x : pre) CHECK(x == Approx(1.0).epsilon(1e-14));
    // Post-softmax: query 0 keeps only its own key's share of a softmax over all 4 keys.
    const auto post = contiguous(fused_attention(q, k, v, {}, 0.5, {.causal = true, .post_softmax = true})).to_vector();
    CHECK(post[0] < 1.0);
    CHECK(post.back() == Approx(1.0).epsilon(1e-14));  // the last query sees every key
}

TEST_CASE("causal fused attention in float32: later tokens reach no earlier output, exactly",
          "[ops][attention]") {
    // As pixel_attention's: later values never reach query 0, later keys only
    // through a post-softmax mask's denominator. 17 tokens: rows long enough
    // for the SIMD body of exp, and a remainder.
    const Shape s{2, 2, 17, 4};
    for (bool post : {false, true}) {
        INFO((post ? "post-softmax" : "pre-softmax"));
        std::vector<Tensor> qkv;
        for (std::uint64_t seed : {7, 8, 9}) qkv.push_back(random(s, seed, -3, 3, DType::Float32).set_requires_grad());
        const Tensor y = fused_attention(qkv[0], qkv[1], qkv[2], {}, 0.5, {.causal = true, .post_softmax = post});
        backward(sum(select(y, 2, 0)));  // query 0 of every sequence and head
        CHECK(max(abs(slice(qkv[2].grad(), 2, 1, 17))).item() == 0.0);
        CHECK((max(abs(slice(qkv[1].grad(), 2, 1, 17))).item() == 0.0) == !post);
        CHECK(max(abs(select(qkv[2].grad(), 2, 0))).item() > 0.0);
    }
}

TEST_CASE("fused attention names what it expected on bad input", "[ops][attention]") {
    const Tensor q = random({2, 2, 4, 3}, 1);
    CHECK_THROWS_WITH(fused_attention(q, random({2, 2, 4, 2}, 2), q, {}, 1.0),
                      Catch::Contains("fused_attention") && Catch::Contains("[N, heads, L, d]"));
    CHECK_THROWS_WITH(fused_attention(q, q, q, random({2, 4, 3}, 3), 1.0), Catch::Contains("bias [2, 4, 4]"));
    CHECK_THROWS_WITH(fused_attention(q, q, q, {}, 1.0, {.causal = true, .tokens_per_frame = 3}),
                      Catch::Contains("multiple of tokens_per_frame 3"));
    CHECK_THROWS_WITH(fused_attention(q, random({2, 2, 4, 3}, 2, -1, 1, DType::Float32), q, {}, 1.0),
                      Catch::Contains("one dtype"));
}

}  // namespace vgt::test::fused_attention_test
