#pragma once
// Images: PNG and JPEG read, PNG write, and a grid of video frames as one PNG
// for reports.
//
// Images are float32 tensors [C, H, W] with values in [0, 1], C = 1 (gray),
// 3 (RGB) or 4 (RGBA). Decoding and encoding are stb_image / stb_image_write
// (Debian's libstb-dev), compiled into each translation unit that includes
// this header with internal linkage, in a namespace of their own (vgt_stb):
// no library to link, no symbol shared with a copy of stb the program may
// carry itself.
//
// Untrusted files: a PNG's chunk structure and every chunk's CRC are checked
// before stb sees the bytes (stb ignores CRCs, so a flipped bit would
// otherwise decode into wrong pixels); a JPEG's marker segments are walked
// and checked up to its end-of-image marker (stb fills a truncated JPEG with
// grey instead of failing, and stb 2.27 overruns its tables on a Huffman
// table of more than 256 codes or a scan using an undefined table); sizes
// are bounded before anything is allocated, and stb's internal assertions
// throw instead of aborting. Every failure is a vgt::Error naming the
// operation, the file, what was expected and what was found.

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/io/file.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/view.hpp"

// The C headers stb includes, included here first so that their include
// guards keep them out of the namespace stb is compiled into below.
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

namespace vgt::io::detail {

/// stb's internal invariants: an error instead of an abort when a malformed
/// file reaches one (the decoder's memory for that image is not reclaimed).
[[noreturn]] inline void stb_invariant_failed(const char* what) {
    throw Error(fmt::format("read_image: the image decoder found an inconsistent file (failed check '{}')", what));
}

}  // namespace vgt::io::detail

// stb is C: it calls abs, memcpy, ... unqualified, and inside namespace vgt
// those names would find vgt's tensor operations first. Its own top-level
// namespace leaves the C library the only candidate.
namespace vgt_stb {
// stb is third-party C: its warnings are not ours to fix.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Weverything"
#elif defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wtype-limits"
#endif
// A program may include stb itself, before or after this header, with its
// own configuration: every switch stb reads or sets is saved, cleared for
// our copy and restored afterwards.
#pragma push_macro("STBI_INCLUDE_STB_IMAGE_H")
#pragma push_macro("INCLUDE_STB_IMAGE_WRITE_H")
#pragma push_macro("STB_IMAGE_STATIC")
#pragma push_macro("STB_IMAGE_IMPLEMENTATION")
#pragma push_macro("STB_IMAGE_WRITE_STATIC")
#pragma push_macro("STB_IMAGE_WRITE_IMPLEMENTATION")
#pragma push_macro("STBIDEF")
#pragma push_macro("STBIWDEF")
#pragma push_macro("STBI_ASSERT")
#pragma push_macro("STBIW_ASSERT")
#pragma push_macro("STBI_ONLY_PNG")
#pragma push_macro("STBI_ONLY_JPEG")
#pragma push_macro("STBI_ONLY_BMP")
#pragma push_macro("STBI_ONLY_PSD")
#pragma push_macro("STBI_ONLY_TGA")
#pragma push_macro("STBI_ONLY_GIF")
#pragma push_macro("STBI_ONLY_HDR")
#pragma push_macro("STBI_ONLY_PIC")
#pragma push_macro("STBI_ONLY_PNM")
#pragma push_macro("STBI_ONLY_ZLIB")
#pragma push_macro("STBI_NO_PNG")
#pragma push_macro("STBI_NO_JPEG")
#pragma push_macro("STBI_NO_BMP")
#pragma push_macro("STBI_NO_PSD")
#pragma push_macro("STBI_NO_TGA")
#pragma push_macro("STBI_NO_GIF")
#pragma push_macro("STBI_NO_HDR")
#pragma push_macro("STBI_NO_PIC")
#pragma push_macro("STBI_NO_PNM")
#pragma push_macro("STBI_NO_ZLIB")
#pragma push_macro("STBI_NO_STDIO")
#pragma push_macro("STBI_NO_LINEAR")
#pragma push_macro("STBI_WRITE_NO_STDIO")
#pragma push_macro("STBI_FAILURE_USERMSG")
#pragma push_macro("STBI_NO_FAILURE_STRINGS")
#pragma push_macro("STBI_MAX_DIMENSIONS")
#include "vgt/io/stb_reset_macros.inc"
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_FAILURE_USERMSG
#define STBI_MAX_DIMENSIONS (1 << 20)
#define STBI_ASSERT(x) ((x) ? (void)0 : ::vgt::io::detail::stb_invariant_failed(#x))
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#define STBIW_ASSERT(x) ((x) ? (void)0 : ::vgt::io::detail::stb_invariant_failed(#x))
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#include "vgt/io/stb_reset_macros.inc"
#pragma pop_macro("STBI_MAX_DIMENSIONS")
#pragma pop_macro("STBI_NO_FAILURE_STRINGS")
#pragma pop_macro("STBI_FAILURE_USERMSG")
#pragma pop_macro("STBI_WRITE_NO_STDIO")
#pragma pop_macro("STBI_NO_LINEAR")
#pragma pop_macro("STBI_NO_STDIO")
#pragma pop_macro("STBI_NO_ZLIB")
#pragma pop_macro("STBI_NO_PNM")
#pragma pop_macro("STBI_NO_PIC")
#pragma pop_macro("STBI_NO_HDR")
#pragma pop_macro("STBI_NO_GIF")
#pragma pop_macro("STBI_NO_TGA")
#pragma pop_macro("STBI_NO_PSD")
#pragma pop_macro("STBI_NO_BMP")
#pragma pop_macro("STBI_NO_JPEG")
#pragma pop_macro("STBI_NO_PNG")
#pragma pop_macro("STBI_ONLY_ZLIB")
#pragma pop_macro("STBI_ONLY_PNM")
#pragma pop_macro("STBI_ONLY_PIC")
#pragma pop_macro("STBI_ONLY_HDR")
#pragma pop_macro("STBI_ONLY_GIF")
#pragma pop_macro("STBI_ONLY_TGA")
#pragma pop_macro("STBI_ONLY_PSD")
#pragma pop_macro("STBI_ONLY_BMP")
#pragma pop_macro("STBI_ONLY_JPEG")
#pragma pop_macro("STBI_ONLY_PNG")
#pragma pop_macro("STBIW_ASSERT")
#pragma pop_macro("STBI_ASSERT")
#pragma pop_macro("STBIWDEF")
#pragma pop_macro("STBIDEF")
#pragma pop_macro("STB_IMAGE_WRITE_IMPLEMENTATION")
#pragma pop_macro("STB_IMAGE_WRITE_STATIC")
#pragma pop_macro("STB_IMAGE_IMPLEMENTATION")
#pragma pop_macro("STB_IMAGE_STATIC")
#pragma pop_macro("INCLUDE_STB_IMAGE_WRITE_H")
#pragma pop_macro("STBI_INCLUDE_STB_IMAGE_H")
#if defined(__clang__)
#pragma clang diagnostic pop
#elif defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}  // namespace vgt_stb

namespace vgt::io::detail {
namespace stb = ::vgt_stb;
}  // namespace vgt::io::detail

namespace vgt::io {

namespace detail {

// Larger images are refused before any pixel memory is allocated: 2^28
// pixels is a 16384 x 16384 image, 4 GiB as float32 RGBA.
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 28;

inline constexpr std::array<unsigned char, 8> kPngSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

inline std::uint32_t crc32_update(std::uint32_t crc, const std::byte* data, std::size_t size) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t n = 0; n < 256; ++n) {
            std::uint32_t c = n;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }();
    for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ static_cast<std::uint32_t>(data[i])) & 0xff] ^ (crc >> 8);
    return crc;
}

inline std::uint32_t read_be32(std::span<const std::byte> bytes, std::size_t at) {
    return static_cast<std::uint32_t>(bytes[at]) << 24 | static_cast<std::uint32_t>(bytes[at + 1]) << 16 |
           static_cast<std::uint32_t>(bytes[at + 2]) << 8 | static_cast<std::uint32_t>(bytes[at + 3]);
}

/// Walks a PNG's chunks: each one inside the file, its CRC right, IHDR first
/// and IEND present. stb checks none of the CRCs.
inline void check_png_chunks(std::span<const std::byte> bytes, std::string_view op, std::string_view source) {
    std::size_t at = kPngSignature.size();
    bool first = true;
    while (true) {
        VGT_CHECK(bytes.size() - at >= 12, op,
                  "'{}': truncated PNG: expected a chunk (12 bytes or more) at offset {}, found {} bytes{}", source, at,
                  bytes.size() - at, first ? "" : " (no IEND chunk)");
        const std::uint32_t length = read_be32(bytes, at);
        const std::string type(reinterpret_cast<const char*>(bytes.data()) + at + 4, 4);
        VGT_CHECK(length <= 0x7fffffffu, op, "'{}': corrupt PNG: chunk at offset {} claims {} bytes (at most 2^31 - 1)",
                  source, at, length);
        VGT_CHECK(length <= bytes.size() - at - 12, op,
                  "'{}': truncated PNG: chunk '{}' at offset {} expected {} data bytes, found {}", source,
                  escaped(type), at, length, bytes.size() - at - 12);
        const std::uint32_t stored = read_be32(bytes, at + 8 + length);
        const std::uint32_t computed = crc32_update(0xffffffffu, bytes.data() + at + 4, length + 4) ^ 0xffffffffu;
        VGT_CHECK(stored == computed, op,
                  "'{}': corrupt PNG: chunk '{}' at offset {} expected CRC {:08x}, found {:08x}", source, escaped(type),
                  at, computed, stored);
        VGT_CHECK(!first || type == "IHDR", op, "'{}': corrupt PNG: expected the IHDR chunk first, found '{}'", source,
                  escaped(type));
        first = false;
        at += 12 + length;
        if (type == "IEND") return;  // bytes after IEND are ignored, as every decoder does
    }
}

/// Walks a JPEG's marker segments from SOI to EOI: every segment inside the
/// file, Huffman tables with at most 256 codes (stb 2.27 writes past its
/// tables otherwise), quantisation tables and frame / scan headers of the
/// sizes they claim, and the end-of-image marker present (stb fills a
/// truncated JPEG with grey instead of failing). Entropy-coded data between
/// scans is skipped: in it 0xFF is followed by 0x00 (stuffing) or a restart
/// marker, so the next other marker ends it.
inline void check_jpeg_segments(std::span<const std::byte> bytes, std::string_view op, std::string_view source) {
    const auto at = [&](std::size_t i) { return static_cast<unsigned>(bytes[i]); };
    const std::size_t size = bytes.size();
    auto corrupt = [&](std::size_t offset, std::string_view what) {
        fail(op, "'{}': corrupt JPEG: {} at offset {}", source, what, offset);
    };
    bool frame = false, scan = false, progressive = false;
    std::array<bool, 4> dc_table{}, ac_table{};  // Huffman tables defined so far
    std::size_t pos = 2;  // after SOI
    while (true) {
        VGT_CHECK(pos < size, op,
                  "'{}': truncated JPEG: expected an end-of-image marker (FF D9), found the end of the {} bytes",
                  source, size);
        if (at(pos) != 0xff) {
            // Only entropy-coded data may sit between markers, and only after a scan header.
            if (!scan) corrupt(pos, fmt::format("expected a marker (FF xx), found byte {:02x}", at(pos)));
            while (pos + 1 < size && !(at(pos) == 0xff && at(pos + 1) != 0x00 &&
                                       (at(pos + 1) < 0xd0 || at(pos + 1) > 0xd7) && at(pos + 1) != 0xff))
                ++pos;
            VGT_CHECK(pos + 1 < size, op,
                      "'{}': truncated JPEG: expected an end-of-image marker (FF D9), found the end of the {} bytes",
                      source, size);
            continue;
        }
        while (pos + 1 < size && at(pos + 1) == 0xff) ++pos;  // fill bytes
        VGT_CHECK(pos + 1 < size, op,
                  "'{}': truncated JPEG: expected an end-of-image marker (FF D9), found the end of the {} bytes",
                  source, size);
        const unsigned marker = at(pos + 1);
        if (marker == 0xd9) {
            if (!scan) corrupt(pos, "expected image data before the end-of-image marker, found none");
            return;
        }
        if (marker == 0x00 || (marker >= 0xd0 && marker <= 0xd7) || marker == 0x01) {
            if (!scan) corrupt(pos, fmt::format("expected a marker segment, found a stray FF {:02x}", marker));
            pos += 2;
            continue;
        }
        if (marker == 0xd8) corrupt(pos, "expected one start-of-image marker, found a second");
        VGT_CHECK(pos + 4 <= size, op,
                  "'{}': truncated JPEG: expected the length of segment FF {:02x} at offset {}, found the end", source,
                  marker, pos);
        const std::size_t length = at(pos + 2) << 8 | at(pos + 3);
        VGT_CHECK(length >= 2 && pos + 2 + length <= size, op,
                  "'{}': truncated JPEG: segment FF {:02x} at offset {} expected {} bytes, found {}", source, marker,
                  pos, length, size - pos - 2);
        const std::size_t begin = pos + 4, end = pos + 2 + length;
        if (marker == 0xc4) {  // DHT: tables of (class/id, 16 counts, symbols)
            for (std::size_t t = begin; t < end;) {
                if (end - t < 17) corrupt(t, "a Huffman table header shorter than 17 bytes");
                if ((at(t) >> 4) > 1 || (at(t) & 15) > 3) corrupt(t, fmt::format("Huffman table id {:02x}", at(t)));
                std::size_t codes = 0;
                for (std::size_t i = 1; i <= 16; ++i) codes += at(t + i);
                if (codes > 256) corrupt(t, fmt::format("a Huffman table of {} codes (at most 256)", codes));
                ((at(t) >> 4) == 0 ? dc_table : ac_table)[at(t) & 15] = true;
                t += 17 + codes;
                if (t > end) corrupt(pos, "Huffman tables longer than their segment");
            }
        } else if (marker == 0xdb) {  // DQT: tables of (precision/id, 64 or 128 bytes)
            for (std::size_t t = begin; t < end;) {
                if ((at(t) >> 4) > 1 || (at(t) & 15) > 3)
                    corrupt(t, fmt::format("quantisation table id {:02x}", at(t)));
                t += 1 + ((at(t) >> 4) ? 128 : 64);
                if (t > end) corrupt(pos, "quantisation tables longer than their segment");
            }
        } else if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc) {  // SOFn
            if (frame) corrupt(pos, "a second frame header");
            if (length < 8 || length != 8 + 3 * at(begin + 5))
                corrupt(pos, "a frame header whose length disagrees with its components");
            frame = true;
            progressive = marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce;
        } else if (marker == 0xda) {  // SOS
            if (!frame) corrupt(pos, "a scan before the frame header");
            if (length < 3 || at(begin) < 1 || at(begin) > 4 || length != 6 + 2 * at(begin))
                corrupt(pos, "a scan header whose length disagrees with its components");
            // Every Huffman table the scan decodes with must be defined
            // (stb 2.27 reads an undefined one from uninitialised memory).
            const unsigned components = at(begin);
            const unsigned spectral_start = at(begin + 1 + 2 * components);
            const unsigned refinement = at(begin + 3 + 2 * components) >> 4;
            const bool uses_dc = !progressive || (spectral_start == 0 && refinement == 0);
            const bool uses_ac = !progressive || spectral_start > 0;
            for (unsigned c = 0; c < components; ++c) {
                const unsigned tables = at(begin + 2 + 2 * c), dc = tables >> 4, ac = tables & 15;
                if ((uses_dc && (dc > 3 || !dc_table[dc])) || (uses_ac && (ac > 3 || !ac_table[ac])))
                    corrupt(pos, fmt::format("a scan using Huffman tables DC {} / AC {}, not defined before it", dc, ac));
            }
            scan = true;
        }
        pos = end;
    }
}

/// Frees memory that stb allocated.
struct StbFree {
    void operator()(void* p) const { std::free(p); }
};

/// Converts one float in [0, 1] (clamped) to 8 bits; NaN is an error.
inline std::uint8_t to_byte(double v, std::string_view op) {
    VGT_CHECK(!std::isnan(v), op, "expected pixel values in [0, 1], found NaN");
    return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
}

/// Interleaved 8-bit pixels (H, W, C) of a float image [C, H, W].
inline std::vector<std::uint8_t> interleave_bytes(const Tensor& image, std::string_view op) {
    const Tensor src = vgt::detail::contiguous_data(image);
    const std::int64_t channels = image.size(0), height = image.size(1), width = image.size(2);
    const std::int64_t plane = height * width;
    std::vector<std::uint8_t> out(static_cast<std::size_t>(channels * plane));
    dispatch_floating(image.dtype(), op, [&]<class T>() {
        const T* in = src.data<T>();
        for (std::int64_t c = 0; c < channels; ++c)
            for (std::int64_t p = 0; p < plane; ++p)
                out[static_cast<std::size_t>(p * channels + c)] = to_byte(static_cast<double>(in[c * plane + p]), op);
    });
    return out;
}

inline void check_image(const Tensor& image, std::string_view op) {
    VGT_CHECK(image.defined(), op, "expected an image tensor, found an empty handle");
    VGT_CHECK(image.device().is_cpu(), op, "expected a CPU tensor, found {}", image.str());
    VGT_CHECK(image.dtype() == DType::Float32 || image.dtype() == DType::Float64, op,
              "expected a float32 or float64 image, found {}", dtype_name(image.dtype()));
    VGT_CHECK(image.rank() == 3 && (image.size(0) == 1 || image.size(0) == 3 || image.size(0) == 4), op,
              "expected an image [C, H, W] with C = 1, 3 or 4, found shape {}", image.shape());
    VGT_CHECK(image.size(1) > 0 && image.size(2) > 0, op, "expected a non-empty image, found shape {}", image.shape());
    VGT_CHECK(
        image.size(1) * image.size(2) <= kMaxImagePixels && image.size(1) < INT_MAX / 8 && image.size(2) < INT_MAX / 8,
        op, "expected at most {} pixels, found shape {}", kMaxImagePixels, image.shape());
}

}  // namespace detail

/// Decodes PNG (8 or 16 bits per channel) or JPEG bytes into a float32
/// tensor [C, H, W] with values in [0, 1]. `channels` = 0 keeps the file's
/// channels (gray 1, RGB 3, RGBA 4; gray with alpha becomes RGBA); 1, 3 or
/// 4 converts (RGB to gray with stb's luma weights, alpha dropped or set to
/// 1). `source_name` names the bytes in errors.
inline Tensor decode_image(std::span<const std::byte> bytes, std::string_view source_name, int channels = 0) {
    constexpr std::string_view op = "read_image";
    namespace stb = detail::stb;
    VGT_CHECK(channels == 0 || channels == 1 || channels == 3 || channels == 4, op,
              "'{}': expected channels 0 (as stored), 1, 3 or 4, found {}", source_name, channels);
    const auto* raw = reinterpret_cast<const unsigned char*>(bytes.data());
    const bool png = bytes.size() >= detail::kPngSignature.size() &&
                     std::memcmp(raw, detail::kPngSignature.data(), detail::kPngSignature.size()) == 0;
    const bool jpeg = bytes.size() >= 3 && raw[0] == 0xff && raw[1] == 0xd8 && raw[2] == 0xff;
    VGT_CHECK(
        png || jpeg, op, "'{}': expected a PNG or JPEG file, found {} bytes starting with \"{}\"", source_name,
        bytes.size(),
        detail::escaped(std::string_view(reinterpret_cast<const char*>(raw), std::min<std::size_t>(bytes.size(), 8))));
    VGT_CHECK(bytes.size() <= static_cast<std::size_t>(INT_MAX), op,
              "'{}': expected a file under 2 GiB, found {} bytes", source_name, bytes.size());
    if (png)
        detail::check_png_chunks(bytes, op, source_name);
    else
        detail::check_jpeg_segments(bytes, op, source_name);
    const char* kind = png ? "PNG" : "JPEG";

    const int length = static_cast<int>(bytes.size());
    int width = 0, height = 0, stored = 0;
    if (!stb::stbi_info_from_memory(raw, length, &width, &height, &stored))
        fail(op, "'{}': expected a readable {} header, found an error ({})", source_name, kind,
             stb::stbi_failure_reason());
    VGT_CHECK(width > 0 && height > 0 && std::int64_t{width} * height <= detail::kMaxImagePixels, op,
              "'{}': expected a {} of at most {} pixels, found {} x {}", source_name, kind, detail::kMaxImagePixels,
              width, height);
    const int want = channels != 0 ? channels : (stored == 2 ? 4 : stored);
    const bool sixteen = png && stb::stbi_is_16_bit_from_memory(raw, length);

    int got_w = 0, got_h = 0, got_c = 0;
    std::unique_ptr<void, detail::StbFree> pixels(
        sixteen ? static_cast<void*>(stb::stbi_load_16_from_memory(raw, length, &got_w, &got_h, &got_c, want))
                : static_cast<void*>(stb::stbi_load_from_memory(raw, length, &got_w, &got_h, &got_c, want)));
    if (!pixels)
        fail(op, "'{}': expected a decodable {} image, found an error ({})", source_name, kind,
             stb::stbi_failure_reason());
    VGT_CHECK(got_w == width && got_h == height, op, "'{}': expected a {} x {} image, decoded {} x {}", source_name,
              width, height, got_w, got_h);

    const std::int64_t plane = std::int64_t{width} * height;
    Tensor out = Tensor::empty(Shape{want, height, width}, DType::Float32);
    float* o = out.data<float>();
    auto planar = [&]<class Word>(const Word* in, float scale) {
        for (int c = 0; c < want; ++c)
            for (std::int64_t p = 0; p < plane; ++p) o[c * plane + p] = static_cast<float>(in[p * want + c]) / scale;
    };
    if (sixteen)
        planar(static_cast<const std::uint16_t*>(pixels.get()), 65535.0f);
    else
        planar(static_cast<const std::uint8_t*>(pixels.get()), 255.0f);
    return out;
}

/// Reads a PNG or JPEG file into a float32 tensor [C, H, W] in [0, 1] (see decode_image).
inline Tensor read_image(const std::string& path, int channels = 0) {
    const std::vector<std::byte> bytes = detail::read_file(path, "read_image", "an image file");
    return decode_image(std::span<const std::byte>(bytes.data(), bytes.size()), path, channels);
}

/// The bytes of an 8-bit PNG of `image` [C, H, W] (C = 1, 3 or 4; float32 or
/// float64): values are clamped to [0, 1] and rounded to k / 255, so an
/// image read from an 8-bit PNG is written back exactly. NaN is an error.
inline std::vector<std::byte> encode_png(const Tensor& image) {
    constexpr std::string_view op = "write_png";
    detail::check_image(image, op);
    const int channels = static_cast<int>(image.size(0));
    const int height = static_cast<int>(image.size(1));
    const int width = static_cast<int>(image.size(2));
    const std::vector<std::uint8_t> pixels = detail::interleave_bytes(image, op);
    int length = 0;
    std::unique_ptr<unsigned char, detail::StbFree> png(
        detail::stb::stbi_write_png_to_mem(pixels.data(), width * channels, width, height, channels, &length));
    VGT_CHECK(png != nullptr && length > 0, op,
              "expected to encode a {} x {} PNG, found an encoder failure (out of memory?)", width, height);
    const auto* begin = reinterpret_cast<const std::byte*>(png.get());
    return std::vector<std::byte>(begin, begin + length);
}

/// Writes `image` [C, H, W] as an 8-bit PNG, atomically (see encode_png).
inline void write_png(const std::string& path, const Tensor& image) {
    const std::vector<std::byte> bytes = encode_png(image);
    detail::write_file_atomically(path, std::span<const std::byte>(bytes.data(), bytes.size()), "write_png");
}

/// Lays the frames of a video out as one image: a clip [T, C, H, W] wraps
/// into rows of `columns` frames (0: all T in one row); a batch
/// [B, T, C, H, W] gives each clip its own rows (`columns` 0: T per row).
/// Frames are separated by `padding` pixels of `pad_value`. Returns
/// [C, rows * H + (rows - 1) * padding, columns * W + (columns - 1) * padding]
/// in the video's dtype; no autograd.
inline Tensor frame_grid(const Tensor& video, int columns = 0, int padding = 1, double pad_value = 1.0) {
    constexpr std::string_view op = "frame_grid";
    VGT_CHECK(video.defined(), op, "expected a video tensor, found an empty handle");
    VGT_CHECK(video.device().is_cpu(), op, "expected a CPU tensor, found {}", video.str());
    VGT_CHECK(video.rank() == 4 || video.rank() == 5, op,
              "expected a video [T, C, H, W] or a batch [B, T, C, H, W], found shape {}", video.shape());
    VGT_CHECK(video.dtype() == DType::Float32 || video.dtype() == DType::Float64, op,
              "expected a float32 or float64 video, found {}", dtype_name(video.dtype()));
    const Tensor frames = video.rank() == 5 ? video : unsqueeze(detach(video), 0);
    const std::int64_t clips = frames.size(0), length = frames.size(1), channels = frames.size(2);
    const std::int64_t height = frames.size(3), width = frames.size(4);
    VGT_CHECK(clips > 0 && length > 0 && height > 0 && width > 0, op, "expected a non-empty video, found shape {}",
              video.shape());
    VGT_CHECK(columns >= 0 && padding >= 0, op, "expected columns >= 0 and padding >= 0, found {} and {}", columns,
              padding);
    const std::int64_t cols = columns == 0 ? length : std::min<std::int64_t>(columns, length);
    const std::int64_t rows_per_clip = (length + cols - 1) / cols;
    const std::int64_t rows = clips * rows_per_clip;
    const std::int64_t out_h = rows * height + (rows - 1) * padding;
    const std::int64_t out_w = cols * width + (cols - 1) * padding;
    Tensor out = Tensor::full(Shape{channels, out_h, out_w}, pad_value, video.dtype());
    const Tensor src = vgt::detail::contiguous_data(frames);
    dispatch_floating(video.dtype(), op, [&]<class T>() {
        const T* in = src.data<T>();
        T* o = out.data<T>();
        for (std::int64_t b = 0; b < clips; ++b)
            for (std::int64_t t = 0; t < length; ++t) {
                const std::int64_t row = b * rows_per_clip + t / cols, col = t % cols;
                const std::int64_t y0 = row * (height + padding), x0 = col * (width + padding);
                for (std::int64_t c = 0; c < channels; ++c) {
                    const T* frame = in + ((b * length + t) * channels + c) * height * width;
                    for (std::int64_t y = 0; y < height; ++y)
                        std::copy(frame + y * width, frame + (y + 1) * width, o + (c * out_h + y0 + y) * out_w + x0);
                }
            }
    });
    return out;
}

/// K videos [K, T, C, H, W] played side by side: every frame t of the K
/// clips tiled into one image with ⌈√K⌉ columns, a video
/// [T, C, rows·H + gaps, columns·W + gaps] with white one-pixel gaps.
inline Tensor video_grid(const Tensor& videos) {
    VGT_CHECK(videos.defined() && videos.rank() == 5 && videos.numel() > 0, "video_grid",
              "expected videos [K, T, C, H, W], found {}", videos.defined() ? fmt::format("{}", videos.shape()) : "none");
    const std::int64_t count = videos.size(0), frames = videos.size(1);
    const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
    std::vector<Tensor> tiled;
    for (std::int64_t t = 0; t < frames; ++t) tiled.push_back(frame_grid(select(videos, 1, t), columns));
    return stack(tiled, 0);
}

/// Writes frame_grid(video, columns, padding) as a PNG (white padding):
/// one strip or grid of frames for a report. C must be 1, 3 or 4.
inline void save_frame_grid(const std::string& path, const Tensor& video, int columns = 0, int padding = 1) {
    write_png(path, frame_grid(video, columns, padding));
}

}  // namespace vgt::io
