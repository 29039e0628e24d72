// Attention mixers: scaled_dot_product_attention and its masks, and
// TemporalAttention, DirectedAttention, SpatioTemporalAttention with every
// position policy.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "block_harness.hpp"

#include <vgt/nn/attention.hpp>
#include <vgt/position/all.hpp>
#include <vgt/temporal/directed_attention.hpp>
#include <vgt/temporal/spatiotemporal_attention.hpp>
#include <vgt/temporal/temporal_attention.hpp>

namespace vgt::test::attention_test {

using vgt::test::random;

namespace {

/// softmax(q kᵀ/√d + bias + mask)·v by plain loops over [N, heads, L, d].
Tensor naive_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, bool causal,
                       bool post_softmax, std::int64_t tokens_per_frame) {
    const std::int64_t n = q.size(0), heads = q.size(1), length = q.size(2), d = q.size(3);
    const auto qv = q.to_vector<double>(), kv = k.to_vector<double>(), vv = v.to_vector<double>();
    const auto bv = bias.defined() ? bias.to_vector<double>() : std::vector<double>(heads * length * length, 0.0);
    std::vector<double> out(qv.size(), 0.0);
    std::vector<double> w(length);
    for (std::int64_t s = 0; s < n * heads; ++s) {
        const std::int64_t head = s % heads;
        for (std::int64_t i = 0; i < length; ++i) {
            auto visible = [&](std::int64_t j) { return !causal || j / tokens_per_frame <= i / tokens_per_frame; };
            double total = 0, top = -std::numeric_limits<double>::infinity();
            for (std::int64_t j = 0; j < length; ++j) {
                double dot = 0;
                for (std::int64_t c = 0; c < d; ++c) dot += qv[(s * length + i) * d + c] * kv[(s * length + j) * d + c];
                w[j] = dot / std::sqrt(double(d)) + bv[(head * length + i) * length + j];
                if (visible(j) || post_softmax) top = std::max(top, w[j]);
            }
            for (std::int64_t j = 0; j < length; ++j) {
                w[j] = (visible(j) || post_softmax) ? std::exp(w[j] - top) : 0.0;
                total += w[j];
            }
            for (std::int64_t j = 0; j < length; ++j) {
                w[j] /= total;
                if (!visible(j)) w[j] = 0;
                for (std::int64_t c = 0; c < d; ++c) out[(s * length + i) * d + c] += w[j] * vv[(s * length + j) * d + c];
            }
        }
    }
    return Tensor::from_vector(out, q.shape());
}

temporal::MixerOptions mixer_options(std::int64_t channels, std::int64_t heads) {
    temporal::MixerOptions o;
    o.channels = channels;
    o.heads = heads;
    o.dtype = DType::Float64;
    return o;
}

/// Output frame 0 changes when the last input frame does.
template <class Block>
bool sees_the_future(const Block& block, const Tensor& x) {
    NoGradGuard no_grad;
    const std::int64_t t = x.size(1);
    const Tensor changed =
        concat({test::frames(x, 0, t - 1), random(test::frames(x, t - 1, t).shape(), 999, -2.0, 2.0)}, 1);
    return test::max_abs_difference(test::frames(block.forward(x), 0, 1), test::frames(block.forward(changed), 0, 1)) >
           1e-9;
}

/// The golden-case suffix of a position policy: "none", "sinusoidal",
/// "learned", "relative_bias", "rope", "alibi", "xpos".
std::string policy_case_name(std::string_view policy) {
    if (policy == "NoPosition") return "none";
    if (policy == "RoPE") return "rope";
    if (policy == "ALiBi") return "alibi";
    if (policy == "XPos") return "xpos";
    std::string out;
    for (std::size_t i = 0; i < policy.size(); ++i) {
        const char c = policy[i];
        if (c >= 'A' && c <= 'Z') {
            if (i > 0) out += '_';
            out += static_cast<char>(c - 'A' + 'a');
        } else {
            out += c;
        }
    }
    return out;
}

/// Calls f.template operator()<Pos>() for every policy of position::AllPositions.
template <class F>
void for_each_position(F&& f) {
    [&]<class... Ps>(std::tuple<Ps...>*) { (f.template operator()<Ps>(), ...); }(
        static_cast<position::AllPositions*>(nullptr));
}

template <class Block>
std::vector<std::string> parameter_names(const Block& block) {
    std::vector<std::string> names;
    for (const auto& [name, p] : nn::named_parameters(block, "mixer")) names.push_back(name);
    return names;
}

}  // namespace

// ----- scaled_dot_product_attention -----------------------------------------

TEST_CASE("scaled_dot_product_attention matches softmax(q kᵀ/√d + bias)·v written out", "[attention]") {
    const Shape shape{2, 3, 6, 4};
    const Tensor q = random(shape, 1, -2, 2), k = random(shape, 2, -2, 2), v = random(shape, 3);
    const Tensor bias = random(Shape{3, 6, 6}, 4);
    NoGradGuard no_grad;
    CHECK(test::max_abs_difference(nn::scaled_dot_product_attention(q, k, v),
                                   naive_attention(q, k, v, {}, false, false, 1)) < 1e-12);
    CHECK(test::max_abs_difference(nn::scaled_dot_product_attention(q, k, v, bias),
                                   naive_attention(q, k, v, bias, false, false, 1)) < 1e-12);
    for (const std::int64_t tokens_per_frame : {1, 2, 3}) {
        INFO("tokens per frame " << tokens_per_frame);
        CHECK(test::max_abs_difference(
                  nn::scaled_dot_product_attention(q, k, v, bias, nn::AttentionMask::Causal,
                                                   nn::MaskStyle::PreSoftmax, tokens_per_frame),
                  naive_attention(q, k, v, bias, true, false, tokens_per_frame)) < 1e-12);
        CHECK(test::max_abs_difference(
                  nn::scaled_dot_product_attention(q, k, v, bias, nn::AttentionMask::Causal,
                                                   nn::MaskStyle::PostSoftmax, tokens_per_frame),
                  naive_attention(q, k, v, bias, true, true, tokens_per_frame)) < 1e-12);
    }
    // Short sequences (L ≤ d) scale the logits rather than q: both paths.
    const Shape wide{2, 2, 3, 5};
    const Tensor qw = random(wide, 5, -2, 2), kw = random(wide, 6, -2, 2), vw = random(wide, 7);
    CHECK(test::max_abs_difference(
              nn::scaled_dot_product_attention(qw, kw, vw, {}, nn::AttentionMask::Causal),
              naive_attention(qw, kw, vw, {}, true, false, 1)) < 1e-12);
}

TEST_CASE("pre-softmax mask renormalises each row; post-softmax does not", "[attention]") {
    // With v = 1 every output entry is the sum of its row of attention weights.
    const Shape shape{2, 2, 4, 3};
    const Tensor q = random(shape, 11, -2, 2), k = random(shape, 12, -2, 2);
    const Tensor ones = Tensor::ones(shape, DType::Float64);
    NoGradGuard no_grad;
    const auto pre = nn::scaled_dot_product_attention(q, k, ones, {}, nn::AttentionMask::Causal,
                                                      nn::MaskStyle::PreSoftmax)
                         .to_vector<double>();
    const auto post = nn::scaled_dot_product_attention(q, k, ones, {}, nn::AttentionMask::Causal,
                                                       nn::MaskStyle::PostSoftmax)
                          .to_vector<double>();
    for (std::size_t e = 0; e < pre.size(); ++e) {
        const std::int64_t token = static_cast<std::int64_t>(e / 3) % 4;
        INFO("entry " << e << ", token " << token);
        CHECK(std::abs(pre[e] - 1.0) < 1e-12);
        if (token < 3) CHECK(post[e] < 1.0 - 1e-3);  // keys of later frames took part of the mass
        else CHECK(std::abs(post[e] - 1.0) < 1e-12);  // the last token sees every key
    }
}

TEST_CASE("the causal mask is over frames and hides future keys and values", "[attention]") {
    const Shape shape{1, 2, 6, 2};
    const Tensor q = random(shape, 21), k = random(shape, 22), v = random(shape, 23);
    // Change keys and values of tokens 4, 5 (frame 2 at 2 tokens per frame).
    const Tensor k2 = concat({slice(k, 2, 0, 4), random(Shape{1, 2, 2, 2}, 24)}, 2);
    const Tensor v2 = concat({slice(v, 2, 0, 4), random(Shape{1, 2, 2, 2}, 25)}, 2);
    NoGradGuard no_grad;
    const Tensor y = nn::scaled_dot_product_attention(q, k, v, {}, nn::AttentionMask::Causal,
                                                      nn::MaskStyle::PreSoftmax, 2);
    const Tensor y2 = nn::scaled_dot_product_attention(q, k2, v2, {}, nn::AttentionMask::Causal,
                                                       nn::MaskStyle::PreSoftmax, 2);
    CHECK(test::max_abs_difference(slice(y, 2, 0, 4), slice(y2, 2, 0, 4)) == 0.0);
    CHECK(test::max_abs_difference(slice(y, 2, 4, 6), slice(y2, 2, 4, 6)) > 1e-6);
    // Post-softmax hides future values, but future keys still enter every
    // row's softmax denominator: only the values alone can change unseen.
    const Tensor p = nn::scaled_dot_product_attention(q, k, v, {}, nn::AttentionMask::Causal,
                                                      nn::MaskStyle::PostSoftmax, 2);
    const Tensor p_values = nn::scaled_dot_product_attention(q, k, v2, {}, nn::AttentionMask::Causal,
                                                             nn::MaskStyle::PostSoftmax, 2);
    const Tensor p_keys = nn::scaled_dot_product_attention(q, k2, v, {}, nn::AttentionMask::Causal,
                                                           nn::MaskStyle::PostSoftmax, 2);
    CHECK(test::max_abs_difference(slice(p, 2, 0, 4), slice(p_values, 2, 0, 4)) == 0.0);
    CHECK(test::max_abs_difference(slice(p, 2, 0, 4), slice(p_keys, 2, 0, 4)) > 1e-6);
    // Without a mask the first tokens see them.
    const Tensor u = nn::scaled_dot_product_attention(q, k, v);
    const Tensor u2 = nn::scaled_dot_product_attention(q, k2, v2);
    CHECK(test::max_abs_difference(slice(u, 2, 0, 1), slice(u2, 2, 0, 1)) > 1e-6);
}

TEST_CASE("softmax turns −inf entries of a row with a finite entry into (near) zeros", "[attention]") {
    // The vectorised exp clamps its argument, so exp(−inf) comes out as about
    // the smallest normal number rather than 0: far below anything a finite
    // weight can be rounded by, which is all the causal mask needs.
    const double inf = std::numeric_limits<double>::infinity();
    for (const DType dtype : {DType::Float64, DType::Float32}) {
        INFO(dtype_name(dtype));
        const double tiny = dtype == DType::Float64 ? std::numeric_limits<double>::min()
                                                    : double(std::numeric_limits<float>::min());
        Tensor x = to(Tensor::from_vector(std::vector<double>{0.5, -inf, 1.5, -inf}, Shape{1, 4}), dtype);
        x.set_requires_grad(true);
        const Tensor y = softmax(x, -1);
        const auto values = to(detach(y), DType::Float64).to_vector<double>();
        CHECK(values[1] >= 0.0);
        CHECK(values[1] <= tiny);
        CHECK(values[3] <= tiny);
        CHECK(std::abs(values[0] - 1.0 / (1.0 + std::exp(1.0))) < 1e-6);
        CHECK(std::abs(values[0] + values[2] - 1.0) < 1e-6);
        backward(sum(mul(y, to(Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, Shape{1, 4}), dtype))));
        const auto grad = to(x.grad(), DType::Float64).to_vector<double>();
        for (const double g : grad) CHECK(std::isfinite(g));
        CHECK(std::abs(grad[1]) <= 4 * tiny);
        CHECK(std::abs(grad[3]) <= 4 * tiny);
    }
}

TEST_CASE("scaled_dot_product_attention gradients", "[attention][gradcheck]") {
    const Shape shape{2, 2, 4, 3};
    const Tensor q = random(shape, 31), k = random(shape, 32), v = random(shape, 33);
    const Tensor bias = random(Shape{2, 4, 4}, 34);
    VGT_REQUIRE_GRADCHECK(
        [](const std::vector<Tensor>& x) { return nn::scaled_dot_product_attention(x[0], x[1], x[2], x[3]); },
        {q, k, v, bias});
    for (const auto style : {nn::MaskStyle::PreSoftmax, nn::MaskStyle::PostSoftmax}) {
        for (const std::int64_t tokens_per_frame : {1, 2}) {
            INFO("post-softmax " << (style == nn::MaskStyle::PostSoftmax) << ", tokens per frame " << tokens_per_frame);
            VGT_REQUIRE_GRADCHECK(
                [&](const std::vector<Tensor>& x) {
                    return nn::scaled_dot_product_attention(x[0], x[1], x[2], x[3], nn::AttentionMask::Causal, style,
                                                            tokens_per_frame);
                },
                {q, k, v, bias});
        }
    }
}

TEST_CASE("scaled_dot_product_attention rejects mismatched inputs", "[attention][errors]") {
    const Tensor q = random(Shape{1, 2, 4, 3}, 1);
    CHECK_THROWS_WITH(nn::scaled_dot_product_attention(q, random(Shape{1, 2, 5, 3}, 2), q),
                      Catch::Contains("scaled_dot_product_attention") && Catch::Contains("[1, 2, 5, 3]"));
    CHECK_THROWS_WITH(nn::scaled_dot_product_attention(reshape(q, Shape{2, 4, 3}), reshape(q, Shape{2, 4, 3}),
                                                       reshape(q, Shape{2, 4, 3})),
                      Catch::Contains("scaled_dot_product_attention") && Catch::Contains("[2, 4, 3]"));
    CHECK_THROWS_WITH(nn::scaled_dot_product_attention(q, q, q, random(Shape{1, 4, 4}, 3)),
                      Catch::Contains("scaled_dot_product_attention") && Catch::Contains("[2, 4, 4]") &&
                          Catch::Contains("[1, 4, 4]"));
    CHECK_THROWS_WITH(nn::scaled_dot_product_attention(q, q, q, {}, nn::AttentionMask::Causal,
                                                       nn::MaskStyle::PreSoftmax, 3),
                      Catch::Contains("scaled_dot_product_attention") && Catch::Contains("tokens_per_frame 3"));
}

// ----- the mixers with NoPosition -------------------------------------------

TEST_CASE("attention mixers are the identity at initialisation", "[attention][mixer]") {
    Generator gen(5);
    auto options = mixer_options(8, 4);
    const Tensor x = random(Shape{2, 4, 8, 3, 5}, 41);
    NoGradGuard no_grad;
    CHECK(test::max_abs_difference(temporal::TemporalAttention<>(options, gen).forward(x), x) == 0.0);
    CHECK(test::max_abs_difference(temporal::DirectedAttention<>(options, gen).forward(x), x) == 0.0);
    CHECK(test::max_abs_difference(temporal::SpatioTemporalAttention<>(options, gen).forward(x), x) == 0.0);
    options.mask_mode = temporal::MaskMode::PostSoftmax;
    options.causal = true;
    CHECK(test::max_abs_difference(temporal::DirectedAttention<>(options, gen).forward(x), x) == 0.0);
    CHECK(test::max_abs_difference(temporal::SpatioTemporalAttention<>(options, gen).forward(x), x) == 0.0);
}

TEST_CASE("DirectedAttention and causal SpatioTemporalAttention are causal", "[attention][mixer][causal]") {
    Generator gen(6);
    auto options = mixer_options(8, 4);
    const Tensor x = random(Shape{2, 4, 8, 3, 5}, 42);
    temporal::DirectedAttention<> directed(options, gen);
    test::randomize_parameters(directed, 7);
    CHECK(directed.is_causal());
    CHECK(temporal::is_causal(directed));
    test::check_causal(directed, x);
    options.causal = true;
    temporal::SpatioTemporalAttention<> joint(options, gen);
    test::randomize_parameters(joint, 8);
    CHECK(joint.is_causal());
    test::check_causal(joint, random(Shape{1, 3, 8, 2, 3}, 43));
}

TEST_CASE("TemporalAttention and non-causal SpatioTemporalAttention see later frames", "[attention][mixer][causal]") {
    Generator gen(7);
    const auto options = mixer_options(8, 2);
    const Tensor x = random(Shape{2, 4, 8, 3, 5}, 44);
    temporal::TemporalAttention<> temporal_attention(options, gen);
    temporal::SpatioTemporalAttention<> joint(options, gen);
    test::randomize_parameters(temporal_attention, 9);
    test::randomize_parameters(joint, 10);
    CHECK_FALSE(temporal_attention.is_causal());
    CHECK_FALSE(joint.is_causal());
    CHECK(sees_the_future(temporal_attention, x));
    CHECK(sees_the_future(joint, x));
    CHECK_FALSE(temporal::is_causal(temporal_attention));
}

TEST_CASE("post-softmax DirectedAttention is not causal, and says so", "[attention][mixer][causal]") {
    // softmax(QKᵀ/√d) ⊙ M normalises over every key: future frames change
    // the weights of earlier ones even though their values are masked.
    Generator gen(13);
    auto options = mixer_options(8, 4);
    options.mask_mode = temporal::MaskMode::PostSoftmax;
    temporal::DirectedAttention<> directed(options, gen);
    test::randomize_parameters(directed, 7);
    CHECK_FALSE(directed.is_causal());
    CHECK(sees_the_future(directed, random(Shape{2, 4, 8, 3, 5}, 42)));
}

TEST_CASE("DirectedAttention's two mask modes give different outputs", "[attention][mixer]") {
    Generator gen(8);
    auto options = mixer_options(8, 4);
    temporal::DirectedAttention<> pre(options, gen);
    options.mask_mode = temporal::MaskMode::PostSoftmax;
    temporal::DirectedAttention<> post(options, gen);
    test::randomize_parameters(pre, 11);
    test::randomize_parameters(post, 11);
    const Tensor x = random(Shape{1, 3, 8, 2, 2}, 45);
    NoGradGuard no_grad;
    const Tensor y_pre = pre.forward(x), y_post = post.forward(x);
    // Frame 0 masks every other frame: the modes differ there ...
    CHECK(test::max_abs_difference(test::frames(y_pre, 0, 1), test::frames(y_post, 0, 1)) > 1e-6);
    // ... and agree on the last frame, which masks nothing.
    CHECK(test::max_abs_difference(test::frames(y_pre, 2, 3), test::frames(y_post, 2, 3)) < 1e-12);
}

TEST_CASE("attention mixers take any number of frames", "[attention][mixer]") {
    Generator gen(9);
    const auto options = mixer_options(8, 4);
    temporal::TemporalAttention<> temporal_attention(options, gen);
    temporal::DirectedAttention<> directed(options, gen);
    temporal::SpatioTemporalAttention<> joint(options, gen);
    test::randomize_parameters(temporal_attention, 12);
    test::randomize_parameters(directed, 13);
    test::randomize_parameters(joint, 14);
    NoGradGuard no_grad;
    for (const std::int64_t t : {1, 9}) {
        const Tensor x = random(Shape{2, t, 8, 3, 3}, 46);
        CHECK(temporal_attention.forward(x).shape() == x.shape());
        CHECK(directed.forward(x).shape() == x.shape());
        CHECK(joint.forward(x).shape() == x.shape());
    }
    // One frame: a per-pixel sequence of one token attends to itself only,
    // so the causal mask changes nothing.
    const Tensor single = random(Shape{2, 1, 8, 3, 3}, 47);
    temporal::TemporalAttention<> same_as_directed(options, gen);
    test::randomize_parameters(same_as_directed, 13);
    CHECK(test::max_abs_difference(same_as_directed.forward(single), directed.forward(single)) < 1e-14);
}

TEST_CASE("attention mixer gradients", "[attention][mixer][gradcheck]") {
    Generator gen(10);
    auto options = mixer_options(4, 2);
    for (const Shape& shape : {Shape{1, 1, 4, 3, 1}, Shape{2, 3, 4, 1, 3}}) {
        INFO("video " << fmt::format("{}", shape));
        const Tensor x = random(shape, 48);
        options.mask_mode = temporal::MaskMode::PreSoftmax;
        options.causal = false;
        temporal::TemporalAttention<> temporal_attention(options, gen);
        test::randomize_parameters(temporal_attention, 15);
        test::check_block_gradients(temporal_attention, x);
        temporal::DirectedAttention<> directed(options, gen);
        test::randomize_parameters(directed, 16);
        test::check_block_gradients(directed, x);
        temporal::SpatioTemporalAttention<> joint(options, gen);
        test::randomize_parameters(joint, 17);
        test::check_block_gradients(joint, x);
        options.mask_mode = temporal::MaskMode::PostSoftmax;
        options.causal = true;
        temporal::DirectedAttention<> directed_post(options, gen);
        test::randomize_parameters(directed_post, 18);
        test::check_block_gradients(directed_post, x);
        temporal::SpatioTemporalAttention<> joint_causal(options, gen);
        test::randomize_parameters(joint_causal, 19);
        test::check_block_gradients(joint_causal, x);
    }
}

TEST_CASE("attention mixers count their parameters and FLOPs", "[attention][mixer]") {
    Generator gen(11);
    const auto options = mixer_options(8, 4);
    temporal::TemporalAttention<> temporal_attention(options, gen);
    temporal::DirectedAttention<> directed(options, gen);
    temporal::SpatioTemporalAttention<> joint(options, gen);
    // norm 2C, qkv 3C·C + 3C, proj C·C + C = 4C² + 6C at C = 8.
    CHECK(temporal_attention.params() == 304);
    CHECK(directed.params() == 304);
    CHECK(joint.params() == 304);
    CHECK(parameter_names(temporal_attention) ==
          std::vector<std::string>{"mixer.norm.weight", "mixer.norm.bias", "mixer.qkv.weight", "mixer.qkv.bias",
                                   "mixer.proj.weight", "mixer.proj.bias"});
    // [B, T, C, H, W] = [2, 4, 8, 3, 5]: 120 tokens, 4 heads of d = 2.
    // qkv 2·120·8·24 = 46080, proj 2·120·8·8 = 15360.
    // Per pixel: N = 30, L = 4: products 2 · 2·30·4·4·4·2 = 15360.
    // Joint: N = 2, L = 60: products 2 · 2·2·4·60·60·2 = 230400.
    const Shape video{2, 4, 8, 3, 5};
    CHECK(temporal_attention.flops(video) == 46080.0 + 15360.0 + 15360.0);
    CHECK(directed.flops(video) == 46080.0 + 15360.0 + 15360.0);
    CHECK(joint.flops(video) == 46080.0 + 15360.0 + 230400.0);
}

TEST_CASE("attention mixers reject bad options and inputs", "[attention][mixer][errors]") {
    Generator gen(12);
    auto options = mixer_options(6, 4);
    CHECK_THROWS_WITH(temporal::TemporalAttention<>(options, gen),
                      Catch::Contains("TemporalAttention") && Catch::Contains("6 channels") &&
                          Catch::Contains("4 heads"));
    CHECK_THROWS_WITH(temporal::DirectedAttention<>(options, gen),
                      Catch::Contains("DirectedAttention") && Catch::Contains("4 heads"));
    CHECK_THROWS_WITH(temporal::SpatioTemporalAttention<>(options, gen),
                      Catch::Contains("SpatioTemporalAttention") && Catch::Contains("4 heads"));
    options.heads = 3;
    options.norm_groups = 4;
    CHECK_THROWS_WITH(temporal::TemporalAttention<>(options, gen),
                      Catch::Contains("TemporalAttention") && Catch::Contains("norm_groups") && Catch::Contains("4"));
    options.norm_groups = 0;
    options.channels = 0;
    CHECK_THROWS_WITH(temporal::TemporalAttention<>(options, gen),
                      Catch::Contains("TemporalAttention") && Catch::Contains("channel"));

    options = mixer_options(8, 4);
    temporal::TemporalAttention<> temporal_attention(options, gen);
    temporal::SpatioTemporalAttention<> joint(options, gen);
    CHECK_THROWS_WITH(temporal_attention.forward(random(Shape{2, 4, 6, 3, 3}, 1)),
                      Catch::Contains("TemporalAttention") && Catch::Contains("[2, 4, 6, 3, 3]") &&
                          Catch::Contains("8"));
    CHECK_THROWS_WITH(joint.forward(random(Shape{4, 8, 3, 3}, 1)),
                      Catch::Contains("SpatioTemporalAttention") && Catch::Contains("[4, 8, 3, 3]"));
    CHECK_THROWS_WITH(temporal_attention.forward(random(Shape{1, 2, 8, 2, 2}, 1, -1, 1, DType::Float32)),
                      Catch::Contains("TemporalAttention") && Catch::Contains("float32"));
    CHECK_THROWS_WITH(joint.flops(Shape{2, 8, 3}), Catch::Contains("SpatioTemporalAttention") &&
                                                       Catch::Contains("[2, 8, 3]"));
}

// ----- position policies ----------------------------------------------------

TEST_CASE("attention mixers match PyTorch with every position policy", "[attention][mixer][golden]") {
    for_each_position([]<class Pos>() {
        const std::string policy = policy_case_name(Pos::name);
        test::check_against_torch<temporal::TemporalAttention<Pos>>("temporal_attention_" + policy);
        test::check_against_torch<temporal::DirectedAttention<Pos>>("directed_attention_" + policy);
    });
    test::check_against_torch<temporal::DirectedAttention<position::NoPosition>>(
        "directed_attention_post_softmax_none");
    test::check_against_torch<temporal::DirectedAttention<position::ALiBi>>("directed_attention_post_softmax_alibi");
    test::check_against_torch<temporal::DirectedAttention<position::RoPE>>("directed_attention_post_softmax_rope");
    using temporal::SpatioTemporalAttention;
    test::check_against_torch<SpatioTemporalAttention<position::NoPosition>>("spatiotemporal_attention_none");
    test::check_against_torch<SpatioTemporalAttention<position::NoPosition>>("spatiotemporal_attention_causal_none");
    test::check_against_torch<SpatioTemporalAttention<position::Sinusoidal>>("spatiotemporal_attention_sinusoidal");
    test::check_against_torch<SpatioTemporalAttention<position::RoPE>>("spatiotemporal_attention_causal_rope");
    test::check_against_torch<SpatioTemporalAttention<position::ALiBi>>("spatiotemporal_attention_causal_alibi");
    test::check_against_torch<SpatioTemporalAttention<position::RelativeBias>>(
        "spatiotemporal_attention_relative_bias");
    test::check_against_torch<SpatioTemporalAttention<position::XPos>>("spatiotemporal_attention_xpos");
}

TEST_CASE("attention mixers with position policies: identity, causality, gradients", "[attention][mixer][gradcheck]") {
    auto options = mixer_options(4, 2);
    options.max_frames = 4;
    const Tensor one_frame = random(Shape{1, 1, 4, 3, 1}, 51);
    const Tensor frames3 = random(Shape{2, 3, 4, 1, 3}, 52);
    for_each_position([&]<class Pos>() {
        INFO("policy " << Pos::name);
        Generator gen(20);
        temporal::TemporalAttention<Pos> temporal_attention(options, gen);
        temporal::DirectedAttention<Pos> directed(options, gen);
        {
            NoGradGuard no_grad;
            CHECK(test::max_abs_difference(temporal_attention.forward(frames3), frames3) == 0.0);
            CHECK(test::max_abs_difference(directed.forward(frames3), frames3) == 0.0);
        }
        test::randomize_parameters(temporal_attention, 21);
        test::randomize_parameters(directed, 22);
        CHECK_FALSE(temporal_attention.is_causal());
        CHECK(directed.is_causal());
        test::check_causal(directed, frames3);
        for (const Tensor& x : {one_frame, frames3}) {
            test::check_block_gradients(temporal_attention, x);
            test::check_block_gradients(directed, x);
        }
    });
    // A few with joint attention, causal and not.
    const auto joint_gradients = [&]<class Pos>(bool causal) {
        INFO("policy " << Pos::name << ", causal " << causal);
        options.causal = causal;
        Generator gen(23);
        temporal::SpatioTemporalAttention<Pos> joint(options, gen);
        test::randomize_parameters(joint, 24);
        CHECK(joint.is_causal() == causal);
        if (causal) test::check_causal(joint, frames3);
        test::check_block_gradients(joint, one_frame);
        test::check_block_gradients(joint, frames3);
    };
    joint_gradients.operator()<position::ALiBi>(true);
    joint_gradients.operator()<position::RoPE>(false);
    joint_gradients.operator()<position::Learned>(true);
    joint_gradients.operator()<position::RelativeBias>(false);
}

TEST_CASE("position parameters are the mixer's, under position.", "[attention][mixer]") {
    Generator gen(30);
    auto options = mixer_options(8, 4);
    options.max_frames = 6;
    // 4C² + 6C = 304, plus Learned's Tmax × C = 48 or RelativeBias's 32 buckets × heads = 128.
    CHECK(temporal::TemporalAttention<position::Learned>(options, gen).params() == 304 + 48);
    CHECK(temporal::DirectedAttention<position::RelativeBias>(options, gen).params() == 304 + 128);
    CHECK(temporal::SpatioTemporalAttention<position::RoPE>(options, gen).params() == 304);
    const auto names = parameter_names(temporal::TemporalAttention<position::Learned>(options, gen));
    CHECK(std::find(names.begin(), names.end(), "mixer.position.table") != names.end());
    CHECK(names.size() == 7);
    // Learned positions stop at Tmax.
    temporal::TemporalAttention<position::Learned> learned(options, gen);
    NoGradGuard no_grad;
    CHECK(learned.forward(random(Shape{1, 6, 8, 2, 2}, 53)).shape() == Shape{1, 6, 8, 2, 2});
    CHECK_THROWS_WITH(learned.forward(random(Shape{1, 7, 8, 2, 2}, 53)),
                      Catch::Contains("Learned") && Catch::Contains("7") && Catch::Contains("6"));
}

}  // namespace vgt::test::attention_test
