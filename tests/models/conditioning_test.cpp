// The conditioning encoders of include/vgt/models/: timestep and motion
// embeddings, the word tokenizer, the text encoder, the structure map and
// the content encoder. Closed forms where they exist, PyTorch twins on the
// same weights (tests/golden/make_conditioning.py), float64 gradchecks,
// properties (key masking, per-frame normalisation, detail removed
// monotonically with the structure level) and the errors.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support.hpp"

#include <vgt/data/caption.hpp>
#include <vgt/io/json_config.hpp>
#include <vgt/io/safetensors.hpp>
#include <vgt/models/content_encoder.hpp>
#include <vgt/models/structure_map.hpp>
#include <vgt/models/text_encoder.hpp>
#include <vgt/models/timestep_embedding.hpp>
#include <vgt/models/tokenizer.hpp>

namespace vgt::test::conditioning_test {

using namespace vgt::models;
using vgt::test::max_relative_error;
using vgt::test::random;

namespace {

io::SafetensorsFile golden(const std::string& name) {
    return io::read_safetensors(std::string(VGT_GOLDEN_DIR) + "/conditioning/" + name + ".safetensors");
}

nlohmann::json metadata_json(const io::SafetensorsFile& file, const std::string& key) {
    REQUIRE(file.metadata.count(key) == 1);
    return nlohmann::json::parse(file.metadata.at(key));
}

template <class Options>
Options golden_options(const io::SafetensorsFile& file) {
    return io::options_from_json<Options>(metadata_json(file, "options"), "options");
}

/// The message of the vgt::Error that f throws, or a note that it threw none.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no vgt::Error thrown)";
}

/// Loads the golden file's block.* tensors into `block`; every one must be
/// a parameter of the block and every parameter must be there.
template <class Block>
void load_golden(Block& block, const io::SafetensorsFile& file) {
    nn::load_parameters(block, file.tensors, "block");
    std::int64_t golden_count = 0;
    for (const auto& [name, t] : file.tensors)
        if (name.rfind("block.", 0) == 0) golden_count += t.numel();
    CHECK(golden_count == nn::count_parameters(block));
}

/// gradcheck of forward(inputs) with respect to `inputs` and every parameter of `block`.
template <class Block, class Forward>
void check_gradients(Block& block, const std::vector<Tensor>& inputs, Forward forward) {
    std::vector<Tensor> all = inputs;
    block.visit_parameters([&](const std::string&, Tensor& p) { all.push_back(p); }, "");
    const std::vector<Tensor> saved = all;
    VGT_REQUIRE_GRADCHECK(
        [&](const std::vector<Tensor>& xs) {
            std::size_t k = inputs.size();
            block.visit_parameters([&](const std::string&, Tensor& p) { p = xs[k++]; }, "");
            return forward(std::vector<Tensor>(xs.begin(), xs.begin() + static_cast<std::ptrdiff_t>(inputs.size())));
        },
        all);
    std::size_t k = inputs.size();
    block.visit_parameters([&](const std::string&, Tensor& p) { p = saved[k++]; }, "");
}

std::vector<std::string> parameter_names(const auto& block) {
    std::vector<std::string> names;
    for (const auto& [name, p] : nn::named_parameters(block)) names.push_back(name);
    return names;
}

Tensor times_of(const std::vector<double>& values) { return Tensor::from_vector(values); }

}  // namespace

// ----- timestep embedding -------------------------------------------------------------

TEST_CASE("sinusoidal_embedding: sin and cos halves at frequencies max_period^(−i/half)", "[models][timestep]") {
    const std::vector<double> t = {0.0, 1.0, 2.5, 731.0};
    const Tensor e = sinusoidal_embedding(times_of(t), 6, 10000.0, 1.0, false, DType::Float64);
    REQUIRE(e.shape() == Shape{4, 6});
    const auto v = e.to_vector<double>();
    for (std::size_t b = 0; b < t.size(); ++b) {
        // i = 0 has frequency 1: sin(t), cos(t) exactly.
        CHECK(v[b * 6 + 0] == std::sin(t[b]));
        CHECK(v[b * 6 + 3] == std::cos(t[b]));
        for (int i = 0; i < 3; ++i) {
            const double angle = t[b] * std::pow(10000.0, -i / 3.0);
            CHECK(std::abs(v[b * 6 + static_cast<std::size_t>(i)] - std::sin(angle)) < 1e-12);
            CHECK(std::abs(v[b * 6 + 3 + static_cast<std::size_t>(i)] - std::cos(angle)) < 1e-12);
        }
    }
    // t = 0: the sin half is 0 and the cos half 1.
    for (int i = 0; i < 3; ++i) CHECK(v[static_cast<std::size_t>(i)] == 0.0);
    for (int i = 3; i < 6; ++i) CHECK(v[static_cast<std::size_t>(i)] == 1.0);

    SECTION("cos_first swaps the halves") {
        const auto swapped =
            sinusoidal_embedding(times_of(t), 6, 10000.0, 1.0, true, DType::Float64).to_vector<double>();
        for (std::size_t b = 0; b < t.size(); ++b)
            for (std::size_t i = 0; i < 3; ++i) {
                CHECK(swapped[b * 6 + i] == v[b * 6 + 3 + i]);
                CHECK(swapped[b * 6 + 3 + i] == v[b * 6 + i]);
            }
    }
    SECTION("time_scale: flow times t ∈ [0, 1] give the angles of 1000·t") {
        const Tensor flow = sinusoidal_embedding(times_of({0.0, 0.25, 0.5, 1.0}), 8, 10000.0, 1000.0, false,
                                                 DType::Float64);
        const Tensor steps = sinusoidal_embedding(times_of({0.0, 250.0, 500.0, 1000.0}), 8, 10000.0, 1.0, false,
                                                  DType::Float64);
        CHECK(test::max_abs_difference(flow, steps) == 0.0);
    }
    SECTION("int64 and float32 scalars, any output dtype") {
        const Tensor ints = Tensor::from_vector(std::vector<std::int64_t>{0, 1, 2, 731});
        CHECK(test::max_abs_difference(sinusoidal_embedding(ints, 6, 10000.0, 1.0, false, DType::Float64),
                                 sinusoidal_embedding(times_of({0.0, 1.0, 2.0, 731.0}), 6, 10000.0, 1.0, false,
                                                      DType::Float64)) == 0.0);
        const Tensor f32 = sinusoidal_embedding(to(times_of(t), DType::Float32), 6);
        CHECK(f32.dtype() == DType::Float32);
        CHECK(test::max_abs_difference(f32, e) < 1e-6);
    }
}

TEST_CASE("TimestepEmbedding matches PyTorch on the same weights", "[models][timestep]") {
    for (const std::string name : {"timestep_sin", "timestep_cos_flow"}) {
        INFO("golden case " << name);
        const io::SafetensorsFile file = golden(name);
        const auto options = golden_options<TimestepEmbeddingOptions>(file);
        Generator gen(1);
        TimestepEmbedding block(options, gen, DType::Float64);
        load_golden(block, file);
        CHECK(parameter_names(block) ==
              std::vector<std::string>{"linear_1.weight", "linear_1.bias", "linear_2.weight", "linear_2.bias"});
        NoGradGuard no_grad;
        const Tensor times = file.at("times");
        CHECK(test::max_abs_difference(block.features(times), file.at("features")) <= 1e-12);
        CHECK(max_relative_error(block.forward(times), file.at("output")) <= 1e-10);

        TimestepEmbedding single(options, gen, DType::Float32);
        load_golden(single, file);
        CHECK(single.forward(times).dtype() == DType::Float32);
        CHECK(max_relative_error(single.forward(times), file.at("output")) <= 1e-5);
    }
}

TEST_CASE("TimestepMotionEmbedding: timestep(t) + motion(m), motion branch zero at initialisation",
          "[models][timestep]") {
    const io::SafetensorsFile file = golden("timestep_motion");
    const auto options = golden_options<TimestepMotionOptions>(file);
    Generator gen(2);
    TimestepMotionEmbedding block(options, gen, DType::Float64);
    NoGradGuard no_grad;
    const Tensor times = file.at("times"), motion = file.at("motion");

    // Freshly built, the motion scalar changes nothing: a trained model's
    // time embedding is left as it was.
    CHECK(test::max_abs_difference(block.forward(times, motion), block.timestep.forward(times)) == 0.0);
    CHECK(test::max_abs_difference(block.forward(times, motion), block.forward(times, mul(motion, 3.0))) == 0.0);

    load_golden(block, file);
    CHECK(parameter_names(block)[0] == "timestep.linear_1.weight");
    CHECK(parameter_names(block)[4] == "motion.linear_1.weight");
    CHECK(max_relative_error(block.forward(times, motion), file.at("output")) <= 1e-10);
    CHECK(test::max_abs_difference(block.forward(times, motion),
                             add(block.timestep.forward(times), block.motion.forward(motion))) == 0.0);
    // Trained, the frame rate moves the embedding.
    CHECK(test::max_abs_difference(block.forward(times, motion), block.forward(times, mul(motion, 3.0))) > 1e-3);
}

TEST_CASE("Timestep and motion embeddings: float64 gradcheck of every parameter", "[models][timestep][gradcheck]") {
    TimestepEmbeddingOptions o;
    o.frequency_channels = 4;
    o.width = 3;
    Generator gen(3);
    TimestepEmbedding block(o, gen, DType::Float64);
    const Tensor times = times_of({0.0, 3.0, 40.5});
    check_gradients(block, {}, [&](const std::vector<Tensor>&) { return block.forward(times); });

    TimestepMotionOptions mo;
    mo.timestep = o;
    mo.motion = o;
    mo.motion.max_period = 50.0;
    TimestepMotionEmbedding both(mo, gen, DType::Float64);
    test::randomize_parameters(both, 4);
    const Tensor fps = times_of({4.0, 12.0, 30.0});
    check_gradients(both, {}, [&](const std::vector<Tensor>&) { return both.forward(times, fps); });
}

TEST_CASE("Timestep embedding errors", "[models][timestep][errors]") {
    Generator gen(5);
    TimestepEmbeddingOptions o;
    o.frequency_channels = 4;
    o.width = 3;
    const TimestepEmbedding block(o, gen);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THAT(error_of([&] { block.forward(times_of({1.0, nan})); }),
               Catch::Contains("expected finite scalars, found nan at position 1"));
    CHECK_THAT(error_of([&] { block.forward(times_of({std::numeric_limits<double>::infinity()})); }),
               Catch::Contains("expected finite scalars"));
    CHECK_THAT(error_of([&] { block.forward(Tensor::zeros(Shape{2, 1})); }),
               Catch::Contains("expected scalars [B], found shape [2, 1]"));
    CHECK_THAT(error_of([&] { block.embed_features(Tensor::zeros(Shape{2, 5})); }),
               Catch::Contains("expected features [B, 4], found shape [2, 5]"));
    CHECK_THAT(error_of([&] { sinusoidal_embedding(times_of({1.0}), 5); }),
               Catch::Contains("positive, even number of channels"));
    o.frequency_channels = 3;
    CHECK_THAT(error_of([&] { TimestepEmbedding(o, gen); }), Catch::Contains("even frequency_channels"));
    o.frequency_channels = 4;
    o.time_scale = 0;
    CHECK_THAT(error_of([&] { TimestepEmbedding(o, gen); }), Catch::Contains("time_scale > 0, found 0"));

    TimestepMotionOptions mo;
    mo.motion.width = 7;
    CHECK_THAT(error_of([&] { TimestepMotionEmbedding(mo, gen); }),
               Catch::Contains("expected timestep.width and motion.width to be equal"));
    mo.motion.width = mo.timestep.width;
    mo.timestep.width = mo.motion.width = 4;
    mo.timestep.frequency_channels = mo.motion.frequency_channels = 4;
    const TimestepMotionEmbedding both(mo, gen);
    CHECK_THAT(error_of([&] { both.forward(times_of({1.0, 2.0}), times_of({8.0})); }),
               Catch::Contains("of one B, found [2] and [1]"));
}

// ----- tokenizer -----------------------------------------------------------------

TEST_CASE("Tokenizer::split_words: lowercase words split on punctuation, UTF-8 words kept", "[models][tokenizer]") {
    using W = std::vector<std::string>;
    CHECK(Tokenizer::split_words("Up-left, 3 Cats!") == W{"up", "left", "3", "cats"});
    CHECK(Tokenizer::split_words("") == W{});
    CHECK(Tokenizer::split_words("  ,;! ") == W{});
    CHECK(Tokenizer::split_words("R2D2 x_y") == W{"r2d2", "x", "y"});
    // Non-ASCII letters stay in words; typographic punctuation separates them.
    CHECK(Tokenizer::split_words("Un café \u201cnoir\u201d \u2014 视频\uff0c好") == W{"un", "café", "noir", "视频", "好"});
    CHECK(Tokenizer::split_words("a\u00a0b\u00d7c\u3002d") == W{"a", "b", "c", "d"});
    // The synthetic data sets' captions split as their parser splits them.
    for (const char* caption : {"a red circle moving up and to the left and bouncing",
                                "A Blue square that moves toward the lower right, bouncing off the walls"})
        CHECK(Tokenizer::split_words(caption) == data::detail::caption_tokens(caption));

    CHECK_THAT(error_of([] { Tokenizer::split_words("ok \xff"); }),
               Catch::Contains("expected UTF-8 text, found an invalid byte 0xff at offset 3"));
    // An overlong '/', a surrogate half, a character cut short.
    for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe8\xa7"})
        CHECK_THAT(error_of([&] { Tokenizer::split_words(bad); }), Catch::Contains("expected UTF-8 text"));
}

TEST_CASE("Tokenizer vocabulary: by count, then byte order; the same for any caption order", "[models][tokenizer]") {
    const io::SafetensorsFile file = golden("text_encoder");
    const auto captions = metadata_json(file, "captions").get<std::vector<std::string>>();
    const auto options = golden_options<TextEncoderOptions>(file);

    const Tokenizer cut = Tokenizer::from_captions(captions, options.vocab_limit);
    CHECK(cut.tokens() == metadata_json(file, "tokens").get<std::vector<std::string>>());
    CHECK(cut.size() == options.vocab_limit);
    const Tokenizer all = Tokenizer::from_captions(captions, 1000);
    CHECK(all.tokens() == metadata_json(file, "all_tokens").get<std::vector<std::string>>());

    std::vector<std::string> reversed(captions.rbegin(), captions.rend());
    CHECK(Tokenizer::from_captions(reversed, 1000) == all);
    CHECK(Tokenizer::from_captions(reversed, 1000).to_json().dump() == all.to_json().dump());

    CHECK(all.token(Tokenizer::pad_id) == "<pad>");
    CHECK(all.token(Tokenizer::unk_id) == "<unk>");
    CHECK(all.token(Tokenizer::bos_id) == "<bos>");
    CHECK(all.token(Tokenizer::eos_id) == "<eos>");
    CHECK(all.token(4) == "a");  // the most frequent word
    CHECK(all.id("zebra") == Tokenizer::unk_id);
    CHECK(all.id("<pad>") == Tokenizer::pad_id);  // a word can never be "<pad>": '<' separates words
    CHECK(cut.id("café") == Tokenizer::unk_id);  // cut off by the vocab limit
    CHECK(all.id("café") != Tokenizer::unk_id);
}

TEST_CASE("Tokenizer::encode: <bos> words <eos> padding, truncation, mask; empty prompt", "[models][tokenizer]") {
    const io::SafetensorsFile file = golden("text_encoder");
    const auto captions = metadata_json(file, "captions").get<std::vector<std::string>>();
    const auto prompts = metadata_json(file, "prompts").get<std::vector<std::string>>();
    const auto options = golden_options<TextEncoderOptions>(file);
    const Tokenizer tokenizer = Tokenizer::from_captions(captions, options.vocab_limit);

    const TokenBatch batch = tokenizer.encode(prompts, options.max_length);
    REQUIRE(batch.ids.dtype() == DType::Int64);
    REQUIRE(batch.mask.dtype() == DType::Int64);
    CHECK(batch.ids.to_vector<std::int64_t>() == file.at("ids").to_vector<std::int64_t>());
    CHECK(batch.mask.to_vector<std::int64_t>() == file.at("mask").to_vector<std::int64_t>());

    const std::vector<std::string> none = {""};
    const TokenBatch empty = tokenizer.encode(none, 5);
    CHECK(empty.ids.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 3, 0, 0, 0});
    CHECK(empty.mask.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0, 0, 0});

    // Too long: the last words go, <eos> stays.
    const std::vector<std::string> long_prompt = {"a red red red red"};
    const TokenBatch cut = tokenizer.encode(long_prompt, 4);
    const std::int64_t a = tokenizer.id("a"), red = tokenizer.id("red");
    CHECK(cut.ids.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, a, red, 3});
    CHECK(cut.mask.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 1, 1});
    CHECK(tokenizer.encode(long_prompt, 2).ids.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 3});

    CHECK(tokenizer.decode(batch.ids.to_vector<std::int64_t>()) ==
          "a red circle moving left a blue <unk> bouncing a red square moving <unk> and <unk> <unk>");
    CHECK(tokenizer.word_ids("A BLUE zebra") == std::vector<std::int64_t>{a, tokenizer.id("blue"), Tokenizer::unk_id});
    CHECK(tokenizer.encode({}, 4).ids.shape() == Shape{0, 4});
}

TEST_CASE("Tokenizer JSON round trip and checks", "[models][tokenizer][errors]") {
    const std::vector<std::string> captions = {"a red circle", "a blue square", "café"};
    const Tokenizer tokenizer = Tokenizer::from_captions(captions, 100);
    const nlohmann::json j = tokenizer.to_json();
    CHECK(j["type"] == "word");
    CHECK(j["version"] == 1);
    const Tokenizer back = Tokenizer::from_json(nlohmann::json::parse(j.dump()));
    CHECK(back == tokenizer);
    CHECK(back.id("café") == tokenizer.id("café"));

    auto with_tokens = [&](std::vector<std::string> tokens) {
        nlohmann::json out = j;
        out["tokens"] = tokens;
        return out;
    };
    const std::vector<std::string> specials = {"<pad>", "<unk>", "<bos>", "<eos>"};
    CHECK_THAT(error_of([&] { Tokenizer::from_json(with_tokens(specials)); }),
               Catch::Contains("at least one word, found 4 tokens (an empty vocabulary)"));
    CHECK_THAT(error_of([&] { Tokenizer::from_json(with_tokens({"<pad>", "<bos>", "<unk>", "<eos>", "a"})); }),
               Catch::Contains("expected token 1 to be '<unk>', found '<bos>'"));
    CHECK_THAT(error_of([&] { Tokenizer::from_json(with_tokens({"<pad>", "<unk>", "<bos>", "<eos>", "a", "a"})); }),
               Catch::Contains("expected each token once"));
    CHECK_THAT(error_of([&] { Tokenizer::from_json(with_tokens({"<pad>", "<unk>", "<bos>", "<eos>", "Red"})); }),
               Catch::Contains("expected token 4 to be one lowercase word, found 'Red'"));
    CHECK_THAT(error_of([&] { Tokenizer::from_json(with_tokens({"<pad>", "<unk>", "<bos>", "<eos>", "red circle"})); }),
               Catch::Contains("one lowercase word"));
    nlohmann::json extra = j;
    extra["counts"] = 3;
    CHECK_THAT(error_of([&] { Tokenizer::from_json(extra); }), Catch::Contains("unknown key 'counts'"));
    nlohmann::json future = j;
    future["version"] = 2;
    CHECK_THAT(error_of([&] { Tokenizer::from_json(future); }), Catch::Contains("expected \"version\": 1, found 2"));
    CHECK_THAT(error_of([&] { Tokenizer::from_json(nlohmann::json::array()); }),
               Catch::Contains("expected a JSON object"));
    nlohmann::json numbers = j;
    numbers["tokens"][4] = 7;
    CHECK_THAT(error_of([&] { Tokenizer::from_json(numbers); }), Catch::Contains("expected token 4 to be a string"));

    CHECK_THAT(error_of([&] { Tokenizer::from_captions({"", " ,. "}, 10); }),
               Catch::Contains("expected captions with at least one word, found 2 captions and no words"));
    CHECK_THAT(error_of([&] { Tokenizer::from_captions({}, 10); }), Catch::Contains("an empty vocabulary"));
    CHECK_THAT(error_of([&] { Tokenizer::from_captions(captions, 4); }),
               Catch::Contains("expected a vocab_limit above the 4 special tokens"));
    CHECK_THAT(error_of([&] { tokenizer.encode(captions, 1); }), Catch::Contains("max_length of at least 2"));
    CHECK_THAT(error_of([&] { tokenizer.token(99); }), Catch::Contains("expected a token id in [0, 10), found 99"));
}

// ----- text encoder -----------------------------------------------------------------

TEST_CASE("TextEncoder matches its PyTorch twin (float64 ≤ 1e-10, float32 ≤ 1e-5)", "[models][text]") {
    const io::SafetensorsFile file = golden("text_encoder");
    const auto captions = metadata_json(file, "captions").get<std::vector<std::string>>();
    const auto prompts = metadata_json(file, "prompts").get<std::vector<std::string>>();
    const auto options = golden_options<TextEncoderOptions>(file);
    Generator gen(6);
    TextEncoder encoder = TextEncoder::from_captions(captions, options, gen, DType::Float64);
    load_golden(encoder, file);
    const auto names = parameter_names(encoder);
    CHECK(std::vector<std::string>(names.begin(), names.begin() + 6) ==
          std::vector<std::string>{"token_embedding.weight", "position_embedding.weight", "layers.0.norm1.weight",
                                   "layers.0.norm1.bias", "layers.0.attention.qkv.weight",
                                   "layers.0.attention.qkv.bias"});
    CHECK(names.back() == "final_norm.bias");

    NoGradGuard no_grad;
    const TextEncoding out = encoder.encode(prompts);
    REQUIRE(out.tokens.shape() == Shape{5, options.max_length, options.width});
    CHECK(max_relative_error(out.tokens, file.at("output")) <= 1e-10);
    CHECK(out.mask.to_vector<std::int64_t>() == file.at("mask").to_vector<std::int64_t>());
    const TextEncoding from_ids = encoder.forward({file.at("ids"), file.at("mask")});
    CHECK(test::max_abs_difference(from_ids.tokens, out.tokens) == 0.0);

    TextEncoder single = TextEncoder::from_captions(captions, options, gen, DType::Float32);
    load_golden(single, file);
    const TextEncoding out32 = single.encode(prompts);
    CHECK(out32.tokens.dtype() == DType::Float32);
    CHECK(max_relative_error(out32.tokens, file.at("output")) <= 1e-5);
}

TEST_CASE("TextEncoder: padded keys are hidden, the empty prompt is a valid sequence", "[models][text]") {
    TextEncoderOptions o;
    o.max_length = 9;
    o.width = 8;
    o.layers = 2;
    o.heads = 2;
    Generator gen(7);
    TextEncoder encoder = TextEncoder::from_captions({"a red circle moving left", "a blue square"}, o, gen,
                                                     DType::Float64);
    test::randomize_parameters(encoder, 8);
    NoGradGuard no_grad;
    const TokenBatch batch = encoder.tokenizer().encode({"a red circle", ""}, o.max_length);

    // Real tokens' outputs do not depend on how much padding follows them
    // nor on the ids at padded positions.
    const TextEncoding full = encoder.forward(batch);
    const TextEncoding shorter = encoder.forward({slice(batch.ids, 1, 0, 5), slice(batch.mask, 1, 0, 5)});
    CHECK(test::max_abs_difference(slice(full.tokens, 1, 0, 5), shorter.tokens) < 1e-14);
    Tensor other_ids = clone(batch.ids);
    for (std::int64_t i = 5; i < o.max_length; ++i) other_ids.data<std::int64_t>()[i] = encoder.tokenizer().id("blue");
    const TextEncoding other = encoder.forward({other_ids, batch.mask});
    CHECK(test::max_abs_difference(slice(slice(other.tokens, 0, 0, 1), 1, 0, 5),
                             slice(slice(full.tokens, 0, 0, 1), 1, 0, 5)) < 1e-14);
    // ... while a visible token changes them.
    Tensor changed_ids = clone(batch.ids);
    changed_ids.data<std::int64_t>()[2] = encoder.tokenizer().id("blue");
    CHECK(test::max_abs_difference(slice(slice(encoder.forward({changed_ids, batch.mask}).tokens, 0, 0, 1), 1, 0, 1),
                             slice(slice(full.tokens, 0, 0, 1), 1, 0, 1)) > 1e-6);

    // The empty prompt: <bos> <eos>, finite features everywhere.
    const TextEncoding empty = encoder.encode({""});
    CHECK(empty.mask.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1, 0, 0, 0, 0, 0, 0, 0});
    for (double v : empty.tokens.to_vector<double>()) REQUIRE(std::isfinite(v));
    CHECK(test::max_abs_difference(select(empty.tokens, 0, 0), select(full.tokens, 0, 1)) < 1e-14);
}

TEST_CASE("TextEncoder: float64 gradcheck of every parameter on a tiny config", "[models][text][gradcheck]") {
    TextEncoderOptions o;
    o.max_length = 5;
    o.width = 4;
    o.layers = 2;
    o.heads = 2;
    o.mlp_ratio = 2;
    Generator gen(9);
    TextEncoder encoder = TextEncoder::from_captions({"a red circle", "a blue square"}, o, gen, DType::Float64);
    test::randomize_parameters(encoder, 10);
    const TokenBatch batch = encoder.tokenizer().encode({"a red zebra", ""}, o.max_length);
    check_gradients(encoder, {}, [&](const std::vector<Tensor>&) { return encoder.forward(batch).tokens; });
}

TEST_CASE("TextEncoder errors", "[models][text][errors]") {
    TextEncoderOptions o;
    o.max_length = 4;
    o.width = 4;
    o.layers = 1;
    o.heads = 2;
    Generator gen(11);
    const TextEncoder encoder = TextEncoder::from_captions({"a red circle"}, o, gen);
    const TokenBatch good = encoder.tokenizer().encode({"a red"}, 4);
    const auto ids = [](std::vector<std::int64_t> v) { return Tensor::from_vector(v, Shape{1, 4}); };
    CHECK_THAT(error_of([&] { encoder.forward({ids({2, 99, 3, 0}), good.mask}); }),
               Catch::Contains("expected token ids in [0, 7) (the vocabulary's size), found 99 at position 1"));
    CHECK_THAT(error_of([&] { encoder.forward({ids({2, -1, 3, 0}), good.mask}); }), Catch::Contains("found -1"));
    CHECK_THAT(error_of([&] { encoder.forward({to(good.ids, DType::Float32), good.mask}); }),
               Catch::Contains("expected int64 token ids [B, L]"));
    CHECK_THAT(error_of([&] { encoder.forward({good.ids, ids({0, 0, 0, 0})}); }),
               Catch::Contains("at least one visible token in every row of the mask, found none in row 0"));
    CHECK_THAT(error_of([&] { encoder.forward({good.ids, ids({1, 2, 1, 0})}); }),
               Catch::Contains("expected mask values 0 or 1, found 2"));
    CHECK_THAT(error_of([&] { encoder.forward({good.ids, slice(good.mask, 1, 0, 3)}); }),
               Catch::Contains("expected an int64 mask of the ids' shape [1, 4]"));
    const TokenBatch too_long = encoder.tokenizer().encode({"a red"}, 6);
    CHECK_THAT(error_of([&] { encoder.forward(too_long); }),
               Catch::Contains("expected between 1 and max_length 4 tokens per prompt, found 6"));
    o.heads = 3;
    CHECK_THAT(error_of([&] { TextEncoder::from_captions({"a"}, o, gen); }),
               Catch::Contains("expected a head count dividing the width 4, found 3"));
    o.heads = 2;
    CHECK_THAT(error_of([&] { TextEncoder::from_captions({"!"}, o, gen); }), Catch::Contains("an empty vocabulary"));
}

// ----- structure map -----------------------------------------------------------------

namespace {

/// Σ |differences| between horizontal and vertical neighbours, over all planes.
double total_variation(const Tensor& maps) {
    const std::int64_t h = maps.size(-2), w = maps.size(-1);
    const auto v = maps.to_vector<double>();
    double tv = 0;
    for (std::size_t p = 0; p < v.size() / static_cast<std::size_t>(h * w); ++p)
        for (std::int64_t r = 0; r < h; ++r)
            for (std::int64_t c = 0; c < w; ++c) {
                const std::size_t i = p * static_cast<std::size_t>(h * w) + static_cast<std::size_t>(r * w + c);
                if (c + 1 < w) tv += std::abs(v[i + 1] - v[i]);
                if (r + 1 < h) tv += std::abs(v[i + static_cast<std::size_t>(w)] - v[i]);
            }
    return tv;
}

/// A video [1, 1, 3, h, w] that is 0 left of column `edge` and 1 from it on (or, transposed, above row `edge`).
Tensor step_video(std::int64_t h, std::int64_t w, std::int64_t edge, bool vertical) {
    Tensor v = Tensor::zeros(Shape{1, 1, 3, h, w}, DType::Float64);
    double* p = v.data<double>();
    for (std::int64_t c = 0; c < 3; ++c)
        for (std::int64_t r = 0; r < h; ++r)
            for (std::int64_t x = 0; x < w; ++x) p[(c * h + r) * w + x] = (vertical ? x : r) >= edge ? 1.0 : 0.0;
    return v;
}

}  // namespace

TEST_CASE("luma is BT.601", "[models][structure]") {
    Tensor video = Tensor::zeros(Shape{1, 3, 3, 1, 2}, DType::Float64);
    double* p = video.data<double>();
    for (std::int64_t t = 0; t < 3; ++t) p[(t * 3 + t) * 2] = 1.0;  // frame t: channel t lit at pixel 0
    const auto y = luma(video).to_vector<double>();
    CHECK(luma(video).shape() == Shape{1, 3, 1, 1, 2});
    CHECK(y == std::vector<double>{0.299, 0.0, 0.587, 0.0, 0.114, 0.0});
}

TEST_CASE("edge_map: a vertical step gives a vertical line, a constant frame gives zero", "[models][structure]") {
    const std::int64_t h = 6, w = 8, edge = 4;
    for (const bool vertical : {true, false}) {
        INFO((vertical ? "vertical" : "horizontal") << " step");
        const Tensor video = vertical ? step_video(h, w, edge, true) : step_video(w, h, edge, false);
        const Tensor edges = edge_map(video);
        REQUIRE(edges.shape() == Shape{1, 1, 1, vertical ? h : w, vertical ? w : h});
        const auto v = edges.to_vector<double>();
        const std::int64_t rows = vertical ? h : w, cols = vertical ? w : h;
        // Sobel sees the step at the two pixels beside it, 4 before normalisation.
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c) {
                const std::int64_t across = vertical ? c : r;
                CHECK(v[static_cast<std::size_t>(r * cols + c)] == (across == edge - 1 || across == edge ? 1.0 : 0.0));
            }
        // The structure map at full size, level 0, is the edge map.
        CHECK(test::max_abs_difference(structure_map(video, vertical ? h : w, vertical ? w : h), edges) == 0.0);
    }
    const Tensor constant = Tensor::full(Shape{2, 3, 3, 5, 4}, 0.7, DType::Float64);
    for (const std::int64_t level : {0, 2}) {
        StructureOptions o;
        o.level = level;
        for (double v : structure_map(constant, 3, 2, o).to_vector<double>()) CHECK(v == 0.0);
        for (double v : structure_map(constant, 3, 2, o, Tensor::full(Shape{2, 3, 1, 5, 4}, 2.0, DType::Float64))
                            .to_vector<double>())
            CHECK(v == 0.0);
    }
}

TEST_CASE("edge_map: per frame, and blind to brightness and contrast", "[models][structure]") {
    const io::SafetensorsFile file = golden("structure_map");
    const Tensor video = file.at("video");
    const Tensor edges = edge_map(video);
    CHECK(test::max_abs_difference(edge_map(add(mul(video, 2.5), 0.3)), edges) < 1e-12);
    // Each frame is normalised alone: its largest edge is 1, whatever the other frames hold.
    const Tensor frames = reshape(edges, Shape{4, -1});
    const Tensor top = max(frames, 1);
    for (double m : top.to_vector<double>()) CHECK(m == 1.0);
    Tensor darkened = clone(video);
    select(select(darkened, 0, 0), 0, 1).fill_(0.0);  // frame b = 0, t = 1 goes black
    const Tensor changed = edge_map(darkened);
    CHECK(test::max_abs_difference(select(select(changed, 0, 0), 0, 0), select(select(edges, 0, 0), 0, 0)) == 0.0);
    for (double v : select(select(changed, 0, 0), 0, 1).to_vector<double>()) CHECK(v == 0.0);
}

TEST_CASE("structure_map matches PyTorch (Sobel, area resize, Gaussian blur)", "[models][structure]") {
    const io::SafetensorsFile file = golden("structure_map");
    const Tensor video = file.at("video"), depth = file.at("depth");
    struct Case {
        bool depth;
        std::int64_t level;
        double sigma;
        std::int64_t height, width;
    };
    for (const Case c : {Case{false, 0, 1.0, 12, 10}, Case{false, 0, 1.0, 6, 5}, Case{false, 1, 1.0, 6, 5},
                         Case{false, 2, 0.75, 6, 5}, Case{false, 1, 1.0, 4, 3}, Case{false, 1, 0.5, 7, 13},
                         Case{true, 0, 1.0, 5, 4}, Case{true, 1, 1.0, 5, 4}}) {
        const std::string name = fmt::format("{}_l{}_s{:g}_{}x{}", c.depth ? "depth" : "edges", c.level, c.sigma,
                                             c.height, c.width);
        INFO("golden case " << name);
        StructureOptions o;
        o.level = c.level;
        o.sigma_per_level = c.sigma;
        const Tensor got = structure_map(video, c.height, c.width, o, c.depth ? depth : Tensor{});
        CHECK(got.shape() == Shape{2, 2, 1, c.height, c.width});
        CHECK(test::max_abs_difference(got, file.at(name)) <= 1e-12);
        const Tensor single = structure_map(to(video, DType::Float32), c.height, c.width, o,
                                            c.depth ? to(depth, DType::Float32) : Tensor{});
        CHECK(single.dtype() == DType::Float32);
        CHECK(test::max_abs_difference(single, file.at(name)) <= 1e-5);
    }
}

TEST_CASE("structure_map: each level removes detail (total variation falls)", "[models][structure]") {
    const io::SafetensorsFile file = golden("structure_map");
    const Tensor video = file.at("video"), depth = file.at("depth");
    for (const bool with_depth : {false, true}) {
        INFO((with_depth ? "depth" : "edges"));
        double previous = std::numeric_limits<double>::infinity();
        for (std::int64_t level = 0; level <= 5; ++level) {
            StructureOptions o;
            o.level = level;
            const Tensor map = structure_map(video, 12, 10, o, with_depth ? depth : Tensor{});
            const double tv = total_variation(map);
            INFO("level " << level << ": total variation " << tv);
            CHECK(tv < previous);
            previous = tv;
            for (double v : map.to_vector<double>()) REQUIRE((v >= 0.0 && v <= 1.0));
        }
    }
}

TEST_CASE("Gaussian kernel and area resize", "[models][structure]") {
    CHECK(gaussian_kernel(0.0) == std::vector<double>{1.0});
    for (const double sigma : {0.3, 1.0, 2.5}) {
        const auto taps = gaussian_kernel(sigma);
        const auto radius = static_cast<std::size_t>(std::ceil(3 * sigma));
        REQUIRE(taps.size() == 2 * radius + 1);
        double total = 0;
        for (std::size_t k = 0; k < taps.size(); ++k) {
            total += taps[k];
            CHECK(taps[k] == taps[taps.size() - 1 - k]);
            if (k > 0 && k <= radius) CHECK(taps[k] > taps[k - 1]);
        }
        CHECK(std::abs(total - 1.0) < 1e-15);
        CHECK(std::abs(taps[radius + 1] / taps[radius] - std::exp(-1.0 / (2 * sigma * sigma))) < 1e-14);
    }
    // The taps sum to 1, so a constant map stays as it is.
    const Tensor flat = Tensor::full(Shape{3, 4, 5}, 0.25, DType::Float64);
    CHECK(test::max_abs_difference(gaussian_blur(flat, 1.5), flat) < 1e-15);

    // Area resize by whole factors averages blocks; to the same size it copies.
    const Tensor x = random(Shape{2, 4, 6}, 12);
    CHECK(test::max_abs_difference(area_resize(x, 4, 6), x) == 0.0);
    const Tensor half = area_resize(x, 2, 3);
    const auto xv = x.to_vector<double>(), hv = half.to_vector<double>();
    for (std::int64_t p = 0; p < 2; ++p)
        for (std::int64_t i = 0; i < 2; ++i)
            for (std::int64_t j = 0; j < 3; ++j) {
                double block = 0;
                for (std::int64_t r = 2 * i; r < 2 * i + 2; ++r)
                    for (std::int64_t c = 2 * j; c < 2 * j + 2; ++c)
                        block += xv[static_cast<std::size_t>((p * 4 + r) * 6 + c)];
                CHECK(std::abs(hv[static_cast<std::size_t>((p * 2 + i) * 3 + j)] - block / 4) < 1e-15);
            }
    CHECK(normalize_depth(Tensor::from_vector(std::vector<double>{2, 4, 3, 6}, Shape{1, 2, 2})).to_vector<double>() ==
          std::vector<double>{0.0, 0.5, 0.25, 1.0});
}

TEST_CASE("structure_map errors", "[models][structure][errors]") {
    const Tensor video = random(Shape{1, 2, 3, 4, 4}, 13, 0.0, 1.0);
    CHECK_THAT(error_of([&] { structure_map(random(Shape{2, 3, 4, 4}, 1), 2, 2); }),
               Catch::Contains("expected an RGB video [B, T, 3, H, W], found shape [2, 3, 4, 4]"));
    CHECK_THAT(error_of([&] { structure_map(random(Shape{1, 2, 4, 4, 4}, 1), 2, 2); }),
               Catch::Contains("RGB video [B, T, 3, H, W]"));
    CHECK_THAT(error_of([&] { structure_map(video, 0, 2); }),
               Catch::Contains("latent size of at least 1 × 1, found 0 × 2"));
    CHECK_THAT(error_of([&] { structure_map(video, 2, 2, {}, random(Shape{1, 2, 1, 4, 3}, 2)); }),
               Catch::Contains("expected a depth map [1, 2, 1, 4, 4] for the video [1, 2, 3, 4, 4], "
                               "found [1, 2, 1, 4, 3]"));
    StructureOptions negative;
    negative.level = -1;
    CHECK_THAT(error_of([&] { structure_map(video, 2, 2, negative); }),
               Catch::Contains("expected a structure level >= 0, found -1"));
    Tensor with_nan = clone(video);
    with_nan.data<double>()[5] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THAT(error_of([&] { structure_map(with_nan, 2, 2); }),
               Catch::Contains("expected finite video values, found nan"));
    Tensor depth_nan = random(Shape{1, 2, 1, 4, 4}, 3);
    depth_nan.data<double>()[0] = std::numeric_limits<double>::infinity();
    CHECK_THAT(error_of([&] { structure_map(video, 2, 2, {}, depth_nan); }),
               Catch::Contains("expected finite depth values, found inf at element 0"));
    CHECK_THAT(error_of([&] { structure_map(Tensor::zeros(Shape{1, 1, 3, 2, 2}, DType::Int64), 2, 2); }),
               Catch::Contains("expected a float video, found int64"));
    CHECK_THAT(error_of([&] { gaussian_kernel(-1.0); }), Catch::Contains("expected a finite sigma >= 0, found -1"));
    CHECK_THAT(error_of([&] { area_resize(random(Shape{4}, 1), 2, 2); }), Catch::Contains("expected maps [..., H, W]"));
}

// ----- content encoder --------------------------------------------------------------

TEST_CASE("ContentEncoder matches its PyTorch twin", "[models][content]") {
    const io::SafetensorsFile file = golden("content_encoder");
    const auto options = golden_options<ContentEncoderOptions>(file);
    Generator gen(14);
    ContentEncoder encoder(options, gen, DType::Float64);
    load_golden(encoder, file);
    CHECK(parameter_names(encoder) == std::vector<std::string>{"convs.0.weight", "convs.0.bias", "convs.1.weight",
                                                               "convs.1.bias", "convs.2.weight", "convs.2.bias",
                                                               "to_tokens.weight", "to_tokens.bias"});
    NoGradGuard no_grad;
    const Tensor frame = file.at("frame");
    const Tensor out = encoder.forward(frame);
    REQUIRE(out.shape() == Shape{2, options.tokens, options.width});
    CHECK(max_relative_error(out, file.at("output")) <= 1e-10);

    ContentEncoder single(options, gen, DType::Float32);
    load_golden(single, file);
    CHECK(max_relative_error(single.forward(to(frame, DType::Float32)), file.at("output")) <= 1e-5);
}

TEST_CASE("ContentEncoder: any frame size gives K tokens; float64 gradcheck", "[models][content][gradcheck]") {
    ContentEncoderOptions o;
    o.channels = {3, 4};
    o.tokens = 2;
    o.width = 3;
    Generator gen(15);
    ContentEncoder encoder(o, gen, DType::Float64);
    {
        NoGradGuard no_grad;
        for (const auto& [h, w] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {5, 8}, {16, 3}})
            CHECK(encoder.forward(random(Shape{3, 3, h, w}, 16)).shape() == Shape{3, 2, 3});
    }
    test::randomize_parameters(encoder, 17);
    check_gradients(encoder, {random(Shape{2, 3, 5, 4}, 18)},
                    [&](const std::vector<Tensor>& xs) { return encoder.forward(xs[0]); });
}

TEST_CASE("ContentEncoder errors", "[models][content][errors]") {
    ContentEncoderOptions o;
    o.channels = {4};
    o.tokens = 2;
    o.width = 3;
    Generator gen(19);
    const ContentEncoder encoder(o, gen);
    CHECK_THAT(error_of([&] { encoder.forward(Tensor::zeros(Shape{1, 4, 5, 5})); }),
               Catch::Contains("expected a reference frame [B, 3, H, W], found shape [1, 4, 5, 5]"));
    CHECK_THAT(error_of([&] { encoder.forward(Tensor::zeros(Shape{3, 5, 5})); }),
               Catch::Contains("expected a reference frame [B, 3, H, W]"));
    CHECK_THAT(error_of([&] { encoder.forward(Tensor::zeros(Shape{1, 3, 5, 5}, DType::Float64)); }),
               Catch::Contains("expected a float32 frame, found float64"));
    Tensor nan_frame = Tensor::zeros(Shape{1, 3, 2, 2});
    nan_frame.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THAT(error_of([&] { encoder.forward(nan_frame); }),
               Catch::Contains("expected finite pixel values, found nan at element 7"));
    o.channels = {};
    CHECK_THAT(error_of([&] { ContentEncoder(o, gen); }), Catch::Contains("expected at least one conv"));
    o.channels = {4, 0};
    CHECK_THAT(error_of([&] { ContentEncoder(o, gen); }),
               Catch::Contains("expected positive channels, found 0 at position 1"));
}

// ----- options in JSON -------------------------------------------------------------

TEST_CASE("Conditioning options read from and write to JSON", "[models][json]") {
    const auto text = io::options_from_json<TextEncoderOptions>(
        nlohmann::json::parse(R"({"vocab_limit": 500, "max_length": 16, "width": 64, "layers": 3, "heads": 8})"),
        "text");
    CHECK(text.vocab_limit == 500);
    CHECK(text.max_length == 16);
    CHECK(text.width == 64);
    CHECK(text.layers == 3);
    CHECK(text.heads == 8);
    CHECK(text.mlp_ratio == TextEncoderOptions{}.mlp_ratio);
    CHECK(io::options_to_json(text)["mlp_ratio"] == 4);
    CHECK_THAT(error_of([] {
                   io::options_from_json<TextEncoderOptions>(nlohmann::json::parse(R"({"vocab": 5})"), "text");
               }),
               Catch::Contains("'text': unknown key 'vocab'"));

    const auto motion = io::options_from_json<TimestepMotionOptions>(
        nlohmann::json::parse(R"({"timestep": {"time_scale": 1000, "cos_first": true},
                                  "motion": {"max_period": 60}})"));
    CHECK(motion.timestep.time_scale == 1000.0);
    CHECK(motion.timestep.cos_first);
    CHECK(motion.motion.max_period == 60.0);
    CHECK_THAT(error_of([] {
                   io::options_from_json<TimestepMotionOptions>(nlohmann::json::parse(R"({"motion": {"width": "8"}})"),
                                                                "time");
               }),
               Catch::Contains("'time.motion.width': expected an integer"));

    const auto content = io::options_from_json<ContentEncoderOptions>(
        nlohmann::json::parse(R"({"channels": [8, 16], "tokens": 2})"));
    CHECK(content.channels == std::vector<std::int64_t>{8, 16});
    CHECK(io::options_from_json<ContentEncoderOptions>(io::options_to_json(content)).channels == content.channels);

    const auto structure = io::options_from_json<StructureOptions>(
        nlohmann::json::parse(R"({"level": 3, "sigma_per_level": 0.5})"));
    CHECK(structure.level == 3);
    CHECK(structure.sigma_per_level == 0.5);
    CHECK(io::options_to_json(structure).dump() == R"({"level":3,"sigma_per_level":0.5})");
}

}  // namespace vgt::test::conditioning_test
