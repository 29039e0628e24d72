#pragma once
// Point-wise kernel bodies: functors over scalars with VGT_HOST_DEVICE call
// operators, run by parallel_for on CPU threads (ops/map.hpp) and by
// cuda_for as CUDA grids (core/cuda_launch.cuh). Each unary body carries its
// derivative. This header includes nothing but <cmath>, so CUDA units can
// include it.

#include <cmath>

#include "vgt/core/macros.hpp"

namespace vgt {

namespace kernels {

// Unary bodies: operator()(x) is the value, derivative(x, y) is dy/dx given
// the input x and the output y (whichever is cheaper to use).
struct Neg {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return -x; }
    template <class T> VGT_HOST_DEVICE T derivative(T, T) const { return T(-1); }
};
struct Exp {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return std::exp(x); }
    template <class T> VGT_HOST_DEVICE T derivative(T, T y) const { return y; }
};
struct Log {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return std::log(x); }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const { return T(1) / x; }
};
struct Sqrt {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return std::sqrt(x); }
    template <class T> VGT_HOST_DEVICE T derivative(T, T y) const { return T(0.5) / y; }
};
struct Rsqrt {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return T(1) / std::sqrt(x); }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T y) const { return T(-0.5) * y / x; }
};
struct Sigmoid {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return T(1) / (T(1) + std::exp(-x)); }
    template <class T> VGT_HOST_DEVICE T derivative(T, T y) const { return y * (T(1) - y); }
};
struct Tanh {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return std::tanh(x); }
    template <class T> VGT_HOST_DEVICE T derivative(T, T y) const { return T(1) - y * y; }
};
struct Relu {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return x > T(0) ? x : T(0); }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : T(0); }
};
struct Silu {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return x / (T(1) + std::exp(-x)); }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const {
        const T s = T(1) / (T(1) + std::exp(-x));
        return s * (T(1) + x * (T(1) - s));
    }
};
/// The exact GELU, x·Φ(x), as PyTorch's default.
struct Gelu {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const {
        return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
    }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const {
        const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
        const T pdf = std::exp(T(-0.5) * x * x) * T(0.39894228040143267794);
        return cdf + x * pdf;
    }
};
struct Abs {
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return x < T(0) ? -x : x; }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const { return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0)); }
};
/// min(max(x, low), high); the gradient passes where low <= x <= high, as
/// torch.clamp's does, and NaN stays NaN.
struct Clamp {
    double low, high;
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return x < T(low) ? T(low) : (x > T(high) ? T(high) : x); }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const { return (x >= T(low) && x <= T(high)) ? T(1) : T(0); }
};
struct PowScalar {
    double p;
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return std::pow(x, T(p)); }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T) const { return T(p) * std::pow(x, T(p - 1)); }
};
struct AddScalar {
    double s;
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return x + T(s); }
    template <class T> VGT_HOST_DEVICE T derivative(T, T) const { return T(1); }
};
struct MulScalar {
    double s;
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return x * T(s); }
    template <class T> VGT_HOST_DEVICE T derivative(T, T) const { return T(s); }
};
/// s / x
struct ScalarDiv {
    double s;
    template <class T> VGT_HOST_DEVICE T operator()(T x) const { return T(s) / x; }
    template <class T> VGT_HOST_DEVICE T derivative(T x, T y) const { return -y / x; }
};

// Binary bodies.
struct Add {
    template <class T> VGT_HOST_DEVICE T operator()(T a, T b) const { return a + b; }
};
struct Sub {
    template <class T> VGT_HOST_DEVICE T operator()(T a, T b) const { return a - b; }
};
struct Mul {
    template <class T> VGT_HOST_DEVICE T operator()(T a, T b) const { return a * b; }
};
struct Div {
    template <class T> VGT_HOST_DEVICE T operator()(T a, T b) const { return a / b; }
};

}  // namespace kernels

}  // namespace vgt
