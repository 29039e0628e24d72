#pragma once
// GroupNorm layer (weight 1, bias 0 at init), and the rule that picks a
// group count for any channel count.

#include <cstdint>
#include <string>

#include "vgt/core/error.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/norm.hpp"

namespace vgt::nn {

/// The largest divisor of `channels` that is at most 32: 32 groups as in
/// the diffusion UNets, fewer where the channel count does not allow it.
inline std::int64_t default_norm_groups(std::int64_t channels) {
    VGT_CHECK(channels >= 1, "default_norm_groups", "expected a positive channel count, found {}", channels);
    for (std::int64_t g = std::min<std::int64_t>(32, channels); g > 1; --g)
        if (channels % g == 0) return g;
    return 1;
}

class GroupNorm {
public:
    GroupNorm() = default;
    GroupNorm(std::int64_t groups, std::int64_t channels, DType dtype = DType::Float32, double eps = 1e-5)
        : weight(full_parameter(Shape{channels}, 1.0, dtype)),
          bias(zeros_parameter(Shape{channels}, dtype)),
          groups_(groups),
          eps_(eps) {
        VGT_CHECK(groups >= 1 && channels % groups == 0, "nn::GroupNorm",
                  "expected a group count dividing {} channels, found {}", channels, groups);
    }

    /// x is [N, C, *]; statistics per sample and group.
    Tensor forward(const Tensor& x) const { return group_norm(x, groups_, weight, bias, eps_); }

    std::int64_t groups() const { return groups_; }

    void visit_parameters(const ParameterVisitor& visit, const std::string& prefix) {
        visit(join_name(prefix, "weight"), weight);
        visit(join_name(prefix, "bias"), bias);
    }

    Tensor weight;
    Tensor bias;

private:
    std::int64_t groups_ = 1;
    double eps_ = 1e-5;
};

}  // namespace vgt::nn
