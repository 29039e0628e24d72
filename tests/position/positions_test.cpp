// Position policies: known values from the formulas, the properties each
// promises (relative positions for RoPE/XPos, one position per frame),
// gradients, errors, and agreement with the PyTorch references on golden files.

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

#include <vgt/io/safetensors.hpp>
#include <vgt/nn/parameters.hpp>
#include <vgt/position/all.hpp>

namespace vgt::test::positions_test {

using namespace vgt::position;
using vgt::test::random;

namespace {

temporal::MixerOptions options(std::int64_t channels, std::int64_t heads, std::int64_t max_frames = 16,
                               DType dtype = DType::Float64) {
    temporal::MixerOptions o;
    o.channels = channels;
    o.heads = heads;
    o.max_frames = max_frames;
    o.dtype = dtype;
    return o;
}

template <class Policy>
Policy make(const temporal::MixerOptions& o, std::uint64_t seed = 3) {
    Generator gen(seed);
    return Policy(o, gen);
}

double at(const Tensor& t, std::vector<std::int64_t> index) {
    Tensor v = t;
    for (std::int64_t i : index) v = select(v, 0, i);
    return v.item<double>();
}

/// Gradcheck of f(policy, inputs) over `inputs` and every parameter of the policy.
template <class Policy, class F>
void check_policy_gradients(Policy& policy, std::vector<Tensor> inputs, F f) {
    const std::size_t count = inputs.size();
    policy.visit_parameters([&](const std::string&, Tensor& p) { inputs.push_back(p); }, "");
    const std::vector<Tensor> saved = inputs;
    VGT_REQUIRE_GRADCHECK(
        [&](const std::vector<Tensor>& xs) {
            std::size_t k = count;
            policy.visit_parameters([&](const std::string&, Tensor& p) { p = xs[k++]; }, "");
            return f(policy, std::vector<Tensor>(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(count)));
        },
        inputs);
    std::size_t k = count;
    policy.visit_parameters([&](const std::string&, Tensor& p) { p = saved[k++]; }, "");
}

/// rotate's q and k together, for one gradcheck of both.
template <class Policy>
Tensor rotated_pair(const Policy& policy, const std::vector<Tensor>& qk, const PositionContext& ctx) {
    auto [q, k] = policy.rotate(qk[0], qk[1], ctx);
    return concat({q, k}, 0);
}

/// S[m, n] = q_rot[m]·k_rot[n] for head 0 of batch 0, when every token holds
/// the same query a and key b: relative positions make S depend on m − n only.
template <class Policy>
std::vector<std::vector<double>> scores_of_constant_tokens(const Policy& policy, std::int64_t frames, std::int64_t d) {
    const PositionContext ctx{frames, 1, false};
    const Tensor a = random(Shape{1, 1, 1, d}, 11);
    const Tensor b = random(Shape{1, 1, 1, d}, 12);
    const std::pair<Tensor, Tensor> rotated = policy.rotate(contiguous(expand(a, Shape{1, 1, frames, d})),
                                                            contiguous(expand(b, Shape{1, 1, frames, d})), ctx);
    const auto qv = rotated.first.to_vector<double>(), kv = rotated.second.to_vector<double>();
    std::vector<std::vector<double>> s(frames, std::vector<double>(frames, 0.0));
    for (std::int64_t m = 0; m < frames; ++m)
        for (std::int64_t n = 0; n < frames; ++n)
            for (std::int64_t c = 0; c < d; ++c) s[m][n] += qv[m * d + c] * kv[n * d + c];
    return s;
}

/// Largest |S[m, n] − S[m + shift, n + shift]|, and the largest |S[0, n] − S[0, 0]|
/// (which must not vanish: S does depend on the distance).
std::pair<double, double> relative_spread(const std::vector<std::vector<double>>& s) {
    const std::int64_t frames = static_cast<std::int64_t>(s.size());
    double shifted = 0, along = 0;
    for (std::int64_t m = 0; m < frames; ++m)
        for (std::int64_t n = 0; n < frames; ++n)
            for (std::int64_t shift = 1; m + shift < frames && n + shift < frames; ++shift)
                shifted = std::max(shifted, std::abs(s[m][n] - s[m + shift][n + shift]));
    for (std::int64_t n = 1; n < frames; ++n) along = std::max(along, std::abs(s[0][n] - s[0][0]));
    return {shifted, along};
}

/// Rows of a token-level tensor [.., L, ..] along `dim` that belong to one frame are equal.
bool equal_within_frames(const Tensor& t, int dim, const PositionContext& ctx) {
    for (std::int64_t f = 0; f < ctx.frames; ++f)
        for (std::int64_t p = 1; p < ctx.tokens_per_frame; ++p) {
            const Tensor first = select(t, dim, f * ctx.tokens_per_frame);
            const Tensor other = select(t, dim, f * ctx.tokens_per_frame + p);
            if (first.to_vector<double>() != other.to_vector<double>()) return false;
        }
    return true;
}

}  // namespace

TEST_CASE("position policies: names, parameters and their counts", "[position]") {
    const auto o = options(8, 2, 6);
    CHECK(nn::count_parameters(make<NoPosition>(o)) == 0);
    CHECK(make<Sinusoidal>(o).params() == 0);
    CHECK(make<RoPE>(o).params() == 0);
    CHECK(make<ALiBi>(o).params() == 0);
    CHECK(make<XPos>(o).params() == 0);
    const auto learned = make<Learned>(o);
    CHECK(learned.params() == 6 * 8);  // Tmax × C
    const auto relative = make<RelativeBias>(o);
    CHECK(relative.params() == 32 * 2);  // buckets × heads
    const auto learned_names = nn::named_parameters(learned, "position");
    REQUIRE(learned_names.size() == 1);
    CHECK(learned_names[0].first == "position.table");
    CHECK(learned_names[0].second.shape() == Shape{6, 8});
    const auto relative_names = nn::named_parameters(relative, "position");
    REQUIRE(relative_names.size() == 1);
    CHECK(relative_names[0].first == "position.relative_attention_bias");
    CHECK(relative_names[0].second.shape() == Shape{32, 2});
    CHECK(std::tuple_size_v<AllPositions> == 7);
    CHECK(Sinusoidal::name == "Sinusoidal");
    CHECK(XPos::name == "XPos");
}

TEST_CASE("Sinusoidal adds sin/cos pairs of the frame index", "[position]") {
    const Tensor pe = sinusoidal_positions(3, 6);
    CHECK(pe.shape() == Shape{3, 6});
    CHECK(select(pe, 0, 0).to_vector<double>() == std::vector<double>{0, 1, 0, 1, 0, 1});
    const double w1 = std::pow(10000.0, -2.0 / 6.0), w2 = std::pow(10000.0, -4.0 / 6.0);
    const std::vector<double> row2 = {std::sin(2.0), std::cos(2.0), std::sin(2 * w1), std::cos(2 * w1),
                                      std::sin(2 * w2), std::cos(2 * w2)};
    const auto got = select(pe, 0, 2).to_vector<double>();
    for (std::size_t i = 0; i < row2.size(); ++i) CHECK(got[i] == Approx(row2[i]).epsilon(1e-14));

    // Every token of a frame gets that frame's row, whatever the batch.
    const auto policy = make<Sinusoidal>(options(6, 2));
    const PositionContext ctx{3, 2, false};
    const Tensor added = policy.embed(Tensor::zeros(Shape{2, 6, 6}, DType::Float64), ctx);
    REQUIRE(added.shape() == Shape{2, 6, 6});
    CHECK(equal_within_frames(added, 1, ctx));
    CHECK(select(select(added, 0, 1), 0, 5).to_vector<double>() == select(pe, 0, 2).to_vector<double>());
    CHECK(select(added, 0, 0).to_vector<double>() == select(added, 0, 1).to_vector<double>());
    const Tensor h = random(Shape{2, 6, 6}, 5);
    CHECK(test::max_relative_error(policy.embed(h, ctx), add(h, added)) <= 1e-15);
    // Other hooks: none.
    const Tensor q = random(Shape{1, 2, 6, 3}, 6);
    CHECK(policy.rotate(q, q, ctx).first.same_storage(q));
    CHECK_FALSE(policy.attention_bias(ctx).defined());
    // Any number of frames, and the input's dtype.
    CHECK(policy.embed(random(Shape{1, 100, 6}, 7), PositionContext{100, 1, false}).shape() == Shape{1, 100, 6});
    CHECK(policy.embed(random(Shape{1, 2, 6}, 7, -1, 1, DType::Float32), PositionContext{2, 1, false}).dtype() ==
          DType::Float32);
}

TEST_CASE("Sinusoidal: errors and gradient", "[position]") {
    CHECK_THROWS_WITH(make<Sinusoidal>(options(7, 1)), Catch::Contains("Sinusoidal") && Catch::Contains("even") &&
                                                            Catch::Contains("7"));
    const auto policy = make<Sinusoidal>(options(4, 2));
    CHECK_THROWS_WITH(policy.embed(random(Shape{2, 5, 4}, 1), PositionContext{3, 2, false}),
                      Catch::Contains("Sinusoidal") && Catch::Contains("[N, 6, 4]") && Catch::Contains("[2, 5, 4]"));
    CHECK_THROWS_WITH(policy.embed(random(Shape{2, 6, 3}, 1), PositionContext{3, 2, false}),
                      Catch::Contains("Sinusoidal") && Catch::Contains("[2, 6, 3]"));
    CHECK_THROWS_WITH(policy.embed(random(Shape{2, 0, 4}, 1), PositionContext{0, 1, false}),
                      Catch::Contains("Sinusoidal") && Catch::Contains("frames = 0"));
    auto p = make<Sinusoidal>(options(4, 2));
    check_policy_gradients(p, {random(Shape{2, 6, 4}, 2)}, [](const Sinusoidal& s, const std::vector<Tensor>& x) {
        return s.embed(x[0], PositionContext{3, 2, false});
    });
}

TEST_CASE("Learned adds its table's row per frame and stops at Tmax", "[position]") {
    auto policy = make<Learned>(options(4, 2, 5));
    Generator gen(9);
    const Tensor table = rand(Shape{5, 4}, gen, DType::Float64, -1, 1);
    nn::load_parameters(policy, {{"table", table}});
    const PositionContext ctx{3, 2, false};
    const Tensor added = policy.embed(Tensor::zeros(Shape{2, 6, 4}, DType::Float64), ctx);
    CHECK(equal_within_frames(added, 1, ctx));
    for (std::int64_t token = 0; token < 6; ++token)
        CHECK(select(select(added, 0, 1), 0, token).to_vector<double>() == select(table, 0, token / 2).to_vector<double>());
    const Tensor h = random(Shape{2, 6, 4}, 4);
    CHECK(test::max_relative_error(policy.embed(h, ctx), add(h, added)) <= 1e-15);
    CHECK(policy.embed(random(Shape{1, 5, 4}, 4), PositionContext{5, 1, false}).shape() == Shape{1, 5, 4});
    CHECK_THROWS_WITH(policy.embed(random(Shape{1, 6, 4}, 4), PositionContext{6, 1, false}),
                      Catch::Contains("Learned") && Catch::Contains("Tmax = 5") && Catch::Contains("T = 6"));
    CHECK_THROWS_WITH(make<Learned>(options(4, 2, 0)), Catch::Contains("Learned") && Catch::Contains("max_frames = 0"));

    // Initialised N(0, 0.02²).
    const auto fresh = make<Learned>(options(64, 4, 64));
    const auto values = nn::named_parameters(fresh)[0].second.to_vector<double>();
    double mean = 0, square = 0;
    for (double v : values) mean += v, square += v * v;
    mean /= static_cast<double>(values.size());
    const double stddev = std::sqrt(square / static_cast<double>(values.size()) - mean * mean);
    CHECK(std::abs(mean) < 0.002);
    CHECK(stddev == Approx(0.02).epsilon(0.05));

    check_policy_gradients(policy, {random(Shape{2, 6, 4}, 2)}, [](const Learned& l, const std::vector<Tensor>& x) {
        return l.embed(x[0], PositionContext{3, 2, false});
    });
}

TEST_CASE("RelativeBias: T5 buckets, bidirectional and causal", "[position]") {
    // Bidirectional: 16 buckets per sign, exact below 8, logarithmic to 32.
    CHECK(relative_position_bucket(0, true) == 0);
    CHECK(relative_position_bucket(-1, true) == 1);
    CHECK(relative_position_bucket(1, true) == 17);
    CHECK(relative_position_bucket(-7, true) == 7);
    CHECK(relative_position_bucket(7, true) == 23);
    CHECK(relative_position_bucket(-8, true) == 8);
    CHECK(relative_position_bucket(-16, true) == 12);  // 8 + 8·log(2)/log(4)
    CHECK(relative_position_bucket(16, true) == 28);
    CHECK(relative_position_bucket(-20, true) == 13);  // 8 + ⌊8·log(2.5)/log(4)⌋ = 8 + ⌊5.29⌋
    CHECK(relative_position_bucket(-31, true) == 15);
    CHECK(relative_position_bucket(-32, true) == 15);
    CHECK(relative_position_bucket(-1000, true) == 15);
    CHECK(relative_position_bucket(1000, true) == 31);
    for (std::int64_t r = 1; r < 100; ++r) {
        INFO("relative position " << r);
        CHECK(relative_position_bucket(r, true) == relative_position_bucket(-r, true) + 16);
    }
    // Causal: all 32 buckets for the past, exact below 16; the future is bucket 0.
    CHECK(relative_position_bucket(0, false) == 0);
    CHECK(relative_position_bucket(5, false) == 0);
    CHECK(relative_position_bucket(-15, false) == 15);
    CHECK(relative_position_bucket(-16, false) == 16);
    CHECK(relative_position_bucket(-20, false) == 21);  // 16 + ⌊16·log2(1.25)⌋ = 16 + ⌊5.15⌋
    CHECK(relative_position_bucket(-32, false) == 31);
    CHECK(relative_position_bucket(-1000, false) == 31);
    for (std::int64_t r = 1; r < 100; ++r) {
        CHECK(relative_position_bucket(-r - 1, false) >= relative_position_bucket(-r, false));
        CHECK(relative_position_bucket(-r - 1, true) >= relative_position_bucket(-r, true));
    }
}

TEST_CASE("RelativeBias looks up one bias per head and frame pair", "[position]") {
    auto policy = make<RelativeBias>(options(8, 2));
    // Starts at zero: a fresh policy adds nothing.
    const PositionContext ctx{4, 3, false};
    const Tensor zero = policy.attention_bias(ctx);
    CHECK(zero.shape() == Shape{2, 12, 12});
    CHECK(zero.to_vector<double>() == std::vector<double>(2 * 12 * 12, 0.0));

    std::vector<double> values(64);
    for (std::int64_t b = 0; b < 32; ++b)
        for (std::int64_t h = 0; h < 2; ++h) values[b * 2 + h] = 10.0 * static_cast<double>(b) + static_cast<double>(h);
    nn::load_parameters(policy, {{"relative_attention_bias", Tensor::from_vector(values, Shape{32, 2})}});
    for (bool causal : {false, true}) {
        const PositionContext c{4, 3, causal};
        const Tensor bias = policy.attention_bias(c);
        REQUIRE(bias.shape() == Shape{2, 12, 12});
        for (std::int64_t h = 0; h < 2; ++h)
            for (std::int64_t i = 0; i < 12; ++i)
                for (std::int64_t j = 0; j < 12; ++j) {
                    const std::int64_t bucket = relative_position_bucket(j / 3 - i / 3, !causal);
                    CHECK(at(bias, {h, i, j}) == 10.0 * static_cast<double>(bucket) + static_cast<double>(h));
                }
    }
    // Non-causal: keys before and after the query differ; causal: the future is one bucket.
    const Tensor both = policy.attention_bias(PositionContext{3, 1, false});
    CHECK(at(both, {0, 1, 0}) == 10.0);   // key one frame back
    CHECK(at(both, {0, 1, 2}) == 170.0);  // key one frame ahead
    const Tensor past = policy.attention_bias(PositionContext{3, 1, true});
    CHECK(at(past, {1, 2, 0}) == 21.0);
    CHECK(at(past, {1, 0, 2}) == 1.0);

    CHECK_THROWS_WITH(make<RelativeBias>(options(8, 0)), Catch::Contains("RelativeBias") && Catch::Contains("heads"));
    CHECK_THROWS_WITH(policy.attention_bias(PositionContext{2, 0, false}),
                      Catch::Contains("RelativeBias") && Catch::Contains("tokens_per_frame = 0"));
    const Tensor h = random(Shape{1, 3, 8}, 1);
    CHECK(policy.embed(h, PositionContext{3, 1, false}).same_storage(h));

    for (bool causal : {false, true})
        check_policy_gradients(policy, {}, [causal](const RelativeBias& p, const std::vector<Tensor>&) {
            return p.attention_bias(PositionContext{3, 2, causal});
        });
}

TEST_CASE("RoPE turns each pair by frame·θ_i and sees relative positions only", "[position]") {
    const auto policy = make<RoPE>(options(8, 2));
    const std::vector<double> theta = rope_frequencies(4);
    REQUIRE(theta.size() == 2);
    CHECK(theta[0] == 1.0);
    CHECK(theta[1] == Approx(0.01).epsilon(1e-14));  // 10000^(−2/4)

    // Known values: q = (1, 2, 3, 4) at frames 0, 1, 2.
    const PositionContext ctx{3, 1, false};
    const Tensor q = contiguous(expand(Tensor::from_vector(std::vector<double>{1, 2, 3, 4}, Shape{1, 1, 1, 4}),
                                       Shape{1, 1, 3, 4}));
    auto [qr, kr] = policy.rotate(q, q, ctx);
    REQUIRE(qr.shape() == Shape{1, 1, 3, 4});
    CHECK(select(select(select(qr, 0, 0), 0, 0), 0, 0).to_vector<double>() == std::vector<double>{1, 2, 3, 4});
    const double c2 = std::cos(2.0), s2 = std::sin(2.0), c02 = std::cos(0.02), s02 = std::sin(0.02);
    const std::vector<double> expected = {1 * c2 - 2 * s2, 1 * s2 + 2 * c2, 3 * c02 - 4 * s02, 3 * s02 + 4 * c02};
    const auto got = select(select(select(qr, 0, 0), 0, 0), 0, 2).to_vector<double>();
    for (std::size_t i = 0; i < 4; ++i) CHECK(got[i] == Approx(expected[i]).epsilon(1e-14));
    CHECK(kr.to_vector<double>() == qr.to_vector<double>());

    // Norm of every pair kept.
    const Tensor x = random(Shape{2, 2, 5, 4}, 21);
    const auto xr = policy.rotate(x, x, PositionContext{5, 1, false}).first.to_vector<double>();
    const auto xv = x.to_vector<double>();
    for (std::size_t i = 0; i < xv.size(); i += 2)
        CHECK(std::hypot(xr[i], xr[i + 1]) == Approx(std::hypot(xv[i], xv[i + 1])).epsilon(1e-14));

    // q_m·k_n depends on m − n only.
    const auto [shifted, along] = relative_spread(scores_of_constant_tokens(policy, 7, 4));
    CHECK(shifted <= 1e-14);
    CHECK(along > 1e-3);

    // One position per frame: equal tokens of one frame stay equal.
    const PositionContext joint{3, 4, false};
    const Tensor per_frame = random(Shape{1, 2, 3, 1, 4}, 22);
    const Tensor tokens = reshape(contiguous(expand(per_frame, Shape{1, 2, 3, 4, 4})), Shape{1, 2, 12, 4});
    CHECK(equal_within_frames(policy.rotate(tokens, tokens, joint).first, 2, joint));

    CHECK(policy.rotate(random(Shape{1, 2, 3, 4}, 1, -1, 1, DType::Float32), random(Shape{1, 2, 3, 4}, 2, -1, 1, DType::Float32), ctx)
              .first.dtype() == DType::Float32);
    CHECK_FALSE(policy.attention_bias(ctx).defined());
}

TEST_CASE("RoPE and XPos: errors and gradients", "[position]") {
    CHECK_THROWS_WITH(make<RoPE>(options(6, 2)), Catch::Contains("RoPE") && Catch::Contains("channels = 6") &&
                                                     Catch::Contains("heads = 2"));
    CHECK_THROWS_WITH(make<XPos>(options(8, 3)), Catch::Contains("XPos") && Catch::Contains("heads = 3"));
    const auto rope = make<RoPE>(options(8, 2));
    const PositionContext ctx{3, 2, false};
    CHECK_THROWS_WITH(rope.rotate(random(Shape{1, 2, 5, 4}, 1), random(Shape{1, 2, 5, 4}, 1), ctx),
                      Catch::Contains("RoPE") && Catch::Contains("[1, 2, 5, 4]") && Catch::Contains("[N, heads, 6, d]"));
    CHECK_THROWS_WITH(rope.rotate(random(Shape{1, 2, 6, 3}, 1), random(Shape{1, 2, 6, 3}, 1), ctx),
                      Catch::Contains("RoPE") && Catch::Contains("even"));
    CHECK_THROWS_WITH(rope.rotate(random(Shape{1, 2, 6, 4}, 1), random(Shape{1, 1, 6, 4}, 1), ctx),
                      Catch::Contains("RoPE") && Catch::Contains("[1, 1, 6, 4]"));
    auto r = make<RoPE>(options(8, 2));
    auto x = make<XPos>(options(8, 2));
    for (const PositionContext c : {PositionContext{3, 2, false}, PositionContext{1, 1, false}}) {
        const std::vector<Tensor> qk = {random(Shape{2, 2, c.tokens(), 4}, 3), random(Shape{2, 2, c.tokens(), 4}, 4)};
        check_policy_gradients(r, qk, [c](const RoPE& p, const std::vector<Tensor>& v) { return rotated_pair(p, v, c); });
        check_policy_gradients(x, qk, [c](const XPos& p, const std::vector<Tensor>& v) { return rotated_pair(p, v, c); });
    }
}

TEST_CASE("ALiBi: slopes 2^(−8(h+1)/heads) times the frame distance", "[position]") {
    const auto eight = alibi_slopes(8);
    REQUIRE(eight.size() == 8);
    for (std::size_t h = 0; h < 8; ++h) CHECK(eight[h] == std::ldexp(1.0, -static_cast<int>(h) - 1));  // 1/2 … 1/256
    CHECK(alibi_slopes(4) == std::vector<double>{1.0 / 4, 1.0 / 16, 1.0 / 64, 1.0 / 256});
    CHECK(alibi_slopes(1) == std::vector<double>{1.0 / 256});

    const auto policy = make<ALiBi>(options(8, 4));
    const PositionContext ctx{3, 2, false};
    const Tensor bias = policy.attention_bias(ctx);
    REQUIRE(bias.shape() == Shape{4, 6, 6});
    CHECK(bias.dtype() == DType::Float64);
    CHECK(at(bias, {0, 0, 0}) == 0.0);
    CHECK(at(bias, {0, 1, 0}) == 0.0);  // same frame
    CHECK(at(bias, {0, 0, 4}) == -0.25 * 2);
    CHECK(at(bias, {0, 4, 0}) == -0.25 * 2);
    CHECK(at(bias, {3, 5, 2}) == -(1.0 / 256) * 1);
    const Tensor causal = policy.attention_bias(PositionContext{3, 2, true});
    CHECK(at(causal, {0, 4, 0}) == -0.25 * 2);
    CHECK(at(causal, {0, 0, 4}) == 0.25 * 2);  // −m·(i − j): positive for future keys, which the caller masks
    CHECK(at(causal, {1, 3, 1}) == -(1.0 / 16) * 1);
    CHECK(policy.params() == 0);
    CHECK(make<ALiBi>(options(8, 4, 16, DType::Float32)).attention_bias(ctx).dtype() == DType::Float32);
    CHECK_THROWS_WITH(make<ALiBi>(options(8, 0)), Catch::Contains("ALiBi") && Catch::Contains("heads"));
    const Tensor q = random(Shape{1, 4, 6, 2}, 1);
    CHECK(policy.rotate(q, q, ctx).second.same_storage(q));
}

TEST_CASE("XPos: RoPE with q scaled by ζ^(n/512) and k by its inverse", "[position]") {
    const auto zeta = xpos_decay_bases(4);
    REQUIRE(zeta.size() == 2);
    CHECK(zeta[0] == Approx(1.6 / 5.6).epsilon(1e-14));
    CHECK(zeta[1] == Approx(3.6 / 5.6).epsilon(1e-14));
    const auto policy = make<XPos>(options(8, 2));
    const auto rope = make<RoPE>(options(8, 2));
    const PositionContext ctx{40, 1, false};
    const Tensor q = random(Shape{1, 2, 40, 4}, 31), k = random(Shape{1, 2, 40, 4}, 32);
    auto [qx, kx] = policy.rotate(q, k, ctx);
    auto [qr, kr] = rope.rotate(q, k, ctx);
    const auto vqx = qx.to_vector<double>(), vkx = kx.to_vector<double>();
    const auto vqr = qr.to_vector<double>(), vkr = kr.to_vector<double>();
    for (std::int64_t head = 0; head < 2; ++head)
        for (std::int64_t n = 0; n < 40; ++n)
            for (std::int64_t c = 0; c < 4; ++c) {
                const std::size_t i = static_cast<std::size_t>((head * 40 + n) * 4 + c);
                const double s = std::pow(zeta[static_cast<std::size_t>(c / 2)], static_cast<double>(n) / 512.0);
                CHECK(vqx[i] == Approx(vqr[i] * s).epsilon(1e-13));
                CHECK(vkx[i] == Approx(vkr[i] / s).epsilon(1e-13));
            }
    const auto [shifted, along] = relative_spread(scores_of_constant_tokens(policy, 7, 4));
    CHECK(shifted <= 1e-14);
    CHECK(along > 1e-3);
    const PositionContext joint{2, 3, false};
    const Tensor tokens = reshape(contiguous(expand(random(Shape{1, 2, 2, 1, 4}, 5), Shape{1, 2, 2, 3, 4})),
                                  Shape{1, 2, 6, 4});
    auto [qj, kj] = policy.rotate(tokens, tokens, joint);
    CHECK(equal_within_frames(qj, 2, joint));
    CHECK(equal_within_frames(kj, 2, joint));
}

namespace {

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream stream(text);
    for (std::string item; std::getline(stream, item, ',');) out.push_back(item);
    return out;
}

/// Every case of tests/golden/positions/<Policy>.safetensors against the PyTorch reference.
template <class Policy>
void check_golden() {
    const std::string path = std::string(VGT_GOLDEN_DIR) + "/positions/" + std::string(Policy::name) + ".safetensors";
    INFO(path);
    const io::SafetensorsFile file = io::read_safetensors(path);
    const auto meta = [&](const std::string& key) { return file.metadata.at(key); };
    Policy policy = make<Policy>(options(std::stoll(meta("channels")), std::stoll(meta("heads")),
                                         std::stoll(meta("max_frames"))));
    nn::load_parameters(policy, file.tensors, "policy");
    NoGradGuard no_grad;
    const std::vector<std::string> cases = split_list(meta("cases"));
    CHECK(cases.size() == 4);
    for (const std::string& name : cases) {
        INFO("case " << name);
        const PositionContext ctx{std::stoll(meta(name + ".frames")), std::stoll(meta(name + ".tokens_per_frame")),
                                  meta(name + ".causal") == "true"};
        if (file.contains(name + ".embed")) {
            CHECK(test::max_relative_error(policy.embed(file.at(name + ".h"), ctx), file.at(name + ".embed")) <= 1e-6);
        } else {
            const Tensor h = random(Shape{1, ctx.tokens(), std::stoll(meta("channels"))}, 1);
            CHECK(policy.embed(h, ctx).same_storage(h));
        }
        if (file.contains(name + ".q_rot")) {
            auto [q, k] = policy.rotate(file.at(name + ".q"), file.at(name + ".k"), ctx);
            CHECK(test::max_relative_error(q, file.at(name + ".q_rot")) <= 1e-6);
            CHECK(test::max_relative_error(k, file.at(name + ".k_rot")) <= 1e-6);
        } else {
            const Tensor q = random(Shape{1, 2, ctx.tokens(), 4}, 2);
            CHECK(policy.rotate(q, q, ctx).first.same_storage(q));
        }
        const Tensor bias = policy.attention_bias(ctx);
        CHECK(bias.defined() == file.contains(name + ".bias"));
        if (bias.defined()) CHECK(test::max_relative_error(bias, file.at(name + ".bias")) <= 1e-6);
    }
}

}  // namespace

TEST_CASE("position policies agree with the PyTorch references", "[position][golden]") {
    SECTION("Sinusoidal") { check_golden<Sinusoidal>(); }
    SECTION("Learned") { check_golden<Learned>(); }
    SECTION("RelativeBias") { check_golden<RelativeBias>(); }
    SECTION("RoPE") { check_golden<RoPE>(); }
    SECTION("ALiBi") { check_golden<ALiBi>(); }
    SECTION("XPos") { check_golden<XPos>(); }
}

}  // namespace vgt::test::positions_test
