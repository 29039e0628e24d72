#include "support.hpp"

#include <vector>

#include <vgt/ops/elementwise.hpp>
#include <vgt/ops/fused_attention.hpp>
#include <vgt/ops/pixel_attention.hpp>
#include <vgt/ops/reduce.hpp>
#include <vgt/ops/view.hpp>
#include <vgt/position/frame_positions.hpp>

namespace vgt::test::pixel_attention_test {

namespace {

/// The same attention through per-pixel sequences: qkv [B, T, 3C, H, W] regrouped into
/// q, k, v [B·H·W, heads, T, d], fused_attention, and the result put back as a video.
Tensor through_sequences(const Tensor& qkv, std::int64_t heads, const Tensor& bias, const FusedAttentionMask& mask) {
    const std::int64_t b = qkv.size(0), t = qkv.size(1), c = qkv.size(2) / 3, h = qkv.size(3), w = qkv.size(4);
    const std::int64_t d = c / heads;
    const Tensor tokens = reshape(permute(qkv, {0, 3, 4, 1, 2}), Shape{b * h * w, t, 3, heads, d});
    const Tensor parts = permute(tokens, {2, 0, 3, 1, 4});  // [3, N, heads, T, d]
    const Tensor attended = fused_attention(select(parts, 0, 0), select(parts, 0, 1), select(parts, 0, 2), bias,
                                            1.0 / std::sqrt(static_cast<double>(d)), mask);  // [N, heads, T, d]
    const Tensor merged = reshape(permute(attended, {0, 2, 1, 3}), Shape{b, h, w, t, c});
    return contiguous(permute(merged, {0, 3, 4, 1, 2}));
}

struct Case {
    const char* name;
    Shape qkv;  // [B, T, 3C, H, W]
    std::int64_t heads;
    bool with_bias;
    FusedAttentionMask mask;
};

}  // namespace

TEST_CASE("pixel_attention equals attention over per-pixel sequences, forward and gradients",
          "[ops][attention]") {
    const std::vector<Case> cases = {
        {"two heads", {2, 4, 12, 3, 5}, 2, false, {}},
        {"bias", {1, 5, 6, 2, 3}, 1, true, {}},
        {"causal pre-softmax", {2, 6, 18, 3, 3}, 3, true, {.causal = true}},
        {"causal post-softmax", {1, 4, 6, 4, 2}, 2, false, {.causal = true, .post_softmax = true}},
        {"one frame", {2, 1, 6, 2, 2}, 1, false, {.causal = true}},
        // More pixels than one block of the kernel, and a partial last block.
        {"several pixel blocks", {1, 3, 6, 23, 13}, 2, true, {}},
    };
    set_num_threads(2);
    for (const Case& c : cases) {
        INFO(c.name);
        const Tensor qkv = random(c.qkv, 1, -2, 2);
        const Tensor bias = c.with_bias ? random({c.heads, c.qkv[1], c.qkv[1]}, 2) : Tensor{};
        Shape out_shape = c.qkv;
        out_shape[2] /= 3;
        const Tensor seed = random(out_shape, 3);
        auto run = [&](bool pixel) {
            Tensor x = detach(qkv), b = bias.defined() ? detach(bias) : Tensor{};
            x.set_requires_grad();
            if (b.defined()) b.set_requires_grad();
            const Tensor y = pixel ? pixel_attention(x, c.heads, b, c.mask) : through_sequences(x, c.heads, b, c.mask);
            backward(y, seed);
            return std::vector<Tensor>{y, x.grad(), b.defined() ? b.grad() : Tensor{}};
        };
        const auto pixel = run(true), sequences = run(false);
        for (std::size_t i = 0; i < pixel.size(); ++i) {
            if (!sequences[i].defined()) continue;
            INFO("output, grad qkv, grad bias: " << i);
            REQUIRE(pixel[i].shape() == sequences[i].shape());
            CHECK(max_relative_error(pixel[i], sequences[i]) < 1e-12);
        }
    }
    // Finite differences on one small case with every feature.
    const Tensor qkv = random({1, 3, 6, 2, 2}, 4);
    const Tensor bias = random({2, 3, 3}, 5);
    VGT_REQUIRE_GRADCHECK(
        [](const std::vector<Tensor>& t) { return pixel_attention(t[0], 2, t[1], {.causal = true}); },
        std::vector<Tensor>{qkv, bias});
}

TEST_CASE("pixel_attention with rotary tables equals sequences with rotated queries and keys",
          "[ops][attention]") {
    // Different tables for queries and keys, as XPos has; RoPE uses one pair twice.
    const std::int64_t b = 2, t = 5, c = 8, heads = 2, d = c / heads;
    const Tensor qkv = random({b, t, 3 * c, 3, 2}, 11, -2, 2);
    const Tensor bias = random({heads, t, t}, 12);
    const PixelRotary rotary{random({t, d / 2}, 13), random({t, d / 2}, 14), random({t, d / 2}, 15),
                             random({t, d / 2}, 16)};
    const FusedAttentionMask mask{.causal = true};
    const Tensor seed = random({b, t, c, 3, 2}, 17);
    auto run = [&](bool pixel) {
        Tensor x = detach(qkv), bb = detach(bias);
        x.set_requires_grad();
        bb.set_requires_grad();
        Tensor y;
        if (pixel) {
            y = pixel_attention(x, heads, bb, mask, rotary);
        } else {
            // Rotate q and k as [N, heads, T, d] sequences, the way the attention mixers do.
            const Tensor tokens = reshape(permute(x, {0, 3, 4, 1, 2}), Shape{b * 6, t, 3, heads, d});
            const Tensor parts = permute(tokens, {2, 0, 3, 1, 4});
            const Tensor q = detail::rotate_pairs(select(parts, 0, 0), rotary.cos_q, rotary.sin_q);
            const Tensor k = detail::rotate_pairs(select(parts, 0, 1), rotary.cos_k, rotary.sin_k);
            const Tensor attended =
                fused_attention(q, k, select(parts, 0, 2), bb, 1.0 / std::sqrt(static_cast<double>(d)), mask);
            const Tensor merged = reshape(permute(attended, {0, 2, 1, 3}), Shape{b, 3, 2, t, c});
            y = contiguous(permute(merged, {0, 3, 4, 1, 2}));
        }
        backward(y, seed);
        return std::vector<Tensor>{y, x.grad(), bb.grad()};
    };
    const auto pixel = run(true), sequences = run(false);
    for (std::size_t i = 0; i < pixel.size(); ++i) {
        INFO("output, grad qkv, grad bias: " << i);
        REQUIRE(pixel[i].shape() == sequences[i].shape());
        CHECK(max_relative_error(pixel[i], sequences[i]) < 1e-12);
    }
}

TEST_CASE("causal pixel_attention: later frames reach no earlier output, exactly", "[ops][attention]") {
    // float32, where a softmax of −∞ could leave subnormal weights. The
    // gradient of frame 0's output must be exactly 0 on every later frame's
    // values, and with the pre-softmax mask on their keys too (after the
    // softmax, later keys still enter its denominator: that mode is not causal).
    const std::int64_t frames = 5, c = 4;
    const Tensor qkv = random({1, frames, 3 * c, 3, 4}, 6, -3, 3, DType::Float32);
    for (bool post : {false, true}) {
        INFO((post ? "post-softmax" : "pre-softmax"));
        Tensor x = detach(qkv);
        x.set_requires_grad();
        const Tensor y = pixel_attention(x, 2, {}, {.causal = true, .post_softmax = post});
        backward(sum(select(y, 1, 0)));
        const Tensor later = slice(x.grad(), 1, 1, frames);
        CHECK(max(abs(slice(later, 2, 2 * c, 3 * c))).item() == 0.0);
        CHECK((max(abs(slice(later, 2, c, 2 * c))).item() == 0.0) == !post);
        CHECK(max(abs(slice(select(x.grad(), 1, 0), 1, 2 * c, 3 * c))).item() > 0.0);
    }
}

TEST_CASE("pixel_attention names what it expected on bad input", "[ops][attention]") {
    CHECK_THROWS_WITH(pixel_attention(random({1, 2, 7, 2, 2}, 1), 1),
                      Catch::Contains("pixel_attention") && Catch::Contains("[B, T, 3C, H, W]"));
    CHECK_THROWS_WITH(pixel_attention(random({1, 2, 6, 2, 2}, 1), 4), Catch::Contains("dividing 2 channels"));
    CHECK_THROWS_WITH(pixel_attention(random({1, 2, 6, 2, 2}, 1), 1, random({1, 3, 3}, 2)),
                      Catch::Contains("bias [1, 2, 2]"));
    const Tensor table = random({2, 1}, 3);
    CHECK_THROWS_WITH(pixel_attention(random({1, 2, 6, 2, 2}, 1), 1, {}, {}, {table, table, table, random({2, 2}, 4)}),
                      Catch::Contains("rotary tables [2, 1]") && Catch::Contains("[2, 2]"));
    CHECK_THROWS_WITH(pixel_attention(random({1, 2, 6, 2, 2}, 1), 2, {}, {}, {table, table, table, table}),
                      Catch::Contains("even size"));
}

}  // namespace vgt::test::pixel_attention_test
