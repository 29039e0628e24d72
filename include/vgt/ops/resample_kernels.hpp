#pragma once
// The kernel bodies of upsample_nearest over [P, D, H, W] planes and of
// upsample_bilinear over [P, H, W] planes, with their gradients, run on CPU
// threads (ops/resample.hpp) and as CUDA grids (cuda/backend.cu). Includes
// nothing that CUDA units cannot.

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

/// Output index `dst` of a linearly resized axis reads inputs i0 and i1 with
/// weights w0 and w1 (i1 == i0 at the last input).
template <class T>
struct LinearTap {
    std::int64_t i0, i1;
    T w0, w1;
};

/// PyTorch's source index of a linear resize: align_corners maps the corner
/// pixels' centres onto each other, otherwise the pixel edges (and sources
/// left of the first centre clamp to it).
template <class T>
VGT_HOST_DEVICE LinearTap<T> linear_tap(std::int64_t dst, std::int64_t in_size, std::int64_t out_size,
                                        bool align_corners) {
    T src;
    if (align_corners) {
        const T scale = out_size > 1 ? T(in_size - 1) / T(out_size - 1) : T(0);
        src = scale * T(dst);
    } else {
        const T scale = T(in_size) / T(out_size);
        src = scale * (T(dst) + T(0.5)) - T(0.5);
        if (src < T(0)) src = T(0);
    }
    LinearTap<T> tap;
    tap.i0 = static_cast<std::int64_t>(src);
    if (tap.i0 > in_size - 1) tap.i0 = in_size - 1;
    tap.i1 = tap.i0 + (tap.i0 < in_size - 1 ? 1 : 0);
    tap.w1 = src - T(tap.i0);
    tap.w0 = T(1) - tap.w1;
    return tap;
}

/// Bilinear resize of [P, H, W] planes, one call per output element.
template <class T>
struct UpsampleBilinear {
    const T* in;
    T* out;
    const LinearTap<T>* rows;  // one per output row
    const LinearTap<T>* cols;  // one per output column
    std::int64_t h, w, oh, ow;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t x = i % ow;
        const std::int64_t y = (i / ow) % oh;
        const std::int64_t p = i / (ow * oh);
        const T* plane = in + p * h * w;
        const LinearTap<T> r = rows[y], c = cols[x];
        out[i] = r.w0 * (c.w0 * plane[r.i0 * w + c.i0] + c.w1 * plane[r.i0 * w + c.i1]) +
                 r.w1 * (c.w0 * plane[r.i1 * w + c.i0] + c.w1 * plane[r.i1 * w + c.i1]);
    }
};

/// Its adjoint, one call per input row (plane p, row yi) of the P·H rows:
/// gathers the output rows whose vertical taps read row yi and adds each of
/// their gradients onto the row's two horizontal taps. A call writes only its
/// own row, so calls never collide and every sum has one fixed order.
template <class T>
struct UpsampleBilinearBackwardRows {
    const T* grad_out;
    T* grad_in;
    const LinearTap<T>* rows;
    const LinearTap<T>* cols;
    std::int64_t h, w, oh, ow;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t p = i / h, yi = i % h;
        T* row = grad_in + i * w;
        for (std::int64_t k = 0; k < w; ++k) row[k] = T(0);
        const T* g = grad_out + p * oh * ow;
        for (std::int64_t y = 0; y < oh; ++y) {
            const LinearTap<T> r = rows[y];
            if (r.i0 != yi && r.i1 != yi) continue;
            const T wy = (r.i0 == yi ? r.w0 : T(0)) + (r.i1 == yi ? r.w1 : T(0));
            for (std::int64_t x = 0; x < ow; ++x) {
                const LinearTap<T> c = cols[x];
                const T v = wy * g[y * ow + x];
                row[c.i0] += c.w0 * v;
                row[c.i1] += c.w1 * v;
            }
        }
    }
};

}  // namespace vgt::kernels
