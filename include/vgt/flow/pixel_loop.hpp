#pragma once
// How the flow kernels run. Each kernel body is a functor over one pixel,
// body(n, y, x) with n the plane (image) index, written once with
// VGT_HOST_DEVICE: for_each_pixel runs it on the CPU pool row by row (no
// index arithmetic per pixel beyond the loop), and FlatPixels turns it into
// the flat-index form body(i), i = (n·H + y)·W + x, that a CUDA grid of one
// thread per pixel launches.

#include <algorithm>
#include <cstdint>

#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"

namespace vgt::flow {

namespace kernels {

/// A pixel body as a function of the flat pixel index.
template <class Body>
struct FlatPixels {
    Body body;
    std::int64_t h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t row = i / w;
        body(row / h, row % h, i - row * w);
    }
};

}  // namespace kernels

/// Calls body(n, y, x) for every pixel of `planes` planes of h × w, rows
/// spread over the pool's threads.
template <class Body>
void for_each_pixel(std::int64_t planes, std::int64_t h, std::int64_t w, const Body& body) {
    const std::int64_t grain = std::max<std::int64_t>(1, 8192 / std::max<std::int64_t>(w, 1));
    parallel_for_chunks(0, planes * h, grain, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t row = lo; row < hi; ++row) {
            const std::int64_t n = row / h, y = row % h;
            for (std::int64_t x = 0; x < w; ++x) body(n, y, x);
        }
    });
}

}  // namespace vgt::flow
