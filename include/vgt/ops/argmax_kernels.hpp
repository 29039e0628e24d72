#pragma once
// The kernel bodies of argmax and max along the rows of a contiguous
// [rows, inner] matrix, and of max's gradient (ops/reduce.hpp), run on CPU
// threads and as CUDA grids (cuda/backend.cu). Includes nothing that CUDA
// units cannot.

#include <cstdint>

#include "vgt/core/macros.hpp"

namespace vgt::kernels {

/// One call per row: the index of the row's largest element (the first one
/// on ties; a NaN never replaces the current best), and its value where
/// `value` is given.
template <class T>
struct ArgmaxRows {
    const T* in;
    std::int64_t* index;
    T* value;  // null: indices only
    std::int64_t inner;
    VGT_HOST_DEVICE void operator()(std::int64_t r) const {
        const T* p = in + r * inner;
        std::int64_t best = 0;
        for (std::int64_t i = 1; i < inner; ++i)
            if (p[i] > p[best]) best = i;
        index[r] = best;
        if (value) value[r] = p[best];
    }
};

/// The gradient of max along the middle dimension of [before, extent,
/// after]: one call per output r = b·after + a, which writes its gradient at
/// the row's maximum in a zeroed grad_in. Calls write distinct elements.
template <class T>
struct ScatterToArgmax {
    const T* grad_out;
    const std::int64_t* index;
    T* grad_in;
    std::int64_t extent, after;
    VGT_HOST_DEVICE void operator()(std::int64_t r) const {
        const std::int64_t b = r / after, a = r % after;
        grad_in[(b * extent + index[r]) * after + a] = grad_out[r];
    }
};

}  // namespace vgt::kernels
