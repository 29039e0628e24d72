#pragma once
// The VAE's posterior q(z | x) = N(mean, diag(exp(logvar))): the encoder's
// two halves of channels, with logvar clamped to [−30, 20] as in the
// latent-diffusion autoencoder (Rombach et al. 2022, DiagonalGaussianDistribution)
// so that exp(logvar) neither underflows to 0 nor overflows. Samples use
// the reparameterisation z = mean + exp(logvar / 2) ⊙ ε, ε ~ N(0, I) from a
// Philox Generator (Kingma & Welling 2014), so gradients flow to mean and
// logvar and a seed gives the same z on every machine.

#include <cstdint>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::models {

inline constexpr double kLogvarMin = -30.0;
inline constexpr double kLogvarMax = 20.0;

struct DiagonalGaussian {
    Tensor mean;    // any shape
    Tensor logvar;  // mean's shape, in [kLogvarMin, kLogvarMax]

    /// Splits `moments` along `channel_dim` into its first half (mean) and
    /// second half (logvar, clamped).
    static DiagonalGaussian from_moments(const Tensor& moments, int channel_dim) {
        const std::int64_t channels = moments.size(channel_dim);
        VGT_CHECK(channels % 2 == 0, "DiagonalGaussian",
                  "expected an even channel count (mean and logvar), found {} in {}", channels, moments.str());
        const std::int64_t half = channels / 2;
        return {contiguous(slice(moments, channel_dim, 0, half)),
                clamp(contiguous(slice(moments, channel_dim, half, channels)), kLogvarMin, kLogvarMax)};
    }

    /// σ = exp(logvar / 2).
    Tensor stddev() const { return exp(mul(logvar, 0.5)); }

    /// z = mean + σ ⊙ ε with ε = randn(mean's shape) drawn from `gen`.
    Tensor sample(Generator& gen) const {
        const Tensor noise = randn(mean.shape(), gen, mean.dtype());
        return add(mean, mul(stddev(), noise));
    }

    /// The most likely z: the mean.
    const Tensor& mode() const { return mean; }

    /// KL(q ‖ N(0, I)) per element: (mean² + exp(logvar) − 1 − logvar) / 2.
    Tensor kl_to_standard_normal() const { return mul(sub(add(square(mean), exp(logvar)), add(logvar, 1.0)), 0.5); }
};

}  // namespace vgt::models
