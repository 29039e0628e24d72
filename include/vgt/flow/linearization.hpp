#pragma once
// The data term shared by the warping estimators (Horn–Schunck, Lucas–
// Kanade): brightness constancy a(p) = b(p + u(p)), linearised around the
// current flow u0 (flow_field.hpp's convention, a the first frame):
//
//     b(p + u0 + du) − a(p) ≈ Ix·du + Iy·dv + It,
//     It = b(p + u0) − a(p),   (Ix, Iy) = ½ (∇a(p) + ∇b(p + u0)),
//
// with b and ∇b sampled bilinearly. Averaging the two frames' gradients
// makes the linearisation symmetric in a and b and more accurate than
// either alone. A pixel whose p + u0 leaves the frame has no constraint
// (Ix = Iy = It = 0): the estimators fill it in from its neighbours.

#include <cstdint>
#include <tuple>

#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/image_gradients.hpp"
#include "vgt/flow/pixel_loop.hpp"
#include "vgt/flow/pyramid.hpp"

namespace vgt::flow {

namespace kernels {

/// One call per pixel of [N, H, W]: writes Ix, Iy, It of the linearised
/// constraint at the flow [N, 2, H, W].
template <class T>
struct LinearizeConstancy {
    const T* a;  // [N, H, W], and its gradient
    const T* ax;
    const T* ay;
    const T* b;  // [N, H, W], and its gradient
    const T* bx;
    const T* by;
    const T* flow;  // [N, 2, H, W]
    T* ix;
    T* iy;
    T* it;
    std::int64_t h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        const std::int64_t pixels = h * w;
        const std::int64_t q = y * w + x, i = n * pixels + q;
        const T px = T(x) + flow[2 * n * pixels + q];
        const T py = T(y) + flow[(2 * n + 1) * pixels + q];
        if (!(px >= T(0) && px <= T(w - 1) && py >= T(0) && py <= T(h - 1))) {
            ix[i] = T(0);
            iy[i] = T(0);
            it[i] = T(0);
            return;
        }
        const std::int64_t plane = n * pixels;
        ix[i] = T(0.5) * (ax[i] + bilinear_clamped(bx + plane, h, w, px, py));
        iy[i] = T(0.5) * (ay[i] + bilinear_clamped(by + plane, h, w, px, py));
        it[i] = bilinear_clamped(b + plane, h, w, px, py) - a[i];
    }
};

}  // namespace kernels

namespace detail {

/// One pyramid level of a frame pair, with the gradients the data term reads.
struct LevelFrames {
    Tensor a, ax, ay;  // [N, H, W] each
    Tensor b, bx, by;  // bx, by undefined when not asked for
    std::int64_t n() const { return a.size(0); }
    std::int64_t h() const { return a.size(1); }
    std::int64_t w() const { return a.size(2); }
};

/// A level's frames and gradients; b's gradients only when the estimator
/// reads them (the data term does, Lucas–Kanade's steps do not).
template <class T>
LevelFrames level_frames(const Tensor& a, const Tensor& b, bool with_b_gradients = true) {
    LevelFrames f;
    f.a = a;
    f.b = b;
    std::tie(f.ax, f.ay) = plane_gradients<T>(a);
    if (with_b_gradients) std::tie(f.bx, f.by) = plane_gradients<T>(b);
    return f;
}

/// The linearised data term's coefficients, each [N, H, W].
struct DataTerm {
    Tensor ix, iy, it;
};

template <class T>
DataTerm empty_data_term(const LevelFrames& f) {
    const Shape shape = f.a.shape();
    return {Tensor::empty(shape, f.a.dtype()), Tensor::empty(shape, f.a.dtype()), Tensor::empty(shape, f.a.dtype())};
}

/// Fills `term` with the constraint linearised at `flow` [N, 2, H, W].
template <class T>
void linearize(const LevelFrames& f, const Tensor& flow, DataTerm& term) {
    const kernels::LinearizeConstancy<T> body{f.a.data<T>(),    f.ax.data<T>(),      f.ay.data<T>(),
                                              f.b.data<T>(),    f.bx.data<T>(),      f.by.data<T>(),
                                              flow.data<T>(),   term.ix.data<T>(),   term.iy.data<T>(),
                                              term.it.data<T>(), f.h(),              f.w()};
    for_each_pixel(f.n(), f.h(), f.w(), body);
}

}  // namespace detail

}  // namespace vgt::flow
