#pragma once
// Point-wise operations: arithmetic with NumPy broadcasting, tensor–scalar
// arithmetic, and the activation functions, each a body from
// ops/pointwise_kernels.hpp run by the launchers of ops/map.hpp (or, for the
// exp-based activations on contiguous CPU data, its vectorised array form
// from ops/pointwise_arrays.hpp), with its gradient recorded on the tape.

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/map.hpp"
#include "vgt/ops/pointwise_arrays.hpp"
#include "vgt/ops/pointwise_kernels.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

/// Runs a unary body forward and records g · f'(x, y) as its backward.
/// The body's array form (ops/pointwise_arrays.hpp) applies: contiguous CPU data.
template <class Body>
bool use_array_form(std::initializer_list<const Tensor*> tensors) {
    if constexpr (!ArrayForm<Body>::defined) {
        return false;
    } else {
        for (const Tensor* t : tensors)
            if (!t->device().is_cpu() || !t->is_contiguous()) return false;
        return true;
    }
}

template <class Body>
Tensor unary_forward(const Tensor& x, Body body, const char* name) {
    if (!use_array_form<Body>({&x})) return map_unary(x, body, name);
    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    if constexpr (ArrayForm<Body>::defined) {
        dispatch_floating(x, name, [&]<class T>() {
            const T* in = x.data<T>();
            T* out = y.data<T>();
            for_each_array_chunk(x.numel(), [&](std::int64_t at, std::int64_t n) {
                ArrayForm<Body>::template value<T>(ConstArrayMap<T>(in + at, n), ArrayMap<T>(out + at, n));
            });
        });
    }
    return y;
}

/// g · f'(x) with y = f(x); g, x and y have one shape, and y is contiguous.
template <class Body>
Tensor unary_backward(const Tensor& g, const Tensor& x, const Tensor& y, Body body, const char* name) {
    const Tensor gc = contiguous_data(g), xc = contiguous_data(x);
    if (!y.device().is_cpu()) return cuda::unary_gradient(gc, xc, y, body, name);
    if (!use_array_form<Body>({&gc, &xc, &y}))
        return map_ternary(gc, xc, y, [body](auto gv, auto xv, auto yv) { return gv * body.derivative(xv, yv); },
                           name);
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    if constexpr (ArrayForm<Body>::defined) {
        dispatch_floating(y, name, [&]<class T>() {
            const T *pg = gc.data<T>(), *px = xc.data<T>(), *py = y.data<T>();
            T* out = dx.data<T>();
            for_each_array_chunk(y.numel(), [&](std::int64_t at, std::int64_t n) {
                ArrayForm<Body>::template backward<T>(ConstArrayMap<T>(pg + at, n), ConstArrayMap<T>(px + at, n),
                                                      ConstArrayMap<T>(py + at, n), ArrayMap<T>(out + at, n));
            });
        });
    }
    return dx;
}

template <class Body>
Tensor unary_op(const Tensor& x, Body body, const char* name) {
    Tensor y = unary_forward(x, body, name);
    if (!autograd::any_requires_grad({x})) return y;
    Tensor x_saved = detach(x);
    Tensor y_saved = detach(y);
    return autograd::record(y, name, {x}, [body, x_saved, y_saved, name](const Tensor& g) {
        return std::vector<Tensor>{unary_backward(g, x_saved, y_saved, body, name)};
    });
}

}  // namespace detail

// ----- arithmetic with broadcasting -----------------------------------------

inline Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = detail::map_binary(a, b, kernels::Add{}, "add");
    const Shape sa = a.shape(), sb = b.shape();
    return autograd::record(out, "add", {a, b}, [sa, sb](const Tensor& g) {
        return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
    });
}

inline Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = detail::map_binary(a, b, kernels::Sub{}, "sub");
    const Shape sa = a.shape(), sb = b.shape();
    return autograd::record(out, "sub", {a, b}, [sa, sb](const Tensor& g) {
        return std::vector<Tensor>{sum_to(g, sa), sum_to(detail::map_unary(g, kernels::Neg{}, "sub"), sb)};
    });
}

inline Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = detail::map_binary(a, b, kernels::Mul{}, "mul");
    if (!autograd::any_requires_grad({a, b})) return out;
    Tensor a_saved = detach(a), b_saved = detach(b);
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    return autograd::record(out, "mul", {a, b}, [=](const Tensor& g) {
        Tensor ga, gb;
        if (need_a) ga = sum_to(detail::map_binary(g, b_saved, kernels::Mul{}, "mul"), a_saved.shape());
        if (need_b) gb = sum_to(detail::map_binary(g, a_saved, kernels::Mul{}, "mul"), b_saved.shape());
        return std::vector<Tensor>{ga, gb};
    });
}

inline Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = detail::map_binary(a, b, kernels::Div{}, "div");
    if (!autograd::any_requires_grad({a, b})) return out;
    Tensor b_saved = detach(b), out_saved = detach(out);
    const Shape sa = a.shape();
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    return autograd::record(out, "div", {a, b}, [=](const Tensor& g) {
        Tensor ga, gb;
        Tensor g_over_b = detail::map_binary(g, b_saved, kernels::Div{}, "div");
        if (need_a) ga = sum_to(g_over_b, sa);
        // d(a/b)/db = -(a/b)/b
        if (need_b)
            gb = sum_to(detail::map_unary(detail::map_binary(g_over_b, out_saved, kernels::Mul{}, "div"),
                                          kernels::Neg{}, "div"),
                        b_saved.shape());
        return std::vector<Tensor>{ga, gb};
    });
}

// ----- tensor–scalar arithmetic ---------------------------------------------

inline Tensor add(const Tensor& x, double s) { return detail::unary_op(x, kernels::AddScalar{s}, "add_scalar"); }
inline Tensor sub(const Tensor& x, double s) { return detail::unary_op(x, kernels::AddScalar{-s}, "sub_scalar"); }
inline Tensor mul(const Tensor& x, double s) { return detail::unary_op(x, kernels::MulScalar{s}, "mul_scalar"); }
inline Tensor div(const Tensor& x, double s) {
    VGT_CHECK(s != 0.0, "div", "expected a non-zero scalar divisor, found 0");
    return detail::unary_op(x, kernels::MulScalar{1.0 / s}, "div_scalar");
}
inline Tensor pow(const Tensor& x, double p) { return detail::unary_op(x, kernels::PowScalar{p}, "pow"); }
inline Tensor square(const Tensor& x) { return mul(x, x); }

// ----- functions -------------------------------------------------------------

inline Tensor neg(const Tensor& x) { return detail::unary_op(x, kernels::Neg{}, "neg"); }
inline Tensor exp(const Tensor& x) { return detail::unary_op(x, kernels::Exp{}, "exp"); }
inline Tensor log(const Tensor& x) { return detail::unary_op(x, kernels::Log{}, "log"); }
inline Tensor sqrt(const Tensor& x) { return detail::unary_op(x, kernels::Sqrt{}, "sqrt"); }
inline Tensor rsqrt(const Tensor& x) { return detail::unary_op(x, kernels::Rsqrt{}, "rsqrt"); }
inline Tensor sigmoid(const Tensor& x) { return detail::unary_op(x, kernels::Sigmoid{}, "sigmoid"); }
inline Tensor tanh(const Tensor& x) { return detail::unary_op(x, kernels::Tanh{}, "tanh"); }
inline Tensor relu(const Tensor& x) { return detail::unary_op(x, kernels::Relu{}, "relu"); }
inline Tensor silu(const Tensor& x) { return detail::unary_op(x, kernels::Silu{}, "silu"); }
inline Tensor gelu(const Tensor& x) { return detail::unary_op(x, kernels::Gelu{}, "gelu"); }
inline Tensor abs(const Tensor& x) { return detail::unary_op(x, kernels::Abs{}, "abs"); }
/// x limited to [low, high]; zero gradient outside, as torch.clamp.
inline Tensor clamp(const Tensor& x, double low, double high) {
    VGT_CHECK(low <= high, "clamp", "expected low <= high, found low {} and high {}", low, high);
    return detail::unary_op(x, kernels::Clamp{low, high}, "clamp");
}

// ----- operators -------------------------------------------------------------

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return add(x, s); }
inline Tensor operator+(double s, const Tensor& x) { return add(x, s); }
inline Tensor operator-(const Tensor& x, double s) { return sub(x, s); }
inline Tensor operator-(double s, const Tensor& x) { return add(neg(x), s); }
inline Tensor operator*(const Tensor& x, double s) { return mul(x, s); }
inline Tensor operator*(double s, const Tensor& x) { return mul(x, s); }
inline Tensor operator/(const Tensor& x, double s) { return div(x, s); }
inline Tensor operator/(double s, const Tensor& x) { return detail::unary_op(x, kernels::ScalarDiv{s}, "scalar_div"); }

}  // namespace vgt
