#pragma once
// Integers drawn from a Philox stream, one 32-bit word at a time, with no
// floating point in the way: what the data sets and the shuffling sampler use
// to make choices that must come out the same on every machine.

#include <cstdint>

#include "vgt/core/error.hpp"
#include "vgt/core/philox.hpp"
#include "vgt/core/random.hpp"

namespace vgt::data {

/// Words [generator.offset(), ...) of the Philox stream generator.seed().
class PhiloxWords {
public:
    explicit PhiloxWords(Generator generator) : gen_(generator) {}

    /// The next 32-bit word of the stream.
    std::uint32_t next() {
        const std::uint64_t j = gen_.advance(1);
        return philox_block(gen_.seed(), j >> 2).x[j & 3];
    }

    /// A uniform integer in [lo, hi] (hi - lo < 2^32), without bias:
    /// Lemire's multiply-shift, drawing again in the rare rejected case.
    std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
        VGT_CHECK(lo <= hi && static_cast<std::uint64_t>(hi - lo) < (std::uint64_t{1} << 32), "PhiloxWords::uniform",
                  "expected lo <= hi and hi - lo < 2^32, found [{}, {}]", lo, hi);
        const std::uint64_t range = static_cast<std::uint64_t>(hi - lo) + 1;
        if (range == 1) return lo;
        const auto threshold = static_cast<std::uint32_t>((std::uint64_t{1} << 32) % range);
        for (;;) {
            const std::uint64_t product = static_cast<std::uint64_t>(next()) * range;
            if (static_cast<std::uint32_t>(product) >= threshold) return lo + static_cast<std::int64_t>(product >> 32);
        }
    }

    /// A uniform number in [0, 1): word / 2^32, exact in double.
    double unit() { return static_cast<double>(next()) * (1.0 / 4294967296.0); }

    /// Words drawn so far plus the generator's starting offset.
    std::uint64_t offset() const { return gen_.offset(); }

private:
    Generator gen_;
};

}  // namespace vgt::data
