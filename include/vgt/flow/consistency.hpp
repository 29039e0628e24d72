#pragma once
// Forward–backward consistency: where a pixel of frame a is visible in
// frame b, following the flow a → b and then the flow b → a brings it back
// to where it started. With f = F_ab (on a's grid), b = F_ba (on b's grid)
// and b̂(p) = b(p + f(p)) sampled bilinearly, a pixel p is consistent when
//
//     |f(p) + b̂(p)|²  <  α1 · (|f(p)|² + |b̂(p)|²) + α2
//
// (Sundaram, Brox and Keutzer, ECCV 2010, whose α1 = 0.01, α2 = 0.5 px²
// are the defaults: the tolerance grows with the motion, since large
// displacements are estimated less precisely). Pixels that fail are
// occluded in b, or their flow is wrong; pixels whose p + f(p) leaves the
// frame have no counterpart in b and are not consistent either.
//
// The mask is 1 where consistent and 0 elsewhere, in the flow's dtype, with
// one channel: [1, H, W] for fields [2, H, W], [N, 1, H, W] for [N, 2, H, W].
// It is a threshold, so it carries no gradient.

#include <cmath>
#include <cstdint>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/flow_field.hpp"
#include "vgt/flow/pyramid.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::flow {

struct ConsistencyOptions {
    double alpha1 = 0.01;  // tolerance relative to the squared motion
    double alpha2 = 0.5;   // absolute tolerance, px²
};

namespace kernels {

/// One call per pixel of [N, H, W]: 1 where the pixel's forward flow and the
/// backward flow where it lands cancel, else 0.
template <class T>
struct ForwardBackwardConsistency {
    const T* forward;   // [N, 2, H, W]
    const T* backward;  // [N, 2, H, W]
    T* mask;            // [N, 1, H, W]
    T alpha1, alpha2;
    std::int64_t h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t pixels = h * w;
        const std::int64_t n = i / pixels, q = i % pixels;
        const T fu = forward[2 * n * pixels + q], fv = forward[(2 * n + 1) * pixels + q];
        const T px = T(q % w) + fu, py = T(q / w) + fv;
        if (!(px >= T(0) && px <= T(w - 1) && py >= T(0) && py <= T(h - 1))) {
            mask[i] = T(0);
            return;
        }
        const T bu = bilinear_clamped(backward + 2 * n * pixels, h, w, px, py);
        const T bv = bilinear_clamped(backward + (2 * n + 1) * pixels, h, w, px, py);
        const T du = fu + bu, dv = fv + bv;
        mask[i] = du * du + dv * dv < alpha1 * (fu * fu + fv * fv + bu * bu + bv * bv) + alpha2 ? T(1) : T(0);
    }
};

}  // namespace kernels

/// The consistency mask of a forward flow F_ab and a backward flow F_ba
/// (both [2, H, W] or both [N, 2, H, W]): 1 where consistent, 0 where
/// occluded or leaving the frame; [1, H, W] or [N, 1, H, W].
inline Tensor consistency_mask(const Tensor& forward, const Tensor& backward, const ConsistencyOptions& options = {}) {
    VGT_CHECK(std::isfinite(options.alpha1) && options.alpha1 >= 0.0 && std::isfinite(options.alpha2) &&
                  options.alpha2 >= 0.0,
              "consistency_mask", "expected finite tolerances alpha1, alpha2 ≥ 0, found {} and {}", options.alpha1,
              options.alpha2);
    const detail::FlowLayout l = detail::flow_pair_layout(forward, backward, "consistency_mask", "forward", "backward");
    const Tensor f = vgt::detail::contiguous_data(forward);
    const Tensor b = vgt::detail::contiguous_data(backward);
    Tensor mask = Tensor::empty(l.map_shape(), forward.dtype());
    dispatch_floating(f, "consistency_mask", [&]<class T>() {
        const kernels::ForwardBackwardConsistency<T> body{f.data<T>(),          b.data<T>(),
                                                          mask.data<T>(),       T(options.alpha1),
                                                          T(options.alpha2),    l.h,
                                                          l.w};
        parallel_for(l.n * l.pixels(), body, 4096);
    });
    return mask;
}

}  // namespace vgt::flow
