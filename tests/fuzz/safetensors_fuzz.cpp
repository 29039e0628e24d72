// libFuzzer target: vgt::io::parse_safetensors on arbitrary bytes (tools/fuzz
// runs it; docs/robustness.md). A file or a vgt::Error is the only acceptable
// outcome: any other exception escapes to libFuzzer, which reports it, and
// ASan / UBSan report bad memory accesses and undefined behaviour.
//
// Every tensor of a file that comes back is looked up by name and read in
// full, and the file must survive serialize_safetensors -> parse_safetensors
// unchanged (names in order, metadata, dtypes, shapes, bytes).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_support.hpp"

#include <vgt/io/safetensors.hpp>

namespace {

[[noreturn]] void finding(const char* what) { vgt::fuzz::report_finding("safetensors_fuzz", what); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    vgt::io::SafetensorsFile file;
    try {
        file = vgt::io::parse_safetensors(bytes, "fuzz");
    } catch (const vgt::Error&) {
        return 0;
    }
    std::uint64_t sum = file.metadata.size();
    for (const auto& [name, tensor] : file.tensors) {
        if (!tensor.defined() || !tensor.is_contiguous()) finding("a tensor came back undefined or strided");
        if (&file.at(name) != &tensor) finding("SafetensorsFile::at found another tensor than the one listed");
        sum += vgt::fuzz::byte_sum(tensor);
    }
    vgt::fuzz::sink = vgt::fuzz::sink + sum;

    // What was read writes back and reads again as the same file.
    std::vector<std::byte> written;
    try {
        written = vgt::io::serialize_safetensors(file.tensors, file.metadata);
    } catch (const vgt::Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        finding("serialize_safetensors refused what parse_safetensors accepted");
    }
    const vgt::io::SafetensorsFile back = vgt::io::parse_safetensors(written, "fuzz (round trip)");
    if (back.metadata != file.metadata || back.tensors.size() != file.tensors.size())
        finding("serialize_safetensors -> parse_safetensors changed the metadata or the tensor count");
    for (std::size_t i = 0; i < file.tensors.size(); ++i)
        if (back.tensors[i].first != file.tensors[i].first ||
            !vgt::fuzz::same_bytes(back.tensors[i].second, file.tensors[i].second))
            finding("serialize_safetensors -> parse_safetensors changed a tensor");
    return 0;
}
