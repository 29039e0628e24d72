#pragma once
// The kernel bodies of avg_pool and its gradient over [P, D, H, W] planes
// (ops/pool.hpp), run on CPU threads and as CUDA grids (cuda/backend.cu).
// Includes nothing that CUDA units cannot.

#include <cstdint>

#include "vgt/core/macros.hpp"
#include "vgt/core/volume_index.hpp"

namespace vgt::kernels {

/// Extents of an average pool over [P, D, H, W] planes (missing spatial
/// dimensions have extent, kernel and stride 1).
struct AvgPoolGeometry {
    std::int64_t d, h, w;        // input
    std::int64_t od, oh, ow;     // output
    std::int64_t kd, kh, kw;     // kernel
    std::int64_t sd, sh, sw;     // stride
};

/// One call per output element: the mean of its window.
template <class T>
struct AvgPool {
    const T* in;
    T* out;
    AvgPoolGeometry g;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const auto [p, z, y, x] = unravel_volume(i, g.od, g.oh, g.ow);
        T acc = T(0);
        for (std::int64_t a = 0; a < g.kd; ++a)
            for (std::int64_t b = 0; b < g.kh; ++b) {
                const T* row = in + ((p * g.d + z * g.sd + a) * g.h + y * g.sh + b) * g.w + x * g.sw;
                for (std::int64_t c = 0; c < g.kw; ++c) acc += row[c];
            }
        out[i] = acc / T(g.kd * g.kh * g.kw);
    }
};

/// The output indices o whose window [o·s, o·s + k) holds input index i.
struct PoolWindowRange {
    std::int64_t first, last;  // inclusive; empty when first > last
    VGT_HOST_DEVICE PoolWindowRange(std::int64_t i, std::int64_t k, std::int64_t s, std::int64_t out) {
        first = i < k ? 0 : (i - k) / s + 1;
        last = i / s;
        if (last > out - 1) last = out - 1;
    }
};

/// The adjoint, one call per input element: gathers the output gradients
/// of every window that holds it (no two threads write the same place).
template <class T>
struct AvgPoolBackward {
    const T* grad_out;
    T* grad_in;
    AvgPoolGeometry g;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const auto [p, z, y, x] = unravel_volume(i, g.d, g.h, g.w);
        const PoolWindowRange rz(z, g.kd, g.sd, g.od), ry(y, g.kh, g.sh, g.oh), rx(x, g.kw, g.sw, g.ow);
        T acc = T(0);
        for (std::int64_t a = rz.first; a <= rz.last; ++a)
            for (std::int64_t b = ry.first; b <= ry.last; ++b) {
                const T* row = grad_out + ((p * g.od + a) * g.oh + b) * g.ow;
                for (std::int64_t c = rx.first; c <= rx.last; ++c) acc += row[c];
            }
        grad_in[i] = acc / T(g.kd * g.kh * g.kw);
    }
};

}  // namespace vgt::kernels
