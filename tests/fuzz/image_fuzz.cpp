// libFuzzer target: vgt::io::decode_image (PNG and JPEG through vgt's checks
// and stb) on arbitrary bytes (tools/fuzz runs it; docs/robustness.md). An
// image or a vgt::Error is the only acceptable outcome: any other exception
// escapes to libFuzzer, which reports it, and ASan / UBSan report bad memory
// accesses and undefined behaviour, inside stb too (it is compiled into this
// translation unit).
//
// Two concessions to speed, neither hiding a failure mode:
// - PNG chunks get their CRCs recomputed before decoding, so that mutations
//   reach stb's decoder instead of stopping at vgt's CRC check (which the
//   unit tests cover);
// - pictures of more than 2^16 pixels (256 x 256) are skipped: legitimate
//   (decode_image allows 2^28) but slow under ASan, where they would take
//   most of the time and, past a few million pixels, count as timeouts; they
//   run the same code as smaller ones. Those over decode_image's limit are
//   not skipped: it refuses them itself, before decoding.
// The channel count asked for cycles with the input's size (as stored, 1, 3, 4).
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_support.hpp"

#include <vgt/io/image.hpp>

namespace {

volatile float sink = 0;  // keeps the reads of the decoded values

[[noreturn]] void finding(const char* what) { vgt::fuzz::report_finding("image_fuzz", what); }

bool is_png(std::span<const std::byte> b) {
    return b.size() >= 8 && std::memcmp(b.data(), vgt::io::detail::kPngSignature.data(), 8) == 0;
}

bool is_jpeg(std::span<const std::byte> b) {
    return b.size() >= 3 && b[0] == std::byte{0xff} && b[1] == std::byte{0xd8} && b[2] == std::byte{0xff};
}

// Rewrites each complete chunk's CRC to match its type and data.
void fix_png_crcs(std::vector<std::byte>& b) {
    std::size_t at = vgt::io::detail::kPngSignature.size();
    while (b.size() - at >= 12) {
        const std::uint32_t length = vgt::io::detail::read_be32(b, at);
        if (length > b.size() - at - 12) return;
        const std::uint32_t crc =
            vgt::io::detail::crc32_update(0xffffffffu, b.data() + at + 4, length + 4) ^ 0xffffffffu;
        for (std::size_t i = 0; i < 4; ++i) b[at + 8 + length + i] = static_cast<std::byte>(crc >> (24 - 8 * i));
        at += 12 + length;
    }
}

// True when vgt's structural checks pass and stb reports a picture of more
// than 2^16 pixels but within decode_image's limit. stb reads the header only
// once the checks have passed, as in decode_image (stb must not see what
// they refuse).
bool too_large_to_decode_quickly(std::span<const std::byte> b) {
    try {
        if (is_png(b)) vgt::io::detail::check_png_chunks(b, "fuzz", "fuzz");
        else vgt::io::detail::check_jpeg_segments(b, "fuzz", "fuzz");
    } catch (const vgt::Error&) {
        return false;  // decode_image refuses it as quickly
    }
    int w = 0, h = 0, c = 0;
    if (!vgt::io::detail::stb::stbi_info_from_memory(reinterpret_cast<const unsigned char*>(b.data()),
                                                     static_cast<int>(b.size()), &w, &h, &c))
        return false;
    const std::int64_t pixels = std::int64_t{w} * h;
    return pixels > (std::int64_t{1} << 16) && pixels <= vgt::io::detail::kMaxImagePixels;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto* first = reinterpret_cast<const std::byte*>(data);
    std::vector<std::byte> bytes(first, first + size);
    if (is_png(bytes)) fix_png_crcs(bytes);
    const std::span<const std::byte> view(bytes.data(), bytes.size());
    if ((is_png(view) || is_jpeg(view)) && too_large_to_decode_quickly(view)) return 0;

    static constexpr std::array<int, 4> kChannels = {0, 1, 3, 4};
    const int channels = kChannels[size % kChannels.size()];
    vgt::Tensor image;
    try {
        image = vgt::io::decode_image(view, "fuzz", channels);
    } catch (const vgt::Error&) {
        return 0;
    }
    const std::int64_t c = image.rank() == 3 ? image.size(0) : 0;
    if (image.dtype() != vgt::DType::Float32 || !image.is_contiguous() || !(c == 1 || c == 3 || c == 4) ||
        (channels != 0 && c != channels) || image.size(1) <= 0 || image.size(2) <= 0)
        finding("decode_image returned a tensor that is not a float32 [C, H, W] image with C = 1, 3 or 4 as asked");
    const float* p = image.data<float>();
    float sum = 0;
    for (std::int64_t i = 0; i < image.numel(); ++i) {
        if (!(p[i] >= 0.0f && p[i] <= 1.0f)) finding("decode_image returned a value outside [0, 1]");
        sum += p[i];
    }
    sink = sink + sum;
    return 0;
}
