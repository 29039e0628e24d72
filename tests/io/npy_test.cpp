#include "support.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include <vgt/io/npy.hpp>

namespace vgt::test::npy_test {

using vgt::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string golden(const std::string& name) { return std::string(VGT_GOLDEN_DIR) + "/npy/" + name + ".npy"; }

std::vector<std::byte> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

/// Row-major values 0, 1, 2, ... (mod 251 for uint8, shifted to include negatives).
Tensor pattern(const Shape& shape, DType dtype) {
    Tensor t = Tensor::empty(shape, dtype);
    auto fill = [&]<class T>() {
        T* p = t.data<T>();
        for (std::int64_t i = 0; i < t.numel(); ++i) {
            if constexpr (std::is_same_v<T, std::uint8_t>) p[i] = static_cast<T>(i % 251);
            else if constexpr (std::is_floating_point_v<T>) p[i] = static_cast<T>(i) * T(0.25) - T(3);
            else p[i] = static_cast<T>(i * 1000003 - 7);
        }
    };
    if (is_floating(dtype)) dispatch_floating(dtype, "pattern", fill);
    else dispatch_index(dtype, "pattern", fill);
    return t;
}

/// The bytes of a .npy file with an arbitrary header text and data.
std::vector<std::byte> handmade(const std::string& dict, std::size_t data_bytes, int major = 1) {
    std::string header = dict;
    const std::size_t prefix = major == 1 ? 10 : 12;
    header.append((64 - (prefix + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
    std::vector<std::byte> out(prefix + header.size() + data_bytes, std::byte{0x40});
    std::memcpy(out.data(), "\x93NUMPY", 6);
    out[6] = static_cast<std::byte>(major);
    out[7] = std::byte{0};
    for (std::size_t i = 0; i < prefix - 8; ++i) out[8 + i] = static_cast<std::byte>((header.size() >> (8 * i)) & 0xff);
    std::memcpy(out.data() + prefix, header.data(), header.size());
    return out;
}

std::string parse_error(std::span<const std::byte> bytes) {
    try {
        io::parse_npy(bytes, "mem.npy");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("npy round trips every dtype at ranks 0 to 6, zero-size included", "[io][npy]") {
    const std::vector<Shape> shapes = {Shape{},        Shape{5},          Shape{2, 3},         Shape{2, 1, 3},
                                       Shape{1, 2, 3, 2}, Shape{2, 1, 2, 1, 3}, Shape{1, 2, 1, 2, 1, 2},
                                       Shape{0},       Shape{3, 0},       Shape{2, 0, 0, 1, 0, 4}};
    const TempDir dir;
    for (const DType dtype : {DType::Float32, DType::Float64, DType::Int64, DType::UInt8}) {
        for (const Shape& shape : shapes) {
            INFO(dtype_name(dtype) << " " << shape.str());
            const Tensor t = pattern(shape, dtype);
            const auto bytes = io::serialize_npy(t);
            // Data starts at a multiple of 64 and the header ends in '\n', as numpy.save writes.
            const std::size_t data_offset = bytes.size() - t.nbytes();
            CHECK(data_offset % 64 == 0);
            CHECK(bytes[data_offset - 1] == std::byte{'\n'});

            const Tensor back = io::parse_npy(bytes, "mem.npy");
            CHECK(back.dtype() == dtype);
            CHECK(back.shape() == shape);
            CHECK(back.to_vector<double>() == t.to_vector<double>());

            const std::string path = dir.file("t.npy");
            io::write_npy(path, t);
            const Tensor from_file = io::read_npy(path);
            CHECK(from_file.shape() == shape);
            CHECK(from_file.to_vector<double>() == t.to_vector<double>());
            CHECK(file_bytes(path) == bytes);
        }
    }
    // int64 values beyond float precision survive exactly.
    const Tensor big = Tensor::from_vector(std::vector<std::int64_t>{(std::int64_t{1} << 62) + 1, -1});
    CHECK(io::parse_npy(io::serialize_npy(big), "m").to_vector<std::int64_t>() == big.to_vector<std::int64_t>());
}

TEST_CASE("npy writes a strided view as its logical row-major values", "[io][npy]") {
    const Tensor t = pattern(Shape{2, 3, 4}, DType::Float32);
    const Tensor p = permute(t, {2, 0, 1});
    REQUIRE_FALSE(p.is_contiguous());
    const Tensor back = io::parse_npy(io::serialize_npy(p), "mem.npy");
    CHECK(back.shape() == Shape{4, 2, 3});
    CHECK(back.to_vector<float>() == p.to_vector<float>());
    const Tensor s = slice(t, 2, 1, 4, 2);
    CHECK(io::parse_npy(io::serialize_npy(s), "mem.npy").to_vector<float>() == s.to_vector<float>());
}

TEST_CASE("npy reads files written by NumPy", "[io][npy]") {
    const std::vector<float> f32 = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f};
    for (const char* name : {"f32_2x3", "f32_v2", "f32_v3"}) {
        INFO(name);
        const Tensor t = io::read_npy(golden(name));
        CHECK(t.dtype() == DType::Float32);
        CHECK(t.shape() == Shape{2, 3});
        CHECK(t.to_vector<float>() == f32);
    }
    const Tensor scalar = io::read_npy(golden("f64_scalar"));
    CHECK(scalar.dtype() == DType::Float64);
    CHECK(scalar.rank() == 0);
    CHECK(scalar.item() == 3.25);

    const Tensor i64 = io::read_npy(golden("i64_vec"));
    CHECK(i64.dtype() == DType::Int64);
    CHECK(i64.to_vector<std::int64_t>() == std::vector<std::int64_t>{-3, 0, 7, std::int64_t{1} << 40});

    const Tensor u8 = io::read_npy(golden("u8_2x3x4"));
    CHECK(u8.dtype() == DType::UInt8);
    CHECK(u8.shape() == Shape{2, 3, 4});
    CHECK(u8.to_vector<int>()[23] == 23);

    const Tensor empty = io::read_npy(golden("u8_2x0x3"));
    CHECK(empty.shape() == Shape{2, 0, 3});

    const Tensor r6 = io::read_npy(golden("f64_rank6"));
    CHECK(r6.shape() == Shape{1, 2, 1, 2, 1, 2});
    CHECK(r6.to_vector<double>()[7] == 7.0 / 8.0);

    // What vgt writes is byte for byte what numpy.save wrote.
    for (const char* name : {"f32_2x3", "f64_scalar", "i64_vec", "u8_2x3x4", "u8_2x0x3", "f64_rank6"}) {
        INFO(name);
        CHECK(io::serialize_npy(io::read_npy(golden(name))) == file_bytes(golden(name)));
    }
}

TEST_CASE("npy rejects what it cannot represent, naming the file", "[io][npy]") {
    CHECK_THROWS_WITH(io::read_npy(golden("f32_fortran")),
                      Catch::Contains("f32_fortran.npy") && Catch::Contains("'fortran_order': False") &&
                          Catch::Contains("found True"));
    CHECK_THROWS_WITH(io::read_npy(golden("f32_bigendian")),
                      Catch::Contains("f32_bigendian.npy") && Catch::Contains("'<f4'") && Catch::Contains("'>f4'") &&
                          Catch::Contains("big-endian"));
    CHECK_THROWS_WITH(io::read_npy(golden("f16_vec")), Catch::Contains("'<f8'") && Catch::Contains("found '<f2'"));
    CHECK_THROWS_WITH(io::read_npy(golden("c64_vec")), Catch::Contains("found '<c8'"));
    CHECK_THROWS_WITH(io::read_npy(golden("does_not_exist")),
                      Catch::Contains("read_npy") && Catch::Contains("does_not_exist.npy") &&
                          Catch::Contains("No such file"));
    CHECK_THROWS_WITH(io::read_npy(std::string(VGT_GOLDEN_DIR)), Catch::Contains("read error"));
}

TEST_CASE("npy reports corrupt prefixes, versions and data sizes", "[io][npy]") {
    auto good = io::serialize_npy(pattern(Shape{2, 3}, DType::Float32));

    auto bad_magic = good;
    bad_magic[1] = std::byte{'X'};
    CHECK_THAT(parse_error(bad_magic), Catch::Contains("mem.npy") && Catch::Contains("\\x93NUMPY") &&
                                           Catch::Contains("found \"\\x93XUMPY"));
    const std::string text = "hello, world";
    CHECK_THAT(parse_error(std::as_bytes(std::span(text.data(), text.size()))),
               Catch::Contains("found \"hello, w\""));

    auto version = good;
    version[6] = std::byte{4};
    version[7] = std::byte{1};
    CHECK_THAT(parse_error(version), Catch::Contains("version 1.0, 2.0 or 3.0") && Catch::Contains("found 4.1"));

    auto long_header = good;
    long_header[9] = std::byte{0x10};
    CHECK_THAT(parse_error(long_header), Catch::Contains("truncated header") && Catch::Contains("expected 4214"));

    auto shorter = good;
    shorter.pop_back();
    CHECK_THAT(parse_error(shorter), Catch::Contains("expected 24 data bytes for shape [2, 3] of float32") &&
                                         Catch::Contains("found 23 (truncated)"));
    auto longer = good;
    longer.push_back(std::byte{0});
    CHECK_THAT(parse_error(longer), Catch::Contains("found 25 (trailing bytes)"));

    // Version 2.0 and 3.0 headers carry a 4-byte length.
    CHECK(io::parse_npy(handmade("{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}", 8, 2), "m").numel() ==
          1);
    CHECK(io::parse_npy(handmade("{'descr': '<u1', 'fortran_order': False, 'shape': (3,)}", 3, 3), "m").dtype() ==
          DType::UInt8);
}

TEST_CASE("npy reports malformed header dictionaries", "[io][npy]") {
    struct Case {
        std::string dict;
        std::size_t data;
        std::vector<std::string> message;
    };
    const std::vector<Case> cases = {
        {"{'descr': '<f4', 'fortran_order': False}", 0, {"expected the key 'shape'", "found it missing"}},
        {"{'fortran_order': False, 'shape': ()}", 0, {"the key 'descr'"}},
        {"{'descr': '<f4', 'shape': ()}", 0, {"the key 'fortran_order'"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", 4,
         {"only the keys 'descr', 'fortran_order' and 'shape'", "unknown key 'extra'"}},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4,
         {"key 'descr' once", "found it twice"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3}", 24, {"',' or ')'", "'}'"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,, 3)}", 24, {"integer extent for dimension 1"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, x)}", 24, {"integer extent", "'x'"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}", 24, {"'(' opening the 'shape' tuple", "'['"}},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", 4, {"True or False", "'0'"}},
        {"{'descr': <f4, 'fortran_order': False, 'shape': ()}", 4, {"quoted type string", "'<'"}},
        {"{'descr': '<f4, 'fortran_order': False, 'shape': ()}", 4, {"',' or '}' after a value", "'f' at offset 17"}},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': ()}", 4, {"structured dtype"}},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': ()}", 4, {"',' or '}' after a value"}},
        {"'descr': '<f4', 'fortran_order': False, 'shape': ()}", 4, {"'{' opening", "found '''"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", 4, {"only padding", "found 'x"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()", 4, {"',' or '}'", "the end of the header"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1)}", 4,
         {"rank at most 6", "more than 6 dimensions"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3)}", 0,
         {"non-negative extents", "found -3 in dimension 1"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", 0,
         {"fit in 64 bits", "dimension 0"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 0)}", 0,
         {"size in bytes fits in 64 bits", "[4611686018427387904, 0]"}},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2097152, 2097152, 2097152)}", 0,
         {"size in bytes fits in 64 bits"}},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", 20, {"expected 24 data bytes", "found 20"}},
        {"{'descr': '>i8', 'fortran_order': False, 'shape': ()}", 8, {"found '>i8' (big-endian)"}},
        {"{'descr': '|b1', 'fortran_order': False, 'shape': ()}", 1, {"found '|b1'"}},
    };
    for (const Case& c : cases) {
        INFO(c.dict);
        const std::string message = parse_error(handmade(c.dict, c.data));
        INFO(message);
        CHECK_THAT(message, Catch::Contains("read_npy") && Catch::Contains("'mem.npy'"));
        for (const std::string& part : c.message) CHECK_THAT(message, Catch::Contains(part));
    }
    // Spacing, double quotes, key order and a trailing comma are all fine.
    const Tensor t = io::parse_npy(
        handmade("{ \"shape\" : ( 2 , 3 , ) ,'fortran_order':False,'descr':\"<f4\",}", 24), "mem.npy");
    CHECK(t.shape() == Shape{2, 3});
}

TEST_CASE("npy never accepts a truncated or corrupted header", "[io][npy]") {
    for (const DType dtype : {DType::Float32, DType::UInt8}) {
        const auto good = io::serialize_npy(pattern(Shape{2, 3}, dtype));
        const std::size_t data_offset = good.size() - 6 * dtype_size(dtype);
        for (std::size_t n = 0; n < good.size(); ++n) {
            INFO("truncated to " << n << " bytes");
            // A copy of exactly n bytes, so a read past its end is caught by sanitizers.
            const std::vector<std::byte> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
            CHECK_THROWS_AS(io::parse_npy(cut, "mem.npy"), Error);
        }
        for (std::size_t i = 0; i < data_offset; ++i) {
            INFO("byte " << i << " flipped");
            auto flipped = good;
            flipped[i] ^= std::byte{0xff};
            CHECK_THROWS_WITH(io::parse_npy(flipped, "mem.npy"), Catch::Contains("read_npy: 'mem.npy': ") &&
                                                                   Catch::Contains("expected") && Catch::Contains("found"));
        }
    }
}

TEST_CASE("npy writes atomically and cleans up", "[io][npy]") {
    const TempDir dir;
    const std::string path = dir.file("a.npy");
    io::write_npy(path, pattern(Shape{3}, DType::Float64));
    io::write_npy(path, pattern(Shape{2, 2}, DType::Int64));  // replaces the previous file
    CHECK(io::read_npy(path).shape() == Shape{2, 2});
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir.path)) names.push_back(entry.path().filename().string());
    CHECK(names == std::vector<std::string>{"a.npy"});

    // A tensor that cannot be written leaves the previous file untouched.
    const auto before = file_bytes(path);
    CHECK_THROWS_WITH(io::write_npy(path, Tensor::empty(Shape{2}, DType::BFloat16)),
                      Catch::Contains("write_npy") && Catch::Contains("bfloat16"));
    CHECK(file_bytes(path) == before);
    CHECK_THROWS_WITH(io::write_npy(path, Tensor{}), Catch::Contains("write_npy") && Catch::Contains("defined"));

    // I/O failures are errors that name the path, and leave no temporary file.
    const std::string missing_dir = dir.file("no/such/dir/b.npy");
    CHECK_THROWS_WITH(io::write_npy(missing_dir, pattern(Shape{1}, DType::Float32)),
                      Catch::Contains("write_npy") && Catch::Contains("no/such/dir/b.npy"));
    fs::create_directory(dir.file("c.npy"));  // renaming a file over a directory fails
    CHECK_THROWS_WITH(io::write_npy(dir.file("c.npy"), pattern(Shape{1}, DType::Float32)),
                      Catch::Contains("rename"));
    names.clear();
    for (const auto& entry : fs::directory_iterator(dir.path)) names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"a.npy", "c.npy"});
}

}  // namespace vgt::test::npy_test
