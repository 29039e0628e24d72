// libFuzzer target: vgt::io::parse_idx on arbitrary bytes, plain and gzip
// (tools/fuzz runs it; docs/robustness.md). A tensor or a vgt::Error is the
// only acceptable outcome: any other exception escapes to libFuzzer, which
// reports it, and ASan / UBSan report bad memory accesses and undefined
// behaviour.
//
// The input is parsed as it is: an IDX file, or a gzip stream (1f 8b) whose
// corruption reaches zlib and vgt's GzipReader. An input that is not gzip is
// also compressed here and parsed again, so that mutated IDX headers and
// data are read through the gzip path as well; the two must agree (the same
// tensor, or both an error), and the compressed stream cut short inside its
// trailer must be an error. A tensor that comes back is read in full and must
// survive serialize_idx -> parse_idx unchanged.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include <zlib.h>

#include "fuzz_support.hpp"

#include <vgt/io/idx.hpp>

namespace {

[[noreturn]] void finding(const char* what) { vgt::fuzz::report_finding("idx_fuzz", what); }

std::vector<std::byte> gzip(std::span<const std::byte> in) {
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        finding("deflateInit2 failed");
    std::vector<std::byte> out(deflateBound(&z, static_cast<uLong>(in.size())));
    z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) finding("deflate did not finish");
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

std::optional<vgt::Tensor> parse(std::span<const std::byte> bytes, std::string_view name) {
    try {
        vgt::Tensor t = vgt::io::parse_idx(bytes, name);
        if (!t.defined() || !t.is_contiguous()) finding("parse_idx returned an undefined or strided tensor");
        vgt::fuzz::sink = vgt::fuzz::sink + vgt::fuzz::byte_sum(t);
        return t;
    } catch (const vgt::Error&) {
        return std::nullopt;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    const std::optional<vgt::Tensor> t = parse(bytes, "fuzz");

    if (!vgt::io::is_gzip(bytes)) {
        const std::vector<std::byte> compressed = gzip(bytes);
        const std::optional<vgt::Tensor> z = parse(compressed, "fuzz (gzip)");
        if (t.has_value() != z.has_value())
            finding(t ? "the gzip-compressed file was refused, the plain one read"
                      : "the gzip-compressed file was read, the plain one refused");
        if (t && !vgt::fuzz::same_values(*t, *z)) finding("the plain and the gzip-compressed file read differently");
        // Cut inside the 8-byte trailer (CRC-32, length): never a tensor.
        const std::size_t cut = 1 + size % 8;
        if (parse(std::span<const std::byte>(compressed).first(compressed.size() - cut), "fuzz (gzip, cut)"))
            finding("a gzip stream cut inside its trailer was read");
    }

    if (t) {
        // What was read writes back (in the default IDX type) and reads again as the same tensor.
        const std::vector<std::byte> written = vgt::io::serialize_idx(*t);
        const vgt::Tensor back = vgt::io::parse_idx(written, "fuzz (round trip)");
        if (!vgt::fuzz::same_values(*t, back)) finding("serialize_idx -> parse_idx changed the tensor");
    }
    return 0;
}
