#include "support.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <vgt/io/safetensors.hpp>

namespace vgt::test::safetensors_test {

using vgt::test::TempDir;
namespace fs = std::filesystem;

namespace {

using Named = std::vector<std::pair<std::string, Tensor>>;

std::string golden(const std::string& name) {
    return std::string(VGT_GOLDEN_DIR) + "/safetensors/" + name + ".safetensors";
}

std::vector<std::byte> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

/// A tensor of any dtype whose bytes are a pattern that depends on `seed`.
Tensor pattern(const Shape& shape, DType dtype, int seed) {
    Tensor t = Tensor::empty(shape, dtype);
    auto* p = static_cast<unsigned char*>(t.raw_data());
    for (std::size_t i = 0; i < t.nbytes(); ++i)
        p[i] = static_cast<unsigned char>((i * 37 + static_cast<std::size_t>(seed) * 11 + 5) % 251);
    return t;
}

/// The row-major bytes of any CPU tensor, strided views included.
std::vector<std::byte> raw_bytes(const Tensor& t) {
    const Tensor c = vgt::detail::contiguous_data(t);
    const auto* p = static_cast<const std::byte*>(c.raw_data());
    return std::vector<std::byte>(p, p + c.nbytes());
}

std::uint16_t bits16(const Tensor& t, std::size_t i) {
    std::uint16_t v;
    std::memcpy(&v, static_cast<const char*>(t.raw_data()) + 2 * i, 2);
    return v;
}

/// The bytes of a safetensors file with an arbitrary header text and data size.
std::vector<std::byte> handmade(const std::string& header, std::size_t data_bytes,
                                std::optional<std::uint64_t> length = std::nullopt) {
    const std::uint64_t n = length.value_or(header.size());
    std::vector<std::byte> out(8 + header.size() + data_bytes, std::byte{0x3f});
    for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
    std::memcpy(out.data() + 8, header.data(), header.size());
    return out;
}

std::string parse_error(std::span<const std::byte> bytes) {
    try {
        io::parse_safetensors(bytes, "mem.safetensors");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

std::uint64_t header_length(std::span<const std::byte> bytes) {
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<std::uint64_t>(bytes[static_cast<std::size_t>(i)]) << (8 * i);
    return n;
}

nlohmann::ordered_json header_json(std::span<const std::byte> bytes) {
    const std::uint64_t n = header_length(bytes);
    return nlohmann::ordered_json::parse(std::string(reinterpret_cast<const char*>(bytes.data()) + 8, n));
}

/// Parses `bytes`; a corrupt file must be a vgt::Error, never anything else,
/// and anything accepted must be self-consistent. False when it threw.
bool parses_consistently(std::span<const std::byte> bytes) {
    try {
        const io::SafetensorsFile f = io::parse_safetensors(bytes, "mem.safetensors");
        // Accepted: the tensors tile the data buffer exactly.
        std::uint64_t total = 0;
        for (const auto& [name, t] : f.tensors) total += t.nbytes();
        CHECK(total == bytes.size() - 8 - header_length(bytes));
        return true;
    } catch (const Error& e) {
        CHECK_THAT(std::string(e.what()), Catch::StartsWith("read_safetensors: 'mem.safetensors': "));
        return false;
    } catch (const std::exception& e) {
        FAIL("not a vgt::Error: " << e.what());
    }
    return false;
}

const Named& mixed_tensors() {
    static const Named named = [] {
        return Named{{"conv.weight", pattern(Shape{2, 3}, DType::Float32, 1)},
                     {"mask", pattern(Shape{5}, DType::UInt8, 2)},
                     {"steps", pattern(Shape{2}, DType::Int64, 3)},
                     {"gain", pattern(Shape{3}, DType::BFloat16, 4)}};
    }();
    return named;
}

}  // namespace

TEST_CASE("safetensors round trips every dtype, 0-d and empty tensors included", "[io][safetensors]") {
    const std::vector<Shape> shapes = {Shape{},  Shape{5},      Shape{2, 3}, Shape{1, 2, 1, 2, 1, 3},
                                       Shape{0}, Shape{3, 0, 2}};
    Named named;
    int seed = 0;
    for (const DType dtype :
         {DType::Float32, DType::Float64, DType::BFloat16, DType::Float16, DType::Int64, DType::UInt8})
        for (const Shape& shape : shapes)
            named.emplace_back(fmt::format("{}/{}", dtype_name(dtype), shape.str()), pattern(shape, dtype, seed++));
    std::reverse(named.begin(), named.end());  // uint8 first: the writer must still align wider types

    const auto bytes = io::serialize_safetensors(named);
    const std::uint64_t n = header_length(bytes);
    CHECK((8 + n) % 8 == 0);
    CHECK(bytes[8] == std::byte{'{'});
    // Every tensor starts at a multiple of its element size.
    const auto json = header_json(bytes);
    for (const auto& [name, entry] : json.items()) {
        INFO(name);
        const std::map<std::string, std::uint64_t> item = {{"F64", 8}, {"I64", 8},  {"F32", 4},
                                                           {"F16", 2}, {"BF16", 2}, {"U8", 1}};
        const std::uint64_t begin = entry["data_offsets"][0];
        CHECK(begin % item.at(entry["dtype"].get<std::string>()) == 0);
    }

    const io::SafetensorsFile back = io::parse_safetensors(bytes, "mem.safetensors");
    REQUIRE(back.tensors.size() == named.size());
    CHECK(back.metadata.empty());
    for (std::size_t i = 0; i < named.size(); ++i) {
        INFO(named[i].first);
        CHECK(back.tensors[i].first == named[i].first);  // header order is the order given
        const Tensor& t = back.tensors[i].second;
        CHECK(t.dtype() == named[i].second.dtype());
        CHECK(t.shape() == named[i].second.shape());
        CHECK(t.is_contiguous());
        CHECK(raw_bytes(t) == raw_bytes(named[i].second));
    }

    const TempDir dir;
    const std::string path = dir.file("all.safetensors");
    io::write_safetensors(path, named);
    CHECK(file_bytes(path) == bytes);
    const io::SafetensorsFile from_file = io::read_safetensors(path);
    CHECK(from_file.source == path);
    REQUIRE(from_file.tensors.size() == named.size());
    for (std::size_t i = 0; i < named.size(); ++i)
        CHECK(raw_bytes(from_file.tensors[i].second) == raw_bytes(named[i].second));

    // int64 beyond float precision and exact float bit patterns survive.
    const Tensor big = Tensor::from_vector(std::vector<std::int64_t>{(std::int64_t{1} << 62) + 1, -1});
    const Tensor odd = Tensor::from_vector(std::vector<double>{0.1, -0.0, 1e-310});
    const auto small = io::parse_safetensors(io::serialize_safetensors({{"big", big}, {"odd", odd}}), "m");
    CHECK(small.at("big").to_vector<std::int64_t>() == big.to_vector<std::int64_t>());
    CHECK(raw_bytes(small.at("odd")) == raw_bytes(odd));

    // No tensors at all is a valid file too.
    CHECK(io::parse_safetensors(io::serialize_safetensors({}), "m").tensors.empty());
}

TEST_CASE("safetensors writes strided views as their row-major values", "[io][safetensors]") {
    const Tensor t = pattern(Shape{2, 3, 4}, DType::Float32, 7);
    const Tensor h = pattern(Shape{4, 6}, DType::Float16, 8);
    const Named views = {{"permuted", permute(t, {2, 0, 1})},
                         {"sliced", slice(t, 2, 1, 4, 2)},
                         {"expanded", expand(pattern(Shape{3, 1}, DType::Int64, 3), Shape{3, 5})},
                         {"transposed_half", transpose(h, 0, 1)}};
    for (const auto& [name, v] : views) REQUIRE_FALSE(v.is_contiguous());
    const auto back = io::parse_safetensors(io::serialize_safetensors(views), "mem.safetensors");
    for (const auto& [name, v] : views) {
        INFO(name);
        CHECK(back.at(name).shape() == v.shape());
        CHECK(raw_bytes(back.at(name)) == raw_bytes(v));
    }
    CHECK(back.at("permuted").to_vector<float>() == views[0].second.to_vector<float>());
    CHECK(back.at("expanded").to_vector<std::int64_t>()[4] == views[2].second.to_vector<std::int64_t>()[4]);
}

TEST_CASE("safetensors round trips metadata", "[io][safetensors]") {
    const std::map<std::string, std::string> metadata = {
        {"format", "pt"}, {"empty", ""}, {"quote\"and\\slash", "line\nbreak\ttab"}, {"unicode", "時間 ✓"}};
    const auto bytes = io::serialize_safetensors(mixed_tensors(), metadata);
    const auto json = header_json(bytes);
    CHECK(json.begin().key() == "__metadata__");  // first, as the safetensors library writes it
    const auto back = io::parse_safetensors(bytes, "mem.safetensors");
    CHECK(back.metadata == metadata);
    CHECK(back.tensors.size() == mixed_tensors().size());

    // Metadata alone, without tensors.
    CHECK(io::parse_safetensors(io::serialize_safetensors({}, {{"k", "v"}}), "m").metadata.at("k") == "v");
}

TEST_CASE("safetensors reads a file written by the Python reference writer", "[io][safetensors]") {
    const io::SafetensorsFile f = io::read_safetensors(golden("mixed"));
    CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"note", "vgt golden file"}});
    // The safetensors layout: by decreasing element size, then by name.
    std::vector<std::string> names;
    for (const auto& [name, t] : f.tensors) names.push_back(name);
    CHECK(names == std::vector<std::string>{"bias", "index", "empty", "scalar", "weight", "half", "scale", "pixels"});

    const Tensor& weight = f.at("weight");
    CHECK(weight.dtype() == DType::Float32);
    CHECK(weight.shape() == Shape{2, 3});
    CHECK(weight.to_vector<float>() == std::vector<float>{-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f});

    CHECK(f.at("bias").dtype() == DType::Float64);
    CHECK(f.at("bias").to_vector<double>() == std::vector<double>{0.0, 0.125, 0.25});

    const Tensor& scale = f.at("scale");  // bfloat16 1, -2, 0.5, 3.140625
    CHECK(scale.dtype() == DType::BFloat16);
    CHECK(scale.shape() == Shape{4});
    CHECK(bits16(scale, 0) == 0x3f80);
    CHECK(bits16(scale, 1) == 0xc000);
    CHECK(bits16(scale, 2) == 0x3f00);
    CHECK(bits16(scale, 3) == 0x4049);

    const Tensor& half = f.at("half");  // float16 -1.5, -0.5, 0.5, 1.5
    CHECK(half.dtype() == DType::Float16);
    CHECK(half.shape() == Shape{2, 2});
    CHECK(bits16(half, 0) == 0xbe00);
    CHECK(bits16(half, 1) == 0xb800);
    CHECK(bits16(half, 2) == 0x3800);
    CHECK(bits16(half, 3) == 0x3e00);

    CHECK(f.at("index").to_vector<std::int64_t>() == std::vector<std::int64_t>{-3, 0, std::int64_t{1} << 40});
    const Tensor& pixels = f.at("pixels");
    CHECK(pixels.dtype() == DType::UInt8);
    CHECK(pixels.shape() == Shape{2, 2, 3});
    CHECK(pixels.to_vector<int>()[11] == 110);
    CHECK(f.at("scalar").rank() == 0);
    CHECK(f.at("scalar").item() == 2.5);
    CHECK(f.at("empty").shape() == Shape{0, 3});

    // Written again by vgt in the same order, the bytes are the Python writer's.
    CHECK(io::serialize_safetensors(f.tensors, f.metadata) == file_bytes(golden("mixed")));
}

TEST_CASE("SafetensorsFile::at names the missing tensor and the ones there are", "[io][safetensors]") {
    const auto f = io::parse_safetensors(io::serialize_safetensors(mixed_tensors()), "model.safetensors");
    CHECK(f.contains("mask"));
    CHECK_FALSE(f.contains("mas"));
    CHECK(f.at("steps").dtype() == DType::Int64);
    CHECK_THROWS_WITH(f.at("conv.bias"),
                      Catch::Contains("SafetensorsFile::at") && Catch::Contains("'model.safetensors'") &&
                          Catch::Contains("named 'conv.bias'") &&
                          Catch::Contains("among 4 tensors: 'conv.weight', 'mask', 'steps', 'gain'"));
    Named many;
    for (int i = 0; i < 20; ++i) many.emplace_back(fmt::format("t{}", i), pattern(Shape{1}, DType::UInt8, i));
    const auto g = io::parse_safetensors(io::serialize_safetensors(many), "m");
    CHECK_THROWS_WITH(g.at("x"), Catch::Contains("among 20 tensors: 't0', 't1'") &&
                                     Catch::Contains("'t7', and 12 more") && !Catch::Contains("'t8'"));
}

TEST_CASE("safetensors writer rejects what it cannot write", "[io][safetensors]") {
    const Tensor t = pattern(Shape{2}, DType::Float32, 0);
    CHECK_THROWS_WITH(io::serialize_safetensors({{"a", t}, {"b", t}, {"a", t}}), Catch::Contains("write_safetensors") &&
                                                                                     Catch::Contains("unique") &&
                                                                                     Catch::Contains("'a' twice"));
    // The format allows any name but the metadata key, the empty one included:
    // what the reader accepts, the writer writes back.
    CHECK(io::parse_safetensors(io::serialize_safetensors({{"", t}}), "m").at("").shape() == Shape{2});
    CHECK_THROWS_WITH(io::serialize_safetensors({{"__metadata__", t}}), Catch::Contains("reserved"));
    CHECK_THROWS_WITH(io::serialize_safetensors({{"x", Tensor{}}}),
                      Catch::Contains("tensor 'x'") && Catch::Contains("defined"));
    CHECK_THROWS_WITH(io::serialize_safetensors({{"bad\xff", t}}),
                      Catch::Contains("UTF-8 tensor names") && Catch::Contains("bad\\xff"));
    CHECK_THROWS_WITH(io::serialize_safetensors({{"a", t}}, {{"k", "\xc3"}}), Catch::Contains("UTF-8 metadata"));
    // Names JSON must escape are fine.
    const Named odd = {{"quo\"te\\ \n\x01", t}, {"ünï", t}};
    const auto back = io::parse_safetensors(io::serialize_safetensors(odd), "m");
    CHECK(back.tensors[0].first == odd[0].first);
    CHECK(back.contains("ünï"));
}

TEST_CASE("safetensors rejects every truncation and survives bit flips in the header", "[io][safetensors]") {
    const auto good = io::serialize_safetensors(mixed_tensors(), {{"format", "pt"}});
    for (std::size_t n = 0; n < good.size(); ++n) {
        INFO("truncated to " << n << " bytes");
        // A copy of exactly n bytes, so that a read past its end is caught by sanitizers.
        const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(io::parse_safetensors(cut, "mem.safetensors"), Error);
    }
    // Only flips inside a name or a metadata string can give another valid
    // file; every other header byte is guarded by a check.
    const std::size_t header_end = 8 + header_length(good);
    const std::string text(reinterpret_cast<const char*>(good.data()), header_end);
    std::vector<bool> in_string(header_end, false);
    for (const std::string name : {"conv.weight", "mask", "steps", "gain", "format", "pt"}) {
        const std::size_t at = text.find('"' + name + '"');
        REQUIRE(at != std::string::npos);
        for (std::size_t k = 0; k < name.size(); ++k) in_string[at + 1 + k] = true;
    }
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < header_end; ++i) {
        for (const unsigned mask : {1u, 2u, 4u, 8u, 16u, 32u, 64u, 128u, 255u}) {
            INFO("byte " << i << " ('" << text[i] << "') xor " << mask);
            auto flipped = good;
            flipped[i] ^= static_cast<std::byte>(mask);
            if (parses_consistently(flipped)) {
                ++accepted;
                CHECK(in_string[i]);
            }
        }
    }
    CHECK(accepted > 0);

    // Random overwrites of header bytes, with a fixed seed.
    std::mt19937 rng(1234);
    for (int trial = 0; trial < 3000; ++trial) {
        auto mutated = good;
        const int count = 1 + trial % 4;
        for (int k = 0; k < count; ++k) {
            const std::size_t at = 8 + rng() % (header_end - 8);
            const char pick[] = "{}[]\":,0123456789-. e";
            mutated[at] =
                static_cast<std::byte>(rng() % 2 ? pick[rng() % (sizeof pick - 1)] : static_cast<char>(rng()));
        }
        INFO("trial " << trial);
        parses_consistently(mutated);
    }
}

TEST_CASE("safetensors reports malformed headers", "[io][safetensors]") {
    const std::string a8 = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
    struct Case {
        std::string header;
        std::size_t data;
        std::vector<std::string> message;
    };
    const std::vector<Case> cases = {
        {"{" + a8 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
         12,
         {"do not overlap", "'b' at [4, 12) overlapping 'a' at [0, 8)"}},
        {"{" + a8 + R"(,"e":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}})", 8, {"do not overlap", "'e' at [4, 4)"}},
        {"{" + a8 + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
         20,
         {"without holes", "bytes [8, 12) that no tensor covers (before 'b')"}},
        {"{" + a8 + "}", 12, {"cover the 12-byte data buffer", "bytes [8, 12) after the last tensor"}},
        {"{}", 4, {"cover the 4-byte data buffer", "bytes [0, 4)"}},
        {"{" + a8 + "}", 4, {"tensor 'a'", "within the 4-byte data buffer", "found [0, 8]"}},
        {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
         8,
         {"tensor 'a'", "spanning 12 bytes for shape [3] of F32", "found [0, 8] (8 bytes)"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, {"begin <= end", "found [8, 0]"}},
        {R"({"a":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}})",
         8,
         {"tensor 'a'", "expected dtype F32, F64, BF16, F16, I64 or U8", "found 'I32'", "cannot hold"}},
        {R"({"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})", 2, {"found 'BOOL'"}},
        {R"({"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", 8, {"found 'f32' (not a safetensors dtype)"}},
        {R"({"a":{"dtype":32,"shape":[2],"data_offsets":[0,8]}})", 8, {"string 'dtype'", "found 32"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8, {"invalid JSON", "parse error"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],}})", 8, {"invalid JSON"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} x)", 8, {"invalid JSON"}},
        {"{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, {"invalid JSON", "UTF-8"}},
        {"[1, 2]", 0, {"starting with '{'", "found \"[1, 2]\""}},
        {"  {}", 0, {"starting with '{'"}},
        {std::string("{\"a\":1} \0 x", 11), 0, {"without NUL bytes", "at header offset 8"}},
        {"{" + a8 + "," + a8 + "}", 16, {"every name once", "'a' twice"}},
        {R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
         8,
         {"every key once in 'a'", "'dtype' twice"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})",
         8,
         {"only the keys 'dtype', 'shape' and 'data_offsets'", "found 'extra'"}},
        {R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8, {"the key 'shape'", "missing"}},
        {R"({"a":5})", 0, {"tensor 'a'", "expected an object", "found number 5"}},
        {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
         8,
         {"non-negative integer extent in dimension 0", "found -2"}},
        {R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8, {"integer extent", "found 2.0"}},
        {R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", 8, {"'shape' to be an array"}},
        {R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1],"data_offsets":[0,4]}})",
         4,
         {"at most 6 numbers", "rank at most 6", "'a' key 'shape'"}},
        {R"({"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8, {"levels of nesting", "'a' key 'shape'"}},
        {R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})",
         0,
         {"size in bytes fits in 64 bits"}},
        {R"({"a":{"dtype":"F64","shape":[2097152,2097152,2097152],"data_offsets":[0,0]}})",
         0,
         {"size in bytes fits in 64 bits"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", 8, {"[begin, end]", "found [0]"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551616]}})", 8, {"[begin, end]"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8, {"non-negative integers", "found [-8,0]"}},
        {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[18446744073709551608,0]}})", 8, {"begin <= end"}},
        {R"({"__metadata__":{"k":1}})", 0, {"string values in '__metadata__'", "found 1 for 'k'"}},
        {R"({"__metadata__":["k"]})", 0, {"'__metadata__' to be an object", "found array"}},
        {R"({"__metadata__":{"k":"v","k":"w"}})", 0, {"every key once in '__metadata__'", "'k' twice"}},
    };
    for (const Case& c : cases) {
        INFO(c.header);
        const std::string message = parse_error(handmade(c.header, c.data));
        INFO(message);
        CHECK_THAT(message, Catch::StartsWith("read_safetensors: 'mem.safetensors': "));
        for (const std::string& part : c.message) CHECK_THAT(message, Catch::Contains(part));
    }
    // Spacing, key order and an empty name are fine.
    const auto ok = io::parse_safetensors(
        handmade(R"({ "" : { "shape" : [ 2 ] , "data_offsets" : [0, 8], "dtype" : "F32" } }   )", 8), "m");
    CHECK(ok.at("").shape() == Shape{2});
}

TEST_CASE("safetensors checks the length prefix against the file", "[io][safetensors]") {
    const std::string header = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
    CHECK_THROWS_WITH(io::parse_safetensors(handmade(header, 2, 4096), "mem.safetensors"),
                      Catch::Contains("read_safetensors: 'mem.safetensors'") && Catch::Contains("truncated header") &&
                          Catch::Contains("expected 4096 header bytes") &&
                          Catch::Contains("found 55 (the file has 63 bytes)"));
    CHECK_THROWS_WITH(io::parse_safetensors(handmade(header, 2, 100'000'001), "mem.safetensors"),
                      Catch::Contains("at most 100000000 bytes") && Catch::Contains("found 100000001"));
    CHECK_THROWS_WITH(io::parse_safetensors(handmade(header, 2, ~std::uint64_t{0}), "mem.safetensors"),
                      Catch::Contains("found 18446744073709551615"));
    CHECK_THROWS_WITH(io::parse_safetensors(handmade(header, 2, 0), "mem.safetensors"),
                      Catch::Contains("starting with '{'") && Catch::Contains("found \"\""));
    // A length that is too short cuts the JSON off.
    CHECK_THROWS_WITH(io::parse_safetensors(handmade(header, 2, header.size() - 1), "mem.safetensors"),
                      Catch::Contains("invalid JSON"));
    const std::string text = "short";
    CHECK_THROWS_WITH(io::parse_safetensors(std::as_bytes(std::span(text.data(), text.size())), "mem.safetensors"),
                      Catch::Contains("at least 8 bytes") && Catch::Contains("found 5 bytes"));
    CHECK(io::parse_safetensors(handmade(header, 2), "m").at("a").numel() == 2);
}

TEST_CASE("read_safetensors names the file it cannot read", "[io][safetensors]") {
    const TempDir dir;
    CHECK_THROWS_WITH(io::read_safetensors(dir.file("missing.safetensors")),
                      Catch::Contains("read_safetensors") && Catch::Contains("missing.safetensors") &&
                          Catch::Contains("No such file"));
    CHECK_THROWS_WITH(io::read_safetensors(dir.path.string()),
                      Catch::Contains("read_safetensors") && Catch::Contains("found a directory"));
    const std::string empty = dir.file("empty.safetensors");
    std::ofstream(empty).close();
    CHECK_THROWS_WITH(io::read_safetensors(empty),
                      Catch::Contains("empty.safetensors") && Catch::Contains("found 0 bytes"));
    const std::string cut = dir.file("cut.safetensors");
    const auto bytes = io::serialize_safetensors(mixed_tensors());
    std::ofstream(cut, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size() - 1));
    CHECK_THROWS_WITH(io::read_safetensors(cut),
                      Catch::Contains("cut.safetensors") && Catch::Contains("truncated file?"));
}

TEST_CASE("write_safetensors replaces files atomically and cleans up", "[io][safetensors]") {
    const TempDir dir;
    const std::string path = dir.file("model.safetensors");
    io::write_safetensors(path, {{"old", pattern(Shape{3}, DType::Float64, 1)}});
    io::write_safetensors(path, mixed_tensors(), {{"step", "2"}});  // replaces the previous file
    const auto replaced = io::read_safetensors(path);
    CHECK_FALSE(replaced.contains("old"));
    CHECK(replaced.tensors.size() == mixed_tensors().size());
    CHECK(replaced.metadata.at("step") == "2");
    CHECK(dir.names() == std::vector<std::string>{"model.safetensors"});

    // A write that fails leaves the previous file as it was.
    const auto before = file_bytes(path);
    const Tensor t = pattern(Shape{1}, DType::Float32, 0);
    CHECK_THROWS_WITH(io::write_safetensors(path, {{"a", t}, {"a", t}}), Catch::Contains("write_safetensors"));
    CHECK(file_bytes(path) == before);

    // I/O failures name the path and the reason, and leave no temporary file.
    CHECK_THROWS_WITH(io::write_safetensors(dir.file("no/such/dir/b.safetensors"), {{"a", t}}),
                      Catch::Contains("write_safetensors") && Catch::Contains("no/such/dir/b.safetensors") &&
                          Catch::Contains("No such file"));
    fs::create_directory(dir.file("taken.safetensors"));  // renaming a file over a directory fails
    CHECK_THROWS_WITH(io::write_safetensors(dir.file("taken.safetensors"), {{"a", t}}),
                      Catch::Contains("write_safetensors") && Catch::Contains("taken.safetensors") &&
                          Catch::Contains("rename error") && Catch::Contains("Is a directory"));
    CHECK(fs::is_directory(dir.file("taken.safetensors")));
    CHECK(dir.names() == std::vector<std::string>{"model.safetensors", "taken.safetensors"});

    // A directory one may not write to (root may write anywhere, so only checked as another user).
    if (::geteuid() != 0) {
        fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
        CHECK_THROWS_WITH(io::write_safetensors(path, {{"a", t}}),
                          Catch::Contains("model.safetensors") && Catch::Contains("Permission denied"));
        fs::permissions(dir.path, fs::perms::owner_all);
        CHECK(file_bytes(path) == before);
        CHECK(dir.names() == std::vector<std::string>{"model.safetensors", "taken.safetensors"});
    }
}

TEST_CASE("safetensors keeps the header's order and stays fast on large or hostile headers", "[io][safetensors]") {
    // Names in an order that is not sorted, so a reader that sorts them would show.
    Named many;
    for (int i = 0; i < 3000; ++i)
        many.emplace_back(fmt::format("block.{}.weight", (i * 7919) % 3000), pattern(Shape{2}, DType::UInt8, i));
    const auto back = io::parse_safetensors(io::serialize_safetensors(many), "m");
    REQUIRE(back.tensors.size() == many.size());
    bool same_order = true;
    for (std::size_t i = 0; i < many.size(); ++i) same_order = same_order && back.tensors[i].first == many[i].first;
    CHECK(same_order);

    // A megabyte of nesting or of array elements is refused at the first excess.
    CHECK_THROWS_WITH(io::parse_safetensors(handmade("{\"a\":" + std::string(1 << 20, '['), 0), "mem.safetensors"),
                      Catch::Contains("levels of nesting"));
    std::string long_array = "{\"a\":{\"shape\":[";
    while (long_array.size() < (1 << 20)) long_array += "1,";
    CHECK_THROWS_WITH(io::parse_safetensors(handmade(long_array, 0), "mem.safetensors"),
                      Catch::Contains("arrays of at most 6 numbers"));
    // Many metadata entries are read in one pass.
    std::string meta = R"({"__metadata__":{)";
    for (int i = 0; i < 20000; ++i) meta += fmt::format("{}\"k{}\":\"v{}\"", i ? "," : "", i, i);
    meta += "}}";
    const auto m = io::parse_safetensors(handmade(meta, 0), "m");
    CHECK(m.metadata.size() == 20000);
    CHECK(m.metadata.at("k19999") == "v19999");
}

}  // namespace vgt::test::safetensors_test
