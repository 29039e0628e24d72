#pragma once
// Linear layer: y = x · weightᵀ + bias over the last dimension, weight
// [out, in] as in PyTorch's nn.Linear.

#include <cstdint>
#include <string>

#include "vgt/core/random.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/matmul.hpp"

namespace vgt::nn {

class Linear {
public:
    Linear() = default;
    Linear(std::int64_t in_features, std::int64_t out_features, Generator& gen, DType dtype = DType::Float32,
           bool with_bias = true)
        : weight(fan_in_uniform(Shape{out_features, in_features}, in_features, gen, dtype)) {
        if (with_bias) bias = fan_in_uniform(Shape{out_features}, in_features, gen, dtype);
    }

    Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }

    /// Makes the layer output zero: the init of a residual branch's last layer.
    Linear& zero_() {
        weight.fill_(0.0);
        if (bias.defined()) bias.fill_(0.0);
        return *this;
    }

    std::int64_t in_features() const { return weight.size(1); }
    std::int64_t out_features() const { return weight.size(0); }

    /// Forward FLOPs for `rows` input vectors (multiply-add = 2).
    double flops(std::int64_t rows) const {
        return 2.0 * static_cast<double>(rows) * static_cast<double>(in_features() * out_features());
    }

    void visit_parameters(const ParameterVisitor& visit, const std::string& prefix) {
        visit(join_name(prefix, "weight"), weight);
        if (bias.defined()) visit(join_name(prefix, "bias"), bias);
    }

    Tensor weight;
    Tensor bias;
};

}  // namespace vgt::nn
