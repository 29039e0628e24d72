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

#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/grid_sample_kernels.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

struct GridSampleOptions {
    GridPadding padding = GridPadding::Zeros;
    bool align_corners = false;
};

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
    if (!x.device().is_cpu()) {
        cuda::grid_sample(in, points, out, geometry, "grid_sample");
    } else {
        VGT_CHECK(grid.device().is_cpu(), "grid_sample", "expected input and grid on one device, found {} and {}",
                  x.device().str(), grid.device().str());
        dispatch_floating(x, "grid_sample", [&]<class T>() {
            const kernels::GridSampleForwardTiles<T> body{in.data<T>(), points.data<T>(), out.data<T>(), geometry};
            const std::int64_t tiles = (geometry.ho * geometry.wo + kernels::kGridTile - 1) / kernels::kGridTile;
            parallel_for(n * tiles, body, 4);
        });
    }

    if (!autograd::any_requires_grad({x, grid})) return out;
    const bool need_x = x.requires_grad(), need_grid = grid.requires_grad();
    // The input's values are needed only for the grid's gradient.
    const Tensor x_saved = need_grid ? detach(in) : Tensor{};
    const Tensor grid_saved = detach(points);
    const Shape x_shape = x.shape();
    return autograd::record(out, "grid_sample", {x, grid}, [=](const Tensor& g) {
        const Tensor go = detail::contiguous_data(g);
        Tensor grad_x, grad_grid;
        if (need_x) grad_x = Tensor::empty(x_shape, go.dtype(), go.device());
        if (need_grid) grad_grid = Tensor::empty(grid_saved.shape(), go.dtype(), go.device());
        if (!go.device().is_cpu()) {
            if (need_x) cuda::grid_sample_input_gradient(grid_saved, go, grad_x, geometry, "grid_sample");
            if (need_grid) cuda::grid_sample_grid_gradient(x_saved, grid_saved, go, grad_grid, geometry, "grid_sample");
            return std::vector<Tensor>{grad_x, grad_grid};
        }
        dispatch_floating(go, "grid_sample", [&]<class T>() {
            const std::int64_t points = geometry.ho * geometry.wo;
            if (need_x) {
                // Every point's corners once, then each plane scatters onto them.
                std::vector<kernels::GridCorners<T>> corners(static_cast<std::size_t>(n * points));
                parallel_for(n * points, kernels::GridSampleCorners<T>{grid_saved.data<T>(), corners.data(), geometry},
                             256);
                const kernels::GridSampleBackwardInputFromCorners<T> body{corners.data(), go.data<T>(),
                                                                          grad_x.data<T>(), geometry};
                parallel_for(n * geometry.c, body, 1);
            }
            if (need_grid) {
                const kernels::GridSampleBackwardGridTiles<T> body{x_saved.data<T>(), grid_saved.data<T>(),
                                                                   go.data<T>(), grad_grid.data<T>(), geometry};
                parallel_for(n * ((points + kernels::kGridTile - 1) / kernels::kGridTile), body, 4);
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
    const Tensor scale = to(to(Tensor::from_vector(std::vector<double>{sx, sy}), x.dtype()), x.device());
    const Tensor grid = add(mul(permute(flow, {0, 2, 3, 1}), scale), to(to(base, x.dtype()), x.device()));
    return grid_sample(x, grid, GridSampleOptions{padding, true});
}

}  // namespace vgt
