#pragma once
// The layers the VAE's encoder and decoder are built from, all on frames
// [N, C, H, W] (videos arrive with T folded into N, so every statistic is
// per frame):
//
//   VaeResBlock    h = conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))), y = skip(x) + h,
//                  skip a 1×1 conv where the channel count changes, else identity
//   VaeDownsample  3×3 conv, stride 2, padding 1: H×W → H/2×W/2 (H, W even)
//   VaeUpsample    nearest ×2, then a 3×3 conv, padding 1
//
// The residual block is the one of Ho et al.'s DDPM and Rombach et al.'s
// latent-diffusion autoencoder, without dropout. Parameter names follow
// PyTorch: norm1.weight, conv1.weight, ..., skip.weight, conv.weight.

#include <cstdint>
#include <string>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/conv.hpp"
#include "vgt/nn/group_norm.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/resample.hpp"

namespace vgt::models {

class VaeResBlock {
public:
    VaeResBlock() = default;
    /// `groups_in`, `groups_out`: GroupNorm groups over the input and output channels.
    VaeResBlock(std::int64_t in_channels, std::int64_t out_channels, std::int64_t groups_in, std::int64_t groups_out,
                Generator& gen, DType dtype)
        : norm1_(groups_in, in_channels, dtype, kNormEps),
          conv1_(in_channels, out_channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype),
          norm2_(groups_out, out_channels, dtype, kNormEps),
          conv2_(out_channels, out_channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype) {
        if (in_channels != out_channels) skip_ = nn::Conv(in_channels, out_channels, {1, 1}, ConvOptions{}, gen, dtype);
    }

    Tensor forward(const Tensor& x) const {
        const Tensor h = conv2_.forward(silu(norm2_.forward(conv1_.forward(silu(norm1_.forward(x))))));
        return add(has_skip() ? skip_.forward(x) : x, h);
    }

    bool has_skip() const { return skip_.weight.defined(); }
    std::int64_t in_channels() const { return conv1_.in_channels(); }
    std::int64_t out_channels() const { return conv1_.out_channels(); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm1_.visit_parameters(visit, nn::join_name(prefix, "norm1"));
        conv1_.visit_parameters(visit, nn::join_name(prefix, "conv1"));
        norm2_.visit_parameters(visit, nn::join_name(prefix, "norm2"));
        conv2_.visit_parameters(visit, nn::join_name(prefix, "conv2"));
        if (has_skip()) skip_.visit_parameters(visit, nn::join_name(prefix, "skip"));
    }

    /// The latent-diffusion autoencoder's GroupNorm eps (PyTorch's default is 1e-5).
    static constexpr double kNormEps = 1e-6;

private:
    nn::GroupNorm norm1_;
    nn::Conv conv1_;
    nn::GroupNorm norm2_;
    nn::Conv conv2_;
    nn::Conv skip_;  // undefined weight: identity
};

class VaeDownsample {
public:
    VaeDownsample() = default;
    VaeDownsample(std::int64_t channels, Generator& gen, DType dtype)
        : conv_(channels, channels, {3, 3}, ConvOptions{.stride = {2}, .padding = {1}}, gen, dtype) {}

    Tensor forward(const Tensor& x) const { return conv_.forward(x); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_.visit_parameters(visit, nn::join_name(prefix, "conv"));
    }

private:
    nn::Conv conv_;
};

class VaeUpsample {
public:
    VaeUpsample() = default;
    VaeUpsample(std::int64_t channels, Generator& gen, DType dtype)
        : conv_(channels, channels, {3, 3}, ConvOptions{.padding = {1}}, gen, dtype) {}

    Tensor forward(const Tensor& x) const { return conv_.forward(upsample_nearest(x, 2)); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        conv_.visit_parameters(visit, nn::join_name(prefix, "conv"));
    }

private:
    nn::Conv conv_;
};

}  // namespace vgt::models
