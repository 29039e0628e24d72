#include "support.hpp"

#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <vgt/data/data_config.hpp>
#include <vgt/io/json_config.hpp>

namespace vgt::test::json_config_test {

using vgt::test::TempDir;
using Catch::Contains;

namespace example {

enum class Colour { red, green };
inline std::string_view colour_name(Colour c) { return c == Colour::red ? "red" : "green"; }
inline Colour parse_colour(std::string_view name) {
    if (name == "red") return Colour::red;
    if (name == "green") return Colour::green;
    fail("parse_colour", "expected red or green, found '{}'", name);
}

struct Inner {
    std::int32_t channels = 8;
    std::vector<double> scales = {1.0, 0.5};
    bool operator==(const Inner&) const = default;
};

struct Options {
    bool enabled = true;
    std::int64_t steps = 100;
    std::uint8_t level = 3;
    std::uint64_t seed = 7;
    float rate = 0.25f;
    double beta = 0.999;
    std::string name = "base";
    Colour colour = Colour::red;
    std::optional<std::int64_t> limit;
    std::array<int, 2> pair = {1, 2};
    Inner inner;
    std::vector<Inner> blocks = {Inner{}, Inner{16, {}}};
    bool operator==(const Options&) const = default;
};

template <class V>
void visit_fields(V& v, Inner& o) {
    v("channels", o.channels);
    v("scales", o.scales);
}

template <class V>
void visit_fields(V& v, Options& o) {
    v("enabled", o.enabled);
    v("steps", o.steps);
    v("level", o.level);
    v("seed", o.seed);
    v("rate", o.rate);
    v("beta", o.beta);
    v("name", o.name);
    v("colour", o.colour);
    v("limit", o.limit);
    v("pair", o.pair);
    v("inner", o.inner);
    v("blocks", o.blocks);
}

}  // namespace example

}  // namespace vgt::test::json_config_test

// The codec is a specialisation in vgt::io, which the test's namespace does not enclose.
template <>
struct vgt::io::JsonCodec<vgt::test::json_config_test::example::Colour>
    : vgt::io::JsonEnumCodec<vgt::test::json_config_test::example::Colour,
                             vgt::test::json_config_test::example::colour_name,
                             vgt::test::json_config_test::example::parse_colour> {};

namespace vgt::test::json_config_test {

namespace {

example::Options read_options(const std::string& text) {
    return io::options_from_json<example::Options>(io::parse_json_config(text, "test.json"), "model");
}

}  // namespace

TEST_CASE("Config: absent keys keep the defaults, given ones are read", "[io][config]") {
    CHECK(read_options("{}") == example::Options{});
    const auto o = read_options(R"({
        "enabled": false, "steps": -5, "level": 255, "seed": 18446744073709551615, "rate": 1e-3,
        "beta": 2, "name": "wide", "colour": "green", "limit": 12, "pair": [3, 4],
        "inner": {"channels": 32}, "blocks": [{"scales": [0.125]}]
    })");
    CHECK_FALSE(o.enabled);
    CHECK(o.steps == -5);
    CHECK(o.level == 255);
    CHECK(o.seed == 18446744073709551615ull);
    CHECK(o.rate == 1e-3f);
    CHECK(o.beta == 2.0);  // an integer is a number
    CHECK(o.name == "wide");
    CHECK(o.colour == example::Colour::green);
    CHECK(o.limit == 12);
    CHECK(o.pair == std::array<int, 2>{3, 4});
    CHECK(o.inner == example::Inner{32, {1.0, 0.5}});
    REQUIRE(o.blocks.size() == 1);
    CHECK(o.blocks[0] == example::Inner{8, {0.125}});
    CHECK_FALSE(read_options(R"({"limit": null})").limit.has_value());
}

TEST_CASE("Config: writing emits every field and reads back equal", "[io][config]") {
    example::Options o;
    o.steps = 123456789012;
    o.rate = 0.1f;  // not exact in binary: the float must survive the text round trip
    o.name = "quote \" and unicode \u00e9";
    o.colour = example::Colour::green;
    o.limit = -1;
    o.blocks.push_back({4, {3.5, -2.25}});
    const nlohmann::json j = io::options_to_json(o);
    CHECK(j.size() == 12);
    CHECK(j["colour"] == "green");
    CHECK(j["inner"]["scales"] == nlohmann::json::array({1.0, 0.5}));
    CHECK(read_options(j.dump()) == o);
    CHECK(read_options(j.dump(2)) == o);
    // A struct written with its defaults reads back as the defaults.
    CHECK(read_options(io::options_to_json(example::Options{}).dump()) == example::Options{});
    // A non-finite value cannot be written: JSON has no spelling for it.
    o.beta = std::nan("");
    CHECK_THROWS_WITH(io::options_to_json(o), Contains("finite"));
}

TEST_CASE("Config: each kind of bad value names its path, what was expected and found", "[io][config]") {
    struct Case {
        const char* text;
        const char* path;
        const char* expected;
        const char* found;
    };
    const Case cases[] = {
        {R"({"stepz": 1})", "'model'", "unknown key 'stepz'", "steps"},
        {R"({"inner": {"chanels": 1}})", "'model.inner'", "unknown key 'chanels'", "channels, scales"},
        {R"({"enabled": 1})", "'model.enabled'", "expected true or false", "the number 1"},
        {R"({"steps": 1.5})", "'model.steps'", "expected an integer", "the number 1.5"},
        {R"({"steps": "10"})", "'model.steps'", "expected an integer", "the string \"10\""},
        {R"({"steps": 9223372036854775808})", "'model.steps'", "expected an integer", "9223372036854775808"},
        {R"({"level": 256})", "'model.level'", "expected an integer in [0, 255]", "the number 256"},
        {R"({"level": -1})", "'model.level'", "expected an integer in [0, 255]", "the number -1"},
        {R"({"seed": -1})", "'model.seed'", "expected an integer >= 0", "the number -1"},
        {R"({"rate": 1e39})", "'model.rate'", "expected a finite number", "1e+39"},
        {R"({"beta": null})", "'model.beta'", "expected a number", "null"},
        {R"({"name": ["a"]})", "'model.name'", "expected a string", "an array of 1"},
        {R"({"colour": "blue"})", "'model.colour'", "expected red or green", "'blue'"},
        {R"({"colour": 0})", "'model.colour'", "expected a name", "the number 0"},
        {R"({"pair": [1, 2, 3]})", "'model.pair'", "expected an array of 2", "an array of 3"},
        {R"({"inner": []})", "'model.inner'", "expected an object", "an array of 0"},
        {R"({"blocks": [{}, {"scales": [1, "x"]}]})", "'model.blocks[1].scales[1]'", "expected a number",
         "the string \"x\""},
        {R"({"limit": true})", "'model.limit'", "expected an integer", "the boolean true"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        CHECK_THROWS_AS(read_options(c.text), Error);
        CHECK_THROWS_WITH(read_options(c.text), Contains(c.path) && Contains(c.expected) && Contains(c.found));
    }
    // The top level of a document that is not an object.
    CHECK_THROWS_WITH(io::options_from_json<example::Options>(io::parse_json_config("[1]", "t.json")),
                      Contains("(top level)") && Contains("expected an object"));
}

TEST_CASE("Config: malformed documents are errors before any field is read", "[io][config]") {
    CHECK_THROWS_WITH(io::parse_json_config("{\"a\": 1,", "t.json"), Contains("'t.json'") && Contains("syntax error"));
    CHECK_THROWS_WITH(io::parse_json_config("", "t.json"), Contains("syntax error"));
    CHECK_THROWS_WITH(io::parse_json_config("{\"a\": 1} {", "t.json"), Contains("syntax error"));
    CHECK_THROWS_WITH(io::parse_json_config("{\"a\": NaN}", "t.json"), Contains("syntax error"));
    CHECK_THROWS_WITH(io::parse_json_config("{\"a\": 1e400}", "t.json"), Contains("overflow"));
    CHECK_THROWS_WITH(io::parse_json_config("{\"a\": \"\xff\"}", "t.json"), Contains("syntax error"));
    // Duplicate keys at any depth: the second would silently win.
    CHECK_THROWS_WITH(io::parse_json_config(R"({"a": 1, "b": {"c": 1, "c": 2}})", "t.json"),
                      Contains("'c' twice"));
    CHECK_NOTHROW(io::parse_json_config(R"({"a": {"c": 1}, "b": {"c": 2}})", "t.json"));
    // Nesting and size are bounded.
    const std::string deep = std::string(io::kMaxConfigDepth + 1, '[') + std::string(io::kMaxConfigDepth + 1, ']');
    CHECK_THROWS_WITH(io::parse_json_config(deep, "t.json"), Contains("nested at most 64"));
    const std::string shallow = std::string(io::kMaxConfigDepth, '[') + std::string(io::kMaxConfigDepth, ']');
    CHECK_NOTHROW(io::parse_json_config(shallow, "t.json"));
    const std::string huge(io::kMaxConfigBytes + 1, ' ');
    CHECK_THROWS_WITH(io::parse_json_config(huge, "t.json"), Contains("at most 16777216 bytes"));
}

TEST_CASE("Config files: read from disk, a missing one is an error naming it", "[io][config]") {
    TempDir dir;
    const std::string path = dir.file("model.json");
    std::ofstream(path) << R"({"steps": 42, "inner": {"channels": 3}})";
    const auto o = io::options_from_json<example::Options>(io::read_json_config(path));
    CHECK(o.steps == 42);
    CHECK(o.inner.channels == 3);
    CHECK_THROWS_WITH(io::read_json_config(dir.file("missing.json")),
                      Contains("missing.json") && Contains("expected a JSON config file"));
}

TEST_CASE("Data config: the data sets' options round-trip and are validated", "[io][config][data]") {
    // Defaults: MovingShapes with its own defaults.
    const data::DataConfig defaults = data::data_config_from_json(nlohmann::json::object());
    CHECK(defaults.dataset == "moving-shapes");
    CHECK(defaults.moving_shapes.frames == data::MovingShapesOptions{}.frames);

    const auto config = data::data_config_from_json(io::parse_json_config(R"({
        "dataset": "moving-shapes",
        "moving_shapes": {"frames": 5, "height": 40, "width": 48, "shapes": ["square", "diamond"],
                          "palette": [{"name": "red", "rgb": [250, 10, 10]}, {"name": "teal", "rgb": [0, 128, 128]}],
                          "texture": "stripes", "seed": 9, "max_size": 12}
    })", "t.json"), "data");
    const auto& o = config.moving_shapes;
    CHECK(o.frames == 5);
    CHECK(o.height == 40);
    CHECK(o.width == 48);
    CHECK(o.shapes == std::vector{data::ShapeKind::square, data::ShapeKind::diamond});
    REQUIRE(o.palette.size() == 2);
    CHECK(o.palette[1].name == "teal");
    CHECK(o.palette[1].rgb == std::array<std::uint8_t, 3>{0, 128, 128});
    CHECK(o.texture == data::BackgroundTexture::stripes);
    CHECK(o.seed == 9);

    // Written and read back: the same JSON, so the same options.
    const nlohmann::json written = io::options_to_json(config);
    CHECK(io::options_to_json(data::data_config_from_json(written)) == written);
    // The clips are the same clips.
    const data::MovingShapes a(o), b(data::data_config_from_json(written).moving_shapes);
    CHECK(test::max_relative_error(a.get(3).video, b.get(3).video) == 0.0);

    // A built-in palette by name; enums of the other data sets by name.
    const auto named = data::data_config_from_json(io::parse_json_config(R"({
        "moving_shapes": {"palette": "primary"},
        "moving_fashion_mnist": {"split": "test"}, "video_folder": {"fit": "stretch"}
    })", "t.json"));
    CHECK(named.moving_shapes.palette.size() == data::primary_palette().size());
    CHECK(named.moving_fashion_mnist.split == data::FashionMNISTSplit::Test);
    CHECK(named.video_folder.options.fit == data::VideoFit::stretch);

    // Only the chosen data set is validated, and its errors name its object.
    const auto bad = [](const char* text) {
        return data::data_config_from_json(io::parse_json_config(text, "t.json"), "data");
    };
    CHECK_THROWS_WITH(bad(R"({"moving_shapes": {"max_objects": 9}})"),
                      Contains("'data.moving_shapes'") && Contains("max_objects"));
    CHECK_NOTHROW(bad(R"({"moving_fashion_mnist": {"height": 5}})"));
    CHECK_THROWS_WITH(bad(R"({"dataset": "moving-fashion-mnist", "moving_fashion_mnist": {"height": 5}})"),
                      Contains("'data.moving_fashion_mnist'") && Contains("at least 28x28"));
    CHECK_THROWS_WITH(bad(R"({"dataset": "video-folder"})"), Contains("video_folder.root"));
    CHECK_THROWS_WITH(bad(R"({"dataset": "video-folder", "video_folder": {"root": "/x", "channels": 2}})"),
                      Contains("'data.video_folder'") && Contains("channels 1 or 3"));
    CHECK_THROWS_WITH(bad(R"({"dataset": "imagenet"})"), Contains("'data.dataset'") && Contains("moving-shapes"));
    CHECK_THROWS_WITH(bad(R"({"moving_shapes": {"palette": "pastel"}})"),
                      Contains("'data.moving_shapes.palette'") && Contains("default, primary"));
    CHECK_THROWS_WITH(bad(R"({"moving_shapes": {"shapes": ["hexagon"]}})"),
                      Contains("'data.moving_shapes.shapes[0]'") && Contains("hexagon"));
    CHECK_THROWS_WITH(bad(R"({"moving_shapes": {"palette": [{"name": "Dark red", "rgb": [1, 2, 3]}]}})"),
                      Contains("'data.moving_shapes'") && Contains("lowercase"));
}

}  // namespace vgt::test::json_config_test
