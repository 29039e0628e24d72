#include "support.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include <vgt/io/image.hpp>

namespace vgt::test::image_test {

using vgt::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<std::byte> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

/// An image whose values are exactly k / 255, from a seed.
Tensor byte_image(std::int64_t c, std::int64_t h, std::int64_t w, std::uint32_t seed) {
    std::vector<float> values(static_cast<std::size_t>(c * h * w));
    std::uint32_t state = seed * 2654435761u + 1;
    for (auto& v : values) {
        state = state * 1664525u + 1013904223u;
        v = static_cast<float>(state >> 24) / 255.0f;
    }
    return Tensor::from_vector(values, Shape{c, h, w});
}

/// A smooth RGB image in [0, 1] (lossy codecs keep it well).
Tensor smooth_image(std::int64_t h, std::int64_t w) {
    Tensor t = Tensor::empty(Shape{3, h, w});
    float* p = t.data<float>();
    for (std::int64_t c = 0; c < 3; ++c)
        for (std::int64_t y = 0; y < h; ++y)
            for (std::int64_t x = 0; x < w; ++x)
                p[(c * h + y) * w + x] = static_cast<float>(
                    0.5 + 0.35 * std::sin(0.2 * static_cast<double>(x + 2 * c) + 0.15 * static_cast<double>(y)));
    return t;
}

double psnr(const Tensor& a, const Tensor& b) {
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    double mse = 0;
    for (std::size_t i = 0; i < va.size(); ++i) mse += (va[i] - vb[i]) * (va[i] - vb[i]);
    mse /= static_cast<double>(va.size());
    return mse == 0 ? 1e9 : 10 * std::log10(1.0 / mse);
}

void append_be32(std::vector<std::byte>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::byte>((v >> s) & 0xff));
}

/// A PNG written independently of stb: uncompressed deflate blocks, for
/// formats the writer does not produce (16 bits, gray with alpha).
std::vector<std::byte> handmade_png(int width, int height, int color_type, int depth,
                                    const std::vector<std::uint8_t>& rows_without_filter) {
    std::vector<std::byte> out;
    for (unsigned char b : io::detail::kPngSignature) out.push_back(static_cast<std::byte>(b));
    auto chunk = [&](const char* type, const std::vector<std::uint8_t>& data) {
        append_be32(out, static_cast<std::uint32_t>(data.size()));
        const std::size_t start = out.size();
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(type[i]));
        for (auto b : data) out.push_back(static_cast<std::byte>(b));
        const std::uint32_t crc =
            io::detail::crc32_update(0xffffffffu, out.data() + start, out.size() - start) ^ 0xffffffffu;
        append_be32(out, crc);
    };
    std::vector<std::uint8_t> ihdr;
    for (std::uint32_t v : {static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height)})
        for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<std::uint8_t>(v >> s));
    for (int v : {depth, color_type, 0, 0, 0}) ihdr.push_back(static_cast<std::uint8_t>(v));
    chunk("IHDR", ihdr);
    // Scanlines with filter type 0, in one stored deflate block inside zlib.
    const std::size_t row_bytes = rows_without_filter.size() / static_cast<std::size_t>(height);
    std::vector<std::uint8_t> raw;
    for (int y = 0; y < height; ++y) {
        raw.push_back(0);
        raw.insert(raw.end(), rows_without_filter.begin() + static_cast<std::ptrdiff_t>(y * row_bytes),
                   rows_without_filter.begin() + static_cast<std::ptrdiff_t>((y + 1) * row_bytes));
    }
    std::vector<std::uint8_t> zlib = {0x78, 0x01, 0x01};
    const auto n = static_cast<std::uint16_t>(raw.size());
    for (std::uint16_t v : {n, static_cast<std::uint16_t>(~n)}) {
        zlib.push_back(static_cast<std::uint8_t>(v & 0xff));
        zlib.push_back(static_cast<std::uint8_t>(v >> 8));
    }
    zlib.insert(zlib.end(), raw.begin(), raw.end());
    std::uint32_t a = 1, b = 0;
    for (auto byte : raw) {
        a = (a + byte) % 65521;
        b = (b + a) % 65521;
    }
    for (int s = 24; s >= 0; s -= 8) zlib.push_back(static_cast<std::uint8_t>(((b << 16) | a) >> s));
    chunk("IDAT", zlib);
    chunk("IEND", {});
    return out;
}

/// A JPEG from stb's encoder (the one compiled into image.hpp) of an RGB image.
std::vector<std::byte> jpeg_of(const Tensor& image, int quality) {
    const auto pixels = io::detail::interleave_bytes(image, "test");
    std::vector<std::byte> out;
    auto append = [](void* context, void* data, int size) {
        auto* bytes = static_cast<std::vector<std::byte>*>(context);
        bytes->insert(bytes->end(), static_cast<std::byte*>(data), static_cast<std::byte*>(data) + size);
    };
    REQUIRE(io::detail::stb::stbi_write_jpg_to_func(append, &out, static_cast<int>(image.size(2)),
                                                    static_cast<int>(image.size(1)), 3, pixels.data(), quality));
    return out;
}

Tensor decode(const std::vector<std::byte>& bytes, int channels = 0) {
    return io::decode_image(std::span<const std::byte>(bytes.data(), bytes.size()), "memory", channels);
}

}  // namespace

TEST_CASE("PNG round trip is exact for 1, 3 and 4 channels", "[io][image]") {
    TempDir dir;
    for (std::int64_t c : {1, 3, 4}) {
        const Tensor image = byte_image(c, 7, 5, static_cast<std::uint32_t>(c));
        const std::string path = dir.file(fmt::format("image{}.png", c));
        io::write_png(path, image);
        const Tensor back = io::read_image(path);
        REQUIRE(back.dtype() == DType::Float32);
        REQUIRE(back.shape() == image.shape());
        CHECK(back.to_vector<float>() == image.to_vector<float>());
        // float64 input and strided views write the same bytes.
        const Tensor as_double = to(image, DType::Float64);
        CHECK(io::encode_png(as_double) == file_bytes(path));
    }
    const Tensor wide = byte_image(3, 4, 6, 9);
    const Tensor view = slice(wide, 2, 1, 5);  // [3, 4, 4], not contiguous
    const auto bytes = io::encode_png(view);
    CHECK(decode(bytes).to_vector<float>() == contiguous(view).to_vector<float>());
}

TEST_CASE("PNG writing clamps to [0, 1] and rejects NaN and bad shapes", "[io][image]") {
    const Tensor image = Tensor::from_vector(std::vector<float>{-0.5f, 0.25f, 1.5f, 1.0f}, Shape{1, 2, 2});
    const Tensor back = decode(io::encode_png(image));
    CHECK(back.to_vector<float>() == std::vector<float>{0.0f, 64.0f / 255.0f, 1.0f, 1.0f});

    Tensor with_nan = Tensor::zeros(Shape{3, 2, 2});
    with_nan.data<float>()[5] = std::nanf("");
    CHECK_THROWS_WITH(io::encode_png(with_nan), Catch::Contains("write_png") && Catch::Contains("NaN"));
    CHECK_THROWS_WITH(io::encode_png(Tensor::zeros(Shape{2, 4, 4})),
                      Catch::Contains("write_png") && Catch::Contains("[2, 4, 4]"));
    CHECK_THROWS_WITH(io::encode_png(Tensor::zeros(Shape{4, 4})),
                      Catch::Contains("write_png") && Catch::Contains("[4, 4]"));
    CHECK_THROWS_WITH(io::encode_png(Tensor::zeros(Shape{3, 0, 4})), Catch::Contains("write_png"));
    CHECK_THROWS_WITH(io::encode_png(Tensor::zeros(Shape{3, 2, 2}, DType::Int64)),
                      Catch::Contains("write_png") && Catch::Contains("int64"));
}

TEST_CASE("16-bit and gray-with-alpha PNGs from an independent writer", "[io][image]") {
    // 16-bit gray, 2 x 3: values exact as v / 65535.
    const std::vector<std::uint16_t> values = {0, 1, 256, 4097, 65534, 65535};
    std::vector<std::uint8_t> rows;
    for (auto v : values) {
        rows.push_back(static_cast<std::uint8_t>(v >> 8));
        rows.push_back(static_cast<std::uint8_t>(v & 0xff));
    }
    const Tensor gray16 = decode(handmade_png(3, 2, 0, 16, rows));
    REQUIRE(gray16.shape() == Shape{1, 2, 3});
    const auto got = gray16.to_vector<float>();
    for (std::size_t i = 0; i < values.size(); ++i) CHECK(got[i] == static_cast<float>(values[i]) / 65535.0f);

    // 8-bit gray + alpha, 1 x 2: read as RGBA with the gray replicated.
    const Tensor ga = decode(handmade_png(2, 1, 4, 8, {10, 200, 250, 30}));
    REQUIRE(ga.shape() == Shape{4, 1, 2});
    CHECK(ga.to_vector<float>() == std::vector<float>{10 / 255.f, 250 / 255.f, 10 / 255.f, 250 / 255.f, 10 / 255.f,
                                                      250 / 255.f, 200 / 255.f, 30 / 255.f});
}

TEST_CASE("Channel conversion on read", "[io][image]") {
    const Tensor rgba = byte_image(4, 3, 3, 4);
    const auto bytes = io::encode_png(rgba);
    const Tensor rgb = decode(bytes, 3);
    CHECK(rgb.to_vector<float>() == slice(rgba, 0, 0, 3).to_vector<float>());
    const Tensor gray = decode(io::encode_png(Tensor::full(Shape{3, 2, 2}, 0.4)), 1);
    REQUIRE(gray.shape() == Shape{1, 2, 2});
    CHECK(std::abs(gray.to_vector<float>()[0] - 0.4f) < 2.0f / 255.0f);
    const Tensor opaque = decode(io::encode_png(rgb), 4);
    REQUIRE(opaque.shape() == Shape{4, 3, 3});
    CHECK(select(opaque, 0, 3).to_vector<float>() == std::vector<float>(9, 1.0f));
    CHECK_THROWS_WITH(decode(bytes, 2), Catch::Contains("read_image") && Catch::Contains("found 2"));
}

TEST_CASE("JPEG read of a smooth image", "[io][image]") {
    TempDir dir;
    const Tensor image = smooth_image(24, 32);
    const auto bytes = jpeg_of(image, 95);
    const std::string path = dir.file("smooth.jpg");
    {
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    }
    const Tensor back = io::read_image(path);
    REQUIRE(back.shape() == Shape{3, 24, 32});
    CHECK(psnr(back, image) > 35.0);
    CHECK(io::read_image(path, 1).shape() == Shape{1, 24, 32});
}

TEST_CASE("Every truncation and every flipped byte of a PNG is an error", "[io][image]") {
    const auto png = io::encode_png(byte_image(3, 6, 5, 11));
    for (std::size_t n = 0; n < png.size(); ++n) {
        INFO("truncated to " << n << " of " << png.size() << " bytes");
        const std::vector<std::byte> cut(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(decode(cut), Error);
    }
    for (std::size_t i = 0; i < png.size(); ++i) {
        INFO("byte " << i << " flipped");
        std::vector<std::byte> bad = png;
        bad[i] ^= std::byte{0x5a};
        CHECK_THROWS_AS(decode(bad), Error);
    }
    std::vector<std::byte> bad = png;
    bad[45] ^= std::byte{1};  // inside IDAT's data
    CHECK_THROWS_WITH(decode(bad), Catch::Contains("read_image") && Catch::Contains("CRC") && Catch::Contains("IDAT"));
    const std::vector<std::byte> cut(png.begin(), png.end() - 12);
    CHECK_THROWS_WITH(decode(cut), Catch::Contains("truncated PNG") && Catch::Contains("IEND"));
}

TEST_CASE("Truncated and corrupted JPEGs: an error or an image, never a crash", "[io][image]") {
    const auto jpeg = jpeg_of(smooth_image(16, 16), 90);
    for (std::size_t n = 0; n < jpeg.size(); ++n) {
        INFO("truncated to " << n << " of " << jpeg.size() << " bytes");
        const std::vector<std::byte> cut(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_THROWS_AS(decode(cut), Error);
    }
    int errors = 0, decoded = 0;
    for (std::size_t i = 0; i < jpeg.size(); ++i)
        for (unsigned char mask : {0x01, 0x80, 0xff}) {
            std::vector<std::byte> bad = jpeg;
            bad[i] ^= std::byte{mask};
            try {
                const Tensor t = decode(bad);
                CHECK(t.rank() == 3);
                ++decoded;
            } catch (const Error&) {
                ++errors;
            }
        }
    // Header damage is caught; flips in the entropy-coded data decode into other pixels.
    CHECK(errors > 0);
    CHECK(decoded > 0);
}

TEST_CASE("JPEG headers that would mislead the decoder are errors", "[io][image]") {
    // Found by fuzzing stb 2.27 under UBSan: a Huffman table of more than 256
    // codes, and a scan decoding with a table never defined, make stb read and
    // write outside its tables. vgt's marker walk refuses both first.
    const auto jpeg = jpeg_of(smooth_image(8, 8), 90);
    auto find_marker = [&](unsigned marker) {
        for (std::size_t i = 2; i + 1 < jpeg.size(); ++i)
            if (jpeg[i] == std::byte{0xff} && static_cast<unsigned>(jpeg[i + 1]) == marker) return i;
        FAIL("marker not found");
        return std::size_t{0};
    };
    std::vector<std::byte> many_codes = jpeg;
    const std::size_t dht = find_marker(0xc4);
    many_codes[dht + 5 + 15] = std::byte{0xff};  // 255 codes of 16 bits in the first table
    CHECK_THROWS_WITH(decode(many_codes), Catch::Contains("corrupt JPEG") && Catch::Contains("codes (at most 256)"));

    std::vector<std::byte> undefined_table = jpeg;
    const std::size_t sos = find_marker(0xda);
    undefined_table[sos + 6] = std::byte{0x33};  // first component: DC table 3, AC table 3
    CHECK_THROWS_WITH(decode(undefined_table), Catch::Contains("corrupt JPEG") && Catch::Contains("not defined"));
    CHECK(decode(jpeg).shape() == Shape{3, 8, 8});
}

TEST_CASE("Files that are not images", "[io][image]") {
    TempDir dir;
    CHECK_THROWS_WITH(io::read_image(dir.file("missing.png")),
                      Catch::Contains("read_image") && Catch::Contains("missing.png"));
    const std::string text = dir.file("text.png");
    { std::ofstream(text) << "hello, world"; }
    CHECK_THROWS_WITH(io::read_image(text), Catch::Contains("expected a PNG or JPEG") && Catch::Contains("hello, w"));
    CHECK_THROWS_WITH(io::read_image(dir.path.string()), Catch::Contains("read_image"));
    // A PNG header that claims a huge image is refused before decoding.
    std::vector<std::uint8_t> rows(4, 0);
    auto huge = handmade_png(1, 1, 0, 8, {0});
    const std::size_t ihdr = 16;  // width field
    for (int i = 0; i < 8; ++i) huge[ihdr + static_cast<std::size_t>(i)] = std::byte{0x7f};
    // Fix the IHDR CRC so that only the size is wrong.
    const std::uint32_t crc = io::detail::crc32_update(0xffffffffu, huge.data() + 12, 17) ^ 0xffffffffu;
    for (int i = 0; i < 4; ++i)
        huge[29 + static_cast<std::size_t>(i)] = static_cast<std::byte>((crc >> (24 - 8 * i)) & 0xff);
    CHECK_THROWS_WITH(decode(huge), Catch::Contains("read_image"));
}

TEST_CASE("PNG writes are atomic", "[io][image]") {
    TempDir dir;
    const std::string path = dir.file("frame.png");
    io::write_png(path, byte_image(3, 4, 4, 1));
    const auto before = file_bytes(path);
    // A failing write (NaN) leaves the previous file intact and no temporary file.
    Tensor bad = byte_image(3, 4, 4, 2);
    bad.data<float>()[0] = std::nanf("");
    CHECK_THROWS_AS(io::write_png(path, bad), Error);
    CHECK(file_bytes(path) == before);
    io::write_png(path, byte_image(3, 4, 4, 3));
    CHECK(file_bytes(path) != before);
    CHECK(dir.names() == std::vector<std::string>{"frame.png"});
    CHECK_THROWS_WITH(io::write_png(dir.file("no/such/dir/x.png"), byte_image(1, 2, 2, 1)),
                      Catch::Contains("write_png") && Catch::Contains("no/such/dir"));
}

TEST_CASE("Frame grids lay frames out in rows with padding", "[io][image]") {
    // Frame t of clip b is filled with (10 b + t + 1) / 100.
    const std::int64_t B = 2, T = 3, H = 2, W = 3;
    Tensor video = Tensor::empty(Shape{B, T, 1, H, W});
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t t = 0; t < T; ++t)
            for (std::int64_t i = 0; i < H * W; ++i)
                video.data<float>()[(b * T + t) * H * W + i] = static_cast<float>(10 * b + t + 1) / 100.0f;
    auto at = [](const Tensor& g, std::int64_t y, std::int64_t x) { return g.data<float>()[y * g.size(2) + x]; };

    // A clip in one strip: [1, 2, 3 * 3 + 2].
    const Tensor strip = io::frame_grid(select(video, 0, 0));
    REQUIRE(strip.shape() == Shape{1, 2, 11});
    CHECK(at(strip, 0, 0) == 0.01f);
    CHECK(at(strip, 1, 3) == 1.0f);  // padding column
    CHECK(at(strip, 1, 4) == 0.02f);
    CHECK(at(strip, 0, 10) == 0.03f);

    // Two columns: frames 0, 1 on the first row, frame 2 on the second, the rest padding.
    const Tensor wrapped = io::frame_grid(select(video, 0, 0), 2, 1, 0.5);
    REQUIRE(wrapped.shape() == Shape{1, 5, 7});
    CHECK(at(wrapped, 0, 4) == 0.02f);
    CHECK(at(wrapped, 2, 0) == 0.5f);
    CHECK(at(wrapped, 3, 0) == 0.03f);
    CHECK(at(wrapped, 4, 6) == 0.5f);

    // A batch: one row per clip.
    const Tensor grid = io::frame_grid(video, 0, 0);
    REQUIRE(grid.shape() == Shape{1, 4, 9});
    CHECK(at(grid, 2, 0) == 0.11f);
    CHECK(at(grid, 3, 8) == 0.13f);

    TempDir dir;
    io::save_frame_grid(dir.file("grid.png"), video);
    CHECK(io::read_image(dir.file("grid.png")).shape() == Shape{1, 5, 11});
    CHECK_THROWS_WITH(io::frame_grid(Tensor::zeros(Shape{3, 4, 4})),
                      Catch::Contains("frame_grid") && Catch::Contains("[3, 4, 4]"));
    CHECK_THROWS_WITH(io::save_frame_grid(dir.file("x.png"), Tensor::zeros(Shape{2, 2, 4, 4})),
                      Catch::Contains("write_png") && Catch::Contains("[2, 4, 9]"));
}

}  // namespace vgt::test::image_test
