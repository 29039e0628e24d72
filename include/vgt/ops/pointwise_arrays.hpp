#pragma once
// The exp-based activations (exp, sigmoid, SiLU) and tanh as Eigen array expressions,
// for contiguous CPU data. Eigen evaluates exp on whole SIMD registers; the
// scalar bodies of ops/pointwise_kernels.hpp call libm once per element,
// which made SiLU a tenth of a small UNet's training step. The scalar bodies
// stay the definition (and the GPU's); these agree with them to rounding.
//
//   if constexpr (ArrayForm<kernels::Silu>::defined) ArrayForm<kernels::Silu>::value(x, y);

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include <Eigen/Core>

#include "vgt/core/parallel.hpp"
#include "vgt/ops/pointwise_kernels.hpp"

namespace vgt::detail {

template <class T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

/// exp(x) with every result below the smallest normal number flushed to 0:
/// softmax weights. Eigen's vectorised exp clamps its argument near the
/// bottom of the normal range (−88.7 in float) and returns a subnormal there
/// (2.9e-39), for −∞ too, so a masked weight would not be exactly 0, and on
/// x86 every later product with a subnormal takes a slow microcode path
/// (a causal attention ran several times slower than an unmasked one).
template <class Derived>
auto exp_flushed(const Eigen::ArrayBase<Derived>& x) {
    using T = typename Derived::Scalar;
    return (x < std::log(std::numeric_limits<T>::min())).select(T(0), x.exp());
}

/// value(x, y): y = f(x); backward(g, x, y, dx): dx = g · f'(x) for the
/// forward's output y. Only the bodies specialised below have one.
template <class Body>
struct ArrayForm {
    static constexpr bool defined = false;
};

template <>
struct ArrayForm<kernels::Exp> {
    static constexpr bool defined = true;
    template <class T>
    static void value(const ConstArrayMap<T>& x, ArrayMap<T> y) {
        y = x.exp();
    }
    template <class T>
    static void backward(const ConstArrayMap<T>& g, const ConstArrayMap<T>&, const ConstArrayMap<T>& y,
                         ArrayMap<T> dx) {
        dx = g * y;
    }
};

template <>
struct ArrayForm<kernels::Sigmoid> {
    static constexpr bool defined = true;
    template <class T>
    static void value(const ConstArrayMap<T>& x, ArrayMap<T> y) {
        y = T(1) / (T(1) + (-x).exp());
    }
    template <class T>
    static void backward(const ConstArrayMap<T>& g, const ConstArrayMap<T>&, const ConstArrayMap<T>& y,
                         ArrayMap<T> dx) {
        dx = g * (y * (T(1) - y));
    }
};

/// Eigen's rational tanh for float (within 3e-7 of the exact value, against
/// 1.6e-7 for libm's tanhf), libm's for double.
template <>
struct ArrayForm<kernels::Tanh> {
    static constexpr bool defined = true;
    template <class T>
    static void value(const ConstArrayMap<T>& x, ArrayMap<T> y) {
        y = x.tanh();
    }
    template <class T>
    static void backward(const ConstArrayMap<T>& g, const ConstArrayMap<T>&, const ConstArrayMap<T>& y,
                         ArrayMap<T> dx) {
        dx = g * (T(1) - y * y);
    }
};

template <>
struct ArrayForm<kernels::Silu> {
    static constexpr bool defined = true;
    template <class T>
    static void value(const ConstArrayMap<T>& x, ArrayMap<T> y) {
        y = x / (T(1) + (-x).exp());
    }
    template <class T>
    static void backward(const ConstArrayMap<T>& g, const ConstArrayMap<T>& x, const ConstArrayMap<T>&,
                         ArrayMap<T> dx) {
        dx = T(1) / (T(1) + (-x).exp());  // σ(x), then σ · (1 + x (1 − σ))
        dx = g * (dx * (T(1) + x * (T(1) - dx)));
    }
};

/// Elements per task when an array form runs on the thread pool.
inline constexpr std::int64_t kArrayGrain = std::int64_t{1} << 14;

/// f(offset, length) over [0, n) in parallel chunks.
template <class F>
void for_each_array_chunk(std::int64_t n, F&& f) {
    parallel_for_chunks(0, n, kArrayGrain, [&](std::int64_t lo, std::int64_t hi) { f(lo, hi - lo); });
}

}  // namespace vgt::detail
