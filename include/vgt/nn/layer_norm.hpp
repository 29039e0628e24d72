#pragma once
// LayerNorm: normalisation over the last dimension with a learned affine
// map, as PyTorch's nn.LayerNorm(width) (parameters "weight", "bias").

#include <cstdint>
#include <string>

#include "vgt/core/dtype.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/norm.hpp"

namespace vgt::nn {

/// Layer normalisation over the last dimension with a learned affine map
/// (PyTorch's nn.LayerNorm(width)): weight 1, bias 0 at initialisation.
class LayerNorm {
public:
    LayerNorm() = default;
    LayerNorm(std::int64_t width, DType dtype, double eps = 1e-5)
        : weight(full_parameter(Shape{width}, 1.0, dtype)),
          bias(zeros_parameter(Shape{width}, dtype)),
          eps_(eps) {}

    Tensor forward(const Tensor& x) const { return layer_norm(x, Shape{weight.size(0)}, weight, bias, eps_); }

    void visit_parameters(const ParameterVisitor& visit, const std::string& prefix) {
        visit(join_name(prefix, "weight"), weight);
        visit(join_name(prefix, "bias"), bias);
    }

    Tensor weight;
    Tensor bias;

private:
    double eps_ = 1e-5;
};

}  // namespace vgt::nn
