#pragma once
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC 2011): a counter-based generator. Number j of a stream depends only
// on (seed, j), so any thread, batch split or device reproduces it.

#include <cmath>
#include <cstdint>

#include "vgt/core/macros.hpp"

namespace vgt {

struct PhiloxBlock {
    std::uint32_t x[4];
};

namespace philox_detail {
inline constexpr std::uint32_t kMul0 = 0xD2511F53u;
inline constexpr std::uint32_t kMul1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
inline constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;

VGT_HOST_DEVICE inline void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
    const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
    hi = static_cast<std::uint32_t>(p >> 32);
    lo = static_cast<std::uint32_t>(p);
}
}  // namespace philox_detail

/// Ten Philox rounds on a 128-bit counter under a 64-bit key.
VGT_HOST_DEVICE inline PhiloxBlock philox4x32_10(PhiloxBlock counter, std::uint32_t key0, std::uint32_t key1) {
    using namespace philox_detail;
    std::uint32_t* c = counter.x;
    for (int round = 0; round < 10; ++round) {
        std::uint32_t hi0, lo0, hi1, lo1;
        mulhilo(kMul0, c[0], hi0, lo0);
        mulhilo(kMul1, c[2], hi1, lo1);
        const std::uint32_t next[4] = {hi1 ^ c[1] ^ key0, lo1, hi0 ^ c[3] ^ key1, lo0};
        c[0] = next[0];
        c[1] = next[1];
        c[2] = next[2];
        c[3] = next[3];
        key0 += kWeyl0;
        key1 += kWeyl1;
    }
    return counter;
}

/// The block of four 32-bit words with index `block` of the stream `seed`.
VGT_HOST_DEVICE inline PhiloxBlock philox_block(std::uint64_t seed, std::uint64_t block) {
    PhiloxBlock counter{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0u, 0u}};
    return philox4x32_10(counter, static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

/// A 32-bit word mapped to (0, 1): 24 bits, centred in their bucket, so that
/// neither 0 nor 1 occurs (log(u) stays finite in Box–Muller).
VGT_HOST_DEVICE inline float philox_unit(std::uint32_t word) {
    return (static_cast<float>(word >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

/// Uniform number j of stream `seed`, in (0, 1). Word j of the stream.
VGT_HOST_DEVICE inline float philox_uniform(std::uint64_t seed, std::uint64_t j) {
    return philox_unit(philox_block(seed, j >> 2).x[j & 3]);
}

/// Standard normal number j of stream `seed`: Box–Muller on the pair of words
/// (2·(j mod 2), 2·(j mod 2)+1) of block j/2 of the normal stream. The
/// transcendental steps run in double and round once to float: CPU and CUDA
/// libraries differ in the last bits of their float log/cos (about a fifth
/// of float results differed on an H100), far less often in double ones.
VGT_HOST_DEVICE inline float philox_normal(std::uint64_t seed, std::uint64_t j) {
    const PhiloxBlock b = philox_block(seed ^ 0x5bd1e9955bd1e995ull, j >> 1);
    const int lane = static_cast<int>(j & 1) * 2;
    const double u1 = philox_unit(b.x[lane]);
    const double u2 = philox_unit(b.x[lane + 1]);
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 6.283185307179586 * u2;
    return static_cast<float>(radius * std::cos(angle));
}

}  // namespace vgt
