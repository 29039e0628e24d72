#pragma once
// Endpoint error: the Euclidean distance between an estimated flow vector
// and the reference one at each pixel, |f(p) − r(p)|, in pixels; its
// average over the frame (optionally weighted by a mask, e.g. the valid
// pixels of a ground truth or a consistency mask) is the standard accuracy
// measure of optical flow (Baker et al., "A database and evaluation
// methodology for optical flow", IJCV 2011).
//
// Both are differentiable with respect to the two fields, so they also
// serve as training losses: ∂e/∂f = (f − r)/e, taken as 0 where e = 0.

#include <cmath>
#include <cstdint>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/flow_field.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::flow {

namespace kernels {

/// |f − r| per pixel of [N, H, W], one call per pixel.
template <class T>
struct EndpointError {
    const T* flow;       // [N, 2, H, W]
    const T* reference;  // [N, 2, H, W]
    T* error;            // [N, 1, H, W]
    std::int64_t pixels;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t n = i / pixels, q = i % pixels;
        const std::int64_t u = 2 * n * pixels + q, v = u + pixels;
        const T du = flow[u] - reference[u], dv = flow[v] - reference[v];
        error[i] = std::sqrt(du * du + dv * dv);
    }
};

/// The gradient with respect to the flow, g·(f − r)/e (0 where e = 0), one
/// call per pixel; the reference's gradient is its negative.
template <class T>
struct EndpointErrorBackward {
    const T* flow;
    const T* reference;
    const T* error;
    const T* grad_error;  // [N, 1, H, W]
    T* grad_flow;         // [N, 2, H, W]
    std::int64_t pixels;
    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        const std::int64_t n = i / pixels, q = i % pixels;
        const std::int64_t u = 2 * n * pixels + q, v = u + pixels;
        const T scale = error[i] > T(0) ? grad_error[i] / error[i] : T(0);
        grad_flow[u] = scale * (flow[u] - reference[u]);
        grad_flow[v] = scale * (flow[v] - reference[v]);
    }
};

}  // namespace kernels

/// The endpoint error of `flow` against `reference` (both [2, H, W] or both
/// [N, 2, H, W]) at each pixel: [1, H, W] or [N, 1, H, W].
inline Tensor endpoint_error(const Tensor& flow, const Tensor& reference) {
    const detail::FlowLayout l = detail::flow_pair_layout(flow, reference, "endpoint_error", "flow", "reference");
    const Tensor f = vgt::detail::contiguous_data(flow);
    const Tensor r = vgt::detail::contiguous_data(reference);
    Tensor error = Tensor::empty(l.map_shape(), flow.dtype());
    dispatch_floating(f, "endpoint_error", [&]<class T>() {
        parallel_for(l.n * l.pixels(), kernels::EndpointError<T>{f.data<T>(), r.data<T>(), error.data<T>(), l.pixels()},
                     4096);
    });
    if (!autograd::any_requires_grad({flow, reference})) return error;
    const bool need_flow = flow.requires_grad(), need_reference = reference.requires_grad();
    const Tensor f_saved = detach(f), r_saved = detach(r), e_saved = detach(error);
    return autograd::record(error, "endpoint_error", {flow, reference}, [=](const Tensor& g) {
        const Tensor go = vgt::detail::contiguous_data(g);
        Tensor grad = Tensor::empty(l.flow_shape(), go.dtype());
        dispatch_floating(go, "endpoint_error", [&]<class T>() {
            parallel_for(l.n * l.pixels(),
                         kernels::EndpointErrorBackward<T>{f_saved.data<T>(), r_saved.data<T>(), e_saved.data<T>(),
                                                           go.data<T>(), grad.data<T>(), l.pixels()},
                         4096);
        });
        return std::vector<Tensor>{need_flow ? grad : Tensor{}, need_reference ? neg(grad) : Tensor{}};
    });
}

/// The average endpoint error (AEE), a scalar tensor: the mean of
/// endpoint_error over all pixels, or its mean weighted by `mask` (the
/// shape of the error map, [1, H, W] or [N, 1, H, W]; weights ≥ 0, not all
/// zero; any real dtype, e.g. a 0/1 consistency or validity mask).
inline Tensor average_endpoint_error(const Tensor& flow, const Tensor& reference, const Tensor& mask = Tensor{}) {
    const Tensor error = endpoint_error(flow, reference);
    if (!mask.defined()) return mean(error);
    VGT_CHECK(mask.shape() == error.shape(), "average_endpoint_error",
              "expected a mask of shape {} for flows of shape {}, found {}", error.shape(), flow.shape(), mask.shape());
    const Tensor weights = detach(to(mask, flow.dtype()));
    double total = 0;
    bool valid = true;
    for (double m : weights.to_vector<double>()) {
        valid &= std::isfinite(m) && m >= 0.0;
        total += m;
    }
    VGT_CHECK(valid && total > 0.0, "average_endpoint_error",
              "expected mask weights that are finite, ≥ 0 and not all zero, found {}",
              valid ? "all zero" : "a negative or non-finite weight");
    return div(sum(mul(error, weights)), total);
}

}  // namespace vgt::flow
