#include "support.hpp"

#include <cmath>

#include <vgt/core/bfloat16.hpp>

namespace vgt::test::bfloat16_test {

TEST_CASE("bfloat16 bits round float32 to nearest, ties to even, and read back exactly", "[core]") {
    CHECK(bfloat16_bits(1.0f) == 0x3f80);
    CHECK(bfloat16_bits(-2.0f) == 0xc000);
    CHECK(bfloat16_value(0x3f80) == 1.0f);
    // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: to the even mantissa, 1.
    CHECK(bfloat16_bits(1.0f + std::ldexp(1.0f, -8)) == 0x3f80);
    // 1 + 3·2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: to the even one, 1 + 2^-6.
    CHECK(bfloat16_value(bfloat16_bits(1.0f + 3 * std::ldexp(1.0f, -8))) == 1.0f + std::ldexp(1.0f, -6));
    // Just above halfway rounds up.
    CHECK(bfloat16_value(bfloat16_bits(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20))) ==
          1.0f + std::ldexp(1.0f, -7));
    // Every bfloat16 value survives the round trip.
    for (std::uint32_t bits = 0; bits < 0x7f80; bits += 37)
        CHECK(bfloat16_bits(bfloat16_value(static_cast<std::uint16_t>(bits))) == bits);
}

}  // namespace vgt::test::bfloat16_test
