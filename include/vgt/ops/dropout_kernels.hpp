#pragma once
// The kernel bodies of dropout and its gradient (ops/dropout.hpp), run on
// CPU threads and as CUDA grids (cuda/backend.cu). Includes nothing that
// CUDA units cannot.

#include <cstdint>

#include "vgt/core/macros.hpp"
#include "vgt/core/philox.hpp"

namespace vgt::kernels {

/// Whether element i survives: its uniform number is at least p.
struct DropoutKeep {
    std::uint64_t seed;
    std::uint64_t first;
    double p;
    VGT_HOST_DEVICE bool operator()(std::int64_t i) const {
        return static_cast<double>(philox_uniform(seed, first + static_cast<std::uint64_t>(i))) >= p;
    }
};

/// One call per element: the kept mask (1 or 0) and the scaled or zeroed value.
template <class T>
struct DropoutForward {
    const T* x;
    T* out;
    std::uint8_t* mask;
    DropoutKeep keep;
    T scale;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const bool kept = keep(i);
        mask[i] = kept ? 1 : 0;
        out[i] = kept ? x[i] * scale : T(0);
    }
};

/// One call per element: the gradient through the stored mask and scale.
template <class T>
struct DropoutBackward {
    const T* grad_out;
    const std::uint8_t* mask;
    T* grad_in;
    T scale;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const { grad_in[i] = mask[i] ? grad_out[i] * scale : T(0); }
};

}  // namespace vgt::kernels
