#pragma once
// The bodies of bilinear grid sampling (ops/grid_sample.hpp), free of
// anything nvcc cannot compile: the CPU runs them through parallel_for and
// the CUDA backend (cuda/backend.cu) through its own launches.

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "vgt/core/macros.hpp"

namespace vgt {

/// What a sample outside the image reads.
enum class GridPadding {
    Zeros,   // zero
    Border,  // the nearest border pixel (coordinates clamped)
};

namespace kernels {

/// a·b rounded to T on its own. Compilers may fuse a product with a later
/// addition into one FMA, and the CPU's and the GPU's compilers do not fuse
/// the same ones; a sampling position that rounds differently moves the
/// grid's gradient by more than float32's tolerance (its derivative
/// multiplies pixel differences by the grid's scale).
template <class T>
VGT_HOST_DEVICE T rounded_product(T a, T b) {
#ifdef __CUDA_ARCH__
    if constexpr (std::is_same_v<T, float>) return __fmul_rn(a, b);  // intrinsics that are never fused
    else return __dmul_rn(a, b);
#else
    volatile T product = a * b;  // a store the compiler must round, which no FMA can absorb
    return product;
#endif
}

/// A pixel-space coordinate and its derivative with respect to the
/// normalised coordinate it came from.
template <class T>
struct GridCoordinate {
    T value;
    T grad;
};

/// Maps a normalised coordinate to pixel space along an axis of `size`
/// pixels, then applies the padding's clamping.
template <class T>
VGT_HOST_DEVICE GridCoordinate<T> grid_source_coordinate(T coord, std::int64_t size, GridPadding padding,
                                                         bool align_corners) {
    GridCoordinate<T> c;
    if (align_corners) {
        c.value = rounded_product((coord + T(1)) / T(2), T(size - 1));
        c.grad = T(size - 1) / T(2);
    } else {
        c.value = (rounded_product(coord + T(1), T(size)) - T(1)) / T(2);
        c.grad = T(size) / T(2);
    }
    if (padding == GridPadding::Border) {
        // On or past a border the coordinate is constant, so its gradient is
        // 0. A NaN coordinate lands on pixel 0 rather than in an undefined cast.
        if (!(c.value > T(0))) {
            c.value = T(0);
            c.grad = T(0);
        } else if (c.value >= T(size - 1)) {
            c.value = T(size - 1);
            c.grad = T(0);
        }
    } else if (!(c.value > T(-2)) || c.value > T(size + 1)) {
        // Far outside (or NaN): every tap reads padding. Pin the coordinate so
        // that the conversion to an integer index stays defined.
        c.value = T(-2);
        c.grad = T(0);
    }
    return c;
}

/// A sampling point's four neighbours: the north-west corner (x0, y0) and
/// the fractional offsets towards the south-east one.
template <class T>
struct BilinearPoint {
    std::int64_t x0, y0;
    T fx, fy;
    T grad_x, grad_y;  // d(pixel coordinate)/d(normalised coordinate)

    VGT_HOST_DEVICE BilinearPoint(const T* xy, std::int64_t h, std::int64_t w, GridPadding padding,
                                  bool align_corners) {
        const GridCoordinate<T> cx = grid_source_coordinate(xy[0], w, padding, align_corners);
        const GridCoordinate<T> cy = grid_source_coordinate(xy[1], h, padding, align_corners);
        const T fx0 = std::floor(cx.value), fy0 = std::floor(cy.value);
        x0 = static_cast<std::int64_t>(fx0);
        y0 = static_cast<std::int64_t>(fy0);
        fx = cx.value - fx0;
        fy = cy.value - fy0;
        grad_x = cx.grad;
        grad_y = cy.grad;
    }

    /// The four neighbours (north-west, north-east, south-west, south-east)
    /// as offsets into an h×w plane, −1 for one outside it (the padding's
    /// zero), and their bilinear weights.
    VGT_HOST_DEVICE void corners(std::int64_t h, std::int64_t w, std::int64_t (&index)[4], T (&weight)[4]) const {
        const std::int64_t ys[4] = {y0, y0, y0 + 1, y0 + 1};
        const std::int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1};
        const T ws[4] = {(T(1) - fx) * (T(1) - fy), fx * (T(1) - fy), (T(1) - fx) * fy, fx * fy};
        for (int corner = 0; corner < 4; ++corner) {
            const bool inside = xs[corner] >= 0 && xs[corner] < w && ys[corner] >= 0 && ys[corner] < h;
            index[corner] = inside ? ys[corner] * w + xs[corner] : -1;
            weight[corner] = ws[corner];
        }
    }
};

/// Σ weight · plane[index] over a point's four neighbours, 0 for those outside.
template <class T>
VGT_HOST_DEVICE T bilinear_sum(const T* plane, const std::int64_t (&index)[4], const T (&weight)[4]) {
    T sum = T(0);
    for (int corner = 0; corner < 4; ++corner)
        sum += weight[corner] * (index[corner] >= 0 ? plane[index[corner]] : T(0));
    return sum;
}

/// Reads plane[y, x], or 0 outside the h×w plane.
template <class T>
VGT_HOST_DEVICE T pixel_or_zero(const T* plane, std::int64_t y, std::int64_t x, std::int64_t h, std::int64_t w) {
    return (x >= 0 && x < w && y >= 0 && y < h) ? plane[y * w + x] : T(0);
}

/// Adds one channel's share of a point's grid gradient, before the
/// coordinate's scale: go times the derivatives of the bilinear sum at
/// (x0 + fx, y0 + fy) along x and y.
template <class T>
VGT_HOST_DEVICE void add_grid_gradient(const T* plane, std::int64_t y0, std::int64_t x0, T fx, T fy, std::int64_t h,
                                       std::int64_t w, T go, T& gx, T& gy) {
    const T nw = pixel_or_zero(plane, y0, x0, h, w);
    const T ne = pixel_or_zero(plane, y0, x0 + 1, h, w);
    const T sw = pixel_or_zero(plane, y0 + 1, x0, h, w);
    const T se = pixel_or_zero(plane, y0 + 1, x0 + 1, h, w);
    gx += go * ((ne - nw) * (T(1) - fy) + (se - sw) * fy);
    gy += go * ((sw - nw) * (T(1) - fx) + (se - ne) * fx);
}

/// Adds weight · v to a point's four neighbours in the plane (those inside
/// it): the transpose of bilinear_sum.
template <class T>
VGT_HOST_DEVICE void scatter_bilinear(T* plane, const std::int64_t (&index)[4], const T (&weight)[4], T v) {
    for (int corner = 0; corner < 4; ++corner)
        if (index[corner] >= 0) plane[index[corner]] += weight[corner] * v;
}

/// Geometry shared by the forward and backward bodies.
struct GridSampleGeometry {
    std::int64_t c, h, w;  // input channels and extent
    std::int64_t ho, wo;   // grid extent
    GridPadding padding;
    bool align_corners;
};

/// Forward, one call per tile of up to kGridTile consecutive sampling points
/// of one image: the points' corners and weights are found once, then each
/// channel is sampled for the whole tile. Channel by channel, the reads stay
/// in one plane and the writes are a contiguous run, where a point-by-point
/// loop over channels jumps a whole plane between consecutive accesses.
inline constexpr std::int64_t kGridTile = 64;

template <class T>
struct GridSampleForwardTiles {
    const T* in;    // [N, C, H, W]
    const T* grid;  // [N, Ho, Wo, 2]
    T* out;         // [N, C, Ho, Wo]
    GridSampleGeometry g;
    VGT_HOST_DEVICE void operator()(std::int64_t tile) const {
        const std::int64_t points = g.ho * g.wo, tiles_per_image = (points + kGridTile - 1) / kGridTile;
        const std::int64_t n = tile / tiles_per_image, q0 = (tile % tiles_per_image) * kGridTile;
        const std::int64_t count = points - q0 < kGridTile ? points - q0 : kGridTile;
        std::int64_t index[kGridTile][4];
        T weight[kGridTile][4];
        for (std::int64_t k = 0; k < count; ++k) {
            const BilinearPoint<T> pt(grid + 2 * (n * points + q0 + k), g.h, g.w, g.padding, g.align_corners);
            pt.corners(g.h, g.w, index[k], weight[k]);
        }
        for (std::int64_t c = 0; c < g.c; ++c) {
            const T* plane = in + (n * g.c + c) * g.h * g.w;
            T* row = out + (n * g.c + c) * points + q0;
            for (std::int64_t k = 0; k < count; ++k) row[k] = bilinear_sum(plane, index[k], weight[k]);
        }
    }
};

/// Forward, one call per sampling point, every channel: the GPU's shape of
/// the work, where consecutive threads take consecutive points so that each
/// channel's writes, and mostly its reads, fall together across a warp.
template <class T>
struct GridSampleForwardPoint {
    const T* in;    // [N, C, H, W]
    const T* grid;  // [N, Ho, Wo, 2]
    T* out;         // [N, C, Ho, Wo]
    GridSampleGeometry g;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t points = g.ho * g.wo;
        const std::int64_t n = i / points, q = i % points;
        std::int64_t index[4];
        T weight[4];
        BilinearPoint<T>(grid + 2 * i, g.h, g.w, g.padding, g.align_corners).corners(g.h, g.w, index, weight);
        for (std::int64_t c = 0; c < g.c; ++c)
            out[(n * g.c + c) * points + q] = bilinear_sum(in + (n * g.c + c) * g.h * g.w, index, weight);
    }
};

/// Gradient with respect to the grid, one call per sampling point: the
/// derivative of the bilinear weights, summed over channels.
template <class T>
struct GridSampleBackwardGrid {
    const T* in;
    const T* grid;
    const T* grad_out;  // [N, C, Ho, Wo]
    T* grad_grid;       // [N, Ho, Wo, 2]
    GridSampleGeometry g;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t points = g.ho * g.wo;
        const std::int64_t n = i / points, q = i % points;
        const BilinearPoint<T> pt(grid + 2 * i, g.h, g.w, g.padding, g.align_corners);
        T gx = T(0), gy = T(0);
        for (std::int64_t c = 0; c < g.c; ++c)
            add_grid_gradient(in + (n * g.c + c) * g.h * g.w, pt.y0, pt.x0, pt.fx, pt.fy, g.h, g.w,
                              grad_out[(n * g.c + c) * points + q], gx, gy);
        grad_grid[2 * i] = gx * pt.grad_x;
        grad_grid[2 * i + 1] = gy * pt.grad_y;
    }
};

/// Gradient with respect to the grid, one call per tile of up to kGridTile
/// points of one image (the CPU's shape of GridSampleBackwardGrid, with the
/// same sums in the same order): channel by channel, so that each channel's
/// reads stay in one plane and one run of the output gradient.
template <class T>
struct GridSampleBackwardGridTiles {
    const T* in;
    const T* grid;
    const T* grad_out;  // [N, C, Ho, Wo]
    T* grad_grid;       // [N, Ho, Wo, 2]
    GridSampleGeometry g;
    void operator()(std::int64_t tile) const {
        const std::int64_t points = g.ho * g.wo, tiles_per_image = (points + kGridTile - 1) / kGridTile;
        const std::int64_t n = tile / tiles_per_image, q0 = (tile % tiles_per_image) * kGridTile;
        const std::int64_t count = points - q0 < kGridTile ? points - q0 : kGridTile;
        std::int64_t x0[kGridTile], y0[kGridTile];
        T fx[kGridTile], fy[kGridTile], scale_x[kGridTile], scale_y[kGridTile];
        T gx[kGridTile] = {}, gy[kGridTile] = {};
        for (std::int64_t k = 0; k < count; ++k) {
            const BilinearPoint<T> pt(grid + 2 * (n * points + q0 + k), g.h, g.w, g.padding, g.align_corners);
            x0[k] = pt.x0;
            y0[k] = pt.y0;
            fx[k] = pt.fx;
            fy[k] = pt.fy;
            scale_x[k] = pt.grad_x;
            scale_y[k] = pt.grad_y;
        }
        for (std::int64_t c = 0; c < g.c; ++c) {
            const T* plane = in + (n * g.c + c) * g.h * g.w;
            const T* go = grad_out + (n * g.c + c) * points + q0;
            for (std::int64_t k = 0; k < count; ++k)
                add_grid_gradient(plane, y0[k], x0[k], fx[k], fy[k], g.h, g.w, go[k], gx[k], gy[k]);
        }
        T* out = grad_grid + 2 * (n * points + q0);
        for (std::int64_t k = 0; k < count; ++k) {
            out[2 * k] = gx[k] * scale_x[k];
            out[2 * k + 1] = gy[k] * scale_y[k];
        }
    }
};

/// A sampling point's four neighbours (offsets into its plane, −1 outside)
/// and their bilinear weights.
template <class T>
struct GridCorners {
    std::int64_t index[4];
    T weight[4];
};

/// The corners of every sampling point, one call per point: found once for
/// all channels of the CPU's input gradient.
template <class T>
struct GridSampleCorners {
    const T* grid;  // [N, Ho, Wo, 2]
    GridCorners<T>* corners;
    GridSampleGeometry g;
    void operator()(std::int64_t i) const {
        BilinearPoint<T>(grid + 2 * i, g.h, g.w, g.padding, g.align_corners)
            .corners(g.h, g.w, corners[i].index, corners[i].weight);
    }
};

/// Gradient with respect to the input from the corners of every point (the
/// CPU's shape of GridSampleBackwardInput, with the same sums in the same
/// order), one call per plane (n, c).
template <class T>
struct GridSampleBackwardInputFromCorners {
    const GridCorners<T>* corners;  // [N, Ho·Wo]
    const T* grad_out;
    T* grad_in;  // [N, C, H, W]
    GridSampleGeometry g;
    void operator()(std::int64_t plane_index) const {
        const std::int64_t points = g.ho * g.wo;
        const GridCorners<T>* image = corners + (plane_index / g.c) * points;
        T* plane = grad_in + plane_index * g.h * g.w;
        for (std::int64_t k = 0; k < g.h * g.w; ++k) plane[k] = T(0);
        const T* go = grad_out + plane_index * points;
        for (std::int64_t q = 0; q < points; ++q) scatter_bilinear(plane, image[q].index, image[q].weight, go[q]);
    }
};

/// Gradient with respect to the input, one call per plane (n, c): scatters
/// every point's output gradient onto its four neighbours. Planes are
/// independent, so threads never write the same place.
template <class T>
struct GridSampleBackwardInput {
    const T* grid;
    const T* grad_out;
    T* grad_in;  // [N, C, H, W]
    GridSampleGeometry g;
    VGT_HOST_DEVICE void operator()(std::int64_t plane_index) const {
        const std::int64_t points = g.ho * g.wo;
        const std::int64_t n = plane_index / g.c;
        T* plane = grad_in + plane_index * g.h * g.w;
        for (std::int64_t k = 0; k < g.h * g.w; ++k) plane[k] = T(0);
        const T* go = grad_out + plane_index * points;
        for (std::int64_t q = 0; q < points; ++q) {
            std::int64_t index[4];
            T weight[4];
            BilinearPoint<T>(grid + 2 * (n * points + q), g.h, g.w, g.padding, g.align_corners)
                .corners(g.h, g.w, index, weight);
            scatter_bilinear(plane, index, weight, go[q]);
        }
    }
};

}  // namespace kernels

}  // namespace vgt
