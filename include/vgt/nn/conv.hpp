#pragma once
// Convolution layer over 1, 2 or 3 spatial dimensions, weight
// [out, in/groups, k...] and bias [out] as in PyTorch's nn.ConvNd.

#include <cstdint>
#include <string>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/conv.hpp"

namespace vgt::nn {

class Conv {
public:
    Conv() = default;
    /// `kernel` has one extent per spatial dimension (its length picks 1D, 2D or 3D).
    Conv(std::int64_t in_channels, std::int64_t out_channels, const std::vector<std::int64_t>& kernel,
         const ConvOptions& options, Generator& gen, DType dtype = DType::Float32, bool with_bias = true)
        : options_(options) {
        VGT_CHECK(kernel.size() >= 1 && kernel.size() <= 3, "nn::Conv", "expected 1 to 3 kernel extents, found {}",
                  kernel.size());
        VGT_CHECK(options.groups >= 1 && in_channels % options.groups == 0 && out_channels % options.groups == 0,
                  "nn::Conv", "expected groups dividing {} input and {} output channels, found {}", in_channels,
                  out_channels, options.groups);
        std::vector<std::int64_t> dims = {out_channels, in_channels / options.groups};
        std::int64_t fan_in = in_channels / options.groups;
        for (std::int64_t k : kernel) {
            dims.push_back(k);
            fan_in *= k;
        }
        weight = fan_in_uniform(Shape(dims), fan_in, gen, dtype);
        if (with_bias) bias = fan_in_uniform(Shape{out_channels}, fan_in, gen, dtype);
    }

    Tensor forward(const Tensor& x) const {
        switch (spatial_dims()) {
            case 1: return conv1d(x, weight, bias, options_);
            case 2: return conv2d(x, weight, bias, options_);
            default: return conv3d(x, weight, bias, options_);
        }
    }

    Conv& zero_() {
        weight.fill_(0.0);
        if (bias.defined()) bias.fill_(0.0);
        return *this;
    }

    int spatial_dims() const { return weight.rank() - 2; }
    std::int64_t in_channels() const { return weight.size(1) * options_.groups; }
    std::int64_t out_channels() const { return weight.size(0); }
    const ConvOptions& options() const { return options_; }

    /// Forward FLOPs given the number of output positions (N·spatial): every
    /// output value is a dot product of in/groups · prod(kernel) taps.
    double flops(std::int64_t output_positions) const {
        const double taps = static_cast<double>(weight.numel() / weight.size(0));
        return 2.0 * taps * static_cast<double>(out_channels()) * static_cast<double>(output_positions);
    }

    void visit_parameters(const ParameterVisitor& visit, const std::string& prefix) {
        visit(join_name(prefix, "weight"), weight);
        if (bias.defined()) visit(join_name(prefix, "bias"), bias);
    }

    Tensor weight;
    Tensor bias;

private:
    ConvOptions options_;
};

}  // namespace vgt::nn
