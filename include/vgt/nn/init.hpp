#pragma once
// Parameter initialisers. Every one returns a fresh tensor that requires
// grad. The uniform bound 1/√fan_in is PyTorch's default for Linear and
// Conv (kaiming_uniform with a = √5, and the bias rule), so an untrained vgt
// block has the same weight statistics as its PyTorch twin.

#include <cmath>
#include <cstdint>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::nn {

inline Tensor parameter(Tensor t) {
    t.set_requires_grad(true);
    return t;
}

/// U(−1/√fan_in, 1/√fan_in).
inline Tensor fan_in_uniform(const Shape& shape, std::int64_t fan_in, Generator& gen, DType dtype) {
    VGT_CHECK(fan_in > 0, "fan_in_uniform", "expected a positive fan-in, found {} for shape {}", fan_in, shape);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    return parameter(rand(shape, gen, dtype, -bound, bound));
}

inline Tensor zeros_parameter(const Shape& shape, DType dtype) { return parameter(Tensor::zeros(shape, dtype)); }

inline Tensor full_parameter(const Shape& shape, double value, DType dtype) {
    return parameter(Tensor::full(shape, value, dtype));
}

/// A [C, C, k] temporal-conv weight that passes its input through unchanged
/// (1 at the centre tap of each channel's own filter): the Dirac init that
/// makes a freshly inserted temporal conv the identity.
inline Tensor dirac_conv1d_weight(std::int64_t channels, std::int64_t kernel, DType dtype) {
    VGT_CHECK(kernel % 2 == 1, "dirac_conv1d_weight", "expected an odd kernel so that a centre tap exists, found {}",
              kernel);
    Tensor w = Tensor::zeros(Shape{channels, channels, kernel}, DType::Float64);
    double* data = w.data<double>();
    for (std::int64_t c = 0; c < channels; ++c) data[(c * channels + c) * kernel + kernel / 2] = 1.0;
    return parameter(to(w, dtype));
}

}  // namespace vgt::nn
