#pragma once
// The order in which an epoch visits a data set: a permutation drawn from
// (seed, epoch) alone, so a run that resumes at epoch e, or runs on another
// machine, sees the same order.

#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/data/philox_words.hpp"

namespace vgt::data {

class ShuffleSampler {
public:
    /// `size` items (1 <= size < 2^31); `shuffle` false visits them in order.
    ShuffleSampler(std::int64_t size, std::uint64_t seed, bool shuffle = true)
        : size_(size), seed_(seed), shuffle_(shuffle) {
        VGT_CHECK(size >= 1 && size < (std::int64_t{1} << 31), "ShuffleSampler",
                  "expected a data set size in [1, 2^31), found {}", size);
    }

    std::int64_t size() const { return size_; }

    /// The indices of epoch `epoch` (0 <= epoch < 2^32): a Fisher–Yates
    /// shuffle driven by words [epoch·2^32, ...) of a stream keyed by the seed.
    std::vector<std::int64_t> order(std::int64_t epoch) const {
        VGT_CHECK(epoch >= 0 && epoch < (std::int64_t{1} << 32), "ShuffleSampler::order",
                  "expected an epoch in [0, 2^32), found {}", epoch);
        std::vector<std::int64_t> indices(static_cast<std::size_t>(size_));
        std::iota(indices.begin(), indices.end(), std::int64_t{0});
        if (!shuffle_) return indices;
        PhiloxWords words(Generator(seed_ ^ kSamplerStreamKey, static_cast<std::uint64_t>(epoch) << 32));
        for (std::int64_t i = size_ - 1; i > 0; --i)
            std::swap(indices[static_cast<std::size_t>(i)], indices[static_cast<std::size_t>(words.uniform(0, i))]);
        return indices;
    }

private:
    // Keeps the sampler's stream apart from a data set's stream of the same seed.
    static constexpr std::uint64_t kSamplerStreamKey = 0x73616d706c657273ull;

    std::int64_t size_;
    std::uint64_t seed_;
    bool shuffle_;
};

}  // namespace vgt::data
