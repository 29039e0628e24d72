#pragma once
// Splitting a flat row-major index of a [P, D, H, W] volume into its
// coordinates: what every one-call-per-element kernel body does first.
// Includes nothing that CUDA units cannot.

#include <cstdint>

#include "vgt/core/macros.hpp"

namespace vgt {

struct VolumeIndex {
    std::int64_t p, z, y, x;  // plane, depth, row, column
};

VGT_HOST_DEVICE inline VolumeIndex unravel_volume(std::int64_t i, std::int64_t d, std::int64_t h, std::int64_t w) {
    VolumeIndex v;
    v.x = i % w;
    i /= w;
    v.y = i % h;
    i /= h;
    v.z = i % d;
    v.p = i / d;
    return v;
}

}  // namespace vgt
