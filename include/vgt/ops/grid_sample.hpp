#pragma once
// Bilinear sampling of images at arbitrary points, and warping by a dense
// optical-flow field built on it.
//
//   grid_sample(x [N, C, H, W], grid [N, Ho, Wo, 2]) -> [N, C, Ho, Wo]
//
// grid holds (x, y) coordinates normalised to [-1, 1] across the image, as
// PyTorch's F.grid_sample(mode='bilinear'): with align_corners, ±1 are the
// centres of the corner pixels; without, the outer edges of the corner
// pixels. Points outside read zeros (GridPadding::Zeros) or have their
// coordinates clamped to the image (GridPadding::Border; the gradient with
// respect to a clamped coordinate is zero). Gradients flow to x and grid.

#include <cmath>
#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// What a sample outside the image reads.
enum class GridPadding {
    Zeros,   // zero
    Border,  // the nearest border pixel (coordinates clamped)
};

struct GridSampleOptions {
    GridPadding padding = GridPadding::Zeros;
    bool align_corners = false;
};

namespace kernels {

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
        c.value = (coord + T(1)) / T(2) * T(size - 1);
        c.grad = T(size - 1) / T(2);
    } else {
        c.value = ((coord + T(1)) * T(size) - T(1)) / T(2);
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
};

/// Reads plane[y, x], or 0 outside the h×w plane.
template <class T>
VGT_HOST_DEVICE T pixel_or_zero(const T* plane, std::int64_t y, std::int64_t x, std::int64_t h, std::int64_t w) {
    return (x >= 0 && x < w && y >= 0 && y < h) ? plane[y * w + x] : T(0);
}

/// Adds v to plane[y, x] when inside the h×w plane.
template <class T>
VGT_HOST_DEVICE void add_if_inside(T* plane, std::int64_t y, std::int64_t x, std::int64_t h, std::int64_t w, T v) {
    if (x >= 0 && x < w && y >= 0 && y < h) plane[y * w + x] += v;
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
            const std::int64_t ys[4] = {pt.y0, pt.y0, pt.y0 + 1, pt.y0 + 1};
            const std::int64_t xs[4] = {pt.x0, pt.x0 + 1, pt.x0, pt.x0 + 1};
            const T ws[4] = {(T(1) - pt.fx) * (T(1) - pt.fy), pt.fx * (T(1) - pt.fy), (T(1) - pt.fx) * pt.fy,
                             pt.fx * pt.fy};
            for (int corner = 0; corner < 4; ++corner) {
                const bool inside = xs[corner] >= 0 && xs[corner] < g.w && ys[corner] >= 0 && ys[corner] < g.h;
                index[k][corner] = inside ? ys[corner] * g.w + xs[corner] : -1;  // −1: the padding's zero
                weight[k][corner] = ws[corner];
            }
        }
        for (std::int64_t c = 0; c < g.c; ++c) {
            const T* plane = in + (n * g.c + c) * g.h * g.w;
            T* row = out + (n * g.c + c) * points + q0;
            for (std::int64_t k = 0; k < count; ++k) {
                T sum = T(0);
                for (int corner = 0; corner < 4; ++corner)
                    sum += weight[k][corner] * (index[k][corner] >= 0 ? plane[index[k][corner]] : T(0));
                row[k] = sum;
            }
        }
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
        for (std::int64_t c = 0; c < g.c; ++c) {
            const T* plane = in + (n * g.c + c) * g.h * g.w;
            const T go = grad_out[(n * g.c + c) * points + q];
            const T nw = pixel_or_zero(plane, pt.y0, pt.x0, g.h, g.w);
            const T ne = pixel_or_zero(plane, pt.y0, pt.x0 + 1, g.h, g.w);
            const T sw = pixel_or_zero(plane, pt.y0 + 1, pt.x0, g.h, g.w);
            const T se = pixel_or_zero(plane, pt.y0 + 1, pt.x0 + 1, g.h, g.w);
            gx += go * ((ne - nw) * (T(1) - pt.fy) + (se - sw) * pt.fy);
            gy += go * ((sw - nw) * (T(1) - pt.fx) + (se - ne) * pt.fx);
        }
        grad_grid[2 * i] = gx * pt.grad_x;
        grad_grid[2 * i + 1] = gy * pt.grad_y;
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
            const BilinearPoint<T> pt(grid + 2 * (n * points + q), g.h, g.w, g.padding, g.align_corners);
            const T v = go[q];
            add_if_inside(plane, pt.y0, pt.x0, g.h, g.w, (T(1) - pt.fx) * (T(1) - pt.fy) * v);
            add_if_inside(plane, pt.y0, pt.x0 + 1, g.h, g.w, pt.fx * (T(1) - pt.fy) * v);
            add_if_inside(plane, pt.y0 + 1, pt.x0, g.h, g.w, (T(1) - pt.fx) * pt.fy * v);
            add_if_inside(plane, pt.y0 + 1, pt.x0 + 1, g.h, g.w, pt.fx * pt.fy * v);
        }
    }
};

}  // namespace kernels

/// Samples x [N, C, H, W] bilinearly at grid [N, Ho, Wo, 2] (normalised
/// (x, y) in [-1, 1]); returns [N, C, Ho, Wo].
inline Tensor grid_sample(const Tensor& x, const Tensor& grid, const GridSampleOptions& options = {}) {
    VGT_CHECK(x.rank() == 4, "grid_sample", "expected an input of shape [N, C, H, W], found {}", x.shape());
    VGT_CHECK(grid.rank() == 4 && grid.size(3) == 2, "grid_sample",
              "expected a grid of shape [N, Ho, Wo, 2], found {} (input {})", grid.shape(), x.shape());
    VGT_CHECK(grid.size(0) == x.size(0), "grid_sample", "expected grid and input of one batch size, found {} and {}",
              grid.shape(), x.shape());
    VGT_CHECK(x.size(2) > 0 && x.size(3) > 0, "grid_sample", "expected a non-empty image, found input of shape {}",
              x.shape());
    VGT_CHECK(x.dtype() == grid.dtype(), "grid_sample", "expected input and grid of one dtype, found {} and {}",
              dtype_name(x.dtype()), dtype_name(grid.dtype()));

    const std::int64_t n = x.size(0);
    const kernels::GridSampleGeometry geometry{x.size(1),       x.size(2),        x.size(3),
                                               grid.size(1),    grid.size(2),     options.padding,
                                               options.align_corners};
    const Tensor in = detail::contiguous_data(x);
    const Tensor points = detail::contiguous_data(grid);
    Tensor out = Tensor::empty(Shape{n, geometry.c, geometry.ho, geometry.wo}, x.dtype(), x.device());
    dispatch_floating(x, "grid_sample", [&]<class T>() {
        const kernels::GridSampleForwardTiles<T> body{in.data<T>(), points.data<T>(), out.data<T>(), geometry};
        const std::int64_t tiles = (geometry.ho * geometry.wo + kernels::kGridTile - 1) / kernels::kGridTile;
        parallel_for(n * tiles, body, 4);
    });

    if (!autograd::any_requires_grad({x, grid})) return out;
    const bool need_x = x.requires_grad(), need_grid = grid.requires_grad();
    // The input's values are needed only for the grid's gradient.
    const Tensor x_saved = need_grid ? detach(in) : Tensor{};
    const Tensor grid_saved = detach(points);
    const Shape x_shape = x.shape();
    return autograd::record(out, "grid_sample", {x, grid}, [=](const Tensor& g) {
        const Tensor go = detail::contiguous_data(g);
        Tensor grad_x, grad_grid;
        dispatch_floating(go, "grid_sample", [&]<class T>() {
            if (need_x) {
                grad_x = Tensor::empty(x_shape, go.dtype(), go.device());
                const kernels::GridSampleBackwardInput<T> body{grid_saved.data<T>(), go.data<T>(), grad_x.data<T>(),
                                                               geometry};
                parallel_for(n * geometry.c, body, 1);
            }
            if (need_grid) {
                grad_grid = Tensor::empty(grid_saved.shape(), go.dtype(), go.device());
                const kernels::GridSampleBackwardGrid<T> body{x_saved.data<T>(), grid_saved.data<T>(), go.data<T>(),
                                                              grad_grid.data<T>(), geometry};
                parallel_for(n * geometry.ho * geometry.wo, body, 256);
            }
        });
        return std::vector<Tensor>{grad_x, grad_grid};
    });
}

/// Warps frames x [N, C, H, W] by a dense flow field flow [N, 2, H, W] in
/// pixels (channel 0: dx, channel 1: dy): output(p) = x(p + flow(p)),
/// sampled bilinearly. Built on grid_sample with align_corners, where an
/// offset of one pixel maps exactly; gradients flow to x and flow. An axis
/// of extent 1 ignores its flow component (every coordinate maps to it).
inline Tensor warp(const Tensor& x, const Tensor& flow, GridPadding padding = GridPadding::Zeros) {
    VGT_CHECK(x.rank() == 4, "warp", "expected frames of shape [N, C, H, W], found {} (flow {})", x.shape(),
              flow.shape());
    VGT_CHECK(flow.rank() == 4 && flow.size(0) == x.size(0) && flow.size(1) == 2 && flow.size(2) == x.size(2) &&
                  flow.size(3) == x.size(3),
              "warp", "expected a flow of shape [{}, 2, {}, {}] for frames of shape {}, found {}", x.size(0),
              x.size(2), x.size(3), x.shape(), flow.shape());
    VGT_CHECK(x.dtype() == flow.dtype(), "warp", "expected frames and flow of one dtype, found {} and {}",
              dtype_name(x.dtype()), dtype_name(flow.dtype()));
    const std::int64_t h = x.size(2), w = x.size(3);
    VGT_CHECK(h > 0 && w > 0, "warp", "expected non-empty frames, found shape {}", x.shape());

    // grid = (pixel + flow) · 2 / (extent − 1) − 1, i.e. flow · scale + base.
    const double sx = w > 1 ? 2.0 / static_cast<double>(w - 1) : 0.0;
    const double sy = h > 1 ? 2.0 / static_cast<double>(h - 1) : 0.0;
    Tensor base = Tensor::empty(Shape{h, w, 2}, DType::Float64);
    double* b = base.data<double>();
    for (std::int64_t i = 0; i < h; ++i)
        for (std::int64_t j = 0; j < w; ++j) {
            b[(i * w + j) * 2] = static_cast<double>(j) * sx - 1.0;
            b[(i * w + j) * 2 + 1] = static_cast<double>(i) * sy - 1.0;
        }
    const Tensor scale = to(Tensor::from_vector(std::vector<double>{sx, sy}), x.dtype());
    const Tensor grid = add(mul(permute(flow, {0, 2, 3, 1}), scale), to(base, x.dtype()));
    return grid_sample(x, grid, GridSampleOptions{padding, true});
}

}  // namespace vgt
