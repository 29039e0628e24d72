#pragma once
// The kernel bodies of upsample_nearest and its gradient over [P, D, H, W]
// planes, run on CPU threads (ops/resample.hpp) and as CUDA grids
// (cuda/backend.cu). Includes nothing that CUDA units cannot.

#include <cstdint>

#include "vgt/core/macros.hpp"
#include "vgt/core/volume_index.hpp"

namespace vgt::kernels {

/// Nearest-neighbour upsampling of [P, D, H, W] planes by integer factors,
/// one call per output row of W·sw elements: output (z, y, x) reads input
/// (z/sd, y/sh, x/sw), so the row is an input row with each element repeated
/// sw times. The index arithmetic is paid once per row, not per element.
template <class T>
struct UpsampleNearestRows {
    const T* in;
    T* out;
    std::int64_t d, h, w;     // input extents
    std::int64_t sd, sh, sw;  // factors
    VGT_HOST_DEVICE void operator()(std::int64_t row) const {
        const std::int64_t od = d * sd, oh = h * sh, ow = w * sw;
        const std::int64_t y = row % oh, z = (row / oh) % od, p = row / (oh * od);
        const T* src = in + ((p * d + z / sd) * h + y / sh) * w;
        T* dst = out + row * ow;
        if (sw == 1) {
            for (std::int64_t x = 0; x < w; ++x) dst[x] = src[x];
            return;
        }
        for (std::int64_t x = 0; x < w; ++x)
            for (std::int64_t c = 0; c < sw; ++c) dst[x * sw + c] = src[x];
    }
};

/// Its adjoint, one call per input element: the sum of the element's block
/// of the output gradient (a gather, so threads never write the same place).
template <class T>
struct UpsampleNearestBackward {
    const T* grad_out;
    T* grad_in;
    std::int64_t d, h, w;
    std::int64_t sd, sh, sw;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t oh = h * sh, ow = w * sw, od = d * sd;
        const auto [p, z, y, x] = unravel_volume(i, d, h, w);
        T acc = T(0);
        for (std::int64_t a = 0; a < sd; ++a)
            for (std::int64_t b = 0; b < sh; ++b) {
                const T* row = grad_out + ((p * od + z * sd + a) * oh + y * sh + b) * ow + x * sw;
                for (std::int64_t c = 0; c < sw; ++c) acc += row[c];
            }
        grad_in[i] = acc;
    }
};

}  // namespace vgt::kernels
