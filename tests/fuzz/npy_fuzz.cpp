// libFuzzer target: vgt::io::parse_npy on arbitrary bytes (tools/fuzz runs
// it; docs/robustness.md). A tensor or a vgt::Error is the only acceptable
// outcome: any other exception escapes to libFuzzer, which reports it, and
// ASan / UBSan report bad memory accesses and undefined behaviour.
//
// A tensor that comes back is read in full (so ASan sees a buffer shorter
// than its shape) and must survive serialize_npy -> parse_npy unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_support.hpp"

#include <vgt/io/npy.hpp>

namespace {

[[noreturn]] void finding(const char* what) { vgt::fuzz::report_finding("npy_fuzz", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    vgt::Tensor t;
    try {
        t = vgt::io::parse_npy(bytes, "fuzz");
    } catch (const vgt::Error&) {
        return 0;
    }
    if (!t.defined() || !t.is_contiguous()) finding("parse_npy returned an undefined or strided tensor");
    vgt::fuzz::sink = vgt::fuzz::sink + vgt::fuzz::byte_sum(t);

    // What was read writes back and reads again as the same tensor.
    const std::vector<std::byte> written = vgt::io::serialize_npy(t);
    const vgt::Tensor back = vgt::io::parse_npy(written, "fuzz (round trip)");
    if (back.dtype() != t.dtype() || back.shape() != t.shape() ||
        (t.nbytes() > 0 && std::memcmp(back.raw_data(), t.raw_data(), t.nbytes()) != 0))
        finding("serialize_npy -> parse_npy changed the tensor");
    return 0;
}
