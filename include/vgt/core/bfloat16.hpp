#pragma once
// bfloat16 values as their 16-bit patterns, for host code that hands
// bfloat16 buffers to the GPU (vgt's tensors have no bfloat16 arithmetic
// yet; the attention launchers take bfloat16 storage directly). bfloat16 is
// the upper half of a float32: the same sign and exponent, 7 bits of
// mantissa.

#include <cstdint>
#include <cstring>

namespace vgt {

/// The bfloat16 nearest to a finite float32 (ties to even), as bits.
inline std::uint16_t bfloat16_bits(float value) {
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<std::uint16_t>(bits >> 16);
}

/// The float32 value of a bfloat16 bit pattern (exact).
inline float bfloat16_value(std::uint16_t bits) {
    const std::uint32_t wide = static_cast<std::uint32_t>(bits) << 16;
    float value = 0;
    std::memcpy(&value, &wide, sizeof value);
    return value;
}

}  // namespace vgt
