#pragma once
// Horn–Schunck optical flow, coarse to fine with warping.
//
// At each pyramid level, and `warps` times per level, the data term is
// linearised around the current flow u0 (linearization.hpp) and the flow
// u = u0 + du minimises
//
//     E(u) = Σ_p (Ix·du + Iy·dv + It)²  +  α² Σ_{p~q} (|u_p − u_q|² + |v_p − v_q|²)
//
// over 4-neighbour pairs p~q inside the frame. Setting ∂E/∂u_p = 0 with the
// neighbours held fixed gives, for a pixel with k neighbours of mean flow
// (ū, v̄) and λ = k·α²,
//
//     s   = (Ix·(ū − u0) + Iy·(v̄ − v0) + It) / (λ + Ix² + Iy²)
//     u_p = ū − Ix·s,   v_p = v̄ − Iy·s
//
// (the classic Horn–Schunck update, with u0 in it because of the warp). The
// sweeps are red–black successive over-relaxation: all pixels with x + y
// even, then all odd ones, each moved by ω times its step to that solution;
// a colour's pixels depend only on the other colour, so each half-sweep is
// one parallel pass, on CPU threads or a GPU grid alike. After each warp a
// median filter removes the outliers of the linearisation.
//
// Frames: [H, W] or [N, 1, H, W] (or RGB [N, 3, H, W]), float32 or float64,
// intensities in [0, 1] (α is in those units per pixel); the flow from the
// first frame to the second (flow_field.hpp): [2, H, W] or [N, 2, H, W]. The
// result carries no gradient.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/coarse_to_fine.hpp"
#include "vgt/flow/frames.hpp"
#include "vgt/flow/linearization.hpp"
#include "vgt/flow/median_filter.hpp"
#include "vgt/flow/pixel_loop.hpp"
#include "vgt/flow/pyramid.hpp"

namespace vgt::flow {

struct HornSchunckOptions {
    PyramidOptions pyramid{};
    double alpha = 0.03;             // smoothness weight α, intensity units per pixel
    std::int64_t warps = 3;          // linearisations per pyramid level
    std::int64_t iterations = 30;    // SOR sweeps per linearisation
    double relaxation = 1.8;         // SOR factor ω in (0, 2); 1 is Gauss–Seidel
    double presmooth_sigma = 0.5;    // Gaussian blur of both frames first, in pixels (0: none)
    std::int64_t median_radius = 1;  // median filter of the flow after each warp (0: none; at most 3)
};

/// Throws vgt::Error naming horn_schunck when an option is out of range.
inline void check_options(const HornSchunckOptions& o) {
    check_options(o.pyramid, "horn_schunck");
    VGT_CHECK(std::isfinite(o.alpha) && o.alpha > 0.0, "horn_schunck", "expected a positive finite alpha, found {}",
              o.alpha);
    VGT_CHECK(o.warps >= 1 && o.warps <= 100, "horn_schunck", "expected warps in [1, 100], found {}", o.warps);
    VGT_CHECK(o.iterations >= 1 && o.iterations <= 100000, "horn_schunck",
              "expected iterations in [1, 100000], found {}", o.iterations);
    VGT_CHECK(o.relaxation > 0.0 && o.relaxation < 2.0, "horn_schunck",
              "expected a relaxation factor in (0, 2), found {}", o.relaxation);
    VGT_CHECK(std::isfinite(o.presmooth_sigma) && o.presmooth_sigma >= 0.0 && o.presmooth_sigma <= 10.0,
              "horn_schunck", "expected presmooth_sigma in [0, 10], found {}", o.presmooth_sigma);
    VGT_CHECK(o.median_radius >= 0 && o.median_radius <= kMaxMedianRadius, "horn_schunck",
              "expected median_radius in [0, {}], found {}", kMaxMedianRadius, o.median_radius);
}

namespace kernels {

/// Folds a warp's linearised data term into the form the sweeps read, one
/// call per pixel of [N, H, W]: with k the pixel's number of neighbours,
///     offset = It − Ix·u0 − Iy·v0,   inverse = 1 / (k·α² + Ix² + Iy²),
/// so that s = (Ix·ū + Iy·v̄ + offset) · inverse.
template <class T>
struct HornSchunckCoefficients {
    const T* ix;  // [N, H, W]
    const T* iy;
    T* it;            // [N, H, W]: It in, offset out
    T* inverse;       // [N, H, W]
    const T* flow0;   // [N, 2, H, W]: the flow the term was linearised at
    T alpha2;
    std::int64_t h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const std::int64_t pixels = h * w;
        const std::int64_t q = y * w + x, i = n * pixels + q;
        const T neighbours = T((x > 0) + (x + 1 < w) + (y > 0) + (y + 1 < h));
        const T gx = ix[i], gy = iy[i];
        it[i] -= gx * flow0[2 * n * pixels + q] + gy * flow0[(2 * n + 1) * pixels + q];
        inverse[i] = T(1) / (alpha2 * neighbours + gx * gx + gy * gy);
    }
};

/// One half-sweep of red–black SOR, one call per pixel of [N, H, W]; pixels
/// whose x + y has another parity than `parity` are left alone.
template <class T>
struct HornSchunckSweep {
    const T* ix;  // [N, H, W]: the data term, as HornSchunckCoefficients leaves it
    const T* iy;
    const T* offset;
    const T* inverse;
    T* flow;  // [N, 2, H, W]: updated in place
    T omega;
    std::int64_t h, w, parity;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        if (((x + y) & 1) != parity) return;
        const std::int64_t pixels = h * w;
        const std::int64_t q = y * w + x, i = n * pixels + q;
        T* u = flow + 2 * n * pixels;
        T* v = u + pixels;
        T ubar, vbar;
        if (x > 0 && x + 1 < w && y > 0 && y + 1 < h) {
            ubar = T(0.25) * (u[q - 1] + u[q + 1] + u[q - w] + u[q + w]);
            vbar = T(0.25) * (v[q - 1] + v[q + 1] + v[q - w] + v[q + w]);
        } else {
            T su = T(0), sv = T(0);
            int k = 0;
            if (x > 0) { su += u[q - 1]; sv += v[q - 1]; ++k; }
            if (x + 1 < w) { su += u[q + 1]; sv += v[q + 1]; ++k; }
            if (y > 0) { su += u[q - w]; sv += v[q - w]; ++k; }
            if (y + 1 < h) { su += u[q + w]; sv += v[q + w]; ++k; }
            if (k == 0) return;  // a 1 × 1 frame: nothing to smooth against, and no gradient
            ubar = su / T(k);
            vbar = sv / T(k);
        }
        const T gx = ix[i], gy = iy[i];
        const T s = (gx * ubar + gy * vbar + offset[i]) * inverse[i];
        u[q] += omega * (ubar - gx * s - u[q]);
        v[q] += omega * (vbar - gy * s - v[q]);
    }
};

}  // namespace kernels

namespace detail {

template <class T>
Tensor horn_schunck_planes(const Tensor& a, const Tensor& b, const HornSchunckOptions& o) {
    return coarse_to_fine<T>(a, b, o.presmooth_sigma, o.pyramid, true, [&](const LevelFrames& f, Tensor& flow) {
        DataTerm term = empty_data_term<T>(f);
        Tensor inverse = Tensor::empty(f.a.shape(), f.a.dtype());
        Tensor filtered = Tensor::empty(flow.shape(), flow.dtype());
        for (std::int64_t warp = 0; warp < o.warps; ++warp) {
            linearize<T>(f, flow, term);
            for_each_pixel(f.n(), f.h(), f.w(),
                           kernels::HornSchunckCoefficients<T>{term.ix.data<T>(), term.iy.data<T>(), term.it.data<T>(),
                                                               inverse.data<T>(), flow.data<T>(), T(o.alpha * o.alpha),
                                                               f.h(), f.w()});
            for (std::int64_t iteration = 0; iteration < o.iterations; ++iteration)
                for (std::int64_t parity = 0; parity < 2; ++parity)
                    for_each_pixel(f.n(), f.h(), f.w(),
                                   kernels::HornSchunckSweep<T>{term.ix.data<T>(), term.iy.data<T>(), term.it.data<T>(),
                                                                inverse.data<T>(), flow.data<T>(), T(o.relaxation),
                                                                f.h(), f.w(), parity});
            if (o.median_radius > 0) {
                median_filter_planes(flow.data<T>(), filtered.data<T>(), 2 * f.n(), f.h(), f.w(), o.median_radius);
                std::swap(flow, filtered);
            }
        }
    });
}

}  // namespace detail

/// The Horn–Schunck flow from frame a to frame b ([H, W] → [2, H, W];
/// [N, 1 or 3, H, W] → [N, 2, H, W]).
inline Tensor horn_schunck(const Tensor& a, const Tensor& b, const HornSchunckOptions& options = {}) {
    check_options(options);
    const detail::FrameLayout layout = detail::frame_pair_layout(a, b, "horn_schunck");
    const Tensor flow = dispatch_floating(a, "horn_schunck", [&]<class T>() {
        return detail::horn_schunck_planes<T>(detail::gray_planes<T>(a, layout, "horn_schunck", "first"),
                                              detail::gray_planes<T>(b, layout, "horn_schunck", "second"), options);
    });
    return detail::shaped_flow(flow, layout);
}

}  // namespace vgt::flow
