#pragma once
// What this build of vgt is and what it can reach: the version, the
// compiler and vector instructions it was compiled for, the optional parts
// compiled in (CUDA, FFmpeg, zlib), and the GPUs the CUDA runtime finds.
// vgt is header-only, so this describes the program that includes it.

#include <algorithm>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <Eigen/Core>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vgt/core/parallel.hpp"
#include "vgt/version.hpp"

#if defined(VGT_WITH_CUDA)
#include <cuda_runtime_api.h>
#endif

namespace vgt {

struct BuildInfo {
    std::string version;   // "0.1.0"
    std::string compiler;  // "GCC 12.2.0"
    std::string vector_instructions;  // what Eigen vectorises with: "AVX2 FMA", "SSE2", "none"
    std::string eigen;     // "3.4.0"
    bool cuda = false, ffmpeg = false, zlib = false;
    int threads = 1;            // the CPU pool's threads now
    int hardware_threads = 1;   // what the machine offers
};

inline BuildInfo build_info() {
    BuildInfo b;
    b.version = std::string(kVersion);
#if defined(__clang__)
    b.compiler = fmt::format("Clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    b.compiler = fmt::format("GCC {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
    b.compiler = "unknown";
#endif
    std::vector<std::string> isa;
#if defined(EIGEN_VECTORIZE_AVX512)
    isa.emplace_back("AVX-512");
#endif
#if defined(EIGEN_VECTORIZE_AVX2)
    isa.emplace_back("AVX2");
#elif defined(EIGEN_VECTORIZE_AVX)
    isa.emplace_back("AVX");
#endif
#if defined(EIGEN_VECTORIZE_FMA)
    isa.emplace_back("FMA");
#endif
#if defined(EIGEN_VECTORIZE_NEON)
    isa.emplace_back("NEON");
#endif
#if defined(EIGEN_VECTORIZE_SSE2) && !defined(EIGEN_VECTORIZE_AVX)
    isa.emplace_back("SSE2");
#endif
    b.vector_instructions = isa.empty() ? "none" : fmt::format("{}", fmt::join(isa, " "));
    b.eigen = fmt::format("{}.{}.{}", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
#if defined(VGT_WITH_CUDA)
    b.cuda = true;
#endif
#if defined(VGT_WITH_FFMPEG)
    b.ffmpeg = true;
#endif
#if defined(VGT_WITH_ZLIB)
    b.zlib = true;
#endif
    b.threads = num_threads();
    b.hardware_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return b;
}

struct GpuInfo {
    int index = 0;
    std::string name;
    std::size_t memory_bytes = 0;
    int compute_major = 0, compute_minor = 0;
    int multiprocessors = 0;
};

/// The GPUs the CUDA runtime finds. None in a build without CUDA; `why_none`,
/// when given, is set to the reason when the list is empty.
inline std::vector<GpuInfo> gpus(std::string* why_none = nullptr) {
    std::vector<GpuInfo> out;
#if defined(VGT_WITH_CUDA)
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        (void)cudaGetLastError();
        if (why_none) *why_none = fmt::format("{}: {}", cudaGetErrorName(status), cudaGetErrorString(status));
        return out;
    }
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp p{};
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
            (void)cudaGetLastError();
            continue;
        }
        out.push_back({i, p.name, p.totalGlobalMem, p.major, p.minor, p.multiProcessorCount});
    }
    if (out.empty() && why_none) *why_none = "the CUDA runtime reports no device";
#else
    if (why_none) *why_none = "built without CUDA (configure with -DVGT_WITH_CUDA=ON)";
#endif
    return out;
}

}  // namespace vgt
