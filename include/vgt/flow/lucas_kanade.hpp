#pragma once
// Dense pyramidal Lucas–Kanade optical flow: every pixel tracked as
// Bouguet's pyramidal tracker tracks a feature.
//
// Pixel p takes the displacement d that best explains, in the least-squares
// sense, the frames over a window W(p) around it, with weights g (a
// Gaussian, or uniform) whose sum is 1:
//
//     min_d Σ_{q∈W(p)} g(q−p) (b(q + d) − a(q))²
//
// solved by Gauss–Newton steps with the gradient of the first frame, whose
// matrix stays the same over the iterations:
//
//     G = Σ g ∇a ∇aᵀ,   e = Σ g ∇a (a(q) − b(q + d)),   d ← d + G⁻¹ e,
//
// b sampled bilinearly at q + d (the whole window shifted by p's own d),
// until a step is shorter than `tolerance` or after `iterations` steps. G's
// three sums are separable filters over the whole image, computed once per
// level. A pixel whose G has a smaller eigenvalue below min_eigenvalue (a
// window without texture, or with an edge in one direction only: the
// aperture problem) cannot be solved reliably and keeps the flow it has,
// which the coarser levels, whose windows cover more of the image, provide.
// Each level starts from the flow of the level above (coarse_to_fine.hpp),
// and a pixel whose refinement moves it further than the window radius
// from there (it diverged, or locked onto another pattern) keeps that
// start. A median filter after each level removes the remaining outliers.
//
// Every pixel reads only the frames and its own flow, so the refinement is
// one parallel pass per level, on CPU threads or a GPU grid alike.
//
// Frames: [H, W] or [N, 1, H, W] (or RGB [N, 3, H, W]), float32 or float64,
// intensities in [0, 1]; the flow from the first frame to the second
// (flow_field.hpp): [2, H, W] or [N, 2, H, W]. The result carries no
// gradient.

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/coarse_to_fine.hpp"
#include "vgt/flow/frames.hpp"
#include "vgt/flow/linearization.hpp"
#include "vgt/flow/median_filter.hpp"
#include "vgt/flow/pixel_loop.hpp"
#include "vgt/flow/pyramid.hpp"

namespace vgt::flow {

struct LucasKanadeOptions {
    PyramidOptions pyramid{};
    std::int64_t window_radius = 4;  // windows of (2r + 1)² pixels
    double window_sigma = 2.0;       // Gaussian weights over the window, in pixels (0: uniform)
    std::int64_t iterations = 10;    // Gauss–Newton steps per pyramid level, at most
    double tolerance = 0.01;         // stop a pixel's steps once one is shorter than this, in pixels
    double min_eigenvalue = 1e-7;    // of G (weights summing to 1), in (intensity / pixel)²
    double presmooth_sigma = 0.5;    // Gaussian blur of both frames first, in pixels (0: none)
    std::int64_t median_radius = 2;  // median filter of the flow after each level (0: none; at most 3)
};

/// Throws vgt::Error naming lucas_kanade when an option is out of range.
inline void check_options(const LucasKanadeOptions& o) {
    check_options(o.pyramid, "lucas_kanade");
    VGT_CHECK(o.window_radius >= 1 && o.window_radius <= 32, "lucas_kanade",
              "expected window_radius in [1, 32], found {}", o.window_radius);
    VGT_CHECK(std::isfinite(o.window_sigma) && o.window_sigma >= 0.0, "lucas_kanade",
              "expected a finite window_sigma ≥ 0, found {}", o.window_sigma);
    VGT_CHECK(o.iterations >= 1 && o.iterations <= 1000, "lucas_kanade", "expected iterations in [1, 1000], found {}",
              o.iterations);
    VGT_CHECK(std::isfinite(o.tolerance) && o.tolerance >= 0.0, "lucas_kanade",
              "expected a finite tolerance ≥ 0, found {}", o.tolerance);
    VGT_CHECK(std::isfinite(o.min_eigenvalue) && o.min_eigenvalue > 0.0, "lucas_kanade",
              "expected a positive finite min_eigenvalue, found {}", o.min_eigenvalue);
    VGT_CHECK(std::isfinite(o.presmooth_sigma) && o.presmooth_sigma >= 0.0 && o.presmooth_sigma <= 10.0,
              "lucas_kanade", "expected presmooth_sigma in [0, 10], found {}", o.presmooth_sigma);
    VGT_CHECK(o.median_radius >= 0 && o.median_radius <= kMaxMedianRadius, "lucas_kanade",
              "expected median_radius in [0, {}], found {}", kMaxMedianRadius, o.median_radius);
}

namespace kernels {

/// The three products of the structure tensor, one call per pixel of
/// [N, H, W]: out holds three stacks of `count` values (ax², ax·ay, ay²).
template <class T>
struct StructureProducts {
    const T* ax;
    const T* ay;
    T* out;
    std::int64_t count, h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const std::int64_t i = (n * h + y) * w + x;
        const T gx = ax[i], gy = ay[i];
        out[i] = gx * gx;
        out[count + i] = gx * gy;
        out[2 * count + i] = gy * gy;
    }
};

/// The smaller eigenvalue of the symmetric matrix [a, b; b, c].
template <class T>
VGT_HOST_DEVICE T smaller_eigenvalue(T a, T b, T c) {
    return T(0.5) * (a + c) - std::sqrt(T(0.25) * (a - c) * (a - c) + b * b);
}

/// Solves [a, b; b, c]·(d0, d1) = (r0, r1) given det = ac − b² ≠ 0.
template <class T>
VGT_HOST_DEVICE void solve_symmetric_2x2(T a, T b, T c, T det, T r0, T r1, T& d0, T& d1) {
    d0 = (c * r0 - b * r1) / det;
    d1 = (a * r1 - b * r0) / det;
}

/// One pyramid level of one pixel's refinement (see the top of this
/// header), one call per pixel of [N, H, W]. Reads the frames and the
/// pixel's own flow only, so pixels run in any order, in place.
template <class T>
struct LucasKanadeRefine {
    const T* a;  // [N, H, W], and its gradient
    const T* ax;
    const T* ay;
    const T* b;          // [N, H, W]
    const T* structure;  // three stacks [N, H, W]: Σg·ax², Σg·ax·ay, Σg·ay²
    const T* taps;       // 2·radius + 1 weights; the window's are their outer product
    T* flow;             // [N, 2, H, W]
    T min_eigenvalue, tolerance;
    std::int64_t radius, iterations, count, h, w;

    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const std::int64_t pixels = h * w;
        const std::int64_t i = n * pixels + y * w + x;
        const T g00 = structure[i], g01 = structure[count + i], g11 = structure[2 * count + i];
        if (!(smaller_eigenvalue(g00, g01, g11) >= min_eigenvalue)) return;  // also refuses NaN
        const T det = g00 * g11 - g01 * g01;                                   // ≥ λmin² > 0
        const T* a_plane = a + n * pixels;
        const T* ax_plane = ax + n * pixels;
        const T* ay_plane = ay + n * pixels;
        const T* b_plane = b + n * pixels;
        T* u = flow + 2 * n * pixels + y * w + x;
        T* v = u + pixels;
        T du = *u, dv = *v;
        for (std::int64_t step = 0; step < iterations; ++step) {
            // Every window pixel q is read at q + d: one set of bilinear weights.
            const T fdu = std::floor(du), fdv = std::floor(dv);
            const std::int64_t ox = static_cast<std::int64_t>(fdu), oy = static_cast<std::int64_t>(fdv);
            const T fx = du - fdu, fy = dv - fdv;
            const T w00 = (T(1) - fx) * (T(1) - fy), w01 = fx * (T(1) - fy), w10 = (T(1) - fx) * fy, w11 = fx * fy;
            T e0 = T(0), e1 = T(0);
            const bool inside = x - radius >= 0 && x + radius < w && y - radius >= 0 && y + radius < h &&
                                x - radius + ox >= 0 && x + radius + ox + 1 < w && y - radius + oy >= 0 &&
                                y + radius + oy + 1 < h;
            if (inside) {
                // Most pixels: no index needs clamping.
                for (std::int64_t ky = -radius; ky <= radius; ++ky) {
                    const std::int64_t row = (y + ky) * w + x;
                    const T* b0 = b_plane + row + oy * w + ox;
                    const T* b1 = b0 + w;
                    const T wy = taps[ky + radius];
                    for (std::int64_t kx = -radius; kx <= radius; ++kx) {
                        const T sampled = w00 * b0[kx] + w01 * b0[kx + 1] + w10 * b1[kx] + w11 * b1[kx + 1];
                        const T weighted_difference = wy * taps[kx + radius] * (a_plane[row + kx] - sampled);
                        e0 += ax_plane[row + kx] * weighted_difference;
                        e1 += ay_plane[row + kx] * weighted_difference;
                    }
                }
            } else {
                for (std::int64_t ky = -radius; ky <= radius; ++ky) {
                    const std::int64_t qy = clamp_index(y + ky, h);
                    const T* b_row0 = b_plane + clamp_index(qy + oy, h) * w;
                    const T* b_row1 = b_plane + clamp_index(qy + oy + 1, h) * w;
                    const T wy = taps[ky + radius];
                    for (std::int64_t kx = -radius; kx <= radius; ++kx) {
                        const std::int64_t qx = clamp_index(x + kx, w);
                        const std::int64_t bx0 = clamp_index(qx + ox, w), bx1 = clamp_index(qx + ox + 1, w);
                        const T sampled =
                            w00 * b_row0[bx0] + w01 * b_row0[bx1] + w10 * b_row1[bx0] + w11 * b_row1[bx1];
                        const std::int64_t q = qy * w + qx;
                        const T weighted_difference = wy * taps[kx + radius] * (a_plane[q] - sampled);
                        e0 += ax_plane[q] * weighted_difference;
                        e1 += ay_plane[q] * weighted_difference;
                    }
                }
            }
            T s0, s1;
            solve_symmetric_2x2(g00, g01, g11, det, e0, e1, s0, s1);
            du += s0;
            dv += s1;
            const T moved_x = du - *u, moved_y = dv - *v;
            if (!(moved_x * moved_x + moved_y * moved_y <= T(radius * radius))) break;  // runaway, or NaN
            if (!(s0 * s0 + s1 * s1 >= tolerance * tolerance)) break;
        }
        // A refinement that leaves the window it started from has lost the
        // texture it was following (Gauss–Newton diverged, or locked onto
        // another pattern): the pixel keeps the flow the level started with.
        const T moved_x = du - *u, moved_y = dv - *v;
        if (moved_x * moved_x + moved_y * moved_y <= T(radius * radius)) {
            *u = du;
            *v = dv;
        }
    }
};

}  // namespace kernels

namespace detail {

/// Window weights over [−radius, radius]: a Gaussian of σ, or uniform for
/// σ = 0, summing to 1.
template <class T>
std::vector<T> window_taps(std::int64_t radius, double sigma) {
    std::vector<double> taps;
    double total = 0;
    for (std::int64_t k = -radius; k <= radius; ++k) {
        taps.push_back(sigma > 0.0 ? std::exp(-0.5 * static_cast<double>(k * k) / (sigma * sigma)) : 1.0);
        total += taps.back();
    }
    std::vector<T> out;
    for (double v : taps) out.push_back(static_cast<T>(v / total));
    return out;
}

template <class T>
Tensor lucas_kanade_planes(const Tensor& a, const Tensor& b, const LucasKanadeOptions& o) {
    const std::vector<T> taps = window_taps<T>(o.window_radius, o.window_sigma);
    return coarse_to_fine<T>(a, b, o.presmooth_sigma, o.pyramid, false, [&](const LevelFrames& f, Tensor& flow) {
        const std::int64_t count = f.a.numel();
        Tensor products = Tensor::empty(Shape{3, count}, f.a.dtype());
        Tensor structure = Tensor::empty(Shape{3, count}, f.a.dtype());
        Tensor scratch = Tensor::empty(Shape{3, count}, f.a.dtype());
        for_each_pixel(f.n(), f.h(), f.w(),
                       kernels::StructureProducts<T>{f.ax.data<T>(), f.ay.data<T>(), products.data<T>(), count, f.h(),
                                                     f.w()});
        separable_filter(products.data<T>(), structure.data<T>(), scratch.data<T>(), 3 * f.n(), f.h(), f.w(), taps);
        const kernels::LucasKanadeRefine<T> body{
            f.a.data<T>(),      f.ax.data<T>(),      f.ay.data<T>(),        f.b.data<T>(),
            structure.data<T>(), taps.data(),        flow.data<T>(),        T(o.min_eigenvalue),
            T(o.tolerance),     o.window_radius,     o.iterations,          count,
            f.h(),              f.w()};
        for_each_pixel(f.n(), f.h(), f.w(), body);
        if (o.median_radius > 0) {
            Tensor filtered = Tensor::empty(flow.shape(), flow.dtype());
            median_filter_planes(flow.data<T>(), filtered.data<T>(), 2 * f.n(), f.h(), f.w(), o.median_radius);
            flow = filtered;
        }
    });
}

}  // namespace detail

/// The Lucas–Kanade flow from frame a to frame b ([H, W] → [2, H, W];
/// [N, 1 or 3, H, W] → [N, 2, H, W]).
inline Tensor lucas_kanade(const Tensor& a, const Tensor& b, const LucasKanadeOptions& options = {}) {
    check_options(options);
    const detail::FrameLayout layout = detail::frame_pair_layout(a, b, "lucas_kanade");
    const Tensor flow = dispatch_floating(a, "lucas_kanade", [&]<class T>() {
        return detail::lucas_kanade_planes<T>(detail::gray_planes<T>(a, layout, "lucas_kanade", "first"),
                                              detail::gray_planes<T>(b, layout, "lucas_kanade", "second"), options);
    });
    return detail::shaped_flow(flow, layout);
}

}  // namespace vgt::flow
