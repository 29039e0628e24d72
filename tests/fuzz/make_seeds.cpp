// Seed inputs for the fuzz targets in this folder, made with vgt's own
// writers (and stb's JPEG writer, zlib, FFmpeg through write_video): small,
// valid files of every kind each reader accepts, for libFuzzer to mutate.
// tools/fuzz builds and runs it; it is not a fuzz target (no _fuzz suffix).
//
//   make_seeds OUT_DIR [--fashion-mnist DIR] [--video FILE...]
//
// writes OUT_DIR/<target>/<name> for the targets npy, safetensors, idx,
// image and video. --fashion-mnist: a folder with Fashion-MNIST's .gz IDX
// files, cut down to a few items each (valid files, not truncated ones).
// --video: existing video files, prefixed with video_fuzz's selector byte
// for their extension.
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include <vgt/io/idx.hpp>
#include <vgt/io/image.hpp>
#include <vgt/io/npy.hpp>
#include <vgt/io/safetensors.hpp>
#include <vgt/io/video.hpp>

namespace fs = std::filesystem;
using vgt::DType;
using vgt::Shape;
using vgt::Tensor;
using Bytes = std::vector<std::byte>;

namespace {

// The order of video_fuzz.cpp's kExtensions: the first byte of a video seed.
constexpr std::array<std::string_view, 8> kVideoExtensions = {".mp4", ".mkv", ".avi", ".gif",
                                                              ".y4m", ".mpg", ".webm", ".mov"};

fs::path out_root;
int written = 0;

void put(const std::string& target, const std::string& name, std::span<const std::byte> bytes) {
    const fs::path dir = out_root / target;
    fs::create_directories(dir);
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("make_seeds: cannot write " + (dir / name).string());
    ++written;
}

Bytes file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    return Bytes(p, p + s.size());
}

Bytes gzip(std::span<const std::byte> in) {
    z_stream z{};
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("make_seeds: deflateInit2 failed");
    Bytes out(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("make_seeds: deflate failed");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

Bytes gunzip(std::span<const std::byte> in) {
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("make_seeds: inflateInit2 failed");
    Bytes out;
    std::array<std::byte, 1 << 16> chunk{};
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int status = Z_OK;
    while (status == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(chunk.data());
        z.avail_out = static_cast<uInt>(chunk.size());
        status = inflate(&z, Z_NO_FLUSH);
        out.insert(out.end(), chunk.data(), chunk.data() + (chunk.size() - z.avail_out));
    }
    inflateEnd(&z);
    if (status != Z_STREAM_END) throw std::runtime_error("make_seeds: corrupt gzip input");
    return out;
}

// A tensor of `shape` with varied values (negative, large, fractional where the dtype allows).
Tensor sample(const Shape& shape, DType dtype) {
    Tensor t = Tensor::empty(shape, dtype);
    const std::int64_t n = t.numel();
    for (std::int64_t i = 0; i < n; ++i) {
        const double v = std::sin(0.7 * static_cast<double>(i) + 0.3) * 100.0;
        switch (dtype) {
            case DType::Float32: t.data<float>()[i] = static_cast<float>(v); break;
            case DType::Float64: t.data<double>()[i] = v; break;
            case DType::Int64:
                t.data<std::int64_t>()[i] = static_cast<std::int64_t>(v) * (i % 3 == 0 ? 1000 : 1);
                break;
            case DType::UInt8:
                t.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(static_cast<int>(v) & 0xff);
                break;
            default: {  // 16-bit floats: any bit pattern is a value
                auto* p = static_cast<std::uint16_t*>(t.raw_data());
                p[i] = static_cast<std::uint16_t>(0x3c00 + 37 * i);
            }
        }
    }
    return t;
}

// Rewrites a format 1.0 .npy as format 2.0 or 3.0 (a 4-byte header length).
Bytes npy_version(const Bytes& v1, std::uint8_t major) {
    const std::size_t length = static_cast<std::size_t>(v1[8]) | static_cast<std::size_t>(v1[9]) << 8;
    Bytes out(v1.begin(), v1.begin() + 6);
    out.push_back(std::byte{major});
    out.push_back(std::byte{0});
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>((length >> (8 * i)) & 0xff));
    out.insert(out.end(), v1.begin() + 10, v1.end());
    return out;
}

void npy_seeds() {
    const std::vector<std::pair<std::string, Shape>> shapes = {
        {"scalar", Shape{}}, {"vector", Shape{5}}, {"matrix", Shape{2, 3}}, {"video", Shape{1, 2, 3, 2, 2}},
        {"empty", Shape{0, 4}}};
    const std::vector<std::pair<std::string, DType>> dtypes = {
        {"f4", DType::Float32}, {"f8", DType::Float64}, {"i8", DType::Int64}, {"u1", DType::UInt8}};
    for (const auto& [shape_name, shape] : shapes)
        for (const auto& [dtype_name, dtype] : dtypes)
            put("npy", shape_name + "_" + dtype_name + ".npy", vgt::io::serialize_npy(sample(shape, dtype)));
    const Bytes v1 = vgt::io::serialize_npy(sample(Shape{3, 2}, DType::Float32));
    put("npy", "v2.npy", npy_version(v1, 2));
    put("npy", "v3.npy", npy_version(v1, 3));
}

void safetensors_seeds() {
    using Named = std::vector<std::pair<std::string, Tensor>>;
    put("safetensors", "one.safetensors",
        vgt::io::serialize_safetensors(Named{{"w", sample(Shape{2, 2}, DType::Float32)}}));
    put("safetensors", "mixed.safetensors",
        vgt::io::serialize_safetensors(
            Named{{"down.0.temporal.qkv.weight", sample(Shape{3, 2}, DType::Float32)},
                  {"f64", sample(Shape{2}, DType::Float64)},
                  {"bf16", sample(Shape{2, 1}, DType::BFloat16)},
                  {"f16", sample(Shape{3}, DType::Float16)},
                  {"labels", sample(Shape{2}, DType::Int64)},
                  {"bytes", sample(Shape{1, 3}, DType::UInt8)},
                  {"scalar", sample(Shape{}, DType::Float32)},
                  {"empty", sample(Shape{0, 3}, DType::Float32)}},
            {{"format", "pt"}, {"vgt", "seed"}}));
    put("safetensors", "metadata_only.safetensors",
        vgt::io::serialize_safetensors(Named{}, {{"note", "no tensors"}}));
}

void idx_seeds(const fs::path& fashion_mnist) {
    using vgt::io::IdxType;
    const std::vector<std::pair<std::string, std::pair<IdxType, DType>>> types = {
        {"u8", {IdxType::UInt8, DType::UInt8}},        {"i8", {IdxType::Int8, DType::Int64}},
        {"i16", {IdxType::Int16, DType::Int64}},       {"i32", {IdxType::Int32, DType::Int64}},
        {"f32", {IdxType::Float32, DType::Float32}}, {"f64", {IdxType::Float64, DType::Float64}}};
    for (const auto& [name, type] : types) {
        Tensor t = sample(Shape{2, 3, 2}, type.second);
        if (type.first == IdxType::Int8 || type.first == IdxType::Int16)  // values that fit
            for (std::int64_t i = 0; i < t.numel(); ++i) t.data<std::int64_t>()[i] = (i * 53) % 255 - 127;
        const Bytes plain = vgt::io::serialize_idx(t, type.first);
        put("idx", name + ".idx", plain);
        put("idx", name + ".idx.gz", gzip(plain));
    }
    put("idx", "labels.idx", vgt::io::serialize_idx(sample(Shape{10}, DType::UInt8)));
    put("idx", "scalar.idx", vgt::io::serialize_idx(sample(Shape{}, DType::Float32)));
    // Two gzip members, as `cat a.gz b.gz` makes.
    const Bytes two = vgt::io::serialize_idx(sample(Shape{4, 4}, DType::UInt8));
    Bytes members = gzip(std::span<const std::byte>(two).first(9));
    const Bytes rest = gzip(std::span<const std::byte>(two).subspan(9));
    members.insert(members.end(), rest.begin(), rest.end());
    put("idx", "two_members.idx.gz", members);

    // Fashion-MNIST's own files, with the item count cut to 2 (images) or 16 (labels).
    for (const auto& [file, items] : std::vector<std::pair<std::string, std::uint32_t>>{
             {"t10k-images-idx3-ubyte.gz", 2}, {"t10k-labels-idx1-ubyte.gz", 16}}) {
        const fs::path path = fashion_mnist / file;
        if (fashion_mnist.empty() || !fs::exists(path)) continue;
        Bytes idx = gunzip(file_bytes(path));
        const std::size_t rank = static_cast<std::size_t>(idx.at(3));
        std::size_t per_item = 1;
        for (std::size_t d = 1; d < rank; ++d) per_item *= vgt::io::detail::load_be32(idx.data() + 4 + 4 * d);
        vgt::io::detail::store_be(idx.data() + 4, items, 4);
        idx.resize(4 + 4 * rank + items * per_item);
        const std::string stem = "fashion-" + file.substr(0, file.size() - 3);
        put("idx", stem, idx);
        put("idx", stem + ".gz", gzip(idx));
    }
}

// A PNG of one IHDR / (PLTE) / IDAT / IEND, rows unfiltered, for the kinds
// vgt's writer does not make (16 bits, palette, gray with alpha).
Bytes handmade_png(int width, int height, int color_type, int depth, const std::vector<std::uint8_t>& rows,
                   const std::vector<std::uint8_t>& palette = {}) {
    Bytes out;
    for (unsigned char c : vgt::io::detail::kPngSignature) out.push_back(std::byte{c});
    auto be32 = [](Bytes& b, std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::byte>((v >> s) & 0xff));
    };
    auto chunk = [&](const char* type, const Bytes& data) {
        be32(out, static_cast<std::uint32_t>(data.size()));
        const std::size_t start = out.size();
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::byte>(type[i]));
        out.insert(out.end(), data.begin(), data.end());
        be32(out, vgt::io::detail::crc32_update(0xffffffffu, out.data() + start, data.size() + 4) ^ 0xffffffffu);
    };
    Bytes ihdr;
    be32(ihdr, static_cast<std::uint32_t>(width));
    be32(ihdr, static_cast<std::uint32_t>(height));
    for (int v : {depth, color_type, 0, 0, 0}) ihdr.push_back(static_cast<std::byte>(v));
    chunk("IHDR", ihdr);
    if (!palette.empty()) chunk("PLTE", Bytes(reinterpret_cast<const std::byte*>(palette.data()),
                                              reinterpret_cast<const std::byte*>(palette.data()) + palette.size()));
    const std::size_t row_bytes = rows.size() / static_cast<std::size_t>(height);
    Bytes raw;
    for (int y = 0; y < height; ++y) {
        raw.push_back(std::byte{0});
        for (std::size_t i = 0; i < row_bytes; ++i) raw.push_back(std::byte{rows[y * row_bytes + i]});
    }
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    Bytes zlib(size);
    compress(reinterpret_cast<Bytef*>(zlib.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
             static_cast<uLong>(raw.size()));
    zlib.resize(size);
    chunk("IDAT", zlib);
    chunk("IEND", {});
    return out;
}

Tensor smooth(const Shape& shape) {
    Tensor t = Tensor::empty(shape);
    float* p = t.data<float>();
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = 0.5f + 0.45f * std::sin(0.37f * static_cast<float>(i));
    return t;
}

void image_seeds() {
    for (const std::int64_t c : {1, 3, 4})
        put("image", "c" + std::to_string(c) + ".png", vgt::io::encode_png(smooth(Shape{c, 6, 5})));
    std::vector<std::uint8_t> rows16;
    for (int i = 0; i < 4 * 3; ++i) rows16.push_back(static_cast<std::uint8_t>(i * 37));
    put("image", "gray16.png", handmade_png(2, 3, 0, 16, rows16));
    put("image", "gray_alpha.png", handmade_png(2, 2, 4, 8, {10, 200, 250, 30, 0, 255, 128, 64}));
    put("image", "palette.png", handmade_png(3, 2, 3, 8, {0, 1, 2, 2, 1, 0}, {255, 0, 0, 0, 255, 0, 0, 0, 255}));
    put("image", "rgb16.png", handmade_png(1, 2, 2, 16, {0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255}));

    // stb's writer makes baseline YCbCr JPEGs only (4:2:0 up to quality 90, 4:4:4 above).
    auto append = [](void* context, void* data, int size) {
        auto* bytes = static_cast<Bytes*>(context);
        bytes->insert(bytes->end(), static_cast<std::byte*>(data), static_cast<std::byte*>(data) + size);
    };
    for (const auto& [name, quality] :
         std::vector<std::pair<std::string, int>>{{"q20.jpg", 20}, {"q80_420.jpg", 80}, {"q95_444.jpg", 95}}) {
        const Tensor image = smooth(Shape{3, 16, 16});
        const auto pixels = vgt::io::detail::interleave_bytes(image, "make_seeds");
        Bytes jpeg;
        if (!vgt::io::detail::stb::stbi_write_jpg_to_func(append, &jpeg, 16, 16, 3, pixels.data(), quality))
            throw std::runtime_error("make_seeds: stb could not write a JPEG");
        put("image", name, jpeg);
    }
}

Bytes with_selector(std::string_view extension, const Bytes& file) {
    for (std::size_t i = 0; i < kVideoExtensions.size(); ++i)
        if (kVideoExtensions[i] == extension) {
            Bytes out{static_cast<std::byte>(i)};
            out.insert(out.end(), file.begin(), file.end());
            return out;
        }
    return {};
}

void video_seeds(const std::vector<fs::path>& existing) {
    const fs::path tmp = out_root / "video-tmp";
    fs::create_directories(tmp);
    vgt::io::set_ffmpeg_log_level(vgt::io::FfmpegLogLevel::errors);
    const Tensor clip = smooth(Shape{3, 3, 16, 16});
    for (const std::string_view ext : kVideoExtensions) {
        if (ext == ".webm") continue;  // write_video makes no WebM
        const fs::path path = tmp / ("seed" + std::string(ext));
        vgt::io::write_video(path.string(), clip, {.fps = 25});
        put("video", "seed" + std::string(ext), with_selector(ext, file_bytes(path)));
    }
    // Odd sizes take another pixel format.
    const Tensor odd = smooth(Shape{2, 3, 7, 9});
    vgt::io::write_video((tmp / "odd.mp4").string(), odd, {.fps = 10});
    put("video", "odd.mp4", with_selector(".mp4", file_bytes(tmp / "odd.mp4")));
    for (const fs::path& file : existing) {
        const Bytes b = with_selector(file.extension().string(), file_bytes(file));
        if (!b.empty()) put("video", file.filename().string(), b);
    }
    fs::remove_all(tmp);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: make_seeds OUT_DIR [--fashion-mnist DIR] [--video FILE...]\n");
        return 2;
    }
    out_root = argv[1];
    fs::path fashion_mnist;
    std::vector<fs::path> videos;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--fashion-mnist" && i + 1 < argc) {
            fashion_mnist = argv[++i];
        } else if (arg == "--video") {
            while (i + 1 < argc && std::string_view(argv[i + 1]).substr(0, 2) != "--") videos.emplace_back(argv[++i]);
        } else {
            std::fprintf(stderr, "make_seeds: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    try {
        npy_seeds();
        safetensors_seeds();
        idx_seeds(fashion_mnist);
        image_seeds();
        video_seeds(videos);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    std::printf("make_seeds: %d files in %s\n", written, out_root.c_str());
    return 0;
}
