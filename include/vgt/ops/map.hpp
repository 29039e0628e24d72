#pragma once
// Launchers for point-wise kernel bodies. A body is a functor with a
// VGT_HOST_DEVICE call operator over scalars; these functions run it over
// tensors on CPU threads, or hand CUDA tensors to the CUDA backend, which
// launches the same bodies as grids (only the bodies it names: see
// cuda::describe). They record nothing: ops/elementwise.hpp adds the
// gradients.

#include <array>
#include <cstdint>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/strided_loop.hpp"

namespace vgt::detail {

/// out = f(x), elementwise; out is a new contiguous tensor of x's shape.
template <class F>
Tensor map_unary(const Tensor& x, F f, std::string_view op) {
    if constexpr (cuda::Described<F>)
        if (!x.device().is_cpu()) return cuda::unary(x, f, op);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    dispatch_floating(x, op, [&]<class T>() {
        const T* in = x.data<T>();
        T* o = out.data<T>();
        strided_loop<2>(x.shape(), {out.strides(), x.strides()},
                        [&](const std::array<std::int64_t, 2>& off, std::int64_t n,
                            const std::array<std::int64_t, 2>& st) {
                            T* po = o + off[0];
                            const T* pi = in + off[1];
                            if (st[0] == 1 && st[1] == 1) {
                                for (std::int64_t i = 0; i < n; ++i) po[i] = f(pi[i]);
                            } else {
                                for (std::int64_t i = 0; i < n; ++i) po[i * st[0]] = f(pi[i * st[1]]);
                            }
                        });
    });
    return out;
}

/// out = f(a, b), elementwise with broadcasting; out is a new contiguous tensor.
template <class F>
Tensor map_binary(const Tensor& a, const Tensor& b, F f, std::string_view op) {
    VGT_CHECK(a.dtype() == b.dtype(), op, "expected operands of one dtype, found {} and {}", dtype_name(a.dtype()),
              dtype_name(b.dtype()));
    const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
    if constexpr (cuda::Described<F>)
        if (!a.device().is_cpu() || !b.device().is_cpu()) return cuda::binary(a, b, shape, f, op);
    VGT_CHECK(b.device().is_cpu(), op, "expected operands on one device, found {} and {}", a.device().str(),
              b.device().str());
    Tensor out = Tensor::empty(shape, a.dtype(), a.device());
    dispatch_floating(a, op, [&]<class T>() {
        const T* pa0 = a.data<T>();
        const T* pb0 = b.data<T>();
        T* o = out.data<T>();
        strided_loop<3>(shape, {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)},
                        [&](const std::array<std::int64_t, 3>& off, std::int64_t n,
                            const std::array<std::int64_t, 3>& st) {
                            T* po = o + off[0];
                            const T* pa = pa0 + off[1];
                            const T* pb = pb0 + off[2];
                            if (st[1] == 1 && st[2] == 1) {
                                for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
                            } else if (st[1] == 1 && st[2] == 0) {
                                const T vb = *pb;
                                for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i], vb);
                            } else {
                                for (std::int64_t i = 0; i < n; ++i) po[i] = f(pa[i * st[1]], pb[i * st[2]]);
                            }
                        });
    });
    return out;
}

/// out = f(a, b, c) for three tensors of one shape (no broadcasting); used
/// by backward passes such as g * f'(x, y).
template <class F>
Tensor map_ternary(const Tensor& a, const Tensor& b, const Tensor& c, F f, std::string_view op) {
    VGT_CHECK(a.shape() == b.shape() && a.shape() == c.shape(), op, "expected equal shapes, found {}, {} and {}",
              a.shape(), b.shape(), c.shape());
    VGT_CHECK(b.device().is_cpu() && c.device().is_cpu(), op, "expected CPU operands, found {}, {} and {}",
              a.device().str(), b.device().str(), c.device().str());
    Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
    dispatch_floating(a, op, [&]<class T>() {
        const T* pa0 = a.data<T>();
        const T* pb0 = b.data<T>();
        const T* pc0 = c.data<T>();
        T* o = out.data<T>();
        strided_loop<4>(a.shape(), {out.strides(), a.strides(), b.strides(), c.strides()},
                        [&](const std::array<std::int64_t, 4>& off, std::int64_t n,
                            const std::array<std::int64_t, 4>& st) {
                            for (std::int64_t i = 0; i < n; ++i)
                                o[off[0] + i * st[0]] =
                                    f(pa0[off[1] + i * st[1]], pb0[off[2] + i * st[2]], pc0[off[3] + i * st[3]]);
                        });
    });
    return out;
}

}  // namespace vgt::detail
